use super::*;
use shegong_store::network::regions;

db_test!(embedded_tree_has_the_nbs_counts, |db| {
    let mut c = db.read().await.unwrap();
    let counts = regions::count_by_level(&mut c).await.unwrap();
    assert_eq!(
        counts,
        vec![
            ("province".to_string(), 31),
            ("city".to_string(), 342),
            ("county".to_string(), 2978),
            ("township".to_string(), 41352),
        ]
    );
    // Loading again is a no-op.
    drop(c);
    assert_eq!(regions::load_embedded(&db).await.unwrap(), 0);
});

db_test!(regions_carry_level_kind_and_path, |db| {
    let mut c = db.read().await.unwrap();
    let r = regions::get(&mut c, &Scope::national(), "430203001")
        .await
        .unwrap();
    assert_eq!(r.name, "贺家土街道");
    assert_eq!(r.level, "township");
    assert_eq!(r.kind, "street");
    assert_eq!(r.parent_code.as_deref(), Some("430203"));
    assert_eq!(r.display_path(), "湖南省 / 株洲市 / 芦淞区 / 贺家土街道");
    let bj = regions::get(&mut c, &Scope::national(), "110101")
        .await
        .unwrap();
    assert_eq!(bj.display_path(), "北京市 / 东城区");
    assert_eq!(bj.path_names, "北京市/市辖区/东城区");
    // 广州市: 142 街道 + 34 镇 administrative, 2 functional zones.
    let gz = regions::search(&mut c, &scope("4401"), db.backend(), "", 10)
        .await
        .unwrap();
    assert!(gz.is_empty());
});

db_test!(reads_are_scoped_to_the_subtree, |db| {
    let mut c = db.read().await.unwrap();
    let county = scope("430203");
    assert!(regions::get(&mut c, &county, "430203001").await.is_ok());
    assert!(matches!(
        regions::get(&mut c, &county, "430204001").await,
        Err(shegong_store::StoreError::NotFound)
    ));
    // Ancestors are outside a county scope too.
    assert!(regions::get(&mut c, &county, "4302").await.is_err());
    let top = regions::children(&mut c, &county, None).await.unwrap();
    assert_eq!(top.len(), 1);
    assert_eq!(top[0].code, "430203");
    let kids = regions::children(&mut c, &county, Some("430203"))
        .await
        .unwrap();
    assert!(
        kids.iter()
            .all(|k| k.parent_code.as_deref() == Some("430203"))
    );
    assert_eq!(kids.len() as i64, top[0].child_count);
    assert!(
        regions::children(&mut c, &county, Some("430204"))
            .await
            .is_err()
    );
    let provinces = regions::children(&mut c, &Scope::national(), None)
        .await
        .unwrap();
    assert_eq!(provinces.len(), 31);
});

db_test!(search_returns_full_paths_within_scope, |db| {
    let mut c = db.read().await.unwrap();
    let all = regions::search(&mut c, &Scope::national(), db.backend(), "城关镇", 200)
        .await
        .unwrap();
    assert_eq!(all.len(), 88, "城关镇 appears 88 times nationally");
    let henan = regions::search(&mut c, &scope("41"), db.backend(), "城关镇", 200)
        .await
        .unwrap();
    assert_eq!(henan.len(), 23);
    assert!(henan.iter().all(|r| r.code.starts_with("41")));
    assert!(
        henan
            .iter()
            .all(|r| r.display_path().starts_with("河南省 / "))
    );
    let none = regions::search(&mut c, &scope("430203"), db.backend(), "100%", 10)
        .await
        .unwrap();
    assert!(none.is_empty());
});

db_test!(villages_import_is_idempotent, |db| {
    let csv = "code,name,streetCode,provinceCode,cityCode,areaCode\n\
               430203001010,\"大塘冲社区居委会\",430203001,43,4302,430203\n\
               430203001011,\"新社区居委会\",430203001,43,4302,430203\n";
    let (read, inserted) = regions::import_villages(&db, csv.as_bytes()).await.unwrap();
    assert_eq!((read, inserted), (2, 2));
    let (_, again) = regions::import_villages(&db, csv.as_bytes()).await.unwrap();
    assert_eq!(again, 0);
    let mut c = db.read().await.unwrap();
    let v = regions::get(&mut c, &scope("430203001"), "430203001010")
        .await
        .unwrap();
    assert_eq!(v.kind, "community");
    assert_eq!(
        v.display_path(),
        "湖南省 / 株洲市 / 芦淞区 / 贺家土街道 / 大塘冲社区居委会"
    );
    let t = regions::get(&mut c, &Scope::national(), "430203001")
        .await
        .unwrap();
    assert_eq!(t.child_count, 2);
    let bad = "code,name\n4302030010,\"x\"\n";
    assert!(regions::import_villages(&db, bad.as_bytes()).await.is_err());
});
