//! Incidents (突发事件) and the response to them: type, level, affected regions, response level,
//! the state machine 预警 → 响应 → 处置 → 恢复 → 关闭 with a timeline that is only inserted,
//! deployments of team members (never overlapping for one person, whatever the incident), and
//! the figures read from the incident's own rows (deployments, and services tagged with it).
//!
//! Scope: an incident's region is the lowest common ancestor of its affected regions (all of
//! them in the writer's scope); a reader sees it when that region is in their scope. A reader
//! whose scope is one affected township of a county-wide incident does not see it. Incidents
//! belong to no station: an organisation's accounts neither see nor record them.

use serde::Serialize;
use shegong_domain::emergency::{self as em, IncidentKind, IncidentLevel, IncidentState, TeamRole};
use shegong_domain::{FieldError, RegionCode, Scope};
use sqlx::AnyConnection;

use crate::sql::Sql;
use crate::{Millis, Page, PageRequest, StoreError, StoreResult, new_id};

use super::teams;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Incident {
    pub id: String,
    pub region_code: String,
    pub region_path: String,
    pub title: String,
    #[sqlx(try_from = "String")]
    pub kind: IncidentKind,
    #[sqlx(try_from = "String")]
    pub level: IncidentLevel,
    pub response_level: Option<String>,
    pub started_at: i64,
    #[sqlx(try_from = "String")]
    pub state: IncidentState,
    pub description: String,
    pub created_at: i64,
    pub updated_at: i64,
}

const SELECT: &str = "SELECT i.id, i.region_code, g.path_names AS region_path, i.title, i.kind, i.level, i.response_level, \
     i.started_at, i.state, i.description, i.created_at, i.updated_at \
     FROM incidents i JOIN regions g ON g.code = i.region_code WHERE 1 = 1";

/// `AND <incident i is in scope>`: its region in the reader's range. An incident belongs to no
/// station, so an organisation's accounts (whose scope is their stations) see none.
fn restrict(q: &mut Sql, scope: &Scope) {
    q.push(" AND ").region_range("i.region_code", scope);
    if scope.org.is_some() {
        q.push(" AND 1 = 0");
    }
}

#[derive(Debug, Clone)]
pub struct IncidentInput {
    pub title: String,
    pub kind: IncidentKind,
    pub level: IncidentLevel,
    pub response_level: Option<IncidentLevel>,
    /// Affected regions, at least one, all in the writer's scope.
    pub regions: Vec<RegionCode>,
    pub started_at: Millis,
    /// The first state: a warning, or straight into response.
    pub state: IncidentState,
    pub description: String,
}

/// Record an incident with its affected regions and its first timeline entry.
pub async fn create(
    conn: &mut AnyConnection,
    scope: &Scope,
    input: &IncidentInput,
    (by, now): (&str, Millis),
) -> StoreResult<Incident> {
    if input.regions.is_empty() {
        return Err(FieldError::new("regions", "form.required").into());
    }
    if scope.org.is_some() {
        return Err(FieldError::new("regions", "station.region_out_of_scope").into());
    }
    if input.regions.len() > 50 {
        return Err(FieldError::new("regions", "emergency.too_many_regions").into());
    }
    let mut codes: Vec<&str> = input.regions.iter().map(RegionCode::as_str).collect();
    codes.sort_unstable();
    codes.dedup();
    for c in &codes {
        if !scope.contains_region(c) {
            return Err(FieldError::new("regions", "station.region_out_of_scope").into());
        }
        let known = Sql::new("SELECT COUNT(*) FROM regions WHERE code = ")
            .bind(*c)
            .fetch_i64(conn)
            .await?;
        if known == 0 {
            return Err(FieldError::new("regions", "region.unknown").into());
        }
    }
    let region = em::common_region(&codes);
    if region.is_empty() {
        return Err(FieldError::new("regions", "emergency.regions_too_wide").into());
    }
    if !matches!(
        input.state,
        IncidentState::Warning | IncidentState::Response
    ) {
        return Err(FieldError::new("state", "emergency.first_state").into());
    }
    let id = new_id();
    Sql::new("INSERT INTO incidents (id, region_code, title, kind, level, response_level, started_at, state, description, created_by, created_at, updated_at) VALUES (")
        .bind(&id).push(", ").bind(region.as_str()).push(", ").bind(input.title.trim()).push(", ").bind(input.kind.as_str()).push(", ")
        .bind(input.level.as_str()).push(", ").bind(input.response_level.map(|l| l.as_str())).push(", ").bind(input.started_at).push(", ")
        .bind(input.state.as_str()).push(", ").bind(input.description.trim()).push(", ").bind(by).push(", ").bind(now).push(", ").bind(now).push(")")
        .execute(conn).await?;
    for c in &codes {
        Sql::new("INSERT INTO incident_regions (incident_id, region_code) VALUES (")
            .bind(&id)
            .push(", ")
            .bind(*c)
            .push(")")
            .execute(conn)
            .await?;
    }
    event(conn, &id, None, input.state, "", (by, now)).await?;
    get(conn, scope, &id).await
}

async fn event(
    conn: &mut AnyConnection,
    incident_id: &str,
    from: Option<IncidentState>,
    to: IncidentState,
    note: &str,
    (by, now): (&str, Millis),
) -> StoreResult<()> {
    Sql::new("INSERT INTO incident_events (id, incident_id, from_state, to_state, note, created_by, created_at) VALUES (")
        .bind(new_id()).push(", ").bind(incident_id).push(", ").bind(from.map(|s| s.as_str())).push(", ")
        .bind(to.as_str()).push(", ").bind(note.trim()).push(", ").bind(by).push(", ").bind(now).push(")")
        .execute(conn).await?;
    Ok(())
}

pub async fn get(conn: &mut AnyConnection, scope: &Scope, id: &str) -> StoreResult<Incident> {
    let mut q = Sql::new(SELECT);
    q.push(" AND i.id = ").bind(id);
    restrict(&mut q, scope);
    q.fetch_optional(conn).await?.ok_or(StoreError::NotFound)
}

/// The affected region codes of an incident in scope.
pub async fn regions(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
) -> StoreResult<Vec<String>> {
    get(conn, scope, id).await?;
    let rows: Vec<(String,)> =
        Sql::new("SELECT region_code FROM incident_regions WHERE incident_id = ")
            .bind(id)
            .push(" ORDER BY region_code LIMIT 50")
            .fetch_all(conn)
            .await?;
    Ok(rows.into_iter().map(|(c,)| c).collect())
}

/// List filters.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub text: Option<String>,
    pub kind: Option<IncidentKind>,
    pub state: Option<IncidentState>,
    /// A key of `SORTS`; none is the default order (newest first).
    pub sort: Option<crate::Sort>,
    /// Only these incidents (a batch selection).
    pub ids: Option<Vec<String>>,
}

/// The orders an incident list offers (key, column; `DESC`: the latest first).
pub const SORTS: &[(&str, &str)] = &[
    ("title", "i.title"),
    ("kind", "i.kind"),
    ("level", "i.level"),
    ("region", "i.region_code"),
    ("started", "i.started_at DESC"),
    ("state", "i.state"),
];

fn filtered(base: &'static str, scope: &Scope, f: &Filter) -> Sql {
    let mut q = Sql::new(base);
    restrict(&mut q, scope);
    if let Some(k) = f.kind {
        q.push(" AND i.kind = ").bind(k.as_str());
    }
    if let Some(s) = f.state {
        q.push(" AND i.state = ").bind(s.as_str());
    }
    if let Some(t) = f.text.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        q.contains_any(&["i.title"], t);
    }
    if let Some(ids) = &f.ids {
        q.push(" AND ");
        q.in_list("i.id", ids);
    }
    q
}

/// A page of the incidents in scope, newest first.
pub async fn list(
    conn: &mut AnyConnection,
    scope: &Scope,
    f: &Filter,
    page: PageRequest,
) -> StoreResult<Page<Incident>> {
    let count = filtered("SELECT COUNT(*) FROM incidents i WHERE 1 = 1", scope, f);
    let mut q = filtered(SELECT, scope, f);
    if !f.sort.is_some_and(|s| q.order(s, SORTS, "i.id")) {
        q.push(" ORDER BY i.started_at DESC, i.id DESC");
    }
    q.fetch_page(conn, &count, page).await
}

/// Every incident in scope matching `f`, newest first, for export (capped).
pub async fn list_all(
    conn: &mut AnyConnection,
    scope: &Scope,
    f: &Filter,
    cap: i64,
) -> StoreResult<Vec<Incident>> {
    let mut q = filtered(SELECT, scope, f);
    q.push(" ORDER BY i.started_at DESC, i.id DESC LIMIT ")
        .bind(cap);
    q.fetch_all(conn).await
}

/// Move the incident to `to` (refused on `state` when the machine does not allow it); the
/// change is added to the timeline with the note. Returns (before, after).
pub async fn transition(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
    to: IncidentState,
    note: &str,
    (by, now): (&str, Millis),
) -> StoreResult<(Incident, Incident)> {
    let before = get(conn, scope, id).await?;
    before.state.check_transition(to)?;
    // Conditional on the state read: a concurrent transition makes this one refused.
    let n = Sql::new("UPDATE incidents SET state = ")
        .bind(to.as_str())
        .push(", updated_at = ")
        .bind(now)
        .push(" WHERE id = ")
        .bind(id)
        .push(" AND state = ")
        .bind(before.state.as_str())
        .execute(conn)
        .await?;
    if n == 0 {
        return Err(FieldError::new("state", "emergency.transition_refused").into());
    }
    event(conn, id, Some(before.state), to, note, (by, now)).await?;
    let after = get(conn, scope, id).await?;
    Ok((before, after))
}

/// A state change on the timeline.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Event {
    pub id: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub note: String,
    pub created_by: String,
    pub user_name: Option<String>,
    pub created_at: i64,
}

pub async fn events(conn: &mut AnyConnection, scope: &Scope, id: &str) -> StoreResult<Vec<Event>> {
    get(conn, scope, id).await?;
    Sql::new(
        "SELECT e.id, e.from_state, e.to_state, e.note, e.created_by, u.display_name AS user_name, e.created_at \
         FROM incident_events e LEFT JOIN users u ON u.id = e.created_by WHERE e.incident_id = ",
    )
    .bind(id)
    .push(" ORDER BY e.created_at, e.id LIMIT 200")
    .fetch_all(conn)
    .await
}

/// A deployment request: a team in scope, members of that team, a role and a period.
#[derive(Debug, Clone)]
pub struct DeploymentInput {
    pub team_id: String,
    pub member_ids: Vec<String>,
    pub role: TeamRole,
    pub from: Millis,
    pub to: Millis,
    pub note: String,
}

/// Deploy members of a team to an open incident. Refused, naming the field, with nothing written:
/// a closed incident, an unknown team, `to` not after `from`, no members, a member not in the
/// team, a member already deployed in an overlapping period (to this or another incident).
pub async fn deploy(
    conn: &mut AnyConnection,
    scope: &Scope,
    incident_id: &str,
    input: &DeploymentInput,
    (by, now): (&str, Millis),
) -> StoreResult<String> {
    let incident = get(conn, scope, incident_id).await?;
    if !incident.state.is_open() {
        return Err(FieldError::new("state", "emergency.incident_closed").into());
    }
    teams::get(conn, scope, &input.team_id)
        .await
        .map_err(|_| FieldError::new("team_id", "emergency.team_unknown"))?;
    em::check_period(input.from, input.to)?;
    let mut ids: Vec<&str> = input.member_ids.iter().map(|s| s.trim()).collect();
    ids.retain(|s| !s.is_empty());
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Err(FieldError::new("member_ids", "form.required").into());
    }
    if ids.len() > 200 {
        return Err(FieldError::new("member_ids", "emergency.too_many_members").into());
    }
    let mut members = Vec::new();
    for mid in &ids {
        let m = teams::member(conn, scope, &input.team_id, mid)
            .await
            .map_err(|_| FieldError::new("member_ids", "emergency.member_not_in_team"))?;
        members.push(m);
    }
    for m in &members {
        lock_person(conn, m).await?;
        let clash =
            Sql::new("SELECT COUNT(*) FROM incident_deployment_members WHERE person_key = ")
                .bind(m.person_key.as_str())
                .push(" AND from_at < ")
                .bind(input.to)
                .push(" AND to_at > ")
                .bind(input.from)
                .fetch_i64(conn)
                .await?;
        if clash > 0 {
            return Err(FieldError::new("member_ids", "emergency.member_overlaps").into());
        }
    }
    let id = new_id();
    Sql::new("INSERT INTO incident_deployments (id, incident_id, team_id, role, from_at, to_at, note, created_by, created_at) VALUES (")
        .bind(&id).push(", ").bind(incident_id).push(", ").bind(input.team_id.as_str()).push(", ").bind(input.role.as_str()).push(", ")
        .bind(input.from).push(", ").bind(input.to).push(", ").bind(input.note.trim()).push(", ").bind(by).push(", ").bind(now).push(")")
        .execute(conn).await?;
    for m in &members {
        Sql::new("INSERT INTO incident_deployment_members (deployment_id, member_id, person_key, incident_id, from_at, to_at) VALUES (")
            .bind(&id).push(", ").bind(m.id.as_str()).push(", ").bind(m.person_key.as_str()).push(", ").bind(incident_id).push(", ")
            .bind(input.from).push(", ").bind(input.to).push(")")
            .execute(conn).await?;
    }
    Ok(id)
}

/// Serialise deployments of one person (a row lock on their staff or volunteer row on
/// PostgreSQL; SQLite has one writer), so two concurrent deployments cannot both pass the
/// overlap check.
async fn lock_person(conn: &mut AnyConnection, m: &teams::Member) -> StoreResult<()> {
    match (&m.staff_id, &m.volunteer_id) {
        (Some(s), _) => {
            Sql::new("UPDATE staff SET updated_at = updated_at WHERE id = ")
                .bind(s.as_str())
                .execute(conn)
                .await?
        }
        (None, Some(v)) => {
            Sql::new("UPDATE volunteers SET updated_at = updated_at WHERE id = ")
                .bind(v.as_str())
                .execute(conn)
                .await?
        }
        (None, None) => 0,
    };
    Ok(())
}

/// A deployment with its team and members' names.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Deployment {
    pub id: String,
    pub team_id: String,
    pub team_name: String,
    pub role: String,
    pub from_at: i64,
    pub to_at: i64,
    pub note: String,
    pub created_at: i64,
    #[sqlx(skip)]
    pub members: Vec<DeployedMember>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct DeployedMember {
    pub deployment_id: String,
    pub member_id: String,
    pub name: String,
    pub staff_id: Option<String>,
    pub volunteer_id: Option<String>,
}

/// The incident's deployments (at most 1000), by start, each with its members.
pub async fn deployments(
    conn: &mut AnyConnection,
    scope: &Scope,
    incident_id: &str,
) -> StoreResult<Vec<Deployment>> {
    get(conn, scope, incident_id).await?;
    let mut list: Vec<Deployment> = Sql::new(
        "SELECT d.id, d.team_id, t.name AS team_name, d.role, d.from_at, d.to_at, d.note, d.created_at \
         FROM incident_deployments d JOIN emergency_teams t ON t.id = d.team_id WHERE d.incident_id = ",
    )
    .bind(incident_id)
    .push(" ORDER BY d.from_at, d.id LIMIT 1000")
    .fetch_all(conn)
    .await?;
    let members: Vec<DeployedMember> = Sql::new(
        "SELECT dm.deployment_id, dm.member_id, m.name, m.staff_id, m.volunteer_id FROM incident_deployment_members dm \
         JOIN emergency_team_members m ON m.id = dm.member_id WHERE dm.incident_id = ",
    )
    .bind(incident_id)
    .push(" ORDER BY m.name, dm.member_id LIMIT 20000")
    .fetch_all(conn)
    .await?;
    for m in members {
        if let Some(d) = list.iter_mut().find(|d| d.id == m.deployment_id) {
            d.members.push(m);
        }
    }
    Ok(list)
}

/// An incident's figures, from its own rows.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Figures {
    /// Distinct people deployed.
    pub deployed_members: i64,
    pub deployments: i64,
    /// Sum over deployed members of the days their deployment spans (a started day counts).
    pub person_days: i64,
    /// Service records tagged with the incident.
    pub services: i64,
    pub person_times: i64,
    pub minutes: i64,
}

/// Services tagged with the incident on one day.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ServiceDay {
    pub served_on: String,
    pub services: i64,
    pub person_times: i64,
    pub minutes: i64,
}

pub async fn figures(conn: &mut AnyConnection, scope: &Scope, id: &str) -> StoreResult<Figures> {
    get(conn, scope, id).await?;
    let (deployed_members, person_days): (i64, i64) = Sql::new(
        "SELECT COUNT(DISTINCT person_key), CAST(COALESCE(SUM((to_at - from_at + 86399999) / 86400000), 0) AS BIGINT) \
         FROM incident_deployment_members WHERE incident_id = ",
    )
    .bind(id)
    .fetch_one(conn)
    .await?;
    let deployments = Sql::new("SELECT COUNT(*) FROM incident_deployments WHERE incident_id = ")
        .bind(id)
        .fetch_i64(conn)
        .await?;
    let (services, person_times, minutes): (i64, i64, i64) = Sql::new(
        "SELECT COUNT(*), CAST(COALESCE(SUM(person_times), 0) AS BIGINT), CAST(COALESCE(SUM(duration_minutes), 0) AS BIGINT) \
         FROM services WHERE incident_id = ",
    )
    .bind(id)
    .fetch_one(conn)
    .await?;
    Ok(Figures {
        deployed_members,
        deployments,
        person_days,
        services,
        person_times,
        minutes,
    })
}

/// The incident's tagged services by day (at most 400 days), oldest first.
pub async fn services_by_day(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
) -> StoreResult<Vec<ServiceDay>> {
    get(conn, scope, id).await?;
    Sql::new(
        "SELECT served_on, COUNT(*) AS services, CAST(COALESCE(SUM(person_times), 0) AS BIGINT) AS person_times, \
         CAST(COALESCE(SUM(duration_minutes), 0) AS BIGINT) AS minutes FROM services WHERE incident_id = ",
    )
    .bind(id)
    .push(" GROUP BY served_on ORDER BY served_on LIMIT 400")
    .fetch_all(conn)
    .await
}

/// A service record may name an incident in the writer's scope that is not closed; refused on
/// `incident_id` otherwise.
pub async fn check_taggable(conn: &mut AnyConnection, scope: &Scope, id: &str) -> StoreResult<()> {
    let i = get(conn, scope, id)
        .await
        .map_err(|_| FieldError::new("incident_id", "service.incident_unknown"))?;
    if !i.state.is_open() {
        return Err(FieldError::new("incident_id", "service.incident_closed").into());
    }
    Ok(())
}
