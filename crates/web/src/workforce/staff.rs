//! The workforce pages and API: staff records with identity data masked by default (a reveal
//! needs a permission and a reason, and is audited), certificates with the continuing-education
//! status of the current cycle, training, supervision, 三区计划 teams and workforce statistics.
//! Identity numbers never appear in URLs: finding a person by number is a POST.

use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use shegong_domain::people::identity::{IdNumber, IdType, Mobile, Sex, mask};
use shegong_domain::workforce::{
    CertLevel, Education, Employment, Sector, StaffRole, current_cycle, format_hours, parse_hours,
    registration_until,
};
use shegong_domain::{FieldError, Permission, RegionCode, Scope};
use shegong_store::admin::audit::{self, Change, Event};
use shegong_store::workforce::staff::{
    self, Filter, NewCertificate, NewSession, NewTeam, NewTraining, Staff, StaffInput,
};
use shegong_store::{PageRequest, network::orgs, network::stations};
use utoipa::{IntoParams, ToSchema};

use crate::http::auth::{Ctx, CurrentUser};
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, Crumb, page};
use crate::http::state::AppState;
use crate::network::stations::{reader, writer};
use crate::ui::excel::{self, Cell};
use crate::ui::forms::{Check, FormData, today};
use crate::ui::i18n::Tr;
use crate::ui::list::{FormErrors, Pager, pager, rfc3339};
use shegong_domain::text::DateKind;

/// Masked identity values of a record (opened only to be masked).
fn masked(state: &AppState, s: &Staff) -> (String, String) {
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

async fn choices(state: &AppState, t: &Tr, scope: &Scope) -> WebResult<Choices> {
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
        "" => parsed
            .as_ref()
            .and_then(|n| n.sex())
            .map(|s| s.as_str().to_owned()),
        v => c.take(Sex::parse(v)).map(|s| s.as_str().to_owned()),
    };
    let birth_date = match f.get("birth_date") {
        "" => parsed
            .as_ref()
            .and_then(|n| n.birth_date())
            .map(|d| d.format("%Y-%m-%d").to_string()),
        v => Some(c.date_of("birth_date", v, DateKind::Birth, today_d)),
    };
    let mobile = match f.get("mobile") {
        "" => None,
        v => c.take(Mobile::parse(v)).map(|m| m.as_str().to_owned()),
    };
    let education = c
        .take(Education::parse(f.get("education")))
        .map(|e| e.as_str().to_owned())
        .unwrap_or_default();
    let major = c.opt_text("major", f.get("major"), 50);
    let role = c.take(StaffRole::parse(f.get("role")));
    let employment = c.take(Employment::parse(f.get("employment_mode")));
    let sector = c.take(Sector::parse(if f.get("sector").is_empty() {
        "civil_affairs"
    } else {
        f.get("sector")
    }));
    let joined_on = c.date_of("joined_on", f.get("joined_on"), DateKind::Past, today_d);
    let left_on = match f.get("left_on") {
        "" => None,
        v => Some(c.date_of("left_on", v, DateKind::Past, today_d)),
    };
    if left_on.as_deref().is_some_and(|l| l < joined_on.as_str()) {
        c.fail("left_on", "staff.left_before_joined");
    }
    let left_reason = c.opt_text("left_reason", f.get("left_reason"), 200);
    let station = Some(f.get("station").to_owned()).filter(|s| !s.is_empty());
    let region = match (station.is_some(), f.get("region")) {
        (true, _) | (false, "") => None,
        (false, v) => c.take(RegionCode::parse(v)),
    };
    if station.is_none() && f.get("region").is_empty() {
        c.fail("region", "staff.station_or_region");
    }
    c.finish()?;
    Ok(StaffInput {
        name,
        id_type: id_type.expect("checked").as_str().to_owned(),
        id_number: id_number.expect("checked"),
        sex,
        birth_date,
        mobile,
        education,
        major,
        employer_org_id: Some(f.get("employer").to_owned()).filter(|s| !s.is_empty()),
        station_id: station,
        region,
        role: role.expect("checked").as_str().to_owned(),
        employment_mode: employment.expect("checked").as_str().to_owned(),
        sector: sector.expect("checked").as_str().to_owned(),
        joined_on,
        left_on,
        left_reason,
    })
}

fn changes(
    before: Option<&Staff>,
    after: &StaffInput,
    id_changed: bool,
    mobile_changed: bool,
) -> Vec<Change> {
    let b = |f: fn(&Staff) -> String| before.map(f);
    let mut c = audit::diff(&[
        (
            "name",
            b(|s| s.name.clone()),
            Some(after.name.trim().to_owned()),
        ),
        (
            "id_type",
            b(|s| s.id_type.clone()),
            Some(after.id_type.clone()),
        ),
        (
            "station",
            before.map(|s| s.station_id.clone().unwrap_or_default()),
            Some(after.station_id.clone().unwrap_or_default()),
        ),
        (
            "employer",
            before.map(|s| s.employer_org_id.clone().unwrap_or_default()),
            Some(after.employer_org_id.clone().unwrap_or_default()),
        ),
        ("role", b(|s| s.role.clone()), Some(after.role.clone())),
        (
            "employment_mode",
            b(|s| s.employment_mode.clone()),
            Some(after.employment_mode.clone()),
        ),
        (
            "education",
            b(|s| s.education.clone()),
            Some(after.education.clone()),
        ),
        ("major", b(|s| s.major.clone()), Some(after.major.clone())),
        (
            "sector",
            b(|s| s.sector.clone()),
            Some(after.sector.clone()),
        ),
        (
            "joined_on",
            b(|s| s.joined_on.clone()),
            Some(after.joined_on.clone()),
        ),
        (
            "left_on",
            b(|s| s.left_on.clone().unwrap_or_default()),
            Some(after.left_on.clone().unwrap_or_default()),
        ),
        (
            "status",
            b(|s| s.status.clone()),
            Some(
                if after.left_on.is_some() {
                    "left"
                } else {
                    "active"
                }
                .to_owned(),
            ),
        ),
    ]);
    // Sensitive values are never written to the audit log, only the fact of a change.
    if id_changed {
        c.push(Change::redacted("id_number"));
    }
    if mobile_changed {
        c.push(Change::redacted("mobile"));
    }
    c
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
    /// `region` (default), `name`, `joined` or `updated`.
    pub sort: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    #[serde(default)]
    #[param(ignore)]
    pub notice: Option<String>,
}

impl ListQuery {
    fn filter(&self) -> Filter {
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
            sort: self.sort.clone(),
        }
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        let v = |o: &Option<String>| o.clone().unwrap_or_default();
        vec![
            ("q", v(&self.q)),
            ("region", v(&self.region)),
            ("station", v(&self.station)),
            ("role", v(&self.role)),
            ("status", v(&self.status)),
            ("certified", v(&self.certified)),
            ("sort", v(&self.sort)),
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
        status: t.get(&format!("staff.status.{}", s.status)).to_owned(),
        active: s.status == "active",
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
            PageRequest::new(q.page, q.per_page),
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
            pager: pager(&t, &data, "/staff", &pairs),
            export_href: format!(
                "/staff/export.xlsx?{}",
                serde_urlencoded::to_string(&pairs).unwrap_or_default()
            ),
            choices: choices(state, &t, &u.scope()).await?,
            can_write: u.can(Permission::WriteData),
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
    let u = ctx.user()?;
    u.require(Permission::Export)?;
    let t = ctx.tr();
    let data = {
        let mut c = state.db.read().await?;
        staff::list(
            &mut c,
            &u.scope(),
            &q.filter(),
            PageRequest {
                page: 1,
                per_page: excel::MAX_ROWS,
            },
        )
        .await?
    };
    let headers = [
        "staff.name",
        "staff.id_type",
        "staff.id_number",
        "staff.sex",
        "staff.birth_date",
        "staff.mobile",
        "staff.education",
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
                s.birth_date.clone().unwrap_or_default().into(),
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
                s.joined_on.as_str().into(),
                r.status.into(),
            ]
        })
        .collect();
    excel::send(
        &state,
        &ctx,
        "staff",
        "menu.staff",
        &headers,
        &rows,
        vec![Change::new("identity", None::<String>, Some("masked"))],
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// Form

/// (field, label key, options as (code, label)).
type Select = (&'static str, &'static str, Vec<(String, String)>);

#[derive(Template)]
#[template(path = "workforce/staff/form.html")]
struct FormPage {
    t: Tr,
    base: Base,
    person: Option<Staff>,
    id_masked: String,
    f: FormData,
    errors: FormErrors,
    choices: Choices,
    /// The plain selects.
    selects: Vec<Select>,
}

async fn form_page(
    state: &AppState,
    ctx: &Ctx,
    person: Option<Staff>,
    f: FormData,
    errors: Vec<FieldError>,
) -> WebResult<Response> {
    let u = writer(ctx)?;
    let t = ctx.tr();
    let title = person
        .as_ref()
        .map(|p| p.name.clone())
        .unwrap_or_else(|| t.get("staff.new").to_owned());
    let id_masked = person
        .as_ref()
        .map(|p| masked(state, p).0)
        .unwrap_or_default();
    let mut crumbs = vec![Crumb::link(t.get("menu.staff"), "/staff")];
    if let Some(p) = &person {
        crumbs.push(Crumb::link(p.name.clone(), format!("/staff/{}", p.id)));
    }
    crumbs.push(Crumb::here(if person.is_some() {
        t.get("action.edit").to_owned()
    } else {
        title.clone()
    }));
    Ok(page(
        if errors.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        },
        &{
            let choices = choices(state, &t, &u.scope()).await?;
            let selects = vec![
                (
                    "education",
                    "staff.education_label",
                    choices.educations.clone(),
                ),
                ("role", "staff.role_label", choices.roles.clone()),
                (
                    "employment_mode",
                    "staff.employment_label",
                    choices.employments.clone(),
                ),
                ("sector", "staff.sector_label", choices.sectors.clone()),
            ];
            FormPage {
                t,
                base: Base::new(ctx, title, crumbs),
                person,
                id_masked,
                f,
                errors: FormErrors::new(t, errors),
                choices,
                selects,
            }
        },
    ))
}

pub async fn new_form(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let u = writer(&ctx)?;
    let mut pairs = vec![
        ("id_type".to_owned(), "resident_id".to_owned()),
        ("role".to_owned(), "frontline".to_owned()),
        ("employment_mode".to_owned(), "project_purchase".to_owned()),
        ("sector".to_owned(), "civil_affairs".to_owned()),
        ("joined_on".to_owned(), today(state.now())),
        ("region".to_owned(), u.user.region_code.clone()),
    ];
    if let Some(org) = &u.user.org_id {
        pairs.push(("employer".into(), org.clone()));
    }
    form_page(&state, &ctx, None, FormData::new(pairs), vec![]).await
}

/// Create with audit (form, API).
pub async fn create_staff(state: &AppState, ctx: &Ctx, input: &StaffInput) -> WebResult<String> {
    let u = writer(ctx)?;
    let mut tx = state.db.begin().await?;
    let id = staff::create(&mut tx, &u.scope(), &state.keys, input, state.now()).await?;
    let region = staff::get(&mut tx, &u.scope(), &id).await?.region_code;
    audit::record(
        &mut tx,
        state.db.backend(),
        &ctx.actor(),
        Event::new("create", "staff", Some(id.clone()))
            .region(region)
            .changes(changes(None, input, true, input.mobile.is_some())),
        state.now(),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    let input = match parse(&f, None, &today(state.now())) {
        Ok(i) => i,
        Err(errors) => return form_page(&state, &ctx, None, clear_id(f), errors).await,
    };
    match create_staff(&state, &ctx, &input).await {
        Ok(id) => Ok(Redirect::to(&format!("/staff/{id}?notice=notice.saved")).into_response()),
        Err(WebError::Invalid(errors)) => form_page(&state, &ctx, None, clear_id(f), errors).await,
        Err(e) => Err(e),
    }
}

/// A re-rendered form never echoes an identity number back into the page.
fn clear_id(f: FormData) -> FormData {
    FormData::new(
        f.pairs()
            .into_iter()
            .filter(|(k, _)| k != "id_number")
            .collect(),
    )
}

fn form_of(s: &Staff) -> FormData {
    FormData::new(vec![
        ("name".into(), s.name.clone()),
        ("id_type".into(), s.id_type.clone()),
        ("sex".into(), s.sex.clone().unwrap_or_default()),
        (
            "birth_date".into(),
            s.birth_date.clone().unwrap_or_default(),
        ),
        ("education".into(), s.education.clone()),
        ("major".into(), s.major.clone()),
        (
            "employer".into(),
            s.employer_org_id.clone().unwrap_or_default(),
        ),
        ("station".into(), s.station_id.clone().unwrap_or_default()),
        ("region".into(), s.region_code.clone()),
        ("role".into(), s.role.clone()),
        ("employment_mode".into(), s.employment_mode.clone()),
        ("sector".into(), s.sector.clone()),
        ("joined_on".into(), s.joined_on.clone()),
        ("left_on".into(), s.left_on.clone().unwrap_or_default()),
        ("left_reason".into(), s.left_reason.clone()),
    ])
}

async fn load(state: &AppState, u: &CurrentUser, id: &str) -> WebResult<Staff> {
    let mut c = state.db.read().await?;
    Ok(staff::get(&mut c, &u.scope(), id).await?)
}

pub async fn edit_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let u = writer(&ctx)?;
    let s = load(&state, u, &id).await?;
    let f = form_of(&s);
    form_page(&state, &ctx, Some(s), f, vec![]).await
}

pub async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    let u = writer(&ctx)?.clone();
    let s = load(&state, &u, &id).await?;
    let current = state
        .keys
        .open(staff::ID_FIELD, &s.id_number_sealed)
        .map_err(|e| WebError::Internal(e.into()))?;
    let current_mobile = s
        .mobile_sealed
        .as_deref()
        .and_then(|m| state.keys.open(staff::MOBILE_FIELD, m).ok());
    let mut input = match parse(&f, Some(&current), &today(state.now())) {
        Ok(i) => i,
        Err(errors) => return form_page(&state, &ctx, Some(s), clear_id(f), errors).await,
    };
    if f.get("mobile").is_empty() && f.get("clear_mobile").is_empty() {
        input.mobile = current_mobile;
    }
    let mut tx = state.db.begin().await?;
    match staff::update(
        &mut tx,
        &u.scope(),
        &state.keys,
        &id,
        &input,
        &today(state.now()),
        state.now(),
    )
    .await
    {
        Ok(before) => {
            audit::record(
                &mut tx,
                state.db.backend(),
                &ctx.actor(),
                Event::new("update", "staff", Some(id.clone()))
                    .region(before.region_code.clone())
                    .changes(changes(
                        Some(&before),
                        &input,
                        input.id_number != current,
                        input.mobile.as_deref()
                            != state
                                .keys
                                .open(
                                    staff::MOBILE_FIELD,
                                    before.mobile_sealed.as_deref().unwrap_or(""),
                                )
                                .ok()
                                .as_deref(),
                    )),
                state.now(),
            )
            .await?;
            tx.commit().await?;
            Ok(Redirect::to(&format!("/staff/{id}?notice=notice.saved")).into_response())
        }
        Err(shegong_store::StoreError::Invalid(e)) => {
            drop(tx);
            form_page(&state, &ctx, Some(s), clear_id(f), vec![e]).await
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// The person's page, reveal, certificates, training

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
    ce: Option<(String, String, String, String, bool)>,
    trainings: Vec<(String, String, String, String)>,
    assignments: Vec<staff::Assignment>,
    choices: Choices,
    error: Option<String>,
    today: String,
}

async fn detail(
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
    let today_d = chrono::NaiveDate::parse_from_str(&today_s, "%Y-%m-%d").expect("today");
    let mut c = state.db.read().await?;
    let s = staff::get(&mut c, &scope, id).await?;
    let cert_rows = staff::certificates(&mut c, &scope, id).await?;
    let soon = (today_d + chrono::Duration::days(90))
        .format("%Y-%m-%d")
        .to_string();
    // Continuing education: the highest certificate's current 3-year cycle.
    let best = cert_rows
        .iter()
        .filter_map(|x| CertLevel::parse(&x.level).ok().map(|l| (l, x)))
        .max_by_key(|(l, _)| l.rank());
    let ce = match best {
        Some((level, cert)) => {
            let obtained =
                chrono::NaiveDate::parse_from_str(&cert.obtained_on, "%Y-%m-%d").unwrap_or(today_d);
            let until = cert
                .registered_until
                .as_deref()
                .and_then(|r| chrono::NaiveDate::parse_from_str(r, "%Y-%m-%d").ok());
            let (from, to) = current_cycle(obtained, until, today_d);
            let done =
                staff::training_tenths(&mut c, id, &from.to_string(), &to.to_string()).await?;
            let required = level.required_hours() * 10;
            Some((
                from.to_string(),
                to.to_string(),
                format_hours(done),
                format_hours(required),
                done >= required,
            ))
        }
        None => None,
    };
    let trainings = staff::trainings(
        &mut c,
        &scope,
        Some(id),
        PageRequest::new(Some(1), Some(200)),
    )
    .await?
    .items
    .into_iter()
    .map(|(tr, _)| {
        (
            tr.held_on,
            tr.course,
            tr.provider,
            format_hours(tr.hours_tenths),
        )
    })
    .collect();
    let assignments = staff::assignments(&mut c, &scope, id).await?;
    drop(c);
    let certs = cert_rows
        .into_iter()
        .map(|x| CertRow {
            level: t.get(&format!("certificate.level.{}", x.level)).to_owned(),
            expiring: x
                .registered_until
                .as_deref()
                .is_some_and(|r| r < soon.as_str()),
            registered_until: x.registered_until.unwrap_or_else(|| "—".into()),
            number: x.number,
            obtained_on: x.obtained_on,
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
    detail(&state, &ctx, &id, None, q.notice.as_deref(), None).await
}

/// Open the sealed values after recording who, why and when. The reason is required.
async fn reveal_values(
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
    let mut tx = state.db.begin().await?;
    let s = staff::get(&mut tx, &u.scope(), id).await?;
    audit::record(
        &mut tx,
        state.db.backend(),
        &ctx.actor(),
        Event::new("reveal", "staff", Some(id.to_owned()))
            .region(s.region_code.clone())
            .changes(vec![
                Change::new("fields", None::<String>, Some("id_number, mobile")),
                Change::new("reason", None::<String>, Some(reason)),
            ]),
        state.now(),
    )
    .await?;
    tx.commit().await?;
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

async fn person_action<F>(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    action: &'static str,
    f: F,
) -> WebResult<Response>
where
    F: for<'c> FnOnce(
            &'c mut shegong_store::Conn,
            Scope,
            String,
        ) -> std::pin::Pin<
            Box<
                dyn std::future::Future<Output = shegong_store::StoreResult<Vec<Change>>>
                    + Send
                    + 'c,
            >,
        > + Send
        + 'static,
{
    writer(ctx)?;
    let pid = id.to_owned();
    let failed =
        crate::http::write::audited(state, ctx, "staff", action, move |conn, scope, by| {
            Box::pin(async move {
                let region = staff::get(conn, &scope, &pid).await?.region_code;
                let changes = f(conn, scope, by).await?;
                Ok(crate::http::write::Done {
                    entity_id: pid,
                    region: Some(region),
                    changes,
                })
            })
        })
        .await?;
    match failed {
        None => Ok(Redirect::to(&format!("/staff/{id}?notice=notice.saved")).into_response()),
        Some(e) => detail(state, ctx, id, None, None, Some(e)).await,
    }
}

pub async fn add_certificate(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let mut c = Check::default();
    let level = c.take(CertLevel::parse(f.get("level")));
    let number = c.text("number", f.get("number"), 40);
    let today_d =
        chrono::NaiveDate::parse_from_str(&today(state.now()), "%Y-%m-%d").unwrap_or_default();
    let obtained = c.date_of("obtained_on", f.get("obtained_on"), DateKind::Past, today_d);
    // Registration runs 3 years; by default from the date obtained.
    let until = match f.get("registered_until") {
        "" => chrono::NaiveDate::parse_from_str(&obtained, "%Y-%m-%d")
            .ok()
            .map(|d| registration_until(d).to_string()),
        v => Some(c.date("registered_until", v)),
    };
    if let Err(errors) = c.finish() {
        return detail(&state, &ctx, &id, None, None, errors.into_iter().next()).await;
    }
    let (sid, now, level) = (id.clone(), state.now(), level.expect("checked"));
    person_action(&state, &ctx, &id, "certificate", move |conn, scope, _| {
        Box::pin(async move {
            staff::add_certificate(
                conn,
                &scope,
                &sid,
                &NewCertificate {
                    level: level.as_str(),
                    number: &number,
                    obtained_on: &obtained,
                    registered_until: until.as_deref(),
                },
                now,
            )
            .await?;
            Ok(vec![
                Change::new("certificate", None::<String>, Some(level.as_str())),
                Change::new("registered_until", None::<String>, until),
            ])
        })
    })
    .await
}

pub async fn add_training(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let mut c = Check::default();
    let course = c.text("course", f.get("course"), 100);
    let provider = c.opt_text("provider", f.get("provider"), 100);
    let hours = c.take(parse_hours("hours", f.get("hours")));
    let today_d =
        chrono::NaiveDate::parse_from_str(&today(state.now()), "%Y-%m-%d").unwrap_or_default();
    let held_on = c.date_of("held_on", f.get("held_on"), DateKind::Past, today_d);
    if let Err(errors) = c.finish() {
        return detail(&state, &ctx, &id, None, None, errors.into_iter().next()).await;
    }
    let (sid, now, hours) = (id.clone(), state.now(), hours.expect("checked"));
    person_action(&state, &ctx, &id, "training", move |conn, scope, by| {
        Box::pin(async move {
            staff::add_training(
                conn,
                &scope,
                &sid,
                &NewTraining {
                    course: &course,
                    provider: &provider,
                    hours_tenths: hours,
                    held_on: &held_on,
                },
                &by,
                now,
            )
            .await?;
            Ok(vec![
                Change::new("training", None::<String>, Some(&course)),
                Change::new("hours", None::<String>, Some(format_hours(hours))),
            ])
        })
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Supervision, 三区计划, statistics

#[derive(Template)]
#[template(path = "workforce/staff/supervision.html")]
struct SupervisionPage {
    t: Tr,
    base: Base,
    pairs: Vec<(staff::Pair, Vec<staff::Session>)>,
    teams: Vec<staff::Team>,
    people: Vec<(String, String)>,
    /// Supervisor accounts that may be named on a pair: (user id, display name).
    accounts: Vec<(String, String)>,
    can_write: bool,
    error: Option<String>,
    today: String,
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

impl SupervisionPage {
    fn hours(&self, tenths: &i64) -> String {
        format_hours(*tenths)
    }
}

async fn supervision_render(
    state: &AppState,
    ctx: &Ctx,
    notice: Option<&str>,
    error: Option<FieldError>,
) -> WebResult<Response> {
    let u = reader(ctx)?;
    let scope = u.scope();
    let t = ctx.tr();
    let mut c = state.db.read().await?;
    let me = Some(u.user.id.as_str());
    let mut pairs = Vec::new();
    for p in staff::pairs(&mut c, &scope, me).await? {
        let s = staff::sessions(&mut c, &scope, me, &p.id).await?;
        pairs.push((p, s));
    }
    let accounts = shegong_store::people::residents::workers(&mut c, &scope)
        .await?
        .into_iter()
        .filter(|(_, _, role)| role == "supervisor")
        .map(|(id, name, _)| (id, name))
        .collect();
    let teams = staff::teams(&mut c, &scope).await?;
    let people = staff::list(
        &mut c,
        &scope,
        &Filter {
            status: Some("active".into()),
            ..Default::default()
        },
        PageRequest {
            page: 1,
            per_page: 5000,
        },
    )
    .await?
    .items
    .into_iter()
    .map(|p| {
        (
            p.id,
            format!("{}（{}）", p.name, p.station_name.unwrap_or_default()),
        )
    })
    .collect();
    drop(c);
    let title = t.get("menu.supervision");
    Ok(page(
        if error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        &SupervisionPage {
            t,
            base: Base::new(ctx, title, vec![Crumb::here(title)]).with_notice(&t, notice),
            pairs,
            teams,
            people,
            accounts,
            can_write: u.can(Permission::WriteData),
            error: error.map(|e| {
                format!(
                    "{}{}{}",
                    t.get(&format!("field.{}", e.field)),
                    t.get("punct.colon"),
                    t.get(e.code)
                )
            }),
            today: today(state.now()),
        },
    ))
}

pub async fn supervision_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NoticeQuery>,
) -> WebResult<Response> {
    supervision_render(&state, &ctx, q.notice.as_deref(), None).await
}

/// One small write on the supervision page, audited; field errors re-render the page.
async fn supervision_write<F>(
    state: &AppState,
    ctx: &Ctx,
    entity: &'static str,
    f: F,
) -> WebResult<Response>
where
    F: for<'c> FnOnce(
            &'c mut shegong_store::Conn,
            Scope,
            String,
        ) -> std::pin::Pin<
            Box<
                dyn std::future::Future<Output = shegong_store::StoreResult<(String, Vec<Change>)>>
                    + Send
                    + 'c,
            >,
        > + Send
        + 'static,
{
    writer(ctx)?;
    let failed =
        crate::http::write::audited(state, ctx, entity, "create", move |conn, scope, by| {
            Box::pin(async move {
                let (entity_id, changes) = f(conn, scope, by).await?;
                Ok(crate::http::write::Done {
                    entity_id,
                    region: None,
                    changes,
                })
            })
        })
        .await?;
    match failed {
        None => Ok(Redirect::to("/supervision?notice=notice.saved").into_response()),
        Some(e) => supervision_render(state, ctx, None, Some(e)).await,
    }
}

pub async fn add_pair(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    let (a, b, from, now) = (
        f.get("supervisor").to_owned(),
        f.get("supervisee").to_owned(),
        f.get("from_date").to_owned(),
        state.now(),
    );
    // The supervisor's own account (optional): they then see this pair's records wherever the
    // supervisee works.
    let account = Some(f.get("supervisor_account").trim().to_owned()).filter(|s| !s.is_empty());
    let from = if from.is_empty() { today(now) } else { from };
    supervision_write(&state, &ctx, "supervision_pair", move |conn, scope, _| {
        Box::pin(async move {
            let id =
                staff::add_pair_for(conn, &scope, &a, &b, account.as_deref(), &from, now).await?;
            Ok((
                id,
                vec![
                    Change::new("supervisor", None::<String>, Some(&a)),
                    Change::new("supervisee", None::<String>, Some(&b)),
                    Change::new("supervisor_account", None::<String>, account.clone()),
                ],
            ))
        })
    })
    .await
}

pub async fn add_session(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(pair): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    let mut c = Check::default();
    let held_on = c.date("held_on", f.get("held_on"));
    let hours = c.take(parse_hours("hours", f.get("hours")));
    let topics = c.text("topics", f.get("topics"), 500);
    if let Err(e) = c.finish() {
        return supervision_render(&state, &ctx, None, e.into_iter().next()).await;
    }
    let Some(hours) = hours else {
        return supervision_render(&state, &ctx, None, None).await;
    };
    let now = state.now();
    let me = writer(&ctx)?.user.id.clone();
    supervision_write(
        &state,
        &ctx,
        "supervision_session",
        move |conn, scope, by| {
            Box::pin(async move {
                let id = staff::add_session_as(
                    conn,
                    &scope,
                    Some(&me),
                    &pair,
                    &NewSession {
                        held_on: &held_on,
                        hours_tenths: hours,
                        topics: &topics,
                    },
                    &by,
                    now,
                )
                .await?;
                Ok((
                    id,
                    vec![
                        Change::new("pair", None::<String>, Some(&pair)),
                        Change::new("hours", None::<String>, Some(format_hours(hours))),
                    ],
                ))
            })
        },
    )
    .await
}

pub async fn add_team(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    let mut c = Check::default();
    let starts = c.date("starts_on", f.get("starts_on"));
    let ends = c.date("ends_on", f.get("ends_on"));
    if let Err(e) = c.finish() {
        return supervision_render(&state, &ctx, None, e.into_iter().next()).await;
    }
    let (region, name, sending, now) = (
        f.get("region").to_owned(),
        f.get("name").to_owned(),
        f.get("sending").to_owned(),
        state.now(),
    );
    supervision_write(&state, &ctx, "sanqu_team", move |conn, scope, _| {
        Box::pin(async move {
            let id = staff::add_team(
                conn,
                &scope,
                &NewTeam {
                    region: &region,
                    name: &name,
                    sending: &sending,
                    starts: &starts,
                    ends: &ends,
                },
                now,
            )
            .await?;
            Ok((
                id,
                vec![
                    Change::new("name", None::<String>, Some(&name)),
                    Change::new("host_county", None::<String>, Some(&region)),
                ],
            ))
        })
    })
    .await
}

pub async fn add_member(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(team): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    let (person, dispatched) = (f.get("staff").to_owned(), f.get("dispatched") == "1");
    supervision_write(&state, &ctx, "sanqu_member", move |conn, scope, _| {
        Box::pin(async move {
            staff::add_member(conn, &scope, &team, &person, dispatched).await?;
            Ok((
                team.clone(),
                vec![
                    Change::new("member", None::<String>, Some(&person)),
                    Change::new("dispatched", None::<bool>, Some(dispatched)),
                ],
            ))
        })
    })
    .await
}

#[derive(Template)]
#[template(path = "workforce/staff/stats.html")]
struct StatsPage {
    t: Tr,
    base: Base,
    top: staff::Figures,
    rows: Vec<staff::Figures>,
    understaffed: Vec<staff::Understaffed>,
    expiring: Vec<staff::Expiring>,
    rule: i64,
    code: String,
    can_supervise: bool,
    drill: bool,
}

impl StatsPage {
    fn tenths(&self, v: impl std::borrow::Borrow<i64>) -> String {
        format_hours(*v.borrow())
    }
}

async fn stats_render(
    state: &AppState,
    ctx: &Ctx,
    code: Option<String>,
    notice: Option<&str>,
) -> WebResult<Response> {
    let u = reader(ctx)?;
    let scope = u.scope();
    let t = ctx.tr();
    // Without a code: the user's own region, or the whole country ("").
    let code = code
        .or_else(|| scope.region.as_ref().map(|r| r.to_string()))
        .unwrap_or_default();
    let today_s = today(state.now());
    let year_start = format!("{}-01-01", &today_s[..4]);
    let year_ago = format!(
        "{}{}",
        today_s[..4].parse::<i32>().unwrap_or(2025) - 1,
        &today_s[4..]
    );
    let soon = (chrono::NaiveDate::parse_from_str(&today_s, "%Y-%m-%d").expect("today")
        + chrono::Duration::days(90))
    .to_string();
    let mut c = state.db.read().await?;
    let (mut top, rows, understaffed) = staff::statistics(
        &mut c,
        &scope,
        (!code.is_empty()).then_some(code.as_str()),
        &year_start,
        &year_ago,
    )
    .await?;
    if code.is_empty() {
        top.name = t.get("scope.national").to_owned();
    }
    let expiring = staff::expiring(
        &mut c,
        &Scope {
            region: RegionCode::parse(&code).ok(),
            org: scope.org,
        },
        &soon,
    )
    .await?;
    let rule = staff::staffing_rule(&mut c, &code).await?;
    drop(c);
    let title = format!("{} · {}", t.get("menu.workforce"), top.name);
    Ok(page(
        StatusCode::OK,
        &StatsPage {
            t,
            base: Base::new(
                ctx,
                title,
                vec![
                    Crumb::link(t.get("menu.workforce"), "/workforce"),
                    Crumb::here(top.name.clone()),
                ],
            )
            .with_notice(&t, notice),
            drill: code.len() < 9,
            top,
            rows,
            understaffed,
            expiring,
            rule,
            code,
            can_supervise: u.can(Permission::Supervise),
        },
    ))
}

pub async fn stats_root(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NoticeQuery>,
) -> WebResult<Response> {
    stats_render(&state, &ctx, None, q.notice.as_deref()).await
}

pub async fn stats_region(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
) -> WebResult<Response> {
    if RegionCode::parse(&code).is_err() {
        return Err(WebError::NotFound);
    }
    stats_render(&state, &ctx, Some(code), None).await
}

pub async fn set_rule(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    let u = ctx.user()?;
    u.require(Permission::Supervise)?;
    let mut c = Check::default();
    let min = c.int("min_social_workers", f.get("min_social_workers"), 0, 50, 2);
    c.finish().map_err(WebError::Invalid)?;
    let region = f.get("region").to_owned();
    let mut tx = state.db.begin().await?;
    let before = staff::set_staffing_rule(&mut tx, &u.scope(), &region, min, state.now()).await?;
    audit::record(
        &mut tx,
        state.db.backend(),
        &ctx.actor(),
        Event::new("update", "staffing_rule", Some(region.clone()))
            .region(region.clone())
            .changes(vec![Change::new("min_social_workers", before, Some(min))]),
        state.now(),
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/workforce/{region}")).into_response())
}

// ---------------------------------------------------------------------------------------------
// API

/// A staff record as the API returns it: identity values masked.
#[derive(Serialize, ToSchema)]
pub struct StaffDto {
    pub id: String,
    pub name: String,
    /// `resident_id`, `hk_macau_permit`, `taiwan_permit`, `foreign_permanent` or `passport`.
    pub id_type: String,
    /// Masked, e.g. `4302**********1234`; see `POST /api/v1/staff/{id}/reveal`.
    pub id_number: String,
    /// Masked, e.g. `138****5678`.
    pub mobile: String,
    pub sex: Option<String>,
    pub birth_date: Option<String>,
    pub education: String,
    pub role: String,
    pub employment_mode: String,
    pub sector: String,
    pub station_id: Option<String>,
    pub station_name: Option<String>,
    pub employer_org_id: Option<String>,
    pub region_code: String,
    /// Highest certificate: `assistant`, `intermediate`, `senior`, or null.
    pub certificate: Option<String>,
    /// `active` or `left`.
    pub status: String,
    pub joined_on: String,
    pub left_on: Option<String>,
    pub updated_at: String,
}

fn dto(state: &AppState, s: Staff) -> StaffDto {
    let (id_number, mobile) = masked(state, &s);
    StaffDto {
        id_number,
        mobile,
        updated_at: rfc3339(s.updated_at),
        id: s.id,
        name: s.name,
        id_type: s.id_type,
        sex: s.sex,
        birth_date: s.birth_date,
        education: s.education,
        role: s.role,
        employment_mode: s.employment_mode,
        sector: s.sector,
        station_id: s.station_id,
        station_name: s.station_name,
        employer_org_id: s.employer_org_id,
        region_code: s.region_code,
        certificate: s.cert_level,
        status: s.status,
        joined_on: s.joined_on,
        left_on: s.left_on,
    }
}

#[derive(Serialize, ToSchema)]
pub struct StaffPage {
    pub items: Vec<StaffDto>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// Staff within the caller's scope (identity values masked).
#[utoipa::path(get, path = "/api/v1/staff", tag = "workforce", params(ListQuery), responses((status = 200, body = StaffPage)))]
pub async fn api_list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> WebResult<Json<StaffPage>> {
    let u = reader(&ctx)?;
    let mut c = state.db.read().await?;
    let p = staff::list(
        &mut c,
        &u.scope(),
        &q.filter(),
        PageRequest::new(q.page, q.per_page),
    )
    .await?;
    Ok(Json(StaffPage {
        items: p.items.into_iter().map(|s| dto(&state, s)).collect(),
        total: p.total,
        page: p.page,
        per_page: p.per_page,
    }))
}

/// One staff record (identity values masked).
#[utoipa::path(get, path = "/api/v1/staff/{id}", tag = "workforce", params(("id" = String, Path)),
    responses((status = 200, body = StaffDto), (status = 404, description = "Unknown or outside the caller's scope")))]
pub async fn api_get(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<StaffDto>> {
    let u = reader(&ctx)?;
    Ok(Json(dto(&state, load(&state, u, &id).await?)))
}

/// Creating a staff record.
#[derive(Deserialize, ToSchema)]
pub struct StaffBody {
    pub name: String,
    pub id_type: String,
    pub id_number: String,
    #[serde(default)]
    pub mobile: String,
    #[serde(default)]
    pub sex: String,
    /// `YYYY-MM-DD`; suggested from the identity number when empty.
    #[serde(default)]
    pub birth_date: String,
    #[serde(default)]
    pub education: String,
    #[serde(default)]
    pub major: String,
    pub role: String,
    pub employment_mode: String,
    #[serde(default)]
    pub sector: String,
    pub station_id: Option<String>,
    /// Work region when there is no station.
    pub region_code: Option<String>,
    pub employer_org_id: Option<String>,
    pub joined_on: String,
}

impl StaffBody {
    fn form(&self) -> FormData {
        FormData::new(vec![
            ("name".into(), self.name.clone()),
            ("id_type".into(), self.id_type.clone()),
            ("id_number".into(), self.id_number.clone()),
            ("mobile".into(), self.mobile.clone()),
            ("sex".into(), self.sex.clone()),
            ("birth_date".into(), self.birth_date.clone()),
            ("education".into(), self.education.clone()),
            ("major".into(), self.major.clone()),
            ("role".into(), self.role.clone()),
            ("employment_mode".into(), self.employment_mode.clone()),
            ("sector".into(), self.sector.clone()),
            (
                "station".into(),
                self.station_id.clone().unwrap_or_default(),
            ),
            (
                "region".into(),
                self.region_code.clone().unwrap_or_default(),
            ),
            (
                "employer".into(),
                self.employer_org_id.clone().unwrap_or_default(),
            ),
            ("joined_on".into(), self.joined_on.clone()),
        ])
    }
}

/// Register a staff member.
#[utoipa::path(post, path = "/api/v1/staff", tag = "workforce", request_body = StaffBody,
    responses((status = 201, body = StaffDto), (status = 422, description = "Invalid fields, each named")))]
pub async fn api_create(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(body): Json<StaffBody>,
) -> WebResult<Response> {
    let u = writer(&ctx)?.clone();
    let input = parse(&body.form(), None, &today(state.now())).map_err(WebError::Invalid)?;
    let id = create_staff(&state, &ctx, &input).await?;
    Ok((
        StatusCode::CREATED,
        Json(dto(&state, load(&state, &u, &id).await?)),
    )
        .into_response())
}

#[derive(Deserialize, ToSchema)]
pub struct RevealBody {
    /// Why the full value is needed (recorded in the audit log).
    pub reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct Revealed {
    pub id_number: String,
    pub mobile: String,
}

/// The full identity number and mobile, for a stated reason (audited).
#[utoipa::path(post, path = "/api/v1/staff/{id}/reveal", tag = "workforce", params(("id" = String, Path)), request_body = RevealBody,
    responses((status = 200, body = Revealed), (status = 403, description = "No reveal permission"), (status = 422, description = "Reason missing")))]
pub async fn api_reveal(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(body): Json<RevealBody>,
) -> WebResult<Json<Revealed>> {
    let (id_number, mobile) = reveal_values(&state, &ctx, &id, &body.reason).await?;
    Ok(Json(Revealed { id_number, mobile }))
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct TrainingDto {
    #[serde(default)]
    pub id: String,
    pub staff_id: String,
    #[serde(default)]
    pub staff_name: String,
    pub course: String,
    #[serde(default)]
    pub provider: String,
    /// Hours, e.g. 1.5.
    pub hours: f64,
    /// `YYYY-MM-DD`
    pub held_on: String,
}

#[derive(Deserialize, IntoParams)]
pub struct TrainingQuery {
    pub staff_id: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// Training records within the caller's scope.
#[utoipa::path(get, path = "/api/v1/trainings", tag = "workforce", params(TrainingQuery), responses((status = 200, body = Vec<TrainingDto>)))]
pub async fn api_trainings(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<TrainingQuery>,
) -> WebResult<Json<Vec<TrainingDto>>> {
    let u = reader(&ctx)?;
    let mut c = state.db.read().await?;
    let p = staff::trainings(
        &mut c,
        &u.scope(),
        q.staff_id.as_deref(),
        PageRequest::new(q.page, q.per_page),
    )
    .await?;
    Ok(Json(
        p.items
            .into_iter()
            .map(|(t, name)| TrainingDto {
                id: t.id,
                staff_id: t.staff_id,
                staff_name: name,
                course: t.course,
                provider: t.provider,
                hours: t.hours_tenths as f64 / 10.0,
                held_on: t.held_on,
            })
            .collect(),
    ))
}

/// Record a training.
#[utoipa::path(post, path = "/api/v1/trainings", tag = "workforce", request_body = TrainingDto,
    responses((status = 201, description = "Recorded"), (status = 422, description = "Invalid fields, each named")))]
pub async fn api_add_training(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(b): Json<TrainingDto>,
) -> WebResult<Response> {
    let u = writer(&ctx)?.clone();
    let hours = parse_hours("hours", &b.hours.to_string())?;
    let mut c = Check::default();
    // The same limits as the form's.
    c.text("course", b.course.trim(), 100);
    c.opt_text("provider", b.provider.trim(), 100);
    let today_d =
        chrono::NaiveDate::parse_from_str(&today(state.now()), "%Y-%m-%d").unwrap_or_default();
    let held_on = c.date_of("held_on", &b.held_on, DateKind::Past, today_d);
    c.finish().map_err(WebError::Invalid)?;
    let mut tx = state.db.begin().await?;
    let region = staff::get(&mut tx, &u.scope(), &b.staff_id)
        .await?
        .region_code;
    let id = staff::add_training(
        &mut tx,
        &u.scope(),
        &b.staff_id,
        &NewTraining {
            course: &b.course,
            provider: &b.provider,
            hours_tenths: hours,
            held_on: &held_on,
        },
        &u.user.username,
        state.now(),
    )
    .await?;
    audit::record(
        &mut tx,
        state.db.backend(),
        &ctx.actor(),
        Event::new("training", "staff", Some(b.staff_id.clone()))
            .region(region)
            .changes(vec![Change::new("training", None::<String>, Some(&id))]),
        state.now(),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::CREATED.into_response())
}

#[derive(Serialize, ToSchema)]
pub struct SupervisionDto {
    pub pair_id: String,
    pub supervisor_id: String,
    pub supervisor_name: String,
    pub supervisee_id: String,
    pub supervisee_name: String,
    pub from_date: String,
    pub sessions: Vec<SessionDto>,
    pub total_hours: f64,
}

#[derive(Serialize, ToSchema)]
pub struct SessionDto {
    pub held_on: String,
    pub hours: f64,
    pub topics: String,
}

/// Supervisor–supervisee pairs within the caller's scope, with their sessions.
#[utoipa::path(get, path = "/api/v1/supervision", tag = "workforce", responses((status = 200, body = Vec<SupervisionDto>)))]
pub async fn api_supervision(
    State(state): State<AppState>,
    ctx: Ctx,
) -> WebResult<Json<Vec<SupervisionDto>>> {
    let u = reader(&ctx)?;
    let scope = u.scope();
    let me = Some(u.user.id.as_str());
    let mut c = state.db.read().await?;
    let mut out = Vec::new();
    for p in staff::pairs(&mut c, &scope, me).await? {
        let sessions = staff::sessions(&mut c, &scope, me, &p.id).await?;
        out.push(SupervisionDto {
            total_hours: p.hours_tenths as f64 / 10.0,
            sessions: sessions
                .into_iter()
                .map(|s| SessionDto {
                    held_on: s.held_on,
                    hours: s.hours_tenths as f64 / 10.0,
                    topics: s.topics,
                })
                .collect(),
            pair_id: p.id,
            supervisor_id: p.supervisor_id,
            supervisor_name: p.supervisor_name,
            supervisee_id: p.supervisee_id,
            supervisee_name: p.supervisee_name,
            from_date: p.from_date,
        });
    }
    Ok(Json(out))
}
