//! Statistics: the dashboards by region, the monthly report and table exports, the open-data
//! API (JSON and CSV) and the public portal. Every figure is read from the maintained counters.

mod dashboards;
mod exports;
pub mod maps;
pub(crate) mod open_data;
mod portal;
pub(crate) mod shared;
mod tables;
mod wall;

use axum::Router;
use axum::routing::get;
use shegong_domain::Permission;
use utoipa::OpenApi;

use crate::http::area::{Area, MenuSection, messages};
use crate::http::state::AppState;

pub const AREA: Area = Area {
    messages: messages!("statistics"),
    importers: &[],
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
    open_data::api_services,
    open_data::api_services_csv,
    open_data::api_people,
    open_data::api_people_csv,
    open_data::api_workforce,
    open_data::api_workforce_csv,
    open_data::api_community,
    open_data::api_community_csv,
))]
struct Api;

fn routes() -> Router<AppState> {
    Router::new()
        .route("/stats", get(dashboards::root))
        .route("/stats/{code}", get(dashboards::region))
        .route("/stats/{code}/wall", get(wall::wall))
        .route("/stats/{code}/wall.json", get(wall::wall_json))
        .route("/maps/{file}", get(maps::serve))
        .route("/stats/{code}/report.xlsx", get(exports::monthly_report))
        .route("/stats/{code}/table/{file}", get(exports::table_export))
        .route("/public", get(portal::portal))
        .route("/public/services.csv", get(portal::portal_csv))
        .route("/api/v1/stats/services", get(open_data::api_services))
        .route(
            "/api/v1/stats/services.csv",
            get(open_data::api_services_csv),
        )
        .route("/api/v1/stats/people", get(open_data::api_people))
        .route("/api/v1/stats/people.csv", get(open_data::api_people_csv))
        .route("/api/v1/stats/workforce", get(open_data::api_workforce))
        .route("/api/v1/stats/community", get(open_data::api_community))
        .route(
            "/api/v1/stats/community.csv",
            get(open_data::api_community_csv),
        )
        .route(
            "/api/v1/stats/workforce.csv",
            get(open_data::api_workforce_csv),
        )
}
