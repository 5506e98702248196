//! Hierarchical reporting (`/reports`, `/api/v1/reports`), issue 17 item 4: report templates as
//! data (the station's monthly, quarterly and annual reports), one report per template, unit and
//! period, its figures computed from the records (manual lines only where the platform has no
//! source), submitted with the unit head's sign-off and approved up the region tree, locked, with
//! 补报 adjustments for late records and unlock requests approved one level up. Every step is
//! audited; the pages and the API share the parsing, scope and audit here.

pub mod api;
pub mod pages;

use axum::Router;
use axum::routing::{get, post};
use shegong_domain::reports::{Action, Figures};
use shegong_domain::{FieldError, Permission};
use shegong_store::admin::audit::Change;
use shegong_store::reports::{self as rp, Actor, Figured, Line, Report, Step, Unlock};
use utoipa::OpenApi;

use crate::http::area::{Area, MenuSection, messages};
use crate::http::auth::{Ctx, reader};
use crate::http::error::{WebError, WebResult};
use crate::http::state::AppState;
use crate::http::write::{Done, Entry, WorkWith, write_or_invalid};
use crate::ui::forms::Check;

pub const AREA: Area = Area {
    messages: messages!("reports"),
    importers: &[],
    routes,
    api: || Api::openapi(),
    menu: &[MenuSection {
        rank: 21,
        group: "menu.group.reports",
        entries: &[("menu.reports", "/reports", Some(Permission::ReadData))],
    }],
};

#[derive(OpenApi)]
#[openapi(
    paths(api::list, api::open, api::get, api::values, api::submit, api::review, api::approve,
        api::return_report, api::lock, api::unlock, api::approve_unlock),
    tags((name = "reports", description = "Hierarchical reporting: monthly, quarterly and annual station reports computed from the records, submitted and approved up the region tree, locked, with 补报 adjustments and unlock requests"))
)]
struct Api;

fn routes() -> Router<AppState> {
    Router::new()
        .route("/reports", get(pages::list_page).post(pages::open_page))
        .route("/reports/{id}", get(pages::detail_page))
        .route("/reports/{id}/values", post(pages::values_page))
        .route("/reports/{id}/act", post(pages::act_page))
        .route("/reports/{id}/print", get(pages::print_page))
        .route("/reports/{id}/report.xlsx", get(pages::export))
        .route("/api/v1/reports", get(api::list).post(api::open))
        .route("/api/v1/reports/{id}", get(api::get))
        .route("/api/v1/reports/{id}/values", post(api::values))
        .route("/api/v1/reports/{id}/submit", post(api::submit))
        .route("/api/v1/reports/{id}/review", post(api::review))
        .route("/api/v1/reports/{id}/approve", post(api::approve))
        .route("/api/v1/reports/{id}/return", post(api::return_report))
        .route("/api/v1/reports/{id}/lock", post(api::lock))
        .route("/api/v1/reports/{id}/unlock", post(api::unlock))
        .route(
            "/api/v1/reports/{id}/unlock/approve",
            post(api::approve_unlock),
        )
}

/// The report codes as OpenAPI enums.
pub mod code {
    use shegong_domain::reports::ReportState;
    use utoipa::openapi::schema::Object;

    use crate::http::api::code::one_of;

    pub fn state() -> Object {
        one_of(ReportState::ALL.iter().map(|v| v.as_str()))
    }
    pub fn template() -> Object {
        one_of(TEMPLATES)
    }
    /// The templates seeded by the migration.
    pub const TEMPLATES: [&str; 3] = ["station_monthly", "station_quarterly", "station_annual"];
}

/// A request to open (or find) a report.
pub struct OpenInput {
    pub template: String,
    pub region: shegong_domain::RegionCode,
    pub period: String,
}

/// Parse the open form (or API body): the template, the unit and the period, each named.
pub fn open_input(
    template: &str,
    region: &str,
    period: &str,
) -> Result<OpenInput, Vec<FieldError>> {
    let mut c = Check::default();
    let template = template.trim();
    if !code::TEMPLATES.contains(&template) {
        c.fail("template", "report.template_unknown");
    }
    let region = c.region("region", region.trim());
    let period = c.text("period", period.trim(), 7);
    c.finish()?;
    let region = region.ok_or_else(|| vec![FieldError::new("region", "form.required")])?;
    Ok(OpenInput {
        template: template.to_owned(),
        region,
        period,
    })
}

/// Open the report (an auto-filled draft when new); returns its id.
pub async fn open(state: &AppState, ctx: &Ctx, input: OpenInput) -> WebResult<String> {
    let now = state.now();
    write_or_invalid(
        state,
        ctx,
        Entry::new("report", "open"),
        move |conn, scope, _by| -> WorkWith<'_, String> {
            Box::pin(async move {
                let id = rp::open(
                    conn,
                    &scope,
                    &input.template,
                    &input.region,
                    &input.period,
                    now,
                )
                .await?;
                let done = Done {
                    entity_id: id.clone(),
                    region: Some(input.region.to_string()),
                    changes: vec![
                        Change::new("template", None::<String>, Some(input.template)),
                        Change::new("period", None::<String>, Some(input.period)),
                    ],
                };
                Ok((done, id))
            })
        },
    )
    .await
}

/// Type the manual lines.
pub async fn set_values(state: &AppState, ctx: &Ctx, id: String, values: Figures) -> WebResult<()> {
    let now = state.now();
    write_or_invalid(
        state,
        ctx,
        Entry::new("report", "update"),
        move |conn, scope, _by| -> WorkWith<'_, ()> {
            Box::pin(async move {
                let before = rp::set_manual(conn, &scope, &id, &values, now).await?;
                let old = before.manual_values();
                let changes = values
                    .iter()
                    .filter(|(k, v)| old.get(*k) != Some(*v))
                    .map(|(k, v)| {
                        Change::new(
                            "line",
                            old.get(k).map(|o| format!("{k}={o}")),
                            Some(format!("{k}={v}")),
                        )
                    })
                    .collect();
                let done = Done {
                    entity_id: id,
                    region: Some(before.region_code),
                    changes,
                };
                Ok((done, ()))
            })
        },
    )
    .await
}

/// Take a step; audited as the step's name.
pub async fn act(
    state: &AppState,
    ctx: &Ctx,
    id: String,
    action: Action,
    reason: String,
) -> WebResult<()> {
    let mut c = Check::default();
    let reason = c.opt_text("reason", reason.trim(), 500);
    c.finish().map_err(WebError::Invalid)?;
    let now = state.now();
    let name = ctx.user()?.user.display_name.clone();
    write_or_invalid(
        state,
        ctx,
        Entry::new("report", action.as_str()),
        move |conn, scope, by| -> WorkWith<'_, ()> {
            Box::pin(async move {
                let actor = Actor {
                    user_id: &by,
                    name: &name,
                    at: now,
                };
                let before = rp::act(conn, &scope, &id, action, &reason, &actor).await?;
                let after = rp::get(conn, &scope, &id).await?;
                let done = Done {
                    entity_id: id,
                    region: Some(after.region_code.clone()),
                    changes: vec![
                        Change::new(
                            "state",
                            Some(before.state.as_str()),
                            Some(after.state.as_str()),
                        ),
                        Change::new("period", None::<String>, Some(after.period)),
                        Change::new("reason", None::<String>, Some(reason)),
                    ],
                };
                Ok((done, ()))
            })
        },
    )
    .await
}

/// A report with what its pages and the API show.
pub struct Loaded {
    pub r: Report,
    pub f: Figured,
    pub lines: Vec<Line>,
    pub steps: Vec<Step>,
    pub unlock: Option<Unlock>,
}

pub async fn load(state: &AppState, ctx: &Ctx, id: &str) -> WebResult<Loaded> {
    let u = reader(ctx)?;
    let scope = u.scope();
    let mut c = state.db.read().await?;
    let r = rp::get(&mut c, &scope, id).await?;
    let f = rp::figures(&mut c, &r).await?;
    let lines = rp::lines(&mut c, &r.template_code).await?;
    let steps = rp::steps(&mut c, &scope, id).await?;
    let unlock = rp::pending_unlock(&mut c, id).await?;
    Ok(Loaded {
        r,
        f,
        lines,
        steps,
        unlock,
    })
}
