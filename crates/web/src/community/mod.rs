//! 急难愁盼 (`/community-issues`, `/api/v1/issues`), issue 16 item 3: community issues on a
//! colour-coded ledger — red, yellow, blue by urgency with due times by the region's policy
//! (`[community.issue_due]`), green once answered with feedback — through 登记 → 核实 → 分派 →
//! 办理 → 反馈 → 评价 → 归档, and the weekly or monthly view per community computed from the
//! records. Every write is audited.

pub mod api;
pub mod issues;

use axum::Router;
use axum::routing::{get, post};
use shegong_domain::community::{Category, Colour, Rating, Responsibility, Source, Step, Subject};
use shegong_domain::{FieldError, Permission};
use shegong_store::admin::audit::Change;
use shegong_store::community::{self as cm, IssueInput, StepInput};
use utoipa::OpenApi;

use crate::http::area::{Area, MenuSection, messages};
use crate::http::auth::Ctx;
use crate::http::error::WebResult;
use crate::http::state::AppState;
use crate::http::write::{Done, Entry, WorkWith, write_or_invalid};
use crate::ui::forms::{Check, FormData};

pub const AREA: Area = Area {
    messages: messages!("community"),
    importers: &[],
    routes,
    api: || Api::openapi(),
    menu: &[MenuSection {
        rank: 47,
        group: "menu.group.community",
        entries: &[
            (
                "menu.community_issues",
                "/community-issues",
                Some(Permission::ReadData),
            ),
            (
                "menu.community_tally",
                "/community-issues/tally",
                Some(Permission::ReadData),
            ),
        ],
    }],
};

#[derive(OpenApi)]
#[openapi(
    paths(api::list, api::create, api::get, api::step, api::tally),
    tags((name = "community", description = "急难愁盼: community issues on a colour-coded ledger with due times by policy, their flow and the tally per community"))
)]
struct Api;

fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/community-issues",
            get(issues::list_page).post(issues::create_page),
        )
        .route("/community-issues/new", get(issues::new_page))
        .route("/community-issues/export.xlsx", get(issues::export))
        .route("/community-issues/tally", get(issues::tally_page))
        .route("/community-issues/tally.xlsx", get(issues::tally_export))
        .route("/community-issues/{id}", get(issues::detail_page))
        .route("/community-issues/{id}/step", post(issues::step_page))
        .route("/api/v1/issues", get(api::list).post(api::create))
        .route("/api/v1/issues/tally", get(api::tally))
        .route("/api/v1/issues/{id}", get(api::get))
        .route("/api/v1/issues/{id}/step", post(api::step))
}

/// The community codes as OpenAPI enums.
pub mod code {
    use shegong_domain::community::{
        Category, Colour, IssueState, Responsibility, Source, Subject,
    };
    use utoipa::openapi::schema::Object;

    use crate::http::api::code::one_of;

    pub fn colour() -> Object {
        one_of(Colour::ALL.iter().map(|v| v.as_str()))
    }
    pub fn subject() -> Object {
        one_of(Subject::ALL.iter().map(|v| v.as_str()))
    }
    pub fn source() -> Object {
        one_of(Source::ALL.iter().map(|v| v.as_str()))
    }
    pub fn category() -> Object {
        one_of(Category::ALL.iter().map(|v| v.as_str()))
    }
    pub fn responsibility() -> Object {
        one_of(Responsibility::ALL.iter().map(|v| v.as_str()))
    }
    pub fn state() -> Object {
        one_of(IssueState::ALL.iter().map(|v| v.as_str()))
    }
    /// The steps an issue is moved by (it is registered when created).
    pub fn step() -> Object {
        one_of(STEPS)
    }
    pub const STEPS: [&str; 9] = [
        "verify",
        "dismiss",
        "assign",
        "handle",
        "answer",
        "rate_satisfied",
        "rate_fair",
        "rate_unsatisfied",
        "archive",
    ];
}

fn some(s: String) -> Option<String> {
    Some(s).filter(|s| !s.trim().is_empty())
}

/// Parse the new-issue form (or API body in its shape); every refused field named.
pub fn issue_input(f: &FormData) -> Result<IssueInput, Vec<FieldError>> {
    let mut c = Check::default();
    let subject = c.take(Subject::parse(f.get("subject")));
    let resident_id = some(c.opt_text("resident_id", f.get("resident_id").trim(), 64));
    let household_id = some(c.opt_text("household_id", f.get("household_id").trim(), 64));
    let region_text = f.get("region").trim();
    let region = if region_text.is_empty() {
        None
    } else {
        c.region("region", region_text)
    };
    let station_id = some(c.opt_text("station", f.get("station").trim(), 64));
    let source = c.take(Source::parse(f.get("origin")));
    let source_ref = c.opt_text("source_ref", f.get("source_ref").trim(), 100);
    let category = c.take(Category::parse(f.get("category")));
    let title = c.text("title", f.get("title").trim(), 100);
    let description = c.opt_text("description", f.get("description").trim(), 2000);
    let colour = c.take(Colour::parse(f.get("colour")));
    if subject == Some(Subject::Community) && region.is_none() && region_text.is_empty() {
        c.fail("region", "form.required");
    }
    c.finish()?;
    let (Some(subject), Some(source), Some(category), Some(colour)) =
        (subject, source, category, colour)
    else {
        return Err(vec![FieldError::new("subject", "form.required")]);
    };
    let input = IssueInput {
        subject,
        resident_id: resident_id.filter(|_| subject == Subject::Person),
        household_id: household_id.filter(|_| subject == Subject::Household),
        region,
        station_id,
        source,
        source_ref,
        category,
        title,
        description,
        colour,
    };
    let errors = input.validate();
    if errors.is_empty() {
        Ok(input)
    } else {
        Err(errors)
    }
}

/// Parse a step form (or API body in its shape).
pub fn step_input(f: &FormData) -> Result<StepInput, Vec<FieldError>> {
    let mut c = Check::default();
    let step = match f.get("step").trim() {
        "verify" => Some(Step::Verify),
        "dismiss" => Some(Step::Dismiss),
        "assign" => Some(Step::Assign),
        "handle" => Some(Step::Handle),
        "answer" => Some(Step::Answer),
        "rate_satisfied" => Some(Step::Rate(Rating::Satisfied)),
        "rate_fair" => Some(Step::Rate(Rating::Fair)),
        "rate_unsatisfied" => Some(Step::Rate(Rating::Unsatisfied)),
        "archive" => Some(Step::Archive),
        _ => {
            c.fail("step", "issue.step_unknown");
            None
        }
    };
    let r = f.get("responsibility").trim();
    let responsibility = if r.is_empty() {
        None
    } else {
        c.take(Responsibility::parse(r))
    };
    let handler = c.opt_text("handler", f.get("handler").trim(), 100);
    let note = c.opt_text("note", f.get("note").trim(), 2000);
    c.finish()?;
    let step = step.ok_or_else(|| vec![FieldError::new("step", "issue.step_unknown")])?;
    Ok(StepInput {
        step,
        responsibility,
        handler,
        note,
    })
}

/// Register an issue; returns its id.
pub async fn create(state: &AppState, ctx: &Ctx, input: IssueInput) -> WebResult<String> {
    let now = state.now();
    let viewer = crate::people::residents::viewer(state, ctx.user()?);
    let rules = state.config.community.clone();
    write_or_invalid(
        state,
        ctx,
        Entry::new("community_issue", "create"),
        move |conn, _scope, by| -> WorkWith<'_, String> {
            Box::pin(async move {
                let policy = move |region: &str| rules.issue_policy(region);
                let id = cm::create(conn, &viewer, &input, &policy, (&by, now)).await?;
                let i = cm::get(conn, &viewer.scope, &id).await?;
                let done = Done {
                    entity_id: id.clone(),
                    region: Some(i.region_code),
                    changes: vec![
                        Change::new("issue_no", None::<String>, Some(i.issue_no)),
                        Change::new("colour", None::<String>, Some(i.colour.as_str())),
                        Change::new("category", None::<String>, Some(i.category.as_str())),
                    ],
                };
                Ok((done, id))
            })
        },
    )
    .await
}

/// Take a step on an issue.
pub async fn step(state: &AppState, ctx: &Ctx, id: String, input: StepInput) -> WebResult<()> {
    let now = state.now();
    write_or_invalid(
        state,
        ctx,
        Entry::new("community_issue", "transition"),
        move |conn, scope, by| -> WorkWith<'_, ()> {
            Box::pin(async move {
                let before = cm::step(conn, &scope, &id, &input, (&by, now)).await?;
                let after = cm::get(conn, &scope, &id).await?;
                let done = Done {
                    entity_id: id,
                    region: Some(after.region_code.clone()),
                    changes: vec![
                        Change::new(
                            "state",
                            Some(before.state.as_str()),
                            Some(after.state.as_str()),
                        ),
                        Change::new("note", None::<String>, Some(input.note)),
                    ],
                };
                Ok((done, ()))
            })
        },
    )
    .await
}
