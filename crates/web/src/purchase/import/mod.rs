//! The purchase area's spreadsheet imports (see `import::engine`): catalogue items into their
//! region's edition of a year, and contracts with their lines, one row per line.

mod catalogue;
mod contracts;

use shegong_domain::RegionLevel;
use shegong_domain::purchase::parse_percent;

use crate::import::engine::{CellMessage, Job};
use crate::import::resolve::{RegionIndex, RegionMiss};
use crate::ui::i18n::Tr;

/// Catalogue items, found again by edition (region + year) and name.
pub const CATALOGUE: catalogue::Catalogue = catalogue::Catalogue;
/// Contracts, found again by purchaser region and contract number.
pub const CONTRACTS: contracts::Contracts = contracts::Contracts;

/// The years a sheet may name (and the mapping page offers as one value for all rows).
const YEARS: &[(&str, &[&str])] = &[
    ("2018", &["2018", "2018年", "2018年度"]),
    ("2019", &["2019", "2019年", "2019年度"]),
    ("2020", &["2020", "2020年", "2020年度"]),
    ("2021", &["2021", "2021年", "2021年度"]),
    ("2022", &["2022", "2022年", "2022年度"]),
    ("2023", &["2023", "2023年", "2023年度"]),
    ("2024", &["2024", "2024年", "2024年度"]),
    ("2025", &["2025", "2025年", "2025年度"]),
    ("2026", &["2026", "2026年", "2026年度"]),
    ("2027", &["2027", "2027年", "2027年度"]),
    ("2028", &["2028", "2028年", "2028年度"]),
    ("2029", &["2029", "2029年", "2029年度"]),
    ("2030", &["2030", "2030年", "2030年度"]),
    ("2031", &["2031", "2031年", "2031年度"]),
    ("2032", &["2032", "2032年", "2032年度"]),
    ("2033", &["2033", "2033年", "2033年度"]),
    ("2034", &["2034", "2034年", "2034年度"]),
    ("2035", &["2035", "2035年", "2035年度"]),
];

/// A purchaser's region is usually a county or a city; townships and provinces buy too.
async fn purchaser_regions(
    job: &Job<'_>,
    conn: &mut shegong_store::Conn,
) -> crate::http::error::WebResult<Vec<RegionIndex>> {
    let scope = job.scope();
    let mut regions = Vec::new();
    for level in [
        RegionLevel::County,
        RegionLevel::City,
        RegionLevel::Province,
        RegionLevel::Township,
    ] {
        regions.push(RegionIndex::load(conn, &scope, level).await?);
    }
    Ok(regions)
}

/// The first level whose regions know the name; an ambiguous name stops the search.
fn resolve_region(regions: &[RegionIndex], place: &str) -> Result<String, RegionMiss> {
    for index in regions {
        match index.resolve(place) {
            Ok(c) => return Ok(c),
            Err(e) if e.0 == "import.region_ambiguous" => return Err(e),
            Err(_) => {}
        }
    }
    Err(("import.region_not_found", place.to_owned()))
}

/// Percentages as a list ("40/40/20", "40%,40%,20%", "40%、40%、20%") in basis points.
fn percent_list(text: &str) -> Result<Vec<i64>, &'static str> {
    text.split([
        '/', '／', ',', '，', '、', ';', '；', ' ', '\u{3000}', '+', '＋',
    ])
    .map(str::trim)
    .filter(|s| !s.is_empty())
    .map(|s| parse_percent("plan", s).map_err(|e| e.code))
    .collect()
}

/// "导入完成：新增 3，更新 1，未变 5，跳过有误的 2 行" from a registry page's query after an
/// import (created, updated, unchanged, skipped); `None` unless it follows one.
pub fn summary(t: &Tr, counts: [Option<usize>; 4]) -> Option<String> {
    let [created, updated, unchanged, skipped] = counts;
    let n = |v: Option<usize>| v.unwrap_or(0).to_string();
    Some(t.fmt(
        "import.summary",
        &[
            ("created", &created?.to_string()),
            ("updated", &n(updated)),
            ("unchanged", &n(unchanged)),
            ("skipped", &n(skipped)),
        ],
    ))
}

/// A message about several columns at once (the cost shares of three levels).
fn on_columns(columns: String, raw: String, message: String) -> CellMessage {
    CellMessage {
        column: columns,
        raw,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_lists_in_every_spelling() {
        assert_eq!(percent_list("40/40/20"), Ok(vec![4000, 4000, 2000]));
        assert_eq!(percent_list("40%,40%,20%"), Ok(vec![4000, 4000, 2000]));
        assert_eq!(
            percent_list("４０％、４０％、２０％"),
            Ok(vec![4000, 4000, 2000])
        );
        assert_eq!(percent_list("30 / 30 / 30"), Ok(vec![3000, 3000, 3000]));
        assert_eq!(percent_list("四十/六十"), Err("purchase.percent_invalid"));
    }
}
