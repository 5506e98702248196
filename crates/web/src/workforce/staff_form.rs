//! Registering and editing a staff member: the form pages and the audited create and update,
//! whose audit entries name a changed identity number or mobile without its value. A re-rendered
//! form never echoes an identity number back into the page.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use shegong_domain::FieldError;
use shegong_domain::people::identity::{IdNumber, IdType};
use shegong_store::admin::audit::{self, Change};
use shegong_store::workforce::staff::{self, Staff, StaffInput};

use crate::http::auth::Ctx;
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, Crumb, page};
use crate::http::state::AppState;
use crate::http::write::{Done, audited, audited_id, writer};
use crate::ui::forms::{FormData, today};
use crate::ui::i18n::Tr;
use crate::ui::list::FormErrors;
use crate::workforce::staff::{Choices, choices, load, masked, parse};

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
            Some(after.id_type.as_str().to_owned()),
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
        (
            "role",
            b(|s| s.role.to_string()),
            Some(after.role.to_string()),
        ),
        (
            "employment_mode",
            b(|s| s.employment_mode.to_string()),
            Some(after.employment_mode.to_string()),
        ),
        (
            "education",
            b(|s| s.education.clone()),
            Some(after.education.to_string()),
        ),
        ("major", b(|s| s.major.clone()), Some(after.major.clone())),
        (
            "sector",
            b(|s| s.sector.clone()),
            Some(after.sector.to_string()),
        ),
        (
            "joined_on",
            b(|s| staff::date_text(s.joined_on)),
            Some(staff::date_text(after.joined_on)),
        ),
        (
            "left_on",
            b(|s| s.left_on.map(staff::date_text).unwrap_or_default()),
            Some(after.left_on.map(staff::date_text).unwrap_or_default()),
        ),
        (
            "status",
            b(|s| s.status.to_string()),
            Some(after.status().to_string()),
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
    let (st, input, now) = (state.clone(), input.clone(), state.now());
    audited_id(state, ctx, "staff", "create", move |conn, scope, _| {
        Box::pin(async move {
            let id = staff::create(conn, &scope, &st.keys, &input, now).await?;
            let region = staff::get(conn, &scope, &id).await?.region_code;
            Ok(Done {
                changes: changes(None, &input, true, input.mobile.is_some()),
                entity_id: id,
                region: Some(region),
            })
        })
    })
    .await?
    .map_err(|e| WebError::Invalid(vec![e]))
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    // A number kept from the last round (sealed in the form) stands when the field is blank.
    let kept = kept_id(&state, &f);
    let input = match parse(&f, kept.as_deref(), &today(state.now())) {
        Ok(i) => i,
        Err(errors) => {
            let f = keep_id(&state, f, kept.as_deref(), &errors);
            return form_page(&state, &ctx, None, f, errors).await;
        }
    };
    match create_staff(&state, &ctx, &input).await {
        Ok(id) => Ok(Redirect::to(&format!("/staff/{id}?notice=notice.saved")).into_response()),
        Err(WebError::Invalid(errors)) => {
            let f = keep_id(&state, f, kept.as_deref(), &errors);
            form_page(&state, &ctx, None, f, errors).await
        }
        Err(e) => Err(e),
    }
}

/// The sealed form field that carries an entered identity number across a refused submission.
const KEPT_ID_FIELD: &str = "form.staff.id_number";

/// The identity number kept by the last refused submission, when the field was left blank.
fn kept_id(state: &AppState, f: &FormData) -> Option<String> {
    if !f.get("id_number").trim().is_empty() || f.get("id_kept").is_empty() {
        return None;
    }
    state.keys.open(KEPT_ID_FIELD, f.get("id_kept")).ok()
}

/// A refused new-staff form never echoes the identity number, but need not lose it: a valid
/// number (or one kept before) travels sealed in a hidden field, shown masked, so the user
/// does not type it again. A number the error is about is not kept: it must be corrected.
fn keep_id(state: &AppState, f: FormData, kept: Option<&str>, errors: &[FieldError]) -> FormData {
    let id_type = IdType::parse(f.get("id_type")).ok();
    let entered = f.get("id_number").trim().to_owned();
    let number = if entered.is_empty() {
        kept.map(str::to_owned)
    } else {
        Some(entered)
    };
    let valid = match (id_type, number) {
        (Some(t), Some(n)) if !errors.iter().any(|e| e.field == "id_number") => {
            IdNumber::parse(t, &n).ok()
        }
        _ => None,
    };
    let mut pairs: Vec<(String, String)> = clear_id(f)
        .pairs()
        .into_iter()
        .filter(|(k, _)| k != "id_kept" && k != "id_kept_masked")
        .collect();
    if let Some(n) = valid {
        pairs.push(("id_kept".into(), state.keys.seal(KEPT_ID_FIELD, n.as_str())));
        pairs.push(("id_kept_masked".into(), n.masked()));
    }
    FormData::new(pairs)
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
            s.birth_date.map(staff::date_text).unwrap_or_default(),
        ),
        ("education".into(), s.education.clone()),
        ("major".into(), s.major.clone()),
        (
            "employer".into(),
            s.employer_org_id.clone().unwrap_or_default(),
        ),
        ("station".into(), s.station_id.clone().unwrap_or_default()),
        ("region".into(), s.region_code.clone()),
        ("role".into(), s.role.to_string()),
        ("employment_mode".into(), s.employment_mode.to_string()),
        ("sector".into(), s.sector.clone()),
        ("joined_on".into(), staff::date_text(s.joined_on)),
        (
            "left_on".into(),
            s.left_on.map(staff::date_text).unwrap_or_default(),
        ),
        ("left_reason".into(), s.left_reason.clone()),
    ])
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
    match save_update(&state, &ctx, &s, &f).await? {
        Ok(()) => Ok(Redirect::to(&format!("/staff/{id}?notice=notice.saved")).into_response()),
        Err(errors) => form_page(&state, &ctx, Some(s), clear_id(f), errors).await,
    }
}

/// Check and save the edit form of staff record `s` (the page's and `PUT /api/v1/staff/{id}`'s
/// one path): a blank identity number keeps the current one, a blank mobile keeps the current
/// one unless `clear_mobile` is set. Audited as `staff`/`update`, sensitive values redacted.
pub(super) async fn save_update(
    state: &AppState,
    ctx: &Ctx,
    s: &Staff,
    f: &FormData,
) -> WebResult<Result<(), Vec<FieldError>>> {
    writer(ctx)?;
    let current = state
        .keys
        .open(staff::ID_FIELD, &s.id_number_sealed)
        .map_err(|e| WebError::Internal(e.into()))?;
    let current_mobile = s
        .mobile_sealed
        .as_deref()
        .and_then(|m| state.keys.open(staff::MOBILE_FIELD, m).ok());
    let mut input = match parse(f, Some(&current), &today(state.now())) {
        Ok(i) => i,
        Err(errors) => return Ok(Err(errors)),
    };
    if f.get("mobile").is_empty() && f.get("clear_mobile").is_empty() {
        input.mobile = current_mobile;
    }
    let (st, now, today_s) = (state.clone(), state.now(), today(state.now()));
    let pid = s.id.clone();
    let failed = audited(state, ctx, "staff", "update", move |conn, scope, _| {
        Box::pin(async move {
            let before = staff::update(conn, &scope, &st.keys, &pid, &input, &today_s, now).await?;
            let mobile_before = st
                .keys
                .open(
                    staff::MOBILE_FIELD,
                    before.mobile_sealed.as_deref().unwrap_or(""),
                )
                .ok();
            Ok(Done {
                changes: changes(
                    Some(&before),
                    &input,
                    input.id_number != current,
                    input.mobile != mobile_before,
                ),
                entity_id: pid,
                region: Some(before.region_code),
            })
        })
    })
    .await?;
    Ok(failed.map_or(Ok(()), |e| Err(vec![e])))
}
