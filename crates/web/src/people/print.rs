//! Print pages of people records (see `ui::print`): the resident registration form (登记表),
//! a case file summary and a service (visit) record. Identity number, phone and address stay
//! masked; the registration form prints them in full only after the viewer gives a reason
//! (audited as a reveal, as on the file's page).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use shegong_domain::FieldError;
use shegong_domain::Permission;
use shegong_store::people::households;
use shegong_store::people::residents::{self, Resident};
use shegong_store::people::{cases, services};

use crate::http::auth::{Ctx, reader};
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, page};
use crate::http::state::AppState;
use crate::ui::forms::FormData;
use crate::ui::i18n::Tr;
use crate::ui::print::Sheet;

use super::cases::{CaseRow, EventRow, case_row, event_rows};
use super::resident_file::audit_reveal;
use super::residents::{Masked, category_label, choices, masked, opened, viewer};
use super::services::{ServiceRow, service_row};

#[derive(Template)]
#[template(path = "people/print/resident.html")]
struct ResidentSheet {
    t: Tr,
    base: Base,
    sheet: Sheet,
    error: Option<String>,
    r: Resident,
    m: Masked,
    revealed: bool,
    can_reveal: bool,
    sex: String,
    region: String,
    tier: String,
    basis: String,
    categories: String,
}

fn unit(station: Option<&str>, region_path: &str) -> String {
    station
        .map(str::to_owned)
        .unwrap_or_else(|| shegong_domain::network::region::display_path(region_path.split('/')))
}

async fn resident_sheet(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    revealed: Option<Resident>,
    error: Option<FieldError>,
) -> WebResult<Response> {
    let u = reader(ctx)?;
    let t = ctx.tr();
    let v = viewer(state, u);
    let (ch, cats) = choices(state, &t, &v.scope).await?;
    let (r, members) = {
        let mut c = state.db.read().await?;
        let r = residents::get(&mut c, &v, id).await?;
        let members = households::memberships_of(&mut c, &v, &[id]).await?;
        (r, members)
    };
    let today = v.today.to_string();
    let categories: Vec<String> = members
        .iter()
        .filter(|m| m.active_on(&today))
        .map(|m| category_label(&t, &cats, &m.category))
        .collect();
    let title = t.get("print.resident_title");
    let sheet = Sheet::new(
        &t,
        ctx,
        state.now(),
        (
            unit(r.station_name.as_deref(), &r.region_path),
            r.id.clone(),
            format!("/residents/{id}"),
        ),
        &[
            "print.sign_resident",
            "print.sign_handler",
            "print.sign_unit",
        ],
    );
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(page(
        status,
        &ResidentSheet {
            base: Base::new(ctx, title, vec![]),
            sheet,
            error: error.map(|e| t.get(e.code).to_owned()),
            m: match &revealed {
                Some(full) => opened(state, full),
                None => masked(state, &r),
            },
            revealed: revealed.is_some(),
            can_reveal: u.can(Permission::RevealSensitive),
            sex: r
                .sex
                .as_deref()
                .map(|s| t.get(&format!("person.sex.{s}")).to_owned())
                .unwrap_or_default(),
            region: shegong_domain::network::region::display_path(r.region_path.split('/')),
            tier: t.get(&format!("resident.tier.{}", r.risk_tier)).to_owned(),
            basis: ch
                .bases
                .iter()
                .find(|(code, _)| *code == r.legal_basis)
                .map(|(_, label)| label.clone())
                .unwrap_or_default(),
            categories: categories.join("、"),
            r,
            t,
        },
    ))
}

/// The registration form, masked.
pub async fn resident_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Response> {
    resident_sheet(&state, &ctx, &id, None, None).await
}

/// The registration form in full, after a reason (audited as a reveal of the file).
pub async fn resident_reveal(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    match audit_reveal(&state, &ctx, &id, f.get("reason")).await {
        Ok(r) => resident_sheet(&state, &ctx, &id, Some(r), None).await,
        Err(WebError::Invalid(e)) => {
            resident_sheet(&state, &ctx, &id, None, e.into_iter().next()).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "people/print/case.html")]
struct CaseSheet {
    t: Tr,
    base: Base,
    sheet: Sheet,
    error: Option<String>,
    c: cases::Case,
    row: CaseRow,
    events: Vec<EventRow>,
    services: Vec<ServiceRow>,
}

/// A case file summary: the case, its history and its service records.
pub async fn case_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let u = reader(&ctx)?;
    let t = ctx.tr();
    let v = viewer(&state, u);
    let mut conn = state.db.read().await?;
    let c = cases::get(&mut conn, &v, &id).await?;
    let events = cases::events(&mut conn, &v, &state.keys, &id).await?;
    let list = services::list(
        &mut conn,
        &v,
        &services::Filter {
            case_id: Some(id.clone()),
            ..Default::default()
        },
        shegong_store::PageRequest::new(Some(1), Some(100)),
    )
    .await?
    .items;
    drop(conn);
    let sheet = Sheet::new(
        &t,
        &ctx,
        state.now(),
        (
            unit(c.station_name.as_deref(), &c.region_path),
            c.id.clone(),
            format!("/cases/{id}"),
        ),
        &[
            "print.sign_worker",
            "print.sign_supervisor",
            "print.sign_unit",
        ],
    );
    Ok(page(
        StatusCode::OK,
        &CaseSheet {
            base: Base::new(&ctx, t.get("print.case_title"), vec![]),
            sheet,
            error: None,
            row: case_row(&t, &c),
            events: event_rows(&t, events),
            services: list.iter().map(|s| service_row(&t, s)).collect(),
            c,
            t,
        },
    ))
}

#[derive(Template)]
#[template(path = "people/print/service.html")]
struct ServiceSheet {
    t: Tr,
    base: Base,
    sheet: Sheet,
    error: Option<String>,
    s: services::Service,
    row: ServiceRow,
    notes: String,
    participants: Vec<(String, String)>,
    ev: super::evidence::EvidenceView,
}

/// A service record (a visit's, a group's, …), with its notes as on its own page.
pub async fn service_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let u = reader(&ctx)?;
    let t = ctx.tr();
    let v = viewer(&state, u);
    let (s, participants, ev) = {
        let mut c = state.db.read().await?;
        let s = services::get(&mut c, &v, &id).await?;
        let ev = super::evidence::view_of(&state, &mut c, &s).await?;
        (s, services::participants(&mut c, &v, &id).await?, ev)
    };
    let notes = s
        .notes_sealed
        .as_deref()
        .and_then(|n| state.keys.open(services::NOTES_FIELD, n).ok())
        .unwrap_or_default();
    let sheet = Sheet::new(
        &t,
        &ctx,
        state.now(),
        (
            unit(s.station_name.as_deref(), &s.region_path),
            s.id.clone(),
            format!("/services/{id}"),
        ),
        &[
            "print.sign_resident",
            "print.sign_worker",
            "print.sign_unit",
        ],
    );
    Ok(page(
        StatusCode::OK,
        &ServiceSheet {
            base: Base::new(&ctx, t.get("print.visit_title"), vec![]),
            sheet,
            error: None,
            row: service_row(&t, &s),
            notes,
            participants,
            ev,
            s,
            t,
        },
    ))
}
