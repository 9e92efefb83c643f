//! The lifecycle scenario: a create, then every operation on what it made (read, update, read, list), ending in a delete and the reads and writes after it, which must find nothing.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::{Exec, Scenario, arb_nonce, by_logical_id, sim_id};
use crate::coverage;
use crate::listing::ListExpectation;
use crate::request::{Auth, Exercise, Expect, exercise};
use crate::rules::Rule;
use crate::spec::Spec;
use crate::values::{arb_accepted_object, arb_canonical, arb_rejected, plain_object};

/// A create, then every operation on what it made, ending in a delete and the reads after it.
#[derive(Debug, Clone, PartialEq)]
pub struct LifecyclePlan {
    pub nonce: String,
    pub body: Value,
    pub stored: Value,
    pub patch: Value,
}

pub(super) fn arb_lifecycle(spec: &Spec) -> impl Strategy<Value = Scenario> + use<> {
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

/// A PATCH body: each field of the spec's update body absent, null (where allowed) or valid,
/// plus create fields the update body does not have, with values valid or not for create,
/// which the server must ignore alike, and a key nobody knows.
pub(crate) fn arb_patch(spec: &Spec) -> BoxedStrategy<Value> {
    let fields: Vec<BoxedStrategy<Option<Value>>> = spec
        .update_body
        .fields
        .iter()
        .map(|field| {
            let valid = arb_canonical(&field.kind).prop_map(|a| Some(a.sent));
            if field.nullable {
                prop_oneof![Just(None), Just(Some(Value::Null)), valid].boxed()
            } else {
                prop_oneof![Just(None), valid].boxed()
            }
        })
        .collect();
    let names: Vec<String> = spec
        .update_body
        .fields
        .iter()
        .map(|f| f.name.clone())
        .collect();
    let ignored = arb_ignored_keys(spec);
    let extra = if ignored.is_empty() {
        Just(Vec::new()).boxed()
    } else {
        proptest::collection::vec(proptest::strategy::Union::new(ignored), 0..3).boxed()
    };
    (
        fields,
        extra,
        proptest::option::of(crate::values::arb_text(0, 6)),
    )
        .prop_map(move |(values, extra, unknown)| {
            let mut patch = json!({});
            for (name, value) in names.iter().zip(values) {
                if let Some(v) = value {
                    patch[name] = v;
                }
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

/// Create fields the update body does not have, each with a value valid or not for create:
/// PATCH must ignore them alike (`update.fields`).
pub(super) fn arb_ignored_keys(spec: &Spec) -> Vec<BoxedStrategy<(String, Value)>> {
    spec.create_body
        .fields
        .iter()
        .filter(|f| spec.update_body.field(&f.name).is_none())
        .map(|f| {
            let name = f.name.clone();
            prop_oneof![
                arb_canonical(&f.kind).prop_map(|a| a.sent),
                arb_rejected(&f.kind).prop_map(|(_, v)| v),
            ]
            .prop_map(move |v| (name.clone(), v))
            .boxed()
        })
        .collect()
}

pub(super) async fn run(x: &mut Exec<'_>, plan: &LifecyclePlan) {
    let spec = x.spec;
    let api = &spec.api;
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
    let request = api.create(sent.clone());
    let Some(created) = x
        .send(request, Expect::Accept { sent, stored })
        .await
        .map(|j| j["simulation"].clone())
    else {
        return;
    };
    let id = sim_id(&created);
    x.read_back(&id, &created).await;
    // The id in another letter case is another id: ids are lowercase hex and matched as
    // written, so this separates a server that parses the path id as a number (an `ObjectId`
    // reads hex in either case) and finds the record.
    let respelled = id.to_uppercase();
    if respelled != id {
        x.get_exercising(
            &respelled,
            Auth::Primary,
            Expect::NotFound,
            &[exercise(Rule::ItemNotFound, "upper-cased-id")],
        )
        .await;
    }
    let request = api.update(&id, plan.patch.clone());
    let updated = x
        .send(
            request,
            Expect::Updated {
                before: created.clone(),
                patch: plan.patch.clone(),
                strictly_later: false,
            },
        )
        .await;
    // Only a read after an update that was answered shows whether the update was stored.
    let persisted: &[Exercise] = if updated.is_some() {
        &[exercise(Rule::UpdatePersisted, "read-after-update")]
    } else {
        &[]
    };
    let current = updated.map_or(created, |j| j["simulation"].clone());
    x.read_back_exercising(&id, &current, persisted).await;
    x.list(
        Auth::Primary,
        10,
        1,
        ListExpectation::exactly(by_logical_id(&tag), vec![id.clone()]),
    )
    .await;
    x.send(api.delete(&id), Expect::Success).await;
    // Only the sequence knows the id was deleted: after it, each of these is `delete.gone`.
    // The list that showed the record comes first, as it was sent: a page cached by its query
    // and not dropped on delete shows the record again; any later write might drop it.
    let gone = [exercise(Rule::DeleteGone, coverage::AFTER_DELETE)];
    x.list_exercising(
        Auth::Primary,
        10,
        1,
        ListExpectation::empty_without(by_logical_id(&tag), vec![id.clone()]),
        &gone,
    )
    .await;
    x.get_exercising(&id, Auth::Primary, Expect::NotFound, &gone)
        .await;
    x.send_exercising(api.delete(&id), Expect::NotFound, &gone)
        .await;
    let after_delete = plain_object(&spec.update_body, "after delete");
    x.send_exercising(api.update(&id, after_delete), Expect::NotFound, &gone)
        .await;
}
