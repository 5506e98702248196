//! Tickets (工单): taken from a call, a 12345 dispatch (external number unique, its state
//! mirrored), an alarm button, a walk-in or a message; moved through the loop by steps recorded
//! in `ticket_events` (inserted only); matched to a resident on file with a confirm step; closed
//! with an outcome (a case opened or a service recorded through the people stores, a referral, a
//! volunteer task or resource match). A crisis ticket notifies the supervisors in reach at once.
//!
//! Scoped by the station's region (and operator, for an organisation): outside it a ticket does
//! not exist. The caller's phone and identity number are sealed; their keyed hashes find earlier
//! tickets of the same caller and the resident with that identity number.

use serde::Serialize;
use shegong_domain::hotline::{
    self as hl, Category, Channel, Outcome, Satisfaction, Sla, Step, TicketState, Urgency,
};
use shegong_domain::people::ServiceKind;
use shegong_domain::{FieldError, Scope};
use sqlx::AnyConnection;

use super::{refuse, station_for};
use crate::crypto::KeyRing;
use crate::people::residents::{self, Viewer, check_worker, in_scope};
use crate::people::{cases, services};
use crate::sql::Sql;
use crate::{Millis, Page, PageRequest, StoreError, StoreResult, new_id};

pub const PHONE_FIELD: &str = "tickets.caller_phone";

#[derive(Debug, Clone)]
pub struct TicketInput {
    pub station_id: String,
    pub hotline_id: Option<String>,
    pub channel: Channel,
    /// Typed for a 12345 dispatch (never in the future); otherwise the server's clock.
    pub received_at: Option<Millis>,
    pub caller_name: String,
    pub caller_phone: Option<String>,
    pub caller_id_number: Option<String>,
    pub category: Category,
    pub urgency: Urgency,
    pub content: String,
    pub assignee_user_id: Option<String>,
    pub external_no: Option<String>,
    pub external_state: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Ticket {
    pub id: String,
    pub region_code: String,
    pub station_id: String,
    pub station_name: Option<String>,
    pub hotline_id: Option<String>,
    pub hotline_number: Option<String>,
    #[sqlx(try_from = "String")]
    pub channel: Channel,
    pub received_at: i64,
    pub caller_name: String,
    #[serde(skip)]
    pub caller_phone_sealed: Option<String>,
    #[serde(skip)]
    pub caller_phone_hash: Option<String>,
    #[serde(skip)]
    pub caller_id_hash: Option<String>,
    #[sqlx(try_from = "String")]
    pub category: Category,
    #[sqlx(try_from = "String")]
    pub urgency: Urgency,
    pub content: String,
    pub assignee_user_id: Option<String>,
    pub assignee_name: Option<String>,
    pub due_at: i64,
    #[sqlx(try_from = "String")]
    pub state: TicketState,
    pub external_no: Option<String>,
    pub external_state: String,
    pub resident_id: Option<String>,
    pub resident_name: Option<String>,
    pub household_id: Option<String>,
    pub outcome: Option<String>,
    pub case_id: Option<String>,
    pub service_id: Option<String>,
    pub org_id: Option<String>,
    pub outcome_ref: String,
    pub satisfaction: Option<String>,
    pub replied_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Ticket {
    /// Past its due time and not answered yet.
    pub fn overdue(&self, now: Millis) -> bool {
        hl::open(self.state) && now > self.due_at
    }

    /// 0 on time; 1 overdue (the township); +1 per further `per_level` working days.
    pub fn escalation(&self, now: Millis, per_level: u32) -> u8 {
        if hl::open(self.state) {
            hl::escalation(self.due_at, now, per_level, 4)
        } else {
            0
        }
    }

    /// The caller's phone, opened (for the reveal, which the caller of this audits).
    pub fn phone(&self, keys: &KeyRing) -> Option<String> {
        self.caller_phone_sealed
            .as_deref()
            .and_then(|s| keys.open(PHONE_FIELD, s).ok())
    }
}

const SELECT: &str = "SELECT t.id, t.region_code, t.station_id, s.name AS station_name, t.hotline_id, h.number AS hotline_number, \
     t.channel, t.received_at, t.caller_name, t.caller_phone_sealed, t.caller_phone_hash, t.caller_id_hash, t.category, t.urgency, \
     t.content, t.assignee_user_id, u.display_name AS assignee_name, t.due_at, t.state, t.external_no, t.external_state, \
     t.resident_id, r.name AS resident_name, t.household_id, t.outcome, t.case_id, t.service_id, t.org_id, t.outcome_ref, \
     t.satisfaction, t.replied_at, t.created_at, t.updated_at \
     FROM tickets t LEFT JOIN stations s ON s.id = t.station_id LEFT JOIN hotlines h ON h.id = t.hotline_id \
     LEFT JOIN users u ON u.id = t.assignee_user_id LEFT JOIN residents r ON r.id = t.resident_id WHERE 1 = 1";

fn restrict(q: &mut Sql, scope: &Scope) {
    in_scope(q, scope, "t.region_code", "t.station_id", true);
}

fn trimmed(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn digits(v: &str) -> String {
    v.chars().filter(char::is_ascii_digit).collect()
}

pub async fn get(conn: &mut AnyConnection, scope: &Scope, id: &str) -> StoreResult<Ticket> {
    let mut q = Sql::new(SELECT);
    restrict(&mut q, scope);
    q.push(" AND t.id = ").bind(id);
    q.fetch_one(conn).await
}

async fn check(
    conn: &mut AnyConnection,
    scope: &Scope,
    input: &TicketInput,
    now: Millis,
) -> StoreResult<(String, Millis)> {
    let station = station_for(conn, scope, &input.station_id).await?;
    if let Some(h) = trimmed(&input.hotline_id) {
        let line = super::get(conn, scope, &h)
            .await
            .map_err(|_| FieldError::new("hotline_id", "hotline.unknown"))?;
        if line.station_id != station.id {
            return refuse("hotline_id", "hotline.other_station");
        }
    }
    let received = match (input.channel, input.received_at) {
        (Channel::Dispatch12345, Some(at)) => {
            hl::check_received(at, now)?;
            at
        }
        (_, Some(at)) if at != now => return refuse("received_at", "ticket.received_server_time"),
        _ => now,
    };
    let text = input.content.trim().chars().count();
    if text == 0 || text > 4000 {
        return refuse("content", "ticket.content_invalid");
    }
    if input.caller_name.chars().count() > 50 {
        return refuse("caller_name", "form.too_long");
    }
    if let Some(p) = trimmed(&input.caller_phone) {
        let d = digits(&p);
        if d.len() < 5
            || d.len() > 20
            || p.chars()
                .any(|c| !(c.is_ascii_digit() || c == '-' || c == '+' || c == ' '))
        {
            return refuse("caller_phone", "ticket.phone_invalid");
        }
    }
    match (input.channel, trimmed(&input.external_no)) {
        (Channel::Dispatch12345, None) => return refuse("external_no", "form.required"),
        (Channel::Dispatch12345, Some(n)) => {
            if n.chars().count() > 40 {
                return refuse("external_no", "form.too_long");
            }
            let taken = Sql::new("SELECT COUNT(*) FROM tickets WHERE external_no = ")
                .bind(n)
                .fetch_i64(conn)
                .await?;
            if taken > 0 {
                return refuse("external_no", "ticket.external_taken");
            }
        }
        (_, Some(_)) => return refuse("external_no", "ticket.external_only_12345"),
        (_, None) => {}
    }
    if let Some(a) = trimmed(&input.assignee_user_id) {
        check_worker(conn, scope, &a, "assignee").await?;
    }
    Ok((station.region_code, received))
}

async fn event(
    conn: &mut AnyConnection,
    t: (&str, &str),
    step: &str,
    from: Option<TicketState>,
    to: TicketState,
    note: &str,
    (actor, now): (&str, Millis),
) -> StoreResult<()> {
    Sql::new("INSERT INTO ticket_events (id, ticket_id, region_code, step, from_state, to_state, note, actor_id, at) VALUES (")
        .bind(new_id()).push(", ").bind(t.0).push(", ").bind(t.1).push(", ").bind(step).push(", ")
        .bind(from.map(|s| s.as_str())).push(", ").bind(to.as_str()).push(", ").bind(note.trim()).push(", ")
        .bind(actor).push(", ").bind(now).push(")")
        .execute(conn).await?;
    Ok(())
}

/// Take a ticket. Its due time follows `sla` (the category's policy) from the time received;
/// with an assignee it is dispatched at once. A crisis notifies the supervisors in reach.
pub async fn create(
    conn: &mut AnyConnection,
    scope: &Scope,
    keys: &KeyRing,
    input: &TicketInput,
    sla: Sla,
    by: &str,
    now: Millis,
) -> StoreResult<String> {
    let (region, received) = check(conn, scope, input, now).await?;
    let due = hl::due_at(received, sla);
    let phone = trimmed(&input.caller_phone);
    let id_number = trimmed(&input.caller_id_number).map(|n| n.to_uppercase());
    let assignee = trimmed(&input.assignee_user_id);
    let state = if assignee.is_some() {
        TicketState::Assigned
    } else {
        TicketState::Received
    };
    let id = new_id();
    Sql::new("INSERT INTO tickets (id, region_code, station_id, hotline_id, channel, received_at, caller_name, caller_phone_sealed, caller_phone_hash, \
              caller_id_hash, category, urgency, content, assignee_user_id, due_at, state, external_no, external_state, created_by, created_at, updated_at) VALUES (")
        .bind(&id).push(", ").bind(&region).push(", ").bind(input.station_id.trim()).push(", ").bind(trimmed(&input.hotline_id)).push(", ")
        .bind(input.channel.as_str()).push(", ").bind(received).push(", ").bind(input.caller_name.trim()).push(", ")
        .bind(phone.as_deref().map(|p| keys.seal(PHONE_FIELD, p))).push(", ").bind(phone.as_deref().map(|p| keys.lookup_hash(PHONE_FIELD, &digits(p)))).push(", ")
        .bind(id_number.as_deref().map(|n| keys.lookup_hash(residents::ID_FIELD, n))).push(", ").bind(input.category.as_str()).push(", ")
        .bind(input.urgency.as_str()).push(", ").bind(input.content.trim()).push(", ").bind(assignee.clone()).push(", ").bind(due).push(", ")
        .bind(state.as_str()).push(", ").bind(trimmed(&input.external_no)).push(", ").bind(input.external_state.trim()).push(", ")
        .bind(by).push(", ").bind(now).push(", ").bind(now).push(")")
        .execute(conn).await?;
    event(
        conn,
        (&id, &region),
        "receive",
        None,
        TicketState::Received,
        "",
        (by, now),
    )
    .await?;
    if assignee.is_some() {
        event(
            conn,
            (&id, &region),
            Step::Assign.as_str(),
            Some(TicketState::Received),
            state,
            "",
            (by, now),
        )
        .await?;
    }
    if input.category == Category::Crisis {
        notify_supervisors(conn, &id, &region, input.station_id.trim(), now).await?;
    }
    Ok(id)
}

/// One row per supervisor whose account reaches the station (its region inside theirs; an
/// organisation's supervisor only for the stations it operates).
async fn notify_supervisors(
    conn: &mut AnyConnection,
    ticket: &str,
    region: &str,
    station: &str,
    now: Millis,
) -> StoreResult<()> {
    let ids: Vec<(String,)> = Sql::new("SELECT u.id FROM users u WHERE u.role = 'supervisor' AND u.disabled = 0 AND u.region_code = SUBSTR(")
        .bind(region)
        .push(", 1, LENGTH(u.region_code)) AND (u.org_id IS NULL OR u.org_id IN (SELECT st.operator_org_id FROM stations st WHERE st.id = ")
        .bind(station)
        .push(")) ORDER BY u.id")
        .fetch_all(conn)
        .await?;
    for (uid,) in ids {
        Sql::new("INSERT INTO ticket_notifications (id, ticket_id, region_code, user_id, kind, created_at) VALUES (")
            .bind(new_id()).push(", ").bind(ticket).push(", ").bind(region).push(", ").bind(uid).push(", 'crisis', ").bind(now).push(")")
            .execute(conn).await?;
    }
    Ok(())
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub text: Option<String>,
    pub state: Option<TicketState>,
    pub category: Option<Category>,
    pub channel: Option<Channel>,
    pub station_id: Option<String>,
    pub assignee_user_id: Option<String>,
    /// Past due and not answered.
    pub overdue: bool,
    /// Crisis tickets only.
    pub crisis: bool,
    /// Overdue tickets escalated at least to this level (1 township, 2 county, 3 city, 4 province).
    pub escalated_to: Option<u8>,
    /// A key of `SORTS`; none is the default order (newest first). The escalation filter keeps
    /// its own order (due first).
    pub sort: Option<crate::Sort>,
    /// Only these tickets (a batch selection).
    pub ids: Option<Vec<String>>,
}

/// The orders a ticket list offers (key, column; `DESC`: the latest first).
pub const SORTS: &[(&str, &str)] = &[
    ("received", "t.received_at DESC"),
    ("due", "t.due_at"),
    ("state", "t.state"),
    ("category", "t.category"),
    ("channel", "t.channel"),
];

fn filtered(q: &mut Sql, scope: &Scope, f: &Filter, now: Millis) {
    restrict(q, scope);
    if let Some(t) = f.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        q.contains_any(&["t.content", "t.caller_name", "t.external_no"], t);
    }
    if let Some(s) = f.state {
        q.push(" AND t.state = ").bind(s.as_str());
    }
    if let Some(c) = f.category {
        q.push(" AND t.category = ").bind(c.as_str());
    }
    if f.crisis {
        q.push(" AND t.category = 'crisis'");
    }
    if let Some(c) = f.channel {
        q.push(" AND t.channel = ").bind(c.as_str());
    }
    if let Some(s) = &f.station_id {
        q.push(" AND t.station_id = ").bind(s.clone());
    }
    if let Some(a) = &f.assignee_user_id {
        q.push(" AND t.assignee_user_id = ").bind(a.clone());
    }
    if f.overdue || f.escalated_to.is_some() {
        q.push(" AND t.state IN ('received','assigned','accepted','in_progress','extension_requested') AND t.due_at < ")
            .bind(now);
    }
    if let Some(ids) = &f.ids {
        q.push(" AND ");
        q.in_list("t.id", ids);
    }
}

/// Overdue tickets looked at for an escalation filter (computed per ticket in working days).
const ESCALATION_WINDOW: i64 = 5_000;

/// Tickets in scope, newest first.
pub async fn list(
    conn: &mut AnyConnection,
    scope: &Scope,
    f: &Filter,
    now: Millis,
    per_level: u32,
    page: PageRequest,
) -> StoreResult<Page<Ticket>> {
    let mut q = Sql::new(SELECT);
    filtered(&mut q, scope, f, now);
    if let Some(level) = f.escalated_to {
        q.push(" ORDER BY t.due_at, t.id LIMIT ")
            .bind(ESCALATION_WINDOW);
        let all: Vec<Ticket> = q.fetch_all(conn).await?;
        let hit: Vec<Ticket> = all
            .into_iter()
            .filter(|t| t.escalation(now, per_level) >= level)
            .collect();
        let total = i64::try_from(hit.len()).unwrap_or(i64::MAX);
        let items = hit
            .into_iter()
            .skip(usize::try_from(page.offset()).unwrap_or(0))
            .take(usize::try_from(page.per_page).unwrap_or(0))
            .collect();
        return Ok(Page {
            items,
            capped: false,
            total,
            page: page.page,
            per_page: page.per_page,
        });
    }
    let mut count = Sql::new("SELECT COUNT(*) FROM tickets t WHERE 1 = 1");
    filtered(&mut count, scope, f, now);
    if !f.sort.is_some_and(|s| q.order(s, SORTS, "t.id")) {
        q.push(" ORDER BY t.received_at DESC, t.id DESC");
    }
    q.fetch_page(conn, &count, page).await
}

#[derive(Debug, Clone, Default)]
pub struct StepInput {
    pub note: String,
    /// For `assign` and `reassign`.
    pub assignee_user_id: Option<String>,
    /// For `approve_extension`: the new due time.
    pub new_due_at: Option<Millis>,
    /// For `follow_up`.
    pub satisfaction: Option<Satisfaction>,
}

/// Move a ticket one step. Returns (before, after).
pub async fn step(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
    step: Step,
    input: &StepInput,
    actor: &str,
    now: Millis,
) -> StoreResult<(Ticket, Ticket)> {
    let t = get(conn, scope, id).await?;
    let current_satisfaction = t
        .satisfaction
        .as_deref()
        .map(Satisfaction::parse)
        .transpose()?;
    let to = hl::next(t.state, step, current_satisfaction)?;
    let mut q = Sql::new("UPDATE tickets SET state = ");
    q.bind(to.as_str()).push(", updated_at = ").bind(now);
    match step {
        Step::Assign | Step::Reassign => {
            let a = trimmed(&input.assignee_user_id)
                .ok_or_else(|| FieldError::new("assignee", "form.required"))?;
            check_worker(conn, scope, &a, "assignee").await?;
            if step == Step::Reassign && t.assignee_user_id.as_deref() == Some(a.as_str()) {
                return refuse("assignee", "ticket.same_assignee");
            }
            q.push(", assignee_user_id = ").bind(a);
        }
        Step::Return => {
            if input.note.trim().is_empty() {
                return refuse("note", "ticket.reason_required");
            }
            q.push(", assignee_user_id = NULL");
        }
        Step::RequestExtension => {
            if input.note.trim().is_empty() {
                return refuse("note", "ticket.reason_required");
            }
            if now > t.due_at {
                return refuse("step", "ticket.extension_too_late");
            }
        }
        Step::ApproveExtension => {
            let due = input
                .new_due_at
                .ok_or_else(|| FieldError::new("due_at", "form.required"))?;
            hl::check_new_due(t.due_at, due, now)?;
            q.push(", due_at = ").bind(due);
        }
        Step::Reply => {
            q.push(", replied_at = ").bind(now);
        }
        Step::FollowUp => {
            let s = input
                .satisfaction
                .ok_or_else(|| FieldError::new("satisfaction", "form.required"))?;
            q.push(", satisfaction = ").bind(s.as_str());
        }
        Step::Reopen => {
            q.push(", replied_at = NULL");
        }
        _ => {}
    }
    q.push(" WHERE id = ").bind(id);
    q.execute(conn).await?;
    let mut note = input.note.trim().to_owned();
    if note.chars().count() > 1000 {
        return refuse("note", "form.too_long");
    }
    if let Some(s) = input.satisfaction.filter(|_| step == Step::FollowUp) {
        note = format!("[{}] {note}", s.as_str());
    }
    event(
        conn,
        (&t.id, &t.region_code),
        step.as_str(),
        Some(t.state),
        to,
        &note,
        (actor, now),
    )
    .await?;
    let after = get(conn, scope, id).await?;
    Ok((t, after))
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct TicketEvent {
    pub id: String,
    pub step: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub note: String,
    pub actor_id: String,
    pub actor_name: Option<String>,
    pub at: i64,
}

/// The ticket's history, oldest first.
pub async fn history(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
) -> StoreResult<Vec<TicketEvent>> {
    let t = get(conn, scope, id).await?;
    Sql::new("SELECT e.id, e.step, e.from_state, e.to_state, e.note, e.actor_id, u.display_name AS actor_name, e.at \
              FROM ticket_events e LEFT JOIN users u ON u.id = e.actor_id OR u.username = e.actor_id WHERE e.ticket_id = ")
        .bind(t.id)
        .push(" ORDER BY e.at, e.id")
        .fetch_all(conn)
        .await
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Candidate {
    pub resident_id: String,
    pub name: String,
    pub household_id: Option<String>,
    /// `id_number` (the caller's identity number is this resident's) or `earlier_ticket` (the
    /// same phone called before and was confirmed as this resident).
    pub matched_by: String,
}

/// Residents the caller may be, for a user to confirm: by identity number, and by the same phone
/// on an earlier ticket whose caller was confirmed. Only residents the viewer may see.
pub async fn candidates(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    id: &str,
) -> StoreResult<Vec<Candidate>> {
    let t = get(conn, &viewer.scope, id).await?;
    let mut out: Vec<Candidate> = Vec::new();
    if let Some(h) = &t.caller_id_hash {
        let mut q = Sql::new(
            "SELECT r.id AS resident_id, r.name, r.household_id, 'id_number' AS matched_by FROM residents r WHERE r.id_number_hash = ",
        );
        q.bind(h.clone());
        viewer.restrict(&mut q);
        out.extend(q.fetch_all::<Candidate>(conn).await?);
    }
    if let Some(h) = &t.caller_phone_hash {
        let mut q = Sql::new(
            "SELECT DISTINCT r.id AS resident_id, r.name, r.household_id, 'earlier_ticket' AS matched_by FROM tickets o \
                              JOIN residents r ON r.id = o.resident_id WHERE o.caller_phone_hash = ",
        );
        q.bind(h.clone()).push(" AND o.id <> ").bind(t.id.clone());
        viewer.restrict(&mut q);
        for c in q.fetch_all::<Candidate>(conn).await? {
            if !out.iter().any(|o| o.resident_id == c.resident_id) {
                out.push(c);
            }
        }
    }
    Ok(out)
}

/// Confirm who the caller is: a resident the viewer may see (else refused on `resident_id`,
/// nothing written). Returns the ticket as it was.
pub async fn confirm_resident(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    id: &str,
    resident: &str,
    actor: &str,
    now: Millis,
) -> StoreResult<Ticket> {
    let t = get(conn, &viewer.scope, id).await?;
    let r = residents::get(conn, viewer, resident.trim())
        .await
        .map_err(|_| FieldError::new("resident_id", "ticket.resident_unknown"))?;
    Sql::new("UPDATE tickets SET resident_id = ")
        .bind(&r.id)
        .push(", household_id = ")
        .bind(r.household_id.clone())
        .push(", updated_at = ")
        .bind(now)
        .push(" WHERE id = ")
        .bind(&t.id)
        .execute(conn)
        .await?;
    event(
        conn,
        (&t.id, &t.region_code),
        "match",
        Some(t.state),
        t.state,
        &r.name,
        (actor, now),
    )
    .await?;
    Ok(t)
}

#[derive(Debug, Clone)]
pub struct OutcomeInput {
    pub outcome: Outcome,
    pub org_id: Option<String>,
    pub outcome_ref: String,
    /// For a service record: its kind (default resource linking), length and workers.
    pub service_kind: Option<ServiceKind>,
    pub duration_minutes: i64,
    pub workers: String,
}

/// Record what came of the ticket (once). A case or a service record is written through the
/// people stores for the confirmed resident and linked; a referral names an organisation.
pub async fn set_outcome(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    keys: &KeyRing,
    id: &str,
    input: &OutcomeInput,
    actor: &cases::Actor,
    now: Millis,
) -> StoreResult<Ticket> {
    let t = get(conn, &viewer.scope, id).await?;
    if t.outcome.is_some() {
        return refuse("outcome", "ticket.outcome_set");
    }
    let (mut case_id, mut service_id, mut org_id) = (None, None, None);
    let resident = || {
        t.resident_id.clone().ok_or_else(|| {
            StoreError::from(FieldError::new("resident_id", "ticket.resident_required"))
        })
    };
    match input.outcome {
        Outcome::Answered => {}
        Outcome::CaseOpened => {
            let open = cases::OpenCase {
                resident_id: resident()?,
                station_id: Some(t.station_id.clone()),
                worker_user_id: t.assignee_user_id.clone(),
                supervisor_user_id: None,
                problem: t.content.clone(),
                opened_on: viewer.today.to_string(),
            };
            case_id = Some(cases::open(conn, viewer, keys, &open, actor, now).await?);
        }
        Outcome::ServiceRecorded => {
            let kind = input.service_kind.unwrap_or(ServiceKind::ResourceLinking);
            let s = services::ServiceInput {
                kind: kind.as_str().to_owned(),
                domain: shegong_domain::network::station::ServiceDomain::SocialAssistance
                    .as_str()
                    .to_owned(),
                station_id: Some(t.station_id.clone()),
                resident_id: Some(resident()?),
                title: t.content.chars().take(50).collect(),
                served_on: viewer.today.to_string(),
                duration_minutes: input.duration_minutes,
                person_times: 1,
                method: (kind == ServiceKind::Visit).then(|| "phone".to_owned()),
                workers: input.workers.clone(),
                ..Default::default()
            };
            service_id = Some(services::create(conn, viewer, keys, &s, &actor.user_id, now).await?);
        }
        Outcome::Referred => {
            let o =
                trimmed(&input.org_id).ok_or_else(|| FieldError::new("org_id", "form.required"))?;
            let n =
                Sql::new("SELECT COUNT(*) FROM organizations WHERE status = 'active' AND id = ")
                    .bind(&o)
                    .fetch_i64(conn)
                    .await?;
            if n == 0 {
                return refuse("org_id", "ticket.org_unknown");
            }
            org_id = Some(o);
        }
        Outcome::VolunteerTask | Outcome::ResourceMatch => {
            if input.outcome_ref.trim().is_empty() {
                return refuse("outcome_ref", "form.required");
            }
        }
    }
    if input.outcome_ref.chars().count() > 200 {
        return refuse("outcome_ref", "form.too_long");
    }
    Sql::new("UPDATE tickets SET outcome = ")
        .bind(input.outcome.as_str())
        .push(", case_id = ")
        .bind(case_id)
        .push(", service_id = ")
        .bind(service_id)
        .push(", org_id = ")
        .bind(org_id)
        .push(", outcome_ref = ")
        .bind(input.outcome_ref.trim())
        .push(", updated_at = ")
        .bind(now)
        .push(" WHERE id = ")
        .bind(&t.id)
        .execute(conn)
        .await?;
    event(
        conn,
        (&t.id, &t.region_code),
        "outcome",
        Some(t.state),
        t.state,
        input.outcome.as_str(),
        (&actor.user_id, now),
    )
    .await?;
    get(conn, &viewer.scope, id).await
}

/// Mirror a 12345 ticket's external state (as read from the 12345 system). Returns it as it was.
pub async fn mirror_external(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
    state: &str,
    actor: &str,
    now: Millis,
) -> StoreResult<Ticket> {
    let t = get(conn, scope, id).await?;
    if t.external_no.is_none() {
        return refuse("external_state", "ticket.external_only_12345");
    }
    if state.trim().is_empty() || state.chars().count() > 40 {
        return refuse("external_state", "ticket.external_state_invalid");
    }
    Sql::new("UPDATE tickets SET external_state = ")
        .bind(state.trim())
        .push(", updated_at = ")
        .bind(now)
        .push(" WHERE id = ")
        .bind(&t.id)
        .execute(conn)
        .await?;
    event(
        conn,
        (&t.id, &t.region_code),
        "mirror",
        Some(t.state),
        t.state,
        state.trim(),
        (actor, now),
    )
    .await?;
    Ok(t)
}

/// The ticket with this 12345 number, in scope.
pub async fn by_external(
    conn: &mut AnyConnection,
    scope: &Scope,
    no: &str,
) -> StoreResult<Option<Ticket>> {
    let mut q = Sql::new(SELECT);
    restrict(&mut q, scope);
    q.push(" AND t.external_no = ").bind(no.trim());
    q.fetch_optional(conn).await
}

/// Crisis tickets notified to this user, newest first (unread first).
pub async fn notifications(
    conn: &mut AnyConnection,
    scope: &Scope,
    user_id: &str,
) -> StoreResult<Vec<Ticket>> {
    let mut q = Sql::new(SELECT);
    restrict(&mut q, scope);
    q.push(" AND t.id IN (SELECT n.ticket_id FROM ticket_notifications n WHERE n.user_id = ")
        .bind(user_id)
        .push(") ORDER BY t.received_at DESC, t.id DESC LIMIT 100");
    q.fetch_all(conn).await
}

/// Supervisors notified of a ticket (their account ids).
pub async fn notified(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
) -> StoreResult<Vec<String>> {
    let t = get(conn, scope, id).await?;
    let rows: Vec<(String,)> =
        Sql::new("SELECT user_id FROM ticket_notifications WHERE ticket_id = ")
            .bind(t.id)
            .push(" ORDER BY user_id")
            .fetch_all(conn)
            .await?;
    Ok(rows.into_iter().map(|(u,)| u).collect())
}
