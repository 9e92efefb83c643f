//! `cargo xtask generate` as a user runs it: bad specs fail with one line, and any spec change makes `--check` fail.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .output()
        .expect("xtask runs")
}

fn stored_spec() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/openapi.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A spec file of its own for one test, removed when the guard drops.
struct TempSpec(PathBuf);

impl TempSpec {
    fn new(name: &str, doc: &Value) -> Self {
        let path = std::env::temp_dir().join(format!("xtask-{name}-{}.json", std::process::id()));
        std::fs::write(&path, serde_json::to_string_pretty(doc).unwrap()).unwrap();
        Self(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempSpec {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn one_line_error(out: &Output) -> String {
    assert!(
        !out.status.success(),
        "expected failure, stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let stderr = String::from_utf8(out.stderr.clone()).unwrap();
    assert_eq!(
        stderr.lines().count(),
        1,
        "expected one line, got: {stderr}"
    );
    assert!(
        !stderr.contains("panicked") && !stderr.contains("backtrace"),
        "{stderr}"
    );
    stderr
}

#[test]
fn a_broken_ref_fails_with_one_line_naming_it() {
    let mut doc = stored_spec();
    doc["components"]["schemas"]
        .as_object_mut()
        .unwrap()
        .remove("SimulationsModel");
    let spec = TempSpec::new("broken-ref", &doc);
    let err = one_line_error(&xtask(&["generate", "--check", "--spec", spec.path()]));
    assert!(
        err.contains("broken $ref `#/components/schemas/SimulationsModel`"),
        "{err}"
    );
}

#[test]
fn openapi_2_fails_with_one_line_naming_the_version() {
    let mut doc = stored_spec();
    doc["openapi"] = json!("2.0");
    let spec = TempSpec::new("v2", &doc);
    let err = one_line_error(&xtask(&["generate", "--check", "--spec", spec.path()]));
    assert!(err.contains("unsupported OpenAPI version 2.0"), "{err}");
}

#[test]
fn invalid_json_fails_with_one_line() {
    let spec = TempSpec::new("not-json", &json!(null));
    std::fs::write(&spec.0, "{\"openapi\": ").unwrap();
    let err = one_line_error(&xtask(&["generate", "--check", "--spec", spec.path()]));
    assert!(err.contains("is not valid JSON"), "{err}");
}

#[test]
fn a_description_change_makes_check_fail_as_stale() {
    let mut doc = stored_spec();
    doc["components"]["schemas"]["SimulationStatus"]["description"] = json!("Changed wording");
    let spec = TempSpec::new("description", &doc);
    let err = one_line_error(&xtask(&["generate", "--check", "--spec", spec.path()]));
    assert!(
        err.contains("generated/ is stale: run `cargo xtask generate` and commit"),
        "{err}"
    );
}

#[test]
fn a_schema_change_makes_check_fail_as_stale() {
    let mut doc = stored_spec();
    doc["components"]["schemas"]["SimulationsModel"]["properties"]["team_id"] =
        json!({"type": "integer"});
    let spec = TempSpec::new("schema", &doc);
    let err = one_line_error(&xtask(&["generate", "--check", "--spec", spec.path()]));
    assert!(err.contains("generated/ is stale"), "{err}");
}

/// Two renders of the stored spec, each by its own run of the generator, both equal the committed
/// client: rendering is deterministic, and the committed client is what the spec gives.
#[test]
fn the_stored_spec_passes_check_every_time() {
    for _ in 0..2 {
        let out = xtask(&["generate", "--check"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The generator program (`xtask/codegen`) with an OpenAPI 3.0 document on stdin, run by the same
/// `cargo run` as `generate` runs it, so one build of progenitor serves both. It lives in this
/// binary, not in `xtask-codegen`'s own tests (a test build there resolves the workspace's
/// features and builds progenitor, typify and syn again) nor in xtask's unit tests (alone in
/// their binary, they would wait for that build with nothing else to run meanwhile).
fn generator(doc: &Value) -> Output {
    use std::io::Write;
    use std::process::Stdio;

    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut child = Command::new(cargo)
        .args(["run", "--quiet", "--package", "xtask-codegen"])
        .args(["--features", "generator"])
        .current_dir(root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cargo runs");
    let mut stdin = child.stdin.take().unwrap();
    let input = serde_json::to_vec(doc).unwrap();
    // While cargo builds, nobody reads stdin: written from a thread.
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    out
}

fn generated(doc: &Value) -> String {
    let out = generator(doc);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A document with one operation, `GET /things` (`list_things`), made of `get`'s fields.
fn list_things(mut get: Value) -> Value {
    get["operationId"] = json!("list_things");
    json!({
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {"/things": {"get": get}}
    })
}

#[test]
fn the_generator_refuses_a_document_that_is_not_openapi_in_one_line() {
    let out = generator(&json!({"openapi": "3.0.3"}));
    let err = one_line_error(&out);
    assert!(
        err.starts_with("error: the 3.0 form of the spec is not a valid OpenAPI 3.0"),
        "{err}"
    );
}

#[test]
fn a_non_zero_parameter_refuses_zero_with_its_reason() {
    let source = generated(&list_things(json!({
        "parameters": [{"name": "size", "in": "query", "required": false,
            "schema": {"type": "integer", "minimum": 1}}],
        "responses": {"200": {"description": "ok"}}
    })));
    assert!(source.contains("\"size must be at least 1\""), "{source}");
    assert!(!source.contains("conversion to"), "{source}");
}

#[test]
fn an_operation_renders_as_a_builder_method() {
    let source = generated(&list_things(json!({
        "responses": {"200": {"description": "ok", "content": {"application/json": {
            "schema": {"type": "array", "items": {"type": "string"}}
        }}}}
    })));
    assert!(source.contains("pub fn list_things(&self)"), "{source}");
    assert!(source.contains("pub mod builder"), "{source}");
}

#[test]
fn unknown_commands_and_arguments_fail_plainly() {
    one_line_error(&xtask(&["frobnicate"]));
    one_line_error(&xtask(&["generate", "--bogus"]));
}
