//! 社区慈善 (issue 15 item 3): funds hosted by a fundraising charity, committees, donations with
//! receipts unique per host, small wishes, disbursements decided by the committee, goods stock,
//! scope and the published views, on both databases.

#[allow(unused_imports)]
use super::*;

use shegong_domain::charity::{
    Channel, CommitteeRole, DisbursementState, DonationKind, MoveKind, Receipt, TargetKind,
    UseKind, WishState,
};
use shegong_store::charity::{
    self as ch, Decision, DisbursementInput, DonationFilter, DonationInput, FundInput, MemberInput,
    StockInput, WishInput,
};
use shegong_store::people::residents::Viewer;
use shegong_store::people::services;
use shegong_store::sql::Sql;
use shegong_store::{PageRequest, StoreError, StoreResult};

use super::evaluations::{NOW, invalid, write};

const COUNTY: &str = "430202";
const OTHER: &str = "430203";
const HOST: &str = "91350100M000100Y43";

fn fund_input(name: &str) -> FundInput {
    FundInput {
        region: code(COUNTY),
        station_id: None,
        name: name.into(),
        host_name: "株洲市慈善总会".into(),
        host_uscc: HOST.into(),
        host_public_fundraising: true,
        initiator: "荷塘区民政局".into(),
        purpose: "困境群众帮扶、微心愿".into(),
        residual_rule: "转入株洲市慈善总会同类项目".into(),
        starts_on: "2026-01-01".into(),
        ends_on: None,
    }
}

async fn fund(db: &Db, input: FundInput) -> StoreResult<String> {
    write(db, move |c| {
        Box::pin(async move { ch::create_fund(c, &scope(COUNTY), &input, "test", NOW).await })
    })
    .await
}

async fn member(db: &Db, fund: &str, name: &str, role: CommitteeRole) -> StoreResult<String> {
    let (fund, input) = (
        fund.to_owned(),
        MemberInput {
            name: name.into(),
            role,
            affiliation: "社区两委".into(),
            unpaid: true,
        },
    );
    write(db, move |c| {
        Box::pin(async move { ch::add_member(c, &scope(COUNTY), &fund, &input, "test", NOW).await })
    })
    .await
}

fn money(fund: &str, fen: i64, receipt_no: &str) -> DonationInput {
    DonationInput {
        fund_id: fund.into(),
        kind: DonationKind::Money,
        amount_fen: fen,
        item: String::new(),
        quantity: 0,
        unit: String::new(),
        donor_name: "李先生".into(),
        receipt: Receipt::Issued,
        receipt_no: receipt_no.into(),
        use_kind: UseKind::General,
        designated_purpose: String::new(),
        channel: Channel::Transfer,
        station_id: None,
        received_on: "2026-02-01".into(),
    }
}

async fn donate(db: &Db, input: DonationInput) -> StoreResult<String> {
    write(db, move |c| {
        Box::pin(async move { ch::create_donation(c, &scope(COUNTY), &input, "test", NOW).await })
    })
    .await
}

async fn wish(db: &Db, fund: &str, title: &str, resident: Option<&str>) -> StoreResult<String> {
    let input = WishInput {
        fund_id: fund.into(),
        title: title.into(),
        category: "学习用品".into(),
        value_fen: 30_000,
        beneficiary_resident_id: resident.map(Into::into),
        beneficiary_note: "单亲家庭，孩子读五年级".into(),
        posted_on: "2026-02-02".into(),
    };
    write(db, move |c| {
        Box::pin(async move { ch::create_wish(c, &scope(COUNTY), &input, "test", NOW).await })
    })
    .await
}

async fn step(db: &Db, id: &str, to: WishState, claimant: &str) -> StoreResult<()> {
    let (id, claimant) = (id.to_owned(), claimant.to_owned());
    write(db, move |c| {
        Box::pin(async move {
            ch::step_wish(c, &scope(COUNTY), &id, to, &claimant, "2026-02-10", NOW)
                .await
                .map(|_| ())
        })
    })
    .await
}

async fn propose(db: &Db, input: DisbursementInput) -> StoreResult<String> {
    write(db, move |c| {
        Box::pin(async move { ch::propose(c, &scope(COUNTY), &input, "test", NOW).await })
    })
    .await
}

async fn decide(db: &Db, id: &str, approve: bool, r: &str) -> StoreResult<()> {
    let (id, d) = (
        id.to_owned(),
        Decision {
            approve,
            resolution_ref: r.into(),
            decided_on: "2026-02-12".into(),
        },
    );
    write(db, move |c| {
        Box::pin(async move {
            ch::decide(c, &scope(COUNTY), &id, &d, NOW)
                .await
                .map(|_| ())
        })
    })
    .await
}

async fn resident(db: &Db, id: &str, name: &str) {
    let mut tx = db.begin().await.unwrap();
    Sql::new("INSERT INTO residents (id, region_code, name, name_key, birth_date, risk_tier, legal_basis, status, visit_interval_days, next_visit_due, registered_on, created_by, created_at, updated_at) VALUES (")
        .bind(id).push(", ").bind(COUNTY).push(", ").bind(name).push(", 'x', '2015-01-01', 'general', 'consent', 'active', 30, '2026-01-01', '2025-01-01', 'test', ").bind(NOW).push(", ").bind(NOW).push(")")
        .execute(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
}

fn to_wish(fund: &str, wish: &str, fen: i64) -> DisbursementInput {
    DisbursementInput {
        fund_id: fund.into(),
        target_kind: TargetKind::Wish,
        wish_id: Some(wish.into()),
        recipient_resident_id: None,
        purpose: String::new(),
        amount_fen: fen,
    }
}

db_test!(funds_are_hosted_named_and_scoped, |db| {
    let f = fund(&db, fund_input("株洲市慈善总会荷塘社区慈善基金"))
        .await
        .unwrap();
    let e = invalid(fund(&db, fund_input("株洲市慈善总会荷塘社区慈善基金")).await);
    assert_eq!((e.field, e.code), ("name", "charity.name_taken"));
    assert_eq!(
        invalid(fund(&db, fund_input("荷塘基金")).await).field,
        "name"
    );
    let mut bad = fund_input("株洲市慈善总会月塘社区慈善基金");
    bad.host_public_fundraising = false;
    assert_eq!(
        invalid(fund(&db, bad).await).code,
        "charity.host_not_fundraising"
    );
    let mut bad = fund_input("株洲市慈善总会月塘社区慈善基金");
    bad.host_uscc = "123".into();
    assert_eq!(invalid(fund(&db, bad).await).field, "host_uscc");
    let mut bad = fund_input("株洲市慈善总会月塘社区慈善基金");
    bad.region = code(OTHER);
    assert_eq!(invalid(fund(&db, bad).await).field, "region");
    let mut bad = fund_input("株洲市慈善总会月塘社区慈善基金");
    bad.ends_on = Some("2025-12-31".into());
    assert_eq!(invalid(fund(&db, bad).await).field, "ends_on");

    let mut c = db.read().await.unwrap();
    assert_eq!(
        ch::get_fund(&mut c, &scope("4302"), &f).await.unwrap().name,
        "株洲市慈善总会荷塘社区慈善基金"
    );
    assert!(matches!(
        ch::get_fund(&mut c, &scope(OTHER), &f).await,
        Err(StoreError::NotFound)
    ));
    let listed = ch::list_funds(&mut c, &scope(OTHER), None, PageRequest::new(None, None))
        .await
        .unwrap();
    assert_eq!(listed.total, 0);
    let listed = ch::list_funds(
        &mut c,
        &scope(COUNTY),
        Some("荷塘"),
        PageRequest::new(None, None),
    )
    .await
    .unwrap();
    assert_eq!(listed.items.len(), 1);
    drop(c);

    // The committee: unpaid, one chair, no one twice.
    member(&db, &f, "张主任", CommitteeRole::Chair)
        .await
        .unwrap();
    let e = invalid(member(&db, &f, "李主任", CommitteeRole::Chair).await);
    assert_eq!((e.field, e.code), ("role", "charity.committee_two_chairs"));
    let e = invalid(member(&db, &f, "张主任", CommitteeRole::Member).await);
    assert_eq!(e.field, "name");
    let (fid, paid) = (
        f.clone(),
        MemberInput {
            name: "王会计".into(),
            role: CommitteeRole::Member,
            affiliation: String::new(),
            unpaid: false,
        },
    );
    let e = invalid(
        write(&db, move |c| {
            Box::pin(async move { ch::add_member(c, &scope(COUNTY), &fid, &paid, "t", NOW).await })
        })
        .await,
    );
    assert_eq!((e.field, e.code), ("unpaid", "charity.member_paid"));
    let mut c = db.read().await.unwrap();
    let m = ch::committee(&mut c, &scope(COUNTY), &f).await.unwrap();
    assert_eq!(m.len(), 1);
    assert!(matches!(
        ch::committee(&mut c, &scope(OTHER), &f).await,
        Err(StoreError::NotFound)
    ));
});

db_test!(donations_keep_receipt_numbers_unique_per_host, |db| {
    let f = fund(&db, fund_input("株洲市慈善总会荷塘社区慈善基金"))
        .await
        .unwrap();
    let g = fund(&db, fund_input("株洲市慈善总会月塘社区慈善基金"))
        .await
        .unwrap();
    donate(&db, money(&f, 50_000, "湘捐0001")).await.unwrap();
    // Another fund of the same host: the host's receipt book is one.
    let e = invalid(donate(&db, money(&g, 10_000, "湘捐0001")).await);
    assert_eq!(
        (e.field, e.code),
        ("receipt_no", "charity.receipt_no_taken")
    );
    let mut anon = money(&g, 20_000, "");
    anon.receipt = Receipt::Anonymous;
    anon.donor_name = String::new();
    donate(&db, anon).await.unwrap();
    let mut waived = money(&f, 0, "");
    waived.receipt = Receipt::Waived;
    assert_eq!(invalid(donate(&db, waived).await).field, "amount");
    let mut goods = money(&f, 12_000, "湘捐0002");
    goods.kind = DonationKind::Goods;
    goods.item = "大米".into();
    goods.quantity = 20;
    goods.unit = "袋".into();
    donate(&db, goods).await.unwrap();
    let e = invalid(donate(&db, money("nope", 100, "湘捐0003")).await);
    assert_eq!((e.field, e.code), ("fund_id", "charity.fund_unknown"));

    let mut c = db.read().await.unwrap();
    let fd = ch::get_fund(&mut c, &scope(COUNTY), &f).await.unwrap();
    assert_eq!((fd.income_fen, fd.goods_fen), (50_000, 12_000));
    let all = ch::list_donations(
        &mut c,
        &scope(COUNTY),
        &DonationFilter::default(),
        PageRequest::new(None, None),
    )
    .await
    .unwrap();
    assert_eq!(all.total, 3);
    assert!(all.items.iter().any(|d| d.donor_name.is_none()));
    let none = ch::list_donations(
        &mut c,
        &scope(OTHER),
        &DonationFilter::default(),
        PageRequest::new(None, None),
    )
    .await
    .unwrap();
    assert_eq!(none.total, 0);
    // Goods donated are in stock.
    let stock = ch::stock(&mut c, &scope(COUNTY), &f).await.unwrap();
    assert_eq!((stock[0].item.as_str(), stock[0].quantity), ("大米", 20));
    // Recorded at the same moment on two connections: one receipt, the rest refused by name.
    drop(c);
    let mut tasks = Vec::new();
    for fen in [1_000, 2_000, 3_000, 4_000] {
        let (db, f) = (db.clone(), f.clone());
        tasks.push(tokio::spawn(async move {
            donate(&db, money(&f, fen, "湘捐0009")).await
        }));
    }
    let mut taken = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => taken += 1,
            Err(e) => {
                let e = invalid(Err::<String, _>(e));
                assert_eq!(
                    (e.field, e.code),
                    ("receipt_no", "charity.receipt_no_taken")
                );
            }
        }
    }
    assert_eq!(taken, 1);
});

db_test!(
    a_wish_is_paid_after_the_committee_approves_and_published_without_the_person,
    |db| {
        let f = fund(&db, fund_input("株洲市慈善总会荷塘社区慈善基金"))
            .await
            .unwrap();
        donate(&db, money(&f, 50_000, "湘捐0001")).await.unwrap();
        resident(&db, "child1", "王小明").await;
        let e = invalid(wish(&db, &f, "王小明想要一个书包", Some("child1")).await);
        assert_eq!((e.field, e.code), ("title", "charity.text_personal"));
        let e = invalid(wish(&db, &f, "一个书包", Some("nobody")).await);
        assert_eq!(e.field, "beneficiary_resident_id");
        let w = wish(&db, &f, "想要一个新书包和一套字典", Some("child1"))
            .await
            .unwrap();
        assert_eq!(
            invalid(step(&db, &w, WishState::Fulfilled, "").await).code,
            "charity.wish_step"
        );
        assert_eq!(
            invalid(step(&db, &w, WishState::Claimed, "").await).field,
            "claimant"
        );
        step(&db, &w, WishState::Claimed, "荷塘区青年志愿者协会")
            .await
            .unwrap();

        let d = propose(&db, to_wish(&f, &w, 30_000)).await.unwrap();
        let big = propose(&db, to_wish(&f, &w, 40_000)).await.unwrap();
        // No committee yet.
        let e = invalid(decide(&db, &d, true, "2026-1号决议").await);
        assert_eq!(
            (e.field, e.code),
            ("committee", "charity.committee_too_small")
        );
        for (n, role) in [
            ("张主任", CommitteeRole::Chair),
            ("李委员", CommitteeRole::Member),
            ("王委员", CommitteeRole::Member),
            ("赵委员", CommitteeRole::Member),
        ] {
            member(&db, &f, n, role).await.unwrap();
        }
        assert_eq!(
            invalid(decide(&db, &d, true, "2026-1号决议").await).code,
            "charity.committee_too_small"
        );
        member(&db, &f, "钱委员", CommitteeRole::Member)
            .await
            .unwrap();
        assert_eq!(
            invalid(decide(&db, &d, true, "2026-1号决议").await).code,
            "charity.committee_no_supervisor"
        );
        member(&db, &f, "孙监督", CommitteeRole::Supervisor)
            .await
            .unwrap();
        assert_eq!(
            invalid(decide(&db, &d, true, " ").await).field,
            "resolution_ref"
        );
        decide(&db, &d, true, "2026-1号决议").await.unwrap();
        assert_eq!(
            invalid(decide(&db, &d, true, "2026-1号决议").await).field,
            "decision"
        );
        // 500 yuan in, 300 committed: 400 more is refused.
        let e = invalid(decide(&db, &big, true, "2026-2号决议").await);
        assert_eq!((e.field, e.code), ("amount", "charity.over_balance"));
        decide(&db, &big, false, "2026-2号决议").await.unwrap();
        let id = d.clone();
        pay(&db, &id, "2026-02-15", None).await.unwrap();
        step(&db, &w, WishState::Fulfilled, "").await.unwrap();
        step(&db, &w, WishState::Confirmed, "").await.unwrap();
        let e = invalid(propose(&db, to_wish(&f, &w, 100)).await);
        assert_eq!((e.field, e.code), ("wish_id", "charity.wish_closed"));

        let mut c = db.read().await.unwrap();
        let x = ch::get_disbursement(&mut c, &scope(COUNTY), &d)
            .await
            .unwrap();
        assert_eq!(x.state, DisbursementState::Paid);
        assert_eq!(x.purpose, "想要一个新书包和一套字典");
        assert!(matches!(
            ch::get_disbursement(&mut c, &scope(OTHER), &d).await,
            Err(StoreError::NotFound)
        ));
        let p = ch::public_fund(&mut c, &f).await.unwrap();
        assert_eq!((p.income_fen, p.paid_fen), (50_000, 30_000));
        let pd = ch::public_disbursements(&mut c, &f).await.unwrap();
        assert_eq!(pd.len(), 1, "rejected ones are not published");
        let pw = ch::public_wishes(&mut c, &f).await.unwrap();
        assert_eq!(pw[0].state, WishState::Confirmed);
        let published = format!(
            "{}{}{}",
            serde_json::to_string(&p).unwrap(),
            serde_json::to_string(&pd).unwrap(),
            serde_json::to_string(&pw).unwrap()
        );
        for private in ["王小明", "child1", "单亲家庭", "青年志愿者协会"] {
            assert!(!published.contains(private), "{private} published");
        }
        // The dashboards' counters: the donation and the payment, equal to the raw rows (this
        // test's resident is inserted raw, so only the charity counters are compared).
        use shegong_store::statistics::counters::{self, Dim, Regions};
        let diff = counters::verify(&mut c).await.unwrap();
        let charity: Vec<_> = diff.iter().filter(|d| d.0.dim == Dim::Charity).collect();
        assert!(charity.is_empty(), "{charity:?}");
        let rows = counters::read(
            &mut c,
            &scope(COUNTY),
            Regions::One(COUNTY),
            Dim::Charity,
            "2000-01",
            "2099-12",
        )
        .await
        .unwrap();
        let fen = |k: &str| {
            rows.iter()
                .filter(|r| r.key == k)
                .map(|r| r.value_fen)
                .sum::<i64>()
        };
        assert_eq!((fen("money"), fen("paid")), (50_000, 30_000));
    }
);

db_test!(goods_are_received_issued_and_counted, |db| {
    let f = fund(&db, fund_input("株洲市慈善总会荷塘社区慈善基金"))
        .await
        .unwrap();
    let mv = |kind, quantity: i64, signed: &str| StockInput {
        fund_id: f.clone(),
        item: "食用油".into(),
        unit: "桶".into(),
        kind,
        quantity,
        signed_by: signed.into(),
        note: String::new(),
        moved_on: "2026-03-01".into(),
    };
    let run = |input: StockInput| {
        let db = db.clone();
        async move {
            write(&db, move |c| {
                Box::pin(async move { ch::move_stock(c, &scope(COUNTY), &input, "t", NOW).await })
            })
            .await
        }
    };
    run(mv(MoveKind::Receipt, 10, "")).await.unwrap();
    let e = invalid(run(mv(MoveKind::Issue, 11, "刘阿姨")).await);
    assert_eq!((e.field, e.code), ("quantity", "charity.over_stock"));
    assert_eq!(
        invalid(run(mv(MoveKind::Issue, 3, "")).await).field,
        "signed_by"
    );
    run(mv(MoveKind::Issue, 3, "刘阿姨")).await.unwrap();
    // Counted 6 where the books say 7: the stock-take records -1.
    run(mv(MoveKind::Count, 6, "")).await.unwrap();
    let mut c = db.read().await.unwrap();
    let s = ch::stock(&mut c, &scope(COUNTY), &f).await.unwrap();
    assert_eq!(s[0].quantity, 6);
    let moves = ch::stock_moves(&mut c, &scope(COUNTY), &f, PageRequest::new(None, None))
        .await
        .unwrap();
    let count = moves
        .items
        .iter()
        .find(|m| m.kind == MoveKind::Count)
        .unwrap();
    assert_eq!((count.delta, count.counted), (-1, Some(6)));
    assert!(matches!(
        ch::stock(&mut c, &scope(OTHER), &f).await,
        Err(StoreError::NotFound)
    ));
});

/// The payer: sees the county's files, not the protected ones (children under 14).
fn payer() -> Viewer {
    Viewer {
        scope: scope(COUNTY),
        user_id: "u-payer".into(),
        sees_protected: false,
        today: chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
    }
}

async fn pay(db: &Db, id: &str, on: &str, minutes: Option<i64>) -> StoreResult<()> {
    let (id, p) = (
        id.to_owned(),
        ch::Payment {
            paid_on: on.into(),
            voucher_no: "付-001".into(),
            duration_minutes: minutes,
            workers: "王会计".into(),
        },
    );
    write(db, move |c| {
        Box::pin(async move {
            let k = super::volunteers::keys();
            ch::pay(c, &payer(), &k, &id, &p, "payer", NOW)
                .await
                .map(|_| ())
        })
    })
    .await
}

async fn adult(db: &Db, id: &str, name: &str) {
    let mut tx = db.begin().await.unwrap();
    Sql::new("INSERT INTO residents (id, region_code, name, name_key, birth_date, risk_tier, legal_basis, status, visit_interval_days, next_visit_due, registered_on, created_by, created_at, updated_at) VALUES (")
        .bind(id).push(", ").bind(COUNTY).push(", ").bind(name).push(", 'x', '1950-01-01', 'general', 'consent', 'active', 30, '2026-01-01', '2025-01-01', 'test', ").bind(NOW).push(", ").bind(NOW).push(")")
        .execute(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
}

fn to_person(fund: &str, resident: &str, purpose: &str, fen: i64) -> DisbursementInput {
    DisbursementInput {
        fund_id: fund.into(),
        target_kind: TargetKind::Person,
        wish_id: None,
        recipient_resident_id: Some(resident.into()),
        purpose: purpose.into(),
        amount_fen: fen,
    }
}

/// (service records, resource-linking records and value counted, money paid counted).
async fn tallies(db: &Db) -> (i64, i64, i64, i64) {
    use shegong_store::statistics::counters::{self, Dim, Regions};
    let mut c = db.read().await.unwrap();
    let records = Sql::new("SELECT COUNT(*) FROM services")
        .fetch_i64(&mut c)
        .await
        .unwrap();
    let mut sums = Vec::new();
    for (dim, key) in [(Dim::Kind, "resource_linking"), (Dim::Charity, "paid")] {
        let rows = counters::read(
            &mut c,
            &scope(COUNTY),
            Regions::One(COUNTY),
            dim,
            "2000-01",
            "2099-12",
        )
        .await
        .unwrap();
        let rows = rows.iter().filter(|r| r.key == key);
        sums.push(rows.fold((0, 0), |(n, v), r| (n + r.n, v + r.value_fen)));
    }
    (records, sums[0].0, sums[0].1, sums[1].1)
}

db_test!(
    a_payment_to_a_resident_writes_one_counted_service_record,
    |db| {
        let f = fund(&db, fund_input("株洲市慈善总会荷塘社区慈善基金"))
            .await
            .unwrap();
        donate(&db, money(&f, 100_000, "湘捐0001")).await.unwrap();
        for (n, role) in [
            ("张主任", CommitteeRole::Chair),
            ("李委员", CommitteeRole::Member),
            ("王委员", CommitteeRole::Member),
            ("赵委员", CommitteeRole::Member),
            ("钱委员", CommitteeRole::Member),
            ("孙监督", CommitteeRole::Supervisor),
        ] {
            member(&db, &f, n, role).await.unwrap();
        }
        adult(&db, "elder1", "李大爷").await;
        resident(&db, "child1", "王小明").await;
        let to_elder = propose(&db, to_person(&f, "elder1", "困难老人临时救助", 20_000))
            .await
            .unwrap();
        let to_child = propose(&db, to_person(&f, "child1", "助学", 10_000))
            .await
            .unwrap();
        let project = propose(
            &db,
            DisbursementInput {
                fund_id: f.clone(),
                target_kind: TargetKind::Project,
                wish_id: None,
                recipient_resident_id: None,
                purpose: "长者食堂助餐".into(),
                amount_fen: 30_000,
            },
        )
        .await
        .unwrap();
        for (n, d) in [&to_elder, &to_child, &project].into_iter().enumerate() {
            decide(&db, d, true, &format!("2026-{n}号决议"))
                .await
                .unwrap();
        }

        // No length, or one out of range: refused on the field, nothing written.
        for (minutes, code) in [
            (None, "form.required"),
            (Some(0), "form.out_of_range"),
            (Some(1441), "form.out_of_range"),
        ] {
            let e = invalid(pay(&db, &to_elder, "2026-02-15", minutes).await);
            assert_eq!((e.field, e.code), ("duration_minutes", code));
        }
        assert_eq!(tallies(&db).await, (0, 0, 0, 0));

        pay(&db, &to_elder, "2026-02-15", Some(45)).await.unwrap();
        let mut c = db.read().await.unwrap();
        let d = ch::get_disbursement(&mut c, &scope(COUNTY), &to_elder)
            .await
            .unwrap();
        assert_eq!(d.state, DisbursementState::Paid);
        let sid = d.service_id.expect("the payment's service record");
        let s = services::get(&mut c, &payer(), &sid).await.unwrap();
        assert_eq!(
            (s.kind.as_str(), s.domain.as_str(), s.title.as_str()),
            ("resource_linking", "social_assistance", "困难老人临时救助")
        );
        assert_eq!(
            (s.served_on.as_str(), s.duration_minutes, s.value_fen),
            ("2026-02-15", 45, 20_000)
        );
        assert_eq!(
            (s.resident_id.as_deref(), s.workers.as_str(), s.station_id),
            (Some("elder1"), "王会计", None)
        );
        drop(c);
        assert_eq!(tallies(&db).await, (1, 1, 20_000, 20_000));
        // Paid once: a second payment is refused and writes no second record.
        assert_eq!(
            invalid(pay(&db, &to_elder, "2026-02-16", Some(45)).await).field,
            "decision"
        );

        // A child's file is protected from this payer: refused on the recipient, nothing written
        // (neither the payment nor its counters).
        let e = invalid(pay(&db, &to_child, "2026-02-15", Some(30)).await);
        assert_eq!(
            (e.field, e.code),
            ("recipient_resident_id", "charity.resident_unknown")
        );
        let mut c = db.read().await.unwrap();
        let d = ch::get_disbursement(&mut c, &scope(COUNTY), &to_child)
            .await
            .unwrap();
        assert_eq!((d.state, d.service_id), (DisbursementState::Approved, None));
        drop(c);
        assert_eq!(tallies(&db).await, (1, 1, 20_000, 20_000));

        // A project needs no length and writes no record.
        pay(&db, &project, "2026-02-15", None).await.unwrap();
        assert_eq!(tallies(&db).await, (1, 1, 20_000, 50_000));

        // The linked record is kept.
        let e = invalid(
            write(&db, move |c| {
                Box::pin(async move { services::delete(c, &payer(), &sid).await.map(|_| ()) })
            })
            .await,
        );
        assert_eq!((e.field, e.code), ("service", "service.linked"));
    }
);
