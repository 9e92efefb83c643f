//! Hand-written: a client constructor that sends the API key, which progenitor leaves out.

use crate::Client;

/// Why a client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("the API key contains characters that cannot appear in an HTTP header")]
    InvalidKey,
    #[error("cannot build the HTTP client: {0}")]
    Http(#[from] reqwest::Error),
}

/// Makes rustls use the ring crypto provider for this process, unless one is installed already.
///
/// The workspace builds reqwest without a bundled provider so that no aws-lc C build is needed;
/// HTTPS then needs a provider installed once before the first client is built.
pub fn install_crypto_provider() {
    // An Err means another provider is installed already, which is just as good.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A client for `base_url` (e.g. `https://api-qa.interactly.ai`) that sends
/// `Authorization: Bearer <api_key>` on every request.
///
/// The header is marked sensitive, so reqwest leaves it out of its debug output.
/// The timeouts are progenitor's own defaults (15 s to connect and for the whole request).
pub fn client_with_api_key(base_url: &str, api_key: &str) -> Result<Client, AuthError> {
    install_crypto_provider();
    let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {api_key}"))
        .map_err(|_| AuthError::InvalidKey)?;
    value.set_sensitive(true);
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::AUTHORIZATION, value);
    let timeout = std::time::Duration::from_secs(15);
    let http = reqwest::Client::builder()
        .default_headers(headers)
        .connect_timeout(timeout)
        .timeout(timeout)
        .build()?;
    Ok(Client::new_with_client(base_url, http))
}
