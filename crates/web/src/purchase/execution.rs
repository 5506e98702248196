//! A contract's execution on its page and in the API: expenses against the budget lines (执行率,
//! personnel share) and the posts it buys (岗位购买) with the staff filling them. The writes are
//! `writes`' (one for both); this file turns forms and bodies into them.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use shegong_domain::money::Fen;
use shegong_domain::purchase::contract::{BudgetLine, execution_rate_bp, personnel_share_bp};
use shegong_domain::purchase::format_percent;
use shegong_store::purchase::contracts::{self, StoredBudgetLine};
use shegong_store::purchase::execution::{self, StoredExpense, StoredPosition};
use utoipa::ToSchema;

use crate::http::auth::{Ctx, reader};
use crate::http::error::{WebError, WebResult};
use crate::http::state::AppState;
use crate::http::write::writer;
use crate::purchase::contracts::{Failed, detail};
use crate::purchase::{input, writes};
use crate::ui::forms::FormData;
use crate::ui::list::rfc3339;

/// A budget's execution: each line's spent share, the total's and the personnel share.
pub struct Execution {
    /// (seq, category, budget, spent, 执行率 as "62.5%" or "—").
    pub lines: Vec<(i64, String, Fen, Fen, String)>,
    pub budget: Fen,
    pub spent: Fen,
    pub rate: String,
    pub personnel_share: String,
}

fn percent(bp: Option<i64>) -> String {
    bp.map(|bp| format!("{}%", format_percent(bp)))
        .unwrap_or_else(|| "—".to_owned())
}

pub fn execution_of(budget: &[StoredBudgetLine]) -> Execution {
    let sum =
        |f: fn(&StoredBudgetLine) -> i64| Fen(budget.iter().map(f).fold(0i64, i64::saturating_add));
    let (total, spent) = (sum(|b| b.line.amount.0), sum(|b| b.spent.0));
    let lines: Vec<BudgetLine> = budget.iter().map(|b| b.line).collect();
    Execution {
        lines: budget
            .iter()
            .map(|b| {
                (
                    b.seq,
                    b.line.category.to_string(),
                    b.line.amount,
                    b.spent,
                    percent(execution_rate_bp(b.line.amount, b.spent)),
                )
            })
            .collect(),
        rate: percent(execution_rate_bp(total, spent)),
        personnel_share: percent(personnel_share_bp(&lines)),
        budget: total,
        spent,
    }
}

/// The outcome of a form on the contract page: back to the page with "saved", or the page again
/// with the error next to the form that failed and what was typed.
async fn answer(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    failed: Failed,
    f: FormData,
    result: WebResult<()>,
) -> WebResult<Response> {
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/contracts/{id}?notice=notice.saved")).into_response()),
        Err(WebError::Invalid(errors)) => {
            let e = errors.into_iter().next();
            detail(state, ctx, id, None, e.map(|e| (failed, e)), Some(f)).await
        }
        Err(e) => Err(e),
    }
}

pub async fn page_record_expense(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let result = match input::expense(&f) {
        Ok(e) => writes::record_expense(&state, &ctx, &id, e)
            .await
            .map(|_| ()),
        Err(e) => Err(e.into()),
    };
    answer(&state, &ctx, &id, Failed::Expense, f, result).await
}

pub async fn page_void_expense(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, expense_id)): Path<(String, String)>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let reason = f.get("reason").to_owned();
    let result = writes::void_expense(&state, &ctx, &id, &expense_id, reason).await;
    answer(
        &state,
        &ctx,
        &id,
        Failed::Void(expense_id.clone()),
        f,
        result,
    )
    .await
}

pub async fn page_add_position(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writes::purchaser(&ctx)?;
    let result = match input::position(&f) {
        Ok(p) => writes::add_position(&state, &ctx, &id, p).await.map(|_| ()),
        Err(e) => Err(e.into()),
    };
    answer(&state, &ctx, &id, Failed::Position, f, result).await
}

pub async fn page_fill(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, seq)): Path<(String, i64)>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let result = match input::day("from_date", f.get("from_date")) {
        Ok(from) => {
            let staff = f.get("staff_id").trim().to_owned();
            writes::fill_position(&state, &ctx, &id, seq, staff, from)
                .await
                .map(|_| ())
        }
        Err(e) => Err(e.into()),
    };
    answer(&state, &ctx, &id, Failed::Fill(seq), f, result).await
}

pub async fn page_end_fill(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, fill_id)): Path<(String, String)>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let result = match input::day("to_date", f.get("to_date")) {
        Ok(to) => writes::end_fill(&state, &ctx, &id, &fill_id, to).await,
        Err(e) => Err(e.into()),
    };
    answer(
        &state,
        &ctx,
        &id,
        Failed::EndFill(fill_id.clone()),
        f,
        result,
    )
    .await
}

/// A contract's budget execution as the API returns it.
#[derive(Serialize, ToSchema)]
pub struct BudgetExecutionDto {
    pub lines: Vec<BudgetLineExecution>,
    pub budget_fen: i64,
    pub spent_fen: i64,
    /// 执行率: spent / budget, e.g. "62.5%"; "—" without a budget.
    pub execution_rate: String,
    /// Personnel's share of the budget, e.g. "70%".
    pub personnel_share: String,
    /// Newest first; voided expenses stay, marked.
    pub expenses: Vec<ExpenseDto>,
}

#[derive(Serialize, ToSchema)]
pub struct BudgetLineExecution {
    pub seq: i64,
    pub category: String,
    pub amount_fen: i64,
    pub spent_fen: i64,
    pub execution_rate: String,
}

#[derive(Serialize, ToSchema)]
pub struct ExpenseDto {
    pub id: String,
    /// The budget line (its `seq`).
    pub budget_seq: i64,
    #[schema(format = Date)]
    pub spent_on: String,
    pub amount_fen: i64,
    pub description: String,
    pub voucher: String,
    pub recorded_at: String,
    pub voided_at: Option<String>,
    pub void_reason: Option<String>,
}

fn expense_dto(e: &StoredExpense) -> ExpenseDto {
    ExpenseDto {
        id: e.id.clone(),
        budget_seq: e.budget_seq,
        spent_on: e.spent_on.clone(),
        amount_fen: e.amount.0,
        description: e.description.clone(),
        voucher: e.voucher.clone(),
        recorded_at: rfc3339(e.recorded_at),
        voided_at: e.voided_at.map(rfc3339),
        void_reason: e.void_reason.clone(),
    }
}

async fn load_execution(state: &AppState, ctx: &Ctx, id: &str) -> WebResult<BudgetExecutionDto> {
    let u = reader(ctx)?;
    let mut c = state.db.read().await?;
    let d = contracts::detail(&mut c, &u.scope(), id).await?;
    let expenses = execution::expenses(&mut c, &u.scope(), id).await?;
    let x = execution_of(&d.budget);
    Ok(BudgetExecutionDto {
        lines: x
            .lines
            .into_iter()
            .map(|(seq, category, amount, spent, rate)| BudgetLineExecution {
                seq,
                category,
                amount_fen: amount.0,
                spent_fen: spent.0,
                execution_rate: rate,
            })
            .collect(),
        budget_fen: x.budget.0,
        spent_fen: x.spent.0,
        execution_rate: x.rate,
        personnel_share: x.personnel_share,
        expenses: expenses.iter().map(expense_dto).collect(),
    })
}

/// A contract's budget lines with what was spent, the execution rate, the personnel share and
/// the expenses.
#[utoipa::path(get, path = "/api/v1/contracts/{id}/expenses", tag = "purchase", params(("id" = String, Path)),
    responses((status = 200, body = BudgetExecutionDto), (status = 404, description = "Unknown or outside the caller's scope")))]
pub async fn api_expenses(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<BudgetExecutionDto>> {
    Ok(Json(load_execution(&state, &ctx, &id).await?))
}

/// An expense against a budget line.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"budget_seq": 1, "spent_on": "2025-07-15", "amount": "1,200.50", "description": "七月督导费", "voucher": "记-0712"}))]
pub struct ExpenseBody {
    /// The budget line's `seq`.
    pub budget_seq: i64,
    /// `YYYY-MM-DD`: within the term or the three months after it, not in the future.
    #[schema(format = Date)]
    pub spent_on: String,
    /// Yuan as written: "1200", "1,200.50", "0.12万".
    pub amount: String,
    pub description: String,
    /// The accounting voucher number (凭证号).
    #[serde(default)]
    pub voucher: String,
}

/// Record an expense: the line's spent amount grows with it; more than the line's budget is
/// refused on `amount`. The purchaser or the provider.
#[utoipa::path(post, path = "/api/v1/contracts/{id}/expenses", tag = "purchase", params(("id" = String, Path)),
    request_body = ExpenseBody,
    responses((status = 201, body = BudgetExecutionDto), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Invalid fields, each named; nothing written")))]
pub async fn api_record_expense(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(body): Json<ExpenseBody>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let form = FormData::new(vec![
        ("budget_seq".into(), body.budget_seq.to_string()),
        ("spent_on".into(), body.spent_on),
        ("amount".into(), body.amount),
        ("description".into(), body.description),
        ("voucher".into(), body.voucher),
    ]);
    writes::record_expense(&state, &ctx, &id, input::expense(&form)?).await?;
    Ok((
        StatusCode::CREATED,
        Json(load_execution(&state, &ctx, &id).await?),
    )
        .into_response())
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"reason": "重复录入"}))]
pub struct VoidBody {
    pub reason: String,
}

/// Void an expense with a reason (expenses are never edited); its amount leaves the line.
#[utoipa::path(post, path = "/api/v1/contracts/{id}/expenses/{expense_id}/void", tag = "purchase",
    params(("id" = String, Path), ("expense_id" = String, Path)), request_body = VoidBody,
    responses((status = 200, body = BudgetExecutionDto), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "No reason, already voided or the contract settled")))]
pub async fn api_void_expense(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, expense_id)): Path<(String, String)>,
    Json(body): Json<VoidBody>,
) -> WebResult<Json<BudgetExecutionDto>> {
    writer(&ctx)?;
    writes::void_expense(&state, &ctx, &id, &expense_id, body.reason).await?;
    Ok(Json(load_execution(&state, &ctx, &id).await?))
}

#[derive(Serialize, ToSchema)]
pub struct PositionDto {
    pub seq: i64,
    pub title: String,
    pub station_id: Option<String>,
    pub station_name: Option<String>,
    pub headcount: i64,
    /// People holding the post now.
    pub filled: i64,
    pub monthly_fen: i64,
    pub fills: Vec<FillDto>,
}

#[derive(Serialize, ToSchema)]
pub struct FillDto {
    pub id: String,
    pub staff_id: String,
    pub staff_name: String,
    #[schema(format = Date)]
    pub from_date: String,
    /// Null while the person holds the post.
    pub to_date: Option<String>,
}

fn position_dto(p: &StoredPosition) -> PositionDto {
    PositionDto {
        seq: p.seq,
        title: p.title.clone(),
        station_id: p.station_id.clone(),
        station_name: p.station_name.clone(),
        headcount: p.headcount,
        filled: p.filled(),
        monthly_fen: p.monthly.0,
        fills: p
            .fills
            .iter()
            .map(|f| FillDto {
                id: f.id.clone(),
                staff_id: f.staff_id.clone(),
                staff_name: f.staff_name.clone(),
                from_date: f.from_date.clone(),
                to_date: f.to_date.clone(),
            })
            .collect(),
    }
}

async fn load_positions(state: &AppState, ctx: &Ctx, id: &str) -> WebResult<Vec<PositionDto>> {
    let u = reader(ctx)?;
    let mut c = state.db.read().await?;
    let posts = execution::positions(&mut c, &u.scope(), id).await?;
    Ok(posts.iter().map(position_dto).collect())
}

/// The posts a contract buys (岗位购买) and who holds them.
#[utoipa::path(get, path = "/api/v1/contracts/{id}/positions", tag = "purchase", params(("id" = String, Path)),
    responses((status = 200, body = Vec<PositionDto>), (status = 404, description = "Unknown or outside the caller's scope")))]
pub async fn api_positions(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<Vec<PositionDto>>> {
    Ok(Json(load_positions(&state, &ctx, &id).await?))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"title": "一线社工", "headcount": 2, "monthly": "6000"}))]
pub struct PositionBody {
    pub title: String,
    /// One of the contract's stations, or absent.
    #[serde(default)]
    pub station_id: Option<String>,
    #[schema(minimum = 1, maximum = 100)]
    pub headcount: i64,
    /// A post's monthly cost in yuan as written; absent for none.
    #[serde(default)]
    pub monthly: String,
}

/// Add a post the contract buys. Purchaser only.
#[utoipa::path(post, path = "/api/v1/contracts/{id}/positions", tag = "purchase", params(("id" = String, Path)),
    request_body = PositionBody,
    responses((status = 201, body = Vec<PositionDto>), (status = 403, description = "Not a purchaser"),
        (status = 404, description = "Unknown or outside the caller's scope"), (status = 422, description = "Invalid fields, each named")))]
pub async fn api_add_position(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(body): Json<PositionBody>,
) -> WebResult<Response> {
    writes::purchaser(&ctx)?;
    let form = FormData::new(vec![
        ("title".into(), body.title),
        ("station_id".into(), body.station_id.unwrap_or_default()),
        ("headcount".into(), body.headcount.to_string()),
        ("monthly".into(), body.monthly),
    ]);
    writes::add_position(&state, &ctx, &id, input::position(&form)?).await?;
    Ok((
        StatusCode::CREATED,
        Json(load_positions(&state, &ctx, &id).await?),
    )
        .into_response())
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"staff_id": "0190f1c2-0000-7000-8000-000000000000", "from_date": "2025-07-01"}))]
pub struct FillBody {
    /// A staff record employed by the contract's provider.
    pub staff_id: String,
    #[schema(format = Date)]
    pub from_date: String,
}

/// Put a staff member of the provider into post `seq`, while it has room.
#[utoipa::path(post, path = "/api/v1/contracts/{id}/positions/{seq}/fills", tag = "purchase",
    params(("id" = String, Path), ("seq" = i64, Path)), request_body = FillBody,
    responses((status = 201, body = Vec<PositionDto>), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Post full, person not the provider's, already in a post, date outside the term")))]
pub async fn api_fill(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, seq)): Path<(String, i64)>,
    Json(body): Json<FillBody>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let from = input::day("from_date", &body.from_date)?;
    writes::fill_position(&state, &ctx, &id, seq, body.staff_id, from).await?;
    Ok((
        StatusCode::CREATED,
        Json(load_positions(&state, &ctx, &id).await?),
    )
        .into_response())
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"to_date": "2025-12-31"}))]
pub struct EndFillBody {
    #[schema(format = Date)]
    pub to_date: String,
}

/// The person left the post on `to_date` (kept as history).
#[utoipa::path(post, path = "/api/v1/contracts/{id}/fills/{fill_id}/end", tag = "purchase",
    params(("id" = String, Path), ("fill_id" = String, Path)), request_body = EndFillBody,
    responses((status = 200, body = Vec<PositionDto>), (status = 404, description = "Unknown, already ended or outside the caller's scope"),
        (status = 422, description = "End before the start")))]
pub async fn api_end_fill(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, fill_id)): Path<(String, String)>,
    Json(body): Json<EndFillBody>,
) -> WebResult<Json<Vec<PositionDto>>> {
    writer(&ctx)?;
    let to = input::day("to_date", &body.to_date)?;
    writes::end_fill(&state, &ctx, &id, &fill_id, to).await?;
    Ok(Json(load_positions(&state, &ctx, &id).await?))
}

/// This module's pages and API operations.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/contracts/{id}/expenses", post(page_record_expense))
        .route(
            "/contracts/{id}/expenses/{expense_id}/void",
            post(page_void_expense),
        )
        .route("/contracts/{id}/positions", post(page_add_position))
        .route("/contracts/{id}/positions/{seq}/fills", post(page_fill))
        .route("/contracts/{id}/fills/{fill_id}/end", post(page_end_fill))
        .route(
            "/api/v1/contracts/{id}/expenses",
            get(api_expenses).post(api_record_expense),
        )
        .route(
            "/api/v1/contracts/{id}/expenses/{expense_id}/void",
            post(api_void_expense),
        )
        .route(
            "/api/v1/contracts/{id}/positions",
            get(api_positions).post(api_add_position),
        )
        .route(
            "/api/v1/contracts/{id}/positions/{seq}/fills",
            post(api_fill),
        )
        .route(
            "/api/v1/contracts/{id}/fills/{fill_id}/end",
            post(api_end_fill),
        )
}
