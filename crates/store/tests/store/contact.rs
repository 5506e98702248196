//! Contact details for the people working on a file: the responsible worker and the supervisor
//! of an open case see them unmasked; a colleague in the same township does not; a file they
//! may not open stays not found (the protection rule still applies).

use chrono::NaiveDate;
use shegong_store::StoreError;
use shegong_store::people::cases::{self, Actor, OpenCase};
use shegong_store::people::contact::{self, ContactBasis};
use shegong_store::people::residents::{self, ResidentInput, Viewer};
use shegong_store::sql::Sql;

use super::*;

const NOW: i64 = 1_780_000_000_000;

fn viewer(region: &str, user: &str) -> Viewer {
    Viewer {
        scope: scope(region),
        user_id: user.into(),
        sees_protected: false,
        today: NaiveDate::parse_from_str("2026-06-01", "%Y-%m-%d").unwrap(),
    }
}

fn person(name: &str, birth: &str, worker: Option<&str>) -> ResidentInput {
    ResidentInput {
        region: Some(code("430202001")),
        name: name.into(),
        birth_date: birth.into(),
        phone: Some("13812345678".into()),
        address: Some("幸福路 12 号 3 栋".into()),
        risk_tier: "general".into(),
        legal_basis: "statutory_duty".into(),
        registered_on: "2026-01-01".into(),
        worker_user_id: worker.map(Into::into),
        ..Default::default()
    }
}

db_test!(contact_details_go_to_the_people_working_on_a_file, |db| {
    let keys = shegong_store::crypto::KeyRing::from_spec(
        &shegong_store::crypto::KeyRing::generate_spec(shegong_store::crypto::Algorithm::Aes256Gcm),
    )
    .unwrap();
    let own = add_user(&db, "contact_own", Role::SocialWorker, "430202001").await;
    let colleague = add_user(&db, "contact_mate", Role::SocialWorker, "430202001").await;
    let sup = add_user(&db, "contact_sup", Role::Supervisor, "430202001").await;
    let away = add_user(&db, "contact_away", Role::SocialWorker, "430202002").await;
    let (v_own, v_mate, v_sup, v_away) = (
        viewer("430202001", &own),
        viewer("430202001", &colleague),
        viewer("430202001", &sup),
        viewer("430202002", &away),
    );

    let mut tx = db.begin().await.unwrap();
    let adult = residents::create(
        &mut tx,
        &v_own,
        &keys,
        &person("刘桂英", "1940-05-05", Some(&own)),
        "t",
        NOW,
    )
    .await
    .unwrap();
    let child = residents::create(
        &mut tx,
        &v_own,
        &keys,
        &person("小明", "2016-03-01", Some(&own)),
        "t",
        NOW,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let mut c = db.read().await.unwrap();
    // The responsible worker; a colleague in the same township: masked (no basis).
    assert_eq!(
        contact::contact_basis(&mut c, &v_own, &adult)
            .await
            .unwrap(),
        Some(ContactBasis::AssignedWorker)
    );
    assert_eq!(
        contact::contact_basis(&mut c, &v_mate, &adult)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        contact::contact_basis(&mut c, &v_sup, &adult)
            .await
            .unwrap(),
        None
    );
    // Another township: not found, as the file itself.
    assert!(matches!(
        contact::contact_basis(&mut c, &v_away, &adult).await,
        Err(StoreError::NotFound)
    ));
    // A protected file (a child): its worker sees the contact; a colleague cannot even open it.
    assert_eq!(
        contact::contact_basis(&mut c, &v_own, &child)
            .await
            .unwrap(),
        Some(ContactBasis::AssignedWorker)
    );
    assert!(matches!(
        contact::contact_basis(&mut c, &v_mate, &child).await,
        Err(StoreError::NotFound)
    ));
    drop(c);

    // An open case supervised by `sup` (worked by the colleague): the supervisor sees the
    // contact; the case's worker, not the responsible worker, does not.
    let mut tx = db.begin().await.unwrap();
    let case = cases::open(
        &mut tx,
        &v_own,
        &keys,
        &OpenCase {
            resident_id: adult.clone(),
            station_id: None,
            worker_user_id: Some(colleague.clone()),
            supervisor_user_id: Some(sup.clone()),
            problem: "独居".into(),
            opened_on: "2026-03-01".into(),
        },
        &Actor {
            user_id: own.clone(),
            name: "own".into(),
        },
        NOW,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let mut c = db.read().await.unwrap();
    assert_eq!(
        contact::contact_basis(&mut c, &v_sup, &adult)
            .await
            .unwrap(),
        Some(ContactBasis::CaseSupervisor)
    );
    assert_eq!(
        contact::contact_basis(&mut c, &v_mate, &adult)
            .await
            .unwrap(),
        None
    );
    drop(c);

    // Once the case is closed, its supervisor no longer works on the file.
    let mut tx = db.begin().await.unwrap();
    let mut q = Sql::new("UPDATE cases SET stage = 'closed' WHERE id = ");
    q.bind(case);
    q.execute(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
    let mut c = db.read().await.unwrap();
    assert_eq!(
        contact::contact_basis(&mut c, &v_sup, &adult)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        contact::contact_basis(&mut c, &v_own, &adult)
            .await
            .unwrap(),
        Some(ContactBasis::AssignedWorker)
    );
});
