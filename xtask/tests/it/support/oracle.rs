//! The FastAPI oracle as the xtask tests start it: `cargo xtask oracle` on a free loopback port, killed when dropped.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

/// The first run creates the virtualenv from PyPI; later starts take a second or two.
const FIRST_START: Duration = Duration::from_secs(15 * 60);

/// The keys `cargo xtask oracle` is started with: xtask must not hand them to serve.py.
pub const PLANTED_KEY: &str = "planted-key-the-oracle-must-not-see";

/// `cargo xtask oracle` running as a child; killed when dropped, and serve.py with it.
pub struct Running {
    child: Child,
    pub base_url: String,
    pub stderr: Arc<Mutex<String>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    // Bind and drop a listener to find a port nothing listens on.
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn start() -> Running {
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["oracle", "--addr", &format!("127.0.0.1:{port}")])
        // Planted so that a test can check they never reach the Python process.
        .env("CONTRACT_TOKEN", PLANTED_KEY)
        .env("CONTRACT_OTHER_TEAM_TOKEN", PLANTED_KEY)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("xtask runs");
    let stdout = child.stdout.take().unwrap();
    let mut stderr_pipe = child.stderr.take().unwrap();
    let stderr = Arc::new(Mutex::new(String::new()));
    let sink = Arc::clone(&stderr);
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = stderr_pipe.read(&mut buf) {
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut running = Running {
        child,
        base_url: String::new(),
        stderr,
    };
    let wanted = format!("listening on http://127.0.0.1:{port}");
    loop {
        match rx.recv_timeout(FIRST_START) {
            Ok(line) if line.contains(&wanted) => break,
            Ok(_) => {}
            Err(e) => panic!(
                "no `{wanted}` line ({e}); stderr: {}",
                running.stderr.lock().unwrap()
            ),
        }
    }
    running.base_url = format!("http://127.0.0.1:{port}");
    running
}
