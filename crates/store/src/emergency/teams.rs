//! Emergency social-work teams (应急社会工作服务队): a name, a region, optionally a host station;
//! members are staff (workforce) or volunteers (registry) in the writer's scope and of the team's
//! region, each in a group (评估/执行/后勤) and possibly a reserve. Out of scope is not found.

use serde::Serialize;
use shegong_domain::emergency::TeamRole;
use shegong_domain::{FieldError, RegionCode, Scope};
use sqlx::AnyConnection;

use crate::network::station_scope;
use crate::people::residents::in_scope;
use crate::sql::Sql;
use crate::volunteers::registry;
use crate::workforce::staff;
use crate::{Millis, Page, PageRequest, StoreError, StoreResult, new_id};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Team {
    pub id: String,
    pub region_code: String,
    pub region_path: String,
    pub name: String,
    pub station_id: Option<String>,
    pub station_name: Option<String>,
    pub members: i64,
    pub reserves: i64,
    pub created_at: i64,
}

const SELECT: &str = "SELECT t.id, t.region_code, g.path_names AS region_path, t.name, t.station_id, s.name AS station_name, \
     (SELECT COUNT(*) FROM emergency_team_members m WHERE m.team_id = t.id AND m.reserve = 0) AS members, \
     (SELECT COUNT(*) FROM emergency_team_members m WHERE m.team_id = t.id AND m.reserve = 1) AS reserves, t.created_at \
     FROM emergency_teams t JOIN regions g ON g.code = t.region_code LEFT JOIN stations s ON s.id = t.station_id \
     WHERE 1 = 1";

#[derive(Debug, Clone)]
pub struct TeamInput {
    pub region: RegionCode,
    pub name: String,
    pub station_id: Option<String>,
}

/// `AND <team t is in scope>`.
pub(crate) fn restrict(q: &mut Sql, scope: &Scope) {
    in_scope(q, scope, "t.region_code", "t.station_id", true);
}

pub async fn create(
    conn: &mut AnyConnection,
    scope: &Scope,
    input: &TeamInput,
    created_by: &str,
    now: Millis,
) -> StoreResult<String> {
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
    if let Some(sid) = &input.station_id {
        let st = station_scope::place(conn, scope, sid)
            .await
            .map_err(|_| FieldError::new("station", "staff.station_unknown"))?;
        if !st.region_code.starts_with(region) && !region.starts_with(&st.region_code) {
            return Err(FieldError::new("station", "volunteer.station_elsewhere").into());
        }
    }
    let name = input.name.trim();
    let same = Sql::new("SELECT COUNT(*) FROM emergency_teams WHERE region_code = ")
        .bind(region)
        .push(" AND name = ")
        .bind(name)
        .fetch_i64(conn)
        .await?;
    if same > 0 {
        return Err(FieldError::new("name", "team.name_taken").into());
    }
    let id = new_id();
    Sql::new("INSERT INTO emergency_teams (id, region_code, station_id, name, created_by, created_at, updated_at) VALUES (")
        .bind(&id).push(", ").bind(region).push(", ").bind(input.station_id.clone()).push(", ").bind(name)
        .push(", ").bind(created_by).push(", ").bind(now).push(", ").bind(now).push(")")
        .execute(conn).await?;
    Ok(id)
}

pub async fn get(conn: &mut AnyConnection, scope: &Scope, id: &str) -> StoreResult<Team> {
    let mut q = Sql::new(SELECT);
    q.push(" AND t.id = ").bind(id);
    restrict(&mut q, scope);
    q.fetch_optional(conn).await?.ok_or(StoreError::NotFound)
}

/// A page of the teams in scope, by region and name; `text`: name contains.
pub async fn list(
    conn: &mut AnyConnection,
    scope: &Scope,
    text: Option<&str>,
    page: PageRequest,
) -> StoreResult<Page<Team>> {
    let mut count = Sql::new("SELECT COUNT(*) FROM emergency_teams t WHERE 1 = 1");
    restrict(&mut count, scope);
    let mut q = Sql::new(SELECT);
    restrict(&mut q, scope);
    if let Some(t) = text.map(str::trim).filter(|s| !s.is_empty()) {
        count.contains_any(&["t.name"], t);
        q.contains_any(&["t.name"], t);
    }
    q.push(" ORDER BY t.region_code, t.name, t.id");
    q.fetch_page(conn, &count, page).await
}

/// Every team in scope matching `text`, for export (capped), by region and name.
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

/// A member as the team page shows them.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Member {
    pub id: String,
    pub team_id: String,
    pub staff_id: Option<String>,
    pub volunteer_id: Option<String>,
    pub person_key: String,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub role: TeamRole,
    pub reserve: i64,
}

const MEMBER: &str = "SELECT m.id, m.team_id, m.staff_id, m.volunteer_id, m.person_key, m.name, m.role, m.reserve \
     FROM emergency_team_members m WHERE m.team_id = ";

/// The team's members (in scope through the team), by group, members before reserves.
pub async fn members(
    conn: &mut AnyConnection,
    scope: &Scope,
    team_id: &str,
) -> StoreResult<Vec<Member>> {
    get(conn, scope, team_id).await?;
    Sql::new(MEMBER)
        .bind(team_id)
        .push(" ORDER BY m.reserve, m.role, m.name, m.id LIMIT 1000")
        .fetch_all(conn)
        .await
}

/// One member of a team in scope.
pub async fn member(
    conn: &mut AnyConnection,
    scope: &Scope,
    team_id: &str,
    member_id: &str,
) -> StoreResult<Member> {
    get(conn, scope, team_id).await?;
    Sql::new(MEMBER)
        .bind(team_id)
        .push(" AND m.id = ")
        .bind(member_id)
        .fetch_optional(conn)
        .await?
        .ok_or(StoreError::NotFound)
}

/// Who joins: a staff member or a volunteer (exactly one), with the group and reserve flag.
#[derive(Debug, Clone, Default)]
pub struct MemberInput {
    pub staff_id: Option<String>,
    pub volunteer_id: Option<String>,
    pub role: String,
    pub reserve: bool,
}

/// Add a member (staff or volunteer in scope and of the team's region, not already in it).
/// Returns (team, member id).
pub async fn add_member(
    conn: &mut AnyConnection,
    scope: &Scope,
    team_id: &str,
    input: &MemberInput,
    now: Millis,
) -> StoreResult<(Team, String)> {
    let team = get(conn, scope, team_id).await?;
    let role = TeamRole::parse(&input.role)?;
    let (staff_id, volunteer_id, key, name, region) = match (&input.staff_id, &input.volunteer_id) {
        (Some(sid), None) => {
            let s = staff::get(conn, scope, sid)
                .await
                .map_err(|_| FieldError::new("staff_id", "emergency.staff_unknown"))?;
            let key = format!("staff:{}", s.id);
            (Some(s.id), None, key, s.name, s.region_code)
        }
        (None, Some(vid)) => {
            let v = registry::get(conn, scope, vid)
                .await
                .map_err(|_| FieldError::new("volunteer_id", "team.volunteer_unknown"))?;
            let key = format!("volunteer:{}", v.id);
            (None, Some(v.id), key, v.name, v.region_code)
        }
        (Some(_), Some(_)) => {
            return Err(FieldError::new("volunteer_id", "emergency.member_one_of").into());
        }
        (None, None) => return Err(FieldError::new("staff_id", "form.required").into()),
    };
    let field = if staff_id.is_some() {
        "staff_id"
    } else {
        "volunteer_id"
    };
    if !region.starts_with(&team.region_code) && !team.region_code.starts_with(&region) {
        return Err(FieldError::new(field, "team.member_elsewhere").into());
    }
    let taken = Sql::new("SELECT COUNT(*) FROM emergency_team_members WHERE team_id = ")
        .bind(team_id)
        .push(" AND person_key = ")
        .bind(key.as_str())
        .fetch_i64(conn)
        .await?;
    if taken > 0 {
        return Err(FieldError::new(field, "team.already_member").into());
    }
    let id = new_id();
    Sql::new("INSERT INTO emergency_team_members (id, team_id, staff_id, volunteer_id, person_key, name, role, reserve, created_at) VALUES (")
        .bind(&id).push(", ").bind(team_id).push(", ").bind(staff_id).push(", ").bind(volunteer_id).push(", ")
        .bind(key).push(", ").bind(name).push(", ").bind(role.as_str()).push(", ").bind(i64::from(input.reserve))
        .push(", ").bind(now).push(")")
        .execute(conn).await?;
    Ok((team, id))
}

/// Staff and volunteers of the team's region (in scope) who may join it, for the team page's
/// choices: (`staff` | `volunteer`, id, name), at most 300 of each, by name.
pub async fn candidates(
    conn: &mut AnyConnection,
    scope: &Scope,
    team: &Team,
) -> StoreResult<Vec<(String, String, String)>> {
    let within = RegionCode::parse(&team.region_code)
        .map(Scope::region)
        .unwrap_or_else(|_| scope.clone());
    let mut out = Vec::new();
    for (kind, base, region, station) in [
        (
            "staff",
            "SELECT s.id, s.name FROM staff s WHERE s.status = 'active'",
            "s.region_code",
            "s.station_id",
        ),
        (
            "volunteer",
            "SELECT s.id, s.name FROM volunteers s WHERE s.status = 'active'",
            "s.region_code",
            "s.station_id",
        ),
    ] {
        let mut q = Sql::new(base);
        in_scope(&mut q, scope, region, station, true);
        q.push(" AND ").region_range(region, &within);
        q.push(" ORDER BY s.name, s.id LIMIT 300");
        let rows: Vec<(String, String)> = q.fetch_all(conn).await?;
        out.extend(
            rows.into_iter()
                .map(|(id, name)| (kind.to_owned(), id, name)),
        );
    }
    Ok(out)
}

/// A member with their team's name, for choosing whom to deploy.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct TeamMember {
    pub id: String,
    pub team_id: String,
    pub team_name: String,
    pub name: String,
    pub role: String,
    pub reserve: i64,
}

/// Members of every team in scope (at most 1000), by team and name.
pub async fn all_members(conn: &mut AnyConnection, scope: &Scope) -> StoreResult<Vec<TeamMember>> {
    let mut q = Sql::new(
        "SELECT m.id, m.team_id, t.name AS team_name, m.name, m.role, m.reserve FROM emergency_team_members m \
         JOIN emergency_teams t ON t.id = m.team_id WHERE 1 = 1",
    );
    restrict(&mut q, scope);
    q.push(" ORDER BY t.name, t.id, m.reserve, m.name, m.id LIMIT 1000");
    q.fetch_all(conn).await
}
