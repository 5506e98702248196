//! Volunteer teams (志愿服务队): registered or hosted by a liaison station, in a region, with
//! volunteers of that region as members. Scoped like the registry: a team outside the reader's
//! scope is "not found", and so is a volunteer outside it.

use serde::Serialize;
use shegong_domain::volunteers;
use shegong_domain::{FieldError, RegionCode, Scope};
use sqlx::AnyConnection;

use crate::network::station_scope;
use crate::people::residents::in_scope;
use crate::sql::Sql;
use crate::{Millis, Page, PageRequest, StoreError, StoreResult, new_id};

use super::registry;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Team {
    pub id: String,
    pub region_code: String,
    pub region_path: String,
    pub name: String,
    pub registered: i64,
    pub registration_no: Option<String>,
    pub station_id: Option<String>,
    pub station_name: Option<String>,
    pub members: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

const SELECT: &str = "SELECT t.id, t.region_code, g.path_names AS region_path, t.name, t.registered, t.registration_no, \
     t.station_id, s.name AS station_name, \
     (SELECT COUNT(*) FROM volunteer_team_members m WHERE m.team_id = t.id) AS members, t.created_at, t.updated_at \
     FROM volunteer_teams t JOIN regions g ON g.code = t.region_code LEFT JOIN stations s ON s.id = t.station_id \
     WHERE 1 = 1";

#[derive(Debug, Clone)]
pub struct TeamInput {
    pub region: RegionCode,
    pub name: String,
    pub registered: bool,
    pub registration_no: Option<String>,
    pub station_id: Option<String>,
}

async fn check(conn: &mut AnyConnection, scope: &Scope, input: &TeamInput) -> StoreResult<()> {
    let region = input.region.as_str();
    if !scope.contains_region(region) {
        return Err(FieldError::new("region", "station.region_out_of_scope").into());
    }
    let known = Sql::new("SELECT COUNT(*) FROM regions WHERE code = ")
        .bind(region)
        .fetch_i64(conn)
        .await?;
    if known == 0 {
        return Err(FieldError::new("region", "region.unknown").into());
    }
    if scope.org.is_some() && input.station_id.is_none() {
        return Err(FieldError::new("station", "volunteer.station_required_org").into());
    }
    if let Some(e) = volunteers::check_team(
        input.registered,
        input.registration_no.as_deref(),
        input.station_id.is_some(),
    )
    .into_iter()
    .next()
    {
        return Err(e.into());
    }
    if let Some(sid) = &input.station_id {
        let st = station_scope::place(conn, scope, sid)
            .await
            .map_err(|_| FieldError::new("station", "staff.station_unknown"))?;
        if !st.region_code.starts_with(region) && !region.starts_with(&st.region_code) {
            return Err(FieldError::new("station", "volunteer.station_elsewhere").into());
        }
    }
    let mut same = Sql::new("SELECT COUNT(*) FROM volunteer_teams WHERE region_code = ");
    same.bind(region)
        .push(" AND name = ")
        .bind(input.name.trim());
    if same.fetch_i64(conn).await? > 0 {
        return Err(FieldError::new("name", "team.name_taken").into());
    }
    Ok(())
}

pub async fn create(
    conn: &mut AnyConnection,
    scope: &Scope,
    input: &TeamInput,
    created_by: &str,
    now: Millis,
) -> StoreResult<String> {
    check(conn, scope, input).await?;
    let id = new_id();
    Sql::new("INSERT INTO volunteer_teams (id, region_code, name, registered, registration_no, station_id, created_by, created_at, updated_at) VALUES (")
        .bind(&id).push(", ").bind(input.region.as_str()).push(", ").bind(input.name.trim()).push(", ")
        .bind(i64::from(input.registered)).push(", ").bind(input.registration_no.clone()).push(", ")
        .bind(input.station_id.clone()).push(", ").bind(created_by).push(", ").bind(now).push(", ").bind(now).push(")")
        .execute(conn).await?;
    Ok(id)
}

/// `AND <team t is in scope>`.
fn restrict(q: &mut Sql, scope: &Scope) {
    in_scope(q, scope, "t.region_code", "t.station_id", true);
}

pub async fn get(conn: &mut AnyConnection, scope: &Scope, id: &str) -> StoreResult<Team> {
    let mut q = Sql::new(SELECT);
    q.push(" AND t.id = ").bind(id);
    restrict(&mut q, scope);
    q.fetch_optional(conn).await?.ok_or(StoreError::NotFound)
}

/// A page of the teams in scope, by name; `q`: name contains.
pub async fn list(
    conn: &mut AnyConnection,
    scope: &Scope,
    text: Option<&str>,
    page: PageRequest,
) -> StoreResult<Page<Team>> {
    let text = text.map(str::trim).filter(|s| !s.is_empty());
    let mut count = Sql::new("SELECT COUNT(*) FROM volunteer_teams t WHERE 1 = 1");
    restrict(&mut count, scope);
    let mut q = Sql::new(SELECT);
    restrict(&mut q, scope);
    if let Some(t) = text {
        count.contains_any(&["t.name"], t);
        q.contains_any(&["t.name"], t);
    }
    q.push(" ORDER BY t.region_code, t.name, t.id");
    q.fetch_page(conn, &count, page).await
}

/// Every team in scope matching `text` (name contains), for export (capped), by region and name.
pub async fn list_all(
    conn: &mut AnyConnection,
    scope: &Scope,
    text: Option<&str>,
    cap: i64,
) -> StoreResult<Vec<Team>> {
    let mut q = Sql::new(SELECT);
    restrict(&mut q, scope);
    if let Some(t) = text.map(str::trim).filter(|s| !s.is_empty()) {
        q.contains_any(&["t.name"], t);
    }
    q.push(" ORDER BY t.region_code, t.name, t.id LIMIT ")
        .bind(cap);
    q.fetch_all(conn).await
}

/// Every (team id, volunteer id) membership of the teams in scope (for imports).
pub async fn memberships(
    conn: &mut AnyConnection,
    scope: &Scope,
) -> StoreResult<Vec<(String, String)>> {
    let mut q = Sql::new(
        "SELECT m.team_id, m.volunteer_id FROM volunteer_team_members m JOIN volunteer_teams t ON t.id = m.team_id WHERE 1 = 1",
    );
    restrict(&mut q, scope);
    q.fetch_all(conn).await
}

/// A member as the team page shows them (masked values are the caller's to add).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Member {
    pub volunteer_id: String,
    pub volunteer_no: String,
    pub name: String,
    pub joined_on: String,
}

pub async fn members(
    conn: &mut AnyConnection,
    scope: &Scope,
    team_id: &str,
) -> StoreResult<Vec<Member>> {
    get(conn, scope, team_id).await?;
    let mut q = Sql::new(
        "SELECT v.id AS volunteer_id, v.volunteer_no, v.name, m.joined_on FROM volunteer_team_members m \
         JOIN volunteers v ON v.id = m.volunteer_id WHERE m.team_id = ",
    );
    q.bind(team_id);
    in_scope(&mut q, scope, "v.region_code", "v.station_id", true);
    q.push(" ORDER BY v.volunteer_no LIMIT 2000");
    q.fetch_all(conn).await
}

/// Add a volunteer (in scope, of the team's region, not already a member). Returns the team.
pub async fn add_member(
    conn: &mut AnyConnection,
    scope: &Scope,
    team_id: &str,
    volunteer_id: &str,
    joined_on: &str,
) -> StoreResult<Team> {
    let team = get(conn, scope, team_id).await?;
    let v = registry::get(conn, scope, volunteer_id)
        .await
        .map_err(|_| FieldError::new("volunteer_id", "team.volunteer_unknown"))?;
    if !v.region_code.starts_with(&team.region_code) {
        return Err(FieldError::new("volunteer_id", "team.member_elsewhere").into());
    }
    let mut q = Sql::new("SELECT COUNT(*) FROM volunteer_team_members WHERE team_id = ");
    q.bind(team_id)
        .push(" AND volunteer_id = ")
        .bind(volunteer_id);
    if q.fetch_i64(conn).await? > 0 {
        return Err(FieldError::new("volunteer_id", "team.already_member").into());
    }
    Sql::new("INSERT INTO volunteer_team_members (team_id, volunteer_id, joined_on) VALUES (")
        .bind(team_id)
        .push(", ")
        .bind(volunteer_id)
        .push(", ")
        .bind(joined_on)
        .push(")")
        .execute(conn)
        .await?;
    Ok(team)
}

/// Take a volunteer off the team. Returns the team.
pub async fn remove_member(
    conn: &mut AnyConnection,
    scope: &Scope,
    team_id: &str,
    volunteer_id: &str,
) -> StoreResult<Team> {
    let team = get(conn, scope, team_id).await?;
    let n = Sql::new("DELETE FROM volunteer_team_members WHERE team_id = ")
        .bind(team_id)
        .push(" AND volunteer_id = ")
        .bind(volunteer_id)
        .execute(conn)
        .await?;
    if n == 0 {
        return Err(FieldError::new("volunteer_id", "team.not_member").into());
    }
    Ok(team)
}
