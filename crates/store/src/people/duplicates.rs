//! Likely duplicates (the same identity number, or a similar name with the same birth date or
//! home region, across the whole country) and merging one file into another.

use serde::Serialize;
use shegong_domain::FieldError;
use shegong_domain::people::{self};
use sqlx::AnyConnection;

use crate::crypto::KeyRing;
use crate::sql::Sql;
use crate::{Millis, StoreResult, statistics::counters};

use super::residents::{ID_FIELD, Resident, ResidentInput, Viewer, get};
use super::visit_rules::refresh_schedule;

/// A record that may be the same person as the one being entered.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    pub id: String,
    pub name: String,
    pub birth_date: String,
    pub region_path: String,
    /// Whether the viewer may open it. When not, `name`, `birth_date` and `region_path` are
    /// empty (a protected child's or another agency's client is not described to strangers)
    /// and `ask` says whom to ask instead.
    pub visible: bool,
    /// `same_id`, `same_birth_date` or `same_region`.
    pub reason: &'static str,
    pub ask: Option<AskAbout>,
}

/// Whom to ask about a possible duplicate in a file the viewer cannot open: the responsible
/// station (name and phone), or when the file has none the county's civil-affairs office.
#[derive(Debug, Clone, Serialize)]
pub struct AskAbout {
    pub station_name: Option<String>,
    pub station_phone: Option<String>,
    /// The county (district) whose civil-affairs office answers for the file, as a path.
    pub office: Option<String>,
}

/// Whom to ask about a file: its station, or the civil-affairs office of its county.
async fn ask_about(
    conn: &mut AnyConnection,
    station_id: Option<&str>,
    region_code: &str,
) -> StoreResult<AskAbout> {
    if let Some(sid) = station_id {
        let st: Option<(String, String)> = Sql::new("SELECT name, phone FROM stations WHERE id = ")
            .bind(sid)
            .fetch_optional(conn)
            .await?;
        if let Some((name, phone)) = st {
            return Ok(AskAbout {
                station_name: Some(name),
                station_phone: Some(phone).filter(|p| !p.is_empty()),
                office: None,
            });
        }
    }
    // The county, not the township: naming the township would say where the person lives.
    let county: String = region_code.chars().take(6).collect();
    let path: Option<(String,)> = Sql::new("SELECT path_names FROM regions WHERE code = ")
        .bind(county)
        .fetch_optional(conn)
        .await?;
    Ok(AskAbout {
        station_name: None,
        station_phone: None,
        office: path.map(|(p,)| shegong_domain::network::region::display_path(p.split('/'))),
    })
}

/// Exact duplicate: another record with this identity number (anywhere, whatever the scope).
pub(super) async fn id_owner(
    conn: &mut AnyConnection,
    hash: &str,
    except: Option<&str>,
) -> StoreResult<Option<String>> {
    let mut q = Sql::new("SELECT id FROM residents WHERE id_number_hash = ");
    q.bind(hash);
    if let Some(e) = except {
        q.push(" AND id <> ").bind(e);
    }
    q.fetch_optional::<(String,)>(conn)
        .await
        .map(|o| o.map(|(id,)| id))
}

/// Whether a file with this identity number exists (anywhere, in any status).
pub async fn id_on_file(
    conn: &mut AnyConnection,
    keys: &KeyRing,
    number: &str,
) -> StoreResult<bool> {
    Ok(id_owner(conn, &keys.lookup_hash(ID_FIELD, number), None)
        .await?
        .is_some())
}

/// Records that are probably the same person: the same identity number, or a similar name
/// (same characters, pinyin or one character apart) with the same birth date or the same home
/// region. Looks across the whole country (a person moves); `visible` says what the viewer may open.
pub async fn likely_duplicates(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    keys: &KeyRing,
    input: &ResidentInput,
    except: Option<&str>,
) -> StoreResult<Vec<Candidate>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: String,
        name: String,
        birth_date: String,
        region_code: String,
        region_path: String,
        id_number_hash: Option<String>,
        station_id: Option<String>,
    }
    let hash = input
        .id_number
        .as_deref()
        .map(|n| keys.lookup_hash(ID_FIELD, n));
    let region = input
        .region
        .as_ref()
        .map(|r| r.to_string())
        .unwrap_or_default();
    // Each branch reads one index: the same pinyin key, the same birth date, the same home region
    // with the same first character (the one-character-apart rule keeps the surname), the same
    // identity number. Each is small even among millions of files.
    let first: String = people::normalized_name(&input.name)
        .chars()
        .take(1)
        .collect();
    // The status test is wrapped so that no status-led index (the list's) competes with the branch's
    // own: without table statistics SQLite would otherwise walk every active file per branch.
    let select = "SELECT r.id, r.name, r.birth_date, r.region_code, g.path_names AS region_path, r.id_number_hash, r.station_id, r.created_at \
        FROM residents r JOIN regions g ON g.code = r.region_code WHERE COALESCE(r.status, '') = 'active' AND ";
    let mut q = Sql::new(
        "SELECT id, name, birth_date, region_code, region_path, id_number_hash, station_id FROM (",
    );
    q.push(select)
        .push("r.name_key = ")
        .bind(people::name_key(&input.name));
    q.push(" UNION ")
        .push(select)
        .push("r.birth_date = ")
        .bind(input.birth_date.clone());
    q.push(" UNION ")
        .push(select)
        .push("r.region_code = ")
        .bind(region.clone())
        .push(" AND r.name LIKE ")
        .bind(format!("{first}%"));
    if let Some(h) = &hash {
        q.push(" UNION ")
            .push(select)
            .push("r.id_number_hash = ")
            .bind(h.clone());
    }
    q.push(") t ORDER BY created_at LIMIT 2000");
    let rows: Vec<Row> = q.fetch_all(conn).await?;
    let mut out = Vec::new();
    for r in rows {
        if Some(r.id.as_str()) == except {
            continue;
        }
        let reason = if hash.is_some() && r.id_number_hash == hash {
            "same_id"
        } else if !people::names_alike(&r.name, &input.name) {
            continue;
        } else if r.birth_date == input.birth_date {
            "same_birth_date"
        } else if r.region_code == region {
            "same_region"
        } else {
            continue;
        };
        let visible = get(conn, viewer, &r.id).await.is_ok();
        out.push(if visible {
            Candidate {
                id: r.id,
                name: r.name,
                birth_date: r.birth_date,
                region_path: shegong_domain::network::region::display_path(
                    r.region_path.split('/'),
                ),
                visible,
                reason,
                ask: None,
            }
        } else {
            Candidate {
                ask: Some(ask_about(conn, r.station_id.as_deref(), &r.region_code).await?),
                id: r.id,
                name: String::new(),
                birth_date: String::new(),
                region_path: String::new(),
                visible,
                reason,
            }
        });
        if out.len() >= 20 {
            break;
        }
    }
    out.sort_by_key(|c| c.reason != "same_id");
    Ok(out)
}

/// Merge `drop` into `keep`: memberships, tier history, cases, services and attendance move
/// over, an identity number moves when `keep` has none, and `drop` stays as a `merged` record
/// pointing at `keep`. Nothing is deleted.
pub async fn merge(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    keep: &str,
    drop: &str,
    now: Millis,
) -> StoreResult<(Resident, Resident)> {
    let k = get(conn, viewer, keep).await?;
    let d = get(conn, viewer, drop)
        .await
        .map_err(|_| FieldError::new("other", "resident.unknown"))?;
    if k.id == d.id || d.status != "active" {
        return Err(FieldError::new("other", "resident.same_person").into());
    }
    let counted = counters::contribution(
        conn,
        &[
            counters::Subject::Resident(keep),
            counters::Subject::Resident(drop),
        ],
    )
    .await?;
    for table in ["resident_memberships", "risk_history", "cases", "services"] {
        Sql::new(&format!("UPDATE {table} SET resident_id = "))
            .bind(keep)
            .push(" WHERE resident_id = ")
            .bind(drop)
            .execute(conn)
            .await?;
    }
    Sql::new("UPDATE service_participants SET resident_id = ").bind(keep).push(" WHERE resident_id = ").bind(drop)
        .push(" AND NOT EXISTS (SELECT 1 FROM service_participants x WHERE x.service_id = service_participants.service_id AND x.resident_id = ").bind(keep).push(")")
        .execute(conn).await?;
    Sql::new("DELETE FROM service_participants WHERE resident_id = ")
        .bind(drop)
        .execute(conn)
        .await?;
    if k.id_number_sealed.is_none() && d.id_number_sealed.is_some() {
        let hash: (Option<String>,) = Sql::new("SELECT id_number_hash FROM residents WHERE id = ")
            .bind(drop)
            .fetch_one(conn)
            .await?;
        Sql::new("UPDATE residents SET id_number_hash = NULL WHERE id = ")
            .bind(drop)
            .execute(conn)
            .await?;
        Sql::new("UPDATE residents SET id_type = ")
            .bind(d.id_type.clone())
            .push(", id_number_sealed = ")
            .bind(d.id_number_sealed.clone())
            .push(", id_number_hash = ")
            .bind(hash.0)
            .push(" WHERE id = ")
            .bind(keep)
            .execute(conn)
            .await?;
    }
    let last = [k.last_visit_on.clone(), d.last_visit_on.clone()]
        .into_iter()
        .flatten()
        .max();
    Sql::new("UPDATE residents SET last_visit_on = ")
        .bind(last)
        .push(", updated_at = ")
        .bind(now)
        .push(" WHERE id = ")
        .bind(keep)
        .execute(conn)
        .await?;
    Sql::new("UPDATE residents SET status = 'merged', merged_into = ")
        .bind(keep)
        .push(", updated_at = ")
        .bind(now)
        .push(" WHERE id = ")
        .bind(drop)
        .execute(conn)
        .await?;
    refresh_schedule(conn, keep).await?;
    counters::changed(
        conn,
        &[
            counters::Subject::Resident(keep),
            counters::Subject::Resident(drop),
        ],
        counted,
    )
    .await?;
    Ok((k, d))
}
