//! Construction (建设清单): annual targets per child region against stations built, and the
//! stations whose monthly progress report is overdue.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use shegong_domain::{FieldError, Permission};
use shegong_store::admin::audit::Change;
use shegong_store::network::construction::{self, Overdue};
use shegong_store::network::coverage;

use crate::http::auth::Ctx;
use crate::http::auth::reader;
use crate::http::error::WebResult;
use crate::http::render::{Base, Crumb, page};
use crate::http::state::AppState;
use crate::http::write::{Done, audited};
use crate::ui::forms::{Check, FormData, today};
use crate::ui::i18n::Tr;

/// Day of the month by which last month's progress report is due.
pub const REPORT_DUE_DAY: i64 = 5;

pub struct TargetRow {
    pub code: String,
    pub name: String,
    pub target: Option<i64>,
    pub operating: i64,
    pub building: i64,
    pub covered: i64,
    pub townships: i64,
    /// Operating stations over the target, percent.
    pub done_pct: Option<i64>,
}

#[derive(Template)]
#[template(path = "network/construction.html")]
struct ConstructionPage {
    t: Tr,
    base: Base,
    year: i64,
    rows: Vec<TargetRow>,
    overdue: Vec<Overdue>,
    due_month: String,
    can_supervise: bool,
    error: Option<String>,
}

impl ConstructionPage {
    fn month_text(&self, m: &Option<i64>) -> String {
        m.map(|m| format!("{}-{:02}", m / 100, m % 100))
            .unwrap_or_else(|| "—".into())
    }
}

#[derive(Deserialize)]
pub struct YearQuery {
    year: Option<i64>,
    notice: Option<String>,
}

async fn render(
    state: &AppState,
    ctx: &Ctx,
    year: Option<i64>,
    notice: Option<&str>,
    error: Option<String>,
) -> WebResult<Response> {
    let u = reader(ctx)?;
    let scope = u.scope();
    let t = ctx.tr();
    let today_s = today(state.now());
    let (y, m, d): (i64, i64, i64) = (
        today_s[..4].parse().unwrap_or(2024),
        today_s[5..7].parse().unwrap_or(1),
        today_s[8..10].parse().unwrap_or(1),
    );
    let year = year.unwrap_or(y);
    let due = construction::month_due(y, m, d, REPORT_DUE_DAY);
    let mut c = state.db.read().await?;
    let code = scope.region.as_ref().map(|r| r.to_string());
    let (_, children) = coverage::coverage(&mut c, &scope, code.as_deref(), &today_s).await?;
    let targets = construction::targets(&mut c, &scope, year).await?;
    let rows = children
        .into_iter()
        .map(|f| {
            let target = targets
                .iter()
                .find(|t| t.region_code == f.code)
                .map(|t| t.target);
            TargetRow {
                done_pct: target.filter(|t| *t > 0).map(|t| f.operating * 100 / t),
                target,
                operating: f.operating,
                building: f.planned + f.under_construction,
                covered: f.covered,
                townships: f.townships,
                code: f.code,
                name: f.name,
            }
        })
        .collect();
    let overdue = construction::overdue(&mut c, &scope, due).await?;
    drop(c);
    let title = t.get("menu.construction");
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(page(
        status,
        &ConstructionPage {
            t,
            base: Base::new(ctx, title, vec![Crumb::here(title)]).with_notice(&t, notice),
            year,
            rows,
            overdue,
            due_month: format!("{}-{:02}", due / 100, due % 100),
            can_supervise: u.can(Permission::Supervise),
            error,
        },
    ))
}

pub async fn page_construction(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<YearQuery>,
) -> WebResult<Response> {
    render(&state, &ctx, q.year, q.notice.as_deref(), None).await
}

pub async fn set_target(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    let t = ctx.tr();
    match save_target(&state, &ctx, &f).await? {
        Ok(year) => Ok(
            Redirect::to(&format!("/construction?year={year}&notice=notice.saved")).into_response(),
        ),
        Err((year, e)) => {
            let message = format!(
                "{}: {}",
                t.get(&format!("field.{}", e.field)),
                t.get(e.code)
            );
            render(&state, &ctx, Some(year), None, Some(message)).await
        }
    }
}

/// Check and set a region's construction target for a year from the form's `region`, `year`
/// and `target` (the page's and the API's one path): supervising roles only; audited as
/// `construction_target`/`set_target`. The year, or (the year read, the first field refused).
pub(super) async fn save_target(
    state: &AppState,
    ctx: &Ctx,
    f: &FormData,
) -> WebResult<Result<i64, (i64, FieldError)>> {
    let u = ctx.user()?;
    u.require(Permission::Supervise)?;
    let mut c = Check::default();
    let year = c.int("year", f.get("year"), 2000, 2100, 0);
    let target = c.int("target", f.get("target"), 0, 100_000, 0);
    if let Some(e) = c.finish().err().and_then(|e| e.into_iter().next()) {
        return Ok(Err((year, e)));
    }
    let (r, now) = (f.get("region").to_owned(), state.now());
    let failed = audited(
        state,
        ctx,
        "construction_target",
        "set_target",
        move |conn, scope, _| {
            Box::pin(async move {
                let before = construction::set_target(conn, &scope, &r, year, target, now).await?;
                Ok(Done {
                    entity_id: format!("{r}/{year}"),
                    region: Some(r),
                    changes: vec![Change::new("target", before, Some(target))],
                })
            })
        },
    )
    .await?;
    Ok(failed.map_or(Ok(year), |e| Err((year, e))))
}
