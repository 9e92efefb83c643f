//! The model of a sequence, pure: [`apply`] predicts what a command sends and what each request must answer, and the `observe_*` functions advance the model from what the server answered; no I/O, no async, no clock but the instant it is given.

use std::time::Instant;

use chrono::{DateTime, FixedOffset, SecondsFormat, TimeDelta, Utc};
use serde_json::{Value, json};

use super::command::{
    Bound, CLOCK_GAP, Command, CreatePlan, Intruder, MachinePlan, OVER_LIMIT_DESCRIPTION, PageAt,
    Paging, PatchPlan, PatchValue, Pick, QueryPlan, SearchIn, Text, Variant,
};
use crate::coverage;
use crate::listing::{
    self, COUNTER_WORKFLOW_FIELD, ListExpectation, ListFilter, SELECTED_WORKFLOW_FIELD, created_at,
    page_size, sort_newest_first,
};
use crate::pointer;
use crate::request::{Auth, Exercise, Expect, Locus, Request, exercise};
use crate::rules::Rule;
use crate::scenario::sim_id;
use crate::spec::{Kind, Operation, Spec, percent_encode};
use crate::values::plain_object;

/// One request and what it must answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub request: Request,
    pub expect: Expect,
    /// What the request exercises besides what coverage reads off the request and its
    /// expectation: the context only the sequence knows.
    pub exercises: Vec<Exercise>,
}

/// What a command sends and what each request must answer, computed from the model just
/// before it is sent. A variant says how the model advances from the answers (an `observe_*`
/// function) and what is sent after them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Prediction {
    /// Nothing is sent: the command needs the other team, and the run has none.
    Nothing,
    /// A pause: nothing is sent for this long.
    Wait(std::time::Duration),
    /// Requests sent one after another, each judged; the model stays as it is.
    Sends(Vec<Step>),
    /// A create. When it is answered with a record, the model gains it
    /// ([`Model::observe_create`]): its config as `stored` predicts, or, when `stored` is
    /// `None` (an unspecified value was probed), as answered.
    Create { step: Step, stored: Option<Value> },
    /// A create whose answered record is deleted at once ([`Model::delete_answered`]); the model
    /// stays as it is.
    CreateThenDelete(Step),
    /// A valid update of the live record at `index`: when answered, the model takes `patch`
    /// and the answer's write fields ([`Model::observe_update`]).
    Update {
        step: Step,
        index: usize,
        patch: Value,
    },
    /// A delete: when answered, the record at `index`, if any, is gone
    /// ([`Model::observe_gone`]).
    Delete { step: Step, index: Option<usize> },
    /// Two updates of the live record at `index` in flight at once; whatever they answer, the
    /// model takes both ([`Model::observe_race`]), then reads the record back
    /// ([`Model::read_back_raced`]).
    RaceUpdates {
        requests: Vec<(Request, Expect)>,
        index: usize,
        description: Value,
        status: String,
    },
    /// An update and a delete of the live record at `index` in flight at once, each exercising
    /// `exercises` (`delete.gone`); whatever they answer, the record is gone ([`Model::observe_gone`]), and
    /// `read` finds nothing.
    RaceUpdateDelete {
        requests: Vec<(Request, Expect)>,
        exercises: Vec<Exercise>,
        index: usize,
        read: Step,
    },
    /// Creates in flight at once; the model gains every answered record
    /// ([`Model::observe_burst`]), then lists them ([`Model::list`], scoped, default paging).
    Burst {
        requests: Vec<(Request, Expect)>,
        filter: ListFilter,
    },
    /// The other team's create; what follows is made from its answer
    /// ([`Model::foreign_checks`], [`Model::foreign_leftovers`]). The model stays as it is.
    Foreign { create: Step, operation: Operation },
}

/// What `command` sends and must be answered, from `model` at `now` (the instant it is sent,
/// against which the time since a record's last write is measured).
pub fn apply(model: &Model<'_>, command: &Command, now: Instant) -> Prediction {
    match command {
        Command::Create(plan) => model.create(plan),
        Command::CreateLarge(size) => Prediction::CreateThenDelete(model.create_large(*size)),
        Command::Get(pick) => Prediction::Sends(vec![model.get(pick)]),
        Command::List(query) => {
            let (filter, scoped) = model.filter(query);
            Prediction::Sends(vec![model.list(filter, scoped, query.paging)])
        }
        Command::Update(pick, patch) => model.update(pick, patch, now),
        Command::Delete(pick) => model.delete(pick),
        Command::Intrude(pick, operation, intruder) => model.intrude(pick, *operation, intruder),
        Command::RaceUpdates(pick, word, status) => model.race_updates(pick, word, status),
        Command::RaceUpdateDelete(pick, word) => model.race_update_delete(pick, word),
        Command::Burst(n) => model.burst(*n),
        Command::Pause => Prediction::Wait(CLOCK_GAP),
        Command::Foreign(operation) if model.other_team => Prediction::Foreign {
            create: model.foreign_create(),
            operation: *operation,
        },
        Command::Foreign(_) => Prediction::Nothing,
    }
}

/// A record as the model expects the server to hold it.
#[derive(Debug, Clone)]
struct Record {
    id: String,
    sim: Value,
    live: bool,
    /// An update of it was answered: a read shows whether it was stored (`update.persisted`).
    updated: bool,
    /// When the response of the record's last write arrived.
    written: Instant,
}

/// The sequence's view of the caller's team: the records it created, in creation order, and
/// what the sequence is (its plan, its tag, the spec, whether the run has another team).
#[derive(Debug, Clone)]
pub(crate) struct Model<'a> {
    spec: &'a Spec,
    plan: &'a MachinePlan,
    /// The run's tag and the sequence's nonce: every text the sequence writes starts with it.
    tag: String,
    /// The run has the other team's key.
    other_team: bool,
    records: Vec<Record>,
}

impl<'a> Model<'a> {
    /// The model before the sequence's first command: no records.
    pub fn new(spec: &'a Spec, plan: &'a MachinePlan, tag: String, other_team: bool) -> Self {
        Model {
            spec,
            plan,
            tag,
            other_team,
            records: Vec::new(),
        }
    }

    fn record(&self, index: usize) -> Option<&Record> {
        (!self.records.is_empty()).then(|| &self.records[index % self.records.len()])
    }

    fn deleted_ids(&self) -> Vec<String> {
        self.records
            .iter()
            .filter(|r| !r.live)
            .map(|r| r.id.clone())
            .collect()
    }

    fn all_ids(&self) -> Vec<String> {
        self.records.iter().map(|r| r.id.clone()).collect()
    }

    /// The live records a filter matches, newest first.
    fn matching(&self, filter: &ListFilter) -> Vec<Value> {
        let mut sims: Vec<Value> = self
            .records
            .iter()
            .filter(|r| r.live && filter.matches(&r.sim))
            .map(|r| r.sim.clone())
            .collect();
        sort_newest_first(&mut sims);
        sims
    }

    /// The id to send for a pick, and the model's record behind it when there is one.
    fn resolve(&self, pick: &Pick) -> (String, Option<usize>) {
        match pick {
            Pick::Record(i) => match self.records.len() {
                0 => (self.plan.unknown_id.clone(), None),
                n => (self.records[i % n].id.clone(), Some(i % n)),
            },
            Pick::Unknown(id) | Pick::NotHex(id) => (id.clone(), None),
        }
    }

    fn live(&self, index: Option<usize>) -> Option<&Record> {
        index.map(|i| &self.records[i]).filter(|r| r.live)
    }

    /// `delete.gone` when `index` is a record the sequence deleted.
    fn deleted(&self, index: Option<usize>) -> &'static [Exercise] {
        match index.map(|i| self.records[i].live) {
            Some(false) => DELETED,
            _ => &[],
        }
    }

    /// A read of `id` with the run's key.
    fn read(&self, id: &str, expect: Expect, exercises: &[Exercise]) -> Step {
        let mut request = self.spec.api.get(id);
        request.auth = Auth::Primary;
        step(request, expect, exercises)
    }

    /// A read of a live record: it must be exactly as the model holds it.
    fn read_back(&self, index: Option<usize>, because: &[Exercise]) -> Option<Step> {
        self.live(index).map(|r| {
            let expected = r.sim.clone();
            self.read(&r.id, Expect::Simulation { expected }, because)
        })
    }

    fn text(&self, choice: &Text, separator: char) -> Option<Value> {
        let tag = &self.tag;
        Some(match choice {
            Text::Word(word) => json!(format!("{tag}{separator}{word}")),
            Text::Absent => return None,
            Text::Null => Value::Null,
            Text::Empty => json!(""),
            Text::Padded => json!(format!("  {tag}{separator}x \t")),
            Text::Long => json!(format!("{tag}{separator}{}", "long ".repeat(900))),
            Text::Planes => json!(format!(
                "{tag}{separator}a\u{e9}\u{4e2d}\u{1F600}\u{20000}\u{30000}\u{40000}\u{50000}\u{60000}\u{70000}\u{80000}\u{90000}\u{A0000}\u{B0000}\u{C0000}\u{D0000}\u{E0041}\u{F0000}\u{10FFFD}"
            )),
            Text::SameAs(i) => match self
                .record(*i)
                .and_then(|r| config_text(&r.sim, listing::LOGICAL_ID_FIELD))
            {
                Some(earlier) => json!(earlier),
                None => json!(format!("{tag}{separator}a")),
            },
        })
    }
    /// The body to send and the config the server must store for it.
    fn create_body(&self, plan: &CreatePlan) -> (Value, Value) {
        let mut sent = plan.body.sent.clone();
        let mut stored = plan.body.stored.clone();
        let default_of = |key: &str| {
            self.spec
                .create_body
                .field(key)
                .map_or(Value::Null, crate::spec::ObjectModel::default_of)
        };
        for (key, value) in [
            ("logical_id", self.text(&plan.logical_id, '-')),
            ("description", self.text(&plan.description, ' ')),
        ] {
            match value {
                Some(v) => {
                    sent[key] = v.clone();
                    stored[key] = v;
                }
                None => {
                    if let Some(object) = sent.as_object_mut() {
                        object.remove(key);
                    }
                    stored[key] = default_of(key);
                }
            }
        }
        if let Some(status) = &plan.status {
            sent["status"] = json!(status);
            stored["status"] = json!(status);
        }
        for (at, choice) in [
            (SELECTED_WORKFLOW_FIELD, plan.workflows[0]),
            (COUNTER_WORKFLOW_FIELD, plan.workflows[1]),
        ] {
            if let Some(w) = choice {
                // The workflow object may be absent from the drawn body: give it one.
                let parent = at.rsplit_once('/').map_or("", |p| p.0);
                if !sent.pointer(parent).is_some_and(Value::is_object) {
                    pointer::set(&mut sent, parent, json!({}));
                }
                pointer::set(&mut sent, at, json!(self.plan.workflow_ids[w]));
                pointer::set(&mut stored, at, json!(self.plan.workflow_ids[w]));
            }
        }
        if plan.falsy {
            for field in &self.spec.create_body.fields {
                let falsy = match field.kind {
                    Kind::Integer => json!(0),
                    Kind::Boolean => json!(false),
                    _ => continue,
                };
                sent[&field.name] = falsy.clone();
                stored[&field.name] = falsy;
            }
        }
        (sent, stored)
    }

    fn create(&self, plan: &CreatePlan) -> Prediction {
        let (mut sent, stored) = self.create_body(plan);
        let expect = match &plan.probe {
            Some((at, value)) => {
                pointer::set(&mut sent, at, value.clone());
                Expect::Probe {
                    pointer: at.clone(),
                    value: value.clone(),
                }
            }
            None => Expect::Accept {
                sent: sent.clone(),
                stored: stored.clone(),
            },
        };
        Prediction::Create {
            step: step(self.spec.api.create(sent), expect, &[]),
            stored: plan.probe.is_none().then_some(stored),
        }
    }

    /// The model after a create of [`Prediction::Create`] was answered with `answered` (the
    /// response's `simulation`), at `now`.
    pub(crate) fn observe_create(
        &mut self,
        stored: Option<&Value>,
        answered: &Value,
        now: Instant,
    ) {
        let mut sim = answered.clone();
        // What must be stored is the prediction; an unspecified value is whatever the create
        // answered, and must read back the same.
        if let Some(stored) = stored {
            let answered = std::mem::replace(&mut sim["simulation_config"], stored.clone());
            // A field the suite cannot model has no prediction: whatever the create answered
            // (the response schema judged it) must read back the same.
            // (Only under an object the prediction holds: where it predicts null, say, the
            // create's answer is already judged wrong and the prediction stays as it is.)
            for (at, _) in self.spec.create_body.unmodelled_paths() {
                let parent = &at[..at.rfind('/').unwrap_or(0)];
                let config = &mut sim["simulation_config"];
                if let Some(value) = answered.pointer(&at)
                    && config.pointer(parent).is_some_and(Value::is_object)
                {
                    pointer::set(config, &at, value.clone());
                }
            }
        }
        self.records.push(Record {
            id: sim_id(&sim),
            sim,
            live: true,
            updated: false,
            written: now,
        });
    }

    fn create_large(&self, size: Option<usize>) -> Step {
        let logical_id = format!("{}-large", self.tag);
        let over_limit = size.is_none();
        let sent = if let Some(size) = size {
            // Filled up to exactly `size` bytes as sent (an `x` is one byte in JSON).
            let bare = json!({"logical_id": logical_id, "description": format!("{} ", self.tag)});
            let used = serde_json::to_vec(&bare).map_or(0, |b| b.len());
            let description = format!("{} {}", self.tag, "x".repeat(size.saturating_sub(used)));
            json!({"logical_id": logical_id, "description": description})
        } else {
            let description = format!("{} {}", self.tag, "x".repeat(OVER_LIMIT_DESCRIPTION));
            json!({"logical_id": logical_id, "description": description})
        };
        let mut stored = self.spec.create_body.all_defaults();
        stored["logical_id"] = sent["logical_id"].clone();
        stored["description"] = sent["description"].clone();
        let request = self.spec.api.create(sent.clone());
        let expect = if over_limit {
            Expect::OneOf {
                statuses: vec![200, 413],
                because: "a body over 1 MiB may be refused with 413 (body.too-large)",
            }
        } else {
            Expect::Accept { sent, stored }
        };
        step(request, expect, &[])
    }

    /// The delete of the record a [`Prediction::CreateThenDelete`] create answered with.
    pub(crate) fn delete_answered(&self, answered: &Value) -> Step {
        let id = sim_id(answered);
        step(self.spec.api.delete(&id), Expect::Success, &[])
    }

    fn get(&self, pick: &Pick) -> Step {
        let (id, index) = self.resolve(pick);
        let (expect, because) = match self.live(index) {
            Some(r) => (
                Expect::Simulation {
                    expected: r.sim.clone(),
                },
                if r.updated { UPDATED } else { &[][..] },
            ),
            None => (Expect::NotFound, self.deleted(index)),
        };
        self.read(&id, expect, because)
    }

    fn patch_body(&self, patch: &PatchPlan) -> (Value, Option<&'static str>) {
        let mut body = json!({});
        for (key, value) in &patch.ignored {
            body[key] = value.clone();
        }
        let mut invalid = None;
        for (key, value, is_enum) in [
            ("description", &patch.description, false),
            ("status", &patch.status, true),
        ] {
            let sent = match value {
                PatchValue::Absent => continue,
                PatchValue::Null => Value::Null,
                PatchValue::Empty => json!(""),
                PatchValue::Valid(v) if key == "description" => match v {
                    Value::String(s) => json!(format!("{} {s}", self.tag)),
                    other => other.clone(),
                },
                PatchValue::Valid(v) | PatchValue::Invalid(v) => v.clone(),
            };
            if matches!(value, PatchValue::Invalid(_))
                || (is_enum && matches!(value, PatchValue::Empty))
            {
                invalid.get_or_insert(key);
            }
            body[key] = sent;
        }
        (body, invalid)
    }

    fn update(&self, pick: &Pick, patch: &PatchPlan, now: Instant) -> Prediction {
        let (id, index) = self.resolve(pick);
        let (body, invalid) = self.patch_body(patch);
        let request = self.spec.api.update(&id, body.clone());
        let (Some(index), Some(record)) = (index, self.live(index)) else {
            // An unknown or deleted id: 404, or 422 for an invalid value, which FastAPI checks
            // before the handler looks the id up.
            let expect = match invalid {
                Some(key) => invalid_value(key),
                None => Expect::NotFound,
            };
            return Prediction::Sends(vec![step(request, expect, self.deleted(index))]);
        };
        if let Some(key) = invalid {
            let mut steps = vec![step(request, invalid_value(key), &[])];
            steps.extend(self.read_back(Some(index), REFUSED_UPDATE));
            return Prediction::Sends(steps);
        }
        let strictly_later = now.saturating_duration_since(record.written) >= CLOCK_GAP;
        let expect = Expect::Updated {
            before: record.sim.clone(),
            patch: body.clone(),
            strictly_later,
        };
        Prediction::Update {
            step: step(request, expect, &[]),
            index,
            patch: body,
        }
    }

    /// The model after an update of [`Prediction::Update`] was answered with `answered` (the
    /// response's `simulation`), at `now`: the fields PATCH may change as sent, the write's own
    /// fields as answered.
    pub(crate) fn observe_update(
        &mut self,
        index: usize,
        patch: &Value,
        answered: &Value,
        now: Instant,
    ) {
        let mut sim = self.records[index].sim.clone();
        for key in ["description", "status"] {
            if let Some(v) = patch.get(key)
                && self.spec.update_body.field(key).is_some()
            {
                sim["simulation_config"][key] = v.clone();
            }
        }
        take_write_fields(&mut sim, answered);
        let r = &mut self.records[index];
        r.sim = sim;
        r.updated = true;
        r.written = now;
    }

    fn delete(&self, pick: &Pick) -> Prediction {
        let (id, index) = self.resolve(pick);
        let expect = if self.live(index).is_some() {
            Expect::Success
        } else {
            Expect::NotFound
        };
        Prediction::Delete {
            step: step(self.spec.api.delete(&id), expect, self.deleted(index)),
            index,
        }
    }

    /// The model once the record at `index` (if any) is deleted.
    pub(crate) fn observe_gone(&mut self, index: Option<usize>) {
        if let Some(i) = index {
            self.records[i].live = false;
        }
    }

    fn intrude(&self, pick: &Pick, operation: Operation, intruder: &Intruder) -> Prediction {
        let (auth, expect) = match intruder {
            // The other team's creates are `Command::Foreign`'s.
            Intruder::OtherTeam if !self.other_team || operation == Operation::Create => {
                return Prediction::Nothing;
            }
            Intruder::OtherTeam => (Auth::OtherTeam, Expect::NotFound),
            Intruder::Refused(refusal) => (
                refusal.auth.clone(),
                Expect::Unauthorized {
                    detail: refusal.detail,
                },
            ),
        };
        let (id, index) = self.resolve(pick);
        let api = &self.spec.api;
        let mut request = match operation {
            Operation::Update => api.update(&id, plain_object(&self.spec.update_body, "intruder")),
            Operation::Delete => api.delete(&id),
            // Refused, so nothing is made: a record with this sequence's nonce would show in
            // its exact lists.
            Operation::Create => {
                api.create(json!({"logical_id": format!("{}-intruder", self.tag)}))
            }
            Operation::List => {
                let filter = ListFilter {
                    search: Some(self.plan.nonce.clone()),
                    ..ListFilter::default()
                };
                let mut request = api.list(&filter.query(page_size(api, 100), 1));
                request.auth = auth;
                let expect = match expect {
                    Expect::NotFound => {
                        Expect::Listed(ListExpectation::empty_without(filter, self.all_ids()))
                    }
                    refused => refused,
                };
                return Prediction::Sends(vec![step(request, expect, &[])]);
            }
            _ => api.get(&id),
        };
        request.auth = auth;
        let because = match intruder {
            Intruder::OtherTeam => FOREIGN_KEY_REFUSED,
            Intruder::Refused(_) => KEY_REFUSED,
        };
        let mut steps = vec![step(request, expect, &[])];
        steps.extend(self.read_back(index, because));
        Prediction::Sends(steps)
    }

    fn race_updates(&self, pick: &Pick, word: &str, status: &str) -> Prediction {
        let (id, index) = self.resolve(pick);
        let Some(index) = index.filter(|&i| self.records[i].live) else {
            return Prediction::Sends(vec![self.get(pick)]);
        };
        let description = json!(format!("{} {word}", self.tag));
        let api = &self.spec.api;
        let raced = || Expect::OneOf {
            statuses: vec![200],
            because: RACED,
        };
        Prediction::RaceUpdates {
            requests: vec![
                (
                    api.update(&id, json!({"description": description})),
                    raced(),
                ),
                (api.update(&id, json!({"status": status})), raced()),
            ],
            index,
            description,
            status: status.to_owned(),
        }
    }

    /// The model after the two updates of [`Prediction::RaceUpdates`], whatever they answered
    /// (`answered`: each one's `simulation` when it succeeded), at `now`: both changes, and
    /// the write fields of the later answer.
    pub(crate) fn observe_race(
        &mut self,
        index: usize,
        description: &Value,
        status: &str,
        answered: &[Option<Value>],
        now: Instant,
    ) {
        let mut sim = self.records[index].sim.clone();
        sim["simulation_config"]["description"] = description.clone();
        sim["simulation_config"]["status"] = json!(status);
        // Whichever write landed last set `updated_at`: the later of the two answers.
        let last = answered
            .iter()
            .flatten()
            .max_by_key(|s| created_or_updated(s, "updated_at"));
        if let Some(last) = last {
            take_write_fields(&mut sim, last);
        }
        let r = &mut self.records[index];
        r.sim = sim;
        r.updated = true;
        r.written = now;
    }

    /// The read after [`Model::observe_race`]: both changes survived.
    pub(crate) fn read_back_raced(&self, index: usize) -> Option<Step> {
        self.read_back(Some(index), RACED_UPDATES)
    }

    fn race_update_delete(&self, pick: &Pick, word: &str) -> Prediction {
        let (id, index) = self.resolve(pick);
        let Some(index) = index.filter(|&i| self.records[i].live) else {
            return Prediction::Sends(vec![self.get(pick)]);
        };
        let api = &self.spec.api;
        let description = json!({"description": format!("{} {word}", self.tag)});
        Prediction::RaceUpdateDelete {
            requests: vec![
                (
                    api.update(&id, description),
                    Expect::OneOf {
                        statuses: vec![200, 404],
                        because: RACED,
                    },
                ),
                (api.delete(&id), Expect::Success),
            ],
            exercises: DELETED.to_vec(),
            index,
            read: self.read(&id, Expect::NotFound, DELETED),
        }
    }

    fn burst(&self, n: usize) -> Prediction {
        let api = &self.spec.api;
        let requests = (0..n)
            .map(|i| {
                let sent =
                    json!({"logical_id": format!("{}-burst{i}", self.tag), "description": "burst"});
                let mut stored = self.spec.create_body.all_defaults();
                stored["logical_id"] = sent["logical_id"].clone();
                stored["description"] = sent["description"].clone();
                (api.create(sent.clone()), Expect::Accept { sent, stored })
            })
            .collect();
        Prediction::Burst {
            requests,
            filter: ListFilter {
                search: Some(format!("{}-burst", self.plan.nonce)),
                ..ListFilter::default()
            },
        }
    }

    /// The model after the creates of [`Prediction::Burst`] were answered (`answered`: each
    /// one's `simulation` when it succeeded), at `now`: it has every answered record, as
    /// answered.
    pub(crate) fn observe_burst(&mut self, answered: &[Option<Value>], now: Instant) {
        for sim in answered.iter().flatten() {
            self.records.push(Record {
                id: sim_id(sim),
                sim: sim.clone(),
                live: true,
                updated: false,
                written: now,
            });
        }
    }

    fn foreign_create(&self) -> Step {
        let mut create = self
            .spec
            .api
            .create(json!({"logical_id": format!("{}-foreign", self.tag)}));
        create.auth = Auth::OtherTeam;
        step(create, Expect::Success, &[])
    }

    /// After the other team created `created` (its answered `simulation`): `operation` on it
    /// with the run's key finds nothing, the other team reads it back unchanged and deletes it.
    pub(crate) fn foreign_checks(&self, operation: Operation, created: &Value) -> Vec<Step> {
        let api = &self.spec.api;
        let id = sim_id(created);
        let request = match operation {
            Operation::Update => api.update(&id, plain_object(&self.spec.update_body, "foreign")),
            Operation::Delete => api.delete(&id),
            _ => api.get(&id),
        };
        let mut read = api.get(&id);
        read.auth = Auth::OtherTeam;
        let mut delete = api.delete(&id);
        delete.auth = Auth::OtherTeam;
        vec![
            step(request, Expect::NotFound, FOREIGN_RECORD),
            step(
                read,
                Expect::Simulation {
                    expected: created.clone(),
                },
                FOREIGN_KEY_REFUSED,
            ),
            step(delete, Expect::Success, &[]),
        ]
    }

    /// The run's cleanup holds only the run's key: a second record the other team's create
    /// made when its answer was lost and it was retried is found by this list, by its unique
    /// `logical_id`, and deleted with the other team's key ([`Model::foreign_delete`]).
    pub(crate) fn foreign_leftovers(&self, created: &Value) -> Step {
        let api = &self.spec.api;
        let filter = ListFilter {
            logical_id: Some(format!("{}-foreign", self.tag)),
            ..ListFilter::default()
        };
        let mut list = api.list(&filter.query(page_size(api, 100), 1));
        list.auth = Auth::OtherTeam;
        let listed = ListExpectation {
            exact: false,
            ..ListExpectation::empty_without(filter, vec![sim_id(created)])
        };
        step(list, Expect::Listed(listed), &[])
    }

    /// The other team's delete of a leftover [`Model::foreign_leftovers`] listed.
    pub(crate) fn foreign_delete(&self, listed: &Value) -> Step {
        let mut delete = self.spec.api.delete(&sim_id(listed));
        delete.auth = Auth::OtherTeam;
        step(delete, Expect::Success, &[])
    }
    /// The filter a query plan makes from the model, and whether it scopes the list to this
    /// sequence's records.
    fn filter(&self, query: &QueryPlan) -> (ListFilter, bool) {
        let nonce = &self.plan.nonce;
        let record = |i: usize| self.record(i).map(|r| &r.sim);
        let mut filter = ListFilter {
            status: query.status.clone(),
            ..ListFilter::default()
        };
        if let Some((_, Variant::Empty)) = query.logical_id {
            filter.logical_id = Some(String::new());
        } else if let Some((i, variant)) = query.logical_id
            && let Some(text) = record(i).and_then(|s| config_text(s, listing::LOGICAL_ID_FIELD))
            && !text.is_empty()
        {
            filter.logical_id = Some(match variant {
                Variant::Exact => text,
                Variant::Prefix => drop_last(&text),
                Variant::Suffix => text.chars().skip(1).collect(),
                Variant::Upper => text.to_uppercase(),
                Variant::Empty => String::new(),
            });
        }
        if let Some((i, within)) = query.search
            && let Some(sim) = record(i)
        {
            let field = match within {
                SearchIn::Description => "/description",
                _ => listing::LOGICAL_ID_FIELD,
            };
            if let Some(text) = config_text(sim, field)
                && let Some(at) = text.find(nonce.as_str())
            {
                let from_nonce: String = text[at..].chars().take(nonce.len() + 4).collect();
                filter.search = Some(match within {
                    SearchIn::Upper => from_nonce.to_uppercase(),
                    SearchIn::RegexDot => {
                        let mut chars: Vec<char> = from_nonce.chars().collect();
                        if let Some(c) = chars.get_mut(nonce.len()) {
                            *c = '.';
                        }
                        chars.into_iter().collect()
                    }
                    _ => from_nonce,
                });
            }
        }
        if let Some((field, which, upper)) = query.workflow {
            let id = &self.plan.workflow_ids[which];
            let id = if upper { id.to_uppercase() } else { id.clone() };
            if field == 0 {
                filter.selected_workflow_id = Some(id);
            } else {
                filter.counter_workflow_id = Some(id);
            }
        }
        let bound = |plan: Option<(usize, Bound)>| {
            let (i, bound) = plan?;
            time_bound(record(i)?, bound)
        };
        filter.start = bound(query.start);
        filter.end = bound(query.end);
        let holds_nonce = |v: &Option<String>| {
            v.as_ref()
                .is_some_and(|v| v.to_lowercase().contains(&nonce.to_lowercase()))
        };
        let scoped = holds_nonce(&filter.logical_id)
            || holds_nonce(&filter.search)
            || filter.selected_workflow_id.is_some()
            || filter.counter_workflow_id.is_some();
        (filter, scoped)
    }

    /// A list page with `filter` and `paging`: exactly the window of the live records it
    /// matches when `scoped` to the sequence, else only soundly; never a deleted record.
    pub fn list(&self, filter: ListFilter, scoped: bool, paging: Paging) -> Step {
        let api = &self.spec.api;
        let matching = self.matching(&filter);
        let filters = filter.filters();
        let (query, size, page) = match paging {
            Paging::Defaults => {
                let size = api
                    .query_parameter(listing::PAGE_SIZE)
                    .and_then(|p| p.default.as_ref())
                    .and_then(Value::as_u64)
                    .unwrap_or(100);
                (filters.clone(), size, Some(1u64))
            }
            Paging::Page { size, at } => {
                let pages = (matching.len() as u64).div_ceil(size).max(1);
                let (text, page) = match at {
                    PageAt::First => ("1".to_owned(), Some(1)),
                    PageAt::Nth(n) => (n.to_string(), Some(n)),
                    PageAt::Last => (pages.to_string(), Some(pages)),
                    PageAt::BeyondEnd => ((pages + 1).to_string(), Some(pages + 1)),
                    PageAt::Huge(text) => (text.to_owned(), None),
                };
                let paging = format!(
                    "{}={size}&{}={}",
                    listing::PAGE_SIZE,
                    listing::PAGE,
                    percent_encode(&text)
                );
                let query = if filters.is_empty() {
                    paging
                } else {
                    format!("{paging}&{filters}")
                };
                (query, size, page)
            }
        };
        let window: Vec<String> = match page {
            Some(page) => {
                let skip = (page - 1).saturating_mul(size);
                matching
                    .iter()
                    .skip(usize::try_from(skip).unwrap_or(usize::MAX))
                    .take(usize::try_from(size).unwrap_or(usize::MAX))
                    .map(sim_id)
                    .collect()
            }
            None => Vec::new(),
        };
        let expectation = ListExpectation {
            filter,
            exact: scoped,
            expected_ids: window,
            total: matching.len() as u64,
            absent: self.deleted_ids(),
        };
        // Over the sequence's own records, a scoped page also shows what each filter left out.
        let mut because = if scoped {
            let live: Vec<Value> = self
                .records
                .iter()
                .filter(|r| r.live)
                .map(|r| r.sim.clone())
                .collect();
            coverage::exclusions(&expectation.filter, &live)
        } else {
            Vec::new()
        };
        if !expectation.absent.is_empty() {
            because.extend_from_slice(DELETED);
        }
        Step {
            request: api.list(&query),
            expect: Expect::Listed(expectation),
            exercises: because,
        }
    }
}

/// The config field a record's text lives in.
fn config_text(sim: &Value, at: &str) -> Option<String> {
    sim["simulation_config"]
        .pointer(at)
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn step(request: Request, expect: Expect, exercises: &[Exercise]) -> Step {
    Step {
        request,
        expect,
        exercises: exercises.to_vec(),
    }
}

/// Why a racing request may answer more than one status.
const RACED: &str = "as some serial order of the racing requests gives";

/// What a read names beyond what coverage reads off it: the update it follows was stored.
const UPDATED: &[Exercise] = &[exercise(Rule::UpdatePersisted, "read-after-update")];
/// A read after two updates of different fields raced: both must have survived.
const RACED_UPDATES: &[Exercise] = &[exercise(Rule::UpdatePersisted, "concurrent")];
/// The id (or a list's absent ids) were deleted by the sequence.
const DELETED: &[Exercise] = &[exercise(Rule::DeleteGone, coverage::AFTER_DELETE)];
/// A read after a refused update: the refusal changed nothing.
const REFUSED_UPDATE: &[Exercise] = &[
    exercise(Rule::UpdateInvalid, "unchanged-after"),
    exercise(Rule::NeverLost, "after-refused-update"),
];
/// A read after another team's request: it could not touch the record.
const FOREIGN_KEY_REFUSED: &[Exercise] = &[
    exercise(Rule::TenancyItem, "unchanged-after"),
    exercise(Rule::NeverLost, "after-other-team"),
];
/// A read after a refused key's request: it changed nothing.
const KEY_REFUSED: &[Exercise] = &[
    exercise(Rule::AuthRequired, "refused-changed-nothing"),
    exercise(Rule::NeverLost, "after-refused-key"),
];
/// The run's key on another team's record.
const FOREIGN_RECORD: &[Exercise] = &[exercise(Rule::TenancyItem, "own-key-foreign-record")];

/// The 422 for an invalid value at the body's `key`.
fn invalid_value(key: &'static str) -> Expect {
    Expect::Reject {
        mutation: "invalid_update_value",
        pointer: format!("/{key}"),
        status: 422,
        locus: Some(Locus::Exact(vec![json!("body"), json!(key)])),
    }
}

/// A write's own fields, as the server answered them: when and by whom.
fn take_write_fields(sim: &mut Value, answered: &Value) {
    for key in ["updated_at", "updated_by"] {
        if let Some(v) = answered.get(key) {
            sim[key] = v.clone();
        }
    }
}

fn created_or_updated(sim: &Value, key: &str) -> Option<DateTime<Utc>> {
    sim.get(key)
        .and_then(Value::as_str)
        .and_then(listing::parse_query_time)
}

fn drop_last(text: &str) -> String {
    let mut chars = text.chars();
    chars.next_back();
    chars.as_str().to_owned()
}

/// A bound's query text from a record's `created_at`.
fn time_bound(sim: &Value, bound: Bound) -> Option<String> {
    let at = created_at(sim)?;
    let micro = TimeDelta::microseconds(1);
    let rfc = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Micros, true);
    let offset = |seconds: i32| {
        FixedOffset::east_opt(seconds).map(|o| {
            at.with_timezone(&o)
                .to_rfc3339_opts(SecondsFormat::Micros, false)
        })
    };
    Some(match bound {
        Bound::Exact => sim["created_at"].as_str()?.to_owned(),
        Bound::MicroBefore => rfc(at - micro),
        Bound::MicroAfter => rfc(at + micro),
        Bound::East => offset(5 * 3600 + 1800)?,
        Bound::West => offset(-8 * 3600)?,
        Bound::Naive => at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string(),
        Bound::UnixFloor => at.timestamp().to_string(),
        Bound::UnixNext => (at.timestamp() + 1).to_string(),
        Bound::UpdatedAt => sim["updated_at"].as_str()?.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    //! The model's predictions, one test per kind, with the server's answers written by hand:
    //! no server, no async.

    use super::super::command::AT_LIMIT;
    use super::*;
    use crate::request::Body;
    use crate::values::Accepted;

    const TAG: &str = "ct0-nonce00001";

    fn spec() -> Spec {
        Spec::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/openapi.json"))
            .unwrap()
    }

    fn plan() -> MachinePlan {
        MachinePlan {
            nonce: "nonce00001".into(),
            workflow_ids: ["a".repeat(24), "b".repeat(24)],
            unknown_id: "f".repeat(24),
            commands: Vec::new(),
        }
    }

    fn status(spec: &Spec, n: usize) -> String {
        crate::scenario::list_filters::statuses(spec)[n].clone()
    }

    /// A create of `word` as logical_id and `x` as description, the rest the spec's defaults.
    fn create_plan(spec: &Spec, word: &'static str) -> CreatePlan {
        CreatePlan {
            body: Accepted {
                sent: json!({}),
                stored: spec.create_body.all_defaults(),
            },
            probe: None,
            logical_id: Text::Word(word),
            description: Text::Word("x"),
            status: Some(status(spec, 0)),
            workflows: [Some(0), None],
            falsy: false,
        }
    }

    /// What a faithful server answers to a create: the stored config, an id and timestamps.
    /// `config` as sent when `stored` is `None` (a probe).
    fn answer(id: &str, second: u32, config: &Value) -> Value {
        let at = format!("2026-12-06T10:00:{second:02}.000000Z");
        json!({
            "_id": id,
            "simulation_config": config,
            "created_at": at,
            "updated_at": at,
            "created_by": "qa",
            "updated_by": "qa",
        })
    }

    /// Applies a create of `word` and observes the faithful answer: the record's id.
    fn created(model: &mut Model<'_>, word: &'static str, now: Instant) -> String {
        let Prediction::Create { stored, .. } = apply(
            model,
            &Command::Create(Box::new(create_plan(model.spec, word))),
            now,
        ) else {
            panic!("a create predicts a create");
        };
        let id = format!("{:0>24}", model.records.len() + 1);
        let sim = answer(&id, model.records.len() as u32, stored.as_ref().unwrap());
        model.observe_create(stored.as_ref(), &sim, now);
        id
    }

    fn only_step(prediction: Prediction) -> Step {
        match prediction {
            Prediction::Sends(mut steps) if steps.len() == 1 => steps.remove(0),
            other => panic!("one request expected: {other:?}"),
        }
    }

    fn json_body(request: &Request) -> &Value {
        match &request.body {
            Body::Json(v) => v,
            other => panic!("a JSON body expected: {other:?}"),
        }
    }

    #[test]
    fn a_create_predicts_what_is_stored_and_a_read_returns_it() {
        let (spec, plan) = (spec(), plan());
        let mut model = Model::new(&spec, &plan, TAG.into(), true);
        let now = Instant::now();
        let Prediction::Create { step, stored } = apply(
            &model,
            &Command::Create(Box::new(create_plan(&spec, "ab"))),
            now,
        ) else {
            panic!("a create predicts a create");
        };
        let stored = stored.unwrap();
        let sent = json_body(&step.request).clone();
        assert_eq!(step.request.operation, Operation::Create);
        assert_eq!(sent["logical_id"], json!(format!("{TAG}-ab")));
        assert_eq!(sent["description"], json!(format!("{TAG} x")));
        assert_eq!(stored["logical_id"], sent["logical_id"]);
        assert_eq!(
            stored.pointer(SELECTED_WORKFLOW_FIELD),
            Some(&json!(plan.workflow_ids[0]))
        );
        assert_eq!(
            step.expect,
            Expect::Accept {
                sent: sent.clone(),
                stored: stored.clone()
            }
        );
        // The server answers with something else in the config: the model keeps the prediction.
        let mut config = stored.clone();
        config["description"] = json!("changed by the server");
        let sim = answer(&"1".repeat(24), 0, &config);
        model.observe_create(Some(&stored), &sim, now);
        let read = only_step(apply(&model, &Command::Get(Pick::Record(0)), now));
        let mut expected = sim.clone();
        expected["simulation_config"] = stored;
        assert_eq!(read.expect, Expect::Simulation { expected });
        assert_eq!(read.request.auth, Auth::Primary);
        assert!(read.request.path_and_query.ends_with(&"1".repeat(24)));
        assert!(read.exercises.is_empty());
        // An index past the end wraps to the same record.
        assert_eq!(
            only_step(apply(&model, &Command::Get(Pick::Record(5)), now)),
            read
        );
    }

    #[test]
    fn a_probed_create_is_remembered_as_answered() {
        let (spec, plan) = (spec(), plan());
        let mut model = Model::new(&spec, &plan, TAG.into(), true);
        let mut create = create_plan(&spec, "a");
        create.probe = Some(("/x-probe".into(), json!(7)));
        let now = Instant::now();
        let Prediction::Create { step, stored } =
            apply(&model, &Command::Create(Box::new(create)), now)
        else {
            panic!("a create predicts a create");
        };
        assert_eq!(stored, None);
        assert_eq!(json_body(&step.request)["x-probe"], json!(7));
        assert!(matches!(step.expect, Expect::Probe { .. }));
        let sim = answer(&"2".repeat(24), 0, &json!({"logical_id": "as answered"}));
        model.observe_create(None, &sim, now);
        let read = only_step(apply(&model, &Command::Get(Pick::Record(0)), now));
        assert_eq!(read.expect, Expect::Simulation { expected: sim });
    }

    #[test]
    fn before_any_record_a_pick_is_an_id_nobody_has() {
        let (spec, plan) = (spec(), plan());
        let model = Model::new(&spec, &plan, TAG.into(), true);
        let read = only_step(apply(
            &model,
            &Command::Get(Pick::Record(3)),
            Instant::now(),
        ));
        assert_eq!(read.expect, Expect::NotFound);
        assert!(read.request.path_and_query.ends_with(&plan.unknown_id));
        assert!(read.exercises.is_empty());
    }

    #[test]
    fn an_update_predicts_the_merged_fields_and_a_later_updated_at() {
        let (spec, plan) = (spec(), plan());
        let mut model = Model::new(&spec, &plan, TAG.into(), true);
        let written = Instant::now();
        created(&mut model, "a", written);
        let before = model.records[0].sim.clone();
        let new_status = status(&spec, 1);
        let update = Command::Update(
            Pick::Record(0),
            PatchPlan {
                description: PatchValue::Valid(json!("x y")),
                status: PatchValue::Valid(json!(new_status)),
                ignored: vec![("x-unknown".into(), json!(true))],
            },
        );
        let Prediction::Update { step, index, patch } = apply(&model, &update, written) else {
            panic!("a valid update of a live record predicts an update");
        };
        assert_eq!(index, 0);
        assert_eq!(
            patch,
            json!({"description": format!("{TAG} x y"), "status": new_status, "x-unknown": true})
        );
        assert_eq!(
            step.expect,
            Expect::Updated {
                before: before.clone(),
                patch: patch.clone(),
                strictly_later: false
            }
        );
        // Sent at least CLOCK_GAP after the record's last write, updated_at must move.
        let Prediction::Update { step: later, .. } = apply(&model, &update, written + CLOCK_GAP)
        else {
            panic!("a valid update of a live record predicts an update");
        };
        assert!(matches!(
            later.expect,
            Expect::Updated {
                strictly_later: true,
                ..
            }
        ));
        let mut answered = before.clone();
        answered["updated_at"] = json!("2026-12-06T10:01:00.000000Z");
        answered["updated_by"] = json!("someone");
        model.observe_update(index, &patch, &answered, written + CLOCK_GAP);
        let read = only_step(apply(&model, &Command::Get(Pick::Record(0)), written));
        let mut expected = before;
        expected["simulation_config"]["description"] = json!(format!("{TAG} x y"));
        expected["simulation_config"]["status"] = json!(new_status);
        expected["updated_at"] = answered["updated_at"].clone();
        expected["updated_by"] = json!("someone");
        assert_eq!(read.expect, Expect::Simulation { expected });
        assert_eq!(read.exercises, UPDATED);
    }

    #[test]
    fn an_invalid_update_predicts_a_422_and_the_record_unchanged() {
        let (spec, plan) = (spec(), plan());
        let mut model = Model::new(&spec, &plan, TAG.into(), true);
        let now = Instant::now();
        created(&mut model, "a", now);
        let before = model.records[0].sim.clone();
        let update = Command::Update(
            Pick::Record(0),
            PatchPlan {
                description: PatchValue::Absent,
                status: PatchValue::Empty,
                ignored: Vec::new(),
            },
        );
        let Prediction::Sends(steps) = apply(&model, &update, now) else {
            panic!("a refused update changes nothing");
        };
        assert_eq!(steps.len(), 2);
        assert_eq!(steps[0].expect, invalid_value("status"));
        assert_eq!(steps[1].expect, Expect::Simulation { expected: before });
        assert_eq!(steps[1].exercises, REFUSED_UPDATE);
    }

    #[test]
    fn a_delete_predicts_success_then_every_read_and_write_a_404() {
        let (spec, plan) = (spec(), plan());
        let mut model = Model::new(&spec, &plan, TAG.into(), true);
        let now = Instant::now();
        created(&mut model, "a", now);
        let Prediction::Delete { step, index } =
            apply(&model, &Command::Delete(Pick::Record(0)), now)
        else {
            panic!("a delete predicts a delete");
        };
        assert_eq!((step.expect, index), (Expect::Success, Some(0)));
        assert!(step.exercises.is_empty());
        model.observe_gone(index);
        let read = only_step(apply(&model, &Command::Get(Pick::Record(0)), now));
        assert_eq!(
            (read.expect, read.exercises),
            (Expect::NotFound, DELETED.to_vec())
        );
        let Prediction::Delete { step: again, .. } =
            apply(&model, &Command::Delete(Pick::Record(0)), now)
        else {
            panic!("a delete predicts a delete");
        };
        assert_eq!(again.expect, Expect::NotFound);
        let update = Command::Update(
            Pick::Record(0),
            PatchPlan {
                description: PatchValue::Null,
                status: PatchValue::Absent,
                ignored: Vec::new(),
            },
        );
        let write = only_step(apply(&model, &update, now));
        assert_eq!(
            (write.expect, write.exercises),
            (Expect::NotFound, DELETED.to_vec())
        );
    }

    fn query(logical_id: Option<(usize, Variant)>, status: Option<String>) -> Command {
        Command::List(Box::new(QueryPlan {
            logical_id,
            search: None,
            workflow: None,
            status,
            start: None,
            end: None,
            paging: Paging::Defaults,
        }))
    }

    fn listed(step: &Step) -> &ListExpectation {
        match &step.expect {
            Expect::Listed(list) => list,
            other => panic!("a list expected: {other:?}"),
        }
    }

    #[test]
    fn a_list_filter_predicts_which_records_are_listed() {
        let (spec, plan) = (spec(), plan());
        let mut model = Model::new(&spec, &plan, TAG.into(), true);
        let now = Instant::now();
        let a = created(&mut model, "a", now);
        let ab = created(&mut model, "ab", now);
        let gone = created(&mut model, "b", now);
        model.observe_gone(Some(2));
        // Exactly record 1's logical_id: only it, and the list is scoped to the sequence.
        let exact = only_step(apply(&model, &query(Some((1, Variant::Exact)), None), now));
        let list = listed(&exact);
        assert!(list.exact);
        assert_eq!(list.expected_ids, vec![ab.clone()]);
        assert_eq!(list.total, 1);
        assert_eq!(list.absent, vec![gone.clone()]);
        assert!(exact.exercises.contains(&DELETED[0]));
        // One character short of `…-ab` is exactly `…-a`: a prefix-matching server lists both.
        let prefix = only_step(apply(&model, &query(Some((1, Variant::Prefix)), None), now));
        assert_eq!(listed(&prefix).expected_ids, vec![a.clone()]);
        // Upper case matches nothing: the filter is exact.
        let upper = only_step(apply(&model, &query(Some((0, Variant::Upper)), None), now));
        assert!(listed(&upper).expected_ids.is_empty());
        // A status alone is not scoped to the sequence: judged soundly, newest first.
        let by_status = only_step(apply(&model, &query(None, Some(status(&spec, 0))), now));
        let list = listed(&by_status);
        assert!(!list.exact);
        assert_eq!(list.expected_ids, vec![ab, a]);
        assert!(by_status.request.path_and_query.contains("status="));
    }

    #[test]
    fn another_teams_key_predicts_nothing_found_and_the_record_unchanged() {
        let (spec, plan) = (spec(), plan());
        let mut model = Model::new(&spec, &plan, TAG.into(), true);
        let now = Instant::now();
        let id = created(&mut model, "a", now);
        let before = model.records[0].sim.clone();
        let intrude = Command::Intrude(Pick::Record(0), Operation::Delete, Intruder::OtherTeam);
        let Prediction::Sends(steps) = apply(&model, &intrude, now) else {
            panic!("an intrusion sends");
        };
        assert_eq!(steps[0].request.auth, Auth::OtherTeam);
        assert_eq!(steps[0].request.operation, Operation::Delete);
        assert_eq!(steps[0].expect, Expect::NotFound);
        assert_eq!(steps[1].request.auth, Auth::Primary);
        assert_eq!(steps[1].expect, Expect::Simulation { expected: before });
        assert_eq!(steps[1].exercises, FOREIGN_KEY_REFUSED);
        // The other team's list shows none of the sequence's records.
        let list = Command::Intrude(Pick::Record(0), Operation::List, Intruder::OtherTeam);
        let step = only_step(apply(&model, &list, now));
        assert_eq!(listed(&step).absent, vec![id]);
        assert!(listed(&step).expected_ids.is_empty());
        // Without the other team's key there is nothing to send.
        let alone = Model::new(&spec, &plan, TAG.into(), false);
        assert_eq!(apply(&alone, &intrude, now), Prediction::Nothing);
        assert_eq!(
            apply(&alone, &Command::Foreign(Operation::Get), now),
            Prediction::Nothing
        );
    }

    #[test]
    fn a_refused_key_predicts_401_and_the_record_unchanged() {
        let (spec, plan) = (spec(), plan());
        let mut model = Model::new(&spec, &plan, TAG.into(), true);
        let now = Instant::now();
        created(&mut model, "a", now);
        let refusal = crate::scenario::Refusal {
            auth: Auth::None,
            detail: "Not authenticated",
        };
        let intrude = Command::Intrude(
            Pick::Record(0),
            Operation::Update,
            Intruder::Refused(refusal),
        );
        let Prediction::Sends(steps) = apply(&model, &intrude, now) else {
            panic!("an intrusion sends");
        };
        assert_eq!(
            steps[0].expect,
            Expect::Unauthorized {
                detail: "Not authenticated"
            }
        );
        assert_eq!(steps[0].request.auth, Auth::None);
        assert_eq!(steps[1].exercises, KEY_REFUSED);
    }

    #[test]
    fn the_other_teams_record_predicts_404_for_the_run_and_itself_for_its_owner() {
        let (spec, plan) = (spec(), plan());
        let model = Model::new(&spec, &plan, TAG.into(), true);
        let now = Instant::now();
        let Prediction::Foreign { create, operation } =
            apply(&model, &Command::Foreign(Operation::Update), now)
        else {
            panic!("a foreign record is the other team's create");
        };
        assert_eq!(create.request.auth, Auth::OtherTeam);
        assert_eq!(
            json_body(&create.request)["logical_id"],
            json!(format!("{TAG}-foreign"))
        );
        let theirs = answer(&"9".repeat(24), 0, &json!({"logical_id": "theirs"}));
        let steps = model.foreign_checks(operation, &theirs);
        assert_eq!(steps[0].request.operation, Operation::Update);
        assert_eq!(steps[0].request.auth, Auth::Primary);
        assert_eq!(steps[0].expect, Expect::NotFound);
        assert_eq!(steps[0].exercises, FOREIGN_RECORD);
        assert_eq!(steps[1].request.auth, Auth::OtherTeam);
        assert_eq!(
            steps[1].expect,
            Expect::Simulation {
                expected: theirs.clone()
            }
        );
        assert_eq!(steps[2].request.operation, Operation::Delete);
        assert_eq!(steps[2].request.auth, Auth::OtherTeam);
        let leftovers = model.foreign_leftovers(&theirs);
        assert_eq!(leftovers.request.auth, Auth::OtherTeam);
        assert_eq!(listed(&leftovers).absent, vec!["9".repeat(24)]);
        assert!(!listed(&leftovers).exact);
    }

    #[test]
    fn racing_updates_predict_both_changes_and_the_later_answer() {
        let (spec, plan) = (spec(), plan());
        let mut model = Model::new(&spec, &plan, TAG.into(), true);
        let now = Instant::now();
        created(&mut model, "a", now);
        let new_status = status(&spec, 1);
        let race = Command::RaceUpdates(Pick::Record(0), "x y", new_status.clone());
        let Prediction::RaceUpdates {
            requests,
            index,
            description,
            status: raced,
        } = apply(&model, &race, now)
        else {
            panic!("a race of a live record");
        };
        assert_eq!(requests.len(), 2);
        assert!(
            requests
                .iter()
                .all(|(r, _)| r.operation == Operation::Update)
        );
        let before = model.records[0].sim.clone();
        let mut first = before.clone();
        first["updated_at"] = json!("2026-12-06T10:02:00.000000Z");
        let mut second = before.clone();
        second["updated_at"] = json!("2026-12-06T10:01:00.000000Z");
        model.observe_race(
            index,
            &description,
            &raced,
            &[Some(first), Some(second)],
            now,
        );
        let read = model.read_back_raced(index).unwrap();
        let Expect::Simulation { expected } = &read.expect else {
            panic!("a read back");
        };
        assert_eq!(
            expected["simulation_config"]["description"],
            json!(format!("{TAG} x y"))
        );
        assert_eq!(expected["simulation_config"]["status"], json!(new_status));
        assert_eq!(expected["updated_at"], json!("2026-12-06T10:02:00.000000Z"));
        assert_eq!(read.exercises, RACED_UPDATES);
    }

    #[test]
    fn an_update_racing_a_delete_predicts_the_record_gone() {
        let (spec, plan) = (spec(), plan());
        let mut model = Model::new(&spec, &plan, TAG.into(), true);
        let now = Instant::now();
        created(&mut model, "a", now);
        let Prediction::RaceUpdateDelete {
            requests,
            exercises,
            index,
            read,
        } = apply(
            &model,
            &Command::RaceUpdateDelete(Pick::Record(0), "x"),
            now,
        )
        else {
            panic!("a race of a live record");
        };
        assert!(
            matches!(&requests[0].1, Expect::OneOf { statuses, .. } if statuses == &[200, 404])
        );
        assert_eq!(requests[1].1, Expect::Success);
        assert_eq!(exercises, DELETED);
        assert_eq!(read.expect, Expect::NotFound);
        model.observe_gone(Some(index));
        // Once gone, a race on it is a read that finds nothing.
        let again = only_step(apply(
            &model,
            &Command::RaceUpdates(Pick::Record(0), "x", "s".into()),
            now,
        ));
        assert_eq!(
            (again.expect, again.exercises),
            (Expect::NotFound, DELETED.to_vec())
        );
    }

    #[test]
    fn a_burst_predicts_a_list_of_every_create_answered() {
        let (spec, plan) = (spec(), plan());
        let mut model = Model::new(&spec, &plan, TAG.into(), true);
        let now = Instant::now();
        let Prediction::Burst { requests, filter } = apply(&model, &Command::Burst(3), now) else {
            panic!("a burst");
        };
        assert_eq!(requests.len(), 3);
        assert_eq!(filter.search.as_deref(), Some("nonce00001-burst"));
        let sims: Vec<Option<Value>> = (0..3)
            .map(|i| {
                let Expect::Accept { stored, .. } = &requests[i].1 else {
                    panic!("a create");
                };
                // The second create got no answer.
                (i != 1).then(|| answer(&format!("{i:0>24}"), i as u32, stored))
            })
            .collect();
        model.observe_burst(&sims, now);
        let list = model.list(filter, true, Paging::Defaults);
        let expected = listed(&list);
        assert!(expected.exact);
        assert_eq!(
            expected.expected_ids,
            vec![format!("{:0>24}", 2), format!("{:0>24}", 0)]
        );
        assert_eq!(expected.total, 2);
    }

    #[test]
    fn a_large_create_predicts_its_size_and_the_delete_of_what_it_made() {
        let (spec, plan) = (spec(), plan());
        let model = Model::new(&spec, &plan, TAG.into(), true);
        let now = Instant::now();
        let Prediction::CreateThenDelete(at_limit) =
            apply(&model, &Command::CreateLarge(Some(AT_LIMIT)), now)
        else {
            panic!("a large create");
        };
        let body = serde_json::to_vec(json_body(&at_limit.request)).unwrap();
        assert_eq!(body.len(), AT_LIMIT);
        assert!(matches!(at_limit.expect, Expect::Accept { .. }));
        let Prediction::CreateThenDelete(over) = apply(&model, &Command::CreateLarge(None), now)
        else {
            panic!("a large create");
        };
        assert!(matches!(&over.expect, Expect::OneOf { statuses, .. } if statuses == &[200, 413]));
        let delete = model.delete_answered(&answer(&"7".repeat(24), 0, &json!({})));
        assert_eq!(delete.request.operation, Operation::Delete);
        assert!(delete.request.path_and_query.ends_with(&"7".repeat(24)));
        assert_eq!(delete.expect, Expect::Success);
    }

    #[test]
    fn a_pause_sends_nothing_for_the_clock_gap() {
        let (spec, plan) = (spec(), plan());
        let model = Model::new(&spec, &plan, TAG.into(), true);
        assert_eq!(
            apply(&model, &Command::Pause, Instant::now()),
            Prediction::Wait(CLOCK_GAP)
        );
    }
}
