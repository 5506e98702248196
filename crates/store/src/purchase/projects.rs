//! Purchase projects: approved (立项) with a budget, catalogue item, stations and term, procured
//! by a method with public notices, and ended by the contract they were awarded to (or failed
//! and procured again, or cancelled).
//!
//! A purchaser's business: visible to the scopes containing the project's region; a scope naming
//! an organisation (an agency, an evaluator) sees no projects.

use chrono::NaiveDate;
use serde::Serialize;
use shegong_domain::money::Fen;
use shegong_domain::purchase::contract::{ProcurementMethod, Term};
use shegong_domain::purchase::project::{
    Notice, NoticeKind, Project, ProjectState, check_award, check_step,
};
use shegong_domain::{FieldError, RegionCode, Scope};
use sqlx::AnyConnection;

use super::{contracts, stored};
use crate::sql::Sql;
use crate::workforce::staff::date_text;
use crate::{Millis, Page, PageRequest, StoreError, StoreResult, new_id};

#[derive(Debug, Clone, Serialize)]
pub struct StoredProject {
    pub id: String,
    pub region_code: String,
    pub region_path: Option<String>,
    pub number: String,
    pub name: String,
    pub purchaser_org_id: Option<String>,
    pub purchaser_name: Option<String>,
    pub catalogue_item_id: Option<String>,
    pub catalogue_item_name: Option<String>,
    pub budget: Fen,
    pub term: Term,
    pub method: Option<ProcurementMethod>,
    pub state: ProjectState,
    pub contract_id: Option<String>,
    pub contract_number: Option<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    region_code: String,
    region_path: Option<String>,
    number: String,
    name: String,
    purchaser_org_id: Option<String>,
    purchaser_name: Option<String>,
    catalogue_item_id: Option<String>,
    catalogue_item_name: Option<String>,
    budget_fen: i64,
    term_start: String,
    term_end: String,
    method: Option<String>,
    state: String,
    contract_id: Option<String>,
    contract_number: Option<String>,
    created_at: i64,
    updated_at: i64,
}

const SELECT: &str = "SELECT p.id, p.region_code, r.path_names AS region_path, p.number, p.name, \
     p.purchaser_org_id, o.name AS purchaser_name, p.catalogue_item_id, i.name AS catalogue_item_name, \
     p.budget_fen, p.term_start, p.term_end, p.method, p.state, p.contract_id, \
     c.number AS contract_number, p.created_at, p.updated_at \
     FROM purchase_projects p LEFT JOIN regions r ON r.code = p.region_code \
     LEFT JOIN organizations o ON o.id = p.purchaser_org_id \
     LEFT JOIN catalogue_items i ON i.id = p.catalogue_item_id \
     LEFT JOIN contracts c ON c.id = p.contract_id";

const COUNT: &str = "SELECT COUNT(*) FROM purchase_projects p";

fn date(text: &str) -> StoreResult<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|e| StoreError::Db(sqlx::Error::Decode(e.into())))
}

impl TryFrom<Row> for StoredProject {
    type Error = StoreError;

    fn try_from(r: Row) -> StoreResult<StoredProject> {
        Ok(StoredProject {
            term: stored(Term::new(date(&r.term_start)?, date(&r.term_end)?))?,
            method: r
                .method
                .map(|m| stored(ProcurementMethod::parse(&m)))
                .transpose()?,
            state: stored(ProjectState::parse(&r.state))?,
            budget: Fen(r.budget_fen),
            id: r.id,
            region_code: r.region_code,
            region_path: r.region_path,
            number: r.number,
            name: r.name,
            purchaser_org_id: r.purchaser_org_id,
            purchaser_name: r.purchaser_name,
            catalogue_item_id: r.catalogue_item_id,
            catalogue_item_name: r.catalogue_item_name,
            contract_id: r.contract_id,
            contract_number: r.contract_number,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

fn refuse<T>(field: &'static str, code: &'static str) -> StoreResult<T> {
    Err(FieldError::new(field, code).into())
}

/// `select` (aliasing projects as `p`) restricted to the projects `scope` may see.
fn visible(select: &'static str, scope: &Scope) -> Sql {
    let mut q = Sql::new(select);
    q.push(" WHERE ");
    if scope.org.is_some() {
        q.push("1 = 0");
    } else {
        q.region_range("p.region_code", scope);
    }
    q
}

/// A new project: the purchaser's region and organisation, what is bought, where and when.
#[derive(Debug, Clone)]
pub struct ProjectInput {
    pub region: RegionCode,
    pub project: Project,
    pub purchaser_org_id: Option<String>,
    pub catalogue_item_id: Option<String>,
    pub stations: Vec<String>,
}

/// Approve a project (立项) in the writer's region. Refused: a scope naming an organisation or a
/// region outside the scope, a project number taken in the region, an unknown purchaser, a
/// catalogue item not visible, a station outside the region.
pub async fn create(
    conn: &mut AnyConnection,
    scope: &Scope,
    input: &ProjectInput,
    by: &str,
    now: Millis,
) -> StoreResult<String> {
    if scope.org.is_some() || !scope.contains_region(input.region.as_str()) {
        return refuse("region", "purchase.region_out_of_scope");
    }
    let p = &input.project;
    p.validate()?;
    let taken = Sql::new("SELECT COUNT(*) FROM purchase_projects WHERE region_code = ")
        .bind(input.region.as_str())
        .push(" AND number = ")
        .bind(p.number.trim())
        .fetch_i64(conn)
        .await?;
    if taken > 0 {
        return refuse("project_number", "project.number_taken");
    }
    if let Some(org) = &input.purchaser_org_id {
        let n = Sql::new("SELECT COUNT(*) FROM organizations WHERE id = ")
            .bind(org.as_str())
            .fetch_i64(conn)
            .await?;
        if n == 0 {
            return refuse("purchaser_org_id", "purchase.purchaser_unknown");
        }
    }
    if let Some(item) = &input.catalogue_item_id
        && super::catalogue::get_item(conn, scope, item).await.is_err()
    {
        return refuse("catalogue_item_id", "purchase.catalogue_item_unknown");
    }
    let region = Scope::region(input.region.clone());
    for station in &input.stations {
        let mut q = Sql::new("SELECT COUNT(*) FROM stations WHERE id = ");
        q.bind(station.as_str()).push(" AND ");
        q.region_range("region_code", &region);
        if q.fetch_i64(conn).await? == 0 {
            return refuse("stations", "purchase.station_outside_region");
        }
    }
    let id = new_id();
    Sql::new("INSERT INTO purchase_projects (id, region_code, number, name, purchaser_org_id, catalogue_item_id, budget_fen, term_start, term_end, state, created_by, created_at, updated_at) VALUES (")
        .bind(&id).push(", ").bind(input.region.as_str()).push(", ").bind(p.number.trim()).push(", ")
        .bind(p.name.trim()).push(", ").bind(input.purchaser_org_id.clone()).push(", ")
        .bind(input.catalogue_item_id.clone()).push(", ").bind(p.budget.0).push(", ")
        .bind(date_text(p.term.start())).push(", ").bind(date_text(p.term.end())).push(", ")
        .bind(ProjectState::Approved.as_str()).push(", ").bind(by).push(", ").bind(now).push(", ").bind(now).push(")")
        .execute(conn)
        .await?;
    for station in &input.stations {
        Sql::new("INSERT INTO project_stations (project_id, station_id) VALUES (")
            .bind(&id)
            .push(", ")
            .bind(station.as_str())
            .push(")")
            .execute(conn)
            .await?;
    }
    Ok(id)
}

pub async fn get(conn: &mut AnyConnection, scope: &Scope, id: &str) -> StoreResult<StoredProject> {
    let mut q = visible(SELECT, scope);
    q.push(" AND p.id = ").bind(id);
    let row: Row = q.fetch_one(conn).await?;
    row.try_into()
}

#[derive(Debug, Clone, Serialize)]
pub struct StoredNotice {
    pub seq: i64,
    pub kind: NoticeKind,
    pub published_on: String,
    pub title: String,
    pub url: String,
}

/// A project with its stations (id, name) and notices in the order published.
#[derive(Debug, Clone, Serialize)]
pub struct ProjectDetail {
    pub project: StoredProject,
    pub stations: Vec<(String, String)>,
    pub notices: Vec<StoredNotice>,
}

pub async fn detail(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
) -> StoreResult<ProjectDetail> {
    let project = get(conn, scope, id).await?;
    let stations: Vec<(String, String)> = Sql::new(
        "SELECT s.id, s.name FROM project_stations ps JOIN stations s ON s.id = ps.station_id \
         WHERE ps.project_id = ",
    )
    .bind(id)
    .push(" ORDER BY s.region_code, s.name")
    .fetch_all(conn)
    .await?;
    let rows: Vec<(i64, String, String, String, String)> = Sql::new(
        "SELECT seq, kind, published_on, title, url FROM procurement_notices WHERE project_id = ",
    )
    .bind(id)
    .push(" ORDER BY seq")
    .fetch_all(conn)
    .await?;
    let notices = rows
        .into_iter()
        .map(|(seq, kind, published_on, title, url)| {
            Ok(StoredNotice {
                kind: stored(NoticeKind::parse(&kind))?,
                seq,
                published_on,
                title,
                url,
            })
        })
        .collect::<StoreResult<_>>()?;
    Ok(ProjectDetail {
        project,
        stations,
        notices,
    })
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Number or name contains.
    pub q: Option<String>,
    pub state: Option<ProjectState>,
    /// A key of `SORTS`; none is the default order (latest term first).
    pub sort: Option<crate::Sort>,
    /// Only these projects (a batch selection).
    pub ids: Option<Vec<String>>,
}

/// The orders a project list offers (key, column; `DESC`: the latest or largest first).
pub const SORTS: &[(&str, &str)] = &[
    ("number", "p.number"),
    ("name", "p.name"),
    ("region", "p.region_code"),
    ("budget", "p.budget_fen DESC"),
    ("term", "p.term_start DESC"),
    ("state", "p.state"),
];

fn filtered(scope: &Scope, f: &Filter, select: &'static str) -> Sql {
    let mut q = visible(select, scope);
    if let Some(text) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        q.contains_any(&["p.number", "p.name"], text);
    }
    if let Some(state) = f.state {
        q.push(" AND p.state = ").bind(state.as_str());
    }
    if let Some(ids) = &f.ids {
        q.push(" AND ");
        q.in_list("p.id", ids);
    }
    q
}

/// One page of the projects in scope, latest term first.
pub async fn list(
    conn: &mut AnyConnection,
    scope: &Scope,
    f: &Filter,
    page: PageRequest,
) -> StoreResult<Page<StoredProject>> {
    let mut q = filtered(scope, f, SELECT);
    if !f.sort.is_some_and(|s| q.order(s, SORTS, "p.id")) {
        q.push(" ORDER BY p.term_start DESC, p.number, p.id");
    }
    let rows: Page<Row> = q.fetch_page(conn, &filtered(scope, f, COUNT), page).await?;
    Ok(Page {
        items: rows
            .items
            .into_iter()
            .map(StoredProject::try_from)
            .collect::<StoreResult<_>>()?,
        total: rows.total,
        capped: rows.capped,
        page: rows.page,
        per_page: rows.per_page,
    })
}

/// Move a project (procurement needs its method); returns the state before. Guarded by the state
/// read, so a concurrent move makes this one a refusal.
pub async fn set_state(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
    to: ProjectState,
    method: Option<ProcurementMethod>,
    now: Millis,
) -> StoreResult<ProjectState> {
    let before = get(conn, scope, id).await?;
    check_step(before.state, to, method)?;
    let mut q = Sql::new("UPDATE purchase_projects SET state = ");
    q.bind(to.as_str()).push(", updated_at = ").bind(now);
    if let Some(m) = method.filter(|_| to == ProjectState::Procuring) {
        q.push(", method = ").bind(m.as_str());
    }
    q.push(" WHERE id = ")
        .bind(id)
        .push(" AND state = ")
        .bind(before.state.as_str());
    if q.execute(conn).await? != 1 {
        return refuse("state", "project.transition_invalid");
    }
    Ok(before.state)
}

/// File a notice of the project's procurement; returns its number. Not on a cancelled project.
pub async fn add_notice(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
    notice: &Notice,
    today: NaiveDate,
    by: &str,
    now: Millis,
) -> StoreResult<i64> {
    let project = get(conn, scope, id).await?;
    if project.state == ProjectState::Cancelled {
        return refuse("state", "project.cancelled");
    }
    notice.validate(today)?;
    let seq =
        Sql::new("SELECT COALESCE(MAX(seq), 0) + 1 FROM procurement_notices WHERE project_id = ")
            .bind(id)
            .fetch_i64(conn)
            .await?;
    Sql::new("INSERT INTO procurement_notices (id, project_id, seq, kind, published_on, title, url, created_by, created_at) VALUES (")
        .bind(new_id()).push(", ").bind(id).push(", ").bind(seq).push(", ")
        .bind(notice.kind.as_str()).push(", ").bind(date_text(notice.published_on)).push(", ")
        .bind(notice.title.trim()).push(", ").bind(notice.url.trim()).push(", ")
        .bind(by).push(", ").bind(now).push(")")
        .execute(conn)
        .await?;
    Ok(seq)
}

/// End the procurement with the contract signed: a contract of the project's region, within
/// its budget, not yet ending another project. Returns the contract's number.
pub async fn award(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
    contract_id: &str,
    now: Millis,
) -> StoreResult<String> {
    let project = get(conn, scope, id).await?;
    let contract = match contracts::get(conn, scope, contract_id).await {
        Ok(c) if c.region_code == project.region_code => c,
        Ok(_) | Err(StoreError::NotFound) => {
            return refuse("contract_id", "project.contract_unknown");
        }
        Err(e) => return Err(e),
    };
    check_award(project.state, project.budget, contract.amount)?;
    let other = Sql::new("SELECT COUNT(*) FROM purchase_projects WHERE contract_id = ")
        .bind(contract_id)
        .fetch_i64(conn)
        .await?;
    if other > 0 {
        return refuse("contract_id", "project.contract_taken");
    }
    let moved = Sql::new("UPDATE purchase_projects SET state = ")
        .bind(ProjectState::Awarded.as_str())
        .push(", contract_id = ")
        .bind(contract_id)
        .push(", updated_at = ")
        .bind(now)
        .push(" WHERE id = ")
        .bind(id)
        .push(" AND state = ")
        .bind(ProjectState::Procuring.as_str())
        .execute(conn)
        .await?;
    if moved != 1 {
        return refuse("state", "project.not_procuring");
    }
    Ok(contract.number)
}

/// The project a contract was awarded from, if any: (id, number, name).
pub async fn of_contract(
    conn: &mut AnyConnection,
    scope: &Scope,
    contract_id: &str,
) -> StoreResult<Option<(String, String, String)>> {
    let mut q = visible(
        "SELECT p.id, p.number, p.name FROM purchase_projects p",
        scope,
    );
    q.push(" AND p.contract_id = ").bind(contract_id);
    q.fetch_optional(conn).await
}
