//! What a check judges and what it concludes: one exchange (the case, its response, the run's state), and the verdict, passed (with the rules it compared), not applicable, or a mismatch located by a JSON pointer.

use crate::http::TransportError;
use crate::request::{Case, Exercise};
use crate::response::Response;
use crate::rules::RuleSet;
use crate::run_state::RunState;
use crate::spec::Spec;

/// A request that was sent, what was expected of it, and what came back.
#[derive(Debug, Clone)]
pub struct Observation {
    pub case: Case,
    pub response: Result<Response, TransportError>,
    /// The rules the scenario says this request exercises beyond what can be read off the
    /// request and its expectation: a read-back after another team's refused update exercises
    /// `tenancy.item` and `never.lost`, which the read alone cannot tell.
    pub exercises: Vec<Exercise>,
}

/// Everything a check may look at.
#[derive(Debug)]
pub struct Exchange<'a> {
    pub spec: &'a Spec,
    pub case: &'a Case,
    pub response: &'a Response,
    pub state: &'a RunState,
}

/// A broken expectation, located by a JSON pointer into the response (or the request).
#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    pub pointer: String,
    pub expected: String,
    pub received: String,
}

/// What a check concluded about one exchange: it passed, it did not apply, or it failed.
pub type Verdict = Result<Applied, Mismatch>;

/// How a check that did not fail ended. A check that did not apply did not pass: the summary
/// and JUnit count the two apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The check compared what it asserts and found it right: the rules it asserted on this
    /// exchange (a comparison that could have failed), [`RuleSet::ALL`] for "every rule the
    /// check names". The runner keeps only those the check names (`Check::rules`), and
    /// coverage credits only those.
    Passed(RuleSet),
    NotApplicable,
}

/// One exact pointer of a group of failures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointerSeen {
    pub pointer: String,
    pub occurrences: u64,
    /// The seed of the first case that showed it.
    pub seed_hex: String,
}
