//! In-memory storage: per-team simulations in creation order, behind one short-held lock, each
//! team within a [`Quota`] of records and bytes.
//!
//! The app holds its storage as a [`Store`] and lists through [`page`]; [`Memory`] is the
//! store. Both are seams: the app can be built with a decorator of the store, or another
//! listing step, that changes one operation (the `faults` feature's catalog does this), and
//! [`Memory`]'s `pub(crate)` primitives ([`Memory::replace`], [`Memory::upsert`], ...) are
//! what such a decorator writes through.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::validate::{ListQuery, Update};

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
    pub seq: u64,
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
    /// The text of `logical_id`, `status` and the two workflows' `workflow_id`, the exact-match
    /// filters, kept with the config so a list over a large team reads four fields instead of
    /// walking the config's map four times for every record.
    keys: Keys,
    /// Roughly the bytes of this record's JSON, so a list can tell cheaply whether building its
    /// answer is heavy work.
    pub weight: usize,
    /// This version's JSON ([`Simulation::to_json`] serialised), written by its first read and
    /// copied by the next: a record is read (get, every list page holding it) far more often
    /// than it changes, and a near-limit record is a megabyte to serialise. At most doubles what
    /// a team's [`Quota`] of bytes holds. Every change empties it: a changed record starts as a
    /// clone (whose cache starts empty), or is edited in place by [`Patch::apply`], which
    /// empties it.
    json: JsonCache,
}

/// [`Simulation::json`]. A clone starts empty: a clone is where every changed version starts (a
/// store decorator's, an update of a record a reader still holds), so it must not inherit the
/// JSON of the version it copies.
#[derive(Debug, Default)]
struct JsonCache(OnceLock<Box<[u8]>>);

impl Clone for JsonCache {
    fn clone(&self) -> Self {
        JsonCache::default()
    }
}

fn lowered(config: &Map<String, Value>) -> [Option<String>; 2] {
    ["logical_id", "description"].map(|name| lowered_text(config.get(name)))
}

/// What the exact-match filters of a list compare, read off a config once.
#[derive(Debug, Clone)]
struct Keys {
    logical_id: Option<String>,
    status: Option<String>,
    selected_workflow_id: Option<String>,
    counter_workflow_id: Option<String>,
}

/// [`Simulation::keys`] of `config`.
fn keys(config: &Map<String, Value>) -> Keys {
    let text = |value: Option<&Value>| value.and_then(Value::as_str).map(str::to_owned);
    let workflow_id =
        |workflow: &str| text(config.get(workflow).and_then(|w| w.get("workflow_id")));
    Keys {
        logical_id: text(config.get("logical_id")),
        status: text(config.get("status")),
        selected_workflow_id: workflow_id("selected_workflow"),
        counter_workflow_id: workflow_id("counter_workflow"),
    }
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

fn field_weight(name: &str, value: &Value) -> usize {
    name.len() + weight(value)
}

pub(crate) fn config_weight(config: &Map<String, Value>) -> usize {
    // The fixed part: ids, team, users and timestamps.
    const ENVELOPE: usize = 256;
    ENVELOPE
        + config
            .iter()
            .map(|(name, value)| field_weight(name, value))
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

    /// [`Simulation::to_json`] serialised, once per version of the record.
    pub fn json_bytes(&self) -> &[u8] {
        self.json.0.get_or_init(|| {
            // A `Value` always serialises.
            serde_json::to_vec(&self.to_json())
                .unwrap_or_default()
                .into_boxed_slice()
        })
    }

    /// A text field of the config: the fault catalog's stores read them (the faithful store's
    /// filters read [`Simulation::keys`]).
    #[cfg(feature = "faults")]
    pub fn text_field(&self, name: &str) -> Option<&str> {
        self.config.get(name).and_then(Value::as_str)
    }

    /// Whether the record passes the list's filters: each given filter is judged, and they
    /// combine with AND.
    fn matches(&self, query: &ListQuery) -> bool {
        let search = query
            .search
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(|search| {
                let needle = query.search_lowered.as_deref().unwrap_or(search);
                self.lowered.iter().flatten().any(|t| t.contains(needle))
            });
        let range = (query.start.is_some() || query.end.is_some()).then(|| {
            query.start.is_none_or(|start| self.created_at >= start)
                && query.end.is_none_or(|end| self.created_at <= end)
        });
        // A given filter passes when the record's text is the one asked for.
        let exact = |wanted: &Option<String>, has: &Option<String>| {
            wanted.as_deref().map(|w| has.as_deref() == Some(w))
        };
        let keys = &self.keys;
        let logical_id = exact(&query.logical_id, &keys.logical_id);
        let selected = exact(&query.selected_workflow_id, &keys.selected_workflow_id);
        let counter = exact(&query.counter_workflow_id, &keys.counter_workflow_id);
        let status = exact(&query.status, &keys.status);
        [search, range, logical_id, selected, counter, status]
            .into_iter()
            .flatten()
            .all(|hit| hit)
    }
}

/// What a decorator of the store builds records with.
#[cfg(feature = "faults")]
impl Simulation {
    /// This record holding `config` instead, with what is derived from the config recomputed.
    pub fn with_config(&self, config: Map<String, Value>) -> Simulation {
        Simulation {
            lowered: lowered(&config),
            keys: keys(&config),
            weight: config_weight(&config),
            config,
            ..self.clone()
        }
    }

    /// This record with `update` applied as `caller` at time `now` (never earlier than its
    /// `updated_at`).
    pub fn patched(&self, caller: &Caller, update: &Update, now: i64) -> Simulation {
        let mut simulation = self.clone();
        Patch::new(update).apply(&mut simulation, caller, now);
        simulation
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
    /// The summed [`Simulation::weight`] of `by_seq`, for the [`Quota`].
    bytes: usize,
}

impl Team {
    /// Stores `simulation` under its sequence number and id, replacing what held that number.
    fn put(&mut self, simulation: Arc<Simulation>) {
        self.seq_by_id.insert(simulation.id.clone(), simulation.seq);
        self.bytes = self.bytes.saturating_add(simulation.weight);
        if let Some(old) = self.by_seq.insert(simulation.seq, simulation) {
            self.bytes = self.bytes.saturating_sub(old.weight);
        }
    }

    /// Removes the record of sequence number `seq` (its id must be removed by the caller).
    fn take(&mut self, seq: u64) -> Option<Arc<Simulation>> {
        let old = self.by_seq.remove(&seq)?;
        self.bytes = self.bytes.saturating_sub(old.weight);
        Some(old)
    }
}

/// How much one team may store. Teams are the configured keys' teams (an unknown key is 401
/// before anything is stored), so the whole store is bounded by the number of teams times this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Quota {
    pub records: usize,
    /// Summed [`Simulation::weight`]s: roughly bytes of JSON, and at least 256 per record.
    pub bytes: usize,
}

impl Default for Quota {
    fn default() -> Self {
        let development = crate::Config::development();
        Quota {
            records: development.max_team_records,
            bytes: development.max_team_bytes,
        }
    }
}

/// A create or an update refused because the team's [`Quota`] would be passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Full(pub Quota);

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
            out.extend_from_slice(simulation.json_bytes());
        }
        out.extend_from_slice(format!("],\"total\":{}}}", self.total).as_bytes());
        out
    }
}

/// The records a list looks at, in the order it looks at them, taken under the lock without
/// copying any record; filtering and paging happen after the lock is released.
#[derive(Debug)]
pub(crate) struct Snapshot {
    pub records: Vec<Arc<Simulation>>,
}

impl Snapshot {
    /// The summed weight of every record: an upper bound on the work of filtering and
    /// serialising any page of it.
    pub fn weight(&self) -> usize {
        self.records.iter().map(|s| s.weight).sum()
    }
}

/// The listing step: the page of `records` (in list order) that `query` asks for, and the
/// number of all matches.
pub(crate) type PageStep = Arc<dyn Fn(&[Arc<Simulation>], &ListQuery) -> Page + Send + Sync>;

/// The faithful listing: the filters of `query` combined with AND, then the window of `size`
/// records from page `page`.
pub(crate) fn page(records: &[Arc<Simulation>], query: &ListQuery) -> Page {
    let skip = usize::try_from(query.page.saturating_sub(1).saturating_mul(query.size))
        .unwrap_or(usize::MAX);
    let size = usize::try_from(query.size).unwrap_or(usize::MAX);
    let mut page = Vec::new();
    let mut total = 0;
    for simulation in records {
        if simulation.matches(query) {
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

/// An update's changes, with the lowercased description computed before taking the lock.
/// (`update_body` keeps only `description` and `status`, the fields a patch can change.)
struct Patch<'u> {
    description: Option<&'u Value>,
    description_lowered: Option<Option<String>>,
    status: Option<&'u Value>,
}

impl<'u> Patch<'u> {
    fn new(update: &'u Update) -> Self {
        let description = update.description.as_ref();
        Patch {
            description,
            description_lowered: description.map(|d| lowered_text(Some(d))),
            status: update.status.as_ref(),
        }
    }

    /// `simulation`'s weight once patched.
    fn weight_after(&self, simulation: &Simulation) -> usize {
        let mut after = simulation.weight;
        for (name, new) in [("description", self.description), ("status", self.status)] {
            if let Some(new) = new {
                let old = simulation
                    .config
                    .get(name)
                    .map_or(0, |v| field_weight(name, v));
                after = after
                    .saturating_sub(old)
                    .saturating_add(field_weight(name, new));
            }
        }
        after
    }

    /// Applies the patch as the caller at time `now`.
    fn apply(&self, simulation: &mut Simulation, caller: &Caller, now: i64) {
        simulation.json = JsonCache::default();
        if let Some(description) = self.description {
            simulation
                .config
                .insert("description".into(), description.clone());
        }
        if let Some(status) = self.status {
            simulation.config.insert("status".into(), status.clone());
        }
        if let Some(lowered) = self.description_lowered.clone() {
            simulation.lowered[1] = lowered;
        }
        simulation.keys = keys(&simulation.config);
        simulation.weight = config_weight(&simulation.config);
        simulation.updated_at = now.max(simulation.updated_at);
        simulation.updated_by = caller.user.clone();
    }
}

/// A store operation that may wait (an update).
pub(crate) type Pending<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What the operations ask of storage. [`Memory`] is the store; the app holds it as
/// `Arc<dyn Store>` so that it can be built with a decorator of it instead.
pub(crate) trait Store: Send + Sync + fmt::Debug {
    /// Stores a new record, unless the caller's team would pass its [`Quota`].
    fn create(&self, caller: &Caller, config: Map<String, Value>) -> Result<Arc<Simulation>, Full>;

    /// The team's record `id`.
    fn get(&self, team: &str, id: &str) -> Option<Arc<Simulation>>;

    /// Applies `update` to the caller's record `id`: `Ok(None)` when the team has no such
    /// record, `Err` when the change would grow the team past its [`Quota`] (nothing changes).
    fn update<'a>(
        &'a self,
        caller: &'a Caller,
        id: &'a str,
        update: &'a Update,
    ) -> Pending<'a, Result<Option<Arc<Simulation>>, Full>>;

    /// Removes the team's record `id`; false when there was none.
    fn delete(&self, team: &str, id: &str) -> bool;

    /// The team's records in the contract's order (newest first).
    fn snapshot(&self, team: &str) -> Snapshot;
}

/// The store. Every operation takes the lock once, does no I/O and never awaits, so parallel
/// requests serialise only for microseconds and no write is lost.
#[derive(Debug, Default)]
pub(crate) struct Memory {
    inner: RwLock<Inner>,
    quota: Quota,
}

impl Memory {
    pub fn new(quota: Quota) -> Self {
        Memory {
            inner: RwLock::default(),
            quota,
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        // Nothing panics while holding the lock, but a poisoned lock still holds valid data.
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    fn update_now(
        &self,
        caller: &Caller,
        id: &str,
        update: &Update,
    ) -> Result<Option<Arc<Simulation>>, Full> {
        // The new description is the only text that changes; it is lowercased before the lock.
        let patch = Patch::new(update);
        let mut inner = self.write();
        let now = inner.tick();
        let Some(team) = inner.teams.get_mut(&caller.team) else {
            return Ok(None);
        };
        let Some(&seq) = team.seq_by_id.get(id) else {
            return Ok(None);
        };
        let Some(stored) = team.by_seq.get_mut(&seq) else {
            return Ok(None);
        };
        let before = stored.weight;
        let after = patch.weight_after(stored);
        // Shrinking, or staying the same, is always allowed: it is how a full team makes room.
        if after > before
            && team.bytes.saturating_sub(before).saturating_add(after) > self.quota.bytes
        {
            return Err(Full(self.quota));
        }
        // Edits in place unless a request still holds the old version, which then keeps it.
        patch.apply(Arc::make_mut(stored), caller, now);
        let updated = Arc::clone(stored);
        let after = stored.weight;
        team.bytes = team.bytes.saturating_sub(before).saturating_add(after);
        Ok(Some(updated))
    }
}

/// The primitives a decorator of the store writes through (the `faults` feature's catalog).
#[cfg(feature = "faults")]
impl Memory {
    /// The next timestamp: the wall clock, but always later than the last one handed out.
    pub fn tick(&self) -> i64 {
        self.write().tick()
    }

    /// Writes `simulation` over the stored record of its team with its id (and sequence
    /// number); false, storing nothing, when there is no such record. No [`Quota`] check.
    pub fn replace(&self, simulation: Arc<Simulation>) -> bool {
        let mut inner = self.write();
        let Some(team) = inner.teams.get_mut(&simulation.team) else {
            return false;
        };
        if team.seq_by_id.get(&simulation.id) != Some(&simulation.seq) {
            return false;
        }
        team.put(simulation);
        true
    }

    /// Writes `simulation` whether or not its team still holds it. No [`Quota`] check.
    pub fn upsert(&self, simulation: Arc<Simulation>) {
        let mut inner = self.write();
        inner
            .teams
            .entry(simulation.team.clone())
            .or_default()
            .put(simulation);
    }

    /// Gives the stored record `id` of `team` the id `new_id`.
    pub fn rename(&self, team: &str, id: &str, new_id: String) -> Option<Arc<Simulation>> {
        let mut inner = self.write();
        let team = inner.teams.get_mut(team)?;
        let seq = team.seq_by_id.remove(id)?;
        let stored = team.by_seq.get_mut(&seq)?;
        Arc::make_mut(stored).id.clone_from(&new_id);
        let renamed = Arc::clone(stored);
        team.seq_by_id.insert(new_id, seq);
        Some(renamed)
    }

    /// The team that holds a record `id`, if any does.
    pub fn owner_of(&self, id: &str) -> Option<String> {
        let inner = self.read();
        inner
            .teams
            .iter()
            .find(|(_, team)| team.seq_by_id.contains_key(id))
            .map(|(name, _)| name.clone())
    }

    /// Every team's records, newest first.
    pub fn every_team(&self) -> Snapshot {
        let inner = self.read();
        let mut records: Vec<Arc<Simulation>> = inner
            .teams
            .values()
            .flat_map(|t| t.by_seq.values().cloned())
            .collect();
        records.sort_by_key(|s| std::cmp::Reverse(s.seq));
        Snapshot { records }
    }
}

impl Store for Memory {
    fn create(&self, caller: &Caller, config: Map<String, Value>) -> Result<Arc<Simulation>, Full> {
        // Work proportional to the record's size happens before the lock.
        let lowered = lowered(&config);
        let keys = keys(&config);
        let weight = config_weight(&config);
        let mut inner = self.write();
        let (records, bytes) = inner
            .teams
            .get(&caller.team)
            .map_or((0, 0), |team| (team.by_seq.len(), team.bytes));
        if records >= self.quota.records || bytes.saturating_add(weight) > self.quota.bytes {
            return Err(Full(self.quota));
        }
        let now = inner.tick();
        let seq = inner.next_seq;
        inner.next_seq += 1;
        // ObjectId-like: 4 bytes of seconds, then a counter, so ids sort in creation order.
        let seconds = u32::try_from(now.div_euclid(1_000_000)).unwrap_or(u32::MAX);
        let simulation = Arc::new(Simulation {
            seq,
            id: format!("{seconds:08x}{seq:016x}"),
            team: caller.team.clone(),
            created_by: caller.user.clone(),
            updated_by: caller.user.clone(),
            created_at: now,
            updated_at: now,
            lowered,
            keys,
            weight,
            config,
            json: JsonCache::default(),
        });
        let team = inner.teams.entry(caller.team.clone()).or_default();
        team.put(Arc::clone(&simulation));
        Ok(simulation)
    }

    fn get(&self, team: &str, id: &str) -> Option<Arc<Simulation>> {
        let inner = self.read();
        let team = inner.teams.get(team)?;
        let seq = team.seq_by_id.get(id)?;
        team.by_seq.get(seq).cloned()
    }

    fn update<'a>(
        &'a self,
        caller: &'a Caller,
        id: &'a str,
        update: &'a Update,
    ) -> Pending<'a, Result<Option<Arc<Simulation>>, Full>> {
        Box::pin(std::future::ready(self.update_now(caller, id, update)))
    }

    fn delete(&self, team_name: &str, id: &str) -> bool {
        let mut inner = self.write();
        let Some(team) = inner.teams.get_mut(team_name) else {
            return false;
        };
        match team.seq_by_id.remove(id) {
            Some(seq) => team.take(seq).is_some(),
            None => false,
        }
    }

    /// Creation order is `created_at` order with ties broken by `_id`, both strictly
    /// increasing, so walking the sequence backwards is the contract's order. Only pointers are
    /// copied under the lock.
    fn snapshot(&self, team: &str) -> Snapshot {
        let inner = self.read();
        let records = match inner.teams.get(team) {
            Some(team) => team.by_seq.values().rev().cloned().collect(),
            None => Vec::new(),
        };
        Snapshot { records }
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
        let store = Memory::default();
        for n in 0..3 {
            store
                .create(&caller(), config(&format!("d\"{n}\u{e9}")))
                .expect("room");
        }
        for pairs in [&[][..], &[("size", "2")], &[("page", "9")]] {
            let page = page(&store.snapshot("t").records, &query(pairs));
            let records: Vec<Value> = page.simulations.iter().map(|s| s.to_json()).collect();
            let expected = json!({ "simulations": records, "total": page.total });
            let expected = serde_json::to_vec(&expected).unwrap_or_default();
            assert_eq!(page.to_json_bytes(), expected, "{pairs:?}");
        }
    }

    /// The id of a new record of team `t`.
    fn created(store: &Memory) -> String {
        store
            .create(&caller(), config("one"))
            .expect("room")
            .id
            .clone()
    }

    /// The exact-match filters read what the record holds now: a status an update set is
    /// found, the logical id the create set still is, and a value nobody set is not.
    #[test]
    fn filters_see_the_status_an_update_set() {
        let store = Memory::default();
        let id = created(&store);
        let total = |store: &Memory, pairs: &[(&str, &str)]| {
            page(&store.snapshot("t").records, &query(pairs)).total
        };
        assert_eq!(total(&store, &[("status", "completed")]), 0);
        let update = Update {
            description: None,
            status: Some(Value::from("completed")),
        };
        store.update_now(&caller(), &id, &update).expect("room");
        assert_eq!(total(&store, &[("status", "completed")]), 1);
        assert_eq!(
            total(&store, &[("status", "completed"), ("logical_id", "L")]),
            1
        );
        assert_eq!(total(&store, &[("logical_id", "M")]), 0);
        assert_eq!(
            total(
                &store,
                &[("selected_workflow_id", "aaaaaaaaaaaaaaaaaaaaaaaa")]
            ),
            0
        );
    }

    /// Each version's own JSON, read before and after every way a record changes: edited in
    /// place (nobody else holds it), edited while a reader holds the old version, and cloned
    /// then changed (as a store decorator does).
    #[test]
    fn the_cached_json_is_always_the_current_versions() {
        let serialised = |s: &Simulation| serde_json::to_vec(&s.to_json()).unwrap_or_default();
        let store = Memory::default();
        let id = created(&store);
        let read = |store: &Memory| store.get("t", &id).expect("stored");
        let first = read(&store);
        assert_eq!(first.json_bytes(), serialised(&first));
        drop(first);
        let update = |text: &str| Update {
            description: Some(Value::from(text)),
            status: Some(Value::from("completed")),
        };
        // Nobody holds the record now: the update edits it in place.
        store
            .update_now(&caller(), &id, &update("two"))
            .expect("room");
        let second = read(&store);
        assert!(String::from_utf8_lossy(second.json_bytes()).contains("\"two\""));
        assert_eq!(second.json_bytes(), serialised(&second));
        // `second` holds this version: the update clones, and each keeps its own JSON.
        store
            .update_now(&caller(), &id, &update("three"))
            .expect("room");
        let third = read(&store);
        assert_eq!(third.json_bytes(), serialised(&third));
        assert!(String::from_utf8_lossy(second.json_bytes()).contains("\"two\""));
        let mut cloned = Simulation::clone(&third);
        cloned.updated_at += 1;
        assert_ne!(cloned.json_bytes(), third.json_bytes());
        assert_eq!(cloned.json_bytes(), serialised(&cloned));
    }

    #[test]
    fn a_snapshot_keeps_the_version_it_took_and_search_sees_updates() {
        let store = Memory::default();
        let created = store.create(&caller(), config("Old")).expect("room");
        let before = store.snapshot("t");
        let update = Update {
            description: Some(Value::from("NEW text")),
            status: None,
        };
        let updated = store.update_now(&caller(), &created.id, &update);
        assert!(
            updated
                .expect("room")
                .is_some_and(|u| u.config["description"] == "NEW text")
        );
        let old = page(&before.records, &query(&[]));
        assert_eq!(old.simulations[0].config["description"], "Old");
        assert_eq!(
            page(&store.snapshot("t").records, &query(&[("search", "new")])).total,
            1
        );
        assert_eq!(
            page(&store.snapshot("t").records, &query(&[("search", "old")])).total,
            0
        );
        assert!(
            store
                .get("t", &created.id)
                .is_some_and(|s| s.config["description"] == "NEW text")
        );
    }

    /// The team's byte count is the sum of its records' weights through creates, updates that
    /// grow and shrink, and deletes; a refused change leaves it as it was.
    #[test]
    fn a_team_s_bytes_follow_its_records() {
        let quota = Quota {
            records: 10,
            bytes: 10_000,
        };
        let store = Memory::new(quota);
        let summed = |store: &Memory| {
            let inner = store.read();
            let team = &inner.teams["t"];
            let weights: usize = team.by_seq.values().map(|s| s.weight).sum();
            (team.bytes, weights)
        };
        let a = store.create(&caller(), config("a")).expect("room");
        let b = store.create(&caller(), config("b")).expect("room");
        let grow = |n: usize| Update {
            description: Some(Value::from("x".repeat(n))),
            status: None,
        };
        store
            .update_now(&caller(), &a.id, &grow(3_000))
            .expect("room");
        let (bytes, weights) = summed(&store);
        assert_eq!(bytes, weights);
        assert_eq!(
            store.update_now(&caller(), &b.id, &grow(9_000)).err(),
            Some(Full(quota))
        );
        assert_eq!(
            summed(&store),
            (bytes, weights),
            "a refused update changes nothing"
        );
        store
            .update_now(&caller(), &a.id, &grow(1))
            .expect("shrinking");
        assert!(store.delete("t", &b.id));
        let (bytes, weights) = summed(&store);
        assert_eq!(bytes, weights);
        assert!(
            store
                .update_now(&caller(), "nope", &grow(1))
                .expect("room")
                .is_none()
        );
    }

    #[test]
    fn weight_grows_with_the_text() {
        let small = config_weight(&config("x"));
        let large = config_weight(&config(&"x".repeat(1 << 20)));
        assert_eq!(large - small, (1 << 20) - 1);
    }
}
