//! What the suite does about the infrastructure between it and the service (an API gateway, a shared environment): which answers are the gateway's and not the service's, how long to wait before trying again, and what a retried write may have done.
//!
//! Classification ([`classify`]):
//! - **429** is throttling: waited out (`Retry-After` in seconds or as an HTTP date, else
//!   exponential backoff with seeded jitter) and retried, never a contract violation, never past
//!   the run's deadline.
//! - **502, 503, 504 whose body is not the service's error shape** (`{"detail": ...}` JSON), a
//!   reset or closed connection and a timeout are infrastructure: retried
//!   [`RetryPolicy::infra_retries`] times with backoff. When a retry succeeds the case goes on;
//!   when the error persists the target is unhealthy and the run ends with exit code 3.
//! - Anything else, a 5xx in the service's own JSON error shape included, is the service's answer
//!   and is judged by the contract as before.
//!
//! What a retry after an *ambiguous* failure means, per method. A failure is ambiguous when the
//! request may have reached the service before the answer was lost: a reset or timeout after the
//! request was written, or a gateway's 502/503/504 (it may have forwarded it); every
//! infrastructure failure is therefore ambiguous for a write. A 429 is not: the gateway answered
//! before forwarding. A refused connection is not infrastructure at all: nothing listens there,
//! which at the preflight is an unreachable target (exit 2) and later a `response_received`
//! failure, as before.
//! - `GET` (read, list): safe, retried as is; nothing to decide.
//! - `POST` (create): the retry may make a second record beside one the lost attempt made. The
//!   scenario judges its later lists only soundly (filter matches, order, absent ids), never
//!   exactly (`total`, the page's ids). What the lost attempt made is cleaned up only when the
//!   run can prove it its own: a body carrying the run's tag makes a record the cleanup's tag
//!   search finds and its read-back proves. A body without it (all defaults, say) makes a record
//!   nothing tells from the identical one another client of the same key wrote in that second,
//!   so it is never looked for or deleted; the report counts it as possibly left behind
//!   (`run_state::Unproven`), and so it does when the retry is refused (deadline, creates cap,
//!   unhealthy target).
//! - `PATCH` (update): setting the same fields twice leaves the same state; only `updated_at`
//!   may have moved twice, which no check can see. Judged as sent; later lists sound only, as for
//!   any ambiguous write.
//! - `DELETE`: a retry answered 404 counts as done (the lost attempt deleted it); a 200 is the
//!   delete as usual.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::response::Response;

/// What one attempt's outcome means for the retry loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// The service's own answer: judged by the contract.
    Service,
    /// 429: wait (as `Retry-After` says, when it says) and retry.
    Throttled(Option<Duration>),
    /// A gateway's or network's failure: retried a bounded number of times.
    Infra(Infra),
}

/// The kinds of infrastructure failure, as the summary counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Infra {
    /// 502, 503 or 504 with a body that is not the service's JSON error shape.
    GatewayStatus(u16),
    /// Reset, or closed before the answer completed.
    Connection,
    Timeout,
}

impl Infra {
    pub fn describe(self) -> String {
        match self {
            Infra::GatewayStatus(status) => format!("{status} from the gateway"),
            Infra::Connection => "connection reset".into(),
            Infra::Timeout => "timeout".into(),
        }
    }
}

/// Whether a response is the service's JSON error shape, `{"detail": ...}`: a 5xx in that shape
/// is the service's own answer and stays a contract violation.
pub fn is_service_error_shape(response: &Response) -> bool {
    response
        .json
        .as_ref()
        .and_then(|j| j.as_object())
        .is_some_and(|o| o.contains_key("detail"))
}

/// The class of a response that arrived, at wall-clock `now` (for an HTTP-date `Retry-After`).
pub fn classify(response: &Response, retry_after: Option<&str>, now: DateTime<Utc>) -> Class {
    match response.status {
        429 => Class::Throttled(retry_after.and_then(|v| parse_retry_after(v, now))),
        status @ (502..=504) if !is_service_error_shape(response) => {
            Class::Infra(Infra::GatewayStatus(status))
        }
        _ => Class::Service,
    }
}

/// `Retry-After` as a wait from `now`: delay-seconds, or an HTTP date (IMF-fixdate, which RFC
/// 2822 parsing reads); a date in the past is no wait. Garbage is `None`, and the caller backs
/// off as if the header were absent.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // A huge number of seconds saturates; the deadline bounds the wait anyway.
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let at = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

/// How hard the suite tries before calling the target unhealthy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Retries after an infrastructure failure (so `infra_retries + 1` attempts).
    pub infra_retries: u32,
    /// Retries after a 429; the deadline usually ends them first.
    pub throttle_retries: u32,
    /// The first backoff; each retry doubles it, up to `max_backoff`.
    pub base_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            infra_retries: 3,
            throttle_retries: 30,
            base_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (0 for the first), given `entropy` from the run's
    /// seeded stream: `min(max, base·2^retry)` scaled by a factor in [½, 1), so that requests
    /// failing together do not retry together, and the same seed waits the same.
    pub fn backoff(&self, retry: u32, entropy: u64) -> Duration {
        let ceiling = self
            .base_backoff
            .saturating_mul(1u32.checked_shl(retry.min(31)).unwrap_or(u32::MAX))
            .min(self.max_backoff);
        let fraction = 0.5 + (entropy >> 11) as f64 / (1u64 << 53) as f64 / 2.0;
        ceiling.mul_f64(fraction)
    }
}

/// splitmix64: the next value of a seeded stream.
pub fn splitmix(state: u64) -> u64 {
    let mut z = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// What the gateway did over a run, for the summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GatewayStats {
    /// 429s waited out (each retried).
    pub throttled: u64,
    /// Time spent waiting on 429s, summed over requests.
    pub throttled_wait: Duration,
    /// Infrastructure failures a retry recovered from, per kind.
    pub recovered: std::collections::BTreeMap<Infra, u64>,
    /// Requests answered after a retry that followed an ambiguous failure of a write.
    pub ambiguous_writes: u64,
    /// Requests given up because waiting out their 429 would pass the run's deadline.
    pub throttled_past_budget: u64,
    /// The longest `Retry-After` among those, when a header named it (a server may name any
    /// wait, u64::MAX seconds included: it is only compared, never added).
    pub longest_refused_retry_after: Option<Duration>,
    /// Requests in a retry after an infrastructure failure right now (or dropped in one).
    pub retrying: u64,
    /// The latest infrastructure failure: `POST /workflows/v1/simulations: timeout`.
    pub last_failure: String,
    /// The first request whose infrastructure failure persisted through every retry, and how
    /// many did.
    pub unhealthy: Option<Unhealthy>,
}

/// A target that kept failing: what failed and how often.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unhealthy {
    /// `POST /workflows/v1/simulations: 503 from the gateway on all 4 attempts`.
    pub first: String,
    /// Requests whose failure persisted.
    pub requests: u64,
}

impl Unhealthy {
    /// The one line the run ends with.
    pub fn line(&self) -> String {
        format!(
            "the target is unhealthy: {} failed on every attempt, the first {}",
            crate::text::plural(self.requests, "request", "requests"),
            self.first
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2015-10-21T07:28:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn response(status: u16, content_type: &str, body: &str) -> Response {
        Response::new(status, Some(content_type.into()), body.as_bytes().to_vec())
    }

    #[test]
    fn retry_after_reads_seconds_dates_and_refuses_garbage() {
        assert_eq!(parse_retry_after("3", now()), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(" 0 ", now()), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:05 GMT", now()),
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now()),
            Some(Duration::ZERO),
            "a date in the past is no wait"
        );
        for garbage in [
            "",
            "soon",
            "-1",
            "1.5",
            "2015-10-21T07:28:05Z",
            "Wed, 99 Oct",
        ] {
            assert_eq!(parse_retry_after(garbage, now()), None, "{garbage:?}");
        }
    }

    #[test]
    fn backoff_grows_stays_within_its_bounds_and_is_seeded() {
        let policy = RetryPolicy::default();
        let mut state = 7;
        for retry in 0..40 {
            let ceiling = policy
                .base_backoff
                .saturating_mul(1 << retry.min(20))
                .min(policy.max_backoff);
            for _ in 0..50 {
                state = splitmix(state);
                let wait = policy.backoff(retry, state);
                assert!(
                    wait >= ceiling / 2 && wait < ceiling,
                    "retry {retry}: {wait:?} outside [{:?}, {ceiling:?})",
                    ceiling / 2
                );
            }
        }
        assert_eq!(policy.backoff(2, 99), policy.backoff(2, 99));
        assert_ne!(policy.backoff(2, 1 << 40), policy.backoff(2, u64::MAX));
        assert!(policy.backoff(u32::MAX, u64::MAX) <= policy.max_backoff);
    }

    #[test]
    fn an_html_503_is_infrastructure_and_a_json_detail_503_is_the_service() {
        let html = response(
            503,
            "text/html",
            "<html><body>Service Unavailable</body></html>",
        );
        assert_eq!(
            classify(&html, None, now()),
            Class::Infra(Infra::GatewayStatus(503))
        );
        let service = response(503, "application/json", r#"{"detail": "database down"}"#);
        assert_eq!(classify(&service, None, now()), Class::Service);
        let structured = response(502, "application/json", r#"{"detail": [{"msg": "x"}]}"#);
        assert_eq!(classify(&structured, None, now()), Class::Service);
        // JSON that is not the service's shape is a gateway's (AWS: {"message": ...}).
        let gateway_json = response(
            504,
            "application/json",
            r#"{"message": "Endpoint request timed out"}"#,
        );
        assert_eq!(
            classify(&gateway_json, None, now()),
            Class::Infra(Infra::GatewayStatus(504))
        );
        // A 500 is always the service's, whatever its body.
        let plain_500 = response(500, "text/html", "<h1>Internal Server Error</h1>");
        assert_eq!(classify(&plain_500, None, now()), Class::Service);
        let throttled = response(429, "text/html", "slow down");
        assert_eq!(
            classify(&throttled, Some("2"), now()),
            Class::Throttled(Some(Duration::from_secs(2)))
        );
        assert_eq!(
            classify(&throttled, Some("later"), now()),
            Class::Throttled(None)
        );
    }
}
