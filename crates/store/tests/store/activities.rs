//! Volunteer activities (issue 15 item 1): publishing with insurance, sign-up within the quota and
//! with a guardian's consent, the attendance rules as stored, hour records through notice to
//! recorded and corrected, certificates only from the organiser, and an EARN from recorded hours.

use shegong_domain::network::station::Status;
use shegong_domain::timebank::{AccountKind, EntryKind, HolderKind, SourceKind};
use shegong_domain::volunteers::activities::{HourState, HourStep, SignInMethod};
use shegong_store::StoreError;
use shegong_store::volunteers::activities::{self as act, ActivityInput, Mark};
use shegong_store::volunteers::hours::{self, CertificateInput, StepInput};
use shegong_store::volunteers::registry;

use super::stations::{input, station};
use super::volunteers::{keys, today, volunteer};
use super::*;

/// 2026-06-01 00:00 China Standard Time, and an hour.
const DAY0: i64 = 1_780_243_200_000;
const H: i64 = 3_600_000;

fn refused<T: std::fmt::Debug>(r: Result<T, StoreError>, field: &str, code: &str) {
    match r {
        Err(StoreError::Invalid(e)) => assert_eq!((e.field, e.code), (field, code)),
        other => panic!("expected {field}: {code}, got {other:?}"),
    }
}

fn activity(station: &str, name: &str, from: i64, to: i64, risky: bool) -> ActivityInput {
    ActivityInput {
        station_id: station.into(),
        team_id: None,
        name: name.into(),
        starts_at: from,
        ends_at: to,
        address: "荷塘区贺家土街道社工站活动室".into(),
        recipients: "独居老人".into(),
        content: "上门陪伴、代购".into(),
        requirements: String::new(),
        quota: 2,
        risky,
        insurance_ref: None,
    }
}

async fn create(db: &Db, a: &ActivityInput) -> String {
    let mut tx = db.begin().await.unwrap();
    let id = act::create(&mut tx, &scope("430203001"), a, "t", DAY0)
        .await
        .unwrap();
    act::step(
        &mut tx,
        &scope("430203001"),
        &id,
        "open",
        Some("PICC-1"),
        DAY0,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

async fn person(db: &Db, name: &str, id: &str, birth: &str) -> String {
    let mut tx = db.begin().await.unwrap();
    let mut v = volunteer("430203001", name, id, birth);
    if birth > "2012" {
        v.guardian_name = "王丽".into();
        v.guardian_consent_on = Some("2026-05-01".into());
    }
    let id = registry::create(
        &mut tx,
        &scope("430203001"),
        &keys(),
        &v,
        today(),
        "t",
        DAY0,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

async fn sign_up(db: &Db, a: &str, v: &str, consent: bool) -> Result<(), StoreError> {
    let mut tx = db.begin().await.unwrap();
    act::sign_up(&mut tx, &scope("430203001"), a, v, consent, ("t", DAY0)).await?;
    tx.commit().await.unwrap();
    Ok(())
}

async fn mark(db: &Db, a: &str, v: &str, at: i64, out: bool) -> Result<Option<String>, StoreError> {
    let mut tx = db.begin().await.unwrap();
    let m = Mark {
        activity_id: a,
        volunteer_id: v,
        at,
        method: SignInMethod::Organiser,
    };
    let s = scope("430203001");
    let r = if out {
        act::sign_out(&mut tx, &s, &m, ("t", DAY0 + 48 * H))
            .await?
            .hours_id
    } else {
        act::sign_in(&mut tx, &s, &m, ("t", DAY0 + 48 * H)).await?;
        None
    };
    tx.commit().await.unwrap();
    Ok(r)
}

async fn step(
    db: &Db,
    id: &str,
    s: HourStep,
    reason: &str,
    minutes: Option<i64>,
    day: &str,
) -> Result<hours::Stepped, StoreError> {
    let mut tx = db.begin().await.unwrap();
    let input = StepInput {
        step: s,
        publicity_days: shegong_domain::volunteers::activities::HOURS_PUBLICITY_DAYS,
        reason: reason.into(),
        minutes,
    };
    let today = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap();
    let r = hours::step(&mut tx, &scope("430203001"), id, &input, ("t", DAY0), today).await?;
    tx.commit().await.unwrap();
    Ok(r)
}

async fn minutes_of(db: &Db, v: &str) -> i64 {
    let mut c = db.read().await.unwrap();
    hours::recorded_minutes(&mut c, v).await.unwrap()
}

db_test!(
    risky_activities_open_insured_and_sign_ups_keep_quota_and_consent,
    |db| {
        let st = station(
            &db,
            "430203",
            &input("430203001", "贺家土站", Status::Operating, None),
        )
        .await;
        let mut tx = db.begin().await.unwrap();
        let s = scope("430203001");
        let risky = act::create(
            &mut tx,
            &s,
            &activity(&st, "防汛巡查", DAY0 + 9 * H, DAY0 + 12 * H, true),
            "t",
            DAY0,
        )
        .await
        .unwrap();
        refused(
            act::step(&mut tx, &s, &risky, "open", None, DAY0).await,
            "insurance_ref",
            "activity.insurance_required",
        );
        act::step(&mut tx, &s, &risky, "open", Some("PICC-2026-77"), DAY0)
            .await
            .unwrap();
        assert_eq!(
            act::get(&mut tx, &s, &risky)
                .await
                .unwrap()
                .insurance_ref
                .as_deref(),
            Some("PICC-2026-77")
        );
        // Out of scope: not found.
        assert!(matches!(
            act::get(&mut tx, &scope("430202"), &risky).await,
            Err(StoreError::NotFound)
        ));
        tx.commit().await.unwrap();

        let a = create(
            &db,
            &activity(&st, "探访独居老人", DAY0 + 9 * H, DAY0 + 12 * H, false),
        )
        .await;
        let adult = person(&db, "刘思雨", "43020319900307002X", "1990-03-07").await;
        let child = person(&db, "王小明", "430203201301010016", "2013-01-01").await;
        let other = person(&db, "李华", "430203199105060011", "1991-05-06").await;
        refused(
            sign_up(&db, &a, &child, false).await,
            "guardian_consent",
            "signup.guardian_consent_required",
        );
        sign_up(&db, &a, &child, true).await.unwrap();
        sign_up(&db, &a, &adult, false).await.unwrap();
        refused(
            sign_up(&db, &a, &adult, false).await,
            "volunteer_id",
            "signup.already",
        );
        refused(
            sign_up(&db, &a, &other, false).await,
            "activity",
            "activity.full",
        );
        let mut tx = db.begin().await.unwrap();
        act::withdraw(&mut tx, &s, &a, &child).await.unwrap();
        tx.commit().await.unwrap();
        sign_up(&db, &a, &other, false).await.unwrap();
        let mut c = db.read().await.unwrap();
        let list = act::sign_ups(&mut c, &s, &a).await.unwrap();
        assert_eq!(list.iter().filter(|x| x.status == "signed_up").count(), 2);
        assert_eq!(act::get(&mut c, &s, &a).await.unwrap().signed_up, 2);
    }
);

db_test!(attendance_rules_hold_in_storage, |db| {
    let st = station(
        &db,
        "430203",
        &input("430203001", "贺家土站", Status::Operating, None),
    )
    .await;
    let v = person(&db, "刘思雨", "43020319900307002X", "1990-03-07").await;
    let mut ids = Vec::new();
    for (i, (from, to)) in [(6, 8), (8, 10), (10, 12), (13, 15)]
        .into_iter()
        .enumerate()
    {
        let a = create(
            &db,
            &activity(
                &st,
                &format!("活动{i}"),
                DAY0 + from * H,
                DAY0 + to * H,
                false,
            ),
        )
        .await;
        sign_up(&db, &a, &v, false).await.unwrap();
        ids.push(a);
    }
    let long = create(
        &db,
        &activity(&st, "长时服务", DAY0 + 7 * H, DAY0 + 47 * H, false),
    )
    .await;
    sign_up(&db, &long, &v, false).await.unwrap();
    // Three sessions; travel between them is not counted.
    for (a, from, to) in [(&ids[0], 6, 7), (&ids[1], 8, 9), (&ids[2], 10, 11)] {
        mark(&db, a, &v, DAY0 + from * H, false).await.unwrap();
        assert!(
            mark(&db, a, &v, DAY0 + to * H, true)
                .await
                .unwrap()
                .is_some()
        );
    }
    // An overlapping session elsewhere is refused, then a fourth sign-in of the day.
    refused(
        mark(&db, &long, &v, DAY0 + 8 * H + 30 * 60_000, false).await,
        "sign_in",
        "attendance.overlap",
    );
    refused(
        mark(&db, &ids[3], &v, DAY0 + 13 * H, false).await,
        "sign_in",
        "attendance.too_many_sign_ins",
    );
    refused(
        mark(&db, &ids[3], &v, DAY0 + 14 * H, true).await,
        "sign_out",
        "attendance.not_signed_in",
    );
    // The next day: a 17-hour session breaks the day's cap.
    refused(
        mark(&db, &long, &v, DAY0 + 24 * H - 60_000 * 30, false).await,
        "sign_in",
        "attendance.too_many_sign_ins",
    );
    mark(&db, &long, &v, DAY0 + 25 * H, false).await.unwrap();
    refused(
        mark(&db, &long, &v, DAY0 + 42 * H, true).await,
        "sign_out",
        "attendance.day_cap",
    );
    let mut c = db.read().await.unwrap();
    let rows = act::attendance(&mut c, &scope("430203001"), &ids[0])
        .await
        .unwrap();
    assert_eq!(rows[0].minutes, Some(60));
});

db_test!(
    hours_go_through_notice_are_corrected_as_new_records_and_certified_by_the_organiser,
    |db| {
        let st = station(
            &db,
            "430203",
            &input("430203001", "贺家土站", Status::Operating, None),
        )
        .await;
        let other_st = station(
            &db,
            "430203",
            &input("430203002", "月塘站", Status::Operating, None),
        )
        .await;
        let v = person(&db, "刘思雨", "43020319900307002X", "1990-03-07").await;
        let a = create(
            &db,
            &activity(&st, "探访", DAY0 + 9 * H, DAY0 + 12 * H, false),
        )
        .await;
        sign_up(&db, &a, &v, false).await.unwrap();
        mark(&db, &a, &v, DAY0 + 9 * H, false).await.unwrap();
        let h = mark(&db, &a, &v, DAY0 + 11 * H, true)
            .await
            .unwrap()
            .unwrap();
        refused(
            step(&db, &h, HourStep::Record, "", None, "2026-06-01").await,
            "step",
            "hours.step_not_allowed",
        );
        step(&db, &h, HourStep::Confirm, "", None, "2026-06-01")
            .await
            .unwrap();
        refused(
            step(&db, &h, HourStep::Record, "", None, "2026-06-03").await,
            "step",
            "hours.publicity_running",
        );
        step(&db, &h, HourStep::Record, "", None, "2026-06-04")
            .await
            .unwrap();
        assert_eq!(minutes_of(&db, &v).await, 120);
        // A correction: the old record ends, a new pending one carries the right minutes.
        refused(
            step(&db, &h, HourStep::Correct, "", Some(150), "2026-06-06").await,
            "reason",
            "hours.reason_required",
        );
        let c = step(
            &db,
            &h,
            HourStep::Correct,
            "签退漏记半小时",
            Some(150),
            "2026-06-06",
        )
        .await
        .unwrap();
        assert_eq!(c.after, HourState::Corrected);
        assert_eq!(minutes_of(&db, &v).await, 0);
        let new = c.replacement.unwrap();
        step(&db, &new, HourStep::Confirm, "", None, "2026-06-06")
            .await
            .unwrap();
        step(&db, &new, HourStep::Record, "", None, "2026-06-10")
            .await
            .unwrap();
        assert_eq!(minutes_of(&db, &v).await, 150);
        {
            let mut c = db.read().await.unwrap();
            let old = hours::get(&mut c, &scope("430203001"), &h).await.unwrap();
            assert_eq!((old.minutes, old.state), (120, HourState::Corrected));
            assert!(hours::verify(&mut c).await.unwrap().is_empty());
            // The maintained counters agree with the raw rows: one active volunteer (no star
            // yet), 150 recorded minutes in the month served, at the county too.
            use shegong_store::statistics::counters::{self, Dim, Regions};
            assert!(counters::verify(&mut c).await.unwrap().is_empty());
            let s = scope("430203");
            let one = Regions::One("430203");
            let hrs = counters::read(&mut c, &s, one, Dim::VolunteerHours, "2026-06", "2026-06")
                .await
                .unwrap();
            assert_eq!((hrs[0].n, hrs[0].minutes), (1, 150));
            let one = Regions::One("430203");
            let stars = counters::read(&mut c, &s, one, Dim::VolunteerStars, "", "")
                .await
                .unwrap();
            assert_eq!((stars[0].key.as_str(), stars[0].n), ("0", 1));
        }
        // Only the organiser certifies: the other station has no hours to certify.
        let cert = |station: &str| CertificateInput {
            volunteer_id: v.clone(),
            station_id: station.into(),
            person_in_charge: "张站长".into(),
            handler: "李社工".into(),
            contact: "0731-22880000".into(),
            period: Some(("2026-01-01".into(), "2026-12-31".into())),
        };
        let mut tx = db.begin().await.unwrap();
        let s = scope("430203");
        let today = chrono::NaiveDate::from_ymd_opt(2026, 6, 20).unwrap();
        refused(
            hours::issue(&mut tx, &s, &cert(&other_st), ("t", DAY0), today).await,
            "station",
            "vcert.no_hours",
        );
        let id = hours::issue(&mut tx, &s, &cert(&st), ("t", DAY0), today)
            .await
            .unwrap();
        let got = hours::certificate(&mut tx, &s, &id).await.unwrap();
        assert_eq!(
            (got.minutes, got.cert_no.as_str()),
            (150, "ZM43020300120260001")
        );
        assert_eq!(got.publicity_until, "2026-06-27");
        tx.commit().await.unwrap();

        // The hours earn time credits once, for their own volunteer only; then they cannot be revoked.
        use shegong_store::timebank as tb;
        let mut tx = db.begin().await.unwrap();
        let s = scope("430203001");
        let rules: shegong_domain::timebank::Rules = serde_json::from_str(
        r#"{"unit_minutes":60,"daily_earn_cap":null,"balance_cap":null,"cap_overflow":"refuse","redeem_min_earned":0,
            "transfer_to":"none","min_balance":0,"eligible_kinds":["visit"],"partners":[]}"#,
    )
    .unwrap();
        let scheme = tb::create_scheme(
            &mut tx,
            &s,
            &tb::SchemeInput {
                region: code("430203001"),
                name: "贺家土时间银行".into(),
                operator: "贺家土街道社工站".into(),
                rules,
            },
            "t",
            DAY0,
        )
        .await
        .unwrap();
        let acc = |holder: &str| tb::AccountInput {
            kind: AccountKind::Person,
            holder_kind: HolderKind::Volunteer,
            holder_id: Some(holder.into()),
            holder_name: String::new(),
        };
        let mine = tb::open_account(&mut tx, &s, &scheme, &acc(&v), "t", DAY0)
            .await
            .unwrap();
        let earn = tb::EntryInput {
            kind: EntryKind::Earn,
            amount: 0,
            to_account_id: None,
            source_kind: SourceKind::VolunteerHours,
            source_id: Some(new.clone()),
            note: String::new(),
        };
        refused(
            tb::post(
                &mut tx,
                &s,
                &mine,
                &tb::EntryInput {
                    source_id: Some(h.clone()),
                    ..earn.clone()
                },
                "t",
                DAY0,
            )
            .await,
            "source_id",
            "timebank.hours_not_recorded",
        );
        tb::post(&mut tx, &s, &mine, &earn, "t", DAY0)
            .await
            .unwrap();
        assert_eq!(
            tb::get_account(&mut tx, &s, &mine).await.unwrap().balance,
            2
        );
        refused(
            tb::post(&mut tx, &s, &mine, &earn, "t", DAY0).await,
            "source_id",
            "timebank.source_used",
        );
        tx.commit().await.unwrap();
        refused(
            step(&db, &new, HourStep::Revoke, "重复", None, "2026-06-21").await,
            "step",
            "hours.earned",
        );
    }
);
