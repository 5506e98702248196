//! Training records of staff, and the hours that count towards continuing education. A record is
//! filed under its person's region.

use chrono::NaiveDate;
use serde::Serialize;
use shegong_domain::{FieldError, Scope};
use sqlx::AnyConnection;

use super::DateColumn;
use super::staff::{date_text, get, scoped_from};
use crate::sql::Sql;
use crate::{Millis, Page, PageRequest, StoreResult, new_id};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Training {
    pub id: String,
    pub staff_id: String,
    pub course: String,
    pub provider: String,
    pub hours_tenths: i64,
    pub held_on: NaiveDate,
}

#[derive(Debug, Clone, Copy)]
pub struct NewTraining<'a> {
    pub course: &'a str,
    pub provider: &'a str,
    pub hours_tenths: i64,
    pub held_on: NaiveDate,
}

pub async fn add_training(
    conn: &mut AnyConnection,
    scope: &Scope,
    staff_id: &str,
    t: &NewTraining<'_>,
    by: &str,
    now: Millis,
) -> StoreResult<String> {
    let NewTraining {
        course,
        provider,
        hours_tenths,
        held_on,
    } = *t;
    let p = get(conn, scope, staff_id).await?;
    if course.trim().is_empty() || course.chars().count() > 100 {
        return Err(FieldError::new("course", "form.required").into());
    }
    if !(1..=2000).contains(&hours_tenths) {
        return Err(FieldError::new("hours", "training.hours_invalid").into());
    }
    let id = new_id();
    Sql::new("INSERT INTO trainings (id, staff_id, region_code, course, provider, hours_tenths, held_on, created_by, created_at) VALUES (")
        .bind(&id).push(", ").bind(staff_id).push(", ").bind(&p.region_code).push(", ").bind(course.trim()).push(", ").bind(provider.trim()).push(", ")
        .bind(hours_tenths).push(", ").bind(date_text(held_on)).push(", ").bind(by).push(", ").bind(now).push(")")
        .execute(conn).await?;
    Ok(id)
}

pub async fn trainings(
    conn: &mut AnyConnection,
    scope: &Scope,
    staff_id: Option<&str>,
    page: PageRequest,
) -> StoreResult<Page<(Training, String)>> {
    let filter = |select: &'static str| {
        let mut q = scoped_from(select, scope);
        if let Some(s) = staff_id {
            q.push(" AND t.staff_id = ").bind(s);
        }
        q
    };
    let total = filter("SELECT COUNT(*) FROM trainings t JOIN staff p ON p.id = t.staff_id")
        .fetch_i64(conn)
        .await?;
    let mut q = filter(
        "SELECT t.id, t.staff_id, t.course, t.provider, t.hours_tenths, t.held_on, p.name FROM trainings t JOIN staff p ON p.id = t.staff_id",
    );
    q.push(" ORDER BY t.held_on DESC, t.created_at DESC LIMIT ")
        .bind(page.per_page)
        .push(" OFFSET ")
        .bind(page.offset());
    let rows: Vec<(String, String, String, String, i64, DateColumn, String)> =
        q.fetch_all(conn).await?;
    Ok(Page {
        capped: false,
        items: rows
            .into_iter()
            .map(
                |(id, staff_id, course, provider, hours_tenths, held_on, name)| {
                    (
                        Training {
                            id,
                            staff_id,
                            course,
                            provider,
                            hours_tenths,
                            held_on: held_on.into(),
                        },
                        name,
                    )
                },
            )
            .collect(),
        total,
        page: page.page,
        per_page: page.per_page,
    })
}

/// Training hours (tenths) of a person between two dates, inclusive.
pub async fn training_tenths(
    conn: &mut AnyConnection,
    staff_id: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> StoreResult<i64> {
    Sql::new(
        "SELECT CAST(COALESCE(SUM(hours_tenths), 0) AS BIGINT) FROM trainings WHERE staff_id = ",
    )
    .bind(staff_id)
    .push(" AND held_on >= ")
    .bind(date_text(from))
    .push(" AND held_on <= ")
    .bind(date_text(to))
    .fetch_i64(conn)
    .await
}
