//! The audit log for auditors (and civil-affairs administrators, within their scope): filters,
//! Excel export, chain verification; `GET /api/v1/audit`. Read-only: no route changes an entry.

use askama::Template;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use shegong_domain::{Permission, Role, Scope};
use shegong_store::admin::audit::{self, Change, Entry, Filter, Verification};
use shegong_store::{PageRequest, network::regions};
use utoipa::{IntoParams, ToSchema};

use crate::http::auth::{Ctx, CurrentUser};
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, Crumb, page};
use crate::http::state::AppState;
use crate::ui::excel::{self, Cell, Export, Selection};
use crate::ui::i18n::Tr;
use crate::ui::list::{Pager, date_start_millis, pager, rfc3339};

fn reader(ctx: &Ctx) -> WebResult<&CurrentUser> {
    let u = ctx.user()?;
    u.require(Permission::ReadAudit)?;
    Ok(u)
}

#[derive(Deserialize, IntoParams, Default, Clone)]
pub struct AuditQuery {
    /// From this date (YYYY-MM-DD, China Standard Time), inclusive.
    #[param(format = Date)]
    pub from: Option<String>,
    /// Up to this date (YYYY-MM-DD), inclusive.
    #[param(format = Date)]
    pub to: Option<String>,
    /// Username of the actor.
    pub actor: Option<String>,
    /// Entity type, e.g. `user`, `session`, `api_token`.
    pub entity: Option<String>,
    /// Action, e.g. `create`, `update`, `login`, `lockout`, `reveal`, `permission_denied`.
    pub action: Option<String>,
    #[param(schema_with = crate::http::api::code::outcome)]
    pub outcome: Option<String>,
    /// Order: `seq` (newest first), `actor` or `region`; `-` before it reverses the order. Any
    /// other value is the default order (newest first).
    #[param(schema_with = crate::http::api::code::audit_sort)]
    pub sort: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

impl AuditQuery {
    fn filter(&self) -> Filter {
        Filter {
            from: self.from.as_deref().and_then(date_start_millis),
            to: self
                .to
                .as_deref()
                .and_then(date_start_millis)
                .map(|d| d + 86_400_000),
            actor: self.actor.clone().map(|s| s.trim().to_ascii_lowercase()),
            entity: self.entity.clone(),
            action: self.action.clone(),
            outcome: self.outcome.clone(),
            sort: shegong_store::Sort::parse(self.sort.as_deref(), audit::SORTS),
        }
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        let v = |o: &Option<String>| o.clone().unwrap_or_default();
        let [sort, size] = crate::ui::list::table_pairs(self.filter().sort, self.per_page);
        vec![
            ("from", v(&self.from)),
            ("to", v(&self.to)),
            ("actor", v(&self.actor)),
            ("entity", v(&self.entity)),
            ("action", v(&self.action)),
            ("outcome", v(&self.outcome)),
            sort,
            size,
        ]
    }
}

/// An entry as the log page shows it: labels in the reader's language, regions by name.
#[derive(serde::Serialize)]
pub struct Row {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub region: String,
    pub outcome: String,
    #[serde(skip)]
    pub outcome_class: &'static str,
    pub changes: String,
    pub ip: String,
    pub request_id: String,
}

/// `名称: 旧 → 新; …`, fields named by their form labels (the code when there is none), code
/// values by their labels (case stages, roles, statuses, …), account ids by the account's name.
fn changes_text(
    t: &Tr,
    entity: &str,
    changes: &[Change],
    names: &HashMap<String, String>,
) -> String {
    let value = |field: &str, v: Option<&str>| match v {
        None => "∅".to_owned(),
        Some(v) => match names.get(v) {
            Some(name) => name.clone(),
            None => value_family(entity, field)
                .and_then(|family| t.try_get(&format!("{family}.{v}")))
                .map_or_else(|| v.to_owned(), str::to_owned),
        },
    };
    changes
        .iter()
        .map(|c| {
            format!(
                "{}: {} → {}",
                label(t, "field", &c.field),
                value(&c.field, c.before.as_deref()),
                value(&c.field, c.after.as_deref())
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The key family that labels the values of `field` in changes of `entity`, where they are codes.
fn value_family(entity: &str, field: &str) -> Option<&'static str> {
    Some(match (entity, field) {
        ("case", "stage") => "case.stage",
        ("staff", "role") => "staff.role",
        ("staff", "employment_mode") => "staff.employment",
        ("staff", "education") => "staff.education",
        ("staff", "sector") => "staff.sector",
        ("staff", "status") => "staff.status",
        ("staff", "id_type") | ("resident", "id_type") => "idcard.type",
        ("user", "role") => "role",
        ("station", "status") => "station.status",
        ("station", "tier") => "station.tier",
        ("station", "mode") => "station.mode",
        ("resident", "tier" | "risk_tier") => "resident.tier",
        ("resident", "status") => "resident.status",
        ("resident", "legal_basis") => "resident.basis",
        ("resident", "relation") => "resident.relation",
        ("rectification", "status") => "rectification.status",
        _ => return None,
    })
}

/// A code's label when the catalogue has one, else the code (no warning: field names and
/// values without a label show as recorded).
fn label(t: &Tr, prefix: &str, value: &str) -> String {
    t.try_get(&format!("{prefix}.{value}"))
        .map_or_else(|| value.to_owned(), str::to_owned)
}

pub(crate) async fn rows(state: &AppState, t: &Tr, items: &[Entry]) -> WebResult<Vec<Row>> {
    let codes: Vec<&str> = items.iter().map(|e| e.region_code.as_str()).collect();
    let mut c = state.db.read().await?;
    let paths = regions::display_paths(&mut c, &codes).await?;
    // Account ids in the changes (role grants, supervisors, assignees) read as the account's
    // name; other ids (people served, records) stay ids: this log is read by those who may not
    // read business data.
    let ids: Vec<String> = items
        .iter()
        .flat_map(|e| e.parsed_changes())
        .flat_map(|c| [c.before, c.after])
        .flatten()
        .filter(|v| v.len() == 36 && v.chars().filter(|c| *c == '-').count() == 4)
        .collect();
    let names = shegong_store::admin::users::display_names(&mut c, &ids).await?;
    drop(c);
    Ok(items
        .iter()
        .map(|e| Row {
            seq: e.seq,
            at: t.datetime(e.at),
            actor: e.actor_name.clone(),
            action: label(t, "audit.action", &e.action),
            entity: label(t, "audit.entity", &e.entity),
            entity_id: e.entity_id.clone().unwrap_or_default(),
            region: if e.region_code.is_empty() {
                t.get("scope.national").to_owned()
            } else {
                paths
                    .get(&e.region_code)
                    .cloned()
                    .unwrap_or_else(|| e.region_code.clone())
            },
            outcome: label(t, "audit.outcome", &e.outcome),
            outcome_class: match e.outcome.as_str() {
                "success" => "tag-ok",
                "failure" => "tag-warn",
                _ => "tag-bad",
            },
            changes: changes_text(t, &e.entity, &e.parsed_changes(), &names),
            ip: e.ip.clone().unwrap_or_default(),
            request_id: e.request_id.clone().unwrap_or_default(),
        })
        .collect())
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    t: Tr,
    base: Base,
    rows: Vec<Row>,
    pager: Pager,
    q: AuditQuery,
    export_href: String,
    can_verify: bool,
    verification: Option<Verification>,
}

/// Every entity and action the product writes to the log (the filters offer them all; a test
/// checks each has a label in both languages).
pub const ENTITIES: &[&str] = &[
    "user",
    "session",
    "api_token",
    "route",
    "audit_log",
    "region",
    "organization",
    "station",
    "attachment",
    "construction_target",
    "inspection_plan",
    "inspection_visit",
    "rectification",
    "indicator_item",
    "service_item",
    "staff",
    "staffing_rule",
    "supervision_pair",
    "supervision_session",
    "sanqu_team",
    "sanqu_member",
    "volunteer",
    "volunteer_team",
    "volunteer_activity",
    "volunteer_hours",
    "volunteer_certificate",
    "volunteer_star",
    "catalogue_item",
    "catalogue_edition",
    "contract",
    "contract_expense",
    "contract_position",
    "purchase_project",
    "instalment",
    "evaluation",
    "indicator_tree",
    "org_link",
    "timebank_scheme",
    "timebank_account",
    "timebank_entry",
    "charity_fund",
    "charity_donation",
    "charity_wish",
    "charity_disbursement",
    "charity_stock",
    "emergency_team",
    "incident",
    "incident_deployment",
    "hotline",
    "ticket",
    "resident",
    "case",
    "service",
    "visit_rule",
    "visit_confirmation_rule",
    "community_issue",
    "residents",
    "services",
    "monthly_report",
    "report",
    "stats_table",
    "need",
    "match",
    "notification_settings",
    "community_list",
    "resource",
];
pub const ACTIONS: &[&str] = &[
    "create",
    "update",
    "login",
    "logout",
    "lockout",
    "password_change",
    "permission_denied",
    "disable",
    "enable",
    "unlock",
    "reset_password",
    "revoke",
    "export",
    "reveal",
    "import",
    "import_refused",
    "funding",
    "services",
    "assess",
    "progress",
    "confirm_completion",
    "upload",
    "download",
    "set_target",
    "advance",
    "certificate",
    "training",
    "transition",
    "void",
    "fill",
    "end_fill",
    "delete",
    "notice",
    "award",
    "reverse",
    "add_member",
    "remove_member",
    "status",
    "sign_up",
    "withdraw",
    "sign_in",
    "sign_out",
    "confirm",
    "record",
    "correct",
    "print",
    "approve",
    "reject",
    "pay",
    "add_duty",
    "remove_duty",
    "step",
    "match",
    "outcome",
    "mirror",
    "open",
    "plan",
    "return",
    "evaluate",
    "request_closure",
    "reopen",
    "note",
    "refer",
    "accept_referral",
    "decline_referral",
    "add_category",
    "end_category",
    "join_household",
    "merge",
    "set_status",
    "set_tier",
    "twofactor_require",
    "twofactor_unrequire",
    "twofactor_reset",
    "twofactor_enrol",
    "twofactor_disable",
    "twofactor_recovery_use",
    "login_password",
    "cancel",
    "submit",
    "review",
    "lock",
    "request_unlock",
    "approve_unlock",
];

impl AuditPage {
    fn entities(&self) -> &'static [&'static str] {
        ENTITIES
    }

    fn actions(&self) -> &'static [&'static str] {
        ACTIONS
    }

    fn verify_ok_text(&self, v: &Verification) -> String {
        self.t
            .fmt("audit.verify_ok", &[("n", &v.checked.to_string())])
    }
}

async fn audit_page(
    state: &AppState,
    ctx: &Ctx,
    q: AuditQuery,
    verification: Option<Verification>,
) -> WebResult<Response> {
    let u = reader(ctx)?;
    let t = ctx.tr();
    let data = {
        let mut c = state.db.read().await?;
        audit::list(
            &mut c,
            &u.scope(),
            &q.filter(),
            PageRequest::sized(q.page, q.per_page),
        )
        .await?
    };
    let pairs = q.pairs();
    let title = t.get("menu.audit");
    Ok(page(
        StatusCode::OK,
        &AuditPage {
            t,
            base: Base::new(ctx, title, vec![Crumb::here(title)]),
            rows: rows(state, &t, &data.items).await?,
            pager: pager(&t, &data, "/audit", &pairs)?,
            export_href: format!(
                "/audit/export.xlsx?{}",
                serde_urlencoded::to_string(&pairs).unwrap_or_default()
            ),
            can_verify: u.role() == Role::Auditor,
            verification,
            q,
        },
    ))
}

pub async fn list_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<AuditQuery>,
) -> WebResult<Response> {
    audit_page(&state, &ctx, q, None).await
}

/// Verify the whole chain (auditors only: it reads every entry, whatever the scope).
pub async fn verify_page(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let u = reader(&ctx)?;
    if u.role() != Role::Auditor {
        return Err(WebError::Forbidden);
    }
    let v = {
        let mut c = state.db.read().await?;
        audit::verify(&mut c).await?
    };
    audit_page(&state, &ctx, AuditQuery::default(), Some(v)).await
}

pub async fn export(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<AuditQuery>,
) -> WebResult<Response> {
    let export = Export::check(&ctx, "audit_log", Permission::ReadAudit)?;
    let scope = export.user().scope();
    let t = ctx.tr();
    let seqs = {
        let mut c = state.db.read().await?;
        audit::list_seqs(&mut c, &scope, &q.filter(), excel::MAX_ROWS).await?
    };
    let headers = [
        "audit.seq",
        "audit.at",
        "audit.actor",
        "audit.action_label",
        "audit.entity_label",
        "audit.entity_id",
        "audit.region",
        "audit.outcome_label",
        "audit.changes",
        "audit.ip",
        "audit.request_id",
    ]
    .map(|k| t.get(k));
    let pages = ExportPages {
        state: state.clone(),
        t,
        scope,
        seqs: Selection::new(seqs),
    };
    export
        .stream(&state, &ctx, "menu.audit", &headers, pages, vec![])
        .await
}

/// The export's entries, read and turned into rows a page at a time.
struct ExportPages {
    state: AppState,
    t: Tr,
    scope: Scope,
    seqs: Selection<i64>,
}

impl excel::Pages for ExportPages {
    fn selected(&self) -> usize {
        self.seqs.selected()
    }

    async fn next(&mut self) -> WebResult<Vec<Vec<Cell>>> {
        loop {
            let seqs = self.seqs.next_page();
            if seqs.is_empty() {
                return Ok(Vec::new());
            }
            let entries = {
                let mut c = self.state.db.read().await?;
                audit::page_of(&mut c, &self.scope, &seqs).await?
            };
            if entries.is_empty() {
                continue;
            }
            let rows = rows(&self.state, &self.t, &entries).await?;
            return Ok(rows
                .into_iter()
                .map(|r| {
                    vec![
                        r.seq.into(),
                        r.at.into(),
                        r.actor.into(),
                        r.action.into(),
                        r.entity.into(),
                        r.entity_id.into(),
                        r.region.into(),
                        r.outcome.into(),
                        r.changes.into(),
                        r.ip.into(),
                        r.request_id.into(),
                    ]
                })
                .collect());
        }
    }
}

/// An audit entry as the API returns it.
#[derive(Serialize, ToSchema)]
pub struct AuditEntryDto {
    pub seq: i64,
    pub id: String,
    /// RFC 3339, UTC.
    pub at: String,
    pub actor_id: Option<String>,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    /// Region the entry is filed under; empty for national.
    pub region_code: String,
    pub outcome: String,
    pub changes: Vec<ChangeDto>,
    pub request_id: Option<String>,
    pub ip: Option<String>,
    pub hash: String,
    pub prev_hash: String,
}

#[derive(Serialize, ToSchema)]
pub struct ChangeDto {
    pub field: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditPageDto {
    pub items: Vec<AuditEntryDto>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// Audit entries filed within the caller's scope, newest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = AuditPageDto), (status = 401, description = "Not signed in"), (status = 403, description = "No audit permission")))]
pub async fn api_list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<AuditQuery>,
) -> WebResult<Json<AuditPageDto>> {
    let u = reader(&ctx)?;
    let mut c = state.db.read().await?;
    let p = audit::list(
        &mut c,
        &u.scope(),
        &q.filter(),
        PageRequest::new(q.page, q.per_page),
    )
    .await?;
    Ok(Json(AuditPageDto {
        items: p
            .items
            .into_iter()
            .map(|e| AuditEntryDto {
                changes: e
                    .parsed_changes()
                    .into_iter()
                    .map(|c| ChangeDto {
                        field: c.field,
                        before: c.before,
                        after: c.after,
                    })
                    .collect(),
                at: rfc3339(e.at),
                seq: e.seq,
                id: e.id,
                actor_id: e.actor_id,
                actor: e.actor_name,
                action: e.action,
                entity: e.entity,
                entity_id: e.entity_id,
                region_code: e.region_code,
                outcome: e.outcome,
                request_id: e.request_id,
                ip: e.ip,
                hash: e.hash,
                prev_hash: e.prev_hash,
            })
            .collect(),
        total: p.total,
        page: p.page,
        per_page: p.per_page,
    }))
}
