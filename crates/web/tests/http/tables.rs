//! Issue 18, table tools and the pager: a page past the last redirects to the last page (the
//! API answers an empty page with the right total); sorting takes only whitelisted keys; the
//! page size is bounded; batch actions (export selected, assign a worker, close
//! rectifications) refuse a selection reaching outside the caller's scope and change nothing.

use super::fixtures::{count, send_json};
use super::inspections::direct_station;
use super::*;

const TOWN_X: &str = "430202001";
const TOWN_Y: &str = "430202002";

/// Register a resident (no identity number, duplicates confirmed); its id.
async fn resident(c: &mut Client, name: &str, birth: &str, region: &str) -> String {
    let res = c
        .post_form(
            "/residents",
            &[
                ("name", name),
                ("id_type", "resident_id"),
                ("birth_date", birth),
                ("region", region),
                ("risk_tier", "general"),
                ("legal_basis", "statutory_duty"),
                ("confirm_duplicates", "1"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    res.location()
        .trim_start_matches("/residents/")
        .split('?')
        .next()
        .unwrap()
        .to_owned()
}

async fn status(app: &TestApp, id: &str) -> String {
    let mut c = app.state.db.read().await.unwrap();
    let (s,): (String,) =
        shegong_store::sql::Sql::new("SELECT status FROM rectifications WHERE id = ")
            .bind(id)
            .fetch_one(&mut c)
            .await
            .unwrap();
    s
}

/// The birth dates of the resident list's rows, in order.
fn births(res: &Res) -> Vec<String> {
    res.select("#residents tbody tr td:nth-child(5)")
}

app_test!(a_page_past_the_last_redirects_to_the_last_page, |app| {
    let mut w = app.login_as(Role::SocialWorker, TOWN_X).await;
    for (i, b) in ["1950-01-01", "1951-01-01", "1952-01-01"]
        .iter()
        .enumerate()
    {
        resident(&mut w, &format!("翻页{i}"), b, TOWN_X).await;
    }
    // "第 999 / 1 页" is not shown: 303 to the last page, the filters kept.
    let res = w.get("/residents?q=%E7%BF%BB%E9%A1%B5&page=999").await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    assert_eq!(res.location(), "/residents?q=%E7%BF%BB%E9%A1%B5&page=1");
    let res = w
        .get("/residents?per_page=10&sort=-birth_date&page=5")
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(
        res.location(),
        "/residents?sort=-birth_date&per_page=10&page=1"
    );
    // Other lists share the pager, and so the redirect.
    let res = w.get("/stations?page=999").await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    assert!(res.location().ends_with("page=1"), "{}", res.location());
    // A page within range is served.
    assert_eq!(w.get("/residents?page=1").await.status, StatusCode::OK);
    // The API keeps answering: an empty page with the correct total.
    let api = w.get("/api/v1/residents?page=999").await;
    assert_eq!(api.status, StatusCode::OK);
    let body = api.json();
    assert_eq!(body["total"], 3);
    assert_eq!(body["items"].as_array().unwrap().len(), 0);
});

app_test!(sorting_takes_only_whitelisted_keys, |app| {
    let mut w = app.login_as(Role::SocialWorker, TOWN_X).await;
    for (i, b) in ["1962-05-01", "1948-02-01", "1955-09-01"]
        .iter()
        .enumerate()
    {
        resident(&mut w, &format!("排序{i}"), b, TOWN_X).await;
    }
    let asc = w.get("/residents?sort=birth_date").await;
    assert_eq!(asc.status, StatusCode::OK);
    assert_eq!(births(&asc), ["1948-02-01", "1955-09-01", "1962-05-01"]);
    // The header says how the list is sorted, and links to the other direction.
    assert_eq!(
        asc.select("#residents th[aria-sort=ascending] a"),
        vec![asc.select("#residents th[data-sort=birth_date] a")[0].clone()]
    );
    assert!(asc.text.contains("href=\"/residents?sort=-birth_date\""));
    let desc = w.get("/residents?sort=-birth_date").await;
    assert_eq!(births(&desc), ["1962-05-01", "1955-09-01", "1948-02-01"]);
    // Default order: newest first.
    let default = w.get("/residents").await;
    assert_eq!(births(&default), ["1955-09-01", "1948-02-01", "1962-05-01"]);
    // Anything else is the default order, never SQL.
    for bad in [
        "birth_date;DROP%20TABLE%20residents",
        "r.name",
        "(SELECT%201)",
        "id_number_sealed",
        "-",
        "",
    ] {
        let res = w.get(&format!("/residents?sort={bad}")).await;
        assert_eq!(res.status, StatusCode::OK, "{bad}: {}", res.text);
        assert_eq!(births(&res), births(&default), "{bad}");
        let api = w.get(&format!("/api/v1/residents?sort={bad}")).await;
        assert_eq!(api.status, StatusCode::OK, "{bad}");
        assert_eq!(api.json()["total"], 3);
    }
    // The API sorts the same way.
    let api = w.get("/api/v1/residents?sort=-birth_date").await.json();
    assert_eq!(api["items"][0]["birth_date"], "1962-05-01");
});

app_test!(the_page_size_is_one_of_the_offered_sizes, |app| {
    let mut w = app.login_as(Role::SocialWorker, TOWN_X).await;
    for i in 0..12 {
        resident(
            &mut w,
            &format!("分页{i}"),
            &format!("19{:02}-03-01", 40 + i),
            TOWN_X,
        )
        .await;
    }
    let rows = |r: &Res| r.select("#residents tbody tr").len();
    let ten = w.get("/residents?per_page=10").await;
    assert_eq!(rows(&ten), 10);
    assert_eq!(ten.select("#per-page option[selected]"), vec!["10"]);
    // 2 pages of 10; the next link keeps the size.
    assert!(ten.text.contains("per_page=10&#38;page=2"), "{}", ten.text);
    // Over the largest size: bounded to 100. Below the smallest: 10.
    let huge = w.get("/residents?per_page=100000").await;
    assert_eq!(huge.status, StatusCode::OK);
    assert_eq!(rows(&huge), 12);
    assert_eq!(huge.select("#per-page option[selected]"), vec!["100"]);
    let tiny = w.get("/residents?per_page=-5").await;
    assert_eq!(rows(&tiny), 10);
    assert_eq!(tiny.select("#per-page option[selected]"), vec!["10"]);
    // Default 20, and the sizes offered are 10/20/50/100.
    let default = w.get("/residents").await;
    assert_eq!(rows(&default), 12);
    assert_eq!(
        default.select("#per-page option"),
        vec!["10", "20", "50", "100"]
    );
    assert_eq!(
        shegong_store::PageRequest::sized(Some(1), Some(1_000_000)).per_page,
        100
    );
});

app_test!(batch_assign_and_export_stay_within_scope, |app| {
    let mut x = app.login_as(Role::SocialWorker, TOWN_X).await;
    let mut y = app.login_as(Role::SocialWorker, TOWN_Y).await;
    let a = resident(&mut x, "批量甲", "1950-01-01", TOWN_X).await;
    let b = resident(&mut x, "批量乙", "1951-01-01", TOWN_X).await;
    let c = resident(&mut y, "批量丙", "1952-01-01", TOWN_Y).await;
    let worker = app
        .user("xworker2", Role::SocialWorker, TOWN_X, false)
        .await;
    let audits = || {
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE entity = 'resident' AND action = 'update'",
        )
    };
    let before = audits().await;

    // One id outside the caller's scope: the whole batch is refused, on `ids`.
    let res = send_json(
        &mut x,
        Method::POST,
        "/api/v1/residents/batch/assign",
        serde_json::json!({"ids": [a, c], "worker_user_id": worker}),
    )
    .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert!(res.text.contains("ids"), "{}", res.text);
    assert_eq!(audits().await, before);
    let api = x.get(&format!("/api/v1/residents/{a}")).await.json();
    assert!(api["worker_user_id"].is_null() || api["worker_user_id"] != worker.as_str());
    // Empty and unknown selections are refused too; an unknown worker on `worker`.
    for body in [
        serde_json::json!({"ids": [], "worker_user_id": worker}),
        serde_json::json!({"ids": ["nope"], "worker_user_id": worker}),
        serde_json::json!({"ids": [a], "worker_user_id": "nobody"}),
    ] {
        let res = send_json(&mut x, Method::POST, "/api/v1/residents/batch/assign", body).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    }
    // In scope: both assigned, one audit entry each.
    let res = send_json(
        &mut x,
        Method::POST,
        "/api/v1/residents/batch/assign",
        serde_json::json!({"ids": [a, b], "worker_user_id": worker}),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.json()["updated"], 2);
    assert_eq!(audits().await, before + 2);
    let list = x.get("/residents").await;
    assert_eq!(
        list.select("#residents tbody tr td:nth-child(9)"),
        vec!["xworker2 name", "xworker2 name"]
    );
    // The page form does the same (ids comma-separated) and goes back to the list.
    let res = x
        .post_form(
            "/residents/batch/assign",
            &[("ids", &format!("{a},{c}")), ("worker", &worker)],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let res = x
        .post_form(
            "/residents/batch/assign",
            &[("ids", &a), ("worker", &worker)],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    // A reader cannot assign.
    let mut reader = app.login_as(Role::Auditor, TOWN_X).await;
    let res = send_json(
        &mut reader,
        Method::POST,
        "/api/v1/residents/batch/assign",
        serde_json::json!({"ids": [a], "worker_user_id": worker}),
    )
    .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text);

    // Export of the selection: only the selected rows; a selection reaching outside refused.
    let mut x = app.login_as(Role::CivilAffairsAdmin, TOWN_X).await;
    let res = x.get(&format!("/residents/export.xlsx?ids={a}")).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let sheet = xlsx_text(&res.bytes);
    assert!(
        sheet.contains("批量甲") && !sheet.contains("批量乙"),
        "{sheet}"
    );
    let res = x.get(&format!("/residents/export.xlsx?ids={a},{c}")).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
});

app_test!(rectifications_are_closed_in_batch_within_scope, |app| {
    let mut office = app.login_as(Role::CivilAffairsAdmin, "430203").await;
    let mut other = app.login_as(Role::CivilAffairsAdmin, "430204").await;
    let mut rects = vec![];
    for (c, town, name) in [
        (&mut office, "430203001", "批量站甲"),
        (&mut other, "430204001", "批量站乙"),
    ] {
        let station = direct_station(c, town, name).await;
        let res = c
            .post_form(
                "/inspections/visits",
                &[
                    ("station", station.as_str()),
                    ("visited_on", "2025-03-10"),
                    ("inspector", "督导员"),
                    ("findings", "台账不全"),
                    ("rect_desc_1", "补齐服务台账"),
                    ("rect_owner_1", "站长"),
                    ("rect_deadline_1", "2025-04-10"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        let visit = c.get(res.location()).await;
        let start = visit.text.find("/inspections/rectifications/").unwrap();
        let id: String = visit.text[start + 28..]
            .chars()
            .take_while(|ch| ch.is_ascii_alphanumeric() || *ch == '-')
            .collect();
        rects.push(id);
    }
    let (mine, theirs) = (rects[0].clone(), rects[1].clone());
    // Not yet verified: refused, nothing closed.
    let close = |ids: Vec<&str>| serde_json::json!({ "ids": ids });
    let res = send_json(
        &mut office,
        Method::POST,
        "/api/v1/rectifications/batch/close",
        close(vec![&mine]),
    )
    .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    for (c, id) in [(&mut office, &mine), (&mut other, &theirs)] {
        let path = format!("/inspections/rectifications/{id}");
        assert_eq!(
            c.post_form(&path, &[("to", "submitted"), ("response", "已补齐")])
                .await
                .status,
            StatusCode::SEE_OTHER
        );
        assert_eq!(
            c.post_form(&path, &[("to", "verified")]).await.status,
            StatusCode::SEE_OTHER
        );
    }
    // Another county's rectification in the selection: the batch is refused.
    let res = send_json(
        &mut office,
        Method::POST,
        "/api/v1/rectifications/batch/close",
        close(vec![&mine, &theirs]),
    )
    .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert_eq!(status(&app, &mine).await, "verified");
    // A station worker may not close.
    let mut worker = app.login_as(Role::SocialWorker, "430203").await;
    let res = send_json(
        &mut worker,
        Method::POST,
        "/api/v1/rectifications/batch/close",
        close(vec![&mine]),
    )
    .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    // Within scope: closed, audited.
    let res = send_json(
        &mut office,
        Method::POST,
        "/api/v1/rectifications/batch/close",
        close(vec![&mine]),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.json()["updated"], 1);
    assert_eq!(status(&app, &mine).await, "closed");
    assert_eq!(status(&app, &theirs).await, "verified");
    // The page form: the other office closes its own.
    let res = other
        .post_form(
            "/inspections/rectifications/batch/close",
            &[("ids", &theirs)],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    assert_eq!(status(&app, &theirs).await, "closed");
});

app_test!(print_pages_are_clean_and_keep_values_masked, |app| {
    let mut w = app.login_as(Role::SocialWorker, TOWN_X).await;
    let res = w
        .post_form(
            "/residents",
            &[
                ("name", "打印甲"),
                ("id_type", "resident_id"),
                ("id_number", "43020319850101001X"),
                ("phone", "13812345678"),
                ("address", "月塘街道幸福路 12 号 3 栋"),
                ("region", TOWN_X),
                ("risk_tier", "high"),
                ("legal_basis", "statutory_duty"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let id = res
        .location()
        .trim_start_matches("/residents/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let sheet = w.get(&format!("/residents/{id}/print")).await;
    assert_eq!(sheet.status, StatusCode::OK, "{}", sheet.text);
    // No menu or top bar; a title, the signature boxes, and masked values.
    assert!(sheet.select(".sidebar, .topbar").is_empty());
    assert_eq!(sheet.select("#sheet-title"), vec!["服务对象登记表"]);
    assert_eq!(sheet.select("#signatures .sign-box").len(), 3);
    assert!(!sheet.text.contains("43020319850101001X") && !sheet.text.contains("13812345678"));
    assert_eq!(sheet.select("#p-phone"), vec!["138****5678"]);
    // The worker may not reveal; an office with the permission must give a reason, audited.
    let res = w
        .post_form(&format!("/residents/{id}/print"), &[("reason", "入户核对")])
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let mut office = app.login_as(Role::CivilAffairsAdmin, "430202").await;
    let res = office
        .post_form(&format!("/residents/{id}/print"), &[("reason", "")])
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!res.text.contains("13812345678"));
    let before = count(
        &app,
        "SELECT COUNT(*) FROM audit_log WHERE action = 'reveal'",
    )
    .await;
    let res = office
        .post_form(&format!("/residents/{id}/print"), &[("reason", "入户核对")])
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert!(res.select("#p-phone")[0].ends_with("13812345678"));
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'reveal'"
        )
        .await,
        before + 1
    );
    // A case summary and a service record print too, in scope only.
    let res = w
        .post_form(
            &format!("/residents/{id}/cases"),
            &[("problem", "独居，需要照料")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let case = res
        .location()
        .trim_start_matches("/cases/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let sheet = w.get(&format!("/cases/{case}/print")).await;
    assert_eq!(sheet.status, StatusCode::OK, "{}", sheet.text);
    assert!(sheet.text.contains("独居，需要照料"));
    let mut other = app.login_as(Role::SocialWorker, TOWN_Y).await;
    for path in [
        format!("/residents/{id}/print"),
        format!("/cases/{case}/print"),
    ] {
        assert_eq!(
            other.get(&path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let detail = w.get(&format!("/residents/{id}")).await;
    assert_eq!(detail.select("#print-link"), vec!["打印"]);
});
