//! The reference implementation of the Simulations API contract (`CONTRACT.md`): in memory,
//! on axum and tokio, behaving like the FastAPI service wherever a client can tell. With the
//! `faults` feature (off by default; xtask turns it on), switchable faults for the contract
//! suite's self-test: `Fault`, `FaultSet` and `Config::faults`.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let server = reference_server::spawn(reference_server::Config::development()).await?;
//! println!("listening on {}", server.base_url());
//! server.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! # Where things live
//!
//! - `handlers.rs`: one fallback handler that routes like Starlette (its module docs say why
//!   axum's router is not used) and runs the five operations in FastAPI's order of checks.
//! - `body.rs`: reading a body (413, 400, `json_invalid`, numbers as `json.loads` holds them).
//! - `validate/`: pydantic v2's lax mode for this API: `schema.rs` the create and update bodies,
//!   `coerce.rs` the lax `int` and `bool`, `query.rs` the list query, `datetime.rs` the
//!   date-time parser.
//! - `auth.rs`: the bearer check and the key lookup.
//! - `store.rs`: the in-memory store behind one short-held lock (`Memory`, held by the app as a
//!   `Store`), and the listing step.
//! - `errors.rs`: `ApiError`, rendered through `IntoResponse` in FastAPI's shapes.
//! - `faults/` (feature `faults`): the fault catalog, declared once, each fault with the
//!   CONTRACT.md rule ids it breaks (every rule id has at least one) and where it acts. Every
//!   fault is a decorator: [`app`] builds the server from its parts (`handlers::Parts`: the
//!   store, the listing step, the validation steps, the body limit) and, for each fault on,
//!   replaces a part with a decorator of it or wraps the router in a layer. No other file
//!   names a fault.
//! - `server.rs`: the socket side (connection cap and timeouts).
//! - `cors.rs`: the optional CORS layer, added only when [`Config::cors_origins`] lists origins.
//! - `cli.rs` (feature `cli`, on by default): the mock's command line, one parser for the
//!   `reference-server` binary and `cargo xtask serve`; `main.rs` is that binary.
//!
//! # Order of checks
//!
//! As FastAPI runs them, first failure wins:
//!
//! 1. Routing: an unknown path is 404 `{"detail": "Not Found"}`; a known path with trailing
//!    slashes is 307 to the path without them (Starlette's `redirect_slashes`); another method
//!    on a known path is 405 `{"detail": "Method Not Allowed"}` with `Allow: GET, POST` on the
//!    collection and `Allow: DELETE, GET, PATCH` on an item (alphabetical). `HEAD` and `OPTIONS`
//!    are such other methods.
//!    Beside the API, without a key: [`OPENAPI_PATH`] (`/api-docs/workflows/api.json`, where
//!    the real service serves its document) answers `spec/openapi.json` byte for byte and
//!    [`HEALTH_PATH`] (`/healthz`) `{"status":"ok"}`, both to GET and HEAD; another method is
//!    405 with `Allow: GET, HEAD`.
//! 2. The body, for create and update only (FastAPI reads it before solving dependencies): over
//!    1 MiB is 413 `{"detail": "Content Too Large"}` (RFC 9110's name, and the oracle's); unreadable or not UTF-8 is 400
//!    `{"detail": "There was an error parsing the body"}`; a JSON body that does not parse is
//!    422 `json_invalid` at `["body", <character offset>]`.
//! 3. Authentication (the `HTTPBearer` dependency): 401 with `WWW-Authenticate: Bearer`.
//! 4. Validation of path, query and body together: one 422 listing path errors, then query,
//!    then body errors, each list in declaration order.
//! 5. The operation: 404 `{"detail": "Simulation not found"}` for an id the team does not have.
//!
//! # Choices where the contract is silent or marked [model]
//!
//! - A body is parsed as JSON when its `Content-Type` is `application/json` or
//!   `application/*+json` (parameters and case ignored), as FastAPI does; no content type, or
//!   any other, hands the text to validation, which refuses it (`model_attributes_type` on
//!   create, `dict_type` on update), as FastAPI 0.165 does (the oracle in `oracle/` shows it).
//!   A UTF-8 byte order mark is skipped, as `json.loads(bytes)` does.
//! - An empty body is 422 `missing` at `["body"]`. A JSON `null` body is 422
//!   `model_attributes_type` on create and `dict_type` on update, as the contract says.
//! - A body is decoded as `json.loads(bytes)` does (`body.rs`): UTF-8, UTF-16 or UTF-32 told
//!   from the first bytes, and the tokens `NaN`, `Infinity`, `-Infinity` and numbers too large
//!   for a float (`1e400`, infinity) read as numbers: stored as null inside
//!   `dynamic_variables`, refused in a typed field with pydantic's error for it
//!   (`finite_number`, `string_type`, ...; its `input` written as null, so the 422 is JSON).
//!   Nesting is read past serde_json's 128 levels, as Python reads it: `dynamic_variables` up
//!   to 254 levels deep are stored and written back. Two inputs Python reads but stock FastAPI
//!   then answers 500 to (CONTRACT.md) are refused here instead (the contract allows any 4xx):
//!   `dynamic_variables` 255 levels deep or more (422 `value_error` at the field, its input not
//!   echoed) and a lone surrogate escape (422 `json_invalid`); a body nested deeper than
//!   `body::MAX_NESTING` (320) is `json_invalid` too, never a crash. `ctx.error` uses Python's
//!   wording where there is one; the offset is serde_json's, converted to characters, so it can
//!   differ from Python's by a few.
//! - Numbers are held as `json.loads` holds them: an integer literal is an exact integer of any
//!   size, anything with a fraction or exponent the nearest `f64` (written back in shortest
//!   form, so `0.1000000000000000055` comes back as `0.1` and `1E2` as `100.0`). An integer
//!   literal of more than 4300 digits is 400 `There was an error parsing the body`: Python's
//!   `int` refuses it with a plain `ValueError`, which FastAPI answers that way.
//! - Integers outside the signed 64-bit range, which the contract leaves unspecified, are
//!   accepted as pydantic accepts them and stored and written back with every digit: integer
//!   literals, and numeric strings (`"99999999999999999999"`) up to 4300 characters (longer is
//!   `int_parsing_size`, "Unable to parse input string as an integer, exceeded maximum size").
//!   An integral float past the range (`1e20`, `9223372036854775808.0`) is `int_parsing_size`,
//!   as pydantic's `float_as_int` answers, and so is -2^63 as a float (pydantic's bounds are
//!   exclusive; CONTRACT.md's accepted set of integral floats does not make that exception,
//!   and the suite sends it as unspecified). In the list query, a `size` or
//!   `page` past 64 bits counts as 2^64 - 1 (an empty page, or everything).
//! - Integer strings are read as `str_as_int` of pydantic-core 2.50.5 (the oracle's pin) reads
//!   them: surrounding whitespace (Unicode), one `+` or `-`, leading zeros, a tail of `.` and
//!   zeros, and single underscores between digits (`"5_000"`, `" -1_000 "`, `"5_000.0"` are
//!   5000, -1000, 5000; `"_5"`, `"5__0"`, `"5_"`, `"5."` are `int_parsing`). One pydantic quirk
//!   is not copied: it reads `"0-5"` as -5, and the contract rejects strings that are not
//!   numbers.
//! - The credential is everything after the first space of `Authorization`, unstripped, and the
//!   scheme matches `Bearer` case-insensitively (FastAPI's `get_authorization_scheme_param`).
//!   With several `Authorization` headers the first counts.
//! - Ids are ObjectId-like: 8 hex digits of creation seconds, then a 16-digit counter.
//!   Timestamps are RFC 3339 UTC with microseconds and `Z` (`2024-05-01T10:00:00.123456Z`),
//!   strictly increasing across creates and updates even if the wall clock steps back, so list
//!   order (newest first, `_id` descending on ties) is total and `updated_at > created_at` after
//!   an update. `start`/`end` compare at microsecond precision.
//! - `search`: case-insensitive (Unicode lowercase) substring of `logical_id` or
//!   `description`; a null field never matches; an empty `search` is no filter (as Python's
//!   `if search:`). `logical_id` and the workflow id filters are exact; an empty `logical_id`
//!   matches only an empty stored `logical_id`. A simulation whose status is null never
//!   matches a `status` filter.
//! - Query strings are read like Starlette (with `form_urlencoded`, which splits and decodes as
//!   Python's `parse_qsl` does): `&`-separated, `+` is a space, percent-decoding with invalid
//!   UTF-8 replaced, a name without `=` has the value `""`, the last repeated value wins,
//!   unknown names are ignored. `size=` is 422 `int_parsing`; `status=` is 422 `enum`.
//! - `start`/`end` accept what pydantic does: RFC 3339 with `T`, `t`, `_` or a space, seconds
//!   and fraction optional (more than six fraction digits truncated), `Z`/`±HH:MM`/`±HHMM`/`±HH`
//!   offsets, a bare date (midnight), and numbers as Unix seconds (milliseconds past 2e10).
//!   Failures are 422 `datetime_from_date_parsing` ("Input should be a valid datetime or date,
//!   <reason>") with speedate's reason in `ctx.error`.
//! - Paths are matched after percent-decoding, as Starlette does, so `%2F` in an id makes the
//!   path unknown (404).
//! - PATCH with `{}` changes nothing but `updated_at` and `updated_by`. Body errors come before
//!   the 404 check. Delete answers `{"message": "Simulation deleted successfully"}`.
//! - A 413 is decided from `Content-Length` before reading, or while reading a chunked body.
//!   GET and DELETE never read the body, as FastAPI does not.
//! - **Storage per team is bounded**, which the contract does not mention: at most
//!   [`Config::max_team_records`] simulations (100 000 by default) and
//!   [`Config::max_team_bytes`] of them (256 MiB by default, counted as roughly the bytes of
//!   each record's JSON, and at least 256 per record). Teams are those of the configured keys,
//!   so the whole store is bounded too. A create past either bound, or an update that would
//!   grow a record past the byte bound, is **409** `{"detail": "This team's simulation storage
//!   is full (at most N simulations and M bytes of JSON per team on this server); delete
//!   simulations to make room"}` and changes nothing; an update that does not grow a record, and
//!   a delete, always work, so a full team makes room by deleting. Why 409: the request is
//!   fine but conflicts with the state of the collection, which the client can change; 507
//!   would say the same but is a 5xx, 413 would blame the body, and 429 would invite a retry
//!   that cannot succeed until something is deleted. The checks come after validation (a bad
//!   body is still 422) and after the 404 of an update. The contract suite's default run
//!   (about 2 600 records over two teams) stays far below both bounds.
//! - Every response is `application/json` except the 307 redirect (empty body), the 500 that
//!   only the `faults` feature's catalog produces (`text/plain`, as Starlette's error middleware sends) and, with
//!   [`Config::cors_origins`] set, a listed origin's CORS preflight (200 `OK`, `text/plain`, as
//!   Starlette's `CORSMiddleware` answers; `cors.rs`).
//!
//! # Serving on a shared machine
//!
//! [`serve`] and [`spawn`] (and so `cargo xtask serve`) guard the server against slow, stalled
//! or greedy clients; [`app`] alone, without a socket, has none of this. The defaults are
//! [`Config::development`]'s:
//!
//! - **At most 1024 connections** ([`Config::max_connections`]). Past the cap a new connection is
//!   not accepted: it waits in the kernel's accept queue until a connection closes, and is then
//!   served normally. Waiting rather than closing means a burst is slowed, never refused; the
//!   timeouts below bound the wait. Keep the cap below the open-file limit (`ulimit -n`), which
//!   must also cover a few descriptors of the process itself.
//! - **At most 512 connections per peer** ([`Config::max_connections_per_peer`]), a peer being
//!   a client IP address (an IPv4-mapped IPv6 address counts as its IPv4 address), so one
//!   client's kept-alive connections cannot hold every slot of the cap above. A connection past
//!   a peer's bound is **closed at accept, unread and unanswered**, and takes no slot: the client
//!   sees a reset or an early close, which HTTP clients treat as a failed connection to retry
//!   once one of theirs is free. Not a 503 (the reference server never answers 5xx), and not a
//!   429 either: answering means reading a request, and a peer that sends nothing would then
//!   hold slots again while it waits. Clients behind one NAT or proxy share a bound, and so do
//!   all the users of one machine connecting over loopback (all from 127.0.0.1), which is what
//!   the next bound is for.
//! - **At most 256 connections per API key** ([`Config::max_connections_per_key`]), below the
//!   per-peer bound so that one key cannot take a whole machine's loopback share. A connection
//!   counts against the configured key of its latest request (a request with no configured key
//!   is not counted: it is answered 401, and counting invented credentials would let a client
//!   grow the count without bound). A request of a key that already holds its bound on other
//!   connections is answered **429** `{"detail": "Too many connections with this API key: ..."}`
//!   with `Retry-After: 1` and `Connection: close`, and its connection is closed: a client that
//!   sends requests on the connections it already has is never refused. 429 is not among the
//!   contract's answers, but it is what a gateway in front of the service answers to a client
//!   over its share, and clients (the contract suite among them) wait and retry on it.
//! - **10 s to send a request's line and headers** ([`Config::header_read_timeout`]), counted
//!   from when the server starts waiting for them: on a new connection, and after each response
//!   on a kept-alive one, so it is also the **idle (keep-alive) timeout**. A connection that
//!   sends nothing, or its headers a byte at a time, is closed without an answer. (uvicorn, in
//!   front of the real service, closes idle connections after 5 s.)
//! - **30 s for the rest of an exchange** ([`Config::io_timeout`]): a request body must arrive in
//!   full within it of the headers, or is answered 400 `{"detail": "There was an error parsing
//!   the body"}` like any unreadable body (and the connection closed); a response write that the
//!   client does not take for that long closes the connection.
//! - A timeout longer than a century counts as a century (so `Duration::MAX` means "never"):
//!   hyper adds the header-read timeout to the clock without checking, and an `Instant` past
//!   what the clock holds would panic every connection. The body's deadline is computed with
//!   `checked_add` too. [`Config::latency`] is slept as given (`Duration::MAX` never answers);
//!   `cargo xtask serve` bounds all three on its command line.
//! - A list of a team whose records add up to more than about 256 KiB of JSON is filtered and
//!   serialised on tokio's blocking pool, at most two such lists at once, so one team's large
//!   pages do not hold up another team's requests. The store's lock is held only to copy
//!   pointers to the records, never while building an answer.

mod auth;
mod body;
#[cfg(feature = "cli")]
pub mod cli;
mod cors;
mod errors;
#[cfg(feature = "faults")]
mod faults;
mod handlers;
mod server;
mod store;
mod validate;

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::middleware;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use errors::ConfigError;
#[cfg(feature = "faults")]
pub use faults::{Acts, Fault, FaultSet, UnknownFault};

/// Where the server serves the API's OpenAPI document (the stored spec), as the real service
/// does; no key needed.
pub const OPENAPI_PATH: &str = handlers::OPENAPI_PATH;
/// The server's health endpoint: 200 `{"status":"ok"}`, no key needed.
pub const HEALTH_PATH: &str = handlers::HEALTH_PATH;

/// The development key of team `team-a`, user `user-a`.
pub const DEV_KEY: &str = "dev-key-team-a";
/// The development key of another team, `team-b` (user `user-b`), to test tenancy.
pub const DEV_OTHER_TEAM_KEY: &str = "dev-key-team-b";

/// An API key and the team and user it acts for.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub key: String,
    pub team: String,
    pub user: String,
}

impl ApiKey {
    pub fn new(key: impl Into<String>, team: impl Into<String>, user: impl Into<String>) -> Self {
        ApiKey {
            key: key.into(),
            team: team.into(),
            user: user.into(),
        }
    }
}

/// Keys are secrets: `Debug` shows only the team and user.
impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKey")
            .field("key", &"<redacted>")
            .field("team", &self.team)
            .field("user", &self.user)
            .finish()
    }
}

/// `KEY:TEAM:USER`; the key may itself contain colons (the last two separate team and user).
impl FromStr for ApiKey {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.rsplitn(3, ':');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(user), Some(team), Some(key))
                if !user.is_empty() && !team.is_empty() && !key.is_empty() =>
            {
                Ok(ApiKey::new(key, team, user))
            }
            _ => Err(ConfigError::MalformedApiKey),
        }
    }
}

/// What the server accepts and how it misbehaves.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Every accepted key; each belongs to one team and one user.
    pub keys: Vec<ApiKey>,
    /// The deliberate contract violations switched on; empty for the faithful server. Only
    /// with the `faults` feature.
    #[cfg(feature = "faults")]
    pub faults: FaultSet,
    /// Origins a browser page may call the server from (CORS), `*` for any; empty (the
    /// default) for none, where a preflight is the contract's 405 like any `OPTIONS`.
    pub cors_origins: Vec<String>,
    /// Added to every response (a benchmark knob, not a fault).
    pub latency: Duration,
    /// Connections served at once by [`serve`] and [`spawn`]; more wait to be accepted.
    /// At least 1 is used.
    pub max_connections: usize,
    /// Connections one peer (client IP address) may hold at once; one more is closed at accept.
    /// At least 1 is used. Keep it above [`Config::max_connections_per_key`]: loopback clients
    /// all share one address.
    pub max_connections_per_peer: usize,
    /// Connections that may carry requests of one API key at once; a request of that key on
    /// one more connection is answered 429 and the connection closed. At least 1 is used.
    pub max_connections_per_key: usize,
    /// How long a connection may take to send a request's line and headers, counted from when
    /// the server starts waiting for them (also after a response on a kept-alive connection).
    pub header_read_timeout: Duration,
    /// How long a request body may take to arrive in full after its headers, and how long a
    /// response write may wait for the client to take bytes.
    pub io_timeout: Duration,
    /// Simulations one team may store; a create past it is answered 409.
    pub max_team_records: usize,
    /// Roughly the bytes of JSON one team's simulations may add up to; a create or update past
    /// it is answered 409.
    pub max_team_bytes: usize,
}

impl Config {
    /// Two development keys: [`DEV_KEY`] (team-a/user-a) and [`DEV_OTHER_TEAM_KEY`] (team-b/user-b).
    pub fn development() -> Self {
        Config {
            keys: vec![
                ApiKey::new(DEV_KEY, "team-a", "user-a"),
                ApiKey::new(DEV_OTHER_TEAM_KEY, "team-b", "user-b"),
            ],
            #[cfg(feature = "faults")]
            faults: FaultSet::EMPTY,
            cors_origins: Vec::new(),
            latency: Duration::ZERO,
            max_connections: 1024,
            max_connections_per_peer: 512,
            max_connections_per_key: 256,
            header_read_timeout: Duration::from_secs(10),
            io_timeout: Duration::from_secs(30),
            max_team_records: 100_000,
            max_team_bytes: 256 * 1024 * 1024,
        }
    }
}

impl Config {
    /// [`Config::development`] for a server whose only client is the process that starts it
    /// (the contract suite's embedded server): the per-peer and per-key bounds, which keep
    /// clients from crowding each other out, are the connection cap itself, so a run at up to
    /// 1024 requests in flight is never turned away.
    pub fn embedded() -> Self {
        let mut config = Config::development();
        config.max_connections_per_peer = config.max_connections;
        config.max_connections_per_key = config.max_connections;
        config
    }
}

/// The whole API as a router with fresh, empty storage; usable without a socket
/// (e.g. `tower::ServiceExt::oneshot`). Clones share the storage.
pub fn app(config: Config) -> Router {
    let parts = handlers::Parts::faithful(&config);
    // The faults' decorators replace parts; their layers wrap the router.
    #[cfg(feature = "faults")]
    let memory = Arc::clone(&parts.memory);
    #[cfg(feature = "faults")]
    let parts = faults::decorate(parts, &config);
    let state = Arc::new(handlers::AppState::new(&config, parts));
    let router = Router::new().fallback(handlers::handle).with_state(state);
    #[cfg(feature = "faults")]
    let router = faults::layers(router, &config, &memory);
    // Outside the faults' layers: a fault reshapes the API's answers, not the CORS protocol.
    let mut router = router;
    if let Some(cors) = cors::Cors::of(&config.cors_origins) {
        router = router.layer(middleware::from_fn_with_state(cors, cors::layer));
    }
    router.layer(middleware::from_fn_with_state(
        config.latency,
        handlers::log_and_delay,
    ))
}

/// Serves the API on `listener` until the process ends (for `cargo xtask serve`), within the
/// limits of the crate docs' "Serving on a shared machine". Needs tokio's time driver.
pub async fn serve(listener: TcpListener, config: Config) -> std::io::Result<()> {
    let limits = server::Limits::of(&config);
    server::run(listener, app(config), limits, std::future::pending()).await;
    Ok(())
}

/// A server running in the background on a loopback port.
#[derive(Debug)]
pub struct RunningServer {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl RunningServer {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, lets in-flight requests finish, and waits for the server to end.
    pub async fn shutdown(self) {
        // The receiver only disappears once the server has already ended.
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// Binds `127.0.0.1:0` and serves the API in a background task, within the same limits as
/// [`serve`].
pub async fn spawn(config: Config) -> std::io::Result<RunningServer> {
    let listener = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let limits = server::Limits::of(&config);
    let router = app(config);
    let task = tokio::spawn(async move {
        let stopped = async {
            let _ = stopped.await;
        };
        server::run(listener, router, limits, stopped).await;
        Ok(())
    });
    Ok(RunningServer { addr, stop, task })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_server_bounds_only_its_connections() {
        let embedded = Config::embedded();
        assert_eq!(embedded.max_connections_per_peer, embedded.max_connections);
        assert_eq!(embedded.max_connections_per_key, embedded.max_connections);
        let development = Config::development();
        assert!(development.max_connections_per_key < development.max_connections_per_peer);
        assert!(development.max_connections_per_peer < development.max_connections);
        assert_eq!(
            Config {
                max_connections_per_peer: development.max_connections_per_peer,
                max_connections_per_key: development.max_connections_per_key,
                ..embedded
            },
            development
        );
    }

    #[test]
    fn api_keys_parse_and_never_show_the_key() {
        let key: ApiKey = "se:cret:team-x:user-y".parse().expect("valid");
        assert_eq!(key, ApiKey::new("se:cret", "team-x", "user-y"));
        assert!(!format!("{key:?}").contains("cret"));
        for bad in ["", "k:t", ":t:u", "k::u", "k:t:"] {
            let error = bad.parse::<ApiKey>().expect_err(bad);
            assert_eq!(error, ConfigError::MalformedApiKey);
        }
        let error = "secret-key:team".parse::<ApiKey>().expect_err("two parts");
        assert!(!error.to_string().contains("secret-key"));
    }
}
