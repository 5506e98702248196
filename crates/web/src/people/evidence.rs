//! Evidence of a visit on the pages and the API (issue 19 item 3): the record form's photos
//! (multipart, resized on the phone by `visit.js`; the server bounds them either way), the
//! device's location (given only when the worker ticks the consent box), and the confirmation
//! (who confirmed; a drawn signature as a PNG data URL). The region's confirmation rule: its
//! page section on the visit-rules page and its API operations.

use axum::Json;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use shegong_domain::{FieldError, Permission};
use shegong_store::admin::audit::Change;
use shegong_store::network::attachments::{self, Attachment};
use shegong_store::people::evidence::{self, ConfirmRule, ConfirmedBy, Evidence, Geo};
use utoipa::ToSchema;

use crate::http::auth::{Ctx, reader};
use crate::http::error::{WebError, WebResult};
use crate::http::state::AppState;
use crate::http::write::{Done, audited};
use crate::network::attachments::{Keep, send};
use crate::ui::forms::{Check, FormData};

use super::residents::viewer;

/// The confirmation rule (`none`, `tick`, `signature`) for a home visit to `resident` (else in
/// the viewer's own region).
pub(super) async fn rule_code(
    c: &mut shegong_store::Conn,
    v: &shegong_store::people::residents::Viewer,
    resident: Option<&shegong_store::people::residents::Resident>,
) -> WebResult<String> {
    let region = resident.map_or(v.scope.prefix(), |r| r.region_code.as_str());
    Ok(evidence::rule_for(c, region)
        .await?
        .rule
        .as_str()
        .to_owned())
}

/// Who may confirm a visit: (code, label).
pub(super) fn confirmers(t: &crate::ui::i18n::Tr) -> Vec<(String, String)> {
    ConfirmedBy::ALL
        .iter()
        .map(|c| {
            (
                c.as_str().to_owned(),
                t.get(&format!("visit.confirmed_by.{}", c.as_str()))
                    .to_owned(),
            )
        })
        .collect()
}

/// A submitted record form, urlencoded or multipart (with photos): its fields and the photos.
pub(super) struct Submitted {
    pub form: FormData,
    pub photos: Vec<(String, Vec<u8>)>,
    /// A refusal found while reading (too many or too large photos).
    pub refused: Option<FieldError>,
}

/// Read a record form either way; a multipart body's `photos` parts are read no further than
/// one byte past the attachment limit each, and no more than `MAX_PHOTOS` + 1 of them.
/// A body that is neither (or broken) is answered as axum answers it.
pub(super) async fn read_form(state: &AppState, req: Request) -> Result<Submitted, Response> {
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !multipart {
        let axum::Form(form) = axum::Form::<FormData>::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        return Ok(Submitted {
            form,
            photos: vec![],
            refused: None,
        });
    }
    let mut m = Multipart::from_request(req, state)
        .await
        .map_err(IntoResponse::into_response)?;
    let mut pairs = Vec::new();
    let mut photos = Vec::new();
    let mut refused = None;
    while let Some(field) = m.next_field().await.ok().flatten() {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "photos" {
            let file = field.file_name().unwrap_or("photo.jpg").to_owned();
            let Some(bytes) = crate::network::attachments::read_bounded(field).await else {
                refused = Some(FieldError::new("photos", "attachment.too_large"));
                break;
            };
            if bytes.is_empty() && file.is_empty() {
                continue; // The file input left empty.
            }
            if photos.len() >= evidence::MAX_PHOTOS {
                refused = Some(FieldError::new("photos", "visit.too_many_photos"));
                break;
            }
            photos.push((file, bytes));
        } else if let Ok(text) = field.text().await {
            pairs.push((name, text));
        }
    }
    Ok(Submitted {
        form: FormData::new(pairs),
        photos,
        refused,
    })
}

/// A file given as Base64 (a data URL's prefix dropped), bounded before decoding; a refusal is
/// named on `field`.
pub(super) fn base64_on(c: &mut Check, field: &'static str, raw: &str) -> Option<Vec<u8>> {
    let raw = raw.trim();
    let raw = raw.split_once(";base64,").map_or(raw, |(_, b)| b);
    if raw.is_empty() {
        return None;
    }
    let mut own = Check::default();
    let bytes = own.base64_file(raw, attachments::MAX_BYTES);
    match own.finish() {
        Ok(()) => Some(bytes),
        Err(e) => {
            if let Some(e) = e.first() {
                c.fail(field, e.code);
            }
            None
        }
    }
}

fn number(c: &mut Check, field: &'static str, v: &str) -> Option<f64> {
    match v.trim().parse::<f64>() {
        Ok(n) if n.is_finite() => Some(n),
        _ => {
            c.fail(field, "visit.number_invalid");
            None
        }
    }
}

/// The location fields: all three or none (`located_at` optional, milliseconds since the
/// epoch); ranges checked, each refusal on its own field.
fn parse_geo(c: &mut Check, f: &FormData) -> Option<Geo> {
    let (lat, lon, acc) = (f.get("latitude"), f.get("longitude"), f.get("accuracy_m"));
    if lat.is_empty() && lon.is_empty() && acc.is_empty() {
        return None;
    }
    for (field, v) in [("latitude", lat), ("longitude", lon), ("accuracy_m", acc)] {
        if v.is_empty() {
            c.fail(field, "form.required");
        }
    }
    let located_at = match f.get("located_at") {
        "" => None,
        v => match v.parse::<i64>() {
            Ok(t) => Some(t),
            Err(_) => {
                c.fail("located_at", "visit.number_invalid");
                None
            }
        },
    };
    let g = Geo {
        latitude: number(c, "latitude", lat)?,
        longitude: number(c, "longitude", lon)?,
        accuracy_m: number(c, "accuracy_m", acc)?,
        located_at,
    };
    c.take(g.check().map(|()| g))
}

/// The evidence fields of a record form (or API body in the same shape): the location, who
/// confirmed (`confirmed_by`, `confirmer_name`), the signature (`signature`: a PNG, Base64 or a
/// data URL) and the photos read with the form.
pub(super) fn parse_evidence(
    f: &FormData,
    photos: Vec<(String, Vec<u8>)>,
) -> Result<Evidence, Vec<FieldError>> {
    let mut c = Check::default();
    let geo = parse_geo(&mut c, f);
    let confirmed_by = match f.get("confirmed_by") {
        "" => None,
        v => c.take(ConfirmedBy::parse(v)),
    };
    let confirmer_name = c.opt_text("confirmer_name", f.get("confirmer_name"), 50);
    let signature = base64_on(&mut c, "signature", f.get("signature"));
    c.finish()?;
    Ok(Evidence {
        photos,
        geo,
        confirmed_by,
        confirmer_name,
        signature,
    })
}

/// What the audit log says of a record's evidence (never the coordinates).
pub(super) fn audit_changes(e: &Evidence) -> Vec<Change> {
    let mut c = Vec::new();
    if !e.photos.is_empty() {
        c.push(Change::new(
            "photos",
            None::<String>,
            Some(e.photos.len().to_string()),
        ));
    }
    if e.geo.is_some() {
        c.push(Change::redacted("location_geo"));
    }
    if let Some(by) = e.confirmed_by {
        c.push(Change::new(
            "confirmation",
            None::<String>,
            Some(format!("{}/{}", e.confirmation(), by.as_str())),
        ));
    }
    c
}

/// The evidence of a record as its page, print page and API show it.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct EvidenceView {
    /// The device's location when the visit was recorded.
    pub geo: Option<GeoDto>,
    /// `tick`, `signature` or empty.
    pub confirmation: String,
    /// `resident`, `family` or empty.
    pub confirmed_by: String,
    pub confirmer_name: String,
    /// Photos and the signature (kind `photo` or `signature`).
    pub attachments: Vec<EvidenceFile>,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct GeoDto {
    pub latitude: f64,
    pub longitude: f64,
    /// Metres.
    pub accuracy_m: f64,
    /// When the device took the fix (milliseconds since the epoch).
    pub located_at: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EvidenceFile {
    pub id: String,
    /// `photo` or `signature`.
    pub kind: String,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    /// `/api/v1/attachments/{id}`: audited, for those who may see the record.
    pub download: String,
}

impl EvidenceView {
    pub(super) fn of(
        state: &AppState,
        s: &shegong_store::people::services::Service,
        files: Vec<Attachment>,
    ) -> Self {
        EvidenceView {
            geo: Geo::open(&state.keys, s.geo_sealed.as_deref()).map(|g| GeoDto {
                latitude: g.latitude,
                longitude: g.longitude,
                accuracy_m: g.accuracy_m,
                located_at: g.located_at,
            }),
            confirmation: s.confirmation.clone(),
            confirmed_by: s.confirmed_by.clone(),
            confirmer_name: s.confirmer_name.clone(),
            attachments: files
                .into_iter()
                .map(|a| EvidenceFile {
                    download: format!("/api/v1/attachments/{}", a.id),
                    id: a.id,
                    kind: a.kind,
                    filename: a.filename,
                    content_type: a.content_type,
                    size: a.size,
                })
                .collect(),
        }
    }

    pub fn photos(&self) -> Vec<&EvidenceFile> {
        self.attachments
            .iter()
            .filter(|a| a.kind == "photo")
            .collect()
    }

    pub fn signature(&self) -> Option<&EvidenceFile> {
        self.attachments.iter().find(|a| a.kind == "signature")
    }

    /// `28.123456, 112.654321 ± 15 m`.
    pub fn geo_text(&self) -> String {
        self.geo.map_or(String::new(), |g| {
            format!(
                "{:.6}, {:.6} ± {:.0} m",
                g.latitude, g.longitude, g.accuracy_m
            )
        })
    }

    /// When the fix was taken (local time, `YYYY-MM-DD HH:MM`).
    pub fn geo_time(&self) -> String {
        self.geo
            .and_then(|g| g.located_at)
            .map(crate::ui::list::local_time)
            .unwrap_or_default()
    }
}

/// The evidence of a record the viewer has just read.
pub(super) async fn view_of(
    state: &AppState,
    c: &mut shegong_store::Conn,
    s: &shegong_store::people::services::Service,
) -> WebResult<EvidenceView> {
    let files = attachments::for_owner(c, "service", &s.id).await?;
    Ok(EvidenceView::of(state, s, files))
}

/// Download a service record's photo or signature: only for whoever may see the record (scope
/// and protection rule); audited as every attachment download, and never kept by the browser.
/// Not found: no such attachment of a record the caller may see.
pub(crate) async fn download(state: &AppState, ctx: &Ctx, id: &str) -> WebResult<Response> {
    let u = reader(ctx)?;
    let v = viewer(state, u);
    let a = {
        let mut c = state.db.read().await?;
        evidence::attachment(&mut c, &v, id).await?
    };
    send(state, ctx, &a, Keep::Never).await
}

// ---------------------------------------------------------------------------------------------
// The region's confirmation rule
// ---------------------------------------------------------------------------------------------

/// Parse the rule form: a region and `confirm_rule`: `none`, `tick` or `signature`.
pub(super) fn parse_rule(
    f: &FormData,
) -> Result<(shegong_domain::RegionCode, ConfirmRule), Vec<FieldError>> {
    let mut c = Check::default();
    let region = c.region("region", f.get("region"));
    let rule = c.take(ConfirmRule::parse(f.get("confirm_rule")));
    c.finish()?;
    match (region, rule) {
        (Some(r), Some(rule)) => Ok((r, rule)),
        (None, _) => Err(vec![FieldError::new("region", "form.required")]),
        (_, None) => Err(vec![FieldError::new("confirm_rule", "form.required")]),
    }
}

/// Set a region's confirmation rule (audited `visit_confirmation_rule`/`set`); needs the
/// supervising permission, the region in the caller's scope.
pub(super) async fn change_rule(
    state: &AppState,
    ctx: &Ctx,
    region: shegong_domain::RegionCode,
    rule: ConfirmRule,
) -> WebResult<Option<FieldError>> {
    ctx.user()?.require(Permission::Supervise)?;
    let now = state.now();
    audited(
        state,
        ctx,
        "visit_confirmation_rule",
        "set",
        move |conn, scope, by| {
            Box::pin(async move {
                let before = evidence::set_rule(conn, &scope, &region, rule, &by, now).await?;
                Ok(Done {
                    entity_id: region.to_string(),
                    region: Some(region.to_string()),
                    changes: vec![Change::new("rule", before, Some(rule.as_str()))],
                })
            })
        },
    )
    .await
}

/// The rule form on the visit-rules page.
pub async fn set_rule_page(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    ctx.user()?.require(Permission::Supervise)?;
    let failed = match parse_rule(&f) {
        Ok((region, rule)) => change_rule(&state, &ctx, region, rule).await?,
        Err(e) => e.into_iter().next(),
    };
    match failed {
        None => Ok(Redirect::to("/visit-rules?notice=notice.saved").into_response()),
        Some(e) => super::visit_rules::rules_error(&state, &ctx, e).await,
    }
}

#[derive(Serialize, ToSchema)]
pub struct ConfirmRuleDto {
    /// Where the rule is set (`""`: nationwide).
    pub region_code: String,
    /// `none`, `tick` (the worker ticks who confirmed) or `signature` (a drawn signature).
    pub rule: String,
    pub updated_by: String,
    pub updated_at: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ConfirmRuleList {
    /// The rule that applies in the caller's own region (`none` when none is set above it).
    pub applies: String,
    /// The rules set in the caller's region, above it and below it, broadest first.
    pub items: Vec<ConfirmRuleDto>,
}

/// The confirmation rules for home visits in the caller's scope: a home visit in a region whose
/// rule is `tick` needs `confirmed_by`, one whose rule is `signature` needs a `signature`. A
/// region without its own rule follows the nearest region above it.
#[utoipa::path(get, path = "/api/v1/visit-confirmation-rules", tag = "people",
    responses((status = 200, body = ConfirmRuleList), (status = 401, description = "Not signed in")))]
pub async fn api_rules(
    State(state): State<AppState>,
    ctx: Ctx,
) -> WebResult<Json<ConfirmRuleList>> {
    let u = reader(&ctx)?;
    let mut c = state.db.read().await?;
    let applies = evidence::rule_for(&mut c, u.scope().prefix()).await?;
    let rows = evidence::rules_in(&mut c, &u.scope()).await?;
    Ok(Json(ConfirmRuleList {
        applies: applies.rule.as_str().to_owned(),
        items: rows
            .into_iter()
            .map(|r| ConfirmRuleDto {
                region_code: r.region_code,
                rule: r.rule,
                updated_by: r.updated_by,
                updated_at: r.updated_at,
            })
            .collect(),
    }))
}

fn rules_schema() -> utoipa::openapi::schema::Object {
    crate::http::api::code::one_of(ConfirmRule::ALL.iter().map(|r| r.as_str()))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"region": "430203", "confirm_rule": "signature"}))]
pub struct ConfirmRuleBody {
    /// A region in the caller's scope.
    #[schema(pattern = "^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$")]
    pub region: String,
    /// `none`, `tick` or `signature`.
    #[schema(schema_with = rules_schema)]
    pub confirm_rule: String,
}

/// Set a region's confirmation rule for home visits, as the visit-rules page does; needs the
/// supervising permission. Regions below it without their own rule follow it.
#[utoipa::path(post, path = "/api/v1/visit-confirmation-rules", tag = "people", request_body = ConfirmRuleBody,
    responses((status = 200, body = ConfirmRuleDto), (status = 403, description = "Not a supervising role"),
        (status = 422, description = "Invalid fields, each named")))]
pub async fn api_set_rule(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(b): Json<ConfirmRuleBody>,
) -> WebResult<Response> {
    ctx.user()?.require(Permission::Supervise)?;
    let f = FormData::new(vec![
        ("region".to_owned(), b.region),
        ("confirm_rule".to_owned(), b.confirm_rule),
    ]);
    let (region, rule) = parse_rule(&f).map_err(WebError::Invalid)?;
    if let Some(e) = change_rule(&state, &ctx, region.clone(), rule).await? {
        return Err(WebError::Invalid(vec![e]));
    }
    let u = ctx.user()?;
    Ok((
        StatusCode::OK,
        Json(ConfirmRuleDto {
            region_code: region.to_string(),
            rule: rule.as_str().to_owned(),
            updated_by: u.user.username.clone(),
            updated_at: state.now(),
        }),
    )
        .into_response())
}
