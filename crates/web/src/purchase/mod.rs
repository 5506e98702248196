//! Government purchase of services (政府购买服务): the catalogue, contracts with their lines,
//! budget and stations, and payment plans whose instalments are assessed, requested and paid.
//! Catalogue items move through their life with a kept history.
//! Each contract line's deliverables are counted from service records (maintained counts), shown
//! on the contract page and, for the contracts of a scope, on the delivery overview.
//! Evaluations on indicator trees are their own area (`evaluations`). What the public portal
//! publishes of all this (published catalogues, procurement and contract notices, published
//! grades) is `/public/purchase` and `/api/v1/public/purchase`, without login (`portal`).

pub mod catalogue;
pub mod contracts;
pub mod contracts_api;
pub mod evaluations;
pub mod execution;
pub mod import;
pub mod input;
pub mod portal;
pub mod projects;
pub mod summary;
pub mod writes;

use axum::Router;
use axum::routing::{get, post};
use shegong_domain::Permission;
use utoipa::OpenApi;

use crate::http::area::{Area, MenuSection, messages};
use crate::http::state::AppState;

pub const AREA: Area = Area {
    messages: messages!("purchase"),
    importers: &[&import::CATALOGUE, &import::CONTRACTS],
    routes,
    api: || Api::openapi(),
    menu: &[MenuSection {
        rank: 55,
        group: "menu.group.purchase",
        entries: &[
            ("menu.catalogue", "/catalogue", Some(Permission::ReadData)),
            ("menu.projects", "/projects", Some(Permission::ReadData)),
            ("menu.contracts", "/contracts", Some(Permission::ReadData)),
            (
                "menu.delivery",
                "/contracts/delivery",
                Some(Permission::ReadData),
            ),
            (
                "menu.purchase_summary",
                "/contracts/summary",
                Some(Permission::ReadData),
            ),
        ],
    }],
};

#[derive(OpenApi)]
#[openapi(
    paths(
        catalogue::api_list,
        catalogue::api_create,
        catalogue::api_move,
        catalogue::api_publish,
        contracts_api::api_list,
        contracts_api::api_create,
        contracts_api::api_get,
        contracts_api::api_patch,
        contracts_api::api_instalments,
        contracts_api::api_move_instalment,
        contracts_api::api_deliverables,
        contracts_api::api_delivery,
        execution::api_expenses,
        execution::api_record_expense,
        execution::api_void_expense,
        execution::api_positions,
        execution::api_add_position,
        execution::api_fill,
        execution::api_end_fill,
        summary::api_summary,
        projects::api_list,
        projects::api_create,
        projects::api_get,
        projects::api_move,
        projects::api_notice,
        projects::api_award,
        portal::api_get,
    ),
    tags((name = "purchase", description = "Purchase of services: catalogue, contracts, payment plans and instalments"))
)]
struct Api;

fn routes() -> Router<AppState> {
    Router::new()
        .merge(projects::routes())
        .merge(execution::routes())
        .route(
            "/catalogue",
            get(catalogue::page_get).post(catalogue::page_post),
        )
        .route("/catalogue/items/{id}/status", post(catalogue::page_move))
        .route(
            "/catalogue/editions/{id}/publish",
            post(catalogue::page_publish),
        )
        .route(
            "/contracts",
            get(contracts::list_page).post(contracts::create),
        )
        .route("/contracts/new", get(contracts::new_form))
        .route("/contracts/delivery", get(contracts::delivery_page))
        .route(
            "/contracts/delivery/export.xlsx",
            get(contracts::delivery_export),
        )
        .route("/contracts/export.xlsx", get(contracts::export))
        .route("/contracts/summary", get(summary::page_summary))
        .route("/contracts/summary/export.xlsx", get(summary::export))
        .route("/api/v1/purchase/summary", get(summary::api_summary))
        .route("/contracts/{id}", get(contracts::detail_page))
        .route("/contracts/{id}/state", post(contracts::move_state))
        .route(
            "/contracts/{id}/instalments/{seq}",
            post(contracts::move_instalment),
        )
        .route("/public/purchase", get(portal::page_get))
        .route("/api/v1/public/purchase", get(portal::api_get))
        .route(
            "/api/v1/catalogue",
            get(catalogue::api_list).post(catalogue::api_create),
        )
        .route(
            "/api/v1/catalogue/items/{id}/status",
            post(catalogue::api_move),
        )
        .route(
            "/api/v1/catalogue/editions/{id}/publish",
            post(catalogue::api_publish),
        )
        .route(
            "/api/v1/contracts",
            get(contracts_api::api_list).post(contracts_api::api_create),
        )
        .route(
            "/api/v1/contracts/{id}",
            get(contracts_api::api_get).patch(contracts_api::api_patch),
        )
        .route(
            "/api/v1/contracts/delivery",
            get(contracts_api::api_delivery),
        )
        .route(
            "/api/v1/contracts/{id}/deliverables",
            get(contracts_api::api_deliverables),
        )
        .route(
            "/api/v1/contracts/{id}/instalments",
            get(contracts_api::api_instalments),
        )
        .route(
            "/api/v1/contracts/{id}/instalments/{seq}",
            post(contracts_api::api_move_instalment),
        )
}

/// The purchase area's codes as OpenAPI enums, so the document says what each field takes.
pub mod code {
    use shegong_domain::people::ServiceKind;
    use shegong_domain::purchase::catalogue::{ItemStatus, RemovalReason, ServiceField};
    use shegong_domain::purchase::contract::{
        BudgetCategory, ContractState, LineTier, ProcurementMethod,
    };
    use shegong_domain::purchase::evaluation::EvaluationKind;
    use shegong_domain::purchase::instalment::AssessmentOutcome;
    use utoipa::openapi::schema::Object;

    use crate::http::api::code::one_of;

    pub fn service_field() -> Object {
        one_of(ServiceField::ALL.iter().map(|v| v.as_str()))
    }
    pub fn item_status() -> Object {
        one_of(ItemStatus::ALL.iter().map(|v| v.as_str()))
    }
    /// A removal reason, or empty for steps other than removal.
    pub fn removal_reason() -> Object {
        one_of(std::iter::once("").chain(RemovalReason::ALL.iter().map(|v| v.as_str())))
    }
    pub fn contract_state() -> Object {
        one_of(ContractState::ALL.iter().map(|v| v.as_str()))
    }
    pub fn project_state() -> Object {
        one_of(
            shegong_domain::purchase::project::ProjectState::ALL
                .iter()
                .map(|v| v.as_str()),
        )
    }
    pub fn notice_kind() -> Object {
        one_of(
            shegong_domain::purchase::project::NoticeKind::ALL
                .iter()
                .map(|v| v.as_str()),
        )
    }
    pub fn method() -> Object {
        one_of(ProcurementMethod::ALL.iter().map(|v| v.as_str()))
    }
    pub fn budget_category() -> Object {
        one_of(BudgetCategory::ALL.iter().map(|v| v.as_str()))
    }
    /// A service kind, or empty for lines not counted from service records.
    pub fn service_kind() -> Object {
        one_of(std::iter::once("").chain(ServiceKind::ALL.iter().map(|v| v.as_str())))
    }
    pub fn rule() -> Object {
        one_of(["each", "person_times", "group", "activity", "closed_case"])
    }
    pub fn tier() -> Object {
        one_of(LineTier::ALL.iter().map(|v| v.as_str()))
    }
    pub fn trigger() -> Object {
        one_of(["date", "assessed_on", "evaluation"])
    }
    pub fn evaluation_kind() -> Object {
        one_of(EvaluationKind::ALL.iter().map(|v| v.as_str()))
    }
    /// The states an instalment steps into (every state but the first).
    pub fn instalment_step() -> Object {
        one_of(["awaiting_assessment", "assessed", "requested", "paid"])
    }
    pub fn outcome() -> Object {
        one_of(AssessmentOutcome::ALL.iter().map(|v| v.as_str()))
    }
}
