//! The refused-update scenario: a create, a PATCH from the always-rejected set (a body that is not an object or not JSON, or a field of the spec's update body given a value it refuses), and a read showing nothing changed.

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Value, json};

use super::{Exec, Scenario, arb_nonce, sim_id};
use crate::pointer;
use crate::request::{Body, Exercise, Expect, Locus, exercise};
use crate::rules::Rule;
use crate::spec::Spec;
use crate::values::{arb_rejected, plain_object};

/// A create, a PATCH from the always-rejected set, and a read showing nothing changed.
#[derive(Debug, Clone, PartialEq)]
pub struct BadUpdatePlan {
    pub nonce: String,
    pub mutation: &'static str,
    pub body: Body,
    /// `None`: no Content-Type, as a client sending no body sends none.
    pub content_type: Option<&'static str>,
    pub status: u16,
    /// `None` for a refusal without a 422's `loc` (400 for a body that is not text).
    pub locus: Option<Locus>,
}

type Mutation = (&'static str, Body, Option<&'static str>, u16, Option<Locus>);

const JSON: Option<&str> = Some("application/json");

pub(super) fn arb_bad_update(spec: &Spec) -> impl Strategy<Value = Scenario> + use<> {
    let body_loc = || Locus::Exact(vec![json!("body")]);
    // Valid but for the one thing each mutation breaks: a patch of every field.
    let patch = plain_object(&spec.update_body, "x");
    let text = serde_json::to_string(&patch).expect("a Value serialises");
    let mut mutations: Vec<BoxedStrategy<Mutation>> = vec![
        select(vec![
            json!([]),
            json!("x"),
            json!(1),
            Value::Null,
            json!(true),
            json!([patch.clone()]),
        ])
        .prop_map(move |v| ("not_an_object", Body::Json(v), JSON, 422, Some(body_loc())))
        .boxed(),
        Just((
            "wrong_content_type",
            Body::Json(patch),
            Some("text/plain"),
            422,
            Some(body_loc()),
        ))
        .boxed(),
        // No body at all: `body.missing` on the update as on the create.
        Just(("missing_body", Body::Empty, None, 422, Some(body_loc()))).boxed(),
        // A byte no JSON text encoding reads, inside a string value: `body.not-utf8`, 400.
        Just((
            "invalid_utf8",
            Body::Bytes([&b"{\"description\": \""[..], &[0xFF], &b"\"}"[..]].concat()),
            JSON,
            400,
            None,
        ))
        .boxed(),
    ];
    // A value of the always-rejected set in each field of the update body, alone in the patch.
    for field in &spec.update_body.fields {
        let name = field.name.clone();
        let rejected = if field.nullable {
            arb_rejected(&field.kind)
        } else {
            prop_oneof![4 => arb_rejected(&field.kind), 1 => Just(("null_not_allowed", Value::Null))]
                .boxed()
        };
        mutations.push(
            rejected
                .prop_map(move |(mutation, value)| {
                    let mut body = json!({});
                    pointer::set(&mut body, &pointer::child("", &name), value);
                    (
                        mutation,
                        Body::Json(body),
                        JSON,
                        422,
                        Some(Locus::Exact(vec![json!("body"), json!(name)])),
                    )
                })
                .boxed(),
        );
    }
    // A framework hazard (`crate::hazard`): a non-finite number in a field of the update body,
    // which Python's JSON reader takes and the field refuses (422 at the field).
    let names: Vec<String> = spec
        .update_body
        .fields
        .iter()
        .map(|f| f.name.clone())
        .collect();
    if !names.is_empty() {
        let tokens = vec!["NaN", "Infinity", "-Infinity", "1e400"];
        mutations.push(
            (select(names), select(tokens))
                .prop_map(|(name, token)| {
                    let key = serde_json::to_string(&name).expect("a string serialises");
                    (
                        crate::hazard::NON_FINITE,
                        Body::Bytes(format!("{{{key}: {token}}}").into_bytes()),
                        JSON,
                        422,
                        Some(Locus::Exact(vec![json!("body"), json!(name)])),
                    )
                })
                .boxed(),
        );
    }
    // Every field of the update body invalid at once: one 422 entry per violation, each at its
    // own loc (a handler that stops at the first reports one).
    let fields: Vec<(String, BoxedStrategy<(&'static str, Value)>)> = spec
        .update_body
        .fields
        .iter()
        .map(|f| (f.name.clone(), arb_rejected(&f.kind)))
        .collect();
    if fields.len() >= 2 {
        let names: Vec<String> = fields.iter().map(|(n, _)| n.clone()).collect();
        let values: Vec<BoxedStrategy<(&'static str, Value)>> =
            fields.into_iter().map(|(_, v)| v).collect();
        mutations.push(
            values
                .prop_map(move |values| {
                    let mut body = json!({});
                    for (name, (_, value)) in names.iter().zip(values) {
                        pointer::set(&mut body, &pointer::child("", name), value);
                    }
                    let locs = names
                        .iter()
                        .map(|n| vec![json!("body"), json!(n)])
                        .collect();
                    (
                        "every_field_rejected",
                        Body::Json(body),
                        JSON,
                        422,
                        Some(Locus::Every(locs)),
                    )
                })
                .boxed(),
        );
    }
    // Prefixes of a valid patch never parse: cut inside the object, after a key, before the end.
    let after_first_key = text.find(':').map_or(1, |colon| colon + 1);
    let cuts = vec![
        "{".to_owned(),
        format!("{} ", &text[..after_first_key]),
        text[..text.len() - 1].to_owned(),
        "nope".to_owned(),
    ];
    mutations.push(
        select(cuts)
            .prop_map(|b| {
                (
                    "invalid_json",
                    Body::Bytes(b.into_bytes()),
                    JSON,
                    422,
                    Some(Locus::BodyOffset),
                )
            })
            .boxed(),
    );
    (arb_nonce(), proptest::strategy::Union::new(mutations)).prop_map(
        |(nonce, (mutation, body, content_type, status, locus))| {
            Scenario::BadUpdate(BadUpdatePlan {
                nonce,
                mutation,
                body,
                content_type,
                status,
                locus,
            })
        },
    )
}

pub(super) async fn run(x: &mut Exec<'_>, plan: &BadUpdatePlan) {
    let tag = x.tag(&plan.nonce);
    let Some(created) = x.create_tagged(&tag, &tag).await else {
        return;
    };
    let id = sim_id(&created);
    let mut request = x.spec.api.update(&id, Value::Null);
    request.body = plan.body.clone();
    request.content_type = plan.content_type.map(str::to_owned);
    let at = match &plan.locus {
        Some(Locus::Exact(loc)) => body_pointer(loc),
        Some(Locus::Every(locs)) => locs
            .first()
            .map_or_else(String::new, |loc| body_pointer(loc)),
        _ => String::new(),
    };
    x.send(
        request,
        Expect::Reject {
            mutation: plan.mutation,
            pointer: at,
            status: plan.status,
            locus: plan.locus.clone(),
        },
    )
    .await;
    // A refused value must have changed nothing: the read shows the record as created.
    let field = matches!(&plan.locus, Some(Locus::Exact(loc)) if loc.len() > 1)
        || matches!(&plan.locus, Some(Locus::Every(_)));
    let exercises: &[Exercise] = if field {
        &[
            exercise(Rule::UpdateInvalid, "unchanged-after"),
            exercise(Rule::NeverLost, "after-refused-update"),
        ]
    } else {
        &[exercise(Rule::NeverLost, "after-refused-update")]
    };
    x.read_back_exercising(&id, &created, exercises).await;
}

/// The JSON pointer into the body of a 422 `loc` (`["body", "status"]` is `/status`).
fn body_pointer(loc: &[Value]) -> String {
    loc.iter().skip(1).fold(String::new(), |at, key| {
        pointer::child(&at, key.as_str().unwrap_or_default())
    })
}
