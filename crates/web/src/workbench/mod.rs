//! The workbench: the home page every signed-in user lands on, and their to-do queue.

pub mod bench;
pub mod home;
pub mod todo;

use axum::Router;
use axum::routing::get;
use utoipa::OpenApi;

use crate::http::area::{Area, MenuSection, messages};

pub const AREA: Area = Area {
    messages: messages!("workbench"),
    importers: &[],
    routes: || {
        Router::new()
            .route("/", get(home::home))
            .route("/todo", get(todo::todo_page))
            .route("/api/v1/todo", get(todo::api_todo))
            .route("/api/v1/todo/count", get(todo::api_count))
            .route("/api/v1/workbench", get(bench::api_workbench))
    },
    api: || Api::openapi(),
    menu: &[MenuSection {
        rank: 10,
        group: "menu.group.workbench",
        entries: &[("menu.home", "/", None), ("menu.todo", "/todo", None)],
    }],
};

#[derive(OpenApi)]
#[openapi(
    paths(todo::api_todo, todo::api_count, bench::api_workbench),
    tags((name = "workbench", description = "工作台: the caller's to-do queue and home-page panels, read from the records"))
)]
struct Api;
