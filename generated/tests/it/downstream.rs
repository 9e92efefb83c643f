//! The client as another team's crate sees it: a scratch crate outside this workspace, path-depending
//! on `generated/`, resolved offline with the workspace's `Cargo.lock`. The suite's serde_json
//! `arbitrary_precision` must not reach it (Cargo features unify across everything one build sees).
//!
//! The question is which features Cargo's resolver turns on for the scratch crate's serde_json,
//! so that is what this asks (`cargo tree`, about a second) instead of building the crate (a minute
//! of CPU: serde_json without the feature rebuilds everything above it). `.ci/run` builds the
//! client alone, on exactly those features, with `-D warnings`.

use std::path::{Path, PathBuf};
use std::process::Command;

const MAIN: &str = r#"//! Uses the client, as another team's program does.
use interactly_simulations_client as _;
fn main() {}
"#;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("generated/ lives in the workspace")
        .to_path_buf()
}

/// The features Cargo's resolver enables on serde_json for the package of `manifest` (`-p` one of
/// its workspace's members when given), as `cargo tree` prints them: `alloc,default,std`.
fn serde_json_features(manifest: &Path, package: Option<&str>) -> String {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .args(["tree", "--offline", "--manifest-path"])
        .arg(manifest)
        .args([
            "--edges",
            "normal",
            "--invert",
            "serde_json",
            "--depth",
            "0",
        ])
        .args(["--format", "{f}"]);
    if let Some(package) = package {
        command.args(["--package", package]);
    }
    let out = command.output().expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("cargo tree prints UTF-8")
        .trim()
        .to_owned()
}

fn features(list: &str) -> Vec<&str> {
    list.split(',').collect()
}

#[test]
fn a_downstream_crate_gets_plain_serde_json() {
    let root = workspace_root();
    let dir = std::env::temp_dir().join(format!("client-downstream-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let generated = root.join("generated");
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"downstream\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [dependencies]\ninteractly-simulations-client = {{ path = {generated:?} }}\nserde_json = \"1\"\n\n\
             [workspace]\n"
        ),
    )
    .unwrap();
    std::fs::write(dir.join("src/main.rs"), MAIN).unwrap();
    // The workspace's lock pins the same versions offline; cargo drops what the scratch crate
    // does not use.
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    let downstream = serde_json_features(&dir.join("Cargo.toml"), None);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        features(&downstream).contains(&"std"),
        "not serde_json's feature list: {downstream:?}"
    );
    assert!(
        !features(&downstream).contains(&"arbitrary_precision"),
        "the client turns on serde_json's arbitrary_precision for its users: {downstream}"
    );
}

/// The same question about the suite, which turns the feature on: the answer above is the
/// resolver's, not a query that cannot see the feature.
#[test]
fn the_suite_itself_gets_arbitrary_precision() {
    let root = workspace_root();
    let suite = serde_json_features(&root.join("Cargo.toml"), Some("contract-tests"));
    assert!(
        features(&suite).contains(&"arbitrary_precision"),
        "contract-tests decides numbers on their digits: {suite}"
    );
}
