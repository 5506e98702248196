//! People served (一人一档): the resident register with likely-duplicate warnings before saving,
//! the resident's file (categories, risk tier and its history, household, cases, services, the
//! visit schedule), merging duplicates, visit rules, exports and the JSON API.
//!
//! Identity numbers, phones and addresses are masked by default; a reveal needs a permission and
//! a reason and is audited. Who may see a file at all is decided by the store (`Viewer`).

use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use shegong_domain::people::identity::{IdNumber, IdType, Mobile, Sex, mask};
use shegong_domain::people::{
    DisabilityCategory, DisabilityGrade, LegalBasis, Relation, RiskTier, VisitMethod,
};
use shegong_domain::{FieldError, Permission, RegionCode, Scope};
use shegong_store::admin::audit::{self, Change, Event};
use shegong_store::people::residents::{
    self, AskAbout, Candidate, Category, Claim, Filter, Membership, MembershipInput, Placement,
    Resident, ResidentInput, Viewer,
};
use shegong_store::{PageRequest, network::stations, people::cases, people::services};
use utoipa::{IntoParams, ToSchema};

use crate::http::auth::{Ctx, CurrentUser};
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, Crumb, page};
use crate::http::state::AppState;
use crate::http::write::{Done, audited};
use crate::network::stations::{reader, writer};
use crate::ui::excel::{self, Cell};
use crate::ui::forms::{Check, FormData, today};
use crate::ui::i18n::Tr;
use crate::ui::list::{FormErrors, Pager, pager};
use shegong_domain::text::DateKind;

/// The reader as the store sees them: scope, account, the protected-files grant, and today by
/// the application clock (which decides who is a child).
pub fn viewer(state: &AppState, u: &CurrentUser) -> Viewer {
    Viewer {
        scope: u.scope(),
        user_id: u.user.id.clone(),
        sees_protected: u.user.sees_protected == 1,
        today: chrono::NaiveDate::parse_from_str(&today(state.now()), "%Y-%m-%d")
            .expect("today is a date"),
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

fn masked(state: &AppState, r: &Resident) -> Masked {
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

fn opened(state: &AppState, r: &Resident) -> Masked {
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

fn category_label(t: &Tr, cats: &[Category], code: &str) -> String {
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
}

pub async fn choices(
    state: &AppState,
    t: &Tr,
    scope: &Scope,
) -> WebResult<(Choices, Vec<Category>)> {
    let mut c = state.db.read().await?;
    let cats = residents::categories(&mut c, scope).await?;
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
    let workers = residents::workers(&mut c, scope)
        .await?
        .into_iter()
        .map(|(id, name, role)| (id, format!("{name}（{}）", t.get(&format!("role.{role}")))))
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
        },
        cats,
    ))
}

fn opt(f: &FormData, k: &str) -> Option<String> {
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
    c.finish()?;
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
        risk_tier: tier.expect("checked").as_str().to_owned(),
        legal_basis: basis.expect("checked").as_str().to_owned(),
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
            b(|r| Some(r.risk_tier.clone())),
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

// ---------------------------------------------------------------------------------------------
// List and export

#[derive(Deserialize, IntoParams, Default, Clone)]
pub struct ListQuery {
    /// Name contains.
    pub q: Option<String>,
    pub region: Option<String>,
    /// A category code from the catalogue (held today).
    pub category: Option<String>,
    /// `high`, `key` or `general`.
    pub tier: Option<String>,
    /// `active` (default), `moved_out`, `deceased`, `merged` or `all`.
    pub status: Option<String>,
    /// `overdue`, `today` or `week`: visits due.
    pub due: Option<String>,
    /// `me`: assigned to the signed-in account.
    pub mine: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    #[serde(default)]
    #[param(ignore)]
    pub notice: Option<String>,
}

impl ListQuery {
    fn filter(&self, v: &Viewer) -> Filter {
        let s = |o: &Option<String>| o.clone().filter(|x| !x.is_empty());
        let due_by = match self.due.as_deref() {
            Some("overdue") => Some(v.today.pred_opt().unwrap_or(v.today).to_string()),
            Some("today") => Some(v.today.to_string()),
            Some("week") => Some((v.today + chrono::Duration::days(7)).to_string()),
            _ => None,
        };
        Filter {
            q: s(&self.q),
            region: s(&self.region).and_then(|r| RegionCode::parse(&r).ok()),
            category: s(&self.category),
            tier: s(&self.tier),
            status: s(&self.status),
            worker: (self.mine.as_deref() == Some("me")).then(|| v.user_id.clone()),
            due_by,
        }
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        let v = |o: &Option<String>| o.clone().unwrap_or_default();
        vec![
            ("q", v(&self.q)),
            ("region", v(&self.region)),
            ("category", v(&self.category)),
            ("tier", v(&self.tier)),
            ("status", v(&self.status)),
            ("due", v(&self.due)),
            ("mine", v(&self.mine)),
        ]
    }
}

pub struct Row {
    pub id: String,
    pub name: String,
    pub id_masked: String,
    pub sex: String,
    pub birth_date: String,
    pub region: String,
    pub categories: String,
    pub tier: String,
    pub tier_code: String,
    pub worker: String,
    pub next_due: String,
    pub overdue: bool,
    pub status: String,
}

fn rows(
    state: &AppState,
    t: &Tr,
    v: &Viewer,
    list: &[Resident],
    members: &[Membership],
    cats: &[Category],
) -> Vec<Row> {
    let today_s = v.today.to_string();
    list.iter()
        .map(|r| {
            let held: Vec<String> = members
                .iter()
                .filter(|m| m.resident_id == r.id && m.active_on(&today_s))
                .map(|m| category_label(t, cats, &m.category))
                .collect();
            Row {
                id: r.id.clone(),
                name: r.name.clone(),
                id_masked: masked(state, r).id_number,
                sex: r
                    .sex
                    .as_deref()
                    .map(|s| t.get(&format!("person.sex.{s}")).to_owned())
                    .unwrap_or_default(),
                birth_date: r.birth_date.clone(),
                region: shegong_domain::network::region::display_path(
                    r.region_path.split('/').skip(2),
                ),
                categories: held.join("、"),
                tier: t.get(&format!("resident.tier.{}", r.risk_tier)).to_owned(),
                tier_code: r.risk_tier.clone(),
                worker: r.worker_name.clone().unwrap_or_default(),
                overdue: r.status == "active" && r.next_visit_due < today_s,
                next_due: r.next_visit_due.clone(),
                status: t.get(&format!("resident.status.{}", r.status)).to_owned(),
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "people/residents/list.html")]
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
}

pub async fn list_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> WebResult<Response> {
    let u = reader(&ctx)?;
    let t = ctx.tr();
    let v = viewer(&state, u);
    let (choices, cats) = choices(&state, &t, &v.scope).await?;
    let (data, members) = {
        let mut c = state.db.read().await?;
        let data = residents::list(
            &mut c,
            &v,
            &q.filter(&v),
            PageRequest::new(q.page, q.per_page),
        )
        .await?;
        let ids: Vec<&str> = data.items.iter().map(|r| r.id.as_str()).collect();
        let members = residents::memberships_of(&mut c, &ids).await?;
        (data, members)
    };
    let pairs = q.pairs();
    let title = t.get("menu.residents");
    Ok(page(
        StatusCode::OK,
        &ListPage {
            t,
            base: Base::new(&ctx, title, vec![Crumb::here(title)])
                .with_notice(&t, q.notice.as_deref()),
            rows: rows(&state, &t, &v, &data.items, &members, &cats),
            pager: pager(&t, &data, "/residents", &pairs),
            export_href: format!(
                "/residents/export.xlsx?{}",
                serde_urlencoded::to_string(&pairs).unwrap_or_default()
            ),
            choices,
            can_write: u.can(Permission::WriteData),
            can_export: u.can(Permission::Export),
            q,
        },
    ))
}

#[derive(Deserialize, Default)]
pub struct ExportQuery {
    #[serde(flatten)]
    list: ListQuery,
    /// `1`: identity numbers and phones in full (needs the reveal permission and a reason).
    full: Option<String>,
    reason: Option<String>,
}

/// Export of the filtered list: masked, unless the exporter holds the reveal permission and asks
/// for full values with a reason (then the audit entry says so).
pub async fn export(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(e): Query<ExportQuery>,
) -> WebResult<Response> {
    let u = ctx.user()?;
    u.require(Permission::Export)?;
    let full = e.full.as_deref() == Some("1");
    let reason = e.reason.clone().unwrap_or_default();
    if full {
        u.require(Permission::RevealSensitive)?;
        if reason.trim().chars().count() < 2 {
            return Err(FieldError::new("reason", "reveal.reason_required").into());
        }
    }
    let t = ctx.tr();
    let v = viewer(&state, u);
    let (_, cats) = choices(&state, &t, &v.scope).await?;
    let (list, members) = {
        let mut c = state.db.read().await?;
        let list = residents::list_all(&mut c, &v, &e.list.filter(&v), excel::MAX_ROWS).await?;
        let ids: Vec<&str> = list.iter().map(|r| r.id.as_str()).collect();
        let members = residents::memberships_of(&mut c, &ids).await?;
        (list, members)
    };
    let headers = [
        "resident.name",
        "resident.id_number",
        "resident.sex",
        "resident.birth_date",
        "resident.ethnicity",
        "resident.region",
        "resident.address",
        "resident.phone",
        "resident.categories",
        "resident.risk_tier",
        "resident.worker",
        "resident.last_visit",
        "resident.next_due",
        "common.status",
    ]
    .map(|k| t.get(k));
    let table = rows(&state, &t, &v, &list, &members, &cats);
    let out: Vec<Vec<Cell>> = list
        .iter()
        .zip(table)
        .map(|(r, row)| {
            let m = if full {
                opened(&state, r)
            } else {
                masked(&state, r)
            };
            vec![
                row.name.into(),
                m.id_number.into(),
                row.sex.into(),
                row.birth_date.into(),
                r.ethnicity.as_str().into(),
                row.region.into(),
                m.address.into(),
                m.phone.into(),
                row.categories.into(),
                row.tier.into(),
                row.worker.into(),
                r.last_visit_on.clone().unwrap_or_default().into(),
                row.next_due.into(),
                row.status.into(),
            ]
        })
        .collect();
    let audit_note = if full {
        vec![
            Change::new("identity", None::<String>, Some("full")),
            Change::new("reason", None::<String>, Some(reason.trim())),
        ]
    } else {
        vec![Change::new("identity", None::<String>, Some("masked"))]
    };
    excel::send(
        &state,
        &ctx,
        "residents",
        "menu.residents",
        &headers,
        &out,
        audit_note,
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// Register and edit

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
    let u = writer(ctx)?;
    let v = viewer(state, u);
    let mut tx = state.db.begin().await?;
    if let Some(k) = key
        && let Claim::Done(id) =
            residents::claim_key(&mut tx, &u.user.id, k, "resident", state.now()).await?
    {
        return Ok(Registered::Saved(id));
    }
    if !confirmed {
        let found = residents::likely_duplicates(&mut tx, &v, &state.keys, input, None).await?;
        // An identical identity number is refused by `create`; similar names need a look.
        if found.iter().any(|c| c.reason != "same_id") {
            return Ok(Registered::Duplicates(found));
        }
    }
    let id = residents::create(
        &mut tx,
        &v,
        &state.keys,
        input,
        &u.user.display_name,
        state.now(),
    )
    .await?;
    if let Some(k) = key {
        residents::settle_key(&mut tx, &u.user.id, k, &id).await?;
    }
    let region = input
        .region
        .as_ref()
        .map(|r| r.to_string())
        .unwrap_or_default();
    audit::record(
        &mut tx,
        state.db.backend(),
        &ctx.actor(),
        Event::new("create", "resident", Some(id.clone()))
            .region(region)
            .changes(changes(None, input)),
        state.now(),
    )
    .await?;
    tx.commit().await?;
    Ok(Registered::Saved(id))
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
        .map(residents::parse_key)
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
        ("risk_tier".into(), r.risk_tier.clone()),
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
    let v = viewer(&state, u);
    let (app, now, by) = (state.clone(), state.now(), u.user.display_name.clone());
    let rid = id.clone();
    let failed = audited(&state, &ctx, "resident", "update", move |conn, _, _| {
        Box::pin(async move {
            let before = residents::update(conn, &v, &app.keys, &rid, &input, &by, now).await?;
            Ok(Done {
                entity_id: rid,
                region: Some(before.region_code.clone()),
                changes: changes(Some(&before), &input),
            })
        })
    })
    .await?;
    match failed {
        None => Ok(Redirect::to(&format!("/residents/{id}?notice=notice.saved")).into_response()),
        Some(e) => form_page(&state, &ctx, Some(current), f, vec![e], vec![]).await,
    }
}

// ---------------------------------------------------------------------------------------------
// The file

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

#[derive(Deserialize)]
pub struct NoticeQuery {
    notice: Option<String>,
}

async fn detail(
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
    let members = residents::memberships_of(&mut c, &[id]).await?;
    let history = residents::tier_history(&mut c, &v, id).await?;
    let household = residents::household(&mut c, &v, id).await?;
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
    let probe = ResidentInput {
        region: RegionCode::parse(&r.region_code).ok(),
        name: r.name.clone(),
        birth_date: r.birth_date.clone(),
        ..Default::default()
    };
    let candidates = if r.status == "active" {
        residents::likely_duplicates(&mut c, &v, &state.keys, &probe, Some(id))
            .await?
            .into_iter()
            .filter(|x| x.visible)
            .collect()
    } else {
        vec![]
    };
    let neighbours = residents::list(
        &mut c,
        &v,
        &Filter {
            region: RegionCode::parse(&r.region_code).ok(),
            ..Default::default()
        },
        PageRequest::new(Some(1), Some(200)),
    )
    .await?
    .items
    .into_iter()
    .filter(|x| x.id != id)
    .map(|x| (x.id, format!("{}（{}）", x.name, x.birth_date)))
    .collect();
    drop(c);
    let today_s = v.today.to_string();
    let categories = members
        .iter()
        .map(|m| MemberRow {
            id: m.id.clone(),
            category: category_label(&t, &cats, &m.category),
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
            active: m.active_on(&today_s),
        })
        .collect();
    let m = if reveal {
        opened(state, &r)
    } else {
        masked(state, &r)
    };
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
            tier: t.get(&format!("resident.tier.{}", r.risk_tier)).to_owned(),
            status: t.get(&format!("resident.status.{}", r.status)).to_owned(),
            categories,
            history: history
                .into_iter()
                .map(|h| {
                    let reason = if h.reason.contains('.') {
                        t.get(&h.reason).to_owned()
                    } else {
                        h.reason
                    };
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
                .collect(),
            household: household
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
                .collect(),
            cases: case_list
                .items
                .into_iter()
                .map(|x| CaseRow {
                    stage: t.get(&format!("case.stage.{}", x.stage)).to_owned(),
                    id: x.id,
                    problem: x.problem,
                    opened_on: x.opened_on,
                    worker: x.worker_name.unwrap_or_default(),
                })
                .collect(),
            services: service_list
                .items
                .into_iter()
                .map(|x| ServiceRow {
                    kind: t.get(&format!("service.kind.{}", x.kind)).to_owned(),
                    method: x
                        .method
                        .map(|m| t.get(&format!("visit.method.{m}")).to_owned())
                        .unwrap_or_default(),
                    id: x.id,
                    served_on: x.served_on,
                    minutes: x.duration_minutes,
                    workers: x.workers,
                })
                .collect(),
            overdue: r.status == "active" && r.next_visit_due < today_s,
            is_child: r.is_protected(v.today) && r.protected == 0,
            candidates,
            neighbours,
            choices,
            can_write: u.can(Permission::WriteData),
            can_reveal: u.can(Permission::RevealSensitive),
            error: error.map(|e| {
                format!(
                    "{}{}{}",
                    t.get(&format!("field.{}", e.field)),
                    t.get("punct.colon"),
                    t.get(e.code)
                )
            }),
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

/// Record who looked at the sealed values of a file and why. The reason is required.
async fn audit_reveal(state: &AppState, ctx: &Ctx, id: &str, reason: &str) -> WebResult<Resident> {
    let u = ctx.user()?;
    u.require(Permission::RevealSensitive)?;
    let reason = reason.trim();
    if reason.chars().count() < 2 || reason.chars().count() > 200 {
        return Err(FieldError::new("reason", "reveal.reason_required").into());
    }
    let mut tx = state.db.begin().await?;
    let r = residents::get(&mut tx, &viewer(state, u), id).await?;
    audit::record(
        &mut tx,
        state.db.backend(),
        &ctx.actor(),
        Event::new("reveal", "resident", Some(id.to_owned()))
            .region(r.region_code.clone())
            .changes(vec![
                Change::new(
                    "fields",
                    None::<String>,
                    Some("id_number, phone, address, guardian_phone"),
                ),
                Change::new("reason", None::<String>, Some(reason)),
            ]),
        state.now(),
    )
    .await?;
    tx.commit().await?;
    Ok(r)
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

/// One change to a file from its page, audited; a field error re-renders the page.
async fn file_action<F>(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    action: &'static str,
    work: F,
) -> WebResult<Response>
where
    F: for<'c> FnOnce(
            &'c mut shegong_store::Conn,
            Viewer,
        ) -> std::pin::Pin<
            Box<
                dyn std::future::Future<Output = shegong_store::StoreResult<(String, Vec<Change>)>>
                    + Send
                    + 'c,
            >,
        > + Send
        + 'static,
{
    let u = writer(ctx)?;
    let v = viewer(state, u);
    let rid = id.to_owned();
    let failed = audited(state, ctx, "resident", action, move |conn, _, _| {
        Box::pin(async move {
            let (region, changes) = work(conn, v).await?;
            Ok(Done {
                entity_id: rid,
                region: Some(region),
                changes,
            })
        })
    })
    .await?;
    match failed {
        None => Ok(Redirect::to(&format!("/residents/{id}?notice=notice.saved")).into_response()),
        Some(e) => detail(state, ctx, id, false, None, Some(e)).await,
    }
}

fn parse_membership(f: &FormData) -> Result<MembershipInput, FieldError> {
    let mut c = Check::default();
    let category = c.text("category", f.get("category"), 40);
    let disability_category = opt(f, "disability_category").and_then(|v| {
        c.take(DisabilityCategory::parse(&v))
            .map(|x| x.as_str().to_owned())
    });
    let disability_grade = opt(f, "disability_grade").and_then(|v| {
        c.take(DisabilityGrade::parse(&v))
            .map(|x| x.as_str().to_owned())
    });
    let valid_from = c.date("valid_from", f.get("valid_from"));
    let valid_to = opt(f, "valid_to").map(|v| c.date("valid_to", &v));
    let source = c.opt_text("source", f.get("source").trim(), 100);
    let evidence = c.opt_text("evidence", f.get("evidence").trim(), 200);
    let verified_by = c.opt_text("verified_by", f.get("verified_by").trim(), 50);
    c.finish().map_err(|e| e[0].clone())?;
    Ok(MembershipInput {
        category,
        disability_category,
        disability_grade,
        source,
        evidence,
        valid_from,
        valid_to,
        verified_by,
    })
}

pub async fn add_membership(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    let m = match parse_membership(&f) {
        Ok(m) => m,
        Err(e) => return detail(&state, &ctx, &id, false, None, Some(e)).await,
    };
    let (rid, by, now) = (id.clone(), ctx.user()?.user.username.clone(), state.now());
    file_action(&state, &ctx, &id, "add_category", move |conn, v| {
        Box::pin(async move {
            let r = residents::get(conn, &v, &rid).await?;
            residents::add_membership(conn, &v, &rid, &m, &by, now).await?;
            Ok((
                r.region_code,
                vec![
                    Change::new("category", None::<String>, Some(m.category.clone())),
                    Change::new("valid_from", None::<String>, Some(m.valid_from.clone())),
                    Change::new("source", None::<String>, Some(m.source.clone())),
                ],
            ))
        })
    })
    .await
}

pub async fn end_membership(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, mid)): Path<(String, String)>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    let mut c = Check::default();
    let on = c.date("valid_to", f.get("valid_to"));
    if let Err(e) = c.finish() {
        return detail(&state, &ctx, &id, false, None, e.into_iter().next()).await;
    }
    let rid = id.clone();
    file_action(&state, &ctx, &id, "end_category", move |conn, v| {
        Box::pin(async move {
            let r = residents::get(conn, &v, &rid).await?;
            let m = residents::end_membership(conn, &v, &rid, &mid, &on).await?;
            Ok((
                r.region_code,
                vec![
                    Change::new("category", Some(m.category), None::<String>),
                    Change::new("valid_to", m.valid_to, Some(on)),
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
    let tier = match RiskTier::parse(f.get("risk_tier")) {
        Ok(t) => t,
        Err(e) => return detail(&state, &ctx, &id, false, None, Some(e)).await,
    };
    let reason = f.get("reason").trim().to_owned();
    if reason.is_empty() {
        return detail(
            &state,
            &ctx,
            &id,
            false,
            None,
            Some(FieldError::new("reason", "case.reason_required")),
        )
        .await;
    }
    let (rid, by, now) = (
        id.clone(),
        ctx.user()?.user.display_name.clone(),
        state.now(),
    );
    file_action(&state, &ctx, &id, "set_tier", move |conn, v| {
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

pub async fn join_household(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    let relation = match Relation::parse(f.get("relation")) {
        Ok(r) => r,
        Err(e) => return detail(&state, &ctx, &id, false, None, Some(e)).await,
    };
    let (rid, other, now) = (id.clone(), f.get("other").to_owned(), state.now());
    file_action(&state, &ctx, &id, "join_household", move |conn, v| {
        Box::pin(async move {
            let before = residents::join_household(conn, &v, &rid, &other, relation, now).await?;
            Ok((
                before.region_code,
                vec![
                    Change::new("household_of", None::<String>, Some(other)),
                    Change::new("relation", before.relation, Some(relation.as_str())),
                ],
            ))
        })
    })
    .await
}

pub async fn merge(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    let (rid, other, now) = (id.clone(), f.get("other").to_owned(), state.now());
    file_action(&state, &ctx, &id, "merge", move |conn, v| {
        Box::pin(async move {
            let (keep, dropped) = residents::merge(conn, &v, &rid, &other, now).await?;
            Ok((
                keep.region_code,
                vec![Change::new(
                    "merged",
                    Some(format!("{} ({})", dropped.name, dropped.id)),
                    None::<String>,
                )],
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
    let (rid, status, now) = (id.clone(), f.get("status").to_owned(), state.now());
    file_action(&state, &ctx, &id, "set_status", move |conn, v| {
        Box::pin(async move {
            let before = residents::set_status(conn, &v, &rid, &status, now).await?;
            Ok((
                before.region_code,
                vec![Change::new("status", Some(before.status), Some(status))],
            ))
        })
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Visit rules

#[derive(Template)]
#[template(path = "people/residents/rules.html")]
struct RulesPage {
    t: Tr,
    base: Base,
    rules: Vec<(String, String, String, i64, String)>,
    choices: Choices,
    can_set: bool,
    region: String,
    error: Option<String>,
}

async fn rules_render(
    state: &AppState,
    ctx: &Ctx,
    notice: Option<&str>,
    error: Option<FieldError>,
) -> WebResult<Response> {
    let u = reader(ctx)?;
    let t = ctx.tr();
    let (choices, cats) = choices(state, &t, &u.scope()).await?;
    let rules = {
        let mut c = state.db.read().await?;
        residents::rules_in(&mut c, &u.scope()).await?
    };
    let paths = {
        let mut c = state.db.read().await?;
        let codes: Vec<&str> = rules.iter().map(|r| r.region_code.as_str()).collect();
        shegong_store::network::regions::display_paths(&mut c, &codes).await?
    };
    let title = t.get("menu.visit_rules");
    Ok(page(
        if error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        &RulesPage {
            rules: rules
                .into_iter()
                .map(|r| {
                    (
                        if r.region_code.is_empty() {
                            t.get("visit.national").to_owned()
                        } else {
                            paths
                                .get(&r.region_code)
                                .cloned()
                                .unwrap_or(r.region_code.clone())
                        },
                        t.get(&format!("resident.tier.{}", r.tier)).to_owned(),
                        if r.category.is_empty() {
                            t.get("visit.any_category").to_owned()
                        } else {
                            category_label(&t, &cats, &r.category)
                        },
                        r.interval_days,
                        r.methods
                            .iter()
                            .map(|m| t.get(&format!("visit.method.{m}")).to_owned())
                            .collect::<Vec<_>>()
                            .join("、"),
                    )
                })
                .collect(),
            choices,
            can_set: u.can(Permission::Supervise),
            region: u.user.region_code.clone(),
            base: Base::new(ctx, title, vec![Crumb::here(title)]).with_notice(&t, notice),
            error: error.map(|e| {
                format!(
                    "{}{}{}",
                    t.get(&format!("field.{}", e.field)),
                    t.get("punct.colon"),
                    t.get(e.code)
                )
            }),
            t,
        },
    ))
}

pub async fn rules_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NoticeQuery>,
) -> WebResult<Response> {
    rules_render(&state, &ctx, q.notice.as_deref(), None).await
}

pub async fn set_rule(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    let u = ctx.user()?;
    u.require(Permission::Supervise)?;
    let mut c = Check::default();
    let region = c.region("region", f.get("region"));
    let tier = c.take(RiskTier::parse(f.get("tier")));
    let days = c.int("interval_days", f.get("interval_days"), 1, 366, 0);
    let methods: Vec<VisitMethod> = f
        .all("methods")
        .iter()
        .filter_map(|m| c.take(VisitMethod::parse(m)))
        .collect();
    let category = f.get("category").to_owned();
    if let Err(e) = c.finish() {
        return rules_render(&state, &ctx, None, e.into_iter().next()).await;
    }
    let (region, tier, now) = (
        region.expect("checked"),
        tier.expect("checked"),
        state.now(),
    );
    let failed = audited(&state, &ctx, "visit_rule", "set", move |conn, scope, by| {
        Box::pin(async move {
            let before = residents::set_rule(
                conn, &scope, &region, tier, &category, days, &methods, &by, now,
            )
            .await?;
            Ok(Done {
                entity_id: format!("{}/{}/{}", region, tier.as_str(), category),
                region: Some(region.to_string()),
                changes: vec![Change::new(
                    "interval_days",
                    before.map(|b| b.interval_days),
                    Some(days),
                )],
            })
        })
    })
    .await?;
    match failed {
        None => Ok(Redirect::to("/visit-rules?notice=notice.saved").into_response()),
        Some(e) => rules_render(&state, &ctx, None, Some(e)).await,
    }
}

// ---------------------------------------------------------------------------------------------
// API

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
}

fn dto(state: &AppState, r: Resident, members: &[Membership], today_s: &str) -> ResidentDto {
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
        risk_tier: r.risk_tier,
        legal_basis: r.legal_basis,
        station_id: r.station_id,
        worker_user_id: r.worker_user_id,
        household_id: r.household_id,
        relation: r.relation,
        status: r.status,
        last_visit_on: r.last_visit_on,
        visit_interval_days: r.visit_interval_days,
        next_visit_due: r.next_visit_due,
        registered_on: r.registered_on,
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
    let members = residents::memberships_of(&mut c, &ids).await?;
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

/// One resident's file (masked).
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
    let members = residents::memberships_of(&mut c, &[id.as_str()]).await?;
    Ok(Json(dto(&state, r, &members, &v.today.to_string())))
}

#[derive(Deserialize, ToSchema)]
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
    /// Register even though likely duplicates exist (after looking at them).
    #[serde(default)]
    pub confirm_duplicates: bool,
}

impl ResidentBody {
    fn form(&self) -> FormData {
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

/// The optional `Idempotency-Key` header, checked.
pub fn idempotency_key(headers: &HeaderMap) -> WebResult<Option<String>> {
    match headers.get("idempotency-key") {
        None => Ok(None),
        Some(v) => {
            let raw = v.to_str().map_err(|_| {
                WebError::Invalid(vec![FieldError::new(
                    "idempotency_key",
                    "idempotency.key_invalid",
                )])
            })?;
            Ok(Some(
                residents::parse_key(raw).map_err(|e| WebError::Invalid(vec![e]))?,
            ))
        }
    }
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
            let body = match saved(&state, &ctx, &id).await? {
                Saved::Readable => {
                    let Json(d) = api_get(State(state), ctx, Path(id)).await?;
                    ResidentCreated::File(d)
                }
                Saved::Protected(p) => ResidentCreated::Protected(ResidentSaved {
                    id: p.id,
                    status: "saved_protected",
                    region_code: p.region_code,
                    region_path: shegong_domain::network::region::display_path(
                        p.region_path.split('/'),
                    ),
                    station_id: p.station_id,
                    station_name: p.station_name,
                    worker_user_id: p.worker_user_id,
                    worker_name: p.worker_name,
                }),
            };
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
