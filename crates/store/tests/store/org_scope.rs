//! Organisation scope on people, cases and services (issue 11 item 2), the protected
//! duplicate candidate (item 6) and creation keys (item 7). Two agencies X and Y run stations in
//! two townships of the same county; Y's accounts see only the people of Y's station.

#[allow(unused_imports)]
use super::*;

use chrono::NaiveDate;
use shegong_domain::network::station::Status;
use shegong_store::admin::users::NewUser;
use shegong_store::crypto::{Algorithm, KeyRing};
use shegong_store::people::cases::{self, Actor, OpenCase};
use shegong_store::people::duplicates;
use shegong_store::people::idempotency::{self, Claim};
use shegong_store::people::residents::{self, Filter, ResidentInput, Viewer};
use shegong_store::people::services::{self, ServiceInput};
use shegong_store::people::visit_rules;
use shegong_store::{PageRequest, StoreError};

use super::stations::{agency, input, station};

const NOW: i64 = 1_780_000_000_000;
const COUNTY: &str = "430202";
const TOWN_X: &str = "430202001";
const TOWN_Y: &str = "430202002";

fn keys() -> KeyRing {
    KeyRing::from_spec(&KeyRing::generate_spec(Algorithm::Aes256Gcm)).unwrap()
}

fn org_scope(region: &str, org: Option<&str>) -> Scope {
    Scope {
        region: Scope::parse_region(region).unwrap(),
        org: org.map(|o| o.parse().unwrap()),
    }
}

async fn account(db: &Db, username: &str, role: Role, scope: Scope) -> String {
    let mut tx = db.begin().await.unwrap();
    let id = shegong_store::admin::users::create(
        &mut tx,
        &NewUser {
            username: username.into(),
            display_name: username.into(),
            role,
            scope,
            password_hash: "$argon2id$test".into(),
            must_change_password: false,
            is_demo: false,
        },
        NOW,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

fn viewer(scope: Scope, user: &str) -> Viewer {
    Viewer {
        scope,
        user_id: user.into(),
        sees_protected: false,
        today: NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
    }
}

fn person(region: &str, name: &str, birth: &str, station: Option<&str>) -> ResidentInput {
    ResidentInput {
        region: Some(code(region)),
        name: name.into(),
        birth_date: birth.into(),
        risk_tier: "general".into(),
        legal_basis: "statutory_duty".into(),
        registered_on: "2026-01-01".into(),
        station_id: station.map(str::to_owned),
        ..Default::default()
    }
}

fn visit(resident: &str) -> ServiceInput {
    ServiceInput {
        kind: "visit".into(),
        domain: "elderly".into(),
        resident_id: Some(resident.into()),
        served_on: "2026-05-20".into(),
        duration_minutes: 30,
        person_times: 1,
        method: Some("home".into()),
        workers: "王芳".into(),
        ..Default::default()
    }
}

fn actor(id: &str) -> Actor {
    Actor {
        user_id: id.into(),
        name: "tester".into(),
    }
}

fn field_of(r: Result<String, StoreError>) -> String {
    match r {
        Err(StoreError::Invalid(e)) => e.field.to_owned(),
        other => panic!("expected a field error, got {other:?}"),
    }
}

db_test!(organisation_scope_limits_people_cases_and_services, |db| {
    let k = keys();
    let x = agency(&db, "阳光社工", COUNTY).await;
    let y = agency(&db, "启航社工", COUNTY).await;
    let sx = station(
        &db,
        COUNTY,
        &input(TOWN_X, "阳光社工站", Status::Operating, Some(&x)),
    )
    .await;
    let sy = station(
        &db,
        COUNTY,
        &input(TOWN_Y, "启航社工站", Status::Operating, Some(&y)),
    )
    .await;
    // The county's civil-affairs office registers people at both stations (and one without).
    let admin = account(
        &db,
        "county_admin",
        Role::CivilAffairsAdmin,
        org_scope(COUNTY, None),
    )
    .await;
    let county = viewer(org_scope(COUNTY, None), &admin);
    let mut ids = Vec::new();
    for (town, name, st) in [
        (TOWN_X, "张建国", Some(sx.as_str())),
        (TOWN_Y, "李秀英", Some(sy.as_str())),
        (TOWN_X, "王无站", None),
    ] {
        let mut tx = db.begin().await.unwrap();
        let r = residents::create(
            &mut tx,
            &county,
            &k,
            &person(town, name, "1950-03-01", st),
            "t",
            NOW,
        )
        .await
        .unwrap();
        let c = cases::open(
            &mut tx,
            &county,
            &k,
            &OpenCase {
                resident_id: r.clone(),
                station_id: None,
                worker_user_id: None,
                supervisor_user_id: None,
                problem: "独居".into(),
                opened_on: "2026-05-01".into(),
            },
            &actor(&admin),
            NOW,
        )
        .await
        .unwrap();
        let v = services::create(&mut tx, &county, &k, &visit(&r), "t", NOW)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        ids.push((r, c, v));
    }
    let (rx, cx, vx) = ids[0].clone();
    let (ry, cy, vy) = ids[1].clone();
    let (rn, _, _) = ids[2].clone();

    let mut conn = db.read().await.unwrap();
    // The county sees all three.
    let all = residents::list(
        &mut conn,
        &county,
        &Filter::default(),
        PageRequest::new(None, None),
    )
    .await
    .unwrap();
    assert_eq!(all.total, 3);

    let x_worker = account(
        &db,
        "x_worker",
        Role::SocialWorker,
        org_scope(COUNTY, Some(&x)),
    )
    .await;
    for (name, role) in [
        ("y_manager", Role::AgencyManager),
        ("y_worker", Role::SocialWorker),
        ("y_evaluator", Role::Evaluator),
    ] {
        let uid = account(&db, name, role, org_scope(COUNTY, Some(&y))).await;
        let v = viewer(org_scope(COUNTY, Some(&y)), &uid);
        // Lists, exports and counts hold Y's only.
        let page = residents::list(
            &mut conn,
            &v,
            &Filter::default(),
            PageRequest::new(None, None),
        )
        .await
        .unwrap();
        assert_eq!(
            (
                page.total,
                page.items.iter().map(|r| r.id.clone()).collect::<Vec<_>>()
            ),
            (1, vec![ry.clone()]),
            "{name}"
        );
        // The export's selection, and its pages read by id: neither reaches past the scope,
        // even when handed another organisation's file.
        let export = residents::list_ids(&mut conn, &v, &Filter::default(), 1000)
            .await
            .unwrap();
        assert_eq!(export, vec![ry.clone()], "{name}");
        let page = residents::page_of(&mut conn, &v, &[rx.clone(), ry.clone()])
            .await
            .unwrap();
        assert_eq!(
            page.iter().map(|r| r.id.clone()).collect::<Vec<_>>(),
            vec![ry.clone()],
            "{name}"
        );
        let due = visit_rules::due_counts(&mut conn, &v, None).await.unwrap();
        let due_all = visit_rules::due_counts(&mut conn, &county, None)
            .await
            .unwrap();
        assert!(due.week <= 1 && due_all.week >= due.week, "{name}");
        let (_, elderly) = visit_rules::elderly_visit_rate(&mut conn, &v, "2026-05")
            .await
            .unwrap();
        assert!(elderly <= 1, "{name}");
        // X's resident, case and service are "not found".
        for r in [&rx, &rn] {
            assert!(matches!(
                residents::get(&mut conn, &v, r).await,
                Err(StoreError::NotFound)
            ));
        }
        assert!(residents::get(&mut conn, &v, &ry).await.is_ok());
        assert!(matches!(
            residents::tier_history(&mut conn, &v, &rx).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            cases::get(&mut conn, &v, &cx).await,
            Err(StoreError::NotFound)
        ));
        assert!(cases::get(&mut conn, &v, &cy).await.is_ok());
        let cl = cases::list(
            &mut conn,
            &v,
            &cases::Filter::default(),
            PageRequest::new(None, None),
        )
        .await
        .unwrap();
        assert_eq!(
            cl.items.iter().map(|c| c.id.clone()).collect::<Vec<_>>(),
            vec![cy.clone()],
            "{name}"
        );
        assert!(matches!(
            services::get(&mut conn, &v, &vx).await,
            Err(StoreError::NotFound)
        ));
        let sl = services::list(
            &mut conn,
            &v,
            &services::Filter::default(),
            PageRequest::new(None, None),
        )
        .await
        .unwrap();
        assert_eq!(
            (
                sl.total,
                sl.items.iter().map(|s| s.id.clone()).collect::<Vec<_>>()
            ),
            (1, vec![vy.clone()]),
            "{name}"
        );
        let se = services::list_ids(&mut conn, &v, &services::Filter::default(), 1000)
            .await
            .unwrap();
        assert_eq!(se, vec![vy.clone()], "{name}");
        let page = services::page_of(&mut conn, &v, &[vx.clone(), vy.clone()])
            .await
            .unwrap();
        assert_eq!(
            page.iter().map(|s| s.id.clone()).collect::<Vec<_>>(),
            vec![vy.clone()],
            "{name}"
        );
        // The worker picker offers Y's accounts only.
        let pick = residents::workers(&mut conn, &v.scope).await.unwrap();
        assert!(pick.iter().all(|a| a.id != x_worker), "{name}");
    }
    drop(conn);

    // Writes by Y must create records Y can see.
    let y_uid = account(
        &db,
        "y_writer",
        Role::SocialWorker,
        org_scope(COUNTY, Some(&y)),
    )
    .await;
    let yv = viewer(org_scope(COUNTY, Some(&y)), &y_uid);
    let mut tx = db.begin().await.unwrap();
    // At X's station, or at no station: refused on `station`.
    for st in [Some(sx.as_str()), None] {
        let r = residents::create(
            &mut tx,
            &yv,
            &k,
            &person(TOWN_Y, "赵新", "1960-01-01", st),
            "t",
            NOW,
        )
        .await;
        assert_eq!(field_of(r), "station");
    }
    // With X's worker: refused on `worker`.
    let mut with_x = person(TOWN_Y, "赵新", "1960-01-01", Some(&sy));
    with_x.worker_user_id = Some(x_worker.clone());
    assert_eq!(
        field_of(residents::create(&mut tx, &yv, &k, &with_x, "t", NOW).await),
        "worker"
    );
    // A case of Y's resident at X's station, with X's worker as supervisor: refused.
    let open = |station: Option<&str>, sup: Option<&str>| OpenCase {
        resident_id: ry.clone(),
        station_id: station.map(str::to_owned),
        worker_user_id: None,
        supervisor_user_id: sup.map(str::to_owned),
        problem: "复评".into(),
        opened_on: "2026-05-02".into(),
    };
    assert_eq!(
        field_of(
            cases::open(
                &mut tx,
                &yv,
                &k,
                &open(Some(&sx), None),
                &actor(&y_uid),
                NOW
            )
            .await
        ),
        "station"
    );
    assert_eq!(
        field_of(
            cases::open(
                &mut tx,
                &yv,
                &k,
                &open(None, Some(&x_worker)),
                &actor(&y_uid),
                NOW
            )
            .await
        ),
        "supervisor"
    );
    // A case for X's resident: the resident is unknown to Y.
    let mut of_x = open(None, None);
    of_x.resident_id = rx.clone();
    assert_eq!(
        field_of(cases::open(&mut tx, &yv, &k, &of_x, &actor(&y_uid), NOW).await),
        "resident"
    );
    // A community activity at X's station, or at none: refused on `station`.
    for st in [Some(sx.clone()), None] {
        let activity = ServiceInput {
            kind: "community".into(),
            domain: "elderly".into(),
            station_id: st,
            title: "重阳活动".into(),
            served_on: "2026-05-20".into(),
            duration_minutes: 60,
            person_times: 20,
            workers: "王芳".into(),
            ..Default::default()
        };
        assert_eq!(
            field_of(services::create(&mut tx, &yv, &k, &activity, "t", NOW).await),
            "station"
        );
    }
    // At Y's own station everything works, and Y can read what it created.
    let mine = residents::create(
        &mut tx,
        &yv,
        &k,
        &person(TOWN_Y, "赵新", "1960-01-01", Some(&sy)),
        "t",
        NOW,
    )
    .await
    .unwrap();
    assert!(residents::get(&mut tx, &yv, &mine).await.is_ok());
    let c = cases::open(&mut tx, &yv, &k, &open(None, None), &actor(&y_uid), NOW)
        .await
        .unwrap();
    assert!(cases::get(&mut tx, &yv, &c).await.is_ok());
    tx.commit().await.unwrap();
});

db_test!(duplicates_in_unreadable_files_are_not_described, |db| {
    let k = keys();
    let x = agency(&db, "阳光社工", COUNTY).await;
    let sx = station(
        &db,
        COUNTY,
        &input(TOWN_X, "阳光社工站", Status::Operating, Some(&x)),
    )
    .await;
    let admin = account(
        &db,
        "dup_admin",
        Role::CivilAffairsAdmin,
        org_scope(COUNTY, None),
    )
    .await;
    let county = viewer(org_scope(COUNTY, None), &admin);
    let mut tx = db.begin().await.unwrap();
    // A child under 14 with a station, and one without.
    let child = residents::create(
        &mut tx,
        &county,
        &k,
        &person(TOWN_X, "刘小明", "2018-04-01", Some(&sx)),
        "t",
        NOW,
    )
    .await
    .unwrap();
    let lone = residents::create(
        &mut tx,
        &county,
        &k,
        &person(TOWN_X, "陈小红", "2019-05-01", None),
        "t",
        NOW,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let other = account(
        &db,
        "dup_other",
        Role::SocialWorker,
        org_scope(TOWN_Y, None),
    )
    .await;
    let elsewhere = viewer(org_scope(TOWN_Y, None), &other);
    let mut conn = db.read().await.unwrap();
    let found = duplicates::likely_duplicates(
        &mut conn,
        &elsewhere,
        &k,
        &person(TOWN_Y, "刘小明", "2018-04-01", None),
        None,
    )
    .await
    .unwrap();
    assert_eq!(found.len(), 1);
    let c = &found[0];
    assert_eq!((c.id.as_str(), c.visible), (child.as_str(), false));
    assert!(c.name.is_empty() && c.birth_date.is_empty() && c.region_path.is_empty());
    let ask = c.ask.as_ref().unwrap();
    assert_eq!(ask.station_name.as_deref(), Some("阳光社工站"));
    // Without a station: the county's office, not the township.
    let found = duplicates::likely_duplicates(
        &mut conn,
        &elsewhere,
        &k,
        &person(TOWN_Y, "陈小红", "2019-05-01", None),
        None,
    )
    .await
    .unwrap();
    assert_eq!(found[0].id, lone);
    let office = found[0].ask.as_ref().unwrap().office.clone().unwrap();
    assert!(!office.is_empty());
    let township: (String,) =
        shegong_store::sql::Sql::new("SELECT name FROM regions WHERE code = ")
            .bind(TOWN_X)
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert!(!office.contains(&township.0), "{office}");
    // The county itself opens both: full details.
    let found = duplicates::likely_duplicates(
        &mut conn,
        &county,
        &k,
        &person(TOWN_X, "刘小明", "2018-04-01", None),
        None,
    )
    .await;
    // (A civil-affairs account without the grant cannot open the child either.)
    assert!(
        found
            .unwrap()
            .iter()
            .all(|c| !c.visible && c.name.is_empty())
    );
});

db_test!(creation_keys_return_the_first_record, |db| {
    let uid = account(&db, "key_user", Role::SocialWorker, org_scope(TOWN_X, None)).await;
    let mut tx = db.begin().await.unwrap();
    assert_eq!(
        idempotency::claim_key(&mut tx, &uid, "k-1", "resident", NOW)
            .await
            .unwrap(),
        Claim::New
    );
    idempotency::settle_key(&mut tx, &uid, "k-1", "R1")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = db.begin().await.unwrap();
    assert_eq!(
        idempotency::claim_key(&mut tx, &uid, "k-1", "resident", NOW + 1000)
            .await
            .unwrap(),
        Claim::Done("R1".into())
    );
    // The same key for another kind of record is refused on the field.
    assert!(matches!(
        idempotency::claim_key(&mut tx, &uid, "k-1", "case", NOW + 1000).await,
        Err(StoreError::Invalid(e)) if e.field == "idempotency_key"
    ));
    // After the expiry the key is free again.
    assert_eq!(
        idempotency::claim_key(
            &mut tx,
            &uid,
            "k-1",
            "resident",
            NOW + idempotency::IDEMPOTENCY_TTL_MS + 1
        )
        .await
        .unwrap(),
        Claim::New
    );
    tx.commit().await.unwrap();
    assert!(idempotency::parse_key("").is_err());
    assert!(idempotency::parse_key("has space").is_err());
    assert!(idempotency::parse_key(&"x".repeat(101)).is_err());
});
