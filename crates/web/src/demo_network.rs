//! Demo data of the station network: every township of 株洲市 has a station (the city reports
//! full coverage), run by a handful of agencies or directly by the township, with construction
//! history, funding, assessments, progress reports, an inspection round with rectifications and
//! annual targets; plus a few stations elsewhere in 湖南省 still being built. Deterministic.

use shegong_domain::network::org::{OrgKind, check_uscc};
use shegong_domain::network::station::{
    FundingSource, Mode, Rating, Rectification, Room, Status, Tier,
};
use shegong_domain::{RegionCode, Scope};
use shegong_store::crypto::KeyRing;
use shegong_store::network::construction::{self, ReportInput};
use shegong_store::network::inspections::{self, PlanInput, RectificationInput, VisitInput};
use shegong_store::network::orgs::{self, OrgInput};
use shegong_store::network::stations::{self, StationInput};
use shegong_store::workforce::staff::{
    self, NewCertificate, NewSession, NewTeam, NewTraining, StaffInput,
};
use shegong_store::{Conn, StoreResult, network::indicators, network::regions};

/// A small deterministic generator (the demo is the same on every start).
pub(crate) struct Lcg(pub(crate) u64);

impl Lcg {
    pub(crate) fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n.max(1)
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.next(items.len() as u64) as usize]
    }
}

/// A valid USCC for a demo agency: `52` (social organisation) + region + body + check character.
fn uscc(region6: &str, serial: u32) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    let body = format!("52{region6}MJ{serial:07}");
    (0..31)
        .map(|i| format!("{body}{}", ALPHABET[i] as char))
        .find(|c| {
            matches!(
                check_uscc(c),
                Ok(shegong_domain::network::org::UsccCheck::Valid(_))
            )
        })
        .expect("one check character fits")
}

const AGENCIES: &[(&str, &str, Rating)] = &[
    ("株洲市阳光社会工作服务中心", "430203", Rating::A4),
    ("株洲市启航社会工作服务中心", "430202", Rating::A3),
    ("株洲市同心社会工作服务中心", "430211", Rating::A5),
    ("醴陵市鹏程社会工作服务中心", "430281", Rating::A3),
    ("攸县和美社会工作服务中心", "430223", Rating::A2),
];

pub async fn seed(conn: &mut Conn, keys: &KeyRing, now: i64) -> StoreResult<()> {
    let all = Scope::national();
    let mut rng = Lcg(20_260_101);
    let mut agencies = Vec::new();
    for (i, (name, region, rating)) in AGENCIES.iter().enumerate() {
        let input = OrgInput {
            name: (*name).into(),
            uscc: Some(uscc(region, 1000 + i as u32)),
            kind: OrgKind::Agency,
            region: RegionCode::parse(region)?,
            legal_rep: ["刘芳", "陈伟", "王静", "李强", "张丽"][i].into(),
            contact_name: ["周敏", "吴磊", "郑红", "孙涛", "黄燕"][i].into(),
            contact_phone: format!("0731-2{:07}", 2_310_000 + i * 137),
            address: format!("{}人民路{}号", &name[..9], 10 + i * 7),
            rating: *rating,
            active: true,
        };
        agencies.push(orgs::create_full(conn, &all, &input, now).await?.0);
    }
    // 芦淞区's station is run by the agency of the demo agency managers (seeded with accounts).
    let mut towns = Vec::new();
    for county in regions::children(conn, &all, Some("4302")).await? {
        for t in regions::children(conn, &all, Some(&county.code)).await? {
            towns.push((county.code.clone(), t));
        }
    }
    let months = |n: i64| -> i64 {
        let (y, m) = (2025i64, 12i64 - n);
        if m <= 0 {
            (y - 1) * 100 + m + 12
        } else {
            y * 100 + m
        }
    };
    let mut ids = Vec::new();
    for (i, (county, town)) in towns.iter().enumerate() {
        let direct = rng.next(6) == 0;
        let operator = if direct {
            None
        } else {
            Some(agencies[county_agency(county, rng.next(5) as usize)].clone())
        };
        let staff = 2 + rng.next(4) as i64;
        let built_year = 2021 + rng.next(3);
        let input = StationInput {
            tier: Tier::TownshipStation,
            region: RegionCode::parse(&town.code)?,
            name: format!("{}社会工作服务站", town.name),
            address: format!("{}{}党群服务中心二楼", county_name(county), town.name),
            lng_e6: Some(113_134_000 + rng.next(900_000) as i64 - 450_000),
            lat_e6: Some(27_300_000 + rng.next(1_200_000) as i64 - 200_000),
            host_premises: ["党群服务中心", "民政办", "养老服务中心"][rng.next(3) as usize].into(),
            mode: if direct { Mode::Direct } else { Mode::Purchase },
            operator_org_id: operator,
            status: Status::UnderConstruction,
            status_since: format!("{built_year}-0{}-01", 1 + rng.next(5)),
            area_m2: 80 + rng.next(220) as i64,
            rooms: [
                Room::Office,
                Room::CaseRoom,
                Room::GroupRoom,
                Room::MultiRoom,
                Room::ArchiveRoom,
                Room::Nameplate,
            ][..3 + rng.next(4) as usize]
                .to_vec(),
            staff_count: staff,
            certified_count: staff.min(1 + rng.next(3) as i64),
            phone: format!("0731-2{:07}", 8_100_000 + i * 13),
            open_hours: "周一至周五 8:30-17:30".into(),
        };
        let id = stations::create(conn, &all, &input, "demo", now).await?;
        // Built: under construction first, then operating (a few are suspended now).
        let mut operating = input.clone();
        operating.status = Status::Operating;
        operating.status_since = format!("{built_year}-{:02}-15", 6 + rng.next(6));
        // Built: confirmed complete by the city (a few are suspended now).
        stations::confirm_completion(conn, &all, &id, "demo", &operating.status_since, now).await?;
        if i % 37 == 5 {
            let mut paused = operating.clone();
            paused.status = Status::Suspended;
            paused.status_since = "2025-09-01".into();
            stations::update(conn, &all, &id, &paused, "demo", "2025-09-01", now).await?;
        }
        for year in [2024, 2025] {
            let source = if direct {
                FundingSource::Township
            } else {
                FundingSource::Purchase
            };
            stations::set_funding(
                conn,
                &all,
                &id,
                year,
                source,
                (200_000 + rng.next(20) as i64 * 10_000) * 100,
                now,
            )
            .await?;
        }
        if rng.next(4) == 0 {
            stations::set_funding(
                conn,
                &all,
                &id,
                2025,
                FundingSource::WelfareLottery,
                50_000 * 100,
                now,
            )
            .await?;
        }
        for item in indicators::items_for(conn, &town.code).await? {
            let met = rng.next(10) < 8;
            indicators::assess(
                conn,
                &all,
                &id,
                &item.id,
                met,
                if met { "" } else { "待完善" },
                None,
                "demo",
                "2025-06-30",
                now,
            )
            .await?;
        }
        let services: Vec<String> = stations::service_items_for(conn, &town.code)
            .await?
            .into_iter()
            .filter(|_| rng.next(3) > 0)
            .map(|s| s.id)
            .collect();
        stations::set_services(conn, &all, &id, &services).await?;
        ids.push(id);
    }
    // Elsewhere in Hunan: stations still being built, reporting monthly (one is behind).
    let elsewhere = [
        ("430102001", Status::UnderConstruction),
        ("430302001", Status::UnderConstruction),
        ("430405007", Status::Planned),
        ("430602001", Status::UnderConstruction),
        ("430802001", Status::Planned),
    ];
    for (n, (code, status)) in elsewhere.iter().enumerate() {
        let town = regions::get(conn, &all, code).await?;
        let id = stations::create(
            conn,
            &all,
            &StationInput {
                tier: Tier::TownshipStation,
                region: RegionCode::parse(code)?,
                name: format!("{}社会工作服务站", town.name),
                address: String::new(),
                lng_e6: None,
                lat_e6: None,
                host_premises: "党群服务中心".into(),
                mode: Mode::Direct,
                operator_org_id: None,
                status: *status,
                status_since: "2025-03-01".into(),
                area_m2: 0,
                rooms: vec![],
                staff_count: 0,
                certified_count: 0,
                phone: String::new(),
                open_hours: String::new(),
            },
            "demo",
            now,
        )
        .await?;
        for back in (if n == 0 { 3 } else { 1 })..8 {
            construction::report(
                conn,
                &all,
                &id,
                &ReportInput {
                    month: months(back),
                    progress_pct: (90 - back * 10).max(5),
                    milestones: "场地装修、设备采购".into(),
                    problems: if back % 3 == 0 {
                        "经费拨付滞后".into()
                    } else {
                        String::new()
                    },
                },
                "demo",
                now,
            )
            .await?;
        }
    }
    // One inspection round in 株洲市 with rectifications in every state.
    let plan = inspections::create_plan(
        conn,
        &all,
        &PlanInput {
            region: "4302".into(),
            title: "2025年第三季度社工站建设督查".into(),
            starts_on: "2025-07-01".into(),
            ends_on: "2025-09-30".into(),
            notes: "重点检查场所、人员和台账".into(),
        },
        "demo",
        now,
    )
    .await?;
    for (k, id) in ids.iter().enumerate().filter(|(k, _)| k % 9 == 0) {
        let st = stations::get(conn, &all, id).await?;
        let items = indicators::items_for(conn, &st.region_code).await?;
        let results = items
            .iter()
            .map(|i| (i.id.clone(), rng.next(10) < 7, String::new()))
            .collect();
        let round = k / 9;
        let rect = vec![RectificationInput {
            description: [
                "补齐个案服务台账",
                "悬挂统一门牌标识",
                "公示服务清单和开放时间",
                "配齐第二名驻站社工",
            ][round % 4]
                .into(),
            owner: "站长".into(),
            deadline: ["2025-08-31", "2025-10-15", "2026-12-31", "2026-11-30"][round % 4].into(),
        }];
        inspections::record_visit(
            conn,
            &all,
            &VisitInput {
                plan_id: Some(plan.clone()),
                station_id: id.clone(),
                visited_on: format!("2025-{:02}-{:02}", 7 + k % 3, 3 + k % 20),
                inspector: "株洲市民政局督查组".into(),
                lng_e6: st.lng_e6,
                lat_e6: st.lat_e6,
                findings: "台账需进一步规范".into(),
                results,
                rectifications: rect,
            },
            "demo",
            now,
        )
        .await?;
        let rects = inspections::rectifications(
            conn,
            &all,
            &inspections::RectFilter {
                station_id: Some(id.clone()),
                ..Default::default()
            },
            "2025-12-01",
            shegong_store::PageRequest::default(),
        )
        .await?;
        // A third closed, a third submitted for verification, a third still open.
        if let Some(r) = rects.items.first().filter(|_| round % 3 == 1) {
            inspections::advance(
                conn,
                &all,
                &r.id,
                Rectification::Submitted,
                "已补齐台账，请核验",
                "站长",
                now,
            )
            .await?;
        }
        if let Some(r) = rects.items.first().filter(|_| round % 3 == 0) {
            inspections::advance(
                conn,
                &all,
                &r.id,
                Rectification::Submitted,
                "已整改，照片见附件",
                "站长",
                now,
            )
            .await?;
            inspections::advance(
                conn,
                &all,
                &r.id,
                Rectification::Verified,
                "",
                "督查组",
                now,
            )
            .await?;
            inspections::advance(conn, &all, &r.id, Rectification::Closed, "", "督查组", now)
                .await?;
        }
    }
    for county in regions::children(conn, &all, Some("4302")).await? {
        construction::set_target(conn, &all, &county.code, 2025, county.child_count, now).await?;
    }
    seed_staff(conn, keys, &ids, &mut rng, now).await
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴", "徐", "孙", "胡", "朱", "高", "林",
    "何", "郭", "罗", "谭",
];
const GIVEN: &[&str] = &[
    "丽", "芳", "敏", "静", "伟", "强", "磊", "婷", "娟", "勇", "艳", "杰", "涛", "明", "霞", "平",
    "刚", "燕", "华", "红",
];

/// A valid resident ID number for a demo person born in `year`.
fn demo_id(county: &str, year: u64, month: u64, day: u64, seq: u64) -> String {
    let body = format!("{county}{year:04}{month:02}{day:02}{seq:03}");
    let check = shegong_domain::people::identity::check_character(&body).expect("17 digits");
    format!("{body}{check}")
}

/// Staff for each 株洲 station: a head, frontline workers, sometimes a supervisor; about two
/// thirds certified; a few stations one worker short of the rule.
async fn seed_staff(
    conn: &mut Conn,
    keys: &KeyRing,
    stations_ids: &[String],
    rng: &mut Lcg,
    now: i64,
) -> StoreResult<()> {
    let all = Scope::national();
    let mut serial = 0u64;
    let mut supervisors: Vec<(String, String)> = Vec::new();
    let mut workers: Vec<(String, String)> = Vec::new();
    for (i, sid) in stations_ids.iter().enumerate() {
        let st = stations::get(conn, &all, sid).await?;
        let headcount = if i % 23 == 7 {
            1
        } else {
            2 + rng.next(3) as usize
        };
        for k in 0..headcount {
            serial += 1;
            let role = match k {
                0 => "station_head",
                _ if rng.next(9) == 0 => "supervisor",
                _ => "frontline",
            };
            let female = rng.next(10) < 7;
            let id = demo_id(
                &st.region_code[..6],
                1970 + rng.next(30),
                1 + rng.next(12),
                1 + rng.next(28),
                2 * rng.next(499) + if female { 2 } else { 1 },
            );
            let input = StaffInput {
                name: format!(
                    "{}{}{}",
                    SURNAMES[rng.next(SURNAMES.len() as u64) as usize],
                    GIVEN[rng.next(GIVEN.len() as u64) as usize],
                    if rng.next(2) == 0 {
                        GIVEN[rng.next(GIVEN.len() as u64) as usize]
                    } else {
                        ""
                    }
                ),
                id_type: "resident_id".into(),
                id_number: id.clone(),
                sex: Some(if female { "female" } else { "male" }.into()),
                birth_date: Some(format!("{}-{}-{}", &id[6..10], &id[10..12], &id[12..14])),
                mobile: Some(format!(
                    "+861{}{:09}",
                    [3, 5, 7, 8, 9][rng.next(5) as usize],
                    100_000_000 + serial * 7919 % 899_999_999
                )),
                education: ["junior_college", "bachelor", "bachelor", "master"]
                    [rng.next(4) as usize]
                    .into(),
                major: ["社会工作", "社会工作", "心理学", "社会学", "行政管理"]
                    [rng.next(5) as usize]
                    .into(),
                employer_org_id: st.operator_org_id.clone(),
                station_id: Some(sid.clone()),
                region: None,
                role: role.into(),
                employment_mode: if st.mode == "direct" {
                    "direct"
                } else {
                    "project_purchase"
                }
                .into(),
                sector: "civil_affairs".into(),
                joined_on: format!("{}-{:02}-01", 2021 + rng.next(4), 1 + rng.next(12)),
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
                staff::add_certificate(
                    conn,
                    &all,
                    &person,
                    &NewCertificate {
                        level,
                        number: &format!("{year}{serial:06}"),
                        obtained_on: &obtained,
                        registered_until: Some(&until),
                    },
                    now,
                )
                .await?;
            }
            for _ in 0..rng.next(4) {
                let course = [
                    "个案管理实务",
                    "小组工作方法",
                    "社区活动策划",
                    "儿童保护与危机干预",
                    "社会救助政策解读",
                ][rng.next(5) as usize];
                staff::add_training(
                    conn,
                    &all,
                    &person,
                    &NewTraining {
                        course,
                        provider: "湖南省社会工作协会",
                        hours_tenths: [60, 80, 120, 160][rng.next(4) as usize],
                        held_on: &format!("2025-{:02}-15", 1 + rng.next(10)),
                    },
                    "demo",
                    now,
                )
                .await?;
            }
            if role == "supervisor" {
                supervisors.push((person, st.region_code[..6].to_owned()));
            } else {
                workers.push((person, st.region_code[..6].to_owned()));
            }
        }
    }
    // Each supervisor supervises a few workers of the same county, with monthly sessions.
    for (sup, county) in &supervisors {
        for (w, _) in workers.iter().filter(|(_, c)| c == county).take(3) {
            let pair = staff::add_pair(conn, &all, sup, w, "2025-01-01", now).await?;
            for m in 1..=(1 + rng.next(6)) {
                staff::add_session(
                    conn,
                    &all,
                    &pair,
                    &NewSession {
                        held_on: &format!("2025-{m:02}-20"),
                        hours_tenths: 20,
                        topics: "个案评估与服务计划",
                    },
                    "demo",
                    now,
                )
                .await?;
            }
        }
    }
    let team = staff::add_team(
        conn,
        &all,
        &NewTeam {
            region: "430225",
            name: "三区计划炎陵县社工服务队",
            sending: "湖南师范大学社会工作系",
            starts: "2025-03-01",
            ends: "2026-02-28",
        },
        now,
    )
    .await?;
    for (w, _) in workers.iter().filter(|(_, c)| c == "430225").take(3) {
        staff::add_member(conn, &all, &team, w, rng.next(2) == 0).await?;
    }
    Ok(())
}

/// Agencies serve nearby counties: the district ones share the urban districts.
fn county_agency(county: &str, pick: usize) -> usize {
    match county {
        "430203" => 0,
        "430202" | "430204" => 1,
        "430211" | "430212" => 2,
        "430281" => 3,
        "430223" => 4,
        _ => pick,
    }
}

fn county_name(code: &str) -> &'static str {
    match code {
        "430202" => "荷塘区",
        "430203" => "芦淞区",
        "430204" => "石峰区",
        "430211" => "天元区",
        "430212" => "渌口区",
        "430223" => "攸县",
        "430224" => "茶陵县",
        "430225" => "炎陵县",
        "430281" => "醴陵市",
        _ => "",
    }
}
