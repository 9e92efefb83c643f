//! `cargo xtask spec pull`: downloads the service's OpenAPI document, validates and normalises it, writes it as the stored spec and says what changed.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use serde_json::Value;

use contract_tests::RunError;
use contract_tests::error::error_chain;
use contract_tests::runner::{host_is_safe, is_loopback_host, target_host};

use crate::{codegen, spec, spec_diff};

pub const DEFAULT_URL: &str = "https://api-qa.interactly.ai/api-docs/workflows/api.json";

/// The environment variable holding the API key, shared with the contract suite.
pub const TOKEN_VAR: &str = "CONTRACT_TOKEN";

/// Where a pull may go and how much it reads: the contract suite's guard and body cap.
#[derive(Debug, Clone)]
pub struct Limits {
    /// As `contract --allow-host`: hosts, or domains whose qa/dev/test/staging hosts are allowed.
    pub allow_hosts: Vec<String>,
    /// `--max-response-bytes`, by default the suite's `DEFAULT_MAX_RESPONSE_BYTES`.
    pub max_response_bytes: usize,
}

/// Refuses, before any connection, a URL the key must not travel to: the contract suite's rule
/// (loopback, or a labelled non-production host under an allowed domain), and https for every
/// host but loopback, since plain http would show the key to the network and let it rewrite the
/// spec. A refusal is a [`RunError`], which `main` turns into exit code 2.
pub fn guard(url: &str, limits: &Limits) -> Result<(), RunError> {
    let host = target_host(url).map_err(|_| {
        RunError::Arguments(format!(
            "refusing --url {url}: only an http(s) URL with a host can be pulled"
        ))
    })?;
    if let Err(RunError::UnsafeHost { host }) = host_is_safe(url, &limits.allow_hosts) {
        return Err(RunError::Arguments(format!(
            "refusing to send {TOKEN_VAR} to {host}: it is neither loopback nor a qa/dev/test/staging host under {} or an --allow-host domain; pass --allow-host {host} if you mean it",
            contract_tests::runner::DEFAULT_ALLOWED_DOMAIN
        )));
    }
    let https = url
        .get(..8)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"));
    if !https && !is_loopback_host(&host) {
        return Err(RunError::Arguments(format!(
            "refusing plain http to {host}: the key and the document would cross the network unencrypted; use https"
        )));
    }
    Ok(())
}

/// The service's document could not be had: unreachable, a status other than 2xx, a body over
/// the cap, not UTF-8, not JSON, or not a spec the project can use. `spec pull --check` exits
/// [`EXIT_FETCH_FAILED`] on it, apart from drift and from a misconfigured command.
#[derive(Debug)]
pub struct FetchFailed(pub String);

impl std::fmt::Display for FetchFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FetchFailed {}

/// `spec pull --check`'s exit codes (2, as everywhere, is a command that could not run).
pub const EXIT_BREAKING: u8 = 1;
pub const EXIT_BENIGN: u8 = 3;
pub const EXIT_FETCH_FAILED: u8 = 4;

/// The document `url` serves, parsed and validated; every failure a [`FetchFailed`], apart from
/// a refusal to send the key there (a [`RunError::Arguments`]) and the local setup failing.
fn fetch(url: &str, limits: &Limits) -> Result<Value> {
    let text = download(url, limits)?;
    let doc: Value = serde_json::from_str(&text)
        .map_err(|e| FetchFailed(format!("the document at {url} is not valid JSON: {e}")))?;
    spec::validate(&doc)
        .map_err(|e| FetchFailed(format!("the document at {url} is not a usable spec: {e}")))?;
    Ok(doc)
}

/// Downloads `url`, writes the normalised document to `out` and returns the change summary
/// against what `out` held before (everything is new when it held nothing valid).
pub fn pull(url: &str, out: &Path, limits: &Limits) -> Result<spec_diff::Report> {
    let doc = fetch(url, limits)?;
    let before = spec::load_spec(out).unwrap_or_else(
        |_| serde_json::json!({"openapi": "3.1.0", "paths": {}, "components": {"schemas": {}}}),
    );
    codegen::ensure_file_contents(out, &spec::normalised_text(&doc), codegen::Mode::Write)?;
    Ok(spec_diff::diff(&before, &doc))
}

/// What `spec pull --check` found: the stored spec is the service's document, or it differs.
pub enum Checked {
    Same,
    Differs {
        /// The changes per operation and schema, each breaking or not.
        report: spec_diff::Report,
        /// A unified diff of the normalised texts, stored spec first.
        text: String,
    },
}

/// Downloads and validates `url` like [`pull`], and compares its normalised form with `stored`
/// without writing anything.
pub fn check(url: &str, stored: &Path, limits: &Limits) -> Result<Checked> {
    let doc = fetch(url, limits)?;
    let served = spec::normalised_text(&doc);
    let current = std::fs::read_to_string(stored)
        .with_context(|| format!("cannot read {}", stored.display()))?;
    if current == served {
        return Ok(Checked::Same);
    }
    let before = spec::load_spec(stored)?;
    let text = similar::TextDiff::from_lines(&current, &served)
        .unified_diff()
        .context_radius(2)
        .header(&stored.display().to_string(), url)
        .to_string();
    Ok(Checked::Differs {
        report: spec_diff::diff(&before, &doc),
        text,
    })
}

fn download(url: &str, limits: &Limits) -> Result<String> {
    guard(url, limits)?;
    let token = std::env::var(TOKEN_VAR).ok().filter(|t| !t.is_empty());
    // reqwest is built with `rustls-no-provider`: without a provider it cannot build a client.
    interactly_simulations_client::install_crypto_provider();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?;
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            // A redirect would take the key to a URL the guard never saw.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .context("cannot build the HTTP client")?;
        let mut request = client
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(token) = token.as_deref() {
            let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}"))
                .map_err(|_| anyhow!("{TOKEN_VAR} holds characters a header cannot carry"))?;
            // Keeps the key out of reqwest's debug output.
            value.set_sensitive(true);
            request = request.header(reqwest::header::AUTHORIZATION, value);
        }
        // reqwest's errors name the URL, never the headers, so the key cannot leak through them.
        let mut response = request
            .send()
            .await
            .map_err(|e| FetchFailed(format!("GET {url} failed: {}", error_chain(&e))))?;
        let status = response.status();
        if !status.is_success() {
            return Err(FetchFailed(format!("GET {url} answered {status}")).into());
        }
        let body =
            contract_tests::http::read_capped(&mut response, limits.max_response_bytes, None)
                .await
                .map_err(|e| FetchFailed(format!("GET {url}: {e}")))?;
        String::from_utf8(body)
            .map_err(|_| FetchFailed(format!("the document at {url} is not UTF-8")).into())
    })
}
