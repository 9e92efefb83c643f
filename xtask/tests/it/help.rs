//! Every command's help, as `cargo xtask … --help` prints it, against a snapshot in `tests/help/` (`SNAPSHOTS=overwrite` rewrites them): exit 0, and the suite's commands answer before any release build.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn xtask(args: &[&str]) -> (Output, Duration) {
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .env("XTASK_ALLOW_DEBUG", "1")
        .env_remove("CONTRACT_TOKEN")
        .env_remove("CONTRACT_OTHER_TEAM_TOKEN")
        // Not a terminal: clap wraps at COLUMNS when set, else at 100 (the snapshots' width).
        .env_remove("COLUMNS")
        .output()
        .expect("xtask runs");
    (out, started.elapsed())
}

/// `args`' help printed on stdout with exit 0, nothing on stderr, and the snapshot `file`.
fn help(args: &[&str], file: &str) -> String {
    let (out, _) = xtask(args);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {stdout}{stderr}");
    assert!(stderr.is_empty(), "{args:?}: {stderr}");
    crate::support::snapshot::assert_snapshot(format!("tests/help/{file}.txt"), &stdout);
    stdout
}

#[test]
fn top_level() {
    let text = help(&["help"], "xtask");
    for command in [
        "generate", "spec", "contract", "mutants", "bench", "serve", "oracle",
    ] {
        assert!(
            text.contains(&format!("\n  {command} ")),
            "{command}: {text}"
        );
    }
    // `cargo xtask --help` prints the same.
    assert_eq!(xtask(&["--help"]).0.stdout, text.as_bytes());
}

#[test]
fn suite_commands_show_exit_codes_and_environment() {
    let text = help(&["contract", "--help"], "contract");
    for needle in [
        "Exit codes:",
        "  0  no violation",
        "  1  violations",
        "  2  the run could not be made",
        "  3  the target could not be tested",
        "CONTRACT_TOKEN",
        "CONTRACT_OTHER_TEAM_TOKEN",
        "CONTRACT_EXPECT_TEAM",
        "CONTRACT_EXPECT_USER",
        "NO_COLOR",
        "CLICOLOR_FORCE",
    ] {
        assert!(text.contains(needle), "contract: {needle}");
    }
    // `contract` runs in the build it was started from: no way to stay on it is needed.
    assert!(!text.contains("XTASK_ALLOW_DEBUG"), "{text}");
    // The key is environment-only: never an option.
    assert!(
        !text.contains("--token") && !text.contains("--api-key"),
        "{text}"
    );
}

/// `mutants` and `bench` say their own exit codes and environment, not the contract run's:
/// neither reads a key, and neither exits 3.
#[test]
fn mutants_and_bench_say_their_own_exit_codes_and_environment() {
    for (command, own) in [
        (
            "mutants",
            &[
                "  0  the faithful server passed on every seed and every fault was caught",
                "  1  the faithful server failed, a fault escaped, or a rule id has no fault",
                "  2  nothing could run",
                "NO_COLOR",
                "CLICOLOR_FORCE",
            ][..],
        ),
        (
            "bench",
            &[
                "  0  bench/RESULTS.md written",
                "  2  a measurement could not be made",
            ],
        ),
    ] {
        let text = help(&[command, "--help"], command);
        for needle in own
            .iter()
            .chain(&["Exit codes:", "XTASK_ALLOW_DEBUG", "CARGO_TARGET_DIR"])
        {
            assert!(text.contains(needle), "{command}: {needle}\n{text}");
        }
        for foreign in [
            "CONTRACT_TOKEN",
            "CONTRACT_OTHER_TEAM_TOKEN",
            "CONTRACT_EXPECT_TEAM",
            "CONTRACT_EXPECT_USER",
            "  3  ",
            "no violation",
        ] {
            assert!(!text.contains(foreign), "{command}: {foreign}\n{text}");
        }
    }
}

/// Every snapshot is help as a terminal of 100 columns or more shows it: no line is wider.
#[test]
fn no_help_line_is_wider_than_100_columns() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/help");
    let mut read = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "txt") {
            continue;
        }
        read += 1;
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in text.lines().enumerate() {
            assert!(
                line.chars().count() <= 100,
                "{}:{}: {} characters: {line}",
                path.display(),
                n + 1,
                line.chars().count()
            );
        }
    }
    assert!(read >= 11, "{read} snapshots in {}", dir.display());
}

/// Help follows the terminal's width (COLUMNS when not a terminal), and never goes past 100.
#[test]
fn help_wraps_to_the_terminal_width() {
    for (columns, widest) in [("60", 60), ("250", 100)] {
        let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["contract", "--help"])
            .env("COLUMNS", columns)
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert_eq!(out.status.code(), Some(0), "{text}");
        let longest = text.lines().map(|l| l.chars().count()).max().unwrap();
        assert!(longest <= widest, "COLUMNS={columns}: {longest}\n{text}");
        // Wrapped, not cut: every fault's name is still there whole.
        for fault in reference_server::Fault::ALL {
            assert!(text.contains(fault.name()), "{fault}");
        }
    }
}

/// `cargo xtask` alone is a command line without its command, as `cargo` alone is: the help on
/// stderr (stdout may be piped into something expecting a command's output) and exit 2.
#[test]
fn cargo_xtask_alone_prints_the_help_on_stderr_and_exits_2() {
    let (out, _) = xtask(&[]);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let (help, _) = xtask(&["help"]);
    assert_eq!(stderr, String::from_utf8(help.stdout).unwrap());
}

#[test]
fn contract_lists_the_faults_and_never_a_key_value() {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["contract", "--help"])
        .env("CONTRACT_TOKEN", "s3cret-help-key")
        .env("XTASK_ALLOW_DEBUG", "1")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("s3cret-help-key"), "{text}");
    for fault in reference_server::Fault::ALL {
        assert!(text.contains(fault.name()), "{fault}");
    }
}

#[test]
fn the_suites_help_answers_before_any_release_build() {
    // Without XTASK_ALLOW_DEBUG, mutants and bench in a debug xtask build xtask in release first;
    // help must not wait for that (minutes on 2 cores), nor show cargo's lines.
    for args in [
        &["contract", "--help"][..],
        &["mutants", "-h"],
        &["bench", "--help"],
        &["contract", "--version"],
    ] {
        let started = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(args)
            .env_remove("XTASK_ALLOW_DEBUG")
            .env_remove("XTASK_IN_RELEASE")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(
            !stderr.contains("Compiling")
                && !stderr.contains("Finished")
                && !stderr.contains("Blocking"),
            "{args:?}: {stderr}"
        );
        // A liveness bound only: a release build could not finish in it.
        assert!(started.elapsed() < Duration::from_secs(30), "{args:?}");
    }
    // An argument error is refused before the build too: one line, exit 2.
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["contract", "--cases", "0"])
        .env_remove("XTASK_ALLOW_DEBUG")
        .env_remove("XTASK_IN_RELEASE")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn other_commands() {
    help(&["serve", "--help"], "serve");
    help(&["oracle", "--help"], "oracle");
    help(&["generate", "--help"], "generate");
    help(&["spec", "--help"], "spec");
    help(&["spec", "diff", "--help"], "spec-diff");
    help(&["spec", "pull", "--help"], "spec-pull");
    help(&["spec", "fmt", "--help"], "spec-fmt");
}

#[test]
fn version() {
    let (out, _) = xtask(&["--version"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("xtask {}\n", env!("CARGO_PKG_VERSION"))
    );
}
