//! Needs for help: registered for a person, a household or a community, found in an issue, an
//! assessment (a case), a ticket or a visit, open until a match meets them or cancelled.

use serde::Serialize;
use shegong_domain::matching::{DayPart, HelpKind, NeedSource, NeedState, NeedSubject};
use shegong_domain::{FieldError, RegionCode, Scope};
use sqlx::AnyConnection;

use crate::network::station_scope;
use crate::people::residents::{Viewer, Whose, in_scope, matter_region};
use crate::people::{cases, services};
use crate::sql::Sql;
use crate::{Millis, Page, PageRequest, StoreError, StoreResult, new_id};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Need {
    pub id: String,
    pub region_code: String,
    pub region_path: String,
    pub station_id: Option<String>,
    pub station_name: Option<String>,
    #[sqlx(try_from = "String")]
    pub subject: NeedSubject,
    pub resident_id: Option<String>,
    pub household_id: Option<String>,
    #[sqlx(try_from = "String")]
    pub help_kind: HelpKind,
    pub title: String,
    pub description: String,
    pub quantity: i64,
    pub wanted_on: Option<String>,
    pub day_part: Option<String>,
    #[sqlx(try_from = "String")]
    pub source: NeedSource,
    pub source_id: Option<String>,
    #[sqlx(try_from = "String")]
    pub state: NeedState,
    pub cancel_reason: String,
    /// Matches proposed or confirmed, not yet executed.
    pub live_matches: i64,
    pub created_by: String,
    pub created_at: Millis,
    pub updated_at: Millis,
}

impl Need {
    pub fn day_part(&self) -> Option<DayPart> {
        self.day_part
            .as_deref()
            .and_then(|p| DayPart::parse(p).ok())
    }
}

pub(crate) const SELECT: &str = "SELECT n.id, n.region_code, g.path_names AS region_path, n.station_id, s.name AS station_name, \
     n.subject, n.resident_id, n.household_id, n.help_kind, n.title, n.description, n.quantity, n.wanted_on, n.day_part, \
     n.source, n.source_id, n.state, n.cancel_reason, \
     (SELECT COUNT(*) FROM matches m WHERE m.need_id = n.id AND m.state IN ('proposed', 'confirmed')) AS live_matches, \
     n.created_by, n.created_at, n.updated_at \
     FROM needs n JOIN regions g ON g.code = n.region_code LEFT JOIN stations s ON s.id = n.station_id WHERE 1 = 1";

pub(crate) fn restrict(q: &mut Sql, scope: &Scope) {
    in_scope(q, scope, "n.region_code", "n.station_id", true);
}

/// A new need's fields, parsed.
#[derive(Debug, Clone)]
pub struct NeedInput {
    pub subject: NeedSubject,
    pub resident_id: Option<String>,
    pub household_id: Option<String>,
    /// The community (or township) of a community need.
    pub region: Option<RegionCode>,
    pub station_id: Option<String>,
    pub help_kind: HelpKind,
    pub title: String,
    pub description: String,
    pub quantity: i64,
    pub wanted_on: Option<String>,
    pub day_part: Option<DayPart>,
    pub source: NeedSource,
    pub source_id: Option<String>,
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

impl NeedInput {
    /// The checks that need no database: every field named, all at once.
    pub fn validate(&self, today: &str) -> Vec<FieldError> {
        let checks = [
            text("title", &self.title, 100, true),
            text("description", &self.description, 2000, false),
        ];
        let mut errors: Vec<FieldError> = checks.into_iter().filter_map(Result::err).collect();
        match self.subject {
            NeedSubject::Person if self.resident_id.is_none() => {
                errors.push(FieldError::new("resident_id", "form.required"));
            }
            NeedSubject::Household if self.household_id.is_none() => {
                errors.push(FieldError::new("household_id", "form.required"));
            }
            _ => {}
        }
        let counted = matches!(self.help_kind, HelpKind::Goods | HelpKind::Money);
        if counted && self.quantity <= 0 {
            errors.push(FieldError::new("quantity", "need.quantity_required"));
        }
        if !(0..=100_000_000_000).contains(&self.quantity) {
            errors.push(FieldError::new("quantity", "form.out_of_range"));
        }
        if let Some(d) = &self.wanted_on {
            if chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_err() {
                errors.push(FieldError::new("wanted_on", "date.invalid"));
            } else if d.as_str() < today {
                errors.push(FieldError::new("wanted_on", "need.wanted_past"));
            }
        }
        if self.source != NeedSource::Other && self.source_id.is_none() {
            errors.push(FieldError::new("source_id", "form.required"));
        }
        errors
    }
}

/// Where the need belongs: the file's region for a person or household (in scope), else the
/// community given.
async fn place(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    input: &NeedInput,
) -> StoreResult<String> {
    let whose = match input.subject {
        NeedSubject::Person => Whose::Person(input.resident_id.as_deref().unwrap_or_default()),
        NeedSubject::Household => {
            Whose::Household(input.household_id.as_deref().unwrap_or_default())
        }
        NeedSubject::Community => Whose::Community(input.region.as_ref()),
    };
    matter_region(
        conn,
        viewer,
        whose,
        ("need.resident_unknown", "need.household_unknown"),
    )
    .await
}

/// The record a need was found in must exist in the reader's scope.
async fn check_source(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    input: &NeedInput,
) -> StoreResult<()> {
    let Some(id) = input.source_id.as_deref() else {
        return Ok(());
    };
    let found = match input.source {
        NeedSource::Issue => crate::community::get(conn, &viewer.scope, id)
            .await
            .map(drop),
        NeedSource::Ticket => crate::hotline::tickets::get(conn, &viewer.scope, id)
            .await
            .map(drop),
        NeedSource::Assessment => cases::get(conn, viewer, id).await.map(drop),
        NeedSource::Visit => services::get(conn, viewer, id).await.map(drop),
        NeedSource::Other => Ok(()),
    };
    match found {
        Err(StoreError::NotFound) => {
            Err(FieldError::new("source_id", "need.source_unknown").into())
        }
        other => other,
    }
}

/// Register a need; returns its id.
pub async fn create(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    input: &NeedInput,
    (by, now): (&str, Millis),
) -> StoreResult<String> {
    if let Some(e) = input.validate(&viewer.today.to_string()).into_iter().next() {
        return Err(e.into());
    }
    let region = place(conn, viewer, input).await?;
    check_source(conn, viewer, input).await?;
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
        return Err(FieldError::new("station", "form.required").into());
    }
    let id = new_id();
    Sql::new("INSERT INTO needs (id, region_code, station_id, subject, resident_id, household_id, help_kind, title, description, quantity, wanted_on, day_part, source, source_id, state, created_by, created_at, updated_at) VALUES (")
        .bind(&id).push(", ").bind(region.as_str()).push(", ").bind(input.station_id.clone()).push(", ")
        .bind(input.subject.as_str()).push(", ").bind(input.resident_id.clone()).push(", ").bind(input.household_id.clone()).push(", ")
        .bind(input.help_kind.as_str()).push(", ").bind(input.title.trim()).push(", ").bind(input.description.trim()).push(", ")
        .bind(input.quantity).push(", ").bind(input.wanted_on.clone()).push(", ").bind(input.day_part.map(|p| p.as_str().to_owned())).push(", ")
        .bind(input.source.as_str()).push(", ").bind(input.source_id.clone()).push(", 'open', ").bind(by).push(", ").bind(now).push(", ").bind(now).push(")")
        .execute(conn)
        .await?;
    Ok(id)
}

pub async fn get(conn: &mut AnyConnection, scope: &Scope, id: &str) -> StoreResult<Need> {
    let mut q = Sql::new(SELECT);
    q.push(" AND n.id = ").bind(id);
    restrict(&mut q, scope);
    q.fetch_optional(conn).await?.ok_or(StoreError::NotFound)
}

/// Cancel an open need (a reason is required); its live matches are abandoned with it. Returns
/// the need as it was.
pub async fn cancel(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
    reason: &str,
    now: Millis,
) -> StoreResult<Need> {
    let before = get(conn, scope, id).await?;
    text("reason", reason, 200, true)?;
    let n = Sql::new("UPDATE needs SET state = 'cancelled', cancel_reason = ")
        .bind(reason.trim())
        .push(", updated_at = ")
        .bind(now)
        .push(" WHERE id = ")
        .bind(id)
        .push(" AND state = 'open'")
        .execute(conn)
        .await?;
    if n == 0 {
        return Err(FieldError::new("state", "need.not_open").into());
    }
    Sql::new("UPDATE matches SET state = 'abandoned', abandon_reason = ")
        .bind(reason.trim())
        .push(", closed_at = ")
        .bind(now)
        .push(", updated_at = ")
        .bind(now)
        .push(" WHERE need_id = ")
        .bind(id)
        .push(" AND state IN ('proposed', 'confirmed')")
        .execute(conn)
        .await?;
    Ok(before)
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub region: Option<RegionCode>,
    pub help_kind: Option<HelpKind>,
    pub state: Option<NeedState>,
    pub resident_id: Option<String>,
    /// Registered within [from, to) (UTC millis).
    pub created: Option<(Millis, Millis)>,
    /// Title contains.
    pub q: Option<String>,
}

pub(crate) fn filter(q: &mut Sql, scope: &Scope, f: &Filter) {
    restrict(q, scope);
    if let Some(r) = &f.region {
        q.push(" AND ");
        q.region_range("n.region_code", &Scope::region(r.clone()));
    }
    if let Some(k) = f.help_kind {
        q.push(" AND n.help_kind = ").bind(k.as_str());
    }
    if let Some(s) = f.state {
        q.push(" AND n.state = ").bind(s.as_str());
    }
    if let Some(r) = &f.resident_id {
        q.push(" AND n.resident_id = ").bind(r.as_str());
    }
    if let Some((from, to)) = f.created {
        q.push(" AND n.created_at >= ")
            .bind(from)
            .push(" AND n.created_at < ")
            .bind(to);
    }
    if let Some(t) = f.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        q.contains_any(&["n.title"], t);
    }
}

pub async fn list(
    conn: &mut AnyConnection,
    scope: &Scope,
    f: &Filter,
    page: PageRequest,
) -> StoreResult<Page<Need>> {
    let mut count = Sql::new("SELECT COUNT(*) FROM needs n WHERE 1 = 1");
    filter(&mut count, scope, f);
    let mut q = Sql::new(SELECT);
    filter(&mut q, scope, f);
    q.push(" ORDER BY n.created_at DESC, n.id");
    q.fetch_page(conn, &count, page).await
}
