//! The volunteer registry (issue 15 item 1): identity sealed and registered once, scoped reads,
//! the minors' rules, volunteer numbers.

use chrono::NaiveDate;
use shegong_domain::RegionLevel;
use shegong_domain::volunteers::VolunteerStatus;
use shegong_store::crypto::{Algorithm, KeyRing};
use shegong_store::volunteers::registry::{self, Filter, VolunteerInput};
use shegong_store::{PageRequest, StoreError};

use super::*;

const NOW: i64 = 1_780_000_000_000;
const ID_A: &str = "43020319900307002X";
const ID_B: &str = "430203199105060011";

pub fn keys() -> KeyRing {
    KeyRing::from_spec(&KeyRing::generate_spec(Algorithm::Aes256Gcm)).unwrap()
}

pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()
}

pub fn volunteer(region: &str, name: &str, id: &str, birth: &str) -> VolunteerInput {
    VolunteerInput {
        region: Some(code(region)),
        station_id: None,
        name: name.into(),
        id_type: Some("resident_id".into()),
        id_number: Some(id.into()),
        sex: None,
        birth_date: birth.into(),
        mobile: Some("13873312345".into()),
        skills: vec!["养老照护".into(), "心理疏导".into()],
        intentions: vec!["助老".into()],
        availability: "周末上午".into(),
        guardian_name: String::new(),
        guardian_consent_on: None,
        accompanied: false,
        status: VolunteerStatus::Active,
        registered_on: "2026-05-01".into(),
    }
}

async fn register(
    db: &Db,
    region: &str,
    k: &KeyRing,
    v: &VolunteerInput,
) -> Result<String, StoreError> {
    let mut tx = db.begin().await.unwrap();
    let id = registry::create(&mut tx, &scope(region), k, v, today(), "tester", NOW).await?;
    tx.commit().await.unwrap();
    Ok(id)
}

fn refused(r: Result<String, StoreError>, field: &str, code: &str) {
    match r {
        Err(StoreError::Invalid(e)) => assert_eq!((e.field, e.code), (field, code)),
        other => panic!("expected {field}: {code}, got {other:?}"),
    }
}

db_test!(volunteers_are_registered_once_sealed_and_scoped, |db| {
    let k = keys();
    let a = register(
        &db,
        "430202001",
        &k,
        &volunteer("430202001", "刘思雨", ID_A, "1990-03-07"),
    )
    .await
    .unwrap();
    // The same person again, from another township: refused on the identity number.
    refused(
        register(
            &db,
            "430202002",
            &k,
            &volunteer("430202002", "刘思语", ID_A, "1990-03-07"),
        )
        .await,
        "id_number",
        "volunteer.id_taken",
    );
    let b = register(
        &db,
        "430202001",
        &k,
        &volunteer("430202001", "陈家豪", ID_B, "1991-05-06"),
    )
    .await
    .unwrap();

    let mut conn = db.read().await.unwrap();
    let here = scope("430202001");
    let got = registry::get(&mut conn, &here, &a).await.unwrap();
    assert_eq!(got.volunteer_no, "V43020200100001");
    assert_eq!(
        registry::get(&mut conn, &here, &b)
            .await
            .unwrap()
            .volunteer_no,
        "V43020200100002"
    );
    assert_eq!(got.skill_list(), ["养老照护", "心理疏导"]);
    assert_eq!(
        k.open(registry::ID_FIELD, &got.id_number_sealed).unwrap(),
        ID_A
    );
    // Another township sees nothing of them; the county sees both.
    let there = scope("430202002");
    assert!(matches!(
        registry::get(&mut conn, &there, &a).await,
        Err(StoreError::NotFound)
    ));
    let none = registry::list(
        &mut conn,
        &there,
        &Filter::default(),
        PageRequest::default(),
    )
    .await
    .unwrap();
    assert_eq!(none.total, 0);
    let county = registry::list(
        &mut conn,
        &scope("430202"),
        &Filter::default(),
        PageRequest::default(),
    )
    .await
    .unwrap();
    assert_eq!(county.total, 2);
    let found = registry::list(
        &mut conn,
        &here,
        &Filter {
            q: Some("00002".into()),
            ..Default::default()
        },
        PageRequest::default(),
    )
    .await
    .unwrap();
    assert_eq!(found.items.len(), 1);
    assert_eq!(found.items[0].id, b);

    // Identity and mobile are never stored in clear.
    let rows: Vec<(String, String, Option<String>)> = shegong_store::sql::Sql::new(
        "SELECT id_number_sealed, id_number_hash, mobile_sealed FROM volunteers",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(rows.len(), 2);
    for (sealed, hash, mobile) in &rows {
        for clear in [ID_A, ID_B, "13873312345"] {
            assert!(!sealed.contains(clear) && !hash.contains(clear));
            assert!(!mobile.as_deref().unwrap_or("").contains(clear));
        }
    }
    drop(conn);
    if let Some(path) = db.sqlite_path() {
        let mut bytes = std::fs::read(path).unwrap();
        bytes.extend(std::fs::read(path.with_extension("db-wal")).unwrap_or_default());
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("刘思雨"), "the scan reads the data");
        assert!(!text.contains(ID_A) && !text.contains("13873312345"));
    }

    // Out of scope: the record is unknown to an update too.
    let mut tx = db.begin().await.unwrap();
    let other = registry::update(
        &mut tx,
        &there,
        &k,
        &a,
        &volunteer("430202002", "刘思雨", ID_A, "1990-03-07"),
        today(),
        NOW,
    )
    .await;
    assert!(matches!(other, Err(StoreError::NotFound)));
    // Changing one's number to another's is refused as a duplicate.
    let mut changed = volunteer("430202001", "陈家豪", ID_A, "1991-05-06");
    changed.mobile = None;
    let taken = registry::update(&mut tx, &here, &k, &b, &changed, today(), NOW).await;
    assert!(
        matches!(taken, Err(StoreError::Invalid(e)) if e.field == "id_number" && e.code == "volunteer.id_taken")
    );
    tx.rollback().await.unwrap();
});

db_test!(
    minors_register_with_consent_and_the_youngest_accompanied,
    |db| {
        let k = keys();
        let mut child = volunteer("430202001", "周小北", "430203201301010018", "2013-01-01");
        refused(
            register(&db, "430202001", &k, &child).await,
            "guardian_name",
            "volunteer.guardian_required",
        );
        child.guardian_name = "周建军".into();
        refused(
            register(&db, "430202001", &k, &child).await,
            "guardian_consent_on",
            "volunteer.consent_required",
        );
        child.guardian_consent_on = Some("2026-05-20".into());
        register(&db, "430202001", &k, &child).await.unwrap();

        let mut young = volunteer("430202001", "周小南", "430203201801010014", "2018-01-01");
        young.guardian_name = "周建军".into();
        young.guardian_consent_on = Some("2026-05-20".into());
        refused(
            register(&db, "430202001", &k, &young).await,
            "accompanied",
            "volunteer.accompaniment_required",
        );
        young.accompanied = true;
        register(&db, "430202001", &k, &young).await.unwrap();

        // A county cannot register at county level, nor outside its scope.
        let mut county = volunteer("430202", "赵六", ID_B, "1991-05-06");
        refused(
            register(&db, "430202", &k, &county).await,
            "region",
            "volunteer.region_level",
        );
        county.region = Some(code("430203001"));
        refused(
            register(&db, "430202", &k, &county).await,
            "region",
            "station.region_out_of_scope",
        );
        let mut conn = db.read().await.unwrap();
        let n = shegong_store::sql::Sql::new("SELECT COUNT(*) FROM volunteers")
            .fetch_i64(&mut conn)
            .await
            .unwrap();
        assert_eq!(n, 2);
    }
);

db_test!(teams_are_registered_or_hosted_and_keep_their_region, |db| {
    use shegong_store::volunteers::teams::{self, TeamInput};
    let k = keys();
    let here = scope("430202001");
    let a = register(
        &db,
        "430202001",
        &k,
        &volunteer("430202001", "刘思雨", ID_A, "1990-03-07"),
    )
    .await
    .unwrap();
    let b = register(
        &db,
        "430202002",
        &k,
        &volunteer("430202002", "陈家豪", ID_B, "1991-05-06"),
    )
    .await
    .unwrap();
    let mut tx = db.begin().await.unwrap();
    let mut input = TeamInput {
        region: code("430202001"),
        name: "月塘街道助老志愿服务队".into(),
        registered: false,
        registration_no: None,
        station_id: None,
    };
    // Unregistered without a liaison station: refused on the station.
    let e = teams::create(&mut tx, &here, &input, "tester", NOW).await;
    assert!(
        matches!(e, Err(StoreError::Invalid(e)) if e.field == "station" && e.code == "team.liaison_required")
    );
    input.registered = true;
    let e = teams::create(&mut tx, &here, &input, "tester", NOW).await;
    assert!(matches!(e, Err(StoreError::Invalid(e)) if e.field == "registration_no"));
    input.registration_no = Some("51430202MJJ000001X".into());
    let team = teams::create(&mut tx, &here, &input, "tester", NOW)
        .await
        .unwrap();
    let e = teams::create(&mut tx, &here, &input, "tester", NOW).await;
    assert!(
        matches!(e, Err(StoreError::Invalid(e)) if e.field == "name" && e.code == "team.name_taken")
    );

    teams::add_member(&mut tx, &here, &team, &a, "2026-05-01")
        .await
        .unwrap();
    let again = teams::add_member(&mut tx, &here, &team, &a, "2026-05-01").await;
    assert!(matches!(again, Err(StoreError::Invalid(e)) if e.code == "team.already_member"));
    // A volunteer of another township is unknown here, and does not belong to this team's
    // region even for the county.
    let other = teams::add_member(&mut tx, &here, &team, &b, "2026-05-01").await;
    assert!(
        matches!(other, Err(StoreError::Invalid(e)) if e.field == "volunteer_id" && e.code == "team.volunteer_unknown")
    );
    let county = scope("430202");
    let other = teams::add_member(&mut tx, &county, &team, &b, "2026-05-01").await;
    assert!(matches!(other, Err(StoreError::Invalid(e)) if e.code == "team.member_elsewhere"));
    assert_eq!(teams::get(&mut tx, &here, &team).await.unwrap().members, 1);
    assert_eq!(
        teams::members(&mut tx, &here, &team).await.unwrap()[0].volunteer_id,
        a
    );
    // Out of scope: not found.
    assert!(matches!(
        teams::get(&mut tx, &scope("430202002"), &team).await,
        Err(StoreError::NotFound)
    ));
    let listed = teams::list(&mut tx, &scope("430202002"), None, PageRequest::default())
        .await
        .unwrap();
    assert_eq!(listed.total, 0);
    teams::remove_member(&mut tx, &here, &team, &a)
        .await
        .unwrap();
    assert_eq!(teams::get(&mut tx, &here, &team).await.unwrap().members, 0);
    tx.commit().await.unwrap();
});

async fn award(
    db: &Db,
    region: &str,
    v: &str,
    stars: i64,
    approver: RegionLevel,
) -> Result<String, StoreError> {
    use shegong_store::volunteers::stars::{self, AwardInput};
    let mut tx = db.begin().await.unwrap();
    let input = AwardInput {
        volunteer_id: v.into(),
        stars,
        approver,
        note: "年度认定".into(),
    };
    let id = stars::award(
        &mut tx,
        &scope(region),
        &input,
        ("tester", NOW),
        "2026-06-01",
    )
    .await?;
    tx.commit().await.unwrap();
    Ok(id)
}

db_test!(
    stars_are_awarded_upwards_within_the_hours_by_the_level_named,
    |db| {
        use shegong_store::volunteers::stars;
        let k = keys();
        let v = register(
            &db,
            "430203001",
            &k,
            &volunteer("430203001", "周星", ID_A, "1990-03-07"),
        )
        .await
        .unwrap();
        // 320 recorded hours: up to two stars.
        let mut tx = db.begin().await.unwrap();
        shegong_store::sql::Sql::new("UPDATE volunteers SET recorded_minutes = 19200 WHERE id = ")
            .bind(v.as_str())
            .execute(&mut tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        use RegionLevel::{City, County};
        // A township account acts below the county; a county account may not award a city's star.
        refused(
            award(&db, "430203001", &v, 1, County).await,
            "stars",
            "volunteer.star_not_entitled",
        );
        refused(
            award(&db, "430203", &v, 2, City).await,
            "stars",
            "volunteer.star_not_entitled",
        );
        refused(
            award(&db, "430203", &v, 3, City).await,
            "stars",
            "volunteer.star_hours_short",
        );
        refused(
            award(&db, "430203", &v, 0, County).await,
            "stars",
            "volunteer.star_invalid",
        );
        // Another county does not see the volunteer.
        assert!(matches!(
            award(&db, "430202", &v, 1, County).await,
            Err(StoreError::NotFound)
        ));
        award(&db, "430203", &v, 1, County).await.unwrap();
        refused(
            award(&db, "430203", &v, 1, County).await,
            "stars",
            "volunteer.star_already",
        );
        // The city (above the county) may award the county's star too; after two, one is refused.
        award(&db, "4302", &v, 2, County).await.unwrap();
        refused(
            award(&db, "4302", &v, 1, County).await,
            "stars",
            "volunteer.star_already",
        );
        let mut c = db.read().await.unwrap();
        let list = stars::list(&mut c, &scope("430203001"), &v).await.unwrap();
        let got: Vec<(i64, i64, &str, &str)> = list
            .iter()
            .map(|a| {
                (
                    a.stars,
                    a.minutes,
                    a.approver_level.as_str(),
                    a.approver_region.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [(2, 19200, "county", "4302"), (1, 19200, "county", "430203")]
        );
        assert!(matches!(
            stars::list(&mut c, &scope("430202"), &v).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            stars::get(&mut c, &scope("430202"), &list[0].id).await,
            Err(StoreError::NotFound)
        ));
    }
);
