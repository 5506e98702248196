use super::*;
use shegong_store::admin::users::{self, Filter};
use shegong_store::{PageRequest, StoreError};

db_test!(lists_and_reads_are_scoped_by_region, |db| {
    let a = add_user(&db, "lusong_admin", Role::CivilAffairsAdmin, "430203").await;
    let b = add_user(&db, "hetang_admin", Role::CivilAffairsAdmin, "430202").await;
    add_user(&db, "hjt_worker", Role::SocialWorker, "430203001").await;
    add_user(&db, "national_sec", Role::SecurityAdmin, "CN").await;
    let mut c = db.read().await.unwrap();
    let county = scope("430203");
    let page = users::list(&mut c, &county, &Filter::default(), PageRequest::default())
        .await
        .unwrap();
    let names: Vec<_> = page.items.iter().map(|u| u.username.as_str()).collect();
    assert_eq!(names, ["hjt_worker", "lusong_admin"]);
    assert_eq!(page.total, 2);
    assert!(users::get(&mut c, &county, &a).await.is_ok());
    assert!(matches!(
        users::get(&mut c, &county, &b).await,
        Err(StoreError::NotFound)
    ));
    let all = users::list(
        &mut c,
        &Scope::national(),
        &Filter::default(),
        PageRequest::default(),
    )
    .await
    .unwrap();
    assert_eq!(all.total, 4);
    let filtered = users::list(
        &mut c,
        &Scope::national(),
        &Filter {
            role: Some(Role::SocialWorker),
            ..Default::default()
        },
        PageRequest::default(),
    )
    .await
    .unwrap();
    assert_eq!(filtered.total, 1);
    let by_text = users::list(
        &mut c,
        &scope("43"),
        &Filter {
            q: Some("ADMIN".into()),
            ..Default::default()
        },
        PageRequest::default(),
    )
    .await
    .unwrap();
    assert_eq!(by_text.total, 2);
    let u = users::get(&mut c, &county, &a).await.unwrap();
    assert_eq!(u.region_path.as_deref(), Some("湖南省/株洲市/芦淞区"));
});

db_test!(usernames_are_unique_and_errors_name_the_field, |db| {
    add_user(&db, "wang.li", Role::SocialWorker, "430203001").await;
    let mut tx = db.begin().await.unwrap();
    let err = users::create(
        &mut tx,
        &users::NewUser {
            username: "Wang.Li".into(),
            display_name: "王丽".into(),
            role: Role::SocialWorker,
            scope: scope("430203001"),
            password_hash: "x".into(),
            must_change_password: true,
            is_demo: false,
        },
        0,
    )
    .await
    .unwrap_err();
    match err {
        StoreError::Invalid(f) => {
            assert_eq!((f.field, f.code), ("username", "user.username_taken"))
        }
        other => panic!("{other:?}"),
    }
    drop(tx);
    let mut tx = db.begin().await.unwrap();
    let err = users::create(
        &mut tx,
        &users::NewUser {
            username: "mgr1".into(),
            display_name: "经理".into(),
            role: Role::AgencyManager,
            scope: scope("430203"),
            password_hash: "x".into(),
            must_change_password: true,
            is_demo: false,
        },
        0,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(f) if f.field == "org"));
});

db_test!(failed_logins_lock_the_account, |db| {
    let id = add_user(&db, "lockme", Role::SocialWorker, "430203001").await;
    let mut tx = db.begin().await.unwrap();
    for i in 1..=4 {
        let locked = users::auth::record_failure(&mut tx, &id, 5, 900_000, 1000 + i)
            .await
            .unwrap();
        assert_eq!(locked, None);
    }
    let locked = users::auth::record_failure(&mut tx, &id, 5, 900_000, 2000)
        .await
        .unwrap();
    assert_eq!(locked, Some(902_000));
    tx.commit().await.unwrap();
    let mut c = db.read().await.unwrap();
    let u = users::get(&mut c, &Scope::national(), &id).await.unwrap();
    assert!(u.is_locked(2001));
    assert!(!u.is_locked(902_001));
});
