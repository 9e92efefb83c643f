//! The terminal's output: every finding as a block with its curl line, then the tables and the closing `summary:` line. Text from outside (a server's keys and values, ids, a baseline's reasons) passes [`escape`] where it is rendered, so it stays on its line and no control character reaches the terminal; the whole output passes [`text::escape_keeping_lines`] again.

use std::fmt::Write as _;

use super::model::{self, UNPROVEN_SHOWN};
use crate::redact::Secrets;
use crate::runner::Report;
use crate::text::{self, escape};

/// Every finding, one block each: check, operation, pointer, expected / received, the minimal
/// request and a curl line.
pub fn render_findings(report: &Report, secrets: &Secrets) -> String {
    let mut out = String::new();
    for view in model::findings(report) {
        let f = view.finding;
        let label = if view.known.is_some() {
            "KNOWN"
        } else {
            "FAIL"
        };
        let _ = writeln!(
            out,
            "{label} {}. {} on {} at {}",
            view.number,
            f.check,
            f.operation.id(),
            escape(view.at())
        );
        if let Some(entry) = view.known {
            let _ = writeln!(
                out,
                "    known failure (baseline, until {}): {}",
                entry.expires,
                escape(&entry.reason)
            );
        }
        if let Some(line) = view.spread(|p| escape(p).into_owned()) {
            let _ = writeln!(out, "    {line}");
        }
        if let Some(example) = view.example() {
            let _ = writeln!(out, "    example at {}:", escape(example));
        }
        let _ = writeln!(out, "    expected: {}", escape(&f.mismatch.expected));
        let _ = writeln!(out, "    received: {}", escape(&f.mismatch.received));
        let body = f.request.body.bytes();
        let shown = if body.is_empty() {
            "(no body)".to_owned()
        } else {
            escape(&String::from_utf8_lossy(&body)).into_owned()
        };
        let _ = writeln!(
            out,
            "    minimal request: {} {} {}",
            escape(&f.request.method),
            escape(&f.request.path_and_query),
            shown
        );
        let seed = if f.seed_hex.is_empty() {
            String::new()
        } else {
            format!("; seed {}", f.seed_hex)
        };
        let _ = writeln!(
            out,
            "    seen {}; {}{seed}",
            text::plural(f.occurrences, "time", "times"),
            view.history()
        );
        if !f.sequence.is_empty() {
            let _ = writeln!(
                out,
                "    sequence ({}; record #n is the n-th record made so far, counted round; the request above is where it failed):",
                text::plural(f.sequence.len(), "command", "commands")
            );
            for (n, command) in f.sequence.iter().enumerate() {
                let _ = writeln!(out, "      {}. {}", n + 1, escape(command));
            }
        }
        let _ = writeln!(out, "    reproduce: {}", escape(&f.curl));
        out.push('\n');
    }
    if let Some(replay) = report
        .replay
        .as_ref()
        .filter(|_| !report.findings.is_empty())
    {
        let _ = writeln!(out, "note: {}\n", escape(replay));
    }
    text::escape_keeping_lines(&secrets.redact(&out)).into_owned()
}

/// The per-operation table and the closing line, which reads exactly
/// `summary: <cases> cases, <requests> requests, <failures> failures, <seconds> s` (singular
/// for a count of 1: `1 case, 1 request, 1 failure`).
pub fn render_summary(report: &Report, secrets: &Secrets) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<18} {:>8}  {:<40} failures by check",
        "operation", "requests", "statuses"
    );
    for (op, stats) in model::operations(report) {
        let _ = writeln!(
            out,
            "{:<18} {:>8}  {:<40} {}",
            op.id(),
            stats.requests,
            stats.statuses_text(),
            stats.failures_text()
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
    if let Some(line) = model::create_cap_line(report) {
        let _ = writeln!(out, "{line}");
    }
    if let Some(line) = model::gateway_line(report) {
        let _ = writeln!(out, "{}", escape(&secrets.redact(&line)));
    }
    if let Some(c) = &report.cleanup {
        let mut left = Vec::new();
        if !c.left_over.is_empty() {
            left.push(format!("LEFT OVER: {}", escape(&c.left_over.join(", "))));
        }
        if !c.unproven.is_empty() {
            left.push(format!(
                "{} possibly left behind (lost answers to creates without the run's tag: not deleted, since the run cannot prove such a record its own)",
                c.possibly_left_behind()
            ));
        }
        if c.search_incomplete {
            left.push(format!(
                "the search for the run's tag did not finish, so records of its creates whose answer was lost may be left (search for {})",
                escape(&text::quoted(&report.run_tag))
            ));
        }
        if left.is_empty() {
            left.push("nothing left over".to_owned());
        }
        let _ = writeln!(
            out,
            "cleanup (run tag {}): deleted {}, already gone {}, {}",
            report.run_tag,
            c.deleted,
            c.already_gone,
            left.join("; ")
        );
        for u in c.unproven.iter().take(UNPROVEN_SHOWN) {
            let logical_id = u.logical_id.as_deref().map_or(String::new(), |id| {
                let (shown, cut) = crate::redact::cut(id, 40);
                format!(
                    ", logical_id \"{}{}\"",
                    escape(&shown),
                    if cut { "…" } else { "" }
                )
            });
            let _ = writeln!(
                out,
                "  possibly left behind: {} of a create sent at {} (answers lost within {:.1} s){}",
                text::plural(u.attempts, "record", "records"),
                u.sent_at,
                u.within.as_secs_f64(),
                secrets.redact(&logical_id)
            );
        }
        if c.unproven.len() > UNPROVEN_SHOWN {
            let _ = writeln!(
                out,
                "  … and {} more such {}",
                c.unproven.len() - UNPROVEN_SHOWN,
                if c.unproven.len() - UNPROVEN_SHOWN == 1 {
                    "create"
                } else {
                    "creates"
                }
            );
        }
        if !c.not_ours.is_empty() {
            let _ = writeln!(
                out,
                "cleanup did not delete {} whose record no longer carries the run's mark: {}",
                text::plural(c.not_ours.len(), "id", "ids"),
                escape(&c.not_ours.join(", "))
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
    let notes = model::client_notes(report);
    if let Some(example) = notes.first() {
        let fields: std::collections::BTreeSet<&str> =
            notes.iter().filter_map(|n| n.split(" = ").next()).collect();
        let _ = writeln!(
            out,
            "note: {} in {} {} not fit the generated client's integer types; FastAPI stores integers of any size, so this is the client's limit, not a failure (JUnit lists them all). E.g. {}",
            text::plural(notes.len(), "value", "values"),
            text::plural(fields.len(), "field", "fields"),
            if notes.len() == 1 { "does" } else { "do" },
            escape(example.trim_start_matches("note: "))
        );
    }
    if !report.tenancy_checked {
        let _ = writeln!(
            out,
            "tenancy checks did not run: CONTRACT_OTHER_TEAM_TOKEN is not set"
        );
    }
    if let Some(identity) = &report.identity_learned {
        let shown = |v: &Option<String>| {
            v.as_deref()
                .map_or("(never seen)".into(), |v| escape(v).into_owned())
        };
        let _ = writeln!(
            out,
            "identity learned from the responses, not pinned: team {}, user {} (pin them with --expect-team and --expect-user)",
            shown(&identity.team),
            shown(&identity.user)
        );
    }
    let _ = writeln!(out, "{}", model::coverage_line(report));
    let phases = report.requests_by_phase;
    let _ = writeln!(
        out,
        "requests: {} preflight, {} cases, {} shrinking, {} cleanup; {} creates in all",
        phases.preflight, phases.cases, phases.shrinking, phases.cleanup, report.creates_sent
    );
    if let Some(line) = model::shrink_skipped_line(report) {
        let _ = writeln!(out, "{line}");
    }
    let cut = report.cut_short;
    if cut.any() {
        let mut parts = Vec::new();
        if cut.cases_not_run > 0 {
            parts.push(format!(
                "{} not run",
                text::plural(cut.cases_not_run, "case", "cases")
            ));
        }
        if cut.shrinks_cut > 0 {
            parts.push(format!(
                "shrinking cut short for {}",
                text::plural(cut.shrinks_cut, "failure", "failures")
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
            "replayed {} first",
            text::plural(
                report.replayed_regressions,
                "regression seed",
                "regression seeds"
            )
        );
    }
    if let Some(p) = report.partition {
        let _ = writeln!(
            out,
            "partition {p}: {} of the run's cases (every {}-th from index {}), seed {}",
            report.case_indices.len(),
            p.count(),
            p.index() - 1,
            report.seed
        );
    }
    if let Some(triage) = &report.baseline {
        let _ = writeln!(
            out,
            "baseline: {}, not counted below; {}; {} expired",
            text::plural(triage.known.len(), "known failure", "known failures"),
            text::plural(triage.stale.len(), "stale entry", "stale entries"),
            triage.expired.len()
        );
        for line in triage.lines() {
            let _ = writeln!(out, "{line}");
        }
    }
    let _ = writeln!(out, "{}", model::summary_line(report));
    text::escape_keeping_lines(&secrets.redact(&out)).into_owned()
}
