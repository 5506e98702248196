use super::*;
use shegong_domain::network::org::OrgKind;
use shegong_domain::network::station::{
    Category, Evidence, FundingSource, Mode, Rectification, Room, Status, Tier,
};
use shegong_store::network::construction::{self, ReportInput};
use shegong_store::network::indicators::{self, ItemInput};
use shegong_store::network::inspections::{self, RectFilter, RectificationInput, VisitInput};
use shegong_store::network::orgs::{self, NewOrg};
use shegong_store::network::stations::{self, Filter, StationInput};
use shegong_store::{PageRequest, StoreError, network::coverage};

const NOW: i64 = 1_730_000_000_000;

pub async fn agency(db: &Db, name: &str, region: &str) -> String {
    let mut tx = db.begin().await.unwrap();
    let (id, _) = orgs::create(
        &mut tx,
        &NewOrg {
            name: name.into(),
            uscc: None,
            kind: OrgKind::Agency,
            region: code(region),
        },
        NOW,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

pub fn input(region: &str, name: &str, status: Status, operator: Option<&str>) -> StationInput {
    StationInput {
        tier: Tier::TownshipStation,
        region: code(region),
        name: name.into(),
        address: "".into(),
        lng_e6: None,
        lat_e6: None,
        host_premises: "党群服务中心".into(),
        mode: if operator.is_some() {
            Mode::Purchase
        } else {
            Mode::Direct
        },
        operator_org_id: operator.map(str::to_owned),
        status,
        status_since: "2024-01-01".into(),
        area_m2: 120,
        rooms: vec![Room::CaseRoom, Room::GroupRoom],
        staff_count: 3,
        certified_count: 2,
        phone: "".into(),
        open_hours: "".into(),
    }
}

pub async fn station(db: &Db, scope_code: &str, inp: &StationInput) -> String {
    let mut tx = db.begin().await.unwrap();
    let id = stations::create(&mut tx, &scope(scope_code), inp, "test", NOW)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

db_test!(stations_are_scoped_and_keep_history, |db| {
    let a = agency(&db, "阳光社工", "430203").await;
    let b = agency(&db, "启航社工", "430202").await;
    let s1 = station(
        &db,
        "4302",
        &input(
            "430203001",
            "贺家土街道社工站",
            Status::UnderConstruction,
            Some(&a),
        ),
    )
    .await;
    let s2 = station(
        &db,
        "4302",
        &input("430202001", "荷塘社工站", Status::Operating, Some(&b)),
    )
    .await;
    let mut c = db.read().await.unwrap();
    let county = scope("430203");
    assert!(stations::get(&mut c, &county, &s1).await.is_ok());
    assert!(matches!(
        stations::get(&mut c, &county, &s2).await,
        Err(StoreError::NotFound)
    ));
    let list = stations::list(&mut c, &county, &Filter::default(), PageRequest::default())
        .await
        .unwrap();
    assert_eq!(list.total, 1);
    // An agency manager sees the stations its agency operates, wherever they are.
    let agency_scope = Scope {
        region: None,
        org: Some(b.parse().unwrap()),
    };
    let mine = stations::list(
        &mut c,
        &agency_scope,
        &Filter::default(),
        PageRequest::default(),
    )
    .await
    .unwrap();
    assert_eq!(
        mine.items
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>(),
        ["荷塘社工站"]
    );
    drop(c);
    // The same name in the same township is refused, naming the field.
    let mut tx = db.begin().await.unwrap();
    let err = stations::create(
        &mut tx,
        &scope("4302"),
        &input("430203001", "贺家土街道社工站", Status::Planned, Some(&a)),
        "t",
        NOW,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(f) if f.field == "name"));
    // Out of scope and wrong level are refused.
    let err = stations::create(
        &mut tx,
        &county,
        &input("430202002", "x", Status::Planned, Some(&a)),
        "t",
        NOW,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(f) if f.code == "station.region_out_of_scope"));
    let mut wrong = input("430203", "县中心", Status::Planned, Some(&a));
    wrong.tier = Tier::TownshipStation;
    let err = stations::create(&mut tx, &county, &wrong, "t", NOW)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(f) if f.code == "station.region_level"));
    drop(tx);
    // Operator change closes the old period; status change is recorded and follows the lifecycle.
    let mut tx = db.begin().await.unwrap();
    let mut next = input("430203001", "贺家土街道社工站", Status::Operating, Some(&b));
    next.status_since = "2024-06-01".into();
    // Editing the status to operating is refused: completion is confirmed by the supervisor.
    let err = stations::update(&mut tx, &county, &s1, &next, "t", "2024-06-01", NOW)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(f) if f.code == "station.confirm_required"));
    drop(tx);
    let mut tx = db.begin().await.unwrap();
    stations::confirm_completion(&mut tx, &county, &s1, "t", "2024-06-01", NOW)
        .await
        .unwrap();
    stations::update(&mut tx, &county, &s1, &next, "t", "2024-06-01", NOW)
        .await
        .unwrap();
    let mut back = next.clone();
    back.status = Status::Planned;
    let err = stations::update(&mut tx, &county, &s1, &back, "t", "2024-06-02", NOW)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(f) if f.code == "station.status_transition"));
    tx.commit().await.unwrap();
    let mut c = db.read().await.unwrap();
    let ops = stations::operator_history(&mut c, &county, &s1)
        .await
        .unwrap();
    assert_eq!(ops.len(), 2);
    assert_eq!(ops[0].org_name.as_deref(), Some("阳光社工"));
    assert_eq!(ops[0].to_date.as_deref(), Some("2024-06-01"));
    assert_eq!(ops[1].to_date, None);
    let hist = stations::status_history(&mut c, &county, &s1)
        .await
        .unwrap();
    assert_eq!(
        hist.iter().map(|h| h.status.as_str()).collect::<Vec<_>>(),
        ["under_construction", "operating"]
    );
    assert!(
        stations::get(&mut c, &county, &s1)
            .await
            .unwrap()
            .completion_confirmed_at
            .is_some()
    );
    drop(c);
    let mut tx = db.begin().await.unwrap();
    assert_eq!(
        stations::set_funding(
            &mut tx,
            &county,
            &s1,
            2024,
            FundingSource::Purchase,
            30_000_000,
            NOW
        )
        .await
        .unwrap(),
        None
    );
    assert_eq!(
        stations::set_funding(
            &mut tx,
            &county,
            &s1,
            2024,
            FundingSource::Purchase,
            35_000_000,
            NOW
        )
        .await
        .unwrap(),
        Some(30_000_000)
    );
    tx.commit().await.unwrap();
    let mut c = db.read().await.unwrap();
    let f = stations::funding(&mut c, &county, &s1).await.unwrap();
    assert_eq!((f.len(), f[0].amount_fen), (1, 35_000_000));
});

db_test!(readiness_is_maintained_and_equals_recomputation, |db| {
    let a = agency(&db, "阳光社工", "430203").await;
    let s = station(
        &db,
        "4302",
        &input("430203001", "贺家土街道社工站", Status::Operating, Some(&a)),
    )
    .await;
    let other = station(
        &db,
        "4302",
        &input("430202001", "荷塘社工站", Status::Operating, Some(&a)),
    )
    .await;
    let mut tx = db.begin().await.unwrap();
    let national = Scope::national();
    let mut items = Vec::new();
    for (region, cat, name, weight) in [
        ("", Category::Site, "有独立场所", 2),
        ("", Category::Staff, "至少2名社工", 2),
        ("43", Category::Rules, "制度上墙", 1),
        ("430202", Category::Services, "荷塘特色服务", 5),
    ] {
        items.push(
            indicators::add_item(
                &mut tx,
                &national,
                &ItemInput {
                    region: region.into(),
                    category: cat,
                    name: name.into(),
                    requirement: "".into(),
                    evidence: Evidence::Photo,
                    weight,
                },
                NOW,
            )
            .await
            .unwrap(),
        );
    }
    // The 430202 item does not apply to a station in 430203.
    let err = indicators::assess(
        &mut tx,
        &scope("430203"),
        &s,
        &items[3],
        true,
        "",
        None,
        "t",
        "2024-05-01",
        NOW,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(f) if f.code == "indicator.not_applicable"));
    let (_, pct) = indicators::assess(
        &mut tx,
        &scope("430203"),
        &s,
        &items[0],
        true,
        "",
        None,
        "t",
        "2024-05-01",
        NOW,
    )
    .await
    .unwrap();
    assert_eq!(pct, 40); // 2 of 5
    let (before, pct) = indicators::assess(
        &mut tx,
        &scope("430203"),
        &s,
        &items[2],
        true,
        "",
        None,
        "t",
        "2024-05-01",
        NOW,
    )
    .await
    .unwrap();
    assert_eq!((before, pct), (None, 60));
    // A new national item lowers everyone's readiness at once.
    indicators::add_item(
        &mut tx,
        &national,
        &ItemInput {
            region: "".into(),
            category: Category::Funding,
            name: "经费到位".into(),
            requirement: "".into(),
            evidence: Evidence::Document,
            weight: 5,
        },
        NOW,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let mut c = db.read().await.unwrap();
    for id in [&s, &other] {
        let stored = stations::get(&mut c, &national, id)
            .await
            .unwrap()
            .readiness_pct;
        assert_eq!(
            stored,
            indicators::compute_station(&mut c, id).await.unwrap()
        );
    }
    assert_eq!(
        stations::get(&mut c, &national, &s)
            .await
            .unwrap()
            .readiness_pct,
        30
    ); // 3 of 10
});

db_test!(coverage_equals_a_count_of_the_raw_rows, |db| {
    let a = agency(&db, "阳光社工", "430203").await;
    // Operating township stations in two 芦淞区 townships, one planned, one closed; one elsewhere.
    let mut c = db.read().await.unwrap();
    let towns =
        shegong_store::network::regions::children(&mut c, &Scope::national(), Some("430203"))
            .await
            .unwrap();
    drop(c);
    assert!(towns.len() >= 5);
    station(
        &db,
        "CN",
        &input(&towns[0].code, "站一", Status::Operating, Some(&a)),
    )
    .await;
    // A township now has one station (issue 18), but data from before the rule may hold two:
    // coverage still counts the township once. The second is made in another township and
    // moved in by SQL, as such data would be.
    let second = station(
        &db,
        "CN",
        &input(&towns[4].code, "站一（二）", Status::Operating, Some(&a)),
    )
    .await;
    let mut tx = db.begin().await.unwrap();
    shegong_store::sql::Sql::new("UPDATE stations SET region_code = ")
        .bind(towns[0].code.as_str())
        .push(" WHERE id = ")
        .bind(second.as_str())
        .execute(&mut tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    station(
        &db,
        "CN",
        &input(&towns[1].code, "站二", Status::Operating, Some(&a)),
    )
    .await;
    station(
        &db,
        "CN",
        &input(&towns[2].code, "站三", Status::Planned, Some(&a)),
    )
    .await;
    let closed = station(
        &db,
        "CN",
        &input(&towns[3].code, "站四", Status::Operating, Some(&a)),
    )
    .await;
    station(
        &db,
        "CN",
        &input("430202001", "荷塘站", Status::Operating, Some(&a)),
    )
    .await;
    let mut tx = db.begin().await.unwrap();
    let mut closing = input(&towns[3].code, "站四", Status::Closed, Some(&a));
    closing.status_since = "2024-07-01".into();
    stations::update(
        &mut tx,
        &Scope::national(),
        &closed,
        &closing,
        "t",
        "2024-07-01",
        NOW,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let mut c = db.read().await.unwrap();
    let (top, rows) = coverage::coverage(&mut c, &scope("4302"), Some("430203"), "2024-08-01")
        .await
        .unwrap();
    let admin_towns = towns.iter().filter(|t| t.kind != "township_zone").count() as i64;
    assert_eq!(top.townships, admin_towns);
    assert_eq!(
        top.covered, 2,
        "two townships have operating stations (one has two)"
    );
    assert_eq!((top.operating, top.planned, top.closed), (3, 1, 1));
    assert_eq!(rows.len(), towns.len());
    assert_eq!(rows.iter().map(|r| r.covered).sum::<i64>(), top.covered);
    assert_eq!(
        rows.iter().map(|r| r.stations()).sum::<i64>(),
        top.stations()
    );
    assert_eq!(
        rows.iter()
            .find(|r| r.code == towns[0].code)
            .unwrap()
            .operating,
        2
    );
    let (city, by_county) = coverage::coverage(&mut c, &scope("4302"), Some("4302"), "2024-08-01")
        .await
        .unwrap();
    assert_eq!(city.covered, 3);
    assert_eq!(
        by_county
            .iter()
            .find(|r| r.code == "430202")
            .unwrap()
            .covered,
        1
    );
    // Out of scope is not found.
    assert!(
        coverage::coverage(&mut c, &scope("430203"), Some("430202"), "2024-08-01")
            .await
            .is_err()
    );
});

db_test!(progress_reports_and_overdue, |db| {
    let a = agency(&db, "阳光社工", "430203").await;
    let s = station(
        &db,
        "4302",
        &input("430203001", "在建站", Status::UnderConstruction, Some(&a)),
    )
    .await;
    station(
        &db,
        "4302",
        &input("430203002", "运营站", Status::Operating, Some(&a)),
    )
    .await;
    let due = construction::month_due(2024, 8, 10, 5);
    assert_eq!(due, 202407);
    assert_eq!(construction::month_due(2024, 1, 3, 5), 202311);
    let mut c = db.read().await.unwrap();
    let late = construction::overdue(&mut c, &scope("4302"), due)
        .await
        .unwrap();
    assert_eq!(
        late.iter().map(|o| o.name.as_str()).collect::<Vec<_>>(),
        ["在建站"]
    );
    drop(c);
    let mut tx = db.begin().await.unwrap();
    construction::report(
        &mut tx,
        &scope("430203"),
        &s,
        &ReportInput {
            month: 202407,
            progress_pct: 80,
            milestones: "装修完成".into(),
            problems: "".into(),
        },
        "t",
        NOW,
    )
    .await
    .unwrap();
    construction::report(
        &mut tx,
        &scope("430203"),
        &s,
        &ReportInput {
            month: 202407,
            progress_pct: 85,
            milestones: "装修完成".into(),
            problems: "".into(),
        },
        "t",
        NOW,
    )
    .await
    .unwrap();
    let err = construction::report(
        &mut tx,
        &scope("430203"),
        &s,
        &ReportInput {
            month: 202408,
            progress_pct: 120,
            milestones: "".into(),
            problems: "".into(),
        },
        "t",
        NOW,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(f) if f.field == "progress_pct"));
    assert_eq!(
        construction::set_target(&mut tx, &scope("4302"), "430203", 2024, 8, NOW)
            .await
            .unwrap(),
        None
    );
    tx.commit().await.unwrap();
    let mut c = db.read().await.unwrap();
    assert!(
        construction::overdue(&mut c, &scope("4302"), due)
            .await
            .unwrap()
            .is_empty()
    );
    let reports = construction::reports(&mut c, &scope("430203"), &s)
        .await
        .unwrap();
    assert_eq!((reports.len(), reports[0].progress_pct), (1, 85));
    assert_eq!(
        construction::targets(&mut c, &scope("4302"), 2024)
            .await
            .unwrap()[0]
            .target,
        8
    );
});

db_test!(inspection_loop_with_rectifications, |db| {
    let a = agency(&db, "阳光社工", "430203").await;
    let s = station(
        &db,
        "4302",
        &input("430203001", "贺家土街道社工站", Status::Operating, Some(&a)),
    )
    .await;
    let mut tx = db.begin().await.unwrap();
    let item = indicators::add_item(
        &mut tx,
        &Scope::national(),
        &ItemInput {
            region: "".into(),
            category: Category::Site,
            name: "有独立场所".into(),
            requirement: "".into(),
            evidence: Evidence::Photo,
            weight: 1,
        },
        NOW,
    )
    .await
    .unwrap();
    let plan = inspections::create_plan(
        &mut tx,
        &scope("4302"),
        &inspections::PlanInput {
            region: "4302".into(),
            title: "2024年第三季度督查".into(),
            starts_on: "2024-07-01".into(),
            ends_on: "2024-09-30".into(),
            notes: "".into(),
        },
        "t",
        NOW,
    )
    .await
    .unwrap();
    let visit = inspections::record_visit(
        &mut tx,
        &scope("4302"),
        &VisitInput {
            plan_id: Some(plan.clone()),
            station_id: s.clone(),
            visited_on: "2024-07-15".into(),
            inspector: "李督查".into(),
            lng_e6: Some(113_150_000),
            lat_e6: Some(27_830_000),
            findings: "台账不全".into(),
            results: vec![(item.clone(), false, "无门牌".into())],
            rectifications: vec![
                RectificationInput {
                    description: "补齐个案台账".into(),
                    owner: "站长".into(),
                    deadline: "2024-08-15".into(),
                },
                RectificationInput {
                    description: "悬挂门牌".into(),
                    owner: "站长".into(),
                    deadline: "2024-07-31".into(),
                },
            ],
        },
        "t",
        NOW,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let mut c = db.read().await.unwrap();
    let open = inspections::rectifications(
        &mut c,
        &scope("4302"),
        &RectFilter {
            state: Some("open".into()),
            ..Default::default()
        },
        "2024-08-01",
        PageRequest::default(),
    )
    .await
    .unwrap();
    assert_eq!(open.total, 2);
    let overdue = inspections::rectifications(
        &mut c,
        &scope("4302"),
        &RectFilter {
            state: Some("overdue".into()),
            ..Default::default()
        },
        "2024-08-01",
        PageRequest::default(),
    )
    .await
    .unwrap();
    assert_eq!(
        overdue
            .items
            .iter()
            .map(|r| r.description.as_str())
            .collect::<Vec<_>>(),
        ["悬挂门牌"]
    );
    let (city, _) = coverage::coverage(&mut c, &scope("4302"), Some("4302"), "2024-08-01")
        .await
        .unwrap();
    assert_eq!(
        (city.rectifications_open, city.rectifications_overdue),
        (2, 1)
    );
    assert_eq!(
        inspections::visit_results(&mut c, &scope("430203"), &visit)
            .await
            .unwrap()[0]
            .met,
        0
    );
    assert!(
        inspections::visit(&mut c, &scope("430202"), &visit)
            .await
            .is_err()
    );
    let id = overdue.items[0].id.clone();
    drop(c);
    let mut tx = db.begin().await.unwrap();
    let err = inspections::advance(
        &mut tx,
        &scope("4302"),
        &id,
        Rectification::Closed,
        "",
        "t",
        NOW,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(f) if f.code == "rectification.transition"));
    let err = inspections::advance(
        &mut tx,
        &scope("4302"),
        &id,
        Rectification::Submitted,
        " ",
        "t",
        NOW,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(f) if f.field == "response"));
    inspections::advance(
        &mut tx,
        &scope("4302"),
        &id,
        Rectification::Submitted,
        "门牌已悬挂，见照片",
        "站长",
        NOW,
    )
    .await
    .unwrap();
    inspections::advance(
        &mut tx,
        &scope("4302"),
        &id,
        Rectification::Verified,
        "",
        "李督查",
        NOW,
    )
    .await
    .unwrap();
    inspections::advance(
        &mut tx,
        &scope("4302"),
        &id,
        Rectification::Closed,
        "",
        "李督查",
        NOW,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let mut c = db.read().await.unwrap();
    let (city, _) = coverage::coverage(&mut c, &scope("4302"), Some("4302"), "2024-08-01")
        .await
        .unwrap();
    assert_eq!(
        (city.rectifications_open, city.rectifications_overdue),
        (1, 0)
    );
});

db_test!(
    organisations_warn_on_bad_check_characters_and_are_scoped,
    |db| {
        let mut tx = db.begin().await.unwrap();
        let input = |name: &str, uscc: &str, region: &str| orgs::OrgInput {
            name: name.into(),
            uscc: Some(uscc.into()),
            kind: OrgKind::Agency,
            region: code(region),
            legal_rep: "张三".into(),
            contact_name: "".into(),
            contact_phone: "0731-1234567".into(),
            address: "".into(),
            rating: shegong_domain::network::station::Rating::A4,
            active: true,
        };
        let (_, warn) = orgs::create_full(
            &mut tx,
            &scope("4302"),
            &input("好社工", "91350100M000100Y43", "430203"),
            NOW,
        )
        .await
        .unwrap();
        assert!(!warn);
        let (id, warn) = orgs::create_full(
            &mut tx,
            &scope("4302"),
            &input("老社工", "91350100M0001TGQXM", "430202"),
            NOW,
        )
        .await
        .unwrap();
        assert!(
            warn,
            "an early code that fails the check is kept with a warning"
        );
        let err = orgs::create_full(
            &mut tx,
            &scope("4302"),
            &input("坏社工", "9135", "430202"),
            NOW,
        )
        .await
        .unwrap_err();
        assert!(matches!(err, StoreError::Invalid(f) if f.field == "uscc"));
        let err = orgs::create_full(
            &mut tx,
            &scope("4302"),
            &input("重复", "91350100M000100Y43", "430202"),
            NOW,
        )
        .await
        .unwrap_err();
        assert!(matches!(err, StoreError::Invalid(f) if f.code == "org.uscc_taken"));
        let err = orgs::create_full(&mut tx, &scope("430203"), &input("外县", "", "430202"), NOW)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Invalid(f) if f.field == "region"));
        tx.commit().await.unwrap();
        let mut c = db.read().await.unwrap();
        assert!(orgs::get(&mut c, &scope("430203"), &id).await.is_err());
        let page = orgs::list_page(
            &mut c,
            &scope("4302"),
            &orgs::Filter::default(),
            PageRequest::default(),
        )
        .await
        .unwrap();
        assert_eq!(page.total, 2);
        drop(c);
        // Operating a station in the county makes an outside agency visible there.
        station(&db, "4302", &input_station_for(&id)).await;
        let mut c = db.read().await.unwrap();
        assert!(orgs::get(&mut c, &scope("430203"), &id).await.is_ok());
    }
);

fn input_station_for(org: &str) -> StationInput {
    input("430203003", "外县机构运营站", Status::Operating, Some(org))
}

db_test!(text_search_ignores_case_on_both_databases, |db| {
    let mut tx = db.begin().await.unwrap();
    orgs::create(
        &mut tx,
        &NewOrg {
            name: "Sunshine 社工".into(),
            uscc: Some("91350100M000100Y43".into()),
            kind: OrgKind::Agency,
            region: code("430203"),
        },
        NOW,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let mut c = db.read().await.unwrap();
    for q in ["sunshine", "SUNSHINE", "91350100m", "社工"] {
        let found = orgs::list_page(
            &mut c,
            &Scope::national(),
            &orgs::Filter {
                q: Some(q.into()),
                ..Default::default()
            },
            PageRequest::default(),
        )
        .await
        .unwrap();
        assert_eq!(found.total, 1, "{q}");
    }
    let none = orgs::list_page(
        &mut c,
        &Scope::national(),
        &orgs::Filter {
            q: Some("sun%shade".into()),
            ..Default::default()
        },
        PageRequest::default(),
    )
    .await
    .unwrap();
    assert_eq!(none.total, 0);
});

// Issue 18: one township station per township while it is not closed, whatever the operator
// (an agency's scope does not see the other agency's station, the rule still holds).
db_test!(a_township_holds_one_township_station, |db| {
    let a = agency(&db, "阳光社工", "430203").await;
    let b = agency(&db, "启航社工", "430203").await;
    let first = station(
        &db,
        "4302",
        &input("430203001", "贺家土街道社工站", Status::Operating, Some(&a)),
    )
    .await;
    let agency_b = Scope {
        region: None,
        org: Some(b.parse().unwrap()),
    };
    let mut tx = db.begin().await.unwrap();
    let err = stations::create(
        &mut tx,
        &agency_b,
        &input("430203001", "贺家土第二站", Status::Planned, Some(&b)),
        "t",
        NOW,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid(f) if f.field == "region" && f.code == "station.township_taken"),
        "{err:?}"
    );
    // A station of another township may not move in either.
    let other = stations::create(
        &mut tx,
        &scope("4302"),
        &input("430203002", "建设街道社工站", Status::Operating, Some(&a)),
        "t",
        NOW,
    )
    .await
    .unwrap();
    let err = stations::update(
        &mut tx,
        &scope("4302"),
        &other,
        &input("430203001", "建设街道社工站", Status::Operating, Some(&a)),
        "t",
        "2024-08-01",
        NOW,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid(f) if f.field == "region"),
        "{err:?}"
    );
    // Closed, the first frees the township.
    let mut closing = input("430203001", "贺家土街道社工站", Status::Closed, Some(&a));
    closing.status_since = "2024-07-01".into();
    stations::update(
        &mut tx,
        &scope("4302"),
        &first,
        &closing,
        "t",
        "2024-07-01",
        NOW,
    )
    .await
    .unwrap();
    stations::create(
        &mut tx,
        &agency_b,
        &input("430203001", "贺家土第二站", Status::Planned, Some(&b)),
        "t",
        NOW,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
});

// Rectification evidence is reached as the rectification is, through its station: the county,
// the agency operating the station, not a neighbouring county or another agency. A refused file
// leaves nothing behind, and a closed rectification takes no more.
db_test!(rectification_evidence_follows_the_station_scope, |db| {
    use shegong_store::network::attachments::{self, FileStore};
    let a = agency(&db, "阳光社工", "430203").await;
    let b = agency(&db, "明德社工", "430203").await;
    let s = station(
        &db,
        "4302",
        &input("430203001", "贺家土街道社工站", Status::Operating, Some(&a)),
    )
    .await;
    let dir = std::env::temp_dir().join(format!("shegong-evidence-{}", shegong_store::new_id()));
    let files = FileStore::new(&dir);
    let mut tx = db.begin().await.unwrap();
    let visit = inspections::record_visit(
        &mut tx,
        &scope("4302"),
        &VisitInput {
            plan_id: None,
            station_id: s.clone(),
            visited_on: "2024-07-15".into(),
            inspector: "李督查".into(),
            lng_e6: None,
            lat_e6: None,
            findings: String::new(),
            results: vec![],
            rectifications: vec![RectificationInput {
                description: "悬挂门牌".into(),
                owner: "站长".into(),
                deadline: "2024-07-31".into(),
            }],
        },
        "t",
        NOW,
    )
    .await
    .unwrap();
    let rect = inspections::rectifications(
        &mut tx,
        &scope("4302"),
        &RectFilter::default(),
        "2024-07-15",
        PageRequest::default(),
    )
    .await
    .unwrap()
    .items
    .into_iter()
    .find(|r| r.visit_id == visit)
    .unwrap()
    .id;
    let refused = inspections::add_evidence(
        &mut tx,
        &files,
        &scope("430203"),
        &rect,
        ("setup.exe", b"MZ\x90\x00"),
        "t",
        NOW,
    )
    .await;
    assert!(
        matches!(refused, Err(StoreError::Invalid(ref e)) if e.field == "file"),
        "{refused:?}"
    );
    assert!(!dir.exists(), "a refused file is not stored");
    let outside = inspections::add_evidence(
        &mut tx,
        &files,
        &scope("430202"),
        &rect,
        ("门牌.png", b"\x89PNG\r\n\x1a\nrest"),
        "t",
        NOW,
    )
    .await;
    assert!(matches!(outside, Err(StoreError::NotFound)), "{outside:?}");
    let (_, att) = inspections::add_evidence(
        &mut tx,
        &files,
        &scope("430203"),
        &rect,
        ("门牌.png", b"\x89PNG\r\n\x1a\nrest"),
        "t",
        NOW,
    )
    .await
    .unwrap();
    let org = |id: &str| Scope {
        region: None,
        org: Some(id.parse().unwrap()),
    };
    for (who, sees) in [
        (scope("430203"), true),
        (org(&a), true),
        (scope("430202"), false),
        (org(&b), false),
    ] {
        let got = attachments::get(&mut tx, &who, &att.id).await;
        assert_eq!(got.is_ok(), sees, "{who:?}: {got:?}");
        let listed = inspections::evidence(&mut tx, &who, &rect).await;
        assert_eq!(listed.map(|l| l.len()).ok(), sees.then_some(1), "{who:?}");
    }
    for (to, note) in [
        (Rectification::Submitted, "已悬挂"),
        (Rectification::Verified, ""),
        (Rectification::Closed, ""),
    ] {
        inspections::advance(&mut tx, &scope("430203"), &rect, to, note, "t", NOW)
            .await
            .unwrap();
    }
    let closed = inspections::add_evidence(
        &mut tx,
        &files,
        &scope("430203"),
        &rect,
        ("晚了.png", b"\x89PNG\r\n\x1a\nlate"),
        "t",
        NOW,
    )
    .await;
    assert!(
        matches!(closed, Err(StoreError::Invalid(ref e)) if e.code == "rectification.evidence_closed"),
        "{closed:?}"
    );
    tx.commit().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
});
