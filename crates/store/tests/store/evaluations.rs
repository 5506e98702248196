//! Evaluations (issue 14 items 5 and 6): the default tree is created on first use, scores are
//! checked node by node before anything is written, a failed veto zeroes the total, an
//! evaluator cannot score its own (or a linked) organisation's contract, an evaluator sees
//! only what is assigned to it, and the final score assesses the instalments it triggers by
//! the contract's reduction rule.

#[allow(unused_imports)]
use super::*;

use chrono::NaiveDate;
use shegong_domain::FieldError;
use shegong_domain::money::Fen;
use shegong_domain::network::station::Status;
use shegong_domain::people::ServiceKind;
use shegong_domain::purchase::contract::{
    BudgetCategory, BudgetLine, ContractLine, LineTier, ProcurementMethod, QualifyingRule, Term,
};
use shegong_domain::purchase::evaluation::{
    EvaluationKind, EvaluationState, Grade, Points, RectificationState,
};
use shegong_domain::purchase::indicator::Scorer;
use shegong_domain::purchase::instalment::{
    AssessmentOutcome, InstalmentState, PaymentPlan, PlannedInstalment, Portion, ReductionRule,
    Trigger,
};
use shegong_store::crypto::{Algorithm, KeyRing};
use shegong_store::people::residents::Viewer;
use shegong_store::people::services::{self, ServiceInput};
use shegong_store::purchase::contracts::{self, ContractInput};
use shegong_store::purchase::evaluations::{
    self as evals, EvaluationInput, Filter, RectificationInput, ScoreText,
};
use shegong_store::purchase::indicator_trees::{self as trees, TreeInput};
use shegong_store::purchase::instalments;
use shegong_store::sql::Sql;
use shegong_store::{PageRequest, StoreError, StoreResult};

use super::stations::{agency, input, station};

pub(super) const NOW: i64 = 1_780_000_000_000;
pub(super) const COUNTY: &str = "430202";

pub(crate) fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

pub(super) fn org_scope(org: &str) -> Scope {
    Scope {
        region: None,
        org: Some(org.parse().unwrap()),
    }
}

pub(crate) fn contract_input(number: &str, provider: &str, stations: Vec<String>) -> ContractInput {
    let amount = 30_000_000;
    let share = |bp, trigger| PlannedInstalment {
        portion: Portion::Share(bp),
        trigger,
    };
    ContractInput {
        region: code(COUNTY),
        number: number.into(),
        title: "社工站项目".into(),
        purchaser_org_id: None,
        provider_org_id: provider.into(),
        amount: Fen(amount),
        term: Term::new(d("2025-06-01"), d("2026-05-31")).unwrap(),
        method: ProcurementMethod::CompetitiveConsultation,
        renewal_of: None,
        catalogue_item_id: None,
        // From 90 % of the maximum pay all, from 60 % pay 80 %, below nothing.
        reduction_rule: Some(ReductionRule::parse("90=100; 60=80; 0=0").unwrap()),
        stations,
        lines: vec![ContractLine {
            service_kind: Some(ServiceKind::Group),
            content: "小组".into(),
            unit: "个".into(),
            unit_price: Fen(100_000),
            quantity: 36,
            rule: QualifyingRule::Group {
                min_sessions: 6,
                min_person_times: 42,
            },
            tier: LineTier::Core,
        }],
        budget: vec![BudgetLine {
            category: BudgetCategory::Personnel,
            amount: Fen(amount),
        }],
        plan: PaymentPlan::new(
            Fen(amount),
            vec![
                share(
                    4000,
                    Trigger::Date {
                        on: d("2025-06-15"),
                    },
                ),
                share(
                    4000,
                    Trigger::Evaluation {
                        kind: EvaluationKind::MidTerm,
                    },
                ),
                share(
                    2000,
                    Trigger::Evaluation {
                        kind: EvaluationKind::Final,
                    },
                ),
            ],
        )
        .unwrap(),
    }
}

pub(super) struct World {
    pub(super) provider: String,
    pub(super) evaluator: String,
    pub(super) other_evaluator: String,
    pub(super) contract: String,
    pub(super) other_contract: String,
}

pub(super) async fn world(db: &Db) -> World {
    let provider = agency(db, "阳光社工", COUNTY).await;
    let other_provider = agency(db, "启航社工", COUNTY).await;
    let evaluator = agency(db, "明镜评估中心", COUNTY).await;
    let other_evaluator = agency(db, "公允评估所", COUNTY).await;
    let st = station(
        db,
        COUNTY,
        &input("430202001", "一号站", Status::Operating, Some(&provider)),
    )
    .await;
    let mut tx = db.begin().await.unwrap();
    let county = scope(COUNTY);
    let contract = contracts::create(
        &mut tx,
        &county,
        &contract_input("PG-1", &provider, vec![st]),
        "test",
        NOW,
    )
    .await
    .unwrap();
    let other_contract = contracts::create(
        &mut tx,
        &county,
        &contract_input("PG-2", &other_provider, vec![]),
        "test",
        NOW,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    World {
        provider,
        evaluator,
        other_evaluator,
        contract,
        other_contract,
    }
}

/// Run `f` in a transaction, committed when it succeeds and rolled back when it fails.
pub(super) async fn write<T, F>(db: &Db, f: F) -> StoreResult<T>
where
    F: for<'c> FnOnce(
        &'c mut sqlx::AnyConnection,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = StoreResult<T>> + Send + 'c>,
    >,
{
    let mut tx = db.begin().await.unwrap();
    let r = f(&mut tx).await;
    if r.is_ok() {
        tx.commit().await.unwrap();
    }
    r
}

pub(crate) async fn plan(
    db: &Db,
    contract: &str,
    kind: EvaluationKind,
    evaluator: Option<&str>,
) -> StoreResult<String> {
    let input = EvaluationInput {
        contract_id: contract.into(),
        kind,
        evaluator_org_id: evaluator.map(Into::into),
        planned_on: d("2025-12-01"),
        note: String::new(),
    };
    write(db, move |c| {
        Box::pin(async move { evals::create(c, &scope(COUNTY), &input, "test", NOW).await })
    })
    .await
}

pub(super) fn text(node: &str, value: &str) -> ScoreText {
    ScoreText {
        node: node.into(),
        value: value.into(),
        reason: String::new(),
        evidence: "台账".into(),
    }
}

pub(crate) async fn enter(
    db: &Db,
    sc: &Scope,
    id: &str,
    entries: Vec<ScoreText>,
) -> StoreResult<usize> {
    let (sc, id) = (sc.clone(), id.to_owned());
    write(db, move |c| {
        Box::pin(async move {
            let (_, changes) = evals::enter_scores(c, &sc, &id, &entries, "test", NOW).await?;
            Ok(changes.len())
        })
    })
    .await
}

pub(crate) async fn step(
    db: &Db,
    sc: &Scope,
    id: &str,
    to: EvaluationState,
) -> StoreResult<evals::Moved> {
    let (sc, id) = (sc.clone(), id.to_owned());
    write(db, move |c| {
        Box::pin(async move { evals::set_state(c, &sc, &id, to, d("2026-01-10"), NOW).await })
    })
    .await
}

/// Every scored node of the default tree: graded ones at `level`, delivery ratios at
/// `ratio` (a measured one — nothing delivered in these contracts — overridden with the
/// points a full delivery gives when `ratio` is "100"), the financial veto as given.
pub(crate) async fn full_sheet(
    db: &Db,
    id: &str,
    level: &str,
    ratio: &str,
    veto: &str,
) -> Vec<ScoreText> {
    let mut c = db.read().await.unwrap();
    let sheet = evals::sheet(&mut c, &scope(COUNTY), id).await.unwrap();
    sheet
        .rows
        .iter()
        .filter_map(|r| match &r.node.scorer {
            Scorer::Sum => None,
            Scorer::Graded { .. } => Some(text(&r.node.id, level)),
            Scorer::RatioBands { .. } if r.measured_bp.is_some() && ratio == "100" => {
                Some(ScoreText {
                    value: r.node.max.to_string(),
                    reason: "实地核查".into(),
                    ..text(&r.node.id, "")
                })
            }
            Scorer::RatioBands { .. } => Some(text(&r.node.id, ratio)),
            Scorer::Veto => Some(text(&r.node.id, veto)),
            Scorer::Points => Some(text(&r.node.id, "0")),
        })
        .collect()
}

async fn score_rows(db: &Db, id: &str) -> i64 {
    let mut c = db.read().await.unwrap();
    Sql::new("SELECT COUNT(*) FROM evaluation_scores WHERE evaluation_id = ")
        .bind(id)
        .fetch_i64(&mut c)
        .await
        .unwrap()
}

pub(super) fn invalid(r: StoreResult<impl std::fmt::Debug>) -> FieldError {
    match r {
        Err(StoreError::Invalid(e)) => e,
        other => panic!("expected a field error, got {other:?}"),
    }
}

async fn mv(
    db: &Db,
    id: &str,
    sc: Scope,
    to: RectificationState,
    evidence: &'static str,
) -> StoreResult<(
    evals::Evaluation,
    evals::Rectification,
    evals::Rectification,
)> {
    let id = id.to_owned();
    write(db, move |c| {
        Box::pin(async move { evals::move_rectification(c, &sc, &id, 1, to, evidence, NOW).await })
    })
    .await
}

pub(crate) async fn run_to(db: &Db, sc: &Scope, id: &str, states: &[EvaluationState]) {
    for &s in states {
        step(db, sc, id, s).await.unwrap();
    }
}

use EvaluationState as S;
pub(crate) const TO_FEEDBACK: &[EvaluationState] = &[
    S::SelfAssessment,
    S::DocumentReview,
    S::SiteVisit,
    S::Preliminary,
    S::Feedback,
];

db_test!(a_failed_veto_zeroes_the_total, |db| {
    let w = world(&db).await;
    let id = plan(
        &db,
        &w.contract,
        EvaluationKind::SpotCheck,
        Some(&w.evaluator),
    )
    .await
    .unwrap();
    let county = scope(COUNTY);
    // The default tree was created on first use: Guangzhou's 1000 points.
    let entries = full_sheet(&db, &id, "优", "100", "fail").await;
    assert_eq!(entries.len(), 13);
    enter(&db, &county, &id, entries).await.unwrap();
    let mut c = db.read().await.unwrap();
    let sheet = evals::sheet(&mut c, &county, &id).await.unwrap();
    drop(c);
    assert!(sheet.complete);
    assert_eq!(sheet.max, Points::whole(1000));
    assert_eq!(sheet.total, Points::ZERO);
    assert_eq!(sheet.vetoed_by.as_deref(), Some("financial"));
    // The items still show what they earned.
    let root = sheet.rows.iter().find(|r| r.node.id == "total").unwrap();
    assert_eq!(root.points, Some(Points::whole(1000)));
    run_to(&db, &county, &id, TO_FEEDBACK).await;
    let moved = step(&db, &county, &id, S::Final).await.unwrap();
    let result = moved.evaluation.result.unwrap();
    assert_eq!((result.total, result.grade), (Points::ZERO, Grade::Fail));
    assert_eq!(moved.evaluation.vetoed_by.as_deref(), Some("financial"));
    // With the veto passed the same sheet is full marks.
    let id2 = plan(&db, &w.contract, EvaluationKind::SpotCheck, None)
        .await
        .unwrap();
    let entries = full_sheet(&db, &id2, "优", "100", "pass").await;
    enter(&db, &county, &id2, entries).await.unwrap();
    let mut c = db.read().await.unwrap();
    let sheet = evals::sheet(&mut c, &county, &id2).await.unwrap();
    assert_eq!(sheet.total, Points::whole(1000));
    assert_eq!(sheet.grade, Grade::Excellent);
});

db_test!(
    scores_above_a_nodes_maximum_are_refused_naming_it_and_nothing_is_written,
    |db| {
        let w = world(&db).await;
        let county = scope(COUNTY);
        let id = plan(
            &db,
            &w.contract,
            EvaluationKind::MidTerm,
            Some(&w.evaluator),
        )
        .await
        .unwrap();
        // "core_delivery" (150 points) overridden with 151; the valid entry before it is not
        // written either.
        let over = ScoreText {
            node: "core_delivery".into(),
            value: "151".into(),
            reason: "记录遗失，按实地核查".into(),
            evidence: "核查记录".into(),
        };
        let e = invalid(enter(&db, &county, &id, vec![text("management", "优"), over]).await);
        assert_eq!(
            (e.field, e.code),
            ("scores.core_delivery", "evaluation.score_above_max")
        );
        assert_eq!(score_rows(&db, &id).await, 0);
        // Other refusals name their node too.
        let e = invalid(enter(&db, &county, &id, vec![text("management", "极好")]).await);
        assert_eq!(
            (e.field, e.code),
            ("scores.management", "evaluation.level_unknown")
        );
        let e = invalid(enter(&db, &county, &id, vec![text("professional", "10")]).await);
        assert_eq!(e.field, "scores.professional");
        let e = invalid(enter(&db, &county, &id, vec![text("nowhere", "10")]).await);
        assert_eq!((e.field, e.code), ("scores", "evaluation.node_unknown"));
        let e = invalid(enter(&db, &county, &id, vec![text("financial", "也许")]).await);
        assert_eq!(e.field, "scores.financial");
        assert_eq!(score_rows(&db, &id).await, 0);
        // Within the maximum it is written, with who entered it and the reason.
        let ok = ScoreText {
            value: "150".into(),
            ..over_clone()
        };
        assert_eq!(enter(&db, &county, &id, vec![ok]).await.unwrap(), 1);
        let mut c = db.read().await.unwrap();
        let sheet = evals::sheet(&mut c, &county, &id).await.unwrap();
        let row = sheet
            .rows
            .iter()
            .find(|r| r.node.id == "core_delivery")
            .unwrap();
        assert_eq!(row.points, Some(Points::whole(150)));
        assert_eq!(row.entered.as_ref().unwrap().entered_by, "test");
        assert!(!sheet.complete);
        drop(c);
        // An incomplete sheet does not become a final score: the missing node is named.
        run_to(&db, &county, &id, TO_FEEDBACK).await;
        let e = invalid(step(&db, &county, &id, S::Final).await);
        assert_eq!(e.code, "evaluation.score_missing");
        assert!(e.field.starts_with("scores."));
    }
);

fn over_clone() -> ScoreText {
    ScoreText {
        node: "core_delivery".into(),
        value: String::new(),
        reason: "记录遗失，按实地核查".into(),
        evidence: "核查记录".into(),
    }
}

db_test!(an_evaluator_cannot_score_its_own_contract, |db| {
    let w = world(&db).await;
    let e = invalid(plan(&db, &w.contract, EvaluationKind::Final, Some(&w.provider)).await);
    assert_eq!(
        (e.field, e.code),
        ("evaluator_org", "evaluation.conflict_of_interest")
    );
    let e = invalid(
        plan(
            &db,
            &w.contract,
            EvaluationKind::Final,
            Some("0190a3c2-0000-7000-8000-00000000dead"),
        )
        .await,
    );
    assert_eq!(e.code, "evaluation.evaluator_unknown");
    let mut c = db.read().await.unwrap();
    let n = Sql::new("SELECT COUNT(*) FROM evaluations")
        .fetch_i64(&mut c)
        .await
        .unwrap();
    assert_eq!(n, 0);
    drop(c);
    // Assigning later is checked the same way.
    let id = plan(&db, &w.contract, EvaluationKind::Final, None)
        .await
        .unwrap();
    let (provider, id2) = (w.provider.clone(), id.clone());
    let e = invalid(
        write(&db, move |c| {
            Box::pin(async move { evals::assign(c, &scope(COUNTY), &id2, &provider, NOW).await })
        })
        .await,
    );
    assert_eq!(e.code, "evaluation.conflict_of_interest");
    // An agency cannot plan evaluations at all.
    let provider_scope = org_scope(&w.provider);
    let input = EvaluationInput {
        contract_id: w.contract.clone(),
        kind: EvaluationKind::Final,
        evaluator_org_id: Some(w.evaluator.clone()),
        planned_on: d("2025-12-01"),
        note: String::new(),
    };
    let e = invalid(
        write(&db, move |c| {
            Box::pin(async move { evals::create(c, &provider_scope, &input, "x", NOW).await })
        })
        .await,
    );
    assert_eq!(e.code, "purchase.purchaser_only");
});

db_test!(an_evaluator_sees_only_what_is_assigned_to_it, |db| {
    let w = world(&db).await;
    let ev = org_scope(&w.evaluator);
    let mut c = db.read().await.unwrap();
    // Before any assignment the evaluator sees no contract.
    let seen = contracts::list(
        &mut c,
        &ev,
        &Default::default(),
        PageRequest::new(None, None),
    )
    .await
    .unwrap();
    assert_eq!(seen.total, 0);
    drop(c);
    let mine = plan(
        &db,
        &w.contract,
        EvaluationKind::MidTerm,
        Some(&w.evaluator),
    )
    .await
    .unwrap();
    let theirs = plan(
        &db,
        &w.other_contract,
        EvaluationKind::MidTerm,
        Some(&w.other_evaluator),
    )
    .await
    .unwrap();
    let mut c = db.read().await.unwrap();
    let seen = contracts::list(
        &mut c,
        &ev,
        &Default::default(),
        PageRequest::new(None, None),
    )
    .await
    .unwrap();
    assert_eq!(
        seen.items.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        vec![w.contract.as_str()]
    );
    assert!(contracts::get(&mut c, &ev, &w.contract).await.is_ok());
    assert!(matches!(
        contracts::get(&mut c, &ev, &w.other_contract).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        instalments::list(&mut c, &ev, &w.other_contract).await,
        Err(StoreError::NotFound)
    ));
    let listed = evals::list(
        &mut c,
        &ev,
        &Filter::default(),
        PageRequest::new(None, None),
    )
    .await
    .unwrap();
    assert_eq!(
        listed
            .items
            .iter()
            .map(|e| e.id.as_str())
            .collect::<Vec<_>>(),
        vec![mine.as_str()]
    );
    assert!(evals::sheet(&mut c, &ev, &mine).await.is_ok());
    assert!(matches!(
        evals::sheet(&mut c, &ev, &theirs).await,
        Err(StoreError::NotFound)
    ));
    // The provider's manager still sees its contract and its evaluations, not the others.
    let provider = org_scope(&w.provider);
    let seen = contracts::list(
        &mut c,
        &provider,
        &Default::default(),
        PageRequest::new(None, None),
    )
    .await
    .unwrap();
    assert_eq!(
        seen.items.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        vec![w.contract.as_str()]
    );
    assert!(evals::get(&mut c, &provider, &mine).await.is_ok());
    assert!(matches!(
        evals::get(&mut c, &provider, &theirs).await,
        Err(StoreError::NotFound)
    ));
    // The county sees both.
    let all = evals::list(
        &mut c,
        &scope(COUNTY),
        &Filter::default(),
        PageRequest::new(None, None),
    )
    .await
    .unwrap();
    assert_eq!(all.total, 2);
    drop(c);
    // Writes outside the assignment are NotFound too; the evaluator scores only the third
    // party's nodes and does not ask for the contract's payment.
    assert!(matches!(
        enter(&db, &ev, &theirs, vec![text("management", "优")]).await,
        Err(StoreError::NotFound)
    ));
    let e = invalid(enter(&db, &ev, &mine, vec![text("daily_management", "优")]).await);
    assert_eq!(
        (e.field, e.code),
        ("scores.daily_management", "evaluation.node_not_yours")
    );
    assert_eq!(
        enter(&db, &ev, &mine, vec![text("management", "优")])
            .await
            .unwrap(),
        1
    );
    let (evs, contract) = (ev.clone(), w.contract.clone());
    let e = invalid(
        write(&db, move |c| {
            Box::pin(async move {
                instalments::advance(c, &evs, &contract, 1, instalments::Step::Request, NOW).await
            })
        })
        .await,
    );
    assert_eq!(e.code, "purchase.purchaser_only");
    // The provider cannot move the evaluation.
    let e = invalid(step(&db, &provider, &mine, S::SelfAssessment).await);
    assert_eq!(e.code, "evaluation.evaluator_only");
    step(&db, &ev, &mine, S::SelfAssessment).await.unwrap();
});

db_test!(
    the_final_score_reduces_the_instalment_by_the_contracts_rule,
    |db| {
        let w = world(&db).await;
        let ev = org_scope(&w.evaluator);
        let county = scope(COUNTY);
        let id = plan(
            &db,
            &w.contract,
            EvaluationKind::MidTerm,
            Some(&w.evaluator),
        )
        .await
        .unwrap();
        // 良 everywhere (four-fifths) and full delivery: 700 × … the third party's part by the
        // evaluator, the rest by the purchaser.
        let entries = full_sheet(&db, &id, "良", "100", "pass").await;
        let (third, others): (Vec<_>, Vec<_>) = entries.into_iter().partition(|e| {
            !matches!(
                e.node.as_str(),
                "daily_management"
                    | "purchaser_outcomes"
                    | "village_rating"
                    | "self_correction"
                    | "rectification_follow_up"
            )
        });
        enter(&db, &ev, &id, third).await.unwrap();
        enter(&db, &county, &id, others).await.unwrap();
        run_to(&db, &ev, &id, TO_FEEDBACK).await;
        // Feedback → rectification with a task, submitted by the provider, accepted, reviewed.
        let (ev2, id2) = (ev.clone(), id.clone());
        let (_, task) = write(&db, move |c| {
            Box::pin(async move {
                evals::add_rectification(
                    c,
                    &ev2,
                    &id2,
                    &RectificationInput {
                        node_id: Some("management".into()),
                        description: "补齐督导记录".into(),
                        owner: "张主任".into(),
                        deadline: d("2026-01-31"),
                    },
                    "test",
                    NOW,
                )
                .await
            })
        })
        .await
        .unwrap();
        assert_eq!((task.seq, task.state), (1, RectificationState::Open));
        step(&db, &ev, &id, S::Rectification).await.unwrap();
        let e = invalid(
            mv(
                &db,
                &id,
                ev.clone(),
                RectificationState::Submitted,
                "已补齐",
            )
            .await,
        );
        assert_eq!(e.code, "evaluation.provider_only");
        let e = invalid(
            mv(
                &db,
                &id,
                org_scope(&w.provider),
                RectificationState::Submitted,
                " ",
            )
            .await,
        );
        assert_eq!(
            (e.field, e.code),
            ("evidence", "evaluation.evidence_required")
        );
        mv(
            &db,
            &id,
            org_scope(&w.provider),
            RectificationState::Submitted,
            "督导记录 12 份",
        )
        .await
        .unwrap();
        let (_, _, after) = mv(&db, &id, ev.clone(), RectificationState::Accepted, "")
            .await
            .unwrap();
        assert_eq!(after.state, RectificationState::Accepted);
        assert_eq!(after.evidence, "督导记录 12 份");
        step(&db, &ev, &id, S::Review).await.unwrap();
        let moved = step(&db, &ev, &id, S::Final).await.unwrap();
        // 良 is 4/5 of every graded node: 800 of 1000 minus the delivery nodes' fifth (250 at
        // full) → 750 × 4/5 + 250 = 850 → 85 %: from 60 % the rule pays 80 %.
        let result = moved.evaluation.result.unwrap();
        assert_eq!(result.total, Points::whole(850));
        assert_eq!(result.grade, Grade::Good);
        assert_eq!(moved.assessed.len(), 1);
        let (before, after) = &moved.assessed[0];
        assert_eq!((before.seq, before.state), (2, InstalmentState::Due));
        assert_eq!(after.state, InstalmentState::Assessed);
        assert_eq!(after.outcome, Some(AssessmentOutcome::Reduced));
        assert_eq!(after.payable, Some(Fen(12_000_000 * 80 / 100)));
        let mut c = db.read().await.unwrap();
        let all = instalments::list(&mut c, &county, &w.contract)
            .await
            .unwrap();
        // The final instalment waits for a final evaluation; the first was paid on a date.
        assert_eq!(all[2].state, InstalmentState::Due);
        assert_eq!(all[0].state, InstalmentState::Due);
        // Final evaluations take no more scores.
        drop(c);
        let e = invalid(enter(&db, &county, &id, vec![text("management", "优")]).await);
        assert_eq!(e.code, "evaluation.closed");
        step(&db, &county, &id, S::Published).await.unwrap();
    }
);

db_test!(
    delivery_nodes_are_pre_filled_from_the_deliverables_and_overridden_with_a_reason,
    |db| {
        let provider = agency(&db, "阳光社工", COUNTY).await;
        let evaluator = agency(&db, "明镜评估中心", COUNTY).await;
        let st = station(
            &db,
            COUNTY,
            &input("430202001", "一号站", Status::Operating, Some(&provider)),
        )
        .await;
        // Two lines counted from the same records, a core and a basic one: 10 community
        // activities each, every record counts.
        let mut ci = contract_input("PG-9", &provider, vec![st.clone()]);
        ci.lines = [LineTier::Core, LineTier::Basic]
            .into_iter()
            .map(|tier| ContractLine {
                service_kind: Some(ServiceKind::Community),
                content: "社区活动".into(),
                unit: "次".into(),
                unit_price: Fen(100_000),
                quantity: 10,
                rule: QualifyingRule::Each,
                tier,
            })
            .collect();
        let county = scope(COUNTY);
        let mut tx = db.begin().await.unwrap();
        let contract = contracts::create(&mut tx, &county, &ci, "test", NOW)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let id = plan(&db, &contract, EvaluationKind::MidTerm, Some(&evaluator))
            .await
            .unwrap();
        let row = |sheet: &evals::ScoreSheet, node: &str| {
            let r = sheet.rows.iter().find(|r| r.node.id == node).unwrap();
            (r.measured_bp, r.ratio_bp, r.points, r.entered.is_some())
        };
        let read_sheet = |sc: Scope| {
            let (db, id) = (&db, id.clone());
            async move {
                let mut c = db.read().await.unwrap();
                evals::sheet(&mut c, &sc, &id).await.unwrap()
            }
        };
        // Nothing delivered yet: measured at 0 %, no points.
        let sheet = read_sheet(county.clone()).await;
        assert_eq!(
            row(&sheet, "core_delivery"),
            (Some(0), Some(0), Some(Points::ZERO), false)
        );
        // 8 of 10 activities recorded at the contract's station: 80 %, two-thirds of 150 and
        // of 100, on the evaluator's sheet too.
        let keys = KeyRing::from_spec(&KeyRing::generate_spec(Algorithm::Aes256Gcm)).unwrap();
        let viewer = Viewer {
            scope: Scope::national(),
            user_id: "tester".into(),
            sees_protected: true,
            today: d("2026-01-01"),
        };
        let mut tx = db.begin().await.unwrap();
        for i in 0..8 {
            let s = ServiceInput {
                kind: "community".into(),
                domain: "social_assistance".into(),
                station_id: Some(st.clone()),
                title: format!("社区活动{i}"),
                served_on: format!("2025-{:02}-10", 7 + i),
                duration_minutes: 60,
                person_times: 20,
                workers: "甲".into(),
                ..Default::default()
            };
            services::create(&mut tx, &viewer, &keys, &s, "t", NOW)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        let ev = org_scope(&evaluator);
        let sheet = read_sheet(ev.clone()).await;
        assert_eq!(
            row(&sheet, "core_delivery"),
            (Some(8000), Some(8000), Some(Points::whole(100)), false)
        );
        assert_eq!(
            row(&sheet, "basic_delivery").2,
            Some(Points(6667)),
            "two-thirds of 100"
        );
        // Entering the measured ratio itself is no override and writes nothing.
        assert_eq!(
            enter(&db, &ev, &id, vec![text("core_delivery", "80")])
                .await
                .unwrap(),
            0
        );
        // A different ratio without a reason is refused naming the node; nothing written.
        let e = invalid(
            enter(
                &db,
                &ev,
                &id,
                vec![text("management", "优"), text("core_delivery", "100")],
            )
            .await,
        );
        assert_eq!(
            (e.field, e.code),
            (
                "scores.core_delivery",
                "evaluation.override_reason_required"
            )
        );
        assert_eq!(score_rows(&db, &id).await, 0);
        // With a reason the override (points) is accepted and shown beside the measured ratio.
        let over = ScoreText {
            value: "150".into(),
            reason: "两次活动记录遗失，按实地核查".into(),
            ..text("core_delivery", "")
        };
        assert_eq!(enter(&db, &ev, &id, vec![over]).await.unwrap(), 1);
        let sheet = read_sheet(county.clone()).await;
        assert_eq!(
            row(&sheet, "core_delivery"),
            (Some(8000), Some(8000), Some(Points::whole(150)), true)
        );
        // The rest entered (delivery nodes left to the measurement), the final score uses the
        // measured ratio and freezes it: later records do not move the closed sheet.
        let rest: Vec<ScoreText> = full_sheet(&db, &id, "优", "", "pass")
            .await
            .into_iter()
            .filter(|e| !e.node.ends_with("_delivery"))
            .collect();
        enter(&db, &county, &id, rest).await.unwrap();
        let sheet = read_sheet(county.clone()).await;
        assert!(sheet.complete);
        // 1000 − 100 + 66.67 (basic_delivery at 80 %).
        assert_eq!(sheet.total, Points(96667));
        run_to(&db, &county, &id, TO_FEEDBACK).await;
        let moved = step(&db, &county, &id, S::Final).await.unwrap();
        assert_eq!(moved.evaluation.result.unwrap().total, Points(96667));
        let mut tx = db.begin().await.unwrap();
        for i in 0..2 {
            let s = ServiceInput {
                kind: "community".into(),
                domain: "social_assistance".into(),
                station_id: Some(st.clone()),
                title: format!("补充活动{i}"),
                served_on: "2025-12-20".into(),
                duration_minutes: 60,
                person_times: 20,
                workers: "甲".into(),
                ..Default::default()
            };
            services::create(&mut tx, &viewer, &keys, &s, "t", NOW)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        let sheet = read_sheet(county).await;
        assert_eq!(
            row(&sheet, "basic_delivery"),
            (Some(8000), Some(8000), Some(Points(6667)), false)
        );
        assert_eq!(sheet.total, Points(96667));
    }
);

/// `n` community activities at `station` within the term: each counts once for an `each` line
/// of that kind.
async fn activities(db: &Db, station: &str, n: usize) {
    let keys = KeyRing::from_spec(&KeyRing::generate_spec(Algorithm::Aes256Gcm)).unwrap();
    let viewer = Viewer {
        scope: Scope::national(),
        user_id: "tester".into(),
        sees_protected: true,
        today: d("2026-01-01"),
    };
    let mut tx = db.begin().await.unwrap();
    for i in 0..n {
        let s = ServiceInput {
            kind: "community".into(),
            domain: "social_assistance".into(),
            station_id: Some(station.to_owned()),
            title: format!("社区活动{i}"),
            served_on: format!("2025-07-{:02}", i + 1),
            duration_minutes: 60,
            person_times: 20,
            workers: "甲".into(),
            ..Default::default()
        };
        services::create(&mut tx, &viewer, &keys, &s, "t", NOW)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
}

/// A community line of `tier` with a target of `quantity`, every record counting (or, without
/// a kind, a line not counted from records).
fn tier_line(tier: LineTier, kind: Option<ServiceKind>, quantity: i64) -> ContractLine {
    ContractLine {
        service_kind: kind,
        content: format!("{tier}项目"),
        unit: "次".into(),
        unit_price: Fen(10_000),
        quantity,
        rule: QualifyingRule::Each,
        tier,
    }
}

/// The measured ratio of every delivery node of an evaluation's sheet, by node id.
async fn measured_by_node(db: &Db, id: &str) -> Vec<(String, Option<i64>)> {
    let mut c = db.read().await.unwrap();
    let sheet = evals::sheet(&mut c, &scope(COUNTY), id).await.unwrap();
    let mut out: Vec<(String, Option<i64>)> = sheet
        .rows
        .iter()
        .filter(|r| matches!(r.node.scorer, Scorer::RatioBands { .. }))
        .map(|r| (r.node.id.clone(), r.measured_bp))
        .collect();
    out.sort();
    out
}

db_test!(
    delivery_nodes_measure_the_lines_of_their_tier_or_all_counted_lines,
    |db| {
        use shegong_domain::purchase::default_tree;
        use shegong_domain::purchase::evaluation::GradeThresholds;
        use shegong_domain::purchase::indicator::delivery_bands;
        let provider = agency(&db, "阳光社工", COUNTY).await;
        let evaluator = agency(&db, "明镜评估中心", COUNTY).await;
        let st = station(
            &db,
            COUNTY,
            &input("430202001", "一号站", Status::Operating, Some(&provider)),
        )
        .await;
        let county = scope(COUNTY);
        // The county's own tree: the default with 核心项目服务质量 made a delivery node that
        // names no tier, so it measures every counted line.
        let mut nodes = default_tree::guangzhou_1000_nodes();
        let all = nodes.iter_mut().find(|n| n.id == "core_quality").unwrap();
        all.id = "all_delivery".into();
        all.scorer = Scorer::RatioBands {
            bands: delivery_bands(),
        };
        assert_eq!(all.measures, None);
        let mut tx = db.begin().await.unwrap();
        trees::create_tree(
            &mut tx,
            &county,
            &TreeInput {
                region: code(COUNTY),
                name: "按项目层级计量".into(),
                nodes,
                thresholds: GradeThresholds::default(),
            },
            NOW,
        )
        .await
        .unwrap();
        // With 8 activities: core lines at 80 % and 200 % (counted as 100 %), a basic line at
        // 20 %, and a basic line not counted from records.
        let mut both = contract_input("PG-T1", &provider, vec![st.clone()]);
        both.lines = vec![
            tier_line(LineTier::Core, Some(ServiceKind::Community), 10),
            tier_line(LineTier::Core, Some(ServiceKind::Community), 4),
            tier_line(LineTier::Basic, Some(ServiceKind::Community), 40),
            tier_line(LineTier::Basic, None, 12),
        ];
        let both = contracts::create(&mut tx, &county, &both, "test", NOW)
            .await
            .unwrap();
        // A contract whose only basic line is not counted from records.
        let mut core_only = contract_input("PG-T2", &provider, vec![st.clone()]);
        core_only.lines = vec![
            tier_line(LineTier::Core, Some(ServiceKind::Community), 10),
            tier_line(LineTier::Basic, None, 12),
        ];
        let core_only = contracts::create(&mut tx, &county, &core_only, "test", NOW)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        activities(&db, &st, 8).await;

        let id = plan(&db, &both, EvaluationKind::MidTerm, Some(&evaluator))
            .await
            .unwrap();
        let node = |id: &str, bp: Option<i64>| (id.to_owned(), bp);
        assert_eq!(
            measured_by_node(&db, &id).await,
            [
                // (80 % + 100 % + 20 %) / 3 over every counted line, rounded down.
                node("all_delivery", Some(6666)),
                // 20 %: the basic line counted from records, the uncounted one left out.
                node("basic_delivery", Some(2000)),
                // (80 % + 100 %) / 2 over the core lines.
                node("core_delivery", Some(9000)),
            ]
        );

        // No counted basic line: basic_delivery is not measured and is entered by hand.
        let id = plan(&db, &core_only, EvaluationKind::MidTerm, Some(&evaluator))
            .await
            .unwrap();
        assert_eq!(
            measured_by_node(&db, &id).await,
            [
                node("all_delivery", Some(8000)),
                node("basic_delivery", None),
                node("core_delivery", Some(8000)),
            ]
        );
        assert_eq!(
            enter(&db, &county, &id, vec![text("basic_delivery", "50")])
                .await
                .unwrap(),
            1
        );
        let mut c = db.read().await.unwrap();
        let sheet = evals::sheet(&mut c, &county, &id).await.unwrap();
        let basic = sheet
            .rows
            .iter()
            .find(|r| r.node.id == "basic_delivery")
            .unwrap();
        assert_eq!((basic.measured_bp, basic.ratio_bp), (None, Some(5000)));
    }
);

db_test!(
    a_default_tree_stored_before_tiers_measures_every_counted_line,
    |db| {
        use shegong_domain::purchase::default_tree;
        let provider = agency(&db, "阳光社工", COUNTY).await;
        let st = station(
            &db,
            COUNTY,
            &input("430202001", "一号站", Status::Operating, Some(&provider)),
        )
        .await;
        // The national default as stored before delivery nodes named a tier: no `measures`.
        let mut old = default_tree::guangzhou_1000_nodes();
        for n in &mut old {
            n.measures = None;
        }
        let old = serde_json::to_string(&old).unwrap();
        assert!(!old.contains("measures"));
        let county = scope(COUNTY);
        let mut tx = db.begin().await.unwrap();
        let tree = trees::tree_for_region(&mut tx, COUNTY, NOW).await.unwrap();
        assert_eq!(tree.region_code, "");
        Sql::new("UPDATE indicator_trees SET nodes = ")
            .bind(old.as_str())
            .push(" WHERE id = ")
            .bind(tree.id.as_str())
            .execute(&mut tx)
            .await
            .unwrap();
        let mut ci = contract_input("PG-T3", &provider, vec![st.clone()]);
        ci.lines = vec![
            tier_line(LineTier::Core, Some(ServiceKind::Community), 10),
            tier_line(LineTier::Basic, Some(ServiceKind::Community), 40),
        ];
        let contract = contracts::create(&mut tx, &county, &ci, "test", NOW)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        activities(&db, &st, 8).await;
        let id = plan(&db, &contract, EvaluationKind::MidTerm, None)
            .await
            .unwrap();
        // Both delivery nodes get the mean over every counted line, (80 % + 20 %) / 2, as
        // before.
        assert_eq!(
            measured_by_node(&db, &id).await,
            [
                ("basic_delivery".to_owned(), Some(5000)),
                ("core_delivery".to_owned(), Some(5000)),
            ]
        );
    }
);
