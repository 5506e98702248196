//! Demo data of the purchase of services in 株洲市: the city's catalogue edition of the current
//! year (items in several fields, some shared with the districts, at every stage of their life),
//! published, so the public portal shows its included and purchasing items, and one contract per county and agency for the stations the agency runs there — casework, a
//! group line counted only with ≥ 6 sessions and ≥ 42 person-times, community activities, a
//! budget and a 40/40/20 plan. The terms run a year from six months ago, so every contract is in
//! force; 芦淞区's (the demo accounts' district) has its first instalment assessed and paid,
//! another's (荷塘区's) first one awaits assessment. 芦淞区's contract also has a mid-term
//! evaluation by a third-party evaluation centre completed to its final score and grade (which
//! assessed the mid-term instalment by the contract's rule) and published, so the portal shows
//! the grade, and a spot check in progress with open rectification tasks (one overdue); the
//! evaluation centre is linked to another agency (shared managers), not to the provider it
//! evaluates. Every contract has spent against its budget, and 芦淞区's buys posts held by the
//! provider's staff (`execution`). Written through the store, as in use; deterministic.

use std::collections::BTreeMap;

use anyhow::Context;
use chrono::{DateTime, Datelike, Days, Months, NaiveDate};
use shegong_domain::money::Fen;
use shegong_domain::network::org::{LinkKind, OrgKind};
use shegong_domain::network::station::Mode;
use shegong_domain::people::ServiceKind;
use shegong_domain::purchase::HUNDRED_PERCENT;
use shegong_domain::purchase::catalogue::{
    CostShare, CostShares, ItemStatus, PurchaserLevel, RemovalReason, ServiceField,
};
use shegong_domain::purchase::contract::{
    BudgetCategory, BudgetLine, ContractLine, ContractState, LineTier, ProcurementMethod,
    QualifyingRule, Term,
};
use shegong_domain::purchase::default_tree::guangzhou_1000_nodes;
use shegong_domain::purchase::evaluation::{
    EvaluationKind, EvaluationState, FinalScore, GradeThresholds, Points,
};
use shegong_domain::purchase::indicator::Scorer;
use shegong_domain::purchase::instalment::{
    PaymentPlan, PlannedInstalment, Portion, ReductionRule, Trigger,
};
use shegong_domain::{RegionCode, Scope};
use shegong_store::network::stations::{self, Filter};
use shegong_store::network::{org_links, orgs, regions};
use shegong_store::purchase::catalogue::{self, ItemInput, ItemStep};
use shegong_store::purchase::contracts::{self, ContractInput};
use shegong_store::purchase::evaluations::{
    self as evals, EvaluationInput, RectificationInput, ScoreText,
};
use shegong_store::purchase::indicator_trees::{TreeInput, create_tree};
use shegong_store::purchase::instalments::{self, Assess, Step};
use shegong_store::{Conn, PageRequest};
use shegong_web::AppState;

use super::execution;

const CITY: &str = "4302";

/// The district of the demo accounts (and of the demo agency).
const DEMO_COUNTY: &str = "430203";

/// Who seeded a row.
const BY: &str = "demo";

/// The catalogue: field, name, description, (city %, district %), and how far the item got.
type CatalogueItem = (ServiceField, &'static str, &'static str, (i64, i64), Life);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Life {
    Proposed,
    Reviewed,
    Included,
    Purchasing,
    /// Included two years ago and never bought.
    Removed,
}

/// The item the station contracts buy.
const STATIONS_ITEM: &str = "乡镇（街道）社会工作服务站运营";

const ITEMS: &[CatalogueItem] = &[
    (
        ServiceField::Community,
        STATIONS_ITEM,
        "以乡镇（街道）社工站为平台，面向困难群众、“一老一小”等开展个案、小组和社区活动",
        (50, 50),
        Life::Purchasing,
    ),
    (
        ServiceField::Elderly,
        "居家养老探访与助餐服务",
        "为独居、空巢、失能老年人提供定期探访、助餐配送和照护者支持",
        (30, 70),
        Life::Included,
    ),
    (
        ServiceField::WomenChildren,
        "农村留守儿童关爱保护",
        "建立留守儿童档案，开展心理支持、学业辅导和监护指导",
        (50, 50),
        Life::Included,
    ),
    (
        ServiceField::SocialAssistance,
        "特困供养人员社会工作服务",
        "入户评估特困人员需求，链接救助资源，开展生活照料和精神慰藉",
        (100, 0),
        Life::Reviewed,
    ),
    (
        ServiceField::Disability,
        "重度残疾人康复支持",
        "上门康复指导、辅具适配和家庭照护培训",
        (40, 60),
        Life::Proposed,
    ),
    (
        ServiceField::DrugControl,
        "社区戒毒康复社会工作服务",
        "社区戒毒社区康复人员的个案管理、就业帮扶和家庭支持",
        (100, 0),
        Life::Removed,
    ),
];

/// Each item's step from proposed to where the demo leaves it.
fn steps(life: Life) -> Vec<ItemStep> {
    let to = |to| ItemStep {
        to,
        reason: None,
        note: String::new(),
    };
    let mut out = vec![to(ItemStatus::Reviewed)];
    if matches!(life, Life::Proposed) {
        return vec![];
    }
    if !matches!(life, Life::Reviewed) {
        out.push(to(ItemStatus::Included));
    }
    match life {
        Life::Purchasing => out.push(to(ItemStatus::Purchasing)),
        Life::Removed => out.push(ItemStep {
            to: ItemStatus::Removed,
            reason: Some(RemovalReason::UnpurchasedTwoYears),
            note: "纳入目录满两年未被购买，按规定移出".into(),
        }),
        _ => {}
    }
    out
}

/// Seed the catalogue and the contracts (after the network and people).
pub async fn seed(state: &AppState) -> anyhow::Result<()> {
    let now = state.now();
    let today = DateTime::from_timestamp_millis(now)
        .context("demo clock")?
        .date_naive();
    let mut tx = state.db.begin().await?;
    let item = seed_catalogue(&mut tx, today.year().into(), now).await?;
    seed_contracts(&mut tx, &item, today, now).await?;
    tx.commit().await?;
    Ok(())
}

/// The city's edition of `year`, published once its items are where the demo leaves them;
/// returns the id of the item the station contracts buy.
async fn seed_catalogue(conn: &mut Conn, year: i64, now: i64) -> anyhow::Result<String> {
    let all = Scope::national();
    let mut stations_item = None;
    let mut edition = None;
    for (field, name, description, (city, district), life) in ITEMS {
        let mut shares = vec![CostShare {
            level: PurchaserLevel::City,
            share_bp: city * 100,
        }];
        if *district > 0 {
            shares.push(CostShare {
                level: PurchaserLevel::District,
                share_bp: district * 100,
            });
        }
        let input = ItemInput {
            region: RegionCode::parse(CITY)?,
            year,
            edition_title: format!("株洲市{year}年度政府购买社会工作服务项目目录"),
            field: *field,
            name: (*name).into(),
            description: (*description).into(),
            cost_shares: CostShares::new(shares)?,
        };
        let (id, edition_id) = catalogue::create_item(conn, &all, &input, BY, now).await?;
        edition = Some(edition_id);
        for (i, step) in steps(*life).iter().enumerate() {
            // A day between steps, so the history reads in order.
            let at = now + (i as i64 + 1) * 86_400_000;
            catalogue::move_item(conn, &all, &id, step, BY, at).await?;
        }
        if *name == STATIONS_ITEM {
            stations_item = Some(id);
        }
    }
    let edition = edition.context("catalogue edition")?;
    catalogue::publish_edition(conn, &all, &edition, now).await?;
    stations_item.context("stations item")
}

/// The lines of a contract for `stations` stations: casework and qualifying groups (核心项目),
/// community activities (基础项目).
fn lines(stations: i64) -> Vec<ContractLine> {
    vec![
        ContractLine {
            service_kind: Some(ServiceKind::Casework),
            content: "困难群众个案服务".into(),
            unit: "个".into(),
            unit_price: Fen(150_000),
            quantity: 20 * stations,
            rule: QualifyingRule::ClosedCase { min_follow_ups: 3 },
            tier: LineTier::Core,
        },
        ContractLine {
            service_kind: Some(ServiceKind::Group),
            content: "“一老一小”支持小组".into(),
            unit: "个".into(),
            unit_price: Fen(400_000),
            quantity: 4 * stations,
            rule: QualifyingRule::Group {
                min_sessions: 6,
                min_person_times: 42,
            },
            tier: LineTier::Core,
        },
        ContractLine {
            service_kind: Some(ServiceKind::Community),
            content: "社区主题活动".into(),
            unit: "场".into(),
            unit_price: Fen(300_000),
            quantity: 6 * stations,
            rule: QualifyingRule::Activity {
                min_participants: 30,
            },
            tier: LineTier::Basic,
        },
    ]
}

/// The budget of `amount`: personnel 65 %, activities 20 %, supervision and training 6 %,
/// administration 4 %, evaluation 2 %, tax the rest.
fn budget(amount: Fen) -> Vec<BudgetLine> {
    let parts = [
        (BudgetCategory::Personnel, 6500),
        (BudgetCategory::Activities, 2000),
        (BudgetCategory::SupervisionTraining, 600),
        (BudgetCategory::Administration, 400),
        (BudgetCategory::Evaluation, 200),
    ];
    let mut out: Vec<BudgetLine> = parts
        .iter()
        .map(|(category, bp)| BudgetLine {
            category: *category,
            amount: Fen(amount.0 * bp / HUNDRED_PERCENT),
        })
        .collect();
    let spent: i64 = out.iter().map(|l| l.amount.0).sum();
    out.push(BudgetLine {
        category: BudgetCategory::Tax,
        amount: Fen(amount.0 - spent),
    });
    out
}

/// 40 % assessed three months in, 40 % on the mid-term evaluation, 20 % on the final one.
fn plan(amount: Fen, term: Term) -> anyhow::Result<PaymentPlan> {
    let first = term
        .start()
        .checked_add_months(Months::new(3))
        .context("term")?;
    let share = |bp, trigger| PlannedInstalment {
        portion: Portion::Share(bp),
        trigger,
    };
    let evaluation = |kind| Trigger::Evaluation { kind };
    Ok(PaymentPlan::new(
        amount,
        vec![
            share(4000, Trigger::AssessedOn { on: first }),
            share(4000, evaluation(EvaluationKind::MidTerm)),
            share(2000, evaluation(EvaluationKind::Final)),
        ],
    )?)
}

/// A year from the first of the month six months before `today`.
fn term(today: NaiveDate) -> anyhow::Result<Term> {
    let start = today
        .with_day(1)
        .and_then(|d| d.checked_sub_months(Months::new(6)))
        .context("term start")?;
    let end = start
        .checked_add_months(Months::new(12))
        .and_then(|d| d.checked_sub_days(Days::new(1)))
        .context("term end")?;
    Ok(Term::new(start, end)?)
}

/// One contract per county and agency, for the purchased stations the agency runs there.
async fn seed_contracts(
    conn: &mut Conn,
    item: &str,
    today: NaiveDate,
    now: i64,
) -> anyhow::Result<()> {
    let all = Scope::national();
    let filter = Filter {
        mode: Some(Mode::Purchase.as_str().into()),
        ..Filter::default()
    };
    let city = Scope::region(RegionCode::parse(CITY)?);
    let listed = stations::list(conn, &city, &filter, PageRequest::new(Some(1), Some(1000)))
        .await?
        .items;
    // (county, agency) → stations, in a stable order.
    let mut groups: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for s in listed {
        let (Some(county), Some(operator)) = (s.region_code.get(..6), s.operator_org_id) else {
            continue;
        };
        groups
            .entry((county.to_owned(), operator))
            .or_default()
            .push(s.id);
    }
    let names: BTreeMap<String, String> = orgs::list(conn, &all)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let counties: BTreeMap<String, String> = regions::children(conn, &all, Some(CITY))
        .await?
        .into_iter()
        .map(|r| (r.code, r.name))
        .collect();
    let term = term(today)?;
    let year = term.start().year();
    // One other contract's first instalment awaits assessment.
    let mut awaiting = false;
    for (n, ((county, agency), stations)) in groups.into_iter().enumerate() {
        let count = stations.len() as i64;
        // 25万元 a station a year.
        let amount = Fen(25_000_000 * count);
        let county_name = counties
            .get(&county)
            .map_or(county.as_str(), String::as_str);
        let agency_name = names.get(&agency).map_or("", String::as_str);
        let input = ContractInput {
            region: RegionCode::parse(&county)?,
            number: format!("ZZCG-{year}-{:03}", n + 1),
            title: format!("{county_name}乡镇（街道）社会工作服务站项目（{agency_name}）"),
            purchaser_org_id: None,
            provider_org_id: agency,
            amount,
            term,
            method: ProcurementMethod::CompetitiveConsultation,
            renewal_of: None,
            catalogue_item_id: Some(item.to_owned()),
            reduction_rule: Some(ReductionRule::parse("90=100; 80=95; 60=80; 0=0")?),
            stations,
            lines: lines(count),
            budget: budget(amount),
            plan: plan(amount, term)?,
        };
        let id = contracts::create(conn, &all, &input, BY, now).await?;
        contracts::set_state(conn, &all, &id, ContractState::InForce, now).await?;
        let demo_county = county == DEMO_COUNTY;
        execution::seed_expenses(conn, &id, &input, n, today, demo_county, now).await?;
        // 芦淞区's contract is the one the demo's agency and district accounts see.
        if demo_county {
            execution::seed_positions(
                conn,
                &id,
                &input.provider_org_id,
                &input.stations,
                term,
                now,
            )
            .await?;
            first_instalment_paid(conn, &id, term, now).await?;
            seed_evaluations(conn, &id, term, today, now).await?;
        } else if !awaiting {
            let step = Step::AwaitAssessment;
            instalments::advance(conn, &all, &id, 1, step, now).await?;
            awaiting = true;
        }
    }
    Ok(())
}

/// The first instalment assessed at 92 of 100 points (优秀, paid in full), requested and paid.
async fn first_instalment_paid(
    conn: &mut Conn,
    id: &str,
    term: Term,
    now: i64,
) -> anyhow::Result<()> {
    let all = Scope::national();
    let (total, max) = (Points::whole(92), Points::whole(100));
    let score = FinalScore {
        total,
        max,
        grade: GradeThresholds::default().grade(total, max),
    };
    let paid_on = term
        .start()
        .checked_add_months(Months::new(4))
        .context("paid on")?;
    for step in [
        Step::AwaitAssessment,
        Step::Assess(Assess::Score(score)),
        Step::Request,
        Step::Pay(paid_on),
    ] {
        instalments::advance(conn, &all, id, 1, step, now).await?;
    }
    Ok(())
}

/// The demo's third-party evaluation centre.
const EVALUATOR: &str = "株洲市明鉴社会工作评估中心";

/// An input for every scored node of the default tree, mostly 优 with a few 良, delivery as
/// measured from the demo's service records (else 96 % and 100 %), the financial veto passed;
/// only the third party's nodes
/// when `third_party_only`.
async fn demo_scores(
    conn: &mut Conn,
    id: &str,
    third_party_only: bool,
) -> anyhow::Result<Vec<ScoreText>> {
    let sheet = evals::sheet(conn, &Scope::national(), id).await?;
    let good = [
        "core_quality",
        "featured",
        "purchaser_outcomes",
        "rectification_follow_up",
    ];
    Ok(sheet
        .rows
        .iter()
        .filter(|r| !third_party_only || r.node.role.as_str() == "third_party")
        .filter_map(|r| {
            let value = match &r.node.scorer {
                Scorer::Sum => return None,
                Scorer::Graded { .. } if good.contains(&r.node.id.as_str()) => "良",
                Scorer::Graded { .. } => "优",
                // Delivery measured from the demo's own service records stands as measured.
                Scorer::RatioBands { .. } if r.measured_bp.is_some() => return None,
                Scorer::RatioBands { .. } if r.node.id == "core_delivery" => "96",
                Scorer::RatioBands { .. } => "100",
                Scorer::Veto => "pass",
                Scorer::Points => "0",
            };
            Some(ScoreText {
                node: r.node.id.clone(),
                value: value.to_owned(),
                reason: String::new(),
                evidence: format!("{}：服务台账与现场核查记录", r.node.name),
            })
        })
        .collect())
}

async fn run_to(
    conn: &mut Conn,
    id: &str,
    states: &[EvaluationState],
    today: NaiveDate,
    now: i64,
) -> anyhow::Result<()> {
    for &to in states {
        evals::set_state(conn, &Scope::national(), id, to, today, now).await?;
    }
    Ok(())
}

/// A mid-term evaluation of contract `id` completed to its grade (assessing the mid-term
/// instalment) and published, and a spot check in rectification with two open tasks, one overdue.
/// The city's own indicator tree in two versions: the national default's items, the 2025
/// version with 优秀 from 85 and 良好 from 75 (the one the demo's evaluations use).
async fn seed_city_trees(conn: &mut Conn, now: i64) -> anyhow::Result<()> {
    for (name, excellent, good) in [
        ("株洲市社工站服务评估指标（2024 版）", 9000, 8000),
        ("株洲市社工站服务评估指标（2025 版）", 8500, 7500),
    ] {
        let input = TreeInput {
            region: RegionCode::parse(CITY)?,
            name: name.into(),
            nodes: guangzhou_1000_nodes(),
            thresholds: GradeThresholds::new(excellent, good, 6000)?,
        };
        create_tree(conn, &Scope::national(), &input, now).await?;
    }
    Ok(())
}

async fn seed_evaluations(
    conn: &mut Conn,
    id: &str,
    term: Term,
    today: NaiveDate,
    now: i64,
) -> anyhow::Result<()> {
    use EvaluationState as S;
    let all = Scope::national();
    let (evaluator, _) = orgs::create(
        conn,
        &orgs::NewOrg {
            name: EVALUATOR.into(),
            uscc: None,
            kind: OrgKind::Other,
            region: RegionCode::parse(CITY)?,
        },
        now,
    )
    .await?;
    seed_city_trees(conn, now).await?;
    let planned = |months| {
        term.start()
            .checked_add_months(Months::new(months))
            .context("planned on")
    };
    let mid = evals::create(
        conn,
        &all,
        &EvaluationInput {
            contract_id: id.to_owned(),
            kind: EvaluationKind::MidTerm,
            evaluator_org_id: Some(evaluator.clone()),
            planned_on: planned(5)?,
            note: "中期评估：材料审查与实地评估".into(),
        },
        BY,
        now,
    )
    .await?;
    let scores = demo_scores(conn, &mid, false).await?;
    evals::enter_scores(conn, &all, &mid, &scores, BY, now).await?;
    run_to(
        conn,
        &mid,
        &[
            S::SelfAssessment,
            S::DocumentReview,
            S::SiteVisit,
            S::Preliminary,
            S::Feedback,
            S::Final,
            S::Published,
        ],
        today,
        now,
    )
    .await?;
    seed_spot_check(conn, id, evaluator.clone(), planned(6)?, today, now).await?;
    link_evaluator(conn, &evaluator, id, now).await
}

/// The agency the evaluation centre shares managers with (it runs no station of 芦淞区).
const EVALUATOR_LINKED: &str = "株洲市同心社会工作服务中心";

/// The evaluation centre tied to [`EVALUATOR_LINKED`] (shared managers): it would stand aside
/// from that agency's contracts, not from contract `id`'s provider, which it evaluates.
async fn link_evaluator(
    conn: &mut Conn,
    evaluator: &str,
    id: &str,
    now: i64,
) -> anyhow::Result<()> {
    let all = Scope::national();
    let provider = contracts::get(conn, &all, id).await?.provider_org_id;
    let linked = orgs::list(conn, &all)
        .await?
        .into_iter()
        .find(|o| o.name == EVALUATOR_LINKED)
        .map(|o| o.id)
        .context("the evaluation centre's linked agency")?;
    anyhow::ensure!(
        linked != provider,
        "the evaluation centre must not be linked to the provider it evaluates"
    );
    let link = org_links::NewLink {
        other: &linked,
        kind: LinkKind::SharedManagement,
        note: "两机构理事会成员交叉任职；评估同心社工中心承接的项目时须回避",
    };
    org_links::link(conn, &all, evaluator, &link, BY, now).await?;
    Ok(())
}

/// A spot check of contract `id` in rectification, the third party's nodes scored, with two
/// open tasks (one overdue).
async fn seed_spot_check(
    conn: &mut Conn,
    id: &str,
    evaluator: String,
    planned_on: NaiveDate,
    today: NaiveDate,
    now: i64,
) -> anyhow::Result<()> {
    use EvaluationState as S;
    let all = Scope::national();
    let spot = evals::create(
        conn,
        &all,
        &EvaluationInput {
            contract_id: id.to_owned(),
            kind: EvaluationKind::SpotCheck,
            evaluator_org_id: Some(evaluator),
            planned_on,
            note: "年度抽查".into(),
        },
        BY,
        now,
    )
    .await?;
    let scores = demo_scores(conn, &spot, true).await?;
    evals::enter_scores(conn, &all, &spot, &scores, BY, now).await?;
    run_to(
        conn,
        &spot,
        &[
            S::SelfAssessment,
            S::DocumentReview,
            S::SiteVisit,
            S::Preliminary,
            S::Feedback,
            S::Rectification,
        ],
        today,
        now,
    )
    .await?;
    let tasks = [
        ("management", "补齐督导记录和月度例会纪要", "站长", 14i64),
        (
            "core_quality",
            "个案服务计划与结案评估补充完整",
            "个案组负责人",
            -3,
        ),
    ];
    for (node, description, owner, days) in tasks {
        let deadline = if days >= 0 {
            today.checked_add_days(Days::new(days.unsigned_abs()))
        } else {
            today.checked_sub_days(Days::new(days.unsigned_abs()))
        }
        .context("deadline")?;
        evals::add_rectification(
            conn,
            &all,
            &spot,
            &RectificationInput {
                node_id: Some(node.into()),
                description: description.into(),
                owner: owner.into(),
                deadline,
            },
            BY,
            now,
        )
        .await?;
    }
    Ok(())
}
