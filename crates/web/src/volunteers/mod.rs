//! Volunteering (志愿服务), issue 15 item 1: the volunteer registry (`/volunteers`), teams,
//! activities with sign-up and attendance (organiser or QR code), hour records, certificates and star awards.

pub mod activities;
pub mod api;
pub mod certificates;
pub mod checkin;
pub mod hours;
pub mod import;
pub mod input;
pub mod registry;
pub mod stars;
pub mod team_import;
pub mod teams;

use axum::Router;
use axum::routing::{get, post};
use shegong_domain::Permission;
use utoipa::OpenApi;

use crate::http::area::{Area, MenuSection, messages};
use crate::http::state::AppState;

pub const AREA: Area = Area {
    messages: messages!("volunteers"),
    importers: &[&import::VOLUNTEERS, &team_import::TEAMS],
    routes,
    api: || Api::openapi(),
    menu: &[MenuSection {
        rank: 45,
        group: "menu.group.volunteers",
        entries: &[
            ("menu.volunteers", "/volunteers", Some(Permission::ReadData)),
            (
                "menu.volunteer_teams",
                "/volunteer-teams",
                Some(Permission::ReadData),
            ),
            (
                "menu.volunteer_activities",
                "/volunteer-activities",
                Some(Permission::ReadData),
            ),
            (
                "menu.volunteer_hours",
                "/volunteer-hours",
                Some(Permission::ReadData),
            ),
        ],
    }],
};

#[derive(OpenApi)]
#[openapi(
    paths(
        api::api_list,
        api::api_get,
        api::api_create,
        api::api_patch,
        api::api_reveal,
        teams::api_list,
        teams::api_get,
        teams::api_create,
        teams::api_add_member,
        teams::api_remove_member,
        activities::api_list,
        activities::api_get,
        activities::api_create,
        activities::api_status,
        activities::api_sign_up,
        activities::api_withdraw,
        activities::api_attend,
        activities::api_service,
        hours::api_list,
        hours::api_get,
        hours::api_step,
        certificates::api_list,
        certificates::api_issue,
        stars::api_list,
        stars::api_award,
    ),
    tags((name = "volunteers", description = "Volunteering: the registry, teams, activities with attendance, hour records and certificates"))
)]
struct Api;

fn routes() -> Router<AppState> {
    Router::new()
        .merge(teams::routes())
        .merge(activities::routes())
        .merge(hours::routes())
        .merge(certificates::routes())
        .merge(stars::routes())
        .route("/checkin/{token}", get(checkin::form).post(checkin::submit))
        .route(
            "/volunteers",
            get(registry::list_page).post(registry::create),
        )
        .route("/volunteers/new", get(registry::new_form))
        .route("/volunteers/export.xlsx", get(registry::export))
        .route(
            "/volunteers/{id}",
            get(registry::detail_page).post(registry::update),
        )
        .route("/volunteers/{id}/edit", get(registry::edit_form))
        .route("/volunteers/{id}/reveal", post(registry::reveal))
        .route("/api/v1/volunteers/{id}/reveal", post(api::api_reveal))
        .route(
            "/api/v1/volunteers",
            get(api::api_list).post(api::api_create),
        )
        .route(
            "/api/v1/volunteers/{id}",
            get(api::api_get).patch(api::api_patch),
        )
}
