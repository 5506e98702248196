//! Evaluations over HTTP (issue 14 items 5 and 6): an evaluator sees only the contracts and
//! evaluations assigned to its organisation (404 otherwise), a score above a node's maximum is
//! a 422 naming the node with nothing written, a conflicted evaluator is refused, and a full run
//! through the pages and the API reaches a grade that reduces the instalment it triggers — every
//! write audited.

use super::fixtures::{agency, count, login, send_json, station};
use super::*;

const COUNTY: &str = "430202";

/// A contract of the county paying 40 % on a date, 40 % after the mid-term and 20 % after the
/// final evaluation; from 90 % of the maximum all is paid, from 60 % 80 %.
async fn contract(admin: &mut Client, number: &str, provider: &str, station: &str) -> String {
    let body = serde_json::json!({
        "region_code": COUNTY,
        "contract_number": number,
        "title": "社工站服务项目",
        "provider_org_id": provider,
        "amount": "100000",
        "term_start": "2025-06-01",
        "term_end": "2026-05-31",
        "procurement_method": "public_tender",
        "reduction_rule": "90=100; 60=80; 0=0",
        "stations": [station],
        "lines": [{"service_kind": "casework", "content": "个案", "unit": "个", "unit_price": "1000",
                   "quantity": 20, "rule": "closed_case", "min_a": 0}],
        "plan": "40/40/20",
        "instalments": [
            {"trigger": "date", "on": "2025-06-15"},
            {"trigger": "evaluation", "kind": "mid_term"},
            {"trigger": "evaluation", "kind": "final"}
        ]
    });
    let res = send_json(admin, Method::POST, "/api/v1/contracts", body).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    res.json()["id"].as_str().unwrap().to_owned()
}

struct World {
    admin: Client,
    provider: String,
    evaluator_org: String,
    other_org: String,
    contract: String,
    other_contract: String,
}

async fn world(app: &TestApp) -> World {
    let mut admin = login(app, "county_admin", Role::CivilAffairsAdmin, COUNTY, None).await;
    let provider = agency(app, "阳光社工服务中心", COUNTY).await;
    let other_provider = agency(app, "启航社工服务中心", COUNTY).await;
    let evaluator_org = agency(app, "明镜第三方评估中心", COUNTY).await;
    let other_org = agency(app, "公允评估事务所", COUNTY).await;
    let st = station(app, "430202001", "一号社工站", &provider).await;
    let st2 = station(app, "430202002", "二号社工站", &other_provider).await;
    let contract_id = contract(&mut admin, "PG-2025-001", &provider, &st).await;
    let other_contract = contract(&mut admin, "PG-2025-002", &other_provider, &st2).await;
    World {
        admin,
        provider,
        evaluator_org,
        other_org,
        contract: contract_id,
        other_contract,
    }
}

async fn plan(admin: &mut Client, contract: &str, kind: &str, evaluator: &str) -> Res {
    send_json(
        admin,
        Method::POST,
        "/api/v1/evaluations",
        serde_json::json!({"contract_id": contract, "kind": kind, "evaluator_org": evaluator,
                           "planned_on": "2025-12-01"}),
    )
    .await
}

async fn planned(admin: &mut Client, contract: &str, kind: &str, evaluator: &str) -> String {
    let res = plan(admin, contract, kind, evaluator).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    res.json()["id"].as_str().unwrap().to_owned()
}

async fn scores(c: &mut Client, id: &str, scores: serde_json::Value) -> Res {
    send_json(
        c,
        Method::PUT,
        &format!("/api/v1/evaluations/{id}/scores"),
        serde_json::json!({ "scores": scores }),
    )
    .await
}

async fn move_to(c: &mut Client, id: &str, to: &str) -> Res {
    send_json(
        c,
        Method::POST,
        &format!("/api/v1/evaluations/{id}/state"),
        serde_json::json!({ "to": to }),
    )
    .await
}

app_test!(an_evaluator_sees_only_its_assignments, |app| {
    let mut w = world(&app).await;
    let mine = planned(&mut w.admin, &w.contract, "mid_term", &w.evaluator_org).await;
    let theirs = planned(&mut w.admin, &w.other_contract, "mid_term", &w.other_org).await;
    let mut ev = login(
        &app,
        "evaluator",
        Role::Evaluator,
        COUNTY,
        Some(&w.evaluator_org),
    )
    .await;
    let res = ev.get("/api/v1/evaluations").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let ids: Vec<String> = res.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, vec![mine.clone()]);
    let res = ev.get("/api/v1/contracts").await;
    assert_eq!(res.json()["total"], 1, "{}", res.text);
    assert_eq!(res.json()["items"][0]["id"], w.contract.as_str());
    assert_eq!(
        ev.get(&format!("/api/v1/evaluations/{mine}")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        ev.get(&format!("/api/v1/contracts/{}", w.contract))
            .await
            .status,
        StatusCode::OK
    );
    for path in [
        format!("/api/v1/evaluations/{theirs}"),
        format!("/api/v1/contracts/{}", w.other_contract),
        format!("/evaluations/{theirs}"),
        format!("/contracts/{}", w.other_contract),
    ] {
        assert_eq!(ev.get(&path).await.status, StatusCode::NOT_FOUND, "{path}");
    }
    // Writes outside the assignment are 404 too, and nothing is written.
    let res = scores(
        &mut ev,
        &theirs,
        serde_json::json!([{"node": "management", "value": "优"}]),
    )
    .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.text);
    assert_eq!(
        move_to(&mut ev, &theirs, "self_assessment").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM evaluation_scores").await,
        0
    );
    // The evaluator cannot plan evaluations; the page list shows only its own.
    let res = plan(&mut ev, &w.other_contract, "final", &w.evaluator_org).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text);
    let page = ev.get("/evaluations").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("PG-2025-001"));
    assert!(!page.text.contains("PG-2025-002"));
    // The provider's manager still sees its own contract and evaluation only.
    let mut manager = login(
        &app,
        "manager",
        Role::AgencyManager,
        COUNTY,
        Some(&w.provider),
    )
    .await;
    let res = manager.get("/api/v1/contracts").await;
    assert_eq!(res.json()["total"], 1, "{}", res.text);
    assert_eq!(
        manager
            .get(&format!("/api/v1/evaluations/{mine}"))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        manager
            .get(&format!("/api/v1/evaluations/{theirs}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
});

app_test!(
    scores_above_the_maximum_and_conflicts_are_refused_by_field,
    |app| {
        let mut w = world(&app).await;
        // The provider cannot evaluate its own contract.
        let res = plan(&mut w.admin, &w.contract, "final", &w.provider).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
        assert_eq!(res.json()["errors"][0]["field"], "evaluator_org");
        assert_eq!(
            res.json()["errors"][0]["code"],
            "evaluation.conflict_of_interest"
        );
        assert_eq!(count(&app, "SELECT COUNT(*) FROM evaluations").await, 0);
        // The same refusal from the list page's form, shown next to the field.
        let page = w.admin.get("/evaluations").await;
        assert_eq!(page.select("#new-evaluation").len(), 1);
        let res = w
            .admin
            .post_form(
                "/evaluations",
                &[
                    ("contract_id", &w.contract),
                    ("kind", "final"),
                    ("evaluator_org", &w.provider),
                    ("planned_on", "2025-12-01"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
        assert_eq!(res.select("#evaluator-error").len(), 1, "{}", res.text);
        assert_eq!(count(&app, "SELECT COUNT(*) FROM evaluations").await, 0);
        let res = w
            .admin
            .post_form(
                "/evaluations",
                &[
                    ("contract_id", &w.contract),
                    ("kind", "spot_check"),
                    ("evaluator_org", &w.other_org),
                    ("planned_on", "2025-12-01"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        assert!(res.location().starts_with("/evaluations/"));
        let id = planned(&mut w.admin, &w.contract, "mid_term", &w.evaluator_org).await;
        // Reassigning while planned is checked the same way.
        let path = format!("/api/v1/evaluations/{id}");
        let res = send_json(
            &mut w.admin,
            Method::PATCH,
            &path,
            serde_json::json!({"evaluator_org": w.provider}),
        )
        .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
        assert_eq!(res.json()["errors"][0]["field"], "evaluator_org");
        let res = send_json(
            &mut w.admin,
            Method::PATCH,
            &path,
            serde_json::json!({"evaluator_org": w.other_org}),
        )
        .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        assert_eq!(res.json()["evaluator_org_id"], w.other_org.as_str());
        let page = w.admin.get(&format!("/evaluations/{id}")).await;
        assert_eq!(page.select("#assign").len(), 1);
        let audit_before = count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE entity = 'evaluation'",
        )
        .await;
        // "management" is worth 100: a valid entry and 151 on a 150-point node, none written.
        let res = scores(
        &mut w.admin,
        &id,
        serde_json::json!([
            {"node": "management", "value": "优", "evidence": "台账"},
            {"node": "core_delivery", "value": "151", "reason": "实地核查", "evidence": "核查表"}
        ]),
    )
    .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
        assert_eq!(res.json()["errors"][0]["field"], "scores.core_delivery");
        assert_eq!(
            res.json()["errors"][0]["code"],
            "evaluation.score_above_max"
        );
        assert_eq!(
            count(&app, "SELECT COUNT(*) FROM evaluation_scores").await,
            0
        );
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM audit_log WHERE entity = 'evaluation'"
            )
            .await,
            audit_before
        );
        // The page shows the error next to the node and keeps what was typed.
        let mut page_admin =
            login(&app, "county_admin2", Role::CivilAffairsAdmin, COUNTY, None).await;
        let res = page_admin
            .post_form(
                &format!("/evaluations/{id}/scores"),
                &[
                    ("v_core_delivery", "150.5"),
                    ("r_core_delivery", "实地核查"),
                    ("e_core_delivery", "核查表"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
        assert_eq!(res.select("#error-core_delivery").len(), 1, "{}", res.text);
        assert!(res.text.contains("150.5"));
        assert_eq!(
            count(&app, "SELECT COUNT(*) FROM evaluation_scores").await,
            0
        );
    }
);

app_test!(
    a_full_run_reaches_a_grade_and_reduces_the_instalment,
    |app| {
        let mut w = world(&app).await;
        let id = planned(&mut w.admin, &w.contract, "mid_term", &w.evaluator_org).await;
        let mut ev = login(
            &app,
            "evaluator",
            Role::Evaluator,
            COUNTY,
            Some(&w.evaluator_org),
        )
        .await;
        let sheet = ev.get(&format!("/api/v1/evaluations/{id}")).await;
        assert_eq!(sheet.status, StatusCode::OK, "{}", sheet.text);
        let sheet = sheet.json();
        assert_eq!(sheet["sheet_max"], "1000");
        // Every scored node at 良 (four-fifths), delivery at 100 %, the veto passed: the third
        // party's by the evaluator, the rest by the purchaser.
        let (mut third, mut others) = (vec![], vec![]);
        for n in sheet["nodes"].as_array().unwrap() {
            // Delivery nodes are measured from the (empty) service records: 0 % delivered, so
            // full marks need an override with its reason.
            let (value, reason) = match n["scorer"].as_str().unwrap() {
                "graded" => ("良", ""),
                "ratio_bands" if !n["measured_percent"].is_null() => (
                    n["max"].as_str().unwrap(),
                    "服务记录尚未补录，按纸质台账核定",
                ),
                "ratio_bands" => ("100", ""),
                "veto" => ("pass", ""),
                _ => continue,
            };
            let entry = serde_json::json!({"node": n["id"], "value": value, "reason": reason,
                                           "evidence": "服务台账"});
            if n["role"] == "third_party" {
                third.push(entry);
            } else {
                others.push(entry);
            }
        }
        // The evaluator may not enter the purchaser's nodes.
        let res = scores(&mut ev, &id, serde_json::Value::Array(others.clone())).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
        assert_eq!(res.json()["errors"][0]["code"], "evaluation.node_not_yours");
        let res = scores(&mut ev, &id, serde_json::Value::Array(third)).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        assert_eq!(res.json()["complete"], false);
        let res = scores(&mut w.admin, &id, serde_json::Value::Array(others)).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        assert_eq!(res.json()["complete"], true);
        assert_eq!(res.json()["sheet_total"], "850");
        for to in [
            "self_assessment",
            "document_review",
            "site_visit",
            "preliminary",
            "feedback",
            "rectification",
        ] {
            let res = move_to(&mut ev, &id, to).await;
            assert_eq!(res.status, StatusCode::OK, "{to}: {}", res.text);
        }
        // Illegal steps are refused on `state`.
        let res = move_to(&mut ev, &id, "published").await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(res.json()["errors"][0]["field"], "state");
        // A rectification task: set by the evaluator on the page, submitted by the provider,
        // accepted by the evaluator.
        let res = ev
            .post_form(
                &format!("/evaluations/{id}/rectifications"),
                &[
                    ("node_id", "management"),
                    ("description", "补齐督导记录"),
                    ("owner", "张主任"),
                    ("deadline", "2026-01-31"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        let mut manager = login(
            &app,
            "manager",
            Role::AgencyManager,
            COUNTY,
            Some(&w.provider),
        )
        .await;
        let res = send_json(
            &mut manager,
            Method::POST,
            &format!("/api/v1/evaluations/{id}/rectifications/1"),
            serde_json::json!({"to": "submitted", "evidence": "督导记录 12 份"}),
        )
        .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        assert_eq!(res.json()["state"], "submitted");
        let res = send_json(
            &mut ev,
            Method::POST,
            &format!("/api/v1/evaluations/{id}/rectifications/1"),
            serde_json::json!({"to": "accepted"}),
        )
        .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        // Review, then the final score from the page.
        assert_eq!(move_to(&mut ev, &id, "review").await.status, StatusCode::OK);
        let res = ev
            .post_form(&format!("/evaluations/{id}/state"), &[("to", "final")])
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        let res = ev.get(&format!("/api/v1/evaluations/{id}")).await;
        let j = res.json();
        assert_eq!(
            (
                j["state"].as_str(),
                j["total_points"].as_str(),
                j["grade"].as_str()
            ),
            (Some("final"), Some("850"), Some("good"))
        );
        // The mid-term instalment (40 % of 100,000 yuan) pays 80 %: 32,000 yuan.
        let res = w
            .admin
            .get(&format!("/api/v1/contracts/{}/instalments", w.contract))
            .await;
        let inst = res.json();
        assert_eq!(inst[1]["state"], "assessed", "{}", res.text);
        assert_eq!(inst[1]["outcome"], "reduced");
        assert_eq!(inst[1]["payable_fen"], 3_200_000);
        assert_eq!(inst[2]["state"], "due");
        // The page shows the grade; every step was audited.
        let page = ev.get(&format!("/evaluations/{id}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(page.select("#evaluation-grade"), vec!["良好".to_owned()]);
        assert!(
            count(
                &app,
                "SELECT COUNT(*) FROM audit_log WHERE entity = 'evaluation'"
            )
            .await
                >= 11
        );
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM audit_log WHERE entity = 'rectification'"
            )
            .await,
            3
        );
        // Final evaluations take no more scores.
        let res = scores(
            &mut w.admin,
            &id,
            serde_json::json!([{"node": "management", "value": "优"}]),
        )
        .await;
        assert_eq!(res.json()["errors"][0]["code"], "evaluation.closed");
    }
);
