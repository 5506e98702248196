use chrono::NaiveDate;
use shegong_domain::people::{AssessmentDomain, ResidentStatus, RiskTier, VisitMethod};
use shegong_store::crypto::{Algorithm, KeyRing};
use shegong_store::people::cases::{self, Actor, OpenCase, PlannedService};
use shegong_store::people::duplicates;
use shegong_store::people::households::{self, MembershipInput};
use shegong_store::people::residents::{self, Filter, ResidentInput, Viewer};
use shegong_store::people::services::{self, ServiceInput};
use shegong_store::people::visit_rules;
use shegong_store::{PageRequest, StoreError};

use super::*;

const NOW: i64 = 1_780_000_000_000;

fn keys() -> KeyRing {
    KeyRing::from_spec(&KeyRing::generate_spec(Algorithm::Aes256Gcm)).unwrap()
}

fn viewer(region: &str, user: &str, today: &str) -> Viewer {
    Viewer {
        scope: scope(region),
        user_id: user.into(),
        sees_protected: false,
        today: NaiveDate::parse_from_str(today, "%Y-%m-%d").unwrap(),
    }
}

fn person(region: &str, name: &str, id: Option<&str>, birth: &str) -> ResidentInput {
    ResidentInput {
        region: Some(code(region)),
        name: name.into(),
        id_type: id.map(|_| "resident_id".into()),
        id_number: id.map(Into::into),
        birth_date: birth.into(),
        risk_tier: "general".into(),
        legal_basis: "statutory_duty".into(),
        registered_on: "2026-01-01".into(),
        ..Default::default()
    }
}

async fn register(
    db: &Db,
    v: &Viewer,
    k: &KeyRing,
    p: &ResidentInput,
) -> Result<String, StoreError> {
    let mut tx = db.begin().await.unwrap();
    let id = residents::create(&mut tx, v, k, p, "tester", NOW).await?;
    tx.commit().await.unwrap();
    Ok(id)
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

db_test!(residents_are_deduplicated_scoped_and_protected, |db| {
    let k = keys();
    let worker = add_user(&db, "sw_yuetang", Role::SocialWorker, "430202001").await;
    let other = add_user(&db, "sw_cigutang", Role::SocialWorker, "430202002").await;
    let v = viewer("430202001", &worker, "2026-06-01");
    let elsewhere = viewer("430202002", &other, "2026-06-01");

    let a = register(
        &db,
        &v,
        &k,
        &person(
            "430202001",
            "张建国",
            Some("43020319850101001X"),
            "1985-01-01",
        ),
    )
    .await
    .unwrap();
    // The same identity number again is refused, whoever enters it.
    let again = register(
        &db,
        &elsewhere,
        &k,
        &person(
            "430202002",
            "张三",
            Some("43020319850101001X"),
            "1985-01-01",
        ),
    )
    .await;
    assert!(
        matches!(again, Err(StoreError::Invalid(e)) if e.field == "id_number" && e.code == "resident.id_taken")
    );
    // A similar name (same pinyin) with the same birth date is a likely duplicate, even from
    // another township, where it cannot be opened.
    let mut conn = db.read().await.unwrap();
    let similar = person("430202002", "章建国", None, "1985-01-01");
    let found = duplicates::likely_duplicates(&mut conn, &elsewhere, &k, &similar, None)
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(
        (found[0].id.as_str(), found[0].reason, found[0].visible),
        (a.as_str(), "same_birth_date", false)
    );
    let unrelated = person("430202002", "李四", None, "1985-01-01");
    assert!(
        duplicates::likely_duplicates(&mut conn, &elsewhere, &k, &unrelated, None)
            .await
            .unwrap()
            .is_empty()
    );
    // Scope: the other township cannot open it.
    assert!(matches!(
        residents::get(&mut conn, &elsewhere, &a).await,
        Err(StoreError::NotFound)
    ));
    let r = residents::get(&mut conn, &v, &a).await.unwrap();
    assert_eq!(
        k.open(residents::ID_FIELD, r.id_number_sealed.as_deref().unwrap())
            .unwrap(),
        "43020319850101001X"
    );
    drop(conn);

    // A child under 14 is visible to the assigned worker only, not to a colleague in scope.
    let colleague = add_user(&db, "sw_yuetang2", Role::SocialWorker, "430202001").await;
    let mut child = person("430202001", "小明", None, "2015-03-01");
    child.worker_user_id = Some(worker.clone());
    let c = register(&db, &v, &k, &child).await.unwrap();
    let mut conn = db.read().await.unwrap();
    let peer = viewer("430202001", &colleague, "2026-06-01");
    assert!(residents::get(&mut conn, &v, &c).await.is_ok());
    assert!(matches!(
        residents::get(&mut conn, &peer, &c).await,
        Err(StoreError::NotFound)
    ));
    let by_name = Filter {
        q: Some("建国".into()),
        ..Default::default()
    };
    assert_eq!(
        residents::list(&mut conn, &v, &by_name, PageRequest::default())
            .await
            .unwrap()
            .total,
        1,
        "text search"
    );
    let listed = residents::list(&mut conn, &peer, &Filter::default(), PageRequest::default())
        .await
        .unwrap();
    assert_eq!(listed.total, 1, "the colleague's list holds only the adult");
    // An export's page read by id applies the rule too, even when handed the child's id.
    let page = residents::page_of(&mut conn, &peer, std::slice::from_ref(&c))
        .await
        .unwrap();
    assert!(
        page.is_empty(),
        "the colleague's export page leaves the child out"
    );
    let page = residents::page_of(&mut conn, &v, std::slice::from_ref(&c))
        .await
        .unwrap();
    assert_eq!(page.len(), 1, "the assigned worker's holds it");
    let granted = Viewer {
        sees_protected: true,
        ..peer.clone()
    };
    assert!(residents::get(&mut conn, &granted, &c).await.is_ok());
    // Once 14, the protection lapses.
    let later = viewer("430202001", &colleague, "2029-03-01");
    assert!(residents::get(&mut conn, &later, &c).await.is_ok());
});

db_test!(visits_move_the_due_date_and_rules_are_data, |db| {
    let k = keys();
    let worker = add_user(&db, "sw1", Role::SocialWorker, "430202001").await;
    let v = viewer("430202001", &worker, "2026-01-01");
    let mut p = person("430202001", "刘桂英", None, "1940-05-05");
    p.risk_tier = "high".into();
    p.worker_user_id = Some(worker.clone());
    let id = register(&db, &v, &k, &p).await.unwrap();
    let mut conn = db.read().await.unwrap();
    let r = residents::get(&mut conn, &v, &id).await.unwrap();
    assert_eq!(
        (r.visit_interval_days, r.next_visit_due.as_str()),
        (7, "2026-01-08")
    );
    drop(conn);

    // Nothing is overdue on the due day; the day after it is.
    let mut conn = db.read().await.unwrap();
    let on_day = viewer("430202001", &worker, "2026-01-08");
    assert_eq!(
        visit_rules::due_counts(&mut conn, &on_day, Some(&worker))
            .await
            .unwrap()
            .overdue,
        0
    );
    let after = viewer("430202001", &worker, "2026-01-09");
    let counts = visit_rules::due_counts(&mut conn, &after, Some(&worker))
        .await
        .unwrap();
    assert_eq!((counts.overdue, counts.week), (1, 1));
    drop(conn);

    // A home visit moves the next due date; a visit in the future is refused.
    let mut tx = db.begin().await.unwrap();
    let future = services::create(&mut tx, &after, &k, &visit(&id, "2026-01-10"), "sw1", NOW).await;
    assert!(matches!(future, Err(StoreError::Invalid(e)) if e.field == "served_on"));
    services::create(&mut tx, &after, &k, &visit(&id, "2026-01-09"), "sw1", NOW)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut conn = db.read().await.unwrap();
    let r = residents::get(&mut conn, &after, &id).await.unwrap();
    assert_eq!(
        (r.last_visit_on.as_deref(), r.next_visit_due.as_str()),
        (Some("2026-01-09"), "2026-01-16")
    );
    assert_eq!(
        visit_rules::due_counts(&mut conn, &after, None)
            .await
            .unwrap()
            .overdue,
        0
    );
    drop(conn);

    // A county rule for high risk (every 3 days, phone only) re-schedules and limits methods.
    let mut tx = db.begin().await.unwrap();
    visit_rules::set_rule(
        &mut tx,
        &scope("4302"),
        &code("430202"),
        RiskTier::High,
        "",
        3,
        &[VisitMethod::Phone],
        "admin",
        NOW,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let mut conn = db.read().await.unwrap();
    assert_eq!(
        residents::get(&mut conn, &after, &id)
            .await
            .unwrap()
            .next_visit_due,
        "2026-01-12"
    );
    drop(conn);
    let mut tx = db.begin().await.unwrap();
    let home = services::create(&mut tx, &after, &k, &visit(&id, "2026-01-09"), "sw1", NOW).await;
    assert!(matches!(home, Err(StoreError::Invalid(e)) if e.code == "visit.method_not_allowed"));
    drop(tx);

    // A category membership with a stricter local rule applies to its members only.
    let mut tx = db.begin().await.unwrap();
    visit_rules::set_rule(
        &mut tx,
        &scope("4302"),
        &code("430202"),
        RiskTier::General,
        "tekun",
        14,
        &[VisitMethod::Home],
        "admin",
        NOW,
    )
    .await
    .unwrap();
    let mut q = person("430202001", "陈秀兰", None, "1950-02-02");
    q.registered_on = "2026-01-01".into();
    let other = residents::create(&mut tx, &after, &k, &q, "sw1", NOW)
        .await
        .unwrap();
    assert_eq!(
        residents::get(&mut tx, &after, &other)
            .await
            .unwrap()
            .visit_interval_days,
        90
    );
    let m = MembershipInput {
        category: "tekun".into(),
        disability_category: None,
        disability_grade: None,
        source: "民政局".into(),
        evidence: "审批表".into(),
        valid_from: "2026-01-01".into(),
        valid_to: None,
        verified_by: "李科长".into(),
    };
    households::add_membership(&mut tx, &after, &other, &m, "sw1", NOW)
        .await
        .unwrap();
    assert_eq!(
        residents::get(&mut tx, &after, &other)
            .await
            .unwrap()
            .visit_interval_days,
        14
    );
    let mut bad = m.clone();
    bad.category = "disabled".into();
    let refused = households::add_membership(&mut tx, &after, &other, &bad, "sw1", NOW).await;
    assert!(
        matches!(refused, Err(StoreError::Invalid(e)) if e.code == "resident.disability_required")
    );
    tx.commit().await.unwrap();
    // The monthly visit rate for older people in special hardship: one of one visited in January.
    let mut conn = db.read().await.unwrap();
    assert_eq!(
        visit_rules::elderly_visit_rate(&mut conn, &after, "2026-01")
            .await
            .unwrap(),
        (0, 1)
    );
});

db_test!(
    a_case_runs_from_intake_to_closure_and_can_be_referred,
    |db| {
        let k = keys();
        let worker = add_user(&db, "sw1", Role::SocialWorker, "430202001").await;
        let sup = add_user(&db, "sup1", Role::Supervisor, "430202").await;
        let v = viewer("430202001", &worker, "2026-03-01");
        let sv = viewer("430202", &sup, "2026-03-01");
        let rid = register(
            &db,
            &v,
            &k,
            &person("430202001", "王大爷", None, "1945-01-01"),
        )
        .await
        .unwrap();
        let me = Actor {
            user_id: worker.clone(),
            name: "sw1".into(),
        };
        let boss = Actor {
            user_id: sup.clone(),
            name: "sup1".into(),
        };

        let mut tx = db.begin().await.unwrap();
        let open = OpenCase {
            resident_id: rid.clone(),
            station_id: None,
            worker_user_id: Some(worker.clone()),
            supervisor_user_id: Some(sup.clone()),
            problem: "独居，行动不便".into(),
            opened_on: "2026-03-01".into(),
        };
        let id = cases::open(&mut tx, &v, &k, &open, &me, NOW).await.unwrap();
        let scores: Vec<_> = AssessmentDomain::ALL.iter().map(|d| (*d, 2)).collect();
        cases::assess(
            &mut tx,
            &v,
            &k,
            &id,
            &scores[..5],
            RiskTier::Key,
            "",
            &me,
            NOW,
        )
        .await
        .expect_err("all six domains");
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
        assert_eq!(
            residents::get(&mut tx, &v, &rid)
                .await
                .unwrap()
                .risk_tier
                .as_str(),
            "key",
            "the tier follows the assessment"
        );
        let plan = [PlannedService {
            kind: "visit".into(),
            per_month: 4,
        }];
        cases::submit_plan(&mut tx, &v, &k, &id, "每周探访，链接助餐", &plan, &me, NOW)
            .await
            .unwrap();
        // The worker cannot approve their own plan; nothing else can move while it waits.
        let own = cases::decide(&mut tx, &v, &k, &id, true, "", &me, "2026-03-02", NOW).await;
        assert!(matches!(own, Err(StoreError::Invalid(e)) if e.code == "case.self_approval"));
        assert!(
            cases::evaluate(&mut tx, &v, &k, &id, 80, "好", &me, NOW)
                .await
                .is_err()
        );
        cases::decide(
            &mut tx,
            &sv,
            &k,
            &id,
            true,
            "同意",
            &boss,
            "2026-03-02",
            NOW,
        )
        .await
        .unwrap();
        cases::evaluate(&mut tx, &v, &k, &id, 80, "目标基本达成", &me, NOW)
            .await
            .unwrap();
        let goals = shegong_domain::people::CaseOutcome::GoalsMet;
        cases::request_closure(&mut tx, &v, &k, &id, goals, "需求已满足", &me, NOW)
            .await
            .unwrap();
        cases::decide(&mut tx, &sv, &k, &id, true, "", &boss, "2026-04-01", NOW)
            .await
            .unwrap();
        let c = cases::get(&mut tx, &v, &id).await.unwrap();
        assert_eq!(
            (c.stage.as_str(), c.closed_on.as_deref(), c.outcome.as_str()),
            ("closed", Some("2026-04-01"), "需求已满足")
        );
        cases::reopen(&mut tx, &v, &k, &id, "病情反复", &me, NOW)
            .await
            .unwrap();
        let by_text = cases::Filter {
            q: Some("行动不便".into()),
            ..Default::default()
        };
        assert_eq!(
            cases::list(&mut tx, &v, &by_text, PageRequest::default())
                .await
                .unwrap()
                .total,
            1,
            "text search"
        );
        let kinds: Vec<String> = cases::events(&mut tx, &v, &k, &id)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(
            kinds,
            [
                "intake",
                "assessment",
                "plan",
                "plan_approved",
                "evaluation",
                "closure_requested",
                "closed",
                "reopened"
            ]
        );
        let events = cases::events(&mut tx, &v, &k, &id).await.unwrap();
        assert_eq!(
            events[1].body["scores"]["safety"], 2,
            "assessment bodies are structured and sealed"
        );
        tx.commit().await.unwrap();

        // Referral to a station in another township: declined once, then accepted there.
        let target = super::stations::station(
            &db,
            "4302",
            &super::stations::input(
                "430202002",
                "茨菇塘社工站",
                shegong_domain::network::station::Status::Operating,
                None,
            ),
        )
        .await;
        let there = add_user(&db, "sw2", Role::SocialWorker, "430202002").await;
        let tv = viewer("430202002", &there, "2026-04-02");
        let them = Actor {
            user_id: there.clone(),
            name: "sw2".into(),
        };
        let mut tx = db.begin().await.unwrap();
        assert!(matches!(
            cases::get(&mut tx, &tv, &id).await,
            Err(StoreError::NotFound)
        ));
        cases::refer(&mut tx, &v, &k, &id, &target, "搬家", &me, NOW)
            .await
            .unwrap();
        assert_eq!(cases::incoming(&mut tx, &tv).await.unwrap().len(), 1);
        cases::answer_referral(&mut tx, &tv, &k, &id, false, None, "名额已满", &them, NOW)
            .await
            .unwrap();
        assert!(cases::incoming(&mut tx, &tv).await.unwrap().is_empty());
        cases::refer(&mut tx, &v, &k, &id, &target, "搬家", &me, NOW)
            .await
            .unwrap();
        cases::answer_referral(&mut tx, &tv, &k, &id, true, Some(&there), "", &them, NOW)
            .await
            .unwrap();
        let moved = cases::get(&mut tx, &tv, &id).await.unwrap();
        assert_eq!(moved.station_id.as_deref(), Some(target.as_str()));
        assert!(
            matches!(
                cases::get(&mut tx, &v, &id).await,
                Err(StoreError::NotFound)
            ),
            "gone from the old township"
        );
        assert!(
            residents::get(&mut tx, &tv, &rid).await.is_ok(),
            "the file follows the person"
        );
        tx.commit().await.unwrap();
    }
);

db_test!(a_merge_keeps_all_history, |db| {
    let k = keys();
    let worker = add_user(&db, "sw1", Role::SocialWorker, "430202001").await;
    let v = viewer("430202001", &worker, "2026-03-01");
    let keep = register(
        &db,
        &v,
        &k,
        &person("430202001", "赵秀英", None, "1950-01-01"),
    )
    .await
    .unwrap();
    let drop_id = register(
        &db,
        &v,
        &k,
        &person(
            "430202001",
            "趙秀英",
            Some("11010519491231002X"),
            "1950-01-01",
        ),
    )
    .await
    .unwrap();
    let mut tx = db.begin().await.unwrap();
    services::create(&mut tx, &v, &k, &visit(&drop_id, "2026-02-20"), "sw1", NOW)
        .await
        .unwrap();
    duplicates::merge(&mut tx, &v, &keep, &drop_id, NOW)
        .await
        .unwrap();
    let kept = residents::get(&mut tx, &v, &keep).await.unwrap();
    assert_eq!(kept.last_visit_on.as_deref(), Some("2026-02-20"));
    assert_eq!(
        k.open(
            residents::ID_FIELD,
            kept.id_number_sealed.as_deref().unwrap()
        )
        .unwrap(),
        "11010519491231002X"
    );
    let gone = residents::get(&mut tx, &v, &drop_id).await.unwrap();
    assert_eq!(
        (gone.status.as_str(), gone.merged_into.as_deref()),
        ("merged", Some(keep.as_str()))
    );
    let f = services::Filter {
        resident: Some(keep.clone()),
        ..Default::default()
    };
    assert_eq!(
        services::list(&mut tx, &v, &f, PageRequest::default())
            .await
            .unwrap()
            .total,
        1
    );
    let by_text = services::Filter {
        q: Some("王芳".into()),
        ..Default::default()
    };
    assert_eq!(
        services::list(&mut tx, &v, &by_text, PageRequest::default())
            .await
            .unwrap()
            .total,
        1,
        "text search"
    );
    tx.commit().await.unwrap();
});

db_test!(key_rotation_reseals_every_sealed_column, |db| {
    let spec = KeyRing::generate_spec(Algorithm::Aes256Gcm);
    let old = KeyRing::from_spec(&spec).unwrap();
    let worker = add_user(&db, "sw1", Role::SocialWorker, "430202001").await;
    let v = viewer("430202001", &worker, "2026-03-01");
    let mut p = person(
        "430202001",
        "周桂兰",
        Some("11010519491231002X"),
        "1949-12-31",
    );
    p.phone = Some("13812345678".into());
    p.address = Some("幸福路 1 号".into());
    p.guardian_phone = Some("13912345678".into());
    let id = register(&db, &v, &old, &p).await.unwrap();
    let mut tx = db.begin().await.unwrap();
    let mut s = visit(&id, "2026-02-01");
    s.notes = "情况稳定".into();
    services::create(&mut tx, &v, &old, &s, "sw1", NOW)
        .await
        .unwrap();
    let open = OpenCase {
        resident_id: id.clone(),
        station_id: None,
        worker_user_id: None,
        supervisor_user_id: None,
        problem: "独居".into(),
        opened_on: "2026-02-01".into(),
    };
    cases::open(
        &mut tx,
        &v,
        &old,
        &open,
        &Actor {
            user_id: worker.clone(),
            name: "sw1".into(),
        },
        NOW,
    )
    .await
    .unwrap();
    // A user's notification addresses are sealed too.
    let addresses = shegong_store::notify::Settings {
        email: Some("li@mz.gov.cn".into()),
        mobile: Some("13812345678".into()),
        ..Default::default()
    };
    shegong_store::notify::save_settings(&mut tx, &old, &worker, &addresses, &[], NOW)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    // A new primary key; the old one stays to read.
    let mut rotated = spec.clone();
    let mut fresh = KeyRing::generate_spec(Algorithm::Sm4Gcm).keys.remove(0);
    fresh.id = "k-new".into();
    rotated.primary = fresh.id.clone();
    rotated.keys.push(fresh);
    let new = KeyRing::from_spec(&rotated).unwrap();
    let n = shegong_store::reseal::reencrypt(&db, &new).await.unwrap();
    assert_eq!(
        n, 8,
        "id, phone, address, guardian phone, notes, case body, e-mail, mobile"
    );
    let mut conn = db.read().await.unwrap();
    for (table, column, _) in shegong_store::reseal::SEALED {
        // Built per sealed column; the store's builder takes fixed text only, so it lives on.
        let sql = format!(
            "SELECT COUNT(*) FROM {table} WHERE {column} IS NOT NULL AND {column} NOT LIKE 'v1:k-new:%'"
        );
        let stale = sqlx_count(&mut conn, Box::leak(sql.into_boxed_str())).await;
        assert_eq!(stale, 0, "{table}.{column}");
    }
    let r = residents::get(&mut conn, &v, &id).await.unwrap();
    assert_eq!(
        new.open(residents::PHONE_FIELD, r.phone_sealed.as_deref().unwrap())
            .unwrap(),
        "13812345678"
    );
    assert_eq!(
        shegong_store::reseal::reencrypt(&db, &new).await.unwrap(),
        0,
        "nothing left"
    );
});

async fn sqlx_count(conn: &mut shegong_store::Conn, sql: &'static str) -> i64 {
    shegong_store::sql::Sql::new(sql)
        .fetch_i64(conn)
        .await
        .unwrap()
}

db_test!(a_file_status_is_typed_and_a_merge_is_final, |db| {
    let k = keys();
    let worker = add_user(&db, "sw1", Role::SocialWorker, "430202001").await;
    let v = viewer("430202001", &worker, "2026-03-01");
    let keep = register(
        &db,
        &v,
        &k,
        &person("430202001", "钱桂兰", None, "1948-05-01"),
    )
    .await
    .unwrap();
    let gone = register(
        &db,
        &v,
        &k,
        &person("430202001", "錢桂蘭", None, "1948-05-01"),
    )
    .await
    .unwrap();
    let mut tx = db.begin().await.unwrap();
    let before = residents::set_status(&mut tx, &v, &keep, ResidentStatus::MovedOut, NOW)
        .await
        .unwrap();
    assert_eq!(before.status, ResidentStatus::Active);
    assert_eq!(
        residents::get(&mut tx, &v, &keep).await.unwrap().status,
        ResidentStatus::MovedOut
    );
    // Only a merge marks a file merged, and a merged file stays merged.
    let refused = residents::set_status(&mut tx, &v, &gone, ResidentStatus::Merged, NOW).await;
    assert!(matches!(refused, Err(StoreError::Invalid(e)) if e.code == "resident.status_unknown"));
    residents::set_status(&mut tx, &v, &keep, ResidentStatus::Active, NOW)
        .await
        .unwrap();
    duplicates::merge(&mut tx, &v, &keep, &gone, NOW)
        .await
        .unwrap();
    assert_eq!(
        residents::get(&mut tx, &v, &gone).await.unwrap().status,
        ResidentStatus::Merged
    );
    let reopened = residents::set_status(&mut tx, &v, &gone, ResidentStatus::Active, NOW).await;
    assert!(matches!(reopened, Err(StoreError::Invalid(_))));
    tx.commit().await.unwrap();
});
