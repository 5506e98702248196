//! The evaluation area's changes, one function each for the pages and the API: every one goes
//! through `write_or_invalid` with its audit entry, so both check, scope and audit alike.
//! Evaluators read business data only, yet score what is assigned to them: the entries need
//! `ReadData`, and who may do what on an evaluation is the store's rule.

use shegong_domain::purchase::evaluation::{EvaluationState, RectificationState};
use shegong_domain::{Permission, Role};
use shegong_store::admin::audit::Change;
use shegong_store::purchase::evaluations::{
    self as evals, EvaluationInput, Moved, Rectification, RectificationInput, ScoreText, input_text,
};
use shegong_store::purchase::indicator_trees::{self as trees, TreeInput};

use crate::http::auth::{Ctx, CurrentUser, reader};
use crate::http::error::{WebError, WebResult};
use crate::http::state::AppState;
use crate::http::write::{Done, Entry, WorkWith, write_or_invalid};
use crate::purchase::contracts::today_date;
use crate::purchase::writes::purchaser;

/// The signed-in user if they take part in evaluations: an evaluator, or anyone who changes
/// business data (the purchaser; the provider's manager for its rectifications).
pub fn participant(ctx: &Ctx) -> WebResult<&CurrentUser> {
    let u = reader(ctx)?;
    if u.can(Permission::WriteData) || u.role() == Role::Evaluator {
        Ok(u)
    } else {
        Err(WebError::Forbidden)
    }
}

const fn entry(entity: &'static str, action: &'static str) -> Entry {
    Entry::new(entity, action).requiring(Permission::ReadData)
}

/// Plan an evaluation of a contract; returns its id.
pub async fn create(state: &AppState, ctx: &Ctx, input: EvaluationInput) -> WebResult<String> {
    purchaser(ctx)?;
    let now = state.now();
    write_or_invalid(
        state,
        ctx,
        Entry::new("evaluation", "create"),
        move |conn, scope, by| -> WorkWith<'_, String> {
            Box::pin(async move {
                let id = evals::create(conn, &scope, &input, &by, now).await?;
                let ev = evals::get(conn, &scope, &id).await?;
                let after =
                    |field: &str, value: String| Change::new(field, None::<String>, Some(value));
                let mut changes = vec![
                    after("contract", ev.contract_id.clone()),
                    after("kind", ev.kind.to_string()),
                    after("planned_on", ev.planned_on.to_string()),
                    after("tree", format!("{} v{}", ev.tree_id, ev.tree_version)),
                ];
                if let Some(org) = &ev.evaluator_org_id {
                    changes.push(after("evaluator_org", org.clone()));
                }
                let done = Done {
                    entity_id: id.clone(),
                    region: Some(ev.region_code),
                    changes,
                };
                Ok((done, id))
            })
        },
    )
    .await
}

/// Assign (or change) the evaluation organisation while the evaluation is planned; purchasers
/// only, with the conflict-of-interest check.
pub async fn assign(state: &AppState, ctx: &Ctx, id: &str, org: String) -> WebResult<()> {
    purchaser(ctx)?;
    let (id, now) = (id.to_owned(), state.now());
    write_or_invalid(
        state,
        ctx,
        Entry::new("evaluation", "update").only_if_changed(),
        move |conn, scope, _| -> WorkWith<'_, ()> {
            Box::pin(async move {
                let before = evals::assign(conn, &scope, &id, &org, now).await?;
                let ev = evals::get(conn, &scope, &id).await?;
                let changes = if before.as_deref() == Some(org.as_str()) {
                    vec![]
                } else {
                    vec![Change::new("evaluator_org", before, Some(org))]
                };
                let done = Done {
                    entity_id: id,
                    region: Some(ev.region_code),
                    changes,
                };
                Ok((done, ()))
            })
        },
    )
    .await
}

/// Enter or clear node inputs; returns how many nodes changed. Filed only when one did.
pub async fn scores(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    entries: Vec<ScoreText>,
) -> WebResult<usize> {
    participant(ctx)?;
    let (id, now) = (id.to_owned(), state.now());
    write_or_invalid(
        state,
        ctx,
        entry("evaluation", "assess").only_if_changed(),
        move |conn, scope, by| -> WorkWith<'_, usize> {
            Box::pin(async move {
                let (ev, changed) =
                    evals::enter_scores(conn, &scope, &id, &entries, &by, now).await?;
                let text = |i: &Option<shegong_domain::purchase::indicator::Input>| {
                    i.as_ref().map(|i| {
                        let (value, reason) = input_text(i);
                        if reason.is_empty() {
                            value
                        } else {
                            format!("{value} ({reason})")
                        }
                    })
                };
                let changes: Vec<Change> = changed
                    .iter()
                    .map(|c| {
                        Change::new(
                            &format!("score.{}", c.node),
                            text(&c.before),
                            text(&c.after),
                        )
                    })
                    .collect();
                let n = changes.len();
                let done = Done {
                    entity_id: id,
                    region: Some(ev.region_code),
                    changes,
                };
                Ok((done, n))
            })
        },
    )
    .await
}

/// Move an evaluation; the final score assesses the instalments it triggers (in the same
/// audited write).
pub async fn move_state(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    to: EvaluationState,
) -> WebResult<Moved> {
    participant(ctx)?;
    let (id, now) = (id.to_owned(), state.now());
    let today = today_date(now);
    write_or_invalid(
        state,
        ctx,
        entry("evaluation", "transition"),
        move |conn, scope, _| -> WorkWith<'_, Moved> {
            Box::pin(async move {
                let moved = evals::set_state(conn, &scope, &id, to, today, now).await?;
                let ev = &moved.evaluation;
                let mut changes = vec![Change::new("state", Some(moved.before), Some(to))];
                if let Some(r) = ev.result {
                    changes.push(Change::new("total_points", None::<String>, Some(r.total)));
                    changes.push(Change::new("max_points", None::<String>, Some(r.max)));
                    changes.push(Change::new("grade", None::<String>, Some(r.grade)));
                }
                for (before, after) in &moved.assessed {
                    changes.push(Change::new(
                        &format!("instalment.{}", after.seq),
                        Some(before.state),
                        Some(after.state),
                    ));
                    changes.push(Change::new(
                        &format!("instalment.{}.payable_fen", after.seq),
                        None::<String>,
                        after.payable.map(|p| p.0),
                    ));
                }
                let done = Done {
                    entity_id: id,
                    region: Some(ev.region_code.clone()),
                    changes,
                };
                Ok((done, moved))
            })
        },
    )
    .await
}

/// Set a rectification task.
pub async fn add_rectification(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    input: RectificationInput,
) -> WebResult<Rectification> {
    participant(ctx)?;
    let (id, now) = (id.to_owned(), state.now());
    write_or_invalid(
        state,
        ctx,
        entry("rectification", "create"),
        move |conn, scope, by| -> WorkWith<'_, Rectification> {
            Box::pin(async move {
                let (ev, r) = evals::add_rectification(conn, &scope, &id, &input, &by, now).await?;
                let after =
                    |field: &str, value: String| Change::new(field, None::<String>, Some(value));
                let done = Done {
                    entity_id: r.id.clone(),
                    region: Some(ev.region_code),
                    changes: vec![
                        after("evaluation", id),
                        after("seq", r.seq.to_string()),
                        after("description", r.description.clone()),
                        after("owner", r.owner.clone()),
                        after("deadline", r.deadline.to_string()),
                    ],
                };
                Ok((done, r))
            })
        },
    )
    .await
}

/// Submit, accept or reject a rectification task.
pub async fn move_rectification(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    seq: i64,
    to: RectificationState,
    evidence: String,
) -> WebResult<Rectification> {
    participant(ctx)?;
    let (id, now) = (id.to_owned(), state.now());
    write_or_invalid(
        state,
        ctx,
        entry("rectification", "transition"),
        move |conn, scope, _| -> WorkWith<'_, Rectification> {
            Box::pin(async move {
                let (ev, before, after) =
                    evals::move_rectification(conn, &scope, &id, seq, to, &evidence, now).await?;
                let mut changes = vec![
                    Change::new("evaluation", None::<String>, Some(&id)),
                    Change::new("seq", None::<String>, Some(seq)),
                    Change::new("state", Some(before.state), Some(after.state)),
                ];
                if before.evidence != after.evidence {
                    changes.push(Change::new(
                        "evidence",
                        Some(before.evidence.clone()),
                        Some(after.evidence.clone()),
                    ));
                }
                let done = Done {
                    entity_id: after.id.clone(),
                    region: Some(ev.region_code),
                    changes,
                };
                Ok((done, after))
            })
        },
    )
    .await
}

/// A region's own indicator tree, as a new version; purchasers of that region only. Returns
/// its id.
pub async fn create_tree(state: &AppState, ctx: &Ctx, input: TreeInput) -> WebResult<String> {
    purchaser(ctx)?;
    let now = state.now();
    write_or_invalid(
        state,
        ctx,
        Entry::new("indicator_tree", "create"),
        move |conn, scope, _| -> WorkWith<'_, String> {
            Box::pin(async move {
                let id = trees::create_tree(conn, &scope, &input, now).await?;
                let tree = trees::get(conn, &scope, &id).await?;
                let after =
                    |field: &str, value: String| Change::new(field, None::<String>, Some(value));
                let done = Done {
                    entity_id: id.clone(),
                    region: Some(tree.region_code.clone()),
                    changes: vec![
                        after("name", tree.name.clone()),
                        after("version", tree.version.to_string()),
                        after("nodes", tree.tree.nodes().len().to_string()),
                        after("max", tree.tree.max().to_string()),
                    ],
                };
                Ok((done, id))
            })
        },
    )
    .await
}
