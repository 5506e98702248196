//! Helpers shared by list pages: pagination links that keep the filters, field errors on forms,
//! and API time formatting.

use shegong_domain::FieldError;
use shegong_store::Page;

use crate::http::error::{WebError, WebResult};
use crate::ui::i18n::Tr;

pub struct Pager {
    /// "共 N 条，第 p / P 页"
    pub info: String,
    pub total: i64,
    pub page: i64,
    pub pages: i64,
    pub prev: Option<String>,
    pub next: Option<String>,
    /// Nearby page numbers with their links (`None` marks the current page).
    pub links: Vec<(i64, Option<String>)>,
    /// The list's address (for the page-size form).
    pub path: String,
    /// The filters and order without `page` and `per_page` (hidden fields of the page-size form).
    pub keep: Vec<(String, String)>,
    /// The page size, when the list offers a choice (its query carries `per_page`).
    pub per_page: Option<i64>,
    /// The current order (`key` or `-key`), when the list offers sorting (its query carries `sort`).
    pub sort: Option<String>,
}

impl Pager {
    pub fn sizes(&self) -> &'static [i64] {
        &shegong_store::PAGE_SIZES
    }

    /// The link a sortable column header points to: by `key` ascending, or descending when the
    /// list is already sorted by it ascending; back to page 1.
    pub fn sort_href(&self, key: &str) -> String {
        let next = if self.sort.as_deref() == Some(key) {
            format!("-{key}")
        } else {
            key.to_string()
        };
        let mut pairs: Vec<(&str, &str)> = self
            .keep
            .iter()
            .filter(|(k, _)| k != "sort")
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        pairs.push(("sort", &next));
        let size = self.per_page_param();
        if let Some(n) = &size {
            pairs.push(("per_page", n));
        }
        format!(
            "{}?{}",
            self.path,
            serde_urlencoded::to_string(&pairs).unwrap_or_default()
        )
    }

    fn per_page_param(&self) -> Option<String> {
        self.per_page.filter(|n| *n != 20).map(|n| n.to_string())
    }

    /// `ascending`, `descending` or `none` (the header's `aria-sort`).
    pub fn sort_state(&self, key: &str) -> &'static str {
        match self.sort.as_deref() {
            Some(s) if s == key => "ascending",
            Some(s) if s.strip_prefix('-') == Some(key) => "descending",
            _ => "none",
        }
    }

    /// `sort_state` of a key whose natural order is descending (the latest or most first:
    /// `key` sorts descending, `-key` ascending).
    pub fn sort_state_desc(&self, key: &str) -> &'static str {
        match self.sort_state(key) {
            "ascending" => "descending",
            "descending" => "ascending",
            other => other,
        }
    }
}

/// Build a pager for `page`, where `query` holds the current filters (without `page`). A list
/// that offers sorting and page sizes includes `sort` and `per_page` in `query` (even empty).
/// A page number past the last page is answered by a 303 to the last page with the same query.
pub fn pager<T>(t: &Tr, page: &Page<T>, path: &str, query: &[(&str, String)]) -> WebResult<Pager> {
    let href = |n: i64| {
        let mut pairs: Vec<(&str, String)> = query
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .cloned()
            .collect();
        pairs.push(("page", n.to_string()));
        format!(
            "{path}?{}",
            serde_urlencoded::to_string(&pairs).unwrap_or_default()
        )
    };
    let pages = page.pages();
    if page.page > pages && !page.capped {
        return Err(WebError::SeeOther(href(pages)));
    }
    let lo = (page.page - 3).max(1);
    let hi = (page.page + 3).min(pages);
    let offers = |k: &str| query.iter().any(|(q, _)| *q == k);
    Ok(Pager {
        info: t.fmt(
            if page.capped {
                "pager.info_capped"
            } else {
                "pager.info"
            },
            &[
                ("total", &page.total.to_string()),
                ("page", &page.page.to_string()),
                ("pages", &pages.to_string()),
            ],
        ),
        total: page.total,
        page: page.page,
        pages,
        prev: (page.page > 1).then(|| href(page.page - 1)),
        next: (page.page < pages).then(|| href(page.page + 1)),
        links: (lo..=hi)
            .map(|n| (n, (n != page.page).then(|| href(n))))
            .collect(),
        path: path.to_string(),
        keep: query
            .iter()
            .filter(|(k, v)| *k != "per_page" && !v.is_empty())
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
        per_page: offers("per_page").then_some(page.per_page),
        sort: offers("sort")
            .then(|| query.iter().find(|(k, _)| *k == "sort"))
            .flatten()
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty()),
    })
}

/// The `sort` and `per_page` pairs of a list's query (after its filters), the sort only when the
/// list's whitelist holds it.
pub fn table_pairs(
    sort: Option<shegong_store::Sort>,
    per_page: Option<i64>,
) -> [(&'static str, String); 2] {
    [
        ("sort", sort.map(|s| s.param()).unwrap_or_default()),
        (
            "per_page",
            per_page
                .map(|n| {
                    shegong_store::PageRequest::sized(None, Some(n))
                        .per_page
                        .to_string()
                })
                .unwrap_or_default(),
        ),
    ]
}

/// Field errors of a submitted form, translated on demand by the template.
#[derive(Default)]
pub struct FormErrors {
    pub t: Option<Tr>,
    pub fields: Vec<FieldError>,
}

impl FormErrors {
    pub fn new(t: Tr, fields: Vec<FieldError>) -> Self {
        Self { t: Some(t), fields }
    }

    pub fn get(&self, field: &str) -> Option<String> {
        let t = self.t?;
        self.fields
            .iter()
            .find(|e| e.field == field)
            .map(|e| t.get(e.code).to_owned())
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Errors for fields the form does not show next to a control.
    pub fn others(&self, shown: &[&str]) -> Vec<String> {
        let Some(t) = self.t else { return vec![] };
        self.fields
            .iter()
            .filter(|e| !shown.contains(&e.field))
            .map(|e| t.get(e.code).to_owned())
            .collect()
    }
}

/// RFC 3339 (UTC) for API timestamps.
pub fn rfc3339(millis: i64) -> String {
    chrono::DateTime::from_timestamp_millis(millis)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// A UTC instant as China Standard Time `YYYY-MM-DD HH:MM` (what pages and sheets show).
pub fn local_time(millis: i64) -> String {
    chrono::DateTime::from_timestamp_millis(millis.saturating_add(8 * 3_600_000))
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// The same as a `datetime-local` input's value (`YYYY-MM-DDTHH:MM`).
pub fn local_input(millis: i64) -> String {
    local_time(millis).replacen(' ', "T", 1)
}

/// Parse a `YYYY-MM-DD` date as the start of that day in China Standard Time (UTC+8).
pub fn date_start_millis(s: &str) -> Option<i64> {
    let d = chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()?;
    Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis() - 8 * 3_600_000)
}

/// The notice a page shows after a redirect (`?notice=notice.saved`).
#[derive(serde::Deserialize)]
pub struct NoticeQuery {
    pub notice: Option<String>,
}

/// A coded filter from a query string: empty is none; anything else must parse (refused naming
/// its field).
pub fn filter_code<T>(
    v: &Option<String>,
    parse: fn(&str) -> Result<T, FieldError>,
) -> crate::http::error::WebResult<Option<T>> {
    match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Ok(Some(parse(s)?)),
        None => Ok(None),
    }
}

/// A region filter from a query string: empty is none; a bad code is refused on `region`.
pub fn filter_region(
    v: &Option<String>,
) -> crate::http::error::WebResult<Option<shegong_domain::RegionCode>> {
    filter_code(v, |r| {
        shegong_domain::RegionCode::parse(r)
            .map_err(|_| FieldError::new("region", "region.invalid_code"))
    })
}

/// The most records a batch selection may hold.
pub const BATCH_MAX: usize = 200;

/// A batch selection from a query (`ids`, comma-separated): none when empty; 1..=`BATCH_MAX`
/// ids of at most 64 characters each, anything else refused on `ids`. The store filters them by
/// the viewer's scope like any other filter.
pub fn batch_ids(raw: Option<&str>) -> WebResult<Option<Vec<String>>> {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let mut ids: Vec<String> = raw
        .split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() || ids.len() > BATCH_MAX || ids.iter().any(|s| s.len() > 64) {
        return Err(FieldError::new("ids", "batch.invalid").into());
    }
    Ok(Some(ids))
}

/// An export of a batch selection finds every selected record, or is refused on `ids` (a
/// selection reaching outside the caller's scope, or naming records that do not exist).
pub fn check_batch(ids: Option<&Vec<String>>, found: usize) -> WebResult<()> {
    match ids {
        Some(ids) if ids.len() != found => Err(FieldError::new("ids", "batch.out_of_scope").into()),
        _ => Ok(()),
    }
}
