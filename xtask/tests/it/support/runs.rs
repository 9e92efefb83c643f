//! Runs of the built xtask that several tests read, each made once per test binary: every test
//! asserts its own thing about the same run instead of paying for an identical run of its own.

use std::sync::OnceLock;

use super::{temp_path, text, xtask};

/// What one xtask run printed and wrote.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// The files the run was asked to write, in the order its flags named them.
    pub files: Vec<String>,
}

/// Runs `xtask args… FLAG PATH…` (one temporary file per `(flag, name)` of `files`), reads the
/// files and removes them.
fn run(args: &[&str], files: &[(&str, &str)]) -> Run {
    let paths: Vec<_> = files.iter().map(|(_, name)| temp_path(name)).collect();
    let mut all: Vec<&str> = args.to_vec();
    for ((flag, _), path) in files.iter().zip(&paths) {
        all.push(flag);
        all.push(path.to_str().expect("a UTF-8 temporary path"));
    }
    let out = xtask(&all, None);
    let files = paths
        .iter()
        .map(|path| {
            let content = std::fs::read_to_string(path).unwrap_or_default();
            let _ = std::fs::remove_file(path);
            content
        })
        .collect();
    Run {
        code: out.status.code(),
        stdout: text(&out.stdout),
        stderr: text(&out.stderr),
        files,
    }
}

/// The default run against the embedded faithful server (2000 cases, every scenario), seed 1 so a
/// failure replays: `files[0]` is its coverage report, `files[1]` its JUnit XML. Read by the
/// coverage test, the clean-run test and the cleanup-cost test.
pub fn default_run() -> &'static Run {
    static RUN: OnceLock<Run> = OnceLock::new();
    RUN.get_or_init(|| {
        run(
            &["contract", "--seed", "1", "--no-regressions"],
            &[
                ("--coverage", "default-coverage.md"),
                ("--junit", "default-junit.xml"),
            ],
        )
    })
}

/// A run against the embedded server with `create-returns-201` on: every create fails, so 30
/// cases find it as 300 did (the same first finding, its reproducer and the same 300 requests of
/// shrinking), at a quarter of the CPU. `files[0]` is its Markdown summary. Read by the
/// reproducer test and the embedded-server note test.
pub fn create_returns_201_run() -> &'static Run {
    static RUN: OnceLock<Run> = OnceLock::new();
    RUN.get_or_init(|| {
        run(
            &[
                "contract",
                "--cases",
                "30",
                "--seed",
                "3",
                "--no-regressions",
                "--fault",
                "create-returns-201",
            ],
            &[("--summary-md", "create-returns-201.md")],
        )
    })
}
