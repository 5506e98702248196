//! Evaluation of purchased services: indicator trees, evaluations scored node by node,
//! rectifications and grades. (Being built: issue 14 item 5.)

use crate::http::area::{Area, messages};

pub const AREA: Area = Area {
    messages: messages!("evaluation"),
    routes: axum::Router::new,
    api: || utoipa::openapi::OpenApiBuilder::new().build(),
    menu: &[],
    importers: &[],
};
