//! `cargo test --workspace` after `cargo build --workspace` builds only what the tests add: no
//! dependency's features differ between the two, since a difference rebuilds that crate and every
//! crate above it (tokio's `test-util` once cost 61 of a test build's 107 CPU-s).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// Each package the workspace's build resolves, with the features Cargo turns on for it, as
/// `cargo tree` prints them (`tokio v1.54.1` → `bytes,default,…`); `edges` says whether the
/// dev-dependencies count, as they do for `cargo test`.
fn resolved(edges: &str) -> BTreeMap<String, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap())
        .args(["tree", "--offline", "--workspace", "--edges", edges])
        .args(["--prefix", "none", "--format", "{p}|{f}"])
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("cargo tree prints UTF-8")
        .lines()
        .filter_map(|line| line.trim_end_matches(" (*)").split_once('|'))
        // A path dependency prints its directory after the version; the name and version suffice.
        .map(|(package, features)| {
            let id = package.split(" (").next().unwrap_or(package).to_owned();
            (id, features.to_owned())
        })
        .collect()
}

#[test]
fn the_test_build_turns_on_no_feature_the_workspace_build_lacks() {
    let build = resolved("normal,build");
    let test = resolved("normal,build,dev");
    assert!(
        build.keys().any(|p| p.starts_with("tokio ")),
        "the tree lists tokio: {build:#?}"
    );
    let differing: Vec<String> = build
        .iter()
        .filter_map(|(package, features)| {
            let theirs = test.get(package)?;
            (theirs != features).then(|| format!("{package}: build [{features}], test [{theirs}]"))
        })
        .collect();
    assert!(
        differing.is_empty(),
        "the tests' dev-dependencies turn on features the build lacks, so `cargo test` rebuilds \
         these and every crate above them; name the features in a normal dependency or drop the \
         dev-dependency:\n{}",
        differing.join("\n")
    );
}
