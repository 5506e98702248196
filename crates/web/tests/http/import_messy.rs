//! Issue 13: a provincial construction list in the shape offices really send — a merged title
//! row and a filler row above the header, headers in the office's own words, no status or
//! operating-mode column, units in the header and in the cells, full-width digits, money in
//! Chinese words, a township name two counties share, an exact repeat, a blank line and a 合计
//! line with a formula — is mapped, previewed with every bad row named, committed, and imported
//! again without duplicates; on both databases.

use super::*;
use rust_xlsxwriter::{Format, Formula, Workbook};

const HEADERS: [&str; 7] = [
    "序号",
    "所属县（市、区）",
    "所在乡镇（街道）",
    "站点名称",
    "具体地址",
    "负责人",
    "配备资金（万元）",
];

/// Rows from the sheet's fourth line (title, filler, header above).
const ROWS: [[&str; 7]; 7] = [
    [
        "1",
        "芦淞区",
        "贺家土街道",
        "贺家土街道社工站",
        "人民路1号",
        "张三",
        "18",
    ],
    [
        "2",
        "芦淞区",
        "建设街道",
        "建设街道社工站",
        "建设路2号",
        "李四",
        "1.5万元",
    ],
    ["3", "", "建宁街道", "建宁街道社工站", "", "", "１８ "],
    ["4", "", "龙泉街道", "龙泉街道社工站", "", "", "10"],
    [
        "5",
        "芦淞区",
        "董家塅街道",
        "董家塅街道社工站",
        "",
        "",
        "二十多",
    ],
    ["6", "", "庆云街道", "庆云街道社工站", "", "", "3,000元"],
    // An exact repeat of the first data row.
    [
        "1",
        "芦淞区",
        "贺家土街道",
        "贺家土街道社工站",
        "人民路1号",
        "张三",
        "18",
    ],
];

pub(crate) fn sheet() -> Vec<u8> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let bold = Format::new().set_bold();
    ws.merge_range(
        0,
        0,
        0,
        6,
        "2024年湖南省乡镇（街道）社工站建设情况表",
        &bold,
    )
    .unwrap();
    ws.write_string(1, 0, "填报单位：湖南省民政厅　　填报日期：2024年6月30日")
        .unwrap();
    for (c, h) in HEADERS.iter().enumerate() {
        ws.write_string(2, c as u16, *h).unwrap();
    }
    for (r, row) in ROWS.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() {
                ws.write_string(r as u32 + 3, c as u16, *v).unwrap();
            }
        }
    }
    // Line 11 is blank; line 12 is the total, with a formula.
    ws.write_string(11, 0, "合计").unwrap();
    ws.write_formula(11, 6, Formula::new("=SUM(G4:G10)").set_result("47.5"))
        .unwrap();
    wb.save_to_buffer().unwrap()
}

async fn upload(c: &mut Client, bytes: &[u8]) -> (String, Res) {
    let res = c
        .upload("/stations/import", &[], "file", "建设情况表.xlsx", bytes)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let batch = res.location().to_owned();
    let page = c.get(&batch).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    (batch, page)
}

/// The field each sheet column is mapped to, as the mapping table's selects say.
fn mapped(page: &Res) -> Vec<String> {
    let html = page.html();
    let sel = scraper::Selector::parse("#mapping select").unwrap();
    let opt = scraper::Selector::parse("option[selected]").unwrap();
    html.select(&sel)
        .map(|s| {
            s.select(&opt)
                .next()
                .and_then(|o| o.value().attr("value"))
                .unwrap_or("")
                .to_owned()
        })
        .collect()
}

app_test!(
    a_real_shaped_provincial_list_is_mapped_checked_and_imported_once,
    |app| {
        let mut admin = app.login_as(Role::CivilAffairsAdmin, "43").await;
        let (batch, first) = upload(&mut admin, &sheet()).await;
        // Every column of the sheet is listed with the field it was matched to.
        assert_eq!(
            mapped(&first),
            ["", "county", "township", "name", "address", "", "funding"],
            "{}",
            first.text
        );
        // Status and operating mode have no column: said so, and every row is still previewed.
        let missing = first.select("#import-missing");
        assert!(
            missing[0].contains("建设状态") && missing[0].contains("运营方式"),
            "{missing:?}"
        );
        assert_eq!(first.select("#preview tbody tr").len(), 6);
        assert_eq!(
            first.select("#preview tbody td:nth-child(3)"),
            ["有误"; 6],
            "without status and mode no row can be registered"
        );
        // The lines set aside, each with its reason.
        let skipped = first.select("#import-skipped li");
        let reasons = skipped.join("\n");
        assert!(
            reasons.contains("第 1 行") && reasons.contains("标题"),
            "{reasons}"
        );
        assert!(reasons.contains("第 2 行"), "{reasons}");
        assert!(
            reasons.contains("第 10 行") && reasons.contains("与第 4 行完全相同"),
            "{reasons}"
        );
        assert!(
            reasons.contains("第 11 行") && reasons.contains("空行"),
            "{reasons}"
        );
        assert!(
            reasons.contains("第 12 行") && reasons.contains("合计"),
            "{reasons}"
        );

        // One value for all rows of each missing field.
        let mut form: Vec<(String, String)> = mapped(&first)
            .into_iter()
            .enumerate()
            .map(|(i, f)| (format!("column.{i}"), f))
            .collect();
        form.push(("default.status".into(), "operating".into()));
        form.push(("default.mode".into(), "direct".into()));
        form.push(("mode".into(), "map".into()));
        let fields: Vec<(&str, &str)> =
            form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let res = admin.post_form(&batch, &fields).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        let preview = admin.get(&batch).await;
        assert!(
            preview.select("#import-missing").is_empty(),
            "{}",
            preview.text
        );
        let results = preview.select("#preview tbody td:nth-child(3)");
        assert_eq!(
            results,
            ["新增", "新增", "新增", "有误", "有误", "新增"],
            "{}",
            preview.text
        );
        let problems = preview.select("#preview tbody td:nth-child(4)");
        // The ambiguous township: every candidate with its full path and code.
        assert!(problems[3].contains("重名"), "{}", problems[3]);
        for code in ["430203007", "430771004", "431128001"] {
            assert!(problems[3].contains(code), "{code} in {}", problems[3]);
        }
        assert!(
            problems[3].contains("湖南省 / 株洲市 / 芦淞区 / 龙泉街道"),
            "{}",
            problems[3]
        );
        // Money in words that cannot be read exactly is an error on its cell, never a zero.
        assert!(
            problems[4].contains("经费") && problems[4].contains("二十多"),
            "{}",
            problems[4]
        );

        let done = admin.post_form(&batch, &[("mode", "valid")]).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
        let api = admin
            .get("/api/v1/stations?sort=name&per_page=50")
            .await
            .json();
        assert_eq!(api["total"], 4, "{api}");
        let items = api["items"].as_array().unwrap();
        let named = |n: &str| items.iter().find(|s| s["name"] == n).unwrap().clone();
        assert_eq!(named("贺家土街道社工站")["status"], "operating");
        assert_eq!(named("贺家土街道社工站")["mode"], "direct");
        assert_eq!(named("贺家土街道社工站")["address"], "人民路1号");
        // The header's unit applies to bare numbers; a unit in the cell wins; full-width digits
        // and stray spaces read.
        for (name, yuan) in [
            ("贺家土街道社工站", "180,000.00"),
            ("建设街道社工站", "15,000.00"),
            ("建宁街道社工站", "180,000.00"),
            ("庆云街道社工站", "3,000.00"),
        ] {
            let id = named(name)["id"].as_str().unwrap().to_owned();
            let page = admin.get(&format!("/stations/{id}")).await;
            assert!(page.text.contains(yuan), "{name}: {yuan}");
        }
        // A rejected upload is audited too, with the file's name and why.
        let junk = admin
            .upload(
                "/stations/import",
                &[],
                "file",
                "不是表格.xlsx",
                b"PK\x03\x04junk",
            )
            .await;
        assert_eq!(
            junk.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            junk.text
        );
        let audit = admin.get("/api/v1/audit?action=import_refused").await;
        assert!(audit.text.contains("不是表格.xlsx"), "{}", audit.text);

        // The same sheet again: the mapping chosen last time is remembered for these headers, and
        // nothing is imported twice.
        let (batch, again) = upload(&mut admin, &sheet()).await;
        assert!(again.select("#import-missing").is_empty(), "{}", again.text);
        let results = again.select("#preview tbody td:nth-child(3)");
        assert_eq!(
            results,
            ["无变化", "无变化", "无变化", "有误", "有误", "无变化"]
        );
        let done = admin.post_form(&batch, &[("mode", "valid")]).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
        let api = admin.get("/api/v1/stations").await.json();
        assert_eq!(api["total"], 4);
    }
);

app_test!(a_township_outside_the_scope_is_named_as_such, |app| {
    let mut admin = app.login_as(Role::CivilAffairsAdmin, "4302").await;
    let csv = "所在乡镇（街道）,社工站名称,建设状态,运营方式\n坡子街街道,坡子街社工站,运营中,直接聘用\n不存在镇,幽灵站,运营中,直接聘用\n";
    let (_, page) = upload(&mut admin, csv.as_bytes()).await;
    let problems = page.select("#preview tbody td:nth-child(4)");
    assert!(
        problems[0].contains("不在您的管理范围内"),
        "{}",
        problems[0]
    );
    assert!(
        problems[1].contains("在您的管理范围内找不到该地区"),
        "{}",
        problems[1]
    );
});

/// Poll a batch's progress until its phase is one of `until`.
async fn wait_for(c: &mut Client, batch: &str, until: &[&str]) -> serde_json::Value {
    for _ in 0..600 {
        let res = c.get(&format!("{batch}/progress")).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        let report = res.json();
        if until.iter().any(|p| report["phase"] == *p) {
            return report;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the job never reached {until:?}");
}

app_test!(
    a_big_sheet_is_checked_and_committed_in_the_background,
    |app| {
        let mut admin = app.login_as(Role::CivilAffairsAdmin, "4302").await;
        let rows = 2_500;
        let mut csv = String::from("机构名称,机构类型,登记地区\n");
        for i in 0..rows {
            csv.push_str(&format!("芦淞第{i}社会工作服务中心,社工机构,芦淞区\n"));
        }
        let res = admin
            .upload("/orgs/import", &[], "file", "机构.csv", csv.as_bytes())
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        let batch = res.location().to_owned();
        // The first visit starts the check and shows its progress.
        let page = admin.get(&batch).await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(page.select("#import-progress").len(), 1, "{}", page.text);
        // Another user cannot follow it, and is not held up by it.
        let mut other = app.login_as(Role::CivilAffairsAdmin, "4301").await;
        let res = other.get(&format!("{batch}/progress")).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND);
        assert_eq!(other.get("/api/v1/stations").await.status, StatusCode::OK);
        let report = wait_for(&mut admin, &batch, &["ready"]).await;
        assert_eq!(report["read"], rows);
        assert_eq!(report["checked"], rows);
        let preview = admin.get(&batch).await;
        assert_eq!(
            preview.select("#import-counts .tag")[0],
            format!("新增 {rows}")
        );
        // The preview lists some rows, not all 2,500, and says so.
        assert_eq!(preview.select("#preview tbody tr").len(), 200);
        assert!(!preview.select("#import-hidden").is_empty());

        let res = admin.post_form(&batch, &[("mode", "valid")]).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        assert_eq!(res.location(), batch);
        let report = wait_for(&mut admin, &batch, &["done", "failed"]).await;
        assert_eq!(report["phase"], "done", "{report}");
        assert_eq!(report["written"], rows);
        // The result page stays to come back to.
        let done = admin.get(&batch).await;
        assert_eq!(
            done.select("#import-summary"),
            [format!(
                "导入完成：新增 {rows}，更新 0，未变 0，跳过有误的 0 行。"
            )]
        );
        let api = admin.get("/api/v1/organizations?per_page=1").await.json();
        assert_eq!(api["total"], rows, "{api}");
    }
);
