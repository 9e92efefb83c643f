//! The `reference-server` binary as another team runs it (`cargo install --path
//! reference-server`): it serves over HTTP with the options of `cargo xtask serve`, answers
//! `--help` and `--version`, and exits 2 with one line on a bad option, address or keys file.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};

use reference_server::DEV_KEY;

/// The built binary with no key of the caller's environment.
fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_reference-server"));
    command.env_remove("SERVE_API_KEYS").stdin(Stdio::null());
    command
}

/// A running server, killed when dropped (it serves until then).
struct Serving {
    child: Child,
    addr: SocketAddr,
    banner: Vec<String>,
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the binary on a free loopback port with `args`, and reads its banner up to the
/// `limits:` line (the address comes from its first line).
fn serve(args: &[&str]) -> Serving {
    let mut child = binary()
        .args(["--addr", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary runs");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut banner = Vec::new();
    loop {
        let mut line = String::new();
        let read = stdout.read_line(&mut line).expect("the banner");
        assert!(read > 0, "the server ended during its banner: {banner:?}");
        let done = line.starts_with("limits:");
        banner.push(line.trim_end().to_owned());
        if done {
            break;
        }
    }
    // The request log goes to stdout too: drain it so the server never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let addr = banner[0]
        .rsplit("http://")
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no address in {banner:?}"));
    Serving {
        child,
        addr,
        banner,
    }
}

/// One request with `Connection: close`: the status and the body.
fn exchange(
    addr: SocketAddr,
    method: &str,
    path: &str,
    key: Option<&str>,
    body: &str,
) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connects");
    let auth = key.map_or(String::new(), |k| format!("Authorization: Bearer {k}\r\n"));
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(head.as_bytes()).expect("sends");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("reads");
    let status = answer
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not HTTP: {answer:?}"));
    let body = answer
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    (status, body)
}

const COLLECTION: &str = "/workflows/v1/simulations";

#[test]
fn the_binary_serves_the_api_over_http() {
    let server = serve(&[]);
    assert!(server.banner[2].contains(DEV_KEY), "{:?}", server.banner);
    let (status, body) = exchange(server.addr, "GET", COLLECTION, None, "");
    assert_eq!(status, 401, "{body}");
    let (status, body) = exchange(server.addr, "POST", COLLECTION, Some(DEV_KEY), "{}");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""max_events":500"#), "{body}");
    let (status, body) = exchange(server.addr, "GET", "/healthz", None, "");
    assert_eq!((status, body.as_str()), (200, r#"{"status":"ok"}"#));
    let (status, body) = exchange(
        server.addr,
        "HEAD",
        reference_server::OPENAPI_PATH,
        None,
        "",
    );
    assert_eq!((status, body.as_str()), (200, ""));
}

/// Two faults of different rules (a reshaping layer and a behaviour), given as one
/// comma-separated `--fault`, are both observable over HTTP; the banner names each.
#[cfg(feature = "faults")]
#[test]
fn the_binary_switches_on_several_faults() {
    let server = serve(&["--fault", "create-returns-201,wrong-default-max-events"]);
    let on: Vec<&String> = server
        .banner
        .iter()
        .filter(|l| l.starts_with("FAULT ON:"))
        .collect();
    assert_eq!(on.len(), 2, "{:?}", server.banner);
    let (status, body) = exchange(server.addr, "POST", COLLECTION, Some(DEV_KEY), "{}");
    assert_eq!(status, 201, "{body}");
    assert!(body.contains(r#""max_events":100"#), "{body}");
}

#[test]
fn help_and_version_exit_0() {
    let help = binary().arg("--help").output().expect("runs");
    assert_eq!(help.status.code(), Some(0));
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(text.contains("Usage: reference-server [OPTIONS]"), "{text}");
    for option in ["--addr", "--api-key-file", "SERVE_API_KEYS"] {
        assert!(text.contains(option), "{option}: {text}");
    }
    // The fault flags exist only in a build with the catalog.
    for option in ["--fault", "--list-faults"] {
        assert_eq!(
            text.contains(option),
            cfg!(feature = "faults"),
            "{option}: {text}"
        );
    }
    let version = binary().arg("--version").output().expect("runs");
    assert_eq!(version.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("reference-server {}", env!("CARGO_PKG_VERSION"))
    );
    #[cfg(feature = "faults")]
    {
        let listed = binary().arg("--list-faults").output().expect("runs");
        assert_eq!(listed.status.code(), Some(0));
        assert_eq!(
            String::from_utf8_lossy(&listed.stdout).lines().count(),
            reference_server::Fault::ALL.len()
        );
    }
}

/// A bad flag, address, key or keys file is one `error:` line on stderr and exit 2, with no
/// key in it; an address that cannot be listened on too.
#[test]
fn misconfiguration_is_one_line_and_exit_2() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let taken = taken.local_addr().expect("its address").to_string();
    let missing = std::env::temp_dir().join(format!("no-such-keys-{}", std::process::id()));
    let missing = missing.to_string_lossy().into_owned();
    let cases: [(&[&str], &str); 7] = [
        (&["--what"], "unknown argument `--what`"),
        (&["--addr", "localhost"], "--addr"),
        (&["--addr", &taken], "cannot listen on"),
        if cfg!(feature = "faults") {
            (&["--fault", "nope"], "nope")
        } else {
            (&["--fault", "nope"], "unknown argument `--fault`")
        },
        (&["--latency", "-5"], "out of range"),
        (&["--api-key", "secret-only-key"], "--api-key"),
        (&["--api-key-file", &missing], "cannot open"),
    ];
    for (args, says) in cases {
        let output = binary().args(args).output().expect("runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(!stderr.contains("secret"), "{args:?}: {stderr}");
    }
}
