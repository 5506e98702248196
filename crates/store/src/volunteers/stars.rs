//! 星级志愿者认定: star levels awarded by the level the province's rules name, once the recorded
//! hours reach them. The rule (which level approves which star) is configuration, so the caller
//! passes the level required; an approver at that level or above, whose scope holds the
//! volunteer, may award it. Awards are only inserted, upwards, one per level.

use serde::Serialize;
use shegong_domain::volunteers::activities::check_star_award;
use shegong_domain::{FieldError, RegionLevel, Scope};
use sqlx::AnyConnection;

use super::registry;
use crate::people::residents::in_scope;
use crate::sql::Sql;
use crate::{Millis, StoreResult, new_id};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct StarAward {
    pub id: String,
    pub volunteer_id: String,
    pub region_code: String,
    pub stars: i64,
    /// Recorded minutes the award rests on.
    pub minutes: i64,
    /// `county`, `city` or `province`: the level the rules name for this star.
    pub approver_level: String,
    /// The approving user's region ('' for a national account).
    pub approver_region: String,
    pub note: String,
    pub awarded_on: String,
    pub created_by: String,
    pub created_at: Millis,
}

/// What an award asks for.
#[derive(Debug, Clone)]
pub struct AwardInput {
    pub volunteer_id: String,
    pub stars: i64,
    /// The level that approves this star in the volunteer's province (from the configuration).
    pub approver: RegionLevel,
    pub note: String,
}

/// Whether a reader of `scope` acts at `level` or above (a national account is above all).
pub fn entitled(scope: &Scope, level: RegionLevel) -> bool {
    scope.org.is_none()
        && scope
            .region
            .as_ref()
            .is_none_or(|r| r.as_str().len() <= level.code_len())
}

const SELECT: &str = "SELECT a.id, a.volunteer_id, a.region_code, a.stars, a.minutes, a.approver_level, \
     a.approver_region, a.note, a.awarded_on, a.created_by, a.created_at FROM volunteer_star_awards a WHERE 1 = 1";

/// Award a star level; returns the award's id.
pub async fn award(
    conn: &mut AnyConnection,
    scope: &Scope,
    input: &AwardInput,
    (by, now): (&str, Millis),
    day: &str,
) -> StoreResult<String> {
    let note = input.note.trim();
    if note.chars().count() > 200 {
        return Err(FieldError::new("note", "form.too_long").into());
    }
    let v = registry::get(conn, scope, &input.volunteer_id).await?;
    // One award at a time per volunteer (a row lock on PostgreSQL; SQLite has one writer).
    Sql::new("UPDATE volunteers SET updated_at = updated_at WHERE id = ")
        .bind(v.id.as_str())
        .execute(conn)
        .await?;
    if v.status != shegong_domain::volunteers::VolunteerStatus::Active {
        return Err(FieldError::new("volunteer_id", "volunteer.not_active").into());
    }
    let awarded =
        Sql::new("SELECT COALESCE(MAX(stars), 0) FROM volunteer_star_awards WHERE volunteer_id = ")
            .bind(v.id.as_str())
            .fetch_i64(conn)
            .await?;
    let stars = check_star_award(
        input.stars,
        v.recorded_minutes,
        awarded,
        entitled(scope, input.approver),
    )?;
    let id = new_id();
    let region = scope
        .region
        .as_ref()
        .map(|r| r.to_string())
        .unwrap_or_default();
    Sql::new("INSERT INTO volunteer_star_awards (id, volunteer_id, region_code, stars, minutes, approver_level, approver_region, note, awarded_on, created_by, created_at) VALUES (")
        .bind(&id).push(", ").bind(v.id.as_str()).push(", ").bind(v.region_code.as_str()).push(", ").bind(i64::from(stars))
        .push(", ").bind(v.recorded_minutes).push(", ").bind(level_name(input.approver)).push(", ").bind(region)
        .push(", ").bind(note).push(", ").bind(day).push(", ").bind(by).push(", ").bind(now).push(")")
        .execute(conn)
        .await?;
    Ok(id)
}

fn level_name(level: RegionLevel) -> &'static str {
    match level {
        RegionLevel::Province => "province",
        RegionLevel::City => "city",
        _ => "county",
    }
}

/// A volunteer's awards, highest first (the volunteer must be in scope).
pub async fn list(
    conn: &mut AnyConnection,
    scope: &Scope,
    volunteer_id: &str,
) -> StoreResult<Vec<StarAward>> {
    registry::get(conn, scope, volunteer_id).await?;
    let mut q = Sql::new(SELECT);
    q.push(" AND a.volunteer_id = ").bind(volunteer_id);
    q.push(" ORDER BY a.stars DESC");
    q.fetch_all(conn).await
}

/// One award in scope.
pub async fn get(conn: &mut AnyConnection, scope: &Scope, id: &str) -> StoreResult<StarAward> {
    let mut q = Sql::new(SELECT);
    q.push(" AND a.id = ")
        .bind(id)
        .push(" AND EXISTS (SELECT 1 FROM volunteers v WHERE v.id = a.volunteer_id");
    in_scope(&mut q, scope, "v.region_code", "v.station_id", true);
    q.push(")");
    q.fetch_optional(conn)
        .await?
        .ok_or(crate::StoreError::NotFound)
}
