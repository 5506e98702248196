//! Matches of a need to a resource: proposed with the matcher's score and reasons, confirmed for
//! a day (the same-day throttle holds then too), executed — writing the service record through
//! the people store, issuing goods from stock, or proposing a fund's disbursement to the
//! committee — and completed, or abandoned with a reason.

use serde::Serialize;
use shegong_domain::charity::{MoveKind, TargetKind};
use shegong_domain::matching::{
    self as mt, HelpKind, MatchState, MatchStep, NeedState, Reason, ResourceKind,
};
use shegong_domain::network::station::ServiceDomain;
use shegong_domain::{FieldError, RegionCode, Scope};
use sqlx::AnyConnection;

use super::needs::{self, Need};
use super::resources::{self, day_of, served_on_day};
use crate::crypto::KeyRing;
use crate::people::residents::{Viewer, in_scope};
use crate::people::services;
use crate::sql::Sql;
use crate::{Millis, Page, PageRequest, StoreError, StoreResult, charity, new_id};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Match {
    pub id: String,
    pub need_id: String,
    pub need_title: String,
    pub region_code: String,
    pub region_path: String,
    pub station_id: Option<String>,
    pub resident_id: Option<String>,
    #[sqlx(try_from = "String")]
    pub help_kind: HelpKind,
    #[sqlx(try_from = "String")]
    pub resource_kind: ResourceKind,
    pub resource_id: String,
    pub resource_item: String,
    pub resource_label: String,
    pub resource_region: String,
    pub score: i64,
    pub reasons: String,
    #[sqlx(try_from = "String")]
    pub state: MatchState,
    pub served_on: Option<String>,
    pub service_id: Option<String>,
    pub disbursement_id: Option<String>,
    pub abandon_reason: String,
    pub proposed_by: String,
    pub proposed_at: Millis,
    pub confirmed_at: Option<Millis>,
    pub executed_at: Option<Millis>,
    pub closed_at: Option<Millis>,
    pub updated_at: Millis,
}

impl Match {
    /// The matcher's reasons as stored at proposal.
    pub fn reasons(&self) -> Vec<Reason> {
        serde_json::from_str(&self.reasons).unwrap_or_default()
    }
}

const SELECT: &str = "SELECT m.id, m.need_id, n.title AS need_title, m.region_code, g.path_names AS region_path, m.station_id, \
     m.resident_id, m.help_kind, m.resource_kind, m.resource_id, m.resource_item, m.resource_label, m.resource_region, \
     m.score, m.reasons, m.state, m.served_on, m.service_id, m.disbursement_id, m.abandon_reason, m.proposed_by, \
     m.proposed_at, m.confirmed_at, m.executed_at, m.closed_at, m.updated_at \
     FROM matches m JOIN needs n ON n.id = m.need_id JOIN regions g ON g.code = m.region_code WHERE 1 = 1";

fn restrict(q: &mut Sql, scope: &Scope) {
    in_scope(q, scope, "m.region_code", "m.station_id", true);
}

pub async fn get(conn: &mut AnyConnection, scope: &Scope, id: &str) -> StoreResult<Match> {
    let mut q = Sql::new(SELECT);
    q.push(" AND m.id = ").bind(id);
    restrict(&mut q, scope);
    q.fetch_optional(conn).await?.ok_or(StoreError::NotFound)
}

/// The resource a proposal names.
#[derive(Debug, Clone)]
pub struct ProposeInput {
    pub need_id: String,
    pub resource_kind: ResourceKind,
    pub resource_id: String,
    pub resource_item: String,
}

/// Propose a resource for an open need: it must be one the matcher proposes now (in reach, fit,
/// free, not exhausted), the recipient not already served this kind of help that day, and not
/// already proposed for the need. The score and reasons are kept as they were. Returns its id.
pub async fn propose(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    input: &ProposeInput,
    (by, now): (&str, Millis),
) -> StoreResult<String> {
    let need = match needs::get(conn, &viewer.scope, &input.need_id).await {
        Err(StoreError::NotFound) => {
            return Err(FieldError::new("need_id", "match.need_unknown").into());
        }
        other => other?,
    };
    if need.state != NeedState::Open {
        return Err(FieldError::new("need_id", "need.not_open").into());
    }
    let day = day_of(&need, viewer.today).to_string();
    if served_on_day(conn, &need, &day, None).await? {
        return Err(FieldError::new("need_id", "match.served_today").into());
    }
    let key = (
        input.resource_kind,
        input.resource_id.as_str(),
        input.resource_item.as_str(),
    );
    let Some(p) = resources::find(conn, viewer, &need, key).await? else {
        return Err(FieldError::new("resource_id", "match.not_a_candidate").into());
    };
    let live = Sql::new("SELECT COUNT(*) FROM matches WHERE need_id = ")
        .bind(need.id.as_str())
        .push(" AND resource_kind = ")
        .bind(input.resource_kind.as_str())
        .push(" AND resource_id = ")
        .bind(input.resource_id.as_str())
        .push(" AND resource_item = ")
        .bind(input.resource_item.as_str())
        .push(" AND state IN ('proposed', 'confirmed')")
        .fetch_i64(conn)
        .await?;
    if live > 0 {
        return Err(FieldError::new("resource_id", "match.already_proposed").into());
    }
    let id = new_id();
    let reasons = serde_json::to_string(&p.reasons).unwrap_or_else(|_| "[]".to_owned());
    Sql::new("INSERT INTO matches (id, need_id, region_code, station_id, resident_id, help_kind, resource_kind, resource_id, resource_item, resource_label, resource_region, score, reasons, state, proposed_by, proposed_at, updated_at) VALUES (")
        .bind(&id).push(", ").bind(need.id.as_str()).push(", ").bind(need.region_code.as_str()).push(", ").bind(need.station_id.clone()).push(", ")
        .bind(need.resident_id.clone()).push(", ").bind(need.help_kind.as_str()).push(", ").bind(input.resource_kind.as_str()).push(", ")
        .bind(input.resource_id.as_str()).push(", ").bind(input.resource_item.as_str()).push(", ").bind(p.resource.label.as_str()).push(", ")
        .bind(p.resource.region_code.as_str()).push(", ").bind(i64::from(p.score)).push(", ").bind(reasons).push(", 'proposed', ")
        .bind(by).push(", ").bind(now).push(", ").bind(now).push(")")
        .execute(conn)
        .await?;
    Ok(id)
}

/// What executing a match records.
#[derive(Debug, Clone, Default)]
pub struct ExecuteInput {
    pub served_on: String,
    pub duration_minutes: i64,
    /// For a community need: how many took part.
    pub person_times: i64,
    pub workers: String,
    pub notes: String,
    /// Goods: how many items (default the need's quantity); money: fen (default the need's).
    pub quantity: Option<i64>,
}

/// A step asked of a match.
#[derive(Debug, Clone)]
pub struct StepInput {
    pub step: MatchStep,
    pub reason: String,
    pub execute: ExecuteInput,
}

/// Take a step; returns the match as it was before.
pub async fn step(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    keys: &KeyRing,
    id: &str,
    input: &StepInput,
    (by, now): (&str, Millis),
) -> StoreResult<Match> {
    let before = get(conn, &viewer.scope, id).await?;
    if input.reason.trim().chars().count() > 200 {
        return Err(FieldError::new("reason", "form.too_long").into());
    }
    let to = mt::check_step(before.state, input.step, &input.reason)?;
    let need = needs::get(conn, &viewer.scope, &before.need_id).await?;
    if let Some(r) = need.resident_id.as_deref() {
        // One day's help of a kind per person: steps on the same recipient wait for each other.
        Sql::new("UPDATE residents SET updated_at = updated_at WHERE id = ")
            .bind(r)
            .execute(conn)
            .await?;
    }
    let mut q = Sql::new("UPDATE matches SET state = ");
    q.bind(to.as_str()).push(", updated_at = ").bind(now);
    match input.step {
        MatchStep::Confirm => {
            let day = day_of(&need, viewer.today).to_string();
            if served_on_day(conn, &need, &day, Some(id)).await? {
                return Err(FieldError::new("step", "match.served_today").into());
            }
            q.push(", served_on = ")
                .bind(day)
                .push(", confirmed_at = ")
                .bind(now);
        }
        MatchStep::Execute => {
            let e = &input.execute;
            if e.served_on.as_str() > viewer.today.to_string().as_str() {
                return Err(FieldError::new("served_on", "service.in_future").into());
            }
            if served_on_day(conn, &need, &e.served_on, Some(id)).await? {
                return Err(FieldError::new("served_on", "match.served_today").into());
            }
            let (service, disbursement) =
                execute(conn, viewer, keys, (&before, &need), e, (by, now)).await?;
            q.push(", served_on = ")
                .bind(e.served_on.as_str())
                .push(", executed_at = ")
                .bind(now)
                .push(", service_id = ")
                .bind(service)
                .push(", disbursement_id = ")
                .bind(disbursement);
        }
        MatchStep::Complete => {
            let service = completed_service(conn, &viewer.scope, &before).await?;
            q.push(", closed_at = ").bind(now);
            if let Some(s) = service {
                q.push(", service_id = ").bind(s);
            }
        }
        MatchStep::Abandon => {
            q.push(", abandon_reason = ")
                .bind(input.reason.trim())
                .push(", closed_at = ")
                .bind(now);
        }
    }
    q.push(" WHERE id = ")
        .bind(id)
        .push(" AND state = ")
        .bind(before.state.as_str());
    if q.execute(conn).await? == 0 {
        return Err(FieldError::new("step", "match.step_not_allowed").into());
    }
    if input.step == MatchStep::Complete {
        Sql::new("UPDATE needs SET state = 'met', updated_at = ")
            .bind(now)
            .push(" WHERE id = ")
            .bind(need.id.as_str())
            .push(" AND state = 'open'")
            .execute(conn)
            .await?;
        // Met: the need's other live proposals are given up.
        Sql::new("UPDATE matches SET state = 'abandoned', closed_at = ")
            .bind(now)
            .push(", updated_at = ")
            .bind(now)
            .push(" WHERE need_id = ")
            .bind(need.id.as_str())
            .push(" AND state IN ('proposed', 'confirmed') AND id <> ")
            .bind(id)
            .execute(conn)
            .await?;
    }
    Ok(before)
}

/// A fund's match completes once the committee has paid (the payment wrote the service record).
async fn completed_service(
    conn: &mut AnyConnection,
    scope: &Scope,
    m: &Match,
) -> StoreResult<Option<String>> {
    let Some(did) = m.disbursement_id.as_deref() else {
        return Ok(None);
    };
    let d = charity::get_disbursement(conn, scope, did).await?;
    if d.state != shegong_domain::charity::DisbursementState::Paid {
        return Err(FieldError::new("step", "match.not_paid").into());
    }
    Ok(d.service_id)
}

/// The service domain help of this kind is counted under.
fn domain_of(help: HelpKind) -> ServiceDomain {
    match help {
        HelpKind::Bathing
        | HelpKind::Meals
        | HelpKind::Cleaning
        | HelpKind::Escort
        | HelpKind::Companionship
        | HelpKind::Rehab => ServiceDomain::Elderly,
        HelpKind::Tutoring => ServiceDomain::Children,
        HelpKind::Legal => ServiceDomain::SocialAffairs,
        HelpKind::Venue => ServiceDomain::CommunityGovernance,
        HelpKind::Psychological | HelpKind::Repair | HelpKind::Goods | HelpKind::Money => {
            ServiceDomain::SocialAssistance
        }
    }
}

/// Carry out the match: the service record (and the goods issue), or the disbursement proposal.
async fn execute(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    keys: &KeyRing,
    (m, need): (&Match, &Need),
    e: &ExecuteInput,
    (by, now): (&str, Millis),
) -> StoreResult<(Option<String>, Option<String>)> {
    if m.resource_kind == ResourceKind::Fund {
        let amount = e.quantity.unwrap_or(need.quantity);
        let input = charity::DisbursementInput {
            fund_id: m.resource_id.clone(),
            target_kind: if need.resident_id.is_some() {
                TargetKind::Person
            } else {
                TargetKind::Project
            },
            wish_id: None,
            recipient_resident_id: need.resident_id.clone(),
            purpose: "供需对接·资金救助".to_owned(),
            amount_fen: amount,
        };
        let did = charity::propose(conn, &viewer.scope, &input, by, now).await?;
        return Ok((None, Some(did)));
    }
    let mut title: String = need.title.chars().take(80).collect();
    if m.resource_kind == ResourceKind::Goods {
        let quantity = e.quantity.unwrap_or(need.quantity);
        let stock = charity::StockInput {
            fund_id: m.resource_id.clone(),
            item: m.resource_item.clone(),
            unit: String::new(),
            kind: MoveKind::Issue,
            quantity,
            signed_by: e.workers.clone(),
            note: "供需对接".to_owned(),
            moved_on: e.served_on.clone(),
        };
        charity::move_stock(conn, &viewer.scope, &stock, by, now).await?;
        title = format!("{}（{} × {}）", title, m.resource_item, quantity);
    }
    let station = match m.resource_kind {
        ResourceKind::Purchased | ResourceKind::Venue => Some(match m.resource_kind {
            ResourceKind::Venue => m.resource_id.clone(),
            _ => m.resource_item.clone(),
        }),
        _ => need.station_id.clone(),
    };
    let input = services::ServiceInput {
        kind: need.help_kind.service_kind().as_str().to_owned(),
        domain: domain_of(need.help_kind).as_str().to_owned(),
        station_id: station,
        resident_id: need.resident_id.clone(),
        title,
        served_on: e.served_on.clone(),
        duration_minutes: e.duration_minutes,
        person_times: e.person_times.max(1),
        // A visit by a volunteer is recorded as one (the people store fills the method in).
        method: (need.help_kind.service_kind() == shegong_domain::people::ServiceKind::Visit
            && m.resource_kind != ResourceKind::Volunteer)
            .then(|| "home".to_owned()),
        location: String::new(),
        workers: e.workers.clone(),
        volunteer_id: (m.resource_kind == ResourceKind::Volunteer).then(|| m.resource_id.clone()),
        notes: e.notes.clone(),
        ..Default::default()
    };
    let sid = services::create(conn, viewer, keys, &input, by, now).await?;
    Ok((Some(sid), None))
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub region: Option<RegionCode>,
    pub need_id: Option<String>,
    pub state: Option<MatchState>,
    pub resource_kind: Option<ResourceKind>,
    /// Served (executed) within [from, to) as dates `YYYY-MM-DD`.
    pub served: Option<(String, String)>,
}

pub(crate) fn filter(q: &mut Sql, scope: &Scope, f: &Filter) {
    restrict(q, scope);
    if let Some(r) = &f.region {
        q.push(" AND ");
        q.region_range("m.region_code", &Scope::region(r.clone()));
    }
    if let Some(n) = &f.need_id {
        q.push(" AND m.need_id = ").bind(n.as_str());
    }
    if let Some(s) = f.state {
        q.push(" AND m.state = ").bind(s.as_str());
    }
    if let Some(k) = f.resource_kind {
        q.push(" AND m.resource_kind = ").bind(k.as_str());
    }
    if let Some((from, to)) = &f.served {
        q.push(" AND m.state IN ('executed', 'completed') AND m.served_on >= ")
            .bind(from.as_str())
            .push(" AND m.served_on < ")
            .bind(to.as_str());
    }
}

pub async fn list(
    conn: &mut AnyConnection,
    scope: &Scope,
    f: &Filter,
    page: PageRequest,
) -> StoreResult<Page<Match>> {
    let mut count = Sql::new("SELECT COUNT(*) FROM matches m WHERE 1 = 1");
    filter(&mut count, scope, f);
    let mut q = Sql::new(SELECT);
    filter(&mut q, scope, f);
    q.push(" ORDER BY m.proposed_at DESC, m.id");
    q.fetch_page(conn, &count, page).await
}
