//! In-memory storage: per-team simulations in creation order, behind one short-held lock, each
//! team within a [`Quota`] of records and bytes.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
#[cfg(feature = "faults")]
use regex::{Regex, RegexBuilder};

/// Without the `faults` feature no search pattern is ever compiled.
#[cfg(not(feature = "faults"))]
#[derive(Debug)]
enum Regex {}

#[cfg(not(feature = "faults"))]
impl Regex {
    fn is_match(&self, _: &str) -> bool {
        match *self {}
    }
}
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

fn field_weight(name: &str, value: &Value) -> usize {
    name.len() + weight(value)
}

fn config_weight(config: &Map<String, Value>) -> usize {
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

    fn text_field(&self, name: &str) -> Option<&str> {
        self.config.get(name).and_then(Value::as_str)
    }

    fn workflow_id(&self, workflow: &str) -> Option<&str> {
        self.config
            .get(workflow)
            .and_then(|w| w.get("workflow_id"))
            .and_then(Value::as_str)
    }

    /// Whether the record passes the list's filters. Each given filter is judged; they combine
    /// with AND (with OR under [`Faults::combines_filters_with_or`], the `start`/`end` range
    /// counting as one filter).
    fn matches(&self, query: &ListQuery, faults: Faults, regex: Option<&Regex>) -> bool {
        let search = query
            .search
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(|search| self.search_hit(search, query, faults, regex));
        let range = (query.start.is_some() || query.end.is_some()).then(|| {
            query.start.is_none_or(|start| self.created_at >= start)
                && query.end.is_none_or(|end| {
                    if faults.excludes_end_bound() {
                        self.created_at < end
                    } else {
                        self.created_at <= end
                    }
                })
        });
        let logical_id =
            query
                .logical_id
                .as_deref()
                .map(|id| match self.text_field("logical_id") {
                    Some(stored) if faults.matches_logical_id_by_prefix() => stored.starts_with(id),
                    stored => stored == Some(id),
                });
        let selected = query
            .selected_workflow_id
            .as_deref()
            .map(|id| self.workflow_id("selected_workflow") == Some(id));
        let counter = query
            .counter_workflow_id
            .as_deref()
            .map(|id| self.workflow_id("counter_workflow") == Some(id));
        let status = query
            .status
            .as_deref()
            .filter(|_| !faults.ignores_status_filter())
            .map(|status| self.text_field("status") == Some(status));
        let given = [search, range, logical_id, selected, counter, status];
        if faults.combines_filters_with_or() && given.iter().flatten().count() >= 2 {
            given.into_iter().flatten().any(|hit| hit)
        } else {
            given.into_iter().flatten().all(|hit| hit)
        }
    }

    /// `search` against `logical_id` and `description` (only `logical_id` under
    /// [`Faults::searches_logical_id_only`]); `regex` is the pattern of
    /// [`Faults::searches_as_regex`].
    fn search_hit(
        &self,
        search: &str,
        query: &ListQuery,
        faults: Faults,
        regex: Option<&Regex>,
    ) -> bool {
        let fields: &[&str] = if faults.searches_logical_id_only() {
            &["logical_id"]
        } else {
            &["logical_id", "description"]
        };
        if let Some(regex) = regex {
            return fields
                .iter()
                .any(|f| self.text_field(f).is_some_and(|t| regex.is_match(t)));
        }
        if faults.searches_case_sensitively() {
            return fields
                .iter()
                .any(|f| self.text_field(f).is_some_and(|t| t.contains(search)));
        }
        let needle = query.search_lowered.as_deref().unwrap_or(search);
        self.lowered[..fields.len()]
            .iter()
            .flatten()
            .any(|t| t.contains(needle))
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
        let Ok(regex) = self.search_regex(query) else {
            // A pattern that does not compile matches nothing (never a 5xx).
            return Page {
                simulations: Vec::new(),
                total: 0,
            };
        };
        let regex = regex.as_ref();
        let mut skip = usize::try_from(query.page.saturating_sub(1).saturating_mul(query.size))
            .unwrap_or(usize::MAX);
        let size = usize::try_from(query.size).unwrap_or(usize::MAX);
        if self.faults.clamps_page_to_last() {
            let total = self
                .records
                .iter()
                .filter(|s| s.matches(query, self.faults, regex))
                .count();
            if total > 0 && size > 0 && skip >= total {
                skip = (total - 1) / size * size;
            }
        }
        let mut page = Vec::new();
        let mut total = 0;
        for simulation in &self.records {
            if simulation.matches(query, self.faults, regex) {
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

    /// Under [`Faults::searches_as_regex`], `search` compiled once per list (case-insensitive,
    /// as a `$regex` with option `i`); `None` otherwise.
    #[cfg(not(feature = "faults"))]
    fn search_regex(&self, _: &ListQuery) -> Result<Option<Regex>, ()> {
        Ok(None)
    }

    #[cfg(feature = "faults")]
    fn search_regex(&self, query: &ListQuery) -> Result<Option<Regex>, regex::Error> {
        match query.search.as_deref().filter(|s| !s.is_empty()) {
            Some(search) if self.faults.searches_as_regex() => RegexBuilder::new(search)
                .case_insensitive(true)
                .build()
                .map(Some),
            _ => Ok(None),
        }
    }
}

/// How long the racy faults' updates wait between reading a record and writing it back: long
/// enough that a second request sent at the same moment lands in the window every time.
const RACE_WINDOW: Duration = Duration::from_millis(25);

/// An update's changes, with the lowercased description computed before taking the lock.
/// (`update_body` keeps only `description` and `status`, the fields a patch can change.)
struct Patch<'u> {
    description: Option<&'u Value>,
    description_lowered: Option<Option<String>>,
    status: Option<&'u Value>,
}

impl<'u> Patch<'u> {
    fn new(update: &'u Update, faults: Faults) -> Self {
        // `if patch.description:` skips the falsy values a client may set on purpose.
        let description = update.description.as_ref().filter(|d| {
            !(faults.skips_falsy_description() && (d.is_null() || d.as_str() == Some("")))
        });
        Patch {
            description,
            description_lowered: description.map(|d| lowered_text(Some(d))),
            status: update.status.as_ref(),
        }
    }

    /// `simulation`'s weight once patched (the fault that also resets `max_events` aside,
    /// which changes a few bytes).
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
}

/// The store. Every operation takes the lock once, does no I/O and never awaits, so parallel
/// requests serialise only for microseconds and no write is lost.
#[derive(Debug, Default)]
pub(crate) struct Store {
    inner: RwLock<Inner>,
    faults: Faults,
    quota: Quota,
    /// Only under [`Faults::caches_gets`]: records by team and id, as get last saw them. Never
    /// locked while `inner` is.
    cache: Mutex<HashMap<(String, String), Arc<Simulation>>>,
}

impl Store {
    pub fn new(faults: Faults, quota: Quota) -> Self {
        Store {
            inner: RwLock::default(),
            faults,
            quota,
            cache: Mutex::default(),
        }
    }

    fn cache(&self) -> MutexGuard<'_, HashMap<(String, String), Arc<Simulation>>> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn cache_put(&self, simulation: &Arc<Simulation>) {
        let key = (simulation.team.clone(), simulation.id.clone());
        self.cache().insert(key, Arc::clone(simulation));
    }

    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        // Nothing panics while holding the lock, but a poisoned lock still holds valid data.
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Stores a new record, unless the caller's team would pass its [`Quota`].
    pub fn create(
        &self,
        caller: &Caller,
        config: Map<String, Value>,
    ) -> Result<Arc<Simulation>, Full> {
        // Work proportional to the record's size happens before the lock.
        let lowered = lowered(&config);
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
        let updated_at = if self.faults.reads_clock_twice_on_create() {
            inner.tick()
        } else {
            now
        };
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
            updated_at,
            lowered,
            weight,
            config,
        });
        let team = inner.teams.entry(caller.team.clone()).or_default();
        if self.faults.replaces_by_logical_id()
            && let Some(logical_id) = simulation.text_field("logical_id")
        {
            // "Unique identifier" read as a key: the team's earlier record with it goes.
            let replaced: Vec<u64> = team
                .by_seq
                .iter()
                .filter(|(_, s)| s.text_field("logical_id") == Some(logical_id))
                .map(|(seq, _)| *seq)
                .collect();
            for seq in replaced {
                if let Some(old) = team.take(seq) {
                    team.seq_by_id.remove(&old.id);
                }
            }
        }
        team.put(Arc::clone(&simulation));
        drop(inner);
        if self.faults.caches_gets() {
            self.cache_put(&simulation);
        }
        Ok(simulation)
    }

    pub fn get(&self, team: &str, id: &str) -> Option<Arc<Simulation>> {
        if self.faults.caches_gets() {
            let cached = self.cache().get(&(team.to_owned(), id.to_owned())).cloned();
            if cached.is_some() {
                return cached;
            }
        }
        let found = {
            let inner = self.read();
            let team = inner.teams.get(team)?;
            let seq = team.seq_by_id.get(id)?;
            team.by_seq.get(seq).cloned()
        };
        if self.faults.caches_gets()
            && let Some(simulation) = &found
        {
            self.cache_put(simulation);
        }
        found
    }

    /// Applies `patch` as the caller at time `now`.
    fn apply(&self, simulation: &mut Simulation, caller: &Caller, patch: &Patch<'_>, now: i64) {
        if let Some(description) = patch.description {
            simulation
                .config
                .insert("description".into(), description.clone());
        }
        if let Some(status) = patch.status {
            simulation.config.insert("status".into(), status.clone());
        }
        if self.faults.patch_resets_max_events() {
            simulation
                .config
                .insert("max_events".into(), config_default("max_events"));
        }
        if let Some(lowered) = patch.description_lowered.clone() {
            simulation.lowered[1] = lowered;
        }
        simulation.weight = config_weight(&simulation.config);
        if !self.faults.keeps_updated_at_on_update() {
            simulation.updated_at = now.max(simulation.updated_at);
        }
        simulation.updated_by = caller.user.clone();
    }

    /// Applies `update` to the caller's record `id`: `Ok(None)` when the team has no such
    /// record, `Err` when the change would grow the team past its [`Quota`] (nothing changes).
    pub fn update(
        &self,
        caller: &Caller,
        id: &str,
        update: &Update,
    ) -> Result<Option<Arc<Simulation>>, Full> {
        // The new description is the only text that changes; it is lowercased before the lock.
        let patch = Patch::new(update, self.faults);
        let mut inner = self.write();
        let now = inner.tick();
        // The team whose record is written: the caller's, or under the fault whichever team
        // holds the id (ownership is checked after the write).
        let owner = if self.faults.updates_before_checking_owner() {
            let found = inner
                .teams
                .iter()
                .find(|(_, team)| team.seq_by_id.contains_key(id))
                .map(|(name, _)| name.clone());
            let Some(owner) = found else {
                return Ok(None);
            };
            owner
        } else {
            caller.team.clone()
        };
        let Some(team) = inner.teams.get_mut(&owner) else {
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
        if self.faults.drops_patches() {
            let mut updated = Simulation::clone(&**stored);
            self.apply(&mut updated, caller, &patch, now);
            return Ok(Some(Arc::new(updated)));
        }
        // Edits in place unless a request still holds the old version, which then keeps it.
        self.apply(Arc::make_mut(stored), caller, &patch, now);
        let updated = (owner == caller.team).then(|| Arc::clone(stored));
        let after = stored.weight;
        team.bytes = team.bytes.saturating_sub(before).saturating_add(after);
        Ok(updated)
    }

    /// An update as a handler that awaits between reading the document and saving it does it,
    /// under [`Faults::loses_concurrent_updates`] and [`Faults::upserts_on_update`]: the record
    /// is read, the lock released for [`RACE_WINDOW`], then the whole record, patched, is
    /// written back, only if it still exists or (`upsert`) whether it does or not. An update or
    /// a delete that lands in the window is undone.
    pub async fn update_read_modify_write(
        &self,
        caller: &Caller,
        id: &str,
        update: &Update,
        upsert: bool,
    ) -> Option<Arc<Simulation>> {
        let patch = Patch::new(update, self.faults);
        let mut updated = Simulation::clone(&*self.get(&caller.team, id)?);
        tokio::time::sleep(RACE_WINDOW).await;
        let mut inner = self.write();
        let now = inner.tick();
        self.apply(&mut updated, caller, &patch, now);
        let team = inner.teams.entry(caller.team.clone()).or_default();
        if !upsert && !team.seq_by_id.contains_key(id) {
            return None;
        }
        let updated = Arc::new(updated);
        team.put(Arc::clone(&updated));
        Some(updated)
    }

    pub fn delete(&self, team_name: &str, id: &str) -> bool {
        let mut inner = self.write();
        let Some(team) = inner.teams.get_mut(team_name) else {
            return false;
        };
        if self.faults.keeps_deleted() {
            return team.seq_by_id.contains_key(id);
        }
        let deleted = match team.seq_by_id.remove(id) {
            Some(seq) => team.take(seq).is_some(),
            None => false,
        };
        drop(inner);
        if self.faults.caches_gets() {
            self.cache().remove(&(team_name.to_owned(), id.to_owned()));
        }
        deleted
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
        list_query(&raw, Faults::NONE).unwrap_or_else(|_| panic!("valid query {pairs:?}"))
    }

    #[test]
    fn list_bytes_are_what_serialising_the_value_writes() {
        let store = Store::default();
        for n in 0..3 {
            store
                .create(&caller(), config(&format!("d\"{n}\u{e9}")))
                .expect("room");
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
        let created = store.create(&caller(), config("Old")).expect("room");
        let before = store.snapshot("t");
        let update = Update {
            description: Some(Value::from("NEW text")),
            status: None,
        };
        let updated = store.update(&caller(), &created.id, &update);
        assert!(
            updated
                .expect("room")
                .is_some_and(|u| u.config["description"] == "NEW text")
        );
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

    /// The team's byte count is the sum of its records' weights through creates, updates that
    /// grow and shrink, and deletes; a refused change leaves it as it was.
    #[test]
    fn a_team_s_bytes_follow_its_records() {
        let quota = Quota {
            records: 10,
            bytes: 10_000,
        };
        let store = Store::new(Faults::NONE, quota);
        let summed = |store: &Store| {
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
        store.update(&caller(), &a.id, &grow(3_000)).expect("room");
        let (bytes, weights) = summed(&store);
        assert_eq!(bytes, weights);
        assert_eq!(
            store.update(&caller(), &b.id, &grow(9_000)).err(),
            Some(Full(quota))
        );
        assert_eq!(
            summed(&store),
            (bytes, weights),
            "a refused update changes nothing"
        );
        store.update(&caller(), &a.id, &grow(1)).expect("shrinking");
        assert!(store.delete("t", &b.id));
        let (bytes, weights) = summed(&store);
        assert_eq!(bytes, weights);
        assert!(
            store
                .update(&caller(), "nope", &grow(1))
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
