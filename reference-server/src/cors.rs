//! CORS, for a browser page that calls the mock from another origin: off unless
//! [`crate::Config::cors_origins`] lists origins, because with it on an `OPTIONS` preflight is
//! answered 200, where the contract answers any method other than the path's 405.
//!
//! As Starlette's `CORSMiddleware` with those origins, every API method and the two request
//! headers the API reads: a preflight (`OPTIONS` with `Origin` and
//! `Access-Control-Request-Method`) from a listed origin is answered 200 `OK` (`text/plain`)
//! with `Access-Control-Allow-Methods`, `-Allow-Headers` and `-Max-Age`, without reaching the
//! API; every other answer to a listed origin carries `Access-Control-Allow-Origin` (errors
//! too, so the page can read them) and `Vary: Origin`. `*` lets every origin in and is answered
//! `*` (the API's key travels in a header, not a cookie, so no credentials mode is needed).
//! A request from an origin not listed passes through untouched: its preflight is the 405 it
//! would be with CORS off, which a browser reads as a refusal. Starlette answers that 400
//! instead; either way the browser refuses, and this way nothing but the listed origins
//! changes any answer.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// What a preflight may ask for: every method of the API's paths (and the document's HEAD).
const ALLOW_METHODS: &str = "DELETE, GET, HEAD, PATCH, POST";
/// The request headers the API reads besides the CORS-safelisted ones.
const ALLOW_HEADERS: &str = "Authorization, Content-Type";
/// How long a browser may cache a preflight's answer (Starlette's default).
const MAX_AGE_SECS: &str = "600";

/// The origins let in.
#[derive(Debug)]
pub(crate) struct Cors {
    any: bool,
    origins: Vec<HeaderValue>,
}

impl Cors {
    /// `None` (CORS off) when `origins` is empty. An origin that cannot be a header value
    /// matches no request (the command line refuses it before this).
    pub fn of(origins: &[String]) -> Option<Arc<Cors>> {
        if origins.is_empty() {
            return None;
        }
        Some(Arc::new(Cors {
            any: origins.iter().any(|o| o == "*"),
            origins: origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o).ok())
                .collect(),
        }))
    }

    /// The `Access-Control-Allow-Origin` for a request from `origin`, if it is let in.
    fn allow(&self, origin: &HeaderValue) -> Option<HeaderValue> {
        if self.any {
            return Some(HeaderValue::from_static("*"));
        }
        self.origins.iter().find(|o| *o == origin).cloned()
    }
}

/// The layer: answers a listed origin's preflight, marks a listed origin's answers.
pub(crate) async fn layer(State(cors): State<Arc<Cors>>, request: Request, next: Next) -> Response {
    let allowed = request
        .headers()
        .get(header::ORIGIN)
        .and_then(|origin| cors.allow(origin));
    let Some(allowed) = allowed else {
        return next.run(request).await;
    };
    let preflight = request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut response = if preflight {
        let mut response = (StatusCode::OK, "OK").into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(ALLOW_METHODS),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(ALLOW_HEADERS),
        );
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static(MAX_AGE_SECS),
        );
        response
    } else {
        next.run(request).await
    };
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allowed);
    if !cors.any {
        // The answer depends on the origin: a cache must not hand it to another one.
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
    }
    response
}
