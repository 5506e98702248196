//! Demo data of the people served in 株洲市: the villages and communities of the city, about
//! twenty people in special hardship per township (more in 贺家土街道, where the demo worker
//! accounts are) in realistic proportions of categories and risk tiers, and a year of service
//! history — visits at roughly the interval their tier requires (a few now overdue), casework,
//! monthly group sessions and quarterly community activities — plus cases at every stage.
//! Deterministic; written through the store so the visit schedule is maintained as in real use.

use anyhow::Context;
use chrono::{Datelike, Duration, NaiveDate};
use shegong_domain::people::{AssessmentDomain, RiskTier, VisitMethod};
use shegong_domain::{RegionCode, Scope};
use shegong_store::Conn;
use shegong_store::crypto::KeyRing;
use shegong_store::network::stations::{self, Station};
use shegong_store::people::cases::{self, Actor, OpenCase, PlannedService};
use shegong_store::people::households::{self, MembershipInput};
use shegong_store::people::residents::{self, ResidentInput, Viewer};
use shegong_store::people::services::{self, ServiceInput};
use shegong_store::people::visit_rules;
use shegong_store::{admin::users, network::regions};
use shegong_web::AppState;

use super::{Lcg, cycled};

/// The villages and communities of 株洲市 (NBS 2023), for the demo's home addresses.
const VILLAGES: &[u8] = include_bytes!("../../data/zhuzhou-villages.csv.gz");

/// The township of the demo worker accounts.
const HOME: &str = "430203001";

const SURNAMES: &[&str] = &[
    "李", "王", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴", "徐", "孙", "胡", "朱", "高", "林",
    "何", "郭", "马", "罗", "谭", "邓", "彭", "曾",
];
const GIVEN_OLD: &[&str] = &[
    "桂英", "秀英", "玉兰", "淑珍", "德明", "国华", "建国", "长生", "春生", "秋菊", "冬梅", "金凤",
    "福林", "正清", "凤英", "满秀",
];
const GIVEN_YOUNG: &[&str] = &[
    "子涵", "欣怡", "浩然", "宇轩", "梓萱", "俊杰", "雨桐", "一诺", "思远", "佳琪", "晨曦", "博文",
];
const GIVEN_ADULT: &[&str] = &[
    "伟", "芳", "强", "敏", "军", "丽", "勇", "艳", "涛", "娟", "斌", "霞",
];
const PROBLEMS: [&str; 5] = [
    "独居，行动不便，需要助餐和定期探访",
    "家庭经济困难，子女就学需要资助",
    "父母外出务工，情绪低落",
    "失能，照护者压力大",
    "重度残疾，康复需求",
];

/// A kind of person served: category, tier, share in per mille, age range.
#[derive(Clone, Copy)]
struct Profile {
    category: &'static str,
    tier: RiskTier,
    per_mille: u64,
    ages: (i32, i32),
}

const fn profile(
    category: &'static str,
    tier: RiskTier,
    per_mille: u64,
    ages: (i32, i32),
) -> Profile {
    Profile {
        category,
        tier,
        per_mille,
        ages,
    }
}

/// Proportions follow what 株洲-sized cities report: most are 低保 households and older people;
/// children and disability are fewer. The shares add up to 1000.
const PROFILES: [Profile; 11] = [
    profile("dibao", RiskTier::General, 300, (35, 75)),
    profile("tekun", RiskTier::Key, 120, (60, 92)),
    profile("elder_alone", RiskTier::High, 90, (80, 95)),
    profile("elder_empty_nest", RiskTier::General, 120, (62, 85)),
    profile("elder_disabled", RiskTier::Key, 60, (65, 92)),
    profile("family_planning_special", RiskTier::Key, 30, (60, 80)),
    profile("disabled", RiskTier::General, 120, (20, 70)),
    profile("left_behind_child", RiskTier::Key, 70, (4, 15)),
    profile("child_in_difficulty", RiskTier::Key, 50, (3, 16)),
    profile("de_facto_orphan", RiskTier::High, 20, (3, 14)),
    profile("low_income", RiskTier::General, 20, (30, 70)),
];

fn draw_profile(rng: &mut Lcg) -> Profile {
    let mut roll = rng.next(1000);
    for p in PROFILES {
        if roll < p.per_mille {
            return p;
        }
        roll -= p.per_mille;
    }
    PROFILES[0]
}

fn id_number(county: &str, birth: NaiveDate, seq: u64) -> anyhow::Result<String> {
    let body = format!("{county}{}{seq:03}", birth.format("%Y%m%d"));
    let check = shegong_domain::people::identity::check_character(&body)
        .with_context(|| format!("demo identity number {body}"))?;
    Ok(format!("{body}{check}"))
}

/// Who writes the demo's records, and when.
struct Writers<'a> {
    keys: &'a KeyRing,
    /// The demo social worker of 贺家土街道, seeing the whole country.
    viewer: Viewer,
    /// The same, as the 芦淞区 supervisor who approves plans and closures.
    sup_viewer: Viewer,
    me: Actor,
    boss: Actor,
    now: i64,
    /// A year before today: where the service history starts.
    start: NaiveDate,
}

/// Load the villages, then seed people, cases and services. Run after the station network and
/// the demo accounts exist.
pub async fn seed(state: &AppState) -> anyhow::Result<()> {
    regions::import_villages(&state.db, VILLAGES).await?;
    let now = state.now();
    let today = NaiveDate::parse_from_str(&shegong_web::ui::forms::today(now), "%Y-%m-%d")?;
    let mut tx = state.db.begin().await?;
    let all = Scope::national();
    let worker = users::get_by_username(&mut tx, &all, "hjt_worker").await?;
    let supervisor = users::get_by_username(&mut tx, &all, "ls_supervisor").await?;
    let viewer = Viewer {
        scope: all.clone(),
        user_id: worker.id.clone(),
        sees_protected: true,
        today,
    };
    let w = Writers {
        keys: &state.keys,
        sup_viewer: Viewer {
            user_id: supervisor.id.clone(),
            ..viewer.clone()
        },
        viewer,
        me: Actor {
            user_id: worker.id.clone(),
            name: worker.display_name.clone(),
        },
        boss: Actor {
            user_id: supervisor.id.clone(),
            name: supervisor.display_name.clone(),
        },
        now,
        start: today - Duration::days(365),
    };
    let mut rng = Lcg(20_261_121);
    let mut seq = 0u64;
    for county in regions::children(&mut tx, &all, Some("4302")).await? {
        for township in regions::children(&mut tx, &all, Some(&county.code)).await? {
            seed_township(&mut tx, &w, &mut rng, &mut seq, &township.code).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// The people of one township with their visits, the station's group work and (in the demo
/// township) cases.
async fn seed_township(
    tx: &mut Conn,
    w: &Writers<'_>,
    rng: &mut Lcg,
    seq: &mut u64,
    township: &str,
) -> anyhow::Result<()> {
    let station = stations::list(
        tx,
        &Scope::region(RegionCode::parse(township)?),
        &stations::Filter::default(),
        shegong_store::PageRequest::default(),
    )
    .await?
    .items
    .into_iter()
    .next();
    let villages: Vec<String> = regions::children(tx, &Scope::national(), Some(township))
        .await?
        .into_iter()
        .map(|v| v.code)
        .collect();
    let home = township == HOME;
    let count = if home { 60 } else { 16 + rng.next(10) };
    let mut people: Vec<(String, RiskTier)> = Vec::new();
    for _ in 0..count {
        *seq += 1;
        let place = Place {
            township,
            villages: &villages,
            station: station.as_ref(),
            home,
        };
        people.push(seed_person(tx, w, rng, *seq, &place).await?);
    }
    seed_visits(tx, w, rng, &people, home).await?;
    if let Some(st) = &station {
        seed_group_work(tx, w, rng, st, &people).await?;
    }
    if home {
        for (k, (id, _)) in people.iter().take(12).enumerate() {
            seed_case(tx, w, rng, k, id).await?;
        }
    }
    Ok(())
}

/// Where a person lives and who serves them.
struct Place<'a> {
    township: &'a str,
    villages: &'a [String],
    station: Option<&'a Station>,
    /// The demo township: the demo worker is everyone's worker.
    home: bool,
}

/// One person served, registered with a category; returns their id and risk tier.
async fn seed_person(
    tx: &mut Conn,
    w: &Writers<'_>,
    rng: &mut Lcg,
    seq: u64,
    place: &Place<'_>,
) -> anyhow::Result<(String, RiskTier)> {
    let p = draw_profile(rng);
    let (lo, hi) = p.ages;
    let age = lo + rng.next((hi - lo + 1) as u64) as i32;
    let birth = NaiveDate::from_ymd_opt(
        w.viewer.today.year() - age,
        1 + rng.next(12) as u32,
        1 + rng.next(28) as u32,
    )
    .context("demo birth date")?;
    let female = rng.next(10) < 6;
    let given = if age < 18 {
        GIVEN_YOUNG
    } else if age >= 60 {
        GIVEN_OLD
    } else {
        GIVEN_ADULT
    };
    let name = format!("{}{}", rng.pick(SURNAMES), rng.pick(given));
    let region = place
        .villages
        .get(rng.next(place.villages.len().max(1) as u64) as usize)
        .map_or(place.township, String::as_str);
    let seqn = 2 * (seq % 499) + if female { 2 } else { 1 };
    let registered = w.start + Duration::days(rng.next(60) as i64);
    let county = place.township.get(..6).unwrap_or_default();
    let minor_or_old = !(18..80).contains(&age);
    let input = ResidentInput {
        region: Some(RegionCode::parse(region)?),
        name,
        id_type: Some("resident_id".into()),
        id_number: Some(id_number(county, birth, seqn)?),
        sex: Some(if female { "female" } else { "male" }.into()),
        birth_date: birth.to_string(),
        ethnicity: if rng.next(20) == 0 {
            "瑶族"
        } else {
            "汉族"
        }
        .into(),
        address: Some(format!("{}组{}号", 1 + rng.next(12), 1 + rng.next(80))),
        phone: (age >= 16).then(|| {
            format!(
                "1{}{:09}",
                rng.pick(&[3, 5, 8, 9]),
                100_000_000 + seq * 7919 % 899_999_999
            )
        }),
        guardian_name: if minor_or_old {
            format!("{}{}", rng.pick(SURNAMES), rng.pick(GIVEN_ADULT))
        } else {
            String::new()
        },
        guardian_phone: minor_or_old
            .then(|| format!("139{:08}", 10_000_000 + seq * 104_729 % 89_999_999)),
        risk_tier: p.tier.as_str().into(),
        legal_basis: "statutory_duty".into(),
        consent_on: None,
        protected: false,
        station_id: place.station.map(|s| s.id.clone()),
        worker_user_id: place.home.then(|| w.me.user_id.clone()),
        registered_on: registered.to_string(),
    };
    let id = residents::create(tx, &w.viewer, w.keys, &input, "demo", w.now).await?;
    let disability = p.category == "disabled";
    let membership = MembershipInput {
        category: p.category.into(),
        disability_category: disability.then(|| (1 + rng.next(7)).to_string()),
        disability_grade: disability.then(|| (1 + rng.next(4)).to_string()),
        source: if disability { "残联" } else { "县民政局" }.into(),
        evidence: if disability {
            "残疾人证"
        } else {
            "审批表"
        }
        .into(),
        valid_from: registered.to_string(),
        valid_to: None,
        verified_by: "民政所".into(),
    };
    households::add_membership(tx, &w.viewer, &id, &membership, "demo", w.now).await?;
    Ok((id, p.tier))
}

/// A year of visits at roughly the required interval; one in eight people is now late.
async fn seed_visits(
    tx: &mut Conn,
    w: &Writers<'_>,
    rng: &mut Lcg,
    people: &[(String, RiskTier)],
    home: bool,
) -> anyhow::Result<()> {
    let today = w.viewer.today;
    for (i, (id, tier)) in people.iter().enumerate() {
        let file = residents::get(tx, &w.viewer, id).await?;
        let interval = shegong_domain::people::default_interval(*tier);
        let late = i % 8 == 3;
        let mut day = w.start + Duration::days(rng.next(interval as u64) as i64 + 1);
        let stop = if late {
            today - Duration::days(interval + 5)
        } else {
            today - Duration::days(1)
        };
        let mut visits = Vec::new();
        while day <= stop {
            let method = if *tier == RiskTier::High && rng.next(3) == 0 {
                VisitMethod::Phone
            } else {
                VisitMethod::Home
            };
            visits.push((day.to_string(), 20 + rng.next(40) as i64, method));
            day += Duration::days(interval - rng.next(interval as u64 / 4 + 1) as i64);
        }
        let workers = if home {
            w.me.name.as_str()
        } else {
            "驻站社工"
        };
        services::record_past_visits(tx, &w.viewer, &file, &visits, workers, "demo", w.now).await?;
        visit_rules::reschedule(tx, id).await?;
    }
    Ok(())
}

/// Monthly group sessions and quarterly community activities at the station.
async fn seed_group_work(
    tx: &mut Conn,
    w: &Writers<'_>,
    rng: &mut Lcg,
    st: &Station,
    people: &[(String, RiskTier)],
) -> anyhow::Result<()> {
    for m in 0..12 {
        let day = w.start + Duration::days(30 * m + 10 + rng.next(10) as i64);
        let attendees: Vec<String> = people
            .iter()
            .filter(|_| rng.next(4) == 0)
            .take(8)
            .map(|p| p.0.clone())
            .collect();
        let (kind, title) = if m % 3 == 2 {
            ("community", "邻里互助日")
        } else {
            ("group", "长者健康小组")
        };
        let s = ServiceInput {
            kind: kind.into(),
            domain: "elderly".into(),
            station_id: Some(st.id.clone()),
            participants: attendees,
            title: title.into(),
            served_on: day.to_string(),
            duration_minutes: 90,
            person_times: if kind == "community" {
                30 + rng.next(40) as i64
            } else {
                8
            },
            location: st.name.clone(),
            workers: "驻站社工".into(),
            ..Default::default()
        };
        services::create(tx, &w.viewer, w.keys, &s, "demo", w.now).await?;
    }
    Ok(())
}

/// The `k`th case of the demo township, taken as far as `k` says: cases stop at intake, after
/// the assessment, awaiting the supervisor, in service, awaiting closure, or closed.
async fn seed_case(
    tx: &mut Conn,
    w: &Writers<'_>,
    rng: &mut Lcg,
    k: usize,
    resident: &str,
) -> anyhow::Result<()> {
    let (keys, now) = (w.keys, w.now);
    let opened = w.start + Duration::days(40 + 20 * k as i64);
    let open = OpenCase {
        resident_id: resident.into(),
        station_id: None,
        worker_user_id: Some(w.me.user_id.clone()),
        supervisor_user_id: Some(w.boss.user_id.clone()),
        problem: cycled(&PROBLEMS, k).into(),
        opened_on: opened.to_string(),
    };
    let case = cases::open(tx, &w.viewer, keys, &open, &w.me, now).await?;
    if k.is_multiple_of(6) {
        return Ok(()); // still at intake
    }
    let scores: Vec<(AssessmentDomain, i64)> = AssessmentDomain::ALL
        .iter()
        .map(|d| (*d, rng.next(4) as i64))
        .collect();
    let tier = if k.is_multiple_of(4) {
        RiskTier::High
    } else {
        RiskTier::Key
    };
    let note = "入户评估，与本人及家属面谈";
    cases::assess(tx, &w.viewer, keys, &case, &scores, tier, note, &w.me, now).await?;
    if k % 6 == 1 {
        return Ok(());
    }
    let plan = [
        PlannedService {
            kind: "visit".into(),
            per_month: 4,
        },
        PlannedService {
            kind: "resource_linking".into(),
            per_month: 1,
        },
    ];
    let goal = "保障基本生活，链接助餐和医疗资源";
    cases::submit_plan(tx, &w.viewer, keys, &case, goal, &plan, &w.me, now).await?;
    if k % 6 == 2 {
        return Ok(()); // awaiting the supervisor
    }
    let on = opened.to_string();
    cases::decide(
        tx,
        &w.sup_viewer,
        keys,
        &case,
        true,
        "同意",
        &w.boss,
        &on,
        now,
    )
    .await?;
    let link = ServiceInput {
        kind: "resource_linking".into(),
        domain: "social_assistance".into(),
        case_id: Some(case.clone()),
        served_on: (opened + Duration::days(20)).to_string(),
        duration_minutes: 60,
        person_times: 1,
        value_fen: 50_000 + rng.next(200_000) as i64,
        title: "链接助餐与临时救助".into(),
        workers: w.me.name.clone(),
        ..Default::default()
    };
    services::create(tx, &w.viewer, keys, &link, "demo", now).await?;
    if k % 6 == 3 {
        return Ok(());
    }
    let outcome = "生活得到保障，情绪稳定";
    cases::evaluate(tx, &w.viewer, keys, &case, 80, outcome, &w.me, now).await?;
    let note = "转为常规探访";
    let goals = shegong_domain::people::CaseOutcome::GoalsMet;
    cases::request_closure(tx, &w.viewer, keys, &case, goals, note, &w.me, now).await?;
    if k % 6 == 4 {
        return Ok(());
    }
    let on = (opened + Duration::days(90)).to_string();
    cases::decide(tx, &w.sup_viewer, keys, &case, true, "", &w.boss, &on, now).await?;
    Ok(())
}
