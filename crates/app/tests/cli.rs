//! The `shegong` binary, run as an operator would.

// Integration tests fail by panicking: helpers unwrap, expect and index like the tests they serve.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use shegong_store::admin::audit::{self, Actor, Event};
use shegong_store::sql::Sql;
use shegong_store::{Db, DbOptions};

struct Dir(PathBuf);

impl Dir {
    fn new() -> Self {
        let d = std::env::temp_dir().join(format!("shegong-cli-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }
    fn url(&self, name: &str) -> String {
        format!("sqlite://{}", self.0.join(name).display())
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn shegong(url: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_shegong"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("SHEGONG_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn users_tokens_and_audit_verify_detects_tampering() {
    let dir = Dir::new();
    let url = dir.url("t.db");
    let out = shegong(&url, &["migrate"], None);
    assert!(out.status.success(), "{}", text(&out));
    let out = shegong(
        &url,
        &[
            "user",
            "add",
            "ls_admin",
            "--role",
            "civil_affairs_admin",
            "--region",
            "430203",
            "--password-stdin",
        ],
        Some("Lusong-Admin-2026\n"),
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("must be changed at first sign-in"));
    // Bad input names the field.
    let out = shegong(
        &url,
        &["user", "add", "x1", "--role", "root", "--region", "430203"],
        None,
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("--role"), "{}", text(&out));
    let out = shegong(
        &url,
        &[
            "user",
            "add",
            "weak",
            "--role",
            "social_worker",
            "--region",
            "430203001",
            "--password-stdin",
        ],
        Some("short\n"),
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("password: The password is too short."),
        "{}",
        text(&out)
    );
    let out = shegong(
        &url,
        &[
            "user",
            "add",
            "mgr",
            "--role",
            "agency_manager",
            "--region",
            "430203",
        ],
        None,
    );
    assert!(
        text(&out).contains("org: An agency manager must belong to an organisation."),
        "{}",
        text(&out)
    );
    let out = shegong(
        &url,
        &["token", "create", "ls_admin", "--name", "统计"],
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    let token = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(token.starts_with("sg_") && token.len() == 67, "{token}");

    let out = shegong(&url, &["audit", "verify"], None);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("audit log intact: 2 entries"),
        "{}",
        text(&out)
    );

    // Someone with database access rewrites history.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let db = Db::connect(&DbOptions::new(&url)).await.unwrap();
        let mut tx = db.begin().await.unwrap();
        Sql::new("UPDATE audit_log SET changes = '[]' WHERE seq = 1")
            .execute(&mut tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        db.close().await;
    });
    let out = shegong(&url, &["audit", "verify"], None);
    assert!(!out.status.success());
    assert!(text(&out).contains("entry #1: content"), "{}", text(&out));
}

fn integrity_and_chain(path: &Path) -> (bool, bool, i64) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let db = Db::open(&DbOptions::new(format!("sqlite://{}", path.display())))
            .await
            .unwrap();
        let mut c = db.read().await.unwrap();
        let ok = shegong_store::sqlite_integrity_ok(&mut c).await.unwrap();
        let v = audit::verify(&mut c).await.unwrap();
        drop(c);
        db.close().await;
        (ok, v.ok(), v.checked)
    })
}

#[test]
fn backup_during_writes_restores_to_a_sound_database() {
    let dir = Dir::new();
    let url = dir.url("live.db");
    assert!(shegong(&url, &["migrate"], None).status.success());
    // A writer keeps committing while backups are taken by the CLI.
    let writer_url = url.clone();
    let writer = std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let db = Db::connect(&DbOptions::new(&writer_url)).await.unwrap();
            for i in 0..400i64 {
                let mut tx = db.begin().await.unwrap();
                audit::record(
                    &mut tx,
                    db.backend(),
                    &Actor::system("w"),
                    Event::new("create", "x", Some(i.to_string())).region("43"),
                    i,
                )
                .await
                .unwrap();
                tx.commit().await.unwrap();
            }
            db.close().await;
        });
    });
    let mut backups = Vec::new();
    for n in 0..3 {
        std::thread::sleep(std::time::Duration::from_millis(40));
        let path = dir.0.join(format!("backup-{n}.db"));
        let out = shegong(&url, &["backup", path.to_str().unwrap()], None);
        assert!(out.status.success(), "{}", text(&out));
        backups.push(path);
    }
    writer.join().unwrap();
    let out = shegong(&url, &["backup", backups[0].to_str().unwrap()], None);
    assert!(
        !out.status.success(),
        "refuses to overwrite an existing file"
    );
    for b in &backups {
        let (ok, chain, _) = integrity_and_chain(b);
        assert!(ok && chain, "backup {} is not sound", b.display());
    }
    // Restore the last backup into a new location and check it.
    let restored = dir.url("restored.db");
    let out = shegong(&restored, &["restore", backups[2].to_str().unwrap()], None);
    assert!(out.status.success(), "{}", text(&out));
    let (ok, chain, n) = integrity_and_chain(&dir.0.join("restored.db"));
    assert!(ok && chain && n > 0);
}

#[test]
fn keys_rotate_and_reencrypt_while_values_stay_readable() {
    use shegong_store::crypto::{self, Algorithm};
    use shegong_store::workforce::staff::{self, StaffInput};
    let dir = Dir::new();
    let url = dir.url("k.db");
    let key_file = dir.0.join("keys.toml");
    let config = dir.0.join("shegong.toml");
    std::fs::write(
        &config,
        format!("[crypto]\nkey_file = \"{}\"\n", key_file.display()),
    )
    .unwrap();
    let cfg = config.to_str().unwrap();
    assert!(shegong(&url, &["migrate"], None).status.success());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (keys, created) = crypto::load_or_create(&key_file, Algorithm::Aes256Gcm).unwrap();
        assert!(created);
        let db = Db::connect(&DbOptions::new(&url)).await.unwrap();
        let mut tx = db.begin().await.unwrap();
        for (n, id) in ["11010519491231002X", "440524188001010014"]
            .iter()
            .enumerate()
        {
            let input = StaffInput {
                name: format!("人员{n}"),
                id_type: shegong_domain::people::identity::IdType::ResidentId,
                id_number: (*id).into(),
                sex: None,
                birth_date: None,
                mobile: Some("+8613812345678".into()),
                education: shegong_domain::workforce::Education::Unknown,
                major: String::new(),
                employer_org_id: None,
                station_id: None,
                region: Some(shegong_domain::RegionCode::parse("430203001").unwrap()),
                role: shegong_domain::workforce::StaffRole::Frontline,
                employment_mode: shegong_domain::workforce::Employment::Direct,
                sector: shegong_domain::workforce::Sector::CivilAffairs,
                joined_on: chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
                left_on: None,
                left_reason: String::new(),
            };
            staff::create(
                &mut tx,
                &shegong_domain::Scope::national(),
                &keys,
                &input,
                0,
            )
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
        db.close().await;
    });
    let out = shegong(
        &url,
        &["keys", "rotate", "--algorithm", "sm4-gcm", "--config", cfg],
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = shegong(&url, &["keys", "reencrypt", "--config", cfg], None);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("4 values re-sealed"), "{}", text(&out));
    rt.block_on(async {
        let (keys, _) = crypto::load_or_create(&key_file, Algorithm::Aes256Gcm).unwrap();
        let db = Db::connect(&DbOptions::new(&url)).await.unwrap();
        let mut c = db.read().await.unwrap();
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT id_number_sealed, mobile_sealed FROM staff")
                .fetch_all(&mut *c)
                .await
                .unwrap();
        for (idn, mobile) in rows {
            assert!(!keys.is_stale(&idn) && !keys.is_stale(&mobile));
            assert!(keys.open(staff::ID_FIELD, &idn).unwrap().len() == 18);
        }
        // Lookups keep working: the lookup hash does not depend on the encryption key.
        assert!(
            staff::find_by_id_number(
                &mut c,
                &shegong_domain::Scope::national(),
                &keys,
                "11010519491231002X"
            )
            .await
            .unwrap()
            .is_some()
        );
    });
}

#[test]
fn bench_fills_only_its_target_and_refuses_a_database_in_use() {
    let dir = Dir::new();
    let configured = dir.url("configured.db");
    let target = dir.url("bench.db");
    let out = shegong(
        &configured,
        &[
            "bench",
            "--target-url",
            &target,
            "--stations",
            "30",
            "--staff-per-station",
            "2",
        ],
        None,
    );
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("create stations: 30 in"), "{said}");
    assert!(
        said.contains("create staff (sealed identity): 60 in"),
        "{said}"
    );
    assert!(said.contains("staff find by identity number"), "{said}");
    assert!(
        !dir.0.join("configured.db").exists(),
        "the configured database is never touched"
    );
    // A second run would mix synthetic rows into real ones: refused.
    let again = shegong(
        &configured,
        &["bench", "--target-url", &target, "--stations", "5"],
        None,
    );
    assert!(!again.status.success());
    assert!(
        text(&again).contains("already holds stations"),
        "{}",
        text(&again)
    );
}

#[test]
fn stats_verify_finds_a_damaged_counter_and_rebuild_repairs_it() {
    let dir = Dir::new();
    let url = dir.url("s.db");
    assert!(shegong(&url, &["migrate"], None).status.success());
    let out = shegong(&url, &["stats", "verify"], None);
    assert!(
        out.status.success() && text(&out).contains("statistics match"),
        "{}",
        text(&out)
    );
    // A counter with no records behind it is a difference.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let db = Db::connect(&DbOptions::new(&url)).await.unwrap();
        let mut tx = db.begin().await.unwrap();
        shegong_store::sql::Sql::new("INSERT INTO stat_counts (region_code, month, dim, key, n) VALUES ('43', '2026-01', 'kind', 'visit', 3)")
            .execute(&mut tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        db.close().await;
    });
    let out = shegong(&url, &["stats", "verify"], None);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("43 2026-01 kind=visit: stored n=3"),
        "{}",
        text(&out)
    );
    let out = shegong(&url, &["stats", "rebuild"], None);
    assert!(
        out.status.success() && text(&out).contains("0 counters rebuilt"),
        "{}",
        text(&out)
    );
    assert!(shegong(&url, &["stats", "verify"], None).status.success());
}

#[test]
fn purchase_verify_checks_deliverables_and_budget_execution() {
    let dir = Dir::new();
    let url = dir.url("p.db");
    assert!(shegong(&url, &["migrate"], None).status.success());
    let out = shegong(&url, &["purchase", "verify"], None);
    assert!(
        out.status.success() && text(&out).contains("match the records"),
        "{}",
        text(&out)
    );
    let out = shegong(&url, &["purchase", "rebuild"], None);
    assert!(
        out.status.success() && text(&out).contains("deliverables of 0 contracts rebuilt"),
        "{}",
        text(&out)
    );
}

#[test]
fn ledger_verify_finds_a_balance_that_is_not_its_postings() {
    let dir = Dir::new();
    let url = dir.url("l.db");
    assert!(shegong(&url, &["migrate"], None).status.success());
    let out = shegong(&url, &["ledger", "verify"], None);
    assert!(
        out.status.success() && text(&out).contains("ledger balances"),
        "{}",
        text(&out)
    );
    // A scheme with a person granted 3 credits; then the balance is damaged.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let person = rt.block_on(async {
        use shegong_domain::timebank::{AccountKind, EntryKind, HolderKind, Rules};
        use shegong_store::timebank as tb;
        let db = Db::connect(&DbOptions::new(&url)).await.unwrap();
        let scope = shegong_domain::Scope {
            region: shegong_domain::Scope::parse_region("430202").unwrap(),
            org: None,
        };
        let mut tx = db.begin().await.unwrap();
        let input = tb::SchemeInput {
            region: shegong_domain::RegionCode::parse("430202").unwrap(),
            name: "荷塘时间银行".into(),
            operator: String::new(),
            rules: Rules::guangzhou(),
        };
        let s = tb::create_scheme(&mut tx, &scope, &input, "test", 0)
            .await
            .unwrap();
        let account = tb::AccountInput {
            kind: AccountKind::Person,
            holder_kind: HolderKind::Named,
            holder_id: None,
            holder_name: "王阿姨".into(),
        };
        let person = tb::open_account(&mut tx, &scope, &s, &account, "test", 0)
            .await
            .unwrap();
        let grant = tb::EntryInput {
            kind: EntryKind::Grant,
            amount: 3,
            to_account_id: None,
            source_kind: shegong_domain::timebank::SourceKind::Service,
            source_id: None,
            note: String::new(),
        };
        tb::post(&mut tx, &scope, &person, &grant, "test", 0)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        db.close().await;
        person
    });
    let out = shegong(&url, &["ledger", "verify"], None);
    assert!(out.status.success(), "{}", text(&out));
    rt.block_on(async {
        let db = Db::connect(&DbOptions::new(&url)).await.unwrap();
        let mut tx = db.begin().await.unwrap();
        shegong_store::sql::Sql::new("UPDATE timebank_accounts SET balance = 7 WHERE id = ")
            .bind(person.as_str())
            .execute(&mut tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        db.close().await;
    });
    let out = shegong(&url, &["ledger", "verify"], None);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("account {person}: balance 7, postings sum to 3")),
        "{}",
        text(&out)
    );
}

/// `shegong serve` on `url` with `cfg`, in the background.
fn serve(url: &str, cfg: &str) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_shegong"))
        .args([
            "serve",
            "--config",
            cfg,
            "--bind",
            "127.0.0.1:0",
            "--metrics-bind",
            "",
        ])
        .env("DATABASE_URL", url)
        .env("SHEGONG_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The output of `child` if it exits within `secs`; otherwise it is killed and `None`.
fn exits_within(mut child: std::process::Child, secs: u64) -> Option<Output> {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while std::time::Instant::now() < until {
        if child.try_wait().unwrap().is_some() {
            return Some(child.wait_with_output().unwrap());
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// Wait until the server holds its lock (it has opened the database and checked its keys).
fn wait_until_serving(lock: &Path) {
    for _ in 0..600 {
        if std::fs::read_to_string(lock).is_ok_and(|s| s.contains("shegong serve")) {
            // The key check runs right after the lock: give it a moment to record the keys.
            std::thread::sleep(std::time::Duration::from_millis(1500));
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("the server did not start");
}

/// One staff record with a sealed identity number, under the key ring at `key_file` (created).
fn seal_a_staff_record(url: &str, key_file: &Path) {
    use shegong_store::crypto::{self, Algorithm};
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (keys, _) = crypto::load_or_create(key_file, Algorithm::Aes256Gcm).unwrap();
        let db = Db::connect(&DbOptions::new(url)).await.unwrap();
        let mut tx = db.begin().await.unwrap();
        let input = shegong_store::workforce::staff::StaffInput {
            name: "人员".into(),
            id_type: shegong_domain::people::identity::IdType::ResidentId,
            id_number: "11010519491231002X".into(),
            sex: None,
            birth_date: None,
            mobile: None,
            education: shegong_domain::workforce::Education::Unknown,
            major: String::new(),
            employer_org_id: None,
            station_id: None,
            region: Some(shegong_domain::RegionCode::parse("430203001").unwrap()),
            role: shegong_domain::workforce::StaffRole::Frontline,
            employment_mode: shegong_domain::workforce::Employment::Direct,
            sector: shegong_domain::workforce::Sector::CivilAffairs,
            joined_on: chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
            left_on: None,
            left_reason: String::new(),
        };
        shegong_store::workforce::staff::create(
            &mut tx,
            &shegong_domain::Scope::national(),
            &keys,
            &input,
            0,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        db.close().await;
    });
}

#[test]
fn restore_refuses_while_a_server_holds_the_database_and_keys_must_match() {
    use shegong_store::crypto::{self, Algorithm};
    let dir = Dir::new();
    let url = dir.url("live.db");
    let key_file = dir.0.join("keys.toml");
    let cfg_path = dir.0.join("shegong.toml");
    std::fs::write(
        &cfg_path,
        format!("[crypto]\nkey_file = \"{}\"\n", key_file.display()),
    )
    .unwrap();
    let cfg = cfg_path.to_str().unwrap();
    assert!(shegong(&url, &["migrate"], None).status.success());
    // Sealed data, as a database in use has.
    seal_a_staff_record(&url, &key_file);
    let lock = shegong_store::server_lock::lock_file(&url);

    let server = serve(&url, cfg);
    wait_until_serving(&lock);
    let backup = dir.0.join("b.db");
    let out = shegong(&url, &["backup", backup.to_str().unwrap()], None);
    assert!(out.status.success(), "backup while serving: {}", text(&out));
    let out = shegong(&url, &["restore", backup.to_str().unwrap()], None);
    assert!(!out.status.success(), "restore under a running server");
    let said = text(&out);
    assert!(
        said.contains("in use by shegong serve, pid") && said.contains("stop the server"),
        "{said}"
    );
    // A second server on the same SQLite file is refused too.
    let second = exits_within(serve(&url, cfg), 60).expect("a second server must not start");
    assert!(!second.status.success());
    assert!(
        text(&second).contains("in use by shegong serve"),
        "{}",
        text(&second)
    );
    // A killed server leaves no stale lock.
    let mut server = server;
    server.kill().unwrap();
    server.wait().unwrap();
    let out = shegong(&url, &["restore", backup.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", text(&out));

    // Without its key ring the server refuses, says where the file belongs, and makes none.
    let kept = dir.0.join("keys.kept");
    std::fs::rename(&key_file, &kept).unwrap();
    let out = exits_within(serve(&url, cfg), 60).expect("must refuse to start");
    assert!(!out.status.success());
    let said = text(&out);
    assert!(
        said.contains("does not exist") && said.contains(&key_file.display().to_string()),
        "{said}"
    );
    assert!(
        !key_file.exists(),
        "no fresh key ring for a sealed database"
    );
    // Another key ring in its place: refused, naming the missing key.
    let (_, created) = crypto::load_or_create(&key_file, Algorithm::Aes256Gcm).unwrap();
    assert!(created);
    let out = exits_within(serve(&url, cfg), 60).expect("must refuse to start");
    assert!(!out.status.success());
    assert!(
        text(&out).contains("lacks or holds with other material"),
        "{}",
        text(&out)
    );
    // The original ring back: it serves.
    std::fs::rename(&kept, &key_file).unwrap();
    let server = serve(&url, cfg);
    assert!(
        exits_within(server, 8).is_none(),
        "serves with its own keys"
    );
}

/// Issue 18 (walkthrough): the log written to a file or a pipe carries no ANSI colour codes.
#[test]
fn a_log_that_is_not_a_terminal_has_no_colour_codes() {
    let dir = Dir::new();
    let url = dir.url("plain.db");
    let mut child = Command::new(env!("CARGO_BIN_EXE_shegong"))
        .args(["migrate"])
        .env("DATABASE_URL", &url)
        .env("SHEGONG_LOG", "info")
        .env_remove("NO_COLOR")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{}", text(&out));
    assert!(log.contains("INFO"), "no log lines to check: {log}");
    assert!(!log.contains('\u{1b}'), "colour codes in the log: {log:?}");
}
