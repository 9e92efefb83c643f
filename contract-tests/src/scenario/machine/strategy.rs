//! The strategies that draw command sequences: each value chosen to tell a correct server from its nearest wrong ones.

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Value, json};

use super::command::{
    AT_LIMIT, Bound, Command, CreatePlan, Intruder, JUST_UNDER_LIMIT, MachinePlan, PageAt, Paging,
    PatchPlan, PatchValue, Pick, QueryPlan, SearchIn, Text, Variant,
};
use crate::listing::page_size;
use crate::pointer;
use crate::scenario::refused::arb_refusal;
use crate::scenario::{Scenario, arb_nonce, arb_unknown_id};
use crate::spec::{Kind, Operation, Spec};
use crate::values::{arb_accepted_object, arb_canonical, arb_hex_id, arb_rejected};

/// Words of `logical_id`s: `a` is a prefix of `ab`, `A` its case variant, `a.b` what the regular
/// expression `a.b` also finds in `a+b`.
const ID_WORDS: [&str; 6] = ["a", "ab", "b", "A", "a.b", "a+b"];
/// Words of descriptions, with metacharacters a regular-expression search misreads.
const DESCRIPTION_WORDS: [&str; 5] = ["x", "x y", "X.Y", "x+y", "(z)*"];
/// Pages past any offset a 64-bit integer holds, and past a 64-bit page number itself.
const HUGE_PAGES: [&str; 2] = ["184467440737095517", "100000000000000000000000"];

pub(in crate::scenario) fn arb_machine(spec: &Spec) -> impl Strategy<Value = Scenario> + use<> {
    // Names that only keep the sequence apart from others: shrinking them would spend the
    // shrink budget on nothing, so the commands shrink and these do not.
    let workflow_id =
        arb_hex_id(crate::scenario::list_filters::workflow_id_bounds(spec)).no_shrink();
    (
        // Every command but a pause sends a request (even with no record to act on): a
        // sequence of pauses alone asserts nothing, and would count as a judged case.
        proptest::collection::vec(arb_command(spec), 1..10)
            .prop_filter("a sequence sends a request", |commands| {
                commands.iter().any(|c| !matches!(c, Command::Pause))
            }),
        arb_nonce().no_shrink(),
        workflow_id.clone(),
        workflow_id,
        arb_unknown_id(spec).no_shrink(),
    )
        .prop_map(|(commands, nonce, a, b, unknown_id)| {
            Scenario::Machine(MachinePlan {
                nonce,
                workflow_ids: [a, b],
                unknown_id,
                commands,
            })
        })
}

/// Creates weigh most, so later commands have records to act on.
fn arb_command(spec: &Spec) -> BoxedStrategy<Command> {
    let statuses = crate::scenario::list_filters::statuses(spec);
    prop_oneof![
        6 => arb_create(spec).prop_map(|c| Command::Create(Box::new(c))),
        1 => prop_oneof![
            3 => Just(None),
            4 => Just(Some(JUST_UNDER_LIMIT)),
            3 => Just(Some(AT_LIMIT)),
        ]
        .prop_map(Command::CreateLarge),
        3 => arb_pick(spec).prop_map(Command::Get),
        6 => arb_query(spec).prop_map(|q| Command::List(Box::new(q))),
        5 => (arb_pick(spec), arb_patch_plan(spec)).prop_map(|(p, u)| Command::Update(p, u)),
        2 => arb_pick(spec).prop_map(Command::Delete),
        2 => (
            arb_pick(spec),
            select(Operation::ALL.to_vec()),
            prop_oneof![Just(Intruder::OtherTeam), arb_refusal().prop_map(Intruder::Refused)],
        )
            .prop_map(|(p, o, i)| Command::Intrude(p, o, i)),
        1 => (arb_record(), select(DESCRIPTION_WORDS.to_vec()), select(statuses))
            .prop_map(|(i, w, s)| Command::RaceUpdates(Pick::Record(i), w, s)),
        1 => (arb_record(), select(DESCRIPTION_WORDS.to_vec()))
            .prop_map(|(i, w)| Command::RaceUpdateDelete(Pick::Record(i), w)),
        // Past 10 records a burst's default-size list tells a page of 100 from one of 10.
        1 => prop_oneof![3 => 2usize..6, 1 => 11usize..13].prop_map(Command::Burst),
        3 => Just(Command::Pause),
        1 => select(vec![Operation::Get, Operation::Update, Operation::Delete]).prop_map(Command::Foreign),
    ]
    .boxed()
}

fn arb_record() -> impl Strategy<Value = usize> {
    0usize..8
}

/// Mostly the sequence's records; sometimes an id nobody has, hex or not.
fn arb_pick(spec: &Spec) -> BoxedStrategy<Pick> {
    let length = spec.api.id().length_bounds().unwrap_or_default();
    let (min, max) = crate::values::id_lengths(length);
    let not_hex =
        proptest::string::string_regex(&format!("[g-z]{{{min},{max}}}")).expect("a valid pattern");
    prop_oneof![
        8 => arb_record().prop_map(Pick::Record),
        1 => arb_unknown_id(spec).prop_map(Pick::Unknown),
        1 => not_hex.prop_map(Pick::NotHex),
    ]
    .boxed()
}

fn arb_text_choice(words: &'static [&'static str], same_as: bool) -> BoxedStrategy<Text> {
    let mut options: Vec<(u32, BoxedStrategy<Text>)> = vec![
        (8, select(words.to_vec()).prop_map(Text::Word).boxed()),
        (1, Just(Text::Absent).boxed()),
        (1, Just(Text::Null).boxed()),
        (1, Just(Text::Empty).boxed()),
        (1, Just(Text::Padded).boxed()),
        (1, Just(Text::Long).boxed()),
        (1, Just(Text::Planes).boxed()),
    ];
    if same_as {
        options.push((2, arb_record().prop_map(Text::SameAs).boxed()));
    }
    proptest::strategy::Union::new_weighted(options).boxed()
}

/// A valid create: the body's other fields canonical or lax, sometimes one unspecified value,
/// sometimes every number 0 and every boolean false.
fn arb_create(spec: &Spec) -> BoxedStrategy<CreatePlan> {
    let statuses = crate::scenario::list_filters::statuses(spec);
    let probe_fields: Vec<BoxedStrategy<(String, Value)>> = spec
        .create_body
        .fields
        .iter()
        .filter_map(|f| {
            let at = pointer::child("", &f.name);
            crate::values::arb_unspecified(&f.kind)
                .map(|s| s.prop_map(move |v| (at.clone(), v)).boxed())
        })
        .collect();
    let probe = if probe_fields.is_empty() {
        Just(None).boxed()
    } else {
        proptest::option::weighted(0.15, proptest::strategy::Union::new(probe_fields)).boxed()
    };
    (
        arb_accepted_object(spec.create_body.clone()),
        probe,
        arb_text_choice(&ID_WORDS, true),
        arb_text_choice(&DESCRIPTION_WORDS, false),
        proptest::option::weighted(0.7, select(statuses)),
        [
            proptest::option::weighted(0.6, 0usize..2),
            proptest::option::weighted(0.6, 0usize..2),
        ],
        proptest::bool::weighted(0.15),
    )
        .prop_map(
            |(body, probe, logical_id, description, status, workflows, falsy)| CreatePlan {
                body,
                probe,
                logical_id,
                description,
                status,
                workflows,
                falsy,
            },
        )
        .boxed()
}

/// A PATCH: each updatable field absent, null, empty, valid or invalid, plus keys it ignores.
fn arb_patch_plan(spec: &Spec) -> BoxedStrategy<PatchPlan> {
    let kind_of = |name: &str| {
        spec.update_body.field(name).map_or(
            Kind::String {
                min_len: None,
                max_len: None,
            },
            |f| f.kind.clone(),
        )
    };
    let field = |kind: Kind| {
        prop_oneof![
            3 => Just(PatchValue::Absent),
            1 => Just(PatchValue::Null),
            1 => Just(PatchValue::Empty),
            4 => arb_canonical(&kind).prop_map(|a| PatchValue::Valid(a.sent)),
            1 => arb_rejected(&kind).prop_map(|(_, v)| PatchValue::Invalid(v)),
        ]
    };
    let mut ignored = crate::scenario::lifecycle::arb_ignored_keys(spec);
    ignored.push(Just(("x-unknown".to_owned(), json!(true))).boxed());
    (
        field(kind_of("description")),
        field(kind_of("status")),
        proptest::collection::vec(proptest::strategy::Union::new(ignored), 0..3),
    )
        .prop_map(|(description, status, ignored)| PatchPlan {
            description,
            status,
            ignored,
        })
        .boxed()
}

fn arb_variant() -> impl Strategy<Value = Variant> {
    select(vec![
        Variant::Exact,
        Variant::Exact,
        Variant::Prefix,
        Variant::Prefix,
        Variant::Suffix,
        Variant::Upper,
        Variant::Empty,
    ])
}

fn arb_bound() -> impl Strategy<Value = Bound> {
    select(vec![
        Bound::Exact,
        Bound::MicroBefore,
        Bound::MicroAfter,
        Bound::East,
        Bound::West,
        Bound::Naive,
        Bound::UnixFloor,
        // After the instant: the one bound that a reading in milliseconds (or one ignoring
        // numbers) gets wrong as `start` and as `end` alike.
        Bound::UnixNext,
        Bound::UnixNext,
        Bound::UpdatedAt,
        Bound::UpdatedAt,
    ])
}

/// Page sizes around the spec's smallest; pages at both ends of the window and past it.
fn arb_paging(spec: &Spec) -> BoxedStrategy<Paging> {
    let api = spec.api.clone();
    prop_oneof![
        2 => Just(Paging::Defaults),
        3 => (
            1u64..5,
            prop_oneof![
                Just(PageAt::First),
                (2u64..4).prop_map(PageAt::Nth),
                Just(PageAt::Last),
                Just(PageAt::BeyondEnd),
                select(HUGE_PAGES.to_vec()).prop_map(PageAt::Huge),
            ]
        )
            .prop_map(move |(size, at)| Paging::Page {
                size: page_size(&api, size),
                at
            }),
    ]
    .boxed()
}

/// A list query: filters drawn independently, so they combine (`list.and`).
fn arb_query(spec: &Spec) -> BoxedStrategy<QueryPlan> {
    let statuses = crate::scenario::list_filters::statuses(spec);
    (
        proptest::option::weighted(0.5, (arb_record(), arb_variant())),
        proptest::option::weighted(
            0.5,
            (
                arb_record(),
                select(vec![
                    SearchIn::LogicalId,
                    SearchIn::Description,
                    SearchIn::Description,
                    SearchIn::Upper,
                    SearchIn::RegexDot,
                    SearchIn::RegexDot,
                ]),
            ),
        ),
        proptest::option::weighted(0.3, (0usize..2, 0usize..2, proptest::bool::weighted(0.2))),
        proptest::option::weighted(0.25, select(statuses)),
        proptest::option::weighted(0.35, (arb_record(), arb_bound())),
        proptest::option::weighted(0.35, (arb_record(), arb_bound())),
        arb_paging(spec),
    )
        .prop_map(
            |(logical_id, search, workflow, status, start, end, paging)| QueryPlan {
                logical_id,
                search,
                workflow,
                status,
                start,
                end,
                paging,
            },
        )
        .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::test_runner::{Config, TestRunner};

    /// Rust's debug text of the plan's types; a value the sequence sends is shown as JSON.
    const DEBUG_MARKS: [&str; 16] = [
        "Some(",
        "None",
        "Word(",
        "SameAs(",
        "Record(",
        "Page {",
        "Huge(",
        "Nth(",
        "Literal(",
        "KeyElsewhere(",
        "KeyAltered(",
        "Valid(",
        "Invalid(",
        "Header(",
        "Exact",
        "[Some",
    ];

    fn spec() -> Spec {
        Spec::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/openapi.json"))
            .unwrap()
    }

    #[test]
    fn no_drawn_sequence_shows_rust_debug_text() {
        let spec = spec();
        let mut runner = TestRunner::new(Config {
            cases: 200,
            failure_persistence: None,
            ..Config::default()
        });
        runner
            .run(&arb_machine(&spec), |scenario| {
                let Scenario::Machine(plan) = scenario else {
                    unreachable!("arb_machine draws sequences")
                };
                for command in &plan.commands {
                    let line = command.describe();
                    for mark in DEBUG_MARKS {
                        prop_assert!(!line.contains(mark), "{mark} in {line}");
                    }
                }
                Ok(())
            })
            .unwrap();
    }
}
