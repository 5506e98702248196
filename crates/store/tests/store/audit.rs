use super::*;
use shegong_store::PageRequest;
use shegong_store::admin::audit::{self, Actor, Change, Event, Filter, HashAlg};
use shegong_store::crypto::Algorithm;
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
    // An export's selection and its pages: the list's order, the scope tested again.
    let seqs = audit::list_seqs(&mut c, &scope("4302"), &Filter::default(), 100)
        .await
        .unwrap();
    assert_eq!(seqs, city.items.iter().map(|e| e.seq).collect::<Vec<_>>());
    let page = audit::page_of(&mut c, &scope("430203"), &seqs)
        .await
        .unwrap();
    assert_eq!(
        page.iter().map(|e| e.seq).collect::<Vec<_>>(),
        lusong.items.iter().map(|e| e.seq).collect::<Vec<_>>(),
        "in the order given, only the scope's"
    );
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

/// Every entry of the log in order, as stored.
async fn entries(db: &Db) -> Vec<audit::Entry> {
    let mut c = db.read().await.unwrap();
    let mut page = audit::list(
        &mut c,
        &scope(""),
        &Filter::default(),
        PageRequest::new(Some(1), Some(200)),
    )
    .await
    .unwrap();
    page.items.reverse();
    page.items
}

#[test]
fn sm3_is_the_gbt_32905_algorithm() {
    // GB/T 32905-2016 appendix A, example 1.
    assert_eq!(
        HashAlg::Sm3.digest_hex(b"abc"),
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    );
    assert_eq!(
        HashAlg::Sha256.digest_hex(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    // 国密 keys mean an SM3 chain.
    assert_eq!(HashAlg::from(Algorithm::Sm4Gcm), HashAlg::Sm3);
    assert_eq!(HashAlg::from(Algorithm::Aes256Gcm), HashAlg::Sha256);
}

db_test!(
    a_chain_switched_from_sha256_to_sm3_verifies_end_to_end,
    |db| {
        let actor = Actor::system("test");
        {
            let mut c = db.read().await.unwrap();
            assert_eq!(
                audit::hash_algorithm(&mut c).await.unwrap(),
                HashAlg::Sha256
            );
        }
        write(&db, &actor, "430203", 3).await;
        // Same algorithm again: nothing changes, nothing is recorded.
        assert!(
            !audit::use_hash_algorithm(&db, HashAlg::Sha256, 1_700_000_001_000)
                .await
                .unwrap()
        );
        assert!(
            audit::use_hash_algorithm(&db, Algorithm::Sm4Gcm.into(), 1_700_000_001_000)
                .await
                .unwrap()
        );
        write(&db, &actor, "430203", 3).await;

        let all = entries(&db).await;
        let algs: Vec<&str> = all.iter().map(|e| e.hash_alg.as_str()).collect();
        assert_eq!(
            algs,
            ["sha256", "sha256", "sha256", "sm3", "sm3", "sm3", "sm3"]
        );
        // The switch itself is on the record, as the first SM3 entry.
        let switch = &all[3];
        assert_eq!(
            (switch.action.as_str(), switch.entity.as_str()),
            ("update", "audit_log")
        );
        assert_eq!(
            switch.parsed_changes(),
            vec![Change::new("hash_algorithm", Some("sha256"), Some("sm3"))]
        );
        // Each entry's hash really is the digest its label names, linked across the switch.
        for (i, e) in all.iter().enumerate() {
            let alg = HashAlg::parse(&e.hash_alg).unwrap();
            assert_eq!(e.hash, alg.digest_hex(e.canonical().as_bytes()));
            if i > 0 {
                assert_eq!(e.prev_hash, all[i - 1].hash);
            }
        }
        assert_eq!(
            all[4].hash,
            HashAlg::Sm3.digest_hex(all[4].canonical().as_bytes())
        );
        assert_ne!(
            all[4].hash,
            HashAlg::Sha256.digest_hex(all[4].canonical().as_bytes())
        );

        let mut c = db.read().await.unwrap();
        let v = audit::verify(&mut c).await.unwrap();
        assert!(v.ok(), "{:?}", v.breaks);
        assert_eq!((v.checked, v.first_seq, v.last_seq), (7, 1, 7));
        assert_eq!(v.by_algorithm.get("sha256"), Some(&3));
        assert_eq!(v.by_algorithm.get("sm3"), Some(&4));
        assert_eq!(v.algorithms_summary(), "SHA-256: 3, SM3: 4");
        assert_eq!(audit::hash_algorithm(&mut c).await.unwrap(), HashAlg::Sm3);
        drop(c);

        // Retention may cut the whole SHA-256 segment; the SM3 rest verifies from the anchor.
        let mut tx = db.begin().await.unwrap();
        let removed = audit::purge_before(&mut tx, db.backend(), 1_700_000_000_500)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(removed, 3);
        let mut c = db.read().await.unwrap();
        let v = audit::verify(&mut c).await.unwrap();
        assert!(v.ok(), "{:?}", v.breaks);
        assert_eq!((v.checked, v.first_seq), (4, 4));
    }
);

db_test!(tampering_with_an_sm3_entry_is_detected, |db| {
    audit::use_hash_algorithm(&db, HashAlg::Sm3, 1_699_999_999_000)
        .await
        .unwrap();
    write(&db, &Actor::system("test"), "430203", 4).await;
    let all = entries(&db).await;
    assert!(all.iter().all(|e| e.hash_alg == "sm3"));

    // Content altered, as an attacker with SQL access would.
    let mut tx = db.begin().await.unwrap();
    Sql::new("UPDATE audit_log SET actor_name = 'someone_else' WHERE seq = 3")
        .execute(&mut tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut c = db.read().await.unwrap();
    let v = audit::verify(&mut c).await.unwrap();
    assert_eq!(v.breaks.len(), 1, "{:?}", v.breaks);
    assert_eq!((v.breaks[0].seq, v.breaks[0].problem), (3, "content"));
    drop(c);

    // Relabelling an untouched SM3 entry as SHA-256 does not pass either.
    let mut tx = db.begin().await.unwrap();
    Sql::new("UPDATE audit_log SET hash_alg = 'sha256' WHERE seq = 4")
        .execute(&mut tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut c = db.read().await.unwrap();
    let v = audit::verify(&mut c).await.unwrap();
    let found: Vec<(i64, &str)> = v.breaks.iter().map(|b| (b.seq, b.problem)).collect();
    assert_eq!(found, [(3, "content"), (4, "content")]);
    drop(c);

    // Rewriting an entry with a freshly computed SHA-256 hash fixes its own check but breaks the
    // link from the next entry.
    let mut e = all[1].clone();
    e.actor_name = "forged".into();
    e.hash_alg = "sha256".into();
    let forged = e.compute_hash().unwrap();
    let mut tx = db.begin().await.unwrap();
    Sql::new("UPDATE audit_log SET actor_name = 'forged', hash_alg = 'sha256', hash = ")
        .bind(forged)
        .push(" WHERE seq = 2")
        .execute(&mut tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut c = db.read().await.unwrap();
    let v = audit::verify(&mut c).await.unwrap();
    assert!(
        v.breaks.iter().any(|b| (b.seq, b.problem) == (3, "link")),
        "{:?}",
        v.breaks
    );
    assert!(!v.breaks.iter().any(|b| b.seq == 2), "{:?}", v.breaks);
});
