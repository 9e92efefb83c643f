//! Errors that stop a run before it can judge anything (exit code 2 territory), and the one way the suite and xtask write an error with its causes.

/// Why a run could not be made.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot read spec {path}: {reason}")]
    SpecUnreadable { path: String, reason: String },
    #[error("spec is unusable: {0}")]
    Spec(String),
    #[error("bad arguments: {0}")]
    Arguments(String),
    #[error("target {url} is unreachable: {reason}")]
    Unreachable { url: String, reason: String },
    /// The preflight's request failed on every retry with infrastructure errors (exit code 3).
    #[error("{0}")]
    Unhealthy(String),
    #[error("the target refused the API key: {0}")]
    Unauthorized(String),
    /// The preflight's list was answered 404, 3xx or 5xx: the base URL (or the gateway in
    /// front of the service) is not the API's, so no case is run (exit code 2).
    #[error(
        "the target is misconfigured: the preflight {0}; check --base-url and what stands in front of the service"
    )]
    Misconfigured(String),
    /// A key shorter than `runner::MIN_KEY_CHARS`: the message is the suite's own words and
    /// names only the variable, so it is shown unredacted (redacting a key of two characters
    /// would rewrite the message itself).
    #[error(
        "{variable} is too short: keys must have at least {min} characters, since the suite hides a key (and the key without its last character) wherever it occurs in what it reads and writes, and a shorter one would also rewrite the run's own data"
    )]
    KeyTooShort { variable: &'static str, min: usize },
    /// Both keys create records of one team: the tenancy cases would judge the run's own team's
    /// records as another's (exit code 2).
    #[error(
        "CONTRACT_OTHER_TEAM_TOKEN belongs to the same team as CONTRACT_TOKEN (team {team}): the tenancy cases need a key of another team; set it to one, or unset it to skip them"
    )]
    SameTeam { team: String },
    #[error(
        "refusing to write to {host}: it is neither loopback nor a qa/dev/test/staging host under interactly.ai or an --allow-host domain; pass --allow-host {host} if you mean it"
    )]
    UnsafeHost { host: String },
    /// The regressions file cannot be used as it is; it is left untouched.
    #[error("cannot use the regressions file {path}: {reason}")]
    Regressions { path: String, reason: String },
    #[error("cannot write {path}: {reason}")]
    Output { path: String, reason: String },
    /// A panic inside the suite: a bug of the suite, never of the target or the arguments.
    #[error("internal error of the contract suite (please report it): {0}")]
    Internal(String),
}

/// An error and every source under it on one line, `outer: cause: root cause`: reqwest and
/// hyper put the useful part (refused, reset, a TLS alert) in the sources, not the top message.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
