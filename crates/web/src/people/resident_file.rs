//! A resident's file: categories, risk tier and its history, household, cases, services and the
//! visit schedule; revealing the sealed values (audited, with a reason); the tier and status
//! actions, and the one wrapper every action on the file goes through.

use std::future::Future;
use std::pin::Pin;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use shegong_domain::people::identity::Mobile;
use shegong_domain::people::{ResidentStatus, RiskTier};
use shegong_domain::{FieldError, Permission, RegionCode};
use shegong_store::admin::audit::Change;
use shegong_store::people::cases::{self, Case};
use shegong_store::people::contact::{self, ContactBasis};
use shegong_store::people::duplicates::{self, Candidate};
use shegong_store::people::households::{self, Category, Membership};
use shegong_store::people::residents::{self, Filter, Resident, ResidentInput, TierChange, Viewer};
use shegong_store::people::services::{self, Service};
use shegong_store::{Conn, PageRequest, StoreResult};

use crate::http::auth::Ctx;
use crate::http::auth::reader;
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, Crumb, page};
use crate::http::state::AppState;
use crate::http::write::{
    Done, Entry, MaybeWork, WorkWith, audited, write_or_invalid, write_or_skip, writer,
};
use crate::ui::forms::FormData;
use crate::ui::i18n::Tr;

use super::cases::field_error;
use super::residents::{Choices, Masked, category_label, choices, masked, opened, viewer};
use crate::ui::list::NoticeQuery;

pub struct MemberRow {
    pub id: String,
    pub category: String,
    pub disability: String,
    pub source: String,
    pub evidence: String,
    pub valid: String,
    pub verified_by: String,
    pub active: bool,
}

pub struct CaseRow {
    pub id: String,
    pub stage: String,
    pub problem: String,
    pub opened_on: String,
    pub worker: String,
}

pub struct ServiceRow {
    pub id: String,
    pub served_on: String,
    pub kind: String,
    pub method: String,
    pub minutes: i64,
    pub workers: String,
}

#[derive(Template)]
#[template(path = "people/residents/detail.html")]
struct DetailPage {
    t: Tr,
    base: Base,
    r: Resident,
    /// The home region as people read it: "湖南省 / 株洲市 / 荷塘区 / 月塘街道".
    region: String,
    m: Masked,
    revealed: bool,
    /// Why the contact details are shown unmasked without a reason (the viewer works on the
    /// file), as people read it; none for everyone else.
    contact: Option<String>,
    /// The phone numbers to dial (`tel:`), when shown unmasked; empty otherwise.
    phone_tel: String,
    guardian_tel: String,
    tier: String,
    status: String,
    categories: Vec<MemberRow>,
    history: Vec<(String, String, String, String)>,
    household: Vec<(String, String, String, String)>,
    cases: Vec<CaseRow>,
    services: Vec<ServiceRow>,
    overdue: bool,
    is_child: bool,
    candidates: Vec<Candidate>,
    neighbours: Vec<(String, String)>,
    choices: Choices,
    can_write: bool,
    can_reveal: bool,
    error: Option<String>,
    today: String,
    /// The open-case form's creation key (a resubmission returns the first case).
    form_key: String,
}

impl DetailPage {
    fn label(&self, prefix: &str, code: &str) -> String {
        self.t.get(&format!("{prefix}.{code}")).to_owned()
    }
}

/// Files that may be the same person (the ones the viewer may open), and the neighbours a
/// household may be joined with.
async fn related(
    state: &AppState,
    c: &mut Conn,
    v: &Viewer,
    r: &Resident,
) -> WebResult<(Vec<Candidate>, Vec<(String, String)>)> {
    let probe = ResidentInput {
        region: RegionCode::parse(&r.region_code).ok(),
        name: r.name.clone(),
        birth_date: r.birth_date.clone(),
        ..Default::default()
    };
    let candidates = if r.status == ResidentStatus::Active {
        duplicates::likely_duplicates(c, v, &state.keys, &probe, Some(&r.id))
            .await?
            .into_iter()
            .filter(|x| x.visible)
            .collect()
    } else {
        vec![]
    };
    let neighbours = residents::list(
        c,
        v,
        &Filter {
            region: RegionCode::parse(&r.region_code).ok(),
            ..Default::default()
        },
        PageRequest::new(Some(1), Some(200)),
    )
    .await?
    .items
    .into_iter()
    .filter(|x| x.id != r.id)
    .map(|x| (x.id, format!("{}（{}）", x.name, x.birth_date)))
    .collect();
    Ok((candidates, neighbours))
}

fn member_rows(t: &Tr, cats: &[Category], members: &[Membership], today_s: &str) -> Vec<MemberRow> {
    members
        .iter()
        .map(|m| MemberRow {
            id: m.id.clone(),
            category: category_label(t, cats, &m.category),
            disability: match (&m.disability_category, &m.disability_grade) {
                (Some(k), Some(g)) => format!(
                    "{} · {}",
                    t.get(&format!("resident.disability.{k}")),
                    t.get(&format!("resident.grade.{g}"))
                ),
                _ => String::new(),
            },
            source: m.source.clone(),
            evidence: m.evidence.clone(),
            valid: format!("{} — {}", m.valid_from, m.valid_to.as_deref().unwrap_or("")),
            verified_by: m.verified_by.clone(),
            active: m.active_on(today_s),
        })
        .collect()
}

/// A tier change's reason: a message key the system wrote (`case.event.assessment`; earlier
/// versions wrote `case.assessment`), or the user's free text as written.
fn reason_text(t: &Tr, reason: String) -> String {
    let legacy = reason
        .strip_prefix("case.")
        .filter(|rest| !rest.contains('.'))
        .map(|rest| format!("case.event.{rest}"));
    t.try_get(&reason)
        .or_else(|| legacy.as_deref().and_then(|k| t.try_get(k)))
        .map_or(reason, str::to_owned)
}

/// The risk tier's history: date, tier, reason (a message key or free text), who.
fn history_rows(t: &Tr, history: Vec<TierChange>) -> Vec<(String, String, String, String)> {
    history
        .into_iter()
        .map(|h| {
            let reason = reason_text(t, h.reason);
            (
                crate::ui::list::rfc3339(h.changed_at)
                    .chars()
                    .take(10)
                    .collect(),
                t.get(&format!("resident.tier.{}", h.tier)).to_owned(),
                reason,
                h.changed_by,
            )
        })
        .collect()
}

/// The other members of the household: id, name, relation to the head, birth date.
fn household_rows(t: &Tr, household: Vec<Resident>) -> Vec<(String, String, String, String)> {
    household
        .into_iter()
        .map(|h| {
            (
                h.id,
                h.name,
                h.relation
                    .map(|x| t.get(&format!("resident.relation.{x}")).to_owned())
                    .unwrap_or_default(),
                h.birth_date,
            )
        })
        .collect()
}

fn case_row(t: &Tr, x: Case) -> CaseRow {
    CaseRow {
        stage: t.get(&format!("case.stage.{}", x.stage)).to_owned(),
        id: x.id,
        problem: x.problem,
        opened_on: x.opened_on,
        worker: x.worker_name.unwrap_or_default(),
    }
}

fn service_row(t: &Tr, x: Service) -> ServiceRow {
    ServiceRow {
        kind: t.get(&format!("service.kind.{}", x.kind)).to_owned(),
        method: x
            .method
            .map(|m| t.get(&format!("visit.method.{m}")).to_owned())
            .unwrap_or_default(),
        id: x.id,
        served_on: x.served_on,
        minutes: x.duration_minutes,
        workers: x.workers,
    }
}

pub(super) async fn detail(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    reveal: bool,
    notice: Option<&str>,
    error: Option<FieldError>,
) -> WebResult<Response> {
    let u = reader(ctx)?;
    let t = ctx.tr();
    let v = viewer(state, u);
    let (choices, cats) = choices(state, &t, &v.scope).await?;
    let mut c = state.db.read().await?;
    let r = residents::get(&mut c, &v, id).await?;
    let members = households::memberships_of(&mut c, &v, &[id]).await?;
    let history = residents::tier_history(&mut c, &v, id).await?;
    let household = households::household(&mut c, &v, id).await?;
    let case_list = cases::list(
        &mut c,
        &v,
        &cases::Filter {
            resident: Some(id.to_owned()),
            ..Default::default()
        },
        PageRequest::new(Some(1), Some(50)),
    )
    .await?;
    let service_list = services::list(
        &mut c,
        &v,
        &services::Filter {
            resident: Some(id.to_owned()),
            ..Default::default()
        },
        PageRequest::new(Some(1), Some(20)),
    )
    .await?;
    let (candidates, neighbours) = related(state, &mut c, &v, &r).await?;
    drop(c);
    let today_s = v.today.to_string();
    let basis = if reveal {
        None
    } else {
        contact_view(state, ctx, &r).await?
    };
    let m = match (reveal, basis) {
        (true, _) => opened(state, &r),
        (false, Some(_)) => contact_opened(state, &r),
        (false, None) => masked(state, &r),
    };
    let (phone_tel, guardian_tel) = tels(state, &r, reveal || basis.is_some());
    Ok(page(
        if error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        &DetailPage {
            base: Base::new(
                ctx,
                r.name.clone(),
                vec![
                    Crumb::link(t.get("menu.residents"), "/residents"),
                    Crumb::here(r.name.clone()),
                ],
            )
            .with_notice(&t, notice),
            region: shegong_domain::network::region::display_path(r.region_path.split('/')),
            m,
            revealed: reveal,
            contact: basis.map(|b| t.get(&format!("contact.basis.{}", b.as_str())).to_owned()),
            phone_tel,
            guardian_tel,
            tier: t.get(&format!("resident.tier.{}", r.risk_tier)).to_owned(),
            status: t.get(&format!("resident.status.{}", r.status)).to_owned(),
            categories: member_rows(&t, &cats, &members, &today_s),
            history: history_rows(&t, history),
            household: household_rows(&t, household),
            cases: case_list
                .items
                .into_iter()
                .map(|x| case_row(&t, x))
                .collect(),
            services: service_list
                .items
                .into_iter()
                .map(|x| service_row(&t, x))
                .collect(),
            overdue: r.status == ResidentStatus::Active && r.next_visit_due < today_s,
            is_child: r.is_protected(v.today) && r.protected == 0,
            candidates,
            neighbours,
            choices,
            can_write: u.can(Permission::WriteData),
            can_reveal: u.can(Permission::RevealSensitive),
            error: error.as_ref().map(|e| field_error(&t, e)),
            today: today_s,
            form_key: uuid::Uuid::now_v7().to_string(),
            t,
            r,
        },
    ))
}

pub async fn detail_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> WebResult<Response> {
    detail(&state, &ctx, &id, false, q.notice.as_deref(), None).await
}

/// A phone number as a `tel:` link dials it: digits and a leading `+` only.
fn tel(phone: &str) -> String {
    phone
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '+')
        .collect()
}

/// The numbers to dial from the file (phone, guardian's phone) when they are shown in full.
fn tels(state: &AppState, r: &Resident, shown: bool) -> (String, String) {
    if !shown {
        return (String::new(), String::new());
    }
    let raw = opened(state, r);
    (tel(&raw.phone), tel(&raw.guardian_phone))
}

/// The values of a file with its contact details (phone numbers, address) open and the
/// identity number still masked: what the people working on the file see.
/// Mobiles as people write them (`13812345678`), other numbers as stored.
pub(super) fn contact_opened(state: &AppState, r: &Resident) -> Masked {
    let open = opened(state, r);
    let national = |p: String| Mobile::parse(&p).map_or(p, |m| m.national().to_owned());
    Masked {
        phone: national(open.phone),
        address: open.address,
        guardian_phone: national(open.guardian_phone),
        ..masked(state, r)
    }
}

/// Whether the caller works on file `r` (its responsible worker, or the supervisor of one of
/// its open cases: the store decides) and so sees its contact details unmasked without a
/// reason. Each such view is audited as a `reveal` with its basis in place of a reason; for
/// everyone else nothing is written and the values stay masked.
pub(crate) async fn contact_view(
    state: &AppState,
    ctx: &Ctx,
    r: &Resident,
) -> WebResult<Option<ContactBasis>> {
    let v = viewer(state, reader(ctx)?);
    let (id, region) = (r.id.clone(), r.region_code.clone());
    write_or_skip(
        state,
        ctx,
        Entry::new("resident", "reveal").requiring(Permission::ReadData),
        move |conn, _, _| -> MaybeWork<'_, Option<ContactBasis>> {
            Box::pin(async move {
                let Some(basis) = contact::contact_basis(conn, &v, &id).await? else {
                    return Ok((None, None));
                };
                let done = Done {
                    entity_id: id,
                    region: Some(region),
                    changes: vec![
                        Change::new(
                            "fields",
                            None::<String>,
                            Some("phone, address, guardian_phone"),
                        ),
                        Change::new("basis", None::<String>, Some(basis.as_str())),
                    ],
                };
                Ok((Some(done), Some(basis)))
            })
        },
    )
    .await?
    .map_err(|e| WebError::Invalid(vec![e]))
}

/// A file's contact details in full, in the API: only for the people working on the file.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ContactDto {
    /// `assigned_worker` (the responsible social worker) or `case_supervisor` (the supervisor of
    /// one of the resident's open cases).
    pub basis: String,
    /// Mobiles as dialled in China (`13812345678`); empty when none is on file.
    pub phone: String,
    pub guardian_phone: String,
    pub address: String,
}

/// The contact details for `GET /api/v1/residents/{id}` (audited as on the page), or none.
pub(crate) async fn contact_dto(
    state: &AppState,
    ctx: &Ctx,
    r: &Resident,
) -> WebResult<Option<ContactDto>> {
    Ok(contact_view(state, ctx, r).await?.map(|basis| {
        let m = contact_opened(state, r);
        ContactDto {
            basis: basis.as_str().to_owned(),
            phone: m.phone,
            guardian_phone: m.guardian_phone,
            address: m.address,
        }
    }))
}

/// Record who looked at the sealed values of a file and why. The reason is required.
pub(super) async fn audit_reveal(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    reason: &str,
) -> WebResult<Resident> {
    let u = ctx.user()?;
    u.require(Permission::RevealSensitive)?;
    let reason = reason.trim();
    if reason.chars().count() < 2 || reason.chars().count() > 200 {
        return Err(FieldError::new("reason", "reveal.reason_required").into());
    }
    let (v, id_owned, reason) = (viewer(state, u), id.to_owned(), reason.to_owned());
    write_or_invalid(
        state,
        ctx,
        Entry::new("resident", "reveal").requiring(Permission::RevealSensitive),
        move |conn, _, _| -> WorkWith<'_, Resident> {
            Box::pin(async move {
                let r = residents::get(conn, &v, &id_owned).await?;
                let done = Done {
                    entity_id: id_owned,
                    region: Some(r.region_code.clone()),
                    changes: vec![
                        Change::new(
                            "fields",
                            None::<String>,
                            Some("id_number, phone, address, guardian_phone"),
                        ),
                        Change::new("reason", None::<String>, Some(reason)),
                    ],
                };
                Ok((done, r))
            })
        },
    )
    .await
}

pub async fn reveal(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    match audit_reveal(&state, &ctx, &id, f.get("reason")).await {
        Ok(_) => detail(&state, &ctx, &id, true, None, None).await,
        Err(WebError::Invalid(e)) => {
            detail(&state, &ctx, &id, false, None, e.into_iter().next()).await
        }
        Err(e) => Err(e),
    }
}

/// What an action on a file does in the store: the file's region (for the audit entry) and the
/// changes it made.
pub(super) type FileWork<'c> =
    Pin<Box<dyn Future<Output = StoreResult<(String, Vec<Change>)>> + Send + 'c>>;

/// One audited change to a file (`resident`/`action`), from its page or the API: `Ok(None)` when
/// saved, `Ok(Some(e))` for a field error (nothing written). A file outside the caller's scope is
/// not found.
pub(super) async fn file_change<F>(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    action: &'static str,
    work: F,
) -> WebResult<Option<FieldError>>
where
    F: for<'c> FnOnce(&'c mut Conn, Viewer) -> FileWork<'c> + Send + 'static,
{
    let v = viewer(state, writer(ctx)?);
    let rid = id.to_owned();
    audited(state, ctx, "resident", action, move |conn, _, _| {
        Box::pin(async move {
            let (region, changes) = work(conn, v).await?;
            Ok(Done {
                entity_id: rid,
                region: Some(region),
                changes,
            })
        })
    })
    .await
}

/// The page's answer to a change of a file: back to the file when saved, the file page with
/// the error otherwise.
pub(super) async fn file_answer(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    outcome: WebResult<Option<FieldError>>,
) -> WebResult<Response> {
    match outcome? {
        None => Ok(Redirect::to(&format!("/residents/{id}?notice=notice.saved")).into_response()),
        Some(e) => detail(state, ctx, id, false, None, Some(e)).await,
    }
}

/// The tier form (or API body): a known tier and a reason.
pub(super) fn parse_tier(f: &FormData) -> Result<(RiskTier, String), FieldError> {
    let tier = RiskTier::parse(f.get("risk_tier"))?;
    let reason = f.get("reason").trim().to_owned();
    if reason.is_empty() {
        return Err(FieldError::new("reason", "case.reason_required"));
    }
    Ok((tier, reason))
}

/// Set a file's risk tier with the reason (audited `set_tier`).
pub(super) async fn change_tier(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    tier: RiskTier,
    reason: String,
) -> WebResult<Option<FieldError>> {
    let (rid, by, now) = (
        id.to_owned(),
        ctx.user()?.user.display_name.clone(),
        state.now(),
    );
    file_change(state, ctx, id, "set_tier", move |conn, v| {
        Box::pin(async move {
            let before = residents::set_tier(conn, &v, &rid, tier, &reason, &by, now).await?;
            Ok((
                before.region_code,
                vec![
                    Change::new("risk_tier", Some(before.risk_tier), Some(tier.as_str())),
                    Change::new("reason", None::<String>, Some(reason)),
                ],
            ))
        })
    })
    .await
}

pub async fn set_tier(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    let outcome = match parse_tier(&f) {
        Ok((tier, reason)) => change_tier(&state, &ctx, &id, tier, reason).await,
        Err(e) => Ok(Some(e)),
    };
    file_answer(&state, &ctx, &id, outcome).await
}

/// Set a file's status (`active`, `moved_out`, `deceased`; audited `set_status`).
pub(super) async fn change_status(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    status: String,
) -> WebResult<Option<FieldError>> {
    let (rid, now) = (id.to_owned(), state.now());
    file_change(state, ctx, id, "set_status", move |conn, v| {
        Box::pin(async move {
            let status = ResidentStatus::parse(&status)?;
            let before = residents::set_status(conn, &v, &rid, status, now).await?;
            Ok((
                before.region_code,
                vec![Change::new("status", Some(before.status), Some(status))],
            ))
        })
    })
    .await
}

pub async fn set_status(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    let outcome = change_status(&state, &ctx, &id, f.get("status").to_owned()).await;
    file_answer(&state, &ctx, &id, outcome).await
}
