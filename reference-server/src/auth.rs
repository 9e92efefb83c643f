//! Bearer authentication as FastAPI's `HTTPBearer` does it, then the API key lookup.

use std::collections::HashMap;

use axum::http::{HeaderMap, header};

use crate::ApiKey;
use crate::errors::ApiError;
use crate::store::Caller;

/// The bearer credential of `Authorization`, as [`Keys::authenticate`] reads it; `None` when
/// there is no header, the scheme is not `Bearer` or the credential is empty.
pub(crate) fn credential(headers: &HeaderMap) -> Option<&[u8]> {
    let bytes = headers.get(header::AUTHORIZATION)?.as_bytes();
    let (scheme, credential) = match bytes.iter().position(|&b| b == b' ') {
        Some(space) => (&bytes[..space], bytes[space + 1..].trim_ascii()),
        None => (bytes, &b""[..]),
    };
    (!scheme.is_empty() && !credential.is_empty() && scheme.eq_ignore_ascii_case(b"bearer"))
        .then_some(credential)
}

/// The configured keys, looked up by the credential's bytes (Starlette reads headers as
/// latin-1, so any byte may arrive; comparing bytes needs no decoding).
#[derive(Debug)]
pub(crate) struct Keys {
    by_key: HashMap<Vec<u8>, Caller>,
}

impl Keys {
    pub fn new(keys: &[ApiKey]) -> Self {
        let caller = |k: &ApiKey| Caller {
            team: k.team.clone(),
            user: k.user.clone(),
        };
        Keys {
            by_key: keys
                .iter()
                .map(|k| (k.key.as_bytes().to_vec(), caller(k)))
                .collect(),
        }
    }

    /// `Authorization: Bearer <key>`: the scheme is matched case-insensitively and the
    /// credential is everything after the first space, as `get_authorization_scheme_param` splits
    /// it, without surrounding white space, as FastAPI's `HTTPBearer` strips it (the oracle
    /// accepts `Bearer  KEY `).
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<Caller, ApiError> {
        let credential = credential(headers).ok_or(ApiError::NotAuthenticated)?;
        self.by_key
            .get(credential)
            .cloned()
            .ok_or(ApiError::InvalidApiKey)
    }
}
