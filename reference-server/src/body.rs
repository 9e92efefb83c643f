//! Reading a request body the way FastAPI does before any validation: size limit, UTF-8, JSON.

use axum::body::Body;
use axum::http::{HeaderMap, header};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::{Value, json};

use crate::errors::{ApiError, FieldError};

/// Bodies over this many bytes are refused with 413 (the contract's 1 MiB).
pub(crate) const MAX_BODY: usize = 1024 * 1024;

/// What FastAPI hands to body validation.
#[derive(Debug)]
pub(crate) enum Received {
    /// An empty body: the required body parameter is `missing`.
    Missing,
    /// The value of a body parsed as JSON (content type absent, `application/json` or
    /// `application/*+json`), and whether its text has an integer literal beyond 64 bits
    /// (which serde_json can only keep as an inexact `f64`).
    Json(Value, bool),
    /// A body with another content type, which FastAPI validates as a string.
    Raw(String),
}

impl Received {
    /// The value validation sees; `Missing` is handled by the caller.
    pub fn value(&self) -> Value {
        match self {
            Received::Missing => Value::Null,
            Received::Json(value, _) => value.clone(),
            Received::Raw(text) => Value::from(text.as_str()),
        }
    }
}

/// Reads and decodes the body: 413 when over [`MAX_BODY`], 400 when unreadable or not UTF-8,
/// 422 `json_invalid` when a JSON body does not parse.
pub(crate) async fn read(headers: &HeaderMap, body: Body) -> Result<Received, ApiError> {
    // Refuse a declared oversize body without reading it.
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|len| len > MAX_BODY as u64) {
        return Err(ApiError::TooLarge);
    }
    let bytes = match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) if error.is::<LengthLimitError>() => return Err(ApiError::TooLarge),
        Err(_) => return Err(ApiError::BodyParse),
    };
    if bytes.is_empty() {
        return Ok(Received::Missing);
    }
    // Python's json.loads(bytes) accepts a UTF-8 byte order mark.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Err(ApiError::BodyParse);
    };
    if !is_json_content_type(headers) {
        return Ok(Received::Raw(text.to_owned()));
    }
    serde_json::from_str(text)
        .map(|value| Received::Json(value, has_big_integer_literal(text)))
        .map_err(|error| json_invalid(text, &error))
}

/// Whether valid JSON `text` has an integer literal (no fraction, no exponent) outside both
/// the i64 and the u64 range.
fn has_big_integer_literal(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                // Skip the string; JSON is valid, so it is terminated.
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                i += 1;
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
                let integral = !matches!(bytes.get(i), Some(b'.' | b'e' | b'E'));
                let literal = &text[start..i];
                if integral && literal.parse::<i64>().is_err() && literal.parse::<u64>().is_err() {
                    return true;
                }
                while i < bytes.len()
                    && matches!(bytes[i], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-')
                {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    false
}

/// FastAPI parses the body as JSON when there is no content type, or when it is
/// `application/json` or `application/<anything>+json` (parameters and case ignored).
fn is_json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return true;
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
    let mut position = char_offset(text, error.line(), error.column());
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

/// Converts serde_json's 1-based line and byte column into a character offset, as Python's
/// `JSONDecodeError.pos` counts.
fn char_offset(text: &str, line: usize, column: usize) -> usize {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let mut byte = (line_start + column.saturating_sub(1)).min(text.len());
    while !text.is_char_boundary(byte) {
        byte -= 1;
    }
    text[..byte].chars().count()
}

#[cfg(test)]
mod tests {
    use super::has_big_integer_literal;

    #[test]
    fn big_integer_literals_are_found_outside_strings_only() {
        assert!(has_big_integer_literal("[18446744073709551616]"));
        assert!(has_big_integer_literal("{\"a\": -9223372036854775809}"));
        assert!(!has_big_integer_literal(
            "[18446744073709551615, -9223372036854775808]"
        ));
        assert!(!has_big_integer_literal(
            "[1e300, 123456789012345678901234.5]"
        ));
        assert!(!has_big_integer_literal(
            "[\"123456789012345678901234567890\", \"\\\"1\"]"
        ));
    }
}
