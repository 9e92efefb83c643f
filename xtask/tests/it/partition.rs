//! `--partition K/N` against the embedded reference server: the slices of a run, each with its own run tag, are together exactly the unsharded run's cases.

use std::path::Path;

use contract_tests::partition::Partition;
use contract_tests::runner::{Options, Report, run};
use reference_server::{Config, DEV_KEY, DEV_OTHER_TEAM_KEY};

async fn run_slice(partition: Option<Partition>) -> Report {
    let server = reference_server::spawn(Config::development())
        .await
        .unwrap();
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/openapi.json");
    let mut options = Options::new(spec, server.base_url(), DEV_KEY.to_owned());
    options.other_team_token = Some(DEV_OTHER_TEAM_KEY.into());
    options.cases = 90;
    options.seed = 11;
    options.partition = partition;
    let report = run(options).await.unwrap();
    server.shutdown().await;
    report
}

/// Requests per operation in the case phase: a case sends the same requests whoever runs it.
fn requests(report: &Report) -> Vec<u64> {
    report.per_operation.values().map(|s| s.requests).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_slices_are_exactly_the_unsharded_run() {
    let whole = run_slice(None).await;
    assert_eq!(whole.case_indices, (0..90).collect::<Vec<u64>>());
    assert_eq!(whole.cases, 90);
    let mut union = Vec::new();
    let mut tags = Vec::new();
    let mut summed = vec![0; requests(&whole).len()];
    for k in 1..=3 {
        let slice = run_slice(Partition::new(k, 3)).await;
        assert_eq!(slice.failures(), 0, "{:#?}", slice.findings);
        // Every case the slice drew was run.
        assert_eq!(slice.cases, slice.case_indices.len() as u64);
        assert!(
            slice.run_tag.starts_with(&format!("ct{k}o3x")),
            "{}",
            slice.run_tag
        );
        for (sum, n) in summed.iter_mut().zip(requests(&slice)) {
            *sum += n;
        }
        union.extend(slice.case_indices);
        tags.push(slice.run_tag);
    }
    union.sort_unstable();
    assert_eq!(
        union, whole.case_indices,
        "each case once, in exactly one slice"
    );
    tags.dedup();
    assert_eq!(tags.len(), 3);
    // The slices sent what the unsharded run sent, operation by operation: the same cases.
    assert_eq!(summed, requests(&whole));
}
