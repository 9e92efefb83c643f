//! List semantics on the client side, CONTRACT.md's [model] list rules: which of a run's own simulations a filter matches, in which order, and what a page must hold.
//!
//! The spec types the list's parameters; what each one means is the contract's, so the rules
//! below name the parameters they give a meaning to, and the spec refuses at load a list that
//! lacks one of them or types it otherwise (`spec::list_parameters::check_parameters`).

use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};
use serde_json::Value;

use crate::spec::{Api, percent_encode};

/// The parameters the list rules give a meaning to, as the spec names them; the spec refuses
/// at load a list that lacks one ([`crate::spec::list_parameters`]).
pub(crate) use crate::spec::list_parameters::{
    COUNTER_WORKFLOW_ID, END, LOGICAL_ID, PAGE, PAGE_SIZE, SEARCH, SELECTED_WORKFLOW_ID, START,
    STATUS,
};

/// The config fields `list.search` looks in; a stateful scenario writes its tag into both.
pub const SEARCHED_FIELDS: [&str; 2] = ["logical_id", "description"];
/// Where in the config each exact filter looks.
pub const LOGICAL_ID_FIELD: &str = "/logical_id";
pub const STATUS_FIELD: &str = "/status";
pub const SELECTED_WORKFLOW_FIELD: &str = "/selected_workflow/workflow_id";
pub const COUNTER_WORKFLOW_FIELD: &str = "/counter_workflow/workflow_id";

/// The page size nearest to `wanted` that the spec's bounds on it allow.
pub fn page_size(api: &Api, wanted: u64) -> u64 {
    let size = api
        .query_parameter(PAGE_SIZE)
        .expect("check_parameters made sure it exists");
    size.clamp(i64::try_from(wanted).unwrap_or(i64::MAX))
        .max(1)
        .unsigned_abs()
}

/// The list filters of one request, as sent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListFilter {
    pub logical_id: Option<String>,
    pub status: Option<String>,
    pub selected_workflow_id: Option<String>,
    pub counter_workflow_id: Option<String>,
    pub search: Option<String>,
    pub start: Option<String>,
    pub end: Option<String>,
}

/// A date-time query value as the contract reads it: RFC 3339, without offset meaning UTC, or
/// a whole number of Unix seconds (`list.time-bounds`). The suite writes only whole seconds,
/// well below 2e10, where every reader agrees; fractions and milliseconds are pydantic's own
/// reading and are not modelled.
pub fn parse_query_time(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::<FixedOffset>::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        let seconds: i64 = text.parse().ok()?;
        return (seconds < 20_000_000_000)
            .then(|| DateTime::from_timestamp(seconds, 0))
            .flatten();
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|n| n.and_utc())
}

pub fn created_at(sim: &Value) -> Option<DateTime<Utc>> {
    sim.get("created_at")
        .and_then(Value::as_str)
        .and_then(parse_query_time)
}

/// Which of [`SEARCHED_FIELDS`] hold `needle`, each on its own, ignoring case (`list.search`):
/// a null field holds no text, and a needle across both fields is in neither.
pub fn search_hits(needle: &str, sim: &Value) -> [bool; 2] {
    let needle = needle.to_lowercase();
    SEARCHED_FIELDS.map(|field| {
        sim["simulation_config"][field]
            .as_str()
            .is_some_and(|s| s.to_lowercase().contains(&needle))
    })
}

impl ListFilter {
    /// The query string: page size, page number, then the filters.
    pub fn query(&self, size: u64, page: u64) -> String {
        let paging = format!("{PAGE_SIZE}={size}&{PAGE}={page}");
        match self.filters() {
            filters if filters.is_empty() => paging,
            filters => format!("{paging}&{filters}"),
        }
    }

    /// The filters alone, as a query string.
    pub fn filters(&self) -> String {
        let fields = [
            (LOGICAL_ID, &self.logical_id),
            (STATUS, &self.status),
            (SELECTED_WORKFLOW_ID, &self.selected_workflow_id),
            (COUNTER_WORKFLOW_ID, &self.counter_workflow_id),
            (SEARCH, &self.search),
            (START, &self.start),
            (END, &self.end),
        ];
        fields
            .into_iter()
            .filter_map(|(name, value)| {
                value
                    .as_ref()
                    .map(|v| format!("{name}={}", percent_encode(v)))
            })
            .collect::<Vec<_>>()
            .join("&")
    }

    /// Whether a stored simulation matches every filter (they combine with AND).
    pub fn matches(&self, sim: &Value) -> bool {
        let config = &sim["simulation_config"];
        let text = |v: &Value| v.as_str().map(str::to_owned);
        let eq = |wanted: &Option<String>, got: &Value| {
            wanted
                .as_ref()
                .is_none_or(|w| text(got).as_deref() == Some(w.as_str()))
        };
        let search_ok = self
            .search
            .as_ref()
            .is_none_or(|needle| search_hits(needle, sim).contains(&true));
        let at = created_at(sim);
        let start_ok = self
            .start
            .as_ref()
            .is_none_or(|s| match (parse_query_time(s), at) {
                (Some(bound), Some(at)) => at >= bound,
                _ => false,
            });
        let end_ok = self
            .end
            .as_ref()
            .is_none_or(|e| match (parse_query_time(e), at) {
                (Some(bound), Some(at)) => at <= bound,
                _ => false,
            });
        let field = |at: &str| config.pointer(at).unwrap_or(&Value::Null);
        eq(&self.logical_id, field(LOGICAL_ID_FIELD))
            && eq(&self.status, field(STATUS_FIELD))
            && eq(&self.selected_workflow_id, field(SELECTED_WORKFLOW_FIELD))
            && eq(&self.counter_workflow_id, field(COUNTER_WORKFLOW_FIELD))
            && search_ok
            && start_ok
            && end_ok
    }
}

/// Newest first: `created_at` descending, ties by `_id` descending.
pub fn sort_newest_first(sims: &mut [Value]) {
    sims.sort_by(|a, b| {
        created_at(b).cmp(&created_at(a)).then_with(|| {
            b["_id"]
                .as_str()
                .unwrap_or_default()
                .cmp(a["_id"].as_str().unwrap_or_default())
        })
    });
}

/// What one list page must show of this run's records.
#[derive(Debug, Clone, PartialEq)]
pub struct ListExpectation {
    pub filter: ListFilter,
    /// The filter scopes the result to this scenario's records: the page must be exactly
    /// `expected_ids`, in order, and `total` exact. Otherwise the page is only checked to hold
    /// records that match the filter (a shared QA team holds other data).
    pub exact: bool,
    pub expected_ids: Vec<String>,
    pub total: u64,
    /// Ids that must not appear at all (deleted, or another team's).
    pub absent: Vec<String>,
}

impl ListExpectation {
    /// A one-page list scoped to the scenario: exactly `ids`, in order, and `total` their count.
    pub fn exactly(filter: ListFilter, ids: Vec<String>) -> ListExpectation {
        let total = ids.len() as u64;
        ListExpectation {
            filter,
            exact: true,
            expected_ids: ids,
            total,
            absent: Vec::new(),
        }
    }

    /// A scoped list that must come back empty and never show `absent`.
    pub fn empty_without(filter: ListFilter, absent: Vec<String>) -> ListExpectation {
        ListExpectation {
            absent,
            ..ListExpectation::exactly(filter, Vec::new())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sim(id: &str, at: &str, logical_id: &str, description: Option<&str>, status: &str) -> Value {
        json!({"_id": id, "created_at": at, "simulation_config": {"logical_id": logical_id, "description": description,
            "status": status, "selected_workflow": {"workflow_id": null}, "counter_workflow": {"workflow_id": "c".repeat(24)}}})
    }

    #[test]
    fn filters_combine_with_and_and_search_ignores_case() {
        let s = sim(
            "a",
            "2026-01-01T00:00:00Z",
            "run-XyZ-1",
            Some("Hello"),
            "running",
        );
        let f = ListFilter {
            search: Some("xyz".into()),
            status: Some("running".into()),
            ..Default::default()
        };
        assert!(f.matches(&s));
        assert!(
            ListFilter {
                search: Some("HELLO".into()),
                ..Default::default()
            }
            .matches(&s)
        );
        assert!(
            !ListFilter {
                status: Some("pending".into()),
                search: Some("xyz".into()),
                ..Default::default()
            }
            .matches(&s)
        );
        assert!(
            ListFilter {
                counter_workflow_id: Some("c".repeat(24)),
                ..Default::default()
            }
            .matches(&s)
        );
        assert!(
            !ListFilter {
                selected_workflow_id: Some("c".repeat(24)),
                ..Default::default()
            }
            .matches(&s)
        );
    }

    #[test]
    fn time_bounds_are_inclusive_and_naive_times_are_utc() {
        let s = sim("a", "2026-01-01T10:00:00.5+00:00", "l", None, "pending");
        assert!(
            ListFilter {
                start: Some("2026-01-01T10:00:00.5Z".into()),
                end: Some("2026-01-01T10:00:00.500".into()),
                ..Default::default()
            }
            .matches(&s)
        );
        assert!(
            !ListFilter {
                start: Some("2026-01-01T11:00:00+00:00".into()),
                ..Default::default()
            }
            .matches(&s)
        );
        assert!(
            ListFilter {
                end: Some("2026-01-01T12:00:01+02:00".into()),
                ..Default::default()
            }
            .matches(&s)
        );
    }

    #[test]
    fn a_null_field_is_no_text_and_a_needle_across_the_fields_is_in_neither() {
        let s = sim("a", "2026-01-01T00:00:00Z", "run-7", None, "pending");
        assert_eq!(search_hits("RUN", &s), [true, false]);
        for needle in ["none", "None", "null", "7 none", "7 "] {
            assert_eq!(search_hits(needle, &s), [false, false], "{needle}");
        }
        let both = sim(
            "a",
            "2026-01-01T00:00:00Z",
            "run-7",
            Some("Hello"),
            "pending",
        );
        assert_eq!(search_hits("7 hel", &both), [false, false]);
        assert_eq!(search_hits("l", &both), [false, true]);
    }

    #[test]
    fn bounds_at_a_truncated_instant_decide_exactly() {
        let s = sim("a", "2026-01-01T10:00:00.5Z", "l", None, "pending");
        let end = |e: &str| {
            ListFilter {
                end: Some(e.into()),
                ..Default::default()
            }
            .matches(&s)
        };
        let start = |b: &str| {
            ListFilter {
                start: Some(b.into()),
                ..Default::default()
            }
            .matches(&s)
        };
        // Midnight of the record's day is that instant, not the whole day.
        assert!(!end("2026-01-01T00:00:00Z"));
        assert!(!end("2026-01-01T00:00:00"));
        assert!(start("2026-01-01T00:00:00Z"));
        // The second it falls in, and a microsecond either side.
        assert!(!end("2026-01-01T10:00:00Z"));
        assert!(start("1767261600"));
        assert!(!end("1767261600"));
        assert!(!end("2026-01-01T10:00:00.499999Z"));
        assert!(end("2026-01-01T10:00:00.500001Z"));
        assert!(!start("2026-01-01T10:00:00.500001Z"));
        // The same instant in another offset.
        assert!(end("2026-01-01T15:30:00.5+05:30"));
        assert!(start("2026-01-01T15:30:00.5+05:30"));
        assert!(!end("2026-01-01T15:30:00.499999+05:30"));
    }

    #[test]
    fn newest_first_breaks_ties_by_id() {
        let mut v = vec![
            sim("a", "2026-01-01T00:00:00Z", "", None, "pending"),
            sim("c", "2026-01-02T00:00:00Z", "", None, "pending"),
            sim("b", "2026-01-01T00:00:00Z", "", None, "pending"),
        ];
        sort_newest_first(&mut v);
        let ids: Vec<&str> = v.iter().map(|s| s["_id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["c", "b", "a"]);
    }

    #[test]
    fn query_values_are_encoded() {
        let f = ListFilter {
            search: Some("a b&c".into()),
            start: Some("2026-01-01T00:00:00+02:00".into()),
            ..Default::default()
        };
        assert_eq!(
            f.query(5, 2),
            "size=5&page=2&search=a%20b%26c&start=2026-01-01T00%3A00%3A00%2B02%3A00"
        );
    }
}
