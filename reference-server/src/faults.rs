//! The fault catalog: deliberate contract violations the contract suite must be able to detect,
//! and where each one acts.
//!
//! A fault acts in one of two ways, and each catalog entry below says which:
//!
//! - **Layer**: a fault that only reshapes a finished response (status, content type, a header,
//!   fields of the JSON body) is a `map_response` layer in `reshape.rs`, which `app()` adds only
//!   when that fault is on. The faithful server's code never mentions it.
//! - **Predicate**: a fault that changes behaviour (what is stored, accepted, listed or
//!   authenticated) acts where that behaviour lives, through one named predicate of `Faults`;
//!   searching for the predicate's name finds every place the fault acts.

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
    ///
    /// Acts: predicate `Faults::defaults_max_events_to_100` (validate/schema.rs).
    WrongDefaultMaxEvents,
    /// `updated_by` is left out of every simulation in responses.
    ///
    /// Acts: layer `reshape::missing_updated_by`.
    MissingUpdatedBy,
    /// Timestamps are written without a UTC offset.
    ///
    /// Acts: layer `reshape::naive_timestamps`.
    NaiveTimestamps,
    /// New ids are `sim-<n>` instead of 24 lowercase hex characters.
    ///
    /// Acts: predicate `Faults::mints_counter_ids` (store.rs, create).
    NonObjectIdIds,
    /// A 23-character `workflow_id`/`run_id` is accepted.
    ///
    /// Acts: predicate `Faults::accepts_23_character_ids` (validate/schema.rs, body fields only).
    AcceptShortWorkflowId,
    /// Non-integral numbers are accepted for integer fields (truncated).
    ///
    /// Acts: predicate `Faults::accepts_fractional_ints` (validate/schema.rs).
    AcceptFractionalInt,
    /// Integer fields reject numeric strings such as `"5"`.
    ///
    /// Acts: predicate `Faults::rejects_numeric_strings` (validate/schema.rs).
    RejectNumericStrings,
    /// `description: null` is rejected on create.
    ///
    /// Acts: predicate `Faults::rejects_null_description` (validate/schema.rs, create).
    RejectNullDescription,
    /// 500 when `dynamic_variables` is nested more than three objects/arrays deep.
    ///
    /// Acts: predicate `Faults::crashes_on_deep_dynamic_variables` (validate/schema.rs, create).
    CrashOnDeepDynamicVariables,
    /// 500 when `logical_id` contains a character outside the Basic Multilingual Plane.
    ///
    /// Acts: predicate `Faults::crashes_on_non_bmp_logical_id` (validate/schema.rs, create).
    CrashOnNonBmpLogicalId,
    /// Create answers 201 instead of 200.
    ///
    /// Acts: layer `reshape::create_returns_201`.
    CreateReturns201,
    /// 404 responses are sent as `text/plain`.
    ///
    /// Acts: layer `reshape::text_plain_404`.
    TextPlain404,
    /// 422 responses carry `detail` as one string instead of a list of errors.
    ///
    /// Acts: layer `reshape::validation_detail_string`.
    ValidationDetailString,
    /// A well-formed but unknown API key is accepted (as the first configured key's user).
    ///
    /// Acts: predicate `Faults::accepts_unknown_keys` (auth.rs).
    AuthNotEnforced,
    /// List shows every team's simulations.
    ///
    /// Acts: predicate `Faults::lists_every_team` (store.rs, snapshot).
    CrossTeamList,
    /// The `status` list filter is ignored.
    ///
    /// Acts: predicate `Faults::ignores_status_filter` (store.rs, list matching).
    StatusFilterIgnored,
    /// `total` is the length of the page instead of the number of all matches.
    ///
    /// Acts: layer `reshape::total_is_page_length`.
    TotalIsPageLength,
    /// PATCH also resets `max_events` to 500.
    ///
    /// Acts: predicate `Faults::patch_resets_max_events` (store.rs, update).
    PatchResetsMaxEvents,
    /// PATCH answers with the change but does not store it.
    ///
    /// Acts: predicate `Faults::drops_patches` (store.rs, update).
    PatchNotPersisted,
    /// DELETE answers 200 but keeps the simulation.
    ///
    /// Acts: predicate `Faults::keeps_deleted` (store.rs, delete).
    DeleteNotDeleting,
    /// An explicit `null` is stored as the field's default.
    ///
    /// Acts: predicate `Faults::stores_null_as_default` (validate/schema.rs, create).
    NullStoredAsDefault,
    /// Unknown top-level keys of the create body are stored and echoed.
    ///
    /// Acts: predicate `Faults::stores_unknown_keys` (validate/schema.rs, create).
    UnknownKeysEchoed,
    /// 405 responses have no `Allow` header.
    ///
    /// Acts: layer `reshape::missing_allow_header`.
    MissingAllowHeader,
    /// Lists are sorted oldest first.
    ///
    /// Acts: predicate `Faults::lists_oldest_first` (store.rs, snapshot).
    OldestFirst,
    /// `search` is case-sensitive.
    ///
    /// Acts: predicate `Faults::searches_case_sensitively` (store.rs, list matching).
    SearchCaseSensitive,
    /// Integers past 64 bits are stored through an `f64`, as a server that reads JSON numbers
    /// into floats would: `99999999999999999999` comes back as `1e20`.
    ///
    /// Acts: predicate `Faults::rounds_big_integers_through_f64` (validate/schema.rs).
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

/// The server's fault, asked through one predicate per behaviour-changing fault, so that every
/// place a fault acts carries that fault's name. Faults that only reshape a response have no
/// predicate: they are layers (see the module docs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Faults(Option<Fault>);

impl From<Option<Fault>> for Faults {
    fn from(fault: Option<Fault>) -> Self {
        Faults(fault)
    }
}

impl Faults {
    /// The faithful server.
    pub const NONE: Faults = Faults(None);

    fn is(self, fault: Fault) -> bool {
        self.0 == Some(fault)
    }

    /// [`Fault::WrongDefaultMaxEvents`]: an absent `max_events` is stored as 100.
    pub fn defaults_max_events_to_100(self) -> bool {
        self.is(Fault::WrongDefaultMaxEvents)
    }

    /// [`Fault::NonObjectIdIds`]: new ids are `sim-<n>`.
    pub fn mints_counter_ids(self) -> bool {
        self.is(Fault::NonObjectIdIds)
    }

    /// [`Fault::AcceptShortWorkflowId`]: a body's 24-character field takes 23 characters.
    pub fn accepts_23_character_ids(self) -> bool {
        self.is(Fault::AcceptShortWorkflowId)
    }

    /// [`Fault::AcceptFractionalInt`]: an integer field truncates `5.5` instead of refusing it.
    pub fn accepts_fractional_ints(self) -> bool {
        self.is(Fault::AcceptFractionalInt)
    }

    /// [`Fault::RejectNumericStrings`]: an integer field refuses every string.
    pub fn rejects_numeric_strings(self) -> bool {
        self.is(Fault::RejectNumericStrings)
    }

    /// [`Fault::RejectNullDescription`]: create refuses `description: null`.
    pub fn rejects_null_description(self) -> bool {
        self.is(Fault::RejectNullDescription)
    }

    /// [`Fault::CrashOnDeepDynamicVariables`]: create fails with 500 on deep `dynamic_variables`.
    pub fn crashes_on_deep_dynamic_variables(self) -> bool {
        self.is(Fault::CrashOnDeepDynamicVariables)
    }

    /// [`Fault::CrashOnNonBmpLogicalId`]: create fails with 500 on an astral `logical_id`.
    pub fn crashes_on_non_bmp_logical_id(self) -> bool {
        self.is(Fault::CrashOnNonBmpLogicalId)
    }

    /// [`Fault::AuthNotEnforced`]: an unknown key acts as the first configured key.
    pub fn accepts_unknown_keys(self) -> bool {
        self.is(Fault::AuthNotEnforced)
    }

    /// [`Fault::CrossTeamList`]: a list walks every team's records.
    pub fn lists_every_team(self) -> bool {
        self.is(Fault::CrossTeamList)
    }

    /// [`Fault::StatusFilterIgnored`]: the list's `status` filter matches everything.
    pub fn ignores_status_filter(self) -> bool {
        self.is(Fault::StatusFilterIgnored)
    }

    /// [`Fault::PatchResetsMaxEvents`]: an update also stores `max_events` 500.
    pub fn patch_resets_max_events(self) -> bool {
        self.is(Fault::PatchResetsMaxEvents)
    }

    /// [`Fault::PatchNotPersisted`]: an update answers with the change but stores nothing.
    pub fn drops_patches(self) -> bool {
        self.is(Fault::PatchNotPersisted)
    }

    /// [`Fault::DeleteNotDeleting`]: a delete answers 200 and removes nothing.
    pub fn keeps_deleted(self) -> bool {
        self.is(Fault::DeleteNotDeleting)
    }

    /// [`Fault::NullStoredAsDefault`]: an explicit `null` is stored as the field's default.
    pub fn stores_null_as_default(self) -> bool {
        self.is(Fault::NullStoredAsDefault)
    }

    /// [`Fault::UnknownKeysEchoed`]: unknown top-level keys of a create body are stored.
    pub fn stores_unknown_keys(self) -> bool {
        self.is(Fault::UnknownKeysEchoed)
    }

    /// [`Fault::OldestFirst`]: a list walks the team's records oldest first.
    pub fn lists_oldest_first(self) -> bool {
        self.is(Fault::OldestFirst)
    }

    /// [`Fault::SearchCaseSensitive`]: `search` compares the text as it is.
    pub fn searches_case_sensitively(self) -> bool {
        self.is(Fault::SearchCaseSensitive)
    }

    /// [`Fault::BigIntegersThroughF64`]: an integer past 64 bits is stored as the nearest `f64`.
    pub fn rounds_big_integers_through_f64(self) -> bool {
        self.is(Fault::BigIntegersThroughF64)
    }
}
