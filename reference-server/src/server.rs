//! The socket side: accepting connections under a cap (and smaller ones per peer and per API
//! key) and serving each with hyper's HTTP/1 with the timeouts that keep slow or stalled
//! clients from holding the server.
//!
//! axum's own `serve` sets no timer on hyper, so it has no header-read timeout and accepts
//! without limit: a thousand clients sending nothing would starve everyone. This loop is
//! `serve` with those limits and the same graceful shutdown.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::hash::Hash;
use std::io;
use std::net::IpAddr;
use std::pin::{Pin, pin};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::{Instant, Sleep};
use tower::Service;

/// The longest timeout used: a longer one (up to `Duration::MAX`, "never") counts as this.
/// hyper adds the header-read timeout to the clock unchecked, and a sum past what `Instant`
/// holds panics the connection's task; a century is past any session and adds safely.
pub(crate) const LONGEST_TIMEOUT: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// The limits of one server; see the crate docs for what each means and why it defaults so.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    pub max_connections: usize,
    pub max_connections_per_peer: usize,
    pub max_connections_per_key: usize,
    pub header_read_timeout: Duration,
    pub io_timeout: Duration,
    /// The configured keys: only those are counted per key (a request without one is 401
    /// anyway, and a client inventing credentials must not grow the count's map).
    pub keys: Arc<HashSet<Vec<u8>>>,
}

impl Limits {
    pub fn of(config: &crate::Config) -> Self {
        Limits {
            // At least one, or nothing is ever served; at most what a semaphore (and
            // `acquire_many`'s u32) can count.
            max_connections: config
                .max_connections
                .clamp(1, Semaphore::MAX_PERMITS.min(u32::MAX as usize)),
            max_connections_per_peer: config.max_connections_per_peer.max(1),
            max_connections_per_key: config.max_connections_per_key.max(1),
            header_read_timeout: config.header_read_timeout.min(LONGEST_TIMEOUT),
            io_timeout: config.io_timeout.min(LONGEST_TIMEOUT),
            keys: Arc::new(
                config
                    .keys
                    .iter()
                    .map(|k| k.key.as_bytes().to_vec())
                    .collect(),
            ),
        }
    }
}

/// Serves `router` on `listener` until `stop` completes, then stops accepting, lets every
/// connection finish its request in flight (closing idle ones) and returns once all are closed.
pub(crate) async fn run(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    stop: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let peers = Held::new(limits.max_connections_per_peer);
    let per_key = Held::new(limits.max_connections_per_key);
    let (closing, closing_seen) = watch::channel(false);
    let mut stop = pin!(stop);
    let mut last_logged = None;
    let mut last_refused = None;
    loop {
        // At the cap, the next connection waits in the kernel's accept queue until one closes;
        // the timeouts make sure one does.
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => slot,
            () = &mut stop => break,
        };
        let Ok(slot) = slot else { break };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut stop => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                accept_failed(error, &mut last_logged).await;
                continue;
            }
        };
        // Past its bound, a peer's connection is closed unread and its slot is free again at
        // once: answering it would take a slot for as long as the peer cares to send nothing.
        let Some(peer_slot) = peers.take(peer.ip().to_canonical()) else {
            if last_refused.is_none_or(|at: Instant| at.elapsed() >= Duration::from_secs(1)) {
                tracing::warn!(
                    "closed a connection from {}: it already holds {} (the per-peer cap)",
                    peer.ip(),
                    limits.max_connections_per_peer
                );
                last_refused = Some(Instant::now());
            }
            continue;
        };
        tokio::spawn(serve_one(
            stream,
            router.clone(),
            limits.clone(),
            per_key.clone(),
            closing_seen.clone(),
            (slot, peer_slot),
        ));
    }
    drop(listener);
    let _ = closing.send(true);
    // Every connection holds a slot until it ends, so having them all back means all ended.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = slots.acquire_many(all).await;
}

/// Connections held per peer address (an IPv4-mapped IPv6 address counted as its IPv4
/// address) or per API key, each counted by a [`Slot`] while it lives.
#[derive(Debug)]
struct Held<K> {
    counts: Arc<Mutex<HashMap<K, usize>>>,
    cap: usize,
}

impl<K> Clone for Held<K> {
    fn clone(&self) -> Self {
        Held {
            counts: Arc::clone(&self.counts),
            cap: self.cap,
        }
    }
}

impl<K: Hash + Eq + Clone> Held<K> {
    fn new(cap: usize) -> Self {
        Held {
            counts: Arc::default(),
            cap,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, usize>> {
        // Nothing panics while holding the lock; a poisoned map still counts right.
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A place for one more connection of `key`, or `None` at the cap.
    fn take(&self, key: K) -> Option<Slot<K>> {
        let mut counts = self.lock();
        let count = counts.entry(key.clone()).or_insert(0);
        if *count >= self.cap {
            return None;
        }
        *count += 1;
        Some(Slot {
            held: self.clone(),
            key,
        })
    }
}

/// One connection's place in its peer's or key's count, given back when dropped.
#[derive(Debug)]
struct Slot<K: Hash + Eq + Clone> {
    held: Held<K>,
    key: K,
}

impl<K: Hash + Eq + Clone> Drop for Slot<K> {
    fn drop(&mut self) {
        let mut counts = self.held.lock();
        if let Some(count) = counts.get_mut(&self.key) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                counts.remove(&self.key);
            }
        }
    }
}

/// The key a connection's requests currently count against.
type KeySlot = Mutex<Option<Slot<Vec<u8>>>>;

/// Whether a request with `headers` may go on this connection: a configured key counts the
/// connection against that key (the connection's previous key, if another, gives its place
/// back); a request without one is not counted. `false` at the key's cap.
fn admit(
    current: &KeySlot,
    per_key: &Held<Vec<u8>>,
    keys: &HashSet<Vec<u8>>,
    headers: &axum::http::HeaderMap,
) -> bool {
    let key = crate::auth::credential(headers).filter(|c| keys.contains(*c));
    let mut current = current.lock().unwrap_or_else(|e| e.into_inner());
    let Some(key) = key else {
        return true;
    };
    if current.as_ref().is_some_and(|slot| slot.key == key) {
        return true;
    }
    *current = None;
    *current = per_key.take(key.to_vec());
    current.is_some()
}

/// The answer to a request whose key already holds its cap of connections: 429 with
/// `Retry-After`, and the connection closed after it (so it does not count either).
fn too_many_for_key(cap: usize) -> Response {
    let mut response = crate::errors::detail(
        StatusCode::TOO_MANY_REQUESTS,
        &format!(
            "Too many connections with this API key: at most {cap} at once; send on a \
             connection already open, or retry after Retry-After seconds"
        ),
    );
    let headers = response.headers_mut();
    headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// One connection, from accept to close; `_slots` return to the caps when it ends.
async fn serve_one(
    stream: TcpStream,
    router: Router,
    limits: Limits,
    per_key: Held<Vec<u8>>,
    mut closing_seen: watch::Receiver<bool>,
    _slots: (OwnedSemaphorePermit, Slot<IpAddr>),
) {
    let io_timeout = limits.io_timeout;
    let cap = limits.max_connections_per_key;
    let keys = limits.keys;
    let key_slot = Arc::new(KeySlot::default());
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let admitted = admit(&key_slot, &per_key, &keys, request.headers());
        let request = request.map(|body| Body::new(BodyDeadline::new(body, io_timeout)));
        let mut router = router.clone();
        async move {
            if !admitted {
                return Ok(too_many_for_key(cap));
            }
            // A Router is always ready, so calling it without `poll_ready` is allowed.
            router.call(request).await
        }
    });
    // hyper restarts the header-read timer whenever it waits for a request, the first or the
    // next on a kept-alive connection, so it is the idle timeout as well.
    // `Limits::of` capped it at `LONGEST_TIMEOUT`, which hyper can add to the clock.
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .serve_connection(
            TokioIo::new(WriteDeadline::new(stream, io_timeout)),
            service,
        );
    let mut connection = pin!(connection);
    let closing = async move {
        // An error means the server is gone without a graceful stop; close the same way.
        let _ = closing_seen.wait_for(|closing| *closing).await;
    };
    tokio::select! {
        result = connection.as_mut() => log_end(result),
        () = closing => {
            connection.as_mut().graceful_shutdown();
            log_end(connection.await);
        }
    }
}

fn log_end(result: Result<(), hyper::Error>) {
    if let Err(error) = result {
        // Timeouts, resets and malformed requests end here; they are the client's business.
        tracing::debug!("connection closed: {error}");
    }
}

/// Errors that concern one connection are skipped. Others (most likely out of file
/// descriptors, a cap above `ulimit -n`) pause accepting briefly instead of spinning, as axum's
/// loop does, and are logged at most once a second since they repeat until a connection closes.
async fn accept_failed(error: io::Error, last_logged: &mut Option<Instant>) {
    if matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    if last_logged.is_none_or(|at| at.elapsed() >= Duration::from_secs(1)) {
        tracing::error!("accept failed: {error} (is the connection cap above `ulimit -n`?)");
        *last_logged = Some(Instant::now());
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// A request body that must arrive in full within a deadline counted from the request's head.
/// A body trickled byte by byte would otherwise hold its connection as long as the client
/// pleases; past the deadline the body reads as an error, which the handler answers 400 like
/// any unreadable body.
struct BodyDeadline {
    inner: Incoming,
    /// `None` when the timeout reaches past what the clock can hold: no deadline.
    deadline: Option<Instant>,
    timer: Option<Pin<Box<Sleep>>>,
}

impl BodyDeadline {
    fn new(inner: Incoming, timeout: Duration) -> Self {
        BodyDeadline {
            inner,
            deadline: Instant::now().checked_add(timeout),
            timer: None,
        }
    }
}

/// The error a body reads as once its deadline has passed.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive in time")]
struct BodyTimedOut;

impl HttpBody for BodyDeadline {
    type Data = axum::body::Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|frame| frame.map_err(Into::into)));
        }
        let Some(deadline) = this.deadline else {
            return Poll::Pending;
        };
        // Created only when the body has to be waited for: most requests never get here.
        let timer = this
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        ready!(timer.as_mut().poll(cx));
        Poll::Ready(Some(Err(Box::new(BodyTimedOut))))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The connection's socket, failing a write that has waited `timeout` for the client to take
/// bytes: a client that asks for a large page and never reads it would otherwise pin the page
/// in memory, and its connection, forever.
struct WriteDeadline {
    stream: TcpStream,
    timeout: Duration,
    stalled: Option<Pin<Box<Sleep>>>,
}

impl WriteDeadline {
    fn new(stream: TcpStream, timeout: Duration) -> Self {
        WriteDeadline {
            stream,
            timeout,
            stalled: None,
        }
    }

    /// Passes a finished write through and forgets any stall; a pending one starts (or keeps)
    /// the stall timer and fails once it expires.
    fn watch<T>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        if polled.is_ready() {
            self.stalled = None;
            return polled;
        }
        let timeout = self.timeout;
        let stalled = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        ready!(stalled.as_mut().poll(cx));
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "the client stopped taking the response",
        )))
    }
}

impl AsyncRead for WriteDeadline {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for WriteDeadline {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.stream).poll_write(cx, buf);
        this.watch(cx, polled)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        this.watch(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.stream).poll_flush(cx);
        this.watch(cx, polled)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.stream).poll_shutdown(cx);
        this.watch(cx, polled)
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use super::*;

    #[test]
    fn a_peer_holds_at_most_its_cap_and_a_closed_connection_gives_its_place_back() {
        let peers = Held::new(2);
        let ip = |text: &str| {
            text.parse::<SocketAddr>()
                .expect("addr")
                .ip()
                .to_canonical()
        };
        let a = ip("127.0.0.1:1000");
        let a_mapped = ip("[::ffff:127.0.0.1]:1001");
        let b = ip("127.0.0.2:1000");
        let first = peers.take(a).expect("first");
        let second = peers.take(a_mapped).expect("second, the same peer");
        assert!(peers.take(a).is_none(), "a third of the same peer");
        assert!(peers.take(b).is_some(), "another peer");
        drop(first);
        let third = peers.take(a).expect("room again");
        drop((second, third));
        assert!(
            peers.lock().is_empty(),
            "no count kept for a peer with no connection"
        );
    }

    /// A connection counts against the key of its latest request: the same key again costs
    /// nothing, another key moves it, no configured key leaves it where it was.
    #[test]
    fn a_connection_counts_against_the_key_it_sends() {
        let keys: HashSet<Vec<u8>> = [b"k1".to_vec(), b"k2".to_vec()].into();
        let per_key = Held::new(1);
        let headers = |value: &str| {
            let mut headers = axum::http::HeaderMap::new();
            headers.insert(
                header::AUTHORIZATION,
                HeaderValue::from_str(value).expect("a header"),
            );
            headers
        };
        let first = KeySlot::default();
        let second = KeySlot::default();
        assert!(admit(&first, &per_key, &keys, &headers("Bearer k1")));
        assert!(admit(&first, &per_key, &keys, &headers("bearer  k1 ")));
        assert!(!admit(&second, &per_key, &keys, &headers("Bearer k1")));
        assert!(admit(&second, &per_key, &keys, &headers("Bearer unknown")));
        assert!(admit(
            &second,
            &per_key,
            &keys,
            &axum::http::HeaderMap::new()
        ));
        // The first connection moves to k2: k1 has room again.
        assert!(admit(&first, &per_key, &keys, &headers("Bearer k2")));
        assert!(admit(&second, &per_key, &keys, &headers("Bearer k1")));
        drop((first, second));
        assert!(per_key.lock().is_empty());
    }

    #[test]
    fn timeouts_are_capped_where_the_clock_can_add_them() {
        let config = crate::Config {
            header_read_timeout: Duration::MAX,
            io_timeout: Duration::from_secs(u64::MAX),
            max_connections_per_peer: 0,
            ..crate::Config::development()
        };
        let limits = Limits::of(&config);
        assert_eq!(limits.header_read_timeout, LONGEST_TIMEOUT);
        assert_eq!(limits.io_timeout, LONGEST_TIMEOUT);
        assert_eq!(limits.max_connections_per_peer, 1);
        assert!(
            std::time::Instant::now()
                .checked_add(LONGEST_TIMEOUT)
                .is_some()
        );
    }
}
