//! Issue 15 item 4, "linked to the rest": a service record names the registered volunteer who
//! served (in the writer's scope, method `volunteer`), and a time-bank EARN from it credits only
//! that volunteer's own account; records without a volunteer earn as before. Both databases.

#[allow(unused_imports)]
use super::*;

use shegong_domain::people::ServiceKind;
use shegong_domain::timebank::{
    AccountKind, CapOverflow, EntryKind, HolderKind, Rules, SourceKind, TransferTo,
};
use shegong_store::StoreResult;
use shegong_store::people::residents::Viewer;
use shegong_store::people::services::{self, ServiceInput};
use shegong_store::sql::Sql;
use shegong_store::timebank::{self as tb, AccountInput, EntryInput, SchemeInput};
use shegong_store::volunteers::registry;

use super::evaluations::{NOW, invalid, write};
use super::volunteers::{keys, today, volunteer};

const COUNTY: &str = "430202";

fn writer() -> Viewer {
    Viewer {
        scope: scope(COUNTY),
        user_id: "u-writer".into(),
        sees_protected: false,
        today: today(),
    }
}

async fn enrol(db: &Db, region: &str, name: &str, id_number: &str) -> String {
    let mut tx = db.begin().await.unwrap();
    let input = volunteer(region, name, id_number, "1985-04-12");
    let id = registry::create(&mut tx, &scope(region), &keys(), &input, today(), "t", NOW)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

async fn resident(db: &Db, id: &str) {
    let mut tx = db.begin().await.unwrap();
    Sql::new("INSERT INTO residents (id, region_code, name, name_key, birth_date, risk_tier, legal_basis, status, visit_interval_days, next_visit_due, registered_on, created_by, created_at, updated_at) VALUES (")
        .bind(id).push(", ").bind(COUNTY).push(", '周奶奶', 'x', '1940-01-01', 'general', 'consent', 'active', 90, '2026-01-01', '2025-01-01', 'test', ").bind(NOW).push(", ").bind(NOW).push(")")
        .execute(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
}

fn visit(volunteer: Option<&str>, method: Option<&str>) -> ServiceInput {
    ServiceInput {
        kind: "visit".into(),
        domain: "elderly".into(),
        resident_id: Some("r1".into()),
        served_on: "2026-05-10".into(),
        duration_minutes: 120,
        person_times: 1,
        method: method.map(Into::into),
        workers: "志愿者".into(),
        volunteer_id: volunteer.map(Into::into),
        ..Default::default()
    }
}

async fn record(db: &Db, input: ServiceInput) -> StoreResult<String> {
    write(db, move |c| {
        Box::pin(async move { services::create(c, &writer(), &keys(), &input, "t", NOW).await })
    })
    .await
}

async fn account(db: &Db, scheme: &str, holder: HolderKind, id: &str) -> String {
    let (scheme, input) = (
        scheme.to_owned(),
        AccountInput {
            kind: AccountKind::Person,
            holder_kind: holder,
            holder_id: Some(id.into()),
            holder_name: String::new(),
        },
    );
    write(db, move |c| {
        Box::pin(
            async move { tb::open_account(c, &scope(COUNTY), &scheme, &input, "t", NOW).await },
        )
    })
    .await
    .unwrap()
}

async fn earn(db: &Db, account: &str, service: &str) -> StoreResult<i64> {
    let (account, input) = (
        account.to_owned(),
        EntryInput {
            kind: EntryKind::Earn,
            amount: 0,
            to_account_id: None,
            source_kind: SourceKind::Service,
            source_id: Some(service.into()),
            note: String::new(),
        },
    );
    write(db, move |c| {
        Box::pin(async move {
            tb::post(c, &scope(COUNTY), &account, &input, "t", NOW).await?;
            Ok(tb::get_account(c, &scope(COUNTY), &account).await?.balance)
        })
    })
    .await
}

db_test!(a_visit_by_a_volunteer_earns_for_that_volunteer_only, |db| {
    resident(&db, "r1").await;
    let own = enrol(&db, "430202001", "刘思雨", "430202198504120031").await;
    let other = enrol(&db, "430202002", "陈立", "430202199208150046").await;
    let far = enrol(&db, "430203001", "杨帆", "430203199105060011").await;

    // The volunteer must be in the writer's scope; a volunteer's visit is method `volunteer`.
    for bad in [far.as_str(), "nobody"] {
        let e = invalid(record(&db, visit(Some(bad), None)).await);
        assert_eq!(
            (e.field, e.code),
            ("volunteer_id", "service.volunteer_unknown")
        );
    }
    let e = invalid(record(&db, visit(Some(&own), Some("home"))).await);
    assert_eq!((e.field, e.code), ("method", "service.volunteer_method"));
    let by_own = record(&db, visit(Some(&own), None)).await.unwrap();
    let again = record(&db, visit(Some(&own), Some("volunteer")))
        .await
        .unwrap();
    let plain = record(&db, visit(None, Some("home"))).await.unwrap();
    let mut c = db.read().await.unwrap();
    let s = services::get(&mut c, &writer(), &by_own).await.unwrap();
    assert_eq!(s.volunteer_id.as_deref(), Some(own.as_str()));
    assert_eq!(
        (s.method.as_deref(), s.volunteer_name.as_deref()),
        (Some("volunteer"), Some("刘思雨"))
    );
    let s = services::get(&mut c, &writer(), &plain).await.unwrap();
    assert_eq!((s.volunteer_id, s.method.as_deref()), (None, Some("home")));
    drop(c);

    let scheme = write(&db, move |c| {
        let input = SchemeInput {
            region: code(COUNTY),
            name: "荷塘时间银行".into(),
            operator: "街道社工站".into(),
            rules: Rules {
                unit_minutes: 60,
                daily_earn_cap: None,
                balance_cap: None,
                cap_overflow: CapOverflow::Refuse,
                redeem_min_earned: 0,
                transfer_to: TransferTo::Scheme,
                min_balance: 0,
                eligible_kinds: vec![ServiceKind::Visit],
                partners: vec![],
            },
        };
        Box::pin(async move { tb::create_scheme(c, &scope(COUNTY), &input, "t", NOW).await })
    })
    .await
    .unwrap();
    let own_account = account(&db, &scheme, HolderKind::Volunteer, &own).await;
    let other_account = account(&db, &scheme, HolderKind::Volunteer, &other).await;
    let resident_account = account(&db, &scheme, HolderKind::Resident, "r1").await;

    // Another volunteer's account, or a resident's: refused, nothing posted.
    for wrong in [&other_account, &resident_account] {
        let e = invalid(earn(&db, wrong, &by_own).await);
        assert_eq!(
            (e.field, e.code),
            ("source_id", "timebank.service_of_another")
        );
    }
    // The volunteer's own account: two hours, two credits.
    assert_eq!(earn(&db, &own_account, &by_own).await.unwrap(), 2);
    assert_eq!(earn(&db, &own_account, &again).await.unwrap(), 4);
    // A record without a volunteer earns for any account as before.
    assert_eq!(earn(&db, &resident_account, &plain).await.unwrap(), 2);
    let mut c = db.read().await.unwrap();
    assert_eq!(tb::verify(&mut c).await.unwrap(), Vec::<String>::new());
    let balance = tb::get_account(&mut c, &scope(COUNTY), &other_account)
        .await
        .unwrap()
        .balance;
    assert_eq!(balance, 0);
});
