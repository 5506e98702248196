//! Registering residents in bulk (a committed import chunk) writes what `residents::create`
//! and `households::add_membership` write one by one, refuses what they refuse, and the
//! sheet-wide likely-duplicate look-up finds what the look-up of one input finds.

use chrono::NaiveDate;
use shegong_domain::people::{RiskTier, VisitMethod};
use shegong_store::crypto::{Algorithm, KeyRing};
use shegong_store::people::duplicates;
use shegong_store::people::households::{self, MembershipInput};
use shegong_store::people::register_bulk::{Registration, register_all};
use shegong_store::people::residents::{self, Filter, ID_FIELD, ResidentInput, Viewer};
use shegong_store::people::visit_rules;
use shegong_store::sql::Sql;
use shegong_store::statistics::counters::{self, Dim, Regions};
use shegong_store::{StoreError, testing};

use super::*;

const NOW: i64 = 1_780_000_000_000;

fn viewer(region: &str) -> Viewer {
    Viewer {
        scope: scope(region),
        user_id: "importer".into(),
        sees_protected: true,
        today: NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
    }
}

fn person(region: &str, name: &str, id: Option<&str>, birth: &str, tier: &str) -> ResidentInput {
    ResidentInput {
        region: Some(code(region)),
        name: name.into(),
        id_type: id.map(|_| "resident_id".into()),
        id_number: id.map(Into::into),
        birth_date: birth.into(),
        risk_tier: tier.into(),
        legal_basis: "statutory_duty".into(),
        registered_on: "2026-05-20".into(),
        ..Default::default()
    }
}

fn member(category: &str, valid_to: Option<&str>) -> MembershipInput {
    MembershipInput {
        category: category.into(),
        disability_category: None,
        disability_grade: None,
        source: " 区民政局低保名册 ".into(),
        evidence: String::new(),
        valid_from: "2026-01-01".into(),
        valid_to: valid_to.map(Into::into),
        verified_by: String::new(),
    }
}

/// A mix of what a roster holds: numbers or none, contact details, tiers, categories (one
/// counted as elderly, one with a rule of its own, one already ended), a child.
fn roster() -> Vec<(ResidentInput, Option<MembershipInput>)> {
    let mut with_contact = person(
        "430202001",
        " 张建国 ",
        Some("430202195001011234"),
        "1950-01-01",
        "general",
    );
    with_contact.address = Some("建设路1号".into());
    with_contact.phone = Some("13900000001".into());
    with_contact.ethnicity = " 汉族 ".into();
    with_contact.sex = Some("male".into());
    let mut child = person("430202002", "李小华", None, "2018-03-04", "high");
    child.guardian_name = "李大华".into();
    child.guardian_phone = Some("13900000002".into());
    vec![
        (with_contact, Some(member("tekun", None))),
        (
            person("430202001", "王芳", None, "1962-07-08", "key"),
            Some(member("dibao", None)),
        ),
        (child, Some(member("left_behind_child", None))),
        (
            person("430202002", "赵六", None, "1970-02-02", "general"),
            Some(member("dibao", Some("2026-03-01"))),
        ),
        (
            person("430202002", "钱七", None, "1971-02-02", "general"),
            None,
        ),
    ]
}

/// Everything about the residents of 4302 but ids: the record (sealed values opened), its
/// tier history and memberships, in name order.
async fn contents(db: &Db, keys: &KeyRing) -> Vec<String> {
    let v = viewer("4302");
    let mut c = db.read().await.unwrap();
    let filter = Filter {
        status: Some("all".into()),
        ..Default::default()
    };
    let ids = residents::list_ids(&mut c, &v, &filter, 100).await.unwrap();
    let mut people = residents::page_of(&mut c, &v, &ids).await.unwrap();
    people.sort_by(|a, b| a.name.cmp(&b.name));
    let open = |field, s: &Option<String>| s.as_deref().map(|s| keys.open(field, s).unwrap());
    let mut out = Vec::new();
    for r in people {
        let history: Vec<String> = residents::tier_history(&mut c, &v, &r.id)
            .await
            .unwrap()
            .into_iter()
            .map(|h| format!("{} {} {} {}", h.tier, h.reason, h.changed_by, h.changed_at))
            .collect();
        let memberships: Vec<String> = households::memberships_of(&mut c, &v, &[&r.id])
            .await
            .unwrap()
            .into_iter()
            .map(|m| {
                format!(
                    "{} {:?} {:?} {} {} {} {:?} {} {}",
                    m.category,
                    m.disability_category,
                    m.disability_grade,
                    m.source,
                    m.evidence,
                    m.valid_from,
                    m.valid_to,
                    m.verified_by,
                    m.created_at
                )
            })
            .collect();
        // The name's characters, for "name contains" (migration 0066).
        let chars: Vec<(String, String)> =
            Sql::new("SELECT ch, region_code FROM resident_name_chars WHERE resident_id = ")
                .bind(r.id.as_str())
                .push(" ORDER BY ch")
                .fetch_all(&mut c)
                .await
                .unwrap();
        out.push(format!(
            "{} {} {} {:?} {:?} {:?} {} {} {:?} {:?} {:?} {:?} {} {:?} {} {} {:?} {} {:?} {:?} {:?} {:?} {:?} {} {} {} {} {} | {history:?} | {memberships:?} | {chars:?}",
            r.region_code,
            r.region_path,
            r.name,
            r.id_type,
            open(ID_FIELD, &r.id_number_sealed),
            r.sex,
            r.birth_date,
            r.ethnicity,
            open(residents::ADDRESS_FIELD, &r.address_sealed),
            open(residents::PHONE_FIELD, &r.phone_sealed),
            r.household_id,
            r.relation,
            r.guardian_name,
            open(residents::GUARDIAN_PHONE_FIELD, &r.guardian_phone_sealed),
            r.risk_tier.as_str(),
            r.legal_basis,
            r.consent_on,
            r.protected,
            r.station_id,
            r.worker_user_id,
            r.status,
            r.merged_into,
            r.last_visit_on,
            r.visit_interval_days,
            r.next_visit_due,
            r.registered_on,
            r.created_at,
            r.updated_at,
        ));
    }
    out
}

/// Every counter of 4302 and its townships in the dimensions a resident counts in.
async fn people_counters(db: &Db) -> Vec<String> {
    counters::fold(db).await.unwrap();
    let mut c = db.read().await.unwrap();
    let mut out = Vec::new();
    for dim in [Dim::Tier, Dim::Due, Dim::Category, Dim::ElderlyVisit] {
        for regions in [Regions::One("4302"), Regions::ChildrenOf("430202")] {
            let rows = counters::read(&mut c, &scope("4302"), regions, dim, "", "")
                .await
                .unwrap();
            out.extend(
                rows.into_iter()
                    .filter(|r| r.n != 0)
                    .map(|r| format!("{dim} {r:?}")),
            );
        }
    }
    assert!(
        counters::verify(&mut c).await.unwrap().is_empty(),
        "the counters agree with the records"
    );
    out
}

/// A rule of its own for 430202 (dibao, general: every 10 days), as offices set them.
async fn with_rule(db: &Db) {
    let mut tx = db.begin().await.unwrap();
    visit_rules::set_rule(
        &mut tx,
        &scope("4302"),
        &code("430202"),
        RiskTier::General,
        "dibao",
        10,
        &[VisitMethod::Home],
        "admin",
        NOW - 1,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

async fn another_like(db: &testing::TestDb) -> testing::TestDb {
    if db.url.starts_with("sqlite") {
        testing::sqlite().await
    } else {
        testing::postgres().await
    }
}

db_test!(bulk_registration_writes_what_one_by_one_writes, |db| {
    let keys = KeyRing::from_spec(&KeyRing::generate_spec(Algorithm::Aes256Gcm)).unwrap();
    let bulk = another_like(&db).await;
    with_rule(&db).await;
    with_rule(&bulk).await;
    let v = viewer("4302");
    let rows = roster();

    let mut tx = db.begin().await.unwrap();
    for (input, membership) in &rows {
        let id = residents::create(&mut tx, &v, &keys, input, "导入员", NOW)
            .await
            .unwrap();
        if let Some(m) = membership {
            households::add_membership(&mut tx, &v, &id, m, "导入员", NOW)
                .await
                .unwrap();
        }
    }
    tx.commit().await.unwrap();

    let registrations: Vec<Registration<'_>> = rows
        .iter()
        .map(|(input, membership)| Registration {
            input,
            membership: membership.as_ref(),
        })
        .collect();
    let mut tx = bulk.begin().await.unwrap();
    let ids = register_all(&mut tx, &v, &keys, &registrations, "导入员", NOW)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(ids.len(), rows.len());

    let (one_by_one, in_bulk) = (contents(&db, &keys).await, contents(&bulk, &keys).await);
    assert_eq!(one_by_one.len(), rows.len());
    assert_eq!(one_by_one, in_bulk);
    // The rule of 430202 applies to 王芳? No: she is `key`; to 赵六 (dibao, general) no: his
    // membership has ended. The schedule still differs by tier and category.
    assert!(
        one_by_one
            .iter()
            .any(|r| r.contains("张建国") && r.contains("tekun"))
    );
    let counted = people_counters(&db).await;
    assert!(
        counted
            .iter()
            .any(|c| c.contains("elderly_visit") || c.contains("ElderlyVisit"))
    );
    assert_eq!(counted, people_counters(&bulk).await);
});

db_test!(bulk_registration_refuses_what_create_refuses, |db| {
    let keys = KeyRing::from_spec(&KeyRing::generate_spec(Algorithm::Aes256Gcm)).unwrap();
    let v = viewer("430202");
    let on_file = person(
        "430202001",
        "张三",
        Some("430202195001011234"),
        "1950-01-01",
        "general",
    );
    let mut tx = db.begin().await.unwrap();
    residents::create(&mut tx, &v, &keys, &on_file, "x", NOW)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let refusal = |inputs: Vec<(ResidentInput, Option<MembershipInput>)>| {
        let db = &db;
        let keys = &keys;
        let v = &v;
        async move {
            let regs: Vec<Registration<'_>> = inputs
                .iter()
                .map(|(i, m)| Registration {
                    input: i,
                    membership: m.as_ref(),
                })
                .collect();
            let mut tx = db.begin().await.unwrap();
            let refused = register_all(&mut tx, v, keys, &regs, "x", NOW)
                .await
                .unwrap_err();
            tx.rollback().await.unwrap();
            match refused.error {
                StoreError::Invalid(e) => (refused.index, e.code),
                other => panic!("{other:?}"),
            }
        }
    };
    let fine = || person("430202002", "李四", None, "1960-01-01", "general");
    let again = person(
        "430202002",
        "张三",
        Some("430202195001011234"),
        "1950-01-01",
        "general",
    );
    assert_eq!(
        refusal(vec![(fine(), None), (again, None)]).await,
        (1, "resident.id_taken")
    );
    let twice = || {
        person(
            "430202002",
            "王五",
            Some("430202196001011235"),
            "1960-01-01",
            "general",
        )
    };
    assert_eq!(
        refusal(vec![(twice(), None), (fine(), None), (twice(), None)]).await,
        (2, "resident.id_taken"),
        "a number twice in the chunk: the second is refused, as create refuses it"
    );
    let elsewhere = person("430203001", "赵六", None, "1960-01-01", "general");
    assert_eq!(
        refusal(vec![(fine(), None), (elsewhere, None)]).await,
        (1, "station.region_out_of_scope")
    );
    assert_eq!(
        refusal(vec![(fine(), Some(member("no_such_category", None)))]).await,
        (0, "resident.category_unknown")
    );
    assert_eq!(
        refusal(vec![(fine(), Some(member("disabled", None)))]).await,
        (0, "resident.disability_required")
    );
    let county = person("430202", "孙七", None, "1960-01-01", "general");
    assert_eq!(
        refusal(vec![(county, None)]).await,
        (0, "resident.region_level")
    );
    // Nothing was written by the refused chunks.
    let mut c = db.read().await.unwrap();
    let all = residents::list_ids(&mut c, &v, &Filter::default(), 100)
        .await
        .unwrap();
    assert_eq!(all.len(), 1);
});

db_test!(
    sheet_wide_duplicate_lookup_finds_what_one_lookup_finds,
    |db| {
        let keys = KeyRing::from_spec(&KeyRing::generate_spec(Algorithm::Aes256Gcm)).unwrap();
        // Records alike by pinyin, by one character, by traditional forms; the same birth date or
        // home region or neither; one moved out (not looked at).
        let on_file = vec![
            person("430202001", "张建国", None, "1950-01-01", "general"),
            person("430202002", "章建国", None, "1950-01-01", "general"),
            person("430202001", "张建华", None, "1951-01-01", "general"),
            person("430203001", "張建國", None, "1952-01-01", "general"),
            person(
                "430202001",
                "李秀英",
                Some("430202196001011235"),
                "1960-01-01",
                "general",
            ),
            person("430202002", "李秀兰", None, "1960-01-01", "general"),
            person("430202001", "王芳", None, "1962-07-08", "general"),
            person("430202001", "Wang Fang", None, "1962-07-08", "general"),
        ];
        register_in_bulk(&db, &viewer("43"), &keys, &on_file, ("file", NOW)).await;
        // Over SCANNED records share one birth date and come first: an alike record after them is
        // beyond what the look-up of one input reads, and must stay so for the sheet.
        let crowd: Vec<ResidentInput> = (0..2_001u32)
            .map(|n| {
                let c = char::from_u32(0x4E00 + n).unwrap();
                person(
                    "430202002",
                    &format!("欧阳{c}{c}"),
                    None,
                    "1980-08-08",
                    "general",
                )
            })
            .collect();
        register_in_bulk(&db, &viewer("43"), &keys, &crowd, ("file", NOW + 1)).await;
        register_in_bulk(
            &db,
            &viewer("43"),
            &keys,
            &[person("430202002", "赵小明", None, "1980-08-08", "general")],
            ("file", NOW + 2),
        )
        .await;

        let sheet = vec![
            person("430202001", "张建国", None, "1950-01-01", "general"),
            person("430203001", "张建国", None, "1949-01-01", "general"),
            person("430202001", "张建军", None, "1951-01-01", "general"),
            person(
                "430202001",
                "李秀英",
                Some("430202196001011235"),
                "1970-01-01",
                "general",
            ),
            person("430202002", "李秀芳", None, "1990-01-01", "general"),
            person("430202001", "王 芳", None, "1962-07-08", "general"),
            person("430202002", "赵小明", None, "1980-08-08", "general"),
            person("430202002", "赵小红", None, "1981-08-08", "general"),
            person("430202002", "欧阳丁丁", None, "1980-08-09", "general"),
            person("430202001", "无此人", None, "1999-09-09", "general"),
        ];
        let v = Viewer {
            sees_protected: false,
            ..viewer("430202")
        };
        let mut c = db.read().await.unwrap();
        let refs: Vec<&ResidentInput> = sheet.iter().collect();
        let each = duplicates::likely_duplicates_of_each(
            &mut c,
            &v,
            &keys,
            &refs,
            &mut Default::default(),
        )
        .await
        .unwrap();
        assert_eq!(each.len(), sheet.len());
        let shown = |found: &[duplicates::Candidate]| -> Vec<String> {
            found
                .iter()
                .map(|d| {
                    format!(
                        "{} {} {} {} {}",
                        d.id, d.name, d.reason, d.visible, d.region_path
                    )
                })
                .collect()
        };
        let mut any = 0;
        for (input, found) in sheet.iter().zip(&each) {
            let alone = duplicates::likely_duplicates(&mut c, &v, &keys, input, None)
                .await
                .unwrap();
            assert_eq!(shown(found), shown(&alone), "{}", input.name);
            any += found.len();
        }
        assert!(any >= 8, "the sheet has duplicates to find: {any}");
        assert!(
            each.get(6).unwrap().iter().all(|d| d.name != "赵小明"),
            "beyond the records one look-up reads"
        );
        // A sheet longer than the inputs looked up at once (its rows in turn, 2,503 of them):
        // every row still gets its own candidates, in the sheet's order.
        let long: Vec<&ResidentInput> = sheet.iter().cycle().take(2_503).collect();
        let each_long = duplicates::likely_duplicates_of_each(
            &mut c,
            &v,
            &keys,
            &long,
            &mut Default::default(),
        )
        .await
        .unwrap();
        assert_eq!(each_long.len(), long.len());
        for (n, found) in each_long.iter().enumerate() {
            let alone = each.get(n % sheet.len()).unwrap();
            assert_eq!(shown(found), shown(alone), "row {n}");
        }
    }
);

db_test!(
    every_resident_write_moves_the_count_the_import_relies_on,
    |db| {
        // The commit of an import reuses its preview's findings only while this count stands
        // still: every insert, update and delete of a resident, by any path, must move it, a
        // rolled-back write must not, and folding its rows must keep it.
        use shegong_store::import::lookups::{fold_resident_writes, resident_writes};
        let keys = KeyRing::from_spec(&KeyRing::generate_spec(Algorithm::Aes256Gcm)).unwrap();
        let v = viewer("4302");
        let count = || async {
            let mut c = db.read().await.unwrap();
            resident_writes(&mut c).await.unwrap()
        };
        let start = count().await;

        let mut tx = db.begin().await.unwrap();
        let one = person("430202001", "张三", None, "1950-01-01", "general");
        let id = residents::create(&mut tx, &v, &keys, &one, "x", NOW)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let after_create = count().await;
        assert!(after_create > start, "{start} → {after_create}");

        let two = person("430202001", "李四", None, "1951-02-02", "general");
        let registrations = [Registration {
            input: &two,
            membership: None,
        }];
        let mut tx = db.begin().await.unwrap();
        register_all(&mut tx, &v, &keys, &registrations, "x", NOW)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let after_bulk = count().await;
        assert!(after_bulk > after_create, "{after_create} → {after_bulk}");

        // Written and rolled back: nothing was written.
        let three = person("430202001", "王五", None, "1952-03-03", "general");
        let mut tx = db.begin().await.unwrap();
        residents::create(&mut tx, &v, &keys, &three, "x", NOW)
            .await
            .unwrap();
        tx.rollback().await.unwrap();
        assert_eq!(count().await, after_bulk);

        let mut tx = db.begin().await.unwrap();
        Sql::new("UPDATE residents SET risk_tier = 'key' WHERE id = ")
            .bind(id.as_str())
            .execute(&mut tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let after_update = count().await;
        assert!(after_update > after_bulk, "{after_bulk} → {after_update}");

        let mut tx = db.begin().await.unwrap();
        Sql::new("DELETE FROM risk_history WHERE resident_id = ")
            .bind(id.as_str())
            .execute(&mut tx)
            .await
            .unwrap();
        Sql::new("DELETE FROM residents WHERE id = ")
            .bind(id.as_str())
            .execute(&mut tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let after_delete = count().await;
        assert!(
            after_delete > after_update,
            "{after_update} → {after_delete}"
        );

        let mut tx = db.begin().await.unwrap();
        fold_resident_writes(&mut tx, db.backend()).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(count().await, after_delete);
        let mut c = db.read().await.unwrap();
        let rows = Sql::new("SELECT COUNT(*) FROM resident_writes")
            .fetch_i64(&mut c)
            .await
            .unwrap();
        assert_eq!(rows, 1);
    }
);
