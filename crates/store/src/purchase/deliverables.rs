//! Deliverables of contract lines, counted from service records and kept like the statistics
//! counters (`delivery_tallies`, migration 0014): every service write hands its effect to
//! [`apply`] in the same transaction; a contract's rows are rebuilt from the raw records when it
//! is written ([`rebuild_contract`]); [`recompute`] and [`verify`] count again from the raw
//! records and the domain's rule, for checks. A read ([`for_contract`]) costs a few small rows per
//! line whatever the number of records.
//!
//! What counts for a line: service records of the line's kind at one of the contract's stations,
//! served within the term, while the contract is not yet accepted (accepted, settled and
//! archived contracts keep the figures they were accepted with). Per rule:
//! - `each`: every record once; `person_times`: every record's person-times;
//! - `activity`: records with at least the minimum person-times (an activity's participants);
//! - `group`: groups — the records at one station with the same title — with at least the
//!   minimum sessions and person-times;
//! - `closed_case`: cases of the contract's stations closed within the term with at least the
//!   minimum follow-ups (records of the line's kind naming the case). Whether a case is closed is
//!   read from the case at read time, so closing or reopening needs no hook.
//!
//! Lines without a service kind are not counted from records (`delivered` is `None`).

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use serde::Serialize;
use shegong_domain::Scope;
use shegong_domain::people::ServiceKind;
use shegong_domain::purchase::contract::{
    ContractLine, ContractState, DeliveryFacts, LineTier, QualifyingRule, Term,
};
use shegong_domain::purchase::{HUNDRED_PERCENT, ratio_bp};
use sqlx::AnyConnection;

use super::contracts::{self, Contract};
use super::{from_json, stored};
use crate::people::services::Service;
use crate::sql::Sql;
use crate::workforce::staff::date_text;
use crate::{Page, PageRequest, StoreResult};

/// A line is behind pace when its delivered share trails the elapsed share of the term by more
/// than this (5 %).
pub const PACE_TOLERANCE_BP: i64 = 500;

/// Contract states whose tallies still move (fixed SQL text).
const LIVE_STATES: &str = "('signed','in_force','suspended','terminated','awaiting_acceptance')";

/// Whether a contract in `state` still counts new records.
pub fn counts_records(state: ContractState) -> bool {
    !matches!(
        state,
        ContractState::Accepted | ContractState::Settled | ContractState::Archived
    )
}

/// What a service record brings to the lines it counts for.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    pub station_id: Option<&'a str>,
    pub kind: &'a str,
    /// `YYYY-MM-DD`.
    pub served_on: &'a str,
    pub title: &'a str,
    pub case_id: Option<&'a str>,
    pub person_times: i64,
}

impl<'a> Record<'a> {
    pub fn of(s: &'a Service) -> Record<'a> {
        Record {
            station_id: s.station_id.as_deref(),
            kind: &s.kind,
            served_on: &s.served_on,
            title: &s.title,
            case_id: s.case_id.as_deref(),
            person_times: s.person_times,
        }
    }
}

/// The row of a line that a record adds to, if it counts under `rule`: '' for the rules
/// counted on one row, the group (station and title) or the case.
fn unit_key(rule: QualifyingRule, station: &str, r: &Record<'_>) -> Option<String> {
    match rule {
        QualifyingRule::Each | QualifyingRule::PersonTimes => Some(String::new()),
        QualifyingRule::Activity { min_participants } => {
            (r.person_times >= min_participants).then(String::new)
        }
        QualifyingRule::Group { .. } => Some(format!("{station}|{}", r.title.trim())),
        QualifyingRule::ClosedCase { .. } => r.case_id.map(str::to_owned),
    }
}

/// One tally row: a line's unit (see the migration) with its records and person-times.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Tally {
    pub line_id: String,
    pub unit_key: String,
    pub contract_id: String,
    pub records: i64,
    pub person_times: i64,
}

/// A line a record may count for: (line id, contract id, rule, term start, term end).
type Candidate = (String, String, QualifyingRule, String, String);

async fn candidates(
    conn: &mut AnyConnection,
    station: &str,
    kind: &str,
) -> StoreResult<Vec<Candidate>> {
    let mut q = Sql::new(
        "SELECT l.id, l.contract_id, l.qualifying_rule, c.term_start, c.term_end \
         FROM contract_stations cs JOIN contracts c ON c.id = cs.contract_id \
         JOIN contract_lines l ON l.contract_id = c.id WHERE cs.station_id = ",
    );
    q.bind(station)
        .push(" AND l.service_kind = ")
        .bind(kind)
        .push(" AND c.state IN ")
        .push(LIVE_STATES);
    let rows: Vec<(String, String, String, String, String)> = q.fetch_all(conn).await?;
    rows.into_iter()
        .map(|(line, contract, rule, start, end)| {
            Ok((line, contract, from_json(&rule)?, start, end))
        })
        .collect()
}

/// Add (`sign` 1) or take away (-1) each record's part in the tallies of the lines it counts
/// for, in the caller's transaction. Records without a station count for no contract.
pub async fn apply(conn: &mut AnyConnection, changes: &[(Record<'_>, i64)]) -> StoreResult<()> {
    let mut lines: HashMap<(String, String), Vec<Candidate>> = HashMap::new();
    // (line, unit) → (contract, records, person-times), summed before writing.
    let mut deltas: BTreeMap<(String, String), (String, i64, i64)> = BTreeMap::new();
    for (r, sign) in changes {
        let Some(station) = r.station_id else {
            continue;
        };
        let key = (station.to_owned(), r.kind.to_owned());
        if !lines.contains_key(&key) {
            let found = candidates(conn, station, r.kind).await?;
            lines.insert(key.clone(), found);
        }
        for (line, contract, rule, start, end) in lines.get(&key).into_iter().flatten() {
            if r.served_on < start.as_str() || r.served_on > end.as_str() {
                continue;
            }
            let Some(unit) = unit_key(*rule, station, r) else {
                continue;
            };
            let d = deltas
                .entry((line.clone(), unit))
                .or_insert_with(|| (contract.clone(), 0, 0));
            d.1 += sign;
            d.2 += sign * r.person_times;
        }
    }
    // Written in key order, so concurrent writers take row locks in the same order.
    for ((line, unit), (contract, records, person_times)) in deltas {
        if records == 0 && person_times == 0 {
            continue;
        }
        Sql::new(
            "INSERT INTO delivery_tallies (line_id, contract_id, unit_key, records, person_times) VALUES (",
        )
        .bind(line.as_str())
        .push(", ")
        .bind(contract)
        .push(", ")
        .bind(unit.as_str())
        .push(", ")
        .bind(records)
        .push(", ")
        .bind(person_times)
        .push(
            ") ON CONFLICT (line_id, unit_key) DO UPDATE SET \
             records = delivery_tallies.records + excluded.records, \
             person_times = delivery_tallies.person_times + excluded.person_times",
        )
        .execute(conn)
        .await?;
        if records < 0 {
            // A unit left without records has no row, as a recomputation would have none.
            Sql::new("DELETE FROM delivery_tallies WHERE line_id = ")
                .bind(line.as_str())
                .push(" AND unit_key = ")
                .bind(unit.as_str())
                .push(" AND records = 0 AND person_times = 0")
                .execute(conn)
                .await?;
        }
    }
    Ok(())
}

/// A stored line with its id, for counting.
struct Line {
    id: String,
    seq: i64,
    line: ContractLine,
}

/// id, seq, service kind, content, unit, unit price, quantity, qualifying rule (JSON), tier.
type LineRow = (
    String,
    i64,
    Option<String>,
    String,
    String,
    i64,
    i64,
    String,
    String,
);

async fn lines_of(conn: &mut AnyConnection, contract_id: &str) -> StoreResult<Vec<Line>> {
    let rows: Vec<LineRow> = Sql::new(
        "SELECT id, seq, service_kind, content, unit, unit_price_fen, quantity, qualifying_rule, tier \
         FROM contract_lines WHERE contract_id = ",
    )
    .bind(contract_id)
    .push(" ORDER BY seq")
    .fetch_all(conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for (id, seq, kind, content, unit, price, quantity, rule, tier) in rows {
        out.push(Line {
            id,
            seq,
            line: ContractLine {
                service_kind: kind.map(|k| stored(ServiceKind::parse(&k))).transpose()?,
                content,
                unit,
                unit_price: shegong_domain::money::Fen(price),
                quantity,
                rule: from_json(&rule)?,
                tier: stored(LineTier::parse(&tier))?,
            },
        });
    }
    Ok(out)
}

/// The contract's term as stored (no scope: callers have checked it or are maintenance).
async fn term_of(conn: &mut AnyConnection, contract_id: &str) -> StoreResult<(String, String)> {
    Sql::new("SELECT term_start, term_end FROM contracts WHERE id = ")
        .bind(contract_id)
        .fetch_one(conn)
        .await
}

/// Cases of the contract's stations closed within `start..=end`, as a query selecting their id.
fn closed_cases(select: &'static str, contract_id: &str, start: &str, end: &str) -> Sql {
    let mut q = Sql::new(select);
    q.push(" FROM cases k WHERE k.station_id IN (SELECT station_id FROM contract_stations WHERE contract_id = ")
        .bind(contract_id)
        .push(") AND k.stage = 'closed' AND k.closed_on >= ")
        .bind(start)
        .push(" AND k.closed_on <= ")
        .bind(end);
    q
}

/// A line's delivered quantity read from its tallies; `None` for lines not counted from records.
async fn delivered(
    conn: &mut AnyConnection,
    contract_id: &str,
    (start, end): (&str, &str),
    l: &Line,
) -> StoreResult<Option<i64>> {
    if l.line.service_kind.is_none() {
        return Ok(None);
    }
    let one_row = |column: &'static str| {
        let mut q = Sql::new(column);
        q.push(" FROM delivery_tallies WHERE line_id = ")
            .bind(l.id.as_str())
            .push(" AND unit_key = ''");
        q
    };
    let q = match l.line.rule {
        QualifyingRule::Each | QualifyingRule::Activity { .. } => {
            one_row("SELECT COALESCE(MAX(records), 0)")
        }
        QualifyingRule::PersonTimes => one_row("SELECT COALESCE(MAX(person_times), 0)"),
        QualifyingRule::Group {
            min_sessions,
            min_person_times,
        } => {
            let mut q = Sql::new("SELECT COUNT(*) FROM delivery_tallies WHERE line_id = ");
            q.bind(l.id.as_str())
                .push(" AND records >= ")
                .bind(min_sessions)
                .push(" AND person_times >= ")
                .bind(min_person_times);
            q
        }
        QualifyingRule::ClosedCase { min_follow_ups } => {
            let mut q = closed_cases("SELECT COUNT(*)", contract_id, start, end);
            q.push(" AND COALESCE((SELECT t.records FROM delivery_tallies t WHERE t.line_id = ")
                .bind(l.id.as_str())
                .push(" AND t.unit_key = k.id), 0) >= ")
                .bind(min_follow_ups);
            q
        }
    };
    Ok(Some(q.fetch_i64(conn).await?))
}

/// A line's delivery against its target and the elapsed term.
#[derive(Debug, Clone, Serialize)]
pub struct LineDelivery {
    pub line_id: String,
    pub seq: i64,
    pub content: String,
    pub unit: String,
    pub service_kind: Option<ServiceKind>,
    pub rule: QualifyingRule,
    /// The line's part of the contract (core or basic), what a delivery indicator may measure.
    pub tier: LineTier,
    pub target: i64,
    /// `None` for lines not counted from service records.
    pub delivered: Option<i64>,
    /// Delivered / target in basis points, rounded down (above 10,000 when over-delivered).
    pub delivered_bp: Option<i64>,
    /// How much of the term has passed, in basis points.
    pub elapsed_bp: i64,
    /// What the target asks by now at an even pace: target × elapsed share, rounded down.
    pub expected: i64,
    /// Delivered % trails elapsed % by more than [`PACE_TOLERANCE_BP`] (never for a met target
    /// or an uncounted line).
    pub behind: bool,
}

fn line_delivery(l: Line, delivered: Option<i64>, term: Term, today: NaiveDate) -> LineDelivery {
    let elapsed_bp = term.elapsed_bp(today);
    let progress = delivered.map(|d| l.line.progress(d, term, today));
    let expected = i64::try_from(
        i128::from(l.line.quantity) * i128::from(elapsed_bp) / i128::from(HUNDRED_PERCENT),
    )
    .unwrap_or(i64::MAX);
    LineDelivery {
        line_id: l.id,
        seq: l.seq,
        service_kind: l.line.service_kind,
        rule: l.line.rule,
        tier: l.line.tier,
        target: l.line.quantity,
        delivered,
        delivered_bp: progress.map(|p| p.delivered_bp),
        elapsed_bp,
        expected,
        behind: progress.is_some_and(|p| p.behind(PACE_TOLERANCE_BP)),
        content: l.line.content,
        unit: l.line.unit,
    }
}

async fn deliveries(
    conn: &mut AnyConnection,
    c: &Contract,
    today: NaiveDate,
) -> StoreResult<Vec<LineDelivery>> {
    let (start, end) = (date_text(c.term.start()), date_text(c.term.end()));
    let mut out = Vec::new();
    for l in lines_of(conn, &c.id).await? {
        let d = delivered(conn, &c.id, (&start, &end), &l).await?;
        out.push(line_delivery(l, d, c.term, today));
    }
    Ok(out)
}

/// The deliverables of a contract the scope sees (`NotFound` otherwise), line by line, with
/// pace measured on `today`.
pub async fn for_contract(
    conn: &mut AnyConnection,
    scope: &Scope,
    contract_id: &str,
    today: NaiveDate,
) -> StoreResult<Vec<LineDelivery>> {
    let c = contracts::get(conn, scope, contract_id).await?;
    deliveries(conn, &c, today).await
}

/// A contract's delivery at a glance, for a region's overview.
#[derive(Debug, Clone, Serialize)]
pub struct ContractDelivery {
    pub contract: Contract,
    /// Lines counted from records.
    pub counted_lines: i64,
    /// The mean of the counted lines' delivered shares, each capped at 100 %; `None` without
    /// counted lines.
    pub delivered_bp: Option<i64>,
    pub elapsed_bp: i64,
    /// Lines behind pace.
    pub behind_lines: i64,
}

/// A page of the contracts in scope (filtered as the contract list is) with their delivery,
/// read from the tallies.
pub async fn overview(
    conn: &mut AnyConnection,
    scope: &Scope,
    filter: &contracts::Filter,
    page: PageRequest,
    today: NaiveDate,
) -> StoreResult<Page<ContractDelivery>> {
    let list = contracts::list(conn, scope, filter, page).await?;
    let mut items = Vec::with_capacity(list.items.len());
    for c in list.items {
        let lines = deliveries(conn, &c, today).await?;
        let shares: Vec<i64> = lines
            .iter()
            .filter_map(|l| l.delivered_bp)
            .map(|bp| bp.min(HUNDRED_PERCENT))
            .collect();
        let counted = i64::try_from(shares.len()).unwrap_or(i64::MAX);
        items.push(ContractDelivery {
            counted_lines: counted,
            delivered_bp: ratio_bp(shares.iter().sum(), counted.saturating_mul(HUNDRED_PERCENT)),
            elapsed_bp: c.term.elapsed_bp(today),
            behind_lines: i64::try_from(lines.iter().filter(|l| l.behind).count())
                .unwrap_or(i64::MAX),
            contract: c,
        });
    }
    Ok(Page {
        items,
        total: list.total,
        capped: list.capped,
        page: list.page,
        per_page: list.per_page,
    })
}

/// A contract's tallies and delivered quantities counted again from the raw records.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Recomputed {
    /// Tally rows, sorted.
    pub tallies: Vec<Tally>,
    /// (line id, delivered) by the domain's rule over the raw records, in line order.
    pub delivered: Vec<(String, Option<i64>)>,
}

/// A raw record of a line: (station id, title, case id, person-times).
type RawRecord = (Option<String>, String, Option<String>, i64);

/// Count a contract's deliverables from the raw service records and cases: the tallies as the
/// writes should have kept them, and each line's delivered quantity by the domain's
/// `ContractLine::delivered`.
pub async fn recompute(conn: &mut AnyConnection, contract_id: &str) -> StoreResult<Recomputed> {
    let (start, end) = term_of(conn, contract_id).await?;
    let mut out = Recomputed::default();
    for l in lines_of(conn, contract_id).await? {
        let Some(kind) = l.line.service_kind else {
            out.delivered.push((l.id, None));
            continue;
        };
        let records: Vec<RawRecord> = Sql::new(
            "SELECT v.station_id, v.title, v.case_id, v.person_times FROM services v \
             JOIN contract_stations cs ON cs.station_id = v.station_id WHERE cs.contract_id = ",
        )
        .bind(contract_id)
        .push(" AND v.kind = ")
        .bind(kind.as_str())
        .push(" AND v.served_on >= ")
        .bind(start.as_str())
        .push(" AND v.served_on <= ")
        .bind(end.as_str())
        .fetch_all(conn)
        .await?;
        let mut units: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        for (station, title, case_id, person_times) in &records {
            let r = Record {
                station_id: station.as_deref(),
                kind: kind.as_str(),
                served_on: &start,
                title,
                case_id: case_id.as_deref(),
                person_times: *person_times,
            };
            let station = station.as_deref().unwrap_or_default();
            if let Some(unit) = unit_key(l.line.rule, station, &r) {
                let u = units.entry(unit).or_default();
                u.0 += 1;
                u.1 += person_times;
            }
        }
        // The domain's count over the same records, grouped as its rule reads them.
        let facts: Vec<DeliveryFacts> = match l.line.rule {
            QualifyingRule::Each
            | QualifyingRule::PersonTimes
            | QualifyingRule::Activity { .. } => records
                .iter()
                .map(|(_, _, _, pt)| DeliveryFacts {
                    sessions: 1,
                    person_times: *pt,
                    participants: *pt,
                    ..Default::default()
                })
                .collect(),
            QualifyingRule::Group { .. } => units
                .values()
                .map(|(sessions, pt)| DeliveryFacts {
                    sessions: *sessions,
                    person_times: *pt,
                    ..Default::default()
                })
                .collect(),
            QualifyingRule::ClosedCase { .. } => {
                let closed: Vec<(String,)> = closed_cases("SELECT k.id", contract_id, &start, &end)
                    .fetch_all(conn)
                    .await?;
                closed
                    .iter()
                    .map(|(id,)| DeliveryFacts {
                        closed: true,
                        follow_ups: units.get(id).map_or(0, |u| u.0),
                        ..Default::default()
                    })
                    .collect()
            }
        };
        out.delivered
            .push((l.id.clone(), Some(l.line.delivered(&facts))));
        out.tallies
            .extend(units.into_iter().map(|(unit_key, (records, pt))| Tally {
                line_id: l.id.clone(),
                unit_key,
                contract_id: contract_id.to_owned(),
                records,
                person_times: pt,
            }));
    }
    out.tallies.sort();
    Ok(out)
}

/// A contract's tally rows as kept, sorted.
pub async fn tallies(conn: &mut AnyConnection, contract_id: &str) -> StoreResult<Vec<Tally>> {
    let rows: Vec<(String, String, String, i64, i64)> = Sql::new(
        "SELECT line_id, unit_key, contract_id, records, person_times FROM delivery_tallies WHERE contract_id = ",
    )
    .bind(contract_id)
    .fetch_all(conn)
    .await?;
    let mut out: Vec<Tally> = rows
        .into_iter()
        .map(
            |(line_id, unit_key, contract_id, records, person_times)| Tally {
                line_id,
                unit_key,
                contract_id,
                records,
                person_times,
            },
        )
        .collect();
    out.sort();
    Ok(out)
}

/// Replace a contract's tallies by their recomputation from the raw records (in the caller's
/// transaction): when a contract is written, or to repair.
pub async fn rebuild_contract(conn: &mut AnyConnection, contract_id: &str) -> StoreResult<()> {
    let want = recompute(conn, contract_id).await?;
    Sql::new("DELETE FROM delivery_tallies WHERE contract_id = ")
        .bind(contract_id)
        .execute(conn)
        .await?;
    for chunk in want.tallies.chunks(200) {
        let mut q = Sql::new(
            "INSERT INTO delivery_tallies (line_id, contract_id, unit_key, records, person_times) VALUES ",
        );
        for (i, t) in chunk.iter().enumerate() {
            q.push(if i == 0 { "(" } else { ", (" })
                .bind(t.line_id.as_str())
                .push(", ")
                .bind(t.contract_id.as_str())
                .push(", ")
                .bind(t.unit_key.as_str())
                .push(", ")
                .bind(t.records)
                .push(", ")
                .bind(t.person_times)
                .push(")");
        }
        q.execute(conn).await?;
    }
    Ok(())
}

/// Rebuild the tallies of every contract still counting records (after records were loaded
/// without `services`, e.g. a bulk load). Returns contracts rebuilt.
pub async fn rebuild_all(conn: &mut AnyConnection) -> StoreResult<usize> {
    let ids = live_contracts(conn).await?;
    for id in &ids {
        rebuild_contract(conn, id).await?;
    }
    Ok(ids.len())
}

async fn live_contracts(conn: &mut AnyConnection) -> StoreResult<Vec<String>> {
    let mut q = Sql::new("SELECT id FROM contracts WHERE state IN ");
    q.push(LIVE_STATES).push(" ORDER BY id");
    let rows: Vec<(String,)> = q.fetch_all(conn).await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Differences between a contract's kept tallies (and the delivered quantities read from them)
/// and a recomputation from the raw records; empty when they agree.
pub async fn verify(conn: &mut AnyConnection, contract_id: &str) -> StoreResult<Vec<String>> {
    let want = recompute(conn, contract_id).await?;
    let have = tallies(conn, contract_id).await?;
    let mut diffs = Vec::new();
    if have != want.tallies {
        diffs.push(format!(
            "contract {contract_id}: tallies {have:?} != recomputed {:?}",
            want.tallies
        ));
    }
    let (start, end) = term_of(conn, contract_id).await?;
    for l in lines_of(conn, contract_id).await? {
        let read = delivered(conn, contract_id, (&start, &end), &l).await?;
        let expected = want
            .delivered
            .iter()
            .find(|(id, _)| *id == l.id)
            .and_then(|(_, d)| *d);
        if read != expected {
            diffs.push(format!(
                "contract {contract_id} line {}: delivered {read:?} != recomputed {expected:?}",
                l.seq
            ));
        }
    }
    Ok(diffs)
}

/// [`verify`] over every contract still counting records.
pub async fn verify_all(conn: &mut AnyConnection) -> StoreResult<Vec<String>> {
    let mut diffs = Vec::new();
    for id in live_contracts(conn).await? {
        diffs.extend(verify(conn, &id).await?);
    }
    Ok(diffs)
}
