//! The resident register (一人一档): who may read what (`viewer`), masking of identity numbers,
//! phones and addresses, the resident form and its parsing, registering with likely-duplicate
//! warnings (form, API, import), and editing a file.
//!
//! Identity numbers, phones and addresses are masked by default; a reveal needs a permission and
//! a reason and is audited. Who may see a file at all is decided by the store (`Viewer`).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use shegong_domain::people::identity::{IdNumber, IdType, Mobile, Sex, mask};
use shegong_domain::people::{
    DisabilityCategory, DisabilityGrade, LegalBasis, Relation, RiskTier, VisitMethod,
};
use shegong_domain::text::DateKind;
use shegong_domain::{FieldError, Scope};
use shegong_store::admin::audit::{self, Change};
use shegong_store::people::duplicates;
use shegong_store::people::duplicates::{AskAbout, Candidate};
use shegong_store::people::households;
use shegong_store::people::households::Category;
use shegong_store::people::idempotency;
use shegong_store::people::idempotency::Claim;
use shegong_store::people::residents::{self, Placement, Resident, ResidentInput, Viewer};
use shegong_store::{PageRequest, network::stations};

use crate::http::auth::reader;
use crate::http::auth::{Ctx, CurrentUser};
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, Crumb, page};
use crate::http::state::AppState;
use crate::http::write::{Done, Entry, MaybeWork, audited, write_or_skip, writer};
use crate::ui::forms::{Check, FormData, today};
use crate::ui::i18n::Tr;
use crate::ui::list::FormErrors;

/// The reader as the store sees them: scope, account, the protected-files grant, and today by
/// the application clock (which decides who is a child).
pub fn viewer(state: &AppState, u: &CurrentUser) -> Viewer {
    Viewer {
        scope: u.scope(),
        user_id: u.user.id.clone(),
        sees_protected: u.user.sees_protected == 1,
        // `today` formats a date, so this parse cannot fail; the fallback is `today`'s own.
        today: today(state.now()).parse().unwrap_or_default(),
    }
}

fn open(state: &AppState, field: &str, sealed: Option<&str>) -> Option<String> {
    sealed.and_then(|s| state.keys.open(field, s).ok())
}

/// A phone shown masked: mobiles as `138****5678`, other numbers by the generic mask.
fn masked_phone(p: &str) -> String {
    Mobile::parse(p)
        .map(|m| m.masked())
        .unwrap_or_else(|_| mask(p))
}

/// The masked sensitive values of a file: identity number, phone, address, guardian phone.
pub struct Masked {
    pub id_number: String,
    pub phone: String,
    pub address: String,
    pub guardian_phone: String,
}

pub(super) fn masked(state: &AppState, r: &Resident) -> Masked {
    let addr = open(state, residents::ADDRESS_FIELD, r.address_sealed.as_deref())
        .map(|a| {
            // The village is known from the region; the house number is the sensitive part.
            let keep: String = a.chars().take(6).collect();
            if a.chars().count() > 6 {
                format!("{keep}****")
            } else {
                keep
            }
        })
        .unwrap_or_default();
    Masked {
        id_number: open(state, residents::ID_FIELD, r.id_number_sealed.as_deref())
            .map(|n| mask(&n))
            .unwrap_or_default(),
        phone: open(state, residents::PHONE_FIELD, r.phone_sealed.as_deref())
            .map(|p| masked_phone(&p))
            .unwrap_or_default(),
        address: addr,
        guardian_phone: open(
            state,
            residents::GUARDIAN_PHONE_FIELD,
            r.guardian_phone_sealed.as_deref(),
        )
        .map(|p| masked_phone(&p))
        .unwrap_or_default(),
    }
}

pub(super) fn opened(state: &AppState, r: &Resident) -> Masked {
    Masked {
        id_number: open(state, residents::ID_FIELD, r.id_number_sealed.as_deref())
            .unwrap_or_default(),
        phone: open(state, residents::PHONE_FIELD, r.phone_sealed.as_deref()).unwrap_or_default(),
        address: open(state, residents::ADDRESS_FIELD, r.address_sealed.as_deref())
            .unwrap_or_default(),
        guardian_phone: open(
            state,
            residents::GUARDIAN_PHONE_FIELD,
            r.guardian_phone_sealed.as_deref(),
        )
        .unwrap_or_default(),
    }
}

fn codes<T: Copy>(
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

pub(super) fn category_label(t: &Tr, cats: &[Category], code: &str) -> String {
    cats.iter()
        .find(|c| c.code == code)
        .map(|c| {
            if t.lang == crate::ui::i18n::Lang::En && !c.name_en.is_empty() {
                c.name_en.clone()
            } else {
                c.name_zh.clone()
            }
        })
        .unwrap_or_else(|| code.to_owned())
}

/// Choices shared by the pages.
pub struct Choices {
    pub id_types: Vec<(String, String)>,
    pub tiers: Vec<(String, String)>,
    pub bases: Vec<(String, String)>,
    pub relations: Vec<(String, String)>,
    pub categories: Vec<(String, String)>,
    pub disability_categories: Vec<(String, String)>,
    pub disability_grades: Vec<(String, String)>,
    pub methods: Vec<(String, String)>,
    pub stations: Vec<(String, String)>,
    pub workers: Vec<(String, String)>,
    /// Supervisors only (a case's supervisor).
    pub supervisors: Vec<(String, String)>,
}

pub async fn choices(
    state: &AppState,
    t: &Tr,
    scope: &Scope,
) -> WebResult<(Choices, Vec<Category>)> {
    let mut c = state.db.read().await?;
    let cats = households::categories(&mut c, scope).await?;
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
    let assignable = residents::workers(&mut c, scope).await?;
    let supervisors = assignable
        .iter()
        .filter(|a| a.role == "supervisor")
        .map(|a| (a.id.clone(), account_label(t, a, false)))
        .collect();
    let workers = assignable
        .iter()
        .map(|a| (a.id.clone(), account_label(t, a, true)))
        .collect();
    Ok((
        Choices {
            id_types: IdType::ALL
                .iter()
                .map(|v| {
                    (
                        v.as_str().to_owned(),
                        t.get(&format!("idcard.type.{}", v.as_str())).to_owned(),
                    )
                })
                .collect(),
            tiers: codes(t, "resident.tier", RiskTier::ALL, RiskTier::as_str),
            bases: codes(t, "resident.basis", LegalBasis::ALL, LegalBasis::as_str),
            relations: codes(t, "resident.relation", Relation::ALL, Relation::as_str),
            categories: cats
                .iter()
                .map(|c| (c.code.clone(), category_label(t, &cats, &c.code)))
                .collect(),
            disability_categories: codes(
                t,
                "resident.disability",
                DisabilityCategory::ALL,
                DisabilityCategory::as_str,
            ),
            disability_grades: codes(
                t,
                "resident.grade",
                DisabilityGrade::ALL,
                DisabilityGrade::as_str,
            ),
            methods: codes(t, "visit.method", VisitMethod::ALL, VisitMethod::as_str),
            stations,
            workers,
            supervisors,
        },
        cats,
    ))
}

pub(super) fn opt(f: &FormData, k: &str) -> Option<String> {
    Some(f.get(k).trim().to_owned()).filter(|s| !s.is_empty())
}

/// A phone number: a mainland mobile, or a landline with its area code.
fn phone(c: &mut Check, field: &'static str, v: &str) -> Option<String> {
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    c.take(shegong_domain::text::parse_phone(field, v))
}

/// Parse a resident form (or API body in the same shape). Sealed fields left blank when editing
/// keep their stored values (the form never shows them).
pub fn parse(f: &FormData, today_s: &str) -> Result<ResidentInput, Vec<FieldError>> {
    let today_d = chrono::NaiveDate::parse_from_str(today_s, "%Y-%m-%d").unwrap_or_default();
    let mut c = Check::default();
    let name = c.name("name", f.get("name").trim(), 50);
    let (id_type, id_number) = match f.get("id_number").trim() {
        "" => (None, None),
        raw => {
            let ty = c.take(IdType::parse(if f.get("id_type").is_empty() {
                "resident_id"
            } else {
                f.get("id_type")
            }));
            let n = ty.and_then(|t| c.take(IdNumber::parse_as_of(t, raw, today_d)));
            (ty, n)
        }
    };
    let sex = match f.get("sex") {
        "" => id_number
            .as_ref()
            .and_then(|n| n.sex())
            .map(|s| s.as_str().to_owned()),
        v => c.take(Sex::parse(v)).map(|s| s.as_str().to_owned()),
    };
    let birth_date = match f.get("birth_date") {
        "" => match id_number.as_ref().and_then(|n| n.birth_date()) {
            Some(d) => d.format("%Y-%m-%d").to_string(),
            // An identity number was entered but is wrong: its own error says so, and the
            // birth date it would give is not "required" of the user on top.
            None if !f.get("id_number").trim().is_empty() => String::new(),
            None => c.date("birth_date", ""),
        },
        v => c.date_of("birth_date", v, DateKind::Birth, today_d),
    };
    if !birth_date.is_empty() && birth_date.as_str() > today_s {
        c.fail("birth_date", "resident.born_in_future");
    }
    let ethnicity = c.opt_text("ethnicity", f.get("ethnicity").trim(), 20);
    let address = c.opt_text("address", f.get("address").trim(), 200);
    let phone_v = phone(&mut c, "phone", f.get("phone"));
    let guardian_name = match f.get("guardian_name").trim() {
        "" => String::new(),
        v => c.name("guardian_name", v, 50),
    };
    let guardian_phone = phone(&mut c, "guardian_phone", f.get("guardian_phone"));
    let tier = c.take(RiskTier::parse(if f.get("risk_tier").is_empty() {
        "general"
    } else {
        f.get("risk_tier")
    }));
    let basis = c.take(LegalBasis::parse(f.get("legal_basis")));
    let consent_on = match f.get("consent_on") {
        "" => None,
        v => Some(c.date_of("consent_on", v, DateKind::Past, today_d)),
    };
    if matches!(basis, Some(LegalBasis::Consent | LegalBasis::Guardian)) && consent_on.is_none() {
        c.fail("consent_on", "resident.consent_date_required");
    }
    let region = c.region("region", f.get("region").trim());
    let registered_on = match f.get("registered_on") {
        "" => today_s.to_owned(),
        v => c.date_of("registered_on", v, DateKind::Past, today_d),
    };
    let errors = c.finish().err().unwrap_or_default();
    let (Some(tier), Some(basis), true) = (tier, basis, errors.is_empty()) else {
        return Err(errors);
    };
    Ok(ResidentInput {
        region,
        name,
        id_type: id_type.map(|t| t.as_str().to_owned()),
        id_number: id_number.map(|n| n.as_str().to_owned()),
        sex,
        birth_date,
        ethnicity,
        address: Some(address).filter(|a| !a.is_empty()),
        phone: phone_v,
        guardian_name,
        guardian_phone,
        risk_tier: tier.as_str().to_owned(),
        legal_basis: basis.as_str().to_owned(),
        consent_on,
        protected: f.has("protected", "1"),
        station_id: opt(f, "station"),
        worker_user_id: opt(f, "worker"),
        registered_on,
    })
}

/// What the audit entry says about a resident write: plain fields with values, sealed ones
/// only as changed.
fn changes(before: Option<&Resident>, i: &ResidentInput) -> Vec<Change> {
    let b = |f: fn(&Resident) -> Option<String>| before.and_then(f);
    let mut c = audit::diff(&[
        ("name", b(|r| Some(r.name.clone())), Some(i.name.clone())),
        (
            "region",
            b(|r| Some(r.region_code.clone())),
            i.region.as_ref().map(|r| r.to_string()),
        ),
        (
            "birth_date",
            b(|r| Some(r.birth_date.clone())),
            Some(i.birth_date.clone()),
        ),
        (
            "risk_tier",
            b(|r| Some(r.risk_tier.to_string())),
            Some(i.risk_tier.clone()),
        ),
        (
            "legal_basis",
            b(|r| Some(r.legal_basis.clone())),
            Some(i.legal_basis.clone()),
        ),
        ("station", b(|r| r.station_id.clone()), i.station_id.clone()),
        (
            "worker",
            b(|r| r.worker_user_id.clone()),
            i.worker_user_id.clone(),
        ),
        (
            "protected",
            b(|r| Some(r.protected.to_string())),
            Some(i64::from(i.protected).to_string()),
        ),
    ]);
    for (field, given) in [
        ("id_number", i.id_number.is_some()),
        ("phone", i.phone.is_some()),
        ("address", i.address.is_some()),
        ("guardian_phone", i.guardian_phone.is_some()),
    ] {
        if given {
            c.push(Change::redacted(field));
        }
    }
    c
}

/// (field, label key, options as (code, label)).
pub type Select<'a> = (&'static str, &'static str, &'a Vec<(String, String)>);

#[derive(Template)]
#[template(path = "people/residents/form.html")]
struct FormPage {
    t: Tr,
    base: Base,
    person: Option<Resident>,
    m: Option<Masked>,
    f: FormData,
    errors: FormErrors,
    choices: Choices,
    candidates: Vec<Candidate>,
}

impl FormPage {
    /// Errors about fields the form has no row for.
    fn other_errors(&self) -> Vec<String> {
        self.errors.others(&[
            "name",
            "id_type",
            "id_number",
            "sex",
            "birth_date",
            "ethnicity",
            "region",
            "address",
            "phone",
            "guardian_name",
            "guardian_phone",
            "risk_tier",
            "legal_basis",
            "consent_on",
            "station",
            "worker",
            "registered_on",
        ])
    }

    fn required_selects(&self) -> [Select<'_>; 2] {
        [
            ("risk_tier", "resident.risk_tier", &self.choices.tiers),
            ("legal_basis", "resident.legal_basis", &self.choices.bases),
        ]
    }

    fn optional_selects(&self) -> [Select<'_>; 2] {
        [
            ("station", "resident.station", &self.choices.stations),
            ("worker", "resident.worker", &self.choices.workers),
        ]
    }

    fn reason(&self, c: &Candidate) -> String {
        self.t.get(&format!("resident.dup.{}", c.reason)).to_owned()
    }

    fn ask(&self, c: &Candidate) -> String {
        ask_text(&self.t, c.ask.as_ref())
    }
}

/// Whom to ask about a possible duplicate the user cannot open (form, API, import): the
/// responsible station with its phone, or the county's civil-affairs office. Never the person.
pub fn ask_text(t: &Tr, a: Option<&AskAbout>) -> String {
    match a {
        Some(AskAbout {
            station_name: Some(st),
            station_phone: Some(ph),
            ..
        }) => t.fmt(
            "resident.dup.ask_station_phone",
            &[("station", st), ("phone", ph)],
        ),
        Some(AskAbout {
            station_name: Some(st),
            ..
        }) => t.fmt("resident.dup.ask_station", &[("station", st)]),
        Some(AskAbout {
            office: Some(o), ..
        }) => t.fmt("resident.dup.ask_office", &[("office", o)]),
        _ => t.get("resident.dup.ask_unknown").to_owned(),
    }
}

async fn form_page(
    state: &AppState,
    ctx: &Ctx,
    person: Option<Resident>,
    f: FormData,
    errors: Vec<FieldError>,
    candidates: Vec<Candidate>,
) -> WebResult<Response> {
    let u = writer(ctx)?;
    let t = ctx.tr();
    let title = person
        .as_ref()
        .map(|p| p.name.clone())
        .unwrap_or_else(|| t.get("resident.new").to_owned());
    let mut crumbs = vec![Crumb::link(t.get("menu.residents"), "/residents")];
    if let Some(p) = &person {
        crumbs.push(Crumb::link(p.name.clone(), format!("/residents/{}", p.id)));
        crumbs.push(Crumb::here(t.get("action.edit")));
    } else {
        crumbs.push(Crumb::here(title.clone()));
    }
    let (choices, _) = choices(state, &t, &u.scope()).await?;
    let status = if errors.is_empty() && candidates.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(page(
        status,
        &FormPage {
            t,
            base: Base::new(ctx, title, crumbs),
            m: person.as_ref().map(|p| masked(state, p)),
            person,
            // What the user typed comes back as typed (so a duplicate warning can be confirmed
            // without retyping); stored sealed values are never put into the form.
            f: FormData::new(
                f.pairs()
                    .into_iter()
                    .filter(|(k, _)| k != "confirm_duplicates")
                    .collect(),
            ),
            errors: FormErrors::new(t, errors),
            choices,
            candidates,
        },
    ))
}

pub async fn new_form(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let u = writer(&ctx)?;
    let f = FormData::new(vec![
        ("id_type".into(), "resident_id".into()),
        ("risk_tier".into(), "general".into()),
        ("legal_basis".into(), "statutory_duty".into()),
        ("registered_on".into(), today(state.now())),
        ("region".into(), u.user.region_code.clone()),
        // Sent back with the form: a repeated submission (a retry, a double click) returns
        // the first save instead of registering the person twice.
        ("idempotency_key".into(), uuid::Uuid::now_v7().to_string()),
        (
            "worker".into(),
            if u.role() == shegong_domain::Role::SocialWorker {
                u.user.id.clone()
            } else {
                String::new()
            },
        ),
    ]);
    form_page(&state, &ctx, None, f, vec![], vec![]).await
}

/// The outcome of registering: saved, or likely duplicates the user has not yet confirmed.
pub enum Registered {
    Saved(String),
    Duplicates(Vec<Candidate>),
}

/// Register with audit (form, API, import). Unless `confirmed`, likely duplicates stop the
/// save and are returned for the user to look at first.
///
/// `key` (an `Idempotency-Key` or the form's hidden key) is claimed in the same transaction as
/// the record: a repeated key by the same account returns the first record's id.
pub async fn register(
    state: &AppState,
    ctx: &Ctx,
    input: &ResidentInput,
    confirmed: bool,
    key: Option<&str>,
) -> WebResult<Registered> {
    let u = ctx.user()?;
    let v = viewer(state, u);
    let (user_id, display_name) = (u.user.id.clone(), u.user.display_name.clone());
    // The work outlives this borrow of the request: it takes its own handles.
    let (app, input, key, now) = (
        state.clone(),
        input.clone(),
        key.map(str::to_owned),
        state.now(),
    );
    write_or_skip(
        state,
        ctx,
        Entry::new("resident", "create"),
        move |conn, _, _| -> MaybeWork<'_, Registered> {
            Box::pin(async move {
                if let Some(k) = &key
                    && let Claim::Done(id) =
                        idempotency::claim_key(conn, &user_id, k, "resident", now).await?
                {
                    return Ok((None, Registered::Saved(id)));
                }
                if !confirmed {
                    let found =
                        duplicates::likely_duplicates(conn, &v, &app.keys, &input, None).await?;
                    // An identical identity number is refused by `create`; similar names need a
                    // look.
                    if found.iter().any(|c| c.reason != "same_id") {
                        return Ok((None, Registered::Duplicates(found)));
                    }
                }
                let id = residents::create(conn, &v, &app.keys, &input, &display_name, now).await?;
                if let Some(k) = &key {
                    idempotency::settle_key(conn, &user_id, k, &id).await?;
                }
                let done = Done {
                    entity_id: id.clone(),
                    region: Some(
                        input
                            .region
                            .as_ref()
                            .map(|r| r.to_string())
                            .unwrap_or_default(),
                    ),
                    changes: changes(None, &input),
                };
                Ok((Some(done), Registered::Saved(id)))
            })
        },
    )
    .await?
    .map_err(|e| WebError::Invalid(vec![e]))
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    let input = match parse(&f, &today(state.now())) {
        Ok(i) => i,
        Err(errors) => return form_page(&state, &ctx, None, f, errors, vec![]).await,
    };
    let key = match Some(f.get("idempotency_key"))
        .filter(|k| !k.trim().is_empty())
        .map(idempotency::parse_key)
        .transpose()
    {
        Ok(k) => k,
        Err(e) => return form_page(&state, &ctx, None, f, vec![e], vec![]).await,
    };
    match register(
        &state,
        &ctx,
        &input,
        f.has("confirm_duplicates", "1"),
        key.as_deref(),
    )
    .await
    {
        Ok(Registered::Saved(id)) => match saved(&state, &ctx, &id).await? {
            Saved::Readable => {
                Ok(Redirect::to(&format!("/residents/{id}?notice=notice.saved")).into_response())
            }
            Saved::Protected(p) => saved_page(&ctx, p),
        },
        Ok(Registered::Duplicates(c)) => form_page(&state, &ctx, None, f, vec![], c).await,
        Err(WebError::Invalid(errors)) => form_page(&state, &ctx, None, f, errors, vec![]).await,
        Err(e) => Err(e),
    }
}

/// What the creator may see of a file just registered.
pub enum Saved {
    Readable,
    /// A protected file the creator cannot open (a child under 14 without the grant): where it
    /// went, nothing about the person.
    Protected(Placement),
}

pub async fn saved(state: &AppState, ctx: &Ctx, id: &str) -> WebResult<Saved> {
    let u = reader(ctx)?;
    let v = viewer(state, u);
    let mut c = state.db.read().await?;
    match residents::get(&mut c, &v, id).await {
        Ok(_) => Ok(Saved::Readable),
        Err(shegong_store::StoreError::NotFound) => Ok(Saved::Protected(
            residents::placement(&mut c, &v.scope, id).await?,
        )),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "people/residents/saved.html")]
struct SavedPage {
    t: Tr,
    base: Base,
    p: Placement,
    region: String,
}

fn saved_page(ctx: &Ctx, p: Placement) -> WebResult<Response> {
    let t = ctx.tr();
    let title = t.get("resident.saved_protected_title");
    Ok(page(
        StatusCode::OK,
        &SavedPage {
            base: Base::new(
                ctx,
                title,
                vec![
                    Crumb::link(t.get("menu.residents"), "/residents"),
                    Crumb::here(title),
                ],
            ),
            region: shegong_domain::network::region::display_path(p.region_path.split('/')),
            p,
            t,
        },
    ))
}

fn form_of(r: &Resident) -> FormData {
    let s = |v: &str| v.to_owned();
    FormData::new(vec![
        ("name".into(), r.name.clone()),
        (
            "id_type".into(),
            r.id_type.clone().unwrap_or_else(|| s("resident_id")),
        ),
        ("sex".into(), r.sex.clone().unwrap_or_default()),
        ("birth_date".into(), r.birth_date.clone()),
        ("ethnicity".into(), r.ethnicity.clone()),
        ("region".into(), r.region_code.clone()),
        ("guardian_name".into(), r.guardian_name.clone()),
        ("risk_tier".into(), r.risk_tier.to_string()),
        ("legal_basis".into(), r.legal_basis.clone()),
        (
            "consent_on".into(),
            r.consent_on.clone().unwrap_or_default(),
        ),
        (
            "protected".into(),
            if r.protected == 1 {
                s("1")
            } else {
                String::new()
            },
        ),
        ("station".into(), r.station_id.clone().unwrap_or_default()),
        (
            "worker".into(),
            r.worker_user_id.clone().unwrap_or_default(),
        ),
        ("registered_on".into(), r.registered_on.clone()),
    ])
}

async fn load(state: &AppState, u: &CurrentUser, id: &str) -> WebResult<Resident> {
    let mut c = state.db.read().await?;
    Ok(residents::get(&mut c, &viewer(state, u), id).await?)
}

pub async fn edit_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let u = writer(&ctx)?;
    let r = load(&state, u, &id).await?;
    let f = form_of(&r);
    form_page(&state, &ctx, Some(r), f, vec![], vec![]).await
}

/// Save an edited file (audited `resident`/`update`): `Ok(Some(e))` for a field error, nothing
/// written. A file outside the caller's scope is not found.
pub(super) async fn change_resident(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    input: ResidentInput,
) -> WebResult<Option<FieldError>> {
    let u = writer(ctx)?;
    let v = viewer(state, u);
    let (app, now, by) = (state.clone(), state.now(), u.user.display_name.clone());
    let rid = id.to_owned();
    audited(state, ctx, "resident", "update", move |conn, _, _| {
        Box::pin(async move {
            let before = residents::update(conn, &v, &app.keys, &rid, &input, &by, now).await?;
            Ok(Done {
                entity_id: rid,
                region: Some(before.region_code.clone()),
                changes: changes(Some(&before), &input),
            })
        })
    })
    .await
}

/// The file as an edit form would send it back unchanged: what `parse` needs of a field the
/// API body leaves out (the protection flag, the registration date).
pub(super) fn current_form(r: &Resident) -> FormData {
    form_of(r)
}

pub(super) async fn load_file(state: &AppState, u: &CurrentUser, id: &str) -> WebResult<Resident> {
    load(state, u, id).await
}

pub async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    let u = writer(&ctx)?;
    let current = load(&state, u, &id).await?;
    let input = match parse(&f, &today(state.now())) {
        Ok(i) => i,
        Err(errors) => return form_page(&state, &ctx, Some(current), f, errors, vec![]).await,
    };
    match change_resident(&state, &ctx, &id, input).await? {
        None => Ok(Redirect::to(&format!("/residents/{id}?notice=notice.saved")).into_response()),
        Some(e) => form_page(&state, &ctx, Some(current), f, vec![e], vec![]).await,
    }
}

/// How a picker names an account: the name with the username and the region it works in (two
/// workers of one name stay apart), and the role where the list mixes roles.
pub fn account_label(t: &Tr, a: &residents::Assignable, with_role: bool) -> String {
    let role_key = format!("role.{}", a.role);
    let role = t.get(&role_key);
    t.fmt(
        if with_role {
            "picker.account_role"
        } else {
            "picker.account"
        },
        &[
            ("name", &a.display_name),
            ("username", &a.username),
            ("region", &a.region_name),
            ("role", role),
        ],
    )
}
