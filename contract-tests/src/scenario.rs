//! Scenarios: what one generated case runs. A single request, or a stateful sequence (lifecycle, list filters, pagination, refused writes, tenancy) whose later expectations are computed from earlier responses.

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Value, json};

use crate::cases::{Auth, Body, Case, Expect, Locus, Request, arb_create_case};
use crate::checks::{Created, Response, RunState};
use crate::http::{Pacer, Target, TransportError};
use crate::listing::{ListExpectation, ListFilter, sort_newest_first};
use crate::spec::{ObjectModel, Operation, Spec};
use crate::values::{arb_accepted_object, arb_text};

const COLLECTION: &str = "/workflows/v1/simulations";
const STATUSES: [&str; 5] = ["pending", "running", "completed", "failed", "cancelled"];

fn item(id: &str) -> String {
    format!("{COLLECTION}/{}", crate::listing::encode(id))
}

/// A refused credential and the 401 detail the contract gives for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub auth: Auth,
    pub detail: &'static str,
}

pub fn arb_refusal() -> impl Strategy<Value = Refusal> {
    prop_oneof![
        Just(Refusal {
            auth: Auth::None,
            detail: "Not authenticated"
        }),
        select(vec!["Basic dXNlcjpwYXNz", "Token abc", "Bearer", "Bearer "]).prop_map(|v| {
            Refusal {
                auth: Auth::Literal(v.into()),
                detail: "Not authenticated",
            }
        }),
        "[a-z0-9]{16}".prop_map(|t| Refusal {
            auth: Auth::Literal(format!("Bearer unknown-{t}")),
            detail: "Invalid API key"
        }),
    ]
}

/// A create, then every operation on what it made, ending in a delete and the reads after it.
#[derive(Debug, Clone, PartialEq)]
pub struct LifecyclePlan {
    pub nonce: String,
    pub body: Value,
    pub stored: Value,
    pub patch: Value,
}

/// One record of a list scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordPlan {
    pub status: &'static str,
    pub selected: Option<usize>,
    pub counter: Option<usize>,
    pub has_word: bool,
}

/// Which filters one list query uses; the values come from the records at run time.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryPlan {
    pub logical_id_of: Option<usize>,
    pub status_of: Option<usize>,
    pub selected: Option<usize>,
    pub counter: Option<usize>,
    /// Search for the word (true) or the scenario's nonce (false), in this letter case.
    pub search: Option<(bool, bool)>,
    pub start_of: Option<(usize, bool)>,
    pub end_of: Option<(usize, bool)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ListPlan {
    pub nonce: String,
    pub word: String,
    pub workflow_ids: [String; 2],
    pub records: Vec<RecordPlan>,
    pub queries: Vec<QueryPlan>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PagePlan {
    pub nonce: String,
    pub count: usize,
    pub size: usize,
}

/// A create, a PATCH from the always-rejected set, and a read showing nothing changed.
#[derive(Debug, Clone, PartialEq)]
pub struct BadUpdatePlan {
    pub nonce: String,
    pub mutation: &'static str,
    pub body: Body,
    pub content_type: &'static str,
    pub locus: Locus,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RefusedPlan {
    pub nonce: String,
    pub refusal: Refusal,
}

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
}

/// A request that was sent, what was expected of it, and what came back.
#[derive(Debug, Clone)]
pub struct Observation {
    pub case: Case,
    pub response: Result<Response, TransportError>,
}

/// Sends a scenario's requests in order and keeps what came back.
struct Exec<'a> {
    target: &'a Target,
    pacer: &'a Pacer,
    state: &'a RunState,
    log: Vec<Observation>,
}

impl Exec<'_> {
    /// Sends one request; returns the response JSON when the status was 2xx.
    async fn send(&mut self, request: Request, expect: Expect) -> Option<Value> {
        self.pacer.wait().await;
        let response = self.target.send(&request).await;
        let json = match &response {
            Ok(r) if r.is_success() => r.json.clone(),
            _ => None,
        };
        if request.operation == Operation::Create
            && let Some(simulation) = json.as_ref().map(|j| &j["simulation"])
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
        self.log.push(Observation {
            case: Case { request, expect },
            response,
        });
        json
    }

    fn tag(&self, nonce: &str) -> String {
        format!("{}-{nonce}", self.state.run_tag)
    }

    /// A plain tagged create whose stored form is all defaults but the tag.
    async fn create_tagged(
        &mut self,
        model: &ObjectModel,
        logical_id: &str,
        description: &str,
    ) -> Option<Value> {
        let sent = json!({"logical_id": logical_id, "description": description});
        let mut stored = model.all_defaults();
        stored["logical_id"] = json!(logical_id);
        stored["description"] = json!(description);
        let request = Request::json(Operation::Create, COLLECTION.into(), sent.clone());
        self.send(request, Expect::Accept { sent, stored })
            .await
            .map(|j| j["simulation"].clone())
    }

    async fn list(&mut self, auth: Auth, size: u64, page: u64, expect: ListExpectation) {
        let mut request = Request::bare(
            Operation::List,
            format!("{COLLECTION}?{}", expect.filter.query(size, page)),
        );
        request.auth = auth;
        self.send(request, Expect::Listed(expect)).await;
    }

    async fn get(&mut self, id: &str, auth: Auth, expect: Expect) -> Option<Value> {
        let mut request = Request::bare(Operation::Get, item(id));
        request.auth = auth;
        self.send(request, expect).await
    }

    /// Reads `id` back with the run's key: it must be exactly `expected`.
    async fn read_back(&mut self, id: &str, expected: &Value) {
        let expect = Expect::Simulation {
            expected: expected.clone(),
        };
        self.get(id, Auth::Primary, expect).await;
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

impl Scenario {
    /// How many creates the scenario makes at most, for `--max-creates`.
    pub fn creates(&self) -> u64 {
        match self {
            Scenario::Single(case) => u64::from(case.request.operation == Operation::Create),
            Scenario::Lifecycle(_) | Scenario::BadUpdate(_) | Scenario::Tenancy(_) => 1,
            Scenario::Refused(_) => 2,
            Scenario::Listing(plan) => plan.records.len() as u64,
            Scenario::Paging(plan) => plan.count as u64,
        }
    }

    pub async fn execute(
        &self,
        spec: &Spec,
        target: &Target,
        pacer: &Pacer,
        state: &RunState,
    ) -> Vec<Observation> {
        let mut x = Exec {
            target,
            pacer,
            state,
            log: Vec::new(),
        };
        let model = &spec.create_body;
        match self {
            Scenario::Single(case) => {
                let answer = x.send(case.request.clone(), case.expect.clone()).await;
                // An accepted unspecified input must read back as the create stored it.
                if let (Expect::Probe { .. }, Some(answer)) = (&case.expect, answer) {
                    let created = &answer["simulation"];
                    x.read_back(&sim_id(created), created).await;
                }
            }
            Scenario::Lifecycle(plan) => lifecycle(&mut x, plan).await,
            Scenario::Listing(plan) => listing(&mut x, model, plan).await,
            Scenario::Paging(plan) => paging(&mut x, model, plan).await,
            Scenario::BadUpdate(plan) => bad_update(&mut x, model, plan).await,
            Scenario::Refused(plan) => refused(&mut x, model, plan).await,
            Scenario::Tenancy(nonce) => tenancy(&mut x, model, nonce).await,
        }
        x.log
    }
}

async fn lifecycle(x: &mut Exec<'_>, plan: &LifecyclePlan) {
    let tag = x.tag(&plan.nonce);
    let mut sent = plan.body.clone();
    let mut stored = plan.stored.clone();
    for (key, value) in [
        ("logical_id", tag.clone()),
        ("description", format!("{tag} lifecycle")),
    ] {
        sent[key] = json!(value);
        stored[key] = json!(value);
    }
    let request = Request::json(Operation::Create, COLLECTION.into(), sent.clone());
    let Some(created) = x
        .send(request, Expect::Accept { sent, stored })
        .await
        .map(|j| j["simulation"].clone())
    else {
        return;
    };
    let id = sim_id(&created);
    x.read_back(&id, &created).await;
    let request = Request::json(Operation::Update, item(&id), plan.patch.clone());
    let updated = x
        .send(
            request,
            Expect::Updated {
                before: created.clone(),
                patch: plan.patch.clone(),
            },
        )
        .await;
    let current = updated.map_or(created, |j| j["simulation"].clone());
    x.read_back(&id, &current).await;
    x.list(
        Auth::Primary,
        10,
        1,
        ListExpectation::exactly(by_logical_id(&tag), vec![id.clone()]),
    )
    .await;
    x.send(Request::bare(Operation::Delete, item(&id)), Expect::Success)
        .await;
    x.get(&id, Auth::Primary, Expect::NotFound).await;
    x.send(
        Request::bare(Operation::Delete, item(&id)),
        Expect::NotFound,
    )
    .await;
    x.send(
        Request::json(
            Operation::Update,
            item(&id),
            json!({"description": "after delete"}),
        ),
        Expect::NotFound,
    )
    .await;
    x.list(
        Auth::Primary,
        10,
        1,
        ListExpectation::empty_without(by_logical_id(&tag), vec![id]),
    )
    .await;
}

fn with_case(text: &str, upper: bool) -> String {
    if upper {
        text.to_uppercase()
    } else {
        text.to_lowercase()
    }
}

/// The query-string form of a stored timestamp: as returned, or as naive UTC.
fn time_bound(sim: &Value, naive: bool) -> Option<String> {
    let at = crate::listing::created_at(sim)?;
    Some(if naive {
        at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
    } else {
        sim["created_at"].as_str()?.to_owned()
    })
}

async fn listing(x: &mut Exec<'_>, model: &ObjectModel, plan: &ListPlan) {
    let tag = x.tag(&plan.nonce);
    let mut sims = Vec::new();
    for (i, record) in plan.records.iter().enumerate() {
        let logical_id = format!("{tag}-{i}");
        let description = if record.has_word {
            format!("{tag} {}{i}", mixed_case(&plan.word, i))
        } else {
            tag.clone()
        };
        let workflow =
            |choice: Option<usize>| choice.map_or(Value::Null, |w| json!(plan.workflow_ids[w]));
        let sent = json!({"logical_id": logical_id, "description": description, "status": record.status,
            "selected_workflow": {"workflow_id": workflow(record.selected)}, "counter_workflow": {"workflow_id": workflow(record.counter)}});
        let mut stored = model.all_defaults();
        for key in ["logical_id", "description", "status"] {
            stored[key] = sent[key].clone();
        }
        stored["selected_workflow"]["workflow_id"] = workflow(record.selected);
        stored["counter_workflow"]["workflow_id"] = workflow(record.counter);
        let request = Request::json(Operation::Create, COLLECTION.into(), sent.clone());
        match x.send(request, Expect::Accept { sent, stored }).await {
            Some(j) => sims.push(j["simulation"].clone()),
            None => return,
        }
    }
    sort_newest_first(&mut sims);
    let nth = |i: usize| &sims[i % sims.len()];
    for query in &plan.queries {
        let pick = |i: Option<usize>| i.map(&nth);
        let filter = ListFilter {
            logical_id: pick(query.logical_id_of).and_then(|s| {
                s["simulation_config"]["logical_id"]
                    .as_str()
                    .map(str::to_owned)
            }),
            status: pick(query.status_of)
                .and_then(|s| s["simulation_config"]["status"].as_str().map(str::to_owned)),
            selected_workflow_id: query.selected.map(|w| plan.workflow_ids[w].clone()),
            counter_workflow_id: query.counter.map(|w| plan.workflow_ids[w].clone()),
            search: query
                .search
                .map(|(word, upper)| with_case(if word { &plan.word } else { &plan.nonce }, upper)),
            start: query
                .start_of
                .and_then(|(i, naive)| time_bound(nth(i), naive)),
            end: query
                .end_of
                .and_then(|(i, naive)| time_bound(nth(i), naive)),
        };
        // Every scoping value is unique to this scenario, so the page must be exactly its matches.
        let scoped = filter.logical_id.is_some()
            || filter.selected_workflow_id.is_some()
            || filter.counter_workflow_id.is_some()
            || filter.search.is_some();
        let matching: Vec<String> = sims
            .iter()
            .filter(|s| filter.matches(s))
            .map(sim_id)
            .collect();
        let total = matching.len() as u64;
        x.list(
            Auth::Primary,
            100,
            1,
            ListExpectation {
                filter,
                exact: scoped,
                expected_ids: matching,
                total,
                absent: vec![],
            },
        )
        .await;
    }
}

fn mixed_case(word: &str, seed: usize) -> String {
    word.chars()
        .enumerate()
        .map(|(i, c)| {
            if (i + seed).is_multiple_of(2) {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect()
}

async fn paging(x: &mut Exec<'_>, model: &ObjectModel, plan: &PagePlan) {
    let tag = x.tag(&plan.nonce);
    let mut sims = Vec::new();
    for i in 0..plan.count {
        match x.create_tagged(model, &format!("{tag}-{i}"), &tag).await {
            Some(sim) => sims.push(sim),
            None => return,
        }
    }
    sort_newest_first(&mut sims);
    let ids: Vec<String> = sims.iter().map(sim_id).collect();
    let filter = ListFilter {
        search: Some(tag.clone()),
        ..ListFilter::default()
    };
    let pages = ids.len().div_ceil(plan.size) + 1;
    for page in 1..=pages {
        let slice: Vec<String> = ids
            .iter()
            .skip((page - 1) * plan.size)
            .take(plan.size)
            .cloned()
            .collect();
        x.list(
            Auth::Primary,
            plan.size as u64,
            page as u64,
            ListExpectation {
                filter: filter.clone(),
                exact: true,
                expected_ids: slice,
                total: ids.len() as u64,
                absent: vec![],
            },
        )
        .await;
    }
}

async fn bad_update(x: &mut Exec<'_>, model: &ObjectModel, plan: &BadUpdatePlan) {
    let tag = x.tag(&plan.nonce);
    let Some(created) = x.create_tagged(model, &tag, &tag).await else {
        return;
    };
    let id = sim_id(&created);
    let mut request = Request::json(Operation::Update, item(&id), Value::Null);
    request.body = plan.body.clone();
    request.content_type = Some(plan.content_type.into());
    let pointer = match &plan.locus {
        Locus::Exact(loc) => loc
            .iter()
            .skip(1)
            .map(|s| format!("/{}", s.as_str().unwrap_or_default()))
            .collect(),
        Locus::BodyOffset => String::new(),
    };
    x.send(
        request,
        Expect::Reject {
            mutation: plan.mutation,
            pointer,
            status: 422,
            locus: Some(plan.locus.clone()),
        },
    )
    .await;
    x.read_back(&id, &created).await;
}

async fn refused(x: &mut Exec<'_>, model: &ObjectModel, plan: &RefusedPlan) {
    let tag = x.tag(&plan.nonce);
    let refused = || Expect::Unauthorized {
        detail: plan.refusal.detail,
    };
    let mut request = Request::json(
        Operation::Create,
        COLLECTION.into(),
        json!({"logical_id": format!("{tag}-refused"), "description": tag}),
    );
    request.auth = plan.refusal.auth.clone();
    x.send(request, refused()).await;
    x.list(
        Auth::Primary,
        10,
        1,
        ListExpectation::exactly(by_logical_id(&format!("{tag}-refused")), vec![]),
    )
    .await;
    let Some(created) = x.create_tagged(model, &tag, &tag).await else {
        return;
    };
    let id = sim_id(&created);
    let mut request = Request::json(
        Operation::Update,
        item(&id),
        json!({"description": "refused", "status": "failed"}),
    );
    request.auth = plan.refusal.auth.clone();
    x.send(request, refused()).await;
    x.read_back(&id, &created).await;
    let mut request = Request::bare(Operation::Delete, item(&id));
    request.auth = plan.refusal.auth.clone();
    x.send(request, refused()).await;
    x.read_back(&id, &created).await;
    x.get(&id, plan.refusal.auth.clone(), refused()).await;
    let mut request = Request::bare(
        Operation::List,
        format!("{COLLECTION}?{}", by_logical_id(&tag).query(10, 1)),
    );
    request.auth = plan.refusal.auth.clone();
    x.send(request, refused()).await;
}

async fn tenancy(x: &mut Exec<'_>, model: &ObjectModel, nonce: &str) {
    let tag = x.tag(nonce);
    let Some(created) = x.create_tagged(model, &tag, &tag).await else {
        return;
    };
    let id = sim_id(&created);
    if x.state.other_team {
        x.get(&id, Auth::OtherTeam, Expect::NotFound).await;
        let mut request = Request::json(
            Operation::Update,
            item(&id),
            json!({"description": "other team", "status": "cancelled"}),
        );
        request.auth = Auth::OtherTeam;
        x.send(request, Expect::NotFound).await;
        let mut request = Request::bare(Operation::Delete, item(&id));
        request.auth = Auth::OtherTeam;
        x.send(request, Expect::NotFound).await;
        x.list(
            Auth::OtherTeam,
            10,
            1,
            ListExpectation::empty_without(by_logical_id(&tag), vec![id.clone()]),
        )
        .await;
        let search = ListFilter {
            search: Some(tag.clone()),
            ..ListFilter::default()
        };
        x.list(
            Auth::OtherTeam,
            100,
            1,
            ListExpectation::empty_without(search, vec![id.clone()]),
        )
        .await;
    }
    x.read_back(&id, &created).await;
}

fn arb_nonce() -> impl Strategy<Value = String> {
    "[a-z0-9]{10}"
}

fn arb_object_id() -> impl Strategy<Value = String> {
    "[0-9a-f]{24}"
}

/// A PATCH body: description and status each absent, null or valid, plus keys that must be ignored.
pub fn arb_patch(spec: &Spec) -> BoxedStrategy<Value> {
    let ignored: Vec<String> = spec
        .create_body
        .fields
        .iter()
        .map(|f| f.name.clone())
        .filter(|n| !spec.update_body.fields.iter().any(|u| &u.name == n))
        .collect();
    let description = prop_oneof![
        Just(None),
        Just(Some(Value::Null)),
        arb_text(0, 30).prop_map(|t| Some(json!(t)))
    ];
    let status = prop_oneof![
        Just(None),
        Just(Some(Value::Null)),
        select(STATUSES.to_vec()).prop_map(|s| Some(json!(s)))
    ];
    let extra = proptest::collection::vec(
        (
            select(ignored),
            prop_oneof![
                Just(json!(7)),
                Just(json!("changed")),
                Just(json!({"workflow_id": "b".repeat(24)}))
            ],
        ),
        0..3,
    );
    (
        description,
        status,
        extra,
        proptest::option::of(arb_text(0, 6)),
    )
        .prop_map(|(description, status, extra, unknown)| {
            let mut patch = json!({});
            if let Some(d) = description {
                patch["description"] = d;
            }
            if let Some(s) = status {
                patch["status"] = s;
            }
            for (k, v) in extra {
                patch[k] = v;
            }
            if let Some(u) = unknown {
                patch[format!("x-unknown-{u}")] = json!(true);
            }
            patch
        })
        .boxed()
}

fn arb_lifecycle(spec: &Spec) -> impl Strategy<Value = Scenario> + use<> {
    (
        arb_nonce(),
        arb_accepted_object(spec.create_body.clone()),
        arb_patch(spec),
    )
        .prop_map(|(nonce, body, patch)| {
            Scenario::Lifecycle(LifecyclePlan {
                nonce,
                body: body.sent,
                stored: body.stored,
                patch,
            })
        })
}

fn arb_listing() -> impl Strategy<Value = Scenario> {
    let record = (
        select(STATUSES.to_vec()),
        proptest::option::of(0usize..2),
        proptest::option::of(0usize..2),
        any::<bool>(),
    )
        .prop_map(|(status, selected, counter, has_word)| RecordPlan {
            status,
            selected,
            counter,
            has_word,
        });
    let index = || proptest::option::weighted(0.3, 0usize..6);
    let query = (
        index(),
        index(),
        proptest::option::weighted(0.3, 0usize..2),
        proptest::option::weighted(0.3, 0usize..2),
        proptest::option::weighted(0.4, (any::<bool>(), any::<bool>())),
        proptest::option::weighted(0.3, (0usize..6, any::<bool>())),
        proptest::option::weighted(0.3, (0usize..6, any::<bool>())),
    )
        .prop_map(
            |(logical_id_of, status_of, selected, counter, search, start_of, end_of)| QueryPlan {
                logical_id_of,
                status_of,
                selected,
                counter,
                search,
                start_of,
                end_of,
            },
        );
    (
        arb_nonce(),
        "[a-z]{8}",
        arb_object_id(),
        arb_object_id(),
        proptest::collection::vec(record, 1..6),
        proptest::collection::vec(query, 1..4),
    )
        .prop_map(|(nonce, word, a, b, records, queries)| {
            Scenario::Listing(ListPlan {
                nonce,
                word,
                workflow_ids: [a, b],
                records,
                queries,
            })
        })
}

fn arb_paging() -> impl Strategy<Value = Scenario> {
    (arb_nonce(), 1usize..7)
        .prop_flat_map(|(nonce, count)| (Just(nonce), Just(count), 1..=count))
        .prop_map(|(nonce, count, size)| Scenario::Paging(PagePlan { nonce, count, size }))
}

fn arb_bad_update() -> impl Strategy<Value = Scenario> {
    let body_loc = || Locus::Exact(vec![json!("body")]);
    let field_loc = |f: &str| Locus::Exact(vec![json!("body"), json!(f)]);
    let mutation = prop_oneof![
        select(vec![
            json!([]),
            json!("x"),
            json!(1),
            Value::Null,
            json!(true),
            json!([{"description": "x"}])
        ])
        .prop_map(move |v| (
            "not_an_object",
            Body::Json(v),
            "application/json",
            body_loc()
        )),
        Just((
            "wrong_content_type",
            Body::Json(json!({"description": "x"})),
            "text/plain",
            body_loc()
        )),
        select(vec![
            json!(42),
            json!(true),
            json!([]),
            json!({}),
            json!(1.5)
        ])
        .prop_map(move |v| (
            "wrong_type",
            Body::Json(json!({"description": v})),
            "application/json",
            field_loc("description")
        )),
        select(vec![
            json!("unknown"),
            json!("PENDING"),
            json!("Running"),
            json!(""),
            json!(1),
            json!(true)
        ])
        .prop_map(move |v| (
            "enum_violation",
            Body::Json(json!({"status": v})),
            "application/json",
            field_loc("status")
        )),
        select(vec![
            &b"{"[..],
            b"{\"description\": ",
            b"{\"status\": \"pending\"",
            b"nope"
        ])
        .prop_map(|b| (
            "invalid_json",
            Body::Bytes(b.to_vec()),
            "application/json",
            Locus::BodyOffset
        )),
    ];
    (arb_nonce(), mutation).prop_map(|(nonce, (mutation, body, content_type, locus))| {
        Scenario::BadUpdate(BadUpdatePlan {
            nonce,
            mutation,
            body,
            content_type,
            locus,
        })
    })
}

/// List queries whose parameters break their rules: 422 at `["query", name]`.
fn arb_bad_query() -> impl Strategy<Value = Scenario> {
    let bad_page = || select(vec!["0", "-1", "abc", "1.5", "1e3", "%20"]);
    prop_oneof![
        bad_page().prop_map(|v| ("size", v.to_owned())),
        bad_page().prop_map(|v| ("page", v.to_owned())),
        select(vec![
            "yesterday",
            "2024-13-01T00:00:00Z",
            "2024-01-01T25:00:00Z",
            "abc"
        ])
        .prop_map(|v| ("start", v.to_owned())),
        select(vec!["tomorrow", "2024-02-30T00:00:00Z", "xyz"]).prop_map(|v| ("end", v.to_owned())),
        prop_oneof!["[a-z0-9]{23}", "[a-z0-9]{25}"].prop_map(|v| ("selected_workflow_id", v)),
        prop_oneof!["[a-z0-9]{23}", "[a-z0-9]{25}"].prop_map(|v| ("counter_workflow_id", v)),
        select(vec!["unknown", "PENDING", "Running", "done"])
            .prop_map(|v| ("status", v.to_owned())),
    ]
    .prop_map(|(name, value)| {
        let value = if value == "%20" {
            value
        } else {
            crate::listing::encode(&value)
        };
        let request = Request::bare(Operation::List, format!("{COLLECTION}?{name}={value}"));
        let expect = Expect::Reject {
            mutation: "bad_query",
            pointer: format!("/{name}"),
            status: 422,
            locus: Some(Locus::Exact(vec![json!("query"), json!(name)])),
        };
        Scenario::Single(Case { request, expect })
    })
}

/// Ids on the item path: wrong lengths (422 at `["path", "simulation_id"]`) or unknown (404).
fn arb_bad_path() -> impl Strategy<Value = Scenario> {
    let operation = select(vec![Operation::Get, Operation::Update, Operation::Delete]);
    let id = prop_oneof![
        prop_oneof!["[a-z0-9]{23}", "[a-z0-9]{25}", "[a-z0-9]{1,5}"].prop_map(|id| (id, false)),
        arb_object_id().prop_map(|id| (id, true)),
    ];
    (operation, id).prop_map(|(operation, (id, well_formed))| {
        let request = match operation {
            Operation::Update => Request::json(operation, item(&id), json!({"description": "x"})),
            _ => Request::bare(operation, item(&id)),
        };
        let expect = if well_formed {
            Expect::NotFound
        } else {
            Expect::Reject {
                mutation: "wrong_length",
                pointer: "/simulation_id".into(),
                status: 422,
                locus: Some(Locus::Exact(vec![json!("path"), json!("simulation_id")])),
            }
        };
        Scenario::Single(Case { request, expect })
    })
}

/// A method neither path supports: 405 with the path's methods in `Allow`.
fn arb_not_allowed() -> impl Strategy<Value = Scenario> {
    let collection = select(vec!["PUT", "PATCH", "DELETE"])
        .prop_map(|m| (m, COLLECTION.to_owned(), vec!["GET", "POST"]));
    let item_path = (select(vec!["POST", "PUT"]), arb_object_id())
        .prop_map(|(m, id)| (m, item(&id), vec!["DELETE", "GET", "PATCH"]));
    prop_oneof![collection, item_path].prop_map(|(method, path, allow)| {
        let operation = if path == COLLECTION {
            Operation::List
        } else {
            Operation::Get
        };
        let mut request = Request::bare(operation, path);
        request.method = method.to_owned();
        Scenario::Single(Case {
            request,
            expect: Expect::NotAllowed { allow },
        })
    })
}

/// A refused key on any operation, with nothing stored to protect.
fn arb_refused_single() -> impl Strategy<Value = Scenario> {
    let operation = select(vec![
        Operation::Create,
        Operation::List,
        Operation::Get,
        Operation::Update,
        Operation::Delete,
    ]);
    (operation, arb_refusal(), arb_object_id()).prop_map(|(operation, refusal, id)| {
        let mut request = match operation {
            Operation::Create => Request::json(
                operation,
                COLLECTION.into(),
                json!({"logical_id": "refused"}),
            ),
            Operation::List => Request::bare(operation, COLLECTION.into()),
            Operation::Update => Request::json(operation, item(&id), json!({"status": "failed"})),
            _ => Request::bare(operation, item(&id)),
        };
        request.auth = refusal.auth;
        Scenario::Single(Case {
            request,
            expect: Expect::Unauthorized {
                detail: refusal.detail,
            },
        })
    })
}

/// A list with arbitrary valid filters, judged for soundness: every returned record matches.
fn arb_open_list() -> impl Strategy<Value = Scenario> {
    let time = || {
        proptest::option::weighted(
            0.3,
            (0i64..2_000_000_000, any::<bool>()).prop_map(|(secs, naive)| {
                let t = chrono::DateTime::from_timestamp(secs, 0).expect("in range");
                if naive {
                    t.format("%Y-%m-%dT%H:%M:%S").to_string()
                } else {
                    t.to_rfc3339()
                }
            }),
        )
    };
    (
        proptest::option::weighted(0.3, select(STATUSES.to_vec()).prop_map(str::to_owned)),
        proptest::option::weighted(0.2, arb_object_id()),
        proptest::option::weighted(0.2, arb_object_id()),
        // An empty search is left unspecified: whether "" is a substring of a null field differs by store.
        proptest::option::weighted(0.3, arb_text(1, 4)),
        time(),
        time(),
        1u64..20,
        1u64..4,
    )
        .prop_map(
            |(status, selected, counter, search, start, end, size, page)| {
                let filter = ListFilter {
                    logical_id: None,
                    status,
                    selected_workflow_id: selected,
                    counter_workflow_id: counter,
                    search,
                    start,
                    end,
                };
                let request = Request::bare(
                    Operation::List,
                    format!("{COLLECTION}?{}", filter.query(size, page)),
                );
                let expect = Expect::Listed(ListExpectation {
                    filter,
                    exact: false,
                    expected_ids: vec![],
                    total: 0,
                    absent: vec![],
                });
                Scenario::Single(Case { request, expect })
            },
        )
}

/// Which scenarios a run draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mix {
    /// Every scenario: create cases, stateful sequences, path, query, auth and 405 cases.
    #[default]
    Full,
    /// Only single create requests (valid, mutated and probes): the benchmark's baseline.
    CreateOnly,
}

/// The mix of scenarios a run draws from.
pub fn arb_scenario(spec: &Spec, mix: Mix) -> BoxedStrategy<Scenario> {
    if mix == Mix::CreateOnly {
        return arb_create_case(&spec.create_body)
            .prop_map(Scenario::Single)
            .boxed();
    }
    prop_oneof![
        40 => arb_create_case(&spec.create_body).prop_map(Scenario::Single),
        8 => arb_lifecycle(spec),
        8 => arb_listing(),
        5 => arb_paging(),
        6 => arb_bad_update(),
        4 => (arb_nonce(), arb_refusal()).prop_map(|(nonce, refusal)| Scenario::Refused(RefusedPlan { nonce, refusal })),
        4 => arb_nonce().prop_map(Scenario::Tenancy),
        6 => arb_bad_query(),
        4 => arb_bad_path(),
        2 => arb_not_allowed(),
        3 => arb_refused_single(),
        4 => arb_open_list(),
    ]
    .boxed()
}
