//! Indicator trees over HTTP (issue 14 item 5, "configurable indicator trees per region and
//! version"): the editor opens pre-filled from the tree in effect, a refused cell is shown in
//! its row with nothing written, a saved tree is the region's next version that new
//! evaluations use; the API reads a tree in the shape it writes, names a refused node as
//! `nodes.<code>`, and keeps other regions' and organisations' hands off.

use super::fixtures::{agency, count, login, send_json};
use super::*;

const COUNTY: &str = "430202";
const SIBLING: &str = "430203";

/// Every field the editor's form would submit as it stands: inputs by value (checkboxes only
/// when checked) and each select's chosen option.
fn form_fields(res: &Res) -> Vec<(String, String)> {
    let html = res.html();
    let mut out = vec![];
    let input = scraper::Selector::parse("#tree-form input[name]").unwrap();
    for e in html.select(&input) {
        let v = e.value();
        if v.attr("type") == Some("checkbox") && v.attr("checked").is_none() {
            continue;
        }
        out.push((
            v.attr("name").unwrap().to_owned(),
            v.attr("value").unwrap_or("").to_owned(),
        ));
    }
    let select = scraper::Selector::parse("#tree-form select[name]").unwrap();
    let option = scraper::Selector::parse("option").unwrap();
    for s in html.select(&select) {
        let options: Vec<_> = s.select(&option).collect();
        let chosen = options
            .iter()
            .find(|o| o.value().attr("selected").is_some())
            .or(options.first())
            .and_then(|o| o.value().attr("value"))
            .unwrap_or("");
        out.push((
            s.value().attr("name").unwrap().to_owned(),
            chosen.to_owned(),
        ));
    }
    out
}

fn set(fields: &mut [(String, String)], name: &str, value: &str) {
    let f = fields.iter_mut().find(|(k, _)| k == name).unwrap();
    f.1 = value.to_owned();
}

fn get<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    &fields.iter().find(|(k, _)| k == name).unwrap().1
}

/// The row index of the node with code `id` in the editor's fields.
fn row_of(fields: &[(String, String)], id: &str) -> usize {
    let (k, _) = fields
        .iter()
        .find(|(k, v)| k.ends_with("_id") && v == id)
        .unwrap();
    k.trim_start_matches('n')
        .trim_end_matches("_id")
        .parse()
        .unwrap()
}

async fn post(c: &mut Client, fields: &[(String, String)]) -> Res {
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .filter(|(k, _)| k != "_csrf")
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    c.post_form("/evaluations/trees", &pairs).await
}

app_test!(a_region_edits_its_tree_as_a_new_version, |app| {
    let mut admin = login(&app, "county_admin", Role::CivilAffairsAdmin, COUNTY, None).await;
    let res = admin.get("/evaluations/trees").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert!(res.text.contains("全国默认"), "the default is listed");

    let res = admin.get("/evaluations/trees/new").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let mut fields = form_fields(&res);
    assert_eq!(get(&fields, "region_code"), COUNTY);
    assert_eq!(get(&fields, "n0_id"), "total");
    let core = row_of(&fields, "core_delivery");
    assert_eq!(get(&fields, &format!("n{core}_measures")), "core");
    assert_eq!(
        get(&fields, &format!("n{core}_steps")),
        "≥100%=100%；≥80%=2/3；≥60%=1/3"
    );

    // An unreadable cell: shown in its row, nothing written.
    set(&mut fields, &format!("n{core}_max"), "一百五十");
    let res = post(&mut admin, &fields).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    let errors = res.select("#node-rows tr.has-error .field-error");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("分值"), "{errors:?}");
    // The typed value is kept for correction.
    assert_eq!(get(&form_fields(&res), &format!("n{core}_max")), "一百五十");
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM indicator_trees WHERE region_code <> ''"
        )
        .await,
        0
    );

    // Weights that no longer add up: the sum node's row says so.
    set(&mut fields, &format!("n{core}_max"), "160");
    let res = post(&mut admin, &fields).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    let sum_row = row_of(&fields, "core");
    let html = res.html();
    let row = scraper::Selector::parse("#node-rows tbody tr").unwrap();
    let bad = html.select(&row).nth(sum_row).unwrap();
    assert!(
        bad.value().attr("class") == Some("has-error"),
        "the row of `core` is marked"
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM indicator_trees WHERE region_code <> ''"
        )
        .await,
        0
    );

    // Core delivery 160 and quality 90: saved as the county's first version.
    let quality = row_of(&fields, "core_quality");
    set(&mut fields, &format!("n{quality}_max"), "90");
    set(&mut fields, "name", "荷塘区社工站评估指标");
    set(&mut fields, "excellent_percent", "85");
    let res = post(&mut admin, &fields).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let page = admin.get(res.location()).await;
    assert!(
        page.text.contains("荷塘区社工站评估指标 v1"),
        "{}",
        page.text
    );
    assert!(page.text.contains("≥ 85%"));
    let id = res
        .location()
        .trim_start_matches("/evaluations/trees/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM audit_log WHERE entity = 'indicator_tree' AND action = 'create' AND outcome = 'success'").await,
        1
    );

    // The API reads it back in the shape it writes; a new evaluation uses it.
    let res = admin.get(&format!("/api/v1/indicator-trees/{id}")).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let tree = res.json();
    assert_eq!(tree["version"], 1);
    assert_eq!(tree["excellent_percent"], "85");
    let node = |id: &str| {
        tree["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(node("core_delivery")["max"], "160");
    assert_eq!(node("core_delivery")["measures"], "core");

    let res = admin
        .get(&format!("/evaluations/trees/{id}/export.xlsx"))
        .await;
    assert_eq!(res.status, StatusCode::OK);
});

app_test!(the_api_writes_trees_with_named_errors_and_scope, |app| {
    let mut admin = login(&app, "county_admin", Role::CivilAffairsAdmin, COUNTY, None).await;
    let res = admin.get("/api/v1/indicator-trees").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let default_id = res.json()["items"][0]["id"].as_str().unwrap().to_owned();
    let mut body = admin
        .get(&format!("/api/v1/indicator-trees/{default_id}"))
        .await
        .json();
    body["region_code"] = COUNTY.into();
    body["name"] = "荷塘区指标".into();

    // A graded node's levels unreadable, and a node whose weight breaks its sum.
    let mut bad = body.clone();
    for n in bad["nodes"].as_array_mut().unwrap() {
        if n["id"] == "management" {
            n["steps"] = "优=很好".into();
        }
    }
    let res = send_json(&mut admin, Method::POST, "/api/v1/indicator-trees", bad).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert!(res.text.contains("nodes.management"), "{}", res.text);
    assert!(
        res.text.contains("evaluation.levels_invalid"),
        "{}",
        res.text
    );

    let mut bad = body.clone();
    for n in bad["nodes"].as_array_mut().unwrap() {
        if n["id"] == "basic_delivery" {
            n["max"] = "99.5".into();
        }
    }
    bad["pass_percent"] = "95".into();
    let res = send_json(
        &mut admin,
        Method::POST,
        "/api/v1/indicator-trees",
        bad.clone(),
    )
    .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert!(
        res.text.contains("grades"),
        "thresholds not descending: {}",
        res.text
    );
    bad["pass_percent"] = "60".into();
    let res = send_json(&mut admin, Method::POST, "/api/v1/indicator-trees", bad).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert!(res.text.contains("nodes.basic"), "{}", res.text);
    assert!(
        res.text.contains("evaluation.children_points_mismatch"),
        "{}",
        res.text
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM indicator_trees WHERE region_code <> ''"
        )
        .await,
        0
    );

    let res = send_json(
        &mut admin,
        Method::POST,
        "/api/v1/indicator-trees",
        body.clone(),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let id = res.json()["id"].as_str().unwrap().to_owned();
    let res = send_json(
        &mut admin,
        Method::POST,
        "/api/v1/indicator-trees",
        body.clone(),
    )
    .await;
    assert_eq!(res.json()["version"], 2, "{}", res.text);

    // Another county neither sees nor writes the county's trees.
    let mut sibling = login(
        &app,
        "sibling_admin",
        Role::CivilAffairsAdmin,
        SIBLING,
        None,
    )
    .await;
    let res = sibling.get(&format!("/api/v1/indicator-trees/{id}")).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = sibling.get(&format!("/evaluations/trees/{id}")).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = send_json(
        &mut sibling,
        Method::POST,
        "/api/v1/indicator-trees",
        body.clone(),
    )
    .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert!(res.text.contains("region"), "{}", res.text);
    let listed = sibling.get("/api/v1/indicator-trees").await.json();
    assert_eq!(listed["total"], 1, "only the default: {listed}");

    // An evaluator organisation account does not write trees.
    let org = agency(&app, "明镜第三方评估中心", COUNTY).await;
    let mut evaluator = login(&app, "evaluator", Role::Evaluator, COUNTY, Some(&org)).await;
    let res = send_json(
        &mut evaluator,
        Method::POST,
        "/api/v1/indicator-trees",
        body,
    )
    .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM indicator_trees WHERE region_code <> ''"
        )
        .await,
        2
    );
});
