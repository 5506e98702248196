//! The staff registry: the list, finding a person by identity number, the export, the person's
//! page with identity data masked by default (a reveal needs a permission and a reason, and is
//! audited) and certificates with the continuing-education status of the current cycle.
//! Identity numbers never appear in URLs: finding a person by number is a POST.

use std::future::Future;
use std::pin::Pin;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use shegong_domain::people::identity::{IdNumber, IdType, Mobile, Sex, mask};
use shegong_domain::text::DateKind;
use shegong_domain::workforce::{
    CertLevel, Education, Employment, Sector, StaffRole, StaffStatus, registration_until,
};
use shegong_domain::{FieldError, Permission, RegionCode, Scope};
use shegong_store::admin::audit::Change;
use shegong_store::workforce::staff::{self, Filter, NewCertificate, Staff, StaffInput};
use shegong_store::{Conn, PageRequest, StoreResult, network::orgs, network::stations};
use utoipa::IntoParams;

use crate::http::auth::reader;
use crate::http::auth::{Ctx, CurrentUser};
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, Crumb, page};
use crate::http::state::AppState;
use crate::http::write::{Done, Entry, WorkWith, audited, write_or_invalid, writer};
use crate::ui::excel::{self, Cell, Export};
use crate::ui::forms::{Check, FormData, today};
use crate::ui::i18n::Tr;
use crate::ui::list::NoticeQuery;
use crate::ui::list::{Pager, pager};
use crate::workforce::training::{self, ContinuingEducation};

/// Masked identity values of a record (opened only to be masked).
pub(super) fn masked(state: &AppState, s: &Staff) -> (String, String) {
    let id = state
        .keys
        .open(staff::ID_FIELD, &s.id_number_sealed)
        .map(|n| mask(&n))
        .unwrap_or_else(|_| "—".into());
    let mobile = s
        .mobile_sealed
        .as_deref()
        .and_then(|m| state.keys.open(staff::MOBILE_FIELD, m).ok())
        .and_then(|m| Mobile::parse(&m).ok())
        .map(|m| m.masked())
        .unwrap_or_default();
    (id, mobile)
}

/// Today in China Standard Time, as a date.
pub(super) fn today_date(now_millis: i64) -> NaiveDate {
    NaiveDate::parse_from_str(&today(now_millis), "%Y-%m-%d").unwrap_or_default()
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

pub struct Choices {
    pub id_types: Vec<(String, String)>,
    pub roles: Vec<(String, String)>,
    pub employments: Vec<(String, String)>,
    pub sectors: Vec<(String, String)>,
    pub educations: Vec<(String, String)>,
    pub levels: Vec<(String, String)>,
    pub orgs: Vec<(String, String)>,
    pub stations: Vec<(String, String)>,
}

pub(super) async fn choices(state: &AppState, t: &Tr, scope: &Scope) -> WebResult<Choices> {
    let mut c = state.db.read().await?;
    let orgs = orgs::list(&mut c, scope)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let stations = stations::list(
        &mut c,
        scope,
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
    Ok(Choices {
        id_types: IdType::ALL
            .iter()
            .map(|v| {
                (
                    v.as_str().to_owned(),
                    t.get(&format!("idcard.type.{}", v.as_str())).to_owned(),
                )
            })
            .collect(),
        roles: labels(t, "staff.role", StaffRole::ALL, StaffRole::as_str),
        employments: labels(t, "staff.employment", Employment::ALL, Employment::as_str),
        sectors: labels(t, "staff.sector", Sector::ALL, Sector::as_str),
        educations: labels(t, "staff.education", Education::ALL, Education::as_str),
        levels: labels(t, "certificate.level", CertLevel::ALL, CertLevel::as_str),
        orgs,
        stations,
    })
}

/// A date `Check` has already normalised to 'YYYY-MM-DD' (empty when it recorded an error).
pub(super) fn as_date(checked: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(checked, "%Y-%m-%d").ok()
}

/// Parse a staff form (or API body in the same shape). `keep_id` is the current number when
/// editing and the field was left blank (the form never shows the number).
pub fn parse(
    f: &FormData,
    keep_id: Option<&str>,
    today_s: &str,
) -> Result<StaffInput, Vec<FieldError>> {
    let today_d = chrono::NaiveDate::parse_from_str(today_s, "%Y-%m-%d").unwrap_or_default();
    let mut c = Check::default();
    let name = c.name("name", f.get("name"), 50);
    let id_type = c.take(IdType::parse(f.get("id_type")));
    let id_number = match (id_type, f.get("id_number"), keep_id) {
        (Some(_), "", Some(existing)) => Some(existing.to_owned()),
        // As for residents: a number whose birth date lies in the future is refused.
        (Some(t), raw, _) => c
            .take(IdNumber::parse_as_of(t, raw, today_d))
            .map(|n| n.as_str().to_owned()),
        (None, _, _) => None,
    };
    let parsed = match (id_type, &id_number) {
        (Some(t), Some(n)) => IdNumber::parse(t, n).ok(),
        _ => None,
    };
    // Sex and birth date: as entered, else suggested by the number.
    let sex = match f.get("sex") {
        "" => parsed.as_ref().and_then(|n| n.sex()),
        v => c.take(Sex::parse(v)),
    };
    // `date_of` has recorded the field's error whenever its text is not a date.
    let birth_date = match f.get("birth_date") {
        "" => parsed.as_ref().and_then(|n| n.birth_date()),
        v => as_date(&c.date_of("birth_date", v, DateKind::Birth, today_d)),
    };
    let mobile = match f.get("mobile") {
        "" => None,
        v => c.take(Mobile::parse(v)).map(|m| m.as_str().to_owned()),
    };
    let education = c
        .take(Education::parse(f.get("education")))
        .unwrap_or(Education::Unknown);
    let major = c.opt_text("major", f.get("major"), 50);
    let role = c.take(StaffRole::parse(f.get("role")));
    let employment = c.take(Employment::parse(f.get("employment_mode")));
    let sector = c.take(Sector::parse(if f.get("sector").is_empty() {
        "civil_affairs"
    } else {
        f.get("sector")
    }));
    let joined_text = c.date_of("joined_on", f.get("joined_on"), DateKind::Past, today_d);
    let left_text = match f.get("left_on") {
        "" => None,
        v => Some(c.date_of("left_on", v, DateKind::Past, today_d)),
    };
    // Compared as checked text, as ever: an unreadable leaving date ("") also reads as early.
    if left_text
        .as_deref()
        .is_some_and(|l| l < joined_text.as_str())
    {
        c.fail("left_on", "staff.left_before_joined");
    }
    let joined_on = as_date(&joined_text);
    let left_on = left_text.as_deref().and_then(as_date);
    let left_reason = c.opt_text("left_reason", f.get("left_reason"), 200);
    let station = Some(f.get("station").to_owned()).filter(|s| !s.is_empty());
    let region = match (station.is_some(), f.get("region")) {
        (true, _) | (false, "") => None,
        (false, v) => c.take(RegionCode::parse(v)),
    };
    if station.is_none() && f.get("region").is_empty() {
        c.fail("region", "staff.station_or_region");
    }
    let (
        Some(id_type),
        Some(id_number),
        Some(role),
        Some(employment),
        Some(sector),
        Some(joined_on),
    ) = (id_type, id_number, role, employment, sector, joined_on)
    else {
        // Each is missing only after `take` or `date_of` recorded its field's error.
        return Err(c.finish().err().unwrap_or_default());
    };
    c.finish()?;
    Ok(StaffInput {
        name,
        id_type,
        id_number,
        sex,
        birth_date,
        mobile,
        education,
        major,
        employer_org_id: Some(f.get("employer").to_owned()).filter(|s| !s.is_empty()),
        station_id: station,
        region,
        role,
        employment_mode: employment,
        sector,
        joined_on,
        left_on,
        left_reason,
    })
}

/// A staff record in the caller's scope.
pub(super) async fn load(state: &AppState, u: &CurrentUser, id: &str) -> WebResult<Staff> {
    let mut c = state.db.read().await?;
    Ok(staff::get(&mut c, &u.scope(), id).await?)
}

// ---------------------------------------------------------------------------------------------
// List, find, export

#[derive(Deserialize, IntoParams, Default)]
pub struct ListQuery {
    /// Name contains.
    pub q: Option<String>,
    pub region: Option<String>,
    pub station: Option<String>,
    /// `station_head`, `frontline`, `supervisor`, `admin_finance` or `auxiliary`.
    pub role: Option<String>,
    /// `active` or `left`.
    pub status: Option<String>,
    /// `yes` (holds a certificate) or `no`.
    pub certified: Option<String>,
    /// Order: `region` (default), `name`, `role`, `status`, `joined` (latest first) or
    /// `updated` (latest first); `-` before it reverses the order. Any other value is the
    /// default order.
    #[param(schema_with = crate::http::api::code::staff_sort)]
    pub sort: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    /// Export only: these people (comma-separated ids of a batch selection, at most 200).
    #[serde(default)]
    #[param(ignore)]
    pub ids: Option<String>,
    #[serde(default)]
    #[param(ignore)]
    pub notice: Option<String>,
}

impl ListQuery {
    pub(super) fn filter(&self) -> Filter {
        Filter {
            q: self.q.clone(),
            region: self.region.clone(),
            station: self.station.clone(),
            role: self.role.clone(),
            status: self.status.clone(),
            certified: match self.certified.as_deref() {
                Some("yes") => Some(true),
                Some("no") => Some(false),
                _ => None,
            },
            employer: None,
            sort: shegong_store::Sort::parse(self.sort.as_deref(), staff::SORTS),
            ids: None,
        }
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        let v = |o: &Option<String>| o.clone().unwrap_or_default();
        let [sort, size] = crate::ui::list::table_pairs(self.filter().sort, self.per_page);
        vec![
            ("q", v(&self.q)),
            ("region", v(&self.region)),
            ("station", v(&self.station)),
            ("role", v(&self.role)),
            ("status", v(&self.status)),
            ("certified", v(&self.certified)),
            sort,
            size,
        ]
    }
}

pub struct Row {
    pub id: String,
    pub name: String,
    pub id_masked: String,
    pub mobile: String,
    pub role: String,
    pub station: String,
    pub region: String,
    pub cert: String,
    pub joined_on: String,
    pub status: String,
    pub active: bool,
}

fn row(state: &AppState, t: &Tr, s: &Staff) -> Row {
    let (id_masked, mobile) = masked(state, s);
    Row {
        id: s.id.clone(),
        name: s.name.clone(),
        id_masked,
        mobile,
        role: t.get(&format!("staff.role.{}", s.role)).to_owned(),
        station: s.station_name.clone().unwrap_or_default(),
        region: shegong_domain::network::region::display_path(s.region_path.split('/')),
        cert: s
            .cert_level
            .as_deref()
            .map(|l| t.get(&format!("certificate.level.{l}")).to_owned())
            .unwrap_or_else(|| t.get("staff.uncertified").to_owned()),
        joined_on: s.joined_on.to_string(),
        status: t.get(&format!("staff.status.{}", s.status)).to_owned(),
        active: s.status == StaffStatus::Active,
    }
}

#[derive(Template)]
#[template(path = "workforce/staff/list.html")]
struct ListPage {
    t: Tr,
    base: Base,
    rows: Vec<Row>,
    pager: Pager,
    q: ListQuery,
    choices: Choices,
    export_href: String,
    can_write: bool,
    can_export: bool,
    error: Option<String>,
}

async fn list_render(
    state: &AppState,
    ctx: &Ctx,
    q: ListQuery,
    error: Option<String>,
) -> WebResult<Response> {
    let u = reader(ctx)?;
    let t = ctx.tr();
    let data = {
        let mut c = state.db.read().await?;
        staff::list(
            &mut c,
            &u.scope(),
            &q.filter(),
            PageRequest::sized(q.page, q.per_page),
        )
        .await?
    };
    let pairs = q.pairs();
    let title = t.get("menu.staff");
    Ok(page(
        if error.is_some() {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::OK
        },
        &ListPage {
            t,
            base: Base::new(ctx, title, vec![Crumb::here(title)])
                .with_notice(&t, q.notice.as_deref()),
            rows: data.items.iter().map(|s| row(state, &t, s)).collect(),
            pager: pager(&t, &data, "/staff", &pairs)?,
            export_href: format!(
                "/staff/export.xlsx?{}",
                serde_urlencoded::to_string(&pairs).unwrap_or_default()
            ),
            choices: choices(state, &t, &u.scope()).await?,
            can_write: u.can(Permission::WriteData),
            can_export: u.can(Permission::Export),
            error,
            q,
        },
    ))
}

pub async fn list_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> WebResult<Response> {
    list_render(&state, &ctx, q, None).await
}

/// Find a person by identity number: a POST, so the number never enters a URL or a log.
pub async fn find(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    let u = reader(&ctx)?;
    let t = ctx.tr();
    let number = IdType::ALL
        .iter()
        .find_map(|ty| IdNumber::parse(*ty, f.get("id_number")).ok())
        .map(|n| n.as_str().to_owned())
        .unwrap_or_else(|| f.get("id_number").trim().to_ascii_uppercase());
    let found = {
        let mut c = state.db.read().await?;
        staff::find_by_id_number(&mut c, &u.scope(), &state.keys, &number).await?
    };
    match found {
        Some(s) => Ok(Redirect::to(&format!("/staff/{}", s.id)).into_response()),
        None => {
            list_render(
                &state,
                &ctx,
                ListQuery::default(),
                Some(t.get("staff.not_found_by_id").to_owned()),
            )
            .await
        }
    }
}

pub async fn export(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> WebResult<Response> {
    let export = Export::check(&ctx, "staff", Permission::Export)?;
    let u = export.user();
    let t = ctx.tr();
    let filter = Filter {
        ids: crate::ui::list::batch_ids(q.ids.as_deref())?,
        ..q.filter()
    };
    let data = {
        let mut c = state.db.read().await?;
        staff::list(
            &mut c,
            &u.scope(),
            &filter,
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
        "staff.name",
        "staff.id_type",
        "staff.id_number",
        "staff.sex",
        "staff.birth_date",
        "staff.mobile",
        "staff.education_label",
        "staff.role_label",
        "staff.station",
        "staff.region",
        "staff.employer",
        "staff.employment_label",
        "staff.sector_label",
        "staff.cert",
        "staff.joined_on",
        "common.status",
    ]
    .map(|k| t.get(k));
    let rows: Vec<Vec<Cell>> = data
        .items
        .iter()
        .map(|s| {
            let r = row(&state, &t, s);
            vec![
                r.name.into(),
                t.get(&format!("idcard.type.{}", s.id_type)).into(),
                r.id_masked.into(),
                s.sex
                    .as_deref()
                    .map(|x| t.get(&format!("person.sex.{x}")).to_owned())
                    .unwrap_or_default()
                    .into(),
                s.birth_date
                    .map(staff::date_text)
                    .unwrap_or_default()
                    .into(),
                r.mobile.into(),
                label(&t, "staff.education", &s.education).into(),
                r.role.into(),
                r.station.into(),
                r.region.into(),
                s.employer_name.clone().unwrap_or_default().into(),
                t.get(&format!("staff.employment.{}", s.employment_mode))
                    .into(),
                t.get(&format!("staff.sector.{}", s.sector)).into(),
                r.cert.into(),
                staff::date_text(s.joined_on).into(),
                r.status.into(),
            ]
        })
        .collect();
    export
        .send(
            &state,
            &ctx,
            "menu.staff",
            &headers,
            &rows,
            vec![Change::new("identity", None::<String>, Some("masked"))],
        )
        .await
}

// ---------------------------------------------------------------------------------------------
// The person's page, reveal, certificates

pub struct CertRow {
    pub level: String,
    pub number: String,
    pub obtained_on: String,
    pub registered_until: String,
    pub expiring: bool,
}

#[derive(Template)]
#[template(path = "workforce/staff/detail.html")]
struct DetailPage {
    t: Tr,
    base: Base,
    s: Staff,
    row: Row,
    revealed: Option<(String, String)>,
    can_reveal: bool,
    can_write: bool,
    certs: Vec<CertRow>,
    ce: Option<ContinuingEducation>,
    trainings: Vec<(String, String, String, String)>,
    assignments: Vec<staff::Assignment>,
    choices: Choices,
    error: Option<String>,
    today: String,
}

pub(super) async fn detail(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    revealed: Option<(String, String)>,
    notice: Option<&str>,
    error: Option<FieldError>,
) -> WebResult<Response> {
    let u = reader(ctx)?;
    let scope = u.scope();
    let t = ctx.tr();
    let today_s = today(state.now());
    let today_d = today_date(state.now());
    let mut c = state.db.read().await?;
    let s = staff::get(&mut c, &scope, id).await?;
    let cert_rows = staff::certificates(&mut c, &scope, id).await?;
    let soon = today_d + chrono::Duration::days(90);
    let ce = training::continuing_education(&mut c, id, &cert_rows, today_d).await?;
    let trainings = training::of_person(&mut c, &scope, id).await?;
    let assignments = staff::assignments(&mut c, &scope, id).await?;
    drop(c);
    let certs = cert_rows
        .into_iter()
        .map(|x| CertRow {
            level: t.get(&format!("certificate.level.{}", x.level)).to_owned(),
            expiring: x.registered_until.is_some_and(|r| r < soon),
            registered_until: x
                .registered_until
                .map_or_else(|| "—".into(), staff::date_text),
            number: x.number,
            obtained_on: staff::date_text(x.obtained_on),
        })
        .collect();
    Ok(page(
        if error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        &DetailPage {
            t,
            base: Base::new(
                ctx,
                s.name.clone(),
                vec![
                    Crumb::link(t.get("menu.staff"), "/staff"),
                    Crumb::here(s.name.clone()),
                ],
            )
            .with_notice(&t, notice),
            row: row(state, &t, &s),
            revealed,
            can_reveal: u.can(Permission::RevealSensitive),
            can_write: u.can(Permission::WriteData),
            certs,
            ce,
            trainings,
            assignments,
            choices: choices(state, &t, &scope).await?,
            error: error.map(|e| {
                format!(
                    "{}{}{}",
                    t.get(&format!("field.{}", e.field)),
                    t.get("punct.colon"),
                    t.get(e.code)
                )
            }),
            today: today_s,
            s,
        },
    ))
}

pub async fn detail_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> WebResult<Response> {
    detail(&state, &ctx, &id, None, q.notice.as_deref(), None).await
}

/// Open the sealed values after recording who, why and when. The reason is required.
pub(super) async fn reveal_values(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    reason: &str,
) -> WebResult<(String, String)> {
    let u = ctx.user()?;
    u.require(Permission::RevealSensitive)?;
    let reason = reason.trim();
    if reason.chars().count() < 2 || reason.chars().count() > 200 {
        return Err(FieldError::new("reason", "reveal.reason_required").into());
    }
    let (id_owned, reason) = (id.to_owned(), reason.to_owned());
    let s = write_or_invalid(
        state,
        ctx,
        Entry::new("staff", "reveal").requiring(Permission::RevealSensitive),
        move |conn, scope, _| -> WorkWith<'_, Staff> {
            Box::pin(async move {
                let s = staff::get(conn, &scope, &id_owned).await?;
                let done = Done {
                    entity_id: id_owned,
                    region: Some(s.region_code.clone()),
                    changes: vec![
                        Change::new("fields", None::<String>, Some("id_number, mobile")),
                        Change::new("reason", None::<String>, Some(reason)),
                    ],
                };
                Ok((done, s))
            })
        },
    )
    .await?;
    let idn = state
        .keys
        .open(staff::ID_FIELD, &s.id_number_sealed)
        .map_err(|e| WebError::Internal(e.into()))?;
    let mobile = s
        .mobile_sealed
        .as_deref()
        .map(|m| state.keys.open(staff::MOBILE_FIELD, m))
        .transpose()
        .map_err(|e| WebError::Internal(e.into()))?;
    Ok((
        idn,
        mobile
            .and_then(|m| Mobile::parse(&m).ok())
            .map(|m| m.national().to_owned())
            .unwrap_or_default(),
    ))
}

pub async fn reveal(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    match reveal_values(&state, &ctx, &id, f.get("reason")).await {
        Ok(values) => detail(&state, &ctx, &id, Some(values), None, None).await,
        Err(WebError::Invalid(e)) => {
            detail(&state, &ctx, &id, None, None, e.into_iter().next()).await
        }
        Err(e) => Err(e),
    }
}

/// What a change on a person's page reports for its audit entry.
pub(super) type Changes<'c> = Pin<Box<dyn Future<Output = StoreResult<Vec<Change>>> + Send + 'c>>;

/// A change on a person's record (a certificate, a training) from their page or the API,
/// audited under the person's record and region; `Some` field error when refused (nothing
/// written). A person outside the caller's scope is not found.
pub(super) async fn person_change<F>(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    action: &'static str,
    f: F,
) -> WebResult<Option<FieldError>>
where
    F: for<'c> FnOnce(&'c mut Conn, Scope, String) -> Changes<'c> + Send + 'static,
{
    let pid = id.to_owned();
    audited(state, ctx, "staff", action, move |conn, scope, by| {
        Box::pin(async move {
            let region = staff::get(conn, &scope, &pid).await?.region_code;
            let changes = f(conn, scope, by).await?;
            Ok(Done {
                entity_id: pid,
                region: Some(region),
                changes,
            })
        })
    })
    .await
}

/// A certificate as its form gives it, checked.
pub(super) struct CertificateInput {
    level: CertLevel,
    number: String,
    obtained: NaiveDate,
    until: Option<NaiveDate>,
}

/// The certificate form's fields (`level`, `number`, `obtained_on`, `registered_until`),
/// checked: the page's and the API's one set of rules.
pub(super) fn parse_certificate(
    f: &FormData,
    now: i64,
) -> Result<CertificateInput, Vec<FieldError>> {
    let mut c = Check::default();
    let level = c.take(CertLevel::parse(f.get("level")));
    let number = c.text("number", f.get("number"), 40);
    let today_d = today_date(now);
    let obtained =
        as_date(&c.date_of("obtained_on", f.get("obtained_on"), DateKind::Past, today_d));
    // Registration runs 3 years; by default from the date obtained.
    let until = match f.get("registered_until") {
        "" => obtained.map(registration_until),
        v => as_date(&c.date("registered_until", v)),
    };
    c.finish()?;
    // Missing only after `take` or `date_of` recorded an error, which `finish` has returned.
    let (Some(level), Some(obtained)) = (level, obtained) else {
        return Err(vec![FieldError::new("obtained_on", "date.invalid")]);
    };
    Ok(CertificateInput {
        level,
        number,
        obtained,
        until,
    })
}

/// Record a certificate of person `id`, audited (page and API).
pub(super) async fn save_certificate(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    input: CertificateInput,
) -> WebResult<Option<FieldError>> {
    let (sid, now) = (id.to_owned(), state.now());
    person_change(state, ctx, id, "certificate", move |conn, scope, _| {
        Box::pin(async move {
            staff::add_certificate(
                conn,
                &scope,
                &sid,
                &NewCertificate {
                    level: input.level,
                    number: &input.number,
                    obtained_on: input.obtained,
                    registered_until: input.until,
                },
                now,
            )
            .await?;
            Ok(vec![
                Change::new("certificate", None::<String>, Some(input.level.as_str())),
                Change::new(
                    "registered_until",
                    None::<String>,
                    input.until.map(staff::date_text),
                ),
            ])
        })
    })
    .await
}

pub async fn add_certificate(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let input = match parse_certificate(&f, state.now()) {
        Ok(i) => i,
        Err(errors) => {
            return detail(&state, &ctx, &id, None, None, errors.into_iter().next()).await;
        }
    };
    match save_certificate(&state, &ctx, &id, input).await? {
        None => Ok(Redirect::to(&format!("/staff/{id}?notice=notice.saved")).into_response()),
        Some(e) => detail(&state, &ctx, &id, None, None, Some(e)).await,
    }
}

impl DetailPage {
    fn label(&self, prefix: &str, code: &str) -> String {
        label(&self.t, prefix, code)
    }
}

/// The label of a code; "—" for the empty code (e.g. education not given).
fn label(t: &Tr, prefix: &str, code: &str) -> String {
    if code.is_empty() {
        "—".to_owned()
    } else {
        t.get(&format!("{prefix}.{code}")).to_owned()
    }
}
