//! Reading a request body the way FastAPI does before any validation: size limit, UTF-8, JSON.

use axum::body::Body;
use axum::http::{HeaderMap, header};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::{Value, json};

use crate::errors::{ApiError, FieldError};
use crate::faults::Faults;

/// Bodies over this many bytes are refused with 413 (the contract's 1 MiB).
pub(crate) const MAX_BODY: usize = 1024 * 1024;
/// The limit under [`Faults::limits_bodies_to_256_kib`].
const SMALL_MAX_BODY: usize = 256 * 1024;

/// What FastAPI hands to body validation.
#[derive(Debug)]
pub(crate) enum Received {
    /// An empty body: the required body parameter is `missing`.
    Missing,
    /// The value of a body parsed as JSON (content type absent, `application/json` or
    /// `application/*+json`), with numbers as Python's `json.loads` holds them: an integer
    /// literal exactly, whatever its size; any other number as the nearest `f64`.
    Json(Value),
    /// A body with another content type, which FastAPI validates as a string.
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

/// Reads and decodes the body: 413 when over [`MAX_BODY`], 400 when unreadable or not UTF-8,
/// 422 `json_invalid` when a JSON body does not parse.
pub(crate) async fn read(
    headers: &HeaderMap,
    body: Body,
    faults: Faults,
) -> Result<Received, ApiError> {
    let limit = if faults.limits_bodies_to_256_kib() {
        SMALL_MAX_BODY
    } else {
        MAX_BODY
    };
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
    // Python's json.loads(bytes) accepts a UTF-8 byte order mark.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) if faults.reports_non_utf8_as_json_invalid() => {
            // The decode error surfaces as a JSON error at the first bad byte.
            let valid = std::str::from_utf8(&bytes[..error.valid_up_to()]).unwrap_or("");
            return Err(json_invalid_at(
                valid.chars().count(),
                "'utf-8' codec can't decode byte",
            ));
        }
        Err(_) => return Err(ApiError::BodyParse),
    };
    if !is_json_content_type(headers) && !faults.parses_any_content_type() {
        return Ok(Received::Raw(text.to_owned()));
    }
    let parsed = serde_json::from_str::<Value>(text);
    // Python reads left to right, so a number problem only counts before a syntax error.
    let readable = match &parsed {
        Ok(_) => text,
        Err(error) => &text[..byte_offset(text, error.line(), error.column())],
    };
    match number_problem(readable) {
        Some((_, NumberProblem::TooManyDigits)) => return Err(ApiError::BodyParse),
        Some((at, NumberProblem::OutOfRange)) => {
            return Err(json_invalid_at(
                char_offset_of(text, at),
                "Number out of range",
            ));
        }
        None => {}
    }
    let mut value = parsed.map_err(|error| json_invalid(text, &error))?;
    read_as_python(&mut value);
    Ok(Received::Json(value))
}

/// CPython refuses to convert an integer literal with more digits than this
/// (`sys.get_int_max_str_digits()`), and `json.loads` lets that `ValueError` out.
const MAX_INT_DIGITS: usize = 4300;

/// A number literal the service cannot take.
#[derive(Debug, Clone, Copy, PartialEq)]
enum NumberProblem {
    /// An integer literal over [`MAX_INT_DIGITS`] digits: a plain `ValueError` in `json.loads`,
    /// which FastAPI answers with 400, not with `json_invalid`.
    TooManyDigits,
    /// A number beyond `f64` (`1e400`): Python reads infinity, which nothing downstream can
    /// store or write back as JSON, so it is refused as JSON (see the crate docs' choices).
    OutOfRange,
}

/// The first number literal of `text` (a JSON text, maybe cut short) that cannot be read, with
/// its byte offset.
fn number_problem(text: &str) -> Option<(usize, NumberProblem)> {
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
                i += 1;
                while i < bytes.len()
                    && matches!(bytes[i], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-')
                {
                    i += 1;
                }
                let literal = &text[start..i];
                let integer = !literal.contains(['.', 'e', 'E']);
                let digits = literal.bytes().filter(u8::is_ascii_digit).count();
                if integer && digits > MAX_INT_DIGITS {
                    return Some((start, NumberProblem::TooManyDigits));
                }
                if !integer && literal.parse::<f64>().is_ok_and(f64::is_infinite) {
                    return Some((start, NumberProblem::OutOfRange));
                }
            }
            _ => i += 1,
        }
    }
    None
}

/// Rewrites numbers as `json.loads` holds them: an integer literal is a Python `int` (`-0` is
/// 0), anything with a fraction or exponent a `float`, so `0.1000000000000000055` is stored and
/// written back as `0.1`. Recursion is bounded by serde_json's nesting limit.
fn read_as_python(value: &mut Value) {
    match value {
        Value::Number(n) => {
            if n.as_str().contains(['.', 'e', 'E']) {
                // Finite: `number_problem` refused the rest before parsing.
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

/// FastAPI parses the body as JSON only when the content type is `application/json` or
/// `application/<anything>+json` (parameters and case ignored); without one, the body is text
/// that validation refuses, as the FastAPI oracle answers.
fn is_json_content_type(headers: &HeaderMap) -> bool {
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
fn json_invalid(text: &str, error: &serde_json::Error) -> ApiError {
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
    let mut position = char_offset_of(text, byte_offset(text, error.line(), error.column()));
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
fn json_invalid_at(position: usize, python_reason: &str) -> ApiError {
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

/// The character offset of a byte offset, as Python's `JSONDecodeError.pos` counts.
fn char_offset_of(text: &str, byte: usize) -> usize {
    text[..byte].chars().count()
}

#[cfg(test)]
mod tests {
    use super::{NumberProblem, number_problem, read_as_python};
    use serde_json::{Value, json};

    #[test]
    fn number_problems_are_found_outside_strings_only() {
        let long = format!("[1, {}]", "9".repeat(4301));
        assert_eq!(
            number_problem(&long),
            Some((4, NumberProblem::TooManyDigits))
        );
        assert_eq!(number_problem(&format!("[-{}]", "9".repeat(4300))), None);
        assert_eq!(
            number_problem("{\"a\": -1e400}"),
            Some((6, NumberProblem::OutOfRange))
        );
        assert_eq!(
            number_problem("[1e308, 1e-400, 99999999999999999999, \"1e400\", \"\\\"1e400\"]"),
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
}
