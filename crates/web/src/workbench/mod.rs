//! The workbench: the home page every signed-in user lands on.

pub mod home;

use axum::Router;
use axum::routing::get;

use crate::http::area::{Area, MenuSection, messages};

pub const AREA: Area = Area {
    messages: messages!("workbench"),
    importers: &[],
    routes: || Router::new().route("/", get(home::home)),
    api: || utoipa::openapi::OpenApiBuilder::new().build(),
    menu: &[MenuSection {
        rank: 10,
        group: "menu.group.workbench",
        entries: &[("menu.home", "/", None)],
    }],
};
