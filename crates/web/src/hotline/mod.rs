//! Hotlines and tickets (`/hotlines`, `/tickets`, `/api/v1/hotlines`, `/api/v1/tickets`): a
//! station's lines with their duty roster; tickets from calls, 12345 dispatches (external number
//! and mirrored state; nothing is dispatched to 12345 from here), alarm buttons, walk-ins and
//! messages, moved through 受理 → 分派 → 签收 → 办理中 → 已回复 → 办结 → 回访 → 归档 with every step
//! in the ticket's history; due times from the configured policy per category, overdue tickets
//! escalated up the region tree; the caller matched to a resident with a confirm step; outcomes
//! that open a case or record a service through the people stores. Every write is audited.

pub mod api;
pub mod import;
pub mod pages;

use axum::Router;
use axum::routing::{get, post};
use shegong_domain::hotline::{
    Category, Channel, HotlineKind, Outcome, Satisfaction, Step, Urgency,
};
use shegong_domain::people::ServiceKind;
use shegong_domain::{FieldError, Permission};
use shegong_store::admin::audit::Change;
use shegong_store::hotline::tickets::{self as tk, OutcomeInput, StepInput, TicketInput};
use shegong_store::hotline::{self as hl, DutyInput, HotlineInput};
use shegong_store::people::cases;
use utoipa::OpenApi;

use crate::http::area::{Area, MenuSection, messages};
use crate::http::auth::Ctx;
use crate::http::error::{WebError, WebResult};
use crate::http::state::AppState;
use crate::http::write::{Done, Entry, WorkWith, write_or_invalid, writer};
use crate::ui::forms::{Check, FormData};

pub const AREA: Area = Area {
    messages: messages!("hotline"),
    importers: &[&import::TICKETS_12345],
    routes,
    api: || Api::openapi(),
    menu: &[MenuSection {
        rank: 44,
        group: "menu.group.hotline",
        entries: &[
            ("menu.tickets", "/tickets", Some(Permission::ReadData)),
            ("menu.hotlines", "/hotlines", Some(Permission::ReadData)),
        ],
    }],
};

#[derive(OpenApi)]
#[openapi(
    paths(
        api::list_hotlines,
        api::create_hotline,
        api::get_hotline,
        api::update_hotline,
        api::add_duty,
        api::remove_duty,
        api::list_tickets,
        api::create_ticket,
        api::get_ticket,
        api::step_ticket,
        api::candidates,
        api::confirm_resident,
        api::set_outcome,
        api::mirror_external,
    ),
    tags((name = "hotline", description = "Hotlines with their duty roster, and tickets: taken from calls, 12345 dispatches (mirrored, never dispatched from here), alarm buttons, walk-ins and messages; the closed loop with its history, due times per category, escalation, caller matching and outcomes"))
)]
struct Api;

fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/hotlines",
            get(pages::hotlines).post(pages::create_hotline),
        )
        .route("/hotlines/new", get(pages::new_hotline))
        .route(
            "/hotlines/{id}",
            get(pages::hotline).post(pages::update_hotline),
        )
        .route("/hotlines/{id}/duty", post(pages::add_duty))
        .route(
            "/hotlines/{id}/duty/{duty}/remove",
            post(pages::remove_duty),
        )
        .route("/tickets", get(pages::tickets).post(pages::create_ticket))
        .route("/tickets/new", get(pages::new_ticket))
        .route("/tickets/export.xlsx", get(pages::export_tickets))
        .route("/tickets/{id}", get(pages::ticket))
        .route("/tickets/{id}/step", post(pages::step_ticket))
        .route("/tickets/{id}/resident", post(pages::confirm_resident))
        .route("/tickets/{id}/outcome", post(pages::set_outcome))
        .route("/tickets/{id}/external", post(pages::mirror_external))
        .route(
            "/api/v1/hotlines",
            get(api::list_hotlines).post(api::create_hotline),
        )
        .route(
            "/api/v1/hotlines/{id}",
            get(api::get_hotline).put(api::update_hotline),
        )
        .route("/api/v1/hotlines/{id}/duty", post(api::add_duty))
        .route(
            "/api/v1/hotlines/{id}/duty/{duty}",
            axum::routing::delete(api::remove_duty),
        )
        .route(
            "/api/v1/tickets",
            get(api::list_tickets).post(api::create_ticket),
        )
        .route("/api/v1/tickets/{id}", get(api::get_ticket))
        .route("/api/v1/tickets/{id}/step", post(api::step_ticket))
        .route("/api/v1/tickets/{id}/candidates", get(api::candidates))
        .route("/api/v1/tickets/{id}/resident", post(api::confirm_resident))
        .route("/api/v1/tickets/{id}/outcome", post(api::set_outcome))
        .route("/api/v1/tickets/{id}/external", post(api::mirror_external))
}

/// The hotline codes as OpenAPI enums.
pub mod code {
    use shegong_domain::hotline::{
        Category, Channel, HotlineKind, Outcome, Satisfaction, Step, TicketState, Urgency,
    };
    use utoipa::openapi::schema::Object;

    use crate::http::api::code::one_of;

    pub fn kind() -> Object {
        one_of(HotlineKind::ALL.iter().map(|v| v.as_str()))
    }
    pub fn channel() -> Object {
        one_of(Channel::ALL.iter().map(|v| v.as_str()))
    }
    pub fn category() -> Object {
        one_of(Category::ALL.iter().map(|v| v.as_str()))
    }
    pub fn urgency() -> Object {
        one_of(Urgency::ALL.iter().map(|v| v.as_str()))
    }
    pub fn state() -> Object {
        one_of(TicketState::ALL.iter().map(|v| v.as_str()))
    }
    pub fn step() -> Object {
        one_of(Step::ALL.iter().map(|v| v.as_str()))
    }
    pub fn satisfaction() -> Object {
        one_of(Satisfaction::ALL.iter().map(|v| v.as_str()))
    }
    pub fn outcome() -> Object {
        one_of(Outcome::ALL.iter().map(|v| v.as_str()))
    }
}

pub fn check_id(id: &str) -> WebResult<()> {
    if id.len() > 64 {
        return Err(WebError::NotFound);
    }
    Ok(())
}

fn some(s: String) -> Option<String> {
    Some(s).filter(|s| !s.trim().is_empty())
}

fn yes(v: &str) -> bool {
    matches!(v.trim(), "1" | "true" | "on" | "yes")
}

fn after(f: &str, v: impl Into<String>) -> Change {
    Change::new(f, None::<String>, Some(v.into()))
}

/// A time typed as RFC 3339 or as "YYYY-MM-DD HH:MM" / "YYYY-MM-DDTHH:MM" China time.
pub fn parse_time(v: &str) -> Option<i64> {
    let v = v.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(v) {
        return Some(t.timestamp_millis());
    }
    [
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y/%m/%d %H:%M",
    ]
    .iter()
    .find_map(|f| chrono::NaiveDateTime::parse_from_str(v, f).ok())
    .map(|t| t.and_utc().timestamp_millis() - 8 * 3_600_000)
}

fn time_field(c: &mut Check, field: &'static str, v: &str) -> Option<i64> {
    if v.trim().is_empty() {
        return None;
    }
    let t = parse_time(v);
    if t.is_none() {
        c.fail(field, "ticket.time_invalid");
    }
    t
}

pub fn hotline_input(f: &FormData) -> Result<HotlineInput, Vec<FieldError>> {
    let mut c = Check::default();
    let station_id = c.text("station_id", f.get("station_id").trim(), 64);
    let number = c.text("number", f.get("number").trim(), 20);
    let name = c.opt_text("name", f.get("name").trim(), 100);
    let kind = c.take(HotlineKind::parse(f.get("kind")));
    let active = f.get("active").trim().is_empty() || yes(f.get("active"));
    c.finish()?;
    Ok(HotlineInput {
        station_id,
        number,
        name,
        kind: kind.ok_or_else(|| vec![FieldError::new("kind", "form.required")])?,
        active,
    })
}

pub fn duty_input(f: &FormData) -> Result<DutyInput, Vec<FieldError>> {
    let mut c = Check::default();
    let user_id = c.text("user_id", f.get("user_id").trim(), 64);
    let weekday = match f.get("weekday").trim() {
        "" => None,
        w => Some(c.int("weekday", w, 1, 7, 0)),
    };
    let date = f.get("on_date").trim();
    let on_date = (!date.is_empty()).then(|| c.date("on_date", date));
    let starts = c.text("starts", f.get("starts").trim(), 5);
    let ends = c.text("ends", f.get("ends").trim(), 5);
    c.finish()?;
    Ok(DutyInput {
        user_id,
        weekday,
        on_date,
        starts,
        ends,
    })
}

pub fn ticket_input(f: &FormData) -> Result<TicketInput, Vec<FieldError>> {
    let mut c = Check::default();
    let station_id = c.text("station_id", f.get("station_id").trim(), 64);
    let hotline_id = c.opt_text("hotline_id", f.get("hotline_id").trim(), 64);
    let channel = c.take(Channel::parse(f.get("channel")));
    let received_at = time_field(&mut c, "received_at", f.get("received_at"));
    let caller_name = c.opt_text("caller_name", f.get("caller_name").trim(), 50);
    let caller_phone = c.opt_text("caller_phone", f.get("caller_phone").trim(), 30);
    let caller_id = c.opt_text("caller_id_number", f.get("caller_id_number").trim(), 30);
    let category = c.take(Category::parse(f.get("category")));
    let urgency = match f.get("urgency").trim() {
        "" => Some(Urgency::Normal),
        u => c.take(Urgency::parse(u)),
    };
    let content = c.text("content", f.get("content").trim(), 4000);
    let assignee = c.opt_text("assignee_user_id", f.get("assignee_user_id").trim(), 64);
    let external_no = c.opt_text("external_no", f.get("external_no").trim(), 40);
    let external_state = c.opt_text("external_state", f.get("external_state").trim(), 40);
    c.finish()?;
    let (Some(channel), Some(category), Some(urgency)) = (channel, category, urgency) else {
        return Err(vec![FieldError::new("channel", "form.required")]);
    };
    Ok(TicketInput {
        station_id,
        hotline_id: some(hotline_id),
        channel,
        received_at,
        caller_name,
        caller_phone: some(caller_phone),
        caller_id_number: some(caller_id),
        category,
        urgency,
        content,
        assignee_user_id: some(assignee),
        external_no: some(external_no),
        external_state,
    })
}

pub fn step_input(f: &FormData) -> Result<(Step, StepInput), Vec<FieldError>> {
    let mut c = Check::default();
    let step = c.take(Step::parse(f.get("step")));
    let note = c.opt_text("note", f.get("note").trim(), 1000);
    let assignee = c.opt_text("assignee_user_id", f.get("assignee_user_id").trim(), 64);
    let new_due_at = time_field(&mut c, "due_at", f.get("due_at"));
    let satisfaction = match f.get("satisfaction").trim() {
        "" => None,
        s => c.take(Satisfaction::parse(s)),
    };
    c.finish()?;
    let step = step.ok_or_else(|| vec![FieldError::new("step", "form.required")])?;
    Ok((
        step,
        StepInput {
            note,
            assignee_user_id: some(assignee),
            new_due_at,
            satisfaction,
        },
    ))
}

pub fn outcome_input(f: &FormData) -> Result<OutcomeInput, Vec<FieldError>> {
    let mut c = Check::default();
    let outcome = c.take(Outcome::parse(f.get("outcome")));
    let org_id = c.opt_text("org_id", f.get("org_id").trim(), 64);
    let outcome_ref = c.opt_text("outcome_ref", f.get("outcome_ref").trim(), 200);
    let service_kind = match f.get("service_kind").trim() {
        "" => None,
        k => c.take(ServiceKind::parse(k)),
    };
    let duration_minutes = match f.get("duration_minutes").trim() {
        "" => 30,
        d => c.int("duration_minutes", d, 1, 1440, 30),
    };
    let workers = c.opt_text("workers", f.get("workers").trim(), 100);
    c.finish()?;
    Ok(OutcomeInput {
        outcome: outcome.ok_or_else(|| vec![FieldError::new("outcome", "form.required")])?,
        org_id: some(org_id),
        outcome_ref,
        service_kind,
        duration_minutes,
        workers,
    })
}

pub async fn create_hotline(state: &AppState, ctx: &Ctx, input: HotlineInput) -> WebResult<String> {
    writer(ctx)?;
    let now = state.now();
    write_or_invalid(
        state,
        ctx,
        Entry::new("hotline", "create"),
        move |conn, scope, by| -> WorkWith<'_, String> {
            Box::pin(async move {
                let id = hl::create(conn, &scope, &input, &by, now).await?;
                let h = hl::get(conn, &scope, &id).await?;
                let done = Done {
                    entity_id: id.clone(),
                    region: Some(h.region_code),
                    changes: vec![
                        after("number", input.number.clone()),
                        after("kind", input.kind.as_str()),
                        after("station", input.station_id.clone()),
                    ],
                };
                Ok((done, id))
            })
        },
    )
    .await
}

pub async fn update_hotline(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    input: HotlineInput,
) -> WebResult<()> {
    writer(ctx)?;
    let (id, now) = (id.to_owned(), state.now());
    write_or_invalid(
        state,
        ctx,
        Entry::new("hotline", "update"),
        move |conn, scope, _by| -> WorkWith<'_, ()> {
            Box::pin(async move {
                let b = hl::update(conn, &scope, &id, &input, now).await?;
                let ch = |f: &str, x: String, y: String| Change::new(f, Some(x), Some(y));
                let done = Done {
                    entity_id: id,
                    region: Some(b.region_code),
                    changes: vec![
                        ch("number", b.number, input.number.clone()),
                        ch("kind", b.kind.as_str().into(), input.kind.as_str().into()),
                        ch(
                            "active",
                            b.active.to_string(),
                            i64::from(input.active).to_string(),
                        ),
                        ch("station", b.station_id, input.station_id.clone()),
                    ],
                };
                Ok((done, ()))
            })
        },
    )
    .await
}

/// Take a shift off the line's roster.
pub async fn remove_duty(state: &AppState, ctx: &Ctx, id: &str, duty: &str) -> WebResult<()> {
    writer(ctx)?;
    let (id, duty) = (id.to_owned(), duty.to_owned());
    write_or_invalid(
        state,
        ctx,
        Entry::new("hotline", "remove_duty"),
        move |conn, scope, _by| -> WorkWith<'_, ()> {
            Box::pin(async move {
                let d = hl::remove_duty(conn, &scope, &id, &duty).await?;
                let h = hl::get(conn, &scope, &id).await?;
                let when = d
                    .on_date
                    .clone()
                    .unwrap_or_else(|| format!("weekday {}", d.weekday.unwrap_or_default()));
                let done = Done {
                    entity_id: id,
                    region: Some(h.region_code),
                    changes: vec![Change::new(
                        "shift",
                        Some(format!("{} {when} {}-{}", d.user_id, d.starts, d.ends)),
                        None::<String>,
                    )],
                };
                Ok((done, ()))
            })
        },
    )
    .await
}

pub async fn add_duty(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    input: DutyInput,
) -> WebResult<String> {
    writer(ctx)?;
    let (id, now) = (id.to_owned(), state.now());
    write_or_invalid(
        state,
        ctx,
        Entry::new("hotline", "add_duty"),
        move |conn, scope, by| -> WorkWith<'_, String> {
            Box::pin(async move {
                let duty = hl::add_duty(conn, &scope, &id, &input, &by, now).await?;
                let h = hl::get(conn, &scope, &id).await?;
                let when = input
                    .on_date
                    .clone()
                    .unwrap_or_else(|| format!("weekday {}", input.weekday.unwrap_or_default()));
                let done = Done {
                    entity_id: id,
                    region: Some(h.region_code),
                    changes: vec![
                        after("user_id", input.user_id.clone()),
                        after("shift", format!("{when} {}-{}", input.starts, input.ends)),
                    ],
                };
                Ok((done, duty))
            })
        },
    )
    .await
}

pub async fn create_ticket(state: &AppState, ctx: &Ctx, input: TicketInput) -> WebResult<String> {
    writer(ctx)?;
    let now = state.now();
    let sla = state.config.hotline.sla(input.category);
    let app = state.clone();
    write_or_invalid(
        state,
        ctx,
        Entry::new("ticket", "create"),
        move |conn, scope, by| -> WorkWith<'_, String> {
            Box::pin(async move {
                let id = tk::create(conn, &scope, &app.keys, &input, sla, &by, now).await?;
                let t = tk::get(conn, &scope, &id).await?;
                let mut changes = vec![
                    after("channel", input.channel.as_str()),
                    after("category", input.category.as_str()),
                    after("state", t.state.as_str()),
                ];
                if input.caller_phone.is_some() {
                    changes.push(Change::redacted("caller_phone"));
                }
                if let Some(n) = &input.external_no {
                    changes.push(after("external_no", n.clone()));
                }
                let done = Done {
                    entity_id: id.clone(),
                    region: Some(t.region_code),
                    changes,
                };
                Ok((done, id))
            })
        },
    )
    .await
}

pub async fn step_ticket(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    step: Step,
    input: StepInput,
) -> WebResult<()> {
    writer(ctx)?;
    let (id, now) = (id.to_owned(), state.now());
    write_or_invalid(
        state,
        ctx,
        Entry::new("ticket", "step"),
        move |conn, scope, by| -> WorkWith<'_, ()> {
            Box::pin(async move {
                let (b, a) = tk::step(conn, &scope, &id, step, &input, &by, now).await?;
                let mut changes = vec![Change::new(
                    "state",
                    Some(b.state.as_str()),
                    Some(a.state.as_str()),
                )];
                if b.assignee_user_id != a.assignee_user_id {
                    changes.push(Change::new(
                        "assignee",
                        b.assignee_user_id,
                        a.assignee_user_id,
                    ));
                }
                if b.due_at != a.due_at {
                    changes.push(Change::new("due_at", Some(b.due_at), Some(a.due_at)));
                }
                let done = Done {
                    entity_id: id,
                    region: Some(a.region_code),
                    changes,
                };
                Ok((done, ()))
            })
        },
    )
    .await
}

pub async fn confirm_resident(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    resident: String,
) -> WebResult<()> {
    let u = writer(ctx)?;
    let viewer = crate::people::residents::viewer(state, u);
    let (id, now) = (id.to_owned(), state.now());
    write_or_invalid(
        state,
        ctx,
        Entry::new("ticket", "match"),
        move |conn, _scope, by| -> WorkWith<'_, ()> {
            Box::pin(async move {
                let b = tk::confirm_resident(conn, &viewer, &id, &resident, &by, now).await?;
                let done = Done {
                    entity_id: id,
                    region: Some(b.region_code),
                    changes: vec![Change::new("resident_id", b.resident_id, Some(resident))],
                };
                Ok((done, ()))
            })
        },
    )
    .await
}

pub async fn set_outcome(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    input: OutcomeInput,
) -> WebResult<()> {
    let u = writer(ctx)?;
    let viewer = crate::people::residents::viewer(state, u);
    let actor = cases::Actor {
        user_id: u.user.id.clone(),
        name: u.user.display_name.clone(),
    };
    let (id, now, app) = (id.to_owned(), state.now(), state.clone());
    write_or_invalid(
        state,
        ctx,
        Entry::new("ticket", "outcome"),
        move |conn, _scope, _by| -> WorkWith<'_, ()> {
            Box::pin(async move {
                let t = tk::set_outcome(conn, &viewer, &app.keys, &id, &input, &actor, now).await?;
                let mut changes = vec![after("outcome", input.outcome.as_str())];
                for (f, v) in [
                    ("case_id", &t.case_id),
                    ("service_id", &t.service_id),
                    ("org_id", &t.org_id),
                ] {
                    if let Some(v) = v {
                        changes.push(after(f, v.clone()));
                    }
                }
                let done = Done {
                    entity_id: id,
                    region: Some(t.region_code),
                    changes,
                };
                Ok((done, ()))
            })
        },
    )
    .await
}

pub async fn mirror_external(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    external_state: String,
) -> WebResult<()> {
    writer(ctx)?;
    let (id, now) = (id.to_owned(), state.now());
    write_or_invalid(
        state,
        ctx,
        Entry::new("ticket", "mirror"),
        move |conn, scope, by| -> WorkWith<'_, ()> {
            Box::pin(async move {
                let b = tk::mirror_external(conn, &scope, &id, &external_state, &by, now).await?;
                let done = Done {
                    entity_id: id,
                    region: Some(b.region_code),
                    changes: vec![Change::new(
                        "external_state",
                        Some(b.external_state),
                        Some(external_state),
                    )],
                };
                Ok((done, ()))
            })
        },
    )
    .await
}
