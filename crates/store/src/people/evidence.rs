//! Evidence of a visit (issue 19 item 3): photos taken on the phone and a drawn signature, kept
//! as attachments of the service record (owner kind `service`, the same content and size checks
//! as every attachment); the device's location at the time, with its accuracy, sealed on the
//! record; and who confirmed the visit (the resident or a family member, by name), by the
//! worker's tick or a drawn signature. Whether a home visit needs a confirmation is a rule per
//! region, inherited down the region tree as visit rules are.
//!
//! Attachments of a record are read only through the record (`attachment`): whoever may not see
//! the record (its scope, the protection rule) cannot fetch its photos.

use serde::Serialize;
use shegong_domain::{FieldError, RegionCode, Scope};
use sqlx::AnyConnection;

use crate::crypto::KeyRing;
use crate::network::attachments::{self, Attachment, FileStore, NewAttachment};
use crate::sql::Sql;
use crate::{Millis, StoreError, StoreResult};

use super::residents::Viewer;
use super::services;

/// The seal's field name of a record's location.
pub const GEO_FIELD: &str = "services.geo";
/// Photos one record may carry.
pub const MAX_PHOTOS: usize = 5;
/// An accuracy beyond this (metres) is not a location.
pub const MAX_ACCURACY_M: f64 = 100_000.0;

/// The device's location when the visit was recorded.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Geo {
    pub latitude: f64,
    pub longitude: f64,
    /// The radius (metres) the device gives for its fix.
    pub accuracy_m: f64,
    /// When the fix was taken (milliseconds since the epoch), when the device said.
    pub located_at: Option<i64>,
}

impl Geo {
    /// The ranges: latitude −90…90, longitude −180…180, accuracy 0…100 km; each refused on its
    /// own field.
    pub fn check(&self) -> Result<(), FieldError> {
        if !self.latitude.is_finite() || !(-90.0..=90.0).contains(&self.latitude) {
            return Err(FieldError::new("latitude", "form.out_of_range"));
        }
        if !self.longitude.is_finite() || !(-180.0..=180.0).contains(&self.longitude) {
            return Err(FieldError::new("longitude", "form.out_of_range"));
        }
        if !self.accuracy_m.is_finite() || !(0.0..=MAX_ACCURACY_M).contains(&self.accuracy_m) {
            return Err(FieldError::new("accuracy_m", "form.out_of_range"));
        }
        if self.located_at.is_some_and(|t| t < 0) {
            return Err(FieldError::new("located_at", "form.out_of_range"));
        }
        Ok(())
    }

    fn to_text(self) -> String {
        format!(
            "{:.6},{:.6},{:.1},{}",
            self.latitude,
            self.longitude,
            self.accuracy_m,
            self.located_at.map(|t| t.to_string()).unwrap_or_default()
        )
    }

    fn from_text(s: &str) -> Option<Geo> {
        let mut p = s.split(',');
        let latitude = p.next()?.parse().ok()?;
        let longitude = p.next()?.parse().ok()?;
        let accuracy_m = p.next()?.parse().ok()?;
        let located_at = p.next().and_then(|t| t.parse().ok());
        Some(Geo {
            latitude,
            longitude,
            accuracy_m,
            located_at,
        })
    }

    pub fn seal(self, keys: &KeyRing) -> String {
        keys.seal(GEO_FIELD, &self.to_text())
    }

    /// The location sealed on a record (`None` when there is none or it does not open).
    pub fn open(keys: &KeyRing, sealed: Option<&str>) -> Option<Geo> {
        let text = keys.open(GEO_FIELD, sealed?).ok()?;
        Geo::from_text(&text)
    }
}

/// Who confirmed a visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfirmedBy {
    Resident,
    Family,
}

impl ConfirmedBy {
    pub const ALL: &'static [ConfirmedBy] = &[ConfirmedBy::Resident, ConfirmedBy::Family];

    pub fn as_str(self) -> &'static str {
        match self {
            ConfirmedBy::Resident => "resident",
            ConfirmedBy::Family => "family",
        }
    }

    pub fn parse(s: &str) -> Result<Self, FieldError> {
        Self::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == s)
            .ok_or(FieldError::new(
                "confirmed_by",
                "visit.confirmed_by_unknown",
            ))
    }
}

/// A region's rule on confirming home visits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfirmRule {
    None,
    Tick,
    Signature,
}

impl ConfirmRule {
    pub const ALL: &'static [ConfirmRule] =
        &[ConfirmRule::None, ConfirmRule::Tick, ConfirmRule::Signature];

    pub fn as_str(self) -> &'static str {
        match self {
            ConfirmRule::None => "none",
            ConfirmRule::Tick => "tick",
            ConfirmRule::Signature => "signature",
        }
    }

    pub fn parse(s: &str) -> Result<Self, FieldError> {
        Self::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == s)
            .ok_or(FieldError::new(
                "confirm_rule",
                "visit.confirm_rule_unknown",
            ))
    }
}

/// The evidence a new record carries (all optional).
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    /// (file name, bytes): JPEG or PNG, at most `MAX_PHOTOS`.
    pub photos: Vec<(String, Vec<u8>)>,
    pub geo: Option<Geo>,
    pub confirmed_by: Option<ConfirmedBy>,
    /// The family member's name (required when a family member confirmed).
    pub confirmer_name: String,
    /// A drawn signature (PNG).
    pub signature: Option<Vec<u8>>,
}

impl Evidence {
    pub fn is_empty(&self) -> bool {
        self.photos.is_empty()
            && self.geo.is_none()
            && self.confirmed_by.is_none()
            && self.signature.is_none()
    }

    /// `tick`, `signature` or empty: how the visit was confirmed.
    pub fn confirmation(&self) -> &'static str {
        match (self.confirmed_by, &self.signature) {
            (None, _) => "",
            (Some(_), Some(_)) => "signature",
            (Some(_), None) => "tick",
        }
    }
}

/// An image by its content (JPEG or PNG), else refused on `field`.
fn image(field: &'static str, bytes: &[u8]) -> Result<(), FieldError> {
    if bytes.is_empty() {
        return Err(FieldError::new(field, "attachment.empty"));
    }
    if bytes.len() > attachments::MAX_BYTES {
        return Err(FieldError::new(field, "attachment.too_large"));
    }
    match attachments::sniff(bytes) {
        Some("image/jpeg" | "image/png") => Ok(()),
        _ => Err(FieldError::new(field, "attachment.not_image")),
    }
}

/// Check a record's evidence before it is written: photos (number, size, an image by its
/// content), the location's ranges, the confirmation (a family member named; a signature with
/// who signed), and the region's rule for a home visit in `region`.
pub(super) async fn check(
    conn: &mut AnyConnection,
    e: &Evidence,
    home_visit: bool,
    region: &str,
) -> StoreResult<()> {
    if e.photos.len() > MAX_PHOTOS {
        return Err(FieldError::new("photos", "visit.too_many_photos").into());
    }
    for (_, bytes) in &e.photos {
        image("photos", bytes)?;
    }
    if let Some(g) = &e.geo {
        g.check()?;
    }
    if let Some(s) = &e.signature {
        if attachments::sniff(s) != Some("image/png") || s.len() > attachments::MAX_BYTES {
            return Err(FieldError::new("signature", "visit.signature_invalid").into());
        }
        if e.confirmed_by.is_none() {
            return Err(FieldError::new("confirmed_by", "visit.who_signed").into());
        }
    }
    if e.confirmed_by == Some(ConfirmedBy::Family) && e.confirmer_name.trim().is_empty() {
        return Err(FieldError::new("confirmer_name", "form.required").into());
    }
    if e.confirmer_name.chars().count() > 50 {
        return Err(FieldError::new("confirmer_name", "form.too_long").into());
    }
    if !home_visit {
        return Ok(());
    }
    match rule_for(conn, region).await?.rule {
        ConfirmRule::Signature if e.signature.is_none() => {
            Err(FieldError::new("signature", "visit.signature_required").into())
        }
        ConfirmRule::Tick if e.confirmed_by.is_none() => {
            Err(FieldError::new("confirmed_by", "visit.confirmation_required").into())
        }
        _ => Ok(()),
    }
}

/// Write the location (sealed) and the confirmation on the new record `service_id`.
pub(super) async fn record(
    conn: &mut AnyConnection,
    keys: &KeyRing,
    service_id: &str,
    e: &Evidence,
) -> StoreResult<()> {
    if e.is_empty() {
        return Ok(());
    }
    Sql::new("UPDATE services SET geo_sealed = ")
        .bind(e.geo.map(|g| g.seal(keys)))
        .push(", confirmation = ")
        .bind(e.confirmation())
        .push(", confirmed_by = ")
        .bind(e.confirmed_by.map_or("", |c| c.as_str()))
        .push(", confirmer_name = ")
        .bind(e.confirmer_name.trim())
        .push(" WHERE id = ")
        .bind(service_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Store the photos and the signature of record `service_id` (checked by `check`).
pub async fn attach(
    conn: &mut AnyConnection,
    files: &FileStore,
    service_id: &str,
    region: &str,
    e: &Evidence,
    by: &str,
    now: Millis,
) -> StoreResult<Vec<Attachment>> {
    let mut out = Vec::new();
    let signature = e
        .signature
        .as_deref()
        .map(|s| ("signature.png".to_owned(), s, "signature"));
    let photos = e
        .photos
        .iter()
        .map(|(name, bytes)| (name.clone(), bytes.as_slice(), "photo"));
    for (filename, bytes, kind) in photos.chain(signature) {
        let a = attachments::add(
            conn,
            files,
            NewAttachment {
                owner_kind: "service",
                owner_id: service_id,
                region_code: region,
                kind,
                filename: &filename,
                bytes,
            },
            by,
            now,
        )
        .await
        .map_err(|err| match err {
            StoreError::Invalid(f) if kind == "signature" => {
                StoreError::Invalid(FieldError::new("signature", f.code))
            }
            StoreError::Invalid(f) => StoreError::Invalid(FieldError::new("photos", f.code)),
            other => other,
        })?;
        out.push(a);
    }
    Ok(out)
}

/// The photos and signature of a record the viewer may see (else not found).
pub async fn for_service(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    service_id: &str,
) -> StoreResult<Vec<Attachment>> {
    services::get(conn, viewer, service_id).await?;
    attachments::for_owner(conn, "service", service_id).await
}

/// One attachment of a service record, when the viewer may see the record (its scope and the
/// protection rule); otherwise not found.
pub async fn attachment(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    id: &str,
) -> StoreResult<Attachment> {
    let a: Attachment = Sql::new(
        "SELECT id, owner_kind, owner_id, region_code, kind, filename, content_type, size, sha256, created_by, created_at \
         FROM attachments WHERE owner_kind = 'service' AND id = ",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    services::get(conn, viewer, &a.owner_id).await?;
    Ok(a)
}

/// Remove a deleted record's attachment rows (the files, named by content, may be shared).
pub(super) async fn forget(conn: &mut AnyConnection, service_id: &str) -> StoreResult<()> {
    Sql::new("DELETE FROM attachments WHERE owner_kind = 'service' AND owner_id = ")
        .bind(service_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// A region's confirmation rule as set.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct RuleRow {
    pub region_code: String,
    pub rule: String,
    pub updated_by: String,
    pub updated_at: i64,
}

/// The rule that applies in a region: the most specific one set on it or above it.
#[derive(Debug, Clone, Serialize)]
pub struct Applied {
    pub rule: ConfirmRule,
    /// Where it was set (`None`: nowhere, the default `none`).
    pub from_region: Option<String>,
}

pub async fn rule_for(conn: &mut AnyConnection, region: &str) -> StoreResult<Applied> {
    let mut q = Sql::new(
        "SELECT region_code, rule, updated_by, updated_at FROM visit_confirmation_rules WHERE region_code = ''",
    );
    if let Ok(code) = RegionCode::parse(region) {
        for c in code.lineage() {
            q.push(" OR region_code = ").bind(c.to_string());
        }
    }
    q.push(" ORDER BY LENGTH(region_code) DESC LIMIT 1");
    let row: Option<RuleRow> = q.fetch_optional(conn).await?;
    Ok(match row {
        Some(r) => Applied {
            rule: ConfirmRule::parse(&r.rule).unwrap_or(ConfirmRule::None),
            from_region: Some(r.region_code),
        },
        None => Applied {
            rule: ConfirmRule::None,
            from_region: None,
        },
    })
}

/// The rules set in the scope's region, above it and below it, broadest first.
pub async fn rules_in(conn: &mut AnyConnection, scope: &Scope) -> StoreResult<Vec<RuleRow>> {
    let mut q = Sql::new(
        "SELECT region_code, rule, updated_by, updated_at FROM visit_confirmation_rules WHERE region_code = ''",
    );
    if let Ok(code) = RegionCode::parse(scope.prefix()) {
        for c in code.lineage() {
            q.push(" OR region_code = ").bind(c.to_string());
        }
    }
    q.push(" OR (");
    q.region_range("region_code", scope);
    q.push(") ORDER BY LENGTH(region_code), region_code");
    q.fetch_all(conn).await
}

/// Set a region's rule (the region in the scope). Returns the rule it had before.
pub async fn set_rule(
    conn: &mut AnyConnection,
    scope: &Scope,
    region: &RegionCode,
    rule: ConfirmRule,
    by: &str,
    now: Millis,
) -> StoreResult<Option<String>> {
    if !scope.contains_region(region.as_str()) {
        return Err(FieldError::new("region", "station.region_out_of_scope").into());
    }
    let before: Option<(String,)> =
        Sql::new("SELECT rule FROM visit_confirmation_rules WHERE region_code = ")
            .bind(region.as_str())
            .fetch_optional(conn)
            .await?;
    Sql::new("DELETE FROM visit_confirmation_rules WHERE region_code = ")
        .bind(region.as_str())
        .execute(conn)
        .await?;
    Sql::new(
        "INSERT INTO visit_confirmation_rules (region_code, rule, updated_by, updated_at) VALUES (",
    )
    .bind(region.as_str())
    .push(", ")
    .bind(rule.as_str())
    .push(", ")
    .bind(by)
    .push(", ")
    .bind(now)
    .push(")")
    .execute(conn)
    .await?;
    Ok(before.map(|b| b.0))
}
