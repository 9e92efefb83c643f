//! The pagination scenario: a few tagged records listed page by page at one page size, every page (and the empty one after the last) holding exactly its window of the matches, with the full total; now and then a crowd of more than a default page, listed without size, with a size over 100 and by its second page.

use proptest::prelude::*;

use super::{Exec, Scenario, arb_nonce, sim_id};
use crate::listing::{self, ListExpectation, ListFilter, sort_newest_first};
use crate::request::{Auth, Expect};
use crate::spec::Spec;

#[derive(Debug, Clone, PartialEq)]
pub struct PagePlan {
    pub nonce: String,
    pub count: usize,
    pub size: usize,
}

/// `list.defaults`: the page size when `size` is absent. A crowd is just more than this, so a
/// server that caps every page at it (or ignores a larger size) shows.
const DEFAULT_PAGE: usize = 100;

/// One paging scenario in this many is a crowd: each costs a hundred-odd creates and deletes.
const CROWD_ONE_IN: u32 = 25;

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
    let few = (arb_nonce(), 1usize..7)
        .prop_flat_map(move |(nonce, count)| {
            let sizes = smallest..=count.clamp(smallest, largest.max(smallest));
            (Just(nonce), Just(count), sizes)
        })
        .prop_map(|(nonce, count, size)| Scenario::Paging(PagePlan { nonce, count, size }));
    // A crowd's size is over 100 and holds them all; a spec whose size stops below that gets
    // no crowd (a page can then never be more than 100, nor need to be).
    let crowd_count = DEFAULT_PAGE + 1..=DEFAULT_PAGE + 3;
    if largest <= DEFAULT_PAGE || smallest > DEFAULT_PAGE + 1 {
        return few.boxed();
    }
    let crowd = (arb_nonce(), crowd_count)
        .prop_flat_map(move |(nonce, count)| {
            let sizes = count..=(count + 20).min(largest);
            (Just(nonce), Just(count), sizes)
        })
        .prop_map(|(nonce, count, size)| Scenario::Paging(PagePlan { nonce, count, size }));
    prop_oneof![CROWD_ONE_IN - 1 => few, 1 => crowd].boxed()
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
    if ids.len() > DEFAULT_PAGE {
        return crowd(x, &ids, filter, plan.size).await;
    }
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

/// More records than a default page: the first page without `size` holds exactly 100 of them,
/// the second page of 100 the rest, and one page of `size` (over 100) all of them.
async fn crowd(x: &mut Exec<'_>, ids: &[String], filter: ListFilter, size: usize) {
    let total = ids.len() as u64;
    let expect = |expected: &[String]| ListExpectation {
        filter: filter.clone(),
        exact: true,
        expected_ids: expected.to_vec(),
        total,
        absent: vec![],
    };
    let unpaged = x.spec.api.list(&filter.filters());
    x.send(unpaged, Expect::Listed(expect(&ids[..DEFAULT_PAGE])))
        .await;
    x.list(
        Auth::Primary,
        DEFAULT_PAGE as u64,
        2,
        expect(&ids[DEFAULT_PAGE..]),
    )
    .await;
    x.list(Auth::Primary, size as u64, 1, expect(ids)).await;
}
