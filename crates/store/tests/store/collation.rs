//! Region codes are compared byte-wise whatever the database's default collation: `scripts/test`
//! runs these (and every storage test) once more on PostgreSQL with `TEST_PG_COLLATION` set to
//! an ICU locale, where `:` (the subtree range's upper bound) sorts before the digits.

use super::*;
use shegong_store::Backend;
use shegong_store::bulk;
use shegong_store::network::regions;

db_test!(test_database_has_the_requested_collation, |db| {
    let wanted = std::env::var("TEST_PG_COLLATION").unwrap_or_default();
    if db.backend() != Backend::Postgres || wanted.is_empty() {
        return;
    }
    let mut c = db.read().await.unwrap();
    let (provider, locale): (String, String) = sqlx::query_as(
        "SELECT datlocprovider::text, COALESCE(daticulocale, '') FROM pg_database \
         WHERE datname = current_database()",
    )
    .fetch_one(&mut *c)
    .await
    .unwrap();
    assert_eq!((provider.as_str(), locale.as_str()), ("i", wanted.as_str()));
    // The default order really differs from byte order here, or this run proves nothing.
    let (colon_first,): (bool,) = sqlx::query_as("SELECT '4302:' < '430203'")
        .fetch_one(&mut *c)
        .await
        .unwrap();
    assert!(colon_first);
});

db_test!(subtree_ranges_and_code_order_are_bytewise, |db| {
    let mut c = db.read().await.unwrap();
    // A range scan over a city's subtree finds exactly the townships under its prefix.
    let in_city = bulk::townships(&mut c, &scope("4302")).await.unwrap();
    assert!(!in_city.is_empty());
    assert!(in_city.iter().all(|(code, _)| code.starts_with("4302")));
    let in_province = bulk::townships(&mut c, &scope("43")).await.unwrap();
    assert_eq!(
        in_city.len(),
        in_province
            .iter()
            .filter(|(code, _)| code.starts_with("4302"))
            .count()
    );
    // `ORDER BY code` is byte order.
    let codes: Vec<&str> = in_province.iter().map(|(code, _)| code.as_str()).collect();
    let mut sorted = codes.clone();
    sorted.sort_unstable();
    assert_eq!(codes, sorted);
    let kids = regions::children(&mut c, &Scope::national(), Some("43"))
        .await
        .unwrap();
    let kid_codes: Vec<&str> = kids.iter().map(|r| r.code.as_str()).collect();
    let mut kids_sorted = kid_codes.clone();
    kids_sorted.sort_unstable();
    assert_eq!(kid_codes, kids_sorted);
    // A name search stays inside the subtree.
    let found = regions::search(&mut c, &scope("4302"), db.backend(), "街道", 200)
        .await
        .unwrap();
    assert!(!found.is_empty());
    assert!(found.iter().all(|r| r.code.starts_with("4302")));
});
