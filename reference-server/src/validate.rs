//! pydantic v2 lax-mode validation of request bodies, query and path parameters.
//!
//! Each function mirrors what pydantic-core does for the field's Python type in lax mode (FastAPI
//! validates bodies with `validate_python(..., from_attributes=True)` after `json.loads`), with the
//! same error `type`, `msg` and `ctx`. Errors accumulate: one entry per violation, in field order.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde_json::{Map, Number, Value, json};

use crate::Fault;
use crate::errors::{ApiError, FieldError};

/// The values of `SimulationStatus`, in the enum's order.
pub(crate) const STATUSES: [&str; 5] = ["pending", "running", "completed", "failed", "cancelled"];
const ENUM_EXPECTED: &str = "'pending', 'running', 'completed', 'failed' or 'cancelled'";
/// Length of `workflow_id`, `run_id`, the filters on them and the path id.
pub(crate) const ID_LEN: usize = 24;

const MSG_STRING_TYPE: &str = "Input should be a valid string";
const MSG_INT_TYPE: &str = "Input should be a valid integer";
const MSG_INT_PARSING: &str =
    "Input should be a valid integer, unable to parse string as an integer";
const MSG_INT_FROM_FLOAT: &str =
    "Input should be a valid integer, got a number with a fractional part";
const MSG_INT_SIZE: &str = "Unable to parse input string as an integer, exceeded maximum size";
const MSG_FINITE: &str = "Input should be a finite number";
const MSG_BOOL_TYPE: &str = "Input should be a valid boolean";
const MSG_BOOL_PARSING: &str = "Input should be a valid boolean, unable to interpret input";
const MSG_DICT_TYPE: &str = "Input should be a valid dictionary";
const MSG_MODEL_ATTRIBUTES: &str =
    "Input should be a valid dictionary or object to extract fields from";

/// The type of one field, as the models declare it.
#[derive(Clone, Copy)]
enum Kind {
    Str,
    /// A string of exactly [`ID_LEN`] characters.
    Str24,
    Int,
    Bool,
    Status,
    /// `Dict[str, Any]`: any JSON object, stored as sent.
    Dict,
    /// The nested `SimulationWorkflowDetails` model (not nullable).
    Workflow,
}

const CONFIG_FIELDS: [(&str, Kind); 9] = [
    ("logical_id", Kind::Str),
    ("description", Kind::Str),
    ("selected_workflow", Kind::Workflow),
    ("counter_workflow", Kind::Workflow),
    ("timeout_seconds", Kind::Int),
    ("max_events", Kind::Int),
    ("number_of_simulations", Kind::Int),
    ("stop_on_failure", Kind::Bool),
    ("status", Kind::Status),
];

const WORKFLOW_FIELDS: [(&str, Kind); 7] = [
    ("workflow_id", Kind::Str24),
    ("dynamic_variables", Kind::Dict),
    ("name", Kind::Str),
    ("total_events", Kind::Int),
    ("total_nodes", Kind::Int),
    ("total_duration_seconds", Kind::Int),
    ("run_id", Kind::Str24),
];

/// The default stored for an absent `SimulationWorkflowDetails` field.
fn workflow_default(field: &str) -> Value {
    match field {
        "dynamic_variables" => Value::Object(Map::new()),
        "total_events" | "total_nodes" | "total_duration_seconds" => Value::from(0),
        _ => Value::Null,
    }
}

/// A complete `SimulationWorkflowDetails` with every default.
pub(crate) fn default_workflow() -> Value {
    let object = WORKFLOW_FIELDS
        .iter()
        .map(|(name, _)| ((*name).to_owned(), workflow_default(name)))
        .collect();
    Value::Object(object)
}

/// The default stored for an absent `SimulationConfig` field.
pub(crate) fn config_default(field: &str, fault: Option<Fault>) -> Value {
    match field {
        "selected_workflow" | "counter_workflow" => default_workflow(),
        "max_events" if fault == Some(Fault::WrongDefaultMaxEvents) => Value::from(100),
        "max_events" => Value::from(500),
        "number_of_simulations" => Value::from(1),
        "stop_on_failure" => Value::Bool(false),
        "status" => Value::from("pending"),
        _ => Value::Null,
    }
}

fn loc_with(loc: &[Value], key: &str) -> Vec<Value> {
    let mut out = loc.to_vec();
    out.push(Value::from(key));
    out
}

/// Validates the create body (`SimulationConfig`) and returns the canonical stored config:
/// every field present, defaults for what was absent, unknown keys dropped.
pub(crate) fn create_body(
    body: &Value,
    fault: Option<Fault>,
) -> Result<Map<String, Value>, ApiError> {
    let loc = [Value::from("body")];
    let Value::Object(object) = body else {
        return Err(ApiError::validation(vec![FieldError::new(
            "model_attributes_type",
            &loc,
            MSG_MODEL_ATTRIBUTES,
            body.clone(),
        )]));
    };
    let mut errors = Vec::new();
    let mut config = Map::new();
    for (name, kind) in CONFIG_FIELDS {
        let value = match object.get(name) {
            None => config_default(name, fault),
            Some(Value::Null)
                if name == "description" && fault == Some(Fault::RejectNullDescription) =>
            {
                errors.push(FieldError::new(
                    "string_type",
                    &loc_with(&loc, name),
                    MSG_STRING_TYPE,
                    Value::Null,
                ));
                continue;
            }
            Some(Value::Null) if fault == Some(Fault::NullStoredAsDefault) => {
                config_default(name, fault)
            }
            Some(value) => match check(kind, value, &loc_with(&loc, name), fault, &mut errors) {
                Some(value) => value,
                None => continue,
            },
        };
        config.insert(name.to_owned(), value);
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    if fault == Some(Fault::UnknownKeysEchoed) {
        for (key, value) in object {
            config.entry(key.clone()).or_insert_with(|| value.clone());
        }
    }
    if fault == Some(Fault::CrashOnNonBmpLogicalId)
        && let Some(Value::String(id)) = config.get("logical_id")
        && id.chars().any(|c| u32::from(c) > 0xFFFF)
    {
        return Err(ApiError::Internal);
    }
    if fault == Some(Fault::CrashOnDeepDynamicVariables) {
        for workflow in ["selected_workflow", "counter_workflow"] {
            if let Some(dv) = config
                .get(workflow)
                .and_then(|w| w.get("dynamic_variables"))
                && depth(dv) > 3
            {
                return Err(ApiError::Internal);
            }
        }
    }
    Ok(config)
}

/// Nesting depth of containers; bounded by serde_json's recursion limit, so recursion is safe.
fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// Validates one present field; `None` means an error was recorded.
fn check(
    kind: Kind,
    value: &Value,
    loc: &[Value],
    fault: Option<Fault>,
    errors: &mut Vec<FieldError>,
) -> Option<Value> {
    let mut fail = |error: FieldError| {
        errors.push(error);
        None
    };
    match kind {
        Kind::Workflow => {
            let Value::Object(object) = value else {
                return fail(FieldError::new(
                    "model_attributes_type",
                    loc,
                    MSG_MODEL_ATTRIBUTES,
                    value.clone(),
                ));
            };
            let mut workflow = Map::new();
            let mut ok = true;
            for (name, kind) in WORKFLOW_FIELDS {
                let stored = match object.get(name) {
                    None => Some(workflow_default(name)),
                    Some(Value::Null) if fault == Some(Fault::NullStoredAsDefault) => {
                        Some(workflow_default(name))
                    }
                    Some(field) => check(kind, field, &loc_with(loc, name), fault, errors),
                };
                match stored {
                    Some(stored) => {
                        workflow.insert(name.to_owned(), stored);
                    }
                    None => ok = false,
                }
            }
            ok.then_some(Value::Object(workflow))
        }
        _ if value.is_null() => Some(Value::Null),
        Kind::Str => match value {
            Value::String(_) => Some(value.clone()),
            _ => fail(FieldError::new(
                "string_type",
                loc,
                MSG_STRING_TYPE,
                value.clone(),
            )),
        },
        Kind::Str24 => match value {
            Value::String(s) => match len24_error(s, loc, value, fault) {
                None => Some(value.clone()),
                Some(error) => fail(error),
            },
            _ => fail(FieldError::new(
                "string_type",
                loc,
                MSG_STRING_TYPE,
                value.clone(),
            )),
        },
        Kind::Int => match lax_int(value, fault) {
            Ok(Int::Big(digits)) if fault == Some(Fault::BigIntegersThroughF64) => {
                // Decimal digits always read as an f64; the rounding is the fault.
                Some(digits.parse::<f64>().map_or(Value::Null, Value::from))
            }
            Ok(int) => Some(int.into_value()),
            Err((ty, msg)) => fail(FieldError::new(ty, loc, msg, value.clone())),
        },
        Kind::Bool => match lax_bool(value) {
            Ok(b) => Some(Value::Bool(b)),
            Err((ty, msg)) => fail(FieldError::new(ty, loc, msg, value.clone())),
        },
        Kind::Status => match value {
            Value::String(s) if STATUSES.contains(&s.as_str()) => Some(value.clone()),
            _ => fail(enum_error(loc, value.clone())),
        },
        Kind::Dict => match value {
            Value::Object(_) => Some(value.clone()),
            _ => fail(FieldError::new(
                "dict_type",
                loc,
                MSG_DICT_TYPE,
                value.clone(),
            )),
        },
    }
}

fn enum_error(loc: &[Value], input: Value) -> FieldError {
    FieldError::new(
        "enum",
        loc,
        format!("Input should be {ENUM_EXPECTED}"),
        input,
    )
    .with_ctx(json!({ "expected": ENUM_EXPECTED }))
}

/// `min_length=24, max_length=24`, counted in characters as Python's `len` does.
fn len24_error(s: &str, loc: &[Value], input: &Value, fault: Option<Fault>) -> Option<FieldError> {
    let len = s.chars().count();
    let min = if fault == Some(Fault::AcceptShortWorkflowId) {
        ID_LEN - 1
    } else {
        ID_LEN
    };
    if len < min {
        Some(
            FieldError::new(
                "string_too_short",
                loc,
                format!("String should have at least {ID_LEN} characters"),
                input.clone(),
            )
            .with_ctx(json!({ "min_length": ID_LEN })),
        )
    } else if len > ID_LEN {
        Some(
            FieldError::new(
                "string_too_long",
                loc,
                format!("String should have at most {ID_LEN} characters"),
                input.clone(),
            )
            .with_ctx(json!({ "max_length": ID_LEN })),
        )
    } else {
        None
    }
}

type Rejection = (&'static str, &'static str);

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
    fn into_value(self) -> Value {
        match self {
            Int::Small(int) => Value::from(int),
            // Canonical decimal digits are a JSON number; `arbitrary_precision` keeps them all.
            Int::Big(digits) => Value::Number(Number::from_string_unchecked(digits)),
        }
    }
}

/// pydantic's lax `int` on what `json.loads` produced: a Python `int` (an integer literal, of
/// any size) as it is; bools; integral floats in the 64-bit range; integer strings.
fn lax_int(value: &Value, fault: Option<Fault>) -> Result<Int, Rejection> {
    match value {
        Value::Bool(b) => Ok(Int::Small(i64::from(*b))),
        // The body reader kept integer literals exact and made every other number an f64.
        Value::Number(n) if !n.as_str().contains(['.', 'e', 'E']) => {
            Ok(Int::from_decimal(n.as_str()))
        }
        Value::Number(n) => {
            // The body reader refuses numbers beyond f64; this only guards the invariant.
            let Some(float) = n.as_f64() else {
                return Err(("finite_number", MSG_FINITE));
            };
            if float.fract() != 0.0 {
                if fault == Some(Fault::AcceptFractionalInt) {
                    return float_to_int(float.trunc());
                }
                return Err(("int_from_float", MSG_INT_FROM_FLOAT));
            }
            float_to_int(float)
        }
        Value::String(_) if fault == Some(Fault::RejectNumericStrings) => {
            Err(("int_type", MSG_INT_TYPE))
        }
        Value::String(s) => str_as_int(s),
        _ => Err(("int_type", MSG_INT_TYPE)),
    }
}

/// pydantic's `float_as_int`: a float beyond the 64-bit range is `int_parsing_size`, even
/// though a Python `int` of that size is fine. Both bounds are exclusive, so -2^63 written as a
/// float is refused too, as the FastAPI oracle shows; the contract's suite sends it only as an
/// unspecified input.
fn float_to_int(float: f64) -> Result<Int, Rejection> {
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

/// pydantic-core's `str_as_int` (2.41): the string as a JSON integer; else cleaned of
/// surrounding whitespace, one leading `+`, leading zeros, a `.000` tail and single
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
fn lax_bool(value: &Value) -> Result<bool, Rejection> {
    let parsing = ("bool_parsing", MSG_BOOL_PARSING);
    match value {
        Value::Bool(b) => Ok(*b),
        // pydantic reads a whole number other than 0 and 1 as a failed parse, but a number with
        // a fraction (0.5, 1e-3) as no boolean at all: `bool_type`, as the FastAPI oracle shows.
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

/// The fields an update may change; `None` means absent (left as it is).
#[derive(Debug, Default)]
pub(crate) struct Update {
    pub description: Option<Value>,
    pub status: Option<Value>,
}

/// Validates the update body, a plain JSON object; errors go to `errors` so that they join the
/// path parameter's errors in one 422, as FastAPI reports them.
pub(crate) fn update_body(body: &Value, errors: &mut Vec<FieldError>) -> Update {
    let loc = [Value::from("body")];
    let Value::Object(object) = body else {
        errors.push(FieldError::new(
            "dict_type",
            &loc,
            MSG_DICT_TYPE,
            body.clone(),
        ));
        return Update::default();
    };
    let mut update = Update::default();
    if let Some(value) = object.get("description") {
        update.description = check(
            Kind::Str,
            value,
            &loc_with(&loc, "description"),
            None,
            errors,
        );
    }
    if let Some(value) = object.get("status") {
        update.status = check(Kind::Status, value, &loc_with(&loc, "status"), None, errors);
    }
    update
}

/// Validates the `simulation_id` path parameter.
pub(crate) fn path_id(id: &str, errors: &mut Vec<FieldError>) {
    let loc = [Value::from("path"), Value::from("simulation_id")];
    if let Some(error) = len24_error(id, &loc, &Value::from(id), None) {
        errors.push(error);
    }
}

/// The list operation's query, validated.
#[derive(Debug, Clone)]
pub(crate) struct ListQuery {
    pub size: u64,
    pub page: u64,
    pub search: Option<String>,
    /// `search` lowercased once, not once per record scanned.
    pub search_lowered: Option<String>,
    /// Inclusive bounds on `created_at`, in Unix microseconds.
    pub start: Option<i64>,
    pub end: Option<i64>,
    pub logical_id: Option<String>,
    pub selected_workflow_id: Option<String>,
    pub counter_workflow_id: Option<String>,
    pub status: Option<String>,
}

/// Validates the list query; `params` holds the last value of each name, as Starlette's
/// `QueryParams` gives a scalar parameter.
pub(crate) fn list_query(params: &HashMap<String, String>) -> Result<ListQuery, ApiError> {
    let mut errors = Vec::new();
    let loc = |name: &str| [Value::from("query"), Value::from(name)];
    let mut positive = |name: &str, default: u64| -> u64 {
        let Some(raw) = params.get(name) else {
            return default;
        };
        match str_as_int(raw) {
            Ok(Int::Small(int)) if int >= 1 => int.unsigned_abs(),
            // No store holds 2^63 records: a page past i64 is as good as infinitely far.
            Ok(Int::Big(digits)) if !digits.starts_with('-') => u64::MAX,
            Ok(_) => {
                errors.push(
                    FieldError::new(
                        "greater_than_equal",
                        &loc(name),
                        "Input should be greater than or equal to 1",
                        Value::from(raw.as_str()),
                    )
                    .with_ctx(json!({ "ge": 1 })),
                );
                default
            }
            Err((ty, msg)) => {
                errors.push(FieldError::new(
                    ty,
                    &loc(name),
                    msg,
                    Value::from(raw.as_str()),
                ));
                default
            }
        }
    };
    let size = positive("size", 100);
    let page = positive("page", 1);
    let search = params.get("search").cloned();
    let mut datetime = |name: &str| -> Option<i64> {
        let raw = params.get(name)?;
        match parse_datetime(raw) {
            Ok(micros) => Some(micros),
            Err(reason) => {
                errors.push(
                    FieldError::new(
                        "datetime_from_date_parsing",
                        &loc(name),
                        format!("Input should be a valid datetime or date, {reason}"),
                        Value::from(raw.as_str()),
                    )
                    .with_ctx(json!({ "error": reason })),
                );
                None
            }
        }
    };
    let start = datetime("start");
    let end = datetime("end");
    let logical_id = params.get("logical_id").cloned();
    let mut workflow_id = |name: &str| -> Option<String> {
        let raw = params.get(name)?;
        match len24_error(raw, &loc(name), &Value::from(raw.as_str()), None) {
            None => Some(raw.clone()),
            Some(error) => {
                errors.push(error);
                None
            }
        }
    };
    let selected_workflow_id = workflow_id("selected_workflow_id");
    let counter_workflow_id = workflow_id("counter_workflow_id");
    let status = match params.get("status") {
        Some(raw) if STATUSES.contains(&raw.as_str()) => Some(raw.clone()),
        Some(raw) => {
            errors.push(enum_error(&loc("status"), Value::from(raw.as_str())));
            None
        }
        None => None,
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    Ok(ListQuery {
        size,
        page,
        search_lowered: search.as_deref().map(str::to_lowercase),
        search,
        start,
        end,
        logical_id,
        selected_workflow_id,
        counter_workflow_id,
        status,
    })
}

/// pydantic's lax `datetime` from a string, as speedate reads it: Unix time (seconds, or
/// milliseconds past 2e10) from a number, else `YYYY-MM-DD[(T|t|_| )HH:MM[:SS[.f+]][Z|±HH[:]MM]]`.
/// No offset means UTC. Returns Unix microseconds, or speedate's reason for refusing.
pub(crate) fn parse_datetime(s: &str) -> Result<i64, &'static str> {
    if let Some(micros) = parse_unix_time(s) {
        return micros;
    }
    let b = s.as_bytes();
    if b.len() < 10 {
        return Err("input is too short");
    }
    let year = digits(&b[0..4]).ok_or("invalid character in year")?;
    if b[4] != b'-' {
        return Err("invalid date separator, expected `-`");
    }
    let month = digits(&b[5..7]).ok_or("invalid character in month")?;
    if b[7] != b'-' {
        return Err("invalid date separator, expected `-`");
    }
    let day = digits(&b[8..10]).ok_or("invalid character in day")?;
    if !(1..=12).contains(&month) {
        return Err("month value is outside expected range of 1-12");
    }
    let date = NaiveDate::from_ymd_opt(year as i32, month, day)
        .ok_or("day value is outside expected range")?;
    if b.len() == 10 {
        return Ok(date
            .and_time(chrono::NaiveTime::MIN)
            .and_utc()
            .timestamp_micros());
    }
    if !matches!(b[10], b'T' | b't' | b'_' | b' ') {
        return Err("invalid datetime separator, expected `T`, `t`, `_` or space");
    }
    let t = &b[11..];
    if t.len() < 5 {
        return Err("input is too short");
    }
    let hour = digits(&t[0..2]).ok_or("invalid character in hour")?;
    if t[2] != b':' {
        return Err("invalid time separator, expected `:`");
    }
    let minute = digits(&t[3..5]).ok_or("invalid character in minute")?;
    let mut rest = &t[5..];
    let mut second = 0;
    let mut micro = 0;
    if let Some(after) = rest.strip_prefix(b":") {
        if after.len() < 2 {
            return Err("input is too short");
        }
        second = digits(&after[0..2]).ok_or("invalid character in second")?;
        rest = &after[2..];
        if let [b'.' | b',', fraction @ ..] = rest {
            let count = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
            if count == 0 {
                return Err("invalid character in second fraction");
            }
            // pydantic's default microseconds overflow behaviour is to truncate.
            for (i, c) in fraction[..count].iter().take(6).enumerate() {
                micro += u32::from(c - b'0') * 10u32.pow(5 - i as u32);
            }
            rest = &fraction[count..];
        }
    }
    if hour > 23 {
        return Err("hour value is outside expected range of 0-23");
    }
    if minute > 59 {
        return Err("minute value is outside expected range of 0-59");
    }
    if second > 59 {
        return Err("second value is outside expected range of 0-59");
    }
    let offset_seconds: i64 = match rest {
        [] | [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), tz @ ..] => {
            let (h, m) = match tz {
                [h1, h2, b':', m1, m2] | [h1, h2, m1, m2] => (
                    digits(&[*h1, *h2]).ok_or("invalid timezone hour")?,
                    digits(&[*m1, *m2]).ok_or("invalid timezone minute")?,
                ),
                [h1, h2] => (digits(&[*h1, *h2]).ok_or("invalid timezone hour")?, 0),
                _ => return Err("invalid timezone offset"),
            };
            if h > 23 || m > 59 {
                return Err("timezone offset must be less than 24 hours");
            }
            let magnitude = i64::from(h * 3600 + m * 60);
            if *sign == b'-' { -magnitude } else { magnitude }
        }
        _ => return Err("unexpected extra characters at the end of the input"),
    };
    let time = chrono::NaiveTime::from_hms_micro_opt(hour, minute, second, micro)
        .ok_or("second value is outside expected range of 0-59")?;
    Ok(date.and_time(time).and_utc().timestamp_micros() - offset_seconds * 1_000_000)
}

fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

/// A number read as Unix time: `-?\d+(\.\d*)?`; `None` when `s` is not such a number.
fn parse_unix_time(s: &str) -> Option<Result<i64, &'static str>> {
    let unsigned = s.strip_prefix('-').unwrap_or(s);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let numeric = !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit());
    if !numeric {
        return None;
    }
    let mut value: f64 = s.parse().ok()?;
    // speedate reads magnitudes past 2e10 as milliseconds.
    if value.abs() > 2e10 {
        value /= 1000.0;
    }
    // Years 1 to 9999, the range of Python's datetime.
    if !(-62_135_596_800.0..=253_402_300_799.0).contains(&value) {
        return Some(Err("timestamp value is outside expected range"));
    }
    #[allow(clippy::cast_possible_truncation)]
    Some(Ok((value * 1e6).round() as i64))
}

#[cfg(test)]
mod tests {
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
            lax_int(&value, None).map(Int::into_value).map_err(|e| e.0)
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
    fn datetimes_follow_speedate() {
        assert_eq!(parse_datetime("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(parse_datetime("1970-01-01T01:00:00+01:00"), Ok(0));
        assert_eq!(parse_datetime("1970-01-01 00:00:01.5"), Ok(1_500_000));
        assert_eq!(parse_datetime("1970-01-02"), Ok(86_400_000_000));
        assert_eq!(parse_datetime("0.5"), Ok(500_000));
        assert_eq!(parse_datetime("1000"), Ok(1_000_000_000));
        assert_eq!(parse_datetime("30000000000"), Ok(30_000_000_000_000));
        assert_eq!(parse_datetime("abc"), Err("input is too short"));
        assert_eq!(
            parse_datetime("2024-13-01"),
            Err("month value is outside expected range of 1-12")
        );
        assert_eq!(
            parse_datetime("2024-01-01Tab:00"),
            Err("invalid character in hour")
        );
        assert_eq!(
            parse_datetime("2024-01-01T00:00:00junk"),
            Err("unexpected extra characters at the end of the input")
        );
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
