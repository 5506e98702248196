//! Demo staff of the 株洲 stations: a head, frontline workers and sometimes a supervisor per
//! station, about two thirds certified, with trainings, supervision pairs with monthly sessions
//! and a 三区计划 team; a few stations are one worker short of the rule. Deterministic.

use anyhow::Context;
use chrono::NaiveDate;
use shegong_domain::Scope;
use shegong_domain::network::station::Mode;
use shegong_domain::people::identity::{IdType, Sex};
use shegong_domain::workforce::{CertLevel, Education, Employment, Sector, StaffRole};
use shegong_store::Conn;
use shegong_store::crypto::KeyRing;
use shegong_store::network::stations::{self, Station};
use shegong_store::workforce::staff::{self, NewCertificate, StaffInput};
use shegong_store::workforce::supervision::{self, NewSession, NewTeam};
use shegong_store::workforce::training::{self, NewTraining};

use super::Lcg;

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴", "徐", "孙", "胡", "朱", "高", "林",
    "何", "郭", "罗", "谭",
];
const GIVEN: &[&str] = &[
    "丽", "芳", "敏", "静", "伟", "强", "磊", "婷", "娟", "勇", "艳", "杰", "涛", "明", "霞", "平",
    "刚", "燕", "华", "红",
];
const COURSES: &[&str] = &[
    "个案管理实务",
    "小组工作方法",
    "社区活动策划",
    "儿童保护与危机干预",
    "社会救助政策解读",
];

/// A valid resident ID number for a demo person born on `birth` (`YYYYMMDD`).
fn demo_id(county: &str, birth: &str, seq: u64) -> anyhow::Result<String> {
    let body = format!("{county}{birth}{seq:03}");
    let check = shegong_domain::people::identity::check_character(&body)
        .with_context(|| format!("demo identity number {body}"))?;
    Ok(format!("{body}{check}"))
}

/// Staff of a person: their id, whether they supervise, and their county.
struct Member {
    id: String,
    supervisor: bool,
    county: String,
}

/// Staff for each station of `station_ids`, then supervision and a team.
pub async fn seed(
    conn: &mut Conn,
    keys: &KeyRing,
    station_ids: &[String],
    rng: &mut Lcg,
    now: i64,
) -> anyhow::Result<()> {
    let all = Scope::national();
    let mut serial = 0u64;
    let mut members = Vec::new();
    for (i, sid) in station_ids.iter().enumerate() {
        let st = stations::get(conn, &all, sid).await?;
        let headcount = if i % 23 == 7 {
            1
        } else {
            2 + rng.next(3) as usize
        };
        for k in 0..headcount {
            serial += 1;
            members.push(seed_person(conn, keys, &st, k, serial, rng, now).await?);
        }
    }
    let (supervisors, workers): (Vec<Member>, Vec<Member>) =
        members.into_iter().partition(|m| m.supervisor);
    seed_supervision(conn, &supervisors, &workers, rng, now).await?;
    seed_team(conn, &workers, rng, now).await
}

/// The `k`th person of station `st` (the head first), with a certificate and trainings.
async fn seed_person(
    conn: &mut Conn,
    keys: &KeyRing,
    st: &Station,
    k: usize,
    serial: u64,
    rng: &mut Lcg,
    now: i64,
) -> anyhow::Result<Member> {
    let all = Scope::national();
    let role = match k {
        0 => "station_head",
        _ if rng.next(9) == 0 => "supervisor",
        _ => "frontline",
    };
    let female = rng.next(10) < 7;
    let county = st.region_code.get(..6).unwrap_or_default().to_owned();
    let (year, month, day) = (1970 + rng.next(30), 1 + rng.next(12), 1 + rng.next(28));
    let seq = 2 * rng.next(499) + if female { 2 } else { 1 };
    let id_number = demo_id(&county, &format!("{year:04}{month:02}{day:02}"), seq)?;
    let input = StaffInput {
        name: format!(
            "{}{}{}",
            rng.pick(SURNAMES),
            rng.pick(GIVEN),
            if rng.next(2) == 0 {
                rng.pick(GIVEN)
            } else {
                ""
            }
        ),
        id_type: IdType::ResidentId,
        id_number,
        sex: Some(if female { Sex::Female } else { Sex::Male }),
        birth_date: Some(format!("{year:04}-{month:02}-{day:02}").parse()?),
        mobile: Some(format!(
            "+861{}{:09}",
            rng.pick(&[3, 5, 7, 8, 9]),
            100_000_000 + serial * 7919 % 899_999_999
        )),
        education: Education::parse(rng.pick(&[
            "junior_college",
            "bachelor",
            "bachelor",
            "master",
        ]))?,
        major: rng
            .pick(&["社会工作", "社会工作", "心理学", "社会学", "行政管理"])
            .into(),
        employer_org_id: st.operator_org_id.clone(),
        station_id: Some(st.id.clone()),
        region: None,
        role: StaffRole::parse(role)?,
        employment_mode: if st.mode == Mode::Direct {
            Employment::Direct
        } else {
            Employment::ProjectPurchase
        },
        sector: Sector::CivilAffairs,
        joined_on: format!("{}-{:02}-01", 2021 + rng.next(4), 1 + rng.next(12)).parse()?,
        left_on: None,
        left_reason: String::new(),
    };
    let person = staff::create(conn, &all, keys, &input, now).await?;
    if rng.next(3) > 0 {
        let level = if rng.next(5) == 0 {
            "intermediate"
        } else {
            "assistant"
        };
        let year = 2021 + rng.next(5);
        let obtained = format!("{year}-06-{:02}", 10 + rng.next(15));
        let until = format!("{}-06-{:02}", year + 3, 10 + rng.next(15));
        let certificate = NewCertificate {
            level: CertLevel::parse(level)?,
            number: &format!("{year}{serial:06}"),
            obtained_on: obtained.parse()?,
            registered_until: Some(until.parse()?),
        };
        staff::add_certificate(conn, &all, &person, &certificate, now).await?;
    }
    for _ in 0..rng.next(4) {
        let attended = NewTraining {
            course: rng.pick(COURSES),
            provider: "湖南省社会工作协会",
            hours_tenths: rng.pick(&[60, 80, 120, 160]),
            held_on: format!("2025-{:02}-15", 1 + rng.next(10)).parse()?,
        };
        training::add_training(conn, &all, &person, &attended, "demo", now).await?;
    }
    Ok(Member {
        id: person,
        supervisor: role == "supervisor",
        county,
    })
}

/// Each supervisor supervises a few workers of the same county, with monthly sessions.
async fn seed_supervision(
    conn: &mut Conn,
    supervisors: &[Member],
    workers: &[Member],
    rng: &mut Lcg,
    now: i64,
) -> anyhow::Result<()> {
    let all = Scope::national();
    for sup in supervisors {
        for w in workers.iter().filter(|w| w.county == sup.county).take(3) {
            let pair = supervision::add_pair(
                conn,
                &all,
                &sup.id,
                &w.id,
                NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default(),
                now,
            )
            .await?;
            for m in 1..=(1 + rng.next(6)) {
                let session = NewSession {
                    held_on: &format!("2025-{m:02}-20"),
                    hours_tenths: 20,
                    topics: "个案评估与服务计划",
                };
                supervision::add_session(conn, &all, &pair, &session, "demo", now).await?;
            }
        }
    }
    Ok(())
}

/// A 三区计划 team in 炎陵县 with three of its workers.
async fn seed_team(
    conn: &mut Conn,
    workers: &[Member],
    rng: &mut Lcg,
    now: i64,
) -> anyhow::Result<()> {
    let all = Scope::national();
    let team = NewTeam {
        region: "430225",
        name: "三区计划炎陵县社工服务队",
        sending: "湖南师范大学社会工作系",
        starts: "2025-03-01",
        ends: "2026-02-28",
    };
    let team = supervision::add_team(conn, &all, &team, now).await?;
    for w in workers.iter().filter(|w| w.county == "430225").take(3) {
        supervision::add_member(conn, &all, &team, &w.id, rng.next(2) == 0).await?;
    }
    Ok(())
}
