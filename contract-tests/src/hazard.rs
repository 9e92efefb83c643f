//! The framework hazards of CONTRACT.md (the paragraph after "never"): inputs on which stock FastAPI answers 500, drawn as single create cases, each judged by a check of its own so that a known-failures baseline can name exactly one hazard and hide nothing else.
//!
//! Stock FastAPI (0.163, 0.165; pydantic 2.14) answers 500 for `NaN`, `Infinity` or `1e400` in
//! a typed field (its 422 body repeats the input, which its JSON writer refuses), for a string
//! holding a lone UTF-16 surrogate, and for `dynamic_variables` nested 255 levels or deeper. The
//! contract does not bend: the expected answer is a 422 for the typed field, and a 4xx or an
//! acceptance the spec allows for the other two.
//!
//! A hazard is known by the case that carries it (its mutation or its `because`), never guessed
//! from the request's bytes: `NaN` inside `dynamic_variables` is valid there (stored as null),
//! so a 500 on it is an ordinary `not_a_server_error` finding, not a hazard a baseline may hide.

use serde_json::Value;

use crate::request::{Case, Expect};

/// The depth of nesting from which stock FastAPI answers 500 (CONTRACT.md).
pub const DEEP_NESTING: usize = 255;

/// The deepest response body the suite reads: a server that accepts deep `dynamic_variables`
/// echoes them, a few levels below the body's root. Deeper than this is not read as JSON
/// (serde_json's own limit is 128; the cap keeps parsing off the end of a worker's stack).
pub const MAX_READ_DEPTH: usize = DEEP_NESTING + 64;

/// The mutation name of a non-finite number in a typed field (an `Expect::Reject`).
pub const NON_FINITE: &str = "non_finite_number";

/// The `because` of a lone surrogate's `Expect::OneOf`.
pub const LONE_SURROGATE_BECAUSE: &str = "a string holding a lone UTF-16 surrogate: a 4xx, or an acceptance the spec allows (CONTRACT.md, stock FastAPI's 500s)";

/// The `because` of deeply nested `dynamic_variables`' `Expect::OneOf`.
pub const DEEP_NESTING_BECAUSE: &str = "dynamic_variables nested 255 levels or deeper: a 4xx, or an acceptance the spec allows (CONTRACT.md, stock FastAPI's 500s)";

/// One framework hazard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hazard {
    NonFiniteNumber,
    LoneSurrogate,
    DeepNesting,
}

impl Hazard {
    #[cfg(test)]
    pub const ALL: [Hazard; 3] = [
        Hazard::NonFiniteNumber,
        Hazard::LoneSurrogate,
        Hazard::DeepNesting,
    ];

    /// The name of the check that judges this hazard's cases (`crate::checks::CHECKS`).
    pub const fn check(self) -> &'static str {
        match self {
            Hazard::NonFiniteNumber => "non_finite_number_handled",
            Hazard::LoneSurrogate => "lone_surrogate_handled",
            Hazard::DeepNesting => "deep_nesting_handled",
        }
    }

    /// The situation of `never.5xx` this hazard is (`crate::coverage::RULES`).
    pub const fn situation(self) -> &'static str {
        match self {
            Hazard::NonFiniteNumber => "non-finite-number",
            Hazard::LoneSurrogate => "lone-surrogate",
            Hazard::DeepNesting => "deep-nesting",
        }
    }

    /// The hazard a case was drawn to carry, if any.
    pub fn of(case: &Case) -> Option<Hazard> {
        match &case.expect {
            Expect::Reject { mutation, .. } if *mutation == NON_FINITE => {
                Some(Hazard::NonFiniteNumber)
            }
            Expect::OneOf { because, .. } if *because == LONE_SURROGATE_BECAUSE => {
                Some(Hazard::LoneSurrogate)
            }
            Expect::OneOf { because, .. } if *because == DEEP_NESTING_BECAUSE => {
                Some(Hazard::DeepNesting)
            }
            _ => None,
        }
    }
}

/// A JSON text's deepest nesting of arrays and objects (the root object is depth 1), read
/// without building anything, so that a hostile body costs one pass and no stack.
pub fn depth(text: &[u8]) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut in_string = false;
    let mut escaped = false;
    for &b in text {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// `text` with every `\uXXXX` escape of a lone UTF-16 surrogate (one that is not half of a
/// high-then-low pair) replaced by `\ufffd`, which is what a reader that keeps text as Unicode
/// scalar values can hold; `None` when there was none.
pub fn without_lone_surrogates(text: &[u8]) -> Option<Vec<u8>> {
    let unit_at = |i: usize| -> Option<u16> {
        let escape = text.get(i..i + 6)?;
        if escape[0] != b'\\' || escape[1] != b'u' {
            return None;
        }
        u16::from_str_radix(std::str::from_utf8(&escape[2..]).ok()?, 16).ok()
    };
    let is_high = |u: u16| (0xD800..0xDC00).contains(&u);
    let is_low = |u: u16| (0xDC00..0xE000).contains(&u);
    let mut out = Vec::with_capacity(text.len());
    let mut changed = false;
    let mut in_string = false;
    let mut i = 0;
    while i < text.len() {
        let b = text[i];
        if !in_string {
            in_string = b == b'"';
            out.push(b);
            i += 1;
            continue;
        }
        match b {
            b'"' => {
                in_string = false;
                out.push(b);
                i += 1;
            }
            b'\\' => match unit_at(i) {
                Some(high) if is_high(high) && unit_at(i + 6).is_some_and(is_low) => {
                    out.extend_from_slice(&text[i..i + 12]);
                    i += 12;
                }
                Some(unit) if is_high(unit) || is_low(unit) => {
                    out.extend_from_slice(b"\\ufffd");
                    changed = true;
                    i += 6;
                }
                _ => {
                    // Any other escape is two bytes as far as the string's end goes (`\"`).
                    out.extend_from_slice(&text[i..(i + 2).min(text.len())]);
                    i += 2;
                }
            },
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    changed.then_some(out)
}

/// A response body read as JSON the way the service's own reader (Python's) reads it: nesting
/// deeper than serde_json's 128 levels (up to [`MAX_READ_DEPTH`]) and lone surrogates (read as
/// U+FFFD) are JSON too. `None` when it is not JSON.
pub fn parse(body: &[u8]) -> Option<Value> {
    if let Ok(value) = serde_json::from_slice(body) {
        return Some(value);
    }
    let repaired = without_lone_surrogates(body);
    let text = repaired.as_deref().unwrap_or(body);
    if repaired.is_some()
        && let Ok(value) = serde_json::from_slice(text)
    {
        return Some(value);
    }
    if depth(text) > MAX_READ_DEPTH {
        return None;
    }
    let mut reader = serde_json::Deserializer::from_slice(text);
    reader.disable_recursion_limit();
    let value = serde::Deserialize::deserialize(&mut reader).ok()?;
    reader.end().ok()?;
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn nested(levels: usize) -> String {
        format!("{}1{}", "[".repeat(levels), "]".repeat(levels))
    }

    #[test]
    fn depth_counts_arrays_and_objects_but_not_brackets_in_strings() {
        assert_eq!(depth(br#"{"a":[1,{"b":"[[[{{"}]}"#), 3);
        assert_eq!(depth(br#"{"a":"\"[["}"#), 1);
        assert_eq!(depth(b"17"), 0);
        assert_eq!(depth(nested(300).as_bytes()), 300);
    }

    #[test]
    fn lone_surrogates_become_replacement_characters_and_pairs_stay() {
        let text = br#"{"a":"x\ud800y","b":"\ud83d\ude00","c":"\udc00","d":"\\ud800"}"#;
        let repaired = String::from_utf8(without_lone_surrogates(text).unwrap()).unwrap();
        assert_eq!(
            repaired,
            r#"{"a":"x\ufffdy","b":"\ud83d\ude00","c":"\ufffd","d":"\\ud800"}"#
        );
        assert_eq!(without_lone_surrogates(br#"{"b":"\ud83d\ude00"}"#), None);
        // A high surrogate at the end of a string, before the closing quote.
        assert_eq!(
            without_lone_surrogates(br#"["\ud800"]"#).unwrap(),
            br#"["\ufffd"]"#
        );
    }

    #[test]
    fn a_body_python_reads_is_json_here_too() {
        assert_eq!(
            parse(br#"{"detail":"\ud800"}"#),
            Some(json!({"detail": "\u{FFFD}"}))
        );
        let deep = nested(DEEP_NESTING + 10);
        let value = parse(deep.as_bytes()).expect("deep nesting below the cap is read");
        let mut at = &value;
        let mut levels = 0;
        while let Some(inner) = at.get(0) {
            at = inner;
            levels += 1;
        }
        assert_eq!(levels, DEEP_NESTING + 10);
    }

    #[test]
    fn what_is_not_json_stays_not_json_and_past_the_cap_is_not_read() {
        assert_eq!(parse(b"Internal Server Error"), None);
        assert_eq!(parse(br#"{"a":"\ud800"#), None);
        assert_eq!(parse(nested(MAX_READ_DEPTH + 1).as_bytes()), None);
        assert_eq!(parse(format!("{} 1", nested(200)).as_bytes()), None);
    }
}
