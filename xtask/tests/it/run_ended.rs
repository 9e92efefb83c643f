//! `cargo xtask contract` that ends before any case once the target was contacted (exit 2: the target is misconfigured; exit 3: it cannot be tested now) still writes the JUnit, Markdown and JSON it was asked for, each saying why the run ended and with which exit code.

use crate::support;

use support::{error_lines, read_request, run_blocking, runtime, temp_path, text, write_response};

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use reference_server::{DEV_KEY, DEV_OTHER_TEAM_KEY};
use tokio::net::TcpListener;

/// A loopback server answering every request `status` with `headers` and a JSON body that
/// echoes the request's `Authorization` header (so the outputs' redaction is tried too).
async fn spawn_answering(status: u16, headers: &'static [(&'static str, &'static str)]) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let Ok(request) = read_request(&mut stream).await else {
                    return;
                };
                let authorization = request
                    .headers
                    .iter()
                    .find(|(k, _)| k == "authorization")
                    .map_or(String::new(), |(_, v)| v.clone());
                let body = serde_json::json!({ "detail": format!("no ({authorization})") });
                let mut sent: Vec<(&str, String)> =
                    vec![("content-type", "application/json".to_owned())];
                sent.extend(headers.iter().map(|(k, v)| (*k, (*v).to_owned())));
                write_response(&mut stream, status, &sent, body.to_string().as_bytes()).await;
            });
        }
    });
    url
}

/// Runs the suite against `url` asking for every output; returns the exit code, stdout,
/// stderr, and the JUnit and Markdown files' contents.
async fn run_with_outputs(url: &str, name: &str) -> (Option<i32>, String, String, String, String) {
    run_seed_with_outputs(url, name, "1").await
}

/// As [`run_with_outputs`], on `seed`.
async fn run_seed_with_outputs(
    url: &str,
    name: &str,
    seed: &str,
) -> (Option<i32>, String, String, String, String) {
    let junit = temp_path(&format!("{name}.xml"));
    let md = temp_path(&format!("{name}.md"));
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command
        .args(["contract", "--base-url", url, "--quiet", "--no-regressions"])
        // A fixed seed: the counts asserted depend on what is drawn.
        .args([
            "--seed",
            seed,
            "--cases",
            "20",
            "--max-time",
            "60",
            "--message-format",
            "json",
        ])
        .arg("--junit")
        .arg(&junit)
        .arg("--summary-md")
        .arg(&md)
        .env("XTASK_ALLOW_DEBUG", "1")
        .env("CONTRACT_TOKEN", DEV_KEY)
        .env("CONTRACT_OTHER_TEAM_TOKEN", DEV_OTHER_TEAM_KEY)
        .stdin(std::process::Stdio::null());
    let out = run_blocking(command).await;
    let read = |path: &std::path::Path| {
        let written = std::fs::read_to_string(path).unwrap_or_default();
        let _ = std::fs::remove_file(path);
        written
    };
    (
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr),
        read(&junit),
        read(&md),
    )
}

/// Each output says the run ended, why (`reason_part` of the error line) and its exit code.
fn assert_outputs_say_why(
    code: i32,
    reason_part: &str,
    (exit, stdout, stderr, junit, md): (Option<i32>, String, String, String, String),
) {
    let context = format!("stdout: {stdout}\nstderr: {stderr}\njunit: {junit}\nmd: {md}");
    assert_eq!(exit, Some(code), "{context}");
    let errors = error_lines(&stderr);
    assert_eq!(errors.len(), 1, "{context}");
    assert!(
        errors[0].starts_with("error: ") && errors[0].contains(reason_part),
        "{context}"
    );
    let why = errors[0].trim_start_matches("error: ");

    // JSON: stdout is JSON lines only, the last the summary with the reason and exit code.
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("every stdout line is JSON"))
        .collect();
    let summary = lines.last().expect("a summary line");
    assert_eq!(summary["reason"], "summary", "{context}");
    assert_eq!(summary["exit_code"], code, "{context}");
    assert_eq!(summary["cases_judged"], 0, "{context}");
    assert_eq!(summary["ended_because"].as_str(), Some(why), "{context}");

    // JUnit: one suite whose run case is an error naming the reason, as a JUnit reader sees it.
    let junit_read = read_junit(&junit);
    assert_eq!(junit_read.suites, vec![Some("1".to_owned())], "{context}");
    assert_eq!(
        junit_read.errors,
        vec![(Some("contract.run".to_owned()), why.to_owned())],
        "{context}"
    );

    // Markdown: a heading that is never "passed", the reason and the exit code.
    assert!(md.starts_with("## "), "{context}");
    assert!(!md.contains("passed"), "{context}");
    assert!(md.contains(&format!("exit code {code}")), "{context}");
    assert!(md.contains(reason_part), "{context}");

    for written in [&stdout, &stderr, &junit, &md] {
        assert!(
            !written.contains(DEV_KEY) && !written.contains(DEV_OTHER_TEAM_KEY),
            "no key in any output: {context}"
        );
    }
}

#[test]
fn a_misconfigured_target_exit_2_still_writes_junit_markdown_and_json_saying_why() {
    let rt = runtime();
    rt.block_on(async {
        let url = spawn_answering(404, &[]).await;
        let outputs = run_with_outputs(&url, "misconfigured").await;
        assert_outputs_say_why(2, "misconfigured", outputs);
    });
}

#[test]
fn a_refused_key_exit_2_still_writes_junit_markdown_and_json_saying_why() {
    let rt = runtime();
    rt.block_on(async {
        let url = spawn_answering(401, &[("www-authenticate", "Bearer")]).await;
        let outputs = run_with_outputs(&url, "refused").await;
        assert_outputs_say_why(2, "refused the API key", outputs);
    });
}

#[test]
fn a_target_that_cannot_be_tested_now_exit_3_still_writes_junit_markdown_and_json_saying_why() {
    let rt = runtime();
    rt.block_on(async {
        let url = spawn_answering(429, &[("retry-after", "100000")]).await;
        let outputs = run_with_outputs(&url, "throttled").await;
        assert_outputs_say_why(3, "incomplete: judged 0 cases", outputs);
    });
}

/// What a JUnit reader takes from a file: each `testsuite`'s `errors` attribute, and each
/// `error` element's test case `classname` and `message`.
#[derive(Debug, Default)]
struct JunitRead {
    suites: Vec<Option<String>>,
    errors: Vec<(Option<String>, String)>,
}

fn read_junit(xml: &str) -> JunitRead {
    use quick_xml::events::{BytesStart, Event};
    let attribute = |e: &BytesStart<'_>, name: &[u8]| {
        e.attributes()
            .map(|a| a.expect("well-formed attributes"))
            .find(|a| a.key.as_ref() == name)
            .map(|a| {
                a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .expect("escaped well")
                    .into_owned()
            })
    };
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut read = JunitRead::default();
    let mut classname = None;
    loop {
        match reader.read_event().expect("the JUnit file is XML") {
            Event::Start(e) | Event::Empty(e) => match e.name().as_ref() {
                b"testsuite" => read.suites.push(attribute(&e, b"errors")),
                b"testcase" => classname = attribute(&e, b"classname"),
                b"error" => read.errors.push((
                    classname.clone(),
                    attribute(&e, b"message").unwrap_or_default(),
                )),
                _ => {}
            },
            Event::Eof => return read,
            _ => {}
        }
    }
}

/// A loopback server whose first answer is the API's empty page and which throttles every later
/// request far past the budget: the preflight passes, and no case can be judged.
async fn spawn_throttling_after_the_list() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let answered = Arc::new(AtomicU64::new(0));
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let answered = answered.clone();
            tokio::spawn(async move {
                if read_request(&mut stream).await.is_err() {
                    return;
                }
                let json = ("content-type", "application/json".to_owned());
                if answered.fetch_add(1, Ordering::SeqCst) == 0 {
                    let page = br#"{"simulations":[],"total":0}"#;
                    write_response(&mut stream, 200, &[json], page).await;
                } else {
                    let headers = [json, ("retry-after", "100000".to_owned())];
                    write_response(&mut stream, 429, &headers, br#"{"detail":"slow down"}"#).await;
                }
            });
        }
    });
    url
}

#[test]
fn an_incomplete_run_exit_3_writes_outputs_with_the_reason_and_exit_code() {
    let rt = runtime();
    rt.block_on(async {
        let url = spawn_throttling_after_the_list().await;
        let (exit, stdout, stderr, junit, md) = run_with_outputs(&url, "incomplete").await;
        let context = format!("stdout: {stdout}\nstderr: {stderr}\njunit: {junit}\nmd: {md}");
        assert_eq!(exit, Some(3), "{context}");
        let summary: serde_json::Value =
            serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
        assert_eq!(summary["exit_code"], 3, "{context}");
        assert_eq!(summary["verdict"], "incomplete", "{context}");
        let why = summary["ended_because"].as_str().expect("a reason");
        assert!(why.contains("judged 0 of 20 cases"), "{context}");
        assert!(
            md.contains("exit code 3") && md.contains("judged 0 of 20"),
            "{context}"
        );
        let read = read_junit(&junit);
        assert_eq!(read.errors.len(), 1, "{context}");
        assert_eq!(
            read.errors[0].0.as_deref(),
            Some("contract.run"),
            "{context}"
        );
        assert!(
            read.errors[0].1.contains("judged 0 of 20 cases"),
            "{context}"
        );
    });
}

/// On this seed the 11th case was a state-machine plan of one pause: it sent nothing, asserted
/// nothing, and counted as a judged case ("judged 1 of 20") against a target that judged none.
#[test]
fn a_case_that_sends_nothing_is_never_drawn() {
    let rt = runtime();
    rt.block_on(async {
        let url = spawn_throttling_after_the_list().await;
        let (exit, stdout, stderr, _, _) =
            run_seed_with_outputs(&url, "pauses", "1796540990926071628").await;
        assert_eq!(exit, Some(3), "{stdout}{stderr}");
        let summary: serde_json::Value =
            serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
        assert_eq!(summary["cases_judged"], 0, "{stdout}{stderr}");
    });
}
