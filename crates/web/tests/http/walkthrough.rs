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
