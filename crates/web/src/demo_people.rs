//! Demo data of the people served in 株洲市: the villages and communities of the city, about
//! twenty people in special hardship per township (more in 贺家土街道, where the demo worker
//! accounts are) in realistic proportions of categories and risk tiers, and a year of service
//! history — visits at roughly the interval their tier requires (a few now overdue), casework,
//! monthly group sessions and quarterly community activities — plus cases at every stage.
//! Deterministic; written through the store so the visit schedule is maintained as in real use.

use chrono::{Datelike, Duration, NaiveDate};
use shegong_domain::people::{AssessmentDomain, RiskTier, VisitMethod};
use shegong_domain::{RegionCode, Scope};
use shegong_store::people::cases::{self, Actor, OpenCase, PlannedService};
use shegong_store::people::residents::{self, MembershipInput, ResidentInput, Viewer};
use shegong_store::people::services::{self, ServiceInput};
use shegong_store::sql::Sql;
use shegong_store::{admin::users, network::regions, network::stations};

use crate::demo_network::Lcg;
use crate::http::state::AppState;

/// The villages and communities of 株洲市 (NBS 2023), for the demo's home addresses.
const VILLAGES: &[u8] = include_bytes!("../data/zhuzhou-villages.csv.gz");

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

/// (category, tier, share in per mille, age range). Proportions follow what 株洲-sized cities
/// report: most are 低保 households and older people; children and disability are fewer.
const PROFILES: &[(&str, RiskTier, u64, (i32, i32))] = &[
    ("dibao", RiskTier::General, 300, (35, 75)),
    ("tekun", RiskTier::Key, 120, (60, 92)),
    ("elder_alone", RiskTier::High, 90, (80, 95)),
    ("elder_empty_nest", RiskTier::General, 120, (62, 85)),
    ("elder_disabled", RiskTier::Key, 60, (65, 92)),
    ("family_planning_special", RiskTier::Key, 30, (60, 80)),
    ("disabled", RiskTier::General, 120, (20, 70)),
    ("left_behind_child", RiskTier::Key, 70, (4, 15)),
    ("child_in_difficulty", RiskTier::Key, 50, (3, 16)),
    ("de_facto_orphan", RiskTier::High, 20, (3, 14)),
    ("low_income", RiskTier::General, 20, (30, 70)),
];

fn profile(rng: &mut Lcg) -> &'static (&'static str, RiskTier, u64, (i32, i32)) {
    let mut roll = rng.next(1000);
    for p in PROFILES {
        if roll < p.2 {
            return p;
        }
        roll -= p.2;
    }
    &PROFILES[0]
}

fn id_number(county: &str, birth: NaiveDate, seq: u64) -> String {
    let body = format!("{county}{}{seq:03}", birth.format("%Y%m%d"));
    let check = shegong_domain::people::identity::check_character(&body).expect("17 digits");
    format!("{body}{check}")
}

/// Load the villages, then seed people, cases and services. Run after the station network and
/// the demo accounts exist.
pub async fn seed(state: &AppState) -> anyhow::Result<()> {
    regions::import_villages(&state.db, VILLAGES).await?;
    let now = state.now();
    let today = NaiveDate::parse_from_str(&crate::ui::forms::today(now), "%Y-%m-%d")?;
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
    let sup_viewer = Viewer {
        user_id: supervisor.id.clone(),
        ..viewer.clone()
    };
    let me = Actor {
        user_id: worker.id.clone(),
        name: worker.display_name.clone(),
    };
    let boss = Actor {
        user_id: supervisor.id.clone(),
        name: supervisor.display_name.clone(),
    };
    let townships: Vec<(String,)> = Sql::new(
        "SELECT code FROM regions WHERE level = 'township' AND code LIKE '4302%' ORDER BY code",
    )
    .fetch_all(&mut tx)
    .await?;
    let mut rng = Lcg(20_261_121);
    let mut seq = 0u64;
    let start = today - Duration::days(365);
    for (township,) in &townships {
        let station = stations::list(
            &mut tx,
            &Scope::region(RegionCode::parse(township)?),
            &stations::Filter::default(),
            shegong_store::PageRequest::default(),
        )
        .await?
        .items
        .into_iter()
        .next();
        let villages: Vec<(String,)> = Sql::new("SELECT code FROM regions WHERE parent_code = ")
            .bind(township.clone())
            .push(" ORDER BY code")
            .fetch_all(&mut tx)
            .await?;
        let home = township == "430203001";
        let count = if home { 60 } else { 16 + rng.next(10) };
        let mut people: Vec<(String, RiskTier)> = Vec::new();
        for _ in 0..count {
            seq += 1;
            let (category, tier, _, (lo, hi)) = *profile(&mut rng);
            let age = lo + rng.next((hi - lo + 1) as u64) as i32;
            let birth = NaiveDate::from_ymd_opt(
                today.year() - age,
                1 + rng.next(12) as u32,
                1 + rng.next(28) as u32,
            )
            .expect("valid");
            let female = rng.next(10) < 6;
            let given = if age < 18 {
                GIVEN_YOUNG
            } else if age >= 60 {
                GIVEN_OLD
            } else {
                GIVEN_ADULT
            };
            let name = format!("{}{}", rng.pick(SURNAMES), rng.pick(given));
            let region = villages
                .get(rng.next(villages.len().max(1) as u64) as usize)
                .map(|v| v.0.clone())
                .unwrap_or(township.clone());
            let seqn = 2 * (seq % 499) + if female { 2 } else { 1 };
            let registered = start + Duration::days(rng.next(60) as i64);
            let input = ResidentInput {
                region: Some(RegionCode::parse(&region)?),
                name,
                id_type: Some("resident_id".into()),
                id_number: Some(id_number(&township[..6], birth, seqn)),
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
                        [3, 5, 8, 9][rng.next(4) as usize],
                        100_000_000 + seq * 7919 % 899_999_999
                    )
                }),
                guardian_name: if !(18..80).contains(&age) {
                    format!("{}{}", rng.pick(SURNAMES), rng.pick(GIVEN_ADULT))
                } else {
                    String::new()
                },
                guardian_phone: (!(18..80).contains(&age))
                    .then(|| format!("139{:08}", 10_000_000 + seq * 104_729 % 89_999_999)),
                risk_tier: tier.as_str().into(),
                legal_basis: "statutory_duty".into(),
                consent_on: None,
                protected: false,
                station_id: station.as_ref().map(|s| s.id.clone()),
                worker_user_id: home.then(|| worker.id.clone()),
                registered_on: registered.to_string(),
            };
            let id = residents::create(&mut tx, &viewer, &state.keys, &input, "demo", now).await?;
            let disability = category == "disabled";
            residents::add_membership(
                &mut tx,
                &viewer,
                &id,
                &MembershipInput {
                    category: category.into(),
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
                },
                "demo",
                now,
            )
            .await?;
            people.push((id, tier));
        }
        // A year of visits at roughly the required interval; one in eight people is now late.
        for (i, (id, tier)) in people.iter().enumerate() {
            let file = residents::get(&mut tx, &viewer, id).await?;
            let interval = shegong_domain::people::default_interval(*tier);
            let late = i % 8 == 3;
            let mut day = start + Duration::days(rng.next(interval as u64) as i64 + 1);
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
                worker.display_name.as_str()
            } else {
                "驻站社工"
            };
            services::record_past_visits(&mut tx, &viewer, &file, &visits, workers, "demo", now)
                .await?;
            residents::reschedule(&mut tx, id).await?;
        }
        // Monthly group sessions and quarterly community activities at the station.
        if let Some(st) = &station {
            for m in 0..12 {
                let day = start + Duration::days(30 * m + 10 + rng.next(10) as i64);
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
                services::create(&mut tx, &viewer, &state.keys, &s, "demo", now).await?;
            }
        }
        // Cases in the demo township, at every stage.
        if home {
            for (k, (id, _)) in people.iter().take(12).enumerate() {
                let opened = start + Duration::days(40 + 20 * k as i64);
                let case = cases::open(
                    &mut tx,
                    &viewer,
                    &state.keys,
                    &OpenCase {
                        resident_id: id.clone(),
                        station_id: None,
                        worker_user_id: Some(worker.id.clone()),
                        supervisor_user_id: Some(supervisor.id.clone()),
                        problem: [
                            "独居，行动不便，需要助餐和定期探访",
                            "家庭经济困难，子女就学需要资助",
                            "父母外出务工，情绪低落",
                            "失能，照护者压力大",
                            "重度残疾，康复需求",
                        ][k % 5]
                            .into(),
                        opened_on: opened.to_string(),
                    },
                    &me,
                    now,
                )
                .await?;
                if k % 6 == 0 {
                    continue; // still at intake
                }
                let scores: Vec<(AssessmentDomain, i64)> = AssessmentDomain::ALL
                    .iter()
                    .map(|d| (*d, rng.next(4) as i64))
                    .collect();
                let tier = if k % 4 == 0 {
                    RiskTier::High
                } else {
                    RiskTier::Key
                };
                cases::assess(
                    &mut tx,
                    &viewer,
                    &state.keys,
                    &case,
                    &scores,
                    tier,
                    "入户评估，与本人及家属面谈",
                    &me,
                    now,
                )
                .await?;
                if k % 6 == 1 {
                    continue;
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
                cases::submit_plan(
                    &mut tx,
                    &viewer,
                    &state.keys,
                    &case,
                    "保障基本生活，链接助餐和医疗资源",
                    &plan,
                    &me,
                    now,
                )
                .await?;
                if k % 6 == 2 {
                    continue; // awaiting the supervisor
                }
                cases::decide(
                    &mut tx,
                    &sup_viewer,
                    &state.keys,
                    &case,
                    true,
                    "同意",
                    &boss,
                    &opened.to_string(),
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
                    workers: worker.display_name.clone(),
                    ..Default::default()
                };
                services::create(&mut tx, &viewer, &state.keys, &link, "demo", now).await?;
                if k % 6 == 3 {
                    continue;
                }
                cases::evaluate(
                    &mut tx,
                    &viewer,
                    &state.keys,
                    &case,
                    80,
                    "生活得到保障，情绪稳定",
                    &me,
                    now,
                )
                .await?;
                cases::request_closure(
                    &mut tx,
                    &viewer,
                    &state.keys,
                    &case,
                    "目标达成，转为常规探访",
                    &me,
                    now,
                )
                .await?;
                if k % 6 == 4 {
                    continue;
                }
                cases::decide(
                    &mut tx,
                    &sup_viewer,
                    &state.keys,
                    &case,
                    true,
                    "",
                    &boss,
                    &(opened + Duration::days(90)).to_string(),
                    now,
                )
                .await?;
            }
        }
    }
    tx.commit().await?;
    Ok(())
}
