//! The list reads of issue 20 item 2: the residents page's count of the files the protection
//! rule hides from a viewer, counted from the restricted files alone, must be the number of
//! matches less the matches the viewer sees, for every filter; and the planner statistics
//! refresh of housekeeping runs on both databases.

use chrono::NaiveDate;
use shegong_store::PageRequest;
use shegong_store::crypto::{Algorithm, KeyRing};
use shegong_store::people::cases::{self, Actor, OpenCase};
use shegong_store::people::residents::{self, Filter, ResidentInput, Viewer};

use super::*;

const NOW: i64 = 1_780_000_000_000;

fn viewer(region: &str, user: &str, sees_protected: bool) -> Viewer {
    Viewer {
        scope: scope(region),
        user_id: user.into(),
        sees_protected,
        today: NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
    }
}

fn person(region: &str, name: &str, birth: &str, tier: &str) -> ResidentInput {
    ResidentInput {
        region: Some(code(region)),
        name: name.into(),
        birth_date: birth.into(),
        risk_tier: tier.into(),
        legal_basis: "statutory_duty".into(),
        registered_on: "2026-01-01".into(),
        ..Default::default()
    }
}

/// Matches of `f` for everyone in the scope, less the matches `v` sees (both exact here).
async fn seen_gap(db: &Db, v: &Viewer, f: &Filter) -> i64 {
    let everyone = Viewer {
        sees_protected: true,
        ..v.clone()
    };
    let mut c = db.read().await.unwrap();
    let page = PageRequest::new(Some(1), Some(200));
    let all = residents::list(&mut c, &everyone, f, page).await.unwrap();
    let seen = residents::list(&mut c, v, f, page).await.unwrap();
    assert!(!all.capped && !seen.capped);
    all.total - seen.total
}

db_test!(hidden_files_are_counted_from_the_restricted_ones, |db| {
    let k = KeyRing::from_spec(&KeyRing::generate_spec(Algorithm::Aes256Gcm)).unwrap();
    let me = add_user(&db, "sw_me", Role::SocialWorker, "430202001").await;
    let admin = add_user(&db, "ca_county", Role::CivilAffairsAdmin, "430202").await;
    let all = viewer("430202", &admin, true);
    let mut tx = db.begin().await.unwrap();
    // Adults (seen), a flagged adult, children (one high-tier), a child I am the worker of,
    // a flagged adult whose case I supervise, a child in the neighbouring township, a child
    // who moved out, and a child in another county (outside the scope).
    let mut ids = Vec::new();
    for (region, name, birth, tier, flagged) in [
        ("430202001", "甲", "1950-01-01", "general", false),
        ("430202001", "乙", "1960-01-01", "high", false),
        ("430202001", "丙", "1970-01-01", "general", true),
        ("430202001", "丁", "2016-01-01", "general", false),
        ("430202001", "戊", "2018-01-01", "high", false),
        ("430202001", "己", "2017-01-01", "general", false),
        ("430202001", "庚", "1980-01-01", "key", true),
        ("430202002", "辛", "2015-01-01", "general", false),
        ("430202001", "壬", "2019-01-01", "general", false),
        ("430203001", "癸", "2019-01-01", "general", false),
    ] {
        let mut p = person(region, name, birth, tier);
        p.protected = flagged;
        if name == "己" {
            p.worker_user_id = Some(me.clone());
        }
        let scope_of = viewer(&region[..6], &admin, true);
        ids.push(
            residents::create(&mut tx, &scope_of, &k, &p, "tester", NOW)
                .await
                .unwrap(),
        );
    }
    let open = OpenCase {
        resident_id: ids[6].clone(),
        station_id: None,
        worker_user_id: None,
        supervisor_user_id: Some(me.clone()),
        problem: "需要跟进".into(),
        opened_on: "2026-05-01".into(),
    };
    let actor = Actor {
        user_id: admin.clone(),
        name: "ca".into(),
    };
    cases::open(&mut tx, &all, &k, &open, &actor, NOW)
        .await
        .unwrap();
    residents::set_status(
        &mut tx,
        &all,
        &ids[8],
        shegong_domain::people::ResidentStatus::MovedOut,
        NOW,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let v = viewer("430202", &me, false);
    let filters = [
        Filter::default(),
        Filter {
            status: Some("all".into()),
            ..Default::default()
        },
        Filter {
            tier: Some("high".into()),
            ..Default::default()
        },
        Filter {
            region: Some(code("430202002")),
            ..Default::default()
        },
        Filter {
            q: Some("丙".into()),
            ..Default::default()
        },
    ];
    // Hidden from me: 丙 (flagged), 丁 and 戊 (children), 辛 (a child next door); with every
    // status also 壬 (moved out); 己 is mine and 庚's case is supervised by me.
    let expected = [4, 5, 1, 1, 1];
    for (f, want) in filters.iter().zip(expected) {
        let mut c = db.read().await.unwrap();
        let hidden = residents::hidden_protected(&mut c, &v, f, false)
            .await
            .unwrap();
        // As counted beside a page whose count was capped (a name test on each restricted file
        // instead of the name's key): the same number.
        let walked = residents::hidden_protected(&mut c, &v, f, true)
            .await
            .unwrap();
        drop(c);
        assert_eq!(walked, hidden, "{f:?}");
        assert_eq!(hidden, want, "{f:?}");
        assert_eq!(hidden, seen_gap(&db, &v, f).await, "{f:?}");
    }
    // Whoever sees protected files has none hidden; a township's worker, only the township's.
    let mut c = db.read().await.unwrap();
    assert_eq!(
        residents::hidden_protected(&mut c, &all, &Filter::default(), false)
            .await
            .unwrap(),
        0
    );
    let township = viewer("430202001", &me, false);
    assert_eq!(
        residents::hidden_protected(&mut c, &township, &Filter::default(), false)
            .await
            .unwrap(),
        3
    );
    drop(c);
    assert_eq!(seen_gap(&db, &township, &Filter::default()).await, 3);
    // A wide scope's newest-first page tests the region as a prefix (`LIKE`); the same order
    // asked for by a sort reads the region range: the same rows in the same order, for
    // residents and for service records.
    let mut tx = db.begin().await.unwrap();
    for id in &ids[..2] {
        let mut visit = shegong_store::people::services::ServiceInput {
            kind: "visit".into(),
            domain: "elderly".into(),
            resident_id: Some(id.clone()),
            served_on: "2026-05-20".into(),
            duration_minutes: 30,
            person_times: 1,
            method: Some("home".into()),
            workers: "王芳".into(),
            ..Default::default()
        };
        for day in ["2026-05-20", "2026-05-21"] {
            visit.served_on = day.into();
            shegong_store::people::services::create(&mut tx, &all, &k, &visit, "t", NOW)
                .await
                .unwrap();
        }
    }
    tx.commit().await.unwrap();
    let mut c = db.read().await.unwrap();
    for (region, want) in [("43", 9), ("4302", 9), ("4303", 0)] {
        let wide = viewer(region, &admin, true);
        let page = PageRequest::new(Some(1), Some(50));
        let walked = residents::list(&mut c, &wide, &Filter::default(), page)
            .await
            .unwrap();
        let sorted = Filter {
            sort: shegong_store::Sort::parse(Some("-created"), residents::SORTS),
            ..Default::default()
        };
        let ranged = residents::list(&mut c, &wide, &sorted, page).await.unwrap();
        let ids_of = |p: &shegong_store::Page<residents::Resident>| {
            p.items.iter().map(|r| r.id.clone()).collect::<Vec<_>>()
        };
        assert_eq!(walked.total, want, "{region}");
        assert_eq!(ids_of(&walked), ids_of(&ranged), "{region}");
        let services =
            shegong_store::people::services::list(&mut c, &wide, &Default::default(), page)
                .await
                .unwrap();
        assert_eq!(services.total, if want > 0 { 4 } else { 0 }, "{region}");
        assert!(
            services
                .items
                .windows(2)
                .all(|w| w[0].served_on >= w[1].served_on),
            "{region}: newest first"
        );
    }
    drop(c);
    // Housekeeping's statistics refresh runs on either database, and the lists read the same.
    db.optimize().await.unwrap();
    assert_eq!(seen_gap(&db, &v, &Filter::default()).await, 4);
});

/// id, region, status, flagged, birth date, worker, created at.
type FileRow = (String, String, String, i64, String, Option<String>, i64);

/// The files `v` should see for `f` (status, region, category, protection; no other filter),
/// newest first, worked out in Rust from every file and membership: the reference the list
/// query and its count are held to.
async fn reference(db: &Db, v: &Viewer, f: &Filter) -> Vec<String> {
    let mut c = db.read().await.unwrap();
    let files: Vec<FileRow> = sqlx::query_as(
        "SELECT id, region_code, status, protected, birth_date, worker_user_id, created_at FROM residents",
    )
    .fetch_all(&mut *c)
    .await
    .unwrap();
    let held: Vec<(String, String, String, Option<String>)> = sqlx::query_as(
        "SELECT resident_id, category, valid_from, valid_to FROM resident_memberships",
    )
    .fetch_all(&mut *c)
    .await
    .unwrap();
    let today = v.today.to_string();
    let cutoff = v
        .today
        .checked_sub_months(chrono::Months::new(14 * 12))
        .unwrap()
        .to_string();
    let mut out: Vec<(i64, String)> = files
        .into_iter()
        .filter(|(_, region, ..)| region.starts_with(v.scope.prefix()))
        .filter(|(_, region, ..)| {
            f.region
                .as_ref()
                .is_none_or(|r| region.starts_with(r.as_str()))
        })
        .filter(|(_, _, status, ..)| match f.status.as_deref() {
            Some("all") => true,
            Some(s) => status == s,
            None => status == "active",
        })
        .filter(|(_, _, _, flagged, birth, worker, _)| {
            v.sees_protected
                || !(*flagged == 1 || *birth > cutoff)
                || worker.as_deref() == Some(v.user_id.as_str())
        })
        .filter(|(id, ..)| {
            f.category.as_ref().is_none_or(|cat| {
                held.iter().any(|(r, c, from, to)| {
                    r == id && c == cat && *from <= today && to.as_ref().is_none_or(|t| *t >= today)
                })
            })
        })
        .map(|(id, _, _, _, _, _, at)| (at, id))
        .collect();
    out.sort_by(|a, b| b.cmp(a));
    out.into_iter().map(|(_, id)| id).collect()
}

db_test!(filtered_lists_keep_their_rows_and_order, |db| {
    let k = KeyRing::from_spec(&KeyRing::generate_spec(Algorithm::Aes256Gcm)).unwrap();
    let me = add_user(&db, "sw_lists", Role::SocialWorker, "430202001").await;
    let everyone = viewer("43", "nobody", true);
    let regions = ["430202001", "430202002", "430203001"];
    let mut tx = db.begin().await.unwrap();
    let mut ids = Vec::new();
    for i in 0..24_usize {
        let region = regions[i % 3];
        let birth = if i % 5 == 0 {
            "2018-03-01"
        } else {
            "1960-03-01"
        };
        let mut p = person(
            region,
            &format!("张{i}"),
            birth,
            ["general", "high", "key"][i % 3],
        );
        p.protected = i % 7 == 3;
        if i == 5 || i == 10 {
            p.worker_user_id = Some(me.clone());
        }
        // Pairs share a creation time: the id breaks the tie.
        let id = residents::create(&mut tx, &everyone, &k, &p, "t", NOW + (i / 2) as i64)
            .await
            .unwrap();
        // Memberships: held today, held twice, ended, not yet begun; and another category.
        let spans: &[(&str, &str, Option<&str>)] = match i % 4 {
            0 => &[("dibao", "2025-01-01", None)],
            1 => &[("dibao", "2025-01-01", None), ("dibao", "2026-03-01", None)],
            2 => &[
                ("dibao", "2024-01-01", Some("2026-01-01")),
                ("elder_alone", "2025-01-01", None),
            ],
            _ => &[("dibao", "2026-12-01", None)],
        };
        for (category, from, to) in spans {
            let m = shegong_store::people::households::MembershipInput {
                category: (*category).into(),
                disability_category: None,
                disability_grade: None,
                source: String::new(),
                evidence: String::new(),
                valid_from: (*from).into(),
                valid_to: to.map(Into::into),
                verified_by: String::new(),
            };
            shegong_store::people::households::add_membership(
                &mut tx, &everyone, &id, &m, "t", NOW,
            )
            .await
            .unwrap();
        }
        ids.push(id);
    }
    residents::set_status(
        &mut tx,
        &everyone,
        &ids[9],
        shegong_domain::people::ResidentStatus::MovedOut,
        NOW,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let filters = [
        Filter::default(),
        Filter {
            category: Some("dibao".into()),
            ..Default::default()
        },
        Filter {
            category: Some("elder_alone".into()),
            ..Default::default()
        },
        Filter {
            category: Some("dibao".into()),
            status: Some("all".into()),
            ..Default::default()
        },
        Filter {
            region: Some(code("430202")),
            ..Default::default()
        },
        Filter {
            region: Some(code("430202001")),
            category: Some("dibao".into()),
            ..Default::default()
        },
        Filter {
            region: Some(code("430203")),
            tier: None,
            ..Default::default()
        },
        // A region containing the scope, and one beside it.
        Filter {
            region: Some(code("43")),
            ..Default::default()
        },
        Filter {
            region: Some(code("430203001")),
            ..Default::default()
        },
    ];
    let viewers = [
        viewer("43", &me, false),
        viewer("4302", &me, false),
        viewer("430202", &me, false),
        viewer("430202", &me, true),
        viewer("430202001", &me, false),
    ];
    let mut c = db.read().await.unwrap();
    for v in &viewers {
        for f in &filters {
            let want = reference(&db, v, f).await;
            let all = residents::list(&mut c, v, f, PageRequest::new(Some(1), Some(100)))
                .await
                .unwrap();
            let got: Vec<String> = all.items.iter().map(|r| r.id.clone()).collect();
            let what = format!("{} {:?}", v.scope.prefix(), f);
            assert_eq!(got, want, "{what}");
            assert_eq!(all.total, want.len() as i64, "{what}");
            // Page 2 of 3 rows: the same order, offset.
            let page = residents::list(&mut c, v, f, PageRequest::new(Some(2), Some(3)))
                .await
                .unwrap();
            let got: Vec<String> = page.items.iter().map(|r| r.id.clone()).collect();
            let want_page: Vec<String> = want.iter().skip(3).take(3).cloned().collect();
            assert_eq!(got, want_page, "{what}, page 2");
            assert_eq!(page.total, want.len() as i64, "{what}, page 2");
            // One row a page (fewer than the ten rows the query asks for at least).
            let one = residents::list(&mut c, v, f, PageRequest::new(Some(4), Some(1)))
                .await
                .unwrap();
            let got: Vec<String> = one.items.iter().map(|r| r.id.clone()).collect();
            let want_one: Vec<String> = want.iter().skip(3).take(1).cloned().collect();
            assert_eq!(got, want_one, "{what}, page 4 of one");
        }
    }
    // The test above is not vacuous: the duplicate memberships and the hidden files matter.
    let dibao = reference(&db, &viewer("43", &me, false), &filters[1]).await;
    assert!(dibao.len() >= 6, "{}", dibao.len());
});

// The server's PostgreSQL sessions: no JIT, and random reads costed as on solid-state storage
// while the server has the stock `random_page_cost` (the test servers do): with the stock 4 the
// capped count of a province's service list hashed every resident (docs/performance.md).
db_test!(
    postgres_sessions_plan_for_short_reads_on_solid_state_storage,
    |db| {
        if db.backend() != shegong_store::Backend::Postgres {
            return;
        }
        let mut read = db.read().await.unwrap();
        let mut write = db.begin().await.unwrap();
        for c in [&mut *read, &mut *write] {
            let (jit, page_cost): (String, String) = sqlx::query_as(
                "SELECT current_setting('jit'), current_setting('random_page_cost')",
            )
            .fetch_one(&mut *c)
            .await
            .unwrap();
            assert_eq!((jit.as_str(), page_cost.as_str()), ("off", "1.1"));
        }
    }
);

// A county with more service records than the count's cap: its newest-first pages walk the
// date index (the range would sort all its records), and still hold exactly the records in
// the county the viewer may see, in the list's order. A township with fewer reads the range.
db_test!(
    a_county_with_more_records_than_the_cap_pages_them_newest_first,
    |db| {
        use shegong_store::bulk::{NewService, insert_services};
        use shegong_store::people::services;
        let k = KeyRing::from_spec(&KeyRing::generate_spec(Algorithm::Aes256Gcm)).unwrap();
        let admin = add_user(&db, "ca_county", Role::CivilAffairsAdmin, "430202").await;
        let station = super::stations::station(
            &db,
            "4302",
            &super::stations::input(
                "430202001",
                "站",
                shegong_domain::network::station::Status::Operating,
                None,
            ),
        )
        .await;
        let all = viewer("43", &admin, true);
        let mut tx = db.begin().await.unwrap();
        let mut people = Vec::new();
        // An adult and a child (hidden from the county viewer) in the county, an adult outside it.
        for (region, birth) in [
            ("430202001", "1950-01-01"),
            ("430202001", "2018-01-01"),
            ("430203001", "1950-01-01"),
        ] {
            let p = person(region, "甲", birth, "general");
            people.push((
                residents::create(&mut tx, &all, &k, &p, "t", NOW)
                    .await
                    .unwrap(),
                region,
            ));
        }
        // The adult's records pass the cap (a county page walks); its visits do not (read by range).
        let rows: Vec<NewService> = (0..13_000)
            .map(|i| {
                let (resident, region) = &people[match i % 10 {
                    0 => 1,
                    1 => 2,
                    _ => 0,
                }];
                NewService {
                    id: format!("s{i:06}"),
                    region_code: (*region).to_owned(),
                    station_id: station.clone(),
                    kind: if i % 2 == 0 { "visit" } else { "group" },
                    domain: "elderly",
                    resident_id: resident.clone(),
                    // Many on each day, so the order's later keys decide too.
                    served_on: format!("2026-0{}-{:02}", 1 + i % 5, 1 + i % 28),
                    duration_minutes: 30,
                    person_times: 1,
                    method: None,
                    value_fen: 0,
                    workers: "王芳",
                    created_by: "t",
                    created_at: NOW + (i as i64 * 7919) % 1000,
                }
            })
            .collect();
        insert_services(&mut tx, &rows).await.unwrap();
        tx.commit().await.unwrap();
        // What a viewer of the county or the township may see (the adult's records), newest
        // first, by hand.
        let newest = |kind: Option<&str>| -> Vec<&str> {
            let mut want: Vec<&NewService> = rows
                .iter()
                .filter(|s| s.resident_id == people[0].0 && kind.is_none_or(|k| s.kind == k))
                .collect();
            want.sort_by(|a, b| {
                (&b.served_on, b.created_at, &b.id).cmp(&(&a.served_on, a.created_at, &a.id))
            });
            want.into_iter().map(|s| s.id.as_str()).collect()
        };
        let county = viewer("430202", &admin, false);
        // A township's records (under the cap for the visits) are read by the range.
        let township = viewer("430202001", &admin, false);
        let mut c = db.read().await.unwrap();
        for (who, kind) in [
            (&county, None),
            (&county, Some("visit")),
            (&township, Some("visit")),
        ] {
            let f = services::Filter {
                kind: kind.map(str::to_owned),
                ..Default::default()
            };
            let want = newest(kind);
            let what = format!("{} {kind:?}", who.scope.prefix());
            for n in 1..=3 {
                let page = services::list(&mut c, who, &f, PageRequest::new(Some(n), Some(20)))
                    .await
                    .unwrap();
                let got: Vec<&str> = page.items.iter().map(|s| s.id.as_str()).collect();
                let expected: Vec<&str> = want
                    .iter()
                    .skip((n as usize - 1) * 20)
                    .take(20)
                    .copied()
                    .collect();
                assert_eq!(got, expected, "{what} page {n}");
                let cap = shegong_store::LIST_COUNT_CAP;
                assert_eq!(page.total, (want.len() as i64).min(cap), "{what}");
                assert_eq!(page.capped, want.len() as i64 > cap, "{what}");
            }
        }
    }
);

// Visits due: by due date, then region, then id — the order `residents_due` walks, so a page
// sorts one date's rows of one region, never every file due that day. The pages hold exactly
// the files due by the date in the viewer's scope, once each.
db_test!(visits_due_page_by_date_then_region, |db| {
    use shegong_store::sql::Sql;
    let k = KeyRing::from_spec(&KeyRing::generate_spec(Algorithm::Aes256Gcm)).unwrap();
    let everyone = viewer("43", "nobody", true);
    let regions = ["430203001", "430202002", "430202001"];
    let dues = ["2026-05-01", "2026-04-01", "2026-07-01"];
    let mut tx = db.begin().await.unwrap();
    let mut files: Vec<(String, String, String)> = Vec::new();
    for i in 0..18_usize {
        let region = regions[i % 3];
        let id = residents::create(
            &mut tx,
            &everyone,
            &k,
            &person(region, &format!("李{i}"), "1950-01-01", "general"),
            "t",
            NOW + i as i64,
        )
        .await
        .unwrap();
        let due = dues[(i / 3) % 3];
        Sql::new("UPDATE residents SET next_visit_due = ")
            .bind(due)
            .push(" WHERE id = ")
            .bind(id.as_str())
            .execute(&mut tx)
            .await
            .unwrap();
        files.push((due.to_owned(), region.to_owned(), id));
    }
    tx.commit().await.unwrap();
    let f = Filter {
        due_by: Some("2026-05-31".into()),
        ..Default::default()
    };
    for scope in ["43", "430202"] {
        let v = viewer(scope, "nobody", true);
        let mut expected: Vec<&(String, String, String)> = files
            .iter()
            .filter(|(due, region, _)| due.as_str() <= "2026-05-31" && region.starts_with(scope))
            .collect();
        expected.sort();
        let expected: Vec<&str> = expected.iter().map(|(_, _, id)| id.as_str()).collect();
        let mut c = db.read().await.unwrap();
        let mut got = Vec::new();
        for n in 1..=3 {
            let page = residents::list(&mut c, &v, &f, PageRequest::new(Some(n), Some(4)))
                .await
                .unwrap();
            assert_eq!(page.total, expected.len() as i64, "{scope}");
            got.extend(page.items.into_iter().map(|r| r.id));
        }
        assert_eq!(got, expected, "{scope}");
    }
});

// After a bulk load (`shegong bench`, `demo generate`) the tables have planner statistics on
// either database, and on PostgreSQL their pages are vacuumed too: without the visibility map an
// index-only scan of a list's page or count visits the table for every entry.
db_test!(
    a_bulk_loads_refresh_analyzes_and_on_postgres_vacuums,
    |db| {
        use shegong_store::{Backend, bulk};
        let k = KeyRing::from_spec(&KeyRing::generate_spec(Algorithm::Aes256Gcm)).unwrap();
        let everyone = viewer("43", "nobody", true);
        let mut tx = db.begin().await.unwrap();
        for i in 0..20_i64 {
            let p = person("430202001", &format!("乙{i}"), "1950-01-01", "general");
            residents::create(&mut tx, &everyone, &k, &p, "t", NOW + i)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        bulk::analyze(&db).await.unwrap();
        let mut c = db.read().await.unwrap();
        let done: i64 = if db.backend() == Backend::Postgres {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM pg_stat_user_tables WHERE relname = 'residents' \
             AND last_vacuum IS NOT NULL AND last_analyze IS NOT NULL",
            )
            .fetch_one(&mut *c)
            .await
            .unwrap()
        } else {
            sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_stat1 WHERE tbl = 'residents'")
                .fetch_one(&mut *c)
                .await
                .unwrap()
        };
        assert!(done > 0, "{:?}", db.backend());
    }
);
