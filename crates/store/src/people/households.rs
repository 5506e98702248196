//! A resident's time-boxed category memberships (with the catalogue of categories) and their
//! household.

use serde::Serialize;
use shegong_domain::people::{self, RiskTier};
use shegong_domain::{FieldError, RegionCode, Scope};
use sqlx::AnyConnection;

use crate::sql::Sql;
use crate::{Millis, StoreError, StoreResult, new_id, statistics::counters};

use super::residents::{Resident, SELECT, Viewer, get};
use super::visit_rules::refresh_schedule;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Membership {
    pub id: String,
    pub resident_id: String,
    pub category: String,
    pub disability_category: Option<String>,
    pub disability_grade: Option<String>,
    pub source: String,
    pub evidence: String,
    pub valid_from: String,
    pub valid_to: Option<String>,
    pub verified_by: String,
    pub created_at: i64,
}

impl Membership {
    pub fn active_on(&self, day: &str) -> bool {
        self.valid_from.as_str() <= day && self.valid_to.as_deref().is_none_or(|t| t >= day)
    }
}

#[derive(Debug, Clone)]
pub struct MembershipInput {
    pub category: String,
    pub disability_category: Option<String>,
    pub disability_grade: Option<String>,
    pub source: String,
    pub evidence: String,
    pub valid_from: String,
    pub valid_to: Option<String>,
    pub verified_by: String,
}

/// Memberships of the residents given that the viewer may open (for list pages: one query for
/// a page of rows).
pub async fn memberships_of(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    ids: &[&str],
) -> StoreResult<Vec<Membership>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let mut q = Sql::new(
        "SELECT m.id, m.resident_id, m.category, m.disability_category, m.disability_grade, m.source, m.evidence, m.valid_from, \
        m.valid_to, m.verified_by, m.created_at FROM resident_memberships m JOIN residents r ON r.id = m.resident_id \
        WHERE m.resident_id IN (",
    );
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            q.push(", ");
        }
        q.bind(id.to_string());
    }
    q.push(")");
    viewer.restrict(&mut q);
    q.push(" ORDER BY m.valid_from DESC, m.created_at DESC");
    q.fetch_all(conn).await
}

pub async fn add_membership(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    resident_id: &str,
    m: &MembershipInput,
    created_by: &str,
    now: Millis,
) -> StoreResult<String> {
    let r = get(conn, viewer, resident_id).await?;
    let counted = counters::contribution(conn, &[counters::Subject::Resident(resident_id)]).await?;
    let known = Sql::new("SELECT COUNT(*) FROM resident_categories WHERE code = ")
        .bind(m.category.clone())
        .push(" AND (region_code = '' OR ")
        .bind(r.region_code.clone())
        .push(" LIKE region_code || '%')")
        .fetch_i64(conn)
        .await?;
    if known == 0 {
        return Err(FieldError::new("category", "resident.category_unknown").into());
    }
    let disability = matches!(m.category.as_str(), "disabled" | "severely_disabled");
    if disability != (m.disability_category.is_some() && m.disability_grade.is_some()) {
        return Err(FieldError::new(
            "disability_category",
            if disability {
                "resident.disability_required"
            } else {
                "resident.disability_only"
            },
        )
        .into());
    }
    if m.valid_to
        .as_deref()
        .is_some_and(|t| t < m.valid_from.as_str())
    {
        return Err(FieldError::new("valid_to", "form.date_order").into());
    }
    let id = new_id();
    Sql::new("INSERT INTO resident_memberships (id, resident_id, region_code, category, disability_category, disability_grade, source, evidence, \
              valid_from, valid_to, verified_by, created_by, created_at) VALUES (")
        .bind(&id).push(", ").bind(resident_id).push(", ").bind(&r.region_code).push(", ").bind(m.category.clone()).push(", ")
        .bind(m.disability_category.clone()).push(", ").bind(m.disability_grade.clone()).push(", ").bind(m.source.trim()).push(", ")
        .bind(m.evidence.trim()).push(", ").bind(m.valid_from.clone()).push(", ").bind(m.valid_to.clone()).push(", ")
        .bind(m.verified_by.trim()).push(", ").bind(created_by).push(", ").bind(now).push(")")
        .execute(conn).await?;
    refresh_schedule(conn, resident_id).await?;
    counters::changed(conn, &[counters::Subject::Resident(resident_id)], counted).await?;
    Ok(id)
}

/// End a membership on `on` (it stays in the file as history).
pub async fn end_membership(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    resident_id: &str,
    membership_id: &str,
    on: &str,
) -> StoreResult<Membership> {
    get(conn, viewer, resident_id).await?;
    let counted = counters::contribution(conn, &[counters::Subject::Resident(resident_id)]).await?;
    let m = memberships_of(conn, viewer, &[resident_id])
        .await?
        .into_iter()
        .find(|m| m.id == membership_id)
        .ok_or(StoreError::NotFound)?;
    if on < m.valid_from.as_str() {
        return Err(FieldError::new("valid_to", "form.date_order").into());
    }
    Sql::new("UPDATE resident_memberships SET valid_to = ")
        .bind(on)
        .push(" WHERE id = ")
        .bind(membership_id)
        .execute(conn)
        .await?;
    refresh_schedule(conn, resident_id).await?;
    counters::changed(conn, &[counters::Subject::Resident(resident_id)], counted).await?;
    Ok(m)
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Category {
    pub code: String,
    pub region_code: String,
    pub grp: String,
    pub name_zh: String,
    pub name_en: String,
    pub default_tier: String,
}

/// The catalogue available in `scope`: national entries and local extensions of its regions.
pub async fn categories(conn: &mut AnyConnection, scope: &Scope) -> StoreResult<Vec<Category>> {
    let mut q = Sql::new(
        "SELECT code, region_code, grp, name_zh, name_en, default_tier FROM resident_categories WHERE region_code = '' OR ",
    );
    q.bind(scope.prefix().to_string())
        .push(" LIKE region_code || '%' OR ");
    q.region_range("region_code", scope);
    q.push(" ORDER BY sort, code");
    q.fetch_all(conn).await
}

/// Add a local category to the catalogue of `region`.
pub async fn add_category(
    conn: &mut AnyConnection,
    scope: &Scope,
    region: &RegionCode,
    c: &Category,
) -> StoreResult<()> {
    if !scope.contains_region(region.as_str()) {
        return Err(FieldError::new("region", "station.region_out_of_scope").into());
    }
    let code = people::parse_category_code(&c.code)?;
    if c.name_zh.trim().is_empty() {
        return Err(FieldError::new("name_zh", "form.required").into());
    }
    RiskTier::parse(&c.default_tier)?;
    let exists = Sql::new("SELECT COUNT(*) FROM resident_categories WHERE code = ")
        .bind(code.clone())
        .fetch_i64(conn)
        .await?;
    if exists > 0 {
        return Err(FieldError::new("code", "resident.category_taken").into());
    }
    Sql::new("INSERT INTO resident_categories (code, region_code, grp, name_zh, name_en, default_tier, sort) VALUES (")
        .bind(code).push(", ").bind(region.as_str()).push(", ").bind(c.grp.clone()).push(", ").bind(c.name_zh.trim()).push(", ")
        .bind(c.name_en.trim()).push(", ").bind(c.default_tier.clone()).push(", 1000)")
        .execute(conn).await?;
    Ok(())
}

/// The other members of the resident's household that the viewer may see.
pub async fn household(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    id: &str,
) -> StoreResult<Vec<Resident>> {
    let r = get(conn, viewer, id).await?;
    let Some(h) = r.household_id else {
        return Ok(vec![]);
    };
    let mut q = Sql::new(SELECT);
    q.push(" AND r.household_id = ")
        .bind(h)
        .push(" AND r.id <> ")
        .bind(id)
        .push(" AND r.status = 'active'");
    viewer.restrict(&mut q);
    q.push(" ORDER BY r.relation, r.birth_date");
    q.fetch_all(conn).await
}

/// Put `id` in the household of `other` with `relation` (to the head); `other` becomes the
/// head of a new household when it has none.
pub async fn join_household(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    id: &str,
    other: &str,
    relation: people::Relation,
    now: Millis,
) -> StoreResult<Resident> {
    let before = get(conn, viewer, id).await?;
    if other.trim().is_empty() {
        return Err(FieldError::new("other", "form.required").into());
    }
    let head = get(conn, viewer, other)
        .await
        .map_err(|_| FieldError::new("other", "resident.unknown"))?;
    if head.id == before.id {
        return Err(FieldError::new("other", "resident.same_person").into());
    }
    let household = match head.household_id {
        Some(h) => h,
        None => {
            let h = new_id();
            Sql::new("INSERT INTO households (id, region_code, created_at) VALUES (")
                .bind(&h)
                .push(", ")
                .bind(&head.region_code)
                .push(", ")
                .bind(now)
                .push(")")
                .execute(conn)
                .await?;
            Sql::new("UPDATE residents SET household_id = ")
                .bind(&h)
                .push(", relation = '02', updated_at = ")
                .bind(now)
                .push(" WHERE id = ")
                .bind(other)
                .execute(conn)
                .await?;
            h
        }
    };
    Sql::new("UPDATE residents SET household_id = ")
        .bind(household)
        .push(", relation = ")
        .bind(relation.as_str())
        .push(", updated_at = ")
        .bind(now)
        .push(" WHERE id = ")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(before)
}
