//! A scenario is what one generated case runs: one request or a sequence, each response paired with what the contract expects of it.

use proptest::prelude::*;

use crate::cases::{Case, arb_create_case};
use crate::checks::Response;
use crate::http::{Pacer, Target, TransportError};
use crate::spec::Spec;

/// One generated unit of work.
#[derive(Debug, Clone, PartialEq)]
pub enum Scenario {
    /// A single request judged on its own.
    Single(Case),
}

/// A request that was sent, what was expected of it, and what came back.
#[derive(Debug, Clone)]
pub struct Observation {
    pub case: Case,
    pub response: Result<Response, TransportError>,
}

impl Scenario {
    pub fn first_case(&self) -> &Case {
        match self {
            Scenario::Single(case) => case,
        }
    }

    pub async fn execute(&self, target: &Target, pacer: &Pacer) -> Vec<Observation> {
        match self {
            Scenario::Single(case) => {
                pacer.wait().await;
                let response = target.send(&case.request).await;
                vec![Observation {
                    case: case.clone(),
                    response,
                }]
            }
        }
    }
}

/// The mix of scenarios a run draws from.
pub fn arb_scenario(spec: &Spec) -> BoxedStrategy<Scenario> {
    arb_create_case(&spec.create_body)
        .prop_map(Scenario::Single)
        .boxed()
}
