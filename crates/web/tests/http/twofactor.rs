//! Issue 11 item 14: two-factor sign-in (TOTP). These tests run with `Config::default()`, where
//! administrators must have a second factor (the shared `TestApp::new` turns that off).

use super::*;

/// A test on both databases with the default configuration (administrators need a second factor).
macro_rules! tf_test {
    ($name:ident, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let $app = $crate::TestApp::with_config(
                    shegong_store::testing::sqlite().await,
                    Config::default(),
                )
                .await;
                $body
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let $app = $crate::TestApp::with_config(
                    shegong_store::testing::postgres().await,
                    Config::default(),
                )
                .await;
                $body
            }
        }
    };
}

/// The code an authenticator shows now (the app's clock, which tests move).
fn code(app: &TestApp, secret: &str) -> String {
    totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(secret).unwrap())
        .build()
        .unwrap()
        .generate((app.state.now() / 1000) as u64)
        .to_string()
}

fn wrong(code: &str) -> String {
    code.chars()
        .map(|c| char::from(b'0' + (c as u8 - b'0' + 1) % 10))
        .collect()
}

/// Enrol during sign-in (the client was just sent to enrolment): the secret and recovery codes.
async fn enrol(app: &TestApp, c: &mut Client) -> (String, Vec<String>) {
    let (secret, codes, _) = enrol_with_code(app, c).await;
    (secret, codes)
}

/// Also the code that confirmed the enrolment.
async fn enrol_with_code(app: &TestApp, c: &mut Client) -> (String, Vec<String>, String) {
    let page = c.get("/login/twofactor/enrol").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let sel = scraper::Selector::parse("#totp-secret").unwrap();
    let secret = page
        .html()
        .select(&sel)
        .next()
        .and_then(|e| e.value().attr("data-secret").map(str::to_owned))
        .expect("the secret on the page");
    let first = code(app, &secret);
    let res = c
        .post_form("/login/twofactor/enrol", &[("code", &first)])
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let codes = res.select("#recovery-codes code");
    assert_eq!(codes.len(), 10);
    (secret, codes, first)
}

/// A new account of this role, signed in through its (forced) enrolment.
async fn enrolled(app: &TestApp, name: &str, role: Role, region: &str) -> (Client, String, String) {
    let id = app.user(name, role, region, false).await;
    let mut c = app.client();
    let res = c.login(name, PASSWORD).await;
    assert_eq!(res.location(), "/login/twofactor/enrol");
    let (secret, _) = enrol(app, &mut c).await;
    assert_eq!(c.get("/account").await.status, StatusCode::OK);
    (c, secret, id)
}

async fn logout(c: &mut Client) {
    let res = c.post_form("/logout", &[]).await;
    assert_eq!(res.location(), "/login");
}

tf_test!(an_auditor_gives_a_code_after_the_password, |app| {
    let mut c = app.client();
    app.user("tf_auditor", Role::Auditor, "430203", false).await;
    let res = c.login("tf_auditor", PASSWORD).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(res.location(), "/login/twofactor/enrol");
    // The QR code is an image of its own, never cached.
    let qr = c.get("/login/twofactor/qr.svg").await;
    assert_eq!(qr.status, StatusCode::OK);
    assert_eq!(qr.headers[header::CONTENT_TYPE], "image/svg+xml");
    assert_eq!(qr.headers[header::CACHE_CONTROL], "no-store");
    assert!(qr.text.contains("<svg"));
    // A wrong first code names the field and keeps the user on the form.
    let page = c.get("/login/twofactor/enrol").await;
    let secret = page
        .html()
        .select(&scraper::Selector::parse("#totp-secret").unwrap())
        .next()
        .and_then(|e| e.value().attr("data-secret").map(str::to_owned))
        .unwrap();
    let res = c
        .post_form(
            "/login/twofactor/enrol",
            &[("code", &wrong(&code(&app, &secret)))],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.select("#code-error").len(), 1);
    let (secret2, recovery, first) = enrol_with_code(&app, &mut c).await;
    assert_eq!(secret, secret2, "reloading keeps the secret being enrolled");
    logout(&mut c).await;

    // Next sign-in: the password alone gives no session.
    let res = c.login("tf_auditor", PASSWORD).await;
    assert_eq!(res.location(), "/login/twofactor");
    assert!(c.get("/audit").await.location().starts_with("/login"));
    let res = c
        .post_form(
            "/login/twofactor",
            &[("code", &wrong(&code(&app, &secret)))],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert_eq!(res.select("#code-error").len(), 1);
    // The code that confirmed the enrolment is not accepted again (it is still inside the
    // ±1 step window).
    let res = c.post_form("/login/twofactor", &[("code", &first)]).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert!(res.select("#code-error")[0].contains("已经使用过"));
    app.advance_minutes(1);
    let fresh = code(&app, &secret);
    let res = c.post_form("/login/twofactor", &[("code", &fresh)]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    assert_eq!(res.location(), "/");
    assert_eq!(c.get("/audit").await.status, StatusCode::OK);
    logout(&mut c).await;
    // The same code again, on another sign-in: refused.
    c.login("tf_auditor", PASSWORD).await;
    let res = c.post_form("/login/twofactor", &[("code", &fresh)]).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    // A recovery code works, once (typed in upper case without dashes).
    let typed = recovery[3].replace('-', "").to_uppercase();
    let res = c.post_form("/login/twofactor", &[("code", &typed)]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    logout(&mut c).await;
    c.login("tf_auditor", PASSWORD).await;
    let res = c
        .post_form("/login/twofactor", &[("code", &recovery[3])])
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    app.advance_minutes(1);
    let res = c
        .post_form("/login/twofactor", &[("code", &code(&app, &secret))])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let log = c.get("/api/v1/audit?action=twofactor_enrol").await.json();
    assert_eq!(log["total"], 1);
    let log = c
        .get("/api/v1/audit?action=twofactor_recovery_use")
        .await
        .json();
    assert_eq!(log["total"], 1);
    let failures = c
        .get("/api/v1/audit?action=login&outcome=failure")
        .await
        .json();
    assert!(failures["total"].as_i64().unwrap() >= 4, "{failures}");
    // The secret is sealed at rest.
    let mut conn = app.state.db.read().await.unwrap();
    let stored: String =
        shegong_store::sql::Sql::new("SELECT secret_sealed FROM twofactor_secrets")
            .fetch_one::<(String,)>(&mut conn)
            .await
            .unwrap()
            .0;
    assert!(stored.starts_with("v1:") && !stored.contains(&secret));
});

tf_test!(wrong_codes_count_towards_the_lockout, |app| {
    let (mut c, secret, _) = enrolled(&app, "tf_lock", Role::SystemAdmin, "").await;
    logout(&mut c).await;
    c.login("tf_lock", PASSWORD).await;
    for _ in 0..4 {
        let res = c
            .post_form(
                "/login/twofactor",
                &[("code", &wrong(&code(&app, &secret)))],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    }
    let res = c
        .post_form(
            "/login/twofactor",
            &[("code", &wrong(&code(&app, &secret)))],
        )
        .await;
    assert!(
        res.select("#code-error")[0].contains("已锁定"),
        "{}",
        res.text
    );
    // Locked: the password step refuses too, and the waiting sign-in is gone.
    app.advance_minutes(1);
    let res = c
        .post_form("/login/twofactor", &[("code", &code(&app, &secret))])
        .await;
    assert_eq!(res.location(), "/login");
    let res = c.login("tf_lock", PASSWORD).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
});

tf_test!(an_administrator_must_enrol_before_anything_else, |app| {
    app.user("tf_sec", Role::SecurityAdmin, "", false).await;
    let mut c = app.client();
    let res = c.login("tf_sec", PASSWORD).await;
    assert_eq!(res.location(), "/login/twofactor/enrol");
    for path in [
        "/",
        "/admin/users",
        "/account",
        "/account/twofactor",
        "/audit",
    ] {
        let res = c.get(path).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{path}");
        assert!(
            res.location().starts_with("/login"),
            "{path}: {}",
            res.location()
        );
    }
    assert_eq!(c.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        c.get("/login/twofactor").await.location(),
        "/login/twofactor/enrol"
    );
    let page = c.get("/login/twofactor/enrol").await;
    assert_eq!(page.select("#twofactor-required").len(), 1);
    assert!(page.select("aside.sidebar").is_empty());
    // Cancelling drops the waiting sign-in.
    let res = c.post_form("/login/twofactor/cancel", &[]).await;
    assert_eq!(res.location(), "/login");
    assert_eq!(c.get("/login/twofactor/enrol").await.location(), "/login");
    // A social worker (no requirement) signs in with the password alone.
    app.user("tf_plain", Role::SocialWorker, "430203001", false)
        .await;
    let mut w = app.client();
    assert_eq!(w.login("tf_plain", PASSWORD).await.location(), "/");
});

tf_test!(
    a_region_requirement_applies_to_a_social_worker_in_it,
    |app| {
        app.user("tf_sw", Role::SocialWorker, "430203001", false)
            .await;
        app.user("tf_sw_other", Role::SocialWorker, "430204001", false)
            .await;
        let mut w = app.client();
        assert_eq!(w.login("tf_sw", PASSWORD).await.location(), "/");
        assert_eq!(w.get("/").await.status, StatusCode::OK);
        let (mut admin, _, _) = enrolled(&app, "tf_sec2", Role::SecurityAdmin, "").await;
        // Errors name the field.
        let res = admin
            .post_form("/admin/twofactor", &[("region", "99x")])
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(res.select("#region-error").len(), 1);
        let res = admin
            .post_form("/admin/twofactor", &[("region", "430203")])
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        let page = admin.get("/admin/twofactor").await;
        assert!(page.select("#twofactor-regions td")[0].contains("芦淞区"));
        // The worker in the district was signed out and must enrol now; the one next door not.
        assert!(w.get("/").await.location().starts_with("/login"));
        assert_eq!(
            w.login("tf_sw", PASSWORD).await.location(),
            "/login/twofactor/enrol"
        );
        enrol(&app, &mut w).await;
        assert_eq!(w.get("/").await.status, StatusCode::OK);
        let mut other = app.client();
        assert_eq!(other.login("tf_sw_other", PASSWORD).await.location(), "/");
        // Required: the worker cannot turn it off.
        app.advance_minutes(1);
        let page = w.get("/account/twofactor").await;
        assert_eq!(page.select("#twofactor-state").len(), 1);
        assert!(
            page.select("form[action='/account/twofactor/disable']")
                .is_empty()
        );
        // Lifted: the next sign-in of an unenrolled account needs the password only.
        let res = admin
            .post_form("/admin/twofactor/remove", &[("region", "430203")])
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
        app.user("tf_sw3", Role::SocialWorker, "430203001", false)
            .await;
        let mut third = app.client();
        assert_eq!(third.login("tf_sw3", PASSWORD).await.location(), "/");
        let (mut auditor, _, _) = enrolled(&app, "tf_aud2", Role::Auditor, "").await;
        let log = auditor
            .get("/api/v1/audit?action=twofactor_require")
            .await
            .json();
        assert_eq!(log["total"], 1);
        // Only a security administrator sets requirements.
        let mut ca = app.client();
        app.user("tf_ca", Role::CivilAffairsAdmin, "430203", false)
            .await;
        ca.login("tf_ca", PASSWORD).await;
        enrol(&app, &mut ca).await;
        assert_eq!(
            ca.get("/admin/twofactor").await.status,
            StatusCode::FORBIDDEN
        );
    }
);

tf_test!(api_tokens_keep_working, |app| {
    let (mut c, _, id) = enrolled(&app, "tf_tok", Role::Auditor, "").await;
    let res = c
        .post_form("/account/tokens", &[("name", "monitoring")])
        .await;
    let token = res.select("#new-token")[0].clone();
    let mut api = app.client();
    api.headers
        .push(("authorization".into(), format!("Bearer {token}")));
    let me = api.get("/api/v1/me").await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    assert_eq!(me.json()["username"], "tf_tok");
    // Also for an administrator who has not enrolled (the token is the credential).
    let other = app.user("tf_tok2", Role::Auditor, "", false).await;
    let mut tx = app.state.db.begin().await.unwrap();
    let (_, secret) = shegong_store::admin::tokens::create(&mut tx, &other, "ci", app.state.now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut api2 = app.client();
    api2.headers
        .push(("authorization".into(), format!("Bearer {secret}")));
    assert_eq!(api2.get("/api/v1/audit").await.status, StatusCode::OK);
    // Enrolment is a page action: not with a token.
    assert_eq!(
        api2.get("/account/twofactor").await.status,
        StatusCode::FORBIDDEN
    );
    let _ = id;
});

tf_test!(
    a_security_administrators_reset_is_audited_and_forces_reenrolment,
    |app| {
        let (mut aud, _, aud_id) = enrolled(&app, "tf_aud", Role::Auditor, "430203").await;
        let (mut sec, _, _) = enrolled(&app, "tf_sec3", Role::SecurityAdmin, "").await;
        let page = sec.get(&format!("/admin/users/{aud_id}")).await;
        assert_eq!(page.select("#twofactor-status")[0], "双因素登录：已启用");
        let res = sec
            .post_form(&format!("/admin/users/{aud_id}/reset-twofactor"), &[])
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        let page = sec.get(res.location()).await;
        assert_eq!(
            page.select("#twofactor-status")[0],
            "双因素登录：必须启用，尚未设置"
        );
        // Signed out, and enrols again at the next sign-in.
        assert!(aud.get("/audit").await.location().starts_with("/login"));
        assert_eq!(
            aud.login("tf_aud", PASSWORD).await.location(),
            "/login/twofactor/enrol"
        );
        enrol(&app, &mut aud).await;
        let log = aud.get("/api/v1/audit?action=twofactor_reset").await.json();
        assert_eq!(log["total"], 1, "{log}");
        assert_eq!(log["items"][0]["actor"], "tf_sec3");
        // A civil-affairs administrator may manage accounts but not reset a second factor.
        let (mut ca, _, _) = enrolled(&app, "tf_ca2", Role::CivilAffairsAdmin, "430203").await;
        let worker = app
            .user("tf_w", Role::SocialWorker, "430203001", false)
            .await;
        let res = ca
            .post_form(&format!("/admin/users/{worker}/reset-twofactor"), &[])
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
    }
);

tf_test!(
    an_account_may_enrol_and_turn_it_off_when_not_required,
    |app| {
        app.user("tf_vol", Role::SocialWorker, "430203001", false)
            .await;
        let mut c = app.client();
        assert_eq!(c.login("tf_vol", PASSWORD).await.location(), "/");
        let page = c.get("/account/twofactor").await;
        let secret = page
            .html()
            .select(&scraper::Selector::parse("#totp-secret").unwrap())
            .next()
            .and_then(|e| e.value().attr("data-secret").map(str::to_owned))
            .unwrap();
        let qr = c.get("/account/twofactor/qr.svg").await;
        assert_eq!(qr.headers[header::CONTENT_TYPE], "image/svg+xml");
        let res = c
            .post_form("/account/twofactor", &[("code", &code(&app, &secret))])
            .await;
        assert_eq!(res.select("#recovery-codes code").len(), 10);
        logout(&mut c).await;
        assert_eq!(
            c.login("tf_vol", PASSWORD).await.location(),
            "/login/twofactor"
        );
        app.advance_minutes(1);
        let res = c
            .post_form("/login/twofactor", &[("code", &code(&app, &secret))])
            .await;
        assert_eq!(res.location(), "/");
        app.advance_minutes(1);
        let res = c
            .post_form(
                "/account/twofactor/disable",
                &[("code", &code(&app, &secret))],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        logout(&mut c).await;
        assert_eq!(c.login("tf_vol", PASSWORD).await.location(), "/");
    }
);
