//! The station network: the region tree, stations (registry, funding, services, construction
//! progress, attachments), the organisations that run them, coverage, construction targets,
//! the five indicators and inspections with their rectifications.

pub mod attachments;
pub mod checklist;
pub mod construction;
pub mod coverage;
pub mod import;
pub mod indicators;
pub mod inspection_check;
pub mod inspections;
pub mod inspections_api;
pub mod network_api;
pub mod org_links;
pub mod orgs;
pub mod rect_api;
pub mod rect_batch;
pub mod regions;
pub mod station_page;
pub mod station_progress;
pub mod stations;
pub mod stations_api;

use axum::Router;
use axum::routing::{get, post, put};
use shegong_domain::Permission;
use utoipa::OpenApi;

use crate::http::area::{Area, MenuSection, messages};
use crate::http::state::AppState;

pub const AREA: Area = Area {
    messages: messages!("network"),
    importers: &[&import::STATIONS, &import::ORGS],
    routes,
    api: || Api::openapi(),
    menu: &[
        MenuSection {
            rank: 30,
            group: "menu.group.network",
            entries: &[
                ("menu.coverage", "/coverage", Some(Permission::ReadData)),
                ("menu.stations", "/stations", Some(Permission::ReadData)),
                ("menu.orgs", "/orgs", Some(Permission::ReadData)),
                (
                    "menu.construction",
                    "/construction",
                    Some(Permission::ReadData),
                ),
                (
                    "menu.inspections",
                    "/inspections",
                    Some(Permission::ReadData),
                ),
                ("menu.indicators", "/indicators", Some(Permission::ReadData)),
            ],
        },
        MenuSection {
            rank: 60,
            group: "menu.group.reference",
            entries: &[("menu.regions", "/regions", Some(Permission::ReadData))],
        },
    ],
};

#[derive(OpenApi)]
#[openapi(paths(
    regions::api_search,
    regions::api_get,
    regions::api_children,
    stations_api::api_list,
    stations_api::api_get,
    stations_api::api_create,
    stations_api::api_update,
    checklist::api_checklist,
    checklist::api_save_checklist,
    station_progress::api_progress,
    station_progress::api_report,
    orgs::api_list,
    orgs::api_get,
    orgs::api_create,
    orgs::api_update,
    org_links::api_links,
    org_links::api_link,
    org_links::api_unlink,
    coverage::api_coverage,
    inspections::api_list,
    inspections::api_void,
    inspections_api::api_create_plan,
    inspections_api::api_record_visit,
    rect_api::api_list,
    rect_api::api_get,
    rect_api::api_advance,
    rect_api::api_upload,
    attachments::download,
    rect_batch::api_close,
    network_api::api_funding,
    network_api::api_services,
    network_api::api_confirm,
    network_api::api_attachment,
    network_api::api_target,
    network_api::api_add_item,
    network_api::api_add_service,
    network_api::api_set_active,
))]
struct Api;

/// The station, construction and indicators pages' changes by API (issue 19 item 5).
fn network_api_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/stations/{id}/funding",
            post(network_api::api_funding),
        )
        .route(
            "/api/v1/stations/{id}/services",
            put(network_api::api_services),
        )
        .route(
            "/api/v1/stations/{id}/confirm",
            post(network_api::api_confirm),
        )
        .route(
            "/api/v1/stations/{id}/attachments",
            post(network_api::api_attachment),
        )
        .route(
            "/api/v1/construction/targets",
            post(network_api::api_target),
        )
        .route("/api/v1/indicators", post(network_api::api_add_item))
        .route(
            "/api/v1/indicators/services",
            post(network_api::api_add_service),
        )
        .route(
            "/api/v1/indicators/{id}/active",
            post(network_api::api_set_active),
        )
}

/// The station checklist: the page's one form and the API.
fn checklist_routes() -> Router<AppState> {
    Router::new()
        .route("/stations/{id}/assess", post(checklist::assess))
        .route(
            "/api/v1/stations/{id}/checklist",
            get(checklist::api_checklist).put(checklist::api_save_checklist),
        )
}

/// The inspection record's print page and closing rectifications in batch (issue 18).
fn print_and_batch_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/inspections/visits/{id}/print",
            get(inspections::print_visit),
        )
        .route(
            "/inspections/rectifications/batch/close",
            post(rect_batch::page_close),
        )
        .route(
            "/api/v1/rectifications/batch/close",
            post(rect_batch::api_close),
        )
}

/// Rectifications by API and their evidence (page and API), inspections created by API.
fn rectification_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/inspections/rectifications/{id}/evidence",
            post(rect_api::upload_page),
        )
        .route("/api/v1/rectifications", get(rect_api::api_list))
        .route("/api/v1/rectifications/{id}", get(rect_api::api_get))
        .route(
            "/api/v1/rectifications/{id}/advance",
            post(rect_api::api_advance),
        )
        .route(
            "/api/v1/rectifications/{id}/evidence",
            post(rect_api::api_upload),
        )
        .route("/api/v1/attachments/{id}", get(attachments::download))
        .route(
            "/api/v1/inspections/plans",
            post(inspections_api::api_create_plan),
        )
        .route(
            "/api/v1/inspections/visits",
            post(inspections_api::api_record_visit),
        )
}

fn routes() -> Router<AppState> {
    checklist_routes()
        .merge(network_api_routes())
        .merge(print_and_batch_routes().merge(rectification_routes()))
        .route("/regions", get(regions::page_root))
        .route("/regions/{code}", get(regions::page_region))
        .route("/stations", get(stations::list_page).post(stations::create))
        .route("/stations/new", get(stations::new_form))
        .route("/stations/export.xlsx", get(stations::export))
        .route(
            "/stations/{id}",
            get(station_page::detail_page).post(stations::update),
        )
        .route("/stations/{id}/edit", get(stations::edit_form))
        .route("/stations/{id}/funding", post(station_page::set_funding))
        .route("/stations/{id}/services", post(station_page::set_services))
        .route(
            "/stations/{id}/progress",
            post(station_progress::report_progress),
        )
        .route("/stations/{id}/confirm", post(station_progress::confirm))
        .route(
            "/stations/{id}/attachments",
            post(attachments::upload_station),
        )
        .route("/attachments/{id}", get(attachments::download))
        .route("/orgs", get(orgs::list_page).post(orgs::create))
        .route("/orgs/new", get(orgs::new_form))
        .route("/orgs/export.xlsx", get(orgs::export))
        .route("/orgs/{id}", get(orgs::edit_form).post(orgs::update))
        .route(
            "/orgs/{id}/links",
            get(org_links::page_links).post(org_links::page_link),
        )
        .route(
            "/orgs/{id}/links/{other}/delete",
            post(org_links::page_unlink),
        )
        .route("/coverage", get(coverage::page_root))
        .route("/coverage/{code}", get(coverage::page_region))
        .route("/construction", get(construction::page_construction))
        .route("/construction/targets", post(construction::set_target))
        .route("/inspections", get(inspections::page_index))
        .route("/inspections/plans", post(inspections::create_plan))
        .route("/inspections/visits", post(inspections::create_visit))
        .route("/inspections/visits/new", get(inspections::new_visit))
        .route("/inspections/visits/{id}", get(inspections::visit_page))
        .route(
            "/inspections/visits/{id}/void",
            post(inspections::void_page),
        )
        .route(
            "/inspections/rectifications/{id}",
            get(inspections::rectification_page).post(inspections::advance),
        )
        .route(
            "/indicators",
            get(indicators::page_indicators).post(indicators::add_item),
        )
        .route("/indicators/services", post(indicators::add_service))
        .route("/indicators/{id}/active", post(indicators::toggle_item))
        .route("/api/v1/regions", get(regions::api_search))
        .route("/api/v1/regions/{code}", get(regions::api_get))
        .route(
            "/api/v1/regions/{code}/children",
            get(regions::api_children),
        )
        .route(
            "/api/v1/stations",
            get(stations_api::api_list).post(stations_api::api_create),
        )
        .route(
            "/api/v1/stations/{id}",
            get(stations_api::api_get).put(stations_api::api_update),
        )
        .route(
            "/api/v1/stations/{id}/progress",
            get(station_progress::api_progress).post(station_progress::api_report),
        )
        .route(
            "/api/v1/organizations",
            get(orgs::api_list).post(orgs::api_create),
        )
        .route(
            "/api/v1/organizations/{id}",
            get(orgs::api_get).put(orgs::api_update),
        )
        .route(
            "/api/v1/organizations/{id}/links",
            get(org_links::api_links).post(org_links::api_link),
        )
        .route(
            "/api/v1/organizations/{id}/links/{other}",
            axum::routing::delete(org_links::api_unlink),
        )
        .route(
            "/api/v1/coverage/{region_code}",
            get(coverage::api_coverage),
        )
        .route("/api/v1/inspections", get(inspections::api_list))
        .route("/api/v1/inspections/{id}/void", post(inspections::api_void))
}
