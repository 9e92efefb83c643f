//! What a run prints and writes: the failures with their curl lines, the summary table, the closing `summary:` line, and JUnit XML; every output passes the run's [`Secrets`] before it is escaped or written.
//!
//! The human output holds text from outside (a server's keys and values, ids, a baseline's
//! reasons): each such value passes [`text::escape`] where it is rendered, so it stays on its
//! line and no control character reaches the terminal; the whole output passes
//! [`text::escape_keeping_lines`] again.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};

use crate::coverage::{self, Situation};
use crate::error::RunError;
use crate::redact::Secrets;
use crate::rules::{self, Rule};
use crate::runner::Report;
use crate::spec::Operation;
use crate::text::{self, escape};

/// How many unproven creates the summary describes one by one.
const UNPROVEN_SHOWN: usize = 5;
/// How many of a group's exact pointers every output lists; the rest are counted.
pub const POINTERS_SHOWN: usize = 5;

/// `3 pointers: /a/x ×2, /a/y ×1, …`, at most [`POINTERS_SHOWN`] of them, each escaped;
/// `None` for a group of one pointer.
fn pointers_line(f: &crate::runner::Finding) -> Option<String> {
    if f.pointers.len() < 2 {
        return None;
    }
    let shown: Vec<String> = f
        .pointers
        .iter()
        .take(POINTERS_SHOWN)
        .map(|p| format!("{} ×{}", escape(&p.pointer), p.occurrences))
        .collect();
    Some(format!(
        "{}: {}{}",
        text::plural(f.pointers.len(), "pointer", "pointers"),
        shown.join(", "),
        if f.pointers.len() > POINTERS_SHOWN {
            ", …"
        } else {
            ""
        }
    ))
}

/// `shrink budget: 12 findings not shrunk, 1 stopped early; rerun with --shrink all to shrink
/// them`; `None` when the budget left nothing undone.
pub fn shrink_skipped_line(report: &Report) -> Option<String> {
    let skipped = report.shrink_skipped;
    if skipped.not_shrunk == 0 && skipped.capped == 0 {
        return None;
    }
    let mut parts = Vec::new();
    if skipped.not_shrunk > 0 {
        parts.push(format!(
            "{} not shrunk",
            text::plural(skipped.not_shrunk, "finding", "findings")
        ));
    }
    if skipped.capped > 0 {
        parts.push(format!(
            "{} shrunk only partly",
            text::plural(skipped.capped, "finding", "findings")
        ));
    }
    Some(format!(
        "shrink budget ({} findings, {} requests each, all within the case phase's requests): {}; rerun with --shrink all to shrink them",
        crate::runner::SHRINK_GROUPS,
        crate::runner::SHRINK_REQUESTS,
        parts.join(", ")
    ))
}

/// Every finding, one block each: check, operation, pointer, expected / received, the minimal
/// request and a curl line.
pub fn render_findings(report: &Report, secrets: &Secrets) -> String {
    let mut out = String::new();
    for (i, f) in report.findings.iter().enumerate() {
        let pointer = if f.group.is_empty() {
            "(whole response)".into()
        } else {
            escape(&f.group)
        };
        let label = if report.known(i).is_some() {
            "KNOWN"
        } else {
            "FAIL"
        };
        let _ = writeln!(
            out,
            "{label} {}. {} on {} at {}",
            i + 1,
            f.check,
            f.operation.id(),
            pointer
        );
        if let Some(entry) = report.known(i) {
            let _ = writeln!(
                out,
                "    known failure (baseline, until {}): {}",
                entry.expires,
                escape(&entry.reason)
            );
        }
        if let Some(line) = pointers_line(f) {
            let _ = writeln!(out, "    {line}");
        }
        if f.mismatch.pointer != f.group {
            let _ = writeln!(out, "    example at {}:", escape(&f.mismatch.pointer));
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
        let history = if f.seed_hex.is_empty() {
            "found by the cleanup".to_owned()
        } else if f.not_shrunk {
            "not shrunk: the shrink budget was spent (--shrink all shrinks it)".to_owned()
        } else if f.shrink_capped {
            format!(
                "shrinking stopped at the shrink budget after {} (--shrink all goes on)",
                text::plural(f.shrink_steps, "step", "steps")
            )
        } else if f.shrink_cut_short {
            format!(
                "shrinking cut short by the time or create budget after {}",
                text::plural(f.shrink_steps, "step", "steps")
            )
        } else if f.flaky {
            "did not recur on replay (flaky)".to_owned()
        } else {
            format!(
                "shrunk in {}",
                text::plural(f.shrink_steps, "step", "steps")
            )
        };
        let seed = if f.seed_hex.is_empty() {
            String::new()
        } else {
            format!("; seed {}", f.seed_hex)
        };
        let _ = writeln!(
            out,
            "    seen {}; {history}{seed}",
            text::plural(f.occurrences, "time", "times")
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
/// What the infrastructure did, when it did anything: 429s waited out, failures a retry
/// recovered from (per kind), ambiguous writes, cases given up. None of it is a violation.
fn gateway_line(report: &Report) -> Option<String> {
    let g = &report.gateway;
    let recovered: u64 = g.recovered.values().sum();
    if g.throttled == 0 && recovered == 0 && report.abandoned_cases == 0 {
        return None;
    }
    let kinds: Vec<String> = g
        .recovered
        .iter()
        .map(|(kind, n)| format!("{}×{n}", kind.describe()))
        .collect();
    Some(format!(
        "gateway: throttled {} (waited {:.1} s), infrastructure errors retried and recovered {recovered}{}, ambiguous writes {}, cases given up {}",
        g.throttled,
        g.throttled_wait.as_secs_f64(),
        if kinds.is_empty() {
            String::new()
        } else {
            format!(" ({})", kinds.join(", "))
        },
        g.ambiguous_writes,
        report.abandoned_cases
    ))
}

/// `skipped 3 scenario(s) at the --max-creates cap`, said alike in the terminal and the
/// Markdown; `None` when the cap skipped nothing.
pub fn create_cap_line(report: &Report) -> Option<String> {
    (report.skipped_for_create_cap > 0).then(|| {
        format!(
            "skipped {} at the --max-creates cap",
            text::plural(report.skipped_for_create_cap, "scenario", "scenarios")
        )
    })
}

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
    if let Some(line) = create_cap_line(report) {
        let _ = writeln!(out, "{line}");
    }
    if let Some(line) = gateway_line(report) {
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
    let notes = client_notes(report);
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
    let _ = writeln!(out, "{}", coverage_line(report));
    let phases = report.requests_by_phase;
    let _ = writeln!(
        out,
        "requests: {} preflight, {} cases, {} shrinking, {} cleanup; {} creates in all",
        phases.preflight, phases.cases, phases.shrinking, phases.cleanup, report.creates_sent
    );
    if let Some(line) = shrink_skipped_line(report) {
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
    let _ = writeln!(out, "{}", summary_line(report));
    text::escape_keeping_lines(&secrets.redact(&out)).into_owned()
}

/// The closing line. `failures` counts the failures that fail the run: known ones (baseline)
/// are said on the line before, so the line keeps its documented shape.
/// A run that did not judge every case it drew says so after `; `:
/// `summary: 3 cases, …, 1.20 s; incomplete: judged 3 of 2000 cases (1997 not judged: …)`.
pub fn summary_line(report: &Report) -> String {
    let mut line = format!(
        "summary: {}, {}, {}, {:.2} s",
        text::plural(report.cases, "case", "cases"),
        text::plural(report.requests, "request", "requests"),
        text::plural(report.new_failures(), "failure", "failures"),
        report.elapsed.as_secs_f64()
    );
    if let Some(judged) = report.judged_line() {
        let _ = write!(line, "; {judged}");
    }
    line
}

/// Where a run's coverage stands against CONTRACT.md's rules and their situations, computed
/// once for the summary and the full report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CoverageSummary {
    /// Every situation of every rule with how often it was asserted, in the table's order.
    pub rows: Vec<(Rule, &'static Situation, u64)>,
    /// Situations the run credited that the table does not list (a scenario naming a situation
    /// wrongly: a bug of the suite, shown rather than hidden).
    pub unknown: Vec<(Rule, &'static str)>,
}

impl CoverageSummary {
    pub fn of(report: &Report) -> CoverageSummary {
        let mut summary = CoverageSummary::default();
        for definition in coverage::RULES {
            for situation in definition.situations {
                let count = report
                    .coverage
                    .get(&(definition.rule, situation.name))
                    .copied()
                    .unwrap_or_default();
                summary.rows.push((definition.rule, situation, count));
            }
        }
        summary.unknown = report
            .coverage
            .keys()
            .filter(|(rule, name)| {
                !coverage::definition(*rule)
                    .situations
                    .iter()
                    .any(|s| s.name == *name)
            })
            .copied()
            .collect();
        summary
    }

    /// Situations the suite can reach.
    pub fn reachable(&self) -> usize {
        self.rows
            .iter()
            .filter(|(_, s, _)| s.unreachable.is_none())
            .count()
    }

    /// Reachable situations asserted at least once.
    pub fn asserted(&self) -> usize {
        self.rows
            .iter()
            .filter(|(_, s, n)| s.unreachable.is_none() && *n > 0)
            .count()
    }

    /// Reachable situations never asserted: the gaps.
    pub fn never(&self) -> Vec<(Rule, &'static Situation)> {
        self.rows
            .iter()
            .filter(|(_, s, n)| s.unreachable.is_none() && *n == 0)
            .map(|(r, s, _)| (*r, *s))
            .collect()
    }

    pub fn unreachable(&self) -> Vec<(Rule, &'static Situation, u64)> {
        self.rows
            .iter()
            .filter(|(_, s, _)| s.unreachable.is_some())
            .copied()
            .collect()
    }

    /// Rules asserted in every reachable situation they have.
    pub fn complete_rules(&self) -> usize {
        let never = self.never();
        Rule::ALL
            .iter()
            .filter(|rule| !never.iter().any(|(r, _)| r == *rule))
            .count()
    }
}

/// How many gaps the summary line names before pointing at the coverage file.
const GAPS_IN_SUMMARY: usize = 6;

/// The summary's coverage line: how many of the rules' situations the run asserted, and which
/// it never did.
pub fn coverage_line(report: &Report) -> String {
    let summary = CoverageSummary::of(report);
    let never = summary.never();
    let mut line = format!(
        "coverage: {} of {} situations asserted ({} of {} rules in every situation; {} unreachable)",
        summary.asserted(),
        summary.reachable(),
        summary.complete_rules(),
        Rule::ALL.len(),
        summary.unreachable().len(),
    );
    if !never.is_empty() {
        let named: Vec<String> = never
            .iter()
            .take(GAPS_IN_SUMMARY)
            .map(|(rule, s)| format!("{rule} {}", s.name))
            .collect();
        let _ = write!(line, "; never asserted: {}", named.join(", "));
        if never.len() > GAPS_IN_SUMMARY {
            let _ = write!(
                line,
                " and {} more (--coverage FILE lists them)",
                never.len() - GAPS_IN_SUMMARY
            );
        }
    }
    if !summary.unknown.is_empty() {
        let named: Vec<String> = summary
            .unknown
            .iter()
            .map(|(rule, name)| format!("{rule} {name}"))
            .collect();
        let _ = write!(
            line,
            "; credited but not in the situation table: {}",
            named.join(", ")
        );
    }
    if report.incomplete() {
        let _ = write!(
            line,
            "; from an incomplete run (judged {} of {} cases): situations its unjudged cases would have asserted may show as never",
            report.cases, report.drawn
        );
    }
    line
}

/// Markdown table cell text: a pipe would end the cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// The full coverage report as Markdown: per rule of CONTRACT.md, its situations with how often
/// a check asserted the rule in each; then the situations never asserted, and the unreachable
/// ones with why.
pub fn coverage_markdown(report: &Report, secrets: &Secrets) -> String {
    let summary = CoverageSummary::of(report);
    let mut out = String::new();
    let _ = writeln!(out, "# Contract coverage\n");
    if report.incomplete() {
        let _ = writeln!(
            out,
            "**Incomplete run**: judged {} of {}; the counts below are of the judged ones.\n",
            report.cases,
            text::plural(report.drawn, "case", "cases")
        );
    }
    let _ = writeln!(
        out,
        "{} (run tag {}). {}.\n",
        text::plural(report.cases, "case", "cases"),
        report.run_tag,
        coverage_line(report)
            .trim_start_matches("coverage: ")
            .split(';')
            .next()
            .unwrap_or_default()
    );
    let _ = writeln!(
        out,
        "A situation counts when a request was in it and a check compared what the rule demands of the response.\n"
    );
    let _ = writeln!(out, "| rule | situation | asserted | situation's text |");
    let _ = writeln!(out, "|---|---|---:|---|");
    for (rule, situation, count) in &summary.rows {
        let shown = match (situation.unreachable, count) {
            (Some(_), 0) => "unreachable".to_owned(),
            (_, n) => n.to_string(),
        };
        let _ = writeln!(
            out,
            "| `{rule}` | `{}` | {shown} | {} |",
            situation.name,
            cell(situation.text)
        );
    }
    let _ = writeln!(out, "\n## Never asserted\n");
    let never = summary.never();
    if never.is_empty() {
        let _ = writeln!(out, "None.");
    }
    for (rule, situation) in &never {
        let _ = writeln!(
            out,
            "- `{rule}` `{}`: {} ({})",
            situation.name,
            situation.text,
            rules::text(*rule)
        );
    }
    let _ = writeln!(out, "\n## Unreachable\n");
    for (rule, situation, count) in summary.unreachable() {
        let _ = writeln!(
            out,
            "- `{rule}` `{}`: {}: {} (asserted {count} times when it happened)",
            situation.name,
            situation.text,
            situation.unreachable.unwrap_or_default()
        );
    }
    if !summary.unknown.is_empty() {
        let _ = writeln!(out, "\n## Credited but not in the situation table\n");
        for (rule, name) in &summary.unknown {
            let _ = writeln!(out, "- `{rule}` `{name}`");
        }
    }
    secrets.redact(&out)
}

/// Writes [`coverage_markdown`] to `path` (`--coverage FILE`).
pub fn write_coverage(path: &Path, report: &Report, secrets: &Secrets) -> Result<(), RunError> {
    write_output(path, &coverage_markdown(report, secrets), secrets)
}

/// Every file a run writes goes through here: redacted once more, whatever the caller did.
pub(crate) fn write_output(path: &Path, text: &str, secrets: &Secrets) -> Result<(), RunError> {
    std::fs::write(path, secrets.redact(text)).map_err(|e| RunError::Output {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
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

/// The commit under test as the CI names it: `GIT_COMMIT` (Jenkins), else `GITHUB_SHA` (GitHub
/// Actions). See [`commit_from`].
pub fn commit_from_env() -> Option<String> {
    let var = |name| std::env::var(name).ok();
    commit_from(var("GIT_COMMIT").as_deref(), var("GITHUB_SHA").as_deref())
}

/// The first of `git_commit`, `github_sha` that is a commit id (4 to 64 hex digits, SHA-1 or
/// SHA-256, abbreviated or not); a value that is not one is left out rather than written into
/// the reports, where it would be text from outside the suite.
pub fn commit_from(git_commit: Option<&str>, github_sha: Option<&str>) -> Option<String> {
    [git_commit, github_sha]
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|c| (4..=64).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_owned)
}

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
pub fn junit_xml(report: &Report, checks: &[&str], secrets: &Secrets) -> String {
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
            let mut statuses: Vec<TestCaseStatus> = report
                .findings
                .iter()
                .enumerate()
                .filter(|(_, f)| f.operation == op && f.check == check)
                .map(|(i, f)| {
                    let message = format!(
                        "expected: {} / received: {}",
                        f.mismatch.expected, f.mismatch.received
                    );
                    let at = if f.group.is_empty() {
                        "(whole response)"
                    } else {
                        &f.group
                    };
                    let pointers = pointers_line(f).map_or(String::new(), |l| format!("{l}\n"));
                    let example = if f.mismatch.pointer == f.group {
                        String::new()
                    } else {
                        format!("example at {}\n", f.mismatch.pointer)
                    };
                    let detail = format!(
                        "at {at}\n{pointers}{example}{message}\nreproduce: {}",
                        f.curl
                    );
                    // A known failure is skipped, so JUnit's failures agree with the exit code.
                    if let Some(entry) = report.known(i) {
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
    let notes = client_notes(report);
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

#[cfg(test)]
mod tests {
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

    fn unproven(attempts: u32, logical_id: Option<&str>) -> crate::exchange::Unproven {
        crate::exchange::Unproven {
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
            mismatch: crate::exchange::Mismatch {
                pointer: pointer.into(),
                expected: "7".into(),
                received: received.into(),
            },
            request: crate::exchange::Request {
                operation: Operation::Create,
                method: "POST".into(),
                path_and_query: "/x".into(),
                content_type: None,
                body: crate::exchange::Body::Empty,
                auth: crate::exchange::Auth::Primary,
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
        report.client_notes = vec![crate::exchange::ClientLimit {
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
            .map(|i| crate::runner::PointerSeen {
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
            human.contains("    7 pointers: /simulation/x-unknown-0\\u{1b}[2K ×1, "),
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
