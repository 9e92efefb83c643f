//! `cargo xtask spec diff` and `spec pull` as a maintainer runs them: one fixture pair per breaking-change rule, the exit-code gate, and a pull (and `pull --check`) from a loopback server against a temporary copy of the spec.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

fn xtask(args: &[&str]) -> Output {
    xtask_with_env(args, &[])
}

fn xtask_with_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        // Only the key a test gives; never one from the developer's shell.
        .env_remove("CONTRACT_TOKEN")
        .envs(env.iter().copied())
        .output()
        .expect("xtask runs")
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/spec-diff")
}

fn stored_spec_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/openapi.json")
}

fn stored_spec() -> Value {
    serde_json::from_str(&std::fs::read_to_string(stored_spec_path()).unwrap()).unwrap()
}

/// A file of its own for one test, removed when the guard drops.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, text: &str) -> Self {
        let path =
            std::env::temp_dir().join(format!("xtask-spec-{name}-{}.json", std::process::id()));
        std::fs::write(&path, text).unwrap();
        Self(path)
    }

    fn json(name: &str, doc: &Value) -> Self {
        Self::new(name, &serde_json::to_string_pretty(doc).unwrap())
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The change lines of a report, each with the group header it sits under.
fn change_lines(stdout: &str) -> Vec<(String, String)> {
    let mut group = String::new();
    let mut lines = Vec::new();
    for line in stdout.lines() {
        if line.starts_with("operation ") || line.starts_with("schema ") || line == "document" {
            group = line.to_owned();
        } else if let Some(change) = line.strip_prefix("  ") {
            lines.push((group.clone(), change.to_owned()));
        }
    }
    lines
}

/// Runs the fixture pair of `rule` and checks that it reports exactly `expected`, each given as
/// (severity, group the line sits under, text the line contains), all tagged with the rule, and
/// that the exit code follows the severities.
fn expect_rule(rule: &str, expected: &[(&str, &str, &str)]) {
    let dir = fixtures().join(rule);
    let old = dir.join("old.json");
    let new = dir.join("new.json");
    let out = xtask(&["spec", "diff", old.to_str().unwrap(), new.to_str().unwrap()]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    let lines = change_lines(&stdout);
    assert_eq!(
        lines.len(),
        expected.len(),
        "{rule}: unexpected report:\n{stdout}"
    );
    for (severity, group, text) in expected {
        let found = lines.iter().any(|(g, line)| {
            g.contains(group)
                && line.starts_with(&format!("{severity:<10}"))
                && line.contains(text)
                && line.ends_with(&format!("[{rule}]"))
        });
        assert!(
            found,
            "{rule}: no `{severity}` line with `{text}` under `{group}`:\n{stdout}"
        );
    }
    let breaking = expected.iter().any(|(s, _, _)| *s == "BREAKING");
    assert_eq!(
        out.status.success(),
        !breaking,
        "{rule}: exit status {:?}\n{stdout}{stderr}",
        out.status
    );
    if breaking {
        assert!(
            stderr.starts_with("error: ") && stderr.contains("breaking change"),
            "{stderr}"
        );
    }
}

#[test]
fn operation_removed() {
    expect_rule(
        "operation-removed",
        &[("BREAKING", "create_thing", "operation removed")],
    );
}

#[test]
fn operation_added() {
    expect_rule(
        "operation-added",
        &[("ok", "delete_thing", "operation added")],
    );
}

#[test]
fn operation_id_changed() {
    expect_rule(
        "operation-id-changed",
        &[(
            "BREAKING",
            "GET /things/{thing_id}",
            "from \"get_thing\" to \"fetch_thing\"",
        )],
    );
}

#[test]
fn parameter_removed() {
    expect_rule(
        "parameter-removed",
        &[("BREAKING", "list_things", "parameter query search: removed")],
    );
}

#[test]
fn parameter_added() {
    expect_rule(
        "parameter-added",
        &[
            (
                "BREAKING",
                "list_things",
                "parameter query team: added (required)",
            ),
            (
                "ok",
                "list_things",
                "parameter query verbose: added (optional)",
            ),
        ],
    );
}

#[test]
fn parameter_required_changed() {
    expect_rule(
        "parameter-required-changed",
        &[(
            "BREAKING",
            "list_things",
            "parameter query size: became required",
        )],
    );
}

#[test]
fn request_body_changed() {
    expect_rule(
        "request-body-changed",
        &[("ok", "create_thing", "request body: became optional")],
    );
}

#[test]
fn media_type_changed() {
    expect_rule(
        "media-type-changed",
        &[
            (
                "BREAKING",
                "get_thing",
                "response 200: media type application/json removed",
            ),
            (
                "ok",
                "get_thing",
                "response 200: media type text/plain added",
            ),
        ],
    );
}

#[test]
fn response_status_removed() {
    expect_rule(
        "response-status-removed",
        &[("BREAKING", "get_thing", "response 404: removed")],
    );
}

#[test]
fn response_status_added() {
    expect_rule(
        "response-status-added",
        &[("ok", "create_thing", "response 409: added")],
    );
}

#[test]
fn schema_removed() {
    expect_rule(
        "schema-removed",
        &[("BREAKING", "schema Legacy", "schema removed")],
    );
}

#[test]
fn schema_added() {
    expect_rule("schema-added", &[("ok", "schema Extra", "schema added")]);
}

#[test]
fn property_removed() {
    expect_rule(
        "property-removed",
        &[("BREAKING", "schema Thing ", "/max_events: property removed")],
    );
}

#[test]
fn property_added() {
    expect_rule(
        "property-added",
        &[
            (
                "BREAKING",
                "schema ThingCreate",
                "/owner: required property added (request)",
            ),
            (
                "ok",
                "schema Thing ",
                "/note: optional property added (response)",
            ),
        ],
    );
}

#[test]
fn property_required_changed() {
    expect_rule(
        "property-required-changed",
        &[(
            "BREAKING",
            "schema Thing ",
            "/name: became optional (response)",
        )],
    );
}

#[test]
fn type_changed() {
    expect_rule(
        "type-changed",
        &[(
            "BREAKING",
            "schema ThingCreate",
            "/max_events: type from integer|null to integer: narrowed",
        )],
    );
}

#[test]
fn format_changed() {
    expect_rule(
        "format-changed",
        &[(
            "BREAKING",
            "schema Thing ",
            "/created_at: format changed from \"date-time\" to \"date\"",
        )],
    );
}

#[test]
fn enum_value_added() {
    expect_rule(
        "enum-value-added",
        &[
            (
                "BREAKING",
                "schema Status",
                "enum value \"paused\" added (response)",
            ),
            (
                "ok",
                "schema Priority",
                "enum value \"urgent\" added (request)",
            ),
        ],
    );
}

#[test]
fn enum_value_removed() {
    expect_rule(
        "enum-value-removed",
        &[(
            "BREAKING",
            "schema Priority",
            "enum value \"high\" removed (request)",
        )],
    );
}

#[test]
fn default_changed() {
    expect_rule(
        "default-changed",
        &[(
            "BREAKING",
            "schema ThingCreate",
            "/max_events: default changed from 500 to 100",
        )],
    );
}

#[test]
fn constraint_tightened() {
    expect_rule(
        "constraint-tightened",
        &[(
            "BREAKING",
            "schema ThingCreate",
            "/name: maxLength changed from 50 to 20: tightened (request)",
        )],
    );
}

#[test]
fn constraint_loosened() {
    expect_rule(
        "constraint-loosened",
        &[
            (
                "BREAKING",
                "schema Thing ",
                "/id: pattern \"^[0-9a-f]{24}$\" removed: loosened (response)",
            ),
            (
                "ok",
                "list_things",
                "parameter query size: maximum changed from 100 to 1000: loosened (request)",
            ),
        ],
    );
}

#[test]
fn documentation_changed() {
    expect_rule(
        "documentation-changed",
        &[
            ("ok", "schema ThingCreate", "/name: description changed"),
            ("ok", "list_things", "summary changed"),
        ],
    );
}

#[test]
fn unclassified_change() {
    expect_rule(
        "unclassified-change",
        &[("BREAKING", "schema Thing ", "/name: `readOnly` added")],
    );
}

#[test]
fn every_documented_rule_has_a_fixture_pair_and_no_fixture_is_stray() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/README.md"))
            .unwrap();
    let (_, rules) = readme.split_once("## Breaking-change rules").unwrap();
    let documented: Vec<String> = rules
        .lines()
        .filter_map(|l| l.strip_prefix("### "))
        .map(str::to_owned)
        .collect();
    let mut dirs: Vec<String> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    dirs.sort();
    let mut sorted = documented.clone();
    sorted.sort();
    assert_eq!(dirs, sorted);
    for rule in &documented {
        for side in ["old.json", "new.json"] {
            assert!(
                fixtures().join(rule).join(side).is_file(),
                "{rule}/{side} missing"
            );
        }
    }
}

#[test]
fn an_unchanged_spec_prints_no_changes_and_exits_0() {
    let copy = TempFile::new(
        "unchanged",
        &std::fs::read_to_string(stored_spec_path()).unwrap(),
    );
    // One argument: OLD against the working copy of spec/openapi.json.
    let out = xtask(&["spec", "diff", copy.path()]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "no changes\n");
}

#[test]
fn a_removed_response_field_exits_1_naming_the_field() {
    let mut doc = stored_spec();
    doc["components"]["schemas"]["SimulationConfig-Output"]["properties"]
        .as_object_mut()
        .unwrap()
        .remove("max_events");
    let new = TempFile::json("removed-field", &doc);
    let old = stored_spec_path();
    let out = xtask(&["spec", "diff", old.to_str().unwrap(), new.path()]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        change_lines(&stdout).iter().any(|(group, line)| group
            .starts_with("schema SimulationConfig-Output")
            && line.starts_with("BREAKING")
            && line.contains("/max_events: property removed")),
        "{stdout}"
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        stderr,
        "error: 1 breaking change; pass --allow-breaking to accept\n"
    );

    let allowed = xtask(&[
        "spec",
        "diff",
        old.to_str().unwrap(),
        new.path(),
        "--allow-breaking",
    ]);
    assert!(allowed.status.success(), "{allowed:?}");
    assert!(
        String::from_utf8(allowed.stdout)
            .unwrap()
            .contains("/max_events")
    );
}

#[test]
fn a_description_only_change_is_reported_and_exits_0() {
    let mut doc = stored_spec();
    doc["paths"]["/workflows/v1/simulations"]["post"]["description"] = json!("Reworded.");
    doc["components"]["schemas"]["SimulationConfig-Input"]["properties"]["max_events"]["description"] =
        json!("Reworded too.");
    let new = TempFile::json("description", &doc);
    let old = stored_spec_path();
    let out = xtask(&["spec", "diff", old.to_str().unwrap(), new.path()]);
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines = change_lines(&stdout);
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(
        lines
            .iter()
            .all(|(_, l)| l.starts_with("ok ") && l.ends_with("[documentation-changed]")),
        "{stdout}"
    );
    assert!(
        stdout.contains("/max_events: description changed"),
        "{stdout}"
    );
}

#[test]
fn an_invalid_document_fails_with_one_line() {
    let bad = TempFile::new("not-json", "{ nope");
    let old = stored_spec_path();
    let out = xtask(&["spec", "diff", old.to_str().unwrap(), bad.path()]);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("is not valid JSON"), "{stderr}");
}

/// Serves `body` once on a loopback port; the handle yields the request head it received.
fn serve_once(status: &str, body: String) -> (String, std::thread::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/api-docs/workflows/api.json",
        listener.local_addr().unwrap()
    );
    let status = status.to_owned();
    let handle = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if stream.read(&mut byte).unwrap() == 0 {
                break;
            }
            head.push(byte[0]);
        }
        let response = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(response.as_bytes()).unwrap();
        String::from_utf8(head).unwrap()
    });
    (url, handle)
}

const TEST_KEY: &str = "sk-test-key-that-must-not-leak-1234";

#[test]
fn pull_writes_the_normalised_document_and_names_the_change() {
    let mut served = stored_spec();
    served["components"]["schemas"]["SimulationConfig-Output"]["properties"]
        .as_object_mut()
        .unwrap()
        .remove("max_events");
    served["components"]["schemas"]["SimulationStatus"]["enum"]
        .as_array_mut()
        .unwrap()
        .push(json!("paused"));
    // Compact, as a service serves it: the pull must normalise.
    let (url, server) = serve_once("200 OK", serde_json::to_string(&served).unwrap());
    let target = TempFile::new(
        "pull-target",
        &std::fs::read_to_string(stored_spec_path()).unwrap(),
    );

    let out = xtask_with_env(
        &["spec", "pull", "--url", &url, "--out", target.path()],
        &[("CONTRACT_TOKEN", TEST_KEY)],
    );
    let request = server.join().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{stdout}{stderr}");

    assert!(
        request.starts_with("GET /api-docs/workflows/api.json "),
        "{request}"
    );
    assert!(
        request
            .lines()
            .any(|l| l.eq_ignore_ascii_case(&format!("authorization: Bearer {TEST_KEY}"))),
        "the key is sent as a bearer token"
    );
    assert!(
        !stdout.contains(TEST_KEY) && !stderr.contains(TEST_KEY),
        "the key leaked"
    );

    let written = std::fs::read_to_string(&target.0).unwrap();
    let mut normalised = serde_json::to_string_pretty(&served).unwrap();
    normalised.push('\n');
    assert!(
        written == normalised,
        "the pulled spec is not stored normalised"
    );
    assert!(!written.contains(TEST_KEY));

    let lines = change_lines(&stdout);
    assert!(
        lines
            .iter()
            .any(|(g, l)| g.starts_with("schema SimulationConfig-Output")
                && l.starts_with("BREAKING")
                && l.contains("/max_events: property removed")),
        "{stdout}"
    );
    assert!(
        lines
            .iter()
            .any(|(g, l)| g.starts_with("schema SimulationStatus")
                && l.contains("\"paused\" added (response)")),
        "{stdout}"
    );
}

#[test]
fn pull_refuses_an_invalid_document_and_leaves_the_spec_alone() {
    let mut served = stored_spec();
    served["openapi"] = json!("3.0.3");
    let (url, server) = serve_once("200 OK", serde_json::to_string(&served).unwrap());
    let original = std::fs::read_to_string(stored_spec_path()).unwrap();
    let target = TempFile::new("pull-invalid", &original);
    let out = xtask(&["spec", "pull", "--url", &url, "--out", target.path()]);
    server.join().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("unsupported OpenAPI version 3.0.3"),
        "{stderr}"
    );
    assert!(std::fs::read_to_string(&target.0).unwrap() == original);
}

#[test]
fn pull_reports_an_http_error_status_in_one_line() {
    let (url, server) = serve_once(
        "401 Unauthorized",
        r#"{"detail":"Not authenticated"}"#.to_owned(),
    );
    let target = TempFile::new("pull-401", "untouched");
    let out = xtask_with_env(
        &["spec", "pull", "--url", &url, "--out", target.path()],
        &[("CONTRACT_TOKEN", TEST_KEY)],
    );
    server.join().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("401 Unauthorized") && !stderr.contains(TEST_KEY),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&target.0).unwrap(), "untouched");
}

#[test]
fn pull_check_passes_when_the_service_serves_the_stored_spec_and_writes_nothing() {
    // Compact, as a service serves it: equal once normalised.
    let (url, server) = serve_once("200 OK", serde_json::to_string(&stored_spec()).unwrap());
    let original = std::fs::read_to_string(stored_spec_path()).unwrap();
    let target = TempFile::new("pull-check-same", &original);
    let out = xtask(&[
        "spec",
        "pull",
        "--check",
        "--url",
        &url,
        "--out",
        target.path(),
    ]);
    server.join().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("is the document"), "{stdout}");
    assert!(std::fs::read_to_string(&target.0).unwrap() == original);
}

#[test]
fn pull_check_exits_1_with_the_changes_and_the_diff_and_writes_nothing() {
    let mut served = stored_spec();
    served["components"]["schemas"]["SimulationStatus"]["enum"]
        .as_array_mut()
        .unwrap()
        .push(json!("paused"));
    let (url, server) = serve_once("200 OK", serde_json::to_string(&served).unwrap());
    let original = std::fs::read_to_string(stored_spec_path()).unwrap();
    let target = TempFile::new("pull-check-differs", &original);
    let out = xtask_with_env(
        &[
            "spec",
            "pull",
            "--check",
            "--url",
            &url,
            "--out",
            target.path(),
        ],
        &[("CONTRACT_TOKEN", TEST_KEY)],
    );
    server.join().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        change_lines(&stdout)
            .iter()
            .any(|(g, l)| g.starts_with("schema SimulationStatus") && l.contains("\"paused\"")),
        "{stdout}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with('+') && l.contains("\"paused\"")),
        "the text diff shows the added line: {stdout}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("differs from the document"), "{stderr}");
    assert!(!stdout.contains(TEST_KEY) && !stderr.contains(TEST_KEY));
    assert!(std::fs::read_to_string(&target.0).unwrap() == original);
}

#[test]
fn pull_refuses_plain_http_to_a_host_that_is_not_loopback_before_connecting() {
    let target = TempFile::new("pull-plain-http", "untouched");
    for url in [
        // A labelled QA host the contract suite accepts over https: never over plain http.
        "http://api-qa.interactly.ai/api-docs/workflows/api.json",
        // Neither loopback nor a labelled host: refused whatever the scheme.
        "https://example.com/api.json",
        "ftp://127.0.0.1/api.json",
    ] {
        let out = xtask_with_env(
            &[
                "spec",
                "pull",
                "--check",
                "--url",
                url,
                "--out",
                target.path(),
            ],
            &[("CONTRACT_TOKEN", TEST_KEY)],
        );
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(2), "{url}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains("refusing") && !stderr.contains("failed") && !stderr.contains(TEST_KEY),
            "{url}: the guard's line, not a connection's: {stderr}"
        );
    }
    assert_eq!(std::fs::read_to_string(&target.0).unwrap(), "untouched");
}

#[test]
fn pull_stops_at_the_body_cap_on_an_endless_body() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/api.json", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut byte = [0u8; 1];
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap() == 1 {
            head.push(byte[0]);
        }
        stream
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n")
            .unwrap();
        let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, " ".repeat(64 * 1024));
        // Until the client hangs up: the body never ends on its own.
        while stream.write_all(chunk.as_bytes()).is_ok() {}
    });
    let target = TempFile::new("pull-endless", "untouched");
    let out = xtask(&[
        "spec",
        "pull",
        "--url",
        &url,
        "--out",
        target.path(),
        "--max-response-bytes",
        "1048576",
    ]);
    server.join().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("over the cap of 1048576 bytes"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&target.0).unwrap(), "untouched");
}

#[test]
fn pull_refuses_a_declared_length_over_the_cap_without_reading_it() {
    let (url, server) = serve_once("200 OK", " ".repeat(2048));
    let target = TempFile::new("pull-declared", "untouched");
    let out = xtask(&[
        "spec",
        "pull",
        "--url",
        &url,
        "--out",
        target.path(),
        "--max-response-bytes",
        "1024",
    ]);
    // The server's write may fail once the client has hung up on the declared length.
    let _ = server.join();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("2048 bytes (Content-Length)"), "{stderr}");
}

/// `spec pull --check` against the stored spec as `url` serves it, `--out` a copy of it.
fn pull_check(name: &str, url: &str, cap: Option<&str>) -> Output {
    let original = std::fs::read_to_string(stored_spec_path()).unwrap();
    let target = TempFile::new(name, &original);
    let mut args = vec![
        "spec",
        "pull",
        "--check",
        "--url",
        url,
        "--out",
        target.path(),
    ];
    if let Some(cap) = cap {
        args.extend(["--max-response-bytes", cap]);
    }
    let out = xtask_with_env(&args, &[("CONTRACT_TOKEN", TEST_KEY)]);
    assert!(
        std::fs::read_to_string(&target.0).unwrap() == original,
        "--check writes nothing"
    );
    out
}

#[test]
fn pull_check_exits_3_on_drift_that_breaks_nothing() {
    let mut served = stored_spec();
    served["components"]["schemas"]["SimulationConfig-Output"]["properties"]["tags"] =
        json!({"type": "array", "items": {"type": "string"}});
    served["info"]["description"] = json!("reworded");
    let (url, server) = serve_once("200 OK", serde_json::to_string(&served).unwrap());
    let out = pull_check("pull-check-benign", &url, None);
    server.join().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(3), "{stdout}{stderr}");
    assert!(stdout.contains("0 breaking, 2 non-breaking"), "{stdout}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("warning: ") && stderr.contains("(no breaking change)"),
        "{stderr}"
    );
}

#[test]
fn pull_check_exits_4_when_the_document_cannot_be_fetched() {
    let unreachable = {
        // A port nothing listens on once the listener is dropped.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/api.json", listener.local_addr().unwrap())
    };
    let out = pull_check("pull-check-unreachable", &unreachable, None);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(4), "unreachable: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");

    let mut old_version = stored_spec();
    old_version["openapi"] = json!("3.0.3");
    for (why, status, body, cap, says) in [
        (
            "non-200",
            "503 Service Unavailable",
            "{}".to_owned(),
            None,
            "503",
        ),
        (
            "not JSON",
            "200 OK",
            "<html>".to_owned(),
            None,
            "not valid JSON",
        ),
        (
            "too large",
            "200 OK",
            " ".repeat(2048),
            Some("1024"),
            "2048 bytes",
        ),
        (
            "not a usable spec",
            "200 OK",
            old_version.to_string(),
            None,
            "3.0.3",
        ),
    ] {
        let (url, server) = serve_once(status, body);
        let out = pull_check(&format!("pull-check-{}", why.replace(' ', "-")), &url, cap);
        let _ = server.join();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(4), "{why}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{why}: {stderr}");
        assert!(
            stderr.contains(says) && !stderr.contains(TEST_KEY),
            "{why}: {stderr}"
        );
    }
}

#[test]
fn pull_check_exits_2_when_the_stored_spec_cannot_be_read() {
    let (url, server) = serve_once("200 OK", serde_json::to_string(&stored_spec()).unwrap());
    let missing = std::env::temp_dir().join(format!("xtask-no-such-{}.json", std::process::id()));
    let out = xtask(&[
        "spec",
        "pull",
        "--check",
        "--url",
        &url,
        "--out",
        missing.to_str().unwrap(),
    ]);
    server.join().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("cannot read"), "{stderr}");
}

/// The stored spec with a removed response field (breaking), an added optional one (not), a
/// reworded description (documentation), and a hostile key: a property name carrying a line
/// break, an escape sequence, `%`, `,`, `:` and a workflow command of its own.
const HOSTILE: &str = "evil%,:\n::error title=x::pwned\u{1b}[31m";

fn changed_spec(name: &str) -> TempFile {
    let mut doc = stored_spec();
    let output = &mut doc["components"]["schemas"]["SimulationConfig-Output"]["properties"];
    output.as_object_mut().unwrap().remove("max_events");
    output[HOSTILE] = json!({"type": "string"});
    output["tags"] = json!({"type": "array", "items": {"type": "string"}});
    doc["info"]["description"] = json!("reworded");
    TempFile::json(name, &doc)
}

fn diff_as(format: &str, new: &TempFile) -> Output {
    let old = stored_spec_path();
    xtask(&[
        "spec",
        "diff",
        "--format",
        format,
        old.to_str().unwrap(),
        new.path(),
    ])
}

#[test]
fn diff_text_escapes_what_the_spec_wrote() {
    let new = changed_spec("formats-1");
    let out = diff_as("text", &new);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(!stdout.contains('\u{1b}'), "{stdout}");
    assert!(
        !stdout.lines().any(|l| l.starts_with("::")),
        "the key started a line of its own: {stdout}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("evil%,:\\n::error title=x::pwned\\u{1b}[31m")),
        "{stdout}"
    );
}

#[test]
fn diff_json_is_an_object_with_breaking_and_the_changes() {
    let new = changed_spec("formats-2");
    let out = diff_as("json", &new);
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON document");
    assert_eq!(doc["breaking"], json!(true), "{doc}");
    let changes = doc["changes"].as_array().unwrap();
    let find = |id: &str, needle: &str| {
        changes
            .iter()
            .find(|c| c["id"] == id && c["text"].as_str().unwrap().contains(needle))
            .unwrap_or_else(|| panic!("{id} {needle}: {doc}"))
    };
    let removed = find("property-removed", "/max_events");
    assert_eq!(removed["level"], "error");
    assert_eq!(
        removed["path"],
        "#/components/schemas/SimulationConfig-Output"
    );
    assert_eq!(find("property-added", "/tags")["level"], "warning");
    assert_eq!(find("documentation-changed", "info")["level"], "notice");
    // A JSON string holds the key as written: its reader escapes it.
    assert!(
        changes
            .iter()
            .any(|c| c["text"].as_str().unwrap().contains(HOSTILE)),
        "{doc}"
    );
    for change in changes {
        for key in ["id", "level", "path", "text"] {
            assert!(change[key].is_string(), "{key} in {change}");
        }
    }
    let same = xtask(&[
        "spec",
        "diff",
        "--format",
        "json",
        stored_spec_path().to_str().unwrap(),
        stored_spec_path().to_str().unwrap(),
    ]);
    assert_eq!(same.status.code(), Some(0));
    let doc: Value = serde_json::from_slice(&same.stdout).unwrap();
    assert_eq!(doc, json!({"breaking": false, "changes": []}));
}

#[test]
fn diff_markdown_renders_without_the_spec_adding_structure() {
    use pulldown_cmark::{Event, Parser, Tag, TagEnd};
    let new = changed_spec("formats-3");
    let out = diff_as("markdown", &new);
    assert_eq!(out.status.code(), Some(1));
    let md = String::from_utf8(out.stdout).unwrap();
    let (mut headings, mut heading, mut items, mut code) =
        (vec![], None::<String>, 0, String::new());
    for event in Parser::new(&md) {
        match event {
            Event::Start(Tag::Heading { .. }) => heading = Some(String::new()),
            Event::End(TagEnd::Heading(_)) => headings.extend(heading.take()),
            Event::Start(Tag::Item) => items += 1,
            Event::Text(t) | Event::Code(t) => {
                if let Some(h) = &mut heading {
                    h.push_str(&t);
                }
                code.push_str(&t);
            }
            Event::Html(h) | Event::InlineHtml(h) => panic!("HTML from the spec: {h}\n{md}"),
            _ => {}
        }
    }
    assert_eq!(
        headings,
        [
            "Spec changes: 1 breaking, 3 non-breaking",
            "document",
            "schema SimulationConfig-Output",
        ],
        "{md}"
    );
    assert_eq!(items, 4, "one item per change: {md}");
    assert!(code.contains("/max_events: property removed"), "{md}");
    assert!(
        code.contains("evil%,:\\n::error title=x::pwned\\u{1b}[31m"),
        "{md}"
    );
}

/// A GitHub workflow command: `::LEVEL key=value,key=value::message`, with the message's `%`,
/// CR and LF and the values' `%`, CR, LF, `:` and `,` percent-encoded, as GitHub documents.
fn parse_annotation(line: &str) -> (String, BTreeMap<String, String>, String) {
    let rest = line.strip_prefix("::").unwrap_or_else(|| panic!("{line}"));
    let (command, rest) = rest.split_once(' ').unwrap_or_else(|| panic!("{line}"));
    let (properties, message) = rest.split_once("::").unwrap_or_else(|| panic!("{line}"));
    let decode = |s: &str| {
        s.replace("%0D", "\r")
            .replace("%0A", "\n")
            .replace("%3A", ":")
            .replace("%2C", ",")
            .replace("%25", "%")
    };
    let properties = properties
        .split(',')
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or_else(|| panic!("{line}"));
            assert!(!v.contains(':'), "an unescaped ':' in {line}");
            (k.to_owned(), decode(v))
        })
        .collect();
    assert!(!message.contains(['\r', '\n']), "{line}");
    (command.to_owned(), properties, decode(message))
}

#[test]
fn diff_github_writes_one_annotation_per_change() {
    let new = changed_spec("formats-4");
    let out = diff_as("github", &new);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let annotations: Vec<_> = stdout.lines().map(parse_annotation).collect();
    assert_eq!(annotations.len(), 4, "{stdout}");
    let levels: BTreeSet<&str> = annotations.iter().map(|(c, _, _)| c.as_str()).collect();
    assert_eq!(
        levels,
        BTreeSet::from(["error", "warning", "notice"]),
        "{stdout}"
    );
    for (_, properties, message) in &annotations {
        assert_eq!(properties["file"], new.path(), "{stdout}");
        assert!(properties.contains_key("title"), "{stdout}");
        assert!(!message.contains('\u{1b}'), "{stdout}");
    }
    let (_, _, removed) = annotations.iter().find(|(c, _, _)| c == "error").unwrap();
    assert!(
        removed.contains("/max_events: property removed"),
        "{removed}"
    );
    // The key's own `%`, `,`, `:` and line break survive the round trip, escaped once.
    assert!(
        annotations
            .iter()
            .any(|(_, _, m)| m.contains("evil%,:\\n::error title=x::pwned\\u{1b}[31m")),
        "{stdout}"
    );
}

#[test]
fn diff_reads_git_revisions_and_a_plain_path_with_a_colon() {
    let out = xtask(&[
        "spec",
        "diff",
        "HEAD:spec/openapi.json",
        "HEAD~0:spec/openapi.json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("no changes")
    );

    let new = changed_spec("formats-5");
    let out = xtask(&["spec", "diff", "HEAD:spec/openapi.json", new.path()]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("/max_events: property removed")
    );

    // A file whose name has a colon is read as a file first.
    let colon = TempFile::new(
        "HEAD:spec",
        &std::fs::read_to_string(stored_spec_path()).unwrap(),
    );
    let out = xtask(&["spec", "diff", colon.path(), "HEAD:spec/openapi.json"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}

#[test]
fn diff_says_a_bad_revision_in_one_line_and_exits_2() {
    for old in [
        "no-such-revision-xyz:spec/openapi.json",
        "HEAD:no/such/file.json",
        "--output=/tmp/x:spec/openapi.json",
    ] {
        let out = xtask(&["spec", "diff", "--", old, "HEAD:spec/openapi.json"]);
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(2), "{old}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{old}: {stderr}");
        assert!(stderr.starts_with("error: "), "{stderr}");
    }
}
