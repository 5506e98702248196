//! People served over HTTP: registering with duplicate warnings, scope (404 across townships on
//! pages and API), masking and audited reveal, the case workflow, visits and the due lists with
//! the injected clock, protected files, exports.

use super::*;

const ID: &str = "43020319850101001X";

fn person<'a>(
    name: &'a str,
    id: &'a str,
    birth: &'a str,
    region: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("id_type", "resident_id"),
        ("id_number", id),
        ("birth_date", birth),
        ("phone", "13812345678"),
        ("address", "月塘街道幸福路 12 号 3 栋"),
        ("region", region),
        ("risk_tier", "high"),
        ("legal_basis", "statutory_duty"),
    ]
}

fn id_of(res: &Res, prefix: &str) -> String {
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    res.location()
        .trim_start_matches(prefix)
        .split('?')
        .next()
        .unwrap()
        .to_owned()
}

app_test!(residents_are_registered_once_scoped_and_masked, |app| {
    let mut worker = app.login_as(Role::SocialWorker, "430202001").await;
    let res = worker
        .post_form("/residents", &person("张建国", ID, "", "430202001"))
        .await;
    let id = id_of(&res, "/residents/");
    let page = worker.get(&format!("/residents/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    // Birth date derived from the number; everything sensitive masked.
    assert!(page.text.contains("1985-01-01"));
    assert!(
        !page.text.contains(ID)
            && !page.text.contains("13812345678")
            && !page.text.contains("3 栋")
    );
    assert_eq!(page.select("#phone"), vec!["138****5678"]);

    // A similar name (same pinyin) with the same birth date: warned, nothing saved until confirmed.
    let similar = person("章建国", "", "1985-01-01", "430202001");
    let res = worker.post_form("/residents", &similar).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.select("#duplicates a").iter().any(|n| n == "张建国"),
        "{}",
        res.text
    );
    let mut confirmed = similar.clone();
    confirmed.push(("confirm_duplicates", "1"));
    id_of(
        &worker.post_form("/residents", &confirmed).await,
        "/residents/",
    );
    // The same identity number again is refused on the field.
    let res = worker
        .post_form(
            "/residents",
            &[
                person("张三", ID, "", "430202001"),
                vec![("confirm_duplicates", "1")],
            ]
            .concat(),
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text.contains("id_number-error"));

    // Another township's worker: 404 on the page, the API, the case and the service.
    let mut other = app.login_as(Role::SocialWorker, "430202002").await;
    assert_eq!(
        other.get(&format!("/residents/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        other.get(&format!("/api/v1/residents/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(other.get("/api/v1/residents").await.json()["total"], 0);
    let res = worker
        .post_form(
            &format!("/residents/{id}/cases"),
            &[("problem", "独居，需要照料")],
        )
        .await;
    let case = id_of(&res, "/cases/");
    assert_eq!(
        other.get(&format!("/cases/{case}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        other.get(&format!("/api/v1/cases/{case}")).await.status,
        StatusCode::NOT_FOUND
    );
    let today = shegong_web::ui::forms::today(app.state.now());
    let visit = [
        ("resident", id.as_str()),
        ("kind", "visit"),
        ("domain", "elderly"),
        ("method", "home"),
        ("served_on", today.as_str()),
        ("duration_minutes", "40"),
        ("workers", "王芳"),
        ("notes", "血压偏高，已提醒就医"),
    ];
    let res = worker.post_form("/services", &visit).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let services = worker
        .get(&format!("/api/v1/services?resident={id}"))
        .await
        .json();
    let sid = services["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        other.get(&format!("/services/{sid}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        other.get(&format!("/api/v1/services/{sid}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(
        worker
            .get(&format!("/services/{sid}"))
            .await
            .text
            .contains("血压偏高")
    );

    // A reveal needs the permission and a reason, and is audited.
    let mut admin = app.login_as(Role::CivilAffairsAdmin, "4302").await;
    let res = admin
        .post_form(&format!("/residents/{id}/reveal"), &[("reason", "")])
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let res = admin
        .post_form(
            &format!("/residents/{id}/reveal"),
            &[("reason", "核对低保材料")],
        )
        .await;
    assert!(res.text.contains(ID) && res.text.contains("3 栋"));
    let mut auditor = app.login_as(Role::Auditor, "4302").await;
    let log = auditor.get("/api/v1/audit?action=reveal").await.json();
    assert!(
        log["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["entity"] == "resident"),
        "{log}"
    );
    assert_eq!(
        worker
            .post_form(&format!("/residents/{id}/reveal"), &[("reason", "x")])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
});

app_test!(visits_fall_due_and_overdue_as_the_clock_moves, |app| {
    let mut worker = app.login_as(Role::SocialWorker, "430202001").await;
    let me = worker.get("/api/v1/me").await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut p = person("刘桂英", "", "1940-05-05", "430202001");
    p.push(("worker", me.as_str()));
    let id = id_of(&worker.post_form("/residents", &p).await, "/residents/");
    let api = worker.get("/api/v1/visits/due?due=overdue").await.json();
    assert_eq!(
        api["total"], 0,
        "nothing overdue on the day of registration"
    );
    // High risk: a visit at least every 7 days. Eight days on, it is overdue.
    // (Sessions end when idle: sign in again after moving the clock.)
    app.advance_minutes(8 * 24 * 60);
    worker.login("socialworker_430202001", PASSWORD).await;
    let api = worker.get("/api/v1/visits/due?due=overdue").await.json();
    assert_eq!(api["total"], 1, "{api}");
    assert_eq!(api["items"][0]["id"], id.as_str());
    let page = worker.get(&format!("/residents/{id}")).await;
    assert_eq!(page.select("#next-due .tag").len(), 1, "marked overdue");
    // A phone visit today clears it and the next one is due in 7 days.
    let today = shegong_web::ui::forms::today(app.state.now());
    let visit = [
        ("resident", id.as_str()),
        ("kind", "visit"),
        ("domain", "elderly"),
        ("method", "phone"),
        ("served_on", today.as_str()),
        ("duration_minutes", "10"),
        ("workers", "王芳"),
    ];
    assert_eq!(
        worker.post_form("/services", &visit).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        worker.get("/api/v1/visits/due?due=overdue").await.json()["total"],
        0
    );
    let r = worker.get(&format!("/api/v1/residents/{id}")).await.json();
    assert_eq!(r["last_visit_on"], today.as_str());
    let due =
        chrono::NaiveDate::parse_from_str(&today, "%Y-%m-%d").unwrap() + chrono::Duration::days(7);
    assert_eq!(r["next_visit_due"], due.to_string());
    // A visit method the county's rule does not allow for high risk is refused, naming the field.
    let mut admin = app.login_as(Role::CivilAffairsAdmin, "430202").await;
    let res = admin
        .post_form(
            "/visit-rules",
            &[
                ("region", "430202"),
                ("tier", "high"),
                ("category", ""),
                ("interval_days", "3"),
                ("methods", "home"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let res = worker.post_form("/services", &visit).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text.contains("method-error"), "{}", res.text);
    // The rule also shortened the interval: due 3 days after the last visit.
    let r = worker.get(&format!("/api/v1/residents/{id}")).await.json();
    assert_eq!(r["visit_interval_days"], 3);
    // The worker's own page counts it.
    app.advance_minutes(4 * 24 * 60);
    worker.login("socialworker_430202001", PASSWORD).await;
    let mine = worker.get("/my").await;
    assert_eq!(mine.select("#count-overdue .stat-value"), vec!["1"]);
});

app_test!(
    a_case_goes_through_approval_and_children_are_protected,
    |app| {
        app.user("sw_a", Role::SocialWorker, "430202001", false)
            .await;
        app.user("sw_b", Role::SocialWorker, "430202001", false)
            .await;
        app.user("sup", Role::Supervisor, "430202", false).await;
        let mut a = app.client();
        a.login("sw_a", PASSWORD).await;
        let mut b = app.client();
        b.login("sw_b", PASSWORD).await;
        let mut sup = app.client();
        sup.login("sup", PASSWORD).await;
        let me = a.get("/api/v1/me").await.json();
        let my_id = me["id"].as_str().unwrap().to_owned();

        // A child's file, assigned to worker A: B (same township) cannot open it, A can.
        let mut child = person("小明", "", "2016-06-01", "430202001");
        child.push(("worker", my_id.as_str()));
        child.retain(|(k, _)| *k != "risk_tier");
        child.push(("risk_tier", "key"));
        let kid = id_of(&a.post_form("/residents", &child).await, "/residents/");
        assert_eq!(
            b.get(&format!("/residents/{kid}")).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(b.get("/api/v1/residents").await.json()["total"], 0);
        assert_eq!(
            a.get(&format!("/residents/{kid}")).await.status,
            StatusCode::OK
        );

        // The case: intake, assessment (six domains), plan → supervisor approval, evaluation,
        // closure → approval.
        let case = id_of(
            &a.post_form(
                &format!("/residents/{kid}/cases"),
                &[("problem", "父母外出务工，情绪低落"), ("worker", &my_id)],
            )
            .await,
            "/cases/",
        );
        let mut scores: Vec<(String, String)> = [
            "daily_living",
            "economic",
            "health",
            "psychological",
            "social_support",
            "safety",
        ]
        .iter()
        .map(|d| (format!("score_{d}"), "2".to_owned()))
        .collect();
        scores.push(("risk".into(), "high".into()));
        let fields: Vec<(&str, &str)> = scores
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            a.post_form(&format!("/cases/{case}/assess"), &fields)
                .await
                .status,
            StatusCode::SEE_OTHER
        );
        assert_eq!(
            a.get(&format!("/api/v1/residents/{kid}")).await.json()["risk_tier"],
            "high"
        );
        let plan = [
            ("goals", "改善情绪，建立同伴支持"),
            ("service_kind", "visit"),
            ("per_month", "4"),
            ("service_kind", "psychological"),
            ("per_month", "2"),
        ];
        assert_eq!(
            a.post_form(&format!("/cases/{case}/plan"), &plan)
                .await
                .status,
            StatusCode::SEE_OTHER
        );
        // The worker cannot approve; the supervisor (who works on the case now) can see and approve it.
        assert_eq!(
            a.post_form(&format!("/cases/{case}/decide"), &[("decision", "approve")])
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            sup.get(&format!("/cases/{case}")).await.status,
            StatusCode::NOT_FOUND,
            "a child's case: only those assigned"
        );
        let c = a.get(&format!("/api/v1/cases/{case}")).await.json();
        assert_eq!(
            (c["stage"].as_str(), c["pending"].as_str()),
            (Some("planning"), Some("plan"))
        );
        let mut admin = app.login_as(Role::CivilAffairsAdmin, "4302").await;
        assert_eq!(
            admin.get(&format!("/cases/{case}")).await.status,
            StatusCode::NOT_FOUND,
            "administrators need the explicit grant"
        );
        // The security administrator gives that grant (audited); then the file opens.
        let admin_id = admin.get("/api/v1/me").await.json()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let mut security = app.login_as(Role::SecurityAdmin, "4302").await;
        let res = security
            .post_form(&format!("/admin/users/{admin_id}/grant-protected"), &[])
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        assert_eq!(
            admin.get(&format!("/cases/{case}")).await.status,
            StatusCode::OK
        );
        assert_eq!(
            admin.get(&format!("/residents/{kid}")).await.status,
            StatusCode::OK
        );
        // Worker A names the supervisor on a second case; then the supervisor sees both files.
        let res = a
            .post_form(
                &format!("/residents/{kid}/cases"),
                &[
                    ("problem", "学业辅导"),
                    ("worker", &my_id),
                    ("supervisor", &sup_id(&app).await),
                ],
            )
            .await;
        id_of(&res, "/cases/");
        assert_eq!(
            sup.get(&format!("/cases/{case}")).await.status,
            StatusCode::OK
        );
        let res = sup
            .post_form(&format!("/cases/{case}/decide"), &[("decision", "return")])
            .await;
        assert_eq!(
            res.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "returning needs a comment"
        );
        assert_eq!(
            sup.post_form(
                &format!("/cases/{case}/decide"),
                &[("decision", "approve"), ("comment", "同意")]
            )
            .await
            .status,
            StatusCode::SEE_OTHER
        );
        assert_eq!(
            a.post_form(
                &format!("/cases/{case}/evaluate"),
                &[("goals_met", "90"), ("summary", "情绪明显改善")]
            )
            .await
            .status,
            StatusCode::SEE_OTHER
        );
        assert_eq!(
            a.post_form(&format!("/cases/{case}/close"), &[("outcome", "goals_met")])
                .await
                .status,
            StatusCode::SEE_OTHER
        );
        assert_eq!(
            sup.post_form(&format!("/cases/{case}/decide"), &[("decision", "approve")])
                .await
                .status,
            StatusCode::SEE_OTHER
        );
        let page = a.get(&format!("/cases/{case}")).await;
        assert_eq!(page.select("#stage"), vec!["结案"]);
        assert_eq!(page.select("#events tbody tr").len(), 7, "{}", page.text);
    }
);

async fn sup_id(app: &TestApp) -> String {
    let mut c = app.state.db.read().await.unwrap();
    shegong_store::admin::users::get_by_username(&mut c, &Scope::national(), "sup")
        .await
        .unwrap()
        .id
}

app_test!(exports_are_masked_unless_revealed_with_a_reason, |app| {
    let mut admin = app.login_as(Role::CivilAffairsAdmin, "4302").await;
    id_of(
        &admin
            .post_form("/residents", &person("王秀兰", ID, "", "430202001"))
            .await,
        "/residents/",
    );
    let res = admin.get("/residents/export.xlsx").await;
    assert_eq!(res.status, StatusCode::OK);
    let text = xlsx_text(&res.bytes);
    assert!(
        text.contains("王秀兰") && !text.contains(ID) && text.contains("4302**********001X"),
        "{text}"
    );
    let res = admin.get("/residents/export.xlsx?full=1").await;
    assert_eq!(
        res.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a full export needs a reason"
    );
    let res = admin
        .get(&format!(
            "/residents/export.xlsx?full=1&reason={}",
            "%E6%A0%B8%E5%AF%B9"
        ))
        .await;
    assert!(xlsx_text(&res.bytes).contains(ID));
    let mut sw = app.login_as(Role::SocialWorker, "430202001").await;
    assert_eq!(
        sw.get("/residents/export.xlsx").await.status,
        StatusCode::FORBIDDEN
    );
});

// Issue 18 (walkthrough): a wrong check character is an error on the identity number alone;
// the birth date (optional when the number gives it) is not flagged as required on top. With
// neither, the birth date is required.
app_test!(
    a_wrong_identity_number_does_not_flag_the_birth_date,
    |app| {
        let mut worker = app.login_as(Role::SocialWorker, "430202001").await;
        let res = worker
            .post_form(
                "/residents",
                &person("张建国", "430203198501010010", "", "430202001"),
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
        assert_eq!(res.select("#id_number-error").len(), 1, "{}", res.text);
        assert!(res.select("#birth_date-error").is_empty(), "{}", res.text);
        let res = worker
            .post_form("/residents", &person("张建国", "", "", "430202001"))
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(res.select("#birth_date-error").len(), 1, "{}", res.text);
    }
);

/// The (value, label) of every option of a select.
fn options(res: &Res, select: &str) -> Vec<(String, String)> {
    let html = res.html();
    let sel = scraper::Selector::parse(&format!("{select} option")).unwrap();
    html.select(&sel)
        .map(|o| {
            (
                o.value().attr("value").unwrap_or_default().to_owned(),
                o.text().collect::<String>(),
            )
        })
        .collect()
}

// Issue 18 (walkthrough): pickers tell accounts of the same name apart (username and region),
// the case supervisor picker offers supervisors only, and "加入谁的家庭" preselects nobody.
app_test!(pickers_tell_accounts_apart_and_preselect_nobody, |app| {
    app.user("sw_a", Role::SocialWorker, "430202001", false)
        .await;
    app.user("sw_b", Role::SocialWorker, "430202001", false)
        .await;
    app.user("sup_a", Role::Supervisor, "430202", false).await;
    {
        let mut tx = app.state.db.begin().await.unwrap();
        shegong_store::sql::Sql::new(
            "UPDATE users SET display_name = '社工站社工（演示）' WHERE username IN ('sw_a', 'sw_b', 'sup_a')",
        )
        .execute(&mut tx)
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    let mut worker = app.login_as(Role::SocialWorker, "430202001").await;
    let a = id_of(
        &worker
            .post_form("/residents", &person("张建国", ID, "", "430202001"))
            .await,
        "/residents/",
    );
    let res = worker
        .post_form(
            "/residents",
            &person("李桂兰", "", "1948-03-12", "430202001"),
        )
        .await;
    id_of(&res, "/residents/");
    let page = worker.get(&format!("/residents/{a}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let workers = options(&page, "#c-worker");
    let labels: Vec<&str> = workers
        .iter()
        .filter(|(_, l)| l.starts_with("社工站社工（演示）"))
        .map(|(_, l)| l.as_str())
        .collect();
    assert_eq!(labels.len(), 3, "{workers:?}");
    let mut distinct = labels.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 3, "labels repeat: {labels:?}");
    assert!(
        labels
            .iter()
            .any(|l| l.contains("sw_a") && l.contains("月塘街道")),
        "{labels:?}"
    );
    // Supervisors only.
    let supervisors = options(&page, "#c-supervisor");
    let named: Vec<&(String, String)> = supervisors.iter().filter(|(v, _)| !v.is_empty()).collect();
    assert_eq!(named.len(), 1, "{supervisors:?}");
    assert!(named[0].1.contains("sup_a"), "{supervisors:?}");
    // The household picker starts on "choose", and submitting it so is refused on the field.
    let household = options(&page, "#h-other");
    assert_eq!(
        household.first().map(|(v, _)| v.as_str()),
        Some(""),
        "{household:?}"
    );
    let html = page.html();
    let selected = scraper::Selector::parse("#h-other option[selected]").unwrap();
    assert_eq!(
        html.select(&selected)
            .map(|o| o.value().attr("value").unwrap_or_default().to_owned())
            .collect::<Vec<_>>(),
        vec![String::new()]
    );
    let res = worker
        .post_form(
            &format!("/residents/{a}/household"),
            &[("other", ""), ("relation", "10")],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
});

// Issue 18 (walkthrough): the risk history names the assessment that changed the tier, not
// the key "case.assessment"; older entries with that key read the same.
app_test!(the_risk_history_names_the_assessment, |app| {
    let mut worker = app.login_as(Role::SocialWorker, "430202001").await;
    let id = id_of(
        &worker
            .post_form(
                "/residents",
                &person("李桂兰", "", "1948-03-12", "430202001"),
            )
            .await,
        "/residents/",
    );
    let case = id_of(
        &worker
            .post_form(&format!("/residents/{id}/cases"), &[("problem", "独居")])
            .await,
        "/cases/",
    );
    let mut scores: Vec<(String, String)> = [
        "daily_living",
        "economic",
        "health",
        "psychological",
        "social_support",
        "safety",
    ]
    .iter()
    .map(|d| (format!("score_{d}"), "2".to_owned()))
    .collect();
    scores.push(("risk".into(), "key".into()));
    let fields: Vec<(&str, &str)> = scores
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let res = worker
        .post_form(&format!("/cases/{case}/assess"), &fields)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let page = worker.get(&format!("/residents/{id}")).await;
    let reasons = page.select("#tier-history td:nth-child(3)");
    assert!(reasons.iter().any(|r| r == "预估"), "{reasons:?}");
    // An entry as earlier versions wrote it.
    {
        let mut tx = app.state.db.begin().await.unwrap();
        shegong_store::sql::Sql::new(
            "UPDATE risk_history SET reason = 'case.assessment' WHERE reason = 'case.event.assessment' AND resident_id = ",
        )
        .bind(id.as_str())
        .execute(&mut tx)
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    let page = worker.get(&format!("/residents/{id}")).await;
    let reasons = page.select("#tier-history td:nth-child(3)");
    assert!(reasons.iter().any(|r| r == "预估"), "{reasons:?}");
    assert!(!reasons.iter().any(|r| r.contains("case.")), "{reasons:?}");
});
