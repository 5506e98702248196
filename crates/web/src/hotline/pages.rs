//! The hotline pages: lines (list with a form, each line's page with its roster and who is on
//! duty now) and tickets (list with filters for overdue, escalated and crisis tickets, Excel;
//! the take-a-call form; each ticket's page with its history, the crisis protocol, the step,
//! caller-match, outcome and 12345-state forms).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use shegong_domain::hotline::{
    Category, Channel, HotlineKind, Outcome, Satisfaction, Step, TicketState, Urgency,
};
use shegong_domain::{FieldError, Permission};
use shegong_store::hotline::tickets::{self as tk, Candidate, Ticket, TicketEvent};
use shegong_store::hotline::{self as hl, Duty, Hotline};
use shegong_store::{Page, PageRequest};

use super::api::{TicketsQuery, masked_phone};
use super::check_id;
use crate::http::auth::{Ctx, reader};
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, Crumb, form_status, page};
use crate::http::state::AppState;
use crate::http::write::writer;
use crate::ui::excel::{self, Cell, Export};
use crate::ui::forms::FormData;
use crate::ui::i18n::Tr;
use crate::ui::list::{FormErrors, Pager, local_time, pager};

type Options = Vec<(String, String)>;

fn options(t: &Tr, prefix: &str, codes: &[&'static str]) -> Options {
    codes
        .iter()
        .map(|c| ((*c).to_owned(), t.get(&format!("{prefix}.{c}")).to_owned()))
        .collect()
}

fn kinds(t: &Tr) -> Options {
    let c: Vec<&str> = HotlineKind::ALL.iter().map(|k| k.as_str()).collect();
    options(t, "hotline.kind", &c)
}

/// The stations in the caller's scope: (id, name).
async fn stations(state: &AppState, ctx: &Ctx) -> WebResult<Options> {
    let u = reader(ctx)?;
    let mut c = state.db.read().await?;
    let f = shegong_store::network::stations::Filter::default();
    let p = shegong_store::network::stations::list(
        &mut c,
        &u.scope(),
        &f,
        PageRequest::new(Some(1), Some(500)),
    )
    .await?;
    Ok(p.items.into_iter().map(|s| (s.id, s.name)).collect())
}

async fn workers(state: &AppState, ctx: &Ctx) -> WebResult<Options> {
    let u = reader(ctx)?;
    let mut c = state.db.read().await?;
    let w = shegong_store::people::residents::workers(&mut c, &u.scope()).await?;
    let t = ctx.tr();
    Ok(w.iter()
        .map(|a| {
            (
                a.id.clone(),
                crate::people::residents::account_label(&t, a, true),
            )
        })
        .collect())
}

fn crumbs(t: &Tr, href: &'static str, key: &str, rest: Vec<Crumb>) -> Vec<Crumb> {
    let mut c = vec![Crumb::link(t.get(key), href)];
    c.extend(rest);
    c
}

// ---------------------------------------------------------------- hotlines

#[derive(Deserialize, Default)]
pub struct HotlinesQuery {
    pub q: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    pub notice: Option<String>,
}

#[derive(Template)]
#[template(path = "hotline/hotlines.html")]
struct HotlinesPage {
    t: Tr,
    base: Base,
    rows: Vec<Hotline>,
    pager: Pager,
    q: String,
    can_write: bool,
    f: FormData,
    errors: FormErrors,
    stations: Options,
    kinds: Options,
}

async fn hotlines_page(
    state: &AppState,
    ctx: &Ctx,
    q: HotlinesQuery,
    f: FormData,
    errors: Vec<FieldError>,
) -> WebResult<Response> {
    let u = reader(ctx)?;
    let t = ctx.tr();
    let data = {
        let mut c = state.db.read().await?;
        hl::list(
            &mut c,
            &u.scope(),
            q.q.as_deref(),
            PageRequest::new(q.page, q.per_page),
        )
        .await?
    };
    let title = t.get("menu.hotlines").to_owned();
    let text = q.q.clone().unwrap_or_default();
    Ok(page(
        form_status(&errors),
        &HotlinesPage {
            base: Base::new(ctx, title.clone(), vec![Crumb::here(title)])
                .with_notice(&t, q.notice.as_deref()),
            pager: pager(&t, &data, "/hotlines", &[("q", text.clone())])?,
            rows: data.items,
            q: text,
            can_write: u.can(Permission::WriteData),
            f,
            stations: stations(state, ctx).await?,
            kinds: kinds(&t),
            errors: FormErrors::new(t, errors),
            t,
        },
    ))
}

pub async fn hotlines(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<HotlinesQuery>,
) -> WebResult<Response> {
    hotlines_page(&state, &ctx, q, FormData::default(), vec![]).await
}

pub async fn new_hotline() -> Redirect {
    Redirect::to("/hotlines#new-hotline")
}

pub async fn create_hotline(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let input = match super::hotline_input(&f) {
        Ok(i) => i,
        Err(errors) => {
            return hotlines_page(&state, &ctx, HotlinesQuery::default(), f, errors).await;
        }
    };
    match super::create_hotline(&state, &ctx, input).await {
        Ok(id) => Ok(Redirect::to(&format!("/hotlines/{id}?notice=notice.saved")).into_response()),
        Err(WebError::Invalid(errors)) => {
            hotlines_page(&state, &ctx, HotlinesQuery::default(), f, errors).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "hotline/hotline.html")]
struct HotlinePage {
    t: Tr,
    base: Base,
    item: Hotline,
    roster: Vec<Duty>,
    on_duty: Vec<Duty>,
    can_write: bool,
    f: FormData,
    errors: FormErrors,
    stations: Options,
    kinds: Options,
    workers: Options,
}

impl HotlinePage {
    fn others(&self) -> Vec<String> {
        self.errors.others(&[
            "station", "number", "name", "kind", "user_id", "weekday", "on_date", "starts", "ends",
        ])
    }
    fn weekday(&self, d: &Duty) -> String {
        match (&d.on_date, d.weekday) {
            (Some(date), _) => date.clone(),
            (None, Some(w)) => self.t.get(&format!("hotline.weekday.{w}")).to_owned(),
            _ => String::new(),
        }
    }
}

async fn hotline_page(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    f: Option<FormData>,
    errors: Vec<FieldError>,
) -> WebResult<Response> {
    check_id(id)?;
    let u = reader(ctx)?;
    let t = ctx.tr();
    let (line, roster, on_duty) = {
        let mut c = state.db.read().await?;
        let line = hl::get(&mut c, &u.scope(), id).await?;
        let roster = hl::roster(&mut c, &u.scope(), id).await?;
        let on = hl::on_duty(&mut c, &u.scope(), id, state.now()).await?;
        (line, roster, on)
    };
    let f = f.unwrap_or_else(|| {
        FormData::new(vec![
            ("station_id".into(), line.station_id.clone()),
            ("number".into(), line.number.clone()),
            ("name".into(), line.name.clone()),
            ("kind".into(), line.kind.as_str().into()),
            (
                "active".into(),
                if line.active == 1 { "1" } else { "0" }.into(),
            ),
        ])
    });
    let title = format!("{} {}", line.number, line.name);
    Ok(page(
        form_status(&errors),
        &HotlinePage {
            base: Base::new(
                ctx,
                title.clone(),
                crumbs(&t, "/hotlines", "menu.hotlines", vec![Crumb::here(title)]),
            ),
            item: line,
            roster,
            on_duty,
            can_write: u.can(Permission::WriteData),
            f,
            stations: stations(state, ctx).await?,
            kinds: kinds(&t),
            workers: workers(state, ctx).await?,
            errors: FormErrors::new(t, errors),
            t,
        },
    ))
}

pub async fn hotline(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Response> {
    hotline_page(&state, &ctx, &id, None, vec![]).await
}

pub async fn update_hotline(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let r = match super::hotline_input(&f) {
        Ok(input) => super::update_hotline(&state, &ctx, &id, input).await,
        Err(errors) => Err(WebError::Invalid(errors)),
    };
    match r {
        Ok(()) => Ok(Redirect::to(&format!("/hotlines/{id}?notice=notice.saved")).into_response()),
        Err(WebError::Invalid(errors)) => hotline_page(&state, &ctx, &id, Some(f), errors).await,
        Err(e) => Err(e),
    }
}

pub async fn add_duty(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let r = match super::duty_input(&f) {
        Ok(input) => super::add_duty(&state, &ctx, &id, input).await.map(|_| ()),
        Err(errors) => Err(WebError::Invalid(errors)),
    };
    match r {
        Ok(()) => Ok(Redirect::to(&format!("/hotlines/{id}?notice=notice.saved")).into_response()),
        Err(WebError::Invalid(errors)) => hotline_page(&state, &ctx, &id, None, errors).await,
        Err(e) => Err(e),
    }
}

pub async fn remove_duty(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, duty)): Path<(String, String)>,
) -> WebResult<Response> {
    writer(&ctx)?;
    super::remove_duty(&state, &ctx, &id, &duty).await?;
    Ok(Redirect::to(&format!("/hotlines/{id}?notice=notice.saved")).into_response())
}

// ---------------------------------------------------------------- tickets

#[derive(Template)]
#[template(path = "hotline/tickets.html")]
struct TicketsPage {
    t: Tr,
    base: Base,
    rows: Vec<Ticket>,
    pager: Pager,
    q: TicketsQuery,
    export_href: String,
    can_write: bool,
    can_export: bool,
    states: Options,
    categories: Options,
    channels: Options,
    now: i64,
    per_level: u32,
    /// Crisis tickets notified to the reader (a supervisor in reach).
    notified: Vec<Ticket>,
}

impl TicketsPage {
    fn overdue(&self, x: &Ticket) -> bool {
        x.overdue(self.now)
    }
    fn level(&self, x: &Ticket) -> u8 {
        x.escalation(self.now, self.per_level)
    }
    fn esc_is(&self, l: &i32) -> bool {
        self.q.escalated_to.map(i32::from) == Some(*l)
    }
    fn time(&self, at: &i64) -> String {
        local_time(*at)
    }
    fn opt<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or_default()
    }
}

fn query_pairs(q: &TicketsQuery) -> Vec<(&'static str, String)> {
    let s = |v: &Option<String>| v.clone().unwrap_or_default();
    let b = |v: Option<bool>| {
        if v.unwrap_or(false) {
            "true".to_owned()
        } else {
            String::new()
        }
    };
    let [sort, size] = crate::ui::list::table_pairs(q.sort(), q.per_page);
    vec![
        ("q", s(&q.q)),
        ("state", s(&q.state)),
        ("category", s(&q.category)),
        ("channel", s(&q.channel)),
        ("overdue", b(q.overdue)),
        ("crisis", b(q.crisis)),
        (
            "escalated_to",
            q.escalated_to.map(|l| l.to_string()).unwrap_or_default(),
        ),
        sort,
        size,
    ]
}

pub async fn tickets(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<TicketsQuery>,
) -> WebResult<Response> {
    let u = reader(&ctx)?;
    let t = ctx.tr();
    let f = q.filter()?;
    let per_level = state.config.hotline.escalation_working_days;
    let now = state.now();
    let (data, notified): (Page<Ticket>, Vec<Ticket>) = {
        let mut c = state.db.read().await?;
        let page = PageRequest::sized(q.page, q.per_page);
        let data = tk::list(&mut c, &u.scope(), &f, now, per_level, page).await?;
        let notified = tk::notifications(&mut c, &u.scope(), &u.user.id).await?;
        (data, notified)
    };
    let title = t.get("menu.tickets").to_owned();
    let pairs = query_pairs(&q);
    let states: Vec<&str> = TicketState::ALL.iter().map(|s| s.as_str()).collect();
    let cats: Vec<&str> = Category::ALL.iter().map(|s| s.as_str()).collect();
    let chans: Vec<&str> = Channel::ALL.iter().map(|s| s.as_str()).collect();
    Ok(page(
        StatusCode::OK,
        &TicketsPage {
            base: Base::new(&ctx, title.clone(), vec![Crumb::here(title)]),
            pager: pager(&t, &data, "/tickets", &pairs)?,
            export_href: format!(
                "/tickets/export.xlsx?{}",
                serde_urlencoded::to_string(&pairs).unwrap_or_default()
            ),
            rows: data.items,
            q,
            can_write: u.can(Permission::WriteData),
            can_export: u.can(Permission::Export),
            states: options(&t, "ticket.state", &states),
            categories: options(&t, "ticket.category", &cats),
            channels: options(&t, "ticket.channel", &chans),
            now,
            per_level,
            notified: notified
                .into_iter()
                .filter(|x| shegong_domain::hotline::open(x.state))
                .collect(),
            t,
        },
    ))
}

pub async fn export_tickets(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<TicketsQuery>,
) -> WebResult<Response> {
    let export = Export::check(&ctx, "ticket", Permission::Export)?;
    let u = export.user();
    let t = ctx.tr();
    let f = q.filter()?;
    let (now, per_level) = (state.now(), state.config.hotline.escalation_working_days);
    let data = {
        let mut c = state.db.read().await?;
        tk::list(
            &mut c,
            &u.scope(),
            &f,
            now,
            per_level,
            PageRequest {
                page: 1,
                per_page: excel::MAX_ROWS,
            },
        )
        .await?
    };
    crate::ui::list::check_batch(
        crate::ui::list::batch_ids(q.ids.as_deref())?.as_ref(),
        data.items.len(),
    )?;
    let headers = [
        "field.external_no",
        "field.received_at",
        "field.channel",
        "field.caller_name",
        "field.caller_phone",
        "field.category",
        "field.urgency",
        "field.content",
        "field.station",
        "field.assignee",
        "field.due_at",
        "field.state",
        "field.escalation",
        "field.external_state",
        "field.outcome",
    ]
    .map(|k| t.get(k));
    let rows: Vec<Vec<Cell>> = data
        .items
        .iter()
        .map(|x| {
            vec![
                x.external_no.clone().unwrap_or_default().into(),
                local_time(x.received_at).into(),
                t.get(&format!("ticket.channel.{}", x.channel.as_str()))
                    .to_owned()
                    .into(),
                x.caller_name.clone().into(),
                x.phone(&state.keys)
                    .map(|p| masked_phone(&p))
                    .unwrap_or_default()
                    .into(),
                t.get(&format!("ticket.category.{}", x.category.as_str()))
                    .to_owned()
                    .into(),
                t.get(&format!("ticket.urgency.{}", x.urgency.as_str()))
                    .to_owned()
                    .into(),
                x.content.clone().into(),
                x.station_name.clone().unwrap_or_default().into(),
                x.assignee_name.clone().unwrap_or_default().into(),
                local_time(x.due_at).into(),
                t.get(&format!("ticket.state.{}", x.state.as_str()))
                    .to_owned()
                    .into(),
                i64::from(x.escalation(now, per_level)).into(),
                x.external_state.clone().into(),
                x.outcome
                    .as_deref()
                    .map(|o| t.get(&format!("ticket.outcome.{o}")).to_owned())
                    .unwrap_or_default()
                    .into(),
            ]
        })
        .collect();
    export
        .send(&state, &ctx, "menu.tickets", &headers, &rows, vec![])
        .await
}

#[derive(Template)]
#[template(path = "hotline/ticket_form.html")]
struct TicketForm {
    t: Tr,
    base: Base,
    f: FormData,
    errors: FormErrors,
    stations: Options,
    hotlines: Options,
    workers: Options,
    channels: Options,
    categories: Options,
    urgencies: Options,
}

impl TicketForm {
    /// The choice fields: (field, error key, options, required).
    fn selects(&self) -> Vec<(&'static str, &'static str, &Options, bool)> {
        vec![
            ("station_id", "station", &self.stations, true),
            ("hotline_id", "hotline_id", &self.hotlines, false),
            ("channel", "channel", &self.channels, true),
            ("category", "category", &self.categories, true),
            ("urgency", "urgency", &self.urgencies, true),
            ("assignee_user_id", "assignee", &self.workers, false),
        ]
    }
    fn other_errors(&self) -> Vec<String> {
        self.errors.others(&[
            "station",
            "station_id",
            "hotline_id",
            "channel",
            "received_at",
            "caller_name",
            "caller_phone",
            "caller_id_number",
            "category",
            "urgency",
            "content",
            "assignee",
            "assignee_user_id",
            "external_no",
            "external_state",
        ])
    }
}

async fn ticket_form(
    state: &AppState,
    ctx: &Ctx,
    f: FormData,
    errors: Vec<FieldError>,
) -> WebResult<Response> {
    let u = writer(ctx)?;
    let t = ctx.tr();
    let lines = {
        let mut c = state.db.read().await?;
        hl::list(
            &mut c,
            &u.scope(),
            None,
            PageRequest::new(Some(1), Some(500)),
        )
        .await?
    };
    let title = t.get("ticket.new").to_owned();
    let chans: Vec<&str> = Channel::ALL.iter().map(|s| s.as_str()).collect();
    let cats: Vec<&str> = Category::ALL.iter().map(|s| s.as_str()).collect();
    let urg: Vec<&str> = Urgency::ALL.iter().map(|s| s.as_str()).collect();
    Ok(page(
        form_status(&errors),
        &TicketForm {
            base: Base::new(
                ctx,
                title.clone(),
                crumbs(&t, "/tickets", "menu.tickets", vec![Crumb::here(title)]),
            ),
            f,
            stations: stations(state, ctx).await?,
            hotlines: lines
                .items
                .into_iter()
                .map(|h| (h.id, format!("{} {}", h.number, h.name)))
                .collect(),
            workers: workers(state, ctx).await?,
            channels: options(&t, "ticket.channel", &chans),
            categories: options(&t, "ticket.category", &cats),
            urgencies: options(&t, "ticket.urgency", &urg),
            errors: FormErrors::new(t, errors),
            t,
        },
    ))
}

pub async fn new_ticket(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let f = FormData::new(vec![
        ("channel".into(), "phone".into()),
        ("urgency".into(), "normal".into()),
    ]);
    ticket_form(&state, &ctx, f, vec![]).await
}

pub async fn create_ticket(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let input = match super::ticket_input(&f) {
        Ok(i) => i,
        Err(errors) => return ticket_form(&state, &ctx, f, errors).await,
    };
    match super::create_ticket(&state, &ctx, input).await {
        Ok(id) => Ok(Redirect::to(&format!("/tickets/{id}?notice=notice.saved")).into_response()),
        Err(WebError::Invalid(errors)) => ticket_form(&state, &ctx, f, errors).await,
        Err(e) => Err(e),
    }
}

#[derive(Deserialize, Default)]
pub struct NoticeQuery {
    pub notice: Option<String>,
}

#[derive(Template)]
#[template(path = "hotline/ticket.html")]
struct TicketPage {
    t: Tr,
    base: Base,
    x: Ticket,
    phone: String,
    history: Vec<TicketEvent>,
    candidates: Vec<Candidate>,
    overdue: bool,
    escalation: u8,
    protocol: String,
    can_write: bool,
    f: FormData,
    errors: FormErrors,
    steps: Options,
    satisfactions: Options,
    outcomes: Options,
    workers: Options,
}

impl TicketPage {
    fn others(&self) -> Vec<String> {
        self.errors.others(&[
            "step",
            "note",
            "assignee",
            "assignee_user_id",
            "due_at",
            "satisfaction",
            "resident_id",
            "outcome",
            "org_id",
            "outcome_ref",
            "duration_minutes",
            "workers",
            "external_state",
        ])
    }
    fn time(&self, at: &i64) -> String {
        local_time(*at)
    }
    fn opt<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or_default()
    }
    fn step_label(&self, s: &str) -> String {
        self.t.get(&format!("ticket.step.{s}")).to_owned()
    }
    fn state_label(&self, s: &Option<String>) -> String {
        s.as_deref()
            .map(|s| self.t.get(&format!("ticket.state.{s}")).to_owned())
            .unwrap_or_default()
    }
}

async fn ticket_page(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    notice: Option<&str>,
    f: FormData,
    errors: Vec<FieldError>,
) -> WebResult<Response> {
    check_id(id)?;
    let u = reader(ctx)?;
    let t = ctx.tr();
    let viewer = crate::people::residents::viewer(state, u);
    let (x, history, candidates) = {
        let mut c = state.db.read().await?;
        let x = tk::get(&mut c, &u.scope(), id).await?;
        let h = tk::history(&mut c, &u.scope(), id).await?;
        let cands = tk::candidates(&mut c, &viewer, id).await?;
        (x, h, cands)
    };
    let (now, rules) = (state.now(), &state.config.hotline);
    let allowed: Vec<&str> = Step::ALL
        .iter()
        .filter(|s| {
            shegong_domain::hotline::next(x.state, **s, Some(Satisfaction::Unsatisfied)).is_ok()
        })
        .map(|s| s.as_str())
        .collect();
    let sats: Vec<&str> = Satisfaction::ALL.iter().map(|s| s.as_str()).collect();
    let outs: Vec<&str> = Outcome::ALL.iter().map(|s| s.as_str()).collect();
    let title = format!(
        "{} · {}",
        t.get("audit.entity.ticket"),
        local_time(x.received_at)
    );
    Ok(page(
        form_status(&errors),
        &TicketPage {
            base: Base::new(
                ctx,
                title.clone(),
                crumbs(&t, "/tickets", "menu.tickets", vec![Crumb::here(title)]),
            )
            .with_notice(&t, notice),
            phone: x
                .phone(&state.keys)
                .map(|p| masked_phone(&p))
                .unwrap_or_default(),
            overdue: x.overdue(now),
            escalation: x.escalation(now, rules.escalation_working_days),
            protocol: if x.category == Category::Crisis {
                rules.crisis_protocol.clone()
            } else {
                String::new()
            },
            x,
            history,
            candidates,
            can_write: u.can(Permission::WriteData),
            f,
            steps: options(&t, "ticket.step", &allowed),
            satisfactions: options(&t, "ticket.satisfaction", &sats),
            outcomes: options(&t, "ticket.outcome", &outs),
            workers: workers(state, ctx).await?,
            errors: FormErrors::new(t, errors),
            t,
        },
    ))
}

pub async fn ticket(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> WebResult<Response> {
    ticket_page(
        &state,
        &ctx,
        &id,
        q.notice.as_deref(),
        FormData::default(),
        vec![],
    )
    .await
}

async fn after_write(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    f: FormData,
    r: WebResult<()>,
) -> WebResult<Response> {
    match r {
        Ok(()) => Ok(Redirect::to(&format!("/tickets/{id}?notice=notice.saved")).into_response()),
        Err(WebError::Invalid(errors)) => ticket_page(state, ctx, id, None, f, errors).await,
        Err(e) => Err(e),
    }
}

pub async fn step_ticket(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let r = match super::step_input(&f) {
        Ok((step, input)) => super::step_ticket(&state, &ctx, &id, step, input).await,
        Err(errors) => Err(WebError::Invalid(errors)),
    };
    after_write(&state, &ctx, &id, f, r).await
}

pub async fn confirm_resident(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let resident = f.get("resident_id").trim().to_owned();
    let r = if resident.is_empty() || resident.len() > 64 {
        Err(WebError::Invalid(vec![FieldError::new(
            "resident_id",
            "ticket.resident_unknown",
        )]))
    } else {
        super::confirm_resident(&state, &ctx, &id, resident).await
    };
    after_write(&state, &ctx, &id, f, r).await
}

pub async fn set_outcome(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let r = match super::outcome_input(&f) {
        Ok(input) => super::set_outcome(&state, &ctx, &id, input).await,
        Err(errors) => Err(WebError::Invalid(errors)),
    };
    after_write(&state, &ctx, &id, f, r).await
}

pub async fn mirror_external(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let s = f.get("external_state").trim().to_owned();
    let r = super::mirror_external(&state, &ctx, &id, s).await;
    after_write(&state, &ctx, &id, f, r).await
}
