//! The catalogue page and `/api/v1/catalogue`: the editions a user's region buys from, with
//! their items, and adding an item to its region's edition of the year.

use askama::Template;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use shegong_domain::FieldError;
use shegong_domain::purchase::catalogue::{CostShare, CostShares, PurchaserLevel, ServiceField};
use shegong_domain::purchase::{format_percent, parse_percent};
use shegong_store::purchase::catalogue::{self, Edition, ItemInput};
use utoipa::{IntoParams, ToSchema};

use crate::http::auth::{Ctx, reader};
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, Crumb, page};
use crate::http::state::AppState;
use crate::purchase::writes;
use crate::ui::forms::{Check, FormData};
use crate::ui::i18n::Tr;
use crate::ui::list::FormErrors;

#[derive(Deserialize, IntoParams, Default)]
pub struct CatalogueQuery {
    /// Editions of this year only.
    pub year: Option<i64>,
    #[serde(default)]
    #[param(ignore)]
    pub notice: Option<String>,
}

/// Cost shares as written: "city=50, district=50" (levels `city`, `district`, `township`, or
/// 市/区/县/镇/街道), each a percentage; empty is the region's own budget alone.
fn shares(text: &str, own: PurchaserLevel) -> Result<CostShares, FieldError> {
    if text.trim().is_empty() {
        return CostShares::new(vec![CostShare {
            level: own,
            share_bp: 10_000,
        }]);
    }
    let mut out = Vec::new();
    for entry in text
        .split([';', '；', ',', '，', '\n'])
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        let (level, share) = entry
            .split_once(['=', ':', '：'])
            .ok_or(FieldError::new("shares", "purchase.shares_invalid"))?;
        let level = match level.trim() {
            "市" | "市级" => PurchaserLevel::City,
            "区" | "县" | "区县" | "县级" | "区级" => PurchaserLevel::District,
            "镇" | "街道" | "乡镇" | "镇街" => PurchaserLevel::Township,
            other => PurchaserLevel::parse(other)
                .map_err(|_| FieldError::new("shares", "purchase.level_unknown"))?,
        };
        out.push(CostShare {
            level,
            share_bp: parse_percent("shares", share)?,
        });
    }
    CostShares::new(out)
}

/// An item from the page's form (or the API body in its shape).
fn item(f: &FormData) -> Result<ItemInput, Vec<FieldError>> {
    let mut c = Check::default();
    let region = c.region("region", f.get("region"));
    let year = c.int("year", f.get("year"), 2000, 2100, 0);
    if f.get("year").is_empty() {
        c.fail("year", "form.required");
    }
    let field = c.take(ServiceField::parse(f.get("field")));
    let name = c.text("name", f.get("name"), 100);
    let description = c.opt_text("description", f.get("description"), 2000);
    let own = match region.as_ref().map(|r| r.as_str().len()) {
        Some(n) if n <= 4 => PurchaserLevel::City,
        Some(n) if n <= 6 => PurchaserLevel::District,
        _ => PurchaserLevel::Township,
    };
    let cost_shares = c.take(shares(f.get("shares"), own));
    let checked = c.finish();
    let (Ok(()), Some(region), Some(field), Some(cost_shares)) =
        (&checked, region, field, cost_shares)
    else {
        return Err(checked.err().unwrap_or_default());
    };
    Ok(ItemInput {
        region,
        year,
        edition_title: f.get("edition_title").to_owned(),
        field,
        name,
        description,
        cost_shares,
    })
}

pub struct ItemRow {
    pub field: String,
    pub name: String,
    pub description: String,
    pub shares: String,
    pub status: String,
}

pub struct EditionView {
    pub title: String,
    pub region: String,
    pub year: i64,
    pub items: Vec<ItemRow>,
}

fn shares_text(t: &Tr, s: &CostShares) -> String {
    s.shares()
        .iter()
        .map(|c| {
            format!(
                "{} {}%",
                t.get(&format!("purchase.level.{}", c.level)),
                format_percent(c.share_bp)
            )
        })
        .collect::<Vec<_>>()
        .join("，")
}

fn view(t: &Tr, e: &Edition) -> EditionView {
    EditionView {
        title: e.title.clone(),
        region: e
            .region_path
            .as_deref()
            .map(|p| shegong_domain::network::region::display_path(p.split('/')))
            .unwrap_or_else(|| e.region_code.clone()),
        year: e.year,
        items: e
            .items
            .iter()
            .map(|i| ItemRow {
                field: t.get(&format!("purchase.field.{}", i.field)).to_owned(),
                name: i.name.clone(),
                description: i.description.clone(),
                shares: shares_text(t, &i.cost_shares),
                status: t
                    .get(&format!("purchase.item_status.{}", i.status))
                    .to_owned(),
            })
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "purchase/catalogue.html")]
struct CataloguePage {
    t: Tr,
    base: Base,
    editions: Vec<EditionView>,
    fields: Vec<(String, String)>,
    f: FormData,
    errors: FormErrors,
    can_write: bool,
}

async fn catalogue_page(
    state: &AppState,
    ctx: &Ctx,
    year: Option<i64>,
    notice: Option<&str>,
    f: FormData,
    errors: Vec<FieldError>,
) -> WebResult<Response> {
    let u = reader(ctx)?;
    let t = ctx.tr();
    let editions = {
        let mut c = state.db.read().await?;
        catalogue::editions(&mut c, &u.scope(), year).await?
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let title = t.get("menu.catalogue");
    Ok(page(
        status,
        &CataloguePage {
            t,
            base: Base::new(ctx, title, vec![Crumb::here(title)]).with_notice(&t, notice),
            editions: editions.iter().map(|e| view(&t, e)).collect(),
            fields: ServiceField::ALL
                .iter()
                .map(|f| {
                    (
                        f.to_string(),
                        t.get(&format!("purchase.field.{f}")).to_owned(),
                    )
                })
                .collect(),
            f,
            errors: FormErrors::new(t, errors),
            can_write: writes::is_purchaser(u),
        },
    ))
}

pub async fn page_get(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<CatalogueQuery>,
) -> WebResult<Response> {
    let region = ctx
        .user
        .as_ref()
        .map(|u| u.user.region_code.clone())
        .unwrap_or_default();
    let f = FormData::new(vec![("region".into(), region)]);
    catalogue_page(&state, &ctx, q.year, q.notice.as_deref(), f, vec![]).await
}

pub async fn page_post(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writes::purchaser(&ctx)?;
    let input = match item(&f) {
        Ok(i) => i,
        Err(errors) => return catalogue_page(&state, &ctx, None, None, f, errors).await,
    };
    match writes::create_item(&state, &ctx, input).await {
        Ok(_) => Ok(Redirect::to("/catalogue?notice=notice.saved").into_response()),
        Err(WebError::Invalid(errors)) => catalogue_page(&state, &ctx, None, None, f, errors).await,
        Err(e) => Err(e),
    }
}

#[derive(Serialize, ToSchema)]
pub struct CostShareDto {
    /// `city`, `district` or `township`.
    pub level: String,
    /// Percent, e.g. "50".
    pub share_percent: String,
}

#[derive(Serialize, ToSchema)]
pub struct ItemDto {
    pub id: String,
    /// One of the ten service fields: `elderly`, `women_children`, `youth`, …
    pub field: String,
    pub name: String,
    pub description: String,
    /// `proposed`, `reviewed`, `included`, `purchasing` or `removed`.
    pub status: String,
    pub removal_reason: Option<String>,
    pub cost_shares: Vec<CostShareDto>,
}

#[derive(Serialize, ToSchema)]
pub struct EditionDto {
    pub id: String,
    pub region_code: String,
    #[schema(minimum = 2000, maximum = 2100)]
    pub year: i64,
    pub title: String,
    pub status: String,
    pub items: Vec<ItemDto>,
}

fn edition_dto(e: &Edition) -> EditionDto {
    EditionDto {
        id: e.id.clone(),
        region_code: e.region_code.clone(),
        year: e.year,
        title: e.title.clone(),
        status: e.status.clone(),
        items: e
            .items
            .iter()
            .map(|i| ItemDto {
                id: i.id.clone(),
                field: i.field.to_string(),
                name: i.name.clone(),
                description: i.description.clone(),
                status: i.status.to_string(),
                removal_reason: i.removal_reason.map(|r| r.to_string()),
                cost_shares: i
                    .cost_shares
                    .shares()
                    .iter()
                    .map(|s| CostShareDto {
                        level: s.level.to_string(),
                        share_percent: format_percent(s.share_bp),
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// The catalogue editions the caller's region buys from (its own and those above it), with
/// their items.
#[utoipa::path(get, path = "/api/v1/catalogue", tag = "purchase", params(CatalogueQuery),
    responses((status = 200, body = Vec<EditionDto>)))]
pub async fn api_list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<CatalogueQuery>,
) -> WebResult<Json<Vec<EditionDto>>> {
    let u = reader(&ctx)?;
    let mut c = state.db.read().await?;
    let editions = catalogue::editions(&mut c, &u.scope(), q.year).await?;
    Ok(Json(editions.iter().map(edition_dto).collect()))
}

/// A proposed catalogue item.
#[derive(Deserialize, ToSchema)]
pub struct ItemBody {
    /// The catalogue's region (the item goes into its edition of `year`, made when new).
    pub region_code: String,
    #[schema(minimum = 2000, maximum = 2100)]
    pub year: i64,
    /// The edition's title, when the edition is new.
    #[serde(default)]
    pub edition_title: String,
    #[schema(schema_with = crate::purchase::code::service_field)]
    pub field: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// "city=50, district=50" (percent); empty: the region's own budget pays all.
    #[serde(default)]
    pub shares: String,
}

/// Add an item to a region's catalogue of a year (proposed).
#[utoipa::path(post, path = "/api/v1/catalogue", tag = "purchase", request_body = ItemBody,
    responses((status = 201, body = EditionDto), (status = 422, description = "Invalid fields, each named")))]
pub async fn api_create(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(b): Json<ItemBody>,
) -> WebResult<Response> {
    writes::purchaser(&ctx)?;
    let f = FormData::new(vec![
        ("region".into(), b.region_code),
        ("year".into(), b.year.to_string()),
        ("edition_title".into(), b.edition_title),
        ("field".into(), b.field),
        ("name".into(), b.name),
        ("description".into(), b.description),
        ("shares".into(), b.shares),
    ]);
    let input = item(&f).map_err(WebError::Invalid)?;
    let year = input.year;
    let (_, edition_id) = writes::create_item(&state, &ctx, input).await?;
    let u = reader(&ctx)?;
    let mut c = state.db.read().await?;
    let edition = catalogue::editions(&mut c, &u.scope(), Some(year))
        .await?
        .into_iter()
        .find(|e| e.id == edition_id)
        .ok_or(WebError::NotFound)?;
    Ok((StatusCode::CREATED, Json(edition_dto(&edition))).into_response())
}
