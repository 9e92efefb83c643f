//! JUnit XML for CI test reporters (Jenkins, GitLab, GitHub's test-report actions), written by quick-junit from the report's model.

use std::path::Path;
use std::time::Duration;

use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};

use super::model;
use super::write_output;
use crate::error::RunError;
use crate::redact::Secrets;
use crate::runner::Report;

/// JUnit XML, written by quick-junit: one test case per (operation, check) the run made,
/// classname `contract.<operation id>`, name the check. A check with findings gets one failing
/// test case per finding, so JUnit's failures count the summary's; a check that never applied
/// to the operation is skipped, not passed. Client notes go to the suite's `system-out`.
/// Every text is redacted before quick-junit escapes it, so an escaped key cannot slip past.
///
/// Each test case's `time` is what the run measured: for a check, the time it spent judging
/// that operation's responses in the case phase (shared evenly among its failing test cases);
/// for `contract.run / every_drawn_case_judged`, the case phase's wall time. The suite has
/// `<properties>`: `seed` (a string of digits), `base_url` (redacted), `commit` when known
/// ([`commit_from_env`]), and the judged counts. `<testsuites>` carries no `skipped`
/// attribute, which Jenkins' JUnit schema does not allow there (the suite has it).
pub(crate) fn junit_xml(report: &Report, checks: &[&str], secrets: &Secrets) -> String {
    let text = |t: &str| secrets.redact(t);
    // Each slice of a sharded run names its suite, so a reporter given the N files keeps them apart.
    let name = report
        .partition
        .map_or("contract".to_owned(), |p| format!("contract partition {p}"));
    let mut suite = TestSuite::new(name);
    suite.set_time(report.elapsed);
    suite.add_property(("seed", report.seed.to_string().as_str()));
    suite.add_property(("base_url", text(&report.base_url).as_str()));
    if let Some(commit) = &report.commit {
        suite.add_property(("commit", text(commit).as_str()));
    }
    for (op, stats) in model::operations(report) {
        let mut names: Vec<&str> = checks.to_vec();
        names.extend(
            report
                .findings
                .iter()
                .filter(|f| f.operation == op)
                .map(|f| f.check),
        );
        names.sort_unstable();
        names.dedup();
        for check in names {
            let mut statuses: Vec<TestCaseStatus> = model::findings(report)
                .filter(|view| view.finding.operation == op && view.finding.check == check)
                .map(|view| {
                    let f = view.finding;
                    let message = format!(
                        "expected: {} / received: {}",
                        f.mismatch.expected, f.mismatch.received
                    );
                    let spread = view
                        .spread(str::to_owned)
                        .map_or(String::new(), |l| format!("{l}\n"));
                    let example = view
                        .example()
                        .map_or(String::new(), |p| format!("example at {p}\n"));
                    let detail = format!(
                        "at {}\n{spread}{example}{message}\nreproduce: {}",
                        view.at(),
                        f.curl
                    );
                    // A known failure is skipped, so JUnit's failures agree with the exit code.
                    if let Some(entry) = view.known {
                        let mut skipped = TestCaseStatus::skipped();
                        skipped
                            .set_message(text(&format!(
                                "known failure (baseline, until {}): {}",
                                entry.expires, entry.reason
                            )))
                            .set_description(text(&detail));
                        return skipped;
                    }
                    let mut failure = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    failure
                        .set_message(text(&message))
                        .set_type(text(check))
                        .set_description(text(&detail));
                    failure
                })
                .collect();
            if statuses.is_empty() {
                let applied = stats.checks.get(check).is_some_and(|c| c.applied > 0);
                statuses.push(if applied {
                    TestCaseStatus::success()
                } else {
                    let mut skipped = TestCaseStatus::skipped();
                    skipped.set_message(format!("did not apply to any {} response", op.id()));
                    skipped
                });
            }
            let took = stats.checks.get(check).map_or(Duration::ZERO, |c| c.time);
            let each = took / u32::try_from(statuses.len()).unwrap_or(u32::MAX);
            for status in statuses {
                let mut case = TestCase::new(text(check), status);
                case.set_classname(format!("contract.{}", op.id()))
                    .set_time(each);
                suite.add_test_case(case);
            }
        }
    }
    // Whether the run judged what it drew, as a test case of its own: an incomplete run is an
    // error (exit 3), not a pass; cases skipped at --max-creates are said, and pass.
    let judged_status = match report.judged_line() {
        Some(line) if report.incomplete() => {
            let mut error = TestCaseStatus::non_success(NonSuccessKind::Error);
            error.set_message(text(&line)).set_type("incomplete_run");
            error
        }
        _ => TestCaseStatus::success(),
    };
    let mut judged_case = TestCase::new("every_drawn_case_judged", judged_status);
    judged_case
        .set_classname("contract.run")
        .set_time(report.time.cases);
    if let Some(line) = report.judged_line() {
        judged_case.set_system_out(text(&line));
    }
    suite.add_test_case(judged_case);
    suite.add_property(("cases_drawn", report.drawn.to_string().as_str()));
    suite.add_property(("cases_judged", report.cases.to_string().as_str()));
    for (reason, n) in &report.not_judged {
        suite.add_property((
            format!("not_judged.{}", reason.name()).as_str(),
            n.to_string().as_str(),
        ));
    }
    let notes = model::client_notes(report);
    if !notes.is_empty() {
        suite.set_system_out(text(&notes.join("\n")));
    }
    let mut junit = quick_junit::Report::new("contract");
    junit.set_time(report.elapsed).add_test_suite(suite);
    let xml = junit
        .to_string()
        .expect("writing XML into memory cannot fail");
    secrets.redact(&without_testsuites_skipped(&xml))
}

/// `xml` with the `skipped` attribute of its `<testsuites>` tag removed: quick-junit writes it,
/// Jenkins' schema rejects it. Only that one tag is touched; its attributes are quick-junit's
/// numbers and the constant name `contract`, so the first `>` ends it.
fn without_testsuites_skipped(xml: &str) -> String {
    let Some(start) = xml.find("<testsuites ") else {
        return xml.to_owned();
    };
    let end = xml[start..].find('>').map_or(xml.len(), |e| start + e);
    let tag = &xml[start..end];
    let Some(at) = tag.find(" skipped=\"") else {
        return xml.to_owned();
    };
    let value_end = tag[at + 10..]
        .find('"')
        .map_or(tag.len(), |e| at + 10 + e + 1);
    format!("{}{}{}", &xml[..start + at], &tag[value_end..], &xml[end..])
}

pub fn write_junit(
    path: &Path,
    report: &Report,
    checks: &[&str],
    secrets: &Secrets,
) -> Result<(), RunError> {
    write_output(path, &junit_xml(report, checks, secrets), secrets)
}
