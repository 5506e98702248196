//! A community's three lists for a month (需求清单/资源清单/服务清单), generated from the records
//! — the needs registered, the resources serving it, the services given (grouped by kind and
//! domain, with how many came through a match) — and the township's approval, kept as the
//! snapshot approved and its digest, so a later change to the records shows.

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};
use sha2::Digest;
use shegong_domain::calendar::end_of_day;
use shegong_domain::network::region::RegionLevel;
use shegong_domain::{FieldError, RegionCode, Scope};
use sqlx::AnyConnection;

use super::needs::{self, Need};
use super::resources::{self, Area, Resource};
use crate::people::residents::in_scope;
use crate::sql::Sql;
use crate::{Millis, StoreError, StoreResult};

/// The most rows a list holds (a community's month is far below it).
pub const LIST_LIMIT: i64 = 5000;

/// A month, `YYYY-MM`: its first day and the first day after it.
pub fn month(period: &str) -> Result<(NaiveDate, NaiveDate), FieldError> {
    let first = NaiveDate::parse_from_str(&format!("{}-01", period.trim()), "%Y-%m-%d")
        .map_err(|_| FieldError::new("period", "list.period_invalid"))?;
    let next = first
        .checked_add_months(Months::new(1))
        .ok_or_else(|| FieldError::new("period", "list.period_invalid"))?;
    Ok((first, next))
}

/// One line of the service list: the services of a kind and domain in the month.
#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow, PartialEq, Eq)]
pub struct ServiceLine {
    pub kind: String,
    pub domain: String,
    pub records: i64,
    pub person_times: i64,
    pub minutes: i64,
    pub value_fen: i64,
    /// Of them, written by executing a match.
    pub matched: i64,
}

/// One line of the need list: no names, only what was asked and where it stands.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct NeedLine {
    pub id: String,
    pub created_on: String,
    pub subject: String,
    pub help_kind: String,
    pub title: String,
    pub quantity: i64,
    pub state: String,
    pub source: String,
}

impl From<&Need> for NeedLine {
    fn from(n: &Need) -> Self {
        NeedLine {
            id: n.id.clone(),
            created_on: shegong_domain::calendar::local_day(n.created_at).to_string(),
            subject: n.subject.as_str().to_owned(),
            help_kind: n.help_kind.as_str().to_owned(),
            title: n.title.clone(),
            quantity: n.quantity,
            state: n.state.as_str().to_owned(),
            source: n.source.as_str().to_owned(),
        }
    }
}

/// A resource line as listed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ResourceLine {
    pub kind: String,
    pub label: String,
    pub region_path: String,
    pub detail: String,
    pub remaining: Option<i64>,
    pub unit: String,
}

impl From<&Resource> for ResourceLine {
    fn from(r: &Resource) -> Self {
        ResourceLine {
            kind: r.kind.as_str().to_owned(),
            label: r.label.clone(),
            region_path: r.region_path.clone(),
            detail: r.detail.clone(),
            remaining: r.remaining,
            unit: r.unit.clone(),
        }
    }
}

/// The three lists as generated (and, once approved, as snapshotted).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Lists {
    pub needs: Vec<NeedLine>,
    pub resources: Vec<ResourceLine>,
    pub services: Vec<ServiceLine>,
}

impl Lists {
    pub fn digest(&self) -> String {
        let json = serde_json::to_string(self).unwrap_or_default();
        hex::encode(sha2::Sha256::digest(json.as_bytes()))
    }
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Approval {
    pub region_code: String,
    pub period: String,
    pub digest: String,
    pub needs: i64,
    pub resources: i64,
    pub services: i64,
    pub approved_by: String,
    pub approved_at: Millis,
}

/// A community (village) or a township in the reader's scope.
async fn community(
    conn: &mut AnyConnection,
    scope: &Scope,
    region: &RegionCode,
) -> StoreResult<()> {
    if !scope.contains_region(region.as_str())
        || !matches!(region.level(), RegionLevel::Village | RegionLevel::Township)
    {
        return Err(StoreError::NotFound);
    }
    let known = Sql::new("SELECT COUNT(*) FROM regions WHERE code = ")
        .bind(region.as_str())
        .fetch_i64(conn)
        .await?;
    if known == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

fn millis(day: NaiveDate) -> Millis {
    end_of_day(day) - 86_400_000
}

/// Generate the three lists of a community for a month, from the records in the reader's scope.
pub async fn generate(
    conn: &mut AnyConnection,
    scope: &Scope,
    region: &RegionCode,
    period: &str,
    today: &str,
) -> StoreResult<Lists> {
    community(conn, scope, region).await?;
    let (from, to) = month(period)?;
    let f = needs::Filter {
        region: Some(region.clone()),
        created: Some((millis(from), millis(to))),
        ..needs::Filter::default()
    };
    let mut nq = Sql::new(needs::SELECT);
    needs::filter(&mut nq, scope, &f);
    nq.push(" ORDER BY n.created_at, n.id LIMIT ")
        .bind(LIST_LIMIT);
    let need_rows: Vec<Need> = nq.fetch_all(conn).await?;
    let area = Area {
        scope,
        region: Some(region.clone()),
        today,
    };
    let resource_rows = resources::all(conn, &area, LIST_LIMIT).await?;
    let mut q = Sql::new(
        "SELECT v.kind, v.domain, COUNT(*) AS records, CAST(SUM(v.person_times) AS BIGINT) AS person_times, \
         CAST(SUM(v.duration_minutes) AS BIGINT) AS minutes, CAST(SUM(v.value_fen) AS BIGINT) AS value_fen, \
         CAST(SUM(CASE WHEN EXISTS (SELECT 1 FROM matches m WHERE m.service_id = v.id) THEN 1 ELSE 0 END) AS BIGINT) AS matched \
         FROM services v WHERE v.served_on >= ",
    );
    q.bind(from.to_string())
        .push(" AND v.served_on < ")
        .bind(to.to_string())
        .push(" AND ");
    q.region_range("v.region_code", &Scope::region(region.clone()));
    in_scope(&mut q, scope, "v.region_code", "v.station_id", true);
    q.push(" GROUP BY v.kind, v.domain ORDER BY v.kind, v.domain");
    let services = q.fetch_all(conn).await?;
    Ok(Lists {
        needs: need_rows.iter().map(NeedLine::from).collect(),
        resources: resource_rows.iter().map(ResourceLine::from).collect(),
        services,
    })
}

pub async fn approval(
    conn: &mut AnyConnection,
    scope: &Scope,
    region: &RegionCode,
    period: &str,
) -> StoreResult<Option<Approval>> {
    community(conn, scope, region).await?;
    Sql::new("SELECT region_code, period, digest, needs, resources, services, approved_by, approved_at FROM community_list_approvals WHERE region_code = ")
        .bind(region.as_str())
        .push(" AND period = ")
        .bind(period.trim())
        .fetch_optional(conn)
        .await
}

/// The snapshot approved, as it was.
pub async fn approved_snapshot(
    conn: &mut AnyConnection,
    scope: &Scope,
    region: &RegionCode,
    period: &str,
) -> StoreResult<Option<Lists>> {
    community(conn, scope, region).await?;
    let row: Option<(String,)> =
        Sql::new("SELECT snapshot FROM community_list_approvals WHERE region_code = ")
            .bind(region.as_str())
            .push(" AND period = ")
            .bind(period.trim())
            .fetch_optional(conn)
            .await?;
    Ok(row.and_then(|(s,)| serde_json::from_str(&s).ok()))
}

/// Approve a community's lists for a month as generated now: by a reader whose scope is the
/// township (or above) and belongs to no organisation. A month not yet over cannot be approved;
/// approving again (the records changed) replaces the snapshot. Returns the digest.
pub async fn approve(
    conn: &mut AnyConnection,
    scope: &Scope,
    region: &RegionCode,
    period: &str,
    (by, now): (&str, Millis),
) -> StoreResult<String> {
    let township_or_above = scope
        .region
        .as_ref()
        .is_none_or(|r| r.level() <= RegionLevel::Township);
    if scope.org.is_some() || !township_or_above {
        return Err(FieldError::new("region", "list.township_approves").into());
    }
    let (_, to) = month(period)?;
    let today = shegong_domain::calendar::local_day(now);
    if to > today {
        return Err(FieldError::new("period", "list.period_open").into());
    }
    let lists = generate(conn, scope, region, period, &today.to_string()).await?;
    let digest = lists.digest();
    let snapshot = serde_json::to_string(&lists).unwrap_or_default();
    let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    Sql::new("DELETE FROM community_list_approvals WHERE region_code = ")
        .bind(region.as_str())
        .push(" AND period = ")
        .bind(period.trim())
        .execute(conn)
        .await?;
    Sql::new("INSERT INTO community_list_approvals (region_code, period, digest, snapshot, needs, resources, services, approved_by, approved_at) VALUES (")
        .bind(region.as_str()).push(", ").bind(period.trim()).push(", ").bind(digest.as_str()).push(", ").bind(snapshot).push(", ")
        .bind(count(lists.needs.len())).push(", ").bind(count(lists.resources.len())).push(", ").bind(count(lists.services.len())).push(", ")
        .bind(by).push(", ").bind(now).push(")")
        .execute(conn)
        .await?;
    Ok(digest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shegong_domain::calendar::CST_OFFSET;

    #[test]
    fn month_reads_periods() {
        let (a, b) = month("2026-11").unwrap();
        assert_eq!(
            (a.to_string(), b.to_string()),
            ("2026-11-01".into(), "2026-12-01".into())
        );
        assert_eq!(month("2026-13").unwrap_err().field, "period");
        assert_eq!(month("x").unwrap_err().field, "period");
        assert_eq!(
            millis(a) + CST_OFFSET,
            a.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp_millis()
        );
    }
}
