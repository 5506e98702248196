//! A contract's execution: expenses against its budget lines (each budget line's `spent_fen` is
//! the sum of its expenses not voided, kept in the same transaction) and the posts it buys with
//! the staff filling them.
//!
//! Written by the purchaser (a scope naming no organisation) or by the provider's own users;
//! posts are defined by the purchaser only. An evaluator reads a contract but changes none of it.

use chrono::NaiveDate;
use serde::Serialize;
use shegong_domain::money::Fen;
use shegong_domain::purchase::execution::{Expense, Position, check_fill};
use shegong_domain::{FieldError, Scope};
use sqlx::AnyConnection;

use super::contracts::{self, Contract};
use crate::sql::Sql;
use crate::workforce::staff::date_text;
use crate::{Millis, StoreError, StoreResult, new_id};

fn refuse<T>(field: &'static str, code: &'static str) -> StoreResult<T> {
    Err(FieldError::new(field, code).into())
}

fn date(text: &str) -> StoreResult<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|e| StoreError::Db(sqlx::Error::Decode(e.into())))
}

/// The contract if the scope may change its execution: the purchaser's region or its provider.
async fn writable(conn: &mut AnyConnection, scope: &Scope, id: &str) -> StoreResult<Contract> {
    let contract = contracts::get(conn, scope, id).await?;
    match scope.org {
        Some(org) if org.to_string() != contract.provider_org_id => {
            refuse("contract", "purchase.provider_or_purchaser_only")
        }
        _ => Ok(contract),
    }
}

/// An expense as stored.
#[derive(Debug, Clone, Serialize)]
pub struct StoredExpense {
    pub id: String,
    pub budget_seq: i64,
    pub spent_on: String,
    pub amount: Fen,
    pub description: String,
    pub voucher: String,
    pub recorded_by: String,
    pub recorded_at: Millis,
    pub voided_at: Option<Millis>,
    pub void_reason: Option<String>,
}

type ExpenseRow = (
    String,
    i64,
    String,
    i64,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<String>,
);

/// Record an expense on budget line `expense.budget_seq`; the line's spent amount grows in the
/// same statement that checks it stays within the line, so two concurrent expenses cannot
/// overspend it together. Returns the expense's id.
pub async fn record_expense(
    conn: &mut AnyConnection,
    scope: &Scope,
    contract_id: &str,
    expense: &Expense,
    by: &str,
    now: Millis,
    today: NaiveDate,
) -> StoreResult<String> {
    let contract = writable(conn, scope, contract_id).await?;
    expense.validate(contract.term, contract.state, today)?;
    let line: Option<(i64, i64)> =
        Sql::new("SELECT amount_fen, spent_fen FROM contract_budget_lines WHERE contract_id = ")
            .bind(contract_id)
            .push(" AND seq = ")
            .bind(expense.budget_seq)
            .fetch_optional(conn)
            .await?;
    let Some((budget, spent)) = line else {
        return refuse("budget_seq", "purchase.budget_line_unknown");
    };
    expense.fits(Fen(budget), Fen(spent))?;
    let grown = Sql::new("UPDATE contract_budget_lines SET spent_fen = spent_fen + ")
        .bind(expense.amount.0)
        .push(" WHERE contract_id = ")
        .bind(contract_id)
        .push(" AND seq = ")
        .bind(expense.budget_seq)
        .push(" AND spent_fen + ")
        .bind(expense.amount.0)
        .push(" <= amount_fen")
        .execute(conn)
        .await?;
    if grown != 1 {
        return refuse("amount", "purchase.expense_over_budget");
    }
    let id = new_id();
    Sql::new("INSERT INTO contract_expenses (id, contract_id, budget_seq, spent_on, amount_fen, description, voucher, recorded_by, recorded_at) VALUES (")
        .bind(&id).push(", ").bind(contract_id).push(", ").bind(expense.budget_seq).push(", ")
        .bind(date_text(expense.spent_on)).push(", ").bind(expense.amount.0).push(", ")
        .bind(expense.description.trim()).push(", ").bind(expense.voucher.trim()).push(", ")
        .bind(by).push(", ").bind(now).push(")")
        .execute(conn)
        .await?;
    Ok(id)
}

/// Void an expense with a reason; its amount leaves the line's spent figure. Returns the voided
/// expense as it was.
pub async fn void_expense(
    conn: &mut AnyConnection,
    scope: &Scope,
    contract_id: &str,
    expense_id: &str,
    reason: &str,
    by: &str,
    now: Millis,
) -> StoreResult<StoredExpense> {
    let contract = writable(conn, scope, contract_id).await?;
    if contract.state.is_settled() {
        return refuse("contract", "purchase.contract_closed");
    }
    let reason_len = reason.trim().chars().count();
    if reason_len == 0 || reason_len > 500 {
        return refuse("reason", "purchase.reason_required");
    }
    let expense = expenses(conn, scope, contract_id)
        .await?
        .into_iter()
        .find(|e| e.id == expense_id)
        .ok_or(StoreError::NotFound)?;
    // Guarded on not voided yet: a second void of the same expense changes nothing.
    let voided = Sql::new("UPDATE contract_expenses SET voided_by = ")
        .bind(by)
        .push(", voided_at = ")
        .bind(now)
        .push(", void_reason = ")
        .bind(reason.trim())
        .push(" WHERE id = ")
        .bind(expense_id)
        .push(" AND contract_id = ")
        .bind(contract_id)
        .push(" AND voided_at IS NULL")
        .execute(conn)
        .await?;
    if voided != 1 {
        return refuse("expense", "purchase.expense_already_voided");
    }
    Sql::new("UPDATE contract_budget_lines SET spent_fen = spent_fen - ")
        .bind(expense.amount.0)
        .push(" WHERE contract_id = ")
        .bind(contract_id)
        .push(" AND seq = ")
        .bind(expense.budget_seq)
        .execute(conn)
        .await?;
    Ok(expense)
}

/// A contract's expenses, newest first, voided ones included (marked).
pub async fn expenses(
    conn: &mut AnyConnection,
    scope: &Scope,
    contract_id: &str,
) -> StoreResult<Vec<StoredExpense>> {
    contracts::get(conn, scope, contract_id).await?;
    let rows: Vec<ExpenseRow> = Sql::new(
        "SELECT id, budget_seq, spent_on, amount_fen, description, voucher, recorded_by, \
         recorded_at, voided_at, void_reason FROM contract_expenses WHERE contract_id = ",
    )
    .bind(contract_id)
    .push(" ORDER BY spent_on DESC, recorded_at DESC")
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(
                id,
                budget_seq,
                spent_on,
                amount,
                description,
                voucher,
                recorded_by,
                recorded_at,
                voided_at,
                void_reason,
            )| {
                StoredExpense {
                    id,
                    budget_seq,
                    spent_on,
                    amount: Fen(amount),
                    description,
                    voucher,
                    recorded_by,
                    recorded_at,
                    voided_at,
                    void_reason,
                }
            },
        )
        .collect())
}

/// Every budget line's spent figure equals the sum of its expenses not voided: the differences
/// found, as (contract id, seq, stored, recomputed). Empty when all agree.
pub async fn verify_spent(conn: &mut AnyConnection) -> StoreResult<Vec<(String, i64, i64, i64)>> {
    Sql::new(
        "SELECT b.contract_id, b.seq, b.spent_fen, CAST(COALESCE(SUM(e.amount_fen), 0) AS BIGINT) AS counted \
         FROM contract_budget_lines b LEFT JOIN contract_expenses e \
         ON e.contract_id = b.contract_id AND e.budget_seq = b.seq AND e.voided_at IS NULL \
         GROUP BY b.contract_id, b.seq, b.spent_fen \
         HAVING b.spent_fen <> COALESCE(SUM(e.amount_fen), 0)",
    )
    .fetch_all(conn)
    .await
}

/// A post bought by the contract, with who holds it now and who held it.
#[derive(Debug, Clone, Serialize)]
pub struct StoredPosition {
    pub seq: i64,
    pub title: String,
    pub station_id: Option<String>,
    pub station_name: Option<String>,
    pub headcount: i64,
    pub monthly: Fen,
    pub fills: Vec<Fill>,
}

impl StoredPosition {
    /// People holding the post now (their fill not ended).
    pub fn filled(&self) -> i64 {
        i64::try_from(self.fills.iter().filter(|f| f.to_date.is_none()).count()).unwrap_or(i64::MAX)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Fill {
    pub id: String,
    pub staff_id: String,
    pub staff_name: String,
    pub from_date: String,
    pub to_date: Option<String>,
}

/// Add a post to the contract; its station, if named, must be one the contract runs. Only the
/// purchaser defines posts. Returns the post's number in the contract.
pub async fn add_position(
    conn: &mut AnyConnection,
    scope: &Scope,
    contract_id: &str,
    position: &Position,
    now: Millis,
) -> StoreResult<i64> {
    let contract = contracts::get(conn, scope, contract_id).await?;
    if scope.org.is_some() {
        return refuse("contract", "purchase.purchaser_only");
    }
    if contract.state.is_settled() {
        return refuse("contract", "purchase.contract_closed");
    }
    position.validate()?;
    if let Some(station) = &position.station_id {
        let runs = Sql::new("SELECT COUNT(*) FROM contract_stations WHERE contract_id = ")
            .bind(contract_id)
            .push(" AND station_id = ")
            .bind(station.as_str())
            .fetch_i64(conn)
            .await?;
        if runs == 0 {
            return refuse("station_id", "purchase.station_not_in_contract");
        }
    }
    let seq =
        Sql::new("SELECT COALESCE(MAX(seq), 0) + 1 FROM contract_positions WHERE contract_id = ")
            .bind(contract_id)
            .fetch_i64(conn)
            .await?;
    Sql::new("INSERT INTO contract_positions (id, contract_id, seq, title, station_id, headcount, monthly_fen, created_at) VALUES (")
        .bind(new_id()).push(", ").bind(contract_id).push(", ").bind(seq).push(", ")
        .bind(position.title.trim()).push(", ").bind(position.station_id.clone()).push(", ")
        .bind(position.headcount).push(", ").bind(position.monthly.0).push(", ").bind(now).push(")")
        .execute(conn)
        .await?;
    Ok(seq)
}

/// Put a staff record of the provider into post `seq` from `from`. The post must have room and
/// the person must not already hold a post of this contract. Returns the fill's id and the staff
/// member's name.
pub async fn fill_position(
    conn: &mut AnyConnection,
    scope: &Scope,
    contract_id: &str,
    seq: i64,
    staff_id: &str,
    from: NaiveDate,
    now: Millis,
) -> StoreResult<(String, String)> {
    let contract = writable(conn, scope, contract_id).await?;
    let post: Option<(String, i64)> =
        Sql::new("SELECT id, headcount FROM contract_positions WHERE contract_id = ")
            .bind(contract_id)
            .push(" AND seq = ")
            .bind(seq)
            .fetch_optional(conn)
            .await?;
    let Some((position_id, headcount)) = post else {
        return Err(StoreError::NotFound);
    };
    // Takes the post's row for the rest of the transaction (PostgreSQL: a row lock; SQLite holds
    // the write lock already), so two fills cannot both see the last free place.
    Sql::new("UPDATE contract_positions SET headcount = headcount WHERE id = ")
        .bind(position_id.as_str())
        .execute(conn)
        .await?;
    let staff: Option<(String, Option<String>, String)> =
        Sql::new("SELECT name, employer_org_id, status FROM staff WHERE id = ")
            .bind(staff_id)
            .fetch_optional(conn)
            .await?;
    let Some((name, employer, status)) = staff else {
        return refuse("staff_id", "purchase.staff_unknown");
    };
    if employer.as_deref() != Some(contract.provider_org_id.as_str()) || status != "active" {
        return refuse("staff_id", "purchase.staff_not_provider");
    }
    let holding = Sql::new("SELECT COUNT(*) FROM contract_position_fills WHERE contract_id = ")
        .bind(contract_id)
        .push(" AND staff_id = ")
        .bind(staff_id)
        .push(" AND to_date IS NULL")
        .fetch_i64(conn)
        .await?;
    if holding > 0 {
        return refuse("staff_id", "purchase.staff_holds_post");
    }
    let filled = Sql::new("SELECT COUNT(*) FROM contract_position_fills WHERE position_id = ")
        .bind(position_id.as_str())
        .push(" AND to_date IS NULL")
        .fetch_i64(conn)
        .await?;
    check_fill(contract.term, from, filled, headcount)?;
    let id = new_id();
    Sql::new("INSERT INTO contract_position_fills (id, position_id, contract_id, staff_id, from_date, created_at) VALUES (")
        .bind(&id).push(", ").bind(position_id).push(", ").bind(contract_id).push(", ")
        .bind(staff_id).push(", ").bind(date_text(from)).push(", ").bind(now).push(")")
        .execute(conn)
        .await?;
    Ok((id, name))
}

/// End a fill on `to` (the person left the post): not before it began. Returns the staff id.
pub async fn end_fill(
    conn: &mut AnyConnection,
    scope: &Scope,
    contract_id: &str,
    fill_id: &str,
    to: NaiveDate,
) -> StoreResult<String> {
    writable(conn, scope, contract_id).await?;
    let fill: Option<(String, String)> =
        Sql::new("SELECT staff_id, from_date FROM contract_position_fills WHERE id = ")
            .bind(fill_id)
            .push(" AND contract_id = ")
            .bind(contract_id)
            .push(" AND to_date IS NULL")
            .fetch_optional(conn)
            .await?;
    let Some((staff_id, from)) = fill else {
        return Err(StoreError::NotFound);
    };
    if to < date(&from)? {
        return refuse("to_date", "purchase.end_before_start");
    }
    Sql::new("UPDATE contract_position_fills SET to_date = ")
        .bind(date_text(to))
        .push(" WHERE id = ")
        .bind(fill_id)
        .push(" AND to_date IS NULL")
        .execute(conn)
        .await?;
    Ok(staff_id)
}

type PositionRow = (
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    i64,
    i64,
);
type FillRow = (String, String, String, String, String, Option<String>);

/// A contract's posts with their fills (current first, then past by start date).
pub async fn positions(
    conn: &mut AnyConnection,
    scope: &Scope,
    contract_id: &str,
) -> StoreResult<Vec<StoredPosition>> {
    contracts::get(conn, scope, contract_id).await?;
    let posts: Vec<PositionRow> = Sql::new(
        "SELECT p.seq, p.id, p.title, p.station_id, s.name, p.headcount, p.monthly_fen \
         FROM contract_positions p LEFT JOIN stations s ON s.id = p.station_id \
         WHERE p.contract_id = ",
    )
    .bind(contract_id)
    .push(" ORDER BY p.seq")
    .fetch_all(conn)
    .await?;
    let fills: Vec<FillRow> = Sql::new(
        "SELECT f.position_id, f.id, f.staff_id, st.name, f.from_date, f.to_date \
         FROM contract_position_fills f JOIN staff st ON st.id = f.staff_id \
         WHERE f.contract_id = ",
    )
    .bind(contract_id)
    .push(" ORDER BY f.from_date DESC, f.id")
    .fetch_all(conn)
    .await?;
    Ok(posts
        .into_iter()
        .map(
            |(seq, id, title, station_id, station_name, headcount, monthly)| {
                let mut fills: Vec<Fill> = fills
                    .iter()
                    .filter(|f| f.0 == id)
                    .map(|(_, fid, staff_id, name, from, to)| Fill {
                        id: fid.clone(),
                        staff_id: staff_id.clone(),
                        staff_name: name.clone(),
                        from_date: from.clone(),
                        to_date: to.clone(),
                    })
                    .collect();
                fills.sort_by_key(|f| f.to_date.is_some());
                StoredPosition {
                    seq,
                    title,
                    station_id,
                    station_name,
                    headcount,
                    monthly: Fen(monthly),
                    fills,
                }
            },
        )
        .collect())
}

/// The provider's active staff a post can be filled with: (id, name), by name, at most 500.
pub async fn provider_staff(
    conn: &mut AnyConnection,
    scope: &Scope,
    contract_id: &str,
) -> StoreResult<Vec<(String, String)>> {
    let contract = contracts::get(conn, scope, contract_id).await?;
    Sql::new("SELECT id, name FROM staff WHERE employer_org_id = ")
        .bind(contract.provider_org_id)
        .push(" AND status = 'active' ORDER BY name, id LIMIT 500")
        .fetch_all(conn)
        .await
}
