//! 供需对接 (issue 16 item 4): the matcher's scores and reasons from the records, the same-day
//! throttle (at proposal, confirmation and execution), a match executed into a service record
//! or a goods issue, scope, refusals that write nothing, and the three lists with the township's
//! approval — on both databases.

use chrono::NaiveDate;
use shegong_domain::matching::{
    DayPart, HelpKind, MatchState, MatchStep, NeedSource, NeedState, NeedSubject, Reason,
    ResourceKind,
};
use shegong_store::crypto::KeyRing;
use shegong_store::matching::matches::{self as mm, ExecuteInput, ProposeInput, StepInput};
use shegong_store::matching::needs::{self as nd, NeedInput};
use shegong_store::matching::{lists, resources};
use shegong_store::people::residents::Viewer;
use shegong_store::sql::Sql;
use shegong_store::volunteers::registry;
use shegong_store::{StoreError, StoreResult};

use super::evaluations::invalid;
use super::*;

const NOW: i64 = 1_780_000_000_000;
const TOWN: &str = "430202001";
const SATURDAY: &str = "2026-06-06";

fn viewer(region: &str, today: &str) -> Viewer {
    Viewer {
        scope: scope(region),
        user_id: "u-worker".into(),
        sees_protected: false,
        today: NaiveDate::parse_from_str(today, "%Y-%m-%d").unwrap(),
    }
}

async fn resident(db: &Db, id: &str) {
    let mut tx = db.begin().await.unwrap();
    Sql::new("INSERT INTO residents (id, region_code, name, name_key, birth_date, risk_tier, legal_basis, status, visit_interval_days, next_visit_due, registered_on, created_by, created_at, updated_at) VALUES (")
        .bind(id).push(", ").bind(TOWN).push(", '王奶奶', 'x', '1940-01-01', 'general', 'consent', 'active', 30, '2026-01-01', '2025-01-01', 'test', ").bind(NOW).push(", ").bind(NOW).push(")")
        .execute(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
}

async fn volunteer(
    db: &Db,
    k: &KeyRing,
    (region, name, id): (&str, &str, &str),
    skills: &[&str],
    free: &str,
) -> String {
    let mut v = super::volunteers::volunteer(region, name, id, "1980-01-01");
    v.skills = skills.iter().map(|s| s.to_string()).collect();
    v.intentions = vec!["环保".into()];
    v.availability = free.into();
    let mut tx = db.begin().await.unwrap();
    let id = registry::create(
        &mut tx,
        &scope(region),
        k,
        &v,
        super::volunteers::today(),
        "tester",
        NOW,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

fn need(resident: &str, help: HelpKind, on: &str) -> NeedInput {
    NeedInput {
        subject: NeedSubject::Person,
        resident_id: Some(resident.into()),
        household_id: None,
        region: None,
        station_id: None,
        help_kind: help,
        title: "行动不便，需要助浴".into(),
        description: String::new(),
        quantity: 0,
        wanted_on: Some(on.into()),
        day_part: Some(DayPart::Morning),
        source: NeedSource::Other,
        source_id: None,
    }
}

async fn register(db: &Db, v: &Viewer, n: &NeedInput) -> StoreResult<String> {
    let mut tx = db.begin().await.unwrap();
    let id = nd::create(&mut tx, v, n, ("tester", NOW)).await?;
    tx.commit().await.unwrap();
    Ok(id)
}

async fn propose(
    db: &Db,
    v: &Viewer,
    need: &str,
    kind: ResourceKind,
    id: &str,
    item: &str,
) -> StoreResult<String> {
    let input = ProposeInput {
        need_id: need.into(),
        resource_kind: kind,
        resource_id: id.into(),
        resource_item: item.into(),
    };
    let mut tx = db.begin().await.unwrap();
    let id = mm::propose(&mut tx, v, &input, ("tester", NOW)).await?;
    tx.commit().await.unwrap();
    Ok(id)
}

async fn step(
    db: &Db,
    v: &Viewer,
    k: &KeyRing,
    id: &str,
    step: MatchStep,
    reason: &str,
) -> StoreResult<()> {
    let input = StepInput {
        step,
        reason: reason.into(),
        execute: ExecuteInput {
            served_on: v.today.to_string(),
            duration_minutes: 60,
            person_times: 1,
            workers: "李社工".into(),
            notes: String::new(),
            quantity: None,
        },
    };
    let mut tx = db.begin().await.unwrap();
    mm::step(&mut tx, v, k, id, &input, ("tester", NOW)).await?;
    tx.commit().await.unwrap();
    Ok(())
}

async fn count(db: &Db, sql: &'static str) -> i64 {
    let mut c = db.read().await.unwrap();
    Sql::new(sql).fetch_i64(&mut c).await.unwrap()
}

db_test!(matcher_scores_explains_and_throttles_the_same_day, |db| {
    let k = super::volunteers::keys();
    resident(&db, "r1").await;
    let near = volunteer(
        &db,
        &k,
        (TOWN, "刘思雨", "430202198001010017"),
        &["养老照护"],
        "周末上午",
    )
    .await;
    let other_town = volunteer(
        &db,
        &k,
        ("430202002", "陈明", "43020219810202002X"),
        &["助浴"],
        "周六全天",
    )
    .await;
    let no_fit = volunteer(
        &db,
        &k,
        (TOWN, "赵亮", "430202198203030032"),
        &["电脑维修"],
        "周末",
    )
    .await;
    let busy = volunteer(
        &db,
        &k,
        (TOWN, "孙婷", "430202198304040045"),
        &["生活照料"],
        "工作日晚上",
    )
    .await;
    // The nearest is a time-bank member: the reasons say the service can be credited.
    let mut tx = db.begin().await.unwrap();
    Sql::new("INSERT INTO timebank_schemes (id, region_code, name, rules, created_by, created_at, updated_at) VALUES ('tb', ")
        .bind(TOWN).push(", '邻里时间银行', '{}', 'test', ").bind(NOW).push(", ").bind(NOW).push(")")
        .execute(&mut tx).await.unwrap();
    Sql::new("INSERT INTO timebank_accounts (id, scheme_id, region_code, kind, holder_kind, holder_id, holder_name, created_by, created_at) VALUES ('a1', 'tb', ")
        .bind(TOWN).push(", 'person', 'volunteer', ").bind(near.as_str()).push(", '刘思雨', 'test', ").bind(NOW).push(")")
        .execute(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
    // The county's worker reaches both townships' volunteers (a township's reaches its own).
    let v = viewer("430202", "2026-06-01");
    let own = viewer(TOWN, "2026-06-01");

    // Refused by name, nothing written.
    let e = invalid(register(&db, &v, &need("nobody", HelpKind::Bathing, SATURDAY)).await);
    assert_eq!((e.field, e.code), ("resident_id", "need.resident_unknown"));
    let e = invalid(register(&db, &v, &need("r1", HelpKind::Bathing, "2026-05-31")).await);
    assert_eq!((e.field, e.code), ("wanted_on", "need.wanted_past"));
    let mut sourced = need("r1", HelpKind::Bathing, SATURDAY);
    sourced.source = NeedSource::Ticket;
    sourced.source_id = Some("no-such-ticket".into());
    assert_eq!(
        invalid(register(&db, &v, &sourced).await).field,
        "source_id"
    );
    assert_eq!(count(&db, "SELECT COUNT(*) FROM needs").await, 0);

    let n1 = register(&db, &v, &need("r1", HelpKind::Bathing, SATURDAY))
        .await
        .unwrap();
    let n2 = register(&db, &v, &need("r1", HelpKind::Bathing, SATURDAY))
        .await
        .unwrap();
    let mut c = db.read().await.unwrap();
    let mine = nd::get(&mut c, &own.scope, &n1).await.unwrap();
    let p = resources::propose(&mut c, &own, &mine).await.unwrap();
    assert_eq!(
        p.candidates
            .iter()
            .map(|c| c.resource.id.as_str())
            .collect::<Vec<_>>(),
        [near.as_str()]
    );
    let one = nd::get(&mut c, &v.scope, &n1).await.unwrap();
    let p = resources::propose(&mut c, &v, &one).await.unwrap();
    drop(c);
    assert!(!p.throttled);
    let ranked: Vec<(&str, u32)> = p
        .candidates
        .iter()
        .map(|c| (c.resource.id.as_str(), c.score))
        .collect();
    // Same township, a skill that fits, free on Saturday morning, no load: 40 + 30 + 20 + 10.
    // Another township of the county is two steps up and two down: 40 - 16.
    assert_eq!(ranked, [(near.as_str(), 100), (other_town.as_str(), 84)]);
    let why = &p.candidates.first().unwrap().reasons;
    assert!(why.contains(&Reason {
        key: "match.why.distance_0".into(),
        arg: String::new()
    }));
    assert!(why.contains(&Reason {
        key: "match.why.skill".into(),
        arg: "养老照护".into()
    }));
    assert!(why.contains(&Reason {
        key: "match.why.available".into(),
        arg: String::new()
    }));
    assert!(why.iter().any(|r| r.key == "match.why.timebank"));
    let second = &p.candidates.get(1).unwrap().reasons;
    assert!(!second.iter().any(|r| r.key == "match.why.timebank"));
    let mut left = p.excluded.clone();
    left.sort();
    assert_eq!(left, [("no_fit", 1), ("not_available", 1)]);
    // Not a candidate: refused.
    let e = invalid(propose(&db, &v, &n1, ResourceKind::Volunteer, &no_fit, "").await);
    assert_eq!((e.field, e.code), ("resource_id", "match.not_a_candidate"));
    assert!(
        invalid(propose(&db, &v, &n1, ResourceKind::Volunteer, &busy, "").await).code
            == "match.not_a_candidate"
    );

    // Two proposals for the same person, same kind, same Saturday; the first confirmed.
    let m1 = propose(&db, &v, &n1, ResourceKind::Volunteer, &near, "")
        .await
        .unwrap();
    let e = invalid(propose(&db, &v, &n1, ResourceKind::Volunteer, &near, "").await);
    assert_eq!(e.code, "match.already_proposed");
    let m2 = propose(&db, &v, &n2, ResourceKind::Volunteer, &other_town, "")
        .await
        .unwrap();
    step(&db, &v, &k, &m1, MatchStep::Confirm, "")
        .await
        .unwrap();
    // The second is not confirmed for the same day, and nothing more is proposed for it.
    let e = invalid(step(&db, &v, &k, &m2, MatchStep::Confirm, "").await);
    assert_eq!((e.field, e.code), ("step", "match.served_today"));
    let mut c = db.read().await.unwrap();
    let two = nd::get(&mut c, &v.scope, &n2).await.unwrap();
    let p2 = resources::propose(&mut c, &v, &two).await.unwrap();
    drop(c);
    assert!(p2.throttled && p2.candidates.is_empty());
    assert_eq!(
        invalid(propose(&db, &v, &n2, ResourceKind::Volunteer, &near, "").await).code,
        "match.served_today"
    );
    // Another day is another matter.
    let sunday = register(&db, &v, &need("r1", HelpKind::Bathing, "2026-06-07"))
        .await
        .unwrap();
    let mut c = db.read().await.unwrap();
    let n3 = nd::get(&mut c, &v.scope, &sunday).await.unwrap();
    assert!(!resources::propose(&mut c, &v, &n3).await.unwrap().throttled);
    drop(c);

    // Out of order, and abandoning without a reason: refused.
    assert_eq!(
        invalid(step(&db, &v, &k, &m1, MatchStep::Complete, "").await).code,
        "match.step_not_allowed"
    );
    assert_eq!(
        invalid(step(&db, &v, &k, &m2, MatchStep::Abandon, " ").await).field,
        "reason"
    );
    step(&db, &v, &k, &m2, MatchStep::Abandon, "家属已安排")
        .await
        .unwrap();

    // Executed on the Saturday: the service record names the volunteer; completed meets the need.
    let saturday = viewer("430202", SATURDAY);
    step(&db, &saturday, &k, &m1, MatchStep::Execute, "")
        .await
        .unwrap();
    step(&db, &saturday, &k, &m1, MatchStep::Complete, "")
        .await
        .unwrap();
    let mut c = db.read().await.unwrap();
    let m = mm::get(&mut c, &v.scope, &m1).await.unwrap();
    assert_eq!(m.state, MatchState::Completed);
    assert_eq!(m.score, 100);
    assert_eq!(m.reasons().first().unwrap().key, "match.why.distance_0");
    let sid = m.service_id.clone().unwrap();
    let (kind, domain, vol, served): (String, String, Option<String>, String) =
        Sql::new("SELECT kind, domain, volunteer_id, served_on FROM services WHERE id = ")
            .bind(sid.as_str())
            .fetch_one(&mut c)
            .await
            .unwrap();
    assert_eq!(
        (kind.as_str(), domain.as_str(), vol, served.as_str()),
        ("resource_linking", "elderly", Some(near.clone()), SATURDAY)
    );
    assert_eq!(
        nd::get(&mut c, &v.scope, &n1).await.unwrap().state,
        NeedState::Met
    );
    // Outside the township: as if it did not exist.
    let other = viewer("430202002", "2026-06-01");
    assert!(matches!(
        mm::get(&mut c, &other.scope, &m1).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        nd::get(&mut c, &other.scope, &n1).await,
        Err(StoreError::NotFound)
    ));
    drop(c);
    assert_eq!(
        invalid(
            propose(
                &db,
                &other,
                &n3.id,
                ResourceKind::Volunteer,
                &other_town,
                ""
            )
            .await
        )
        .field,
        "need_id"
    );
});

async fn goods_fund(db: &Db, stock: i64) -> String {
    let mut tx = db.begin().await.unwrap();
    Sql::new("INSERT INTO charity_funds (id, region_code, name, host_name, host_uscc, host_public_fundraising, purpose, residual_rule, starts_on, created_by, created_at, updated_at) VALUES ('f1', ")
        .bind(TOWN).push(", '幸福社区慈善基金', '株洲市慈善会', '51430200MJJ000000X', 1, '助困', '转入同类基金', '2026-01-01', 'test', ").bind(NOW).push(", ").bind(NOW).push(")")
        .execute(&mut tx).await.unwrap();
    Sql::new("INSERT INTO charity_stock_moves (id, fund_id, region_code, item, unit, kind, delta, moved_on, created_by, created_at) VALUES ('s1', 'f1', ")
        .bind(TOWN).push(", '大米', '袋', 'receipt', ").bind(stock).push(", '2026-05-01', 'test', ").bind(NOW).push(")")
        .execute(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
    "f1".into()
}

db_test!(
    goods_match_issues_stock_and_the_lists_are_approved_by_the_township,
    |db| {
        let k = super::volunteers::keys();
        resident(&db, "r1").await;
        let fund = goods_fund(&db, 5).await;
        let v = viewer(TOWN, "2026-06-01");
        let mut rice = need("r1", HelpKind::Goods, "2026-06-01");
        rice.title = "家中缺粮，需要大米".into();
        rice.day_part = None;
        rice.quantity = 0;
        assert_eq!(invalid(register(&db, &v, &rice).await).field, "quantity");
        rice.quantity = 6;
        let too_much = register(&db, &v, &rice).await.unwrap();
        rice.quantity = 2;
        let n = register(&db, &v, &rice).await.unwrap();
        let mut c = db.read().await.unwrap();
        // Six bags asked, five in stock: left out as exhausted.
        let big = nd::get(&mut c, &v.scope, &too_much).await.unwrap();
        let p = resources::propose(&mut c, &v, &big).await.unwrap();
        assert!(p.candidates.is_empty());
        assert_eq!(p.excluded, [("exhausted", 1)]);
        let small = nd::get(&mut c, &v.scope, &n).await.unwrap();
        let p = resources::propose(&mut c, &v, &small).await.unwrap();
        let best = p.candidates.first().unwrap();
        assert_eq!(
            (
                best.resource.kind,
                best.resource.item.as_str(),
                best.resource.remaining
            ),
            (ResourceKind::Goods, "大米", Some(5))
        );
        assert!(best.reasons.contains(&Reason {
            key: "match.why.described_goods".into(),
            arg: "大米".into()
        }));
        drop(c);
        let m = propose(&db, &v, &n, ResourceKind::Goods, &fund, "大米")
            .await
            .unwrap();
        step(&db, &v, &k, &m, MatchStep::Confirm, "").await.unwrap();
        step(&db, &v, &k, &m, MatchStep::Execute, "").await.unwrap();
        assert_eq!(
            count(
                &db,
                "SELECT CAST(SUM(delta) AS BIGINT) FROM charity_stock_moves WHERE item = '大米'"
            )
            .await,
            3
        );
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM services WHERE kind = 'resource_linking'"
            )
            .await,
            1
        );

        // The lists of the month, from the records.
        let town = code(TOWN);
        let mut c = db.read().await.unwrap();
        let l = lists::generate(&mut c, &v.scope, &town, "2026-06", "2026-06-01").await;
        // The needs were registered at NOW (2026-05-28 in China): the May lists hold them.
        let may = lists::generate(&mut c, &v.scope, &town, "2026-05", "2026-06-01")
            .await
            .unwrap();
        drop(c);
        let june = l.unwrap();
        assert!(june.needs.is_empty());
        assert_eq!(may.needs.len(), 2);
        assert!(
            may.needs
                .iter()
                .all(|n| n.help_kind == "goods" && !n.title.contains("王"))
        );
        assert_eq!(june.services.len(), 1);
        let line = june.services.first().unwrap();
        assert_eq!((line.records, line.matched, line.person_times), (1, 1, 1));
        assert!(
            june.resources
                .iter()
                .any(|r| r.kind == "goods" && r.remaining == Some(3))
        );
        // Approval: by the township, for a month that is over.
        let july = NOW + 40 * 86_400_000;
        let approve = |scope_code: &'static str, period: &'static str, at: i64| {
            let db = db.clone();
            let town = town.clone();
            async move {
                let mut tx = db.begin().await.unwrap();
                let r =
                    lists::approve(&mut tx, &scope(scope_code), &town, period, ("approver", at))
                        .await;
                tx.commit().await.unwrap();
                r
            }
        };
        assert_eq!(
            invalid(approve(TOWN, "2026-06", NOW + 86_400_000).await).code,
            "list.period_open"
        );
        let mut tx = db.begin().await.unwrap();
        let e = lists::approve(
            &mut tx,
            &scope("430202001001"),
            &code("430202001001"),
            "2026-05",
            ("x", july),
        )
        .await;
        drop(tx);
        assert_eq!(invalid(e).code, "list.township_approves");
        let digest = approve("430202", "2026-05", july).await.unwrap();
        let mut c = db.read().await.unwrap();
        let a = lists::approval(&mut c, &v.scope, &town, "2026-05")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (a.digest.as_str(), a.needs, a.approved_by.as_str()),
            (digest.as_str(), 2, "approver")
        );
        let snap = lists::approved_snapshot(&mut c, &v.scope, &town, "2026-05")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(snap.digest(), digest);
        // Another township's reader sees no lists of this one.
        assert!(matches!(
            lists::generate(&mut c, &scope("430202002"), &town, "2026-05", "2026-06-01").await,
            Err(StoreError::NotFound)
        ));
    }
);
