//! The outputs made for machines and CI pages: `--message-format json` (one JSON object per finding, then a summary object, one per line, in the spirit of cargo's) and `--summary-md` (Markdown for `$GITHUB_STEP_SUMMARY`). Both pass the run's [`Secrets`] like every other output.
//!
//! The JSON writes the seed as a string of digits: readers that hold numbers as f64 (jq, Node)
//! would read a seed above 2^53 as another one.
//!
//! In the Markdown, every string from outside the suite (a server's keys and values, curl lines
//! that carry drawn bodies, a baseline's reasons) is a code span or a fenced block whose fence
//! it cannot close (see [`crate::text::code_span`]), with control characters escaped, so no
//! server can add a heading, a quote, HTML or a table row. In the JSON lines serde_json escapes
//! C0; the rest (DEL, C1, bidi) is escaped after it, the values unchanged.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::{Value, json};

use crate::error::RunError;
use crate::redact::Secrets;
use crate::report::{CoverageSummary, coverage_line, write_output};
use crate::rules::Rule;
use crate::runner::{Finding, Report, Verdict};
use crate::spec::Operation;
use crate::text::{self, block_fence, code_span, escape, json_escape_unsafe};

/// One finding as a JSON object (`"reason": "finding"`). `index` is the number the human
/// output gives it (`FAIL 3.`).
fn finding_json(report: &Report, i: usize, f: &Finding, secrets: &Secrets) -> Value {
    let text = |t: &str| secrets.redact(t);
    let known = report.known(i);
    json!({
        "reason": "finding",
        "index": i + 1,
        "check": f.check,
        "operation": f.operation.id(),
        // The example's exact pointer; `group` is what the finding stands for, `pointers`
        // every exact pointer of the group with its occurrences.
        "pointer": text(&f.mismatch.pointer),
        "group": text(&f.group),
        "pointers": f
            .pointers
            .iter()
            .map(|p| json!({"pointer": text(&p.pointer), "occurrences": p.occurrences}))
            .collect::<Vec<_>>(),
        "expected": text(&f.mismatch.expected),
        "received": text(&f.mismatch.received),
        "status": f.status,
        "request": {
            "method": f.request.method,
            "path": text(&f.request.path_and_query),
            "body": text(&String::from_utf8_lossy(&f.request.body.bytes())),
        },
        "curl": text(&f.curl),
        // Empty for a finding no case produced (the cleanup's).
        "seed": (!f.seed_hex.is_empty()).then_some(&f.seed_hex),
        "occurrences": f.occurrences,
        "flaky": f.flaky,
        "shrink_steps": f.shrink_steps,
        "not_shrunk": f.not_shrunk,
        "known": known.is_some(),
        "baseline_reason": known.map(|e| text(&e.reason)),
        "baseline_expires": known.map(|e| e.expires.to_string()),
        "sequence": f.sequence.iter().map(|c| text(c)).collect::<Vec<_>>(),
    })
}

fn entry_json(e: &crate::baseline::Entry, secrets: &Secrets) -> Value {
    json!({
        "check": e.check,
        "operation": e.operation,
        "pointer": e.pointer,
        "reason": secrets.redact(&e.reason),
        "expires": e.expires.to_string(),
    })
}

/// The summary object (`"reason": "summary"`): the same counts as the human summary.
fn summary_json(report: &Report, secrets: &Secrets) -> Value {
    let coverage = CoverageSummary::of(report);
    let (stale, expired): (Vec<Value>, Vec<Value>) =
        report.baseline.as_ref().map_or_else(Default::default, |t| {
            (
                t.stale.iter().map(|e| entry_json(e, secrets)).collect(),
                t.expired.iter().map(|e| entry_json(e, secrets)).collect(),
            )
        });
    json!({
        "reason": "summary",
        "verdict": match report.verdict() {
            Verdict::Fail => "fail",
            Verdict::Incomplete => "incomplete",
            Verdict::Pass => "pass",
        },
        "exit_code": report.exit_code(),
        "ended_because": report.ended_because(),
        "cases": report.cases,
        "cases_drawn": report.drawn,
        "cases_judged": report.cases,
        "incomplete": report.incomplete(),
        "judged_line": report.judged_line(),
        "not_judged": report
            .not_judged
            .iter()
            .map(|(reason, n)| json!({
                "reason": reason.name(),
                "count": n,
                "detail": report.not_judged_detail(*reason),
                "fails_the_run": !reason.asked_for(),
            }))
            .collect::<Vec<_>>(),
        "requests": report.requests,
        "failures": report.new_failures(),
        "known_failures": report.known_failures(),
        "stale_baseline_entries": stale,
        "expired_baseline_entries": expired,
        "coverage": {
            "rules": Rule::ALL.len(),
            "rules_in_every_situation": coverage.complete_rules(),
            "situations": coverage.reachable(),
            "asserted": coverage.asserted(),
            "unreachable": coverage.unreachable().len(),
            "never": coverage
                .never()
                .iter()
                .map(|(rule, s)| json!({"rule": rule.id(), "situation": s.name}))
                .collect::<Vec<_>>(),
        },
        "cleanup": report.cleanup.as_ref().map(|c| json!({
            "deleted": c.deleted,
            "already_gone": c.already_gone,
            "left_over": c.left_over.len(),
            "not_ours": c.not_ours.len(),
            "possibly_left_behind": c.possibly_left_behind(),
            "search_incomplete": c.search_incomplete,
        })),
        // A string: jq and Node read numbers as f64, and a seed above 2^53 would come back as
        // another seed, replaying other cases.
        "seed": report.seed.to_string(),
        "skipped_at_max_creates": report.skipped_for_create_cap,
        "partition": report.partition.map(|p| p.to_string()),
        "run_tag": secrets.redact(&report.run_tag),
        "not_shrunk": report.shrink_skipped.not_shrunk,
        "shrink_stopped_at_budget": report.shrink_skipped.capped,
        "elapsed_seconds": report.elapsed.as_secs_f64(),
        "warnings": report.spec_warnings,
    })
}

/// `--message-format json`: a line per finding, then the summary line; each line redacted
/// again after serialising, which also catches a key in its JSON-escaped form, and the control
/// characters serde_json leaves raw escaped.
pub fn json_lines(report: &Report, secrets: &Secrets) -> String {
    let mut out = String::new();
    let objects = report
        .findings
        .iter()
        .enumerate()
        .map(|(i, f)| finding_json(report, i, f, secrets))
        .chain([summary_json(report, secrets)]);
    for object in objects {
        out.push_str(&json_escape_unsafe(&secrets.redact(&object.to_string())));
        out.push('\n');
    }
    out
}

/// `--summary-md`: a verdict, the run's numbers, the per-operation table, each failure with
/// its curl line in a code block, known failures, baseline entries and the coverage line.
pub fn summary_markdown(report: &Report, secrets: &Secrets) -> String {
    let mut out = String::new();
    // An incomplete run never renders "passed": it did not test what it drew.
    let verdict = match report.verdict() {
        Verdict::Fail => format!(
            "❌ Contract suite failed: {}",
            text::plural(report.new_failures(), "failure", "failures")
        ),
        Verdict::Incomplete => match report.judged_line() {
            Some(_) => format!(
                "⚠️ Contract suite incomplete: judged {} of {}",
                report.cases,
                text::plural(report.drawn, "case", "cases")
            ),
            None => "⚠️ Contract suite incomplete: the target is unhealthy".to_owned(),
        },
        Verdict::Pass => "✅ Contract suite passed".to_owned(),
    };
    let partition = report
        .partition
        .map_or(String::new(), |p| format!(", partition {p}"));
    let _ = writeln!(out, "## {verdict}\n");
    if let Some(why) = report.ended_because() {
        let _ = writeln!(
            out,
            "The run ended early, exit code {}: {}\n",
            report.exit_code(),
            code_span(&why, false)
        );
    }
    let _ = writeln!(
        out,
        "{}, {}, {}, {} known, {:.2} s (seed {}{partition}, run tag {})\n",
        text::plural(report.cases, "case", "cases"),
        text::plural(report.requests, "request", "requests"),
        text::plural(report.new_failures(), "failure", "failures"),
        report.known_failures(),
        report.elapsed.as_secs_f64(),
        report.seed,
        code_span(&report.run_tag, false)
    );
    if let Some(c) = report.cleanup.as_ref().filter(|c| c.left_anything()) {
        let _ = writeln!(
            out,
            "**Cleanup:** {} left over, {} possibly left behind (lost answers to creates without the run's tag, not deleted since the run cannot prove them its own){}\n",
            c.left_over.len(),
            c.possibly_left_behind(),
            if c.search_incomplete {
                "; the search for the run's tag did not finish"
            } else {
                ""
            }
        );
    }
    if let Some(line) = report.judged_line() {
        let _ = writeln!(out, "{}\n", escape(&line));
    }
    if let Some(line) = crate::report::create_cap_line(report) {
        let _ = writeln!(out, "{line}\n");
    }
    if let Some(line) = crate::report::shrink_skipped_line(report) {
        let _ = writeln!(out, "{line}\n");
    }
    let _ = writeln!(
        out,
        "| operation | requests | statuses | failures by check |"
    );
    let _ = writeln!(out, "|---|---:|---|---|");
    for op in Operation::ALL {
        let Some(stats) = report.per_operation.get(&op) else {
            continue;
        };
        let (statuses, failures) = (stats.statuses_text(), stats.failures_text());
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} |",
            op.id(),
            stats.requests,
            escape(&statuses).replace('|', "\\|"),
            escape(&failures).replace('|', "\\|")
        );
    }
    let section = |title: &str, known: bool, out: &mut String| {
        let listed: Vec<(usize, &Finding)> = report
            .findings
            .iter()
            .enumerate()
            .filter(|(i, _)| report.known(*i).is_some() == known)
            .collect();
        if listed.is_empty() {
            return;
        }
        let _ = writeln!(out, "\n### {title}\n");
        for (i, f) in listed {
            let pointer = if f.group.is_empty() {
                "(whole response)"
            } else {
                &f.group
            };
            let _ = writeln!(
                out,
                "**{}. `{}` on `{}` at {}**\n",
                i + 1,
                f.check,
                f.operation.id(),
                code_span(pointer, false)
            );
            if let Some(entry) = report.known(i) {
                let _ = writeln!(
                    out,
                    "Known (baseline, until {}): {}\n",
                    entry.expires,
                    code_span(&entry.reason, false)
                );
            }
            // One value per line of the block: each escaped, so none adds a line of its own.
            let mut detail = String::new();
            if f.pointers.len() > 1 {
                let shown: Vec<String> = f
                    .pointers
                    .iter()
                    .take(crate::report::POINTERS_SHOWN)
                    .map(|p| format!("{} ×{}", escape(&p.pointer), p.occurrences))
                    .collect();
                let more = f.pointers.len().saturating_sub(shown.len());
                let _ = writeln!(
                    detail,
                    "{} pointers, {}: {}{}",
                    f.pointers.len(),
                    text::plural(f.occurrences, "occurrence", "occurrences"),
                    shown.join(", "),
                    if more > 0 { ", …" } else { "" }
                );
            }
            if f.mismatch.pointer != f.group {
                let _ = writeln!(detail, "example at {}", escape(&f.mismatch.pointer));
            }
            let _ = write!(
                detail,
                "expected: {}\nreceived: {}",
                escape(&f.mismatch.expected),
                escape(&f.mismatch.received)
            );
            let fence_detail = block_fence(&detail);
            let _ = writeln!(out, "{fence_detail}\n{detail}\n{fence_detail}\n");
            let curl = escape(&f.curl);
            let fence_curl = block_fence(&curl);
            let _ = writeln!(out, "{fence_curl}sh\n{curl}\n{fence_curl}\n");
        }
    };
    section("Failures", false, &mut out);
    section("Known failures (baseline)", true, &mut out);
    if let Some(replay) = report
        .replay
        .as_ref()
        .filter(|_| !report.findings.is_empty())
    {
        // Inline code spans stay literal; the rest is plain text.
        let _ = writeln!(out, "\n{}", escape(replay));
    }
    if let Some(triage) = &report.baseline {
        for (title, entries) in [
            (
                "Expired baseline entries (they fail the run)",
                &triage.expired,
            ),
            (
                "Stale baseline entries (they no longer fail)",
                &triage.stale,
            ),
        ] {
            if entries.is_empty() {
                continue;
            }
            let _ = writeln!(out, "\n### {title}\n");
            for e in entries {
                let _ = writeln!(
                    out,
                    "- {} (expires {}): {}",
                    code_span(&e.key_text(), false),
                    e.expires,
                    code_span(&e.reason, false)
                );
            }
        }
    }
    // Spec keys are the spec author's text: each line is a code span it cannot close.
    if !report.spec_warnings.is_empty() {
        let _ = writeln!(out, "\n### Warnings\n");
        for warning in &report.spec_warnings {
            let _ = writeln!(out, "- {}", code_span(warning, false));
        }
    }
    let _ = writeln!(out, "\n{}", coverage_line(report));
    secrets.redact(&out)
}

/// Writes [`summary_markdown`] to `path` (`--summary-md FILE`).
pub fn write_summary_markdown(
    path: &Path,
    report: &Report,
    secrets: &Secrets,
) -> Result<(), RunError> {
    write_output(path, &summary_markdown(report, secrets), secrets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::{Baseline, Triage};
    use crate::exchange::{Auth, Body, Mismatch, Request};
    use crate::runner::OperationStats;
    use std::collections::BTreeMap;

    const KEY: &str = "sk-\"live\"|key";

    fn finding(check: &'static str, pointer: &str, received: &str) -> Finding {
        Finding {
            check,
            operation: Operation::Create,
            mismatch: Mismatch {
                pointer: pointer.into(),
                expected: "7".into(),
                received: received.into(),
            },
            request: Request {
                operation: Operation::Create,
                method: "POST".into(),
                path_and_query: "/workflows/v1/simulations".into(),
                content_type: None,
                body: Body::Empty,
                auth: Auth::Primary,
            },
            curl: format!("curl -X POST 'http://h/x' -H 'Authorization: Bearer {KEY}'"),
            status: Some(200),
            seed_hex: "ab".into(),
            occurrences: 2,
            shrink_steps: 0,
            flaky: false,
            shrink_cut_short: false,
            sequence: vec!["create #0".into()],
            group: pointer.into(),
            pointers: Vec::new(),
            not_shrunk: false,
            shrink_capped: false,
        }
    }

    /// Two findings, the second known to a baseline that also has a stale entry; the key is in
    /// the first finding's received value and in both curl lines.
    fn report() -> Report {
        let mut report = Report {
            cases: 40,
            requests: 123,
            seed: 9,
            run_tag: "ct0000abcd".into(),
            checks_run: vec!["request_echo", "status_code_conformance", "error_locus"],
            findings: vec![
                finding("request_echo", "/simulation/x", &format!("8 from {KEY}")),
                finding("status_code_conformance", "", "201"),
            ],
            ..Report::default()
        };
        let mut stats = OperationStats {
            requests: 123,
            ..OperationStats::default()
        };
        stats.statuses.insert(200, 120);
        stats.failures_by_check.insert("request_echo", 2);
        report.per_operation.insert(Operation::Create, stats);
        let baseline = Baseline::parse(
            r#"
[[known]]
check = "status_code_conformance"
operation = "create_simulation"
pointer = ""
reason = "WF-1: 201 on create"
expires = 2999-01-01
[[known]]
check = "error_locus"
operation = "get_simulation"
pointer = "/detail"
reason = "WF-2"
expires = 2999-01-01
"#,
        )
        .unwrap();
        let today = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        report.baseline = Some(baseline.triage_report(&report, today));
        report
    }

    /// A finding as the suite makes it: the mismatch from a real check on a response that left
    /// `created_at` out (a sequence's lines are `scenario::machine`'s tests').
    fn finding_from_a_check() -> Finding {
        use crate::exchange::{Case, Exchange, Expect, Identity, Response, RunState};
        let spec =
            crate::Spec::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/openapi.json"))
                .unwrap();
        let case = Case {
            request: spec.api.create(json!({})),
            expect: Expect::Accept {
                sent: json!({}),
                stored: json!({}),
            },
        };
        let body = json!({"simulation": {"_id": "5eb7cf5a86d9755df3a6c593", "team_id": "t",
            "created_by": "u", "updated_by": "u", "updated_at": "2026-11-28T12:00:00Z"}});
        let response = Response::new(
            200,
            Some("application/json".into()),
            serde_json::to_vec(&body).unwrap(),
        );
        let state = RunState::new(Identity::default());
        let exchange = Exchange {
            spec: &spec,
            case: &case,
            response: &response,
            state: &state,
        };
        let mismatch = crate::checks::server_fields(&exchange).expect_err("created_at is absent");
        Finding {
            check: "server_fields",
            mismatch,
            ..finding("server_fields", "", "")
        }
    }

    /// A count of one takes the singular in every output: the terminal's findings and summary,
    /// the Markdown and the JUnit messages.
    #[test]
    fn a_count_of_one_is_singular_everywhere() {
        let secrets = Secrets::new(KEY, None);
        let mut report = report();
        report.cases = 1;
        report.requests = 1;
        report.drawn = 2;
        report
            .not_judged
            .insert(crate::runner::NotJudged::Internal, 1);
        report.findings[0].occurrences = 1;
        report.findings[0].shrink_steps = 1;
        report.replayed_regressions = 1;
        let terminal = crate::report::render_findings(&report, &secrets)
            + &crate::report::render_summary(&report, &secrets);
        let markdown = summary_markdown(&report, &secrets);
        let junit = crate::report::junit_xml(&report, &report.checks_run, &secrets);
        for line in [
            "seen 1 time; shrunk in 1 step; seed ab",
            "sequence (1 command; ",
            "replayed 1 regression seed first",
            "baseline: 1 known failure, not counted below; 1 stale entry; 0 expired",
            "summary: 1 case, 1 request, 1 failure, ",
            "judged 1 of 2 cases (1 not judged: ",
        ] {
            assert!(terminal.contains(line), "{line}\n{terminal}");
        }
        for line in [
            "## ❌ Contract suite failed: 1 failure\n",
            "1 case, 1 request, 1 failure, 1 known, ",
        ] {
            assert!(markdown.contains(line), "{line}\n{markdown}");
        }
        assert!(
            junit.contains("judged 1 of 2 cases (1 not judged: "),
            "{junit}"
        );
        for text in [&terminal, &markdown, &junit] {
            for wrong in ["(s)", "(y/ies)", " 1 failures", " 1 cases", " 1 requests"] {
                assert!(!text.contains(wrong), "{wrong} in {text}");
            }
        }
        report.drawn = 1;
        report.not_judged.clear();
        report.cases = 0;
        report
            .not_judged
            .insert(crate::runner::NotJudged::Internal, 1);
        let line = report.judged_line().unwrap();
        assert!(
            line.contains("judged 0 of 1 case (1 not judged: "),
            "{line}"
        );
    }

    /// No renderer shows Rust's debug text (`Some("…")`, `None`, `[Some(0), None]`).
    #[test]
    fn every_output_reads_as_text_not_rust_debug() {
        let secrets = Secrets::new(KEY, None);
        let mut report = Report {
            cases: 1,
            requests: 1,
            checks_run: vec!["server_fields"],
            findings: vec![finding_from_a_check()],
            ..Report::default()
        };
        report.per_operation.insert(
            Operation::Create,
            OperationStats {
                requests: 1,
                ..OperationStats::default()
            },
        );
        let terminal = crate::report::render_findings(&report, &secrets)
            + &crate::report::render_summary(&report, &secrets);
        let markdown = summary_markdown(&report, &secrets);
        let json = json_lines(&report, &secrets);
        let junit = crate::report::junit_xml(&report, &["server_fields"], &secrets);
        for (name, text) in [
            ("terminal", &terminal),
            ("markdown", &markdown),
            ("json", &json),
            ("junit", &junit),
        ] {
            for mark in ["Some(", "None", "[Some"] {
                assert!(!text.contains(mark), "{name}: {mark} in {text}");
            }
            assert!(text.contains("(absent)"), "{name}: {text}");
        }
        assert!(terminal.contains("    received: (absent)\n"), "{terminal}");
        let first: Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
        assert_eq!(first["received"], "(absent)");
    }

    #[test]
    fn every_json_line_parses_and_the_last_is_the_summary_agreeing_with_the_human_one() {
        let report = report();
        let secrets = Secrets::new(KEY, None);
        let text = json_lines(&report, &secrets);
        assert!(
            !text.contains(KEY) && !text.contains("sk-\\\"live"),
            "{text}"
        );
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert_eq!(lines[0]["reason"], "finding");
        assert_eq!(lines[0]["known"], false);
        assert_eq!(lines[0]["received"], "8 from $CONTRACT_TOKEN");
        assert_eq!(lines[0]["sequence"], json!(["create #0"]));
        assert_eq!(lines[0]["seed"], "ab");
        assert_eq!(lines[1]["known"], true);
        assert_eq!(lines[1]["baseline_reason"], "WF-1: 201 on create");
        assert_eq!(lines[1]["pointer"], "");
        let summary = &lines[2];
        assert_eq!(summary["reason"], "summary");
        assert_eq!(summary["verdict"], "fail");
        assert_eq!(
            (&summary["failures"], &summary["known_failures"]),
            (&json!(1), &json!(1))
        );
        assert_eq!(summary["stale_baseline_entries"][0]["check"], "error_locus");
        // The human summary's closing line carries the same counts.
        let human = crate::report::render_summary(&report, &secrets);
        let closing = human.lines().last().unwrap();
        assert!(
            closing.starts_with(&format!(
                "summary: {} cases, {} requests, {} failure, ",
                summary["cases"], summary["requests"], summary["failures"]
            )),
            "{closing}"
        );
        assert!(
            human.contains("baseline: 1 known failure, not counted below; 1 stale entry"),
            "{human}"
        );
        assert!(
            human.contains("warning: stale baseline entry, it no longer fails: error_locus on get_simulation at /detail (WF-2)"),
            "{human}"
        );
    }

    #[test]
    fn the_markdown_summary_has_a_verdict_the_table_and_curl_lines_in_code_blocks() {
        let secrets = Secrets::new(KEY, None);
        let md = summary_markdown(&report(), &secrets);
        assert!(!md.contains(KEY), "{md}");
        assert!(
            md.starts_with("## ❌ Contract suite failed: 1 failure\n"),
            "{md}"
        );
        assert!(
            md.contains("| `create_simulation` | 123 | 200×120 | request_echo×2 |"),
            "{md}"
        );
        let failures = md.split("### Failures").nth(1).unwrap();
        let (failures, known) = failures.split_once("### Known failures").unwrap();
        assert!(
            failures.contains("**1. `request_echo` on `create_simulation` at `/simulation/x`**")
        );
        assert!(
            failures.contains(
                "```sh\ncurl -X POST 'http://h/x' -H 'Authorization: Bearer $CONTRACT_TOKEN'\n```"
            ),
            "{md}"
        );
        assert!(known.contains("Known (baseline, until 2999-01-01): `WF-1: 201 on create`"));
        assert!(md.contains("### Stale baseline entries"), "{md}");
        assert!(md.contains("\ncoverage: 0 of "), "{md}");
        // A passing run says so, and has no failure sections.
        let md = summary_markdown(&Report::default(), &secrets);
        assert!(
            md.starts_with("## ✅ Contract suite passed\n") && !md.contains("###"),
            "{md}"
        );
    }

    #[test]
    fn junit_skips_a_known_failure_so_its_failures_agree_with_the_exit_code() {
        let xml = crate::report::junit_xml(
            &report(),
            &["request_echo", "status_code_conformance"],
            &Secrets::new(KEY, None),
        );
        assert!(!xml.contains("live"), "{xml}");
        let junit = quick_junit::Report::deserialize_from_str(&xml).unwrap();
        let suite = &junit.test_suites[0];
        assert_eq!((suite.failures, suite.skipped), (1, 1), "{xml}");
        assert!(
            xml.contains("known failure (baseline, until 2999-01-01): WF-1"),
            "{xml}"
        );
    }

    #[test]
    fn records_possibly_left_behind_reach_the_json_summary_and_the_markdown() {
        let secrets = Secrets::new("a-key-of-twenty-chars", None);
        let mut report = report();
        report.cleanup = Some(crate::runner::Cleanup {
            deleted: 3,
            unproven: vec![crate::exchange::Unproven {
                attempts: 2,
                sent_at: "2026-12-06T10:00:00.000Z".into(),
                within: std::time::Duration::from_secs(1),
                logical_id: None,
            }],
            ..Default::default()
        });
        let lines = json_lines(&report, &secrets);
        let summary: Value = serde_json::from_str(lines.lines().last().unwrap()).unwrap();
        assert_eq!(summary["cleanup"]["deleted"], 3);
        assert_eq!(summary["cleanup"]["possibly_left_behind"], 2);
        assert_eq!(summary["cleanup"]["search_incomplete"], false);
        let md = summary_markdown(&report, &secrets);
        assert!(
            md.contains("**Cleanup:** 0 left over, 2 possibly left behind"),
            "{md}"
        );
        // A run that left nothing says nothing about the cleanup.
        report.cleanup = Some(crate::runner::Cleanup::default());
        assert!(!summary_markdown(&report, &secrets).contains("**Cleanup:**"));
    }

    #[test]
    fn an_expired_entry_fails_the_run_even_without_failures() {
        let report = Report {
            baseline: Some(Triage {
            expired: Baseline::parse(
                "[[known]]\ncheck = \"request_echo\"\noperation = \"get_simulation\"\npointer = \"\"\nreason = \"r\"\nexpires = 2000-01-01\n",
            )
            .unwrap()
            .entries,
            ..Triage::default()
        }),
            ..Report::default()
        };
        assert!(report.failed());
        let summary: Value =
            serde_json::from_str(json_lines(&report, &Secrets::default()).trim()).unwrap();
        assert_eq!(summary["verdict"], "fail");
        assert_eq!(summary["failures"], 0);
    }

    /// Jenkins' JUnit schema (the junit plugin's `junit-10.xsd`, which tools that validate JUnit
    /// follow): the attributes each element may carry and the elements it may hold. Anything else,
    /// `skipped` on `<testsuites>` included, is a schema error.
    fn jenkins_schema(element: &str) -> Option<(&'static [&'static str], &'static [&'static str])> {
        Some(match element {
            "testsuites" => (
                &["name", "time", "tests", "failures", "disabled", "errors"],
                &["testsuite"],
            ),
            "testsuite" => (
                &[
                    "name",
                    "tests",
                    "failures",
                    "errors",
                    "group",
                    "time",
                    "disabled",
                    "skipped",
                    "timestamp",
                    "hostname",
                    "id",
                    "package",
                    "file",
                    "log",
                    "url",
                    "version",
                ],
                &["properties", "testcase", "system-out", "system-err"],
            ),
            "properties" => (&[], &["property"]),
            "property" => (&["name", "value"], &[]),
            "testcase" => (
                &[
                    "name",
                    "assertions",
                    "time",
                    "classname",
                    "status",
                    "class",
                    "file",
                    "line",
                    "log",
                    "group",
                    "url",
                ],
                &["skipped", "error", "failure", "system-out", "system-err"],
            ),
            "skipped" => (&["message"], &[]),
            "error" | "failure" => (&["message", "type"], &[]),
            "system-out" | "system-err" => (&[], &[]),
            _ => return None,
        })
    }

    /// Reads `xml` with quick-xml and checks every element against [`jenkins_schema`]; returns
    /// each `<testcase>`'s attributes and each `<property>`'s name and value.
    fn jenkins_read(xml: &str) -> (Vec<BTreeMap<String, String>>, BTreeMap<String, String>) {
        use quick_xml::events::{BytesStart, Event};
        let attributes = |e: &BytesStart| -> BTreeMap<String, String> {
            e.attributes()
                .map(|a| {
                    let a = a.unwrap_or_else(|e| panic!("{e}: {xml}"));
                    (
                        String::from_utf8(a.key.as_ref().to_vec()).unwrap(),
                        a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .unwrap()
                            .into_owned(),
                    )
                })
                .collect()
        };
        let mut reader = quick_xml::Reader::from_str(xml);
        let (mut stack, mut cases, mut properties) =
            (Vec::<String>::new(), Vec::new(), BTreeMap::new());
        loop {
            let event = reader.read_event().unwrap_or_else(|e| panic!("{e}: {xml}"));
            let (start, empty) = match &event {
                Event::Start(e) => (e, false),
                Event::Empty(e) => (e, true),
                Event::End(_) => {
                    stack.pop();
                    continue;
                }
                Event::Eof => break,
                _ => continue,
            };
            let name = String::from_utf8(start.name().as_ref().to_vec()).unwrap();
            let (allowed, _) = jenkins_schema(&name)
                .unwrap_or_else(|| panic!("<{name}> is not in the schema: {xml}"));
            let attrs = attributes(start);
            for key in attrs.keys() {
                assert!(
                    allowed.contains(&key.as_str()),
                    "<{name} {key}=…> is not in the schema: {xml}"
                );
            }
            match stack.last() {
                None => assert_eq!(name, "testsuites", "{xml}"),
                Some(parent) => assert!(
                    jenkins_schema(parent).unwrap().1.contains(&name.as_str()),
                    "<{name}> inside <{parent}>: {xml}"
                ),
            }
            match name.as_str() {
                "testcase" => cases.push(attrs),
                "property" => {
                    properties.insert(attrs["name"].clone(), attrs["value"].clone());
                }
                _ => {}
            }
            if !empty {
                stack.push(name);
            }
        }
        (cases, properties)
    }

    /// The [`report`] as a run against a base URL that carries the key measured it.
    fn measured() -> Report {
        let mut report = report();
        report.seed = 1_796_588_574_283_923_364;
        report.base_url = format!("https://user:{KEY}@api.example/");
        report.commit = Some("0123456789abcdef0123456789abcdef01234567".into());
        report.time.cases = std::time::Duration::from_millis(2500);
        let stats = report.per_operation.get_mut(&Operation::Create).unwrap();
        stats.checks.insert(
            "request_echo",
            crate::runner::CheckCounts {
                applied: 10,
                time: std::time::Duration::from_millis(30),
                ..Default::default()
            },
        );
        report
    }

    #[test]
    fn junit_fits_jenkins_schema_every_testcase_has_a_time_and_the_run_has_properties() {
        let report = measured();
        let xml = crate::report::junit_xml(
            &report,
            &["request_echo", "status_code_conformance", "error_locus"],
            &Secrets::new(KEY, None),
        );
        let (cases, properties) = jenkins_read(&xml);
        assert!(cases.len() >= 4, "{xml}");
        for case in &cases {
            let time: f64 = case
                .get("time")
                .unwrap_or_else(|| panic!("a testcase without a time: {case:?} in {xml}"))
                .parse()
                .unwrap();
            assert!(time.is_finite() && time >= 0.0, "{case:?}");
        }
        // `request_echo` on creates failed once and ran 30 ms over its 10 responses.
        let echo: Vec<f64> = cases
            .iter()
            .filter(|c| c["name"] == "request_echo")
            .map(|c| c["time"].parse().unwrap())
            .collect();
        assert_eq!(echo, [0.03], "{xml}");
        let run = cases
            .iter()
            .find(|c| c["name"] == "every_drawn_case_judged")
            .unwrap();
        assert_eq!(run["time"], "2.500", "{xml}");
        assert_eq!(properties["seed"], "1796588574283923364", "{xml}");
        assert_eq!(
            properties["base_url"],
            "https://user:$CONTRACT_TOKEN@api.example/"
        );
        assert_eq!(
            properties["commit"],
            "0123456789abcdef0123456789abcdef01234567"
        );
        assert!(!xml.contains("live"), "{xml}");
        // Without a commit the property is left out, not written empty.
        let mut unknown = measured();
        unknown.commit = None;
        let xml = crate::report::junit_xml(&unknown, &["request_echo"], &Secrets::new(KEY, None));
        assert!(!jenkins_read(&xml).1.contains_key("commit"), "{xml}");
    }

    #[test]
    fn a_whole_response_failure_in_junit_says_where() {
        let xml = crate::report::junit_xml(
            &measured(),
            &["status_code_conformance"],
            &Secrets::new(KEY, None),
        );
        let junit = quick_junit::Report::deserialize_from_str(&xml).unwrap();
        let texts: Vec<String> = junit.test_suites[0]
            .test_cases
            .iter()
            .filter(|c| c.name.as_str() == "status_code_conformance")
            .filter_map(|c| match &c.status {
                quick_junit::TestCaseStatus::Skipped { description, .. }
                | quick_junit::TestCaseStatus::NonSuccess { description, .. } => {
                    description.as_ref().map(|d| d.as_str().to_owned())
                }
                _ => None,
            })
            .collect();
        assert!(!texts.is_empty(), "{xml}");
        for text in texts {
            assert!(text.starts_with("at (whole response)\n"), "{text:?}");
        }
    }

    /// Each line of `json` read by a reader that holds numbers as f64: jq (1.6 and earlier read
    /// every number as a double), or Python's json told to read integers as floats. Returns, per
    /// line, the seed as read and the integers above 2^53 in it.
    fn read_as_f64(json: &str) -> Vec<(String, usize)> {
        use std::io::Write as _;
        use std::process::{Command, Stdio};
        let jq = Command::new("jq").arg("--version").output().is_ok();
        let mut command = if jq {
            let mut c = Command::new("jq");
            c.args([
                "-r",
                r#""\(.seed)\t\([.. | numbers | select(. > 9007199254740992)] | length)""#,
            ]);
            c
        } else {
            let mut c = Command::new("python3");
            c.args([
                "-c",
                r#"
import json, sys
def big(v):
    if isinstance(v, dict): return sum(big(x) for x in v.values())
    if isinstance(v, list): return sum(big(x) for x in v)
    return int(isinstance(v, float) and v > 2**53)
for line in sys.stdin:
    o = json.loads(line, parse_int=float)
    s = o.get("seed")
    print(("null" if s is None else s if isinstance(s, str) else repr(s)) + "\t" + str(big(o)))
"#,
            ]);
            c
        };
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("jq or python3 reads the JSON lines");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(json.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| {
                let (seed, big) = l.split_once('\t').unwrap();
                (seed.to_owned(), big.parse().unwrap())
            })
            .collect()
    }

    #[test]
    fn the_json_seed_survives_a_reader_that_holds_numbers_as_f64() {
        let report = measured();
        let lines = read_as_f64(&json_lines(&report, &Secrets::new(KEY, None)));
        let (seed, _) = lines.last().unwrap();
        assert_eq!(seed, "1796588574283923364");
        for (_, big) in &lines {
            assert_eq!(*big, 0, "an integer above 2^53 is a number: {lines:?}");
        }
    }

    #[test]
    fn cases_skipped_at_max_creates_show_in_markdown_and_json_as_in_the_terminal() {
        let report = Report {
            skipped_for_create_cap: 3,
            drawn: 5,
            cases: 2,
            not_judged: [(crate::runner::NotJudged::CreateCap, 3)].into(),
            ..Report::default()
        };
        let secrets = Secrets::default();
        let terminal = crate::report::render_summary(&report, &secrets);
        let line = "skipped 3 scenarios at the --max-creates cap";
        assert!(terminal.contains(line), "{terminal}");
        let md = summary_markdown(&report, &secrets);
        assert!(md.contains(line), "{md}");
        let summary: Value =
            serde_json::from_str(json_lines(&report, &secrets).lines().last().unwrap()).unwrap();
        assert_eq!(summary["skipped_at_max_creates"], 3, "{summary}");
    }

    /// A group is one JSON line with its group pointer and every exact pointer counted, and one
    /// Markdown entry whose pointers stay inside its code block; both say what was not shrunk.
    #[test]
    fn a_group_is_one_entry_with_its_pointers_in_json_and_markdown() {
        let mut grouped = finding("request_echo", "/simulation/x-b", "1");
        grouped.group = "/simulation/*".into();
        grouped.pointers = ["/simulation/x-a", "/simulation/x-b\n## injected"]
            .iter()
            .map(|p| crate::runner::PointerSeen {
                pointer: (*p).into(),
                occurrences: 2,
                seed_hex: "ab".into(),
            })
            .collect();
        grouped.not_shrunk = true;
        let report = Report {
            findings: vec![grouped],
            shrink_skipped: crate::runner::ShrinkSkipped {
                not_shrunk: 1,
                capped: 0,
            },
            ..Report::default()
        };
        let secrets = Secrets::default();
        let lines: Vec<Value> = json_lines(&report, &secrets)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        let f = &lines[0];
        assert_eq!(f["group"], "/simulation/*", "{f}");
        assert_eq!(f["pointer"], "/simulation/x-b", "{f}");
        assert_eq!(
            f["pointers"][1]["pointer"], "/simulation/x-b\n## injected",
            "{f}"
        );
        assert_eq!(f["pointers"][1]["occurrences"], 2, "{f}");
        assert_eq!(f["not_shrunk"], true, "{f}");
        assert_eq!(lines[1]["not_shrunk"], 1, "{}", lines[1]);
        let md = summary_markdown(&report, &secrets);
        assert!(md.contains("`/simulation/*`"), "{md}");
        assert!(
            md.contains("2 pointers, 2 occurrences: /simulation/x-a ×2, "),
            "{md}"
        );
        assert!(!md.contains("\n## injected"), "{md}");
        assert!(
            md.contains("1 finding not shrunk; rerun with --shrink all"),
            "{md}"
        );
    }

    #[test]
    fn spec_warnings_reach_the_json_summary_and_a_markdown_section() {
        let warning = "simulation_config.ta`|<b>gs: type array is not modelled; it gets the generic checks only";
        let report = Report {
            spec_warnings: vec![warning.to_owned()],
            ..Report::default()
        };
        let secrets = Secrets::default();
        let summary: Value =
            serde_json::from_str(json_lines(&report, &secrets).lines().last().unwrap()).unwrap();
        assert_eq!(summary["warnings"], json!([warning]), "{summary}");
        let md = summary_markdown(&report, &secrets);
        let (headings, text) = rendered(&md);
        assert!(headings.iter().any(|h| h == "Warnings"), "{md}");
        assert!(text.contains(warning), "the key reads whole, as code: {md}");
        let clean: Value = serde_json::from_str(
            json_lines(&Report::default(), &secrets)
                .lines()
                .last()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(clean["warnings"], json!([]));
        assert!(!summary_markdown(&Report::default(), &secrets).contains("Warnings"));
    }

    /// The Markdown as a CommonMark reader renders it: its headings, and the text of its
    /// paragraphs outside code.
    fn rendered(md: &str) -> (Vec<String>, String) {
        use pulldown_cmark::{Event, Parser, Tag, TagEnd};
        let (mut headings, mut text, mut heading) = (Vec::new(), String::new(), None::<String>);
        for event in Parser::new_ext(md, pulldown_cmark::Options::ENABLE_TABLES) {
            match event {
                Event::Start(Tag::Heading { .. }) => heading = Some(String::new()),
                Event::End(TagEnd::Heading(_)) => headings.extend(heading.take()),
                Event::Text(t) | Event::Code(t) => match &mut heading {
                    Some(h) => h.push_str(&t),
                    None => text.push_str(&t),
                },
                Event::SoftBreak | Event::HardBreak | Event::End(TagEnd::Paragraph) => {
                    text.push('\n');
                }
                _ => {}
            }
        }
        (headings, text)
    }

    #[test]
    fn the_markdown_reads_the_same_through_a_commonmark_renderer() {
        let mut report = measured();
        report.skipped_for_create_cap = 2;
        report
            .not_judged
            .insert(crate::runner::NotJudged::CreateCap, 2);
        let md = summary_markdown(&report, &Secrets::new(KEY, None));
        let (headings, text) = rendered(&md);
        assert_eq!(
            headings,
            [
                "❌ Contract suite failed: 1 failure",
                "Failures",
                "Known failures (baseline)",
                "Stale baseline entries (they no longer fail)"
            ],
            "{md}"
        );
        assert!(text.contains("seed 1796588574283923364"), "{text}");
        assert!(
            text.contains("skipped 2 scenarios at the --max-creates cap"),
            "{text}"
        );
        assert!(
            text.contains("1. request_echo on create_simulation at /simulation/x"),
            "{text}"
        );
    }
}
