//! The environment of the programs xtask starts (Python, pip, Schemathesis, cargo, git, the suite the bench's race runs): an allow list, so the suite's keys and any other secret of the caller's shell stay in xtask.

use std::ffi::{OsStr, OsString};
use std::process::Command;

/// Variables passed whole: what a shell, Python, pip, git and cargo need to find themselves,
/// their caches, certificates and proxy.
const NAMES: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "LANG",
    "LANGUAGE",
    "TZ",
    "TERM",
    "NO_COLOR",
    "TMPDIR",
    "TEMP",
    "TMP",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "all_proxy",
    "RUSTC",
    // A build setting like RUSTFLAGS: cargo fingerprints it, so a child cargo without it rebuilds
    // everything the caller's cargo built with it (and the caller's next build does it again).
    "RUSTC_BOOTSTRAP",
    "RUSTC_WRAPPER",
    "RUSTFLAGS",
    "RUSTDOCFLAGS",
    "SYSTEMROOT",
];

/// Families passed by prefix: pip's and cargo's own settings, rustup's toolchain choice,
/// pyenv's shims, the locale and the XDG directories (pip's cache).
const PREFIXES: &[&str] = &[
    "LC_", "PIP_", "CARGO_", "RUSTUP_", "PYENV", "PYTHON", "XDG_", "GIT_",
];

/// Whether a child may see the variable `name`. Never the suite's keys (`CONTRACT_*`), and never
/// a name that says it holds a credential, even in an allowed family (`CARGO_REGISTRY_TOKEN`).
pub fn passes(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    let secret = ["TOKEN", "SECRET", "PASSWORD", "CREDENTIAL"]
        .iter()
        .any(|word| upper.contains(word));
    !secret
        && !upper.starts_with("CONTRACT_")
        && (NAMES.contains(&name) || PREFIXES.iter().any(|p| name.starts_with(p)))
}

/// The variables of `vars` a child may see.
pub fn allowed(vars: impl IntoIterator<Item = (OsString, OsString)>) -> Vec<(OsString, OsString)> {
    vars.into_iter()
        .filter(|(name, _)| name.to_str().is_some_and(passes))
        .collect()
}

/// `Command::new(program)` with only the allowed part of this process's environment.
pub fn command(program: impl AsRef<OsStr>) -> Command {
    command_in(program, std::env::vars_os())
}

/// `Command::new(program)` with only the allowed part of `vars` as its environment.
pub fn command_in(
    program: impl AsRef<OsStr>,
    vars: impl IntoIterator<Item = (OsString, OsString)>,
) -> Command {
    let mut command = Command::new(program);
    command.env_clear().envs(allowed(vars));
    command
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(vars: &[(&str, &str)]) -> Vec<String> {
        allowed(
            vars.iter()
                .map(|(n, v)| (OsString::from(n), OsString::from(v))),
        )
        .into_iter()
        .map(|(n, _)| n.into_string().unwrap())
        .collect()
    }

    #[test]
    fn keys_and_credentials_never_reach_a_child_while_its_tools_settings_do() {
        let kept = names(&[
            ("CONTRACT_TOKEN", "k1"),
            ("CONTRACT_OTHER_TEAM_TOKEN", "k2"),
            ("CONTRACT_EXPECT_TEAM", "t"),
            ("CARGO_REGISTRY_TOKEN", "c"),
            ("GITHUB_TOKEN", "g"),
            ("AWS_SECRET_ACCESS_KEY", "a"),
            ("PIP_INDEX_URL_PASSWORD", "p"),
            ("PATH", "/usr/bin"),
            ("HOME", "/root"),
            ("PIP_CERT", "/etc/ssl/c.pem"),
            ("PIP_FIND_LINKS", "/opt/wheels"),
            ("CARGO_HOME", "/root/.cargo"),
            ("SSL_CERT_FILE", "/etc/ssl/c.pem"),
            ("LC_ALL", "C.UTF-8"),
            ("PYENV_ROOT", "/root/.pyenv"),
        ]);
        assert_eq!(
            kept,
            [
                "PATH",
                "HOME",
                "PIP_CERT",
                "PIP_FIND_LINKS",
                "CARGO_HOME",
                "SSL_CERT_FILE",
                "LC_ALL",
                "PYENV_ROOT"
            ]
        );
    }
}
