//! pydantic's lax `datetime` from a query string (`start`, `end`), modelled on speedate,
//! pydantic-core's parser, and its reasons for refusing.
//!
//! Hand-written rather than the `speedate` crate itself, because this refactor keeps behaviour
//! and speedate does not keep it. Called directly (`DateTime` with truncated microseconds and a
//! zero offset, then `Date` for a bare date), speedate 0.18 answers 9 of 61 probe inputs
//! differently from this parser and its tests, some with 200 against 422: it refuses a `+05`
//! offset and accepts `+1000`, `.5` and the millisecond timestamp `253402300799999`, and it
//! words refusals otherwise (`…T00:00:00junk` is "invalid timezone sign"). On those same probes
//! real pydantic (the FastAPI oracle's, 2.14) sides with speedate on every answer but `0000-01-01`
//! and words refusals from its `date` fallback ("unexpected extra characters at the end of the
//! input"), so moving to speedate with pydantic-core's glue is a behaviour change worth its own
//! issue, settled against the oracle. It would also add four crates, one a proc macro
//! (`strum_macros`), to a clean build.

use chrono::{NaiveDate, NaiveTime};

/// How a server reads what the text leaves open: the offset of a date-time without one, and
/// the unit of a number. pydantic's reading is the default (UTC, seconds); the list query's
/// faults choose others. Nothing here knows about faults.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Reading {
    /// The offset, in seconds east of UTC, of a date-time written without one (a bare date
    /// included).
    pub naive_offset_seconds: i64,
    /// Every number is Unix milliseconds, not only those past 2e10.
    pub numbers_as_milliseconds: bool,
}

/// pydantic's lax `datetime` from a string, as speedate reads it: Unix time (seconds, or
/// milliseconds past 2e10) from a number, else `YYYY-MM-DD[(T|t|_| )HH:MM[:SS[.f+]][Z|±HH[:]MM]]`.
/// No offset means UTC (or `reading`'s offset). Returns Unix microseconds, or speedate's reason
/// for refusing.
pub(crate) fn parse_datetime_as(s: &str, reading: Reading) -> Result<i64, &'static str> {
    if let Some(micros) = parse_unix_time(s, reading.numbers_as_milliseconds) {
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
        let midnight = date.and_time(NaiveTime::MIN).and_utc().timestamp_micros();
        return Ok(midnight - reading.naive_offset_seconds * 1_000_000);
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
        [] => reading.naive_offset_seconds,
        [b'Z' | b'z'] => 0,
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
    let time = NaiveTime::from_hms_micro_opt(hour, minute, second, micro)
        .ok_or("second value is outside expected range of 0-59")?;
    Ok(date.and_time(time).and_utc().timestamp_micros() - offset_seconds * 1_000_000)
}

fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

/// A number read as Unix time: `-?\d+(\.\d*)?`; `None` when `s` is not such a number.
fn parse_unix_time(s: &str, milliseconds: bool) -> Option<Result<i64, &'static str>> {
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
    if milliseconds || value.abs() > 2e10 {
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

    fn parse_datetime(s: &str) -> Result<i64, &'static str> {
        parse_datetime_as(s, Reading::default())
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
        let local = Reading {
            naive_offset_seconds: 7200,
            numbers_as_milliseconds: true,
        };
        assert_eq!(parse_datetime_as("1970-01-01T02:00:00", local), Ok(0));
        assert_eq!(
            parse_datetime_as("1970-01-01T02:00:00Z", local),
            Ok(7_200_000_000)
        );
        assert_eq!(parse_datetime_as("1000", local), Ok(1_000_000));
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
}
