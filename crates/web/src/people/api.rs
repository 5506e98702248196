//! The people area's JSON API: residents, visits due, cases and service records.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use shegong_store::PageRequest;
use shegong_store::people::cases::{self, Case, OpenCase};
use shegong_store::people::households;
use shegong_store::people::households::Membership;
use shegong_store::people::residents::{self, Filter, Resident};
use shegong_store::people::services::{self, Service};
use utoipa::ToSchema;

use crate::http::auth::Ctx;
use crate::http::auth::reader;
use crate::http::error::{WebError, WebResult};
use crate::http::state::AppState;
use crate::http::write::writer;
use crate::ui::forms::{Check, FormData, today};

use super::cases::{CaseQuery, open_case};
use super::idempotency::idempotency_key;
use super::resident_list::ListQuery;
use super::residents::{Registered, Saved, ask_text, masked, parse, register, saved, viewer};
use super::services::{ServiceQuery, parse_service, record_service};

/// A resident as the API shows it: sensitive values masked.
#[derive(Serialize, ToSchema)]
pub struct ResidentDto {
    pub id: String,
    pub name: String,
    pub id_number_masked: String,
    pub phone_masked: String,
    pub sex: Option<String>,
    pub birth_date: String,
    pub ethnicity: String,
    pub region_code: String,
    pub region_path: String,
    /// Category codes held today.
    pub categories: Vec<String>,
    /// `high`, `key` or `general`.
    pub risk_tier: String,
    pub legal_basis: String,
    pub station_id: Option<String>,
    pub worker_user_id: Option<String>,
    pub household_id: Option<String>,
    pub relation: Option<String>,
    pub status: String,
    pub last_visit_on: Option<String>,
    pub visit_interval_days: i64,
    pub next_visit_due: String,
    pub registered_on: String,
    /// The contact details in full: present on `GET /api/v1/residents/{id}` only for the people
    /// working on the file (its responsible worker, the supervisor of an open case); each such
    /// read is audited. Everyone else reads the masked values above.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<super::resident_file::ContactDto>,
}

pub(super) fn dto(
    state: &AppState,
    r: Resident,
    members: &[Membership],
    today_s: &str,
) -> ResidentDto {
    let m = masked(state, &r);
    ResidentDto {
        categories: members
            .iter()
            .filter(|x| x.resident_id == r.id && x.active_on(today_s))
            .map(|x| x.category.clone())
            .collect(),
        id_number_masked: m.id_number,
        phone_masked: m.phone,
        id: r.id,
        name: r.name,
        sex: r.sex,
        birth_date: r.birth_date,
        ethnicity: r.ethnicity,
        region_code: r.region_code,
        region_path: r.region_path,
        risk_tier: r.risk_tier.to_string(),
        legal_basis: r.legal_basis,
        station_id: r.station_id,
        worker_user_id: r.worker_user_id,
        household_id: r.household_id,
        relation: r.relation,
        status: r.status.to_string(),
        last_visit_on: r.last_visit_on,
        visit_interval_days: r.visit_interval_days,
        next_visit_due: r.next_visit_due,
        registered_on: r.registered_on,
        contact: None,
    }
}

#[derive(Serialize, ToSchema)]
pub struct ResidentPage {
    pub items: Vec<ResidentDto>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

async fn api_page(
    state: &AppState,
    ctx: &Ctx,
    q: &ListQuery,
    f: Filter,
) -> WebResult<Json<ResidentPage>> {
    let u = reader(ctx)?;
    let v = viewer(state, u);
    let mut c = state.db.read().await?;
    let data = residents::list(&mut c, &v, &f, PageRequest::new(q.page, q.per_page)).await?;
    let ids: Vec<&str> = data.items.iter().map(|r| r.id.as_str()).collect();
    let members = households::memberships_of(&mut c, &v, &ids).await?;
    let today_s = v.today.to_string();
    Ok(Json(ResidentPage {
        total: data.total,
        page: data.page,
        per_page: data.per_page,
        items: data
            .items
            .into_iter()
            .map(|r| dto(state, r, &members, &today_s))
            .collect(),
    }))
}

/// Residents in the caller's scope (protected files only for those working on them).
#[utoipa::path(get, path = "/api/v1/residents", tag = "people", params(ListQuery),
    responses((status = 200, body = ResidentPage), (status = 401, description = "Not signed in")))]
pub async fn api_list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> WebResult<Json<ResidentPage>> {
    let u = reader(&ctx)?;
    let f = q.filter(&viewer(&state, u));
    api_page(&state, &ctx, &q, f).await
}

/// Visits due: residents whose next visit is due by the date `due` selects (default `week`),
/// earliest first. `mine=me` limits to the caller's own residents.
#[utoipa::path(get, path = "/api/v1/visits/due", tag = "people", params(ListQuery),
    responses((status = 200, body = ResidentPage), (status = 401, description = "Not signed in")))]
pub async fn api_due(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(mut q): Query<ListQuery>,
) -> WebResult<Json<ResidentPage>> {
    let u = reader(&ctx)?;
    if q.due.is_none() {
        q.due = Some("week".into());
    }
    let f = q.filter(&viewer(&state, u));
    api_page(&state, &ctx, &q, f).await
}

/// One resident's file (masked; the contact details in full for the people working on it).
#[utoipa::path(get, path = "/api/v1/residents/{id}", tag = "people",
    responses((status = 200, body = ResidentDto), (status = 404, description = "Unknown or outside the caller's scope")))]
pub async fn api_get(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<ResidentDto>> {
    let u = reader(&ctx)?;
    let v = viewer(&state, u);
    let mut c = state.db.read().await?;
    let r = residents::get(&mut c, &v, &id).await?;
    let members = households::memberships_of(&mut c, &v, &[id.as_str()]).await?;
    drop(c);
    let contact = super::resident_file::contact_dto(&state, &ctx, &r).await?;
    let dto = dto(&state, r, &members, &v.today.to_string());
    Ok(Json(ResidentDto { contact, ..dto }))
}

/// A resident to register. Fields that only make sense together: a birth date unless a
/// resident ID number gives it, a consent date with consent (`consent`, `guardian_consent`),
/// a home region at township or village level.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({
    "name": "李桂兰", "sex": "female", "birth_date": "1948-03-12", "region": "430203001",
    "address": "贺家土街道建设路12号", "phone": "13873312345", "risk_tier": "key",
    "legal_basis": "consent", "consent_on": "2024-03-01"
}))]
pub struct ResidentBody {
    pub name: String,
    /// Optional; `resident_id` when a number is given without a type.
    pub id_type: Option<String>,
    pub id_number: Option<String>,
    pub sex: Option<String>,
    /// `YYYY-MM-DD`; derived from a resident ID number when omitted.
    pub birth_date: Option<String>,
    pub ethnicity: Option<String>,
    /// A township or village code in the caller's scope.
    pub region: String,
    pub address: Option<String>,
    pub phone: Option<String>,
    pub guardian_name: Option<String>,
    pub guardian_phone: Option<String>,
    pub risk_tier: Option<String>,
    /// `consent`, `statutory_duty`, `guardian_consent` or `vital_interest`.
    pub legal_basis: String,
    pub consent_on: Option<String>,
    pub station_id: Option<String>,
    pub worker_user_id: Option<String>,
    /// Register even though likely duplicates exist (after looking at them); not used when
    /// editing.
    #[serde(default)]
    pub confirm_duplicates: bool,
    /// 受保护档案: only those working on the person (or holding the protected-files grant) may
    /// open the file, as with a child's. Left out: not protected when registering, unchanged
    /// when editing.
    pub protected: Option<bool>,
}

impl ResidentBody {
    pub(super) fn form(&self) -> FormData {
        let o = |v: &Option<String>| v.clone().unwrap_or_default();
        FormData::new(vec![
            ("name".into(), self.name.clone()),
            ("id_type".into(), o(&self.id_type)),
            ("id_number".into(), o(&self.id_number)),
            ("sex".into(), o(&self.sex)),
            ("birth_date".into(), o(&self.birth_date)),
            ("ethnicity".into(), o(&self.ethnicity)),
            ("region".into(), self.region.clone()),
            ("address".into(), o(&self.address)),
            ("phone".into(), o(&self.phone)),
            ("guardian_name".into(), o(&self.guardian_name)),
            ("guardian_phone".into(), o(&self.guardian_phone)),
            ("risk_tier".into(), o(&self.risk_tier)),
            ("legal_basis".into(), self.legal_basis.clone()),
            ("consent_on".into(), o(&self.consent_on)),
            ("station".into(), o(&self.station_id)),
            ("worker".into(), o(&self.worker_user_id)),
            (
                "protected".into(),
                if self.protected == Some(true) {
                    "1".into()
                } else {
                    String::new()
                },
            ),
        ])
    }
}

#[derive(Serialize, ToSchema)]
pub struct Duplicates {
    /// `likely_duplicates`: nothing was saved; look at the candidates, then send again with
    /// `confirm_duplicates: true` if this is a different person.
    pub status: &'static str,
    pub candidates: Vec<CandidateDto>,
}

#[derive(Serialize, ToSchema)]
pub struct CandidateDto {
    /// Present only when the caller may open the record (as are name, birth date and region).
    pub id: Option<String>,
    pub name: Option<String>,
    pub birth_date: Option<String>,
    pub region_path: Option<String>,
    /// `same_id`, `same_birth_date` or `same_region`.
    pub reason: String,
    /// For a record the caller cannot open: that a possible duplicate exists there, and whom
    /// to ask (the responsible station and its phone, or the county's civil-affairs office).
    pub ask: Option<String>,
}

/// A file saved that the caller cannot open (a protected file without the grant): its id and
/// where it went, nothing about the person.
#[derive(Serialize, ToSchema)]
pub struct ResidentSaved {
    pub id: String,
    /// `saved_protected`.
    pub status: &'static str,
    pub region_code: String,
    pub region_path: String,
    pub station_id: Option<String>,
    pub station_name: Option<String>,
    pub worker_user_id: Option<String>,
    pub worker_name: Option<String>,
}

/// The 201 body: the file (masked), or where a file the caller cannot open went.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[allow(clippy::large_enum_variant)] // built once per response
pub enum ResidentCreated {
    File(ResidentDto),
    Protected(ResidentSaved),
}

/// The file just saved, or where it went when the caller can no longer open it (a protected
/// file without the grant).
pub(super) async fn file_or_placement(
    state: AppState,
    ctx: Ctx,
    id: String,
) -> WebResult<ResidentCreated> {
    Ok(match saved(&state, &ctx, &id).await? {
        Saved::Readable => {
            let Json(d) = api_get(State(state), ctx, Path(id)).await?;
            ResidentCreated::File(d)
        }
        Saved::Protected(p) => ResidentCreated::Protected(ResidentSaved {
            id: p.id,
            status: "saved_protected",
            region_code: p.region_code,
            region_path: shegong_domain::network::region::display_path(p.region_path.split('/')),
            station_id: p.station_id,
            station_name: p.station_name,
            worker_user_id: p.worker_user_id,
            worker_name: p.worker_name,
        }),
    })
}

/// Register a resident. Likely duplicates answer 409 with the candidates, and nothing is saved.
/// A file the caller cannot open once saved (a child under 14 without the protected-files
/// grant) answers 201 with its id and where it went. An `Idempotency-Key` header makes a retry
/// return the first record (24 hours).
#[utoipa::path(post, path = "/api/v1/residents", tag = "people", request_body = ResidentBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe creation: the same key by the same account returns the first record")),
    responses((status = 201, body = ResidentCreated), (status = 409, body = Duplicates), (status = 422, description = "Invalid fields, each named")))]
pub async fn api_create(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Json(b): Json<ResidentBody>,
) -> WebResult<Response> {
    let key = idempotency_key(&headers)?;
    let input = parse(&b.form(), &today(state.now())).map_err(WebError::Invalid)?;
    match register(&state, &ctx, &input, b.confirm_duplicates, key.as_deref()).await? {
        Registered::Saved(id) => {
            let body = file_or_placement(state, ctx, id).await?;
            Ok((StatusCode::CREATED, Json(body)).into_response())
        }
        Registered::Duplicates(c) => {
            let t = ctx.tr();
            Ok((
                StatusCode::CONFLICT,
                Json(Duplicates {
                    status: "likely_duplicates",
                    candidates: c
                        .into_iter()
                        .map(|x| {
                            let shown = x.visible;
                            CandidateDto {
                                ask: (!shown).then(|| ask_text(&t, x.ask.as_ref())),
                                id: shown.then_some(x.id),
                                name: shown.then_some(x.name),
                                birth_date: shown.then_some(x.birth_date),
                                region_path: shown.then_some(x.region_path),
                                reason: x.reason.to_owned(),
                            }
                        })
                        .collect(),
                }),
            )
                .into_response())
        }
    }
}

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
    /// 结案成效: `goals_met`, `partly_met`, `not_met`, `referred`, `withdrew` or `other`; none
    /// before a closure was requested, and on cases closed before outcomes were coded.
    pub outcome_code: Option<String>,
    /// The closure note (on older cases, the free-text outcome).
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
            stage: c.stage.to_string(),
            pending: c.pending,
            problem: c.problem,
            risk_level: c.risk_level,
            opened_on: c.opened_on,
            closed_on: c.closed_on,
            outcome_code: c.outcome_code,
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
    let key = idempotency_key(&headers)?;
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

/// 结案成效 codes as an OpenAPI enum.
fn outcome_codes() -> utoipa::openapi::schema::Object {
    crate::http::api::code::one_of(
        shegong_domain::people::CaseOutcome::ALL
            .iter()
            .map(|v| v.as_str()),
    )
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"outcome": "partly_met", "note": "仍需定期探访"}))]
pub struct CaseClosureBody {
    /// 结案成效: `goals_met`, `partly_met`, `not_met`, `referred`, `withdrew` or `other`.
    #[schema(schema_with = outcome_codes)]
    pub outcome: String,
    /// A note on the outcome, at most 500 characters; required for `other`.
    #[serde(default)]
    pub note: String,
}

/// Request the closure (结案) of a case at evaluation with its coded outcome, as the case page
/// does; a supervisor then approves or returns it.
#[utoipa::path(post, path = "/api/v1/cases/{id}/closure", tag = "people", request_body = CaseClosureBody,
    responses((status = 200, body = CaseDto), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Invalid fields, each named (`outcome`, `outcome_note`, or `stage` when the case is not at evaluation)")))]
pub async fn api_request_closure(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<CaseClosureBody>,
) -> WebResult<Json<CaseDto>> {
    writer(&ctx)?;
    let mut c = Check::default();
    let (outcome, note) = super::case_steps::closure(&mut c, &b.outcome, b.note.trim());
    c.finish().map_err(WebError::Invalid)?;
    if let Some(e) = super::case_steps::request_closure(&state, &ctx, &id, outcome, note).await? {
        return Err(WebError::Invalid(vec![e]));
    }
    api_case(State(state), ctx, Path(id)).await
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
    /// The registered volunteer who served (`/api/v1/volunteers/{id}`); such a record is of
    /// method `volunteer`, and a time-bank EARN from it credits only that volunteer's account.
    pub volunteer_id: Option<String>,
    /// The incident the service was given in (`/api/v1/incidents/{id}`).
    pub incident_id: Option<String>,
    /// How a visit was confirmed: `tick`, `signature` or empty.
    pub confirmation: String,
    /// A visit's photos, signature, location and confirmation: on the single record (and the
    /// answer to its creation), not in lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<super::evidence::EvidenceView>,
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
            volunteer_id: s.volunteer_id,
            incident_id: s.incident_id,
            confirmation: s.confirmation,
            evidence: None,
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
    let s = services::get(&mut c, &v, &id).await?;
    let ev = super::evidence::view_of(&state, &mut c, &s).await?;
    let mut dto = ServiceDto::from(s);
    dto.evidence = Some(ev);
    Ok(Json(dto))
}

/// A visit may carry evidence: photos, the device's location with its accuracy, and who
/// confirmed it (with a signature where the region's rule asks for one).
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"kind": "visit", "domain": "elderly", "resident_id": "0190d5a4-…", "method": "phone",
    "served_on": "2024-03-01", "duration_minutes": 30, "workers": "王小明", "latitude": 27.834512,
    "longitude": 113.151234, "accuracy_m": 15.0, "located_at": 1709280000000_i64, "confirmed_by": "resident"}))]
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
    /// The registered volunteer who served, in the caller's scope. The record's method is then
    /// `volunteer`: a visit given another method is refused (422 on `method`), an empty one is
    /// taken as `volunteer`.
    pub volunteer_id: Option<String>,
    pub notes: Option<String>,
    #[serde(default)]
    pub sensitive: bool,
    /// The incident the service was given in (应急): in the caller's scope and not closed, else
    /// 422 on `incident_id`. Its figures then count this record.
    #[serde(default)]
    pub incident_id: Option<String>,
    /// The file as the caller last saw it (an offline app's queued record): when the resident
    /// (or the case) changed since, 409 `conflict.file_changed` and nothing is saved.
    #[serde(default)]
    pub expected: Option<super::offline::FileExpectation>,
    /// A visit's photos (JPEG or PNG, at most 5, each at most 10 MB; resize on the device):
    /// refused on `photos`.
    #[serde(default)]
    #[schema(max_items = 5)]
    pub photos: Vec<PhotoBody>,
    /// The device's location when the visit was recorded, given with the worker's consent:
    /// `latitude`, `longitude` and `accuracy_m` together (each refused on its own field).
    #[schema(minimum = -90, maximum = 90)]
    pub latitude: Option<f64>,
    #[schema(minimum = -180, maximum = 180)]
    pub longitude: Option<f64>,
    /// The fix's accuracy radius in metres.
    #[schema(minimum = 0, maximum = 100000)]
    pub accuracy_m: Option<f64>,
    /// When the device took the fix (milliseconds since the epoch).
    pub located_at: Option<i64>,
    /// Who confirmed the visit: `resident` or `family`. A home visit in a region whose
    /// confirmation rule (`/api/v1/visit-confirmation-rules`) is `tick` needs it.
    #[schema(schema_with = confirmers)]
    pub confirmed_by: Option<String>,
    /// The family member's name (required when `confirmed_by` is `family`).
    #[schema(max_length = 50)]
    pub confirmer_name: Option<String>,
    /// A drawn signature: a PNG as Base64 (a `data:image/png;base64,` prefix is allowed). A home
    /// visit in a region whose rule is `signature` needs it; it needs `confirmed_by`.
    pub signature_base64: Option<String>,
}

fn confirmers() -> utoipa::openapi::schema::Object {
    crate::http::api::code::one_of(
        shegong_store::people::evidence::ConfirmedBy::ALL
            .iter()
            .map(|c| c.as_str()),
    )
}

/// A photo of a visit.
#[derive(Deserialize, ToSchema)]
pub struct PhotoBody {
    #[schema(max_length = 120)]
    pub filename: Option<String>,
    /// The JPEG or PNG file as Base64.
    pub content_base64: String,
}

/// Record a service. A visit moves the resident's next visit due date.
#[utoipa::path(post, path = "/api/v1/services", tag = "people", request_body = ServiceBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe creation: the same key by the same account returns the first record")),
    responses((status = 201, body = ServiceDto), (status = 409, body = super::offline::FileConflict, description = "`expected` given and the file changed since"),
        (status = 422, description = "Invalid fields, each named")))]
pub async fn api_record_service(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Json(b): Json<ServiceBody>,
) -> WebResult<Response> {
    let key = idempotency_key(&headers)?;
    if let (Some(e), Some(r)) = (&b.expected, &b.resident_id)
        && let Some(c) =
            super::offline::service_conflict(&state, &ctx, r, b.case_id.as_deref(), e).await?
    {
        return Ok(c);
    }
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
        ("volunteer_id".to_owned(), o(&b.volunteer_id)),
        ("incident_id".to_owned(), o(&b.incident_id)),
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
    let n = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    pairs.extend([
        ("latitude".to_owned(), n(b.latitude)),
        ("longitude".to_owned(), n(b.longitude)),
        ("accuracy_m".to_owned(), n(b.accuracy_m)),
        (
            "located_at".to_owned(),
            b.located_at.map(|t| t.to_string()).unwrap_or_default(),
        ),
        ("confirmed_by".to_owned(), o(&b.confirmed_by)),
        ("confirmer_name".to_owned(), o(&b.confirmer_name)),
        ("signature".to_owned(), o(&b.signature_base64)),
    ]);
    let form = FormData::new(pairs);
    let photos = decode_photos(&b.photos)?;
    let input = parse_service(&form);
    let evidence = super::evidence::parse_evidence(&form, photos);
    let (input, evidence) = match (input, evidence) {
        (Ok(i), Ok(e)) => (i, e),
        (i, e) => {
            let mut errors = i.err().unwrap_or_default();
            errors.extend(e.err().unwrap_or_default());
            return Err(WebError::Invalid(errors));
        }
    };
    let id = record_service(&state, &ctx, input, evidence, key)
        .await?
        .map_err(|e| WebError::Invalid(vec![e]))?;
    let Json(d) = api_service(State(state), ctx, Path(id)).await?;
    Ok((StatusCode::CREATED, Json(d)).into_response())
}

/// The photos of a body, each bounded before decoding; refusals are named `photos`.
fn decode_photos(photos: &[PhotoBody]) -> WebResult<Vec<(String, Vec<u8>)>> {
    if photos.len() > shegong_store::people::evidence::MAX_PHOTOS {
        return Err(WebError::Invalid(vec![shegong_domain::FieldError::new(
            "photos",
            "visit.too_many_photos",
        )]));
    }
    let mut c = crate::ui::forms::Check::default();
    let out = photos
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let bytes = super::evidence::base64_on(&mut c, "photos", &p.content_base64)?;
            let name = p
                .filename
                .clone()
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| format!("photo-{}.jpg", i + 1));
            Some((name, bytes))
        })
        .collect();
    c.finish().map_err(WebError::Invalid)?;
    Ok(out)
}
