//! Spreadsheet import: bounded reading of uploads (`limits`), parsing sheets into checked rows
//! (`read`), and the upload → preview → commit flow of every registry (`flow`).

pub mod flow;
pub mod limits;
pub mod sheet;

use crate::http::area::{Area, messages};

/// The import pages of every registry; they are reached from the registries' own pages.
pub const AREA: Area = Area {
    messages: messages!("import"),
    routes: flow::routes,
    api: || utoipa::openapi::OpenApiBuilder::new().build(),
    menu: &[],
};
