//! The workforce: social workers (staff), certificates, training, supervision and the workforce
//! dashboard with its staffing rule.

pub mod import;
pub mod staff;

use axum::Router;
use axum::routing::{get, post};
use shegong_domain::Permission;
use utoipa::OpenApi;

use crate::http::area::{Area, MenuSection, messages};
use crate::http::state::AppState;

pub const AREA: Area = Area {
    messages: messages!("workforce"),
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
    staff::api_list,
    staff::api_get,
    staff::api_create,
    staff::api_reveal,
    staff::api_trainings,
    staff::api_add_training,
    staff::api_supervision,
))]
struct Api;

fn routes() -> Router<AppState> {
    Router::new()
        .route("/staff", get(staff::list_page).post(staff::create))
        .route("/staff/new", get(staff::new_form))
        .route("/staff/find", post(staff::find))
        .route("/staff/export.xlsx", get(staff::export))
        .route("/staff/{id}", get(staff::detail_page).post(staff::update))
        .route("/staff/{id}/edit", get(staff::edit_form))
        .route("/staff/{id}/reveal", post(staff::reveal))
        .route("/staff/{id}/certificates", post(staff::add_certificate))
        .route("/staff/{id}/trainings", post(staff::add_training))
        .route("/supervision", get(staff::supervision_page))
        .route("/supervision/pairs", post(staff::add_pair))
        .route("/supervision/pairs/{id}/sessions", post(staff::add_session))
        .route("/supervision/teams", post(staff::add_team))
        .route("/supervision/teams/{id}/members", post(staff::add_member))
        .route("/workforce", get(staff::stats_root))
        .route("/workforce/rule", post(staff::set_rule))
        .route("/workforce/{code}", get(staff::stats_region))
        .route(
            "/api/v1/staff",
            get(staff::api_list).post(staff::api_create),
        )
        .route("/api/v1/staff/{id}", get(staff::api_get))
        .route("/api/v1/staff/{id}/reveal", post(staff::api_reveal))
        .route(
            "/api/v1/trainings",
            get(staff::api_trainings).post(staff::api_add_training),
        )
        .route("/api/v1/supervision", get(staff::api_supervision))
}
