//! Issue 16 item 2: emergency teams (staff and volunteers), incidents with their state machine
//! and timeline, deployments that never overlap for one person, and service records tagged with
//! an incident counted in its figures and in the usual statistics. Both databases.

#[allow(unused_imports)]
use super::*;

use shegong_domain::FieldError;
use shegong_domain::emergency::{IncidentKind, IncidentLevel, IncidentState, TeamRole};
use shegong_store::StoreError;
use shegong_store::emergency::incidents::{self, DeploymentInput, IncidentInput};
use shegong_store::emergency::teams::{self, MemberInput, TeamInput};
use shegong_store::people::residents::Viewer;
use shegong_store::people::services::{self, ServiceInput};
use shegong_store::statistics::counters::{self, Dim, Regions};
use shegong_store::volunteers::registry;
use shegong_store::workforce::staff;

use super::evaluations::{NOW, invalid, write};
use super::volunteers::{keys, today, volunteer};

const COUNTY: &str = "430202";
const HOUR: i64 = 3_600_000;

async fn setup(db: &Db) -> (String, String, String) {
    let k = keys();
    let mut tx = db.begin().await.unwrap();
    let mut s = super::staff::input();
    s.region = Some(code("430202001"));
    let staff_id = staff::create(&mut tx, &scope(COUNTY), &k, &s, NOW)
        .await
        .unwrap();
    let v = volunteer("430202001", "刘思雨", "430202198504120031", "1985-04-12");
    let vol_id = registry::create(&mut tx, &scope(COUNTY), &k, &v, today(), "t", NOW)
        .await
        .unwrap();
    let team = TeamInput {
        region: code(COUNTY),
        name: "芦淞区应急社会工作服务队".into(),
        station_id: None,
    };
    let team_id = teams::create(&mut tx, &scope(COUNTY), &team, "t", NOW)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    (staff_id, vol_id, team_id)
}

async fn add(db: &Db, team: &str, input: MemberInput) -> Result<String, StoreError> {
    let (team, input) = (team.to_owned(), input);
    write(db, move |c| {
        Box::pin(async move {
            teams::add_member(c, &scope(COUNTY), &team, &input, NOW)
                .await
                .map(|(_, id)| id)
        })
    })
    .await
}

fn incident(regions: &[&str]) -> IncidentInput {
    IncidentInput {
        title: "7·15 暴雨洪涝".into(),
        kind: IncidentKind::NaturalDisaster,
        level: IncidentLevel::Iii,
        response_level: Some(IncidentLevel::Iv),
        regions: regions.iter().map(|r| code(r)).collect(),
        started_at: NOW,
        state: IncidentState::Warning,
        description: String::new(),
    }
}

async fn open(db: &Db, regions: &[&str]) -> String {
    let input = incident(regions);
    write(db, move |c| {
        Box::pin(async move {
            incidents::create(c, &scope(COUNTY), &input, ("t", NOW))
                .await
                .map(|i| i.id)
        })
    })
    .await
    .unwrap()
}

async fn mv(db: &Db, id: &str, to: IncidentState) -> Result<(), StoreError> {
    let id = id.to_owned();
    write(db, move |c| {
        Box::pin(async move {
            incidents::transition(c, &scope(COUNTY), &id, to, "note", ("t", NOW + 1))
                .await
                .map(|_| ())
        })
    })
    .await
}

async fn deploy(
    db: &Db,
    incident: &str,
    team: &str,
    members: &[&str],
    (from, to): (i64, i64),
) -> Result<String, StoreError> {
    let (incident, input) = (
        incident.to_owned(),
        DeploymentInput {
            team_id: team.to_owned(),
            member_ids: members.iter().map(|s| (*s).to_owned()).collect(),
            role: TeamRole::Execution,
            from,
            to,
            note: String::new(),
        },
    );
    write(db, move |c| {
        Box::pin(async move {
            incidents::deploy(c, &scope(COUNTY), &incident, &input, ("t", NOW)).await
        })
    })
    .await
}

db_test!(incident_states_move_by_the_machine_and_are_scoped, |db| {
    let id = open(&db, &["430202001", "430202002"]).await;
    let mut c = db.read().await.unwrap();
    let i = incidents::get(&mut c, &scope(COUNTY), &id).await.unwrap();
    assert_eq!(
        i.region_code, COUNTY,
        "the common ancestor of the affected regions"
    );
    assert_eq!(i.state, IncidentState::Warning);
    assert_eq!(
        incidents::regions(&mut c, &scope(COUNTY), &id)
            .await
            .unwrap(),
        vec!["430202001".to_owned(), "430202002".to_owned()]
    );
    // Out of scope: not found, for reads and writes.
    assert!(matches!(
        incidents::get(&mut c, &scope("430203"), &id).await,
        Err(StoreError::NotFound)
    ));
    // An organisation's scope (its stations) holds no incident.
    let org = Scope {
        region: None,
        org: Some("0190f1c2-0000-7000-8000-000000000000".parse().unwrap()),
    };
    assert!(matches!(
        incidents::get(&mut c, &org, &id).await,
        Err(StoreError::NotFound)
    ));
    drop(c);
    let r = write(&db, {
        let id = id.clone();
        move |c| {
            Box::pin(async move {
                incidents::transition(
                    c,
                    &scope("430203"),
                    &id,
                    IncidentState::Response,
                    "",
                    ("t", NOW),
                )
                .await
            })
        }
    })
    .await;
    assert!(matches!(r, Err(StoreError::NotFound)));
    // Skipping a state is refused, naming the state.
    assert_eq!(
        invalid(mv(&db, &id, IncidentState::Recovery).await),
        FieldError::new("state", "emergency.transition_refused")
    );
    for s in [
        IncidentState::Response,
        IncidentState::Handling,
        IncidentState::Recovery,
        IncidentState::Closed,
    ] {
        mv(&db, &id, s).await.unwrap();
    }
    assert_eq!(
        invalid(mv(&db, &id, IncidentState::Response).await),
        FieldError::new("state", "emergency.incident_closed")
    );
    let mut c = db.read().await.unwrap();
    let events = incidents::events(&mut c, &scope(COUNTY), &id)
        .await
        .unwrap();
    let states: Vec<&str> = events.iter().map(|e| e.to_state.as_str()).collect();
    assert_eq!(
        states,
        ["warning", "response", "handling", "recovery", "closed"]
    );
    assert_eq!(
        events.get(1).and_then(|e| e.from_state.as_deref()),
        Some("warning")
    );
    drop(c);
    // Affected regions outside the writer's scope are refused, nothing written.
    let mut bad = incident(&["430202001", "430203001"]);
    bad.title = "越界".into();
    let r = write(&db, move |c| {
        Box::pin(async move { incidents::create(c, &scope(COUNTY), &bad, ("t", NOW)).await })
    })
    .await;
    assert_eq!(
        invalid(r),
        FieldError::new("regions", "station.region_out_of_scope")
    );
});

db_test!(deployments_never_overlap_for_one_person, |db| {
    let (staff_id, vol_id, team) = setup(&db).await;
    let s = add(
        &db,
        &team,
        MemberInput {
            staff_id: Some(staff_id.clone()),
            role: "assessment".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let v = add(
        &db,
        &team,
        MemberInput {
            volunteer_id: Some(vol_id.clone()),
            role: "logistics".into(),
            reserve: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    // The same person twice, an unknown group, a volunteer out of scope: refused, named.
    let again = MemberInput {
        staff_id: Some(staff_id),
        role: "execution".into(),
        ..Default::default()
    };
    assert_eq!(
        invalid(add(&db, &team, again).await),
        FieldError::new("staff_id", "team.already_member")
    );
    let odd = MemberInput {
        volunteer_id: Some("nobody".into()),
        role: "cooking".into(),
        ..Default::default()
    };
    assert_eq!(
        invalid(add(&db, &team, odd).await),
        FieldError::new("role", "emergency.role_unknown")
    );
    let mut c = db.read().await.unwrap();
    let t = teams::get(&mut c, &scope(COUNTY), &team).await.unwrap();
    assert_eq!((t.members, t.reserves), (1, 1));
    assert!(matches!(
        teams::get(&mut c, &scope("430203"), &team).await,
        Err(StoreError::NotFound)
    ));
    drop(c);

    let a = open(&db, &["430202001"]).await;
    let b = open(&db, &["430202002"]).await;
    deploy(&db, &a, &team, &[&s, &v], (NOW, NOW + 30 * HOUR))
        .await
        .unwrap();
    // The same member in an overlapping period, to this or another incident: refused.
    for inc in [&a, &b] {
        assert_eq!(
            invalid(deploy(&db, inc, &team, &[&v], (NOW + 29 * HOUR, NOW + 40 * HOUR)).await),
            FieldError::new("member_ids", "emergency.member_overlaps")
        );
    }
    // Back to back is fine; to before from, a member of no team, no members: named.
    deploy(&db, &b, &team, &[&v], (NOW + 30 * HOUR, NOW + 40 * HOUR))
        .await
        .unwrap();
    assert_eq!(
        invalid(deploy(&db, &b, &team, &[&s], (NOW + 50 * HOUR, NOW + 45 * HOUR)).await),
        FieldError::new("to", "emergency.to_before_from")
    );
    assert_eq!(
        invalid(deploy(&db, &b, &team, &["x"], (NOW, NOW + HOUR)).await),
        FieldError::new("member_ids", "emergency.member_not_in_team")
    );
    assert_eq!(
        invalid(deploy(&db, &b, &team, &[], (NOW, NOW + HOUR)).await),
        FieldError::new("member_ids", "form.required")
    );
    // Nothing half-written: a deployment with one good and one overlapping member is refused whole.
    assert_eq!(
        invalid(
            deploy(
                &db,
                &b,
                &team,
                &[&s, &v],
                (NOW + 35 * HOUR, NOW + 36 * HOUR)
            )
            .await
        ),
        FieldError::new("member_ids", "emergency.member_overlaps")
    );
    let mut c = db.read().await.unwrap();
    let f = incidents::figures(&mut c, &scope(COUNTY), &b)
        .await
        .unwrap();
    assert_eq!(
        (f.deployments, f.deployed_members, f.person_days),
        (1, 1, 1)
    );
    let f = incidents::figures(&mut c, &scope(COUNTY), &a)
        .await
        .unwrap();
    assert_eq!(
        (f.deployments, f.deployed_members, f.person_days),
        (1, 2, 4)
    );
    let list = incidents::deployments(&mut c, &scope(COUNTY), &a)
        .await
        .unwrap();
    assert_eq!(list.first().map(|d| d.members.len()), Some(2));
    drop(c);
    // A closed incident takes no new deployments.
    mv(&db, &b, IncidentState::Closed).await.unwrap();
    assert_eq!(
        invalid(deploy(&db, &b, &team, &[&s], (NOW + 100 * HOUR, NOW + 101 * HOUR)).await),
        FieldError::new("state", "emergency.incident_closed")
    );
});

fn writer() -> Viewer {
    Viewer {
        scope: scope(COUNTY),
        user_id: "u-writer".into(),
        sees_protected: false,
        today: today(),
    }
}

async fn service(db: &Db, incident: Option<&str>) -> Result<String, StoreError> {
    let input = ServiceInput {
        kind: "visit".into(),
        domain: "elderly".into(),
        resident_id: Some("r1".into()),
        method: Some("home".into()),
        title: "受灾老人探访".into(),
        served_on: "2026-05-10".into(),
        duration_minutes: 90,
        person_times: 1,
        workers: "王芳".into(),
        incident_id: incident.map(Into::into),
        ..Default::default()
    };
    write(db, move |c| {
        Box::pin(async move { services::create(c, &writer(), &keys(), &input, "t", NOW).await })
    })
    .await
}

db_test!(services_tagged_with_an_incident_roll_up, |db| {
    let mut tx = db.begin().await.unwrap();
    shegong_store::sql::Sql::new("INSERT INTO residents (id, region_code, name, name_key, birth_date, risk_tier, legal_basis, status, visit_interval_days, next_visit_due, registered_on, created_by, created_at, updated_at) VALUES ('r1', ")
        .bind("430202001").push(", '周奶奶', 'x', '1940-01-01', 'general', 'consent', 'active', 90, '2026-01-01', '2025-01-01', 'test', ").bind(NOW).push(", ").bind(NOW).push(")")
        .execute(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
    let id = open(&db, &["430202001"]).await;
    let mut c = db.read().await.unwrap();
    let before = counters::read(
        &mut c,
        &scope(COUNTY),
        Regions::One(COUNTY),
        Dim::Kind,
        "2026-05",
        "2026-05",
    )
    .await
    .unwrap();
    drop(c);
    service(&db, Some(&id)).await.unwrap();
    service(&db, None).await.unwrap();
    let mut c = db.read().await.unwrap();
    let f = incidents::figures(&mut c, &scope(COUNTY), &id)
        .await
        .unwrap();
    assert_eq!((f.services, f.person_times, f.minutes), (1, 1, 90));
    let days = incidents::services_by_day(&mut c, &scope(COUNTY), &id)
        .await
        .unwrap();
    assert_eq!(days.len(), 1);
    assert_eq!(
        days.first().map(|d| d.served_on.as_str()),
        Some("2026-05-10")
    );
    // Counted in the usual statistics as well.
    let after = counters::read(
        &mut c,
        &scope(COUNTY),
        Regions::One(COUNTY),
        Dim::Kind,
        "2026-05",
        "2026-05",
    )
    .await
    .unwrap();
    let pt = |rows: &[counters::Row]| {
        rows.iter()
            .filter(|r| r.key == "visit")
            .map(|r| r.person_times)
            .sum::<i64>()
    };
    assert_eq!(pt(&after) - pt(&before), 2);
    drop(c);
    // An unknown incident, or one out of scope or closed, is refused on incident_id.
    assert_eq!(
        invalid(service(&db, Some("nope")).await),
        FieldError::new("incident_id", "service.incident_unknown")
    );
    mv(&db, &id, IncidentState::Closed).await.unwrap();
    assert_eq!(
        invalid(service(&db, Some(&id)).await),
        FieldError::new("incident_id", "service.incident_closed")
    );
});

db_test!(concurrent_deployments_of_one_person_take_turns, |db| {
    let (staff_id, _, team) = setup(&db).await;
    let m = add(
        &db,
        &team,
        MemberInput {
            staff_id: Some(staff_id),
            role: "execution".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let a = open(&db, &["430202001"]).await;
    let b = open(&db, &["430202002"]).await;
    let input = |from: i64| DeploymentInput {
        team_id: team.clone(),
        member_ids: vec![m.clone()],
        role: TeamRole::Execution,
        from,
        to: from + 10 * HOUR,
        note: String::new(),
    };
    // The first writer holds its transaction open while the second tries the same person in
    // an overlapping period: the second waits for the first and is then refused.
    let mut first = db.begin().await.unwrap();
    incidents::deploy(&mut first, &scope(COUNTY), &a, &input(NOW), ("t", NOW))
        .await
        .unwrap();
    let (db2, second_input, b2) = (db.clone(), input(NOW + 5 * HOUR), b.clone());
    let second = tokio::spawn(async move {
        let mut tx = db2.begin().await.unwrap();
        let r = incidents::deploy(&mut tx, &scope(COUNTY), &b2, &second_input, ("t", NOW)).await;
        if r.is_ok() {
            tx.commit().await.unwrap();
        }
        r
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    first.commit().await.unwrap();
    assert_eq!(
        invalid(second.await.unwrap()),
        FieldError::new("member_ids", "emergency.member_overlaps")
    );
    let mut c = db.read().await.unwrap();
    let f = incidents::figures(&mut c, &scope(COUNTY), &b)
        .await
        .unwrap();
    assert_eq!(f.deployments, 0);
});
