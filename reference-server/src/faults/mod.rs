//! The fault catalog (the `faults` feature): deliberate contract violations the contract suite
//! must be able to detect, declared once in [`catalog!`], and the decorators that make them.
//!
//! The faithful server never asks whether a fault is on. [`crate::app`] builds it from its
//! parts ([`Parts`]: the store, the listing step, the validation steps, the body limit); with
//! faults on, [`decorate`] replaces parts with decorators that wrap them, and [`layers`] wraps
//! the router. Each fault is one of ([`Acts`], named in its catalog entry):
//!
//! - **Layer** (`reshape.rs`, `request.rs`): a tower layer that reshapes a finished response
//!   (status, content type, a header, fields of the JSON body), or rewrites the request before
//!   the server reads it (a header, the body), or acts after the server answered.
//! - **Store** (`store.rs`): a decorator of the store that overrides one operation and writes
//!   through the store's primitives, or a listing step that wraps the faithful one. A lock that
//!   only a fault needs (the stale-get cache's) is its decorator's own.
//! - **Validation** (`validation.rs`): a validation step (create body, list query, path id)
//!   that wraps the faithful one, rewriting its input or its result.
//! - **Limit**: a limit of the server set otherwise.
//!
//! Decorators compose: several faults on at once wrap each other in catalog order.
//! [`Fault::rules`] names the CONTRACT.md rule ids each fault breaks, so that `cargo xtask
//! mutants` can say, per rule, whether the suite catches every fault that breaks it.

mod request;
mod reshape;
mod store;
mod validation;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use axum::Router;

use crate::Config;
use crate::handlers::Parts;
use crate::store::Memory;

pub use contract_rules::Rule;

/// Where a fault acts, so that a reader of the catalog knows where to look.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Acts {
    /// A tower layer that rewrites the request before the faithful server sees it, or its
    /// answer after (`faults/reshape.rs`, `faults/request.rs`).
    Layer,
    /// A decorator of the store or of the listing step (`faults/store.rs`).
    Store,
    /// A validation step replaced at its seam (`faults/validation.rs`).
    Validation,
    /// A limit of the server set otherwise.
    Limit,
}

impl Acts {
    /// The word `--list-faults` shows.
    pub fn name(self) -> &'static str {
        match self {
            Acts::Layer => "layer",
            Acts::Store => "store",
            Acts::Validation => "validation",
            Acts::Limit => "limit",
        }
    }
}

/// Declares the catalog once: the enum, [`Fault::ALL`] and each fault's name, description,
/// rules and place all come from one entry.
macro_rules! catalog {
    ($(
        $(#[$doc:meta])*
        $variant:ident {
            name: $name:literal,
            acts: $acts:ident,
            rules: [$($rule:ident),+ $(,)?],
            description: $description:expr,
        }
    )*) => {
        /// One deliberate contract violation, switched on through [`crate::Config::faults`].
        ///
        /// Each fault is a realistic bug of a FastAPI service, so that a suite which catches all of them
        /// checks defaults, response shapes, formats, coercion in both directions, status codes, content
        /// types, error shapes, authentication, tenancy, filters, pagination, update and delete. Every
        /// rule id of CONTRACT.md is broken by at least one fault ([`Fault::rules`]); several are near
        /// misses (an exclusive bound, a prefix match, a default of 10) and two are races that hold a
        /// 25 ms window open between reading a record and writing it back, so that two requests sent
        /// together always meet in it.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Fault {
            $($(#[$doc])* $variant,)*
        }

        impl Fault {
            /// Every fault, in catalog order.
            pub const ALL: &'static [Fault] = &[$(Fault::$variant),*];

            /// The name `--fault` takes.
            pub fn name(&self) -> &'static str {
                match self {
                    $(Fault::$variant => $name,)*
                }
            }

            /// One line saying what the fault breaks.
            pub fn description(&self) -> &'static str {
                match self {
                    $(Fault::$variant => $description,)*
                }
            }

            /// The ids of CONTRACT.md's rules (its **Rule ids** table) this fault breaks, the
            /// main one first, so that a run of the suite against the catalog can say which
            /// rules it guards.
            pub fn rules(&self) -> &'static [Rule] {
                match self {
                    $(Fault::$variant => &[$(Rule::$rule),+],)*
                }
            }

            /// Where the fault acts.
            pub fn acts(&self) -> Acts {
                match self {
                    $(Fault::$variant => Acts::$acts,)*
                }
            }
        }
    };
}

catalog! {
    /// `max_events` defaults to 100 instead of 500.
    ///
    /// Acts: create-body step (`validation.rs`): an absent `max_events` is set to 100 after validation.
    WrongDefaultMaxEvents {
        name: "wrong-default-max-events",
        acts: Validation,
        rules: [CreateDefaults],
        description: "an absent max_events is stored as 100 instead of 500",
    }
    /// `updated_by` is left out of every simulation in responses.
    ///
    /// Acts: layer `reshape::missing_updated_by`.
    MissingUpdatedBy {
        name: "missing-updated-by",
        acts: Layer,
        rules: [SchemaResponse, CreateServerFields],
        description: "responses leave updated_by out of every simulation",
    }
    /// Timestamps are written without a UTC offset.
    ///
    /// Acts: layer `reshape::naive_timestamps`.
    NaiveTimestamps {
        name: "naive-timestamps",
        acts: Layer,
        rules: [SchemaResponse],
        description: "created_at/updated_at are written without a UTC offset",
    }
    /// New ids are `sim-<n>` instead of 24 lowercase hex characters.
    ///
    /// Acts: store decorator `store::CounterIds`: renames the new record.
    NonObjectIdIds {
        name: "non-objectid-ids",
        acts: Store,
        rules: [SchemaResponse, CreateServerFields],
        description: "new ids are `sim-<n>`, not 24 lowercase hex characters",
    }
    /// A 23-character `workflow_id`/`run_id` is accepted.
    ///
    /// Acts: create-body step (`validation.rs`): a 23-character id is validated padded, then stored as sent.
    AcceptShortWorkflowId {
        name: "accept-short-workflow-id",
        acts: Validation,
        rules: [Length24, CoerceRejected],
        description: "a 23-character workflow_id or run_id is accepted",
    }
    /// Non-integral numbers are accepted for integer fields (truncated).
    ///
    /// Acts: create-body step (`validation.rs`): the number is truncated before validation.
    AcceptFractionalInt {
        name: "accept-fractional-int",
        acts: Validation,
        rules: [CoerceRejected],
        description: "5.5 is accepted (truncated) for integer fields",
    }
    /// Integer fields reject numeric strings such as `"5"`.
    ///
    /// Acts: create-body step (`validation.rs`): a string in an integer field is validated as a stand-in that draws `int_type`.
    RejectNumericStrings {
        name: "reject-numeric-strings",
        acts: Validation,
        rules: [CoerceAccepted],
        description: "integer fields reject numeric strings such as \"5\"",
    }
    /// `description: null` is rejected on create.
    ///
    /// Acts: create-body step (`validation.rs`): a null description is validated as a stand-in that draws `string_type`.
    RejectNullDescription {
        name: "reject-null-description",
        acts: Validation,
        rules: [CreateNullKept],
        description: "create rejects description: null with a 422",
    }
    /// 500 when `dynamic_variables` is nested more than three objects/arrays deep.
    ///
    /// Acts: create-body step (`validation.rs`): checks the validated config.
    CrashOnDeepDynamicVariables {
        name: "crash-on-deep-dynamic-variables",
        acts: Validation,
        rules: [Never5xx],
        description: "500 when dynamic_variables is nested more than 3 levels deep",
    }
    /// 500 when `logical_id` contains a character outside the Basic Multilingual Plane.
    ///
    /// Acts: create-body step (`validation.rs`): checks the validated config.
    CrashOnNonBmpLogicalId {
        name: "crash-on-non-bmp-logical-id",
        acts: Validation,
        rules: [Never5xx],
        description: "500 when logical_id has a character outside the Basic Multilingual Plane",
    }
    /// Create answers 201 instead of 200.
    ///
    /// Acts: layer `reshape::create_returns_201`.
    CreateReturns201 {
        name: "create-returns-201",
        acts: Layer,
        rules: [CreateStatus],
        description: "create answers 201 instead of 200",
    }
    /// 404 responses are sent as `text/plain`.
    ///
    /// Acts: layer `reshape::text_plain_404`.
    TextPlain404 {
        name: "text-plain-404",
        acts: Layer,
        rules: [SchemaErrors, ItemNotFound],
        description: "404 responses are sent with Content-Type text/plain",
    }
    /// 422 responses carry `detail` as one string instead of a list of errors.
    ///
    /// Acts: layer `reshape::validation_detail_string`.
    ValidationDetailString {
        name: "validation-detail-string",
        acts: Layer,
        rules: [SchemaErrors],
        description: "422 responses carry detail as a string, not a list",
    }
    /// A well-formed but unknown API key is accepted (as the first configured key's user).
    ///
    /// Acts: request layer `request::unknown_key_as_first`.
    AuthNotEnforced {
        name: "auth-not-enforced",
        acts: Layer,
        rules: [AuthUnknown],
        description: "an unknown API key is accepted as the first key's user",
    }
    /// List shows every team's simulations.
    ///
    /// Acts: store decorator `store::EveryTeam`.
    CrossTeamList {
        name: "cross-team-list",
        acts: Store,
        rules: [TenancyList],
        description: "list shows other teams' simulations",
    }
    /// The `status` list filter is ignored.
    ///
    /// Acts: listing step (`store.rs`): drops the `status` filter.
    StatusFilterIgnored {
        name: "status-filter-ignored",
        acts: Store,
        rules: [ListExactFilters],
        description: "the status query parameter of list is ignored",
    }
    /// `total` is the length of the page instead of the number of all matches.
    ///
    /// Acts: layer `reshape::total_is_page_length`.
    TotalIsPageLength {
        name: "total-is-page-length",
        acts: Layer,
        rules: [ListTotal],
        description: "list total is the page length, not the number of matches",
    }
    /// PATCH also resets `max_events` to 500.
    ///
    /// Acts: store decorator `store::ResetMaxEvents`.
    PatchResetsMaxEvents {
        name: "patch-resets-max-events",
        acts: Store,
        rules: [UpdateFields],
        description: "PATCH also resets max_events to 500",
    }
    /// PATCH answers with the change but does not store it.
    ///
    /// Acts: store decorator `store::DropPatches`.
    PatchNotPersisted {
        name: "patch-not-persisted",
        acts: Store,
        rules: [UpdatePersisted],
        description: "PATCH answers with the change but does not store it",
    }
    /// DELETE answers 200 but keeps the simulation.
    ///
    /// Acts: store decorator `store::KeepDeleted`.
    DeleteNotDeleting {
        name: "delete-not-deleting",
        acts: Store,
        rules: [DeleteGone],
        description: "DELETE answers 200 but the simulation stays",
    }
    /// An explicit `null` is stored as the field's default.
    ///
    /// Acts: create-body step (`validation.rs`): null fields are removed before validation.
    NullStoredAsDefault {
        name: "null-stored-as-default",
        acts: Validation,
        rules: [CreateNullKept, CreateWorkflowNotNull],
        description: "an explicit null is stored as the field's default",
    }
    /// Unknown top-level keys of the create body are stored and echoed.
    ///
    /// Acts: create-body step (`validation.rs`): adds the unknown keys after validation.
    UnknownKeysEchoed {
        name: "unknown-keys-echoed",
        acts: Validation,
        rules: [CreateEcho],
        description: "unknown top-level keys of the create body are echoed",
    }
    /// 405 responses have no `Allow` header.
    ///
    /// Acts: layer `reshape::missing_allow_header`.
    MissingAllowHeader {
        name: "missing-allow-header",
        acts: Layer,
        rules: [MethodNotAllowed],
        description: "405 responses have no Allow header",
    }
    /// Lists are sorted oldest first.
    ///
    /// Acts: store decorator `store::OldestFirst`.
    OldestFirst {
        name: "oldest-first",
        acts: Store,
        rules: [ListOrder],
        description: "lists are sorted oldest first",
    }
    /// `search` is case-sensitive.
    ///
    /// Acts: listing step (`store.rs`, `search_step`).
    SearchCaseSensitive {
        name: "search-case-sensitive",
        acts: Store,
        rules: [ListSearch],
        description: "the search filter is case-sensitive",
    }
    /// Integers past 64 bits are stored through an `f64`, as a server that reads JSON numbers
    /// into floats would: `99999999999999999999` comes back as `1e20`.
    ///
    /// Acts: create-body step (`validation.rs`): rounds the validated integers.
    BigIntegersThroughF64 {
        name: "big-integers-through-f64",
        acts: Validation,
        rules: [CoerceUnspecified],
        description: "integers past 64 bits are stored rounded through an f64 (1e20 for 99999999999999999999)",
    }
    /// DELETE without an `Authorization` header is served as the first configured key's user (the
    /// route's bearer dependency has `auto_error=False` and falls back to a service user); every
    /// other operation, and DELETE with a header, still authenticate.
    ///
    /// Acts: request layer `request::delete_without_key`.
    DeleteWithoutKey {
        name: "delete-without-key",
        acts: Layer,
        rules: [AuthRequired, AuthMissing],
        description: "DELETE without an Authorization header is served as the first key's user",
    }
    /// A missing header, another scheme or an empty credential answers 403 `{"detail": "Not
    /// authenticated"}` without `WWW-Authenticate`, as FastAPI's `HTTPBearer` did before 0.115.
    ///
    /// Acts: layer `reshape::missing_key_403`.
    MissingKey403 {
        name: "missing-key-403",
        acts: Layer,
        rules: [AuthMissing],
        description: "a missing, non-Bearer or empty credential answers 403, not 401",
    }
    /// PATCH of another team's simulation answers 404 but stores the change: ownership is checked
    /// after the write.
    ///
    /// Acts: store decorator `store::WriteBeforeOwnerCheck`.
    OtherTeamUpdateApplies {
        name: "other-team-update-applies",
        acts: Store,
        rules: [TenancyItem],
        description: "PATCH of another team's simulation answers 404 but the change is stored",
    }
    /// Create reads the clock twice, so `updated_at` is a microsecond (or more) after `created_at`.
    ///
    /// Acts: store decorator `store::ClockReadTwice`.
    UpdatedAtAfterCreatedAt {
        name: "updated-at-after-created-at",
        acts: Store,
        rules: [CreateServerFields],
        description: "create reads the clock twice: updated_at is after created_at",
    }
    /// `selected_workflow: null` / `counter_workflow: null` is accepted and stored as the default
    /// workflow object (the field was declared `Optional` with a default factory).
    ///
    /// Acts: create-body step (`validation.rs`): a null workflow is removed before validation.
    NullWorkflowAccepted {
        name: "null-workflow-accepted",
        acts: Validation,
        rules: [CreateWorkflowNotNull],
        description: "a null selected_workflow/counter_workflow is stored as the default object",
    }
    /// The create response shows the validated config, but the store keeps the raw JSON the client
    /// sent for each top-level field pydantic coerced (`"5"`, `5.0`, `"yes"`), so later reads show
    /// the raw value.
    ///
    /// Acts: layer `request::raw_body_stored`, which writes the raw fields through the store.
    RawBodyStored {
        name: "raw-body-stored",
        acts: Layer,
        rules: [CoerceAccepted, CoerceUnspecified],
        description: "coerced top-level fields are stored raw: reads show \"5\" where create showed 5",
    }
    /// Create with no body is treated as `{}` and answers 200.
    ///
    /// Acts: request layer `request::missing_body_as_empty`.
    BodyMissingAsEmpty {
        name: "body-missing-as-empty",
        acts: Layer,
        rules: [BodyMissing],
        description: "create with no body is treated as {} and answers 200",
    }
    /// Invalid JSON answers 400 `{"detail": "Invalid JSON"}` (a custom handler for
    /// `JSONDecodeError`) instead of 422 `json_invalid`.
    ///
    /// Acts: layer `reshape::invalid_json_400`.
    InvalidJson400 {
        name: "invalid-json-400",
        acts: Layer,
        rules: [BodyJsonInvalid, SchemaErrors],
        description: "invalid JSON answers 400 {\"detail\": \"Invalid JSON\"}, not 422 json_invalid",
    }
    /// A body sent with a non-JSON content type (or none) is parsed as JSON anyway, as FastAPI
    /// before 0.65 did.
    ///
    /// Acts: request layer `request::any_content_type`.
    AnyContentTypeParsed {
        name: "any-content-type-parsed",
        acts: Layer,
        rules: [BodyNotObject],
        description: "a body with a non-JSON content type (or none) is parsed as JSON",
    }
    /// A body that is not UTF-8 answers 422 `json_invalid` instead of 400.
    ///
    /// Acts: request layer `request::non_utf8_422`.
    NonUtf8422 {
        name: "non-utf8-422",
        acts: Layer,
        rules: [BodyNotUtf8],
        description: "a body that is not UTF-8 answers 422 json_invalid, not 400",
    }
    /// Bodies over 256 KiB are refused with 413 (a proxy's `client_max_body_size` left too small);
    /// the contract allows 413 only over 1 MiB.
    ///
    /// Acts: the app's body limit (`Parts::max_body`) set to 256 KiB.
    SmallBodyLimit {
        name: "small-body-limit",
        acts: Limit,
        rules: [BodyTooLarge],
        description: "bodies over 256 KiB are refused with 413",
    }
    /// An absent `size` means 10 instead of 100.
    ///
    /// Acts: list-query step (`validation.rs`).
    ListDefaultSize10 {
        name: "list-default-size-10",
        acts: Validation,
        rules: [ListDefaults],
        description: "an absent size means 10, not 100",
    }
    /// The `end` bound is exclusive (`created_at < end`).
    ///
    /// Acts: listing step (`store.rs`): `end` moved back one microsecond.
    ExclusiveEndBound {
        name: "exclusive-end-bound",
        acts: Store,
        rules: [ListTimeBounds],
        description: "the end bound is exclusive",
    }
    /// A `start`/`end` without an offset is read in the server's local time, UTC+02:00, instead of
    /// UTC.
    ///
    /// Acts: list-query step (`validation.rs`, `bounds_read_as`).
    NaiveBoundsLocalTime {
        name: "naive-bounds-local-time",
        acts: Validation,
        rules: [ListTimeBounds],
        description: "a start/end without an offset is read as UTC+02:00, not UTC",
    }
    /// Numeric `start`/`end` are read as Unix milliseconds (JavaScript's convention) instead of
    /// seconds.
    ///
    /// Acts: list-query step (`validation.rs`, `bounds_read_as`).
    UnixTimeAsMilliseconds {
        name: "unix-time-as-milliseconds",
        acts: Validation,
        rules: [ListTimeBounds, CoerceAccepted],
        description: "numeric start/end are read as Unix milliseconds, not seconds",
    }
    /// The `logical_id` filter matches by prefix (an anchored `$regex` instead of equality).
    ///
    /// Acts: listing step (`store.rs`).
    LogicalIdPrefixMatch {
        name: "logical-id-prefix-match",
        acts: Store,
        rules: [ListExactFilters],
        description: "the logical_id filter matches by prefix",
    }
    /// `search` is used as a case-insensitive regular expression (a `$regex` with option `i`,
    /// unescaped); an invalid pattern matches nothing.
    ///
    /// Acts: listing step (`store.rs`, `search_step`).
    SearchAsRegex {
        name: "search-as-regex",
        acts: Store,
        rules: [ListSearch],
        description: "search is a case-insensitive regular expression, not a substring",
    }
    /// `search` looks only in `logical_id`, not in `description`.
    ///
    /// Acts: listing step (`store.rs`, `search_step`).
    SearchLogicalIdOnly {
        name: "search-logical-id-only",
        acts: Store,
        rules: [ListSearch],
        description: "search looks only in logical_id, not in description",
    }
    /// When two or more filters are given they combine with OR (an `$or` where `$and` was meant);
    /// the `start`/`end` range counts as one filter.
    ///
    /// Acts: listing step (`store.rs`, `filters_or`).
    FiltersOr {
        name: "filters-or",
        acts: Store,
        rules: [ListAnd],
        description: "two or more list filters combine with OR, not AND",
    }
    /// A page past the last one answers the last page (the page number is clamped).
    ///
    /// Acts: listing step (`store.rs`).
    PageBeyondEndRepeatsLast {
        name: "page-beyond-end-repeats-last",
        acts: Store,
        rules: [ListWindow],
        description: "a page past the last one answers the last page",
    }
    /// `size=0` is accepted (`ge=0` where `ge=1` was meant) and answers an empty page.
    ///
    /// Acts: list-query step (`validation.rs`): validates `size=1`, then sets 0.
    SizeZeroAccepted {
        name: "size-zero-accepted",
        acts: Validation,
        rules: [ListParamInvalid],
        description: "size=0 is accepted and answers an empty page",
    }
    /// Get serves from a per-id cache filled by create and get, invalidated by delete but not by
    /// update; lists are not cached.
    ///
    /// Acts: store decorator `store::CachedGets`, which holds the cache and its lock.
    StaleGetAfterUpdate {
        name: "stale-get-after-update",
        acts: Store,
        rules: [GetFound, UpdatePersisted],
        description: "get serves a cache that update does not invalidate",
    }
    /// A 24-character id that is not hex answers 422 at `["path", "simulation_id"]` (ObjectId
    /// validation) instead of 404.
    ///
    /// Acts: path-id step (`validation.rs`).
    NonHexId422 {
        name: "non-hex-id-422",
        acts: Validation,
        rules: [ItemNotFound],
        description: "a 24-character id that is not hex answers 422, not 404",
    }
    /// A PATCH whose body has a valid field and an invalid one answers 422 but stores the valid
    /// field (fields are validated and saved one by one, the errors raised at the end).
    ///
    /// Acts: layer `request::partially_applied`: after a 422, sends the valid fields again, alone.
    InvalidUpdatePartiallyApplied {
        name: "invalid-update-partially-applied",
        acts: Layer,
        rules: [UpdateInvalid],
        description: "a PATCH answered 422 still stores its valid fields",
    }
    /// `if patch.description:`: an empty or null description is not stored, and the 200 body shows
    /// the old value.
    ///
    /// Acts: store decorator `store::SkipFalsyDescription`.
    EmptyDescriptionSkipped {
        name: "empty-description-skipped",
        acts: Store,
        rules: [UpdateNullAndEmpty],
        description: "PATCH skips an empty or null description as falsy",
    }
    /// Update leaves `updated_at` as it was.
    ///
    /// Acts: store decorator `store::KeepUpdatedAt`.
    UpdatedAtNotMoved {
        name: "updated-at-not-moved",
        acts: Store,
        rules: [UpdateTimestamps],
        description: "PATCH leaves updated_at as it was",
    }
    /// Update reads the record, waits about 25 ms (an awaited call), then writes back the whole
    /// record with its patch applied if the record still exists: of two concurrent PATCHes of
    /// different fields, one is lost.
    ///
    /// Acts: store decorator `store::ReadModifyWrite`.
    LostUpdate {
        name: "lost-update",
        acts: Store,
        rules: [UpdatePersisted],
        description: "update writes back a whole record read 25 ms earlier: concurrent PATCHes lose one",
    }
    /// Update reads the record, waits about 25 ms, then upserts the whole record: a delete that
    /// lands in the window is undone (and a concurrent update is lost).
    ///
    /// Acts: store decorator `store::ReadModifyWrite` (upserting).
    DeleteRaceResurrects {
        name: "delete-race-resurrects",
        acts: Store,
        rules: [DeleteGone, NeverLost, UpdatePersisted],
        description: "update upserts a record read 25 ms earlier: a delete in between is undone",
    }
    /// Create with a `logical_id` that a record of the team already has deletes that record and
    /// stores the new one, treating the "Unique identifier" as a key: the earlier record is lost.
    ///
    /// Acts: store decorator `store::ReplaceByLogicalId`.
    LogicalIdUpsert {
        name: "logical-id-upsert",
        acts: Store,
        rules: [NeverLost],
        description: "create replaces the team's record with the same logical_id",
    }
    /// A 405's `Allow` lists only the methods of the first matching route, as plain FastAPI does:
    /// `GET` alone on either path.
    ///
    /// Acts: layer `reshape::allow_lists_one_route`.
    AllowListsOneRoute {
        name: "allow-lists-one-route",
        acts: Layer,
        rules: [MethodNotAllowed],
        description: "a 405's Allow lists only the first route's method (GET)",
    }
    /// Boolean fields accept the lax strings only in lower case (`"True"`, `"YES"` are 422).
    ///
    /// Acts: create-body step (`validation.rs`): such a string is validated as a stand-in that draws `bool_parsing`.
    BoolStringsCaseSensitive {
        name: "bool-strings-case-sensitive",
        acts: Validation,
        rules: [CoerceAccepted],
        description: "boolean fields refuse lax strings that are not lower case (\"True\", \"YES\")",
    }
    /// A `workflow_id`/`run_id` longer than 24 characters is accepted: only the minimum length is
    /// enforced.
    ///
    /// Acts: create-body step (`validation.rs`): a long id is validated cut to 24 characters, then stored as sent.
    Accept25CharacterIds {
        name: "accept-25-character-ids",
        acts: Validation,
        rules: [Length24, CoerceRejected],
        description: "a workflow_id or run_id of 25 or more characters is accepted",
    }
    /// A request without a bearer credential is authenticated by an `X-API-Key` header holding
    /// a configured key (`HTTPBearer(auto_error=False)` beside an `APIKeyHeader`, either one
    /// accepted).
    ///
    /// Acts: request layer `request::api_key_header`.
    ApiKeyHeaderAccepted {
        name: "api-key-header-accepted",
        acts: Layer,
        rules: [AuthRequired, AuthMissing],
        description: "a request with no bearer key is served for a key in X-API-Key",
    }
    /// Keys are compared in lower case ("keys are case-insensitive tokens"): the run's key
    /// upper-cased is the run's key.
    ///
    /// Acts: request layer `request::fold_key_case`.
    KeysCaseInsensitive {
        name: "keys-case-insensitive",
        acts: Layer,
        rules: [AuthUnknown],
        description: "keys are compared in lower case: the key upper-cased is served",
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

// Each fault is one bit of a `FaultSet`.
const _: () = assert!(Fault::ALL.len() <= u128::BITS as usize);

/// The faults switched on, each at most once ([`crate::Config::faults`]); empty for the
/// faithful server. Iterates in catalog order whatever the order of insertion.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct FaultSet(u128);

impl FaultSet {
    /// No fault: the faithful server.
    pub const EMPTY: FaultSet = FaultSet(0);

    fn bit(fault: Fault) -> u128 {
        // A fieldless enum's discriminant is its place in the catalog (a unit test checks
        // `Fault::ALL` is in declaration order), below 128 (the assertion above).
        1 << (fault as u32)
    }

    pub fn contains(self, fault: Fault) -> bool {
        self.0 & Self::bit(fault) != 0
    }

    /// Switches `fault` on; `false` if it already was.
    pub fn insert(&mut self, fault: Fault) -> bool {
        let new = !self.contains(fault);
        self.0 |= Self::bit(fault);
        new
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// The faults in catalog order.
    pub fn iter(self) -> impl Iterator<Item = Fault> {
        Fault::ALL
            .iter()
            .copied()
            .filter(move |fault| self.contains(*fault))
    }
}

impl From<Fault> for FaultSet {
    fn from(fault: Fault) -> Self {
        FaultSet(Self::bit(fault))
    }
}

impl From<Option<Fault>> for FaultSet {
    fn from(fault: Option<Fault>) -> Self {
        fault.into_iter().collect()
    }
}

impl FromIterator<Fault> for FaultSet {
    fn from_iter<I: IntoIterator<Item = Fault>>(faults: I) -> Self {
        let mut set = FaultSet::EMPTY;
        for fault in faults {
            set.insert(fault);
        }
        set
    }
}

impl fmt::Debug for FaultSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(self.iter().map(|f| f.name()))
            .finish()
    }
}

/// `parts` with the decorator of each fault of `config.faults` that replaces a part (the store,
/// the listing step, a validation step, the body limit), in catalog order, each wrapping what
/// the ones before it made.
pub(crate) fn decorate(mut parts: Parts, config: &Config) -> Parts {
    for fault in config.faults.iter() {
        parts = store::decorate(parts, fault);
        parts = validation::decorate(parts, fault);
        if fault == Fault::SmallBodyLimit {
            // A proxy's `client_max_body_size` left at 256 KiB.
            parts.max_body = 256 * 1024;
        }
    }
    parts
}

/// `router` with the layer of each fault of `config.faults` that has one: the ones that rewrite
/// requests inside (nearer the server), the ones that reshape answers outside them.
pub(crate) fn layers(mut router: Router, config: &Config, memory: &Arc<Memory>) -> Router {
    let keys = request::Keys::new(config);
    for fault in config.faults.iter() {
        router = request::with_layer(router, fault, &keys, memory);
    }
    for fault in config.faults.iter() {
        router = reshape::with_layer(router, fault);
    }
    router
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `FaultSet` keys each fault by its discriminant: the catalog must be in declaration order
    /// for the set to iterate in it, and every fault must get a bit of its own.
    #[test]
    fn the_catalog_is_in_declaration_order() {
        for (place, fault) in Fault::ALL.iter().enumerate() {
            assert_eq!(*fault as usize, place, "{fault}");
        }
        let all: FaultSet = Fault::ALL.iter().copied().collect();
        assert_eq!(all.len(), Fault::ALL.len());
        assert!(all.iter().eq(Fault::ALL.iter().copied()));
        assert_eq!(
            format!("{:?}", FaultSet::from(Fault::OldestFirst)),
            r#"{"oldest-first"}"#
        );
    }
}
