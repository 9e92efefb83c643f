//! The GitHub workflows shipped in `.github/workflows/`: each parses as YAML, `ci.yml` runs `.ci/run`, and the QA gate keeps its keys in secrets, shards, uploads JUnit, writes the step summary and checks the spec.

use std::path::Path;

use yaml_rust2::{Yaml, YamlLoader};

fn workflow(name: &str) -> Yaml {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../.github/workflows")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
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
    for key in ["CONTRACT_TOKEN", "CONTRACT_OTHER_TEAM_TOKEN"] {
        let value = suite["env"][key].as_str().unwrap_or_default();
        assert_eq!(value, format!("${{{{ secrets.{key} }}}}"), "{key}");
    }
    let run = runs(&qa).join("\n");
    for needed in [
        "cargo xtask contract",
        "--partition \"${{ matrix.shard }}/$SHARDS\"",
        "--junit",
        "--summary-md \"$GITHUB_STEP_SUMMARY\"",
        "cargo xtask spec pull --check",
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
