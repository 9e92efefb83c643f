//! The list's query parameters that CONTRACT.md's [model] list rules give a meaning to (`listing.rs` reads them), and the check that refuses a spec whose list lacks one or types it otherwise.

use super::{Api, ParamKind};
use crate::error::RunError;

/// `list.window`: the page size.
pub(crate) const PAGE_SIZE: &str = "size";
/// `list.window`: the page number, from 1.
pub(crate) const PAGE: &str = "page";
/// `list.search`: a case-insensitive substring of `logical_id` or `description`.
pub(crate) const SEARCH: &str = "search";
/// `list.time-bounds`: inclusive bounds on `created_at`.
pub(crate) const START: &str = "start";
pub(crate) const END: &str = "end";
/// `list.exact-filters`: exact matches on the config's `logical_id`, each workflow's
/// `workflow_id` and `status`.
pub(crate) const LOGICAL_ID: &str = "logical_id";
pub(crate) const SELECTED_WORKFLOW_ID: &str = "selected_workflow_id";
pub(crate) const COUNTER_WORKFLOW_ID: &str = "counter_workflow_id";
pub(crate) const STATUS: &str = "status";

/// Each rule's parameter and the kind the rule reads it as.
fn rule_parameters() -> [(&'static str, &'static str); 9] {
    [
        (PAGE_SIZE, "integer"),
        (PAGE, "integer"),
        (SEARCH, "string"),
        (START, "date-time"),
        (END, "date-time"),
        (LOGICAL_ID, "string"),
        (SELECTED_WORKFLOW_ID, "string"),
        (COUNTER_WORKFLOW_ID, "string"),
        (STATUS, "enum"),
    ]
}

/// Refuses a spec whose list lacks a parameter a rule gives a meaning to, or types it otherwise.
pub(crate) fn check_parameters(api: &Api) -> Result<(), RunError> {
    for (name, wanted) in rule_parameters() {
        let found = match api.query_parameter(name).map(|p| &p.kind) {
            None => "no such parameter",
            Some(ParamKind::Integer { .. }) => "integer",
            Some(ParamKind::String { .. }) => "string",
            Some(ParamKind::DateTime) => "date-time",
            Some(ParamKind::Enum(values)) if values.is_empty() => "an enum without values",
            Some(ParamKind::Enum(_)) => "enum",
        };
        if found != wanted {
            return Err(RunError::Spec(format!(
                "the list rules read query parameter {name} as {wanted}; the spec has {found}"
            )));
        }
    }
    Ok(())
}
