//! `cargo xtask spec pull`: downloads the service's OpenAPI document, validates and normalises it, writes it as the stored spec and says what changed.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use serde_json::Value;

use contract_tests::error::error_chain;

use crate::{codegen, spec, spec_diff};

pub const DEFAULT_URL: &str = "https://api-qa.interactly.ai/api-docs/workflows/api.json";

/// The environment variable holding the API key, shared with the contract suite.
pub const TOKEN_VAR: &str = "CONTRACT_TOKEN";

/// Downloads `url`, writes the normalised document to `out` and returns the change summary
/// against what `out` held before (everything is new when it held nothing valid).
pub fn pull(url: &str, out: &Path) -> Result<spec_diff::Report> {
    let token = std::env::var(TOKEN_VAR).ok().filter(|t| !t.is_empty());
    let text = download(url, token.as_deref())?;
    let doc: Value = serde_json::from_str(&text)
        .map_err(|e| anyhow!("the document at {url} is not valid JSON: {e}"))?;
    spec::validate(&doc).with_context(|| format!("the document at {url} is not a usable spec"))?;
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
pub fn check(url: &str, stored: &Path) -> Result<Checked> {
    let token = std::env::var(TOKEN_VAR).ok().filter(|t| !t.is_empty());
    let text = download(url, token.as_deref())?;
    let doc: Value = serde_json::from_str(&text)
        .map_err(|e| anyhow!("the document at {url} is not valid JSON: {e}"))?;
    spec::validate(&doc).with_context(|| format!("the document at {url} is not a usable spec"))?;
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

fn download(url: &str, token: Option<&str>) -> Result<String> {
    // reqwest is built with `rustls-no-provider`: without a provider it cannot build a client.
    interactly_simulations_client::install_crypto_provider();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?;
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .context("cannot build the HTTP client")?;
        let mut request = client
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(token) = token {
            let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}"))
                .map_err(|_| anyhow!("{TOKEN_VAR} holds characters a header cannot carry"))?;
            // Keeps the key out of reqwest's debug output.
            value.set_sensitive(true);
            request = request.header(reqwest::header::AUTHORIZATION, value);
        }
        // reqwest's errors name the URL, never the headers, so the key cannot leak through them.
        let response = request
            .send()
            .await
            .map_err(|e| anyhow!("GET {url} failed: {}", error_chain(&e)))?;
        let status = response.status();
        if !status.is_success() {
            bail!("GET {url} answered {status}");
        }
        response
            .text()
            .await
            .map_err(|e| anyhow!("GET {url}: cannot read the body: {}", error_chain(&e)))
    })
}
