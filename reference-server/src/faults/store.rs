//! The faults that change what is stored or listed, each a decorator of the store (a [`Store`]
//! that wraps the app's store and overrides one operation, writing through [`Memory`]'s
//! primitives) or of the listing step (a [`PageStep`] that wraps the faithful one).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use regex::RegexBuilder;
use serde_json::{Map, Value};

use super::Fault;
use crate::handlers::Parts;
use crate::store::{Caller, Full, Memory, Page, PageStep, Pending, Simulation, Snapshot, Store};
use crate::validate::{ListQuery, Update, config_default};

/// How long the racy faults' updates wait between reading a record and writing it back: long
/// enough that a second request sent at the same moment lands in the window every time.
const RACE_WINDOW: Duration = Duration::from_millis(25);

/// `parts` with `fault`'s decorator of the store or of the listing step, if it has one.
pub(super) fn decorate(mut parts: Parts, fault: Fault) -> Parts {
    let inner = Arc::clone(&parts.store);
    let memory = Arc::clone(&parts.memory);
    let store: Option<Arc<dyn Store>> = match fault {
        Fault::NonObjectIdIds => Some(Arc::new(CounterIds { inner, memory })),
        Fault::UpdatedAtAfterCreatedAt => Some(Arc::new(ClockReadTwice { inner, memory })),
        Fault::LogicalIdUpsert => Some(Arc::new(ReplaceByLogicalId { inner })),
        Fault::StaleGetAfterUpdate => Some(Arc::new(CachedGets {
            inner,
            cache: Mutex::default(),
        })),
        Fault::PatchResetsMaxEvents => Some(Arc::new(ResetMaxEvents { inner, memory })),
        Fault::PatchNotPersisted => Some(Arc::new(DropPatches { inner, memory })),
        Fault::DeleteNotDeleting => Some(Arc::new(KeepDeleted { inner })),
        Fault::OtherTeamUpdateApplies => Some(Arc::new(WriteBeforeOwnerCheck { inner, memory })),
        Fault::EmptyDescriptionSkipped => Some(Arc::new(SkipFalsyDescription { inner })),
        Fault::UpdatedAtNotMoved => Some(Arc::new(KeepUpdatedAt { inner, memory })),
        Fault::LostUpdate => Some(Arc::new(ReadModifyWrite {
            inner,
            memory,
            upsert: false,
        })),
        Fault::DeleteRaceResurrects => Some(Arc::new(ReadModifyWrite {
            inner,
            memory,
            upsert: true,
        })),
        Fault::CrossTeamList => Some(Arc::new(EveryTeam { inner, memory })),
        Fault::OldestFirst => Some(Arc::new(OldestFirst { inner })),
        _ => None,
    };
    if let Some(store) = store {
        parts.store = store;
    }
    if let Some(page) = page_step(Arc::clone(&parts.page), fault) {
        parts.page = page;
    }
    parts
}

/// The operations a decorator does not override, passed to the store it wraps.
macro_rules! delegate {
    (create) => {
        fn create(
            &self,
            caller: &Caller,
            config: Map<String, Value>,
        ) -> Result<Arc<Simulation>, Full> {
            self.inner.create(caller, config)
        }
    };
    (get) => {
        fn get(&self, team: &str, id: &str) -> Option<Arc<Simulation>> {
            self.inner.get(team, id)
        }
    };
    (update) => {
        fn update<'a>(
            &'a self,
            caller: &'a Caller,
            id: &'a str,
            update: &'a Update,
        ) -> Pending<'a, Result<Option<Arc<Simulation>>, Full>> {
            self.inner.update(caller, id, update)
        }
    };
    (delete) => {
        fn delete(&self, team: &str, id: &str) -> bool {
            self.inner.delete(team, id)
        }
    };
    (snapshot) => {
        fn snapshot(&self, team: &str) -> Snapshot {
            self.inner.snapshot(team)
        }
    };
    ($($operation:ident),+) => {
        $(delegate!($operation);)+
    };
}

/// [`Fault::NonObjectIdIds`]: a new record is renamed `sim-<n>`.
#[derive(Debug)]
struct CounterIds {
    inner: Arc<dyn Store>,
    memory: Arc<Memory>,
}

impl Store for CounterIds {
    fn create(&self, caller: &Caller, config: Map<String, Value>) -> Result<Arc<Simulation>, Full> {
        let created = self.inner.create(caller, config)?;
        let counter = format!("sim-{}", created.seq);
        Ok(self
            .memory
            .rename(&created.team, &created.id, counter)
            .unwrap_or(created))
    }
    delegate!(get, update, delete, snapshot);
}

/// [`Fault::UpdatedAtAfterCreatedAt`]: `updated_at` is a second reading of the clock.
#[derive(Debug)]
struct ClockReadTwice {
    inner: Arc<dyn Store>,
    memory: Arc<Memory>,
}

impl Store for ClockReadTwice {
    fn create(&self, caller: &Caller, config: Map<String, Value>) -> Result<Arc<Simulation>, Full> {
        let created = self.inner.create(caller, config)?;
        let mut later = Simulation::clone(&created);
        later.updated_at = self.memory.tick();
        let later = Arc::new(later);
        self.memory.replace(Arc::clone(&later));
        Ok(later)
    }
    delegate!(get, update, delete, snapshot);
}

/// [`Fault::LogicalIdUpsert`]: "Unique identifier" read as a key, so a create removes the
/// team's earlier records with the same `logical_id`.
#[derive(Debug)]
struct ReplaceByLogicalId {
    inner: Arc<dyn Store>,
}

impl Store for ReplaceByLogicalId {
    fn create(&self, caller: &Caller, config: Map<String, Value>) -> Result<Arc<Simulation>, Full> {
        let created = self.inner.create(caller, config)?;
        if let Some(logical_id) = created.text_field("logical_id") {
            for earlier in self.inner.snapshot(&caller.team).records {
                if earlier.id != created.id && earlier.text_field("logical_id") == Some(logical_id)
                {
                    self.inner.delete(&caller.team, &earlier.id);
                }
            }
        }
        Ok(created)
    }
    delegate!(get, update, delete, snapshot);
}

/// [`Fault::StaleGetAfterUpdate`]: get serves a per-id cache that create and get fill and
/// delete empties, but update does not. The cache's lock is the decorator's own.
#[derive(Debug)]
struct CachedGets {
    inner: Arc<dyn Store>,
    cache: Mutex<HashMap<(String, String), Arc<Simulation>>>,
}

impl CachedGets {
    fn cache(&self) -> MutexGuard<'_, HashMap<(String, String), Arc<Simulation>>> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn remember(&self, simulation: &Arc<Simulation>) {
        let key = (simulation.team.clone(), simulation.id.clone());
        self.cache().insert(key, Arc::clone(simulation));
    }
}

impl Store for CachedGets {
    fn create(&self, caller: &Caller, config: Map<String, Value>) -> Result<Arc<Simulation>, Full> {
        let created = self.inner.create(caller, config)?;
        self.remember(&created);
        Ok(created)
    }

    fn get(&self, team: &str, id: &str) -> Option<Arc<Simulation>> {
        let cached = self.cache().get(&(team.to_owned(), id.to_owned())).cloned();
        if cached.is_some() {
            return cached;
        }
        let found = self.inner.get(team, id)?;
        self.remember(&found);
        Some(found)
    }

    fn delete(&self, team: &str, id: &str) -> bool {
        let deleted = self.inner.delete(team, id);
        self.cache().remove(&(team.to_owned(), id.to_owned()));
        deleted
    }
    delegate!(update, snapshot);
}

/// [`Fault::PatchResetsMaxEvents`]: an update also stores the default `max_events`.
#[derive(Debug)]
struct ResetMaxEvents {
    inner: Arc<dyn Store>,
    memory: Arc<Memory>,
}

impl Store for ResetMaxEvents {
    fn update<'a>(
        &'a self,
        caller: &'a Caller,
        id: &'a str,
        update: &'a Update,
    ) -> Pending<'a, Result<Option<Arc<Simulation>>, Full>> {
        Box::pin(async move {
            let Some(updated) = self.inner.update(caller, id, update).await? else {
                return Ok(None);
            };
            let mut config = updated.config.clone();
            config.insert("max_events".into(), config_default("max_events"));
            let reset = Arc::new(updated.with_config(config));
            self.memory.replace(Arc::clone(&reset));
            Ok(Some(reset))
        })
    }
    delegate!(create, get, delete, snapshot);
}

/// [`Fault::PatchNotPersisted`]: an update answers with the change and puts the old record
/// back.
#[derive(Debug)]
struct DropPatches {
    inner: Arc<dyn Store>,
    memory: Arc<Memory>,
}

impl Store for DropPatches {
    fn update<'a>(
        &'a self,
        caller: &'a Caller,
        id: &'a str,
        update: &'a Update,
    ) -> Pending<'a, Result<Option<Arc<Simulation>>, Full>> {
        Box::pin(async move {
            let before = self.inner.get(&caller.team, id);
            let updated = self.inner.update(caller, id, update).await?;
            if let Some(before) = before {
                self.memory.replace(before);
            }
            Ok(updated)
        })
    }
    delegate!(create, get, delete, snapshot);
}

/// [`Fault::DeleteNotDeleting`]: a delete answers as if it removed the record, and keeps it.
#[derive(Debug)]
struct KeepDeleted {
    inner: Arc<dyn Store>,
}

impl Store for KeepDeleted {
    fn delete(&self, team: &str, id: &str) -> bool {
        self.inner.get(team, id).is_some()
    }
    delegate!(create, get, update, snapshot);
}

/// [`Fault::OtherTeamUpdateApplies`]: an id the caller's team does not hold is updated in the
/// team that does, then answered 404 (ownership checked after the write).
#[derive(Debug)]
struct WriteBeforeOwnerCheck {
    inner: Arc<dyn Store>,
    memory: Arc<Memory>,
}

impl Store for WriteBeforeOwnerCheck {
    fn update<'a>(
        &'a self,
        caller: &'a Caller,
        id: &'a str,
        update: &'a Update,
    ) -> Pending<'a, Result<Option<Arc<Simulation>>, Full>> {
        Box::pin(async move {
            if let Some(updated) = self.inner.update(caller, id, update).await? {
                return Ok(Some(updated));
            }
            if let Some(owner) = self.memory.owner_of(id) {
                let writer = Caller {
                    team: owner,
                    user: caller.user.clone(),
                };
                self.inner.update(&writer, id, update).await?;
            }
            Ok(None)
        })
    }
    delegate!(create, get, delete, snapshot);
}

/// [`Fault::EmptyDescriptionSkipped`]: `if patch.description:` skips the falsy values a
/// client may set on purpose.
#[derive(Debug)]
struct SkipFalsyDescription {
    inner: Arc<dyn Store>,
}

impl Store for SkipFalsyDescription {
    fn update<'a>(
        &'a self,
        caller: &'a Caller,
        id: &'a str,
        update: &'a Update,
    ) -> Pending<'a, Result<Option<Arc<Simulation>>, Full>> {
        Box::pin(async move {
            let truthy = Update {
                description: update
                    .description
                    .clone()
                    .filter(|d| !(d.is_null() || d.as_str() == Some(""))),
                status: update.status.clone(),
            };
            self.inner.update(caller, id, &truthy).await
        })
    }
    delegate!(create, get, delete, snapshot);
}

/// [`Fault::UpdatedAtNotMoved`]: an update puts the old `updated_at` back.
#[derive(Debug)]
struct KeepUpdatedAt {
    inner: Arc<dyn Store>,
    memory: Arc<Memory>,
}

impl Store for KeepUpdatedAt {
    fn update<'a>(
        &'a self,
        caller: &'a Caller,
        id: &'a str,
        update: &'a Update,
    ) -> Pending<'a, Result<Option<Arc<Simulation>>, Full>> {
        Box::pin(async move {
            let before = self.inner.get(&caller.team, id);
            let Some(updated) = self.inner.update(caller, id, update).await? else {
                return Ok(None);
            };
            let Some(before) = before else {
                return Ok(Some(updated));
            };
            let mut kept = Simulation::clone(&updated);
            kept.updated_at = before.updated_at;
            let kept = Arc::new(kept);
            self.memory.replace(Arc::clone(&kept));
            Ok(Some(kept))
        })
    }
    delegate!(create, get, delete, snapshot);
}

/// [`Fault::LostUpdate`] and (`upsert`) [`Fault::DeleteRaceResurrects`]: an update as a
/// handler that awaits between reading the document and saving it does it. The record is read,
/// [`RACE_WINDOW`] passes, then the whole record, patched, is written back, only if it still
/// exists or (`upsert`) whether it does or not. An update or a delete that lands in the window
/// is undone.
#[derive(Debug)]
struct ReadModifyWrite {
    inner: Arc<dyn Store>,
    memory: Arc<Memory>,
    upsert: bool,
}

impl Store for ReadModifyWrite {
    fn update<'a>(
        &'a self,
        caller: &'a Caller,
        id: &'a str,
        update: &'a Update,
    ) -> Pending<'a, Result<Option<Arc<Simulation>>, Full>> {
        Box::pin(async move {
            let Some(read) = self.inner.get(&caller.team, id) else {
                return Ok(None);
            };
            tokio::time::sleep(RACE_WINDOW).await;
            let written = Arc::new(read.patched(caller, update, self.memory.tick()));
            if self.upsert {
                self.memory.upsert(Arc::clone(&written));
            } else if !self.memory.replace(Arc::clone(&written)) {
                return Ok(None);
            }
            Ok(Some(written))
        })
    }
    delegate!(create, get, delete, snapshot);
}

/// [`Fault::CrossTeamList`]: a list walks every team's records.
#[derive(Debug)]
struct EveryTeam {
    inner: Arc<dyn Store>,
    memory: Arc<Memory>,
}

impl Store for EveryTeam {
    fn snapshot(&self, _team: &str) -> Snapshot {
        self.memory.every_team()
    }
    delegate!(create, get, update, delete);
}

/// [`Fault::OldestFirst`]: a list walks the team's records oldest first.
#[derive(Debug)]
struct OldestFirst {
    inner: Arc<dyn Store>,
}

impl Store for OldestFirst {
    fn snapshot(&self, team: &str) -> Snapshot {
        let mut snapshot = self.inner.snapshot(team);
        snapshot.records.reverse();
        snapshot
    }
    delegate!(create, get, update, delete);
}

/// `fault`'s listing step around `inner`, if it changes listing. Each either rewrites the query
/// before the faithful step sees it, or takes one filter over itself: it keeps the records
/// that pass its own version of the filter and lets `inner` judge the rest of the query.
fn page_step(inner: PageStep, fault: Fault) -> Option<PageStep> {
    let step: PageStep = match fault {
        // `created_at < end`: timestamps are whole microseconds.
        Fault::ExclusiveEndBound => Arc::new(move |records, query| {
            let mut query = query.clone();
            query.end = query.end.map(|end| end.saturating_sub(1));
            inner(records, &query)
        }),
        Fault::StatusFilterIgnored => Arc::new(move |records, query| {
            let mut query = query.clone();
            query.status = None;
            inner(records, &query)
        }),
        Fault::LogicalIdPrefixMatch => Arc::new(move |records, query| {
            let Some(prefix) = query.logical_id.as_deref() else {
                return inner(records, query);
            };
            let kept: Vec<_> = records
                .iter()
                .filter(|s| {
                    s.text_field("logical_id")
                        .is_some_and(|t| t.starts_with(prefix))
                })
                .cloned()
                .collect();
            let mut rest = query.clone();
            rest.logical_id = None;
            inner(&kept, &rest)
        }),
        Fault::SearchCaseSensitive => search_step(inner, |search| {
            let search = search.to_owned();
            Some(Box::new(move |s: &Simulation| {
                ["logical_id", "description"]
                    .iter()
                    .any(|f| s.text_field(f).is_some_and(|t| t.contains(&search)))
            }))
        }),
        Fault::SearchLogicalIdOnly => search_step(inner, |search| {
            let needle = search.to_lowercase();
            Some(Box::new(move |s: &Simulation| {
                s.text_field("logical_id")
                    .is_some_and(|t| t.to_lowercase().contains(&needle))
            }))
        }),
        // A `$regex` with option `i`, unescaped; a pattern that does not compile matches
        // nothing (never a 5xx).
        Fault::SearchAsRegex => search_step(inner, |search| {
            let regex = RegexBuilder::new(search)
                .case_insensitive(true)
                .build()
                .ok()?;
            Some(Box::new(move |s: &Simulation| {
                ["logical_id", "description"]
                    .iter()
                    .any(|f| s.text_field(f).is_some_and(|t| regex.is_match(t)))
            }))
        }),
        Fault::FiltersOr => Arc::new(move |records, query| filters_or(&inner, records, query)),
        Fault::PageBeyondEndRepeatsLast => Arc::new(move |records, query| {
            let total = inner(records, query).total;
            let size = query.size;
            let skip = query.page.saturating_sub(1).saturating_mul(size);
            let mut clamped = query.clone();
            if total > 0 && size > 0 && skip >= total as u64 {
                clamped.page = (total as u64 - 1) / size + 1;
            }
            inner(records, &clamped)
        }),
        _ => return None,
    };
    Some(step)
}

/// A search test of one record.
type Hit = Box<dyn Fn(&Simulation) -> bool + Send + Sync>;

/// A step that judges a non-empty `search` itself (`hit` made once per list from the search
/// text; `None` matches nothing) and the rest of the query through `inner`.
fn search_step(
    inner: PageStep,
    hit: impl Fn(&str) -> Option<Hit> + Send + Sync + 'static,
) -> PageStep {
    Arc::new(move |records, query| {
        let Some(search) = query.search.as_deref().filter(|s| !s.is_empty()) else {
            return inner(records, query);
        };
        let kept: Vec<_> = match hit(search) {
            Some(hit) => records.iter().filter(|s| hit(s)).cloned().collect(),
            None => Vec::new(),
        };
        let mut rest = query.clone();
        rest.search = None;
        rest.search_lowered = None;
        inner(&kept, &rest)
    })
}

/// [`Fault::FiltersOr`]: with two or more filters given, a record passes when one of them
/// lets it through (the `start`/`end` range counting as one filter); each filter is judged
/// alone by `inner`.
fn filters_or(inner: &PageStep, records: &[Arc<Simulation>], query: &ListQuery) -> Page {
    let mut unfiltered = query.clone();
    unfiltered.search = None;
    unfiltered.search_lowered = None;
    unfiltered.start = None;
    unfiltered.end = None;
    unfiltered.logical_id = None;
    unfiltered.selected_workflow_id = None;
    unfiltered.counter_workflow_id = None;
    unfiltered.status = None;
    let mut alone = Vec::new();
    let mut only = |set: &dyn Fn(&mut ListQuery)| {
        let mut one = unfiltered.clone();
        one.page = 1;
        one.size = 1;
        set(&mut one);
        alone.push(one);
    };
    if query.search.as_deref().is_some_and(|s| !s.is_empty()) {
        only(&|q| {
            q.search.clone_from(&query.search);
            q.search_lowered.clone_from(&query.search_lowered);
        });
    }
    if query.start.is_some() || query.end.is_some() {
        only(&|q| {
            q.start = query.start;
            q.end = query.end;
        });
    }
    if query.logical_id.is_some() {
        only(&|q| q.logical_id.clone_from(&query.logical_id));
    }
    if query.selected_workflow_id.is_some() {
        only(&|q| {
            q.selected_workflow_id
                .clone_from(&query.selected_workflow_id)
        });
    }
    if query.counter_workflow_id.is_some() {
        only(&|q| q.counter_workflow_id.clone_from(&query.counter_workflow_id));
    }
    if query.status.is_some() {
        only(&|q| q.status.clone_from(&query.status));
    }
    if alone.len() < 2 {
        return inner(records, query);
    }
    let kept: Vec<_> = records
        .iter()
        .filter(|s| {
            let one = std::slice::from_ref(*s);
            alone.iter().any(|q| inner(one, q).total == 1)
        })
        .cloned()
        .collect();
    inner(&kept, &unfiltered)
}
