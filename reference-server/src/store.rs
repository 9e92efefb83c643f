//! In-memory storage: per-team simulations in creation order, behind one short-held lock.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::faults::Faults;
use crate::validate::{ListQuery, Update, config_default};

/// The user and team a request acts for.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub team: String,
    pub user: String,
}

/// One stored simulation.
#[derive(Debug, Clone)]
pub(crate) struct Simulation {
    /// Creation sequence number: the list order key (newer is larger).
    seq: u64,
    pub id: String,
    pub team: String,
    pub created_by: String,
    pub updated_by: String,
    /// Unix microseconds.
    pub created_at: i64,
    pub updated_at: i64,
    /// The canonical config: every field present.
    pub config: Map<String, Value>,
    /// `logical_id` and `description` lowercased, kept with the config so a `search` scan of a
    /// large team does not lowercase every record on every list.
    lowered: [Option<String>; 2],
    /// Roughly the bytes of this record's JSON, so a list can tell cheaply whether building its
    /// answer is heavy work.
    pub weight: usize,
}

fn lowered(config: &Map<String, Value>) -> [Option<String>; 2] {
    ["logical_id", "description"].map(|name| lowered_text(config.get(name)))
}

fn lowered_text(value: Option<&Value>) -> Option<String> {
    value.and_then(Value::as_str).map(str::to_lowercase)
}

/// Bytes of text plus a constant per node: close enough to the JSON's length to tell a page of
/// megabytes from one of kilobytes, and linear in the number of nodes, not in the text.
fn weight(value: &Value) -> usize {
    const NODE: usize = 8;
    match value {
        Value::String(text) => NODE + text.len(),
        Value::Array(items) => NODE + items.iter().map(weight).sum::<usize>(),
        Value::Object(fields) => {
            NODE + fields
                .iter()
                .map(|(name, value)| name.len() + weight(value))
                .sum::<usize>()
        }
        _ => NODE,
    }
}

fn config_weight(config: &Map<String, Value>) -> usize {
    // The fixed part: ids, team, users and timestamps.
    const ENVELOPE: usize = 256;
    ENVELOPE
        + config
            .iter()
            .map(|(name, value)| name.len() + weight(value))
            .sum::<usize>()
}

impl Simulation {
    /// The `SimulationsModel` JSON object.
    pub fn to_json(&self) -> Value {
        let mut object = Map::new();
        object.insert("team_id".into(), Value::from(self.team.as_str()));
        object.insert("created_by".into(), Value::from(self.created_by.as_str()));
        object.insert("updated_by".into(), Value::from(self.updated_by.as_str()));
        object.insert("created_at".into(), timestamp(self.created_at));
        object.insert("updated_at".into(), timestamp(self.updated_at));
        object.insert("_id".into(), Value::from(self.id.as_str()));
        object.insert(
            "simulation_config".into(),
            Value::Object(self.config.clone()),
        );
        Value::Object(object)
    }

    fn text_field(&self, name: &str) -> Option<&str> {
        self.config.get(name).and_then(Value::as_str)
    }

    fn workflow_id(&self, workflow: &str) -> Option<&str> {
        self.config
            .get(workflow)
            .and_then(|w| w.get("workflow_id"))
            .and_then(Value::as_str)
    }

    fn matches(&self, query: &ListQuery, faults: Faults) -> bool {
        if let Some(search) = query.search.as_deref().filter(|s| !s.is_empty()) {
            let hit = if faults.searches_case_sensitively() {
                ["logical_id", "description"]
                    .iter()
                    .any(|f| self.text_field(f).is_some_and(|t| t.contains(search)))
            } else {
                let needle = query.search_lowered.as_deref().unwrap_or(search);
                self.lowered.iter().flatten().any(|t| t.contains(needle))
            };
            if !hit {
                return false;
            }
        }
        query.start.is_none_or(|start| self.created_at >= start)
            && query.end.is_none_or(|end| self.created_at <= end)
            && query
                .logical_id
                .as_deref()
                .is_none_or(|id| self.text_field("logical_id") == Some(id))
            && query
                .selected_workflow_id
                .as_deref()
                .is_none_or(|id| self.workflow_id("selected_workflow") == Some(id))
            && query
                .counter_workflow_id
                .as_deref()
                .is_none_or(|id| self.workflow_id("counter_workflow") == Some(id))
            && (faults.ignores_status_filter()
                || query
                    .status
                    .as_deref()
                    .is_none_or(|status| self.text_field("status") == Some(status)))
    }
}

/// RFC 3339 with microseconds and `Z`, as pydantic v2 writes an aware UTC datetime.
fn timestamp(micros: i64) -> Value {
    let time = DateTime::<Utc>::from_timestamp_micros(micros).unwrap_or_default();
    Value::from(time.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
}

/// Records are shared with the requests reading them, so a list or a get clones pointers under
/// the lock, never megabytes of text, and an update replaces a record instead of editing what a
/// reader holds.
#[derive(Debug, Default)]
struct Team {
    by_seq: BTreeMap<u64, Arc<Simulation>>,
    seq_by_id: HashMap<String, u64>,
}

#[derive(Debug, Default)]
struct Inner {
    teams: HashMap<String, Team>,
    /// The last timestamp handed out, so timestamps strictly increase even if the wall clock
    /// stalls or steps back.
    last_micros: i64,
    next_seq: u64,
}

impl Inner {
    fn tick(&mut self) -> i64 {
        let now = Utc::now().timestamp_micros();
        self.last_micros = now.max(self.last_micros + 1);
        self.last_micros
    }
}

/// One page of a list and the number of all matches.
#[derive(Debug)]
pub(crate) struct Page {
    pub simulations: Vec<Arc<Simulation>>,
    pub total: usize,
}

impl Page {
    /// `{"simulations": [...], "total": n}` as bytes, exactly as serialising that `Value` would
    /// write it, but converting one record at a time: a page of large records is held once as
    /// output, not also as a tree of values.
    pub fn to_json_bytes(&self) -> Vec<u8> {
        let weight: usize = self.simulations.iter().map(|s| s.weight).sum();
        let mut out = Vec::with_capacity(weight.saturating_add(32));
        out.extend_from_slice(b"{\"simulations\":[");
        for (n, simulation) in self.simulations.iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            // A `Value` always serialises and a `Vec` takes every write, so this cannot fail.
            let _ = serde_json::to_writer(&mut out, &simulation.to_json());
        }
        out.extend_from_slice(format!("],\"total\":{}}}", self.total).as_bytes());
        out
    }
}

/// The records a list looks at, in the order it looks at them, taken under the lock without
/// copying any record; filtering and paging happen after the lock is released.
#[derive(Debug)]
pub(crate) struct Snapshot {
    records: Vec<Arc<Simulation>>,
    faults: Faults,
}

impl Snapshot {
    /// The summed weight of every record: an upper bound on the work of filtering and
    /// serialising any page of it.
    pub fn weight(&self) -> usize {
        self.records.iter().map(|s| s.weight).sum()
    }

    /// The page `query` asks for and the number of all matches.
    pub fn page(&self, query: &ListQuery) -> Page {
        let skip = usize::try_from(query.page.saturating_sub(1).saturating_mul(query.size))
            .unwrap_or(usize::MAX);
        let size = usize::try_from(query.size).unwrap_or(usize::MAX);
        let mut page = Vec::new();
        let mut total = 0;
        for simulation in &self.records {
            if simulation.matches(query, self.faults) {
                if total >= skip && page.len() < size {
                    page.push(Arc::clone(simulation));
                }
                total += 1;
            }
        }
        Page {
            simulations: page,
            total,
        }
    }
}

/// The store. Every operation takes the lock once, does no I/O and never awaits, so parallel
/// requests serialise only for microseconds and no write is lost.
#[derive(Debug, Default)]
pub(crate) struct Store {
    inner: RwLock<Inner>,
    faults: Faults,
}

impl Store {
    pub fn new(faults: Faults) -> Self {
        Store {
            inner: RwLock::default(),
            faults,
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        // Nothing panics while holding the lock, but a poisoned lock still holds valid data.
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    pub fn create(&self, caller: &Caller, config: Map<String, Value>) -> Arc<Simulation> {
        // Work proportional to the record's size happens before the lock.
        let lowered = lowered(&config);
        let weight = config_weight(&config);
        let mut inner = self.write();
        let now = inner.tick();
        let seq = inner.next_seq;
        inner.next_seq += 1;
        // ObjectId-like: 4 bytes of seconds, then a counter, so ids sort in creation order.
        let id = if self.faults.mints_counter_ids() {
            format!("sim-{seq}")
        } else {
            let seconds = u32::try_from(now.div_euclid(1_000_000)).unwrap_or(u32::MAX);
            format!("{seconds:08x}{seq:016x}")
        };
        let simulation = Arc::new(Simulation {
            seq,
            id: id.clone(),
            team: caller.team.clone(),
            created_by: caller.user.clone(),
            updated_by: caller.user.clone(),
            created_at: now,
            updated_at: now,
            lowered,
            weight,
            config,
        });
        let team = inner.teams.entry(caller.team.clone()).or_default();
        team.seq_by_id.insert(id, seq);
        team.by_seq.insert(seq, Arc::clone(&simulation));
        simulation
    }

    pub fn get(&self, team: &str, id: &str) -> Option<Arc<Simulation>> {
        let inner = self.read();
        let team = inner.teams.get(team)?;
        let seq = team.seq_by_id.get(id)?;
        team.by_seq.get(seq).cloned()
    }

    pub fn update(&self, caller: &Caller, id: &str, update: &Update) -> Option<Arc<Simulation>> {
        // The new description is the only text that changes; lowercase it before the lock.
        let description_lowered = update
            .description
            .as_ref()
            .map(|description| lowered_text(Some(description)));
        let mut inner = self.write();
        let now = inner.tick();
        let team = inner.teams.get_mut(&caller.team)?;
        let seq = *team.seq_by_id.get(id)?;
        let stored = team.by_seq.get_mut(&seq)?;
        let apply = |simulation: &mut Simulation| {
            if let Some(description) = &update.description {
                simulation
                    .config
                    .insert("description".into(), description.clone());
            }
            if let Some(status) = &update.status {
                simulation.config.insert("status".into(), status.clone());
            }
            if self.faults.patch_resets_max_events() {
                simulation
                    .config
                    .insert("max_events".into(), config_default("max_events"));
            }
            if let Some(lowered) = description_lowered.clone() {
                simulation.lowered[1] = lowered;
            }
            simulation.weight = config_weight(&simulation.config);
            simulation.updated_at = now.max(simulation.updated_at);
            simulation.updated_by = caller.user.clone();
        };
        if self.faults.drops_patches() {
            let mut updated = Simulation::clone(&**stored);
            apply(&mut updated);
            return Some(Arc::new(updated));
        }
        // Edits in place unless a request still holds the old version, which then keeps it.
        apply(Arc::make_mut(stored));
        Some(Arc::clone(stored))
    }

    pub fn delete(&self, team: &str, id: &str) -> bool {
        let mut inner = self.write();
        let Some(team) = inner.teams.get_mut(team) else {
            return false;
        };
        if self.faults.keeps_deleted() {
            return team.seq_by_id.contains_key(id);
        }
        match team.seq_by_id.remove(id) {
            Some(seq) => team.by_seq.remove(&seq).is_some(),
            None => false,
        }
    }

    /// The team's records in the contract's order (newest first): creation order is
    /// `created_at` order with ties broken by `_id`, both strictly increasing, so walking the
    /// sequence backwards is that order. Only pointers are copied under the lock.
    pub fn snapshot(&self, team: &str) -> Snapshot {
        let inner = self.read();
        let records = if self.faults.lists_every_team() {
            let mut all: Vec<Arc<Simulation>> = inner
                .teams
                .values()
                .flat_map(|t| t.by_seq.values().cloned())
                .collect();
            all.sort_by_key(|s| std::cmp::Reverse(s.seq));
            all
        } else if let Some(team) = inner.teams.get(team) {
            if self.faults.lists_oldest_first() {
                team.by_seq.values().cloned().collect()
            } else {
                team.by_seq.values().rev().cloned().collect()
            }
        } else {
            Vec::new()
        };
        Snapshot {
            records,
            faults: self.faults,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::validate::list_query;

    fn caller() -> Caller {
        Caller {
            team: "t".into(),
            user: "u".into(),
        }
    }

    fn config(description: &str) -> Map<String, Value> {
        let value = json!({"logical_id": "L", "description": description, "n": [1, 2.5, null]});
        value.as_object().cloned().unwrap_or_default()
    }

    fn query(pairs: &[(&str, &str)]) -> ListQuery {
        let raw = pairs
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        list_query(&raw).unwrap_or_else(|_| panic!("valid query {pairs:?}"))
    }

    #[test]
    fn list_bytes_are_what_serialising_the_value_writes() {
        let store = Store::default();
        for n in 0..3 {
            store.create(&caller(), config(&format!("d\"{n}\u{e9}")));
        }
        for pairs in [&[][..], &[("size", "2")], &[("page", "9")]] {
            let page = store.snapshot("t").page(&query(pairs));
            let records: Vec<Value> = page.simulations.iter().map(|s| s.to_json()).collect();
            let expected = json!({ "simulations": records, "total": page.total });
            let expected = serde_json::to_vec(&expected).unwrap_or_default();
            assert_eq!(page.to_json_bytes(), expected, "{pairs:?}");
        }
    }

    #[test]
    fn a_snapshot_keeps_the_version_it_took_and_search_sees_updates() {
        let store = Store::default();
        let created = store.create(&caller(), config("Old"));
        let before = store.snapshot("t");
        let update = Update {
            description: Some(Value::from("NEW text")),
            status: None,
        };
        let updated = store.update(&caller(), &created.id, &update);
        assert!(updated.is_some_and(|u| u.config["description"] == "NEW text"));
        let old = before.page(&query(&[]));
        assert_eq!(old.simulations[0].config["description"], "Old");
        assert_eq!(
            store.snapshot("t").page(&query(&[("search", "new")])).total,
            1
        );
        assert_eq!(
            store.snapshot("t").page(&query(&[("search", "old")])).total,
            0
        );
        assert!(
            store
                .get("t", &created.id)
                .is_some_and(|s| s.config["description"] == "NEW text")
        );
    }

    #[test]
    fn weight_grows_with_the_text() {
        let small = config_weight(&config("x"));
        let large = config_weight(&config(&"x".repeat(1 << 20)));
        assert_eq!(large - small, (1 << 20) - 1);
    }
}
