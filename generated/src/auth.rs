//! Hand-written: a client constructor that sends the API key, which progenitor leaves out.

use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls_platform_verifier::BuilderVerifierExt;

use crate::Client;

/// Why a client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("the API key contains characters that cannot appear in an HTTP header")]
    InvalidKey,
    #[error("cannot set up TLS: {0}")]
    Tls(#[from] rustls::Error),
    #[error("cannot build the HTTP client: {0}")]
    Http(#[from] reqwest::Error),
}

/// The crypto provider the client's TLS uses: the process-wide default when the program
/// installed one (its choice wins), otherwise ring, passed to this client's configuration only.
///
/// The workspace builds reqwest without a bundled provider so that no aws-lc C build is needed.
/// rustls 0.23.48 deprecates ring's constructor for lacking post-quantum key exchange; its
/// replacement is aws-lc-rs, that C build, so the allowance is kept to this one call. A program
/// that wants post-quantum key exchange installs aws-lc-rs as its default and this uses it.
fn crypto_provider() -> Arc<CryptoProvider> {
    CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(ring_provider()))
}

fn ring_provider() -> CryptoProvider {
    #[allow(deprecated)]
    rustls::crypto::ring::default_provider()
}

/// Installs ring as this process's rustls provider, unless one is installed already: for a program
/// that also builds its own reqwest clients (this repository's suite and xtask). The client does
/// not need it and does not call it; a library should not make this choice for its program.
pub fn install_crypto_provider() {
    // An Err means another provider is installed already, which is just as good.
    if CryptoProvider::get_default().is_none() {
        let _ = ring_provider().install_default();
    }
}

/// A client for `base_url` (e.g. `https://api-qa.interactly.ai`) that sends
/// `Authorization: Bearer <api_key>` on every request.
///
/// The header is marked sensitive, so reqwest leaves it out of its debug output.
/// The timeouts are progenitor's own defaults (15 s to connect and for the whole request).
/// TLS verifies certificates with the operating system's verifier, as reqwest does; the client
/// installs no process-wide rustls provider.
pub fn client_with_api_key(base_url: &str, api_key: &str) -> Result<Client, AuthError> {
    let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {api_key}"))
        .map_err(|_| AuthError::InvalidKey)?;
    value.set_sensitive(true);
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::AUTHORIZATION, value);
    let tls = rustls::ClientConfig::builder_with_provider(crypto_provider())
        .with_safe_default_protocol_versions()?
        .with_platform_verifier()?
        .with_no_client_auth();
    let timeout = std::time::Duration::from_secs(15);
    let http = reqwest::Client::builder()
        .default_headers(headers)
        .tls_backend_preconfigured(tls)
        .connect_timeout(timeout)
        .timeout(timeout)
        .build()?;
    Ok(Client::new_with_client(base_url, http))
}
