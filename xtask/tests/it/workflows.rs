//! The GitHub workflows shipped in `.github/workflows/`: each parses as YAML, `ci.yml` runs `.ci/run`, and the QA gate keeps its keys in secrets, shards, uploads JUnit, writes the step summary and checks the spec; keys reach only the steps that run the built xtask, actions are pinned to commits, checkouts keep no credentials, and zizmor finds nothing.

use std::path::{Path, PathBuf};
use std::process::Command;

use yaml_rust2::{Yaml, YamlLoader};

const WORKFLOWS: [&str; 2] = ["ci.yml", "contract-qa.yml"];

fn workflows_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../.github/workflows")
}

fn workflow_text(name: &str) -> String {
    let path = workflows_dir().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

fn workflow(name: &str) -> Yaml {
    let text = workflow_text(name);
    let mut docs = YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(docs.len(), 1, "{name} holds one document");
    docs.remove(0)
}

/// Every step of every job, as (job name, step).
fn steps(doc: &Yaml) -> Vec<(String, Yaml)> {
    let jobs = doc["jobs"].as_hash().expect("jobs");
    jobs.iter()
        .flat_map(|(name, job)| {
            let name = name.as_str().unwrap_or_default().to_owned();
            job["steps"]
                .as_vec()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(move |step| (name.clone(), step))
        })
        .collect()
}

fn runs(doc: &Yaml) -> Vec<String> {
    steps(doc)
        .into_iter()
        .filter_map(|(_, step)| step["run"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn ci_runs_the_ci_script_on_pushes_and_pull_requests() {
    let ci = workflow("ci.yml");
    assert!(
        runs(&ci).iter().any(|r| r.trim() == "bash .ci/run"),
        "{:?}",
        runs(&ci)
    );
    let on = &ci["on"];
    assert!(!on["push"].is_badvalue() && !on["pull_request"].is_badvalue());
    assert_eq!(ci["jobs"]["ci"]["env"]["CI"].as_str(), Some("true"));
}

#[test]
fn the_qa_gate_runs_nightly_and_on_demand_sharded_with_keys_from_secrets() {
    let qa = workflow("contract-qa.yml");
    assert!(qa["on"]["schedule"][0]["cron"].as_str().is_some());
    assert!(!qa["on"]["workflow_dispatch"].is_badvalue());

    let suite = &qa["jobs"]["suite"];
    let shards = suite["strategy"]["matrix"]["shard"]
        .as_vec()
        .expect("a shard matrix");
    assert!(shards.len() >= 2);
    assert_eq!(
        qa["env"]["SHARDS"].as_i64(),
        Some(shards.len() as i64),
        "SHARDS is the matrix's size"
    );
    assert_eq!(suite["env"]["SHARD"].as_str(), Some("${{ matrix.shard }}"));
    let contract = steps(&qa)
        .into_iter()
        .find(|(_, s)| s["name"].as_str() == Some("contract suite"))
        .expect("a contract suite step")
        .1;
    for key in ["CONTRACT_TOKEN", "CONTRACT_OTHER_TEAM_TOKEN"] {
        let value = contract["env"][key].as_str().unwrap_or_default();
        assert_eq!(value, format!("${{{{ secrets.{key} }}}}"), "{key}");
    }
    let run = runs(&qa).join("\n");
    for needed in [
        "target/xtask/xtask contract",
        "--partition \"$SHARD/$SHARDS\"",
        "--junit",
        "--summary-md \"$GITHUB_STEP_SUMMARY\"",
        "target/xtask/xtask spec pull --check",
    ] {
        assert!(run.contains(needed), "{needed} in {run}");
    }
    assert!(!run.contains("--token"), "the key never travels as a flag");
    let uploads: Vec<String> = steps(&qa)
        .into_iter()
        .filter(|(_, s)| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/upload-artifact"))
        })
        .map(|(_, s)| s["with"]["path"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(
        uploads.iter().any(|p| p.ends_with(".xml")),
        "JUnit is uploaded: {uploads:?}"
    );
}

/// The spec job fails on breaking drift and on a fetch error, and lets drift that breaks
/// nothing pass with a warning annotation: its `run:` under bash, with `spec pull --check`
/// replaced by a stand-in that exits each of its codes.
#[test]
fn the_spec_job_passes_benign_drift_with_a_warning_and_fails_on_the_rest() {
    let qa = workflow("contract-qa.yml");
    let run = steps(&qa)
        .into_iter()
        .find(|(_, s)| s["name"].as_str() == Some("spec pull --check"))
        .and_then(|(_, s)| s["run"].as_str().map(str::to_owned))
        .expect("a spec pull --check step");
    for (code, job_exit, warns) in [
        (0, 0, false),
        (1, 1, false),
        (2, 2, false),
        (3, 0, true),
        (4, 4, false),
    ] {
        let script = format!(
            "xtask_stand_in() {{ return {code}; }}\n{}",
            run.replace("target/xtask/xtask spec pull --check", "xtask_stand_in")
        );
        let out = Command::new("bash")
            .args(["-e", "-o", "pipefail", "-c", &script])
            .output()
            .expect("bash runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(job_exit), "exit {code}: {stdout}");
        assert_eq!(
            stdout.lines().any(|l| l.starts_with("::warning ")),
            warns,
            "exit {code}: {stdout}"
        );
    }
}

/// Whether a value (a string, or anything under a mapping or a list) mentions `secrets.`.
fn mentions_secrets(value: &Yaml) -> bool {
    match value {
        Yaml::String(s) => s.contains("secrets."),
        Yaml::Hash(h) => h
            .iter()
            .any(|(k, v)| mentions_secrets(k) || mentions_secrets(v)),
        Yaml::Array(a) => a.iter().any(mentions_secrets),
        _ => false,
    }
}

#[test]
fn keys_reach_only_the_steps_that_run_the_built_xtask() {
    for name in WORKFLOWS {
        let doc = workflow(name);
        assert!(
            !mentions_secrets(&doc["env"]),
            "{name}: secrets in the workflow's env reach every step"
        );
        for (job_name, job) in doc["jobs"].as_hash().unwrap() {
            for (key, value) in job.as_hash().unwrap() {
                if key.as_str() != Some("steps") {
                    assert!(
                        !mentions_secrets(value),
                        "{name}: job {job_name:?} gives secrets to all its steps through {key:?}"
                    );
                }
            }
        }
        for (job, step) in steps(&doc) {
            let keyed = mentions_secrets(&step);
            if !keyed {
                continue;
            }
            // Only the step's env, only for a `run:` of the binary built in an earlier step:
            // never an action's inputs, never a cargo that would run build scripts with them.
            let mut rest = step.as_hash().unwrap().clone();
            rest.remove(&Yaml::String("env".into()));
            assert!(
                !mentions_secrets(&Yaml::Hash(rest)),
                "{name}/{job}: secrets outside a step's env: {step:?}"
            );
            let run = step["run"].as_str().unwrap_or_default();
            assert!(
                run.trim_start().starts_with("target/xtask/xtask ") && !run.contains("cargo"),
                "{name}/{job}: a keyed step runs only the built xtask: {run:?}"
            );
        }
        for (job, keyed) in steps(&doc).into_iter().filter(|(_, s)| mentions_secrets(s)) {
            let job_steps = doc["jobs"][job.as_str()]["steps"].as_vec().unwrap().clone();
            let at = job_steps.iter().position(|s| *s == keyed).unwrap();
            assert!(
                job_steps[..at]
                    .iter()
                    .any(|s| s["run"].as_str().is_some_and(
                        |r| r.contains("cargo build --profile xtask --package xtask --locked")
                    )),
                "{name}/{job}: xtask is built, without keys, before the keyed step"
            );
        }
    }
}

#[test]
fn every_action_is_pinned_to_a_commit_with_its_version_in_a_comment() {
    for name in WORKFLOWS {
        let text = workflow_text(name);
        let mut seen = 0;
        for line in text
            .lines()
            .filter(|l| l.trim_start().trim_start_matches("- ").starts_with("uses:"))
        {
            seen += 1;
            let reference = line.split("uses:").nth(1).unwrap().trim();
            let (action, rest) = reference.split_once('@').expect("owner/repo@ref");
            let (sha, comment) = rest.split_once(" # ").unwrap_or((rest, ""));
            assert!(action.contains('/'), "{name}: {line}");
            assert!(
                sha.len() == 40 && sha.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
                "{name}: not pinned to a full commit SHA: {line}"
            );
            assert!(!comment.trim().is_empty(), "{name}: which version: {line}");
        }
        let parsed = steps(&workflow(name))
            .iter()
            .filter(|(_, s)| s["uses"].as_str().is_some())
            .count();
        assert_eq!(
            seen, parsed,
            "{name}: every `uses:` is on a line of its own"
        );
    }
}

#[test]
fn every_checkout_leaves_no_credentials_behind() {
    for name in WORKFLOWS {
        for (job, step) in steps(&workflow(name)) {
            if step["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/checkout@"))
            {
                assert_eq!(
                    step["with"]["persist-credentials"].as_bool(),
                    Some(false),
                    "{name}/{job}: {step:?}"
                );
            }
        }
    }
}

#[test]
fn ci_stops_before_any_checkout_when_shared_repository_is_unset() {
    let ci = workflow("ci.yml");
    let steps = ci["jobs"]["ci"]["steps"].as_vec().unwrap();
    let first_checkout = steps
        .iter()
        .position(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/checkout@"))
        })
        .unwrap();
    let guard = steps[..first_checkout]
        .iter()
        .find(|s| s["env"]["SHARED_REPOSITORY"].as_str() == Some("${{ vars.SHARED_REPOSITORY }}"))
        .expect("a step before the checkouts that reads vars.SHARED_REPOSITORY");
    // The guard's script, run as the runner would with the variable empty and set.
    let script = guard["run"].as_str().unwrap();
    for (value, code) in [("", 1), ("team/shared", 0)] {
        let out = Command::new("bash")
            .args(["-e", "-c", script])
            .env("SHARED_REPOSITORY", value)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(code), "SHARED_REPOSITORY={value:?}");
        if code == 1 {
            let said = String::from_utf8_lossy(&out.stdout);
            assert!(
                said.starts_with("::error::") && said.contains("SHARED_REPOSITORY"),
                "{said}"
            );
        }
    }
}

/// zizmor from .github/zizmor-requirements.txt (pinned by hash) in target/zizmor-venv, made once.
fn zizmor() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let requirements = root.join(".github/zizmor-requirements.txt");
    let pinned = std::fs::read_to_string(&requirements)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("zizmor=="))
        .map(|v| v.trim_end_matches(['\\', ' ']).to_owned())
        .expect("zizmor==VERSION");
    let venv = root.join("target/zizmor-venv");
    let zizmor = venv.join("bin/zizmor");
    let version = || {
        Command::new(&zizmor)
            .arg("--version")
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    if version().as_deref() == Some(format!("zizmor {pinned}").as_str()) {
        return zizmor;
    }
    let run = |command: &mut Command| {
        let out = command
            .env_remove("CONTRACT_TOKEN")
            .env_remove("CONTRACT_OTHER_TEAM_TOKEN")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{command:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(Command::new("python3")
        .args(["-m", "venv", "--clear"])
        .arg(&venv));
    run(Command::new(venv.join("bin/pip"))
        .args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-input",
        ])
        .args(["--require-hashes", "-r"])
        .arg(&requirements));
    assert_eq!(version(), Some(format!("zizmor {pinned}")));
    zizmor
}

#[test]
fn zizmor_finds_nothing_in_the_workflows() {
    let out = Command::new(zizmor())
        // Offline: no GitHub API, no token; the audits that need neither all run.
        .args(["--offline", "--no-progress", "--color", "never"])
        .arg(workflows_dir())
        .env_remove("GH_TOKEN")
        .env_remove("GITHUB_TOKEN")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "zizmor ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
