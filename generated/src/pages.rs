//! Hand-written: every page of a list as a stream, which progenitor does not write for this API's
//! `page`/`size` pagination.

use std::num::NonZeroU64;

use futures_util::Stream;

use crate::{Error, builder::ListSimulations, types};

impl<'a> ListSimulations<'a> {
    /// Every page of this list, in order, as a stream of `SimulationsListResponse`s.
    ///
    /// Filters and `size` are the ones set on this builder; `page` is set by the stream, from 1.
    /// It stops after the page that brings the count to the response's `total`, after an empty
    /// page (a server whose `total` overstates what it serves never loops), or after the first
    /// error, which it yields. Consume it with `futures::StreamExt::next` or `collect`.
    pub fn pages(
        self,
    ) -> impl Stream<Item = Result<types::SimulationsListResponse, Error<types::ApiError>>> + 'a
    {
        struct State<'a> {
            request: ListSimulations<'a>,
            page: Option<NonZeroU64>,
            seen: u64,
        }
        let start = State {
            request: self,
            page: Some(NonZeroU64::MIN),
            seen: 0,
        };
        futures_util::stream::unfold(start, |mut state| async move {
            let page = state.page?;
            let result = state.request.clone().page(page).send().await;
            match result {
                Ok(response) => {
                    let response = response.into_inner();
                    let items = response.simulations.len() as u64;
                    state.seen = state.seen.saturating_add(items);
                    state.page = if items == 0 || state.seen >= response.total {
                        None
                    } else {
                        page.checked_add(1)
                    };
                    Some((Ok(response), state))
                }
                Err(e) => {
                    state.page = None;
                    Some((Err(e), state))
                }
            }
        })
    }
}
