//! `shegong bench`: national-scale synthetic data in a throw-away database, then the reads the
//! pages make, timed. Numbers go into docs/operations.md; nothing here runs in the test suite.

use std::time::{Duration, Instant};

use anyhow::bail;
use shegong_domain::network::station::{Mode, Room, Status, Tier};
use shegong_domain::people::identity::IdType;
use shegong_domain::workforce::{Education, Employment, Sector, StaffRole};
use shegong_domain::{RegionCode, Scope, network::org::OrgKind};
use shegong_store::crypto::{Algorithm, KeyRing};
use shegong_store::network::orgs::{self, NewOrg};
use shegong_store::network::stations::{self, StationInput};
use shegong_store::workforce::staff::{self, StaffInput};
use shegong_store::{
    Db, DbOptions, PageRequest, bulk, migrate, network::coverage, network::regions,
};

/// Runs `$body` seven times and prints the median, min and max.
macro_rules! timed {
    ($what:expr, $body:block) => {{
        let mut runs = Vec::new();
        for _ in 0..7 {
            let t = Instant::now();
            $body
            runs.push(t.elapsed());
        }
        report_runs(&$what, runs);
    }};
}

pub struct Options {
    /// Empty database to fill; a temporary SQLite file when absent.
    pub target_url: Option<String>,
    /// Stations to create, one per township in code order (0: every township).
    pub stations: usize,
    pub staff_per_station: usize,
}

const NOW: i64 = 1_763_683_200_000; // 2025-11-21

pub async fn run(o: Options) -> anyhow::Result<()> {
    let temp = std::env::temp_dir().join(format!("shegong-bench-{}.db", std::process::id()));
    let url = o
        .target_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", temp.display()));
    let db = Db::connect(&DbOptions::new(&url)).await?;
    migrate::run(&db).await?;
    regions::load_embedded(&db).await?;
    let mut c = db.read().await?;
    if bulk::has_stations(&mut c).await? {
        bail!("--target-url: the database already holds stations; bench needs an empty one");
    }
    let mut townships = bulk::townships(&mut c, &Scope::national()).await?;
    drop(c);
    if o.stations > 0 {
        townships.truncate(o.stations);
    }
    let keys = KeyRing::from_spec(&KeyRing::generate_spec(Algorithm::Aes256Gcm))?;
    println!("database: {}", db.backend().as_str());
    let started = Instant::now();
    let station_ids = create_stations(&db, &townships).await?;
    report_rate("create stations", station_ids.len(), started.elapsed());
    let started = Instant::now();
    let (people, sample_id) = create_staff(&db, &keys, &station_ids, o.staff_per_station).await?;
    report_rate("create staff (sealed identity)", people, started.elapsed());
    println!(
        "peak resident memory after seeding: {} MB",
        peak_rss_kb() / 1024
    );
    let county = station_ids
        .last()
        .and_then(|(_, code)| code.get(..6))
        .unwrap_or("430203")
        .to_owned();
    time_reads(&db, &keys, &county, &sample_id).await?;
    println!("peak resident memory: {} MB", peak_rss_kb() / 1024);
    db.close().await;
    if o.target_url.is_none() {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", temp.display()));
        }
    }
    Ok(())
}

/// A station in each township, one agency per province running the purchased ones; returns
/// (station id, township code) pairs.
async fn create_stations(
    db: &Db,
    townships: &[(String, String)],
) -> anyhow::Result<Vec<(String, String)>> {
    let national = Scope::national();
    let mut agencies = std::collections::HashMap::new();
    let mut station_ids = Vec::with_capacity(townships.len());
    for chunk in townships.chunks(1000) {
        let mut tx = db.begin().await?;
        for (code, name) in chunk {
            let province = code.get(..2).unwrap_or_default();
            if !agencies.contains_key(province) {
                let (id, _) = orgs::create(
                    &mut tx,
                    &NewOrg {
                        name: format!("{province}省社会工作服务中心"),
                        uscc: None,
                        kind: OrgKind::Agency,
                        region: RegionCode::parse(province)?,
                    },
                    NOW,
                )
                .await?;
                agencies.insert(province.to_owned(), id);
            }
            let n = station_ids.len();
            let purchase = !n.is_multiple_of(5);
            let input = StationInput {
                tier: Tier::TownshipStation,
                region: RegionCode::parse(code)?,
                name: format!("{name}社工站"),
                address: String::new(),
                lng_e6: None,
                lat_e6: None,
                host_premises: "党群服务中心".into(),
                mode: if purchase {
                    Mode::Purchase
                } else {
                    Mode::Direct
                },
                operator_org_id: if purchase {
                    agencies.get(province).cloned()
                } else {
                    None
                },
                status: match n % 20 {
                    0 => Status::Planned,
                    1 | 2 => Status::UnderConstruction,
                    _ => Status::Operating,
                },
                status_since: "2024-01-01".into(),
                area_m2: 120,
                rooms: vec![Room::CaseRoom, Room::GroupRoom],
                staff_count: 0,
                certified_count: 0,
                phone: String::new(),
                open_hours: String::new(),
            };
            station_ids.push((
                stations::create(&mut tx, &national, &input, "bench", NOW).await?,
                code.clone(),
            ));
        }
        tx.commit().await?;
    }
    Ok(station_ids)
}

/// `per_station` staff records at each station; returns how many, and one identity number.
async fn create_staff(
    db: &Db,
    keys: &KeyRing,
    station_ids: &[(String, String)],
    per_station: usize,
) -> anyhow::Result<(usize, String)> {
    let national = Scope::national();
    let mut people = 0usize;
    let mut sample_id = String::new();
    for chunk in station_ids.chunks(500) {
        let mut tx = db.begin().await?;
        for (sid, _) in chunk {
            for _ in 0..per_station {
                let id_number = resident_id(people);
                let input = StaffInput {
                    name: format!("社工{people}"),
                    id_type: IdType::ResidentId,
                    id_number: id_number.clone(),
                    sex: None,
                    birth_date: None,
                    mobile: Some(format!("139{:08}", people % 100_000_000)),
                    education: Education::Bachelor,
                    major: String::new(),
                    employer_org_id: None,
                    station_id: Some(sid.clone()),
                    region: None,
                    role: if people.is_multiple_of(10) {
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
                staff::create(&mut tx, &national, keys, &input, NOW).await?;
                sample_id = id_number;
                people += 1;
            }
        }
        tx.commit().await?;
    }
    Ok((people, sample_id))
}

/// The reads behind the pages, each the median of 7 runs on one connection.
async fn time_reads(db: &Db, keys: &KeyRing, county: &str, sample_id: &str) -> anyhow::Result<()> {
    let mut c = db.read().await?;
    let today = "2025-11-21";
    let national = Scope::national();
    let hunan = Scope {
        region: Some(RegionCode::parse("43")?),
        org: None,
    };
    let county_scope = Scope {
        region: Some(RegionCode::parse(county)?),
        org: None,
    };
    timed!("coverage, whole country (31 provinces)", {
        coverage::coverage(&mut c, &national, None, today).await?;
    });
    timed!("coverage, 湖南省 (14 cities)", {
        coverage::coverage(&mut c, &hunan, Some("43"), today).await?;
    });
    timed!(&format!("coverage, county {county}"), {
        coverage::coverage(&mut c, &county_scope, Some(county), today).await?;
    });
    timed!("workforce statistics, whole country", {
        staff::statistics(&mut c, &national, None, "2025-01-01", "2024-11-21").await?;
    });
    timed!("workforce statistics, 湖南省", {
        staff::statistics(&mut c, &hunan, Some("43"), "2025-01-01", "2024-11-21").await?;
    });
    let page = PageRequest {
        page: 1,
        per_page: 20,
    };
    timed!("station list, whole country, page 1 of 20", {
        stations::list(&mut c, &national, &stations::Filter::default(), page).await?;
    });
    timed!("station list, name search 街道, whole country", {
        let f = stations::Filter {
            q: Some("街道".into()),
            ..Default::default()
        };
        stations::list(&mut c, &national, &f, page).await?;
    });
    timed!("staff list, 湖南省, page 1 of 20", {
        staff::list(&mut c, &hunan, &staff::Filter::default(), page).await?;
    });
    timed!("staff find by identity number (keyed hash)", {
        let found = staff::find_by_id_number(&mut c, &national, keys, sample_id).await?;
        anyhow::ensure!(found.is_some(), "the sample person is found");
    });
    Ok(())
}

fn report_rate(what: &str, n: usize, took: Duration) {
    println!(
        "{what}: {n} in {:.1} s ({:.0}/s)",
        took.as_secs_f64(),
        n as f64 / took.as_secs_f64().max(1e-9)
    );
}

fn report_runs(what: &str, mut runs: Vec<Duration>) {
    runs.sort();
    let ms = |i: usize| runs.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0);
    println!(
        "{what}: median {:.1} ms (min {:.1}, max {:.1})",
        ms(runs.len() / 2),
        ms(0),
        ms(runs.len().saturating_sub(1))
    );
}

/// A valid GB 11643 number, distinct for each `n` below 3,360,000 (mixed radix over the birth
/// year digit, month, day and sequence number).
fn resident_id(n: usize) -> String {
    let month = (n / 10) % 12 + 1;
    let day = (n / 120) % 28 + 1;
    let seq = (n / 3360) % 1000;
    let body = format!("430203198{}{month:02}{day:02}{seq:03}", n % 10);
    let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .bytes()
        .zip(weights)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    let check = "10X98765432".chars().nth(sum as usize % 11).unwrap_or('X');
    format!("{body}{check}")
}

/// Peak resident set size of this process (Linux), in KiB.
pub(crate) fn peak_rss_kb() -> u64 {
    status_kb("self", "VmHWM:")
}

/// A kB figure of `/proc/<pid>/status` (`pid` "self" for this process), 0 where unknown.
pub(crate) fn status_kb(pid: &str, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}
