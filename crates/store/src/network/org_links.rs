//! Links between organisations (same legal person, parent and subsidiary, shared managers): an
//! evaluator organisation linked to a provider stands aside from that provider's contracts.
//!
//! A link is written by a scope naming no organisation that sees the first organisation; the
//! other may be registered anywhere (organisations are national, found by their USCC).

use serde::Serialize;
use shegong_domain::network::org::{LinkKind, link_pair};
use shegong_domain::{FieldError, Scope};
use sqlx::AnyConnection;
use uuid::Uuid;

use super::orgs;
use crate::sql::Sql;
use crate::{Millis, StoreError, StoreResult};

/// A link as seen from one of its organisations: the other one, how and why they are tied.
#[derive(Debug, Clone, Serialize)]
pub struct OrgLink {
    pub org_id: String,
    pub name: String,
    pub uscc: Option<String>,
    pub kind: LinkKind,
    pub note: String,
    pub created_by: String,
    pub created_at: Millis,
}

fn refuse<T>(field: &'static str, code: &'static str) -> StoreResult<T> {
    Err(FieldError::new(field, code).into())
}

/// The organisation with this USCC, wherever registered: (id, name).
pub async fn find_by_uscc(
    conn: &mut AnyConnection,
    uscc: &str,
) -> StoreResult<Option<(String, String)>> {
    Sql::new("SELECT id, name FROM organizations WHERE uscc = ")
        .bind(uscc.trim().to_uppercase())
        .fetch_optional(conn)
        .await
}

/// The other side of a new link, how the two are tied and why.
pub struct NewLink<'a> {
    pub other: &'a str,
    pub kind: LinkKind,
    pub note: &'a str,
}

/// Tie `org` (seen by the scope) to `link.other`. Refused: a scope naming an organisation, an
/// organisation linked to itself, an unknown other, a link already there, a note over 200.
pub async fn link(
    conn: &mut AnyConnection,
    scope: &Scope,
    org: &str,
    link: &NewLink<'_>,
    by: &str,
    now: Millis,
) -> StoreResult<()> {
    if scope.org.is_some() {
        return Err(StoreError::NotFound);
    }
    let mine = orgs::get(conn, scope, org).await?;
    if !scope.contains_region(&mine.region_code) {
        return refuse("org", "org.region_out_of_scope");
    }
    let (other, kind, note) = (link.other, link.kind, link.note);
    let (a, b) = link_pair(org, other)?;
    let exists = Sql::new("SELECT COUNT(*) FROM organizations WHERE id = ")
        .bind(other)
        .fetch_i64(conn)
        .await?;
    if exists == 0 {
        return refuse("linked_org_id", "org.link_unknown");
    }
    if note.trim().chars().count() > 200 {
        return refuse("note", "org.note_too_long");
    }
    let taken = Sql::new("SELECT COUNT(*) FROM organization_links WHERE org_a = ")
        .bind(a)
        .push(" AND org_b = ")
        .bind(b)
        .fetch_i64(conn)
        .await?;
    if taken > 0 {
        return refuse("linked_org_id", "org.link_exists");
    }
    Sql::new("INSERT INTO organization_links (org_a, org_b, kind, note, created_by, created_at) VALUES (")
        .bind(a).push(", ").bind(b).push(", ").bind(kind.as_str()).push(", ")
        .bind(note.trim()).push(", ").bind(by).push(", ").bind(now).push(")")
        .execute(conn)
        .await?;
    Ok(())
}

/// Remove the link between `org` (seen by the scope) and `other`; returns it as it was.
pub async fn unlink(
    conn: &mut AnyConnection,
    scope: &Scope,
    org: &str,
    other: &str,
) -> StoreResult<OrgLink> {
    if scope.org.is_some() {
        return Err(StoreError::NotFound);
    }
    let mine = orgs::get(conn, scope, org).await?;
    if !scope.contains_region(&mine.region_code) {
        return refuse("org", "org.region_out_of_scope");
    }
    let link = links_of(conn, scope, org)
        .await?
        .into_iter()
        .find(|l| l.org_id == other)
        .ok_or(StoreError::NotFound)?;
    let (a, b) = link_pair(org, other)?;
    Sql::new("DELETE FROM organization_links WHERE org_a = ")
        .bind(a)
        .push(" AND org_b = ")
        .bind(b)
        .execute(conn)
        .await?;
    Ok(link)
}

type LinkRow = (String, String, Option<String>, String, String, String, i64);

/// The links of an organisation the scope sees, by the other organisation's name.
pub async fn links_of(
    conn: &mut AnyConnection,
    scope: &Scope,
    org: &str,
) -> StoreResult<Vec<OrgLink>> {
    orgs::get(conn, scope, org).await?;
    let rows: Vec<LinkRow> = Sql::new(
        "SELECT o.id, o.name, o.uscc, l.kind, l.note, l.created_by, l.created_at \
         FROM organization_links l JOIN organizations o \
         ON o.id = CASE WHEN l.org_a = ",
    )
    .bind(org)
    .push(" THEN l.org_b ELSE l.org_a END WHERE l.org_a = ")
    .bind(org)
    .push(" OR l.org_b = ")
    .bind(org)
    .push(" ORDER BY o.name, o.id")
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|(org_id, name, uscc, kind, note, created_by, created_at)| {
            Ok(OrgLink {
                kind: LinkKind::parse(&kind).map_err(|e| {
                    StoreError::Db(sqlx::Error::Decode(
                        format!("stored kind: {}", e.code).into(),
                    ))
                })?,
                org_id,
                name,
                uscc,
                note,
                created_by,
                created_at,
            })
        })
        .collect()
}

/// The links of `org` as id pairs: what a conflict-of-interest check needs.
pub async fn pairs_of(conn: &mut AnyConnection, org: &str) -> StoreResult<Vec<(Uuid, Uuid)>> {
    let rows: Vec<(String, String)> =
        Sql::new("SELECT org_a, org_b FROM organization_links WHERE org_a = ")
            .bind(org)
            .push(" OR org_b = ")
            .bind(org)
            .fetch_all(conn)
            .await?;
    let id =
        |s: &str| Uuid::parse_str(s).map_err(|e| StoreError::Db(sqlx::Error::Decode(e.into())));
    rows.iter().map(|(a, b)| Ok((id(a)?, id(b)?))).collect()
}
