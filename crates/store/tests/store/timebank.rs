//! 时间银行 (issue 15 item 2): schemes with rules, accounts and a double-entry ledger. Every
//! refusal names its field; random and concurrent postings keep every invariant that
//! `ledger verify` checks, on both databases.

#[allow(unused_imports)]
use super::*;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use shegong_domain::timebank::{
    AccountKind, CapOverflow, EntryKind, HolderKind, Rules, TransferTo,
};
use shegong_store::sql::Sql;
use shegong_store::timebank::{self as tb, AccountFilter, AccountInput, EntryInput, SchemeInput};
use shegong_store::{PageRequest, StoreError, StoreResult};

use super::evaluations::{NOW, invalid, write};

const COUNTY: &str = "430202";
const OTHER: &str = "430203";

fn rules() -> Rules {
    Rules {
        unit_minutes: 60,
        daily_earn_cap: Some(4),
        balance_cap: Some(20),
        cap_overflow: CapOverflow::Refuse,
        redeem_min_earned: 0,
        transfer_to: TransferTo::Scheme,
        min_balance: 0,
        eligible_kinds: vec![shegong_domain::people::ServiceKind::Visit],
        partners: vec![],
    }
}

async fn scheme(db: &Db, region: &str, name: &str, r: Rules) -> StoreResult<String> {
    let input = SchemeInput {
        region: code(region),
        name: name.into(),
        operator: "街道社工站".into(),
        rules: r,
    };
    let sc = scope(region);
    write(db, move |c| {
        Box::pin(async move { tb::create_scheme(c, &sc, &input, "test", NOW).await })
    })
    .await
}

async fn open(
    db: &Db,
    scheme: &str,
    kind: AccountKind,
    holder: HolderKind,
    id: Option<&str>,
    name: &str,
) -> StoreResult<String> {
    let (scheme, input) = (
        scheme.to_owned(),
        AccountInput {
            kind,
            holder_kind: holder,
            holder_id: id.map(Into::into),
            holder_name: name.into(),
        },
    );
    write(db, move |c| {
        Box::pin(
            async move { tb::open_account(c, &scope(COUNTY), &scheme, &input, "test", NOW).await },
        )
    })
    .await
}

async fn post(
    db: &Db,
    account: &str,
    kind: EntryKind,
    amount: i64,
    to: Option<&str>,
    source: Option<&str>,
) -> StoreResult<(String, Option<String>)> {
    let account = account.to_owned();
    let input = EntryInput {
        kind,
        amount,
        to_account_id: to.map(Into::into),
        source_kind: shegong_domain::timebank::SourceKind::Service,
        source_id: source.map(Into::into),
        note: String::new(),
    };
    write(db, move |c| {
        Box::pin(async move { tb::post(c, &scope("4302"), &account, &input, "test", NOW).await })
    })
    .await
}

async fn reverse(db: &Db, entry: &str) -> StoreResult<String> {
    let entry = entry.to_owned();
    write(db, move |c| {
        Box::pin(async move { tb::reverse(c, &scope("4302"), &entry, "", "test", NOW).await })
    })
    .await
}

async fn balance(db: &Db, account: &str) -> i64 {
    let mut c = db.read().await.unwrap();
    tb::get_account(&mut c, &scope("4302"), account)
        .await
        .unwrap()
        .balance
}

async fn system(db: &Db, scheme: &str, kind: AccountKind) -> String {
    let mut c = db.read().await.unwrap();
    let f = AccountFilter {
        holder_id: None,
        scheme_id: Some(scheme.into()),
        kind: Some(kind),
        q: None,
    };
    tb::list_accounts(&mut c, &scope(COUNTY), &f, PageRequest::new(None, None))
        .await
        .unwrap()
        .items[0]
        .id
        .clone()
}

/// A resident (in a household) and visits of `minutes` on `day`, written as the people area does.
async fn resident(db: &Db, id: &str, household: Option<&str>) {
    let mut tx = db.begin().await.unwrap();
    if let Some(h) = household {
        Sql::new("INSERT INTO households (id, region_code, created_at) SELECT ")
            .bind(h)
            .push(", ")
            .bind(COUNTY)
            .push(", ")
            .bind(NOW)
            .push(" WHERE NOT EXISTS (SELECT 1 FROM households WHERE id = ")
            .bind(h)
            .push(")")
            .execute(&mut tx)
            .await
            .unwrap();
    }
    Sql::new("INSERT INTO residents (id, region_code, name, name_key, birth_date, household_id, risk_tier, legal_basis, status, visit_interval_days, next_visit_due, registered_on, created_by, created_at, updated_at) VALUES (")
        .bind(id).push(", ").bind(COUNTY).push(", ").bind(format!("居民{id}")).push(", 'x', '1950-01-01', ").bind(household.map(str::to_owned))
        .push(", 'general', 'consent', 'active', 30, '2026-01-01', '2025-01-01', 'test', ").bind(NOW).push(", ").bind(NOW).push(")")
        .execute(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
}

async fn service(db: &Db, id: &str, kind: &str, minutes: i64, day: &str) {
    let mut tx = db.begin().await.unwrap();
    Sql::new("INSERT INTO services (id, region_code, kind, domain, served_on, duration_minutes, person_times, workers, created_by, created_at) VALUES (")
        .bind(id).push(", ").bind(COUNTY).push(", ").bind(kind).push(", 'elderly', ").bind(day).push(", ").bind(minutes)
        .push(", 1, '志愿者', 'test', ").bind(NOW).push(")")
        .execute(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
}

async fn verify(db: &Db) -> Vec<String> {
    let mut c = db.read().await.unwrap();
    tb::verify(&mut c).await.unwrap()
}

db_test!(
    schemes_accounts_and_every_entry_kind_with_their_refusals,
    |db| {
        let s = scheme(&db, COUNTY, "荷塘时间银行", rules()).await.unwrap();
        let e = invalid(scheme(&db, COUNTY, "荷塘时间银行", rules()).await);
        assert_eq!((e.field, e.code), ("name", "timebank.name_taken"));
        let mut bad = rules();
        bad.unit_minutes = 0;
        assert_eq!(
            invalid(scheme(&db, COUNTY, "坏规则", bad).await).field,
            "unit_minutes"
        );
        let mut bad = rules();
        bad.partners = vec!["0190a3c2-0000-7000-8000-00000000beef".into()];
        assert_eq!(
            invalid(scheme(&db, COUNTY, "坏伙伴", bad).await).field,
            "partners"
        );

        resident(&db, "r1", Some("h1")).await;
        resident(&db, "r2", Some("h1")).await;
        resident(&db, "r3", None).await;
        let a = open(
            &db,
            &s,
            AccountKind::Person,
            HolderKind::Resident,
            Some("r1"),
            "",
        )
        .await
        .unwrap();
        let b = open(
            &db,
            &s,
            AccountKind::Person,
            HolderKind::Resident,
            Some("r2"),
            "",
        )
        .await
        .unwrap();
        let c = open(
            &db,
            &s,
            AccountKind::Person,
            HolderKind::Resident,
            Some("r3"),
            "",
        )
        .await
        .unwrap();
        let n = open(
            &db,
            &s,
            AccountKind::Person,
            HolderKind::Named,
            None,
            "王阿姨",
        )
        .await
        .unwrap();
        let g = open(
            &db,
            &s,
            AccountKind::Group,
            HolderKind::Named,
            None,
            "夕阳红志愿队",
        )
        .await
        .unwrap();
        let e = invalid(
            open(
                &db,
                &s,
                AccountKind::Person,
                HolderKind::Resident,
                Some("r1"),
                "",
            )
            .await,
        );
        assert_eq!(
            (e.field, e.code),
            ("holder_id", "timebank.holder_has_account")
        );
        let e = invalid(
            open(
                &db,
                &s,
                AccountKind::Person,
                HolderKind::Resident,
                Some("nobody"),
                "",
            )
            .await,
        );
        assert_eq!(e.code, "timebank.resident_unknown");
        let e = invalid(open(&db, &s, AccountKind::Pool, HolderKind::Named, None, "x").await);
        assert_eq!(e.field, "account_kind");

        // EARN only from an eligible service record, once; credits are whole hours; daily cap 4.
        service(&db, "v1", "visit", 150, "2026-01-05").await;
        service(&db, "v2", "visit", 180, "2026-01-05").await;
        service(&db, "v3", "crisis", 120, "2026-01-05").await;
        service(&db, "v4", "visit", 30, "2026-01-06").await;
        let (earn, _) = post(&db, &a, EntryKind::Earn, 0, None, Some("v1"))
            .await
            .unwrap();
        assert_eq!(balance(&db, &a).await, 2);
        let e = invalid(post(&db, &b, EntryKind::Earn, 0, None, Some("v1")).await);
        assert_eq!((e.field, e.code), ("source_id", "timebank.source_used"));
        let e = invalid(post(&db, &a, EntryKind::Earn, 0, None, Some("v2")).await);
        assert_eq!(
            (e.field, e.code),
            ("source_id", "timebank.daily_cap_exceeded")
        );
        assert_eq!(
            invalid(post(&db, &a, EntryKind::Earn, 0, None, Some("v3")).await).code,
            "timebank.not_eligible"
        );
        assert_eq!(
            invalid(post(&db, &a, EntryKind::Earn, 0, None, Some("v4")).await).code,
            "timebank.too_short"
        );
        assert_eq!(
            invalid(post(&db, &a, EntryKind::Earn, 0, None, Some("zz")).await).code,
            "timebank.source_unknown"
        );
        post(&db, &b, EntryKind::Earn, 0, None, Some("v2"))
            .await
            .unwrap();

        // GRANT from the issuer; REDEEM over the balance refused; cap 20 refused (not swept).
        post(&db, &c, EntryKind::Grant, 18, None, None)
            .await
            .unwrap();
        let e = invalid(post(&db, &c, EntryKind::Grant, 3, None, None).await);
        assert_eq!((e.field, e.code), ("amount", "timebank.cap_exceeded"));
        let e = invalid(post(&db, &a, EntryKind::Redeem, 3, None, None).await);
        assert_eq!((e.field, e.code), ("amount", "timebank.over_balance"));
        post(&db, &a, EntryKind::Redeem, 1, None, None)
            .await
            .unwrap();
        assert_eq!(balance(&db, &a).await, 1);
        assert_eq!(
            invalid(post(&db, &a, EntryKind::Redeem, 0, None, None).await).field,
            "amount"
        );

        // TRANSFER: a receiver over the cap is refused on its field; group accounts only donate.
        let e = invalid(post(&db, &b, EntryKind::Transfer, 3, Some(&c), None).await);
        assert_eq!(
            (e.field, e.code),
            ("to_account_id", "timebank.cap_exceeded")
        );
        post(&db, &b, EntryKind::Transfer, 2, Some(&c), None)
            .await
            .unwrap();
        post(&db, &n, EntryKind::Grant, 5, None, None)
            .await
            .unwrap();
        post(&db, &n, EntryKind::Transfer, 2, Some(&g), None)
            .await
            .unwrap_err();
        let e = invalid(post(&db, &g, EntryKind::Transfer, 1, Some(&a), None).await);
        assert_eq!(e.field, "account_id");
        let pool = system(&db, &s, AccountKind::Pool).await;
        post(&db, &n, EntryKind::Donate, 2, None, None)
            .await
            .unwrap();
        assert_eq!(balance(&db, &pool).await, 2);

        // Reversal restores the prior balances, at most once, never of a reversal.
        let before = (
            balance(&db, &a).await,
            balance(&db, &system(&db, &s, AccountKind::Issuer).await).await,
        );
        let (redeem, _) = post(&db, &c, EntryKind::Redeem, 4, None, None)
            .await
            .unwrap();
        let r = reverse(&db, &redeem).await.unwrap();
        assert_eq!(balance(&db, &c).await, 20);
        let e = invalid(reverse(&db, &redeem).await);
        assert_eq!((e.field, e.code), ("entry_id", "timebank.already_reversed"));
        assert_eq!(
            invalid(reverse(&db, &r).await).code,
            "timebank.reversal_of_reversal"
        );
        // The EARN of a (spent) account cannot be reversed below its minimum.
        let e = invalid(reverse(&db, &earn).await);
        assert_eq!((e.field, e.code), ("entry_id", "timebank.over_balance"));
        assert_eq!(before.0, balance(&db, &a).await);

        // Passbook: running balance ends at the balance.
        let mut conn = db.read().await.unwrap();
        let book = tb::passbook(&mut conn, &scope(COUNTY), &c, PageRequest::new(None, None))
            .await
            .unwrap();
        assert_eq!(book.items.last().unwrap().balance, 20);
        assert_eq!(
            book.items
                .iter()
                .map(|l| l.kind.as_str())
                .collect::<Vec<_>>(),
            ["grant", "transfer", "redeem", "reversal"]
        );
        // Out of scope: not found.
        assert!(matches!(
            tb::get_account(&mut conn, &scope(OTHER), &a).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            tb::get_scheme(&mut conn, &scope(OTHER), &s).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            tb::passbook(&mut conn, &scope(OTHER), &a, PageRequest::new(None, None)).await,
            Err(StoreError::NotFound)
        ));
        assert_eq!(
            tb::list_schemes(&mut conn, &scope(OTHER), None, PageRequest::new(None, None))
                .await
                .unwrap()
                .total,
            0
        );
        drop(conn);
        assert_eq!(verify(&db).await, Vec::<String>::new());
    }
);

db_test!(family_transfers_sweeps_and_partner_schemes, |db| {
    let mut r = rules();
    r.transfer_to = TransferTo::Family;
    r.cap_overflow = CapOverflow::Sweep;
    r.daily_earn_cap = None;
    let s = scheme(&db, COUNTY, "家庭互助", r.clone()).await.unwrap();
    resident(&db, "f1", Some("hh")).await;
    resident(&db, "f2", Some("hh")).await;
    resident(&db, "f3", None).await;
    let a = open(
        &db,
        &s,
        AccountKind::Person,
        HolderKind::Resident,
        Some("f1"),
        "",
    )
    .await
    .unwrap();
    let b = open(
        &db,
        &s,
        AccountKind::Person,
        HolderKind::Resident,
        Some("f2"),
        "",
    )
    .await
    .unwrap();
    let c = open(
        &db,
        &s,
        AccountKind::Person,
        HolderKind::Resident,
        Some("f3"),
        "",
    )
    .await
    .unwrap();
    post(&db, &a, EntryKind::Grant, 10, None, None)
        .await
        .unwrap();
    let e = invalid(post(&db, &a, EntryKind::Transfer, 1, Some(&c), None).await);
    assert_eq!(
        (e.field, e.code),
        ("to_account_id", "timebank.transfer_family_only")
    );
    post(&db, &a, EntryKind::Transfer, 1, Some(&b), None)
        .await
        .unwrap();
    // Above the cap of 20 the excess goes to the pool.
    let (_, swept) = post(&db, &b, EntryKind::Grant, 25, None, None)
        .await
        .unwrap();
    assert!(swept.is_some());
    assert_eq!(balance(&db, &b).await, 20);
    assert_eq!(
        balance(&db, &system(&db, &s, AccountKind::Pool).await).await,
        6
    );

    // 通存通兑 with a partner that lists this scheme back.
    let mut pr = rules();
    pr.partners = vec![s.clone()];
    let p = scheme(&db, COUNTY, "伙伴银行", pr).await.unwrap();
    let q = open(
        &db,
        &p,
        AccountKind::Person,
        HolderKind::Named,
        None,
        "李大爷",
    )
    .await
    .unwrap();
    let e = invalid(post(&db, &a, EntryKind::Interscheme, 2, Some(&q), None).await);
    assert_eq!(e.code, "timebank.not_partner");
    let mut r2 = r.clone();
    r2.partners = vec![p.clone()];
    let input = SchemeInput {
        region: code(COUNTY),
        name: "家庭互助".into(),
        operator: String::new(),
        rules: r2,
    };
    let sid = s.clone();
    write(&db, move |c| {
        Box::pin(
            async move { tb::update_scheme(c, &scope(COUNTY), &sid, &input, "test", NOW).await },
        )
    })
    .await
    .unwrap();
    post(&db, &a, EntryKind::Interscheme, 2, Some(&q), None)
        .await
        .unwrap();
    assert_eq!((balance(&db, &a).await, balance(&db, &q).await), (7, 2));
    // A cap lowered below a balance held is refused.
    let mut r3 = r.clone();
    r3.balance_cap = Some(5);
    let input = SchemeInput {
        region: code(COUNTY),
        name: "家庭互助".into(),
        operator: String::new(),
        rules: r3,
    };
    let sid = s.clone();
    let e = invalid(
        write(&db, move |c| {
            Box::pin(async move {
                tb::update_scheme(c, &scope(COUNTY), &sid, &input, "test", NOW).await
            })
        })
        .await,
    );
    assert_eq!(
        (e.field, e.code),
        ("balance_cap", "timebank.cap_below_balances")
    );
    assert_eq!(verify(&db).await, Vec::<String>::new());

    // Damage found: a balance that is not the sum of its postings.
    let mut tx = db.begin().await.unwrap();
    Sql::new("UPDATE timebank_accounts SET balance = balance + 1 WHERE id = ")
        .bind(c.as_str())
        .execute(&mut tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let diff = verify(&db).await;
    assert_eq!(diff.len(), 1, "{diff:?}");
    assert!(diff[0].contains(&c));

    // A "reversal" that repeats its original instead of mirroring it, and so unbalances the
    // scheme and the accounts: every check names it.
    let (grant, _) = post(&db, &a, EntryKind::Grant, 1, None, None)
        .await
        .unwrap();
    let mut tx = db.begin().await.unwrap();
    Sql::new("INSERT INTO timebank_entries (id, scheme_id, kind, reverses_id, note, created_by, created_at) VALUES ('bad-rev', ")
        .bind(s.as_str()).push(", 'reversal', ").bind(grant.as_str()).push(", '', 'test', 0)")
        .execute(&mut tx).await.unwrap();
    Sql::new("INSERT INTO timebank_postings (entry_id, account_id, amount) VALUES ('bad-rev', ")
        .bind(a.as_str())
        .push(", 1)")
        .execute(&mut tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let diff = verify(&db).await.join("\n");
    for needle in [
        format!("scheme {s}: postings sum to 1"),
        "entry bad-rev: 1 posting(s) summing to 1".into(),
        format!("account {a}: balance"),
        "reversal bad-rev does not mirror".into(),
    ] {
        assert!(diff.contains(&needle), "{needle} in {diff}");
    }
});

db_test!(random_and_concurrent_postings_keep_the_ledger_whole, |db| {
    let mut r = rules();
    r.daily_earn_cap = None;
    r.balance_cap = Some(12);
    r.min_balance = -2;
    let s = scheme(&db, COUNTY, "随机", r).await.unwrap();
    let mut people = Vec::new();
    for i in 0..4 {
        people.push(
            open(
                &db,
                &s,
                AccountKind::Person,
                HolderKind::Named,
                None,
                &format!("成员{i}"),
            )
            .await
            .unwrap(),
        );
    }
    let group = open(&db, &s, AccountKind::Group, HolderKind::Named, None, "小组")
        .await
        .unwrap();
    let mut rng = StdRng::seed_from_u64(15);
    for _ in 0..60 {
        let a = people[rng.random_range(0..people.len())].clone();
        let to = people[rng.random_range(0..people.len())].clone();
        let amount = rng.random_range(1..6);
        let kind = [
            EntryKind::Grant,
            EntryKind::Redeem,
            EntryKind::Transfer,
            EntryKind::Donate,
        ][rng.random_range(0..4)];
        let (from, to) = if kind == EntryKind::Donate && rng.random_bool(0.3) {
            (group.clone(), None)
        } else {
            (a, Some(to))
        };
        let mut tracked = people.clone();
        tracked.push(group.clone());
        let before = futures_balances(&db, &tracked).await;
        match post(&db, &from, kind, amount, to.as_deref(), None).await {
            Ok((id, _)) if rng.random_bool(0.2) => {
                assert_ne!(futures_balances(&db, &tracked).await, before);
                reverse(&db, &id).await.unwrap();
                assert_eq!(futures_balances(&db, &tracked).await, before);
            }
            Ok(_) => {}
            Err(StoreError::Invalid(e)) => {
                assert!(
                    ["amount", "to_account_id", "account_id"].contains(&e.field),
                    "{e:?}"
                );
                assert_eq!(futures_balances(&db, &tracked).await, before);
            }
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(verify(&db).await, Vec::<String>::new());

    // Several writers at once on the same accounts, each on its own connection.
    let mut tasks = Vec::new();
    for t in 0..6u64 {
        let (db, people) = (db.clone(), people.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(100 + t);
            for _ in 0..15 {
                let from = &people[rng.random_range(0..people.len())];
                let to = &people[rng.random_range(0..people.len())];
                let kind = [EntryKind::Grant, EntryKind::Redeem, EntryKind::Transfer]
                    [rng.random_range(0..3)];
                match post(&db, from, kind, rng.random_range(1..8), Some(to), None).await {
                    Ok(_) | Err(StoreError::Invalid(_)) => {}
                    Err(e) => panic!("{e:?}"),
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(verify(&db).await, Vec::<String>::new());
    for b in futures_balances(&db, &people).await {
        assert!((-2..=12).contains(&b), "{b}");
    }

    // A reversal restores the balances before its entry.
    let before = futures_balances(&db, &people).await;
    if let Ok((id, _)) = post(&db, &people[0], EntryKind::Grant, 1, None, None).await {
        reverse(&db, &id).await.unwrap();
        assert_eq!(futures_balances(&db, &people).await, before);
    }
    dashboards_count_what_the_ledger_holds(&db, &people, &group).await;
});

/// The dashboards' time-bank counters after the random and concurrent postings: equal to what
/// `stats verify` recomputes from the ledger, and the county's person balances and grants are
/// those of the accounts and entries.
async fn dashboards_count_what_the_ledger_holds(db: &Db, people: &[String], group: &str) {
    use shegong_store::statistics::counters::{self, Dim, Regions};
    counters::fold(db).await.unwrap();
    let mut c = db.read().await.unwrap();
    let diff = counters::verify(&mut c).await.unwrap();
    let timebank: Vec<_> = diff
        .iter()
        .filter(|d| matches!(d.0.dim, Dim::TimebankFlow | Dim::TimebankBalance))
        .collect();
    assert!(timebank.is_empty(), "{timebank:?}");
    drop(c);
    let held: i64 = futures_balances(db, people).await.iter().sum();
    let mut c = db.read().await.unwrap();
    let granted = Sql::new(
        "SELECT COUNT(*) FROM timebank_entries WHERE kind = 'grant' AND id NOT IN \
         (SELECT reverses_id FROM timebank_entries WHERE reverses_id IS NOT NULL)",
    )
    .fetch_i64(&mut c)
    .await
    .unwrap();
    drop(c);
    let read = |dim, from: &'static str, to: &'static str| {
        let db = db.clone();
        async move {
            let mut c = db.read().await.unwrap();
            counters::read(&mut c, &scope(COUNTY), Regions::One(COUNTY), dim, from, to)
                .await
                .unwrap()
        }
    };
    let balances = read(Dim::TimebankBalance, "", "").await;
    let of = |key: &str| {
        balances
            .iter()
            .find(|r| r.key == key)
            .map(|r| (r.n, r.minutes))
    };
    assert_eq!(of("person"), Some((people.len() as i64, held)));
    assert_eq!(of("group").map(|g| g.0), Some(1));
    assert_eq!(of("group").map(|g| g.1), Some(balance(db, group).await));
    let flows = read(Dim::TimebankFlow, "2000-01", "2099-12").await;
    let n = |key: &str| {
        flows
            .iter()
            .filter(|r| r.key == key)
            .map(|r| r.n)
            .sum::<i64>()
    };
    assert_eq!(n("grant") - n("reversal_grant"), granted);
    assert!(n("grant") > 0 && n("transfer") > 0, "{flows:?}");
}

async fn futures_balances(db: &Db, ids: &[String]) -> Vec<i64> {
    let mut out = Vec::new();
    for id in ids {
        out.push(balance(db, id).await);
    }
    out
}
