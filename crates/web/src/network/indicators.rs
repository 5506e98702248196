//! Configuration of the five-indicator checklist and of the service list (服务清单) for the
//! user's region: items defined here apply to every station below; items from regions above are
//! shown read-only. Changing the checklist recomputes readiness below it in the same transaction.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use shegong_domain::network::station::{Category, Evidence, ServiceDomain};
use shegong_domain::{FieldError, Permission};
use shegong_store::admin::audit::Change;
use shegong_store::network::indicators::{self, Item, ItemInput};
use shegong_store::network::stations::{self, ServiceItem};

use crate::http::auth::Ctx;
use crate::http::auth::reader;
use crate::http::error::WebResult;
use crate::http::render::{Base, Crumb, form_status, page};
use crate::http::state::AppState;
use crate::http::write::{Done, audited, audited_id};
use crate::ui::forms::{Check, FormData};
use crate::ui::i18n::Tr;
use crate::ui::list::FormErrors;
use crate::ui::list::NoticeQuery;

#[derive(Template)]
#[template(path = "network/indicators.html")]
struct IndicatorsPage {
    t: Tr,
    base: Base,
    items: Vec<Item>,
    services: Vec<ServiceItem>,
    own_region: String,
    can_supervise: bool,
    errors: FormErrors,
    f: FormData,
}

impl IndicatorsPage {
    fn defined_here(&self, region: &str) -> bool {
        region.starts_with(&self.own_region)
    }

    fn region_label(&self, region: &str) -> String {
        if region.is_empty() {
            self.t.get("scope.national").to_owned()
        } else {
            region.to_owned()
        }
    }
}

async fn render(
    state: &AppState,
    ctx: &Ctx,
    f: FormData,
    errors: Vec<FieldError>,
    notice: Option<&str>,
) -> WebResult<Response> {
    let u = reader(ctx)?;
    let scope = u.scope();
    let t = ctx.tr();
    let mut c = state.db.read().await?;
    let items = indicators::items_visible(&mut c, &scope).await?;
    let services = stations::service_items_defined(&mut c, &scope).await?;
    drop(c);
    let title = t.get("menu.indicators");
    let status = form_status(&errors);
    Ok(page(
        status,
        &IndicatorsPage {
            t,
            base: Base::new(ctx, title, vec![Crumb::here(title)]).with_notice(&t, notice),
            items,
            services,
            own_region: u.user.region_code.clone(),
            can_supervise: u.can(Permission::Supervise),
            errors: FormErrors::new(t, errors),
            f,
        },
    ))
}

pub async fn page_indicators(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NoticeQuery>,
) -> WebResult<Response> {
    render(
        &state,
        &ctx,
        FormData::default(),
        vec![],
        q.notice.as_deref(),
    )
    .await
}

/// Back to the configuration page with the "saved" notice.
fn saved() -> Response {
    Redirect::to("/indicators?notice=notice.saved").into_response()
}

pub async fn add_item(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    match save_item(&state, &ctx, &f).await? {
        Ok(_) => Ok(saved()),
        Err(errors) => render(&state, &ctx, f, errors, None).await,
    }
}

/// Check and add a checklist item of the caller's region from the form's `category`, `name`,
/// `requirement`, `evidence` and `weight` (the page's and the API's one path): supervising roles
/// only; audited as `indicator_item`/`create`. The new item's id, or the fields refused.
pub(super) async fn save_item(
    state: &AppState,
    ctx: &Ctx,
    f: &FormData,
) -> WebResult<Result<String, Vec<FieldError>>> {
    let u = ctx.user()?;
    u.require(Permission::Supervise)?;
    let mut c = Check::default();
    let category = c.take(Category::parse(f.get("category")));
    let evidence = c.take(Evidence::parse(f.get("evidence")));
    let name = c.text("name", f.get("name"), 100);
    let requirement = c.opt_text("requirement", f.get("requirement"), 500);
    let weight = c.int("weight", f.get("weight"), 1, 100, 1);
    let checked = c.finish();
    let (Ok(()), Some(category), Some(evidence)) = (&checked, category, evidence) else {
        return Ok(Err(checked.err().unwrap_or_default()));
    };
    let input = ItemInput {
        region: u.user.region_code.clone(),
        category,
        name,
        requirement,
        evidence,
        weight,
    };
    let now = state.now();
    let saved = audited_id(
        state,
        ctx,
        "indicator_item",
        "create",
        move |conn, scope, _| {
            Box::pin(async move {
                let id = indicators::add_item(conn, &scope, &input, now).await?;
                Ok(Done {
                    entity_id: id,
                    region: Some(input.region.clone()),
                    changes: vec![
                        Change::new("name", None::<String>, Some(&input.name)),
                        Change::new("weight", None::<i64>, Some(input.weight)),
                    ],
                })
            })
        },
    )
    .await?;
    Ok(saved.map_err(|e| vec![e]))
}

pub async fn toggle_item(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    save_active(&state, &ctx, id, f.get("active") == "1").await?;
    Ok(saved())
}

/// Switch a checklist item of the caller's region on or off (page and API): supervising roles
/// only; audited as `indicator_item`/`update`. Readiness below is recomputed.
pub(super) async fn save_active(
    state: &AppState,
    ctx: &Ctx,
    id: String,
    active: bool,
) -> WebResult<()> {
    let u = ctx.user()?;
    u.require(Permission::Supervise)?;
    let failed = audited(
        state,
        ctx,
        "indicator_item",
        "update",
        move |conn, scope, _| {
            Box::pin(async move {
                let item = indicators::set_item_active(conn, &scope, &id, active).await?;
                Ok(Done {
                    entity_id: id,
                    region: Some(item.region_code),
                    changes: vec![Change::new("active", Some(item.active != 0), Some(active))],
                })
            })
        },
    )
    .await?;
    match failed {
        None => Ok(()),
        Some(e) => Err(e.into()),
    }
}

pub async fn add_service(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    match save_service(&state, &ctx, &f).await? {
        Ok(_) => Ok(saved()),
        Err(errors) => render(&state, &ctx, f, errors, None).await,
    }
}

/// Check and add a service (服务清单) of the caller's region from the form's `domain` and
/// `service_name` (page and API): supervising roles only; audited as `service_item`/`create`.
pub(super) async fn save_service(
    state: &AppState,
    ctx: &Ctx,
    f: &FormData,
) -> WebResult<Result<String, Vec<FieldError>>> {
    let u = ctx.user()?;
    u.require(Permission::Supervise)?;
    let mut c = Check::default();
    let domain = c.take(ServiceDomain::parse(f.get("domain")));
    let name = c.text("name", f.get("service_name"), 100);
    let checked = c.finish();
    let (Ok(()), Some(domain)) = (&checked, domain) else {
        return Ok(Err(checked.err().unwrap_or_default()));
    };
    let (region, now) = (u.user.region_code.clone(), state.now());
    let saved = audited_id(
        state,
        ctx,
        "service_item",
        "create",
        move |conn, scope, _| {
            Box::pin(async move {
                let id =
                    stations::add_service_item(conn, &scope, &region, domain, &name, now).await?;
                Ok(Done {
                    entity_id: id,
                    region: Some(region),
                    changes: vec![Change::new("name", None::<String>, Some(&name))],
                })
            })
        },
    )
    .await?;
    Ok(saved.map_err(|e| vec![e]))
}
