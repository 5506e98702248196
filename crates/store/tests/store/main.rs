//! Storage tests: every test body runs on SQLite and on PostgreSQL (`db_test!`).

// Integration tests fail by panicking: helpers unwrap, expect and index like the tests they serve.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod activities;
mod audit;
mod backup;
mod backup_keys;
mod caches;
mod charity;
mod collation;
mod community;
mod contact;
mod deliverables;
mod emergency;
mod evaluations;
mod execution;
mod hotline;
mod indicator_trees;
mod list_reads;
mod matching;
mod migrate_lock;
mod name_search;
mod org_scope;
mod people;
mod projects;
mod public_purchase;
mod purchase;
mod regions;
mod register_bulk;
mod reports;
mod schema_parity;
mod shared;
mod staff;
mod stations;
mod stats;
mod timebank;
mod todo;
mod users;
mod visit_earn;
mod volunteers;

use shegong_domain::{RegionCode, Role, Scope};
use shegong_store::admin::users::NewUser;
use shegong_store::{Db, db_test};

pub fn scope(code: &str) -> Scope {
    Scope {
        region: Scope::parse_region(code).unwrap(),
        org: None,
    }
}

pub fn code(c: &str) -> RegionCode {
    RegionCode::parse(c).unwrap()
}

/// Register `inputs` as an import's commit does (`register_all`, no memberships), in one
/// transaction, by `by` at `now`.
pub async fn register_in_bulk(
    db: &Db,
    v: &shegong_store::people::residents::Viewer,
    keys: &shegong_store::crypto::KeyRing,
    inputs: &[shegong_store::people::residents::ResidentInput],
    (by, now): (&str, i64),
) {
    use shegong_store::people::register_bulk::{Registration, register_all};
    let regs: Vec<Registration<'_>> = inputs
        .iter()
        .map(|input| Registration {
            input,
            membership: None,
        })
        .collect();
    let mut tx = db.begin().await.unwrap();
    register_all(&mut tx, v, keys, &regs, by, now)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// Create an account directly (a cheap fixed hash: these tests are not about passwords).
pub async fn add_user(db: &Db, username: &str, role: Role, region: &str) -> String {
    let mut tx = db.begin().await.unwrap();
    let id = shegong_store::admin::users::create(
        &mut tx,
        &NewUser {
            username: username.into(),
            display_name: username.into(),
            role,
            scope: scope(region),
            password_hash: "$argon2id$test".into(),
            must_change_password: true,
            is_demo: false,
        },
        1_700_000_000_000,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}
