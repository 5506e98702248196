//! Issue 11 items 4 and 5: the database remembers the keys that sealed it, and who serves it.

use super::*;
use shegong_store::crypto::{Algorithm, KeyRing};
use shegong_store::keycheck::{self, KeyCheck};
use shegong_store::server_lock::{LockError, ServerLock};

fn ring() -> KeyRing {
    KeyRing::from_spec(&KeyRing::generate_spec(Algorithm::Aes256Gcm)).unwrap()
}

async fn seal_something(db: &Db, keys: &KeyRing) {
    let mut tx = db.begin().await.unwrap();
    let input = shegong_store::workforce::staff::StaffInput {
        name: "人员".into(),
        id_type: shegong_domain::people::identity::IdType::ResidentId,
        id_number: "11010519491231002X".into(),
        sex: None,
        birth_date: None,
        mobile: None,
        education: shegong_domain::workforce::Education::Unknown,
        major: String::new(),
        employer_org_id: None,
        station_id: None,
        region: Some(code("430203001")),
        role: shegong_domain::workforce::StaffRole::Frontline,
        employment_mode: shegong_domain::workforce::Employment::Direct,
        sector: shegong_domain::workforce::Sector::CivilAffairs,
        joined_on: chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
        left_on: None,
        left_reason: String::new(),
    };
    shegong_store::workforce::staff::create(&mut tx, &Scope::national(), keys, &input, 0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

db_test!(the_database_records_its_keys_and_refuses_others, |db| {
    let keys = ring();
    assert!(!keycheck::needs_existing_ring(&db).await.unwrap());
    assert_eq!(
        keycheck::check_and_record(&db, &keys).await.unwrap(),
        KeyCheck::Ok
    );
    // Once recorded, the database needs this ring even before anything is sealed.
    assert!(keycheck::needs_existing_ring(&db).await.unwrap());
    seal_something(&db, &keys).await;
    // Another ring: refused, naming the key it lacks and the hash key.
    let other = ring();
    match keycheck::check_and_record(&db, &other).await.unwrap() {
        KeyCheck::Missing(ids) => {
            assert!(ids.contains(&keys.primary().to_owned()), "{ids:?}");
            assert!(ids.contains(&"#hash".to_owned()), "{ids:?}");
        }
        other => panic!("accepted a foreign ring: {other:?}"),
    }
    // The right ring again: fine, as often as it starts.
    assert_eq!(
        keycheck::check_and_record(&db, &keys).await.unwrap(),
        KeyCheck::Ok
    );
    assert_eq!(
        keycheck::check_and_record(&db, &keys).await.unwrap(),
        KeyCheck::Ok
    );
});

db_test!(
    a_database_from_before_the_record_is_checked_against_its_data,
    |db| {
        let keys = ring();
        seal_something(&db, &keys).await;
        // No record yet (as a database from before this check): a ring that cannot open the data is
        // refused, and nothing is recorded for it.
        assert_eq!(
            keycheck::check_and_record(&db, &ring()).await.unwrap(),
            KeyCheck::Unreadable
        );
        assert!(keycheck::needs_existing_ring(&db).await.unwrap());
        // The ring that sealed it is accepted and recorded.
        assert_eq!(
            keycheck::check_and_record(&db, &keys).await.unwrap(),
            KeyCheck::Ok
        );
        assert!(matches!(
            keycheck::check_and_record(&db, &ring()).await.unwrap(),
            KeyCheck::Missing(_)
        ));
    }
);

db_test!(after_reencryption_only_the_primary_is_needed, |db| {
    // Two rings sharing the hash key, as `keys rotate` makes them: old key A, new primary B.
    let mut spec = KeyRing::generate_spec(Algorithm::Aes256Gcm);
    let old = KeyRing::from_spec(&spec).unwrap();
    assert_eq!(
        keycheck::check_and_record(&db, &old).await.unwrap(),
        KeyCheck::Ok
    );
    seal_something(&db, &old).await;
    let mut newer = KeyRing::generate_spec(Algorithm::Sm4Gcm);
    newer.keys[0].id = "k-new".into();
    spec.keys.push(newer.keys[0].clone());
    spec.primary = "k-new".into();
    let rotated = KeyRing::from_spec(&spec).unwrap();
    assert_eq!(
        keycheck::check_and_record(&db, &rotated).await.unwrap(),
        KeyCheck::Ok
    );
    shegong_store::reseal::reencrypt(&db, &rotated)
        .await
        .unwrap();
    keycheck::record_only_primary(&db, &rotated).await.unwrap();
    // The old key may now leave the ring.
    spec.keys.retain(|k| k.id == "k-new");
    let trimmed = KeyRing::from_spec(&spec).unwrap();
    assert_eq!(
        keycheck::check_and_record(&db, &trimmed).await.unwrap(),
        KeyCheck::Ok
    );
});

db_test!(offline_commands_wait_for_no_server, |db| {
    let server = ServerLock::serving(&db.url).await.unwrap();
    match ServerLock::exclusive(&db.url, "shegong restore").await {
        Err(LockError::Held(holder)) => assert!(!holder.is_empty()),
        other => panic!("restore ran beside a server: {other:?}"),
    }
    drop(server);
    let restore = ServerLock::exclusive(&db.url, "shegong restore")
        .await
        .unwrap();
    assert!(matches!(
        ServerLock::serving(&db.url).await,
        Err(LockError::Held(_))
    ));
    drop(restore);
    let _again = ServerLock::serving(&db.url).await.unwrap();
});
