//! In-memory storage: per-team simulations in creation order, behind one short-held lock.

use std::collections::{BTreeMap, HashMap};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::Fault;
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
}

fn lowered(config: &Map<String, Value>) -> [Option<String>; 2] {
    ["logical_id", "description"].map(|name| {
        config
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_lowercase)
    })
}

impl Simulation {
    /// The `SimulationsModel` JSON object.
    pub fn to_json(&self, fault: Option<Fault>) -> Value {
        let mut object = Map::new();
        object.insert("team_id".into(), Value::from(self.team.as_str()));
        object.insert("created_by".into(), Value::from(self.created_by.as_str()));
        if fault != Some(Fault::MissingUpdatedBy) {
            object.insert("updated_by".into(), Value::from(self.updated_by.as_str()));
        }
        object.insert("created_at".into(), timestamp(self.created_at, fault));
        object.insert("updated_at".into(), timestamp(self.updated_at, fault));
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

    fn matches(&self, query: &ListQuery, fault: Option<Fault>) -> bool {
        if let Some(search) = query.search.as_deref().filter(|s| !s.is_empty()) {
            let hit = if fault == Some(Fault::SearchCaseSensitive) {
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
            && (fault == Some(Fault::StatusFilterIgnored)
                || query
                    .status
                    .as_deref()
                    .is_none_or(|status| self.text_field("status") == Some(status)))
    }
}

/// RFC 3339 with microseconds and `Z`, as pydantic v2 writes an aware UTC datetime.
fn timestamp(micros: i64, fault: Option<Fault>) -> Value {
    let time = DateTime::<Utc>::from_timestamp_micros(micros).unwrap_or_default();
    let format = if fault == Some(Fault::NaiveTimestamps) {
        "%Y-%m-%dT%H:%M:%S%.6f"
    } else {
        "%Y-%m-%dT%H:%M:%S%.6fZ"
    };
    Value::from(time.format(format).to_string())
}

#[derive(Debug, Default)]
struct Team {
    by_seq: BTreeMap<u64, Simulation>,
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
    pub simulations: Vec<Simulation>,
    pub total: usize,
}

/// The store. Every operation takes the lock once, does no I/O and never awaits, so parallel
/// requests serialise only for microseconds and no write is lost.
#[derive(Debug, Default)]
pub(crate) struct Store {
    inner: RwLock<Inner>,
}

impl Store {
    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        // Nothing panics while holding the lock, but a poisoned lock still holds valid data.
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    pub fn create(
        &self,
        caller: &Caller,
        config: Map<String, Value>,
        fault: Option<Fault>,
    ) -> Simulation {
        let mut inner = self.write();
        let now = inner.tick();
        let seq = inner.next_seq;
        inner.next_seq += 1;
        // ObjectId-like: 4 bytes of seconds, then a counter, so ids sort in creation order.
        let id = if fault == Some(Fault::NonObjectIdIds) {
            format!("sim-{seq}")
        } else {
            let seconds = u32::try_from(now.div_euclid(1_000_000)).unwrap_or(u32::MAX);
            format!("{seconds:08x}{seq:016x}")
        };
        let simulation = Simulation {
            seq,
            id: id.clone(),
            team: caller.team.clone(),
            created_by: caller.user.clone(),
            updated_by: caller.user.clone(),
            created_at: now,
            updated_at: now,
            lowered: lowered(&config),
            config,
        };
        let team = inner.teams.entry(caller.team.clone()).or_default();
        team.seq_by_id.insert(id, seq);
        team.by_seq.insert(seq, simulation.clone());
        simulation
    }

    pub fn get(&self, team: &str, id: &str) -> Option<Simulation> {
        let inner = self.read();
        let team = inner.teams.get(team)?;
        let seq = team.seq_by_id.get(id)?;
        team.by_seq.get(seq).cloned()
    }

    pub fn update(
        &self,
        caller: &Caller,
        id: &str,
        update: &Update,
        fault: Option<Fault>,
    ) -> Option<Simulation> {
        let mut inner = self.write();
        let now = inner.tick();
        let team = inner.teams.get_mut(&caller.team)?;
        let seq = *team.seq_by_id.get(id)?;
        let stored = team.by_seq.get_mut(&seq)?;
        let mut updated = stored.clone();
        if let Some(description) = &update.description {
            updated
                .config
                .insert("description".into(), description.clone());
        }
        if let Some(status) = &update.status {
            updated.config.insert("status".into(), status.clone());
        }
        if fault == Some(Fault::PatchResetsMaxEvents) {
            updated
                .config
                .insert("max_events".into(), config_default("max_events", None));
        }
        updated.lowered = lowered(&updated.config);
        updated.updated_at = now.max(updated.updated_at);
        updated.updated_by = caller.user.clone();
        if fault != Some(Fault::PatchNotPersisted) {
            *stored = updated.clone();
        }
        Some(updated)
    }

    pub fn delete(&self, team: &str, id: &str, fault: Option<Fault>) -> bool {
        let mut inner = self.write();
        let Some(team) = inner.teams.get_mut(team) else {
            return false;
        };
        if fault == Some(Fault::DeleteNotDeleting) {
            return team.seq_by_id.contains_key(id);
        }
        match team.seq_by_id.remove(id) {
            Some(seq) => team.by_seq.remove(&seq).is_some(),
            None => false,
        }
    }

    /// Newest first: creation order is `created_at` order with ties broken by `_id`, both
    /// strictly increasing, so walking the sequence backwards is the contract's order.
    pub fn list(&self, team: &str, query: &ListQuery, fault: Option<Fault>) -> Page {
        let inner = self.read();
        let skip = usize::try_from(query.page.saturating_sub(1).saturating_mul(query.size))
            .unwrap_or(usize::MAX);
        let size = usize::try_from(query.size).unwrap_or(usize::MAX);
        let mut page = Vec::new();
        let mut total = 0;
        let mut visit = |simulation: &Simulation| {
            if simulation.matches(query, fault) {
                if total >= skip && page.len() < size {
                    page.push(simulation.clone());
                }
                total += 1;
            }
        };
        if fault == Some(Fault::CrossTeamList) {
            let mut all: Vec<&Simulation> = inner
                .teams
                .values()
                .flat_map(|t| t.by_seq.values())
                .collect();
            all.sort_by_key(|s| std::cmp::Reverse(s.seq));
            all.into_iter().for_each(&mut visit);
        } else if let Some(team) = inner.teams.get(team) {
            if fault == Some(Fault::OldestFirst) {
                team.by_seq.values().for_each(&mut visit);
            } else {
                team.by_seq.values().rev().for_each(&mut visit);
            }
        }
        if fault == Some(Fault::TotalIsPageLength) {
            total = page.len();
        }
        Page {
            simulations: page,
            total,
        }
    }
}
