//! The purchase area's changes, one function each for the pages and the API: every one goes
//! through `write_or_invalid` with its audit entry, so both check, scope and audit alike.

use chrono::NaiveDate;
use shegong_domain::Permission;
use shegong_domain::purchase::catalogue::ItemStatus;
use shegong_domain::purchase::contract::{ContractState, ProcurementMethod};
use shegong_domain::purchase::execution::{Expense, Position};
use shegong_domain::purchase::project::{Notice, ProjectState};
use shegong_store::admin::audit::{self, Change};
use shegong_store::purchase::catalogue::{self, ItemInput, ItemStep};
use shegong_store::purchase::contracts::{self, ContractEdit, ContractInput};
use shegong_store::purchase::execution;
use shegong_store::purchase::instalments::{self, Instalment, Step};
use shegong_store::purchase::projects::{self, ProjectInput};

use crate::http::auth::{Ctx, CurrentUser};
use crate::http::error::{WebError, WebResult};
use crate::http::state::AppState;
use crate::http::write::{Done, Entry, WorkWith, write_or_invalid, writer};

/// The signed-in user if they buy services: they change business data and their scope names no
/// organisation (an agency's manager reads its contracts and asks for payment, nothing more).
pub fn purchaser(ctx: &Ctx) -> WebResult<&CurrentUser> {
    let u = ctx.user()?;
    u.require(Permission::WriteData)?;
    if u.scope().org.is_some() {
        return Err(WebError::Forbidden);
    }
    Ok(u)
}

pub fn is_purchaser(u: &CurrentUser) -> bool {
    u.can(Permission::WriteData) && u.scope().org.is_none()
}

/// Write a contract with its lines, budget, stations and plan; returns its id.
pub async fn create_contract(
    state: &AppState,
    ctx: &Ctx,
    input: ContractInput,
) -> WebResult<String> {
    purchaser(ctx)?;
    let now = state.now();
    write_or_invalid(
        state,
        ctx,
        Entry::new("contract", "create"),
        move |conn, scope, by| -> WorkWith<'_, String> {
            Box::pin(async move {
                let id = contracts::create(conn, &scope, &input, &by, now).await?;
                let after =
                    |field: &str, value: String| Change::new(field, None::<String>, Some(value));
                let done = Done {
                    entity_id: id.clone(),
                    region: Some(input.region.as_str().to_owned()),
                    changes: vec![
                        after("number", input.number.trim().to_owned()),
                        after("provider_org_id", input.provider_org_id.clone()),
                        after("amount_fen", input.amount.0.to_string()),
                        after(
                            "term",
                            format!("{} – {}", input.term.start(), input.term.end()),
                        ),
                        after("lines", input.lines.len().to_string()),
                        after("instalments", input.plan.instalments().len().to_string()),
                    ],
                };
                Ok((done, id))
            })
        },
    )
    .await
}

/// Move a contract to `to`; returns the state it left.
pub async fn move_contract(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    to: ContractState,
) -> WebResult<ContractState> {
    purchaser(ctx)?;
    let (id, now) = (id.to_owned(), state.now());
    write_or_invalid(
        state,
        ctx,
        Entry::new("contract", "transition"),
        move |conn, scope, _| -> WorkWith<'_, ContractState> {
            Box::pin(async move {
                let region = contracts::get(conn, &scope, &id).await?.region_code;
                let before = contracts::set_state(conn, &scope, &id, to, now).await?;
                let done = Done {
                    entity_id: id,
                    region: Some(region),
                    changes: vec![Change::new("state", Some(before), Some(to))],
                };
                Ok((done, before))
            })
        },
    )
    .await
}

/// Change a contract's title or reduction rule; filed only when something changed.
pub async fn edit_contract(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    edit: ContractEdit,
) -> WebResult<()> {
    purchaser(ctx)?;
    let (id, now) = (id.to_owned(), state.now());
    write_or_invalid(
        state,
        ctx,
        Entry::new("contract", "update").only_if_changed(),
        move |conn, scope, _| -> WorkWith<'_, ()> {
            Box::pin(async move {
                let before = contracts::update(conn, &scope, &id, &edit, now).await?;
                let after = contracts::get(conn, &scope, &id).await?;
                let rule = |c: &contracts::Contract| {
                    Some(
                        c.reduction_rule
                            .as_ref()
                            .map(ToString::to_string)
                            .unwrap_or_default(),
                    )
                };
                let done = Done {
                    changes: audit::diff(&[
                        (
                            "title",
                            Some(before.title.clone()),
                            Some(after.title.clone()),
                        ),
                        ("reduction_rule", rule(&before), rule(&after)),
                    ]),
                    entity_id: id,
                    region: Some(after.region_code),
                };
                Ok((done, ()))
            })
        },
    )
    .await
}

/// Move instalment `seq` of contract `id` one step; returns it after.
pub async fn move_instalment(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    seq: i64,
    step: Step,
) -> WebResult<Instalment> {
    let u = ctx.user()?;
    u.require(Permission::WriteData)?;
    // Asking for payment is the provider's; every other step the purchaser's.
    if !matches!(step, Step::Request) {
        purchaser(ctx)?;
    }
    let (id, now) = (id.to_owned(), state.now());
    write_or_invalid(
        state,
        ctx,
        Entry::new("instalment", "transition"),
        move |conn, scope, _| -> WorkWith<'_, Instalment> {
            Box::pin(async move {
                let region = contracts::get(conn, &scope, &id).await?.region_code;
                let (before, after) =
                    instalments::advance(conn, &scope, &id, seq, step, now).await?;
                let mut changes = vec![
                    Change::new("contract", None::<String>, Some(&id)),
                    Change::new("seq", None::<String>, Some(seq)),
                    Change::new("state", Some(before.state), Some(after.state)),
                ];
                if before.outcome != after.outcome {
                    changes.push(Change::new("outcome", None::<String>, after.outcome));
                }
                if before.payable != after.payable {
                    changes.push(Change::new(
                        "payable_fen",
                        before.payable.map(|p| p.0),
                        after.payable.map(|p| p.0),
                    ));
                }
                if let Some(on) = after.paid_on {
                    changes.push(Change::new("paid_on", None::<String>, Some(on)));
                }
                let done = Done {
                    entity_id: after.id.clone(),
                    region: Some(region),
                    changes,
                };
                Ok((done, after))
            })
        },
    )
    .await
}

/// Add an item to its region's catalogue of the year; returns (item id, edition id).
pub async fn create_item(
    state: &AppState,
    ctx: &Ctx,
    input: ItemInput,
) -> WebResult<(String, String)> {
    purchaser(ctx)?;
    let now = state.now();
    write_or_invalid(
        state,
        ctx,
        Entry::new("catalogue_item", "create"),
        move |conn, scope, by| -> WorkWith<'_, (String, String)> {
            Box::pin(async move {
                let ids = catalogue::create_item(conn, &scope, &input, &by, now).await?;
                let done = Done {
                    entity_id: ids.0.clone(),
                    region: Some(input.region.as_str().to_owned()),
                    changes: vec![
                        Change::new("edition", None::<String>, Some(&ids.1)),
                        Change::new("field", None::<String>, Some(input.field)),
                        Change::new("name", None::<String>, Some(input.name.trim())),
                    ],
                };
                Ok((done, ids))
            })
        },
    )
    .await
}

/// Publish a draft catalogue edition of the caller's region (the public portal shows it from
/// then on); returns its title.
pub async fn publish_edition(state: &AppState, ctx: &Ctx, id: &str) -> WebResult<String> {
    purchaser(ctx)?;
    let (id, now) = (id.to_owned(), state.now());
    write_or_invalid(
        state,
        ctx,
        Entry::new("catalogue_edition", "transition"),
        move |conn, scope, _by| -> WorkWith<'_, String> {
            Box::pin(async move {
                let (region, title) = catalogue::publish_edition(conn, &scope, &id, now).await?;
                let done = Done {
                    entity_id: id,
                    region: Some(region),
                    changes: vec![Change::new("status", Some("draft"), Some("published"))],
                };
                Ok((done, title))
            })
        },
    )
    .await
}

/// Move a catalogue item along its life; returns the status it left. An item the caller sees
/// but whose region lies above their scope (a county reading its city's catalogue) is 403.
pub async fn move_item(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    step: ItemStep,
) -> WebResult<ItemStatus> {
    let u = purchaser(ctx)?;
    let scope = u.scope();
    {
        let mut c = state.db.read().await?;
        let item = catalogue::get_item(&mut c, &scope, id).await?;
        if !scope.contains_region(&item.region_code) {
            return Err(WebError::Forbidden);
        }
    }
    let (id, now) = (id.to_owned(), state.now());
    write_or_invalid(
        state,
        ctx,
        Entry::new("catalogue_item", "transition"),
        move |conn, scope, by| -> WorkWith<'_, ItemStatus> {
            Box::pin(async move {
                let before = catalogue::move_item(conn, &scope, &id, &step, &by, now).await?;
                let mut changes = vec![Change::new("status", Some(before.status), Some(step.to))];
                if let Some(reason) = step.reason {
                    changes.push(Change::new("removal_reason", None::<String>, Some(reason)));
                }
                if !step.note.trim().is_empty() {
                    changes.push(Change::new("note", None::<String>, Some(step.note.trim())));
                }
                let done = Done {
                    entity_id: id,
                    region: Some(before.region_code),
                    changes,
                };
                Ok((done, before.status))
            })
        },
    )
    .await
}

/// Record an expense against a budget line of contract `id`; returns the expense's id.
pub async fn record_expense(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    expense: Expense,
) -> WebResult<String> {
    writer(ctx)?;
    let (id, now) = (id.to_owned(), state.now());
    let today = super::contracts::today_date(now);
    write_or_invalid(
        state,
        ctx,
        Entry::new("contract_expense", "create"),
        move |conn, scope, by| -> WorkWith<'_, String> {
            Box::pin(async move {
                let region = contracts::get(conn, &scope, &id).await?.region_code;
                let expense_id =
                    execution::record_expense(conn, &scope, &id, &expense, &by, now, today).await?;
                let done = Done {
                    entity_id: expense_id.clone(),
                    region: Some(region),
                    changes: vec![
                        Change::new("contract", None::<String>, Some(&id)),
                        Change::new("budget_seq", None::<String>, Some(expense.budget_seq)),
                        Change::new("amount_fen", None::<String>, Some(expense.amount.0)),
                        Change::new("spent_on", None::<String>, Some(expense.spent_on)),
                    ],
                };
                Ok((done, expense_id))
            })
        },
    )
    .await
}

/// Void an expense of contract `id` with a reason.
pub async fn void_expense(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    expense_id: &str,
    reason: String,
) -> WebResult<()> {
    writer(ctx)?;
    let (id, expense_id, now) = (id.to_owned(), expense_id.to_owned(), state.now());
    write_or_invalid(
        state,
        ctx,
        Entry::new("contract_expense", "void"),
        move |conn, scope, by| -> WorkWith<'_, ()> {
            Box::pin(async move {
                let region = contracts::get(conn, &scope, &id).await?.region_code;
                let voided =
                    execution::void_expense(conn, &scope, &id, &expense_id, &reason, &by, now)
                        .await?;
                let done = Done {
                    entity_id: expense_id,
                    region: Some(region),
                    changes: vec![
                        Change::new("amount_fen", Some(voided.amount.0), None::<i64>),
                        Change::new("reason", None::<String>, Some(reason.trim())),
                    ],
                };
                Ok((done, ()))
            })
        },
    )
    .await
}

/// Add a post bought by contract `id`; returns its number in the contract.
pub async fn add_position(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    position: Position,
) -> WebResult<i64> {
    purchaser(ctx)?;
    let (id, now) = (id.to_owned(), state.now());
    write_or_invalid(
        state,
        ctx,
        Entry::new("contract_position", "create"),
        move |conn, scope, _| -> WorkWith<'_, i64> {
            Box::pin(async move {
                let region = contracts::get(conn, &scope, &id).await?.region_code;
                let seq = execution::add_position(conn, &scope, &id, &position, now).await?;
                let done = Done {
                    entity_id: format!("{id}#{seq}"),
                    region: Some(region),
                    changes: vec![
                        Change::new("title", None::<String>, Some(position.title.trim())),
                        Change::new("headcount", None::<String>, Some(position.headcount)),
                        Change::new("monthly_fen", None::<String>, Some(position.monthly.0)),
                    ],
                };
                Ok((done, seq))
            })
        },
    )
    .await
}

/// Put a staff record of the provider into post `seq` of contract `id`; returns the fill's id.
pub async fn fill_position(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    seq: i64,
    staff_id: String,
    from: NaiveDate,
) -> WebResult<String> {
    writer(ctx)?;
    let (id, now) = (id.to_owned(), state.now());
    write_or_invalid(
        state,
        ctx,
        Entry::new("contract_position", "fill"),
        move |conn, scope, _| -> WorkWith<'_, String> {
            Box::pin(async move {
                let region = contracts::get(conn, &scope, &id).await?.region_code;
                let (fill_id, name) =
                    execution::fill_position(conn, &scope, &id, seq, &staff_id, from, now).await?;
                let done = Done {
                    entity_id: format!("{id}#{seq}"),
                    region: Some(region),
                    changes: vec![
                        Change::new("staff", None::<String>, Some(name)),
                        Change::new("from_date", None::<String>, Some(from)),
                    ],
                };
                Ok((done, fill_id))
            })
        },
    )
    .await
}

/// End a fill of contract `id` on `to`.
pub async fn end_fill(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    fill_id: &str,
    to: NaiveDate,
) -> WebResult<()> {
    writer(ctx)?;
    let (id, fill_id) = (id.to_owned(), fill_id.to_owned());
    write_or_invalid(
        state,
        ctx,
        Entry::new("contract_position", "end_fill"),
        move |conn, scope, _| -> WorkWith<'_, ()> {
            Box::pin(async move {
                let region = contracts::get(conn, &scope, &id).await?.region_code;
                let staff = execution::end_fill(conn, &scope, &id, &fill_id, to).await?;
                let done = Done {
                    entity_id: fill_id,
                    region: Some(region),
                    changes: vec![
                        Change::new("staff_id", None::<String>, Some(staff)),
                        Change::new("to_date", None::<String>, Some(to)),
                    ],
                };
                Ok((done, ()))
            })
        },
    )
    .await
}

/// Approve a project (立项); returns its id.
pub async fn create_project(state: &AppState, ctx: &Ctx, input: ProjectInput) -> WebResult<String> {
    purchaser(ctx)?;
    let now = state.now();
    write_or_invalid(
        state,
        ctx,
        Entry::new("purchase_project", "create"),
        move |conn, scope, by| -> WorkWith<'_, String> {
            Box::pin(async move {
                let id = projects::create(conn, &scope, &input, &by, now).await?;
                let p = &input.project;
                let after =
                    |field: &str, value: String| Change::new(field, None::<String>, Some(value));
                let done = Done {
                    entity_id: id.clone(),
                    region: Some(input.region.as_str().to_owned()),
                    changes: vec![
                        after("number", p.number.trim().to_owned()),
                        after("name", p.name.trim().to_owned()),
                        after("budget_fen", p.budget.0.to_string()),
                        after("term", format!("{} – {}", p.term.start(), p.term.end())),
                    ],
                };
                Ok((done, id))
            })
        },
    )
    .await
}

/// Move a project (procurement with its method); returns the state it left.
pub async fn move_project(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    to: ProjectState,
    method: Option<ProcurementMethod>,
) -> WebResult<ProjectState> {
    purchaser(ctx)?;
    let (id, now) = (id.to_owned(), state.now());
    write_or_invalid(
        state,
        ctx,
        Entry::new("purchase_project", "transition"),
        move |conn, scope, _| -> WorkWith<'_, ProjectState> {
            Box::pin(async move {
                let region = projects::get(conn, &scope, &id).await?.region_code;
                let before = projects::set_state(conn, &scope, &id, to, method, now).await?;
                let mut changes = vec![Change::new("state", Some(before), Some(to))];
                if let Some(m) = method.filter(|_| to == ProjectState::Procuring) {
                    changes.push(Change::new("procurement_method", None::<String>, Some(m)));
                }
                let done = Done {
                    entity_id: id,
                    region: Some(region),
                    changes,
                };
                Ok((done, before))
            })
        },
    )
    .await
}

/// File a procurement notice of project `id`; returns its number.
pub async fn add_notice(state: &AppState, ctx: &Ctx, id: &str, notice: Notice) -> WebResult<i64> {
    purchaser(ctx)?;
    let (id, now) = (id.to_owned(), state.now());
    let today = super::contracts::today_date(now);
    write_or_invalid(
        state,
        ctx,
        Entry::new("purchase_project", "notice"),
        move |conn, scope, by| -> WorkWith<'_, i64> {
            Box::pin(async move {
                let region = projects::get(conn, &scope, &id).await?.region_code;
                let seq = projects::add_notice(conn, &scope, &id, &notice, today, &by, now).await?;
                let done = Done {
                    entity_id: id,
                    region: Some(region),
                    changes: vec![
                        Change::new("kind", None::<String>, Some(notice.kind)),
                        Change::new("title", None::<String>, Some(notice.title.trim())),
                        Change::new("published_on", None::<String>, Some(notice.published_on)),
                    ],
                };
                Ok((done, seq))
            })
        },
    )
    .await
}

/// End project `id`'s procurement with the contract signed; returns the contract's number.
pub async fn award_project(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    contract_id: String,
) -> WebResult<String> {
    purchaser(ctx)?;
    let (id, now) = (id.to_owned(), state.now());
    write_or_invalid(
        state,
        ctx,
        Entry::new("purchase_project", "award"),
        move |conn, scope, _| -> WorkWith<'_, String> {
            Box::pin(async move {
                let region = projects::get(conn, &scope, &id).await?.region_code;
                let number = projects::award(conn, &scope, &id, &contract_id, now).await?;
                let done = Done {
                    entity_id: id,
                    region: Some(region),
                    changes: vec![
                        Change::new(
                            "state",
                            Some(ProjectState::Procuring),
                            Some(ProjectState::Awarded),
                        ),
                        Change::new("contract", None::<String>, Some(&number)),
                    ],
                };
                Ok((done, number))
            })
        },
    )
    .await
}
