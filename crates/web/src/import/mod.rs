//! Spreadsheet import, one engine for every registry: the [`engine::Importer`] trait each
//! area implements for its registries (`network::import`, `workforce::import`,
//! `people::import`), the shared upload → preview → commit pages (`flow`), the staged parsed
//! sheet (`stage`), name resolution (`resolve`), the columns importers declare (`schema`), reading
//! sheets into checked rows (`sheet`, `cells`), the template download (`template`) and bounded
//! reading of uploads (`limits`).

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

/// The import pages of every area's importers; they are reached from the registries' own pages.
pub const AREA: Area = Area {
    messages: messages!("import"),
    routes: flow::routes,
    api: || utoipa::openapi::OpenApiBuilder::new().build(),
    menu: &[],
    importers: &[],
};
