//! Issue 11 regression tests: people_scope. Organisation scope on people data (item 2), likely
//! duplicates in files the user cannot open (item 6), created-but-unreadable files and creation
//! keys (item 7), supervision pairs across townships (item 9).

use super::fixtures::{agency, station};
#[allow(unused_imports)]
use super::*;

use shegong_store::sql::Sql;
use shegong_web::admin::users::{CreateUser, create_user};
use shegong_web::http::write::Author;

const COUNTY: &str = "430202";
const TOWN_X: &str = "430202001";
const TOWN_Y: &str = "430202002";

/// A signed-in account of `org` (or none), with its user id.
async fn login(
    app: &TestApp,
    username: &str,
    role: Role,
    region: &str,
    org: Option<&str>,
) -> (Client, String) {
    let (id, _) = create_user(
        &app.state.db,
        &app.state.config.password,
        Author::Operator(&Actor::system("test")),
        CreateUser {
            username: username.into(),
            display_name: format!("{username} name"),
            role,
            scope: Scope {
                region: Scope::parse_region(region).unwrap(),
                org: org.map(|o| o.parse().unwrap()),
            },
            password: Some(PASSWORD.into()),
            temporary: false,
            is_demo: false,
        },
        app.state.now(),
    )
    .await
    .unwrap();
    let mut c = app.client();
    let res = c.login(username, PASSWORD).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    (c, id)
}

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    let mut c = app.state.db.read().await.unwrap();
    Sql::new(sql).fetch_i64(&mut c).await.unwrap()
}

async fn region_name(app: &TestApp, code: &str) -> String {
    let mut c = app.state.db.read().await.unwrap();
    let (n,): (String,) = Sql::new("SELECT name FROM regions WHERE code = ")
        .bind(code)
        .fetch_one(&mut c)
        .await
        .unwrap();
    n
}

async fn api_post(
    c: &mut Client,
    path: &str,
    body: serde_json::Value,
    extra: &[(&str, &str)],
) -> Res {
    let token = c.csrf().await;
    let mut headers = vec![("x-csrf-token", token.as_str())];
    headers.extend_from_slice(extra);
    c.send(
        Method::POST,
        path,
        Some(("application/json", body.to_string())),
        &headers,
    )
    .await
}

fn resident(name: &str, id: &str, birth: &str, region: &str, station: &str) -> serde_json::Value {
    serde_json::json!({
        "name": name,
        "id_type": if id.is_empty() { None } else { Some("resident_id") },
        "id_number": if id.is_empty() { None } else { Some(id) },
        "birth_date": birth,
        "region": region,
        "risk_tier": "general",
        "legal_basis": "statutory_duty",
        "station_id": station,
    })
}

app_test!(an_agency_sees_only_the_people_of_its_own_stations, |app| {
    let x = agency(&app, "阳光社工服务中心", COUNTY).await;
    let y = agency(&app, "启航社工服务中心", COUNTY).await;
    let sx = station(&app, TOWN_X, "阳光社工站", &x).await;
    let sy = station(&app, TOWN_Y, "启航社工站", &y).await;
    let (mut county, _) = login(&app, "county_admin", Role::CivilAffairsAdmin, COUNTY, None).await;
    let res = api_post(
        &mut county,
        "/api/v1/residents",
        resident("张建国", "430202198001010017", "", TOWN_X, &sx),
        &[],
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let rx = res.json()["id"].as_str().unwrap().to_owned();
    let res = api_post(
        &mut county,
        "/api/v1/residents",
        resident("李秀英", "43020219810202002X", "", TOWN_Y, &sy),
        &[],
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let ry = res.json()["id"].as_str().unwrap().to_owned();

    let (mut manager, _) = login(&app, "y_manager", Role::AgencyManager, COUNTY, Some(&y)).await;
    // X's client: not found on the page, the API and the reveal; no reveal is audited.
    assert_eq!(
        manager.get(&format!("/residents/{rx}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        manager.get(&format!("/api/v1/residents/{rx}")).await.status,
        StatusCode::NOT_FOUND
    );
    let res = manager
        .post_form(
            &format!("/residents/{rx}/reveal"),
            &[("reason", "核对身份信息")],
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.text);
    assert!(!res.text.contains("430202198001010017"));
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'reveal'"
        )
        .await,
        0
    );
    // Y's own client opens and reveals.
    assert_eq!(
        manager.get(&format!("/residents/{ry}")).await.status,
        StatusCode::OK
    );
    let res = manager
        .post_form(
            &format!("/residents/{ry}/reveal"),
            &[("reason", "核对身份信息")],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.text.contains("43020219810202002X"));
    // Lists and exports hold Y's only.
    let list = manager.get("/api/v1/residents").await.json();
    let ids: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![ry.as_str()]);
    let page = manager.get("/residents").await;
    assert!(page.text.contains("李秀英") && !page.text.contains("张建国"));
    let export = manager.get("/residents/export.xlsx").await;
    assert_eq!(export.status, StatusCode::OK);
    let text = xlsx_text(&export.bytes);
    assert!(
        text.contains("李秀英") && !text.contains("张建国"),
        "{text}"
    );
    // A social worker and an evaluator of Y: the same.
    for (name, role) in [
        ("y_worker", Role::SocialWorker),
        ("y_evaluator", Role::Evaluator),
    ] {
        let (mut c, _) = login(&app, name, role, COUNTY, Some(&y)).await;
        assert_eq!(
            c.get(&format!("/api/v1/residents/{rx}")).await.status,
            StatusCode::NOT_FOUND
        );
        let list = c.get("/api/v1/residents").await.json();
        assert_eq!(list["total"], 1, "{name}");
    }
    // Y's worker cannot register a person at X's station (the field is named).
    let (mut worker, _) = login(&app, "y_writer", Role::SocialWorker, COUNTY, Some(&y)).await;
    let res = api_post(
        &mut worker,
        "/api/v1/residents",
        resident("赵新", "430202198203030032", "", TOWN_Y, &sx),
        &[],
    )
    .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert_eq!(res.json()["errors"][0]["field"], "station");
});

app_test!(a_protected_child_is_saved_once_and_never_described, |app| {
    let x = agency(&app, "阳光社工服务中心", COUNTY).await;
    let sx = station(&app, TOWN_X, "阳光社工站", &x).await;
    // A worker without the protected-files grant registers a child under 14.
    let (mut worker, _) = login(&app, "sw_town_x", Role::SocialWorker, TOWN_X, None).await;
    let child = resident("刘小明", "430202201804010023", "", TOWN_X, &sx);
    let key = [("idempotency-key", "b3c1f0d2-child-1")];
    let res = api_post(&mut worker, "/api/v1/residents", child.clone(), &key).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let body = res.json();
    let id = body["id"].as_str().unwrap().to_owned();
    assert_eq!(body["status"], "saved_protected");
    assert_eq!(body["station_name"], "阳光社工站");
    assert!(!res.text.contains("刘小明") && !res.text.contains("2018-04-01"));
    // The file is saved but not readable to its creator.
    assert_eq!(
        worker.get(&format!("/api/v1/residents/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    // A retry with the same key returns the same file; nothing is registered twice.
    let again = api_post(&mut worker, "/api/v1/residents", child.clone(), &key).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text);
    assert_eq!(again.json()["id"], id.as_str());
    assert_eq!(count(&app, "SELECT COUNT(*) FROM residents").await, 1);
    // A bad key is refused on the field.
    let bad = api_post(
        &mut worker,
        "/api/v1/residents",
        child.clone(),
        &[("idempotency-key", "a b")],
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.json()["errors"][0]["field"], "idempotency_key");

    // The form: saved page instead of a 404, and a resubmission is the same save.
    let form = [
        ("name", "陈小红"),
        ("birth_date", "2019-05-01"),
        ("region", TOWN_X),
        ("risk_tier", "general"),
        ("legal_basis", "statutory_duty"),
        ("station", sx.as_str()),
        ("idempotency_key", "form-key-0001"),
    ];
    let res = worker.post_form("/residents", &form).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.select("#saved-station"), vec!["阳光社工站"]);
    let saved = res.select("#saved-id");
    assert_eq!(saved.len(), 1);
    let res = worker.post_form("/residents", &form).await;
    assert_eq!(res.select("#saved-id"), saved);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM residents").await, 2);
    // The new-resident form carries a key.
    let new = worker.get("/residents/new").await;
    assert!(new.text.contains("name=\"idempotency_key\" value=\"0"));

    // A worker of another township enters the same name and birth date: warned that a possible
    // duplicate exists and whom to ask, without the name, birth date or township.
    let township = region_name(&app, TOWN_X).await;
    let (mut other, _) = login(&app, "sw_town_y", Role::SocialWorker, TOWN_Y, None).await;
    let res = api_post(
        &mut other,
        "/api/v1/residents",
        resident("刘晓明", "", "2018-04-01", TOWN_Y, ""),
        &[],
    )
    .await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.text);
    for secret in ["刘小明", "2018-04-01", township.as_str(), &id] {
        assert!(!res.text.contains(secret), "{secret} in {}", res.text);
    }
    let cand = &res.json()["candidates"][0];
    assert!(cand["name"].is_null() && cand["id"].is_null());
    let ask = cand["ask"].as_str().unwrap();
    assert!(
        ask.contains("阳光社工站") && ask.contains("0731-22334455"),
        "{ask}"
    );
    // The same on the form.
    let res = other
        .post_form(
            "/residents",
            &[
                ("name", "刘晓明"),
                ("birth_date", "2018-04-01"),
                ("region", TOWN_Y),
                ("risk_tier", "general"),
                ("legal_basis", "statutory_duty"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let warning = res.select("#duplicates").join(" ");
    assert!(warning.contains("阳光社工站"), "{warning}");
    assert!(!warning.contains("刘小明") && !warning.contains(&township));
});

fn staff_form<'a>(name: &'a str, id: &'a str, region: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("id_type", "resident_id"),
        ("id_number", id),
        ("mobile", "13812345678"),
        ("education", "bachelor"),
        ("role", "frontline"),
        ("employment_mode", "project_purchase"),
        ("sector", "civil_affairs"),
        ("station", ""),
        ("region", region),
        ("joined_on", "2023-03-01"),
    ]
}

async fn add_staff(c: &mut Client, name: &str, id: &str, region: &str) -> String {
    let res = c.post_form("/staff", &staff_form(name, id, region)).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    res.location()
        .trim_start_matches("/staff/")
        .split('?')
        .next()
        .unwrap()
        .to_owned()
}

app_test!(
    supervision_pairs_follow_the_supervisee_or_the_supervisor,
    |app| {
        let (mut admin, _) = login(&app, "sup_county", Role::CivilAffairsAdmin, COUNTY, None).await;
        let sup = add_staff(&mut admin, "督导甲", "430202198001010017", TOWN_X).await;
        let worker = add_staff(&mut admin, "社工乙", "43020219810202002X", TOWN_Y).await;
        // The supervisor's own account works in township X.
        let (mut supervisor, account) =
            login(&app, "sup_account", Role::Supervisor, TOWN_X, None).await;
        let res = admin
            .post_form(
                "/supervision/pairs",
                &[
                    ("supervisor", sup.as_str()),
                    ("supervisee", worker.as_str()),
                    ("supervisor_account", account.as_str()),
                    ("from_date", "2024-01-01"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        // Another account of township X: the supervisee works elsewhere, so no pair, no sessions.
        let (mut town_x, _) = login(&app, "sw_sup_x", Role::SocialWorker, TOWN_X, None).await;
        assert_eq!(
            town_x.get("/api/v1/supervision").await.json(),
            serde_json::json!([])
        );
        let page = town_x.get("/supervision").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(!page.text.contains("社工乙"));
        // Township Y (where the supervisee works) sees it, and so does the supervisor's account.
        let (mut town_y, _) = login(&app, "sw_sup_y", Role::SocialWorker, TOWN_Y, None).await;
        let pairs = town_y.get("/api/v1/supervision").await.json();
        assert_eq!(pairs.as_array().unwrap().len(), 1);
        let pairs = supervisor.get("/api/v1/supervision").await.json();
        assert_eq!(pairs.as_array().unwrap().len(), 1, "{pairs}");
        let pair = pairs[0]["pair_id"].as_str().unwrap().to_owned();
        assert_eq!(pairs[0]["supervisee_name"], "社工乙");
        // The supervisor records a session on it, but sees nothing else of the supervisee.
        let res = supervisor
            .post_form(
                &format!("/supervision/pairs/{pair}/sessions"),
                &[
                    ("held_on", "2024-03-02"),
                    ("hours", "1.5"),
                    ("topics", "个案督导"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        assert_eq!(
            supervisor.get(&format!("/staff/{worker}")).await.status,
            StatusCode::NOT_FOUND
        );
        // Township X's other account cannot record a session on it.
        let res = town_x
            .post_form(
                &format!("/supervision/pairs/{pair}/sessions"),
                &[("held_on", "2024-03-03"), ("hours", "1"), ("topics", "x")],
            )
            .await;
        assert_eq!(res.status, StatusCode::NOT_FOUND);
        let pairs = town_y.get("/api/v1/supervision").await.json();
        assert_eq!(pairs[0]["total_hours"], 1.5);
    }
);
