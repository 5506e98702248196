//! Volunteer hour records (`/volunteer-hours`, `/api/v1/hours`): confirm (公示), record, correct
//! (a new record) or revoke with a reason; credit recorded hours to the volunteer's time-bank
//! account; export for bulk entry into the national volunteer system.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use shegong_domain::timebank::{EntryKind, SourceKind};
use shegong_domain::volunteers::activities::{HourState, HourStep};
use shegong_domain::{FieldError, Permission};
use shegong_store::PageRequest;
use shegong_store::admin::audit::Change;
use shegong_store::timebank::{self as tb, Account, AccountFilter, EntryInput};
use shegong_store::volunteers::hours::{self, Filter, HourRecord, StepInput};
use shegong_store::volunteers::registry;
use utoipa::{IntoParams, ToSchema};

use crate::http::auth::{Ctx, reader};
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, Crumb, page};
use crate::http::state::AppState;
use crate::http::write::{Done, Entry, WorkWith, write_or_invalid, writer};
use crate::ui::excel::{self, Cell, Export};
use crate::ui::forms::{Check, FormData, today};
use crate::ui::i18n::Tr;
use crate::ui::list::{FormErrors, NoticeQuery, Pager, local_time, pager, rfc3339};

#[derive(Deserialize, IntoParams, Default)]
pub struct HoursQuery {
    /// `pending`, `public`, `recorded`, `corrected` or `revoked`.
    pub state: Option<String>,
    /// Volunteer name or number, or activity name, contains.
    pub q: Option<String>,
    /// Served on or after (YYYY-MM-DD).
    pub from: Option<String>,
    /// Served on or before (YYYY-MM-DD).
    pub to: Option<String>,
    pub volunteer_id: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    #[serde(default)]
    #[param(ignore)]
    pub notice: Option<String>,
    /// Export with identity numbers and mobiles in full: `1` (reveal permission and a reason).
    #[serde(default)]
    #[param(ignore)]
    pub full: Option<String>,
    #[serde(default)]
    #[param(ignore)]
    pub reason: Option<String>,
}

fn opt(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl HoursQuery {
    fn filter(&self) -> Result<Filter, Vec<FieldError>> {
        let mut c = Check::default();
        let state = opt(&self.state).and_then(|s| c.take(HourState::parse(s)));
        let from = opt(&self.from).map(|d| c.date("from", d));
        let to = opt(&self.to).map(|d| c.date("to", d));
        if opt(&self.q).is_some_and(|x| x.chars().count() > 100) {
            c.fail("q", "form.too_long");
        }
        if opt(&self.volunteer_id).is_some_and(|x| x.len() > 64) {
            c.fail("volunteer_id", "team.volunteer_unknown");
        }
        c.finish()?;
        Ok(Filter {
            state,
            volunteer_id: opt(&self.volunteer_id).map(str::to_owned),
            activity_id: None,
            from,
            to,
            q: opt(&self.q).map(str::to_owned),
        })
    }
}

/// Move a record one step, audited; returns a correction's new record.
async fn step(state: &AppState, ctx: &Ctx, id: &str, f: &FormData) -> WebResult<Option<String>> {
    let mut c = Check::default();
    let s = c.take(HourStep::parse(f.get("step")));
    let reason = c.opt_text("reason", f.get("reason").trim(), 200);
    let minutes = match f.get("minutes").trim() {
        "" => None,
        v => Some(c.int("minutes", v, 1, 24 * 60, 0)),
    };
    c.finish().map_err(WebError::Invalid)?;
    let Some(s) = s else {
        return Err(FieldError::new("step", "form.required").into());
    };
    let input = StepInput {
        step: s,
        publicity_days: state.config.volunteers.hours_publicity_days,
        reason,
        minutes,
    };
    let (hid, now, day) = (id.to_owned(), state.now(), today(state.now()));
    let day = chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d").unwrap_or_default();
    write_or_invalid(
        state,
        ctx,
        Entry::new("volunteer_hours", s.as_str()),
        move |conn, scope, by| -> WorkWith<'_, Option<String>> {
            Box::pin(async move {
                let done = hours::step(conn, &scope, &hid, &input, (&by, now), day).await?;
                let mut changes = vec![Change::new(
                    "state",
                    Some(done.before.state),
                    Some(done.after),
                )];
                if !input.reason.is_empty() {
                    changes.push(Change::new(
                        "reason",
                        None::<String>,
                        Some(input.reason.clone()),
                    ));
                }
                if let Some(new) = &done.replacement {
                    changes.push(Change::new(
                        "minutes",
                        Some(done.before.minutes),
                        input.minutes,
                    ));
                    changes.push(Change::new(
                        "replacement",
                        None::<String>,
                        Some(new.clone()),
                    ));
                }
                let d = Done {
                    entity_id: hid,
                    region: Some(done.before.region_code),
                    changes,
                };
                Ok((d, done.replacement))
            })
        },
    )
    .await
}

#[derive(Template)]
#[template(path = "volunteers/hours.html")]
struct ListPage {
    t: Tr,
    base: Base,
    rows: Vec<HourRecord>,
    pager: Pager,
    q: HoursQuery,
    can_write: bool,
    can_reveal: bool,
    export_query: String,
}

impl ListPage {
    fn time(&self, h: &HourRecord) -> String {
        format!(
            "{} – {}",
            local_time(h.started_at),
            &local_time(h.ended_at).get(11..).unwrap_or("")
        )
    }
    fn state(&self, s: &HourState) -> String {
        self.t.label("hours.state", s.as_str())
    }
    fn sel(&self, s: &HourState) -> bool {
        self.q.state.as_deref() == Some(s.as_str())
    }
    fn val<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }
    fn states(&self) -> &'static [HourState] {
        HourState::ALL
    }
}

pub async fn list_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<HoursQuery>,
) -> WebResult<Response> {
    let u = reader(&ctx)?;
    let t = ctx.tr();
    let filter = q.filter().map_err(WebError::Invalid)?;
    let data = {
        let mut c = state.db.read().await?;
        hours::list(
            &mut c,
            &u.scope(),
            &filter,
            PageRequest::new(q.page, q.per_page),
        )
        .await?
    };
    let pairs = vec![
        ("state", q.state.clone().unwrap_or_default()),
        ("q", q.q.clone().unwrap_or_default()),
        ("from", q.from.clone().unwrap_or_default()),
        ("to", q.to.clone().unwrap_or_default()),
        ("volunteer_id", q.volunteer_id.clone().unwrap_or_default()),
    ];
    let export_query = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", crate::http::render::urlencode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let title = t.get("menu.volunteer_hours");
    Ok(page(
        axum::http::StatusCode::OK,
        &ListPage {
            base: Base::new(&ctx, title, vec![Crumb::here(title)])
                .with_notice(&t, q.notice.as_deref()),
            pager: pager(&t, &data, "/volunteer-hours", &pairs)?,
            rows: data.items,
            q,
            can_write: u.can(Permission::WriteData),
            can_reveal: u.can(Permission::RevealSensitive),
            export_query,
            t,
        },
    ))
}

/// A row action from the list (confirm, record): back to the list.
pub async fn step_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let back = match f.get("back") {
        "list" => "/volunteer-hours".to_owned(),
        _ => format!("/volunteer-hours/{id}"),
    };
    match step(&state, &ctx, &id, &f).await {
        Ok(Some(new)) => Ok(
            Redirect::to(&format!("/volunteer-hours/{new}?notice=notice.saved")).into_response(),
        ),
        Ok(None) => Ok(Redirect::to(&format!("{back}?notice=notice.saved")).into_response()),
        Err(WebError::Invalid(e)) => detail(&state, &ctx, &id, None, e.into_iter().next()).await,
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "volunteers/hour.html")]
struct DetailPage {
    t: Tr,
    base: Base,
    h: HourRecord,
    accounts: Vec<Account>,
    can_write: bool,
    error: Option<String>,
    publicity_days: u64,
}

impl DetailPage {
    fn time(&self, m: &i64) -> String {
        local_time(*m)
    }
    fn state(&self) -> String {
        self.t.label("hours.state", self.h.state.as_str())
    }
    fn live(&self) -> bool {
        matches!(
            self.h.state,
            HourState::Pending | HourState::Public | HourState::Recorded
        )
    }
}

async fn detail(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    notice: Option<&str>,
    error: Option<FieldError>,
) -> WebResult<Response> {
    let u = reader(ctx)?;
    let t = ctx.tr();
    let (h, accounts) = {
        let mut c = state.db.read().await?;
        let h = hours::get(&mut c, &u.scope(), id).await?;
        let f = AccountFilter {
            holder_id: Some(h.volunteer_id.clone()),
            ..Default::default()
        };
        let accounts =
            tb::list_accounts(&mut c, &u.scope(), &f, PageRequest::new(Some(1), Some(50)))
                .await?
                .items;
        (h, accounts)
    };
    let error = error.map(|e| FormErrors::new(t, vec![e]).others(&[]).join(" "));
    let title = format!("{} {}", h.volunteer_name, h.served_on);
    Ok(page(
        crate::http::render::form_status(error.as_slice()),
        &DetailPage {
            base: Base::new(
                ctx,
                title.clone(),
                vec![
                    Crumb::link(t.get("menu.volunteer_hours"), "/volunteer-hours"),
                    Crumb::here(title),
                ],
            )
            .with_notice(&t, notice),
            h,
            accounts,
            can_write: u.can(Permission::WriteData),
            error,
            publicity_days: state.config.volunteers.hours_publicity_days,
            t,
        },
    ))
}

pub async fn detail_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> WebResult<Response> {
    detail(&state, &ctx, &id, q.notice.as_deref(), None).await
}

/// Credit recorded hours to the volunteer's time-bank account (an EARN linked to the record).
pub async fn earn_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let account = f.get("account_id").trim().to_owned();
    if account.is_empty() || account.len() > 64 {
        let e = FieldError::new("account_id", "form.required");
        return detail(&state, &ctx, &id, None, Some(e)).await;
    }
    let input = EntryInput {
        kind: EntryKind::Earn,
        amount: 0,
        to_account_id: None,
        source_kind: SourceKind::VolunteerHours,
        source_id: Some(id.clone()),
        note: String::new(),
    };
    match crate::timebank::post_entry(&state, &ctx, &account, input).await {
        Ok(_) => Ok(
            Redirect::to(&format!("/timebank/accounts/{account}?notice=notice.saved"))
                .into_response(),
        ),
        Err(WebError::Invalid(e)) => detail(&state, &ctx, &id, None, e.into_iter().next()).await,
        Err(WebError::NotFound) => {
            let e = FieldError::new("account_id", "timebank.account_unknown");
            detail(&state, &ctx, &id, None, Some(e)).await
        }
        Err(e) => Err(e),
    }
}

/// The filtered records as a sheet: the list as shown, or (`?national=1`) shaped for bulk entry
/// into the national volunteer system — name, identity type and number, mobile, activity, start,
/// end, minutes — recorded hours only, identity in full only with the reveal permission and a
/// reason (audited).
pub async fn export(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<HoursQuery>,
) -> WebResult<Response> {
    let export = Export::check(&ctx, "volunteer_hours", Permission::Export)?;
    let u = export.user();
    let full = q.full.as_deref() == Some("1");
    let reason = q.reason.clone().unwrap_or_default();
    if full {
        u.require(Permission::RevealSensitive)?;
        if reason.trim().chars().count() < 2 {
            return Err(FieldError::new("reason", "reveal.reason_required").into());
        }
    }
    let t = ctx.tr();
    let mut filter = q.filter().map_err(WebError::Invalid)?;
    filter.state = Some(HourState::Recorded);
    let (list, people) = {
        let mut c = state.db.read().await?;
        let list = hours::list_all(&mut c, &u.scope(), &filter, excel::MAX_ROWS).await?;
        let mut people = std::collections::HashMap::new();
        for h in &list {
            if !people.contains_key(&h.volunteer_id) {
                let v = registry::get(&mut c, &u.scope(), &h.volunteer_id).await?;
                people.insert(h.volunteer_id.clone(), v);
            }
        }
        (list, people)
    };
    let headers = [
        "volunteer.name",
        "hours.id_type",
        "volunteer.id_number",
        "volunteer.mobile",
        "hours.activity",
        "hours.started_at",
        "hours.ended_at",
        "hours.minutes",
    ]
    .map(|k| t.get(k));
    let rows: Vec<Vec<Cell>> = list
        .iter()
        .filter_map(|h| people.get(&h.volunteer_id).map(|v| (h, v)))
        .map(|(h, v)| {
            let s = if full {
                super::input::opened(&state, v)
            } else {
                super::input::masked(&state, v)
            };
            vec![
                v.name.as_str().into(),
                t.get(&format!("idcard.type.{}", v.id_type)).into(),
                s.id_number.into(),
                s.mobile.into(),
                h.activity_name.as_str().into(),
                local_time(h.started_at).into(),
                local_time(h.ended_at).into(),
                Cell::Int(h.minutes),
            ]
        })
        .collect();
    let mut notes = vec![Change::new(
        "identity",
        None::<String>,
        Some(if full { "full" } else { "masked" }),
    )];
    if full {
        notes.push(Change::new(
            "reason",
            None::<String>,
            Some(reason.trim().to_owned()),
        ));
    }
    export
        .send(
            &state,
            &ctx,
            "hours.national_export",
            &headers,
            &rows,
            notes,
        )
        .await
}

// ---------------------------------------------------------------- API

/// An hour record as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct HoursDto {
    pub id: String,
    pub volunteer_id: String,
    pub volunteer_no: String,
    pub volunteer_name: String,
    pub activity_id: String,
    pub activity_name: String,
    /// The organising station (the only one that may certify these hours).
    pub organiser_station_id: String,
    #[schema(format = Date)]
    pub served_on: String,
    pub started_at: String,
    pub ended_at: String,
    /// Minutes served, travel excluded.
    pub minutes: i64,
    pub content: String,
    /// `pending` (待确认), `public` (公示), `recorded` (已记录), `corrected` (已更正) or `revoked` (已撤销).
    pub state: String,
    /// The last day of the notice.
    pub publicity_until: Option<String>,
    /// The record this one corrects.
    pub corrects_id: Option<String>,
    pub reason: String,
    pub created_at: String,
}

fn dto(h: HourRecord) -> HoursDto {
    HoursDto {
        id: h.id,
        volunteer_id: h.volunteer_id,
        volunteer_no: h.volunteer_no,
        volunteer_name: h.volunteer_name,
        activity_id: h.activity_id,
        activity_name: h.activity_name,
        organiser_station_id: h.organiser_station_id,
        served_on: h.served_on,
        started_at: rfc3339(h.started_at),
        ended_at: rfc3339(h.ended_at),
        minutes: h.minutes,
        content: h.content,
        state: h.state.to_string(),
        publicity_until: h.publicity_until,
        corrects_id: h.corrects_id,
        reason: h.reason,
        created_at: rfc3339(h.created_at),
    }
}

#[derive(Serialize, ToSchema)]
pub struct HoursPage {
    pub items: Vec<HoursDto>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// Hour records in the caller's scope, latest first.
#[utoipa::path(get, path = "/api/v1/hours", tag = "volunteers", params(HoursQuery),
    responses((status = 200, body = HoursPage), (status = 422, description = "A filter refused, named")))]
pub async fn api_list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<HoursQuery>,
) -> WebResult<Json<HoursPage>> {
    let u = reader(&ctx)?;
    let f = q.filter().map_err(WebError::Invalid)?;
    let mut c = state.db.read().await?;
    let p = hours::list(&mut c, &u.scope(), &f, PageRequest::new(q.page, q.per_page)).await?;
    Ok(Json(HoursPage {
        total: p.total,
        page: p.page,
        per_page: p.per_page,
        items: p.items.into_iter().map(dto).collect(),
    }))
}

async fn load(state: &AppState, ctx: &Ctx, id: &str) -> WebResult<HoursDto> {
    let u = reader(ctx)?;
    let mut c = state.db.read().await?;
    Ok(dto(hours::get(&mut c, &u.scope(), id).await?))
}

/// One hour record.
#[utoipa::path(get, path = "/api/v1/hours/{id}", tag = "volunteers", params(("id" = String, Path)),
    responses((status = 200, body = HoursDto), (status = 404, description = "Unknown or outside the caller's scope")))]
pub async fn api_get(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<HoursDto>> {
    Ok(Json(load(&state, &ctx, &id).await?))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"step": "confirm"}))]
pub struct HourStepBody {
    /// `confirm` (待确认 → 公示), `record` (公示 → 已记录, once the notice has run), `correct`
    /// (with `minutes` and `reason`: a new pending record replaces this one) or `revoke` (with
    /// `reason`).
    #[schema(schema_with = super::activities::code::hour_step)]
    pub step: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub minutes: Option<i64>,
}

/// Move an hour record one step; a correction answers with the new record.
#[utoipa::path(post, path = "/api/v1/hours/{id}/steps", tag = "volunteers", params(("id" = String, Path)),
    request_body = HourStepBody,
    responses((status = 200, body = HoursDto), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Not allowed now (named): notice still running, reason missing, credited in the time bank")))]
pub async fn api_step(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<HourStepBody>,
) -> WebResult<Json<HoursDto>> {
    writer(&ctx)?;
    let f = FormData::new(vec![
        ("step".into(), b.step),
        ("reason".into(), b.reason),
        (
            "minutes".into(),
            b.minutes.map(|m| m.to_string()).unwrap_or_default(),
        ),
    ]);
    let new = step(&state, &ctx, &id, &f).await?;
    Ok(Json(
        load(&state, &ctx, new.as_deref().unwrap_or(&id)).await?,
    ))
}

/// This module's pages and API operations.
pub fn routes() -> Router<AppState> {
    use axum::routing::{get, post};
    Router::new()
        .route("/volunteer-hours", get(list_page))
        .route("/volunteer-hours/export.xlsx", get(export))
        .route("/volunteer-hours/{id}", get(detail_page))
        .route("/volunteer-hours/{id}/steps", post(step_page))
        .route("/volunteer-hours/{id}/earn", post(earn_page))
        .route("/api/v1/hours", get(api_list))
        .route("/api/v1/hours/{id}", get(api_get))
        .route("/api/v1/hours/{id}/steps", post(api_step))
}
