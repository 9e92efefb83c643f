//! The one model every output renders: each finding as the outputs tell it ([`FindingView`]), the sentences they share (the shrink budget, the create cap, the gateway, the closing `summary:` line, coverage, client notes) and the commit under test. Renderers format; they derive no fact of their own.

use std::fmt::Write as _;

use crate::baseline::Entry;
use crate::coverage::{self, Situation};
use crate::rules::Rule;
use crate::runner::{Finding, OperationStats, Report};
use crate::spec::Operation;
use crate::text;

/// How many unproven creates the summary describes one by one.
pub(super) const UNPROVEN_SHOWN: usize = 5;
/// How many of a group's exact pointers every output lists; the rest are counted.
pub(crate) const POINTERS_SHOWN: usize = 5;

/// One finding as every output tells it: its number, whether a baseline knows it, where it is,
/// how far it spread and what happened to it after it was found. Values from outside the suite
/// stay raw here; each renderer escapes them its own way.
pub(super) struct FindingView<'r> {
    /// The number the terminal gives it (`FAIL 3.`), 1-based, the same in every output.
    pub number: usize,
    pub finding: &'r Finding,
    pub known: Option<&'r Entry>,
}

impl<'r> FindingView<'r> {
    /// Where the finding is: its group's pointer, or `(whole response)`.
    pub fn at(&self) -> &'r str {
        if self.finding.group.is_empty() {
            "(whole response)"
        } else {
            &self.finding.group
        }
    }

    /// `3 pointers, 5 occurrences: /a/x ×2, /a/y ×1, …`, at most [`POINTERS_SHOWN`] pointers,
    /// each passed through `escape`; `None` for a group of one pointer.
    pub fn spread(&self, escape: impl Fn(&str) -> String) -> Option<String> {
        let f = self.finding;
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
            "{} pointers, {}: {}{}",
            f.pointers.len(),
            text::plural(f.occurrences, "occurrence", "occurrences"),
            shown.join(", "),
            if f.pointers.len() > POINTERS_SHOWN {
                ", …"
            } else {
                ""
            }
        ))
    }

    /// The example's exact pointer, when it is not the group's own.
    pub fn example(&self) -> Option<&'r str> {
        let f = self.finding;
        (f.mismatch.pointer != f.group).then_some(f.mismatch.pointer.as_str())
    }

    /// What happened after the finding was made: shrunk, not shrunk and why, flaky, or found
    /// by the cleanup.
    pub(crate) fn history(&self) -> String {
        let f = self.finding;
        if f.seed_hex.is_empty() {
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
        }
    }
}

/// Every finding of the run, numbered as every output numbers them.
pub(super) fn findings(report: &Report) -> impl Iterator<Item = FindingView<'_>> {
    report
        .findings
        .iter()
        .enumerate()
        .map(|(i, finding)| FindingView {
            number: i + 1,
            finding,
            known: report.known(i),
        })
}

/// The operations the run sent requests to, in the spec's order, with their numbers.
pub(super) fn operations(report: &Report) -> impl Iterator<Item = (Operation, &OperationStats)> {
    Operation::ALL
        .into_iter()
        .filter_map(|op| report.per_operation.get(&op).map(|stats| (op, stats)))
}

/// `shrink budget: 12 findings not shrunk, 1 stopped early; rerun with --shrink all to shrink
/// them`; `None` when the budget left nothing undone.
pub(crate) fn shrink_skipped_line(report: &Report) -> Option<String> {
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

/// What the infrastructure did, when it did anything: 429s waited out, failures a retry
/// recovered from (per kind), ambiguous writes, cases given up. None of it is a violation.
pub(super) fn gateway_line(report: &Report) -> Option<String> {
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
pub(crate) fn create_cap_line(report: &Report) -> Option<String> {
    (report.skipped_for_create_cap > 0).then(|| {
        format!(
            "skipped {} at the --max-creates cap",
            text::plural(report.skipped_for_create_cap, "scenario", "scenarios")
        )
    })
}

/// The closing line. `failures` counts the failures that fail the run: known ones (baseline)
/// are said on the line before, so the line keeps its documented shape.
/// A run that did not judge every case it drew says so after `; `:
/// `summary: 3 cases, …, 1.20 s; incomplete: judged 3 of 2000 cases (1997 not judged: …)`.
pub(crate) fn summary_line(report: &Report) -> String {
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
pub(crate) struct CoverageSummary {
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
    pub(crate) fn complete_rules(&self) -> usize {
        let never = self.never();
        Rule::ALL
            .iter()
            .filter(|rule| !never.iter().any(|(r, _)| r == *rule))
            .count()
    }
}

/// How many gaps the summary line names before pointing at the coverage file.
pub(super) const GAPS_IN_SUMMARY: usize = 6;

/// The summary's coverage line: how many of the rules' situations the run asserted, and which
/// it never did.
pub(crate) fn coverage_line(report: &Report) -> String {
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

/// One line per value the generated client cannot hold, list indexes folded so a page of them
/// reads as one note. They never change the exit code: FastAPI stores integers of any size.
pub(crate) fn client_notes(report: &Report) -> Vec<String> {
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
pub(crate) fn commit_from(git_commit: Option<&str>, github_sha: Option<&str>) -> Option<String> {
    [git_commit, github_sha]
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|c| (4..=64).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_owned)
}
