//! Tenancy: another team's key can neither see (not even by the very query the owner just ran), read, update nor delete this team's simulation, and the record is unchanged after it tried.

use proptest::prelude::*;

use super::{Exec, Scenario, arb_nonce, by_logical_id, sim_id};
use crate::listing::{ListExpectation, ListFilter};
use crate::request::{Auth, Expect, exercise};
use crate::rules::Rule;
use crate::values::plain_object;

pub(super) fn arb_tenancy() -> impl Strategy<Value = Scenario> {
    arb_nonce().prop_map(Scenario::Tenancy)
}

pub(super) async fn run(x: &mut Exec<'_>, nonce: &str) {
    let spec = x.spec;
    let api = &spec.api;
    let tag = x.tag(nonce);
    let Some(created) = x.create_tagged(&tag, &tag).await else {
        return;
    };
    let id = sim_id(&created);
    if x.state.other_team {
        x.get(&id, Auth::OtherTeam, Expect::NotFound).await;
        let mut request = api.update(&id, plain_object(&spec.update_body, "other team"));
        request.auth = Auth::OtherTeam;
        x.send(request, Expect::NotFound).await;
        let mut request = api.delete(&id);
        request.auth = Auth::OtherTeam;
        x.send(request, Expect::NotFound).await;
        // The owner's query first, then the same query with the other key: a page cached by
        // its query string alone (the team left out of the key) shows the owner's record.
        x.list(
            Auth::Primary,
            10,
            1,
            ListExpectation::exactly(by_logical_id(&tag), vec![id.clone()]),
        )
        .await;
        x.list(
            Auth::OtherTeam,
            10,
            1,
            ListExpectation::empty_without(by_logical_id(&tag), vec![id.clone()]),
        )
        .await;
        let search = ListFilter {
            search: Some(tag.clone()),
            ..ListFilter::default()
        };
        x.list(
            Auth::OtherTeam,
            100,
            1,
            ListExpectation::empty_without(search, vec![id.clone()]),
        )
        .await;
        // After another team's get, update and delete, the owner still reads the record
        // (`tenancy.item` not over-applied) and it is unchanged (nor under-applied).
        let owner = [
            exercise(Rule::TenancyItem, "unchanged-after"),
            exercise(Rule::TenancyItem, "owner-served"),
            exercise(Rule::NeverLost, "after-other-team"),
        ];
        x.read_back_exercising(&id, &created, &owner).await;
    } else {
        x.read_back(&id, &created).await;
    }
}
