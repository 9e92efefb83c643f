//! The Dockerfile's facts, checked without a container tool (tests reach only loopback, and a
//! build pulls images): a multi-stage build of this binary with `--locked` on a toolchain the
//! workspace accepts, a runtime stage that runs it as a non-root user, listening inside on
//! 0.0.0.0 at the port it exposes, which is the port of the default `--addr`, and a context
//! that keeps what the build reads.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_path_buf()
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The Dockerfile's instructions, each as (keyword, arguments), continuation lines joined and
/// comments left out.
fn instructions() -> Vec<(String, String)> {
    let text = read("Dockerfile").replace("\\\n", " ");
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (keyword, rest) = l.split_once(char::is_whitespace).unwrap_or((l, ""));
            (keyword.to_ascii_uppercase(), rest.trim().to_owned())
        })
        .collect()
}

fn all(keyword: &str) -> Vec<String> {
    instructions()
        .into_iter()
        .filter(|(k, _)| k == keyword)
        .map(|(_, rest)| rest)
        .collect()
}

/// The JSON array of an exec-form instruction.
fn exec_form(text: &str) -> Vec<String> {
    let inner = text
        .trim()
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or_else(|| panic!("not exec form: {text}"));
    inner
        .split(',')
        .map(|part| part.trim().trim_matches('"').to_owned())
        .collect()
}

/// `major.minor` as numbers, of a version or an image tag (`1.95-slim-bookworm`).
fn version(text: &str) -> (u32, u32) {
    let mut parts = text
        .split(['.', '-'])
        .map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

#[test]
fn the_build_stage_builds_this_binary_locked_on_an_accepted_toolchain() {
    let froms = all("FROM");
    assert_eq!(froms.len(), 2, "multi-stage: {froms:?}");
    let build = &froms[0];
    let image = build.split_whitespace().next().unwrap_or_default();
    let tag = image.strip_prefix("rust:").expect("a rust image builds");
    assert!(build.ends_with(" AS build"), "{build}");
    // Every manifest's rust-version must be met: the workspace's and xtask's own.
    let wanted = [read("Cargo.toml"), read("xtask/Cargo.toml")]
        .iter()
        .flat_map(|m| {
            m.lines()
                .filter_map(|l| l.strip_prefix("rust-version = \""))
                .map(|v| version(v.trim_end_matches('"')))
                .collect::<Vec<_>>()
        })
        .max()
        .expect("a rust-version");
    assert!(version(tag) >= wanted, "{tag} is older than {wanted:?}");

    let runs = all("RUN");
    let cargo = runs
        .iter()
        .find(|r| r.contains("cargo build"))
        .expect("a cargo build");
    for flag in [
        "--locked",
        "--release",
        "--package reference-server",
        "--bin reference-server",
        // The mock image is for client teams, who switch faults on (its header shows how).
        "--features faults",
    ] {
        assert!(cargo.contains(flag), "{flag}: {cargo}");
    }
    // The binary the build writes is the one this test suite runs.
    let built = Path::new(env!("CARGO_BIN_EXE_reference-server"));
    assert_eq!(
        built.file_name().and_then(|n| n.to_str()),
        Some("reference-server")
    );
    let workdir = all("WORKDIR").first().cloned().expect("a WORKDIR");
    let copy = all("COPY")
        .into_iter()
        .find(|c| c.starts_with("--from=build "))
        .expect("the runtime stage copies from the build");
    let source = copy.split_whitespace().nth(1).unwrap_or_default();
    assert_eq!(source, format!("{workdir}/target/release/reference-server"));
    let installed = copy
        .split_whitespace()
        .nth(2)
        .unwrap_or_default()
        .to_owned();
    let entrypoint = exec_form(&all("ENTRYPOINT").pop().expect("an ENTRYPOINT"));
    assert_eq!(entrypoint[0], installed);
}

#[test]
fn the_runtime_stage_runs_as_non_root_on_the_exposed_port() {
    let froms = all("FROM");
    assert!(
        !froms[1].starts_with("rust:"),
        "a small runtime image: {froms:?}"
    );
    let users = all("USER");
    let user = users.last().expect("a USER");
    let uid = user.split(':').next().unwrap_or_default();
    assert!(!["", "0", "root"].contains(&uid), "{user}");

    let exposed: Vec<u16> = all("EXPOSE")
        .iter()
        .flat_map(|e| {
            e.split_whitespace()
                .map(|p| p.trim_end_matches("/tcp").parse().expect("a port"))
        })
        .collect();
    let entrypoint = exec_form(&all("ENTRYPOINT").pop().expect("an ENTRYPOINT"));
    let addr = entrypoint
        .iter()
        .position(|a| a == "--addr")
        .and_then(|i| entrypoint.get(i + 1))
        .expect("--addr in the ENTRYPOINT");
    let (ip, port) = addr.rsplit_once(':').expect("IP:PORT");
    assert_eq!(ip, "0.0.0.0", "reachable from outside the container");
    let port: u16 = port.parse().expect("a port");
    assert_eq!(exposed, [port]);
    // The port is the default --addr's, so the documented `-p 8080:8080` is the usual one.
    let help = Command::new(env!("CARGO_BIN_EXE_reference-server"))
        .arg("--help")
        .output()
        .expect("the binary runs");
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains(&format!("[default: 127.0.0.1:{port}]")),
        "{help}"
    );
    // Flags after the image name reach the server: they follow the ENTRYPOINT, and no CMD
    // supplies flags of its own.
    assert!(all("CMD").is_empty());
}

/// The context keeps what the build reads and leaves out build output and history.
#[test]
fn the_build_context_keeps_what_the_build_reads() {
    let ignored: Vec<String> = read(".dockerignore")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    assert!(ignored.iter().any(|l| l == "target"), "{ignored:?}");
    for needed in [
        "Cargo.lock",
        "Cargo.toml",
        "spec",
        "reference-server",
        "rules",
    ] {
        assert!(root().join(needed).exists(), "{needed}");
        assert!(
            !ignored.iter().any(|l| needed.starts_with(l.as_str())),
            "{needed} is ignored: {ignored:?}"
        );
    }
    // The server embeds the stored spec from there.
    let handlers = std::fs::read_to_string(root().join("reference-server/src/handlers.rs"))
        .expect("handlers.rs");
    assert!(handlers.contains(r#"include_str!("../../spec/openapi.json")"#));
}
