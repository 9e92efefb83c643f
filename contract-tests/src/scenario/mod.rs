//! Scenarios: what one generated case runs. A single request, or a stateful sequence whose later expectations are computed from earlier responses; one module per family, each with its plan, its strategy and how it runs. This module holds the enum, the mix a run draws from, and the executor every family sends through.

mod bad_update;
mod lifecycle;
mod list_filters;
mod machine;
mod paging;
mod refused;
mod single;
mod tenancy;

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::cases::arb_create_case;
use crate::http::{Pacer, Target};
use crate::listing::{ListExpectation, ListFilter, page_size};
use crate::request::{Auth, Body, Case, Exercise, Expect, Request};
use crate::run_state::{Created, RunState, Unproven, body_carries_tag};
use crate::spec::{Operation, Spec};
use crate::verdict::Observation;

pub(crate) use bad_update::BadUpdatePlan;
pub(crate) use lifecycle::LifecyclePlan;
pub(crate) use list_filters::ListPlan;
pub(crate) use machine::MachinePlan;
pub use machine::{Bound, Command};
pub(crate) use paging::PagePlan;
#[cfg(test)]
pub(crate) use refused::Refusal;
pub(crate) use refused::RefusedPlan;

/// One generated unit of work.
// Scenarios live one per in-flight case; boxing the large variant would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Scenario {
    /// A single request judged on its own.
    Single(Case),
    Lifecycle(LifecyclePlan),
    Listing(ListPlan),
    Paging(PagePlan),
    BadUpdate(BadUpdatePlan),
    /// Refused requests on every operation change nothing.
    Refused(RefusedPlan),
    /// Another team can neither see, get, update nor delete this team's simulation.
    Tenancy(String),
    /// A random command sequence judged against a model of the team's records.
    Machine(MachinePlan),
}

impl Scenario {
    /// How many creates the scenario makes at most, for `--max-creates`.
    pub fn creates(&self) -> u64 {
        match self {
            Scenario::Single(case) => u64::from(case.request.operation == Operation::Create),
            Scenario::Lifecycle(_) | Scenario::BadUpdate(_) | Scenario::Tenancy(_) => 1,
            Scenario::Refused(_) => 2,
            Scenario::Listing(plan) => plan.records.len() as u64,
            Scenario::Paging(plan) => plan.count as u64,
            Scenario::Machine(plan) => plan.creates(),
        }
    }

    /// A command sequence's commands, one line each, as a finding shows them; empty for the
    /// fixed plans, whose requests the finding's curl line and the seed reproduce.
    pub fn sequence(&self) -> Vec<String> {
        match self {
            Scenario::Machine(plan) => plan.commands.iter().map(Command::describe).collect(),
            _ => Vec::new(),
        }
    }

    pub async fn execute(
        &self,
        spec: &Spec,
        target: &Target,
        pacer: &Pacer,
        state: &RunState,
    ) -> Vec<Observation> {
        let mut x = Exec::new(spec, target, pacer, state);
        match self {
            Scenario::Single(case) => single::run(&mut x, case).await,
            Scenario::Lifecycle(plan) => lifecycle::run(&mut x, plan).await,
            Scenario::Listing(plan) => list_filters::run(&mut x, plan).await,
            Scenario::Paging(plan) => paging::run(&mut x, plan).await,
            Scenario::BadUpdate(plan) => bad_update::run(&mut x, plan).await,
            Scenario::Refused(plan) => refused::run(&mut x, plan).await,
            Scenario::Tenancy(nonce) => tenancy::run(&mut x, nonce).await,
            Scenario::Machine(plan) => machine::run(&mut x, plan).await,
        }
        x.log
    }

    /// [`Scenario::execute`] for a scenario the caller is done with (the runner's cases): a
    /// single request goes out as it was drawn, not copied first.
    pub async fn execute_owned(
        self,
        spec: &Spec,
        target: &Target,
        pacer: &Pacer,
        state: &RunState,
    ) -> Vec<Observation> {
        match self {
            Scenario::Single(case) => {
                let mut x = Exec::new(spec, target, pacer, state);
                single::run_owned(&mut x, case).await;
                x.log
            }
            other => other.execute(spec, target, pacer, state).await,
        }
    }
}

/// Which scenarios a run draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mix {
    /// Every scenario: create cases, stateful sequences, path, query, auth and 405 cases.
    #[default]
    Full,
    /// Only single create requests (valid, mutated and probes): the benchmark's baseline.
    CreateOnly,
    /// Only the model-based command sequences.
    Machine,
}

/// The mix of scenarios a run draws from.
pub fn arb_scenario(spec: &Spec, mix: Mix) -> BoxedStrategy<Scenario> {
    match mix {
        Mix::CreateOnly => return arb_create_case(spec).prop_map(Scenario::Single).boxed(),
        Mix::Machine => return machine::arb_machine(spec).boxed(),
        Mix::Full => {}
    }
    prop_oneof![
        40 => arb_create_case(spec).prop_map(Scenario::Single),
        8 => lifecycle::arb_lifecycle(spec),
        8 => list_filters::arb_listing(spec),
        5 => paging::arb_paging(spec),
        6 => bad_update::arb_bad_update(spec),
        4 => refused::arb_refused(),
        4 => tenancy::arb_tenancy(),
        6 => single::arb_bad_query(spec),
        4 => single::arb_bad_path(spec),
        2 => single::arb_not_allowed(spec),
        3 => refused::arb_refused_single(spec),
        4 => single::arb_open_list(spec),
        16 => machine::arb_machine(spec),
    ]
    .boxed()
}

/// Sends a scenario's requests in order and keeps what came back.
struct Exec<'a> {
    spec: &'a Spec,
    target: &'a Target,
    pacer: &'a Pacer,
    state: &'a RunState,
    log: Vec<Observation>,
    /// A request was given up (unhealthy target, deadline): the scenario sends nothing more,
    /// since what it would send next rests on an answer that never came.
    abandoned: bool,
    /// A write was retried after a failure that may have reached the service (`gateway.rs`):
    /// a duplicate may exist, so later lists are judged soundly, not exactly.
    ambiguous_write: bool,
}

impl<'a> Exec<'a> {
    fn new(spec: &'a Spec, target: &'a Target, pacer: &'a Pacer, state: &'a RunState) -> Self {
        Exec {
            spec,
            target,
            pacer,
            state,
            log: Vec::new(),
            abandoned: false,
            ambiguous_write: false,
        }
    }

    /// Sends one request; returns the response JSON when the status was 2xx.
    async fn send(&mut self, request: Request, expect: Expect) -> Option<Value> {
        self.send_exercising(request, expect, &[]).await
    }

    /// Sends one request that exercises `exercises` besides what coverage reads off the request
    /// and its expectation (the context only the scenario knows); returns the response JSON
    /// when the status was 2xx.
    async fn send_exercising(
        &mut self,
        request: Request,
        expect: Expect,
        exercises: &[Exercise],
    ) -> Option<Value> {
        self.send_wanting(request, expect, exercises, true).await
    }

    /// Sends one request whose answer the scenario does not read.
    async fn send_unread(&mut self, request: Request, expect: Expect) {
        self.send_wanting(request, expect, &[], false).await;
    }

    async fn send_wanting(
        &mut self,
        request: Request,
        expect: Expect,
        exercises: &[Exercise],
        wanted: bool,
    ) -> Option<Value> {
        if self.abandoned {
            return None;
        }
        let expect = self.soften(expect);
        self.pacer.wait().await;
        let sent_at = chrono::Utc::now();
        let response = self.target.send(&request).await;
        self.keep_answer(request, expect, response, exercises, sent_at, wanted)
    }

    /// Sends requests all at once, so that they are in flight together, each exercising
    /// `exercises` besides what coverage reads off it; returns each one's response JSON when
    /// its status was 2xx, in the order given.
    async fn send_concurrently(
        &mut self,
        cases: Vec<(Request, Expect)>,
        exercises: &[Exercise],
    ) -> Vec<Option<Value>> {
        if self.abandoned {
            return vec![None; cases.len()];
        }
        let cases: Vec<(Request, Expect)> = cases
            .into_iter()
            .map(|(request, expect)| (request, self.soften(expect)))
            .collect();
        for _ in &cases {
            self.pacer.wait().await;
        }
        let target = self.target;
        let sent_at = chrono::Utc::now();
        let responses =
            futures_util::future::join_all(cases.iter().map(|(request, _)| target.send(request)))
                .await;
        cases
            .into_iter()
            .zip(responses)
            .map(|((request, expect), response)| {
                self.keep(request, expect, response, exercises, sent_at)
            })
            .collect()
    }

    /// After an ambiguous retried write a duplicate the scenario does not know of may exist:
    /// a list is then judged soundly (filters, order, absent ids), not exactly.
    fn soften(&self, expect: Expect) -> Expect {
        match expect {
            Expect::Listed(mut list) if self.ambiguous_write => {
                list.exact = false;
                Expect::Listed(list)
            }
            other => other,
        }
    }

    /// Logs an exchange, and notes what a create made so the cleanup can find it, or, when the
    /// run could not prove it its own, so the report names it.
    fn keep(
        &mut self,
        request: Request,
        expect: Expect,
        response: Result<crate::response::Response, crate::http::TransportError>,
        exercises: &[Exercise],
        sent_at: chrono::DateTime<chrono::Utc>,
    ) -> Option<Value> {
        self.keep_answer(request, expect, response, exercises, sent_at, true)
    }

    /// [`Exec::keep`]; the response JSON of a 2xx comes back (a copy) only when `wanted`, since
    /// most callers never read it.
    fn keep_answer(
        &mut self,
        request: Request,
        mut expect: Expect,
        response: Result<crate::response::Response, crate::http::TransportError>,
        exercises: &[Exercise],
        sent_at: chrono::DateTime<chrono::Utc>,
        wanted: bool,
    ) -> Option<Value> {
        self.note_unproven(&request, &response, sent_at);
        // The retried delete's 404 answers as the delete done, with an empty object.
        let mut done_empty = false;
        match &response {
            Err(e) if e.kind.abandons() => self.abandoned = true,
            Ok(r) if r.ambiguous_for.is_some() => {
                self.ambiguous_write = true;
                if request.operation == Operation::Delete
                    && r.status == 404
                    && expect == Expect::Success
                {
                    // The lost attempt deleted it: the retry's 404 is the delete done.
                    expect = Expect::OneOf {
                        statuses: vec![200, 404],
                        because: "a delete retried after a failure that may have reached the service",
                    };
                    done_empty = true;
                }
            }
            _ => {}
        }
        let answer = match &response {
            Ok(r) if r.is_success() => r.json.as_ref(),
            _ => None,
        };
        if request.operation == Operation::Delete
            && request.auth == Auth::Primary
            && matches!(&response, Ok(r) if r.is_success() || r.status == 404)
        {
            self.state
                .deleted
                .lock()
                .expect("not poisoned")
                .insert(request.path_and_query.clone());
        }
        if request.operation == Operation::Create
            && let Some(simulation) = answer.map(|j| &j["simulation"])
            && let Some(id) = simulation["_id"].as_str()
        {
            self.state
                .created
                .lock()
                .expect("not poisoned")
                .push(Created {
                    id: id.to_owned(),
                    created_at: simulation["created_at"].as_str().map(str::to_owned),
                });
        }
        let json = if !wanted {
            None
        } else if done_empty {
            Some(json!({}))
        } else {
            answer.cloned()
        };
        self.log.push(Observation {
            case: Case { request, expect },
            response,
            exercises: exercises.to_vec(),
        });
        json
    }

    /// A create whose attempts may have made records the run never heard of: from a body with
    /// the run's tag, the cleanup's search finds and proves them; from any other, they are
    /// noted as unproven (`run_state::Unproven`), for the report and never for a delete.
    fn note_unproven(
        &self,
        request: &Request,
        response: &Result<crate::response::Response, crate::http::TransportError>,
        sent_at: chrono::DateTime<chrono::Utc>,
    ) {
        let attempts = match response {
            Ok(r) => r.lost_attempts,
            Err(e) => e.lost_attempts,
        };
        if request.operation != Operation::Create
            || attempts == 0
            || body_carries_tag(&request.body, &self.state.run_tag)
        {
            return;
        }
        let logical_id = match &request.body {
            Body::Json(json) => json["logical_id"].as_str().map(str::to_owned),
            _ => None,
        };
        self.state
            .unproven
            .lock()
            .expect("not poisoned")
            .push(Unproven {
                attempts,
                sent_at: sent_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                within: (chrono::Utc::now() - sent_at).to_std().unwrap_or_default(),
                logical_id,
            });
    }

    fn tag(&self, nonce: &str) -> String {
        format!("{}-{nonce}", self.state.run_tag)
    }

    /// A plain tagged create whose stored form is all defaults but the tag.
    async fn create_tagged(&mut self, logical_id: &str, description: &str) -> Option<Value> {
        let sent = json!({"logical_id": logical_id, "description": description});
        let mut stored = self.spec.create_body.all_defaults();
        stored["logical_id"] = json!(logical_id);
        stored["description"] = json!(description);
        let request = self.spec.api.create(sent.clone());
        self.send(request, Expect::Accept { sent, stored })
            .await
            .map(|j| j["simulation"].clone())
    }

    /// One list page; `size` is brought within the spec's bounds on the page size.
    async fn list(&mut self, auth: Auth, size: u64, page: u64, expect: ListExpectation) {
        self.list_exercising(auth, size, page, expect, &[]).await;
    }

    /// [`Exec::list`], exercising `exercises` besides what the page's expectation shows.
    async fn list_exercising(
        &mut self,
        auth: Auth,
        size: u64,
        page: u64,
        expect: ListExpectation,
        exercises: &[Exercise],
    ) {
        let size = page_size(&self.spec.api, size);
        let mut request = self.spec.api.list(&expect.filter.query(size, page));
        request.auth = auth;
        self.send_exercising(request, Expect::Listed(expect), exercises)
            .await;
    }

    async fn get(&mut self, id: &str, auth: Auth, expect: Expect) -> Option<Value> {
        self.get_exercising(id, auth, expect, &[]).await
    }

    /// [`Exec::get`], exercising `exercises` besides what the request and expectation show.
    async fn get_exercising(
        &mut self,
        id: &str,
        auth: Auth,
        expect: Expect,
        exercises: &[Exercise],
    ) -> Option<Value> {
        let mut request = self.spec.api.get(id);
        request.auth = auth;
        self.send_exercising(request, expect, exercises).await
    }

    /// Reads `id` back with the run's key: it must be exactly `expected`.
    async fn read_back(&mut self, id: &str, expected: &Value) {
        self.read_back_exercising(id, expected, &[]).await;
    }

    /// [`Exec::read_back`] after something only the scenario knows of (a refused write, another
    /// team's attempt, an update), which the read exercises: `exercises` names it.
    async fn read_back_exercising(&mut self, id: &str, expected: &Value, exercises: &[Exercise]) {
        let expect = Expect::Simulation {
            expected: expected.clone(),
        };
        self.get_exercising(id, Auth::Primary, expect, exercises)
            .await;
    }
}

fn by_logical_id(logical_id: &str) -> ListFilter {
    ListFilter {
        logical_id: Some(logical_id.to_owned()),
        ..ListFilter::default()
    }
}

fn sim_id(sim: &Value) -> String {
    sim["_id"].as_str().unwrap_or_default().to_owned()
}

/// A scenario's own word, unique among the run's scenarios, that its tag is made of.
fn arb_nonce() -> impl Strategy<Value = String> {
    "[a-z0-9]{10}"
}

/// An id the item path accepts that no record has.
fn arb_unknown_id(spec: &Spec) -> BoxedStrategy<String> {
    crate::values::arb_hex_id(spec.api.id().length_bounds().unwrap_or_default())
}
