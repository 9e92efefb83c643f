//! Refused keys: a missing, malformed or unknown key (among them the run's own key in another header or altered) on every operation gets the contract's 401 and changes nothing, alone or around a record the scenario made.

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::json;

use super::{Exec, Scenario, arb_nonce, arb_unknown_id, by_logical_id, sim_id};
use crate::listing::{ListExpectation, page_size};
use crate::request::{Alteration, Auth, Case, Elsewhere, Expect, exercise};
use crate::rules::Rule;
use crate::spec::{Operation, Spec};
use crate::values::plain_object;

/// A refused credential and the 401 detail the contract gives for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub auth: Auth,
    pub detail: &'static str,
}

/// `auth.missing`: no key, another scheme or an empty credential.
const NOT_AUTHENTICATED: &str = "Not authenticated";
/// `auth.unknown`: a well-formed key nobody has.
const INVALID_API_KEY: &str = "Invalid API key";

/// Which credentials are refused, with which detail.
pub(crate) fn arb_refusal() -> impl Strategy<Value = Refusal> {
    prop_oneof![
        Just(Refusal {
            auth: Auth::None,
            detail: NOT_AUTHENTICATED
        }),
        select(vec!["Basic dXNlcjpwYXNz", "Token abc", "Bearer", "Bearer "]).prop_map(|v| {
            Refusal {
                auth: Auth::Literal(v.into()),
                detail: NOT_AUTHENTICATED,
            }
        }),
        "[a-z0-9]{16}".prop_map(|t| Refusal {
            auth: Auth::Literal(format!("Bearer unknown-{t}")),
            detail: INVALID_API_KEY
        }),
        arb_key_elsewhere().prop_map(|elsewhere| Refusal {
            auth: Auth::KeyElsewhere(elsewhere),
            detail: NOT_AUTHENTICATED,
        }),
        arb_alteration().prop_map(|alteration| Refusal {
            auth: Auth::KeyAltered(alteration),
            detail: INVALID_API_KEY,
        }),
    ]
}

/// The run's own key where services other than this one read a key: the contract reads only
/// `Authorization: Bearer`, so each is a missing key, and a server that also takes an API-key
/// header or parameter serves it. `X-API-Key` is the name FastAPI's `APIKeyHeader` is most
/// often given, so it is drawn most.
fn arb_key_elsewhere() -> impl Strategy<Value = Elsewhere> {
    prop_oneof![
        2 => Just(Elsewhere::Header("X-API-Key")),
        1 => Just(Elsewhere::Header("Api-Key")),
        1 => Just(Elsewhere::Query("api_key")),
    ]
}

/// The run's own key altered into the nearest other keys: a server that normalises keys
/// (`.lower()`, a prefix match either way) takes them for the run's. Another letter case is the commonest
/// normalisation, so it is drawn most. (Another spelling of the scheme and white space around
/// the key are the same key: see [`arb_respelled`].)
fn arb_alteration() -> impl Strategy<Value = Alteration> {
    prop_oneof![
        2 => Just(Alteration::OtherCase),
        1 => Just(Alteration::LastChanged),
        1 => Just(Alteration::Prefix),
        1 => Just(Alteration::Suffixed),
    ]
}

#[derive(Debug, Clone, PartialEq)]
pub struct RefusedPlan {
    pub nonce: String,
    pub refusal: Refusal,
    /// How the run's own key is written on the read that ends the scenario: the scheme's
    /// spelling, white space before and after the credential.
    pub respelled: (&'static str, &'static str, &'static str),
}

/// The run's key written other ways the contract accepts. The scheme is matched in any letter
/// case, and the credential is stripped of white space after the one space that ends the
/// scheme, so the key is still the run's: this separates a server that strips and ignores case
/// from one that takes everything after `Bearer ` as the key, splits on every space, or
/// compares the scheme as written. (Trailing white space may already be removed by the HTTP
/// layer; it costs nothing.)
fn arb_respelled() -> impl Strategy<Value = (&'static str, &'static str, &'static str)> {
    (
        select(vec!["Bearer", "bearer", "BEARER", "bEaReR"]),
        select(vec![
            ("", ""),
            (" ", ""),
            ("  ", ""),
            ("\t", ""),
            (" \t ", "  "),
            (" ", "\t"),
        ]),
    )
        .prop_filter("not the plain spelling", |(scheme, pad)| {
            *scheme != "Bearer" || *pad != ("", "")
        })
        .prop_map(|(scheme, (before, after))| (scheme, before, after))
}

pub(super) fn arb_refused() -> impl Strategy<Value = Scenario> {
    (arb_nonce(), arb_refusal(), arb_respelled()).prop_map(|(nonce, refusal, respelled)| {
        Scenario::Refused(RefusedPlan {
            nonce,
            refusal,
            respelled,
        })
    })
}

/// A refused key on any operation, with nothing stored to protect.
pub(super) fn arb_refused_single(spec: &Spec) -> impl Strategy<Value = Scenario> + use<> {
    let api = spec.api.clone();
    let patch = plain_object(&spec.update_body, "refused");
    let operation = select(Operation::ALL.to_vec());
    (operation, arb_refusal(), arb_unknown_id(spec)).prop_map(move |(operation, refusal, id)| {
        let mut request = match operation {
            Operation::Create => api.create(json!({"logical_id": "refused"})),
            Operation::Update => api.update(&id, patch.clone()),
            _ => api.request(operation, &id),
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

pub(super) async fn run(x: &mut Exec<'_>, plan: &RefusedPlan) {
    let spec = x.spec;
    let api = &spec.api;
    let tag = x.tag(&plan.nonce);
    let refused = || Expect::Unauthorized {
        detail: plan.refusal.detail,
    };
    let mut request =
        api.create(json!({"logical_id": format!("{tag}-refused"), "description": tag}));
    request.auth = plan.refusal.auth.clone();
    x.send(request, refused()).await;
    // The reads after a refused request show it had no effect: the refusal side of
    // `auth.required`, judged on what was stored.
    let no_effect = [
        exercise(Rule::AuthRequired, "refused-changed-nothing"),
        exercise(Rule::NeverLost, "after-refused-key"),
    ];
    x.list_exercising(
        Auth::Primary,
        10,
        1,
        ListExpectation::exactly(by_logical_id(&format!("{tag}-refused")), vec![]),
        &no_effect[..1],
    )
    .await;
    let Some(created) = x.create_tagged(&tag, &tag).await else {
        return;
    };
    let id = sim_id(&created);
    let mut request = api.update(&id, plain_object(&spec.update_body, "refused"));
    request.auth = plan.refusal.auth.clone();
    x.send(request, refused()).await;
    x.read_back_exercising(&id, &created, &no_effect).await;
    let mut request = api.delete(&id);
    request.auth = plan.refusal.auth.clone();
    x.send(request, refused()).await;
    x.read_back_exercising(&id, &created, &no_effect).await;
    x.get(&id, plan.refusal.auth.clone(), refused()).await;
    // The run's own key written another way the contract accepts is the same key: the record
    // comes back (`auth.missing` does not apply to it).
    let mut request = api.get(&id);
    let (scheme, before, after) = plan.respelled;
    request.auth = Auth::PrimaryRespelled {
        scheme,
        before,
        after,
    };
    x.send_exercising(
        request,
        Expect::Simulation {
            expected: created.clone(),
        },
        &[exercise(Rule::AuthMissing, "respelled-key-served")],
    )
    .await;
    let mut request = api.list(&by_logical_id(&tag).query(page_size(api, 10), 1));
    request.auth = plan.refusal.auth.clone();
    x.send(request, refused()).await;
}
