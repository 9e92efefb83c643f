//! Hostile load over loopback sockets: slow clients beyond the connection cap, idle kept-alive
//! connections, stalled bodies, unread responses, and one team's large pages next to another
//! team's requests. Every bound here is a liveness limit (the server answers at all), not a
//! performance claim; the timeouts are set small so that each test ends in seconds.

use crate::support;

use std::net::SocketAddr;
use std::time::Duration;

use reference_server::{Config, DEV_KEY, DEV_OTHER_TEAM_KEY, RunningServer};
use serde_json::{Value, json};
use support::{COLLECTION, config, item};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::timeout;

/// How long any single awaited step may take before the test calls the server stuck.
const LIVENESS: Duration = Duration::from_secs(5);
/// A size that is surely past every timeout these tests set and every queue they build.
const CLOSE_BOUND: Duration = Duration::from_secs(15);

async fn spawn(config: Config) -> RunningServer {
    reference_server::spawn(config).await.expect("spawn")
}

async fn connect(addr: SocketAddr) -> TcpStream {
    TcpStream::connect(addr).await.expect("connect to loopback")
}

/// A status line and body, from a request sent with `Connection: close`.
struct Answer {
    status: u16,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

fn parse_answer(raw: &[u8]) -> Option<Answer> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let status = head.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()?;
    Some(Answer {
        status,
        body: raw[split + 4..].to_vec(),
    })
}

fn request(method: &str, path: &str, key: &str, body: Option<&[u8]>) -> Vec<u8> {
    let mut bytes = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nConnection: close\r\n"
    )
    .into_bytes();
    if let Some(body) = body {
        bytes.extend(
            format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            )
            .as_bytes(),
        );
    }
    bytes.extend(b"\r\n");
    bytes.extend(body.unwrap_or_default());
    bytes
}

/// One request on a fresh connection, answered within [`LIVENESS`].
async fn exchange(
    addr: SocketAddr,
    method: &str,
    path: &str,
    key: &str,
    body: Option<&[u8]>,
) -> Answer {
    let bytes = request(method, path, key, body);
    let run = async {
        let mut stream = connect(addr).await;
        stream.write_all(&bytes).await.expect("send the request");
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.expect("read the answer");
        raw
    };
    let raw = timeout(LIVENESS, run)
        .await
        .unwrap_or_else(|_| panic!("{method} {path} was not answered within {LIVENESS:?}"));
    let answer = parse_answer(&raw)
        .unwrap_or_else(|| panic!("not an HTTP answer: {}", String::from_utf8_lossy(&raw)));
    assert!(answer.status < 500, "{method} {path}: {}", answer.status);
    answer
}

/// Reads until the server closes; the bytes it sent, if any.
async fn closed_by_server(mut stream: TcpStream, what: &str) -> Vec<u8> {
    let mut raw = Vec::new();
    let read = timeout(CLOSE_BOUND, stream.read_to_end(&mut raw)).await;
    // A reset instead of a clean close is a close too.
    assert!(read.is_ok(), "{what}: still open after {CLOSE_BOUND:?}");
    raw
}

/// Slow clients of every kind: silent, a partial request line, headers that never end, and
/// headers trickled a byte at a time (which an idle timeout alone would never close).
enum Slow {
    Silent(TcpStream),
    Partial(TcpStream),
    Trickle(tokio::task::JoinHandle<()>),
}

async fn open_slow(addr: SocketAddr, n: usize) -> Slow {
    let mut stream = connect(addr).await;
    match n % 4 {
        0 => Slow::Silent(stream),
        1 => {
            let _ = stream.write_all(b"GET /workflows/v1/sim").await;
            Slow::Partial(stream)
        }
        2 => {
            let head = format!("GET {COLLECTION} HTTP/1.1\r\nHost: x\r\nX-Slow: ");
            let _ = stream.write_all(head.as_bytes()).await;
            Slow::Partial(stream)
        }
        _ => Slow::Trickle(tokio::spawn(async move {
            let _ = stream.write_all(b"GET ").await;
            // Ends when the server has closed: a write then fails (after at most one that the
            // kernel still accepts) or a bounded number of bytes has gone out.
            for _ in 0..1000 {
                tokio::time::sleep(Duration::from_millis(20)).await;
                if stream.write_all(b"a").await.is_err() {
                    return;
                }
            }
            panic!("a trickling client was never closed");
        })),
    }
}

async fn wait_closed(slow: Slow, n: usize) {
    let what = format!("slow connection {n}");
    match slow {
        Slow::Silent(stream) | Slow::Partial(stream) => {
            let raw = closed_by_server(stream, &what).await;
            if let Some(answer) = parse_answer(&raw) {
                assert!(answer.status < 500, "{what}: {}", answer.status);
            }
        }
        Slow::Trickle(task) => {
            let ended = timeout(CLOSE_BOUND, task).await;
            assert!(
                matches!(ended, Ok(Ok(()))),
                "{what}: not closed while trickling"
            );
        }
    }
}

fn list_path() -> String {
    format!("{COLLECTION}?size=1")
}

/// The acceptance case at a test's scale: a fresh client is answered while slow clients hold
/// connections, both under the cap and at twice the cap, and every slow one is closed by the
/// header-read timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_do_not_starve_a_normal_request_and_are_closed() {
    let server = spawn(Config {
        max_connections: 32,
        header_read_timeout: Duration::from_millis(500),
        ..config()
    })
    .await;
    let addr = server.addr();

    let mut slow = Vec::new();
    for n in 0..24 {
        slow.push(open_slow(addr, n).await);
    }
    let answer = exchange(addr, "GET", &list_path(), DEV_KEY, None).await;
    assert_eq!(answer.status, 200);

    // Twice the cap: the fresh client waits to be accepted until slow ones time out.
    for n in 24..64 {
        slow.push(open_slow(addr, n).await);
    }
    let answer = exchange(addr, "GET", &list_path(), DEV_KEY, None).await;
    assert_eq!(answer.status, 200);

    for (n, slow) in slow.into_iter().enumerate() {
        wait_closed(slow, n).await;
    }
    timeout(LIVENESS, server.shutdown())
        .await
        .expect("shutdown ends");
}

/// The header-read timeout also runs between requests: a kept-alive connection that sends no
/// next request is closed.
#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed() {
    let server = spawn(Config {
        header_read_timeout: Duration::from_millis(300),
        ..config()
    })
    .await;
    let mut stream = connect(server.addr()).await;
    let head = format!(
        "GET {} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {DEV_KEY}\r\n\r\n",
        list_path()
    );
    stream.write_all(head.as_bytes()).await.expect("send");
    let raw = closed_by_server(stream, "kept-alive connection").await;
    let answer = parse_answer(&raw).expect("the request was answered before the close");
    assert_eq!(answer.status, 200);
    server.shutdown().await;
}

/// A body that stops arriving is answered like an unreadable body once `io_timeout` passes.
#[tokio::test]
async fn a_stalled_body_is_refused_and_the_connection_closed() {
    let server = spawn(Config {
        io_timeout: Duration::from_millis(300),
        ..config()
    })
    .await;
    let mut stream = connect(server.addr()).await;
    let head = format!(
        "POST {COLLECTION} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {DEV_KEY}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"logical"
    );
    stream.write_all(head.as_bytes()).await.expect("send");
    let raw = closed_by_server(stream, "stalled body").await;
    let answer = parse_answer(&raw).expect("an answer before the close");
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.json(),
        json!({"detail": "There was an error parsing the body"})
    );
    server.shutdown().await;
}

/// Creates `count` simulations of team A with a description of about 1 MB each.
async fn create_large(addr: SocketAddr, count: usize) {
    let body =
        serde_json::to_vec(&json!({"logical_id": "large", "description": "L".repeat(1_000_000)}))
            .expect("serialisable");
    for _ in 0..count {
        let answer = exchange(addr, "POST", COLLECTION, DEV_KEY, Some(&body)).await;
        assert_eq!(answer.status, 200);
    }
}

/// A client that asks for a large page and never reads it does not hold its connection: with a
/// cap of one, the next client is served only once that connection is closed, which only the
/// stalled-write timeout can do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unread_large_response_does_not_hold_the_connection() {
    let server = spawn(Config {
        max_connections: 1,
        io_timeout: Duration::from_millis(500),
        ..config()
    })
    .await;
    let addr = server.addr();
    create_large(addr, 12).await;

    // A small receive buffer, so the server's writes stall well before the page is out.
    let socket = TcpSocket::new_v4().expect("a socket");
    socket.set_recv_buffer_size(4096).expect("a small buffer");
    let mut unread = socket.connect(addr).await.expect("connect");
    let head = format!(
        "GET {COLLECTION}?size=100 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {DEV_KEY}\r\nConnection: close\r\n\r\n"
    );
    unread.write_all(head.as_bytes()).await.expect("send");

    let answer = timeout(CLOSE_BOUND, async {
        let mut stream = connect(addr).await;
        let bytes = request("GET", &list_path(), DEV_OTHER_TEAM_KEY, None);
        stream.write_all(&bytes).await.expect("send");
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.expect("read");
        raw
    })
    .await
    .expect("the next client is served once the unread connection is closed");
    assert_eq!(parse_answer(&answer).map(|a| a.status), Some(200));

    let raw = closed_by_server(unread, "unread large response").await;
    assert!(
        raw.len() < 12_000_000,
        "the whole page arrived ({} bytes), so nothing was cut",
        raw.len()
    );
    server.shutdown().await;
}

/// One team listing pages of ~1 MB records over and over does not keep another team from
/// being answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_lists_of_one_team_do_not_block_another_team() {
    let server = spawn(config()).await;
    let addr = server.addr();
    create_large(addr, 12).await;
    let body = serde_json::to_vec(&json!({"logical_id": "small"})).expect("serialisable");
    let created = exchange(addr, "POST", COLLECTION, DEV_OTHER_TEAM_KEY, Some(&body)).await;
    let id = created.json()["simulation"]["_id"]
        .as_str()
        .expect("an id")
        .to_owned();

    let (stop, stopped) = tokio::sync::watch::channel(false);
    // Each lister says when its first large list is answered: the other team asks only once
    // every lister is going.
    let (going, mut started) = tokio::sync::mpsc::channel::<()>(4);
    let mut listers = Vec::new();
    for _ in 0..4 {
        let stopped = stopped.clone();
        let going = going.clone();
        listers.push(tokio::spawn(async move {
            let mut lists = 0;
            while !*stopped.borrow() && lists < 50 {
                let path = format!("{COLLECTION}?size=100");
                let answer = timeout(CLOSE_BOUND, async {
                    let mut stream = connect(addr).await;
                    stream
                        .write_all(&request("GET", &path, DEV_KEY, None))
                        .await
                        .expect("send");
                    let mut raw = Vec::new();
                    stream.read_to_end(&mut raw).await.expect("read");
                    raw
                })
                .await
                .expect("a large list is answered");
                let answer = parse_answer(&answer).expect("an HTTP answer");
                assert_eq!(answer.status, 200);
                assert_eq!(answer.json()["total"], 12);
                lists += 1;
                if lists == 1 {
                    let _ = going.send(()).await;
                }
            }
            lists
        }));
    }
    drop(going);
    for _ in 0..4 {
        timeout(CLOSE_BOUND, started.recv())
            .await
            .expect("every lister has a large list answered")
            .expect("no lister ended before its first list");
    }
    for _ in 0..20 {
        let answer = exchange(addr, "GET", &item(&id), DEV_OTHER_TEAM_KEY, None).await;
        assert_eq!(answer.status, 200);
        assert_eq!(answer.json()["simulation"]["_id"], id.as_str());
        let answer = exchange(addr, "GET", &list_path(), DEV_OTHER_TEAM_KEY, None).await;
        assert_eq!(answer.json()["total"], 1);
    }
    let _ = stop.send(true);
    for lister in listers {
        let lists = timeout(CLOSE_BOUND * 4, lister)
            .await
            .expect("listers stop")
            .expect("no lister failed");
        assert!(lists >= 1);
    }
    timeout(LIVENESS, server.shutdown())
        .await
        .expect("shutdown ends");
}

/// Timeouts too large to add to a clock (`--header-read-timeout 18446744073709551615`) are
/// served as "never", not a panic on every connection: the header-read deadline is taken on
/// accept and the body's on every create.
#[tokio::test]
async fn timeouts_past_the_clock_do_not_panic_a_connection() {
    for forever in [Duration::from_secs(u64::MAX), Duration::MAX] {
        let server = spawn(Config {
            header_read_timeout: forever,
            io_timeout: forever,
            ..config()
        })
        .await;
        let body = serde_json::to_vec(&json!({"logical_id": "t"})).expect("serialisable");
        let created = exchange(server.addr(), "POST", COLLECTION, DEV_KEY, Some(&body)).await;
        assert_eq!(created.status, 200, "{forever:?}");
        let listed = exchange(server.addr(), "GET", &list_path(), DEV_KEY, None).await;
        assert_eq!(listed.json()["total"], 1, "{forever:?}");
        timeout(LIVENESS, server.shutdown())
            .await
            .expect("shutdown ends");
    }
}

/// A connection from `ip` (any 127/8 address reaches the loopback server).
async fn connect_from(ip: [u8; 4], addr: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("a socket");
    socket
        .bind(SocketAddr::from((ip, 0)))
        .expect("bind a loopback source address");
    socket.connect(addr).await.expect("connect to loopback")
}

/// One request on a kept-alive connection, read by its `Content-Length`; the connection stays
/// open. `None` when the server closed it instead of answering.
async fn kept_alive_exchange(stream: &mut TcpStream) -> Option<Answer> {
    kept_alive_exchange_as(stream, DEV_KEY)
        .await
        .map(|(_, answer)| answer)
}

/// One client's kept-alive connections cannot hold the whole connection cap: past its
/// per-peer bound a connection from the same address is closed at accept, while another
/// address (127.0.0.2) is still served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_peer_cannot_hold_every_connection() {
    let server = spawn(Config {
        max_connections: 4,
        max_connections_per_peer: 2,
        // Idle connections would otherwise be closed for the greedy client, hiding the bound.
        header_read_timeout: Duration::from_secs(3600),
        ..config()
    })
    .await;
    let addr = server.addr();
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = connect_from([127, 0, 0, 1], addr).await;
        let answer = kept_alive_exchange(&mut stream).await.expect("served");
        assert_eq!(answer.status, 200);
        held.push(stream);
    }
    for n in 0..3 {
        let mut excess = connect_from([127, 0, 0, 1], addr).await;
        assert!(
            kept_alive_exchange(&mut excess).await.is_none(),
            "connection {n} past the per-peer bound was served"
        );
    }
    // Another peer gets one of the two slots the greedy client could not take.
    let mut other = connect_from([127, 0, 0, 2], addr).await;
    let answer = kept_alive_exchange(&mut other)
        .await
        .expect("another peer is served");
    assert_eq!(answer.status, 200);
    // The held connections still work.
    for stream in &mut held {
        assert_eq!(
            kept_alive_exchange(stream).await.map(|a| a.status),
            Some(200)
        );
    }
    drop((held, other));
    timeout(LIVENESS, server.shutdown())
        .await
        .expect("shutdown ends");
}

/// The `{"detail": ...}` of a full team's store names what is full and what to do.
fn assert_storage_full(answer: &Answer, what: &str) {
    assert_eq!(
        answer.status,
        409,
        "{what}: {}",
        String::from_utf8_lossy(&answer.body)
    );
    let detail = answer.json()["detail"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        detail.contains("storage") && detail.contains("delete"),
        "{what}: {detail}"
    );
}

fn created_id(answer: &Answer) -> String {
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    answer.json()["simulation"]["_id"]
        .as_str()
        .expect("an id")
        .to_owned()
}

/// A team's records are bounded in number: at the bound a create is 409 with a `detail`, another
/// team is unaffected, and a delete makes room again.
#[tokio::test]
async fn a_team_s_record_count_is_bounded_and_deletes_free_room() {
    let server = spawn(Config {
        max_team_records: 3,
        ..config()
    })
    .await;
    let addr = server.addr();
    let body = serde_json::to_vec(&json!({"logical_id": "n"})).expect("serialisable");
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(created_id(
            &exchange(addr, "POST", COLLECTION, DEV_KEY, Some(&body)).await,
        ));
    }
    let full = exchange(addr, "POST", COLLECTION, DEV_KEY, Some(&body)).await;
    assert_storage_full(&full, "the fourth record");
    let listed = exchange(addr, "GET", &list_path(), DEV_KEY, None).await;
    assert_eq!(
        listed.json()["total"],
        3,
        "the refused create stored nothing"
    );
    created_id(&exchange(addr, "POST", COLLECTION, DEV_OTHER_TEAM_KEY, Some(&body)).await);

    let deleted = exchange(addr, "DELETE", &item(&ids[0]), DEV_KEY, None).await;
    assert_eq!(deleted.status, 200);
    created_id(&exchange(addr, "POST", COLLECTION, DEV_KEY, Some(&body)).await);
    let full = exchange(addr, "POST", COLLECTION, DEV_KEY, Some(&body)).await;
    assert_storage_full(&full, "full again");
    server.shutdown().await;
}

/// A team's stored bytes are bounded: records of ~400 kB under a 1 MB bound, a create or an
/// update that would pass it is 409 and changes nothing, a delete makes room again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_s_stored_bytes_are_bounded_and_deletes_free_room() {
    let server = spawn(Config {
        max_team_bytes: 1_000_000,
        ..config()
    })
    .await;
    let addr = server.addr();
    let large = |n: usize| {
        serde_json::to_vec(&json!({"logical_id": "big", "description": "x".repeat(n)}))
            .expect("serialisable")
    };
    let first =
        created_id(&exchange(addr, "POST", COLLECTION, DEV_KEY, Some(&large(400_000))).await);
    let second =
        created_id(&exchange(addr, "POST", COLLECTION, DEV_KEY, Some(&large(400_000))).await);
    let full = exchange(addr, "POST", COLLECTION, DEV_KEY, Some(&large(400_000))).await;
    assert_storage_full(&full, "a third large record");

    // Growing a record past the bound is refused too, and leaves it as it was.
    let grow = serde_json::to_vec(&json!({"description": "y".repeat(700_000)})).expect("json");
    let grown = exchange(addr, "PATCH", &item(&first), DEV_KEY, Some(&grow)).await;
    assert_storage_full(&grown, "an update past the bound");
    let got = exchange(addr, "GET", &item(&first), DEV_KEY, None).await;
    assert!(got.json()["simulation"]["config"].is_null());
    let description = got.json()["simulation"]["simulation_config"]["description"].clone();
    assert_eq!(description.as_str().map(str::len), Some(400_000));
    // Shrinking is always allowed.
    let shrink = serde_json::to_vec(&json!({"description": "small"})).expect("json");
    let shrunk = exchange(addr, "PATCH", &item(&first), DEV_KEY, Some(&shrink)).await;
    assert_eq!(shrunk.status, 200);

    // The other team has its own room.
    created_id(
        &exchange(
            addr,
            "POST",
            COLLECTION,
            DEV_OTHER_TEAM_KEY,
            Some(&large(400_000)),
        )
        .await,
    );

    let deleted = exchange(addr, "DELETE", &item(&second), DEV_KEY, None).await;
    assert_eq!(deleted.status, 200);
    created_id(&exchange(addr, "POST", COLLECTION, DEV_KEY, Some(&large(400_000))).await);
    created_id(&exchange(addr, "POST", COLLECTION, DEV_KEY, Some(&large(400_000))).await);
    server.shutdown().await;
}

/// One request of `key` on a kept-alive connection; the answer's head and body, or `None` when
/// the server closed the connection instead of answering.
async fn kept_alive_exchange_as(stream: &mut TcpStream, key: &str) -> Option<(String, Answer)> {
    let head = format!(
        "GET {} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n\r\n",
        list_path()
    );
    stream.write_all(head.as_bytes()).await.ok()?;
    let read = async {
        let mut raw = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => n,
            };
            raw.extend_from_slice(&buf[..n]);
            let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
                continue;
            };
            let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .expect("a Content-Length");
            if raw.len() >= split + 4 + length {
                return parse_answer(&raw).map(|answer| (head, answer));
            }
        }
    };
    timeout(LIVENESS, read)
        .await
        .expect("answered or closed within the liveness bound")
}

/// Clients on one machine all connect from 127.0.0.1, so the per-peer cap cannot tell them
/// apart; the per-key cap can: a key's requests on more connections than its bound are
/// answered 429 with `Retry-After` and the connection closed, while another key is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_key_cannot_hold_every_connection() {
    let server = spawn(Config {
        max_connections: 4,
        max_connections_per_key: 2,
        header_read_timeout: Duration::from_secs(3600),
        ..config()
    })
    .await;
    let addr = server.addr();
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = connect(addr).await;
        let (_, answer) = kept_alive_exchange_as(&mut stream, DEV_KEY)
            .await
            .expect("served");
        assert_eq!(answer.status, 200);
        held.push(stream);
    }
    for n in 0..3 {
        let mut excess = connect(addr).await;
        let (head, answer) = kept_alive_exchange_as(&mut excess, DEV_KEY)
            .await
            .unwrap_or_else(|| panic!("connection {n}: closed without an answer"));
        assert_eq!(answer.status, 429, "connection {n} past the per-key bound");
        assert!(head.contains("retry-after: 1"), "{head}");
        assert!(head.contains("connection: close"), "{head}");
        let detail = answer.json()["detail"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(detail.contains("connections"), "{detail}");
        let rest = closed_by_server(excess, "the refused connection").await;
        assert!(rest.is_empty());
    }
    let mut other = connect(addr).await;
    let (_, answer) = kept_alive_exchange_as(&mut other, DEV_OTHER_TEAM_KEY)
        .await
        .expect("another key is served");
    assert_eq!(answer.status, 200);
    for stream in &mut held {
        let answer = kept_alive_exchange_as(stream, DEV_KEY).await;
        assert_eq!(answer.map(|(_, a)| a.status), Some(200));
    }
    drop((held, other));
    timeout(LIVENESS, server.shutdown())
        .await
        .expect("shutdown ends");
}
