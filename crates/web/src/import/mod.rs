//! Spreadsheet import, one engine for every registry: the [`engine::Importer`] trait each
//! area implements for its registries (`network::import`, `workforce::import`,
//! `people::import`), the shared upload → preview → commit pages (`flow`) and
//! API operations (`api`), the staged parsed
//! sheet (`stage`), name resolution (`resolve`), the columns importers declare (`schema`), reading
//! sheets into checked rows (`sheet`, `cells`), the template download (`template`) and bounded
//! reading of uploads (`limits`).

pub mod api;
pub mod cells;
pub mod engine;
pub mod flow;
pub mod header;
pub mod jobs;
pub mod limits;
pub mod mapping;
pub mod resolve;
pub mod schema;
pub mod sheet;
pub mod stage;
pub mod template;

use crate::http::area::{Area, messages};

fn routes() -> axum::Router<crate::http::state::AppState> {
    use axum::routing::{get, post, put};
    flow::routes()
        .route("/api/v1/imports/{registry}", post(api::api_upload))
        .route("/api/v1/imports/{registry}/{batch}", get(api::api_get))
        .route(
            "/api/v1/imports/{registry}/{batch}/mapping",
            put(api::api_mapping),
        )
        .route(
            "/api/v1/imports/{registry}/{batch}/commit",
            post(api::api_commit),
        )
        .route(
            "/api/v1/imports/{registry}/{batch}/cancel",
            post(api::api_cancel),
        )
}

/// The import pages of every area's importers; they are reached from the registries' own pages.
pub const AREA: Area = Area {
    messages: messages!("import"),
    routes,
    api: <api::ImportApi as utoipa::OpenApi>::openapi,
    menu: &[],
    importers: &[],
};
