//! What a run prints and writes: the failures with their curl lines, the summary table, the closing `summary:` line, and JUnit XML; every output passes the run's [`Secrets`] before it is escaped or written.

use std::fmt::Write as _;
use std::path::Path;

use crate::error::RunError;
use crate::redact::Secrets;
use crate::runner::Report;
use crate::spec::Operation;

/// Every finding, one block each: check, operation, pointer, expected / received, the minimal
/// request and a curl line.
pub fn render_findings(report: &Report, secrets: &Secrets) -> String {
    let mut out = String::new();
    for (i, f) in report.findings.iter().enumerate() {
        let pointer = if f.mismatch.pointer.is_empty() {
            "(whole response)"
        } else {
            &f.mismatch.pointer
        };
        let _ = writeln!(
            out,
            "FAIL {}. {} on {} at {}",
            i + 1,
            f.check,
            f.operation.id(),
            pointer
        );
        let _ = writeln!(out, "    expected: {}", f.mismatch.expected);
        let _ = writeln!(out, "    received: {}", f.mismatch.received);
        let body = f.request.body.bytes();
        let shown = if body.is_empty() {
            "(no body)".to_owned()
        } else {
            String::from_utf8_lossy(&body).into_owned()
        };
        let _ = writeln!(
            out,
            "    minimal request: {} {} {}",
            f.request.method, f.request.path_and_query, shown
        );
        let history = if f.seed_hex.is_empty() {
            "found by the cleanup".to_owned()
        } else if f.shrink_cut_short {
            format!(
                "shrinking cut short by the time or create budget after {} step(s)",
                f.shrink_steps
            )
        } else if f.flaky {
            "did not recur on replay (flaky)".to_owned()
        } else {
            format!("shrunk in {} step(s)", f.shrink_steps)
        };
        let seed = if f.seed_hex.is_empty() {
            String::new()
        } else {
            format!("; seed {}", f.seed_hex)
        };
        let _ = writeln!(out, "    seen {} time(s); {history}{seed}", f.occurrences);
        let _ = writeln!(out, "    reproduce: {}", f.curl);
        out.push('\n');
    }
    secrets.redact(&out)
}

/// The per-operation table and the closing line, which reads exactly
/// `summary: <cases> cases, <requests> requests, <failures> failures, <seconds> s`.
pub fn render_summary(report: &Report, secrets: &Secrets) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<18} {:>8}  {:<40} failures by check",
        "operation", "requests", "statuses"
    );
    for op in Operation::ALL {
        let Some(stats) = report.per_operation.get(&op) else {
            continue;
        };
        let statuses = stats
            .statuses
            .iter()
            .map(|(s, n)| format!("{s}×{n}"))
            .collect::<Vec<_>>()
            .join(" ");
        let failures = if stats.failures_by_check.is_empty() {
            "-".to_owned()
        } else {
            stats
                .failures_by_check
                .iter()
                .map(|(c, n)| format!("{c}×{n}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let _ = writeln!(
            out,
            "{:<18} {:>8}  {:<40} {}",
            op.id(),
            stats.requests,
            statuses,
            failures
        );
    }
    if !report.query_parameters_sent.is_empty() {
        let names: Vec<&str> = report
            .query_parameters_sent
            .iter()
            .map(String::as_str)
            .collect();
        let _ = writeln!(out, "list query parameters sent: {}", names.join(", "));
    }
    if report.skipped_for_create_cap > 0 {
        let _ = writeln!(
            out,
            "skipped {} scenario(s) at the --max-creates cap",
            report.skipped_for_create_cap
        );
    }
    if let Some(c) = &report.cleanup {
        let left = if c.left_over.is_empty() {
            "nothing left over".to_owned()
        } else {
            format!("LEFT OVER: {}", c.left_over.join(", "))
        };
        let _ = writeln!(
            out,
            "cleanup (run tag {}): deleted {}, already gone {}, {left}",
            report.run_tag, c.deleted, c.already_gone
        );
        if !c.not_ours.is_empty() {
            let _ = writeln!(
                out,
                "cleanup did not delete {} id(s) whose record no longer carries the run's mark: {}",
                c.not_ours.len(),
                c.not_ours.join(", ")
            );
        }
    }
    if !report.checks_run.is_empty() {
        let _ = writeln!(
            out,
            "{:<28} {:>8} {:>8} {:>8} {:>14}",
            "check", "applied", "passed", "failed", "not applicable"
        );
        let mut never = Vec::new();
        for check in &report.checks_run {
            let counts = report.check_counts(check);
            if counts.applied == 0 {
                never.push(*check);
            }
            let _ = writeln!(
                out,
                "{:<28} {:>8} {:>8} {:>8} {:>14}",
                check,
                counts.applied,
                counts.passed(),
                counts.failed,
                counts.not_applicable
            );
        }
        if !never.is_empty() {
            let _ = writeln!(
                out,
                "never applied (not judged, not passed): {}",
                never.join(", ")
            );
        }
    }
    let notes = client_notes(report);
    if let Some(example) = notes.first() {
        let fields: std::collections::BTreeSet<&str> =
            notes.iter().filter_map(|n| n.split(" = ").next()).collect();
        let _ = writeln!(
            out,
            "note: {} value(s) in {} field(s) do not fit the generated client's integer types; FastAPI stores integers of any size, so this is the client's limit, not a failure (JUnit lists them all). E.g. {}",
            notes.len(),
            fields.len(),
            example.trim_start_matches("note: ")
        );
    }
    if !report.tenancy_checked {
        let _ = writeln!(
            out,
            "tenancy checks did not run: CONTRACT_OTHER_TEAM_TOKEN is not set"
        );
    }
    if let Some(identity) = &report.identity_learned {
        let shown = |v: &Option<String>| v.clone().unwrap_or_else(|| "(never seen)".into());
        let _ = writeln!(
            out,
            "identity learned from the responses, not pinned: team {}, user {} (pin them with --expect-team and --expect-user)",
            shown(&identity.team),
            shown(&identity.user)
        );
    }
    let phases = report.requests_by_phase;
    let _ = writeln!(
        out,
        "requests: {} preflight, {} cases, {} shrinking, {} cleanup; {} creates in all",
        phases.preflight, phases.cases, phases.shrinking, phases.cleanup, report.creates_sent
    );
    let cut = report.cut_short;
    if cut.any() {
        let mut parts = Vec::new();
        if cut.cases_not_run > 0 {
            parts.push(format!("{} case(s) not run", cut.cases_not_run));
        }
        if cut.shrinks_cut > 0 {
            parts.push(format!(
                "shrinking cut short for {} failure(s)",
                cut.shrinks_cut
            ));
        }
        if cut.cleanup {
            parts.push("cleanup unfinished".into());
        }
        let _ = writeln!(
            out,
            "budget ran out (--max-time {} s, or --max-creates): {}",
            report.max_time.as_secs_f64(),
            parts.join("; ")
        );
    }
    if report.replayed_regressions > 0 {
        let _ = writeln!(
            out,
            "replayed {} regression seed(s) first",
            report.replayed_regressions
        );
    }
    let _ = writeln!(
        out,
        "summary: {} cases, {} requests, {} failures, {:.2} s",
        report.cases,
        report.requests,
        report.failures(),
        report.elapsed.as_secs_f64()
    );
    secrets.redact(&out)
}

/// One line per value the generated client cannot hold, list indexes folded so a page of them
/// reads as one note. They never change the exit code: FastAPI stores integers of any size.
pub fn client_notes(report: &Report) -> Vec<String> {
    let mut lines: Vec<String> = report
        .client_notes
        .iter()
        .map(|n| {
            let pointer: Vec<&str> = n
                .pointer
                .split('/')
                .map(|part| {
                    if !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()) {
                        "*"
                    } else {
                        part
                    }
                })
                .collect();
            format!(
                "note: {} {} = {} does not fit the generated client's {} (FastAPI stores integers of any size)",
                n.operation.id(),
                pointer.join("/"),
                n.value,
                n.client_type
            )
        })
        .collect();
    lines.sort();
    lines.dedup();
    lines
}

fn xml_escape(text: &str) -> String {
    text.chars()
        .filter(|c| matches!(c, '\t' | '\n' | '\r') || *c >= ' ')
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&apos;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

/// JUnit XML: one test case per (operation, check), failed when any finding names that pair.
/// Every text is redacted before it is escaped, so an escaped key cannot slip past.
pub fn junit_xml(report: &Report, checks: &[&str], secrets: &Secrets) -> String {
    let xml_escape = |text: &str| xml_escape(&secrets.redact(text));
    let mut cases = String::new();
    let mut total = 0;
    let mut failed = 0;
    let mut skipped = 0;
    for op in Operation::ALL {
        let Some(stats) = report.per_operation.get(&op) else {
            continue;
        };
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
            total += 1;
            let _ = write!(
                cases,
                "    <testcase classname=\"contract.{}\" name=\"{}\">",
                op.id(),
                xml_escape(check)
            );
            for f in report
                .findings
                .iter()
                .filter(|f| f.operation == op && f.check == check)
            {
                failed += 1;
                let message = format!(
                    "expected: {} / received: {}",
                    f.mismatch.expected, f.mismatch.received
                );
                let detail = format!(
                    "at {}\n{}\nreproduce: {}",
                    f.mismatch.pointer, message, f.curl
                );
                let _ = write!(
                    cases,
                    "\n      <failure message=\"{}\" type=\"{}\">{}</failure>",
                    xml_escape(&message),
                    xml_escape(check),
                    xml_escape(&detail)
                );
            }
            let has_finding = report
                .findings
                .iter()
                .any(|f| f.operation == op && f.check == check);
            let applied = stats.checks.get(check).is_some_and(|c| c.applied > 0);
            if !applied && !has_finding {
                skipped += 1;
                let _ = write!(
                    cases,
                    "\n      <skipped message=\"did not apply to any {} response\"/>",
                    op.id()
                );
            }
            cases.push_str("</testcase>\n");
        }
    }
    let notes = client_notes(report);
    let system_out = if notes.is_empty() {
        String::new()
    } else {
        format!(
            "    <system-out>{}</system-out>\n",
            xml_escape(&notes.join("\n"))
        )
    };
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n  <testsuite name=\"contract\" tests=\"{total}\" failures=\"{failed}\" skipped=\"{skipped}\" time=\"{:.3}\">\n{cases}{system_out}  </testsuite>\n</testsuites>\n",
        report.elapsed.as_secs_f64()
    );
    secrets.redact(&xml)
}

pub fn write_junit(
    path: &Path,
    report: &Report,
    checks: &[&str],
    secrets: &Secrets,
) -> Result<(), RunError> {
    std::fs::write(path, junit_xml(report, checks, secrets)).map_err(|e| RunError::Output {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::{CheckCounts, OperationStats};

    /// A run in which `error_locus` never applied to a create and `request_echo` did.
    fn report() -> Report {
        let mut stats = OperationStats::default();
        stats.checks.insert(
            "request_echo",
            CheckCounts {
                applied: 3,
                failed: 1,
                not_applicable: 2,
            },
        );
        stats.checks.insert(
            "error_locus",
            CheckCounts {
                applied: 0,
                failed: 0,
                not_applicable: 5,
            },
        );
        let mut report = Report {
            checks_run: vec!["request_echo", "error_locus"],
            ..Report::default()
        };
        report.per_operation.insert(Operation::Create, stats);
        report
    }

    #[test]
    fn the_summary_counts_applied_passed_and_failed_apart_from_not_applicable() {
        let summary = render_summary(&report(), &Secrets::default());
        assert!(
            summary.contains(&format!(
                "{:<28} {:>8} {:>8} {:>8} {:>14}",
                "request_echo", 3, 2, 1, 2
            )),
            "{summary}"
        );
        assert!(
            summary.contains("never applied (not judged, not passed): error_locus"),
            "{summary}"
        );
    }

    #[test]
    fn junit_marks_a_check_that_never_applied_as_skipped() {
        let xml = junit_xml(
            &report(),
            &["request_echo", "error_locus"],
            &Secrets::default(),
        );
        assert!(xml.contains("skipped=\"1\""), "{xml}");
        assert!(
            xml.contains(
                "<testcase classname=\"contract.create_simulation\" name=\"error_locus\">\n      <skipped message=\"did not apply to any create_simulation response\"/></testcase>"
            ),
            "{xml}"
        );
        assert!(
            xml.contains("<testcase classname=\"contract.create_simulation\" name=\"request_echo\"></testcase>"),
            "{xml}"
        );
    }
}
