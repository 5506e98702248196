//! The to-do queue (待办): what waits for one user, read from the records themselves — never a
//! list anyone types or keeps. An item is there while its source says so (a visit due, a plan
//! awaiting approval, a rectification open) and gone as soon as the source is done, so the queue
//! cannot drift from the records.
//!
//! Each [`Source`] is one kind of work: a scoped `FROM … WHERE …` over its own table, the
//! column that says when it is due and which clock that column keeps. The queue asks each source
//! that applies to the user for its count, how many are overdue, and its first few items.

use chrono::{Datelike, Duration};
use serde::Serialize;
use shegong_domain::Scope;
use sqlx::AnyConnection;

use crate::network::construction;
use crate::people::residents::{Viewer, in_scope};
use crate::sql::Sql;
use crate::{Millis, StoreResult};

/// Items listed per kind; the count says how many there are in all.
pub const SHOWN: i64 = 10;
/// Visits, rectifications and tickets show up this many days before they are due.
const SOON_DAYS: i64 = 7;
/// Instalments and evaluations: two weeks ahead.
const PLAN_DAYS: i64 = 14;
/// Certificates: two months ahead, so there is time to renew the registration.
const CERTIFICATE_DAYS: i64 = 60;
/// Day of the month by which last month's construction report is due (as the construction page).
pub const REPORT_DUE_DAY: i64 = 5;

/// Whose queue: the reader (scope, account, protection grant, today), the clock, and which kinds
/// of work their role does (the web layer derives these from the role's permissions).
#[derive(Debug, Clone)]
pub struct Who {
    pub viewer: Viewer,
    pub now: Millis,
    /// Records the work of the station side: visits, answers, reports, rectification responses.
    pub writes: bool,
    /// Approves case plans and closures.
    pub approves: bool,
    /// Inspects stations and verifies rectifications.
    pub supervises: bool,
}

impl Who {
    fn scope(&self) -> &Scope {
        &self.viewer.scope
    }

    fn day(&self, days: i64) -> String {
        (self.viewer.today + Duration::days(days)).to_string()
    }
}

/// The kinds of work, in the order the queue shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Visit,
    PlanApproval,
    ClosureApproval,
    PlanReturned,
    ClosureReturned,
    Referral,
    Rectification,
    RectificationCheck,
    InspectionPlan,
    ProgressReport,
    Certificate,
    Instalment,
    Evaluation,
    Ticket,
    CommunityIssue,
    Report,
}

impl Kind {
    pub const ALL: [Kind; 16] = [
        Kind::Visit,
        Kind::PlanApproval,
        Kind::ClosureApproval,
        Kind::PlanReturned,
        Kind::ClosureReturned,
        Kind::Referral,
        Kind::Rectification,
        Kind::RectificationCheck,
        Kind::InspectionPlan,
        Kind::ProgressReport,
        Kind::Certificate,
        Kind::Instalment,
        Kind::Evaluation,
        Kind::Ticket,
        Kind::CommunityIssue,
        Kind::Report,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Visit => "visit",
            Kind::PlanApproval => "plan_approval",
            Kind::ClosureApproval => "closure_approval",
            Kind::PlanReturned => "plan_returned",
            Kind::ClosureReturned => "closure_returned",
            Kind::Referral => "referral",
            Kind::Rectification => "rectification",
            Kind::RectificationCheck => "rectification_check",
            Kind::InspectionPlan => "inspection_plan",
            Kind::ProgressReport => "progress_report",
            Kind::Certificate => "certificate",
            Kind::Instalment => "instalment",
            Kind::Evaluation => "evaluation",
            Kind::Ticket => "ticket",
            Kind::CommunityIssue => "community_issue",
            Kind::Report => "report",
        }
    }
}

/// One piece of work: the record it is about, what the queue calls it, and when it is due.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Item {
    /// The record to open: a resident, case, inspection visit, station, staff member,
    /// contract, evaluation, ticket or community issue (see `kind`).
    pub id: String,
    /// How the viewer knows the record (a resident's or station's name, a contract title…).
    pub title: String,
    /// `YYYY-MM-DD`, or for tickets and community issues the due time in milliseconds as text;
    /// none for work that waits on someone now rather than on a date.
    pub due: Option<String>,
    pub overdue: bool,
}

/// One kind of work in a queue: how many, how many overdue, and the first [`SHOWN`] by due date.
#[derive(Debug, Clone, Serialize)]
pub struct Group {
    pub kind: Kind,
    pub count: i64,
    pub overdue: i64,
    pub items: Vec<Item>,
}

/// What a source's due column holds.
#[derive(Clone, Copy)]
enum Clock {
    /// A `YYYY-MM-DD` date: overdue before today.
    Date,
    /// Milliseconds: overdue before now.
    Millis,
    /// A `YYYYMM` month number: overdue when before the month the report is due for.
    Month,
}

/// One kind of work: when it applies to a user, what to show and the scoped rows it comes from.
struct Source {
    kind: Kind,
    applies: fn(&Who) -> bool,
    /// `id, title, due` in that order.
    columns: &'static str,
    due: &'static str,
    clock: Clock,
    /// Appends ` FROM … WHERE …`: the rows that are work for this user now.
    from: fn(&Who, &mut Sql),
}

const SOURCES: &[Source] = &[
    Source {
        kind: Kind::Visit,
        applies: |_| true,
        columns: "r.id, r.name, r.next_visit_due",
        due: "r.next_visit_due",
        clock: Clock::Date,
        from: visits,
    },
    Source {
        kind: Kind::PlanApproval,
        applies: |w| w.approves,
        columns: CASE_COLUMNS,
        due: "c.updated_at",
        clock: Clock::Millis,
        from: |w, q| approvals(w, q, "plan"),
    },
    Source {
        kind: Kind::ClosureApproval,
        applies: |w| w.approves,
        columns: CASE_COLUMNS,
        due: "c.updated_at",
        clock: Clock::Millis,
        from: |w, q| approvals(w, q, "closure"),
    },
    Source {
        kind: Kind::PlanReturned,
        applies: |_| true,
        columns: CASE_COLUMNS,
        due: "c.updated_at",
        clock: Clock::Millis,
        from: |w, q| returned(w, q, "planning", "plan_returned"),
    },
    Source {
        kind: Kind::ClosureReturned,
        applies: |_| true,
        columns: CASE_COLUMNS,
        due: "c.updated_at",
        clock: Clock::Millis,
        from: |w, q| returned(w, q, "evaluation", "closure_returned"),
    },
    Source {
        kind: Kind::Referral,
        applies: |w| w.writes,
        columns: CASE_COLUMNS,
        due: "c.updated_at",
        clock: Clock::Millis,
        from: referrals,
    },
    Source {
        kind: Kind::Rectification,
        applies: |w| w.writes,
        columns: "x.visit_id, s.name, x.deadline",
        due: "x.deadline",
        clock: Clock::Date,
        from: |w, q| rectifications(w, q, true),
    },
    Source {
        kind: Kind::RectificationCheck,
        applies: |w| w.supervises,
        columns: "x.visit_id, s.name, x.deadline",
        due: "x.deadline",
        clock: Clock::Date,
        from: |w, q| rectifications(w, q, false),
    },
    Source {
        kind: Kind::InspectionPlan,
        applies: |w| w.supervises && w.scope().org.is_none(),
        columns: "p.id, p.title, p.ends_on",
        due: "p.ends_on",
        clock: Clock::Date,
        from: inspection_plans,
    },
    Source {
        kind: Kind::ProgressReport,
        applies: |w| w.writes,
        columns: "s.id, s.name, (SELECT MAX(p.month) FROM progress_reports p WHERE p.station_id = s.id)",
        due: "(SELECT MAX(p.month) FROM progress_reports p WHERE p.station_id = s.id)",
        clock: Clock::Month,
        from: progress_reports,
    },
    Source {
        kind: Kind::Certificate,
        applies: |w| w.writes,
        columns: "f.staff_id, m.name, f.registered_until",
        due: "f.registered_until",
        clock: Clock::Date,
        from: certificates,
    },
    Source {
        kind: Kind::Instalment,
        applies: |w| w.writes,
        columns: "c.id, c.title, i.due_on",
        due: "i.due_on",
        clock: Clock::Date,
        from: instalments,
    },
    Source {
        kind: Kind::Evaluation,
        applies: |w| w.writes,
        columns: "e.id, c.title, e.planned_on",
        due: "e.planned_on",
        clock: Clock::Date,
        from: evaluations,
    },
    Source {
        kind: Kind::Ticket,
        applies: |_| true,
        columns: "k.id, k.content, k.due_at",
        due: "k.due_at",
        clock: Clock::Millis,
        from: tickets,
    },
    Source {
        kind: Kind::CommunityIssue,
        applies: |w| w.writes,
        columns: "i.id, i.title, i.due_at",
        due: "i.due_at",
        clock: Clock::Millis,
        from: community_issues,
    },
    Source {
        kind: Kind::Report,
        applies: |w| w.writes && w.scope().org.is_none(),
        columns: "r.id, g.name || ' ' || r.period, r.due_on",
        due: "r.due_on",
        clock: Clock::Date,
        from: reports,
    },
];

const CASE_COLUMNS: &str = "c.id, r.name, c.updated_at";

/// The viewer's own residents due for a visit within a week (or overdue).
fn visits(w: &Who, q: &mut Sql) {
    q.push(" FROM residents r WHERE r.status = 'active' AND r.worker_user_id = ")
        .bind(w.viewer.user_id.clone())
        .push(" AND r.next_visit_due <= ")
        .bind(w.day(SOON_DAYS));
    w.viewer.restrict(q);
}

/// Cases whose `pending` step waits for this supervisor: named on the case, or — when the case
/// names none — any approver in scope; never the case's own worker.
fn approvals(w: &Who, q: &mut Sql, pending: &'static str) {
    let me = w.viewer.user_id.clone();
    q.push(" FROM cases c JOIN residents r ON r.id = c.resident_id WHERE c.pending = ")
        .bind(pending)
        .push(" AND (c.supervisor_user_id = ")
        .bind(me.clone())
        .push(" OR c.supervisor_user_id IS NULL) AND COALESCE(c.worker_user_id, '') <> ")
        .bind(me);
    in_scope(q, w.scope(), "c.region_code", "c.station_id", true);
    w.viewer.protect(q, "r", None);
}

/// The viewer's cases sent back by the supervisor and not yet resubmitted: the case is still at
/// the `stage` the return put it in, nothing pending, and its latest event is the return.
fn returned(w: &Who, q: &mut Sql, stage: &'static str, event: &'static str) {
    q.push(" FROM cases c JOIN residents r ON r.id = c.resident_id WHERE c.worker_user_id = ")
        .bind(w.viewer.user_id.clone())
        .push(" AND c.stage = ")
        .bind(stage)
        .push(" AND c.pending = '' AND (SELECT e.kind FROM case_events e WHERE e.case_id = c.id ORDER BY e.at DESC, e.id DESC LIMIT 1) = ")
        .bind(event);
    in_scope(q, w.scope(), "c.region_code", "c.station_id", true);
}

/// Cases referred to a station in scope, waiting to be accepted or declined.
fn referrals(w: &Who, q: &mut Sql) {
    q.push(" FROM cases c JOIN residents r ON r.id = c.resident_id WHERE c.transfer_region IS NOT NULL");
    in_scope(
        q,
        w.scope(),
        "c.transfer_region",
        "c.transfer_station_id",
        true,
    );
}

/// Open rectifications due within a week (the station side answers them), or the submitted ones
/// waiting for an inspector to verify.
fn rectifications(w: &Who, q: &mut Sql, open: bool) {
    q.push(" FROM rectifications x JOIN stations s ON s.id = x.station_id WHERE ");
    if open {
        q.push("x.status = 'open' AND x.deadline <= ")
            .bind(w.day(SOON_DAYS));
    } else {
        q.push("x.status = 'submitted'");
    }
    in_scope(q, w.scope(), "x.region_code", "x.station_id", true);
}

/// Inspection plans under way or starting within a week.
fn inspection_plans(w: &Who, q: &mut Sql) {
    q.push(" FROM inspection_plans p WHERE p.starts_on <= ")
        .bind(w.day(SOON_DAYS))
        .push(" AND p.ends_on >= ")
        .bind(w.day(0))
        .push(" AND ");
    q.region_range("p.region_code", w.scope());
}

/// Stations still being built whose last month's report is missing once it is due.
fn progress_reports(w: &Who, q: &mut Sql) {
    let today = w.viewer.today;
    let due = construction::month_due(
        i64::from(today.year()),
        i64::from(today.month()),
        i64::from(today.day()),
        REPORT_DUE_DAY,
    );
    q.push(" FROM stations s WHERE ");
    q.region_range("s.region_code", w.scope());
    if let Some(org) = w.scope().org {
        q.push(" AND s.operator_org_id = ").bind(org.to_string());
    }
    q.push(" AND s.status IN ('planned', 'under_construction') AND NOT EXISTS (SELECT 1 FROM progress_reports p WHERE p.station_id = s.id AND p.month >= ")
        .bind(due)
        .push(")");
}

/// Certificates of serving staff whose registration ends within two months (or has ended).
fn certificates(w: &Who, q: &mut Sql) {
    q.push(" FROM certificates f JOIN staff m ON m.id = f.staff_id WHERE m.status = 'active' AND f.registered_until <= ")
        .bind(w.day(CERTIFICATE_DAYS))
        .push(" AND ");
    q.region_range("m.region_code", w.scope());
    if let Some(org) = w.scope().org {
        q.push(" AND m.employer_org_id = ").bind(org.to_string());
    }
}

/// Instalments of contracts in force falling due within two weeks and not yet paid or assessed:
/// the provider asks for payment, the purchaser pays.
fn instalments(w: &Who, q: &mut Sql) {
    q.push(" FROM instalments i JOIN contracts c ON c.id = i.contract_id WHERE c.state = 'in_force' AND i.state IN ('due', 'requested') AND i.due_on <= ")
        .bind(w.day(PLAN_DAYS))
        .push(" AND ");
    match w.scope().org {
        Some(org) => q.push("c.provider_org_id = ").bind(org.to_string()),
        None => q.region_range("c.region_code", w.scope()),
    };
}

/// Evaluations planned within two weeks (or late) and not yet finished: for the evaluating
/// organisation, the provider, or the purchaser's region.
fn evaluations(w: &Who, q: &mut Sql) {
    q.push(" FROM evaluations e JOIN contracts c ON c.id = e.contract_id WHERE e.state NOT IN ('final', 'published') AND e.planned_on <= ")
        .bind(w.day(PLAN_DAYS))
        .push(" AND ");
    match w.scope().org {
        Some(org) => {
            let org = org.to_string();
            q.push("(e.evaluator_org_id = ")
                .bind(org.clone())
                .push(" OR c.provider_org_id = ")
                .bind(org)
                .push(")")
        }
        None => q.region_range("e.region_code", w.scope()),
    };
}

/// Tickets assigned to the viewer and still open, and — for the station side — tickets received
/// in scope that nobody has been assigned yet.
fn tickets(w: &Who, q: &mut Sql) {
    q.push(" FROM tickets k WHERE (k.assignee_user_id = ")
        .bind(w.viewer.user_id.clone())
        .push(" AND k.state IN ('assigned', 'accepted', 'in_progress', 'extension_requested')");
    if w.writes {
        q.push(" OR k.state = 'received'");
    }
    q.push(")");
    in_scope(q, w.scope(), "k.region_code", "k.station_id", true);
}

/// Community issues in scope still to be verified or answered, due within a week (or late).
fn community_issues(w: &Who, q: &mut Sql) {
    q.push(" FROM community_issues i WHERE i.state IN ('registered', 'verified', 'assigned', 'handling') AND i.due_at <= ")
        .bind(w.now + SOON_DAYS * 86_400_000);
    in_scope(q, w.scope(), "i.region_code", "i.station_id", true);
}

/// Whether the kind of work has a date it can be late for. Case steps, referrals, checks and
/// plans under way wait on someone now; their column only orders them, oldest first.
fn timed(kind: Kind) -> bool {
    !matches!(
        kind,
        Kind::PlanApproval
            | Kind::ClosureApproval
            | Kind::PlanReturned
            | Kind::ClosureReturned
            | Kind::Referral
            | Kind::RectificationCheck
            | Kind::InspectionPlan
    )
}

/// Statistical reports waiting for the reader's unit: its own to submit (drafts, returned ones)
/// and its direct children's to review or approve, or asking to be unlocked.
fn reports(w: &Who, q: &mut Sql) {
    let own = w.scope().prefix().to_owned();
    q.push(" FROM reports r JOIN regions g ON g.code = r.region_code WHERE ((r.region_code = ")
        .bind(own.clone())
        .push(" AND r.state IN ('draft', 'returned')) OR (COALESCE(g.parent_code, '') = ")
        .bind(own)
        .push(" AND (r.state IN ('submitted', 'reviewing') OR EXISTS (SELECT 1 FROM report_unlocks u WHERE u.report_id = r.id AND u.state = 'pending'))))");
}

/// `due < now`, bound for the source's clock.
fn push_overdue(q: &mut Sql, w: &Who, s: &Source) {
    q.push(s.due).push(" < ");
    match s.clock {
        Clock::Date => q.bind(w.day(0)),
        _ => q.bind(w.now),
    };
}

fn applying(w: &Who) -> impl Iterator<Item = &'static Source> + '_ {
    SOURCES.iter().filter(|s| (s.applies)(w))
}

/// Appends `COUNT(*), <overdue count> FROM … WHERE …`: how many items of this source, and how
/// many of them overdue.
fn count(q: &mut Sql, w: &Who, s: &Source) {
    q.push("COUNT(*), COALESCE(SUM(CASE WHEN ");
    match s.clock {
        _ if !timed(s.kind) => {
            q.push("1 = 0");
        }
        // A station in the queue is late by definition: its report is missing once due.
        Clock::Month => {
            q.push("1 = 1");
        }
        _ => push_overdue(q, w, s),
    }
    q.push(" THEN 1 ELSE 0 END), 0)");
    (s.from)(w, q);
}

/// The first [`SHOWN`] items of this source, earliest due first.
async fn items(conn: &mut AnyConnection, w: &Who, s: &Source) -> StoreResult<Vec<Item>> {
    let mut q = Sql::new("SELECT ");
    q.push(s.columns);
    (s.from)(w, &mut q);
    q.push(" ORDER BY ")
        .push(s.due)
        .push(", 1 LIMIT ")
        .bind(SHOWN);
    let today = w.day(0);
    let dated = timed(s.kind);
    Ok(match s.clock {
        Clock::Date => q
            .fetch_all::<(String, String, Option<String>)>(conn)
            .await?
            .into_iter()
            .map(|(id, title, due)| Item {
                overdue: dated && due.as_deref().is_some_and(|d| d < today.as_str()),
                id,
                title,
                due,
            })
            .collect(),
        Clock::Millis => q
            .fetch_all::<(String, String, Option<i64>)>(conn)
            .await?
            .into_iter()
            .map(|(id, title, due)| Item {
                overdue: dated && due.is_some_and(|d| d < w.now),
                id,
                title,
                due: due.filter(|_| dated).map(|d| d.to_string()),
            })
            .collect(),
        Clock::Month => q
            .fetch_all::<(String, String, Option<i64>)>(conn)
            .await?
            .into_iter()
            .map(|(id, title, _last)| Item {
                id,
                title,
                due: None,
                overdue: true,
            })
            .collect(),
    })
}

/// The user's queue: every kind of work that applies to them and has anything in it.
pub async fn queue(conn: &mut AnyConnection, w: &Who) -> StoreResult<Vec<Group>> {
    let mut out = Vec::new();
    for (s, count, overdue) in counted(conn, w).await? {
        out.push(Group {
            kind: s.kind,
            count,
            overdue,
            items: items(conn, w, s).await?,
        });
    }
    Ok(out)
}

/// Each kind of work that applies to the user with anything in it: (kind, count, overdue).
pub async fn counts(conn: &mut AnyConnection, w: &Who) -> StoreResult<Vec<(Kind, i64, i64)>> {
    Ok(counted(conn, w)
        .await?
        .into_iter()
        .map(|(s, n, late)| (s.kind, n, late))
        .collect())
}

/// Each source that applies to the user with anything in it, its count and overdue count: every
/// source counted in one statement (the bell asks on every page; one round trip, not sixteen).
async fn counted(
    conn: &mut AnyConnection,
    w: &Who,
) -> StoreResult<Vec<(&'static Source, i64, i64)>> {
    let sources: Vec<&'static Source> = applying(w).collect();
    let mut q = Sql::new("");
    for (i, s) in sources.iter().enumerate() {
        if i > 0 {
            q.push(" UNION ALL ");
        }
        q.push("SELECT CAST(").bind(i as i64).push(" AS BIGINT), ");
        count(&mut q, w, s);
    }
    if sources.is_empty() {
        return Ok(Vec::new());
    }
    let mut rows = q.fetch_all::<(i64, i64, i64)>(conn).await?;
    // In the order the queue shows them (the sources' order).
    rows.sort_by_key(|(i, _, _)| *i);
    let out = rows
        .into_iter()
        .filter(|(_, n, _)| *n > 0)
        .filter_map(|(i, n, late)| {
            let s = usize::try_from(i).ok().and_then(|i| sources.get(i))?;
            Some((*s, n, late))
        })
        .collect();
    Ok(out)
}

/// How many items the user's queue holds in all, and how many are overdue (the bell).
pub async fn total(conn: &mut AnyConnection, w: &Who) -> StoreResult<(i64, i64)> {
    Ok(counts(conn, w)
        .await?
        .into_iter()
        .fold((0, 0), |(n, late), (_, a, b)| (n + a, late + b)))
}
