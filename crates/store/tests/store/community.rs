//! 急难愁盼 (issue 16 item 3): issues on a colour-coded ledger with due times by policy, the
//! flow with its refusals (unsatisfied sends a matter back), overdue at an instant, the weekly or
//! monthly tally per community, and scope — on both databases.

use shegong_domain::community::{
    Category, Colour, DuePolicy, IssueState, Rating, Responsibility, Source, Step, Subject,
};
use shegong_store::community::{self as cm, Filter, IssueInput, StepInput};
use shegong_store::people::residents::Viewer;
use shegong_store::sql::Sql;
use shegong_store::{PageRequest, StoreError, StoreResult};

use super::evaluations::invalid;
use super::*;

const NOW: i64 = 1_780_000_000_000;
const HOUR: i64 = 3_600_000;
const TOWN: &str = "430202001";

fn viewer(region: &str) -> Viewer {
    Viewer {
        scope: scope(region),
        user_id: "u-worker".into(),
        sees_protected: false,
        today: chrono::NaiveDate::from_ymd_opt(2026, 5, 29).unwrap(),
    }
}

async fn resident(db: &Db, id: &str) {
    let mut tx = db.begin().await.unwrap();
    Sql::new("INSERT INTO residents (id, region_code, name, name_key, birth_date, risk_tier, legal_basis, status, visit_interval_days, next_visit_due, registered_on, created_by, created_at, updated_at) VALUES (")
        .bind(id).push(", ").bind(TOWN).push(", '王奶奶', 'x', '1940-01-01', 'general', 'consent', 'active', 30, '2026-01-01', '2025-01-01', 'test', ").bind(NOW).push(", ").bind(NOW).push(")")
        .execute(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
}

fn input(subject: Subject, colour: Colour) -> IssueInput {
    IssueInput {
        subject,
        resident_id: (subject == Subject::Person).then(|| "r1".to_owned()),
        household_id: None,
        region: Some(code(TOWN)),
        station_id: None,
        source: Source::Visit,
        source_ref: String::new(),
        category: Category::Utilities,
        title: "楼道灯坏了".into(),
        description: "三单元楼道灯不亮，老人夜间出行不便".into(),
        colour,
    }
}

async fn raise(db: &Db, v: &Viewer, i: IssueInput, at: i64) -> StoreResult<String> {
    let mut tx = db.begin().await.unwrap();
    let id = cm::create(&mut tx, v, &i, &|_| DuePolicy::default(), ("tester", at)).await?;
    tx.commit().await.unwrap();
    Ok(id)
}

async fn step(db: &Db, id: &str, step: Step, note: &str, at: i64) -> StoreResult<()> {
    let input = StepInput {
        step,
        responsibility: (step == Step::Assign).then_some(Responsibility::Community),
        handler: if step == Step::Assign {
            "社区居委会".into()
        } else {
            String::new()
        },
        note: note.into(),
    };
    let mut tx = db.begin().await.unwrap();
    cm::step(&mut tx, &scope(TOWN), id, &input, ("tester", at)).await?;
    tx.commit().await.unwrap();
    Ok(())
}

async fn issues(db: &Db, f: Filter) -> Vec<String> {
    let mut c = db.read().await.unwrap();
    cm::list(&mut c, &scope(TOWN), &f, PageRequest::new(None, None))
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|i| i.id)
        .collect()
}

db_test!(
    issues_flow_by_colour_go_overdue_and_are_tallied_in_scope,
    |db| {
        resident(&db, "r1").await;
        let v = viewer(TOWN);
        // Refused, each by name, and nothing written.
        let mut county = input(Subject::Community, Colour::Red);
        county.region = Some(code("430202"));
        let e = invalid(raise(&db, &viewer("430202"), county, NOW).await);
        assert_eq!((e.field, e.code), ("region", "issue.region_level"));
        let mut nobody = input(Subject::Person, Colour::Red);
        nobody.resident_id = Some("nobody".into());
        assert_eq!(
            invalid(raise(&db, &v, nobody, NOW).await).field,
            "resident_id"
        );
        // A file outside the writer's scope is as unknown as one that does not exist.
        let e = invalid(
            raise(
                &db,
                &viewer("430203"),
                input(Subject::Person, Colour::Red),
                NOW,
            )
            .await,
        );
        assert_eq!((e.field, e.code), ("resident_id", "issue.resident_unknown"));
        let mut untitled = input(Subject::Community, Colour::Blue);
        untitled.title = "  ".into();
        assert_eq!(invalid(raise(&db, &v, untitled, NOW).await).field, "title");
        let mut c = db.read().await.unwrap();
        assert_eq!(
            Sql::new("SELECT COUNT(*) FROM community_issues")
                .fetch_i64(&mut c)
                .await
                .unwrap(),
            0
        );
        drop(c);

        let red = raise(&db, &v, input(Subject::Person, Colour::Red), NOW)
            .await
            .unwrap();
        let yellow = raise(&db, &v, input(Subject::Community, Colour::Yellow), NOW)
            .await
            .unwrap();
        let mut c = db.read().await.unwrap();
        let r = cm::get(&mut c, &scope(TOWN), &red).await.unwrap();
        assert_eq!((r.due_at, r.region_code.as_str()), (NOW + 24 * HOUR, TOWN));
        assert!(r.issue_no.starts_with("430202001-"), "{}", r.issue_no);
        let y = cm::get(&mut c, &scope(TOWN), &yellow).await.unwrap();
        assert_eq!(y.due_at, DuePolicy::default().due(Colour::Yellow, NOW));
        assert_ne!(r.issue_no, y.issue_no);
        assert!(matches!(
            cm::get(&mut c, &scope("430203"), &red).await,
            Err(StoreError::NotFound)
        ));
        drop(c);

        // Skipped steps refused; an assignment names who handles it; an answer needs its text.
        assert_eq!(
            invalid(step(&db, &red, Step::Answer, "修好了", NOW).await).field,
            "step"
        );
        step(&db, &red, Step::Verify, "", NOW + HOUR).await.unwrap();
        step(&db, &red, Step::Assign, "", NOW + HOUR).await.unwrap();
        step(&db, &red, Step::Handle, "", NOW + 2 * HOUR)
            .await
            .unwrap();
        assert_eq!(
            invalid(step(&db, &red, Step::Answer, " ", NOW).await).field,
            "note"
        );

        // 25 hours on, the red matter is overdue; the yellow one (five working days) is not.
        let late = NOW + 25 * HOUR;
        let overdue = Filter {
            overdue_at: Some(late),
            ..Filter::default()
        };
        assert_eq!(
            issues(&db, overdue.clone()).await,
            std::slice::from_ref(&red)
        );
        step(&db, &red, Step::Answer, "已联系物业更换灯泡", late)
            .await
            .unwrap();
        assert!(issues(&db, overdue.clone()).await.is_empty());
        // Unsatisfied: handled again; then answered and rated, archived.
        step(&db, &red, Step::Rate(Rating::Unsatisfied), "灯仍闪烁", late)
            .await
            .unwrap();
        let mut c = db.read().await.unwrap();
        let r = cm::get(&mut c, &scope(TOWN), &red).await.unwrap();
        assert_eq!((r.state, r.answered_at), (IssueState::Handling, None));
        drop(c);
        step(&db, &red, Step::Answer, "更换整套灯具", late + HOUR)
            .await
            .unwrap();
        step(&db, &red, Step::Rate(Rating::Satisfied), "", late + HOUR)
            .await
            .unwrap();
        step(&db, &red, Step::Archive, "", late + HOUR)
            .await
            .unwrap();
        let mut c = db.read().await.unwrap();
        let r = cm::get(&mut c, &scope(TOWN), &red).await.unwrap();
        assert_eq!(
            (r.state, r.shown_colour(), r.overdue(late)),
            (IssueState::Archived, "green", true)
        );
        let steps = cm::steps(&mut c, &scope(TOWN), &red).await.unwrap();
        let states: Vec<&str> = steps.iter().map(|s| s.to_state.as_str()).collect();
        assert_eq!(
            states,
            [
                "registered",
                "verified",
                "assigned",
                "handling",
                "answered",
                "handling",
                "answered",
                "rated",
                "archived"
            ]
        );

        // The week's tally per community: two raised (one red, one yellow), one answered late,
        // one rated satisfied; the yellow one still open but not yet due.
        let week = (NOW - 24 * HOUR, NOW + 6 * 24 * HOUR);
        let t = cm::tally(&mut c, &scope(TOWN), None, week).await.unwrap();
        assert_eq!(t.len(), 1);
        let t = &t[0];
        assert_eq!(
            (
                t.raised,
                t.red,
                t.yellow,
                t.answered,
                t.on_time,
                t.satisfied,
                t.overdue
            ),
            (2, 1, 1, 1, 0, 1, 0)
        );
        // The dashboards' counters agree with the rows (the unsatisfied rating took the first
        // answer back): one red and one yellow raised, one answered, late.
        use shegong_store::statistics::counters::{self, Dim, Regions};
        let diff = counters::verify(&mut c).await.unwrap();
        let issues_diff: Vec<_> = diff.iter().filter(|d| d.0.dim == Dim::Issues).collect();
        assert!(issues_diff.is_empty(), "{issues_diff:?}");
        let rows = counters::read(
            &mut c,
            &scope(TOWN),
            Regions::One(TOWN),
            Dim::Issues,
            "2000-01",
            "2099-12",
        )
        .await
        .unwrap();
        let n = |k: &str| rows.iter().filter(|r| r.key == k).map(|r| r.n).sum::<i64>();
        assert_eq!(
            (
                n("raised_red"),
                n("raised_yellow"),
                n("answered"),
                n("on_time")
            ),
            (1, 1, 1, 0)
        );
        assert!(
            cm::tally(&mut c, &scope("430203"), None, week)
                .await
                .unwrap()
                .is_empty()
        );
    }
);
