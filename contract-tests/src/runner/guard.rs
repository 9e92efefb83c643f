//! What the runner refuses before it sends anything: a target that is neither loopback nor a labelled non-production host, and options out of their range.

use super::Options;
use crate::error::RunError;
use crate::http::header_problem;
use crate::redact::Key;

/// The lower-case host of a base URL, without a trailing dot.
pub fn target_host(base_url: &str) -> Result<String, RunError> {
    let url = reqwest::Url::parse(base_url)
        .map_err(|e| RunError::Arguments(format!("--base-url {base_url}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(RunError::Arguments(format!(
            "--base-url {base_url}: only http and https are supported"
        )));
    }
    Ok(url
        .host_str()
        .unwrap_or_default()
        .trim_matches(['[', ']'])
        .trim_end_matches('.')
        .to_ascii_lowercase())
}

pub fn is_loopback_host(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The domain a labelled non-production host may sit under without `--allow-host`.
pub const DEFAULT_ALLOWED_DOMAIN: &str = "interactly.ai";

/// Whether a target may receive the suite's writes: loopback; a host named exactly by
/// `--allow-host`; or a host under an allowed domain ([`DEFAULT_ALLOWED_DOMAIN`], or one named
/// by `--allow-host`) whose name below that domain has a `qa`, `dev`, `test` or `staging` label,
/// labels being separated by dots or hyphens. A label alone is not enough: `qa.evil.com` and
/// `api-qa.interactly.ai.evil.com` are refused.
pub fn host_is_safe(base_url: &str, allow_hosts: &[String]) -> Result<(), RunError> {
    let host = target_host(base_url)?;
    let allowed: Vec<String> = allow_hosts
        .iter()
        .map(|h| h.trim_end_matches('.').to_ascii_lowercase())
        .collect();
    if is_loopback_host(&host) || allowed.contains(&host) {
        return Ok(());
    }
    let labelled_under = |domain: &str| {
        host.strip_suffix(domain)
            .and_then(|below| below.strip_suffix('.'))
            .is_some_and(|below| {
                below
                    .split(['.', '-'])
                    .any(|label| matches!(label, "qa" | "dev" | "test" | "staging"))
            })
    };
    if labelled_under(DEFAULT_ALLOWED_DOMAIN) || allowed.iter().any(|d| labelled_under(d)) {
        Ok(())
    } else {
        Err(RunError::UnsafeHost { host })
    }
}

/// The fewest characters a key may have. The redactor hides the key and the key without its
/// last character wherever they occur in anything the run writes (`redact.rs`); a key of a few
/// characters would also match the run's own data (its `ct…` tags, generated names) and rewrite
/// what the suite judges. Seven characters or more for that prefix make a chance match negligible.
pub(crate) const MIN_KEY_CHARS: usize = 8;

/// Refuses a key shorter than [`MIN_KEY_CHARS`], naming its variable and never the key.
pub(crate) fn keys_long_enough(options: &Options) -> Result<(), RunError> {
    for (variable, key) in [
        ("CONTRACT_TOKEN", Some(options.token.expose())),
        (
            "CONTRACT_OTHER_TEAM_TOKEN",
            options.other_team_token.as_ref().map(Key::expose),
        ),
    ] {
        if let Some(key) = key
            && key.chars().count() < MIN_KEY_CHARS
        {
            return Err(RunError::KeyTooShort {
                variable,
                min: MIN_KEY_CHARS,
            });
        }
    }
    Ok(())
}

/// The reason a value of an option is out of its range, if it is.
pub fn validate(options: &Options) -> Result<(), RunError> {
    let bad = |text: String| Err(RunError::Arguments(text));
    for (variable, key) in [
        ("CONTRACT_TOKEN", Some(options.token.expose())),
        (
            "CONTRACT_OTHER_TEAM_TOKEN",
            options.other_team_token.as_ref().map(Key::expose),
        ),
    ] {
        if let Some(problem) = key.and_then(header_problem) {
            return bad(format!(
                "{variable} cannot be sent as an HTTP header value: {problem}"
            ));
        }
    }
    if options.concurrency == 0 {
        return bad("--concurrency must be at least 1".into());
    }
    if options.cases == 0 {
        return bad("--cases must be at least 1".into());
    }
    if options.max_time.is_zero() {
        return bad("--max-time must be more than 0 seconds".into());
    }
    if options.timeout.is_zero() {
        return bad("--timeout must be more than 0 seconds".into());
    }
    if options.max_response_bytes == 0 {
        return bad("--max-response-bytes must be at least 1".into());
    }
    if let Some(rate) = options.rate
        && !(rate.is_finite() && rate > 0.0)
    {
        return bad(format!("--rate {rate} must be a positive number"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unsafe_host(url: &str, allow: &[&str]) -> bool {
        let allow: Vec<String> = allow.iter().map(|h| (*h).to_owned()).collect();
        matches!(host_is_safe(url, &allow), Err(RunError::UnsafeHost { .. }))
    }

    #[test]
    fn the_options_never_show_a_key_through_debug() {
        let mut options = Options::new("spec.json".into(), "http://h".into(), "s3cret-one".into());
        options.other_team_token = Some(Key::new("s3cret-two"));
        let shown = format!("{options:?} {options:#?}");
        assert!(
            !shown.contains("s3cret") && shown.contains("token: [redacted]"),
            "{shown}"
        );
    }

    #[test]
    fn only_loopback_and_labelled_hosts_under_an_allowed_domain_are_safe() {
        for safe in [
            "http://127.0.0.1:8080",
            "http://127.8.9.1:8080",
            "http://[::1]:8080",
            "http://localhost:1",
            "https://api-qa.interactly.ai",
            "https://API-QA.Interactly.AI.",
            "https://qa.interactly.ai",
            "https://api.dev.interactly.ai",
            "https://staging-api.interactly.ai",
        ] {
            assert!(!unsafe_host(safe, &[]), "{safe} is safe");
        }
        for refused in [
            "https://api.interactly.ai",
            "https://quality.example.com",
            "https://interactly.ai",
            // A label without the allowed domain, or the allowed domain only as a label.
            "https://api-qa.interactly.ai.evil.com",
            "https://qa.evil.com",
            "https://dev.to",
            "https://test.com",
            "https://qainteractly.ai",
            "https://staging.example.com",
            "http://localhost.evil.com",
        ] {
            assert!(unsafe_host(refused, &[]), "{refused} is refused");
        }
    }

    #[test]
    fn allow_host_names_one_host_or_adds_a_domain() {
        // An exact host is an explicit opt-in, label or not.
        assert!(!unsafe_host(
            "https://api.interactly.ai",
            &["api.interactly.ai"]
        ));
        // A domain extends where labelled hosts may be, not where any host may be.
        assert!(!unsafe_host(
            "https://staging.example.com",
            &["example.com"]
        ));
        assert!(unsafe_host("https://www.example.com", &["example.com"]));
        // The label must stand below the allowed domain, not inside it.
        assert!(unsafe_host("https://api.test.com", &["test.com"]));
    }
}
