//! Service records: casework, group sessions, community activities, visits, resource linking,
//! policy publicity, psychological support and crisis intervention. Notes are sealed; notes
//! marked sensitive (abuse, violence) and records about protected residents follow the
//! protection rule of `residents::Viewer`. A visit moves the resident's next visit due date.

use serde::Serialize;
use shegong_domain::FieldError;
use shegong_domain::people::{ServiceKind, VisitMethod};
use sqlx::AnyConnection;

use crate::crypto::KeyRing;
use crate::people::residents::{self, Viewer, in_scope};
use crate::people::{evidence, visit_rules};
use crate::purchase::deliverables;
use crate::sql::Sql;
use crate::volunteers::registry;
use crate::{
    Millis, Page, PageRequest, StoreError, StoreResult, network::stations, new_id, people::cases,
    statistics::counters,
};

pub const NOTES_FIELD: &str = "services.notes";

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Service {
    pub id: String,
    pub region_code: String,
    pub region_path: String,
    pub station_id: Option<String>,
    pub station_name: Option<String>,
    pub kind: String,
    pub domain: String,
    pub resident_id: Option<String>,
    pub resident_name: Option<String>,
    pub case_id: Option<String>,
    pub title: String,
    pub served_on: String,
    pub started_at: Option<String>,
    pub duration_minutes: i64,
    pub person_times: i64,
    pub method: Option<String>,
    pub location: String,
    pub value_fen: i64,
    pub workers: String,
    /// The registered volunteer who served (a volunteer's record is method `volunteer`).
    pub volunteer_id: Option<String>,
    pub volunteer_name: Option<String>,
    pub volunteer_no: Option<String>,
    #[serde(skip)]
    pub notes_sealed: Option<String>,
    pub sensitive: i64,
    pub created_by: String,
    pub created_at: i64,
    /// The incident the service was given in.
    pub incident_id: Option<String>,
    /// The device's location when recorded (`evidence::Geo`, sealed).
    #[serde(skip)]
    pub geo_sealed: Option<String>,
    /// How the visit was confirmed: `tick`, `signature` or empty.
    pub confirmation: String,
    /// Who confirmed it: `resident`, `family` or empty.
    pub confirmed_by: String,
    /// The family member who confirmed it.
    pub confirmer_name: String,
}

const SELECT: &str = "SELECT v.id, v.region_code, g.path_names AS region_path, v.station_id, s.name AS station_name, v.kind, v.domain, \
     v.resident_id, r.name AS resident_name, v.case_id, v.title, v.served_on, v.started_at, v.duration_minutes, v.person_times, \
     v.method, v.location, v.value_fen, v.workers, v.volunteer_id, vo.name AS volunteer_name, vo.volunteer_no, \
     v.notes_sealed, v.sensitive, v.created_by, v.created_at, v.incident_id, v.geo_sealed, v.confirmation, v.confirmed_by, v.confirmer_name \
     FROM services v JOIN regions g ON g.code = v.region_code LEFT JOIN stations s ON s.id = v.station_id \
     LEFT JOIN residents r ON r.id = v.resident_id LEFT JOIN volunteers vo ON vo.id = v.volunteer_id WHERE 1 = 1";

/// The region and organisation scope on the record's region and station
/// (`residents::in_scope`), and the protection rule.
fn visible(viewer: &Viewer, q: &mut Sql) {
    in_scope(q, &viewer.scope, "v.region_code", "v.station_id", true);
    viewer.protect(q, "r", Some("v.sensitive = 1"));
}

#[derive(Debug, Clone, Default)]
pub struct ServiceInput {
    pub kind: String,
    pub domain: String,
    pub station_id: Option<String>,
    pub resident_id: Option<String>,
    pub case_id: Option<String>,
    /// Residents attending a group session or community activity.
    pub participants: Vec<String>,
    pub title: String,
    pub served_on: String,
    pub started_at: Option<String>,
    pub duration_minutes: i64,
    pub person_times: i64,
    pub method: Option<String>,
    pub location: String,
    pub value_fen: i64,
    pub workers: String,
    /// The registered volunteer who served: in the writer's scope. The record's method is then
    /// `volunteer` (a visit given another method is refused; an empty one is taken as it).
    pub volunteer_id: Option<String>,
    pub notes: String,
    pub sensitive: bool,
    /// The incident the service was given in (应急): in the writer's scope and not closed.
    pub incident_id: Option<String>,
}

/// Where a record belongs: the resident it is about (through its case when it names one), its
/// station, and its region (the resident's, else the station's).
struct Place {
    resident_id: Option<String>,
    resident: Option<residents::Resident>,
    station_id: Option<String>,
    region: String,
}

/// Check the case, resident and station a record names, each in the viewer's scope.
async fn place(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    input: &ServiceInput,
) -> StoreResult<Place> {
    let mut resident_id = input.resident_id.clone();
    let mut region = None;
    if let Some(cid) = &input.case_id {
        let c = cases::get(conn, viewer, cid)
            .await
            .map_err(|_| FieldError::new("case", "case.unknown"))?;
        if resident_id.as_ref().is_some_and(|r| *r != c.resident_id) {
            return Err(FieldError::new("case", "case.other_resident").into());
        }
        resident_id = Some(c.resident_id);
    }
    let resident = match &resident_id {
        Some(rid) => Some(
            residents::get(conn, viewer, rid)
                .await
                .map_err(|_| FieldError::new("resident", "resident.unknown"))?,
        ),
        None => None,
    };
    if let Some(r) = &resident {
        region = Some(r.region_code.clone());
    }
    let station_id = input
        .station_id
        .clone()
        .or(resident.as_ref().and_then(|r| r.station_id.clone()));
    // An organisation sees the records of its own stations only: the new record must name one
    // (`stations::get` below refuses another agency's).
    if viewer.scope.org.is_some() && station_id.is_none() {
        return Err(FieldError::new("station", "resident.station_required_org").into());
    }
    if let Some(sid) = &station_id {
        let st = stations::get(conn, &viewer.scope, sid)
            .await
            .map_err(|_| FieldError::new("station", "staff.station_unknown"))?;
        region.get_or_insert(st.region_code);
    }
    let region = region.ok_or(FieldError::new("station", "service.needs_place"))?;
    Ok(Place {
        resident_id,
        resident,
        station_id,
        region,
    })
}

/// Visits, casework and crisis intervention are about a resident; a visit names its method, one
/// the visit rule for the resident's tier allows.
async fn visit_method(
    conn: &mut AnyConnection,
    kind: ServiceKind,
    method: Option<&str>,
    resident: Option<&residents::Resident>,
) -> StoreResult<Option<String>> {
    let r = match (kind, resident) {
        (ServiceKind::Visit | ServiceKind::Casework | ServiceKind::Crisis, None) => {
            return Err(FieldError::new("resident", "form.required").into());
        }
        (ServiceKind::Visit, Some(r)) => r,
        _ => return Ok(None),
    };
    let Some(m) = method.filter(|m| !m.is_empty()) else {
        return Err(FieldError::new("method", "form.required").into());
    };
    let m = VisitMethod::parse(m)?;
    let rules = visit_rules::rules_for(conn, &r.region_code).await?;
    let allowed = rules
        .iter()
        .find(|x| x.tier == r.risk_tier.as_str())
        .is_none_or(|x| x.methods.iter().any(|a| a == m.as_str()));
    if !allowed {
        return Err(FieldError::new("method", "visit.method_not_allowed").into());
    }
    Ok(Some(m.as_str().to_owned()))
}

/// The volunteer a record names (in the writer's scope, else refused on `volunteer_id`) and the
/// method that follows: a volunteer's service is method `volunteer`; a different method given is
/// refused on `method`. Returns (volunteer, method to check).
async fn volunteer(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    input: &ServiceInput,
) -> StoreResult<(Option<String>, Option<String>)> {
    let method = input.method.clone().filter(|m| !m.is_empty());
    let Some(vid) = input
        .volunteer_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    else {
        return Ok((None, method));
    };
    if vid.len() > 64 {
        return Err(FieldError::new("volunteer_id", "service.volunteer_unknown").into());
    }
    let found = match registry::get(conn, &viewer.scope, vid).await {
        Err(StoreError::NotFound) => {
            return Err(FieldError::new("volunteer_id", "service.volunteer_unknown").into());
        }
        other => other?,
    };
    if method
        .as_deref()
        .is_some_and(|m| m != VisitMethod::Volunteer.as_str())
    {
        return Err(FieldError::new("method", "service.volunteer_method").into());
    }
    Ok((
        Some(found.id),
        Some(VisitMethod::Volunteer.as_str().to_owned()),
    ))
}

/// Record a service. Returns its id.
pub async fn create(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    keys: &KeyRing,
    input: &ServiceInput,
    created_by: &str,
    now: Millis,
) -> StoreResult<String> {
    let none = evidence::Evidence::default();
    let (id, _) = create_with(conn, viewer, keys, input, &none, created_by, now).await?;
    Ok(id)
}

/// Record a service with its evidence (`evidence::check`: photos, location, confirmation and
/// the region's confirmation rule for a home visit). The photos and signature are stored by
/// `evidence::attach` afterwards, in the same transaction. Returns the record's id and region.
pub async fn create_with(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    keys: &KeyRing,
    input: &ServiceInput,
    evidence: &evidence::Evidence,
    created_by: &str,
    now: Millis,
) -> StoreResult<(String, String)> {
    let kind = ServiceKind::parse(&input.kind)?;
    shegong_domain::network::station::ServiceDomain::parse(&input.domain)?;
    if input.served_on.as_str() > viewer.today.to_string().as_str() {
        return Err(FieldError::new("served_on", "service.in_future").into());
    }
    if input.workers.trim().is_empty() {
        return Err(FieldError::new("workers", "form.required").into());
    }
    let Place {
        resident_id,
        resident,
        station_id,
        region,
    } = place(conn, viewer, input).await?;
    let (volunteer_id, method) = volunteer(conn, viewer, input).await?;
    let method = visit_method(conn, kind, method.as_deref(), resident.as_ref())
        .await?
        .or(volunteer_id
            .as_ref()
            .map(|_| VisitMethod::Volunteer.as_str().to_owned()));
    if !(1..=1440).contains(&input.duration_minutes) {
        return Err(FieldError::new("duration_minutes", "form.out_of_range").into());
    }
    let mut participants = Vec::new();
    for p in input.participants.iter().filter(|p| !p.is_empty()) {
        let r = residents::get(conn, viewer, p)
            .await
            .map_err(|_| FieldError::new("participants", "resident.unknown"))?;
        if !participants.contains(&r.id) {
            participants.push(r.id);
        }
    }
    let person_times = input.person_times.max(participants.len() as i64).max(1);
    if person_times > 100_000 {
        return Err(FieldError::new("person_times", "form.out_of_range").into());
    }
    if input.value_fen < 0 {
        return Err(FieldError::new("value", "form.out_of_range").into());
    }
    if let Some(iid) = &input.incident_id {
        crate::emergency::incidents::check_taggable(conn, &viewer.scope, iid).await?;
    }
    let home_visit = kind == ServiceKind::Visit && method.as_deref() == Some("home");
    evidence::check(conn, evidence, home_visit, &region).await?;
    let notes = Some(input.notes.trim())
        .filter(|n| !n.is_empty())
        .map(|n| keys.seal(NOTES_FIELD, n));
    let id = new_id();
    Sql::new("INSERT INTO services (id, region_code, station_id, kind, domain, resident_id, case_id, title, served_on, started_at, duration_minutes, \
              person_times, method, location, value_fen, workers, volunteer_id, notes_sealed, sensitive, created_by, created_at, incident_id) VALUES (")
        .bind(&id).push(", ").bind(&region).push(", ").bind(station_id.clone()).push(", ").bind(kind.as_str()).push(", ").bind(input.domain.clone()).push(", ")
        .bind(resident_id.clone()).push(", ").bind(input.case_id.clone()).push(", ").bind(input.title.trim()).push(", ").bind(input.served_on.clone()).push(", ")
        .bind(input.started_at.clone()).push(", ").bind(input.duration_minutes).push(", ").bind(person_times).push(", ").bind(method).push(", ")
        .bind(input.location.trim()).push(", ").bind(input.value_fen).push(", ").bind(input.workers.trim()).push(", ").bind(volunteer_id).push(", ").bind(notes).push(", ")
        .bind(i64::from(input.sensitive)).push(", ").bind(created_by).push(", ").bind(now).push(", ").bind(input.incident_id.clone()).push(")")
        .execute(conn).await?;
    evidence::record(conn, keys, &id, evidence).await?;
    for p in &participants {
        Sql::new("INSERT INTO service_participants (service_id, resident_id) VALUES (")
            .bind(&id)
            .push(", ")
            .bind(p.clone())
            .push(")")
            .execute(conn)
            .await?;
    }
    let facts = counters::ServiceFacts {
        region: &region,
        served_on: &input.served_on,
        kind: kind.as_str(),
        domain: &input.domain,
        station: station_id.as_deref(),
        values: counters::Values {
            n: 1,
            person_times,
            minutes: input.duration_minutes,
            value_fen: input.value_fen,
        },
    };
    let record = deliverables::Record {
        station_id: station_id.as_deref(),
        kind: kind.as_str(),
        served_on: &input.served_on,
        title: input.title.trim(),
        case_id: input.case_id.as_deref(),
        person_times,
    };
    // Tallies before the resident's row, as `delete` and `correct` take them: concurrent writers
    // on PostgreSQL lock rows in one order and cannot deadlock.
    deliverables::apply(conn, &[(record, 1)]).await?;
    let mut counted = counters::Changes::default();
    counters::service(&mut counted, &facts, 1);
    if kind == ServiceKind::Visit {
        for rid in resident_id.iter().chain(participants.iter()) {
            visit_rules::visit_recorded(conn, rid, &mut counted).await?;
        }
    }
    counters::apply(conn, counted).await?;
    Ok((id, region))
}

/// Record visits from the past (a migrated history, the demo) in one statement, without
/// re-scheduling: the caller calls `visit_rules::reschedule` once per person afterwards.
/// `r` is a file the viewer has just read; each visit is (date, minutes, method).
pub async fn record_past_visits(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    r: &residents::Resident,
    visits: &[(String, i64, VisitMethod)],
    workers: &str,
    created_by: &str,
    now: Millis,
) -> StoreResult<()> {
    let today = viewer.today.to_string();
    if visits.iter().any(|(on, _, _)| on.as_str() > today.as_str()) {
        return Err(FieldError::new("served_on", "service.in_future").into());
    }
    for chunk in visits.chunks(50) {
        let mut q = Sql::new(
            "INSERT INTO services (id, region_code, station_id, kind, domain, resident_id, served_on, duration_minutes, person_times, \
             method, workers, created_by, created_at) VALUES ",
        );
        for (i, (on, minutes, method)) in chunk.iter().enumerate() {
            q.push(if i == 0 { "(" } else { ", (" })
                .bind(new_id())
                .push(", ")
                .bind(&r.region_code)
                .push(", ")
                .bind(r.station_id.clone())
                .push(", 'visit', 'social_assistance', ")
                .bind(&r.id)
                .push(", ")
                .bind(on.clone())
                .push(", ")
                .bind((*minutes).clamp(1, 1440))
                .push(", 1, ")
                .bind(method.as_str())
                .push(", ")
                .bind(workers)
                .push(", ")
                .bind(created_by)
                .push(", ")
                .bind(now)
                .push(")");
        }
        q.execute(conn).await?;
    }
    let records: Vec<_> = visits
        .iter()
        .map(|(on, _, _)| {
            let visit = deliverables::Record {
                station_id: r.station_id.as_deref(),
                kind: "visit",
                served_on: on,
                title: "",
                case_id: None,
                person_times: 1,
            };
            (visit, 1)
        })
        .collect();
    deliverables::apply(conn, &records).await?;
    let mut counted = counters::Changes::default();
    for (on, minutes, _) in visits {
        let v = counters::Values {
            n: 1,
            person_times: 1,
            minutes: (*minutes).clamp(1, 1440),
            value_fen: 0,
        };
        counters::service(
            &mut counted,
            &counters::ServiceFacts {
                region: &r.region_code,
                served_on: on,
                kind: "visit",
                domain: "social_assistance",
                station: r.station_id.as_deref(),
                values: v,
            },
            1,
        );
    }
    counters::apply(conn, counted).await
}

pub async fn get(conn: &mut AnyConnection, viewer: &Viewer, id: &str) -> StoreResult<Service> {
    let mut q = Sql::new(SELECT);
    q.push(" AND v.id = ").bind(id);
    visible(viewer, &mut q);
    q.fetch_optional(conn).await?.ok_or(StoreError::NotFound)
}

fn contribution(s: &Service, sign: i64) -> counters::Changes {
    let mut c = counters::Changes::default();
    let v = counters::Values {
        n: 1,
        person_times: s.person_times,
        minutes: s.duration_minutes,
        value_fen: s.value_fen,
    };
    counters::service(
        &mut c,
        &counters::ServiceFacts {
            region: &s.region_code,
            served_on: &s.served_on,
            kind: &s.kind,
            domain: &s.domain,
            station: s.station_id.as_deref(),
            values: v,
        },
        sign,
    );
    c
}

/// The people a record reached (its resident and participants), for re-scheduling.
async fn reached(conn: &mut AnyConnection, s: &Service) -> StoreResult<Vec<String>> {
    let mut ids: Vec<String> =
        Sql::new("SELECT resident_id FROM service_participants WHERE service_id = ")
            .bind(s.id.clone())
            .fetch_all::<(String,)>(conn)
            .await?
            .into_iter()
            .map(|r| r.0)
            .collect();
    ids.extend(s.resident_id.clone());
    Ok(ids)
}

/// Delete a record entered by mistake (its attendance goes with it). Returns it as it was.
/// A record a paid disbursement or a volunteer activity points to is kept (refused on `service`).
pub async fn delete(conn: &mut AnyConnection, viewer: &Viewer, id: &str) -> StoreResult<Service> {
    let s = get(conn, viewer, id).await?;
    let linked = Sql::new("SELECT (SELECT COUNT(*) FROM charity_disbursements WHERE service_id = ")
        .bind(id)
        .push(") + (SELECT COUNT(*) FROM volunteer_activities WHERE service_id = ")
        .bind(id)
        .push(")")
        .fetch_i64(conn)
        .await?;
    if linked > 0 {
        return Err(FieldError::new("service", "service.linked").into());
    }
    let people = reached(conn, &s).await?;
    Sql::new("DELETE FROM service_participants WHERE service_id = ")
        .bind(id)
        .execute(conn)
        .await?;
    evidence::forget(conn, id).await?;
    Sql::new("DELETE FROM services WHERE id = ")
        .bind(id)
        .execute(conn)
        .await?;
    counters::apply(conn, contribution(&s, -1)).await?;
    deliverables::apply(conn, &[(deliverables::Record::of(&s), -1)]).await?;
    if s.kind == ServiceKind::Visit.as_str() {
        for p in people {
            visit_rules::reschedule(conn, &p).await?;
        }
    }
    Ok(s)
}

/// Corrected figures of a record.
#[derive(Debug, Clone)]
pub struct Correction {
    pub served_on: String,
    pub duration_minutes: i64,
    pub person_times: i64,
    pub value_fen: i64,
}

/// Correct the date and figures of a record. Returns it as it was.
pub async fn correct(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    id: &str,
    c: &Correction,
) -> StoreResult<Service> {
    let s = get(conn, viewer, id).await?;
    if chrono::NaiveDate::parse_from_str(&c.served_on, "%Y-%m-%d").is_err() {
        return Err(FieldError::new("served_on", "date.invalid").into());
    }
    if c.served_on.as_str() > viewer.today.to_string().as_str() {
        return Err(FieldError::new("served_on", "service.in_future").into());
    }
    if !(1..=1440).contains(&c.duration_minutes) {
        return Err(FieldError::new("duration_minutes", "form.out_of_range").into());
    }
    if !(1..=100_000).contains(&c.person_times) {
        return Err(FieldError::new("person_times", "form.out_of_range").into());
    }
    if c.value_fen < 0 {
        return Err(FieldError::new("value", "form.out_of_range").into());
    }
    Sql::new("UPDATE services SET served_on = ")
        .bind(c.served_on.clone())
        .push(", duration_minutes = ")
        .bind(c.duration_minutes)
        .push(", person_times = ")
        .bind(c.person_times)
        .push(", value_fen = ")
        .bind(c.value_fen)
        .push(" WHERE id = ")
        .bind(id)
        .execute(conn)
        .await?;
    let mut changes = contribution(&s, -1);
    let after = Service {
        served_on: c.served_on.clone(),
        duration_minutes: c.duration_minutes,
        person_times: c.person_times,
        value_fen: c.value_fen,
        ..s.clone()
    };
    changes.merge(contribution(&after, 1));
    counters::apply(conn, changes).await?;
    let moved = [
        (deliverables::Record::of(&s), -1),
        (deliverables::Record::of(&after), 1),
    ];
    deliverables::apply(conn, &moved).await?;
    if s.kind == ServiceKind::Visit.as_str() {
        for p in reached(conn, &s).await? {
            visit_rules::reschedule(conn, &p).await?;
        }
    }
    Ok(s)
}

/// Participants of a group session or activity that the viewer may see: (id, name).
pub async fn participants(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    id: &str,
) -> StoreResult<Vec<(String, String)>> {
    get(conn, viewer, id).await?;
    let mut q = Sql::new(
        "SELECT r.id, r.name FROM service_participants p JOIN residents r ON r.id = p.resident_id WHERE p.service_id = ",
    );
    q.bind(id);
    viewer.restrict(&mut q);
    q.push(" ORDER BY r.name");
    q.fetch_all(conn).await
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub kind: Option<String>,
    pub domain: Option<String>,
    pub resident: Option<String>,
    pub case_id: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub q: Option<String>,
    /// Only these records (a batch selection).
    pub ids: Option<Vec<String>>,
    /// A key of `SORTS`; none is the default order (newest first).
    pub sort: Option<crate::Sort>,
}

/// The orders a service list offers (key, column).
pub const SORTS: &[(&str, &str)] = &[
    ("served_on", "v.served_on"),
    ("kind", "v.kind"),
    ("minutes", "v.duration_minutes"),
];

/// The filter's conditions. `walk`: a newest-first page over many records walks the date index
/// (`services_recent`, or `services_sort_kind` for a kind) and stops at the page, rather than
/// reading the region range (see `Sql::region_prefix_unindexed`); counts and pages over fewer
/// records read the range.
fn filter(q: &mut Sql, viewer: &Viewer, f: &Filter, walk: bool) {
    if walk {
        in_scope(q, &viewer.scope, "v.region_code", "v.station_id", false);
        viewer.protect(q, "r", Some("v.sensitive = 1"));
    } else {
        visible(viewer, q);
    }
    if let Some(k) = &f.kind {
        q.push(" AND v.kind = ").bind(k.clone());
    }
    if let Some(d) = &f.domain {
        q.push(" AND v.domain = ").bind(d.clone());
    }
    if let Some(r) = &f.resident {
        // One `IN` over two index lookups, which both planners start from (an `OR` with a
        // subquery makes PostgreSQL scan the records).
        q.push(" AND v.id IN (SELECT id FROM services WHERE resident_id = ")
            .bind(r.clone())
            .push(" UNION SELECT service_id FROM service_participants WHERE resident_id = ")
            .bind(r.clone())
            .push(")");
    }
    if let Some(c) = &f.case_id {
        q.push(" AND v.case_id = ").bind(c.clone());
    }
    if let Some(d) = &f.from {
        q.push(" AND v.served_on >= ").bind(d.clone());
    }
    if let Some(d) = &f.to {
        q.push(" AND v.served_on <= ").bind(d.clone());
    }
    if let Some(text) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        q.contains_any(&["v.title", "v.workers", "r.name"], text);
    }
    if let Some(ids) = &f.ids {
        q.push(" AND ");
        q.in_list("v.id", ids);
    }
}

fn filtered(viewer: &Viewer, f: &Filter, select: &'static str, walk: bool) -> Sql {
    let mut q = Sql::new(select);
    filter(&mut q, viewer, f, walk);
    q
}

/// The list's order: the chosen sort, else newest first.
fn order(q: &mut Sql, f: &Filter) {
    if !f.sort.is_some_and(|s| q.order(s, SORTS, "v.id")) {
        q.push(" ORDER BY v.served_on DESC, v.created_at DESC, v.id DESC");
    }
}

/// A page of the list. The page's ids are chosen from the index ranges alone (the filter, the
/// protection rule and the order need no other column of the record: migration 0067); only
/// those records are then read, with their names. Reading every matching record to sort them
/// cost a township's list 70-80 ms at 10^7 records on file.
pub async fn list(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    f: &Filter,
    page: PageRequest,
) -> StoreResult<Page<Service>> {
    let mut count = filtered(
        viewer,
        f,
        "SELECT COUNT(*) FROM (SELECT 1 FROM services v LEFT JOIN residents r ON r.id = v.resident_id WHERE 1 = 1",
        false,
    );
    count
        .push(" LIMIT ")
        .bind(crate::LIST_COUNT_CAP + 1)
        .push(") t");
    let total = count.plan_each_run().fetch_i64(conn).await?;
    // A county of a province has more records than the count's cap: its page walks.
    let walk =
        f.sort.is_none() && (viewer.scope.prefix().len() <= 4 || total > crate::LIST_COUNT_CAP);
    let mut q = Sql::new(SELECT);
    q.push(" AND v.id IN (SELECT v.id FROM services v LEFT JOIN residents r ON r.id = v.resident_id WHERE 1 = 1");
    filter(&mut q, viewer, f, walk);
    order(&mut q, f);
    q.page_bounds(page).push(")");
    order(&mut q, f);
    q.fetch_bounded_page(conn, total, page).await
}

/// Every match for an export (up to `cap`), newest first, as ids: the export reads the records
/// a page at a time (`page_of`), so it never holds them all.
pub async fn list_ids(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    f: &Filter,
    cap: i64,
) -> StoreResult<Vec<String>> {
    let mut q = filtered(
        viewer,
        f,
        "SELECT v.id FROM services v LEFT JOIN residents r ON r.id = v.resident_id WHERE 1 = 1",
        viewer.scope.prefix().len() <= 4,
    );
    q.push(" ORDER BY v.served_on DESC, v.created_at DESC, v.id DESC LIMIT ")
        .bind(cap);
    let ids: Vec<(String,)> = q.plan_each_run().fetch_all(conn).await?;
    Ok(ids.into_iter().map(|(id,)| id).collect())
}

/// The records of `ids` (a page of `list_ids`) in the list's order. The filter chose them; the
/// scope and the protection rule are tested again, written so that no index competes with the
/// ids' primary key (SQLite walked the list's kind index for each page).
pub async fn page_of(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    ids: &[String],
) -> StoreResult<Vec<Service>> {
    let mut q = Sql::new(SELECT);
    in_scope(
        &mut q,
        &viewer.scope,
        "v.region_code",
        "v.station_id",
        false,
    );
    viewer.protect(&mut q, "r", Some("v.sensitive = 1"));
    q.push(" AND ");
    q.in_list("v.id", ids);
    q.push(" ORDER BY v.served_on DESC, v.created_at DESC, v.id DESC");
    q.fetch_all(conn).await
}
