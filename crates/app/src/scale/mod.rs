//! `shegong demo generate --scale <name>`: realistic data at scale in an empty database (see
//! docs/performance.md). Stations and staff go through the store as in real use; residents and
//! service records are bulk-inserted in batches (like a migration would load them) and the
//! statistics counters rebuilt once, then checked with `stats verify`. `bench` measures on the
//! same data.

pub mod bench;
pub mod import_bench;
pub mod lists;
pub mod load;
pub mod open_loop;

use std::time::Instant;

use anyhow::{Context, bail};
use chrono::NaiveDate;
use shegong_domain::network::station::{FundingSource, Mode, Room, Status, Tier};
use shegong_domain::people::RiskTier;
use shegong_domain::people::identity::IdType;
use shegong_domain::workforce::{CertLevel, Education, Employment, Sector, StaffRole};
use shegong_domain::{RegionCode, Role, Scope};
use shegong_store::crypto::{Algorithm, KeyRing};
use shegong_store::network::stations::{self, StationInput};
use shegong_store::statistics::counters;
use shegong_store::workforce::staff::{self, StaffInput};
use shegong_store::{Db, DbOptions, admin::users, bulk, migrate, network::regions};

/// A named size.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    pub name: &'static str,
    /// Region whose townships get stations (a city or a province).
    pub region: &'static str,
    pub staff: usize,
    pub residents: usize,
    pub services: usize,
    /// Residents named 对象n (as the generator named everyone until 2026-12-05) instead of
    /// varied names like a real register's (see [`resident_name`]).
    pub numbered_names: bool,
}

pub const SCALES: &[Scale] = &[
    // One district (株洲市荷塘区): for smoke tests of the benches.
    Scale {
        name: "tiny",
        region: "430202",
        staff: 20,
        residents: 500,
        services: 2_000,
        numbered_names: false,
    },
    Scale {
        name: "city",
        region: "4302",
        staff: 600,
        residents: 20_000,
        services: 100_000,
        numbered_names: false,
    },
    Scale {
        name: "province",
        region: "43",
        staff: 10_000,
        residents: 1_000_000,
        services: 10_000_000,
        numbered_names: false,
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

/// A valid, unique resident identity number for person `n`, with the birth date it encodes.
fn id_number(county: &str, n: usize) -> anyhow::Result<(String, NaiveDate)> {
    let birth = NaiveDate::from_ymd_opt(1930, 1, 1).context("1930-01-01")?
        + chrono::Duration::days((n % 30_000) as i64);
    let body = format!(
        "{county}{}{:03}",
        birth.format("%Y%m%d"),
        (n / 30_000) % 1000
    );
    let check = shegong_domain::people::identity::check_character(&body)
        .with_context(|| format!("identity number {body}"))?;
    Ok((format!("{body}{check}"), birth))
}

/// The county (first six digits) of a township code.
fn county_of(township: &str) -> &str {
    township.get(..6).unwrap_or(township)
}

/// The temporary SQLite file a bench made (no `--target-url`), removed with its WAL, shared-memory
/// and lock files when dropped, so that a bench that ends or fails leaves no gigabytes behind.
pub struct Scratch(Option<std::path::PathBuf>);

impl Scratch {
    /// `given`: the `--target-url` the command was given (the database is then the caller's).
    pub fn unless_given(given: Option<&str>, url: &str) -> Self {
        Self(given.is_none().then(|| shegong_store::sqlite_file(url)))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some(file) = &self.0 {
            for suffix in ["", "-wal", "-shm", ".lock"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
            }
        }
    }
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
    if bulk::has_stations(&mut c).await? {
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
    let region = Scope::region(RegionCode::parse(s.region)?);
    let mut c = db.read().await?;
    let townships: Vec<String> = bulk::townships(&mut c, &region)
        .await?
        .into_iter()
        .map(|(code, _)| code)
        .collect();
    drop(c);
    let t = Instant::now();
    let station_of = create_stations(&db, &townships).await?;
    println!(
        "{} stations in {:.1} s",
        station_of.len(),
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    create_staff(&db, &keys, &townships, &station_of, s.staff).await?;
    println!("{} staff in {:.1} s", s.staff, t.elapsed().as_secs_f64());
    let mut tx = db.begin().await?;
    let admin_id = users::create(
        &mut tx,
        &users::NewUser {
            username: "scale_admin".into(),
            display_name: "规模测试管理员".into(),
            role: Role::CivilAffairsAdmin,
            scope: region,
            password_hash: "$argon2id$none".into(),
            must_change_password: false,
            is_demo: false,
        },
        NOW,
    )
    .await?;
    tx.commit().await?;
    let t = Instant::now();
    create_residents(&db, &keys, (&townships, &station_of), s).await?;
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
    bulk::analyze(&world.db).await?;
    Ok(world)
}

/// An operating station in each township with the year's money; returns their ids in order.
async fn create_stations(db: &Db, townships: &[String]) -> anyhow::Result<Vec<String>> {
    let all = Scope::national();
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
    Ok(station_of)
}

/// `count` staff spread over the stations (a head first at each); about half certified.
async fn create_staff(
    db: &Db,
    keys: &KeyRing,
    townships: &[String],
    station_of: &[String],
    count: usize,
) -> anyhow::Result<()> {
    let all = Scope::national();
    for chunk in (0..count).collect::<Vec<_>>().chunks(1000) {
        let mut tx = db.begin().await?;
        for &n in chunk {
            let i = n % townships.len().max(1);
            let (Some(township), Some(station)) = (townships.get(i), station_of.get(i)) else {
                bail!("no township to place staff in");
            };
            let input = StaffInput {
                name: format!("社工{n}"),
                id_type: IdType::ResidentId,
                id_number: id_number(county_of(township), 900_000_000 + n)?.0,
                sex: None,
                birth_date: None,
                mobile: Some(format!("139{:08}", n % 100_000_000)),
                education: Education::Bachelor,
                major: String::new(),
                employer_org_id: None,
                station_id: Some(station.clone()),
                region: None,
                role: if n < townships.len() {
                    StaffRole::StationHead
                } else {
                    StaffRole::Frontline
                },
                employment_mode: Employment::ProjectPurchase,
                sector: Sector::CivilAffairs,
                joined_on: "2023-03-01".parse()?,
                left_on: None,
                left_reason: String::new(),
            };
            let id = staff::create(&mut tx, &all, keys, &input, NOW).await?;
            // About half hold a certificate, a few of them intermediate.
            if n % 2 == 0 {
                let c = staff::NewCertificate {
                    level: if n % 10 == 0 {
                        CertLevel::Intermediate
                    } else {
                        CertLevel::Assistant
                    },
                    number: &format!("S{n:08}"),
                    obtained_on: "2022-06-19".parse()?,
                    registered_until: None,
                };
                staff::add_certificate(&mut tx, &all, &id, &c, NOW).await?;
            }
        }
        tx.commit().await?;
    }
    Ok(())
}

/// `s.residents` residents spread over the townships, each with a category, bulk-inserted a
/// few thousand to a transaction (a commit each hundred rows made loading 10^6 take ten
/// minutes).
async fn create_residents(
    db: &Db,
    keys: &KeyRing,
    (townships, station_of): (&[String], &[String]),
    s: Scale,
) -> anyhow::Result<()> {
    const PER_COMMIT: usize = 5_000;
    let count = s.residents;
    let mut rng = Rng(2026);
    let today = NaiveDate::parse_from_str(TODAY, "%Y-%m-%d")?;
    for start in (0..count).step_by(PER_COMMIT) {
        let mut rows = Vec::with_capacity(PER_COMMIT);
        for n in start..(start + PER_COMMIT).min(count) {
            let i = n % townships.len().max(1);
            let (Some(township), Some(station)) = (townships.get(i), station_of.get(i)) else {
                bail!("no township to place residents in");
            };
            let name = resident_name(n, s.numbered_names);
            rows.push(new_resident(&mut rng, today, (n, name), township, station)?);
        }
        let mut tx = db.begin().await?;
        bulk::insert_residents(&mut tx, keys, &rows).await?;
        tx.commit().await?;
    }
    Ok(())
}

/// Surnames and given-name characters of generated people.
pub const SURNAMES: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤";
pub const GIVEN: &str = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂兰华建国志红玉萍文辉鹏飞宇浩然欣怡梅林波斌燕凤云莉琴春生德成福兴海峰亮";

/// The name of generated resident `n`: a surname and one or two given-name characters (one in
/// five names has two characters), spread so that the residents of a township are named as
/// variously as a real register's. `numbered`: 对象n, the generator's names until 2026-12-05,
/// under which every record of a township is alike to every other (same first character and
/// the same pinyin key prefix), so the likely-duplicate check reads hundreds of records per row
/// where a real register gives it a handful.
pub fn resident_name(n: usize, numbered: bool) -> String {
    if numbered {
        return format!("对象{n}");
    }
    // A fixed odd multiplier mixes neighbouring numbers (the residents of one township are
    // `n`, `n + townships`, …) into unrelated names.
    let h = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 20;
    let pick = |chars: &str, i: u64| {
        let count = chars.chars().count().max(1) as u64;
        chars.chars().nth((i % count) as usize).unwrap_or('明')
    };
    let mut name = String::new();
    name.push(pick(SURNAMES, h));
    name.push(pick(GIVEN, h / 101));
    if !h.is_multiple_of(5) {
        name.push(pick(GIVEN, h / 6_367));
    }
    name
}

/// Resident `n` of `township`: a tier (high, key or general, 4:4:2) and one of six categories.
fn new_resident(
    rng: &mut Rng,
    today: NaiveDate,
    (n, name): (usize, String),
    township: &str,
    station: &str,
) -> anyhow::Result<bulk::NewResident<'static>> {
    const TIERS: [RiskTier; 3] = [RiskTier::High, RiskTier::Key, RiskTier::General];
    const CATS: [&str; 6] = [
        "dibao",
        "tekun",
        "elder_alone",
        "elder_empty_nest",
        "disabled",
        "left_behind_child",
    ];
    let (idn, birth) = id_number(county_of(township), n)?;
    let tier = TIERS
        .get((rng.next(10) as usize).min(9) / 4)
        .copied()
        .unwrap_or(RiskTier::General);
    let interval = shegong_domain::people::default_interval(tier);
    let due = today + chrono::Duration::days(rng.next(interval as u64) as i64 - 3);
    let category = CATS
        .get(rng.next(CATS.len() as u64) as usize)
        .copied()
        .unwrap_or("dibao");
    Ok(bulk::NewResident {
        id: resident_key(n),
        region_code: township.to_owned(),
        name,
        id_number: idn,
        sex: if n.is_multiple_of(2) {
            "female"
        } else {
            "male"
        },
        birth_date: birth.to_string(),
        ethnicity: "汉族",
        risk_tier: tier.as_str(),
        legal_basis: "statutory_duty",
        station_id: station.to_owned(),
        visit_interval_days: interval,
        next_visit_due: due.to_string(),
        registered_on: "2025-05-01",
        created_by: "generate",
        created_at: NOW - n as i64,
        membership_id: format!("m{n:09}"),
        category,
        membership_source: "民政局",
        membership_created_at: NOW,
    })
}

/// Bulk-add service records until there are `target` (the counters are rebuilt by the caller).
pub async fn add_services(w: &mut World, target: usize) -> anyhow::Result<()> {
    let t = Instant::now();
    let from = w.services;
    let mut rng = Rng(7 + from as u64);
    let start_day = NaiveDate::parse_from_str(TODAY, "%Y-%m-%d")? - chrono::Duration::days(365);
    let mut n = from;
    while n < target {
        let end = (n + 50).min(target);
        let rows: Vec<bulk::NewService<'static>> = (n..end)
            .map(|k| new_service(&mut rng, w, start_day, k))
            .collect();
        let mut tx = w.db.begin().await?;
        bulk::insert_services(&mut tx, &rows).await?;
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

/// Service record `k`: one of eight kinds for a random resident on a day of the past year.
fn new_service(
    rng: &mut Rng,
    w: &World,
    start_day: NaiveDate,
    k: usize,
) -> bulk::NewService<'static> {
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
    let r = rng.next(w.residents as u64) as usize;
    let i = r % w.townships.len().max(1);
    let (kind, domain) = KINDS
        .get(rng.next(KINDS.len() as u64) as usize)
        .copied()
        .unwrap_or(("visit", "elderly"));
    let day = start_day + chrono::Duration::days(rng.next(365) as i64);
    bulk::NewService {
        id: format!("s{k:010}"),
        region_code: w.townships.get(i).cloned().unwrap_or_default(),
        station_id: w.station_of.get(i).cloned().unwrap_or_default(),
        kind,
        domain,
        resident_id: resident_key(r),
        served_on: day.to_string(),
        duration_minutes: 15 + rng.next(90) as i64,
        person_times: if kind == "group" || kind == "community" {
            8 + rng.next(30) as i64
        } else {
            1
        },
        method: (kind == "visit").then_some("home"),
        value_fen: if kind == "resource_linking" {
            rng.next(500_000) as i64
        } else {
            0
        },
        workers: "驻站社工",
        created_by: "generate",
        created_at: NOW - k as i64,
    }
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
