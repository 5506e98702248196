//! Hotlines and tickets over HTTP (issue 16 items 1 and 6): a line with its roster; a call taken,
//! moved through the loop (an illegal step refused, nothing written), overdue and escalated on
//! the test clock; the caller matched to a resident and a service recorded and counted; a crisis
//! ticket with its protocol and the supervisor notified; scope (404); bad input; audit entries.

use super::fixtures::{agency, count, login, send_json, station};
use super::*;
use shegong_store::sql::Sql;

const COUNTY: &str = "430203";
const TOWN: &str = "430203001";

fn ok(res: &Res) -> serde_json::Value {
    assert!(res.status.is_success(), "{} {}", res.status, res.text);
    res.json()
}

fn fields(res: &Res) -> Vec<(String, String)> {
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    res.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_owned(),
                e["code"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

async fn resident(app: &TestApp, id: &str) {
    let mut tx = app.state.db.begin().await.unwrap();
    Sql::new("INSERT INTO residents (id, region_code, name, name_key, birth_date, risk_tier, legal_basis, status, visit_interval_days, next_visit_due, registered_on, created_by, created_at, updated_at) VALUES (")
        .bind(id).push(", ").bind(TOWN).push(", '李桂兰', 'x', '1948-01-01', 'general', 'consent', 'active', 30, '2026-01-01', '2025-01-01', 'test', 0, 0)")
        .execute(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
}

app_test!(
    a_call_goes_through_the_loop_and_escalates_when_late,
    |app| {
        let org = agency(&app, "阳光社工", COUNTY).await;
        let st = station(&app, TOWN, "桂花街道社工站", &org).await;
        let worker = app.user("hl_worker", Role::SocialWorker, TOWN, false).await;
        let mut admin = login(&app, "hl_admin", Role::CivilAffairsAdmin, COUNTY, None).await;

        let line = ok(&send_json(&mut admin, Method::POST, "/api/v1/hotlines",
        serde_json::json!({"station_id": st, "number": "0731-28812345", "name": "守护热线", "kind": "emergency"})).await);
        let hid = line["id"].as_str().unwrap().to_owned();
        let res = send_json(
            &mut admin,
            Method::POST,
            &format!("/api/v1/hotlines/{hid}/duty"),
            serde_json::json!({"user_id": worker, "weekday": 9, "starts": "8:00", "ends": "17:00"}),
        )
        .await;
        let f = fields(&res);
        assert!(f.iter().any(|(k, _)| k == "weekday"), "{f:?}");
        for wd in 1..=7 {
            ok(&send_json(&mut admin, Method::POST, &format!("/api/v1/hotlines/{hid}/duty"),
            serde_json::json!({"user_id": worker, "weekday": wd, "starts": "00:00", "ends": "23:59"})).await);
        }
        let line = ok(&admin.get(&format!("/api/v1/hotlines/{hid}")).await);
        assert_eq!(line["roster"].as_array().unwrap().len(), 7);
        // Shifts come off the roster by the API and the page, once each; audited.
        let shift = |line: &serde_json::Value, i: usize| {
            line["roster"][i]["id"].as_str().unwrap().to_owned()
        };
        let (d1, d2) = (shift(&line, 0), shift(&line, 1));
        let off = format!("/api/v1/hotlines/{hid}/duty/{d1}");
        let after = ok(&send_json(&mut admin, Method::DELETE, &off, serde_json::json!({})).await);
        assert_eq!(after["roster"].as_array().unwrap().len(), 6);
        let twice = send_json(&mut admin, Method::DELETE, &off, serde_json::json!({})).await;
        assert_eq!(twice.status, StatusCode::NOT_FOUND);
        let res = admin
            .post_form(&format!("/hotlines/{hid}/duty/{d2}/remove"), &[])
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        let page = admin.get(&format!("/hotlines/{hid}")).await;
        assert_eq!(page.select("#roster .remove-duty").len(), 5);
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM audit_log WHERE action = 'remove_duty'"
            )
            .await,
            2
        );
        for wd in 1..=2 {
            ok(&send_json(&mut admin, Method::POST, &format!("/api/v1/hotlines/{hid}/duty"),
            serde_json::json!({"user_id": worker, "weekday": wd, "starts": "00:00", "ends": "23:59"})).await);
        }
        let line = ok(&admin.get(&format!("/api/v1/hotlines/{hid}")).await);
        assert_eq!(line["roster"].as_array().unwrap().len(), 7);
        assert!(
            !line["on_duty"].as_array().unwrap().is_empty()
                || line["roster"].as_array().unwrap().len() == 7
        );

        let t = ok(&send_json(
            &mut admin,
            Method::POST,
            "/api/v1/tickets",
            serde_json::json!({
        "station_id": st, "hotline_id": hid, "channel": "phone", "caller_name": "李阿姨",
        "caller_phone": "13800001234", "category": "consult", "content": "咨询高龄津贴申请"}),
        )
        .await);
        let id = t["id"].as_str().unwrap().to_owned();
        assert_eq!(t["state"], "received");
        assert_eq!(t["caller_phone"], "138****1234");
        assert_eq!(t["overdue"], false);
        assert!(t["protocol"].is_null());

        // Closing a ticket nobody has taken is refused on `step`; nothing written.
        let events = || count(&app, "SELECT COUNT(*) FROM ticket_events");
        let before = events().await;
        let res = send_json(
            &mut admin,
            Method::POST,
            &format!("/api/v1/tickets/{id}/step"),
            serde_json::json!({"step": "close"}),
        )
        .await;
        assert_eq!(
            fields(&res),
            vec![("step".to_owned(), "ticket.step_not_allowed".to_owned())]
        );
        assert_eq!(events().await, before);
        let t = ok(&send_json(
            &mut admin,
            Method::POST,
            &format!("/api/v1/tickets/{id}/step"),
            serde_json::json!({"step": "assign", "assignee_user_id": worker}),
        )
        .await);
        assert_eq!(
            (t["state"].as_str(), t["assignee_user_id"].as_str()),
            (Some("assigned"), Some(worker.as_str()))
        );

        // Eight days on: overdue (township level); twenty: escalated to the county and above.
        assert_eq!(list(&mut admin, "overdue=true").await, 0);
        app.advance_minutes(8 * 1440);
        let mut admin = again(&app, "hl_admin").await;
        assert_eq!(list(&mut admin, "overdue=true").await, 1);
        assert_eq!(list(&mut admin, "escalated_to=2").await, 0);
        app.advance_minutes(12 * 1440);
        let mut admin = again(&app, "hl_admin").await;
        assert_eq!(list(&mut admin, "escalated_to=2").await, 1);
        let t = ok(&admin.get(&format!("/api/v1/tickets/{id}")).await);
        assert!(t["escalation"].as_u64().unwrap() >= 2, "{t}");
        // Too late to ask for more time.
        ok(&send_json(
            &mut admin,
            Method::POST,
            &format!("/api/v1/tickets/{id}/step"),
            serde_json::json!({"step": "accept"}),
        )
        .await);
        ok(&send_json(
            &mut admin,
            Method::POST,
            &format!("/api/v1/tickets/{id}/step"),
            serde_json::json!({"step": "start"}),
        )
        .await);
        let res = send_json(
            &mut admin,
            Method::POST,
            &format!("/api/v1/tickets/{id}/step"),
            serde_json::json!({"step": "request_extension", "note": "需协调"}),
        )
        .await;
        assert_eq!(
            fields(&res),
            vec![("step".to_owned(), "ticket.extension_too_late".to_owned())]
        );
        let t = ok(&send_json(
            &mut admin,
            Method::POST,
            &format!("/api/v1/tickets/{id}/step"),
            serde_json::json!({"step": "reply", "note": "已电话解答"}),
        )
        .await);
        assert_eq!(
            (t["state"].as_str(), t["overdue"].as_bool()),
            (Some("replied"), Some(false))
        );
        assert_eq!(list(&mut admin, "overdue=true").await, 0);
        let steps: Vec<&str> = t["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["step"].as_str().unwrap())
            .collect();
        assert_eq!(steps, vec!["receive", "assign", "accept", "start", "reply"]);

        // Outside the county the ticket and the line do not exist.
        let mut other = login(&app, "hl_other", Role::CivilAffairsAdmin, "430202", None).await;
        assert_eq!(
            other.get(&format!("/api/v1/tickets/{id}")).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            other.get(&format!("/api/v1/hotlines/{hid}")).await.status,
            StatusCode::NOT_FOUND
        );
        let res = send_json(
            &mut other,
            Method::POST,
            &format!("/api/v1/tickets/{id}/step"),
            serde_json::json!({"step": "close"}),
        )
        .await;
        assert_eq!(res.status, StatusCode::NOT_FOUND);
        assert_eq!(ok(&other.get("/api/v1/tickets").await)["total"], 0);
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM audit_log WHERE entity = 'ticket' AND action = 'step'"
            )
            .await,
            4
        );
    }
);

app_test!(
    a_caller_is_matched_and_a_service_recorded_and_counted,
    |app| {
        let org = agency(&app, "阳光社工", COUNTY).await;
        let st = station(&app, TOWN, "桂花街道社工站", &org).await;
        let sup = app.user("hl_sup", Role::Supervisor, COUNTY, false).await;
        resident(&app, "res-hl-1").await;
        let mut admin = login(&app, "hl_admin", Role::CivilAffairsAdmin, COUNTY, None).await;

        // A 12345 dispatch: back-dated is fine, in the future refused; its number is unique.
        let future = chrono::DateTime::from_timestamp_millis(app.state.now() + 3_600_000)
            .unwrap()
            .to_rfc3339();
        let body = |no: &str, at: &str| {
            serde_json::json!({"station_id": st, "channel": "dispatch_12345",
        "received_at": at, "external_no": no, "external_state": "已派单", "category": "help",
        "caller_phone": "13900002222", "content": "老人独居无人照料"})
        };
        let res = send_json(
            &mut admin,
            Method::POST,
            "/api/v1/tickets",
            body("GD-1", &future),
        )
        .await;
        assert_eq!(
            fields(&res),
            vec![(
                "received_at".to_owned(),
                "ticket.received_in_future".to_owned()
            )]
        );
        assert_eq!(count(&app, "SELECT COUNT(*) FROM tickets").await, 0);
        let past = chrono::DateTime::from_timestamp_millis(app.state.now() - 86_400_000)
            .unwrap()
            .to_rfc3339();
        let t = ok(&send_json(
            &mut admin,
            Method::POST,
            "/api/v1/tickets",
            body("GD-1", &past),
        )
        .await);
        let id = t["id"].as_str().unwrap().to_owned();
        let res = send_json(
            &mut admin,
            Method::POST,
            "/api/v1/tickets",
            body("GD-1", &past),
        )
        .await;
        assert_eq!(
            fields(&res),
            vec![("external_no".to_owned(), "ticket.external_taken".to_owned())]
        );
        let t = ok(&send_json(
            &mut admin,
            Method::POST,
            &format!("/api/v1/tickets/{id}/external"),
            serde_json::json!({"external_state": "办理中"}),
        )
        .await);
        assert_eq!(t["external_state"], "办理中");

        // An unknown resident is refused on `resident_id`; nothing written.
        let res = send_json(
            &mut admin,
            Method::POST,
            &format!("/api/v1/tickets/{id}/resident"),
            serde_json::json!({"resident_id": "nobody"}),
        )
        .await;
        assert_eq!(
            fields(&res),
            vec![(
                "resident_id".to_owned(),
                "ticket.resident_unknown".to_owned()
            )]
        );
        let res = send_json(
            &mut admin,
            Method::POST,
            &format!("/api/v1/tickets/{id}/outcome"),
            serde_json::json!({"outcome": "service_recorded", "workers": "王社工"}),
        )
        .await;
        assert_eq!(
            fields(&res),
            vec![(
                "resident_id".to_owned(),
                "ticket.resident_required".to_owned()
            )]
        );
        let t = ok(&send_json(
            &mut admin,
            Method::POST,
            &format!("/api/v1/tickets/{id}/resident"),
            serde_json::json!({"resident_id": "res-hl-1"}),
        )
        .await);
        assert_eq!(t["resident_id"], "res-hl-1");
        // The ticket's page links to raising a 急难愁盼 issue for the person, the ticket as its
        // source; the form opens filled in.
        let page = admin.get(&format!("/tickets/{id}")).await;
        let link = format!("#raise-issue[href$='origin=ticket&source_ref={id}']");
        assert_eq!(page.select(&link).len(), 1, "{}", page.text);
        let form = admin
            .get(&format!("/community-issues/new?subject=person&resident_id=res-hl-1&origin=ticket&source_ref={id}"))
            .await;
        assert_eq!(form.select("#resident_id[value='res-hl-1']").len(), 1);
        assert_eq!(form.select(&format!("#source_ref[value='{id}']")).len(), 1);
        let services = || count(&app, "SELECT COUNT(*) FROM services");
        assert_eq!(services().await, 0);
        let t = ok(&send_json(&mut admin, Method::POST, &format!("/api/v1/tickets/{id}/outcome"),
        serde_json::json!({"outcome": "service_recorded", "duration_minutes": 40, "workers": "王社工"})).await);
        assert_eq!(t["outcome"], "service_recorded");
        assert_eq!(services().await, 1);
        let stats = ok(&admin.get("/api/v1/stats/services?region=430203").await);
        assert!(stats.to_string().contains("resource_linking"), "{stats}");

        // A second call from the same phone proposes the confirmed resident.
        let t2 = ok(&send_json(&mut admin, Method::POST, "/api/v1/tickets", serde_json::json!({"station_id": st,
        "channel": "phone", "caller_phone": "139-0000-2222", "category": "crisis", "content": "情绪激动，表示不想活了"})).await);
        let id2 = t2["id"].as_str().unwrap().to_owned();
        assert!(t2["protocol"].as_str().unwrap().contains("110"));
        let cands = ok(&admin
            .get(&format!("/api/v1/tickets/{id2}/candidates"))
            .await);
        assert_eq!(cands[0]["resident_id"], "res-hl-1");
        assert_eq!(cands[0]["matched_by"], "earlier_ticket");
        // The supervisor in reach is notified and sees it in the crisis list.
        let mut c = app.state.db.read().await.unwrap();
        let notified = Sql::new("SELECT COUNT(*) FROM ticket_notifications WHERE user_id = ")
            .bind(&sup)
            .fetch_i64(&mut c)
            .await
            .unwrap();
        drop(c);
        assert_eq!(notified, 1);
        let crisis = ok(&admin.get("/api/v1/tickets?crisis=true").await);
        assert_eq!(crisis["total"], 1);
    }
);

async fn list(c: &mut Client, q: &str) -> i64 {
    ok(&c.get(&format!("/api/v1/tickets?{q}")).await)["total"]
        .as_i64()
        .unwrap()
}

/// Signed in again (the session has idled out while the clock moved on).
async fn again(app: &TestApp, username: &str) -> Client {
    let mut c = app.client();
    let res = c.login(username, super::PASSWORD).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    c
}

app_test!(the_pages_take_a_call_and_name_what_is_wrong, |app| {
    let org = agency(&app, "阳光社工", COUNTY).await;
    let st = station(&app, TOWN, "桂花街道社工站", &org).await;
    resident(&app, "res-hl-2").await;
    let mut c = login(&app, "hl_page", Role::CivilAffairsAdmin, COUNTY, None).await;
    let res = c
        .post_form(
            "/hotlines",
            &[("station_id", &st), ("number", "12a"), ("kind", "station")],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!res.select("#number-error").is_empty(), "{}", res.text);
    let res = c
        .post_form(
            "/hotlines",
            &[
                ("station_id", &st),
                ("number", "0731-28800002"),
                ("kind", "station"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let page = c.get(res.location()).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("0731-28800002"));
    assert!(c.get("/hotlines").await.text.contains("0731-28800002"));

    // An empty request is refused on the field; a crisis call shows the protocol.
    let res = c
        .post_form(
            "/tickets",
            &[
                ("station_id", &st),
                ("channel", "phone"),
                ("category", "crisis"),
                ("urgency", "urgent"),
                ("content", ""),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!res.select("#content-error").is_empty(), "{}", res.text);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM tickets").await, 0);
    let res = c
        .post_form(
            "/tickets",
            &[
                ("station_id", &st),
                ("channel", "phone"),
                ("category", "crisis"),
                ("urgency", "urgent"),
                ("caller_phone", "13800001111"),
                ("content", "邻居家中传出打骂声"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let href = res.location().to_owned();
    let page = c.get(&href).await;
    assert!(!page.select("#crisis-protocol").is_empty());
    assert!(page.text.contains("138****1111"));
    let id = href
        .trim_start_matches("/tickets/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    // A step the state does not allow names the step; an unknown resident names the field.
    let res = c
        .post_form(&format!("/tickets/{id}/step"), &[("step", "close")])
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!res.select("#step-error").is_empty(), "{}", res.text);
    let res = c
        .post_form(
            &format!("/tickets/{id}/resident"),
            &[("resident_id", "nobody")],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!res.select("#resident_id-error").is_empty());
    let res = c
        .post_form(
            &format!("/tickets/{id}/resident"),
            &[("resident_id", "res-hl-2")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let res = c
        .post_form(
            &format!("/tickets/{id}/outcome"),
            &[("outcome", "case_opened")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM cases WHERE resident_id = 'res-hl-2'"
        )
        .await,
        1
    );
    let page = c.get(&format!("/tickets/{id}")).await;
    assert!(page.text.contains("/cases/"), "{}", page.text);

    // The supervisor in reach is told at the top of the tickets page.
    app.user("hl_page_sup", Role::Supervisor, COUNTY, false)
        .await;
    let res = c
        .post_form(
            "/tickets",
            &[
                ("station_id", &st),
                ("channel", "walk_in"),
                ("category", "crisis"),
                ("content", "来访者称想轻生"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let mut sup = again(&app, "hl_page_sup").await;
    let notices = sup.get("/tickets").await.select("#crisis-notices a");
    assert_eq!(
        notices.len(),
        1,
        "only the crisis after the supervisor's account existed"
    );
    assert!(notices[0].contains("来访者称想轻生"));
    assert!(
        c.get("/tickets").await.select("#crisis-notices").is_empty(),
        "not for the taker"
    );
    let list = c.get("/tickets?crisis=true").await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.select("#tickets tbody tr td:not(.actions) a").len(), 2);
    let x = c.get("/tickets/export.xlsx").await;
    assert_eq!(x.status, StatusCode::OK);
    assert!(xlsx_text(&x.bytes).contains("邻居家中传出打骂声"));
});

async fn preview_12345(c: &mut Client, csv: &str) -> Res {
    let res = c
        .upload("/tickets/import", &[], "file", "12345.csv", csv.as_bytes())
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let location = res.location().to_owned();
    c.get(&location).await
}

fn commit_path(preview: &Res) -> String {
    let html = preview.html();
    let sel = scraper::Selector::parse("form[action^='/tickets/import/']").unwrap();
    html.select(&sel)
        .next()
        .expect("commit form")
        .value()
        .attr("action")
        .unwrap()
        .to_owned()
}

app_test!(
    tickets_exported_from_12345_are_imported_once_and_mirrored,
    |app| {
        let org = agency(&app, "阳光社工", COUNTY).await;
        station(&app, TOWN, "桂花街道社工站", &org).await;
        let mut admin = login(&app, "hl_import", Role::CivilAffairsAdmin, COUNTY, None).await;
        let csv = |state: &str| {
            format!(
                "\u{feff}工单编号,来电时间,来电人,联系电话,诉求类别,诉求内容,所属区域/街道,办理状态\r\n\
             GD20260101001,2026-01-05 09:30,李阿姨,13800005678,求助,独居老人家中漏水,桂花街道,{state}\r\n\
             GD20260101002,2099-01-05 09:30,王先生,,投诉,噪音扰民,桂花街道,已派单\r\n\
             GD20260101003,2026-01-05 10:00,赵女士,,咨询,低保政策,不存在的街道,已派单\r\n"
            )
        };
        let preview = preview_12345(&mut admin, &csv("已派单")).await;
        assert_eq!(preview.status, StatusCode::OK, "{}", preview.text);
        let results = preview.select("#preview tbody td:nth-child(3)");
        let problems = preview.select("#preview tbody td:nth-child(4)");
        assert_eq!(results, ["新增", "有误", "有误"], "{problems:?}");
        assert!(problems[1].contains("来电时间"), "{}", problems[1]);
        assert!(problems[2].contains("不存在的街道"), "{}", problems[2]);
        assert!(!preview.text.contains("13800005678"));
        let done = admin
            .post_form(&commit_path(&preview), &[("mode", "valid")])
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
        let list = ok(&admin.get("/api/v1/tickets?channel=dispatch_12345").await);
        assert_eq!(list["total"], 1, "{list}");
        let t = &list["items"][0];
        assert_eq!(
            (t["external_no"].as_str(), t["external_state"].as_str()),
            (Some("GD20260101001"), Some("已派单"))
        );
        assert_eq!(t["received_at"], "2026-01-05T01:30:00Z");

        // The same export later: the known number mirrors its new state, no second ticket.
        let preview = preview_12345(&mut admin, &csv("已办结")).await;
        let results = preview.select("#preview tbody td:nth-child(3)");
        assert_eq!(results[0], "更新", "{results:?}");
        let done = admin
            .post_form(&commit_path(&preview), &[("mode", "valid")])
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
        assert_eq!(count(&app, "SELECT COUNT(*) FROM tickets").await, 1);
        let list = ok(&admin.get("/api/v1/tickets").await);
        assert_eq!(list["items"][0]["external_state"], "已办结");
    }
);
