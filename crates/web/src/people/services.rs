//! Service records of every kind: list and export, recording (a visit moves the next visit due),
//! the record's page, correcting and deleting.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Datelike;
use serde::Deserialize;
use shegong_domain::network::station::ServiceDomain;
use shegong_domain::people::{ServiceKind, VisitMethod};
use shegong_domain::volunteers::VolunteerStatus;
use shegong_domain::{FieldError, Permission};
use shegong_store::admin::audit::Change;
use shegong_store::people::idempotency;
use shegong_store::people::residents::{self, Viewer};
use shegong_store::people::services::{self, Service, ServiceInput};
use shegong_store::volunteers::registry;
use shegong_store::{PageRequest, network::stations};
use utoipa::IntoParams;

use crate::http::auth::Ctx;
use crate::http::auth::reader;
use crate::http::error::WebResult;
use crate::http::render::{Base, Crumb, page};
use crate::http::state::AppState;
use crate::http::write::{Done, audited, audited_id, writer};
use crate::ui::excel::{self, Cell, Export, Selection};
use crate::ui::forms::{Check, FormData, format_yuan, today};
use crate::ui::i18n::Tr;
use crate::ui::list::{FormErrors, Pager, pager};

use super::cases::{field_error, labels};
use super::evidence::{EvidenceView, parse_evidence};
use super::idempotency::{claim, form_key, replayed};
use super::residents::{Select, viewer};
use crate::ui::list::NoticeQuery;
use shegong_store::people::evidence::Evidence;

#[derive(Deserialize, IntoParams, Default, Clone)]
pub struct ServiceQuery {
    /// `casework`, `group`, `community`, `visit`, `resource_linking`, `policy_publicity`,
    /// `psychological` or `crisis`.
    pub kind: Option<String>,
    /// A service domain: `social_assistance`, `elderly`, `children`, `disability`,
    /// `community_governance`, `social_affairs`.
    pub domain: Option<String>,
    /// Records about (or attended by) this resident.
    pub resident: Option<String>,
    /// From date (`YYYY-MM-DD`), inclusive.
    pub from: Option<String>,
    /// To date (`YYYY-MM-DD`), inclusive.
    pub to: Option<String>,
    /// Title, worker or resident name contains.
    pub q: Option<String>,
    /// Only these records: comma-separated ids (a batch selection, at most 200); the export
    /// refuses a selection naming a record outside the caller's scope.
    pub ids: Option<String>,
    /// Order: `served_on`, `kind` or `minutes`, `-` before it for descending; any other value
    /// is the default order (newest first).
    pub sort: Option<String>,
    /// Past the last page the API answers an empty page with the correct total (list pages
    /// redirect to the last page).
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    #[serde(default)]
    #[param(ignore)]
    pub notice: Option<String>,
}

impl ServiceQuery {
    pub(super) fn filter(&self) -> services::Filter {
        let s = |o: &Option<String>| o.clone().filter(|x| !x.is_empty());
        services::Filter {
            kind: s(&self.kind),
            domain: s(&self.domain),
            resident: s(&self.resident),
            case_id: None,
            from: s(&self.from),
            to: s(&self.to),
            q: s(&self.q),
            ids: s(&self.ids).map(|i| super::resident_list::split_ids(&i)),
            sort: self.sort(),
        }
    }

    fn sort(&self) -> Option<shegong_store::Sort> {
        shegong_store::Sort::parse(self.sort.as_deref(), services::SORTS)
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        let v = |o: &Option<String>| o.clone().unwrap_or_default();
        let [sort, size] = crate::ui::list::table_pairs(self.sort(), self.per_page);
        vec![
            ("kind", v(&self.kind)),
            ("domain", v(&self.domain)),
            ("resident", v(&self.resident)),
            ("from", v(&self.from)),
            ("to", v(&self.to)),
            ("q", v(&self.q)),
            sort,
            size,
        ]
    }
}

pub struct ServiceRow {
    pub id: String,
    pub served_on: String,
    pub kind: String,
    pub domain: String,
    pub title: String,
    pub resident_id: Option<String>,
    pub resident: String,
    pub method: String,
    pub minutes: i64,
    pub person_times: i64,
    pub value: String,
    pub workers: String,
    pub region: String,
}

pub(super) fn service_row(t: &Tr, s: &Service) -> ServiceRow {
    ServiceRow {
        id: s.id.clone(),
        served_on: s.served_on.clone(),
        kind: t.get(&format!("service.kind.{}", s.kind)).to_owned(),
        domain: t.get(&format!("service.domain.{}", s.domain)).to_owned(),
        title: s.title.clone(),
        resident_id: s.resident_id.clone(),
        resident: s.resident_name.clone().unwrap_or_default(),
        method: s
            .method
            .as_deref()
            .map(|m| t.get(&format!("visit.method.{m}")).to_owned())
            .unwrap_or_default(),
        minutes: s.duration_minutes,
        person_times: s.person_times,
        value: if s.value_fen > 0 {
            format_yuan(s.value_fen)
        } else {
            String::new()
        },
        workers: s.workers.clone(),
        region: shegong_domain::network::region::display_path(s.region_path.split('/').skip(2)),
    }
}

#[derive(Template)]
#[template(path = "people/services/list.html")]
struct ServiceListPage {
    t: Tr,
    base: Base,
    rows: Vec<ServiceRow>,
    totals: Vec<(String, i64, i64, i64, String)>,
    pager: Pager,
    q: ServiceQuery,
    kinds: Vec<(String, String)>,
    domains: Vec<(String, String)>,
    export_href: String,
    can_write: bool,
    can_export: bool,
}

pub async fn services_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ServiceQuery>,
) -> WebResult<Response> {
    let u = reader(&ctx)?;
    let t = ctx.tr();
    let v = viewer(&state, u);
    let from = q
        .from
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| format!("{}-01-01", v.today.year()));
    let to =
        q.to.clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| v.today.to_string());
    let (data, totals) = {
        let mut c = state.db.read().await?;
        (
            services::list(
                &mut c,
                &v,
                &q.filter(),
                PageRequest::sized(q.page, q.per_page),
            )
            .await?,
            // Whole months of the period, from the maintained counters of the caller's region.
            shegong_store::statistics::counters::read(
                &mut c,
                &v.scope,
                shegong_store::statistics::counters::Regions::One(v.scope.prefix()),
                shegong_store::statistics::counters::Dim::Kind,
                from.get(..7).unwrap_or_default(),
                to.get(..7).unwrap_or_default(),
            )
            .await?,
        )
    };
    let pairs = q.pairs();
    let title = t.get("menu.services");
    Ok(page(
        StatusCode::OK,
        &ServiceListPage {
            base: Base::new(&ctx, title, vec![Crumb::here(title)])
                .with_notice(&t, q.notice.as_deref()),
            rows: data.items.iter().map(|s| service_row(&t, s)).collect(),
            totals: {
                let mut by_kind: std::collections::BTreeMap<
                    String,
                    shegong_store::statistics::counters::Row,
                > = Default::default();
                for r in totals {
                    let e = by_kind.entry(r.key.clone()).or_insert(
                        shegong_store::statistics::counters::Row {
                            n: 0,
                            person_times: 0,
                            minutes: 0,
                            value_fen: 0,
                            ..r.clone()
                        },
                    );
                    e.n += r.n;
                    e.person_times += r.person_times;
                    e.minutes += r.minutes;
                    e.value_fen += r.value_fen;
                }
                by_kind
                    .into_values()
                    .map(|k| {
                        (
                            t.get(&format!("service.kind.{}", k.key)).to_owned(),
                            k.n,
                            k.person_times,
                            k.minutes / 60,
                            format_yuan(k.value_fen),
                        )
                    })
                    .collect()
            },
            pager: pager(&t, &data, "/services", &pairs)?,
            export_href: format!(
                "/services/export.xlsx?{}",
                serde_urlencoded::to_string(&pairs).unwrap_or_default()
            ),
            kinds: labels(&t, "service.kind", ServiceKind::ALL, ServiceKind::as_str),
            domains: labels(
                &t,
                "service.domain",
                ServiceDomain::ALL,
                ServiceDomain::as_str,
            ),
            can_write: u.can(Permission::WriteData),
            can_export: u.can(Permission::Export),
            q,
            t,
        },
    ))
}

pub async fn services_export(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ServiceQuery>,
) -> WebResult<Response> {
    let export = Export::check(&ctx, "services", Permission::Export)?;
    let u = export.user();
    let t = ctx.tr();
    let v = viewer(&state, u);
    let filter = q.filter();
    let ids = {
        let mut c = state.db.read().await?;
        services::list_ids(&mut c, &v, &filter, excel::MAX_ROWS).await?
    };
    if let Some(wanted) = &filter.ids {
        let mut wanted = wanted.clone();
        wanted.sort();
        wanted.dedup();
        if wanted.is_empty() || wanted.len() > 200 || wanted.len() != ids.len() {
            return Err(FieldError::new("ids", "batch.out_of_scope").into());
        }
    }
    let headers = [
        "service.served_on",
        "service.kind_label",
        "service.domain_label",
        "service.title",
        "service.resident",
        "visit.method_label",
        "service.minutes",
        "service.person_times",
        "service.value",
        "service.workers",
        "resident.region",
    ]
    .map(|k| t.get(k));
    let pages = ExportPages {
        state: state.clone(),
        t,
        v,
        ids: Selection::new(ids),
    };
    // Notes are never exported: they are read on the record's own page.
    export
        .stream(
            &state,
            &ctx,
            "menu.services",
            &headers,
            pages,
            vec![Change::new("notes", None::<String>, Some("omitted"))],
        )
        .await
}

/// The export's records, read and turned into rows a page at a time.
struct ExportPages {
    state: AppState,
    t: Tr,
    v: Viewer,
    ids: Selection,
}

impl excel::Pages for ExportPages {
    fn selected(&self) -> usize {
        self.ids.selected()
    }

    async fn next(&mut self) -> WebResult<Vec<Vec<Cell>>> {
        loop {
            let ids = self.ids.next_page();
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            let list = {
                let mut c = self.state.db.read().await?;
                services::page_of(&mut c, &self.v, &ids).await?
            };
            // A page whose records all changed since the selection: on to the next.
            if !list.is_empty() {
                return Ok(list.iter().map(|s| service_cells(&self.t, s)).collect());
            }
        }
    }
}

fn service_cells(t: &Tr, s: &Service) -> Vec<Cell> {
    let r = service_row(t, s);
    vec![
        r.served_on.into(),
        r.kind.into(),
        r.domain.into(),
        r.title.into(),
        r.resident.into(),
        r.method.into(),
        r.minutes.into(),
        r.person_times.into(),
        r.value.into(),
        r.workers.into(),
        r.region.into(),
    ]
}

#[derive(Template)]
#[template(path = "people/services/form.html")]
struct ServiceFormPage {
    t: Tr,
    base: Base,
    f: FormData,
    errors: FormErrors,
    resident: Option<(String, String)>,
    case_id: String,
    kinds: Vec<(String, String)>,
    domains: Vec<(String, String)>,
    methods: Vec<(String, String)>,
    stations: Vec<(String, String)>,
    participants: Vec<(String, String)>,
    /// Active volunteers in scope: (id, `name（number）`).
    volunteers: Vec<(String, String)>,
    /// Incidents in scope that are not closed: (id, title).
    incidents: Vec<(String, String)>,
    /// The confirmation rule for a home visit to this resident (`none`, `tick`, `signature`).
    confirm_rule: String,
    /// Who may confirm: (code, label).
    confirmers: Vec<(String, String)>,
    visit_js: &'static str,
}

impl ServiceFormPage {
    fn selects(&self) -> [Select<'_>; 3] {
        [
            ("kind", "service.kind_label", &self.kinds),
            ("domain", "service.domain_label", &self.domains),
            ("method", "visit.method_label", &self.methods),
        ]
    }

    /// Errors about fields the form has no row for.
    fn other_errors(&self) -> Vec<String> {
        self.errors.others(&[
            "kind",
            "domain",
            "served_on",
            "started_at",
            "duration_minutes",
            "person_times",
            "method",
            "location",
            "value",
            "workers",
            "volunteer_id",
            "incident_id",
            "title",
            "notes",
            "photos",
            "latitude",
            "longitude",
            "accuracy_m",
            "located_at",
            "confirmed_by",
            "confirmer_name",
            "signature",
        ])
    }
}

#[derive(Deserialize, Default)]
pub struct NewServiceQuery {
    resident: Option<String>,
    case: Option<String>,
    kind: Option<String>,
    incident: Option<String>,
}

async fn service_form(
    state: &AppState,
    ctx: &Ctx,
    f: FormData,
    errors: Vec<FieldError>,
) -> WebResult<Response> {
    let u = writer(ctx)?;
    let t = ctx.tr();
    let v = viewer(state, u);
    let mut c = state.db.read().await?;
    let resident = match f.get("resident") {
        "" => None,
        rid => Some(residents::get(&mut c, &v, rid).await?),
    };
    let confirm_rule = super::evidence::rule_code(&mut c, &v, resident.as_ref()).await?;
    let resident = resident.map(|r| (r.id, r.name));
    let stations = stations::list(
        &mut c,
        &v.scope,
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
    let participants = if resident.is_none() {
        residents::list(
            &mut c,
            &v,
            &residents::Filter::default(),
            PageRequest::new(Some(1), Some(200)),
        )
        .await?
        .items
        .into_iter()
        .map(|r| (r.id, format!("{}（{}）", r.name, r.birth_date)))
        .collect()
    } else {
        vec![]
    };
    let volunteers = volunteers_to_pick(&mut c, &v.scope).await?;
    let incidents = shegong_store::emergency::incidents::list_all(
        &mut c,
        &v.scope,
        &shegong_store::emergency::incidents::Filter::default(),
        200,
    )
    .await?
    .into_iter()
    .filter(|i| i.state.is_open())
    .map(|i| (i.id, i.title))
    .collect();
    drop(c);
    let title = t.get("service.record");
    let mut crumbs = vec![Crumb::link(t.get("menu.services"), "/services")];
    if let Some((id, name)) = &resident {
        crumbs.push(Crumb::link(name.clone(), format!("/residents/{id}")));
    }
    crumbs.push(Crumb::here(title));
    Ok(page(
        if errors.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        },
        &ServiceFormPage {
            base: Base::new(ctx, title, crumbs),
            case_id: f.get("case").to_owned(),
            f,
            errors: FormErrors::new(t, errors),
            resident,
            kinds: labels(&t, "service.kind", ServiceKind::ALL, ServiceKind::as_str),
            domains: labels(
                &t,
                "service.domain",
                ServiceDomain::ALL,
                ServiceDomain::as_str,
            ),
            methods: labels(&t, "visit.method", VisitMethod::ALL, VisitMethod::as_str),
            stations,
            participants,
            volunteers,
            incidents,
            confirm_rule,
            confirmers: super::evidence::confirmers(&t),
            visit_js: crate::http::assets::url("visit.js"),
            t,
        },
    ))
}

/// The volunteers a record may name: the active ones in scope, by number (the first 500).
async fn volunteers_to_pick(
    c: &mut shegong_store::Conn,
    scope: &shegong_domain::Scope,
) -> WebResult<Vec<(String, String)>> {
    let f = registry::Filter {
        status: Some(VolunteerStatus::Active),
        ..Default::default()
    };
    Ok(registry::list_all(c, scope, &f, 500)
        .await?
        .into_iter()
        .map(|v| (v.id, format!("{}（{}）", v.name, v.volunteer_no)))
        .collect())
}

pub async fn new_service(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NewServiceQuery>,
) -> WebResult<Response> {
    let u = writer(&ctx)?;
    let f = FormData::new(vec![
        ("resident".into(), q.resident.unwrap_or_default()),
        ("case".into(), q.case.unwrap_or_default()),
        ("incident_id".into(), q.incident.unwrap_or_default()),
        ("kind".into(), q.kind.unwrap_or_else(|| "casework".into())),
        ("domain".into(), "social_assistance".into()),
        ("method".into(), "home".into()),
        ("served_on".into(), today(state.now())),
        ("duration_minutes".into(), "30".into()),
        ("person_times".into(), "1".into()),
        ("workers".into(), u.user.display_name.clone()),
        // A repeated submission returns the first record instead of a second one.
        ("idempotency_key".into(), uuid::Uuid::now_v7().to_string()),
    ]);
    service_form(&state, &ctx, f, vec![]).await
}

/// Parse a service form (or API body in the same shape).
pub fn parse_service(f: &FormData) -> Result<ServiceInput, Vec<FieldError>> {
    let mut c = Check::default();
    let kind = c.take(ServiceKind::parse(f.get("kind")));
    let domain = c.take(ServiceDomain::parse(f.get("domain")));
    let served_on = c.date("served_on", f.get("served_on"));
    let started_at = match f.get("started_at").trim() {
        "" => None,
        v if v.len() == 5 && chrono::NaiveTime::parse_from_str(v, "%H:%M").is_ok() => {
            Some(v.to_owned())
        }
        _ => {
            c.fail("started_at", "service.time_invalid");
            None
        }
    };
    let duration = c.int("duration_minutes", f.get("duration_minutes"), 1, 1440, 0);
    if f.get("duration_minutes").is_empty() {
        c.fail("duration_minutes", "form.required");
    }
    let person_times = c.int("person_times", f.get("person_times"), 1, 100_000, 1);
    let value_fen = match f.get("value").trim() {
        "" => 0,
        v => c.yuan("value", v),
    };
    let workers = c.text("workers", f.get("workers").trim(), 200);
    let title = c.opt_text("title", f.get("title").trim(), 100);
    let location = c.opt_text("location", f.get("location").trim(), 200);
    let notes = c.opt_text("notes", f.get("notes").trim(), 5000);
    let volunteer_id = Some(f.get("volunteer_id").trim().to_owned()).filter(|s| !s.is_empty());
    let incident_id = Some(f.get("incident_id").trim().to_owned()).filter(|s| !s.is_empty());
    if incident_id.as_ref().is_some_and(|s| s.len() > 64) {
        c.fail("incident_id", "service.incident_unknown");
    }
    let method = match (kind, f.get("method").trim()) {
        // A volunteer's visit is of method `volunteer`: left empty, the store sets it.
        (Some(ServiceKind::Visit), "") if volunteer_id.is_some() => None,
        (Some(ServiceKind::Visit), m) => {
            c.take(VisitMethod::parse(m)).map(|m| m.as_str().to_owned())
        }
        _ => None,
    };
    let errors = c.finish().err().unwrap_or_default();
    let (Some(kind), Some(domain), true) = (kind, domain, errors.is_empty()) else {
        return Err(errors);
    };
    let o = |k: &str| Some(f.get(k).to_owned()).filter(|s| !s.is_empty());
    Ok(ServiceInput {
        kind: kind.as_str().to_owned(),
        domain: domain.as_str().to_owned(),
        station_id: o("station"),
        resident_id: o("resident"),
        case_id: o("case"),
        participants: f.all("participants"),
        title,
        served_on,
        started_at,
        duration_minutes: duration,
        person_times,
        method,
        location,
        value_fen,
        workers,
        volunteer_id,
        notes,
        sensitive: f.has("sensitive", "1"),
        incident_id,
    })
}

/// Record with audit (form, API), with the visit's evidence: photos and the signature are
/// stored as attachments of the record in the same transaction.
pub async fn record_service(
    state: &AppState,
    ctx: &Ctx,
    input: ServiceInput,
    evidence: Evidence,
    key: Option<String>,
) -> WebResult<Result<String, FieldError>> {
    let u = writer(ctx)?;
    if let Some(id) = replayed(state, &u.user.id, key.as_deref(), "service").await? {
        return Ok(Ok(id));
    }
    let v = viewer(state, u);
    let (app, now, by) = (state.clone(), state.now(), u.user.username.clone());
    let uid = u.user.id.clone();
    audited_id(state, ctx, "service", "create", move |conn, _, _| {
        Box::pin(async move {
            claim(conn, &uid, key.as_deref(), "service", now).await?;
            let (id, region) =
                services::create_with(conn, &v, &app.keys, &input, &evidence, &by, now).await?;
            if let Some(k) = &key {
                idempotency::settle_key(conn, &uid, k, &id).await?;
            }
            shegong_store::people::evidence::attach(
                conn, &app.files, &id, &region, &evidence, &by, now,
            )
            .await?;
            let mut changes = audit_changes(&input);
            changes.extend(super::evidence::audit_changes(&evidence));
            Ok(Done {
                entity_id: id,
                region: Some(region),
                changes,
            })
        })
    })
    .await
}

fn audit_changes(i: &ServiceInput) -> Vec<Change> {
    let mut c = vec![
        Change::new("kind", None::<String>, Some(i.kind.clone())),
        Change::new("served_on", None::<String>, Some(i.served_on.clone())),
        Change::new("resident", None::<String>, i.resident_id.clone()),
    ];
    if let Some(v) = &i.volunteer_id {
        c.push(Change::new("volunteer_id", None::<String>, Some(v.clone())));
    }
    if let Some(v) = &i.incident_id {
        c.push(Change::new("incident_id", None::<String>, Some(v.clone())));
    }
    if !i.notes.is_empty() {
        c.push(Change::redacted("notes"));
    }
    c
}

/// The record form, urlencoded or (with photos) multipart.
pub async fn create_service(
    State(state): State<AppState>,
    ctx: Ctx,
    req: axum::extract::Request,
) -> WebResult<Response> {
    let super::evidence::Submitted {
        form: f,
        photos,
        refused,
    } = match super::evidence::read_form(&state, req).await {
        Ok(s) => s,
        Err(r) => return Ok(r),
    };
    let parsed = parse_service(&f);
    let evidence = parse_evidence(&f, photos);
    let (input, evidence) = match (parsed, evidence, refused) {
        (Ok(i), Ok(e), None) => (i, e),
        (p, e, refused) => {
            let mut errors: Vec<FieldError> = refused.into_iter().collect();
            errors.extend(p.err().unwrap_or_default());
            errors.extend(e.err().unwrap_or_default());
            return service_form(&state, &ctx, f, errors).await;
        }
    };
    let back = input
        .case_id
        .clone()
        .map(|c| format!("/cases/{c}"))
        .or(input.resident_id.clone().map(|r| format!("/residents/{r}")));
    let key = match form_key(&f) {
        Ok(k) => k,
        Err(e) => return service_form(&state, &ctx, f, vec![e]).await,
    };
    match record_service(&state, &ctx, input, evidence, key).await? {
        Ok(id) => Ok(Redirect::to(&format!(
            "{}?notice=notice.saved",
            back.unwrap_or(format!("/services/{id}"))
        ))
        .into_response()),
        Err(e) => service_form(&state, &ctx, f, vec![e]).await,
    }
}

#[derive(Template)]
#[template(path = "people/services/detail.html")]
struct ServiceDetailPage {
    t: Tr,
    base: Base,
    can_write: bool,
    value_input: String,
    error: Option<String>,
    s: Service,
    row: ServiceRow,
    notes: String,
    participants: Vec<(String, String)>,
    ev: EvidenceView,
}

pub async fn service_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> WebResult<Response> {
    service_render(&state, &ctx, &id, q.notice.as_deref(), None).await
}

async fn service_detail(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    error: Option<FieldError>,
) -> WebResult<Response> {
    service_render(state, ctx, id, None, error).await
}

async fn service_render(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    notice: Option<&str>,
    error: Option<FieldError>,
) -> WebResult<Response> {
    let u = reader(ctx)?;
    let t = ctx.tr();
    let v = viewer(state, u);
    let (s, participants, ev) = {
        let mut c = state.db.read().await?;
        let s = services::get(&mut c, &v, id).await?;
        let ev = super::evidence::view_of(state, &mut c, &s).await?;
        (s, services::participants(&mut c, &v, id).await?, ev)
    };
    let notes = s
        .notes_sealed
        .as_deref()
        .and_then(|n| state.keys.open(services::NOTES_FIELD, n).ok())
        .unwrap_or_default();
    let title = format!(
        "{} · {}",
        t.get(&format!("service.kind.{}", s.kind)),
        s.served_on
    );
    Ok(page(
        if error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        &ServiceDetailPage {
            base: Base::new(
                ctx,
                title.clone(),
                vec![
                    Crumb::link(t.get("menu.services"), "/services"),
                    Crumb::here(title),
                ],
            )
            .with_notice(&t, notice),
            can_write: u.can(Permission::WriteData),
            value_input: if s.value_fen > 0 {
                format_yuan(s.value_fen).replace(',', "")
            } else {
                String::new()
            },
            error: error.as_ref().map(|e| field_error(&t, e)),
            row: service_row(&t, &s),
            notes,
            participants,
            ev,
            s,
            t,
        },
    ))
}

/// Correct the date and figures of a record (audited with before and after).
/// The correction form (or API body): date, minutes, person-times and value in yuan.
pub(super) fn parse_correction(f: &FormData) -> Result<services::Correction, Vec<FieldError>> {
    let mut c = Check::default();
    let correction = services::Correction {
        served_on: c.date("served_on", f.get("served_on")),
        duration_minutes: c.int("duration_minutes", f.get("duration_minutes"), 1, 1440, 1),
        person_times: c.int("person_times", f.get("person_times"), 1, 100_000, 1),
        value_fen: match f.get("value").trim() {
            "" => 0,
            v => c.yuan("value", v),
        },
    };
    c.finish()?;
    Ok(correction)
}

/// Correct a record's date and figures (audited `service`/`correct` with what changed).
pub(super) async fn change_service(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    correction: services::Correction,
) -> WebResult<Option<FieldError>> {
    let v = viewer(state, writer(ctx)?);
    let sid = id.to_owned();
    audited(state, ctx, "service", "correct", move |conn, _, _| {
        Box::pin(async move {
            let before = services::correct(conn, &v, &sid, &correction).await?;
            Ok(Done {
                entity_id: sid,
                region: Some(before.region_code),
                changes: shegong_store::admin::audit::diff(&[
                    (
                        "served_on",
                        Some(before.served_on),
                        Some(correction.served_on.clone()),
                    ),
                    (
                        "duration_minutes",
                        Some(before.duration_minutes.to_string()),
                        Some(correction.duration_minutes.to_string()),
                    ),
                    (
                        "person_times",
                        Some(before.person_times.to_string()),
                        Some(correction.person_times.to_string()),
                    ),
                    (
                        "value",
                        Some(format_yuan(before.value_fen)),
                        Some(format_yuan(correction.value_fen)),
                    ),
                ]),
            })
        })
    })
    .await
}

pub async fn correct_service(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let failed = match parse_correction(&f) {
        Ok(correction) => change_service(&state, &ctx, &id, correction).await?,
        Err(e) => e.into_iter().next(),
    };
    match failed {
        None => Ok(Redirect::to(&format!("/services/{id}?notice=notice.saved")).into_response()),
        Some(e) => service_detail(&state, &ctx, &id, Some(e)).await,
    }
}

/// Delete a record entered by mistake (audited with what it was); a record others refer to
/// (a disbursement, an activity) is refused on `service`.
pub(super) async fn remove_service(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
) -> WebResult<Option<FieldError>> {
    let v = viewer(state, writer(ctx)?);
    let sid = id.to_owned();
    audited(state, ctx, "service", "delete", move |conn, _, _| {
        Box::pin(async move {
            let s = services::delete(conn, &v, &sid).await?;
            Ok(Done {
                entity_id: sid,
                region: Some(s.region_code),
                changes: vec![
                    Change::new("kind", Some(s.kind), None::<String>),
                    Change::new("served_on", Some(s.served_on), None::<String>),
                    Change::new("resident", s.resident_id, None::<String>),
                ],
            })
        })
    })
    .await
}

/// Delete a record entered by mistake (audited with what it was).
pub async fn delete_service(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Response> {
    match remove_service(&state, &ctx, &id).await? {
        None => Ok(Redirect::to("/services?notice=notice.deleted").into_response()),
        Some(e) => service_detail(&state, &ctx, &id, Some(e)).await,
    }
}
