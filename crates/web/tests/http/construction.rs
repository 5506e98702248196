//! Construction over HTTP: annual targets per region, a station's monthly progress reports (form
//! and API, with the same limits), the overdue list, and the supervisor's confirmation that
//! building is done; all inside the caller's region.

use super::*;

/// A station still being built, created through the form; returns its id.
async fn building_station(c: &mut Client, region: &str, name: &str) -> String {
    let res = c
        .post_form(
            "/stations",
            &[
                ("tier", "township_station"),
                ("region", region),
                ("name", name),
                ("status", "under_construction"),
                ("status_since", "2024-01-01"),
                ("mode", "direct"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    res.location()
        .trim_start_matches("/stations/")
        .split('?')
        .next()
        .unwrap()
        .to_owned()
}

/// This month in China, `YYYY-MM` (never earlier than the month whose report is due).
fn this_month() -> String {
    (chrono::Utc::now() + chrono::Duration::hours(8))
        .format("%Y-%m")
        .to_string()
}

/// (region name, target) of each row of the targets table for `year`.
async fn targets(c: &mut Client, year: &str) -> Vec<(String, String)> {
    let page = c.get(&format!("/construction?year={year}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let names = page.select("#targets tbody tr td:first-child");
    let targets = page.select("#targets tbody tr td:nth-child(2)");
    names.into_iter().zip(targets).collect()
}

fn target_of(rows: &[(String, String)], name: &str) -> String {
    rows.iter()
        .find(|(n, _)| n == name)
        .map(|(_, t)| t.clone())
        .unwrap_or_else(|| panic!("no {name} in {rows:?}"))
}

app_test!(targets_are_set_per_child_region_within_scope, |app| {
    let mut city = app.login_as(Role::CivilAffairsAdmin, "4302").await;
    assert_eq!(target_of(&targets(&mut city, "2025").await, "芦淞区"), "—");
    let res = city
        .post_form(
            "/construction/targets",
            &[("region", "430203"), ("year", "2025"), ("target", "4")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let rows = targets(&mut city, "2025").await;
    assert_eq!(target_of(&rows, "芦淞区"), "4");
    assert_eq!(target_of(&rows, "荷塘区"), "—");
    // Another year has no target yet.
    assert_eq!(target_of(&targets(&mut city, "2024").await, "芦淞区"), "—");
    // Out-of-range numbers are refused with the field named.
    let res = city
        .post_form(
            "/construction/targets",
            &[("region", "430203"), ("year", "2025"), ("target", "-1")],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    // A county cannot set a target for a region outside it; a worker cannot set any.
    let mut county = app.login_as(Role::CivilAffairsAdmin, "430203").await;
    let res = county
        .post_form(
            "/construction/targets",
            &[("region", "430202"), ("year", "2025"), ("target", "9")],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut worker = app.login_as(Role::SocialWorker, "4302").await;
    let res = worker
        .post_form(
            "/construction/targets",
            &[("region", "430203"), ("year", "2025"), ("target", "1")],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let rows = targets(&mut city, "2025").await;
    assert_eq!(target_of(&rows, "荷塘区"), "—");
    assert_eq!(target_of(&rows, "芦淞区"), "4");
});

app_test!(progress_is_reported_then_completion_confirmed, |app| {
    let mut office = app.login_as(Role::CivilAffairsAdmin, "430203").await;
    let station = building_station(&mut office, "430203001", "贺家土街道社工站").await;
    // No report yet: it is on the overdue list.
    let overdue = office.get("/construction").await.select("#overdue td");
    assert!(
        overdue.iter().any(|c| c.contains("贺家土街道社工站")),
        "{overdue:?}"
    );

    let mut worker = app.login_as(Role::SocialWorker, "430203").await;
    let progress = format!("/stations/{station}/progress");
    let month = this_month();
    // Out of range: refused, nothing filed.
    let res = worker
        .post_form(&progress, &[("month", &month), ("progress_pct", "150")])
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let res = worker
        .post_form(&progress, &[("month", "2025-13"), ("progress_pct", "10")])
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let res = worker
        .post_form(
            &progress,
            &[
                ("month", &month),
                ("progress_pct", "40"),
                ("milestones", "主体完工"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    assert_eq!(
        res.location(),
        format!("/stations/{station}?notice=notice.saved")
    );
    let page = worker.get(&format!("/stations/{station}")).await;
    let rows = page.select("#progress tbody tr");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(
        rows[0].contains("40%") && rows[0].contains("主体完工"),
        "{rows:?}"
    );
    // Reported: no longer overdue.
    let overdue = office.get("/construction").await.select("#overdue td");
    assert!(
        !overdue.iter().any(|c| c.contains("贺家土街道社工站")),
        "{overdue:?}"
    );

    // The API files with the same limits and lists newest first.
    let api = format!("/api/v1/stations/{station}/progress");
    let body = |m: &str, pct: i64| {
        Some((
            "application/json",
            serde_json::json!({"month": m, "progress_pct": pct}).to_string(),
        ))
    };
    let token = worker.csrf().await;
    let csrf = [("x-csrf-token", token.as_str())];
    let res = worker
        .send(Method::POST, &api, body("2024-12", 101), &csrf)
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    let res = worker
        .send(Method::POST, &api, body("2024-12", 10), &csrf)
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let list = worker.get(&api).await.json();
    let months: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["month"].as_str().unwrap())
        .collect();
    assert_eq!(months, [month.as_str(), "2024-12"]);
    assert_eq!(list[0]["progress_pct"], 40);

    // Another county sees none of it.
    let mut other = app.login_as(Role::SocialWorker, "430202").await;
    assert_eq!(other.get(&api).await.status, StatusCode::NOT_FOUND);
    let res = other
        .post_form(&progress, &[("month", &month), ("progress_pct", "90")])
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);

    // Completion is confirmed by the supervising office, not the station.
    let confirm = format!("/stations/{station}/confirm");
    assert_eq!(
        worker.post_form(&confirm, &[]).await.status,
        StatusCode::FORBIDDEN
    );
    let res = office.post_form(&confirm, &[]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let status = office
        .get(&format!("/stations/{station}"))
        .await
        .select("#station-status");
    assert_eq!(status, ["运营中"]);
    // Confirming twice is refused: it is no longer being built.
    let res = office.post_form(&confirm, &[]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let api_station = office
        .get(&format!("/api/v1/stations/{station}"))
        .await
        .json();
    assert_eq!(api_station["status"], "operating");
});
