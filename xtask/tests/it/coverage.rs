//! `cargo xtask contract --coverage FILE` on a default run against the embedded reference server: one row per situation of every rule, and every reachable situation asserted but the known gaps.

use crate::support;

use contract_tests::coverage::RULES;

/// Situations a default run does not reach yet, each with why. The test fails when another
/// one appears and when one of these is closed, so the list stays what the suite does.
const KNOWN_GAPS: &[(&str, &str, &str)] = &[];

/// One row of the coverage file: the rule, the situation and its count (`None` for an
/// unreachable situation that did not happen).
fn rows(markdown: &str) -> Vec<(String, String, Option<u64>)> {
    markdown
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.strip_prefix("| `")?.split(" | ").collect();
            let rule = cells.first()?.strip_suffix('`')?;
            let situation = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            let count = match *cells.get(2)? {
                "unreachable" => None,
                n => Some(n.parse().ok()?),
            };
            Some((rule.to_owned(), situation.to_owned(), count))
        })
        .collect()
}

#[test]
fn a_default_run_asserts_every_reachable_situation_but_the_known_gaps() {
    // The default run: 2000 cases, every scenario; seed 1 so a failure replays. Shared with
    // the clean-run and cleanup-cost tests.
    let run = support::runs::default_run();
    let stdout = &run.stdout;
    assert_eq!(
        run.code,
        Some(0),
        "stdout: {stdout}\nstderr: {}",
        run.stderr
    );
    let line = stdout
        .lines()
        .find(|l| l.starts_with("coverage: "))
        .unwrap_or_else(|| panic!("no coverage line in the summary: {stdout}"));
    let markdown = &run.files[0];

    let rows = rows(markdown);
    let listed: Vec<(&str, &str)> = rows
        .iter()
        .map(|(r, s, _)| (r.as_str(), s.as_str()))
        .collect();
    let table: Vec<(&str, &str)> = RULES
        .iter()
        .flat_map(|d| d.situations.iter().map(move |s| (d.rule.id(), s.name)))
        .collect();
    assert_eq!(listed, table, "one row per situation:\n{markdown}");

    let gaps: Vec<(&str, &str)> = rows
        .iter()
        .filter(|(_, _, count)| *count == Some(0))
        .map(|(r, s, _)| (r.as_str(), s.as_str()))
        .filter(|(r, s)| {
            // An unreachable situation that did not happen is not a gap.
            !RULES.iter().any(|d| {
                d.rule.id() == *r
                    && d.situations
                        .iter()
                        .any(|x| x.name == *s && x.unreachable.is_some())
            })
        })
        .collect();
    let known: Vec<(&str, &str)> = KNOWN_GAPS.iter().map(|(r, s, _)| (*r, *s)).collect();
    assert_eq!(
        gaps, known,
        "a default run (seed 1) leaves these situations unasserted:\n{line}\n\n{markdown}"
    );
    let never = markdown.split("## Never asserted").nth(1).unwrap();
    let never = never.split("##").next().unwrap();
    assert_eq!(
        never.lines().filter(|l| l.starts_with("- ")).count(),
        known.len(),
        "{markdown}"
    );
    let named: Vec<String> = known.iter().map(|(r, s)| format!("{r} {s}")).collect();
    if named.is_empty() {
        assert!(!line.contains("never asserted"), "{line}");
    } else {
        assert!(
            line.contains(&format!("; never asserted: {}", named.join(", "))),
            "{line}"
        );
    }
}
