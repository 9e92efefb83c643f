//! `cargo xtask contract` behind a loopback gateway that throttles with a `Retry-After` no run can wait out (an hour, a day, an HTTP date in 9999, 2^63 s and more), from the start or from mid-run: the run never panics, always cleans up and reports, and says how many of its cases it judged.

use crate::support;

use support::{
    Incoming, accept_each, contract_with_keys, error_lines, forward_to, read_request, run_blocking,
    runtime, team_ids, temp_path, text, write_response,
};

use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use reference_server::{Config, DEV_KEY, DEV_OTHER_TEAM_KEY};
use tokio::net::{TcpListener, TcpStream};

/// 2^63 s: one second past what `Instant + Duration` can hold on Linux.
const TWO_TO_THE_63: &str = "9223372036854775808";

fn contract(url: &str, args: &[&str]) -> Command {
    let mut command = contract_with_keys(url, (DEV_KEY, DEV_OTHER_TEAM_KEY));
    command.args(["--no-regressions", "--quiet"]).args(args);
    command
}

/// Which requests the gateway throttles once it has forwarded its first `forward_first`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Throttles {
    /// Every request: nothing more reaches the service.
    Everything,
    /// Creates only (a write quota): reads and deletes, the cleanup's included, get through.
    Creates,
}

#[derive(Debug)]
struct Gateway {
    upstream: String,
    client: reqwest::Client,
    retry_after: String,
    forward_first: u64,
    throttles: Throttles,
    count: AtomicU64,
    throttled: AtomicU64,
}

async fn spawn_gateway(
    upstream: String,
    retry_after: &str,
    forward_first: u64,
    throttles: Throttles,
) -> (String, Arc<Gateway>) {
    let gateway = Arc::new(Gateway {
        upstream,
        client: reqwest::Client::new(),
        retry_after: retry_after.to_owned(),
        forward_first,
        throttles,
        count: AtomicU64::new(0),
        throttled: AtomicU64::new(0),
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    accept_each(listener, gateway.clone(), serve);
    (url, gateway)
}

async fn serve(mut stream: TcpStream, gateway: Arc<Gateway>) -> std::io::Result<()> {
    let request = read_request(&mut stream).await?;
    let n = gateway.count.fetch_add(1, Ordering::SeqCst);
    let throttled = n >= gateway.forward_first
        && (gateway.throttles == Throttles::Everything || request.method == "POST");
    if throttled {
        gateway.throttled.fetch_add(1, Ordering::SeqCst);
        let headers = [
            ("content-type", "text/html".to_owned()),
            ("retry-after", gateway.retry_after.clone()),
        ];
        write_response(
            &mut stream,
            429,
            &headers,
            b"<html>429 Too Many Requests</html>",
        )
        .await;
        return Ok(());
    }
    let (status, headers, body) = forward(&gateway, &request).await;
    write_response(&mut stream, status, &headers, &body).await;
    Ok(())
}

async fn forward(
    gateway: &Gateway,
    request: &Incoming,
) -> (u16, Vec<(&'static str, String)>, Vec<u8>) {
    let answer = forward_to(&gateway.client, &gateway.upstream, request).await;
    let status = answer.status().as_u16();
    let mut headers = Vec::new();
    for name in ["content-type", "www-authenticate", "allow"] {
        if let Some(value) = answer.headers().get(name) {
            headers.push((name, value.to_str().unwrap().to_owned()));
        }
    }
    (status, headers, answer.bytes().await.unwrap().to_vec())
}

/// Runs the suite behind a gateway throttling with `retry_after` and returns its output, after
/// checking what every such run must do: no panic, a report, and nothing of the run left on
/// the service.
fn throttled_run(
    retry_after: &str,
    forward_first: u64,
    throttles: Throttles,
    args: &[&str],
) -> (Output, u64) {
    let rt = runtime();
    rt.block_on(async {
        let upstream = reference_server::spawn(Config::development())
            .await
            .unwrap();
        let (url, gateway) =
            spawn_gateway(upstream.base_url(), retry_after, forward_first, throttles).await;
        let out = run_blocking(contract(&url, args)).await;
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        let throttled = gateway.throttled.load(Ordering::SeqCst);
        assert!(
            throttled > 0,
            "the gateway throttled nothing: {stdout}{stderr}"
        );
        assert!(
            !stderr.contains("panicked") && !stdout.contains("panicked"),
            "Retry-After {retry_after}: {stdout}{stderr}"
        );
        if args.contains(&"json") {
            assert!(
                stdout
                    .lines()
                    .last()
                    .is_some_and(|l| l.contains(r#""reason":"summary""#)),
                "Retry-After {retry_after}: no report: {stdout}{stderr}"
            );
        } else {
            assert!(
                stdout.lines().any(|l| l.starts_with("summary: ")),
                "Retry-After {retry_after}: no report: {stdout}{stderr}"
            );
            assert!(
                stdout.contains("cleanup (run tag"),
                "Retry-After {retry_after}: no cleanup: {stdout}{stderr}"
            );
        }
        for key in [DEV_KEY, DEV_OTHER_TEAM_KEY] {
            let left = team_ids(&upstream.base_url(), key).await;
            assert!(
                left.is_empty(),
                "Retry-After {retry_after}: {} record(s) left on the service: {stdout}{stderr}",
                left.len()
            );
        }
        upstream.shutdown().await;
        (out, throttled)
    })
}

#[test]
fn a_retry_after_past_what_an_instant_holds_neither_panics_nor_skips_the_cleanup() {
    // A hundred requests get through first, so the run has records to clean up when the
    // throttling starts; the cleanup's reads and deletes are not throttled.
    for retry_after in [
        TWO_TO_THE_63,
        "18446744073709551615",
        "99999999999999999999999999",
        "Fri, 31 Dec 9999 23:59:59 GMT",
    ] {
        let (out, _) = throttled_run(
            retry_after,
            100,
            Throttles::Creates,
            &["--cases", "100", "--seed", "4", "--max-time", "120"],
        );
        assert_eq!(
            out.status.code(),
            Some(3),
            "Retry-After {retry_after}: a run that gave cases up is not a pass: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
    }
}

/// `judged N of M` in `line`, as numbers.
fn judged_of(line: &str) -> (u64, u64) {
    let rest = line
        .split("judged ")
        .nth(1)
        .unwrap_or_else(|| panic!("no `judged N of M` in {line}"));
    let mut words = rest.split(' ');
    let judged = words.next().unwrap().parse().unwrap();
    assert_eq!(words.next(), Some("of"), "{line}");
    let drawn = words
        .next()
        .unwrap()
        .trim_end_matches(|c: char| !c.is_ascii_digit())
        .parse()
        .unwrap();
    (judged, drawn)
}

/// A run throttled past its budget from request `forward_first` on: exit 3, never "passed";
/// the summary, the JSON, the Markdown and the JUnit all say how many of its cases it judged
/// and why the rest were not; nothing of it is left on the service.
fn assert_incomplete(retry_after: &str, forward_first: u64, throttles: Throttles, cases: u64) {
    // Every call its own files: tests of this binary run at once, and two calls may share a
    // `forward_first` and a Retry-After's length.
    let name = format!(
        "{forward_first}-{}-{throttles:?}-{cases}",
        retry_after.len()
    );
    let (md, junit) = (
        temp_path(&format!("{name}.md")),
        temp_path(&format!("{name}.xml")),
    );
    let cases_text = cases.to_string();
    let args = [
        "--cases",
        &cases_text,
        "--seed",
        "8",
        "--max-time",
        "120",
        "--summary-md",
        md.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ];
    let (out, _) = throttled_run(retry_after, forward_first, throttles, &args);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    let context = format!("Retry-After {retry_after}: {stdout}{stderr}");
    assert_eq!(out.status.code(), Some(3), "{context}");
    let errors = error_lines(&stderr);
    assert_eq!(errors.len(), 1, "{context}");
    assert!(
        errors[0].starts_with("error: incomplete: judged ")
            && errors[0].contains("not judged: throttled, a 429's Retry-After of ")
            && errors[0].contains("reaches past the time budget"),
        "{context}"
    );
    let (judged, drawn) = judged_of(errors[0]);
    assert_eq!(drawn, cases, "{context}");
    assert!(judged < drawn, "{context}");
    let summary = stdout.lines().find(|l| l.starts_with("summary: ")).unwrap();
    assert!(summary.contains("incomplete: judged "), "{summary}");
    assert_eq!(judged_of(summary), (judged, drawn), "{summary}");
    assert!(
        summary.starts_with(&format!("summary: {judged} cases, ")),
        "{summary}"
    );
    let coverage = stdout
        .lines()
        .find(|l| l.starts_with("coverage: "))
        .unwrap();
    assert!(coverage.contains("incomplete run"), "{coverage}");

    let markdown = std::fs::read_to_string(&md).unwrap();
    assert!(!markdown.contains("passed"), "{markdown}");
    assert!(
        markdown.starts_with("## ⚠️ Contract suite incomplete: judged "),
        "{markdown}"
    );
    assert_eq!(judged_of(markdown.lines().next().unwrap()), (judged, drawn));
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains(r#"name="every_drawn_case_judged""#) && xml.contains("<error"),
        "{xml}"
    );
    assert!(
        xml.contains(&format!("judged {judged} of {drawn} cases")),
        "{xml}"
    );
    std::fs::remove_file(md).unwrap();
    std::fs::remove_file(junit).unwrap();

    let mut json_command = contract_for_json(retry_after, forward_first, throttles, cases);
    let json = json_command();
    let summary: serde_json::Value = serde_json::from_str(
        json.lines()
            .last()
            .unwrap_or_else(|| panic!("no JSON summary: {json}")),
    )
    .unwrap();
    assert_eq!(summary["verdict"], "incomplete", "{summary}");
    assert_eq!(summary["cases_drawn"], drawn, "{summary}");
    assert!(
        summary["cases_judged"].as_u64().unwrap() < drawn,
        "{summary}"
    );
    let reasons = summary["not_judged"].as_array().unwrap();
    assert!(
        reasons.iter().any(|r| r["reason"] == "throttled"
            && r["count"].as_u64().unwrap() > 0
            && r["detail"].as_str().unwrap().contains("Retry-After")),
        "{summary}"
    );
}

/// The same run with `--message-format json`, whose stdout is returned.
fn contract_for_json(
    retry_after: &str,
    forward_first: u64,
    throttles: Throttles,
    cases: u64,
) -> impl FnMut() -> String {
    let retry_after = retry_after.to_owned();
    move || {
        let cases = cases.to_string();
        let (out, _) = throttled_run(
            &retry_after,
            forward_first,
            throttles,
            &[
                "--cases",
                &cases,
                "--seed",
                "8",
                "--max-time",
                "120",
                "--message-format",
                "json",
            ],
        );
        assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
        text(&out.stdout)
    }
}

#[test]
fn creates_throttled_from_the_start_past_the_budget_end_the_run_incomplete_with_exit_3() {
    for retry_after in ["3600", "100000", "Fri, 31 Dec 9999 23:59:59 GMT"] {
        assert_incomplete(retry_after, 1, Throttles::Creates, 60);
    }
}

#[test]
fn everything_throttled_after_the_preflight_judges_nothing_and_exits_3() {
    assert_incomplete("3600", 1, Throttles::Everything, 30);
}

#[test]
fn creates_throttled_from_mid_run_end_the_run_incomplete_and_cleaned_up() {
    for retry_after in ["3600", "100000", "Fri, 31 Dec 9999 23:59:59 GMT"] {
        assert_incomplete(retry_after, 150, Throttles::Creates, 100);
    }
}

#[test]
fn a_preflight_throttled_past_the_budget_is_exit_3_in_one_line_before_any_case() {
    let rt = runtime();
    rt.block_on(async {
        let upstream = reference_server::spawn(Config::development())
            .await
            .unwrap();
        let (url, gateway) =
            spawn_gateway(upstream.base_url(), "100000", 0, Throttles::Everything).await;
        let out = run_blocking(contract(&url, &["--cases", "20", "--max-time", "60"])).await;
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{stderr}");
        let errors = error_lines(&stderr);
        assert_eq!(errors.len(), 1, "{stderr}");
        assert!(
            errors[0].contains("incomplete: judged 0 cases")
                && errors[0].contains("Retry-After of 100000 s"),
            "{stderr}"
        );
        assert_eq!(gateway.count.load(Ordering::SeqCst), 1, "no case was sent");
        upstream.shutdown().await;
    });
}
