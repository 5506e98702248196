//! Issue 20 item 5: what several server processes share through the database — periodic jobs
//! claimed once, sign-in and check-in throttles, one-time secrets, import progress — and the
//! leader of a background task, taken over when the leader's connection dies.

use super::*;
use shegong_store::crypto::{Algorithm, KeyRing};
use shegong_store::leader::{Leadership, Task};
use shegong_store::shared::{self, ImportProgress};

const T0: i64 = 1_780_000_000_000;
const HOUR: i64 = 3_600_000;

db_test!(a_job_round_is_claimed_once, |db| {
    let mut tx = db.begin().await.unwrap();
    assert!(shared::claim_job(&mut tx, "hk", HOUR, T0).await.unwrap());
    // A second instance at the same moment waits for the first's transaction, then finds the
    // round taken.
    let other = db.db.clone();
    let second = tokio::spawn(async move {
        let mut tx = other.begin().await.unwrap();
        let got = shared::claim_job(&mut tx, "hk", HOUR, T0 + 5)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        got
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    tx.commit().await.unwrap();
    assert!(!second.await.unwrap(), "the round ran once");
    let mut tx = db.begin().await.unwrap();
    assert!(
        !shared::claim_job(&mut tx, "hk", HOUR, T0 + HOUR - 1)
            .await
            .unwrap()
    );
    assert!(
        shared::claim_job(&mut tx, "hk", HOUR, T0 + HOUR)
            .await
            .unwrap()
    );
    assert!(
        shared::claim_job(&mut tx, "other", HOUR, T0).await.unwrap(),
        "jobs are claimed apart"
    );
    tx.commit().await.unwrap();
});

db_test!(an_unknown_name_locks_like_an_account, |db| {
    let mut tx = db.begin().await.unwrap();
    assert!(
        shared::unknown_login_failure(&mut tx, "nobody.here", 3, 60_000, T0)
            .await
            .unwrap()
            <= T0
    );
    assert!(
        shared::unknown_login_failure(&mut tx, "nobody.here", 3, 60_000, T0 + 1)
            .await
            .unwrap()
            <= T0 + 1
    );
    let until = shared::unknown_login_failure(&mut tx, "nobody.here", 3, 60_000, T0 + 2)
        .await
        .unwrap();
    assert_eq!(until, T0 + 2 + 60_000, "the third failure locks");
    assert_eq!(
        shared::unknown_login_failure(&mut tx, "nobody.here", 3, 60_000, T0 + 30_000)
            .await
            .unwrap(),
        until,
        "failures while locked neither count nor extend"
    );
    assert!(
        shared::unknown_login_failure(&mut tx, "someone.else", 3, 60_000, T0 + 3)
            .await
            .unwrap()
            <= T0 + 3,
        "names are counted apart"
    );
    // After the lock, counting starts again.
    let after = until + 1;
    assert!(
        shared::unknown_login_failure(&mut tx, "nobody.here", 3, 60_000, after)
            .await
            .unwrap()
            < after
    );
    tx.commit().await.unwrap();
    // The name typed is not stored.
    let mut c = db.read().await.unwrap();
    let (names,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM login_throttle WHERE name_hash LIKE '%nobody%'")
            .fetch_one(&mut *c)
            .await
            .unwrap();
    assert_eq!(names, 0);
});

db_test!(checkin_failures_close_the_code_for_a_window, |db| {
    let mut tx = db.begin().await.unwrap();
    let window = 15 * 60_000;
    assert!(
        shared::checkin_open(&mut tx, "act1", 2, window, T0)
            .await
            .unwrap()
    );
    shared::checkin_failed(&mut tx, "act1", T0).await.unwrap();
    shared::checkin_failed(&mut tx, "act1", T0 + 1)
        .await
        .unwrap();
    assert!(
        !shared::checkin_open(&mut tx, "act1", 2, window, T0 + 2)
            .await
            .unwrap()
    );
    assert!(
        shared::checkin_open(&mut tx, "act2", 2, window, T0 + 2)
            .await
            .unwrap()
    );
    assert!(
        shared::checkin_open(&mut tx, "act1", 2, window, T0 + 1 + window)
            .await
            .unwrap(),
        "failures older than the window no longer count"
    );
    tx.commit().await.unwrap();
});

db_test!(a_one_time_secret_is_shown_once_and_sealed, |db| {
    let keys = KeyRing::from_spec(&KeyRing::generate_spec(Algorithm::Aes256Gcm)).unwrap();
    let mut tx = db.begin().await.unwrap();
    shared::keep_secret(&mut tx, &keys, "sess", "u1", "Temp-Pass-123", T0 + 600_000)
        .await
        .unwrap();
    let (sealed,): (String,) = sqlx::query_as("SELECT secret_sealed FROM one_time_secrets")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert!(!sealed.contains("Temp-Pass"), "kept sealed");
    assert_eq!(
        shared::take_secret(&mut tx, &keys, "other", "u1", T0)
            .await
            .unwrap(),
        None,
        "only for the session that set it"
    );
    assert_eq!(
        shared::take_secret(&mut tx, &keys, "sess", "u1", T0)
            .await
            .unwrap()
            .as_deref(),
        Some("Temp-Pass-123")
    );
    assert_eq!(
        shared::take_secret(&mut tx, &keys, "sess", "u1", T0)
            .await
            .unwrap(),
        None,
        "shown once"
    );
    shared::keep_secret(&mut tx, &keys, "sess", "u2", "Other-Pass-1", T0 + 10)
        .await
        .unwrap();
    assert_eq!(
        shared::take_secret(&mut tx, &keys, "sess", "u2", T0 + 10)
            .await
            .unwrap(),
        None,
        "expired"
    );
    shared::keep_secret(&mut tx, &keys, "sess", "u3", "Third-Pass-1", T0)
        .await
        .unwrap();
    assert!(shared::purge(&mut tx, T0 + 1).await.unwrap() >= 1);
    tx.commit().await.unwrap();
});

db_test!(import_progress_and_cancel_are_shared, |db| {
    let row = |phase: &str, checked| ImportProgress {
        phase: phase.into(),
        total: 10,
        checked,
        written: 0,
        cancel: 0,
        updated_at: T0,
    };
    let mut tx = db.begin().await.unwrap();
    shared::reset_progress(&mut tx, "b1", &row("checking", 0))
        .await
        .unwrap();
    shared::put_progress(&mut tx, "b1", &row("checking", 4))
        .await
        .unwrap();
    shared::request_cancel(&mut tx, "b1").await.unwrap();
    shared::put_progress(&mut tx, "b1", &row("checking", 6))
        .await
        .unwrap();
    let p = shared::progress(&mut tx, "b1").await.unwrap().unwrap();
    assert_eq!((p.checked, p.cancel), (6, 1), "a cancel survives updates");
    shared::reset_progress(&mut tx, "b1", &row("writing", 0))
        .await
        .unwrap();
    let p = shared::progress(&mut tx, "b1").await.unwrap().unwrap();
    assert_eq!((p.phase.as_str(), p.cancel), ("writing", 0), "a new job");
    assert_eq!(shared::progress(&mut tx, "b2").await.unwrap(), None);
    tx.commit().await.unwrap();
});

db_test!(one_leader_and_a_takeover, |db| {
    let mut a = Leadership::new(db.db.clone(), Task::Fold);
    let mut b = Leadership::new(db.db.clone(), Task::Fold);
    let mut n = Leadership::new(db.db.clone(), Task::Notify);
    assert!(a.hold().await.unwrap());
    assert!(n.hold().await.unwrap(), "each task has its own leader");
    if db.backend() == shegong_store::Backend::Sqlite {
        // One server per SQLite file: it always leads.
        assert!(b.hold().await.unwrap());
        return;
    }
    assert!(!b.hold().await.unwrap(), "one fold leader at a time");
    assert!(a.hold().await.unwrap(), "the leader keeps the lead");
    // The leader's connection dies (its process was killed): the server drops its lock, and the
    // other takes the lead at its next try.
    let pid: (i32,) = sqlx::query_as("SELECT pg_backend_pid()")
        .fetch_one(a.conn().unwrap())
        .await
        .unwrap();
    let mut c = db.read().await.unwrap();
    sqlx::query("SELECT pg_terminate_backend($1)")
        .bind(pid.0)
        .execute(&mut *c)
        .await
        .unwrap();
    drop(c);
    let mut took = false;
    for _ in 0..50 {
        if b.hold().await.unwrap() {
            took = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(took, "the other instance took the lead");
    assert!(
        !a.hold().await.unwrap(),
        "the old leader sees it lost the lead"
    );
    // Folding on the leader's connection works.
    shegong_store::statistics::counters::fold_on(b.conn().unwrap())
        .await
        .unwrap();
    b.release().await;
    for _ in 0..50 {
        if a.hold().await.unwrap() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("a released lead was not taken");
});
