//! The model-based state machine: random sequences of commands over the whole API (creates, reads, lists, updates, deletes, refused and foreign keys, races), each response judged against a model of the records the sequence created.
//!
//! A command names the records it acts on by index into the model, so it stays meaningful when
//! shrinking drops the commands before it; an index past the end wraps, and an empty model
//! turns a record into an id nobody has. Every value that separates a correct server from its
//! nearest wrong ones is drawn on purpose, and each strategy's doc says which wrong server it
//! is for. What a command expects is computed from the model just before it is sent, so a
//! server that went wrong early is reported at the first response that shows it.
//!
//! Lists are judged exactly when a filter scopes them to this sequence (a value holding its
//! nonce, or one of its own workflow ids); otherwise only soundly: what is listed matches, in
//! order, and nothing the sequence deleted is there.

use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset, SecondsFormat, TimeDelta, Utc};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Value, json};

use super::refused::{Refusal, arb_refusal};
use super::{Exec, Scenario, arb_nonce, arb_unknown_id, sim_id};
use crate::coverage;
use crate::exchange::{Auth, Exercise, Expect, Locus, exercise};
use crate::listing::{
    self, COUNTER_WORKFLOW_FIELD, ListExpectation, ListFilter, SELECTED_WORKFLOW_FIELD, created_at,
    page_size, sort_newest_first,
};
use crate::pointer;
use crate::rules::Rule;
use crate::spec::{Kind, Operation, Spec, percent_encode};
use crate::text::{ABSENT, list, or_absent, quoted, quoted_or_absent};
use crate::values::{
    Accepted, arb_accepted_object, arb_canonical, arb_hex_id, arb_rejected, plain_object,
};

/// How long the sequence waits before a write whose `updated_at` must then be strictly later
/// than the record's last one: far past a coarse (millisecond) server clock and the clock skew
/// between a service's instances, so a tie is a server that did not move the timestamp.
pub const CLOCK_GAP: Duration = Duration::from_millis(60);

/// The size of a create body just under the 1 MiB over which a server may refuse it
/// (`body.too-large`), by a margin no framing changes: a server whose limit is smaller (10^6
/// bytes for "1 MB", say) refuses it.
const JUST_UNDER_LIMIT: usize = 1024 * 1024 - 64;

/// A create body of exactly 1 MiB: not over the limit, so it must be served; a server that
/// refuses at the limit (`>=` for `>`) does not.
const AT_LIMIT: usize = 1024 * 1024;

/// Past the 1 MiB over which a server may answer 413 instead.
const OVER_LIMIT_DESCRIPTION: usize = 1024 * 1024 + 64 * 1024;

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
    use crate::exchange::{Alteration, Elsewhere};
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

/// Words of `logical_id`s: `a` is a prefix of `ab`, `A` its case variant, `a.b` what the regular
/// expression `a.b` also finds in `a+b`.
const ID_WORDS: [&str; 6] = ["a", "ab", "b", "A", "a.b", "a+b"];
/// Words of descriptions, with metacharacters a regular-expression search misreads.
const DESCRIPTION_WORDS: [&str; 5] = ["x", "x y", "X.Y", "x+y", "(z)*"];
/// Pages past any offset a 64-bit integer holds, and past a 64-bit page number itself.
const HUGE_PAGES: [&str; 2] = ["184467440737095517", "100000000000000000000000"];

pub(super) fn arb_machine(spec: &Spec) -> impl Strategy<Value = Scenario> + use<> {
    // Names that only keep the sequence apart from others: shrinking them would spend the
    // shrink budget on nothing, so the commands shrink and these do not.
    let workflow_id = arb_hex_id(super::listing::workflow_id_bounds(spec)).no_shrink();
    (
        // Every command but a pause sends a request (even with no record to act on): a
        // sequence of pauses alone asserts nothing, and would count as a judged case.
        proptest::collection::vec(arb_command(spec), 1..10)
            .prop_filter("a sequence sends a request", |commands| {
                commands.iter().any(|c| !matches!(c, Command::Pause))
            }),
        arb_nonce().no_shrink(),
        workflow_id.clone(),
        workflow_id,
        arb_unknown_id(spec).no_shrink(),
    )
        .prop_map(|(commands, nonce, a, b, unknown_id)| {
            Scenario::Machine(MachinePlan {
                nonce,
                workflow_ids: [a, b],
                unknown_id,
                commands,
            })
        })
}

/// Creates weigh most, so later commands have records to act on.
fn arb_command(spec: &Spec) -> BoxedStrategy<Command> {
    let statuses = super::listing::statuses(spec);
    prop_oneof![
        6 => arb_create(spec).prop_map(|c| Command::Create(Box::new(c))),
        1 => prop_oneof![
            3 => Just(None),
            4 => Just(Some(JUST_UNDER_LIMIT)),
            3 => Just(Some(AT_LIMIT)),
        ]
        .prop_map(Command::CreateLarge),
        3 => arb_pick(spec).prop_map(Command::Get),
        6 => arb_query(spec).prop_map(|q| Command::List(Box::new(q))),
        5 => (arb_pick(spec), arb_patch_plan(spec)).prop_map(|(p, u)| Command::Update(p, u)),
        2 => arb_pick(spec).prop_map(Command::Delete),
        2 => (
            arb_pick(spec),
            select(Operation::ALL.to_vec()),
            prop_oneof![Just(Intruder::OtherTeam), arb_refusal().prop_map(Intruder::Refused)],
        )
            .prop_map(|(p, o, i)| Command::Intrude(p, o, i)),
        1 => (arb_record(), select(DESCRIPTION_WORDS.to_vec()), select(statuses))
            .prop_map(|(i, w, s)| Command::RaceUpdates(Pick::Record(i), w, s)),
        1 => (arb_record(), select(DESCRIPTION_WORDS.to_vec()))
            .prop_map(|(i, w)| Command::RaceUpdateDelete(Pick::Record(i), w)),
        // Past 10 records a burst's default-size list tells a page of 100 from one of 10.
        1 => prop_oneof![3 => 2usize..6, 1 => 11usize..13].prop_map(Command::Burst),
        3 => Just(Command::Pause),
        1 => select(vec![Operation::Get, Operation::Update, Operation::Delete]).prop_map(Command::Foreign),
    ]
    .boxed()
}

fn arb_record() -> impl Strategy<Value = usize> {
    0usize..8
}

/// Mostly the sequence's records; sometimes an id nobody has, hex or not.
fn arb_pick(spec: &Spec) -> BoxedStrategy<Pick> {
    let length = spec.api.id().length_bounds().unwrap_or_default();
    let (min, max) = crate::values::id_lengths(length);
    let not_hex =
        proptest::string::string_regex(&format!("[g-z]{{{min},{max}}}")).expect("a valid pattern");
    prop_oneof![
        8 => arb_record().prop_map(Pick::Record),
        1 => arb_unknown_id(spec).prop_map(Pick::Unknown),
        1 => not_hex.prop_map(Pick::NotHex),
    ]
    .boxed()
}

fn arb_text_choice(words: &'static [&'static str], same_as: bool) -> BoxedStrategy<Text> {
    let mut options: Vec<(u32, BoxedStrategy<Text>)> = vec![
        (8, select(words.to_vec()).prop_map(Text::Word).boxed()),
        (1, Just(Text::Absent).boxed()),
        (1, Just(Text::Null).boxed()),
        (1, Just(Text::Empty).boxed()),
        (1, Just(Text::Padded).boxed()),
        (1, Just(Text::Long).boxed()),
        (1, Just(Text::Planes).boxed()),
    ];
    if same_as {
        options.push((2, arb_record().prop_map(Text::SameAs).boxed()));
    }
    proptest::strategy::Union::new_weighted(options).boxed()
}

/// A valid create: the body's other fields canonical or lax, sometimes one unspecified value,
/// sometimes every number 0 and every boolean false.
fn arb_create(spec: &Spec) -> BoxedStrategy<CreatePlan> {
    let statuses = super::listing::statuses(spec);
    let probe_fields: Vec<BoxedStrategy<(String, Value)>> = spec
        .create_body
        .fields
        .iter()
        .filter_map(|f| {
            let at = pointer::child("", &f.name);
            crate::values::arb_unspecified(&f.kind)
                .map(|s| s.prop_map(move |v| (at.clone(), v)).boxed())
        })
        .collect();
    let probe = if probe_fields.is_empty() {
        Just(None).boxed()
    } else {
        proptest::option::weighted(0.15, proptest::strategy::Union::new(probe_fields)).boxed()
    };
    (
        arb_accepted_object(spec.create_body.clone()),
        probe,
        arb_text_choice(&ID_WORDS, true),
        arb_text_choice(&DESCRIPTION_WORDS, false),
        proptest::option::weighted(0.7, select(statuses)),
        [
            proptest::option::weighted(0.6, 0usize..2),
            proptest::option::weighted(0.6, 0usize..2),
        ],
        proptest::bool::weighted(0.15),
    )
        .prop_map(
            |(body, probe, logical_id, description, status, workflows, falsy)| CreatePlan {
                body,
                probe,
                logical_id,
                description,
                status,
                workflows,
                falsy,
            },
        )
        .boxed()
}

/// A PATCH: each updatable field absent, null, empty, valid or invalid, plus keys it ignores.
fn arb_patch_plan(spec: &Spec) -> BoxedStrategy<PatchPlan> {
    let kind_of = |name: &str| {
        spec.update_body.field(name).map_or(
            Kind::String {
                min_len: None,
                max_len: None,
            },
            |f| f.kind.clone(),
        )
    };
    let field = |kind: Kind| {
        prop_oneof![
            3 => Just(PatchValue::Absent),
            1 => Just(PatchValue::Null),
            1 => Just(PatchValue::Empty),
            4 => arb_canonical(&kind).prop_map(|a| PatchValue::Valid(a.sent)),
            1 => arb_rejected(&kind).prop_map(|(_, v)| PatchValue::Invalid(v)),
        ]
    };
    let mut ignored = super::lifecycle::arb_ignored_keys(spec);
    ignored.push(Just(("x-unknown".to_owned(), json!(true))).boxed());
    (
        field(kind_of("description")),
        field(kind_of("status")),
        proptest::collection::vec(proptest::strategy::Union::new(ignored), 0..3),
    )
        .prop_map(|(description, status, ignored)| PatchPlan {
            description,
            status,
            ignored,
        })
        .boxed()
}

fn arb_variant() -> impl Strategy<Value = Variant> {
    select(vec![
        Variant::Exact,
        Variant::Exact,
        Variant::Prefix,
        Variant::Prefix,
        Variant::Suffix,
        Variant::Upper,
        Variant::Empty,
    ])
}

fn arb_bound() -> impl Strategy<Value = Bound> {
    select(vec![
        Bound::Exact,
        Bound::MicroBefore,
        Bound::MicroAfter,
        Bound::East,
        Bound::West,
        Bound::Naive,
        Bound::UnixFloor,
        // After the instant: the one bound that a reading in milliseconds (or one ignoring
        // numbers) gets wrong as `start` and as `end` alike.
        Bound::UnixNext,
        Bound::UnixNext,
        Bound::UpdatedAt,
        Bound::UpdatedAt,
    ])
}

/// Page sizes around the spec's smallest; pages at both ends of the window and past it.
fn arb_paging(spec: &Spec) -> BoxedStrategy<Paging> {
    let api = spec.api.clone();
    prop_oneof![
        2 => Just(Paging::Defaults),
        3 => (
            1u64..5,
            prop_oneof![
                Just(PageAt::First),
                (2u64..4).prop_map(PageAt::Nth),
                Just(PageAt::Last),
                Just(PageAt::BeyondEnd),
                select(HUGE_PAGES.to_vec()).prop_map(PageAt::Huge),
            ]
        )
            .prop_map(move |(size, at)| Paging::Page {
                size: page_size(&api, size),
                at
            }),
    ]
    .boxed()
}

/// A list query: filters drawn independently, so they combine (`list.and`).
fn arb_query(spec: &Spec) -> BoxedStrategy<QueryPlan> {
    let statuses = super::listing::statuses(spec);
    (
        proptest::option::weighted(0.5, (arb_record(), arb_variant())),
        proptest::option::weighted(
            0.5,
            (
                arb_record(),
                select(vec![
                    SearchIn::LogicalId,
                    SearchIn::Description,
                    SearchIn::Description,
                    SearchIn::Upper,
                    SearchIn::RegexDot,
                    SearchIn::RegexDot,
                ]),
            ),
        ),
        proptest::option::weighted(0.3, (0usize..2, 0usize..2, proptest::bool::weighted(0.2))),
        proptest::option::weighted(0.25, select(statuses)),
        proptest::option::weighted(0.35, (arb_record(), arb_bound())),
        proptest::option::weighted(0.35, (arb_record(), arb_bound())),
        arb_paging(spec),
    )
        .prop_map(
            |(logical_id, search, workflow, status, start, end, paging)| QueryPlan {
                logical_id,
                search,
                workflow,
                status,
                start,
                end,
                paging,
            },
        )
        .boxed()
}

/// A record as the model expects the server to hold it.
#[derive(Debug, Clone)]
struct Record {
    id: String,
    sim: Value,
    live: bool,
    /// An update of it was answered: a read shows whether it was stored (`update.persisted`).
    updated: bool,
    /// When the response of the record's last write arrived.
    written: Instant,
}

/// The sequence's view of the caller's team: the records it created, in creation order.
#[derive(Debug, Default)]
struct Model {
    records: Vec<Record>,
}

impl Model {
    fn record(&self, index: usize) -> Option<&Record> {
        (!self.records.is_empty()).then(|| &self.records[index % self.records.len()])
    }

    fn deleted_ids(&self) -> Vec<String> {
        self.records
            .iter()
            .filter(|r| !r.live)
            .map(|r| r.id.clone())
            .collect()
    }

    fn all_ids(&self) -> Vec<String> {
        self.records.iter().map(|r| r.id.clone()).collect()
    }

    /// The live records a filter matches, newest first.
    fn matching(&self, filter: &ListFilter) -> Vec<Value> {
        let mut sims: Vec<Value> = self
            .records
            .iter()
            .filter(|r| r.live && filter.matches(&r.sim))
            .map(|r| r.sim.clone())
            .collect();
        sort_newest_first(&mut sims);
        sims
    }
}

/// The config field a record's text lives in.
fn config_text(sim: &Value, at: &str) -> Option<String> {
    sim["simulation_config"]
        .pointer(at)
        .and_then(Value::as_str)
        .map(str::to_owned)
}

struct Machine<'p> {
    plan: &'p MachinePlan,
    tag: String,
    model: Model,
}

pub(super) async fn run(x: &mut Exec<'_>, plan: &MachinePlan) {
    let mut machine = Machine {
        plan,
        tag: x.tag(&plan.nonce),
        model: Model::default(),
    };
    for command in &plan.commands {
        machine.step(x, command).await;
    }
}

impl Machine<'_> {
    async fn step(&mut self, x: &mut Exec<'_>, command: &Command) {
        match command {
            Command::Create(plan) => {
                self.create(x, plan).await;
            }
            Command::CreateLarge(size) => self.create_large(x, *size).await,
            Command::Get(pick) => self.get(x, pick).await,
            Command::List(query) => self.list(x, query).await,
            Command::Update(pick, patch) => self.update(x, pick, patch).await,
            Command::Delete(pick) => self.delete(x, pick).await,
            Command::Intrude(pick, operation, intruder) => {
                self.intrude(x, pick, *operation, intruder).await;
            }
            Command::RaceUpdates(pick, word, status) => {
                self.race_updates(x, pick, word, status).await;
            }
            Command::RaceUpdateDelete(pick, word) => self.race_update_delete(x, pick, word).await,
            Command::Burst(n) => self.burst(x, *n).await,
            Command::Pause => tokio::time::sleep(CLOCK_GAP).await,
            Command::Foreign(operation) => self.foreign(x, *operation).await,
        }
    }

    fn text(&self, choice: &Text, separator: char) -> Option<Value> {
        let tag = &self.tag;
        Some(match choice {
            Text::Word(word) => json!(format!("{tag}{separator}{word}")),
            Text::Absent => return None,
            Text::Null => Value::Null,
            Text::Empty => json!(""),
            Text::Padded => json!(format!("  {tag}{separator}x \t")),
            Text::Long => json!(format!("{tag}{separator}{}", "long ".repeat(900))),
            Text::Planes => json!(format!(
                "{tag}{separator}a\u{e9}\u{4e2d}\u{1F600}\u{20000}\u{30000}\u{40000}\u{50000}\u{60000}\u{70000}\u{80000}\u{90000}\u{A0000}\u{B0000}\u{C0000}\u{D0000}\u{E0041}\u{F0000}\u{10FFFD}"
            )),
            Text::SameAs(i) => match self
                .model
                .record(*i)
                .and_then(|r| config_text(&r.sim, listing::LOGICAL_ID_FIELD))
            {
                Some(earlier) => json!(earlier),
                None => json!(format!("{tag}{separator}a")),
            },
        })
    }

    /// The body to send and the config the server must store for it.
    fn create_body(&self, x: &Exec<'_>, plan: &CreatePlan) -> (Value, Value) {
        let mut sent = plan.body.sent.clone();
        let mut stored = plan.body.stored.clone();
        let default_of = |key: &str| {
            x.spec
                .create_body
                .field(key)
                .map_or(Value::Null, crate::spec::ObjectModel::default_of)
        };
        for (key, value) in [
            ("logical_id", self.text(&plan.logical_id, '-')),
            ("description", self.text(&plan.description, ' ')),
        ] {
            match value {
                Some(v) => {
                    sent[key] = v.clone();
                    stored[key] = v;
                }
                None => {
                    if let Some(object) = sent.as_object_mut() {
                        object.remove(key);
                    }
                    stored[key] = default_of(key);
                }
            }
        }
        if let Some(status) = &plan.status {
            sent["status"] = json!(status);
            stored["status"] = json!(status);
        }
        for (at, choice) in [
            (SELECTED_WORKFLOW_FIELD, plan.workflows[0]),
            (COUNTER_WORKFLOW_FIELD, plan.workflows[1]),
        ] {
            if let Some(w) = choice {
                // The workflow object may be absent from the drawn body: give it one.
                let parent = at.rsplit_once('/').map_or("", |p| p.0);
                if !sent.pointer(parent).is_some_and(Value::is_object) {
                    pointer::set(&mut sent, parent, json!({}));
                }
                pointer::set(&mut sent, at, json!(self.plan.workflow_ids[w]));
                pointer::set(&mut stored, at, json!(self.plan.workflow_ids[w]));
            }
        }
        if plan.falsy {
            for field in &x.spec.create_body.fields {
                let falsy = match field.kind {
                    Kind::Integer => json!(0),
                    Kind::Boolean => json!(false),
                    _ => continue,
                };
                sent[&field.name] = falsy.clone();
                stored[&field.name] = falsy;
            }
        }
        (sent, stored)
    }

    async fn create(&mut self, x: &mut Exec<'_>, plan: &CreatePlan) -> Option<String> {
        let (mut sent, stored) = self.create_body(x, plan);
        let expect = match &plan.probe {
            Some((at, value)) => {
                pointer::set(&mut sent, at, value.clone());
                Expect::Probe {
                    pointer: at.clone(),
                    value: value.clone(),
                }
            }
            None => Expect::Accept {
                sent: sent.clone(),
                stored: stored.clone(),
            },
        };
        let probed = plan.probe.is_some();
        let response = x.send(x.spec.api.create(sent), expect).await?;
        let mut sim = response["simulation"].clone();
        // What must be stored is the prediction; an unspecified value is whatever the create
        // answered, and must read back the same.
        if !probed {
            let answered = std::mem::replace(&mut sim["simulation_config"], stored);
            // A field the suite cannot model has no prediction: whatever the create answered
            // (the response schema judged it) must read back the same.
            // (Only under an object the prediction holds: where it predicts null, say, the
            // create's answer is already judged wrong and the prediction stays as it is.)
            for (at, _) in x.spec.create_body.unmodelled_paths() {
                let parent = &at[..at.rfind('/').unwrap_or(0)];
                let config = &mut sim["simulation_config"];
                if let Some(value) = answered.pointer(&at)
                    && config.pointer(parent).is_some_and(Value::is_object)
                {
                    pointer::set(config, &at, value.clone());
                }
            }
        }
        let id = sim_id(&sim);
        self.model.records.push(Record {
            id: id.clone(),
            sim,
            live: true,
            updated: false,
            written: Instant::now(),
        });
        Some(id)
    }

    async fn create_large(&mut self, x: &mut Exec<'_>, size: Option<usize>) {
        let logical_id = format!("{}-large", self.tag);
        let over_limit = size.is_none();
        let sent = if let Some(size) = size {
            // Filled up to exactly `size` bytes as sent (an `x` is one byte in JSON).
            let bare = json!({"logical_id": logical_id, "description": format!("{} ", self.tag)});
            let used = serde_json::to_vec(&bare).map_or(0, |b| b.len());
            let description = format!("{} {}", self.tag, "x".repeat(size.saturating_sub(used)));
            json!({"logical_id": logical_id, "description": description})
        } else {
            let description = format!("{} {}", self.tag, "x".repeat(OVER_LIMIT_DESCRIPTION));
            json!({"logical_id": logical_id, "description": description})
        };
        let mut stored = x.spec.create_body.all_defaults();
        stored["logical_id"] = sent["logical_id"].clone();
        stored["description"] = sent["description"].clone();
        let request = x.spec.api.create(sent.clone());
        let expect = if over_limit {
            Expect::OneOf {
                statuses: vec![200, 413],
                because: "a body over 1 MiB may be refused with 413 (body.too-large)",
            }
        } else {
            Expect::Accept { sent, stored }
        };
        let Some(response) = x.send(request, expect).await else {
            return;
        };
        let id = sim_id(&response["simulation"]);
        x.send(x.spec.api.delete(&id), Expect::Success).await;
    }

    /// The id to send for a pick, and the model's record behind it when there is one.
    fn resolve(&self, pick: &Pick) -> (String, Option<usize>) {
        match pick {
            Pick::Record(i) => match self.model.records.len() {
                0 => (self.plan.unknown_id.clone(), None),
                n => (self.model.records[i % n].id.clone(), Some(i % n)),
            },
            Pick::Unknown(id) | Pick::NotHex(id) => (id.clone(), None),
        }
    }

    fn live(&self, index: Option<usize>) -> Option<&Record> {
        index.map(|i| &self.model.records[i]).filter(|r| r.live)
    }

    async fn get(&mut self, x: &mut Exec<'_>, pick: &Pick) {
        let (id, index) = self.resolve(pick);
        let (expect, because) = match self.live(index) {
            Some(r) => (
                Expect::Simulation {
                    expected: r.sim.clone(),
                },
                if r.updated { UPDATED } else { &[][..] },
            ),
            None => (Expect::NotFound, self.deleted(index)),
        };
        x.get_exercising(&id, Auth::Primary, expect, because).await;
    }

    /// `delete.gone` when `index` is a record the sequence deleted.
    fn deleted(&self, index: Option<usize>) -> &'static [Exercise] {
        match index.map(|i| self.model.records[i].live) {
            Some(false) => DELETED,
            _ => &[],
        }
    }

    /// Reads a live record back: it must be exactly as the model holds it.
    async fn read_back(&mut self, x: &mut Exec<'_>, index: Option<usize>, because: &[Exercise]) {
        if let Some(r) = self.live(index) {
            let (id, expected) = (r.id.clone(), r.sim.clone());
            x.get_exercising(&id, Auth::Primary, Expect::Simulation { expected }, because)
                .await;
        }
    }

    fn patch_body(&self, patch: &PatchPlan) -> (Value, Option<&'static str>) {
        let mut body = json!({});
        for (key, value) in &patch.ignored {
            body[key] = value.clone();
        }
        let mut invalid = None;
        for (key, value, is_enum) in [
            ("description", &patch.description, false),
            ("status", &patch.status, true),
        ] {
            let sent = match value {
                PatchValue::Absent => continue,
                PatchValue::Null => Value::Null,
                PatchValue::Empty => json!(""),
                PatchValue::Valid(v) if key == "description" => match v {
                    Value::String(s) => json!(format!("{} {s}", self.tag)),
                    other => other.clone(),
                },
                PatchValue::Valid(v) | PatchValue::Invalid(v) => v.clone(),
            };
            if matches!(value, PatchValue::Invalid(_))
                || (is_enum && matches!(value, PatchValue::Empty))
            {
                invalid.get_or_insert(key);
            }
            body[key] = sent;
        }
        (body, invalid)
    }

    async fn update(&mut self, x: &mut Exec<'_>, pick: &Pick, patch: &PatchPlan) {
        let (id, index) = self.resolve(pick);
        let (body, invalid) = self.patch_body(patch);
        let request = x.spec.api.update(&id, body.clone());
        let Some(record) = self.live(index).cloned() else {
            // An unknown or deleted id: 404, or 422 for an invalid value, which FastAPI checks
            // before the handler looks the id up.
            let expect = match invalid {
                Some(key) => invalid_value(key),
                None => Expect::NotFound,
            };
            x.send_exercising(request, expect, self.deleted(index))
                .await;
            return;
        };
        if let Some(key) = invalid {
            x.send(request, invalid_value(key)).await;
            self.read_back(x, index, REFUSED_UPDATE).await;
            return;
        }
        let strictly_later = record.written.elapsed() >= CLOCK_GAP;
        let expect = Expect::Updated {
            before: record.sim.clone(),
            patch: body.clone(),
            strictly_later,
        };
        if let Some(response) = x.send(request, expect).await {
            let mut sim = record.sim.clone();
            for key in ["description", "status"] {
                if let Some(v) = body.get(key)
                    && x.spec.update_body.field(key).is_some()
                {
                    sim["simulation_config"][key] = v.clone();
                }
            }
            take_write_fields(&mut sim, &response["simulation"]);
            let r = &mut self.model.records[index.expect("a live record has an index")];
            r.sim = sim;
            r.updated = true;
            r.written = Instant::now();
        }
    }

    async fn delete(&mut self, x: &mut Exec<'_>, pick: &Pick) {
        let (id, index) = self.resolve(pick);
        let live = self.live(index).is_some();
        let expect = if live {
            Expect::Success
        } else {
            Expect::NotFound
        };
        if x.send_exercising(x.spec.api.delete(&id), expect, self.deleted(index))
            .await
            .is_some()
            && let Some(i) = index
        {
            self.model.records[i].live = false;
        }
    }

    async fn intrude(
        &mut self,
        x: &mut Exec<'_>,
        pick: &Pick,
        operation: Operation,
        intruder: &Intruder,
    ) {
        let (auth, expect) = match intruder {
            // The other team's creates are `Command::Foreign`'s.
            Intruder::OtherTeam if !x.state.other_team || operation == Operation::Create => {
                return;
            }
            Intruder::OtherTeam => (Auth::OtherTeam, Expect::NotFound),
            Intruder::Refused(refusal) => (
                refusal.auth.clone(),
                Expect::Unauthorized {
                    detail: refusal.detail,
                },
            ),
        };
        let (id, index) = self.resolve(pick);
        let api = &x.spec.api;
        let mut request = match operation {
            Operation::Update => api.update(&id, plain_object(&x.spec.update_body, "intruder")),
            Operation::Delete => api.delete(&id),
            // Refused, so nothing is made: a record with this sequence's nonce would show in
            // its exact lists.
            Operation::Create => {
                api.create(json!({"logical_id": format!("{}-intruder", self.tag)}))
            }
            Operation::List => {
                let filter = ListFilter {
                    search: Some(self.plan.nonce.clone()),
                    ..ListFilter::default()
                };
                let mut request = api.list(&filter.query(page_size(api, 100), 1));
                request.auth = auth.clone();
                let expect = match expect {
                    Expect::NotFound => {
                        Expect::Listed(ListExpectation::empty_without(filter, self.model.all_ids()))
                    }
                    refused => refused,
                };
                x.send(request, expect).await;
                return;
            }
            _ => api.get(&id),
        };
        request.auth = auth;
        x.send(request, expect).await;
        let because = match intruder {
            Intruder::OtherTeam => FOREIGN_KEY_REFUSED,
            Intruder::Refused(_) => KEY_REFUSED,
        };
        self.read_back(x, index, because).await;
    }

    async fn race_updates(&mut self, x: &mut Exec<'_>, pick: &Pick, word: &str, status: &str) {
        let (id, index) = self.resolve(pick);
        let Some(record) = self.live(index).cloned() else {
            return self.get(x, pick).await;
        };
        let description = json!(format!("{} {word}", self.tag));
        let api = &x.spec.api;
        let raced = || Expect::OneOf {
            statuses: vec![200],
            because: RACED,
        };
        let responses = x
            .send_concurrently(
                vec![
                    (
                        api.update(&id, json!({"description": description})),
                        raced(),
                    ),
                    (api.update(&id, json!({"status": status})), raced()),
                ],
                &[],
            )
            .await;
        let mut sim = record.sim.clone();
        sim["simulation_config"]["description"] = description;
        sim["simulation_config"]["status"] = json!(status);
        // Whichever write landed last set `updated_at`: the later of the two answers.
        let last = responses
            .iter()
            .flatten()
            .map(|r| &r["simulation"])
            .max_by_key(|s| created_or_updated(s, "updated_at"));
        if let Some(last) = last {
            take_write_fields(&mut sim, last);
        }
        let r = &mut self.model.records[index.expect("a live record has an index")];
        r.sim = sim;
        r.updated = true;
        r.written = Instant::now();
        self.read_back(x, index, RACED_UPDATES).await;
    }

    async fn race_update_delete(&mut self, x: &mut Exec<'_>, pick: &Pick, word: &str) {
        let (id, index) = self.resolve(pick);
        if self.live(index).is_none() {
            return self.get(x, pick).await;
        }
        let api = &x.spec.api;
        let description = json!({"description": format!("{} {word}", self.tag)});
        x.send_concurrently(
            vec![
                (
                    api.update(&id, description),
                    Expect::OneOf {
                        statuses: vec![200, 404],
                        because: RACED,
                    },
                ),
                (api.delete(&id), Expect::Success),
            ],
            DELETED,
        )
        .await;
        if let Some(i) = index {
            self.model.records[i].live = false;
        }
        x.get_exercising(&id, Auth::Primary, Expect::NotFound, DELETED)
            .await;
    }

    async fn burst(&mut self, x: &mut Exec<'_>, n: usize) {
        let api = &x.spec.api;
        let cases = (0..n)
            .map(|i| {
                let sent =
                    json!({"logical_id": format!("{}-burst{i}", self.tag), "description": "burst"});
                let mut stored = x.spec.create_body.all_defaults();
                stored["logical_id"] = sent["logical_id"].clone();
                stored["description"] = sent["description"].clone();
                (api.create(sent.clone()), Expect::Accept { sent, stored })
            })
            .collect();
        for response in x.send_concurrently(cases, &[]).await.into_iter().flatten() {
            let sim = response["simulation"].clone();
            self.model.records.push(Record {
                id: sim_id(&sim),
                sim,
                live: true,
                updated: false,
                written: Instant::now(),
            });
        }
        let filter = ListFilter {
            search: Some(format!("{}-burst", self.plan.nonce)),
            ..ListFilter::default()
        };
        self.send_list(x, filter, true, Paging::Defaults).await;
    }

    async fn foreign(&mut self, x: &mut Exec<'_>, operation: Operation) {
        if !x.state.other_team {
            return;
        }
        let api = &x.spec.api;
        let mut create = api.create(json!({"logical_id": format!("{}-foreign", self.tag)}));
        create.auth = Auth::OtherTeam;
        let Some(created) = x.send(create, Expect::Success).await else {
            return;
        };
        let created = created["simulation"].clone();
        let id = sim_id(&created);
        let request = match operation {
            Operation::Update => api.update(&id, plain_object(&x.spec.update_body, "foreign")),
            Operation::Delete => api.delete(&id),
            _ => api.get(&id),
        };
        x.send_exercising(request, Expect::NotFound, FOREIGN_RECORD)
            .await;
        let mut read = api.get(&id);
        read.auth = Auth::OtherTeam;
        x.send_exercising(
            read,
            Expect::Simulation { expected: created },
            FOREIGN_KEY_REFUSED,
        )
        .await;
        let mut delete = api.delete(&id);
        delete.auth = Auth::OtherTeam;
        x.send(delete, Expect::Success).await;
        // The run's cleanup holds only the run's key: a second record the other team's create
        // made when its answer was lost and it was retried is found here, by its unique
        // `logical_id`, and deleted with the other team's key.
        let filter = ListFilter {
            logical_id: Some(format!("{}-foreign", self.tag)),
            ..ListFilter::default()
        };
        let mut list = api.list(&filter.query(page_size(api, 100), 1));
        list.auth = Auth::OtherTeam;
        let listed = ListExpectation {
            exact: false,
            ..ListExpectation::empty_without(filter, vec![id])
        };
        let leftovers: Vec<String> = x
            .send(list, Expect::Listed(listed))
            .await
            .and_then(|j| j["simulations"].as_array().cloned())
            .unwrap_or_default()
            .iter()
            .map(sim_id)
            .collect();
        for leftover in leftovers {
            let mut delete = api.delete(&leftover);
            delete.auth = Auth::OtherTeam;
            x.send(delete, Expect::Success).await;
        }
    }

    /// The filter a query plan makes from the model, and whether it scopes the list to this
    /// sequence's records.
    fn filter(&self, query: &QueryPlan) -> (ListFilter, bool) {
        let nonce = &self.plan.nonce;
        let record = |i: usize| self.model.record(i).map(|r| &r.sim);
        let mut filter = ListFilter {
            status: query.status.clone(),
            ..ListFilter::default()
        };
        if let Some((_, Variant::Empty)) = query.logical_id {
            filter.logical_id = Some(String::new());
        } else if let Some((i, variant)) = query.logical_id
            && let Some(text) = record(i).and_then(|s| config_text(s, listing::LOGICAL_ID_FIELD))
            && !text.is_empty()
        {
            filter.logical_id = Some(match variant {
                Variant::Exact => text,
                Variant::Prefix => drop_last(&text),
                Variant::Suffix => text.chars().skip(1).collect(),
                Variant::Upper => text.to_uppercase(),
                Variant::Empty => String::new(),
            });
        }
        if let Some((i, within)) = query.search
            && let Some(sim) = record(i)
        {
            let field = match within {
                SearchIn::Description => "/description",
                _ => listing::LOGICAL_ID_FIELD,
            };
            if let Some(text) = config_text(sim, field)
                && let Some(at) = text.find(nonce.as_str())
            {
                let from_nonce: String = text[at..].chars().take(nonce.len() + 4).collect();
                filter.search = Some(match within {
                    SearchIn::Upper => from_nonce.to_uppercase(),
                    SearchIn::RegexDot => {
                        let mut chars: Vec<char> = from_nonce.chars().collect();
                        if let Some(c) = chars.get_mut(nonce.len()) {
                            *c = '.';
                        }
                        chars.into_iter().collect()
                    }
                    _ => from_nonce,
                });
            }
        }
        if let Some((field, which, upper)) = query.workflow {
            let id = &self.plan.workflow_ids[which];
            let id = if upper { id.to_uppercase() } else { id.clone() };
            if field == 0 {
                filter.selected_workflow_id = Some(id);
            } else {
                filter.counter_workflow_id = Some(id);
            }
        }
        let bound = |plan: Option<(usize, Bound)>| {
            let (i, bound) = plan?;
            time_bound(record(i)?, bound)
        };
        filter.start = bound(query.start);
        filter.end = bound(query.end);
        let holds_nonce = |v: &Option<String>| {
            v.as_ref()
                .is_some_and(|v| v.to_lowercase().contains(&nonce.to_lowercase()))
        };
        let scoped = holds_nonce(&filter.logical_id)
            || holds_nonce(&filter.search)
            || filter.selected_workflow_id.is_some()
            || filter.counter_workflow_id.is_some();
        (filter, scoped)
    }

    async fn list(&mut self, x: &mut Exec<'_>, query: &QueryPlan) {
        let (filter, scoped) = self.filter(query);
        self.send_list(x, filter, scoped, query.paging).await;
    }

    async fn send_list(
        &mut self,
        x: &mut Exec<'_>,
        filter: ListFilter,
        scoped: bool,
        paging: Paging,
    ) {
        let api = &x.spec.api;
        let matching = self.model.matching(&filter);
        let filters = filter.filters();
        let (query, size, page) = match paging {
            Paging::Defaults => {
                let size = api
                    .query_parameter(listing::PAGE_SIZE)
                    .and_then(|p| p.default.as_ref())
                    .and_then(Value::as_u64)
                    .unwrap_or(100);
                (filters.clone(), size, Some(1u64))
            }
            Paging::Page { size, at } => {
                let pages = (matching.len() as u64).div_ceil(size).max(1);
                let (text, page) = match at {
                    PageAt::First => ("1".to_owned(), Some(1)),
                    PageAt::Nth(n) => (n.to_string(), Some(n)),
                    PageAt::Last => (pages.to_string(), Some(pages)),
                    PageAt::BeyondEnd => ((pages + 1).to_string(), Some(pages + 1)),
                    PageAt::Huge(text) => (text.to_owned(), None),
                };
                let paging = format!(
                    "{}={size}&{}={}",
                    listing::PAGE_SIZE,
                    listing::PAGE,
                    percent_encode(&text)
                );
                let query = if filters.is_empty() {
                    paging
                } else {
                    format!("{paging}&{filters}")
                };
                (query, size, page)
            }
        };
        let window: Vec<String> = match page {
            Some(page) => {
                let skip = (page - 1).saturating_mul(size);
                matching
                    .iter()
                    .skip(usize::try_from(skip).unwrap_or(usize::MAX))
                    .take(usize::try_from(size).unwrap_or(usize::MAX))
                    .map(sim_id)
                    .collect()
            }
            None => Vec::new(),
        };
        let expectation = ListExpectation {
            filter,
            exact: scoped,
            expected_ids: window,
            total: matching.len() as u64,
            absent: self.model.deleted_ids(),
        };
        // Over the sequence's own records, a scoped page also shows what each filter left out.
        let mut because = if scoped {
            let live: Vec<Value> = self
                .model
                .records
                .iter()
                .filter(|r| r.live)
                .map(|r| r.sim.clone())
                .collect();
            coverage::exclusions(&expectation.filter, &live)
        } else {
            Vec::new()
        };
        if !expectation.absent.is_empty() {
            because.extend_from_slice(DELETED);
        }
        x.send_exercising(api.list(&query), Expect::Listed(expectation), &because)
            .await;
    }
}

/// Why a racing request may answer more than one status.
const RACED: &str = "as some serial order of the racing requests gives";

/// What a read names beyond what coverage reads off it: the update it follows was stored.
const UPDATED: &[Exercise] = &[exercise(Rule::UpdatePersisted, "read-after-update")];
/// A read after two updates of different fields raced: both must have survived.
const RACED_UPDATES: &[Exercise] = &[exercise(Rule::UpdatePersisted, "concurrent")];
/// The id (or a list's absent ids) were deleted by the sequence.
const DELETED: &[Exercise] = &[exercise(Rule::DeleteGone, coverage::AFTER_DELETE)];
/// A read after a refused update: the refusal changed nothing.
const REFUSED_UPDATE: &[Exercise] = &[
    exercise(Rule::UpdateInvalid, "unchanged-after"),
    exercise(Rule::NeverLost, "after-refused-update"),
];
/// A read after another team's request: it could not touch the record.
const FOREIGN_KEY_REFUSED: &[Exercise] = &[
    exercise(Rule::TenancyItem, "unchanged-after"),
    exercise(Rule::NeverLost, "after-other-team"),
];
/// A read after a refused key's request: it changed nothing.
const KEY_REFUSED: &[Exercise] = &[
    exercise(Rule::AuthRequired, "refused-changed-nothing"),
    exercise(Rule::NeverLost, "after-refused-key"),
];
/// The run's key on another team's record.
const FOREIGN_RECORD: &[Exercise] = &[exercise(Rule::TenancyItem, "own-key-foreign-record")];

/// The 422 for an invalid value at the body's `key`.
fn invalid_value(key: &'static str) -> Expect {
    Expect::Reject {
        mutation: "invalid_update_value",
        pointer: format!("/{key}"),
        status: 422,
        locus: Some(Locus::Exact(vec![json!("body"), json!(key)])),
    }
}

/// A write's own fields, as the server answered them: when and by whom.
fn take_write_fields(sim: &mut Value, answered: &Value) {
    for key in ["updated_at", "updated_by"] {
        if let Some(v) = answered.get(key) {
            sim[key] = v.clone();
        }
    }
}

fn created_or_updated(sim: &Value, key: &str) -> Option<DateTime<Utc>> {
    sim.get(key)
        .and_then(Value::as_str)
        .and_then(listing::parse_query_time)
}

fn drop_last(text: &str) -> String {
    let mut chars = text.chars();
    chars.next_back();
    chars.as_str().to_owned()
}

/// A bound's query text from a record's `created_at`.
fn time_bound(sim: &Value, bound: Bound) -> Option<String> {
    let at = created_at(sim)?;
    let micro = TimeDelta::microseconds(1);
    let rfc = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Micros, true);
    let offset = |seconds: i32| {
        FixedOffset::east_opt(seconds).map(|o| {
            at.with_timezone(&o)
                .to_rfc3339_opts(SecondsFormat::Micros, false)
        })
    };
    Some(match bound {
        Bound::Exact => sim["created_at"].as_str()?.to_owned(),
        Bound::MicroBefore => rfc(at - micro),
        Bound::MicroAfter => rfc(at + micro),
        Bound::East => offset(5 * 3600 + 1800)?,
        Bound::West => offset(-8 * 3600)?,
        Bound::Naive => at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string(),
        Bound::UnixFloor => at.timestamp().to_string(),
        Bound::UnixNext => (at.timestamp() + 1).to_string(),
        Bound::UpdatedAt => sim["updated_at"].as_str()?.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::test_runner::{Config, TestRunner};

    /// Rust's debug text of the plan's types; a value the sequence sends is shown as JSON.
    const DEBUG_MARKS: [&str; 16] = [
        "Some(",
        "None",
        "Word(",
        "SameAs(",
        "Record(",
        "Page {",
        "Huge(",
        "Nth(",
        "Literal(",
        "KeyElsewhere(",
        "KeyAltered(",
        "Valid(",
        "Invalid(",
        "Header(",
        "Exact",
        "[Some",
    ];

    fn spec() -> Spec {
        Spec::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/openapi.json"))
            .unwrap()
    }

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

    #[test]
    fn no_drawn_sequence_shows_rust_debug_text() {
        let spec = spec();
        let mut runner = TestRunner::new(Config {
            cases: 200,
            failure_persistence: None,
            ..Config::default()
        });
        runner
            .run(&arb_machine(&spec), |scenario| {
                let Scenario::Machine(plan) = scenario else {
                    unreachable!("arb_machine draws sequences")
                };
                for command in &plan.commands {
                    let line = command.describe();
                    for mark in DEBUG_MARKS {
                        prop_assert!(!line.contains(mark), "{mark} in {line}");
                    }
                }
                Ok(())
            })
            .unwrap();
    }
}
