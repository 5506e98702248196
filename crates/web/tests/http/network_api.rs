//! Issue 19 item 5: the station, construction, indicators and workforce pages' changes by API,
//! with the pages' checks, scope, permission and audit entries. For each operation: a success
//! with its audit entry, a refusal naming the field, another county's record not found, and a
//! role without the permission forbidden.

use serde_json::{Value, json};

use super::fixtures::{agency, send_json, station};
use super::users_api::{audited, field};
use super::*;

/// A GB 11643 resident identity number (valid check character).
fn resident_id(region: &str, birth: &str, seq: u32) -> String {
    let body = format!("{region}{birth}{seq:03}");
    let check = shegong_domain::people::identity::check_character(&body).unwrap();
    format!("{body}{check}")
}

async fn created(c: &mut Client, path: &str, body: Value) -> String {
    let res = send_json(c, Method::POST, path, body).await;
    assert_eq!(res.status, StatusCode::CREATED, "{path}: {}", res.text);
    res.json()["id"].as_str().unwrap().to_owned()
}

async fn new_staff(c: &mut Client, station: &str, name: &str, seq: u32) -> String {
    let county = &station_region(c, station).await[..6];
    created(
        c,
        "/api/v1/staff",
        json!({"name": name, "id_type": "resident_id",
               "id_number": resident_id(county, "19900101", seq), "role": "frontline",
               "employment_mode": "direct", "station_id": station, "joined_on": "2020-01-01"}),
    )
    .await
}

async fn station_region(c: &mut Client, station: &str) -> String {
    let s = c.get(&format!("/api/v1/stations/{station}")).await.json();
    s["region_code"].as_str().unwrap().to_owned()
}

/// (status, body) of a JSON request.
async fn send(c: &mut Client, method: Method, path: &str, body: Value) -> Res {
    send_json(c, method, path, body).await
}

app_test!(
    station_changes_by_api_are_checked_scoped_and_audited,
    |app| {
        let org = agency(&app, "芦淞区社工服务中心", "430203").await;
        let own = station(&app, "430203001", "建设街道社工站", &org).await;
        let far_org = agency(&app, "荷塘区社工服务中心", "430202").await;
        let far = station(&app, "430202001", "月塘街道社工站", &far_org).await;
        let mut admin = app.login_as(Role::CivilAffairsAdmin, "430203").await;
        let mut evaluator = app.login_as(Role::Evaluator, "430203").await;
        let mut worker = app.login_as(Role::SocialWorker, "430203001").await;

        // Funding.
        let body = json!({"year": 2024, "source": "county", "amount": "50000"});
        let path = format!("/api/v1/stations/{own}/funding");
        let res = send(&mut admin, Method::POST, &path, body.clone()).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        assert_eq!(res.json()[0]["year"], 2024, "{}", res.text);
        assert!(res.json()[0]["amount"].as_str().unwrap().starts_with("50"));
        assert_eq!(audited(&app, "station", "funding", &own).await, 1);
        let bad = json!({"year": 1990, "source": "county", "amount": "50000"});
        assert_eq!(
            field(&send(&mut admin, Method::POST, &path, bad).await),
            "year"
        );
        let bad = json!({"year": 2024, "source": "mars", "amount": "50000"});
        assert_eq!(
            field(&send(&mut admin, Method::POST, &path, bad).await),
            "source"
        );
        let far_path = format!("/api/v1/stations/{far}/funding");
        let res = send(&mut admin, Method::POST, &far_path, body.clone()).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.text);
        let res = send(&mut evaluator, Method::POST, &path, body).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text);

        // Services offered: an item of the county's service list.
        let item = created(
            &mut admin,
            "/api/v1/indicators/services",
            json!({"domain": "elderly", "name": "高龄老人探访"}),
        )
        .await;
        assert_eq!(audited(&app, "service_item", "create", &item).await, 1);
        let bad = json!({"domain": "mars", "name": "x"});
        let res = send(&mut admin, Method::POST, "/api/v1/indicators/services", bad).await;
        assert_eq!(field(&res), "domain");
        let res = send(
            &mut worker,
            Method::POST,
            "/api/v1/indicators/services",
            json!({"domain": "elderly", "name": "x"}),
        )
        .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        let path = format!("/api/v1/stations/{own}/services");
        let body = json!({"services": [item, item]});
        let res = send(&mut admin, Method::PUT, &path, body.clone()).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        assert_eq!(res.json()["services"], json!([item]));
        assert_eq!(audited(&app, "station", "services", &own).await, 1);
        let bad = json!({"services": ["no-such-item"]});
        assert_eq!(
            field(&send(&mut admin, Method::PUT, &path, bad).await),
            "services"
        );
        let far_path = format!("/api/v1/stations/{far}/services");
        let res = send(&mut admin, Method::PUT, &far_path, json!({"services": []})).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND);
        let res = send(&mut evaluator, Method::PUT, &path, body).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);

        // Files, in Base64.
        let png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
        let path = format!("/api/v1/stations/{own}/attachments");
        let body = json!({"kind": "photo", "filename": "门牌.png", "content_base64": png});
        let res = send(&mut admin, Method::POST, &path, body.clone()).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
        let file = res.json()["id"].as_str().unwrap().to_owned();
        assert_eq!(res.json()["content_type"], "image/png");
        assert_eq!(audited(&app, "attachment", "upload", &file).await, 1);
        let download = admin.get(&format!("/api/v1/attachments/{file}")).await;
        assert_eq!(download.status, StatusCode::OK);
        let bad = json!({"kind": "photo", "filename": "a.png", "content_base64": "!!"});
        assert_eq!(
            field(&send(&mut admin, Method::POST, &path, bad).await),
            "content_base64"
        );
        let bad = json!({"kind": "selfie", "filename": "a.png", "content_base64": png});
        assert_eq!(
            field(&send(&mut admin, Method::POST, &path, bad).await),
            "kind"
        );
        let bad =
            json!({"kind": "photo", "filename": "a.exe", "content_base64": "TVqQAAMAAAAEAAAA"});
        assert_eq!(
            field(&send(&mut admin, Method::POST, &path, bad).await),
            "file"
        );
        let far_path = format!("/api/v1/stations/{far}/attachments");
        let res = send(&mut admin, Method::POST, &far_path, body.clone()).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND);
        let res = send(&mut evaluator, Method::POST, &path, body).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);

        // The supervisor's confirmation that building is done.
        let building = created(
            &mut admin,
            "/api/v1/stations",
            json!({"tier": "township_station", "region_code": "430203002", "name": "庆云街道社工站",
               "mode": "direct", "status": "under_construction", "status_since": "2024-01-01"}),
        )
        .await;
        let path = format!("/api/v1/stations/{building}/confirm");
        let res = send(&mut worker, Method::POST, &path, json!({})).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        let res = send(&mut admin, Method::POST, &path, json!({})).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        assert_eq!(res.json()["status"], "operating");
        assert_eq!(
            audited(&app, "station", "confirm_completion", &building).await,
            1
        );
        assert_eq!(
            field(&send(&mut admin, Method::POST, &path, json!({})).await),
            "status"
        );
        let far_path = format!("/api/v1/stations/{far}/confirm");
        let res = send(&mut admin, Method::POST, &far_path, json!({})).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND);
    }
);

app_test!(construction_and_checklist_settings_by_api, |app| {
    let mut admin = app.login_as(Role::CivilAffairsAdmin, "430203").await;
    let mut far_admin = app.login_as(Role::CivilAffairsAdmin, "430202").await;
    let mut worker = app.login_as(Role::SocialWorker, "430203001").await;

    // Construction targets.
    let body = json!({"region": "430203", "year": 2025, "target": 9});
    let path = "/api/v1/construction/targets";
    let res = send(&mut admin, Method::POST, path, body.clone()).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(
        audited(&app, "construction_target", "set_target", "430203/2025").await,
        1
    );
    let bad = json!({"region": "430203", "year": 1990, "target": 9});
    assert_eq!(
        field(&send(&mut admin, Method::POST, path, bad).await),
        "year"
    );
    let bad = json!({"region": "430203", "year": 2025, "target": -1});
    assert_eq!(
        field(&send(&mut admin, Method::POST, path, bad).await),
        "target"
    );
    // Another county's target is refused as the page refuses it (the region is the field).
    let far = json!({"region": "430202", "year": 2025, "target": 9});
    assert_eq!(
        field(&send(&mut admin, Method::POST, path, far).await),
        "region"
    );
    let res = send(&mut worker, Method::POST, path, body).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);

    // Checklist items and switching them off.
    let body =
        json!({"category": "site", "name": "场地面积达标", "evidence": "photo", "weight": 2});
    let item = created(&mut admin, "/api/v1/indicators", body.clone()).await;
    assert_eq!(audited(&app, "indicator_item", "create", &item).await, 1);
    let bad = json!({"category": "moon", "name": "x", "evidence": "photo", "weight": 2});
    let res = send(&mut admin, Method::POST, "/api/v1/indicators", bad).await;
    assert_eq!(field(&res), "category");
    let bad = json!({"category": "site", "name": "x", "evidence": "photo", "weight": 0});
    let res = send(&mut admin, Method::POST, "/api/v1/indicators", bad).await;
    assert_eq!(field(&res), "weight");
    let res = send(
        &mut worker,
        Method::POST,
        "/api/v1/indicators",
        body.clone(),
    )
    .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let far_item = created(&mut far_admin, "/api/v1/indicators", body).await;

    let path = format!("/api/v1/indicators/{item}/active");
    let res = send(&mut admin, Method::POST, &path, json!({"active": false})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.json()["active"], false);
    assert_eq!(audited(&app, "indicator_item", "update", &item).await, 1);
    let far_path = format!("/api/v1/indicators/{far_item}/active");
    let res = send(
        &mut admin,
        Method::POST,
        &far_path,
        json!({"active": false}),
    )
    .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.text);
    let res = send(&mut worker, Method::POST, &path, json!({"active": true})).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
});

app_test!(staff_records_by_api_are_checked_scoped_and_audited, |app| {
    let org = agency(&app, "芦淞区社工服务中心", "430203").await;
    let own_station = station(&app, "430203001", "建设街道社工站", &org).await;
    let far_org = agency(&app, "荷塘区社工服务中心", "430202").await;
    let far_station = station(&app, "430202001", "月塘街道社工站", &far_org).await;
    let mut admin = app.login_as(Role::CivilAffairsAdmin, "430203").await;
    let mut far_admin = app.login_as(Role::CivilAffairsAdmin, "430202").await;
    let mut evaluator = app.login_as(Role::Evaluator, "430203").await;
    let own = new_staff(&mut admin, &own_station, "王小明", 123).await;
    let far = new_staff(&mut far_admin, &far_station, "李小红", 124).await;

    // Edit: the number left blank stays.
    let body = json!({"name": "王晓明", "id_type": "resident_id", "role": "station_head",
                      "employment_mode": "direct", "station_id": own_station,
                      "joined_on": "2020-01-01"});
    let path = format!("/api/v1/staff/{own}");
    let res = send(&mut admin, Method::PUT, &path, body.clone()).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.json()["name"], "王晓明");
    assert_eq!(res.json()["role"], "station_head");
    assert_eq!(audited(&app, "staff", "update", &own).await, 1);
    let mut bad = body.clone();
    bad["joined_on"] = json!("not a date");
    assert_eq!(
        field(&send(&mut admin, Method::PUT, &path, bad).await),
        "joined_on"
    );
    let mut bad = body.clone();
    bad["left_on"] = json!("2019-01-01");
    assert_eq!(
        field(&send(&mut admin, Method::PUT, &path, bad).await),
        "left_on"
    );
    let res = send(
        &mut admin,
        Method::PUT,
        &format!("/api/v1/staff/{far}"),
        body.clone(),
    )
    .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.text);
    let res = send(&mut evaluator, Method::PUT, &path, body).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);

    // Certificates.
    let body = json!({"level": "assistant", "number": "ZS2024001", "obtained_on": "2024-06-30"});
    let path = format!("/api/v1/staff/{own}/certificates");
    let res = send(&mut admin, Method::POST, &path, body.clone()).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert_eq!(res.json()["certificate"], "assistant");
    assert_eq!(audited(&app, "staff", "certificate", &own).await, 1);
    let bad = json!({"level": "wizard", "number": "ZS2024002", "obtained_on": "2024-06-30"});
    assert_eq!(
        field(&send(&mut admin, Method::POST, &path, bad).await),
        "level"
    );
    let bad = json!({"level": "senior", "number": "ZS2024002", "obtained_on": "2999-06-30"});
    assert_eq!(
        field(&send(&mut admin, Method::POST, &path, bad).await),
        "obtained_on"
    );
    let far_path = format!("/api/v1/staff/{far}/certificates");
    let res = send(&mut admin, Method::POST, &far_path, body.clone()).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = send(&mut evaluator, Method::POST, &path, body).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);

    // Trainings, with the page's rules (hours in tenths at most).
    let body = json!({"course": "个案管理实务", "hours": "6.5", "held_on": "2024-05-10"});
    let path = format!("/api/v1/staff/{own}/trainings");
    let res = send(&mut admin, Method::POST, &path, body.clone()).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert_eq!(audited(&app, "staff", "training", &own).await, 1);
    let listed = admin
        .get(&format!("/api/v1/trainings?staff_id={own}"))
        .await
        .json();
    assert_eq!(listed[0]["hours"], 6.5);
    let bad = json!({"course": "个案管理实务", "hours": "1.25", "held_on": "2024-05-10"});
    assert_eq!(
        field(&send(&mut admin, Method::POST, &path, bad).await),
        "hours"
    );
    let bad = json!({"course": "", "hours": "1", "held_on": "2024-05-10"});
    assert_eq!(
        field(&send(&mut admin, Method::POST, &path, bad).await),
        "course"
    );
    let far_path = format!("/api/v1/staff/{far}/trainings");
    let res = send(&mut admin, Method::POST, &far_path, body.clone()).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = send(&mut evaluator, Method::POST, &path, body).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
});

app_test!(supervision_and_staffing_rule_by_api, |app| {
    let org = agency(&app, "芦淞区社工服务中心", "430203").await;
    let own_station = station(&app, "430203001", "建设街道社工站", &org).await;
    let far_org = agency(&app, "荷塘区社工服务中心", "430202").await;
    let far_station = station(&app, "430202001", "月塘街道社工站", &far_org).await;
    let mut admin = app.login_as(Role::CivilAffairsAdmin, "430203").await;
    let mut far_admin = app.login_as(Role::CivilAffairsAdmin, "430202").await;
    let mut evaluator = app.login_as(Role::Evaluator, "430203").await;
    let mut worker = app.login_as(Role::SocialWorker, "430203001").await;
    let a = new_staff(&mut admin, &own_station, "督导甲", 201).await;
    let b = new_staff(&mut admin, &own_station, "社工乙", 202).await;
    let fa = new_staff(&mut far_admin, &far_station, "督导丙", 203).await;
    let fb = new_staff(&mut far_admin, &far_station, "社工丁", 204).await;

    // Pairs.
    let path = "/api/v1/supervision/pairs";
    let pair = created(&mut admin, path, json!({"supervisor": a, "supervisee": b})).await;
    assert_eq!(audited(&app, "supervision_pair", "create", &pair).await, 1);
    let res = send(
        &mut admin,
        Method::POST,
        path,
        json!({"supervisor": a, "supervisee": a}),
    )
    .await;
    assert_eq!(field(&res), "supervisee");
    // Another county's staff are unknown here (as on the page).
    let res = send(
        &mut admin,
        Method::POST,
        path,
        json!({"supervisor": a, "supervisee": fb}),
    )
    .await;
    assert_eq!(field(&res), "supervisee");
    let res = send(
        &mut worker,
        Method::POST,
        path,
        json!({"supervisor": a, "supervisee": b}),
    )
    .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let far_pair = created(
        &mut far_admin,
        path,
        json!({"supervisor": fa, "supervisee": fb}),
    )
    .await;

    // Sessions.
    let body = json!({"held_on": "2024-05-10", "hours": "2", "topics": "个案督导"});
    let spath = format!("/api/v1/supervision/pairs/{pair}/sessions");
    let session = created(&mut admin, &spath, body.clone()).await;
    assert_eq!(
        audited(&app, "supervision_session", "create", &session).await,
        1
    );
    let bad = json!({"held_on": "2024-05-10", "hours": "lots", "topics": "个案督导"});
    assert_eq!(
        field(&send(&mut admin, Method::POST, &spath, bad).await),
        "hours"
    );
    let far_spath = format!("/api/v1/supervision/pairs/{far_pair}/sessions");
    let res = send(&mut admin, Method::POST, &far_spath, body.clone()).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.text);
    let res = send(&mut evaluator, Method::POST, &spath, body).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);

    // 三区计划 teams and members.
    let body = json!({"region": "430203", "name": "三区计划服务队", "sending": "长沙市社工协会",
                      "starts_on": "2024-01-01", "ends_on": "2024-12-31"});
    let tpath = "/api/v1/supervision/teams";
    let team = created(&mut admin, tpath, body.clone()).await;
    assert_eq!(audited(&app, "sanqu_team", "create", &team).await, 1);
    let mut bad = body.clone();
    bad["region"] = json!("430203001");
    assert_eq!(
        field(&send(&mut admin, Method::POST, tpath, bad).await),
        "region"
    );
    let mut bad = body.clone();
    bad["ends_on"] = json!("someday");
    assert_eq!(
        field(&send(&mut admin, Method::POST, tpath, bad).await),
        "ends_on"
    );
    let res = send(&mut evaluator, Method::POST, tpath, body.clone()).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let mut far_body = body;
    far_body["region"] = json!("430202");
    let far_team = created(&mut far_admin, tpath, far_body).await;

    let mpath = format!("/api/v1/supervision/teams/{team}/members");
    let res = send(
        &mut admin,
        Method::POST,
        &mpath,
        json!({"staff": b, "dispatched": true}),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert_eq!(audited(&app, "sanqu_member", "create", &team).await, 1);
    let res = send(&mut admin, Method::POST, &mpath, json!({"staff": fb})).await;
    assert_eq!(field(&res), "staff");
    let far_mpath = format!("/api/v1/supervision/teams/{far_team}/members");
    let res = send(&mut admin, Method::POST, &far_mpath, json!({"staff": a})).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.text);
    let res = send(&mut evaluator, Method::POST, &mpath, json!({"staff": a})).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);

    // The staffing rule.
    let path = "/api/v1/workforce/rule";
    let body = json!({"region": "430203", "min_social_workers": 3});
    let res = send(&mut admin, Method::PUT, path, body.clone()).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.json()["min_social_workers"], 3);
    assert_eq!(audited(&app, "staffing_rule", "update", "430203").await, 1);
    let bad = json!({"region": "430203", "min_social_workers": 99});
    assert_eq!(
        field(&send(&mut admin, Method::PUT, path, bad).await),
        "min_social_workers"
    );
    let far = json!({"region": "430202", "min_social_workers": 3});
    assert_eq!(
        field(&send(&mut admin, Method::PUT, path, far).await),
        "region"
    );
    let res = send(&mut worker, Method::PUT, path, body).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
});
