//! The model-based state machine against faults that only a sequence of commands shows: it finds them, and shrinks the failing sequence to a few commands.

use std::path::Path;

use contract_tests::exchange::Identity;
use contract_tests::runner::{Options, Report, run};
use contract_tests::scenario::Mix;
use reference_server::{Config, DEV_KEY, DEV_OTHER_TEAM_KEY, Fault};

fn options(base_url: String, seed: u64) -> Options {
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/openapi.json");
    let mut options = Options::new(spec, base_url, DEV_KEY.to_owned());
    options.other_team_token = Some(DEV_OTHER_TEAM_KEY.into());
    options.identity = Identity {
        team: Some("team-a".into()),
        user: Some("user-a".into()),
    };
    options.mix = Mix::Machine;
    options.cases = 300;
    options.seed = seed;
    options
}

async fn run_against(fault: Option<Fault>, seed: u64) -> Report {
    let mut config = Config::development();
    config.faults = fault.into();
    let server = reference_server::spawn(config).await.unwrap();
    let mut options = options(server.base_url(), seed);
    // The first failure and a shorter shrink keep the test quick; a sequence loses commands
    // in its first steps, later ones only simplify values.
    options.fail_fast = fault.is_some();
    options.shrink_budget = 80;
    let report = run(options).await.unwrap();
    server.shutdown().await;
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_faithful_server_passes_the_sequences_of_seed_7() {
    let report = run_against(None, 7).await;
    assert_eq!(report.failures(), 0, "{:#?}", report.findings);
    assert!(report.requests > 1000, "{} requests", report.requests);
}

/// An update that answers with the change but does not store it: the sequence needs a create
/// and an update followed by a read (one command when the update is a race, which reads back),
/// and the shrunk one has no more than four commands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_sequence_shrinks_to_at_most_four_commands() {
    let report = run_against(Some(Fault::PatchNotPersisted), 3).await;
    let finding = report
        .findings
        .iter()
        .find(|f| !f.sequence.is_empty())
        .unwrap_or_else(|| panic!("a sequence failed: {:#?}", report.findings));
    assert!(!finding.flaky && !finding.shrink_cut_short, "{finding:#?}");
    assert!(
        (2..=4).contains(&finding.sequence.len()),
        "shrunk to {} commands: {:#?}",
        finding.sequence.len(),
        finding.sequence
    );
    assert!(
        finding.sequence[0].starts_with("create"),
        "{:#?}",
        finding.sequence
    );
}
