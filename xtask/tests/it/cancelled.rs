//! A run whose future is dropped (a caller's timeout, a cancelled command) sends nothing more: the loop of its cases is a task of its own (`runner::Run::run_cases`), stopped with the run.

use std::path::Path;
use std::time::Duration;

use contract_tests::runner::{Options, run};
use contract_tests::scenario::Mix;
use reference_server::{Config, DEV_KEY, DEV_OTHER_TEAM_KEY};

use crate::support::team_page;

/// How many simulations the development key's team holds, read straight from the server.
async fn team_total(base_url: &str) -> u64 {
    team_page(base_url, DEV_KEY, 1).await["total"]
        .as_u64()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_dropped_mid_cases_sends_nothing_more() {
    let mut config = Config::development();
    // Every answer takes a few milliseconds, so cases are in flight whenever the run is dropped.
    config.latency = Duration::from_millis(5);
    let server = reference_server::spawn(config).await.unwrap();
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/openapi.json");
    let mut options = Options::new(spec, server.base_url(), DEV_KEY.to_owned());
    options.other_team_token = Some(DEV_OTHER_TEAM_KEY.into());
    options.mix = Mix::CreateOnly;
    // Far more than the time below lets run: the run is cut in its case phase.
    options.cases = 1_000_000;
    options.seed = 5;
    let cut = tokio::time::timeout(Duration::from_millis(1500), run(options)).await;
    assert!(cut.is_err(), "the run ended before it was dropped");
    // Requests already on the wire are answered; nothing is sent after them.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after_drop = team_total(&server.base_url()).await;
    assert!(
        after_drop > 10,
        "few cases ran before the drop: {after_drop}"
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        team_total(&server.base_url()).await,
        after_drop,
        "records were created after the run was dropped"
    );
    server.shutdown().await;
}
