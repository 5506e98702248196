//! "Name contains" through the names' characters and pairs (migration 0066, issue 20 item 2): the list
//! finds exactly the files a test of every name finds, after registering one by one or in
//! bulk, renaming and moving; and the migration's split of the names already on file gives the
//! rows the code writes.

use chrono::NaiveDate;
use shegong_store::PageRequest;
use shegong_store::crypto::{Algorithm, KeyRing};
use shegong_store::people::residents::{self, Filter, ResidentInput, Viewer};
use shegong_store::sql::Sql;

use super::*;

const NOW: i64 = 1_780_000_000_000;

fn viewer(region: &str) -> Viewer {
    Viewer {
        scope: scope(region),
        user_id: "tester".into(),
        sees_protected: true,
        today: NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
    }
}

fn person(region: &str, name: &str) -> ResidentInput {
    ResidentInput {
        region: Some(code(region)),
        name: name.into(),
        birth_date: "1950-01-01".into(),
        risk_tier: "general".into(),
        legal_basis: "statutory_duty".into(),
        registered_on: "2026-01-01".into(),
        ..Default::default()
    }
}

/// The names `v` finds for `text` (and the region filter), sorted.
async fn found(db: &Db, v: &Viewer, text: &str, region: Option<&str>) -> Vec<String> {
    let f = Filter {
        q: Some(text.into()),
        region: region.map(code),
        ..Default::default()
    };
    let mut c = db.read().await.unwrap();
    let page = residents::list(&mut c, v, &f, PageRequest::new(Some(1), Some(200)))
        .await
        .unwrap();
    let mut names: Vec<String> = page.items.into_iter().map(|r| r.name).collect();
    names.sort();
    assert_eq!(
        page.total,
        names.len() as i64,
        "{text}: count and page agree"
    );
    names
}

/// What testing every name in `v`'s scope finds (case ignored, as the list does).
async fn every_name(db: &Db, v: &Viewer, text: &str, region: Option<&str>) -> Vec<String> {
    let f = Filter {
        region: region.map(code),
        ..Default::default()
    };
    let mut c = db.read().await.unwrap();
    let page = residents::list(&mut c, v, &f, PageRequest::new(Some(1), Some(200)))
        .await
        .unwrap();
    // The list drops the wildcards typed (`Sql::contains_any`).
    let text = text.trim().replace(['%', '_'], "").to_lowercase();
    let mut names: Vec<String> = page
        .items
        .into_iter()
        .map(|r| r.name)
        .filter(|n| n.to_lowercase().contains(&text))
        .collect();
    names.sort();
    names
}

const SEARCHES: &[&str] = &[
    "王",
    "明",
    "小明",
    "王小明",
    " 明 ",
    "强",
    "芳",
    "王芳",
    "li",
    "LI",
    "Na",
    "Li N",
    "3",
    "王3",
    "王王",
    "无此人",
    "%",
    "明_",
    "王_明",
    "王 明",
    "a明",
];

async fn same_as_every_name(db: &Db, v: &Viewer, region: Option<&str>) {
    for text in SEARCHES {
        assert_eq!(
            found(db, v, text, region).await,
            every_name(db, v, text, region).await,
            "search {text:?} in {region:?}"
        );
    }
}

async fn rows(db: &Db) -> Vec<(String, String, String)> {
    let mut c = db.read().await.unwrap();
    Sql::new(
        "SELECT ch, region_code, resident_id FROM resident_name_chars ORDER BY resident_id, ch",
    )
    .fetch_all(&mut c)
    .await
    .unwrap()
}

db_test!(name_searches_find_what_testing_every_name_finds, |db| {
    let k = KeyRing::from_spec(&KeyRing::generate_spec(Algorithm::Aes256Gcm)).unwrap();
    let county = viewer("430202");
    let mut tx = db.begin().await.unwrap();
    let mut ids = Vec::new();
    for (region, name) in [
        ("430202001", "王小明"),
        ("430202001", " 李明 "),
        ("430202002", "王芳"),
        ("430202002", "Li Na"),
        ("430202001", "王王3"),
        ("430203001", "王明"),
    ] {
        let v = viewer(&region[..6]);
        ids.push(
            residents::create(&mut tx, &v, &k, &person(region, name), "tester", NOW)
                .await
                .unwrap(),
        );
    }
    tx.commit().await.unwrap();
    assert_eq!(found(&db, &county, "明", None).await, ["李明", "王小明"]);
    assert_eq!(
        found(&db, &viewer("4302"), "明", None).await,
        ["李明", "王小明", "王明"]
    );
    assert_eq!(found(&db, &county, "li", None).await, ["Li Na"]);
    for region in [None, Some("430202001"), Some("430202002"), Some("430203")] {
        same_as_every_name(&db, &county, region).await;
    }
    same_as_every_name(&db, &viewer("43"), None).await;

    // Bulk registration (an import's commit).
    let inputs = [person("430202001", "张小明"), person("430202002", "赵强")];
    register_in_bulk(&db, &county, &k, &inputs, ("导入员", NOW)).await;
    assert_eq!(
        found(&db, &county, "小明", None).await,
        ["张小明", "王小明"]
    );
    same_as_every_name(&db, &county, None).await;

    // Renamed and moved: 李明 becomes 李强 in the other township.
    let mut tx = db.begin().await.unwrap();
    residents::update(
        &mut tx,
        &county,
        &k,
        &ids[1],
        &person("430202002", "李强"),
        "tester",
        NOW,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(found(&db, &county, "明", None).await, ["张小明", "王小明"]);
    assert_eq!(
        found(&db, &county, "强", Some("430202002")).await,
        ["李强", "赵强"]
    );
    assert!(
        found(&db, &county, "强", Some("430202001"))
            .await
            .is_empty()
    );
    for region in [None, Some("430202001"), Some("430202002")] {
        same_as_every_name(&db, &county, region).await;
    }

    // The migration's split of the names on file is the rows the code wrote.
    let written = rows(&db).await;
    assert!(written.len() > 20);
    let migration = if db.backend() == shegong_store::Backend::Postgres {
        include_str!("../../migrations/postgres/0066_name_chars.sql")
    } else {
        include_str!("../../migrations/sqlite/0066_name_chars.sql")
    };
    let split =
        migration[migration.find("WITH RECURSIVE").unwrap()..].trim_end_matches([';', '\n']);
    let mut tx = db.begin().await.unwrap();
    Sql::new("DELETE FROM resident_name_chars")
        .execute(&mut tx)
        .await
        .unwrap();
    Sql::new(split).execute(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(rows(&db).await, written);
});

db_test!(
    a_name_more_files_hold_than_the_count_reaches_pages_like_the_rest,
    |db| {
        // More files hold 王 than the count's cap: the page walks the newest files instead of
        // starting from the key's rows, and must show the same files in the same order.
        let k = KeyRing::from_spec(&KeyRing::generate_spec(Algorithm::Aes256Gcm)).unwrap();
        let county = viewer("430202");
        let held = shegong_store::LIST_COUNT_CAP as usize + 30;
        let inputs: Vec<ResidentInput> = (0..held + held / 9)
            .map(|i| {
                let family = if i % 10 == 3 { "李" } else { "王" };
                person(
                    if i % 2 == 0 { "430202001" } else { "430202002" },
                    &format!(
                        "{family}{}",
                        char::from_u32(0x4E00 + (i % 5000) as u32).unwrap()
                    ),
                )
            })
            .collect();
        register_in_bulk(&db, &county, &k, &inputs, ("导入员", NOW)).await;

        let mut c = db.read().await.unwrap();
        let everyone = residents::list(
            &mut c,
            &county,
            &Filter::default(),
            PageRequest::new(Some(1), Some(100)),
        )
        .await
        .unwrap();
        let newest_held: Vec<String> = everyone
            .items
            .into_iter()
            .filter(|r| r.name.contains('王'))
            .map(|r| r.id)
            .collect();
        let search = Filter {
            q: Some("王".into()),
            ..Default::default()
        };
        for n in 1..=3 {
            let page = residents::list(
                &mut c,
                &county,
                &search,
                PageRequest::new(Some(n), Some(20)),
            )
            .await
            .unwrap();
            assert!(page.capped);
            assert_eq!(page.total, shegong_store::LIST_COUNT_CAP);
            let ids: Vec<String> = page.items.into_iter().map(|r| r.id).collect();
            let from = (n as usize - 1) * 20;
            assert_eq!(ids, newest_held[from..from + 20], "page {n}");
        }
    }
);
