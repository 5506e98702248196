//! Signing in: language, lockout, temporary passwords, idle sessions (demo accounts: the app
//! crate's `tests/demo.rs`).

use super::*;

app_test!(login_page_is_chinese_first_and_switches_to_english, |app| {
    let mut c = app.client();
    let res = c.get("/login").await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.select("h1.login-title"), ["社工站信息平台"]);
    assert!(res.text.contains("lang=\"zh-CN\""));
    let res = c.get("/lang/en?next=/login").await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let res = c.get("/login").await;
    assert_eq!(res.select("h1.login-title"), ["Shegong"]);
    assert_eq!(res.select("button[type=submit]"), ["Sign in"]);
});

app_test!(sign_in_shows_home_with_scope_and_audits_it, |app| {
    app.user("ls_admin", Role::CivilAffairsAdmin, "430203", false)
        .await;
    let mut c = app.client();
    let res = c.login("ls_admin", PASSWORD).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(res.location(), "/");
    let home = c.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert_eq!(home.select("#home-scope"), ["湖南省 / 株洲市 / 芦淞区"]);
    assert!(home.select("nav a").iter().any(|a| a == "用户管理"));
    // The auditor of the district sees the sign-in.
    let mut auditor = app.login_as(Role::Auditor, "430203").await;
    let log = auditor
        .get("/api/v1/audit?action=login&actor=ls_admin")
        .await
        .json();
    assert_eq!(log["total"], 1);
    assert_eq!(log["items"][0]["outcome"], "success");
});

app_test!(five_failures_lock_the_account_for_fifteen_minutes, |app| {
    app.user("hjt_worker", Role::SocialWorker, "430203001", false)
        .await;
    let mut c = app.client();
    for _ in 0..4 {
        let res = c.login("hjt_worker", "wrong-password").await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
        assert_eq!(res.select("#login-error"), ["用户名或密码错误。"]);
    }
    let res = c.login("hjt_worker", "wrong-password").await;
    assert_eq!(
        res.select("#login-error"),
        ["登录失败次数过多，账号已锁定，请 15 分钟后再试。"]
    );
    // Locked: even the right password is refused.
    let res = c.login("hjt_worker", PASSWORD).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert!(res.select("#login-error")[0].contains("已锁定"));
    app.advance_minutes(16);
    let res = c.login("hjt_worker", PASSWORD).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let mut auditor = app.login_as(Role::Auditor, "430203").await;
    let lockouts = auditor.get("/api/v1/audit?action=lockout").await.json();
    assert_eq!(lockouts["total"], 1);
});

app_test!(unknown_users_get_the_same_messages, |app| {
    let mut c = app.client();
    let res = c.login("nobody", "whatever-1A").await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert_eq!(res.select("#login-error"), ["用户名或密码错误。"]);
    // A name that does not exist "locks" after the same number of failures, for the same time,
    // so the lockout message does not tell which usernames exist.
    for _ in 0..3 {
        let res = c.login("nobody", "whatever-1A").await;
        assert_eq!(res.select("#login-error"), ["用户名或密码错误。"]);
    }
    let res = c.login("nobody", "whatever-1A").await;
    assert_eq!(
        res.select("#login-error"),
        ["登录失败次数过多，账号已锁定，请 15 分钟后再试。"]
    );
    app.advance_minutes(5);
    let res = c.login("nobody", "whatever-1A").await;
    assert_eq!(
        res.select("#login-error"),
        ["登录失败次数过多，账号已锁定，请 10 分钟后再试。"]
    );
    app.advance_minutes(11);
    let res = c.login("nobody", "whatever-1A").await;
    assert_eq!(res.select("#login-error"), ["用户名或密码错误。"]);
});

app_test!(temporary_passwords_must_be_changed_first, |app| {
    app.user("newbie", Role::SocialWorker, "430203001", true)
        .await;
    let mut c = app.client();
    assert_eq!(
        c.login("newbie", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    let res = c.get("/").await;
    assert_eq!(res.location(), "/account/password");
    let res = c.get("/regions").await;
    assert_eq!(res.location(), "/account/password");
    let api = c.get("/api/v1/regions").await;
    assert_eq!(api.status, StatusCode::FORBIDDEN);
    assert_eq!(api.json()["code"], "password_change_required");
    let page = c.get("/account/password").await;
    assert_eq!(page.select("#forced-change").len(), 1);
    // Nothing else is reachable yet: no menu column, no breadcrumbs.
    assert_eq!(page.select("body.app.no-menu").len(), 1);
    assert!(page.select("aside.sidebar").is_empty());
    assert!(page.select(".breadcrumbs").is_empty());
    // Errors name the field and keep the user on the form.
    let res = c
        .post_form(
            "/account/password",
            &[
                ("current", PASSWORD),
                ("new", "short"),
                ("confirm", "short"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.select("#new-error"), ["密码太短。"]);
    let res = c
        .post_form(
            "/account/password",
            &[
                ("current", "wrong"),
                ("new", "Brand-New-2026"),
                ("confirm", "Brand-New-2027"),
            ],
        )
        .await;
    assert_eq!(res.select("#current-error"), ["当前密码不正确。"]);
    assert_eq!(res.select("#confirm-error"), ["两次输入的新密码不一致。"]);
    let res = c
        .post_form(
            "/account/password",
            &[
                ("current", PASSWORD),
                ("new", "Brand-New-2026"),
                ("confirm", "Brand-New-2026"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let home = c.get(res.location()).await;
    assert_eq!(home.status, StatusCode::OK);
    assert_eq!(home.select(".alert-success"), ["密码已修改。"]);
    // The new password works, the old one does not.
    let mut again = app.client();
    assert_eq!(
        again.login("newbie", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        again.login("newbie", "Brand-New-2026").await.status,
        StatusCode::SEE_OTHER
    );
});

app_test!(idle_sessions_expire, |app| {
    let mut c = app.login_as(Role::CivilAffairsAdmin, "4302").await;
    assert_eq!(c.get("/").await.status, StatusCode::OK);
    app.advance_minutes(20);
    assert_eq!(
        c.get("/").await.status,
        StatusCode::OK,
        "activity keeps the session"
    );
    app.advance_minutes(31);
    let res = c.get("/").await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert!(res.location().starts_with("/login"));
});

app_test!(logout_ends_the_session, |app| {
    let mut c = app.login_as(Role::Supervisor, "430203").await;
    let res = c.post_form("/logout", &[]).await;
    assert_eq!(res.location(), "/login");
    assert!(c.get("/").await.location().starts_with("/login"));
});

/// The `href` of the first element matching `css`.
fn href(res: &Res, css: &str) -> String {
    let sel = scraper::Selector::parse(css).unwrap();
    res.html()
        .select(&sel)
        .next()
        .and_then(|e| e.value().attr("href"))
        .unwrap_or_else(|| panic!("no {css}"))
        .to_owned()
}

app_test!(the_language_switch_keeps_path_and_query, |app| {
    app.user("ls_admin", Role::CivilAffairsAdmin, "430203", false)
        .await;
    let mut c = app.client();
    // Signed out: the sign-in page keeps where it leads to.
    let res = c.get("/regions/430203").await;
    assert_eq!(res.location(), "/login?next=%2Fregions%2F430203");
    let login = c.get(res.location()).await;
    let switch = href(&login, ".lang-switch a[lang=en]");
    assert_eq!(
        switch,
        "/lang/en?next=%2Flogin%3Fnext%3D%252Fregions%252F430203"
    );
    let res = c.get(&switch).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(res.location(), "/login?next=%2Fregions%2F430203");
    let login = c.get(res.location()).await;
    assert_eq!(login.select("h1.login-title"), ["Shegong"]);
    assert_eq!(
        href(&login, ".lang-switch a[lang=zh-CN]"),
        "/lang/zh?next=%2Flogin%3Fnext%3D%252Fregions%252F430203"
    );
    // A failed attempt keeps it too.
    let res = c
        .post_form(
            "/login",
            &[
                ("username", "ls_admin"),
                ("password", "wrong"),
                ("next", "/regions/430203"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        href(&res, ".lang-switch a[lang=zh-CN]"),
        "/lang/zh?next=%2Flogin%3Fnext%3D%252Fregions%252F430203"
    );
    let res = c
        .post_form(
            "/login",
            &[
                ("username", "ls_admin"),
                ("password", PASSWORD),
                ("next", "/regions/430203"),
            ],
        )
        .await;
    assert_eq!(res.location(), "/regions/430203");
    // Signed in: the layout's switch keeps the filters of a list.
    let list = c.get("/admin/users?q=zhang&role=social_worker").await;
    let switch = href(&list, ".lang-switch a[lang=zh-CN]");
    assert_eq!(
        switch,
        "/lang/zh?next=%2Fadmin%2Fusers%3Fq%3Dzhang%26role%3Dsocial_worker"
    );
    let res = c.get(&switch).await;
    assert_eq!(res.location(), "/admin/users?q=zhang&role=social_worker");
});

app_test!(home_shows_the_previous_sign_in_not_the_current_one, |app| {
    app.user("twice", Role::SocialWorker, "430203001", false)
        .await;
    let mut first = app.client();
    first.login("twice", PASSWORD).await;
    let home = first.get("/").await;
    // Heading, tab title and menu agree.
    assert_eq!(home.select("#home-title"), ["首页"]);
    assert_eq!(home.select("title"), ["首页 · 社工站信息平台"]);
    assert_eq!(home.select("nav a[aria-current=page]"), ["首页"]);
    // The first sign-in has none before it; Chinese punctuation in Chinese.
    assert_eq!(home.select("#previous-login"), ["—"]);
    assert!(home.text.contains("上次登录："));
    assert!(home.text.contains("您的数据范围："));
    app.advance_minutes(90);
    let mut second = app.client();
    second.login("twice", PASSWORD).await;
    let ats: Vec<(i64,)> = {
        let mut c = app.state.db.read().await.unwrap();
        shegong_store::sql::Sql::new(
            "SELECT at FROM audit_log WHERE action = 'login' AND actor_name = 'twice' ORDER BY seq",
        )
        .fetch_all(&mut c)
        .await
        .unwrap()
    };
    assert_eq!(ats.len(), 2);
    let tr = shegong_web::ui::i18n::Tr::new(shegong_web::ui::i18n::Lang::Zh);
    let home = second.get("/").await;
    assert_eq!(home.select("#previous-login"), [tr.datetime(ats[0].0)]);
    assert_ne!(tr.datetime(ats[0].0), tr.datetime(ats[1].0));
    // In English: the English heading and colon.
    second.get("/lang/en?next=/").await;
    let home = second.get("/").await;
    assert_eq!(home.select("#home-title"), ["Home"]);
    assert!(home.text.contains("Previous sign-in: "));
});

app_test!(home_counts_only_levels_below_the_users_own, |app| {
    let labels = |res: &Res| res.select(".stat-label");
    let mut township = app.login_as(Role::SocialWorker, "430203001").await;
    let got = labels(&township.get("/").await);
    assert!(
        !got.iter().any(|l| l == "县级区划" || l == "乡镇（街道）"),
        "{got:?}"
    );
    let mut county = app.login_as(Role::CivilAffairsAdmin, "430203").await;
    let got = labels(&county.get("/").await);
    assert_eq!(
        got.first().map(String::as_str),
        Some("乡镇（街道）"),
        "{got:?}"
    );
    assert!(!got.iter().any(|l| l == "县级区划"), "{got:?}");
    let mut city = app.login_as(Role::CivilAffairsAdmin, "4302").await;
    let got = labels(&city.get("/").await);
    assert_eq!(got.first().map(String::as_str), Some("县级区划"), "{got:?}");
});

app_test!(
    changing_the_password_ends_other_sessions_and_guesses_lock_the_account,
    |app| {
        app.user("two_devices", Role::SocialWorker, "430203001", false)
            .await;
        let mut phone = app.client();
        phone.login("two_devices", PASSWORD).await;
        let mut desk = app.client();
        desk.login("two_devices", PASSWORD).await;
        let res = desk
            .post_form(
                "/account/password",
                &[
                    ("current", PASSWORD),
                    ("new", "Brand-New-2026"),
                    ("confirm", "Brand-New-2026"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
        assert_eq!(
            desk.get("/").await.status,
            StatusCode::OK,
            "the session that changed it stays"
        );
        assert!(
            phone.get("/").await.location().starts_with("/login"),
            "the other session ended"
        );
        // Five wrong current passwords lock the account like failed sign-ins.
        for _ in 0..4 {
            let res = desk
                .post_form(
                    "/account/password",
                    &[
                        ("current", "nope"),
                        ("new", "Another-Pass-2026"),
                        ("confirm", "Another-Pass-2026"),
                    ],
                )
                .await;
            assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        }
        let res = desk
            .post_form(
                "/account/password",
                &[
                    ("current", "nope"),
                    ("new", "Another-Pass-2026"),
                    ("confirm", "Another-Pass-2026"),
                ],
            )
            .await;
        assert_eq!(res.location(), "/login");
        let again = app.client().login("two_devices", "Brand-New-2026").await;
        assert!(again.select("#login-error")[0].contains("已锁定"));
    }
);
