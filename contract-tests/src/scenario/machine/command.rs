//! The command language of the state machine: a sequence's plan, its commands and the values they are drawn from, and how each reads in a finding.

use std::time::Duration;

use serde_json::Value;

use crate::request::Auth;
use crate::scenario::refused::Refusal;
use crate::spec::Operation;
use crate::text::{ABSENT, list, or_absent, quoted, quoted_or_absent};
use crate::values::Accepted;

/// How long the sequence waits before a write whose `updated_at` must then be strictly later
/// than the record's last one: far past a coarse (millisecond) server clock and the clock skew
/// between a service's instances, so a tie is a server that did not move the timestamp.
pub(crate) const CLOCK_GAP: Duration = Duration::from_millis(60);

/// The size of a create body just under the 1 MiB over which a server may refuse it
/// (`body.too-large`), by a margin no framing changes: a server whose limit is smaller (10^6
/// bytes for "1 MB", say) refuses it.
pub(super) const JUST_UNDER_LIMIT: usize = 1024 * 1024 - 64;

/// A create body of exactly 1 MiB: not over the limit, so it must be served; a server that
/// refuses at the limit (`>=` for `>`) does not.
pub(super) const AT_LIMIT: usize = 1024 * 1024;

/// Past the 1 MiB over which a server may answer 413 instead.
pub(super) const OVER_LIMIT_DESCRIPTION: usize = 1024 * 1024 + 64 * 1024;

/// One generated sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct MachinePlan {
    pub nonce: String,
    /// Two workflow ids only this sequence uses, so a workflow filter scopes a list to it.
    pub workflow_ids: [String; 2],
    /// An id of the item path's length that no record has: a record picked before any exists.
    pub unknown_id: String,
    pub commands: Vec<Command>,
}

/// Which record a command acts on.
#[derive(Debug, Clone, PartialEq)]
pub enum Pick {
    /// The model's record at this index (wrapping); deleted records are picked too.
    Record(usize),
    /// A well-formed id no record has.
    Unknown(String),
    /// An id of the right length that is not hex: still 404, never 422 (`item.not-found`).
    NotHex(String),
}

/// A string field of a create, chosen to tell near misses apart.
#[derive(Debug, Clone, PartialEq)]
pub enum Text {
    /// `<tag>-<word>` / `<tag> <word>`: words share prefixes (`a`, `ab`), differ in case
    /// (`a`, `A`) and hold regular-expression metacharacters (`a.b`, `a+b`).
    Word(&'static str),
    Absent,
    Null,
    /// `""`: falsy, and still a value that must be stored as sent.
    Empty,
    /// The tag inside spaces that a trimming server would lose.
    Padded,
    /// Over 4 KiB.
    Long,
    /// A character from each of the 17 Unicode planes, unassigned ones included.
    Planes,
    /// The `logical_id` of an earlier record: the field is not a key, both records stay.
    SameAs(usize),
}

/// A create: a valid body (canonical and lax values), then the fields lists filter on.
#[derive(Debug, Clone, PartialEq)]
pub struct CreatePlan {
    pub body: Accepted,
    /// An unspecified value at a top-level field: no 5xx, and if accepted, stable.
    pub probe: Option<(String, Value)>,
    pub logical_id: Text,
    pub description: Text,
    pub status: Option<String>,
    /// The sequence's workflow id (by index) for the selected and the counter workflow.
    pub workflows: [Option<usize>; 2],
    /// Every integer 0 and every boolean false: falsy values that must not become defaults.
    pub falsy: bool,
}

/// One field of a PATCH.
#[derive(Debug, Clone, PartialEq)]
pub enum PatchValue {
    Absent,
    Null,
    /// `""`; for an enum field this is an invalid value instead.
    Empty,
    Valid(Value),
    Invalid(Value),
}

#[derive(Debug, Clone, PartialEq)]
pub struct PatchPlan {
    pub description: PatchValue,
    pub status: PatchValue,
    /// Keys PATCH does not change (create-only fields, valid or not, and an unknown key).
    pub ignored: Vec<(String, Value)>,
}

/// How a list filter's value is made from a record's value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Variant {
    Exact,
    /// One character short: a prefix-matching server lists it.
    Prefix,
    /// One character short at the front: a suffix- or substring-matching server lists it.
    Suffix,
    /// Upper case: an exact filter must not match, a search must.
    Upper,
    /// The empty string: an exact filter that matches only an empty `logical_id`; a server that
    /// takes an empty value for no filter (`if logical_id:`) lists the other filters' matches.
    Empty,
}

/// Where a search's text comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SearchIn {
    /// Text found only in `logical_id`.
    LogicalId,
    /// Text found only in `description`.
    Description,
    /// The `logical_id` text in upper case.
    Upper,
    /// The `logical_id` text with its separator replaced by `.`: a regular expression matches
    /// the record, a substring search does not.
    RegexDot,
}

/// An inclusive time bound made from a record's `created_at`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bound {
    Exact,
    MicroBefore,
    MicroAfter,
    /// The same instant written at +05:30.
    East,
    /// The same instant written at -08:00.
    West,
    /// Without an offset: UTC.
    Naive,
    /// Whole Unix seconds, at or before the instant.
    UnixFloor,
    /// Whole Unix seconds, after the instant.
    UnixNext,
    /// The record's `updated_at`, as returned: after an update, later than its `created_at`, so
    /// a server that bounds the wrong timestamp lists or leaves out the wrong records.
    UpdatedAt,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PageAt {
    First,
    Nth(u64),
    /// The last page, often partial.
    Last,
    /// The page after the last: empty, `total` still all matches.
    BeyondEnd,
    /// A page whose offset does not fit 64 bits.
    Huge(&'static str),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Paging {
    /// No `size`, no `page`: the spec's defaults (`list.defaults`).
    Defaults,
    Page {
        size: u64,
        at: PageAt,
    },
}

/// A list query; each filter's value is computed from the model when it is sent.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryPlan {
    pub logical_id: Option<(usize, Variant)>,
    pub search: Option<(usize, SearchIn)>,
    /// (selected = 0 / counter = 1, which of the sequence's ids, upper case)
    pub workflow: Option<(usize, usize, bool)>,
    pub status: Option<String>,
    pub start: Option<(usize, Bound)>,
    pub end: Option<(usize, Bound)>,
    pub paging: Paging,
}

/// Credentials that must not reach a record: another team's key or a refused one.
#[derive(Debug, Clone, PartialEq)]
pub enum Intruder {
    OtherTeam,
    Refused(Refusal),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Create(Box<CreatePlan>),
    /// A create whose body is this many bytes ([`JUST_UNDER_LIMIT`] or [`AT_LIMIT`]: must be
    /// served), or, when `None`, with a description of [`OVER_LIMIT_DESCRIPTION`] bytes (413 or
    /// served); deleted at once so lists stay small.
    CreateLarge(Option<usize>),
    Get(Pick),
    List(Box<QueryPlan>),
    Update(Pick, PatchPlan),
    Delete(Pick),
    /// The operation with the intruder's credentials, then a read with the run's key: the
    /// record is as it was.
    Intrude(Pick, Operation, Intruder),
    /// Two PATCHes of different fields in flight at once: both changes survive.
    RaceUpdates(Pick, &'static str, String),
    /// A PATCH and a DELETE in flight at once: whichever ran first, the record is gone.
    RaceUpdateDelete(Pick, &'static str),
    /// Creates in flight at once, then a list of them: all listed, `total` their count.
    Burst(usize),
    /// Waits [`CLOCK_GAP`], so the next write must move `updated_at`.
    Pause,
    /// The other team creates a record; the operation with the run's key finds nothing
    /// (`tenancy.item`), and the other team reads it back unchanged and deletes it (and any
    /// duplicate a retried create made).
    Foreign(Operation),
}

impl Command {
    /// How many creates the command sends at most, for `--max-creates`: the other team's and
    /// a refused key's count too (a faulty server may store what it should refuse).
    pub fn creates(&self) -> u64 {
        match self {
            Command::Create(_)
            | Command::CreateLarge(_)
            | Command::Foreign(_)
            | Command::Intrude(_, Operation::Create, _) => 1,
            Command::Burst(n) => *n as u64,
            _ => 0,
        }
    }

    /// Whether the command sends requests at once, whose outcome (and list order) depends on
    /// timing: a comparison of two servers request by request has to leave it out.
    pub fn is_concurrent(&self) -> bool {
        matches!(
            self,
            Command::RaceUpdates(..) | Command::RaceUpdateDelete(..) | Command::Burst(_)
        )
    }
}

impl std::fmt::Display for Pick {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Pick::Record(i) => write!(f, "record #{i}"),
            Pick::Unknown(id) => write!(f, "unknown id {id}"),
            Pick::NotHex(id) => write!(f, "non-hex id {id}"),
        }
    }
}

/// A sequence's commands as people read them in a finding: values as JSON writes them,
/// `(absent)` for a field left out, never the plan's Rust debug text.
impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Text::Word(word) => write!(f, "word {}", quoted(word)),
            Text::Absent => f.write_str(ABSENT),
            Text::Null => f.write_str("null"),
            Text::Empty => f.write_str("\"\""),
            Text::Padded => f.write_str("the tag inside spaces"),
            Text::Long => f.write_str("over 4 KiB"),
            Text::Planes => f.write_str("a character of each Unicode plane"),
            Text::SameAs(i) => write!(f, "record #{i}'s logical_id"),
        }
    }
}

impl std::fmt::Display for PatchValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PatchValue::Absent => f.write_str(ABSENT),
            PatchValue::Null => f.write_str("null"),
            PatchValue::Empty => f.write_str("\"\""),
            PatchValue::Valid(v) => f.write_str(&crate::checks::compact(v)),
            PatchValue::Invalid(v) => write!(f, "{} (invalid)", crate::checks::compact(v)),
        }
    }
}

impl Variant {
    fn describe(self) -> &'static str {
        match self {
            Variant::Exact => "exactly",
            Variant::Prefix => "one character short",
            Variant::Suffix => "without its first character",
            Variant::Upper => "in upper case",
            Variant::Empty => "empty",
        }
    }
}

impl SearchIn {
    fn describe(self) -> &'static str {
        match self {
            SearchIn::LogicalId => "its logical_id's text",
            SearchIn::Description => "its description's text",
            SearchIn::Upper => "its logical_id's text in upper case",
            SearchIn::RegexDot => "its logical_id's text with `.` for the separator",
        }
    }
}

impl Bound {
    fn describe(self) -> &'static str {
        match self {
            Bound::Exact => "",
            Bound::MicroBefore => " - 1 µs",
            Bound::MicroAfter => " + 1 µs",
            Bound::East => " at +05:30",
            Bound::West => " at -08:00",
            Bound::Naive => " without an offset",
            Bound::UnixFloor => " in Unix seconds, rounded down",
            Bound::UnixNext => " in Unix seconds, the next second",
            Bound::UpdatedAt => ", its updated_at instead",
        }
    }
}

impl std::fmt::Display for Paging {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Paging::Defaults => f.write_str("default paging"),
            Paging::Page { size, at } => match at {
                PageAt::First => write!(f, "page 1 of size {size}"),
                PageAt::Nth(n) => write!(f, "page {n} of size {size}"),
                PageAt::Last => write!(f, "the last page of size {size}"),
                PageAt::BeyondEnd => write!(f, "the page after the last, of size {size}"),
                PageAt::Huge(page) => write!(f, "page {page} of size {size}"),
            },
        }
    }
}

impl QueryPlan {
    /// The filters set, then the paging: `logical_id of record #1 exactly, page 2 of size 3`.
    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some((i, variant)) = self.logical_id {
            parts.push(format!("logical_id of record #{i} {}", variant.describe()));
        }
        if let Some((i, from)) = self.search {
            parts.push(format!(
                "search for record #{i}'s text: {}",
                from.describe()
            ));
        }
        if let Some((which, index, upper)) = self.workflow {
            parts.push(format!(
                "{} workflow #{index}{}",
                if which == 0 { "selected" } else { "counter" },
                if upper { " in upper case" } else { "" }
            ));
        }
        if let Some(status) = &self.status {
            parts.push(format!("status {}", quoted(status)));
        }
        for (name, bound) in [("start", self.start), ("end", self.end)] {
            if let Some((i, bound)) = bound {
                parts.push(format!(
                    "{name} at record #{i}'s created_at{}",
                    bound.describe()
                ));
            }
        }
        parts.push(self.paging.to_string());
        parts.join(", ")
    }
}

/// A refused credential as it is sent (the run's key never: it is resolved only when sent).
fn describe_auth(auth: &Auth) -> String {
    use crate::request::{Alteration, Elsewhere};
    match auth {
        Auth::None => "no Authorization header".to_owned(),
        Auth::Literal(value) => format!("Authorization {}", quoted(value)),
        Auth::KeyElsewhere(Elsewhere::Header(name)) => {
            format!("the run's key in the {name} header")
        }
        Auth::KeyElsewhere(Elsewhere::Query(name)) => {
            format!("the run's key in the query parameter {name}")
        }
        Auth::KeyAltered(alteration) => format!(
            "the run's key {}",
            match alteration {
                Alteration::OtherCase => "in the other letter case",
                Alteration::LastChanged => "with its last character changed",
                Alteration::Prefix => "without its last character",
                Alteration::Suffixed => "with a suffix",
            }
        ),
        Auth::Primary | Auth::PrimaryRespelled { .. } => "the run's key".to_owned(),
        Auth::OtherTeam => "the other team's key".to_owned(),
    }
}

impl Command {
    /// One line saying what the command does, for a finding's sequence.
    pub fn describe(&self) -> String {
        match self {
            Command::Create(c) => {
                let workflow = |w: Option<usize>| or_absent(w.map(|i| format!("#{i}")));
                let mut line = format!(
                    "create: logical_id {}, description {}, status {}, selected workflow {}, counter workflow {}",
                    c.logical_id,
                    c.description,
                    quoted_or_absent(c.status.as_deref()),
                    workflow(c.workflows[0]),
                    workflow(c.workflows[1])
                );
                if c.falsy {
                    line.push_str(", every integer 0 and boolean false");
                }
                if let Some((at, value)) = &c.probe {
                    line.push_str(&format!(", unspecified {at} = {value}"));
                }
                line
            }
            Command::CreateLarge(None) => {
                format!("create with a {OVER_LIMIT_DESCRIPTION}-byte description, then delete it")
            }
            Command::CreateLarge(Some(size)) => {
                format!("create with a {size}-byte body, then delete it")
            }
            Command::Get(pick) => format!("get {pick}"),
            Command::List(q) => format!("list: {}", q.describe()),
            Command::Update(pick, p) => format!(
                "update {pick}: description {}, status {}, ignored keys {}",
                p.description,
                p.status,
                list(p.ignored.iter().map(|(k, _)| k.as_str()))
            ),
            Command::Delete(pick) => format!("delete {pick}"),
            Command::Intrude(pick, operation, who) => {
                let who = match who {
                    Intruder::OtherTeam => "the other team's key".to_owned(),
                    Intruder::Refused(r) => describe_auth(&r.auth),
                };
                format!("{} {pick} with {who}, then read it back", operation.id())
            }
            Command::RaceUpdates(pick, word, status) => format!(
                "update {pick}'s description ({}) and status ({status}) at once, then read it back",
                quoted(word)
            ),
            Command::RaceUpdateDelete(pick, word) => {
                format!(
                    "update {pick}'s description ({}) while deleting it, then get it",
                    quoted(word)
                )
            }
            Command::Burst(n) => format!("{n} creates at once, then list them"),
            Command::Pause => format!("wait {} ms", CLOCK_GAP.as_millis()),
            Command::Foreign(operation) => format!(
                "the other team creates a record; {} it with the run's key; the other team reads and deletes it",
                operation.id()
            ),
        }
    }
}

impl MachinePlan {
    pub fn creates(&self) -> u64 {
        self.commands.iter().map(Command::creates).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_sequence_reads_as_text_not_rust_debug() {
        let create = CreatePlan {
            body: Accepted {
                sent: json!({}),
                stored: json!({}),
            },
            probe: None,
            logical_id: Text::Word("ab"),
            description: Text::Absent,
            status: Some("pending".into()),
            workflows: [Some(0), None],
            falsy: false,
        };
        assert_eq!(
            Command::Create(Box::new(create)).describe(),
            "create: logical_id word \"ab\", description (absent), status \"pending\", selected workflow #0, counter workflow (absent)"
        );
        let query = QueryPlan {
            logical_id: Some((1, Variant::Prefix)),
            search: None,
            workflow: Some((1, 0, true)),
            status: None,
            start: Some((0, Bound::MicroAfter)),
            end: None,
            paging: Paging::Page {
                size: 3,
                at: PageAt::Nth(2),
            },
        };
        assert_eq!(
            Command::List(Box::new(query)).describe(),
            "list: logical_id of record #1 one character short, counter workflow #0 in upper case, start at record #0's created_at + 1 µs, page 2 of size 3"
        );
        let patch = PatchPlan {
            description: PatchValue::Valid(json!("x y")),
            status: PatchValue::Null,
            ignored: vec![("x-unknown".into(), json!(true))],
        };
        assert_eq!(
            Command::Update(Pick::Record(2), patch).describe(),
            "update record #2: description \"x y\", status null, ignored keys x-unknown"
        );
        let refused = Intruder::Refused(Refusal {
            auth: Auth::Literal("Token abc".into()),
            detail: "Not authenticated",
        });
        assert_eq!(
            Command::Intrude(Pick::Record(0), Operation::Get, refused).describe(),
            "get_simulation record #0 with Authorization \"Token abc\", then read it back"
        );
    }
}
