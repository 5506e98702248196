//! The to-do queue is read from the records: after any change it holds exactly what the sources
//! say, and an item leaves as soon as its source is done.

use chrono::NaiveDate;
use shegong_domain::people::{AssessmentDomain, RiskTier};
use shegong_store::crypto::{Algorithm, KeyRing};
use shegong_store::people::cases::{self, Actor, OpenCase, PlannedService};
use shegong_store::people::residents::{self, ResidentInput, Viewer};
use shegong_store::people::services::{self, ServiceInput};
use shegong_store::todo::{self, Kind, Who};

use super::*;

const NOW: i64 = 1_780_000_000_000;
const TODAY: &str = "2026-03-01";

fn viewer(region: &str, user: &str) -> Viewer {
    Viewer {
        scope: scope(region),
        user_id: user.into(),
        sees_protected: false,
        today: NaiveDate::parse_from_str(TODAY, "%Y-%m-%d").unwrap(),
    }
}

fn who(v: &Viewer, writes: bool, approves: bool) -> Who {
    Who {
        viewer: v.clone(),
        now: NOW,
        writes,
        approves,
        supervises: false,
    }
}

/// The ids of one kind in the queue (all of them: the tests keep each kind under ten).
async fn ids(db: &Db, w: &Who, kind: Kind) -> Vec<String> {
    let mut c = db.read().await.unwrap();
    let queue = todo::queue(&mut c, w).await.unwrap();
    let (n, _) = todo::total(&mut c, w).await.unwrap();
    assert_eq!(
        n,
        queue.iter().map(|g| g.count).sum::<i64>(),
        "the bell counts what the queue holds"
    );
    let mut ids: Vec<String> = queue
        .into_iter()
        .filter(|g| g.kind == kind)
        .flat_map(|g| {
            assert_eq!(g.count, i64::try_from(g.items.len()).unwrap());
            g.items.into_iter().map(|i| i.id)
        })
        .collect();
    ids.sort();
    ids
}

fn person(name: &str, worker: &str, registered: &str) -> ResidentInput {
    ResidentInput {
        region: Some(code("430202001")),
        name: name.into(),
        birth_date: "1950-05-05".into(),
        risk_tier: "general".into(),
        legal_basis: "statutory_duty".into(),
        registered_on: registered.into(),
        worker_user_id: Some(worker.into()),
        ..Default::default()
    }
}

fn visit(resident: &str, on: &str) -> ServiceInput {
    ServiceInput {
        kind: "visit".into(),
        domain: "elderly".into(),
        resident_id: Some(resident.into()),
        served_on: on.into(),
        duration_minutes: 30,
        person_times: 1,
        method: Some("home".into()),
        workers: "王芳".into(),
        notes: "身体状况稳定".into(),
        ..Default::default()
    }
}

/// What the records say: the worker's own active residents due within a week of today.
async fn due_of(db: &Db, worker: &str) -> Vec<String> {
    let mut c = db.read().await.unwrap();
    let rows: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT id, next_visit_due, worker_user_id FROM residents WHERE status = 'active'",
    )
    .fetch_all(&mut *c)
    .await
    .unwrap();
    let mut ids: Vec<String> = rows
        .into_iter()
        .filter(|(_, due, w)| w.as_deref() == Some(worker) && due.as_str() <= "2026-03-08")
        .map(|(id, _, _)| id)
        .collect();
    ids.sort();
    ids
}

db_test!(visits_in_the_queue_follow_the_schedule, |db| {
    let k = KeyRing::from_spec(&KeyRing::generate_spec(Algorithm::Aes256Gcm)).unwrap();
    let worker = add_user(&db, "sw1", Role::SocialWorker, "430202001").await;
    let other = add_user(&db, "sw2", Role::SocialWorker, "430202001").await;
    let v = viewer("430202001", &worker);
    let w = who(&v, true, false);
    // Eight residents registered on scattered days, half of them visited on a scattered day
    // since: a small linear congruential sequence keeps the run repeatable.
    let mut seed: u64 = 7;
    let mut next = |m: u64| {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        (seed >> 33) % m
    };
    let mut all = Vec::new();
    let mut tx = db.begin().await.unwrap();
    for n in 0..8 {
        let registered = format!("2025-{:02}-{:02}", 1 + next(12), 1 + next(28));
        let owner = if n % 4 == 3 { &other } else { &worker };
        let id = residents::create(
            &mut tx,
            &v,
            &k,
            &person(&format!("老人{n}"), owner, &registered),
            "t",
            NOW,
        )
        .await
        .unwrap();
        if next(2) == 0 {
            let on = format!("2026-0{}-{:02}", 1 + next(2), 1 + next(28));
            services::create(&mut tx, &v, &k, &visit(&id, &on), "t", NOW)
                .await
                .unwrap();
        }
        all.push(id);
    }
    tx.commit().await.unwrap();
    let want = due_of(&db, &worker).await;
    assert!(!want.is_empty(), "some residents are due");
    assert_eq!(ids(&db, &w, Kind::Visit).await, want);
    // Visiting every due resident today takes them all out of the queue.
    let mut tx = db.begin().await.unwrap();
    for id in &want {
        services::create(&mut tx, &v, &k, &visit(id, TODAY), "t", NOW)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    assert!(
        ids(&db, &w, Kind::Visit).await.is_empty(),
        "visited, so gone"
    );
    assert!(due_of(&db, &worker).await.is_empty());
    // Another worker's residents never reach this queue, nor theirs this one.
    let theirs = who(&viewer("430202001", &other), true, false);
    assert!(
        ids(&db, &theirs, Kind::Visit)
            .await
            .iter()
            .all(|id| all.contains(id))
    );
    // Out of scope: a worker of another township sees nothing of this one.
    let far = who(&viewer("430202002", &worker), true, false);
    assert!(ids(&db, &far, Kind::Visit).await.is_empty());
});

db_test!(a_returned_plan_moves_between_the_two_queues, |db| {
    let k = KeyRing::from_spec(&KeyRing::generate_spec(Algorithm::Aes256Gcm)).unwrap();
    let worker = add_user(&db, "sw1", Role::SocialWorker, "430202001").await;
    let sup = add_user(&db, "sup1", Role::Supervisor, "430202").await;
    let v = viewer("430202001", &worker);
    let sv = viewer("430202", &sup);
    let me = Actor {
        user_id: worker.clone(),
        name: "sw1".into(),
    };
    let boss = Actor {
        user_id: sup.clone(),
        name: "sup1".into(),
    };
    let mine = who(&v, true, false);
    let approver = who(&sv, false, true);
    let mut tx = db.begin().await.unwrap();
    let rid = residents::create(&mut tx, &v, &k, &person("王大爷", &worker, TODAY), "t", NOW)
        .await
        .unwrap();
    let open = OpenCase {
        resident_id: rid,
        station_id: None,
        worker_user_id: Some(worker.clone()),
        supervisor_user_id: Some(sup.clone()),
        problem: "独居，行动不便".into(),
        opened_on: TODAY.into(),
    };
    let id = cases::open(&mut tx, &v, &k, &open, &me, NOW).await.unwrap();
    let scores: Vec<_> = AssessmentDomain::ALL.iter().map(|d| (*d, 2)).collect();
    cases::assess(
        &mut tx,
        &v,
        &k,
        &id,
        &scores,
        RiskTier::Key,
        "需要助餐",
        &me,
        NOW,
    )
    .await
    .unwrap();
    let plan = [PlannedService {
        kind: "visit".into(),
        per_month: 4,
    }];
    cases::submit_plan(&mut tx, &v, &k, &id, "每周探访", &plan, &me, NOW)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        ids(&db, &approver, Kind::PlanApproval).await,
        std::slice::from_ref(&id)
    );
    assert!(
        ids(&db, &who(&v, true, true), Kind::PlanApproval)
            .await
            .is_empty(),
        "never one's own plan to approve"
    );
    assert!(ids(&db, &mine, Kind::PlanReturned).await.is_empty());

    let mut tx = db.begin().await.unwrap();
    cases::decide(
        &mut tx,
        &sv,
        &k,
        &id,
        false,
        "目标不具体",
        &boss,
        TODAY,
        NOW + 1,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert!(ids(&db, &approver, Kind::PlanApproval).await.is_empty());
    assert_eq!(
        ids(&db, &mine, Kind::PlanReturned).await,
        std::slice::from_ref(&id)
    );

    let mut tx = db.begin().await.unwrap();
    cases::submit_plan(
        &mut tx,
        &v,
        &k,
        &id,
        "每周二探访、每日助餐",
        &plan,
        &me,
        NOW + 2,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert!(
        ids(&db, &mine, Kind::PlanReturned).await.is_empty(),
        "resubmitted"
    );
    assert_eq!(
        ids(&db, &approver, Kind::PlanApproval).await,
        std::slice::from_ref(&id)
    );

    let mut tx = db.begin().await.unwrap();
    cases::decide(&mut tx, &sv, &k, &id, true, "同意", &boss, TODAY, NOW + 3)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(ids(&db, &approver, Kind::PlanApproval).await.is_empty());
    assert!(ids(&db, &mine, Kind::PlanReturned).await.is_empty());
    // A supervisor of another county sees none of it.
    let elsewhere = who(&viewer("430203", &sup), false, true);
    assert!(ids(&db, &elsewhere, Kind::PlanApproval).await.is_empty());
});

db_test!(every_source_reads_on_both_databases, |db| {
    // Every kind applies to this reader; for a region scope and for an organisation's.
    let user = add_user(&db, "admin1", Role::CivilAffairsAdmin, "4302").await;
    let mut everything = who(&viewer("4302", &user), true, true);
    everything.supervises = true;
    let mut c = db.read().await.unwrap();
    assert!(todo::queue(&mut c, &everything).await.unwrap().is_empty());
    let mut agency = everything.clone();
    agency.viewer.scope.org = Some(uuid::Uuid::nil());
    assert!(todo::queue(&mut c, &agency).await.unwrap().is_empty());
    assert_eq!(todo::total(&mut c, &agency).await.unwrap(), (0, 0));
});

db_test!(a_report_waits_for_its_unit_then_for_the_level_above, |db| {
    use shegong_domain::reports::Action;
    use shegong_store::reports::{self as rp, Actor};
    let user = add_user(&db, "rep1", Role::CivilAffairsAdmin, "430202001").await;
    let unit = who(&viewer("430202001", &user), true, false);
    let county = who(&viewer("430202", &user), true, false);
    let city = who(&viewer("4302", &user), true, false);
    let mut tx = db.begin().await.unwrap();
    let id = rp::open(
        &mut tx,
        &scope("430202001"),
        "station_monthly",
        &code("430202001"),
        "2026-01",
        NOW,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        ids(&db, &unit, Kind::Report).await,
        std::slice::from_ref(&id),
        "a draft to submit"
    );
    assert!(
        ids(&db, &county, Kind::Report).await.is_empty(),
        "not yet the county's"
    );
    let mut tx = db.begin().await.unwrap();
    let by = Actor {
        user_id: "rep1",
        name: "rep1",
        at: NOW,
    };
    rp::act(&mut tx, &scope("430202001"), &id, Action::Submit, "", &by)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(ids(&db, &unit, Kind::Report).await.is_empty(), "submitted");
    assert_eq!(
        ids(&db, &county, Kind::Report).await,
        std::slice::from_ref(&id),
        "the county reviews it"
    );
    assert!(
        ids(&db, &city, Kind::Report).await.is_empty(),
        "two levels up: not the city's work"
    );
});
