//! The station network over HTTP: scope, validation messages shared by pages and API, the
//! Excel import of a messy real-world sheet, attachments.

use super::*;
use rust_xlsxwriter::{Format, Workbook};
use shegong_domain::network::org::OrgKind;
use shegong_store::network::orgs::{self, NewOrg};

/// Upload a sheet and follow the redirect to its preview (Post/Redirect/Get).
async fn upload_preview(c: &mut Client, name: &str, bytes: &[u8]) -> Res {
    let res = c.upload("/stations/import", &[], "file", name, bytes).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let location = res.location().to_owned();
    c.get(&location).await
}

async fn agency(app: &TestApp, name: &str, region: &str) -> String {
    let mut tx = app.state.db.begin().await.unwrap();
    let (id, _) = orgs::create(
        &mut tx,
        &NewOrg {
            name: name.into(),
            uscc: None,
            kind: OrgKind::Agency,
            region: shegong_domain::RegionCode::parse(region).unwrap(),
        },
        0,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

fn station_form<'a>(region: &'a str, name: &'a str, operator: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("tier", "township_station"),
        ("region", region),
        ("name", name),
        ("status", "operating"),
        ("status_since", "2024-01-01"),
        ("mode", "purchase"),
        ("operator", operator),
        ("staff_count", "3"),
        ("certified_count", "2"),
    ]
}

async fn create(c: &mut Client, region: &str, name: &str, operator: &str) -> String {
    let res = c
        .post_form("/stations", &station_form(region, name, operator))
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    res.location()
        .trim_start_matches("/stations/")
        .split('?')
        .next()
        .unwrap()
        .to_owned()
}

app_test!(a_county_user_reads_and_edits_only_its_own_county, |app| {
    let a = agency(&app, "阳光社工", "430203").await;
    let b = agency(&app, "启航社工", "430202").await;
    let mut city = app.login_as(Role::CivilAffairsAdmin, "4302").await;
    let own = create(&mut city, "430203001", "贺家土街道社工站", &a).await;
    let other = create(&mut city, "430202001", "月塘街道社工站", &b).await;
    let mut county = app.login_as(Role::CivilAffairsAdmin, "430203").await;
    // Pages.
    let list = county.get("/stations").await;
    assert_eq!(
        list.select("#stations tbody td:not(.pick):not(.actions) a"),
        ["贺家土街道社工站"]
    );
    assert_eq!(
        county.get(&format!("/stations/{own}")).await.status,
        StatusCode::OK
    );
    for path in [
        format!("/stations/{other}"),
        format!("/stations/{other}/edit"),
        format!("/orgs/{b}"),
        "/coverage/430202".to_owned(),
    ] {
        let res = county.get(&path).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{path}");
    }
    let res = county
        .post_form(
            &format!("/stations/{other}"),
            &station_form("430202001", "改名", &b),
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = county
        .post_form(
            &format!("/stations/{other}/progress"),
            &[("month", "2024-05"), ("progress_pct", "50")],
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    // Creating in another county is refused with the field named.
    let res = county
        .post_form("/stations", &station_form("430202002", "越界站", &a))
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.select("#region-error"), ["地区不在您的管理范围内。"]);
    // API.
    let api = county.get("/api/v1/stations").await.json();
    assert_eq!(api["total"], 1);
    assert_eq!(
        county
            .get(&format!("/api/v1/stations/{other}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        county
            .get(&format!("/api/v1/stations/{other}/progress"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        county.get("/api/v1/coverage/430202").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        county
            .get(&format!("/api/v1/organizations/{b}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let token = county.csrf().await;
    let body = serde_json::json!({"tier": "township_station", "region_code": "430202001", "name": "x", "mode": "direct", "status": "operating", "status_since": "2024-01-01"}).to_string();
    let res = county
        .send(
            Method::PUT,
            &format!("/api/v1/stations/{other}"),
            Some(("application/json", body)),
            &[("x-csrf-token", &token)],
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    // The county sees coverage of its own townships.
    let cov = county.get("/api/v1/coverage/430203").await.json();
    assert_eq!(cov["region"]["covered"], 1);
    assert!(cov["children"].as_array().unwrap().len() >= 8);
});

app_test!(api_and_form_give_the_same_field_messages, |app| {
    let mut admin = app.login_as(Role::CivilAffairsAdmin, "4302").await;
    let form = admin
        .post_form(
            "/stations",
            &[
                ("tier", "township_station"),
                ("region", "430203"),
                ("status", "operating"),
                ("status_since", "2024-02-30"),
                ("mode", "purchase"),
            ],
        )
        .await;
    assert_eq!(form.status, StatusCode::UNPROCESSABLE_ENTITY);
    let token = admin.csrf().await;
    let body = serde_json::json!({"tier": "township_station", "region_code": "430203", "name": "", "mode": "purchase", "status": "operating", "status_since": "2024-02-30"}).to_string();
    let api = admin
        .send(
            Method::POST,
            "/api/v1/stations",
            Some(("application/json", body)),
            &[("x-csrf-token", &token)],
        )
        .await;
    assert_eq!(api.status, StatusCode::UNPROCESSABLE_ENTITY);
    let problem = api.json();
    assert_eq!(problem["code"], "invalid");
    for field in ["region", "name", "status_since", "operator"] {
        let in_api = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["field"] == field)
            .unwrap_or_else(|| panic!("{field} missing: {problem}"));
        let on_page = form.select(&format!("#{field}-error"));
        assert_eq!(on_page, [in_api["message"].as_str().unwrap()], "{field}");
    }
    // A valid API create answers 201 with the station.
    let body = serde_json::json!({"tier": "township_station", "region_code": "430203001", "name": "贺家土街道社工站", "mode": "direct", "status": "under_construction", "status_since": "2024-03-01", "rooms": ["case_room"], "area_m2": 120}).to_string();
    let res = admin
        .send(
            Method::POST,
            "/api/v1/stations",
            Some(("application/json", body)),
            &[("x-csrf-token", &token)],
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let st = res.json();
    assert_eq!(st["region_path"][3], "贺家土街道");
    let id = st["id"].as_str().unwrap();
    let body = serde_json::json!({"month": "2024-04", "progress_pct": 60, "milestones": "装修"})
        .to_string();
    let res = admin
        .send(
            Method::POST,
            &format!("/api/v1/stations/{id}/progress"),
            Some(("application/json", body)),
            &[("x-csrf-token", &token)],
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED);
    assert_eq!(
        admin
            .get(&format!("/api/v1/stations/{id}/progress"))
            .await
            .json()[0]["progress_pct"],
        60
    );
});

/// A sheet as an office sends it: a merged title row, header synonyms with full-width
/// brackets and stray spaces, numbers with units, a township by name or with its county.
fn messy_sheet(rows: &[[&str; 8]]) -> Vec<u8> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let bold = Format::new().set_bold();
    ws.merge_range(
        0,
        0,
        0,
        7,
        "株洲市乡镇（街道）社工站建设情况统计表（2024年）",
        &bold,
    )
    .unwrap();
    let headers = [
        " 乡镇（街道） ",
        "站点名称",
        "状态",
        "运营模式",
        "承接机构",
        "面积",
        "年度经费（万元）",
        "工作人员",
    ];
    for (c, h) in headers.iter().enumerate() {
        ws.write_string(1, c as u16, *h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            ws.write_string(r as u32 + 2, c as u16, *v).unwrap();
        }
    }
    wb.save_to_buffer().unwrap()
}

app_test!(
    importing_a_messy_sheet_previews_errors_and_reimports_without_duplicates,
    |app| {
        agency(&app, "株洲市阳光社会工作服务中心", "430203").await;
        let mut admin = app.login_as(Role::CivilAffairsAdmin, "4302").await;
        let template = admin.get("/stations/import/template.xlsx").await;
        assert_eq!(template.status, StatusCode::OK);
        assert!(template.bytes.starts_with(b"PK"));
        let rows = [
            [
                "贺家土街道",
                "贺家土街道社工站",
                "运营中",
                "购买服务",
                "株洲市阳光社会工作服务中心",
                "120㎡",
                "30万",
                "３",
            ],
            [
                "芦淞区建设街道",
                "建设街道社工站",
                "建设中",
                "直接聘用",
                "",
                "80",
                "",
                "2",
            ],
            ["不存在街道", "幽灵站", "运营中", "直接聘用", "", "", "", ""],
            [
                "贺家土街道",
                "坏状态站",
                "干得不错",
                "直接聘用",
                "",
                // Chinese numerals read when exact (issue 13); an approximate area does not.
                "约三十平",
                "",
                "",
            ],
            [
                "贺家土街道",
                "无名机构站",
                "运营中",
                "购买服务",
                "查无此机构",
                "",
                "",
                "",
            ],
            [
                "贺家土街道",
                "贺家土街道社工站",
                "运营中",
                "购买服务",
                "株洲市阳光社会工作服务中心",
                "",
                "",
                "",
            ],
        ];
        let preview = upload_preview(&mut admin, "社工站.xlsx", &messy_sheet(&rows)).await;
        assert_eq!(preview.status, StatusCode::OK, "{}", preview.text);
        let rows_html = preview.select("#preview tbody tr");
        assert_eq!(rows_html.len(), 6);
        let results = preview.select("#preview tbody td:nth-child(3)");
        assert_eq!(results, ["新增", "新增", "有误", "有误", "有误", "有误"]);
        let problems = preview.select("#preview tbody td:nth-child(4)");
        assert!(
            problems[2].contains("在您的管理范围内找不到该地区"),
            "{}",
            problems[2]
        );
        assert!(
            problems[3].contains("建设状态") && problems[3].contains("干得不错"),
            "{}",
            problems[3]
        );
        assert!(problems[3].contains("场地面积"), "{}", problems[3]);
        assert!(problems[4].contains("找不到该机构"), "{}", problems[4]);
        assert!(problems[5].contains("与本表第 3 行重复"), "{}", problems[5]);
        // The row numbers are Excel's (title row 1, header row 2).
        assert_eq!(preview.select("#preview tbody td:first-child")[0], "3");
        // All-or-nothing refuses; nothing is written.
        let html = preview.html();
        let sel = scraper::Selector::parse("form[action^='/stations/import/']").unwrap();
        let action = html
            .select(&sel)
            .next()
            .unwrap()
            .value()
            .attr("action")
            .unwrap()
            .to_owned();
        let refused = admin.post_form(&action, &[("mode", "all")]).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.select("#import-error")[0].contains("4 行有误"));
        assert_eq!(admin.get("/api/v1/stations").await.json()["total"], 0);
        // Valid rows only.
        let done = admin.post_form(&action, &[("mode", "valid")]).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
        let list = admin.get(done.location()).await;
        assert_eq!(
            list.select("#import-summary"),
            ["导入完成：新增 2，更新 0，未变 0，跳过有误的 4 行。"]
        );
        let api = admin.get("/api/v1/stations?sort=name").await.json();
        assert_eq!(api["total"], 2);
        let hjt = api["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == "贺家土街道社工站")
            .unwrap();
        assert_eq!(
            (
                hjt["area_m2"].as_i64(),
                hjt["staff_count"].as_i64(),
                hjt["region_code"].as_str()
            ),
            (Some(120), Some(3), Some("430203001"))
        );
        let funding_page = admin
            .get(&format!("/stations/{}", hjt["id"].as_str().unwrap()))
            .await;
        assert!(
            funding_page.text.contains("300,000.00"),
            "30万 = 300,000.00 yuan"
        );
        // Fix the sheet and import again: the two stations are matched, not duplicated.
        let fixed = [
            [
                "贺家土街道",
                "贺家土街道社工站",
                "运营中",
                "购买服务",
                "株洲市阳光社会工作服务中心",
                "120㎡",
                "30万",
                "3",
            ],
            [
                "芦淞区建设街道",
                "建设街道社工站",
                "建设中",
                "直接聘用",
                "",
                "80",
                "",
                "3",
            ],
            [
                "芦淞区庆云街道",
                "庆云街道社工站",
                "规划中",
                "直接聘用",
                "",
                "",
                "",
                "",
            ],
        ];
        let preview = upload_preview(&mut admin, "社工站.xlsx", &messy_sheet(&fixed)).await;
        assert_eq!(
            preview.select("#preview tbody td:nth-child(3)"),
            ["无变化", "更新", "新增"]
        );
        let html = preview.html();
        let action = html
            .select(&sel)
            .next()
            .unwrap()
            .value()
            .attr("action")
            .unwrap()
            .to_owned();
        let done = admin.post_form(&action, &[("mode", "all")]).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER);
        assert_eq!(admin.get("/api/v1/stations").await.json()["total"], 3);
        // A sheet cannot declare a station being built complete: that is the supervisor's
        // confirmation on the station's page.
        let done_by_sheet = [[
            "芦淞区建设街道",
            "建设街道社工站",
            "运营中",
            "直接聘用",
            "",
            "80",
            "",
            "3",
        ]];
        let refused = upload_preview(&mut admin, "社工站.xlsx", &messy_sheet(&done_by_sheet)).await;
        assert_eq!(refused.select("#preview tbody td:nth-child(3)"), ["有误"]);
        let why = &refused.select("#preview tbody td:nth-child(4)")[0];
        assert!(why.contains("确认建成") && why.contains("建设中"), "{why}");
        // One audit entry per import.
        let mut auditor = app.login_as(Role::Auditor, "43").await;
        let imports = auditor
            .get("/api/v1/audit?action=import&entity=station")
            .await
            .json();
        assert_eq!(imports["total"], 2);
        let creates = auditor
            .get("/api/v1/audit?action=create&entity=station")
            .await
            .json();
        assert_eq!(
            creates["total"], 0,
            "rows of an import are not audited one by one"
        );
    }
);

app_test!(ambiguous_region_names_list_their_candidates, |app| {
    // 城关镇 exists in many counties of 河南省.
    let mut admin = app.login_as(Role::CivilAffairsAdmin, "41").await;
    let rows = [[
        "城关镇",
        "城关镇社工站",
        "运营中",
        "直接聘用",
        "",
        "",
        "",
        "",
    ]];
    let preview = upload_preview(&mut admin, "x.xlsx", &messy_sheet(&rows)).await;
    let problem = &preview.select("#preview tbody td:nth-child(4)")[0];
    assert!(problem.contains("地区名称有重名"), "{problem}");
    assert!(
        problem.contains("河南省 / "),
        "candidates are listed with full paths: {problem}"
    );
});

app_test!(attachments_are_checked_and_served_within_scope, |app| {
    let mut admin = app.login_as(Role::CivilAffairsAdmin, "4302").await;
    let a = agency(&app, "阳光社工", "430203").await;
    let id = create(&mut admin, "430203001", "贺家土街道社工站", &a).await;
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDRfake";
    let res = admin
        .upload(
            &format!("/stations/{id}/attachments"),
            &[("kind", "photo")],
            "file",
            "门牌.png",
            png,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let page = admin.get(&format!("/stations/{id}")).await;
    let html = page.html();
    let sel = scraper::Selector::parse("#attachments a").unwrap();
    let href = html
        .select(&sel)
        .next()
        .unwrap()
        .value()
        .attr("href")
        .unwrap()
        .to_owned();
    let file = admin.get(&href).await;
    assert_eq!(
        (file.status, file.bytes.as_slice()),
        (StatusCode::OK, png.as_slice())
    );
    assert_eq!(file.headers["content-type"], "image/png");
    // A script disguised as a photo is refused by its content.
    let res = admin
        .upload(
            &format!("/stations/{id}/attachments"),
            &[("kind", "photo")],
            "file",
            "x.png",
            b"<script>alert(1)</script>",
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text.contains("只接受"));
    // Another county cannot fetch it.
    let mut other = app.login_as(Role::CivilAffairsAdmin, "430202").await;
    assert_eq!(other.get(&href).await.status, StatusCode::NOT_FOUND);
});

app_test!(org_import_updates_only_what_it_may, |app| {
    // Registered in 长沙 (outside the city below) but operating a station in 株洲.
    let mut tx = app.state.db.begin().await.unwrap();
    let org = |name: &str, uscc: Option<&str>, region: &str| NewOrg {
        name: name.into(),
        uscc: uscc.map(Into::into),
        kind: OrgKind::Agency,
        region: shegong_domain::RegionCode::parse(region).unwrap(),
    };
    let (changsha, _) = orgs::create(
        &mut tx,
        &org("长沙社工", Some("91350100M000100Y43"), "430102"),
        0,
    )
    .await
    .unwrap();
    orgs::create(
        &mut tx,
        &org("广州社工", Some("91350100M0001TGQXM"), "440103"),
        0,
    )
    .await
    .unwrap();
    let (local, _) = orgs::create(&mut tx, &org("芦淞社工", None, "430203"), 0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut province = app.login_as(Role::CivilAffairsAdmin, "43").await;
    create(&mut province, "430203001", "贺家土街道社工站", &changsha).await;
    let mut city = app.login_as(Role::CivilAffairsAdmin, "4302").await;
    // The local agency has a phone and was deactivated on its page.
    let res = city
        .post_form(
            &format!("/orgs/{local}"),
            &[
                ("name", "芦淞社工"),
                ("kind", "agency"),
                ("region", "430203"),
                ("contact_phone", "0731-22334455"),
                ("rating", "3A"),
                ("status", "inactive"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let csv = "机构名称,统一社会信用代码,机构类型,登记地区,法定代表人,联系电话\r\n\
               芦淞社工,,社工机构,芦淞区,李明,\r\n\
               长沙社工,91350100M000100Y43,社工机构,芦淞区,张三,\r\n\
               广州社工,91350100M0001TGQXM,社工机构,芦淞区,,\r\n";
    let res = city
        .upload("/orgs/import", &[], "file", "orgs.csv", csv.as_bytes())
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let preview = city.get(res.location()).await;
    assert_eq!(
        preview.select("#preview tbody td:nth-child(3)"),
        ["更新", "有误", "有误"]
    );
    let problems = preview.select("#preview tbody td:nth-child(4)");
    assert!(
        problems[1].contains("登记在您的管理范围之外"),
        "{}",
        problems[1]
    );
    assert!(problems[2].contains("已登记"), "{}", problems[2]);
    let html = preview.html();
    let sel = scraper::Selector::parse("form[action^='/orgs/import/']").unwrap();
    let action = html
        .select(&sel)
        .next()
        .unwrap()
        .value()
        .attr("action")
        .unwrap()
        .to_owned();
    let done = city.post_form(&action, &[("mode", "valid")]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
    let o = city
        .get(&format!("/api/v1/organizations/{local}"))
        .await
        .json();
    assert_eq!(o["legal_rep"], "李明");
    assert_eq!(
        o["contact_phone"], "0731-22334455",
        "empty cell keeps the phone"
    );
    assert_eq!(o["rating"], "3A", "no rating column keeps the rating");
    assert_eq!(o["status"], "inactive", "an import does not reactivate");
    let cs = province
        .get(&format!("/api/v1/organizations/{changsha}"))
        .await
        .json();
    assert_eq!(cs["legal_rep"], "");
});

app_test!(organisation_lists_sort_by_station_count, |app| {
    let busy = agency(&app, "甲社工", "430203").await;
    agency(&app, "乙社工", "430203").await;
    let mut city = app.login_as(Role::CivilAffairsAdmin, "4302").await;
    create(&mut city, "430203001", "贺家土街道社工站", &busy).await;
    let orgs = city.get("/api/v1/organizations?sort=stations").await.json();
    let counts: Vec<i64> = orgs["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["station_count"].as_i64().unwrap())
        .collect();
    assert_eq!(counts, [1, 0]);
    assert_eq!(orgs["items"][0]["id"], busy.as_str());
    let page = city.get("/orgs?sort=stations").await;
    // The column header shows the order (most first) and offers the reverse.
    assert_eq!(
        page.select("#orgs th[aria-sort=descending] a"),
        ["运营站点"]
    );
    assert!(page.text.contains("href=\"/orgs?sort=-stations\""));
    let reverse = city
        .get("/api/v1/organizations?sort=-stations")
        .await
        .json();
    assert_eq!(reverse["items"][1]["id"], busy.as_str());
});

// Issue 18 (walkthrough): a township has one township station. A second one is refused on
// the region field by the form, the API and the importer, and counts nowhere; once the first
// is closed, a new one may open.
app_test!(
    a_second_township_station_is_refused_until_the_first_closes,
    |app| {
        let org = agency(&app, "株洲市阳光社会工作服务中心", "430203").await;
        let mut admin = app.login_as(Role::CivilAffairsAdmin, "4302").await;
        let first = create(&mut admin, "430203001", "贺家土街道社工站", &org).await;
        // Form: refused on the region, with the reason.
        let res = admin
            .post_form(
                "/stations",
                &station_form("430203001", "贺家土第二社工站", &org),
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
        let msg = res.select("#region-error");
        assert_eq!(msg.len(), 1, "{}", res.text);
        assert!(msg[0].contains("一个乡镇只设一个社工站"), "{msg:?}");
        // API: the same field and message.
        let token = admin.csrf().await;
        let body = serde_json::json!({"tier": "township_station", "region_code": "430203001",
        "name": "贺家土第二社工站", "mode": "direct", "status": "planned",
        "status_since": "2024-03-01"})
        .to_string();
        let api = admin
            .send(
                Method::POST,
                "/api/v1/stations",
                Some(("application/json", body.clone())),
                &[("x-csrf-token", &token)],
            )
            .await;
        assert_eq!(api.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", api.text);
        assert_eq!(api.json()["errors"][0]["field"], "region");
        assert_eq!(api.json()["errors"][0]["message"], msg[0].as_str());
        // Another township's station is not limited; moving it into this township is refused.
        let second = create(&mut admin, "430203002", "建设街道社工站", &org).await;
        let res = admin
            .post_form(
                &format!("/stations/{second}"),
                &station_form("430203001", "建设街道社工站", &org),
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
        assert_eq!(res.select("#region-error"), msg);
        let list = admin.get("/api/v1/stations?per_page=50").await.json();
        assert_eq!(list["total"], 2, "{list}");
        // The importer: a sheet row for the taken township is an error on the township.
        let rows = [[
            "贺家土街道",
            "贺家土新社工站",
            "运营中",
            "直接聘用",
            "",
            "",
            "",
            "",
        ]];
        let preview = upload_preview(&mut admin, "社工站.xlsx", &messy_sheet(&rows)).await;
        assert_eq!(
            preview.select("#preview tbody td:nth-child(3)"),
            ["有误"],
            "{}",
            preview.text
        );
        let problem = &preview.select("#preview tbody td:nth-child(4)")[0];
        assert!(
            problem.contains("贺家土街道社工站") && problem.contains("一个乡镇只设一个社工站"),
            "{problem}"
        );
        // Two rows for one free township: the second is refused.
        let rows = [
            [
                "白关镇",
                "白关镇社工站",
                "运营中",
                "直接聘用",
                "",
                "",
                "",
                "",
            ],
            [
                "白关镇",
                "白关镇第二站",
                "运营中",
                "直接聘用",
                "",
                "",
                "",
                "",
            ],
        ];
        let preview = upload_preview(&mut admin, "社工站.xlsx", &messy_sheet(&rows)).await;
        assert_eq!(
            preview.select("#preview tbody td:nth-child(3)"),
            ["新增", "有误"],
            "{}",
            preview.text
        );
        // Closed, the first no longer holds the township: a new station may open.
        let mut closing = station_form("430203001", "贺家土街道社工站", &org);
        for (k, v) in closing.iter_mut() {
            if *k == "status" {
                *v = "closed";
            }
            if *k == "status_since" {
                *v = "2025-01-01";
            }
        }
        let res = admin
            .post_form(&format!("/stations/{first}"), &closing)
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        let api = admin
            .send(
                Method::POST,
                "/api/v1/stations",
                Some(("application/json", body)),
                &[("x-csrf-token", &token)],
            )
            .await;
        assert_eq!(api.status, StatusCode::CREATED, "{}", api.text);
    }
);
