//! Demo data of the station network: every township of 株洲市 has a station (the city reports
//! full coverage), run by a handful of agencies or directly by the township, with construction
//! history, funding, assessments, progress reports, an inspection round with rectifications and
//! annual targets; plus a few stations elsewhere in 湖南省 still being built. The stations' staff
//! follow (`workforce`), drawing on the same generator. Deterministic.

use anyhow::Context;
use shegong_domain::network::org::{OrgKind, UsccCheck, check_uscc};
use shegong_domain::network::station::{
    FundingSource, Mode, Rating, Rectification, Room, Status, Tier,
};
use shegong_domain::{RegionCode, Scope};
use shegong_store::Conn;
use shegong_store::crypto::KeyRing;
use shegong_store::network::construction::{self, ReportInput};
use shegong_store::network::indicators;
use shegong_store::network::inspections::{self, PlanInput, RectificationInput, VisitInput};
use shegong_store::network::orgs::{self, OrgInput};
use shegong_store::network::regions::{self, Region};
use shegong_store::network::stations::{self, StationInput};

use super::{Lcg, cycled};

/// The agencies: name, county, rating, legal representative, contact.
const AGENCIES: &[(&str, &str, Rating, &str, &str)] = &[
    (
        "株洲市阳光社会工作服务中心",
        "430203",
        Rating::A4,
        "刘芳",
        "周敏",
    ),
    (
        "株洲市启航社会工作服务中心",
        "430202",
        Rating::A3,
        "陈伟",
        "吴磊",
    ),
    (
        "株洲市同心社会工作服务中心",
        "430211",
        Rating::A5,
        "王静",
        "郑红",
    ),
    (
        "醴陵市鹏程社会工作服务中心",
        "430281",
        Rating::A3,
        "李强",
        "孙涛",
    ),
    (
        "攸县和美社会工作服务中心",
        "430223",
        Rating::A2,
        "张丽",
        "黄燕",
    ),
];

const ROOMS: [Room; 6] = [
    Room::Office,
    Room::CaseRoom,
    Room::GroupRoom,
    Room::MultiRoom,
    Room::ArchiveRoom,
    Room::Nameplate,
];

/// Stations elsewhere in Hunan, still being built and reporting monthly (the first is behind).
const ELSEWHERE: [(&str, Status); 5] = [
    ("430102001", Status::UnderConstruction),
    ("430302001", Status::UnderConstruction),
    ("430405007", Status::Planned),
    ("430602001", Status::UnderConstruction),
    ("430802001", Status::Planned),
];

/// Rectifications of the inspection round, in turn: what, and by when.
const RECTIFICATIONS: [(&str, &str); 4] = [
    ("补齐个案服务台账", "2025-08-31"),
    ("悬挂统一门牌标识", "2025-10-15"),
    ("公示服务清单和开放时间", "2026-12-31"),
    ("配齐第二名驻站社工", "2026-11-30"),
];

/// A valid USCC for a demo agency: `52` (social organisation) + region + body + check character.
fn uscc(region6: &str, serial: u32) -> anyhow::Result<String> {
    const ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    let body = format!("52{region6}MJ{serial:07}");
    ALPHABET
        .chars()
        .map(|c| format!("{body}{c}"))
        .find(|c| matches!(check_uscc(c), Ok(UsccCheck::Valid(_))))
        .context("no check character fits the demo USCC")
}

pub async fn seed(conn: &mut Conn, keys: &KeyRing, now: i64) -> anyhow::Result<()> {
    let all = Scope::national();
    let mut rng = Lcg(20_260_101);
    let agencies = seed_agencies(conn, now).await?;
    // 芦淞区's station is run by the agency of the demo agency managers (seeded with accounts).
    let mut towns = Vec::new();
    for county in regions::children(conn, &all, Some("4302")).await? {
        for t in regions::children(conn, &all, Some(&county.code)).await? {
            towns.push((county.code.clone(), t));
        }
    }
    let mut ids = Vec::new();
    for (i, (county, town)) in towns.iter().enumerate() {
        ids.push(seed_station(conn, &mut rng, &agencies, county, town, i, now).await?);
    }
    seed_elsewhere(conn, now).await?;
    seed_inspections(conn, &mut rng, &ids, now).await?;
    for county in regions::children(conn, &all, Some("4302")).await? {
        construction::set_target(conn, &all, &county.code, 2025, county.child_count, now).await?;
    }
    super::workforce::seed(conn, keys, &ids, &mut rng, now).await
}

async fn seed_agencies(conn: &mut Conn, now: i64) -> anyhow::Result<Vec<String>> {
    let mut agencies = Vec::new();
    for (i, (name, region, rating, legal_rep, contact)) in AGENCIES.iter().enumerate() {
        let input = OrgInput {
            name: (*name).into(),
            uscc: Some(uscc(region, 1000 + i as u32)?),
            kind: OrgKind::Agency,
            region: RegionCode::parse(region)?,
            legal_rep: (*legal_rep).into(),
            contact_name: (*contact).into(),
            contact_phone: format!("0731-2{:07}", 2_310_000 + i * 137),
            address: format!(
                "{}人民路{}号",
                name.chars().take(3).collect::<String>(),
                10 + i * 7
            ),
            rating: *rating,
            active: true,
        };
        agencies.push(
            orgs::create_full(conn, &Scope::national(), &input, now)
                .await?
                .0,
        );
    }
    Ok(agencies)
}

/// A township station's place (longitude, latitude in millionths of a degree): a point inside its
/// county's boundary on the bundled map, drawn from the township's code so it is the same on
/// every run (the city centre if the county has no boundary).
pub fn station_point(county: &str, town: &str) -> (i64, i64) {
    use shegong_web::statistics::maps::{bbox, bundled_polygons, contains};
    let polys = bundled_polygons(county).unwrap_or_default();
    let mut r = Lcg(town.parse::<u64>().unwrap_or(1));
    if let Some((x0, y0, x1, y1)) = bbox(&polys) {
        for _ in 0..500 {
            let x = x0 + (x1 - x0) * r.next(100_000) as f64 / 100_000.0;
            let y = y0 + (y1 - y0) * r.next(100_000) as f64 / 100_000.0;
            if contains(&polys, (x, y)) {
                return ((x * 1e6).round() as i64, (y * 1e6).round() as i64);
            }
        }
    }
    (113_134_000, 27_827_000)
}

/// The station of township `town` (the `i`th), built and operating, with its funding,
/// assessment and services; returns its id.
async fn seed_station(
    conn: &mut Conn,
    rng: &mut Lcg,
    agencies: &[String],
    county: &str,
    town: &Region,
    i: usize,
    now: i64,
) -> anyhow::Result<String> {
    let all = Scope::national();
    let direct = rng.next(6) == 0;
    let operator = if direct {
        None
    } else {
        agencies
            .get(county_agency(county, rng.next(5) as usize))
            .cloned()
    };
    let staff = 2 + rng.next(4) as i64;
    let built_year = 2021 + rng.next(3);
    // The draws that once made random coordinates, kept so the rest of the demo stays the same.
    rng.next(900_000);
    rng.next(1_200_000);
    let (lng, lat) = station_point(county, &town.code);
    let input = StationInput {
        tier: Tier::TownshipStation,
        region: RegionCode::parse(&town.code)?,
        name: format!("{}社会工作服务站", town.name),
        address: format!("{}{}党群服务中心二楼", county_name(county), town.name),
        lng_e6: Some(lng),
        lat_e6: Some(lat),
        host_premises: rng.pick(&["党群服务中心", "民政办", "养老服务中心"]).into(),
        mode: if direct { Mode::Direct } else { Mode::Purchase },
        operator_org_id: operator,
        status: Status::UnderConstruction,
        status_since: format!("{built_year}-0{}-01", 1 + rng.next(5)),
        area_m2: 80 + rng.next(220) as i64,
        rooms: ROOMS
            .iter()
            .take(3 + rng.next(4) as usize)
            .cloned()
            .collect(),
        staff_count: staff,
        certified_count: staff.min(1 + rng.next(3) as i64),
        phone: format!("0731-2{:07}", 8_100_000 + i * 13),
        open_hours: "周一至周五 8:30-17:30".into(),
    };
    let id = stations::create(conn, &all, &input, "demo", now).await?;
    // Built: confirmed complete by the city (a few are suspended now).
    let mut operating = input.clone();
    operating.status = Status::Operating;
    operating.status_since = format!("{built_year}-{:02}-15", 6 + rng.next(6));
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
        let fen = (200_000 + rng.next(20) as i64 * 10_000) * 100;
        stations::set_funding(conn, &all, &id, year, source, fen, now).await?;
    }
    if rng.next(4) == 0 {
        let lottery = FundingSource::WelfareLottery;
        stations::set_funding(conn, &all, &id, 2025, lottery, 50_000 * 100, now).await?;
    }
    for item in indicators::items_for(conn, &town.code).await? {
        let met = rng.next(10) < 8;
        let note = if met { "" } else { "待完善" };
        indicators::assess(
            conn,
            &all,
            &id,
            &item.id,
            met,
            note,
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
    Ok(id)
}

/// The month `n` months before 2025-12, as `YYYYMM`.
fn months_back(n: i64) -> i64 {
    let (y, m) = (2025i64, 12i64 - n);
    if m <= 0 {
        (y - 1) * 100 + m + 12
    } else {
        y * 100 + m
    }
}

async fn seed_elsewhere(conn: &mut Conn, now: i64) -> anyhow::Result<()> {
    let all = Scope::national();
    for (n, (code, status)) in ELSEWHERE.iter().enumerate() {
        let town = regions::get(conn, &all, code).await?;
        let input = StationInput {
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
        };
        let id = stations::create(conn, &all, &input, "demo", now).await?;
        for back in (if n == 0 { 3 } else { 1 })..8 {
            let report = ReportInput {
                month: months_back(back),
                progress_pct: (90 - back * 10).max(5),
                milestones: "场地装修、设备采购".into(),
                problems: if back % 3 == 0 {
                    "经费拨付滞后".into()
                } else {
                    String::new()
                },
            };
            construction::report(conn, &all, &id, &report, "demo", now).await?;
        }
    }
    Ok(())
}

/// One inspection round in 株洲市 with rectifications in every state.
async fn seed_inspections(
    conn: &mut Conn,
    rng: &mut Lcg,
    ids: &[String],
    now: i64,
) -> anyhow::Result<()> {
    let all = Scope::national();
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
        let (description, deadline) = cycled(&RECTIFICATIONS, round);
        let visit = VisitInput {
            plan_id: Some(plan.clone()),
            station_id: id.clone(),
            visited_on: format!("2025-{:02}-{:02}", 7 + k % 3, 3 + k % 20),
            inspector: "株洲市民政局督查组".into(),
            lng_e6: st.lng_e6,
            lat_e6: st.lat_e6,
            findings: "台账需进一步规范".into(),
            results,
            rectifications: vec![RectificationInput {
                description: description.into(),
                owner: "站长".into(),
                deadline: deadline.into(),
            }],
        };
        inspections::record_visit(conn, &all, &visit, "demo", now).await?;
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
        if let Some(r) = rects.items.first() {
            advance_rectification(conn, &r.id, round, now).await?;
        }
    }
    Ok(())
}

/// A third closed, a third submitted for verification, a third still open.
async fn advance_rectification(
    conn: &mut Conn,
    id: &str,
    round: usize,
    now: i64,
) -> anyhow::Result<()> {
    let all = Scope::national();
    match round % 3 {
        1 => {
            let note = "已补齐台账，请核验";
            inspections::advance(conn, &all, id, Rectification::Submitted, note, "站长", now)
                .await?;
        }
        0 => {
            let note = "已整改，照片见附件";
            inspections::advance(conn, &all, id, Rectification::Submitted, note, "站长", now)
                .await?;
            inspections::advance(conn, &all, id, Rectification::Verified, "", "督查组", now)
                .await?;
            inspections::advance(conn, &all, id, Rectification::Closed, "", "督查组", now).await?;
        }
        _ => {}
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
