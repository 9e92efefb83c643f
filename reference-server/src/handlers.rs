//! Routing and the five operations, in FastAPI's order of checks.
//!
//! Why one fallback handler instead of axum routes: Starlette's routing answers differ from
//! axum's in ways a client sees, and reproducing them needs the whole path table at once.
//!
//! - Starlette matches the percent-decoded path; axum's router matches the raw path and decodes
//!   parameters afterwards. `…/simulations/a%2Fb` must be 404 (the decoded path has one segment
//!   too many), and `…/%73imulations` must reach the collection.
//! - A method the path does not serve is 405 with `Allow` listing exactly the path's methods
//!   (`GET, POST`; `DELETE, GET, PATCH`). axum's method router answers `HEAD` with the `GET`
//!   handler and lists `HEAD` in `Allow`; here `HEAD` and `OPTIONS` are 405 like any other method.
//! - A known path with trailing slashes is 307 to the path without them, query kept
//!   (Starlette's `redirect_slashes`); axum has no such redirect, so it would be 404.
//! - The 404/405/307 decision comes before anything reads the body, and the body before
//!   authentication (FastAPI reads it before solving dependencies): extractors in a handler's
//!   signature would run in axum's order and answer their rejections in axum's shapes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use percent_encoding::percent_decode_str;
use serde_json::{Map, Value, json};

use crate::Config;
use crate::auth::Keys;
use crate::body::{self, Received};
use crate::errors::{ApiError, FieldError, json_bytes_response, json_response};
use crate::store::{self, Memory, PageStep, Quota, Simulation, Snapshot, Store};
use crate::validate::{self, ListQuery};

/// The collection path; the item path is this plus `/{simulation_id}`.
pub(crate) const COLLECTION: &str = "/workflows/v1/simulations";
/// `Allow` of the collection path (alphabetical, as the item path's).
pub(crate) const ALLOW_COLLECTION: &str = "GET, POST";
/// `Allow` of the item path.
pub(crate) const ALLOW_ITEM: &str = "DELETE, GET, PATCH";
/// Where the service serves its OpenAPI document (CONTRACT.md), without a key.
pub(crate) const OPENAPI_PATH: &str = "/api-docs/workflows/api.json";
/// The mock's health endpoint: outside `/workflows/v1/`, so the API's routes stay the
/// contract's. Neither the contract nor the spec names one; `/healthz` is the usual name.
pub(crate) const HEALTH_PATH: &str = "/healthz";
/// `Allow` of the document and the health endpoint: Starlette adds HEAD to a GET route.
const ALLOW_READ: &str = "GET, HEAD";
/// The stored spec, byte for byte: the document this mock implements is the one it serves.
const OPENAPI_DOCUMENT: &str = include_str!("../../spec/openapi.json");

/// A list whose records weigh more than this (roughly bytes of JSON) is filtered and
/// serialised on tokio's blocking pool: megabytes of JSON take long enough, in a debug build
/// especially, that doing it on an async worker would stall every other connection that worker
/// serves.
const HEAVY_LIST: usize = 256 * 1024;
/// How many heavy lists are built at once; more wait their turn. Each holds its page's JSON
/// while it is built, so this bounds that memory and leaves cores for everyone else.
const HEAVY_LISTS_AT_ONCE: usize = 2;

/// The validation of the create body, as a replaceable step.
pub(crate) type CreateBody =
    Arc<dyn Fn(&Value) -> Result<Map<String, Value>, ApiError> + Send + Sync>;
/// The validation of the list query (from the raw query string), as a replaceable step.
pub(crate) type ListQueryStep = Arc<dyn Fn(&str) -> Result<ListQuery, ApiError> + Send + Sync>;
/// The validation of the path id, errors added to the list, as a replaceable step.
pub(crate) type PathId = Arc<dyn Fn(&str, &mut Vec<FieldError>) + Send + Sync>;

/// The parts an app is built from: the storage and the steps of the operations that a
/// decorator may replace (the `faults` feature's catalog does, each fault one part). The
/// faithful server is [`Parts::faithful`], unchanged.
#[derive(Clone)]
pub(crate) struct Parts {
    /// The store itself, for decorators that write through its primitives.
    #[cfg(feature = "faults")]
    pub memory: Arc<Memory>,
    /// What the operations store through: `memory`, or a decorator of it.
    pub store: Arc<dyn Store>,
    pub create_body: CreateBody,
    pub list_query: ListQueryStep,
    pub path_id: PathId,
    pub page: PageStep,
    /// Bodies over this many bytes are 413.
    pub max_body: usize,
}

impl Parts {
    pub fn faithful(config: &Config) -> Self {
        let memory = Arc::new(Memory::new(Quota {
            records: config.max_team_records,
            bytes: config.max_team_bytes,
        }));
        Parts {
            store: Arc::clone(&memory) as Arc<dyn Store>,
            #[cfg(feature = "faults")]
            memory,
            create_body: Arc::new(validate::create_body),
            list_query: Arc::new(validate::list_query),
            path_id: Arc::new(validate::path_id),
            page: Arc::new(store::page),
            max_body: body::MAX_BODY,
        }
    }
}

/// Everything a request needs, shared by all connections.
pub(crate) struct AppState {
    keys: Keys,
    parts: Parts,
    heavy_lists: tokio::sync::Semaphore,
}

impl AppState {
    pub fn new(config: &Config, parts: Parts) -> Self {
        AppState {
            keys: Keys::new(&config.keys),
            parts,
            heavy_lists: tokio::sync::Semaphore::new(HEAVY_LISTS_AT_ONCE),
        }
    }
}

/// The outermost layer: the latency knob, then one log line with the status the client gets
/// (after any fault layer). The key is never logged: only method, path, status and duration.
pub(crate) async fn log_and_delay(
    State(latency): State<Duration>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    tracing::info!(
        "{method} {path} {} {:.3}ms",
        response.status().as_u16(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    response
}

enum Route {
    Collection,
    Item(String),
    OpenApi,
    Health,
}

/// Starlette matches routes against the percent-decoded path; `{simulation_id}` is `[^/]+`.
fn route(decoded: &str) -> Option<Route> {
    match decoded {
        OPENAPI_PATH => return Some(Route::OpenApi),
        HEALTH_PATH => return Some(Route::Health),
        _ => {}
    }
    let rest = decoded.strip_prefix(COLLECTION)?;
    if rest.is_empty() {
        return Some(Route::Collection);
    }
    let id = rest.strip_prefix('/')?;
    (!id.is_empty() && !id.contains('/')).then(|| Route::Item(id.to_owned()))
}

/// Whether the operation `request` reaches reads a body: create and update.
#[cfg(feature = "faults")]
pub(crate) fn reads_body(request: &Request) -> bool {
    let decoded = percent_decode_str(request.uri().path()).decode_utf8_lossy();
    matches!(
        (route(&decoded), request.method()),
        (Some(Route::Collection), &Method::POST) | (Some(Route::Item(_)), &Method::PATCH)
    )
}

/// The one handler behind the router: routes, then runs the operation.
pub(crate) async fn handle(
    State(state): State<Arc<AppState>>,
    request: Request,
) -> Result<Response, ApiError> {
    // Python's `unquote`: invalid UTF-8 is replaced, `+` stays a plus.
    let decoded = percent_decode_str(request.uri().path()).decode_utf8_lossy();
    let Some(route) = route(&decoded) else {
        return Err(redirect_or_not_found(&decoded, &request));
    };
    let method = request.method().clone();
    match (route, method) {
        (Route::Collection, Method::GET) => list(&state, request).await,
        (Route::Collection, Method::POST) => create(&state, request).await,
        (Route::Collection, _) => Err(ApiError::MethodNotAllowed(ALLOW_COLLECTION)),
        (Route::Item(id), Method::GET) => get(&state, request.headers(), &id),
        (Route::Item(id), Method::PATCH) => update(&state, request, &id).await,
        (Route::Item(id), Method::DELETE) => delete(&state, request.headers(), &id),
        (Route::Item(_), _) => Err(ApiError::MethodNotAllowed(ALLOW_ITEM)),
        (Route::OpenApi, Method::GET | Method::HEAD) => Ok(json_static(
            OPENAPI_DOCUMENT,
            request.method() == Method::HEAD,
        )),
        (Route::Health, Method::GET | Method::HEAD) => Ok(json_static(
            r#"{"status":"ok"}"#,
            request.method() == Method::HEAD,
        )),
        (Route::OpenApi | Route::Health, _) => Err(ApiError::MethodNotAllowed(ALLOW_READ)),
    }
}

/// A JSON body known at compile time, served without a copy; for HEAD only its headers, with
/// the `Content-Length` a GET would have.
fn json_static(body: &'static str, head: bool) -> Response {
    let length = body.len();
    let body = if head {
        axum::body::Body::empty()
    } else {
        axum::body::Body::from(body)
    };
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CONTENT_LENGTH, length.into());
    response
}

/// Starlette's `redirect_slashes`: a known path with trailing slashes answers 307 to the path
/// without them; anything else is 404.
fn redirect_or_not_found(decoded: &str, request: &Request) -> ApiError {
    if decoded.ends_with('/') && route(decoded.trim_end_matches('/')).is_some() {
        let uri = request.uri();
        let mut location = uri.path().trim_end_matches('/').to_owned();
        if let Some(query) = uri.query() {
            location.push('?');
            location.push_str(query);
        }
        if let Some(host) = request
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
        {
            location = format!("http://{host}{location}");
        }
        return ApiError::Redirect(location);
    }
    ApiError::PathNotFound
}

fn simulation_response(simulation: &Simulation) -> Response {
    // `{"simulation": record}` as serialising that `Value` writes it, around the record's
    // cached JSON.
    let record = simulation.json_bytes();
    let mut bytes = Vec::with_capacity(record.len() + 16);
    bytes.extend_from_slice(b"{\"simulation\":");
    bytes.extend_from_slice(record);
    bytes.push(b'}');
    json_bytes_response(StatusCode::OK, bytes)
}

/// Body first (400/413/422 json_invalid), then auth (401), then validation (422).
async fn create(state: &AppState, request: Request) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let received = body::read(&parts.headers, body, state.parts.max_body).await?;
    let caller = state.keys.authenticate(&parts.headers)?;
    let body = match received {
        Received::Missing => return Err(missing_body()),
        received => received.value(),
    };
    let config = (state.parts.create_body)(&body)?;
    let simulation = state.parts.store.create(&caller, config)?;
    Ok(simulation_response(&simulation))
}

fn missing_body() -> ApiError {
    ApiError::validation(vec![FieldError::new(
        "missing",
        &[Value::from("body")],
        "Field required",
        Value::Null,
    )])
}

async fn list(state: &AppState, request: Request) -> Result<Response, ApiError> {
    let caller = state.keys.authenticate(request.headers())?;
    let query = (state.parts.list_query)(request.uri().query().unwrap_or(""))?;
    let snapshot = state.parts.store.snapshot(&caller.team);
    let page = Arc::clone(&state.parts.page);
    let build = move |snapshot: &Snapshot| page(&snapshot.records, &query).to_json_bytes();
    if snapshot.weight() <= HEAVY_LIST {
        return Ok(json_bytes_response(StatusCode::OK, build(&snapshot)));
    }
    // The semaphore is never closed; if it were, building without a turn is still correct.
    let _turn = state.heavy_lists.acquire().await;
    let snapshot = Arc::new(snapshot);
    let shared = Arc::clone(&snapshot);
    let build_shared = build.clone();
    let bytes = match tokio::task::spawn_blocking(move || build_shared(&shared)).await {
        Ok(bytes) => bytes,
        // Only a cancelled task (the runtime shutting down) or a panic in the build, which does
        // not panic, gets here; building on this worker still answers the request.
        Err(_) => build(&snapshot),
    };
    Ok(json_bytes_response(StatusCode::OK, bytes))
}

fn get(state: &AppState, headers: &HeaderMap, id: &str) -> Result<Response, ApiError> {
    let caller = state.keys.authenticate(headers)?;
    check_id(id, &state.parts)?;
    let simulation = state
        .parts
        .store
        .get(&caller.team, id)
        .ok_or(ApiError::SimulationNotFound)?;
    Ok(simulation_response(&simulation))
}

fn check_id(id: &str, parts: &Parts) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    (parts.path_id)(id, &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(errors))
    }
}

async fn update(state: &AppState, request: Request, id: &str) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let received = body::read(&parts.headers, body, state.parts.max_body).await?;
    let caller = state.keys.authenticate(&parts.headers)?;
    // Path errors come first in FastAPI's list, then the body's.
    let mut errors = Vec::new();
    (state.parts.path_id)(id, &mut errors);
    let changes = match received {
        Received::Missing => {
            errors.push(FieldError::new(
                "missing",
                &[Value::from("body")],
                "Field required",
                Value::Null,
            ));
            validate::Update::default()
        }
        received => validate::update_body(&received.value(), &mut errors),
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let updated = state.parts.store.update(&caller, id, &changes).await?;
    let simulation = updated.ok_or(ApiError::SimulationNotFound)?;
    Ok(simulation_response(&simulation))
}

fn delete(state: &AppState, headers: &HeaderMap, id: &str) -> Result<Response, ApiError> {
    let caller = state.keys.authenticate(headers)?;
    check_id(id, &state.parts)?;
    if !state.parts.store.delete(&caller.team, id) {
        return Err(ApiError::SimulationNotFound);
    }
    Ok(json_response(
        StatusCode::OK,
        &json!({ "message": "Simulation deleted successfully" }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_decoded_paths() {
        assert!(matches!(route(COLLECTION), Some(Route::Collection)));
        assert!(matches!(route("/workflows/v1/simulations/x"), Some(Route::Item(id)) if id == "x"));
        assert!(route("/workflows/v1/simulations/").is_none());
        assert!(route("/workflows/v1/simulations/a/b").is_none());
        assert!(route("/workflows/v1/simulationsx").is_none());
    }
}
