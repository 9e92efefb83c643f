//! Error responses in FastAPI's shapes: `{"detail": string}` and 422 `{"detail": [ValidationError]}`.
//!
//! Handlers return `Result<Response, ApiError>` and axum renders the error through
//! `IntoResponse`, always as the faithful server answers; faults that reshape errors are layers
//! (`reshape.rs`) over the finished response.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

/// Errors of the library's configuration API (the server itself never fails a request with these).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// `--api-key` wants `KEY:TEAM:USER` with three non-empty parts.
    /// The argument itself is not echoed: it holds a secret.
    #[error("an API key must be KEY:TEAM:USER with three non-empty parts")]
    MalformedApiKey,
}

/// One pydantic v2 validation error, as FastAPI serialises it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FieldError {
    pub ty: &'static str,
    pub loc: Vec<Value>,
    pub msg: String,
    pub input: Value,
    pub ctx: Option<Value>,
}

impl FieldError {
    pub fn new(ty: &'static str, loc: &[Value], msg: impl Into<String>, input: Value) -> Self {
        FieldError {
            ty,
            loc: loc.to_vec(),
            msg: msg.into(),
            // A body may hold NaN or infinities; the answer must stay JSON.
            input: crate::body::as_written(&input),
            ctx: None,
        }
    }

    pub fn with_ctx(mut self, ctx: Value) -> Self {
        self.ctx = Some(ctx);
        self
    }

    fn to_json(&self) -> Value {
        let mut item = Map::new();
        item.insert("type".into(), Value::from(self.ty));
        item.insert("loc".into(), Value::Array(self.loc.clone()));
        item.insert("msg".into(), Value::from(self.msg.as_str()));
        item.insert("input".into(), self.input.clone());
        if let Some(ctx) = &self.ctx {
            item.insert("ctx".into(), ctx.clone());
        }
        Value::Object(item)
    }
}

/// Every way a request can fail; each renders exactly as the FastAPI service would answer.
#[derive(Debug)]
pub(crate) enum ApiError {
    /// 401 from the bearer dependency: header missing, not `Bearer`, or empty credential.
    NotAuthenticated,
    /// 401 for a well-formed key that no team owns.
    InvalidApiKey,
    /// 404 for an unknown path (Starlette's router).
    PathNotFound,
    /// 404 for an id the caller's team does not have.
    SimulationNotFound,
    /// 405 with the path's `Allow` list.
    MethodNotAllowed(&'static str),
    /// 307 from Starlette's `redirect_slashes` (a trailing slash on a known path).
    Redirect(String),
    /// 400: the body is not UTF-8, or could not be read.
    BodyParse,
    /// 413: over the 1 MiB body limit. `read_to_end`: the body was read to its end, so the
    /// connection can carry the next request; otherwise the 413 says `Connection: close`, or a
    /// client would send its next request into a socket that still holds the unread body.
    TooLarge { read_to_end: bool },
    /// 422: one entry per violation.
    Validation(Vec<FieldError>),
    /// 409: the team's storage is full (the crate docs say why 409).
    StorageFull(crate::store::Quota),
    /// 500, only ever produced by the `faults` feature's catalog.
    #[cfg(feature = "faults")]
    Internal,
}

impl From<crate::store::Full> for ApiError {
    fn from(full: crate::store::Full) -> Self {
        ApiError::StorageFull(full.0)
    }
}

impl ApiError {
    pub fn validation(errors: Vec<FieldError>) -> Self {
        ApiError::Validation(errors)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::NotAuthenticated => unauthorized("Not authenticated"),
            ApiError::InvalidApiKey => unauthorized("Invalid API key"),
            ApiError::PathNotFound => detail(StatusCode::NOT_FOUND, "Not Found"),
            ApiError::SimulationNotFound => detail(StatusCode::NOT_FOUND, "Simulation not found"),
            ApiError::MethodNotAllowed(allow) => {
                let mut response = detail(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
                response
                    .headers_mut()
                    .insert(header::ALLOW, HeaderValue::from_static(allow));
                response
            }
            ApiError::Redirect(location) => {
                let mut response = StatusCode::TEMPORARY_REDIRECT.into_response();
                if let Ok(value) = HeaderValue::from_str(&location) {
                    response.headers_mut().insert(header::LOCATION, value);
                }
                response
            }
            ApiError::BodyParse => detail(
                StatusCode::BAD_REQUEST,
                "There was an error parsing the body",
            ),
            ApiError::TooLarge { read_to_end } => {
                let mut response = detail(StatusCode::PAYLOAD_TOO_LARGE, "Content Too Large");
                if !read_to_end {
                    response
                        .headers_mut()
                        .insert(header::CONNECTION, HeaderValue::from_static("close"));
                }
                response
            }
            ApiError::Validation(errors) => {
                let items = errors.iter().map(FieldError::to_json).collect();
                json_response(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &json!({ "detail": Value::Array(items) }),
                )
            }
            ApiError::StorageFull(quota) => detail(
                StatusCode::CONFLICT,
                &format!(
                    "This team's simulation storage is full (at most {} simulations and {} bytes \
                     of JSON per team on this server); delete simulations to make room",
                    quota.records, quota.bytes
                ),
            ),
            #[cfg(feature = "faults")]
            ApiError::Internal => {
                // Starlette's ServerErrorMiddleware answers a crash with plain text.
                let mut response =
                    (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response();
                response.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; charset=utf-8"),
                );
                response
            }
        }
    }
}

/// A JSON response with the content type Starlette's `JSONResponse` sends.
pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    json_bytes_response(
        status,
        serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec()),
    )
}

/// [`json_response`] for a body already serialised.
pub(crate) fn json_bytes_response(status: StatusCode, bytes: Vec<u8>) -> Response {
    let mut response = (status, bytes).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// `{"detail": message}`, FastAPI's body for an `HTTPException`.
pub(crate) fn detail(status: StatusCode, message: &str) -> Response {
    json_response(status, &json!({ "detail": message }))
}

fn unauthorized(message: &str) -> Response {
    let mut response = detail(StatusCode::UNAUTHORIZED, message);
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}
