//! What the suite sends and what the contract says must come of it: the request (its `Body` and the credentials it carries, `Auth`), the expectation (`Expect`, a 422's `Locus`), the two as a `Case`, and the situations of CONTRACT.md's rules an exchange exercises (`Exercise`).

use serde_json::Value;

use crate::listing::ListExpectation;
use crate::rules::Rule;
use crate::spec::{Api, Operation};

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
    pub(crate) fn is_primary(&self) -> bool {
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

/// The spec's requests: the builders live here, beside what they build, so that the spec
/// (below) never names the request it describes.
impl Api {
    /// `op` on its path (for `id` where it has one), with the run's key and no body.
    pub fn request(&self, op: Operation, id: &str) -> Request {
        Request {
            operation: op,
            method: self.route(op).method.clone(),
            path_and_query: self.path(op, id),
            content_type: None,
            body: Body::Empty,
            auth: Auth::Primary,
        }
    }

    /// `op` on its path with a JSON body.
    pub fn json(&self, op: Operation, id: &str, body: Value) -> Request {
        Request {
            content_type: Some("application/json".into()),
            body: Body::Json(body),
            ..self.request(op, id)
        }
    }

    pub fn create(&self, body: Value) -> Request {
        self.json(Operation::Create, "", body)
    }

    /// A list with this query string (no `?` when it is empty).
    pub fn list(&self, query: &str) -> Request {
        let mut request = self.request(Operation::List, "");
        if !query.is_empty() {
            request.path_and_query = format!("{}?{query}", request.path_and_query);
        }
        request
    }

    pub fn get(&self, id: &str) -> Request {
        self.request(Operation::Get, id)
    }

    pub fn update(&self, id: &str, body: Value) -> Request {
        self.json(Operation::Update, id, body)
    }

    pub fn delete(&self, id: &str) -> Request {
        self.request(Operation::Delete, id)
    }
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
pub(crate) const fn exercise(rule: Rule, situation: &'static str) -> Exercise {
    Exercise { rule, situation }
}
