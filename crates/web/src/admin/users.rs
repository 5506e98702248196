//! Account management: the scoped list with filters and Excel export, `GET /api/v1/users`, and
//! creating an account (forms, command line, demo data). A manager acts only on accounts inside
//! their own scope and grants only roles their own role allows.

use askama::Template;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use shegong_domain::{FieldError, Permission, Role, Scope, admin::password};
use shegong_store::admin::audit::Change;
use shegong_store::admin::users::{self, Filter, NewUser, Sort, User};
use shegong_store::{Db, PageRequest};
use utoipa::{IntoParams, ToSchema};

use crate::admin::account::hash_password;
use crate::http::auth::{Ctx, CurrentUser};
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, Crumb, page, scope_label};
use crate::http::state::AppState;
use crate::http::write::{Author, Done, Entry, MaybeWork, write_by};
use crate::ui::excel::{self, Cell, Export};
use crate::ui::i18n::Tr;
use crate::ui::list::{Pager, pager, rfc3339};

/// What creating an account needs, from a form or the command line.
pub struct CreateUser {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub scope: Scope,
    /// `None`: generate a temporary password.
    pub password: Option<String>,
    /// Must change at first login.
    pub temporary: bool,
    pub is_demo: bool,
}

/// Create an account with its audit entry; `by` a manager (who needs `ManageUsers`) or the
/// operator (command line, demo data). Returns (id, the password in clear, shown once).
pub async fn create_user(
    db: &Db,
    policy: &password::PasswordPolicy,
    by: Author<'_>,
    input: CreateUser,
    now: i64,
) -> WebResult<(String, String)> {
    let clear = match input.password {
        Some(p) => {
            policy.check(&p, &input.username)?;
            p
        }
        None => password::temporary(),
    };
    let hash = hash_password(clear.clone()).await?;
    let id = write_by(
        db,
        by,
        now,
        Entry::new("user", "create").requiring(Permission::ManageUsers),
        move |conn| -> MaybeWork<'_, String> {
            Box::pin(async move {
                let new = NewUser {
                    username: input.username.clone(),
                    display_name: input.display_name.clone(),
                    role: input.role,
                    scope: input.scope.clone(),
                    password_hash: hash,
                    must_change_password: input.temporary,
                    is_demo: input.is_demo,
                };
                let id = users::create(conn, &new, now).await?;
                let done = Done {
                    entity_id: id.clone(),
                    region: Some(input.scope.prefix().to_owned()),
                    changes: vec![
                        Change::new(
                            "username",
                            None::<String>,
                            Some(input.username.trim().to_ascii_lowercase()),
                        ),
                        Change::new("display_name", None::<String>, Some(&input.display_name)),
                        Change::new("role", None::<String>, Some(input.role.as_str())),
                        Change::new("region", None::<String>, Some(input.scope.region_key())),
                        Change::new(
                            "org",
                            None::<String>,
                            input.scope.org.map(|o| o.to_string()),
                        ),
                        Change::redacted("password"),
                    ],
                };
                Ok((Some(done), id))
            })
        },
    )
    .await?
    .map_err(|e| WebError::Invalid(vec![e]))?;
    Ok((id, clear))
}

pub(super) fn manager(ctx: &Ctx) -> WebResult<&CurrentUser> {
    let u = ctx.user()?;
    u.require(Permission::ManageUsers)?;
    Ok(u)
}

/// Roles this manager may give, in display order.
pub(super) fn grantable(u: &CurrentUser) -> Vec<Role> {
    Role::ALL
        .into_iter()
        .filter(|r| u.role().can_grant(*r))
        .collect()
}

/// Parse and check role + scope from a form against what the manager may grant.
pub(super) fn parse_access(
    u: &CurrentUser,
    role: &str,
    region: &str,
    org: &str,
) -> Result<(Role, Scope), Vec<FieldError>> {
    let mut errors = Vec::new();
    let role = if role.trim().is_empty() {
        errors.push(FieldError::new("role", "form.required"));
        None
    } else {
        Role::parse(role).map_err(|e| errors.push(e)).ok()
    };
    if let Some(r) = role
        && !u.role().can_grant(r)
    {
        errors.push(FieldError::new("role", "user.role_not_grantable"));
    }
    let mine = u.scope();
    // An empty region means the whole country, which only a national manager may grant: for
    // anyone else it is a field left empty.
    let parsed_region = if region.trim().is_empty() && mine.region.is_some() {
        errors.push(FieldError::new("region", "form.required"));
        Err(())
    } else {
        Scope::parse_region(region).map_err(|e| errors.push(e))
    };
    let region_parsed = parsed_region.is_ok();
    let region = parsed_region.ok().flatten();
    let org = match org.trim() {
        "" => None,
        s => s
            .parse()
            .map_err(|_| errors.push(FieldError::new("org", "org.unknown")))
            .ok(),
    };
    let scope = Scope { region, org };
    // The scope must lie inside the manager's; an org-bound manager keeps the org.
    let region_only = Scope {
        region: mine.region.clone(),
        org: None,
    };
    if region_parsed && !region_only.covers(&scope) {
        errors.push(FieldError::new("region", "user.region_out_of_scope"));
    }
    if let Some(o) = mine.org
        && scope.org != Some(o)
    {
        errors.push(FieldError::new("org", "user.org_out_of_scope"));
    }
    match (role, errors.is_empty()) {
        (Some(r), true) => Ok((r, scope)),
        _ => Err(errors),
    }
}

pub(super) fn status_of(t: &Tr, u: &User, now: i64) -> (String, &'static str) {
    if u.is_disabled() {
        (t.get("user.status.disabled").to_owned(), "tag-muted")
    } else if u.is_locked(now) {
        (t.get("user.status.locked").to_owned(), "tag-bad")
    } else if u.must_change_password != 0 {
        (t.get("user.status.temporary").to_owned(), "tag-warn")
    } else {
        (t.get("user.status.active").to_owned(), "tag-ok")
    }
}

#[derive(Deserialize, IntoParams, Default)]
pub struct ListQuery {
    /// Username or display name contains.
    pub q: Option<String>,
    pub role: Option<String>,
    /// Only accounts whose scope lies in this region's subtree.
    pub region: Option<String>,
    /// `active` or `disabled`.
    pub status: Option<String>,
    /// `username` (default), `created` or `last_login`.
    pub sort: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    pub notice: Option<String>,
}

impl ListQuery {
    fn filter(&self) -> Filter {
        Filter {
            q: self.q.clone(),
            role: self.role.as_deref().and_then(|r| Role::parse(r).ok()),
            region: self.region.clone(),
            disabled: match self.status.as_deref() {
                Some("active") => Some(false),
                Some("disabled") => Some(true),
                _ => None,
            },
            sort: Sort::parse(self.sort.as_deref().unwrap_or("")),
        }
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("q", self.q.clone().unwrap_or_default()),
            ("role", self.role.clone().unwrap_or_default()),
            ("region", self.region.clone().unwrap_or_default()),
            ("status", self.status.clone().unwrap_or_default()),
            ("sort", self.sort.clone().unwrap_or_default()),
        ]
    }
}

pub struct Row {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub scope: String,
    pub org: String,
    pub status: String,
    pub status_class: &'static str,
    pub last_login: String,
}

#[derive(Template)]
#[template(path = "admin/users/list.html")]
struct ListPage {
    t: Tr,
    base: Base,
    rows: Vec<Row>,
    pager: Pager,
    q: ListQuery,
    roles: Vec<(String, String)>,
    export_href: String,
    /// Security administrators also manage where a second factor is required.
    twofactor_admin: bool,
}

pub async fn list_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> WebResult<Response> {
    let u = manager(&ctx)?;
    let t = ctx.tr();
    let now = state.now();
    let mut c = state.db.read().await?;
    let page_data = users::list(
        &mut c,
        &u.scope(),
        &q.filter(),
        PageRequest::new(q.page, q.per_page),
    )
    .await?;
    let rows = page_data
        .items
        .iter()
        .map(|x| {
            let (status, status_class) = status_of(&t, x, now);
            Row {
                id: x.id.clone(),
                username: x.username.clone(),
                display_name: x.display_name.clone(),
                role: t.role(&x.role),
                scope: scope_label(&t, x.region_path.as_deref(), &x.region_code),
                org: x.org_name.clone().unwrap_or_default(),
                status,
                status_class,
                last_login: t.opt_datetime(x.last_login_at),
            }
        })
        .collect();
    let pairs = q.pairs();
    let export_href = format!(
        "/admin/users/export.xlsx?{}",
        serde_urlencoded::to_string(&pairs).unwrap_or_default()
    );
    let title = t.get("menu.users");
    Ok(page(
        StatusCode::OK,
        &ListPage {
            t,
            base: Base::new(&ctx, title, vec![Crumb::here(title)])
                .with_notice(&t, q.notice.as_deref()),
            rows,
            pager: pager(&t, &page_data, "/admin/users", &pairs)?,
            roles: Role::ALL
                .iter()
                .map(|r| (r.as_str().to_owned(), t.role(r.as_str())))
                .collect(),
            q,
            export_href,
            twofactor_admin: ctx
                .user
                .as_ref()
                .is_some_and(|u| u.role() == Role::SecurityAdmin),
        },
    ))
}

pub async fn export(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> WebResult<Response> {
    let export = Export::check(&ctx, "user", Permission::ManageUsers)?;
    let u = export.user();
    let t = ctx.tr();
    let now = state.now();
    let mut c = state.db.read().await?;
    let data = users::list(
        &mut c,
        &u.scope(),
        &q.filter(),
        PageRequest {
            page: 1,
            per_page: excel::MAX_ROWS,
        },
    )
    .await?;
    drop(c);
    let headers = [
        "user.username",
        "user.display_name",
        "user.role",
        "user.scope",
        "user.org",
        "common.status",
        "user.last_login",
        "common.created_at",
    ]
    .map(|k| t.get(k));
    let rows: Vec<Vec<Cell>> = data
        .items
        .iter()
        .map(|x| {
            vec![
                x.username.as_str().into(),
                x.display_name.as_str().into(),
                t.role(&x.role).into(),
                scope_label(&t, x.region_path.as_deref(), &x.region_code).into(),
                x.org_name.clone().unwrap_or_default().into(),
                status_of(&t, x, now).0.into(),
                t.opt_datetime(x.last_login_at).into(),
                t.datetime(x.created_at).into(),
            ]
        })
        .collect();
    export
        .send(&state, &ctx, "menu.users", &headers, &rows, vec![])
        .await
}

/// An account as the API returns it.
#[derive(Serialize, ToSchema)]
pub struct UserDto {
    pub id: String,
    pub username: String,
    /// Display name.
    pub name: String,
    pub role: String,
    /// Scope region code; empty for the whole country.
    pub region_code: String,
    pub region_path: Vec<String>,
    pub org_id: Option<String>,
    pub org_name: Option<String>,
    /// `active`, `disabled`, `locked` or `temporary_password`.
    pub status: String,
    pub last_login_at: Option<String>,
    pub created_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct UserPage {
    pub items: Vec<UserDto>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// Accounts within the caller's scope (account managers only).
#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(ListQuery),
    responses((status = 200, body = UserPage), (status = 401, description = "Not signed in"), (status = 403, description = "Not an account manager")))]
pub async fn api_list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> WebResult<Json<UserPage>> {
    let u = manager(&ctx)?;
    let now = state.now();
    let mut c = state.db.read().await?;
    let p = users::list(
        &mut c,
        &u.scope(),
        &q.filter(),
        PageRequest::new(q.page, q.per_page),
    )
    .await?;
    Ok(Json(UserPage {
        items: p.items.into_iter().map(|x| dto(x, now)).collect(),
        total: p.total,
        page: p.page,
        per_page: p.per_page,
    }))
}

/// An account as the API returns it; `now` decides whether it is locked.
pub(super) fn dto(x: User, now: i64) -> UserDto {
    UserDto {
        status: if x.is_disabled() {
            "disabled"
        } else if x.is_locked(now) {
            "locked"
        } else if x.must_change_password != 0 {
            "temporary_password"
        } else {
            "active"
        }
        .to_owned(),
        last_login_at: x.last_login_at.map(rfc3339),
        created_at: rfc3339(x.created_at),
        region_path: x
            .region_path
            .as_deref()
            .map(|p| p.split('/').map(str::to_owned).collect())
            .unwrap_or_default(),
        id: x.id,
        username: x.username,
        name: x.display_name,
        role: x.role,
        region_code: x.region_code,
        org_id: x.org_id,
        org_name: x.org_name,
    }
}
