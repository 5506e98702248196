//! Statistics over HTTP: the dashboard and its drill-down read the maintained counters and
//! agree with the records; open data as JSON and CSV; the monthly report; the public portal
//! without login, without personal data and with small cells suppressed.

use super::*;

pub async fn resident(c: &mut Client, name: &str, region: &str) -> String {
    let res = c
        .post_form(
            "/residents",
            &[
                ("name", name),
                ("birth_date", "1950-03-03"),
                ("region", region),
                ("risk_tier", "high"),
                ("legal_basis", "statutory_duty"),
                ("phone", "13912345678"),
                ("confirm_duplicates", "1"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    res.location()
        .trim_start_matches("/residents/")
        .split('?')
        .next()
        .unwrap()
        .to_owned()
}

pub async fn visit(c: &mut Client, id: &str, on: &str) {
    let res = c
        .post_form(
            "/services",
            &[
                ("resident", id),
                ("kind", "visit"),
                ("domain", "elderly"),
                ("method", "home"),
                ("served_on", on),
                ("duration_minutes", "60"),
                ("workers", "王芳"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
}

app_test!(dashboards_drill_down_and_agree_with_the_records, |app| {
    let mut admin = app.login_as(Role::CivilAffairsAdmin, "4302").await;
    let today = shegong_web::ui::forms::today(app.state.now());
    let a = resident(&mut admin, "刘桂英", "430202001").await;
    let b = resident(&mut admin, "陈秀兰", "430203001").await;
    for _ in 0..3 {
        visit(&mut admin, &a, &today).await;
    }
    visit(&mut admin, &b, &today).await;

    let page = admin.get("/stats/4302").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert_eq!(page.select("#kpi-records"), vec!["4"]);
    assert_eq!(page.select("#kpi-people"), vec!["2"]);
    // The station network of the city beside the services: no stations here, so no coverage.
    assert_eq!(page.select("#kpi-coverage"), vec!["0.0%"]);
    assert_eq!(page.select("#kpi-rectifications"), vec!["0"]);
    // Sub-regions ranked by records: 荷塘区 (3) above 芦淞区 (1); the link drills down.
    let rows = page.select("#subregions tbody tr td:nth-child(2)");
    assert_eq!(
        &rows[..2],
        &["荷塘区".to_owned(), "芦淞区".to_owned()],
        "{rows:?}"
    );
    let county = admin.get("/stats/430202").await;
    assert_eq!(county.select("#kpi-records"), vec!["3"]);
    let township = admin.get("/stats/430202001").await;
    assert_eq!(township.select("#kpi-records"), vec!["3"]);
    assert!(
        township.text.contains("echarts"),
        "the charts are drawn with the vendored ECharts"
    );
    // Out of scope: 404.
    assert_eq!(admin.get("/stats/4301").await.status, StatusCode::NOT_FOUND);
    assert_eq!(admin.get("/stats/CN").await.status, StatusCode::NOT_FOUND);

    // Open data from the same counters.
    let json = admin
        .get("/api/v1/stats/services?region=4302&level=children")
        .await
        .json();
    let hetang: i64 = json
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["region_code"] == "430202")
        .map(|r| r["count"].as_i64().unwrap())
        .sum();
    assert_eq!(hetang, 3, "{json}");
    let csv = admin
        .get("/api/v1/stats/people.csv?region=4302&by=tier")
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(
        csv.text.starts_with("region_code,month,key,count") && csv.text.contains("4302,,high,2,"),
        "{}",
        csv.text
    );
    assert_eq!(
        admin.get("/api/v1/stats/services?by=nonsense").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // Deleting a record and correcting another change the figures at once.
    let list = admin
        .get(&format!("/api/v1/services?resident={a}"))
        .await
        .json();
    let first = list["items"][0]["id"].as_str().unwrap().to_owned();
    let second = list["items"][1]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        admin
            .post_form(&format!("/services/{first}/delete"), &[])
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let res = admin
        .post_form(
            &format!("/services/{second}"),
            &[
                ("served_on", &today),
                ("duration_minutes", "90"),
                ("person_times", "4"),
                ("value", ""),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let page = admin.get("/stats/430202001").await;
    assert_eq!(page.select("#kpi-records"), vec!["2"]);
    assert_eq!(page.select("#kpi-person-times"), vec!["5"]);

    // The monthly report: a workbook with the sub-regions as rows.
    let report = admin
        .get(&format!("/stats/4302/report.xlsx?month={}", &today[..7]))
        .await;
    assert_eq!(report.status, StatusCode::OK);
    assert!(report.bytes.starts_with(b"PK"));
    let mut sw = app.login_as(Role::SocialWorker, "430202001").await;
    assert_eq!(
        sw.get("/stats/4302/report.xlsx").await.status,
        StatusCode::FORBIDDEN
    );
});

app_test!(
    dashboards_show_staff_funding_visits_due_and_export_every_table,
    |app| {
        let mut admin = app.login_as(Role::CivilAffairsAdmin, "4302").await;
        let today = shegong_web::ui::forms::today(app.state.now());
        let year = &today[..4];
        let res = admin
            .post_form(
                "/stations",
                &[
                    ("tier", "township_station"),
                    ("region", "430202001"),
                    ("name", "月塘街道社工站"),
                    ("status", "operating"),
                    ("status_since", "2024-01-01"),
                    ("mode", "direct"),
                    ("staff_count", "0"),
                    ("certified_count", "0"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        let station = res.location()["/stations/".len()..]
            .split('?')
            .next()
            .unwrap()
            .to_owned();
        let res = admin
            .post_form(
                &format!("/stations/{station}/funding"),
                &[("year", year), ("source", "purchase"), ("amount", "300000")],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        let mut staff = Vec::new();
        for (name, id, station, region, role) in [
            (
                "周敏",
                "430202198001010017",
                station.as_str(),
                "",
                "frontline",
            ),
            ("吴刚", "430202198505050020", "", "430203001", "supervisor"),
        ] {
            let res = admin
                .post_form(
                    "/staff",
                    &[
                        ("name", name),
                        ("id_type", "resident_id"),
                        ("id_number", id),
                        ("education", "bachelor"),
                        ("role", role),
                        ("employment_mode", "direct"),
                        ("sector", "civil_affairs"),
                        ("station", station),
                        ("region", region),
                        ("joined_on", "2024-03-01"),
                    ],
                )
                .await;
            assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
            staff.push(
                res.location()["/staff/".len()..]
                    .split('?')
                    .next()
                    .unwrap()
                    .to_owned(),
            );
        }
        let res = admin
            .post_form(
                &format!("/staff/{}/certificates", staff[0]),
                &[
                    ("level", "intermediate"),
                    ("number", "Z2024001"),
                    ("obtained_on", "2024-06-01"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        let a = resident(&mut admin, "刘桂英", "430202001").await;
        visit(&mut admin, &a, &today).await;
        resident(&mut admin, "陈秀兰", "430203001").await;

        let page = admin.get("/stats/4302").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        assert_eq!(page.select("#kpi-staff"), ["2"]);
        // The share is the figure, its parts go in the label ("50.0%（1/2）" overflowed a card).
        assert_eq!(page.select("#kpi-certified"), ["50.0%"]);
        assert!(
            page.select(".stat")
                .iter()
                .any(|s| s.starts_with("50.0%") && s.contains("持证率（1/2）")),
            "{:?}",
            page.select(".stat")
        );
        assert_eq!(page.select("#kpi-funding"), ["300,000.00"]);
        assert_eq!(page.select("#kpi-overdue"), ["0"]);
        assert_eq!(
            page.select("#table-staff tbody td"),
            ["一线社工", "1", "督导", "1"]
        );
        assert_eq!(
            page.select("#table-funding tbody td"),
            ["购买服务资金", "1", "300,000.00"]
        );
        // The same counters as open data.
        let roles = admin
            .get("/api/v1/stats/workforce?region=4302&level=children")
            .await
            .json();
        let keys: Vec<(&str, &str, i64)> = roles
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["region_code"].as_str().unwrap(),
                    r["key"].as_str().unwrap(),
                    r["count"].as_i64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            keys,
            [("430202", "frontline", 1), ("430203", "supervisor", 1)]
        );
        let money = admin
            .get("/api/v1/stats/workforce.csv?region=4302&by=funding")
            .await;
        assert!(
            money
                .text
                .contains(&format!("4302,{year},purchase,1,0,0,30000000")),
            "{}",
            money.text
        );
        // Ranked by funding: 荷塘区 has the station and its money.
        let by_funding = admin.get("/stats/4302?sort=funding").await;
        assert_eq!(
            by_funding.select("#subregions tbody tr:first-child td:nth-child(2)"),
            ["荷塘区"]
        );

        // Nine days on, both high-risk people are overdue (due seven days after the visit or the
        // registration), read from the counters of due dates.
        app.advance_minutes(9 * 24 * 60);
        admin.login("civilaffairsadmin_4302", PASSWORD).await;
        let page = admin.get("/stats/4302").await;
        assert_eq!(page.select("#kpi-overdue"), ["2"]);
        let county = admin.get("/stats/430203").await;
        assert_eq!(county.select("#kpi-overdue"), ["1"]);

        // Every table of the dashboard downloads as a workbook with the figures shown.
        let year_q = format!("?year={year}");
        let sub = admin
            .get(&format!("/stats/4302/table/subregions.xlsx{year_q}"))
            .await;
        assert_eq!(sub.status, StatusCode::OK);
        let text = xlsx_text(&sub.bytes);
        assert!(
            text.contains("荷塘区") && text.contains("300,000.00"),
            "{text}"
        );
        let roles = xlsx_text(
            &admin
                .get(&format!("/stats/4302/table/staff.xlsx{year_q}"))
                .await
                .bytes,
        );
        assert!(roles.contains("一线社工\t1"), "{roles}");
        for table in [
            "months",
            "domains",
            "categories",
            "tiers",
            "certificates",
            "funding",
        ] {
            let res = admin
                .get(&format!("/stats/4302/table/{table}.xlsx{year_q}"))
                .await;
            assert_eq!(res.status, StatusCode::OK, "{table}");
            assert!(res.bytes.starts_with(b"PK"), "{table}");
        }
        assert_eq!(
            admin.get("/stats/4302/table/residents.xlsx").await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            admin.get("/stats/4301/table/staff.xlsx").await.status,
            StatusCode::NOT_FOUND
        );
        let mut sw = app.login_as(Role::SocialWorker, "430202001").await;
        assert_eq!(
            sw.get("/stats/4302/table/staff.xlsx").await.status,
            StatusCode::FORBIDDEN
        );
    }
);

app_test!(
    the_public_portal_shows_no_personal_data_and_suppresses_small_cells,
    |app| {
        let mut admin = app.login_as(Role::CivilAffairsAdmin, "4302").await;
        let today = shegong_web::ui::forms::today(app.state.now());
        let a = resident(&mut admin, "周秀英", "430202001").await;
        for _ in 0..12 {
            visit(&mut admin, &a, &today).await;
        }
        let b = resident(&mut admin, "吴德明", "430203001").await;
        visit(&mut admin, &b, &today).await;

        let mut public = app.client();
        let page = public.get("/public?region=4302").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        for secret in ["周秀英", "吴德明", "13912345678", "王芳"] {
            assert!(
                !page.text.contains(secret),
                "{secret} must not be published"
            );
        }
        // The single visit in 芦淞区 is below the threshold (10); 荷塘区's 12 are hidden with it, or
        // the city total would give the single one away.
        let regions = page.select("#public-regions tbody tr");
        assert!(
            regions
                .iter()
                .any(|r| r.contains("荷塘区") && r.contains('*') && !r.contains("12")),
            "{regions:?}"
        );
        assert!(
            regions
                .iter()
                .any(|r| r.contains("芦淞区") && r.contains("<10")),
            "{regions:?}"
        );
        // Two people of category 特困 in the city: below the threshold too.
        for id in [&a, &b] {
            let res = admin
                .post_form(
                    &format!("/residents/{id}/memberships"),
                    &[("category", "tekun"), ("valid_from", today.as_str())],
                )
                .await;
            assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        }
        let page = public.get("/public?region=4302").await;
        assert_eq!(
            page.select("#public-people tbody tr"),
            vec!["特困<10".to_owned()]
        );
        let csv = public.get("/public/services.csv?region=4302").await;
        assert_eq!(csv.status, StatusCode::OK);
        assert!(
            csv.text.contains("430202,") && csv.text.contains(",<10,"),
            "{}",
            csv.text
        );
        assert!(!csv.text.contains("周秀英"));
        // The dashboards themselves need an account.
        assert_ne!(public.get("/stats/4302").await.status, StatusCode::OK);
        assert_eq!(
            public
                .get("/api/v1/stats/services?region=4302")
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
    }
);

app_test!(
    the_five_partners_table_counts_services_at_agency_run_stations,
    |app| {
        let mut admin = app.login_as(Role::CivilAffairsAdmin, "430202").await;
        let today = shegong_web::ui::forms::today(app.state.now());
        let org = super::fixtures::agency(&app, "月塘社工服务中心", "430202").await;
        let run = super::fixtures::station(&app, "430202001", "月塘街道社工站", &org).await;
        let r = resident(&mut admin, "张大爷", "430202001").await;
        // One visit at the agency-run station, one with no station: social workers did both, the
        // social organisation one.
        for station in [run.as_str(), ""] {
            let res = admin
                .post_form(
                    "/services",
                    &[
                        ("resident", r.as_str()),
                        ("station", station),
                        ("kind", "visit"),
                        ("domain", "elderly"),
                        ("method", "home"),
                        ("served_on", today.as_str()),
                        ("duration_minutes", "90"),
                        ("value", "50"),
                        ("workers", "王芳"),
                    ],
                )
                .await;
            assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        }
        let page = admin.get("/stats/430202").await;
        let rows = page.select("#table-wushe tbody tr");
        assert_eq!(rows.len(), 5, "{rows:?}");
        let cells = |n: usize| page.select(&format!("#table-wushe tbody tr:nth-child({n}) td"));
        assert_eq!(cells(2)[2..], ["1", "1", "50.00"], "{:?}", cells(2));
        assert_eq!(cells(3)[2..4], ["2", "3"], "{:?}", cells(3));
        let xlsx = admin.get("/stats/430202/table/wushe.xlsx").await;
        assert_eq!(xlsx.status, StatusCode::OK);
    }
);

// Issue 18 (walkthrough): the dashboard offers the monthly report for a chosen month (the
// handler's `?month=`), to those who may export; the chosen month is the report's.
app_test!(
    the_dashboard_offers_the_monthly_report_for_a_chosen_month,
    |app| {
        let mut admin = app.login_as(Role::CivilAffairsAdmin, "4302").await;
        let today = shegong_web::ui::forms::today(app.state.now());
        let page = admin.get("/stats/4302").await;
        assert_eq!(page.status, StatusCode::OK);
        let html = page.html();
        let form = scraper::Selector::parse("form#report-form").unwrap();
        let form = html
            .select(&form)
            .next()
            .unwrap_or_else(|| panic!("no report form: {}", page.text));
        assert_eq!(form.value().attr("action"), Some("/stats/4302/report.xlsx"));
        assert_eq!(form.value().attr("method"), Some("get"));
        let month = scraper::Selector::parse("input[name=month]").unwrap();
        let input = form.select(&month).next().expect("a month input");
        assert_eq!(input.value().attr("type"), Some("month"));
        assert_eq!(input.value().attr("value"), Some(&today[..7]));
        assert_eq!(input.value().attr("max"), Some(&today[..7]));
        // A past year offers its December.
        let year: i32 = today[..4].parse().unwrap();
        let past = admin.get(&format!("/stats/4302?year={}", year - 1)).await;
        let html = past.html();
        let input = scraper::Selector::parse("#report-form input[name=month]").unwrap();
        assert_eq!(
            html.select(&input)
                .next()
                .and_then(|i| i.value().attr("value")),
            Some(format!("{}-12", year - 1).as_str())
        );
        // Submitting the picker asks for that month's report.
        let res = admin.get("/stats/4302/report.xlsx?month=2025-01").await;
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(
        super::fixtures::count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE entity = 'monthly_report' AND action = 'export' AND changes LIKE '%2025-01%'"
        )
        .await,
        1
    );
        // A social worker cannot export: no picker.
        let mut sw = app.login_as(Role::SocialWorker, "430202001").await;
        let page = sw.get("/stats/430202001").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.select("#report-form").is_empty());
    }
);
