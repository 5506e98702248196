//! Purchase storage (issue 14): a contract is written whole in the caller's
//! transaction, read back through the domain's types, seen only in scope (purchaser region, or
//! the provider's own organisation), moved only along its workflows; instalments pay what the
//! reduction rule says; catalogue items move only along their life, each step kept.

#[allow(unused_imports)]
use super::*;

use chrono::NaiveDate;
use shegong_domain::money::Fen;
use shegong_domain::network::station::Status;
use shegong_domain::people::ServiceKind;
use shegong_domain::purchase::catalogue::{
    CostShare, CostShares, ItemStatus, PurchaserLevel, RemovalReason, ServiceField,
};
use shegong_domain::purchase::contract::{
    BudgetCategory, BudgetLine, ContractLine, ContractState, LineTier, ProcurementMethod,
    QualifyingRule, Term,
};
use shegong_domain::purchase::evaluation::{EvaluationKind, FinalScore, Grade, Points};
use shegong_domain::purchase::instalment::{
    AssessmentOutcome, InstalmentState, PaymentPlan, PlannedInstalment, Portion, ReductionRule,
    Trigger,
};
use shegong_store::purchase::catalogue::{self, ItemInput, ItemStep};
use shegong_store::purchase::contracts::{self, ContractInput, Filter};
use shegong_store::purchase::instalments::{self, Assess, Step};
use shegong_store::sql::Sql;
use shegong_store::{PageRequest, StoreError, StoreResult};

use super::stations::{agency, input, station};

const NOW: i64 = 1_780_000_000_000;
const COUNTY: &str = "430202";

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn org_scope(org: &str) -> Scope {
    Scope {
        region: None,
        org: Some(org.parse().unwrap()),
    }
}

fn contract(number: &str, provider: &str, stations: Vec<String>, amount: i64) -> ContractInput {
    let share = |bp, trigger| PlannedInstalment {
        portion: Portion::Share(bp),
        trigger,
    };
    let evaluation = |kind| Trigger::Evaluation { kind };
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
                share(4000, evaluation(EvaluationKind::MidTerm)),
                share(2000, evaluation(EvaluationKind::Final)),
            ],
        )
        .unwrap(),
    }
}

async fn rows(db: &Db) -> i64 {
    let mut c = db.read().await.unwrap();
    let mut total = 0;
    for sql in [
        "SELECT COUNT(*) FROM contracts",
        "SELECT COUNT(*) FROM contract_lines",
        "SELECT COUNT(*) FROM contract_budget_lines",
        "SELECT COUNT(*) FROM contract_stations",
        "SELECT COUNT(*) FROM instalments",
    ] {
        total += Sql::new(sql).fetch_i64(&mut c).await.unwrap();
    }
    total
}

db_test!(contracts_round_trip_whole_and_split_exactly, |db| {
    let provider = agency(&db, "阳光社工", COUNTY).await;
    let st = station(
        &db,
        COUNTY,
        &input("430202001", "一号站", Status::Operating, Some(&provider)),
    )
    .await;
    let mut tx = db.begin().await.unwrap();
    let id = contracts::create(
        &mut tx,
        &scope(COUNTY),
        &contract("C-1", &provider, vec![st.clone()], 100_001),
        "tester",
        NOW,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let mut c = db.read().await.unwrap();
    let detail = contracts::detail(&mut c, &scope("4302"), &id)
        .await
        .unwrap();
    assert_eq!(detail.contract.state, ContractState::Signed);
    assert_eq!(detail.contract.term.start(), d("2025-06-01"));
    assert_eq!(
        detail.contract.reduction_rule.as_ref().unwrap().to_string(),
        "90=100; 60=80; 0=0"
    );
    assert_eq!(
        detail.lines[0].line.rule,
        QualifyingRule::Group {
            min_sessions: 6,
            min_person_times: 42
        }
    );
    assert_eq!(detail.lines[0].line.tier, LineTier::Core);
    // A line as JSON from before tiers reads as basic; a tier that is neither is refused.
    let old = r#"{"service_kind":"group","content":"小组","unit":"个","unit_price":100000,"quantity":36,"rule":{"rule":"each"}}"#;
    let line: ContractLine = serde_json::from_str(old).unwrap();
    assert_eq!(line.tier, LineTier::Basic);
    let core = old.replace("}}", r#"},"tier":"core"}"#);
    let line: ContractLine = serde_json::from_str(&core).unwrap();
    assert_eq!(line.tier, LineTier::Core);
    let middle = old.replace("}}", r#"},"tier":"middle"}"#);
    assert!(serde_json::from_str::<ContractLine>(&middle).is_err());
    assert_eq!(detail.stations, vec![(st, "一号站".to_owned())]);
    let amounts: Vec<Fen> = detail.instalments.iter().map(|i| i.amount).collect();
    assert_eq!(amounts, [Fen(40_000), Fen(40_000), Fen(20_001)]);
    assert_eq!(detail.instalments[0].due_on, Some(d("2025-06-15")));
    assert_eq!(detail.instalments[1].due_on, None);
    // A refused contract (the plan splits another amount) leaves nothing behind.
    let before = rows(&db).await;
    let mut bad = contract("C-2", &provider, vec![], 100_001);
    bad.amount = Fen(100_000);
    let mut tx = db.begin().await.unwrap();
    let err = contracts::create(&mut tx, &scope(COUNTY), &bad, "tester", NOW)
        .await
        .unwrap_err();
    drop(tx);
    assert!(
        matches!(err, StoreError::Invalid(ref e) if e.field == "plan"),
        "{err:?}"
    );
    assert_eq!(rows(&db).await, before);
    // A station outside the purchaser's region is refused.
    let far = station(
        &db,
        "430203",
        &input("430203001", "外县站", Status::Operating, Some(&provider)),
    )
    .await;
    let mut tx = db.begin().await.unwrap();
    let err = contracts::create(
        &mut tx,
        &scope(COUNTY),
        &contract("C-3", &provider, vec![far], 100),
        "t",
        NOW,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, StoreError::Invalid(ref e) if e.field == "stations"),
        "{err:?}"
    );
});

db_test!(contracts_are_scoped_by_purchaser_region_or_provider, |db| {
    let provider = agency(&db, "阳光社工", COUNTY).await;
    let other = agency(&db, "明德社工", COUNTY).await;
    let mut tx = db.begin().await.unwrap();
    let id = contracts::create(
        &mut tx,
        &scope(COUNTY),
        &contract("C-1", &provider, vec![], 300),
        "t",
        NOW,
    )
    .await
    .unwrap();
    // Another county cannot file here, nor can an organisation's account.
    for writer in [scope("430203"), org_scope(&provider)] {
        let err = contracts::create(
            &mut tx,
            &writer,
            &contract("C-2", &provider, vec![], 300),
            "t",
            NOW,
        )
        .await
        .unwrap_err();
        assert!(
            matches!(err, StoreError::Invalid(ref e) if e.field == "region"),
            "{err:?}"
        );
    }
    tx.commit().await.unwrap();
    let mut c = db.read().await.unwrap();
    let page = PageRequest::default();
    for (seer, n) in [
        (scope(COUNTY), 1),
        (scope("43"), 1),
        (Scope::national(), 1),
        (org_scope(&provider), 1),
        (scope("430203"), 0),
        (org_scope(&other), 0),
    ] {
        let list = contracts::list(&mut c, &seer, &Filter::default(), page)
            .await
            .unwrap();
        assert_eq!(list.total, n, "{seer:?}");
        assert_eq!(
            contracts::get(&mut c, &seer, &id).await.is_ok(),
            n == 1,
            "{seer:?}"
        );
    }
    assert!(matches!(
        contracts::get(&mut c, &scope("430203"), &id).await,
        Err(StoreError::NotFound)
    ));
    let by_year = |year| Filter {
        year: Some(year),
        ..Filter::default()
    };
    assert_eq!(
        contracts::list(&mut c, &scope(COUNTY), &by_year(2026), page)
            .await
            .unwrap()
            .total,
        1
    );
    assert_eq!(
        contracts::list(&mut c, &scope(COUNTY), &by_year(2024), page)
            .await
            .unwrap()
            .total,
        0
    );
    let text = Filter {
        q: Some("阳光".into()),
        ..Filter::default()
    };
    assert_eq!(
        contracts::list(&mut c, &scope(COUNTY), &text, page)
            .await
            .unwrap()
            .total,
        1
    );
});

db_test!(
    workflows_refuse_illegal_steps_and_reductions_follow_the_rule,
    |db| {
        let provider = agency(&db, "阳光社工", COUNTY).await;
        let county = scope(COUNTY);
        let mut tx = db.begin().await.unwrap();
        let id = contracts::create(
            &mut tx,
            &county,
            &contract("C-1", &provider, vec![], 1_000_001),
            "t",
            NOW,
        )
        .await
        .unwrap();
        let err = contracts::set_state(&mut tx, &county, &id, ContractState::Accepted, NOW)
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::Invalid(ref e) if e.code == "purchase.contract_transition_invalid")
        );
        let err = contracts::set_state(
            &mut tx,
            &org_scope(&provider),
            &id,
            ContractState::InForce,
            NOW,
        )
        .await
        .unwrap_err();
        assert!(matches!(err, StoreError::Invalid(ref e) if e.code == "purchase.purchaser_only"));
        assert_eq!(
            contracts::set_state(&mut tx, &county, &id, ContractState::InForce, NOW)
                .await
                .unwrap(),
            ContractState::Signed
        );
        // Instalment 2 (40 % = 400,000 fen) after the mid-term evaluation: 75 of 100 is in the
        // 60 % band, which pays 80 %.
        let score = |total, max| {
            let (total, max) = (Points::whole(total), Points::whole(max));
            FinalScore {
                total,
                max,
                grade: Grade::Pass,
            }
        };
        let err = instalments::advance(&mut tx, &county, &id, 2, Step::Request, NOW)
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::Invalid(ref e) if e.code == "instalment.transition_invalid")
        );
        instalments::advance(&mut tx, &county, &id, 2, Step::AwaitAssessment, NOW)
            .await
            .unwrap();
        let err = instalments::advance(
            &mut tx,
            &county,
            &id,
            2,
            Step::Assess(Assess::Outcome {
                outcome: AssessmentOutcome::Pass,
                payable: None,
            }),
            NOW,
        )
        .await
        .unwrap_err();
        assert!(matches!(err, StoreError::Invalid(ref e) if e.field == "score"));
        let (_, after) = instalments::advance(
            &mut tx,
            &county,
            &id,
            2,
            Step::Assess(Assess::Score(score(75, 100))),
            NOW,
        )
        .await
        .unwrap();
        assert_eq!(
            (after.outcome, after.payable),
            (Some(AssessmentOutcome::Reduced), Some(Fen(320_000)))
        );
        assert_eq!(after.state, InstalmentState::Assessed);
        // Instalment 3 (200,001 fen): 59 of 100 pays nothing.
        instalments::advance(&mut tx, &county, &id, 3, Step::AwaitAssessment, NOW)
            .await
            .unwrap();
        let (_, after) = instalments::advance(
            &mut tx,
            &county,
            &id,
            3,
            Step::Assess(Assess::Score(score(59, 100))),
            NOW,
        )
        .await
        .unwrap();
        assert_eq!(
            (after.outcome, after.payable),
            (Some(AssessmentOutcome::Fail), Some(Fen::ZERO))
        );
        // The provider may request payment, not pay itself.
        let agency_scope = org_scope(&provider);
        let err = instalments::advance(
            &mut tx,
            &agency_scope,
            &id,
            2,
            Step::Pay(d("2026-01-05")),
            NOW,
        )
        .await
        .unwrap_err();
        assert!(matches!(err, StoreError::Invalid(ref e) if e.code == "purchase.purchaser_only"));
        instalments::advance(&mut tx, &agency_scope, &id, 2, Step::Request, NOW)
            .await
            .unwrap();
        let (before, after) =
            instalments::advance(&mut tx, &county, &id, 2, Step::Pay(d("2026-01-05")), NOW)
                .await
                .unwrap();
        assert_eq!(
            (before.state, after.state),
            (InstalmentState::Requested, InstalmentState::Paid)
        );
        assert_eq!(after.paid_on, Some(d("2026-01-05")));
        // Outside the scope the instalments do not exist.
        assert!(matches!(
            instalments::advance(&mut tx, &scope("430203"), &id, 1, Step::Request, NOW).await,
            Err(StoreError::NotFound)
        ));
        tx.commit().await.unwrap();
    }
);

fn item(region: &str, name: &str) -> ItemInput {
    ItemInput {
        region: code(region),
        year: 2025,
        edition_title: String::new(),
        field: ServiceField::Elderly,
        name: name.into(),
        description: String::new(),
        cost_shares: CostShares::new(vec![CostShare {
            level: PurchaserLevel::City,
            share_bp: 10_000,
        }])
        .unwrap(),
    }
}

fn step(to: ItemStatus, reason: Option<RemovalReason>) -> ItemStep {
    ItemStep {
        to,
        reason,
        note: String::new(),
    }
}

/// Apply `step` to item `id` in its own transaction, committed only when it succeeds.
async fn move_item(db: &Db, scope: &Scope, id: &str, step: ItemStep, at: i64) -> StoreResult<()> {
    let mut tx = db.begin().await.unwrap();
    catalogue::move_item(&mut tx, scope, id, &step, "tester", at).await?;
    tx.commit().await.unwrap();
    Ok(())
}

fn refused(r: StoreResult<()>, field: &str, code: &str) {
    assert!(
        matches!(r, Err(StoreError::Invalid(ref e)) if e.field == field && e.code == code),
        "{r:?}"
    );
}

db_test!(catalogue_items_keep_every_step_of_their_life, |db| {
    let mut tx = db.begin().await.unwrap();
    let (id, _) = catalogue::create_item(
        &mut tx,
        &scope("4302"),
        &item("4302", "居家养老"),
        "city",
        NOW,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let city = scope("4302");
    let invalid = "purchase.item_transition_invalid";
    let not_applicable = "purchase.removal_reason_not_applicable";
    refused(
        move_item(&db, &city, &id, step(ItemStatus::Included, None), NOW).await,
        "to",
        invalid,
    );
    move_item(&db, &city, &id, step(ItemStatus::Reviewed, None), NOW + 1)
        .await
        .unwrap();
    refused(
        move_item(
            &db,
            &city,
            &id,
            step(
                ItemStatus::Removed,
                Some(RemovalReason::UnpurchasedTwoYears),
            ),
            NOW,
        )
        .await,
        "reason",
        not_applicable,
    );
    move_item(&db, &city, &id, step(ItemStatus::Included, None), NOW + 2)
        .await
        .unwrap();
    refused(
        move_item(
            &db,
            &city,
            &id,
            step(ItemStatus::Purchasing, Some(RemovalReason::Other)),
            NOW,
        )
        .await,
        "reason",
        not_applicable,
    );
    refused(
        move_item(&db, &city, &id, step(ItemStatus::Removed, None), NOW).await,
        "reason",
        "purchase.removal_reason_required",
    );
    let mut removal = step(
        ItemStatus::Removed,
        Some(RemovalReason::UnpurchasedTwoYears),
    );
    removal.note = "  2023年纳入，至今未购买 ".into();
    move_item(&db, &city, &id, removal, NOW + 3).await.unwrap();
    refused(
        move_item(
            &db,
            &city,
            &id,
            step(ItemStatus::Removed, Some(RemovalReason::Other)),
            NOW,
        )
        .await,
        "to",
        invalid,
    );
    let mut c = db.read().await.unwrap();
    // The county reads the city's item with its history; the steps refused left no trace.
    let read = catalogue::get_item(&mut c, &scope(COUNTY), &id)
        .await
        .unwrap();
    assert_eq!(read.status, ItemStatus::Removed);
    assert_eq!(
        read.removal_reason,
        Some(RemovalReason::UnpurchasedTwoYears)
    );
    let kept: Vec<_> = read
        .history
        .iter()
        .map(|h| (h.seq, h.from, h.to, h.reason, h.by.as_str(), h.at))
        .collect();
    assert_eq!(
        kept,
        [
            (1, None, ItemStatus::Proposed, None, "city", NOW),
            (
                2,
                Some(ItemStatus::Proposed),
                ItemStatus::Reviewed,
                None,
                "tester",
                NOW + 1
            ),
            (
                3,
                Some(ItemStatus::Reviewed),
                ItemStatus::Included,
                None,
                "tester",
                NOW + 2
            ),
            (
                4,
                Some(ItemStatus::Included),
                ItemStatus::Removed,
                Some(RemovalReason::UnpurchasedTwoYears),
                "tester",
                NOW + 3
            ),
        ]
    );
    assert_eq!(read.history[3].note, "2023年纳入，至今未购买");
    let editions = catalogue::editions(&mut c, &scope(COUNTY), Some(2025))
        .await
        .unwrap();
    assert_eq!(editions[0].items[0].history.len(), 4);
});

db_test!(catalogue_items_move_only_inside_the_scope, |db| {
    let mut tx = db.begin().await.unwrap();
    let (city_item, _) =
        catalogue::create_item(&mut tx, &scope("4302"), &item("4302", "市级"), "t", NOW)
            .await
            .unwrap();
    let (county_item, _) =
        catalogue::create_item(&mut tx, &scope(COUNTY), &item(COUNTY, "区级"), "t", NOW)
            .await
            .unwrap();
    tx.commit().await.unwrap();
    let review = || step(ItemStatus::Reviewed, None);
    // Above the scope: seen, not changed.
    refused(
        move_item(&db, &scope(COUNTY), &city_item, review(), NOW).await,
        "region",
        "purchase.region_out_of_scope",
    );
    // A sibling county does not see it; an organisation's scope changes nothing.
    let r = move_item(&db, &scope("430203"), &county_item, review(), NOW).await;
    assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
    let agency_id = agency(&db, "阳光社工", COUNTY).await;
    let org = Scope {
        region: Some(code(COUNTY)),
        org: Some(agency_id.parse().unwrap()),
    };
    refused(
        move_item(&db, &org, &county_item, review(), NOW).await,
        "region",
        "purchase.region_out_of_scope",
    );
    // The city changes its counties' items.
    move_item(&db, &scope("4302"), &county_item, review(), NOW)
        .await
        .unwrap();
    let mut c = db.read().await.unwrap();
    let read = catalogue::get_item(&mut c, &scope(COUNTY), &county_item)
        .await
        .unwrap();
    assert_eq!(read.status, ItemStatus::Reviewed);
    assert_eq!(read.history.len(), 2);
    let untouched = catalogue::get_item(&mut c, &scope(COUNTY), &city_item)
        .await
        .unwrap();
    assert_eq!(untouched.status, ItemStatus::Proposed);
    assert_eq!(untouched.history.len(), 1);
});

// What the catalogue and contract imports read and write: an edition's items found again by
// region and year, an item's field, description and shares changed only inside the scope, and
// a region's contract numbers read only inside it.
db_test!(imports_find_and_change_only_inside_the_scope, |db| {
    let provider = agency(&db, "阳光社工", COUNTY).await;
    let mut tx = db.begin().await.unwrap();
    let (city_item, _) =
        catalogue::create_item(&mut tx, &scope("4302"), &item("4302", "市级"), "t", NOW)
            .await
            .unwrap();
    let (county_item, _) =
        catalogue::create_item(&mut tx, &scope(COUNTY), &item(COUNTY, "区级"), "t", NOW)
            .await
            .unwrap();
    contracts::create(
        &mut tx,
        &scope(COUNTY),
        &contract("C-9", &provider, vec![], 300),
        "t",
        NOW,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let mut c = db.read().await.unwrap();
    let names = |items: Vec<catalogue::Item>| -> Vec<String> {
        items.into_iter().map(|i| i.name).collect()
    };
    let found = catalogue::items_of_edition(&mut c, &scope(COUNTY), COUNTY, 2025)
        .await
        .unwrap();
    assert_eq!(names(found), ["区级"]);
    // The city's edition is not the county's to import into, nor another year's.
    for (region, year) in [("4302", 2025), (COUNTY, 2024)] {
        let found = catalogue::items_of_edition(&mut c, &scope(COUNTY), region, year)
            .await
            .unwrap();
        assert!(found.is_empty(), "{region} {year}");
    }
    assert_eq!(
        contracts::numbers_in(&mut c, &scope(COUNTY), COUNTY)
            .await
            .unwrap(),
        ["C-9"]
    );
    assert!(
        contracts::numbers_in(&mut c, &scope("430203"), COUNTY)
            .await
            .unwrap()
            .is_empty()
    );
    drop(c);

    let edit = catalogue::ItemEdit {
        field: ServiceField::Youth,
        description: "青少年成长".into(),
        cost_shares: CostShares::new(vec![
            CostShare {
                level: PurchaserLevel::City,
                share_bp: 5_000,
            },
            CostShare {
                level: PurchaserLevel::District,
                share_bp: 5_000,
            },
        ])
        .unwrap(),
    };
    let update = |scope: Scope, id: String| {
        let (db, edit) = (db.clone(), edit.clone());
        async move {
            let mut tx = db.begin().await.unwrap();
            catalogue::update_item(&mut tx, &scope, &id, &edit, NOW + 1).await?;
            tx.commit().await.unwrap();
            Ok::<(), StoreError>(())
        }
    };
    // Above the scope: seen, not changed; a sibling county does not see it; an organisation's
    // scope changes nothing.
    refused(
        update(scope(COUNTY), city_item.clone()).await,
        "region",
        "purchase.region_out_of_scope",
    );
    let r = update(scope("430203"), county_item.clone()).await;
    assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
    let org = Scope {
        region: Some(code(COUNTY)),
        org: Some(provider.parse().unwrap()),
    };
    refused(
        update(org, county_item.clone()).await,
        "region",
        "purchase.region_out_of_scope",
    );
    update(scope(COUNTY), county_item.clone()).await.unwrap();
    let mut c = db.read().await.unwrap();
    let read = catalogue::get_item(&mut c, &scope(COUNTY), &county_item)
        .await
        .unwrap();
    assert_eq!(read.field, ServiceField::Youth);
    assert_eq!(read.description, "青少年成长");
    assert_eq!(read.cost_shares, edit.cost_shares);
    assert_eq!(read.status, ItemStatus::Proposed);
    let untouched = catalogue::get_item(&mut c, &scope(COUNTY), &city_item)
        .await
        .unwrap();
    assert_eq!(untouched.field, ServiceField::Elderly);
});
