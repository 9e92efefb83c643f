//! The client as another team's crate sees it: a scratch crate outside this workspace, path-depending
//! on `generated/`, built with the workspace's `Cargo.lock` and offline. The suite's serde_json
//! `arbitrary_precision` must not reach it (Cargo features unify across everything one build sees).

use std::path::{Path, PathBuf};
use std::process::Command;

const MAIN: &str = r#"//! Prints how serde_json behaves for a crate that only depends on the client.
use interactly_simulations_client as _;
fn main() {
    let a: serde_json::Value = serde_json::from_str("1.0").unwrap();
    let b: serde_json::Value = serde_json::from_str("1.00").unwrap();
    let big: serde_json::Value = serde_json::from_str("1e3").unwrap();
    println!("equal={} 1e3={big}", a == b);
}
"#;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("generated/ lives in the workspace")
        .to_path_buf()
}

#[test]
fn a_downstream_crate_reads_numbers_as_plain_serde_json() {
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
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    // This worktree's own target directory: the dependencies that do not change are built once.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let out = Command::new(cargo)
        .args(["run", "--quiet", "--offline", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", target)
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the downstream crate did not build or run: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.trim(), "equal=true 1e3=1000.0");
}
