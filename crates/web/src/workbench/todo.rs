//! 待办: the signed-in user's queue (`/todo`, `/api/v1/todo`, `/api/v1/todo/count` for the bell
//! in the header). Read from the records by `shegong_store::todo`; each item links to the page
//! where the work is done.

use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;
use shegong_domain::Permission;
use shegong_store::todo::{self, Group, Kind, Who};
use utoipa::ToSchema;

use crate::http::auth::{Ctx, CurrentUser};
use crate::http::error::WebResult;
use crate::http::render::{Base, Crumb, page};
use crate::http::state::AppState;
use crate::people::residents::viewer;
use crate::ui::i18n::Tr;
use crate::ui::list::{local_time, rfc3339};

/// Whose queue, and which kinds of work their role does.
pub fn who(state: &AppState, u: &CurrentUser) -> Who {
    Who {
        viewer: viewer(state, u),
        now: state.now(),
        writes: u.can(Permission::WriteData),
        approves: u.can(Permission::ApproveCases),
        supervises: u.can(Permission::Supervise),
    }
}

/// Where the work on one item is done.
pub fn href(kind: Kind, id: &str) -> String {
    let base = match kind {
        Kind::Visit => "/residents/",
        Kind::PlanApproval
        | Kind::ClosureApproval
        | Kind::PlanReturned
        | Kind::ClosureReturned
        | Kind::Referral => "/cases/",
        Kind::Rectification | Kind::RectificationCheck => "/inspections/visits/",
        Kind::InspectionPlan => return "/inspections".into(),
        Kind::ProgressReport => "/stations/",
        Kind::Certificate => "/staff/",
        Kind::Instalment => "/contracts/",
        Kind::Evaluation => "/evaluations/",
        Kind::Ticket => "/tickets/",
        Kind::CommunityIssue => "/community-issues/",
        Kind::Report => "/reports/",
    };
    format!("{base}{id}")
}

/// The list that holds every item of a kind.
pub fn list_href(kind: Kind) -> &'static str {
    match kind {
        Kind::Visit => "/my",
        Kind::PlanApproval | Kind::ClosureApproval => "/cases?state=pending",
        Kind::PlanReturned | Kind::ClosureReturned | Kind::Referral => "/cases",
        Kind::Rectification | Kind::RectificationCheck | Kind::InspectionPlan => "/inspections",
        Kind::ProgressReport => "/construction",
        Kind::Certificate => "/staff",
        Kind::Instalment => "/contracts",
        Kind::Evaluation => "/evaluations",
        Kind::Ticket => "/tickets",
        Kind::CommunityIssue => "/community-issues",
        Kind::Report => "/reports",
    }
}

/// Tickets show what was asked; a queue line keeps to its first words.
const TITLE_CHARS: usize = 40;

/// One item of the queue.
#[derive(Serialize, ToSchema)]
pub struct TodoItem {
    /// The record the item is about (resident, case, inspection visit, station, staff member,
    /// contract, evaluation, ticket or community issue, by `kind`).
    pub id: String,
    pub title: String,
    /// A date (`YYYY-MM-DD`) or, for tickets and community issues, an RFC 3339 time; absent
    /// for work that waits on someone now.
    pub due: Option<String>,
    pub overdue: bool,
    /// The page where the work is done.
    pub href: String,
}

/// One kind of work in the queue.
#[derive(Serialize, ToSchema)]
pub struct TodoGroup {
    /// `visit`, `plan_approval`, `closure_approval`, `plan_returned`, `closure_returned`,
    /// `referral`, `rectification`, `rectification_check`, `inspection_plan`, `progress_report`,
    /// `certificate`, `instalment`, `evaluation`, `ticket`, `community_issue`, `report`.
    pub kind: String,
    /// The kind in the caller's language.
    pub label: String,
    pub count: i64,
    pub overdue: i64,
    /// The first items by due date (at most ten; `count` says how many in all).
    pub items: Vec<TodoItem>,
    /// The list holding all of them.
    pub list_href: String,
}

/// The caller's queue.
#[derive(Serialize, ToSchema)]
pub struct Todo {
    pub total: i64,
    pub overdue: i64,
    pub groups: Vec<TodoGroup>,
}

/// The bell: how many items, how many overdue.
#[derive(Serialize, ToSchema)]
pub struct TodoCount {
    pub total: i64,
    pub overdue: i64,
}

fn shown_due(kind: Kind, due: Option<String>, api: bool) -> Option<String> {
    match kind {
        Kind::Ticket | Kind::CommunityIssue => due
            .and_then(|d| d.parse::<i64>().ok())
            .map(|ms| if api { rfc3339(ms) } else { local_time(ms) }),
        _ => due,
    }
}

fn groups(t: &Tr, groups: Vec<Group>, api: bool) -> Todo {
    let groups: Vec<TodoGroup> = groups
        .into_iter()
        .map(|g| TodoGroup {
            kind: g.kind.as_str().to_owned(),
            label: t.get(&format!("todo.kind.{}", g.kind.as_str())).to_owned(),
            count: g.count,
            overdue: g.overdue,
            list_href: list_href(g.kind).to_owned(),
            items: g
                .items
                .into_iter()
                .map(|i| TodoItem {
                    href: href(g.kind, &i.id),
                    title: i.title.chars().take(TITLE_CHARS).collect(),
                    due: shown_due(g.kind, i.due, api),
                    overdue: i.overdue,
                    id: i.id,
                })
                .collect(),
        })
        .collect();
    Todo {
        total: groups.iter().map(|g| g.count).sum(),
        overdue: groups.iter().map(|g| g.overdue).sum(),
        groups,
    }
}

/// The caller's queue, read from the records (for the home page and `/todo`).
pub async fn load(state: &AppState, ctx: &Ctx, api: bool) -> WebResult<Todo> {
    let u = ctx.user()?;
    let w = who(state, u);
    let mut c = state.db.read().await?;
    let found = todo::queue(&mut c, &w).await?;
    drop(c);
    Ok(groups(&ctx.tr(), found, api))
}

#[derive(Template)]
#[template(path = "workbench/todo.html")]
struct TodoPage {
    t: Tr,
    base: Base,
    todo: Todo,
}

pub async fn todo_page(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let todo = load(&state, &ctx, false).await?;
    let t = ctx.tr();
    let title = t.get("menu.todo");
    Ok(page(
        StatusCode::OK,
        &TodoPage {
            base: Base::new(&ctx, title, vec![Crumb::here(title)]),
            t,
            todo,
        },
    ))
}

/// The caller's to-do queue: every kind of work waiting for them, read from the records (visits
/// due, plans and closures to approve, returned plans, referrals, rectifications, inspection
/// plans, construction reports, certificates, instalments, evaluations, tickets, community
/// issues), each kind with its count, overdue count and first ten items.
#[utoipa::path(get, path = "/api/v1/todo", tag = "workbench",
    responses((status = 200, body = Todo), (status = 401, description = "Not signed in")))]
pub async fn api_todo(State(state): State<AppState>, ctx: Ctx) -> WebResult<Json<Todo>> {
    Ok(Json(load(&state, &ctx, true).await?))
}

/// How many items the caller's queue holds (the bell in the header).
#[utoipa::path(get, path = "/api/v1/todo/count", tag = "workbench",
    responses((status = 200, body = TodoCount), (status = 401, description = "Not signed in")))]
pub async fn api_count(State(state): State<AppState>, ctx: Ctx) -> WebResult<Json<TodoCount>> {
    let u = ctx.user()?;
    let w = who(&state, u);
    let mut c = state.db.read().await?;
    let (total, overdue) = todo::total(&mut c, &w).await?;
    Ok(Json(TodoCount { total, overdue }))
}
