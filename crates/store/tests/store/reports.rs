//! Hierarchical reporting (issue 17 item 4), on both databases: approval up three levels with
//! each level the approved sum of its children plus its own, return and resubmit, a late record
//! for a locked period shown as 补报 in the next, the unlock flow marking every parent stale, and
//! scope (a county cannot act on another county's township; a unit cannot approve itself).

use shegong_domain::reports::{Action, ReportState};
use shegong_store::reports::{self as rp, Actor, Filter};
use shegong_store::statistics::counters::{self, Changes, Dim, Values};
use shegong_store::{PageRequest, StoreError, StoreResult};

use super::*;

const T1: &str = "430202001";
const T2: &str = "430202002";
const COUNTY: &str = "430202";
const CITY: &str = "4302";
const PROVINCE: &str = "43";
const AT: i64 = 1_780_000_000_000;

/// `n` visits recorded at `region` in `month` (the counters the records maintain).
async fn visits(db: &Db, region: &str, month: &str, n: i64) {
    let mut c = Changes::default();
    c.add(
        region,
        month,
        Dim::Kind,
        "visit",
        Values {
            n,
            person_times: n,
            ..Values::default()
        },
        1,
    );
    let mut tx = db.begin().await.unwrap();
    counters::apply(&mut tx, c).await.unwrap();
    tx.commit().await.unwrap();
}

async fn open(db: &Db, region: &str, period: &str) -> String {
    let mut tx = db.begin().await.unwrap();
    let id = rp::open(
        &mut tx,
        &scope(region),
        "station_monthly",
        &code(region),
        period,
        AT,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

async fn act(db: &Db, by: &str, id: &str, action: Action, reason: &str) -> StoreResult<()> {
    let mut tx = db.begin().await.unwrap();
    let actor = Actor {
        user_id: by,
        name: by,
        at: AT,
    };
    let sc = if by == "national" {
        Scope::national()
    } else {
        scope(by)
    };
    rp::act(&mut tx, &sc, id, action, reason, &actor).await?;
    tx.commit().await.unwrap();
    Ok(())
}

async fn report(db: &Db, id: &str) -> (ReportState, rp::Figured, rp::Report) {
    let mut c = db.read().await.unwrap();
    let r = rp::get(&mut c, &Scope::national(), id).await.unwrap();
    let f = rp::figures(&mut c, &r).await.unwrap();
    (r.state, f, r)
}

fn fig(f: &rp::Figured, line: &str) -> i64 {
    f.figures.get(line).copied().unwrap_or(0)
}

async fn manual(db: &Db, region: &str, id: &str, line: &str, v: i64) -> StoreResult<()> {
    let mut tx = db.begin().await.unwrap();
    let values = [(line.to_owned(), v)].into_iter().collect();
    rp::set_manual(&mut tx, &scope(region), id, &values, AT).await?;
    tx.commit().await.unwrap();
    Ok(())
}

db_test!(approval_goes_up_three_levels_as_sums_of_children, |db| {
    visits(&db, T1, "2026-04", 3).await;
    visits(&db, T2, "2026-04", 4).await;
    visits(&db, COUNTY, "2026-04", 1).await;
    let t1 = open(&db, T1, "2026-04").await;
    let t2 = open(&db, T2, "2026-04").await;
    manual(&db, T1, &t1, "affairs_dibao_changes", 2)
        .await
        .unwrap();
    manual(&db, T2, &t2, "affairs_dibao_changes", 5)
        .await
        .unwrap();
    // Computed lines cannot be typed.
    assert!(matches!(
        manual(&db, T1, &t1, "visits", 9).await,
        Err(StoreError::Invalid(_))
    ));
    for id in [&t1, &t2] {
        act(&db, T1.get(..6).unwrap(), id, Action::Submit, "")
            .await
            .unwrap();
        act(&db, COUNTY, id, Action::Review, "").await.unwrap();
        act(&db, COUNTY, id, Action::Approve, "").await.unwrap();
    }
    let (s, f, r) = report(&db, &t1).await;
    assert_eq!(s, ReportState::Approved);
    assert_eq!(fig(&f, "visits"), 3);
    assert_eq!(
        r.signed_name, COUNTY,
        "the sign-off is recorded with the submission"
    );
    // A record after the township's approval does not change the county's sum.
    visits(&db, T1, "2026-04", 10).await;
    let county = open(&db, COUNTY, "2026-04").await;
    let (_, f, _) = report(&db, &county).await;
    assert_eq!(
        fig(&f, "visits"),
        3 + 4 + 1,
        "approved children plus the county's own"
    );
    assert_eq!(fig(&f, "affairs_dibao_changes"), 7);
    let n = f.children.len() as i64;
    assert_eq!(
        f.completeness,
        2 * 1000 / n,
        "two of the county's townships approved"
    );
    // Submitted on 28 May, after April's due date (15 May): not on time.
    assert!(f.children.iter().any(|c| c.region_code == T1 && !c.on_time));
    assert_eq!(f.timeliness, 0);
    act(&db, COUNTY, &county, Action::Submit, "").await.unwrap();
    assert_eq!(report(&db, &t1).await.0, ReportState::Aggregated);
    act(&db, CITY, &county, Action::Approve, "").await.unwrap();
    assert_eq!(
        report(&db, &t1).await.0,
        ReportState::Locked,
        "the level above's approval locks"
    );
    let city = open(&db, CITY, "2026-04").await;
    act(&db, CITY, &city, Action::Submit, "").await.unwrap();
    act(&db, PROVINCE, &city, Action::Approve, "")
        .await
        .unwrap();
    let (s, f, _) = report(&db, &city).await;
    assert_eq!(s, ReportState::Approved);
    assert_eq!(fig(&f, "visits"), 8);
    assert_eq!(fig(&f, "affairs_dibao_changes"), 7);
    let province = open(&db, PROVINCE, "2026-04").await;
    act(&db, PROVINCE, &province, Action::Submit, "")
        .await
        .unwrap();
    act(&db, "national", &province, Action::Approve, "")
        .await
        .unwrap();
    assert_eq!(fig(&report(&db, &province).await.1, "visits"), 8);
    assert_eq!(report(&db, &county).await.0, ReportState::Locked);
});

db_test!(a_returned_report_is_fixed_and_resubmitted, |db| {
    let t1 = open(&db, T1, "2026-04").await;
    act(&db, T1, &t1, Action::Submit, "").await.unwrap();
    // A return needs its reason.
    assert!(matches!(
        act(&db, COUNTY, &t1, Action::Return, " ").await,
        Err(StoreError::Invalid(_))
    ));
    act(&db, COUNTY, &t1, Action::Return, "低保变动数漏填")
        .await
        .unwrap();
    let (s, _, r) = report(&db, &t1).await;
    assert_eq!(s, ReportState::Returned);
    assert_eq!(r.return_reason, "低保变动数漏填");
    manual(&db, T1, &t1, "affairs_dibao_changes", 3)
        .await
        .unwrap();
    act(&db, T1, &t1, Action::Submit, "").await.unwrap();
    act(&db, COUNTY, &t1, Action::Approve, "").await.unwrap();
    let (s, f, r) = report(&db, &t1).await;
    assert_eq!(
        (s, fig(&f, "affairs_dibao_changes")),
        (ReportState::Approved, 3)
    );
    assert_eq!(r.return_reason, "");
    // Approved figures can no longer be typed over.
    assert!(matches!(
        manual(&db, T1, &t1, "affairs_dibao_changes", 4).await,
        Err(StoreError::Invalid(_))
    ));
    let mut c = db.read().await.unwrap();
    let steps = rp::steps(&mut c, &scope(T1), &t1).await.unwrap();
    let actions: Vec<&str> = steps.iter().map(|s| s.action.as_str()).collect();
    assert_eq!(actions, ["submit", "return", "submit", "approve"]);
});

db_test!(
    a_late_record_for_a_locked_month_shows_as_an_adjustment_next_month,
    |db| {
        visits(&db, T1, "2026-04", 2).await;
        let april = open(&db, T1, "2026-04").await;
        act(&db, T1, &april, Action::Submit, "").await.unwrap();
        act(&db, COUNTY, &april, Action::Approve, "").await.unwrap();
        act(&db, COUNTY, &april, Action::Lock, "").await.unwrap();
        // Recorded in May for April.
        visits(&db, T1, "2026-04", 1).await;
        let (s, f, _) = report(&db, &april).await;
        assert_eq!(
            (s, fig(&f, "visits")),
            (ReportState::Locked, 2),
            "locked means locked"
        );
        let may = open(&db, T1, "2026-05").await;
        let (_, f, _) = report(&db, &may).await;
        assert_eq!(f.adjusted_period.as_deref(), Some("2026-04"));
        assert_eq!(f.adjustments.get("visits"), Some(&1));
        assert_eq!(f.adjustments.get("visit_person_times"), Some(&1));
        assert_eq!(fig(&f, "visits"), 0);
    }
);

db_test!(
    unlocking_needs_a_reason_and_the_level_above_and_marks_parents_stale,
    |db| {
        let t1 = open(&db, T1, "2026-04").await;
        act(&db, T1, &t1, Action::Submit, "").await.unwrap();
        act(&db, COUNTY, &t1, Action::Approve, "").await.unwrap();
        let county = open(&db, COUNTY, "2026-04").await;
        act(&db, COUNTY, &county, Action::Submit, "").await.unwrap();
        act(&db, CITY, &county, Action::Approve, "").await.unwrap();
        let city = open(&db, CITY, "2026-04").await;
        act(&db, CITY, &city, Action::Submit, "").await.unwrap();
        act(&db, PROVINCE, &city, Action::Approve, "")
            .await
            .unwrap();
        assert_eq!(report(&db, &t1).await.0, ReportState::Locked);
        assert!(matches!(
            act(&db, T1, &t1, Action::RequestUnlock, "").await,
            Err(StoreError::Invalid(_))
        ));
        // Not requested yet: nothing to approve.
        assert!(
            act(&db, COUNTY, &t1, Action::ApproveUnlock, "")
                .await
                .is_err()
        );
        act(&db, T1, &t1, Action::RequestUnlock, "四月探访漏录两户")
            .await
            .unwrap();
        assert!(
            act(&db, T1, &t1, Action::RequestUnlock, "again")
                .await
                .is_err(),
            "one request at a time"
        );
        // The unit cannot approve its own unlock.
        assert!(act(&db, T1, &t1, Action::ApproveUnlock, "").await.is_err());
        {
            let mut c = db.read().await.unwrap();
            let todo = rp::awaiting(&mut c, &scope(COUNTY)).await.unwrap();
            assert!(
                todo.iter().any(|r| r.id == t1),
                "the request awaits the county"
            );
        }
        act(&db, COUNTY, &t1, Action::ApproveUnlock, "")
            .await
            .unwrap();
        let (s, _, r) = report(&db, &t1).await;
        assert_eq!(s, ReportState::Draft);
        assert!(r.snapshot.is_none());
        for id in [&county, &city] {
            assert_eq!(report(&db, id).await.2.stale, 1, "every parent is stale");
        }
        let mut c = db.read().await.unwrap();
        let stale = rp::list(
            &mut c,
            &scope(CITY),
            &Filter {
                stale: true,
                ..Filter::default()
            },
            PageRequest::new(None, None),
        )
        .await
        .unwrap();
        assert_eq!(stale.total, 2);
        let todo = rp::awaiting(&mut c, &scope(T1)).await.unwrap();
        assert!(
            todo.iter().any(|r| r.id == t1),
            "the reopened draft awaits the township"
        );
    }
);

db_test!(a_county_cannot_act_on_another_countys_township, |db| {
    let t1 = open(&db, T1, "2026-04").await;
    act(&db, T1, &t1, Action::Submit, "").await.unwrap();
    // Another county (430203) does not see it; the township cannot approve itself.
    assert!(matches!(
        act(&db, "430203", &t1, Action::Approve, "").await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        act(&db, T1, &t1, Action::Approve, "").await,
        Err(StoreError::Invalid(_))
    ));
    let mut c = db.read().await.unwrap();
    assert!(matches!(
        rp::get(&mut c, &scope("430203"), &t1).await,
        Err(StoreError::NotFound)
    ));
    let other = rp::list(
        &mut c,
        &scope("430203"),
        &Filter::default(),
        PageRequest::new(None, None),
    )
    .await
    .unwrap();
    assert_eq!(other.total, 0);
    drop(c);
    // Nor open a report for a unit outside its scope.
    let mut tx = db.begin().await.unwrap();
    let r = rp::open(
        &mut tx,
        &scope("430203"),
        "station_monthly",
        &code(T1),
        "2026-04",
        AT,
    )
    .await;
    assert!(matches!(r, Err(StoreError::NotFound)));
});

db_test!(
    drafts_open_for_every_reporting_unit_once_a_period_ends,
    |db| {
        use shegong_domain::network::station::Status;
        let (s, st) = (super::stations::station, super::stations::input);
        s(&db, "43", &st(T1, "一号站", Status::Operating, None)).await;
        s(
            &db,
            "43",
            &st(T2, "二号站", Status::UnderConstruction, None),
        )
        .await;
        // A closed station's township does not report.
        s(&db, "43", &st("430203001", "关闭站", Status::Closed, None)).await;
        // The township already opened its November report by hand.
        let own = open(&db, T1, "2026-11").await;
        let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
        let mut tx = db.begin().await.unwrap();
        let n = rp::open_ended(&mut tx, today, AT).await.unwrap();
        tx.commit().await.unwrap();
        let mut c = db.read().await.unwrap();
        let all = rp::list(
            &mut c,
            &Scope::national(),
            &Filter::default(),
            PageRequest::new(None, Some(200)),
        )
        .await
        .unwrap();
        let mut got: Vec<(String, String, String)> = all
            .items
            .iter()
            .map(|r| {
                (
                    r.template_code.clone(),
                    r.region_code.clone(),
                    r.period.clone(),
                )
            })
            .collect();
        got.sort();
        let mut want = vec![];
        for (t, p) in [
            ("station_annual", "2025"),
            ("station_monthly", "2026-11"),
            ("station_quarterly", "2026-Q3"),
        ] {
            for u in [PROVINCE, CITY, COUNTY, T1, T2] {
                want.push((t.to_owned(), u.to_owned(), p.to_owned()));
            }
        }
        want.sort();
        assert_eq!(got, want);
        assert_eq!(n, want.len() - 1, "the hand-opened report is kept");
        assert!(all.items.iter().any(|r| r.id == own));
        assert!(all.items.iter().all(|r| r.state == ReportState::Draft));
        let monthly = all.items.iter().find(|r| r.period == "2026-11").unwrap();
        assert_eq!(monthly.due_on, "2026-12-15");
        drop(c);
        // Again: nothing new.
        let mut tx = db.begin().await.unwrap();
        assert_eq!(rp::open_ended(&mut tx, today, AT).await.unwrap(), 0);
        tx.commit().await.unwrap();
    }
);
