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
    shegong_store::sql::Sql::new("UPDATE users SET sees_protected = 1 WHERE username = ")
        .bind(username.to_owned())
        .execute(&mut tx)
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
