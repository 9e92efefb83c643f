//! Running the suite's long commands from a release build, and every suite command's panics as one plain line.
//!
//! `contract` runs in the build `cargo xtask` made (the `xtask` profile: 2000 cases in about
//! 6 s, measured in bench/RESULTS.md, section 0). `mutants` and `bench` run the suite dozens of
//! times and measure it, so a debug-assertions build of xtask (any profile but release) builds
//! xtask in release once and hands them over.

use std::process::{Command, ExitCode};

use anyhow::Result;
use contract_tests::text::escape;

use crate::codegen::workspace_root;

/// Set in the release child, so it does not hand over again.
const IN_RELEASE: &str = "XTASK_IN_RELEASE";
/// Set to run the suite unoptimised on purpose (the xtask tests do, to reuse the debug build).
pub const ALLOW_DEBUG: &str = "XTASK_ALLOW_DEBUG";

/// In a debug build, builds xtask in release and runs `command args` there; returns its exit
/// code. Returns `None` when this process should do the work itself.
pub fn hand_over(command: &str, args: &[String]) -> Option<ExitCode> {
    if !cfg!(debug_assertions)
        || std::env::var_os(IN_RELEASE).is_some()
        || std::env::var_os(ALLOW_DEBUG).is_some()
    {
        return None;
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let root = workspace_root();
    // The build runs every dependency's build script: none of them needs the keys.
    let built = crate::child_env::command(&cargo)
        .args(["build", "--release", "--package", "xtask"])
        .current_dir(&root)
        .status();
    match built {
        Ok(status) if status.success() => {}
        Ok(_) => {
            eprintln!("error: the release build of xtask failed");
            return Some(ExitCode::from(2));
        }
        Err(e) => {
            eprintln!("error: cannot run cargo: {e}");
            return Some(ExitCode::from(2));
        }
    }
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), Into::into);
    let status = Command::new(target.join("release/xtask"))
        .arg(command)
        .args(args)
        .env(IN_RELEASE, "1")
        .status();
    Some(match status {
        Ok(s) => ExitCode::from(s.code().map_or(2, |c| c.clamp(0, 255) as u8)),
        Err(e) => {
            eprintln!("error: cannot run the release xtask: {e}");
            ExitCode::from(2)
        }
    })
}

/// Runs `mutants` or `bench` from a release build (see [`hand_over`]), then as [`run_guarded`].
/// The arguments were parsed (and help, version and argument errors answered) before this is
/// called, so the hand-over never builds for a command line that is refused anyway.
pub fn run_optimised(
    command: &str,
    args: &[String],
    body: impl FnOnce() -> Result<ExitCode>,
) -> ExitCode {
    match hand_over(command, args) {
        Some(code) => code,
        None => run_guarded(body),
    }
}

/// Runs one of the suite's commands in this process. Its failure to run is one line on stderr
/// and exit code 2, which the suite's commands reserve for "no run was made".
pub fn run_guarded(body: impl FnOnce() -> Result<ExitCode>) -> ExitCode {
    // A panic anywhere in the suite is its own bug: one line saying so and exit code 2, never
    // the default message and 101. Panics inside case tasks already arrive as
    // `RunError::Internal`; this catches the rest.
    std::panic::set_hook(Box::new(|info| {
        if let Ok(mut last) = LAST_PANIC.lock() {
            *last = Some(describe_panic(info));
        }
    }));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body));
    let _ = std::panic::take_hook();
    match outcome {
        Ok(Ok(code)) => code,
        Ok(Err(err)) => {
            // The chain may quote a server's answer: escaped, it stays one line and inert.
            eprintln!("error: {}", escape(&format!("{err:#}")));
            ExitCode::from(2)
        }
        Err(_) => {
            let place = LAST_PANIC
                .lock()
                .ok()
                .and_then(|p| p.clone())
                .unwrap_or_else(|| "an unknown place".into());
            eprintln!(
                "error: internal error of the contract suite (please report it): it panicked at {}",
                escape(&place)
            );
            ExitCode::from(2)
        }
    }
}

/// Where and why the last panic happened, kept by the hook [`run_optimised`] installs.
static LAST_PANIC: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

fn describe_panic(info: &std::panic::PanicHookInfo<'_>) -> String {
    let message = info
        .payload()
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| info.payload().downcast_ref::<String>().cloned())
        .unwrap_or_default();
    match info.location() {
        Some(l) => format!("{}:{}: {message}", l.file(), l.line()),
        None => message,
    }
}
