//! Maintained aggregates equal a full recomputation after randomised writes, corrections and
//! deletes, on both databases; folding (PostgreSQL) changes nothing a reader sees.

use chrono::NaiveDate;
use shegong_domain::network::station::{FundingSource, Status};
use shegong_domain::people::VisitMethod;
use shegong_domain::people::identity::IdType;
use shegong_domain::people::{ResidentStatus, RiskTier};
use shegong_domain::workforce::{CertLevel, Education, Employment, Sector, StaffRole};
use shegong_store::crypto::{Algorithm, KeyRing};
use shegong_store::network::stations;
use shegong_store::people::duplicates;
use shegong_store::people::households::{self, MembershipInput};
use shegong_store::people::residents::{self, ResidentInput, Viewer};
use shegong_store::people::services::{self, Correction, ServiceInput};
use shegong_store::people::visit_rules;
use shegong_store::statistics::counters::{self, Dim, Regions};
use shegong_store::workforce::staff::{self, NewCertificate, StaffInput};

use super::*;

const NOW: i64 = 1_780_000_000_000;

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

const TOWNSHIPS: [&str; 3] = ["430202001", "430202002", "430203001"];
const CATEGORIES: [&str; 4] = ["dibao", "tekun", "elder_alone", "left_behind_child"];
const KINDS: [&str; 4] = ["casework", "visit", "psychological", "resource_linking"];
const ROLES: [&str; 3] = ["station_head", "frontline", "supervisor"];
const LEVELS: [&str; 3] = ["assistant", "intermediate", "senior"];

/// A valid resident identity number for the n-th staff member.
fn id_number(n: u64) -> String {
    let first17 = format!("43020219800101{:03}", n % 1000);
    let check = shegong_domain::people::identity::check_character(&first17).unwrap();
    format!("{first17}{check}")
}

fn staff_input(rng: &mut Rng, n: u64, stations: &[String]) -> StaffInput {
    let station = (rng.next(3) > 0).then(|| stations[rng.next(3) as usize].clone());
    StaffInput {
        name: format!("社工{n}"),
        id_type: IdType::ResidentId,
        id_number: id_number(n),
        sex: None,
        birth_date: None,
        mobile: None,
        education: Education::Unknown,
        major: String::new(),
        employer_org_id: None,
        region: station
            .is_none()
            .then(|| code(TOWNSHIPS[rng.next(3) as usize])),
        station_id: station,
        role: StaffRole::parse(ROLES[rng.next(3) as usize]).unwrap(),
        employment_mode: Employment::Direct,
        sector: Sector::CivilAffairs,
        joined_on: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
        left_on: (rng.next(6) == 0).then(|| NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()),
        left_reason: String::new(),
    }
}

db_test!(
    aggregates_equal_a_recomputation_after_random_changes,
    |db| {
        let keys = KeyRing::from_spec(&KeyRing::generate_spec(Algorithm::Aes256Gcm)).unwrap();
        let v = Viewer {
            scope: Scope::national(),
            user_id: "tester".into(),
            sees_protected: true,
            today: NaiveDate::from_ymd_opt(2026, 6, 30).unwrap(),
        };
        let mut rng = Rng(7);
        let mut people: Vec<String> = Vec::new();
        let mut records: Vec<String> = Vec::new();
        let national = Scope::national();
        let mut station_ids = Vec::new();
        for (i, t) in TOWNSHIPS.iter().enumerate() {
            let input = crate::stations::input(t, &format!("站{i}"), Status::Operating, None);
            station_ids.push(crate::stations::station(&db, "", &input).await);
        }
        let mut workers: Vec<(String, StaffInput)> = Vec::new();
        for step in 0..360 {
            let mut tx = db.begin().await.unwrap();
            match rng.next(15) {
                0 | 1 => {
                    let input = ResidentInput {
                        region: Some(code(TOWNSHIPS[rng.next(3) as usize])),
                        name: format!("测试{step}"),
                        birth_date: format!(
                            "19{}-0{}-1{}",
                            40 + rng.next(50),
                            1 + rng.next(9),
                            rng.next(9)
                        ),
                        risk_tier: ["high", "key", "general"][rng.next(3) as usize].into(),
                        legal_basis: "statutory_duty".into(),
                        registered_on: "2026-01-01".into(),
                        ..Default::default()
                    };
                    people.push(
                        residents::create(&mut tx, &v, &keys, &input, "t", NOW)
                            .await
                            .unwrap(),
                    );
                }
                2..=4 if !people.is_empty() => {
                    let who = people[rng.next(people.len() as u64) as usize].clone();
                    let kind = KINDS[rng.next(4) as usize];
                    let s = ServiceInput {
                        kind: kind.into(),
                        domain: ["elderly", "children", "social_assistance"][rng.next(3) as usize]
                            .into(),
                        resident_id: Some(who),
                        served_on: format!("2026-0{}-{:02}", 1 + rng.next(6), 1 + rng.next(28)),
                        duration_minutes: 10 + rng.next(100) as i64,
                        person_times: 1 + rng.next(3) as i64,
                        method: (kind == "visit").then(|| "home".into()),
                        value_fen: if kind == "resource_linking" {
                            rng.next(100_000) as i64
                        } else {
                            0
                        },
                        workers: "甲".into(),
                        ..Default::default()
                    };
                    // Records of merged or moved-out people are refused; that is fine here.
                    if let Ok(id) = services::create(&mut tx, &v, &keys, &s, "t", NOW).await {
                        records.push(id);
                    }
                }
                5 if !records.is_empty() => {
                    let id = records.swap_remove(rng.next(records.len() as u64) as usize);
                    services::delete(&mut tx, &v, &id).await.unwrap();
                }
                6 if !records.is_empty() => {
                    let id = records[rng.next(records.len() as u64) as usize].clone();
                    let c = Correction {
                        served_on: format!("2026-0{}-15", 1 + rng.next(6)),
                        duration_minutes: 5 + rng.next(60) as i64,
                        person_times: 1 + rng.next(5) as i64,
                        value_fen: rng.next(1000) as i64,
                    };
                    services::correct(&mut tx, &v, &id, &c).await.unwrap();
                }
                7 if !people.is_empty() => {
                    let who = people[rng.next(people.len() as u64) as usize].clone();
                    let m = MembershipInput {
                        category: CATEGORIES[rng.next(4) as usize].into(),
                        disability_category: None,
                        disability_grade: None,
                        source: String::new(),
                        evidence: String::new(),
                        valid_from: "2026-01-01".into(),
                        valid_to: None,
                        verified_by: String::new(),
                    };
                    let _ = households::add_membership(&mut tx, &v, &who, &m, "t", NOW).await;
                    // End one of that person's memberships now and then.
                    if rng.next(3) == 0 {
                        let held = households::memberships_of(&mut tx, &v, &[who.as_str()])
                            .await
                            .unwrap();
                        if let Some(h) = held.iter().find(|h| h.valid_to.is_none()) {
                            households::end_membership(&mut tx, &v, &who, &h.id, "2026-06-01")
                                .await
                                .unwrap();
                        }
                    }
                }
                8 if !people.is_empty() => {
                    let who = people[rng.next(people.len() as u64) as usize].clone();
                    let tier =
                        [RiskTier::High, RiskTier::Key, RiskTier::General][rng.next(3) as usize];
                    residents::set_tier(&mut tx, &v, &who, tier, "复评", "t", NOW)
                        .await
                        .unwrap();
                    if rng.next(4) == 0 {
                        let _ = residents::set_status(
                            &mut tx,
                            &v,
                            &who,
                            [ResidentStatus::MovedOut, ResidentStatus::Active]
                                [rng.next(2) as usize],
                            NOW,
                        )
                        .await;
                    }
                }
                9 if people.len() > 2 => {
                    let a = people[rng.next(people.len() as u64) as usize].clone();
                    let b = people[rng.next(people.len() as u64) as usize].clone();
                    let _ = duplicates::merge(&mut tx, &v, &a, &b, NOW).await;
                }
                10 => {
                    let input = staff_input(&mut rng, step, &station_ids);
                    let id = staff::create(&mut tx, &national, &keys, &input, NOW)
                        .await
                        .unwrap();
                    workers.push((id, input));
                }
                11 if !workers.is_empty() => {
                    // A new role, station or work region, or leaving.
                    let i = rng.next(workers.len() as u64) as usize;
                    let (id, old) = workers[i].clone();
                    let input = StaffInput {
                        id_number: old.id_number.clone(),
                        name: old.name.clone(),
                        ..staff_input(&mut rng, step, &station_ids)
                    };
                    staff::update(&mut tx, &national, &keys, &id, &input, "2026-06-30", NOW)
                        .await
                        .unwrap();
                    workers[i].1 = input;
                }
                12 if !workers.is_empty() => {
                    let (id, _) = &workers[rng.next(workers.len() as u64) as usize];
                    let c = NewCertificate {
                        level: CertLevel::parse(LEVELS[rng.next(3) as usize]).unwrap(),
                        number: "S2024001",
                        obtained_on: NaiveDate::from_ymd_opt(2024, 6, 1).unwrap(),
                        registered_until: None,
                    };
                    // The same level twice is refused; that is fine here.
                    let _ = staff::add_certificate(&mut tx, &national, id, &c, NOW).await;
                }
                13 => {
                    let sid = &station_ids[rng.next(3) as usize];
                    let source = ["purchase", "township", "welfare_lottery"][rng.next(3) as usize];
                    stations::set_funding(
                        &mut tx,
                        &national,
                        sid,
                        2025 + rng.next(2) as i64,
                        FundingSource::parse(source).unwrap(),
                        [0, 5_000_000, 12_000_000][rng.next(3) as usize],
                        NOW,
                    )
                    .await
                    .unwrap();
                    // Now and then a station moves to another township, its staff and funding with it.
                    if rng.next(4) == 0 {
                        let to = TOWNSHIPS[rng.next(3) as usize];
                        let input = crate::stations::input(
                            to,
                            &format!("站{step}"),
                            Status::Operating,
                            None,
                        );
                        let _ = stations::update(
                            &mut tx,
                            &national,
                            sid,
                            &input,
                            "t",
                            "2026-06-30",
                            NOW,
                        )
                        .await;
                    }
                }
                14 => {
                    // A stricter or looser visit rule re-schedules the people it applies to.
                    let tier =
                        [RiskTier::High, RiskTier::Key, RiskTier::General][rng.next(3) as usize];
                    visit_rules::set_rule(
                        &mut tx,
                        &national,
                        &code(TOWNSHIPS[rng.next(3) as usize]),
                        tier,
                        "",
                        [7, 14, 60][rng.next(3) as usize],
                        &[VisitMethod::Home],
                        "t",
                        NOW,
                    )
                    .await
                    .unwrap();
                }
                _ => {}
            }
            tx.commit().await.unwrap();
            if step % 60 == 59 {
                counters::fold(&db).await.unwrap();
            }
        }
        let mut c = db.read().await.unwrap();
        let diff = counters::verify(&mut c).await.unwrap();
        assert!(
            diff.is_empty(),
            "{} differences, first {:?}",
            diff.len(),
            diff.first()
        );
        // Last, visits alone (no rule, tier or category change after them re-schedules anyone).
        let mut tx = db.begin().await.unwrap();
        for i in 0..40 {
            let who = people[rng.next(people.len() as u64) as usize].clone();
            let mut s = ServiceInput {
                kind: "visit".into(),
                domain: "elderly".into(),
                resident_id: Some(who),
                served_on: format!("2026-0{}-{:02}", 1 + rng.next(6), 1 + rng.next(28)),
                duration_minutes: 30,
                method: Some("home".into()),
                workers: "甲".into(),
                ..Default::default()
            };
            if i % 4 == 0 {
                s.participants = vec![people[rng.next(people.len() as u64) as usize].clone()];
            }
            let _ = services::create(&mut tx, &v, &keys, &s, "t", NOW).await;
        }
        tx.commit().await.unwrap();
        let mut c = db.read().await.unwrap();
        assert!(counters::verify(&mut c).await.unwrap().is_empty());
        // Every schedule a visit moved by the short path (`visit_rules::visit_recorded`) is what
        // a full recomputation makes of it (those no longer on file are no longer scheduled:
        // rules do not re-schedule them).
        drop(c);
        let schedules = "SELECT id, status, COALESCE(last_visit_on, ''), visit_interval_days, next_visit_due FROM residents WHERE status = 'active' ORDER BY id";
        let mut c = db.read().await.unwrap();
        let kept: Vec<(String, String, String, i64, String)> =
            shegong_store::sql::Sql::new(schedules)
                .fetch_all(&mut c)
                .await
                .unwrap();
        drop(c);
        let mut tx = db.begin().await.unwrap();
        for (id, ..) in &kept {
            visit_rules::reschedule(&mut tx, id).await.unwrap();
        }
        let recomputed: Vec<(String, String, String, i64, String)> =
            shegong_store::sql::Sql::new(schedules)
                .fetch_all(&mut tx)
                .await
                .unwrap();
        tx.rollback().await.unwrap();
        let differ: Vec<_> = kept
            .iter()
            .zip(&recomputed)
            .filter(|(a, b)| a != b)
            .collect();
        assert!(
            kept.len() > 10 && differ.is_empty(),
            "{} of {}: {differ:?}",
            differ.len(),
            kept.len()
        );
        let mut c = db.read().await.unwrap();
        // The figures read are the recomputed ones, before and after folding.
        let before = counters::read(
            &mut c,
            &Scope::national(),
            Regions::ChildrenOf("4302"),
            Dim::Kind,
            "2026-01",
            "2026-12",
        )
        .await
        .unwrap();
        assert!(!before.is_empty());
        drop(c);
        counters::fold(&db).await.unwrap();
        let mut c = db.read().await.unwrap();
        let after = counters::read(
            &mut c,
            &Scope::national(),
            Regions::ChildrenOf("4302"),
            Dim::Kind,
            "2026-01",
            "2026-12",
        )
        .await
        .unwrap();
        assert_eq!(format!("{before:?}"), format!("{after:?}"));
        assert!(counters::verify(&mut c).await.unwrap().is_empty());
        // A counter damaged by hand is found, and rebuild repairs it.
        drop(c);
        let mut tx = db.begin().await.unwrap();
        shegong_store::sql::Sql::new("UPDATE stat_counts SET n = n + 5 WHERE region_code = '4302' AND dim = 'kind' AND key = 'visit'")
        .execute(&mut tx)
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let mut c = db.read().await.unwrap();
        let found = counters::verify(&mut c).await.unwrap();
        assert!(
            !found.is_empty()
                && found
                    .iter()
                    .all(|(k, _, _)| k.region_code == "4302" && k.key == "visit")
        );
        drop(c);
        counters::rebuild(&db).await.unwrap();
        let mut c = db.read().await.unwrap();
        assert!(counters::verify(&mut c).await.unwrap().is_empty());
        let country = counters::read(
            &mut c,
            &Scope::national(),
            Regions::One(""),
            Dim::Tier,
            "",
            "",
        )
        .await
        .unwrap();
        let active =
            shegong_store::sql::Sql::new("SELECT COUNT(*) FROM residents WHERE status = 'active'")
                .fetch_i64(&mut c)
                .await
                .unwrap();
        assert_eq!(country.iter().map(|r| r.n).sum::<i64>(), active);
        // Every dimension was exercised (a test that counts nothing cannot fail).
        for dim in [
            "due",
            "elderly_visit",
            "staff_role",
            "staff_cert",
            "funding",
        ] {
            let n = shegong_store::sql::Sql::new("SELECT COUNT(*) FROM stat_counts WHERE dim = ")
                .bind(dim)
                .fetch_i64(&mut c)
                .await
                .unwrap();
            assert!(n > 0, "no counters of {dim}");
        }
    }
);
