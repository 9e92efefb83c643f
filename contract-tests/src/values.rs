//! Value strategies per field kind, in the contract's three sets: accepted (with the canonical form the server must store), always rejected, and unspecified.
//!
//! The rejected set holds only what CONTRACT.md lists as always rejected. A value that is merely
//! not canonical (`"5"`, `5.0`, `"yes"`) is in the accepted set: using it as a negative case is
//! the false alarm that generic fuzzers raise.

use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::{NewTree, ValueTree};
use proptest::test_runner::{TestRng, TestRunner};
use serde_json::{Map, Value, json};

use crate::spec::{FieldModel, Kind, ObjectModel};

/// A value to send and the value the server must store for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    pub sent: Value,
    pub stored: Value,
}

fn same(v: Value) -> Accepted {
    Accepted {
        sent: v.clone(),
        stored: v,
    }
}

/// Characters that break naive string handling: NUL, non-BMP, right-to-left, combining marks.
const AWKWARD_CHARS: [char; 12] = [
    '\0',
    '\u{1F600}',
    '\u{10FFFF}',
    '\u{05D0}',
    '\u{0627}',
    '\u{202E}',
    '\u{0301}',
    '"',
    '\\',
    '\n',
    '\'',
    '\u{FEFF}',
];

/// One character, drawn straight from the RNG: 6 in 9 proptest's `char::range('a', 'z')`, 2 in
/// 9 its `any::<char>()` (both with proptest's bias to special and printable characters), 1 in
/// 9 one of [`AWKWARD_CHARS`]. The same weights as a `prop_oneof!` of the three, without its
/// per-character value trees (a union's lazy arms each clone the runner).
fn draw_char(rng: &mut TestRng) -> char {
    use proptest::char::{DEFAULT_PREFERRED_RANGES, DEFAULT_SPECIAL_CHARS, select_char};
    match rng.random_range(0..9u32) {
        0..6 => select_char(
            rng,
            DEFAULT_SPECIAL_CHARS,
            DEFAULT_PREFERRED_RANGES,
            &['a'..='z'],
        ),
        6..8 => select_char(
            rng,
            DEFAULT_SPECIAL_CHARS,
            DEFAULT_PREFERRED_RANGES,
            &['\0'..=char::MAX],
        ),
        _ => AWKWARD_CHARS[rng.random_range(0..AWKWARD_CHARS.len())],
    }
}

/// Strings with lengths counted in characters, as pydantic counts them: a length uniform in
/// `min..=max`, each character from [`draw_char`].
pub fn arb_text(min: usize, max: usize) -> impl Strategy<Value = String> {
    Text { min, max }
}

/// [`arb_text`]'s strategy: one value tree per string, not one per character.
#[derive(Debug, Clone, Copy)]
struct Text {
    min: usize,
    max: usize,
}

impl Strategy for Text {
    type Tree = TextTree;
    type Value = String;

    fn new_tree(&self, runner: &mut TestRunner) -> NewTree<Self> {
        let rng = runner.rng();
        let len = rng.random_range(self.min..=self.max.max(self.min));
        let chars = (0..len).map(|_| draw_char(rng)).collect();
        Ok(TextTree(Seq::new(chars, self.min, |c| {
            (*c != 'a').then_some('a')
        })))
    }
}

/// A drawn string's value tree (see [`Seq`]).
#[derive(Debug, Clone)]
pub struct TextTree(Seq<char>);

impl ValueTree for TextTree {
    type Value = String;

    fn current(&self) -> String {
        self.0.items.iter().collect()
    }

    fn simplify(&mut self) -> bool {
        self.0.simplify()
    }

    fn complicate(&mut self) -> bool {
        self.0.complicate()
    }
}

/// A drawn sequence that shrinks as proptest shrinks a `Vec`: delete items one at a time while
/// it stays at least `min` long, then replace each remaining one by its plain form, if any.
#[derive(Debug, Clone)]
struct Seq<T> {
    items: Vec<T>,
    min: usize,
    plain: fn(&T) -> Option<T>,
    next: Shrink,
    undo: Option<Undo<T>>,
}

#[derive(Debug, Clone, Copy)]
enum Shrink {
    Delete(usize),
    Plain(usize),
}

#[derive(Debug, Clone)]
enum Undo<T> {
    Deleted(usize, T),
    Replaced(usize, T),
}

impl<T> Seq<T> {
    fn new(items: Vec<T>, min: usize, plain: fn(&T) -> Option<T>) -> Seq<T> {
        Seq {
            items,
            min,
            plain,
            next: Shrink::Delete(0),
            undo: None,
        }
    }

    fn simplify(&mut self) -> bool {
        self.undo = None;
        if let Shrink::Delete(i) = self.next {
            if self.items.len() > self.min && i < self.items.len() {
                self.undo = Some(Undo::Deleted(i, self.items.remove(i)));
                return true;
            }
            self.next = Shrink::Plain(0);
        }
        let Shrink::Plain(from) = self.next else {
            return false;
        };
        for i in from..self.items.len() {
            if let Some(plain) = (self.plain)(&self.items[i]) {
                self.undo = Some(Undo::Replaced(
                    i,
                    std::mem::replace(&mut self.items[i], plain),
                ));
                self.next = Shrink::Plain(i + 1);
                return true;
            }
        }
        self.next = Shrink::Plain(self.items.len());
        false
    }

    fn complicate(&mut self) -> bool {
        match self.undo.take() {
            Some(Undo::Deleted(i, item)) => {
                self.items.insert(i, item);
                self.next = Shrink::Delete(i + 1);
                true
            }
            Some(Undo::Replaced(i, item)) => {
                self.items[i] = item;
                true
            }
            None => false,
        }
    }
}

/// A value drawn in one pass, whose proptest form (unions of maps of boxed strategies) would
/// cost far more to build than the value itself. It shrinks in one step to what `simpler`
/// gives for it, if anything.
pub struct DrawnTree<T, S> {
    value: T,
    simpler: S,
    /// The value drawn, while `value` holds its simpler form.
    original: Option<T>,
    /// The simpler form was tried: there is nothing left to shrink.
    tried: bool,
}

impl<T: std::fmt::Debug, S> std::fmt::Debug for DrawnTree<T, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DrawnTree")
            .field("value", &self.value)
            .finish()
    }
}

impl<T, S> ValueTree for DrawnTree<T, S>
where
    T: Clone + std::fmt::Debug,
    S: Fn(&T) -> Option<T>,
{
    type Value = T;

    fn current(&self) -> T {
        self.value.clone()
    }

    fn simplify(&mut self) -> bool {
        if self.tried {
            return false;
        }
        self.tried = true;
        match (self.simpler)(&self.value) {
            Some(simpler) => {
                self.original = Some(std::mem::replace(&mut self.value, simpler));
                true
            }
            None => false,
        }
    }

    fn complicate(&mut self) -> bool {
        match self.original.take() {
            Some(original) => {
                self.value = original;
                true
            }
            None => false,
        }
    }
}

/// proptest's `Union::new_weighted`, drawing the same values from the same RNG and shrinking
/// the same way (the current arm first, then the arms before it), without its cost on every
/// draw: an arm before the one picked keeps only the seed of the RNG proptest would have cloned
/// a runner for, and the arms sit in a vector sized once. proptest's grows on every draw, and its
/// elements each hold a runner (several hundred bytes): one of these per field of every body
/// was the largest allocation of a create case. The values are proptest's under its ChaCha RNG,
/// the one every case is drawn with: an arm drawn while shrinking gets a ChaCha RNG from its seed.
pub fn weighted_union<T: std::fmt::Debug + 'static>(
    options: Vec<(u32, BoxedStrategy<T>)>,
) -> Weighted<T> {
    let sum = options.iter().map(|(w, _)| u64::from(*w)).sum();
    Weighted {
        options: options.into(),
        sum,
    }
}

/// [`weighted_union`] with every arm weighing 1, as `Union::new`.
pub fn union<T: std::fmt::Debug + 'static>(options: Vec<BoxedStrategy<T>>) -> Weighted<T> {
    weighted_union(options.into_iter().map(|s| (1, s)).collect())
}

/// [`weighted_union`]'s strategy.
#[derive(Debug, Clone)]
pub struct Weighted<T> {
    options: std::sync::Arc<[(u32, BoxedStrategy<T>)]>,
    sum: u64,
}

impl<T: std::fmt::Debug + 'static> Strategy for Weighted<T> {
    type Tree = WeightedTree<T>;
    type Value = T;

    fn new_tree(&self, runner: &mut TestRunner) -> NewTree<Self> {
        // proptest's pick: `sample_uniform(0, sum)`, which its `Range<u64>` strategy draws too.
        let drawn = (0..self.sum).new_tree(runner)?.current();
        let pick = self
            .options
            .iter()
            .scan(0u64, |total, (w, _)| {
                *total += u64::from(*w);
                Some(*total)
            })
            .filter(|&total| total <= drawn)
            .count();
        let mut arms = Vec::with_capacity(pick + 1);
        // Each earlier arm takes the seed of the RNG proptest's lazy arm takes (`partial_clone`,
        // whose `new_rng` draws `[u8; 32]` from this RNG), in order, before the picked arm draws.
        // Only the seed: most arms are never drawn, and building a ChaCha RNG for each cost
        // ~1 us of a create case's ~22.
        for _ in 0..pick {
            arms.push(Arm::Lazy(runner.rng().random()));
        }
        arms.push(Arm::Ready(self.options[pick].1.new_tree(runner)?));
        Ok(WeightedTree {
            options: self.options.clone(),
            config: (pick > 0).then(|| std::sync::Arc::new(runner.config().clone())),
            arms,
            pick,
            min_pick: 0,
            prev_pick: None,
        })
    }
}

/// One arm of a [`WeightedTree`]: drawn only when shrinking reaches it, from the seed of the
/// RNG proptest would have given it.
enum Arm<T> {
    Lazy([u8; 32]),
    Ready(Box<dyn ValueTree<Value = T>>),
    Failed,
}

/// [`Weighted`]'s value tree: proptest's `UnionValueTree`, step for step.
pub struct WeightedTree<T> {
    options: std::sync::Arc<[(u32, BoxedStrategy<T>)]>,
    /// The runner's configuration, for the arms drawn while shrinking.
    config: Option<std::sync::Arc<proptest::test_runner::Config>>,
    arms: Vec<Arm<T>>,
    pick: usize,
    min_pick: usize,
    prev_pick: Option<usize>,
}

impl<T> std::fmt::Debug for WeightedTree<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WeightedTree")
            .field("pick", &self.pick)
            .field("min_pick", &self.min_pick)
            .finish_non_exhaustive()
    }
}

impl<T: std::fmt::Debug> WeightedTree<T> {
    fn ready(&mut self, at: usize) -> &mut Box<dyn ValueTree<Value = T>> {
        match &mut self.arms[at] {
            Arm::Ready(tree) => tree,
            Arm::Lazy(_) | Arm::Failed => unreachable!("the pick is always drawn"),
        }
    }

    /// Draws arm `at` if it was left for later; whether it is drawn now.
    fn draw(&mut self, at: usize) -> bool {
        if let Arm::Lazy(_) = self.arms[at] {
            let Arm::Lazy(seed) = std::mem::replace(&mut self.arms[at], Arm::Failed) else {
                unreachable!("matched above")
            };
            let config = self
                .config
                .as_deref()
                .cloned()
                .expect("kept whenever an arm is lazy");
            let rng = TestRng::from_seed(proptest::test_runner::RngAlgorithm::ChaCha, &seed);
            let mut runner = TestRunner::new_with_rng(config, rng);
            if let Ok(tree) = self.options[at].1.new_tree(&mut runner) {
                self.arms[at] = Arm::Ready(tree);
            }
        }
        matches!(self.arms[at], Arm::Ready(_))
    }
}

impl<T: std::fmt::Debug> ValueTree for WeightedTree<T> {
    type Value = T;

    fn current(&self) -> T {
        match &self.arms[self.pick] {
            Arm::Ready(tree) => tree.current(),
            Arm::Lazy(_) | Arm::Failed => unreachable!("the pick is always drawn"),
        }
    }

    fn simplify(&mut self) -> bool {
        let pick = self.pick;
        if self.ready(pick).simplify() {
            self.prev_pick = None;
            return true;
        }
        if self.pick == self.min_pick {
            return false;
        }
        self.prev_pick = Some(self.pick);
        let mut next = self.pick;
        while next > self.min_pick {
            next -= 1;
            if self.draw(next) {
                self.pick = next;
                return true;
            }
        }
        false
    }

    fn complicate(&mut self) -> bool {
        if let Some(pick) = self.prev_pick {
            self.pick = pick;
            self.min_pick = pick;
            self.prev_pick = None;
            true
        } else {
            let pick = self.pick;
            self.ready(pick).complicate()
        }
    }
}

/// The edges of the signed 64-bit range and the values around zero.
const EDGE_INTS: [i64; 7] = [i64::MIN, i64::MAX, 0, -1, 1, i64::MIN + 1, i64::MAX - 1];

/// An integer across the signed 64-bit range: 4 in 7 in `-1000..1000`, 2 in 7 any, 1 in 7 an edge.
fn draw_int(rng: &mut TestRng) -> i64 {
    match rng.random_range(0..7u32) {
        0..4 => rng.random_range(-1000i64..1000),
        4..6 => rng.random(),
        _ => EDGE_INTS[rng.random_range(0..EDGE_INTS.len())],
    }
}

/// Integers across the signed 64-bit range, weighted towards the edges and small values; they
/// shrink towards zero by halving, as proptest's integers do.
pub fn arb_int() -> impl Strategy<Value = i64> {
    Int
}

/// [`arb_int`]'s strategy.
#[derive(Debug, Clone, Copy)]
struct Int;

impl Strategy for Int {
    type Tree = proptest::num::i64::BinarySearch;
    type Value = i64;

    fn new_tree(&self, runner: &mut TestRunner) -> NewTree<Self> {
        Ok(proptest::num::i64::BinarySearch::new(draw_int(
            runner.rng(),
        )))
    }
}

/// A JSON number written exactly as `text`: serde_json's `arbitrary_precision` keeps the digits.
fn number(text: &str) -> Value {
    serde_json::from_str(text).expect("a JSON number")
}

/// An integral `f64` strictly inside the 64-bit range, as the integer it is. Beyond 2^53 only
/// integers an `f64` holds exactly: for `9007199254740993.0` Python's float reading gives
/// 9007199254740992 while the text says ...993, so such text is unspecified, not accepted.
/// -2^63 is left out too: pydantic's `float_as_int` refuses it (its bound is exclusive).
fn arb_integral_float() -> impl Strategy<Value = i64> {
    prop_oneof![
        -1000i64..1000,
        -(1i64 << 53)..(1i64 << 53),
        any::<i64>().prop_filter_map("inside the i64 range", nearest_f64),
    ]
}

/// The integer the `f64` nearest to `n` holds, unless that `f64` is ±2^63 (see above).
fn nearest_f64(n: i64) -> Option<i64> {
    const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
    #[allow(clippy::cast_precision_loss)]
    let f = n as f64;
    // Integral at this size, and strictly inside the range, so the conversion is exact.
    #[allow(clippy::cast_possible_truncation)]
    (f > -TWO_POW_63 && f < TWO_POW_63).then_some(f as i64)
}

/// Ways to write an integral float: every digit then zero decimals, or a mantissa and an
/// exponent. All spell the integer's exact value, so every reader agrees on it.
fn arb_float_text(n: i64) -> impl Strategy<Value = String> {
    let digits = n.unsigned_abs().to_string();
    let sign = if n < 0 { "-" } else { "" };
    let significant = digits.trim_end_matches('0');
    let (mantissa, exponent) = if significant.is_empty() {
        ("0".to_owned(), 0)
    } else {
        (significant.to_owned(), digits.len() - significant.len())
    };
    let forms = vec![
        format!("{sign}{digits}.0"),
        format!("{sign}{digits}.000"),
        format!("{sign}{mantissa}e{exponent}"),
        format!("{sign}{mantissa}.0E+{exponent}"),
    ];
    select(forms)
}

fn arb_lax_int() -> impl Strategy<Value = Accepted> {
    prop_oneof![
        arb_integral_float()
            .prop_flat_map(|n| (Just(n), arb_float_text(n)))
            .prop_map(|(n, text)| Accepted {
                sent: number(&text),
                stored: json!(n)
            }),
        (arb_int(), 0usize..3, 0usize..3, any::<bool>()).prop_map(|(n, lead, trail, plus)| {
            let sign = if plus && n >= 0 { "+" } else { "" };
            Accepted {
                sent: json!(format!(
                    "{}{sign}{n}{}",
                    " ".repeat(lead),
                    " ".repeat(trail)
                )),
                stored: json!(n),
            }
        }),
        (arb_int(), 1usize..4).prop_map(|(n, zeros)| Accepted {
            sent: json!(format!("{n}.{}", "0".repeat(zeros))),
            stored: json!(n)
        }),
        any::<bool>().prop_map(|b| Accepted {
            sent: json!(b),
            stored: json!(i64::from(b))
        }),
    ]
}

const TRUE_WORDS: [&str; 6] = ["true", "t", "yes", "y", "on", "1"];
const FALSE_WORDS: [&str; 6] = ["false", "f", "no", "n", "off", "0"];

/// A word in a random letter case: the coercion ignores case.
fn arb_cased(words: &'static [&'static str]) -> impl Strategy<Value = String> {
    (select(words), any::<u64>()).prop_map(|(word, mask)| {
        word.chars()
            .enumerate()
            .map(|(i, c)| {
                if mask >> (i % 64) & 1 == 1 {
                    c.to_ascii_uppercase()
                } else {
                    c
                }
            })
            .collect()
    })
}

fn arb_lax_bool() -> impl Strategy<Value = Accepted> {
    prop_oneof![
        any::<bool>().prop_map(|b| Accepted {
            sent: json!(i64::from(b)),
            stored: json!(b)
        }),
        any::<bool>().prop_map(|b| Accepted {
            sent: json!(if b { 1.0 } else { 0.0 }),
            stored: json!(b)
        }),
        arb_cased(&TRUE_WORDS).prop_map(|w| Accepted {
            sent: json!(w),
            stored: json!(true)
        }),
        arb_cased(&FALSE_WORDS).prop_map(|w| Accepted {
            sent: json!(w),
            stored: json!(false)
        }),
    ]
}

/// How likely each level of [`draw_json`] is to hold a container rather than what the next
/// level holds: proptest's `prop_recursive(3, 24, 4, …)` weights, `24 / 8^(level + 1)` capped
/// at 0.9, so that the shapes drawn are the ones that strategy drew.
const JSON_BRANCH: [f64; 3] = [0.9, 0.375, 0.046_875];

/// A JSON leaf: null, a boolean, an [`arb_int`] integer, a finite `f64` as proptest's
/// `any::<f64>()` draws them, or a string of up to 12 characters, each a fifth of the time.
fn draw_leaf(runner: &mut TestRunner) -> Value {
    match runner.rng().random_range(0..5u32) {
        0 => Value::Null,
        1 => Value::Bool(runner.rng().random()),
        2 => json!(draw_int(runner.rng())),
        3 => loop {
            let f = proptest::num::f64::ANY
                .new_tree(runner)
                .expect("floats never reject")
                .current();
            if f.is_finite() {
                break json!(f);
            }
        },
        _ => Value::String(draw_text(runner.rng(), 0, 12)),
    }
}

fn draw_text(rng: &mut TestRng, min: usize, max: usize) -> String {
    let len = rng.random_range(min..=max);
    (0..len).map(|_| draw_char(rng)).collect()
}

/// JSON from `level` down: a container (an array or an object of up to 3 entries, keys of up
/// to 8 characters, half and half) with [`JSON_BRANCH`]'s chance, else what the next level
/// draws; a leaf past the last level.
fn draw_json(runner: &mut TestRunner, level: usize) -> Value {
    let Some(&branch) = JSON_BRANCH.get(level) else {
        return draw_leaf(runner);
    };
    if !runner.rng().random_bool(branch) {
        return draw_json(runner, level + 1);
    }
    let len = runner.rng().random_range(0..4usize);
    if runner.rng().random() {
        Value::Array((0..len).map(|_| draw_json(runner, level + 1)).collect())
    } else {
        let mut map = Map::new();
        for _ in 0..len {
            let key = draw_text(runner.rng(), 0, 8);
            map.insert(key, draw_json(runner, level + 1));
        }
        Value::Object(map)
    }
}

/// Arbitrary JSON, nested a few levels, for `dynamic_variables`. Numbers stay where every JSON
/// implementation agrees on them: i64 and finite f64. Drawn in one pass (a recursive proptest
/// strategy rebuilds its levels on every draw); it shrinks to null in one step.
pub fn arb_json() -> impl Strategy<Value = Value> {
    JsonValue
}

#[derive(Debug, Clone, Copy)]
struct JsonValue;

impl Strategy for JsonValue {
    type Tree = DrawnTree<Value, fn(&Value) -> Option<Value>>;
    type Value = Value;

    fn new_tree(&self, runner: &mut TestRunner) -> NewTree<Self> {
        Ok(DrawnTree {
            value: draw_json(runner, 0),
            simpler: |v| (!v.is_null()).then_some(Value::Null),
            original: None,
            tried: false,
        })
    }
}

/// A JSON object of up to 4 entries: keys of up to 10 characters, [`arb_json`] values. It
/// shrinks by dropping entries, then by setting values to null.
pub fn arb_json_object() -> impl Strategy<Value = Map<String, Value>> {
    JsonObject
}

#[derive(Debug, Clone, Copy)]
struct JsonObject;

impl Strategy for JsonObject {
    type Tree = ObjectTree;
    type Value = Map<String, Value>;

    fn new_tree(&self, runner: &mut TestRunner) -> NewTree<Self> {
        let len = runner.rng().random_range(0..5usize);
        let mut map = Map::new();
        for _ in 0..len {
            let key = draw_text(runner.rng(), 0, 10);
            map.insert(key, draw_json(runner, 0));
        }
        Ok(ObjectTree(Seq::new(
            map.into_iter().collect(),
            0,
            |(k, v)| (!v.is_null()).then(|| (k.clone(), Value::Null)),
        )))
    }
}

/// A drawn object's value tree (see [`Seq`]).
#[derive(Debug, Clone)]
pub struct ObjectTree(Seq<(String, Value)>);

impl ValueTree for ObjectTree {
    type Value = Map<String, Value>;

    fn current(&self) -> Map<String, Value> {
        self.0.items.iter().cloned().collect()
    }

    fn simplify(&mut self) -> bool {
        self.0.simplify()
    }

    fn complicate(&mut self) -> bool {
        self.0.complicate()
    }
}

/// Identifiers of lowercase hex as long as a spec's `(minLength, maxLength)` allows. Without
/// bounds they are as long as [`UNBOUNDED_ID_LEN`], so that two scenarios never draw the same one.
pub fn arb_hex_id(bounds: (Option<usize>, Option<usize>)) -> BoxedStrategy<String> {
    let (min, max) = id_lengths(bounds);
    let pattern = if min == max {
        format!("[0-9a-f]{{{min}}}")
    } else {
        format!("[0-9a-f]{{{min},{max}}}")
    };
    proptest::string::string_regex(&pattern)
        .expect("a valid pattern")
        .boxed()
}

/// The length of a drawn identifier where the spec bounds it not at all.
pub const UNBOUNDED_ID_LEN: usize = 16;

/// The lengths [`arb_hex_id`] draws in.
pub fn id_lengths((min, max): (Option<usize>, Option<usize>)) -> (usize, usize) {
    let low = min
        .unwrap_or(UNBOUNDED_ID_LEN)
        .min(max.unwrap_or(usize::MAX));
    (low, max.unwrap_or(low).max(low))
}

/// Strings of `[a-z0-9]` whose lengths break a spec's `(minLength, maxLength)`: one short, one
/// long. Empty when nothing bounds them.
pub fn wrong_length_patterns((min, max): (Option<usize>, Option<usize>)) -> Vec<String> {
    let mut patterns = Vec::new();
    if let Some(min) = min.filter(|m| *m > 0) {
        patterns.push(format!("[a-z0-9]{{{}}}", min - 1));
    }
    if let Some(max) = max {
        patterns.push(format!("[a-z0-9]{{{}}}", max + 1));
    }
    patterns
}

/// A fixed canonical value of a kind, for requests whose values must be valid but do not
/// matter (a write that another team's key must not be able to make): `text` for a string,
/// fitted to its length; the last value of an enum; the defaults of an object.
pub fn plain_value(kind: &Kind, text: &str) -> Value {
    match kind {
        Kind::String { min_len, max_len } => {
            let mut chars: Vec<char> = text.chars().collect();
            chars.resize(chars.len().max(min_len.unwrap_or(0)), 'x');
            chars.truncate(max_len.unwrap_or(chars.len()));
            json!(chars.into_iter().collect::<String>())
        }
        Kind::Integer => json!(1),
        Kind::Boolean => json!(true),
        Kind::Enum(values) => values.last().map_or(Value::Null, |v| json!(v)),
        Kind::AnyObject => json!({}),
        Kind::Object(model) => model.all_defaults(),
    }
}

/// Every field of a model set to its [`plain_value`].
pub fn plain_object(model: &ObjectModel, text: &str) -> Value {
    Value::Object(
        model
            .fields
            .iter()
            .map(|f| (f.name.clone(), plain_value(&f.kind, text)))
            .collect(),
    )
}

/// Canonical values of a scalar kind: the server stores them unchanged.
pub fn arb_canonical(kind: &Kind) -> BoxedStrategy<Accepted> {
    match kind {
        Kind::String { min_len, max_len } => {
            let min = min_len.unwrap_or(0);
            let max = max_len.unwrap_or(min.max(40));
            arb_text(min, max).prop_map(|s| same(json!(s))).boxed()
        }
        Kind::Integer => arb_int().prop_map(|n| same(json!(n))).boxed(),
        Kind::Boolean => any::<bool>().prop_map(|b| same(json!(b))).boxed(),
        Kind::Enum(values) => select(values.clone()).prop_map(|v| same(json!(v))).boxed(),
        Kind::AnyObject => arb_json_object()
            .prop_map(|m| same(Value::Object(m)))
            .boxed(),
        Kind::Object(model) => arb_accepted_object(model.clone()).boxed(),
    }
}

/// Non-canonical values the contract says are accepted, with what must be stored.
pub fn arb_lax(kind: &Kind) -> Option<BoxedStrategy<Accepted>> {
    match kind {
        Kind::Integer => Some(arb_lax_int().boxed()),
        Kind::Boolean => Some(arb_lax_bool().boxed()),
        _ => None,
    }
}

/// A value from the contract's always-rejected set for a kind, with the mutation's name.
pub fn arb_rejected(kind: &Kind) -> BoxedStrategy<(&'static str, Value)> {
    let containers = || select(vec![json!([]), json!({}), json!([1]), json!({"a": 1})]);
    match kind {
        Kind::Integer => prop_oneof![
            select(vec![json!(5.5), json!(-0.5), json!(1e-3)]).prop_map(|v| ("wrong_type", v)),
            select(vec![
                json!("abc"),
                json!(""),
                json!("1e3"),
                json!("0x10"),
                json!("5.")
            ])
            .prop_map(|v| ("wrong_type", v)),
            // Integral floats at or past ±2^63 (CONTRACT.md: int_parsing_size); the exclusive
            // bound is the one a server that checks `<=` gets wrong.
            select(vec![
                number("9223372036854775808.0"),
                number("-9223372036854775808.0"),
                number("1e20"),
                number("-1e300"),
                number("99999999999999999999.0"),
            ])
            .prop_map(|v| ("float_out_of_range", v)),
            containers().prop_map(|v| ("wrong_type", v)),
        ]
        .boxed(),
        Kind::Boolean => prop_oneof![
            select(vec![json!(2), json!(0.5), json!(-1)]).prop_map(|v| ("wrong_type", v)),
            select(vec![json!(""), json!("maybe"), json!(" true"), json!("2")])
                .prop_map(|v| ("wrong_type", v)),
            containers().prop_map(|v| ("wrong_type", v)),
        ]
        .boxed(),
        Kind::String { min_len, max_len } => {
            let mut wrong_length = Vec::new();
            if let Some(min) = min_len.filter(|m| *m > 0) {
                wrong_length.push(json!("a".repeat(min - 1)));
            }
            if let Some(max) = max_len {
                wrong_length.push(json!("a".repeat(max + 1)));
            }
            let wrong_type = select(vec![
                json!(42),
                json!(1.5),
                json!(true),
                json!([]),
                json!({}),
            ])
            .prop_map(|v| ("wrong_type", v));
            if wrong_length.is_empty() {
                wrong_type.boxed()
            } else {
                prop_oneof![
                    wrong_type,
                    select(wrong_length).prop_map(|v| ("wrong_length", v))
                ]
                .boxed()
            }
        }
        Kind::Enum(values) => {
            let mut wrong: Vec<Value> = values
                .iter()
                .map(|v| json!(v.to_uppercase()))
                .chain([
                    json!("unknown"),
                    json!(""),
                    json!(format!("{} ", values[0])),
                ])
                .chain(
                    NEAR_ENUM_WORDS
                        .iter()
                        .filter(|w| !values.iter().any(|v| v == *w))
                        .map(|w| json!(w)),
                )
                .collect();
            wrong.dedup();
            prop_oneof![
                select(wrong).prop_map(|v| ("enum_violation", v)),
                select(vec![json!(1), json!(true)]).prop_map(|v| ("wrong_type", v)),
            ]
            .boxed()
        }
        Kind::AnyObject | Kind::Object(_) => select(vec![
            json!([]),
            json!("x"),
            json!(1),
            json!(true),
            json!([{}]),
        ])
        .prop_map(|v| ("wrong_type", v))
        .boxed(),
    }
}

/// Decimal digits of an integer outside the signed 64-bit range: the edges just past it and
/// past `u64`, and longer runs.
fn arb_big_int_digits() -> impl Strategy<Value = String> {
    prop_oneof![
        select(vec![
            "9223372036854775808",
            "-9223372036854775809",
            "18446744073709551615",
            "18446744073709551616",
            "99999999999999999999",
            "-99999999999999999999",
        ])
        .prop_map(str::to_owned),
        (any::<bool>(), "[1-9][0-9]{19,60}")
            .prop_map(|(negative, digits)| format!("{}{digits}", if negative { "-" } else { "" })),
    ]
}

/// A decimal integer in the 64-bit range with single underscores between some of its digits.
fn arb_underscored() -> impl Strategy<Value = String> {
    (arb_int(), any::<u64>()).prop_map(|(n, mask)| {
        let digits = n.unsigned_abs().to_string();
        let mut out = String::from(if n < 0 { "-" } else { "" });
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && mask >> (i % 64) & 1 == 1 {
                out.push('_');
            }
            out.push(c);
        }
        if !out.contains('_') {
            out.insert(out.len() - 1, '_');
            if out.starts_with("-_") || out.starts_with('_') {
                // A one-digit number: give it a second digit to stand between.
                out = out.replacen('_', "1_", 1);
            }
        }
        out
    })
}

/// Values of the contract's unspecified set: a server may accept or reject them. For each,
/// what real pydantic does (CONTRACT.md records it, and the reference server follows it); the
/// suite asserts only the weak oracle.
pub fn arb_unspecified(kind: &Kind) -> Option<BoxedStrategy<Value>> {
    match kind {
        Kind::Integer => Some(
            prop_oneof![
                // Integers past 64 bits: pydantic stores them exactly, as numbers or strings.
                3 => arb_big_int_digits().prop_map(|digits| number(&digits)),
                2 => (arb_big_int_digits(), select(vec!["", " ", ".00"]))
                    .prop_map(|(digits, decoration)| json!(format!("{digits}{decoration}"))),
                // Underscores between digits: pydantic reads them as Python's int() does
                // ("5_000" is 5000, also after a sign, inside whitespace, before ".0").
                3 => (
                    arb_underscored(),
                    select(vec![("", ""), (" ", " "), ("", ".0"), ("\t", ".00 ")])
                )
                    .prop_map(|(text, (before, after))| json!(format!("{before}{text}{after}"))),
                // Underscores Python refuses (pydantic: int_parsing). Not around a lone zero:
                // pydantic drops leading zeros and underscores together and reads "0__0" as 0.
                2 => (1i64..1_000_000, select(vec!["_{}", "{}_", "{}__0", "1__{}"]))
                    .prop_map(|(n, form)| json!(form.replace("{}", &n.to_string()))),
                // A float whose digits an f64 cannot hold: pydantic stores the f64's integer
                // (9007199254740992 for ...993.0). (Past ±2^63 and "5." are always refused:
                // `arb_rejected`.)
                1 => Just(number("9007199254740993.0")),
            ]
            .boxed(),
        ),
        _ => None,
    }
}

/// Words a state enum of this kind commonly grows (a shared enum extended for another
/// service, a value from a neighbouring API): the nearest strings an enum must still refuse.
/// Any that the spec's enum holds are left out.
pub const NEAR_ENUM_WORDS: [&str; 12] = [
    "paused",
    "cancelled",
    "canceled",
    "failed",
    "succeeded",
    "stopped",
    "archived",
    "draft",
    "queued",
    "active",
    "error",
    "deleted",
];

/// A field's value as sent (`None`: left out) and the value the server must store.
type FieldDraw = (Option<Value>, Value);

/// One field of a valid object: absent (the default is stored), null where allowed, canonical or lax.
fn arb_accepted_field(field: &FieldModel) -> BoxedStrategy<FieldDraw> {
    let default = ObjectModel::default_of(field);
    let mut options: Vec<(u32, BoxedStrategy<FieldDraw>)> = vec![
        (2, Just((None, default)).boxed()),
        (
            4,
            arb_canonical(&field.kind)
                .prop_map(|a| (Some(a.sent), a.stored))
                .boxed(),
        ),
    ];
    if field.nullable {
        options.push((1, Just((Some(Value::Null), Value::Null)).boxed()));
    }
    if let Some(lax) = arb_lax(&field.kind) {
        options.push((2, lax.prop_map(|a| (Some(a.sent), a.stored)).boxed()));
    }
    weighted_union(options).boxed()
}

/// A field name as another naming convention writes it: camelCase, PascalCase, kebab-case,
/// UPPER_SNAKE. A framework told to accept aliases (pydantic's `alias_generator`, a
/// case-insensitive model) reads these; the contract knows only the spec's names.
pub fn respellings(name: &str) -> Vec<String> {
    let words: Vec<&str> = name.split('_').filter(|w| !w.is_empty()).collect();
    let capitalised = |w: &str| {
        let mut chars = w.chars();
        chars
            .next()
            .map(|c| c.to_uppercase().chain(chars).collect::<String>())
            .unwrap_or_default()
    };
    let camel: String = words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            if i == 0 {
                (*w).to_owned()
            } else {
                capitalised(w)
            }
        })
        .collect();
    let pascal: String = words.iter().map(|w| capitalised(w)).collect();
    let mut out = vec![camel, pascal, words.join("-"), name.to_uppercase()];
    out.retain(|n| n != name);
    out.sort();
    out.dedup();
    out
}

/// Keys the spec does not know, which the server must ignore and not store: made-up names,
/// and the nearest unknown keys, the model's own field names respelled, with a valid value a
/// server reading the alias would store.
fn arb_unknown_keys(model: &ObjectModel) -> BoxedStrategy<Vec<(String, Value)>> {
    let made_up = (
        arb_text(0, 6).prop_map(|s| format!("x-unknown-{s}")),
        arb_json(),
    )
        .boxed();
    let known: Vec<&str> = model.fields.iter().map(|f| f.name.as_str()).collect();
    let aliases: Vec<BoxedStrategy<(String, Value)>> = model
        .fields
        .iter()
        .filter(|f| !matches!(f.kind, Kind::Object(_)))
        .flat_map(|f| {
            respellings(&f.name)
                .into_iter()
                .filter(|alias| !known.contains(&alias.as_str()))
                .map(|alias| {
                    arb_canonical(&f.kind)
                        .prop_map(move |value| (alias.clone(), value.sent))
                        .boxed()
                })
        })
        .collect();
    let key = if aliases.is_empty() {
        made_up
    } else {
        prop_oneof![1 => made_up, 1 => union(aliases)].boxed()
    };
    proptest::collection::vec(key, 0..2).boxed()
}

/// A valid object for a model, and what the server must store for it.
pub fn arb_accepted_object(model: ObjectModel) -> impl Strategy<Value = Accepted> {
    let names: Vec<String> = model.fields.iter().map(|f| f.name.clone()).collect();
    let fields: Vec<_> = model.fields.iter().map(arb_accepted_field).collect();
    (fields, arb_unknown_keys(&model)).prop_map(move |(values, unknown)| {
        let mut sent = Map::new();
        let mut stored = Map::new();
        for (name, (value, store)) in names.iter().zip(values) {
            if let Some(v) = value {
                sent.insert(name.clone(), v);
            }
            stored.insert(name.clone(), store);
        }
        for (key, value) in unknown {
            sent.insert(key, value);
        }
        Accepted {
            sent: Value::Object(sent),
            stored: Value::Object(stored),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::numbers::Decimal;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    fn sample<T: std::fmt::Debug>(s: impl Strategy<Value = T>, n: usize) -> Vec<T> {
        let mut runner = TestRunner::deterministic();
        (0..n)
            .map(|_| s.new_tree(&mut runner).unwrap().current())
            .collect()
    }

    /// Draws from `a` and `b` with the same seeds and shrinks both the same way (keeping a
    /// simplification when `keep` says so); returns whether every step agreed.
    fn same_draws_and_shrinks<T: std::fmt::Debug + PartialEq>(
        a: &impl Strategy<Value = T>,
        b: &impl Strategy<Value = T>,
        keep: impl Fn(&T) -> bool,
    ) {
        use proptest::test_runner::{Config, RngAlgorithm};
        for seed in 0..=255u8 {
            let runner = || {
                TestRunner::new_with_rng(
                    Config::default(),
                    TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]),
                )
            };
            let (mut ra, mut rb) = (runner(), runner());
            let (mut ta, mut tb) = (a.new_tree(&mut ra).unwrap(), b.new_tree(&mut rb).unwrap());
            assert_eq!(ta.current(), tb.current(), "seed {seed}");
            // The runners go on drawing the same stream after the union.
            assert_eq!(
                ra.rng().random::<u64>(),
                rb.rng().random::<u64>(),
                "seed {seed}"
            );
            for step in 0..200 {
                let (sa, sb) = (ta.simplify(), tb.simplify());
                assert_eq!(sa, sb, "seed {seed} step {step}");
                if !sa {
                    break;
                }
                assert_eq!(ta.current(), tb.current(), "seed {seed} step {step}");
                if !keep(&ta.current()) {
                    assert_eq!(ta.complicate(), tb.complicate(), "seed {seed} step {step}");
                    assert_eq!(ta.current(), tb.current(), "seed {seed} step {step}");
                }
            }
        }
    }

    #[test]
    fn the_union_draws_and_shrinks_as_proptests_union() {
        let arms = || -> Vec<(u32, BoxedStrategy<String>)> {
            vec![
                (2, Just("plain".to_owned()).boxed()),
                (4, arb_text(0, 8).boxed()),
                (1, arb_int().prop_map(|n| n.to_string()).boxed()),
                (
                    3,
                    (arb_text(1, 3), 0..50u32)
                        .prop_map(|(t, n)| format!("{t}{n}"))
                        .boxed(),
                ),
            ]
        };
        // Shrinking stops wherever the value stops being long: both trees walk back the same.
        same_draws_and_shrinks(
            &weighted_union(arms()),
            &proptest::strategy::Union::new_weighted(arms()),
            |v: &String| v.chars().count() > 2,
        );
        let nested = || {
            vec![
                union(arms().into_iter().map(|(_, s)| s).collect()).boxed(),
                Just("x".to_owned()).boxed(),
            ]
        };
        same_draws_and_shrinks(
            &(union(nested()), 0..10u8),
            &(proptest::strategy::Union::new(nested()), 0..10u8),
            |(v, n): &(String, u8)| v.len() % 2 == 0 || *n > 3,
        );
    }

    #[test]
    fn a_field_name_is_respelled_in_the_other_conventions_only() {
        assert_eq!(
            respellings("max_events"),
            ["MAX_EVENTS", "MaxEvents", "max-events", "maxEvents"]
        );
        assert_eq!(respellings("status"), ["STATUS", "Status"]);
    }

    #[test]
    fn lax_integers_store_the_integer_they_spell() {
        for a in sample(arb_lax_int(), 500) {
            let n = a.stored.as_i64().unwrap();
            match &a.sent {
                Value::String(s) => assert_eq!(
                    s.trim()
                        .split('.')
                        .next()
                        .unwrap()
                        .trim_start_matches('+')
                        .parse::<i64>()
                        .unwrap(),
                    n
                ),
                Value::Number(f) => {
                    // The text's exact value, and the f64 Python reads, are both the integer.
                    assert_eq!(Decimal::of(f).as_i64(), Some(n), "{f}");
                    let float = f.as_f64().unwrap();
                    #[allow(clippy::cast_possible_truncation)]
                    let read = float as i64;
                    assert_eq!((float.fract(), read), (0.0, n), "{f}");
                    assert!(f.as_str().contains(['.', 'e', 'E']), "{f} is a float");
                }
                Value::Bool(b) => assert_eq!(i64::from(*b), n),
                other => panic!("unexpected {other}"),
            }
        }
    }

    #[test]
    fn unspecified_integers_are_outside_the_accepted_and_rejected_sets() {
        let lax: Vec<Value> = sample(arb_lax_int(), 500)
            .into_iter()
            .map(|a| a.sent)
            .collect();
        let rejected: Vec<Value> = sample(arb_rejected(&Kind::Integer), 300)
            .into_iter()
            .map(|(_, v)| v)
            .collect();
        let mut kinds = std::collections::BTreeSet::new();
        for v in sample(arb_unspecified(&Kind::Integer).unwrap(), 500) {
            assert!(!lax.contains(&v) && !rejected.contains(&v), "{v}");
            match &v {
                Value::Number(n) => {
                    let value = Decimal::of(n);
                    // Past i64, or a float whose reading is in question.
                    assert!(value.as_i64().is_none() || n.as_str().contains('.'), "{v}");
                    kinds.insert("number");
                }
                Value::String(s) if s.contains('_') => {
                    kinds.insert("underscores");
                }
                Value::String(s) => {
                    let digits = s.trim().trim_end_matches(".00");
                    assert!(digits.parse::<i64>().is_err(), "{v} is in the accepted set");
                    kinds.insert("string");
                }
                other => panic!("unexpected {other}"),
            }
        }
        assert_eq!(kinds.len(), 3, "{kinds:?}");
    }

    #[test]
    fn underscored_integers_keep_single_underscores_between_digits() {
        for text in sample(arb_underscored(), 300) {
            let digits = text.trim_start_matches('-');
            assert!(digits.contains('_'), "{text}");
            assert!(
                !digits.starts_with('_') && !digits.ends_with('_') && !digits.contains("__"),
                "{text}"
            );
            assert!(digits.replace('_', "").parse::<u64>().is_ok(), "{text}");
        }
    }

    #[test]
    fn rejected_integers_are_never_integral_within_the_64_bit_range() {
        for (mutation, v) in sample(arb_rejected(&Kind::Integer), 300) {
            if let Value::Number(n) = &v {
                let d = Decimal::of(n);
                if mutation == "float_out_of_range" {
                    // Integral, but at or past ±2^63 (the bound is exclusive on both sides):
                    // refused with int_parsing_size.
                    let at_or_past = crate::numbers::beyond_i64(n) || d.as_i64() == Some(i64::MIN);
                    assert!(d.is_integer() && at_or_past, "{v} is within ±2^63");
                } else {
                    assert!(!d.is_integer(), "{v} is integral");
                }
            }
            assert!(!v.is_boolean(), "booleans coerce to integers");
        }
    }

    #[test]
    fn rejected_booleans_never_come_from_the_accepted_words() {
        for (_, v) in sample(arb_rejected(&Kind::Boolean), 300) {
            if let Some(s) = v.as_str() {
                let lower = s.to_lowercase();
                assert!(
                    !TRUE_WORDS.contains(&lower.as_str()) && !FALSE_WORDS.contains(&lower.as_str()),
                    "{s}"
                );
            }
            let zero_or_one =
                |n: &serde_json::Number| Decimal::of(n).as_i64().is_some_and(|i| i == 0 || i == 1);
            assert!(!matches!(&v, Value::Number(n) if zero_or_one(n)), "{v}");
        }
    }

    #[test]
    fn exact_length_strings_have_that_many_characters() {
        let kind = Kind::String {
            min_len: Some(24),
            max_len: Some(24),
        };
        for a in sample(arb_canonical(&kind), 200) {
            assert_eq!(a.sent.as_str().unwrap().chars().count(), 24);
        }
        for (name, v) in sample(arb_rejected(&kind), 200) {
            if name == "wrong_length" {
                assert_ne!(v.as_str().unwrap().chars().count(), 24);
            }
        }
    }

    /// Shrinks `tree` as the runner does, with every value failing: to its simplest form.
    fn shrink_fully<T: ValueTree>(mut tree: T) -> T::Value {
        while tree.simplify() {}
        tree.current()
    }

    #[test]
    fn text_draws_every_kind_of_character_at_every_length() {
        let texts = sample(arb_text(0, 40), 2000);
        let mut lengths = std::collections::BTreeSet::new();
        let (mut letters, mut awkward, mut other, mut total) = (0, 0, 0, 0);
        for text in &texts {
            let chars: Vec<char> = text.chars().collect();
            assert!(chars.len() <= 40, "{text:?}");
            lengths.insert(chars.len());
            for c in chars {
                total += 1;
                if c.is_ascii_lowercase() {
                    letters += 1;
                } else if AWKWARD_CHARS.contains(&c) {
                    awkward += 1;
                } else {
                    other += 1;
                }
            }
        }
        assert_eq!(lengths.len(), 41, "every length in 0..=40");
        // 6 in 9 from a..z (some of those from proptest's special characters, which are not
        // letters), 1 in 9 awkward, the rest anywhere: each well represented.
        assert!(letters * 2 > total, "{letters} of {total}");
        assert!(awkward * 20 > total, "{awkward} of {total}");
        assert!(other * 20 > total, "{other} of {total}");
        assert!(other > 0 && texts.iter().any(|t| !t.is_ascii()));
    }

    #[test]
    fn text_shrinks_to_its_shortest_plainest_form_and_undoes_a_step() {
        let mut runner = TestRunner::deterministic();
        for _ in 0..50 {
            let tree = arb_text(3, 12).new_tree(&mut runner).unwrap();
            assert_eq!(shrink_fully(tree), "aaa");
        }
        let mut tree = arb_text(2, 2).new_tree(&mut runner).unwrap();
        let drawn = tree.current();
        if tree.simplify() {
            assert_ne!(tree.current(), drawn);
            assert!(tree.complicate());
            assert_eq!(tree.current(), drawn);
        }
    }

    #[test]
    fn json_draws_every_leaf_and_container_within_three_levels() {
        fn depth(v: &Value) -> usize {
            match v {
                Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
                Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
                _ => 0,
            }
        }
        fn kinds(v: &Value, into: &mut std::collections::BTreeSet<&'static str>) {
            into.insert(match v {
                Value::Null => "null",
                Value::Bool(_) => "bool",
                Value::Number(n) if n.as_i64().is_some() => "integer",
                Value::Number(_) => "float",
                Value::String(_) => "string",
                Value::Array(_) => "array",
                Value::Object(_) => "object",
            });
            match v {
                Value::Array(items) => items.iter().for_each(|i| kinds(i, into)),
                Value::Object(map) => map.values().for_each(|i| kinds(i, into)),
                _ => {}
            }
        }
        let values = sample(arb_json(), 2000);
        let mut seen = std::collections::BTreeSet::new();
        let mut containers_at_top = 0;
        for v in &values {
            assert!(depth(v) <= 3, "{v}");
            if let Value::Number(n) = v {
                assert!(n.as_f64().is_some_and(f64::is_finite), "{v}");
            }
            containers_at_top += usize::from(v.is_array() || v.is_object());
            kinds(v, &mut seen);
        }
        assert_eq!(seen.len(), 7, "{seen:?}");
        // 9 in 10 at the top, as proptest's `prop_recursive(3, 24, 4, …)` weights it.
        assert!(
            containers_at_top * 10 > values.len() * 8,
            "{containers_at_top}"
        );
        assert!(values.iter().any(|v| depth(v) == 3));
        let objects = sample(arb_json_object(), 500);
        let sizes: std::collections::BTreeSet<usize> = objects.iter().map(Map::len).collect();
        assert!(
            sizes.contains(&0) && sizes.contains(&4) && !sizes.contains(&5),
            "{sizes:?}"
        );
    }

    #[test]
    fn json_shrinks_to_null_and_objects_to_empty() {
        let mut runner = TestRunner::deterministic();
        for _ in 0..50 {
            assert_eq!(
                shrink_fully(arb_json().new_tree(&mut runner).unwrap()),
                Value::Null
            );
            let object = shrink_fully(arb_json_object().new_tree(&mut runner).unwrap());
            assert!(object.is_empty(), "{object:?}");
        }
    }

    #[test]
    fn integers_draw_small_large_and_edge_values_and_shrink_to_zero() {
        let ints = sample(arb_int(), 2000);
        let small = ints.iter().filter(|n| (-1000..1000).contains(*n)).count();
        let edges = ints
            .iter()
            .filter(|n| [i64::MIN, i64::MAX, i64::MIN + 1, i64::MAX - 1].contains(n))
            .count();
        // 4 in 7 small (plus edges 0 and ±1), about 1 in 7 * 4/7 at the far edges.
        assert!(
            small * 7 > ints.len() * 3 && small * 7 < ints.len() * 5,
            "{small}"
        );
        assert!(edges * 40 > ints.len(), "{edges}");
        assert!(
            ints.iter()
                .any(|n| n.unsigned_abs() > 1 << 40 && !EDGE_INTS.contains(n))
        );
        let mut runner = TestRunner::deterministic();
        for _ in 0..50 {
            assert_eq!(shrink_fully(arb_int().new_tree(&mut runner).unwrap()), 0);
        }
    }
}
