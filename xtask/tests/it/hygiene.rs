//! QA hygiene of a run against the embedded server: nothing it created is left, and `--max-creates` caps its writes.

use std::path::Path;

use contract_tests::run_state::Identity;
use contract_tests::runner::{NotJudged, Options, Verdict, run};
use reference_server::{Config, DEV_KEY, DEV_OTHER_TEAM_KEY};

fn options(base_url: String) -> Options {
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/openapi.json");
    let mut options = Options::new(spec, base_url, DEV_KEY.to_owned());
    options.other_team_token = Some(DEV_OTHER_TEAM_KEY.into());
    options.identity = Identity {
        team: Some("team-a".into()),
        user: Some("user-a".into()),
    };
    options.cases = 400;
    options.seed = 11;
    options
}

/// The team's total, read straight from the server.
async fn total(base_url: &str, key: &str) -> u64 {
    interactly_simulations_client::install_crypto_provider();
    let response = reqwest::Client::new()
        .get(format!("{base_url}/workflows/v1/simulations?size=1"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = response.json().await.unwrap();
    body["total"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_leaves_nothing_behind() {
    let server = reference_server::spawn(Config::development())
        .await
        .unwrap();
    let report = run(options(server.base_url())).await.unwrap();
    assert_eq!(report.failures(), 0, "{:?}", report.findings);
    let cleanup = report.cleanup.expect("cleanup ran");
    assert!(
        cleanup.deleted > 100,
        "the run created and deleted simulations: {cleanup:?}"
    );
    assert!(cleanup.left_over.is_empty(), "{cleanup:?}");
    assert_eq!(
        total(&server.base_url(), DEV_KEY).await,
        0,
        "team A holds nothing after the run"
    );
    assert_eq!(
        total(&server.base_url(), DEV_OTHER_TEAM_KEY).await,
        0,
        "team B never got anything"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_creates_caps_the_writes() {
    let server = reference_server::spawn(Config::development())
        .await
        .unwrap();
    let mut capped = options(server.base_url());
    capped.max_creates = Some(25);
    capped.cleanup = false;
    let report = run(capped).await.unwrap();
    assert!(report.skipped_for_create_cap > 0, "the cap was reached");
    // The cap is the user's own: its skips are counted and said, and the run still passes.
    assert_eq!(
        report.not_judged.get(&NotJudged::CreateCap).copied(),
        Some(report.skipped_for_create_cap)
    );
    assert_eq!(report.verdict(), Verdict::Pass, "{:?}", report.not_judged);
    let stored = total(&server.base_url(), DEV_KEY).await;
    assert!(
        stored <= 25,
        "{stored} simulations stored with --max-creates 25"
    );
    server.shutdown().await;
}

fn panicking_check(_: &contract_tests::verdict::Exchange<'_>) -> contract_tests::verdict::Verdict {
    panic!("a check that always panics")
}

static PANICKING: contract_tests::checks::Check = contract_tests::checks::Check {
    name: "panics",
    asserts: "nothing: it panics, as a buggy check would",
    rules: &[],
    run: panicking_check,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_inside_a_case_is_an_internal_error_and_the_run_still_cleans_up_and_reports() {
    let server = reference_server::spawn(Config::development())
        .await
        .unwrap();
    let mut options = options(server.base_url());
    options.checks = vec![&PANICKING];
    options.cases = 40;
    let report = run(options)
        .await
        .expect("a panic ends no run before its cleanup and its report");
    assert!(
        !report.internal_errors.is_empty()
            && report
                .internal_errors
                .iter()
                .all(|e| e.contains("a case panicked: a check that always panics")),
        "{:?}",
        report.internal_errors
    );
    assert_eq!(report.cases, 0, "no panicking case is judged");
    assert_eq!(
        report.not_judged.get(&NotJudged::Internal).copied(),
        Some(report.drawn),
        "{:?}",
        report.not_judged
    );
    assert_eq!(report.verdict(), Verdict::Incomplete);
    let cleanup = report.cleanup.expect("cleanup ran");
    assert!(
        cleanup.deleted > 0,
        "the cases created records: {cleanup:?}"
    );
    assert_eq!(total(&server.base_url(), DEV_KEY).await, 0, "{cleanup:?}");
    server.shutdown().await;
}
