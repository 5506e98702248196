//! The five indicators over HTTP: a supervising office adds checklist items and service items
//! for its region, switches items off and on, and stations below it are assessed against the
//! active ones; items from a region above are inherited but not changed from below.

use super::*;
use crate::inspections::direct_station;

/// The id in the first `/indicators/{id}/active` form of the page.
fn toggle_path(res: &Res) -> String {
    let start = res
        .text
        .find("action=\"/indicators/")
        .unwrap_or_else(|| panic!("no toggle form: {}", res.text))
        + "action=\"".len();
    let end = res.text[start..].find('"').unwrap() + start;
    res.text[start..end].to_owned()
}

app_test!(items_are_added_toggled_and_assessed, |app| {
    let mut office = app.login_as(Role::CivilAffairsAdmin, "430203").await;
    let station = direct_station(&mut office, "430203001", "贺家土街道社工站").await;
    let item = [
        ("category", "site"),
        ("name", "场地面积达标"),
        ("requirement", "不少于 200 平方米"),
        ("evidence", "photo"),
        ("weight", "2"),
    ];
    // Invalid fields: refused, nothing added.
    for (field, bad) in [("category", "garden"), ("name", ""), ("weight", "0")] {
        let mut f = item.to_vec();
        f.retain(|(k, _)| *k != field);
        f.push((field, bad));
        let res = office.post_form("/indicators", &f).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}");
    }
    assert!(
        !office
            .get("/indicators")
            .await
            .text
            .contains("场地面积达标")
    );
    let res = office.post_form("/indicators", &item).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    assert_eq!(res.location(), "/indicators?notice=notice.saved");
    let page = office.get("/indicators").await;
    assert!(page.select("#items td").iter().any(|c| c == "场地面积达标"));

    // A service item for the county appears on its stations' pages.
    let res = office
        .post_form(
            "/indicators/services",
            &[("domain", "elderly"), ("service_name", "老年助餐")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    assert!(
        office
            .get("/indicators")
            .await
            .select("#services td")
            .iter()
            .any(|c| c == "老年助餐")
    );
    let detail = office.get(&format!("/stations/{station}")).await;
    assert!(detail.text.contains("老年助餐"));

    // The station is assessed against the item: met, readiness 100 %.
    assert!(
        detail
            .select("#indicators td")
            .iter()
            .any(|c| c == "场地面积达标")
    );
    let item_id = {
        let start = detail
            .text
            .find("name=\"item\" value=\"")
            .unwrap_or_else(|| panic!("{}", detail.text));
        let rest = &detail.text[start + "name=\"item\" value=\"".len()..];
        rest[..rest.find('"').unwrap()].to_owned()
    };
    let res = office
        .post_form(
            &format!("/stations/{station}/assess"),
            &[("item", &item_id), ("met", "1"), ("note", "现场查看")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let api = office
        .get(&format!("/api/v1/stations/{station}"))
        .await
        .json();
    assert_eq!(api["readiness_pct"], 100);

    // Switched off: it no longer applies to the station; on again: it does.
    let toggle = toggle_path(&office.get("/indicators").await);
    let res = office.post_form(&toggle, &[("active", "0")]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let detail = office.get(&format!("/stations/{station}")).await;
    assert!(
        !detail
            .select("#indicators td")
            .iter()
            .any(|c| c == "场地面积达标")
    );
    let res = office.post_form(&toggle, &[("active", "1")]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let detail = office.get(&format!("/stations/{station}")).await;
    assert!(
        detail
            .select("#indicators td")
            .iter()
            .any(|c| c == "场地面积达标")
    );
});

app_test!(items_are_changed_only_where_they_are_defined, |app| {
    let mut city = app.login_as(Role::CivilAffairsAdmin, "4302").await;
    let res = city
        .post_form(
            "/indicators",
            &[
                ("category", "rules"),
                ("name", "制度上墙"),
                ("evidence", "photo"),
                ("weight", "1"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let toggle = toggle_path(&city.get("/indicators").await);

    // A county below inherits the city's item but cannot switch it off.
    let mut county = app.login_as(Role::CivilAffairsAdmin, "430203").await;
    let page = county.get("/indicators").await;
    assert!(page.select("#items td").iter().any(|c| c == "制度上墙"));
    assert!(!page.text.contains(&toggle));
    let res = county.post_form(&toggle, &[("active", "0")]).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    // Another city does not see it at all.
    let mut other = app.login_as(Role::CivilAffairsAdmin, "4301").await;
    let page = other.get("/indicators").await;
    assert!(!page.text.contains("制度上墙"));
    let res = other.post_form(&toggle, &[("active", "0")]).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    // Workers read but do not configure.
    let mut worker = app.login_as(Role::SocialWorker, "4302").await;
    assert_eq!(worker.get("/indicators").await.status, StatusCode::OK);
    for (path, fields) in [
        (
            "/indicators",
            vec![
                ("category", "rules"),
                ("name", "越权"),
                ("evidence", "photo"),
                ("weight", "1"),
            ],
        ),
        (
            "/indicators/services",
            vec![("domain", "elderly"), ("service_name", "越权")],
        ),
        (toggle.as_str(), vec![("active", "0")]),
    ] {
        let res = worker.post_form(path, &fields).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{path}");
    }
    // Still active for the city.
    let page = city.get("/indicators").await;
    assert!(!page.select("#items .tag-ok").is_empty(), "{}", page.text);
});
