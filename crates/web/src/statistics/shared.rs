//! What every statistics page shares: region codes in URLs (`CN` for the country), the scope of
//! a region, a year's month range and category names in the reader's language.

use std::collections::BTreeMap;

use shegong_domain::{RegionCode, Scope};
use shegong_store::{Conn, people::households};

use crate::http::error::{WebError, WebResult};
use crate::ui::i18n::{Lang, Tr};

/// Region code in URLs: `CN` for the whole country.
pub(crate) fn code_of(s: &str) -> WebResult<String> {
    if s.eq_ignore_ascii_case("cn") {
        return Ok(String::new());
    }
    RegionCode::parse(s)
        .map(|c| c.to_string())
        .map_err(|_| WebError::NotFound)
}

/// A region code as it appears in URLs.
pub(crate) fn url_code(code: &str) -> &str {
    if code.is_empty() { "CN" } else { code }
}

/// The year's month range (`YYYY-01`, `YYYY-12`).
pub(super) fn months(year: i32) -> (String, String) {
    (format!("{year:04}-01"), format!("{year:04}-12"))
}

/// Resident category names by code, in the reader's language.
pub(super) async fn category_names(
    c: &mut Conn,
    t: &Tr,
    scope: &Scope,
) -> WebResult<BTreeMap<String, String>> {
    Ok(households::categories(c, scope)
        .await?
        .into_iter()
        .map(|x| {
            (
                x.code,
                if t.lang == Lang::En {
                    x.name_en
                } else {
                    x.name_zh
                },
            )
        })
        .collect())
}

/// The scope of a region's figures ('' for the country), whatever the reader's own scope.
pub(super) fn region_scope(code: &str) -> Scope {
    Scope {
        region: RegionCode::parse(code).ok(),
        org: None,
    }
}
