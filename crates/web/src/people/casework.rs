//! Casework and services: cases through the MZ/T 094 stages (with supervisor approval,
//! referral and reopening), service records of every kind, the worker's own page (my cases,
//! visits due and overdue, what awaits my approval) and the JSON API for cases and services.

use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use shegong_domain::network::station::ServiceDomain;
use shegong_domain::people::{AssessmentDomain, CaseStage, RiskTier, ServiceKind, VisitMethod};
use shegong_domain::{FieldError, Permission};
use shegong_store::admin::audit::Change;
use shegong_store::people::cases::{self, Actor, Case, OpenCase, PlannedService};
use shegong_store::people::residents::{self, Viewer};
use shegong_store::people::services::{self, Service, ServiceInput};
use shegong_store::{PageRequest, Scope, network::stations};
use utoipa::{IntoParams, ToSchema};

use crate::http::auth::{Ctx, CurrentUser};
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, Crumb, page};
use crate::http::state::AppState;
use crate::http::write::{Done, audited, audited_id};
use crate::network::stations::{reader, writer};
use crate::people::residents::viewer;
use crate::ui::excel::{self, Cell};
use crate::ui::forms::{Check, FormData, format_yuan, today};
use crate::ui::i18n::Tr;
use crate::ui::list::{FormErrors, Pager, pager};

fn actor(u: &CurrentUser) -> Actor {
    Actor {
        user_id: u.user.id.clone(),
        name: u.user.display_name.clone(),
    }
}

fn field_error(t: &Tr, e: &FieldError) -> String {
    format!(
        "{}{}{}",
        t.get(&format!("field.{}", e.field)),
        t.get("punct.colon"),
        t.get(e.code)
    )
}

fn labels<T: Copy>(
    t: &Tr,
    prefix: &str,
    all: &[T],
    code: fn(T) -> &'static str,
) -> Vec<(String, String)> {
    all.iter()
        .map(|v| {
            (
                code(*v).to_owned(),
                t.get(&format!("{prefix}.{}", code(*v))).to_owned(),
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Cases

#[derive(Deserialize, IntoParams, Default, Clone)]
pub struct CaseQuery {
    /// `open` (not closed), `pending` (awaiting a supervisor) or empty for all.
    pub state: Option<String>,
    /// A stage: `intake`, `assessment`, `planning`, `intervention`, `evaluation`, `closed`.
    pub stage: Option<String>,
    /// `me`: cases where the caller is the worker.
    pub mine: Option<String>,
    /// Resident name or problem contains.
    pub q: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

impl CaseQuery {
    fn filter(&self, v: &Viewer) -> cases::Filter {
        let s = |o: &Option<String>| o.clone().filter(|x| !x.is_empty());
        cases::Filter {
            stage: s(&self.stage),
            state: s(&self.state),
            worker: (self.mine.as_deref() == Some("me")).then(|| v.user_id.clone()),
            resident: None,
            q: s(&self.q),
        }
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        let v = |o: &Option<String>| o.clone().unwrap_or_default();
        vec![
            ("state", v(&self.state)),
            ("stage", v(&self.stage)),
            ("mine", v(&self.mine)),
            ("q", v(&self.q)),
        ]
    }
}

pub struct CaseRow {
    pub id: String,
    pub resident_id: String,
    pub resident: String,
    pub problem: String,
    pub stage: String,
    pub pending: String,
    pub worker: String,
    pub opened_on: String,
    pub station: String,
}

fn case_row(t: &Tr, c: &Case) -> CaseRow {
    CaseRow {
        id: c.id.clone(),
        resident_id: c.resident_id.clone(),
        resident: c.resident_name.clone(),
        problem: c.problem.clone(),
        stage: t.get(&format!("case.stage.{}", c.stage)).to_owned(),
        pending: if c.pending.is_empty() {
            String::new()
        } else {
            t.get(&format!("case.pending.{}", c.pending)).to_owned()
        },
        worker: c.worker_name.clone().unwrap_or_default(),
        opened_on: c.opened_on.clone(),
        station: c
            .transfer_station_name
            .clone()
            .or(c.station_name.clone())
            .unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "people/cases/list.html")]
struct CaseListPage {
    t: Tr,
    base: Base,
    rows: Vec<CaseRow>,
    incoming: Vec<CaseRow>,
    pager: Pager,
    q: CaseQuery,
    stages: Vec<(String, String)>,
}

pub async fn list_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<CaseQuery>,
) -> WebResult<Response> {
    let u = reader(&ctx)?;
    let t = ctx.tr();
    let v = viewer(&state, u);
    let (data, incoming) = {
        let mut c = state.db.read().await?;
        (
            cases::list(
                &mut c,
                &v,
                &q.filter(&v),
                PageRequest::new(q.page, q.per_page),
            )
            .await?,
            cases::incoming(&mut c, &v).await?,
        )
    };
    let title = t.get("menu.cases");
    Ok(page(
        StatusCode::OK,
        &CaseListPage {
            base: Base::new(&ctx, title, vec![Crumb::here(title)]),
            rows: data.items.iter().map(|c| case_row(&t, c)).collect(),
            incoming: incoming.iter().map(|c| case_row(&t, c)).collect(),
            pager: pager(&t, &data, "/cases", &q.pairs()),
            stages: labels(&t, "case.stage", CaseStage::ALL, CaseStage::as_str),
            q,
            t,
        },
    ))
}

pub async fn open(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(resident): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    let u = writer(&ctx)?;
    let v = viewer(&state, u);
    let input = OpenCase {
        resident_id: resident.clone(),
        station_id: None,
        worker_user_id: Some(f.get("worker").to_owned()).filter(|s| !s.is_empty()),
        supervisor_user_id: Some(f.get("supervisor").to_owned()).filter(|s| !s.is_empty()),
        problem: f.get("problem").trim().chars().take(500).collect(),
        opened_on: today(state.now()),
    };
    let key = match form_key(&f) {
        Ok(k) => k,
        Err(e) => {
            return Ok(
                Redirect::to(&format!("/residents/{resident}?notice={}", e.code)).into_response(),
            );
        }
    };
    match open_case(&state, &ctx, v, input, key).await {
        Ok(id) => Ok(Redirect::to(&format!("/cases/{id}?notice=notice.saved")).into_response()),
        Err(WebError::Invalid(e)) => {
            let msg = e.first().map(|e| e.code).unwrap_or("error.invalid");
            Ok(Redirect::to(&format!("/residents/{resident}?notice={msg}")).into_response())
        }
        Err(e) => Err(e),
    }
}

/// The hidden per-form creation key, when the form carries one.
fn form_key(f: &FormData) -> Result<Option<String>, FieldError> {
    Some(f.get("idempotency_key"))
        .filter(|k| !k.trim().is_empty())
        .map(residents::parse_key)
        .transpose()
}

/// A key seen before answers with the first record; otherwise it is claimed inside the
/// creating transaction (`claim_key`), where a concurrent twin is refused on the field.
async fn replayed(
    state: &AppState,
    user_id: &str,
    key: Option<&str>,
    entity: &str,
) -> WebResult<Option<String>> {
    let Some(k) = key else { return Ok(None) };
    let mut c = state.db.read().await?;
    Ok(residents::find_key(&mut c, user_id, k, entity, state.now()).await?)
}

async fn claim(
    conn: &mut shegong_store::Conn,
    user_id: &str,
    key: Option<&str>,
    entity: &str,
    now: i64,
) -> shegong_store::StoreResult<()> {
    if let Some(k) = key
        && residents::claim_key(conn, user_id, k, entity, now).await? != residents::Claim::New
    {
        return Err(FieldError::new("idempotency_key", "idempotency.key_reused").into());
    }
    Ok(())
}

async fn open_case(
    state: &AppState,
    ctx: &Ctx,
    v: Viewer,
    input: OpenCase,
    key: Option<String>,
) -> WebResult<String> {
    let u = writer(ctx)?;
    if let Some(id) = replayed(state, &u.user.id, key.as_deref(), "case").await? {
        return Ok(id);
    }
    let (app, who, now) = (state.clone(), actor(u), state.now());
    let uid = u.user.id.clone();
    let done = audited_id(state, ctx, "case", "open", move |conn, _, _| {
        Box::pin(async move {
            claim(conn, &uid, key.as_deref(), "case", now).await?;
            let id = cases::open(conn, &v, &app.keys, &input, &who, now).await?;
            if let Some(k) = &key {
                residents::settle_key(conn, &uid, k, &id).await?;
            }
            let c = cases::get(conn, &v, &id).await?;
            Ok(Done {
                entity_id: id,
                region: Some(c.region_code),
                changes: vec![Change::new(
                    "resident",
                    None::<String>,
                    Some(input.resident_id.clone()),
                )],
            })
        })
    })
    .await?;
    Ok(done?)
}

/// One line of the case history: when, what, who, and the record's label/value lines.
type EventRow = (String, String, String, Vec<(String, String)>);

#[derive(Template)]
#[template(path = "people/cases/detail.html")]
struct CaseDetailPage {
    t: Tr,
    base: Base,
    c: Case,
    row: CaseRow,
    stages: Vec<(String, String, &'static str)>,
    events: Vec<EventRow>,
    services: Vec<(String, String, String, String)>,
    domains: Vec<(String, String)>,
    tiers: Vec<(String, String)>,
    kinds: Vec<(String, String)>,
    stations: Vec<(String, String)>,
    workers: Vec<(String, String)>,
    can_write: bool,
    can_approve: bool,
    is_incoming: bool,
    error: Option<String>,
}

impl CaseDetailPage {
    fn stage_is(&self, s: &str) -> bool {
        self.c.stage == s
    }

    /// A plan can be (re)submitted after assessment, and revised during intervention.
    fn can_plan(&self) -> bool {
        matches!(
            self.c.stage.as_str(),
            "assessment" | "planning" | "intervention"
        ) && self.c.pending.is_empty()
    }
}

/// The event body as label/value lines for the timeline.
fn body_lines(t: &Tr, body: &serde_json::Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let Some(map) = body.as_object() else {
        return out;
    };
    for (k, v) in map {
        match (k.as_str(), v) {
            ("scores", serde_json::Value::Object(scores)) => {
                let line = scores
                    .iter()
                    .map(|(d, s)| format!("{} {}", t.get(&format!("assessment.domain.{d}")), s))
                    .collect::<Vec<_>>()
                    .join("，");
                out.push((t.get("assessment.scores").to_owned(), line));
            }
            ("services", serde_json::Value::Array(items)) => {
                let line = items
                    .iter()
                    .map(|i| {
                        let kind = i["kind"].as_str().unwrap_or("");
                        t.fmt(
                            "case.per_month",
                            &[
                                ("kind", t.get(&format!("service.kind.{kind}"))),
                                ("n", &i["per_month"].to_string()),
                            ],
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("；");
                out.push((t.get("case.planned_services").to_owned(), line));
            }
            ("risk", serde_json::Value::String(r)) => out.push((
                t.get("case.risk_level").to_owned(),
                t.get(&format!("resident.tier.{r}")).to_owned(),
            )),
            ("station_id", _) => {}
            (k, serde_json::Value::String(s)) if !s.is_empty() => {
                out.push((t.get(&format!("case.body.{k}")).to_owned(), s.clone()))
            }
            (k, serde_json::Value::Number(n)) => {
                out.push((t.get(&format!("case.body.{k}")).to_owned(), n.to_string()))
            }
            _ => {}
        }
    }
    out
}

async fn case_detail(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    notice: Option<&str>,
    error: Option<FieldError>,
) -> WebResult<Response> {
    let u = reader(ctx)?;
    let t = ctx.tr();
    let v = viewer(state, u);
    let mut conn = state.db.read().await?;
    let (c, is_incoming) = match cases::get(&mut conn, &v, id).await {
        Ok(c) => (c, false),
        Err(shegong_store::StoreError::NotFound) => {
            let c = cases::incoming(&mut conn, &v)
                .await?
                .into_iter()
                .find(|c| c.id == id)
                .ok_or(WebError::NotFound)?;
            (c, true)
        }
        Err(e) => return Err(e.into()),
    };
    let events = if is_incoming {
        vec![]
    } else {
        cases::events(&mut conn, &v, &state.keys, id).await?
    };
    let services = if is_incoming {
        vec![]
    } else {
        services::list(
            &mut conn,
            &v,
            &services::Filter {
                case_id: Some(id.to_owned()),
                ..Default::default()
            },
            PageRequest::new(Some(1), Some(100)),
        )
        .await?
        .items
    };
    // Referral targets: stations in the caller's city (or own scope when wider).
    let area = match u.scope().region {
        Some(r) if r.as_str().len() > 4 => Scope::region(
            shegong_domain::RegionCode::parse(&r.as_str()[..4]).expect("prefix of a code"),
        ),
        _ => u.scope(),
    };
    let stations = stations::list(
        &mut conn,
        &area,
        &stations::Filter::default(),
        PageRequest {
            page: 1,
            per_page: 2000,
        },
    )
    .await?
    .items
    .into_iter()
    .filter(|s| c.station_id.as_deref() != Some(s.id.as_str()))
    .map(|s| (s.id, s.name))
    .collect();
    let workers = residents::workers(&mut conn, &u.scope())
        .await?
        .into_iter()
        .map(|(id, name, _)| (id, name))
        .collect();
    drop(conn);
    let current = CaseStage::ALL
        .iter()
        .position(|s| s.as_str() == c.stage)
        .unwrap_or(0);
    Ok(page(
        if error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        &CaseDetailPage {
            base: Base::new(
                ctx,
                format!("{} · {}", c.resident_name, t.get("case.title")),
                vec![
                    Crumb::link(t.get("menu.cases"), "/cases"),
                    Crumb::link(
                        c.resident_name.clone(),
                        format!("/residents/{}", c.resident_id),
                    ),
                    Crumb::here(t.get("case.title")),
                ],
            )
            .with_notice(&t, notice),
            row: case_row(&t, &c),
            stages: CaseStage::ALL
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let class = match i.cmp(&current) {
                        std::cmp::Ordering::Less => "done",
                        std::cmp::Ordering::Equal => "current",
                        std::cmp::Ordering::Greater => "",
                    };
                    (
                        s.as_str().to_owned(),
                        t.get(&format!("case.stage.{}", s.as_str())).to_owned(),
                        class,
                    )
                })
                .collect(),
            events: events
                .into_iter()
                .map(|e| {
                    (
                        t.datetime(e.at),
                        t.get(&format!("case.event.{}", e.kind)).to_owned(),
                        e.actor_name,
                        body_lines(&t, &e.body),
                    )
                })
                .collect(),
            services: services
                .into_iter()
                .map(|s| {
                    (
                        s.id,
                        s.served_on,
                        t.get(&format!("service.kind.{}", s.kind)).to_owned(),
                        s.workers,
                    )
                })
                .collect(),
            domains: labels(
                &t,
                "assessment.domain",
                AssessmentDomain::ALL,
                AssessmentDomain::as_str,
            ),
            tiers: labels(&t, "resident.tier", RiskTier::ALL, RiskTier::as_str),
            kinds: labels(&t, "service.kind", ServiceKind::ALL, ServiceKind::as_str),
            stations,
            workers,
            can_write: u.can(Permission::WriteData) && !is_incoming,
            can_approve: u.can(Permission::ApproveCases)
                && c.worker_user_id.as_deref() != Some(u.user.id.as_str()),
            is_incoming,
            error: error.as_ref().map(|e| field_error(&t, e)),
            c,
            t,
        },
    ))
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    notice: Option<String>,
}

pub async fn detail_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> WebResult<Response> {
    case_detail(&state, &ctx, &id, q.notice.as_deref(), None).await
}

/// What a step form asks the store to do.
enum Step {
    Assess(Vec<(AssessmentDomain, i64)>, RiskTier, String),
    Plan(String, Vec<PlannedService>),
    Decide(bool, String),
    Evaluate(i64, String),
    Close(String),
    Reopen(String),
    Refer(String, String),
    Answer(bool, Option<String>, String),
}

fn parse_step(step: &str, f: &FormData) -> Result<Step, FieldError> {
    let mut c = Check::default();
    let out = match step {
        "assess" => {
            let scores = AssessmentDomain::ALL
                .iter()
                .map(|d| {
                    (
                        *d,
                        c.int("scores", f.get(&format!("score_{}", d.as_str())), 0, 3, -1),
                    )
                })
                .collect();
            let tier = c.take(RiskTier::parse(f.get("risk")));
            Step::Assess(
                scores,
                tier.unwrap_or(RiskTier::General),
                c.opt_text("notes", f.get("notes"), 2000),
            )
        }
        "plan" => {
            let goals = c.opt_text("goals", f.get("goals"), 2000);
            let kinds = f.all("service_kind");
            let counts = f.all("per_month");
            let mut planned = Vec::new();
            for (k, n) in kinds.iter().zip(counts.iter()) {
                if k.is_empty() || n.is_empty() {
                    continue;
                }
                if let Some(kind) = c.take(ServiceKind::parse(k)) {
                    planned.push(PlannedService {
                        kind: kind.as_str().to_owned(),
                        per_month: c.int("services", n, 1, 60, 1),
                    });
                }
            }
            Step::Plan(goals, planned)
        }
        "decide" => Step::Decide(
            f.get("decision") == "approve",
            c.opt_text("comment", f.get("comment"), 500),
        ),
        "evaluate" => Step::Evaluate(
            c.int("goals_met", f.get("goals_met"), 0, 100, 0),
            c.opt_text("summary", f.get("summary"), 2000),
        ),
        "close" => Step::Close(c.opt_text("outcome", f.get("outcome"), 500)),
        "reopen" => Step::Reopen(c.opt_text("reason", f.get("reason"), 500)),
        "refer" => Step::Refer(
            f.get("station").to_owned(),
            c.opt_text("reason", f.get("reason"), 500),
        ),
        "answer" => Step::Answer(
            f.get("decision") == "accept",
            Some(f.get("worker").to_owned()).filter(|s| !s.is_empty()),
            c.opt_text("reason", f.get("reason"), 500),
        ),
        _ => return Err(FieldError::new("stage", "case.wrong_stage")),
    };
    c.finish().map_err(|e| e[0].clone())?;
    Ok(out)
}

async fn run_step(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    step: Step,
) -> WebResult<Option<FieldError>> {
    let u = ctx.user()?;
    match &step {
        Step::Decide(..) => u.require(Permission::ApproveCases)?,
        _ => u.require(Permission::WriteData)?,
    }
    let v = viewer(state, u);
    let (app, who, now, day) = (state.clone(), actor(u), state.now(), today(state.now()));
    let cid = id.to_owned();
    let action = match &step {
        Step::Assess(..) => "assess",
        Step::Plan(..) => "plan",
        Step::Decide(true, _) => "approve",
        Step::Decide(false, _) => "return",
        Step::Evaluate(..) => "evaluate",
        Step::Close(..) => "request_closure",
        Step::Reopen(..) => "reopen",
        Step::Refer(..) => "refer",
        Step::Answer(true, ..) => "accept_referral",
        Step::Answer(false, ..) => "decline_referral",
    };
    audited(state, ctx, "case", action, move |conn, _, _| {
        Box::pin(async move {
            let before = match step {
                Step::Assess(scores, tier, notes) => {
                    cases::assess(conn, &v, &app.keys, &cid, &scores, tier, &notes, &who, now)
                        .await?
                }
                Step::Plan(goals, planned) => {
                    cases::submit_plan(conn, &v, &app.keys, &cid, &goals, &planned, &who, now)
                        .await?
                }
                Step::Decide(ok, comment) => {
                    cases::decide(conn, &v, &app.keys, &cid, ok, &comment, &who, &day, now).await?
                }
                Step::Evaluate(pct, summary) => {
                    cases::evaluate(conn, &v, &app.keys, &cid, pct, &summary, &who, now).await?
                }
                Step::Close(outcome) => {
                    cases::request_closure(conn, &v, &app.keys, &cid, &outcome, &who, now).await?
                }
                Step::Reopen(reason) => {
                    cases::reopen(conn, &v, &app.keys, &cid, &reason, &who, now).await?
                }
                Step::Refer(station, reason) => {
                    cases::refer(conn, &v, &app.keys, &cid, &station, &reason, &who, now).await?
                }
                Step::Answer(ok, worker, reason) => {
                    cases::answer_referral(
                        conn,
                        &v,
                        &app.keys,
                        &cid,
                        ok,
                        worker.as_deref(),
                        &reason,
                        &who,
                        now,
                    )
                    .await?
                }
            };
            // The case as it is now, for the stage change in the entry (an accepted referral has
            // moved out of the old scope, so read it unscoped by id).
            let after: (String, String) =
                shegong_store::sql::Sql::new("SELECT stage, pending FROM cases WHERE id = ")
                    .bind(cid.clone())
                    .fetch_one(conn)
                    .await?;
            Ok(Done {
                entity_id: cid,
                region: Some(before.region_code),
                changes: vec![
                    Change::new("stage", Some(before.stage), Some(after.0)),
                    Change::new("pending", Some(before.pending), Some(after.1)),
                ],
            })
        })
    })
    .await
}

pub async fn step(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, step)): Path<(String, String)>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    let parsed = match parse_step(&step, &f) {
        Ok(s) => s,
        Err(e) => return case_detail(&state, &ctx, &id, None, Some(e)).await,
    };
    let accepted_elsewhere = matches!(parsed, Step::Answer(..));
    match run_step(&state, &ctx, &id, parsed).await? {
        None if accepted_elsewhere => Ok(Redirect::to("/cases?state=open").into_response()),
        None => Ok(Redirect::to(&format!("/cases/{id}?notice=notice.saved")).into_response()),
        Some(e) => case_detail(&state, &ctx, &id, None, Some(e)).await,
    }
}

// ---------------------------------------------------------------------------------------------
// Services

#[derive(Deserialize, IntoParams, Default, Clone)]
pub struct ServiceQuery {
    /// `casework`, `group`, `community`, `visit`, `resource_linking`, `policy_publicity`,
    /// `psychological` or `crisis`.
    pub kind: Option<String>,
    /// A service domain: `social_assistance`, `elderly`, `children`, `disability`,
    /// `community_governance`, `social_affairs`.
    pub domain: Option<String>,
    /// Records about (or attended by) this resident.
    pub resident: Option<String>,
    /// From date (`YYYY-MM-DD`), inclusive.
    pub from: Option<String>,
    /// To date (`YYYY-MM-DD`), inclusive.
    pub to: Option<String>,
    /// Title, worker or resident name contains.
    pub q: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    #[serde(default)]
    #[param(ignore)]
    pub notice: Option<String>,
}

impl ServiceQuery {
    fn filter(&self) -> services::Filter {
        let s = |o: &Option<String>| o.clone().filter(|x| !x.is_empty());
        services::Filter {
            kind: s(&self.kind),
            domain: s(&self.domain),
            resident: s(&self.resident),
            case_id: None,
            from: s(&self.from),
            to: s(&self.to),
            q: s(&self.q),
        }
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        let v = |o: &Option<String>| o.clone().unwrap_or_default();
        vec![
            ("kind", v(&self.kind)),
            ("domain", v(&self.domain)),
            ("resident", v(&self.resident)),
            ("from", v(&self.from)),
            ("to", v(&self.to)),
            ("q", v(&self.q)),
        ]
    }
}

pub struct ServiceRow {
    pub id: String,
    pub served_on: String,
    pub kind: String,
    pub domain: String,
    pub title: String,
    pub resident_id: Option<String>,
    pub resident: String,
    pub method: String,
    pub minutes: i64,
    pub person_times: i64,
    pub value: String,
    pub workers: String,
    pub region: String,
}

fn service_row(t: &Tr, s: &Service) -> ServiceRow {
    ServiceRow {
        id: s.id.clone(),
        served_on: s.served_on.clone(),
        kind: t.get(&format!("service.kind.{}", s.kind)).to_owned(),
        domain: t.get(&format!("service.domain.{}", s.domain)).to_owned(),
        title: s.title.clone(),
        resident_id: s.resident_id.clone(),
        resident: s.resident_name.clone().unwrap_or_default(),
        method: s
            .method
            .as_deref()
            .map(|m| t.get(&format!("visit.method.{m}")).to_owned())
            .unwrap_or_default(),
        minutes: s.duration_minutes,
        person_times: s.person_times,
        value: if s.value_fen > 0 {
            format_yuan(s.value_fen)
        } else {
            String::new()
        },
        workers: s.workers.clone(),
        region: shegong_domain::network::region::display_path(s.region_path.split('/').skip(2)),
    }
}

#[derive(Template)]
#[template(path = "people/services/list.html")]
struct ServiceListPage {
    t: Tr,
    base: Base,
    rows: Vec<ServiceRow>,
    totals: Vec<(String, i64, i64, i64, String)>,
    pager: Pager,
    q: ServiceQuery,
    kinds: Vec<(String, String)>,
    domains: Vec<(String, String)>,
    export_href: String,
    can_write: bool,
    can_export: bool,
}

pub async fn services_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ServiceQuery>,
) -> WebResult<Response> {
    let u = reader(&ctx)?;
    let t = ctx.tr();
    let v = viewer(&state, u);
    let from = q
        .from
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| format!("{}-01-01", &v.today.to_string()[..4]));
    let to =
        q.to.clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| v.today.to_string());
    let (data, totals) = {
        let mut c = state.db.read().await?;
        (
            services::list(
                &mut c,
                &v,
                &q.filter(),
                PageRequest::new(q.page, q.per_page),
            )
            .await?,
            // Whole months of the period, from the maintained counters of the caller's region.
            shegong_store::statistics::counters::read(
                &mut c,
                shegong_store::statistics::counters::Regions::One(v.scope.prefix()),
                "kind",
                from.get(..7).unwrap_or_default(),
                to.get(..7).unwrap_or_default(),
            )
            .await?,
        )
    };
    let pairs = q.pairs();
    let title = t.get("menu.services");
    Ok(page(
        StatusCode::OK,
        &ServiceListPage {
            base: Base::new(&ctx, title, vec![Crumb::here(title)])
                .with_notice(&t, q.notice.as_deref()),
            rows: data.items.iter().map(|s| service_row(&t, s)).collect(),
            totals: {
                let mut by_kind: std::collections::BTreeMap<
                    String,
                    shegong_store::statistics::counters::Row,
                > = Default::default();
                for r in totals {
                    let e = by_kind.entry(r.key.clone()).or_insert(
                        shegong_store::statistics::counters::Row {
                            n: 0,
                            person_times: 0,
                            minutes: 0,
                            value_fen: 0,
                            ..r.clone()
                        },
                    );
                    e.n += r.n;
                    e.person_times += r.person_times;
                    e.minutes += r.minutes;
                    e.value_fen += r.value_fen;
                }
                by_kind
                    .into_values()
                    .map(|k| {
                        (
                            t.get(&format!("service.kind.{}", k.key)).to_owned(),
                            k.n,
                            k.person_times,
                            k.minutes / 60,
                            format_yuan(k.value_fen),
                        )
                    })
                    .collect()
            },
            pager: pager(&t, &data, "/services", &pairs),
            export_href: format!(
                "/services/export.xlsx?{}",
                serde_urlencoded::to_string(&pairs).unwrap_or_default()
            ),
            kinds: labels(&t, "service.kind", ServiceKind::ALL, ServiceKind::as_str),
            domains: labels(
                &t,
                "service.domain",
                ServiceDomain::ALL,
                ServiceDomain::as_str,
            ),
            can_write: u.can(Permission::WriteData),
            can_export: u.can(Permission::Export),
            q,
            t,
        },
    ))
}

pub async fn services_export(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ServiceQuery>,
) -> WebResult<Response> {
    let u = ctx.user()?;
    u.require(Permission::Export)?;
    let t = ctx.tr();
    let v = viewer(&state, u);
    let list = {
        let mut c = state.db.read().await?;
        services::list_all(&mut c, &v, &q.filter(), excel::MAX_ROWS).await?
    };
    let headers = [
        "service.served_on",
        "service.kind_label",
        "service.domain_label",
        "service.title",
        "service.resident",
        "visit.method_label",
        "service.minutes",
        "service.person_times",
        "service.value",
        "service.workers",
        "resident.region",
    ]
    .map(|k| t.get(k));
    let rows: Vec<Vec<Cell>> = list
        .iter()
        .map(|s| {
            let r = service_row(&t, s);
            vec![
                r.served_on.into(),
                r.kind.into(),
                r.domain.into(),
                r.title.into(),
                r.resident.into(),
                r.method.into(),
                r.minutes.into(),
                r.person_times.into(),
                r.value.into(),
                r.workers.into(),
                r.region.into(),
            ]
        })
        .collect();
    // Notes are never exported: they are read on the record's own page.
    excel::send(
        &state,
        &ctx,
        "services",
        "menu.services",
        &headers,
        &rows,
        vec![Change::new("notes", None::<String>, Some("omitted"))],
    )
    .await
}

#[derive(Template)]
#[template(path = "people/services/form.html")]
struct ServiceFormPage {
    t: Tr,
    base: Base,
    f: FormData,
    errors: FormErrors,
    resident: Option<(String, String)>,
    case_id: String,
    kinds: Vec<(String, String)>,
    domains: Vec<(String, String)>,
    methods: Vec<(String, String)>,
    stations: Vec<(String, String)>,
    participants: Vec<(String, String)>,
}

impl ServiceFormPage {
    fn selects(&self) -> [crate::people::residents::Select<'_>; 3] {
        [
            ("kind", "service.kind_label", &self.kinds),
            ("domain", "service.domain_label", &self.domains),
            ("method", "visit.method_label", &self.methods),
        ]
    }

    /// Errors about fields the form has no row for.
    fn other_errors(&self) -> Vec<String> {
        self.errors.others(&[
            "kind",
            "domain",
            "served_on",
            "started_at",
            "duration_minutes",
            "person_times",
            "method",
            "location",
            "value",
            "workers",
            "title",
            "notes",
        ])
    }
}

#[derive(Deserialize, Default)]
pub struct NewServiceQuery {
    resident: Option<String>,
    case: Option<String>,
    kind: Option<String>,
}

async fn service_form(
    state: &AppState,
    ctx: &Ctx,
    f: FormData,
    errors: Vec<FieldError>,
) -> WebResult<Response> {
    let u = writer(ctx)?;
    let t = ctx.tr();
    let v = viewer(state, u);
    let mut c = state.db.read().await?;
    let resident = match f.get("resident") {
        "" => None,
        rid => Some(residents::get(&mut c, &v, rid).await?).map(|r| (r.id, r.name)),
    };
    let stations = stations::list(
        &mut c,
        &v.scope,
        &stations::Filter::default(),
        PageRequest {
            page: 1,
            per_page: 5000,
        },
    )
    .await?
    .items
    .into_iter()
    .map(|s| (s.id, s.name))
    .collect();
    let participants = if resident.is_none() {
        residents::list(
            &mut c,
            &v,
            &residents::Filter::default(),
            PageRequest::new(Some(1), Some(200)),
        )
        .await?
        .items
        .into_iter()
        .map(|r| (r.id, format!("{}（{}）", r.name, r.birth_date)))
        .collect()
    } else {
        vec![]
    };
    drop(c);
    let title = t.get("service.record");
    let mut crumbs = vec![Crumb::link(t.get("menu.services"), "/services")];
    if let Some((id, name)) = &resident {
        crumbs.push(Crumb::link(name.clone(), format!("/residents/{id}")));
    }
    crumbs.push(Crumb::here(title));
    Ok(page(
        if errors.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        },
        &ServiceFormPage {
            base: Base::new(ctx, title, crumbs),
            case_id: f.get("case").to_owned(),
            f,
            errors: FormErrors::new(t, errors),
            resident,
            kinds: labels(&t, "service.kind", ServiceKind::ALL, ServiceKind::as_str),
            domains: labels(
                &t,
                "service.domain",
                ServiceDomain::ALL,
                ServiceDomain::as_str,
            ),
            methods: labels(&t, "visit.method", VisitMethod::ALL, VisitMethod::as_str),
            stations,
            participants,
            t,
        },
    ))
}

pub async fn new_service(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NewServiceQuery>,
) -> WebResult<Response> {
    let u = writer(&ctx)?;
    let f = FormData::new(vec![
        ("resident".into(), q.resident.unwrap_or_default()),
        ("case".into(), q.case.unwrap_or_default()),
        ("kind".into(), q.kind.unwrap_or_else(|| "casework".into())),
        ("domain".into(), "social_assistance".into()),
        ("method".into(), "home".into()),
        ("served_on".into(), today(state.now())),
        ("duration_minutes".into(), "30".into()),
        ("person_times".into(), "1".into()),
        ("workers".into(), u.user.display_name.clone()),
        // A repeated submission returns the first record instead of a second one.
        ("idempotency_key".into(), uuid::Uuid::now_v7().to_string()),
    ]);
    service_form(&state, &ctx, f, vec![]).await
}

/// Parse a service form (or API body in the same shape).
pub fn parse_service(f: &FormData) -> Result<ServiceInput, Vec<FieldError>> {
    let mut c = Check::default();
    let kind = c.take(ServiceKind::parse(f.get("kind")));
    let domain = c.take(ServiceDomain::parse(f.get("domain")));
    let served_on = c.date("served_on", f.get("served_on"));
    let started_at = match f.get("started_at").trim() {
        "" => None,
        v if v.len() == 5 && chrono::NaiveTime::parse_from_str(v, "%H:%M").is_ok() => {
            Some(v.to_owned())
        }
        _ => {
            c.fail("started_at", "service.time_invalid");
            None
        }
    };
    let duration = c.int("duration_minutes", f.get("duration_minutes"), 1, 1440, 0);
    if f.get("duration_minutes").is_empty() {
        c.fail("duration_minutes", "form.required");
    }
    let person_times = c.int("person_times", f.get("person_times"), 1, 100_000, 1);
    let value_fen = match f.get("value").trim() {
        "" => 0,
        v => c.yuan("value", v),
    };
    let workers = c.text("workers", f.get("workers").trim(), 200);
    let title = c.opt_text("title", f.get("title").trim(), 100);
    let location = c.opt_text("location", f.get("location").trim(), 200);
    let notes = c.opt_text("notes", f.get("notes").trim(), 5000);
    let method = match (kind, f.get("method")) {
        (Some(ServiceKind::Visit), m) => {
            c.take(VisitMethod::parse(m)).map(|m| m.as_str().to_owned())
        }
        _ => None,
    };
    c.finish()?;
    let o = |k: &str| Some(f.get(k).to_owned()).filter(|s| !s.is_empty());
    Ok(ServiceInput {
        kind: kind.expect("checked").as_str().to_owned(),
        domain: domain.expect("checked").as_str().to_owned(),
        station_id: o("station"),
        resident_id: o("resident"),
        case_id: o("case"),
        participants: f.all("participants"),
        title,
        served_on,
        started_at,
        duration_minutes: duration,
        person_times,
        method,
        location,
        value_fen,
        workers,
        notes,
        sensitive: f.has("sensitive", "1"),
    })
}

/// Record with audit (form, API).
pub async fn record_service(
    state: &AppState,
    ctx: &Ctx,
    input: ServiceInput,
    key: Option<String>,
) -> WebResult<Result<String, FieldError>> {
    let u = writer(ctx)?;
    if let Some(id) = replayed(state, &u.user.id, key.as_deref(), "service").await? {
        return Ok(Ok(id));
    }
    let v = viewer(state, u);
    let (app, now, by) = (state.clone(), state.now(), u.user.username.clone());
    let uid = u.user.id.clone();
    audited_id(state, ctx, "service", "create", move |conn, _, _| {
        Box::pin(async move {
            claim(conn, &uid, key.as_deref(), "service", now).await?;
            let id = services::create(conn, &v, &app.keys, &input, &by, now).await?;
            if let Some(k) = &key {
                residents::settle_key(conn, &uid, k, &id).await?;
            }
            let s = services::get(conn, &v, &id).await?;
            Ok(Done {
                entity_id: id,
                region: Some(s.region_code),
                changes: audit_changes(&input),
            })
        })
    })
    .await
}

fn audit_changes(i: &ServiceInput) -> Vec<Change> {
    let mut c = vec![
        Change::new("kind", None::<String>, Some(i.kind.clone())),
        Change::new("served_on", None::<String>, Some(i.served_on.clone())),
        Change::new("resident", None::<String>, i.resident_id.clone()),
    ];
    if !i.notes.is_empty() {
        c.push(Change::redacted("notes"));
    }
    c
}

pub async fn create_service(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    let input = match parse_service(&f) {
        Ok(i) => i,
        Err(errors) => return service_form(&state, &ctx, f, errors).await,
    };
    let back = input
        .case_id
        .clone()
        .map(|c| format!("/cases/{c}"))
        .or(input.resident_id.clone().map(|r| format!("/residents/{r}")));
    let key = match form_key(&f) {
        Ok(k) => k,
        Err(e) => return service_form(&state, &ctx, f, vec![e]).await,
    };
    match record_service(&state, &ctx, input, key).await? {
        Ok(id) => Ok(Redirect::to(&format!(
            "{}?notice=notice.saved",
            back.unwrap_or(format!("/services/{id}"))
        ))
        .into_response()),
        Err(e) => service_form(&state, &ctx, f, vec![e]).await,
    }
}

#[derive(Template)]
#[template(path = "people/services/detail.html")]
struct ServiceDetailPage {
    t: Tr,
    base: Base,
    can_write: bool,
    value_input: String,
    error: Option<String>,
    s: Service,
    row: ServiceRow,
    notes: String,
    participants: Vec<(String, String)>,
}

pub async fn service_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> WebResult<Response> {
    service_render(&state, &ctx, &id, q.notice.as_deref(), None).await
}

async fn service_detail(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    error: Option<FieldError>,
) -> WebResult<Response> {
    service_render(state, ctx, id, None, error).await
}

async fn service_render(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    notice: Option<&str>,
    error: Option<FieldError>,
) -> WebResult<Response> {
    let u = reader(ctx)?;
    let t = ctx.tr();
    let v = viewer(state, u);
    let (s, participants) = {
        let mut c = state.db.read().await?;
        (
            services::get(&mut c, &v, id).await?,
            services::participants(&mut c, &v, id).await?,
        )
    };
    let notes = s
        .notes_sealed
        .as_deref()
        .and_then(|n| state.keys.open(services::NOTES_FIELD, n).ok())
        .unwrap_or_default();
    let title = format!(
        "{} · {}",
        t.get(&format!("service.kind.{}", s.kind)),
        s.served_on
    );
    Ok(page(
        if error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        &ServiceDetailPage {
            base: Base::new(
                ctx,
                title.clone(),
                vec![
                    Crumb::link(t.get("menu.services"), "/services"),
                    Crumb::here(title),
                ],
            )
            .with_notice(&t, notice),
            can_write: u.can(Permission::WriteData),
            value_input: if s.value_fen > 0 {
                format_yuan(s.value_fen).replace(',', "")
            } else {
                String::new()
            },
            error: error.as_ref().map(|e| field_error(&t, e)),
            row: service_row(&t, &s),
            notes,
            participants,
            s,
            t,
        },
    ))
}

/// Correct the date and figures of a record (audited with before and after).
pub async fn correct_service(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    let u = writer(&ctx)?;
    let mut c = Check::default();
    let correction = services::Correction {
        served_on: c.date("served_on", f.get("served_on")),
        duration_minutes: c.int("duration_minutes", f.get("duration_minutes"), 1, 1440, 1),
        person_times: c.int("person_times", f.get("person_times"), 1, 100_000, 1),
        value_fen: match f.get("value").trim() {
            "" => 0,
            v => c.yuan("value", v),
        },
    };
    if let Err(e) = c.finish() {
        return service_detail(&state, &ctx, &id, e.into_iter().next()).await;
    }
    let v = viewer(&state, u);
    let sid = id.clone();
    let failed = audited(&state, &ctx, "service", "correct", move |conn, _, _| {
        Box::pin(async move {
            let before = services::correct(conn, &v, &sid, &correction).await?;
            Ok(Done {
                entity_id: sid,
                region: Some(before.region_code),
                changes: shegong_store::admin::audit::diff(&[
                    (
                        "served_on",
                        Some(before.served_on),
                        Some(correction.served_on.clone()),
                    ),
                    (
                        "duration_minutes",
                        Some(before.duration_minutes.to_string()),
                        Some(correction.duration_minutes.to_string()),
                    ),
                    (
                        "person_times",
                        Some(before.person_times.to_string()),
                        Some(correction.person_times.to_string()),
                    ),
                    (
                        "value",
                        Some(format_yuan(before.value_fen)),
                        Some(format_yuan(correction.value_fen)),
                    ),
                ]),
            })
        })
    })
    .await?;
    match failed {
        None => Ok(Redirect::to(&format!("/services/{id}?notice=notice.saved")).into_response()),
        Some(e) => service_detail(&state, &ctx, &id, Some(e)).await,
    }
}

/// Delete a record entered by mistake (audited with what it was).
pub async fn delete_service(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let u = writer(&ctx)?;
    let v = viewer(&state, u);
    let sid = id.clone();
    let failed = audited(&state, &ctx, "service", "delete", move |conn, _, _| {
        Box::pin(async move {
            let s = services::delete(conn, &v, &sid).await?;
            Ok(Done {
                entity_id: sid,
                region: Some(s.region_code),
                changes: vec![
                    Change::new("kind", Some(s.kind), None::<String>),
                    Change::new("served_on", Some(s.served_on), None::<String>),
                    Change::new("resident", s.resident_id, None::<String>),
                ],
            })
        })
    })
    .await?;
    match failed {
        None => Ok(Redirect::to("/services?notice=notice.deleted").into_response()),
        Some(e) => service_detail(&state, &ctx, &id, Some(e)).await,
    }
}

// ---------------------------------------------------------------------------------------------
// My work

#[derive(Template)]
#[template(path = "people/cases/mine.html")]
struct MinePage {
    t: Tr,
    base: Base,
    counts: residents::DueCounts,
    due: Vec<(String, String, String, String, bool)>,
    cases: Vec<CaseRow>,
    pending: Vec<CaseRow>,
    rate: Option<(i64, i64, String)>,
}

/// The worker's page: visits overdue and due this week, my open cases, approvals waiting.
pub async fn mine(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let u = reader(&ctx)?;
    let t = ctx.tr();
    let v = viewer(&state, u);
    let worker = (u.role() == shegong_domain::Role::SocialWorker).then(|| v.user_id.clone());
    let week = (v.today + chrono::Duration::days(7)).to_string();
    let mut c = state.db.read().await?;
    let counts = residents::due_counts(&mut c, &v, worker.as_deref()).await?;
    let due = residents::list(
        &mut c,
        &v,
        &residents::Filter {
            worker: worker.clone(),
            due_by: Some(week),
            ..Default::default()
        },
        PageRequest::new(Some(1), Some(100)),
    )
    .await?;
    let my_cases = cases::list(
        &mut c,
        &v,
        &cases::Filter {
            worker: Some(v.user_id.clone()),
            state: Some("open".into()),
            ..Default::default()
        },
        PageRequest::new(Some(1), Some(100)),
    )
    .await?;
    let pending = if u.can(Permission::ApproveCases) {
        cases::list(
            &mut c,
            &v,
            &cases::Filter {
                state: Some("pending".into()),
                ..Default::default()
            },
            PageRequest::new(Some(1), Some(100)),
        )
        .await?
        .items
        .into_iter()
        .filter(|x| x.worker_user_id.as_deref() != Some(v.user_id.as_str()))
        .collect()
    } else {
        vec![]
    };
    let month = v.today.format("%Y-%m").to_string();
    let (visited, all) = residents::elderly_visit_rate(&mut c, &v, &month).await?;
    drop(c);
    let today_s = v.today.to_string();
    let title = t.get("menu.mine");
    Ok(page(
        StatusCode::OK,
        &MinePage {
            base: Base::new(&ctx, title, vec![Crumb::here(title)]),
            counts,
            due: due
                .items
                .into_iter()
                .map(|r| {
                    let overdue = r.next_visit_due < today_s;
                    (
                        r.id,
                        r.name,
                        t.get(&format!("resident.tier.{}", r.risk_tier)).to_owned(),
                        r.next_visit_due,
                        overdue,
                    )
                })
                .collect(),
            cases: my_cases.items.iter().map(|x| case_row(&t, x)).collect(),
            pending: pending.iter().map(|x| case_row(&t, x)).collect(),
            rate: (all > 0).then(|| {
                (
                    visited,
                    all,
                    format!("{:.1}%", visited as f64 * 100.0 / all as f64),
                )
            }),
            t,
        },
    ))
}

// ---------------------------------------------------------------------------------------------
// API

#[derive(Serialize, ToSchema)]
pub struct CaseDto {
    pub id: String,
    pub resident_id: String,
    pub resident_name: String,
    pub region_code: String,
    pub station_id: Option<String>,
    pub worker_user_id: Option<String>,
    pub supervisor_user_id: Option<String>,
    /// `intake`, `assessment`, `planning`, `intervention`, `evaluation` or `closed`.
    pub stage: String,
    /// `plan` or `closure` while a supervisor's decision is awaited; empty otherwise.
    pub pending: String,
    pub problem: String,
    pub risk_level: Option<String>,
    pub opened_on: String,
    pub closed_on: Option<String>,
    pub outcome: String,
    /// The station a referral is waiting at.
    pub transfer_station_id: Option<String>,
}

impl From<Case> for CaseDto {
    fn from(c: Case) -> Self {
        CaseDto {
            id: c.id,
            resident_id: c.resident_id,
            resident_name: c.resident_name,
            region_code: c.region_code,
            station_id: c.station_id,
            worker_user_id: c.worker_user_id,
            supervisor_user_id: c.supervisor_user_id,
            stage: c.stage,
            pending: c.pending,
            problem: c.problem,
            risk_level: c.risk_level,
            opened_on: c.opened_on,
            closed_on: c.closed_on,
            outcome: c.outcome,
            transfer_station_id: c.transfer_station_id,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CasePage {
    pub items: Vec<CaseDto>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// Cases in the caller's scope.
#[utoipa::path(get, path = "/api/v1/cases", tag = "people", params(CaseQuery),
    responses((status = 200, body = CasePage), (status = 401, description = "Not signed in")))]
pub async fn api_cases(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<CaseQuery>,
) -> WebResult<Json<CasePage>> {
    let u = reader(&ctx)?;
    let v = viewer(&state, u);
    let mut c = state.db.read().await?;
    let data = cases::list(
        &mut c,
        &v,
        &q.filter(&v),
        PageRequest::new(q.page, q.per_page),
    )
    .await?;
    Ok(Json(CasePage {
        total: data.total,
        page: data.page,
        per_page: data.per_page,
        items: data.items.into_iter().map(CaseDto::from).collect(),
    }))
}

/// One case.
#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "people",
    responses((status = 200, body = CaseDto), (status = 404, description = "Unknown or outside the caller's scope")))]
pub async fn api_case(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<CaseDto>> {
    let u = reader(&ctx)?;
    let v = viewer(&state, u);
    let mut c = state.db.read().await?;
    Ok(Json(cases::get(&mut c, &v, &id).await?.into()))
}

#[derive(Deserialize, ToSchema)]
pub struct OpenCaseBody {
    pub resident_id: String,
    pub problem: String,
    pub worker_user_id: Option<String>,
    pub supervisor_user_id: Option<String>,
    pub station_id: Option<String>,
}

/// Open a case (接案) for a resident in scope.
#[utoipa::path(post, path = "/api/v1/cases", tag = "people", request_body = OpenCaseBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe creation: the same key by the same account returns the first record")),
    responses((status = 201, body = CaseDto), (status = 422, description = "Invalid fields, each named")))]
pub async fn api_open_case(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Json(b): Json<OpenCaseBody>,
) -> WebResult<Response> {
    let key = crate::people::residents::idempotency_key(&headers)?;
    let u = writer(&ctx)?;
    let v = viewer(&state, u);
    // The form keeps 500 characters of the problem; the API refuses more instead of cutting.
    let mut c = Check::default();
    c.opt_text("problem", b.problem.trim(), 500);
    c.finish().map_err(WebError::Invalid)?;
    let input = OpenCase {
        resident_id: b.resident_id,
        station_id: b.station_id,
        worker_user_id: b.worker_user_id,
        supervisor_user_id: b.supervisor_user_id,
        problem: b.problem,
        opened_on: today(state.now()),
    };
    let id = open_case(&state, &ctx, v, input, key).await?;
    let Json(d) = api_case(State(state), ctx, Path(id)).await?;
    Ok((StatusCode::CREATED, Json(d)).into_response())
}

#[derive(Serialize, ToSchema)]
pub struct ServiceDto {
    pub id: String,
    pub region_code: String,
    pub station_id: Option<String>,
    pub kind: String,
    pub domain: String,
    pub resident_id: Option<String>,
    pub case_id: Option<String>,
    pub title: String,
    pub served_on: String,
    pub started_at: Option<String>,
    pub duration_minutes: i64,
    pub person_times: i64,
    /// Visits: `home`, `phone`, `video`, `entrusted` or `volunteer`.
    pub method: Option<String>,
    pub location: String,
    /// Value of linked resources, in fen.
    pub value_fen: i64,
    pub workers: String,
}

impl From<Service> for ServiceDto {
    fn from(s: Service) -> Self {
        ServiceDto {
            id: s.id,
            region_code: s.region_code,
            station_id: s.station_id,
            kind: s.kind,
            domain: s.domain,
            resident_id: s.resident_id,
            case_id: s.case_id,
            title: s.title,
            served_on: s.served_on,
            started_at: s.started_at,
            duration_minutes: s.duration_minutes,
            person_times: s.person_times,
            method: s.method,
            location: s.location,
            value_fen: s.value_fen,
            workers: s.workers,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ServicePage {
    pub items: Vec<ServiceDto>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// Service records in the caller's scope (notes are not part of the list).
#[utoipa::path(get, path = "/api/v1/services", tag = "people", params(ServiceQuery),
    responses((status = 200, body = ServicePage), (status = 401, description = "Not signed in")))]
pub async fn api_services(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ServiceQuery>,
) -> WebResult<Json<ServicePage>> {
    let u = reader(&ctx)?;
    let v = viewer(&state, u);
    let mut c = state.db.read().await?;
    let data = services::list(
        &mut c,
        &v,
        &q.filter(),
        PageRequest::new(q.page, q.per_page),
    )
    .await?;
    Ok(Json(ServicePage {
        total: data.total,
        page: data.page,
        per_page: data.per_page,
        items: data.items.into_iter().map(ServiceDto::from).collect(),
    }))
}

/// One service record.
#[utoipa::path(get, path = "/api/v1/services/{id}", tag = "people",
    responses((status = 200, body = ServiceDto), (status = 404, description = "Unknown or outside the caller's scope")))]
pub async fn api_service(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<ServiceDto>> {
    let u = reader(&ctx)?;
    let v = viewer(&state, u);
    let mut c = state.db.read().await?;
    Ok(Json(services::get(&mut c, &v, &id).await?.into()))
}

#[derive(Deserialize, ToSchema)]
pub struct ServiceBody {
    pub kind: String,
    pub domain: String,
    pub resident_id: Option<String>,
    pub case_id: Option<String>,
    pub station_id: Option<String>,
    #[serde(default)]
    pub participants: Vec<String>,
    pub title: Option<String>,
    /// `YYYY-MM-DD`, not in the future.
    pub served_on: String,
    /// `HH:MM`.
    pub started_at: Option<String>,
    pub duration_minutes: i64,
    pub person_times: Option<i64>,
    pub method: Option<String>,
    pub location: Option<String>,
    /// Value of linked resources in yuan (`"1200.50"`).
    pub value: Option<String>,
    pub workers: String,
    pub notes: Option<String>,
    #[serde(default)]
    pub sensitive: bool,
}

/// Record a service. A visit moves the resident's next visit due date.
#[utoipa::path(post, path = "/api/v1/services", tag = "people", request_body = ServiceBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe creation: the same key by the same account returns the first record")),
    responses((status = 201, body = ServiceDto), (status = 422, description = "Invalid fields, each named")))]
pub async fn api_record_service(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Json(b): Json<ServiceBody>,
) -> WebResult<Response> {
    let key = crate::people::residents::idempotency_key(&headers)?;
    let o = |v: &Option<String>| v.clone().unwrap_or_default();
    let mut pairs = vec![
        ("kind".to_owned(), b.kind.clone()),
        ("domain".to_owned(), b.domain.clone()),
        ("resident".to_owned(), o(&b.resident_id)),
        ("case".to_owned(), o(&b.case_id)),
        ("station".to_owned(), o(&b.station_id)),
        ("title".to_owned(), o(&b.title)),
        ("served_on".to_owned(), b.served_on.clone()),
        ("started_at".to_owned(), o(&b.started_at)),
        (
            "duration_minutes".to_owned(),
            b.duration_minutes.to_string(),
        ),
        (
            "person_times".to_owned(),
            b.person_times.unwrap_or(1).to_string(),
        ),
        ("method".to_owned(), o(&b.method)),
        ("location".to_owned(), o(&b.location)),
        ("value".to_owned(), o(&b.value)),
        ("workers".to_owned(), b.workers.clone()),
        ("notes".to_owned(), o(&b.notes)),
        (
            "sensitive".to_owned(),
            if b.sensitive {
                "1".into()
            } else {
                String::new()
            },
        ),
    ];
    pairs.extend(
        b.participants
            .iter()
            .map(|p| ("participants".to_owned(), p.clone())),
    );
    let input = parse_service(&FormData::new(pairs)).map_err(WebError::Invalid)?;
    let id = record_service(&state, &ctx, input, key)
        .await?
        .map_err(|e| WebError::Invalid(vec![e]))?;
    let Json(d) = api_service(State(state), ctx, Path(id)).await?;
    Ok((StatusCode::CREATED, Json(d)).into_response())
}
