//! `cargo xtask contract --coverage FILE` on a default run against the embedded reference server: every rule of CONTRACT.md exercised, on every side it has.

use std::path::PathBuf;
use std::process::Command;

use contract_tests::rules;

/// One row of the coverage file: the rule's id, its positive count, and its negative count
/// (`None` where the rule has no negative side, written `—`).
fn rows(markdown: &str) -> Vec<(String, u64, Option<u64>)> {
    markdown
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.strip_prefix("| `")?.split(" | ").collect();
            let id = cells.first()?.strip_suffix('`')?;
            let positive = cells.get(1)?.parse().ok()?;
            let negative = match *cells.get(2)? {
                "—" => None,
                n => Some(n.parse().ok()?),
            };
            Some((id.to_owned(), positive, negative))
        })
        .collect()
}

#[test]
fn a_default_run_exercises_every_rule_on_every_side_it_has() {
    let path: PathBuf =
        std::env::temp_dir().join(format!("xtask-coverage-{}.md", std::process::id()));
    // The default run: 2000 cases, every scenario; seed 1 so a failure replays.
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["contract", "--seed", "1", "--no-regressions", "--coverage"])
        .arg(&path)
        // The debug build the tests already have runs the same code: no release build in tests.
        .env("XTASK_ALLOW_DEBUG", "1")
        .env_remove("CONTRACT_TOKEN")
        .env_remove("CONTRACT_OTHER_TEAM_TOKEN")
        .output()
        .expect("xtask runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout
        .lines()
        .find(|l| l.starts_with("coverage: "))
        .unwrap_or_else(|| panic!("no coverage line in the summary: {stdout}"));
    let markdown = std::fs::read_to_string(&path).expect("the coverage file");
    std::fs::remove_file(&path).unwrap();

    let rows = rows(&markdown);
    let ids: Vec<&str> = rows.iter().map(|(id, _, _)| id.as_str()).collect();
    let contract: Vec<String> = rules::all().into_iter().map(|r| r.id).collect();
    assert_eq!(
        ids, contract,
        "one row per rule of CONTRACT.md:\n{markdown}"
    );

    let mut missing = Vec::new();
    for (id, positive, negative) in &rows {
        if *positive == 0 {
            missing.push(format!("{id} (positive)"));
        }
        if *negative == Some(0) {
            missing.push(format!("{id} (negative)"));
        }
    }
    assert!(
        missing.is_empty(),
        "a default run (seed 1) leaves {} rule side(s) unexercised:\n  {}\n{line}\n\n{markdown}",
        missing.len(),
        missing.join("\n  ")
    );
    assert!(
        markdown.contains("## Never exercised\n\nNone."),
        "{markdown}"
    );
}
