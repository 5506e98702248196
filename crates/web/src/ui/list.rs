//! Helpers shared by list pages: pagination links that keep the filters, field errors on forms,
//! and API time formatting.

use shegong_domain::FieldError;
use shegong_store::Page;

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
}

/// Build a pager for `page`, where `query` holds the current filters (without `page`).
pub fn pager<T>(t: &Tr, page: &Page<T>, path: &str, query: &[(&str, String)]) -> Pager {
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
    let lo = (page.page - 3).max(1);
    let hi = (page.page + 3).min(pages);
    Pager {
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
    }
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
