//! Organisations (社工机构等): scoped list with filters and export, the form, and
//! `/api/v1/organizations`. A USCC whose check character fails is kept with a warning.

use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use shegong_domain::network::org::OrgKind;
use shegong_domain::network::station::Rating;
use shegong_domain::{FieldError, Permission};
use shegong_store::PageRequest;
use shegong_store::admin::audit;
use shegong_store::network::orgs::{self, Filter, Org, OrgInput};
use utoipa::{IntoParams, ToSchema};

use crate::http::auth::Ctx;
use crate::http::auth::reader;
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, Crumb, form_status, page};
use crate::http::state::AppState;
use crate::http::write::{Done, Entry, WorkWith, write_or_invalid, writer};
use crate::ui::excel::{self, Cell, Export};
use crate::ui::forms::{Check, FormData};
use crate::ui::i18n::Tr;
use crate::ui::list::NoticeQuery;
use crate::ui::list::{FormErrors, Pager, pager, rfc3339};

pub fn parse(f: &FormData) -> Result<OrgInput, Vec<FieldError>> {
    let mut c = Check::default();
    let name = c.text("name", f.get("name"), 100);
    let kind = c.take(OrgKind::parse(f.get("kind")));
    let region = c.region("region", f.get("region"));
    let rating = c.take(Rating::parse(f.get("rating")));
    let legal_rep = c.opt_text("legal_rep", f.get("legal_rep"), 50);
    let contact_name = c.opt_text("contact_name", f.get("contact_name"), 50);
    let contact_phone = c.opt_text("contact_phone", f.get("contact_phone"), 40);
    let address = c.opt_text("address", f.get("address"), 200);
    let uscc = Some(f.get("uscc").to_owned()).filter(|s| !s.is_empty());
    if let Some(u) = &uscc {
        c.take(shegong_domain::network::org::check_uscc(u));
    }
    let checked = c.finish();
    // `Check` has recorded an error for each of these that did not parse.
    let (Ok(()), Some(kind), Some(region), Some(rating)) = (&checked, kind, region, rating) else {
        return Err(checked.err().unwrap_or_default());
    };
    Ok(OrgInput {
        name,
        uscc,
        kind,
        region,
        legal_rep,
        contact_name,
        contact_phone,
        address,
        rating,
        active: f.get("status") != "inactive",
    })
}

fn form_of(o: &Org) -> FormData {
    FormData::new(vec![
        ("name".into(), o.name.clone()),
        ("uscc".into(), o.uscc.clone().unwrap_or_default()),
        ("kind".into(), o.kind.clone()),
        ("region".into(), o.region_code.clone()),
        ("legal_rep".into(), o.legal_rep.clone()),
        ("contact_name".into(), o.contact_name.clone()),
        ("contact_phone".into(), o.contact_phone.clone()),
        ("address".into(), o.address.clone()),
        ("rating".into(), o.rating.clone()),
        ("status".into(), o.status.clone()),
    ])
}

fn changes(before: Option<&Org>, after: &OrgInput) -> Vec<audit::Change> {
    let b = |f: fn(&Org) -> String| before.map(f);
    audit::diff(&[
        (
            "name",
            b(|o| o.name.clone()),
            Some(after.name.trim().into()),
        ),
        (
            "uscc",
            b(|o| o.uscc.clone().unwrap_or_default()),
            Some(after.uscc.clone().unwrap_or_default().to_ascii_uppercase()),
        ),
        (
            "kind",
            b(|o| o.kind.clone()),
            Some(after.kind.as_str().into()),
        ),
        (
            "region",
            b(|o| o.region_code.clone()),
            Some(after.region.to_string()),
        ),
        (
            "legal_rep",
            b(|o| o.legal_rep.clone()),
            Some(after.legal_rep.trim().into()),
        ),
        (
            "contact_name",
            b(|o| o.contact_name.clone()),
            Some(after.contact_name.trim().into()),
        ),
        (
            "contact_phone",
            b(|o| o.contact_phone.clone()),
            Some(after.contact_phone.trim().into()),
        ),
        (
            "address",
            b(|o| o.address.clone()),
            Some(after.address.trim().into()),
        ),
        (
            "rating",
            b(|o| o.rating.clone()),
            Some(after.rating.as_str().into()),
        ),
        (
            "status",
            b(|o| o.status.clone()),
            Some(if after.active { "active" } else { "inactive" }.into()),
        ),
    ])
}

/// Create with audit (form, API, import). Returns (id, USCC warning).
pub async fn create_org(
    state: &AppState,
    ctx: &Ctx,
    input: &OrgInput,
) -> WebResult<(String, bool)> {
    let (input, now) = (input.clone(), state.now());
    write_or_invalid(
        state,
        ctx,
        Entry::new("organization", "create"),
        move |conn, scope, _| -> WorkWith<'_, (String, bool)> {
            Box::pin(async move {
                let (id, warn) = orgs::create_full(conn, &scope, &input, now).await?;
                let done = Done {
                    entity_id: id.clone(),
                    region: Some(input.region.as_str().to_owned()),
                    changes: changes(None, &input),
                };
                Ok((done, (id, warn)))
            })
        },
    )
    .await
}

/// Update with audit, filed only when something changed (form, API, import). Returns the USCC
/// warning.
pub async fn update_org(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    input: &OrgInput,
) -> WebResult<bool> {
    let (id, input, now) = (id.to_owned(), input.clone(), state.now());
    write_or_invalid(
        state,
        ctx,
        Entry::new("organization", "update").only_if_changed(),
        move |conn, scope, _| -> WorkWith<'_, bool> {
            Box::pin(async move {
                let before = orgs::update(conn, &scope, &id, &input, now).await?;
                let after = orgs::get(conn, &scope, &id).await?;
                let done = Done {
                    changes: changes(Some(&before), &input),
                    entity_id: id,
                    region: Some(input.region.as_str().to_owned()),
                };
                Ok((done, after.uscc_warning != 0))
            })
        },
    )
    .await
}

#[derive(Deserialize, IntoParams, Default)]
pub struct ListQuery {
    /// Name or USCC contains.
    pub q: Option<String>,
    #[param(schema_with = crate::http::api::code::org_kind)]
    pub kind: Option<String>,
    /// Registered in this region's subtree.
    pub region: Option<String>,
    #[param(schema_with = crate::http::api::code::rating)]
    pub rating: Option<String>,
    /// Order: `name` (default), `region`, `kind`, `stations` (most first) or `updated` (latest
    /// first); `-` before it reverses the order. Any other value is the default order.
    #[param(schema_with = crate::http::api::code::org_sort)]
    pub sort: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    /// Export only: these organisations (comma-separated ids of a batch selection, at most 200).
    #[serde(default)]
    #[param(ignore)]
    pub ids: Option<String>,
    #[serde(default)]
    #[param(ignore)]
    pub notice: Option<String>,
    /// Counts after an import, shown once.
    #[serde(default)]
    #[param(ignore)]
    pub created: Option<usize>,
    #[serde(default)]
    #[param(ignore)]
    pub updated: Option<usize>,
    #[serde(default)]
    #[param(ignore)]
    pub unchanged: Option<usize>,
    #[serde(default)]
    #[param(ignore)]
    pub skipped: Option<usize>,
}

impl ListQuery {
    /// "导入完成：新增 3，更新 1，未变 5，跳过有误的 2 行" after an import.
    pub fn import_summary(&self, t: &Tr) -> Option<String> {
        let created = self.created?;
        let n = |v: Option<usize>| v.unwrap_or(0).to_string();
        Some(t.fmt(
            "import.summary",
            &[
                ("created", &created.to_string()),
                ("updated", &n(self.updated)),
                ("unchanged", &n(self.unchanged)),
                ("skipped", &n(self.skipped)),
            ],
        ))
    }

    fn filter(&self) -> Filter {
        Filter {
            q: self.q.clone(),
            kind: self.kind.clone(),
            region: self.region.clone(),
            rating: self.rating.clone(),
            sort: shegong_store::Sort::parse(self.sort.as_deref(), orgs::SORTS),
            ids: None,
        }
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        let v = |o: &Option<String>| o.clone().unwrap_or_default();
        let [sort, size] = crate::ui::list::table_pairs(self.filter().sort, self.per_page);
        vec![
            ("q", v(&self.q)),
            ("kind", v(&self.kind)),
            ("region", v(&self.region)),
            ("rating", v(&self.rating)),
            sort,
            size,
        ]
    }
}

pub struct Row {
    pub id: String,
    pub name: String,
    pub uscc: String,
    pub warn: bool,
    pub kind: String,
    pub region: String,
    pub rating: String,
    pub stations: i64,
    pub status: String,
}

fn row(t: &Tr, o: &Org) -> Row {
    Row {
        id: o.id.clone(),
        name: o.name.clone(),
        uscc: o.uscc.clone().unwrap_or_default(),
        warn: o.uscc_warning != 0,
        kind: t.get(&format!("org.kind.{}", o.kind)).to_owned(),
        region: o
            .region_path
            .as_deref()
            .map(|p| shegong_domain::network::region::display_path(p.split('/')))
            .unwrap_or_default(),
        rating: o.rating.clone(),
        stations: o.station_count,
        status: t.get(&format!("org.status.{}", o.status)).to_owned(),
    }
}

fn kinds(t: &Tr) -> Vec<(String, String)> {
    OrgKind::ALL
        .iter()
        .map(|k| {
            (
                k.as_str().to_owned(),
                t.get(&format!("org.kind.{}", k.as_str())).to_owned(),
            )
        })
        .collect()
}

#[derive(Template)]
#[template(path = "network/orgs/list.html")]
struct ListPage {
    t: Tr,
    base: Base,
    rows: Vec<Row>,
    pager: Pager,
    q: ListQuery,
    kinds: Vec<(String, String)>,
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
        orgs::list_page(
            &mut c,
            &u.scope(),
            &q.filter(),
            PageRequest::sized(q.page, q.per_page),
        )
        .await?
    };
    let pairs = q.pairs();
    let title = t.get("menu.orgs");
    Ok(page(
        StatusCode::OK,
        &ListPage {
            t,
            base: Base::new(&ctx, title, vec![Crumb::here(title)])
                .with_notice(&t, q.notice.as_deref()),
            rows: data.items.iter().map(|o| row(&t, o)).collect(),
            pager: pager(&t, &data, "/orgs", &pairs)?,
            export_href: format!(
                "/orgs/export.xlsx?{}",
                serde_urlencoded::to_string(&pairs).unwrap_or_default()
            ),
            kinds: kinds(&t),
            can_write: u.can(Permission::WriteData),
            can_export: u.can(Permission::Export),
            q,
        },
    ))
}

pub async fn export(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> WebResult<Response> {
    let export = Export::check(&ctx, "organization", Permission::Export)?;
    let u = export.user();
    let t = ctx.tr();
    let filter = Filter {
        ids: crate::ui::list::batch_ids(q.ids.as_deref())?,
        ..q.filter()
    };
    let data = {
        let mut c = state.db.read().await?;
        orgs::list_page(
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
        "org.name",
        "org.uscc",
        "org.kind_label",
        "org.region",
        "org.legal_rep",
        "org.contact_name",
        "org.contact_phone",
        "org.address",
        "org.rating",
        "org.station_count",
        "common.status",
    ]
    .map(|k| t.get(k));
    let rows: Vec<Vec<Cell>> = data
        .items
        .iter()
        .map(|o| {
            let r = row(&t, o);
            vec![
                r.name.into(),
                r.uscc.into(),
                r.kind.into(),
                r.region.into(),
                o.legal_rep.as_str().into(),
                o.contact_name.as_str().into(),
                o.contact_phone.as_str().into(),
                o.address.as_str().into(),
                r.rating.into(),
                r.stations.into(),
                r.status.into(),
            ]
        })
        .collect();
    export
        .send(&state, &ctx, "menu.orgs", &headers, &rows, vec![])
        .await
}

#[derive(Template)]
#[template(path = "network/orgs/form.html")]
struct FormPage {
    t: Tr,
    base: Base,
    org: Option<Org>,
    f: FormData,
    errors: FormErrors,
    kinds: Vec<(String, String)>,
    ratings: Vec<String>,
    warning: bool,
}

async fn form_page(
    ctx: &Ctx,
    org: Option<Org>,
    f: FormData,
    errors: Vec<FieldError>,
    notice: Option<&str>,
) -> WebResult<Response> {
    writer(ctx)?;
    let t = ctx.tr();
    let title = org
        .as_ref()
        .map(|o| o.name.clone())
        .unwrap_or_else(|| t.get("org.new").to_owned());
    let status = form_status(&errors);
    let warning = org.as_ref().is_some_and(|o| o.uscc_warning != 0);
    Ok(page(
        status,
        &FormPage {
            t,
            base: Base::new(
                ctx,
                title.clone(),
                vec![Crumb::link(t.get("menu.orgs"), "/orgs"), Crumb::here(title)],
            )
            .with_notice(&t, notice),
            org,
            f,
            errors: FormErrors::new(t, errors),
            kinds: kinds(&t),
            ratings: Rating::ALL.iter().map(|r| r.as_str().to_owned()).collect(),
            warning,
        },
    ))
}

pub async fn new_form(ctx: Ctx) -> WebResult<Response> {
    let u = writer(&ctx)?;
    let f = FormData::new(vec![
        ("kind".into(), "agency".into()),
        ("region".into(), u.user.region_code.clone()),
    ]);
    form_page(&ctx, None, f, vec![], None).await
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    let input = match parse(&f) {
        Ok(i) => i,
        Err(errors) => return form_page(&ctx, None, f, errors, None).await,
    };
    match create_org(&state, &ctx, &input).await {
        Ok((id, warn)) => {
            let notice = if warn {
                "notice.org_saved_uscc_warning"
            } else {
                "notice.saved"
            };
            Ok(Redirect::to(&format!("/orgs/{id}?notice={notice}")).into_response())
        }
        Err(WebError::Invalid(errors)) => form_page(&ctx, None, f, errors, None).await,
        Err(e) => Err(e),
    }
}

pub async fn edit_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> WebResult<Response> {
    let u = reader(&ctx)?;
    let o = {
        let mut c = state.db.read().await?;
        orgs::get(&mut c, &u.scope(), &id).await?
    };
    let f = form_of(&o);
    form_page(&ctx, Some(o), f, vec![], q.notice.as_deref()).await
}

pub async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    let u = writer(&ctx)?;
    let o = {
        let mut c = state.db.read().await?;
        orgs::get(&mut c, &u.scope(), &id).await?
    };
    let input = match parse(&f) {
        Ok(i) => i,
        Err(errors) => return form_page(&ctx, Some(o), f, errors, None).await,
    };
    match update_org(&state, &ctx, &id, &input).await {
        Ok(warn) => {
            let notice = if warn {
                "notice.org_saved_uscc_warning"
            } else {
                "notice.saved"
            };
            Ok(Redirect::to(&format!("/orgs/{id}?notice={notice}")).into_response())
        }
        Err(WebError::Invalid(errors)) => form_page(&ctx, Some(o), f, errors, None).await,
        Err(e) => Err(e),
    }
}

/// An organisation as the API returns it.
#[derive(Serialize, ToSchema)]
pub struct OrgDto {
    pub id: String,
    pub name: String,
    /// Unified Social Credit Code (normalised to upper case).
    pub uscc: Option<String>,
    /// True when the USCC's check character fails (kept: some early real codes do).
    pub uscc_warning: bool,
    /// `agency`, `civil_affairs_bureau`, `township_government` or `other`.
    pub kind: String,
    /// Registration region.
    pub region_code: String,
    pub legal_rep: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub address: String,
    /// `1A`–`5A`, or empty.
    pub rating: String,
    /// `active` or `inactive`.
    pub status: String,
    /// Stations this organisation operates.
    pub station_count: i64,
    pub updated_at: String,
}

impl From<Org> for OrgDto {
    fn from(o: Org) -> Self {
        OrgDto {
            uscc_warning: o.uscc_warning != 0,
            updated_at: rfc3339(o.updated_at),
            id: o.id,
            name: o.name,
            uscc: o.uscc,
            kind: o.kind,
            region_code: o.region_code,
            legal_rep: o.legal_rep,
            contact_name: o.contact_name,
            contact_phone: o.contact_phone,
            address: o.address,
            rating: o.rating,
            status: o.status,
            station_count: o.station_count,
        }
    }
}

/// Creating or replacing an organisation.
#[derive(Deserialize, ToSchema)]
pub struct OrgBody {
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// Unified Social Credit Code: 18 characters (a wrong check character is kept with a
    /// warning).
    #[schema(pattern = "^[0-9A-HJ-NPQRTUWXY]{18}$")]
    pub uscc: Option<String>,
    #[schema(schema_with = crate::http::api::code::org_kind)]
    pub kind: String,
    #[schema(pattern = "^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$")]
    pub region_code: String,
    #[serde(default)]
    #[schema(max_length = 50)]
    pub legal_rep: String,
    #[serde(default)]
    #[schema(max_length = 50)]
    pub contact_name: String,
    #[serde(default)]
    #[schema(max_length = 40)]
    pub contact_phone: String,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub address: String,
    #[serde(default)]
    #[schema(schema_with = crate::http::api::code::rating)]
    pub rating: String,
    /// `active` (default) or `inactive`.
    #[serde(default)]
    #[schema(schema_with = crate::http::api::code::org_status)]
    pub status: String,
}

impl OrgBody {
    fn form(&self) -> FormData {
        FormData::new(vec![
            ("name".into(), self.name.clone()),
            ("uscc".into(), self.uscc.clone().unwrap_or_default()),
            ("kind".into(), self.kind.clone()),
            ("region".into(), self.region_code.clone()),
            ("legal_rep".into(), self.legal_rep.clone()),
            ("contact_name".into(), self.contact_name.clone()),
            ("contact_phone".into(), self.contact_phone.clone()),
            ("address".into(), self.address.clone()),
            ("rating".into(), self.rating.clone()),
            ("status".into(), self.status.clone()),
        ])
    }
}

#[derive(Serialize, ToSchema)]
pub struct OrgPage {
    pub items: Vec<OrgDto>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// Organisations visible in the caller's scope: registered in it, or operating a station in it.
#[utoipa::path(get, path = "/api/v1/organizations", tag = "organizations", params(ListQuery),
    responses((status = 200, body = OrgPage), (status = 401, description = "Not signed in")))]
pub async fn api_list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> WebResult<Json<OrgPage>> {
    let u = reader(&ctx)?;
    let mut c = state.db.read().await?;
    let p = orgs::list_page(
        &mut c,
        &u.scope(),
        &q.filter(),
        PageRequest::new(q.page, q.per_page),
    )
    .await?;
    Ok(Json(OrgPage {
        items: p.items.into_iter().map(Into::into).collect(),
        total: p.total,
        page: p.page,
        per_page: p.per_page,
    }))
}

/// One organisation.
#[utoipa::path(get, path = "/api/v1/organizations/{id}", tag = "organizations", params(("id" = String, Path)),
    responses((status = 200, body = OrgDto), (status = 404, description = "Unknown or outside the caller's scope")))]
pub async fn api_get(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<OrgDto>> {
    let u = reader(&ctx)?;
    let mut c = state.db.read().await?;
    Ok(Json(orgs::get(&mut c, &u.scope(), &id).await?.into()))
}

/// Register an organisation (registration region inside the caller's scope).
#[utoipa::path(post, path = "/api/v1/organizations", tag = "organizations", request_body = OrgBody,
    responses((status = 201, body = OrgDto), (status = 422, description = "Invalid fields, each named")))]
pub async fn api_create(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(body): Json<OrgBody>,
) -> WebResult<Response> {
    let u = writer(&ctx)?;
    let input = parse(&body.form()).map_err(WebError::Invalid)?;
    let (id, _) = create_org(&state, &ctx, &input).await?;
    let mut c = state.db.read().await?;
    let dto: OrgDto = orgs::get(&mut c, &u.scope(), &id).await?.into();
    Ok((StatusCode::CREATED, Json(dto)).into_response())
}

/// Replace an organisation's fields.
#[utoipa::path(put, path = "/api/v1/organizations/{id}", tag = "organizations", params(("id" = String, Path)), request_body = OrgBody,
    responses((status = 200, body = OrgDto), (status = 404, description = "Unknown or outside the caller's scope"), (status = 422, description = "Invalid fields, each named")))]
pub async fn api_update(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(body): Json<OrgBody>,
) -> WebResult<Json<OrgDto>> {
    let u = writer(&ctx)?;
    let input = parse(&body.form()).map_err(WebError::Invalid)?;
    update_org(&state, &ctx, &id, &input).await?;
    let mut c = state.db.read().await?;
    Ok(Json(orgs::get(&mut c, &u.scope(), &id).await?.into()))
}
