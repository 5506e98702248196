//! The workforce dashboard (`/workforce`): figures for a region and its children, stations below
//! the staffing rule, expiring registrations, and setting the rule.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Datelike;
use shegong_domain::workforce::format_hours;
use shegong_domain::{Permission, RegionCode, Scope};
use shegong_store::admin::audit::Change;
use shegong_store::workforce::staff;

use crate::http::auth::Ctx;
use crate::http::auth::reader;
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, Crumb, page};
use crate::http::state::AppState;
use crate::http::write::{Done, Entry, WorkWith, write_or_invalid};
use crate::ui::forms::{Check, FormData};
use crate::ui::i18n::Tr;
use crate::ui::list::NoticeQuery;
use crate::workforce::staff::today_date;

#[derive(Template)]
#[template(path = "workforce/dashboard.html")]
struct StatsPage {
    t: Tr,
    base: Base,
    top: staff::Figures,
    rows: Vec<staff::Figures>,
    understaffed: Vec<staff::Understaffed>,
    expiring: Vec<staff::Expiring>,
    rule: i64,
    code: String,
    can_supervise: bool,
    drill: bool,
}

impl StatsPage {
    fn tenths(&self, v: impl std::borrow::Borrow<i64>) -> String {
        format_hours(*v.borrow())
    }
}

async fn stats_render(
    state: &AppState,
    ctx: &Ctx,
    code: Option<String>,
    notice: Option<&str>,
) -> WebResult<Response> {
    let u = reader(ctx)?;
    let scope = u.scope();
    let t = ctx.tr();
    // Without a code: the user's own region, or the whole country ("").
    let code = code
        .or_else(|| scope.region.as_ref().map(|r| r.to_string()))
        .unwrap_or_default();
    let today_d = today_date(state.now());
    let year_start = format!("{}-01-01", today_d.year());
    // The same day a year ago, as text (29 February stays as it is: only compared as text).
    let year_ago = format!("{}-{}", today_d.year() - 1, today_d.format("%m-%d"));
    let soon = (today_d + chrono::Duration::days(90)).to_string();
    let mut c = state.db.read().await?;
    let (mut top, rows, understaffed) = staff::statistics(
        &mut c,
        &scope,
        (!code.is_empty()).then_some(code.as_str()),
        &year_start,
        &year_ago,
    )
    .await?;
    if code.is_empty() {
        top.name = t.get("scope.national").to_owned();
    }
    let expiring = staff::expiring(
        &mut c,
        &Scope {
            region: RegionCode::parse(&code).ok(),
            org: scope.org,
        },
        &soon,
    )
    .await?;
    let rule = staff::staffing_rule(&mut c, &code).await?;
    drop(c);
    let title = format!("{} · {}", t.get("menu.workforce"), top.name);
    Ok(page(
        StatusCode::OK,
        &StatsPage {
            t,
            base: Base::new(
                ctx,
                title,
                vec![
                    Crumb::link(t.get("menu.workforce"), "/workforce"),
                    Crumb::here(top.name.clone()),
                ],
            )
            .with_notice(&t, notice),
            drill: code.len() < 9,
            top,
            rows,
            understaffed,
            expiring,
            rule,
            code,
            can_supervise: u.can(Permission::Supervise),
        },
    ))
}

pub async fn stats_root(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NoticeQuery>,
) -> WebResult<Response> {
    stats_render(&state, &ctx, None, q.notice.as_deref()).await
}

pub async fn stats_region(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
) -> WebResult<Response> {
    if RegionCode::parse(&code).is_err() {
        return Err(WebError::NotFound);
    }
    stats_render(&state, &ctx, Some(code), None).await
}

pub async fn set_rule(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    save_rule(&state, &ctx, &f).await?;
    let region = f.get("region");
    Ok(Redirect::to(&format!("/workforce/{region}")).into_response())
}

/// Check and save a region's staffing rule from the form's `region` and `min_social_workers`
/// (the page's and `PUT /api/v1/workforce/rule`'s one path): supervisors only, a region in the
/// caller's scope, audited as `staffing_rule`/`update`. Returns the minimum saved.
pub(super) async fn save_rule(state: &AppState, ctx: &Ctx, f: &FormData) -> WebResult<i64> {
    // Before the form's checks too: without the permission the answer is "forbidden".
    ctx.user()?.require(Permission::Supervise)?;
    let mut c = Check::default();
    let min = c.int("min_social_workers", f.get("min_social_workers"), 0, 50, 2);
    c.finish().map_err(WebError::Invalid)?;
    let (code, now) = (f.get("region").to_owned(), state.now());
    write_or_invalid(
        state,
        ctx,
        Entry::new("staffing_rule", "update").requiring(Permission::Supervise),
        move |conn, scope, _| -> WorkWith<'_, ()> {
            Box::pin(async move {
                let before = staff::set_staffing_rule(conn, &scope, &code, min, now).await?;
                let done = Done {
                    entity_id: code.clone(),
                    region: Some(code),
                    changes: vec![Change::new("min_social_workers", before, Some(min))],
                };
                Ok((done, ()))
            })
        },
    )
    .await?;
    Ok(min)
}
