//! Rectification evidence (整改佐证材料) on the page and by API, the rectification API, and
//! planning and recording inspections by API: the same checks, scope and audit as the pages.

use serde_json::json;

use super::fixtures::{count, send_json};
use super::inspections::direct_station;
use super::*;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDRevidence";

/// A county office (430203) with a station and an inspection recorded by API with one
/// rectification: (office, station id, rectification id).
async fn office_with_rectification(app: &TestApp) -> (Client, String, String) {
    let mut office = app.login_as(Role::CivilAffairsAdmin, "430203").await;
    let station = direct_station(&mut office, "430203001", "贺家土街道社工站").await;
    let res = send_json(
        &mut office,
        Method::POST,
        "/api/v1/inspections/visits",
        json!({"station": station, "visited_on": "2025-03-10", "inspector": "督导员",
               "findings": "台账不全",
               "rectifications": [{"description": "补齐服务台账", "owner": "站长", "deadline": "2025-04-10"}]}),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let rect = res.json()["rectifications"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (office, station, rect)
}

/// Files in the test's attachment directory.
fn stored_files(app: &TestApp) -> usize {
    fn walk(p: &std::path::Path) -> usize {
        std::fs::read_dir(p).map_or(0, |d| {
            d.flatten()
                .map(|e| {
                    if e.path().is_dir() {
                        walk(&e.path())
                    } else {
                        1
                    }
                })
                .sum()
        })
    }
    walk(std::path::Path::new(&app.state.config.attachments_dir))
}

app_test!(
    evidence_is_uploaded_listed_and_downloaded_within_scope,
    |app| {
        let (_office, _station, rect) = office_with_rectification(&app).await;
        let path = format!("/inspections/rectifications/{rect}");
        let mut worker = app.login_as(Role::SocialWorker, "430203").await;
        let page = worker.get(&path).await;
        assert_eq!(page.select("#evidence-form").len(), 1, "{}", page.text);
        let res = worker
            .upload(&format!("{path}/evidence"), &[], "file", "整改后.png", PNG)
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        assert_eq!(res.location(), format!("{path}?notice=notice.uploaded"));
        // Listed with the uploader's name (not the account name), time and size.
        let page = worker.get(&path).await;
        let cells = page.select("#rect-evidence tbody td");
        assert_eq!(cells[0], "整改后.png", "{cells:?}");
        assert_eq!(cells[1], "socialworker_430203 name");
        assert_eq!(cells[3], "1 KB");
        let html = page.html();
        let sel = scraper::Selector::parse("#rect-evidence a").unwrap();
        let href = html
            .select(&sel)
            .next()
            .unwrap()
            .value()
            .attr("href")
            .unwrap()
            .to_owned();
        // The verifier downloads it; the download is audited.
        let mut office = app.login_as(Role::Supervisor, "430203").await;
        let file = office.get(&href).await;
        assert_eq!((file.status, file.bytes.as_slice()), (StatusCode::OK, PNG));
        assert_eq!(file.headers["content-type"], "image/png");
        let api_file = office.get(&format!("/api/v1{href}")).await;
        assert_eq!(api_file.bytes.as_slice(), PNG);
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM audit_log WHERE entity = 'attachment' AND action = 'download'"
            )
            .await,
            2
        );
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM audit_log WHERE entity = 'attachment' AND action = 'upload'"
            )
            .await,
            1
        );
        // Another county sees neither the file nor the rectification, and cannot add to it.
        let mut other = app.login_as(Role::SocialWorker, "430202").await;
        assert_eq!(other.get(&href).await.status, StatusCode::NOT_FOUND);
        assert_eq!(
            other.get(&format!("/api/v1{href}")).await.status,
            StatusCode::NOT_FOUND
        );
        let res = other
            .upload(&format!("{path}/evidence"), &[], "file", "越权.png", PNG)
            .await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.text);
        let res = send_json(
            &mut other,
            Method::POST,
            &format!("/api/v1/rectifications/{rect}/evidence"),
            json!({"filename": "越权.png", "content_base64": "iVBORw0KGgoAAAANSUhEUg=="}),
        )
        .await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.text);
        assert_eq!(count(&app, "SELECT COUNT(*) FROM attachments").await, 1);
    }
);

app_test!(
    a_forbidden_or_oversized_file_is_refused_and_not_stored,
    |app| {
        let (_office, _station, rect) = office_with_rectification(&app).await;
        let path = format!("/inspections/rectifications/{rect}");
        let mut worker = app.login_as(Role::SocialWorker, "430203").await;
        // A program is not evidence: the page again, naming the field and the file.
        let res = worker
            .upload(
                &format!("{path}/evidence"),
                &[],
                "file",
                "setup.exe",
                b"MZ\x90\x00not a photo",
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
        let error = res.select("#rect-error").concat();
        assert!(
            error.contains("文件“setup.exe”未上传：只接受 JPG、PNG、PDF、DOCX、XLSX 文件。"),
            "{error}"
        );
        // Over 10 MB, though a real PNG by its first bytes.
        let mut big = PNG.to_vec();
        big.resize(10 * 1024 * 1024 + 1, 0);
        let res = worker
            .upload(&format!("{path}/evidence"), &[], "file", "大.png", &big)
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
        assert!(
            res.select("#rect-error").concat().contains("超过 10 MB"),
            "{}",
            res.text
        );
        // The API refuses them too, naming the field.
        let api_path = format!("/api/v1/rectifications/{rect}/evidence");
        for (body, field) in [
            (
                json!({"filename": "setup.exe", "content_base64": "TVqQAA=="}),
                "file",
            ),
            (
                json!({"filename": "x.png", "content_base64": "not base64!"}),
                "content_base64",
            ),
            (
                json!({"filename": " ", "content_base64": "iVBORw0KGgoAAAANSUhEUg=="}),
                "filename",
            ),
        ] {
            let res = send_json(&mut worker, Method::POST, &api_path, body).await;
            assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
            assert_eq!(res.json()["errors"][0]["field"], field, "{}", res.text);
        }
        {
            use base64::Engine as _;
            let encoded = base64::engine::general_purpose::STANDARD.encode(&big);
            let res = send_json(
                &mut worker,
                Method::POST,
                &api_path,
                json!({"filename": "大.png", "content_base64": encoded}),
            )
            .await;
            assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
            assert_eq!(res.json()["errors"][0]["code"], "attachment.too_large");
        }
        assert_eq!(count(&app, "SELECT COUNT(*) FROM attachments").await, 0);
        assert_eq!(stored_files(&app), 0);
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM audit_log WHERE entity = 'attachment'"
            )
            .await,
            0
        );
    }
);

app_test!(a_rectification_moves_by_api_as_on_its_page, |app| {
    let (mut office, station, rect) = office_with_rectification(&app).await;
    let mut worker = app.login_as(Role::SocialWorker, "430203").await;
    let advance = format!("/api/v1/rectifications/{rect}/advance");
    // No response to a submission: refused on the field; verifying is not the station's.
    let res = send_json(
        &mut worker,
        Method::POST,
        &advance,
        json!({"status": "submitted"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert_eq!(res.json()["errors"][0]["field"], "response");
    let res = send_json(
        &mut worker,
        Method::POST,
        &advance,
        json!({"status": "verified"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text);
    let res = send_json(
        &mut worker,
        Method::POST,
        &advance,
        json!({"status": "submitted", "response": "已补齐"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.json()["status"], "submitted");
    // Closing straight from submitted skips verification: refused on `status`.
    let res = send_json(
        &mut office,
        Method::POST,
        &advance,
        json!({"status": "closed"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert_eq!(res.json()["errors"][0]["field"], "status");
    // Another county: not found.
    let mut other = app.login_as(Role::CivilAffairsAdmin, "430202").await;
    let res = send_json(
        &mut other,
        Method::POST,
        &advance,
        json!({"status": "verified"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.text);
    assert_eq!(
        other
            .get(&format!("/api/v1/rectifications/{rect}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(other.get("/api/v1/rectifications").await.json()["total"], 0);
    let res = send_json(
        &mut office,
        Method::POST,
        &advance,
        json!({"status": "verified"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let body = res.json();
    assert_eq!(body["verifier_name"], "civilaffairsadmin_430203 name");
    let steps: Vec<&str> = body["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["to_status"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["submitted", "verified"]);
    assert_eq!(body["history"][0]["by_name"], "socialworker_430203 name");
    // The page shows the verifier by name.
    let page = office
        .get(&format!("/inspections/rectifications/{rect}"))
        .await;
    assert_eq!(
        page.select("#rect-verifier"),
        vec!["civilaffairsadmin_430203 name".to_owned()]
    );
    // The list and its filters.
    let list = office
        .get(&format!(
            "/api/v1/rectifications?status=verified&due_before=2025-05-01&region=430203&station={station}"
        ))
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert_eq!(list.json()["total"], 1);
    assert_eq!(list.json()["items"][0]["id"], rect.as_str());
    let none = office
        .get("/api/v1/rectifications?due_before=2025-04-10")
        .await;
    assert_eq!(none.json()["total"], 0);
    for (query, field) in [
        ("due_before=2025-13-01", "due_before"),
        ("status=unknown", "status"),
        ("region=abc", "region"),
    ] {
        let res = office.get(&format!("/api/v1/rectifications?{query}")).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
        assert_eq!(res.json()["errors"][0]["field"], field);
    }
    let res = send_json(
        &mut office,
        Method::POST,
        &advance,
        json!({"status": "closed"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    // A closed rectification takes no more evidence.
    let res = send_json(
        &mut worker,
        Method::POST,
        &format!("/api/v1/rectifications/{rect}/evidence"),
        json!({"filename": "晚了.png", "content_base64": "iVBORw0KGgoAAAANSUhEUg=="}),
    )
    .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert_eq!(
        res.json()["errors"][0]["code"],
        "rectification.evidence_closed"
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE entity = 'rectification' AND action = 'advance'"
        )
        .await,
        3
    );
});

app_test!(evidence_by_api_shows_in_the_rectification, |app| {
    let (_office, _station, rect) = office_with_rectification(&app).await;
    let mut worker = app.login_as(Role::SocialWorker, "430203").await;
    use base64::Engine as _;
    let res = send_json(
        &mut worker,
        Method::POST,
        &format!("/api/v1/rectifications/{rect}/evidence"),
        json!({"filename": "C:\\照片\\整改后.png",
               "content_base64": base64::engine::general_purpose::STANDARD.encode(PNG)}),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let created = res.json();
    assert_eq!(created["filename"], "整改后.png");
    assert_eq!(created["uploader_name"], "socialworker_430203 name");
    let detail = worker
        .get(&format!("/api/v1/rectifications/{rect}"))
        .await
        .json();
    assert_eq!(detail["evidence"][0]["id"], created["id"]);
    assert_eq!(detail["evidence"][0]["size"], PNG.len());
    let file = worker
        .get(detail["evidence"][0]["download"].as_str().unwrap())
        .await;
    assert_eq!(file.bytes.as_slice(), PNG);
    let page = worker
        .get(&format!("/inspections/rectifications/{rect}"))
        .await;
    assert!(
        page.select("#rect-evidence td")
            .contains(&"socialworker_430203 name".to_owned())
    );
});

app_test!(inspections_are_planned_and_recorded_by_api, |app| {
    let mut office = app.login_as(Role::CivilAffairsAdmin, "430203").await;
    let station = direct_station(&mut office, "430203001", "贺家土街道社工站").await;
    let plan = json!({"region": "430203", "title": "2025 年度督导", "starts_on": "2025-03-01",
                      "ends_on": "2025-03-31"});
    let res = send_json(
        &mut office,
        Method::POST,
        "/api/v1/inspections/plans",
        plan.clone(),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let plan_id = res.json()["id"].as_str().unwrap().to_owned();
    for (change, field) in [
        (json!({"region": "430202"}), "region"),
        (json!({"ends_on": "2025-02-01"}), "ends_on"),
        (json!({"title": ""}), "title"),
        (json!({"starts_on": "2025-02-30"}), "starts_on"),
        (json!({"notes": "长".repeat(2001)}), "notes"),
    ] {
        let mut body = plan.clone();
        body.as_object_mut()
            .unwrap()
            .extend(change.as_object().unwrap().clone());
        let res = send_json(&mut office, Method::POST, "/api/v1/inspections/plans", body).await;
        assert_eq!(
            res.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}: {}",
            res.text
        );
        assert_eq!(res.json()["errors"][0]["field"], field, "{}", res.text);
    }
    let mut worker = app.login_as(Role::SocialWorker, "430203").await;
    let res = send_json(
        &mut worker,
        Method::POST,
        "/api/v1/inspections/plans",
        plan.clone(),
    )
    .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);

    let rows = |second_deadline: &str| {
        json!([
            {"description": "补齐服务台账", "owner": "站长", "deadline": "2025-04-10"},
            {"description": "悬挂制度牌", "owner": "副站长", "deadline": second_deadline}
        ])
    };
    let visit = json!({"station": station, "plan": plan_id, "visited_on": "2025-03-10",
                       "inspector": "督导员", "lng": 113.13, "lat": 27.83,
                       "rectifications": rows("2025-04-20")});
    // Row 2's deadline before the visit: the field names the row.
    let mut bad = visit.clone();
    bad["rectifications"] = rows("2025-03-01");
    let res = send_json(&mut office, Method::POST, "/api/v1/inspections/visits", bad).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert_eq!(res.json()["errors"][0]["field"], "rect_deadline_2");
    let mut bad = visit.clone();
    bad["rectifications"][0]["owner"] = json!(" ");
    let res = send_json(&mut office, Method::POST, "/api/v1/inspections/visits", bad).await;
    assert_eq!(
        res.json()["errors"][0]["field"],
        "rect_owner_1",
        "{}",
        res.text
    );
    let mut bad = visit.clone();
    bad["rectifications"] = json!(vec![visit["rectifications"][0].clone(); 11]);
    let res = send_json(&mut office, Method::POST, "/api/v1/inspections/visits", bad).await;
    assert_eq!(
        res.json()["errors"][0]["field"],
        "rectifications",
        "{}",
        res.text
    );
    let mut bad = visit.clone();
    bad["results"] = json!([{"item_id": "no-such-item", "met": true}]);
    let res = send_json(&mut office, Method::POST, "/api/v1/inspections/visits", bad).await;
    assert_eq!(res.json()["errors"][0]["field"], "results", "{}", res.text);
    let mut bad = visit.clone();
    bad["plan"] = json!("no-such-plan");
    let res = send_json(&mut office, Method::POST, "/api/v1/inspections/visits", bad).await;
    assert_eq!(res.json()["errors"][0]["field"], "plan", "{}", res.text);
    // Another county's office cannot record at this station: refused on `station`.
    let mut other = app.login_as(Role::CivilAffairsAdmin, "430202").await;
    let res = send_json(
        &mut other,
        Method::POST,
        "/api/v1/inspections/visits",
        visit.clone(),
    )
    .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert_eq!(res.json()["errors"][0]["field"], "station");
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM inspection_visits").await,
        0
    );
    let res = send_json(
        &mut office,
        Method::POST,
        "/api/v1/inspections/visits",
        visit,
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let body = res.json();
    assert_eq!(body["plan_id"], plan_id.as_str());
    assert_eq!(body["rectifications"].as_array().unwrap().len(), 2);
    assert_eq!(body["lng"], 113.13);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE entity IN ('inspection_plan', 'inspection_visit') AND action = 'create'"
        )
        .await,
        2
    );
    // The page shows what the API recorded.
    let page = office
        .get(&format!(
            "/inspections/visits/{}",
            body["id"].as_str().unwrap()
        ))
        .await;
    assert!(page.text.contains("悬挂制度牌"));
});
