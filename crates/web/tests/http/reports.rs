//! Hierarchical reporting over HTTP (issue 17 items 4 and 5): a township's monthly report opened
//! through the API, returned by the county (a reason required), fixed and resubmitted, approved,
//! summed up by the county and approved by the city, who sees the sum; the level rule and scope
//! (404 outside, 422 for a unit approving itself); the pages (period picker, report page, manual
//! lines, steps, print, Excel with title, unit, period and time inside and in the name); audit.

use super::fixtures::{count, send_json};
use super::*;

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

async fn open(c: &mut Client, region: &str, period: &str) -> serde_json::Value {
    let res = send_json(
        c,
        Method::POST,
        "/api/v1/reports",
        serde_json::json!({"template": "station_monthly", "region": region, "period": period}),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    res.json()
}

async fn step(c: &mut Client, id: &str, step: &str, reason: &str) -> Res {
    send_json(
        c,
        Method::POST,
        &format!("/api/v1/reports/{id}/{step}"),
        serde_json::json!({"reason": reason}),
    )
    .await
}

fn line(report: &serde_json::Value, code: &str) -> i64 {
    report["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["code"] == code)
        .unwrap_or_else(|| panic!("{code} in {report}"))["value"]
        .as_i64()
        .unwrap()
}

app_test!(
    a_township_report_goes_up_to_the_city_through_the_api,
    |app| {
        let mut town = app.login_as(Role::CivilAffairsAdmin, "430202001").await;
        let mut county = app.login_as(Role::CivilAffairsAdmin, "430202").await;
        let mut city = app.login_as(Role::CivilAffairsAdmin, "4302").await;
        let mut other = app.login_as(Role::CivilAffairsAdmin, "430203").await;
        // Every field named.
        let res = send_json(
            &mut town,
            Method::POST,
            "/api/v1/reports",
            serde_json::json!({"template": "weekly", "region": "x", "period": "2026-13"}),
        )
        .await;
        refused(&res, "template", "report.template_unknown");
        refused(&res, "region", "region.invalid_code");
        let res = send_json(&mut town, Method::POST, "/api/v1/reports",
        serde_json::json!({"template": "station_monthly", "region": "430202001", "period": "2026-13"})).await;
        refused(&res, "period", "report.period_invalid");
        let r = open(&mut town, "430202001", "2026-04").await;
        assert_eq!(r["report"]["state"], "draft");
        let id = r["report"]["id"].as_str().unwrap().to_owned();
        // Opening again finds the same report.
        assert_eq!(
            open(&mut town, "430202001", "2026-04").await["report"]["id"],
            id.as_str()
        );
        let manual: Vec<&str> = r["lines"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["source"] == "manual")
            .map(|l| l["code"].as_str().unwrap())
            .collect();
        assert!(
            manual.contains(&"affairs_dibao_changes") && !manual.contains(&"visits"),
            "{manual:?}"
        );
        let res = send_json(
            &mut town,
            Method::POST,
            &format!("/api/v1/reports/{id}/values"),
            serde_json::json!({"values": {"visits": 5}}),
        )
        .await;
        refused(&res, "values", "report.line_not_manual");
        assert_eq!(
            step(&mut town, &id, "submit", "").await.status,
            StatusCode::OK
        );
        // The township cannot approve itself; another county does not see it.
        refused(
            &step(&mut town, &id, "approve", "").await,
            "action",
            "report.not_your_level",
        );
        assert_eq!(
            step(&mut other, &id, "approve", "").await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            other.get(&format!("/api/v1/reports/{id}")).await.status,
            StatusCode::NOT_FOUND
        );
        refused(
            &step(&mut county, &id, "return", " ").await,
            "reason",
            "report.reason_required",
        );
        let res = step(&mut county, &id, "return", "低保变动数漏填").await;
        assert_eq!(res.json()["report"]["state"], "returned", "{}", res.text);
        assert_eq!(res.json()["report"]["return_reason"], "低保变动数漏填");
        let res = send_json(
            &mut town,
            Method::POST,
            &format!("/api/v1/reports/{id}/values"),
            serde_json::json!({"values": {"affairs_dibao_changes": 4}}),
        )
        .await;
        assert_eq!(
            line(&res.json(), "affairs_dibao_changes"),
            4,
            "{}",
            res.text
        );
        let res = step(&mut town, &id, "submit", "").await;
        assert_eq!(
            res.json()["report"]["signed_name"],
            "civilaffairsadmin_430202001 name"
        );
        assert_eq!(
            step(&mut county, &id, "review", "").await.json()["report"]["state"],
            "reviewing"
        );
        assert_eq!(
            step(&mut county, &id, "approve", "").await.json()["report"]["state"],
            "approved"
        );
        let c = open(&mut county, "430202", "2026-04").await;
        let cid = c["report"]["id"].as_str().unwrap().to_owned();
        assert_eq!(line(&c, "affairs_dibao_changes"), 4);
        assert!(c["completeness_permille"].as_i64().unwrap() > 0, "{c}");
        assert_eq!(
            step(&mut county, &cid, "submit", "").await.status,
            StatusCode::OK
        );
        assert_eq!(
            step(&mut city, &cid, "approve", "").await.status,
            StatusCode::OK
        );
        let township = town.get(&format!("/api/v1/reports/{id}")).await.json();
        assert_eq!(
            township["report"]["state"], "locked",
            "the county's approval locks the township"
        );
        let sum = open(&mut city, "4302", "2026-04").await;
        assert_eq!(
            line(&sum, "affairs_dibao_changes"),
            4,
            "the city sees the sum"
        );
        let list = city
            .get("/api/v1/reports?period=2026-04&state=locked")
            .await
            .json();
        assert_eq!(list["total"], 1, "{list}");
        assert_eq!(other.get("/api/v1/reports").await.json()["total"], 0);
        // Unlock: asked with a reason by the township, approved by the county; parents go stale.
        refused(
            &step(&mut town, &id, "unlock", "").await,
            "reason",
            "report.reason_required",
        );
        assert_eq!(
            step(&mut town, &id, "unlock", "漏录两户走访").await.json()["unlock_requested"],
            "漏录两户走访"
        );
        assert_eq!(
            step(&mut county, &id, "unlock/approve", "").await.json()["report"]["state"],
            "draft"
        );
        let stale = city.get("/api/v1/reports?stale=1").await.json();
        assert_eq!(
            stale["total"], 2,
            "county and city reports are stale: {stale}"
        );
        for action in [
            "open",
            "update",
            "submit",
            "return",
            "review",
            "approve",
            "request_unlock",
            "approve_unlock",
        ] {
            let n = count(&app, match action {
            "open" => "SELECT COUNT(*) FROM audit_log WHERE entity = 'report' AND action = 'open'",
            "update" => "SELECT COUNT(*) FROM audit_log WHERE entity = 'report' AND action = 'update'",
            "submit" => "SELECT COUNT(*) FROM audit_log WHERE entity = 'report' AND action = 'submit'",
            "return" => "SELECT COUNT(*) FROM audit_log WHERE entity = 'report' AND action = 'return'",
            "review" => "SELECT COUNT(*) FROM audit_log WHERE entity = 'report' AND action = 'review'",
            "approve" => "SELECT COUNT(*) FROM audit_log WHERE entity = 'report' AND action = 'approve'",
            "request_unlock" => "SELECT COUNT(*) FROM audit_log WHERE entity = 'report' AND action = 'request_unlock'",
            _ => "SELECT COUNT(*) FROM audit_log WHERE entity = 'report' AND action = 'approve_unlock'",
        }).await;
            assert!(n > 0, "{action} audited");
        }
    }
);

app_test!(the_report_pages_open_act_print_and_export, |app| {
    let mut town = app.login_as(Role::CivilAffairsAdmin, "430202001").await;
    let mut county = app.login_as(Role::CivilAffairsAdmin, "430202").await;
    let res = town.get("/reports").await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.select("#open-form").len(), 1, "the period picker");
    let res = town
        .post_form(
            "/reports",
            &[
                ("template", "station_monthly"),
                ("region", "430202001"),
                ("period", "2026/04"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!res.select("#open-error").is_empty());
    let res = town
        .post_form(
            "/reports",
            &[
                ("template", "station_monthly"),
                ("region", "430202001"),
                ("period", "2026-04"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let path = res.location().to_owned();
    let id = path.trim_start_matches("/reports/").to_owned();
    let page = town.get(&path).await;
    assert_eq!(page.select("#report-state"), ["草稿"]);
    assert_eq!(
        page.select("#v-affairs_dibao_changes").len(),
        1,
        "manual lines are typed"
    );
    assert!(
        page.select("#v-visits").is_empty(),
        "computed lines are not"
    );
    assert!(
        page.text.contains("手工填报") && page.text.contains("台账统计"),
        "sources marked"
    );
    let res = town
        .post_form(
            &format!("/reports/{id}/values"),
            &[("v_affairs_dibao_changes", "x")],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let res = town
        .post_form(
            &format!("/reports/{id}/values"),
            &[("v_affairs_dibao_changes", "6")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    // The township may submit, not approve.
    let page = town.get(&path).await;
    assert_eq!(page.select("#do-submit").len(), 1);
    assert!(page.select("#do-approve").is_empty());
    let res = town
        .post_form(&format!("/reports/{id}/act"), &[("action", "submit")])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let page = county.get(&path).await;
    assert_eq!(page.select("#do-approve").len(), 1);
    let res = county
        .post_form(
            &format!("/reports/{id}/act"),
            &[("action", "return"), ("reason", "")],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!res.select("#report-error").is_empty());
    let res = county
        .post_form(&format!("/reports/{id}/act"), &[("action", "approve")])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(county.get(&path).await.select("#report-state"), ["已通过"]);
    let print = town.get(&format!("/reports/{id}/print")).await;
    assert_eq!(print.status, StatusCode::OK);
    assert_eq!(print.select("#sheet-title"), ["社会工作站月报"]);
    assert_eq!(print.select("#sheet-period"), ["2026-04"]);
    assert!(print.select("#sheet-signed")[0].contains("civilaffairsadmin_430202001 name"));
    let xlsx = town.get(&format!("/reports/{id}/report.xlsx")).await;
    assert_eq!(xlsx.status, StatusCode::OK);
    let disposition = xlsx.headers["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(disposition.contains("2026-04"), "{disposition}");
    let text = xlsx_text(&xlsx.bytes);
    for want in [
        "社会工作站月报",
        "填报单位",
        "2026-04",
        "生成时间",
        "低保新增及调整（户）",
        "6",
    ] {
        assert!(text.contains(want), "{want} in {text}");
    }
    assert_eq!(count(&app, "SELECT COUNT(*) FROM audit_log WHERE entity = 'report' AND action IN ('export', 'print')").await, 2);
    // The list filters.
    let list = county.get("/reports?state=approved&period=2026-04").await;
    assert_eq!(list.select("#reports tbody tr a").len(), 1);
    assert_eq!(
        county.get("/reports?state=bogus").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // English pages carry no Chinese labels.
    let en = town
        .send(Method::GET, &path, None, &[("accept-language", "en")])
        .await;
    assert!(
        en.select("#report-state")[0].contains("Approved"),
        "{}",
        en.text
    );
});
