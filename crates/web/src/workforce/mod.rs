//! The workforce: social workers (staff), certificates, training, supervision and the workforce
//! dashboard with its staffing rule.

pub mod dashboard;
pub mod import;
pub mod staff;
pub mod staff_api;
pub mod staff_form;
pub mod supervision;
pub mod training;
pub mod workforce_api;

use axum::Router;
use axum::routing::{get, post, put};
use shegong_domain::Permission;
use utoipa::OpenApi;

use crate::http::area::{Area, MenuSection, messages};
use crate::http::state::AppState;

pub const AREA: Area = Area {
    messages: messages!("workforce"),
    importers: &[&import::STAFF],
    routes,
    api: || Api::openapi(),
    menu: &[MenuSection {
        rank: 50,
        group: "menu.group.workforce",
        entries: &[
            ("menu.workforce", "/workforce", Some(Permission::ReadData)),
            ("menu.staff", "/staff", Some(Permission::ReadData)),
            (
                "menu.supervision",
                "/supervision",
                Some(Permission::ReadData),
            ),
        ],
    }],
};

#[derive(OpenApi)]
#[openapi(paths(
    staff_api::api_list,
    staff_api::api_get,
    staff_api::api_create,
    staff_api::api_reveal,
    training::api_trainings,
    training::api_add_training,
    supervision::api_supervision,
    workforce_api::api_update,
    workforce_api::api_add_certificate,
    workforce_api::api_add_training,
    workforce_api::api_add_pair,
    workforce_api::api_add_session,
    workforce_api::api_add_team,
    workforce_api::api_add_member,
    workforce_api::api_set_rule,
))]
struct Api;

/// The workforce pages' changes by API (issue 19 item 5).
fn api_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/staff/{id}/certificates",
            post(workforce_api::api_add_certificate),
        )
        .route(
            "/api/v1/staff/{id}/trainings",
            post(workforce_api::api_add_training),
        )
        .route(
            "/api/v1/supervision/pairs",
            post(workforce_api::api_add_pair),
        )
        .route(
            "/api/v1/supervision/pairs/{id}/sessions",
            post(workforce_api::api_add_session),
        )
        .route(
            "/api/v1/supervision/teams",
            post(workforce_api::api_add_team),
        )
        .route(
            "/api/v1/supervision/teams/{id}/members",
            post(workforce_api::api_add_member),
        )
        .route("/api/v1/workforce/rule", put(workforce_api::api_set_rule))
}

fn routes() -> Router<AppState> {
    api_routes()
        .route("/staff", get(staff::list_page).post(staff_form::create))
        .route("/staff/new", get(staff_form::new_form))
        .route("/staff/find", post(staff::find))
        .route("/staff/export.xlsx", get(staff::export))
        .route(
            "/staff/{id}",
            get(staff::detail_page).post(staff_form::update),
        )
        .route("/staff/{id}/edit", get(staff_form::edit_form))
        .route("/staff/{id}/reveal", post(staff::reveal))
        .route("/staff/{id}/certificates", post(staff::add_certificate))
        .route("/staff/{id}/trainings", post(training::add_training))
        .route("/supervision", get(supervision::supervision_page))
        .route("/supervision/pairs", post(supervision::add_pair))
        .route(
            "/supervision/pairs/{id}/sessions",
            post(supervision::add_session),
        )
        .route("/supervision/teams", post(supervision::add_team))
        .route(
            "/supervision/teams/{id}/members",
            post(supervision::add_member),
        )
        .route("/workforce", get(dashboard::stats_root))
        .route("/workforce/rule", post(dashboard::set_rule))
        .route("/workforce/{code}", get(dashboard::stats_region))
        .route(
            "/api/v1/staff",
            get(staff_api::api_list).post(staff_api::api_create),
        )
        .route(
            "/api/v1/staff/{id}",
            get(staff_api::api_get).put(workforce_api::api_update),
        )
        .route("/api/v1/staff/{id}/reveal", post(staff_api::api_reveal))
        .route(
            "/api/v1/trainings",
            get(training::api_trainings).post(training::api_add_training),
        )
        .route("/api/v1/supervision", get(supervision::api_supervision))
}
