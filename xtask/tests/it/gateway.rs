//! `cargo xtask contract` through a loopback "gateway" that misbehaves the way real infrastructure does (429s with and without `Retry-After`, HTML 502/503/504 pages, connection resets before and after forwarding, answers slower than `--timeout`): a faithful server still passes and keeps only the records the run reports it could not prove its own, a same-key client never loses an identical record to the cleanup, a real fault is still caught, and a gateway that fails everything ends the run with exit code 3.

use crate::support;

use support::{
    Incoming, accept_each, contract_with_keys, error_lines, forward_to, read_request, run_blocking,
    runtime, team_ids, text, write_response,
};

use std::hash::{Hash, Hasher};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reference_server::{Config, DEV_KEY, DEV_OTHER_TEAM_KEY, Fault};
use tokio::net::{TcpListener, TcpStream};

fn contract(url: &str, args: &[&str]) -> Command {
    let mut command = contract_with_keys(url, (DEV_KEY, DEV_OTHER_TEAM_KEY));
    command.arg("--no-regressions").args(args);
    command
}

/// What the gateway does to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Act {
    Forward,
    /// 429 with `Retry-After: 1`.
    ThrottleSeconds,
    /// 429 with `Retry-After` one second ahead as an HTTP date.
    ThrottleDate,
    /// 429 without the header.
    ThrottleBare,
    /// An HTML page with this status.
    Html(u16),
    /// Closed with a reset before anything is forwarded.
    ResetBefore,
    /// Forwarded (the server acts on it), then reset instead of answering.
    ResetAfter,
    /// Forwarded, and answered only after the suite's `--timeout`.
    Slow,
    /// Forwarded; a create the server accepted is then reset instead of answered (the `Lose*`
    /// modes decide which), any other answer passes.
    LoseIfCreated,
}

/// Which requests the gateway spoils.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    /// A seeded share of them.
    Noisy,
    /// Every request after the first (the preflight passes).
    FailAfterPreflight,
    /// Every request, the preflight included.
    FailAll,
    /// Every other create whose body carries no run tag is forwarded and its answer lost, and
    /// a same-key client (another CI shard, a person on the QA team) then writes a record with
    /// the identical body: the run must not delete it.
    LoseUntaggedCreates,
    /// Every create whose body carries no run tag is forwarded and its answer lost, so its
    /// retries are refused in the end (the target turns unhealthy).
    LoseEveryUntaggedCreate,
}

#[derive(Debug)]
struct Gateway {
    upstream: String,
    mode: Mode,
    seed: u64,
    client: reqwest::Client,
    count: AtomicU64,
    acts: std::sync::Mutex<std::collections::BTreeMap<Act, u64>>,
    /// POSTs the server received whose answer the suite never saw.
    lost_creates: AtomicU64,
    /// Those of them whose body carries no run tag.
    lost_untagged: AtomicU64,
    /// Requests (method, path and body) the noisy gateway spoiled once: their retries pass, so
    /// a healthy-but-noisy path never looks unhealthy by the luck of the draw.
    spoiled: std::sync::Mutex<std::collections::HashSet<u64>>,
    /// Untagged creates seen (the `Lose*` modes).
    untagged: AtomicU64,
    /// Ids of the records the same-key bystander wrote.
    bystander: std::sync::Mutex<Vec<String>>,
}

/// Whether a create body carries an unsharded run's tag (`ct` and eight hex digits) anywhere:
/// the suite can find and prove such a record by its tag, and a bystander never writes one.
fn carries_run_tag(body: &[u8]) -> bool {
    body.windows(10).any(|w| {
        w.starts_with(b"ct")
            && w[2..]
                .iter()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
    })
}

fn splitmix(state: u64) -> u64 {
    let mut z = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Gateway {
    fn act(&self, n: u64) -> Act {
        match self.mode {
            Mode::FailAll => return Act::Html(503),
            Mode::FailAfterPreflight if n > 0 => return Act::Html(502),
            Mode::FailAfterPreflight => return Act::Forward,
            Mode::Noisy if n == 0 => return Act::Forward,
            Mode::Noisy => {}
            Mode::LoseUntaggedCreates | Mode::LoseEveryUntaggedCreate => return Act::Forward,
        }
        // About 16% of requests, common enough that every kind happens; a request is spoiled
        // once at most (see `Gateway::spoiled`), so its retry gets through.
        match splitmix(self.seed ^ n) % 100 {
            0..=2 => Act::ThrottleSeconds,
            3 => Act::ThrottleDate,
            4..=5 => Act::ThrottleBare,
            6 => Act::Html(502),
            7 => Act::Html(503),
            8 => Act::Html(504),
            9..=10 => Act::ResetBefore,
            11..=13 => Act::ResetAfter,
            14..=15 => Act::Slow,
            _ => Act::Forward,
        }
    }
}

async fn spawn_gateway(upstream: String, mode: Mode, seed: u64) -> (String, Arc<Gateway>) {
    let gateway = Arc::new(Gateway {
        upstream,
        mode,
        seed,
        client: reqwest::Client::new(),
        count: AtomicU64::new(0),
        acts: Default::default(),
        lost_creates: AtomicU64::new(0),
        lost_untagged: AtomicU64::new(0),
        spoiled: std::sync::Mutex::new(std::collections::HashSet::new()),
        untagged: AtomicU64::new(0),
        bystander: Default::default(),
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    accept_each(listener, gateway.clone(), serve);
    (url, gateway)
}

impl Gateway {
    /// Counts a create the server made whose answer the suite never sees.
    fn lost(&self, request: &Incoming) {
        self.lost_creates.fetch_add(1, Ordering::SeqCst);
        if !carries_run_tag(&request.body) {
            self.lost_untagged.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// The same key writes a record with the body of the create whose answer was just lost,
    /// straight to the service, within the second the suite's retry follows.
    async fn bystander_writes(&self, request: &Incoming) {
        let answer: serde_json::Value = self
            .client
            .post(format!("{}{}", self.upstream, request.path))
            .bearer_auth(DEV_KEY)
            .header("content-type", "application/json")
            .body(request.body.clone())
            .send()
            .await
            .expect("the upstream answers")
            .json()
            .await
            .unwrap();
        let id = answer["simulation"]["_id"].as_str().unwrap().to_owned();
        self.bystander.lock().unwrap().push(id);
    }
}

fn reset(stream: TcpStream) {
    // A zero linger makes the close a reset, as a gateway dropping a connection does.
    let _ = stream.set_zero_linger();
    drop(stream);
}

async fn forward(gateway: &Gateway, request: &Incoming) -> reqwest::Response {
    forward_to(&gateway.client, &gateway.upstream, request).await
}

async fn serve(mut stream: TcpStream, gateway: Arc<Gateway>) -> std::io::Result<()> {
    let request = read_request(&mut stream).await?;
    let n = gateway.count.fetch_add(1, Ordering::SeqCst);
    let mut act = gateway.act(n);
    let lose_untagged = matches!(
        gateway.mode,
        Mode::LoseUntaggedCreates | Mode::LoseEveryUntaggedCreate
    );
    if lose_untagged && request.method == "POST" && !carries_run_tag(&request.body) {
        act = Act::LoseIfCreated;
    }
    if gateway.mode == Mode::Noisy && act != Act::Forward {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        (&request.method, &request.path, &request.body).hash(&mut hasher);
        if !gateway.spoiled.lock().unwrap().insert(hasher.finish()) {
            act = Act::Forward;
        }
    }
    *gateway.acts.lock().unwrap().entry(act).or_default() += 1;
    let html = |status: u16| format!("<html><body><h1>{status}</h1>nginx</body></html>");
    match act {
        Act::ThrottleSeconds | Act::ThrottleDate | Act::ThrottleBare => {
            let mut headers = vec![("content-type", "text/html".to_owned())];
            if act == Act::ThrottleSeconds {
                headers.push(("retry-after", "1".to_owned()));
            } else if act == Act::ThrottleDate {
                let at = chrono::Utc::now() + chrono::Duration::seconds(1);
                headers.push((
                    "retry-after",
                    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string(),
                ));
            }
            write_response(&mut stream, 429, &headers, html(429).as_bytes()).await;
        }
        Act::Html(status) => {
            let headers = [("content-type", "text/html".to_owned())];
            write_response(&mut stream, status, &headers, html(status).as_bytes()).await;
        }
        Act::ResetBefore => reset(stream),
        Act::ResetAfter | Act::Slow | Act::Forward | Act::LoseIfCreated => {
            let answer = forward(&gateway, &request).await;
            if act == Act::LoseIfCreated && answer.status().is_success() {
                // In `LoseUntaggedCreates` every other accepted create gets through, so the
                // suite's retry of a lost one is answered.
                let accepted = gateway.untagged.fetch_add(1, Ordering::SeqCst);
                if gateway.mode == Mode::LoseEveryUntaggedCreate || accepted.is_multiple_of(2) {
                    act = Act::ResetAfter;
                }
            }
            if act == Act::ResetAfter {
                if request.method == "POST" && answer.status().is_success() {
                    gateway.lost(&request);
                    if gateway.mode == Mode::LoseUntaggedCreates {
                        gateway.bystander_writes(&request).await;
                    }
                }
                reset(stream);
                return Ok(());
            }
            let status = answer.status().as_u16();
            let mut headers = Vec::new();
            for name in ["content-type", "www-authenticate", "allow"] {
                if let Some(value) = answer.headers().get(name) {
                    headers.push((name, value.to_str().unwrap().to_owned()));
                }
            }
            let body = answer.bytes().await.unwrap();
            if act == Act::Slow {
                if request.method == "POST" && (200..300).contains(&status) {
                    gateway.lost(&request);
                }
                tokio::time::sleep(Duration::from_secs(4)).await;
            }
            write_response(&mut stream, status, &headers, &body).await;
        }
    }
    Ok(())
}

fn gateway_line(stdout: &str) -> &str {
    stdout
        .lines()
        .find(|l| l.starts_with("gateway: "))
        .unwrap_or_else(|| panic!("no gateway line in {stdout}"))
}

/// The number after `label` in the gateway line.
fn count_after(line: &str, label: &str) -> u64 {
    let rest = line
        .split(label)
        .nth(1)
        .unwrap_or_else(|| panic!("{label:?} not in {line}"));
    rest.trim_start()
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

const NOISY_ARGS: [&str; 8] = [
    "--cases",
    "150",
    "--seed",
    "11",
    "--timeout",
    "2",
    "--max-time",
    "300",
];

#[test]
fn a_faithful_server_behind_a_noisy_gateway_passes_and_leaves_only_what_it_reports() {
    let rt = runtime();
    rt.block_on(async {
        let upstream = reference_server::spawn(Config::development())
            .await
            .unwrap();
        let (url, gateway) = spawn_gateway(upstream.base_url(), Mode::Noisy, 1).await;
        let out = run_blocking(contract(&url, &NOISY_ARGS)).await;
        let stdout = text(&out.stdout);
        let stderr = text(&out.stderr);
        let acts = gateway.acts.lock().unwrap().clone();
        eprintln!(
            "gateway acts: {acts:?}, lost creates: {:?}",
            gateway.lost_creates
        );
        assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
        for act in [
            Act::ThrottleSeconds,
            Act::ThrottleDate,
            Act::ThrottleBare,
            Act::Html(502),
            Act::Html(503),
            Act::Html(504),
            Act::ResetBefore,
            Act::ResetAfter,
            Act::Slow,
        ] {
            assert!(
                acts.get(&act).is_some_and(|n| *n > 0),
                "{act:?} never happened: {acts:?}"
            );
        }
        assert!(
            gateway.lost_creates.load(Ordering::SeqCst) > 0,
            "some creates reached the server and their answer was lost"
        );
        let line = gateway_line(&stdout);
        let throttles = [Act::ThrottleSeconds, Act::ThrottleDate, Act::ThrottleBare]
            .iter()
            .map(|a| acts[a])
            .sum::<u64>();
        assert_eq!(count_after(line, "throttled"), throttles, "{line}");
        assert!(count_after(line, "recovered") > 0, "{line}");
        assert!(count_after(line, "ambiguous writes") > 0, "{line}");
        // What stays is what lost answers to untagged creates made (never deleted: the run
        // cannot prove them its own), and the summary counts at least that many (an attempt
        // reset before it was forwarded counts too, since the suite cannot tell).
        let left = team_ids(&upstream.base_url(), DEV_KEY).await.len()
            + team_ids(&upstream.base_url(), DEV_OTHER_TEAM_KEY)
                .await
                .len();
        assert_eq!(
            left as u64,
            gateway.lost_untagged.load(Ordering::SeqCst),
            "the run left records behind: {stdout}"
        );
        assert!(possibly_left(&stdout) >= left as u64, "{stdout}");
        assert!(!stdout.contains(DEV_KEY) && !stderr.contains(DEV_KEY));
        upstream.shutdown().await;
    });
}

#[test]
fn a_real_fault_behind_a_noisy_gateway_is_still_caught() {
    let rt = runtime();
    rt.block_on(async {
        let mut config = Config::development();
        config.faults = Fault::PatchNotPersisted.into();
        let upstream = reference_server::spawn(config).await.unwrap();
        let (url, _) = spawn_gateway(upstream.base_url(), Mode::Noisy, 2).await;
        // Shrinking replays the failing case through the gateway's waits (minutes to the end);
        // a 15 s budget (12 s of work, the 150 cases take about 9) always cuts it short, and
        // what was found is still reported, as first seen.
        let mut args = NOISY_ARGS;
        args[7] = "15";
        let out = run_blocking(contract(&url, &args)).await;
        let stdout = text(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
        assert!(stdout.contains("state_persisted"), "{stdout}");
        assert!(stdout.contains("shrinking cut short for"), "{stdout}");
        upstream.shutdown().await;
    });
}

/// A gateway that answers 502/503 to everything: exit 3 and one line, well within the budget.
fn assert_unhealthy(mode: Mode) {
    let rt = runtime();
    rt.block_on(async {
        let upstream = reference_server::spawn(Config::development())
            .await
            .unwrap();
        let (url, _) = spawn_gateway(upstream.base_url(), mode, 3).await;
        let started = Instant::now();
        let out = run_blocking(contract(
            &url,
            &["--cases", "50", "--timeout", "2", "--max-time", "60"],
        ))
        .await;
        let elapsed = started.elapsed();
        let stderr = text(&out.stderr);
        let stdout = text(&out.stdout);
        assert_eq!(out.status.code(), Some(3), "{stdout}{stderr}");
        let errors = error_lines(&stderr);
        assert_eq!(errors.len(), 1, "{stderr}");
        assert!(
            errors[0].contains("unhealthy") && errors[0].contains("on all 4 attempts"),
            "{stderr}"
        );
        // A liveness bound, not a benchmark: --max-time plus generous slack.
        assert!(elapsed < Duration::from_secs(60 + 30), "took {elapsed:?}");
        assert!(!stdout.contains(DEV_KEY) && !stderr.contains(DEV_KEY));
        upstream.shutdown().await;
    });
}

#[test]
fn a_gateway_failing_everything_after_the_preflight_ends_the_run_with_exit_3() {
    assert_unhealthy(Mode::FailAfterPreflight);
}

#[test]
fn a_gateway_failing_even_the_preflight_ends_the_run_with_exit_3() {
    assert_unhealthy(Mode::FailAll);
}

/// The number before `label` on the summary's cleanup line.
fn possibly_left(stdout: &str) -> u64 {
    let line = stdout
        .lines()
        .find(|l| l.starts_with("cleanup ("))
        .unwrap_or_else(|| panic!("no cleanup line in {stdout}"));
    line.split(" possibly left behind")
        .next()
        .filter(|_| line.contains(" possibly left behind"))
        .map(|before| {
            before
                .rsplit(|c: char| !c.is_ascii_digit())
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .unwrap_or(0)
}

/// One request at a time, so the proxy's every-other create alternates on one create's
/// attempts and its retry gets through.
const LOST_ANSWER_ARGS: [&str; 10] = [
    "--cases",
    "60",
    "--seed",
    "5",
    "--timeout",
    "2",
    "--max-time",
    "120",
    "--concurrency",
    "1",
];

/// A create whose answer is lost and a same-key client writing the identical record in the
/// same second: the cleanup never deletes what it cannot prove the run wrote, and says what
/// the lost attempts may have left.
#[test]
fn a_lost_create_answer_never_costs_a_same_key_client_its_identical_record() {
    let rt = runtime();
    rt.block_on(async {
        let upstream = reference_server::spawn(Config::development())
            .await
            .unwrap();
        let (url, gateway) = spawn_gateway(upstream.base_url(), Mode::LoseUntaggedCreates, 4).await;
        let out = run_blocking(contract(&url, &LOST_ANSWER_ARGS)).await;
        let stdout = text(&out.stdout);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
        let lost = gateway.lost_creates.load(Ordering::SeqCst);
        let bystander = gateway.bystander.lock().unwrap().clone();
        assert!(lost > 0 && bystander.len() as u64 == lost, "{stdout}");
        let left = team_ids(&upstream.base_url(), DEV_KEY).await;
        for id in &bystander {
            assert!(
                left.contains(id),
                "the run deleted {id}, a same-key client's record: {stdout}"
            );
        }
        // What stays besides the bystander's records is what the lost attempts made, and
        // the summary counts exactly that.
        assert_eq!(left.len() as u64 - bystander.len() as u64, lost, "{stdout}");
        assert_eq!(possibly_left(&stdout), lost, "{stdout}");
        upstream.shutdown().await;
    });
}

/// A create whose answer is lost on every attempt: the retries end (the target is
/// unhealthy), and the records those attempts may have made are reported, not passed over
/// with "nothing left over".
#[test]
fn creates_given_up_after_lost_answers_are_reported_as_possibly_left_behind() {
    let rt = runtime();
    rt.block_on(async {
        let upstream = reference_server::spawn(Config::development())
            .await
            .unwrap();
        let (url, gateway) =
            spawn_gateway(upstream.base_url(), Mode::LoseEveryUntaggedCreate, 5).await;
        let out = run_blocking(contract(&url, &LOST_ANSWER_ARGS)).await;
        let stdout = text(&out.stdout);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{stdout}{stderr}");
        let lost = gateway.lost_creates.load(Ordering::SeqCst);
        assert!(lost > 0, "{stdout}");
        let left = team_ids(&upstream.base_url(), DEV_KEY).await;
        assert_eq!(left.len() as u64, lost, "{stdout}");
        assert!(!stdout.contains("nothing left over"), "{stdout}");
        assert_eq!(possibly_left(&stdout), lost, "{stdout}");
        upstream.shutdown().await;
    });
}
