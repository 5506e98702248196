//! Accounts. Reads and changes are scoped: a manager sees and changes only accounts whose scope
//! region lies in their own. Authentication lookups (by username at login, by id for a session
//! or token) are the one exception, in [`auth`], and return only what authentication needs.

use serde::Serialize;
use shegong_domain::{FieldError, Role, Scope};
use sqlx::AnyConnection;

use crate::sql::Sql;
use crate::{Millis, Page, PageRequest, StoreError, StoreResult, new_id};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct User {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: String,
    /// '' is the whole country.
    pub region_code: String,
    pub region_path: Option<String>,
    pub org_id: Option<String>,
    pub org_name: Option<String>,
    pub must_change_password: i64,
    pub password_changed_at: i64,
    pub failed_logins: i64,
    pub locked_until: Option<i64>,
    pub disabled: i64,
    /// May open protected files (children under 14, abuse and violence) not assigned to them.
    pub sees_protected: i64,
    pub last_login_at: Option<i64>,
    pub last_login_ip: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl User {
    #[allow(clippy::expect_used)] // The schema's CHECK admits only known roles.
    pub fn role(&self) -> Role {
        Role::parse(&self.role).expect("roles are checked by the schema")
    }

    /// The account's data scope. Stored values are validated on write; should one ever fail to
    /// parse, this fails closed (panics, answered as a 500) rather than widening to national.
    #[allow(clippy::expect_used)] // Fails closed on a corrupt row, as said above.
    pub fn scope(&self) -> Scope {
        Scope {
            region: Scope::parse_region(&self.region_code).expect("stored scope region is valid"),
            org: self
                .org_id
                .as_deref()
                .map(|o| o.parse().expect("stored scope org is a UUID")),
        }
    }

    pub fn is_disabled(&self) -> bool {
        self.disabled != 0
    }

    pub fn is_locked(&self, now: Millis) -> bool {
        self.locked_until.is_some_and(|t| t > now)
    }
}

const SELECT: &str = "SELECT u.id, u.username, u.display_name, u.role, u.region_code, \
     r.path_names AS region_path, u.org_id, o.name AS org_name, u.must_change_password, \
     u.password_changed_at, u.failed_logins, u.locked_until, u.disabled, u.sees_protected, u.last_login_at, \
     u.last_login_ip, u.created_at, u.updated_at \
     FROM users u LEFT JOIN regions r ON r.code = u.region_code \
     LEFT JOIN organizations o ON o.id = u.org_id";

fn scoped(scope: &Scope) -> Sql {
    scoped_from(SELECT, scope)
}

/// `select` (which must alias users as `u`) restricted to the scope.
fn scoped_from(select: &'static str, scope: &Scope) -> Sql {
    let mut q = Sql::new(select);
    q.push(" WHERE ");
    q.region_range("u.region_code", scope);
    if let Some(org) = scope.org {
        q.push(" AND u.org_id = ").bind(org.to_string());
    }
    q
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub scope: Scope,
    pub password_hash: String,
    pub must_change_password: bool,
    pub is_demo: bool,
}

/// Usernames: 3–32 characters of ASCII letters, digits, '.', '_' and '-'.
pub fn check_username(s: &str) -> Result<String, FieldError> {
    let s = s.trim();
    let ok_chars = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !(3..=32).contains(&s.len()) || !ok_chars {
        return Err(FieldError::new("username", "user.username_invalid"));
    }
    Ok(s.to_ascii_lowercase())
}

/// Check that a role fits a scope: an organisation where required, no village for admins, and
/// the organisation (if any) exists.
pub async fn check_access(conn: &mut AnyConnection, role: Role, scope: &Scope) -> StoreResult<()> {
    if role.requires_org() && scope.org.is_none() {
        return Err(FieldError::new("org", "user.org_required").into());
    }
    if !role.allows_org() && scope.org.is_some() {
        return Err(FieldError::new("org", "user.org_not_allowed").into());
    }
    if let Some(r) = &scope.region {
        if r.level() == shegong_domain::RegionLevel::Village && !role.allows_village_scope() {
            return Err(FieldError::new("region", "user.region_too_low").into());
        }
        let exists = Sql::new("SELECT COUNT(*) FROM regions WHERE code = ")
            .bind(r.as_str())
            .fetch_i64(conn)
            .await?;
        if exists == 0 {
            return Err(FieldError::new("region", "region.unknown").into());
        }
    }
    if let Some(org) = scope.org {
        let exists = Sql::new("SELECT COUNT(*) FROM organizations WHERE id = ")
            .bind(org.to_string())
            .fetch_i64(conn)
            .await?;
        if exists == 0 {
            return Err(FieldError::new("org", "org.unknown").into());
        }
    }
    Ok(())
}

pub async fn create(conn: &mut AnyConnection, new: &NewUser, now: Millis) -> StoreResult<String> {
    let username = check_username(&new.username)?;
    if new.display_name.trim().is_empty() || new.display_name.chars().count() > 64 {
        return Err(FieldError::new("display_name", "user.display_name_invalid").into());
    }
    check_access(conn, new.role, &new.scope).await?;
    // Checked first: a violated constraint would abort the caller's PostgreSQL transaction.
    let taken = Sql::new("SELECT COUNT(*) FROM users WHERE username = ")
        .bind(&username)
        .fetch_i64(conn)
        .await?;
    if taken > 0 {
        return Err(FieldError::new("username", "user.username_taken").into());
    }
    let id = new_id();
    Sql::new(
        "INSERT INTO users (id, username, display_name, role, region_code, org_id, password_hash, \
         must_change_password, password_changed_at, failed_logins, disabled, is_demo, created_at, updated_at) VALUES (",
    )
    .bind(&id)
    .push(", ")
    .bind(username)
    .push(", ")
    .bind(new.display_name.trim())
    .push(", ")
    .bind(new.role.as_str())
    .push(", ")
    .bind(new.scope.prefix())
    .push(", ")
    .bind(new.scope.org.map(|o| o.to_string()))
    .push(", ")
    .bind(&new.password_hash)
    .push(", ")
    .bind(new.must_change_password)
    .push(", ")
    .bind(now)
    .push(", 0, 0, ")
    .bind(new.is_demo)
    .push(", ")
    .bind(now)
    .push(", ")
    .bind(now)
    .push(")")
    .execute(conn)
    .await?;
    Ok(id)
}

/// An account in scope, or NotFound.
pub async fn get(conn: &mut AnyConnection, scope: &Scope, id: &str) -> StoreResult<User> {
    let mut q = scoped(scope);
    q.push(" AND u.id = ").bind(id);
    q.fetch_one(conn).await
}

pub async fn get_by_username(
    conn: &mut AnyConnection,
    scope: &Scope,
    username: &str,
) -> StoreResult<User> {
    let mut q = scoped(scope);
    q.push(" AND u.username = ")
        .bind(username.trim().to_ascii_lowercase());
    q.fetch_one(conn).await
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Matches username or display name.
    pub q: Option<String>,
    pub role: Option<Role>,
    /// Only accounts in this region's subtree (must itself be in scope to match anything).
    pub region: Option<String>,
    pub disabled: Option<bool>,
    pub sort: Sort,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Sort {
    #[default]
    Username,
    Created,
    LastLogin,
}

impl Sort {
    pub fn parse(s: &str) -> Self {
        match s {
            "created" => Sort::Created,
            "last_login" => Sort::LastLogin,
            _ => Sort::Username,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Username => "username",
            Sort::Created => "created",
            Sort::LastLogin => "last_login",
        }
    }

    fn order_by(self) -> &'static str {
        match self {
            Sort::Username => " ORDER BY u.username",
            Sort::Created => " ORDER BY u.created_at DESC, u.id",
            Sort::LastLogin => " ORDER BY COALESCE(u.last_login_at, 0) DESC, u.id",
        }
    }
}

fn filtered(scope: &Scope, f: &Filter, select: &'static str) -> Sql {
    let mut q = scoped_from(select, scope);
    if let Some(text) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        q.contains_any(&["u.username", "u.display_name"], text);
    }
    if let Some(r) = f.role {
        q.push(" AND u.role = ").bind(r.as_str());
    }
    if let Some(region) = f.region.as_deref().filter(|s| !s.is_empty()) {
        let sub = Scope {
            region: Scope::parse_region(region).ok().flatten(),
            org: None,
        };
        q.push(" AND ");
        q.region_range("u.region_code", &sub);
    }
    if let Some(d) = f.disabled {
        q.push(" AND u.disabled = ").bind(d);
    }
    q
}

pub async fn list(
    conn: &mut AnyConnection,
    scope: &Scope,
    filter: &Filter,
    page: PageRequest,
) -> StoreResult<Page<User>> {
    let count_from = "SELECT COUNT(*) FROM users u";
    let mut q = filtered(scope, filter, SELECT);
    q.push(filter.sort.order_by());
    q.fetch_page(conn, &filtered(scope, filter, count_from), page)
        .await
}

/// Change role and scope of an account in `scope`. Returns the account before the change.
pub async fn update_access(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
    display_name: &str,
    role: Role,
    new_scope: &Scope,
    now: Millis,
) -> StoreResult<User> {
    crate::admin::accounts_changed();
    let before = get(conn, scope, id).await?;
    if display_name.trim().is_empty() || display_name.chars().count() > 64 {
        return Err(FieldError::new("display_name", "user.display_name_invalid").into());
    }
    check_access(conn, role, new_scope).await?;
    Sql::new("UPDATE users SET display_name = ")
        .bind(display_name.trim())
        .push(", role = ")
        .bind(role.as_str())
        .push(", region_code = ")
        .bind(new_scope.prefix())
        .push(", org_id = ")
        .bind(new_scope.org.map(|o| o.to_string()))
        .push(", updated_at = ")
        .bind(now)
        .push(" WHERE id = ")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(before)
}

pub async fn set_disabled(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
    disabled: bool,
    now: Millis,
) -> StoreResult<User> {
    crate::admin::accounts_changed();
    let before = get(conn, scope, id).await?;
    Sql::new("UPDATE users SET disabled = ")
        .bind(disabled)
        .push(", failed_logins = 0, locked_until = NULL, updated_at = ")
        .bind(now)
        .push(" WHERE id = ")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(before)
}

/// Give or take the grant to open protected files of people served.
pub async fn set_sees_protected(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
    grant: bool,
    now: Millis,
) -> StoreResult<User> {
    crate::admin::accounts_changed();
    let before = get(conn, scope, id).await?;
    Sql::new("UPDATE users SET sees_protected = ")
        .bind(i64::from(grant))
        .push(", updated_at = ")
        .bind(now)
        .push(" WHERE id = ")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(before)
}

/// Set a new password hash. `temporary` forces a change at next login. Clears any lockout.
pub async fn set_password(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
    hash: &str,
    temporary: bool,
    now: Millis,
) -> StoreResult<User> {
    crate::admin::accounts_changed();
    let before = get(conn, scope, id).await?;
    Sql::new("UPDATE users SET password_hash = ")
        .bind(hash)
        .push(", must_change_password = ")
        .bind(temporary)
        .push(", password_changed_at = ")
        .bind(now)
        .push(", failed_logins = 0, locked_until = NULL, updated_at = ")
        .bind(now)
        .push(" WHERE id = ")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(before)
}

/// Lookups for authentication only: they are how a scope is established in the first place.
pub mod auth {
    use super::*;

    #[derive(Debug, Clone, sqlx::FromRow)]
    pub struct Credentials {
        pub id: String,
        pub username: String,
        pub region_code: String,
        pub password_hash: String,
        pub failed_logins: i64,
        pub locked_until: Option<i64>,
        pub disabled: i64,
        pub is_demo: i64,
        pub password_changed_at: i64,
    }

    pub async fn credentials(
        conn: &mut AnyConnection,
        username: &str,
    ) -> StoreResult<Option<Credentials>> {
        Sql::new(
            "SELECT id, username, region_code, password_hash, failed_logins, locked_until, disabled, \
             is_demo, password_changed_at FROM users WHERE username = ",
        )
        .bind(username.trim().to_ascii_lowercase())
        .fetch_optional(conn)
        .await
    }

    /// The account behind a session or token (its own record, from which its scope comes).
    pub async fn by_id(conn: &mut AnyConnection, id: &str) -> StoreResult<User> {
        let mut q = Sql::new(SELECT);
        q.push(" WHERE u.id = ").bind(id);
        q.fetch_one(conn).await
    }

    /// Count a failed login; lock the account when `max_failures` is reached.
    /// Returns the lock expiry if this failure locked it.
    pub async fn record_failure(
        conn: &mut AnyConnection,
        id: &str,
        max_failures: i64,
        lock_for: Millis,
        now: Millis,
    ) -> StoreResult<Option<Millis>> {
        crate::admin::accounts_changed();
        let (failures,): (i64,) =
            Sql::new("UPDATE users SET failed_logins = failed_logins + 1 WHERE id = ")
                .bind(id)
                .push(" RETURNING failed_logins")
                .fetch_one(conn)
                .await?;
        if failures >= max_failures {
            let until = now + lock_for;
            Sql::new("UPDATE users SET locked_until = ")
                .bind(until)
                .push(", failed_logins = 0 WHERE id = ")
                .bind(id)
                .execute(conn)
                .await?;
            return Ok(Some(until));
        }
        Ok(None)
    }

    pub async fn record_success(
        conn: &mut AnyConnection,
        id: &str,
        ip: Option<&str>,
        now: Millis,
    ) -> StoreResult<()> {
        crate::admin::accounts_changed();
        Sql::new("UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = ")
            .bind(now)
            .push(", last_login_ip = ")
            .bind(ip)
            .push(" WHERE id = ")
            .bind(id)
            .execute(conn)
            .await?;
        Ok(())
    }

    /// Change one's own password (the caller has verified the current one).
    pub async fn change_own_password(
        conn: &mut AnyConnection,
        id: &str,
        hash: &str,
        now: Millis,
    ) -> StoreResult<()> {
        crate::admin::accounts_changed();
        let n = Sql::new("UPDATE users SET password_hash = ")
            .bind(hash)
            .push(", must_change_password = 0, password_changed_at = ")
            .bind(now)
            .push(", updated_at = ")
            .bind(now)
            .push(" WHERE id = ")
            .bind(id)
            .execute(conn)
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Require a password change at the next page (an expired password).
    pub async fn force_change(conn: &mut AnyConnection, id: &str) -> StoreResult<()> {
        crate::admin::accounts_changed();
        Sql::new("UPDATE users SET must_change_password = 1 WHERE id = ")
            .bind(id)
            .execute(conn)
            .await?;
        Ok(())
    }

    pub async fn password_hash(conn: &mut AnyConnection, id: &str) -> StoreResult<String> {
        let (h,): (String,) = Sql::new("SELECT password_hash FROM users WHERE id = ")
            .bind(id)
            .fetch_one(conn)
            .await?;
        Ok(h)
    }
}

/// Count of all accounts (for first-start checks).
pub async fn count_all(conn: &mut AnyConnection) -> StoreResult<i64> {
    Sql::new("SELECT COUNT(*) FROM users").fetch_i64(conn).await
}

/// Whether an account already has this username (anywhere: usernames are unique nationally).
pub async fn username_taken(conn: &mut AnyConnection, username: &str) -> StoreResult<bool> {
    let n = Sql::new("SELECT COUNT(*) FROM users WHERE username = ")
        .bind(username)
        .fetch_i64(conn)
        .await?;
    Ok(n > 0)
}

/// "Display name (username)" of the accounts among `ids` (other ids are left out), for showing
/// account ids recorded in audit changes. Accounts are not business data; the audit readers
/// already see actors' names.
pub async fn display_names(
    conn: &mut AnyConnection,
    ids: &[String],
) -> StoreResult<std::collections::HashMap<String, String>> {
    let mut out = std::collections::HashMap::new();
    let mut unique: Vec<&String> = ids.iter().collect();
    unique.sort();
    unique.dedup();
    for chunk in unique.chunks(200) {
        let mut q = Sql::new("SELECT id, display_name, username FROM users WHERE id IN (");
        for (i, id) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.bind(id.as_str());
        }
        q.push(")");
        for (id, name, username) in q.fetch_all::<(String, String, String)>(conn).await? {
            out.insert(id, format!("{name}（{username}）"));
        }
    }
    Ok(out)
}
