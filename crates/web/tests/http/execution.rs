//! A contract's execution over HTTP (issue 14 items 2, 5 and 7): expenses and posts through the
//! API and the contract page (refusals name the field, keep what was typed and write nothing),
//! organisation links that make an evaluator stand aside, and a region's purchase summary seen
//! only by purchasers in scope.

use super::fixtures::{agency, count, login, send_json};
use super::purchase::{refused, setup};
use super::*;

const COUNTY: &str = "430202";

app_test!(
    expenses_move_the_budget_execution_and_are_refused_past_the_line,
    |app| {
        let (mut admin, provider, _, id) = setup(&app).await;
        let path = format!("/api/v1/contracts/{id}/expenses");
        // The contract's budget: personnel 650.00, activities 350.01.
        let res = send_json(
        &mut admin,
        Method::POST,
        &path,
        serde_json::json!({"budget_seq": 1, "spent_on": "2025-07-15", "amount": "520", "description": "七月人员经费", "voucher": "记-0712"}),
    )
    .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
        let body = res.json();
        assert_eq!(body["spent_fen"], 52_000);
        assert_eq!(body["lines"][0]["execution_rate"], "80%");
        assert_eq!(body["personnel_share"], "64.99%");
        let expense = body["expenses"][0]["id"].as_str().unwrap().to_owned();
        // The provider's manager records its own; past the line is refused and nothing written.
        let mut manager = login(
            &app,
            "provider_mgr",
            Role::AgencyManager,
            COUNTY,
            Some(&provider),
        )
        .await;
        let over = serde_json::json!({"budget_seq": 1, "spent_on": "2025-08-15", "amount": "130.01", "description": "八月"});
        let res = send_json(&mut manager, Method::POST, &path, over).await;
        refused(&res, "amount", "purchase.expense_over_budget");
        let res = send_json(
        &mut manager,
        Method::POST,
        &path,
        serde_json::json!({"budget_seq": 1, "spent_on": "2025-08-15", "amount": "二十多", "description": "八月"}),
    )
    .await;
        assert_eq!(res.json()["errors"][0]["field"], "amount", "{}", res.text);
        let res = send_json(
        &mut manager,
        Method::POST,
        &path,
        serde_json::json!({"budget_seq": 1, "spent_on": "2025-08-15", "amount": "130", "description": "八月"}),
    )
    .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
        assert_eq!(res.json()["spent_fen"], 65_000);
        assert_eq!(
            count(&app, "SELECT COUNT(*) FROM contract_expenses").await,
            2
        );
        // Another agency does not see the contract.
        let other = agency(&app, "明德社工", COUNTY).await;
        let mut stranger =
            login(&app, "other_mgr", Role::AgencyManager, COUNTY, Some(&other)).await;
        let res = send_json(&mut stranger, Method::POST, &path, serde_json::json!({"budget_seq": 1, "spent_on": "2025-08-15", "amount": "1", "description": "x"})).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.text);

        // Voiding needs a reason and gives the amount back; the audit log has both writes.
        let void = format!("{path}/{expense}/void");
        let res = send_json(
            &mut admin,
            Method::POST,
            &void,
            serde_json::json!({"reason": " "}),
        )
        .await;
        refused(&res, "reason", "purchase.reason_required");
        let res = send_json(
            &mut admin,
            Method::POST,
            &void,
            serde_json::json!({"reason": "重复录入"}),
        )
        .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        assert_eq!(res.json()["spent_fen"], 13_000);
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM audit_log WHERE entity = 'contract_expense'"
            )
            .await,
            3
        );

        // The page form: an amount in words is refused next to the form, with what was typed kept.
        let page = admin
            .post_form(
                &format!("/contracts/{id}/expenses"),
                &[
                    ("budget_seq", "2"),
                    ("spent_on", "2025-09-01"),
                    ("amount", "三百元左右"),
                    ("description", "中秋活动"),
                ],
            )
            .await;
        assert_eq!(
            page.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            page.text
        );
        assert_eq!(page.select("#expense-error").len(), 1);
        assert!(
            page.text.contains("value=\"中秋活动\""),
            "typed values kept"
        );
        let page = admin
            .post_form(
                &format!("/contracts/{id}/expenses"),
                &[
                    ("budget_seq", "2"),
                    ("spent_on", "2025-09-01"),
                    ("amount", "300"),
                    ("description", "中秋活动"),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text);
        let page = admin.get(&format!("/contracts/{id}")).await;
        assert_eq!(page.select("#budget-2 td.spent"), ["300.00"]);
        assert_eq!(page.select("#execution-rate"), ["42.99%"]);
    }
);

app_test!(
    posts_are_added_by_the_purchaser_and_refused_to_others,
    |app| {
        let (mut admin, provider, st, id) = setup(&app).await;
        let path = format!("/api/v1/contracts/{id}/positions");
        let mut manager = login(
            &app,
            "provider_mgr",
            Role::AgencyManager,
            COUNTY,
            Some(&provider),
        )
        .await;
        let post = serde_json::json!({"title": "一线社工", "station_id": st, "headcount": 2, "monthly": "0.6万"});
        let res = send_json(&mut manager, Method::POST, &path, post.clone()).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text);
        let res = send_json(
            &mut admin,
            Method::POST,
            &path,
            serde_json::json!({"title": "站长", "headcount": 0}),
        )
        .await;
        refused(&res, "headcount", "purchase.headcount_invalid");
        let res = send_json(&mut admin, Method::POST, &path, post).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
        let body = res.json();
        assert_eq!(body[0]["monthly_fen"], 600_000);
        assert_eq!(body[0]["filled"], 0);
        // A staff id that is not the provider's is refused on staff_id.
        let res = send_json(
        &mut manager,
        Method::POST,
        &format!("{path}/1/fills"),
        serde_json::json!({"staff_id": "0190a3c2-0000-7000-8000-00000000beef", "from_date": "2025-07-01"}),
    )
    .await;
        refused(&res, "staff_id", "purchase.staff_unknown");
        let page = admin.get(&format!("/contracts/{id}")).await;
        assert_eq!(page.select("#position-1 td.filled"), ["0"]);
    }
);

app_test!(
    a_linked_evaluator_is_refused_and_the_link_is_audited,
    |app| {
        let (mut admin, provider, _, id) = setup(&app).await;
        let mut tx = app.state.db.begin().await.unwrap();
        let (evaluator, _) = shegong_store::network::orgs::create(
            &mut tx,
            &shegong_store::network::orgs::NewOrg {
                name: "阳光评估咨询".into(),
                uscc: Some("91430200MA4L000013".into()),
                kind: shegong_domain::network::org::OrgKind::Other,
                region: shegong_domain::RegionCode::parse(COUNTY).unwrap(),
            },
            app.state.now(),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let links = format!("/api/v1/organizations/{provider}/links");
        let res = send_json(
            &mut admin,
            Method::POST,
            &links,
            serde_json::json!({"linked_uscc": "91430200MA4L00001X"}),
        )
        .await;
        refused(&res, "linked_uscc", "org.link_unknown");
        let uscc = admin
            .get(&format!("/api/v1/organizations/{evaluator}"))
            .await
            .json()["uscc"]
            .clone();
        let res = send_json(
            &mut admin,
            Method::POST,
            &links,
            serde_json::json!({"linked_uscc": uscc, "kind": "shared_management"}),
        )
        .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
        assert_eq!(res.json()[0]["org_id"], evaluator.as_str());
        // Seen from the other side too; a second link is refused.
        let back = admin
            .get(&format!("/api/v1/organizations/{evaluator}/links"))
            .await
            .json();
        assert_eq!(back[0]["org_id"], provider.as_str());
        let res = send_json(
            &mut admin,
            Method::POST,
            &format!("/api/v1/organizations/{evaluator}/links"),
            serde_json::json!({"linked_org_id": provider}),
        )
        .await;
        refused(&res, "linked_org_id", "org.link_exists");
        // Planning an evaluation of the provider's contract with the linked organisation is refused.
        let res = send_json(
        &mut admin,
        Method::POST,
        "/api/v1/evaluations",
        serde_json::json!({"contract_id": id, "kind": "final", "evaluator_org": evaluator, "planned_on": "2026-05-01"}),
    )
    .await;
        refused(&res, "evaluator_org", "evaluation.conflict_of_interest");
        let page = admin.get(&format!("/orgs/{provider}/links")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(page.select("#org-links tbody tr").len(), 1);
        let token = admin.csrf().await;
        let res = admin
            .send(
                Method::DELETE,
                &format!("{links}/{evaluator}"),
                None,
                &[("x-csrf-token", &token)],
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM audit_log WHERE entity = 'org_link'"
            )
            .await,
            2
        );
        let res = send_json(
        &mut admin,
        Method::POST,
        "/api/v1/evaluations",
        serde_json::json!({"contract_id": id, "kind": "final", "evaluator_org": evaluator, "planned_on": "2026-05-01"}),
    )
    .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    }
);

app_test!(the_purchase_summary_is_for_purchasers_in_scope, |app| {
    let (mut admin, provider, _, id) = setup(&app).await;
    send_json(
        &mut admin,
        Method::POST,
        &format!("/api/v1/contracts/{id}/expenses"),
        serde_json::json!({"budget_seq": 1, "spent_on": "2025-07-15", "amount": "500", "description": "人员经费"}),
    )
    .await;
    let mut city = login(&app, "city_admin", Role::CivilAffairsAdmin, "4302", None).await;
    let s = city.get("/api/v1/purchase/summary?region=4302").await;
    assert_eq!(s.status, StatusCode::OK, "{}", s.text);
    let s = s.json();
    assert_eq!(s["total"]["contracts"], 1);
    assert_eq!(s["total"]["amount_fen"], 100_001);
    assert_eq!(s["total"]["spent_fen"], 50_000);
    assert_eq!(s["by_source"][0]["code"], "unassigned");
    assert_eq!(s["by_state"][0]["code"], "signed");
    // The first instalment was due 2025-06-15 and is not paid: overdue.
    assert_eq!(s["total"]["overdue_instalments"], 1);
    let child = s["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == COUNTY)
        .unwrap()
        .clone();
    assert_eq!(child["contracts"], 1);
    // The county sees its own; a county elsewhere, an agency and an unknown region do not.
    assert_eq!(
        admin.get("/api/v1/purchase/summary").await.json()["total"]["contracts"],
        1
    );
    let mut other = login(&app, "other_admin", Role::CivilAffairsAdmin, "430203", None).await;
    assert_eq!(
        other
            .get(&format!("/api/v1/purchase/summary?region={COUNTY}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        other.get("/api/v1/purchase/summary").await.json()["total"]["contracts"],
        0
    );
    let mut manager = login(
        &app,
        "provider_mgr",
        Role::AgencyManager,
        COUNTY,
        Some(&provider),
    )
    .await;
    assert_eq!(
        manager.get("/api/v1/purchase/summary").await.status,
        StatusCode::FORBIDDEN
    );
    // The page drills down to the county and exports the same rows.
    let page = city.get("/contracts/summary?region=4302").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.select("#kpi-contracts"), ["1"]);
    assert!(
        page.text
            .contains(&format!("/contracts/summary?region={COUNTY}"))
    );
    let xlsx = city.get("/contracts/summary/export.xlsx?region=4302").await;
    assert_eq!(xlsx.status, StatusCode::OK);
});
