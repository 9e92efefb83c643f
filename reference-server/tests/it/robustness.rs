//! Hostile input: thousands of seeded random requests (bytes, nesting, sizes, methods, headers,
//! query strings), in process and over a loopback socket. No 5xx, no panic, and the server still
//! answers afterwards.

use crate::support;

use axum::http::{Method, StatusCode};
use reference_server::DEV_KEY;
use serde_json::json;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// xorshift64*: small, seeded, reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

const FRAGMENTS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "\"",
    "null",
    "true",
    "1e400",
    "-0",
    "5.5",
    "\"5\"",
    "NaN",
    "\"logical_id\"",
    "\"status\"",
    "\"selected_workflow\"",
    "\"dynamic_variables\"",
    "\\u0000",
    "\"\\ud800\"",
    "99999999999999999999999",
    "\u{1F600}",
    "\"pending\"",
    " ",
    "\n",
    "{}",
    "[]",
];

fn random_body(rng: &mut Rng) -> Vec<u8> {
    match rng.below(8) {
        0 => Vec::new(),
        1 => {
            let len = rng.below(200);
            rng.bytes(len)
        }
        2 => {
            let depth = rng.below(20_000);
            let open = if rng.below(2) == 0 { "[" } else { "{\"a\":" };
            format!("{}{}", open.repeat(depth), "]".repeat(rng.below(depth + 1))).into_bytes()
        }
        3 => {
            let mut text = String::new();
            for _ in 0..rng.below(40) {
                let fragment: &&str = rng.pick(FRAGMENTS);
                text.push_str(fragment);
            }
            text.into_bytes()
        }
        4 => {
            let field = *rng.pick(&[
                "logical_id",
                "max_events",
                "stop_on_failure",
                "status",
                "selected_workflow",
                "counter_workflow",
                "timeout_seconds",
                "description",
            ]);
            let value = rng
                .pick(&[
                    json!(null),
                    json!(1),
                    json!(-1.5),
                    json!("x"),
                    json!([1, [2]]),
                    json!({"dynamic_variables": {"a": [[[[1]]]]}}),
                    json!(u64::MAX),
                    json!(i64::MIN),
                    json!("  12  "),
                    json!({"workflow_id": "a".repeat(24)}),
                    json!(true),
                ])
                .clone();
            serde_json::to_vec(&json!({ field: value })).unwrap()
        }
        5 => vec![b'x'; 1024 * 1024 + rng.below(3)],
        6 => format!(
            "{{\"selected_workflow\": {{\"dynamic_variables\": {}}}}}",
            "[".repeat(rng.below(500))
        )
        .into_bytes(),
        _ => b"{}".to_vec(),
    }
}

fn random_call(rng: &mut Rng) -> Call {
    let methods = [
        Method::GET,
        Method::POST,
        Method::PATCH,
        Method::DELETE,
        Method::PUT,
        Method::HEAD,
        Method::OPTIONS,
        Method::from_bytes(b"X-ODD").unwrap(),
    ];
    let id = rng
        .pick(&[
            "5eb7cf5a86d9755df3a6c593",
            "short",
            "%00",
            "%ff%fe",
            "a%2Fb",
            "😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀",
            "..",
            "%",
        ])
        .to_string();
    let path = match rng.below(5) {
        0 => item(&id),
        1 => format!("{COLLECTION}/"),
        2 => "/nope".to_owned(),
        _ => COLLECTION.to_owned(),
    };
    let mut query = String::new();
    for _ in 0..rng.below(6) {
        let name = rng.pick(&[
            "size",
            "page",
            "search",
            "start",
            "end",
            "logical_id",
            "status",
            "selected_workflow_id",
            "counter_workflow_id",
            "x",
        ]);
        let value = rng.pick(&[
            "",
            "0",
            "-1",
            "1e3",
            "99999999999999999999999",
            "%ff",
            "%",
            "abc",
            "2024-01-01T00:00:00+25:00",
            "2024-13-45",
            "running",
            "+",
            "1.5",
            "9999999999999999999999.5",
            "aaaaaaaaaaaaaaaaaaaaaaaa",
            "-99999999999",
        ]);
        query.push_str(&format!("{name}={value}&"));
    }
    if rng.below(20) == 0 {
        query.push_str(&"size=1&".repeat(5000));
    }
    let uri = if query.is_empty() {
        path
    } else {
        format!("{path}?{query}")
    };
    let body = random_body(rng);
    let content_type = *rng.pick(&[
        Some("application/json"),
        None,
        Some("text/plain"),
        Some("application/x+json"),
        Some("application/json; charset=latin-1"),
        Some("application/ json"),
        Some("application/json\tcharset"),
    ]);
    let mut call = Call::new(rng.pick(&methods).clone(), uri);
    call.body = body;
    call.content_type = content_type.map(str::to_owned);
    call.key = match rng.below(6) {
        0 => None,
        1 => Some("wrong".to_owned()),
        _ => Some(DEV_KEY.to_owned()),
    };
    if rng.below(10) == 0 {
        call = call.key(None).header(
            "authorization",
            rng.bytes(20)
                .into_iter()
                .filter(|b| *b >= 0x20 && *b != 0x7f)
                .collect::<Vec<u8>>(),
        );
    }
    if rng.below(10) == 0 {
        call = call.header("x-huge", vec![b'h'; 64 * 1024]);
    }
    if rng.below(10) == 0 {
        call = call.header("content-length", b"99999999999999999999".to_vec());
    }
    call
}

#[tokio::test]
async fn thousands_of_hostile_requests_never_get_a_5xx() {
    let app = reference_server::app(config());
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    let mut statuses = std::collections::BTreeMap::new();
    for _ in 0..3000 {
        let call = random_call(&mut rng);
        let described = format!(
            "{} {}",
            call.method,
            call.uri.chars().take(120).collect::<String>()
        );
        // A panic inside the server would surface here as a join error naming the request.
        let app_for_task = app.clone();
        let Ok(request_ok) = tokio::spawn(async move { send_raw(&app_for_task, call).await }).await
        else {
            panic!("the server panicked on {described}");
        };
        assert!(
            !request_ok.status.is_server_error(),
            "{described}: {:?}",
            request_ok.status
        );
        if request_ok.status != StatusCode::TEMPORARY_REDIRECT && !request_ok.bytes.is_empty() {
            assert_eq!(
                request_ok.header("content-type"),
                Some("application/json"),
                "{described}"
            );
        }
        *statuses.entry(request_ok.status.as_u16()).or_insert(0) += 1;
    }
    // The mix really exercised the error paths.
    for status in [200, 307, 400, 401, 404, 405, 413, 422] {
        assert!(
            statuses.contains_key(&status),
            "no {status} in {statuses:?}"
        );
    }
    // Still answering, and still correct.
    let created = create(&app, &json!({"logical_id": "after"})).await;
    let fetched = send(&app, Call::get(item(created["_id"].as_str().unwrap()))).await;
    assert_eq!(fetched.simulation(), &created);
}

/// Sends `request` and reads until the server closes. `hostile` requests also close our write
/// side, so a request the server is still waiting on ends instead of hanging; well-formed ones
/// rely on `Connection: close`, since hyper drops a half-closed connection before answering.
async fn raw_exchange(addr: std::net::SocketAddr, request: &[u8], hostile: bool) -> Vec<u8> {
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connect to loopback");
    // The server may close early (e.g. on a malformed head); that is fine.
    let _ = stream.write_all(request).await;
    if hostile {
        let _ = stream.shutdown().await;
    }
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    response
}

fn status_of(response: &[u8]) -> Option<u16> {
    let text = String::from_utf8_lossy(response);
    text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

#[tokio::test]
async fn hostile_bytes_over_a_socket_never_get_a_5xx() {
    let server = reference_server::spawn(config()).await.expect("spawn");
    let addr = server.addr();
    let mut rng = Rng(0xBAD_C0FFEE);
    let auth = format!("Authorization: Bearer {DEV_KEY}\r\n");
    for round in 0..300 {
        let request: Vec<u8> = match round % 6 {
            0 => {
                let len = rng.below(400);
                rng.bytes(len)
            }
            1 => format!("GET {COLLECTION}?{} HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n", "a=b&".repeat(rng.below(20_000))).into_bytes(),
            2 => format!("POST {COLLECTION} HTTP/1.1\r\nHost: x\r\n{auth}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n100001\r\n{}\r\n0\r\n\r\n", "x".repeat(0x100001)).into_bytes(),
            3 => format!("GET {COLLECTION} HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\nConnection: close\r\n\r\n", "y".repeat(rng.below(200_000))).into_bytes(),
            4 => {
                let mut r = format!("POST {COLLECTION} HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\nConnection: close\r\nContent-Length: 40\r\n\r\n").into_bytes();
                r.extend(rng.bytes(40));
                r
            }
            _ => format!("PATCH {} HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: 5\r\nConnection: close\r\n\r\n[[[[", item("5eb7cf5a86d9755df3a6c593")).into_bytes(),
        };
        let response = raw_exchange(addr, &request, true).await;
        if let Some(status) = status_of(&response) {
            assert!(status < 500, "round {round}: {status}");
        }
    }
    let ok = raw_exchange(
        addr,
        format!("GET {COLLECTION} HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n")
            .as_bytes(),
        false,
    )
    .await;
    assert_eq!(
        status_of(&ok),
        Some(200),
        "{}",
        String::from_utf8_lossy(&ok)
    );
    server.shutdown().await;
    // After a graceful shutdown nothing listens there any more.
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn spawn_serves_http_on_loopback_with_latency() {
    let mut config = config();
    config.latency = std::time::Duration::from_millis(5);
    let server = reference_server::spawn(config).await.expect("spawn");
    assert!(server.addr().ip().is_loopback());
    assert_eq!(server.base_url(), format!("http://{}", server.addr()));
    let body = "{\"logical_id\": \"over-the-wire\"}";
    let request = format!(
        "POST {COLLECTION} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {DEV_KEY}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let response = raw_exchange(server.addr(), request.as_bytes(), false).await;
    let text = String::from_utf8_lossy(&response);
    assert_eq!(status_of(&response), Some(200), "{text}");
    assert!(
        text.to_ascii_lowercase()
            .contains("content-type: application/json")
    );
    assert!(text.contains("\"logical_id\":\"over-the-wire\""));
    server.shutdown().await;
}

/// Reads one response head and its `Content-Length` body from a kept-alive connection.
async fn read_response(stream: &mut tokio::net::TcpStream) -> String {
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&received).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(str::to_owned)
                })
                .and_then(|l| l.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if body.len() >= length {
                return text;
            }
        }
        let n = stream.read(&mut buffer).await.expect("read");
        assert!(n > 0, "the server closed before answering: {text}");
        received.extend_from_slice(&buffer[..n]);
    }
}

/// A client that sends a body somewhat over the limit gets its 413 after the body and can use
/// the connection again; one that declares a body past what the server will read is told
/// `Connection: close`, so it never sends its next request into a socket the server dropped.
#[tokio::test]
async fn a_413_leaves_the_connection_usable_or_says_it_closes() {
    let server = reference_server::spawn(config()).await.expect("spawn");
    let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    let body = format!(
        "{{\"description\":\"{}\"}}",
        "x".repeat(1024 * 1024 + 64 * 1024)
    );
    let head = format!(
        "POST /workflows/v1/simulations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {DEV_KEY}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body.as_bytes()).await.unwrap();
    let refused = read_response(&mut stream).await;
    assert_eq!(status_of(refused.as_bytes()), Some(413), "{refused}");
    assert!(
        !refused.to_ascii_lowercase().contains("connection: close"),
        "{refused}"
    );
    let next = format!(
        "GET /workflows/v1/simulations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {DEV_KEY}\r\n\r\n"
    );
    stream.write_all(next.as_bytes()).await.unwrap();
    let listed = read_response(&mut stream).await;
    assert_eq!(status_of(listed.as_bytes()), Some(200), "{listed}");

    let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    let head = format!(
        "POST /workflows/v1/simulations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {DEV_KEY}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        64 * 1024 * 1024
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let refused = read_response(&mut stream).await;
    assert_eq!(status_of(refused.as_bytes()), Some(413), "{refused}");
    assert!(
        refused.to_ascii_lowercase().contains("connection: close"),
        "{refused}"
    );
    server.shutdown().await;
}
