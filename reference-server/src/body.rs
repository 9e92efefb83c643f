//! Reading a request body the way FastAPI does before any validation: size limit, content
//! type, then Python's `json.loads(bytes)`: the encoding detected from the first bytes (UTF-8
//! with or without a byte order mark, UTF-16, UTF-32), and the tokens `NaN`, `Infinity`,
//! `-Infinity` and numbers beyond `f64` read as Python's non-finite floats.

use axum::body::Body;
use axum::http::{HeaderMap, header};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::{Number, Value, json};

use crate::errors::{ApiError, FieldError};

/// Bodies over this many bytes are refused with 413 (the contract's 1 MiB).
pub(crate) const MAX_BODY: usize = 1024 * 1024;

/// What FastAPI hands to body validation.
#[derive(Debug)]
pub(crate) enum Received {
    /// An empty body: the required body parameter is `missing`.
    Missing,
    /// The value of a body parsed as JSON (content type `application/json` or
    /// `application/*+json`), with numbers as Python's `json.loads` holds them: an integer
    /// literal exactly, whatever its size; any other number as the nearest `f64`; `NaN`,
    /// `Infinity` and `-Infinity` (`1e400` too) as numbers holding those tokens, which
    /// [`is_non_finite`] recognises and [`as_written`] writes as null.
    Json(Value),
    /// A body with no or another content type, which FastAPI validates undecoded (here as
    /// text, invalid UTF-8 replaced: only its type matters to validation).
    Raw(String),
}

impl Received {
    /// The value validation sees; `Missing` is handled by the caller.
    pub fn value(&self) -> Value {
        match self {
            Received::Missing => Value::Null,
            Received::Json(value) => value.clone(),
            Received::Raw(text) => Value::from(text.as_str()),
        }
    }
}

/// A declared oversize body up to this many bytes is read and dropped before the 413.
const DRAINED_BODY: u64 = 8 * 1024 * 1024;

/// Reads a body to its end without keeping it; false when it broke off.
async fn discard(mut body: Body) -> bool {
    loop {
        match body.frame().await {
            None => return true,
            Some(Ok(_)) => {}
            Some(Err(_)) => return false,
        }
    }
}

/// Reads and decodes the body: 413 when over `limit` bytes (the server's is [`MAX_BODY`]), 400
/// when unreadable or a JSON body Python cannot decode, 422 `json_invalid` when a JSON body does
/// not parse.
pub(crate) async fn read(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Received, ApiError> {
    // Refuse a declared oversize body without reading it.
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(len) = declared.filter(|len| *len > limit as u64) {
        // A client still sending a body that is not much larger gets its 413 after the body,
        // as a proxy's lingering close gives it, instead of a reset while it writes.
        let read_to_end = len <= DRAINED_BODY && discard(body).await;
        return Err(ApiError::TooLarge { read_to_end });
    }
    let bytes = match Limited::new(body, limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) if error.is::<LengthLimitError>() => {
            return Err(ApiError::TooLarge { read_to_end: false });
        }
        Err(_) => return Err(ApiError::BodyParse),
    };
    if bytes.is_empty() {
        return Ok(Received::Missing);
    }
    if !is_json_content_type(headers) {
        // FastAPI hands the bytes themselves to validation, undecoded.
        return Ok(Received::Raw(String::from_utf8_lossy(&bytes).into_owned()));
    }
    let decoded = match python_decode(&bytes) {
        Ok(text) => text,
        Err(_) => return Err(ApiError::BodyParse),
    };
    let text = decoded.as_ref();
    let (rewritten, rewrites) = python_tokens(text);
    if let Some(at) = too_deep(&rewritten) {
        return Err(json_invalid_at(
            text[..char_boundary(text, original_offset(at, &rewrites))]
                .chars()
                .count(),
            "Maximum nesting depth exceeded",
        ));
    }
    let parsed = parse_unbounded(&rewritten);
    // Python reads left to right, so a number problem only counts before a syntax error.
    let readable = match &parsed {
        Ok(_) => text,
        Err(error) => {
            let at = byte_offset(&rewritten, error.line(), error.column());
            &text[..char_boundary(text, original_offset(at, &rewrites))]
        }
    };
    if number_problem(readable).is_some() {
        return Err(ApiError::BodyParse);
    }
    let mut value = parsed.map_err(|error| json_invalid(text, &rewritten, &rewrites, &error))?;
    read_as_python(&mut value);
    Ok(Received::Json(value))
}

/// The deepest nesting of arrays and objects a body may have. Python reads far deeper (its
/// recursion limit), and FastAPI stores `dynamic_variables` up to 254 levels (validation
/// refuses 255 and more: `validate::schema`), under a workflow object under the body: 257
/// levels must be read to say so. Past this the body is `json_invalid`, so recursion over a
/// body (parsing, `read_as_python`, writing it back) stays far inside a thread's stack.
pub(crate) const MAX_NESTING: usize = 320;

/// The byte offset in `text` (JSON) at which its nesting exceeds [`MAX_NESTING`], if it does.
fn too_deep(text: &str) -> Option<usize> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (i, b) in text.bytes().enumerate() {
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
                if depth > MAX_NESTING {
                    return Some(i);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// `text` parsed without serde_json's 128-level limit: [`too_deep`] bounds it instead.
fn parse_unbounded(text: &str) -> Result<Value, serde_json::Error> {
    let mut reader = serde_json::Deserializer::from_str(text);
    reader.disable_recursion_limit();
    let value = serde::Deserialize::deserialize(&mut reader)?;
    reader.end()?;
    Ok(value)
}

/// The end of the number literal starting at `start` (its sign or first digit): the run of
/// digits, `.`, exponents and signs after it, as the scanners here read one.
fn number_end(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < bytes.len() && matches!(bytes[i], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-') {
        i += 1;
    }
    i
}

/// Decodes a body as Python's `json.loads(bytes)` does (`json.detect_encoding`): UTF-32 or
/// UTF-16 by their byte order mark, UTF-8 with one skipped, else by where the zero bytes of
/// the first four sit (JSON text starts with an ASCII character), else UTF-8. `Err` holds how
/// many leading bytes are valid UTF-8.
pub(crate) fn python_decode(bytes: &[u8]) -> Result<std::borrow::Cow<'_, str>, usize> {
    use std::borrow::Cow;
    fn utf8(b: &[u8]) -> Result<Cow<'_, str>, usize> {
        std::str::from_utf8(b)
            .map(Cow::Borrowed)
            .map_err(|e| e.valid_up_to())
    }
    let utf32 = |b: &[u8], be: bool| decode_utf32(b, be).map(Cow::Owned).ok_or(0);
    let utf16 = |b: &[u8], be: bool| decode_utf16(b, be).map(Cow::Owned).ok_or(0);
    match bytes {
        [0xFF, 0xFE, 0, 0, rest @ ..] => utf32(rest, false),
        [0, 0, 0xFE, 0xFF, rest @ ..] => utf32(rest, true),
        [0xFF, 0xFE, rest @ ..] => utf16(rest, false),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, true),
        [0xEF, 0xBB, 0xBF, rest @ ..] => utf8(rest),
        [0, 0, _, _, ..] => utf32(bytes, true),
        [0, _, _, _, ..] => utf16(bytes, true),
        [_, 0, 0, 0, ..] => utf32(bytes, false),
        [_, 0, _, _, ..] => utf16(bytes, false),
        [0, _] => utf16(bytes, true),
        [_, 0] => utf16(bytes, false),
        _ => utf8(bytes),
    }
}

/// UTF-16 as Python decodes it; `None` for an odd length or an unpaired surrogate (which
/// Python's `surrogatepass` would let through into a string nothing can write back).
fn decode_utf16(bytes: &[u8], big_endian: bool) -> Option<String> {
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    let units = bytes.chunks_exact(2).map(|pair| {
        let pair = [pair[0], pair[1]];
        if big_endian {
            u16::from_be_bytes(pair)
        } else {
            u16::from_le_bytes(pair)
        }
    });
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .ok()
}

/// UTF-32 as Python decodes it; `None` for a length that is not a multiple of four, a code
/// point past U+10FFFF or a surrogate.
fn decode_utf32(bytes: &[u8], big_endian: bool) -> Option<String> {
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    bytes
        .chunks_exact(4)
        .map(|quad| {
            let quad = [quad[0], quad[1], quad[2], quad[3]];
            char::from_u32(if big_endian {
                u32::from_be_bytes(quad)
            } else {
                u32::from_le_bytes(quad)
            })
        })
        .collect()
}

/// A JSON number literal serde_json keeps as written (`arbitrary_precision`) that stands for
/// one of Python's non-finite floats until [`read_as_python`] swaps it back. The exponent's run
/// of zeros keeps it apart from anything a client writes: [`python_tokens`] rewrites a client's
/// literal of this shape to plain `0.0`, which is the same float.
const NON_FINITE_PREFIX: &str = "0.0e-000000000000000000000000000000";
/// What each sentinel suffix stands for, as the tokens Python's reader takes.
const NON_FINITE: [(&str, &str); 3] = [("1", "NaN"), ("2", "Infinity"), ("3", "-Infinity")];

/// A rewrite of the text: at this byte offset of the rewritten text, this many bytes were
/// added (positive) or removed (negative) relative to the original.
type Rewrite = (usize, isize);

/// Python's extensions to JSON, rewritten for serde_json: the tokens `NaN`, `Infinity` and
/// `-Infinity`, and number literals beyond `f64` (Python's infinity), each becomes a
/// [`NON_FINITE_PREFIX`] sentinel. Strings are skipped. Returns the text and where it grew or
/// shrank, to map serde_json's error offsets back.
fn python_tokens(text: &str) -> (std::borrow::Cow<'_, str>, Vec<Rewrite>) {
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut rewrites = Vec::new();
    let mut copied = 0;
    let mut i = 0;
    let mut replace =
        |out: &mut String, copied: &mut usize, start: usize, end: usize, new: &str| {
            out.push_str(&text[*copied..start]);
            out.push_str(new);
            *copied = end;
            let delta = new.len() as isize - (end - start) as isize;
            rewrites.push((out.len(), delta));
        };
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'N' if text[i..].starts_with("NaN") => {
                let sentinel = format!("{NON_FINITE_PREFIX}1");
                replace(&mut out, &mut copied, i, i + 3, &sentinel);
                i += 3;
            }
            b'I' if text[i..].starts_with("Infinity") => {
                let sentinel = format!("{NON_FINITE_PREFIX}2");
                replace(&mut out, &mut copied, i, i + 8, &sentinel);
                i += 8;
            }
            b'-' if text[i..].starts_with("-Infinity") => {
                let sentinel = format!("{NON_FINITE_PREFIX}3");
                replace(&mut out, &mut copied, i, i + 9, &sentinel);
                i += 9;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                i = number_end(bytes, i);
                let literal = &text[start..i];
                let float = literal.contains(['.', 'e', 'E']);
                if literal.starts_with(NON_FINITE_PREFIX) {
                    replace(&mut out, &mut copied, start, i, "0.0");
                } else if float && literal.parse::<f64>().is_ok_and(f64::is_infinite) {
                    let sign = if literal.starts_with('-') { "3" } else { "2" };
                    let sentinel = format!("{NON_FINITE_PREFIX}{sign}");
                    replace(&mut out, &mut copied, start, i, &sentinel);
                }
            }
            _ => i += 1,
        }
    }
    if rewrites.is_empty() {
        return (std::borrow::Cow::Borrowed(text), rewrites);
    }
    out.push_str(&text[copied..]);
    (std::borrow::Cow::Owned(out), rewrites)
}

/// The byte offset in the original text of a byte offset in the rewritten one.
fn original_offset(rewritten: usize, rewrites: &[Rewrite]) -> usize {
    let shift: isize = rewrites
        .iter()
        .filter(|(at, _)| *at <= rewritten)
        .map(|(_, delta)| delta)
        .sum();
    rewritten.saturating_add_signed(-shift)
}

/// CPython refuses to convert an integer literal with more digits than this
/// (`sys.get_int_max_str_digits()`), and `json.loads` lets that `ValueError` out.
const MAX_INT_DIGITS: usize = 4300;

/// The byte offset of the first integer literal of `text` (a JSON text, maybe cut short) with
/// more than [`MAX_INT_DIGITS`] digits: a plain `ValueError` in `json.loads`, which FastAPI
/// answers with 400, not with `json_invalid`.
fn number_problem(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                // Skip the string, escapes included; an unterminated one runs to the end.
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                i = number_end(bytes, i);
                let literal = &text[start..i];
                let integer = !literal.contains(['.', 'e', 'E']);
                let digits = literal.bytes().filter(u8::is_ascii_digit).count();
                if integer && digits > MAX_INT_DIGITS {
                    return Some(start);
                }
            }
            _ => i += 1,
        }
    }
    None
}

/// Rewrites numbers as `json.loads` holds them: an integer literal is a Python `int` (`-0` is
/// 0), anything with a fraction or exponent a `float`, so `0.1000000000000000055` is stored and
/// written back as `0.1`. Recursion is bounded by [`MAX_NESTING`].
fn read_as_python(value: &mut Value) {
    match value {
        Value::Number(n) => {
            if let Some(suffix) = n.as_str().strip_prefix(NON_FINITE_PREFIX) {
                let token = NON_FINITE
                    .iter()
                    .find(|(s, _)| *s == suffix)
                    .map_or("NaN", |(_, token)| token);
                *value = Value::Number(Number::from_string_unchecked(token.to_owned()));
            } else if n.as_str().contains(['.', 'e', 'E']) {
                // Finite: `python_tokens` made sentinels of the rest.
                if let Some(float) = n.as_f64() {
                    *value = Value::from(float);
                }
            } else if let Some(int) = n.as_i64() {
                *value = Value::from(int);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(read_as_python),
        Value::Object(map) => map.values_mut().for_each(read_as_python),
        _ => {}
    }
}

/// Whether a number read from a body is one of Python's non-finite floats (`NaN`, `Infinity`,
/// `-Infinity`, or a literal beyond `f64`), which the body holds as those tokens.
pub(crate) fn is_non_finite(n: &Number) -> bool {
    NON_FINITE.iter().any(|(_, token)| n.as_str() == *token)
}

/// A value as pydantic's JSON writer writes it (`ser_json_inf_nan='null'`): non-finite floats
/// as null, at any depth. What a store of JSON keeps of `dynamic_variables`, and what an error
/// echoes as its `input`. Recursion is bounded by [`MAX_NESTING`].
pub(crate) fn as_written(value: &Value) -> Value {
    match value {
        Value::Number(n) if is_non_finite(n) => Value::Null,
        Value::Array(items) => Value::Array(items.iter().map(as_written).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, value)| (key.clone(), as_written(value)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// FastAPI parses the body as JSON only when the content type is `application/json` or
/// `application/<anything>+json` (parameters and case ignored); without one, the body is text
/// that validation refuses, as the FastAPI oracle answers.
pub(crate) fn is_json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return false;
    };
    let value = String::from_utf8_lossy(value.as_bytes());
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    // Python's email.message falls back to text/plain unless there is exactly one slash.
    match essence.split_once('/') {
        Some((main, sub)) if !sub.contains('/') => {
            main == "application" && (sub == "json" || sub.ends_with("+json"))
        }
        _ => false,
    }
}

/// FastAPI's 422 for a body that is not JSON: the character offset and Python's reason.
fn json_invalid(
    text: &str,
    rewritten: &str,
    rewrites: &[Rewrite],
    error: &serde_json::Error,
) -> ApiError {
    let message = error.to_string();
    let reason = message.split(" at line ").next().unwrap_or("");
    let python_reason = match reason {
        "EOF while parsing a string" => "Unterminated string starting at",
        r if r.starts_with("control character") => "Invalid control character at",
        "invalid escape" => "Invalid \\escape",
        "invalid unicode code point"
        | "lone leading surrogate in hex escape"
        | "unexpected end of hex escape" => "Invalid \\uXXXX escape",
        "key must be a string" => "Expecting property name enclosed in double quotes",
        "expected `:`" => "Expecting ':' delimiter",
        "expected `,` or `}`"
        | "expected `,` or `]`"
        | "EOF while parsing an object"
        | "EOF while parsing a list" => "Expecting ',' delimiter",
        "trailing characters" => "Extra data",
        "recursion limit exceeded" => "Maximum nesting depth exceeded",
        "number out of range" => "Number out of range",
        _ => "Expecting value",
    };
    let at = original_offset(
        byte_offset(rewritten, error.line(), error.column()),
        rewrites,
    );
    let mut position = char_offset_of(text, char_boundary(text, at));
    if python_reason == "Expecting value" {
        // serde_json reports a bad literal (`nul`, `NaN`, `-`) where it gave up; Python
        // reports where the value starts.
        let chars: Vec<char> = text.chars().take(position).collect();
        while position > 0
            && chars
                .get(position - 1)
                .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '+' | '.'))
        {
            position -= 1;
        }
    }
    json_invalid_at(position, python_reason)
}

/// FastAPI's `json_invalid` at a character offset of the body.
pub(crate) fn json_invalid_at(position: usize, python_reason: &str) -> ApiError {
    ApiError::validation(vec![
        FieldError::new(
            "json_invalid",
            &[Value::from("body"), Value::from(position)],
            "JSON decode error",
            json!({}),
        )
        .with_ctx(json!({ "error": python_reason })),
    ])
}

/// Converts serde_json's 1-based line and byte column into a byte offset on a char boundary.
fn byte_offset(text: &str, line: usize, column: usize) -> usize {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let mut byte = (line_start + column.saturating_sub(1)).min(text.len());
    while !text.is_char_boundary(byte) {
        byte -= 1;
    }
    byte
}

/// The last char boundary of `text` at or before `byte`.
fn char_boundary(text: &str, byte: usize) -> usize {
    let mut byte = byte.min(text.len());
    while !text.is_char_boundary(byte) {
        byte -= 1;
    }
    byte
}

/// The character offset of a byte offset, as Python's `JSONDecodeError.pos` counts.
fn char_offset_of(text: &str, byte: usize) -> usize {
    text[..byte].chars().count()
}

#[cfg(test)]
mod tests {
    use super::{as_written, number_problem, python_decode, python_tokens, read_as_python};
    use serde_json::{Value, json};

    #[test]
    fn number_problems_are_found_outside_strings_only() {
        let long = format!("[1, {}]", "9".repeat(4301));
        assert_eq!(number_problem(&long), Some(4));
        assert_eq!(number_problem(&format!("[-{}]", "9".repeat(4300))), None);
        assert_eq!(
            number_problem(&format!("[\"{}\", 1e400]", "9".repeat(4301))),
            None
        );
    }

    #[test]
    fn numbers_are_read_as_python_reads_them() {
        let mut value: Value = serde_json::from_str(
            "[-0, 99999999999999999999, 0.1000000000000000055511151231257827, 1E2, -0.0, 1e-400]",
        )
        .unwrap();
        read_as_python(&mut value);
        assert_eq!(
            value.to_string(),
            "[0,99999999999999999999,0.1,100.0,-0.0,0.0]"
        );
        assert_eq!(value[0], json!(0));
    }

    fn python_json(text: &str) -> Value {
        let (rewritten, _) = python_tokens(text);
        let mut value = serde_json::from_str(&rewritten).unwrap();
        read_as_python(&mut value);
        value
    }

    #[test]
    fn pythons_non_finite_numbers_are_read_and_written_as_null() {
        let value = python_json(
            "[NaN, Infinity, -Infinity, 1e400, -1E+400, \"NaN\", \"\\\"Infinity\", 1e308]",
        );
        assert_eq!(
            value.to_string(),
            "[NaN,Infinity,-Infinity,Infinity,-Infinity,\"NaN\",\"\\\"Infinity\",1e+308]"
        );
        assert_eq!(
            as_written(&value),
            json!([null, null, null, null, null, "NaN", "\"Infinity", 1e308])
        );
        // A client's literal shaped like the sentinel is the float it spells.
        let sentinel_shaped = format!("[{}1]", super::NON_FINITE_PREFIX);
        assert_eq!(python_json(&sentinel_shaped), json!([0.0]));
    }

    #[test]
    fn encodings_are_detected_as_json_detect_encoding_does() {
        let decode = |bytes: &[u8]| python_decode(bytes).map(|text| text.into_owned());
        assert_eq!(decode(b"{}").as_deref(), Ok("{}"));
        assert_eq!(decode(b"\xEF\xBB\xBF{}").as_deref(), Ok("{}"));
        assert_eq!(decode(b"\xFF\xFE{\0}\0").as_deref(), Ok("{}"));
        assert_eq!(decode(b"\xFE\xFF\0{\0}").as_deref(), Ok("{}"));
        assert_eq!(decode(b"{\0}\0").as_deref(), Ok("{}"));
        assert_eq!(decode(b"\x001").as_deref(), Ok("1"));
        assert_eq!(decode(b"1\0").as_deref(), Ok("1"));
        assert_eq!(decode(b"\xFF\xFE\0\0\x31\0\0\0").as_deref(), Ok("1"));
        assert_eq!(decode(b"\0\0\0{\0\0\0}").as_deref(), Ok("{}"));
        assert_eq!(decode(b"{\0\0\0}\0\0\0").as_deref(), Ok("{}"));
        assert_eq!(decode(b"\xFF\xFE").as_deref(), Ok(""));
        assert_eq!(decode(b"{\0}\0 "), Err(0));
        assert_eq!(decode(b"{\"\xc3\x28\"}"), Err(2));
    }
}
