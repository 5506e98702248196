//! Hotlines and tickets (issue 16 item 1): roster, the ticket loop with illegal steps refused,
//! due times and escalation on a given clock, matching the caller, a ticket turned into a case
//! and a counted service record, crisis notifications, scope and bad input, on both databases.

#[allow(unused_imports)]
use super::*;

use shegong_domain::hotline::{
    Category, Channel, HotlineKind, Outcome, Satisfaction, Sla, Step, TicketState, Urgency,
};
use shegong_domain::network::station::Status;
use shegong_store::crypto::KeyRing;
use shegong_store::hotline::tickets::{self as tk, Filter, OutcomeInput, StepInput, TicketInput};
use shegong_store::hotline::{self as hl, DutyInput, HotlineInput};
use shegong_store::people::cases;
use shegong_store::people::residents::{ID_FIELD, Viewer};
use shegong_store::sql::Sql;
use shegong_store::{PageRequest, StoreError, StoreResult};

use super::evaluations::{invalid, write};

const TOWN: &str = "430203001";
const OTHER: &str = "430202";
/// Friday 2026-06-05 09:00 CST.
const FRI_9: i64 = 1_780_621_200_000;
const DAY: i64 = 86_400_000;

async fn world(db: &Db) -> (String, String, String) {
    let st = super::stations::station(
        db,
        "4302",
        &super::stations::input(TOWN, "桂花社工站", Status::Operating, None),
    )
    .await;
    let worker = add_user(db, "hl_worker", Role::SocialWorker, TOWN).await;
    let sup = add_user(db, "hl_sup", Role::Supervisor, "430203").await;
    (st, worker, sup)
}

fn ticket(station: &str, category: Category) -> TicketInput {
    TicketInput {
        station_id: station.into(),
        hotline_id: None,
        channel: Channel::Phone,
        received_at: None,
        caller_name: "李阿姨".into(),
        caller_phone: Some("13800001234".into()),
        caller_id_number: None,
        category,
        urgency: Urgency::Normal,
        content: "独居老人家中停水，求助".into(),
        assignee_user_id: None,
        external_no: None,
        external_state: String::new(),
    }
}

async fn take(
    db: &Db,
    keys: &std::sync::Arc<KeyRing>,
    input: TicketInput,
    sla: Sla,
    now: i64,
) -> StoreResult<String> {
    let keys = keys.clone();
    write(db, move |c| {
        Box::pin(
            async move { tk::create(c, &scope("4302"), &keys, &input, sla, "u-taker", now).await },
        )
    })
    .await
}

async fn step(db: &Db, id: &str, s: Step, input: StepInput, now: i64) -> StoreResult<TicketState> {
    let id = id.to_owned();
    write(db, move |c| {
        Box::pin(async move {
            tk::step(c, &scope("4302"), &id, s, &input, "u-step", now)
                .await
                .map(|(_, a)| a.state)
        })
    })
    .await
}

async fn events(db: &Db, id: &str) -> usize {
    let mut c = db.read().await.unwrap();
    tk::history(&mut c, &scope("4302"), id).await.unwrap().len()
}

db_test!(hotlines_have_a_roster_and_a_scope, |db| {
    let (st, worker, _) = world(&db).await;
    let line = |n: &str| HotlineInput {
        station_id: st.clone(),
        number: n.into(),
        name: "红棉守护热线".into(),
        kind: HotlineKind::Emergency,
        active: true,
    };
    let (l1, l2) = (line("0731-28812345"), line("0731-28812345"));
    let id = write(&db, move |c| {
        Box::pin(async move { hl::create(c, &scope("4302"), &l1, "t", FRI_9).await })
    })
    .await
    .unwrap();
    let e = invalid(
        write(&db, move |c| {
            Box::pin(async move { hl::create(c, &scope("4302"), &l2, "t", FRI_9).await })
        })
        .await,
    );
    assert_eq!((e.field, e.code), ("number", "hotline.number_taken"));
    let bad = line("12a");
    let e = invalid(
        write(&db, move |c| {
            Box::pin(async move { hl::create(c, &scope("4302"), &bad, "t", FRI_9).await })
        })
        .await,
    );
    assert_eq!(e.field, "number");
    // A station outside the writer's scope is unknown.
    let other = line("12349");
    let e = invalid(
        write(&db, move |c| {
            Box::pin(async move { hl::create(c, &scope(OTHER), &other, "t", FRI_9).await })
        })
        .await,
    );
    assert_eq!(e.field, "station");

    for (wd, date, s, e) in [
        (Some(5), None, "08:00", "17:00"),
        (None, Some("2026-06-06"), "20:00", "08:00"),
    ] {
        let (hid, d) = (
            id.clone(),
            DutyInput {
                user_id: worker.clone(),
                weekday: wd,
                on_date: date.map(Into::into),
                starts: s.into(),
                ends: e.into(),
            },
        );
        write(&db, move |c| {
            Box::pin(async move { hl::add_duty(c, &scope("4302"), &hid, &d, "t", FRI_9).await })
        })
        .await
        .unwrap();
    }
    let (hid, d) = (
        id.clone(),
        DutyInput {
            user_id: worker.clone(),
            weekday: Some(8),
            on_date: None,
            starts: "08:00".into(),
            ends: "09:00".into(),
        },
    );
    let e = invalid(
        write(&db, move |c| {
            Box::pin(async move { hl::add_duty(c, &scope("4302"), &hid, &d, "t", FRI_9).await })
        })
        .await,
    );
    assert_eq!(e.field, "weekday");
    let mut c = db.read().await.unwrap();
    assert_eq!(
        hl::roster(&mut c, &scope("4302"), &id).await.unwrap().len(),
        2
    );
    // Friday 09:00: the weekly shift; Saturday 23:00 and Sunday 07:00: the dated night shift.
    assert_eq!(
        hl::on_duty(&mut c, &scope("4302"), &id, FRI_9)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        hl::on_duty(&mut c, &scope("4302"), &id, FRI_9 + DAY + 14 * 3_600_000)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        hl::on_duty(&mut c, &scope("4302"), &id, FRI_9 + 2 * DAY - 2 * 3_600_000)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        hl::on_duty(&mut c, &scope("4302"), &id, FRI_9 + 2 * DAY + 3_600_000)
            .await
            .unwrap()
            .len(),
        0
    );
    assert!(matches!(
        hl::get(&mut c, &scope(OTHER), &id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        hl::list(&mut c, &scope(OTHER), None, PageRequest::new(None, None))
            .await
            .unwrap()
            .total,
        0
    );
    assert_eq!(
        hl::list(
            &mut c,
            &scope(TOWN),
            Some("28812345"),
            PageRequest::new(None, None)
        )
        .await
        .unwrap()
        .total,
        1
    );
});

db_test!(
    the_ticket_loop_refuses_illegal_steps_and_escalates_when_late,
    |db| {
        let (st, worker, _) = world(&db).await;
        let keys = std::sync::Arc::new(super::volunteers::keys());
        // A help request on Friday 09:00: three working days, due at the end of Wednesday.
        let id = take(
            &db,
            &keys,
            ticket(&st, Category::Help),
            Sla::WorkingDays(3),
            FRI_9,
        )
        .await
        .unwrap();
        let mut c = db.read().await.unwrap();
        let t = tk::get(&mut c, &scope("4302"), &id).await.unwrap();
        drop(c);
        // Wednesday 10th ends at 16:00 UTC, five days and fifteen hours after Friday 09:00 CST.
        assert_eq!(t.due_at, FRI_9 + 5 * DAY + 15 * 3_600_000);
        assert_eq!((t.state, t.received_at), (TicketState::Received, FRI_9));

        // Replying before anyone took it is refused on `step`, nothing written.
        let e = invalid(step(&db, &id, Step::Reply, StepInput::default(), FRI_9).await);
        assert_eq!((e.field, e.code), ("step", "ticket.step_not_allowed"));
        assert_eq!(events(&db, &id).await, 1);
        // Assigning needs someone in reach.
        let e = invalid(
            step(
                &db,
                &id,
                Step::Assign,
                StepInput {
                    assignee_user_id: Some("nobody".into()),
                    ..Default::default()
                },
                FRI_9,
            )
            .await,
        );
        assert_eq!(e.field, "assignee");
        let to = |a: &str| StepInput {
            assignee_user_id: Some(a.into()),
            ..Default::default()
        };
        assert_eq!(
            step(&db, &id, Step::Assign, to(&worker), FRI_9)
                .await
                .unwrap(),
            TicketState::Assigned
        );
        // 退单 needs a reason, then goes back to 受理.
        assert_eq!(
            invalid(step(&db, &id, Step::Return, StepInput::default(), FRI_9).await).field,
            "note"
        );
        let why = |n: &str| StepInput {
            note: n.into(),
            ..Default::default()
        };
        assert_eq!(
            step(&db, &id, Step::Return, why("非本站辖区"), FRI_9)
                .await
                .unwrap(),
            TicketState::Received
        );
        assert_eq!(
            step(&db, &id, Step::Assign, to(&worker), FRI_9)
                .await
                .unwrap(),
            TicketState::Assigned
        );
        assert_eq!(
            step(&db, &id, Step::Accept, StepInput::default(), FRI_9)
                .await
                .unwrap(),
            TicketState::Accepted
        );
        assert_eq!(
            step(&db, &id, Step::Start, StepInput::default(), FRI_9)
                .await
                .unwrap(),
            TicketState::InProgress
        );

        // Not late on Wednesday; late on Thursday (level 1), county level five working days later.
        let due = FRI_9 + 5 * DAY + 15 * 3_600_000;
        let listed = |now: i64, f: Filter| {
            let db = db.clone();
            async move {
                let mut c = db.read().await.unwrap();
                tk::list(
                    &mut c,
                    &scope("4302"),
                    &f,
                    now,
                    5,
                    PageRequest::new(None, None),
                )
                .await
                .unwrap()
                .total
            }
        };
        let over = || Filter {
            overdue: true,
            ..Default::default()
        };
        let county = || Filter {
            escalated_to: Some(2),
            ..Default::default()
        };
        assert_eq!(listed(due - 1, over()).await, 0);
        assert_eq!(listed(due + 3_600_000, over()).await, 1);
        assert_eq!(listed(due + 3_600_000, county()).await, 0);
        assert_eq!(listed(due + 7 * DAY, county()).await, 1);

        // An extension: requested before the deadline with a reason, approved with a later due time.
        assert_eq!(
            step(
                &db,
                &id,
                Step::RequestExtension,
                why("需协调水务部门"),
                due - DAY
            )
            .await
            .unwrap(),
            TicketState::ExtensionRequested
        );
        let new_due = |d: i64| StepInput {
            new_due_at: Some(d),
            ..Default::default()
        };
        assert_eq!(
            invalid(
                step(
                    &db,
                    &id,
                    Step::ApproveExtension,
                    new_due(due - DAY),
                    due - DAY + 1
                )
                .await
            )
            .field,
            "due_at"
        );
        assert_eq!(
            step(
                &db,
                &id,
                Step::ApproveExtension,
                new_due(due + 3 * DAY),
                due - DAY + 1
            )
            .await
            .unwrap(),
            TicketState::InProgress
        );
        assert_eq!(listed(due + 3_600_000, over()).await, 0);

        assert_eq!(
            step(&db, &id, Step::Reply, why("已协调恢复供水"), due)
                .await
                .unwrap(),
            TicketState::Replied
        );
        assert_eq!(
            listed(due + 30 * DAY, over()).await,
            0,
            "a replied ticket is not overdue"
        );
        assert_eq!(
            step(&db, &id, Step::Close, StepInput::default(), due)
                .await
                .unwrap(),
            TicketState::Closed
        );
        let sat = |s: Satisfaction| StepInput {
            satisfaction: Some(s),
            ..Default::default()
        };
        assert_eq!(
            invalid(step(&db, &id, Step::FollowUp, StepInput::default(), due + DAY).await).field,
            "satisfaction"
        );
        assert_eq!(
            step(
                &db,
                &id,
                Step::FollowUp,
                sat(Satisfaction::Unsatisfied),
                due + DAY
            )
            .await
            .unwrap(),
            TicketState::FollowedUp
        );
        assert_eq!(
            step(&db, &id, Step::Reopen, why("仍未解决"), due + DAY)
                .await
                .unwrap(),
            TicketState::InProgress
        );
        assert_eq!(
            step(&db, &id, Step::Reply, StepInput::default(), due + DAY)
                .await
                .unwrap(),
            TicketState::Replied
        );
        assert_eq!(
            step(&db, &id, Step::Close, StepInput::default(), due + DAY)
                .await
                .unwrap(),
            TicketState::Closed
        );
        assert_eq!(
            step(
                &db,
                &id,
                Step::FollowUp,
                sat(Satisfaction::Satisfied),
                due + 2 * DAY
            )
            .await
            .unwrap(),
            TicketState::FollowedUp
        );
        assert_eq!(
            invalid(step(&db, &id, Step::Reopen, StepInput::default(), due + 2 * DAY).await).field,
            "step"
        );
        assert_eq!(
            step(&db, &id, Step::Archive, StepInput::default(), due + 2 * DAY)
                .await
                .unwrap(),
            TicketState::Archived
        );
        assert_eq!(
            invalid(step(&db, &id, Step::Start, StepInput::default(), due + 2 * DAY).await).field,
            "step"
        );
        let mut c = db.read().await.unwrap();
        let h = tk::history(&mut c, &scope("4302"), &id).await.unwrap();
        let steps: Vec<&str> = h.iter().map(|e| e.step.as_str()).collect();
        assert_eq!(steps.first(), Some(&"receive"));
        assert_eq!(steps.last(), Some(&"archive"));
        assert_eq!(h.len(), 16);
        // Outside the scope the ticket and its history do not exist.
        assert!(matches!(
            tk::get(&mut c, &scope(OTHER), &id).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            tk::history(&mut c, &scope(OTHER), &id).await,
            Err(StoreError::NotFound)
        ));
    }
);

db_test!(bad_tickets_are_refused_whole, |db| {
    let (st, _, _) = world(&db).await;
    let keys = std::sync::Arc::new(super::volunteers::keys());
    let count = || {
        let db = db.clone();
        async move {
            let mut c = db.read().await.unwrap();
            let t = Sql::new("SELECT COUNT(*) FROM tickets")
                .fetch_i64(&mut c)
                .await
                .unwrap();
            let e = Sql::new("SELECT COUNT(*) FROM ticket_events")
                .fetch_i64(&mut c)
                .await
                .unwrap();
            (t, e)
        }
    };
    let dispatch = |no: &str, at: Option<i64>| TicketInput {
        channel: Channel::Dispatch12345,
        external_no: Some(no.into()),
        external_state: "已派单".into(),
        received_at: at,
        ..ticket(&st, Category::Complaint)
    };
    // A 12345 dispatch received in the future.
    let e = invalid(
        take(
            &db,
            &keys,
            dispatch("GD2026060500001", Some(FRI_9 + 60_000)),
            Sla::WorkingDays(13),
            FRI_9,
        )
        .await,
    );
    assert_eq!(
        (e.field, e.code),
        ("received_at", "ticket.received_in_future")
    );
    // A phone call cannot be back-dated; a 12345 dispatch needs its number; only it has one.
    let e = invalid(
        take(
            &db,
            &keys,
            TicketInput {
                received_at: Some(FRI_9 - DAY),
                ..ticket(&st, Category::Help)
            },
            Sla::SameDay,
            FRI_9,
        )
        .await,
    );
    assert_eq!(e.field, "received_at");
    let e = invalid(
        take(
            &db,
            &keys,
            TicketInput {
                external_no: None,
                ..dispatch("x", None)
            },
            Sla::SameDay,
            FRI_9,
        )
        .await,
    );
    assert_eq!((e.field, e.code), ("external_no", "form.required"));
    let e = invalid(
        take(
            &db,
            &keys,
            TicketInput {
                external_no: Some("GD1".into()),
                ..ticket(&st, Category::Help)
            },
            Sla::SameDay,
            FRI_9,
        )
        .await,
    );
    assert_eq!(e.field, "external_no");
    let e = invalid(
        take(
            &db,
            &keys,
            TicketInput {
                content: " ".into(),
                ..ticket(&st, Category::Help)
            },
            Sla::SameDay,
            FRI_9,
        )
        .await,
    );
    assert_eq!(e.field, "content");
    let e = invalid(
        take(
            &db,
            &keys,
            TicketInput {
                caller_phone: Some("12x".into()),
                ..ticket(&st, Category::Help)
            },
            Sla::SameDay,
            FRI_9,
        )
        .await,
    );
    assert_eq!(e.field, "caller_phone");
    let e = invalid(
        take(
            &db,
            &keys,
            TicketInput {
                assignee_user_id: Some("ghost".into()),
                ..ticket(&st, Category::Help)
            },
            Sla::SameDay,
            FRI_9,
        )
        .await,
    );
    assert_eq!(e.field, "assignee");
    assert_eq!(count().await, (0, 0));
    // Back-dated 12345 dispatch: due from its received time; the number is unique.
    let id = take(
        &db,
        &keys,
        dispatch("GD2026060500001", Some(FRI_9 - DAY)),
        Sla::WorkingDays(13),
        FRI_9,
    )
    .await
    .unwrap();
    let e = invalid(
        take(
            &db,
            &keys,
            dispatch("GD2026060500001", None),
            Sla::WorkingDays(13),
            FRI_9,
        )
        .await,
    );
    assert_eq!((e.field, e.code), ("external_no", "ticket.external_taken"));
    assert_eq!(count().await, (1, 1));
    let mut c = db.read().await.unwrap();
    let t = tk::get(&mut c, &scope("4302"), &id).await.unwrap();
    assert_eq!(
        (t.received_at, t.external_state.as_str()),
        (FRI_9 - DAY, "已派单")
    );
    assert_eq!(t.phone(&keys).as_deref(), Some("13800001234"));
    assert!(
        tk::by_external(&mut c, &scope(OTHER), "GD2026060500001")
            .await
            .unwrap()
            .is_none()
    );
});

fn viewer() -> Viewer {
    Viewer {
        scope: scope("4302"),
        user_id: "u-hl".into(),
        sees_protected: false,
        today: chrono::NaiveDate::from_ymd_opt(2026, 6, 5).unwrap(),
    }
}

async fn resident(db: &Db, keys: &KeyRing, id: &str, id_number: &str) {
    let mut tx = db.begin().await.unwrap();
    Sql::new("INSERT INTO residents (id, region_code, name, name_key, birth_date, id_number_hash, risk_tier, legal_basis, status, visit_interval_days, next_visit_due, registered_on, created_by, created_at, updated_at) VALUES (")
        .bind(id).push(", ").bind(TOWN).push(", '李桂兰', 'x', '1950-01-01', ").bind(keys.lookup_hash(ID_FIELD, id_number))
        .push(", 'general', 'consent', 'active', 30, '2026-01-01', '2025-01-01', 'test', ").bind(FRI_9).push(", ").bind(FRI_9).push(")")
        .execute(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
}

async fn services_counted(db: &Db) -> (i64, i64) {
    use shegong_store::statistics::counters::{self, Dim, Regions};
    let mut c = db.read().await.unwrap();
    let n = Sql::new("SELECT COUNT(*) FROM services")
        .fetch_i64(&mut c)
        .await
        .unwrap();
    let rows = counters::read(
        &mut c,
        &scope("4302"),
        Regions::One("430203"),
        Dim::Kind,
        "2000-01",
        "2099-12",
    )
    .await
    .unwrap();
    (
        n,
        rows.iter()
            .filter(|r| r.key == "resource_linking")
            .map(|r| r.n)
            .sum(),
    )
}

db_test!(a_ticket_becomes_a_case_or_a_counted_service_record, |db| {
    let (st, worker, sup) = world(&db).await;
    let keys = std::sync::Arc::new(super::volunteers::keys());
    resident(&db, &keys, "res1", "43020319500101002X").await;
    let input = TicketInput {
        caller_id_number: Some("43020319500101002x".into()),
        assignee_user_id: Some(worker.clone()),
        ..ticket(&st, Category::Help)
    };
    let id = take(&db, &keys, input, Sla::WorkingDays(3), FRI_9)
        .await
        .unwrap();
    let mut c = db.read().await.unwrap();
    let cands = tk::candidates(&mut c, &viewer(), &id).await.unwrap();
    assert_eq!(
        cands
            .iter()
            .map(|c| (c.resident_id.as_str(), c.matched_by.as_str()))
            .collect::<Vec<_>>(),
        vec![("res1", "id_number")]
    );
    drop(c);
    let actor = cases::Actor {
        user_id: sup.clone(),
        name: "hl_sup".into(),
    };
    let outcome = |o: Outcome| OutcomeInput {
        outcome: o,
        org_id: None,
        outcome_ref: String::new(),
        service_kind: None,
        duration_minutes: 30,
        workers: "王社工".into(),
    };
    // Without a confirmed caller there is nobody to open a case for.
    let (tid, a, o) = (id.clone(), actor.clone(), outcome(Outcome::ServiceRecorded));
    let k = keys.clone();
    let e = invalid(
        write(&db, move |c| {
            Box::pin(async move {
                tk::set_outcome(c, &viewer(), &k, &tid, &o, &a, FRI_9)
                    .await
                    .map(|_| ())
            })
        })
        .await,
    );
    assert_eq!(
        (e.field, e.code),
        ("resident_id", "ticket.resident_required")
    );
    // An unknown resident is refused on the field, nothing written.
    let tid = id.clone();
    let e = invalid(
        write(&db, move |c| {
            Box::pin(async move {
                tk::confirm_resident(c, &viewer(), &tid, "no-such", "u", FRI_9)
                    .await
                    .map(|_| ())
            })
        })
        .await,
    );
    assert_eq!(
        (e.field, e.code),
        ("resident_id", "ticket.resident_unknown")
    );
    assert_eq!(events(&db, &id).await, 2);
    let tid = id.clone();
    write(&db, move |c| {
        Box::pin(async move {
            tk::confirm_resident(c, &viewer(), &tid, "res1", "u", FRI_9)
                .await
                .map(|_| ())
        })
    })
    .await
    .unwrap();

    assert_eq!(services_counted(&db).await, (0, 0));
    let (tid, a, o, k) = (
        id.clone(),
        actor.clone(),
        outcome(Outcome::ServiceRecorded),
        keys.clone(),
    );
    let t = write(&db, move |c| {
        Box::pin(async move { tk::set_outcome(c, &viewer(), &k, &tid, &o, &a, FRI_9).await })
    })
    .await
    .unwrap();
    assert!(t.service_id.is_some());
    assert_eq!(services_counted(&db).await, (1, 1));
    // Once only.
    let (tid, a, o, k) = (
        id.clone(),
        actor.clone(),
        outcome(Outcome::Answered),
        keys.clone(),
    );
    assert_eq!(
        invalid(
            write(&db, move |c| Box::pin(async move {
                tk::set_outcome(c, &viewer(), &k, &tid, &o, &a, FRI_9)
                    .await
                    .map(|_| ())
            }))
            .await
        )
        .field,
        "outcome"
    );

    // The same phone calls again: proposed as the confirmed resident; a case is opened from it.
    let again = take(
        &db,
        &keys,
        ticket(&st, Category::Consult),
        Sla::WorkingDays(3),
        FRI_9 + 1000,
    )
    .await
    .unwrap();
    let mut c = db.read().await.unwrap();
    let cands = tk::candidates(&mut c, &viewer(), &again).await.unwrap();
    assert_eq!(
        cands
            .iter()
            .map(|c| c.matched_by.as_str())
            .collect::<Vec<_>>(),
        vec!["earlier_ticket"]
    );
    drop(c);
    let tid = again.clone();
    write(&db, move |c| {
        Box::pin(async move {
            tk::confirm_resident(c, &viewer(), &tid, "res1", "u", FRI_9)
                .await
                .map(|_| ())
        })
    })
    .await
    .unwrap();
    let (tid, a, o, k) = (
        again.clone(),
        actor.clone(),
        outcome(Outcome::CaseOpened),
        keys.clone(),
    );
    let t = write(&db, move |c| {
        Box::pin(async move { tk::set_outcome(c, &viewer(), &k, &tid, &o, &a, FRI_9).await })
    })
    .await
    .unwrap();
    let mut c = db.read().await.unwrap();
    let case = cases::get(&mut c, &viewer(), t.case_id.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(
        (case.resident_id.as_str(), case.station_id.as_deref()),
        ("res1", Some(st.as_str()))
    );
});

db_test!(a_crisis_ticket_notifies_the_supervisors_in_reach, |db| {
    let (st, _, sup) = world(&db).await;
    let far = add_user(&db, "hl_sup_far", Role::Supervisor, "430202").await;
    let keys = std::sync::Arc::new(super::volunteers::keys());
    let id = take(
        &db,
        &keys,
        ticket(&st, Category::Crisis),
        Sla::SameDay,
        FRI_9,
    )
    .await
    .unwrap();
    let calm = take(
        &db,
        &keys,
        ticket(&st, Category::Consult),
        Sla::SameDay,
        FRI_9,
    )
    .await
    .unwrap();
    let mut c = db.read().await.unwrap();
    assert_eq!(
        tk::notified(&mut c, &scope("4302"), &id).await.unwrap(),
        vec![sup.clone()]
    );
    assert!(
        tk::notified(&mut c, &scope("4302"), &calm)
            .await
            .unwrap()
            .is_empty()
    );
    let mine = tk::notifications(&mut c, &scope("430203"), &sup)
        .await
        .unwrap();
    assert_eq!(
        mine.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(),
        vec![id.as_str()]
    );
    assert!(
        tk::notifications(&mut c, &scope("430202"), &far)
            .await
            .unwrap()
            .is_empty()
    );
    let f = Filter {
        crisis: true,
        ..Default::default()
    };
    assert_eq!(
        tk::list(
            &mut c,
            &scope("4302"),
            &f,
            FRI_9,
            5,
            PageRequest::new(None, None)
        )
        .await
        .unwrap()
        .total,
        1
    );
});

db_test!(a_callers_phone_is_resealed_when_the_key_rotates, |db| {
    use shegong_store::crypto::Algorithm;
    let (st, _, _) = world(&db).await;
    let spec = KeyRing::generate_spec(Algorithm::Aes256Gcm);
    let old = std::sync::Arc::new(KeyRing::from_spec(&spec).unwrap());
    let id = take(&db, &old, ticket(&st, Category::Help), Sla::SameDay, FRI_9)
        .await
        .unwrap();
    let mut rotated = spec.clone();
    let mut fresh = KeyRing::generate_spec(Algorithm::Sm4Gcm).keys.remove(0);
    fresh.id = "k-new".into();
    rotated.primary = fresh.id.clone();
    rotated.keys.push(fresh);
    let new = KeyRing::from_spec(&rotated).unwrap();
    assert_eq!(
        shegong_store::reseal::reencrypt(&db, &new).await.unwrap(),
        1
    );
    let mut c = db.read().await.unwrap();
    let t = tk::get(&mut c, &scope("4302"), &id).await.unwrap();
    assert!(
        t.caller_phone_sealed
            .as_deref()
            .unwrap()
            .starts_with("v1:k-new:")
    );
    assert_eq!(t.phone(&new).as_deref(), Some("13800001234"));
});
