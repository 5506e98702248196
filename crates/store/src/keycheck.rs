//! The database remembers which keys sealed it, so a server started with the wrong key ring (a
//! lost or replaced key file) refuses to start instead of serving sealed fields as blanks and
//! sealing new values with a key nobody will have later.
//!
//! `app_meta.sealing_keys` holds a JSON object: key id → fingerprint (see
//! [`KeyRing::fingerprints`]), plus the lookup-hash key under [`HASH_KEY_ID`]. Every key that
//! becomes primary is added at start; `keys reencrypt` narrows the record to the primary once no
//! value sealed by an older key is left.

use std::collections::BTreeMap;

use sqlx::AnyConnection;

use crate::crypto::{HASH_KEY_ID, KeyRing};
use crate::sql::Sql;
use crate::{Db, StoreResult, reseal};

const META_KEY: &str = "sealing_keys";

/// What the check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyCheck {
    /// The ring holds every key the database needs (the record is now up to date).
    Ok,
    /// Keys the database was sealed with (ids; `#hash` for the lookup-hash key) that the ring
    /// lacks or holds with different material.
    Missing(Vec<String>),
    /// The database holds sealed values but records no keys (made before the record existed)
    /// and the ring cannot open them.
    Unreadable,
}

async fn recorded(conn: &mut AnyConnection) -> StoreResult<Option<BTreeMap<String, String>>> {
    let row: Option<(String,)> = Sql::new("SELECT value FROM app_meta WHERE key = ")
        .bind(META_KEY)
        .fetch_optional(conn)
        .await?;
    Ok(row.and_then(|(v,)| serde_json::from_str(&v).ok()))
}

async fn record(conn: &mut AnyConnection, keys: &BTreeMap<String, String>) -> StoreResult<()> {
    let value = serde_json::to_string(keys).unwrap_or_else(|_| "{}".into());
    Sql::new("INSERT INTO app_meta (key, value) VALUES (")
        .bind(META_KEY)
        .push(", ")
        .bind(value)
        .push(") ON CONFLICT (key) DO UPDATE SET value = excluded.value")
        .execute(conn)
        .await?;
    Ok(())
}

/// One sealed value of any sealed column, if the database holds any.
async fn some_sealed_value(
    conn: &mut AnyConnection,
) -> StoreResult<Option<(String, &'static str)>> {
    for c in reseal::SEALED_COLUMNS {
        let row: Option<(String,)> = Sql::new(c.any).fetch_optional(conn).await?;
        if let Some((v,)) = row {
            return Ok(Some((v, c.field)));
        }
    }
    Ok(None)
}

/// Whether the database depends on a key ring: it records sealing keys or holds sealed values.
/// A server must not create a fresh key ring for such a database.
pub async fn needs_existing_ring(db: &Db) -> StoreResult<bool> {
    let mut conn = db.read().await?;
    Ok(recorded(&mut conn).await?.is_some_and(|r| !r.is_empty())
        || some_sealed_value(&mut conn).await?.is_some())
}

/// Check `keys` against the record and add the ring's primary (and hash key) to it.
pub async fn check_and_record(db: &Db, keys: &KeyRing) -> StoreResult<KeyCheck> {
    let mut tx = db.begin().await?;
    let mut rec = match recorded(&mut tx).await? {
        Some(r) => r,
        None => {
            // A database from before the record: accept the ring only if it opens what is there.
            if let Some((sealed, field)) = some_sealed_value(&mut tx).await?
                && keys.open(field, &sealed).is_err()
            {
                return Ok(KeyCheck::Unreadable);
            }
            BTreeMap::new()
        }
    };
    let fps = keys.fingerprints();
    let missing: Vec<String> = rec
        .iter()
        .filter(|(id, fp)| fps.get(*id) != Some(*fp))
        .map(|(id, _)| id.clone())
        .collect();
    if !missing.is_empty() {
        return Ok(KeyCheck::Missing(missing));
    }
    let before = rec.len();
    for id in [keys.primary(), HASH_KEY_ID] {
        if let Some(fp) = fps.get(id) {
            rec.entry(id.to_owned()).or_insert_with(|| fp.clone());
        }
    }
    if rec.len() != before {
        record(&mut tx, &rec).await?;
        tx.commit().await?;
    }
    Ok(KeyCheck::Ok)
}

/// After every value was re-sealed by the primary key: only the primary (and the hash key)
/// are still needed, so older keys may leave the ring.
pub async fn record_only_primary(db: &Db, keys: &KeyRing) -> StoreResult<()> {
    let fps = keys.fingerprints();
    let rec: BTreeMap<String, String> = [keys.primary(), HASH_KEY_ID]
        .into_iter()
        .filter_map(|id| fps.get(id).map(|fp| (id.to_owned(), fp.clone())))
        .collect();
    let mut tx = db.begin().await?;
    record(&mut tx, &rec).await?;
    tx.commit().await?;
    Ok(())
}
