//! `cargo xtask serve` as a process under hostile surroundings: a stdout closed before it writes (`| head -1`), and keys from a file and the environment that must work and never show.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};

/// The built xtask with no key of the caller's environment.
fn xtask() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command
        .env("XTASK_ALLOW_DEBUG", "1")
        .env_remove("CONTRACT_TOKEN")
        .env_remove("CONTRACT_OTHER_TEAM_TOKEN")
        .env_remove("SERVE_API_KEYS")
        .stdin(Stdio::null());
    command
}

/// A pipe whose reading end is already closed: the first write to it fails with EPIPE, as
/// `| head -1` does once it has its line (without the race of when `head` exits).
fn closed_pipe() -> std::io::PipeWriter {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    writer
}

/// A serve process, killed when dropped (it serves until then).
struct Serving(Child);

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Serving {
    /// The child's stderr, once it has been killed.
    fn stop(mut self) -> String {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let mut stderr = String::new();
        if let Some(mut pipe) = self.0.stderr.take() {
            let _ = pipe.read_to_string(&mut stderr);
        }
        stderr
    }
}

/// One request with `Connection: close`; the status code, or `None` for no HTTP answer.
fn status_of(addr: SocketAddr, key: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(addr).ok()?;
    let head = format!(
        "GET /workflows/v1/simulations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    answer.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

#[test]
fn list_faults_into_a_closed_pipe_exits_0_without_a_word() {
    let output = xtask()
        .args(["serve", "--list-faults"])
        .stdout(closed_pipe())
        .stderr(Stdio::piped())
        .output()
        .expect("xtask runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}

/// The banner goes to a stdout that is gone; the server keeps serving (before, the first
/// banner line panicked it, exit 101).
#[test]
fn serve_keeps_serving_when_stdout_is_closed() {
    // A port nothing listens on; the test connects until serve has it or has ended.
    let addr = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    let mut child = xtask()
        .args(["serve", "--addr", &addr.to_string()])
        .stdout(closed_pipe())
        .stderr(Stdio::piped())
        .spawn()
        .expect("xtask runs");
    let status = loop {
        if let Some(ended) = child.try_wait().expect("wait") {
            let serving = Serving(child);
            panic!("serve ended ({ended}): {}", serving.stop());
        }
        // Refused until serve listens, then answered; serve's start bounds the loop.
        match TcpStream::connect(addr) {
            Ok(_) => break status_of(addr, reference_server::DEV_KEY),
            Err(_) => std::thread::yield_now(),
        }
    };
    let serving = Serving(child);
    assert_eq!(status, Some(200));
    let stderr = serving.stop();
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Keys from `--api-key-file` and `SERVE_API_KEYS` are accepted (and replace the development
/// keys); neither is ever printed, nor is one given on the command line.
#[test]
fn keys_from_a_file_and_the_environment_work_and_never_show() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let file = dir.join(format!("serve-keys-{}", std::process::id()));
    std::fs::write(&file, "# QA\nfile-s3cret-key:team-f:user-f\n").expect("write the keys");
    let mut child = xtask()
        .args(["serve", "--addr", "127.0.0.1:0", "--api-key-file"])
        .arg(&file)
        .args(["--api-key", "argv-s3cret-key:team-a:user-a"])
        .env("SERVE_API_KEYS", "env-s3cret-key:team-e:user-e")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("xtask runs");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let serving = Serving(child);
    let mut banner = String::new();
    stdout.read_line(&mut banner).expect("the first line");
    let addr: SocketAddr = banner
        .trim()
        .rsplit("http://")
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no address in {banner:?}"));
    assert_eq!(status_of(addr, "file-s3cret-key"), Some(200));
    assert_eq!(status_of(addr, "env-s3cret-key"), Some(200));
    assert_eq!(status_of(addr, "argv-s3cret-key"), Some(200));
    assert_eq!(status_of(addr, reference_server::DEV_KEY), Some(401));
    let stderr = serving.stop();
    let mut rest = String::new();
    let _ = stdout.read_to_string(&mut rest);
    let printed = format!("{banner}{rest}{stderr}");
    assert!(printed.contains("3 API keys for "), "{printed}");
    assert!(!printed.contains("s3cret"), "{printed}");
    let _ = std::fs::remove_file(file);
}

/// The other listings into a closed pipe: the command list and help. (`cargo xtask` alone
/// writes the list on stderr and exits 2: `tests/it/help.rs`.)
#[test]
fn the_command_list_and_help_into_a_closed_pipe_exit_0_without_a_word() {
    for args in [&["help"][..], &["serve", "--help"]] {
        let output = xtask()
            .args(args)
            .stdout(closed_pipe())
            .stderr(Stdio::piped())
            .output()
            .expect("xtask runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
    }
}

/// A keys file that cannot be read and an address that cannot be listened on are
/// misconfiguration: one `error:` line and exit 2, as the `reference-server` binary has them.
#[test]
fn a_bad_keys_file_or_address_exits_2_with_one_line() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("a port");
    let taken = taken.local_addr().expect("its address").to_string();
    let missing = std::env::temp_dir().join(format!("serve-no-keys-{}", std::process::id()));
    let missing = missing.to_string_lossy().into_owned();
    for (args, says) in [
        (["--api-key-file", missing.as_str()], "cannot open"),
        (["--addr", taken.as_str()], "cannot listen on"),
    ] {
        let output = xtask()
            .arg("serve")
            .args(args)
            .stdout(Stdio::null())
            .output()
            .expect("xtask runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("error: "), "{stderr}");
        assert!(stderr.contains(says), "{stderr}");
    }
}
