//! The volunteer roster import over HTTP (issue 15 item 5): a roster as a community keeps it,
//! each problem named by its column (a minor without consent, a number repeated in the file, a
//! person registered in another township, an unknown team), identity numbers never shown, the
//! valid rows registered with their team in one audited import, and the same roster again
//! registering no one twice.

use super::fixtures::send_json;
use super::*;

fn id_number(birth: &str, seq: u32) -> String {
    let body = format!("430202{birth}{seq:03}");
    let check = shegong_domain::people::identity::check_character(&body).unwrap();
    format!("{body}{check}")
}

async fn upload_preview(c: &mut Client, csv: &str) -> Res {
    let res = c
        .upload(
            "/volunteers/import",
            &[],
            "file",
            "roster.csv",
            csv.as_bytes(),
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let location = res.location().to_owned();
    c.get(&location).await
}

fn commit_path(preview: &Res) -> String {
    let html = preview.html();
    let sel = scraper::Selector::parse("form[action^='/volunteers/import/']").unwrap();
    html.select(&sel)
        .next()
        .expect("commit form")
        .value()
        .attr("action")
        .unwrap()
        .to_owned()
}

app_test!(a_volunteer_roster_is_imported_once_with_its_team, |app| {
    let mut admin = app.login_as(Role::CivilAffairsAdmin, "430202001").await;
    let org = super::fixtures::agency(&app, "月塘社工服务中心", "430202").await;
    // One township station per township (issue 18): the team is hosted by the same station.
    let st = super::fixtures::station(&app, "430202001", "月塘街道社工站", &org).await;
    let res = send_json(
        &mut admin,
        Method::POST,
        "/api/v1/volunteer-teams",
        serde_json::json!({"name": "月塘助老志愿服务队", "region_code": "430202001", "station_id": st}),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    // Registered in another township by its own administrator.
    let elsewhere = id_number("19880808", 9);
    let mut other = app.login_as(Role::CivilAffairsAdmin, "430202002").await;
    let res = send_json(
        &mut other,
        Method::POST,
        "/api/v1/volunteers",
        serde_json::json!({"name": "周平", "id_number": elsewhere, "region": "430202002"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);

    let (a, b, kid) = (
        id_number("19900307", 2),
        id_number("19851010", 3),
        id_number("20150101", 4),
    );
    let csv = format!(
        "\u{feff}月塘街道志愿者花名册\r\n\
         序号,志愿者姓名,身份证号,手机,所属社工站,服务技能,服务意向,所属队伍,监护人\r\n\
         1, 刘思雨 ,{a},13873312345,月塘街道社工站,养老照护、心理疏导,助老,月塘助老志愿服务队,\r\n\
         2,陈家豪,{b},,月塘街道社工站,助学辅导,,,\r\n\
         3,王小明,{kid},,月塘街道社工站,,,,\r\n\
         4,刘思语,{a},,月塘街道社工站,,,,\r\n\
         5,周平,{elsewhere},,月塘街道社工站,,,,\r\n\
         6,李华,{c},,月塘街道社工站,,,不存在的队,\r\n",
        c = id_number("19910506", 5),
    );
    let preview = upload_preview(&mut admin, &csv).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.text);
    let results = preview.select("#preview tbody td:nth-child(3)");
    let problems = preview.select("#preview tbody td:nth-child(4)");
    assert_eq!(
        results,
        ["新增", "新增", "有误", "有误", "有误", "有误"],
        "{problems:?}"
    );
    assert!(problems[2].contains("监护人"), "{}", problems[2]);
    assert!(
        problems[3].contains("与本表第 3 行的证件号码重复"),
        "{}",
        problems[3]
    );
    assert!(
        problems[4].starts_with("证件号码") && problems[4].contains("已登记为志愿者"),
        "{}",
        problems[4]
    );
    assert!(
        problems[5].starts_with("志愿服务队") && problems[5].contains("不存在的队"),
        "{}",
        problems[5]
    );
    for secret in [a.as_str(), &b, &kid, &elsewhere, "13873312345"] {
        assert!(
            !preview.text.contains(secret),
            "{secret} shown in the preview"
        );
    }
    let done = admin
        .post_form(&commit_path(&preview), &[("mode", "valid")])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
    assert_eq!(
        done.location(),
        "/volunteers?created=2&updated=0&unchanged=0&skipped=4"
    );
    let list = admin.get("/api/v1/volunteers").await.json();
    assert_eq!(list["total"], 2, "{list}");
    let liu = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "刘思雨")
        .unwrap()
        .clone();
    assert_eq!(liu["skills"], serde_json::json!(["养老照护", "心理疏导"]));
    assert_eq!(liu["mobile_masked"], "138****2345");
    let teams = admin.get("/api/v1/volunteer-teams").await.json();
    assert_eq!(teams["items"][0]["members"], 1, "{teams}");

    // The same roster again: the two registered are left as they are, nobody twice.
    let again = upload_preview(&mut admin, &csv).await;
    let results = again.select("#preview tbody td:nth-child(3)");
    assert_eq!(
        &results[..2],
        ["无变化", "无变化"],
        "{:?}",
        again.select("#preview tbody td:nth-child(4)")
    );
    assert_eq!(
        super::fixtures::count(&app, "SELECT COUNT(*) FROM volunteers").await,
        3
    );
});

app_test!(a_team_roster_is_imported_once, |app| {
    let mut admin = app.login_as(Role::CivilAffairsAdmin, "430202").await;
    let org = super::fixtures::agency(&app, "月塘社工服务中心", "430202").await;
    super::fixtures::station(&app, "430202001", "月塘街道社工站", &org).await;
    let csv = "\u{feff}队伍名称,所在乡镇（街道）,登记情况,统一社会信用代码,联络社工站\r\n\
               月塘助老志愿服务队,月塘街道,已登记,51430203MJJ000000X,\r\n\
               月塘邻里互助小组,,未登记,,月塘街道社工站\r\n\
               无站小组,月塘街道,未登记,,\r\n\
                月塘助老志愿服务队 ,月塘街道,已登记,51430203MJJ000001X,\r\n";
    let res = admin
        .upload(
            "/volunteer-teams/import",
            &[],
            "file",
            "teams.csv",
            csv.as_bytes(),
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let location = res.location().to_owned();
    let preview = admin.get(&location).await;
    let results = preview.select("#preview tbody td:nth-child(3)");
    let problems = preview.select("#preview tbody td:nth-child(4)");
    assert_eq!(results, ["新增", "新增", "有误", "有误"], "{problems:?}");
    assert!(problems[2].contains("联络"), "{}", problems[2]);
    assert!(problems[3].contains("与本表第 2 行重复"), "{}", problems[3]);
    let html = preview.html();
    let sel = scraper::Selector::parse("form[action^='/volunteer-teams/import/']").unwrap();
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
    let teams = admin.get("/api/v1/volunteer-teams").await.json();
    assert_eq!(teams["total"], 2, "{teams}");
    let hosted = teams["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "月塘邻里互助小组")
        .unwrap()
        .clone();
    assert_eq!(
        (
            hosted["region_code"].as_str(),
            hosted["registered"].as_bool()
        ),
        (Some("430202001"), Some(false))
    );
    // The same roster again creates nothing.
    let res = admin
        .upload(
            "/volunteer-teams/import",
            &[],
            "file",
            "teams.csv",
            csv.as_bytes(),
        )
        .await;
    let again = admin.get(res.location()).await;
    let results = again.select("#preview tbody td:nth-child(3)");
    let problems = again.select("#preview tbody td:nth-child(4)");
    assert_eq!(&results[..2], ["无变化", "无变化"], "{problems:?}");
});
