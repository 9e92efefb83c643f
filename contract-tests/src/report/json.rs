//! `--message-format json`: one JSON object per finding, then a summary object, one per line, in the spirit of cargo's. The seed is a string of digits: readers that hold numbers as f64 (jq, Node) would read a seed above 2^53 as another one. serde_json escapes C0; the rest (DEL, C1, bidi) is escaped after it, the values unchanged.

use serde_json::{Value, json};

use super::model::{self, CoverageSummary};
use crate::redact::Secrets;
use crate::rules::Rule;
use crate::runner::{Report, Verdict};
use crate::text::json_escape_unsafe;

/// One finding as a JSON object (`"reason": "finding"`). `index` is the number the human
/// output gives it (`FAIL 3.`).
fn finding_json(view: &model::FindingView<'_>, secrets: &Secrets) -> Value {
    let text = |t: &str| secrets.redact(t);
    let (f, known) = (view.finding, view.known);
    json!({
        "reason": "finding",
        "index": view.number,
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
    let objects = model::findings(report)
        .map(|view| finding_json(&view, secrets))
        .chain([summary_json(report, secrets)]);
    for object in objects {
        out.push_str(&json_escape_unsafe(&secrets.redact(&object.to_string())));
        out.push('\n');
    }
    out
}
