//! What a passing run costs the service it tests: the cleanup's requests per record created, read from the summary's `requests:` line of a run against the embedded server.

use crate::support;

use support::{text, xtask};

/// The summary's line starting with `prefix`.
fn line_starting<'a>(stdout: &'a str, prefix: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix:?} line in {stdout}"))
}

/// The number just before `label` in `line` (`before("7 requests", " requests")` is 7).
fn before(line: &str, label: &str) -> u64 {
    line.split(label)
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number before {label:?} in {line:?}"))
}

/// The numbers of the summary's `requests:` line: (cleanup requests, creates in all).
fn cleanup_and_creates(stdout: &str) -> (u64, u64) {
    let line = line_starting(stdout, "requests: ");
    (before(line, " cleanup;"), before(line, " creates in all"))
}

/// A passing run's cleanup costs at most 1.5 requests for each record the run created, and
/// still leaves nothing behind: read from the default run (2000 cases, seed 1; shared with the
/// coverage and clean-run tests), which creates some 3000 records.
#[test]
fn a_passing_runs_cleanup_costs_at_most_one_and_a_half_requests_a_record() {
    let run = support::runs::default_run();
    let stdout = &run.stdout;
    assert_eq!(run.code, Some(0), "{stdout}{}", run.stderr);
    assert!(stdout.contains("nothing left over"), "{stdout}");
    let (cleanup, creates) = cleanup_and_creates(stdout);
    assert!(creates > 300, "the run created records: {stdout}");
    assert!(
        cleanup * 2 <= creates * 3,
        "{cleanup} cleanup requests for {creates} creates: more than 1.5 a record"
    );
}

/// The summary's closing numbers: (requests, failures).
fn requests_and_failures(stdout: &str) -> (u64, u64) {
    let line = line_starting(stdout, "summary: ");
    (before(line, " requests"), before(line, " failure"))
}

/// One fault reads as a handful of findings, and shrinking them is budgeted: the failing run
/// sends at most three times the passing run's requests on the same seed. 300 cases rather than
/// more: shrinking costs about the same whatever the run's length, so a short run is where an
/// unbudgeted shrink comes nearest the bound (seed 3 at 300 cases: 1.5 times budgeted, 2.5 times
/// with `--shrink all`; at 600 cases 1.2 and 1.8).
#[test]
fn a_run_against_one_fault_costs_at_most_three_passing_runs_and_reads_as_a_handful() {
    let args = |fault: Option<&'static str>| {
        let mut args = vec![
            "contract",
            "--no-regressions",
            "--no-baseline",
            "--seed",
            "3",
            "--cases",
            "300",
            "--quiet",
        ];
        if let Some(fault) = fault {
            args.extend(["--fault", fault]);
        }
        args
    };
    let passing = xtask(&args(None), None);
    let passing_out = text(&passing.stdout);
    assert_eq!(passing.status.code(), Some(0), "{passing_out}");
    let (passing_requests, _) = requests_and_failures(&passing_out);
    let failing = xtask(&args(Some("unknown-keys-echoed")), None);
    let failing_out = text(&failing.stdout);
    assert_eq!(failing.status.code(), Some(1), "{failing_out}");
    let (requests, failures) = requests_and_failures(&failing_out);
    assert!(
        (1..=20).contains(&failures),
        "{failures} failures for one fault: {failing_out}"
    );
    assert!(
        requests <= 3 * passing_requests,
        "{requests} requests against one fault, {passing_requests} passing"
    );
}
