//! The model of a sequence, pure: [`apply`] predicts what a command sends and what each request must answer, and the `observe_*` functions advance the model from what the server answered; no I/O, no async, no clock but the instant it is given.

use std::time::Instant;

use chrono::{DateTime, FixedOffset, SecondsFormat, TimeDelta, Utc};
use serde_json::{Value, json};

use super::command::{
    Bound, CLOCK_GAP, Command, CreatePlan, Intruder, MachinePlan, OVER_LIMIT_DESCRIPTION, PageAt,
    Paging, PatchPlan, PatchValue, Pick, QueryPlan, SearchIn, Text, Variant,
};
use crate::coverage;
use crate::exchange::{Auth, Exercise, Expect, Locus, Request, exercise};
use crate::listing::{
    self, COUNTER_WORKFLOW_FIELD, ListExpectation, ListFilter, SELECTED_WORKFLOW_FIELD, created_at,
    page_size, sort_newest_first,
};
use crate::pointer;
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
pub enum Prediction {
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
pub struct Model<'a> {
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
    pub fn observe_create(&mut self, stored: Option<&Value>, answered: &Value, now: Instant) {
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
    pub fn delete_answered(&self, answered: &Value) -> Step {
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
    pub fn observe_update(&mut self, index: usize, patch: &Value, answered: &Value, now: Instant) {
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
    pub fn observe_gone(&mut self, index: Option<usize>) {
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
    pub fn observe_race(
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
    pub fn read_back_raced(&self, index: usize) -> Option<Step> {
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
    pub fn observe_burst(&mut self, answered: &[Option<Value>], now: Instant) {
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
    pub fn foreign_checks(&self, operation: Operation, created: &Value) -> Vec<Step> {
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
    pub fn foreign_leftovers(&self, created: &Value) -> Step {
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
    pub fn foreign_delete(&self, listed: &Value) -> Step {
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

