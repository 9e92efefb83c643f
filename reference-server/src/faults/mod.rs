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
//!
//! [`Fault::rules`] names the CONTRACT.md rule ids each fault breaks, so that `cargo xtask
//! mutants` can say, per rule, whether the suite catches every fault that breaks it.

mod reshape;

use std::fmt;
use std::str::FromStr;

use axum::Router;

pub use contract_rules::Rule;

/// Where a fault acts, so that a reader of the catalog knows where to look.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Acts {
    /// A tower layer that rewrites the request before the faithful server sees it, or its
    /// answer after (`faults/reshape.rs`, `faults/request.rs`).
    Layer,
    /// A decorator of the store the app is built with (`faults/store.rs`).
    Store,
    /// A validation step replaced at its seam (`faults/validation.rs`).
    Validation,
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
    /// Acts: predicate `Faults::defaults_max_events_to_100` (validate/schema.rs).
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
    /// Acts: predicate `Faults::mints_counter_ids` (store.rs, create).
    NonObjectIdIds {
        name: "non-objectid-ids",
        acts: Store,
        rules: [SchemaResponse, CreateServerFields],
        description: "new ids are `sim-<n>`, not 24 lowercase hex characters",
    }
    /// A 23-character `workflow_id`/`run_id` is accepted.
    ///
    /// Acts: predicate `Faults::accepts_23_character_ids` (validate/schema.rs, body fields only).
    AcceptShortWorkflowId {
        name: "accept-short-workflow-id",
        acts: Validation,
        rules: [Length24, CoerceRejected],
        description: "a 23-character workflow_id or run_id is accepted",
    }
    /// Non-integral numbers are accepted for integer fields (truncated).
    ///
    /// Acts: predicate `Faults::accepts_fractional_ints` (validate/schema.rs).
    AcceptFractionalInt {
        name: "accept-fractional-int",
        acts: Validation,
        rules: [CoerceRejected],
        description: "5.5 is accepted (truncated) for integer fields",
    }
    /// Integer fields reject numeric strings such as `"5"`.
    ///
    /// Acts: predicate `Faults::rejects_numeric_strings` (validate/schema.rs).
    RejectNumericStrings {
        name: "reject-numeric-strings",
        acts: Validation,
        rules: [CoerceAccepted],
        description: "integer fields reject numeric strings such as \"5\"",
    }
    /// `description: null` is rejected on create.
    ///
    /// Acts: predicate `Faults::rejects_null_description` (validate/schema.rs, create).
    RejectNullDescription {
        name: "reject-null-description",
        acts: Validation,
        rules: [CreateNullKept],
        description: "create rejects description: null with a 422",
    }
    /// 500 when `dynamic_variables` is nested more than three objects/arrays deep.
    ///
    /// Acts: predicate `Faults::crashes_on_deep_dynamic_variables` (validate/schema.rs, create).
    CrashOnDeepDynamicVariables {
        name: "crash-on-deep-dynamic-variables",
        acts: Validation,
        rules: [Never5xx],
        description: "500 when dynamic_variables is nested more than 3 levels deep",
    }
    /// 500 when `logical_id` contains a character outside the Basic Multilingual Plane.
    ///
    /// Acts: predicate `Faults::crashes_on_non_bmp_logical_id` (validate/schema.rs, create).
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
    /// Acts: predicate `Faults::accepts_unknown_keys` (auth.rs).
    AuthNotEnforced {
        name: "auth-not-enforced",
        acts: Layer,
        rules: [AuthUnknown],
        description: "an unknown API key is accepted as the first key's user",
    }
    /// List shows every team's simulations.
    ///
    /// Acts: predicate `Faults::lists_every_team` (store.rs, snapshot).
    CrossTeamList {
        name: "cross-team-list",
        acts: Store,
        rules: [TenancyList],
        description: "list shows other teams' simulations",
    }
    /// The `status` list filter is ignored.
    ///
    /// Acts: predicate `Faults::ignores_status_filter` (store.rs, list matching).
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
    /// Acts: predicate `Faults::patch_resets_max_events` (store.rs, update).
    PatchResetsMaxEvents {
        name: "patch-resets-max-events",
        acts: Store,
        rules: [UpdateFields],
        description: "PATCH also resets max_events to 500",
    }
    /// PATCH answers with the change but does not store it.
    ///
    /// Acts: predicate `Faults::drops_patches` (store.rs, update).
    PatchNotPersisted {
        name: "patch-not-persisted",
        acts: Store,
        rules: [UpdatePersisted],
        description: "PATCH answers with the change but does not store it",
    }
    /// DELETE answers 200 but keeps the simulation.
    ///
    /// Acts: predicate `Faults::keeps_deleted` (store.rs, delete).
    DeleteNotDeleting {
        name: "delete-not-deleting",
        acts: Store,
        rules: [DeleteGone],
        description: "DELETE answers 200 but the simulation stays",
    }
    /// An explicit `null` is stored as the field's default.
    ///
    /// Acts: predicate `Faults::stores_null_as_default` (validate/schema.rs, create).
    NullStoredAsDefault {
        name: "null-stored-as-default",
        acts: Validation,
        rules: [CreateNullKept, CreateWorkflowNotNull],
        description: "an explicit null is stored as the field's default",
    }
    /// Unknown top-level keys of the create body are stored and echoed.
    ///
    /// Acts: predicate `Faults::stores_unknown_keys` (validate/schema.rs, create).
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
    /// Acts: predicate `Faults::lists_oldest_first` (store.rs, snapshot).
    OldestFirst {
        name: "oldest-first",
        acts: Store,
        rules: [ListOrder],
        description: "lists are sorted oldest first",
    }
    /// `search` is case-sensitive.
    ///
    /// Acts: predicate `Faults::searches_case_sensitively` (store.rs, list matching).
    SearchCaseSensitive {
        name: "search-case-sensitive",
        acts: Store,
        rules: [ListSearch],
        description: "the search filter is case-sensitive",
    }
    /// Integers past 64 bits are stored through an `f64`, as a server that reads JSON numbers
    /// into floats would: `99999999999999999999` comes back as `1e20`.
    ///
    /// Acts: predicate `Faults::rounds_big_integers_through_f64` (validate/schema.rs).
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
    /// Acts: predicate `Faults::deletes_without_key` (auth.rs, through handlers.rs delete).
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
    /// Acts: predicate `Faults::updates_before_checking_owner` (store.rs, update).
    OtherTeamUpdateApplies {
        name: "other-team-update-applies",
        acts: Store,
        rules: [TenancyItem],
        description: "PATCH of another team's simulation answers 404 but the change is stored",
    }
    /// Create reads the clock twice, so `updated_at` is a microsecond (or more) after `created_at`.
    ///
    /// Acts: predicate `Faults::reads_clock_twice_on_create` (store.rs, create).
    UpdatedAtAfterCreatedAt {
        name: "updated-at-after-created-at",
        acts: Store,
        rules: [CreateServerFields],
        description: "create reads the clock twice: updated_at is after created_at",
    }
    /// `selected_workflow: null` / `counter_workflow: null` is accepted and stored as the default
    /// workflow object (the field was declared `Optional` with a default factory).
    ///
    /// Acts: predicate `Faults::accepts_null_workflow` (validate/schema.rs, create).
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
    /// Acts: predicate `Faults::stores_raw_body` (handlers.rs create, validate/schema.rs
    /// `with_raw_scalars`).
    RawBodyStored {
        name: "raw-body-stored",
        acts: Validation,
        rules: [CoerceAccepted, CoerceUnspecified],
        description: "coerced top-level fields are stored raw: reads show \"5\" where create showed 5",
    }
    /// Create with no body is treated as `{}` and answers 200.
    ///
    /// Acts: predicate `Faults::reads_missing_body_as_empty` (handlers.rs, create).
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
    /// Acts: predicate `Faults::parses_any_content_type` (body.rs).
    AnyContentTypeParsed {
        name: "any-content-type-parsed",
        acts: Layer,
        rules: [BodyNotObject],
        description: "a body with a non-JSON content type (or none) is parsed as JSON",
    }
    /// A body that is not UTF-8 answers 422 `json_invalid` instead of 400.
    ///
    /// Acts: predicate `Faults::reports_non_utf8_as_json_invalid` (body.rs).
    NonUtf8422 {
        name: "non-utf8-422",
        acts: Layer,
        rules: [BodyNotUtf8],
        description: "a body that is not UTF-8 answers 422 json_invalid, not 400",
    }
    /// Bodies over 256 KiB are refused with 413 (a proxy's `client_max_body_size` left too small);
    /// the contract allows 413 only over 1 MiB.
    ///
    /// Acts: predicate `Faults::limits_bodies_to_256_kib` (body.rs).
    SmallBodyLimit {
        name: "small-body-limit",
        acts: Layer,
        rules: [BodyTooLarge],
        description: "bodies over 256 KiB are refused with 413",
    }
    /// An absent `size` means 10 instead of 100.
    ///
    /// Acts: predicate `Faults::defaults_page_size_to_10` (validate/query.rs).
    ListDefaultSize10 {
        name: "list-default-size-10",
        acts: Validation,
        rules: [ListDefaults],
        description: "an absent size means 10, not 100",
    }
    /// The `end` bound is exclusive (`created_at < end`).
    ///
    /// Acts: predicate `Faults::excludes_end_bound` (store.rs, list matching).
    ExclusiveEndBound {
        name: "exclusive-end-bound",
        acts: Store,
        rules: [ListTimeBounds],
        description: "the end bound is exclusive",
    }
    /// A `start`/`end` without an offset is read in the server's local time, UTC+02:00, instead of
    /// UTC.
    ///
    /// Acts: predicate `Faults::reads_naive_bounds_as_local_time` (validate/query.rs).
    NaiveBoundsLocalTime {
        name: "naive-bounds-local-time",
        acts: Validation,
        rules: [ListTimeBounds],
        description: "a start/end without an offset is read as UTC+02:00, not UTC",
    }
    /// Numeric `start`/`end` are read as Unix milliseconds (JavaScript's convention) instead of
    /// seconds.
    ///
    /// Acts: predicate `Faults::reads_unix_time_as_milliseconds` (validate/query.rs).
    UnixTimeAsMilliseconds {
        name: "unix-time-as-milliseconds",
        acts: Validation,
        rules: [ListTimeBounds, CoerceAccepted],
        description: "numeric start/end are read as Unix milliseconds, not seconds",
    }
    /// The `logical_id` filter matches by prefix (an anchored `$regex` instead of equality).
    ///
    /// Acts: predicate `Faults::matches_logical_id_by_prefix` (store.rs, list matching).
    LogicalIdPrefixMatch {
        name: "logical-id-prefix-match",
        acts: Store,
        rules: [ListExactFilters],
        description: "the logical_id filter matches by prefix",
    }
    /// `search` is used as a case-insensitive regular expression (a `$regex` with option `i`,
    /// unescaped); an invalid pattern matches nothing.
    ///
    /// Acts: predicate `Faults::searches_as_regex` (store.rs, list matching).
    SearchAsRegex {
        name: "search-as-regex",
        acts: Store,
        rules: [ListSearch],
        description: "search is a case-insensitive regular expression, not a substring",
    }
    /// `search` looks only in `logical_id`, not in `description`.
    ///
    /// Acts: predicate `Faults::searches_logical_id_only` (store.rs, list matching).
    SearchLogicalIdOnly {
        name: "search-logical-id-only",
        acts: Store,
        rules: [ListSearch],
        description: "search looks only in logical_id, not in description",
    }
    /// When two or more filters are given they combine with OR (an `$or` where `$and` was meant);
    /// the `start`/`end` range counts as one filter.
    ///
    /// Acts: predicate `Faults::combines_filters_with_or` (store.rs, list matching).
    FiltersOr {
        name: "filters-or",
        acts: Store,
        rules: [ListAnd],
        description: "two or more list filters combine with OR, not AND",
    }
    /// A page past the last one answers the last page (the page number is clamped).
    ///
    /// Acts: predicate `Faults::clamps_page_to_last` (store.rs, paging).
    PageBeyondEndRepeatsLast {
        name: "page-beyond-end-repeats-last",
        acts: Store,
        rules: [ListWindow],
        description: "a page past the last one answers the last page",
    }
    /// `size=0` is accepted (`ge=0` where `ge=1` was meant) and answers an empty page.
    ///
    /// Acts: predicate `Faults::accepts_size_zero` (validate/query.rs).
    SizeZeroAccepted {
        name: "size-zero-accepted",
        acts: Validation,
        rules: [ListParamInvalid],
        description: "size=0 is accepted and answers an empty page",
    }
    /// Get serves from a per-id cache filled by create and get, invalidated by delete but not by
    /// update; lists are not cached.
    ///
    /// Acts: predicate `Faults::caches_gets` (store.rs, create, get, delete).
    StaleGetAfterUpdate {
        name: "stale-get-after-update",
        acts: Store,
        rules: [GetFound, UpdatePersisted],
        description: "get serves a cache that update does not invalidate",
    }
    /// A 24-character id that is not hex answers 422 at `["path", "simulation_id"]` (ObjectId
    /// validation) instead of 404.
    ///
    /// Acts: predicate `Faults::validates_ids_as_object_ids` (validate/mod.rs, path id).
    NonHexId422 {
        name: "non-hex-id-422",
        acts: Validation,
        rules: [ItemNotFound],
        description: "a 24-character id that is not hex answers 422, not 404",
    }
    /// A PATCH whose body has a valid field and an invalid one answers 422 but stores the valid
    /// field (fields are validated and saved one by one, the errors raised at the end).
    ///
    /// Acts: predicate `Faults::applies_valid_update_fields` (handlers.rs, update).
    InvalidUpdatePartiallyApplied {
        name: "invalid-update-partially-applied",
        acts: Layer,
        rules: [UpdateInvalid],
        description: "a PATCH answered 422 still stores its valid fields",
    }
    /// `if patch.description:`: an empty or null description is not stored, and the 200 body shows
    /// the old value.
    ///
    /// Acts: predicate `Faults::skips_falsy_description` (store.rs, update).
    EmptyDescriptionSkipped {
        name: "empty-description-skipped",
        acts: Store,
        rules: [UpdateNullAndEmpty],
        description: "PATCH skips an empty or null description as falsy",
    }
    /// Update leaves `updated_at` as it was.
    ///
    /// Acts: predicate `Faults::keeps_updated_at_on_update` (store.rs, update).
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
    /// Acts: predicate `Faults::loses_concurrent_updates` (handlers.rs update, store.rs
    /// `update_read_modify_write`).
    LostUpdate {
        name: "lost-update",
        acts: Store,
        rules: [UpdatePersisted],
        description: "update writes back a whole record read 25 ms earlier: concurrent PATCHes lose one",
    }
    /// Update reads the record, waits about 25 ms, then upserts the whole record: a delete that
    /// lands in the window is undone (and a concurrent update is lost).
    ///
    /// Acts: predicate `Faults::upserts_on_update` (handlers.rs update, store.rs
    /// `update_read_modify_write`).
    DeleteRaceResurrects {
        name: "delete-race-resurrects",
        acts: Store,
        rules: [DeleteGone, NeverLost, UpdatePersisted],
        description: "update upserts a record read 25 ms earlier: a delete in between is undone",
    }
    /// Create with a `logical_id` that a record of the team already has deletes that record and
    /// stores the new one, treating the "Unique identifier" as a key: the earlier record is lost.
    ///
    /// Acts: predicate `Faults::replaces_by_logical_id` (store.rs, create).
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
    /// Acts: predicate `Faults::bool_strings_case_sensitive` (validate/schema.rs).
    BoolStringsCaseSensitive {
        name: "bool-strings-case-sensitive",
        acts: Validation,
        rules: [CoerceAccepted],
        description: "boolean fields refuse lax strings that are not lower case (\"True\", \"YES\")",
    }
    /// A `workflow_id`/`run_id` longer than 24 characters is accepted: only the minimum length is
    /// enforced.
    ///
    /// Acts: predicate `Faults::accepts_long_ids` (validate/schema.rs, body fields only).
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
    /// Acts: predicate `Faults::reads_api_key_header` (auth.rs).
    ApiKeyHeaderAccepted {
        name: "api-key-header-accepted",
        acts: Layer,
        rules: [AuthRequired, AuthMissing],
        description: "a request with no bearer key is served for a key in X-API-Key",
    }
    /// Keys are compared in lower case ("keys are case-insensitive tokens"): the run's key
    /// upper-cased is the run's key.
    ///
    /// Acts: predicate `Faults::folds_key_case` (auth.rs).
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

/// `router` with the layer of each fault of `faults` that has one.
pub(crate) fn layers(mut router: Router, faults: FaultSet) -> Router {
    for fault in faults.iter() {
        router = reshape::with_layer(router, fault);
    }
    router
}

/// The server's faults, asked through one predicate per behaviour-changing fault, so that every
/// place a fault acts carries that fault's name. Faults that only reshape a response have no
/// predicate: they are layers (see the module docs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Faults(FaultSet);

impl From<FaultSet> for Faults {
    fn from(faults: FaultSet) -> Self {
        Faults(faults)
    }
}

impl Faults {
    /// The faithful server.
    pub const NONE: Faults = Faults(FaultSet::EMPTY);

    fn is(self, fault: Fault) -> bool {
        self.0.contains(fault)
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

    /// [`Fault::DeleteWithoutKey`]: a DELETE without `Authorization` acts as the first configured
    /// key.
    pub fn deletes_without_key(self) -> bool {
        self.is(Fault::DeleteWithoutKey)
    }

    /// [`Fault::OtherTeamUpdateApplies`]: an update finds the id in any team, writes, then answers
    /// 404 for another team's.
    pub fn updates_before_checking_owner(self) -> bool {
        self.is(Fault::OtherTeamUpdateApplies)
    }

    /// [`Fault::UpdatedAtAfterCreatedAt`]: create takes `updated_at` from a second clock reading.
    pub fn reads_clock_twice_on_create(self) -> bool {
        self.is(Fault::UpdatedAtAfterCreatedAt)
    }

    /// [`Fault::NullWorkflowAccepted`]: a `null` workflow object is stored as the default one.
    pub fn accepts_null_workflow(self) -> bool {
        self.is(Fault::NullWorkflowAccepted)
    }

    /// [`Fault::RawBodyStored`]: create stores the raw JSON of coerced top-level fields and answers
    /// with the validated ones.
    pub fn stores_raw_body(self) -> bool {
        self.is(Fault::RawBodyStored)
    }

    /// [`Fault::BodyMissingAsEmpty`]: create reads an empty body as `{}`.
    pub fn reads_missing_body_as_empty(self) -> bool {
        self.is(Fault::BodyMissingAsEmpty)
    }

    /// [`Fault::AnyContentTypeParsed`]: every body is parsed as JSON, whatever its content type.
    pub fn parses_any_content_type(self) -> bool {
        self.is(Fault::AnyContentTypeParsed)
    }

    /// [`Fault::NonUtf8422`]: a body that is not UTF-8 is 422 `json_invalid`.
    pub fn reports_non_utf8_as_json_invalid(self) -> bool {
        self.is(Fault::NonUtf8422)
    }

    /// [`Fault::SmallBodyLimit`]: bodies over 256 KiB are 413.
    pub fn limits_bodies_to_256_kib(self) -> bool {
        self.is(Fault::SmallBodyLimit)
    }

    /// [`Fault::ListDefaultSize10`]: an absent `size` is 10.
    pub fn defaults_page_size_to_10(self) -> bool {
        self.is(Fault::ListDefaultSize10)
    }

    /// [`Fault::ExclusiveEndBound`]: `end` matches `created_at < end`.
    pub fn excludes_end_bound(self) -> bool {
        self.is(Fault::ExclusiveEndBound)
    }

    /// [`Fault::NaiveBoundsLocalTime`]: a `start`/`end` without an offset is UTC+02:00.
    pub fn reads_naive_bounds_as_local_time(self) -> bool {
        self.is(Fault::NaiveBoundsLocalTime)
    }

    /// [`Fault::UnixTimeAsMilliseconds`]: a numeric `start`/`end` is Unix milliseconds.
    pub fn reads_unix_time_as_milliseconds(self) -> bool {
        self.is(Fault::UnixTimeAsMilliseconds)
    }

    /// [`Fault::LogicalIdPrefixMatch`]: the `logical_id` filter matches any stored id it prefixes.
    pub fn matches_logical_id_by_prefix(self) -> bool {
        self.is(Fault::LogicalIdPrefixMatch)
    }

    /// [`Fault::SearchAsRegex`]: `search` is a case-insensitive regular expression.
    pub fn searches_as_regex(self) -> bool {
        self.is(Fault::SearchAsRegex)
    }

    /// [`Fault::SearchLogicalIdOnly`]: `search` ignores `description`.
    pub fn searches_logical_id_only(self) -> bool {
        self.is(Fault::SearchLogicalIdOnly)
    }

    /// [`Fault::FiltersOr`]: two or more list filters combine with OR.
    pub fn combines_filters_with_or(self) -> bool {
        self.is(Fault::FiltersOr)
    }

    /// [`Fault::PageBeyondEndRepeatsLast`]: a page past the last one is the last page.
    pub fn clamps_page_to_last(self) -> bool {
        self.is(Fault::PageBeyondEndRepeatsLast)
    }

    /// [`Fault::SizeZeroAccepted`]: `size=0` is valid.
    pub fn accepts_size_zero(self) -> bool {
        self.is(Fault::SizeZeroAccepted)
    }

    /// [`Fault::StaleGetAfterUpdate`]: get reads through a cache that update leaves stale.
    pub fn caches_gets(self) -> bool {
        self.is(Fault::StaleGetAfterUpdate)
    }

    /// [`Fault::NonHexId422`]: a 24-character path id must also be hex.
    pub fn validates_ids_as_object_ids(self) -> bool {
        self.is(Fault::NonHexId422)
    }

    /// [`Fault::InvalidUpdatePartiallyApplied`]: an update that fails validation still stores its
    /// valid fields.
    pub fn applies_valid_update_fields(self) -> bool {
        self.is(Fault::InvalidUpdatePartiallyApplied)
    }

    /// [`Fault::EmptyDescriptionSkipped`]: an update leaves the description alone when the new one
    /// is `""` or `null`.
    pub fn skips_falsy_description(self) -> bool {
        self.is(Fault::EmptyDescriptionSkipped)
    }

    /// [`Fault::UpdatedAtNotMoved`]: an update does not move `updated_at`.
    pub fn keeps_updated_at_on_update(self) -> bool {
        self.is(Fault::UpdatedAtNotMoved)
    }

    /// [`Fault::LostUpdate`]: an update is a slow read-modify-write of the whole record.
    pub fn loses_concurrent_updates(self) -> bool {
        self.is(Fault::LostUpdate)
    }

    /// [`Fault::DeleteRaceResurrects`]: an update is a slow read-modify-upsert of the whole record.
    pub fn upserts_on_update(self) -> bool {
        self.is(Fault::DeleteRaceResurrects)
    }

    /// [`Fault::LogicalIdUpsert`]: create removes the team's records with the same `logical_id`.
    pub fn replaces_by_logical_id(self) -> bool {
        self.is(Fault::LogicalIdUpsert)
    }

    /// [`Fault::BoolStringsCaseSensitive`]: a boolean field refuses a lax string that is not lower
    /// case.
    pub fn bool_strings_case_sensitive(self) -> bool {
        self.is(Fault::BoolStringsCaseSensitive)
    }

    /// [`Fault::Accept25CharacterIds`]: a body's 24-character field takes longer strings.
    pub fn accepts_long_ids(self) -> bool {
        self.is(Fault::Accept25CharacterIds)
    }

    /// [`Fault::ApiKeyHeaderAccepted`]: without a bearer credential, `X-API-Key` is read.
    pub fn reads_api_key_header(self) -> bool {
        self.is(Fault::ApiKeyHeaderAccepted)
    }

    /// [`Fault::KeysCaseInsensitive`]: keys are looked up in lower case.
    pub fn folds_key_case(self) -> bool {
        self.is(Fault::KeysCaseInsensitive)
    }
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
