//! CSRF, security headers, scope answers 404, denials are audited.

use super::*;

app_test!(state_changing_requests_without_csrf_are_refused, |app| {
    let mut c = app.login_as(Role::CivilAffairsAdmin, "430203").await;
    let form = (
        "application/x-www-form-urlencoded",
        "name=x&username=y".to_owned(),
    );
    for path in [
        "/logout",
        "/login",
        "/account/tokens",
        "/account/password",
        "/admin/users",
        "/admin/users/x/disable",
        "/no/such/route",
    ] {
        let res = c.send(Method::POST, path, Some(form.clone()), &[]).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{path} without a token");
        let res = c
            .send(
                Method::POST,
                path,
                Some(("application/x-www-form-urlencoded", "_csrf=forged".into())),
                &[],
            )
            .await;
        assert_eq!(
            res.status,
            StatusCode::FORBIDDEN,
            "{path} with a wrong token"
        );
    }
    for method in [Method::PUT, Method::DELETE, Method::PATCH] {
        let res = c.send(method.clone(), "/admin/users", None, &[]).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{method}");
    }
    // The right token in a header passes the check, but not from another origin.
    let token = c.csrf().await;
    let res = c
        .send(
            Method::POST,
            "/account/tokens",
            Some(("application/x-www-form-urlencoded", "name=ok".into())),
            &[("x-csrf-token", &token)],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK);
    let res = c
        .send(
            Method::POST,
            "/account/tokens",
            Some(("application/x-www-form-urlencoded", "name=ok".into())),
            &[("x-csrf-token", &token), ("origin", "https://evil.example")],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    // The refusal page says why.
    let res = c.send(Method::POST, "/logout", None, &[]).await;
    assert!(res.text.contains("页面已过期或请求来源不明"));
});

app_test!(pages_carry_security_headers, |app| {
    let res = app.client().get("/login").await;
    let h = &res.headers;
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'self'")
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "same-origin");
    assert!(h.contains_key("x-request-id"));
    let cookie = h
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
});

app_test!(regions_outside_the_scope_are_not_found, |app| {
    let mut c = app.login_as(Role::CivilAffairsAdmin, "430203").await;
    let own = c.get("/regions/430203001").await;
    assert_eq!(own.status, StatusCode::OK);
    assert_eq!(own.select("h1.page-title"), ["贺家土街道"]);
    let other = c.get("/regions/430204").await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    assert_eq!(other.select(".error-code"), ["404"]);
    // A short heading, the explanation once, below it.
    assert_eq!(other.select("h1.page-title"), ["页面未找到"]);
    assert_eq!(
        other.select(".error-message"),
        ["页面不存在，或不在您的数据范围内。"]
    );
    assert_eq!(other.text.matches("不在您的数据范围内").count(), 1);
    assert_eq!(other.select("title"), ["页面未找到 · 社工站信息平台"]);
    assert_eq!(
        c.get("/regions/43").await.status,
        StatusCode::NOT_FOUND,
        "ancestors are outside too"
    );
    assert_eq!(
        c.get("/api/v1/regions/430204001").await.status,
        StatusCode::NOT_FOUND
    );
});

app_test!(permission_denials_are_forbidden_and_audited, |app| {
    let mut worker = app.login_as(Role::SocialWorker, "430203001").await;
    let res = worker.get("/admin/users").await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(res.select("h1.page-title"), ["无权访问"]);
    assert_eq!(res.select(".error-message"), ["您没有执行此操作的权限。"]);
    let res = worker.get("/api/v1/audit").await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(res.json()["code"], "forbidden");
    let mut auditor = app.login_as(Role::Auditor, "430203").await;
    let denials = auditor
        .get("/api/v1/audit?action=permission_denied")
        .await
        .json();
    assert_eq!(denials["total"], 2);
    assert_eq!(denials["items"][1]["entity_id"], "GET /admin/users");
    assert_eq!(denials["items"][0]["outcome"], "denied");
});

app_test!(system_officers_do_not_read_business_data, |app| {
    let mut sys = app.login_as(Role::SystemAdmin, "CN").await;
    assert_eq!(sys.get("/admin/system").await.status, StatusCode::OK);
    assert_eq!(sys.get("/admin/users").await.status, StatusCode::FORBIDDEN);
    assert_eq!(sys.get("/audit").await.status, StatusCode::FORBIDDEN);
    let mut sec = app.login_as(Role::SecurityAdmin, "CN").await;
    assert_eq!(sec.get("/admin/users").await.status, StatusCode::OK);
    assert_eq!(sec.get("/audit").await.status, StatusCode::FORBIDDEN);
    assert_eq!(sec.get("/regions").await.status, StatusCode::FORBIDDEN);
    let mut aud = app.login_as(Role::Auditor, "CN").await;
    assert_eq!(aud.get("/audit").await.status, StatusCode::OK);
    assert_eq!(aud.get("/admin/users").await.status, StatusCode::FORBIDDEN);
});

app_test!(
    malformed_requests_get_a_proper_error_page_or_problem,
    |app| {
        let mut c = app.login_as(Role::CivilAffairsAdmin, "4302").await;
        let page = c.get("/stations?created=abc").await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST);
        assert!(page.text.contains("请求的格式不正确"), "{}", page.text);
        assert!(
            page.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        let token = c.csrf().await;
        let api = c
            .send(
                Method::POST,
                "/api/v1/stations",
                Some(("application/json", "{not json".into())),
                &[("x-csrf-token", &token)],
            )
            .await;
        assert_eq!(api.status, StatusCode::BAD_REQUEST);
        assert_eq!(api.json()["code"], "bad_request");
    }
);

// Issue 18 (walkthrough): the browser's own request for /favicon.ico finds the icon (no 404 on
// first load), signed in or not, and pages link it.
app_test!(the_favicon_is_served, |app| {
    let mut anon = app.client();
    let res = anon.get("/favicon.ico").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(
        res.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("image/svg+xml")
    );
    assert!(res.text.starts_with("<svg"), "{}", res.text);
    let page = anon.get("/login").await;
    assert!(
        page.text.contains("rel=\"icon\" href=\"/favicon.ico\""),
        "{}",
        page.text
    );
});
