//! The resident roll import over HTTP (a 低保 list from another department): the template,
//! a preview naming the column of every problem, identity numbers already on file and likely
//! duplicates (against the register and earlier rows) skipped, categories registered with the
//! residents in one audited import.

use super::*;
use calamine::Reader;

/// Registered before the import.
const ON_FILE: &str = "43020319850101001X";
const WANG: &str = "430202196207150032";
const QIAN: &str = "43020219781111004X";

async fn register(c: &mut Client, fields: &[(&str, &str)]) {
    let res = c.post_form("/residents", fields).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
}

/// Upload a roll and follow the redirect to its preview (Post/Redirect/Get).
async fn upload_preview(c: &mut Client, csv: &str) -> Res {
    let res = c
        .upload(
            "/residents/import",
            &[],
            "file",
            "dibao.csv",
            csv.as_bytes(),
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let location = res.location().to_owned();
    c.get(&location).await
}

/// Where the preview's commit buttons post.
fn commit_path(preview: &Res) -> String {
    let html = preview.html();
    let sel = scraper::Selector::parse("form[action^='/residents/import/']").unwrap();
    html.select(&sel)
        .next()
        .expect("commit form")
        .value()
        .attr("action")
        .unwrap()
        .to_owned()
}

async fn count(app: &TestApp, sql: &'static str, bind: &str) -> i64 {
    let mut c = app.state.db.read().await.unwrap();
    shegong_store::sql::Sql::new(sql)
        .bind(bind)
        .fetch_i64(&mut c)
        .await
        .unwrap()
}

app_test!(resident_import_template_has_the_roll_columns, |app| {
    let mut admin = app.login_as(Role::CivilAffairsAdmin, "4302").await;
    let list = admin.get("/residents").await;
    assert!(
        list.text.contains("href=\"/residents/import\""),
        "the list links to the import"
    );
    let form = admin.get("/residents/import").await;
    assert_eq!(form.status, StatusCode::OK);
    assert_eq!(
        form.select("#template-link"),
        [String::from("下载导入模板")]
    );
    let res = admin.get("/residents/import/template.xlsx").await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.bytes.starts_with(b"PK"));
    let mut workbook =
        calamine::open_workbook_auto_from_rs(std::io::Cursor::new(res.bytes.clone())).unwrap();
    let data = workbook.worksheet_range("服务对象").unwrap();
    let header: Vec<String> = data
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(
        header,
        [
            "姓名 *",
            "证件号码",
            "性别",
            "出生日期",
            "民族",
            "所属县（市、区）",
            "居住地区划代码 *",
            "详细住址",
            "联系电话",
            "风险等级",
            "处理依据",
            "对象类别",
            "认定日期",
            "认定来源",
        ]
    );
    // The category column offers the catalogue as a dropdown.
    let notes = workbook.worksheet_range("填写说明").unwrap();
    let category = notes
        .rows()
        .find(|r| r.first().map(|c| c.to_string()) == Some("对象类别".into()))
        .expect("category row");
    assert!(
        category[2].to_string().contains("下拉列表"),
        "{:?}",
        category
    );
});

app_test!(
    resident_import_skips_numbers_on_file_and_likely_duplicates,
    |app| {
        let mut admin = app.login_as(Role::CivilAffairsAdmin, "4302").await;
        register(
            &mut admin,
            &[
                ("name", "张建国"),
                ("id_number", ON_FILE),
                ("region", "430202001"),
                ("risk_tier", "general"),
                ("legal_basis", "statutory_duty"),
            ],
        )
        .await;
        register(
            &mut admin,
            &[
                ("name", "李秀英"),
                ("birth_date", "1950-03-01"),
                ("region", "430202001"),
                ("risk_tier", "general"),
                ("legal_basis", "statutory_duty"),
            ],
        )
        .await;
        // A roll as another department keeps it: a title line, a sequence column, other headers.
        let csv = format!(
            "\u{feff}荷塘区月塘街道低保名册（2024 年 6 月）\r\n\
             序号,姓名,身份证号,性别,出生日期,民族,居住地,家庭住址,联系电话,风险等级,处理依据,救助类别,认定日期,认定来源\r\n\
             1,王丽,{WANG},,,汉族,430202002,幸福路 1 号,13812345678,重点,履行法定职责,低保户,2024-01-01,区民政局\r\n\
             2,赵敏,,女,1960-13-01,,月塘街道,,,一般,,低保,,\r\n\
             3,张三,{ON_FILE},,,,430202001,,,,,,,\r\n\
             4,李秀兰,,女,1950-03-01,,430202001,,,,,,,\r\n\
             5,钱多,{QIAN},,,,月塘街道,,,,,特困,,\r\n\
             6,钱朵,,,1978-11-11,,430202003,,,,,,,\r\n\
             7,孙红,{WANG},,,,430202001,,,,,,,\r\n\
             8,周平,,,1990-02-02,,430202001,,,,本人同意,,,\r\n\
             9,吴刚,,,1991-03-03,,430202001,,,,,五保,,\r\n"
        );
        let preview = upload_preview(&mut admin, &csv).await;
        let problems = preview.select("#preview tbody td:nth-child(4)");
        assert_eq!(
            preview.select("#preview tbody td:nth-child(3)"),
            [
                "新增", "有误", "有误", "有误", "新增", "有误", "有误", "有误", "有误"
            ],
            "{problems:?}"
        );
        // Every problem names its column.
        assert!(
            problems[1].starts_with("出生日期") && problems[1].contains("日期无法识别"),
            "{}",
            problems[1]
        );
        assert!(
            problems[2].starts_with("证件号码") && problems[2].contains("已有档案"),
            "{}",
            problems[2]
        );
        assert!(
            problems[3].starts_with("姓名")
                && problems[3].contains("李秀英")
                && problems[3].contains("姓名相近且出生日期相同")
                && problems[3].contains("逐个登记"),
            "{}",
            problems[3]
        );
        assert!(
            problems[5].starts_with("姓名") && problems[5].contains("与本表第 7 行可能是同一人"),
            "{}",
            problems[5]
        );
        assert!(
            problems[6].contains("与本表第 3 行的证件号码重复"),
            "{}",
            problems[6]
        );
        assert!(
            problems[7].starts_with("处理依据") && problems[7].contains("同意日期"),
            "{}",
            problems[7]
        );
        assert!(
            problems[8].starts_with("对象类别") && problems[8].contains("五保"),
            "{}",
            problems[8]
        );
        for secret in [ON_FILE, WANG, QIAN, "13812345678"] {
            assert!(
                !preview.text.contains(secret),
                "{secret} shown in the preview"
            );
        }

        // All or nothing: refused while rows are wrong.
        let action = commit_path(&preview);
        let refused = admin.post_form(&action, &[("mode", "all")]).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            count(&app, "SELECT COUNT(*) FROM residents WHERE name = ", "王丽").await,
            0
        );
        let done = admin.post_form(&action, &[("mode", "valid")]).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
        assert_eq!(
            done.location(),
            "/residents?created=2&updated=0&unchanged=0&skipped=7"
        );
        assert_eq!(admin.get(done.location()).await.status, StatusCode::OK);

        let api = admin.get("/api/v1/residents").await.json();
        assert_eq!(api["total"], 4, "{api}");
        let find = |name: &str| {
            api["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["name"] == name)
                .unwrap_or_else(|| panic!("{name} not registered"))
                .clone()
        };
        let wang = find("王丽");
        assert_eq!(wang["categories"], serde_json::json!(["dibao"]));
        assert_eq!(wang["risk_tier"], "key");
        assert_eq!(wang["legal_basis"], "statutory_duty");
        assert_eq!(wang["region_code"], "430202002");
        assert_eq!(wang["birth_date"], "1962-07-15");
        assert_eq!(wang["ethnicity"], "汉族");
        assert_eq!(wang["phone_masked"], "138****5678");
        let qian = find("钱多");
        assert_eq!(qian["categories"], serde_json::json!(["tekun"]));
        assert_eq!(qian["risk_tier"], "general");
        assert_eq!(qian["region_code"], "430202001");
        // The category's date and source as the roll gives them; today when it gives none.
        let wang_id = wang["id"].as_str().unwrap();
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM resident_memberships WHERE valid_from = '2024-01-01' AND source = '区民政局' AND resident_id = ",
                wang_id,
            )
            .await,
            1
        );
        let today = shegong_web::ui::forms::today(app.state.now());
        let qian_id = qian["id"].as_str().unwrap();
        assert_eq!(
            count(
                &app,
                // The store's builder takes fixed text only: this one is built, so it lives on.
                Box::leak(
                    format!(
                        "SELECT COUNT(*) FROM resident_memberships WHERE valid_from = '{today}' AND resident_id = "
                    )
                    .into_boxed_str()
                ),
                qian_id,
            )
            .await,
            1
        );
        // One audit entry for the import.
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM audit_log WHERE action = 'import' AND entity = ",
                "resident"
            )
            .await,
            1
        );

        // The same roll again registers no one twice.
        let again = upload_preview(&mut admin, &csv).await;
        let results = again.select("#preview tbody td:nth-child(3)");
        assert!(results.iter().all(|r| r == "有误"), "{results:?}");
        let problems = again.select("#preview tbody td:nth-child(4)");
        assert!(problems[0].contains("已有档案"), "{}", problems[0]);
        assert!(problems[4].contains("已有档案"), "{}", problems[4]);
    }
);

app_test!(
    an_imported_child_gets_its_category_though_the_file_is_protected,
    |app| {
        let mut admin = app.login_as(Role::CivilAffairsAdmin, "4302").await;
        let csv = "姓名,出生日期,居住地区划代码,对象类别\r\n小明,2020-05-01,430202001,困境儿童\r\n";
        let preview = upload_preview(&mut admin, csv).await;
        assert_eq!(preview.select("#preview tbody td:nth-child(3)"), ["新增"]);
        let done = admin
            .post_form(&commit_path(&preview), &[("mode", "all")])
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
        // A child's file is protected: not listed for an account without the grant.
        assert_eq!(admin.get("/api/v1/residents").await.json()["total"], 0);
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM resident_memberships m JOIN residents r ON r.id = m.resident_id \
                 WHERE m.category = 'child_in_difficulty' AND r.name = ",
                "小明",
            )
            .await,
            1
        );
    }
);

app_test!(
    a_county_column_tells_apart_townships_of_the_same_name,
    |app| {
        let mut admin = app.login_as(Role::CivilAffairsAdmin, "43").await;
        // 龙泉街道 is a township of 芦淞区, and of two other counties of 湖南.
        let csv = "姓名,出生日期,所属县（市、区）,乡镇（街道）,对象类别\r\n\
                   甲,1950-01-01,芦淞区,龙泉街道,特困\r\n\
                   乙,1950-01-02,,龙泉街道,特困\r\n\
                   丙,1950-01-03,芦淞区,430203007,特困\r\n";
        let preview = upload_preview(&mut admin, csv).await;
        assert_eq!(
            preview.select("#preview tbody td:nth-child(3)"),
            ["新增", "有误", "新增"],
            "{}",
            preview.text
        );
        let problems = preview.select("#preview tbody td:nth-child(4)");
        assert!(problems[1].contains("430203007"), "{}", problems[1]);
        let done = admin
            .post_form(&commit_path(&preview), &[("mode", "valid")])
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM residents WHERE region_code = ",
                "430203007",
            )
            .await,
            2
        );
    }
);

app_test!(
    a_roster_longer_than_a_check_chunk_is_decided_as_one_sheet,
    |app| {
        // More rows than the check takes at a time (5,000): a number repeated and a person
        // repeated across the chunk boundary are still found, as in one pass.
        let mut admin = app.login_as(Role::CivilAffairsAdmin, "43").await;
        let townships: Vec<(String,)> = {
            let mut c = app.state.db.read().await.unwrap();
            shegong_store::sql::Sql::new(
                "SELECT code FROM regions WHERE LENGTH(code) = 9 AND code LIKE '43%' ORDER BY code",
            )
            .fetch_all(&mut c)
            .await
            .unwrap()
        };
        assert!(townships.len() > 1_700, "{}", townships.len());
        // A few people per township, each with a surname of their own there (names alike need
        // the same first character or the same pinyin) and a birth date of their own.
        let surnames: Vec<char> = "王李张刘陈".chars().collect();
        let given: Vec<char> = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞".chars().collect();
        let first = chrono::NaiveDate::from_ymd_opt(1940, 1, 1).unwrap();
        let mut csv = String::from("姓名,身份证号码,出生日期,居住地区划代码\n");
        let mut people = Vec::new();
        for i in 0..5001 {
            let (township,) = &townships[i % townships.len()];
            let birth = first + chrono::Days::new(i as u64);
            let name: String = [
                surnames[i / townships.len()],
                given[i % given.len()],
                given[(i / given.len()) % given.len()],
            ]
            .into_iter()
            .collect();
            let body = format!(
                "{}{}{:03}",
                &township[..6],
                birth.format("%Y%m%d"),
                i % 1000
            );
            let check = shegong_domain::people::identity::check_character(&body).unwrap();
            let id = format!("{body}{check}");
            csv.push_str(&format!("{name},{id},{birth},{township}\n"));
            people.push((name, id, birth, township.clone()));
        }
        // Row 5,002 repeats the first row's number; row 5,003 is the second row's person again,
        // without a number.
        let (name, id, birth, village) = &people[0];
        csv.push_str(&format!("{name}甲,{id},{birth},{village}\n"));
        let (name, _, birth, village) = &people[1];
        csv.push_str(&format!("{name},,{birth},{village}\n"));
        let res = admin
            .upload("/residents/import", &[], "file", "名册.csv", csv.as_bytes())
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        let batch = res.location().to_owned();
        assert_eq!(admin.get(&batch).await.status, StatusCode::OK);
        for _ in 0..1200 {
            let report = admin.get(&format!("{batch}/progress")).await.json();
            if report["phase"] == "ready" {
                assert_eq!(report["checked"], 5003, "{report}");
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        // The page of a checked sheet opens only what it shows of it (its first rows), staged
        // beside the whole sheet: with the whole sheet unreadable, the page is still whole.
        {
            let mut tx = app.state.db.begin().await.unwrap();
            let id = batch.rsplit('/').next().unwrap();
            let sizes: (i64, i64) = shegong_store::sql::Sql::new(
                "SELECT LENGTH(content), LENGTH(shown) FROM import_batches WHERE id = ",
            )
            .bind(id)
            .fetch_one(&mut tx)
            .await
            .unwrap();
            assert!(sizes.1 * 20 < sizes.0, "{sizes:?}");
            sqlx::query("UPDATE import_batches SET content = $1 WHERE id = $2")
                .bind(b"not a sealed sheet".to_vec())
                .bind(id)
                .execute(&mut *tx)
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
        let preview = admin.get(&batch).await;
        assert_eq!(preview.status, StatusCode::OK, "{}", preview.text);
        let counts = preview.select("#import-counts .tag");
        assert_eq!(counts[0], "新增 5001", "{counts:?}");
        assert_eq!(counts[3], "有误 2", "{counts:?}");
        let problems = preview.select("#preview tbody td:nth-child(4)");
        // Sheet lines: the header is line 1, so the first two people are lines 2 and 3.
        assert!(
            problems
                .iter()
                .any(|p| p.contains("与本表第 2 行的证件号码重复")),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains("与本表第 3 行可能是同一人")),
            "{problems:?}"
        );
    }
);

/// A roster of `rows` people, one per township of 湖南 in turn, each with a birth date and a
/// name of their own: every row is valid. (name, identity number, birth date, township).
async fn distinct_people(app: &TestApp, rows: usize) -> Vec<(String, String, String, String)> {
    let townships: Vec<(String,)> = {
        let mut c = app.state.db.read().await.unwrap();
        shegong_store::sql::Sql::new(
            "SELECT code FROM regions WHERE LENGTH(code) = 9 AND code LIKE '43%' ORDER BY code",
        )
        .fetch_all(&mut c)
        .await
        .unwrap()
    };
    let surnames: Vec<char> = "王李张刘陈".chars().collect();
    let given: Vec<char> = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞".chars().collect();
    let first = chrono::NaiveDate::from_ymd_opt(1940, 1, 1).unwrap();
    (0..rows)
        .map(|i| {
            let (township,) = &townships[i % townships.len()];
            let birth = first + chrono::Days::new(i as u64);
            let name: String = [
                surnames[i / townships.len()],
                given[i % given.len()],
                given[(i / given.len()) % given.len()],
            ]
            .into_iter()
            .collect();
            let body = format!(
                "{}{}{:03}",
                &township[..6],
                birth.format("%Y%m%d"),
                i % 1000
            );
            let check = shegong_domain::people::identity::check_character(&body).unwrap();
            (
                name,
                format!("{body}{check}"),
                birth.to_string(),
                township.clone(),
            )
        })
        .collect()
}

/// Poll a background import until it reaches `phase`; its last report.
async fn wait_for(c: &mut Client, batch: &str, phase: &str) -> serde_json::Value {
    for _ in 0..1200 {
        let report = c.get(&format!("{batch}/progress")).await.json();
        if report["phase"] == phase {
            return report;
        }
        assert_ne!(report["phase"], "failed", "{report}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{batch} never reached {phase}");
}

app_test!(
    a_commit_checks_again_what_was_written_since_the_preview,
    |app| {
        // The commit reuses what the preview found against the register only while no resident
        // has been written since. Here two are, after the preview: one with the number of a
        // row, one the same person as another row (same name and birth date, no number).
        // Committing must refuse both rows as a fresh check would, and write the others.
        let mut admin = app.login_as(Role::CivilAffairsAdmin, "43").await;
        let people = distinct_people(&app, 2_101).await;
        let mut csv = String::from("姓名,身份证号码,出生日期,居住地区划代码\n");
        for (name, id, birth, township) in &people {
            csv.push_str(&format!("{name},{id},{birth},{township}\n"));
        }
        let res = admin
            .upload("/residents/import", &[], "file", "名册.csv", csv.as_bytes())
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        let batch = res.location().to_owned();
        assert_eq!(admin.get(&batch).await.status, StatusCode::OK);
        wait_for(&mut admin, &batch, "ready").await;
        let preview = admin.get(&batch).await;
        let counts = preview.select("#import-counts .tag");
        assert_eq!(counts[0], "新增 2101", "{counts:?}");

        let (_, id, _, township) = &people[10];
        register(
            &mut admin,
            &[
                ("name", "赵登记"),
                ("id_number", id),
                ("region", township),
                ("risk_tier", "general"),
                ("legal_basis", "statutory_duty"),
            ],
        )
        .await;
        let (name, _, birth, township) = &people[20];
        register(
            &mut admin,
            &[
                ("name", name),
                ("birth_date", birth),
                ("region", township),
                ("risk_tier", "general"),
                ("legal_basis", "statutory_duty"),
            ],
        )
        .await;

        let done = admin
            .post_form(&commit_path(&preview), &[("mode", "valid")])
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
        let report = wait_for(&mut admin, &batch, "done").await;
        assert_eq!(report["written"], 2099, "{report}");
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM residents WHERE birth_date = ",
                birth
            )
            .await,
            1
        );
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM residents WHERE created_by <> ",
                ""
            )
            .await,
            2101
        );
    }
);

app_test!(
    a_commit_after_an_unchanged_register_writes_what_the_preview_showed,
    |app| {
        // Nothing written between preview and commit: the commit writes exactly the rows the
        // preview called new, and refuses the one it called a duplicate in the file.
        let mut admin = app.login_as(Role::CivilAffairsAdmin, "43").await;
        let people = distinct_people(&app, 2_101).await;
        let mut csv = String::from("姓名,身份证号码,出生日期,居住地区划代码\n");
        for (name, id, birth, township) in &people {
            csv.push_str(&format!("{name},{id},{birth},{township}\n"));
        }
        let (name, _, birth, township) = &people[5];
        csv.push_str(&format!("{name},,{birth},{township}\n"));
        let res = admin
            .upload("/residents/import", &[], "file", "名册.csv", csv.as_bytes())
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        let batch = res.location().to_owned();
        assert_eq!(admin.get(&batch).await.status, StatusCode::OK);
        wait_for(&mut admin, &batch, "ready").await;
        let preview = admin.get(&batch).await;
        let counts = preview.select("#import-counts .tag");
        assert_eq!(counts[0], "新增 2101", "{counts:?}");
        assert_eq!(counts[3], "有误 1", "{counts:?}");
        let done = admin
            .post_form(&commit_path(&preview), &[("mode", "valid")])
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
        let report = wait_for(&mut admin, &batch, "done").await;
        assert_eq!(report["written"], 2101, "{report}");
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM residents WHERE birth_date = ",
                birth
            )
            .await,
            1
        );
    }
);
