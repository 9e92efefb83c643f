//! Tests of the report's renderers, each from a hand-built [`Report`]: the terminal's and JUnit's (`terminal`), the JSON lines' and the Markdown's (`machine`), and the properties every output shares.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use super::model::GAPS_IN_SUMMARY;
use super::*;
use crate::rules::Rule;
use crate::runner::{Finding, Report};
use crate::spec::Operation;
use crate::{coverage, text};
use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};

mod terminal {
    use super::*;
    use crate::runner::{CheckCounts, Finding, OperationStats};

    /// A run in which `error_locus` never applied to a create and `request_echo` did.
    fn report() -> Report {
        let mut stats = OperationStats::default();
        stats.checks.insert(
            "request_echo",
            CheckCounts {
                applied: 3,
                failed: 1,
                not_applicable: 2,
                ..CheckCounts::default()
            },
        );
        stats.checks.insert(
            "error_locus",
            CheckCounts {
                applied: 0,
                failed: 0,
                not_applicable: 5,
                ..CheckCounts::default()
            },
        );
        let mut report = Report {
            checks_run: vec!["request_echo", "error_locus"],
            ..Report::default()
        };
        report.per_operation.insert(Operation::Create, stats);
        report
    }

    fn unproven(attempts: u32, logical_id: Option<&str>) -> crate::run_state::Unproven {
        crate::run_state::Unproven {
            attempts,
            sent_at: "2026-12-06T10:00:00.000Z".into(),
            within: Duration::from_millis(1500),
            logical_id: logical_id.map(str::to_owned),
        }
    }

    #[test]
    fn a_cleanup_that_may_have_left_records_never_says_nothing_left_over() {
        let secrets = Secrets::new("a-key-of-twenty-chars", None);
        let mut report = report();
        report.run_tag = "ct00000001".into();
        report.cleanup = Some(crate::runner::Cleanup {
            deleted: 4,
            ..Default::default()
        });
        let clean = render_summary(&report, &secrets);
        assert!(
            clean.contains("deleted 4, already gone 0, nothing left over"),
            "{clean}"
        );

        let cleanup = report.cleanup.as_mut().unwrap();
        cleanup.unproven = vec![unproven(2, Some("lid")), unproven(1, None)];
        let text = render_summary(&report, &secrets);
        assert!(!text.contains("nothing left over"), "{text}");
        assert!(text.contains(", 3 possibly left behind ("), "{text}");
        assert!(
            text.contains("2 records of a create sent at 2026-12-06T10:00:00.000Z (answers lost within 1.5 s), logical_id \"lid\""),
            "{text}"
        );

        let cleanup = report.cleanup.as_mut().unwrap();
        cleanup.unproven.clear();
        cleanup.search_incomplete = true;
        let text = render_summary(&report, &secrets);
        assert!(!text.contains("nothing left over"), "{text}");
        assert!(
            text.contains("the search for the run's tag did not finish"),
            "{text}"
        );
    }

    #[test]
    fn the_commit_is_the_first_ci_variable_that_holds_a_commit_id() {
        let sha = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(commit_from(Some(sha), Some("ffff")), Some(sha.into()));
        assert_eq!(
            commit_from(None, Some(" abc1234\n")),
            Some("abc1234".into())
        );
        // Not a commit id: text from outside that is not written into the reports.
        assert_eq!(commit_from(Some("main; rm -rf"), None), None);
        assert_eq!(commit_from(Some("abc"), Some(&"a".repeat(65))), None);
        assert_eq!(commit_from(None, None), None);
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

    /// The test cases of the one suite, parsed back with quick-junit's reader.
    fn parsed(xml: &str) -> TestSuite {
        let mut junit = quick_junit::Report::deserialize_from_str(xml).expect("valid JUnit");
        assert_eq!(junit.test_suites.len(), 1, "{xml}");
        junit.test_suites.remove(0)
    }

    fn case<'a>(suite: &'a TestSuite, name: &str) -> Vec<&'a TestCase> {
        suite
            .test_cases
            .iter()
            .filter(|c| c.name.as_str() == name)
            .collect()
    }

    #[test]
    fn junit_marks_a_check_that_never_applied_as_skipped() {
        let xml = junit_xml(
            &report(),
            &["request_echo", "error_locus"],
            &Secrets::default(),
        );
        assert!(xml.contains("skipped=\"1\""), "{xml}");
        let suite = parsed(&xml);
        assert_eq!(
            (
                suite.name.as_str(),
                suite.tests,
                suite.skipped,
                suite.failures
            ),
            // The two checks, and `contract.run / every_drawn_case_judged`.
            ("contract", 3, 1, 0),
            "{xml}"
        );
        let [skipped] = case(&suite, "error_locus")[..] else {
            panic!("{xml}")
        };
        assert_eq!(
            skipped.classname.as_ref().map(|c| c.as_str()),
            Some("contract.create_simulation")
        );
        assert!(
            matches!(&skipped.status, TestCaseStatus::Skipped { message: Some(m), .. }
                if m.as_str() == "did not apply to any create_simulation response"),
            "{xml}"
        );
        let [applied] = case(&suite, "request_echo")[..] else {
            panic!("{xml}")
        };
        assert!(
            matches!(applied.status, TestCaseStatus::Success { .. }),
            "{xml}"
        );
    }

    fn finding(pointer: &str, received: &str) -> Finding {
        Finding {
            check: "request_echo",
            operation: Operation::Create,
            mismatch: crate::verdict::Mismatch {
                pointer: pointer.into(),
                expected: "7".into(),
                received: received.into(),
            },
            request: crate::request::Request {
                operation: Operation::Create,
                method: "POST".into(),
                path_and_query: "/x".into(),
                content_type: None,
                body: crate::request::Body::Empty,
                auth: crate::request::Auth::Primary,
            },
            curl: "curl -X POST 'http://h/x'".into(),
            status: Some(200),
            seed_hex: "ab".into(),
            occurrences: 1,
            shrink_steps: 0,
            flaky: false,
            shrink_cut_short: false,
            sequence: Vec::new(),
            group: pointer.into(),
            pointers: Vec::new(),
            not_shrunk: false,
            shrink_capped: false,
        }
    }

    #[test]
    fn junit_fails_once_per_finding_and_redacts_before_escaping() {
        let key = "k<e&y\"";
        let mut report = report();
        report.findings = vec![
            finding("/max_events", &format!("8, sent with {key}")),
            finding("/status", "\"pending\""),
        ];
        report.client_notes = vec![crate::run_state::ClientLimit {
            operation: Operation::Create,
            pointer: "/simulation/simulation_config/max_events".into(),
            value: "99999999999999999999".into(),
            client_type: "i64",
        }];
        let xml = junit_xml(&report, &["request_echo"], &Secrets::new(key, None));
        // Escaped, the key would read k&lt;e&amp;y&quot;: redacted first, no form of it is left.
        for form in [key, "k&lt;e&amp;y", "k<e&amp;y"] {
            assert!(!xml.contains(form), "{form} in {xml}");
        }
        let suite = parsed(&xml);
        assert_eq!((suite.tests, suite.failures), (3, 2), "{xml}");
        let failures: Vec<(String, String, String)> = case(&suite, "request_echo")
            .iter()
            .map(|c| match &c.status {
                TestCaseStatus::NonSuccess {
                    kind: NonSuccessKind::Failure,
                    message: Some(message),
                    ty: Some(ty),
                    description: Some(text),
                    ..
                } => (
                    message.as_str().to_owned(),
                    ty.as_str().to_owned(),
                    text.as_str().to_owned(),
                ),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            failures[0].0,
            "expected: 7 / received: 8, sent with $CONTRACT_TOKEN"
        );
        assert_eq!(failures[0].1, "request_echo");
        assert!(
            failures[1].2.starts_with("at /status\n")
                && failures[1]
                    .2
                    .ends_with("reproduce: curl -X POST 'http://h/x'"),
            "{failures:?}"
        );
        let notes = suite.system_out.expect("the client notes");
        assert!(
            notes.as_str().contains("99999999999999999999 does not fit"),
            "{notes:?}"
        );
    }

    #[test]
    fn the_human_output_escapes_what_a_server_wrote_and_junit_stays_valid() {
        let hostile =
            "k\u{1b}[2K\r\u{9b}1m\u{202e}\nsummary: 1 cases, 1 requests, 0 failures, 0.01 s";
        let mut report = report();
        report.findings = vec![finding(&format!("/simulation/{hostile}"), hostile)];
        let human = render_findings(&report, &Secrets::default())
            + &render_summary(&report, &Secrets::default());
        assert!(
            !human.chars().any(|c| c != '\n' && text::is_unsafe(c)),
            "{human}"
        );
        assert!(
            human.contains("    received: k\\u{1b}[2K\\r\\u{9b}1m\\u{202e}\\nsummary: 1 cases"),
            "{human}"
        );
        assert_eq!(
            human.lines().filter(|l| l.starts_with("summary: ")).count(),
            1,
            "{human}"
        );
        // JUnit is XML: quick-junit writes what XML 1.0 can hold and the file parses back.
        let xml = junit_xml(&report, &["request_echo"], &Secrets::default());
        assert!(!xml.contains('\u{1b}'), "{xml}");
        parsed(&xml);
    }

    /// A group reads as one finding at its pointer, with its count of pointers, up to five of
    /// them escaped, its example's pointer, and what the shrink budget did not do.
    #[test]
    fn a_group_is_one_finding_with_its_pointers_and_the_summary_says_what_was_not_shrunk() {
        let mut report = report();
        let mut grouped = finding("/simulation/x-unknown-\u{1b}[2K", "1");
        grouped.group = "/simulation/*".into();
        grouped.pointers = (0..7)
            .map(|i| crate::verdict::PointerSeen {
                pointer: format!("/simulation/x-unknown-{i}\u{1b}[2K"),
                occurrences: i + 1,
                seed_hex: "ab".into(),
            })
            .collect();
        grouped.occurrences = 28;
        grouped.not_shrunk = true;
        report.findings = vec![grouped];
        report.shrink_skipped.not_shrunk = 1;
        let human = render_findings(&report, &Secrets::default())
            + &render_summary(&report, &Secrets::default());
        assert!(
            !human.chars().any(|c| c != '\n' && text::is_unsafe(c)),
            "{human}"
        );
        assert!(
            human.contains("FAIL 1. request_echo on create_simulation at /simulation/*\n"),
            "{human}"
        );
        assert!(
            human
                .contains("    7 pointers, 28 occurrences: /simulation/x-unknown-0\\u{1b}[2K ×1, "),
            "{human}"
        );
        assert!(
            human.contains("/simulation/x-unknown-4\\u{1b}[2K ×5, …\n"),
            "{human}"
        );
        assert!(!human.contains("x-unknown-5"), "five shown: {human}");
        assert!(
            human.contains("    example at /simulation/x-unknown-\\u{1b}[2K:\n"),
            "{human}"
        );
        assert!(
            human.contains("seen 28 times; not shrunk: the shrink budget was spent"),
            "{human}"
        );
        assert!(
            human.contains("1 finding not shrunk; rerun with --shrink all to shrink them"),
            "{human}"
        );
        let xml = junit_xml(&report, &["request_echo"], &Secrets::default());
        assert!(xml.contains("at /simulation/*"), "{xml}");
        parsed(&xml);
    }

    /// A run that asserted every situation twice but these: `never.lost` in none of its
    /// situations, `length.24 path-shorter` not, the unreachable `list.order tie` once, and a
    /// situation the table does not have.
    fn covered() -> Report {
        let mut report = report();
        for definition in coverage::RULES {
            for situation in definition.situations {
                if situation.unreachable.is_none() {
                    report.coverage.insert((definition.rule, situation.name), 2);
                }
            }
        }
        report
            .coverage
            .retain(|(rule, name), _| *rule != Rule::NeverLost && *name != "path-shorter");
        report.coverage.insert((Rule::ListOrder, "tie"), 1);
        report
            .coverage
            .insert((Rule::GetFound, "no-such-situation"), 1);
        report
    }

    fn situations() -> (usize, usize) {
        let all = coverage::RULES.iter().flat_map(|d| d.situations);
        let unreachable = all.clone().filter(|s| s.unreachable.is_some()).count();
        (all.count() - unreachable, unreachable)
    }

    #[test]
    fn the_summary_counts_situations_and_names_the_gaps() {
        let (reachable, unreachable) = situations();
        let rules = Rule::ALL.len();
        let line = coverage_line(&covered());
        assert_eq!(
            line,
            format!(
                "coverage: {} of {reachable} situations asserted ({} of {rules} rules in every situation; {unreachable} unreachable); never asserted: length.24 path-shorter, never.lost after-refused-update, never.lost after-other-team, never.lost after-refused-key; credited but not in the situation table: get.found no-such-situation",
                reachable - 4,
                rules - 2,
            )
        );
        let summary = render_summary(&covered(), &Secrets::default());
        assert!(summary.contains(&line), "{summary}");
        // A run that asserted nothing names the first gaps and says how many more.
        let none = coverage_line(&Report::default());
        assert!(
            none.starts_with(&format!(
                "coverage: 0 of {reachable} situations asserted (0 of {rules} rules"
            )) && none.contains("never asserted: auth.required keyed, auth.required respelled,")
                && none.contains(&format!(
                    " and {} more (--coverage FILE lists them)",
                    reachable - GAPS_IN_SUMMARY
                )),
            "{none}"
        );
    }

    #[test]
    fn the_coverage_file_has_a_row_per_situation_and_lists_the_gaps_and_the_unreachable() {
        let key = "sk-secret|key";
        let mut report = covered();
        report.run_tag = format!("tag-{key}");
        let path = std::env::temp_dir().join(format!("coverage-{}.md", std::process::id()));
        write_coverage(&path, &report, &Secrets::new(key, None)).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert!(
            !text.contains(key) && text.contains("tag-$CONTRACT_TOKEN"),
            "{text}"
        );
        let rows: Vec<&str> = text.lines().filter(|l| l.starts_with("| `")).collect();
        let (reachable, unreachable) = situations();
        assert_eq!(rows.len(), reachable + unreachable, "{text}");
        assert!(
            rows.contains(
                &"| `length.24` | `path-shorter` | 0 | a path id one character short: 422 |"
            ),
            "{text}"
        );
        assert!(
            rows.contains(&"| `length.24` | `body-accepted` | 2 | a 24-character workflow_id or run_id accepted |"),
            "{text}"
        );
        // An unreachable situation says so until it happens, then shows its count.
        assert!(
            rows.iter()
                .any(|r| r.starts_with("| `tenancy.list` | `unfiltered-total` | unreachable | ")),
            "{text}"
        );
        assert!(
            rows.iter()
                .any(|r| r.starts_with("| `list.order` | `tie` | 1 | ")),
            "{text}"
        );
        let never = text.split("## Never asserted").nth(1).unwrap();
        let never = never.split("##").next().unwrap();
        let listed: Vec<&str> = never.lines().filter(|l| l.starts_with("- ")).collect();
        assert_eq!(listed.len(), 4, "{never}");
        assert!(
            listed[0]
                .starts_with("- `length.24` `path-shorter`: a path id one character short: 422 ("),
            "{never}"
        );
        let unreachable_part = text.split("## Unreachable").nth(1).unwrap();
        assert!(
            unreachable_part.contains("- `tenancy.list` `unfiltered-total`: an unfiltered list's total counts the caller's team only: needs every record"),
            "{text}"
        );
        assert!(text.contains("- `get.found` `no-such-situation`"), "{text}");
    }
}

mod machine {
    use super::*;
    use crate::baseline::{Baseline, Triage};
    use crate::request::{Auth, Body, Request};
    use crate::runner::OperationStats;
    use crate::verdict::Mismatch;
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
        use crate::request::{Case, Expect};
        use crate::response::Response;
        use crate::run_state::{Identity, RunState};
        use crate::verdict::Exchange;
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
        let terminal = render_findings(&report, &secrets) + &render_summary(&report, &secrets);
        let markdown = summary_markdown(&report, &secrets);
        let junit = junit_xml(&report, &report.checks_run, &secrets);
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
        let terminal = render_findings(&report, &secrets) + &render_summary(&report, &secrets);
        let markdown = summary_markdown(&report, &secrets);
        let json = json_lines(&report, &secrets);
        let junit = junit_xml(&report, &["server_fields"], &secrets);
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
        let human = render_summary(&report, &secrets);
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
        let xml = junit_xml(
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
            unproven: vec![crate::run_state::Unproven {
                attempts: 2,
                sent_at: "2026-12-06T10:00:00.000Z".into(),
                within: Duration::from_secs(1),
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
        report.time.cases = Duration::from_millis(2500);
        let stats = report.per_operation.get_mut(&Operation::Create).unwrap();
        stats.checks.insert(
            "request_echo",
            crate::runner::CheckCounts {
                applied: 10,
                time: Duration::from_millis(30),
                ..Default::default()
            },
        );
        report
    }

    #[test]
    fn junit_fits_jenkins_schema_every_testcase_has_a_time_and_the_run_has_properties() {
        let report = measured();
        let xml = junit_xml(
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
        let xml = junit_xml(&unknown, &["request_echo"], &Secrets::new(KEY, None));
        assert!(!jenkins_read(&xml).1.contains_key("commit"), "{xml}");
    }

    #[test]
    fn a_whole_response_failure_in_junit_says_where() {
        let xml = junit_xml(
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
                TestCaseStatus::Skipped { description, .. }
                | TestCaseStatus::NonSuccess { description, .. } => {
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
        let terminal = render_summary(&report, &secrets);
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
            .map(|p| crate::verdict::PointerSeen {
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
