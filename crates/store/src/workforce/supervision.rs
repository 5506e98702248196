//! Supervision and 三区计划: supervisor–supervisee pairs and their sessions, and teams sent to a
//! county with their dispatched and local members.

use chrono::NaiveDate;
use serde::Serialize;
use shegong_domain::{FieldError, RegionCode, Scope};
use sqlx::AnyConnection;

use super::staff::get;
use crate::sql::Sql;
use crate::{Millis, StoreError, StoreResult, new_id};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Pair {
    pub id: String,
    pub supervisor_id: String,
    pub supervisor_name: String,
    pub supervisee_id: String,
    pub supervisee_name: String,
    pub from_date: String,
    pub to_date: Option<String>,
    pub sessions: i64,
    pub hours_tenths: i64,
}

pub async fn add_pair(
    conn: &mut AnyConnection,
    scope: &Scope,
    supervisor: &str,
    supervisee: &str,
    from: NaiveDate,
    now: Millis,
) -> StoreResult<String> {
    add_pair_for(conn, scope, supervisor, supervisee, None, from, now).await
}

/// A pair, optionally naming the supervisor's own account (`users.id`), who then sees the pair
/// and its sessions wherever the supervisee works. The account must be a supervisor (or
/// manager) within reach of `scope`, of the scope's organisation when it names one.
#[allow(clippy::too_many_arguments)]
pub async fn add_pair_for(
    conn: &mut AnyConnection,
    scope: &Scope,
    supervisor: &str,
    supervisee: &str,
    account: Option<&str>,
    from: NaiveDate,
    now: Millis,
) -> StoreResult<String> {
    if supervisor == supervisee {
        return Err(FieldError::new("supervisee", "supervision.same_person").into());
    }
    let a = get(conn, scope, supervisor)
        .await
        .map_err(|_| FieldError::new("supervisor", "staff.unknown"))?;
    get(conn, scope, supervisee)
        .await
        .map_err(|_| FieldError::new("supervisee", "staff.unknown"))?;
    if let Some(uid) = account {
        crate::people::residents::check_worker(conn, scope, uid, "supervisor_account").await?;
    }
    let id = new_id();
    Sql::new("INSERT INTO supervision_pairs (id, supervisor_id, supervisee_id, region_code, from_date, supervisor_user_id, created_at) VALUES (")
        .bind(&id).push(", ").bind(supervisor).push(", ").bind(supervisee).push(", ").bind(&a.region_code).push(", ").bind(from.to_string()).push(", ")
        .bind(account.map(str::to_owned)).push(", ").bind(now).push(")")
        .execute(conn).await?;
    Ok(id)
}

/// The pairs a viewer may see: those whose supervisee's staff record is in the viewer's scope
/// (region, and organisation as employer when the scope names one), and those whose supervisor
/// account is the viewer (`account`). A supervisor in one township thus sees the supervision
/// records of a supervisee working in another, and nothing else of that person; the supervisor's
/// own township does not see pairs whose supervisee works elsewhere.
pub async fn pairs(
    conn: &mut AnyConnection,
    scope: &Scope,
    account: Option<&str>,
) -> StoreResult<Vec<Pair>> {
    let mut q = Sql::new(
        "SELECT x.id, x.supervisor_id, a.name AS supervisor_name, x.supervisee_id, b.name AS supervisee_name, x.from_date, x.to_date, \
         (SELECT COUNT(*) FROM supervision_sessions y WHERE y.pair_id = x.id) AS sessions, \
         (SELECT CAST(COALESCE(SUM(y.hours_tenths), 0) AS BIGINT) FROM supervision_sessions y WHERE y.pair_id = x.id) AS hours_tenths \
         FROM supervision_pairs x JOIN staff a ON a.id = x.supervisor_id JOIN staff b ON b.id = x.supervisee_id WHERE ((",
    );
    q.region_range("b.region_code", scope);
    if let Some(org) = scope.org {
        q.push(" AND b.employer_org_id = ").bind(org.to_string());
    }
    q.push(")");
    if let Some(uid) = account {
        q.push(" OR x.supervisor_user_id = ").bind(uid);
    }
    q.push(") ORDER BY a.name, b.name");
    q.fetch_all(conn).await
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Session {
    pub id: String,
    pub pair_id: String,
    pub held_on: String,
    pub hours_tenths: i64,
    pub topics: String,
}

#[derive(Debug, Clone, Copy)]
pub struct NewSession<'a> {
    pub held_on: &'a str,
    pub hours_tenths: i64,
    pub topics: &'a str,
}

pub async fn add_session(
    conn: &mut AnyConnection,
    scope: &Scope,
    pair_id: &str,
    s: &NewSession<'_>,
    by: &str,
    now: Millis,
) -> StoreResult<String> {
    add_session_as(conn, scope, None, pair_id, s, by, now).await
}

/// A session on a pair the viewer may see (`pairs`): the supervisor's own account records its
/// sessions even when the supervisee works outside its scope.
pub async fn add_session_as(
    conn: &mut AnyConnection,
    scope: &Scope,
    account: Option<&str>,
    pair_id: &str,
    s: &NewSession<'_>,
    by: &str,
    now: Millis,
) -> StoreResult<String> {
    let NewSession {
        held_on,
        hours_tenths,
        topics,
    } = *s;
    let pair = pairs(conn, scope, account)
        .await?
        .into_iter()
        .find(|p| p.id == pair_id)
        .ok_or(StoreError::NotFound)?;
    if !(1..=240).contains(&hours_tenths) {
        return Err(FieldError::new("hours", "supervision.hours_invalid").into());
    }
    if topics.trim().is_empty() {
        return Err(FieldError::new("topics", "form.required").into());
    }
    let region: (String,) = Sql::new("SELECT region_code FROM supervision_pairs WHERE id = ")
        .bind(&pair.id)
        .fetch_one(conn)
        .await?;
    let id = new_id();
    Sql::new("INSERT INTO supervision_sessions (id, pair_id, region_code, held_on, hours_tenths, topics, created_by, created_at) VALUES (")
        .bind(&id).push(", ").bind(pair_id).push(", ").bind(region.0).push(", ").bind(held_on).push(", ").bind(hours_tenths).push(", ")
        .bind(topics.trim()).push(", ").bind(by).push(", ").bind(now).push(")")
        .execute(conn).await?;
    Ok(id)
}

pub async fn sessions(
    conn: &mut AnyConnection,
    scope: &Scope,
    account: Option<&str>,
    pair_id: &str,
) -> StoreResult<Vec<Session>> {
    if !pairs(conn, scope, account)
        .await?
        .iter()
        .any(|p| p.id == pair_id)
    {
        return Err(StoreError::NotFound);
    }
    Sql::new("SELECT id, pair_id, held_on, hours_tenths, topics FROM supervision_sessions WHERE pair_id = ")
        .bind(pair_id).push(" ORDER BY held_on DESC").fetch_all(conn).await
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Team {
    pub id: String,
    pub region_code: String,
    pub region_path: String,
    pub name: String,
    pub sending_name: String,
    pub starts_on: String,
    pub ends_on: String,
    pub dispatched: i64,
    pub local: i64,
}

#[derive(Debug, Clone, Copy)]
pub struct NewTeam<'a> {
    /// The host county.
    pub region: &'a str,
    pub name: &'a str,
    pub sending: &'a str,
    pub starts: &'a str,
    pub ends: &'a str,
}

pub async fn add_team(
    conn: &mut AnyConnection,
    scope: &Scope,
    t: &NewTeam<'_>,
    now: Millis,
) -> StoreResult<String> {
    let NewTeam {
        region,
        name,
        sending,
        starts,
        ends,
    } = *t;
    if RegionCode::parse(region)
        .map(|r| r.level() != shegong_domain::RegionLevel::County)
        .unwrap_or(true)
        || !scope.contains_region(region)
    {
        return Err(FieldError::new("region", "sanqu.county_required").into());
    }
    if name.trim().is_empty() {
        return Err(FieldError::new("name", "form.required").into());
    }
    if ends < starts {
        return Err(FieldError::new("ends_on", "inspection.period_invalid").into());
    }
    let id = new_id();
    Sql::new("INSERT INTO sanqu_teams (id, region_code, name, sending_name, starts_on, ends_on, created_at) VALUES (")
        .bind(&id).push(", ").bind(region).push(", ").bind(name.trim()).push(", ").bind(sending.trim()).push(", ").bind(starts).push(", ").bind(ends).push(", ").bind(now).push(")")
        .execute(conn).await?;
    Ok(id)
}

pub async fn add_member(
    conn: &mut AnyConnection,
    scope: &Scope,
    team: &str,
    staff_id: &str,
    dispatched: bool,
) -> StoreResult<()> {
    let t = teams(conn, scope)
        .await?
        .into_iter()
        .find(|t| t.id == team)
        .ok_or(StoreError::NotFound)?;
    get(conn, scope, staff_id)
        .await
        .map_err(|_| FieldError::new("staff", "staff.unknown"))?;
    let dup = Sql::new("SELECT COUNT(*) FROM sanqu_members WHERE team_id = ")
        .bind(team)
        .push(" AND staff_id = ")
        .bind(staff_id)
        .fetch_i64(conn)
        .await?;
    if dup > 0 {
        return Err(FieldError::new("staff", "sanqu.member_taken").into());
    }
    Sql::new("INSERT INTO sanqu_members (team_id, staff_id, region_code, dispatched) VALUES (")
        .bind(team)
        .push(", ")
        .bind(staff_id)
        .push(", ")
        .bind(&t.region_code)
        .push(", ")
        .bind(dispatched)
        .push(")")
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn teams(conn: &mut AnyConnection, scope: &Scope) -> StoreResult<Vec<Team>> {
    let mut q = Sql::new(
        "SELECT t.id, t.region_code, r.path_names AS region_path, t.name, t.sending_name, t.starts_on, t.ends_on, \
         (SELECT COUNT(*) FROM sanqu_members m WHERE m.team_id = t.id AND m.dispatched = 1) AS dispatched, \
         (SELECT COUNT(*) FROM sanqu_members m WHERE m.team_id = t.id AND m.dispatched = 0) AS local \
         FROM sanqu_teams t JOIN regions r ON r.code = t.region_code WHERE ",
    );
    q.region_range("t.region_code", scope);
    if let Some(org) = scope.org {
        q.push(" AND t.id IN (SELECT m.team_id FROM sanqu_members m JOIN staff p ON p.id = m.staff_id WHERE p.employer_org_id = ")
            .bind(org.to_string())
            .push(")");
    }
    q.push(" ORDER BY t.starts_on DESC, t.name");
    q.fetch_all(conn).await
}
