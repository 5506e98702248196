//! Evaluation of purchased services (评估): the evaluations of contracts in scope, each a score
//! sheet of its indicator tree entered node by node, moved plan → … → final score and grade →
//! published, with rectification tasks. The final score assesses the contract's instalments
//! triggered by that kind of evaluation. Evaluators (`evaluator` accounts of an evaluation
//! organisation) see and score only what is assigned to their organisation.

pub mod api;
pub mod labels;
pub mod pages;
pub mod tree_text;
pub mod trees;
pub mod trees_api;
pub mod writes;

use axum::Router;
use axum::routing::{get, post};
use shegong_domain::Permission;
use utoipa::OpenApi;

use crate::http::area::{Area, MenuSection, messages};
use crate::http::state::AppState;

pub const AREA: Area = Area {
    messages: messages!("evaluation"),
    routes,
    api: || Api::openapi(),
    menu: &[MenuSection {
        rank: 56,
        group: "menu.group.evaluation",
        entries: &[
            (
                "menu.evaluations",
                "/evaluations",
                Some(Permission::ReadData),
            ),
            (
                "menu.indicator_trees",
                "/evaluations/trees",
                Some(Permission::ReadData),
            ),
        ],
    }],
    importers: &[],
};

#[derive(OpenApi)]
#[openapi(
    paths(
        api::api_list,
        api::api_create,
        api::api_get,
        api::api_patch,
        api::api_scores,
        api::api_state,
        api::api_add_rectification,
        api::api_move_rectification,
        trees_api::api_list,
        trees_api::api_get,
        trees_api::api_create,
    ),
    tags((name = "evaluation", description = "Evaluations of purchased services: score sheets, states, rectifications, final scores and grades"))
)]
struct Api;

fn routes() -> Router<AppState> {
    Router::new()
        .route("/evaluations", get(pages::list_page).post(pages::create))
        .route(
            "/evaluations/trees",
            get(trees::list_page).post(trees::create),
        )
        .route("/evaluations/trees/new", get(trees::new_page))
        .route("/evaluations/trees/{id}", get(trees::detail_page))
        .route("/evaluations/trees/{id}/export.xlsx", get(trees::export))
        .route(
            "/api/v1/indicator-trees",
            get(trees_api::api_list).post(trees_api::api_create),
        )
        .route("/api/v1/indicator-trees/{id}", get(trees_api::api_get))
        .route("/evaluations/{id}", get(pages::detail_page))
        .route("/evaluations/{id}/evaluator", post(pages::assign))
        .route("/evaluations/{id}/scores", post(pages::save_scores))
        .route("/evaluations/{id}/state", post(pages::move_state))
        .route(
            "/evaluations/{id}/rectifications",
            post(pages::add_rectification),
        )
        .route(
            "/evaluations/{id}/rectifications/{seq}",
            post(pages::move_rectification),
        )
        .route(
            "/api/v1/evaluations",
            get(api::api_list).post(api::api_create),
        )
        .route(
            "/api/v1/evaluations/{id}",
            get(api::api_get).patch(api::api_patch),
        )
        .route(
            "/api/v1/evaluations/{id}/scores",
            axum::routing::put(api::api_scores),
        )
        .route("/api/v1/evaluations/{id}/state", post(api::api_state))
        .route(
            "/api/v1/evaluations/{id}/rectifications",
            post(api::api_add_rectification),
        )
        .route(
            "/api/v1/evaluations/{id}/rectifications/{seq}",
            post(api::api_move_rectification),
        )
}

/// The area's codes as OpenAPI enums.
pub mod code {
    use shegong_domain::purchase::evaluation::{
        EvaluationKind, EvaluationState, RectificationState,
    };
    use utoipa::openapi::schema::Object;

    use crate::http::api::code::one_of;

    pub fn kind() -> Object {
        one_of(EvaluationKind::ALL.iter().map(|v| v.as_str()))
    }
    pub fn state() -> Object {
        one_of(EvaluationState::ALL.iter().map(|v| v.as_str()))
    }
    /// The states a rectification task steps into.
    pub fn rectification_step() -> Object {
        one_of(
            RectificationState::ALL
                .iter()
                .filter(|s| **s != RectificationState::Open)
                .map(|v| v.as_str()),
        )
    }
}
