//! Helpers the xtask integration tests share: running the built xtask, temporary paths, and reading a team straight from a server.

pub mod oracle;
pub mod runs;
pub mod snapshot;

use std::future::Future;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Runs the built xtask with only `token` as `CONTRACT_TOKEN` (no other key from the caller's
/// environment). `mutants` and `bench` run from the debug build the tests already have, too,
/// instead of handing over to a release build.
pub fn xtask(args: &[&str], token: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command
        .args(args)
        .env("XTASK_ALLOW_DEBUG", "1")
        .env_remove("CONTRACT_TOKEN")
        .env_remove("CONTRACT_OTHER_TEAM_TOKEN");
    if let Some(token) = token {
        command.env("CONTRACT_TOKEN", token);
    }
    command.output().expect("xtask runs")
}

/// `cargo xtask contract --base-url URL` from the debug build with `keys` as `CONTRACT_TOKEN`
/// and `CONTRACT_OTHER_TEAM_TOKEN` and standard input closed; the caller adds its flags.
pub fn contract_with_keys(url: &str, keys: (&str, &str)) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command
        .args(["contract", "--base-url", url])
        .env("XTASK_ALLOW_DEBUG", "1")
        .env("CONTRACT_TOKEN", keys.0)
        .env("CONTRACT_OTHER_TEAM_TOKEN", keys.1)
        .stdin(Stdio::null());
    command
}

/// Serves every connection `listener` accepts with `serve` and `state`, each on a task of its
/// own, until the listener fails.
pub fn accept_each<S, F, Fut>(listener: TcpListener, state: Arc<S>, serve: F)
where
    S: Send + Sync + 'static,
    F: Fn(TcpStream, Arc<S>) -> Fut + Send + Sync + Copy + 'static,
    Fut: Future<Output = std::io::Result<()>> + Send + 'static,
{
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let state = state.clone();
            tokio::spawn(async move {
                let _ = serve(stream, state).await;
            });
        }
    });
}

/// Writes one HTTP/1.1 answer and closes the exchange (`connection: close`).
pub async fn write_response(
    stream: &mut TcpStream,
    status: u16,
    headers: &[(&str, String)],
    body: &[u8],
) {
    let mut out = format!("HTTP/1.1 {status} X\r\n");
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    ));
    let _ = stream.write_all(out.as_bytes()).await;
    let _ = stream.write_all(body).await;
}

/// Sends `request` on to `upstream` with its `Authorization`, `Content-Type` and body, as a
/// forwarding gateway does.
pub async fn forward_to(
    client: &reqwest::Client,
    upstream: &str,
    request: &Incoming,
) -> reqwest::Response {
    let method = reqwest::Method::from_bytes(request.method.as_bytes()).unwrap();
    let mut sent = client.request(method, format!("{upstream}{}", request.path));
    for (name, value) in &request.headers {
        if name == "authorization" || name == "content-type" {
            sent = sent.header(name.as_str(), value.as_str());
        }
    }
    if !request.body.is_empty() || request.headers.iter().any(|(k, _)| k == "content-type") {
        sent = sent.body(request.body.clone());
    }
    sent.send().await.expect("the upstream answers")
}

/// The answer an axum proxy relays: `status`, the headers a client of this API reads
/// (`Content-Type`, `WWW-Authenticate`, `Allow`) copied from `headers`, and `bytes`.
pub fn relayed(
    status: axum::http::StatusCode,
    headers: &axum::http::HeaderMap,
    bytes: Vec<u8>,
) -> axum::response::Response {
    use axum::http::header;
    let mut response = axum::response::Response::builder().status(status);
    for name in [
        header::CONTENT_TYPE,
        header::WWW_AUTHENTICATE,
        header::ALLOW,
    ] {
        if let Some(value) = headers.get(&name) {
            response = response.header(name, value);
        }
    }
    response.body(axum::body::Body::from(bytes)).unwrap()
}

/// A runtime for tests that run servers in-process and the built xtask beside them; the TLS
/// provider is installed as the suite's own client does.
pub fn runtime() -> tokio::runtime::Runtime {
    interactly_simulations_client::install_crypto_provider();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Runs a command to completion off the runtime's workers, so in-process servers keep serving it.
pub async fn run_blocking(mut command: Command) -> Output {
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

/// A path in the temporary directory unique to this test binary and process.
pub fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "xtask-{}-{}-{name}",
        env!("CARGO_CRATE_NAME"),
        std::process::id()
    ))
}

/// The `error: ` lines of a command's standard error.
pub fn error_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect()
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The first page of `size` of a key's team, read straight from the server: the list's JSON.
pub async fn team_page(base_url: &str, key: &str, size: u32) -> serde_json::Value {
    reqwest::Client::new()
        .get(format!("{base_url}/workflows/v1/simulations?size={size}"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The ids a key's team holds, read straight from the server.
pub async fn team_ids(base_url: &str, key: &str) -> Vec<String> {
    team_page(base_url, key, 1000).await["simulations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["_id"].as_str().unwrap().to_owned())
        .collect()
}

/// One HTTP/1 request as a hand-written loopback server reads it: header names lower-cased.
pub struct Incoming {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Reads one request (head byte by byte, then a `Content-Length` body) from a raw socket.
pub async fn read_request(stream: &mut TcpStream) -> std::io::Result<Incoming> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut lines = head.lines();
    let mut first = lines.next().unwrap_or_default().split(' ');
    let method = first.next().unwrap_or_default().to_owned();
    let path = first.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await?;
    Ok(Incoming {
        method,
        path,
        headers,
        body,
    })
}
