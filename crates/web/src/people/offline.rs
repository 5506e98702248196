//! The offline app (`/app`, issue 19 item 4): the shell page, its service worker and manifest,
//! and the two API reads it lives on — the session's device key and the worker's own data —
//! plus the optimistic-concurrency check of queued writes (`expected` → 409 with what changed).
//!
//! The device key is derived from the session (keyed hash of the session's hash, so it exists
//! only while the session does and no two sessions share one); the app imports it as a
//! non-extractable WebCrypto key and encrypts what it keeps on the phone with it.

use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use shegong_domain::network::station::ServiceDomain;
use shegong_domain::people::{CaseStage, ResidentStatus, RiskTier, ServiceKind, VisitMethod};
use shegong_store::PageRequest;
use shegong_store::people::{cases, residents, visit_rules};
use utoipa::ToSchema;

use crate::http::assets;
use crate::http::auth::{Ctx, reader};
use crate::http::error::{WebError, WebResult};
use crate::http::render::page;
use crate::http::state::AppState;
use crate::ui::i18n::Tr;

use super::residents::viewer;

/// A queued write's view of the file it was made against. Each field given is compared with
/// the file as it is now; any difference answers 409 (`conflict.file_changed`) and nothing is
/// saved. Fields left out are not compared, so existing clients are unaffected.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"resident_status": "active", "resident_worker": "0190a0b2-7c4e-7a51-9d2f-3b9e1c2d4e5f", "case_stage": "intervention"}))]
pub struct FileExpectation {
    /// The resident's status (`active`, `moved_out`, `deceased`, `merged`).
    pub resident_status: Option<String>,
    /// The resident's responsible worker (account id; `""` for none).
    pub resident_worker: Option<String>,
    /// The case's stage.
    pub case_stage: Option<String>,
    /// The case's worker (account id; `""` for none).
    pub case_worker: Option<String>,
}

/// One fact that changed since the queued write was made.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConflictChange {
    /// `resident_status`, `resident_worker`, `case_stage` or `case_worker`.
    pub field: &'static str,
    pub expected: String,
    pub current: String,
    /// The current value for people: a label or a name.
    pub current_label: String,
}

/// 409: the file changed since the write was made; nothing was saved. Send again without
/// `expected` (the same `Idempotency-Key` is fine) to save it against the file as it is now.
#[derive(Debug, Serialize, ToSchema)]
pub struct FileConflict {
    /// `conflict.file_changed`.
    pub code: &'static str,
    pub message: String,
    pub changes: Vec<ConflictChange>,
    pub resident_id: Option<String>,
    pub resident_name: Option<String>,
    pub case_id: Option<String>,
}

fn compare(
    out: &mut Vec<ConflictChange>,
    field: &'static str,
    expected: Option<&String>,
    current: &str,
    label: String,
) {
    if let Some(e) = expected
        && e != current
    {
        out.push(ConflictChange {
            field,
            expected: e.clone(),
            current: current.to_owned(),
            current_label: label,
        });
    }
}

fn resident_changes(t: &Tr, r: &residents::Resident, e: &FileExpectation) -> Vec<ConflictChange> {
    let mut out = Vec::new();
    compare(
        &mut out,
        "resident_status",
        e.resident_status.as_ref(),
        r.status.as_str(),
        t.get(&format!("resident.status.{}", r.status.as_str()))
            .to_owned(),
    );
    compare(
        &mut out,
        "resident_worker",
        e.resident_worker.as_ref(),
        r.worker_user_id.as_deref().unwrap_or(""),
        r.worker_name.clone().unwrap_or_else(|| "—".into()),
    );
    out
}

fn conflict_response(c: FileConflict) -> Option<Response> {
    if c.changes.is_empty() {
        return None;
    }
    Some((StatusCode::CONFLICT, Json(c)).into_response())
}

/// A queued service for `resident_id` (and `case_id`): 409 when the file moved on. A file no
/// longer in the caller's scope is 404, as everywhere.
pub async fn service_conflict(
    state: &AppState,
    ctx: &Ctx,
    resident_id: &str,
    case_id: Option<&str>,
    e: &FileExpectation,
) -> WebResult<Option<Response>> {
    let u = crate::http::write::writer(ctx)?;
    let t = ctx.tr();
    let v = viewer(state, u);
    let mut c = state.db.read().await?;
    let r = residents::get(&mut c, &v, resident_id).await?;
    let mut changes = resident_changes(&t, &r, e);
    if let Some(cid) = case_id.filter(|s| !s.is_empty()) {
        let k = cases::get(&mut c, &v, cid).await?;
        changes.extend(case_changes(&t, &k, e));
    }
    Ok(conflict_response(FileConflict {
        code: "conflict.file_changed",
        message: t.get("conflict.file_changed").to_owned(),
        changes,
        resident_id: Some(r.id),
        resident_name: Some(r.name),
        case_id: case_id.map(str::to_owned),
    }))
}

fn case_changes(t: &Tr, k: &cases::Case, e: &FileExpectation) -> Vec<ConflictChange> {
    let mut out = Vec::new();
    compare(
        &mut out,
        "case_stage",
        e.case_stage.as_ref(),
        k.stage.as_str(),
        t.get(&format!("case.stage.{}", k.stage.as_str()))
            .to_owned(),
    );
    compare(
        &mut out,
        "case_worker",
        e.case_worker.as_ref(),
        k.worker_user_id.as_deref().unwrap_or(""),
        k.worker_name.clone().unwrap_or_else(|| "—".into()),
    );
    out
}

/// A queued case step: 409 when the case (or its resident's status and worker) moved on.
pub async fn case_conflict(
    state: &AppState,
    ctx: &Ctx,
    case_id: &str,
    e: &FileExpectation,
) -> WebResult<Option<Response>> {
    let u = crate::http::write::writer(ctx)?;
    let t = ctx.tr();
    let v = viewer(state, u);
    let mut c = state.db.read().await?;
    let k = cases::get(&mut c, &v, case_id).await?;
    let mut changes = case_changes(&t, &k, e);
    if e.resident_status.is_some() || e.resident_worker.is_some() {
        let r = residents::get(&mut c, &v, &k.resident_id).await?;
        changes.extend(resident_changes(&t, &r, e));
    }
    Ok(conflict_response(FileConflict {
        code: "conflict.file_changed",
        message: t.get("conflict.file_changed").to_owned(),
        changes,
        resident_id: Some(k.resident_id),
        resident_name: Some(k.resident_name),
        case_id: Some(k.id),
    }))
}

/// The signed-in session as the offline app needs it.
#[derive(Serialize, ToSchema)]
pub struct AppSession {
    pub user_id: String,
    pub display_name: String,
    /// Changes with every sign-in: the app re-encrypts what it holds when it sees a new one.
    pub session_tag: String,
    /// 32 bytes, hex: the AES-GCM key for what the app keeps on the device. Bound to this
    /// session and gone with it (sign-out, idle expiry, a disabled account).
    pub device_key: String,
    /// The session's CSRF token, for the app's writes.
    pub csrf_token: String,
    /// At most this many of the worker's own files are cached (`offline.max_files`).
    pub max_files: i64,
}

/// The offline app's session: its device key, CSRF token and bounds. Only for a browser
/// session (a token client has no session to bind a key to: 404).
#[utoipa::path(get, path = "/api/v1/app/session", tag = "people",
    responses((status = 200, body = AppSession), (status = 401, description = "Not signed in (the app wipes what it cached)"),
        (status = 404, description = "Called with an API token: there is no session")))]
pub async fn api_app_session(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let u = reader(&ctx)?;
    let (Some(hash), Some(csrf)) = (u.session_hash.as_deref(), u.csrf_token.as_deref()) else {
        return Err(WebError::NotFound);
    };
    let key = state.keys.lookup_hash("offline.device_key", hash);
    let tag = state.keys.lookup_hash("offline.session_tag", hash);
    let body = AppSession {
        user_id: u.user.id.clone(),
        display_name: u.user.display_name.clone(),
        session_tag: tag.get(..16).unwrap_or(&tag).to_owned(),
        device_key: key.get(..64).unwrap_or(&key).to_owned(),
        csrf_token: csrf.to_owned(),
        max_files: state.config.offline.max_files,
    };
    Ok(no_store(Json(body).into_response()))
}

fn no_store(mut res: Response) -> Response {
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, private"),
    );
    res
}

/// A resident file as the app caches it: no identity number, phone or address.
#[derive(Serialize, ToSchema)]
pub struct OfflineResident {
    pub id: String,
    pub name: String,
    pub region_path: String,
    pub risk_tier: String,
    pub status: String,
    pub worker_user_id: Option<String>,
    pub last_visit_on: Option<String>,
    pub next_visit_due: String,
    pub visit_interval_days: i64,
    /// The visit methods the region's rule allows for the person's tier (all when no rule).
    pub methods: Vec<String>,
}

/// An open case of the worker as the app caches it.
#[derive(Serialize, ToSchema)]
pub struct OfflineCase {
    pub id: String,
    pub resident_id: String,
    pub resident_name: String,
    pub stage: String,
    pub pending: String,
    pub problem: String,
    pub worker_user_id: Option<String>,
    pub updated_at: i64,
}

/// A code and its label in the caller's language.
#[derive(Serialize, ToSchema)]
pub struct Labelled {
    pub code: String,
    pub label: String,
}

/// The code lists the app's forms offer, labelled.
#[derive(Serialize, ToSchema)]
pub struct Catalogues {
    pub service_kinds: Vec<Labelled>,
    pub domains: Vec<Labelled>,
    pub methods: Vec<Labelled>,
    pub tiers: Vec<Labelled>,
    pub statuses: Vec<Labelled>,
    pub stages: Vec<Labelled>,
}

/// The worker's own data for offline use.
#[derive(Serialize, ToSchema)]
pub struct OfflineBundle {
    /// Epoch milliseconds.
    pub generated_at: i64,
    pub today: String,
    pub max_files: i64,
    /// The worker's active files, soonest visit due first, at most `max_files`.
    pub residents: Vec<OfflineResident>,
    /// How many the worker has in all (more than `residents` when the bound cut the list).
    pub residents_total: i64,
    /// The worker's open cases, at most `max_files`.
    pub cases: Vec<OfflineCase>,
    pub cases_total: i64,
    pub due: DueDto,
    pub catalogues: Catalogues,
}

/// The worker's due board: overdue, due today, due within seven days.
#[derive(Serialize, ToSchema)]
pub struct DueDto {
    pub overdue: i64,
    pub today: i64,
    pub week: i64,
}

fn labelled<T: Copy>(
    t: &Tr,
    prefix: &str,
    all: &[T],
    code: fn(&T) -> &'static str,
) -> Vec<Labelled> {
    all.iter()
        .map(|v| Labelled {
            code: code(v).to_owned(),
            label: t.get(&format!("{prefix}.{}", code(v))).to_owned(),
        })
        .collect()
}

fn catalogues(t: &Tr) -> Catalogues {
    Catalogues {
        service_kinds: labelled(t, "service.kind", ServiceKind::ALL, |v| v.as_str()),
        domains: labelled(t, "service.domain", ServiceDomain::ALL, |v| v.as_str()),
        methods: labelled(t, "visit.method", VisitMethod::ALL, |v| v.as_str()),
        tiers: labelled(t, "resident.tier", RiskTier::ALL, |v| v.as_str()),
        statuses: labelled(t, "resident.status", ResidentStatus::ALL, |v| v.as_str()),
        stages: labelled(t, "case.stage", CaseStage::ALL, |v| v.as_str()),
    }
}

/// The worker's active files, soonest visit due first, at most `max`, with the visit methods
/// each file's rule allows; and how many there are in all.
async fn own_files(
    c: &mut shegong_store::Conn,
    v: &residents::Viewer,
    max: i64,
) -> WebResult<(Vec<OfflineResident>, i64)> {
    let filter = residents::Filter {
        worker: Some(v.user_id.clone()),
        due_by: Some("9999-12-31".into()),
        ..Default::default()
    };
    let mut files = Vec::new();
    let mut total = 0;
    let mut page_no = 1;
    while (files.len() as i64) < max {
        let p = residents::list(c, v, &filter, PageRequest::new(Some(page_no), Some(200))).await?;
        total = p.total;
        let done = p.items.len() < 200;
        files.extend(p.items);
        if done {
            break;
        }
        page_no += 1;
    }
    files.truncate(usize::try_from(max).unwrap_or(0));
    let mut rules: std::collections::HashMap<String, Vec<visit_rules::Rule>> =
        std::collections::HashMap::new();
    let mut out = Vec::with_capacity(files.len());
    for r in files {
        if !rules.contains_key(&r.region_code) {
            let found = visit_rules::rules_for(c, &r.region_code).await?;
            rules.insert(r.region_code.clone(), found);
        }
        let methods = rules
            .get(&r.region_code)
            .and_then(|list| list.iter().find(|x| x.tier == r.risk_tier.as_str()))
            .map(|x| x.methods.clone())
            .unwrap_or_else(|| {
                VisitMethod::ALL
                    .iter()
                    .map(|m| m.as_str().to_owned())
                    .collect()
            });
        out.push(OfflineResident {
            region_path: shegong_domain::network::region::display_path(
                r.region_path.split('/').skip(2),
            ),
            id: r.id,
            name: r.name,
            risk_tier: r.risk_tier.as_str().to_owned(),
            status: r.status.as_str().to_owned(),
            worker_user_id: r.worker_user_id,
            last_visit_on: r.last_visit_on,
            next_visit_due: r.next_visit_due,
            visit_interval_days: r.visit_interval_days,
            methods,
        });
    }
    Ok((out, total))
}

/// The worker's own data for the offline app: their active files (soonest due first) and open
/// cases, each list bounded by `offline.max_files`, the visit methods each file's rule allows,
/// the due board and the code lists. No identity numbers, phones or addresses.
#[utoipa::path(get, path = "/api/v1/app/bundle", tag = "people",
    responses((status = 200, body = OfflineBundle), (status = 401, description = "Not signed in")))]
pub async fn api_app_bundle(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let u = reader(&ctx)?;
    let t = ctx.tr();
    let v = viewer(&state, u);
    let max = state.config.offline.max_files;
    let mut c = state.db.read().await?;
    let (out_files, residents_total) = own_files(&mut c, &v, max).await?;
    let case_filter = cases::Filter {
        worker: Some(v.user_id.clone()),
        state: Some("open".into()),
        ..Default::default()
    };
    let mut open = Vec::new();
    let mut cases_total = 0;
    let mut page_no = 1;
    while (open.len() as i64) < max {
        let p = cases::list(
            &mut c,
            &v,
            &case_filter,
            PageRequest::new(Some(page_no), Some(200)),
        )
        .await?;
        cases_total = p.total;
        let done = p.items.len() < 200;
        open.extend(p.items);
        if done {
            break;
        }
        page_no += 1;
    }
    open.truncate(usize::try_from(max).unwrap_or(0));
    let due = visit_rules::due_counts(&mut c, &v, Some(&v.user_id)).await?;
    drop(c);
    let body = OfflineBundle {
        generated_at: state.now(),
        today: v.today.to_string(),
        max_files: max,
        residents: out_files,
        residents_total,
        cases: open
            .into_iter()
            .map(|k| OfflineCase {
                id: k.id,
                resident_id: k.resident_id,
                resident_name: k.resident_name,
                stage: k.stage.as_str().to_owned(),
                pending: k.pending,
                problem: k.problem,
                worker_user_id: k.worker_user_id,
                updated_at: k.updated_at,
            })
            .collect(),
        cases_total,
        due: DueDto {
            overdue: due.overdue,
            today: due.today,
            week: due.week,
        },
        catalogues: catalogues(&t),
    };
    Ok(no_store(Json(body).into_response()))
}

#[derive(Template)]
#[template(path = "people/app.html")]
struct AppShell {
    t: Tr,
    lang: String,
    css: &'static str,
    js: &'static str,
    icon: &'static str,
    /// The messages the app's script shows, as JSON (`offline.*` keys without the prefix).
    msgs: String,
}

/// The `offline.*` messages the script needs.
pub(crate) const SCRIPT_MESSAGES: &[&str] = &[
    "online",
    "offline",
    "syncing",
    "synced",
    "all_synced",
    "pending",
    "conflicts",
    "failed",
    "waiting_network",
    "queue_empty",
    "due_counts",
    "no_residents",
    "no_cases",
    "record_visit",
    "add_note",
    "visit_of",
    "note_of",
    "queued",
    "kind_visit",
    "kind_note",
    "state_pending",
    "state_conflict",
    "state_failed",
    "conflict_detail",
    "submit_anyway",
    "discard",
    "discard_confirm",
    "overdue",
    "due_on",
    "cached",
    "truncated",
    "not_cached",
    "signed_out",
    "other_account",
    "field_resident_status",
    "field_resident_worker",
    "field_case_stage",
    "field_case_worker",
];

fn script_messages(t: &Tr) -> String {
    let map: serde_json::Map<String, serde_json::Value> = SCRIPT_MESSAGES
        .iter()
        .map(|k| {
            (
                (*k).to_owned(),
                serde_json::Value::from(t.get(&format!("offline.{k}"))),
            )
        })
        .collect();
    serde_json::Value::Object(map).to_string()
}

/// `/app`: the offline app's shell. It holds no personal data (the app fills it from its
/// encrypted store and the API), so the service worker may keep it for offline starts.
pub async fn app_page(State(_state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    if ctx.user.is_none() {
        return Ok(Redirect::to("/login?next=/app").into_response());
    }
    let t = ctx.tr();
    let shell = AppShell {
        lang: t.lang.code().to_owned(),
        css: assets::url("app.css"),
        js: assets::url("offline.js"),
        icon: assets::url("icon-192.png"),
        msgs: script_messages(&t),
        t,
    };
    Ok(page(StatusCode::OK, &shell))
}

/// The files the service worker keeps for offline starts (the shell and its assets).
fn shell_files() -> Vec<&'static str> {
    vec![
        "/app",
        "/app.webmanifest",
        assets::url("app.css"),
        assets::url("offline.js"),
        assets::url("icon-192.png"),
        assets::url("icon-512.png"),
    ]
}

/// `/sw.js`: the service worker, with this build's shell list (a new build is a new worker,
/// which drops the old cache). Served from the root, controlling `/app` only.
pub async fn service_worker() -> Response {
    let files = shell_files();
    let list = serde_json::to_string(&files).unwrap_or_else(|_| "[]".into());
    let version = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(list.as_bytes()))
            .get(..12)
            .unwrap_or("0")
            .to_owned()
    };
    let body = include_str!("../../assets/sw.js")
        .replace("\"__SHELL__\"", &list)
        .replace("__VERSION__", &version);
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// `/app.webmanifest`: makes `/app` installable.
pub async fn manifest(ctx: Ctx) -> Response {
    let t = ctx.tr();
    let body = serde_json::json!({
        "name": t.get("offline.app_name"),
        "short_name": t.get("offline.short_name"),
        "start_url": "/app",
        "scope": "/app",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#1d5fa8",
        "lang": t.lang.code(),
        "icons": [
            {"src": assets::url("icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": assets::url("icon-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "any maskable"}
        ]
    });
    (
        [
            (header::CONTENT_TYPE, "application/manifest+json"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body.to_string(),
    )
        .into_response()
}
