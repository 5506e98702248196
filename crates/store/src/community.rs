//! 急难愁盼 ledger: community issues with their due times (the caller passes the region's
//! policy), the steps of their flow (only inserted), and the weekly or monthly view per
//! community computed from the records.
//!
//! Visibility: an issue belongs to its community (or township) and, optionally, a station; a
//! reader sees those of their scope (an organisation: those of its stations) and nothing else.

use serde::Serialize;
use shegong_domain::community::{
    self as cm, Category, Colour, DuePolicy, IssueState, Rating, Responsibility, Source, Step,
    Subject,
};
use shegong_domain::volunteers::attendance::local_day;
use shegong_domain::{FieldError, RegionCode, Scope};
use sqlx::AnyConnection;

use crate::network::station_scope;
use crate::people::residents::{Viewer, Whose, in_scope, matter_region};
use crate::sql::Sql;
use crate::statistics::counters;
use crate::{Millis, Page, PageRequest, StoreError, StoreResult, new_id};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Issue {
    pub id: String,
    pub issue_no: String,
    pub region_code: String,
    pub region_path: String,
    pub station_id: Option<String>,
    pub station_name: Option<String>,
    #[sqlx(try_from = "String")]
    pub subject: Subject,
    pub resident_id: Option<String>,
    pub household_id: Option<String>,
    #[sqlx(try_from = "String")]
    pub source: Source,
    pub source_ref: String,
    #[sqlx(try_from = "String")]
    pub category: Category,
    pub title: String,
    pub description: String,
    #[sqlx(try_from = "String")]
    pub colour: Colour,
    pub raised_at: Millis,
    pub due_at: Millis,
    pub responsibility: Option<String>,
    pub handler: String,
    #[sqlx(try_from = "String")]
    pub state: IssueState,
    pub answer: String,
    pub answered_at: Option<Millis>,
    pub rating: Option<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

impl Issue {
    /// Not answered by its due time: still open past it, or answered after it.
    pub fn overdue(&self, now: Millis) -> bool {
        match self.answered_at {
            Some(at) => at > self.due_at,
            None => self.state.is_open() && now > self.due_at,
        }
    }

    pub fn shown_colour(&self) -> &'static str {
        cm::shown_colour(self.colour, self.state)
    }
}

const SELECT: &str = "SELECT i.id, i.issue_no, i.region_code, g.path_names AS region_path, i.station_id, s.name AS station_name, \
     i.subject, i.resident_id, i.household_id, i.source, i.source_ref, i.category, i.title, i.description, i.colour, \
     i.raised_at, i.due_at, i.responsibility, i.handler, i.state, i.answer, i.answered_at, i.rating, i.created_at, i.updated_at \
     FROM community_issues i JOIN regions g ON g.code = i.region_code LEFT JOIN stations s ON s.id = i.station_id WHERE 1 = 1";

fn restrict(q: &mut Sql, scope: &Scope) {
    in_scope(q, scope, "i.region_code", "i.station_id", true);
}

/// A new issue's fields, parsed.
#[derive(Debug, Clone)]
pub struct IssueInput {
    pub subject: Subject,
    /// The person's or household's file (for those subjects).
    pub resident_id: Option<String>,
    pub household_id: Option<String>,
    /// The community (or township): required for a community matter, else that of the file.
    pub region: Option<RegionCode>,
    pub station_id: Option<String>,
    pub source: Source,
    pub source_ref: String,
    pub category: Category,
    pub title: String,
    pub description: String,
    pub colour: Colour,
}

fn text(field: &'static str, v: &str, max: usize, required: bool) -> Result<(), FieldError> {
    let n = v.trim().chars().count();
    if required && n == 0 {
        return Err(FieldError::new(field, "form.required"));
    }
    if n > max {
        return Err(FieldError::new(field, "form.too_long"));
    }
    Ok(())
}

impl IssueInput {
    pub fn validate(&self) -> Vec<FieldError> {
        let checks = [
            text("title", &self.title, 100, true),
            text("description", &self.description, 2000, false),
            text("source_ref", &self.source_ref, 100, false),
        ];
        let mut errors: Vec<FieldError> = checks.into_iter().filter_map(Result::err).collect();
        match self.subject {
            Subject::Person if self.resident_id.is_none() => {
                errors.push(FieldError::new("resident_id", "form.required"));
            }
            Subject::Household if self.household_id.is_none() => {
                errors.push(FieldError::new("household_id", "form.required"));
            }
            _ => {}
        }
        errors
    }
}

/// Where the matter belongs: the file's region for a person or household (in scope), else the
/// community given.
async fn place(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    input: &IssueInput,
) -> StoreResult<String> {
    let whose = match input.subject {
        Subject::Person => Whose::Person(input.resident_id.as_deref().unwrap_or_default()),
        Subject::Household => Whose::Household(input.household_id.as_deref().unwrap_or_default()),
        Subject::Community => Whose::Community(input.region.as_ref()),
    };
    matter_region(
        conn,
        viewer,
        whose,
        ("issue.resident_unknown", "issue.household_unknown"),
    )
    .await
}

/// Register an issue raised at `now`, due by the policy of its region (`policy_of`, from the
/// configuration); returns its id.
pub async fn create(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    input: &IssueInput,
    policy_of: &(dyn Fn(&str) -> DuePolicy + Sync),
    (by, now): (&str, Millis),
) -> StoreResult<String> {
    if let Some(e) = input.validate().into_iter().next() {
        return Err(e.into());
    }
    let region = place(conn, viewer, input).await?;
    if let Some(sid) = input.station_id.as_deref() {
        match station_scope::place(conn, &viewer.scope, sid).await {
            Err(StoreError::NotFound) => {
                return Err(FieldError::new("station", "staff.station_unknown").into());
            }
            other => {
                other?;
            }
        }
    } else if viewer.scope.org.is_some() {
        // An organisation sees only its stations' records: one must be named.
        return Err(FieldError::new("station", "form.required").into());
    }
    let day = local_day(now);
    let prefix = format!("{region}-{}", day.format("%Y%m%d"));
    let seq = Sql::new("SELECT COUNT(*) FROM community_issues WHERE region_code = ")
        .bind(region.as_str())
        .push(" AND issue_no LIKE ")
        .bind(format!("{prefix}-%"))
        .fetch_i64(conn)
        .await?;
    let issue_no = format!("{prefix}-{:03}", seq + 1);
    let id = new_id();
    let due = policy_of(&region).due(input.colour, now);
    let raised_on = day.to_string();
    Sql::new("INSERT INTO community_issues (id, issue_no, region_code, station_id, subject, resident_id, household_id, source, source_ref, category, title, description, colour, raised_at, raised_on, due_at, state, created_by, created_at, updated_at) VALUES (")
        .bind(&id).push(", ").bind(issue_no).push(", ").bind(region.as_str()).push(", ").bind(input.station_id.clone())
        .push(", ").bind(input.subject.as_str()).push(", ").bind(input.resident_id.clone()).push(", ").bind(input.household_id.clone())
        .push(", ").bind(input.source.as_str()).push(", ").bind(input.source_ref.trim()).push(", ").bind(input.category.as_str())
        .push(", ").bind(input.title.trim()).push(", ").bind(input.description.trim()).push(", ").bind(input.colour.as_str())
        .push(", ").bind(now).push(", ").bind(raised_on.as_str()).push(", ").bind(due).push(", 'registered', ").bind(by).push(", ").bind(now).push(", ").bind(now).push(")")
        .execute(conn)
        .await?;
    record(conn, &id, (None, IssueState::Registered), "", (by, now)).await?;
    let raised = format!("raised_{}", input.colour.as_str());
    counters::issue(conn, &region, &raised_on, &[raised.as_str()], 1).await?;
    Ok(id)
}

async fn record(
    conn: &mut AnyConnection,
    id: &str,
    (from, to): (Option<IssueState>, IssueState),
    note: &str,
    (by, now): (&str, Millis),
) -> StoreResult<()> {
    let seq = Sql::new("SELECT COUNT(*) FROM community_issue_steps WHERE issue_id = ")
        .bind(id)
        .fetch_i64(conn)
        .await?;
    Sql::new("INSERT INTO community_issue_steps (issue_id, seq, from_state, to_state, note, by_user, at) VALUES (")
        .bind(id).push(", ").bind(seq + 1).push(", ").bind(from.map(|s| s.as_str())).push(", ").bind(to.as_str())
        .push(", ").bind(note.trim()).push(", ").bind(by).push(", ").bind(now).push(")")
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn get(conn: &mut AnyConnection, scope: &Scope, id: &str) -> StoreResult<Issue> {
    let mut q = Sql::new(SELECT);
    q.push(" AND i.id = ").bind(id);
    restrict(&mut q, scope);
    q.fetch_optional(conn).await?.ok_or(StoreError::NotFound)
}

/// A step asked of an issue: for an assignment, who is responsible and the handler; the note
/// is the reason, the answer or a remark.
#[derive(Debug, Clone)]
pub struct StepInput {
    pub step: Step,
    pub responsibility: Option<Responsibility>,
    pub handler: String,
    pub note: String,
}

/// Take a step; returns the issue as it was before.
pub async fn step(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
    input: &StepInput,
    (by, now): (&str, Millis),
) -> StoreResult<Issue> {
    let before = get(conn, scope, id).await?;
    text("note", &input.note, 2000, false)?;
    text("handler", &input.handler, 100, false)?;
    let to = cm::check_step(before.state, input.step, &input.note)?;
    let mut q = Sql::new("UPDATE community_issues SET state = ");
    q.bind(to.as_str()).push(", updated_at = ").bind(now);
    match input.step {
        Step::Assign => {
            let Some(r) = input.responsibility else {
                return Err(FieldError::new("responsibility", "form.required").into());
            };
            text("handler", &input.handler, 100, true)?;
            q.push(", responsibility = ")
                .bind(r.as_str())
                .push(", handler = ")
                .bind(input.handler.trim());
        }
        Step::Answer => {
            q.push(", answer = ")
                .bind(input.note.trim())
                .push(", answered_at = ")
                .bind(now)
                .push(", answered_on = ")
                .bind(local_day(now).to_string());
        }
        Step::Rate(r) => {
            q.push(", rating = ").bind(r.as_str());
            if r == Rating::Unsatisfied {
                // Handled again: the next answer is the one that counts.
                q.push(", answered_at = NULL, answered_on = NULL");
            }
        }
        _ => {}
    }
    q.push(" WHERE id = ")
        .bind(id)
        .push(" AND state = ")
        .bind(before.state.as_str());
    if q.execute(conn).await? == 0 {
        return Err(FieldError::new("step", "issue.step_not_allowed").into());
    }
    record(conn, id, (Some(before.state), to), &input.note, (by, now)).await?;
    count_answer(conn, &before, input.step, now).await?;
    Ok(before)
}

/// Keep the dashboards' answered and on-time counts: up when answered, down again (at the
/// answer's month) when an unsatisfied rating takes the answer back.
async fn count_answer(
    conn: &mut AnyConnection,
    before: &Issue,
    step: Step,
    now: Millis,
) -> StoreResult<()> {
    let (at, sign) = match (step, before.answered_at) {
        (Step::Answer, _) => (now, 1),
        (Step::Rate(Rating::Unsatisfied), Some(at)) => (at, -1),
        _ => return Ok(()),
    };
    let keys: &[&str] = if at <= before.due_at {
        &["answered", "on_time"]
    } else {
        &["answered"]
    };
    let day = local_day(at).to_string();
    counters::issue(conn, &before.region_code, &day, keys, sign).await
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct IssueStep {
    pub seq: i64,
    pub from_state: Option<String>,
    pub to_state: String,
    pub note: String,
    pub by_user: String,
    pub at: Millis,
}

/// The steps of an issue in scope, in order.
pub async fn steps(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
) -> StoreResult<Vec<IssueStep>> {
    get(conn, scope, id).await?;
    Sql::new("SELECT seq, from_state, to_state, note, by_user, at FROM community_issue_steps WHERE issue_id = ")
        .bind(id)
        .push(" ORDER BY seq")
        .fetch_all(conn)
        .await
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub region: Option<RegionCode>,
    pub colour: Option<Colour>,
    pub state: Option<IssueState>,
    pub category: Option<Category>,
    /// Open and past the due time at this instant.
    pub overdue_at: Option<Millis>,
    /// Raised within [from, to) (UTC millis).
    pub raised: Option<(Millis, Millis)>,
    /// Number, title or handler contains.
    pub q: Option<String>,
    /// A key of `SORTS`; none is the default order (latest raised first).
    pub sort: Option<crate::Sort>,
    /// Only these issues (a batch selection).
    pub ids: Option<Vec<String>>,
}

/// The orders an issue list offers (key, column; `DESC`: the latest first).
pub const SORTS: &[(&str, &str)] = &[
    ("no", "i.issue_no"),
    ("region", "i.region_code"),
    ("category", "i.category"),
    ("colour", "i.colour"),
    ("state", "i.state"),
    ("raised", "i.raised_at DESC"),
    ("due", "i.due_at"),
];

fn filtered(scope: &Scope, f: &Filter, select: &'static str) -> Sql {
    let mut q = Sql::new(select);
    filter(&mut q, scope, f);
    q
}

/// `AND` the scope and the filter (the query names the issues table `i`).
fn filter(q: &mut Sql, scope: &Scope, f: &Filter) {
    restrict(q, scope);
    if let Some(r) = &f.region {
        q.push(" AND ");
        q.region_range("i.region_code", &Scope::region(r.clone()));
    }
    if let Some(c) = f.colour {
        q.push(" AND i.colour = ").bind(c.as_str());
    }
    if let Some(s) = f.state {
        q.push(" AND i.state = ").bind(s.as_str());
    }
    if let Some(c) = f.category {
        q.push(" AND i.category = ").bind(c.as_str());
    }
    if let Some(now) = f.overdue_at {
        q.push(
            " AND i.state IN ('registered', 'verified', 'assigned', 'handling') AND i.due_at < ",
        )
        .bind(now);
    }
    if let Some((from, to)) = f.raised {
        q.push(" AND i.raised_at >= ")
            .bind(from)
            .push(" AND i.raised_at < ")
            .bind(to);
    }
    if let Some(t) = f.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        q.contains_any(&["i.issue_no", "i.title", "i.handler"], t);
    }
    if let Some(ids) = &f.ids {
        q.push(" AND ");
        q.in_list("i.id", ids);
    }
}

pub async fn list(
    conn: &mut AnyConnection,
    scope: &Scope,
    f: &Filter,
    page: PageRequest,
) -> StoreResult<Page<Issue>> {
    let count = filtered(
        scope,
        f,
        "SELECT COUNT(*) FROM community_issues i WHERE 1 = 1",
    );
    let mut q = filtered(scope, f, SELECT);
    if !f.sort.is_some_and(|s| q.order(s, SORTS, "i.id")) {
        q.push(" ORDER BY i.raised_at DESC, i.id");
    }
    q.fetch_page(conn, &count, page).await
}

/// One community's figures for a period: raised by colour, answered, answered on time, rated
/// satisfied, and still open past the due time at the end of the period.
#[derive(Debug, Clone, Default, Serialize, sqlx::FromRow)]
pub struct Tally {
    pub region_code: String,
    pub region_name: String,
    pub raised: i64,
    pub red: i64,
    pub yellow: i64,
    pub blue: i64,
    pub answered: i64,
    pub on_time: i64,
    pub rated: i64,
    pub satisfied: i64,
    pub overdue: i64,
}

/// Issues raised in [from, to) per community of the reader's scope (under `region` when given),
/// from the records: the ledger's weekly review and monthly analysis.
pub async fn tally(
    conn: &mut AnyConnection,
    scope: &Scope,
    region: Option<&RegionCode>,
    (from, to): (Millis, Millis),
) -> StoreResult<Vec<Tally>> {
    let f = Filter {
        region: region.cloned(),
        raised: Some((from, to)),
        ..Filter::default()
    };
    let mut q = Sql::new(
        "SELECT i.region_code, MAX(g.name) AS region_name, COUNT(*) AS raised, \
         SUM(CASE WHEN i.colour = 'red' THEN 1 ELSE 0 END) AS red, \
         SUM(CASE WHEN i.colour = 'yellow' THEN 1 ELSE 0 END) AS yellow, \
         SUM(CASE WHEN i.colour = 'blue' THEN 1 ELSE 0 END) AS blue, \
         SUM(CASE WHEN i.answered_at IS NOT NULL THEN 1 ELSE 0 END) AS answered, \
         SUM(CASE WHEN i.answered_at IS NOT NULL AND i.answered_at <= i.due_at THEN 1 ELSE 0 END) AS on_time, \
         SUM(CASE WHEN i.rating IS NOT NULL THEN 1 ELSE 0 END) AS rated, \
         SUM(CASE WHEN i.rating = 'satisfied' THEN 1 ELSE 0 END) AS satisfied, \
         SUM(CASE WHEN i.state IN ('registered', 'verified', 'assigned', 'handling') AND i.due_at < ",
    );
    q.bind(to);
    q.push(
        " THEN 1 ELSE 0 END) AS overdue FROM community_issues i JOIN regions g ON g.code = i.region_code WHERE 1 = 1",
    );
    filter(&mut q, scope, &f);
    q.push(" GROUP BY i.region_code ORDER BY i.region_code");
    let rows: Vec<TallyRow> = q.fetch_all(conn).await?;
    Ok(rows.into_iter().map(Tally::from).collect())
}

/// SUM over integers is NUMERIC on PostgreSQL; read as text-free i64 through this row.
#[derive(sqlx::FromRow)]
struct TallyRow {
    region_code: String,
    region_name: String,
    raised: i64,
    red: Option<i64>,
    yellow: Option<i64>,
    blue: Option<i64>,
    answered: Option<i64>,
    on_time: Option<i64>,
    rated: Option<i64>,
    satisfied: Option<i64>,
    overdue: Option<i64>,
}

impl From<TallyRow> for Tally {
    fn from(r: TallyRow) -> Self {
        let n = |v: Option<i64>| v.unwrap_or(0);
        Tally {
            region_code: r.region_code,
            region_name: r.region_name,
            raised: r.raised,
            red: n(r.red),
            yellow: n(r.yellow),
            blue: n(r.blue),
            answered: n(r.answered),
            on_time: n(r.on_time),
            rated: n(r.rated),
            satisfied: n(r.satisfied),
            overdue: n(r.overdue),
        }
    }
}
