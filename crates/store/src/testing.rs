//! Test databases for both backends (feature `testing`).
//!
//! Each test gets its own database copied from a template that is migrated and holds the region
//! tree, so a test starts in milliseconds. Templates are keyed by a hash of the migrations, so a
//! changed schema builds a new one. nextest runs each test in its own process: template builds
//! are made race-safe with an atomic rename (SQLite) and an advisory lock (PostgreSQL).
//!
//! PostgreSQL comes from `TEST_DATABASE_URL` (an admin URL; `scripts/test` starts a throw-away
//! cluster and sets it). Without it the PostgreSQL half of every test fails: it never skips.
//! On a shared server each test drops its database when it ends, and databases left by killed
//! test processes are dropped after six hours; `SHEGONG_TEST_PG_THROWAWAY` (set by
//! `scripts/test` for its own cluster) skips the per-test drop, since the cluster goes whole.
//! `TEST_PG_COLLATION` (an ICU locale such as `zh-Hans-CN`) gives the test databases that default
//! collation instead of the cluster's, so the `COLLATE "C"` columns (region codes: sorting and
//! prefix range scans) are exercised where the default order differs from byte order.
//!
//! Everything here is test support: a failure is a failing test, so it panics with a message.

use std::ops::Deref;
use std::path::PathBuf;
use std::str::FromStr;

use sha2::{Digest, Sha256};
use sqlx::any::AnyConnectOptions;
use sqlx::{AnyConnection, ConnectOptions, Executor};

use crate::{Db, DbOptions, migrate, network::regions};

pub struct TestDb {
    pub db: Db,
    pub url: String,
    dir: Option<PathBuf>,
    /// A PostgreSQL test database to drop when the test ends: (admin URL, name).
    pg: Option<(String, String)>,
}

impl Deref for TestDb {
    type Target = Db;
    fn deref(&self) -> &Db {
        &self.db
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
        // A shared server (a developer's TEST_DATABASE_URL) would otherwise keep every test's
        // copy of the template: tens of gigabytes after a few hundred runs. Dropped on a thread
        // of its own, since the test's runtime may be the one running this drop; FORCE ends the
        // pool's idle connections.
        if let Some((admin, name)) = self.pg.take() {
            let dropped = std::thread::spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                rt.block_on(async move {
                    let Ok(opts) = AnyConnectOptions::from_str(&admin) else {
                        return;
                    };
                    if let Ok(mut c) = opts.connect().await {
                        let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                        let _ = c.execute(sqlx::AssertSqlSafe(sql)).await;
                    }
                });
            });
            let _ = dropped.join();
        }
    }
}

/// How old a leftover test database (of a process killed before its drop) must be before
/// another test removes it: far longer than any test run.
const STALE_TEST_DB_MS: i64 = 6 * 3600 * 1000;

/// Drop test databases left by processes that died before dropping theirs: their names carry
/// a UUID v7, whose first 48 bits are the creation time in milliseconds.
async fn sweep_stale(conn: &mut AnyConnection) {
    let Ok(names) = sqlx::query_as::<_, (String,)>(
        "SELECT datname::text FROM pg_database WHERE datname LIKE 'shegong\\_t\\_%'",
    )
    .fetch_all(&mut *conn)
    .await
    else {
        return;
    };
    let now = crate::now_millis();
    for (name,) in names {
        let born = name
            .strip_prefix("shegong_t_")
            .and_then(|hex| hex.get(..12))
            .and_then(|ms| i64::from_str_radix(ms, 16).ok());
        if born.is_some_and(|born| now - born > STALE_TEST_DB_MS) {
            let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
            let _ = conn.execute(sqlx::AssertSqlSafe(sql)).await;
        }
    }
}

fn schema_key() -> String {
    let mut h = Sha256::new();
    for m in migrate::SQLITE.iter().chain(migrate::POSTGRES) {
        h.update(m.sql.as_bytes());
    }
    h.update(regions::VINTAGE.to_le_bytes());
    hex::encode(h.finalize())[..12].to_owned()
}

#[allow(clippy::expect_used)] // test support: a failure here fails the test
fn scratch_dir() -> PathBuf {
    let d = std::env::temp_dir().join("shegong-tests");
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// A fresh SQLite database (its own file in its own directory, removed on drop).
#[allow(clippy::unwrap_used, clippy::expect_used)] // test support: a failure here fails the test
pub async fn sqlite() -> TestDb {
    let tpl = scratch_dir().join(format!("template-{}.db", schema_key()));
    if !tpl.exists() {
        let build = scratch_dir().join(format!("build-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&build).unwrap();
        let db = Db::open(&DbOptions::new(format!(
            "sqlite://{}/t.db",
            build.display()
        )))
        .await
        .expect("open template");
        regions::load_embedded(&db).await.expect("regions");
        let out = build.join("out.db");
        db.backup_sqlite(&out).await.expect("snapshot template");
        db.close().await;
        std::fs::rename(&out, &tpl).expect("publish template");
        let _ = std::fs::remove_dir_all(&build);
    }
    let dir = scratch_dir().join(uuid::Uuid::now_v7().to_string());
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("test.db");
    std::fs::copy(&tpl, &path).expect("copy template");
    let url = format!("sqlite://{}", path.display());
    let db = Db::open(&DbOptions::new(&url)).await.expect("open test db");
    TestDb {
        db,
        url,
        dir: Some(dir),
        pg: None,
    }
}

pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| {
        panic!(
            "TEST_DATABASE_URL is not set. Run scripts/test, which starts a throw-away PostgreSQL \
             15 cluster, or point it at a server where this user may create databases."
        )
    })
}

fn with_db(admin: &str, name: &str) -> String {
    let (base, query) = match admin.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (admin, String::new()),
    };
    let root = base.rsplit_once('/').map(|(r, _)| r).unwrap_or(base);
    format!("{root}/{name}{query}")
}

/// The ICU locale named by `TEST_PG_COLLATION`, if set (letters, digits and `-` only: it goes
/// into `CREATE DATABASE`).
fn pg_collation() -> Option<String> {
    let c = std::env::var("TEST_PG_COLLATION")
        .ok()
        .filter(|c| !c.is_empty())?;
    if !c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-') {
        panic!("TEST_PG_COLLATION must be an ICU locale such as zh-Hans-CN, not {c:?}");
    }
    Some(c)
}

/// `CREATE DATABASE` for a template: the cluster's defaults, or the ICU collation asked for.
fn create_template_sql(name: &str, collation: Option<&str>) -> String {
    match collation {
        None => format!("CREATE DATABASE {name}"),
        Some(c) => format!(
            "CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C.UTF-8' \
             LOCALE_PROVIDER icu ICU_LOCALE '{c}'"
        ),
    }
}

#[allow(clippy::expect_used)] // test support: a failure here fails the test
async fn admin_conn(admin: &str) -> AnyConnection {
    sqlx::any::install_default_drivers();
    AnyConnectOptions::from_str(admin)
        .expect("admin url")
        .connect()
        .await
        .expect("connect to TEST_DATABASE_URL")
}

/// A fresh PostgreSQL database cloned from the migrated template (which has the collation of
/// `TEST_PG_COLLATION` when set; clones keep their template's).
#[allow(clippy::unwrap_used, clippy::expect_used)] // test support: a failure here fails the test
pub async fn postgres() -> TestDb {
    let admin = admin_url();
    let collation = pg_collation();
    let tpl = match &collation {
        None => format!("shegong_tpl_{}", schema_key()),
        Some(c) => format!(
            "shegong_tpl_{}_{}",
            schema_key(),
            c.to_lowercase().replace('-', "_")
        ),
    };
    let mut conn = admin_conn(&admin).await;
    // One process at a time builds the template or clones it (CREATE DATABASE ... TEMPLATE
    // refuses while another session uses the template).
    conn.execute("SELECT pg_advisory_lock(72022)")
        .await
        .unwrap();
    let exists: Option<(String,)> =
        sqlx::query_as("SELECT datname::text FROM pg_database WHERE datname = $1")
            .bind(&tpl)
            .fetch_optional(&mut conn)
            .await
            .unwrap();
    if exists.is_none() {
        let building = format!("{tpl}_build");
        conn.execute(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {building}"
        )))
        .await
        .unwrap();
        conn.execute(sqlx::AssertSqlSafe(create_template_sql(
            &building,
            collation.as_deref(),
        )))
        .await
        .unwrap();
        let db = Db::open(&DbOptions::new(with_db(&admin, &building)))
            .await
            .expect("migrate template");
        regions::load_embedded(&db).await.expect("regions");
        db.close().await;
        conn.execute(sqlx::AssertSqlSafe(format!(
            "ALTER DATABASE {building} RENAME TO {tpl}"
        )))
        .await
        .unwrap();
    }
    sweep_stale(&mut conn).await;
    let name = format!("shegong_t_{}", uuid::Uuid::now_v7().simple());
    conn.execute(sqlx::AssertSqlSafe(format!(
        "CREATE DATABASE {name} TEMPLATE {tpl}"
    )))
    .await
    .unwrap();
    conn.execute("SELECT pg_advisory_unlock(72022)")
        .await
        .unwrap();
    let url = with_db(&admin, &name);
    let db = Db::open(&DbOptions::new(&url)).await.expect("open test db");
    TestDb {
        db,
        url,
        dir: None,
        // A throw-away cluster (scripts/test's) goes as a whole: no drop per test there.
        pg: std::env::var_os("SHEGONG_TEST_PG_THROWAWAY")
            .is_none()
            .then_some((admin, name)),
    }
}

/// Write one test body and run it on both backends: `db_test!(name, |db| { ... });`
/// expands to `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! db_test {
    ($name:ident, |$db:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let $db = $crate::testing::sqlite().await;
                $body
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let $db = $crate::testing::postgres().await;
                $body
            }
        }
    };
}
