//! `cargo xtask contract` when something around the run is misconfigured: a regressions path that cannot be written (the findings are still printed, the cleanup still runs, every other output is still written, then one error line and exit 2), and a preflight answered 404, 3xx or 5xx (one error line, exit 2, before any case).

use crate::support;

use support::{
    Incoming, accept_each, contract_with_keys, error_lines, forward_to, read_request, run_blocking,
    runtime, team_ids, temp_path, text, write_response,
};

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use reference_server::{Config, DEV_KEY, DEV_OTHER_TEAM_KEY, Fault};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

fn contract(url: &str, args: &[&str]) -> Command {
    let mut command = contract_with_keys(url, (DEV_KEY, DEV_OTHER_TEAM_KEY));
    command.arg("--quiet").args(args);
    command
}

#[test]
fn an_unwritable_regressions_path_still_reports_cleans_up_and_writes_the_rest_then_exits_2() {
    let rt = runtime();
    rt.block_on(async {
        let mut config = Config::development();
        config.faults = Fault::CreateReturns201.into();
        let upstream = reference_server::spawn(config).await.unwrap();
        // A regressions path that reads as absent (a first run) but can never be written, even
        // by root: no directory can be made under /proc. (A parent that is a file is refused
        // before the run, since reading the path already fails.)
        let regressions = std::path::PathBuf::from("/proc/xtask-no-such-directory/contract.txt");
        let junit = temp_path("unwritable.xml");
        let md = temp_path("unwritable.md");
        let out = run_blocking(contract(
            &upstream.base_url(),
            &[
                "--cases",
                "60",
                "--seed",
                "2",
                "--regressions",
                regressions.to_str().unwrap(),
                "--junit",
                junit.to_str().unwrap(),
                "--summary-md",
                md.to_str().unwrap(),
            ],
        ))
        .await;
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        let context = format!("{stdout}{stderr}");
        assert_eq!(out.status.code(), Some(2), "{context}");
        assert!(
            stdout.contains("FAIL 1.") && stdout.contains("status_code_conformance"),
            "the findings are printed: {context}"
        );
        assert!(
            stdout.lines().any(|l| l.starts_with("summary: ")),
            "{context}"
        );
        assert!(stdout.contains("cleanup (run tag"), "{context}");
        for key in [DEV_KEY, DEV_OTHER_TEAM_KEY] {
            let left = team_ids(&upstream.base_url(), key).await;
            assert!(left.is_empty(), "{} record(s) left: {context}", left.len());
        }
        assert!(
            std::fs::read_to_string(&junit)
                .unwrap()
                .contains("<failure"),
            "JUnit is written: {context}"
        );
        assert!(
            std::fs::read_to_string(&md).unwrap().contains("failed"),
            "the Markdown is written: {context}"
        );
        let errors = error_lines(&stderr);
        assert_eq!(errors.len(), 1, "{context}");
        assert!(
            errors[0].contains("cannot write") && errors[0].contains("xtask-no-such-directory"),
            "{context}"
        );
        for path in [junit, md] {
            std::fs::remove_file(path).unwrap();
        }
        upstream.shutdown().await;
    });
}

/// A loopback server answering every request with `status`, a `content-type` and a body that
/// echoes the request's `Authorization` header; returns its URL and how many requests it got.
async fn spawn_fixed(status: u16, content_type: &'static str) -> (String, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicU64::new(0));
    let counted = count.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let counted = counted.clone();
            tokio::spawn(async move {
                let Ok(request) = read_request(&mut stream).await else {
                    return;
                };
                counted.fetch_add(1, Ordering::SeqCst);
                let authorization = request
                    .headers
                    .iter()
                    .find(|(k, _)| k == "authorization")
                    .map_or(String::new(), |(_, v)| v.clone());
                let body = if content_type == "application/json" {
                    serde_json::json!({"detail": format!("not here ({authorization})")}).to_string()
                } else {
                    format!(
                        "<html>{status} from nginx {authorization}{}</html>",
                        "x".repeat(400)
                    )
                };
                let head = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\nlocation: http://127.0.0.1:9/elsewhere\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(body.as_bytes()).await;
            });
        }
    });
    (url, count)
}

#[test]
fn a_preflight_answered_404_3xx_or_5xx_is_misconfiguration_exit_2_before_any_case() {
    let rt = runtime();
    rt.block_on(async {
        for (status, content_type) in [
            (404, "application/json"),
            (404, "text/html"),
            (301, "text/html"),
            (302, "text/html"),
            (307, "text/html"),
            (500, "text/html"),
            (501, "text/html"),
            // The service's own 5xx shape: not the gateway's, so not retried as infrastructure.
            (503, "application/json"),
        ] {
            let (url, count) = spawn_fixed(status, content_type).await;
            let out = run_blocking(contract(&url, &["--cases", "20", "--no-regressions"])).await;
            let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
            let context = format!("{status} {content_type}: {stdout}{stderr}");
            assert_eq!(out.status.code(), Some(2), "{context}");
            let errors: Vec<&str> = stderr.lines().collect();
            assert_eq!(errors.len(), 1, "{context}");
            assert!(
                errors[0].starts_with("error: ")
                    && errors[0]
                        .contains(&format!("GET /workflows/v1/simulations answered {status}")),
                "{context}"
            );
            assert!(
                !errors[0].contains(DEV_KEY) && errors[0].contains("$CONTRACT_TOKEN"),
                "the echoed key is redacted: {context}"
            );
            assert!(errors[0].len() < 600, "the body is cut: {context}");
            assert!(!stdout.contains("summary: "), "{context}");
            assert_eq!(
                count.load(Ordering::SeqCst),
                1,
                "no case was sent: {context}"
            );
        }
    });
}

/// A key so short that redacting it (and its prefix one character shorter) would rewrite the
/// run's own data is refused in one line, exit 2, before anything is sent; neither key shows.
#[test]
fn a_key_too_short_to_redact_safely_is_refused_with_exit_2_before_anything_is_sent() {
    let rt = runtime();
    rt.block_on(async {
        let (url, count) = spawn_fixed(200, "application/json").await;
        for (keys, variable) in [
            (("k1", DEV_OTHER_TEAM_KEY), "CONTRACT_TOKEN"),
            (("7chars!", DEV_OTHER_TEAM_KEY), "CONTRACT_TOKEN"),
            ((DEV_KEY, "b2"), "CONTRACT_OTHER_TEAM_TOKEN"),
        ] {
            let mut command = contract_with_keys(&url, keys);
            command.args(["--quiet", "--cases", "5", "--no-regressions"]);
            let out = run_blocking(command).await;
            let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
            let context = format!("{keys:?}: {stdout}{stderr}");
            assert_eq!(out.status.code(), Some(2), "{context}");
            let lines: Vec<&str> = stderr.lines().collect();
            assert_eq!(lines.len(), 1, "{context}");
            assert!(
                lines[0].starts_with(&format!("error: {variable} is too short"))
                    && lines[0].contains("at least 8 characters"),
                "{context}"
            );
            let short = if variable == "CONTRACT_TOKEN" {
                keys.0
            } else {
                keys.1
            };
            assert!(!stderr.contains(short), "{context}");
        }
        assert_eq!(count.load(Ordering::SeqCst), 0, "nothing was sent");
    });
}

/// A proxy that serves the API under `/v1` (the prefix stripped on the way to `upstream`) and
/// answers every other path 200 with `fallback` (an SPA's index page, another service's JSON),
/// as a gateway in front of a mounted service does; counts what reaches the API.
struct Mounted {
    client: reqwest::Client,
    upstream: String,
    fallback: (&'static str, &'static str),
    forwarded: AtomicU64,
}

async fn serve_mounted(mut stream: TcpStream, proxy: Arc<Mounted>) -> std::io::Result<()> {
    let mut request: Incoming = read_request(&mut stream).await?;
    let Some(rest) = request.path.strip_prefix("/v1/") else {
        let (content_type, body) = proxy.fallback;
        write_response(
            &mut stream,
            200,
            &[("content-type", content_type.to_owned())],
            body.as_bytes(),
        )
        .await;
        return Ok(());
    };
    request.path = format!("/{rest}");
    proxy.forwarded.fetch_add(1, Ordering::SeqCst);
    let answer = forward_to(&proxy.client, &proxy.upstream, &request).await;
    let status = answer.status().as_u16();
    let content_type = answer
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_owned();
    let mut headers = vec![("content-type", content_type)];
    for name in ["www-authenticate", "allow"] {
        if let Some(value) = answer.headers().get(name).and_then(|v| v.to_str().ok()) {
            headers.push((name, value.to_owned()));
        }
    }
    let body = answer.bytes().await.unwrap_or_default();
    write_response(&mut stream, status, &headers, &body).await;
    Ok(())
}

#[test]
fn a_base_url_missing_the_services_mount_is_misconfiguration_exit_2_before_any_case() {
    let rt = runtime();
    rt.block_on(async {
        let upstream = reference_server::spawn(Config::development())
            .await
            .unwrap();
        for fallback in [
            ("text/html", "<!doctype html><html><body>app</body></html>"),
            ("application/json", r#"{"service":"gateway","status":"ok"}"#),
            ("application/json", r#"{"simulations":"not a list"}"#),
        ] {
            let proxy = Arc::new(Mounted {
                client: reqwest::Client::new(),
                upstream: upstream.base_url(),
                fallback,
                forwarded: AtomicU64::new(0),
            });
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}", listener.local_addr().unwrap());
            accept_each(listener, proxy.clone(), serve_mounted);

            // The prefix forgotten: every path answers the fallback, never the API.
            let out = run_blocking(contract(&url, &["--cases", "20", "--no-regressions"])).await;
            let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
            let context = format!("{fallback:?}: {stdout}{stderr}");
            assert_eq!(out.status.code(), Some(2), "{context}");
            let lines: Vec<&str> = stderr.lines().collect();
            assert_eq!(lines.len(), 1, "{context}");
            assert!(
                lines[0].starts_with("error: ")
                    && lines[0].contains("GET /workflows/v1/simulations answered 200")
                    && lines[0].contains("not the API's list")
                    && lines[0].contains("--base-url"),
                "{context}"
            );
            assert!(!stdout.contains("summary: "), "{context}");

            // With the prefix the same proxy is the API, and the preflight lets the run go on.
            let out = run_blocking(contract(
                &format!("{url}/v1"),
                &[
                    "--cases",
                    "5",
                    "--seed",
                    "1",
                    "--no-regressions",
                    "--no-baseline",
                ],
            ))
            .await;
            let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
            let context = format!("{fallback:?} with /v1: {stdout}{stderr}");
            assert_eq!(out.status.code(), Some(0), "{context}");
            assert!(proxy.forwarded.load(Ordering::SeqCst) > 1, "{context}");
        }
        upstream.shutdown().await;
    });
}

/// `CONTRACT_OTHER_TEAM_TOKEN` a second key of the run key's own team: the tenancy cases would
/// judge their own team's records as another's. The preflight learns each key's team from the
/// record it makes and deletes, and refuses in one line, exit 2, before any case.
#[test]
fn a_second_key_of_the_same_team_is_misconfiguration_exit_2_before_any_case() {
    const SAME_TEAM_KEY: &str = "second-key-of-team-a";
    let rt = runtime();
    rt.block_on(async {
        let mut config = Config::development();
        config.keys.push(reference_server::ApiKey::new(
            SAME_TEAM_KEY,
            "team-a",
            "user-a2",
        ));
        let upstream = reference_server::spawn(config).await.unwrap();
        let mut command = contract_with_keys(&upstream.base_url(), (DEV_KEY, SAME_TEAM_KEY));
        command.args([
            "--quiet",
            "--cases",
            "20",
            "--no-regressions",
            "--no-baseline",
        ]);
        let out = run_blocking(command).await;
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        let context = format!("{stdout}{stderr}");
        assert_eq!(out.status.code(), Some(2), "{context}");
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{context}");
        assert!(
            lines[0].starts_with("error: ")
                && lines[0].contains("CONTRACT_OTHER_TEAM_TOKEN")
                && lines[0].contains("same team"),
            "{context}"
        );
        assert!(
            !context.contains(SAME_TEAM_KEY) && !context.contains(DEV_KEY),
            "{context}"
        );
        assert!(!stdout.contains("summary: "), "{context}");
        let left = team_ids(&upstream.base_url(), DEV_KEY).await;
        assert!(
            left.is_empty(),
            "the preflight's records are deleted: {left:?}"
        );
        upstream.shutdown().await;
    });
}
