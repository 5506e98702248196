//! 社区慈善 over HTTP (issue 15 items 3 and 5): a fund from creation through donations, a small
//! wish, the committee's approval of a disbursement to it and the wish fulfilled, through the
//! API and through the pages; the portal's disclosure without the person helped; scope (404);
//! form errors naming their field; exports; audit entries.

use super::fixtures::{agency, count, login, send_json, station};
use super::*;
use shegong_store::sql::Sql;

const COUNTY: &str = "430202";

pub(super) fn fund_body(name: &str) -> serde_json::Value {
    serde_json::json!({"region_code": COUNTY, "name": name, "host_name": "株洲市慈善总会",
        "host_uscc": "91350100M000100Y43", "host_public_fundraising": true, "initiator": "荷塘区月塘街道",
        "purpose": "困难群众帮扶、微心愿", "residual_rule": "转入株洲市慈善总会同类项目", "starts_on": "2026-01-01"})
}

fn id_of(res: &Res) -> String {
    assert!(res.status.is_success(), "{}", res.text);
    res.json()["id"].as_str().unwrap().to_owned()
}

pub(super) fn fields(res: &Res) -> Vec<String> {
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    res.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect()
}

pub(super) async fn resident(app: &TestApp, id: &str, name: &str) {
    let mut tx = app.state.db.begin().await.unwrap();
    Sql::new("INSERT INTO residents (id, region_code, name, name_key, birth_date, risk_tier, legal_basis, status, visit_interval_days, next_visit_due, registered_on, created_by, created_at, updated_at) VALUES (")
        .bind(id).push(", ").bind(COUNTY).push(", ").bind(name).push(", 'x', '2015-01-01', 'general', 'consent', 'active', 30, '2026-01-01', '2025-01-01', 'test', 0, 0)")
        .execute(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
}

pub(super) async fn committee(c: &mut Client, fund: &str) {
    for (name, role) in [
        ("张主任", "chair"),
        ("李委员", "member"),
        ("王委员", "member"),
        ("赵委员", "member"),
        ("钱委员", "member"),
        ("孙监督", "supervisor"),
    ] {
        let res = send_json(
            c,
            Method::POST,
            &format!("/api/v1/funds/{fund}/committee"),
            serde_json::json!({"name": name, "role": role, "unpaid": true}),
        )
        .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    }
}

app_test!(
    the_api_disburses_to_a_wish_and_the_portal_shows_it_without_the_child,
    |app| {
        let mut admin = login(&app, "county_admin", Role::CivilAffairsAdmin, COUNTY, None).await;
        let mut bad = fund_body("荷塘基金");
        bad["host_public_fundraising"] = false.into();
        bad["starts_on"] = "".into();
        let res = send_json(&mut admin, Method::POST, "/api/v1/funds", bad).await;
        let f = fields(&res);
        for want in ["name", "host_public_fundraising", "starts_on"] {
            assert!(f.iter().any(|x| x == want), "{want} in {f:?}");
        }
        assert_eq!(count(&app, "SELECT COUNT(*) FROM charity_funds").await, 0);
        let res = send_json(
            &mut admin,
            Method::POST,
            "/api/v1/funds",
            fund_body("株洲市慈善总会月塘社区慈善基金"),
        )
        .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
        let fund = id_of(&res);
        assert_eq!(res.json()["committee_complete"], false);

        let res = send_json(
        &mut admin,
        Method::POST,
        "/api/v1/donations",
        serde_json::json!({"fund_id": fund, "kind": "money", "amount": "1000", "donor_name": "刘女士",
            "receipt": "issued", "receipt_no": "湘捐2026-0001", "channel": "transfer"}),
    )
    .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
        let res = send_json(
        &mut admin,
        Method::POST,
        "/api/v1/donations",
        serde_json::json!({"fund_id": fund, "kind": "money", "amount": "50", "donor_name": "王先生",
            "receipt": "issued", "receipt_no": "湘捐2026-0001", "channel": "cash"}),
    )
    .await;
        assert_eq!(fields(&res), ["receipt_no"]);

        resident(&app, "child-1", "周小雨").await;
        let res = send_json(
        &mut admin,
        Method::POST,
        "/api/v1/wishes",
        serde_json::json!({"fund_id": fund, "title": "想要一个新书包", "category": "学习用品", "value": "150",
            "beneficiary_resident_id": "child-1", "beneficiary_note": "父亲病故，与奶奶同住"}),
    )
    .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
        let wish = id_of(&res);
        let res = send_json(
            &mut admin,
            Method::POST,
            &format!("/api/v1/wishes/{wish}/step"),
            serde_json::json!({"to": "claimed", "claimant": "月塘社区党员志愿队"}),
        )
        .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        assert_eq!(res.json()["state"], "claimed");

        let res = send_json(
            &mut admin,
            Method::POST,
            &format!("/api/v1/funds/{fund}/disbursements"),
            serde_json::json!({"target_kind": "wish", "wish_id": wish, "amount": "150"}),
        )
        .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
        let d = id_of(&res);
        let decide =
            serde_json::json!({"decision": "approve", "resolution_ref": "月塘管委会2026-1号"});
        let res = send_json(
            &mut admin,
            Method::POST,
            &format!("/api/v1/disbursements/{d}/decision"),
            decide.clone(),
        )
        .await;
        assert_eq!(fields(&res), ["committee"]);
        committee(&mut admin, &fund).await;
        let res = send_json(
            &mut admin,
            Method::POST,
            &format!("/api/v1/disbursements/{d}/decision"),
            decide,
        )
        .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        assert_eq!(res.json()["state"], "approved");
        let res = send_json(
            &mut admin,
            Method::POST,
            &format!("/api/v1/disbursements/{d}/payment"),
            serde_json::json!({"voucher_no": "付-0001"}),
        )
        .await;
        assert_eq!(res.json()["state"], "paid", "{}", res.text);
        let res = send_json(
            &mut admin,
            Method::POST,
            &format!("/api/v1/wishes/{wish}/step"),
            serde_json::json!({"to": "fulfilled"}),
        )
        .await;
        assert_eq!(res.json()["state"], "fulfilled", "{}", res.text);
        // Ending the fund dates its full disclosure three months later, once.
        let end = |on: &str| serde_json::json!({"ends_on": on});
        let res = send_json(
            &mut admin,
            Method::POST,
            &format!("/api/v1/funds/{fund}/end"),
            end("2025-12-01"),
        )
        .await;
        assert_eq!(fields(&res), ["ends_on"]);
        let res = send_json(
            &mut admin,
            Method::POST,
            &format!("/api/v1/funds/{fund}/end"),
            end("2026-12-31"),
        )
        .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        assert_eq!(res.json()["disclosure_final_due"], "2027-03-31");
        let res = send_json(
            &mut admin,
            Method::POST,
            &format!("/api/v1/funds/{fund}/end"),
            end("2026-11-30"),
        )
        .await;
        assert_eq!(fields(&res), ["ends_on"]);

        let got = admin.get(&format!("/api/v1/funds/{fund}")).await.json();
        assert_eq!(got["committee_complete"], true);
        assert_eq!(got["income_fen"], 100_000);
        assert_eq!(got["paid_fen"], 15_000);
        assert_eq!(got["committee"].as_array().unwrap().len(), 6);
        assert_eq!(admin.get("/api/v1/donations").await.json()["total"], 1);
        assert_eq!(
            admin
                .get(&format!("/api/v1/wishes?fund_id={fund}&state=fulfilled"))
                .await
                .json()["total"],
            1
        );

        // The portal, without login: the wish and the payment, never the child.
        let mut anon = app.client();
        let list = anon.get(&format!("/public/charity?region={COUNTY}")).await;
        assert_eq!(list.status, StatusCode::OK);
        assert!(list.text.contains(&format!("/public/charity/{fund}")));
        let public = anon.get(&format!("/public/charity/{fund}")).await;
        assert_eq!(public.status, StatusCode::OK);
        assert!(public.text.contains("想要一个新书包"), "{}", public.text);
        assert_eq!(public.select("#public-paid"), ["150.00"]);
        assert_eq!(public.select("#public-wishes .wish-state"), ["已兑现"]);
        for private in ["周小雨", "child-1", "父亲病故", "刘女士"] {
            assert!(!public.text.contains(private), "{private} on the portal");
        }
        let portal = anon.get(&format!("/public?region={COUNTY}")).await;
        assert_eq!(portal.select("#portal-charity-link a").len(), 1);

        // Another county: nothing of it exists.
        let mut other = login(&app, "other_admin", Role::CivilAffairsAdmin, "430203", None).await;
        for path in [
            format!("/api/v1/funds/{fund}"),
            format!("/api/v1/funds/{fund}/disbursements"),
            format!("/api/v1/funds/{fund}/stock"),
            format!("/charity/funds/{fund}"),
        ] {
            assert_eq!(
                other.get(&path).await.status,
                StatusCode::NOT_FOUND,
                "{path}"
            );
        }
        let res = send_json(
            &mut other,
            Method::POST,
            &format!("/api/v1/wishes/{wish}/step"),
            serde_json::json!({"to": "confirmed"}),
        )
        .await;
        assert_eq!(res.status, StatusCode::NOT_FOUND);
        let res = send_json(
            &mut other,
            Method::POST,
            &format!("/api/v1/funds/{fund}/committee"),
            serde_json::json!({"name": "外人", "role": "member", "unpaid": true}),
        )
        .await;
        assert_eq!(res.status, StatusCode::NOT_FOUND);
        assert_eq!(other.get("/api/v1/funds").await.json()["total"], 0);
        assert_eq!(other.get("/api/v1/donations").await.json()["total"], 0);
        assert_eq!(other.get("/api/v1/wishes").await.json()["total"], 0);

        for (entity, action, n) in [
            ("charity_fund", "create", 1),
            ("charity_fund", "update", 1),
            ("charity_fund", "add_member", 6),
            ("charity_donation", "create", 1),
            ("charity_wish", "create", 1),
            ("charity_wish", "transition", 2),
            ("charity_disbursement", "create", 1),
            ("charity_disbursement", "approve", 1),
            ("charity_disbursement", "pay", 1),
        ] {
            let mut c = app.state.db.read().await.unwrap();
            let got = Sql::new("SELECT COUNT(*) FROM audit_log WHERE entity = ")
                .bind(entity)
                .push(" AND action = ")
                .bind(action)
                .fetch_i64(&mut c)
                .await
                .unwrap();
            assert_eq!(got, n, "{entity} {action}");
        }
    }
);

app_test!(
    the_pages_run_the_fund_and_name_the_field_of_each_error,
    |app| {
        let mut admin = login(&app, "county_admin", Role::CivilAffairsAdmin, COUNTY, None).await;
        let form = |name: &'static str| {
            vec![
                ("region", COUNTY),
                ("name", name),
                ("host_name", "株洲市慈善总会"),
                ("host_uscc", "91350100M000100Y43"),
                ("host_public_fundraising", "1"),
                ("purpose", "困难群众帮扶"),
                ("residual_rule", "转入同类项目"),
                ("starts_on", "2026-01-01"),
            ]
        };
        let res = admin.post_form("/charity/funds", &form("荷塘基金")).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
        assert_eq!(res.select("#name-error").len(), 1);
        assert!(res.text.contains("value=\"荷塘基金\""));
        let res = admin
            .post_form("/charity/funds", &form("株洲市慈善总会荷塘社区慈善基金"))
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        let fund_path = res.location().split('?').next().unwrap().to_owned();
        let fund = fund_path.rsplit('/').next().unwrap().to_owned();
        // A donation site: the township's station, offered on the fund's page.
        let org = agency(&app, "荷塘社工服务中心", COUNTY).await;
        let site = station(&app, "430202001", "月塘街道社工站", &org).await;
        assert!(admin.get(&fund_path).await.text.contains("月塘街道社工站"));

        let res = admin
            .post_form(
                &format!("{fund_path}/donations"),
                &[
                    ("kind", "money"),
                    ("amount", "abc"),
                    ("donor_name", "陈先生"),
                    ("receipt", "waived"),
                    ("channel", "cash"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
        // The message names the field by its label.
        assert!(res.text.contains("金额"), "{}", res.text);
        let res = admin
            .post_form(
                &format!("{fund_path}/donations"),
                &[
                    ("kind", "money"),
                    ("amount", "800"),
                    ("donor_name", ""),
                    ("receipt", "anonymous"),
                    ("channel", "goods_point"),
                    ("station", &site),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        let res = admin
            .post_form(
                &format!("{fund_path}/wishes"),
                &[
                    ("title", "一台助行器"),
                    ("category", "生活用品"),
                    ("value", "300"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        committee(&mut admin, &fund).await;
        let wish = admin
            .get(&format!("/api/v1/wishes?fund_id={fund}"))
            .await
            .json()["items"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let res = admin
            .post_form(
                &format!("{fund_path}/disbursements"),
                &[("target_kind", "wish"), ("wish_id", &wish), ("amount", "")],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
        assert_eq!(res.select("#disbursement-amount-error").len(), 1);
        let res = admin
            .post_form(
                &format!("{fund_path}/disbursements"),
                &[
                    ("target_kind", "wish"),
                    ("wish_id", &wish),
                    ("amount", "300"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        let d = admin
            .get(&format!("/api/v1/funds/{fund}/disbursements"))
            .await
            .json()["items"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let res = admin
            .post_form(
                &format!("/charity/disbursements/{d}/decision"),
                &[("decision", "approve"), ("resolution_ref", "")],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
        assert_eq!(res.select("#decision-resolution_ref-error").len(), 1);
        assert!(res.text.contains("管委会决议: "));
        let res = admin
            .post_form(
                &format!("/charity/disbursements/{d}/decision"),
                &[
                    ("decision", "approve"),
                    ("resolution_ref", "荷塘管委会2026-2号"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        for (to, claimant) in [("claimed", "爱心企业"), ("fulfilled", "")] {
            let res = admin
                .post_form(
                    &format!("/charity/wishes/{wish}/step"),
                    &[("to", to), ("claimant", claimant)],
                )
                .await;
            assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        }
        let page = admin.get(&fund_path).await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(page.select("#wish-rows .wish-state"), ["已兑现"]);
        assert_eq!(
            page.select("#disbursement-rows .disbursement-state"),
            ["已批准"]
        );
        assert_eq!(page.select("#available"), ["500.00"]);
        let res = admin
            .post_form(&format!("{fund_path}/end"), &[("ends_on", "")])
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
        assert_eq!(res.select("#end-ends_on-error").len(), 1);
        let res = admin
            .post_form(&format!("{fund_path}/end"), &[("ends_on", "2026-06-30")])
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        assert_eq!(admin.get(&fund_path).await.select("#end-form").len(), 0);
        let board = admin.get("/charity/wishes?state=fulfilled").await;
        assert!(board.text.contains("一台助行器"));

        let res = admin
            .post_form(
                &format!("{fund_path}/stock"),
                &[
                    ("move_kind", "issue"),
                    ("goods_item", "大米"),
                    ("quantity", "2"),
                    ("signed_by", "刘阿姨"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
        assert_eq!(
            res.select("#stock-quantity-error"),
            ["数量: 发放数量超过库存。"]
        );
        let res = admin
            .post_form(
                &format!("{fund_path}/stock"),
                &[
                    ("move_kind", "receipt"),
                    ("goods_item", "大米"),
                    ("unit", "袋"),
                    ("quantity", "5"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);

        for (path, text) in [
            (
                "/charity/funds/export.xlsx".to_owned(),
                "株洲市慈善总会荷塘社区慈善基金",
            ),
            (
                format!("{fund_path}/donations/export.xlsx"),
                "月塘街道社工站",
            ),
            (
                format!("{fund_path}/disbursements/export.xlsx"),
                "一台助行器",
            ),
            (format!("{fund_path}/stock/export.xlsx"), "大米"),
            (format!("{fund_path}/stock/moves/export.xlsx"), "入库"),
            (format!("{fund_path}/committee/export.xlsx"), "孙监督"),
            ("/charity/wishes/export.xlsx".to_owned(), "一台助行器"),
        ] {
            let x = admin.get(&path).await;
            assert_eq!(x.status, StatusCode::OK, "{path}");
            assert!(xlsx_text(&x.bytes).contains(text), "{path}");
        }
        let public = app.client().get(&format!("/public/charity/{fund}")).await;
        assert_eq!(public.select("#public-disbursements tbody tr").len(), 1);
        assert!(public.text.contains("一台助行器"));
    }
);

app_test!(
    a_township_sees_its_own_funds_and_not_its_neighbours,
    |app| {
        let mut town = login(
            &app,
            "town_admin",
            Role::CivilAffairsAdmin,
            "430202001",
            None,
        )
        .await;
        let mut body = fund_body("株洲市慈善总会月塘街道社区慈善基金");
        body["region_code"] = "430202001".into();
        let res = send_json(&mut town, Method::POST, "/api/v1/funds", body).await;
        let fund = id_of(&res);
        // Not above its own township.
        let res = send_json(
            &mut town,
            Method::POST,
            "/api/v1/funds",
            fund_body("株洲市慈善总会荷塘区社区慈善基金"),
        )
        .await;
        assert_eq!(fields(&res), ["region"]);
        let mut county = login(&app, "county_admin", Role::CivilAffairsAdmin, COUNTY, None).await;
        assert_eq!(
            county.get(&format!("/api/v1/funds/{fund}")).await.status,
            StatusCode::OK
        );
        let mut neighbour = login(
            &app,
            "next_town",
            Role::CivilAffairsAdmin,
            "430202002",
            None,
        )
        .await;
        assert_eq!(
            neighbour.get(&format!("/api/v1/funds/{fund}")).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            neighbour
                .get(&format!("/charity/funds/{fund}"))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        let res = send_json(
        &mut neighbour,
        Method::POST,
        "/api/v1/donations",
        serde_json::json!({"fund_id": fund, "kind": "money", "amount": "10", "donor_name": "路人",
            "receipt": "waived", "channel": "cash"}),
    )
    .await;
        assert_eq!(fields(&res), ["fund_id"]);
        assert_eq!(neighbour.get("/api/v1/funds").await.json()["total"], 0);
        let list = town.get("/charity/funds").await;
        assert_eq!(list.select("#funds tbody tr").len(), 1);
    }
);
