//! Issue 20 items 1 and 4: what one write, and each read of the load bench's mix, costs in
//! statements. A home visit recorded through
//! `POST /api/v1/services` with a bearer token — authentication, checks, the record, its
//! counters, the resident's schedule, the audit entry, the answer — is counted from sqlx's own
//! statement log, so a change that adds a round trip per write fails here, by name.
//! (nextest runs each test in its own process: the log holds this test's statements only.)

use std::sync::{Mutex, OnceLock};

use serde_json::json;
use tracing_subscriber::layer::{Context, SubscriberExt};

use super::fixtures::{count, send_json};
use super::*;

/// Statements sqlx has run since the last `take`, as their log lines.
static STATEMENTS: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Statements;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Statements {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() == "sqlx::query" {
            let mut line = Line(String::new());
            event.record(&mut line);
            // A pool opening a connection meanwhile sets it up (`PRAGMA …`, logged with an empty
            // line after the batch; PostgreSQL's `SET …` and `DO $$ …` of `db::postgres_session`):
            // not the write's cost. (PostgreSQL also logs its commit with an empty line.)
            let sql = line.0.trim_start_matches(|c: char| !c.is_ascii_uppercase());
            if !sql.is_empty() && !sql.starts_with("PRAGMA") && !sql.starts_with("DO $$") {
                STATEMENTS.lock().unwrap().push(line.0);
            }
        }
    }
}

struct Line(String);

impl tracing::field::Visit for Line {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "db.statement" || (self.0.is_empty() && field.name() == "summary") {
            self.0 = format!("{value:?}").chars().take(160).collect();
        }
    }
}

fn listen() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let _ = tracing::subscriber::set_global_default(
            tracing_subscriber::registry().with(Statements),
        );
    });
}

fn take() -> Vec<String> {
    std::mem::take(&mut *STATEMENTS.lock().unwrap())
}

const TOWN: &str = "430202001";

/// A county administrator signed in, the same account's API client (a bearer token) and a
/// resident it registered through the API.
async fn signed_in_with_a_resident(app: &TestApp) -> (Client, Client, String) {
    let mut c = app.login_as(Role::CivilAffairsAdmin, "430202").await;
    let page = c.post_form("/account/tokens", &[("name", "phone")]).await;
    let secret = page.select("#new-token")[0].clone();
    let mut api = app.client();
    api.headers
        .push(("authorization".into(), format!("Bearer {secret}")));
    let res = send_json(
        &mut api,
        Method::POST,
        "/api/v1/residents",
        json!({
            "name": "赵桂兰", "birth_date": "1948-03-02", "region": TOWN, "risk_tier": "general",
            "legal_basis": "statutory_duty", "confirm_duplicates": true,
        }),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let rid = res.json()["id"].as_str().unwrap().to_owned();
    (c, api, rid)
}

app_test!(a_visit_through_the_api_runs_few_statements, |app| {
    listen();
    let (_session, mut api, rid) = signed_in_with_a_resident(&app).await;
    let today = shegong_web::ui::forms::today(app.state.now());
    let yesterday = chrono::NaiveDate::parse_from_str(&today, "%Y-%m-%d")
        .unwrap()
        .pred_opt()
        .unwrap()
        .to_string();
    let visit = |on: &str| {
        json!({
            "kind": "visit", "domain": "elderly", "resident_id": rid, "method": "home",
            "served_on": on, "duration_minutes": 30, "workers": "王芳",
        })
    };
    // The first write also warms what is cached per process (and marks the token used); the
    // second is the latest visit, so the resident's schedule moves too.
    let res = send_json(
        &mut api,
        Method::POST,
        "/api/v1/services",
        visit(&yesterday),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    take();
    // A machine client sends no CSRF token (`send_json` fetches one first: two more requests).
    let body = Some(("application/json", visit(&today).to_string()));
    let res = api.send(Method::POST, "/api/v1/services", body, &[]).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let ran = take();
    let listing = ran.join("\n");
    eprintln!("{} statements:\n{listing}", ran.len());
    assert!(
        ran.len() <= BUDGET,
        "{} statements, budget {BUDGET}:\n{listing}",
        ran.len()
    );
});

/// Statements per recorded visit, measured on both databases (26 before issue 20, 14 before the
/// credentials were remembered: `http::credentials`); lower it when a change saves one.
const BUDGET: usize = 12;

// Group commit (`Db::grouped`): writes sent at once share transactions; each is acknowledged
// only once committed, a refused one is undone alone, and the audit chain and the counters stay
// exact. Some clients give up mid-request (their future dropped): what they wrote is either
// wholly there with its entry or not at all, and nobody else waits on them.
app_test!(
    writes_sent_at_once_are_committed_together_and_exactly,
    |app| {
        let mut c = app.login_as(Role::CivilAffairsAdmin, "430202").await;
        let page = c.post_form("/account/tokens", &[("name", "load")]).await;
        let secret = page.select("#new-token")[0].clone();
        let mut api = app.client();
        api.headers
            .push(("authorization".into(), format!("Bearer {secret}")));
        let mut people = Vec::new();
        for i in 0..4 {
            let res = send_json(
            &mut api,
            Method::POST,
            "/api/v1/residents",
            json!({
                "name": format!("测试{i}"), "birth_date": "1948-03-02", "region": TOWN,
                "risk_tier": "general", "legal_basis": "statutory_duty", "confirm_duplicates": true,
            }),
        )
        .await;
            assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
            people.push(res.json()["id"].as_str().unwrap().to_owned());
        }
        let today = shegong_web::ui::forms::today(app.state.now());
        let before = count(&app, "SELECT COUNT(*) FROM services").await;
        let entries_before = count(&app, "SELECT COUNT(*) FROM audit_log").await;
        let grouped = app.state.db.grouped_counts();
        let mut sent = tokio::task::JoinSet::new();
        for i in 0..48usize {
            let mut client = app.client();
            client.headers = api.headers.clone();
            // Every fourth is refused inside its write (nobody of that id on file), behind the
            // writes before it in its batch.
            let who = if i % 4 == 3 {
                format!("nobody-{i}")
            } else {
                people[i % 4].clone()
            };
            let body = json!({
                "kind": "visit", "domain": "elderly", "resident_id": who, "method": "home",
                "served_on": today, "duration_minutes": 30 + i, "workers": "王芳",
            })
            .to_string();
            sent.spawn(async move {
                let send = client.send(
                    Method::POST,
                    "/api/v1/services",
                    Some(("application/json", body)),
                    &[],
                );
                if i % 12 == 5 {
                    // Gives up almost at once: wherever that falls, the rest go on.
                    tokio::time::timeout(std::time::Duration::from_micros(300), send)
                        .await
                        .ok()
                        .map(|r| r.status)
                } else {
                    Some(send.await.status)
                }
            });
        }
        let (mut created, mut refused, mut abandoned) = (0, 0, 0);
        while let Some(done) = sent.join_next().await {
            match done.unwrap() {
                Some(StatusCode::CREATED) => created += 1,
                Some(StatusCode::UNPROCESSABLE_ENTITY) => refused += 1,
                None => abandoned += 1,
                Some(other) => panic!("answered {other}"),
            }
        }
        assert_eq!(refused, 12);
        let (kept, commits) = app.state.db.grouped_counts();
        let (kept, commits) = (kept - grouped.0, commits - grouped.1);
        assert!(
            commits < kept,
            "{kept} writes in {commits} commits: none shared one"
        );
        assert!(created >= 32, "{created} created, {abandoned} abandoned");
        // Let a flush for an abandoned write finish.
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let written = count(&app, "SELECT COUNT(*) FROM services").await - before;
        let entries = count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE entity = 'service'",
        )
        .await;
        assert!(
            written >= created && written <= created + abandoned,
            "{written} written, {created} acknowledged, {abandoned} abandoned"
        );
        // One entry per record kept, none for the refused.
        assert_eq!(entries, written);
        assert!(count(&app, "SELECT COUNT(*) FROM audit_log").await >= entries_before + written);
        let mut conn = app.state.db.read().await.unwrap();
        let chain = shegong_store::admin::audit::verify(&mut conn)
            .await
            .unwrap();
        assert!(chain.ok(), "{:?}", chain.breaks);
        drop(conn);
        shegong_store::statistics::counters::fold(&app.state.db)
            .await
            .unwrap();
        let mut conn = app.state.db.read().await.unwrap();
        let diff = shegong_store::statistics::counters::verify(&mut conn)
            .await
            .unwrap();
        assert!(diff.is_empty(), "{diff:?}");
        // The writer is free again: a write after all that goes through at once.
        let res = api
        .send(
            Method::POST,
            "/api/v1/services",
            Some((
                "application/json",
                json!({
                    "kind": "visit", "domain": "elderly", "resident_id": people[0],
                    "method": "home", "served_on": today, "duration_minutes": 5, "workers": "王芳",
                })
                .to_string(),
            )),
            &[],
        )
        .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    }
);

// The reads of `shegong bench --load`'s mix, each with its statement budget: the bell asks on
// every page, so its sixteen sources are counted in one statement, and a dashboard page reads
// its counters in two (the sub-regions', the region's own).
app_test!(the_reads_of_the_load_mix_run_few_statements, |app| {
    listen();
    let (mut c, mut api, rid) = signed_in_with_a_resident(&app).await;
    let mut over = Vec::new();
    for (path, budget) in [
        ("/api/v1/todo/count".to_owned(), 1),
        ("/api/v1/residents".to_owned(), 3),
        ("/api/v1/residents?due=overdue".to_owned(), 2),
        ("/api/v1/services?kind=visit&from=2026-01-01".to_owned(), 2),
        (format!("/api/v1/residents/{rid}"), 3),
        ("/api/v1/stats/services?region=430202".to_owned(), 1),
        ("/stats/430202".to_owned(), 16),
    ] {
        // The dashboard page is read signed in, the rest with the token. The first request
        // warms what is cached per process.
        let client = if path.starts_with("/api/") {
            &mut api
        } else {
            &mut c
        };
        let res = client.send(Method::GET, &path, None, &[]).await;
        assert_eq!(res.status, StatusCode::OK, "{path}: {}", res.text);
        take();
        let res = client.send(Method::GET, &path, None, &[]).await;
        assert_eq!(res.status, StatusCode::OK, "{path}: {}", res.text);
        let ran = take();
        if ran.len() > budget {
            over.push(format!(
                "{path}: {} statements, budget {budget}:\n{}",
                ran.len(),
                ran.join("\n")
            ));
        }
    }
    assert!(over.is_empty(), "{}", over.join("\n\n"));
});
