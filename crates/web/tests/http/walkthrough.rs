//! Fixes from the admin walkthrough (issue 18): figures with thousands separators, a note on
//! protected files hidden from the viewer, rejected uploads back on their form, the rectification
//! record, the station checklist in one form, coded case-closure outcomes.

use super::*;

app_test!(figures_on_pages_have_thousands_separators, |app| {
    let mut admin = app.login_as(Role::CivilAffairsAdmin, "4302").await;
    let org = fixtures::agency(&app, "株洲市荷塘区明德社工服务中心", "430202").await;
    let st = fixtures::station(&app, "430202001", "月塘街道社工站", &org).await;
    let today = shegong_web::ui::forms::today(app.state.now());
    let res = admin
        .post_form(
            "/services",
            &[
                ("kind", "community"),
                ("domain", "elderly"),
                ("station", st.as_str()),
                ("title", "重阳游园"),
                ("served_on", today.as_str()),
                ("duration_minutes", "120"),
                ("person_times", "12345"),
                ("workers", "王芳"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    for lang in ["zh-CN", "en"] {
        let page = admin
            .send(
                Method::GET,
                "/stats/4302",
                None,
                &[("accept-language", lang)],
            )
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        assert_eq!(page.select("#kpi-person-times"), vec!["12,345"], "{lang}");
        let cells = page.select("#subregions tbody tr td:nth-child(4)");
        assert!(cells.contains(&"12,345".to_owned()), "{lang}: {cells:?}");
        // Years stay years.
        let years = page.select("#year option");
        assert!(
            !years.is_empty() && years.iter().all(|y| !y.contains(',')),
            "{years:?}"
        );
    }
});

async fn register(c: &mut Client, name: &str, birth: &str) {
    let res = c
        .post_form(
            "/residents",
            &[
                ("name", name),
                ("birth_date", birth),
                ("region", "430202001"),
                ("risk_tier", "general"),
                ("legal_basis", "statutory_duty"),
                ("confirm_duplicates", "1"),
            ],
        )
        .await;
    assert!(
        res.status.is_success() || res.status.is_redirection(),
        "{}",
        res.text
    );
}

app_test!(
    the_resident_list_says_how_many_protected_files_it_hides,
    |app| {
        let mut admin = app.login_as(Role::CivilAffairsAdmin, "4302").await;
        register(&mut admin, "刘桂英", "1950-03-03").await;
        register(&mut admin, "陈秀兰", "1948-06-01").await;
        // Two children under 14: protected, and this account holds no grant for them.
        register(&mut admin, "刘小明", "2018-04-01").await;
        register(&mut admin, "陈小红", "2019-05-01").await;
        let page = admin.get("/residents").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        assert_eq!(page.select("#residents tbody tr").len(), 2);
        let note = page.select("#protected-hidden");
        assert_eq!(note.len(), 1, "{}", page.text);
        assert!(note[0].contains("另有 2 份受保护档案"), "{note:?}");
        let en = admin
            .send(
                Method::GET,
                "/residents",
                None,
                &[("accept-language", "en")],
            )
            .await;
        assert!(en.select("#protected-hidden")[0].starts_with("2 protected files"));
        // The count follows the filter: a name that matches no child hides nothing.
        let page = admin.get("/residents?q=%E5%88%98%E6%A1%82").await;
        assert!(page.select("#protected-hidden").is_empty(), "{}", page.text);
        let page = admin.get("/residents?q=%E5%88%98").await;
        assert!(page.select("#protected-hidden")[0].contains(" 1 "));
        // An account holding the grant sees every file, and no note.
        sqlx_grant(&app, "civilaffairsadmin_4302").await;
        let page = admin.get("/residents").await;
        assert_eq!(page.select("#residents tbody tr").len(), 4);
        assert!(page.select("#protected-hidden").is_empty());
    }
);

async fn sqlx_grant(app: &TestApp, username: &str) {
    let mut tx = app.state.db.begin().await.unwrap();
    let national = shegong_domain::Scope::national();
    let (id,): (String,) = shegong_store::sql::Sql::new("SELECT id FROM users WHERE username = ")
        .bind(username.to_owned())
        .fetch_one(&mut tx)
        .await
        .unwrap();
    shegong_store::admin::users::set_sees_protected(&mut tx, &national, &id, true, 0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

app_test!(
    a_refused_upload_returns_to_its_page_naming_the_field_and_file,
    |app| {
        let mut admin = app.login_as(Role::CivilAffairsAdmin, "4302").await;
        let org = fixtures::agency(&app, "株洲市荷塘区明德社工服务中心", "430202").await;
        let st = fixtures::station(&app, "430202001", "月塘街道社工站", &org).await;
        let path = format!("/stations/{st}/attachments");
        // A program is not a photo: the station page again, the message naming field and file.
        let res = admin
            .upload(
                &path,
                &[("kind", "photo")],
                "file",
                "setup.exe",
                b"MZ\x90\x00not an image",
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
        let error = res.select("#station-error").concat();
        assert!(
            error.contains("文件“setup.exe”未上传：只接受 JPG、PNG、PDF、DOCX、XLSX 文件。"),
            "{error}"
        );
        // Within the normal page: the station's own heading and its upload form.
        assert!(
            res.select("h1.page-title")
                .concat()
                .starts_with("月塘街道社工站")
        );
        assert!(res.text.contains(&format!("action=\"{path}\"")));
        let empty = admin
            .upload(&path, &[("kind", "photo")], "file", "空.pdf", b"")
            .await;
        assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(empty.select("#station-error").concat().contains("“空.pdf”"));
        // In English too.
        admin.headers.push(("accept-language".into(), "en".into()));
        let res = admin
            .upload(
                &path,
                &[("kind", "photo")],
                "file",
                "setup.exe",
                b"MZ\x90\x00",
            )
            .await;
        let error = res.select("#station-error").concat();
        assert!(error.contains("“setup.exe” was not uploaded"), "{error}");
        assert_eq!(
            fixtures::count(&app, "SELECT COUNT(*) FROM attachments").await,
            0
        );
    }
);

/// A body over the server's limit is refused before any form reads it: the error page says why
/// and links back to the page the upload came from.
macro_rules! with_small_body_limit {
    ($name:ident, $db:expr) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let mut config = Config {
                twofactor_for_administrators: false,
                ..Config::default()
            };
            config.body_limit = 300 * 1024;
            let app = TestApp::with_config($db.await, config).await;
            let mut admin = app.login_as(Role::CivilAffairsAdmin, "4302").await;
            let org = fixtures::agency(&app, "明德社工服务中心", "430202").await;
            let st = fixtures::station(&app, "430202001", "月塘街道社工站", &org).await;
            admin
                .headers
                .push(("referer".into(), format!("http://localhost/stations/{st}")));
            let big = vec![b'x'; 400 * 1024];
            let res = admin
                .upload(
                    &format!("/stations/{st}/attachments"),
                    &[],
                    "file",
                    "big.pdf",
                    &big,
                )
                .await;
            assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", res.text);
            let back = res.html();
            let sel = scraper::Selector::parse("#error-back").unwrap();
            let link = back.select(&sel).next().expect("a link back");
            assert_eq!(
                link.value().attr("href"),
                Some(format!("/stations/{st}").as_str())
            );
            assert!(
                res.select("nav, .sidebar, header").len() > 0,
                "the normal layout"
            );
            // A Referer from another site is not linked.
            admin.headers.retain(|(k, _)| k != "referer");
            admin
                .headers
                .push(("referer".into(), "http://evil.example/x".into()));
            let res = admin
                .upload(
                    &format!("/stations/{st}/attachments"),
                    &[],
                    "file",
                    "big.pdf",
                    &big,
                )
                .await;
            assert!(res.select("#error-back").is_empty());
        }
    };
}

mod an_oversized_body_links_back {
    use super::*;
    with_small_body_limit!(sqlite, shegong_store::testing::sqlite());
    with_small_body_limit!(postgres, shegong_store::testing::postgres());
}

/// A case of an adult at evaluation: worker `sw`, supervisor `sup`; the case id.
async fn case_at_evaluation(app: &TestApp, a: &mut Client, sup: &mut Client) -> String {
    let sup_id = sup.get("/api/v1/me").await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let me = a.get("/api/v1/me").await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = a
        .post_form(
            "/residents",
            &[
                ("name", "刘桂英"),
                ("birth_date", "1950-03-03"),
                ("region", "430202001"),
                ("risk_tier", "general"),
                ("legal_basis", "statutory_duty"),
                ("worker", me.as_str()),
                ("confirm_duplicates", "1"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let rid = res
        .location()
        .trim_start_matches("/residents/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let res = a
        .post_form(
            &format!("/residents/{rid}/cases"),
            &[
                ("problem", "独居，情绪低落"),
                ("worker", &me),
                ("supervisor", &sup_id),
            ],
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
    let mut assess: Vec<(String, String)> = [
        "daily_living",
        "economic",
        "health",
        "psychological",
        "social_support",
        "safety",
    ]
    .iter()
    .map(|d| (format!("score_{d}"), "1".to_owned()))
    .collect();
    assess.push(("risk".into(), "general".into()));
    let fields: Vec<(&str, &str)> = assess
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let steps = [
        (false, "assess", fields),
        (
            false,
            "plan",
            vec![
                ("goals", "建立支持"),
                ("service_kind", "visit"),
                ("per_month", "2"),
            ],
        ),
        (true, "decide", vec![("decision", "approve")]),
        (
            false,
            "evaluate",
            vec![("goals_met", "80"), ("summary", "情绪改善")],
        ),
    ];
    for (by_sup, step, fields) in steps {
        let client = if by_sup { &mut *sup } else { &mut *a };
        let res = client
            .post_form(&format!("/cases/{case}/{step}"), &fields)
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{step}: {}", res.text);
    }
    let _ = app;
    case
}

app_test!(the_case_closure_outcome_is_a_coded_choice, |app| {
    app.user("sw_walk", Role::SocialWorker, "430202001", false)
        .await;
    app.user("sup_walk", Role::Supervisor, "430202", false)
        .await;
    let mut a = app.client();
    a.login("sw_walk", PASSWORD).await;
    let mut sup = app.client();
    sup.login("sup_walk", PASSWORD).await;
    let case = case_at_evaluation(&app, &mut a, &mut sup).await;

    // The form offers the catalogue; free text is refused on the field.
    let page = a.get(&format!("/cases/{case}")).await;
    let options = page.select("#close select[name=outcome] option");
    assert_eq!(
        options,
        [
            "请选择",
            "目标达成",
            "部分达成",
            "未达成",
            "转介",
            "服务对象退出",
            "其他"
        ]
    );
    let res = a
        .post_form(
            &format!("/cases/{case}/close"),
            &[("outcome", "目标基本达成")],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert!(res.text.contains("结案成效无效"), "{}", res.text);

    // The API: a bad code and a missing note for "other" are named; a code with a note saves.
    let path = format!("/api/v1/cases/{case}/closure");
    let res = fixtures::send_json(
        &mut a,
        Method::POST,
        &path,
        serde_json::json!({"outcome": "done"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert_eq!(res.json()["errors"][0]["field"], "outcome");
    let res = fixtures::send_json(
        &mut a,
        Method::POST,
        &path,
        serde_json::json!({"outcome": "other"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert_eq!(res.json()["errors"][0]["field"], "outcome_note");
    let res = fixtures::send_json(
        &mut a,
        Method::POST,
        &path,
        serde_json::json!({"outcome": "partly_met", "note": "仍需定期探访"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let body = res.json();
    assert_eq!(
        (
            body["outcome_code"].as_str(),
            body["outcome"].as_str(),
            body["pending"].as_str()
        ),
        (Some("partly_met"), Some("仍需定期探访"), Some("closure"))
    );
    let page = a.get(&format!("/cases/{case}")).await;
    assert_eq!(page.select("#case-outcome"), ["部分达成（仍需定期探访）"]);
    let en = a
        .send(
            Method::GET,
            &format!("/cases/{case}"),
            None,
            &[("accept-language", "en")],
        )
        .await;
    assert_eq!(
        en.select("#case-outcome"),
        ["Goals partly met (仍需定期探访)"]
    );
    // Asking twice is refused: the case waits for the supervisor.
    let res = fixtures::send_json(
        &mut a,
        Method::POST,
        &path,
        serde_json::json!({"outcome": "goals_met"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);

    // A case closed before outcomes were coded keeps its free text, shown as it is.
    let mut tx = app.state.db.begin().await.unwrap();
    shegong_store::sql::Sql::new(
        "UPDATE cases SET outcome_code = NULL, outcome = '需求已满足，转常规探访' WHERE id = ",
    )
    .bind(case.clone())
    .execute(&mut tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let page = a.get(&format!("/cases/{case}")).await;
    assert_eq!(page.select("#case-outcome"), ["需求已满足，转常规探访"]);
    let c = a.get(&path.replace("/closure", "")).await.json();
    assert_eq!(c["outcome_code"], serde_json::Value::Null);
});

app_test!(the_station_checklist_is_saved_in_one_form, |app| {
    let mut office = app.login_as(Role::CivilAffairsAdmin, "430203").await;
    let station =
        crate::inspections::direct_station(&mut office, "430203001", "贺家土街道社工站").await;
    for (category, name, weight) in [
        ("site", "场地面积达标", "2"),
        ("funding", "运营经费到位", "1"),
        ("staff", "配备专职社工", "1"),
        ("rules", "制度上墙", "1"),
        ("services", "开展个案服务", "1"),
    ] {
        let res = office
            .post_form(
                "/indicators",
                &[
                    ("category", category),
                    ("name", name),
                    ("evidence", "none"),
                    ("weight", weight),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    }
    // One form with a row per item and one save button.
    let page = office.get(&format!("/stations/{station}")).await;
    assert_eq!(page.select("form#checklist").len(), 1, "{}", page.text);
    assert_eq!(page.select("form#checklist select[name=met]").len(), 5);
    assert_eq!(page.select("form#checklist button").len(), 1);
    let html = page.html();
    let sel = scraper::Selector::parse("form#checklist input[name=item]").unwrap();
    let ids: Vec<String> = html
        .select(&sel)
        .map(|e| e.value().attr("value").unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 5);
    // All five at once: four met, one not (with a note).
    let mut fields: Vec<(&str, &str)> = Vec::new();
    for (n, id) in ids.iter().enumerate() {
        fields.push(("item", id));
        fields.push(("met", if n == 1 { "0" } else { "1" }));
        fields.push(("note", if n == 1 { "经费未拨付" } else { "" }));
    }
    let res = office
        .post_form(&format!("/stations/{station}/assess"), &fields)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    // Back to the checklist, not the top of the page.
    assert_eq!(
        res.location(),
        format!("/stations/{station}?notice=notice.saved#indicators")
    );
    let api = office
        .get(&format!("/api/v1/stations/{station}/checklist"))
        .await;
    assert_eq!(api.status, StatusCode::OK, "{}", api.text);
    let body = api.json();
    // Weights 2+1+1+1+1 = 6, met 5 of 6.
    assert_eq!(body["readiness_pct"], 83);
    let met: Vec<_> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["met"].clone())
        .collect();
    assert_eq!(
        met.iter()
            .filter(|m| **m == serde_json::json!(true))
            .count(),
        4
    );
    assert_eq!(
        met.iter()
            .filter(|m| **m == serde_json::json!(false))
            .count(),
        1
    );
    // One audit entry for the whole form.
    assert_eq!(
        fixtures::count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'assess'"
        )
        .await,
        1
    );

    // The API: several items at once; an item that does not apply is named.
    let path = format!("/api/v1/stations/{station}/checklist");
    let items: Vec<_> = ids
        .iter()
        .map(|id| serde_json::json!({"item_id": id, "met": true}))
        .collect();
    let res = fixtures::send_json(
        &mut office,
        Method::PUT,
        &path,
        serde_json::json!({"items": items}),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.json()["readiness_pct"], 100);
    let res = fixtures::send_json(
        &mut office,
        Method::PUT,
        &path,
        serde_json::json!({"items": [{"item_id": "no-such-item", "met": true}]}),
    )
    .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert_eq!(res.json()["errors"][0]["field"], "item");
});

app_test!(
    a_rectification_shows_its_history_and_its_verifier_by_name,
    |app| {
        use crate::inspections::{direct_station, linked_id};
        let mut office = app.login_as(Role::CivilAffairsAdmin, "430203").await;
        let station = direct_station(&mut office, "430203001", "贺家土街道社工站").await;
        let res = office
            .post_form(
                "/indicators",
                &[
                    ("category", "site"),
                    ("name", "场地面积达标"),
                    ("evidence", "photo"),
                    ("weight", "1"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        let form = office
            .get(&format!("/inspections/visits/new?station={station}"))
            .await;
        let met = format!("met_{}", linked_id(&form, "name=\"met_"));
        let res = office
            .post_form(
                "/inspections/visits",
                &[
                    (met.as_str(), "1"),
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
        let visit = office.get(res.location().split('?').next().unwrap()).await;
        let rect = format!(
            "/inspections/rectifications/{}",
            linked_id(&visit, "/inspections/rectifications/")
        );
        let mut worker = app.login_as(Role::SocialWorker, "430203").await;
        let res = worker
            .post_form(&rect, &[("to", "submitted"), ("response", "已补齐")])
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        let res = office.post_form(&rect, &[("to", "open")]).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        let res = worker
            .post_form(&rect, &[("to", "submitted"), ("response", "已补齐并归档")])
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        let res = office.post_form(&rect, &[("to", "verified")]).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);

        let page = office.get(&rect).await;
        // The verifier by display name, not by account name.
        assert_eq!(
            page.select("#rect-verifier"),
            ["civilaffairsadmin_430203 name"]
        );
        // Every step: who, from → to, the note.
        let rows = page.select("#rect-history tbody tr");
        assert_eq!(rows.len(), 4, "{rows:?}");
        let cells = |n: usize| page.select(&format!("#rect-history tbody tr:nth-child({n}) td"));
        let first = cells(1);
        assert_eq!(first[1], "socialworker_430203 name");
        assert_eq!(first[2], "待整改 → 已提交待核验");
        assert_eq!(first[3], "已补齐");
        assert_eq!(cells(2)[2], "已提交待核验 → 待整改");
        assert_eq!(cells(4)[1], "civilaffairsadmin_430203 name");
        assert_eq!(cells(4)[2], "已提交待核验 → 已核验");
    }
);
