//! `cargo xtask contract` against loopback targets that misbehave on purpose: a broken search, servers that echo keys, a failing check under `--max-creates`, a stall, huge bodies and redirects. Each test reproduces a finding of the shared-QA safety review and passes only with its fix.

use crate::support;

use support::{
    contract_with_keys, read_request, relayed, run_blocking, runtime, team_ids, temp_path, text,
};

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::response::Response;
use reference_server::{ApiKey, Config, DEV_KEY, DEV_OTHER_TEAM_KEY, Fault};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

/// Keys with characters that escaping changes (`&` for XML, `"` and `\` for JSON), so a
/// redaction that runs after escaping misses them.
const KEY_A: &str = "Qa7&vX2#kP9!zM4~tR";
const KEY_B: &str = r#"Jh5"Yb1\Dc6^Fg0=wE"#;

/// `cargo xtask contract --base-url URL ARGS…` from the debug build, keys from the environment.
fn contract(url: &str, args: &[&str], keys: (&str, &str)) -> Command {
    let mut command = contract_with_keys(url, keys);
    command.arg("--no-regressions").args(args);
    command
}

/// Every run of `window` characters of `key`: a leaked prefix or fragment shows as one of them.
fn fragments(key: &str, window: usize) -> Vec<&str> {
    (0..=key.len() - window)
        .map(|i| &key[i..i + window])
        .collect()
}

fn assert_no_fragment(what: &str, content: &str) {
    for key in [KEY_A, KEY_B] {
        for fragment in fragments(key, 5) {
            assert!(
                !content.contains(fragment),
                "{fragment:?}, part of a key, leaked into {what}:\n{content}"
            );
        }
    }
}

fn summary_number(stdout: &str, unit: &str) -> u64 {
    let line = stdout
        .lines()
        .find(|l| l.starts_with("summary: "))
        .unwrap_or_else(|| panic!("no summary line in {stdout}"));
    let before = line
        .split(&format!(" {unit}"))
        .next()
        .unwrap()
        .rsplit(' ')
        .next()
        .unwrap();
    before.parse().unwrap()
}

/// What the proxy does to the traffic it forwards.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Misbehaviour {
    /// Forwards faithfully (and counts).
    Faithful,
    /// Drops `search` from list queries, so every search answers with the whole team.
    BrokenSearch,
    /// Answers every request 401, echoing its `Authorization` header.
    RefuseEchoingTheKey,
    /// 404 answers echo the `Authorization` header, in turn: JSON with the key placed where a
    /// 200-character cut falls inside it, JSON with every character `\u`-escaped, and plain
    /// text where a 120-character cut falls inside it.
    EchoTheKeyOn404,
}

#[derive(Debug)]
struct Proxy {
    upstream: String,
    misbehaviour: Misbehaviour,
    client: reqwest::Client,
    requests: AtomicU64,
    creates: AtomicU64,
    echoes: AtomicU64,
    /// Every create (its `logical_id` and the id it got) and delete (its path), in order.
    writes: std::sync::Mutex<Vec<Write>>,
}

#[derive(Debug, Clone, PartialEq)]
enum Write {
    Created { logical_id: String, id: String },
    Deleted { path: String },
}

/// A proxy in front of `upstream` on a loopback port.
async fn spawn_proxy(upstream: String, misbehaviour: Misbehaviour) -> (String, Arc<Proxy>) {
    let proxy = Arc::new(Proxy {
        upstream,
        misbehaviour,
        client: reqwest::Client::new(),
        requests: AtomicU64::new(0),
        creates: AtomicU64::new(0),
        echoes: AtomicU64::new(0),
        writes: std::sync::Mutex::new(Vec::new()),
    });
    let app = Router::new().fallback(forward).with_state(proxy.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, proxy)
}

fn without_query_parameter(path_and_query: &str, name: &str) -> String {
    let Some((path, query)) = path_and_query.split_once('?') else {
        return path_and_query.to_owned();
    };
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| pair.split('=').next() != Some(name))
        .collect();
    format!("{path}?{}", kept.join("&"))
}

fn echo_body(turn: u64, authorization: &str) -> (&'static str, String) {
    match turn % 3 {
        0 => (
            "application/json",
            serde_json::json!({"detail": format!("{}{authorization}", "z".repeat(180))})
                .to_string(),
        ),
        1 => {
            let escaped: String = authorization
                .chars()
                .map(|c| format!("\\u{:04x}", c as u32))
                .collect();
            ("application/json", format!("{{\"detail\":\"{escaped}\"}}"))
        }
        _ => (
            "text/plain",
            format!("{}{authorization}{}", "x".repeat(100), "y".repeat(300)),
        ),
    }
}

async fn forward(State(proxy): State<Arc<Proxy>>, request: Request) -> Response {
    proxy.requests.fetch_add(1, Ordering::SeqCst);
    let (parts, body) = request.into_parts();
    if parts.method == Method::POST {
        proxy.creates.fetch_add(1, Ordering::SeqCst);
    }
    let authorization = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if proxy.misbehaviour == Misbehaviour::RefuseEchoingTheKey {
        let detail = format!("{}: {authorization} is not a key", "w".repeat(185));
        return Response::builder()
            .status(StatusCode::UNAUTHORIZED)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::WWW_AUTHENTICATE, "Bearer")
            .body(Body::from(
                serde_json::json!({ "detail": detail }).to_string(),
            ))
            .unwrap();
    }
    let mut path_and_query = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    if proxy.misbehaviour == Misbehaviour::BrokenSearch {
        path_and_query = without_query_parameter(&path_and_query, "search");
    }
    let body = axum::body::to_bytes(body, 16 << 20)
        .await
        .unwrap_or_default();
    let mut upstream = proxy.client.request(
        parts.method.clone(),
        format!("{}{path_and_query}", proxy.upstream),
    );
    for name in [header::AUTHORIZATION, header::CONTENT_TYPE] {
        if let Some(value) = parts.headers.get(&name) {
            upstream = upstream.header(name, value);
        }
    }
    let sent_body = body.clone();
    if !body.is_empty() {
        upstream = upstream.body(body);
    }
    let answer = upstream.send().await.expect("the upstream answers");
    let status = answer.status();
    let headers = answer.headers().clone();
    let bytes = answer.bytes().await.unwrap();
    if status.is_success() {
        let write = if parts.method == Method::POST {
            let sent: serde_json::Value = serde_json::from_slice(&sent_body).unwrap_or_default();
            let stored: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
            Some(Write::Created {
                logical_id: sent["logical_id"].as_str().unwrap_or_default().to_owned(),
                id: stored["simulation"]["_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            })
        } else if parts.method == Method::DELETE {
            Some(Write::Deleted {
                path: parts.uri.path().to_owned(),
            })
        } else {
            None
        };
        proxy.writes.lock().unwrap().extend(write);
    }
    if proxy.misbehaviour == Misbehaviour::EchoTheKeyOn404
        && status == StatusCode::NOT_FOUND
        && !authorization.is_empty()
    {
        let turn = proxy.echoes.fetch_add(1, Ordering::SeqCst);
        let (content_type, echoed) = echo_body(turn, &authorization);
        return Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(echoed))
            .unwrap();
    }
    relayed(status, &headers, bytes.to_vec())
}

/// What a raw loopback server does with every request after the first, which it answers with
/// an empty list so the suite's preflight passes.
#[derive(Clone, Debug)]
enum Later {
    /// Reads the request and never answers.
    Stall,
    /// A 50 MB chunked body, sent until the client hangs up.
    HugeBody,
    /// 307 to this URL.
    RedirectTo(String),
    /// An empty object (the request is only counted).
    Count,
}

/// A one-request-per-connection HTTP/1.1 server; returns its address and its request count.
async fn spawn_raw(later: Later) -> (SocketAddr, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicU64::new(0));
    let served = count.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let (served, later) = (served.clone(), later.clone());
            tokio::spawn(async move {
                let _ = answer_raw(stream, served, later).await;
            });
        }
    });
    (addr, count)
}

async fn answer_raw(
    mut stream: TcpStream,
    served: Arc<AtomicU64>,
    later: Later,
) -> std::io::Result<()> {
    read_request(&mut stream).await?;
    let n = served.fetch_add(1, Ordering::SeqCst);
    let small = |status: &str, extra: &str, body: &str| {
        format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\n{extra}content-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    if n == 0 && !matches!(later, Later::Count) {
        let body = r#"{"simulations":[],"total":0}"#;
        return stream.write_all(small("200 OK", "", body).as_bytes()).await;
    }
    match later {
        Later::Stall => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(())
        }
        Later::Count => stream.write_all(small("200 OK", "", "{}").as_bytes()).await,
        Later::RedirectTo(url) => {
            let location = format!("location: {url}/workflows/v1/simulations\r\n");
            stream
                .write_all(small("307 Temporary Redirect", &location, "").as_bytes())
                .await
        }
        Later::HugeBody => {
            stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n")
                .await?;
            let chunk = vec![b' '; 64 << 10];
            let frame = [
                format!("{:x}\r\n", chunk.len()).into_bytes(),
                chunk,
                b"\r\n".to_vec(),
            ]
            .concat();
            for _ in 0..(50 << 20) / (64 << 10) {
                stream.write_all(&frame).await?;
            }
            stream.write_all(b"0\r\n\r\n").await
        }
    }
}

#[test]
fn a_broken_search_makes_the_cleanup_report_others_records_not_delete_them() {
    let rt = runtime();
    rt.block_on(async {
        let upstream = reference_server::spawn(Config::development()).await.unwrap();
        // Fifty simulations of somebody else on the same team, made before the run.
        let client = reqwest::Client::new();
        for i in 0..50 {
            client
                .post(format!("{}/workflows/v1/simulations", upstream.base_url()))
                .bearer_auth(DEV_KEY)
                .json(&serde_json::json!({"logical_id": format!("colleague-{i}")}))
                .send()
                .await
                .unwrap();
        }
        let before = team_ids(&upstream.base_url(), DEV_KEY).await;
        assert_eq!(before.len(), 50);
        let (url, _) = spawn_proxy(upstream.base_url(), Misbehaviour::BrokenSearch).await;
        let out = run_blocking(contract(
            &url,
            &["--cases", "150", "--seed", "3"],
            (DEV_KEY, DEV_OTHER_TEAM_KEY),
        ))
        .await;
        let stdout = text(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
        assert!(
            stdout.contains("cleanup_search_matches_tag on list_simulations"),
            "the search's strangers are a finding: {stdout}"
        );
        let after = team_ids(&upstream.base_url(), DEV_KEY).await;
        assert_eq!(
            after, before,
            "exactly the colleague's simulations remain: the run deleted all of its own and none of theirs"
        );
        upstream.shutdown().await;
    });
}

#[test]
fn no_fragment_of_either_key_leaks_from_servers_that_echo_them() {
    let rt = runtime();
    rt.block_on(async {
        let mut config = Config::development();
        config.keys = vec![
            ApiKey::new(KEY_A, "team-a", "user-a"),
            ApiKey::new(KEY_B, "team-b", "user-b"),
        ];
        let upstream = reference_server::spawn(config).await.unwrap();
        let (url, proxy) = spawn_proxy(upstream.base_url(), Misbehaviour::EchoTheKeyOn404).await;
        let junit = temp_path("echo.xml");
        let regressions = temp_path("echo-regressions.txt");
        let mut command = contract(
            &url,
            &[
                "--cases",
                "300",
                "--seed",
                "5",
                "--junit",
                junit.to_str().unwrap(),
            ],
            (KEY_A, KEY_B),
        );
        // The regressions file is an output too: this run keeps one.
        command.args(["--regressions", regressions.to_str().unwrap()]);
        let out = run_blocking(command).await;
        upstream.shutdown().await;
        let stdout = text(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{stdout}");
        assert!(
            proxy.echoes.load(Ordering::SeqCst) >= 3,
            "every kind of echo was served"
        );
        assert!(
            stdout.contains("$CONTRACT_TOKEN") && stdout.contains("$CONTRACT_OTHER_TEAM_TOKEN"),
            "both keys were echoed and shown by name: {stdout}"
        );
        assert_no_fragment("stdout", &stdout);
        assert_no_fragment("stderr", &text(&out.stderr));
        assert_no_fragment("JUnit", &std::fs::read_to_string(&junit).unwrap());
        let seeds = std::fs::read_to_string(&regressions).unwrap();
        assert!(seeds.contains("cc "), "{seeds}");
        assert_no_fragment("the regressions file", &seeds);
        std::fs::remove_file(junit).unwrap();
        std::fs::remove_file(regressions).unwrap();
    });
}

#[test]
fn a_refusal_that_echoes_the_key_is_reported_without_it() {
    let rt = runtime();
    rt.block_on(async {
        let upstream = reference_server::spawn(Config::development())
            .await
            .unwrap();
        let (url, _) = spawn_proxy(upstream.base_url(), Misbehaviour::RefuseEchoingTheKey).await;
        let out = run_blocking(contract(&url, &["--cases", "5"], (KEY_A, KEY_B))).await;
        upstream.shutdown().await;
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("answered 401"), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert_no_fragment("stderr", &stderr);
        assert_no_fragment("stdout", &text(&out.stdout));
    });
}

#[test]
fn max_creates_holds_while_a_failure_is_shrunk_and_the_summary_counts_every_request() {
    let rt = runtime();
    rt.block_on(async {
        let mut config = Config::development();
        config.faults = Fault::CreateReturns201.into();
        let upstream = reference_server::spawn(config).await.unwrap();
        let (url, proxy) = spawn_proxy(upstream.base_url(), Misbehaviour::Faithful).await;
        let out = run_blocking(contract(
            &url,
            &["--cases", "200", "--seed", "3", "--max-creates", "5"],
            (DEV_KEY, DEV_OTHER_TEAM_KEY),
        ))
        .await;
        upstream.shutdown().await;
        let stdout = text(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{stdout}");
        let creates = proxy.creates.load(Ordering::SeqCst);
        assert!(
            (1..=5).contains(&creates),
            "the server saw {creates} creates: {stdout}"
        );
        assert_eq!(
            summary_number(&stdout, "requests"),
            proxy.requests.load(Ordering::SeqCst),
            "the summary counts what the server received: {stdout}"
        );
    });
}

#[test]
fn a_target_that_stalls_after_the_preflight_ends_the_run_within_max_time() {
    let rt = runtime();
    rt.block_on(async {
        let (addr, _) = spawn_raw(Later::Stall).await;
        let started = Instant::now();
        let out = run_blocking(contract(
            &format!("http://{addr}"),
            &["--cases", "10", "--timeout", "2", "--max-time", "6"],
            (DEV_KEY, DEV_OTHER_TEAM_KEY),
        ))
        .await;
        let elapsed = started.elapsed();
        eprintln!("a stalled target with --max-time 6: the run took {elapsed:?}");
        let stdout = text(&out.stdout);
        let stderr = text(&out.stderr);
        // Timeouts are the infrastructure's (issue 14): retried, and still failing when the
        // budget ran out, they make the target unhealthy (exit 3), never a passing run.
        assert_eq!(out.status.code(), Some(3), "{stdout}{stderr}");
        // A liveness bound, not a benchmark: without the budget this run took minutes, and with
        // the preflight outside it twice the budget (12.6 s).
        assert!(
            elapsed < Duration::from_secs(6 + 5),
            "the run took {elapsed:?}"
        );
        assert!(
            stderr.contains("unhealthy") && stderr.contains("timeout"),
            "{stderr}"
        );
        assert!(stdout.contains("budget ran out"), "{stdout}");
        assert!(
            stderr.lines().any(|l| l.starts_with("contract: ")),
            "a progress line shows the run is alive when stderr is not a terminal: {stderr}"
        );
    });
}

/// Waits for a child and prints its peak resident memory in KiB (ru_maxrss of the child's own
/// rusage, which the kernel fills in when the child exits) on stderr; exits as the child did.
const PEAK_RSS: &str = "import os, subprocess, sys
child = subprocess.Popen(sys.argv[1:], stderr=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
print(usage.ru_maxrss, file=sys.stderr)
sys.exit(os.waitstatus_to_exitcode(status))
";

/// Runs `command` to its end and reads its peak resident memory (the kernel's high-water mark,
/// reported once the child has exited: no sampling, so no growth in its last moments is missed).
/// Rust's standard library does not return a child's rusage, and `wait4` is unsafe to call by
/// hand, so python3 (which the oracle's tests need anyway) waits for the child.
fn peak_memory_kib(command: Command, out_dir: &Path) -> (ExitStatus, u64, String) {
    let stdout_path = out_dir.join("stdout.txt");
    let mut waiter = Command::new("python3");
    waiter.arg("-c").arg(PEAK_RSS).arg(command.get_program());
    waiter.args(command.get_args());
    for (name, value) in command.get_envs() {
        match value {
            Some(value) => waiter.env(name, value),
            None => waiter.env_remove(name),
        };
    }
    if let Some(dir) = command.get_current_dir() {
        waiter.current_dir(dir);
    }
    let out = waiter
        .stdout(std::fs::File::create(&stdout_path).unwrap())
        .stderr(Stdio::piped())
        .output()
        .expect("python3 runs");
    let report = String::from_utf8_lossy(&out.stderr);
    let peak = report
        .lines()
        .last()
        .and_then(|line| line.trim().parse::<u64>().ok())
        .unwrap_or_else(|| panic!("no peak memory reported: {report}"));
    (
        out.status,
        peak,
        std::fs::read_to_string(stdout_path).unwrap(),
    )
}

#[test]
fn fifty_megabyte_bodies_are_findings_and_memory_stays_bounded() {
    let rt = runtime();
    let dir = temp_path("memory");
    std::fs::create_dir_all(&dir).unwrap();
    let args = ["--cases", "64", "--seed", "2", "--max-time", "30"];
    let upstream = rt
        .block_on(reference_server::spawn(Config::development()))
        .unwrap();
    let (baseline_status, baseline, _) = peak_memory_kib(
        contract(&upstream.base_url(), &args, (DEV_KEY, DEV_OTHER_TEAM_KEY)),
        &dir,
    );
    rt.block_on(upstream.shutdown());
    assert!(baseline_status.success());
    let (addr, served) = rt.block_on(spawn_raw(Later::HugeBody));
    let (status, peak, stdout) = peak_memory_kib(
        contract(
            &format!("http://{addr}"),
            &args,
            (DEV_KEY, DEV_OTHER_TEAM_KEY),
        ),
        &dir,
    );
    eprintln!("peak resident memory: {peak} KiB with huge bodies, {baseline} KiB baseline");
    assert_eq!(status.code(), Some(1), "{stdout}");
    assert!(
        served.load(Ordering::SeqCst) > 32,
        "many huge bodies were served"
    );
    assert!(stdout.contains("response_within_size_cap"), "{stdout}");
    assert!(
        peak < baseline + 100 * 1024,
        "peak {peak} KiB against a baseline of {baseline} KiB"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_redirect_is_judged_as_it_is_and_never_followed() {
    let rt = runtime();
    rt.block_on(async {
        let (elsewhere, reached) = spawn_raw(Later::Count).await;
        let (addr, _) = spawn_raw(Later::RedirectTo(format!("http://{elsewhere}"))).await;
        let out = run_blocking(contract(
            &format!("http://{addr}"),
            &["--cases", "20", "--max-time", "20"],
            (DEV_KEY, DEV_OTHER_TEAM_KEY),
        ))
        .await;
        let stdout = text(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{stdout}");
        assert!(stdout.contains("307"), "the 307 is judged: {stdout}");
        assert_eq!(
            reached.load(Ordering::SeqCst),
            0,
            "nothing was sent to the redirect's host"
        );
    });
}

#[test]
fn each_shrinking_replay_writes_under_its_own_tag_and_deletes_what_it_wrote() {
    let rt = runtime();
    rt.block_on(async {
        let mut config = Config::development();
        // Stateful scenarios fail on it, so shrinking replays scenarios that create.
        config.faults = Fault::PatchNotPersisted.into();
        let upstream = reference_server::spawn(config).await.unwrap();
        let (url, proxy) = spawn_proxy(upstream.base_url(), Misbehaviour::Faithful).await;
        let out = run_blocking(contract(
            &url,
            &["--cases", "100", "--seed", "6"],
            (DEV_KEY, DEV_OTHER_TEAM_KEY),
        ))
        .await;
        upstream.shutdown().await;
        let stdout = text(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{stdout}");
        let writes = proxy.writes.lock().unwrap().clone();
        // A replay's tag is the run's tag, `r` and the replay's number.
        let replay_of = |logical_id: &str| -> Option<String> {
            let tag = logical_id.split('-').next()?;
            let (run, replay) = tag.split_once('r')?;
            (run.len() == 10 && !replay.is_empty() && replay.bytes().all(|b| b.is_ascii_digit()))
                .then(|| tag.to_owned())
        };
        let mut replays: Vec<(String, Vec<String>)> = Vec::new();
        for write in &writes {
            if let Write::Created { logical_id, id } = write
                && let Some(tag) = replay_of(logical_id)
            {
                match replays.last_mut() {
                    Some((last, ids)) if *last == tag => ids.push(id.clone()),
                    _ => replays.push((tag, vec![id.clone()])),
                }
            }
        }
        let tags: std::collections::BTreeSet<&String> = replays.iter().map(|(t, _)| t).collect();
        assert!(
            tags.len() >= 2 && tags.len() == replays.len(),
            "replays wrote under distinct tags, one after another: {replays:?}"
        );
        let position = |wanted: &Write| writes.iter().position(|w| w == wanted);
        for pair in replays.windows(2) {
            let next_first = writes
                .iter()
                .position(|w| matches!(w, Write::Created { logical_id, .. } if replay_of(logical_id).as_ref() == Some(&pair[1].0)))
                .unwrap();
            for id in &pair[0].1 {
                let deleted = position(&Write::Deleted {
                    path: format!("/workflows/v1/simulations/{id}"),
                });
                assert!(
                    deleted.is_some_and(|at| at < next_first),
                    "{id} of replay {} was deleted before replay {} began",
                    pair[0].0,
                    pair[1].0
                );
            }
        }
    });
}
