//! Statistics: the dashboards by region, the monthly report and table exports, the open-data
//! API (JSON and CSV) and the public portal. Every figure is read from the maintained counters.

pub mod dashboards;

use axum::Router;
use axum::routing::get;
use shegong_domain::Permission;
use utoipa::OpenApi;

use crate::http::area::{Area, MenuSection, messages};
use crate::http::state::AppState;

pub const AREA: Area = Area {
    messages: messages!("statistics"),
    routes,
    api: || Api::openapi(),
    menu: &[MenuSection {
        rank: 20,
        group: "menu.group.statistics",
        entries: &[
            ("menu.stats", "/stats", Some(Permission::ReadData)),
            ("menu.portal", "/public", None),
        ],
    }],
};

#[derive(OpenApi)]
#[openapi(paths(
    dashboards::api_services,
    dashboards::api_services_csv,
    dashboards::api_people,
    dashboards::api_people_csv,
    dashboards::api_workforce,
    dashboards::api_workforce_csv,
))]
struct Api;

fn routes() -> Router<AppState> {
    Router::new()
        .route("/stats", get(dashboards::root))
        .route("/stats/{code}", get(dashboards::region))
        .route("/stats/{code}/wall", get(dashboards::wall))
        .route("/stats/{code}/report.xlsx", get(dashboards::monthly_report))
        .route("/stats/{code}/table/{file}", get(dashboards::table_export))
        .route("/public", get(dashboards::portal))
        .route("/public/services.csv", get(dashboards::portal_csv))
        .route("/api/v1/stats/services", get(dashboards::api_services))
        .route(
            "/api/v1/stats/services.csv",
            get(dashboards::api_services_csv),
        )
        .route("/api/v1/stats/people", get(dashboards::api_people))
        .route("/api/v1/stats/people.csv", get(dashboards::api_people_csv))
        .route("/api/v1/stats/workforce", get(dashboards::api_workforce))
        .route(
            "/api/v1/stats/workforce.csv",
            get(dashboards::api_workforce_csv),
        )
}
