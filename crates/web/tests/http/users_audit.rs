//! Account management and the audit log: both scoped to the manager's or auditor's region.

use super::*;

app_test!(county_admin_reads_only_its_own_county, |app| {
    let other = app
        .user("hetang_worker", Role::SocialWorker, "430202001", false)
        .await;
    let own = app
        .user("lusong_worker", Role::SocialWorker, "430203001", false)
        .await;
    // Something happens in each county.
    let mut o = app.client();
    o.login("hetang_worker", PASSWORD).await;
    let mut w = app.client();
    w.login("lusong_worker", PASSWORD).await;

    let mut admin = app.login_as(Role::CivilAffairsAdmin, "430203").await;
    // Users: pages and API.
    let list = admin.get("/admin/users").await;
    assert_eq!(list.status, StatusCode::OK);
    let names = list.select("#users tbody td:first-child");
    assert!(names.contains(&"lusong_worker".to_owned()));
    assert!(!names.contains(&"hetang_worker".to_owned()));
    assert_eq!(
        admin.get(&format!("/admin/users/{own}")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        admin.get(&format!("/admin/users/{other}")).await.status,
        StatusCode::NOT_FOUND
    );
    let api = admin.get("/api/v1/users?per_page=200").await.json();
    let api_names: Vec<_> = api["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap().to_owned())
        .collect();
    assert!(api_names.contains(&"lusong_worker".to_owned()));
    assert!(!api_names.contains(&"hetang_worker".to_owned()));
    assert!(
        api["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["region_code"].as_str().unwrap().starts_with("430203"))
    );
    // Changing an account outside the county is not found either.
    assert_eq!(
        admin
            .post_form(&format!("/admin/users/{other}/disable"), &[])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // Audit: pages and API.
    let audit = admin.get("/api/v1/audit?per_page=200").await.json();
    let items = audit["items"].as_array().unwrap();
    assert!(items.iter().any(|e| e["actor"] == "lusong_worker"));
    assert!(
        items
            .iter()
            .all(|e| e["region_code"].as_str().unwrap().starts_with("430203"))
    );
    assert!(!items.iter().any(|e| e["actor"] == "hetang_worker"));
    let page = admin.get("/audit?actor=hetang_worker").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.select("#audit tbody tr"), ["暂无数据。"]);
    let page = admin.get("/audit?actor=lusong_worker").await;
    assert!(!page.select("#audit tbody tr").is_empty());
    assert_ne!(page.select("#audit tbody tr")[0], "暂无数据。");
});

app_test!(
    managers_create_accounts_within_their_scope_and_grants,
    |app| {
        let mut admin = app.login_as(Role::CivilAffairsAdmin, "430203").await;
        let form = admin.get("/admin/users/new").await;
        assert_eq!(form.status, StatusCode::OK);
        let roles = form.select("#role option");
        assert!(roles.contains(&"社工站社工".to_owned()));
        assert!(
            !roles.contains(&"审计员".to_owned()),
            "only business roles: {roles:?}"
        );
        // Outside the scope, and a role it may not grant: errors beside each field, input kept.
        let res = admin
            .post_form(
                "/admin/users",
                &[
                    ("username", "zhang.wei"),
                    ("display_name", "张伟"),
                    ("role", "auditor"),
                    ("region", "430204001"),
                    ("org", ""),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(res.select("#role-error"), ["您无权授予该角色。"]);
        assert_eq!(
            res.select("#region-error"),
            ["数据范围超出了您自己的管理范围。"]
        );
        assert!(res.text.contains("value=\"zhang.wei\""));
        let res = admin
            .post_form(
                "/admin/users",
                &[
                    ("username", "x"),
                    ("display_name", "张伟"),
                    ("role", "social_worker"),
                    ("region", "430203001"),
                    ("org", ""),
                ],
            )
            .await;
        assert_eq!(
            res.select("#username-error"),
            ["用户名须为 3–32 位字母、数字、点、下划线或连字符。"]
        );
        // A valid account: created with a temporary password shown once.
        let res = admin
            .post_form(
                "/admin/users",
                &[
                    ("username", "zhang.wei"),
                    ("display_name", "张伟"),
                    ("role", "social_worker"),
                    ("region", "430203001"),
                    ("org", ""),
                ],
            )
            .await;
        // Post/Redirect/Get: a reload cannot re-submit the form, and the password is not in the URL.
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        let location = res.location().to_owned();
        assert!(
            location.starts_with("/admin/users/")
                && location.ends_with("?notice=notice.user_created"),
            "{location}"
        );
        // Another session of the same manager does not get it.
        let mut other = app.client();
        other.login("civilaffairsadmin_430203", PASSWORD).await;
        let page = other.get(&location).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.select("#temp-password").is_empty());
        let page = admin.get(&location).await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(page.select(".alert-success"), ["用户已创建。"]);
        let temp = page.select("#temp-password")[0].clone();
        assert_eq!(temp.len(), 16);
        assert!(!location.contains(&temp));
        // Shown once: a reload shows the account without it.
        let again = admin.get(&location).await;
        assert_eq!(again.status, StatusCode::OK);
        assert!(again.select("#temp-password").is_empty());
        assert!(!again.text.contains(&temp));
        let dup = admin
            .post_form(
                "/admin/users",
                &[
                    ("username", "Zhang.Wei"),
                    ("display_name", "张伟"),
                    ("role", "social_worker"),
                    ("region", "430203001"),
                    ("org", ""),
                ],
            )
            .await;
        assert_eq!(dup.select("#username-error"), ["该用户名已被使用。"]);
        // The new user must change the password at first sign-in.
        let mut zw = app.client();
        assert_eq!(
            zw.login("zhang.wei", &temp).await.status,
            StatusCode::SEE_OTHER
        );
        assert_eq!(zw.get("/").await.location(), "/account/password");
        // The creation is audited without the password.
        let mut auditor = app.login_as(Role::Auditor, "430203").await;
        let log = auditor
            .get("/api/v1/audit?entity=user&action=create")
            .await
            .json();
        let entry = log["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| {
                e["changes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|c| c["after"] == "zhang.wei")
            })
            .expect("audited");
        assert!(!entry.to_string().contains(&temp));
        // The log page names changed fields by their form labels, not their codes.
        let page = auditor.get("/audit?entity=user&action=create").await;
        let changes = page.select("#audit tbody td:nth-child(8)").join(" ");
        assert!(changes.contains("用户名: ∅ → zhang.wei"), "{changes}");
        assert!(!changes.contains("username:"), "{changes}");
    }
);

app_test!(an_empty_new_user_form_names_every_missing_field, |app| {
    let mut admin = app.login_as(Role::CivilAffairsAdmin, "430203").await;
    let res = admin
        .post_form(
            "/admin/users",
            &[
                ("username", ""),
                ("display_name", " "),
                ("role", ""),
                ("region", ""),
                ("org", ""),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["username", "display_name", "role", "region"] {
        assert_eq!(
            res.select(&format!("#{field}-error")),
            ["必填项未填写。"],
            "{field}"
        );
    }
    assert!(!res.text.contains("未知角色"));
    // Problems of different fields come together: format, role, and a region outside the scope.
    let res = admin
        .post_form(
            "/admin/users",
            &[
                ("username", "a b"),
                ("display_name", "张伟"),
                ("role", ""),
                ("region", "430204001"),
                ("org", ""),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        res.select("#username-error"),
        ["用户名须为 3–32 位字母、数字、点、下划线或连字符。"]
    );
    assert_eq!(res.select("#role-error"), ["必填项未填写。"]);
    assert_eq!(
        res.select("#region-error"),
        ["数据范围超出了您自己的管理范围。"]
    );
    assert!(res.select("#display_name-error").is_empty());
});

app_test!(a_reset_password_is_shown_once_after_a_redirect, |app| {
    let id = app
        .user("to_reset", Role::SocialWorker, "430203001", false)
        .await;
    let mut admin = app.login_as(Role::CivilAffairsAdmin, "430203").await;
    let page = format!("/admin/users/{id}");
    let res = admin
        .post_form(&format!("/admin/users/{id}/reset-password"), &[])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(
        res.location(),
        format!("{page}?notice=notice.password_reset")
    );
    // Not fetched within ten minutes: gone.
    app.advance_minutes(11);
    let late = admin.get(res.location()).await;
    assert_eq!(late.status, StatusCode::OK);
    assert!(late.select("#temp-password").is_empty());
    let res = admin
        .post_form(&format!("/admin/users/{id}/reset-password"), &[])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let shown = admin.get(res.location()).await;
    assert_eq!(shown.select(".alert-success"), ["密码已重置。"]);
    let temp = shown.select("#temp-password")[0].clone();
    assert_eq!(temp.len(), 16);
    assert!(admin.get(&page).await.select("#temp-password").is_empty());
    let mut user = app.client();
    assert_eq!(
        user.login("to_reset", &temp).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(user.get("/").await.location(), "/account/password");
});

app_test!(the_region_filter_has_a_visible_label, |app| {
    let mut admin = app.login_as(Role::CivilAffairsAdmin, "430203").await;
    let list = admin.get("/admin/users").await;
    assert_eq!(list.select("label[for=region-search]"), ["数据范围"]);
});

app_test!(disabling_ends_sessions_and_blocks_sign_in, |app| {
    let id = app
        .user("to_disable", Role::SocialWorker, "430203001", false)
        .await;
    let mut victim = app.client();
    victim.login("to_disable", PASSWORD).await;
    assert_eq!(victim.get("/").await.status, StatusCode::OK);
    let mut admin = app.login_as(Role::CivilAffairsAdmin, "430203").await;
    let res = admin
        .post_form(&format!("/admin/users/{id}/disable"), &[])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert!(victim.get("/").await.location().starts_with("/login"));
    let res = app.client().login("to_disable", PASSWORD).await;
    assert_eq!(res.select("#login-error"), ["该账号已停用，请联系管理员。"]);
});

app_test!(exports_are_excel_files_and_audited, |app| {
    let mut admin = app.login_as(Role::CivilAffairsAdmin, "430203").await;
    let res = admin.get("/admin/users/export.xlsx").await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.bytes.starts_with(b"PK"), "an xlsx is a zip");
    assert!(
        res.headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains("filename*=UTF-8''")
    );
    let mut auditor = app.login_as(Role::Auditor, "430203").await;
    let res = auditor.get("/audit/export.xlsx").await;
    assert!(res.bytes.starts_with(b"PK"));
    // The log as it stood when the export began (its own entry comes after), newest first:
    // the account export above is in it.
    let sheet = xlsx_text(&res.bytes);
    let log = auditor.get("/api/v1/audit").await.json();
    let before = log["items"][1]["seq"].as_i64().unwrap();
    assert!(
        sheet.contains("\t导出\t用户\t") && sheet.contains(&format!("请求编号\t{before}\t")),
        "{sheet}"
    );
    let log = auditor.get("/api/v1/audit?action=export").await.json();
    assert_eq!(log["total"], 2);
});

app_test!(auditor_verifies_the_chain_and_sees_tampering, |app| {
    let mut auditor = app.login_as(Role::Auditor, "CN").await;
    let res = auditor.get("/audit/verify").await;
    assert_eq!(res.select("#verify-result.alert-success").len(), 1);
    let mut tx = app.state.db.begin().await.unwrap();
    shegong_store::sql::Sql::new("UPDATE audit_log SET action = 'logout' WHERE seq = 1")
        .execute(&mut tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let res = auditor.get("/audit/verify").await;
    assert_eq!(res.select("#verify-result.alert-error").len(), 1);
    assert!(res.text.contains("#1"));
    let mut admin = app.login_as(Role::CivilAffairsAdmin, "CN").await;
    assert_eq!(
        admin.get("/audit/verify").await.status,
        StatusCode::FORBIDDEN,
        "verification is the auditor's"
    );
});

// Issue 18 (walkthrough): the audit log labels casework actions and objects, change values
// (stages, roles) and account ids instead of showing codes; its object filter offers residents,
// cases and service records; every entity and action written is one the filters list.
app_test!(the_audit_log_shows_labels_not_codes, |app| {
    let mut admin = app.login_as(Role::CivilAffairsAdmin, "430202").await;
    let mut worker = app.login_as(Role::SocialWorker, "430202001").await;
    let res = worker
        .post_form(
            "/residents",
            &[
                ("name", "李桂兰"),
                ("birth_date", "1948-03-12"),
                ("region", "430202001"),
                ("legal_basis", "statutory_duty"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let resident = res
        .location()
        .trim_start_matches("/residents/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let res = worker
        .post_form(
            &format!("/residents/{resident}/cases"),
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
    let res = worker
        .post_form(&format!("/cases/{case}/assess"), &fields)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    assert_eq!(
        admin.get("/residents/export.xlsx").await.status,
        StatusCode::OK
    );
    assert_eq!(
        admin.get("/stats/430202/report.xlsx").await.status,
        StatusCode::OK
    );
    let res = admin
        .post_form(
            "/admin/users",
            &[
                ("username", "new_worker"),
                ("display_name", "新社工"),
                ("role", "social_worker"),
                ("region", "430202001"),
                ("org", ""),
            ],
        )
        .await;
    assert!(
        res.status.is_redirection() || res.status.is_success(),
        "{}",
        res.text
    );

    // Everything written is listed (and so labelled in both languages).
    let written: Vec<(String, String)> = {
        let mut c = app.state.db.read().await.unwrap();
        shegong_store::sql::Sql::new("SELECT DISTINCT entity, action FROM audit_log")
            .fetch_all(&mut c)
            .await
            .unwrap()
    };
    for (entity, action) in &written {
        assert!(
            shegong_web::admin::audit::ENTITIES.contains(&entity.as_str()),
            "entity {entity} not listed"
        );
        assert!(
            shegong_web::admin::audit::ACTIONS.contains(&action.as_str()),
            "action {action} not listed"
        );
    }
    let page = admin.get("/audit?per_page=100").await;
    assert_eq!(page.status, StatusCode::OK);
    let code = |s: &String| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c == '_' || c == '.')
    };
    for col in [4, 5] {
        let cells = page.select(&format!("#audit tbody td:nth-child({col})"));
        let cells: Vec<String> = cells
            .iter()
            .map(|c| c.split_whitespace().next().unwrap_or("").to_owned())
            .collect();
        assert!(
            !cells.iter().any(code),
            "raw codes in column {col}: {cells:?}"
        );
    }
    let text = page.select("#audit tbody td:nth-child(8)").join("\n");
    assert!(
        text.contains("开案") || page.text.contains("开案"),
        "{text}"
    );
    for raw in ["assessment →", "→ frontline", "→ social_worker", "→ high"] {
        assert!(!text.contains(raw), "{raw} in {text}");
    }
    let options: Vec<String> = {
        let html = page.html();
        let sel = scraper::Selector::parse("#f-entity option").unwrap();
        html.select(&sel)
            .filter_map(|o| o.value().attr("value").map(str::to_owned))
            .collect()
    };
    for e in ["resident", "case", "service"] {
        assert!(
            options.iter().any(|o| o == e),
            "{e} missing from {options:?}"
        );
    }
});
