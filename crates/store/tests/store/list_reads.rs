//! The list reads of issue 20 item 2: the residents page's count of the files the protection
//! rule hides from a viewer, counted from the restricted files alone, must be the number of
//! matches less the matches the viewer sees, for every filter; and the planner statistics
//! refresh of housekeeping runs on both databases.

use chrono::NaiveDate;
use shegong_store::PageRequest;
use shegong_store::crypto::{Algorithm, KeyRing};
use shegong_store::people::cases::{self, Actor, OpenCase};
use shegong_store::people::residents::{self, Filter, ResidentInput, Viewer};

use super::*;

const NOW: i64 = 1_780_000_000_000;

fn viewer(region: &str, user: &str, sees_protected: bool) -> Viewer {
    Viewer {
        scope: scope(region),
        user_id: user.into(),
        sees_protected,
        today: NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
    }
}

fn person(region: &str, name: &str, birth: &str, tier: &str) -> ResidentInput {
    ResidentInput {
        region: Some(code(region)),
        name: name.into(),
        birth_date: birth.into(),
        risk_tier: tier.into(),
        legal_basis: "statutory_duty".into(),
        registered_on: "2026-01-01".into(),
        ..Default::default()
    }
}

/// Matches of `f` for everyone in the scope, less the matches `v` sees (both exact here).
async fn seen_gap(db: &Db, v: &Viewer, f: &Filter) -> i64 {
    let everyone = Viewer {
        sees_protected: true,
        ..v.clone()
    };
    let mut c = db.read().await.unwrap();
    let page = PageRequest::new(Some(1), Some(200));
    let all = residents::list(&mut c, &everyone, f, page).await.unwrap();
    let seen = residents::list(&mut c, v, f, page).await.unwrap();
    assert!(!all.capped && !seen.capped);
    all.total - seen.total
}

db_test!(hidden_files_are_counted_from_the_restricted_ones, |db| {
    let k = KeyRing::from_spec(&KeyRing::generate_spec(Algorithm::Aes256Gcm)).unwrap();
    let me = add_user(&db, "sw_me", Role::SocialWorker, "430202001").await;
    let admin = add_user(&db, "ca_county", Role::CivilAffairsAdmin, "430202").await;
    let all = viewer("430202", &admin, true);
    let mut tx = db.begin().await.unwrap();
    // Adults (seen), a flagged adult, children (one high-tier), a child I am the worker of,
    // a flagged adult whose case I supervise, a child in the neighbouring township, a child
    // who moved out, and a child in another county (outside the scope).
    let mut ids = Vec::new();
    for (region, name, birth, tier, flagged) in [
        ("430202001", "甲", "1950-01-01", "general", false),
        ("430202001", "乙", "1960-01-01", "high", false),
        ("430202001", "丙", "1970-01-01", "general", true),
        ("430202001", "丁", "2016-01-01", "general", false),
        ("430202001", "戊", "2018-01-01", "high", false),
        ("430202001", "己", "2017-01-01", "general", false),
        ("430202001", "庚", "1980-01-01", "key", true),
        ("430202002", "辛", "2015-01-01", "general", false),
        ("430202001", "壬", "2019-01-01", "general", false),
        ("430203001", "癸", "2019-01-01", "general", false),
    ] {
        let mut p = person(region, name, birth, tier);
        p.protected = flagged;
        if name == "己" {
            p.worker_user_id = Some(me.clone());
        }
        let scope_of = viewer(&region[..6], &admin, true);
        ids.push(
            residents::create(&mut tx, &scope_of, &k, &p, "tester", NOW)
                .await
                .unwrap(),
        );
    }
    let open = OpenCase {
        resident_id: ids[6].clone(),
        station_id: None,
        worker_user_id: None,
        supervisor_user_id: Some(me.clone()),
        problem: "需要跟进".into(),
        opened_on: "2026-05-01".into(),
    };
    let actor = Actor {
        user_id: admin.clone(),
        name: "ca".into(),
    };
    cases::open(&mut tx, &all, &k, &open, &actor, NOW)
        .await
        .unwrap();
    residents::set_status(
        &mut tx,
        &all,
        &ids[8],
        shegong_domain::people::ResidentStatus::MovedOut,
        NOW,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let v = viewer("430202", &me, false);
    let filters = [
        Filter::default(),
        Filter {
            status: Some("all".into()),
            ..Default::default()
        },
        Filter {
            tier: Some("high".into()),
            ..Default::default()
        },
        Filter {
            region: Some(code("430202002")),
            ..Default::default()
        },
        Filter {
            q: Some("丙".into()),
            ..Default::default()
        },
    ];
    // Hidden from me: 丙 (flagged), 丁 and 戊 (children), 辛 (a child next door); with every
    // status also 壬 (moved out); 己 is mine and 庚's case is supervised by me.
    let expected = [4, 5, 1, 1, 1];
    for (f, want) in filters.iter().zip(expected) {
        let mut c = db.read().await.unwrap();
        let hidden = residents::hidden_protected(&mut c, &v, f).await.unwrap();
        drop(c);
        assert_eq!(hidden, want, "{f:?}");
        assert_eq!(hidden, seen_gap(&db, &v, f).await, "{f:?}");
    }
    // Whoever sees protected files has none hidden; a township's worker, only the township's.
    let mut c = db.read().await.unwrap();
    assert_eq!(
        residents::hidden_protected(&mut c, &all, &Filter::default())
            .await
            .unwrap(),
        0
    );
    let township = viewer("430202001", &me, false);
    assert_eq!(
        residents::hidden_protected(&mut c, &township, &Filter::default())
            .await
            .unwrap(),
        3
    );
    drop(c);
    assert_eq!(seen_gap(&db, &township, &Filter::default()).await, 3);
    // A wide scope's newest-first page tests the region as a prefix (`LIKE`); the same order
    // asked for by a sort reads the region range: the same rows in the same order, for
    // residents and for service records.
    let mut tx = db.begin().await.unwrap();
    for id in &ids[..2] {
        let mut visit = shegong_store::people::services::ServiceInput {
            kind: "visit".into(),
            domain: "elderly".into(),
            resident_id: Some(id.clone()),
            served_on: "2026-05-20".into(),
            duration_minutes: 30,
            person_times: 1,
            method: Some("home".into()),
            workers: "王芳".into(),
            ..Default::default()
        };
        for day in ["2026-05-20", "2026-05-21"] {
            visit.served_on = day.into();
            shegong_store::people::services::create(&mut tx, &all, &k, &visit, "t", NOW)
                .await
                .unwrap();
        }
    }
    tx.commit().await.unwrap();
    let mut c = db.read().await.unwrap();
    for (region, want) in [("43", 9), ("4302", 9), ("4303", 0)] {
        let wide = viewer(region, &admin, true);
        let page = PageRequest::new(Some(1), Some(50));
        let walked = residents::list(&mut c, &wide, &Filter::default(), page)
            .await
            .unwrap();
        let sorted = Filter {
            sort: shegong_store::Sort::parse(Some("-created"), residents::SORTS),
            ..Default::default()
        };
        let ranged = residents::list(&mut c, &wide, &sorted, page).await.unwrap();
        let ids_of = |p: &shegong_store::Page<residents::Resident>| {
            p.items.iter().map(|r| r.id.clone()).collect::<Vec<_>>()
        };
        assert_eq!(walked.total, want, "{region}");
        assert_eq!(ids_of(&walked), ids_of(&ranged), "{region}");
        let services =
            shegong_store::people::services::list(&mut c, &wide, &Default::default(), page)
                .await
                .unwrap();
        assert_eq!(services.total, if want > 0 { 4 } else { 0 }, "{region}");
        assert!(
            services
                .items
                .windows(2)
                .all(|w| w[0].served_on >= w[1].served_on),
            "{region}: newest first"
        );
    }
    drop(c);
    // Housekeeping's statistics refresh runs on either database, and the lists read the same.
    db.optimize().await.unwrap();
    assert_eq!(seen_gap(&db, &v, &Filter::default()).await, 4);
});
