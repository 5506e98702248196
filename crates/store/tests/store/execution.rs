//! A contract's execution (issue 14 item 2): expenses keep each budget line's spent figure equal
//! to the expenses not voided and never past the line; posts bought are filled by the provider's
//! own staff up to their headcount; links between organisations make an evaluator stand aside.

#[allow(unused_imports)]
use super::*;

use shegong_domain::money::Fen;
use shegong_domain::network::org::LinkKind;
use shegong_domain::purchase::evaluation::EvaluationKind;
use shegong_domain::purchase::execution::{Expense, Position};
use shegong_store::crypto::{Algorithm, KeyRing};
use shegong_store::network::org_links;
use shegong_store::purchase::contracts;
use shegong_store::purchase::execution;
use shegong_store::sql::Sql;
use shegong_store::workforce::staff;
use shegong_store::{StoreError, StoreResult};

use super::evaluations::{COUNTY, NOW, d, enter, invalid, org_scope, plan, text, world, write};
use super::stations::agency;

fn expense(seq: i64, on: &str, fen: i64) -> Expense {
    Expense {
        budget_seq: seq,
        spent_on: d(on),
        amount: Fen(fen),
        description: "七月督导费".into(),
        voucher: "记-0712".into(),
    }
}

async fn record(db: &Db, sc: &Scope, contract: &str, e: Expense) -> StoreResult<String> {
    let (sc, contract) = (sc.clone(), contract.to_owned());
    write(db, move |c| {
        Box::pin(async move {
            execution::record_expense(c, &sc, &contract, &e, "test", NOW, d("2026-12-01")).await
        })
    })
    .await
}

async fn spent(db: &Db, contract: &str) -> i64 {
    let mut c = db.read().await.unwrap();
    let d = contracts::detail(&mut c, &scope(COUNTY), contract)
        .await
        .unwrap();
    d.budget.iter().map(|b| b.spent.0).sum()
}

db_test!(
    expenses_keep_the_budget_line_exact_and_within_its_amount,
    |db| {
        let w = world(&db).await;
        let county = scope(COUNTY);
        // The world's budget: one personnel line of 300,000 yuan.
        let first = record(
            &db,
            &county,
            &w.contract,
            expense(1, "2025-07-15", 12_000_000),
        )
        .await
        .unwrap();
        // The provider records its own expenses too.
        record(
            &db,
            &org_scope(&w.provider),
            &w.contract,
            expense(1, "2025-08-15", 8_000_000),
        )
        .await
        .unwrap();
        assert_eq!(spent(&db, &w.contract).await, 20_000_000);
        // One fen past the line is refused and nothing is written.
        let e = invalid(
            record(
                &db,
                &county,
                &w.contract,
                expense(1, "2025-09-15", 10_000_001),
            )
            .await,
        );
        assert_eq!(
            (e.field, e.code),
            ("amount", "purchase.expense_over_budget")
        );
        // Outside the term (and its three settlement months), an unknown line, in the future.
        let e = invalid(record(&db, &county, &w.contract, expense(1, "2026-09-01", 100)).await);
        assert_eq!(
            (e.field, e.code),
            ("spent_on", "purchase.expense_outside_term")
        );
        let e = invalid(record(&db, &county, &w.contract, expense(9, "2025-09-15", 100)).await);
        assert_eq!(e.field, "budget_seq");
        // An evaluator sees the contract once assigned, but records nothing on it.
        plan(
            &db,
            &w.contract,
            EvaluationKind::MidTerm,
            Some(&w.evaluator),
        )
        .await
        .unwrap();
        let e = invalid(
            record(
                &db,
                &org_scope(&w.evaluator),
                &w.contract,
                expense(1, "2025-09-15", 100),
            )
            .await,
        );
        assert_eq!(e.code, "purchase.provider_or_purchaser_only");
        // Another county does not see the contract at all.
        let r = record(
            &db,
            &scope("430203"),
            &w.contract,
            expense(1, "2025-09-15", 100),
        )
        .await;
        assert!(matches!(r, Err(StoreError::NotFound)));
        assert_eq!(spent(&db, &w.contract).await, 20_000_000);

        // Voiding gives the amount back; a second void and a void without a reason are refused.
        let (c1, f1) = (w.contract.clone(), first.clone());
        let voided = write(&db, move |c| {
            Box::pin(async move {
                execution::void_expense(c, &scope(COUNTY), &c1, &f1, "重复录入", "test", NOW).await
            })
        })
        .await
        .unwrap();
        assert_eq!(voided.amount, Fen(12_000_000));
        assert_eq!(spent(&db, &w.contract).await, 8_000_000);
        for reason in ["重复录入", "  "] {
            let (c1, f1) = (w.contract.clone(), first.clone());
            let e = invalid(
                write(&db, move |c| {
                    Box::pin(async move {
                        execution::void_expense(c, &scope(COUNTY), &c1, &f1, reason, "test", NOW)
                            .await
                    })
                })
                .await,
            );
            assert!(
                e.code == "purchase.expense_already_voided" || e.field == "reason",
                "{e:?}"
            );
        }
        // Now the line has room again.
        record(
            &db,
            &county,
            &w.contract,
            expense(1, "2025-09-15", 22_000_000),
        )
        .await
        .unwrap();
        assert_eq!(spent(&db, &w.contract).await, 30_000_000);
        let mut c = db.read().await.unwrap();
        assert!(execution::verify_spent(&mut c).await.unwrap().is_empty());
        let list = execution::expenses(&mut c, &county, &w.contract)
            .await
            .unwrap();
        assert_eq!(list.len(), 3);
        assert_eq!(list.iter().filter(|e| e.voided_at.is_some()).count(), 1);
        drop(c);
        // The check finds a line whose figure was changed behind its expenses' back.
        let mut tx = db.begin().await.unwrap();
        Sql::new("UPDATE contract_budget_lines SET spent_fen = spent_fen - 1 WHERE spent_fen > 0")
            .execute(&mut tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let mut c = db.read().await.unwrap();
        let off = execution::verify_spent(&mut c).await.unwrap();
        assert_eq!(off.len(), 1);
        assert_eq!((off[0].2, off[0].3), (29_999_999, 30_000_000));
    }
);

db_test!(concurrent_expenses_cannot_overspend_a_line_together, |db| {
    let w = world(&db).await;
    // Twenty writers each try 20,000 yuan against a 300,000 yuan line: at most fifteen fit.
    let mut tasks = Vec::new();
    for i in 0..20 {
        let (db, contract) = (db.clone(), w.contract.clone());
        tasks.push(tokio::spawn(async move {
            record(
                &db,
                &scope(COUNTY),
                &contract,
                expense(1, "2025-07-15", 2_000_000 + i),
            )
            .await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(StoreError::Invalid(e)) => assert_eq!(e.code, "purchase.expense_over_budget"),
            // PostgreSQL may abort a writer that lost a race for the row; it wrote nothing.
            Err(StoreError::Db(_)) => {}
            Err(e) => panic!("{e:?}"),
        }
    }
    assert!((1..=14).contains(&ok), "{ok}");
    let total = spent(&db, &w.contract).await;
    assert!(total <= 30_000_000, "{total}");
    let mut c = db.read().await.unwrap();
    assert!(execution::verify_spent(&mut c).await.unwrap().is_empty());
});

/// A staff record of `employer` with a valid identity number ending the 17 digits `seventeen`.
async fn staff_of(db: &Db, employer: &str, name: &str, seventeen: &str) -> String {
    let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = seventeen
        .chars()
        .zip(weights)
        .map(|(c, w)| c.to_digit(10).unwrap() * w)
        .sum();
    let check = "10X98765432".chars().nth((sum % 11) as usize).unwrap();
    let mut input = super::staff::input();
    input.name = name.into();
    input.id_number = format!("{seventeen}{check}");
    input.employer_org_id = Some(employer.into());
    input.region = Some(code("430202001"));
    let keys = KeyRing::from_spec(&KeyRing::generate_spec(Algorithm::Aes256Gcm)).unwrap();
    let mut tx = db.begin().await.unwrap();
    let id = staff::create(&mut tx, &Scope::national(), &keys, &input, 1)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

db_test!(
    posts_are_filled_by_the_providers_staff_up_to_their_headcount,
    |db| {
        let w = world(&db).await;
        let station = {
            let mut c = db.read().await.unwrap();
            contracts::detail(&mut c, &scope(COUNTY), &w.contract)
                .await
                .unwrap()
                .stations[0]
                .0
                .clone()
        };
        let post = Position {
            title: "一线社工".into(),
            station_id: Some(station),
            headcount: 2,
            monthly: Fen(600_000),
        };
        // The provider does not define posts; the purchaser does.
        let (c1, p1) = (w.contract.clone(), post.clone());
        let provider = org_scope(&w.provider);
        let e = invalid(
            write(&db, move |c| {
                Box::pin(async move { execution::add_position(c, &provider, &c1, &p1, NOW).await })
            })
            .await,
        );
        assert_eq!(e.code, "purchase.purchaser_only");
        let (c1, p1) = (w.contract.clone(), post.clone());
        let seq = write(&db, move |c| {
            Box::pin(async move { execution::add_position(c, &scope(COUNTY), &c1, &p1, NOW).await })
        })
        .await
        .unwrap();
        assert_eq!(seq, 1);
        // A station the contract does not run is refused.
        let other_station = Position {
            station_id: Some("0190a3c2-0000-7000-8000-00000000beef".into()),
            ..post
        };
        let c1 = w.contract.clone();
        let e = invalid(
            write(&db, move |c| {
                Box::pin(async move {
                    execution::add_position(c, &scope(COUNTY), &c1, &other_station, NOW).await
                })
            })
            .await,
        );
        assert_eq!(e.field, "station_id");

        let a = staff_of(&db, &w.provider, "王一", "43020219900101001").await;
        let b = staff_of(&db, &w.provider, "王二", "43020219900101002").await;
        let c_ = staff_of(&db, &w.provider, "王三", "43020219900101003").await;
        let stranger = staff_of(&db, &w.evaluator, "李外", "43020219900101004").await;
        let fill = |who: String, from: &'static str| {
            let (db, contract, sc) = (db.clone(), w.contract.clone(), org_scope(&w.provider));
            async move {
                write(&db, move |c| {
                    Box::pin(async move {
                        execution::fill_position(c, &sc, &contract, 1, &who, d(from), NOW).await
                    })
                })
                .await
            }
        };
        let e = invalid(fill(stranger, "2025-07-01").await);
        assert_eq!(
            (e.field, e.code),
            ("staff_id", "purchase.staff_not_provider")
        );
        let e = invalid(fill(a.clone(), "2026-07-01").await);
        assert_eq!(e.field, "from_date");
        let (first, _) = fill(a.clone(), "2025-07-01").await.unwrap();
        let e = invalid(fill(a.clone(), "2025-07-01").await);
        assert_eq!(e.code, "purchase.staff_holds_post");
        fill(b.clone(), "2025-07-01").await.unwrap();
        let e = invalid(fill(c_.clone(), "2025-08-01").await);
        assert_eq!(e.code, "purchase.position_full");
        // A leaver frees the post; the history stays.
        let (contract, f1) = (w.contract.clone(), first.clone());
        let e = invalid(
            write(&db, move |c| {
                Box::pin(async move {
                    execution::end_fill(c, &scope(COUNTY), &contract, &f1, d("2025-06-30")).await
                })
            })
            .await,
        );
        assert_eq!(e.code, "purchase.end_before_start");
        let (contract, f1) = (w.contract.clone(), first.clone());
        write(&db, move |c| {
            Box::pin(async move {
                execution::end_fill(c, &scope(COUNTY), &contract, &f1, d("2025-12-31")).await
            })
        })
        .await
        .unwrap();
        fill(c_, "2026-01-01").await.unwrap();
        let mut c = db.read().await.unwrap();
        let posts = execution::positions(&mut c, &scope(COUNTY), &w.contract)
            .await
            .unwrap();
        assert_eq!(posts.len(), 1);
        assert_eq!(posts[0].filled(), 2);
        assert_eq!(posts[0].fills.len(), 3);
        assert!(posts[0].fills.last().unwrap().to_date.is_some());
        // Another county sees none of it.
        let r = execution::positions(&mut c, &scope("430203"), &w.contract).await;
        assert!(matches!(r, Err(StoreError::NotFound)));
    }
);

async fn link(db: &Db, a: &str, b: &str) -> StoreResult<()> {
    let (a, b) = (a.to_owned(), b.to_owned());
    write(db, move |c| {
        Box::pin(async move {
            org_links::link(
                c,
                &scope(COUNTY),
                &a,
                &org_links::NewLink {
                    other: &b,
                    kind: LinkKind::SameLegalPerson,
                    note: "同一法定代表人",
                },
                "test",
                NOW,
            )
            .await
        })
    })
    .await
}

db_test!(an_evaluator_linked_to_the_provider_stands_aside, |db| {
    let w = world(&db).await;
    let linked = agency(&db, "阳光评估咨询", COUNTY).await;
    link(&db, &linked, &w.provider).await.unwrap();
    // Stored once, seen from both sides; a second link or a self-link is refused.
    let e = invalid(link(&db, &w.provider, &linked).await);
    assert_eq!(e.code, "org.link_exists");
    let e = invalid(link(&db, &linked, &linked).await);
    assert_eq!(e.code, "org.link_self");
    {
        let mut c = db.read().await.unwrap();
        let from_provider = org_links::links_of(&mut c, &scope(COUNTY), &w.provider)
            .await
            .unwrap();
        assert_eq!(from_provider.len(), 1);
        assert_eq!(from_provider[0].org_id, linked);
        assert_eq!(from_provider[0].kind, LinkKind::SameLegalPerson);
    }
    let e = invalid(plan(&db, &w.contract, EvaluationKind::Final, Some(&linked)).await);
    assert_eq!(
        (e.field, e.code),
        ("evaluator_org", "evaluation.conflict_of_interest")
    );
    // The linked evaluator may still evaluate another provider's contract.
    plan(&db, &w.other_contract, EvaluationKind::Final, Some(&linked))
        .await
        .unwrap();

    // A link filed after the assignment stops the scoring.
    let id = plan(
        &db,
        &w.contract,
        EvaluationKind::MidTerm,
        Some(&w.evaluator),
    )
    .await
    .unwrap();
    link(&db, &w.evaluator, &w.provider).await.unwrap();
    let e = invalid(
        enter(
            &db,
            &org_scope(&w.evaluator),
            &id,
            vec![text("management", "良")],
        )
        .await,
    );
    assert_eq!(e.code, "evaluation.conflict_of_interest");
    // Unlinked again, the evaluator scores.
    let (a, b) = (w.evaluator.clone(), w.provider.clone());
    write(&db, move |c| {
        Box::pin(async move { org_links::unlink(c, &scope(COUNTY), &a, &b).await })
    })
    .await
    .unwrap();
    let mut c = db.read().await.unwrap();
    let n = Sql::new("SELECT COUNT(*) FROM organization_links")
        .fetch_i64(&mut c)
        .await
        .unwrap();
    assert_eq!(n, 1);
});
