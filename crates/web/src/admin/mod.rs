//! Accounts and who may do what: sign-in and the own account, users (account managers), second
//! factors, the audit log (auditors) and the system page (system administrators).

pub mod account;
pub mod audit;
pub mod system;
pub mod twofactor;
pub mod twofactor_account;
pub mod twofactor_admin;
pub mod twofactor_enrol;
pub mod user_actions;
pub mod user_form;
pub mod users;
pub mod users_api;

use axum::Router;
use axum::routing::{get, post, put};
use shegong_domain::Permission;
use utoipa::OpenApi;

use crate::http::area::{Area, MenuSection, messages};
use crate::http::state::AppState;

pub const AREA: Area = Area {
    messages: messages!("admin"),
    importers: &[],
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
#[openapi(paths(
    account::api_me,
    users::api_list,
    audit::api_list,
    users_api::api_create,
    users_api::api_update,
    users_api::api_disable,
    users_api::api_enable,
    users_api::api_unlock,
    users_api::api_grant_protected,
    users_api::api_revoke_protected,
    users_api::api_reset_password,
    users_api::api_reset_twofactor,
    users_api::api_require_twofactor,
    users_api::api_unrequire_twofactor,
))]
struct Api;

/// Account administration by API: the users pages' changes (issue 19 item 5).
fn users_api_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/users",
            get(users::api_list).post(users_api::api_create),
        )
        .route("/api/v1/users/{id}", put(users_api::api_update))
        .route("/api/v1/users/{id}/disable", post(users_api::api_disable))
        .route("/api/v1/users/{id}/enable", post(users_api::api_enable))
        .route("/api/v1/users/{id}/unlock", post(users_api::api_unlock))
        .route(
            "/api/v1/users/{id}/grant-protected",
            post(users_api::api_grant_protected),
        )
        .route(
            "/api/v1/users/{id}/revoke-protected",
            post(users_api::api_revoke_protected),
        )
        .route(
            "/api/v1/users/{id}/reset-password",
            post(users_api::api_reset_password),
        )
        .route(
            "/api/v1/users/{id}/reset-twofactor",
            post(users_api::api_reset_twofactor),
        )
        .route(
            "/api/v1/twofactor/required-regions",
            post(users_api::api_require_twofactor),
        )
        .route(
            "/api/v1/twofactor/required-regions/remove",
            post(users_api::api_unrequire_twofactor),
        )
}

fn routes() -> Router<AppState> {
    users_api_routes()
        .route("/login", get(account::login_form).post(account::login))
        .route("/logout", post(account::logout))
        .route("/account", get(account::account))
        .route(
            "/account/password",
            get(account::password_form).post(account::change_password),
        )
        .route("/account/tokens", post(account::add_token))
        .route("/account/tokens/{id}/revoke", post(account::revoke_token))
        .route(
            "/admin/users",
            get(users::list_page).post(user_form::create),
        )
        .route("/admin/users/new", get(user_form::new_form))
        .route("/admin/users/export.xlsx", get(users::export))
        .route(
            "/admin/users/{id}",
            get(user_form::edit_form).post(user_form::update),
        )
        .route("/admin/users/{id}/disable", post(user_actions::disable))
        .route("/admin/users/{id}/enable", post(user_actions::enable))
        .route("/admin/users/{id}/unlock", post(user_actions::unlock))
        .route(
            "/admin/users/{id}/grant-protected",
            post(user_actions::grant_protected),
        )
        .route(
            "/admin/users/{id}/revoke-protected",
            post(user_actions::revoke_protected),
        )
        .route(
            "/admin/users/{id}/reset-password",
            post(user_actions::reset_password),
        )
        .route("/audit", get(audit::list_page))
        .route("/audit/verify", get(audit::verify_page))
        .route("/audit/export.xlsx", get(audit::export))
        .route("/admin/system", get(system::page_system))
        .route("/api/v1/me", get(account::api_me))
        .route("/api/v1/audit", get(audit::api_list))
        .route(
            "/login/twofactor",
            get(twofactor::verify_form).post(twofactor::verify),
        )
        .route(
            "/login/twofactor/enrol",
            get(twofactor::login_enrol_form).post(twofactor::login_enrol),
        )
        .route("/login/twofactor/qr.svg", get(twofactor::login_qr))
        .route("/login/twofactor/cancel", post(twofactor::cancel))
        .route(
            "/account/twofactor",
            get(twofactor_account::account_page).post(twofactor_account::account_enrol),
        )
        .route(
            "/account/twofactor/qr.svg",
            get(twofactor_account::account_qr),
        )
        .route(
            "/account/twofactor/disable",
            post(twofactor_account::account_disable),
        )
        .route(
            "/admin/twofactor",
            get(twofactor_admin::admin_page).post(twofactor_admin::admin_require),
        )
        .route(
            "/admin/twofactor/remove",
            post(twofactor_admin::admin_unrequire),
        )
        .route(
            "/admin/users/{id}/reset-twofactor",
            post(user_actions::reset_twofactor),
        )
}
