//! The public disclosure portal (`/public`, no login): a region's stations as a directory and a
//! map drawn from their coordinates, and its service figures of the year with small cells
//! suppressed (never personal data), also as a CSV download.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use shegong_domain::Scope;
use shegong_store::statistics::counters::{self, Dim, Regions, Row};
use shegong_store::{Conn, PageRequest, network::regions, network::stations};

use super::shared::{category_names, code_of, region_scope, url_code};
use crate::http::auth::Ctx;
use crate::http::error::WebResult;
use crate::http::render::{Base, Crumb, page};
use crate::http::state::AppState;
use crate::ui::csv::Csv;
use crate::ui::forms::today;
use crate::ui::i18n::Tr;

/// Suppress a group of figures that add up to a published total (sub-regions of a region, kinds
/// of service): small cells as "<N", and when only one cell of the group is small, the next
/// smallest non-zero one too ("*"), so the hidden figure cannot be had by subtraction.
fn suppress_group(values: &[i64], threshold: i64) -> Vec<String> {
    let mut out: Vec<String> = values.iter().map(|&n| suppressed(n, threshold)).collect();
    let small = values.iter().filter(|&&n| n > 0 && n < threshold).count();
    if small == 1
        && let Some((i, _)) = values
            .iter()
            .enumerate()
            .filter(|(_, n)| **n >= threshold)
            .min_by_key(|(_, n)| **n)
        && let Some(cell) = out.get_mut(i)
    {
        *cell = "*".into();
    }
    out
}

/// A public figure: the number, or "<N" when it is below the threshold (and not zero): a small
/// count could point at a person.
fn suppressed(n: i64, threshold: i64) -> String {
    if n > 0 && n < threshold {
        format!("<{threshold}")
    } else {
        n.to_string()
    }
}

pub struct PublicStation {
    pub name: String,
    pub region: String,
    pub address: String,
    pub phone: String,
    pub open_hours: String,
    pub status: String,
}

#[derive(Template)]
#[template(path = "statistics/public/index.html")]
struct PublicPage {
    t: Tr,
    base: Base,
    code: String,
    place: String,
    children: Vec<(String, String, String, String)>,
    stations: Vec<PublicStation>,
    kinds: Vec<(String, String, String)>,
    people: Vec<(String, String)>,
    threshold: i64,
    year: String,
    /// The sub-regions on a boundary map, where one covers the region.
    map: Option<super::wall::MapBlock>,
    /// The directory's search text and pages.
    q: String,
    pager: crate::ui::list::Pager,
    echarts: &'static str,
    charts_js: &'static str,
}

#[derive(Deserialize, Default)]
pub struct PublicQuery {
    region: Option<String>,
    /// Directory search: station name or address.
    q: Option<String>,
    page: Option<i64>,
}

/// The directory's rows on a page.
const DIRECTORY_PAGE: i64 = 20;

/// The portal's map: sub-regions coloured by stations (or by the suppressed figures: a suppressed
/// cell is not coloured), every station with coordinates, a click opens the sub-region's portal.
async fn portal_map(
    c: &mut Conn,
    t: &Tr,
    state: &AppState,
    code: &str,
    children: &[(String, String, String, String)],
) -> WebResult<Option<super::wall::MapBlock>> {
    let Some(view) = super::maps::view(&state.config, t, code) else {
        return Ok(None);
    };
    let points = super::wall::station_points(c, &region_scope(code), code).await?;
    let all = points.as_array().cloned().unwrap_or_default();
    let (_, by_child) = shegong_store::network::coverage::coverage(
        c,
        &Scope::national(),
        (!code.is_empty()).then_some(code),
        &today(state.now()),
    )
    .await?;
    let mut regions = serde_json::Map::new();
    let num = |s: &str| s.parse::<i64>().ok();
    for (child, name, n, p) in children {
        let count = by_child
            .iter()
            .find(|f| f.code == *child)
            .map_or(0, |f| f.operating);
        regions.insert(
            child.clone(),
            serde_json::json!({
                "name": name, "drill": true,
                "v": {"stations": count, "records": num(n), "person_times": num(p)},
                "t": {"stations": count.to_string(), "records": n, "person_times": p},
            }),
        );
    }
    let inds = ["stations", "records", "person_times"];
    let label = |i: &str| {
        if i == "stations" {
            t.get("stats.ind.operating").to_owned()
        } else {
            t.get(&format!("stats.ind.{i}")).to_owned()
        }
    };
    let labels: serde_json::Map<String, serde_json::Value> = inds
        .iter()
        .map(|i| ((*i).to_owned(), label(i).into()))
        .collect();
    Ok(Some(super::wall::MapBlock {
        view,
        data: serde_json::json!({"labels": labels, "regions": regions, "stations": all})
            .to_string(),
        indicator: "stations".into(),
        indicators: inds.iter().map(|i| ((*i).to_owned(), label(i))).collect(),
        drill: "/public?region={code}".into(),
    }))
}

/// The portal: a region's stations (directory and a map drawn from their coordinates, no map
/// tiles), and its service figures of the year with small cells suppressed.
pub async fn portal(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<PublicQuery>,
) -> WebResult<Response> {
    let t = ctx.tr();
    let code = match q.region.as_deref().filter(|s| !s.is_empty()) {
        Some(r) => code_of(r)?,
        None => String::new(),
    };
    let threshold = state.config.portal_min_cell;
    let now = today(state.now());
    let (from, to) = (format!("{}-01", &now[..4]), now[..7].to_owned());
    let all = Scope::national();
    let mut c = state.db.read().await?;
    let place = if code.is_empty() {
        t.get("stats.national").to_owned()
    } else {
        regions::get(&mut c, &all, &code).await?.display_path()
    };
    let region_scope = region_scope(&code);
    let kids = regions::children(
        &mut c,
        &region_scope,
        (!code.is_empty()).then_some(code.as_str()),
    )
    .await?;
    let per_child = counters::read(
        &mut c,
        &all,
        Regions::ChildrenOf(&code),
        Dim::Kind,
        &from,
        &to,
    )
    .await?;
    let sums: Vec<(i64, i64)> = kids
        .iter()
        .map(|k| {
            per_child
                .iter()
                .filter(|r| r.region_code == k.code)
                .fold((0, 0), |a, r| (a.0 + r.n, a.1 + r.person_times))
        })
        .collect();
    let records = suppress_group(&sums.iter().map(|s| s.0).collect::<Vec<_>>(), threshold);
    let person_times = suppress_group(&sums.iter().map(|s| s.1).collect::<Vec<_>>(), threshold);
    let children: Vec<(String, String, String, String)> = kids
        .into_iter()
        .zip(records.into_iter().zip(person_times))
        .map(|(k, (n, p))| (k.code, k.name, n, p))
        .collect();
    let kinds = counters::read(&mut c, &all, Regions::One(&code), Dim::Kind, &from, &to).await?;
    let names = category_names(&mut c, &t, &all).await?;
    let cats = counters::read(&mut c, &all, Regions::One(&code), Dim::Category, "", "").await?;
    let shown = suppress_group(&cats.iter().map(|r| r.n).collect::<Vec<_>>(), threshold);
    let people = cats
        .into_iter()
        .zip(shown)
        .map(|(r, n)| (names.get(&r.key).cloned().unwrap_or(r.key), n))
        .collect();
    let map = portal_map(&mut c, &t, &state, &code, &children).await?;
    let (stations, pager, q_text) = directory_page(&mut c, &t, &code, &q).await?;
    drop(c);
    let title = t.get("portal.title");
    Ok(page(
        StatusCode::OK,
        &PublicPage {
            base: Base::new(
                &ctx,
                title,
                vec![Crumb::link(title, "/public"), Crumb::here(place.clone())],
            ),
            code: url_code(&code).to_owned(),
            place,
            children,
            map,
            q: q_text,
            pager,
            echarts: crate::http::assets::url("vendor/echarts.min.js"),
            charts_js: crate::http::assets::url("charts.js"),
            stations,
            kinds: kind_figures(&t, &kinds, threshold),
            people,
            threshold,
            year: now[..4].to_owned(),
            t,
        },
    ))
}

/// Records and person-times of the year by kind of service (label, records, person-times),
/// suppressed as one group.
fn kind_figures(t: &Tr, kinds: &[Row], threshold: i64) -> Vec<(String, String, String)> {
    let mut by_kind: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for r in kinds {
        let e = by_kind.entry(&r.key).or_default();
        e.0 += r.n;
        e.1 += r.person_times;
    }
    let n = suppress_group(
        &by_kind.values().map(|c| c.0).collect::<Vec<_>>(),
        threshold,
    );
    let p = suppress_group(
        &by_kind.values().map(|c| c.1).collect::<Vec<_>>(),
        threshold,
    );
    by_kind
        .keys()
        .zip(n.into_iter().zip(p))
        .map(|(k, (n, p))| (t.get(&format!("service.kind.{k}")).to_owned(), n, p))
        .collect()
}

/// A page of the station directory of `code`'s region, searched by name or address: the rows,
/// the pager and the search text.
async fn directory_page(
    c: &mut Conn,
    t: &Tr,
    code: &str,
    q: &PublicQuery,
) -> WebResult<(Vec<PublicStation>, crate::ui::list::Pager, String)> {
    // The directory: stations in the region, searched by name or address, a page at a time.
    let q_text: String =
        q.q.as_deref()
            .unwrap_or("")
            .trim()
            .chars()
            .take(50)
            .collect();
    let filter = stations::Filter {
        q: Some(q_text.clone()),
        ..Default::default()
    };
    let found = stations::list(
        c,
        &region_scope(code),
        &filter,
        PageRequest::new(q.page, Some(DIRECTORY_PAGE)),
    )
    .await?;
    let pager = crate::ui::list::pager(
        t,
        &found,
        "/public",
        &[("region", url_code(code).to_owned()), ("q", q_text.clone())],
    )?;
    let stations = directory(t, found.items);
    Ok((stations, pager, q_text))
}

/// The station directory's rows.
fn directory(t: &Tr, list: Vec<stations::Station>) -> Vec<PublicStation> {
    list.into_iter()
        .map(|s| PublicStation {
            region: shegong_domain::network::region::display_path(s.region_path.split('/')),
            status: t.get(&format!("station.status.{}", s.status)).to_owned(),
            name: s.name,
            address: s.address,
            phone: s.phone,
            open_hours: s.open_hours,
        })
        .collect()
}

/// Open data of the portal: service figures of the year per sub-region, suppressed.
pub async fn portal_csv(
    State(state): State<AppState>,
    Query(q): Query<PublicQuery>,
) -> WebResult<Response> {
    let code = match q.region.as_deref().filter(|s| !s.is_empty()) {
        Some(r) => code_of(r)?,
        None => String::new(),
    };
    let threshold = state.config.portal_min_cell;
    let now = today(state.now());
    let mut c = state.db.read().await?;
    // The portal's figures are public aggregates (small cells suppressed): the national scope.
    let rows = counters::read(
        &mut c,
        &Scope::national(),
        Regions::ChildrenOf(&code),
        Dim::Kind,
        &format!("{}-01", &now[..4]),
        &now[..7],
    )
    .await?;
    // Each month × kind is a group of sub-regions adding up to the region's figure.
    let mut groups: BTreeMap<(String, String), Vec<&Row>> = BTreeMap::new();
    for r in &rows {
        groups
            .entry((r.month.clone(), r.key.clone()))
            .or_default()
            .push(r);
    }
    let mut out = Csv::new(&["region_code", "month", "kind", "records", "person_times"])?;
    for ((month, kind), group) in groups {
        let n = suppress_group(&group.iter().map(|r| r.n).collect::<Vec<_>>(), threshold);
        let p = suppress_group(
            &group.iter().map(|r| r.person_times).collect::<Vec<_>>(),
            threshold,
        );
        for ((r, n), p) in group.iter().zip(n).zip(p) {
            out.row([r.region_code.as_str(), &month, &kind, &n, &p])?;
        }
    }
    out.download("services.csv")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lone_small_cell_takes_a_second_one_with_it() {
        assert_eq!(suppress_group(&[12, 1, 0, 40], 10), ["*", "<10", "0", "40"]);
        assert_eq!(
            suppress_group(&[12, 1, 3, 40], 10),
            ["12", "<10", "<10", "40"]
        );
        assert_eq!(suppress_group(&[12, 40], 10), ["12", "40"]);
    }
}
