//! The volunteer registry's pages: the list with filters and pages, its Excel export (identity
//! masked), the form (new and edit, every refused field named), the record page, and revealing
//! the sealed values (a permission and a reason, audited).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use shegong_domain::people::identity::IdType;
use shegong_domain::volunteers::VolunteerStatus;
use shegong_domain::{FieldError, Permission, RegionCode, Scope};
use shegong_store::PageRequest;
use shegong_store::admin::audit::Change;
use shegong_store::network::stations;
use shegong_store::volunteers::registry::{self, Filter, Volunteer, VolunteerInput};
use utoipa::IntoParams;

use crate::http::auth::{Ctx, reader};
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, Crumb, form_status, page};
use crate::http::state::AppState;
use crate::http::write::{Done, Entry, WorkWith, write_or_invalid, writer};
use crate::ui::excel::{self, Cell, Export};
use crate::ui::forms::{FormData, today};
use crate::ui::i18n::Tr;
use crate::ui::list::{FormErrors, NoticeQuery, Pager, pager};

use super::input::{self, Sensitive, masked, opened};

/// Today by the application clock.
pub fn today_date(state: &AppState) -> NaiveDate {
    // `today` formats a date, so this parse cannot fail; the fallback is `today`'s own.
    today(state.now()).parse().unwrap_or_default()
}

#[derive(Deserialize, IntoParams, Default)]
pub struct ListQuery {
    /// Name or volunteer number contains.
    pub q: Option<String>,
    /// A region code within the caller's scope.
    pub region: Option<String>,
    /// `active`, `suspended` or `left`; all when absent.
    pub status: Option<String>,
    /// Has a skill containing this text.
    pub skill: Option<String>,
    /// Order: `no`, `name`, `region`, `status`, `registered` (latest first) or `hours` (most
    /// first); `-` before it reverses the order. Any other value is the default order (newest
    /// first).
    #[param(schema_with = crate::http::api::code::volunteer_sort)]
    pub sort: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    /// Export only: these volunteers (comma-separated ids of a batch selection, at most 200).
    #[serde(default)]
    #[param(ignore)]
    pub ids: Option<String>,
    #[serde(default)]
    #[param(ignore)]
    pub notice: Option<String>,
}

impl ListQuery {
    pub fn filter(&self) -> WebResult<Filter> {
        let s = |o: &Option<String>| {
            o.as_deref()
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(str::to_owned)
        };
        let status = match s(&self.status) {
            Some(v) => Some(VolunteerStatus::parse(&v)?),
            None => None,
        };
        let region = match s(&self.region) {
            Some(r) => Some(
                RegionCode::parse(&r)
                    .map_err(|_| FieldError::new("region", "region.invalid_code"))?,
            ),
            None => None,
        };
        for (field, v) in [("q", &self.q), ("skill", &self.skill)] {
            if v.as_ref().is_some_and(|x| x.chars().count() > 100) {
                return Err(FieldError::new(field, "form.too_long").into());
            }
        }
        Ok(Filter {
            q: s(&self.q),
            region,
            status,
            skill: s(&self.skill),
            sort: self.sort(),
            ids: crate::ui::list::batch_ids(self.ids.as_deref())?,
        })
    }

    fn sort(&self) -> Option<shegong_store::Sort> {
        shegong_store::Sort::parse(self.sort.as_deref(), registry::SORTS)
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        let v = |o: &Option<String>| o.clone().unwrap_or_default();
        let [sort, size] = crate::ui::list::table_pairs(self.sort(), self.per_page);
        vec![
            ("q", v(&self.q)),
            ("region", v(&self.region)),
            ("status", v(&self.status)),
            ("skill", v(&self.skill)),
            sort,
            size,
        ]
    }
}

pub fn status_label(t: &Tr, s: VolunteerStatus) -> String {
    t.get(&format!("volunteer.status.{s}")).to_owned()
}

fn statuses(t: &Tr) -> Vec<(String, String)> {
    VolunteerStatus::ALL
        .iter()
        .map(|s| (s.to_string(), status_label(t, *s)))
        .collect()
}

pub struct Row {
    pub id: String,
    pub volunteer_no: String,
    pub name: String,
    pub id_number: String,
    pub mobile: String,
    pub region: String,
    pub station: String,
    pub skills: String,
    pub status: String,
}

fn row(state: &AppState, t: &Tr, v: &Volunteer) -> Row {
    let m = masked(state, v);
    Row {
        id: v.id.clone(),
        volunteer_no: v.volunteer_no.clone(),
        name: v.name.clone(),
        id_number: m.id_number,
        mobile: m.mobile,
        region: shegong_domain::network::region::display_path(v.region_path.split('/')),
        station: v.station_name.clone().unwrap_or_default(),
        skills: v.skills.clone(),
        status: status_label(t, v.status),
    }
}

#[derive(Template)]
#[template(path = "volunteers/list.html")]
struct ListPage {
    t: Tr,
    base: Base,
    rows: Vec<Row>,
    pager: Pager,
    q: ListQuery,
    statuses: Vec<(String, String)>,
    export_href: String,
    can_write: bool,
    can_export: bool,
}

pub async fn list_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> WebResult<Response> {
    let u = reader(&ctx)?;
    let t = ctx.tr();
    let data = {
        let mut c = state.db.read().await?;
        registry::list(
            &mut c,
            &u.scope(),
            &q.filter()?,
            PageRequest::sized(q.page, q.per_page),
        )
        .await?
    };
    let pairs = q.pairs();
    let title = t.get("menu.volunteers");
    Ok(page(
        StatusCode::OK,
        &ListPage {
            base: Base::new(&ctx, title, vec![Crumb::here(title)])
                .with_notice(&t, q.notice.as_deref()),
            rows: data.items.iter().map(|v| row(&state, &t, v)).collect(),
            pager: pager(&t, &data, "/volunteers", &pairs)?,
            export_href: format!(
                "/volunteers/export.xlsx?{}",
                serde_urlencoded::to_string(&pairs).unwrap_or_default()
            ),
            statuses: statuses(&t),
            can_write: u.can(Permission::WriteData),
            can_export: u.can(Permission::Export),
            q,
            t,
        },
    ))
}

/// The filtered list as a workbook: identity numbers and mobiles masked, always.
pub async fn export(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> WebResult<Response> {
    let export = Export::check(&ctx, "volunteer", Permission::Export)?;
    let u = export.user();
    let t = ctx.tr();
    let list = {
        let mut c = state.db.read().await?;
        registry::list_all(&mut c, &u.scope(), &q.filter()?, excel::MAX_ROWS).await?
    };
    crate::ui::list::check_batch(
        crate::ui::list::batch_ids(q.ids.as_deref())?.as_ref(),
        list.len(),
    )?;
    let headers = [
        "volunteer.no",
        "volunteer.name",
        "volunteer.id_number",
        "volunteer.sex",
        "volunteer.birth_date",
        "volunteer.mobile",
        "volunteer.region",
        "volunteer.station",
        "volunteer.skills",
        "volunteer.intentions",
        "volunteer.availability",
        "common.status",
        "volunteer.registered_on",
    ]
    .map(|k| t.get(k));
    let rows: Vec<Vec<Cell>> = list
        .iter()
        .map(|v| {
            let r = row(&state, &t, v);
            vec![
                r.volunteer_no.into(),
                r.name.into(),
                r.id_number.into(),
                v.sex
                    .as_deref()
                    .map(|s| t.get(&format!("person.sex.{s}")).to_owned())
                    .unwrap_or_default()
                    .into(),
                v.birth_date.as_str().into(),
                r.mobile.into(),
                r.region.into(),
                r.station.into(),
                r.skills.into(),
                v.intentions.as_str().into(),
                v.availability.as_str().into(),
                r.status.into(),
                v.registered_on.as_str().into(),
            ]
        })
        .collect();
    let note = vec![Change::new("identity", None::<String>, Some("masked"))];
    export
        .send(&state, &ctx, "menu.volunteers", &headers, &rows, note)
        .await
}

#[derive(Template)]
#[template(path = "volunteers/form.html")]
struct FormPage {
    t: Tr,
    base: Base,
    record: Option<Volunteer>,
    m: Option<Sensitive>,
    f: FormData,
    errors: FormErrors,
    id_types: Vec<(String, String)>,
    stations: Vec<(String, String)>,
    statuses: Vec<(String, String)>,
}

impl FormPage {
    fn other_errors(&self) -> Vec<String> {
        self.errors.others(input::FIELDS)
    }

    fn action(&self) -> String {
        match &self.record {
            Some(v) => format!("/volunteers/{}", v.id),
            None => "/volunteers".into(),
        }
    }
}

pub(super) async fn station_choices(
    state: &AppState,
    scope: &Scope,
) -> WebResult<Vec<(String, String)>> {
    let mut c = state.db.read().await?;
    Ok(stations::list(
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
    .collect())
}

async fn form_page(
    state: &AppState,
    ctx: &Ctx,
    record: Option<Volunteer>,
    f: FormData,
    errors: Vec<FieldError>,
) -> WebResult<Response> {
    let u = writer(ctx)?;
    let t = ctx.tr();
    let title = record
        .as_ref()
        .map(|v| v.name.clone())
        .unwrap_or_else(|| t.get("volunteer.new").to_owned());
    let mut crumbs = vec![Crumb::link(t.get("menu.volunteers"), "/volunteers")];
    if let Some(v) = &record {
        crumbs.push(Crumb::link(v.name.clone(), format!("/volunteers/{}", v.id)));
        crumbs.push(Crumb::here(t.get("action.edit")));
    } else {
        crumbs.push(Crumb::here(title.clone()));
    }
    let status = form_status(&errors);
    Ok(page(
        status,
        &FormPage {
            base: Base::new(ctx, title, crumbs),
            m: record.as_ref().map(|v| masked(state, v)),
            record,
            f,
            errors: FormErrors::new(t, errors),
            id_types: IdType::ALL
                .iter()
                .map(|v| {
                    let key = format!("idcard.type.{}", v.as_str());
                    (v.as_str().to_owned(), t.get(&key).to_owned())
                })
                .collect(),
            stations: station_choices(state, &u.scope()).await?,
            statuses: statuses(&t),
            t,
        },
    ))
}

pub async fn new_form(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let u = writer(&ctx)?;
    let f = FormData::new(vec![
        ("id_type".into(), "resident_id".into()),
        ("status".into(), "active".into()),
        ("registered_on".into(), today(state.now())),
        ("region".into(), u.user.region_code.clone()),
    ]);
    form_page(&state, &ctx, None, f, vec![]).await
}

/// Register with its audit entry (form and API). Returns the new id.
pub async fn register(state: &AppState, ctx: &Ctx, input: VolunteerInput) -> WebResult<String> {
    let (app, now, day) = (state.clone(), state.now(), today_date(state));
    write_or_invalid(
        state,
        ctx,
        Entry::new("volunteer", "create"),
        move |conn, scope, by| -> WorkWith<'_, String> {
            Box::pin(async move {
                let id = registry::create(conn, &scope, &app.keys, &input, day, &by, now).await?;
                let done = Done {
                    entity_id: id.clone(),
                    region: input.region.as_ref().map(ToString::to_string),
                    changes: input::changes(None, &input),
                };
                Ok((done, id))
            })
        },
    )
    .await
}

/// Change a record with its audit entry (form and API).
pub async fn change(state: &AppState, ctx: &Ctx, id: &str, input: VolunteerInput) -> WebResult<()> {
    let (app, now, day, vid) = (state.clone(), state.now(), today_date(state), id.to_owned());
    write_or_invalid(
        state,
        ctx,
        Entry::new("volunteer", "update").only_if_changed(),
        move |conn, scope, _| -> WorkWith<'_, ()> {
            Box::pin(async move {
                let before =
                    registry::update(conn, &scope, &app.keys, &vid, &input, day, now).await?;
                let done = Done {
                    entity_id: vid,
                    region: Some(before.region_code.clone()),
                    changes: input::changes(Some(&before), &input),
                };
                Ok((done, ()))
            })
        },
    )
    .await
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let parsed = match input::parse(&f, today_date(&state), false) {
        Ok(i) => i,
        Err(errors) => return form_page(&state, &ctx, None, f, errors).await,
    };
    match register(&state, &ctx, parsed).await {
        Ok(id) => {
            Ok(Redirect::to(&format!("/volunteers/{id}?notice=notice.saved")).into_response())
        }
        Err(WebError::Invalid(errors)) => form_page(&state, &ctx, None, f, errors).await,
        Err(e) => Err(e),
    }
}

async fn load(state: &AppState, ctx: &Ctx, id: &str) -> WebResult<Volunteer> {
    let u = reader(ctx)?;
    let mut c = state.db.read().await?;
    Ok(registry::get(&mut c, &u.scope(), id).await?)
}

pub async fn edit_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let v = load(&state, &ctx, &id).await?;
    let f = input::form_of(&v);
    form_page(&state, &ctx, Some(v), f, vec![]).await
}

pub async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let current = load(&state, &ctx, &id).await?;
    let parsed = match input::parse(&f, today_date(&state), true) {
        Ok(i) => i,
        Err(errors) => return form_page(&state, &ctx, Some(current), f, errors).await,
    };
    match change(&state, &ctx, &id, parsed).await {
        Ok(()) => {
            Ok(Redirect::to(&format!("/volunteers/{id}?notice=notice.saved")).into_response())
        }
        Err(WebError::Invalid(errors)) => form_page(&state, &ctx, Some(current), f, errors).await,
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "volunteers/detail.html")]
struct DetailPage {
    t: Tr,
    base: Base,
    v: Volunteer,
    m: Sensitive,
    region: String,
    status: String,
    sex: String,
    id_type: String,
    revealed: bool,
    can_write: bool,
    can_reveal: bool,
    error: Option<String>,
    service: Service,
}

/// The volunteer's service record on their page: stars, hours, certificates, and the stations
/// that may certify.
struct Service {
    stars: u8,
    hours: String,
    to_next_star: Option<String>,
    /// Who approves each star here: (stars, level label).
    approvers: Vec<(usize, String)>,
    certificates: Vec<shegong_store::volunteers::hours::Certificate>,
    stations: Vec<(String, String)>,
    /// Star levels awarded (highest first), and those this reader may award now.
    awards: Vec<shegong_store::volunteers::stars::StarAward>,
    awardable: Vec<i64>,
}

async fn service(
    state: &AppState,
    u: &crate::http::auth::CurrentUser,
    t: Tr,
    v: &Volunteer,
) -> WebResult<Service> {
    use shegong_domain::volunteers::activities::{minutes_to_next_star, star_level};
    let certificates = {
        let mut c = state.db.read().await?;
        shegong_store::volunteers::hours::certificates(&mut c, &u.scope(), &v.id).await?
    };
    let stations = if u.can(Permission::WriteData) {
        station_choices(state, &u.scope()).await?
    } else {
        vec![]
    };
    let awards = {
        let mut c = state.db.read().await?;
        shegong_store::volunteers::stars::list(&mut c, &u.scope(), &v.id).await?
    };
    let awarded = awards.first().map_or(0, |a| a.stars);
    let awardable = if u.can(Permission::Supervise) {
        (awarded + 1..=i64::from(star_level(v.recorded_minutes)))
            .filter(|n| {
                let level = super::stars::approver(&state.config.volunteers, &v.region_code, *n);
                shegong_store::volunteers::stars::entitled(&u.scope(), level)
            })
            .collect()
    } else {
        vec![]
    };
    let hours = |m: i64| format!("{:.1}", m as f64 / 60.0);
    let approvers = state
        .config
        .volunteers
        .star_approvers(&v.region_code)
        .iter()
        .enumerate()
        .map(|(i, a)| (i + 1, t.label("volunteer.approver", a.as_str())))
        .collect();
    Ok(Service {
        approvers,
        stars: star_level(v.recorded_minutes),
        hours: hours(v.recorded_minutes),
        to_next_star: minutes_to_next_star(v.recorded_minutes).map(hours),
        certificates,
        stations,
        awards,
        awardable,
    })
}

/// The volunteer's page with a refusal from one of its forms (the certificate form).
pub(super) async fn show_with_error(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    error: FieldError,
) -> WebResult<Response> {
    let v = load(state, ctx, id).await?;
    detail(state, ctx, v, false, None, Some(error)).await
}

async fn detail(
    state: &AppState,
    ctx: &Ctx,
    v: Volunteer,
    revealed: bool,
    notice: Option<&str>,
    error: Option<FieldError>,
) -> WebResult<Response> {
    let u = reader(ctx)?;
    let t = ctx.tr();
    let title = format!("{} {}", v.volunteer_no, v.name);
    let error = error.map(|e| FormErrors::new(t, vec![e]).others(&[]).join(" "));
    let service = service(state, u, t, &v).await?;
    Ok(page(
        if error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        &DetailPage {
            base: Base::new(
                ctx,
                title.clone(),
                vec![
                    Crumb::link(t.get("menu.volunteers"), "/volunteers"),
                    Crumb::here(title),
                ],
            )
            .with_notice(&t, notice),
            m: if revealed {
                opened(state, &v)
            } else {
                masked(state, &v)
            },
            region: shegong_domain::network::region::display_path(v.region_path.split('/')),
            status: status_label(&t, v.status),
            sex: v
                .sex
                .as_deref()
                .map(|s| t.get(&format!("person.sex.{s}")).to_owned())
                .unwrap_or_default(),
            id_type: t.get(&format!("idcard.type.{}", v.id_type)).to_owned(),
            v,
            revealed,
            can_write: u.can(Permission::WriteData),
            can_reveal: u.can(Permission::RevealSensitive),
            error,
            service,
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
    let v = load(&state, &ctx, &id).await?;
    detail(&state, &ctx, v, false, q.notice.as_deref(), None).await
}

/// Record who looked at the sealed values and why (the reason is required), then show them.
pub(super) async fn audit_reveal(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    reason: &str,
) -> WebResult<Volunteer> {
    ctx.user()?.require(Permission::RevealSensitive)?;
    let reason = reason.trim().to_owned();
    if !(2..=200).contains(&reason.chars().count()) {
        return Err(FieldError::new("reason", "reveal.reason_required").into());
    }
    let vid = id.to_owned();
    write_or_invalid(
        state,
        ctx,
        Entry::new("volunteer", "reveal").requiring(Permission::RevealSensitive),
        move |conn, scope, _| -> WorkWith<'_, Volunteer> {
            Box::pin(async move {
                let v = registry::get(conn, &scope, &vid).await?;
                let done = Done {
                    entity_id: vid,
                    region: Some(v.region_code.clone()),
                    changes: vec![
                        Change::new("fields", None::<String>, Some("id_number, mobile")),
                        Change::new("reason", None::<String>, Some(reason)),
                    ],
                };
                Ok((done, v))
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
        Ok(v) => detail(&state, &ctx, v, true, None, None).await,
        Err(WebError::Invalid(e)) => {
            let v = load(&state, &ctx, &id).await?;
            detail(&state, &ctx, v, false, None, e.into_iter().next()).await
        }
        Err(e) => Err(e),
    }
}
