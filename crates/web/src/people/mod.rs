//! People served (一人一档): residents and households, likely duplicates, risk tiers and visit
//! rules, cases through their stages, service records, and the worker's own page (`/my`).

pub mod api;
pub mod api_file;
pub mod api_work;
pub mod batch;
pub mod case_steps;
pub mod cases;
pub mod evidence;
pub mod households;
pub mod idempotency;
pub mod import;
pub mod mine;
pub mod offline;
pub mod print;
pub mod resident_file;
pub mod resident_list;
pub mod residents;
pub mod services;
pub mod visit_rules;

use axum::Router;
use axum::routing::{get, post};
use shegong_domain::Permission;
use utoipa::OpenApi;

use crate::http::area::{Area, MenuSection, messages};
use crate::http::state::AppState;

pub const AREA: Area = Area {
    messages: messages!("people"),
    importers: &[&import::RESIDENTS],
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
    api::api_list,
    api::api_get,
    api::api_create,
    api::api_due,
    api::api_cases,
    api::api_case,
    api::api_open_case,
    api::api_request_closure,
    api::api_services,
    api::api_service,
    api::api_record_service,
    batch::api_assign,
    api_file::api_update_resident,
    api_file::api_set_status,
    api_file::api_set_tier,
    api_file::api_join_household,
    api_file::api_merge,
    api_file::api_memberships,
    api_file::api_add_membership,
    api_file::api_end_membership,
    api_file::api_reveal_resident,
    api_work::api_case_step,
    api_work::api_correct_service,
    api_work::api_delete_service,
    api_work::api_visit_rules,
    api_work::api_set_visit_rule,
    offline::api_app_session,
    offline::api_app_bundle,
    evidence::api_rules,
    evidence::api_set_rule,
))]
struct Api;

fn routes() -> Router<AppState> {
    Router::new()
        .route("/my", get(mine::mine))
        .route("/app", get(offline::app_page))
        .route("/app.webmanifest", get(offline::manifest))
        .route("/sw.js", get(offline::service_worker))
        .route(
            "/residents",
            get(resident_list::list_page).post(residents::create),
        )
        .route("/residents/new", get(residents::new_form))
        .route("/residents/export.xlsx", get(resident_list::export))
        .route("/residents/batch/assign", post(batch::page_assign))
        .route(
            "/residents/{id}",
            get(resident_file::detail_page).post(residents::update),
        )
        .route("/residents/{id}/edit", get(residents::edit_form))
        .route(
            "/residents/{id}/print",
            get(print::resident_page).post(print::resident_reveal),
        )
        .route("/cases/{id}/print", get(print::case_page))
        .route("/services/{id}/print", get(print::service_page))
        .route("/residents/{id}/reveal", post(resident_file::reveal))
        .route(
            "/residents/{id}/memberships",
            post(households::add_membership),
        )
        .route(
            "/residents/{id}/memberships/{mid}/end",
            post(households::end_membership),
        )
        .route("/residents/{id}/tier", post(resident_file::set_tier))
        .route(
            "/residents/{id}/household",
            post(households::join_household),
        )
        .route("/residents/{id}/merge", post(households::merge))
        .route("/residents/{id}/status", post(resident_file::set_status))
        .route("/residents/{id}/cases", post(cases::open))
        .route(
            "/visit-rules",
            get(visit_rules::rules_page).post(visit_rules::set_rule),
        )
        .route("/visit-rules/confirmation", post(evidence::set_rule_page))
        .route("/cases", get(cases::list_page))
        .route("/cases/{id}", get(cases::detail_page))
        .route("/cases/{id}/{step}", post(case_steps::step))
        .route(
            "/services",
            get(services::services_page).post(services::create_service),
        )
        .route("/services/new", get(services::new_service))
        .route("/services/export.xlsx", get(services::services_export))
        .route(
            "/services/{id}",
            get(services::service_page).post(services::correct_service),
        )
        .route("/services/{id}/delete", post(services::delete_service))
        .merge(api_routes())
}

/// The JSON API (`api.rs`, `api_file.rs`, `api_work.rs`, the batch assignment).
fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/residents/batch/assign", post(batch::api_assign))
        .route(
            "/api/v1/residents",
            get(api::api_list).post(api::api_create),
        )
        .route(
            "/api/v1/residents/{id}",
            get(api::api_get).put(api_file::api_update_resident),
        )
        .route(
            "/api/v1/residents/{id}/status",
            post(api_file::api_set_status),
        )
        .route("/api/v1/residents/{id}/tier", post(api_file::api_set_tier))
        .route(
            "/api/v1/residents/{id}/household",
            post(api_file::api_join_household),
        )
        .route("/api/v1/residents/{id}/merge", post(api_file::api_merge))
        .route(
            "/api/v1/residents/{id}/memberships",
            get(api_file::api_memberships).post(api_file::api_add_membership),
        )
        .route(
            "/api/v1/residents/{id}/memberships/{mid}/end",
            post(api_file::api_end_membership),
        )
        .route(
            "/api/v1/residents/{id}/reveal",
            post(api_file::api_reveal_resident),
        )
        .route(
            "/api/v1/visit-rules",
            get(api_work::api_visit_rules).post(api_work::api_set_visit_rule),
        )
        .route(
            "/api/v1/visit-confirmation-rules",
            get(evidence::api_rules).post(evidence::api_set_rule),
        )
        .route("/api/v1/visits/due", get(api::api_due))
        .route("/api/v1/app/session", get(offline::api_app_session))
        .route("/api/v1/app/bundle", get(offline::api_app_bundle))
        .route(
            "/api/v1/cases",
            get(api::api_cases).post(api::api_open_case),
        )
        .route("/api/v1/cases/{id}", get(api::api_case))
        .route("/api/v1/cases/{id}/closure", post(api::api_request_closure))
        .route("/api/v1/cases/{id}/{step}", post(api_work::api_case_step))
        .route(
            "/api/v1/services",
            get(api::api_services).post(api::api_record_service),
        )
        .route(
            "/api/v1/services/{id}",
            get(api::api_service)
                .put(api_work::api_correct_service)
                .delete(api_work::api_delete_service),
        )
}
