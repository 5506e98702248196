//! Accounts and who may do what: sign-in and the own account, users (account managers), second
//! factors, the audit log (auditors) and the system page (system administrators).

pub mod account;
pub mod audit;
pub mod system;
pub mod twofactor;
pub mod users;

use axum::Router;
use axum::routing::{get, post};
use shegong_domain::Permission;
use utoipa::OpenApi;

use crate::http::area::{Area, MenuSection, messages};
use crate::http::state::AppState;

pub const AREA: Area = Area {
    messages: messages!("admin"),
    routes,
    api: || Api::openapi(),
    menu: &[
        MenuSection {
            rank: 70,
            group: "menu.group.system",
            entries: &[
                ("menu.users", "/admin/users", Some(Permission::ManageUsers)),
                ("menu.audit", "/audit", Some(Permission::ReadAudit)),
                (
                    "menu.system",
                    "/admin/system",
                    Some(Permission::ManageSystem),
                ),
                ("menu.api_docs", "/api/docs", None),
            ],
        },
        MenuSection {
            rank: 80,
            group: "menu.group.personal",
            entries: &[("menu.account", "/account", None)],
        },
    ],
};

#[derive(OpenApi)]
#[openapi(paths(account::api_me, users::api_list, audit::api_list))]
struct Api;

fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(account::login_form).post(account::login))
        .route("/logout", post(account::logout))
        .route("/account", get(account::account))
        .route(
            "/account/password",
            get(account::password_form).post(account::change_password),
        )
        .route("/account/tokens", post(account::add_token))
        .route("/account/tokens/{id}/revoke", post(account::revoke_token))
        .route("/admin/users", get(users::list_page).post(users::create))
        .route("/admin/users/new", get(users::new_form))
        .route("/admin/users/export.xlsx", get(users::export))
        .route(
            "/admin/users/{id}",
            get(users::edit_form).post(users::update),
        )
        .route("/admin/users/{id}/disable", post(users::disable))
        .route("/admin/users/{id}/enable", post(users::enable))
        .route("/admin/users/{id}/unlock", post(users::unlock))
        .route(
            "/admin/users/{id}/grant-protected",
            post(users::grant_protected),
        )
        .route(
            "/admin/users/{id}/revoke-protected",
            post(users::revoke_protected),
        )
        .route(
            "/admin/users/{id}/reset-password",
            post(users::reset_password),
        )
        .route("/audit", get(audit::list_page))
        .route("/audit/verify", get(audit::verify_page))
        .route("/audit/export.xlsx", get(audit::export))
        .route("/admin/system", get(system::page_system))
        .route("/api/v1/me", get(account::api_me))
        .route("/api/v1/users", get(users::api_list))
        .route("/api/v1/audit", get(audit::api_list))
        .merge(twofactor::routes())
}
