//! Cursor pagination of every list: `limit` (1–200, default 50) and `cursor` in the
//! query, `{"items": [...], "next_cursor": "…" | null}` in the answer. A cursor is
//! opaque to clients; here it is the id of the last item of the page before.

use std::collections::HashMap;
use std::str::FromStr;

use axum::extract::Query;
use serde::Serialize;

use crate::Problem;

pub(crate) const DEFAULT_LIMIT: u32 = 50;
pub(crate) const MAX_LIMIT: u32 = 200;

/// `limit` and `cursor`, in the OpenAPI document.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(crate) struct Params {
    /// Items per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    limit: Option<u32>,
    /// The `next_cursor` of the page before.
    cursor: Option<String>,
}

/// Where a page starts and how long it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PageQuery<C> {
    pub limit: u32,
    pub cursor: Option<C>,
}

/// The page asked for by the query string `raw`, which may hold nothing else.
pub(crate) fn parse<C: FromStr>(raw: Option<&str>) -> Result<PageQuery<C>, Problem> {
    parse_with(raw, &[]).map(|(page, _)| page)
}

/// The page asked for by the query string `raw`, and the values of the list's
/// `filters` it gives (any other parameter is refused by name).
pub(crate) fn parse_with<C: FromStr>(
    raw: Option<&str>,
    filters: &[&str],
) -> Result<(PageQuery<C>, HashMap<String, String>), Problem> {
    let malformed = || Problem::bad_request("The query string is malformed.");
    let uri = format!("/?{}", raw.unwrap_or_default())
        .parse()
        .map_err(|_| malformed())?;
    let pairs = Query::<Vec<(String, String)>>::try_from_uri(&uri)
        .map_err(|_| malformed())?
        .0;
    let mut page = PageQuery {
        limit: DEFAULT_LIMIT,
        cursor: None,
    };
    let mut given = HashMap::new();
    for (name, value) in pairs {
        match name.as_str() {
            "limit" => {
                page.limit = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_LIMIT).contains(n))
                    .ok_or_else(|| {
                        Problem::bad_request(format!(
                            "`limit` must be a whole number from 1 to {MAX_LIMIT}."
                        ))
                    })?;
            }
            "cursor" => {
                page.cursor = Some(value.parse().map_err(|_| {
                    Problem::bad_request(
                        "`cursor` is not one this API gave: pass the `next_cursor` of the page before.",
                    )
                })?);
            }
            filter if filters.contains(&filter) => {
                given.insert(filter.to_string(), value);
            }
            other => {
                let shown = meridian_core::wire::shown_id(other);
                let takes: String = filters.iter().map(|f| format!("`{f}`, ")).collect();
                return Err(Problem::bad_request(format!(
                    "Unknown query parameter `{shown}`: this list takes {takes}`limit` and `cursor`."
                )));
            }
        }
    }
    Ok((page, given))
}

/// One page of a list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// The `cursor` of the next page; null on the last.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// The page of `fetched`, read with a limit one above `limit`: an item beyond it
    /// means there is a next page, which starts after the last item kept.
    pub fn of(mut fetched: Vec<T>, limit: u32, cursor_of: impl Fn(&T) -> String) -> Page<T> {
        let more = fetched.len() > limit as usize;
        fetched.truncate(limit as usize);
        let next_cursor = more.then(|| fetched.last().map(&cursor_of)).flatten();
        Page {
            items: fetched,
            next_cursor,
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use meridian_core::KeyId;

    use super::*;

    #[test]
    fn limits_outside_1_to_200_and_forged_cursors_are_refused_by_name() {
        let refused = |q: &str| parse::<KeyId>(Some(q)).unwrap_err().detail;
        assert!(refused("limit=0").contains("`limit`"));
        assert!(refused("limit=201").contains("`limit`"));
        assert!(refused("limit=ten").contains("`limit`"));
        assert!(refused("cursor=forged").contains("`cursor`"));
        assert!(refused("sort=name").contains("`sort`"));
        let page = parse::<KeyId>(Some("limit=200")).unwrap();
        assert_eq!((page.limit, page.cursor), (200, None));
        assert_eq!(parse::<KeyId>(None).unwrap().limit, DEFAULT_LIMIT);
    }

    #[test]
    fn a_page_read_one_long_has_a_next_cursor() {
        let page = Page::of(vec![1, 2, 3], 2, |n| n.to_string());
        assert_eq!(
            (page.items, page.next_cursor),
            (vec![1, 2], Some("2".into()))
        );
        let last = Page::of(vec![1, 2], 2, |n| n.to_string());
        assert_eq!(last.next_cursor, None);
    }
}
