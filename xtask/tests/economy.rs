//! What a passing run costs the service it tests: the cleanup's requests per record created, read from the summary's `requests:` line of a run against the embedded server.

mod support;

use support::{text, xtask};

/// The numbers of the summary's `requests:` line: (cleanup requests, creates in all).
fn cleanup_and_creates(stdout: &str) -> (u64, u64) {
    let line = stdout
        .lines()
        .find(|l| l.starts_with("requests: "))
        .unwrap_or_else(|| panic!("no requests line in {stdout}"));
    let before = |label: &str| -> u64 {
        line.split(label)
            .next()
            .and_then(|s| s.rsplit(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no number before {label:?} in {line:?}"))
    };
    (before(" cleanup;"), before(" creates in all"))
}

/// A passing run's cleanup costs at most 1.5 requests for each record the run created, and
/// still leaves nothing behind.
#[test]
fn a_passing_runs_cleanup_costs_at_most_one_and_a_half_requests_a_record() {
    let out = xtask(
        &[
            "contract",
            "--no-regressions",
            "--seed",
            "1",
            "--cases",
            "600",
            "--quiet",
        ],
        None,
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("nothing left over"), "{stdout}");
    let (cleanup, creates) = cleanup_and_creates(&stdout);
    assert!(creates > 300, "the run created records: {stdout}");
    assert!(
        cleanup * 2 <= creates * 3,
        "{cleanup} cleanup requests for {creates} creates: more than 1.5 a record"
    );
}
