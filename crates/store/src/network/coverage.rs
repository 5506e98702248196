//! Coverage: for a region, its administrative townships (functional zones counted apart), how
//! many have an operating township station, stations by status, readiness, and open and
//! overdue rectifications — for the region and for each child region (drill-down).

use std::collections::BTreeMap;

use serde::Serialize;
use shegong_domain::{RegionCode, RegionLevel, Scope};
use sqlx::AnyConnection;

use crate::network::station_scope::scoped_from;
use crate::sql::{Sql, region_prefix};
use crate::{StoreResult, network::regions};

#[derive(Debug, Clone, Default, Serialize)]
pub struct Figures {
    pub code: String,
    pub name: String,
    /// Administrative townships (街道, 镇, 乡).
    pub townships: i64,
    /// Township-level functional zones (开发区, 农场…), shown separately.
    pub zones: i64,
    /// Administrative townships with an operating township station.
    pub covered: i64,
    /// Zones with an operating township station.
    pub zones_covered: i64,
    pub planned: i64,
    pub under_construction: i64,
    pub operating: i64,
    pub suspended: i64,
    pub closed: i64,
    /// Average readiness of the stations that are not closed (percent, rounded half up).
    pub readiness_avg: i64,
    pub rectifications_open: i64,
    pub rectifications_overdue: i64,
}

impl Figures {
    /// Coverage in tenths of a percent (1000 = 100.0 %).
    pub fn coverage_permille(&self) -> i64 {
        if self.townships == 0 {
            0
        } else {
            self.covered * 1000 / self.townships
        }
    }

    pub fn coverage_text(&self) -> String {
        let p = self.coverage_permille();
        format!("{}.{}%", p / 10, p % 10)
    }

    pub fn stations(&self) -> i64 {
        self.planned + self.under_construction + self.operating + self.suspended + self.closed
    }
}

/// The figures being filled: the region's own and its children's by code.
struct Tally {
    top: Figures,
    rows: BTreeMap<String, Figures>,
    /// Children are grouped by the code prefix of this level (a village: no children).
    child: RegionLevel,
}

impl Tally {
    /// Apply `add` to the region's figures and to the child's with code `g`, if any.
    fn add(&mut self, g: &str, add: impl Fn(&mut Figures)) {
        add(&mut self.top);
        if let Some(f) = self.rows.get_mut(g) {
            add(f);
        }
    }
}

/// Figures for `code` (`None`: the whole country) and each of its children, from the raw rows
/// with one grouped query per figure. Child rows group by a code prefix of the child's length.
pub async fn coverage(
    conn: &mut AnyConnection,
    scope: &Scope,
    code: Option<&str>,
    today: &str,
) -> StoreResult<(Figures, Vec<Figures>)> {
    let mut top = Figures::default();
    if let Some(c) = code {
        let r = regions::get(conn, scope, c).await?;
        top.code = r.code;
        top.name = r.name;
    } else if scope.region.is_some() {
        return Err(crate::StoreError::NotFound);
    }
    // The area measured: the region itself, within the caller's organisation if any.
    let area = Scope {
        region: RegionCode::parse(&top.code).ok(),
        org: scope.org,
    };
    let tree = Scope {
        region: area.region.clone(),
        org: None,
    };
    let child = match &area.region {
        None => Some(RegionLevel::Province),
        Some(r) => r.level().child().filter(|l| *l <= RegionLevel::Township),
    };
    let mut rows: BTreeMap<String, Figures> = BTreeMap::new();
    if child.is_some() {
        for r in regions::children(conn, scope, code).await? {
            rows.insert(
                r.code.clone(),
                Figures {
                    code: r.code,
                    name: r.name,
                    ..Default::default()
                },
            );
        }
    }
    let mut tally = Tally {
        top,
        rows,
        child: child.unwrap_or(RegionLevel::Village),
    };
    count_townships(conn, &mut tally, &tree).await?;
    count_covered(conn, &mut tally, &tree, &area).await?;
    count_stations(conn, &mut tally, &area).await?;
    count_rectifications(conn, &mut tally, &tree, &area, today).await?;
    Ok((tally.top, tally.rows.into_values().collect()))
}

/// Administrative townships and functional zones.
async fn count_townships(conn: &mut AnyConnection, t: &mut Tally, tree: &Scope) -> StoreResult<()> {
    let mut q = Sql::new(region_prefix!(
        t.child,
        "SELECT ",
        "code",
        ", CAST(SUM(CASE WHEN kind = 'township_zone' THEN 0 ELSE 1 END) AS BIGINT), \
         CAST(SUM(CASE WHEN kind = 'township_zone' THEN 1 ELSE 0 END) AS BIGINT) \
         FROM regions WHERE level = 'township' AND "
    ));
    q.region_range("code", tree)
        .push(region_prefix!(t.child, " GROUP BY ", "code", ""));
    for (g, townships, zones) in q.fetch_all::<(String, i64, i64)>(conn).await? {
        t.add(&g, |f| {
            f.townships += townships;
            f.zones += zones;
        });
    }
    Ok(())
}

/// Townships and zones with an operating township station (of the caller's organisation, if any).
async fn count_covered(
    conn: &mut AnyConnection,
    t: &mut Tally,
    tree: &Scope,
    area: &Scope,
) -> StoreResult<()> {
    let mut q = Sql::new(region_prefix!(
        t.child,
        "SELECT ",
        "r.code",
        ", CAST(SUM(CASE WHEN r.kind = 'township_zone' THEN 0 ELSE 1 END) AS BIGINT), \
         CAST(SUM(CASE WHEN r.kind = 'township_zone' THEN 1 ELSE 0 END) AS BIGINT) \
         FROM regions r WHERE r.level = 'township' AND EXISTS (SELECT 1 FROM stations s WHERE \
         s.region_code = r.code AND s.tier = 'township_station' AND s.status = 'operating'"
    ));
    if let Some(org) = area.org {
        q.push(" AND s.operator_org_id = ").bind(org.to_string());
    }
    q.push(") AND ")
        .region_range("r.code", tree)
        .push(region_prefix!(t.child, " GROUP BY ", "r.code", ""));
    for (g, covered, zones) in q.fetch_all::<(String, i64, i64)>(conn).await? {
        t.add(&g, |f| {
            f.covered += covered;
            f.zones_covered += zones;
        });
    }
    Ok(())
}

/// Stations by status, and the average readiness of those not closed.
async fn count_stations(conn: &mut AnyConnection, t: &mut Tally, area: &Scope) -> StoreResult<()> {
    let mut q = scoped_from(
        region_prefix!(
            t.child,
            "SELECT ",
            "s.region_code",
            ", s.status, COUNT(*), CAST(COALESCE(SUM(s.readiness_pct), 0) AS BIGINT) FROM stations s"
        ),
        area,
    );
    q.push(region_prefix!(
        t.child,
        " GROUP BY ",
        "s.region_code",
        ", s.status"
    ));
    let mut readiness: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for (g, status, n, ready_sum) in q.fetch_all::<(String, String, i64, i64)>(conn).await? {
        t.add(&g, |f| match status.as_str() {
            "planned" => f.planned += n,
            "under_construction" => f.under_construction += n,
            "operating" => f.operating += n,
            "suspended" => f.suspended += n,
            _ => f.closed += n,
        });
        if status != "closed" {
            for key in [String::new(), g] {
                let e = readiness.entry(key).or_default();
                e.0 += ready_sum;
                e.1 += n;
            }
        }
    }
    let avg = |(sum, n): (i64, i64)| if n == 0 { 0 } else { (sum * 2 + n) / (2 * n) };
    t.top.readiness_avg = readiness.get("").copied().map(avg).unwrap_or(0);
    for f in t.rows.values_mut() {
        f.readiness_avg = readiness.get(&f.code).copied().map(avg).unwrap_or(0);
    }
    Ok(())
}

/// Open rectifications, and those past their deadline on `today`.
async fn count_rectifications(
    conn: &mut AnyConnection,
    t: &mut Tally,
    tree: &Scope,
    area: &Scope,
    today: &str,
) -> StoreResult<()> {
    let mut q = Sql::new(region_prefix!(
        t.child,
        "SELECT ",
        "x.region_code",
        ", COUNT(*), CAST(SUM(CASE WHEN x.deadline < "
    ));
    q.bind(today).push(" THEN 1 ELSE 0 END) AS BIGINT) FROM rectifications x JOIN stations s ON s.id = x.station_id \
         WHERE x.status IN ('open', 'submitted') AND x.voided_at IS NULL AND ");
    q.region_range("s.region_code", tree);
    if let Some(org) = area.org {
        q.push(" AND s.operator_org_id = ").bind(org.to_string());
    }
    q.push(region_prefix!(t.child, " GROUP BY ", "x.region_code", ""));
    for (g, open, overdue) in q.fetch_all::<(String, i64, i64)>(conn).await? {
        t.add(&g, |f| {
            f.rectifications_open += open;
            f.rectifications_overdue += overdue;
        });
    }
    Ok(())
}
