//! Two-factor sign-in (TOTP, RFC 6238): each account's sealed secret and last accepted step,
//! its single-use recovery codes (stored hashed), the regions whose accounts must enrol, and
//! sign-ins waiting for their second step. The TOTP arithmetic lives in the web layer; this module
//! keeps the state and makes "accept once" atomic (a conditional UPDATE), so two requests racing
//! with the same code cannot both win.

use sha2::{Digest, Sha256};
use shegong_domain::Role;
use sqlx::AnyConnection;

use crate::sql::Sql;
use crate::{Millis, StoreResult, admin::sessions, new_id};

/// The field name bound into the secret's seal (see `crypto::KeyRing::seal`).
pub const SECRET_FIELD: &str = "twofactor.secret";

/// Roles that must always sign in with a second factor: the three system officers (三员) and the
/// civil-affairs administrator, who manages accounts and reads the audit log of a region.
pub fn role_requires(role: Role) -> bool {
    matches!(
        role,
        Role::SystemAdmin | Role::SecurityAdmin | Role::Auditor | Role::CivilAffairsAdmin
    )
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Enrolment {
    pub id: String,
    pub user_id: String,
    pub secret_sealed: String,
    /// `None` while the enrolment waits for its first code.
    pub confirmed_at: Option<i64>,
    pub last_step: i64,
    pub created_at: i64,
}

impl Enrolment {
    pub fn is_confirmed(&self) -> bool {
        self.confirmed_at.is_some()
    }
}

/// The account's enrolment, confirmed or in progress.
pub async fn get(conn: &mut AnyConnection, user_id: &str) -> StoreResult<Option<Enrolment>> {
    Sql::new(
        "SELECT id, user_id, secret_sealed, confirmed_at, last_step, created_at \
         FROM twofactor_secrets WHERE user_id = ",
    )
    .bind(user_id)
    .fetch_optional(conn)
    .await
}

/// Whether the account has a confirmed second factor.
pub async fn is_enrolled(conn: &mut AnyConnection, user_id: &str) -> StoreResult<bool> {
    Ok(get(conn, user_id).await?.is_some_and(|e| e.is_confirmed()))
}

/// Start (or restart) an enrolment with a new sealed secret. Refused (`false`) when the account
/// already has a confirmed second factor: that one must be turned off or reset first.
pub async fn begin(
    conn: &mut AnyConnection,
    user_id: &str,
    secret_sealed: &str,
    now: Millis,
) -> StoreResult<bool> {
    if is_enrolled(conn, user_id).await? {
        return Ok(false);
    }
    Sql::new("DELETE FROM twofactor_secrets WHERE user_id = ")
        .bind(user_id)
        .execute(conn)
        .await?;
    Sql::new("INSERT INTO twofactor_secrets (id, user_id, secret_sealed, confirmed_at, last_step, created_at) VALUES (")
        .bind(new_id())
        .push(", ")
        .bind(user_id)
        .push(", ")
        .bind(secret_sealed)
        .push(", NULL, 0, ")
        .bind(now)
        .push(")")
        .execute(conn)
        .await?;
    Ok(true)
}

/// Confirm the enrolment in progress with the step of its first code, and store the recovery
/// codes' hashes (replacing any older ones). `false` when there was nothing to confirm.
pub async fn confirm(
    conn: &mut AnyConnection,
    user_id: &str,
    step: i64,
    recovery_hashes: &[String],
    now: Millis,
) -> StoreResult<bool> {
    let n = Sql::new("UPDATE twofactor_secrets SET confirmed_at = ")
        .bind(now)
        .push(", last_step = ")
        .bind(step)
        .push(" WHERE user_id = ")
        .bind(user_id)
        .push(" AND confirmed_at IS NULL")
        .execute(conn)
        .await?;
    if n != 1 {
        return Ok(false);
    }
    replace_recovery(conn, user_id, recovery_hashes, now).await?;
    Ok(true)
}

async fn replace_recovery(
    conn: &mut AnyConnection,
    user_id: &str,
    hashes: &[String],
    now: Millis,
) -> StoreResult<()> {
    Sql::new("DELETE FROM twofactor_recovery_codes WHERE user_id = ")
        .bind(user_id)
        .execute(conn)
        .await?;
    for h in hashes {
        Sql::new(
            "INSERT INTO twofactor_recovery_codes (id, user_id, code_hash, used_at, created_at) VALUES (",
        )
        .bind(new_id())
        .push(", ")
        .bind(user_id)
        .push(", ")
        .bind(h.as_str())
        .push(", NULL, ")
        .bind(now)
        .push(")")
        .execute(conn)
        .await?;
    }
    Ok(())
}

/// Accept a code's step for a confirmed enrolment, once: `false` when this step or a later one
/// was already used (a replayed code).
pub async fn use_step(conn: &mut AnyConnection, user_id: &str, step: i64) -> StoreResult<bool> {
    let n = Sql::new("UPDATE twofactor_secrets SET last_step = ")
        .bind(step)
        .push(" WHERE user_id = ")
        .bind(user_id)
        .push(" AND confirmed_at IS NOT NULL AND last_step < ")
        .bind(step)
        .execute(conn)
        .await?;
    Ok(n == 1)
}

/// A recovery code in its canonical form: letters and digits only, lower case (so "ABCD-efgh"
/// and "abcdefgh" are the same code).
pub fn normalize_recovery(code: &str) -> String {
    code.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The stored form of a recovery code. The codes carry 80 random bits, so a plain SHA-256
/// is enough (no password-style stretching needed).
pub fn recovery_hash(code: &str) -> String {
    hex::encode(Sha256::digest(normalize_recovery(code).as_bytes()))
}

/// Spend a recovery code: `true` when it was one of the account's unused codes.
pub async fn use_recovery(
    conn: &mut AnyConnection,
    user_id: &str,
    code: &str,
    now: Millis,
) -> StoreResult<bool> {
    if normalize_recovery(code).is_empty() {
        return Ok(false);
    }
    let n = Sql::new("UPDATE twofactor_recovery_codes SET used_at = ")
        .bind(now)
        .push(" WHERE user_id = ")
        .bind(user_id)
        .push(" AND code_hash = ")
        .bind(recovery_hash(code))
        .push(" AND used_at IS NULL")
        .execute(conn)
        .await?;
    Ok(n == 1)
}

/// How many recovery codes the account has left.
pub async fn recovery_left(conn: &mut AnyConnection, user_id: &str) -> StoreResult<i64> {
    Sql::new("SELECT COUNT(*) FROM twofactor_recovery_codes WHERE used_at IS NULL AND user_id = ")
        .bind(user_id)
        .fetch_i64(conn)
        .await
}

/// Remove the account's second factor (turned off, or reset by a security administrator) and
/// any sign-in waiting for it. `true` when there was a confirmed one.
pub async fn remove(conn: &mut AnyConnection, user_id: &str) -> StoreResult<bool> {
    let had = is_enrolled(conn, user_id).await?;
    for delete in [
        "DELETE FROM twofactor_secrets WHERE user_id = ",
        "DELETE FROM twofactor_recovery_codes WHERE user_id = ",
        "DELETE FROM twofactor_pending WHERE user_id = ",
    ] {
        Sql::new(delete).bind(user_id).execute(conn).await?;
    }
    Ok(had)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RegionRequirement {
    pub region_code: String,
    pub set_by: Option<String>,
    pub set_at: i64,
}

/// Every region with a requirement, in code order.
pub async fn required_regions(conn: &mut AnyConnection) -> StoreResult<Vec<RegionRequirement>> {
    Sql::new("SELECT region_code, set_by, set_at FROM twofactor_regions ORDER BY region_code")
        .fetch_all(conn)
        .await
}

/// Whether an account scoped to `region_code` lies in a region that requires a second factor:
/// the region itself or any ancestor (codes are materialised paths, so ancestors are prefixes).
pub async fn region_requires(conn: &mut AnyConnection, region_code: &str) -> StoreResult<bool> {
    let mut q = Sql::new("SELECT COUNT(*) FROM twofactor_regions WHERE region_code IN (");
    for len in 0..=region_code.len() {
        if !region_code.is_char_boundary(len) {
            continue;
        }
        if len > 0 {
            q.push(", ");
        }
        q.bind(&region_code[..len]);
    }
    q.push(")");
    Ok(q.fetch_i64(conn).await? > 0)
}

/// Whether this account must sign in with a second factor: by role (when `administrators` is
/// on, the deployment's setting) or by its region.
pub async fn required_for(
    conn: &mut AnyConnection,
    administrators: bool,
    role: Role,
    region_code: &str,
) -> StoreResult<bool> {
    Ok((administrators && role_requires(role)) || region_requires(conn, region_code).await?)
}

/// Require a second factor in a region's subtree. Accounts in it that have not enrolled are
/// signed out, so their next sign-in goes through enrolment. Returns how many sessions ended;
/// `None` when the region already had the requirement.
pub async fn require_region(
    conn: &mut AnyConnection,
    region_code: &str,
    set_by: &str,
    now: Millis,
) -> StoreResult<Option<u64>> {
    crate::admin::accounts_changed();
    let exists = Sql::new("SELECT COUNT(*) FROM twofactor_regions WHERE region_code = ")
        .bind(region_code)
        .fetch_i64(conn)
        .await?;
    if exists > 0 {
        return Ok(None);
    }
    Sql::new("INSERT INTO twofactor_regions (region_code, set_by, set_at) VALUES (")
        .bind(region_code)
        .push(", ")
        .bind(set_by)
        .push(", ")
        .bind(now)
        .push(")")
        .execute(conn)
        .await?;
    let ended = Sql::new(
        "DELETE FROM sessions WHERE user_id IN (SELECT u.id FROM users u WHERE u.region_code >= ",
    )
    .bind(region_code)
    .push(" AND u.region_code < ")
    .bind(format!("{region_code}:"))
    .push(
        " AND NOT EXISTS (SELECT 1 FROM twofactor_secrets t \
             WHERE t.user_id = u.id AND t.confirmed_at IS NOT NULL))",
    )
    .execute(conn)
    .await?;
    Ok(Some(ended))
}

/// Lift a region's requirement (accounts below it may still be covered by an ancestor's).
/// `false` when the region had none.
pub async fn unrequire_region(conn: &mut AnyConnection, region_code: &str) -> StoreResult<bool> {
    let n = Sql::new("DELETE FROM twofactor_regions WHERE region_code = ")
        .bind(region_code)
        .execute(conn)
        .await?;
    Ok(n == 1)
}

/// What a sign-in waiting for its second step must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Give a code from the enrolled authenticator (or a recovery code).
    Verify,
    /// Enrol first: the account must have a second factor and has none.
    Enrol,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Verify => "verify",
            Purpose::Enrol => "enrol",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Pending {
    pub id_hash: String,
    pub user_id: String,
    pub purpose: Purpose,
    /// Where the sign-in leads once complete (a local path, checked before it was stored).
    pub next: String,
    pub created_at: i64,
}

/// Record a sign-in that passed the password. Returns the cookie token (only its hash is kept).
/// Expired entries are swept on the way.
pub async fn pending_create(
    conn: &mut AnyConnection,
    user_id: &str,
    purpose: Purpose,
    next: &str,
    ttl: Millis,
    now: Millis,
) -> StoreResult<String> {
    Sql::new("DELETE FROM twofactor_pending WHERE created_at < ")
        .bind(now - ttl)
        .execute(conn)
        .await?;
    let token = sessions::random_token();
    Sql::new(
        "INSERT INTO twofactor_pending (id_hash, user_id, purpose, next, created_at) VALUES (",
    )
    .bind(sessions::hash_token(&token))
    .push(", ")
    .bind(user_id)
    .push(", ")
    .bind(purpose.as_str())
    .push(", ")
    .bind(next)
    .push(", ")
    .bind(now)
    .push(")")
    .execute(conn)
    .await?;
    Ok(token)
}

/// The waiting sign-in for a cookie token, if it is younger than `ttl`.
pub async fn pending_lookup(
    conn: &mut AnyConnection,
    token: &str,
    ttl: Millis,
    now: Millis,
) -> StoreResult<Option<Pending>> {
    let row: Option<(String, String, String, String, i64)> = Sql::new(
        "SELECT id_hash, user_id, purpose, next, created_at FROM twofactor_pending WHERE id_hash = ",
    )
    .bind(sessions::hash_token(token))
    .fetch_optional(conn)
    .await?;
    Ok(row
        .filter(|r| now - r.4 <= ttl)
        .map(|(id_hash, user_id, purpose, next, created_at)| Pending {
            id_hash,
            user_id,
            purpose: if purpose == "enrol" {
                Purpose::Enrol
            } else {
                Purpose::Verify
            },
            next,
            created_at,
        }))
}

/// The waiting sign-in is done (or abandoned).
pub async fn pending_delete(conn: &mut AnyConnection, id_hash: &str) -> StoreResult<()> {
    Sql::new("DELETE FROM twofactor_pending WHERE id_hash = ")
        .bind(id_hash)
        .execute(conn)
        .await?;
    Ok(())
}
