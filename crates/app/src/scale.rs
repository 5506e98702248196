//! `shegong demo generate --scale <name>`: realistic data at scale in an empty database, and
//! `shegong bench --scale <name>`: the measurements the statistics issue asks for, in one run on
//! the same data (see docs/performance.md). Stations and staff go through the store as in real
//! use; residents and service records are bulk-inserted in batches (like a migration would load
//! them) and the statistics counters rebuilt once, then checked with `stats verify`.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use shegong_domain::network::station::{FundingSource, Mode, Room, Status, Tier};
use shegong_domain::{RegionCode, Role, Scope};
use shegong_store::crypto::{Algorithm, KeyRing};
use shegong_store::network::stations::{self, StationInput};
use shegong_store::people::residents::{self, Viewer};
use shegong_store::sql::Sql;
use shegong_store::statistics::counters::{self, Regions};
use shegong_store::workforce::staff::{self, StaffInput};
use shegong_store::{
    Db, DbOptions, PageRequest, admin::tokens, admin::users, migrate, network::regions,
    people::services,
};

/// A named size.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    pub name: &'static str,
    /// Region whose townships get stations (a city or a province).
    pub region: &'static str,
    pub staff: usize,
    pub residents: usize,
    pub services: usize,
}

pub const SCALES: &[Scale] = &[
    Scale {
        name: "city",
        region: "4302",
        staff: 600,
        residents: 20_000,
        services: 100_000,
    },
    Scale {
        name: "province",
        region: "43",
        staff: 10_000,
        residents: 1_000_000,
        services: 10_000_000,
    },
];

pub fn scale(name: &str) -> anyhow::Result<Scale> {
    SCALES
        .iter()
        .copied()
        .find(|s| s.name == name)
        .with_context(|| {
            format!(
                "--scale: one of {}",
                SCALES.iter().map(|s| s.name).collect::<Vec<_>>().join(", ")
            )
        })
}

const NOW: i64 = 1_779_321_600_000; // 2026-05-21
const TODAY: &str = "2026-05-21";

struct Rng(u64);

impl Rng {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n.max(1)
    }
}

/// What the generator made, for the bench to address it.
pub struct World {
    pub db: Db,
    /// The data keys (the bench's server opens what the generator sealed).
    pub spec: shegong_store::crypto::KeyRingSpec,
    pub townships: Vec<String>,
    pub station_of: Vec<String>,
    pub residents: usize,
    pub services: usize,
    pub admin_id: String,
}

fn resident_key(n: usize) -> String {
    format!("r{n:09}")
}

/// A valid, unique resident identity number for person `n`.
fn id_number(county: &str, n: usize) -> String {
    let birth = chrono::NaiveDate::from_ymd_opt(1930, 1, 1).unwrap()
        + chrono::Duration::days((n % 30_000) as i64);
    let body = format!(
        "{county}{}{:03}",
        birth.format("%Y%m%d"),
        (n / 30_000) % 1000
    );
    let check = shegong_domain::people::identity::check_character(&body).expect("17 digits");
    format!("{body}{check}")
}

/// Open (migrating) an empty database at `url`, or a fresh temporary SQLite file.
pub async fn open_empty(url: Option<String>) -> anyhow::Result<(Db, String)> {
    let url = url.unwrap_or_else(|| {
        format!(
            "sqlite://{}",
            std::env::temp_dir()
                .join(format!("shegong-scale-{}.db", std::process::id()))
                .display()
        )
    });
    let db = Db::connect(&DbOptions::new(&url)).await?;
    migrate::run(&db).await?;
    regions::load_embedded(&db).await?;
    let mut c = db.read().await?;
    if Sql::new("SELECT COUNT(*) FROM stations")
        .fetch_i64(&mut c)
        .await?
        > 0
    {
        bail!("the database already holds data; generate needs an empty one");
    }
    drop(c);
    Ok((db, url))
}

/// Stations in every township of the scale's region, staff, an administrator, residents with a
/// category each, and `services` service records over the past year.
pub async fn generate(db: Db, s: Scale, services_now: usize) -> anyhow::Result<World> {
    let spec = KeyRing::generate_spec(Algorithm::Aes256Gcm);
    let keys = KeyRing::from_spec(&spec)?;
    let all = Scope::national();
    let mut c = db.read().await?;
    let townships: Vec<String> =
        Sql::new("SELECT code FROM regions WHERE level = 'township' AND code LIKE ")
            .bind(format!("{}%", s.region))
            .push(" ORDER BY code")
            .fetch_all::<(String,)>(&mut c)
            .await?
            .into_iter()
            .map(|r| r.0)
            .collect();
    drop(c);
    let t = Instant::now();
    let mut station_of = Vec::with_capacity(townships.len());
    for chunk in townships.chunks(500) {
        let mut tx = db.begin().await?;
        for code in chunk {
            let input = StationInput {
                tier: Tier::TownshipStation,
                region: RegionCode::parse(code)?,
                name: format!("{code}社工站"),
                address: String::new(),
                lng_e6: None,
                lat_e6: None,
                host_premises: "党群服务中心".into(),
                mode: Mode::Direct,
                operator_org_id: None,
                status: Status::Operating,
                status_since: "2024-01-01".into(),
                area_m2: 120,
                rooms: vec![Room::CaseRoom, Room::GroupRoom],
                staff_count: 0,
                certified_count: 0,
                phone: String::new(),
                open_hours: String::new(),
            };
            let id = stations::create(&mut tx, &all, &input, "generate", NOW).await?;
            // The year's money: a purchase contract of 200,000–400,000 yuan and township funds.
            let n = station_of.len() as i64;
            for (source, fen) in [
                (
                    FundingSource::Purchase,
                    (200_000 + n * 7_919 % 200_000) * 100,
                ),
                (
                    FundingSource::Township,
                    (20_000 + n * 104_729 % 30_000) * 100,
                ),
            ] {
                stations::set_funding(&mut tx, &all, &id, 2026, source, fen, NOW).await?;
            }
            station_of.push(id);
        }
        tx.commit().await?;
    }
    println!(
        "{} stations in {:.1} s",
        station_of.len(),
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    for chunk in (0..s.staff).collect::<Vec<_>>().chunks(1000) {
        let mut tx = db.begin().await?;
        for &n in chunk {
            let i = n % townships.len();
            let input = StaffInput {
                name: format!("社工{n}"),
                id_type: "resident_id".into(),
                id_number: id_number(&townships[i][..6], 900_000_000 + n),
                sex: None,
                birth_date: None,
                mobile: Some(format!("139{:08}", n % 100_000_000)),
                education: "bachelor".into(),
                major: String::new(),
                employer_org_id: None,
                station_id: Some(station_of[i].clone()),
                region: None,
                role: if n < townships.len() {
                    "station_head".into()
                } else {
                    "frontline".into()
                },
                employment_mode: "project_purchase".into(),
                sector: "civil_affairs".into(),
                joined_on: "2023-03-01".into(),
                left_on: None,
                left_reason: String::new(),
            };
            let id = staff::create(&mut tx, &all, &keys, &input, NOW).await?;
            // About half hold a certificate, a few of them intermediate.
            if n % 2 == 0 {
                let c = staff::NewCertificate {
                    level: if n % 10 == 0 {
                        "intermediate"
                    } else {
                        "assistant"
                    },
                    number: &format!("S{n:08}"),
                    obtained_on: "2022-06-19",
                    registered_until: None,
                };
                staff::add_certificate(&mut tx, &all, &id, &c, NOW).await?;
            }
        }
        tx.commit().await?;
    }
    println!("{} staff in {:.1} s", s.staff, t.elapsed().as_secs_f64());
    let mut tx = db.begin().await?;
    let admin_id = users::create(
        &mut tx,
        &users::NewUser {
            username: "scale_admin".into(),
            display_name: "规模测试管理员".into(),
            role: Role::CivilAffairsAdmin,
            scope: Scope::region(RegionCode::parse(s.region)?),
            password_hash: "$argon2id$none".into(),
            must_change_password: false,
            is_demo: false,
        },
        NOW,
    )
    .await?;
    tx.commit().await?;

    let t = Instant::now();
    let mut rng = Rng(2026);
    const TIERS: [&str; 3] = ["high", "key", "general"];
    const CATS: [&str; 6] = [
        "dibao",
        "tekun",
        "elder_alone",
        "elder_empty_nest",
        "disabled",
        "left_behind_child",
    ];
    for start in (0..s.residents).step_by(100) {
        let end = (start + 100).min(s.residents);
        let mut q = Sql::new(
            "INSERT INTO residents (id, region_code, name, name_key, id_type, id_number_sealed, id_number_hash, sex, birth_date, ethnicity, \
             risk_tier, legal_basis, station_id, status, visit_interval_days, next_visit_due, registered_on, created_by, created_at, updated_at) VALUES ",
        );
        let mut m = Sql::new(
            "INSERT INTO resident_memberships (id, resident_id, region_code, category, source, valid_from, created_by, created_at) VALUES ",
        );
        for n in start..end {
            let i = n % townships.len();
            let idn = id_number(&townships[i][..6], n);
            let tier = TIERS[(rng.next(10) as usize).min(9) / 4];
            let interval = shegong_domain::people::default_interval(
                shegong_domain::people::RiskTier::parse(tier)?,
            );
            let due = chrono::NaiveDate::parse_from_str(TODAY, "%Y-%m-%d")?
                + chrono::Duration::days(rng.next(interval as u64) as i64 - 3);
            let name = format!("对象{n}");
            q.push(if n == start { "(" } else { ", (" })
                .bind(resident_key(n))
                .push(", ")
                .bind(townships[i].clone())
                .push(", ")
                .bind(name.clone())
                .push(", ")
                .bind(shegong_domain::people::name_key(&name))
                .push(", 'resident_id', ")
                .bind(keys.seal(residents::ID_FIELD, &idn))
                .push(", ")
                .bind(keys.lookup_hash(residents::ID_FIELD, &idn))
                .push(", ")
                .bind(if n % 2 == 0 { "female" } else { "male" })
                .push(", ")
                .bind(format!("{}-{}-{}", &idn[6..10], &idn[10..12], &idn[12..14]))
                .push(", '汉族', ")
                .bind(tier)
                .push(", 'statutory_duty', ")
                .bind(station_of[i].clone())
                .push(", 'active', ")
                .bind(interval)
                .push(", ")
                .bind(due.to_string())
                .push(", '2025-05-01', 'generate', ")
                .bind(NOW - n as i64)
                .push(", ")
                .bind(NOW - n as i64)
                .push(")");
            m.push(if n == start { "(" } else { ", (" })
                .bind(format!("m{n:09}"))
                .push(", ")
                .bind(resident_key(n))
                .push(", ")
                .bind(townships[i].clone())
                .push(", ")
                .bind(CATS[rng.next(CATS.len() as u64) as usize])
                .push(", '民政局', '2025-05-01', 'generate', ")
                .bind(NOW)
                .push(")");
        }
        let mut tx = db.begin().await?;
        q.execute(&mut tx).await?;
        m.execute(&mut tx).await?;
        tx.commit().await?;
    }
    println!(
        "{} residents in {:.1} s",
        s.residents,
        t.elapsed().as_secs_f64()
    );
    let mut world = World {
        db,
        spec,
        townships,
        station_of,
        residents: s.residents,
        services: 0,
        admin_id,
    };
    add_services(&mut world, services_now).await?;
    let t = Instant::now();
    let n = counters::rebuild(&world.db).await?;
    println!(
        "statistics counters rebuilt: {n} in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    Ok(world)
}

/// Bulk-add service records until there are `target` (the counters are rebuilt by the caller).
pub async fn add_services(w: &mut World, target: usize) -> anyhow::Result<()> {
    let t = Instant::now();
    let from = w.services;
    let mut rng = Rng(7 + from as u64);
    const KINDS: [(&str, &str); 8] = [
        ("visit", "elderly"),
        ("visit", "social_assistance"),
        ("visit", "children"),
        ("casework", "social_assistance"),
        ("psychological", "elderly"),
        ("group", "community_governance"),
        ("community", "social_affairs"),
        ("resource_linking", "social_assistance"),
    ];
    let start_day =
        chrono::NaiveDate::parse_from_str(TODAY, "%Y-%m-%d")? - chrono::Duration::days(365);
    let mut n = from;
    while n < target {
        let end = (n + 50).min(target);
        let mut q = Sql::new(
            "INSERT INTO services (id, region_code, station_id, kind, domain, resident_id, served_on, duration_minutes, person_times, method, value_fen, workers, created_by, created_at) VALUES ",
        );
        for k in n..end {
            let r = rng.next(w.residents as u64) as usize;
            let i = r % w.townships.len();
            let (kind, domain) = KINDS[rng.next(8) as usize];
            let day = start_day + chrono::Duration::days(rng.next(365) as i64);
            q.push(if k == n { "(" } else { ", (" })
                .bind(format!("s{k:010}"))
                .push(", ")
                .bind(w.townships[i].clone())
                .push(", ")
                .bind(w.station_of[i].clone())
                .push(", ")
                .bind(kind)
                .push(", ")
                .bind(domain)
                .push(", ")
                .bind(resident_key(r))
                .push(", ")
                .bind(day.to_string())
                .push(", ")
                .bind(15 + rng.next(90) as i64)
                .push(", ")
                .bind(if kind == "group" || kind == "community" {
                    8 + rng.next(30) as i64
                } else {
                    1
                })
                .push(", ")
                .bind((kind == "visit").then_some("home"))
                .push(", ")
                .bind(if kind == "resource_linking" {
                    rng.next(500_000) as i64
                } else {
                    0
                })
                .push(", '驻站社工', 'generate', ")
                .bind(NOW - k as i64)
                .push(")");
        }
        let mut tx = w.db.begin().await?;
        q.execute(&mut tx).await?;
        tx.commit().await?;
        n = end;
        if n.is_multiple_of(1_000_000) {
            println!(
                "  … {n} service records ({:.0}/s)",
                (n - from) as f64 / t.elapsed().as_secs_f64()
            );
        }
    }
    w.services = target;
    println!(
        "{} service records added in {:.1} s",
        target - from,
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `shegong demo generate`.
pub async fn generate_command(url: Option<String>, name: &str) -> anyhow::Result<()> {
    let s = scale(name)?;
    let (db, url) = open_empty(url).await?;
    println!(
        "generating {} into {}",
        s.name,
        shegong_store::db_url_redacted(&url)
    );
    let w = generate(db, s, s.services).await?;
    let mut c = w.db.read().await?;
    let diff = counters::verify(&mut c).await?;
    println!("stats verify: {} differences", diff.len());
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The benchmark

fn pct(mut d: Vec<Duration>, p: f64) -> f64 {
    d.sort();
    let i = ((d.len() as f64 - 1.0) * p).round() as usize;
    d[i].as_secs_f64() * 1000.0
}

/// The counter reads the dashboard of `code` makes (see web/src/statistics.rs): each figure for
/// the region and its sub-regions, the months by kind and domain, people by tier and category,
/// staff, funding, visit due dates and elderly visits.
async fn dashboard_reads(db: &Db, code: &str) -> anyhow::Result<()> {
    let mut c = db.read().await?;
    for (dim, from, to) in [
        ("kind", "2025-06", "2026-05"),
        ("tier", "", ""),
        ("staff_cert", "", ""),
        ("funding", "2026", "2026"),
    ] {
        counters::read(&mut c, Regions::One(code), dim, from, to).await?;
        counters::read(&mut c, Regions::ChildrenOf(code), dim, from, to).await?;
    }
    counters::read(&mut c, Regions::One(code), "domain", "2025-06", "2026-05").await?;
    for dim in ["category", "staff_role", "due", "elderly_visit"] {
        counters::read(&mut c, Regions::One(code), dim, "", "").await?;
    }
    Ok(())
}

/// The same figures by a grouped scan of the raw tables (what a dashboard without counters does).
async fn dashboard_scan(db: &Db, code: &str) -> anyhow::Result<()> {
    let mut c = db.read().await?;
    let (lo, hi) = Scope::region(RegionCode::parse(code)?).range();
    let child = RegionCode::parse(code)?
        .level()
        .child()
        .map_or(12, |l| l.code_len()) as i64;
    Sql::new("SELECT SUBSTR(served_on, 1, 7), kind, COUNT(*), CAST(SUM(person_times) AS BIGINT) FROM services WHERE region_code >= ")
        .bind(lo.clone()).push(" AND region_code < ").bind(hi.clone())
        .push(" AND served_on >= '2025-06-01' AND served_on <= '2026-05-31' GROUP BY SUBSTR(served_on, 1, 7), kind")
        .fetch_all::<(String, String, i64, Option<i64>)>(&mut c).await.map(|_| ())?;
    Sql::new(&format!(
        "SELECT SUBSTR(region_code, 1, {child}), COUNT(*) FROM services WHERE region_code >= "
    ))
    .bind(lo.clone())
    .push(" AND region_code < ")
    .bind(hi.clone())
    .push(&format!(
        " AND served_on >= '2025-06-01' GROUP BY SUBSTR(region_code, 1, {child})"
    ))
    .fetch_all::<(String, i64)>(&mut c)
    .await?;
    Sql::new(
        "SELECT risk_tier, COUNT(*) FROM residents WHERE status = 'active' AND region_code >= ",
    )
    .bind(lo)
    .push(" AND region_code < ")
    .bind(hi)
    .push(" GROUP BY risk_tier")
    .fetch_all::<(String, i64)>(&mut c)
    .await?;
    Ok(())
}

struct Sample {
    label: String,
    p50: f64,
    p95: f64,
}

async fn time_dashboard(
    db: &Db,
    code: &str,
    runs: usize,
    scan_runs: usize,
) -> anyhow::Result<(Sample, Sample)> {
    dashboard_reads(db, code).await?;
    let mut d = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        dashboard_reads(db, code).await?;
        d.push(t.elapsed());
    }
    let mut s = Vec::new();
    for _ in 0..scan_runs {
        let t = Instant::now();
        dashboard_scan(db, code).await?;
        s.push(t.elapsed());
    }
    Ok((
        Sample {
            label: code.into(),
            p50: pct(d.clone(), 0.5),
            p95: pct(d, 0.95),
        },
        Sample {
            label: code.into(),
            p50: pct(s.clone(), 0.5),
            p95: pct(s, 0.95),
        },
    ))
}

async fn list_p90(w: &World, region: &str) -> anyhow::Result<(f64, f64)> {
    let viewer = Viewer {
        scope: Scope::region(RegionCode::parse(region)?),
        user_id: w.admin_id.clone(),
        sees_protected: false,
        today: chrono::NaiveDate::parse_from_str(TODAY, "%Y-%m-%d")?,
    };
    let mut r = Vec::new();
    let mut s = Vec::new();
    for i in 0..21 {
        let mut c = w.db.read().await?;
        let t = Instant::now();
        residents::list(
            &mut c,
            &viewer,
            &residents::Filter::default(),
            PageRequest::new(Some(1 + i % 3), Some(20)),
        )
        .await?;
        r.push(t.elapsed());
        let t = Instant::now();
        services::list(
            &mut c,
            &viewer,
            &services::Filter::default(),
            PageRequest::new(Some(1 + i % 3), Some(20)),
        )
        .await?;
        s.push(t.elapsed());
    }
    Ok((pct(r, 0.9), pct(s, 0.9)))
}

/// API writes through the real router (bearer token, JSON, audit entry, counters), by one client
/// and by eight at once, against the database's own single-row durable commit rate. Residents
/// below 20,000 are adults, so never protected.
async fn write_rates(w: &World, n: usize) -> anyhow::Result<Writes> {
    let mut tx = w.db.begin().await?;
    let (_, secret) = tokens::create(&mut tx, &w.admin_id, "bench", NOW).await?;
    Sql::new("CREATE TABLE bench_commit (id TEXT PRIMARY KEY, v BIGINT NOT NULL)")
        .execute(&mut tx)
        .await?;
    tx.commit().await?;
    let keys = KeyRing::from_spec(&w.spec)?;
    let config = shegong_web::Config {
        database_url: String::new(),
        ..Default::default()
    };
    let state = shegong_web::AppState::new(
        w.db.clone(),
        config,
        std::sync::Arc::new(|| NOW + 3_600_000),
        keys,
    );
    let router = shegong_web::router(state);
    let adults = w.residents.min(20_000);
    let t = Instant::now();
    for i in 0..n {
        post_visit(&router, &secret, resident_key(i * 7919 % adults)).await?;
    }
    let sequential = n as f64 / t.elapsed().as_secs_f64();
    // Eight clients at once, each recording visits to people of its own (no shared resident row;
    // they do share the audit chain's head and, on SQLite, the single writer).
    const CLIENTS: usize = 8;
    let t = Instant::now();
    let mut clients = tokio::task::JoinSet::new();
    for c in 0..CLIENTS {
        let (router, secret) = (router.clone(), secret.clone());
        clients.spawn(async move {
            for j in 0..n / CLIENTS {
                post_visit(&router, &secret, resident_key((j * CLIENTS + c) % adults)).await?;
            }
            anyhow::Ok(())
        });
    }
    while let Some(done) = clients.join_next().await {
        done??;
    }
    let concurrent = (n / CLIENTS * CLIENTS) as f64 / t.elapsed().as_secs_f64();
    let t = Instant::now();
    for i in 0..n {
        let mut tx = w.db.begin().await?;
        Sql::new("INSERT INTO bench_commit (id, v) VALUES (")
            .bind(format!("c{i}"))
            .push(", ")
            .bind(i as i64)
            .push(")")
            .execute(&mut tx)
            .await?;
        tx.commit().await?;
    }
    let raw = n as f64 / t.elapsed().as_secs_f64();
    Ok(Writes {
        sequential,
        concurrent,
        raw,
    })
}

/// Service records written per second through the API, and the database's durable commit rate.
struct Writes {
    sequential: f64,
    concurrent: f64,
    raw: f64,
}

/// A home visit recorded through `POST /api/v1/services` with a bearer token.
async fn post_visit(router: &axum::Router, secret: &str, resident: String) -> anyhow::Result<()> {
    use tower::ServiceExt;
    let body = serde_json::json!({
        "kind": "visit", "domain": "elderly", "resident_id": resident, "served_on": TODAY,
        "duration_minutes": 30, "method": "home", "workers": "王芳"
    })
    .to_string();
    let req = axum::http::Request::builder()
        .method("POST")
        .uri("/api/v1/services")
        .header("host", "localhost")
        .header("authorization", format!("Bearer {secret}"))
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body))?;
    let res = router.clone().oneshot(req).await?;
    if res.status() != axum::http::StatusCode::CREATED {
        bail!("API write answered {}", res.status());
    }
    Ok(())
}

/// A browser-like client of the in-process router: cookies, the CSRF token of the last page.
struct Browser {
    router: axum::Router,
    cookies: std::collections::BTreeMap<String, String>,
}

impl Browser {
    async fn send(
        &mut self,
        method: &str,
        path: &str,
        body: Option<(String, Vec<u8>)>,
    ) -> anyhow::Result<(u16, String, String)> {
        use tower::ServiceExt;
        let mut req = axum::http::Request::builder()
            .method(method)
            .uri(path)
            .header("host", "localhost");
        if !self.cookies.is_empty() {
            req = req.header(
                "cookie",
                self.cookies
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("; "),
            );
        }
        let body = match body {
            Some((ct, b)) => {
                req = req.header("content-type", ct);
                axum::body::Body::from(b)
            }
            None => axum::body::Body::empty(),
        };
        let res = self.router.clone().oneshot(req.body(body)?).await?;
        for v in res.headers().get_all("set-cookie") {
            let v = v.to_str()?;
            if let Some((k, val)) = v.split(';').next().and_then(|kv| kv.split_once('=')) {
                self.cookies.insert(k.to_owned(), val.to_owned());
            }
        }
        let status = res.status().as_u16();
        let location = res
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let bytes = axum::body::to_bytes(res.into_body(), 64 << 20).await?;
        Ok((
            status,
            location,
            String::from_utf8_lossy(&bytes).into_owned(),
        ))
    }

    fn csrf(html: &str) -> String {
        html.split("name=\"_csrf\" value=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap_or_default()
            .to_owned()
    }
}

/// A browser signed in to a new in-process server as a new civil-affairs administrator of
/// `region` (the server's clock two hours after the data's).
async fn signed_in(w: &World, username: &str, region: &str) -> anyhow::Result<Browser> {
    let config = shegong_web::Config {
        database_url: String::new(),
        ..Default::default()
    };
    let state = shegong_web::AppState::new(
        w.db.clone(),
        config.clone(),
        std::sync::Arc::new(|| NOW + 7_200_000),
        KeyRing::from_spec(&w.spec)?,
    );
    let password = "Bench-Account-2026";
    shegong_web::admin::users::create_user(
        &w.db,
        &config.password,
        &shegong_store::admin::audit::Actor::system("bench"),
        shegong_web::admin::users::CreateUser {
            username: username.into(),
            display_name: username.into(),
            role: Role::CivilAffairsAdmin,
            scope: Scope::region(RegionCode::parse(region)?),
            password: Some(password.into()),
            temporary: false,
            is_demo: false,
        },
        NOW,
    )
    .await
    .map_err(|e| anyhow::anyhow!("bench account: {e:?}"))?;
    let mut b = Browser {
        router: shegong_web::router(state),
        cookies: Default::default(),
    };
    let (_, _, login) = b.send("GET", "/login", None).await?;
    let form = format!(
        "_csrf={}&username={username}&password={password}",
        Browser::csrf(&login)
    );
    let (st, _, _) = b
        .send(
            "POST",
            "/login",
            Some((
                "application/x-www-form-urlencoded".into(),
                form.into_bytes(),
            )),
        )
        .await?;
    if st != 303 {
        bail!("bench account could not sign in ({st})");
    }
    Ok(b)
}

/// The whole dashboard page (`GET /stats/{code}`: session, counters, the station network,
/// the template), p50 / p95 of `runs`.
async fn time_page(b: &mut Browser, code: &str, runs: usize) -> anyhow::Result<Sample> {
    let path = format!("/stats/{code}");
    let mut d = Vec::new();
    for i in 0..=runs {
        let t = Instant::now();
        let (st, _, _) = b.send("GET", &path, None).await?;
        if st != 200 {
            bail!("{path} answered {st}");
        }
        if i > 0 {
            d.push(t.elapsed());
        }
    }
    Ok(Sample {
        label: code.into(),
        p50: pct(d.clone(), 0.5),
        p95: pct(d, 0.95),
    })
}

/// Excel import of a resident roll through the real pages (upload, preview, commit), rows/s.
async fn import_rate(w: &World, rows: usize) -> anyhow::Result<f64> {
    let mut b = signed_in(w, "scale_importer", &w.townships[0][..4]).await?;
    let (_, _, page) = b.send("GET", "/residents/import", None).await?;
    let token = Browser::csrf(&page);
    let mut csv = String::from("姓名,出生日期,居住地区划代码,风险等级,对象类别\n");
    // Distinct people: within a township no two share a first character, and birth dates are
    // all different, so none is a likely duplicate of another.
    const FIRST: &str = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许吕施张孔曹严华金陶姜戚谢邹喻柏水窦云苏潘葛奚范彭郎鲁昌马苗凤花方任袁柳鲍史唐费廉岑薛雷贺倪汤滕殷罗毕郝邬安常乐时傅皮卞齐康伍元卜顾孟平黄穆萧尹姚邵湛汪祁毛禹狄米贝明臧计伏成戴谈宋茅庞熊纪舒屈项祝董梁杜阮蓝闵席季麻强贾路娄危";
    let first: Vec<char> = FIRST.chars().collect();
    let day0 = chrono::NaiveDate::from_ymd_opt(1940, 1, 1).expect("a date");
    for n in 0..rows {
        let name = format!("{}导入{n}", first[(n / 20) % first.len()]);
        let born = day0 + chrono::Duration::days(n as i64);
        csv.push_str(&format!(
            "{name},{born},{},一般,低保\n",
            w.townships[n % 20]
        ));
    }
    let boundary = "----shegongbench";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{token}\r\n"
    )
    .into_bytes();
    body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"roll.csv\"\r\nContent-Type: text/csv\r\n\r\n").into_bytes());
    body.extend(csv.into_bytes());
    body.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
    let t = Instant::now();
    let (st, preview_at, text) = b
        .send(
            "POST",
            "/residents/import",
            Some((format!("multipart/form-data; boundary={boundary}"), body)),
        )
        .await?;
    if st != 303 {
        bail!(
            "import upload answered {st}: {}",
            text.chars().take(300).collect::<String>()
        );
    }
    let (_, _, preview) = b.send("GET", &preview_at, None).await?;
    let action = preview
        .split("action=\"/residents/import/")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .with_context(|| "no commit form on the preview")?;
    let form = format!("_csrf={}&mode=valid", Browser::csrf(&preview));
    let (st, _, text) = b
        .send(
            "POST",
            &format!("/residents/import/{action}"),
            Some((
                "application/x-www-form-urlencoded".into(),
                form.into_bytes(),
            )),
        )
        .await?;
    if st != 303 {
        bail!(
            "import commit answered {st}: {}",
            text.chars().take(300).collect::<String>()
        );
    }
    let took = t.elapsed().as_secs_f64();
    let mut c = w.db.read().await?;
    let imported = Sql::new("SELECT COUNT(*) FROM residents WHERE created_by = 'scale_importer'")
        .fetch_i64(&mut c)
        .await?;
    if imported as usize != rows {
        bail!("import wrote {imported} of {rows} rows");
    }
    Ok(rows as f64 / took)
}

/// `shegong bench --scale`: small data first (10^5 records), then grown to the scale's size.
pub async fn bench_command(url: Option<String>, name: &str) -> anyhow::Result<()> {
    let s = scale(name)?;
    let (db, url) = open_empty(url).await?;
    println!(
        "bench {} on {} ({})",
        s.name,
        db.backend().as_str(),
        shegong_store::db_url_redacted(&url)
    );
    let small = 100_000.min(s.services);
    let mut w = generate(db, s, small).await?;
    let county = w.townships[0][..6].to_owned();
    let (d_small, scan_small) = time_dashboard(&w.db, s.region, 200, 5).await?;
    let (dc_small, _) = time_dashboard(&w.db, &county, 200, 1).await?;
    let mut viewer = signed_in(&w, "scale_viewer", s.region).await?;
    let page_small = time_page(&mut viewer, s.region, 50).await?;
    let pagec_small = time_page(&mut viewer, &county, 50).await?;
    let lists_small = list_p90(&w, s.region).await?;
    let writes = write_rates(&w, 500).await?;
    let import = import_rate(&w, 2_000).await?;
    // The server folds PostgreSQL's delta rows every 2 s (a no-op on SQLite); so does the bench
    // after its writes, before it reads again.
    counters::fold(&w.db).await?;
    if s.services > small {
        add_services(&mut w, s.services).await?;
        let t = Instant::now();
        counters::rebuild(&w.db).await?;
        println!(
            "statistics counters rebuilt in {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }
    let (d_big, scan_big) = time_dashboard(&w.db, s.region, 200, 3).await?;
    let (dc_big, _) = time_dashboard(&w.db, &county, 200, 1).await?;
    let page_big = time_page(&mut viewer, s.region, 50).await?;
    let pagec_big = time_page(&mut viewer, &county, 50).await?;
    let lists_big = list_p90(&w, s.region).await?;
    let mut c = w.db.read().await?;
    let t = Instant::now();
    let diff = counters::verify(&mut c).await?;
    let verify_s = t.elapsed().as_secs_f64();
    drop(c);
    println!();
    println!(
        "| measurement | {} records | {} records |",
        small, s.services
    );
    println!("| --- | --- | --- |");
    println!(
        "| dashboard of {} from the counters, p50 / p95 | {:.2} / {:.2} ms | {:.2} / {:.2} ms |",
        d_small.label, d_small.p50, d_small.p95, d_big.p50, d_big.p95
    );
    println!(
        "| dashboard of county {}, p50 / p95 | {:.2} / {:.2} ms | {:.2} / {:.2} ms |",
        county, dc_small.p50, dc_small.p95, dc_big.p50, dc_big.p95
    );
    println!(
        "| dashboard page GET /stats/{}, p50 / p95 | {:.2} / {:.2} ms | {:.2} / {:.2} ms |",
        page_small.label, page_small.p50, page_small.p95, page_big.p50, page_big.p95
    );
    println!(
        "| dashboard page GET /stats/{}, p50 / p95 | {:.2} / {:.2} ms | {:.2} / {:.2} ms |",
        county, pagec_small.p50, pagec_small.p95, pagec_big.p50, pagec_big.p95
    );
    println!(
        "| the same figures by full-scan GROUP BY, p50 / p95 | {:.1} / {:.1} ms | {:.1} / {:.1} ms |",
        scan_small.p50, scan_small.p95, scan_big.p50, scan_big.p95
    );
    println!(
        "| residents list, first pages, p90 | {:.2} ms | {:.2} ms |",
        lists_small.0, lists_big.0
    );
    println!(
        "| service records list, first pages, p90 | {:.2} ms | {:.2} ms |",
        lists_small.1, lists_big.1
    );
    println!();
    println!("| measurement | figure |");
    println!("| --- | --- |");
    println!(
        "| service-record API writes (POST /api/v1/services, audit + counters + schedule), one client / eight at once | {:.0}/s / {:.0}/s |",
        writes.sequential, writes.concurrent
    );
    println!(
        "| the database's single-row durable commits, same machine | {:.0}/s |",
        writes.raw
    );
    println!(
        "| CSV import of a 2,000-row resident roll through the pages (upload, preview with duplicate checks, commit) | {import:.0} rows/s |"
    );
    println!(
        "| dashboard at {} vs {} records, p50 ratio: counters of {} / of {} / page of {} / page of {} | {:.2}× / {:.2}× / {:.2}× / {:.2}× |",
        s.services,
        small,
        s.region,
        county,
        s.region,
        county,
        d_big.p50 / d_small.p50,
        dc_big.p50 / dc_small.p50,
        page_big.p50 / page_small.p50,
        pagec_big.p50 / pagec_small.p50
    );
    println!(
        "| stats verify over everything | {} differences, {:.1} s |",
        diff.len(),
        verify_s
    );
    println!(
        "| peak resident memory of the process | {} MB |",
        crate::bench::peak_rss_kb() / 1024
    );
    Ok(())
}
