//! Contracts: written whole (lines, budget lines, stations and the payment plan's instalments in
//! the caller's transaction), listed and read in scope, moved through their states.

use chrono::NaiveDate;
use serde::Serialize;
use shegong_domain::money::Fen;
use shegong_domain::purchase::contract::{
    BudgetCategory, BudgetLine, ContractLine, ContractState, LineTier, ProcurementMethod,
    QualifyingRule, Term,
};
use shegong_domain::purchase::instalment::{PaymentPlan, ReductionRule};
use shegong_domain::{FieldError, RegionCode, Scope};
use sqlx::AnyConnection;

use super::instalments::{self, Instalment};
use super::{from_json, stored, to_json, visible_contracts};
use crate::sql::Sql;
use crate::workforce::staff::date_text;
use crate::{Millis, Page, PageRequest, StoreError, StoreResult, new_id};

/// A contract as read: codes and rules decoded into the domain's types.
#[derive(Debug, Clone, Serialize)]
pub struct Contract {
    pub id: String,
    /// The purchaser's region.
    pub region_code: String,
    pub region_path: Option<String>,
    pub number: String,
    pub title: String,
    pub purchaser_org_id: Option<String>,
    pub purchaser_name: Option<String>,
    pub provider_org_id: String,
    pub provider_name: String,
    pub provider_uscc: Option<String>,
    pub amount: Fen,
    pub term: Term,
    pub method: ProcurementMethod,
    pub state: ContractState,
    pub renewal_of: Option<String>,
    pub catalogue_item_id: Option<String>,
    pub reduction_rule: Option<ReductionRule>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    region_code: String,
    region_path: Option<String>,
    number: String,
    title: String,
    purchaser_org_id: Option<String>,
    purchaser_name: Option<String>,
    provider_org_id: String,
    provider_name: String,
    provider_uscc: Option<String>,
    amount_fen: i64,
    term_start: String,
    term_end: String,
    method: String,
    state: String,
    renewal_of: Option<String>,
    catalogue_item_id: Option<String>,
    reduction_rule: String,
    created_at: i64,
    updated_at: i64,
}

const SELECT: &str = "SELECT c.id, c.region_code, r.path_names AS region_path, c.number, c.title, \
     c.purchaser_org_id, po.name AS purchaser_name, c.provider_org_id, o.name AS provider_name, \
     o.uscc AS provider_uscc, c.amount_fen, c.term_start, c.term_end, c.method, c.state, \
     c.renewal_of, c.catalogue_item_id, c.reduction_rule, c.created_at, c.updated_at \
     FROM contracts c JOIN organizations o ON o.id = c.provider_org_id \
     LEFT JOIN organizations po ON po.id = c.purchaser_org_id \
     LEFT JOIN regions r ON r.code = c.region_code";

const COUNT: &str =
    "SELECT COUNT(*) FROM contracts c JOIN organizations o ON o.id = c.provider_org_id";

fn date(text: &str) -> StoreResult<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|e| StoreError::Db(sqlx::Error::Decode(e.into())))
}

impl TryFrom<Row> for Contract {
    type Error = StoreError;

    fn try_from(r: Row) -> StoreResult<Contract> {
        let rule = Some(r.reduction_rule.as_str())
            .filter(|t| !t.is_empty())
            .map(ReductionRule::parse)
            .transpose();
        Ok(Contract {
            term: stored(Term::new(date(&r.term_start)?, date(&r.term_end)?))?,
            method: stored(ProcurementMethod::parse(&r.method))?,
            state: stored(ContractState::parse(&r.state))?,
            reduction_rule: stored(rule)?,
            amount: Fen(r.amount_fen),
            id: r.id,
            region_code: r.region_code,
            region_path: r.region_path,
            number: r.number,
            title: r.title,
            purchaser_org_id: r.purchaser_org_id,
            purchaser_name: r.purchaser_name,
            provider_org_id: r.provider_org_id,
            provider_name: r.provider_name,
            provider_uscc: r.provider_uscc,
            renewal_of: r.renewal_of,
            catalogue_item_id: r.catalogue_item_id,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// A new contract, parsed: the plan already checked against the amount it splits.
#[derive(Debug, Clone)]
pub struct ContractInput {
    /// The purchaser's region; the contract is filed (and seen) there.
    pub region: RegionCode,
    pub number: String,
    pub title: String,
    pub purchaser_org_id: Option<String>,
    pub provider_org_id: String,
    pub amount: Fen,
    pub term: Term,
    pub method: ProcurementMethod,
    pub renewal_of: Option<String>,
    pub catalogue_item_id: Option<String>,
    pub reduction_rule: Option<ReductionRule>,
    pub stations: Vec<String>,
    pub lines: Vec<ContractLine>,
    pub budget: Vec<BudgetLine>,
    pub plan: PaymentPlan,
}

/// A contract line as stored, with its place in the contract.
#[derive(Debug, Clone, Serialize)]
pub struct StoredLine {
    pub seq: i64,
    pub line: ContractLine,
}

#[derive(Debug, Clone, Serialize)]
pub struct StoredBudgetLine {
    pub seq: i64,
    pub line: BudgetLine,
    pub spent: Fen,
}

/// A contract with everything written with it.
#[derive(Debug, Clone, Serialize)]
pub struct ContractDetail {
    pub contract: Contract,
    pub lines: Vec<StoredLine>,
    pub budget: Vec<StoredBudgetLine>,
    /// (station id, name) of the stations the contract runs.
    pub stations: Vec<(String, String)>,
    pub instalments: Vec<Instalment>,
}

fn refuse<T>(field: &'static str, code: &'static str) -> StoreResult<T> {
    Err(FieldError::new(field, code).into())
}

async fn count(conn: &mut AnyConnection, q: &Sql) -> StoreResult<bool> {
    Ok(q.fetch_i64(conn).await? > 0)
}

/// Everything a contract refers to exists where it may: the provider and purchaser are
/// organisations, the stations lie in the purchaser's region, the renewed contract and the
/// catalogue item are visible to the writer; the number is free in the region.
async fn check_references(
    conn: &mut AnyConnection,
    scope: &Scope,
    input: &ContractInput,
) -> StoreResult<()> {
    let org_exists = |id: &str| {
        let mut q = Sql::new("SELECT COUNT(*) FROM organizations WHERE id = ");
        q.bind(id);
        q
    };
    if !count(conn, &org_exists(&input.provider_org_id)).await? {
        return refuse("provider_org_id", "purchase.provider_unknown");
    }
    if let Some(p) = &input.purchaser_org_id
        && !count(conn, &org_exists(p)).await?
    {
        return refuse("purchaser_org_id", "purchase.purchaser_unknown");
    }
    let mut taken = Sql::new("SELECT COUNT(*) FROM contracts WHERE region_code = ");
    taken
        .bind(input.region.as_str())
        .push(" AND number = ")
        .bind(input.number.trim());
    if count(conn, &taken).await? {
        return refuse("contract_number", "purchase.number_taken");
    }
    let region = Scope::region(input.region.clone());
    for station in &input.stations {
        let mut q = Sql::new("SELECT COUNT(*) FROM stations WHERE id = ");
        q.bind(station.as_str()).push(" AND ");
        q.region_range("region_code", &region);
        if !count(conn, &q).await? {
            return refuse("stations", "purchase.station_outside_region");
        }
    }
    if let Some(previous) = &input.renewal_of
        && get(conn, scope, previous).await.is_err()
    {
        return refuse("renewal_of", "purchase.renewal_unknown");
    }
    if let Some(item) = &input.catalogue_item_id
        && super::catalogue::get_item(conn, scope, item).await.is_err()
    {
        return refuse("catalogue_item_id", "purchase.catalogue_item_unknown");
    }
    Ok(())
}

/// Write a contract with its lines, budget lines, stations and instalments, in the caller's
/// transaction: a refusal on any part leaves nothing written once the caller rolls back. Only a
/// purchaser writes contracts: the region must lie in a scope that names no organisation.
pub async fn create(
    conn: &mut AnyConnection,
    scope: &Scope,
    input: &ContractInput,
    by: &str,
    now: Millis,
) -> StoreResult<String> {
    if scope.org.is_some() || !scope.contains_region(input.region.as_str()) {
        return refuse("region", "purchase.region_out_of_scope");
    }
    for (field, text, max) in [
        ("contract_number", &input.number, 60),
        ("title", &input.title, 200),
    ] {
        let len = text.trim().chars().count();
        if len == 0 || len > max {
            return refuse(field, "purchase.text_invalid");
        }
    }
    if input.plan.total() != input.amount {
        return refuse("plan", "purchase.plan_amounts_not_total");
    }
    if input.lines.is_empty() {
        return refuse("lines", "purchase.lines_required");
    }
    for line in &input.lines {
        line.validate()
            .map_err(|e| FieldError::new("lines", e.code))?;
    }
    if input.budget.iter().any(|b| b.amount.0 < 0) {
        return refuse("budget", "purchase.amount_invalid");
    }
    check_references(conn, scope, input).await?;
    let id = new_id();
    let rule = input
        .reduction_rule
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    Sql::new("INSERT INTO contracts (id, region_code, number, title, purchaser_org_id, provider_org_id, amount_fen, term_start, term_end, method, state, renewal_of, catalogue_item_id, reduction_rule, created_by, created_at, updated_at) VALUES (")
        .bind(&id).push(", ").bind(input.region.as_str()).push(", ").bind(input.number.trim()).push(", ")
        .bind(input.title.trim()).push(", ").bind(input.purchaser_org_id.clone()).push(", ")
        .bind(input.provider_org_id.as_str()).push(", ").bind(input.amount.0).push(", ")
        .bind(date_text(input.term.start())).push(", ").bind(date_text(input.term.end())).push(", ")
        .bind(input.method.as_str()).push(", ").bind(ContractState::Signed.as_str()).push(", ")
        .bind(input.renewal_of.clone()).push(", ").bind(input.catalogue_item_id.clone()).push(", ")
        .bind(rule).push(", ").bind(by).push(", ").bind(now).push(", ").bind(now).push(")")
        .execute(conn)
        .await?;
    for station in &input.stations {
        Sql::new("INSERT INTO contract_stations (contract_id, station_id) VALUES (")
            .bind(&id)
            .push(", ")
            .bind(station.as_str())
            .push(")")
            .execute(conn)
            .await?;
    }
    for (seq, line) in (1i64..).zip(&input.lines) {
        Sql::new("INSERT INTO contract_lines (id, contract_id, seq, service_kind, content, unit, unit_price_fen, quantity, qualifying_rule, tier) VALUES (")
            .bind(new_id()).push(", ").bind(&id).push(", ").bind(seq).push(", ")
            .bind(line.service_kind.map(|k| k.as_str())).push(", ").bind(line.content.trim()).push(", ")
            .bind(line.unit.trim()).push(", ").bind(line.unit_price.0).push(", ").bind(line.quantity).push(", ")
            .bind(to_json(&line.rule)?).push(", ").bind(line.tier.as_str()).push(")")
            .execute(conn)
            .await?;
    }
    for (seq, line) in (1i64..).zip(&input.budget) {
        Sql::new("INSERT INTO contract_budget_lines (id, contract_id, seq, category, amount_fen, spent_fen) VALUES (")
            .bind(new_id()).push(", ").bind(&id).push(", ").bind(seq).push(", ")
            .bind(line.category.as_str()).push(", ").bind(line.amount.0).push(", 0)")
            .execute(conn)
            .await?;
    }
    instalments::insert_plan(conn, &id, &input.plan, now).await?;
    // Records already kept for the contract's stations and term count from the start.
    super::deliverables::rebuild_contract(conn, &id).await?;
    Ok(id)
}

pub async fn get(conn: &mut AnyConnection, scope: &Scope, id: &str) -> StoreResult<Contract> {
    let mut q = visible_contracts(SELECT, scope);
    q.push(" AND c.id = ").bind(id);
    let row: Row = q.fetch_one(conn).await?;
    row.try_into()
}

/// seq, service kind, content, unit, unit price, quantity, qualifying rule (JSON), tier.
type LineRow = (
    i64,
    Option<String>,
    String,
    String,
    i64,
    i64,
    String,
    String,
);

/// A contract with its lines, budget, stations and instalments.
pub async fn detail(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
) -> StoreResult<ContractDetail> {
    let contract = get(conn, scope, id).await?;
    let rows: Vec<LineRow> = Sql::new(
        "SELECT seq, service_kind, content, unit, unit_price_fen, quantity, qualifying_rule, tier \
         FROM contract_lines WHERE contract_id = ",
    )
    .bind(id)
    .push(" ORDER BY seq")
    .fetch_all(conn)
    .await?;
    let mut lines = Vec::with_capacity(rows.len());
    for (seq, kind, content, unit, price, quantity, rule, tier) in rows {
        let service_kind = kind
            .map(|k| stored(shegong_domain::people::ServiceKind::parse(&k)))
            .transpose()?;
        let rule: QualifyingRule = from_json(&rule)?;
        lines.push(StoredLine {
            seq,
            line: ContractLine {
                service_kind,
                content,
                unit,
                unit_price: Fen(price),
                quantity,
                rule,
                tier: stored(LineTier::parse(&tier))?,
            },
        });
    }
    let rows: Vec<(i64, String, i64, i64)> = Sql::new(
        "SELECT seq, category, amount_fen, spent_fen FROM contract_budget_lines WHERE contract_id = ",
    )
    .bind(id)
    .push(" ORDER BY seq")
    .fetch_all(conn)
    .await?;
    let mut budget = Vec::with_capacity(rows.len());
    for (seq, category, amount, spent) in rows {
        budget.push(StoredBudgetLine {
            seq,
            line: BudgetLine {
                category: stored(BudgetCategory::parse(&category))?,
                amount: Fen(amount),
            },
            spent: Fen(spent),
        });
    }
    let stations: Vec<(String, String)> = Sql::new(
        "SELECT s.id, s.name FROM contract_stations cs JOIN stations s ON s.id = cs.station_id \
         WHERE cs.contract_id = ",
    )
    .bind(id)
    .push(" ORDER BY s.region_code, s.name")
    .fetch_all(conn)
    .await?;
    let instalments = instalments::of_contract(conn, id).await?;
    Ok(ContractDetail {
        contract,
        lines,
        budget,
        stations,
        instalments,
    })
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Number, title or provider name contains.
    pub q: Option<String>,
    pub state: Option<ContractState>,
    /// Contracts whose term touches this calendar year.
    pub year: Option<i32>,
    pub provider: Option<String>,
    /// A key of `SORTS`; none is the default order (latest term first).
    pub sort: Option<crate::Sort>,
    /// Only these contracts (a batch selection).
    pub ids: Option<Vec<String>>,
}

/// The orders a contract list offers (key, column; `DESC`: the latest or largest first).
pub const SORTS: &[(&str, &str)] = &[
    ("number", "c.number"),
    ("title", "c.title"),
    ("provider", "o.name"),
    ("region", "c.region_code"),
    ("amount", "c.amount_fen DESC"),
    ("term", "c.term_start DESC"),
    ("state", "c.state"),
];

fn filtered(scope: &Scope, f: &Filter, select: &'static str) -> Sql {
    let mut q = visible_contracts(select, scope);
    if let Some(text) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        q.contains_any(&["c.number", "c.title", "o.name"], text);
    }
    if let Some(state) = f.state {
        q.push(" AND c.state = ").bind(state.as_str());
    }
    if let Some(year) = f.year {
        q.push(" AND c.term_start <= ")
            .bind(format!("{year:04}-12-31"))
            .push(" AND c.term_end >= ")
            .bind(format!("{year:04}-01-01"));
    }
    if let Some(p) = f.provider.as_deref().filter(|s| !s.is_empty()) {
        q.push(" AND c.provider_org_id = ").bind(p);
    }
    if let Some(ids) = &f.ids {
        q.push(" AND ");
        q.in_list("c.id", ids);
    }
    q
}

/// One page of the contracts in scope, latest term first.
pub async fn list(
    conn: &mut AnyConnection,
    scope: &Scope,
    f: &Filter,
    page: PageRequest,
) -> StoreResult<Page<Contract>> {
    let mut q = filtered(scope, f, SELECT);
    if !f.sort.is_some_and(|s| q.order(s, SORTS, "c.id")) {
        q.push(" ORDER BY c.term_start DESC, c.number, c.id");
    }
    let rows: Page<Row> = q.fetch_page(conn, &filtered(scope, f, COUNT), page).await?;
    Ok(Page {
        items: rows
            .items
            .into_iter()
            .map(Contract::try_from)
            .collect::<StoreResult<_>>()?,
        total: rows.total,
        capped: rows.capped,
        page: rows.page,
        per_page: rows.per_page,
    })
}

/// What may change on a contract once written: its title and the reduction rule that decides
/// what an assessment pays. The parties, amount, term and plan are the signed contract's and do
/// not change; a new agreement is a new contract (a renewal).
#[derive(Debug, Clone, Default)]
pub struct ContractEdit {
    pub title: Option<String>,
    /// `Some(None)` removes the rule.
    pub reduction_rule: Option<Option<ReductionRule>>,
}

/// Change a contract's editable fields; only the purchaser, and not once it is settled (the
/// assessments already paid by the rule must keep it). Returns the contract before.
pub async fn update(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
    edit: &ContractEdit,
    now: Millis,
) -> StoreResult<Contract> {
    let before = get(conn, scope, id).await?;
    if scope.org.is_some() {
        return refuse("title", "purchase.purchaser_only");
    }
    if matches!(
        before.state,
        ContractState::Settled | ContractState::Archived
    ) {
        return refuse("state", "purchase.contract_closed");
    }
    let title = edit
        .title
        .as_deref()
        .map(str::trim)
        .unwrap_or(&before.title);
    let len = title.chars().count();
    if len == 0 || len > 200 {
        return refuse("title", "purchase.text_invalid");
    }
    let rule = edit
        .reduction_rule
        .clone()
        .unwrap_or_else(|| before.reduction_rule.clone())
        .map(|r| r.to_string())
        .unwrap_or_default();
    Sql::new("UPDATE contracts SET title = ")
        .bind(title)
        .push(", reduction_rule = ")
        .bind(rule)
        .push(", updated_at = ")
        .bind(now)
        .push(" WHERE id = ")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(before)
}

/// Move a contract to `to` if its state allows (refused on `state` otherwise). Only the
/// purchaser moves a contract. Returns the state before.
pub async fn set_state(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
    to: ContractState,
    now: Millis,
) -> StoreResult<ContractState> {
    let before = get(conn, scope, id).await?;
    if scope.org.is_some() {
        return refuse("state", "purchase.purchaser_only");
    }
    before.state.go(to)?;
    // Guarded by the state read: a concurrent move makes this one a refusal, not a skip.
    let moved = Sql::new("UPDATE contracts SET state = ")
        .bind(to.as_str())
        .push(", updated_at = ")
        .bind(now)
        .push(" WHERE id = ")
        .bind(id)
        .push(" AND state = ")
        .bind(before.state.as_str())
        .execute(conn)
        .await?;
    if moved != 1 {
        return refuse("state", "purchase.contract_transition_invalid");
    }
    Ok(before.state)
}

/// The numbers of the contracts filed in `region`, if it lies inside the scope: what an import
/// checks its sheet's numbers against (a number is unique in its region).
pub async fn numbers_in(
    conn: &mut AnyConnection,
    scope: &Scope,
    region: &str,
) -> StoreResult<Vec<String>> {
    let mut q = Sql::new("SELECT c.number FROM contracts c WHERE ");
    q.region_range("c.region_code", scope);
    q.push(" AND c.region_code = ").bind(region);
    let rows: Vec<(String,)> = q.fetch_all(conn).await?;
    Ok(rows.into_iter().map(|(n,)| n).collect())
}
