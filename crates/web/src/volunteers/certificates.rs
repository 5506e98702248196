//! Certificates of volunteer service (志愿服务记录证明, 民政部令第67号 / 民发〔2015〕149号): issued
//! by the station that organised and recorded the hours, from the volunteer's page or
//! `POST /api/v1/volunteers/{id}/certificates`; a printable page shows the contents the rules
//! require. The identity number prints in full only for a reader with the reveal permission who
//! gives a reason (audited); otherwise masked.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use shegong_domain::{FieldError, Permission};
use shegong_store::admin::audit::Change;
use shegong_store::volunteers::hours::{self, Certificate, CertificateInput};
use shegong_store::volunteers::registry::{self, Volunteer};
use utoipa::ToSchema;

use crate::http::auth::{Ctx, reader};
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, Crumb, page};
use crate::http::state::AppState;
use crate::http::write::{Done, Entry, WorkWith, write_or_invalid, writer};
use crate::ui::forms::{Check, FormData, today};
use crate::ui::i18n::Tr;
use crate::ui::list::FormErrors;

/// Parse the issue form (or API body in its shape); every refused field named.
pub fn parse(volunteer_id: &str, f: &FormData) -> Result<CertificateInput, Vec<FieldError>> {
    let mut c = Check::default();
    let station_id = c.text("station", f.get("station").trim(), 64);
    let person_in_charge = c.name("person_in_charge", f.get("person_in_charge").trim(), 50);
    let handler = c.name("handler", f.get("handler").trim(), 50);
    let contact = c.opt_text("contact", f.get("contact").trim(), 50);
    let (from, to) = (f.get("period_from").trim(), f.get("period_to").trim());
    let period = if from.is_empty() && to.is_empty() {
        None
    } else {
        Some((c.date("period_from", from), c.date("period_to", to)))
    };
    c.finish()?;
    Ok(CertificateInput {
        volunteer_id: volunteer_id.to_owned(),
        station_id,
        person_in_charge,
        handler,
        contact,
        period,
    })
}

async fn issue(state: &AppState, ctx: &Ctx, input: CertificateInput) -> WebResult<String> {
    let now = state.now();
    let day = chrono::NaiveDate::parse_from_str(&today(now), "%Y-%m-%d").unwrap_or_default();
    write_or_invalid(
        state,
        ctx,
        Entry::new("volunteer_certificate", "create"),
        move |conn, scope, by| -> WorkWith<'_, String> {
            Box::pin(async move {
                let id = hours::issue(conn, &scope, &input, (&by, now), day).await?;
                let c = hours::certificate(conn, &scope, &id).await?;
                let done = Done {
                    entity_id: id.clone(),
                    region: Some(c.region_code),
                    changes: vec![
                        Change::new("cert_no", None::<String>, Some(c.cert_no)),
                        Change::new("volunteer_id", None::<String>, Some(c.volunteer_id)),
                        Change::new("minutes", None::<String>, Some(c.minutes)),
                    ],
                };
                Ok((done, id))
            })
        },
    )
    .await
}

/// The volunteer page's issue form.
pub async fn issue_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let r = match parse(&id, &f) {
        Ok(input) => issue(&state, &ctx, input).await,
        Err(e) => Err(WebError::Invalid(e)),
    };
    match r {
        Ok(cid) => Ok(Redirect::to(&format!(
            "/volunteer-certificates/{cid}?notice=notice.saved"
        ))
        .into_response()),
        Err(WebError::Invalid(e)) => match e.into_iter().next() {
            Some(first) => super::registry::show_with_error(&state, &ctx, &id, first).await,
            None => Err(WebError::Invalid(vec![])),
        },
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "volunteers/certificate.html")]
struct PrintPage {
    t: Tr,
    base: Base,
    c: Certificate,
    v: Volunteer,
    id_number: String,
    id_type: String,
    hours: String,
    full: bool,
    can_reveal: bool,
    error: Option<String>,
}

async fn show(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    full: bool,
    error: Option<FieldError>,
) -> WebResult<Response> {
    let u = reader(ctx)?;
    let t = ctx.tr();
    let (c, v) = {
        let mut conn = state.db.read().await?;
        let c = hours::certificate(&mut conn, &u.scope(), id).await?;
        let v = registry::get(&mut conn, &u.scope(), &c.volunteer_id).await?;
        (c, v)
    };
    let s = if full {
        super::input::opened(state, &v)
    } else {
        super::input::masked(state, &v)
    };
    let title = format!("{} {}", t.get("vcert.title"), c.cert_no);
    let error = error.map(|e| FormErrors::new(t, vec![e]).others(&[]).join(" "));
    Ok(page(
        if error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        &PrintPage {
            base: Base::new(
                ctx,
                title.clone(),
                vec![
                    Crumb::link(t.get("menu.volunteers"), "/volunteers"),
                    Crumb::link(v.name.clone(), format!("/volunteers/{}", v.id)),
                    Crumb::here(title),
                ],
            ),
            hours: format!("{:.1}", c.minutes as f64 / 60.0),
            id_type: t.get(&format!("idcard.type.{}", v.id_type)).to_owned(),
            id_number: s.id_number,
            c,
            v,
            full,
            can_reveal: u.can(Permission::RevealSensitive),
            error,
            t,
        },
    ))
}

pub async fn print_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Response> {
    show(&state, &ctx, &id, false, None).await
}

/// The certificate with the identity number in full, for printing: reveal permission, a reason,
/// an audit entry.
pub async fn print_full(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    ctx.user()?.require(Permission::RevealSensitive)?;
    let reason = f.get("reason").trim().to_owned();
    if !(2..=200).contains(&reason.chars().count()) {
        let e = FieldError::new("reason", "reveal.reason_required");
        return show(&state, &ctx, &id, false, Some(e)).await;
    }
    let cid = id.clone();
    write_or_invalid(
        &state,
        &ctx,
        Entry::new("volunteer_certificate", "print").requiring(Permission::RevealSensitive),
        move |conn, scope, _| -> WorkWith<'_, ()> {
            Box::pin(async move {
                let c = hours::certificate(conn, &scope, &cid).await?;
                let done = Done {
                    entity_id: cid,
                    region: Some(c.region_code),
                    changes: vec![
                        Change::new("fields", None::<String>, Some("id_number")),
                        Change::new("reason", None::<String>, Some(reason)),
                    ],
                };
                Ok((done, ()))
            })
        },
    )
    .await?;
    show(&state, &ctx, &id, true, None).await
}

// ---------------------------------------------------------------- API

/// A certificate as issued (the identity number is on the printed page only).
#[derive(Serialize, ToSchema)]
pub struct CertificateDto {
    pub id: String,
    /// 证明编号.
    pub cert_no: String,
    pub volunteer_id: String,
    /// The issuing (organising) station.
    pub station_id: String,
    pub issuer_name: String,
    pub person_in_charge: String,
    pub handler: String,
    pub contact: String,
    #[schema(format = Date)]
    pub period_from: String,
    #[schema(format = Date)]
    pub period_to: String,
    /// Recorded minutes certified.
    pub minutes: i64,
    pub activities: i64,
    pub content: String,
    #[schema(format = Date)]
    pub issued_on: String,
    /// The last day of the notice within the issuer (≥ 7 days).
    #[schema(format = Date)]
    pub publicity_until: String,
}

fn dto(c: Certificate) -> CertificateDto {
    CertificateDto {
        id: c.id,
        cert_no: c.cert_no,
        volunteer_id: c.volunteer_id,
        station_id: c.station_id,
        issuer_name: c.issuer_name,
        person_in_charge: c.person_in_charge,
        handler: c.handler,
        contact: c.contact,
        period_from: c.period_from,
        period_to: c.period_to,
        minutes: c.minutes,
        activities: c.activities,
        content: c.content,
        issued_on: c.issued_on,
        publicity_until: c.publicity_until,
    }
}

/// A volunteer's certificates.
#[utoipa::path(get, path = "/api/v1/volunteers/{id}/certificates", tag = "volunteers", params(("id" = String, Path)),
    responses((status = 200, body = Vec<CertificateDto>), (status = 404, description = "Unknown or outside the caller's scope")))]
pub async fn api_list(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<Vec<CertificateDto>>> {
    let u = reader(&ctx)?;
    let mut c = state.db.read().await?;
    registry::get(&mut c, &u.scope(), &id).await?;
    let list = hours::certificates(&mut c, &u.scope(), &id).await?;
    Ok(Json(list.into_iter().map(dto).collect()))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"station_id": "0190f1c2-0000-7000-8000-000000000000", "person_in_charge": "张站长",
    "handler": "李社工", "contact": "0731-22880000"}))]
pub struct CertificateBody {
    /// The issuing station: it certifies only the hours it recorded.
    pub station_id: String,
    /// 负责人.
    pub person_in_charge: String,
    /// 经办人.
    pub handler: String,
    #[serde(default)]
    pub contact: String,
    /// The period served; with `period_to`, or neither: every hour the station recorded.
    #[serde(default)]
    #[schema(format = Date)]
    pub period_from: String,
    #[serde(default)]
    #[schema(format = Date)]
    pub period_to: String,
}

/// Issue a certificate of the hours the station recorded for the volunteer in the period.
#[utoipa::path(post, path = "/api/v1/volunteers/{id}/certificates", tag = "volunteers", params(("id" = String, Path)),
    request_body = CertificateBody,
    responses((status = 201, body = CertificateDto), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Invalid fields, or no hours recorded by this station in the period (named)")))]
pub async fn api_issue(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<CertificateBody>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let f = FormData::new(vec![
        ("station".into(), b.station_id),
        ("person_in_charge".into(), b.person_in_charge),
        ("handler".into(), b.handler),
        ("contact".into(), b.contact),
        ("period_from".into(), b.period_from),
        ("period_to".into(), b.period_to),
    ]);
    let input = parse(&id, &f).map_err(WebError::Invalid)?;
    let cid = issue(&state, &ctx, input).await?;
    let u = reader(&ctx)?;
    let mut c = state.db.read().await?;
    let cert = hours::certificate(&mut c, &u.scope(), &cid).await?;
    Ok((StatusCode::CREATED, Json(dto(cert))).into_response())
}

/// This module's pages and API operations.
pub fn routes() -> Router<AppState> {
    use axum::routing::{get, post};
    Router::new()
        .route("/volunteers/{id}/certificates", post(issue_page))
        .route("/volunteer-certificates/{id}", get(print_page))
        .route("/volunteer-certificates/{id}/full", post(print_full))
        .route(
            "/api/v1/volunteers/{id}/certificates",
            get(api_list).post(api_issue),
        )
}
