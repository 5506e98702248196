//! Issue 18, table tools on every main list (after `tables.rs`, which covers residents, cases,
//! services and rectifications): each list sorts by the keys of its store whitelist, both ways,
//! on both databases; any other `sort` is the default order (never SQL, never a 500); page sizes
//! are bounded to 10/20/50/100; an export of a selection stays within the caller's scope.

use super::inspections::direct_station;
use super::*;

const CITY: &str = "4302";

/// A list page, its API (if any) and its store whitelist.
struct List {
    page: &'static str,
    api: Option<&'static str>,
    table: &'static str,
    sorts: &'static [(&'static str, &'static str)],
}

fn lists() -> Vec<List> {
    use shegong_store as s;
    let l = |page, api, table, sorts| List {
        page,
        api,
        table,
        sorts,
    };
    vec![
        l(
            "/stations",
            Some("/api/v1/stations"),
            "stations",
            s::network::stations::SORTS,
        ),
        l(
            "/orgs",
            Some("/api/v1/organizations"),
            "orgs",
            s::network::orgs::SORTS,
        ),
        l(
            "/staff",
            Some("/api/v1/staff"),
            "staff",
            s::workforce::staff::SORTS,
        ),
        l(
            "/volunteers",
            Some("/api/v1/volunteers"),
            "volunteers",
            s::volunteers::registry::SORTS,
        ),
        l(
            "/projects",
            Some("/api/v1/projects"),
            "projects",
            s::purchase::projects::SORTS,
        ),
        l(
            "/contracts",
            Some("/api/v1/contracts"),
            "contracts",
            s::purchase::contracts::SORTS,
        ),
        l(
            "/tickets",
            Some("/api/v1/tickets"),
            "tickets",
            s::hotline::tickets::SORTS,
        ),
        l(
            "/community-issues",
            Some("/api/v1/issues"),
            "issues",
            s::community::SORTS,
        ),
        l("/charity/funds", None, "funds", s::charity::FUND_SORTS),
        l(
            "/incidents",
            Some("/api/v1/incidents"),
            "incidents",
            s::emergency::incidents::SORTS,
        ),
    ]
}

/// Orders that are not whitelisted keys: SQL, column names, nothing.
const BAD: [&str; 6] = [
    "name;DROP%20TABLE%20stations",
    "s.name",
    "(SELECT%201)",
    "id_number_sealed",
    "-",
    "--name",
];

async fn check_sorts(c: &mut Client, l: &List) {
    for (key, _) in l.sorts {
        for sort in [key.to_string(), format!("-{key}")] {
            let res = c.get(&format!("{}?sort={sort}", l.page)).await;
            assert_eq!(
                res.status,
                StatusCode::OK,
                "{} {sort}: {}",
                l.page,
                res.text
            );
            // A sortable header shows the order it is in (ascending or descending).
            let th = res.select(&format!("#{} th[data-sort={key}]", l.table));
            if !th.is_empty() {
                let on = res.select(&format!(
                    "#{} th[data-sort={key}]:not([aria-sort=none])",
                    l.table
                ));
                assert_eq!(on.len(), 1, "{} {sort}: the header shows the order", l.page);
            }
            if let Some(api) = l.api {
                let res = c.get(&format!("{api}?sort={sort}")).await;
                assert_eq!(res.status, StatusCode::OK, "{api} {sort}: {}", res.text);
            }
        }
    }
    let default = c.get(l.page).await;
    for bad in BAD {
        let res = c.get(&format!("{}?sort={bad}", l.page)).await;
        assert_eq!(res.status, StatusCode::OK, "{} {bad}: {}", l.page, res.text);
        assert_eq!(
            res.select(&format!("#{} tbody tr", l.table)),
            default.select(&format!("#{} tbody tr", l.table)),
            "{} {bad}: the default order",
            l.page
        );
        assert!(
            res.select(&format!("#{} th:not([aria-sort=none])[data-sort]", l.table))
                .is_empty(),
            "{} {bad}: no header claims the order",
            l.page
        );
        if let Some(api) = l.api {
            let res = c.get(&format!("{api}?sort={bad}")).await;
            assert_eq!(res.status, StatusCode::OK, "{api} {bad}: {}", res.text);
        }
    }
}

app_test!(every_list_sorts_by_its_whitelist_only, |app| {
    let mut city = app.login_as(Role::CivilAffairsAdmin, CITY).await;
    direct_station(&mut city, "430203001", "排序甲站").await;
    direct_station(&mut city, "430203002", "排序乙站").await;
    for l in lists() {
        check_sorts(&mut city, &l).await;
    }
    // The audit log (auditors) sorts by sequence, actor and region.
    let mut auditor = app.login_as(Role::Auditor, CITY).await;
    let audit = List {
        page: "/audit",
        api: Some("/api/v1/audit"),
        table: "audit",
        sorts: shegong_store::admin::audit::SORTS,
    };
    check_sorts(&mut auditor, &audit).await;
});

/// The stations' names in the list's order.
fn names(res: &Res) -> Vec<String> {
    res.select("#stations tbody td:nth-child(2) a")
}

app_test!(stations_sort_both_ways_with_ties_broken_by_id, |app| {
    let mut city = app.login_as(Role::CivilAffairsAdmin, CITY).await;
    for (town, name) in [
        ("430203001", "乙站"),
        ("430203002", "甲站"),
        ("430203003", "丙站"),
    ] {
        direct_station(&mut city, town, name).await;
    }
    let asc = city.get("/stations?sort=name").await;
    let mut expected = names(&asc);
    assert_eq!(expected.len(), 3);
    let mut sorted = expected.clone();
    sorted.sort();
    assert_eq!(expected, sorted, "by name");
    assert_eq!(asc.select("#stations th[aria-sort=ascending] a"), ["名称"]);
    assert!(asc.text.contains("href=\"/stations?sort=-name\""));
    let desc = city.get("/stations?sort=-name").await;
    expected.reverse();
    assert_eq!(names(&desc), expected, "by name, reversed");
    // Equal keys (all operating, same tier): the id decides, the same on every request.
    let a = names(&city.get("/stations?sort=status").await);
    let b = names(&city.get("/stations?sort=status&per_page=50").await);
    assert_eq!(a, b);
    // The API sorts the same way.
    let api = city.get("/api/v1/stations?sort=-name").await.json();
    let api_names: Vec<&str> = api["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(api_names, expected);
});

app_test!(list_page_sizes_are_10_20_50_or_100, |app| {
    let mut city = app.login_as(Role::CivilAffairsAdmin, CITY).await;
    direct_station(&mut city, "430203001", "分页站").await;
    for l in lists() {
        let default = city.get(l.page).await;
        assert_eq!(
            default.select("#per-page option"),
            ["10", "20", "50", "100"],
            "{}",
            l.page
        );
        assert_eq!(default.select("#per-page option[selected]"), ["20"]);
        for (asked, got) in [
            ("100000", "100"),
            ("-5", "10"),
            ("0", "10"),
            ("7", "10"),
            ("30", "50"),
            ("50", "50"),
        ] {
            let res = city.get(&format!("{}?per_page={asked}", l.page)).await;
            assert_eq!(res.status, StatusCode::OK, "{} {asked}", l.page);
            assert_eq!(
                res.select("#per-page option[selected]"),
                [got],
                "{} per_page={asked}",
                l.page
            );
        }
        // Not a number: refused by the query parser with 400, not a server error.
        let res = city.get(&format!("{}?per_page=abc", l.page)).await;
        assert!(res.status.is_client_error(), "{}: {}", l.page, res.status);
    }
});

app_test!(an_export_of_a_selection_stays_within_scope, |app| {
    let mut mine = app.login_as(Role::CivilAffairsAdmin, "430203").await;
    let mut other = app.login_as(Role::CivilAffairsAdmin, "430204").await;
    let a = direct_station(&mut mine, "430203001", "导出甲站").await;
    let b = direct_station(&mut mine, "430203002", "导出乙站").await;
    let c = direct_station(&mut other, "430204001", "导出丙站").await;
    // The list offers the selection: a checkbox per row, the export link.
    let list = mine.get("/stations").await;
    assert_eq!(list.select("#stations td.pick input[data-row]").len(), 2);
    assert_eq!(list.select("#export-selected"), ["导出所选"]);
    let res = mine.get(&format!("/stations/export.xlsx?ids={a}")).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let sheet = xlsx_text(&res.bytes);
    assert!(
        sheet.contains("导出甲站") && !sheet.contains("导出乙站"),
        "{sheet}"
    );
    let res = mine
        .get(&format!("/stations/export.xlsx?ids={a},{b}"))
        .await;
    let sheet = xlsx_text(&res.bytes);
    assert!(sheet.contains("导出甲站") && sheet.contains("导出乙站"));
    // A station of another county in the selection: refused on `ids`, nothing exported.
    let res = mine
        .get(&format!("/stations/export.xlsx?ids={a},{c}"))
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    let res = mine.get("/stations/export.xlsx?ids=no-such-id").await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    // More than 200: refused.
    let many: Vec<String> = (0..201).map(|i| format!("id{i}")).collect();
    let res = mine
        .get(&format!("/stations/export.xlsx?ids={}", many.join(",")))
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    // The other lists with an export take a selection the same way.
    for path in [
        "/orgs",
        "/staff",
        "/volunteers",
        "/projects",
        "/contracts",
        "/tickets",
        "/community-issues",
        "/charity/funds",
        "/incidents",
    ] {
        let res = mine.get(&format!("{path}/export.xlsx?ids={c}")).await;
        assert_eq!(
            res.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path}: {}",
            res.text
        );
    }
});
