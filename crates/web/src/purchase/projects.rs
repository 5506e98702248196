//! Purchase projects (`/projects`, `/api/v1/projects`): approved with a budget, catalogue item,
//! stations and term; procured by a method with notices; awarded to the contract signed.
//! Purchasers' business: agencies and evaluators see no projects.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use shegong_domain::purchase::contract::ProcurementMethod;
use shegong_domain::purchase::project::{NoticeKind, ProjectState};
use shegong_domain::{FieldError, Permission};
use shegong_store::PageRequest;
use shegong_store::purchase::contracts;
use shegong_store::purchase::projects::{self, Filter, ProjectDetail, StoredProject};
use utoipa::{IntoParams, ToSchema};

use crate::http::auth::{Ctx, reader};
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, Crumb, form_status, page};
use crate::http::state::AppState;
use crate::purchase::contracts::today_date;
use crate::purchase::{input, writes};
use crate::ui::excel::{self, Cell, Export};
use crate::ui::forms::FormData;
use crate::ui::i18n::Tr;
use crate::ui::list::{FormErrors, NoticeQuery, Pager, pager, rfc3339};

#[derive(Deserialize, IntoParams, Default)]
pub struct ListQuery {
    /// Number or name contains.
    pub q: Option<String>,
    /// `approved`, `procuring`, `awarded`, `failed` or `cancelled`.
    #[param(schema_with = crate::purchase::code::project_state)]
    pub state: Option<String>,
    /// Order: `number`, `name`, `region`, `budget` (largest first), `term` (latest first) or
    /// `state`; `-` before it reverses the order. Any other value is the default order (latest
    /// term first).
    #[param(schema_with = crate::http::api::code::project_sort)]
    pub sort: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    /// Export only: these projects (comma-separated ids of a batch selection, at most 200).
    #[serde(default)]
    #[param(ignore)]
    pub ids: Option<String>,
    #[serde(default)]
    #[param(ignore)]
    pub notice: Option<String>,
}

impl ListQuery {
    fn filter(&self) -> WebResult<Filter> {
        let state = match self
            .state
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(s) => Some(ProjectState::parse(s)?),
            None => None,
        };
        Ok(Filter {
            q: self.q.clone(),
            state,
            sort: self.sort(),
            ids: crate::ui::list::batch_ids(self.ids.as_deref())?,
        })
    }

    fn sort(&self) -> Option<shegong_store::Sort> {
        shegong_store::Sort::parse(self.sort.as_deref(), projects::SORTS)
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        let v = |o: &Option<String>| o.clone().unwrap_or_default();
        let [sort, size] = crate::ui::list::table_pairs(self.sort(), self.per_page);
        vec![("q", v(&self.q)), ("state", v(&self.state)), sort, size]
    }
}

#[derive(Template)]
#[template(path = "purchase/projects.html")]
struct ListPage {
    t: Tr,
    base: Base,
    rows: Vec<StoredProject>,
    pager: Pager,
    q: ListQuery,
    states: Vec<(String, String)>,
    export_href: String,
    can_create: bool,
    can_export: bool,
}

impl ListPage {
    fn state_label(&self, p: &StoredProject) -> String {
        self.t.label("project.state", p.state)
    }
    fn method_label(&self, p: &StoredProject) -> String {
        p.method
            .map(|m| self.t.label("purchase.method", m))
            .unwrap_or_default()
    }
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
        projects::list(
            &mut c,
            &u.scope(),
            &q.filter()?,
            PageRequest::sized(q.page, q.per_page),
        )
        .await?
    };
    let pairs = q.pairs();
    let title = t.get("menu.projects");
    Ok(page(
        StatusCode::OK,
        &ListPage {
            base: Base::new(&ctx, title, vec![Crumb::here(title)])
                .with_notice(&t, q.notice.as_deref()),
            pager: pager(&t, &data, "/projects", &pairs)?,
            export_href: format!(
                "/projects/export.xlsx?{}",
                serde_urlencoded::to_string(&pairs).unwrap_or_default()
            ),
            rows: data.items,
            states: t.options("project.state", ProjectState::ALL),
            can_create: writes::is_purchaser(u),
            can_export: u.can(Permission::Export),
            q,
            t,
        },
    ))
}

pub async fn export(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> WebResult<Response> {
    let export = Export::check(&ctx, "purchase_project", Permission::Export)?;
    let u = export.user();
    let t = ctx.tr();
    let data = {
        let mut c = state.db.read().await?;
        projects::list(
            &mut c,
            &u.scope(),
            &q.filter()?,
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
        "project.number",
        "project.name",
        "purchase.region",
        "project.budget_yuan",
        "purchase.term_start",
        "purchase.term_end",
        "purchase.method_label",
        "common.status",
        "purchase.number",
    ]
    .map(|k| t.get(k));
    let rows: Vec<Vec<Cell>> = data
        .items
        .iter()
        .map(|p| {
            vec![
                p.number.clone().into(),
                p.name.clone().into(),
                p.region_path
                    .clone()
                    .unwrap_or_else(|| p.region_code.clone())
                    .into(),
                p.budget.format_yuan().into(),
                p.term.start().to_string().into(),
                p.term.end().to_string().into(),
                p.method
                    .map(|m| t.label("purchase.method", m))
                    .unwrap_or_default()
                    .into(),
                t.label("project.state", p.state).into(),
                p.contract_number.clone().unwrap_or_default().into(),
            ]
        })
        .collect();
    export
        .send(&state, &ctx, "menu.projects", &headers, &rows, vec![])
        .await
}

#[derive(Template)]
#[template(path = "purchase/project_form.html")]
struct FormPage {
    t: Tr,
    base: Base,
    f: FormData,
    errors: FormErrors,
    orgs: Vec<(String, String)>,
    stations: Vec<(String, String)>,
}

impl FormPage {
    fn other_errors(&self) -> Vec<String> {
        self.errors.others(&[
            "region",
            "project_number",
            "name",
            "budget",
            "term_start",
            "term_end",
            "purchaser_org_id",
            "stations",
        ])
    }

    fn station_checked(&self, id: &str) -> bool {
        self.f.has("stations", id)
    }
}

async fn form_page(
    state: &AppState,
    ctx: &Ctx,
    f: FormData,
    errors: Vec<FieldError>,
) -> WebResult<Response> {
    let u = writes::purchaser(ctx)?;
    let t = ctx.tr();
    let scope = u.scope();
    let (orgs, stations) = {
        let mut c = state.db.read().await?;
        let orgs = shegong_store::network::orgs::list(&mut c, &scope).await?;
        let stations = shegong_store::network::stations::list(
            &mut c,
            &scope,
            &shegong_store::network::stations::Filter::default(),
            PageRequest::new(Some(1), Some(200)),
        )
        .await?;
        (
            orgs.into_iter().map(|o| (o.id, o.name)).collect(),
            stations.items.into_iter().map(|s| (s.id, s.name)).collect(),
        )
    };
    let status = form_status(&errors);
    let title = t.get("project.new");
    Ok(page(
        status,
        &FormPage {
            base: Base::new(
                ctx,
                title,
                vec![
                    Crumb::link(t.get("menu.projects"), "/projects"),
                    Crumb::here(title),
                ],
            ),
            f,
            errors: FormErrors::new(t, errors),
            orgs,
            stations,
            t,
        },
    ))
}

pub async fn new_form(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let u = writes::purchaser(&ctx)?;
    let f = FormData::new(vec![("region".into(), u.user.region_code.clone())]);
    form_page(&state, &ctx, f, vec![]).await
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writes::purchaser(&ctx)?;
    let parsed = match input::project(&f) {
        Ok(p) => p,
        Err(errors) => return form_page(&state, &ctx, f, errors).await,
    };
    match writes::create_project(&state, &ctx, parsed).await {
        Ok(id) => Ok(Redirect::to(&format!("/projects/{id}?notice=notice.saved")).into_response()),
        Err(WebError::Invalid(errors)) => form_page(&state, &ctx, f, errors).await,
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "purchase/project.html")]
struct DetailPage {
    t: Tr,
    base: Base,
    d: ProjectDetail,
    state: String,
    method: String,
    /// (state code, label) of the moves open now.
    moves: Vec<(String, String)>,
    methods: Vec<(String, String)>,
    kinds: Vec<(String, String)>,
    /// Contracts of the project's region not yet ending a project: (id, "number title").
    contracts: Vec<(String, String)>,
    purchaser: bool,
    today: String,
    errors: FormErrors,
    /// Which form failed: "move", "notice" or "award".
    failed: &'static str,
    form: FormData,
}

impl DetailPage {
    fn messages(&self, form: &str) -> Vec<String> {
        if self.failed == form {
            self.errors.others(&[])
        } else {
            vec![]
        }
    }
    fn kind_label(&self, k: &NoticeKind) -> String {
        self.t.label("project.notice_kind", k)
    }
    fn typed(&self, k: &str) -> &str {
        self.form.get(k)
    }
}

async fn detail(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    notice: Option<&str>,
    error: Option<(&'static str, FieldError)>,
    form: Option<FormData>,
) -> WebResult<Response> {
    let u = reader(ctx)?;
    let t = ctx.tr();
    let scope = u.scope();
    let (d, contracts) = {
        let mut c = state.db.read().await?;
        let d = projects::detail(&mut c, &scope, id).await?;
        let contracts = if d.project.state == ProjectState::Procuring {
            contracts::list(
                &mut c,
                &scope,
                &Default::default(),
                PageRequest::new(Some(1), Some(200)),
            )
            .await?
            .items
            .into_iter()
            .filter(|k| k.region_code == d.project.region_code)
            .map(|k| (k.id, format!("{} {}", k.number, k.title)))
            .collect()
        } else {
            vec![]
        };
        (d, contracts)
    };
    let purchaser = writes::is_purchaser(u);
    let (failed, errors) = match error {
        Some((f, e)) => (f, vec![e]),
        None => ("", vec![]),
    };
    let status = form_status(&errors);
    let title = format!("{} {}", d.project.number, d.project.name);
    Ok(page(
        status,
        &DetailPage {
            base: Base::new(
                ctx,
                title.clone(),
                vec![
                    Crumb::link(t.get("menu.projects"), "/projects"),
                    Crumb::here(title),
                ],
            )
            .with_notice(&t, notice),
            state: t.label("project.state", d.project.state),
            method: d
                .project
                .method
                .map(|m| t.label("purchase.method", m))
                .unwrap_or_else(|| "—".into()),
            moves: if purchaser {
                t.options("project.move", d.project.state.successors())
            } else {
                vec![]
            },
            methods: t.options("purchase.method", ProcurementMethod::ALL),
            kinds: t.options("project.notice_kind", NoticeKind::ALL),
            contracts,
            purchaser,
            today: today_date(state.now()).to_string(),
            errors: FormErrors::new(t, errors),
            failed,
            form: form.unwrap_or_else(|| FormData::new(vec![])),
            d,
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
    detail(&state, &ctx, &id, q.notice.as_deref(), None, None).await
}

/// The outcome of a form on the project page.
async fn answer(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    form: &'static str,
    f: FormData,
    result: WebResult<()>,
) -> WebResult<Response> {
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/projects/{id}?notice=notice.saved")).into_response()),
        Err(WebError::Invalid(errors)) => {
            let e = errors.into_iter().next();
            detail(state, ctx, id, None, e.map(|e| (form, e)), Some(f)).await
        }
        Err(e) => Err(e),
    }
}

fn step_of(f: &FormData) -> Result<(ProjectState, Option<ProcurementMethod>), FieldError> {
    let to = ProjectState::parse(f.get("to"))?;
    let method = match f.get("procurement_method").trim() {
        "" => None,
        m => Some(
            ProcurementMethod::parse(m)
                .map_err(|_| FieldError::new("procurement_method", "purchase.method_unknown"))?,
        ),
    };
    Ok((to, method))
}

pub async fn page_move(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writes::purchaser(&ctx)?;
    let result = match step_of(&f) {
        Ok((to, method)) => writes::move_project(&state, &ctx, &id, to, method)
            .await
            .map(|_| ()),
        Err(e) => Err(e.into()),
    };
    answer(&state, &ctx, &id, "move", f, result).await
}

pub async fn page_notice(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writes::purchaser(&ctx)?;
    let result = match input::notice(&f) {
        Ok(n) => writes::add_notice(&state, &ctx, &id, n).await.map(|_| ()),
        Err(e) => Err(e.into()),
    };
    answer(&state, &ctx, &id, "notice", f, result).await
}

pub async fn page_award(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writes::purchaser(&ctx)?;
    let contract = f.get("contract_id").trim().to_owned();
    let result = writes::award_project(&state, &ctx, &id, contract)
        .await
        .map(|_| ());
    answer(&state, &ctx, &id, "award", f, result).await
}

/// A project as the API returns it.
#[derive(Serialize, ToSchema)]
pub struct ProjectDto {
    pub id: String,
    pub region_code: String,
    pub project_number: String,
    pub name: String,
    pub purchaser_org_id: Option<String>,
    pub catalogue_item_id: Option<String>,
    pub budget_fen: i64,
    #[schema(format = Date)]
    pub term_start: String,
    #[schema(format = Date)]
    pub term_end: String,
    /// Set when procurement starts.
    pub procurement_method: Option<String>,
    /// `approved`, `procuring`, `awarded`, `failed` or `cancelled`.
    pub state: String,
    /// The states this project may move to now (`awarded` only by naming the contract).
    pub next_states: Vec<String>,
    /// The contract the procurement ended in.
    pub contract_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

fn dto(p: &StoredProject) -> ProjectDto {
    ProjectDto {
        id: p.id.clone(),
        region_code: p.region_code.clone(),
        project_number: p.number.clone(),
        name: p.name.clone(),
        purchaser_org_id: p.purchaser_org_id.clone(),
        catalogue_item_id: p.catalogue_item_id.clone(),
        budget_fen: p.budget.0,
        term_start: p.term.start().to_string(),
        term_end: p.term.end().to_string(),
        procurement_method: p.method.map(|m| m.to_string()),
        state: p.state.to_string(),
        next_states: p
            .state
            .successors()
            .iter()
            .map(ToString::to_string)
            .collect(),
        contract_id: p.contract_id.clone(),
        created_at: rfc3339(p.created_at),
        updated_at: rfc3339(p.updated_at),
    }
}

#[derive(Serialize, ToSchema)]
pub struct ProjectDetailDto {
    #[serde(flatten)]
    pub project: ProjectDto,
    /// Station ids served.
    pub stations: Vec<String>,
    pub notices: Vec<NoticeDto>,
}

#[derive(Serialize, ToSchema)]
pub struct NoticeDto {
    pub seq: i64,
    /// `procurement`, `correction`, `result`, `contract` or `termination`.
    pub kind: String,
    #[schema(format = Date)]
    pub published_on: String,
    pub title: String,
    pub url: String,
}

async fn load(state: &AppState, ctx: &Ctx, id: &str) -> WebResult<ProjectDetailDto> {
    let u = reader(ctx)?;
    let mut c = state.db.read().await?;
    let d = projects::detail(&mut c, &u.scope(), id).await?;
    Ok(ProjectDetailDto {
        project: dto(&d.project),
        stations: d.stations.into_iter().map(|(id, _)| id).collect(),
        notices: d
            .notices
            .into_iter()
            .map(|n| NoticeDto {
                seq: n.seq,
                kind: n.kind.to_string(),
                published_on: n.published_on,
                title: n.title,
                url: n.url,
            })
            .collect(),
    })
}

#[derive(Serialize, ToSchema)]
pub struct ProjectPage {
    pub items: Vec<ProjectDto>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// Purchase projects in the caller's region, latest term first (none for an organisation's
/// account).
#[utoipa::path(get, path = "/api/v1/projects", tag = "purchase", params(ListQuery),
    responses((status = 200, body = ProjectPage)))]
pub async fn api_list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> WebResult<Json<ProjectPage>> {
    let u = reader(&ctx)?;
    let mut c = state.db.read().await?;
    let p = projects::list(
        &mut c,
        &u.scope(),
        &q.filter()?,
        PageRequest::new(q.page, q.per_page),
    )
    .await?;
    Ok(Json(ProjectPage {
        items: p.items.iter().map(dto).collect(),
        total: p.total,
        page: p.page,
        per_page: p.per_page,
    }))
}

/// One project with its stations and notices.
#[utoipa::path(get, path = "/api/v1/projects/{id}", tag = "purchase", params(("id" = String, Path)),
    responses((status = 200, body = ProjectDetailDto), (status = 404, description = "Unknown or outside the caller's scope")))]
pub async fn api_get(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<ProjectDetailDto>> {
    Ok(Json(load(&state, &ctx, &id).await?))
}

/// A new project (立项).
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"region_code": "430203", "project_number": "ZZCG-2025-017", "name": "芦淞区乡镇（街道）社工站服务项目",
    "budget": "30万", "term_start": "2025-06-01", "term_end": "2026-05-31", "stations": []}))]
pub struct ProjectBody {
    /// The purchaser's region.
    pub region_code: String,
    pub project_number: String,
    pub name: String,
    /// Yuan as written: "300000", "30万".
    pub budget: String,
    #[schema(format = Date)]
    pub term_start: String,
    #[schema(format = Date)]
    pub term_end: String,
    #[serde(default)]
    pub purchaser_org_id: Option<String>,
    #[serde(default)]
    pub catalogue_item_id: Option<String>,
    /// Station ids inside the region.
    #[serde(default)]
    pub stations: Vec<String>,
}

/// Approve a project in the caller's region; every field error at once, nothing written on any.
#[utoipa::path(post, path = "/api/v1/projects", tag = "purchase", request_body = ProjectBody,
    responses((status = 201, body = ProjectDetailDto), (status = 403, description = "Not a purchaser"),
        (status = 422, description = "Invalid fields, each named; nothing written")))]
pub async fn api_create(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(body): Json<ProjectBody>,
) -> WebResult<Response> {
    writes::purchaser(&ctx)?;
    if body.stations.len() > 200 {
        return Err(WebError::Invalid(vec![FieldError::new(
            "stations",
            "purchase.too_many_rows",
        )]));
    }
    let mut pairs = vec![
        ("region".to_owned(), body.region_code),
        ("project_number".to_owned(), body.project_number),
        ("name".to_owned(), body.name),
        ("budget".to_owned(), body.budget),
        ("term_start".to_owned(), body.term_start),
        ("term_end".to_owned(), body.term_end),
        (
            "purchaser_org_id".to_owned(),
            body.purchaser_org_id.unwrap_or_default(),
        ),
        (
            "catalogue_item_id".to_owned(),
            body.catalogue_item_id.unwrap_or_default(),
        ),
    ];
    pairs.extend(
        body.stations
            .into_iter()
            .map(|s| ("stations".to_owned(), s)),
    );
    let parsed = input::project(&FormData::new(pairs)).map_err(WebError::Invalid)?;
    let id = writes::create_project(&state, &ctx, parsed).await?;
    Ok((StatusCode::CREATED, Json(load(&state, &ctx, &id).await?)).into_response())
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"to": "procuring", "procurement_method": "competitive_consultation"}))]
pub struct ProjectStep {
    /// `procuring` (with a method), `failed` or `cancelled`: one of `next_states`.
    #[schema(schema_with = crate::purchase::code::project_state)]
    pub to: String,
    /// Required to start procurement.
    #[serde(default)]
    #[schema(schema_with = crate::purchase::code::method)]
    pub procurement_method: String,
}

/// Move a project: start procurement (with its method), record it failed (to procure again) or
/// cancel it.
#[utoipa::path(post, path = "/api/v1/projects/{id}/state", tag = "purchase", params(("id" = String, Path)),
    request_body = ProjectStep,
    responses((status = 200, body = ProjectDetailDto), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "A step the project's state does not allow, or no method")))]
pub async fn api_move(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(body): Json<ProjectStep>,
) -> WebResult<Json<ProjectDetailDto>> {
    writes::purchaser(&ctx)?;
    let (to, method) = step_of(&FormData::new(vec![
        ("to".into(), body.to),
        ("procurement_method".into(), body.procurement_method),
    ]))?;
    writes::move_project(&state, &ctx, &id, to, method).await?;
    Ok(Json(load(&state, &ctx, &id).await?))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"kind": "procurement", "published_on": "2025-05-10", "title": "芦淞区社工站服务项目竞争性磋商公告",
    "url": "https://www.ccgp-hunan.gov.cn/notice/2025/0510-17"}))]
pub struct NoticeBody {
    #[schema(schema_with = crate::purchase::code::notice_kind)]
    pub kind: String,
    /// Not in the future.
    #[schema(format = Date)]
    pub published_on: String,
    pub title: String,
    /// Where it was published (http or https), optional.
    #[serde(default)]
    pub url: String,
}

/// File a notice of the project's procurement (never edited; a correction is a new notice).
#[utoipa::path(post, path = "/api/v1/projects/{id}/notices", tag = "purchase", params(("id" = String, Path)),
    request_body = NoticeBody,
    responses((status = 201, body = ProjectDetailDto), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Invalid fields, each named")))]
pub async fn api_notice(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(body): Json<NoticeBody>,
) -> WebResult<Response> {
    writes::purchaser(&ctx)?;
    let n = input::notice(&FormData::new(vec![
        ("kind".into(), body.kind),
        ("published_on".into(), body.published_on),
        ("title".into(), body.title),
        ("url".into(), body.url),
    ]))?;
    writes::add_notice(&state, &ctx, &id, n).await?;
    Ok((StatusCode::CREATED, Json(load(&state, &ctx, &id).await?)).into_response())
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"contract_id": "0190f1c2-0000-7000-8000-000000000000"}))]
pub struct AwardBody {
    /// A contract of the project's region within its budget, not ending another project.
    pub contract_id: String,
}

/// End the procurement with the contract signed (the project becomes `awarded`).
#[utoipa::path(post, path = "/api/v1/projects/{id}/award", tag = "purchase", params(("id" = String, Path)),
    request_body = AwardBody,
    responses((status = 200, body = ProjectDetailDto), (status = 404, description = "Unknown or outside the caller's scope"),
        (status = 422, description = "Not procuring, contract unknown, over the budget or ending another project")))]
pub async fn api_award(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(body): Json<AwardBody>,
) -> WebResult<Json<ProjectDetailDto>> {
    writes::purchaser(&ctx)?;
    writes::award_project(&state, &ctx, &id, body.contract_id).await?;
    Ok(Json(load(&state, &ctx, &id).await?))
}

/// This module's pages and API operations.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/projects", get(list_page).post(create))
        .route("/projects/new", get(new_form))
        .route("/projects/export.xlsx", get(export))
        .route("/projects/{id}", get(detail_page))
        .route("/projects/{id}/state", post(page_move))
        .route("/projects/{id}/notices", post(page_notice))
        .route("/projects/{id}/award", post(page_award))
        .route("/api/v1/projects", get(api_list).post(api_create))
        .route("/api/v1/projects/{id}", get(api_get))
        .route("/api/v1/projects/{id}/state", post(api_move))
        .route("/api/v1/projects/{id}/notices", post(api_notice))
        .route("/api/v1/projects/{id}/award", post(api_award))
}
