//! Demo data of emergency social work: 荷塘区's emergency social-work team (staff and
//! volunteers of the county, in the three groups, with a reserve), and one past incident — a
//! rainstorm flood over two townships — taken through warning, response, handling and recovery
//! to closed, with a deployment of the team and community services given during it. Written
//! through the store, as in use; deterministic.

use chrono::{Duration, NaiveDate};
use shegong_domain::emergency::{IncidentKind, IncidentLevel, IncidentState, TeamRole};
use shegong_domain::{RegionCode, Scope};
use shegong_store::emergency::incidents::{self, DeploymentInput, IncidentInput};
use shegong_store::emergency::teams::{self, MemberInput, TeamInput};
use shegong_store::network::stations;
use shegong_store::people::residents::Viewer;
use shegong_store::people::services::{self, ServiceInput};
use shegong_store::volunteers::registry;
use shegong_store::workforce::staff;
use shegong_store::{PageRequest, StoreError};
use shegong_web::AppState;

const BY: &str = "demo";
const COUNTY: &str = "430203";
const DAY: i64 = 86_400_000;

/// The team's members: the county's first staff and volunteers, in turn in each group.
async fn members(
    tx: &mut shegong_store::Conn,
    scope: &Scope,
    team: &str,
    now: i64,
) -> anyhow::Result<Vec<String>> {
    let page = PageRequest::new(Some(1), Some(6));
    let staff = staff::list(tx, scope, &staff::Filter::default(), page).await?;
    let vols = registry::list(tx, scope, &registry::Filter::default(), page).await?;
    let people = staff
        .items
        .into_iter()
        .map(|s| (Some(s.id), None))
        .chain(vols.items.into_iter().map(|v| (None, Some(v.id))));
    let mut ids = Vec::new();
    for (i, (staff_id, volunteer_id)) in people.enumerate() {
        let role = TeamRole::ALL
            .get(i % 3)
            .copied()
            .unwrap_or(TeamRole::Execution);
        let input = MemberInput {
            staff_id,
            volunteer_id,
            role: role.as_str().into(),
            reserve: i >= 8,
        };
        match teams::add_member(tx, scope, team, &input, now).await {
            Ok((_, id)) => ids.push(id),
            // A person of a region the team does not cover is left out.
            Err(StoreError::Invalid(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(ids)
}

/// Community services at the station during the incident, tagged with it.
async fn services_during(
    state: &AppState,
    tx: &mut shegong_store::Conn,
    (scope, today): (&Scope, NaiveDate),
    station: &str,
    incident: &str,
) -> anyhow::Result<()> {
    let viewer = Viewer {
        scope: scope.clone(),
        user_id: BY.into(),
        sees_protected: false,
        today,
    };
    for (ago, title, times) in [(39, "安置点心理疏导", 46), (38, "受灾困难群众走访", 23)]
    {
        let service = ServiceInput {
            kind: "community".into(),
            domain: "social_assistance".into(),
            station_id: Some(station.to_owned()),
            title: title.into(),
            served_on: (today - Duration::days(ago)).to_string(),
            duration_minutes: 240,
            person_times: times,
            workers: "荷塘区应急社会工作服务队".into(),
            incident_id: Some(incident.to_owned()),
            ..Default::default()
        };
        services::create(tx, &viewer, &state.keys, &service, BY, state.now()).await?;
    }
    Ok(())
}

pub async fn seed(state: &AppState) -> anyhow::Result<()> {
    let now = state.now();
    let today = NaiveDate::parse_from_str(&shegong_web::ui::forms::today(now), "%Y-%m-%d")?;
    let scope = Scope::region(RegionCode::parse(COUNTY)?);
    let mut tx = state.db.begin().await?;
    let station = stations::list(
        &mut tx,
        &scope,
        &stations::Filter::default(),
        PageRequest::default(),
    )
    .await?
    .items
    .into_iter()
    .next();
    let team = TeamInput {
        region: RegionCode::parse(COUNTY)?,
        name: "荷塘区应急社会工作服务队".into(),
        station_id: None,
    };
    let team = teams::create(&mut tx, &scope, &team, BY, now).await?;
    let members = members(&mut tx, &scope, &team, now).await?;
    let started = now - 40 * DAY;
    let input = IncidentInput {
        title: "6·18 暴雨洪涝".into(),
        kind: IncidentKind::NaturalDisaster,
        level: IncidentLevel::Iv,
        response_level: Some(IncidentLevel::Iv),
        regions: vec![
            RegionCode::parse("430203001")?,
            RegionCode::parse("430203002")?,
        ],
        started_at: started,
        state: IncidentState::Warning,
        description:
            "持续强降雨致低洼社区内涝，转移安置群众，社工站开展安置点心理疏导与困难群众探访。"
                .into(),
    };
    let id = incidents::create(&mut tx, &scope, &input, (BY, started))
        .await?
        .id;
    let step = |n: i64| started + n * DAY / 4;
    incidents::transition(
        &mut tx,
        &scope,
        &id,
        IncidentState::Response,
        "启动四级应急响应",
        (BY, step(1)),
    )
    .await?;
    incidents::transition(
        &mut tx,
        &scope,
        &id,
        IncidentState::Handling,
        "安置点设立，服务队进驻",
        (BY, step(2)),
    )
    .await?;
    if !members.is_empty() {
        let d = DeploymentInput {
            team_id: team.clone(),
            member_ids: members.iter().take(6).cloned().collect(),
            role: TeamRole::Execution,
            from: step(2),
            to: step(2) + 3 * DAY,
            note: "安置点值守、心理疏导、物资发放".into(),
        };
        incidents::deploy(&mut tx, &scope, &id, &d, (BY, step(2))).await?;
    }
    if let Some(s) = &station {
        services_during(state, &mut tx, (&scope, today), &s.id, &id).await?;
    }
    incidents::transition(
        &mut tx,
        &scope,
        &id,
        IncidentState::Recovery,
        "转入灾后恢复",
        (BY, step(20)),
    )
    .await?;
    incidents::transition(
        &mut tx,
        &scope,
        &id,
        IncidentState::Closed,
        "群众全部返家，响应终止",
        (BY, step(40)),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
