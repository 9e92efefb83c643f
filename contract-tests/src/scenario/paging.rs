//! The pagination scenario: a few tagged records listed page by page at one page size, every page (and the empty one after the last) holding exactly its window of the matches, with the full total.

use proptest::prelude::*;

use super::{Exec, Scenario, arb_nonce, sim_id};
use crate::exchange::Auth;
use crate::listing::{self, ListExpectation, ListFilter, sort_newest_first};
use crate::spec::Spec;

#[derive(Debug, Clone, PartialEq)]
pub struct PagePlan {
    pub nonce: String,
    pub count: usize,
    pub size: usize,
}

/// Up to six records, and a page size the spec allows that is at most the record count where
/// the bounds permit, so that the records span pages.
pub(super) fn arb_paging(spec: &Spec) -> impl Strategy<Value = Scenario> + use<> {
    let (minimum, maximum) = spec
        .api
        .query_parameter(listing::PAGE_SIZE)
        .and_then(|p| p.integer_bounds())
        .unwrap_or_default();
    let smallest = usize::try_from(minimum.unwrap_or(1)).unwrap_or(1).max(1);
    let largest = maximum.map_or(usize::MAX, |m| usize::try_from(m).unwrap_or(usize::MAX));
    (arb_nonce(), 1usize..7)
        .prop_flat_map(move |(nonce, count)| {
            let sizes = smallest..=count.clamp(smallest, largest.max(smallest));
            (Just(nonce), Just(count), sizes)
        })
        .prop_map(|(nonce, count, size)| Scenario::Paging(PagePlan { nonce, count, size }))
}

pub(super) async fn run(x: &mut Exec<'_>, plan: &PagePlan) {
    let tag = x.tag(&plan.nonce);
    let mut sims = Vec::new();
    for i in 0..plan.count {
        match x.create_tagged(&format!("{tag}-{i}"), &tag).await {
            Some(sim) => sims.push(sim),
            None => return,
        }
    }
    sort_newest_first(&mut sims);
    let ids: Vec<String> = sims.iter().map(sim_id).collect();
    let filter = ListFilter {
        search: Some(tag.clone()),
        ..ListFilter::default()
    };
    let pages = ids.len().div_ceil(plan.size) + 1;
    for page in 1..=pages {
        let slice: Vec<String> = ids
            .iter()
            .skip((page - 1) * plan.size)
            .take(plan.size)
            .cloned()
            .collect();
        x.list(
            Auth::Primary,
            plan.size as u64,
            page as u64,
            ListExpectation {
                filter: filter.clone(),
                exact: true,
                expected_ids: slice,
                total: ids.len() as u64,
                absent: vec![],
            },
        )
        .await;
    }
}
