//! Re-sealing after a key rotation: every sealed column of every table, rewritten with the
//! primary key in small transactions while the server keeps running. A new sealed column is
//! added to `SEALED` (the test in `tests/store/people.rs` checks that rotation reaches them all).

use crate::crypto::KeyRing;
use crate::sql::Sql;
use crate::{
    Db, StoreError, StoreResult, people::cases, people::residents, people::services,
    volunteers::registry, workforce::staff,
};

/// One sealed column with the statements over it, written out whole at compile time.
pub(crate) struct SealedColumn {
    pub table: &'static str,
    pub column: &'static str,
    /// The field name bound into the seal.
    pub field: &'static str,
    /// `SELECT id, column … NOT LIKE `, followed by the current key's pattern.
    older: &'static str,
    /// `UPDATE table SET column = `, followed by the new seal.
    update: &'static str,
    /// One sealed value of the column, if any.
    pub any: &'static str,
}

/// Both lists from one: `SEALED` names the columns, `SEALED_COLUMNS` adds their statements.
macro_rules! sealed_columns {
    ($(($table:literal, $column:literal, $field:expr)),* $(,)?) => {
        /// (table, sealed column, field name bound into the seal).
        pub const SEALED: &[(&str, &str, &str)] = &[$(($table, $column, $field)),*];

        pub(crate) const SEALED_COLUMNS: &[SealedColumn] = &[$(SealedColumn {
            table: $table,
            column: $column,
            field: $field,
            older: concat!(
                "SELECT id, ", $column, " FROM ", $table, " WHERE ", $column,
                " IS NOT NULL AND ", $column, " NOT LIKE "
            ),
            update: concat!("UPDATE ", $table, " SET ", $column, " = "),
            any: concat!(
                "SELECT ", $column, " FROM ", $table, " WHERE ", $column, " IS NOT NULL LIMIT 1"
            ),
        }),*];
    };
}

sealed_columns![
    ("staff", "id_number_sealed", staff::ID_FIELD),
    ("staff", "mobile_sealed", staff::MOBILE_FIELD),
    ("residents", "id_number_sealed", residents::ID_FIELD),
    ("residents", "phone_sealed", residents::PHONE_FIELD),
    ("residents", "address_sealed", residents::ADDRESS_FIELD),
    (
        "residents",
        "guardian_phone_sealed",
        residents::GUARDIAN_PHONE_FIELD
    ),
    ("case_events", "body_sealed", cases::BODY_FIELD),
    ("volunteers", "id_number_sealed", registry::ID_FIELD),
    ("volunteers", "mobile_sealed", registry::MOBILE_FIELD),
    ("services", "notes_sealed", services::NOTES_FIELD),
    ("services", "geo_sealed", crate::people::evidence::GEO_FIELD),
    (
        "tickets",
        "caller_phone_sealed",
        crate::hotline::tickets::PHONE_FIELD
    ),
    (
        "notification_settings",
        "email_sealed",
        crate::notify::EMAIL_FIELD
    ),
    (
        "notification_settings",
        "mobile_sealed",
        crate::notify::MOBILE_FIELD
    ),
    (
        "twofactor_secrets",
        "secret_sealed",
        crate::admin::twofactor::SECRET_FIELD
    ),
    (
        "api_replays",
        "response_sealed",
        crate::replay::RESPONSE_FIELD
    ),
    (
        "one_time_secrets",
        "secret_sealed",
        crate::shared::SECRET_FIELD
    ),
];

/// Re-seal every value made by an older key. Returns how many values were rewritten.
pub async fn reencrypt(db: &Db, keys: &KeyRing) -> StoreResult<usize> {
    let current = format!("v1:{}:%", keys.primary());
    let mut done = 0;
    for c in SEALED_COLUMNS {
        let (table, column, field) = (c.table, c.column, c.field);
        loop {
            let mut tx = db.begin().await?;
            let rows: Vec<(String, String)> = Sql::new(c.older)
                .bind(current.clone())
                .push(" ORDER BY id LIMIT 500")
                .fetch_all(&mut tx)
                .await?;
            if rows.is_empty() {
                break;
            }
            for (id, sealed) in rows {
                let clear = keys.open(field, &sealed).map_err(|e| {
                    StoreError::Db(sqlx::Error::Protocol(format!(
                        "{table}.{column} of {id}: {e}"
                    )))
                })?;
                Sql::new(c.update)
                    .bind(keys.seal(field, &clear))
                    .push(" WHERE id = ")
                    .bind(&id)
                    .execute(&mut tx)
                    .await?;
                done += 1;
            }
            tx.commit().await?;
        }
    }
    Ok(done)
}
