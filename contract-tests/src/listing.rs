//! List semantics on the client side: which of a run's own simulations a filter matches, in which order, and what a page must hold.

use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};
use serde_json::Value;

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

/// A date-time query value as the contract reads it: RFC 3339, or without offset meaning UTC.
pub fn parse_query_time(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::<FixedOffset>::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
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

impl ListFilter {
    /// The query string, with `size` and `page`.
    pub fn query(&self, size: u64, page: u64) -> String {
        let mut pairs = vec![format!("size={size}"), format!("page={page}")];
        let fields = [
            ("logical_id", &self.logical_id),
            ("status", &self.status),
            ("selected_workflow_id", &self.selected_workflow_id),
            ("counter_workflow_id", &self.counter_workflow_id),
            ("search", &self.search),
            ("start", &self.start),
            ("end", &self.end),
        ];
        for (name, value) in fields {
            if let Some(v) = value {
                pairs.push(format!("{name}={}", encode(v)));
            }
        }
        pairs.join("&")
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
        let search_ok = self.search.as_ref().is_none_or(|needle| {
            let needle = needle.to_lowercase();
            [&config["logical_id"], &config["description"]]
                .iter()
                .any(|v| {
                    v.as_str()
                        .is_some_and(|s| s.to_lowercase().contains(&needle))
                })
        });
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
        eq(&self.logical_id, &config["logical_id"])
            && eq(&self.status, &config["status"])
            && eq(
                &self.selected_workflow_id,
                &config["selected_workflow"]["workflow_id"],
            )
            && eq(
                &self.counter_workflow_id,
                &config["counter_workflow"]["workflow_id"],
            )
            && search_ok
            && start_ok
            && end_ok
    }
}

/// Percent-encodes a query value (RFC 3986 unreserved characters stay).
pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
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
