//! Registering many residents at once (a committed import chunk): the rows `residents::create`
//! followed by `households::add_membership` write for each, with the same refusals, but checked
//! with a few look-ups for the whole chunk, written with multi-row INSERTs and the statistics
//! counters folded once. A new resident has no visits and no earlier counter contribution, so
//! the schedule and the counters follow from the inputs alone.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use shegong_domain::people::{self, RiskTier, VisitRule};
use shegong_domain::{FieldError, RegionCode, RegionLevel};
use sqlx::AnyConnection;

use crate::crypto::KeyRing;
use crate::sql::Sql;
use crate::statistics::counters::{self, Changes, Dim, Values};
use crate::{Millis, StoreError, StoreResult, new_id};

use super::households::MembershipInput;
use super::name_chars;
use super::residents::{
    ADDRESS_FIELD, GUARDIAN_PHONE_FIELD, ID_FIELD, PHONE_FIELD, ResidentInput, Viewer, check_links,
    seal,
};
use super::visit_rules::rules_for;

/// Rows per INSERT: about 10,000 parameters, well under SQLite's 32,766 and PostgreSQL's
/// 65,535 (binding is linear on both, see `Sql`).
const RESIDENT_ROWS: usize = 400;
const HISTORY_ROWS: usize = 1_000;
const MEMBERSHIP_ROWS: usize = 750;
/// Values per look-up.
const LOOKUP: usize = 1_000;

/// A resident to register and, when given, the category membership they start with.
pub struct Registration<'a> {
    pub input: &'a ResidentInput,
    pub membership: Option<&'a MembershipInput>,
}

/// Why registering stopped: the index of the refused registration and the error the
/// one-by-one path gives for it (a database error names the first row of its statement).
#[derive(Debug)]
pub struct Refused {
    pub index: usize,
    pub error: StoreError,
}

/// A registration checked and completed: what its rows hold.
struct Ready<'a> {
    reg: &'a Registration<'a>,
    id: String,
    region: String,
    hash: Option<String>,
    interval: i64,
    due: String,
    elderly: bool,
}

/// Register every resident of `rows` in order (inside the caller's transaction), exactly as
/// `residents::create` and then `households::add_membership` would one after the other; returns
/// their ids. The first registration either would refuse stops everything.
pub async fn register_all(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    keys: &KeyRing,
    rows: &[Registration<'_>],
    created_by: &str,
    now: Millis,
) -> Result<Vec<String>, Refused> {
    let at = |index| move |error| Refused { index, error };
    let started = std::time::Instant::now();
    let ready = check(conn, viewer, keys, rows).await?;
    let checked = started.elapsed();
    for (n, batch) in ready.chunks(RESIDENT_ROWS).enumerate() {
        residents_statement(keys, batch, created_by, now)
            .execute(conn)
            .await
            .map_err(at(n * RESIDENT_ROWS))?;
    }
    let names: Vec<(&str, &str, &str)> = ready
        .iter()
        .map(|r| (r.id.as_str(), r.region.as_str(), r.reg.input.name.trim()))
        .collect();
    name_chars::insert(conn, &names).await.map_err(at(0))?;
    for (n, batch) in ready.chunks(HISTORY_ROWS).enumerate() {
        history_statement(batch, created_by, now)
            .execute(conn)
            .await
            .map_err(at(n * HISTORY_ROWS))?;
    }
    let with_membership: Vec<(usize, &Ready<'_>)> = ready
        .iter()
        .enumerate()
        .filter(|(_, r)| r.reg.membership.is_some())
        .collect();
    for batch in with_membership.chunks(MEMBERSHIP_ROWS) {
        let first = batch.first().map_or(0, |(i, _)| *i);
        memberships_statement(batch, created_by, now)
            .execute(conn)
            .await
            .map_err(at(first))?;
    }
    let written = started.elapsed();
    counters::apply(conn, contributions(&ready))
        .await
        .map_err(at(0))?;
    tracing::debug!(
        rows = rows.len(),
        check_ms = checked.as_millis(),
        insert_ms = (written - checked).as_millis(),
        counters_ms = (started.elapsed() - written).as_millis(),
        "register_all"
    );
    Ok(ready.into_iter().map(|r| r.id).collect())
}

/// The checks of `create` and `add_membership` for every row, in row order, from a few
/// look-ups; the schedule each new resident gets.
async fn check<'a>(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    keys: &KeyRing,
    rows: &'a [Registration<'a>],
) -> Result<Vec<Ready<'a>>, Refused> {
    let fail = |index| move |error| Refused { index, error };
    let regions: Vec<String> = distinct(
        rows.iter()
            .filter_map(|r| r.input.region.as_ref())
            .map(|r| r.to_string()),
    );
    let known_regions: HashSet<String> =
        in_lists(conn, "SELECT code FROM regions WHERE code IN (", &regions)
            .await
            .map_err(fail(0))?
            .into_iter()
            .collect();
    let hashes: Vec<Option<String>> = rows
        .iter()
        .map(|r| {
            r.input
                .id_number
                .as_deref()
                .map(|n| keys.lookup_hash(ID_FIELD, n))
        })
        .collect();
    let wanted: Vec<String> = distinct(hashes.iter().flatten().cloned());
    let mut taken: HashSet<String> = in_lists(
        conn,
        "SELECT id_number_hash FROM residents WHERE id_number_hash IN (",
        &wanted,
    )
    .await
    .map_err(fail(0))?
    .into_iter()
    .collect();
    let codes: Vec<String> = distinct(
        rows.iter()
            .filter_map(|r| r.membership)
            .map(|m| m.category.clone()),
    );
    let categories = categories(conn, &codes).await.map_err(fail(0))?;
    // Regions with rules of their own (the national ones apply everywhere).
    let ruled: Vec<(String,)> =
        Sql::new("SELECT DISTINCT region_code FROM visit_rules WHERE region_code <> ''")
            .fetch_all(conn)
            .await
            .map_err(fail(0))?;
    let ruled: HashSet<String> = ruled.into_iter().map(|(c,)| c).collect();
    let mut rules: HashMap<Vec<String>, Vec<VisitRule>> = HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for (index, (reg, hash)) in rows.iter().zip(hashes).enumerate() {
        let input = reg.input;
        let region = home_region(viewer, input, &known_regions).map_err(fail(index))?;
        check_links(conn, &viewer.scope, input, &region)
            .await
            .map_err(fail(index))?;
        if let Some(h) = &hash
            && !taken.insert(h.clone())
        {
            return Err(fail(index)(
                FieldError::new("id_number", "resident.id_taken").into(),
            ));
        }
        let open_categories: Vec<String> = match reg.membership {
            Some(m) => {
                check_membership(m, &region, &categories).map_err(fail(index))?;
                m.valid_to
                    .is_none()
                    .then(|| m.category.clone())
                    .into_iter()
                    .collect()
            }
            None => Vec::new(),
        };
        // Regions whose lineage defines the same rules share `rules_for`'s answer.
        let lineage: Vec<String> = RegionCode::parse(&region)
            .map(|c| c.lineage().into_iter().map(|c| c.to_string()).collect())
            .unwrap_or_default();
        let ruled_lineage: Vec<String> =
            lineage.into_iter().filter(|c| ruled.contains(c)).collect();
        if !rules.contains_key(&ruled_lineage) {
            let found = rules_for(conn, &region).await.map_err(fail(index))?;
            rules.insert(
                ruled_lineage.clone(),
                found.iter().filter_map(|r| r.domain()).collect(),
            );
        }
        let region_rules = rules
            .get(&ruled_lineage)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let (interval, due, elderly) =
            schedule(input, region_rules, &open_categories, &categories).map_err(fail(index))?;
        out.push(Ready {
            reg,
            id: new_id(),
            region,
            hash,
            interval,
            due,
            elderly,
        });
    }
    Ok(out)
}

/// A new resident's visit interval and first due date (`refresh_schedule` with no visits), and
/// whether the counters count them as elderly.
fn schedule(
    input: &ResidentInput,
    rules: &[VisitRule],
    open_categories: &[String],
    categories: &HashMap<String, (String, String)>,
) -> StoreResult<(i64, String, bool)> {
    let tier = RiskTier::parse(&input.risk_tier)?;
    let interval = people::applicable_rule(rules, tier, open_categories)
        .map_or(people::default_interval(tier), |r| r.interval_days);
    let registered =
        NaiveDate::parse_from_str(&input.registered_on, "%Y-%m-%d").unwrap_or_default();
    let elderly = open_categories
        .iter()
        .any(|c| c == "tekun" || categories.get(c).is_some_and(|(_, grp)| grp == "elderly"));
    let due = people::next_due(None, registered, interval).to_string();
    Ok((interval, due, elderly))
}

/// `residents::home_region`, against the regions looked up for the whole chunk.
fn home_region(
    viewer: &Viewer,
    input: &ResidentInput,
    known: &HashSet<String>,
) -> StoreResult<String> {
    let region = input
        .region
        .as_ref()
        .ok_or(FieldError::new("region", "form.required"))?;
    if !viewer.scope.contains_region(region.as_str()) {
        return Err(FieldError::new("region", "station.region_out_of_scope").into());
    }
    if !matches!(region.level(), RegionLevel::Township | RegionLevel::Village) {
        return Err(FieldError::new("region", "resident.region_level").into());
    }
    if !known.contains(region.as_str()) {
        return Err(FieldError::new("region", "region.unknown").into());
    }
    Ok(region.to_string())
}

/// `households::add_membership`'s checks: a category of the catalogue that applies in the
/// resident's region, disability details exactly for disability categories, dates in order.
fn check_membership(
    m: &MembershipInput,
    region: &str,
    categories: &HashMap<String, (String, String)>,
) -> StoreResult<()> {
    let applies = categories
        .get(&m.category)
        .is_some_and(|(where_, _)| region.starts_with(where_.as_str()));
    if !applies {
        return Err(FieldError::new("category", "resident.category_unknown").into());
    }
    let disability = matches!(m.category.as_str(), "disabled" | "severely_disabled");
    if disability != (m.disability_category.is_some() && m.disability_grade.is_some()) {
        let code = if disability {
            "resident.disability_required"
        } else {
            "resident.disability_only"
        };
        return Err(FieldError::new("disability_category", code).into());
    }
    if m.valid_to
        .as_deref()
        .is_some_and(|t| t < m.valid_from.as_str())
    {
        return Err(FieldError::new("valid_to", "form.date_order").into());
    }
    Ok(())
}

/// The catalogue entries named: code → (region it applies in, "" for national; group).
async fn categories(
    conn: &mut AnyConnection,
    codes: &[String],
) -> StoreResult<HashMap<String, (String, String)>> {
    let mut out = HashMap::new();
    for chunk in codes.chunks(LOOKUP) {
        let mut q =
            Sql::new("SELECT code, region_code, grp FROM resident_categories WHERE code IN (");
        bind_list(&mut q, chunk);
        q.push(")");
        let rows: Vec<(String, String, String)> = q.fetch_all(conn).await?;
        out.extend(rows.into_iter().map(|(c, r, g)| (c, (r, g))));
    }
    Ok(out)
}

/// One text column of `head … IN (values)`, asked in chunks.
async fn in_lists(
    conn: &mut AnyConnection,
    head: &'static str,
    values: &[String],
) -> StoreResult<Vec<String>> {
    let mut out = Vec::new();
    for chunk in values.chunks(LOOKUP) {
        let mut q = Sql::new(head);
        bind_list(&mut q, chunk);
        q.push(")");
        let rows: Vec<(String,)> = q.fetch_all(conn).await?;
        out.extend(rows.into_iter().map(|(v,)| v));
    }
    Ok(out)
}

fn bind_list(q: &mut Sql, values: &[String]) {
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            q.push(", ");
        }
        q.bind(v.as_str());
    }
}

fn distinct(values: impl Iterator<Item = String>) -> Vec<String> {
    let set: std::collections::BTreeSet<String> = values.collect();
    set.into_iter().collect()
}

/// The residents rows, as `residents::create` writes them once `refresh_schedule` has run.
fn residents_statement(keys: &KeyRing, batch: &[Ready<'_>], by: &str, now: Millis) -> Sql {
    let mut q = Sql::new(
        "INSERT INTO residents (id, region_code, name, name_key, id_type, id_number_sealed, id_number_hash, sex, birth_date, \
         ethnicity, address_sealed, phone_sealed, guardian_name, guardian_phone_sealed, risk_tier, legal_basis, consent_on, protected, \
         station_id, worker_user_id, status, visit_interval_days, next_visit_due, registered_on, created_by, created_at, updated_at) VALUES ",
    );
    for (i, r) in batch.iter().enumerate() {
        let input = r.reg.input;
        q.push(if i == 0 { "(" } else { ", (" })
            .bind(r.id.as_str())
            .push(", ")
            .bind(r.region.as_str())
            .push(", ")
            .bind(input.name.trim())
            .push(", ")
            .bind(people::name_key(&input.name))
            .push(", ")
            .bind(input.id_type.clone())
            .push(", ")
            .bind(seal(keys, ID_FIELD, &input.id_number))
            .push(", ")
            .bind(r.hash.clone())
            .push(", ")
            .bind(input.sex.clone())
            .push(", ")
            .bind(input.birth_date.as_str())
            .push(", ")
            .bind(input.ethnicity.trim())
            .push(", ")
            .bind(seal(keys, ADDRESS_FIELD, &input.address))
            .push(", ")
            .bind(seal(keys, PHONE_FIELD, &input.phone))
            .push(", ")
            .bind(input.guardian_name.trim())
            .push(", ")
            .bind(seal(keys, GUARDIAN_PHONE_FIELD, &input.guardian_phone))
            .push(", ")
            .bind(input.risk_tier.as_str())
            .push(", ")
            .bind(input.legal_basis.as_str())
            .push(", ")
            .bind(input.consent_on.clone())
            .push(", ")
            .bind(i64::from(input.protected))
            .push(", ")
            .bind(input.station_id.clone())
            .push(", ")
            .bind(input.worker_user_id.clone())
            .push(", 'active', ")
            .bind(r.interval)
            .push(", ")
            .bind(r.due.as_str())
            .push(", ")
            .bind(input.registered_on.as_str())
            .push(", ")
            .bind(by)
            .push(", ")
            .bind(now)
            .push(", ")
            .bind(now)
            .push(")");
    }
    q
}

/// The first tier history entry of each (`residents::record_tier`).
fn history_statement(batch: &[Ready<'_>], by: &str, now: Millis) -> Sql {
    let mut q = Sql::new(
        "INSERT INTO risk_history (id, resident_id, region_code, tier, reason, changed_by, changed_at) VALUES ",
    );
    for (i, r) in batch.iter().enumerate() {
        q.push(if i == 0 { "(" } else { ", (" })
            .bind(new_id())
            .push(", ")
            .bind(r.id.as_str())
            .push(", ")
            .bind(r.region.as_str())
            .push(", ")
            .bind(r.reg.input.risk_tier.as_str())
            .push(", '', ")
            .bind(by)
            .push(", ")
            .bind(now)
            .push(")");
    }
    q
}

/// The memberships (`households::add_membership`).
fn memberships_statement(batch: &[(usize, &Ready<'_>)], by: &str, now: Millis) -> Sql {
    let mut q = Sql::new(
        "INSERT INTO resident_memberships (id, resident_id, region_code, category, disability_category, disability_grade, \
         source, evidence, valid_from, valid_to, verified_by, created_by, created_at) VALUES ",
    );
    let mut first = true;
    for (_, r) in batch {
        let Some(m) = r.reg.membership else {
            continue;
        };
        q.push(if first { "(" } else { ", (" })
            .bind(new_id())
            .push(", ")
            .bind(r.id.as_str())
            .push(", ")
            .bind(r.region.as_str())
            .push(", ")
            .bind(m.category.as_str())
            .push(", ")
            .bind(m.disability_category.clone())
            .push(", ")
            .bind(m.disability_grade.clone())
            .push(", ")
            .bind(m.source.trim())
            .push(", ")
            .bind(m.evidence.trim())
            .push(", ")
            .bind(m.valid_from.as_str())
            .push(", ")
            .bind(m.valid_to.clone())
            .push(", ")
            .bind(m.verified_by.trim())
            .push(", ")
            .bind(by)
            .push(", ")
            .bind(now)
            .push(")");
        first = false;
    }
    q
}

/// What the new residents add to the counters (`counters::contribution` of an active resident):
/// their tier, due date, open categories and, for the elderly, "never visited".
fn contributions(ready: &[Ready<'_>]) -> Changes {
    let mut c = Changes::default();
    let one = Values::one();
    for r in ready {
        c.add(&r.region, "", Dim::Tier, &r.reg.input.risk_tier, one, 1);
        c.add(&r.region, "", Dim::Due, &r.due, one, 1);
        if r.elderly {
            c.add(&r.region, "", Dim::ElderlyVisit, "never", one, 1);
        }
        if let Some(m) = r.reg.membership.filter(|m| m.valid_to.is_none()) {
            c.add(&r.region, "", Dim::Category, &m.category, one, 1);
        }
    }
    c
}
