//! The role's panels on the home page (issue 17 item 3), beside the to-do queue: a worker's
//! visits due today and residents at high risk; a supervisor's supervisees and their overdue
//! work; an administrator's exceptions in their region (coverage gaps, overdue rectifications and
//! reports, understaffed stations); an auditor's recent sensitive events. All read in the
//! caller's scope by the store; the same data is `GET /api/v1/workbench`.

use axum::Json;
use axum::extract::State;
use chrono::Duration;
use serde::Serialize;
use shegong_domain::{Role, Scope};
use shegong_store::admin::audit;
use shegong_store::network::coverage;
use shegong_store::network::inspections::{self, RectFilter};
use shegong_store::reports::{self as rp, Filter as ReportFilter};
use shegong_store::workbench::{self as wb, Listed, ResidentLine, Supervisee};
use shegong_store::workforce::staff;
use shegong_store::{Conn, PageRequest, StoreResult};
use utoipa::ToSchema;

use crate::admin::audit::{Row, rows};
use crate::http::auth::{Ctx, CurrentUser};
use crate::http::error::WebResult;
use crate::http::state::AppState;
use crate::people::residents::viewer;
use crate::ui::forms::today;

/// Lines listed per exception; the count says how many there are in all.
const SHOWN: usize = 5;
/// How far back the auditor's panel reads.
const SENSITIVE_DAYS: i64 = 7;

/// Which panels a role's home page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bench {
    Worker,
    Supervisor,
    Administrator,
    Auditor,
    /// The queue and shortcuts only.
    Plain,
}

fn bench(role: Role) -> Bench {
    match role {
        Role::SocialWorker => Bench::Worker,
        Role::Supervisor => Bench::Supervisor,
        Role::CivilAffairsAdmin | Role::AgencyManager => Bench::Administrator,
        Role::Auditor | Role::SecurityAdmin => Bench::Auditor,
        Role::SystemAdmin | Role::Evaluator => Bench::Plain,
    }
}

/// A resident on a worker's home page.
#[derive(Serialize, ToSchema)]
pub struct ResidentEntry {
    pub id: String,
    pub name: String,
    /// `high`, `key` or `general`.
    pub risk_tier: String,
    /// `YYYY-MM-DD`.
    pub next_visit_due: Option<String>,
    pub overdue: bool,
}

/// Some residents: how many in all and the first ten.
#[derive(Serialize, ToSchema)]
pub struct Residents {
    pub count: i64,
    pub items: Vec<ResidentEntry>,
}

/// A supervisee and their late work.
#[derive(Serialize, ToSchema)]
pub struct SuperviseeEntry {
    pub user_id: String,
    pub display_name: String,
    /// Their open cases naming the caller as supervisor.
    pub open_cases: i64,
    /// Of those, untouched for 30 days.
    pub stale_cases: i64,
    /// Their residents whose visit is overdue.
    pub overdue_visits: i64,
}

/// A child region with townships lacking an operating station.
#[derive(Serialize, ToSchema)]
pub struct CoverageGap {
    pub code: String,
    pub name: String,
    pub townships: i64,
    pub covered: i64,
}

/// One late or short record an administrator should look at.
#[derive(Serialize, ToSchema)]
pub struct ExceptionEntry {
    /// The record: a rectification's inspection visit, a report, a station.
    pub id: String,
    /// What the caller knows it by (station name; report unit and period).
    pub title: String,
    /// A date (`YYYY-MM-DD`) for rectifications and reports; `workers/required` for stations.
    pub detail: String,
    pub href: String,
}

/// Some exceptions of one kind: how many in all, the first five and the list holding them all.
#[derive(Serialize, ToSchema)]
pub struct Exceptions {
    pub count: i64,
    pub items: Vec<ExceptionEntry>,
    pub list_href: String,
}

/// An administrator's region at a glance.
#[derive(Serialize, ToSchema)]
pub struct RegionExceptions {
    /// The region measured (empty for the whole country).
    pub region_code: String,
    /// Administrative townships, and those with an operating township station (none for an
    /// agency's scope, which covers no territory of its own).
    pub townships: Option<i64>,
    pub covered: Option<i64>,
    /// Child regions with uncovered townships, the largest gap first (at most ten).
    pub gaps: Vec<CoverageGap>,
    pub rectifications_overdue: Exceptions,
    pub reports_overdue: Exceptions,
    pub understaffed: Exceptions,
}

impl RegionExceptions {
    /// The kinds of late or short records, with their heading key and element id.
    pub fn lists(&self) -> [(&'static str, &Exceptions, &'static str); 3] {
        [
            (
                "home.rect_overdue",
                &self.rectifications_overdue,
                "bench-rect",
            ),
            (
                "home.reports_overdue",
                &self.reports_overdue,
                "bench-reports",
            ),
            (
                "home.understaffed",
                &self.understaffed,
                "bench-understaffed",
            ),
        ]
    }
}

/// An auditor's recent sensitive events (the last seven days).
#[derive(Serialize, ToSchema)]
pub struct Sensitive {
    pub count: i64,
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<Row>,
}

/// The caller's home-page panels; which are present depends on the role.
#[derive(Serialize, ToSchema, Default)]
pub struct Workbench {
    /// A worker's residents due for a visit today or overdue.
    pub visits_today: Option<Residents>,
    /// A worker's residents at high risk.
    pub at_risk: Option<Residents>,
    /// A supervisor's supervisees with their overdue work.
    pub supervisees: Option<Vec<SuperviseeEntry>>,
    /// An administrator's exceptions in their region.
    pub exceptions: Option<RegionExceptions>,
    /// An auditor's recent sensitive events.
    pub sensitive: Option<Sensitive>,
}

fn residents(l: Listed<ResidentLine>, today: &str) -> Residents {
    Residents {
        count: l.count,
        items: l
            .items
            .into_iter()
            .map(|r| ResidentEntry {
                overdue: r.next_visit_due.as_deref().is_some_and(|d| d < today),
                id: r.id,
                name: r.name,
                risk_tier: r.risk_tier,
                next_visit_due: r.next_visit_due,
            })
            .collect(),
    }
}

fn supervisee(s: Supervisee) -> SuperviseeEntry {
    SuperviseeEntry {
        user_id: s.user_id,
        display_name: s.display_name,
        open_cases: s.open_cases,
        stale_cases: s.stale_cases,
        overdue_visits: s.overdue_visits,
    }
}

/// The caller's panels, read in their scope.
pub async fn load(state: &AppState, ctx: &Ctx) -> WebResult<Workbench> {
    let u = ctx.user()?;
    let v = viewer(state, u);
    let day = today(state.now());
    let mut c = state.db.read().await?;
    let mut out = Workbench::default();
    match bench(u.role()) {
        Bench::Worker => {
            out.visits_today = Some(residents(wb::visits_today(&mut c, &v).await?, &day));
            out.at_risk = Some(residents(wb::at_risk(&mut c, &v).await?, &day));
        }
        Bench::Supervisor => {
            let found = wb::supervisees(&mut c, &v, state.now()).await?;
            out.supervisees = Some(found.into_iter().map(supervisee).collect());
        }
        Bench::Administrator => {
            out.exceptions = Some(exceptions(&mut c, &u.scope(), &day).await?);
        }
        Bench::Auditor => {
            drop(c);
            out.sensitive = Some(sensitive(state, ctx, u).await?);
        }
        Bench::Plain => {}
    }
    Ok(out)
}

async fn exceptions(c: &mut Conn, scope: &Scope, day: &str) -> StoreResult<RegionExceptions> {
    let code = scope.region.as_ref().map(|r| r.as_str().to_owned());
    let (townships, covered, gaps) = if scope.org.is_some() {
        (None, None, vec![])
    } else {
        let (top, children) = coverage::coverage(c, scope, code.as_deref(), day).await?;
        let mut gaps: Vec<CoverageGap> = children
            .into_iter()
            .filter(|f| f.townships > f.covered)
            .map(|f| CoverageGap {
                code: f.code,
                name: f.name,
                townships: f.townships,
                covered: f.covered,
            })
            .collect();
        gaps.sort_by_key(|g| std::cmp::Reverse(g.townships - g.covered));
        gaps.truncate(10);
        (Some(top.townships), Some(top.covered), gaps)
    };
    Ok(RegionExceptions {
        region_code: code.unwrap_or_default(),
        townships,
        covered,
        gaps,
        rectifications_overdue: overdue_rectifications(c, scope, day).await?,
        reports_overdue: overdue_reports(c, scope, day).await?,
        understaffed: understaffed(c, scope).await?,
    })
}

async fn overdue_rectifications(c: &mut Conn, scope: &Scope, day: &str) -> StoreResult<Exceptions> {
    let f = RectFilter {
        state: Some("overdue".into()),
        ..RectFilter::default()
    };
    let page = PageRequest::new(None, Some(SHOWN as i64));
    let p = inspections::rectifications(c, scope, &f, day, page).await?;
    Ok(Exceptions {
        count: p.total,
        items: p
            .items
            .into_iter()
            .map(|x| ExceptionEntry {
                href: format!("/inspections/rectifications/{}", x.id),
                id: x.id,
                title: x.station_name,
                detail: x.deadline,
            })
            .collect(),
        list_href: "/inspections?state=overdue".into(),
    })
}

async fn overdue_reports(c: &mut Conn, scope: &Scope, day: &str) -> StoreResult<Exceptions> {
    let f = ReportFilter {
        overdue_on: Some(day.to_owned()),
        ..ReportFilter::default()
    };
    let page = PageRequest::new(None, Some(SHOWN as i64));
    let p = rp::list(c, scope, &f, page).await?;
    Ok(Exceptions {
        count: p.total,
        items: p
            .items
            .into_iter()
            .map(|r| ExceptionEntry {
                href: format!("/reports/{}", r.id),
                title: format!("{} {}", r.region_name, r.period),
                detail: r.due_on,
                id: r.id,
            })
            .collect(),
        list_href: "/reports?overdue=1".into(),
    })
}

async fn understaffed(c: &mut Conn, scope: &Scope) -> StoreResult<Exceptions> {
    let all = staff::understaffed(c, scope).await?;
    Ok(Exceptions {
        count: i64::try_from(all.len()).unwrap_or(i64::MAX),
        items: all
            .into_iter()
            .take(SHOWN)
            .map(|s| ExceptionEntry {
                href: format!("/stations/{}", s.id),
                detail: format!("{}/{}", s.workers, s.required),
                title: s.name,
                id: s.id,
            })
            .collect(),
        list_href: "/workforce".into(),
    })
}

async fn sensitive(state: &AppState, ctx: &Ctx, u: &CurrentUser) -> WebResult<Sensitive> {
    let since = state.now() - Duration::days(SENSITIVE_DAYS).num_milliseconds();
    let mut c = state.db.read().await?;
    let (count, entries) = audit::recent_sensitive(&mut c, &u.scope(), since, 10).await?;
    drop(c);
    Ok(Sensitive {
        count,
        items: rows(state, &ctx.tr(), &entries).await?,
    })
}

/// The caller's home-page panels, by role: a social worker's residents due for a visit today
/// (or overdue) and at high risk; a supervisor's supervisees with their overdue visits and
/// stale cases; a civil-affairs administrator's or agency manager's exceptions in their scope
/// (coverage gaps, overdue rectifications and reports, understaffed stations); an auditor's or
/// security administrator's sensitive events of the last seven days. Panels that do not apply
/// to the role are absent. The to-do queue is `GET /api/v1/todo`.
#[utoipa::path(get, path = "/api/v1/workbench", tag = "workbench",
    responses((status = 200, body = Workbench), (status = 401, description = "Not signed in")))]
pub async fn api_workbench(State(state): State<AppState>, ctx: Ctx) -> WebResult<Json<Workbench>> {
    Ok(Json(load(&state, &ctx).await?))
}
