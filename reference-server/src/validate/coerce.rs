//! pydantic v2's lax coercions for this API's scalar types: `int` (of any size, from numbers,
//! bools and strings) and `bool`, each answering the value or pydantic's error `type` and `msg`.
//!
//! Nothing here knows about locations: the schema decides where a value sits.

use serde_json::{Number, Value};

const MSG_INT_TYPE: &str = "Input should be a valid integer";
const MSG_INT_PARSING: &str =
    "Input should be a valid integer, unable to parse string as an integer";
const MSG_INT_FROM_FLOAT: &str =
    "Input should be a valid integer, got a number with a fractional part";
const MSG_INT_SIZE: &str = "Unable to parse input string as an integer, exceeded maximum size";
const MSG_FINITE: &str = "Input should be a finite number";
const MSG_BOOL_TYPE: &str = "Input should be a valid boolean";
const MSG_BOOL_PARSING: &str = "Input should be a valid boolean, unable to interpret input";

/// pydantic's error `type` and `msg` for a value it refuses.
pub(crate) type Rejection = (&'static str, &'static str);

/// `int_type`: the value is no kind of integer (an array, an object).
pub(crate) const INT_TYPE: Rejection = ("int_type", MSG_INT_TYPE);

/// `bool_parsing`: a value that is no boolean pydantic can read.
pub(crate) const BOOL_PARSING: Rejection = ("bool_parsing", MSG_BOOL_PARSING);

/// An integer as Python's `int` holds it, of any size.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Int {
    Small(i64),
    /// Outside the i64 range: decimal digits, `-` if negative, no leading zeros.
    Big(String),
}

impl Int {
    /// `text` is `-?[0-9]+`; leading zeros are dropped and `-0` is 0, as `int()` reads them.
    fn from_decimal(text: &str) -> Int {
        let (sign, digits) = match text.strip_prefix('-') {
            Some(digits) => ("-", digits),
            None => ("", text),
        };
        let digits = digits.trim_start_matches('0');
        if digits.is_empty() {
            return Int::Small(0);
        }
        let canonical = format!("{sign}{digits}");
        match canonical.parse::<i64>() {
            Ok(int) => Int::Small(int),
            Err(_) => Int::Big(canonical),
        }
    }

    /// The JSON number FastAPI writes for it: all the digits, never a float.
    pub(crate) fn into_value(self) -> Value {
        match self {
            Int::Small(int) => Value::from(int),
            // Canonical decimal digits are a JSON number; `arbitrary_precision` keeps them all.
            Int::Big(digits) => Value::Number(Number::from_string_unchecked(digits)),
        }
    }
}

/// pydantic's lax `int` on what `json.loads` produced: a Python `int` (an integer literal, of
/// any size) as it is; bools; integral floats in the 64-bit range; integer strings.
pub(crate) fn lax_int(value: &Value) -> Result<Int, Rejection> {
    match value {
        Value::Bool(b) => Ok(Int::Small(i64::from(*b))),
        // Python's NaN and infinities, which the body reader keeps as their tokens.
        Value::Number(n) if crate::body::is_non_finite(n) => Err(("finite_number", MSG_FINITE)),
        // The body reader kept integer literals exact and made every other number an f64.
        Value::Number(n) if !n.as_str().contains(['.', 'e', 'E']) => {
            Ok(Int::from_decimal(n.as_str()))
        }
        Value::Number(n) => {
            // Non-finite numbers were answered above; this only guards the invariant.
            let Some(float) = n.as_f64() else {
                return Err(("finite_number", MSG_FINITE));
            };
            if float.fract() != 0.0 {
                return Err(("int_from_float", MSG_INT_FROM_FLOAT));
            }
            float_as_int(float)
        }
        Value::String(s) => str_as_int(s),
        _ => Err(INT_TYPE),
    }
}

/// pydantic's `float_as_int`: a float beyond the 64-bit range is `int_parsing_size`, even
/// though a Python `int` of that size is fine. Both bounds are exclusive, so -2^63 written as a
/// float is refused too, as the FastAPI oracle shows; the contract's suite sends it only as an
/// unspecified input.
pub(crate) fn float_as_int(float: f64) -> Result<Int, Rejection> {
    // ±2^63, both exact in f64.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if float.is_finite() && float > -LIMIT && float < LIMIT {
        // In range and integral, so the conversion is exact.
        #[allow(clippy::cast_possible_truncation)]
        Ok(Int::Small(float as i64))
    } else {
        Err(("int_parsing_size", MSG_INT_SIZE))
    }
}

/// Python refuses to read an integer of more characters than this (CPython's
/// `sys.get_int_max_str_digits()`); pydantic's reader (jiter) stops at the same length.
const MAX_INT_CHARS: usize = 4300;

/// pydantic-core's `str_as_int` (2.50.5, the oracle's pin): the string as a JSON integer; else
/// cleaned of surrounding whitespace, one leading `+`, leading zeros, a `.000` tail and single
/// underscores between digits, and read again. Any size is kept.
pub(crate) fn str_as_int(s: &str) -> Result<Int, Rejection> {
    // jiter gives up on an over-long digit run before it sees what follows: that is the one
    // `int_parsing_size`; a cleaned string that is too long is plain `int_parsing`.
    if leading_integer_len(s) > MAX_INT_CHARS {
        return Err(("int_parsing_size", MSG_INT_SIZE));
    }
    json_integer(s)
        .or_else(|| clean_int_str(s).as_deref().and_then(json_integer))
        .ok_or(("int_parsing", MSG_INT_PARSING))
}

/// The length of a leading `-?[1-9][0-9]*`, which jiter reads as an integer of any size.
fn leading_integer_len(s: &str) -> usize {
    let sign = usize::from(s.starts_with('-'));
    match s.as_bytes().get(sign) {
        Some(b'1'..=b'9') => {
            sign + s.as_bytes()[sign..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count()
        }
        _ => 0,
    }
}

/// `s` if it is exactly a JSON integer, `-?(0|[1-9][0-9]*)`, of at most [`MAX_INT_CHARS`].
fn json_integer(s: &str) -> Option<Int> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let well_formed = match digits.as_bytes() {
        [b'0'] => true,
        [b'1'..=b'9', rest @ ..] => rest.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    (well_formed && s.len() <= MAX_INT_CHARS).then(|| Int::from_decimal(s))
}

/// pydantic-core's `clean_int_str`; `None` when there is nothing to clean or the string is
/// not an integer with decorations.
fn clean_int_str(s: &str) -> Option<String> {
    let len_before = s.len();
    let mut s = s.trim();
    if let Some(rest) = s.strip_prefix('+') {
        if rest.starts_with('-') {
            return None;
        }
        s = rest;
    }
    let sign = match s.strip_prefix('-') {
        Some(rest) if rest.starts_with(['-', '+']) => return None,
        Some(rest) => {
            s = rest;
            "-"
        }
        None => "",
    };
    s = strip_leading_zeros(s)?;
    if let Some(point) = s.find('.') {
        let fraction = &s[point + 1..];
        if !fraction.is_empty() && fraction.bytes().all(|b| b == b'0') {
            s = &s[..point];
        }
    }
    if let Some(stripped) = strip_underscores(s) {
        return Some(format!("{sign}{stripped}"));
    }
    // Nothing was cleaned off: the plain reading already refused this very string.
    if len_before == s.len() {
        return None;
    }
    Some(format!("{sign}{s}"))
}

/// pydantic-core's `strip_leading_zeros`: `007` is `7`, `000` is `0`, `00.0` is `0.0`, and
/// underscores among the zeros go too. pydantic also stops at a `-` after the zeros, reading
/// `"0-5"` as -5; the contract rejects strings that are not numbers, so here that is refused.
fn strip_leading_zeros(s: &str) -> Option<&str> {
    let mut chars = s.char_indices();
    match chars.next() {
        Some((_, '0')) => {}
        Some((_, '1'..='9')) => return Some(s),
        _ => return None,
    }
    for (i, c) in chars {
        match c {
            '0' | '_' => {}
            '1'..='9' => return Some(&s[i..]),
            // Keep the zero (or underscore) before the point: `0.0`, not `.0`.
            '.' => return Some(&s[i - 1..]),
            _ => return None,
        }
    }
    // Only zeros and underscores: the last one, which is a zero unless it is an underscore.
    Some(&s[s.len() - 1..])
}

/// Python's rule for underscores in `int()`: single ones between digits. `None` when there are
/// none, or they lead, trail or double.
fn strip_underscores(s: &str) -> Option<String> {
    if s.starts_with('_') || s.ends_with('_') || !s.contains('_') || s.contains("__") {
        return None;
    }
    Some(s.replace('_', ""))
}

/// pydantic's lax `bool`.
pub(crate) fn lax_bool(value: &Value) -> Result<bool, Rejection> {
    let parsing = BOOL_PARSING;
    match value {
        Value::Bool(b) => Ok(*b),
        // pydantic reads a whole number other than 0 and 1 as a failed parse, but a number with
        // a fraction (0.5, 1e-3) as no boolean at all: `bool_type`, as the FastAPI oracle shows.
        // NaN and infinities are no boolean at all, as pydantic answers.
        Value::Number(n) if crate::body::is_non_finite(n) => Err(("bool_type", MSG_BOOL_TYPE)),
        Value::Number(n) => match n.as_f64() {
            Some(0.0) => Ok(false),
            Some(1.0) => Ok(true),
            Some(f) if f.fract() != 0.0 => Err(("bool_type", MSG_BOOL_TYPE)),
            _ => Err(parsing),
        },
        Value::String(s) => match s.to_lowercase().as_str() {
            "0" | "off" | "f" | "false" | "n" | "no" => Ok(false),
            "1" | "on" | "t" | "true" | "y" | "yes" => Ok(true),
            _ => Err(parsing),
        },
        _ => Err(("bool_type", MSG_BOOL_TYPE)),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn small(s: &str) -> Result<i64, &'static str> {
        match str_as_int(s) {
            Ok(Int::Small(int)) => Ok(int),
            Ok(big) => panic!("{s} read as {big:?}"),
            Err((ty, _)) => Err(ty),
        }
    }

    #[test]
    fn int_strings_follow_pydantic() {
        for (text, int) in [
            (" -7 ", -7),
            ("5.00", 5),
            ("+5", 5),
            ("-0", 0),
            ("007", 7),
            ("00.0", 0),
            ("\u{3000}12\t", 12),
            // Underscores as Python's int() takes them, after trimming, a sign, zeros or a .0 tail.
            ("5_000", 5000),
            (" 1_2_3 ", 123),
            ("+5_000", 5000),
            ("-5_000", -5000),
            ("0_5", 5),
            ("5_000.0", 5000),
            ("5_000.000", 5000),
        ] {
            assert_eq!(small(text), Ok(int), "{text:?}");
        }
        for bad in [
            "abc", "", "1e3", "0x10", "5.5", ".0", "5.", "+-1", "--1", "-+1", "- 1", "5 000", "_5",
            "5_", "5__0", "+_5", "-_5", "5_.0", "5.0_0", "1_2.5", "0_", "0-5", "١٢",
        ] {
            assert_eq!(small(bad), Err("int_parsing"), "{bad:?}");
        }
    }

    #[test]
    fn big_int_strings_are_kept_exactly() {
        for (text, digits) in [
            ("99999999999999999999", "99999999999999999999"),
            (" -99_999_999_999_999_999_999 ", "-99999999999999999999"),
            ("9223372036854775808.00", "9223372036854775808"),
            ("000018446744073709551616", "18446744073709551616"),
        ] {
            assert_eq!(str_as_int(text), Ok(Int::Big(digits.into())), "{text:?}");
        }
        assert_eq!(small("-9223372036854775808"), Ok(i64::MIN));
        let longest = "9".repeat(MAX_INT_CHARS);
        assert!(matches!(str_as_int(&longest), Ok(Int::Big(_))));
        let too_long = "9".repeat(MAX_INT_CHARS + 1);
        assert_eq!(small(&too_long), Err("int_parsing_size"));
        assert_eq!(small(&format!("{too_long}x")), Err("int_parsing_size"));
        // Only the plain reading reports the size; a cleaned string is just not an integer.
        assert_eq!(small(&format!(" {too_long}")), Err("int_parsing"));
        assert_eq!(
            Int::Big("-99999999999999999999".into())
                .into_value()
                .to_string(),
            "-99999999999999999999"
        );
    }

    #[test]
    fn numbers_follow_pydantic() {
        let int = |text: &str| {
            let value: Value = serde_json::from_str(text).unwrap();
            lax_int(&value).map(Int::into_value).map_err(|e| e.0)
        };
        assert_eq!(
            int("99999999999999999999").unwrap().to_string(),
            "99999999999999999999"
        );
        assert_eq!(int("-0"), Ok(json!(0)));
        assert_eq!(int("5.0"), Ok(json!(5)));
        assert_eq!(int("1e3"), Ok(json!(1000)));
        // The f64 next above -2^63.
        assert_eq!(
            int("-9223372036854774784.0"),
            Ok(json!(-9_223_372_036_854_774_784i64))
        );
        assert_eq!(int("5.5"), Err("int_from_float"));
        // Both of float_as_int's bounds are exclusive: -2^63 as a float is refused.
        for past_i64 in [
            "9223372036854775808.0",
            "-9223372036854775808.0",
            "1e20",
            "-1e300",
        ] {
            assert_eq!(int(past_i64), Err("int_parsing_size"), "{past_i64}");
        }
        assert_eq!(int("true"), Ok(json!(1)));
    }

    #[test]
    fn bools_follow_pydantic() {
        for (input, expected) in [
            (json!("YES"), true),
            (json!("off"), false),
            (json!(1.0), true),
        ] {
            assert_eq!(lax_bool(&input), Ok(expected));
        }
        for input in [
            json!(2),
            json!(2.0),
            json!(-1),
            json!(""),
            json!(" true"),
            json!("maybe"),
        ] {
            assert_eq!(
                lax_bool(&input).map_err(|e| e.0),
                Err("bool_parsing"),
                "{input}"
            );
        }
        // A number with a fraction is no boolean at all, as the FastAPI oracle answers.
        for input in [json!([]), json!(0.5), json!(1e-3)] {
            assert_eq!(
                lax_bool(&input).map_err(|e| e.0),
                Err("bool_type"),
                "{input}"
            );
        }
    }
}
