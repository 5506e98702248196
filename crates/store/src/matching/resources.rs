//! Resources, read from the records (never typed in twice): active volunteers (skills,
//! intentions, when they are free), capacity left on the lines of contracts in force at the
//! stations they cover, goods in stock and money not yet committed in community funds, and the
//! venues of operating stations. The matcher ranks them for a need.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use shegong_domain::matching::{self as mt, Availability, Facts, Fit, Reason, ResourceKind};
use shegong_domain::{RegionCode, Scope};
use sqlx::AnyConnection;

use super::needs::Need;
use crate::people::residents::Viewer;
use crate::sql::Sql;
use crate::{Page, PageRequest, StoreResult};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Resource {
    #[sqlx(try_from = "String")]
    pub kind: ResourceKind,
    /// The volunteer, contract line, fund or station.
    pub id: String,
    /// Goods: the item; purchased capacity: the station it is delivered through; else ''.
    pub item: String,
    pub label: String,
    pub region_code: String,
    pub region_path: String,
    /// Skills (volunteer), service content (purchased), item (goods), purpose (fund), rooms (venue).
    pub detail: String,
    /// Intentions (volunteer), provider (purchased), fund purpose (goods), host (fund), address (venue).
    pub detail2: String,
    /// When it is available, as registered (volunteers; a station's opening hours).
    pub availability: String,
    /// Sessions left on the line, items in stock, money not committed (fen); none for people and rooms.
    pub remaining: Option<i64>,
    pub unit: String,
    /// Matches proposed or confirmed for it, not yet executed.
    pub open_matches: i64,
    /// A volunteer who holds a time-bank account: the service can be credited (时间银行).
    pub timebank: i64,
}

/// `AND (<col> in the scope's subtree OR <col> is one of its ancestors)`: resources serving it.
fn serving(q: &mut Sql, col: &'static str, scope: &Scope) {
    let Some(region) = &scope.region else {
        return;
    };
    q.push(" AND ((");
    q.region_range(col, scope);
    q.push(")");
    for up in region.lineage().iter().filter(|c| *c != region) {
        q.push(" OR ").push(col).push(" = ").bind(up.as_str());
    }
    q.push(")");
}

const OPEN: &str = "(SELECT COUNT(*) FROM matches m WHERE m.resource_kind = ";

/// Where the resources are looked for: the reader's scope, and those serving a region.
#[derive(Debug, Clone)]
pub struct Area<'a> {
    pub scope: &'a Scope,
    pub region: Option<RegionCode>,
    pub today: &'a str,
}

fn place(q: &mut Sql, col: &'static str, area: &Area) {
    serving(q, col, area.scope);
    if let Some(r) = &area.region {
        serving(q, col, &Scope::region(r.clone()));
    }
}

fn org_of(q: &mut Sql, station_col: &'static str, scope: &Scope) {
    if let Some(org) = scope.org {
        q.push(" AND ")
            .push(station_col)
            .push(" IN (SELECT os.id FROM stations os WHERE os.operator_org_id = ")
            .bind(org.to_string())
            .push(")");
    }
}

fn push_kind(q: &mut Sql, kind: ResourceKind, area: &Area) {
    match kind {
        ResourceKind::Volunteer => {
            q.push("SELECT 'volunteer' AS kind, v.id, '' AS item, v.name || ' ' || v.volunteer_no AS label, v.region_code, \
                 g.path_names AS region_path, v.skills AS detail, v.intentions AS detail2, v.availability, \
                 CAST(NULL AS BIGINT) AS remaining, '' AS unit, ")
                .push(OPEN)
                .push("'volunteer' AND m.resource_id = v.id AND m.state IN ('proposed', 'confirmed')) AS open_matches, \
                 (SELECT COUNT(*) FROM timebank_accounts a WHERE a.holder_kind = 'volunteer' AND a.holder_id = v.id) AS timebank \
                 FROM volunteers v JOIN regions g ON g.code = v.region_code WHERE v.status = 'active'");
            place(q, "v.region_code", area);
            org_of(q, "v.station_id", area.scope);
        }
        ResourceKind::Purchased => {
            q.push("SELECT 'purchased' AS kind, l.id, st.id AS item, c.title || ' · ' || l.content AS label, st.region_code, \
                 g.path_names AS region_path, l.content AS detail, o.name AS detail2, '' AS availability, \
                 l.quantity - (SELECT COUNT(*) FROM matches x WHERE x.resource_kind = 'purchased' AND x.resource_id = l.id \
                 AND x.state IN ('executed', 'completed')) AS remaining, l.unit, ")
                .push(OPEN)
                .push("'purchased' AND m.resource_id = l.id AND m.state IN ('proposed', 'confirmed')) AS open_matches, CAST(0 AS BIGINT) AS timebank \
                 FROM contract_lines l JOIN contracts c ON c.id = l.contract_id \
                 JOIN contract_stations cs ON cs.contract_id = c.id JOIN stations st ON st.id = cs.station_id \
                 JOIN regions g ON g.code = st.region_code JOIN organizations o ON o.id = c.provider_org_id \
                 WHERE c.state = 'in_force' AND c.term_start <= ")
                .bind(area.today)
                .push(" AND c.term_end >= ")
                .bind(area.today);
            place(q, "st.region_code", area);
            if let Some(org) = area.scope.org {
                q.push(" AND c.provider_org_id = ").bind(org.to_string());
            }
        }
        ResourceKind::Goods => {
            q.push("SELECT 'goods' AS kind, f.id, sm.item, f.name || ' · ' || sm.item AS label, f.region_code, \
                 MAX(g.path_names) AS region_path, sm.item AS detail, MAX(f.purpose) AS detail2, '' AS availability, \
                 CAST(SUM(sm.delta) AS BIGINT) AS remaining, MAX(sm.unit) AS unit, ")
                .push(OPEN)
                .push("'goods' AND m.resource_id = f.id AND m.resource_item = sm.item AND m.state IN ('proposed', 'confirmed')) AS open_matches, CAST(0 AS BIGINT) AS timebank \
                 FROM charity_stock_moves sm JOIN charity_funds f ON f.id = sm.fund_id JOIN regions g ON g.code = f.region_code \
                 WHERE (f.ends_on IS NULL OR f.ends_on >= ")
                .bind(area.today)
                .push(")");
            place(q, "f.region_code", area);
            org_of(q, "f.station_id", area.scope);
            q.push(" GROUP BY f.id, sm.item, f.name, f.region_code HAVING SUM(sm.delta) > 0");
        }
        ResourceKind::Fund => {
            q.push("SELECT 'fund' AS kind, f.id, '' AS item, f.name AS label, f.region_code, g.path_names AS region_path, \
                 f.purpose AS detail, f.host_name AS detail2, '' AS availability, \
                 CAST(COALESCE((SELECT SUM(d.amount_fen) FROM charity_donations d WHERE d.fund_id = f.id AND d.kind = 'money'), 0) \
                 - COALESCE((SELECT SUM(x.amount_fen) FROM charity_disbursements x WHERE x.fund_id = f.id AND x.state IN ('approved', 'paid')), 0) AS BIGINT) AS remaining, \
                 'fen' AS unit, ")
                .push(OPEN)
                .push("'fund' AND m.resource_id = f.id AND m.state IN ('proposed', 'confirmed')) AS open_matches, CAST(0 AS BIGINT) AS timebank \
                 FROM charity_funds f JOIN regions g ON g.code = f.region_code WHERE (f.ends_on IS NULL OR f.ends_on >= ")
                .bind(area.today)
                .push(")");
            place(q, "f.region_code", area);
            org_of(q, "f.station_id", area.scope);
        }
        ResourceKind::Venue => {
            q.push("SELECT 'venue' AS kind, st.id, '' AS item, st.name AS label, st.region_code, g.path_names AS region_path, \
                 st.rooms AS detail, st.address AS detail2, st.open_hours AS availability, \
                 CAST(NULL AS BIGINT) AS remaining, '' AS unit, ")
                .push(OPEN)
                .push("'venue' AND m.resource_id = st.id AND m.state IN ('proposed', 'confirmed')) AS open_matches, CAST(0 AS BIGINT) AS timebank \
                 FROM stations st JOIN regions g ON g.code = st.region_code WHERE st.status = 'operating' AND st.area_m2 > 0");
            place(q, "st.region_code", area);
            org_of(q, "st.id", area.scope);
        }
    }
}

fn union(q: &mut Sql, kinds: &[ResourceKind], area: &Area) {
    for (i, k) in kinds.iter().enumerate() {
        if i > 0 {
            q.push(" UNION ALL ");
        }
        push_kind(q, *k, area);
    }
}

/// The resources serving the area, of the kinds asked (all when empty), by kind and place.
pub async fn list(
    conn: &mut AnyConnection,
    area: &Area<'_>,
    kinds: &[ResourceKind],
    page: PageRequest,
) -> StoreResult<Page<Resource>> {
    let kinds = if kinds.is_empty() {
        ResourceKind::ALL
    } else {
        kinds
    };
    let mut count = Sql::new("SELECT COUNT(*) FROM (");
    union(&mut count, kinds, area);
    count.push(") x");
    let mut q = Sql::new("SELECT * FROM (");
    union(&mut q, kinds, area);
    q.push(") x ORDER BY kind, region_code, label, id, item");
    q.fetch_page(conn, &count, page).await
}

/// Every resource serving the area, up to `limit` (for the three lists' export).
pub async fn all(
    conn: &mut AnyConnection,
    area: &Area<'_>,
    limit: i64,
) -> StoreResult<Vec<Resource>> {
    let mut q = Sql::new("SELECT * FROM (");
    union(&mut q, ResourceKind::ALL, area);
    q.push(") x ORDER BY kind, region_code, label, id, item LIMIT ")
        .bind(limit);
    q.fetch_all(conn).await
}

/// A resource proposed for a need, with its score and reasons.
#[derive(Debug, Clone, Serialize)]
pub struct Proposal {
    pub resource: Resource,
    pub score: u32,
    pub reasons: Vec<Reason>,
}

/// What the matcher found for a need.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Proposals {
    /// The recipient already has this kind of help on the day: nothing is proposed.
    pub throttled: bool,
    pub candidates: Vec<Proposal>,
    /// Resources left out, by reason.
    pub excluded: Vec<(&'static str, i64)>,
}

/// The most candidates read for one need.
const CANDIDATE_LIMIT: i64 = 2000;

/// The day the help is for: the need's date, else today.
pub fn day_of(need: &Need, today: NaiveDate) -> NaiveDate {
    need.wanted_on
        .as_deref()
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .unwrap_or(today)
}

/// Whether the recipient of a need already has this kind of help on `day`: a match executed for
/// that day, or confirmed for it (other than `except`).
pub async fn served_on_day(
    conn: &mut AnyConnection,
    need: &Need,
    day: &str,
    except: Option<&str>,
) -> StoreResult<bool> {
    let Some(resident) = need.resident_id.as_deref() else {
        return Ok(false);
    };
    if !need.help_kind.is_personal() {
        return Ok(false);
    }
    let mut q = Sql::new("SELECT COUNT(*) FROM matches WHERE resident_id = ");
    q.bind(resident)
        .push(" AND help_kind = ")
        .bind(need.help_kind.as_str())
        .push(" AND served_on = ")
        .bind(day)
        .push(" AND state IN ('confirmed', 'executed', 'completed')");
    if let Some(id) = except {
        q.push(" AND id <> ").bind(id);
    }
    Ok(q.fetch_i64(conn).await? > 0)
}

/// Rank the resources that can meet a need (the need's county and the regions above it, as far
/// as the reader's scope reaches), best first.
pub async fn propose(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    need: &Need,
) -> StoreResult<Proposals> {
    let day = day_of(need, viewer.today);
    if served_on_day(conn, need, &day.to_string(), None).await? {
        return Ok(Proposals {
            throttled: true,
            ..Proposals::default()
        });
    }
    let need_region = RegionCode::parse(&need.region_code)?;
    let county = need_region
        .lineage()
        .into_iter()
        .find(|c| c.level() == shegong_domain::network::region::RegionLevel::County)
        .unwrap_or_else(|| need_region.clone());
    let today = viewer.today.to_string();
    let area = Area {
        scope: &viewer.scope,
        region: Some(county),
        today: &today,
    };
    let mut q = Sql::new("SELECT * FROM (");
    union(&mut q, need.help_kind.resource_kinds(), &area);
    q.push(") x ORDER BY kind, region_code, id, item LIMIT ")
        .bind(CANDIDATE_LIMIT);
    let found: Vec<Resource> = q.fetch_all(conn).await?;
    let facts: Vec<(Resource, Facts)> = found
        .into_iter()
        .map(|r| {
            let f = facts_of(&r, need, &need_region, day);
            (r, f)
        })
        .collect();
    let (kept, left) = mt::rank(facts);
    let mut excluded: Vec<(&'static str, i64)> = Vec::new();
    for (_, why) in left {
        let key = why.as_str();
        match excluded.iter_mut().find(|(k, _)| *k == key) {
            Some(e) => e.1 += 1,
            None => excluded.push((key, 1)),
        }
    }
    Ok(Proposals {
        throttled: false,
        candidates: kept
            .into_iter()
            .map(|(resource, score, mut reasons)| {
                if resource.timebank > 0 {
                    reasons.push(Reason {
                        key: "match.why.timebank".into(),
                        arg: String::new(),
                    });
                }
                Proposal {
                    resource,
                    score,
                    reasons,
                }
            })
            .collect(),
        excluded,
    })
}

/// What the matcher weighs for one resource and one need.
fn facts_of(r: &Resource, need: &Need, need_region: &RegionCode, day: NaiveDate) -> Facts {
    let distance = RegionCode::parse(&r.region_code)
        .map(|c| mt::region_distance(need_region, &c))
        .unwrap_or(u32::MAX);
    let help = need.help_kind;
    let fit = match r.kind {
        ResourceKind::Volunteer => mt::volunteer_fit(help, &r.detail, &r.detail2),
        ResourceKind::Purchased => mt::described_fit(help, &r.detail),
        ResourceKind::Goods => goods_fit(need, &r.detail),
        ResourceKind::Fund => mt::described_fit(help, &r.detail).or(Some(Fit::Kind)),
        ResourceKind::Venue => Some(Fit::Kind),
    };
    let available = Availability::parse(&r.availability)
        .map(|a| a.covers(day.weekday().num_days_from_monday(), need.day_part()));
    let wanted = match r.kind {
        ResourceKind::Goods | ResourceKind::Fund => need.quantity,
        ResourceKind::Purchased => 1,
        _ => 0,
    };
    Facts {
        kind: r.kind,
        distance,
        fit,
        available,
        open_matches: r.open_matches,
        remaining: r.remaining,
        wanted,
    }
}

/// Goods fit when the need names the item (or any goods when it names none in stock).
fn goods_fit(need: &Need, item: &str) -> Option<Fit> {
    let text = format!("{} {}", need.title, need.description);
    if !item.trim().is_empty() && text.contains(item.trim()) {
        Some(Fit::Described(item.trim().to_owned()))
    } else {
        Some(Fit::Kind)
    }
}

/// The resource a match names, as the matcher sees it now (in the reader's reach).
pub async fn find(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    need: &Need,
    (kind, id, item): (ResourceKind, &str, &str),
) -> StoreResult<Option<Proposal>> {
    let p = propose(conn, viewer, need).await?;
    Ok(p.candidates
        .into_iter()
        .find(|c| c.resource.kind == kind && c.resource.id == id && c.resource.item == item))
}
