//! 供需对接 (`/matching`, `/api/v1/needs`, `/api/v1/resources`, `/api/v1/matches`,
//! `/api/v1/community-lists`), issue 16 item 4: needs registered from issues, assessments,
//! tickets and visits; resources read from the records; the matcher's proposals with a score and
//! reasons in plain words (and the same-day throttle); matches confirmed, executed into service
//! records and completed; a community's three lists per month with the township's approval.
//! Every write is audited.

pub mod api;
pub mod pages;

use axum::Router;
use axum::routing::{get, post};
use shegong_domain::matching::{
    DayPart, HelpKind, MatchStep, NeedSource, NeedSubject, Reason, ResourceKind,
};
use shegong_domain::{FieldError, Permission, RegionCode};
use shegong_store::admin::audit::Change;
use shegong_store::matching::lists;
use shegong_store::matching::matches::{self as mm, ExecuteInput, ProposeInput, StepInput};
use shegong_store::matching::needs::{self as nd, NeedInput};
use utoipa::OpenApi;

use crate::http::area::{Area, MenuSection, messages};
use crate::http::auth::Ctx;
use crate::http::error::WebResult;
use crate::http::state::AppState;
use crate::http::write::{Done, Entry, WorkWith, write_or_invalid};
use crate::ui::forms::{Check, FormData, format_yuan, today};
use crate::ui::i18n::Tr;

pub const AREA: Area = Area {
    messages: messages!("matching"),
    importers: &[],
    routes,
    api: || Api::openapi(),
    menu: &[MenuSection {
        rank: 48,
        group: "menu.group.community",
        entries: &[
            ("menu.needs", "/matching/needs", Some(Permission::ReadData)),
            (
                "menu.resources",
                "/matching/resources",
                Some(Permission::ReadData),
            ),
            (
                "menu.community_lists",
                "/matching/lists",
                Some(Permission::ReadData),
            ),
        ],
    }],
};

#[derive(OpenApi)]
#[openapi(
    paths(api::list_needs, api::create_need, api::get_need, api::candidates, api::cancel_need,
        api::list_resources, api::list_matches, api::create_match, api::get_match, api::step_match,
        api::community_lists, api::approve_lists),
    tags((name = "matching", description = "供需对接: needs, resources read from the records, the matcher's proposals with reasons, matches from proposal to completion, and a community's three lists with the township's approval"))
)]
struct Api;

fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/matching/needs",
            get(pages::needs_page).post(pages::create_need_page),
        )
        .route("/matching/needs/new", get(pages::new_need_page))
        .route("/matching/needs/export.xlsx", get(pages::needs_export))
        .route("/matching/needs/{id}", get(pages::need_page))
        .route("/matching/needs/{id}/propose", post(pages::propose_page))
        .route("/matching/needs/{id}/cancel", post(pages::cancel_page))
        .route("/matching/matches/{id}/step", post(pages::step_page))
        .route("/matching/resources", get(pages::resources_page))
        .route(
            "/matching/resources/export.xlsx",
            get(pages::resources_export),
        )
        .route("/matching/lists", get(pages::lists_page))
        .route("/matching/lists/approve", post(pages::approve_page))
        .route("/matching/lists/{list}", get(pages::list_export))
        .route("/api/v1/needs", get(api::list_needs).post(api::create_need))
        .route("/api/v1/needs/{id}", get(api::get_need))
        .route("/api/v1/needs/{id}/candidates", get(api::candidates))
        .route("/api/v1/needs/{id}/cancel", post(api::cancel_need))
        .route("/api/v1/resources", get(api::list_resources))
        .route(
            "/api/v1/matches",
            get(api::list_matches).post(api::create_match),
        )
        .route("/api/v1/matches/{id}", get(api::get_match))
        .route("/api/v1/matches/{id}/step", post(api::step_match))
        .route("/api/v1/community-lists", get(api::community_lists))
        .route("/api/v1/community-lists/approve", post(api::approve_lists))
}

/// The matching codes as OpenAPI enums.
pub mod code {
    use shegong_domain::matching::{
        DayPart, HelpKind, MatchState, MatchStep, NeedSource, NeedState, NeedSubject, ResourceKind,
    };
    use utoipa::openapi::schema::Object;

    use crate::http::api::code::one_of;

    pub fn help_kind() -> Object {
        one_of(HelpKind::ALL.iter().map(|v| v.as_str()))
    }
    pub fn resource_kind() -> Object {
        one_of(ResourceKind::ALL.iter().map(|v| v.as_str()))
    }
    pub fn subject() -> Object {
        one_of(NeedSubject::ALL.iter().map(|v| v.as_str()))
    }
    pub fn source() -> Object {
        one_of(NeedSource::ALL.iter().map(|v| v.as_str()))
    }
    pub fn need_state() -> Object {
        one_of(NeedState::ALL.iter().map(|v| v.as_str()))
    }
    pub fn match_state() -> Object {
        one_of(MatchState::ALL.iter().map(|v| v.as_str()))
    }
    pub fn step() -> Object {
        one_of(MatchStep::ALL.iter().map(|v| v.as_str()))
    }
    pub fn day_part() -> Object {
        one_of(DayPart::ALL.iter().map(|v| v.as_str()))
    }
    pub fn list() -> Object {
        one_of(super::LISTS)
    }
}

/// The three lists, as their URL and export names.
pub const LISTS: [&str; 3] = ["needs", "resources", "services"];

fn some(s: String) -> Option<String> {
    Some(s).filter(|s| !s.trim().is_empty())
}

/// A reason of the matcher in the reader's language.
pub fn reason_text(t: &Tr, r: &Reason) -> String {
    let arg = if r.key == "match.why.remaining_fund" {
        r.arg
            .parse::<i64>()
            .map(format_yuan)
            .unwrap_or_else(|_| r.arg.clone())
    } else {
        r.arg.clone()
    };
    t.fmt(&r.key, &[("arg", &arg)])
}

/// Parse the new-need form (or API body in its shape); every refused field named.
pub fn need_input(f: &FormData, today: &str) -> Result<NeedInput, Vec<FieldError>> {
    let mut c = Check::default();
    let subject = c.take(NeedSubject::parse(f.get("subject")));
    let resident_id = some(c.opt_text("resident_id", f.get("resident_id").trim(), 64));
    let household_id = some(c.opt_text("household_id", f.get("household_id").trim(), 64));
    let region_text = f.get("region").trim();
    let region = if region_text.is_empty() {
        None
    } else {
        c.region("region", region_text)
    };
    let station_id = some(c.opt_text("station", f.get("station").trim(), 64));
    let help_kind = c.take(HelpKind::parse(f.get("help_kind")));
    let title = c.text("title", f.get("title").trim(), 100);
    let description = c.opt_text("description", f.get("description").trim(), 2000);
    let quantity = if help_kind == Some(HelpKind::Money) && !f.get("amount").trim().is_empty() {
        c.yuan("amount", f.get("amount").trim())
    } else {
        c.int("quantity", f.get("quantity").trim(), 0, 1_000_000, 0)
    };
    let wanted = f.get("wanted_on").trim();
    let wanted_on = (!wanted.is_empty()).then(|| c.date("wanted_on", wanted));
    let part = f.get("day_part").trim();
    let day_part = if part.is_empty() {
        None
    } else {
        c.take(DayPart::parse(part))
    };
    let source_text = f.get("source").trim();
    let source = if source_text.is_empty() {
        Some(NeedSource::Other)
    } else {
        c.take(NeedSource::parse(source_text))
    };
    let source_id = some(c.opt_text("source_id", f.get("source_id").trim(), 64));
    if subject == Some(NeedSubject::Community) && region.is_none() && region_text.is_empty() {
        c.fail("region", "form.required");
    }
    c.finish()?;
    let (Some(subject), Some(help_kind), Some(source)) = (subject, help_kind, source) else {
        return Err(vec![FieldError::new("subject", "form.required")]);
    };
    let input = NeedInput {
        subject,
        resident_id: resident_id.filter(|_| subject == NeedSubject::Person),
        household_id: household_id.filter(|_| subject == NeedSubject::Household),
        region,
        station_id,
        help_kind,
        title,
        description,
        quantity,
        wanted_on,
        day_part,
        source,
        source_id: source_id.filter(|_| source != NeedSource::Other),
    };
    let errors = input.validate(today);
    if errors.is_empty() {
        Ok(input)
    } else {
        Err(errors)
    }
}

/// Parse a proposal (form or API body in its shape).
pub fn propose_input(f: &FormData) -> Result<ProposeInput, Vec<FieldError>> {
    let mut c = Check::default();
    let need_id = c.text("need_id", f.get("need_id").trim(), 64);
    let kind = c.take(ResourceKind::parse(f.get("resource_kind")));
    let resource_id = c.text("resource_id", f.get("resource_id").trim(), 64);
    let resource_item = c.opt_text("resource_item", f.get("resource_item").trim(), 100);
    c.finish()?;
    let kind = kind.ok_or_else(|| vec![FieldError::new("resource_kind", "form.required")])?;
    Ok(ProposeInput {
        need_id,
        resource_kind: kind,
        resource_id,
        resource_item,
    })
}

/// Parse a step (form or API body in its shape); execution's fields only for `execute`.
pub fn step_input(f: &FormData, today: &str) -> Result<StepInput, Vec<FieldError>> {
    let mut c = Check::default();
    let step = c.take(MatchStep::parse(f.get("step")));
    let reason = c.opt_text("reason", f.get("reason").trim(), 200);
    let mut execute = ExecuteInput::default();
    if step == Some(MatchStep::Execute) {
        let served = f.get("served_on").trim();
        execute.served_on = if served.is_empty() {
            today.to_owned()
        } else {
            c.date("served_on", served)
        };
        execute.duration_minutes = c.int(
            "duration_minutes",
            f.get("duration_minutes").trim(),
            1,
            1440,
            0,
        );
        if execute.duration_minutes == 0 {
            c.fail("duration_minutes", "form.required");
        }
        execute.person_times = c.int("person_times", f.get("person_times").trim(), 1, 100_000, 1);
        execute.workers = c.text("workers", f.get("workers").trim(), 200);
        execute.notes = c.opt_text("notes", f.get("notes").trim(), 2000);
        let q = f.get("quantity").trim();
        execute.quantity = if q.is_empty() {
            None
        } else {
            Some(c.int("quantity", q, 1, 100_000_000_000, 1))
        };
    }
    c.finish()?;
    let step = step.ok_or_else(|| vec![FieldError::new("step", "match.step_unknown")])?;
    Ok(StepInput {
        step,
        reason,
        execute,
    })
}

/// Register a need; returns its id.
pub async fn create_need(state: &AppState, ctx: &Ctx, input: NeedInput) -> WebResult<String> {
    let now = state.now();
    let viewer = crate::people::residents::viewer(state, ctx.user()?);
    write_or_invalid(
        state,
        ctx,
        Entry::new("need", "create"),
        move |conn, _scope, by| -> WorkWith<'_, String> {
            Box::pin(async move {
                let id = nd::create(conn, &viewer, &input, (&by, now)).await?;
                let n = nd::get(conn, &viewer.scope, &id).await?;
                let done = Done {
                    entity_id: id.clone(),
                    region: Some(n.region_code),
                    changes: vec![
                        Change::new("help_kind", None::<String>, Some(n.help_kind.as_str())),
                        Change::new("title", None::<String>, Some(n.title)),
                    ],
                };
                Ok((done, id))
            })
        },
    )
    .await
}

/// Cancel an open need with a reason (its live matches are abandoned with it).
pub async fn cancel_need(state: &AppState, ctx: &Ctx, id: String, reason: String) -> WebResult<()> {
    let now = state.now();
    write_or_invalid(
        state,
        ctx,
        Entry::new("need", "cancel"),
        move |conn, scope, _by| -> WorkWith<'_, ()> {
            Box::pin(async move {
                let before = nd::cancel(conn, &scope, &id, &reason, now).await?;
                let done = Done {
                    entity_id: id,
                    region: Some(before.region_code),
                    changes: vec![
                        Change::new("state", Some(before.state.as_str()), Some("cancelled")),
                        Change::new("reason", None::<String>, Some(reason)),
                    ],
                };
                Ok((done, ()))
            })
        },
    )
    .await
}

/// Propose a resource for a need; returns the match's id.
pub async fn propose(state: &AppState, ctx: &Ctx, input: ProposeInput) -> WebResult<String> {
    let now = state.now();
    let viewer = crate::people::residents::viewer(state, ctx.user()?);
    write_or_invalid(
        state,
        ctx,
        Entry::new("match", "create"),
        move |conn, _scope, by| -> WorkWith<'_, String> {
            Box::pin(async move {
                let id = mm::propose(conn, &viewer, &input, (&by, now)).await?;
                let m = mm::get(conn, &viewer.scope, &id).await?;
                let done = Done {
                    entity_id: id.clone(),
                    region: Some(m.region_code),
                    changes: vec![
                        Change::new("need_id", None::<String>, Some(m.need_id)),
                        Change::new(
                            "resource_kind",
                            None::<String>,
                            Some(m.resource_kind.as_str()),
                        ),
                        Change::new("resource_label", None::<String>, Some(m.resource_label)),
                        Change::new("score", None::<String>, Some(m.score)),
                    ],
                };
                Ok((done, id))
            })
        },
    )
    .await
}

/// Take a step on a match.
pub async fn step(state: &AppState, ctx: &Ctx, id: String, input: StepInput) -> WebResult<()> {
    let now = state.now();
    let viewer = crate::people::residents::viewer(state, ctx.user()?);
    let app = state.clone();
    write_or_invalid(
        state,
        ctx,
        Entry::new("match", "transition"),
        move |conn, _scope, by| -> WorkWith<'_, ()> {
            Box::pin(async move {
                let before = mm::step(conn, &viewer, &app.keys, &id, &input, (&by, now)).await?;
                let after = mm::get(conn, &viewer.scope, &id).await?;
                let mut changes = vec![Change::new(
                    "state",
                    Some(before.state.as_str()),
                    Some(after.state.as_str()),
                )];
                if after.service_id != before.service_id {
                    changes.push(Change::new(
                        "service_id",
                        None::<String>,
                        after.service_id.clone(),
                    ));
                }
                if after.disbursement_id != before.disbursement_id {
                    changes.push(Change::new(
                        "disbursement_id",
                        None::<String>,
                        after.disbursement_id.clone(),
                    ));
                }
                if !input.reason.is_empty() {
                    changes.push(Change::new("reason", None::<String>, Some(input.reason)));
                }
                let done = Done {
                    entity_id: id,
                    region: Some(after.region_code),
                    changes,
                };
                Ok((done, ()))
            })
        },
    )
    .await
}

/// Approve a community's three lists for a month (a township reader with `Supervise`).
pub async fn approve(
    state: &AppState,
    ctx: &Ctx,
    region: RegionCode,
    period: String,
) -> WebResult<String> {
    let now = state.now();
    write_or_invalid(
        state,
        ctx,
        Entry::new("community_list", "approve").requiring(Permission::Supervise),
        move |conn, scope, by| -> WorkWith<'_, String> {
            Box::pin(async move {
                let digest = lists::approve(conn, &scope, &region, &period, (&by, now)).await?;
                let done = Done {
                    entity_id: format!("{region}/{period}"),
                    region: Some(region.to_string()),
                    changes: vec![Change::new("digest", None::<String>, Some(digest.clone()))],
                };
                Ok((done, digest))
            })
        },
    )
    .await
}

/// Today as the reader's forms check it.
pub fn today_of(state: &AppState) -> String {
    today(state.now())
}
