//! Issue 12 item 4: staff records take their codes as domain types and their dates as dates,
//! store both as the schema's TEXT, and read the dates back as dates.

use super::*;
use chrono::NaiveDate;
use shegong_domain::people::identity::{IdType, Sex};
use shegong_domain::workforce::{CertLevel, Education, Employment, Sector, StaffRole, StaffStatus};
use shegong_store::crypto::{Algorithm, KeyRing};
use shegong_store::sql::Sql;
use shegong_store::workforce::staff::{self, NewCertificate, StaffInput};

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

pub(super) fn input() -> StaffInput {
    StaffInput {
        name: "李四".into(),
        id_type: IdType::ResidentId,
        id_number: "11010519491231002X".into(),
        sex: Some(Sex::Female),
        birth_date: Some(day(1949, 12, 31)),
        mobile: None,
        education: Education::Master,
        major: "社会工作".into(),
        employer_org_id: None,
        station_id: None,
        region: Some(code("430203001")),
        role: StaffRole::Supervisor,
        employment_mode: Employment::PositionPurchase,
        sector: Sector::Justice,
        joined_on: day(2023, 3, 1),
        left_on: None,
        left_reason: String::new(),
    }
}

db_test!(staff_codes_and_dates_round_trip_as_text, |db| {
    let keys = KeyRing::from_spec(&KeyRing::generate_spec(Algorithm::Aes256Gcm)).unwrap();
    let all = Scope::national();
    let mut tx = db.begin().await.unwrap();
    let id = staff::create(&mut tx, &all, &keys, &input(), 1)
        .await
        .unwrap();
    let cert = NewCertificate {
        level: CertLevel::Intermediate,
        number: "Z2023001",
        obtained_on: day(2023, 6, 1),
        registered_until: Some(day(2026, 6, 1)),
    };
    staff::add_certificate(&mut tx, &all, &id, &cert, 2)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut c = db.read().await.unwrap();
    let s = staff::get(&mut c, &all, &id).await.unwrap();
    assert_eq!(s.birth_date, Some(day(1949, 12, 31)));
    assert_eq!((s.joined_on, s.left_on), (day(2023, 3, 1), None));
    assert_eq!(s.status, StaffStatus::Active);
    assert_eq!(s.role, StaffRole::Supervisor);
    assert_eq!(s.employment_mode, Employment::PositionPurchase);
    assert_eq!(
        (s.id_type.as_str(), s.sex.as_deref()),
        ("resident_id", Some("female"))
    );
    assert_eq!(
        (s.education.as_str(), s.sector.as_str()),
        ("master", "justice")
    );
    // The stored text is what both schemas expect, and JSON shows the same text.
    let stored: (String, String, Option<String>) =
        Sql::new("SELECT birth_date, joined_on, left_on FROM staff WHERE id = ")
            .bind(&id)
            .fetch_one(&mut c)
            .await
            .unwrap();
    assert_eq!(stored, ("1949-12-31".into(), "2023-03-01".into(), None));
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["joined_on"], "2023-03-01");
    assert_eq!(json["birth_date"], "1949-12-31");
    assert_eq!(json["left_on"], serde_json::Value::Null);

    let certs = staff::certificates(&mut c, &all, &id).await.unwrap();
    assert_eq!(certs.len(), 1);
    assert_eq!(
        (certs[0].obtained_on, certs[0].registered_until),
        (day(2023, 6, 1), Some(day(2026, 6, 1)))
    );
    let lapsing = staff::expiring(&mut c, &all, "2026-07-01").await.unwrap();
    assert_eq!(lapsing.len(), 1);
    assert_eq!(lapsing[0].registered_until, day(2026, 6, 1));
    assert!(
        staff::expiring(&mut c, &all, "2026-06-01")
            .await
            .unwrap()
            .is_empty()
    );
    drop(c);

    // Leaving closes the assignment on the leaving date, read back as a date.
    let left = StaffInput {
        left_on: Some(day(2024, 6, 30)),
        left_reason: "调离".into(),
        ..input()
    };
    let mut tx = db.begin().await.unwrap();
    let before = staff::update(&mut tx, &all, &keys, &id, &left, "2024-07-01", 3)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(before.status, StaffStatus::Active);
    let mut c = db.read().await.unwrap();
    let s = staff::get(&mut c, &all, &id).await.unwrap();
    assert_eq!(
        (s.status, s.left_on),
        (StaffStatus::Left, Some(day(2024, 6, 30)))
    );
    assert_eq!(serde_json::to_value(&s).unwrap()["left_on"], "2024-06-30");
    let history = staff::assignments(&mut c, &all, &id).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(
        (history[0].from_date, history[0].to_date),
        (day(2023, 3, 1), Some(day(2024, 6, 30)))
    );
    drop(c);

    // A date the schema holds but that is no date is an error on reading, never a default.
    let mut tx = db.begin().await.unwrap();
    Sql::new("UPDATE staff SET joined_on = '2023-02-30' WHERE id = ")
        .bind(&id)
        .execute(&mut tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut c = db.read().await.unwrap();
    assert!(staff::get(&mut c, &all, &id).await.is_err());
});
