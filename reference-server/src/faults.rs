//! The fault catalog: deliberate contract violations the contract suite must be able to detect.

use std::fmt;
use std::str::FromStr;

/// One deliberate contract violation, switched on by [`crate::Config::fault`].
///
/// Each fault is a realistic bug of a different kind, so that a suite which catches all of them
/// checks defaults, response shapes, formats, coercion in both directions, status codes, content
/// types, error shapes, authentication, tenancy, filters, pagination, update and delete.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fault {
    /// `max_events` defaults to 100 instead of 500.
    WrongDefaultMaxEvents,
    /// `updated_by` is left out of every simulation in responses.
    MissingUpdatedBy,
    /// Timestamps are written without a UTC offset.
    NaiveTimestamps,
    /// New ids are `sim-<n>` instead of 24 lowercase hex characters.
    NonObjectIdIds,
    /// A 23-character `workflow_id`/`run_id` is accepted.
    AcceptShortWorkflowId,
    /// Non-integral numbers are accepted for integer fields (truncated).
    AcceptFractionalInt,
    /// Integer fields reject numeric strings such as `"5"`.
    RejectNumericStrings,
    /// `description: null` is rejected on create.
    RejectNullDescription,
    /// 500 when `dynamic_variables` is nested more than three objects/arrays deep.
    CrashOnDeepDynamicVariables,
    /// 500 when `logical_id` contains a character outside the Basic Multilingual Plane.
    CrashOnNonBmpLogicalId,
    /// Create answers 201 instead of 200.
    CreateReturns201,
    /// 404 responses are sent as `text/plain`.
    TextPlain404,
    /// 422 responses carry `detail` as one string instead of a list of errors.
    ValidationDetailString,
    /// A well-formed but unknown API key is accepted (as the first configured key's user).
    AuthNotEnforced,
    /// List shows every team's simulations.
    CrossTeamList,
    /// The `status` list filter is ignored.
    StatusFilterIgnored,
    /// `total` is the length of the page instead of the number of all matches.
    TotalIsPageLength,
    /// PATCH also resets `max_events` to 500.
    PatchResetsMaxEvents,
    /// PATCH answers with the change but does not store it.
    PatchNotPersisted,
    /// DELETE answers 200 but keeps the simulation.
    DeleteNotDeleting,
    /// An explicit `null` is stored as the field's default.
    NullStoredAsDefault,
    /// Unknown top-level keys of the create body are stored and echoed.
    UnknownKeysEchoed,
    /// 405 responses have no `Allow` header.
    MissingAllowHeader,
    /// Lists are sorted oldest first.
    OldestFirst,
    /// `search` is case-sensitive.
    SearchCaseSensitive,
    /// Integers past 64 bits are stored through an `f64`, as a server that reads JSON numbers
    /// into floats would: `99999999999999999999` comes back as `1e20`.
    BigIntegersThroughF64,
}

impl Fault {
    /// Every fault, in catalog order.
    pub const ALL: &'static [Fault] = &[
        Fault::WrongDefaultMaxEvents,
        Fault::MissingUpdatedBy,
        Fault::NaiveTimestamps,
        Fault::NonObjectIdIds,
        Fault::AcceptShortWorkflowId,
        Fault::AcceptFractionalInt,
        Fault::RejectNumericStrings,
        Fault::RejectNullDescription,
        Fault::CrashOnDeepDynamicVariables,
        Fault::CrashOnNonBmpLogicalId,
        Fault::CreateReturns201,
        Fault::TextPlain404,
        Fault::ValidationDetailString,
        Fault::AuthNotEnforced,
        Fault::CrossTeamList,
        Fault::StatusFilterIgnored,
        Fault::TotalIsPageLength,
        Fault::PatchResetsMaxEvents,
        Fault::PatchNotPersisted,
        Fault::DeleteNotDeleting,
        Fault::NullStoredAsDefault,
        Fault::UnknownKeysEchoed,
        Fault::MissingAllowHeader,
        Fault::OldestFirst,
        Fault::SearchCaseSensitive,
        Fault::BigIntegersThroughF64,
    ];

    /// The kebab-case name used by `--fault`.
    pub fn name(&self) -> &'static str {
        match self {
            Fault::WrongDefaultMaxEvents => "wrong-default-max-events",
            Fault::MissingUpdatedBy => "missing-updated-by",
            Fault::NaiveTimestamps => "naive-timestamps",
            Fault::NonObjectIdIds => "non-objectid-ids",
            Fault::AcceptShortWorkflowId => "accept-short-workflow-id",
            Fault::AcceptFractionalInt => "accept-fractional-int",
            Fault::RejectNumericStrings => "reject-numeric-strings",
            Fault::RejectNullDescription => "reject-null-description",
            Fault::CrashOnDeepDynamicVariables => "crash-on-deep-dynamic-variables",
            Fault::CrashOnNonBmpLogicalId => "crash-on-non-bmp-logical-id",
            Fault::CreateReturns201 => "create-returns-201",
            Fault::TextPlain404 => "text-plain-404",
            Fault::ValidationDetailString => "validation-detail-string",
            Fault::AuthNotEnforced => "auth-not-enforced",
            Fault::CrossTeamList => "cross-team-list",
            Fault::StatusFilterIgnored => "status-filter-ignored",
            Fault::TotalIsPageLength => "total-is-page-length",
            Fault::PatchResetsMaxEvents => "patch-resets-max-events",
            Fault::PatchNotPersisted => "patch-not-persisted",
            Fault::DeleteNotDeleting => "delete-not-deleting",
            Fault::NullStoredAsDefault => "null-stored-as-default",
            Fault::UnknownKeysEchoed => "unknown-keys-echoed",
            Fault::MissingAllowHeader => "missing-allow-header",
            Fault::OldestFirst => "oldest-first",
            Fault::SearchCaseSensitive => "search-case-sensitive",
            Fault::BigIntegersThroughF64 => "big-integers-through-f64",
        }
    }

    /// One line saying what the fault breaks.
    pub fn description(&self) -> &'static str {
        match self {
            Fault::WrongDefaultMaxEvents => "an absent max_events is stored as 100 instead of 500",
            Fault::MissingUpdatedBy => "responses leave updated_by out of every simulation",
            Fault::NaiveTimestamps => "created_at/updated_at are written without a UTC offset",
            Fault::NonObjectIdIds => "new ids are `sim-<n>`, not 24 lowercase hex characters",
            Fault::AcceptShortWorkflowId => "a 23-character workflow_id or run_id is accepted",
            Fault::AcceptFractionalInt => "5.5 is accepted (truncated) for integer fields",
            Fault::RejectNumericStrings => "integer fields reject numeric strings such as \"5\"",
            Fault::RejectNullDescription => "create rejects description: null with a 422",
            Fault::CrashOnDeepDynamicVariables => {
                "500 when dynamic_variables is nested more than 3 levels deep"
            }
            Fault::CrashOnNonBmpLogicalId => {
                "500 when logical_id has a character outside the Basic Multilingual Plane"
            }
            Fault::CreateReturns201 => "create answers 201 instead of 200",
            Fault::TextPlain404 => "404 responses are sent with Content-Type text/plain",
            Fault::ValidationDetailString => "422 responses carry detail as a string, not a list",
            Fault::AuthNotEnforced => "an unknown API key is accepted as the first key's user",
            Fault::CrossTeamList => "list shows other teams' simulations",
            Fault::StatusFilterIgnored => "the status query parameter of list is ignored",
            Fault::TotalIsPageLength => "list total is the page length, not the number of matches",
            Fault::PatchResetsMaxEvents => "PATCH also resets max_events to 500",
            Fault::PatchNotPersisted => "PATCH answers with the change but does not store it",
            Fault::DeleteNotDeleting => "DELETE answers 200 but the simulation stays",
            Fault::NullStoredAsDefault => "an explicit null is stored as the field's default",
            Fault::UnknownKeysEchoed => "unknown top-level keys of the create body are echoed",
            Fault::MissingAllowHeader => "405 responses have no Allow header",
            Fault::OldestFirst => "lists are sorted oldest first",
            Fault::SearchCaseSensitive => "the search filter is case-sensitive",
            Fault::BigIntegersThroughF64 => {
                "integers past 64 bits are stored rounded through an f64 (1e20 for 99999999999999999999)"
            }
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A `--fault` name that is not in the catalog.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown fault `{0}`; `--list-faults` shows the catalog")]
pub struct UnknownFault(pub String);

impl FromStr for Fault {
    type Err = UnknownFault;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Fault::ALL
            .iter()
            .copied()
            .find(|fault| fault.name() == s)
            .ok_or_else(|| UnknownFault(s.to_owned()))
    }
}
