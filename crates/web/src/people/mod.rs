//! People served (一人一档): residents and households, likely duplicates, risk tiers and visit
//! rules, cases through their stages, service records, and the worker's own page (`/my`).

pub mod import;
pub mod casework;
pub mod residents;

use axum::Router;
use axum::routing::{get, post};
use shegong_domain::Permission;
use utoipa::OpenApi;

use crate::http::area::{Area, MenuSection, messages};
use crate::http::state::AppState;

pub const AREA: Area = Area {
    messages: messages!("people"),
    routes,
    api: || Api::openapi(),
    menu: &[MenuSection {
        rank: 40,
        group: "menu.group.people",
        entries: &[
            ("menu.mine", "/my", Some(Permission::ReadData)),
            ("menu.residents", "/residents", Some(Permission::ReadData)),
            ("menu.cases", "/cases", Some(Permission::ReadData)),
            ("menu.services", "/services", Some(Permission::ReadData)),
            (
                "menu.visit_rules",
                "/visit-rules",
                Some(Permission::ReadData),
            ),
        ],
    }],
};

#[derive(OpenApi)]
#[openapi(paths(
    residents::api_list,
    residents::api_get,
    residents::api_create,
    residents::api_due,
    casework::api_cases,
    casework::api_case,
    casework::api_open_case,
    casework::api_services,
    casework::api_service,
    casework::api_record_service,
))]
struct Api;

fn routes() -> Router<AppState> {
    Router::new()
        .route("/my", get(casework::mine))
        .route(
            "/residents",
            get(residents::list_page).post(residents::create),
        )
        .route("/residents/new", get(residents::new_form))
        .route("/residents/export.xlsx", get(residents::export))
        .route(
            "/residents/{id}",
            get(residents::detail_page).post(residents::update),
        )
        .route("/residents/{id}/edit", get(residents::edit_form))
        .route("/residents/{id}/reveal", post(residents::reveal))
        .route(
            "/residents/{id}/memberships",
            post(residents::add_membership),
        )
        .route(
            "/residents/{id}/memberships/{mid}/end",
            post(residents::end_membership),
        )
        .route("/residents/{id}/tier", post(residents::set_tier))
        .route("/residents/{id}/household", post(residents::join_household))
        .route("/residents/{id}/merge", post(residents::merge))
        .route("/residents/{id}/status", post(residents::set_status))
        .route("/residents/{id}/cases", post(casework::open))
        .route(
            "/visit-rules",
            get(residents::rules_page).post(residents::set_rule),
        )
        .route("/cases", get(casework::list_page))
        .route("/cases/{id}", get(casework::detail_page))
        .route("/cases/{id}/{step}", post(casework::step))
        .route(
            "/services",
            get(casework::services_page).post(casework::create_service),
        )
        .route("/services/new", get(casework::new_service))
        .route("/services/export.xlsx", get(casework::services_export))
        .route(
            "/services/{id}",
            get(casework::service_page).post(casework::correct_service),
        )
        .route("/services/{id}/delete", post(casework::delete_service))
        .route(
            "/api/v1/residents",
            get(residents::api_list).post(residents::api_create),
        )
        .route("/api/v1/residents/{id}", get(residents::api_get))
        .route("/api/v1/visits/due", get(residents::api_due))
        .route(
            "/api/v1/cases",
            get(casework::api_cases).post(casework::api_open_case),
        )
        .route("/api/v1/cases/{id}", get(casework::api_case))
        .route(
            "/api/v1/services",
            get(casework::api_services).post(casework::api_record_service),
        )
        .route("/api/v1/services/{id}", get(casework::api_service))
}
