//! The catalogue page and `/api/v1/catalogue`: the editions a user's region buys from, with
//! their items and each item's history, adding an item to its region's edition of the year, and
//! moving an item along its life (`/catalogue/items/{id}/status` for the page,
//! `/api/v1/catalogue/items/{id}/status` for the API, both read the same way).

use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use shegong_domain::FieldError;
use shegong_domain::purchase::catalogue::{
    CostShare, CostShares, ItemStatus, PurchaserLevel, RemovalReason, ServiceField,
};
use shegong_domain::purchase::{format_percent, parse_percent};
use shegong_store::purchase::catalogue::{self, Edition, Item, ItemInput, ItemStep, StatusChange};
use utoipa::{IntoParams, ToSchema};

use crate::http::auth::{Ctx, reader};
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, Crumb, form_status, page};
use crate::http::state::AppState;
use crate::purchase::writes;
use crate::ui::forms::{Check, FormData};
use crate::ui::i18n::Tr;
use crate::ui::list::{FormErrors, rfc3339};

#[derive(Deserialize, IntoParams, Default)]
pub struct CatalogueQuery {
    /// Editions of this year only.
    pub year: Option<i64>,
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

/// Cost shares as written: "city=50, district=50" or "市50%、区30%、镇街20%" (levels `city`,
/// `district`, `township`, or 市/区/县/镇/街道 and their variants), each a percentage; empty is
/// the region's own budget alone.
pub(crate) fn shares(text: &str, own: PurchaserLevel) -> Result<CostShares, FieldError> {
    if text.trim().is_empty() {
        return CostShares::new(vec![CostShare {
            level: own,
            share_bp: 10_000,
        }]);
    }
    let mut out = Vec::new();
    for entry in text
        .split([';', '；', ',', '，', '、', '\n'])
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        // "市=50" or "市50%": the level is what comes before the number.
        let (level, share) = match entry.split_once(['=', ':', '：']) {
            Some(pair) => pair,
            None => entry
                .find(|c: char| c.is_ascii_digit() || ('０'..='９').contains(&c))
                .filter(|at| *at > 0)
                .map(|at| entry.split_at(at))
                .ok_or(FieldError::new("shares", "purchase.shares_invalid"))?,
        };
        out.push(CostShare {
            level: level_named(level)?,
            share_bp: parse_percent("shares", share)?,
        });
    }
    CostShares::new(out)
}

/// A budget level as sheets and forms name it.
pub(crate) fn level_named(text: &str) -> Result<PurchaserLevel, FieldError> {
    Ok(match text.trim() {
        "市" | "市级" | "市本级" => PurchaserLevel::City,
        "区" | "县" | "区县" | "县区" | "县级" | "区级" | "区（县）" | "区(县)" | "县（区）" => {
            PurchaserLevel::District
        }
        "镇" | "街道" | "乡镇" | "镇街" | "镇级" | "街道级" | "镇街级" | "乡镇级"
        | "镇（街道）" | "镇(街道)" | "乡镇（街道）" => PurchaserLevel::Township,
        other => PurchaserLevel::parse(other)
            .map_err(|_| FieldError::new("shares", "purchase.level_unknown"))?,
    })
}

/// The budget level a region's own catalogue is paid from by default.
pub(crate) fn own_level(region: &str) -> PurchaserLevel {
    match region.len() {
        n if n <= 4 => PurchaserLevel::City,
        n if n <= 6 => PurchaserLevel::District,
        _ => PurchaserLevel::Township,
    }
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
    let own = own_level(region.as_ref().map_or("", |r| r.as_str()));
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
    pub id: String,
    pub field: String,
    pub name: String,
    pub description: String,
    pub shares: String,
    pub status: String,
    /// (code, label) of the statuses the item may move to.
    pub next: Vec<(String, String)>,
    /// The item's history, oldest first, one line each.
    pub history: Vec<String>,
}

pub struct EditionView {
    pub id: String,
    /// Published editions are on the public portal; drafts are not.
    pub published: bool,
    pub title: String,
    pub region: String,
    pub year: i64,
    /// Whether the user may move its items (the edition's region lies in their scope).
    pub editable: bool,
    pub items: Vec<ItemRow>,
}

pub(crate) fn shares_text(t: &Tr, s: &CostShares) -> String {
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

fn view(t: &Tr, e: &Edition, editable: bool) -> EditionView {
    EditionView {
        id: e.id.clone(),
        published: e.status == "published",
        title: e.title.clone(),
        region: e
            .region_path
            .as_deref()
            .map(|p| shegong_domain::network::region::display_path(p.split('/')))
            .unwrap_or_else(|| e.region_code.clone()),
        year: e.year,
        editable,
        items: e
            .items
            .iter()
            .map(|i| ItemRow {
                id: i.id.clone(),
                field: t.get(&format!("purchase.field.{}", i.field)).to_owned(),
                name: i.name.clone(),
                description: i.description.clone(),
                shares: shares_text(t, &i.cost_shares),
                status: t
                    .get(&format!("purchase.item_status.{}", i.status))
                    .to_owned(),
                next: i
                    .status
                    .successors()
                    .iter()
                    .map(|s| (s.to_string(), status_label(t, *s)))
                    .collect(),
                history: i.history.iter().map(|h| history_line(t, h)).collect(),
            })
            .collect(),
    }
}

/// The label of a removal reason, spelled out so the compiler sees every reason has one.
pub(crate) fn reason_key(r: RemovalReason) -> &'static str {
    match r {
        RemovalReason::UnpurchasedTwoYears => "purchase.removal_reason.unpurchased_two_years",
        RemovalReason::RenewalNotSought => "purchase.removal_reason.renewal_not_sought",
        RemovalReason::RenewalReviewFailed => "purchase.removal_reason.renewal_review_failed",
        RemovalReason::Other => "purchase.removal_reason.other",
    }
}

fn status_label(t: &Tr, s: ItemStatus) -> String {
    t.get(&format!("purchase.item_status.{s}")).to_owned()
}

/// "2025-03-01 10:00 张三：拟纳入 → 已纳入（原因；备注）".
fn history_line(t: &Tr, h: &StatusChange) -> String {
    let step = match h.from {
        Some(from) => format!("{} → {}", status_label(t, from), status_label(t, h.to)),
        None => status_label(t, h.to),
    };
    let mut why: Vec<String> = h
        .reason
        .iter()
        .map(|r| t.get(reason_key(*r)).to_owned())
        .collect();
    if !h.note.is_empty() {
        why.push(h.note.clone());
    }
    let why = if why.is_empty() {
        String::new()
    } else {
        format!("（{}）", why.join("；"))
    };
    format!("{} {}：{step}{why}", t.datetime(h.at), h.by)
}

#[derive(Template)]
#[template(path = "purchase/catalogue.html")]
struct CataloguePage {
    t: Tr,
    base: Base,
    editions: Vec<EditionView>,
    fields: Vec<(String, String)>,
    reasons: Vec<(String, String)>,
    f: FormData,
    errors: FormErrors,
    /// The item whose status change was refused (its row shows the errors), or empty.
    failed_item: String,
    move_errors: Vec<String>,
    can_write: bool,
    /// What an import just did, once.
    import_summary: Option<String>,
}

/// What a refused form sent: the new item's fields, or a status change of the item named.
enum Refused {
    Item(FormData),
    Move(String),
}

async fn catalogue_page(
    state: &AppState,
    ctx: &Ctx,
    q: &CatalogueQuery,
    refused: Refused,
    errors: Vec<FieldError>,
) -> WebResult<Response> {
    let u = reader(ctx)?;
    let t = ctx.tr();
    let scope = u.scope();
    let can_write = writes::is_purchaser(u);
    let editions = {
        let mut c = state.db.read().await?;
        catalogue::editions(&mut c, &scope, q.year).await?
    };
    let status = form_status(&errors);
    let title = t.get("menu.catalogue");
    let (f, failed_item) = match refused {
        Refused::Item(f) => (f, String::new()),
        Refused::Move(id) => (own_region(ctx), id),
    };
    Ok(page(
        status,
        &CataloguePage {
            t,
            base: Base::new(ctx, title, vec![Crumb::here(title)])
                .with_notice(&t, q.notice.as_deref()),
            import_summary: crate::purchase::import::summary(
                &t,
                [q.created, q.updated, q.unchanged, q.skipped],
            ),
            editions: editions
                .iter()
                .map(|e| view(&t, e, can_write && scope.contains_region(&e.region_code)))
                .collect(),
            fields: ServiceField::ALL
                .iter()
                .map(|f| {
                    (
                        f.to_string(),
                        t.get(&format!("purchase.field.{f}")).to_owned(),
                    )
                })
                .collect(),
            reasons: RemovalReason::ALL
                .iter()
                .map(|r| (r.to_string(), t.get(reason_key(*r)).to_owned()))
                .collect(),
            f,
            move_errors: if failed_item.is_empty() {
                vec![]
            } else {
                errors
                    .iter()
                    .map(|e| {
                        format!(
                            "{}：{}",
                            t.get(&format!("field.{}", e.field)),
                            t.get(e.code)
                        )
                    })
                    .collect()
            },
            errors: FormErrors::new(t, errors),
            failed_item,
            can_write,
        },
    ))
}

/// The new-item form's start: the user's own region.
fn own_region(ctx: &Ctx) -> FormData {
    let region = ctx
        .user
        .as_ref()
        .map(|u| u.user.region_code.clone())
        .unwrap_or_default();
    FormData::new(vec![("region".into(), region)])
}

pub async fn page_get(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<CatalogueQuery>,
) -> WebResult<Response> {
    let f = Refused::Item(own_region(&ctx));
    catalogue_page(&state, &ctx, &q, f, vec![]).await
}

pub async fn page_post(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writes::purchaser(&ctx)?;
    let input = match item(&f) {
        Ok(i) => i,
        Err(errors) => {
            return catalogue_page(
                &state,
                &ctx,
                &CatalogueQuery::default(),
                Refused::Item(f),
                errors,
            )
            .await;
        }
    };
    match writes::create_item(&state, &ctx, input).await {
        Ok(_) => Ok(Redirect::to("/catalogue?notice=notice.saved").into_response()),
        Err(WebError::Invalid(errors)) => {
            catalogue_page(
                &state,
                &ctx,
                &CatalogueQuery::default(),
                Refused::Item(f),
                errors,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// A status change as sent by the page or the API: `to`, `reason` (removals only), `note`.
fn item_step(to: &str, reason: &str, note: &str) -> Result<ItemStep, Vec<FieldError>> {
    let mut c = Check::default();
    let to = c.take(ItemStatus::parse(to.trim()).map_err(|e| FieldError::new("to", e.code)));
    let reason = match reason.trim() {
        "" => None,
        r => c.take(RemovalReason::parse(r).map_err(|e| FieldError::new("reason", e.code))),
    };
    let note = c.opt_text("note", note, 500);
    let checked = c.finish();
    let (Ok(()), Some(to)) = (&checked, to) else {
        return Err(checked.err().unwrap_or_default());
    };
    Ok(ItemStep { to, reason, note })
}

/// The page's status form: moves the item, or shows the catalogue with the refusal at the item.
pub async fn page_move(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writes::purchaser(&ctx)?;
    let moved = match item_step(f.get("to"), f.get("reason"), f.get("note")) {
        Ok(step) => writes::move_item(&state, &ctx, &id, step).await,
        Err(errors) => Err(WebError::Invalid(errors)),
    };
    match moved {
        Ok(_) => Ok(Redirect::to("/catalogue?notice=notice.saved").into_response()),
        Err(WebError::Invalid(errors)) => {
            catalogue_page(
                &state,
                &ctx,
                &CatalogueQuery::default(),
                Refused::Move(id),
                errors,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// The page's publish button: publishes the edition, or shows why not.
pub async fn page_publish(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Response> {
    writes::publish_edition(&state, &ctx, &id).await?;
    Ok(Redirect::to("/catalogue?notice=notice.saved").into_response())
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
    /// Every status the item took, oldest first.
    pub history: Vec<StatusChangeDto>,
}

#[derive(Serialize, ToSchema)]
pub struct StatusChangeDto {
    /// Absent for the proposal.
    pub from: Option<String>,
    pub to: String,
    /// Why the item was removed (removals only).
    pub reason: Option<String>,
    pub note: String,
    /// The username of whoever made the change.
    pub by: String,
    /// RFC 3339.
    pub at: String,
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
        items: e.items.iter().map(item_dto).collect(),
    }
}

fn item_dto(i: &Item) -> ItemDto {
    ItemDto {
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
        history: i
            .history
            .iter()
            .map(|h| StatusChangeDto {
                from: h.from.map(|f| f.to_string()),
                to: h.to.to_string(),
                reason: h.reason.map(|r| r.to_string()),
                note: h.note.clone(),
                by: h.by.clone(),
                at: rfc3339(h.at),
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

/// A catalogue item's next status.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"to": "reviewed", "note": "评审通过"}))]
pub struct ItemStatusBody {
    /// The status to move to: proposed → reviewed → included → purchasing, or `removed` from
    /// any of them.
    #[schema(schema_with = crate::purchase::code::item_status)]
    pub to: String,
    /// Required with `removed`, refused otherwise: `unpurchased_two_years` (an included item),
    /// `renewal_not_sought` or `renewal_review_failed` (an item being purchased), `other`.
    #[serde(default)]
    #[schema(schema_with = crate::purchase::code::removal_reason)]
    pub reason: String,
    #[serde(default)]
    pub note: String,
}

/// Move a catalogue item of the caller's region along its life; the step is kept in its
/// history. 403 for an item of a region above the caller's, 404 for one they cannot see.
#[utoipa::path(post, path = "/api/v1/catalogue/items/{id}/status", tag = "purchase",
    params(("id" = String, Path, description = "Catalogue item id")),
    request_body = ItemStatusBody,
    responses((status = 200, body = ItemDto), (status = 403), (status = 404),
        (status = 422, description = "Invalid fields, each named: `to` for a step not allowed, `reason` for a missing or unfitting reason")))]
pub async fn api_move(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<ItemStatusBody>,
) -> WebResult<Json<ItemDto>> {
    writes::purchaser(&ctx)?;
    let step = item_step(&b.to, &b.reason, &b.note).map_err(WebError::Invalid)?;
    writes::move_item(&state, &ctx, &id, step).await?;
    let u = reader(&ctx)?;
    let mut c = state.db.read().await?;
    let item = catalogue::get_item(&mut c, &u.scope(), &id).await?;
    Ok(Json(item_dto(&item)))
}

/// A catalogue edition as published.
#[derive(Serialize, ToSchema)]
pub struct PublishedEditionDto {
    pub id: String,
    pub title: String,
    /// `published`.
    pub status: String,
}

/// Publish a draft catalogue edition of the caller's region: from then on the public portal
/// (`/public/purchase`, `/api/v1/public/purchase`) shows its included and purchasing items.
/// 422 on `status` when it is already published, on `region` for an edition above the
/// caller's region.
#[utoipa::path(post, path = "/api/v1/catalogue/editions/{id}/publish", tag = "purchase",
    params(("id" = String, Path, description = "Catalogue edition id")),
    responses((status = 200, body = PublishedEditionDto), (status = 403), (status = 404),
        (status = 422, description = "Invalid fields, each named: `status` when already published")))]
pub async fn api_publish(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Json<PublishedEditionDto>> {
    let title = writes::publish_edition(&state, &ctx, &id).await?;
    Ok(Json(PublishedEditionDto {
        id,
        title,
        status: "published".into(),
    }))
}
