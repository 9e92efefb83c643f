//! Test cases for create: valid bodies, named mutations of valid bodies, and probes of unspecified inputs, as proptest strategies derived from the spec's request model.

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Value, json};

use crate::spec::{Kind, ObjectModel, Operation};
use crate::values::{Accepted, arb_accepted_object, arb_rejected, arb_unspecified};

/// What travels as the request body.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    Json(Value),
    Bytes(Vec<u8>),
    Empty,
}

impl Body {
    pub fn bytes(&self) -> Vec<u8> {
        match self {
            Body::Json(v) => serde_json::to_vec(v).expect("a Value serialises"),
            Body::Bytes(b) => b.clone(),
            Body::Empty => Vec::new(),
        }
    }
}

/// Which credentials a request carries.
#[derive(Debug, Clone, PartialEq)]
pub enum Auth {
    /// `Bearer` with the run's key.
    Primary,
    /// `Bearer` with the other team's key.
    OtherTeam,
    /// A literal `Authorization` value (a wrong scheme, an empty or unknown token).
    Literal(String),
    None,
}

/// One HTTP request, as the suite sends it and as a curl line reproduces it.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub operation: Operation,
    pub method: String,
    pub path_and_query: String,
    pub content_type: Option<String>,
    pub body: Body,
    pub auth: Auth,
}

impl Request {
    pub fn json(operation: Operation, path_and_query: String, body: Value) -> Request {
        Request {
            operation,
            method: operation.method().to_owned(),
            path_and_query,
            content_type: Some("application/json".into()),
            body: Body::Json(body),
            auth: Auth::Primary,
        }
    }

    pub fn bare(operation: Operation, path_and_query: String) -> Request {
        Request {
            operation,
            method: operation.method().to_owned(),
            path_and_query,
            content_type: None,
            body: Body::Empty,
            auth: Auth::Primary,
        }
    }
}

/// Where a 422's `detail[].loc` must point.
#[derive(Debug, Clone, PartialEq)]
pub enum Locus {
    /// Some entry's `loc` equals this exactly.
    Exact(Vec<Value>),
    /// `["body", <byte offset>]`, for JSON that does not parse.
    BodyOffset,
}

/// What the contract says must come of a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Expect {
    /// A valid request: 2xx, and (for bodies) `stored` is exactly what must come back.
    Accept { sent: Value, stored: Value },
    /// An invalid request: this status, and for 422 this locus.
    Reject {
        mutation: &'static str,
        pointer: String,
        status: u16,
        locus: Option<Locus>,
    },
    /// An unspecified input at `pointer`: no 5xx; if accepted, the stored value has the
    /// field's type, a value that was already canonical is stored unchanged, and a read that
    /// follows returns what the create did. Acceptance or rejection is not judged.
    Probe { pointer: String, value: Value },
    /// A 2xx whose simulation equals `expected` exactly: a read after a write, or after a
    /// request that was refused and so must have changed nothing.
    Simulation { expected: Value },
    /// A 2xx update of `before` with `patch`: only `description` and `status` may change.
    Updated { before: Value, patch: Value },
    /// A 2xx list page, judged against this run's own records.
    Listed(crate::listing::ListExpectation),
    /// A 2xx and nothing more (a delete).
    Success,
    /// 401 with `WWW-Authenticate: Bearer` and this detail.
    Unauthorized { detail: &'static str },
    /// 405 with exactly these methods in `Allow`.
    NotAllowed { allow: Vec<&'static str> },
    /// 404 `{"detail": "Simulation not found"}`.
    NotFound,
}

/// A request and its expectation.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    pub request: Request,
    pub expect: Expect,
}

const COLLECTION: &str = "/workflows/v1/simulations";

/// Every field of a model with its JSON pointer, depth first.
pub fn field_paths(model: &ObjectModel) -> Vec<(String, Kind, bool)> {
    let mut out = Vec::new();
    for field in &model.fields {
        let pointer = crate::pointer::child("", &field.name);
        out.push((pointer.clone(), field.kind.clone(), field.nullable));
        if let Kind::Object(inner) = &field.kind {
            for (p, k, n) in field_paths(inner) {
                out.push((format!("{pointer}{p}"), k, n));
            }
        }
    }
    out
}

pub fn pointer_to_loc(pointer: &str) -> Vec<Value> {
    std::iter::once(json!("body"))
        .chain(pointer.split('/').skip(1).map(|s| json!(s)))
        .collect()
}

/// A valid create body: 200, every field back canonicalised, every absent one defaulted.
pub fn arb_create_valid(model: &ObjectModel) -> impl Strategy<Value = Case> + use<> {
    arb_accepted_object(model.clone()).prop_map(|Accepted { sent, stored }| Case {
        request: Request::json(Operation::Create, COLLECTION.into(), sent.clone()),
        expect: Expect::Accept { sent, stored },
    })
}

/// A valid body with one field replaced by a value from the always-rejected set.
pub fn arb_create_field_mutation(model: &ObjectModel) -> impl Strategy<Value = Case> + use<> {
    let paths = field_paths(model);
    let base = arb_accepted_object(model.clone());
    (base, select(paths))
        .prop_flat_map(|(base, (pointer, kind, nullable))| {
            let rejected = if nullable {
                arb_rejected(&kind)
            } else {
                prop_oneof![4 => arb_rejected(&kind), 1 => Just(("null_not_allowed", Value::Null))]
                    .boxed()
            };
            (Just(base.sent), Just(pointer), rejected)
        })
        .prop_map(|(mut body, pointer, (mutation, value))| {
            crate::pointer::set(&mut body, &pointer, value);
            Case {
                request: Request::json(Operation::Create, COLLECTION.into(), body),
                expect: Expect::Reject {
                    mutation,
                    locus: Some(Locus::Exact(pointer_to_loc(&pointer))),
                    pointer,
                    status: 422,
                },
            }
        })
}

/// Mutations of the body as a whole: not an object, not JSON, not UTF-8, not declared JSON, absent.
pub fn arb_create_body_mutation(model: &ObjectModel) -> impl Strategy<Value = Case> + use<> {
    let reject = |mutation: &'static str, status: u16, locus: Option<Locus>| Expect::Reject {
        mutation,
        pointer: String::new(),
        status,
        locus,
    };
    let body_loc = || Some(Locus::Exact(vec![json!("body")]));
    let valid = arb_accepted_object(model.clone())
        .prop_map(|a| a.sent)
        .boxed();
    prop_oneof![
        select(vec![
            json!([]),
            json!([{}]),
            json!("text"),
            json!(17),
            json!(true)
        ])
        .prop_map(move |v| Case {
            request: Request::json(Operation::Create, COLLECTION.into(), v),
            expect: reject("not_an_object", 422, body_loc()),
        }),
        (valid.clone(), any::<proptest::sample::Index>()).prop_map(move |(v, cut)| {
            let text = serde_json::to_string(&v).expect("serialises");
            // A strict prefix of a JSON object never parses; cut on a char boundary so it stays UTF-8.
            let boundaries: Vec<usize> = text
                .char_indices()
                .map(|(i, _)| i)
                .filter(|i| *i > 0)
                .collect();
            let end = if boundaries.is_empty() {
                1
            } else {
                boundaries[cut.index(boundaries.len())]
            };
            let mut request = Request::json(Operation::Create, COLLECTION.into(), Value::Null);
            request.body = Body::Bytes(text.as_bytes()[..end].to_vec());
            Case {
                request,
                expect: reject("invalid_json", 422, Some(Locus::BodyOffset)),
            }
        }),
        valid.clone().prop_map(move |v| {
            let mut map = v.as_object().cloned().unwrap_or_default();
            map.insert("logical_id".into(), json!("ab\u{FFFD}cd"));
            let mut bytes = serde_json::to_vec(&Value::Object(map)).expect("serialises");
            let at = bytes
                .windows(3)
                .position(|w| w == "\u{FFFD}".as_bytes())
                .expect("just inserted");
            bytes.splice(at..at + 3, [0xFF]);
            let mut request = Request::json(Operation::Create, COLLECTION.into(), Value::Null);
            request.body = Body::Bytes(bytes);
            Case {
                request,
                expect: reject("invalid_utf8", 400, None),
            }
        }),
        (
            valid,
            select(vec![
                "text/plain",
                "application/x-www-form-urlencoded",
                "application/xml"
            ])
        )
            .prop_map(move |(v, content_type)| {
                let mut request = Request::json(Operation::Create, COLLECTION.into(), v);
                request.content_type = Some(content_type.into());
                Case {
                    request,
                    expect: reject("wrong_content_type", 422, body_loc()),
                }
            }),
        Just(Case {
            request: Request::bare(Operation::Create, COLLECTION.into()),
            expect: reject("missing_body", 422, body_loc()),
        }),
    ]
}

/// A valid body with one field set to a value the contract leaves unspecified.
pub fn arb_create_probe(model: &ObjectModel) -> impl Strategy<Value = Case> + use<> {
    let probed: Vec<(String, BoxedStrategy<Value>)> = field_paths(model)
        .into_iter()
        .filter_map(|(pointer, kind, _)| arb_unspecified(&kind).map(|s| (pointer, s)))
        .collect();
    let choices: Vec<usize> = (0..probed.len()).collect();
    let base = arb_accepted_object(model.clone());
    (base, select(choices))
        .prop_flat_map(move |(base, i)| {
            let (pointer, strategy) = probed[i].clone();
            (Just(base.sent), Just(pointer), strategy)
        })
        .prop_map(|(mut body, pointer, value)| {
            crate::pointer::set(&mut body, &pointer, value.clone());
            Case {
                request: Request::json(Operation::Create, COLLECTION.into(), body),
                expect: Expect::Probe { pointer, value },
            }
        })
}

/// The create mix of a run.
pub fn arb_create_case(model: &ObjectModel) -> BoxedStrategy<Case> {
    prop_oneof![
        10 => arb_create_valid(model),
        6 => arb_create_field_mutation(model),
        3 => arb_create_body_mutation(model),
        2 => arb_create_probe(model),
    ]
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Spec;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    fn model() -> ObjectModel {
        Spec::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/openapi.json"))
            .unwrap()
            .create_body
    }

    #[test]
    fn a_loc_names_the_keys_of_the_pointer() {
        assert_eq!(
            pointer_to_loc("/a/b"),
            vec![json!("body"), json!("a"), json!("b")]
        );
    }

    #[test]
    fn body_mutations_are_what_they_say() {
        let mut runner = TestRunner::deterministic();
        let strategy = arb_create_body_mutation(&model());
        for _ in 0..300 {
            let case = strategy.new_tree(&mut runner).unwrap().current();
            let Expect::Reject { mutation, .. } = case.expect else {
                panic!()
            };
            let bytes = case.request.body.bytes();
            match mutation {
                "invalid_json" => {
                    assert!(std::str::from_utf8(&bytes).is_ok());
                    assert!(serde_json::from_slice::<Value>(&bytes).is_err());
                    assert!(!bytes.is_empty());
                }
                "invalid_utf8" => assert!(std::str::from_utf8(&bytes).is_err()),
                "not_an_object" => {
                    assert!(!serde_json::from_slice::<Value>(&bytes).unwrap().is_object())
                }
                "missing_body" => assert!(bytes.is_empty() && case.request.content_type.is_none()),
                "wrong_content_type" => assert_ne!(
                    case.request.content_type.as_deref(),
                    Some("application/json")
                ),
                other => panic!("unexpected mutation {other}"),
            }
        }
    }

    #[test]
    fn valid_bodies_store_defaults_for_what_is_absent() {
        let mut runner = TestRunner::deterministic();
        let strategy = arb_create_valid(&model());
        let defaults = model().all_defaults();
        for _ in 0..200 {
            let Expect::Accept { sent, stored } =
                strategy.new_tree(&mut runner).unwrap().current().expect
            else {
                panic!()
            };
            for (name, default) in defaults.as_object().unwrap() {
                if sent.get(name).is_none() {
                    assert_eq!(&stored[name], default, "{name}");
                }
            }
            assert!(
                stored
                    .as_object()
                    .unwrap()
                    .keys()
                    .all(|k| !k.starts_with("x-unknown"))
            );
        }
    }
}
