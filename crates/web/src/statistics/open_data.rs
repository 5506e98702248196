//! The open-data API: the maintained counters of services, people served and the workforce as
//! JSON (`/api/v1/stats/*`) and as CSV downloads, for a region or each of its sub-regions.

use axum::Json;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use shegong_domain::FieldError;
use shegong_store::statistics::counters::{self, Dim, Regions};
use utoipa::{IntoParams, ToSchema};

use super::shared::{code_of, url_code};
use crate::http::auth::Ctx;
use crate::http::auth::reader;
use crate::http::error::{WebError, WebResult};
use crate::http::state::AppState;
use crate::ui::csv::Csv;
use crate::ui::forms::today;

#[derive(Deserialize, IntoParams)]
pub struct StatsQuery {
    /// Region code, `CN` (default: the caller's scope).
    #[param(pattern = "^([Cc][Nn]|[0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$")]
    pub region: Option<String>,
    /// `self` (default): the region itself; `children`: each sub-region.
    #[param(schema_with = crate::http::api::code::stats_level)]
    pub level: Option<String>,
    /// For services: `kind` (default), `domain` or `station`. For people: `tier` (default),
    /// `category` or `due` (people by next visit date). For the workforce: `staff_role` (default),
    /// `staff_cert` (highest certificate, `none` without) or `funding` (station funding by source). For
    /// the community: `volunteer_stars` (active volunteers by star level, default), `volunteer_hours`
    /// (recorded hours by month: count of records, minutes), `charity` (donations `money`/`goods`
    /// and `paid` disbursements by month: count, value_fen), `timebank_flow` (time-bank entries by
    /// month and kind — `earn`, `redeem`, `transfer`, `donate`, `grant`, `cap_sweep`,
    /// `interscheme`, `reversal_<kind>`: count, and the credits moved in `minutes`) or
    /// `timebank_balance` (`person`, `group` and `pool` accounts now: count, credits held in
    /// `minutes`; time credits are not money) or `issues` (急难愁盼 by month: `raised_red`,
    /// `raised_yellow`, `raised_blue` by the month raised, `answered` and `on_time` by the month
    /// answered).
    pub by: Option<String>,
    /// First month, `YYYY-MM` (services; default January of this year), or year, `YYYY` (funding;
    /// default this year).
    #[param(pattern = "^[0-9]{4}(-(0[1-9]|1[0-2]))?$")]
    pub from: Option<String>,
    /// Last month, `YYYY-MM` (services; default this month), or year, `YYYY` (funding).
    #[param(pattern = "^[0-9]{4}(-(0[1-9]|1[0-2]))?$")]
    pub to: Option<String>,
}

/// One figure of the open data.
#[derive(Serialize, ToSchema)]
pub struct StatRow {
    pub region_code: String,
    /// `YYYY-MM` for services, `YYYY` for funding; empty for current counts (people, staff).
    pub month: String,
    pub key: String,
    pub count: i64,
    pub person_times: i64,
    pub minutes: i64,
    pub value_fen: i64,
}

/// The open data's families of counters.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Family {
    Services,
    People,
    Workforce,
    Community,
}

impl Family {
    /// The dimensions the family is read by; the first is the default.
    pub(crate) fn dims(self) -> &'static [Dim] {
        match self {
            Family::Services => &[Dim::Kind, Dim::Domain, Dim::Station],
            Family::People => &[Dim::Tier, Dim::Category, Dim::Due],
            Family::Workforce => &[Dim::StaffRole, Dim::StaffCert, Dim::Funding],
            Family::Community => &[
                Dim::VolunteerStars,
                Dim::VolunteerHours,
                Dim::Charity,
                Dim::TimebankFlow,
                Dim::TimebankBalance,
                Dim::Issues,
            ],
        }
    }

    /// The dimension named by `by=` (the default when absent); one of another family is refused.
    fn dim(self, by: Option<&str>) -> WebResult<Dim> {
        match by {
            None => self
                .dims()
                .first()
                .copied()
                .ok_or_else(|| FieldError::new("by", "stats.by_unknown").into()),
            Some(name) => Dim::parse(name)
                .filter(|d| self.dims().contains(d))
                .ok_or_else(|| FieldError::new("by", "stats.by_unknown").into()),
        }
    }
}

async fn open_rows(
    state: &AppState,
    ctx: &Ctx,
    q: &StatsQuery,
    family: Family,
) -> WebResult<Vec<StatRow>> {
    let u = reader(ctx)?;
    let code = match &q.region {
        Some(r) => code_of(r)?,
        None => u.user.region_code.clone(),
    };
    let scope = u.scope();
    if !scope.contains_region(&code) {
        return Err(WebError::NotFound);
    }
    let by = family.dim(q.by.as_deref())?;
    let now = today(state.now());
    let (from, to) = match (family, by) {
        (Family::Services, _) => (
            q.from
                .clone()
                .unwrap_or_else(|| format!("{}-01", &now[..4])),
            q.to.clone().unwrap_or_else(|| now[..7].to_owned()),
        ),
        (_, Dim::VolunteerHours | Dim::Charity | Dim::TimebankFlow | Dim::Issues) => (
            q.from
                .clone()
                .unwrap_or_else(|| format!("{}-01", &now[..4])),
            q.to.clone().unwrap_or_else(|| now[..7].to_owned()),
        ),
        (_, Dim::Funding) => (
            q.from.clone().unwrap_or_else(|| now[..4].to_owned()),
            q.to.clone().unwrap_or_else(|| now[..4].to_owned()),
        ),
        _ => (String::new(), String::new()),
    };
    let regions = if q.level.as_deref() == Some("children") {
        Regions::ChildrenOf(&code)
    } else {
        Regions::One(&code)
    };
    let mut c = state.db.read().await?;
    Ok(counters::read(&mut c, &scope, regions, by, &from, &to)
        .await?
        .into_iter()
        .map(|r| StatRow {
            region_code: url_code(&r.region_code).to_owned(),
            month: r.month,
            key: r.key,
            count: r.n,
            person_times: r.person_times,
            minutes: r.minutes,
            value_fen: r.value_fen,
        })
        .collect())
}

/// The rows as a CSV download `{name}.csv`.
fn csv(name: &str, rows: &[StatRow]) -> WebResult<Response> {
    let mut out = Csv::new(&[
        "region_code",
        "month",
        "key",
        "count",
        "person_times",
        "minutes",
        "value_fen",
    ])?;
    for r in rows {
        out.row([
            r.region_code.clone(),
            r.month.clone(),
            r.key.clone(),
            r.count.to_string(),
            r.person_times.to_string(),
            r.minutes.to_string(),
            r.value_fen.to_string(),
        ])?;
    }
    out.download(&format!("{name}.csv"))
}

/// Service volume from the maintained counters: records, person-times, minutes and linked
/// value per month and kind, domain or station, for a region or each of its sub-regions.
#[utoipa::path(get, path = "/api/v1/stats/services", tag = "statistics", params(StatsQuery),
    responses((status = 200, body = Vec<StatRow>), (status = 404, description = "Region outside the caller's scope")))]
pub async fn api_services(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<StatsQuery>,
) -> WebResult<Json<Vec<StatRow>>> {
    Ok(Json(open_rows(&state, &ctx, &q, Family::Services).await?))
}

/// People served now, by risk tier or category, for a region or each of its sub-regions.
#[utoipa::path(get, path = "/api/v1/stats/people", tag = "statistics", params(StatsQuery),
    responses((status = 200, body = Vec<StatRow>), (status = 404, description = "Region outside the caller's scope")))]
pub async fn api_people(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<StatsQuery>,
) -> WebResult<Json<Vec<StatRow>>> {
    Ok(Json(open_rows(&state, &ctx, &q, Family::People).await?))
}

/// Volunteering, the time bank and community charity from the maintained counters: active
/// volunteers by star level, recorded volunteer hours by month, time-bank entries by month and
/// balances now, donations and paid disbursements by month, for a region or each of its
/// sub-regions.
#[utoipa::path(get, path = "/api/v1/stats/community", tag = "statistics", params(StatsQuery),
    responses((status = 200, body = Vec<StatRow>), (status = 404, description = "Region outside the caller's scope")))]
pub async fn api_community(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<StatsQuery>,
) -> WebResult<Json<Vec<StatRow>>> {
    Ok(Json(open_rows(&state, &ctx, &q, Family::Community).await?))
}

/// The same as `/api/v1/stats/community`, as a CSV download.
#[utoipa::path(get, path = "/api/v1/stats/community.csv", tag = "statistics", params(StatsQuery),
    responses((status = 200, description = "CSV: region_code,month,key,count,person_times,minutes,value_fen", content_type = "text/csv")))]
pub async fn api_community_csv(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<StatsQuery>,
) -> WebResult<Response> {
    csv(
        "community",
        &open_rows(&state, &ctx, &q, Family::Community).await?,
    )
}

/// The same as `/api/v1/stats/services`, as a CSV download.
#[utoipa::path(get, path = "/api/v1/stats/services.csv", tag = "statistics", params(StatsQuery),
    responses((status = 200, description = "CSV: region_code,month,key,count,person_times,minutes,value_fen", content_type = "text/csv")))]
pub async fn api_services_csv(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<StatsQuery>,
) -> WebResult<Response> {
    csv(
        "services",
        &open_rows(&state, &ctx, &q, Family::Services).await?,
    )
}

/// The same as `/api/v1/stats/people`, as a CSV download.
#[utoipa::path(get, path = "/api/v1/stats/people.csv", tag = "statistics", params(StatsQuery),
    responses((status = 200, description = "CSV: region_code,month,key,count,person_times,minutes,value_fen", content_type = "text/csv")))]
pub async fn api_people_csv(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<StatsQuery>,
) -> WebResult<Response> {
    csv(
        "people",
        &open_rows(&state, &ctx, &q, Family::People).await?,
    )
}

/// The workforce now: active staff by position or by highest certificate, and station funding
/// by source and year, for a region or each of its sub-regions.
#[utoipa::path(get, path = "/api/v1/stats/workforce", tag = "statistics", params(StatsQuery),
    responses((status = 200, body = Vec<StatRow>), (status = 404, description = "Region outside the caller's scope")))]
pub async fn api_workforce(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<StatsQuery>,
) -> WebResult<Json<Vec<StatRow>>> {
    Ok(Json(open_rows(&state, &ctx, &q, Family::Workforce).await?))
}

/// The same as `/api/v1/stats/workforce`, as a CSV download.
#[utoipa::path(get, path = "/api/v1/stats/workforce.csv", tag = "statistics", params(StatsQuery),
    responses((status = 200, description = "CSV: region_code,month,key,count,person_times,minutes,value_fen", content_type = "text/csv")))]
pub async fn api_workforce_csv(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<StatsQuery>,
) -> WebResult<Response> {
    csv(
        "workforce",
        &open_rows(&state, &ctx, &q, Family::Workforce).await?,
    )
}
