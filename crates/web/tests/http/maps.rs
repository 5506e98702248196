//! Boundary maps (`/maps/{code}.json`), the region maps of the dashboard, the wall display and
//! the portal, the wall's live figures (`/stats/{code}/wall.json`) and the portal's directory.

use shegong_store::network::regions;

use super::stats::{resident, visit};
use super::*;

app_test!(
    boundary_maps_are_served_with_caching_and_nothing_else,
    |app| {
        let mut public = app.client();
        let res = public.get("/maps/4302.json").await;
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(res.headers[header::CONTENT_TYPE], "application/geo+json");
        assert_eq!(res.headers[header::CACHE_CONTROL], "public, max-age=86400");
        let j = res.json();
        let codes: Vec<&str> = j["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["properties"]["code"].as_str().unwrap())
            .collect();
        // 株洲市's nine counties by their NBS codes (渌口区 was 株洲县, 430221, in the source).
        assert_eq!(codes.len(), 9, "{codes:?}");
        assert!(codes.contains(&"430212") && codes.contains(&"430203"));
        let province = public.get("/maps/43.json").await.json();
        assert_eq!(province["features"].as_array().unwrap().len(), 14);
        // Revalidated by its digest.
        let etag = res.headers[header::ETAG].to_str().unwrap().to_owned();
        public.headers = vec![("if-none-match".into(), etag)];
        assert_eq!(
            public.get("/maps/4302.json").await.status,
            StatusCode::NOT_MODIFIED
        );
        public.headers.clear();
        for bad in [
            "/maps/4401.json",
            "/maps/..%2F43.json",
            "/maps/43",
            "/maps/CN.json",
        ] {
            assert_eq!(public.get(bad).await.status, StatusCode::NOT_FOUND, "{bad}");
        }
    }
);

app_test!(the_wall_refreshes_its_figures_from_the_counters, |app| {
    let mut admin = app.login_as(Role::CivilAffairsAdmin, "4302").await;
    let today = shegong_web::ui::forms::today(app.state.now());
    let a = resident(&mut admin, "刘桂英", "430202001").await;
    visit(&mut admin, &a, &today).await;
    let res = admin.get("/stats/4302/wall.json").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let j = res.json();
    assert_eq!(j["kpis"]["records"], "1", "{j}");
    assert_eq!(j["regions"]["430202"]["v"]["records"], 1.0, "{j}");
    assert_eq!(j["regions"]["430202"]["name"], "荷塘区");
    assert_eq!(j["regions"]["430203"]["v"]["records"], 0.0);
    assert!(!j["updated"].as_str().unwrap().is_empty());
    // A new record shows on the next refresh.
    visit(&mut admin, &a, &today).await;
    let j = admin.get("/stats/4302/wall.json").await.json();
    assert_eq!(j["kpis"]["records"], "2", "{j}");
    assert_eq!(j["regions"]["430202"]["v"]["records"], 2.0);
    // The page: the map of 株洲市's counties, a clock, the figures that refresh.
    let page = admin.get("/stats/4302/wall").await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.html();
    let sel = scraper::Selector::parse("#region-map").unwrap();
    let map = html.select(&sel).next().expect("a map on the wall");
    assert_eq!(map.attr("data-map-name"), Some("region-4302"));
    assert_eq!(map.attr("data-map-url"), Some("/maps/4302.json"));
    assert!(page.text.contains("id=\"wall-clock\""));
    assert_eq!(page.select("#kpi-records"), vec!["2".to_owned()]);
    assert!(page.select("#map-label")[0].contains("示意图"));
    // Out of scope, or without an account: nothing.
    assert_eq!(
        admin.get("/stats/4301/wall.json").await.status,
        StatusCode::NOT_FOUND
    );
    assert_ne!(
        app.client().get("/stats/4302/wall.json").await.status,
        StatusCode::OK
    );
});

app_test!(
    dashboards_draw_the_map_of_their_region_or_its_outline,
    |app| {
        let mut admin = app.login_as(Role::CivilAffairsAdmin, "43").await;
        let attr = |page: &Res, name: &str| {
            let html = page.html();
            let sel = scraper::Selector::parse("#region-map").unwrap();
            html.select(&sel)
                .next()
                .and_then(|m| m.attr(name).map(str::to_owned))
        };
        let page = admin.get("/stats/43").await;
        assert_eq!(
            attr(&page, "data-map-url").as_deref(),
            Some("/maps/43.json")
        );
        let page = admin.get("/stats/4302").await;
        assert_eq!(attr(&page, "data-map-name").as_deref(), Some("region-4302"));
        // The drill-down keeps the year and the indicator.
        assert!(
            attr(&page, "data-drill")
                .unwrap()
                .starts_with("/stats/{code}?year=")
        );
        // A county has no township boundaries: its outline from the city's map.
        let page = admin.get("/stats/430223").await;
        assert_eq!(
            attr(&page, "data-map-url").as_deref(),
            Some("/maps/4302.json")
        );
        assert_eq!(attr(&page, "data-map-only").as_deref(), Some("430223"));
        // No boundary map of the country: no map.
        let mut national = app.login_as(Role::CivilAffairsAdmin, "").await;
        assert_eq!(attr(&national.get("/stats/CN").await, "data-map-url"), None);
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_boundary_set_replaces_the_schematic_one() {
    let dir = std::env::temp_dir().join(format!("shegong-maps-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("4302.json"),
        r#"{"type":"FeatureCollection","features":[]}"#,
    )
    .unwrap();
    let mut config = Config {
        twofactor_for_administrators: false,
        ..Config::default()
    };
    config.maps.dir = dir.display().to_string();
    config.maps.approval = "湘S(2025)001号".into();
    assert!(config.validate().is_ok());
    let app = TestApp::with_config(shegong_store::testing::sqlite().await, config.clone()).await;
    let mut public = app.client();
    assert_eq!(
        public.get("/maps/4302.json").await.text,
        r#"{"type":"FeatureCollection","features":[]}"#
    );
    // The bundled set is not mixed in.
    assert_eq!(
        public.get("/maps/43.json").await.status,
        StatusCode::NOT_FOUND
    );
    let page = public.get("/public?region=4302").await;
    let label = page.select("#map-label");
    assert!(label[0].contains("审图号：湘S(2025)001号"), "{label:?}");
    assert!(!label[0].contains("示意图"));
    // A directory without its approval number is refused.
    config.maps.approval.clear();
    assert!(config.validate().unwrap_err().contains("maps.approval"));
}

app_test!(the_portal_directory_is_searched_and_paged, |app| {
    let operator = fixtures::agency(&app, "株洲市阳光社工", "4302").await;
    let mut c = app.state.db.read().await.unwrap();
    let mut towns = Vec::new();
    for county in ["430223", "430224", "430225"] {
        for t in regions::children(&mut c, &Scope::national(), Some(county))
            .await
            .unwrap()
        {
            towns.push(t.code);
        }
    }
    drop(c);
    for (i, town) in towns.iter().take(25).enumerate() {
        let name = if i == 7 {
            "皇图岭镇社会工作服务站".to_owned()
        } else {
            format!("第{i}社会工作服务站")
        };
        fixtures::station(&app, town, &name, &operator).await;
    }
    let mut public = app.client();
    let page = public.get("/public?region=4302").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.select("#public-stations tbody tr").len(), 20);
    assert!(page.select(".pager-info")[0].contains("25"));
    let page = public.get("/public?region=4302&page=2").await;
    assert_eq!(page.select("#public-stations tbody tr").len(), 5);
    let page = public
        .get("/public?region=4302&q=%E7%9A%87%E5%9B%BE%E5%B2%AD")
        .await;
    let rows = page.select("#public-stations tbody tr");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(rows[0].contains("皇图岭镇社会工作服务站"));
    // The map of the portal colours sub-regions by their operating stations.
    let html = page.html();
    let sel = scraper::Selector::parse("#region-map").unwrap();
    let data: serde_json::Value =
        serde_json::from_str(html.select(&sel).next().unwrap().attr("data-map").unwrap()).unwrap();
    let total: f64 = data["regions"]
        .as_object()
        .unwrap()
        .values()
        .map(|r| r["v"]["stations"].as_f64().unwrap())
        .sum();
    assert_eq!(total, 25.0, "{data}");
});
