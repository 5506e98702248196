//! The volunteer registry over HTTP (issue 15 item 1): registering with every refused field
//! named (minors' rules, one registration per person), scope (404 across townships on pages and
//! API), masking in pages, API and export, audited reveal, PATCH of the fields given.

use super::fixtures::{count, send_json};
use super::*;

fn id_number(birth: &str, seq: u32) -> String {
    let body = format!("430202{birth}{seq:03}");
    let check = shegong_domain::people::identity::check_character(&body).unwrap();
    format!("{body}{check}")
}

fn form<'a>(name: &'a str, id: &'a str, region: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("id_type", "resident_id"),
        ("id_number", id),
        ("mobile", "13873312345"),
        ("region", region),
        ("skills", "养老照护、心理疏导"),
        ("intentions", "助老"),
        ("availability", "周末上午"),
    ]
}

fn field_error(res: &Res, field: &str) -> Vec<String> {
    res.select(&format!("#{field}-error"))
}

fn refused(res: &Res, field: &str, code: &str) {
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    let errors = res.json()["errors"].clone();
    assert!(
        errors
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["field"] == field && e["code"] == code),
        "{field}: {code} in {errors}"
    );
}

app_test!(
    volunteers_register_masked_scoped_and_revealed_with_audit,
    |app| {
        let mut worker = app.login_as(Role::SocialWorker, "430202001").await;
        let adult = id_number("19900307", 2);

        // Every refused field named on the form, nothing written.
        let res = worker
            .post_form("/volunteers", &form("", "43020219900307", "430202"))
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(!field_error(&res, "name").is_empty());
        assert!(!field_error(&res, "id_number").is_empty());
        // Under 14 without a guardian's consent, under 10 without company: each named.
        let child = id_number("20200101", 4);
        let res = worker
            .post_form("/volunteers", &form("周小南", &child, "430202001"))
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        for f in ["guardian_name", "guardian_consent_on", "accompanied"] {
            assert!(!field_error(&res, f).is_empty(), "{f}");
        }
        assert_eq!(count(&app, "SELECT COUNT(*) FROM volunteers").await, 0);

        let res = worker
            .post_form("/volunteers", &form("刘思雨", &adult, "430202001"))
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        let id = res
            .location()
            .trim_start_matches("/volunteers/")
            .split('?')
            .next()
            .unwrap()
            .to_owned();
        // The page and the list show the volunteer number and masked values only.
        let page = worker.get(&format!("/volunteers/{id}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(page.select("#volunteer-no"), ["V43020200100001"]);
        assert!(!page.text.contains(&adult) && !page.text.contains("13873312345"));
        assert!(page.text.contains("138****2345"));
        let list = worker.get("/volunteers?q=刘思").await;
        assert!(list.text.contains("V43020200100001") && !list.text.contains(&adult));
        assert_eq!(
            worker.get("/volunteers/export.xlsx").await.status,
            StatusCode::FORBIDDEN,
            "a worker does not export"
        );

        // The same person again, through the API: refused on the identity number.
        let mut dup =
            serde_json::json!({"name": "刘思语", "id_number": adult, "region": "430202001"});
        let res = send_json(&mut worker, Method::POST, "/api/v1/volunteers", dup.clone()).await;
        refused(&res, "id_number", "volunteer.id_taken");
        dup["id_number"] = id_number("19910506", 7).into();
        dup["mobile"] = "12345".into();
        dup["skills"] = serde_json::json!(["长".repeat(21)]);
        let res = send_json(&mut worker, Method::POST, "/api/v1/volunteers", dup.clone()).await;
        refused(&res, "mobile", "mobile.invalid");
        refused(&res, "skills", "volunteer.tag_too_long");
        dup["mobile"] = "13912345678".into();
        dup["skills"] = serde_json::json!(["电脑维修"]);
        let res = send_json(&mut worker, Method::POST, "/api/v1/volunteers", dup).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
        let v = res.json();
        assert_eq!(v["volunteer_no"], "V43020200100002");
        assert_eq!(v["mobile_masked"], "139****5678");
        assert_eq!(v["sex"], "male", "from the identity number");
        assert!(!res.text.contains("13912345678"));
        let second = v["id"].as_str().unwrap().to_owned();

        // PATCH changes the fields given and keeps the rest.
        let path = format!("/api/v1/volunteers/{second}");
        let res = send_json(
            &mut worker,
            Method::PATCH,
            &path,
            serde_json::json!({"availability": "工作日晚上", "status": "suspended"}),
        )
        .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        assert_eq!(res.json()["availability"], "工作日晚上");
        assert_eq!(res.json()["skills"], serde_json::json!(["电脑维修"]));
        assert_eq!(res.json()["status"], "suspended");
        let res = send_json(
            &mut worker,
            Method::PATCH,
            &path,
            serde_json::json!({"status": "gone"}),
        )
        .await;
        refused(&res, "status", "volunteer.status_unknown");

        // Another township: not found, on pages and API, for reads and writes.
        let mut elsewhere = app.login_as(Role::SocialWorker, "430202002").await;
        assert_eq!(
            elsewhere.get(&format!("/volunteers/{id}")).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(elsewhere.get(&path).await.status, StatusCode::NOT_FOUND);
        let res = send_json(
            &mut elsewhere,
            Method::PATCH,
            &path,
            serde_json::json!({"availability": "x"}),
        )
        .await;
        assert_eq!(res.status, StatusCode::NOT_FOUND);
        assert_eq!(elsewhere.get("/api/v1/volunteers").await.json()["total"], 0);
        let res = send_json(
        &mut elsewhere,
        Method::POST,
        "/api/v1/volunteers",
        serde_json::json!({"name": "王五", "id_number": id_number("19800101", 8), "region": "430202001"}),
    )
    .await;
        refused(&res, "region", "station.region_out_of_scope");

        // A reveal needs the permission and a reason, and is audited.
        assert_eq!(
            worker
                .post_form(
                    &format!("/volunteers/{id}/reveal"),
                    &[("reason", "核对身份")]
                )
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        let mut admin = app.login_as(Role::CivilAffairsAdmin, "4302").await;
        let export = admin.get("/volunteers/export.xlsx").await;
        assert_eq!(export.status, StatusCode::OK);
        let sheet = xlsx_text(&export.bytes);
        assert!(sheet.contains("刘思雨") && sheet.contains("V43020200100002"));
        assert!(!sheet.contains(&adult) && !sheet.contains("13912345678"));
        let res = admin
            .post_form(&format!("/volunteers/{id}/reveal"), &[("reason", "")])
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(!res.text.contains(&adult));
        let res = admin
            .post_form(
                &format!("/volunteers/{id}/reveal"),
                &[("reason", "开具志愿服务证明核对身份")],
            )
            .await;
        assert_eq!(res.status, StatusCode::OK);
        assert!(res.text.contains(&adult) && res.text.contains("13873312345"));
        // The same by API: the permission, a reason, the values; audited like the page's.
        let path = format!("/api/v1/volunteers/{id}/reveal");
        let body = serde_json::json!({"reason": "核对身份"});
        let res = send_json(&mut worker, Method::POST, &path, body.clone()).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text);
        let res = send_json(
            &mut admin,
            Method::POST,
            &path,
            serde_json::json!({"reason": " "}),
        )
        .await;
        refused(&res, "reason", "reveal.reason_required");
        let res = send_json(&mut admin, Method::POST, &path, body).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        assert_eq!(res.json()["id_number"], adult.as_str());
        assert_eq!(res.json()["mobile"], "13873312345");
        let mut outsider = app.login_as(Role::CivilAffairsAdmin, "430203").await;
        let res = send_json(
            &mut outsider,
            Method::POST,
            &path,
            serde_json::json!({"reason": "核对身份"}),
        )
        .await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.text);
        let mut auditor = app.login_as(Role::Auditor, "4302").await;
        let log = auditor
            .get("/api/v1/audit?entity=volunteer&per_page=50")
            .await
            .json();
        let actions: Vec<&str> = log["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        for a in ["create", "update", "reveal", "export"] {
            assert!(actions.contains(&a), "{a} in {actions:?}");
        }
        assert!(
            !log.to_string().contains(&adult),
            "the audit log keeps no identity number"
        );
    }
);

app_test!(a_child_registers_with_consent_and_company, |app| {
    let mut worker = app.login_as(Role::SocialWorker, "430202001").await;
    let child = id_number("20200101", 4);
    let mut f = form("周小南", &child, "430202001");
    f.extend([
        ("guardian_name", "周建军"),
        ("guardian_consent_on", "2024-05-20"),
    ]);
    let res = worker.post_form("/volunteers", &f).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(field_error(&res, "guardian_name").is_empty());
    assert!(!field_error(&res, "accompanied").is_empty());
    f.push(("accompanied", "1"));
    let res = worker.post_form("/volunteers", &f).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let edit = format!("{}/edit", res.location().split('?').next().unwrap());
    let page = worker.get(&edit).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        !page.text.contains(&child),
        "the form never shows the stored number"
    );
});

app_test!(
    teams_are_registered_or_hosted_and_take_members_of_their_region,
    |app| {
        let mut worker = app.login_as(Role::SocialWorker, "430202001").await;
        let org = super::fixtures::agency(&app, "月塘社工服务中心", "430202").await;
        let st = super::fixtures::station(&app, "430202001", "月塘街道社工站", &org).await;
        let mut v = Vec::new();
        for (name, seq, region) in [("刘思雨", 2, "430202001"), ("陈家豪", 3, "430202001")] {
            let res = send_json(
            &mut worker,
            Method::POST,
            "/api/v1/volunteers",
            serde_json::json!({"name": name, "id_number": id_number("19900307", seq), "region": region}),
        )
        .await;
            assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
            v.push(res.json()["id"].as_str().unwrap().to_owned());
        }
        // Unregistered without a host station, registered without its number: each named.
        let res = worker
            .post_form(
                "/volunteer-teams",
                &[("name", "月塘助老队"), ("region", "430202001")],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(!field_error(&res, "station").is_empty());
        let res = send_json(
        &mut worker,
        Method::POST,
        "/api/v1/volunteer-teams",
        serde_json::json!({"name": "月塘助老队", "region_code": "430202001", "registered": true}),
    )
    .await;
        refused(&res, "registration_no", "team.registration_no_required");
        assert_eq!(count(&app, "SELECT COUNT(*) FROM volunteer_teams").await, 0);

        let res = worker
            .post_form(
                "/volunteer-teams",
                &[
                    ("name", "月塘助老队"),
                    ("region", "430202001"),
                    ("station", &st),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        let team = res
            .location()
            .trim_start_matches("/volunteer-teams/")
            .split('?')
            .next()
            .unwrap()
            .to_owned();
        let members = format!("/api/v1/volunteer-teams/{team}/members");
        let res = send_json(
            &mut worker,
            Method::POST,
            &members,
            serde_json::json!({"volunteer_id": v[0]}),
        )
        .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
        assert_eq!(res.json()["members"], 1);
        assert_eq!(
            res.json()["member_list"][0]["volunteer_no"],
            "V43020200100001"
        );
        let res = send_json(
            &mut worker,
            Method::POST,
            &members,
            serde_json::json!({"volunteer_id": v[0]}),
        )
        .await;
        refused(&res, "volunteer_id", "team.already_member");
        // The page adds and removes, and names a refusal.
        let res = worker
            .post_form(
                &format!("/volunteer-teams/{team}/members"),
                &[("volunteer_id", "0190a3c2-0000-7000-8000-00000000beef")],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(res.select("#member-error").len(), 1);
        let res = worker
            .post_form(
                &format!("/volunteer-teams/{team}/members"),
                &[("volunteer_id", &v[1])],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        let res = worker
            .post_form(
                &format!("/volunteer-teams/{team}/members/remove"),
                &[("volunteer_id", &v[0])],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        let page = worker.get(&format!("/volunteer-teams/{team}")).await;
        assert_eq!(page.select("#member-count"), ["1"]);
        assert!(page.text.contains("陈家豪") && !page.text.contains("刘思雨"));
        // The API removes as the page does; a volunteer not in the team is named.
        let member = format!("/api/v1/volunteer-teams/{team}/members/{}", v[1]);
        let res = send_json(&mut worker, Method::DELETE, &member, serde_json::json!({})).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        assert_eq!(res.json()["members"], 0);
        let res = send_json(&mut worker, Method::DELETE, &member, serde_json::json!({})).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
        assert!(res.text.contains("volunteer_id"), "{}", res.text);

        // Another township sees neither the team nor its list entry.
        let mut elsewhere = app.login_as(Role::SocialWorker, "430202002").await;
        assert_eq!(
            elsewhere
                .get(&format!("/volunteer-teams/{team}"))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            elsewhere
                .get(&format!("/api/v1/volunteer-teams/{team}"))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            elsewhere.get("/api/v1/volunteer-teams").await.json()["total"],
            0
        );
        let mut auditor = app.login_as(Role::Auditor, "4302").await;
        let log = auditor
            .get("/api/v1/audit?entity=volunteer_team&per_page=50")
            .await
            .json();
        let actions: Vec<&str> = log["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        for a in ["create", "add_member", "remove_member"] {
            assert!(actions.contains(&a), "{a} in {actions:?}");
        }
        // The teams list as a sheet, for those who may export, scoped like the list.
        assert_eq!(
            worker.get("/volunteer-teams/export.xlsx").await.status,
            StatusCode::FORBIDDEN
        );
        let mut admin = app.login_as(Role::CivilAffairsAdmin, "430202").await;
        let x = admin
            .get("/volunteer-teams/export.xlsx?q=%E6%9C%88%E5%A1%98")
            .await;
        assert_eq!(x.status, StatusCode::OK);
        let text = xlsx_text(&x.bytes);
        assert!(text.contains("月塘街道社工站"), "{text}");
        let mut other = app.login_as(Role::CivilAffairsAdmin, "430203").await;
        let none = xlsx_text(&other.get("/volunteer-teams/export.xlsx").await.bytes);
        assert!(!none.contains("月塘"), "{none}");
    }
);

app_test!(stars_are_awarded_by_the_level_the_province_names, |app| {
    let mut worker = app.login_as(Role::SocialWorker, "430202001").await;
    let res = send_json(
        &mut worker,
        Method::POST,
        "/api/v1/volunteers",
        serde_json::json!({"name": "周星", "id_number": id_number("19900307", 5), "region": "430202001"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let v = res.json()["id"].as_str().unwrap().to_owned();
    // 320 recorded hours: two stars' worth.
    let mut tx = app.state.db.begin().await.unwrap();
    shegong_store::sql::Sql::new("UPDATE volunteers SET recorded_minutes = 19200 WHERE id = ")
        .bind(v.as_str())
        .execute(&mut tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let path = format!("/api/v1/volunteers/{v}/stars");
    let star = |n: i64| serde_json::json!({"stars": n, "note": "年度认定"});
    // A social worker has no say; a township administrator acts below the county (福建 rules:
    // one and two stars by the county); another county does not see the volunteer.
    let res = send_json(&mut worker, Method::POST, &path, star(1)).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text);
    let mut town = app.login_as(Role::CivilAffairsAdmin, "430202001").await;
    refused(
        &send_json(&mut town, Method::POST, &path, star(1)).await,
        "stars",
        "volunteer.star_not_entitled",
    );
    let mut other = app.login_as(Role::CivilAffairsAdmin, "430203").await;
    let res = send_json(&mut other, Method::POST, &path, star(1)).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);

    // The county awards one star from the page (the form offers what it may award), then two
    // by the API; three is beyond the hours, two again is refused.
    let mut county = app.login_as(Role::CivilAffairsAdmin, "430202").await;
    let page = county.get(&format!("/volunteers/{v}")).await;
    assert_eq!(page.select("#s-stars option"), ["1★", "2★"]);
    let res = county
        .post_form(
            &format!("/volunteers/{v}/stars"),
            &[("stars", "1"), ("note", "")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let res = send_json(&mut county, Method::POST, &path, star(2)).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert_eq!(res.json()["approver_level"], "county");
    assert_eq!(res.json()["minutes"], 19200);
    refused(
        &send_json(&mut county, Method::POST, &path, star(3)).await,
        "stars",
        "volunteer.star_hours_short",
    );
    refused(
        &send_json(&mut county, Method::POST, &path, star(2)).await,
        "stars",
        "volunteer.star_already",
    );
    let list = worker.get(&path).await.json();
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
    assert_eq!(list[0]["stars"], 2);
    let page = worker.get(&format!("/volunteers/{v}")).await;
    assert_eq!(page.select("#star-awards tbody tr").len(), 2);
    assert!(page.select("#star-form").is_empty());
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE entity = 'volunteer_star' AND action = 'create'"
        )
        .await,
        2
    );
});
