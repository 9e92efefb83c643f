//! Every command's help, as `cargo xtask … --help` prints it, against a snapshot in `tests/help/` (`EXPECTORATE=overwrite` rewrites them): exit 0, and the suite's commands answer before any release build.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn xtask(args: &[&str]) -> (Output, Duration) {
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .env("XTASK_ALLOW_DEBUG", "1")
        .env_remove("CONTRACT_TOKEN")
        .env_remove("CONTRACT_OTHER_TEAM_TOKEN")
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
    expectorate::assert_contents(format!("tests/help/{file}.txt"), &stdout);
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
    for command in ["contract", "mutants", "bench"] {
        let text = help(&[command, "--help"], command);
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
        ] {
            assert!(text.contains(needle), "{command}: {needle}");
        }
        // Only the commands that hand over to a release build have a way to stay on this one.
        assert_eq!(
            text.contains("XTASK_ALLOW_DEBUG"),
            command != "contract",
            "{command}"
        );
        // The key is environment-only: never an option.
        assert!(
            !text.contains("--token") && !text.contains("--api-key"),
            "{text}"
        );
    }
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
