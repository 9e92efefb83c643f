//! `cargo xtask oracle`: the FastAPI + pydantic oracle (`oracle/`) in a virtualenv of its own, in the foreground or as a child process that tests drive.

use std::fs::{File, TryLockError};
use std::io::{BufRead, BufReader, ErrorKind};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::child_env;
use crate::codegen::workspace_root;

/// Covers a cold start of Python and FastAPI on a loaded 2-core machine with room to spare.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
/// pip from PyPI on a slow link: how long to wait for another process's install.
const INSTALL_TIMEOUT: Duration = Duration::from_secs(15 * 60);
const STAMP_FILE: &str = "xtask-requirements.stamp";

#[derive(Debug, clap::Args)]
pub struct OracleArgs {
    /// The loopback address to listen on (beside the reference server's 8080)
    #[arg(long, value_name = "IP:PORT", default_value = "127.0.0.1:8081",
          value_parser = |s: &str| s.parse::<SocketAddr>().map_err(|_| "not IP:PORT".to_owned()))]
    addr: SocketAddr,
}

pub fn run(args: OracleArgs) -> Result<()> {
    let addr = checked(args)?;
    let oracle = spawn(addr)?;
    println!(
        "oracle (FastAPI + pydantic) listening on {}",
        oracle.base_url()
    );
    // Development keys are public by design, as for `cargo xtask serve`.
    println!("development keys: dev-key-team-a (team-a/user-a), dev-key-team-b (team-b/user-b)");
    oracle.wait()
}

fn checked(args: OracleArgs) -> Result<SocketAddr> {
    let addr = args.addr;
    // The oracle answers to keys published in this repository: never offer it to a network.
    if !addr.ip().is_loopback() {
        bail!("--addr {addr} is not a loopback address; the oracle only serves this machine");
    }
    Ok(addr)
}

/// A running oracle; dropping it stops the process.
#[derive(Debug)]
pub struct Oracle {
    child: Child,
    /// Held open for the child's lifetime: serve.py stops when it closes, so the oracle
    /// cannot outlive this process even when it dies by SIGKILL and skips `Drop`.
    stdin: Option<ChildStdin>,
    base_url: String,
}

impl Oracle {
    /// `http://HOST:PORT`, as serve.py reported it after binding.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Blocks until the oracle stops; an exit other than success is an error.
    pub fn wait(mut self) -> Result<()> {
        let status = self.child.wait().context("cannot wait for the oracle")?;
        if !status.success() {
            bail!("the oracle stopped: {status}");
        }
        Ok(())
    }
}

impl Drop for Oracle {
    fn drop(&mut self) {
        drop(self.stdin.take());
        // Errors only mean the process is gone already.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the oracle on `addr` (port 0 picks a free port) once its virtualenv is ready, and
/// returns when it listens. Its later output goes to this process's stdout and stderr.
pub fn spawn(addr: SocketAddr) -> Result<Oracle> {
    let dir = workspace_root().join("oracle");
    spawn_script(&dir.join("serve.py"), addr, &[], true)
}

/// As [`spawn`], for any script that takes serve.py's flags and prints its `listening on`
/// line (a blind round's `serve.py`), with `env` added to the scrubbed environment. Without
/// `echo`, what the script writes after it listens is dropped (a faulty copy's tracebacks);
/// what it wrote before is still the error if it never listens.
pub fn spawn_script(
    script: &Path,
    addr: SocketAddr,
    env: &[(&str, &str)],
    echo: bool,
) -> Result<Oracle> {
    let python = ensure_venv()?;
    let dir = script.parent().unwrap_or(script);
    let root = workspace_root();
    let name = script
        .strip_prefix(&root)
        .unwrap_or(script)
        .display()
        .to_string();
    let mut child = child_env::command(&python)
        .arg(script)
        .envs(env.iter().copied())
        .args(["--host", &addr.ip().to_string()])
        .args(["--port", &addr.port().to_string()])
        .arg("--exit-on-stdin-eof")
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run {}", python.display()))?;
    let stdin = child.stdin.take();
    let stdout = child.stdout.take().context("no stdout pipe")?;
    let stderr = child.stderr.take().context("no stderr pipe")?;

    let (first_line, lines) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines_out = BufReader::new(stdout).lines().map_while(Result::ok);
        if let Some(line) = lines_out.next() {
            let _ = first_line.send(line);
        }
        for line in lines_out {
            if echo {
                println!("{line}");
            }
        }
    });
    let early_stderr = Arc::new(Mutex::new(EarlyStderr::default()));
    let stderr_done = {
        let early = Arc::clone(&early_stderr);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut early = early.lock().unwrap_or_else(|e| e.into_inner());
                if early.started {
                    if echo {
                        eprintln!("{line}");
                    }
                } else {
                    early.lines.push(line);
                }
            }
        })
    };

    let mut oracle = Oracle {
        child,
        stdin,
        base_url: String::new(),
    };
    let line = match lines.recv_timeout(STARTUP_TIMEOUT) {
        Ok(line) => line,
        Err(mpsc::RecvTimeoutError::Timeout) => bail!(
            "{name} printed no `listening on` line within {} s",
            STARTUP_TIMEOUT.as_secs()
        ),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            let status = oracle.child.wait().context("cannot wait for the oracle")?;
            let _ = stderr_done.join();
            let early = early_stderr.lock().unwrap_or_else(|e| e.into_inner());
            // A traceback ends with the exception, and serve.py's own errors are one line.
            let last = early
                .lines
                .iter()
                .rev()
                .find(|l| !l.trim().is_empty())
                .map_or("no output", String::as_str);
            bail!(
                "{name} stopped before listening ({status}): {}",
                last.trim()
            );
        }
    };
    oracle.base_url = line
        .strip_prefix("listening on ")
        .filter(|url| url.starts_with("http://"))
        .with_context(|| {
            format!(
                "{name} printed {} instead of `listening on URL`",
                contract_tests::text::quoted(&line)
            )
        })?
        .to_owned();
    let mut early = early_stderr.lock().unwrap_or_else(|e| e.into_inner());
    for line in early.lines.drain(..) {
        if echo {
            eprintln!("{line}");
        }
    }
    early.started = true;
    Ok(oracle)
}

/// What serve.py wrote to stderr before it listened: kept for the error if it never does.
#[derive(Debug, Default)]
struct EarlyStderr {
    started: bool,
    lines: Vec<String>,
}

/// The virtualenv's Python, with oracle/requirements.txt installed: created on first use and
/// again whenever requirements.txt or the system's python3 changes.
pub fn ensure_venv() -> Result<PathBuf> {
    let requirements = workspace_root().join("oracle/requirements.txt");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace_root().join("target"), PathBuf::from);
    let venv = target.join("oracle-venv");
    let python = venv_python(&venv);
    let stamp_path = venv.join(STAMP_FILE);
    let wanted = stamp(&requirements, &system_python_version()?)?;
    let current = || std::fs::read_to_string(&stamp_path).ok();
    if python.exists() && current().as_deref() == Some(wanted.as_str()) {
        return Ok(python);
    }
    std::fs::create_dir_all(&target)
        .with_context(|| format!("cannot create {}", target.display()))?;
    // Tests start oracles in parallel, and a developer may run one meanwhile: one installer.
    let _lock = InstallLock::acquire(&target.join("oracle-venv.install-lock"), INSTALL_TIMEOUT)?;
    if python.exists() && current().as_deref() == Some(wanted.as_str()) {
        return Ok(python);
    }
    eprintln!(
        "oracle: installing oracle/requirements.txt into {} (again only when it changes)",
        venv.display()
    );
    // --clear: packages dropped from requirements.txt must not linger.
    quiet(
        child_env::command("python3")
            .args(["-m", "venv", "--clear"])
            .arg(&venv),
        "python3 -m venv",
    )?;
    // --require-hashes: every file pip takes must have a hash the requirements list, so a
    // substituted package on the index (or an unlisted dependency) fails the install.
    quiet(
        child_env::command(&python)
            .args(["-m", "pip", "install", "--disable-pip-version-check"])
            .args(["--no-input", "--quiet", "--require-hashes", "-r"])
            .arg(&requirements),
        "pip install -r oracle/requirements.txt",
    )?;
    std::fs::write(&stamp_path, wanted)
        .with_context(|| format!("cannot write {}", stamp_path.display()))?;
    Ok(python)
}

fn venv_python(venv: &Path) -> PathBuf {
    if cfg!(windows) {
        venv.join("Scripts/python.exe")
    } else {
        venv.join("bin/python")
    }
}

fn system_python_version() -> Result<String> {
    let out = match child_env::command("python3").arg("--version").output() {
        Err(e) if e.kind() == ErrorKind::NotFound => {
            bail!("python3 is not installed; the oracle needs Python 3 with its venv module")
        }
        other => other.context("cannot run python3")?,
    };
    if !out.status.success() {
        bail!("`python3 --version` failed ({})", out.status);
    }
    // Python 2 and old 3s printed the version to stderr.
    let text = [out.stdout, out.stderr].concat();
    Ok(String::from_utf8_lossy(&text).trim().to_owned())
}

/// The stamp kept in the venv: what it was built from. FNV-1a rather than std's hasher,
/// whose output may change between Rust releases and would reinstall for nothing.
fn stamp(requirements: &Path, python_version: &str) -> Result<String> {
    let bytes = std::fs::read(requirements)
        .with_context(|| format!("cannot read {}", requirements.display()))?;
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    Ok(format!(
        "requirements.txt fnv1a64 {hash:016x}\n{python_version}\n"
    ))
}

/// Runs a setup command with its output captured; on failure, its last line of stderr.
fn quiet(command: &mut Command, what: &str) -> Result<()> {
    let out = command
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run `{what}`"))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let last = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("no output");
        bail!("`{what}` failed ({}): {}", out.status, last.trim());
    }
    Ok(())
}

/// An OS lock (flock) on a file: whoever holds it installs, the others wait. The kernel releases
/// it when its holder exits however it dies, so an installer killed midway blocks nobody.
#[derive(Debug)]
struct InstallLock {
    _file: File,
}

impl InstallLock {
    /// Takes the lock, waiting at most `patience` for another holder, with a line on stderr
    /// when it has to wait and every minute after.
    fn acquire(path: &Path, patience: Duration) -> Result<InstallLock> {
        // Never deleted: removing a lock file while another process waits on it would let a
        // third lock a new file at the same path, and both would install at once.
        let file = File::options()
            .create(true)
            .write(true)
            .truncate(false)
            .open(path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        let started = Instant::now();
        let mut said = None::<Instant>;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(InstallLock { _file: file }),
                Err(TryLockError::WouldBlock) => {}
                Err(TryLockError::Error(e)) => {
                    return Err(e).with_context(|| format!("cannot lock {}", path.display()));
                }
            }
            let waited = started.elapsed();
            if waited >= patience {
                bail!(
                    "another process has been installing the oracle's virtualenv for {} s ({} is locked)",
                    waited.as_secs(),
                    path.display()
                );
            }
            if said.is_none_or(|t| t.elapsed() >= Duration::from_secs(60)) {
                eprintln!(
                    "oracle: waiting for another process to finish installing the virtualenv ({} is locked, {} s so far)",
                    path.display(),
                    waited.as_secs()
                );
                said = Some(Instant::now());
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(clap::Parser)]
    struct Oracle {
        #[command(flatten)]
        args: OracleArgs,
    }

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    /// As `cargo xtask oracle ARGS` parses and checks them; an error as the one line it prints.
    fn parse(list: &[String]) -> Result<SocketAddr> {
        let parsed = <Oracle as clap::Parser>::try_parse_from(
            std::iter::once("oracle").chain(list.iter().map(String::as_str)),
        )
        .map_err(|e| anyhow::anyhow!(crate::cli::one_line(&e, "oracle")))?;
        checked(parsed.args)
    }

    #[test]
    fn defaults_to_loopback_8081_and_refuses_other_hosts() {
        assert_eq!(parse(&[]).unwrap().to_string(), "127.0.0.1:8081");
        assert_eq!(
            parse(&args(&["--addr", "[::1]:0"])).unwrap().to_string(),
            "[::1]:0"
        );
        for bad in [
            &["--addr", "0.0.0.0:8081"][..],
            &["--addr", "localhost:8081"],
            &["--addr"],
            &["--port", "1"],
        ] {
            let error = format!("{:#}", parse(&args(bad)).expect_err("refused"));
            assert!(!error.contains('\n'), "{error}");
        }
    }

    #[test]
    fn the_stamp_follows_requirements_and_python() {
        let dir = std::env::temp_dir().join(format!("xtask-oracle-stamp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("requirements.txt");
        std::fs::write(&file, "fastapi==1\n").unwrap();
        let first = stamp(&file, "Python 3.11.7").unwrap();
        assert_eq!(first, stamp(&file, "Python 3.11.7").unwrap());
        assert_ne!(first, stamp(&file, "Python 3.12.0").unwrap());
        std::fs::write(&file, "fastapi==2\n").unwrap();
        assert_ne!(first, stamp(&file, "Python 3.11.7").unwrap());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn the_install_lock_is_exclusive_and_released_on_drop() {
        let path = std::env::temp_dir().join(format!("xtask-oracle-lock-{}", std::process::id()));
        let lock = InstallLock::acquire(&path, Duration::ZERO).unwrap();
        let error = InstallLock::acquire(&path, Duration::ZERO).expect_err("held");
        assert!(format!("{error:#}").contains("is locked"), "{error:#}");
        drop(lock);
        drop(InstallLock::acquire(&path, Duration::ZERO).expect("released"));
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn a_lock_left_by_a_killed_installer_does_not_block_the_next_run() {
        let path =
            std::env::temp_dir().join(format!("xtask-oracle-lock-kill-{}", std::process::id()));
        // Another process takes the lock the way xtask does (flock), says so, and is killed.
        let mut holder = Command::new("python3")
            .args([
                "-c",
                "import fcntl, sys\nf = open(sys.argv[1], 'a')\nfcntl.flock(f, fcntl.LOCK_EX)\nprint('locked', flush=True)\nsys.stdin.read()",
            ])
            .arg(&path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(holder.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "locked");
        assert!(InstallLock::acquire(&path, Duration::ZERO).is_err(), "held");
        holder.kill().unwrap();
        holder.wait().unwrap();
        assert!(path.exists(), "the killed holder left its lock file");
        drop(InstallLock::acquire(&path, Duration::ZERO).expect("free once its holder died"));
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn spawn_serves_on_a_free_port_and_stops_on_drop() {
        let oracle = spawn(([127, 0, 0, 1], 0).into()).unwrap();
        let addr: SocketAddr = oracle
            .base_url()
            .trim_start_matches("http://")
            .parse()
            .unwrap();
        assert_ne!(addr.port(), 0);
        assert!(std::net::TcpStream::connect(addr).is_ok(), "listening");
        drop(oracle);
        assert!(std::net::TcpStream::connect(addr).is_err(), "stopped");
    }
}
