//! Deliverables of contract lines (issue 14 item 3): the kept tallies equal a recomputation
//! from the raw service records after random writes, on both databases; each qualifying rule
//! counts what it says; pace follows the elapsed term; a contract outside the scope is not found.

#[allow(unused_imports)]
use super::*;

use chrono::NaiveDate;
use shegong_domain::money::Fen;
use shegong_domain::network::station::Status;
use shegong_domain::people::ServiceKind;
use shegong_domain::purchase::contract::{
    ContractLine, ContractState, LineTier, ProcurementMethod, QualifyingRule, Term,
};
use shegong_domain::purchase::instalment::{PaymentPlan, PlannedInstalment, Portion, Trigger};
use shegong_store::crypto::{Algorithm, KeyRing};
use shegong_store::people::residents::{self, ResidentInput, Viewer};
use shegong_store::people::services::{self, Correction, ServiceInput};
use shegong_store::purchase::contracts::{self, ContractInput};
use shegong_store::purchase::deliverables::{self, LineDelivery};
use shegong_store::sql::Sql;
use shegong_store::{StoreError, new_id};

use super::stations::{agency, input, station};

const NOW: i64 = 1_780_000_000_000;
const COUNTY: &str = "430202";

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn line(
    kind: Option<ServiceKind>,
    content: &str,
    quantity: i64,
    rule: QualifyingRule,
) -> ContractLine {
    ContractLine {
        service_kind: kind,
        content: content.into(),
        unit: "个".into(),
        unit_price: Fen(1_000),
        quantity,
        rule,
        // Groups and casework are the core of the contract, the rest basic.
        tier: match kind {
            Some(ServiceKind::Group | ServiceKind::Casework) => LineTier::Core,
            _ => LineTier::Basic,
        },
    }
}

/// The lines every test contract has, in this order (seq 1–6).
fn lines() -> Vec<ContractLine> {
    vec![
        line(
            Some(ServiceKind::Group),
            "小组",
            4,
            QualifyingRule::Group {
                min_sessions: 3,
                min_person_times: 10,
            },
        ),
        line(
            Some(ServiceKind::Community),
            "社区活动",
            2,
            QualifyingRule::Activity {
                min_participants: 20,
            },
        ),
        line(
            Some(ServiceKind::Visit),
            "探访",
            100,
            QualifyingRule::PersonTimes,
        ),
        line(
            Some(ServiceKind::Casework),
            "个案服务",
            40,
            QualifyingRule::Each,
        ),
        line(
            Some(ServiceKind::Casework),
            "结案个案",
            3,
            QualifyingRule::ClosedCase { min_follow_ups: 2 },
        ),
        line(None, "督导", 12, QualifyingRule::Each),
    ]
}

fn contract(
    number: &str,
    provider: &str,
    stations: Vec<String>,
    term: (&str, &str),
) -> ContractInput {
    ContractInput {
        region: code(COUNTY),
        number: number.into(),
        title: "社工站项目".into(),
        purchaser_org_id: None,
        provider_org_id: provider.into(),
        amount: Fen(100_000),
        term: Term::new(d(term.0), d(term.1)).unwrap(),
        method: ProcurementMethod::PublicTender,
        renewal_of: None,
        catalogue_item_id: None,
        reduction_rule: None,
        stations,
        lines: lines(),
        budget: vec![],
        plan: PaymentPlan::new(
            Fen(100_000),
            vec![PlannedInstalment {
                portion: Portion::Share(10_000),
                trigger: Trigger::Date { on: d(term.0) },
            }],
        )
        .unwrap(),
    }
}

fn keys() -> KeyRing {
    KeyRing::from_spec(&KeyRing::generate_spec(Algorithm::Aes256Gcm)).unwrap()
}

fn viewer() -> Viewer {
    Viewer {
        scope: Scope::national(),
        user_id: "tester".into(),
        sees_protected: true,
        today: d("2026-12-01"),
    }
}

/// The world of a test: an agency, three stations of the county (the first two run by the
/// contract), a resident at each station and the contract; (stations, residents, contract id).
struct World {
    provider: String,
    stations: Vec<String>,
    people: Vec<String>,
    contract: String,
}

async fn world(db: &Db) -> World {
    let provider = agency(db, "阳光社工", COUNTY).await;
    let mut stations = Vec::new();
    for (i, t) in ["430202001", "430202002", "430202003"].iter().enumerate() {
        let inp = input(t, &format!("{i}号站"), Status::Operating, Some(&provider));
        stations.push(station(db, COUNTY, &inp).await);
    }
    let keys = keys();
    let v = viewer();
    let mut tx = db.begin().await.unwrap();
    let mut people = Vec::new();
    for (i, st) in stations.iter().enumerate() {
        let r = ResidentInput {
            region: Some(code(["430202001", "430202002", "430202003"][i])),
            name: format!("居民{i}"),
            birth_date: "1950-03-01".into(),
            risk_tier: "general".into(),
            legal_basis: "statutory_duty".into(),
            registered_on: "2025-01-01".into(),
            station_id: Some(st.clone()),
            ..Default::default()
        };
        people.push(
            residents::create(&mut tx, &v, &keys, &r, "t", NOW)
                .await
                .unwrap(),
        );
    }
    let contract = contracts::create(
        &mut tx,
        &scope(COUNTY),
        &contract(
            "D-1",
            &provider,
            stations[..2].to_vec(),
            ("2025-06-01", "2026-05-31"),
        ),
        "tester",
        NOW,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    World {
        provider,
        stations,
        people,
        contract,
    }
}

/// A case of resident `who` at `station`, written as the case pages would leave it.
async fn case(db: &Db, who: &str, station: &str, closed_on: Option<&str>) -> String {
    let id = new_id();
    let mut tx = db.begin().await.unwrap();
    let region: (String,) = Sql::new("SELECT region_code FROM residents WHERE id = ")
        .bind(who)
        .fetch_one(&mut tx)
        .await
        .unwrap();
    Sql::new("INSERT INTO cases (id, resident_id, region_code, station_id, stage, problem, opened_on, closed_on, created_by, created_at, updated_at) VALUES (")
        .bind(id.as_str()).push(", ").bind(who).push(", ").bind(region.0).push(", ").bind(station).push(", ")
        .bind(if closed_on.is_some() { "closed" } else { "intervention" }).push(", '困难', '2025-05-01', ")
        .bind(closed_on).push(", 't', ").bind(NOW).push(", ").bind(NOW).push(")")
        .execute(&mut tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

async fn close_case(db: &Db, id: &str, closed_on: Option<&str>) {
    let mut tx = db.begin().await.unwrap();
    Sql::new("UPDATE cases SET stage = ")
        .bind(if closed_on.is_some() {
            "closed"
        } else {
            "assessment"
        })
        .push(", closed_on = ")
        .bind(closed_on)
        .push(" WHERE id = ")
        .bind(id)
        .execute(&mut tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// A record of `kind` at `station` (about `who` for the kinds that need a person).
fn record(
    kind: &str,
    station: &str,
    who: &str,
    on: &str,
    title: &str,
    person_times: i64,
) -> ServiceInput {
    let personal = matches!(kind, "casework" | "visit" | "crisis");
    ServiceInput {
        kind: kind.into(),
        domain: "social_assistance".into(),
        station_id: Some(station.into()),
        resident_id: personal.then(|| who.into()),
        title: title.into(),
        served_on: on.into(),
        duration_minutes: 60,
        person_times,
        method: (kind == "visit").then(|| "home".into()),
        workers: "甲".into(),
        ..Default::default()
    }
}

async fn add(db: &Db, s: &ServiceInput) -> String {
    let mut tx = db.begin().await.unwrap();
    let id = services::create(&mut tx, &viewer(), &keys(), s, "t", NOW)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

async fn read(db: &Db, scope: &Scope, id: &str, today: &str) -> Vec<LineDelivery> {
    let mut c = db.read().await.unwrap();
    deliverables::for_contract(&mut c, scope, id, d(today))
        .await
        .unwrap()
}

fn delivered(lines: &[LineDelivery]) -> Vec<Option<i64>> {
    lines.iter().map(|l| l.delivered).collect()
}

async fn assert_verified(db: &Db, id: &str) {
    let mut c = db.read().await.unwrap();
    let diffs = deliverables::verify(&mut c, id).await.unwrap();
    assert!(diffs.is_empty(), "{diffs:#?}");
}

struct Rng(u64);

impl Rng {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n.max(1)
    }
}

db_test!(
    deliverables_equal_a_recomputation_after_random_writes,
    |db| {
        let w = world(&db).await;
        // A second contract over stations 2 and 3 with another term, so records count for one, both
        // or neither.
        let mut tx = db.begin().await.unwrap();
        let other = contracts::create(
            &mut tx,
            &scope(COUNTY),
            &contract(
                "D-2",
                &w.provider,
                w.stations[1..].to_vec(),
                ("2026-01-01", "2026-10-31"),
            ),
            "tester",
            NOW,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let mut cases = Vec::new();
        for (i, st) in w.stations.iter().enumerate() {
            for closed in [None, Some("2025-09-30"), Some("2026-08-01")] {
                cases.push(case(&db, &w.people[i], st, closed).await);
            }
        }
        let (keys, v) = (keys(), viewer());
        let mut rng = Rng(11);
        let mut records: Vec<String> = Vec::new();
        let kinds = ["group", "community", "visit", "casework", "psychological"];
        let titles = ["亲子小组", "长者小组", ""];
        for _ in 0..300 {
            let mut tx = db.begin().await.unwrap();
            match rng.next(10) {
                0..=5 => {
                    let i = rng.next(3) as usize;
                    let kind = kinds[rng.next(5) as usize];
                    let year = 2025 + rng.next(2);
                    let on = format!("{year}-{:02}-{:02}", 1 + rng.next(11), 1 + rng.next(28));
                    let mut s = record(
                        kind,
                        &w.stations[i],
                        &w.people[i],
                        &on,
                        titles[rng.next(3) as usize],
                        1 + rng.next(30) as i64,
                    );
                    if kind == "casework" && rng.next(3) > 0 {
                        s.resident_id = None;
                        s.case_id = Some(cases[i * 3 + rng.next(3) as usize].clone());
                    }
                    records.push(
                        services::create(&mut tx, &v, &keys, &s, "t", NOW)
                            .await
                            .unwrap(),
                    );
                }
                6 | 7 if !records.is_empty() => {
                    let id = records.swap_remove(rng.next(records.len() as u64) as usize);
                    services::delete(&mut tx, &v, &id).await.unwrap();
                }
                8 | 9 if !records.is_empty() => {
                    let id = records[rng.next(records.len() as u64) as usize].clone();
                    let c = Correction {
                        served_on: format!("202{}-{:02}-15", 5 + rng.next(2), 1 + rng.next(11)),
                        duration_minutes: 30,
                        person_times: 1 + rng.next(30) as i64,
                        value_fen: 0,
                    };
                    services::correct(&mut tx, &v, &id, &c).await.unwrap();
                }
                _ => {}
            }
            tx.commit().await.unwrap();
        }
        assert_verified(&db, &w.contract).await;
        assert_verified(&db, &other).await;
        let mut c = db.read().await.unwrap();
        assert!(deliverables::verify_all(&mut c).await.unwrap().is_empty());
        // Something was counted on every counted line of the first contract.
        let lines = read(&db, &scope(COUNTY), &w.contract, "2026-01-01").await;
        for i in [0, 2, 3] {
            assert!(lines[i].delivered.unwrap() > 0, "{:?}", lines[i]);
        }
        assert_eq!(lines[5].delivered, None);
        // A rebuild finds the same rows the writes kept.
        let kept = deliverables::tallies(&mut c, &w.contract).await.unwrap();
        drop(c);
        let mut tx = db.begin().await.unwrap();
        deliverables::rebuild_contract(&mut tx, &w.contract)
            .await
            .unwrap();
        assert_eq!(
            deliverables::tallies(&mut tx, &w.contract).await.unwrap(),
            kept
        );
        tx.commit().await.unwrap();
    }
);

db_test!(each_rule_counts_what_it_says, |db| {
    let w = world(&db).await;
    let (a, b, outside) = (&w.stations[0], &w.stations[1], &w.stations[2]);
    let (pa, pb) = (&w.people[0], &w.people[1]);
    // Records kept before the contract was written count too: this one lies in the term.
    let early = add(&db, &record("group", a, pa, "2025-06-01", "亲子小组", 4)).await;
    let mut tx = db.begin().await.unwrap();
    let id = contracts::create(
        &mut tx,
        &scope(COUNTY),
        &contract(
            "D-3",
            &w.provider,
            vec![a.clone(), b.clone()],
            ("2025-06-01", "2026-05-31"),
        ),
        "tester",
        NOW,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        delivered(&read(&db, &scope(COUNTY), &id, "2025-06-01").await),
        [Some(0), Some(0), Some(0), Some(0), Some(0), None]
    );
    // Group: ≥ 3 sessions and ≥ 10 person-times, sessions of one title at one station.
    add(&db, &record("group", a, pa, "2025-07-01", "亲子小组", 3)).await;
    let third = add(&db, &record("group", a, pa, "2025-08-01", "亲子小组", 3)).await;
    // The same title at the other station, and another title: other groups, too small.
    add(&db, &record("group", b, pb, "2025-07-01", "亲子小组", 30)).await;
    add(&db, &record("group", a, pa, "2025-07-01", "长者小组", 30)).await;
    // Outside the term, at a station the contract does not run: not counted.
    add(&db, &record("group", a, pa, "2025-05-31", "长者小组", 30)).await;
    add(&db, &record("group", a, pa, "2026-06-01", "长者小组", 30)).await;
    add(
        &db,
        &record("group", outside, &w.people[2], "2025-07-01", "长者小组", 30),
    )
    .await;
    // Activity: ≥ 20 participants each.
    add(&db, &record("community", a, pa, "2025-07-01", "中秋", 25)).await;
    let small = add(&db, &record("community", b, pb, "2025-07-02", "重阳", 19)).await;
    // Person-times: summed; each: every casework record once.
    add(&db, &record("visit", a, pa, "2025-07-01", "", 1)).await;
    add(&db, &record("visit", b, pb, "2025-07-01", "", 2)).await;
    add(&db, &record("casework", a, pa, "2025-07-01", "", 1)).await;
    let lines = read(&db, &scope(COUNTY), &id, "2025-08-01").await;
    assert_eq!(
        delivered(&lines),
        [Some(1), Some(1), Some(3), Some(1), Some(0), None]
    );
    // Taking away a session drops the group below its minimum; a correction lifts the small
    // activity over its own.
    let mut tx = db.begin().await.unwrap();
    services::delete(&mut tx, &viewer(), &third).await.unwrap();
    let c = Correction {
        served_on: "2025-07-02".into(),
        duration_minutes: 60,
        person_times: 20,
        value_fen: 0,
    };
    services::correct(&mut tx, &viewer(), &small, &c)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let lines = read(&db, &scope(COUNTY), &id, "2025-08-01").await;
    assert_eq!(lines[0].delivered, Some(0));
    assert_eq!(lines[1].delivered, Some(2));
    // Moving the first session out of the term takes it away too.
    let mut tx = db.begin().await.unwrap();
    let c = Correction {
        served_on: "2025-05-01".into(),
        duration_minutes: 60,
        person_times: 4,
        value_fen: 0,
    };
    services::correct(&mut tx, &viewer(), &early, &c)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_verified(&db, &id).await;

    // Closed cases: closed within the term, at a contract station, with ≥ 2 follow-ups.
    let done = case(&db, pa, a, Some("2025-12-01")).await;
    let thin = case(&db, pb, b, Some("2025-12-01")).await;
    let late = case(&db, pa, a, Some("2026-07-01")).await;
    let open = case(&db, pa, a, None).await;
    let elsewhere = case(&db, &w.people[2], outside, Some("2025-12-01")).await;
    for (c, n) in [
        (&done, 2),
        (&thin, 1),
        (&late, 2),
        (&open, 2),
        (&elsewhere, 2),
    ] {
        for k in 0..n {
            let mut s = record("casework", a, pa, &format!("2025-1{k}-01"), "", 1);
            s.resident_id = None;
            s.case_id = Some(c.clone());
            if *c == elsewhere {
                s.station_id = Some(outside.clone());
            }
            add(&db, &s).await;
        }
    }
    let lines = read(&db, &scope(COUNTY), &id, "2025-12-01").await;
    assert_eq!(lines[4].delivered, Some(1));
    // Each counts every casework record of the contract's stations: 1 + 2 + 1 + 2 + 2.
    assert_eq!(lines[3].delivered, Some(8));
    // Closing the open case moves the count at once (read live from the case); reopening the
    // first takes it back.
    close_case(&db, &open, Some("2026-01-15")).await;
    close_case(&db, &done, None).await;
    let lines = read(&db, &scope(COUNTY), &id, "2026-01-15").await;
    assert_eq!(lines[4].delivered, Some(1));
    close_case(&db, &done, Some("2026-02-01")).await;
    assert_eq!(
        read(&db, &scope(COUNTY), &id, "2026-02-01").await[4].delivered,
        Some(2)
    );
    assert_verified(&db, &id).await;
});

db_test!(pace_follows_the_elapsed_term, |db| {
    let w = world(&db).await;
    let (a, pa) = (&w.stations[0], &w.people[0]);
    for k in 0..20 {
        add(
            &db,
            &record("visit", a, pa, &format!("2025-07-{:02}", k + 1), "", 1),
        )
        .await;
    }
    // 2025-11-30 is day 183 of 365: 50.13 % of the term has passed.
    let lines = read(&db, &scope(COUNTY), &w.contract, "2025-11-30").await;
    let visits = &lines[2];
    assert_eq!(visits.target, 100);
    assert_eq!(visits.delivered, Some(20));
    assert_eq!(visits.delivered_bp, Some(2000));
    assert_eq!(visits.elapsed_bp, 5013);
    assert_eq!(visits.expected, 50);
    assert!(visits.behind);
    // Early in the term 20 % is ahead; a line not counted from records is never behind.
    let lines = read(&db, &scope(COUNTY), &w.contract, "2025-07-20").await;
    assert!(!lines[2].behind);
    assert!(!lines[5].behind);
    assert_eq!(lines[5].delivered_bp, None);
    // Before the term nothing is expected; after it everything is.
    assert_eq!(
        read(&db, &scope(COUNTY), &w.contract, "2025-01-01").await[2].expected,
        0
    );
    assert_eq!(
        read(&db, &scope(COUNTY), &w.contract, "2027-01-01").await[2].expected,
        100
    );
});

db_test!(accepted_contracts_keep_what_was_accepted, |db| {
    let w = world(&db).await;
    let (a, pa) = (&w.stations[0], &w.people[0]);
    add(&db, &record("visit", a, pa, "2025-07-01", "", 1)).await;
    let mut tx = db.begin().await.unwrap();
    for to in [
        ContractState::InForce,
        ContractState::AwaitingAcceptance,
        ContractState::Accepted,
    ] {
        contracts::set_state(&mut tx, &scope(COUNTY), &w.contract, to, NOW)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    add(&db, &record("visit", a, pa, "2025-07-02", "", 1)).await;
    let lines = read(&db, &scope(COUNTY), &w.contract, "2026-06-01").await;
    assert_eq!(lines[2].delivered, Some(1));
});

db_test!(deliverables_are_seen_in_scope_only, |db| {
    let w = world(&db).await;
    let today = d("2025-12-01");
    let mut c = db.read().await.unwrap();
    for s in [scope("43"), scope(COUNTY)] {
        assert_eq!(
            deliverables::for_contract(&mut c, &s, &w.contract, today)
                .await
                .unwrap()
                .len(),
            6
        );
    }
    // Each line carries its tier as written.
    let tiers: Vec<LineTier> =
        deliverables::for_contract(&mut c, &scope(COUNTY), &w.contract, today)
            .await
            .unwrap()
            .iter()
            .map(|l| l.tier)
            .collect();
    use LineTier::{Basic, Core};
    assert_eq!(tiers, [Core, Basic, Basic, Core, Core, Basic]);
    let provider = Scope {
        region: None,
        org: Some(w.provider.parse().unwrap()),
    };
    deliverables::for_contract(&mut c, &provider, &w.contract, today)
        .await
        .unwrap();
    let stranger = Scope {
        region: None,
        org: Some(new_id().parse().unwrap()),
    };
    for s in [scope("430203"), stranger] {
        assert!(matches!(
            deliverables::for_contract(&mut c, &s, &w.contract, today).await,
            Err(StoreError::NotFound)
        ));
    }
    // The overview lists the contract with its counted lines.
    let page = deliverables::overview(
        &mut c,
        &scope(COUNTY),
        &contracts::Filter::default(),
        shegong_store::PageRequest::new(None, None),
        today,
    )
    .await
    .unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].counted_lines, 5);
    assert_eq!(page.items[0].delivered_bp, Some(0));
    assert_eq!(page.items[0].behind_lines, 5);
});

db_test!(past_visits_recorded_at_once_count_too, |db| {
    let w = world(&db).await;
    let v = viewer();
    let mut tx = db.begin().await.unwrap();
    let r = residents::get(&mut tx, &v, &w.people[0]).await.unwrap();
    let visits: Vec<(String, i64, shegong_domain::people::VisitMethod)> = [
        "2025-05-01",
        "2025-06-01",
        "2025-09-09",
        "2026-05-31",
        "2026-06-01",
    ]
    .iter()
    .map(|on| {
        (
            on.to_string(),
            30,
            shegong_domain::people::VisitMethod::Home,
        )
    })
    .collect();
    services::record_past_visits(&mut tx, &v, &r, &visits, "甲", "t", NOW)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    // Three of the five lie within the term.
    let lines = read(&db, &scope(COUNTY), &w.contract, "2026-01-01").await;
    assert_eq!(lines[2].delivered, Some(3));
    assert_verified(&db, &w.contract).await;
});

db_test!(concurrent_writers_keep_the_tallies_exact, |db| {
    let w = world(&db).await;
    let mut handles = Vec::new();
    for t in 0..4u64 {
        let db = db.db.clone();
        let (st, who) = (w.stations[0].clone(), w.people[0].clone());
        handles.push(tokio::spawn(async move {
            let (keys, v) = (keys(), viewer());
            let mut rng = Rng(t + 1);
            let mut mine: Vec<String> = Vec::new();
            for k in 0..15 {
                let mut tx = db.begin().await.unwrap();
                if k % 4 == 3 {
                    let id = mine.swap_remove(rng.next(mine.len() as u64) as usize);
                    services::delete(&mut tx, &v, &id).await.unwrap();
                } else {
                    let kind = ["group", "community", "visit"][rng.next(3) as usize];
                    let on = format!("2025-{:02}-{:02}", 6 + rng.next(6), 1 + rng.next(28));
                    let s = record(kind, &st, &who, &on, "亲子小组", 1 + rng.next(30) as i64);
                    mine.push(
                        services::create(&mut tx, &v, &keys, &s, "t", NOW)
                            .await
                            .unwrap(),
                    );
                }
                tx.commit().await.unwrap();
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    assert_verified(&db, &w.contract).await;
    let lines = read(&db, &scope(COUNTY), &w.contract, "2026-01-01").await;
    assert!(lines[2].delivered.unwrap() > 0);
});
