//! Test cases for create: valid bodies, named mutations of valid bodies, and probes of unspecified inputs, as proptest strategies derived from the spec's create body.

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Value, json};

use crate::hazard;
use crate::pointer;
use crate::request::{Body, Case, Expect, Locus};
use crate::spec::{Kind, Operation, Spec};
use crate::values::{Accepted, arb_accepted_object, arb_rejected, arb_unspecified};

/// The `loc` of a 422 for the body field at `at`: `["body", key, ...]`.
pub fn pointer_to_loc(at: &str) -> Vec<Value> {
    std::iter::once(json!("body"))
        .chain(
            pointer::keys(at)
                .unwrap_or_default()
                .into_iter()
                .map(Value::String),
        )
        .collect()
}

/// A valid create body: 200, every field back canonicalised, every absent one defaulted.
pub fn arb_create_valid(spec: &Spec) -> impl Strategy<Value = Case> + use<> {
    let api = spec.api.clone();
    arb_accepted_object(spec.create_body.clone()).prop_map(move |Accepted { sent, stored }| Case {
        request: api.create(sent.clone()),
        expect: Expect::Accept { sent, stored },
    })
}

/// A valid body with one field replaced by a value from the always-rejected set.
pub fn arb_create_field_mutation(spec: &Spec) -> impl Strategy<Value = Case> + use<> {
    let api = spec.api.clone();
    let paths = spec.create_body.field_paths();
    let rejected = Rejected::of(&paths);
    let base = arb_accepted_object(spec.create_body.clone());
    (base, select(paths))
        .prop_flat_map(move |(base, (pointer, _, _))| {
            let values = rejected.at(&pointer);
            (Just(base.sent), Just(pointer), values)
        })
        .prop_map(move |(mut body, at, (mutation, value))| {
            pointer::set(&mut body, &at, value);
            Case {
                request: api.create(body),
                expect: Expect::Reject {
                    mutation,
                    locus: Some(Locus::Exact(pointer_to_loc(&at))),
                    pointer: at,
                    status: 422,
                },
            }
        })
}

/// [`rejected_for`] of every field, made once: the flat maps above pick one per case, and
/// making it there built its unions and parsed its numbers on every draw. A strategy is a
/// description without state, so a clone draws and shrinks as a fresh one does.
#[derive(Clone)]
struct Rejected(std::sync::Arc<[(String, RejectedValue)]>);

/// A mutation's name and the rejected value it sends.
type RejectedValue = BoxedStrategy<(&'static str, Value)>;

impl Rejected {
    fn of(paths: &[(String, Kind, bool)]) -> Rejected {
        Rejected(
            paths
                .iter()
                .map(|(at, kind, nullable)| (at.clone(), rejected_for(kind, *nullable)))
                .collect(),
        )
    }

    /// The strategy of the field at `pointer`, one of the paths it was made of.
    fn at(&self, pointer: &str) -> RejectedValue {
        self.0
            .iter()
            .find(|(at, _)| at == pointer)
            .map(|(_, strategy)| strategy.clone())
            .expect("the pointer is one of the paths")
    }
}

/// An always-rejected value for a field of `kind`.
fn rejected_for(kind: &Kind, nullable: bool) -> RejectedValue {
    if nullable {
        arb_rejected(kind)
    } else {
        // Few fields refuse null, and a server that takes it for "use the default" is a common
        // near miss: null gets as much weight as every other rejected value.
        prop_oneof![1 => arb_rejected(kind), 1 => Just(("null_not_allowed", Value::Null))].boxed()
    }
}

/// Whether the field at `inner` lies inside the one at `outer` (or is it).
fn within(inner: &str, outer: &str) -> bool {
    inner == outer || inner.starts_with(&format!("{outer}/"))
}

/// A valid body with two or three fields, none inside another, each replaced by an
/// always-rejected value. It separates a server that lists every violation from one that
/// stops at the first or keeps one per request (a custom validation handler that shows "one
/// message"): `schema.errors` wants an entry for each.
pub fn arb_create_field_mutations(spec: &Spec) -> impl Strategy<Value = Case> + use<> {
    let api = spec.api.clone();
    let paths = spec.create_body.field_paths();
    let rejected = Rejected::of(&paths);
    let base = arb_accepted_object(spec.create_body.clone());
    let count = 2..=3.min(paths.len().max(2));
    (base, proptest::sample::subsequence(paths, count))
        .prop_filter("no chosen field inside another", |(_, chosen)| {
            chosen.iter().enumerate().all(|(i, (a, _, _))| {
                chosen
                    .iter()
                    .enumerate()
                    .all(|(j, (b, _, _))| i == j || !within(a, b))
            })
        })
        .prop_flat_map(move |(base, chosen)| {
            let values: Vec<_> = chosen.iter().map(|(at, _, _)| rejected.at(at)).collect();
            let at: Vec<String> = chosen.into_iter().map(|(at, _, _)| at).collect();
            (Just(base.sent), Just(at), values)
        })
        .prop_map(move |(mut body, at, values)| {
            for (pointer, (_, value)) in at.iter().zip(values) {
                pointer::set(&mut body, pointer, value);
            }
            Case {
                request: api.create(body),
                expect: Expect::Reject {
                    mutation: "several_rejected",
                    locus: Some(Locus::Every(at.iter().map(|p| pointer_to_loc(p)).collect())),
                    pointer: at[0].clone(),
                    status: 422,
                },
            }
        })
}

/// Mutations of the body as a whole: not an object, not JSON, not UTF-8, not declared JSON, absent.
pub fn arb_create_body_mutation(spec: &Spec) -> impl Strategy<Value = Case> + use<> {
    let api = spec.api.clone();
    let reject = |mutation: &'static str, status: u16, locus: Option<Locus>| Expect::Reject {
        mutation,
        pointer: String::new(),
        status,
        locus,
    };
    let body_loc = || Some(Locus::Exact(vec![json!("body")]));
    let valid = arb_accepted_object(spec.create_body.clone())
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
        .prop_map({
            let api = api.clone();
            move |v| Case {
                request: api.create(v),
                expect: reject("not_an_object", 422, body_loc()),
            }
        }),
        (valid.clone(), any::<proptest::sample::Index>()).prop_map({
            let api = api.clone();
            move |(v, cut)| {
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
                let mut request = api.create(Value::Null);
                request.body = Body::Bytes(text.as_bytes()[..end].to_vec());
                Case {
                    request,
                    expect: reject("invalid_json", 422, Some(Locus::BodyOffset)),
                }
            }
        }),
        valid.clone().prop_map({
            let api = api.clone();
            move |v| {
                let mut map = v.as_object().cloned().unwrap_or_default();
                // Under a key of its own: a body that is not UTF-8 is refused before any field is read.
                map.insert("x-unknown-utf8".into(), json!("ab\u{FFFD}cd"));
                let mut bytes = serde_json::to_vec(&Value::Object(map)).expect("serialises");
                let at = bytes
                    .windows(3)
                    .position(|w| w == "\u{FFFD}".as_bytes())
                    .expect("just inserted");
                bytes.splice(at..at + 3, [0xFF]);
                let mut request = api.create(Value::Null);
                request.body = Body::Bytes(bytes);
                Case {
                    request,
                    expect: reject("invalid_utf8", 400, None),
                }
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
            .prop_map({
                let api = api.clone();
                move |(v, content_type)| {
                    let mut request = api.create(v);
                    request.content_type = Some(content_type.into());
                    Case {
                        request,
                        expect: reject("wrong_content_type", 422, body_loc()),
                    }
                }
            }),
        Just(Case {
            request: api.request(Operation::Create, ""),
            expect: reject("missing_body", 422, body_loc()),
        }),
    ]
}

/// A valid body with one field set to a value the contract leaves unspecified.
pub fn arb_create_probe(spec: &Spec) -> impl Strategy<Value = Case> + use<> {
    let api = spec.api.clone();
    let probed: Vec<(String, BoxedStrategy<Value>)> = spec
        .create_body
        .field_paths()
        .into_iter()
        .filter_map(|(pointer, kind, _)| arb_unspecified(&kind).map(|s| (pointer, s)))
        .collect();
    let choices: Vec<usize> = (0..probed.len()).collect();
    let base = arb_accepted_object(spec.create_body.clone());
    (base, select(choices))
        .prop_flat_map(move |(base, i)| {
            let (pointer, strategy) = probed[i].clone();
            (Just(base.sent), Just(pointer), strategy)
        })
        .prop_map(move |(mut body, at, value)| {
            pointer::set(&mut body, &at, value.clone());
            Case {
                request: api.create(body),
                expect: Expect::Probe { pointer: at, value },
            }
        })
}

/// `{}`: no field is required, every one is stored as its default (`body.missing`'s other side).
pub fn empty_create(spec: &Spec) -> Case {
    let sent = json!({});
    Case {
        request: spec.api.create(sent.clone()),
        expect: Expect::Accept {
            sent,
            stored: spec.create_body.all_defaults(),
        },
    }
}

/// The create mix of a run.
pub fn arb_create_case(spec: &Spec) -> BoxedStrategy<Case> {
    prop_oneof![
        1 => Just(empty_create(spec)),
        10 => arb_create_valid(spec),
        6 => arb_create_field_mutation(spec),
        2 => arb_create_field_mutations(spec),
        3 => arb_create_body_mutation(spec),
        2 => arb_create_probe(spec),
        1 => arb_create_hazard(spec),
    ]
    .boxed()
}

/// Text that stands for a value in a body serialised by serde_json, to be replaced by JSON
/// serde_json cannot write (`NaN`, a lone surrogate, nesting past its limit).
const PLACEHOLDER: &str = "\u{1}hazard\u{1}";

/// `body` serialised with the value at `at` written as `raw` JSON text.
fn with_raw(mut body: Value, at: &str, raw: &str) -> Vec<u8> {
    pointer::set(&mut body, at, json!(PLACEHOLDER));
    let text = serde_json::to_string(&body).expect("a Value serialises");
    let placeholder = serde_json::to_string(PLACEHOLDER).expect("a string serialises");
    text.replacen(&placeholder, raw, 1).into_bytes()
}

/// The framework hazards (`crate::hazard`): a non-finite number in a typed field (422 at the
/// field), a lone surrogate in a string (a 4xx or an acceptance), `dynamic_variables` nested
/// 255 levels or deeper (a 4xx or an acceptance). Stock FastAPI answers 500 to each.
pub fn arb_create_hazard(spec: &Spec) -> impl Strategy<Value = Case> + use<> {
    let api = spec.api.clone();
    let paths = spec.create_body.field_paths();
    let typed: Vec<String> = paths
        .iter()
        .filter(|(_, kind, _)| !matches!(kind, Kind::AnyObject))
        .map(|(at, _, _)| at.clone())
        .collect();
    let strings: Vec<String> = paths
        .iter()
        .filter(|(_, kind, _)| matches!(kind, Kind::String { .. }))
        .map(|(at, _, _)| at.clone())
        .collect();
    let free: Vec<String> = paths
        .iter()
        .filter(|(_, kind, _)| matches!(kind, Kind::AnyObject))
        .map(|(at, _, _)| at.clone())
        .collect();
    let base = arb_accepted_object(spec.create_body.clone())
        .prop_map(|a| a.sent)
        .boxed();
    let case = move |body: Vec<u8>, expect: Expect| {
        let mut request = api.create(Value::Null);
        request.body = Body::Bytes(body);
        Case { request, expect }
    };
    let mut arms: Vec<BoxedStrategy<Case>> = Vec::new();
    if !typed.is_empty() {
        let case = case.clone();
        let tokens = ["NaN", "Infinity", "-Infinity", "1e400", "-1e999"];
        arms.push(
            (base.clone(), select(typed), select(tokens.to_vec()))
                .prop_map(move |(body, at, token)| {
                    case(
                        with_raw(body, &at, token),
                        Expect::Reject {
                            mutation: hazard::NON_FINITE,
                            locus: Some(Locus::Exact(pointer_to_loc(&at))),
                            pointer: at,
                            status: 422,
                        },
                    )
                })
                .boxed(),
        );
    }
    if !strings.is_empty() {
        let case = case.clone();
        let surrogates = [r"\ud800", r"x\udfff", r"\udc00\ud800", r"\udbffy"];
        arms.push(
            (base.clone(), select(strings), select(surrogates.to_vec()))
                .prop_map(move |(body, at, surrogate)| {
                    case(
                        with_raw(body, &at, &format!("\"{surrogate}\"")),
                        Expect::OneOf {
                            statuses: vec![400, 422, 200],
                            because: hazard::LONE_SURROGATE_BECAUSE,
                        },
                    )
                })
                .boxed(),
        );
    }
    if !free.is_empty() {
        let deep = hazard::DEEP_NESTING..=hazard::DEEP_NESTING + 20;
        arms.push(
            (base, select(free), deep, any::<bool>())
                .prop_map(move |(body, at, levels, arrays)| {
                    // `levels` objects or arrays deep, the free object itself the first of them.
                    let inner = levels - 1;
                    let raw = if arrays {
                        format!("{{\"k\":{}0{}}}", "[".repeat(inner), "]".repeat(inner))
                    } else {
                        format!("{}0{}", "{\"k\":".repeat(levels), "}".repeat(levels))
                    };
                    case(
                        with_raw(body, &at, &raw),
                        Expect::OneOf {
                            statuses: vec![400, 413, 422, 200],
                            because: hazard::DEEP_NESTING_BECAUSE,
                        },
                    )
                })
                .boxed(),
        );
    }
    crate::values::union(arms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    fn spec() -> Spec {
        Spec::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/openapi.json"))
            .unwrap()
    }

    #[test]
    fn a_loc_names_the_keys_of_the_pointer() {
        assert_eq!(
            pointer_to_loc("/a/b~1c"),
            vec![json!("body"), json!("a"), json!("b/c")]
        );
    }

    #[test]
    fn several_mutations_name_every_field_they_broke_and_none_inside_another() {
        let mut runner = TestRunner::deterministic();
        let strategy = arb_create_field_mutations(&spec());
        for _ in 0..300 {
            let case = strategy.new_tree(&mut runner).unwrap().current();
            let Expect::Reject {
                locus: Some(Locus::Every(locs)),
                status: 422,
                ..
            } = &case.expect
            else {
                panic!("{:?}", case.expect)
            };
            assert!((2..=3).contains(&locs.len()), "{locs:?}");
            for (i, a) in locs.iter().enumerate() {
                for (j, b) in locs.iter().enumerate() {
                    assert!(i == j || !a.starts_with(b), "{a:?} inside {b:?}");
                }
            }
        }
    }

    #[test]
    fn body_mutations_are_what_they_say() {
        let mut runner = TestRunner::deterministic();
        let strategy = arb_create_body_mutation(&spec());
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
        let spec = spec();
        let strategy = arb_create_valid(&spec);
        let defaults = spec.create_body.all_defaults();
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

    #[test]
    fn every_hazard_is_drawn_and_its_body_carries_it() {
        let mut runner = TestRunner::deterministic();
        let strategy = arb_create_hazard(&spec());
        let mut seen = Vec::new();
        for _ in 0..200 {
            let case = strategy.new_tree(&mut runner).unwrap().current();
            let hazard = hazard::Hazard::of(&case).expect("a hazard's case");
            let Body::Bytes(body) = &case.request.body else {
                panic!("{:?}", case.request.body)
            };
            let text = String::from_utf8(body.clone()).expect("UTF-8");
            if hazard != hazard::Hazard::NonFiniteNumber {
                assert!(
                    serde_json::from_str::<Value>(&text).is_err(),
                    "serde_json alone cannot read this hazard: {text}"
                );
            }
            match hazard {
                hazard::Hazard::NonFiniteNumber => {
                    assert!(
                        ["NaN", "Infinity", "1e400", "1e999"]
                            .iter()
                            .any(|t| text.contains(t))
                    );
                    assert!(hazard::depth(body) < 10);
                }
                hazard::Hazard::LoneSurrogate => {
                    assert!(hazard::without_lone_surrogates(body).is_some(), "{text}");
                }
                hazard::Hazard::DeepNesting => {
                    let nesting = hazard::depth(body);
                    // The body's root and the workflow object hold the free object.
                    assert!(nesting >= hazard::DEEP_NESTING + 2, "{nesting}");
                    assert!(nesting < hazard::MAX_READ_DEPTH - 4, "{nesting}");
                }
            }
            // The body is JSON to a reader that takes what Python's does, the hazard aside.
            if hazard != hazard::Hazard::NonFiniteNumber {
                assert!(hazard::parse(body).is_some(), "{text}");
            }
            seen.push(hazard);
        }
        for hazard in hazard::Hazard::ALL {
            assert!(seen.contains(&hazard), "{hazard:?} never drawn");
        }
    }
}
