use super::*;
use shegong_store::PageRequest;
use shegong_store::audit::{self, Actor, Change, Event, Filter};
use shegong_store::sql::Sql;

async fn write(db: &Db, actor: &Actor, region: &str, n: usize) {
    for i in 0..n {
        let mut tx = db.begin().await.unwrap();
        audit::record(
            &mut tx,
            db.backend(),
            actor,
            Event::new("update", "user", Some(format!("u{i}")))
                .region(region)
                .changes(vec![Change::new(
                    "role",
                    Some("social_worker"),
                    Some("supervisor"),
                )]),
            1_700_000_000_000 + i as i64,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
}

db_test!(chain_verifies_and_detects_tampering, |db| {
    let actor = Actor::system("test");
    write(&db, &actor, "430203", 5).await;
    let mut c = db.read().await.unwrap();
    let v = audit::verify(&mut c).await.unwrap();
    assert!(v.ok(), "{:?}", v.breaks);
    assert_eq!(v.checked, 5);
    drop(c);
    // Alter an entry directly in the database, as an attacker with SQL access would.
    let mut tx = db.begin().await.unwrap();
    Sql::new("UPDATE audit_log SET actor_name = 'someone_else' WHERE seq = 3")
        .execute(&mut tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut c = db.read().await.unwrap();
    let v = audit::verify(&mut c).await.unwrap();
    assert_eq!(v.breaks.len(), 1);
    assert_eq!((v.breaks[0].seq, v.breaks[0].problem), (3, "content"));
});

db_test!(deleting_an_entry_breaks_the_chain, |db| {
    write(&db, &Actor::system("test"), "430203", 4).await;
    let mut tx = db.begin().await.unwrap();
    Sql::new("DELETE FROM audit_log WHERE seq = 2")
        .execute(&mut tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut c = db.read().await.unwrap();
    let v = audit::verify(&mut c).await.unwrap();
    assert!(
        v.breaks
            .iter()
            .any(|b| b.seq == 2 && b.problem == "missing"),
        "{:?}",
        v.breaks
    );
});

db_test!(retention_keeps_the_rest_verifiable, |db| {
    write(&db, &Actor::system("test"), "430203", 6).await;
    let mut tx = db.begin().await.unwrap();
    let removed = audit::purge_before(&mut tx, db.backend(), 1_700_000_000_003)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(removed, 3);
    let mut c = db.read().await.unwrap();
    let v = audit::verify(&mut c).await.unwrap();
    assert!(v.ok(), "{:?}", v.breaks);
    assert_eq!((v.first_seq, v.last_seq, v.checked), (4, 6, 3));
});

db_test!(audit_reads_are_scoped_by_region, |db| {
    let actor = Actor::system("test");
    write(&db, &actor, "430203", 2).await;
    write(&db, &actor, "430204", 3).await;
    let mut c = db.read().await.unwrap();
    let lusong = audit::list(
        &mut c,
        &scope("430203"),
        &Filter::default(),
        PageRequest::default(),
    )
    .await
    .unwrap();
    assert_eq!(lusong.total, 2);
    assert!(lusong.items.iter().all(|e| e.region_code == "430203"));
    let city = audit::list(
        &mut c,
        &scope("4302"),
        &Filter::default(),
        PageRequest::default(),
    )
    .await
    .unwrap();
    assert_eq!(city.total, 5);
    let other = city
        .items
        .iter()
        .find(|e| e.region_code == "430204")
        .unwrap();
    assert!(
        audit::get(&mut c, &scope("430203"), &other.id)
            .await
            .is_err()
    );
    let changes = lusong.items[0].parsed_changes();
    assert_eq!(changes[0].after.as_deref(), Some("supervisor"));
});

db_test!(concurrent_appends_keep_one_chain, |db| {
    let mut handles = Vec::new();
    for t in 0..4 {
        let db = db.db.clone();
        handles.push(tokio::spawn(async move {
            write(&db, &Actor::system(&format!("w{t}")), "43", 10).await;
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    let mut c = db.read().await.unwrap();
    let v = audit::verify(&mut c).await.unwrap();
    assert!(v.ok(), "{:?}", v.breaks);
    assert_eq!(v.checked, 40);
});
