//! `cargo xtask mutants` through the binary: a selection of the catalog and of a blind round (`--oracle`), each fault with the first case that caught it, and the misconfigurations that run nothing (exit 2, one line).

use std::path::PathBuf;
use std::process::{Command, Output};

use reference_server::Fault;

fn mutants(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("mutants")
        .args(args)
        .args(["--color", "never"])
        .env("XTASK_ALLOW_DEBUG", "1")
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("xtask runs")
}

/// A directory of its own under the temporary directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("xtask-mutants-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn arg(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Exit 2 and one `error:` line containing `wanted`.
fn refused(out: &Output, wanted: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(stderr.contains(wanted), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing ran");
}

/// The line under `fault`'s row: the first case that caught it on `seed`, by `check`.
fn first_caught<'a>(stdout: &'a str, fault: &str, seed: u64, check: &str) -> &'a str {
    let row = stdout
        .lines()
        .position(|l| l.starts_with(&format!("{fault} ")))
        .unwrap_or_else(|| panic!("{fault}'s row: {stdout}"));
    let first = stdout.lines().nth(row + 1).unwrap();
    assert!(
        first.starts_with(&format!("    first caught: seed {seed}, case ")),
        "{first}"
    );
    assert!(first.contains(&format!(": {check} on ")), "{first}");
    first
}

/// The closing line of a run of `n` selected catalog faults, every one caught.
fn assert_all_selected_caught(stdout: &str, n: usize) {
    assert!(
        stdout.contains(&format!(
            "mutants: {n} of {} faults selected, {n} caught on every seed, 0 escaped on some seed; faithful server clean",
            Fault::ALL.len()
        )),
        "{stdout}"
    );
}

#[test]
fn a_selected_catalog_fault_prints_the_first_case_that_caught_it() {
    let out = mutants(&[
        "--faults",
        "wrong-default-max-events",
        "--seeds",
        "1",
        "--cases",
        "200",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let first = first_caught(
        &stdout,
        "wrong-default-max-events",
        1,
        "defaults_materialised",
    );
    assert!(first.ends_with(')'), "the request closes the line: {first}");
    assert_all_selected_caught(&stdout, 1);
    assert!(
        !stdout.contains("kill table"),
        "a selection has no kill table"
    );
}

#[test]
fn an_unknown_catalog_fault_runs_nothing() {
    refused(&mutants(&["--faults", "no-such-fault"]), "no-such-fault");
}

#[test]
fn an_oracle_dir_without_faults_md_runs_nothing() {
    let dir = Scratch::new("no-table");
    refused(&mutants(&["--oracle", dir.arg()]), "FAULTS.md");
}

#[test]
fn a_faults_md_naming_an_unknown_rule_runs_nothing() {
    let dir = Scratch::new("unknown-rule");
    std::fs::write(
        dir.0.join("FAULTS.md"),
        "| name | story | rules broken | probe |\n|---|---|---|---|\n| r9-01 | s | list.total, list.totally | p |\n",
    )
    .unwrap();
    std::fs::write(
        dir.0.join("serve.py"),
        "raise SystemExit('never started')\n",
    )
    .unwrap();
    refused(
        &mutants(&["--oracle", dir.arg()]),
        "line 3: r9-01 names \"list.totally\", which is not a rule id of CONTRACT.md",
    );
}

#[test]
fn a_fault_no_round_has_runs_nothing() {
    refused(
        &mutants(&[
            "--oracle",
            "oracle/faults/round1",
            "--faults",
            "r1-01,r2-01",
        ]),
        "\"r2-01\" is not a fault of the rounds given",
    );
}

#[test]
fn no_python_for_the_venv_runs_nothing() {
    let empty = Scratch::new("no-python");
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args([
            "mutants",
            "--oracle",
            "oracle/faults/round1",
            "--faults",
            "r1-01",
        ])
        .env("XTASK_ALLOW_DEBUG", "1")
        .env("PATH", &empty.0)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("xtask runs");
    refused(&out, "python3 is not installed");
}

#[test]
fn a_blind_round_rerun_catches_its_faults_and_says_with_which_case() {
    let out = mutants(&[
        "--oracle",
        "oracle/faults/round1",
        "--faults",
        "r1-16,r1-19",
        "--seed",
        "7",
        "--seeds",
        "1",
        "--cases",
        "300",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("(none: the faultless copy)         clean"),
        "{stdout}"
    );
    for (fault, check) in [("r1-16", "not_found"), ("r1-19", "auth_enforced")] {
        first_caught(&stdout, fault, 7, check);
    }
    assert_eq!(
        stdout.lines().last(),
        Some("round1: 2 of 2 caught (seeds 7)"),
        "{stdout}"
    );
    // The keys the suite sends are the oracle's public development keys; the caller's never
    // reach serve.py (the scrubbed environment) and nothing prints one.
    assert!(!stdout.contains("dev-key-team"), "{stdout}");
}

#[test]
fn a_missed_fault_and_one_whose_server_does_not_start_are_not_caught_and_say_why() {
    let dir = Scratch::new("round");
    let oracle = concat!(env!("CARGO_MANIFEST_DIR"), "/../oracle");
    std::fs::write(
        dir.0.join("FAULTS.md"),
        "| name | story | rules broken | probe |\n|---|---|---|---|\n\
         | r9-01 | no change at all | list.total | - |\n\
         | r9-02 | a copy that cannot start | list.window | - |\n",
    )
    .unwrap();
    // r9-01 is the faithful oracle itself; r9-02 stops before it listens.
    std::fs::write(
        dir.0.join("serve.py"),
        format!(
            "import os, runpy, sys\n\
             if os.environ.get('ORACLE_FAULT') == 'r9-02':\n    sys.exit('r9-02 cannot start')\n\
             sys.path.insert(0, {oracle:?})\n\
             runpy.run_path({serve:?}, run_name='__main__')\n",
            serve = format!("{oracle}/serve.py"),
        ),
    )
    .unwrap();
    let out = mutants(&["--oracle", dir.arg(), "--seeds", "1", "--cases", "30"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    let label = dir.0.file_name().unwrap().to_str().unwrap();
    assert_eq!(
        stdout.lines().last(),
        Some(format!("{label}: 0 of 2 caught (seeds 1)").as_str()),
        "{stdout}"
    );
    assert_eq!(stdout.matches("    never caught").count(), 2, "{stdout}");
    assert!(
        stderr.contains(&format!("{label} r9-01 seed 1: MISSED (no failure)")),
        "{stderr}"
    );
    let not_run = stderr
        .lines()
        .find(|l| l.starts_with(&format!("{label} r9-02 seed 1: MISSED (not run: ")))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(not_run.contains("stopped before listening"), "{not_run}");
    assert!(not_run.contains("r9-02 cannot start"), "{not_run}");
}

/// Issue 22: the run's own key where the contract does not read it, or in another letter case,
/// is refused by the contract; a server that reads `X-API-Key` too, or folds keys to lower case,
/// is caught by the refused keys the suite draws, with the check that judges 401s.
#[test]
fn a_key_read_from_another_header_or_compared_in_any_case_is_caught() {
    let out = mutants(&[
        "--faults",
        "api-key-header-accepted,keys-case-insensitive",
        "--seeds",
        "1",
        "--cases",
        "300",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    for fault in ["api-key-header-accepted", "keys-case-insensitive"] {
        first_caught(&stdout, fault, 1, "auth_enforced");
    }
    assert_all_selected_caught(&stdout, 2);
    assert!(
        !stdout.to_ascii_lowercase().contains("dev-key-team"),
        "{stdout}"
    );
}
