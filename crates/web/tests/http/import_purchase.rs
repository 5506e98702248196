//! Issue 14 item 8: the catalogue and contracts imported through the shared engine, from sheets
//! in the shape offices send — a title row above the header, headers in their own words, no year
//! column (one chosen for the upload), cost shares per level with a full-width digit, money in
//! 万元, an estimate in Chinese numerals, a contract over two line rows, a plan and shares that do
//! not add up to 100 %, an unknown provider — previewed with every bad row and its reason,
//! committed, and imported again without duplicates; on both databases.

use super::fixtures::{agency, count, login, station};
use super::*;
use rust_xlsxwriter::{Format, Workbook};
use shegong_domain::network::org::{OrgKind, UsccCheck, check_uscc};
use shegong_domain::purchase::catalogue::{CostShare, CostShares, PurchaserLevel, ServiceField};
use shegong_store::network::orgs::{self, NewOrg};
use shegong_store::purchase::catalogue::{self, ItemInput};

const COUNTY: &str = "430203";

/// A sheet: a merged title row, then the header, then the rows.
fn sheet(title: &str, headers: &[&str], rows: &[Vec<&str>]) -> Vec<u8> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let bold = Format::new().set_bold();
    ws.merge_range(0, 0, 0, headers.len() as u16 - 1, title, &bold)
        .unwrap();
    for (c, h) in headers.iter().enumerate() {
        ws.write_string(1, c as u16, *h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() {
                ws.write_string(r as u32 + 2, c as u16, *v).unwrap();
            }
        }
    }
    wb.save_to_buffer().unwrap()
}

async fn upload(c: &mut Client, path: &str, bytes: &[u8]) -> (String, Res) {
    let res = c.upload(path, &[], "file", "表格.xlsx", bytes).await;
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

/// (row number, result, problems) of every previewed row.
fn preview(page: &Res) -> Vec<(String, String, String)> {
    let numbers = page.select("#preview tbody td:nth-child(1)");
    let results = page.select("#preview tbody td:nth-child(3)");
    let problems = page.select("#preview tbody td:nth-child(4)");
    numbers
        .into_iter()
        .zip(results)
        .zip(problems)
        .map(|((n, r), p)| (n, r, p))
        .collect()
}

/// Every cell of a template's instructions sheet (the second), tab-separated.
fn instructions(bytes: &[u8]) -> String {
    use calamine::Reader;
    let mut wb =
        calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let range = wb.worksheet_range_at(1).unwrap().unwrap();
    range
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join("\t")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

const CATALOGUE_HEADERS: [&str; 8] = [
    "序号",
    "服务领域",
    "服务项目名称",
    "项目内容",
    "市级（%）",
    "区级（%）",
    "镇街（%）",
    "状态",
];

fn catalogue_sheet() -> Vec<u8> {
    let rows = vec![
        vec![
            "1",
            "老年人",
            "长者关爱服务",
            "独居、空巢老人探访",
            "50",
            "30",
            "20",
            "征集中",
        ],
        // A full-width digit; an item included at once (two steps kept in its history).
        vec![
            "2",
            "青少年社会工作服务类",
            "青少年成长护航",
            "",
            "５０",
            "50",
            "",
            "已纳入目录",
        ],
        // Shares adding up to 90 %.
        vec!["3", "禁毒", "社区戒毒康复", "", "40", "40", "10", ""],
        // No shares: the county's own budget alone.
        vec!["4", "残疾人", "助残服务", "", "", "", "", ""],
        // A field no catalogue has.
        vec!["5", "养猫", "猫咪服务", "", "", "", "", ""],
    ];
    sheet(
        "2025年度芦淞区政府购买社会工作服务项目目录（征求意见稿）",
        &CATALOGUE_HEADERS,
        &rows,
    )
}

app_test!(
    a_catalogue_sheet_is_mapped_checked_and_imported_once,
    |app| {
        let mut admin = login(&app, "county_admin", Role::CivilAffairsAdmin, COUNTY, None).await;
        // The registry page leads to the import, and the template comes with its notes and examples.
        let page = admin.get("/catalogue").await;
        assert_eq!(page.select("#catalogue-import").len(), 1, "{}", page.text);
        let template = admin.get("/catalogue/import/template.xlsx").await;
        assert_eq!(template.status, StatusCode::OK);
        let instructions = instructions(&template.bytes);
        assert!(instructions.contains("填写示例"), "{instructions}");
        assert!(
            instructions.contains("市50%、区30%、镇街20%"),
            "{instructions}"
        );
        assert!(instructions.contains("按“地区＋年度＋项目名称”识别"));

        let (batch, first) = upload(&mut admin, "/catalogue/import", &catalogue_sheet()).await;
        assert_eq!(
            mapped(&first),
            [
                "",
                "field",
                "name",
                "description",
                "city_share",
                "district_share",
                "township_share",
                "status"
            ],
            "{}",
            first.text
        );
        // The sheet has no year: said so, and one year is chosen for every row.
        let missing = first.select("#import-missing");
        assert!(missing[0].contains("年度"), "{missing:?}");
        let mut form: Vec<(String, String)> = mapped(&first)
            .into_iter()
            .enumerate()
            .map(|(i, f)| (format!("column.{i}"), f))
            .collect();
        form.push(("default.year".into(), "2025".into()));
        form.push(("mode".into(), "map".into()));
        let fields: Vec<(&str, &str)> =
            form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let res = admin.post_form(&batch, &fields).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        let page = admin.get(&batch).await;
        let rows = preview(&page);
        let results: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
        assert_eq!(
            results,
            ["新增", "新增", "有误", "新增", "有误"],
            "{}",
            page.text
        );
        // Each bad row is named with its reason, on its cells.
        assert_eq!(rows[2].0, "5");
        assert!(
            rows[2].2.contains("市级承担比例")
                && rows[2].2.contains("区（县）级承担比例")
                && rows[2].2.contains("合计须为100%"),
            "{}",
            rows[2].2
        );
        assert_eq!(rows[4].0, "7");
        assert!(
            rows[4].2.contains("服务类别") && rows[4].2.contains("养猫"),
            "{}",
            rows[4].2
        );

        let done = admin.post_form(&batch, &[("mode", "valid")]).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
        let list = admin.get(done.location()).await;
        assert_eq!(
            list.select("#import-summary"),
            ["导入完成：新增 3，更新 0，未变 0，跳过有误的 2 行。"]
        );
        let editions = admin.get("/api/v1/catalogue?year=2025").await.json();
        let editions = editions.as_array().unwrap();
        assert_eq!(editions.len(), 1, "{editions:?}");
        assert_eq!(editions[0]["region_code"], COUNTY);
        let items = editions[0]["items"].as_array().unwrap();
        assert_eq!(items.len(), 3);
        let named = |n: &str| items.iter().find(|i| i["name"] == n).unwrap().clone();
        let elderly = named("长者关爱服务");
        assert_eq!(elderly["field"], "elderly");
        assert_eq!(elderly["status"], "proposed");
        assert_eq!(elderly["description"], "独居、空巢老人探访");
        let shares: Vec<(String, String)> = elderly["cost_shares"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["level"].as_str().unwrap().to_owned(),
                    s["share_percent"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(
            shares,
            [
                ("city".to_owned(), "50".to_owned()),
                ("district".to_owned(), "30".to_owned()),
                ("township".to_owned(), "20".to_owned())
            ]
        );
        let youth = named("青少年成长护航");
        assert_eq!(youth["status"], "included");
        let steps: Vec<&str> = youth["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["to"].as_str().unwrap())
            .collect();
        assert_eq!(steps, ["proposed", "reviewed", "included"]);
        assert_eq!(youth["cost_shares"][0]["share_percent"], "50");
        let own = named("助残服务");
        assert_eq!(own["cost_shares"][0]["level"], "district");
        assert_eq!(own["cost_shares"][0]["share_percent"], "100");

        // The same sheet again: the year chosen is remembered, nothing is duplicated, nothing changes.
        let (batch, again) = upload(&mut admin, "/catalogue/import", &catalogue_sheet()).await;
        assert!(again.select("#import-missing").is_empty(), "{}", again.text);
        let results: Vec<String> = preview(&again).into_iter().map(|r| r.1).collect();
        assert_eq!(results, ["无变化", "无变化", "有误", "无变化", "有误"]);
        let done = admin.post_form(&batch, &[("mode", "valid")]).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
        assert_eq!(count(&app, "SELECT COUNT(*) FROM catalogue_items").await, 3);
        assert_eq!(
            count(&app, "SELECT COUNT(*) FROM catalogue_editions").await,
            1
        );

        // A changed description and a later status update the item; its status never moves back.
        let rows = vec![
            vec![
                "1",
                "老年人",
                "长者关爱服务",
                "独居老人探访与关爱",
                "50",
                "30",
                "20",
                "已评审",
            ],
            vec![
                "2",
                "青少年",
                "青少年成长护航",
                "",
                "50",
                "50",
                "",
                "征集中",
            ],
        ];
        let bytes = sheet("目录", &CATALOGUE_HEADERS, &rows);
        let (batch, page) = upload(&mut admin, "/catalogue/import", &bytes).await;
        let rows = preview(&page);
        assert_eq!(rows[0].1, "更新", "{}", page.text);
        assert_eq!(rows[1].1, "有误");
        assert!(rows[1].2.contains("只能把状态向后推进"), "{}", rows[1].2);
        let done = admin.post_form(&batch, &[("mode", "valid")]).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
        let editions = admin.get("/api/v1/catalogue?year=2025").await.json();
        let items = editions[0]["items"].as_array().unwrap();
        let elderly = items.iter().find(|i| i["name"] == "长者关爱服务").unwrap();
        assert_eq!(elderly["description"], "独居老人探访与关爱");
        assert_eq!(elderly["status"], "reviewed");
        assert_eq!(count(&app, "SELECT COUNT(*) FROM catalogue_items").await, 3);
    }
);

/// A credit code with a correct check character, for an organisation found by its code.
fn valid_uscc(head: &str) -> String {
    "0123456789ABCDEFGHJKLMNPQRTUWXY"
        .chars()
        .map(|c| format!("{head}{c}"))
        .find(|code| matches!(check_uscc(code), Ok(UsccCheck::Valid(_))))
        .unwrap()
}

const CONTRACT_HEADERS: [&str; 18] = [
    "合同号",
    "项目名称",
    "承接方",
    "合同金额（万元）",
    "服务期限起",
    "服务期限止",
    "采购方式",
    "服务社工站",
    "所属目录项目",
    "付款方式",
    "服务类型",
    "服务项目",
    "计量单位",
    "单价（元）",
    "数量",
    "最少节数",
    "最少人次",
    "项目类别",
];

fn contract_sheet(uscc: &str) -> Vec<u8> {
    let with_uscc = format!(
        "LS-2025-002|青少年服务项目|{uscc}|20|2025-01-01|2025年12月31日|竞争性磋商|建宁街道社工站||50%,50%|社区活动|青少年活动|场|5000|40|||basic"
    );
    let lines = [
        // Rows 3–4: one contract over two lines, its own columns given once; a full-width
        // digit in 万元.
        "LS-2025-001|芦淞区社工站服务项目|阳光社会工作服务中心|３0|2025-06-01|2026/5/31|公开招标|贺家土街道社工站、建设街道社工站|长者关爱服务|40/40/20|小组工作|长者互助小组|个|3000|20|6|42|核心项目",
        "LS-2025-001||||||||||个案服务|困境儿童个案|个|8000|30|||基础",
        // Row 5: the provider by its credit code, a date in Chinese, percent signs in the plan.
        &with_uscc,
        // Row 6: an amount in Chinese numerals that is only an estimate.
        "LS-2025-003|禁毒项目|阳光社会工作服务中心|二十多万|2025-01-01|2025-12-31|询价|||100|探访|探访|次|50|100|||",
        // Row 7: a plan of 40 + 40 + 30.
        "LS-2025-004|助残项目|阳光社会工作服务中心|10|2025-01-01|2025-12-31|单一来源|||40/40/30|探访|探访|次|50|100|||",
        // Row 8: a provider nobody registered.
        "LS-2025-005|家庭项目|不存在的社工机构|10|2025-01-01|2025-12-31|询价|||100|探访|探访|次|50|100|||",
        // Rows 9–10: a good first line and a bad second one: the whole contract is refused.
        "LS-2025-006|社区项目|阳光社会工作服务中心|10|2025-01-01|2025-12-31|询价|||100|探访|探访|次|50|100|||",
        "LS-2025-006||||||||||探访|电话探访|次|20|很多|||",
        // Row 11: the term ends before it starts.
        "LS-2025-007|倒挂项目|阳光社会工作服务中心|10|2025-12-31|2025-01-01|询价|||100|探访|探访|次|50|100|||",
        // Row 12: a second line of the contract of row 7, further down: the plan's error is on
        // it too.
        "LS-2025-004||||||||||探访|电话探访|次|20|10|||",
        // Row 13: a tier that is neither core nor basic, refused on its cell.
        "LS-2025-008|社区项目二|阳光社会工作服务中心|10|2025-01-01|2025-12-31|询价|||100|探访|探访|次|50|100|||中等",
    ];
    let rows: Vec<Vec<&str>> = lines.iter().map(|l| l.split('|').collect()).collect();
    for row in &rows {
        assert_eq!(row.len(), CONTRACT_HEADERS.len(), "{row:?}");
    }
    sheet(
        "芦淞区2025年政府购买社会工作服务合同汇总表",
        &CONTRACT_HEADERS,
        &rows,
    )
}

app_test!(
    a_contracts_sheet_is_checked_whole_and_imported_once,
    |app| {
        let mut admin = login(&app, "county_admin", Role::CivilAffairsAdmin, COUNTY, None).await;
        let provider = agency(&app, "阳光社会工作服务中心", COUNTY).await;
        let uscc = valid_uscc("52430203MJ0000001");
        let other = {
            let mut tx = app.state.db.begin().await.unwrap();
            let (id, _) = orgs::create(
                &mut tx,
                &NewOrg {
                    name: "明德青少年服务社".into(),
                    uscc: Some(uscc.clone()),
                    kind: OrgKind::Agency,
                    region: shegong_domain::RegionCode::parse(COUNTY).unwrap(),
                },
                app.state.now(),
            )
            .await
            .unwrap();
            tx.commit().await.unwrap();
            id
        };
        let s1 = station(&app, "430203001", "贺家土街道社工站", &provider).await;
        let s2 = station(&app, "430203002", "建设街道社工站", &provider).await;
        station(&app, "430203003", "建宁街道社工站", &other).await;
        let item = {
            let mut tx = app.state.db.begin().await.unwrap();
            let input = ItemInput {
                region: shegong_domain::RegionCode::parse(COUNTY).unwrap(),
                year: 2025,
                edition_title: String::new(),
                field: ServiceField::Elderly,
                name: "长者关爱服务".into(),
                description: String::new(),
                cost_shares: CostShares::new(vec![CostShare {
                    level: PurchaserLevel::District,
                    share_bp: 10_000,
                }])
                .unwrap(),
            };
            let (id, _) = catalogue::create_item(
                &mut tx,
                &Scope::national(),
                &input,
                "test",
                app.state.now(),
            )
            .await
            .unwrap();
            tx.commit().await.unwrap();
            id
        };

        let page = admin.get("/contracts").await;
        assert_eq!(page.select("#contracts-import").len(), 1, "{}", page.text);
        let template = admin.get("/contracts/import/template.xlsx").await;
        assert_eq!(template.status, StatusCode::OK);
        let notes = instructions(&template.bytes);
        assert!(
            notes.contains("第一期于服务期开始日支付") && notes.contains("LS-2025-001"),
            "{notes}"
        );

        let (batch, first) = upload(&mut admin, "/contracts/import", &contract_sheet(&uscc)).await;
        assert_eq!(
            mapped(&first),
            [
                "contract_number",
                "title",
                "provider",
                "amount",
                "term_start",
                "term_end",
                "method",
                "stations",
                "catalogue_item",
                "plan",
                "service_kind",
                "content",
                "unit",
                "unit_price",
                "quantity",
                "min_sessions",
                "min_person_times",
                "tier"
            ],
            "{}",
            first.text
        );
        let rows = preview(&first);
        let results: Vec<(&str, &str)> =
            rows.iter().map(|r| (r.0.as_str(), r.1.as_str())).collect();
        assert_eq!(
            results,
            [
                ("3", "新增"),
                ("4", "新增"),
                ("5", "新增"),
                ("6", "有误"),
                ("7", "有误"),
                ("8", "有误"),
                ("9", "有误"),
                ("10", "有误"),
                ("11", "有误"),
                ("12", "有误"),
                ("13", "有误")
            ],
            "{}",
            first.text
        );
        let problems = |row: &str| rows.iter().find(|r| r.0 == row).unwrap().2.clone();
        // The estimate is refused on its cell, never read as a number.
        let p = problems("6");
        assert!(p.contains("合同金额") && p.contains("二十多万"), "{p}");
        // The plan is refused on its cell, naming it.
        let p = problems("7");
        assert!(
            p.contains("付款计划") && p.contains("40/40/30") && p.contains("合计须为100%"),
            "{p}"
        );
        // The unknown provider, with the cell named.
        let p = problems("8");
        assert!(
            p.contains("承接机构")
                && p.contains("不存在的社工机构")
                && p.contains("找不到该承接机构"),
            "{p}"
        );
        // A bad line refuses its whole contract, and the good line says why.
        let p = problems("10");
        assert!(p.contains("数量") && p.contains("很多"), "{p}");
        let p = problems("9");
        assert!(p.contains("第 10 行有误"), "{p}");
        let p = problems("12");
        assert!(p.contains("付款计划") && p.contains("40/40/30"), "{p}");
        // Term end before start: on the contract's rows.
        let p = problems("11");
        assert!(p.contains("服务期结束"), "{p}");
        // A tier that is neither, on its cell with the values it may take.
        let p = problems("13");
        assert!(
            p.contains("项目类别") && p.contains("中等") && p.contains("核心项目、基础项目"),
            "{p}"
        );

        let before = count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'import'",
        )
        .await;
        let done = admin.post_form(&batch, &[("mode", "valid")]).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
        let list = admin.get(done.location()).await;
        assert_eq!(
            list.select("#import-summary"),
            ["导入完成：新增 3，更新 0，未变 0，跳过有误的 8 行。"]
        );
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM audit_log WHERE action = 'import'"
            )
            .await,
            before + 1
        );
        let api = admin.get("/api/v1/contracts?q=LS-2025").await.json();
        assert_eq!(api["total"], 2, "{api}");
        let id_of = |number: &str| {
            api["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["contract_number"] == number)
                .unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        let one = admin
            .get(&format!("/api/v1/contracts/{}", id_of("LS-2025-001")))
            .await
            .json();
        // ３0 万元 is 300,000 yuan.
        assert_eq!(one["amount_fen"], 30_000_000, "{one}");
        assert_eq!(one["term_start"], "2025-06-01");
        assert_eq!(one["term_end"], "2026-05-31");
        assert_eq!(one["procurement_method"], "public_tender");
        assert_eq!(one["catalogue_item_id"], item.as_str());
        let lines = one["lines"].as_array().unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["content"], "长者互助小组");
        assert_eq!(lines[0]["tier"], "core");
        assert_eq!(lines[1]["tier"], "basic");
        assert_eq!(lines[0]["amount_fen"], 6_000_000);
        assert_eq!(lines[0]["rule"]["rule"], "group");
        assert_eq!(lines[0]["rule"]["min_sessions"], 6);
        assert_eq!(lines[0]["rule"]["min_person_times"], 42);
        assert_eq!(lines[1]["service_kind"], "casework");
        assert_eq!(lines[1]["unit_price_fen"], 800_000);
        assert_eq!(lines[1]["quantity"], 30);
        let stations: Vec<&str> = one["stations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap())
            .collect();
        assert_eq!(stations, [s1.as_str(), s2.as_str()]);
        let instalments = one["instalments"].as_array().unwrap();
        let amounts: Vec<i64> = instalments
            .iter()
            .map(|i| i["amount_fen"].as_i64().unwrap())
            .collect();
        assert_eq!(amounts, [12_000_000, 12_000_000, 6_000_000]);
        // The documented rule: first on the term's first day, then mid-term and final evaluation.
        assert_eq!(instalments[0]["due_on"], "2025-06-01");
        assert_eq!(instalments[1]["trigger"]["kind"], "mid_term");
        assert_eq!(instalments[2]["trigger"]["kind"], "final");

        let two = admin
            .get(&format!("/api/v1/contracts/{}", id_of("LS-2025-002")))
            .await
            .json();
        assert_eq!(two["amount_fen"], 20_000_000);
        assert_eq!(two["provider_org_id"], other.as_str());
        assert_eq!(two["term_end"], "2025-12-31");
        assert_eq!(two["lines"].as_array().unwrap().len(), 1);
        assert_eq!(two["lines"][0]["tier"], "basic");
        assert_eq!(two["instalments"][1]["trigger"]["kind"], "final");

        // The same sheet again: every contract already filed is skipped with the reason.
        let lines_before = count(&app, "SELECT COUNT(*) FROM contract_lines").await;
        let (batch, again) = upload(&mut admin, "/contracts/import", &contract_sheet(&uscc)).await;
        let rows = preview(&again);
        assert!(rows.iter().all(|r| r.1 == "有误"), "{}", again.text);
        assert!(
            rows[0].2.contains("本地区已有这个编号的合同"),
            "{}",
            rows[0].2
        );
        let done = admin.post_form(&batch, &[("mode", "valid")]).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
        let api = admin.get("/api/v1/contracts").await.json();
        assert_eq!(api["total"], 2);
        assert_eq!(
            count(&app, "SELECT COUNT(*) FROM contract_lines").await,
            lines_before
        );
        assert_eq!(count(&app, "SELECT COUNT(*) FROM contract_lines").await, 3);
    }
);

app_test!(an_agency_account_imports_no_contracts, |app| {
    let provider = agency(&app, "阳光社会工作服务中心", COUNTY).await;
    let mut manager = login(
        &app,
        "agency_mgr",
        Role::AgencyManager,
        COUNTY,
        Some(&provider),
    )
    .await;
    let (_, page) = upload(&mut manager, "/contracts/import", &contract_sheet("")).await;
    let rows = preview(&page);
    assert!(rows.iter().all(|r| r.1 == "有误"), "{}", page.text);
    assert!(rows[0].2.contains("只能由购买方办理"), "{}", rows[0].2);
});
