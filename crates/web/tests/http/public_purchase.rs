//! The purchase of services on the public portal (issue 14 item 7): `/public/purchase` and
//! `GET /api/v1/public/purchase` answer without login for a region and everything under it,
//! showing published catalogue editions, procurement notices of purchase projects, contract
//! notices and published grades — not a draft edition, not an evaluation that is final but
//! unpublished, not another region's — and no personal data: no usernames or display names, no
//! record ids, no phones or notes.

use shegong_store::sql::Sql;

use super::fixtures::{agency, count, login, send_json, station};
use super::*;

const COUNTY: &str = "430202";

async fn item(admin: &mut Client, year: i64, name: &str, steps: &[&str]) -> (String, String) {
    let res = send_json(
        admin,
        Method::POST,
        "/api/v1/catalogue",
        serde_json::json!({"region_code": COUNTY, "year": year, "field": "elderly", "name": name,
                           "description": format!("{name}的说明"), "shares": "district=100",
                           "edition_title": format!("石峰区{year}年度服务目录")}),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let j = res.json();
    let id = j["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == name)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for to in steps {
        let res = send_json(
            admin,
            Method::POST,
            &format!("/api/v1/catalogue/items/{id}/status"),
            serde_json::json!({"to": to}),
        )
        .await;
        assert_eq!(res.status, StatusCode::OK, "{to}: {}", res.text);
    }
    (j["id"].as_str().unwrap().to_owned(), id)
}

async fn contract(admin: &mut Client, number: &str, provider: &str, stations: &[&str], item: &str) {
    let body = serde_json::json!({
        "region_code": COUNTY,
        "contract_number": number,
        "title": format!("{number} 社工站服务项目"),
        "provider_org_id": provider,
        "amount": "100000",
        "term_start": "2025-06-01",
        "term_end": "2026-05-31",
        "procurement_method": "public_tender",
        "catalogue_item_id": item,
        "reduction_rule": "90=100; 60=80; 0=0",
        "stations": stations,
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
}

/// An evaluation of the contract numbered `number`, every graded node at `level`, taken by
/// the purchaser to its final score (and published when `publish`).
async fn evaluation(admin: &mut Client, contract: &str, kind: &str, level: &str, publish: bool) {
    let res = send_json(
        admin,
        Method::POST,
        "/api/v1/evaluations",
        serde_json::json!({"contract_id": contract, "kind": kind, "planned_on": "2025-12-01",
                           "note": "评估员李四 13800138000"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let id = res.json()["id"].as_str().unwrap().to_owned();
    let sheet = admin.get(&format!("/api/v1/evaluations/{id}")).await.json();
    let entries: Vec<serde_json::Value> = sheet["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| {
            let (value, reason) = match n["scorer"].as_str().unwrap() {
                "graded" => (level, ""),
                "ratio_bands" if !n["measured_percent"].is_null() => {
                    (n["max"].as_str().unwrap(), "按纸质台账核定")
                }
                "ratio_bands" => ("100", ""),
                "veto" => ("pass", ""),
                _ => return None,
            };
            Some(
                serde_json::json!({"node": n["id"], "value": value, "reason": reason,
                                    "evidence": "服务台账"}),
            )
        })
        .collect();
    let res = send_json(
        admin,
        Method::PUT,
        &format!("/api/v1/evaluations/{id}/scores"),
        serde_json::json!({ "scores": entries }),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let mut steps = vec![
        "self_assessment",
        "document_review",
        "site_visit",
        "preliminary",
        "feedback",
        "final",
    ];
    if publish {
        steps.push("published");
    }
    for to in steps {
        let res = send_json(
            admin,
            Method::POST,
            &format!("/api/v1/evaluations/{id}/state"),
            serde_json::json!({ "to": to }),
        )
        .await;
        assert_eq!(res.status, StatusCode::OK, "{to}: {}", res.text);
    }
}

/// Every key of a JSON document, nested ones included.
fn keys(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                out.push(k.clone());
                keys(v, out);
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| keys(v, out)),
        _ => {}
    }
}

app_test!(
    the_portal_publishes_purchase_records_without_login_or_personal_data,
    |app| {
        let mut admin = login(&app, "county_admin", Role::CivilAffairsAdmin, COUNTY, None).await;
        let provider = agency(&app, "阳光社工服务中心", COUNTY).await;
        let st = station(&app, "430202001", "一号社工站", &provider).await;
        let (edition, bought) = item(
            &mut admin,
            2025,
            "居家养老探访",
            &["reviewed", "included", "purchasing"],
        )
        .await;
        item(&mut admin, 2025, "尚在征集的项目", &[]).await;
        let (draft_edition, draft_item) =
            item(&mut admin, 2026, "草稿目录里的项目", &["reviewed"]).await;
        // Drafts are marked on the catalogue page; the purchaser publishes from there.
        let page = admin.get("/catalogue").await;
        assert_eq!(
            page.select(".edition-status"),
            vec!["草稿，未公开", "草稿，未公开"]
        );
        let res = admin
            .post_form(&format!("/catalogue/editions/{edition}/publish"), &[])
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        let page = admin.get("/catalogue").await;
        assert_eq!(
            page.select(".edition-status"),
            vec!["草稿，未公开", "已发布"]
        );
        assert_eq!(page.select("form.edition-publish").len(), 1);
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM audit_log WHERE entity = 'catalogue_edition'"
            )
            .await,
            1
        );
        // Once only; and not by an agency or without signing in.
        let res = send_json(
            &mut admin,
            Method::POST,
            &format!("/api/v1/catalogue/editions/{edition}/publish"),
            serde_json::json!({}),
        )
        .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
        assert_eq!(res.json()["errors"][0]["field"], "status");
        let mut manager = login(
            &app,
            "manager",
            Role::AgencyManager,
            COUNTY,
            Some(&provider),
        )
        .await;
        let res = send_json(
            &mut manager,
            Method::POST,
            &format!("/api/v1/catalogue/editions/{draft_edition}/publish"),
            serde_json::json!({}),
        )
        .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text);
        let res = app
            .client()
            .send(
                Method::POST,
                &format!("/api/v1/catalogue/editions/{draft_edition}/publish"),
                None,
                &[],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
        contract(&mut admin, "PG-2025-001", &provider, &[&st], &bought).await;
        contract(&mut admin, "PG-2026-002", &provider, &[], &draft_item).await;
        let contracts = admin.get("/api/v1/contracts?q=PG-2025-001").await.json();
        let first = contracts["items"][0]["id"].as_str().unwrap().to_owned();
        // Published at 良 (850 of 1000: 良好); final but unpublished at 优 (优秀).
        evaluation(&mut admin, &first, "mid_term", "良", true).await;
        evaluation(&mut admin, &first, "spot_check", "优", false).await;

        let mut anon = app.client();
        // The portal links to the purchase page of the same region.
        let portal = anon.get("/public?region=4302").await;
        assert_eq!(portal.status, StatusCode::OK);
        let link = portal.html();
        let a = link
            .select(&scraper::Selector::parse("#portal-purchase-link a").unwrap())
            .next()
            .unwrap();
        assert_eq!(a.value().attr("href"), Some("/public/purchase?region=4302"));

        // The catalogue tab: the published edition's included and purchasing items only.
        let res = anon.get("/public/purchase?region=4302").await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        assert!(res.text.contains("石峰区2025年度服务目录"), "{}", res.text);
        assert!(res.text.contains("居家养老探访"));
        assert!(!res.text.contains("尚在征集的项目"));
        assert!(!res.text.contains("石峰区2026年度服务目录"));
        assert!(!res.text.contains("草稿目录里的项目"));
        assert_eq!(
            res.select("#public-purchase-tabs a"),
            vec![
                "服务目录 (1)",
                "采购公告 (0)",
                "合同公告 (2)",
                "评估结果 (1)"
            ]
        );
        // Contract notices: the provider, the stations by name, the published item only.
        let res = anon.get("/public/purchase?region=4302&tab=contracts").await;
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(
            res.select(".notice-number"),
            vec!["PG-2025-001", "PG-2026-002"]
        );
        assert!(res.text.contains("阳光社工服务中心"));
        assert_eq!(res.select(".notice-stations")[0], "1 个：一号社工站");
        assert!(!res.text.contains("草稿目录里的项目"));
        // Grades: the published one, not the final but unpublished one.
        let res = anon
            .get("/public/purchase?region=4302&tab=evaluations")
            .await;
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(res.select(".public-grade"), vec!["良好"]);
        assert!(!res.text.contains("优秀"));
        assert!(res.text.contains("850 / 1000"));
        // In English too.
        let res = anon
            .send(
                Method::GET,
                "/public/purchase?region=4302&tab=evaluations",
                None,
                &[("accept-language", "en")],
            )
            .await;
        assert!(res.text.contains("Evaluation results (1)"), "{}", res.text);
        assert_eq!(res.select(".public-grade"), vec!["Good"]);
        // Another city shows none of it; an unknown region is 404.
        let res = anon.get("/public/purchase?region=4301&tab=contracts").await;
        assert_eq!(res.status, StatusCode::OK);
        assert!(!res.text.contains("PG-2025-001"));
        assert_eq!(
            anon.get("/public/purchase?region=439999").await.status,
            StatusCode::NOT_FOUND
        );

        // The API: the same content, no credentials.
        let res = anon.get("/api/v1/public/purchase?region=4302").await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        let j = res.json();
        assert_eq!(j["region_code"], "4302");
        assert_eq!(j["catalogue"]["total"], 1);
        let items = &j["catalogue"]["items"][0]["items"];
        assert_eq!(items.as_array().unwrap().len(), 1);
        assert_eq!(items[0]["name"], "居家养老探访");
        assert_eq!(items[0]["status"], "purchasing");
        assert_eq!(j["contracts"]["total"], 2);
        let notice = &j["contracts"]["items"][0];
        assert_eq!(notice["contract_number"], "PG-2025-001");
        assert_eq!(notice["amount_fen"], 10_000_000);
        assert_eq!(notice["stations"], serde_json::json!(["一号社工站"]));
        assert_eq!(notice["catalogue_item"], "居家养老探访");
        assert!(j["contracts"]["items"][1]["catalogue_item"].is_null());
        assert_eq!(j["evaluations"]["total"], 1);
        let grade = &j["evaluations"]["items"][0];
        assert_eq!(
            (&grade["grade"], &grade["total_points"], &grade["kind"]),
            (
                &serde_json::json!("good"),
                &serde_json::json!("850"),
                &serde_json::json!("mid_term")
            )
        );
        // No personal data: no field that names, identifies or reaches a person, and none of
        // the accounts', notes' or records' values.
        let mut all = Vec::new();
        keys(&j, &mut all);
        for k in &all {
            assert!(
                !(k == "id"
                    || k.ends_with("_id")
                    || k.contains("by")
                    || k.contains("user")
                    || k.contains("display")
                    || k.contains("phone")
                    || k.contains("mobile")
                    || k.contains("note")
                    || k.contains("owner")
                    || k.contains("evaluator")
                    || k.contains("history")),
                "field {k} in {}",
                res.text
            );
        }
        for page in [
            res.text.clone(),
            anon.get("/public/purchase?region=4302").await.text,
            anon.get("/public/purchase?region=4302&tab=contracts")
                .await
                .text,
            anon.get("/public/purchase?region=4302&tab=evaluations")
                .await
                .text,
        ] {
            for secret in [
                "county_admin",
                "李四",
                "13800138000",
                "0731-22334455",
                first.as_str(),
                provider.as_str(),
                st.as_str(),
                edition.as_str(),
            ] {
                assert!(!page.contains(secret), "{secret} published: {page}");
            }
        }
        // Paged: one a page, with the totals.
        let res = anon
            .get("/api/v1/public/purchase?region=4302&page=2&per_page=1")
            .await;
        let j = res.json();
        assert_eq!(
            (j["page"].as_i64(), j["per_page"].as_i64()),
            (Some(2), Some(1))
        );
        assert_eq!(j["contracts"]["total"], 2);
        assert_eq!(j["contracts"]["items"][0]["contract_number"], "PG-2026-002");
        assert_eq!(j["catalogue"]["items"].as_array().unwrap().len(), 0);
        // A bad region is 404 on the API too.
        assert_eq!(
            anon.get("/api/v1/public/purchase?region=439999")
                .await
                .status,
            StatusCode::NOT_FOUND
        );
    }
);

/// The keys of a JSON document that could name, identify or reach a person or a record.
fn personal_keys(j: &serde_json::Value) -> Vec<String> {
    let mut all = Vec::new();
    keys(j, &mut all);
    all.retain(|k| {
        k == "id"
            || k.ends_with("_id")
            || k.contains("by")
            || k.contains("user")
            || k.contains("display")
            || k.contains("phone")
            || k.contains("note")
            || k.contains("created")
    });
    all
}

app_test!(
    the_portal_publishes_procurement_notices_linking_only_web_addresses,
    |app| {
        let mut admin = login(&app, "county_admin", Role::CivilAffairsAdmin, COUNTY, None).await;
        let purchaser = agency(&app, "株洲市荷塘区民政局", COUNTY).await;
        let res = send_json(
            &mut admin,
            Method::POST,
            "/api/v1/projects",
            serde_json::json!({"region_code": COUNTY, "project_number": "ZC-2025-01",
                "name": "荷塘区社工站服务项目", "budget": "50万", "term_start": "2025-06-01",
                "term_end": "2026-05-31", "purchaser_org_id": purchaser}),
        )
        .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
        let id = res.json()["id"].as_str().unwrap().to_owned();
        let res = send_json(
            &mut admin,
            Method::POST,
            &format!("/api/v1/projects/{id}/state"),
            serde_json::json!({"to": "procuring", "procurement_method": "public_tender"}),
        )
        .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        for (kind, on, title) in [
            (
                "procurement",
                "2025-05-10",
                "荷塘区社工站服务项目公开招标公告",
            ),
            ("result", "2025-06-01", "荷塘区社工站服务项目中标结果公告"),
        ] {
            let res = send_json(
                &mut admin,
                Method::POST,
                &format!("/api/v1/projects/{id}/notices"),
                serde_json::json!({"kind": kind, "published_on": on, "title": title,
                    "url": format!("https://www.ccgp-hunan.gov.cn/notice/{kind}")}),
            )
            .await;
            assert_eq!(res.status, StatusCode::CREATED, "{kind}: {}", res.text);
        }
        // A stored address that is not a web one (filed before links were checked, say) is
        // shown as text, never as a link.
        let mut tx = app.state.db.begin().await.unwrap();
        Sql::new("UPDATE procurement_notices SET url = ")
            .bind("javascript:alert(1)")
            .push(" WHERE kind = ")
            .bind("result")
            .execute(&mut tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();

        let mut anon = app.client();
        let res = anon.get("/public/purchase?region=4302").await;
        assert_eq!(
            res.select("#public-purchase-tabs a"),
            vec![
                "服务目录 (0)",
                "采购公告 (2)",
                "合同公告 (0)",
                "评估结果 (0)"
            ]
        );
        let res = anon.get("/public/purchase?region=4302&tab=notices").await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        assert_eq!(
            res.select(".procurement-title"),
            vec![
                "荷塘区社工站服务项目中标结果公告",
                "荷塘区社工站服务项目公开招标公告"
            ],
            "latest first"
        );
        assert_eq!(
            res.select(".procurement-kind"),
            vec!["中标（成交）结果公告", "采购公告"]
        );
        assert_eq!(
            res.select(".procurement-date"),
            vec!["2025-06-01", "2025-05-10"]
        );
        let row = res.select(".procurement-notice").join(" | ");
        for shown in [
            "ZC-2025-01",
            "荷塘区社工站服务项目",
            "株洲市荷塘区民政局",
            "公开招标",
            "500,000.00",
        ] {
            assert!(row.contains(shown), "{shown} in {row}");
        }
        let html = res.html();
        let links: Vec<(String, String)> = html
            .select(&scraper::Selector::parse(".procurement-title a").unwrap())
            .map(|a| {
                (
                    a.text().collect::<String>(),
                    a.value().attr("href").unwrap_or_default().to_owned(),
                )
            })
            .collect();
        assert_eq!(
            links,
            vec![(
                "荷塘区社工站服务项目公开招标公告".to_owned(),
                "https://www.ccgp-hunan.gov.cn/notice/procurement".to_owned()
            )],
            "only the web address is a link"
        );
        assert!(!res.text.contains("javascript:"), "{}", res.text);
        // In English too.
        let res = anon
            .send(
                Method::GET,
                "/public/purchase?region=4302&tab=notices",
                None,
                &[("accept-language", "en")],
            )
            .await;
        assert!(res.text.contains("Procurement notices (2)"), "{}", res.text);
        assert_eq!(
            res.select(".procurement-kind"),
            vec!["Result notice", "Procurement notice"]
        );
        // Another city's portal has none.
        let res = anon.get("/public/purchase?region=4301&tab=notices").await;
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(res.select(".procurement-notice").len(), 0);
        assert!(res.text.contains("本地区尚无购买项目的采购公告。"));

        // The API: the same notices, the link only when it is a web address.
        let res = anon.get("/api/v1/public/purchase?region=4302").await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        let j = res.json();
        let list = &j["procurement_notices"];
        assert_eq!(list["total"], 2);
        let (result, first) = (&list["items"][0], &list["items"][1]);
        assert_eq!(
            (&result["kind"], &result["published_on"], &result["url"]),
            (
                &serde_json::json!("result"),
                &serde_json::json!("2025-06-01"),
                &serde_json::Value::Null
            )
        );
        assert_eq!(
            first["url"],
            "https://www.ccgp-hunan.gov.cn/notice/procurement"
        );
        assert_eq!(first["project_number"], "ZC-2025-01");
        assert_eq!(first["project_name"], "荷塘区社工站服务项目");
        assert_eq!(first["purchaser_name"], "株洲市荷塘区民政局");
        assert_eq!(first["procurement_method"], "public_tender");
        assert_eq!(first["budget_fen"], 50_000_000);
        assert_eq!(first["region_code"], COUNTY);
        assert_eq!(personal_keys(&j), Vec::<String>::new(), "{}", res.text);
        for page in [
            res.text.clone(),
            anon.get("/public/purchase?region=4302&tab=notices")
                .await
                .text,
        ] {
            for secret in ["county_admin", id.as_str(), purchaser.as_str()] {
                assert!(!page.contains(secret), "{secret} published: {page}");
            }
        }
        let j = anon.get("/api/v1/public/purchase?region=4301").await.json();
        assert_eq!(j["procurement_notices"]["total"], 0);
    }
);
