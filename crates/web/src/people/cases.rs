//! Cases through the MZ/T 094 stages: the case list, opening a case from a resident's file, and
//! the case page with its history, services and the forms for the next step.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use shegong_domain::people::{AssessmentDomain, CaseStage, RiskTier, ServiceKind};
use shegong_domain::{FieldError, Permission, RegionLevel, Scope};
use shegong_store::admin::audit::Change;
use shegong_store::people::cases::{self, Actor, Case, CaseEvent, OpenCase};
use shegong_store::people::idempotency;
use shegong_store::people::residents::{self, Viewer};
use shegong_store::people::services;
use shegong_store::{Conn, PageRequest, network::stations};
use utoipa::IntoParams;

use crate::http::auth::reader;
use crate::http::auth::{Ctx, CurrentUser};
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, Crumb, page};
use crate::http::state::AppState;
use crate::http::write::{Done, audited_id, writer};
use crate::ui::forms::{FormData, today};
use crate::ui::i18n::Tr;
use crate::ui::list::{Pager, pager};

use super::idempotency::{claim, form_key, replayed};
use super::residents::viewer;
use crate::ui::list::NoticeQuery;

pub(super) fn actor(u: &CurrentUser) -> Actor {
    Actor {
        user_id: u.user.id.clone(),
        name: u.user.display_name.clone(),
    }
}

pub(super) fn field_error(t: &Tr, e: &FieldError) -> String {
    format!(
        "{}{}{}",
        t.get(&format!("field.{}", e.field)),
        t.get("punct.colon"),
        t.get(e.code)
    )
}

pub(super) fn labels<T: Copy>(
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
    /// Order: `opened_on`, `stage` or `updated`, `-` before it for descending; any other value
    /// is the default order (last changed first).
    pub sort: Option<String>,
    /// Past the last page the API answers an empty page with the correct total (list pages
    /// redirect to the last page).
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

impl CaseQuery {
    pub(super) fn filter(&self, v: &Viewer) -> cases::Filter {
        let s = |o: &Option<String>| o.clone().filter(|x| !x.is_empty());
        cases::Filter {
            stage: s(&self.stage),
            state: s(&self.state),
            worker: (self.mine.as_deref() == Some("me")).then(|| v.user_id.clone()),
            resident: None,
            q: s(&self.q),
            sort: self.sort(),
        }
    }

    fn sort(&self) -> Option<shegong_store::Sort> {
        shegong_store::Sort::parse(self.sort.as_deref(), cases::SORTS)
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        let v = |o: &Option<String>| o.clone().unwrap_or_default();
        let [sort, size] = crate::ui::list::table_pairs(self.sort(), self.per_page);
        vec![
            ("state", v(&self.state)),
            ("stage", v(&self.stage)),
            ("mine", v(&self.mine)),
            ("q", v(&self.q)),
            sort,
            size,
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

pub(super) fn case_row(t: &Tr, c: &Case) -> CaseRow {
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
                PageRequest::sized(q.page, q.per_page),
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
            pager: pager(&t, &data, "/cases", &q.pairs())?,
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

pub(super) async fn open_case(
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
                idempotency::settle_key(conn, &uid, k, &id).await?;
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
pub(super) type EventRow = (String, String, String, Vec<(String, String)>);

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
        self.c.stage.as_str() == s
    }

    /// 结案成效 as shown: the coded outcome's label with its note, or (on a case closed before
    /// outcomes were coded) the free text; empty when none was recorded.
    fn outcome_text(&self) -> String {
        let note = self.c.outcome.trim();
        match self.c.outcome_code.as_deref() {
            Some(code) if note.is_empty() => outcome_label(&self.t, code),
            Some(code) => self.t.fmt(
                "case.outcome_with_note",
                &[("outcome", &outcome_label(&self.t, code)), ("note", note)],
            ),
            None => note.to_owned(),
        }
    }

    /// The 结案成效 catalogue for the closure form.
    fn outcomes(&self) -> Vec<(String, String)> {
        self.t
            .options("case_outcome", shegong_domain::people::CaseOutcome::ALL)
    }

    /// A plan can be (re)submitted after assessment, and revised during intervention.
    fn can_plan(&self) -> bool {
        matches!(
            self.c.stage.as_str(),
            "assessment" | "planning" | "intervention"
        ) && self.c.pending.is_empty()
    }
}

/// The label of a 结案成效 code; text that is not a code (an outcome written before outcomes
/// were coded) as it is.
pub(super) fn outcome_label(t: &Tr, code: &str) -> String {
    match shegong_domain::people::CaseOutcome::parse(code) {
        Ok(o) => t.label("case_outcome", o),
        Err(_) => code.to_owned(),
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
            // A coded 结案成效 by its label; older closures wrote free text, shown as it is.
            ("outcome", serde_json::Value::String(o)) if !o.is_empty() => {
                out.push((t.get("case.body.outcome").to_owned(), outcome_label(t, o)))
            }
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

/// Referral targets (stations in the caller's city, or their own scope when wider, other than
/// the case's own) and the workers a referral may be handed to.
async fn referral_choices(
    conn: &mut Conn,
    (u, t): (&CurrentUser, &Tr),
    c: &Case,
) -> WebResult<(Vec<(String, String)>, Vec<(String, String)>)> {
    let city = match u.scope().region {
        Some(r) if r.as_str().len() > 4 => r
            .lineage()
            .into_iter()
            .find(|c| c.level() == RegionLevel::City),
        _ => None,
    };
    let area = city.map_or_else(|| u.scope(), Scope::region);
    let stations = stations::list(
        conn,
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
    let workers = residents::workers(conn, &u.scope())
        .await?
        .iter()
        .map(|a| {
            (
                a.id.clone(),
                crate::people::residents::account_label(t, a, true),
            )
        })
        .collect();
    Ok((stations, workers))
}

/// The stage bar: each stage with its label and whether it is done, current or to come.
fn stage_steps(t: &Tr, c: &Case) -> Vec<(String, String, &'static str)> {
    let current = CaseStage::ALL
        .iter()
        .position(|s| *s == c.stage)
        .unwrap_or(0);
    CaseStage::ALL
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
        .collect()
}

/// The case history as timeline rows.
pub(super) fn event_rows(t: &Tr, events: Vec<CaseEvent>) -> Vec<EventRow> {
    events
        .into_iter()
        .map(|e| {
            (
                t.datetime(e.at),
                t.get(&format!("case.event.{}", e.kind)).to_owned(),
                e.actor_name,
                body_lines(t, &e.body),
            )
        })
        .collect()
}

pub(super) async fn case_detail(
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
            (cases::referral(&mut conn, &v, id).await?, true)
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
    let (stations, workers) = referral_choices(&mut conn, (u, &ctx.tr()), &c).await?;
    drop(conn);
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
            stages: stage_steps(&t, &c),
            events: event_rows(&t, events),
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

pub async fn detail_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> WebResult<Response> {
    case_detail(&state, &ctx, &id, q.notice.as_deref(), None).await
}
