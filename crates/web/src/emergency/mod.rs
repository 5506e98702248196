//! 应急社会工作 (issue 16 item 2): emergency social-work teams of staff and volunteers
//! (`/emergency-teams`), incidents with their response states, timeline, deployments and
//! figures (`/incidents`), and the API under `/api/v1/emergency-teams` and `/api/v1/incidents`.

pub mod incidents;
pub mod incidents_api;
pub mod teams;

use axum::Router;
use shegong_domain::Permission;
use utoipa::OpenApi;

use crate::http::area::{Area, MenuSection, messages};
use crate::http::state::AppState;

pub const AREA: Area = Area {
    messages: messages!("emergency"),
    importers: &[],
    routes,
    api: || Api::openapi(),
    menu: &[MenuSection {
        rank: 47,
        group: "menu.group.emergency",
        entries: &[
            ("menu.incidents", "/incidents", Some(Permission::ReadData)),
            (
                "menu.emergency_teams",
                "/emergency-teams",
                Some(Permission::ReadData),
            ),
        ],
    }],
};

#[derive(OpenApi)]
#[openapi(
    paths(
        teams::api_list,
        teams::api_get,
        teams::api_create,
        teams::api_add_member,
        incidents_api::api_list,
        incidents_api::api_get,
        incidents_api::api_create,
        incidents_api::api_transition,
        incidents_api::api_deployments,
        incidents_api::api_deploy,
    ),
    tags((name = "emergency", description = "Emergency social work: teams, incidents and their response states, deployments, figures"))
)]
struct Api;

fn routes() -> Router<AppState> {
    Router::new()
        .merge(teams::routes())
        .merge(incidents::routes())
}

/// Schemas of the emergency code sets, from the domain's lists.
pub mod code {
    use shegong_domain::emergency::{IncidentKind, IncidentLevel, IncidentState, TeamRole};
    use utoipa::openapi::schema::Object;

    use crate::http::api::code::one_of;

    pub fn role() -> Object {
        one_of(TeamRole::ALL.iter().map(|v| v.as_str()))
    }
    pub fn kind() -> Object {
        one_of(IncidentKind::ALL.iter().map(|v| v.as_str()))
    }
    /// A kind, or empty for any.
    pub fn kind_filter() -> Object {
        one_of(std::iter::once("").chain(IncidentKind::ALL.iter().map(|v| v.as_str())))
    }
    pub fn level() -> Object {
        one_of(IncidentLevel::ALL.iter().map(|v| v.as_str()))
    }
    /// A level, or empty for none yet.
    pub fn response_level() -> Object {
        one_of(std::iter::once("").chain(IncidentLevel::ALL.iter().map(|v| v.as_str())))
    }
    pub fn state() -> Object {
        one_of(IncidentState::ALL.iter().map(|v| v.as_str()))
    }
    /// A state, or empty for any.
    pub fn state_filter() -> Object {
        one_of(std::iter::once("").chain(IncidentState::ALL.iter().map(|v| v.as_str())))
    }
    /// `warning` (the default, also when empty) or `response`.
    pub fn first_state() -> Object {
        one_of(["", "warning", "response"])
    }
}
