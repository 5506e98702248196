//! What the public portal publishes of the purchase of services (`/public/purchase`, no login),
//! for one region subtree — the portal's chosen region and everything under it, whoever asks:
//! published catalogue editions with their included and purchasing items (removed ones apart,
//! with the reason), the procurement notices of purchase projects, contract notices, and the
//! grades of published evaluations.
//!
//! Only public facts leave here: organisations (purchaser, provider with its USCC), stations by
//! name, amounts, terms and results. Nothing names a person — no usernames (the item history's
//! authors, a contract's creator, who filed a procurement notice), no evaluator notes, no
//! rectification owners — and nothing internal: no record ids. A draft edition and its items are not shown (a contract buying from
//! one does not name the item either), and an evaluation shows only once published.
//!
//! Every list is bounded: editions, procurement notices, contracts and evaluations come a page
//! at a time, and an
//! edition's items, a contract's station names are capped with the count of the rest.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::Serialize;
use shegong_domain::money::Fen;
use shegong_domain::purchase::catalogue::{
    CostShare, CostShares, ItemStatus, RemovalReason, ServiceField,
};
use shegong_domain::purchase::contract::{ContractState, ProcurementMethod, Term};
use shegong_domain::purchase::evaluation::{EvaluationKind, Grade, Points};
use shegong_domain::purchase::project::NoticeKind;
use shegong_domain::{RegionCode, Scope};
use sqlx::AnyConnection;

use super::{from_json, stored};
use crate::sql::Sql;
use crate::{Millis, Page, PageRequest, StoreError, StoreResult};

/// Items of an edition listed at most (each of the two lists: in the catalogue, removed).
pub const ITEMS_CAP: i64 = 200;
/// Station names of a contract listed at most.
pub const STATIONS_CAP: usize = 50;
/// The most records of one list on a page.
pub const PER_PAGE_MAX: i64 = 50;

/// The subtree's range on region-code columns: `None` is the whole country.
fn subtree(region: Option<&RegionCode>) -> Scope {
    Scope {
        region: region.cloned(),
        org: None,
    }
}

fn bounded(page: PageRequest) -> PageRequest {
    PageRequest {
        page: page.page,
        per_page: page.per_page.clamp(1, PER_PAGE_MAX),
    }
}

fn date(text: &str) -> StoreResult<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|e| StoreError::Db(sqlx::Error::Decode(e.into())))
}

fn page_of<R, T>(rows: Page<R>, items: Vec<T>) -> Page<T> {
    Page {
        items,
        total: rows.total,
        capped: rows.capped,
        page: rows.page,
        per_page: rows.per_page,
    }
}

// ---------------------------------------------------------------------------------------------
// The catalogue

/// An item of a published edition as the public sees it.
#[derive(Debug, Clone, Serialize)]
pub struct PublicItem {
    pub field: ServiceField,
    pub name: String,
    pub description: String,
    /// `included` or `purchasing` (`removed` in [`PublicEdition::removed`]).
    pub status: ItemStatus,
    pub removal_reason: Option<RemovalReason>,
    pub cost_shares: CostShares,
}

/// A published catalogue edition with its items.
#[derive(Debug, Clone, Serialize)]
pub struct PublicEdition {
    pub region_code: String,
    pub region_path: Option<String>,
    pub year: i64,
    pub title: String,
    /// Items included in the catalogue or being purchased, by field and name (at most
    /// [`ITEMS_CAP`]).
    pub items: Vec<PublicItem>,
    /// Items beyond the cap.
    pub more_items: i64,
    /// Items removed from the catalogue, with the reason (at most [`ITEMS_CAP`]).
    pub removed: Vec<PublicItem>,
    pub more_removed: i64,
}

type ItemRow = (String, String, String, String, Option<String>, String);

/// Items of `edition` in `statuses` (fixed text), capped, and how many more there are.
async fn edition_items(
    conn: &mut AnyConnection,
    edition: &str,
    statuses: &'static str,
) -> StoreResult<(Vec<PublicItem>, i64)> {
    let mut count = Sql::new("SELECT COUNT(*) FROM catalogue_items i WHERE i.edition_id = ");
    count.bind(edition).push(" AND i.status IN ").push(statuses);
    let total = count.fetch_i64(conn).await?;
    let rows: Vec<ItemRow> = Sql::new(
        "SELECT i.field, i.name, i.description, i.status, i.removal_reason, i.cost_shares \
         FROM catalogue_items i WHERE i.edition_id = ",
    )
    .bind(edition)
    .push(" AND i.status IN ")
    .push(statuses)
    .push(" ORDER BY i.field, i.name, i.id LIMIT ")
    .bind(ITEMS_CAP)
    .fetch_all(conn)
    .await?;
    let mut items = Vec::with_capacity(rows.len());
    for (field, name, description, status, reason, shares) in rows {
        let shares: Vec<CostShare> = from_json(&shares)?;
        items.push(PublicItem {
            field: stored(ServiceField::parse(&field))?,
            name,
            description,
            status: stored(ItemStatus::parse(&status))?,
            removal_reason: reason
                .map(|r| stored(RemovalReason::parse(&r)))
                .transpose()?,
            cost_shares: stored(CostShares::new(shares))?,
        });
    }
    let more = (total - i64::try_from(items.len()).unwrap_or(i64::MAX)).max(0);
    Ok((items, more))
}

fn published_editions(region: Option<&RegionCode>, select: &'static str) -> Sql {
    let mut q = Sql::new(select);
    q.push(" WHERE e.status = 'published' AND ");
    q.region_range("e.region_code", &subtree(region));
    q
}

/// One page of the published editions of the subtree, latest year first, each with its items.
pub async fn catalogue(
    conn: &mut AnyConnection,
    region: Option<&RegionCode>,
    page: PageRequest,
) -> StoreResult<Page<PublicEdition>> {
    let mut q = published_editions(
        region,
        "SELECT e.id, e.region_code, r.path_names, e.year, e.title \
         FROM catalogue_editions e LEFT JOIN regions r ON r.code = e.region_code",
    );
    q.push(" ORDER BY e.year DESC, e.region_code");
    let count = published_editions(region, "SELECT COUNT(*) FROM catalogue_editions e");
    let rows: Page<(String, String, Option<String>, i64, String)> =
        q.fetch_page(conn, &count, bounded(page)).await?;
    let mut editions = Vec::with_capacity(rows.items.len());
    for (id, region_code, region_path, year, title) in &rows.items {
        let (items, more_items) = edition_items(conn, id, "('included', 'purchasing')").await?;
        let (removed, more_removed) = edition_items(conn, id, "('removed')").await?;
        editions.push(PublicEdition {
            region_code: region_code.clone(),
            region_path: region_path.clone(),
            year: *year,
            title: title.clone(),
            items,
            more_items,
            removed,
            more_removed,
        });
    }
    Ok(page_of(rows, editions))
}

// ---------------------------------------------------------------------------------------------
// Contract notices

/// A signed contract as published: the parties are organisations, the stations by name.
#[derive(Debug, Clone, Serialize)]
pub struct ContractNotice {
    /// The purchaser's region.
    pub region_code: String,
    pub region_path: Option<String>,
    pub number: String,
    pub title: String,
    pub purchaser_name: Option<String>,
    pub provider_name: String,
    pub provider_uscc: Option<String>,
    pub amount: Fen,
    pub term: Term,
    pub method: ProcurementMethod,
    pub state: ContractState,
    /// The catalogue item bought, when its edition is published.
    pub catalogue_item: Option<String>,
    pub station_count: i64,
    /// The stations served, by region and name (at most [`STATIONS_CAP`]).
    pub stations: Vec<String>,
}

#[derive(sqlx::FromRow)]
struct NoticeRow {
    id: String,
    region_code: String,
    region_path: Option<String>,
    number: String,
    title: String,
    purchaser_name: Option<String>,
    provider_name: String,
    provider_uscc: Option<String>,
    amount_fen: i64,
    term_start: String,
    term_end: String,
    method: String,
    state: String,
    catalogue_item: Option<String>,
    station_count: i64,
}

/// Every contract is written signed, so every contract of the subtree is a notice.
fn notices(region: Option<&RegionCode>, select: &'static str) -> Sql {
    let mut q = Sql::new(select);
    q.push(" WHERE ");
    q.region_range("c.region_code", &subtree(region));
    q
}

/// One page of the contract notices of the subtree, latest term first.
pub async fn contracts(
    conn: &mut AnyConnection,
    region: Option<&RegionCode>,
    page: PageRequest,
) -> StoreResult<Page<ContractNotice>> {
    let mut q = notices(
        region,
        "SELECT c.id, c.region_code, r.path_names AS region_path, c.number, c.title, \
         po.name AS purchaser_name, o.name AS provider_name, o.uscc AS provider_uscc, \
         c.amount_fen, c.term_start, c.term_end, c.method, c.state, \
         CASE WHEN ce.status = 'published' THEN ci.name END AS catalogue_item, \
         (SELECT COUNT(*) FROM contract_stations cs WHERE cs.contract_id = c.id) AS station_count \
         FROM contracts c JOIN organizations o ON o.id = c.provider_org_id \
         LEFT JOIN organizations po ON po.id = c.purchaser_org_id \
         LEFT JOIN regions r ON r.code = c.region_code \
         LEFT JOIN catalogue_items ci ON ci.id = c.catalogue_item_id \
         LEFT JOIN catalogue_editions ce ON ce.id = ci.edition_id",
    );
    q.push(" ORDER BY c.term_start DESC, c.number, c.id");
    let count = notices(region, "SELECT COUNT(*) FROM contracts c");
    let rows: Page<NoticeRow> = q.fetch_page(conn, &count, bounded(page)).await?;
    let mut names = station_names(conn, rows.items.iter().map(|r| r.id.as_str())).await?;
    let mut out = Vec::with_capacity(rows.items.len());
    for r in &rows.items {
        out.push(ContractNotice {
            term: stored(Term::new(date(&r.term_start)?, date(&r.term_end)?))?,
            method: stored(ProcurementMethod::parse(&r.method))?,
            state: stored(ContractState::parse(&r.state))?,
            amount: Fen(r.amount_fen),
            stations: names.remove(&r.id).unwrap_or_default(),
            region_code: r.region_code.clone(),
            region_path: r.region_path.clone(),
            number: r.number.clone(),
            title: r.title.clone(),
            purchaser_name: r.purchaser_name.clone(),
            provider_name: r.provider_name.clone(),
            provider_uscc: r.provider_uscc.clone(),
            catalogue_item: r.catalogue_item.clone(),
            station_count: r.station_count,
        });
    }
    Ok(page_of(rows, out))
}

/// The station names of each contract of a page (at most [`STATIONS_CAP`] each).
async fn station_names<'a>(
    conn: &mut AnyConnection,
    contracts: impl Iterator<Item = &'a str>,
) -> StoreResult<HashMap<String, Vec<String>>> {
    let mut q = Sql::new(
        "SELECT cs.contract_id, s.name FROM contract_stations cs \
         JOIN stations s ON s.id = cs.station_id WHERE cs.contract_id IN (",
    );
    let mut any = false;
    for id in contracts {
        if any {
            q.push(", ");
        }
        q.bind(id);
        any = true;
    }
    if !any {
        return Ok(HashMap::new());
    }
    q.push(") ORDER BY cs.contract_id, s.region_code, s.name");
    let rows: Vec<(String, String)> = q.fetch_all(conn).await?;
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for (contract, name) in rows {
        let names = out.entry(contract).or_default();
        if names.len() < STATIONS_CAP {
            names.push(name);
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Published evaluations

/// The result of a published evaluation.
#[derive(Debug, Clone, Serialize)]
pub struct PublishedEvaluation {
    /// The contract's (purchaser's) region.
    pub region_code: String,
    pub contract_number: String,
    pub contract_title: String,
    pub provider_name: String,
    pub kind: EvaluationKind,
    pub total: Points,
    pub max: Points,
    pub grade: Grade,
    /// The day the final score was reached.
    pub finished_on: Option<NaiveDate>,
    /// When it was published (a published evaluation changes no more).
    pub published_at: Millis,
}

#[derive(sqlx::FromRow)]
struct EvaluationRow {
    region_code: String,
    contract_number: String,
    contract_title: String,
    provider_name: String,
    kind: String,
    total_points: i64,
    max_points: i64,
    grade: String,
    finished_on: Option<String>,
    updated_at: i64,
}

fn published_evaluations(region: Option<&RegionCode>, select: &'static str) -> Sql {
    let mut q = Sql::new(select);
    q.push(
        " WHERE e.state = 'published' AND e.total_points IS NOT NULL \
         AND e.max_points IS NOT NULL AND e.grade IS NOT NULL AND ",
    );
    q.region_range("e.region_code", &subtree(region));
    q
}

/// One page of the published evaluations of the subtree, latest published first.
pub async fn evaluations(
    conn: &mut AnyConnection,
    region: Option<&RegionCode>,
    page: PageRequest,
) -> StoreResult<Page<PublishedEvaluation>> {
    let mut q = published_evaluations(
        region,
        "SELECT e.region_code, c.number AS contract_number, c.title AS contract_title, \
         o.name AS provider_name, e.kind, e.total_points, e.max_points, e.grade, \
         e.finished_on, e.updated_at \
         FROM evaluations e JOIN contracts c ON c.id = e.contract_id \
         JOIN organizations o ON o.id = c.provider_org_id",
    );
    q.push(" ORDER BY e.updated_at DESC, e.id DESC");
    let count = published_evaluations(region, "SELECT COUNT(*) FROM evaluations e");
    let rows: Page<EvaluationRow> = q.fetch_page(conn, &count, bounded(page)).await?;
    let mut out = Vec::with_capacity(rows.items.len());
    for r in &rows.items {
        out.push(PublishedEvaluation {
            kind: stored(EvaluationKind::parse(&r.kind))?,
            grade: stored(Grade::parse(&r.grade))?,
            total: Points(r.total_points),
            max: Points(r.max_points),
            finished_on: r.finished_on.as_deref().map(date).transpose()?,
            published_at: r.updated_at,
            region_code: r.region_code.clone(),
            contract_number: r.contract_number.clone(),
            contract_title: r.contract_title.clone(),
            provider_name: r.provider_name.clone(),
        });
    }
    Ok(page_of(rows, out))
}

// ---------------------------------------------------------------------------------------------
// Procurement notices

/// A notice of a purchase project's procurement (采购、更正、结果、合同、终止公告) as published
/// on the government procurement site: the project and its purchaser, never who filed it.
#[derive(Debug, Clone, Serialize)]
pub struct ProcurementNotice {
    /// The project's (purchaser's) region.
    pub region_code: String,
    pub region_path: Option<String>,
    pub project_number: String,
    pub project_name: String,
    pub purchaser_name: Option<String>,
    /// Chosen when procurement starts.
    pub method: Option<ProcurementMethod>,
    pub budget: Fen,
    pub kind: NoticeKind,
    pub published_on: NaiveDate,
    pub title: String,
    /// As filed: an http(s) address or empty.
    pub url: String,
}

#[derive(sqlx::FromRow)]
struct ProcurementRow {
    region_code: String,
    region_path: Option<String>,
    project_number: String,
    project_name: String,
    purchaser_name: Option<String>,
    method: Option<String>,
    budget_fen: i64,
    kind: String,
    published_on: String,
    title: String,
    url: String,
}

/// Every notice of the subtree's projects: notices are public once filed (a cancelled
/// project's included, its termination notice among them).
fn project_notices(region: Option<&RegionCode>, select: &'static str) -> Sql {
    let mut q = Sql::new(select);
    q.push(" WHERE ");
    q.region_range("p.region_code", &subtree(region));
    q
}

const PROJECT_NOTICES_COUNT: &str = "SELECT COUNT(*) FROM procurement_notices n \
     JOIN purchase_projects p ON p.id = n.project_id";

/// One page of the procurement notices of the subtree's purchase projects, latest published
/// first (on one day, the latest filed first).
pub async fn procurement_notices(
    conn: &mut AnyConnection,
    region: Option<&RegionCode>,
    page: PageRequest,
) -> StoreResult<Page<ProcurementNotice>> {
    let mut q = project_notices(
        region,
        "SELECT p.region_code, r.path_names AS region_path, p.number AS project_number, \
         p.name AS project_name, o.name AS purchaser_name, p.method, p.budget_fen, n.kind, \
         n.published_on, n.title, n.url \
         FROM procurement_notices n JOIN purchase_projects p ON p.id = n.project_id \
         LEFT JOIN organizations o ON o.id = p.purchaser_org_id \
         LEFT JOIN regions r ON r.code = p.region_code",
    );
    q.push(" ORDER BY n.published_on DESC, n.created_at DESC, n.id DESC");
    let count = project_notices(region, PROJECT_NOTICES_COUNT);
    let rows: Page<ProcurementRow> = q.fetch_page(conn, &count, bounded(page)).await?;
    let mut out = Vec::with_capacity(rows.items.len());
    for r in &rows.items {
        out.push(ProcurementNotice {
            method: r
                .method
                .as_deref()
                .map(|m| stored(ProcurementMethod::parse(m)))
                .transpose()?,
            kind: stored(NoticeKind::parse(&r.kind))?,
            published_on: date(&r.published_on)?,
            budget: Fen(r.budget_fen),
            region_code: r.region_code.clone(),
            region_path: r.region_path.clone(),
            project_number: r.project_number.clone(),
            project_name: r.project_name.clone(),
            purchaser_name: r.purchaser_name.clone(),
            title: r.title.clone(),
            url: r.url.clone(),
        });
    }
    Ok(page_of(rows, out))
}

/// How many records of each list the portal publishes for a subtree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Counts {
    /// Published catalogue editions.
    pub editions: i64,
    /// Procurement notices of purchase projects.
    pub procurement_notices: i64,
    /// Contract notices.
    pub contracts: i64,
    /// Published evaluations.
    pub evaluations: i64,
}

/// How many published editions, procurement notices, contract notices and published
/// evaluations the subtree has.
pub async fn counts(conn: &mut AnyConnection, region: Option<&RegionCode>) -> StoreResult<Counts> {
    let editions = published_editions(region, "SELECT COUNT(*) FROM catalogue_editions e")
        .fetch_i64(conn)
        .await?;
    let procurement_notices = project_notices(region, PROJECT_NOTICES_COUNT)
        .fetch_i64(conn)
        .await?;
    let contracts = notices(region, "SELECT COUNT(*) FROM contracts c")
        .fetch_i64(conn)
        .await?;
    let evaluations = published_evaluations(region, "SELECT COUNT(*) FROM evaluations e")
        .fetch_i64(conn)
        .await?;
    Ok(Counts {
        editions,
        procurement_notices,
        contracts,
        evaluations,
    })
}
