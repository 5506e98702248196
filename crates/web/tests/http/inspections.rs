//! Inspections over HTTP: a supervising office plans, records a visit with a checklist and a
//! rectification, the station reports it done and the office verifies and closes it; nobody
//! outside the region sees or moves any of it.

use super::*;

/// A directly run township station, created through the form; returns its id.
pub async fn direct_station(c: &mut Client, region: &str, name: &str) -> String {
    let res = c
        .post_form(
            "/stations",
            &[
                ("tier", "township_station"),
                ("region", region),
                ("name", name),
                ("status", "operating"),
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

/// The id after `prefix` in the first link that has it.
pub(crate) fn linked_id(res: &Res, prefix: &str) -> String {
    let start = res
        .text
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix}: {}", res.text));
    res.text[start + prefix.len()..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect()
}

app_test!(
    a_visit_and_its_rectification_go_from_open_to_closed,
    |app| {
        let mut office = app.login_as(Role::CivilAffairsAdmin, "430203").await;
        let station = direct_station(&mut office, "430203001", "贺家土街道社工站").await;
        // The county's checklist has one item.
        let res = office
            .post_form(
                "/indicators",
                &[
                    ("category", "site"),
                    ("name", "场地面积达标"),
                    ("evidence", "photo"),
                    ("weight", "2"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);

        // A plan for the county.
        let res = office
            .post_form(
                "/inspections/plans",
                &[
                    ("title", "2025 年度督导"),
                    ("starts_on", "2025-03-01"),
                    ("ends_on", "2025-03-31"),
                    ("region", "430203"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        assert_eq!(res.location(), "/inspections?notice=notice.saved");
        let index = office.get("/inspections").await;
        assert_eq!(index.status, StatusCode::OK);
        assert!(
            index
                .select("#plans td")
                .iter()
                .any(|c| c.contains("2025 年度督导")),
            "{}",
            index.text
        );
        // A plan outside the office's region is refused with the field named.
        let res = office
            .post_form(
                "/inspections/plans",
                &[
                    ("title", "越权"),
                    ("starts_on", "2025-03-01"),
                    ("ends_on", "2025-03-31"),
                    ("region", "430202"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);

        // The visit form lists the checklist; record one item met and one rectification.
        let form = office
            .get(&format!("/inspections/visits/new?station={station}"))
            .await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.text);
        let met = format!("met_{}", linked_id(&form, "name=\"met_"));
        let fields = vec![
            (met.as_str(), "1"),
            ("station", station.as_str()),
            ("visited_on", "2025-03-10"),
            ("inspector", "督导员"),
            ("findings", "台账不全"),
            ("rect_desc_1", "补齐服务台账"),
            ("rect_owner_1", "站长"),
            ("rect_deadline_1", "2025-04-10"),
        ];
        // A rectification without an owner is refused and nothing is recorded.
        let mut incomplete = fields.clone();
        incomplete.retain(|(k, _)| *k != "rect_owner_1");
        let res = office.post_form("/inspections/visits", &incomplete).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        let res = office.post_form("/inspections/visits", &fields).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        let visit_path = res.location().split('?').next().unwrap().to_owned();
        assert!(
            visit_path.starts_with("/inspections/visits/"),
            "{visit_path}"
        );
        let visit = office.get(&visit_path).await;
        assert_eq!(visit.status, StatusCode::OK);
        assert!(
            visit
                .select("#rectifications td")
                .iter()
                .any(|c| c.contains("补齐服务台账")),
            "{}",
            visit.text
        );
        let rect = format!(
            "/inspections/rectifications/{}",
            linked_id(&visit, "/inspections/rectifications/")
        );
        // The station page shows the visit and the open rectification.
        let page = office.get(&format!("/stations/{station}")).await;
        assert!(
            page.select("#indicators td")
                .iter()
                .any(|c| c.contains("场地面积达标"))
        );
        assert!(
            page.select("#visits td")
                .iter()
                .any(|c| c.contains("督导员"))
        );
        assert!(
            page.select("#rectifications td")
                .iter()
                .any(|c| c.contains("补齐服务台账"))
        );

        // The station's worker reports it done; a report without a response is refused.
        let mut worker = app.login_as(Role::SocialWorker, "430203").await;
        let res = worker.post_form(&rect, &[("to", "submitted")]).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        // Verifying is the supervising office's, not the station's.
        let res = worker.post_form(&rect, &[("to", "verified")]).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        let res = worker
            .post_form(&rect, &[("to", "submitted"), ("response", "已补齐")])
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        assert_eq!(res.location(), format!("{rect}?notice=notice.saved"));
        // Closing straight from submitted skips verification: refused.
        let res = office.post_form(&rect, &[("to", "closed")]).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        for to in ["verified", "closed"] {
            let res = office.post_form(&rect, &[("to", to)]).await;
            assert_eq!(res.status, StatusCode::SEE_OTHER, "{to}: {}", res.text);
        }
        let api = office
            .get(&format!("/api/v1/inspections?station={station}"))
            .await
            .json();
        assert_eq!(api["total"], 1);
        assert_eq!(api["items"][0]["rectifications"][0]["status"], "closed");
        assert_eq!(api["items"][0]["rectifications"][0]["response"], "已补齐");
    }
);

app_test!(inspections_outside_the_region_are_not_found, |app| {
    let mut office = app.login_as(Role::CivilAffairsAdmin, "430203").await;
    let station = direct_station(&mut office, "430203001", "贺家土街道社工站").await;
    let res = office
        .post_form(
            "/inspections/visits",
            &[
                ("station", station.as_str()),
                ("visited_on", "2025-03-10"),
                ("inspector", "督导员"),
                ("rect_desc_1", "门牌缺失"),
                ("rect_owner_1", "站长"),
                ("rect_deadline_1", "2025-04-10"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let visit_path = res.location().split('?').next().unwrap().to_owned();
    let visit = office.get(&visit_path).await;
    let rect = format!(
        "/inspections/rectifications/{}",
        linked_id(&visit, "/inspections/rectifications/")
    );

    // Another county's office and worker: not found, whether reading or changing.
    let mut other = app.login_as(Role::CivilAffairsAdmin, "430202").await;
    let mut other_worker = app.login_as(Role::SocialWorker, "430202").await;
    for c in [&mut other, &mut other_worker] {
        assert_eq!(c.get(&visit_path).await.status, StatusCode::NOT_FOUND);
        assert_eq!(c.get(&rect).await.status, StatusCode::NOT_FOUND);
        let res = c
            .post_form(&rect, &[("to", "submitted"), ("response", "越权")])
            .await;
        assert_eq!(res.status, StatusCode::NOT_FOUND);
        let api = c.get("/api/v1/inspections").await.json();
        assert_eq!(api["total"], 0);
        let list = c.get("/inspections").await;
        assert!(!list.text.contains("门牌缺失"));
    }
    assert_eq!(
        other
            .get(&format!("/inspections/visits/new?station={station}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let res = other
        .post_form(
            "/inspections/visits",
            &[
                ("station", station.as_str()),
                ("visited_on", "2025-03-10"),
                ("inspector", "越权"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    // Planning and visiting are the supervising office's: a worker is forbidden.
    let mut worker = app.login_as(Role::SocialWorker, "430203").await;
    let res = worker
        .post_form(
            "/inspections/plans",
            &[
                ("title", "越权"),
                ("starts_on", "2025-03-01"),
                ("ends_on", "2025-03-31"),
                ("region", "430203"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let res = worker
        .get(&format!("/inspections/visits/new?station={station}"))
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    // The region's own worker still sees it.
    assert_eq!(worker.get(&rect).await.status, StatusCode::OK);
});

/// A county office with a two-item checklist and a station: (office, station id, item fields).
async fn office_with_checklist(app: &TestApp) -> (Client, String, Vec<String>) {
    let mut office = app.login_as(Role::CivilAffairsAdmin, "430203").await;
    let station = direct_station(&mut office, "430203001", "贺家土街道社工站").await;
    for name in ["场地面积达标", "制度上墙"] {
        let res = office
            .post_form(
                "/indicators",
                &[
                    ("category", "site"),
                    ("name", name),
                    ("evidence", "photo"),
                    ("weight", "2"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    }
    let form = office
        .get(&format!("/inspections/visits/new?station={station}"))
        .await;
    let html = form.html();
    let sel = scraper::Selector::parse("#checklist select").unwrap();
    let items: Vec<String> = html
        .select(&sel)
        .filter_map(|e| e.value().attr("name").map(str::to_owned))
        .collect();
    assert_eq!(items.len(), 2, "{}", form.text);
    (office, station, items)
}

// Issue 18 (walkthrough): a refused visit form comes back with every rating, note and
// rectification row as entered, and the error names the row that is wrong.
app_test!(
    a_refused_visit_form_keeps_what_was_entered_and_names_the_row,
    |app| {
        let (mut office, station, items) = office_with_checklist(&app).await;
        let note = format!("note_{}", &items[1][4..]);
        let fields = vec![
            ("station", station.as_str()),
            ("visited_on", "2025-03-10"),
            ("inspector", "督导员"),
            (items[0].as_str(), "1"),
            (items[1].as_str(), "0"),
            (note.as_str(), "制度未上墙"),
            ("rect_desc_1", "补齐服务台账"),
            ("rect_owner_1", "站长"),
            ("rect_deadline_1", "2025-04-10"),
            ("rect_desc_2", "悬挂制度牌"),
            ("rect_owner_2", "副站长"),
            // Before the inspection date: refused, on row 2.
            ("rect_deadline_2", "2025-03-01"),
        ];
        let res = office.post_form("/inspections/visits", &fields).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
        for (name, shown) in [(&items[0], "达标"), (&items[1], "未达标")] {
            assert_eq!(
                res.select(&format!("select[name='{name}'] option[selected]")),
                vec![shown.to_owned()],
                "{name}: {}",
                res.text
            );
        }
        for value in [
            "制度未上墙",
            "补齐服务台账",
            "站长",
            "2025-04-10",
            "悬挂制度牌",
            "副站长",
            "2025-03-01",
        ] {
            assert!(
                res.text.contains(&format!("value=\"{value}\"")),
                "{value} not kept: {}",
                res.text
            );
        }
        let row2 = res.select("#rect-row-2 .field-error");
        assert_eq!(row2.len(), 1, "{}", res.text);
        assert!(
            row2[0].contains("第 2 条") && row2[0].contains("不能早于督查日期"),
            "{row2:?}"
        );
        assert!(res.select("#rect-row-1 .field-error").is_empty());
        // A row without its owner is named too.
        let mut no_owner = fields.clone();
        no_owner.retain(|(k, _)| *k != "rect_owner_1" && *k != "rect_deadline_2");
        no_owner.push(("rect_deadline_2", "2025-04-01"));
        let res = office.post_form("/inspections/visits", &no_owner).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            res.select("#rect-row-1 .field-error")[0].contains("第 1 条"),
            "{}",
            res.text
        );
        let api = office.get("/api/v1/inspections").await.json();
        assert_eq!(api["total"], 0);
    }
);

// Issue 18 (walkthrough): the form as it opens (today, the current user, nothing rated, no
// findings) records nothing; it is refused on the checklist.
app_test!(an_empty_visit_form_is_refused, |app| {
    let (mut office, station, _items) = office_with_checklist(&app).await;
    let res = office
        .post_form(
            "/inspections/visits",
            &[
                ("station", station.as_str()),
                ("visited_on", "2025-03-10"),
                ("inspector", "督导员"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert!(
        res.select("#results-error")
            .first()
            .is_some_and(|m| m.contains("至少评定一项指标")),
        "{}",
        res.text
    );
    let api = office.get("/api/v1/inspections").await.json();
    assert_eq!(api["total"], 0);
    // Findings alone are a record.
    let res = office
        .post_form(
            "/inspections/visits",
            &[
                ("station", station.as_str()),
                ("visited_on", "2025-03-10"),
                ("inspector", "督导员"),
                ("findings", "站点未开门"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
});

// Issue 18 (walkthrough): an inspection recorded in error is voided with a reason (page and
// API), audited; it stays on file marked voided and its rectifications leave the open counts.
app_test!(an_inspection_is_voided_with_a_reason, |app| {
    let (mut office, station, items) = office_with_checklist(&app).await;
    let res = office
        .post_form(
            "/inspections/visits",
            &[
                ("station", station.as_str()),
                ("visited_on", "2025-03-10"),
                ("inspector", "督导员"),
                (items[0].as_str(), "0"),
                ("rect_desc_1", "补齐服务台账"),
                ("rect_owner_1", "站长"),
                ("rect_deadline_1", "2025-04-10"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let visit = res.location().split('?').next().unwrap().to_owned();
    let id = visit.trim_start_matches("/inspections/visits/").to_owned();
    let open = office.get("/inspections?state=open").await;
    assert_eq!(
        open.select("#rectifications a[href^='/inspections/rectifications/']")
            .len(),
        1,
        "{}",
        open.text
    );
    // A station worker may not void; no reason is refused on the field.
    let mut worker = app.login_as(Role::SocialWorker, "430203").await;
    let res = worker
        .post_form(&format!("{visit}/void"), &[("reason", "录错")])
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let page = office.get(&visit).await;
    assert_eq!(page.select("#void-form").len(), 1);
    let res = office
        .post_form(&format!("{visit}/void"), &[("reason", " ")])
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        !res.select("#void-form .field-error").is_empty(),
        "{}",
        res.text
    );
    let res = office
        .post_form(&format!("{visit}/void"), &[("reason", "重复录入")])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let page = office.get(&visit).await;
    assert!(
        page.select("#void-note")[0].contains("重复录入"),
        "{}",
        page.text
    );
    assert!(page.select("#void-form").is_empty());
    let open = office.get("/inspections?state=open").await;
    assert!(
        open.select("#rectifications a[href^='/inspections/rectifications/']")
            .is_empty(),
        "{}",
        open.text
    );
    let cov = office.get("/coverage/430203").await;
    assert_eq!(cov.status, StatusCode::OK);
    let api = office.get("/api/v1/inspections").await.json();
    assert_eq!(api["items"][0]["voided"], true);
    assert_eq!(api["items"][0]["void_reason"], "重复录入");
    // Voiding twice (API) is refused on the reason; the rectification no longer moves.
    let res = super::fixtures::send_json(
        &mut office,
        Method::POST,
        &format!("/api/v1/inspections/{id}/void"),
        serde_json::json!({"reason": "again"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert_eq!(res.json()["errors"][0]["field"], "reason");
    let rect = api["items"][0]["rectifications"][0]["id"].as_str().unwrap();
    let res = worker
        .post_form(
            &format!("/inspections/rectifications/{rect}"),
            &[("to", "submitted"), ("response", "已补齐")],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        super::fixtures::count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE entity = 'inspection_visit' AND action = 'void'"
        )
        .await,
        1
    );
});

// The API voids too, and a visit outside the caller's region is not found.
app_test!(the_api_voids_an_inspection_in_scope, |app| {
    let (mut office, station, items) = office_with_checklist(&app).await;
    let res = office
        .post_form(
            "/inspections/visits",
            &[
                ("station", station.as_str()),
                ("visited_on", "2025-03-10"),
                ("inspector", "督导员"),
                (items[0].as_str(), "1"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let id = res
        .location()
        .split('?')
        .next()
        .unwrap()
        .trim_start_matches("/inspections/visits/")
        .to_owned();
    let path = format!("/api/v1/inspections/{id}/void");
    let mut other = app.login_as(Role::CivilAffairsAdmin, "430202").await;
    let res = super::fixtures::send_json(
        &mut other,
        Method::POST,
        &path,
        serde_json::json!({"reason": "x"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.text);
    let res = super::fixtures::send_json(
        &mut office,
        Method::POST,
        &path,
        serde_json::json!({"reason": "误录"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let body = res.json();
    assert_eq!(body["voided"], true);
    assert_eq!(body["id"], id.as_str());
});
