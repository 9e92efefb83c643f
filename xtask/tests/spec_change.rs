//! A spec that grew a field the suite cannot model still runs: the field gets the generic checks and one warning line, never an exit 2.

mod support;

use std::path::PathBuf;

use support::{text, xtask};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/spec-change/{name}"))
}

const TAGS_WARNING: &str =
    "warning: simulation_config.tags: type array is not modelled; it gets the generic checks only";

/// `spec diff` calls the change non-breaking, so the gate must not turn red on it.
#[test]
fn an_optional_array_field_is_a_non_breaking_change() {
    let stored = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../spec/openapi.json");
    let new = fixture("tags-array.json");
    let out = xtask(
        &[
            "spec",
            "diff",
            stored.to_str().unwrap(),
            new.to_str().unwrap(),
        ],
        None,
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("/tags: optional property added"),
        "{stdout}"
    );
    assert!(!stdout.contains("BREAKING"), "{stdout}");
}

#[test]
fn a_spec_with_an_unmodellable_field_runs_clean_with_one_warning() {
    let spec = fixture("tags-array.json");
    let out = xtask(
        &[
            "contract",
            "--spec",
            spec.to_str().unwrap(),
            "--cases",
            "300",
            "--seed",
            "11",
            "--no-regressions",
            "--no-baseline",
            "--quiet",
        ],
        None,
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("warning:"))
        .collect();
    assert_eq!(warnings, [TAGS_WARNING], "{stderr}");
    assert!(stdout.contains("summary: 300 cases"), "{stdout}");
}

/// The warnings reach the JSON summary, which CI reads, as well as stderr.
#[test]
fn the_json_summary_carries_the_warnings() {
    let spec = fixture("tags-array.json");
    let out = xtask(
        &[
            "contract",
            "--spec",
            spec.to_str().unwrap(),
            "--cases",
            "50",
            "--seed",
            "5",
            "--no-regressions",
            "--no-baseline",
            "--quiet",
            "--message-format",
            "json",
        ],
        None,
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    let summary: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(
        summary["warnings"],
        serde_json::json!([TAGS_WARNING.trim_start_matches("warning: ")]),
        "{summary}"
    );
}

/// A spec the suite cannot use at all is still a run not made.
#[test]
fn a_spec_without_the_operations_is_still_exit_2() {
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("tags-array.json")).unwrap())
            .unwrap();
    doc["paths"]
        .as_object_mut()
        .unwrap()
        .retain(|p, _| !p.contains('{'));
    let path = support::temp_path("no-item-path.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    let out = xtask(
        &[
            "contract",
            "--spec",
            path.to_str().unwrap(),
            "--cases",
            "5",
            "--no-regressions",
        ],
        None,
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(support::error_lines(&stderr).len(), 1, "{stderr}");
}
