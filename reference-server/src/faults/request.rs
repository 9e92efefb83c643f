//! The faults of authentication and of reading a body, and the two that change what create
//! and update do with a body, each a layer around the faithful server: it rewrites the
//! request before the server sees it (a header, the body), or acts after it answered.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{Next, from_fn, from_fn_with_state, map_request, map_request_with_state};
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, Limited};
use serde_json::{Map, Value};
use tower::Service;

use super::Fault;
use crate::auth::credential;
use crate::body::{self, MAX_BODY, Received};
use crate::errors::ApiError;
use crate::handlers::reads_body;
use crate::store::{Memory, Simulation};
use crate::validate;

/// What the layers know of the configuration: the keys, in order.
#[derive(Clone)]
pub(super) struct Keys(Arc<Vec<Vec<u8>>>);

impl Keys {
    pub fn new(config: &crate::Config) -> Self {
        Keys(Arc::new(
            config
                .keys
                .iter()
                .map(|k| k.key.as_bytes().to_vec())
                .collect(),
        ))
    }

    fn first(&self) -> Option<&[u8]> {
        self.0.first().map(Vec::as_slice)
    }
}

/// `router` wrapped in `fault`'s layer if it has one here.
pub(super) fn with_layer(
    router: Router,
    fault: Fault,
    keys: &Keys,
    memory: &Arc<Memory>,
) -> Router {
    let keys = keys.clone();
    match fault {
        Fault::ApiKeyHeaderAccepted => router.layer(map_request(api_key_header)),
        Fault::KeysCaseInsensitive => router.layer(map_request(fold_key_case)),
        Fault::AuthNotEnforced => router.layer(map_request_with_state(keys, unknown_key_as_first)),
        Fault::DeleteWithoutKey => router.layer(map_request_with_state(keys, delete_without_key)),
        Fault::AnyContentTypeParsed => router.layer(from_fn(any_content_type)),
        Fault::NonUtf8422 => router.layer(from_fn(non_utf8_422)),
        Fault::BodyMissingAsEmpty => router.layer(from_fn(missing_body_as_empty)),
        Fault::InvalidUpdatePartiallyApplied => {
            let again = router.clone();
            router.layer(from_fn_with_state(again, partially_applied))
        }
        Fault::RawBodyStored => {
            router.layer(from_fn_with_state(Arc::clone(memory), raw_body_stored))
        }
        _ => router,
    }
}

fn bearer(headers: &mut HeaderMap, key: &[u8]) {
    let mut value = b"Bearer ".to_vec();
    value.extend_from_slice(key);
    if let Ok(value) = HeaderValue::from_bytes(&value) {
        headers.insert(header::AUTHORIZATION, value);
    }
}

/// [`Fault::ApiKeyHeaderAccepted`]: without a bearer credential, a non-empty `X-API-Key` is
/// the credential (`HTTPBearer(auto_error=False)` beside an `APIKeyHeader`).
async fn api_key_header(mut request: Request) -> Request {
    if credential(request.headers()).is_none()
        && let Some(key) = request
            .headers()
            .get("x-api-key")
            .map(|v| v.as_bytes().trim_ascii().to_vec())
            .filter(|key| !key.is_empty())
    {
        bearer(request.headers_mut(), &key);
    }
    request
}

/// [`Fault::KeysCaseInsensitive`]: the credential is looked up in lower case.
async fn fold_key_case(mut request: Request) -> Request {
    if let Some(folded) = credential(request.headers()).map(<[u8]>::to_ascii_lowercase) {
        bearer(request.headers_mut(), &folded);
    }
    request
}

/// [`Fault::AuthNotEnforced`]: a credential that is no configured key acts as the first key.
async fn unknown_key_as_first(State(keys): State<Keys>, mut request: Request) -> Request {
    let unknown = credential(request.headers()).is_some_and(|c| !keys.0.iter().any(|k| k == c));
    if unknown && let Some(first) = keys.first() {
        bearer(request.headers_mut(), first);
    }
    request
}

/// [`Fault::DeleteWithoutKey`]: a DELETE with no `Authorization` header acts as the first key
/// (an optional bearer dependency that falls back to a service user).
async fn delete_without_key(State(keys): State<Keys>, mut request: Request) -> Request {
    if request.method() == Method::DELETE
        && !request.headers().contains_key(header::AUTHORIZATION)
        && let Some(first) = keys.first()
    {
        bearer(request.headers_mut(), first);
    }
    request
}

/// [`Fault::AnyContentTypeParsed`]: every body is read as JSON, as FastAPI before 0.65 did.
async fn any_content_type(mut request: Request, next: Next) -> Response {
    if reads_body(&request) && !body::is_json_content_type(request.headers()) {
        request.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    next.run(request).await
}

/// The body of a create or update, read as the server would (`None`: not such a request, or a
/// declared size past the limit, which the server answers itself); `Err` is the answer when
/// reading failed.
async fn buffered(request: Request) -> Result<(Request, Option<Bytes>), Response> {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if !reads_body(&request) || declared.is_some_and(|len| len > MAX_BODY as u64) {
        return Ok((request, None));
    }
    let (parts, body) = request.into_parts();
    let bytes = match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return Err(ApiError::TooLarge { read_to_end: false }.into_response()),
    };
    Ok((
        Request::from_parts(parts, Body::from(bytes.clone())),
        Some(bytes),
    ))
}

/// [`Fault::NonUtf8422`]: a JSON body that is not UTF-8 is 422 `json_invalid` at its first bad
/// byte instead of 400.
async fn non_utf8_422(request: Request, next: Next) -> Response {
    let (request, bytes) = match buffered(request).await {
        Ok(read) => read,
        Err(answer) => return answer,
    };
    if let Some(bytes) = bytes
        && !bytes.is_empty()
        && body::is_json_content_type(request.headers())
        && let Err(valid_up_to) = body::python_decode(&bytes)
    {
        let valid = std::str::from_utf8(&bytes[..valid_up_to]).unwrap_or("");
        return body::json_invalid_at(valid.chars().count(), "'utf-8' codec can't decode byte")
            .into_response();
    }
    next.run(request).await
}

/// [`Fault::BodyMissingAsEmpty`]: a create with no body is a create of `{}`.
async fn missing_body_as_empty(request: Request, next: Next) -> Response {
    let (mut request, bytes) = match buffered(request).await {
        Ok(read) => read,
        Err(answer) => return answer,
    };
    if request.method() == Method::POST && bytes.is_some_and(|b| b.is_empty()) {
        request.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        request.headers_mut().remove(header::CONTENT_LENGTH);
        *request.body_mut() = Body::from("{}");
    }
    next.run(request).await
}

/// The JSON value of a body as the server reads it; `None` when it is no JSON.
async fn json_of(headers: &HeaderMap, bytes: &Bytes) -> Option<Value> {
    match body::read(headers, Body::from(bytes.clone()), MAX_BODY).await {
        Ok(Received::Json(value)) => Some(value),
        _ => None,
    }
}

/// [`Fault::InvalidUpdatePartiallyApplied`]: fields are validated and saved one by one, the
/// errors raised at the end, so an update answered 422 has still saved its valid fields: they
/// are sent again, alone, to the server (`again`), and the 422 is the answer.
async fn partially_applied(State(again): State<Router>, request: Request, next: Next) -> Response {
    let (request, bytes) = match buffered(request).await {
        Ok(read) => read,
        Err(answer) => return answer,
    };
    let Some(bytes) = bytes.filter(|_| request.method() == Method::PATCH) else {
        return next.run(request).await;
    };
    let (uri, headers) = (request.uri().clone(), request.headers().clone());
    let answer = next.run(request).await;
    if answer.status() != StatusCode::UNPROCESSABLE_ENTITY {
        return answer;
    }
    let Some(value) = json_of(&headers, &bytes).await else {
        return answer;
    };
    let mut errors = Vec::new();
    let valid = validate::update_body(&value, &mut errors);
    let mut fields = Map::new();
    if let Some(description) = valid.description {
        fields.insert("description".into(), description);
    }
    if let Some(status) = valid.status {
        fields.insert("status".into(), status);
    }
    if fields.is_empty() {
        return answer;
    }
    let mut resend = Request::new(Body::from(Value::Object(fields).to_string()));
    *resend.method_mut() = Method::PATCH;
    *resend.uri_mut() = uri;
    *resend.headers_mut() = headers;
    resend.headers_mut().remove(header::CONTENT_LENGTH);
    resend.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    // A router is always ready; its answer (a 404 for a bad path id, say) is not the client's.
    let _ = again.clone().call(resend).await;
    answer
}

/// [`Fault::RawBodyStored`]: the create answer shows the validated config, but the record
/// keeps what the client sent for each top-level field validation changed (a coerced `"5"`,
/// `5.0`, `"yes"`), as a handler that validates the model but saves the request's own dict.
/// The workflow objects keep their validated form: the raw ones may hold unknown keys.
async fn raw_body_stored(
    State(memory): State<Arc<Memory>>,
    request: Request,
    next: Next,
) -> Response {
    let (request, bytes) = match buffered(request).await {
        Ok(read) => read,
        Err(answer) => return answer,
    };
    let headers = request.headers().clone();
    let answer = next.run(request).await;
    let Some(bytes) = bytes else {
        return answer;
    };
    if answer.status() != StatusCode::OK {
        return answer;
    }
    let (parts, body) = answer.into_parts();
    let Ok(answered) = body.collect().await.map(|c| c.to_bytes()) else {
        return ApiError::Internal.into_response();
    };
    if let (Some(sent), Ok(Value::Object(shown))) = (
        json_of(&headers, &bytes).await,
        serde_json::from_slice::<Value>(&answered),
    ) && let Some(simulation) = shown.get("simulation")
        && let (Some(Value::String(team)), Some(Value::String(id))) =
            (simulation.get("team_id"), simulation.get("_id"))
        && let Some(stored) = crate::store::Store::get(&*memory, team, id)
    {
        let raw = with_raw_scalars(&stored.config, &sent);
        memory.replace(Arc::new(Simulation::with_config(&stored, raw)));
    }
    Response::from_parts(parts, Body::from(answered))
}

/// `config` with each top-level scalar field replaced by what the client sent, where that
/// differs.
fn with_raw_scalars(config: &Map<String, Value>, sent: &Value) -> Map<String, Value> {
    let mut stored = config.clone();
    for (name, canonical) in &mut stored {
        if canonical.is_object() {
            continue;
        }
        if let Some(raw) = sent.get(name)
            && raw != canonical
            && !raw.is_object()
        {
            *canonical = raw.clone();
        }
    }
    stored
}
