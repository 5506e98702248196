//! The workforce over HTTP: identity numbers validated, sealed at rest, masked everywhere,
//! revealed only with a permission and a reason (audited); certificates, training, supervision,
//! statistics; scope.

use super::*;

const ID: &str = "11010519491231002X";
const MOBILE: &str = "13812345678";

fn person<'a>(name: &'a str, id: &'a str, station: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("id_type", "resident_id"),
        ("id_number", id),
        ("mobile", MOBILE),
        ("education", "bachelor"),
        ("role", "frontline"),
        ("employment_mode", "project_purchase"),
        ("sector", "civil_affairs"),
        ("station", station),
        ("region", if station.is_empty() { "430203001" } else { "" }),
        ("joined_on", "2023-03-01"),
    ]
}

async fn add(c: &mut Client, name: &str, id: &str) -> String {
    let res = c.post_form("/staff", &person(name, id, "")).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    res.location()
        .trim_start_matches("/staff/")
        .split('?')
        .next()
        .unwrap()
        .to_owned()
}

/// Every byte the database keeps: the SQLite file and its WAL, or a full pg_dump.
fn stored_bytes(app: &TestApp) -> Vec<u8> {
    match app.state.db.sqlite_path() {
        Some(path) => {
            let mut all = std::fs::read(path).unwrap();
            for suffix in ["-wal", "-shm"] {
                if let Ok(b) = std::fs::read(format!("{}{suffix}", path.display())) {
                    all.extend(b);
                }
            }
            all
        }
        None => {
            let bin = std::fs::read_dir("/usr/lib/postgresql")
                .ok()
                .and_then(|d| {
                    d.filter_map(|e| e.ok())
                        .map(|e| e.path().join("bin/pg_dump"))
                        .find(|p| p.exists())
                })
                .unwrap_or_else(|| "pg_dump".into());
            let out = std::process::Command::new(bin)
                .arg("--no-owner")
                .arg(&app.db.url)
                .output()
                .expect("pg_dump runs");
            assert!(
                out.status.success(),
                "pg_dump failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(out.stdout.len() > 10_000, "the dump has the data");
            out.stdout
        }
    }
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

app_test!(identity_numbers_are_never_stored_in_clear, |app| {
    let mut admin = app.login_as(Role::CivilAffairsAdmin, "4302").await;
    let id = add(&mut admin, "王丽", ID).await;
    let page = admin.get(&format!("/staff/{id}")).await;
    assert_eq!(page.select("#id-number"), ["1101**********002X"]);
    assert_eq!(page.select("#mobile"), ["138****5678"]);
    // Reveal once so the audit log has an entry too; then look at every stored byte.
    let revealed = admin
        .post_form(
            &format!("/staff/{id}/reveal"),
            &[("reason", "核对社保信息")],
        )
        .await;
    assert!(revealed.select("#id-number")[0].contains(ID));
    let bytes = stored_bytes(&app);
    assert!(contains(&bytes, "王丽"), "the scan sees stored text");
    for secret in [ID, MOBILE, "110105194912310", "8613812345678"] {
        assert!(
            !contains(&bytes, secret),
            "{secret} found in clear in the {:?} database",
            app.state.db.backend()
        );
    }
});

app_test!(a_wrong_check_character_is_refused_naming_the_field, |app| {
    let mut admin = app.login_as(Role::CivilAffairsAdmin, "4302").await;
    let res = admin
        .post_form("/staff", &person("张三", "340524198001010013", ""))
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        res.select("#id_number-error"),
        ["证件号码校验不通过：最后一位校验码与前17位不符，请逐位核对是否有输错的数字。"]
    );
    assert!(
        !res.text.contains("340524198001010013"),
        "the number is not echoed back into the page"
    );
    assert!(res.text.contains("value=\"张三\""), "other input is kept");
    let token = admin.csrf().await;
    let body = serde_json::json!({"name": "张三", "id_type": "resident_id", "id_number": "340524198001010013", "role": "frontline", "employment_mode": "direct", "region_code": "430203001", "joined_on": "2024-01-01"}).to_string();
    let api = admin
        .send(
            Method::POST,
            "/api/v1/staff",
            Some(("application/json", body)),
            &[("x-csrf-token", &token), ("accept-language", "en")],
        )
        .await;
    assert_eq!(api.status, StatusCode::UNPROCESSABLE_ENTITY);
    let p = api.json();
    assert_eq!(p["errors"][0]["field"], "id_number");
    assert_eq!(p["errors"][0]["code"], "idcard.check_digit");
    // A legacy 15-digit number is accepted and stored as 18 digits; a second registration of
    // the same person is refused.
    let id = add(&mut admin, "李四", "440524800101001").await;
    let page = admin.get(&format!("/staff/{id}")).await;
    assert_eq!(page.select("#id-number"), ["4405**********0013"]);
    let dup = admin
        .post_form("/staff", &person("李四", "440524198001010013", ""))
        .await;
    assert_eq!(dup.select("#id_number-error"), ["该证件号码已登记。"]);
});

app_test!(
    reveals_need_permission_and_a_reason_and_are_audited,
    |app| {
        let mut admin = app.login_as(Role::CivilAffairsAdmin, "4302").await;
        let id = add(&mut admin, "王丽", ID).await;
        // No reason: refused, nothing shown.
        let res = admin
            .post_form(&format!("/staff/{id}/reveal"), &[("reason", "")])
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(res.select("#id-number"), ["1101**********002X"]);
        // An evaluator reads the record but cannot reveal.
        let mut evaluator = app.login_as(Role::Evaluator, "4302").await;
        assert_eq!(
            evaluator.get(&format!("/staff/{id}")).await.status,
            StatusCode::OK
        );
        let res = evaluator
            .post_form(&format!("/staff/{id}/reveal"), &[("reason", "想看看")])
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        // Masked in the API and the export.
        let api = admin.get("/api/v1/staff").await.json();
        assert_eq!(api["items"][0]["id_number"], "1101**********002X");
        assert_eq!(api["items"][0]["mobile"], "138****5678");
        assert!(!api.to_string().contains(ID));
        let xlsx = admin.get("/staff/export.xlsx").await;
        assert!(xlsx.bytes.starts_with(b"PK"));
        // The reveal through the API, with its reason in the audit log.
        let token = admin.csrf().await;
        let res = admin
            .send(
                Method::POST,
                &format!("/api/v1/staff/{id}/reveal"),
                Some(("application/json", r#"{"reason":"核对社保信息"}"#.into())),
                &[("x-csrf-token", &token)],
            )
            .await;
        assert_eq!(res.json()["id_number"], ID);
        assert_eq!(res.json()["mobile"], MOBILE);
        let mut auditor = app.login_as(Role::Auditor, "4302").await;
        let log = auditor.get("/api/v1/audit?action=reveal").await.json();
        assert_eq!(log["total"], 1);
        assert!(
            log["items"][0]["changes"]
                .to_string()
                .contains("核对社保信息")
        );
        let denied = auditor
            .get("/api/v1/audit?action=permission_denied")
            .await
            .json();
        assert_eq!(denied["total"], 1, "the evaluator's attempt is recorded");
        // Nothing in any audit entry shows the number.
        let all = auditor.get("/api/v1/audit?per_page=200").await.text;
        assert!(!all.contains(ID) && !all.contains(MOBILE));
    }
);

app_test!(finding_by_number_is_a_post_and_scoped, |app| {
    let mut admin = app.login_as(Role::CivilAffairsAdmin, "430203").await;
    let id = add(&mut admin, "王丽", ID).await;
    let res = admin
        .post_form("/staff/find", &[("id_number", "11010519491231002x")])
        .await;
    assert_eq!(res.location(), format!("/staff/{id}"));
    let mut other = app.login_as(Role::CivilAffairsAdmin, "430202").await;
    let res = other.post_form("/staff/find", &[("id_number", ID)]).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(
        other.get(&format!("/staff/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        other.get(&format!("/api/v1/staff/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(other.get("/api/v1/staff").await.json()["total"], 0);
});

app_test!(certificates_training_and_the_staffing_rule, |app| {
    let mut admin = app.login_as(Role::CivilAffairsAdmin, "4302").await;
    // A station with one social worker is below the default rule of 2.
    let res = admin
        .post_form(
            "/stations",
            &[
                ("tier", "township_station"),
                ("region", "430203001"),
                ("name", "贺家土站"),
                ("status", "operating"),
                ("status_since", "2024-01-01"),
                ("mode", "direct"),
            ],
        )
        .await;
    let station = res
        .location()
        .trim_start_matches("/stations/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let res = admin
        .post_form("/staff", &person("王丽", ID, &station))
        .await;
    let id = res
        .location()
        .trim_start_matches("/staff/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    // Dates relative to today, so the registration cycle is the current one.
    let today = chrono::Utc::now().date_naive();
    let obtained = (today - chrono::Duration::days(200)).to_string();
    let trained = (today - chrono::Duration::days(100)).to_string();
    let until = shegong_domain::workforce::registration_until(today - chrono::Duration::days(200))
        .to_string();
    let res = admin
        .post_form(
            &format!("/staff/{id}/certificates"),
            &[
                ("level", "assistant"),
                ("number", "Z2023-001"),
                ("obtained_on", &obtained),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    for (course, hours) in [("个案管理", "24"), ("督导实务", "12.5")] {
        let res = admin
            .post_form(
                &format!("/staff/{id}/trainings"),
                &[
                    ("course", course),
                    ("provider", "省社工协会"),
                    ("hours", hours),
                    ("held_on", &trained),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    }
    let bad = admin
        .post_form(
            &format!("/staff/{id}/trainings"),
            &[
                ("course", "x"),
                ("hours", "1.25"),
                ("held_on", "2024-05-10"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = admin.get(&format!("/staff/{id}")).await;
    let ce = &page.select("#ce-status")[0];
    assert!(ce.contains("36.5 / 72"), "{ce}");
    assert!(ce.contains("未达标"), "{ce}");
    assert!(
        page.select("#certificates td")
            .iter()
            .any(|c| c.contains(&until)),
        "registration runs 3 years"
    );
    // The station's headcounts follow the records.
    let st = admin
        .get(&format!("/api/v1/stations/{station}"))
        .await
        .json();
    assert_eq!(
        (st["staff_count"].as_i64(), st["certified_count"].as_i64()),
        (Some(1), Some(1))
    );
    let stats = admin.get("/workforce/430203").await;
    assert_eq!(stats.select("#understaffed-count"), ["1"]);
    assert!(
        stats
            .select("#understaffed td")
            .iter()
            .any(|c| c == "贺家土站")
    );
    // Lowering the county's rule to 1 clears the flag.
    let res = admin
        .post_form(
            "/workforce/rule",
            &[("region", "430203"), ("min_social_workers", "1")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(
        admin
            .get("/workforce/430203")
            .await
            .select("#understaffed-count"),
        ["0"]
    );
    // The nearest rule up the tree wins: a stricter city rule leaves the county's own in force.
    let res = admin
        .post_form(
            "/workforce/rule",
            &[("region", "4302"), ("min_social_workers", "3")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(
        admin
            .get("/workforce/4302")
            .await
            .select("#understaffed-count"),
        ["0"]
    );
    // The national view: every province, this worker counted under 湖南省.
    let mut national = app.login_as(Role::CivilAffairsAdmin, "CN").await;
    let country = national.get("/workforce").await;
    assert_eq!(country.status, StatusCode::OK);
    assert!(
        country.text.contains("全国"),
        "titled for the whole country"
    );
    let names = country.select("#workforce tbody td:nth-child(1)");
    assert_eq!(names.len(), 31, "one row per province (mainland, NBS)");
    let workers = country.select("#workforce tbody td:nth-child(3)");
    let hunan = names
        .iter()
        .position(|n| n == "湖南省")
        .expect("湖南省 row");
    assert_eq!(workers[hunan], "1");
    assert_eq!(workers.iter().filter(|w| *w != "0").count(), 1);
    assert!(country.select("form[action='/workforce/rule']").is_empty());
    // A region user has no national view: the page shows its own region.
    assert!(admin.get("/workforce").await.text.contains("株洲市"));
    // Supervision: a pair and a session.
    let sup = add(&mut admin, "督导甲", "440524188001010014").await;
    let res = admin
        .post_form(
            "/supervision/pairs",
            &[
                ("supervisor", &sup),
                ("supervisee", &id),
                ("from_date", "2024-01-01"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let pairs = admin.get("/api/v1/supervision").await.json();
    let pair = pairs[0]["pair_id"].as_str().unwrap().to_owned();
    let res = admin
        .post_form(
            &format!("/supervision/pairs/{pair}/sessions"),
            &[
                ("held_on", "2024-03-02"),
                ("hours", "2"),
                ("topics", "个案评估"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let pairs = admin.get("/api/v1/supervision").await.json();
    assert_eq!(pairs[0]["total_hours"], 2.0);
    let same = admin
        .post_form(
            "/supervision/pairs",
            &[("supervisor", &id), ("supervisee", &id)],
        )
        .await;
    assert_eq!(same.status, StatusCode::UNPROCESSABLE_ENTITY);
    // A start date that is no date is refused by name, not stored as text.
    let bad = admin
        .post_form(
            "/supervision/pairs",
            &[
                ("supervisor", &sup),
                ("supervisee", &id),
                ("from_date", "0000-01-01"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text.contains("起始日期"), "{}", bad.text);
    let pairs = admin.get("/api/v1/supervision").await.json();
    assert_eq!(pairs.as_array().unwrap().len(), 1);
    let trainings = admin
        .get(&format!("/api/v1/trainings?staff_id={id}"))
        .await
        .json();
    assert_eq!(trainings.as_array().unwrap().len(), 2);
});

app_test!(
    staff_import_finds_duplicate_numbers_and_never_shows_them,
    |app| {
        let mut admin = app.login_as(Role::CivilAffairsAdmin, "4302").await;
        add(&mut admin, "王丽", ID).await;
        // A roster from another department: CSV with a title line, synonyms, a duplicate number
        // inside the file, the already registered person, and a wrong check character.
        let csv = "\u{feff}芦淞区社工花名册\r\n姓名,身份证号,岗位,用工方式,入职日期,所在乡镇,证书等级,取证日期\r\n\
               王丽,11010519491231002x,一线社工,项目购买,2023-03-01,贺家土街道,,\r\n\
               赵敏,440524188001010014,站长,直接聘用,2022-01-10,芦淞区建设街道,助理社会工作师,2024-06-01\r\n\
               赵敏二,440524188001010014,一线社工,直接聘用,2022-01-10,建设街道,,\r\n\
               钱多,340524198001010013,一线社工,直接聘用,2022-01-10,建设街道,,\r\n";
        let res = admin
            .upload("/staff/import", &[], "file", "roster.csv", csv.as_bytes())
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        let location = res.location().to_owned();
        let preview = admin.get(&location).await;
        let problems0 = preview.select("#preview tbody td:nth-child(4)");
        assert_eq!(
            preview.select("#preview tbody td:nth-child(3)"),
            ["无变化", "新增", "有误", "有误"],
            "{problems0:?}"
        );
        let problems = preview.select("#preview tbody td:nth-child(4)");
        assert!(
            problems[2].contains("与本表第 4 行的证件号码重复"),
            "{}",
            problems[2]
        );
        assert!(problems[3].contains("校验"), "{}", problems[3]);
        for n in [ID, "440524188001010014", "340524198001010013"] {
            assert!(!preview.text.contains(n), "{n} shown in the preview");
        }
        // The staged file is sealed too: nothing in clear anywhere in the database.
        let html = preview.html();
        let sel = scraper::Selector::parse("form[action^='/staff/import/']").unwrap();
        let action = html
            .select(&sel)
            .next()
            .unwrap()
            .value()
            .attr("action")
            .unwrap()
            .to_owned();
        let done = admin.post_form(&action, &[("mode", "valid")]).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
        let list = admin.get(done.location()).await;
        assert!(list.select("#import-summary").is_empty() || !list.text.contains(ID));
        let api = admin.get("/api/v1/staff").await.json();
        assert_eq!(api["total"], 2);
        let zhao = api["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "赵敏")
            .unwrap();
        assert_eq!(zhao["certificate"], "assistant");
        assert_eq!(zhao["role"], "station_head");
        // Committing the same batch again is explained, not a 404.
        let again = admin.post_form(&action, &[("mode", "valid")]).await;
        assert_eq!(again.status, StatusCode::GONE);
        assert!(again.text.contains("这批导入已经完成"));
        // Importing the same roster again changes nothing.
        let res = admin
            .upload("/staff/import", &[], "file", "roster.csv", csv.as_bytes())
            .await;
        let preview = admin.get(res.location()).await;
        assert_eq!(
            preview.select("#preview tbody td:nth-child(3)"),
            ["无变化", "无变化", "有误", "有误"]
        );
    }
);

app_test!(staff_import_keeps_what_the_sheet_does_not_say, |app| {
    let mut admin = app.login_as(Role::CivilAffairsAdmin, "4302").await;
    let mut form = person("王丽", ID, "");
    form.retain(|(k, _)| *k != "sector");
    form.extend([
        ("sector", "justice"),
        ("major", "社会工作"),
        ("left_on", "2024-06-30"),
        ("left_reason", "调动"),
    ]);
    let res = admin.post_form("/staff", &form).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let id = res
        .location()
        .trim_start_matches("/staff/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    // Same person, new role and mobile; no education, sector or leaving columns.
    let csv = "姓名,身份证号,岗位,用工方式,入职日期,所在乡镇,手机号码\r\n\
               王丽,11010519491231002X,站长,项目购买,2023-03-01,贺家土街道,13900001111\r\n";
    let res = admin
        .upload("/staff/import", &[], "file", "roster.csv", csv.as_bytes())
        .await;
    let preview = admin.get(res.location()).await;
    assert_eq!(preview.select("#preview tbody td:nth-child(3)"), ["更新"]);
    let html = preview.html();
    let sel = scraper::Selector::parse("form[action^='/staff/import/']").unwrap();
    let action = html
        .select(&sel)
        .next()
        .unwrap()
        .value()
        .attr("action")
        .unwrap()
        .to_owned();
    let done = admin.post_form(&action, &[("mode", "valid")]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
    let p = admin.get(&format!("/api/v1/staff/{id}")).await.json();
    assert_eq!(p["role"], "station_head");
    assert_eq!(p["mobile"], "139****1111");
    assert_eq!(p["education"], "bachelor");
    assert_eq!(p["sector"], "justice");
    assert_eq!(p["left_on"], "2024-06-30");
    let page = admin.get(&format!("/staff/{id}")).await;
    assert!(page.text.contains("社会工作"), "major kept");
    // A sheet that only repeats the same values is no change at all.
    let res = admin
        .upload("/staff/import", &[], "file", "roster.csv", csv.as_bytes())
        .await;
    let preview = admin.get(res.location()).await;
    assert_eq!(preview.select("#preview tbody td:nth-child(3)"), ["无变化"]);
});

app_test!(staff_lists_sort_as_asked, |app| {
    let mut admin = app.login_as(Role::CivilAffairsAdmin, "4302").await;
    for (name, id, joined) in [
        ("早入职", ID, "2021-01-04"),
        ("晚入职", "440524188001010014", "2024-05-06"),
        ("中入职", "43020319850101001X", "2022-07-01"),
    ] {
        let mut form = person(name, id, "");
        form.retain(|(k, _)| *k != "joined_on");
        form.push(("joined_on", joined));
        let res = admin.post_form("/staff", &form).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    }
    let names = |v: serde_json::Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let joined = admin.get("/api/v1/staff?sort=joined").await.json();
    assert_eq!(names(joined), ["晚入职", "中入职", "早入职"]);
    // The page keeps the choice in its filter form and its pager links.
    let page = admin.get("/staff?sort=joined&per_page=2").await;
    assert_eq!(
        page.select("#staff th[aria-sort=descending] a"),
        ["入职日期"]
    );
    assert!(
        page.text.contains("sort=joined"),
        "pager links keep the sort"
    );
});

/// `POST /api/v1/staff` with a JSON body.
async fn api_create(c: &mut Client, body: serde_json::Value) -> Res {
    let token = c.csrf().await;
    c.send(
        Method::POST,
        "/api/v1/staff",
        Some(("application/json", body.to_string())),
        &[("x-csrf-token", &token)],
    )
    .await
}

app_test!(staff_codes_and_dates_read_as_entered, |app| {
    let mut admin = app.login_as(Role::CivilAffairsAdmin, "4302").await;
    // Unknown codes and an impossible date: each field named, in the form's order.
    let bad = api_create(
        &mut admin,
        serde_json::json!({
        "name": "张三", "id_type": "resident_id", "id_number": ID, "sex": "x",
        "education": "phd", "role": "boss", "employment_mode": "gig",
        "region_code": "430203001", "joined_on": "2024-02-30"}),
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
    let errors: Vec<(String, String)> = bad.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_owned(),
                e["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("sex", "person.sex_unknown"),
        ("education", "staff.education_unknown"),
        ("role", "staff.role_unknown"),
        ("employment_mode", "staff.employment_unknown"),
        ("joined_on", "date.invalid"),
    ];
    assert_eq!(
        errors,
        expected.map(|(f, c)| (f.to_owned(), c.to_owned())),
        "{}",
        bad.text
    );
    // Valid: dates and codes come back as the same text.
    let res = api_create(
        &mut admin,
        serde_json::json!({
        "name": "张三", "id_type": "resident_id", "id_number": ID, "sex": "female",
        "birth_date": "1949-12-31", "education": "master", "role": "supervisor",
        "employment_mode": "position_purchase", "sector": "justice",
        "region_code": "430203001", "joined_on": "2024-01-05"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let p = res.json();
    assert_eq!(p["birth_date"], "1949-12-31");
    assert_eq!(p["joined_on"], "2024-01-05");
    assert_eq!(p["left_on"], serde_json::Value::Null);
    assert_eq!(
        (&p["sex"], &p["education"], &p["role"]),
        (&"female".into(), &"master".into(), &"supervisor".into())
    );
    assert_eq!(
        (&p["employment_mode"], &p["sector"], &p["status"]),
        (
            &"position_purchase".into(),
            &"justice".into(),
            &"active".into()
        )
    );
    let id = p["id"].as_str().unwrap().to_owned();
    let page = admin.get(&format!("/staff/{id}")).await;
    assert!(page.text.contains("1949-12-31"), "birth date shown");
    // A leaving date before joining is refused on the form; a later one is kept as entered.
    let edit = |left: &'static str| {
        let mut form = person("张三", "", "");
        form.retain(|(k, _)| !matches!(*k, "joined_on" | "mobile"));
        form.extend([("joined_on", "2024-01-05"), ("left_on", left)]);
        form
    };
    let early = admin
        .post_form(&format!("/staff/{id}"), &edit("2023-12-31"))
        .await;
    assert_eq!(early.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(early.select("#left_on-error").len(), 1, "{}", early.text);
    let later = admin
        .post_form(&format!("/staff/{id}"), &edit("2024-06-30"))
        .await;
    assert_eq!(later.status, StatusCode::SEE_OTHER, "{}", later.text);
    let p = admin.get(&format!("/api/v1/staff/{id}")).await.json();
    assert_eq!(
        (&p["left_on"], &p["status"]),
        (&"2024-06-30".into(), &"left".into())
    );
    let page = admin.get(&format!("/staff/{id}")).await;
    assert!(
        page.text.contains("2024-01-05 — 2024-06-30"),
        "{}",
        page.text
    );
});

// Issue 18 (walkthrough): a refused new-staff form keeps the identity number the user typed
// (sealed in the form, shown masked, never in clear), so it need not be typed again; a number
// the error is about is not kept.
app_test!(
    a_refused_staff_form_keeps_the_identity_number_without_echoing_it,
    |app| {
        let mut admin = app.login_as(Role::CivilAffairsAdmin, "4302").await;
        let mut fields = person("王丽", ID, "");
        fields.retain(|(k, _)| *k != "joined_on");
        let res = admin.post_form("/staff", &fields).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
        assert!(!res.select("#joined_on-error").is_empty(), "{}", res.text);
        assert!(
            !res.text.contains(ID) && !res.text.contains("110105194912310"),
            "echoed: {}",
            res.text
        );
        assert!(
            res.text.contains("placeholder=\"1101**********002X\""),
            "{}",
            res.text
        );
        assert!(res.select("#id_number-hint")[0].contains("无需重新输入"));
        let html = res.html();
        let sel = scraper::Selector::parse("input[name=id_kept]").unwrap();
        let kept = html
            .select(&sel)
            .next()
            .and_then(|e| e.value().attr("value"))
            .unwrap_or_else(|| panic!("no kept number: {}", res.text))
            .to_owned();
        // Resubmitted with the field blank and the date given: the kept number is the record's.
        let mut again = person("王丽", "", "");
        again.push(("id_kept", &kept));
        let res = admin.post_form("/staff", &again).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        let id = res
            .location()
            .trim_start_matches("/staff/")
            .split('?')
            .next()
            .unwrap()
            .to_owned();
        let page = admin.get(&format!("/staff/{id}")).await;
        assert_eq!(page.select("#id-number"), ["1101**********002X"]);
        // A tampered kept value is no number: the field is required again.
        let mut forged = person("李四", "", "");
        forged.push(("id_kept", "v1:0:00"));
        let res = admin.post_form("/staff", &forged).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(!res.select("#id_number-error").is_empty(), "{}", res.text);
        // A wrong number is not kept: it must be corrected.
        let res = admin
            .post_form("/staff", &person("张三", "340524198001010013", ""))
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(!res.text.contains("name=\"id_kept\""), "{}", res.text);
    }
);

// Issue 18 (walkthrough): supervision is set up by managers and supervisors. A social worker
// is refused (403, nothing stored) and is not offered the form; a supervisor may.
app_test!(social_workers_do_not_create_supervision_pairs, |app| {
    let mut admin = app.login_as(Role::CivilAffairsAdmin, "4302").await;
    let sup = add(&mut admin, "督导甲", "440524188001010014").await;
    let worker_staff = add(&mut admin, "王丽", ID).await;
    let pair = [
        ("supervisor", sup.as_str()),
        ("supervisee", worker_staff.as_str()),
        ("from_date", "2024-01-01"),
    ];
    let mut worker = app.login_as(Role::SocialWorker, "4302").await;
    let page = worker.get("/supervision").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.select("#pair-form").is_empty(), "{}", page.text);
    let res = worker.post_form("/supervision/pairs", &pair).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text);
    assert_eq!(
        admin
            .get("/api/v1/supervision")
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        0
    );
    let mut supervisor = app.login_as(Role::Supervisor, "4302").await;
    assert_eq!(
        supervisor
            .get("/supervision")
            .await
            .select("#pair-form")
            .len(),
        1
    );
    let res = supervisor.post_form("/supervision/pairs", &pair).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    assert_eq!(
        admin
            .get("/api/v1/supervision")
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
});

// Issue 18 (walkthrough): no raw message keys in the staff export's headers, and the English
// menu is English ("Supervision & 三区计划" was half Chinese).
app_test!(exports_and_menus_show_no_raw_keys, |app| {
    let mut admin = app.login_as(Role::CivilAffairsAdmin, "4302").await;
    add(&mut admin, "王丽", ID).await;
    let xlsx = admin.get("/staff/export.xlsx").await;
    assert_eq!(xlsx.status, StatusCode::OK);
    let text = xlsx_text(&xlsx.bytes);
    assert!(text.contains("学历"), "{text}");
    assert!(!text.contains("staff."), "a raw key in the export: {text}");
    admin.headers.push(("accept-language".into(), "en".into()));
    let page = admin.get("/supervision").await;
    assert_eq!(page.status, StatusCode::OK);
    let menu = page.select("nav a").join(" | ");
    assert!(
        menu.contains("Supervision & Three Regions Programme"),
        "{menu}"
    );
    assert!(!menu.contains("三区计划"), "{menu}");
    let xlsx = admin.get("/staff/export.xlsx").await;
    let text = xlsx_text(&xlsx.bytes);
    assert!(
        text.contains("Education") && !text.contains("staff."),
        "{text}"
    );
});
