//! One exchange with the target and everything said about it: the request and what the contract expects of it, the response as the suite saw it, the state a run shares between exchanges, and a check's verdict.

use std::collections::{BTreeSet, HashSet};
use std::sync::Mutex;

use serde_json::Value;

use crate::http::TransportError;
use crate::listing::ListExpectation;
use crate::rules::{Rule, RuleSet};
use crate::spec::{Operation, Spec};

/// What travels as the request body.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    Json(Value),
    Bytes(Vec<u8>),
    Empty,
}

impl Body {
    pub fn bytes(&self) -> Vec<u8> {
        match self {
            Body::Json(v) => serde_json::to_vec(v).expect("a Value serialises"),
            Body::Bytes(b) => b.clone(),
            Body::Empty => Vec::new(),
        }
    }
}

/// Which credentials a request carries.
#[derive(Debug, Clone, PartialEq)]
pub enum Auth {
    /// `Bearer` with the run's key.
    Primary,
    /// The run's key written another way the contract accepts: the scheme in another letter
    /// case (`bearer`), white space around the credential (`Bearer  KEY `), which is stripped.
    /// The same key (`auth.missing`'s other side).
    PrimaryRespelled {
        scheme: &'static str,
        before: &'static str,
        after: &'static str,
    },
    /// `Bearer` with the other team's key.
    OtherTeam,
    /// A literal `Authorization` value (a wrong scheme, an empty or unknown token).
    Literal(String),
    /// The run's key sent where the contract does not read it, and no `Authorization`: the
    /// key is missing (`auth.missing`), whatever a server that also reads it there would say.
    KeyElsewhere(Elsewhere),
    /// `Bearer` with the run's key altered into another key: unknown (`auth.unknown`), which
    /// a server that normalises keys would take for the run's.
    KeyAltered(Alteration),
    None,
}

/// Where [`Auth::KeyElsewhere`] puts the run's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Elsewhere {
    /// A header of this name, `X-API-Key: KEY`.
    Header(&'static str),
    /// A query parameter of this name, `?api_key=KEY`.
    Query(&'static str),
}

/// How [`Auth::KeyAltered`] changes the run's key. The strategy that draws one does not know the
/// key; [`Alteration::apply`] resolves it where the key is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alteration {
    /// Every letter in the other case: upper-cased, or lower-cased when the key has no
    /// lower-case letter.
    OtherCase,
    /// The last character replaced by another.
    LastChanged,
    /// The key without its last character.
    Prefix,
    /// The key with [`SUFFIX`] after it: a server matching keys by prefix (a rotated key
    /// `<key>-2026q4`) takes it for the run's.
    Suffixed,
}

/// What [`Alteration::Suffixed`] appends.
pub const SUFFIX: &str = "-old";

/// What [`Alteration::apply`] did to a key, so that a curl line can redo it from
/// `$CONTRACT_TOKEN` without writing the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlteredAs {
    Upper,
    Lower,
    /// The last character replaced by this one.
    LastChanged(char),
    Prefix,
    Suffixed,
}

/// The characters [`Alteration::LastChanged`] writes: among three there is always one that is
/// neither the key's last character nor one that would spell the other team's key.
const REPLACEMENTS: [char; 3] = ['x', 'y', 'z'];

impl Alteration {
    /// `key` altered into a different key, never `other` (the other team's key, which is
    /// known and would be served). An alteration that cannot change this key that way (no
    /// letter to change the case of, a one-character key with no prefix) or that would give
    /// `other` falls back to [`Alteration::LastChanged`], which always can: the request still
    /// carries an unknown key. `None` only for an empty key.
    pub fn apply(self, key: &str, other: Option<&str>) -> Option<(String, AlteredAs)> {
        let fits = |altered: &str| altered != key && Some(altered) != other;
        let tried = match self {
            Alteration::OtherCase if key.bytes().any(|b| b.is_ascii_lowercase()) => {
                Some((key.to_ascii_uppercase(), AlteredAs::Upper))
            }
            Alteration::OtherCase => Some((key.to_ascii_lowercase(), AlteredAs::Lower)),
            Alteration::Prefix => {
                let (at, _) = key.char_indices().last()?;
                let prefix = &key[..at];
                (!prefix.trim().is_empty()).then(|| (prefix.to_owned(), AlteredAs::Prefix))
            }
            Alteration::Suffixed => Some((format!("{key}{SUFFIX}"), AlteredAs::Suffixed)),
            Alteration::LastChanged => None,
        };
        if let Some((altered, applied)) = tried.filter(|(altered, _)| fits(altered)) {
            return Some((altered, applied));
        }
        let (at, last) = key.char_indices().last()?;
        REPLACEMENTS
            .iter()
            .filter(|&&c| c != last)
            .map(|&c| (format!("{}{c}", &key[..at]), AlteredAs::LastChanged(c)))
            .find(|(altered, _)| fits(altered))
    }
}

impl Auth {
    /// Whether the request carries the run's own key, padded or not.
    pub fn is_primary(&self) -> bool {
        matches!(self, Auth::Primary | Auth::PrimaryRespelled { .. })
    }
}

/// One HTTP request, as the suite sends it and as a curl line reproduces it. The spec's
/// [`crate::spec::Api`] builds them, so method and path are the spec's.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub operation: Operation,
    pub method: String,
    pub path_and_query: String,
    pub content_type: Option<String>,
    pub body: Body,
    pub auth: Auth,
}

/// Where a 422's `detail[].loc` must point.
#[derive(Debug, Clone, PartialEq)]
pub enum Locus {
    /// Some entry's `loc` equals this exactly.
    Exact(Vec<Value>),
    /// `["body", <byte offset>]`, for JSON that does not parse.
    BodyOffset,
    /// Every one of these `loc`s has an entry: a request with several violations gets one entry
    /// for each (`schema.errors`), not only the first.
    Every(Vec<Vec<Value>>),
}

/// What the contract says must come of a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Expect {
    /// A valid request: 2xx, and (for bodies) `stored` is exactly what must come back.
    Accept { sent: Value, stored: Value },
    /// An invalid request: this status, and for 422 this locus.
    Reject {
        mutation: &'static str,
        pointer: String,
        status: u16,
        locus: Option<Locus>,
    },
    /// An unspecified input at `pointer`: no 5xx; if accepted, the stored value has the
    /// field's type, a value that was already canonical is stored unchanged, and a read that
    /// follows returns what the create did. Acceptance or rejection is not judged.
    Probe { pointer: String, value: Value },
    /// A 2xx whose simulation equals `expected` exactly: a read after a write, or after a
    /// request that was refused and so must have changed nothing.
    Simulation { expected: Value },
    /// A 2xx update of `before` with `patch`: only the fields of the spec's update body may change.
    /// `strictly_later`: the update was sent long enough after `before` was written (see
    /// `scenario::machine::command::CLOCK_GAP`) that its `updated_at` must be later, not only not earlier.
    Updated {
        before: Value,
        patch: Value,
        strictly_later: bool,
    },
    /// A request whose outcome the contract leaves open between these statuses, `because` says
    /// why: a request racing another on the same record (any status a serial order of the two
    /// gives; the reads that follow judge what the race left), or a body over 1 MiB (413 or
    /// served). A status here that the spec does not document is the contract's to allow.
    OneOf {
        statuses: Vec<u16>,
        because: &'static str,
    },
    /// A 2xx list page, judged against this run's own records.
    Listed(ListExpectation),
    /// A 2xx and nothing more (a delete).
    Success,
    /// 401 with `WWW-Authenticate: Bearer` and this detail.
    Unauthorized { detail: &'static str },
    /// 405 with exactly these methods in `Allow`: the methods the spec gives the path.
    NotAllowed { allow: Vec<String> },
    /// 404 `{"detail": "Simulation not found"}`.
    NotFound,
}

/// A request and its expectation.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    pub request: Request,
    pub expect: Expect,
}

/// One situation of one rule of CONTRACT.md, asserted by one exchange: `situation` is one of
/// the names [`crate::coverage::RULES`] lists for `rule` (a test there keeps every name the
/// suite uses one of the table's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Exercise {
    pub rule: Rule,
    pub situation: &'static str,
}

/// The exchange put `rule` to the test in `situation`.
pub const fn exercise(rule: Rule, situation: &'static str) -> Exercise {
    Exercise { rule, situation }
}

/// A request that was sent, what was expected of it, and what came back.
#[derive(Debug, Clone)]
pub struct Observation {
    pub case: Case,
    pub response: Result<Response, TransportError>,
    /// The rules the scenario says this request exercises beyond what can be read off the
    /// request and its expectation: a read-back after another team's refused update exercises
    /// `tenancy.item` and `never.lost`, which the read alone cannot tell.
    pub exercises: Vec<Exercise>,
}

/// A response as the suite saw it, already redacted.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub status: u16,
    pub content_type: Option<String>,
    pub www_authenticate: Option<String>,
    pub allow: Option<String>,
    pub body: Vec<u8>,
    /// The body parsed as JSON, when it is JSON.
    pub json: Option<Value>,
    /// Set on the answer to a write that was retried after a failure that may have reached the
    /// service (see `gateway.rs`): the time from the first attempt to this answer, the window in
    /// which a lost attempt may have made its record.
    pub ambiguous_for: Option<std::time::Duration>,
    /// How many earlier attempts of this write failed after they may have reached the service:
    /// each may have acted (for a create, made a record the suite never heard of).
    pub lost_attempts: u32,
}

impl Response {
    pub fn new(status: u16, content_type: Option<String>, body: Vec<u8>) -> Response {
        let json = crate::hazard::parse(&body);
        Response {
            status,
            content_type,
            www_authenticate: None,
            allow: None,
            body,
            json,
            ambiguous_for: None,
            lost_attempts: 0,
        }
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The stored simulation of a single-simulation response.
    pub fn simulation(&self) -> Option<&Value> {
        self.json.as_ref()?.get("simulation")
    }
}

/// The team and user the key belongs to, when the suite knows them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Identity {
    pub team: Option<String>,
    pub user: Option<String>,
}

/// A value a server answered with that the generated client's types cannot hold, such as an
/// integer beyond `i64` (which FastAPI stores and returns exactly). A limit of the client, not
/// a fault of the server: `typed_client_decodes` passes and records one of these instead.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ClientLimit {
    pub operation: Operation,
    /// Where in the response body, as a JSON pointer.
    pub pointer: String,
    /// The number with the server's digits (serde_json writes an exponent with its sign: `1e+30`).
    pub value: String,
    /// The generated client's type for that field.
    pub client_type: &'static str,
}

/// What the checks and scenarios share across one run.
#[derive(Debug)]
pub struct RunState {
    pub identity: Mutex<Identity>,
    pub seen_ids: Mutex<HashSet<String>>,
    /// Prefix of every `logical_id` and `description` a stateful scenario writes, so a shared
    /// QA team's lists can be scoped to this run and its leftovers found.
    pub run_tag: String,
    /// Every simulation a create answered with: cleaned up at the end of the run.
    pub created: Mutex<Vec<Created>>,
    /// The path of each delete the run's own key sent that was answered 2xx or 404: the record
    /// behind it is gone, so the cleanup need not read it back (unless its search lists it).
    pub deleted: Mutex<HashSet<String>>,
    /// Creates without the run's tag whose answer was lost after they may have reached the
    /// service: what they made cannot be told from a same-key client's identical record, so the
    /// cleanup leaves it and the report names it.
    pub unproven: Mutex<Vec<Unproven>>,
    pub other_team: bool,
    /// Values the generated client could not hold, each once: for the report to list as notes
    /// about the client (see [`RunState::client_limits`]).
    pub client_limits: Mutex<BTreeSet<ClientLimit>>,
    /// Held from a create of about 1 MiB (`body.too-large`'s sizes) until its record is deleted,
    /// so at most one such record of the run is alive at a time: otherwise a page of the run's
    /// own records, listed meanwhile by a concurrent case, can pass `--max-response-bytes` on
    /// a faithful server (seen: 10 MiB with ten alive under load).
    pub large_record: tokio::sync::Mutex<()>,
}

impl RunState {
    pub fn new(identity: Identity) -> RunState {
        RunState::tagged(identity, "ct-test".into(), false)
    }

    pub fn tagged(identity: Identity, run_tag: String, other_team: bool) -> RunState {
        RunState {
            identity: Mutex::new(identity),
            seen_ids: Mutex::new(HashSet::new()),
            run_tag,
            created: Mutex::new(Vec::new()),
            deleted: Mutex::new(HashSet::new()),
            unproven: Mutex::new(Vec::new()),
            other_team,
            client_limits: Mutex::new(BTreeSet::new()),
            large_record: tokio::sync::Mutex::new(()),
        }
    }

    /// Every value seen so far that the generated client cannot hold, in a stable order.
    pub fn client_limits(&self) -> Vec<ClientLimit> {
        self.client_limits
            .lock()
            .expect("not poisoned")
            .iter()
            .cloned()
            .collect()
    }
}

/// A simulation this run created, as its create response showed it: the id to delete, and the
/// mark that proves, before the delete, that the record behind the id is still the one created.
#[derive(Debug, Clone, PartialEq)]
pub struct Created {
    pub id: String,
    pub created_at: Option<String>,
}

/// Records a create may have made that the run cannot prove are its own: attempts whose answer
/// was lost after the request may have reached the service, for a body that carries no run tag.
///
/// Rule: the cleanup never deletes what the run cannot prove it wrote. A record a lost attempt
/// made from a tagged body carries the tag, which the cleanup's search finds and its read-back
/// proves; one made from an untagged body (all defaults, say) is indistinguishable from the
/// identical record another client of the same key (another CI shard, a person on the QA team)
/// wrote in the same second, so it is reported, never deleted.
#[derive(Debug, Clone, PartialEq)]
pub struct Unproven {
    /// How many attempts may have made a record.
    pub attempts: u32,
    /// When the first attempt was sent (UTC, RFC 3339), and how long the attempts went on.
    pub sent_at: String,
    pub within: std::time::Duration,
    /// The body's `logical_id`, when it is a string: what a person searches for.
    pub logical_id: Option<String>,
}

/// Whether a create body carries `tag` in a field the cleanup's search looks in, so a record
/// made from it can be found and proven the run's.
pub fn body_carries_tag(body: &Body, tag: &str) -> bool {
    matches!(body, Body::Json(config) if config_carries_tag(config, tag))
}

/// Whether a simulation config (as sent or as stored) holds `tag` in a field the list's
/// search looks in: where the run writes its tag, and what proves a record the run's.
pub fn config_carries_tag(config: &Value, tag: &str) -> bool {
    crate::listing::SEARCHED_FIELDS.iter().any(|field| {
        config[field]
            .as_str()
            .is_some_and(|text| text.contains(tag))
    })
}

/// Everything a check may look at.
#[derive(Debug)]
pub struct Exchange<'a> {
    pub spec: &'a Spec,
    pub case: &'a Case,
    pub response: &'a Response,
    pub state: &'a RunState,
}

/// A broken expectation, located by a JSON pointer into the response (or the request).
#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    pub pointer: String,
    pub expected: String,
    pub received: String,
}

/// What a check concluded about one exchange: it passed, it did not apply, or it failed.
pub type Verdict = Result<Applied, Mismatch>;

/// How a check that did not fail ended. A check that did not apply did not pass: the summary
/// and JUnit count the two apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The check compared what it asserts and found it right: the rules it asserted on this
    /// exchange (a comparison that could have failed), [`RuleSet::ALL`] for "every rule the
    /// check names". The runner keeps only those the check names (`Check::rules`), and
    /// coverage credits only those.
    Passed(RuleSet),
    NotApplicable,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_body_carries_the_tag_only_in_a_searched_string_field() {
        let tag = "ct0000beef";
        for carrying in [
            json!({"logical_id": "ct0000beef-n1"}),
            json!({"description": "x ct0000beefr3-n2"}),
        ] {
            assert!(body_carries_tag(&Body::Json(carrying), tag));
        }
        for bare in [
            json!({}),
            json!({"logical_id": "ct0000bee"}),
            json!({"logical_id": ["ct0000beef"]}),
            json!({"max_events": 500, "extra": "ct0000beef"}),
        ] {
            assert!(!body_carries_tag(&Body::Json(bare.clone()), tag), "{bare}");
        }
        assert!(!body_carries_tag(&Body::Bytes(b"ct0000beef".to_vec()), tag));
    }
}
