//! pydantic's lax `datetime` from a query string (`start`, `end`): speedate, the parser
//! pydantic-core itself calls, with the options pydantic sets, and pydantic's glue around it.
//!
//! pydantic-core (2.50.5, the FastAPI oracle's) calls `DateTime::parse_bytes_with_config` with
//! microseconds beyond six digits truncated, `unix_timestamp_offset: Some(0)` (a number is a UTC
//! instant) and the timestamp unit inferred (seconds, milliseconds past 2e10). When that fails,
//! lax mode tries `Date::parse_bytes_with_config` and reads a date as midnight, reporting the
//! date parser's reason as `datetime_from_date_parsing`. Python's `datetime` then refuses year
//! 0, which speedate takes (`datetime_parsing`). The probe table in the tests holds real
//! pydantic's answers.

use speedate::{
    Date, DateConfig, DateTime, DateTimeConfig, MicrosecondsPrecisionOverflowBehavior, ParseError,
    TimeConfig, TimestampUnit,
};
use strum::EnumMessage;

/// How a server reads what the text leaves open: the offset of a date-time without one, and
/// the unit of a number. pydantic's reading is the default (UTC, seconds); a replaced list
/// query step may choose another.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Reading {
    /// The offset, in seconds east of UTC, of a date-time written without one (a bare date
    /// included).
    pub naive_offset_seconds: i64,
    /// Every number is Unix milliseconds, not only those past 2e10.
    pub numbers_as_milliseconds: bool,
}

/// Why pydantic refuses a value: its error `type` and the reason it puts in `ctx.error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Refusal {
    /// `datetime_from_date_parsing` (neither a date-time nor a date) or `datetime_parsing` (a
    /// value speedate reads that Python's `datetime` cannot hold).
    pub ty: &'static str,
    pub reason: &'static str,
}

impl Refusal {
    /// pydantic's `msg` for this refusal.
    pub(crate) fn message(&self) -> String {
        match self.ty {
            "datetime_parsing" => format!("Input should be a valid datetime, {}", self.reason),
            _ => format!("Input should be a valid datetime or date, {}", self.reason),
        }
    }
}

/// pydantic's lax `datetime` from a string: Unix time from a number (seconds, or milliseconds
/// past 2e10), else an RFC 3339-like date-time, else a date at midnight. No offset means UTC
/// (or `reading`'s offset). Returns Unix microseconds, or pydantic's refusal.
pub(crate) fn parse_datetime_as(s: &str, reading: Reading) -> Result<i64, Refusal> {
    let timestamp_unit = if reading.numbers_as_milliseconds {
        TimestampUnit::Millisecond
    } else {
        TimestampUnit::Infer
    };
    let config = DateTimeConfig {
        timestamp_unit,
        time_config: TimeConfig {
            microseconds_precision_overflow_behavior:
                MicrosecondsPrecisionOverflowBehavior::Truncate,
            unix_timestamp_offset: Some(0),
        },
    };
    let (date, time) = match DateTime::parse_bytes_with_config(s.as_bytes(), &config) {
        Ok(datetime) => (datetime.date, Some(datetime.time)),
        Err(_) => match Date::parse_bytes_with_config(s.as_bytes(), &DateConfig { timestamp_unit })
        {
            Ok(date) => (date, None),
            Err(error) => {
                return Err(Refusal {
                    ty: "datetime_from_date_parsing",
                    reason: documentation(&error),
                });
            }
        },
    };
    // Python's `datetime` starts at year 1; pydantic reports its ValueError as is.
    if date.year == 0 {
        return Err(Refusal {
            ty: "datetime_parsing",
            reason: "year 0 is out of range",
        });
    }
    let (seconds_of_day, micros, offset) = match time {
        Some(t) => (
            i64::from(t.total_seconds()),
            i64::from(t.microsecond),
            t.tz_offset.map(i64::from),
        ),
        None => (0, 0, None),
    };
    let offset = offset.unwrap_or(reading.naive_offset_seconds);
    // Years 1 to 9999 and offsets under a day: far inside i64 microseconds.
    Ok((date.timestamp() + seconds_of_day - offset) * 1_000_000 + micros)
}

/// The sentence pydantic puts in `ctx.error`: speedate's documentation of its error.
fn documentation(error: &ParseError) -> &'static str {
    error.get_documentation().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_datetime(s: &str) -> Result<i64, Refusal> {
        parse_datetime_as(s, Reading::default())
    }

    #[test]
    fn other_readings_bend_only_what_the_text_leaves_open() {
        let local = Reading {
            naive_offset_seconds: 7200,
            numbers_as_milliseconds: true,
        };
        assert_eq!(parse_datetime_as("1970-01-01T02:00:00", local), Ok(0));
        assert_eq!(parse_datetime_as("1970-01-01", local), Ok(-7_200_000_000));
        assert_eq!(
            parse_datetime_as("1970-01-01T02:00:00Z", local),
            Ok(7_200_000_000)
        );
        assert_eq!(parse_datetime_as("1000", local), Ok(1_000_000));
        assert_eq!(parse_datetime("1000"), Ok(1_000_000_000));
        assert_eq!(
            parse_datetime("abc").map_err(|r| r.message()),
            Err("Input should be a valid datetime or date, input is too short".into())
        );
        assert_eq!(
            parse_datetime("0000-01-01").map_err(|r| r.message()),
            Err("Input should be a valid datetime, year 0 is out of range".into())
        );
    }

    /// Real pydantic's answers (the oracle's, 2.14.4 with pydantic-core 2.50.5) for a
    /// `datetime` query value, from `TypeAdapter(datetime).validate_python(s)`: Unix
    /// microseconds (naive read as UTC), or the error's `type` and `ctx.error`.
    type Answer = Result<i64, (&'static str, &'static str)>;

    const PYDANTIC: &[(&str, Answer)] = &[
        ("2024-05-06T07:08:09Z", Ok(1714979289000000)),
        ("2024-05-06T07:08:09z", Ok(1714979289000000)),
        (
            "2024-05-06T07:08:09+05",
            Err((
                "datetime_from_date_parsing",
                "unexpected extra characters at the end of the input",
            )),
        ),
        ("2024-05-06T07:08:09+0530", Ok(1714959489000000)),
        ("2024-05-06T07:08:09+05:30", Ok(1714959489000000)),
        ("2024-05-06T07:08:09-00:00", Ok(1714979289000000)),
        ("2024-05-06T07:08:09-23:59", Ok(1715065629000000)),
        (
            "2024-05-06T07:08:09+24:00",
            Err((
                "datetime_from_date_parsing",
                "unexpected extra characters at the end of the input",
            )),
        ),
        (
            "2024-05-06T07:08:09+05:3",
            Err((
                "datetime_from_date_parsing",
                "unexpected extra characters at the end of the input",
            )),
        ),
        (
            "2024-05-06T07:08:09 +05:30",
            Err((
                "datetime_from_date_parsing",
                "unexpected extra characters at the end of the input",
            )),
        ),
        ("2024-05-06T07:08:09.1Z", Ok(1714979289100000)),
        ("2024-05-06T07:08:09.12Z", Ok(1714979289120000)),
        ("2024-05-06T07:08:09.123Z", Ok(1714979289123000)),
        ("2024-05-06T07:08:09.1234Z", Ok(1714979289123400)),
        ("2024-05-06T07:08:09.12345Z", Ok(1714979289123450)),
        ("2024-05-06T07:08:09.123456Z", Ok(1714979289123456)),
        ("2024-05-06T07:08:09.1234567Z", Ok(1714979289123456)),
        ("2024-05-06T07:08:09.12345678Z", Ok(1714979289123456)),
        ("2024-05-06T07:08:09.123456789Z", Ok(1714979289123456)),
        ("2024-05-06T07:08:09,5Z", Ok(1714979289500000)),
        (
            "2024-05-06T07:08:09.Z",
            Err((
                "datetime_from_date_parsing",
                "unexpected extra characters at the end of the input",
            )),
        ),
        ("2024-05-06 07:08:09", Ok(1714979289000000)),
        ("2024-05-06t07:08:09", Ok(1714979289000000)),
        ("2024-05-06_07:08:09", Ok(1714979289000000)),
        ("2024-05-06T07:08", Ok(1714979280000000)),
        ("2024-05-06T07:08Z", Ok(1714979280000000)),
        (
            "2024-05-06T07",
            Err((
                "datetime_from_date_parsing",
                "unexpected extra characters at the end of the input",
            )),
        ),
        ("2024-05-06", Ok(1714953600000000)),
        (
            "2024-02-30",
            Err((
                "datetime_from_date_parsing",
                "day value is outside expected range",
            )),
        ),
        (
            "2024-13-01",
            Err((
                "datetime_from_date_parsing",
                "month value is outside expected range of 1-12",
            )),
        ),
        (
            "0000-01-01",
            Err(("datetime_parsing", "year 0 is out of range")),
        ),
        (
            "0000-01-01T00:00:00Z",
            Err(("datetime_parsing", "year 0 is out of range")),
        ),
        ("0001-01-01T00:00:00Z", Ok(-62135596800000000)),
        ("9999-12-31T23:59:59.999999Z", Ok(253402300799999999)),
        ("9999-12-31", Ok(253402214400000000)),
        (
            "10000-01-01",
            Err((
                "datetime_from_date_parsing",
                "invalid date separator, expected `-`",
            )),
        ),
        (
            "2024-05-06T24:00:00",
            Err((
                "datetime_from_date_parsing",
                "unexpected extra characters at the end of the input",
            )),
        ),
        (
            "2024-05-06T23:59:60",
            Err((
                "datetime_from_date_parsing",
                "unexpected extra characters at the end of the input",
            )),
        ),
        (
            "2024-05-06T07:08:09junk",
            Err((
                "datetime_from_date_parsing",
                "unexpected extra characters at the end of the input",
            )),
        ),
        ("0", Ok(0)),
        ("1", Ok(1000000)),
        ("-1", Ok(-1000000)),
        ("0.5", Ok(500000)),
        (".5", Ok(500000)),
        ("+1000", Ok(1000000000)),
        ("-1000", Ok(-1000000000)),
        ("1000.", Ok(1000000000)),
        (
            "1e3",
            Err(("datetime_from_date_parsing", "input is too short")),
        ),
        (
            " 5",
            Err(("datetime_from_date_parsing", "input is too short")),
        ),
        (
            "5 ",
            Err(("datetime_from_date_parsing", "input is too short")),
        ),
        (
            "--5",
            Err(("datetime_from_date_parsing", "input is too short")),
        ),
        (
            "+-5",
            Err(("datetime_from_date_parsing", "input is too short")),
        ),
        ("19999999999", Ok(19999999999000000)),
        ("20000000000", Ok(20000000000000000)),
        ("20000000001", Ok(20000000001000)),
        ("-20000000000", Ok(-20000000000000000)),
        ("-20000000001", Ok(-20000000001000)),
        ("1715000000000", Ok(1715000000000000)),
        ("-1715000000000", Ok(-1715000000000000)),
        ("253402300799", Ok(253402300799000)),
        ("253402300800", Ok(253402300800000)),
        ("253402300799999", Ok(253402300799999000)),
        (
            "253402300800000",
            Err((
                "datetime_from_date_parsing",
                "dates after 9999 are not supported as unix timestamps",
            )),
        ),
        ("-62135596800", Ok(-62135596800000)),
        ("-62135596800000", Ok(-62135596800000000)),
        (
            "-62135596801000",
            Err(("datetime_parsing", "year 0 is out of range")),
        ),
        (
            "99999999999999999999",
            Err((
                "datetime_from_date_parsing",
                "invalid date separator, expected `-`",
            )),
        ),
        ("1.5e10", Ok(15000000000000000)),
        (
            "NaN",
            Err(("datetime_from_date_parsing", "input is too short")),
        ),
        (
            "inf",
            Err(("datetime_from_date_parsing", "input is too short")),
        ),
        (
            "",
            Err(("datetime_from_date_parsing", "input is too short")),
        ),
        (
            "abc",
            Err(("datetime_from_date_parsing", "input is too short")),
        ),
        (
            "2024-05-06T07:08:09+05:30:00",
            Err((
                "datetime_from_date_parsing",
                "unexpected extra characters at the end of the input",
            )),
        ),
    ];

    #[test]
    fn every_probe_reads_as_real_pydantic_reads_it() {
        let wrong: Vec<String> = PYDANTIC
            .iter()
            .filter_map(|(input, expected)| {
                let got = parse_datetime(input).map_err(|r| (r.ty, r.reason));
                (got != *expected).then(|| format!("{input:?}: {got:?}, pydantic {expected:?}"))
            })
            .collect();
        assert!(
            wrong.is_empty(),
            "{} of {} differ:\n{}",
            wrong.len(),
            PYDANTIC.len(),
            wrong.join("\n")
        );
    }
}
