//! Pages of the API's bare lists: a `limit` with a default and a maximum, and, when more follow,
//! a header naming the cursor to send for the next page (`X-Next-After`, `X-Next-Before`), as the
//! audit's CSV names its `before` in `X-Next-Before`. The body stays a bare JSON list.

use axum::Json;
use axum::http::{HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::domain::page::Page;
use crate::http::error::ApiError;

/// Items of a page when the request names no `limit`.
pub const DEFAULT_LIMIT: u64 = 100;
/// The most items a page holds.
pub const MAX_LIMIT: u64 = 1000;

/// The page size asked for, [`DEFAULT_LIMIT`] without one.
///
/// # Errors
/// 422 naming `limit` outside `1..=MAX_LIMIT`.
pub fn limit(asked: Option<u64>) -> Result<u64, ApiError> {
    let limit = asked.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::field("limit", format!("must be between 1 and {MAX_LIMIT}")));
    }
    Ok(limit)
}

/// Where the next page starts: the value to send as `after` or `before`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Send as `after` (lists read forwards: oldest or soonest first).
    After(i32),
    /// Send as `before` (lists read backwards: newest first).
    Before(i32),
}

/// A bare JSON list, with `X-Next-After` or `X-Next-Before` when more follow.
pub struct Paged<T> {
    items: Vec<T>,
    next: Option<Next>,
}

impl<T> Paged<T> {
    /// `items`, with the cursor `next` when more follow.
    pub fn new(items: Vec<T>, next: Option<Next>) -> Self {
        Self { items, next }
    }

    /// A list that is never long enough to need pages.
    pub fn whole(items: Vec<T>) -> Self {
        Self { items, next: None }
    }

    /// The answer for `page`: its items as `show` maps them, and, when more follow, the cursor
    /// `next` names from its last item.
    pub fn of<I, N, S>(page: Page<I>, next: N, show: S) -> Self
    where
        N: Fn(&I) -> Next,
        S: FnMut(I) -> T,
    {
        let cursor = if page.more() { page.items().last().map(next) } else { None };
        let (items, _) = page.into_parts();
        Self { items: items.into_iter().map(show).collect(), next: cursor }
    }
}

impl<T: Serialize> IntoResponse for Paged<T> {
    fn into_response(self) -> Response {
        let mut response = Json(self.items).into_response();
        let header = match self.next {
            Some(Next::After(id)) => Some(("x-next-after", id)),
            Some(Next::Before(id)) => Some(("x-next-before", id)),
            None => None,
        };
        if let Some((name, id)) = header {
            response.headers_mut().insert(HeaderName::from_static(name), HeaderValue::from(id));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_defaults_and_is_refused_outside_its_range() {
        assert_eq!(limit(None).expect("default"), DEFAULT_LIMIT);
        assert_eq!(limit(Some(1)).expect("one"), 1);
        assert_eq!(limit(Some(MAX_LIMIT)).expect("the most"), MAX_LIMIT);
        for asked in [0, MAX_LIMIT + 1, u64::MAX] {
            assert!(limit(Some(asked)).is_err(), "{asked}");
        }
    }

    #[test]
    fn the_next_page_is_named_by_the_last_item_only_when_more_follow() {
        let paged = Paged::of(Page::from_one_more(vec![1, 2, 3], 2), |n| Next::After(*n), |n| n * 10);
        assert_eq!((paged.items, paged.next), (vec![10, 20], Some(Next::After(2))));
        let paged = Paged::of(Page::from_one_more(vec![1, 2], 2), |n| Next::Before(*n), |n| n);
        assert_eq!((paged.items, paged.next), (vec![1, 2], None));
    }
}
