//! Helpers the xtask integration tests share: running the built xtask, temporary paths, and reading a team straight from a server.

// Each test binary compiles this module and uses a part of it.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

/// Runs the built xtask with only `token` as `CONTRACT_TOKEN` (no other key from the caller's
/// environment). `mutants` and `bench` run from the debug build the tests already have, too,
/// instead of handing over to a release build.
pub fn xtask(args: &[&str], token: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command
        .args(args)
        .env("XTASK_ALLOW_DEBUG", "1")
        .env_remove("CONTRACT_TOKEN")
        .env_remove("CONTRACT_OTHER_TEAM_TOKEN");
    if let Some(token) = token {
        command.env("CONTRACT_TOKEN", token);
    }
    command.output().expect("xtask runs")
}

/// A path in the temporary directory unique to this test binary and process.
pub fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "xtask-{}-{}-{name}",
        env!("CARGO_CRATE_NAME"),
        std::process::id()
    ))
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The ids a key's team holds, read straight from the server.
pub async fn team_ids(base_url: &str, key: &str) -> Vec<String> {
    let body: serde_json::Value = reqwest::Client::new()
        .get(format!("{base_url}/workflows/v1/simulations?size=1000"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["simulations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["_id"].as_str().unwrap().to_owned())
        .collect()
}
