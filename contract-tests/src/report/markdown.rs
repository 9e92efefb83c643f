//! Markdown: `--summary-md` (for `$GITHUB_STEP_SUMMARY`) and `--coverage FILE`, through one table writer. Every string from outside the suite (a server's keys and values, curl lines that carry drawn bodies, a baseline's reasons) is a code span or a fenced block whose fence it cannot close (see [`crate::text::code_span`]), with control characters escaped, so no server can add a heading, a quote, HTML or a table row.

use std::fmt::Write as _;
use std::path::Path;

use super::model::{self, CoverageSummary, coverage_line};
use super::write_output;
use crate::error::RunError;
use crate::redact::Secrets;
use crate::rules;
use crate::runner::{Report, Verdict};
use crate::text::{self, block_fence, code_span, escape};

/// How a column's cells sit.
#[derive(Clone, Copy)]
enum Align {
    Left,
    Right,
}

/// A GitHub-flavoured Markdown table: the header row, the alignment row and a row per
/// `rows` entry. Cells are written as given, except that a pipe, which would end the cell, is
/// escaped; callers escape or code-span text from outside first.
fn table(out: &mut String, columns: &[(&str, Align)], rows: impl IntoIterator<Item = Vec<String>>) {
    let line = |cells: &mut dyn Iterator<Item = String>| {
        let cells: Vec<String> = cells.collect();
        format!("| {} |", cells.join(" | "))
    };
    let _ = writeln!(
        out,
        "{}",
        line(&mut columns.iter().map(|(h, _)| (*h).to_owned()))
    );
    let aligns: Vec<&str> = columns
        .iter()
        .map(|(_, a)| match a {
            Align::Left => "---",
            Align::Right => "---:",
        })
        .collect();
    let _ = writeln!(out, "|{}|", aligns.join("|"));
    for row in rows {
        let _ = writeln!(out, "{}", line(&mut row.iter().map(|c| cell(c))));
    }
}

/// Markdown table cell text: a pipe would end the cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// `--summary-md`: a verdict, the run's numbers, the per-operation table, each failure with
/// its curl line in a code block, known failures, baseline entries and the coverage line.
pub(crate) fn summary_markdown(report: &Report, secrets: &Secrets) -> String {
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
    if let Some(line) = model::create_cap_line(report) {
        let _ = writeln!(out, "{line}\n");
    }
    if let Some(line) = model::shrink_skipped_line(report) {
        let _ = writeln!(out, "{line}\n");
    }
    table(
        &mut out,
        &[
            ("operation", Align::Left),
            ("requests", Align::Right),
            ("statuses", Align::Left),
            ("failures by check", Align::Left),
        ],
        model::operations(report).map(|(op, stats)| {
            vec![
                format!("`{}`", op.id()),
                stats.requests.to_string(),
                escape(&stats.statuses_text()).into_owned(),
                escape(&stats.failures_text()).into_owned(),
            ]
        }),
    );
    let section = |title: &str, known: bool, out: &mut String| {
        let listed: Vec<_> = model::findings(report)
            .filter(|view| view.known.is_some() == known)
            .collect();
        if listed.is_empty() {
            return;
        }
        let _ = writeln!(out, "\n### {title}\n");
        for view in listed {
            let f = view.finding;
            let _ = writeln!(
                out,
                "**{}. `{}` on `{}` at {}**\n",
                view.number,
                f.check,
                f.operation.id(),
                code_span(view.at(), false)
            );
            if let Some(entry) = view.known {
                let _ = writeln!(
                    out,
                    "Known (baseline, until {}): {}\n",
                    entry.expires,
                    code_span(&entry.reason, false)
                );
            }
            // One value per line of the block: each escaped, so none adds a line of its own.
            let mut detail = String::new();
            if let Some(line) = view.spread(|p| escape(p).into_owned()) {
                let _ = writeln!(detail, "{line}");
            }
            if let Some(example) = view.example() {
                let _ = writeln!(detail, "example at {}", escape(example));
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
/// The full coverage report as Markdown: per rule of CONTRACT.md, its situations with how often
/// a check asserted the rule in each; then the situations never asserted, and the unreachable
/// ones with why.
pub(crate) fn coverage_markdown(report: &Report, secrets: &Secrets) -> String {
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
    table(
        &mut out,
        &[
            ("rule", Align::Left),
            ("situation", Align::Left),
            ("asserted", Align::Right),
            ("situation's text", Align::Left),
        ],
        summary.rows.iter().map(|(rule, situation, count)| {
            let shown = match (situation.unreachable, count) {
                (Some(_), 0) => "unreachable".to_owned(),
                (_, n) => n.to_string(),
            };
            vec![
                format!("`{rule}`"),
                format!("`{}`", situation.name),
                shown,
                situation.text.to_owned(),
            ]
        }),
    );
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
