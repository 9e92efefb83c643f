//! Sending a case's request to the target over HTTP (no redirects, a size cap, every response redacted on arrival, 429s and infrastructure failures retried as `gateway.rs` decides), counting what was sent, pacing it under `--rate`, and writing the curl line that reproduces it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{Mutex, Semaphore};
use tokio::time::Instant;

use crate::error::error_chain;
use crate::gateway::{Class, GatewayStats, Infra, RetryPolicy, Unhealthy, classify, splitmix};
use crate::redact::{Key, Secrets};
use crate::request::{AlteredAs, Auth, Elsewhere, Request};
use crate::response::Response;
use crate::spec::Operation;

/// The default cap on one response body: far above any page this API serves, far below what
/// would let a hostile server exhaust memory.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 8 << 20;

/// A body may grow to this without a large-body slot: a full page of this API is smaller.
const SMALL_BODY_BYTES: usize = 256 << 10;
/// How many bodies may be read past [`SMALL_BODY_BYTES`] at once, so that peak memory stays near
/// `concurrency × 256 KiB + LARGE_BODY_SLOTS × cap` however many responses are huge.
const LARGE_BODY_SLOTS: usize = 2;

/// The target and the keys to reach it with. The keys are never printed: see [`curl_line`].
#[derive(Clone)]
pub struct Target {
    pub base_url: String,
    pub token: Key,
    pub other_team_token: Option<Key>,
    secrets: Secrets,
    max_response_bytes: usize,
    large_bodies: Arc<Semaphore>,
    sent: Arc<SentCounts>,
    client: reqwest::Client,
    /// Retries go through the run's pacer, so `--rate` holds for them too; the first attempt
    /// is paced by the caller.
    pacer: Option<Arc<Pacer>>,
    /// No wait for a retry may end past this (the run's `--max-time`).
    deadline: Option<Instant>,
    policy: RetryPolicy,
    /// The seeded stream the backoff's jitter comes from.
    entropy: Arc<AtomicU64>,
    stats: Arc<std::sync::Mutex<GatewayStats>>,
    /// Reserves one more create for a create's retry (`--max-creates` counts what is sent).
    create_retries: Option<Arc<dyn Fn() -> bool + Send + Sync>>,
}

/// Requests handed to the network, per operation, over the whole run (cases, shrinking, cleanup).
#[derive(Debug, Default)]
pub struct SentCounts([AtomicU64; Operation::ALL.len()]);

impl SentCounts {
    fn add(&self, operation: Operation) {
        self.0[operation.index()].fetch_add(1, Ordering::Relaxed);
    }

    pub fn of(&self, operation: Operation) -> u64 {
        self.0[operation.index()].load(Ordering::Relaxed)
    }

    pub fn total(&self) -> u64 {
        self.0.iter().map(|n| n.load(Ordering::Relaxed)).sum()
    }
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

/// Why no usable response came back.
#[derive(Debug, Clone, PartialEq)]
pub struct TransportError {
    pub kind: Failure,
    /// Already redacted.
    pub message: String,
    /// Attempts of a write that failed after they may have reached the service (see
    /// `Response::lost_attempts`): a request given up may still have acted, that many times.
    pub lost_attempts: u32,
}

/// The kinds of [`TransportError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Refused, reset, timed out, or not HTTP.
    NoResponse,
    /// The body was larger than the cap; it was not read further.
    TooLarge,
    /// An infrastructure failure (see `gateway.rs`) persisted through every retry: the target
    /// is unhealthy. Not a contract violation; the run ends with exit code 3.
    Unhealthy,
    /// Retrying would pass the run's `--max-creates` (a create's retry is another create); the
    /// request was given up. Not a contract violation.
    OutOfBudget,
    /// Waiting out a 429 (its `Retry-After`, or the backoff) would pass the run's deadline; the
    /// request was given up. Not a contract violation, and not a pass either.
    Throttled,
}

impl Failure {
    /// The request was given up for the infrastructure's sake: its scenario is not judged.
    pub(crate) fn abandons(self) -> bool {
        matches!(
            self,
            Failure::Unhealthy | Failure::OutOfBudget | Failure::Throttled
        )
    }
}

/// One attempt's outcome, before the retry loop decides on it.
enum Attempt {
    Answered(Response, Option<String>),
    Failed(TransportError, Option<Infra>),
}

/// Why a key cannot be sent, in words that never include the key.
pub(crate) fn header_problem(key: &str) -> Option<&'static str> {
    if key.is_empty() {
        Some("it is empty")
    } else if key.contains(['\r', '\n']) {
        Some("it contains a line break (a trailing newline from a file or `echo`?)")
    } else if key.chars().any(|c| c.is_control()) {
        Some("it contains a control character")
    } else if !key.is_ascii() {
        Some("it contains characters outside ASCII")
    } else if key.starts_with([' ', '\t']) || key.ends_with([' ', '\t']) {
        Some("it starts or ends with white space")
    } else {
        None
    }
}

impl Target {
    /// A target for `base_url`. Both keys must pass [`header_problem`]; the runner checks that
    /// first so it can name the variable at fault.
    pub fn new(
        base_url: &str,
        token: String,
        other_team_token: Option<String>,
        timeout: Duration,
        max_response_bytes: usize,
    ) -> Result<Target, String> {
        interactly_simulations_client::install_crypto_provider();
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .pool_max_idle_per_host(256)
            // Below the keep-alive of the servers this meets (uvicorn 5 s, the reference server
            // 10 s): a connection the server has just closed for idleness would otherwise be
            // reused and fail with "connection closed before message completed".
            .pool_idle_timeout(Duration::from_secs(4))
            .tcp_nodelay(true)
            // A redirect would carry the key and the body to a host the guard never saw; a 3xx
            // is judged as the response it is.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Target {
            base_url: base_url.trim_end_matches('/').to_owned(),
            secrets: Secrets::new(&token, other_team_token.as_deref()),
            token: Key::new(token),
            other_team_token: other_team_token.map(Key::new),
            max_response_bytes,
            large_bodies: Arc::new(Semaphore::new(LARGE_BODY_SLOTS)),
            sent: Arc::new(SentCounts::default()),
            client,
            pacer: None,
            deadline: None,
            policy: RetryPolicy::default(),
            entropy: Arc::new(AtomicU64::new(0)),
            stats: Arc::default(),
            create_retries: None,
        })
    }

    /// The same target, pacing its retries with `pacer`, never waiting past `deadline`, and
    /// drawing its backoff's jitter from `seed`.
    /// A create is retried only when `create_retries` reserves another create.
    pub(crate) fn governed(
        mut self,
        pacer: Arc<Pacer>,
        deadline: Instant,
        seed: u64,
        create_retries: Arc<dyn Fn() -> bool + Send + Sync>,
    ) -> Target {
        self.create_retries = Some(create_retries);
        self.pacer = Some(pacer);
        self.deadline = Some(deadline);
        self.entropy = Arc::new(AtomicU64::new(seed));
        self
    }

    /// The same target, never waiting to retry past `deadline` (the preflight's own bound,
    /// before the run's budget starts).
    pub(crate) fn with_deadline(mut self, deadline: Instant) -> Target {
        self.deadline = Some(deadline);
        self
    }

    /// What the gateway did so far.
    pub(crate) fn gateway_stats(&self) -> GatewayStats {
        self.stats.lock().expect("not poisoned").clone()
    }

    /// Whether some request failed on every attempt.
    pub fn unhealthy(&self) -> bool {
        self.stats.lock().expect("not poisoned").unhealthy.is_some()
    }

    pub fn secrets(&self) -> &Secrets {
        &self.secrets
    }

    pub fn sent(&self) -> &SentCounts {
        &self.sent
    }

    fn failure(&self, kind: Failure, message: &str) -> TransportError {
        TransportError {
            kind,
            message: self.secrets.redact(message),
            lost_attempts: 0,
        }
    }

    /// Sends `request`, waiting out 429s and retrying infrastructure failures (`gateway.rs`).
    /// The response says when an earlier attempt failed in a way that may have reached the
    /// service (`Response::ambiguous_for`).
    pub async fn send(&self, request: &Request) -> Result<Response, TransportError> {
        let retrying = std::sync::atomic::AtomicBool::new(false);
        let lost = std::sync::atomic::AtomicU32::new(0);
        let mut result = self.attempts(request, &retrying, &lost).await;
        // Every infrastructure failure may have reached the service (`gateway.rs`): for a
        // write, each is an attempt that may have acted, answered or given up.
        if request.method != "GET" {
            let lost = lost.load(Ordering::Relaxed);
            match &mut result {
                Ok(response) => response.lost_attempts = lost,
                Err(e) => e.lost_attempts = lost,
            }
        }
        // Not reached when the caller drops the request mid-retry (the time budget cut its case
        // short): it then stays counted in `retrying`, for `Target::unhealthy_if_retrying`.
        if retrying.load(Ordering::Relaxed) {
            self.stats.lock().expect("not poisoned").retrying -= 1;
        }
        result
    }

    /// When the time budget cut requests short while they were still retrying infrastructure
    /// failures, the target is unhealthy: the failure persisted until the run had to end.
    pub(crate) fn unhealthy_if_retrying(&self) {
        let mut stats = self.stats.lock().expect("not poisoned");
        if stats.retrying > 0 && stats.unhealthy.is_none() {
            stats.unhealthy = Some(Unhealthy {
                first: format!(
                    "{}, still failing when the time budget ran out",
                    stats.last_failure
                ),
                requests: stats.retrying,
            });
        }
    }

    async fn attempts(
        &self,
        request: &Request,
        retrying: &std::sync::atomic::AtomicBool,
        lost: &std::sync::atomic::AtomicU32,
    ) -> Result<Response, TransportError> {
        let first = Instant::now();
        let (mut throttles, mut retries) = (0u32, 0u32);
        let mut ambiguous = false;
        let mut failed: Vec<Infra> = Vec::new();
        let mut retry_after: Option<Duration> = None;
        loop {
            if throttles + retries > 0
                && let Some(pacer) = &self.pacer
            {
                pacer.wait().await;
            }
            let class = match self.send_once(request).await {
                Attempt::Answered(mut response, retry_after) => {
                    match classify(&response, retry_after.as_deref(), chrono::Utc::now()) {
                        Class::Service => {
                            let mut stats = self.stats.lock().expect("not poisoned");
                            for kind in failed {
                                *stats.recovered.entry(kind).or_default() += 1;
                            }
                            if ambiguous && request.method != "GET" {
                                stats.ambiguous_writes += 1;
                                response.ambiguous_for = Some(first.elapsed());
                            }
                            return Ok(response);
                        }
                        class => class,
                    }
                }
                Attempt::Failed(e, None) => return Err(e),
                Attempt::Failed(_, Some(kind)) => Class::Infra(kind),
            };
            let wait = match class {
                Class::Throttled(after) => {
                    throttles += 1;
                    if throttles > self.policy.throttle_retries {
                        return Err(self.gave_up(request, "429", throttles));
                    }
                    retry_after = after;
                    after.unwrap_or_else(|| self.policy.backoff(throttles - 1, self.jitter()))
                }
                Class::Infra(kind) => {
                    ambiguous = true;
                    lost.fetch_add(1, Ordering::Relaxed);
                    failed.push(kind);
                    let path = request.path_and_query.split('?').next().unwrap_or_default();
                    let mut stats = self.stats.lock().expect("not poisoned");
                    stats.last_failure = self.secrets.redact(&format!(
                        "{} {path}: {}",
                        request.method,
                        kind.describe()
                    ));
                    if !retrying.swap(true, Ordering::Relaxed) {
                        stats.retrying += 1;
                    }
                    drop(stats);
                    if retries == self.policy.infra_retries {
                        return Err(self.gave_up(request, &kind.describe(), retries + 1));
                    }
                    retries += 1;
                    self.policy.backoff(retries - 1, self.jitter())
                }
                Class::Service => unreachable!("returned above"),
            };
            // The wait is the server's to choose (`Retry-After` saturates at u64::MAX seconds,
            // past what an `Instant` can hold): it is compared with what is left, never added.
            if let Some(deadline) = self.deadline
                && wait >= deadline.saturating_duration_since(Instant::now())
            {
                if let Class::Infra(kind) = class {
                    // The failure persisted until the run had to end: as unhealthy as a
                    // failure that outlived every retry.
                    return Err(self.gave_up(
                        request,
                        &format!("{} until the deadline", kind.describe()),
                        retries,
                    ));
                }
                let mut stats = self.stats.lock().expect("not poisoned");
                stats.throttled_past_budget += 1;
                if let Some(after) = retry_after {
                    stats.longest_refused_retry_after =
                        stats.longest_refused_retry_after.max(Some(after));
                }
                drop(stats);
                return Err(self.failure(
                    Failure::Throttled,
                    &format!(
                        "given up: waiting {} s to retry a 429 would pass the run's deadline",
                        wait.as_secs()
                    ),
                ));
            }
            if request.operation == Operation::Create
                && let Some(reserve) = &self.create_retries
                && !reserve()
            {
                return Err(self.failure(
                    Failure::OutOfBudget,
                    "given up: retrying this create would pass --max-creates",
                ));
            }
            if matches!(class, Class::Throttled(_)) {
                let mut stats = self.stats.lock().expect("not poisoned");
                stats.throttled += 1;
                stats.throttled_wait = stats.throttled_wait.saturating_add(wait);
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// The next value of the backoff's seeded jitter stream.
    fn jitter(&self) -> u64 {
        splitmix(
            self.entropy
                .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed),
        )
    }

    /// Marks the target unhealthy: `what` persisted for `attempts` attempts of `request`.
    fn gave_up(&self, request: &Request, what: &str, attempts: u32) -> TransportError {
        let path = request.path_and_query.split('?').next().unwrap_or_default();
        let first = format!(
            "{} {path}: {what} on all {attempts} attempts",
            request.method
        );
        let mut stats = self.stats.lock().expect("not poisoned");
        match &mut stats.unhealthy {
            Some(unhealthy) => unhealthy.requests += 1,
            None => {
                stats.unhealthy = Some(Unhealthy {
                    first: self.secrets.redact(&first),
                    requests: 1,
                })
            }
        }
        self.failure(Failure::Unhealthy, &first)
    }

    /// One attempt: the response (with its `Retry-After`), or why none came and whether that is
    /// an infrastructure failure worth a retry.
    async fn send_once(&self, request: &Request) -> Attempt {
        match self.send_raw(request).await {
            Ok(answered) => Attempt::Answered(answered.0, answered.1),
            Err((e, kind)) => Attempt::Failed(e, kind),
        }
    }

    async fn send_raw(
        &self,
        request: &Request,
    ) -> Result<(Response, Option<String>), (TransportError, Option<Infra>)> {
        let no_response = |e: &reqwest::Error| {
            (
                self.failure(Failure::NoResponse, &describe_error(e)),
                infra_kind(e),
            )
        };
        let method = reqwest::Method::from_bytes(request.method.as_bytes())
            .map_err(|e| (self.failure(Failure::NoResponse, &e.to_string()), None))?;
        let mut builder = self.client.request(
            method,
            format!("{}{}", self.base_url, request.path_and_query),
        );
        if let Some(value) = self.authorization(&request.auth) {
            builder = builder.header(reqwest::header::AUTHORIZATION, value);
        }
        match request.auth {
            Auth::KeyElsewhere(Elsewhere::Header(name)) => {
                let mut value = reqwest::header::HeaderValue::from_str(self.token.expose())
                    .map_err(|e| (self.failure(Failure::NoResponse, &e.to_string()), None))?;
                value.set_sensitive(true);
                builder = builder.header(name, value);
            }
            Auth::KeyElsewhere(Elsewhere::Query(name)) => {
                builder = builder.query(&[(name, self.token.expose())]);
            }
            _ => {}
        }
        if let Some(content_type) = &request.content_type {
            builder = builder.header(reqwest::header::CONTENT_TYPE, content_type);
        }
        let bytes = request.body.bytes();
        if !bytes.is_empty() || request.content_type.is_some() {
            builder = builder.body(bytes);
        }
        self.sent.add(request.operation);
        let mut response = builder.send().await.map_err(|e| no_response(&e))?;
        let header = |name: reqwest::header::HeaderName| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| self.secrets.redact(v))
        };
        let status = response.status().as_u16();
        let content_type = header(reqwest::header::CONTENT_TYPE);
        let www_authenticate = header(reqwest::header::WWW_AUTHENTICATE);
        let allow = header(reqwest::header::ALLOW);
        let retry_after = header(reqwest::header::RETRY_AFTER);
        let too_large = |seen: String| {
            self.failure(
                Failure::TooLarge,
                &format!(
                    "{status} with a body of {seen}, over the cap of {} bytes; not read further",
                    self.max_response_bytes
                ),
            )
        };
        let body = read_capped(
            &mut response,
            self.max_response_bytes,
            Some((SMALL_BODY_BYTES, &self.large_bodies)),
        )
        .await
        .map_err(|e| match e {
            BodyError::TooLarge { seen, .. } => (too_large(seen), None),
            BodyError::Read(e) => no_response(&e),
        })?;
        Ok((
            self.redacted_response(status, content_type, body, www_authenticate, allow),
            retry_after,
        ))
    }

    /// The response as every later step sees it: no key anywhere in it, in whatever form the
    /// server wrote it.
    fn redacted_response(
        &self,
        status: u16,
        content_type: Option<String>,
        body: Vec<u8>,
        www_authenticate: Option<String>,
        allow: Option<String>,
    ) -> Response {
        let mut out = Response::new(status, content_type, self.secrets.redact_vec(body));
        if let Some(json) = &mut out.json
            && self.secrets.redact_json(json)
        {
            out.body = serde_json::to_vec(json).expect("a Value serialises");
        }
        out.www_authenticate = www_authenticate;
        out.allow = allow;
        out
    }

    fn authorization(&self, auth: &Auth) -> Option<reqwest::header::HeaderValue> {
        let text = match auth {
            Auth::Primary => format!("Bearer {}", self.token.expose()),
            // One space separates the scheme; the padding is extra.
            Auth::PrimaryRespelled {
                scheme,
                before,
                after,
            } => {
                format!("{scheme} {before}{}{after}", self.token.expose())
            }
            Auth::OtherTeam => format!(
                "Bearer {}",
                self.other_team_token.as_ref().map(Key::expose)?
            ),
            Auth::KeyAltered(alteration) => format!(
                "Bearer {}",
                alteration
                    .apply(
                        self.token.expose(),
                        self.other_team_token.as_ref().map(Key::expose)
                    )?
                    .0
            ),
            Auth::Literal(value) => value.clone(),
            Auth::None | Auth::KeyElsewhere(_) => return None,
        };
        let mut value = reqwest::header::HeaderValue::from_str(&text).ok()?;
        value.set_sensitive(true);
        Some(value)
    }
}

/// Whether a transport error is the infrastructure's: a timeout, or a connection reset or closed
/// before the answer completed. A refused connection (nothing listens) and an answer that is not
/// HTTP are not: retrying them hides a wrong URL or a broken server.
fn infra_kind(e: &reqwest::Error) -> Option<Infra> {
    if e.is_timeout() {
        return Some(Infra::Timeout);
    }
    if e.is_connect() {
        return None;
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::*;
            match io.kind() {
                ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof => {
                    return Some(Infra::Connection);
                }
                TimedOut => return Some(Infra::Timeout),
                _ => {}
            }
        }
        // hyper's "connection closed before message completed" carries no io::Error.
        if cause
            .to_string()
            .contains("connection closed before message completed")
        {
            return Some(Infra::Connection);
        }
        source = cause.source();
    }
    None
}

fn describe_error(e: &reqwest::Error) -> String {
    let text = error_chain(e);
    if e.is_timeout() {
        format!("timed out ({text})")
    } else {
        text
    }
}

/// Spaces requests out so that no more than `per_second` start in any second.
#[derive(Debug)]
pub struct Pacer {
    interval: Option<Duration>,
    next: Mutex<Instant>,
}

impl Pacer {
    pub fn new(per_second: Option<f64>) -> Pacer {
        // A rate so small its interval overflows a Duration paces nothing rather than panic;
        // `--rate` is range-checked before it gets here.
        let interval = per_second
            .filter(|r| *r > 0.0)
            .and_then(|r| Duration::try_from_secs_f64(1.0 / r).ok());
        Pacer {
            interval,
            next: Mutex::new(Instant::now()),
        }
    }

    pub async fn wait(&self) {
        let Some(interval) = self.interval else {
            return;
        };
        let slot = {
            let mut next = self.next.lock().await;
            let slot = (*next).max(Instant::now());
            *next = slot.checked_add(interval).unwrap_or(slot);
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

/// `text` as one shell word. Text with a character a terminal acts on (see
/// [`crate::text::is_unsafe`]) is written in ANSI-C quoting, `$'…'`, with that character as a
/// `\xHH` or `\uHHHH` escape: the line sends the same bytes and prints nothing raw.
fn shell_quote(text: &str) -> String {
    if !text.chars().any(crate::text::is_unsafe) {
        return format!("'{}'", text.replace('\'', r"'\''"));
    }
    let mut out = String::from("$'");
    for c in text.chars() {
        match c {
            '\\' => out.push_str(r"\\"),
            '\'' => out.push_str(r"\'"),
            c if crate::text::is_unsafe(c) && u32::from(c) < 0x80 => {
                out.push_str(&format!("\\x{:02x}", u32::from(c)));
            }
            c if crate::text::is_unsafe(c) => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// `$CONTRACT_TOKEN` altered as [`AlteredAs`] says, as a POSIX shell word to write inside double
/// quotes: the line redoes the alteration rather than show the altered key.
fn altered_token(altered: AlteredAs) -> String {
    match altered {
        AlteredAs::Upper => "$(printf %s \"$CONTRACT_TOKEN\" | tr a-z A-Z)".into(),
        AlteredAs::Lower => "$(printf %s \"$CONTRACT_TOKEN\" | tr A-Z a-z)".into(),
        AlteredAs::LastChanged(c) => format!("${{CONTRACT_TOKEN%?}}{c}"),
        AlteredAs::Prefix => "${CONTRACT_TOKEN%?}".into(),
        AlteredAs::Suffixed => format!("${{CONTRACT_TOKEN}}{}", crate::request::SUFFIX),
    }
}

/// A shell command that sends the same request. The key is written as `$CONTRACT_TOKEN`
/// (or `$CONTRACT_OTHER_TEAM_TOKEN`), never as itself; an altered key as a shell expression
/// that alters `$CONTRACT_TOKEN` the same way, which is why the keys are needed here.
pub(crate) fn curl_line(
    base_url: &str,
    request: &Request,
    token: &Key,
    other_team_token: Option<&Key>,
) -> String {
    let mut parts = vec![
        "curl".to_owned(),
        "-i".to_owned(),
        "-X".to_owned(),
        request.method.clone(),
    ];
    let url = shell_quote(&format!("{base_url}{}", request.path_and_query));
    match request.auth {
        // The parameter is the last of the query; the key is spliced in unquoted by the shell.
        Auth::KeyElsewhere(Elsewhere::Query(name)) => {
            let joint = if request.path_and_query.contains('?') {
                '&'
            } else {
                '?'
            };
            parts.push(format!(
                "{url}{}\"$CONTRACT_TOKEN\"",
                shell_quote(&format!("{joint}{name}="))
            ));
        }
        _ => parts.push(url),
    }
    match &request.auth {
        Auth::KeyElsewhere(Elsewhere::Header(name)) => {
            parts.push(format!(
                "-H {}\"$CONTRACT_TOKEN\"",
                shell_quote(&format!("{name}: "))
            ));
        }
        Auth::KeyElsewhere(Elsewhere::Query(_)) => {}
        Auth::KeyAltered(alteration) => {
            if let Some((_, altered)) =
                alteration.apply(token.expose(), other_team_token.map(Key::expose))
            {
                parts.push(format!(
                    "-H \"Authorization: Bearer {}\"",
                    altered_token(altered)
                ));
            }
        }
        Auth::Primary => parts.push("-H \"Authorization: Bearer $CONTRACT_TOKEN\"".into()),
        Auth::PrimaryRespelled {
            scheme,
            before,
            after,
        } => parts.push(format!(
            "-H {}\"$CONTRACT_TOKEN\"{}",
            shell_quote(&format!("Authorization: {scheme} {before}")),
            shell_quote(after)
        )),
        Auth::OtherTeam => {
            parts.push("-H \"Authorization: Bearer $CONTRACT_OTHER_TEAM_TOKEN\"".into())
        }
        Auth::Literal(value) => parts.push(format!(
            "-H {}",
            shell_quote(&format!("Authorization: {value}"))
        )),
        Auth::None => {}
    }
    if let Some(content_type) = &request.content_type {
        parts.push(format!(
            "-H {}",
            shell_quote(&format!("Content-Type: {content_type}"))
        ));
    }
    let bytes = request.body.bytes();
    match std::str::from_utf8(&bytes) {
        _ if bytes.is_empty() => {}
        Ok(text) => parts.push(format!("--data-binary {}", shell_quote(text))),
        Err(_) => {
            let escaped: String = bytes
                .iter()
                .map(|b| match b {
                    b' '..=b'~' if *b != b'\'' && *b != b'\\' && *b != b'%' => {
                        (*b as char).to_string()
                    }
                    _ => format!("\\x{b:02x}"),
                })
                .collect();
            return format!("printf '{escaped}' | {} --data-binary @-", parts.join(" "));
        }
    }
    parts.join(" ")
}

/// Why [`read_capped`] stopped before the end of a body.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// `seen` says how much: the declared length, or "more than CAP bytes".
    #[error("a body of {seen}, over the cap of {cap} bytes; not read further")]
    TooLarge { seen: String, cap: usize },
    #[error("cannot read the body: {}", error_chain(.0))]
    Read(reqwest::Error),
}

/// A response's body, refused as soon as it is known to pass `cap` bytes: by its
/// Content-Length before reading, or by what has arrived. Peak memory stays near `cap` however
/// long the server streams. With `large`, a body growing past its threshold first takes a slot
/// of its semaphore, so only that many bodies near the cap are in memory at once.
pub async fn read_capped(
    response: &mut reqwest::Response,
    cap: usize,
    large: Option<(usize, &Semaphore)>,
) -> Result<Vec<u8>, BodyError> {
    let too_large = |seen: String| BodyError::TooLarge { seen, cap };
    if let Some(declared) = response.content_length()
        && declared > cap as u64
    {
        return Err(too_large(format!("{declared} bytes (Content-Length)")));
    }
    // Chunks are kept as they come and joined once: a growing Vec would double its capacity
    // past the body's size, which is what the cap is meant to bound.
    let mut chunks = Vec::new();
    let mut len = 0usize;
    let mut _large_slot = None;
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Read)? {
        len = len.saturating_add(chunk.len());
        if len > cap {
            return Err(too_large(format!("more than {cap} bytes")));
        }
        if let Some((threshold, slots)) = large
            && len > threshold
            && _large_slot.is_none()
        {
            _large_slot = Some(
                slots
                    .acquire()
                    .await
                    .expect("the semaphore is never closed"),
            );
        }
        chunks.push(chunk);
    }
    Ok(chunks.concat())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::{Alteration, Body};
    use crate::spec::Operation;
    use serde_json::json;

    const KEY: &str = "dev-key-team-a";

    fn post(path: &str, body: Body) -> Request {
        Request {
            operation: Operation::Create,
            method: "POST".into(),
            path_and_query: path.into(),
            content_type: Some("application/json".into()),
            body,
            auth: Auth::Primary,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_pacer_spaces_requests_by_the_rate() {
        let pacer = Pacer::new(Some(10.0));
        let start = Instant::now();
        for _ in 0..5 {
            pacer.wait().await;
        }
        // Virtual time: the fifth request may start 4 intervals after the first, never sooner.
        assert_eq!(start.elapsed(), Duration::from_millis(400));
        let unlimited = Pacer::new(None);
        let start = Instant::now();
        unlimited.wait().await;
        assert_eq!(start.elapsed(), Duration::ZERO);
    }

    #[test]
    fn curl_names_the_key_by_variable_and_quotes_the_body() {
        let request = post(
            "/workflows/v1/simulations",
            Body::Json(json!({"logical_id": "it's"})),
        );
        let line = curl_line("http://127.0.0.1:9", &request, &Key::new(KEY), None);
        assert_eq!(
            line,
            r#"curl -i -X POST 'http://127.0.0.1:9/workflows/v1/simulations' -H "Authorization: Bearer $CONTRACT_TOKEN" -H 'Content-Type: application/json' --data-binary '{"logical_id":"it'\''s"}'"#
        );
    }

    #[test]
    fn curl_writes_control_characters_as_ansi_c_escapes() {
        let request = post(
            "/x",
            Body::Bytes(b"{\"k\":\"a\x1b[2K\r\\'\xc2\x9b\xe2\x80\xae\"}".to_vec()),
        );
        let line = curl_line("http://h", &request, &Key::new(KEY), None);
        assert!(
            line.ends_with(r#"--data-binary $'{"k":"a\x1b[2K\x0d\\\'\u009b\u202e"}'"#),
            "{line}"
        );
        assert!(!line.chars().any(crate::text::is_unsafe), "{line}");
    }

    #[test]
    fn curl_sends_bytes_that_are_not_utf8_through_printf() {
        let request = post("/x", Body::Bytes(vec![b'{', 0xFF, b'}']));
        assert_eq!(
            curl_line("http://h", &request, &Key::new(KEY), None),
            r#"printf '{\xff}' | curl -i -X POST 'http://h/x' -H "Authorization: Bearer $CONTRACT_TOKEN" -H 'Content-Type: application/json' --data-binary @-"#
        );
    }

    /// What `sh` makes of one word of a curl line, with the run's key in `$CONTRACT_TOKEN`.
    fn shell_expand(word: &str, key: &str) -> String {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("printf %s {word}"))
            .env("CONTRACT_TOKEN", key)
            .output()
            .expect("sh runs");
        assert!(out.status.success(), "{word}: {out:?}");
        String::from_utf8(out.stdout).expect("UTF-8")
    }

    #[test]
    fn curl_redoes_an_altered_key_from_the_variable_and_never_writes_it() {
        let other = Key::new("dev-key-team-b");
        for (key, alteration) in [
            (KEY, Alteration::OtherCase),
            ("ABC-123", Alteration::OtherCase),
            ("0123456789", Alteration::OtherCase),
            (KEY, Alteration::LastChanged),
            ("abcx", Alteration::LastChanged),
            (KEY, Alteration::Prefix),
            (KEY, Alteration::Suffixed),
            ("k", Alteration::Prefix),
        ] {
            let mut request = post("/x", Body::Empty);
            request.auth = Auth::KeyAltered(alteration);
            let line = curl_line("http://h", &request, &Key::new(key), Some(&other));
            let (altered, _) = alteration
                .apply(key, Some(other.expose()))
                .expect("a non-empty key");
            assert!(!line.contains(key), "{line}");
            // (A one-character key altered is one character, which any line holds.)
            assert!(
                altered.len() < 2
                    || !line
                        .to_ascii_lowercase()
                        .contains(&altered.to_ascii_lowercase()),
                "{line}"
            );
            let header = line.split(" -H ").nth(1).expect("an Authorization header");
            assert_eq!(
                shell_expand(header, key),
                format!("Authorization: Bearer {altered}"),
                "{line}"
            );
        }
    }

    #[test]
    fn curl_puts_the_key_in_the_other_header_or_the_query_by_variable() {
        let mut request = post("/s?page=1", Body::Empty);
        request.auth = Auth::KeyElsewhere(Elsewhere::Header("X-API-Key"));
        let line = curl_line("http://h", &request, &Key::new(KEY), None);
        assert_eq!(
            line,
            r#"curl -i -X POST 'http://h/s?page=1' -H 'X-API-Key: '"$CONTRACT_TOKEN" -H 'Content-Type: application/json'"#
        );
        request.auth = Auth::KeyElsewhere(Elsewhere::Query("api_key"));
        let line = curl_line("http://h", &request, &Key::new(KEY), None);
        assert!(!line.contains(KEY), "{line}");
        let url = line.split(' ').nth(4).expect("the URL");
        assert_eq!(
            shell_expand(url, KEY),
            format!("http://h/s?page=1&api_key={KEY}")
        );
        assert!(!line.contains("Authorization"), "{line}");
    }

    #[test]
    fn an_altered_key_is_another_key_and_never_the_other_teams() {
        let apply = |key: &str, other: Option<&str>, alteration: Alteration| {
            alteration.apply(key, other).expect("a non-empty key")
        };
        use Alteration::*;
        assert_eq!(
            apply(KEY, None, OtherCase),
            ("DEV-KEY-TEAM-A".into(), AlteredAs::Upper)
        );
        assert_eq!(
            apply("ABC-1", None, OtherCase),
            ("abc-1".into(), AlteredAs::Lower)
        );
        // No letter: another key all the same.
        assert_eq!(
            apply("0123", None, OtherCase),
            ("012x".into(), AlteredAs::LastChanged('x'))
        );
        assert_eq!(
            apply(KEY, None, Prefix),
            ("dev-key-team-".into(), AlteredAs::Prefix)
        );
        assert_eq!(
            apply("k", None, Prefix),
            ("x".into(), AlteredAs::LastChanged('x'))
        );
        assert_eq!(
            apply(KEY, None, LastChanged),
            ("dev-key-team-x".into(), AlteredAs::LastChanged('x'))
        );
        assert_eq!(
            apply("kx", None, LastChanged),
            ("ky".into(), AlteredAs::LastChanged('y'))
        );
        // Never the other team's key, which would rightly be served.
        assert_eq!(
            apply("ax", Some("ay"), LastChanged),
            ("az".into(), AlteredAs::LastChanged('z'))
        );
        assert_eq!(
            apply("abc", Some("ABC"), OtherCase),
            ("abx".into(), AlteredAs::LastChanged('x'))
        );
        assert_eq!(
            apply("ab", Some("a"), Prefix),
            ("ax".into(), AlteredAs::LastChanged('x'))
        );
        assert_eq!(Prefix.apply("", None), None);
    }
}
