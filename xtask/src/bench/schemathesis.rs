//! Schemathesis for the race: the pinned version in target/bench-venv, checked against what `st --version` says, one run as a command, and the failure signatures of its NDJSON report.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use reference_server::DEV_KEY;
use serde_json::Value;

use super::model::{RaceRun, Signature, Tool};
use crate::child_env;
use crate::codegen::workspace_root;

/// The version the race is pinned to: a newer one may change checks and counts.
pub const PINNED: &str = "4.32.5";

/// `st` from a virtualenv under `target/` holding the pinned version, made or repaired once;
/// returns it with the version it reports.
pub fn install() -> Result<(PathBuf, String)> {
    let venv = workspace_root().join("target/bench-venv");
    let st = venv.join("bin/st");
    if let Ok(version) = version(&st)
        && version == PINNED
    {
        return Ok((st, version));
    }
    if !venv.join("bin/pip").exists() {
        let python = ["python3", "python"]
            .into_iter()
            .find(|p| {
                child_env::command(p)
                    .arg("--version")
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success())
            })
            .ok_or_else(|| anyhow!("Python is missing, so Schemathesis cannot run here"))?;
        let made = child_env::command(python)
            .args(["-m", "venv"])
            .arg(&venv)
            .status()?;
        if !made.success() {
            bail!("python3 -m venv failed");
        }
    }
    // Every dependency pinned by hash (bench/schemathesis-requirements.txt): an unpinned
    // resolve would change the race's tool under it, and a substituted file would run here.
    let requirements = workspace_root().join("bench/schemathesis-requirements.txt");
    let pip = child_env::command(venv.join("bin/pip"))
        .args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-input",
        ])
        .args(["--require-hashes", "-r"])
        .arg(&requirements)
        .status()?;
    if !pip.success() {
        bail!(
            "pip could not install {} (schemathesis=={PINNED})",
            requirements.display()
        );
    }
    let version = version(&st)?;
    if version != PINNED {
        bail!("target/bench-venv has Schemathesis {version}, not the pinned {PINNED}");
    }
    Ok((st, version))
}

/// The version `st --version` prints (`st, version 4.32.5`).
fn version(st: &Path) -> Result<String> {
    let output = child_env::command(st)
        .arg("--version")
        .output()
        .with_context(|| format!("cannot run {}", st.display()))?;
    let text = String::from_utf8_lossy(&output.stdout);
    text.trim()
        .rsplit_once("version ")
        .map(|(_, v)| v.trim().to_owned())
        .ok_or_else(|| {
            anyhow!(
                "`st --version` printed {}",
                contract_tests::text::quoted(text.trim())
            )
        })
}

/// The arguments of a run, the URL and key left out: the report quotes them.
pub fn arguments(max_examples: u64, seed: u64, workers: usize) -> Vec<String> {
    [
        "--max-examples",
        &max_examples.to_string(),
        "--seed",
        &seed.to_string(),
        "--workers",
        &workers.to_string(),
        // Its example database would replay earlier runs' failures into later ones.
        "--generation-database",
        "none",
        "--no-color",
    ]
    .map(str::to_owned)
    .to_vec()
}

/// One `st run` against `base_url`, timed from process start to exit.
pub fn run(
    st: &Path,
    base_url: &str,
    fault: Option<&str>,
    max_examples: u64,
    seed: u64,
    workers: usize,
) -> Result<RaceRun> {
    let target = workspace_root().join("target");
    let ndjson = target.join(format!("bench-st-{}.ndjson", std::process::id()));
    let started = Instant::now();
    let output = child_env::command(st)
        .arg("run")
        .arg(workspace_root().join("spec/openapi.json"))
        .args([
            "--url",
            base_url,
            "--header",
            &format!("Authorization: Bearer {DEV_KEY}"),
        ])
        .args(arguments(max_examples, seed, workers))
        .args(["--report", "ndjson", "--report-ndjson-path"])
        .arg(&ndjson)
        .env("SCHEMATHESIS_TELEMETRY", "false")
        // Its cache directory lands in the working directory; keep it out of the tree.
        .current_dir(&target)
        .stdin(Stdio::null())
        .output()
        .context("cannot run schemathesis")?;
    let command_wall = started.elapsed();
    // Exit code 1 is "failures found"; anything else is a run that did not happen.
    if !matches!(output.status.code(), Some(0 | 1)) {
        bail!(
            "schemathesis exited with {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let events = std::fs::read_to_string(&ndjson)
        .with_context(|| format!("schemathesis wrote no report at {}", ndjson.display()))?;
    let _ = std::fs::remove_file(&ndjson);
    let report = read_events(&events)?;
    Ok(RaceRun {
        tool: Tool::Schemathesis,
        fault: fault.map(str::to_owned),
        seed,
        concurrency: workers,
        cases: test_cases_reported(&String::from_utf8_lossy(&output.stdout))
            .ok_or_else(|| anyhow!("schemathesis printed no \"N generated\" count"))?,
        requests: Some(report.requests),
        command_wall,
        reported: report.running_time,
        signatures: report.signatures,
    })
}

/// N from Schemathesis' summary, where a "Test cases:" line is followed by "N generated, …".
pub fn test_cases_reported(text: &str) -> Option<u64> {
    text.lines()
        .skip_while(|l| !l.trim_start().starts_with("Test cases"))
        .find_map(|l| {
            l.split_whitespace()
                .zip(l.split_whitespace().skip(1))
                .find(|(_, next)| next.starts_with("generated"))
                .and_then(|(n, _)| n.parse().ok())
        })
}

/// What one NDJSON report says.
#[derive(Debug, Default, PartialEq)]
pub struct Events {
    /// Interactions recorded, one per request sent.
    pub requests: u64,
    /// `EngineFinished.running_time`: the run as Schemathesis times it.
    pub running_time: Option<Duration>,
    pub signatures: BTreeSet<Signature>,
}

/// Reads the events Schemathesis writes with `--report ndjson`, one JSON object a line.
pub fn read_events(text: &str) -> Result<Events> {
    let mut out = Events::default();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let event: Value = serde_json::from_str(line).context("a line of the NDJSON report")?;
        if let Some(time) = event["EngineFinished"]["running_time"].as_f64() {
            out.running_time = Duration::try_from_secs_f64(time).ok();
        }
        let recorder = &event["ScenarioFinished"]["recorder"];
        if let Some(interactions) = recorder["interactions"].as_object() {
            out.requests += interactions.len() as u64;
        }
        let Some(cases) = recorder["checks"].as_object() else {
            continue;
        };
        for check in cases.values().filter_map(Value::as_array).flatten() {
            let failure = &check["failure_info"]["failure"];
            if check["status"] != "failure" || failure.is_null() {
                continue;
            }
            let text = |key: &str| failure[key].as_str().unwrap_or_default().to_owned();
            out.signatures.insert(Signature {
                check: format!("{} {}", text("code"), text("title")),
                operation: text("operation"),
                location: location(&text("message")),
            });
        }
    }
    Ok(out)
}

/// The part of a failure message that says where: Schemathesis' "Invalid component" line.
fn location(message: &str) -> Option<String> {
    message
        .lines()
        .find_map(|l| l.trim().strip_prefix("Invalid component: "))
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_requirements_pin_the_race_version_and_hash_every_package() {
        let text = include_str!("../../../bench/schemathesis-requirements.txt");
        let joined = text.replace("\\\n", " ");
        let requirements: Vec<&str> = joined
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .collect();
        assert!(
            requirements
                .iter()
                .any(|l| l.starts_with(&format!("schemathesis=={PINNED} "))),
            "{requirements:?}"
        );
        for line in requirements {
            let (pin, hashes) = line.split_once(' ').unwrap_or((line, ""));
            assert!(pin.contains("=="), "pinned exactly: {line}");
            assert!(hashes.contains("--hash=sha256:"), "hashed: {line}");
        }
    }

    #[test]
    fn reads_the_test_case_count_from_the_summary() {
        let summary = "Failures:\n  x: 1\n\nTest cases:\n  605 generated, 3 found 3 unique failures, 10 skipped\n\nSeed: 1\n";
        assert_eq!(test_cases_reported(summary), Some(605));
        assert_eq!(test_cases_reported("no summary"), None);
    }

    #[test]
    fn reads_signatures_requests_and_running_time_from_the_events() {
        // Shaped like Schemathesis 4.32.5's NDJSON report, cut to the fields read.
        let events = r#"{"Initialize": {"schemathesis_version": "4.32.5", "seed": 1}}
{"ScenarioFinished": {"recorder": {"label": "POST /x", "interactions": {"a": {}, "b": {}}, "checks": {"c1": [{"name": "negative_data_rejection", "status": "failure", "failure_info": {"failure": {"code": "ST201", "operation": "POST /x", "title": "Schema-violating request accepted", "message": "Invalid data should have been rejected\nExpected: 422\nInvalid component: in body - timeout_seconds: Incorrect type"}}}, {"name": "not_a_server_error", "status": "success", "failure_info": null}]}}}}
{"ScenarioFinished": {"recorder": {"interactions": {"c": {}}, "checks": {"c2": [{"name": "not_a_server_error", "status": "failure", "failure_info": {"failure": {"code": "ST101", "operation": "GET /x", "title": "Server error", "message": "Server error"}}}]}}}}
{"EngineFinished": {"running_time": 2.5}}
"#;
        let read = read_events(events).unwrap();
        assert_eq!(read.requests, 3);
        assert_eq!(read.running_time, Some(Duration::from_millis(2500)));
        let signatures: Vec<Signature> = read.signatures.into_iter().collect();
        assert_eq!(
            signatures,
            [
                Signature {
                    check: "ST101 Server error".into(),
                    operation: "GET /x".into(),
                    location: None,
                },
                Signature {
                    check: "ST201 Schema-violating request accepted".into(),
                    operation: "POST /x".into(),
                    location: Some("in body - timeout_seconds: Incorrect type".into()),
                },
            ]
        );
    }
}
