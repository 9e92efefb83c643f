//! What the checks and scenarios of one run share: who the key belongs to, the records the run created (and how to prove them its own), what it deleted, and the values the generated client cannot hold.

use std::collections::{BTreeSet, HashSet};
use std::sync::Mutex;

use serde_json::Value;

use crate::request::Body;
use crate::spec::Operation;

/// The team and user the key belongs to, when the suite knows them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Identity {
    pub team: Option<String>,
    pub user: Option<String>,
}

/// A value a server answered with that the generated client's types cannot hold, such as an
/// integer beyond `i64` (which FastAPI stores and returns exactly). A limit of the client, not
/// a fault of the server: `typed_client_decodes` passes and records one of these instead.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ClientLimit {
    pub operation: Operation,
    /// Where in the response body, as a JSON pointer.
    pub pointer: String,
    /// The number with the server's digits (serde_json writes an exponent with its sign: `1e+30`).
    pub value: String,
    /// The generated client's type for that field.
    pub client_type: &'static str,
}

/// What the checks and scenarios share across one run.
#[derive(Debug)]
pub struct RunState {
    pub identity: Mutex<Identity>,
    pub seen_ids: Mutex<HashSet<String>>,
    /// Prefix of every `logical_id` and `description` a stateful scenario writes, so a shared
    /// QA team's lists can be scoped to this run and its leftovers found.
    pub run_tag: String,
    /// Every simulation a create answered with: cleaned up at the end of the run.
    pub created: Mutex<Vec<Created>>,
    /// The path of each delete the run's own key sent that was answered 2xx or 404: the record
    /// behind it is gone, so the cleanup need not read it back (unless its search lists it).
    pub deleted: Mutex<HashSet<String>>,
    /// Creates without the run's tag whose answer was lost after they may have reached the
    /// service: what they made cannot be told from a same-key client's identical record, so the
    /// cleanup leaves it and the report names it.
    pub unproven: Mutex<Vec<Unproven>>,
    pub other_team: bool,
    /// Values the generated client could not hold, each once: for the report to list as notes
    /// about the client (see [`RunState::client_limits`]).
    pub client_limits: Mutex<BTreeSet<ClientLimit>>,
    /// Held from a create of about 1 MiB (`body.too-large`'s sizes) until its record is deleted,
    /// so at most one such record of the run is alive at a time: otherwise a page of the run's
    /// own records, listed meanwhile by a concurrent case, can pass `--max-response-bytes` on
    /// a faithful server (seen: 10 MiB with ten alive under load).
    pub large_record: tokio::sync::Mutex<()>,
}

impl RunState {
    pub fn new(identity: Identity) -> RunState {
        RunState::tagged(identity, "ct-test".into(), false)
    }

    pub fn tagged(identity: Identity, run_tag: String, other_team: bool) -> RunState {
        RunState {
            identity: Mutex::new(identity),
            seen_ids: Mutex::new(HashSet::new()),
            run_tag,
            created: Mutex::new(Vec::new()),
            deleted: Mutex::new(HashSet::new()),
            unproven: Mutex::new(Vec::new()),
            other_team,
            client_limits: Mutex::new(BTreeSet::new()),
            large_record: tokio::sync::Mutex::new(()),
        }
    }

    /// Every value seen so far that the generated client cannot hold, in a stable order.
    pub(crate) fn client_limits(&self) -> Vec<ClientLimit> {
        self.client_limits
            .lock()
            .expect("not poisoned")
            .iter()
            .cloned()
            .collect()
    }
}

/// A simulation this run created, as its create response showed it: the id to delete, and the
/// mark that proves, before the delete, that the record behind the id is still the one created.
#[derive(Debug, Clone, PartialEq)]
pub struct Created {
    pub id: String,
    pub created_at: Option<String>,
}

/// Records a create may have made that the run cannot prove are its own: attempts whose answer
/// was lost after the request may have reached the service, for a body that carries no run tag.
///
/// Rule: the cleanup never deletes what the run cannot prove it wrote. A record a lost attempt
/// made from a tagged body carries the tag, which the cleanup's search finds and its read-back
/// proves; one made from an untagged body (all defaults, say) is indistinguishable from the
/// identical record another client of the same key (another CI shard, a person on the QA team)
/// wrote in the same second, so it is reported, never deleted.
#[derive(Debug, Clone, PartialEq)]
pub struct Unproven {
    /// How many attempts may have made a record.
    pub attempts: u32,
    /// When the first attempt was sent (UTC, RFC 3339), and how long the attempts went on.
    pub sent_at: String,
    pub within: std::time::Duration,
    /// The body's `logical_id`, when it is a string: what a person searches for.
    pub logical_id: Option<String>,
}

/// Whether a create body carries `tag` in a field the cleanup's search looks in, so a record
/// made from it can be found and proven the run's.
pub(crate) fn body_carries_tag(body: &Body, tag: &str) -> bool {
    matches!(body, Body::Json(config) if config_carries_tag(config, tag))
}

/// Whether a simulation config (as sent or as stored) holds `tag` in a field the list's
/// search looks in: where the run writes its tag, and what proves a record the run's.
pub(crate) fn config_carries_tag(config: &Value, tag: &str) -> bool {
    crate::listing::SEARCHED_FIELDS.iter().any(|field| {
        config[field]
            .as_str()
            .is_some_and(|text| text.contains(tag))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_body_carries_the_tag_only_in_a_searched_string_field() {
        let tag = "ct0000beef";
        for carrying in [
            json!({"logical_id": "ct0000beef-n1"}),
            json!({"description": "x ct0000beefr3-n2"}),
        ] {
            assert!(body_carries_tag(&Body::Json(carrying), tag));
        }
        for bare in [
            json!({}),
            json!({"logical_id": "ct0000bee"}),
            json!({"logical_id": ["ct0000beef"]}),
            json!({"max_events": 500, "extra": "ct0000beef"}),
        ] {
            assert!(!body_carries_tag(&Body::Json(bare.clone()), tag), "{bare}");
        }
        assert!(!body_carries_tag(&Body::Bytes(b"ct0000beef".to_vec()), tag));
    }
}
