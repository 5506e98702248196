//! 时间银行 (`/timebank`, `/api/v1/timebank`): schemes per region with their rules, accounts
//! (people, groups, the donation pool, the issuer, settlement accounts for partner schemes) and
//! a double-entry ledger whose every write is audited. Every page says that time credits are not
//! money, cannot be bought and pay no return.

pub mod api;
pub mod pages;

use axum::Router;
use axum::routing::{get, post};
use shegong_domain::people::ServiceKind;
use shegong_domain::timebank::{
    AccountKind, CapOverflow, EntryKind, HolderKind, MAX_CREDITS, Rules, SourceKind, TransferTo,
};
use shegong_domain::{FieldError, Permission};
use shegong_store::admin::audit::Change;
use shegong_store::timebank::{self as tb, AccountInput, EntryInput, SchemeInput};
use utoipa::OpenApi;

use crate::http::area::{Area, MenuSection, messages};
use crate::http::auth::{Ctx, CurrentUser};
use crate::http::error::{WebError, WebResult};
use crate::http::state::AppState;
use crate::http::write::{Done, Entry, WorkWith, write_or_invalid};
use crate::ui::forms::{Check, FormData};

pub const AREA: Area = Area {
    messages: messages!("timebank"),
    importers: &[],
    routes,
    api: || Api::openapi(),
    menu: &[MenuSection {
        rank: 45,
        group: "menu.group.timebank",
        entries: &[("menu.timebank", "/timebank", Some(Permission::ReadData))],
    }],
};

#[derive(OpenApi)]
#[openapi(
    paths(
        api::list_schemes,
        api::create_scheme,
        api::get_scheme,
        api::update_scheme,
        api::list_accounts,
        api::open_account,
        api::get_account,
        api::entries,
        api::post_entry,
        api::reverse,
    ),
    tags((name = "timebank", description = "Time bank: schemes, accounts and the ledger of time credits (not money: they cannot be bought and pay no return)"))
)]
struct Api;

fn routes() -> Router<AppState> {
    Router::new()
        .route("/timebank", get(pages::schemes).post(pages::create_scheme))
        .route("/timebank/new", get(pages::new_scheme))
        .route("/timebank/{id}", get(pages::scheme))
        .route(
            "/timebank/{id}/edit",
            get(pages::edit_scheme).post(pages::update_scheme),
        )
        .route("/timebank/{id}/accounts", post(pages::open_account))
        .route("/timebank/{id}/accounts/export.xlsx", get(pages::export))
        .route("/timebank/accounts/{id}", get(pages::passbook))
        .route("/timebank/accounts/{id}/entries", post(pages::post_entry))
        .route("/timebank/entries/{id}/reversal", post(pages::reverse))
        .route(
            "/api/v1/timebank/schemes",
            get(api::list_schemes).post(api::create_scheme),
        )
        .route(
            "/api/v1/timebank/schemes/{id}",
            get(api::get_scheme).put(api::update_scheme),
        )
        .route(
            "/api/v1/timebank/accounts",
            get(api::list_accounts).post(api::open_account),
        )
        .route("/api/v1/timebank/accounts/{id}", get(api::get_account))
        .route(
            "/api/v1/timebank/accounts/{id}/entries",
            get(api::entries).post(api::post_entry),
        )
        .route("/api/v1/timebank/entries/{id}/reversal", post(api::reverse))
}

/// The time bank's codes as OpenAPI enums.
pub mod code {
    use shegong_domain::people::ServiceKind;
    use shegong_domain::timebank::{AccountKind, CapOverflow, EntryKind, HolderKind, TransferTo};
    use utoipa::openapi::schema::Object;

    use crate::http::api::code::one_of;

    /// The entries posted on an account (CAP_SWEEP and REVERSAL are made by the system and by
    /// the reversal operation).
    pub fn entry_kind() -> Object {
        one_of(
            EntryKind::ALL
                .iter()
                .filter(|k| !matches!(k, EntryKind::CapSweep | EntryKind::Reversal))
                .map(|v| v.as_str()),
        )
    }
    pub fn account_kind() -> Object {
        one_of(AccountKind::ALL.iter().map(|v| v.as_str()))
    }
    /// The kinds of account opened by hand.
    pub fn opened_kind() -> Object {
        one_of(["person", "group"])
    }
    /// Residents and volunteers on file (by id), and holders by name.
    pub fn holder_kind() -> Object {
        one_of(HolderKind::ALL.iter().map(|v| v.as_str()))
    }
    pub fn transfer_to() -> Object {
        one_of(TransferTo::ALL.iter().map(|v| v.as_str()))
    }
    pub fn cap_overflow() -> Object {
        one_of(CapOverflow::ALL.iter().map(|v| v.as_str()))
    }
    pub fn service_kind() -> Object {
        one_of(ServiceKind::ALL.iter().map(|v| v.as_str()))
    }
}

/// Time-bank writes need the data-writing permission in a region (not an organisation's
/// account).
pub fn writer(ctx: &Ctx) -> WebResult<&CurrentUser> {
    let u = ctx.user()?;
    u.require(Permission::WriteData)?;
    if u.scope().org.is_some() {
        return Err(WebError::Forbidden);
    }
    Ok(u)
}

pub fn can_write(u: &CurrentUser) -> bool {
    u.can(Permission::WriteData) && u.scope().org.is_none()
}

fn optional_cap(c: &mut Check, field: &'static str, v: &str, max: i64) -> Option<i64> {
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    Some(c.int(field, v, 1, max, 1))
}

/// A scheme from its form (or the API body as the same pairs): every field error at once.
pub fn scheme_input(f: &FormData) -> Result<SchemeInput, Vec<FieldError>> {
    let mut c = Check::default();
    let region = c.region("region", f.get("region").trim());
    let name = c.text("name", f.get("name").trim(), 100);
    let operator = c.opt_text("operator", f.get("operator").trim(), 100);
    let unit_minutes = c.int("unit_minutes", f.get("unit_minutes").trim(), 1, 480, 60);
    let daily_earn_cap = optional_cap(&mut c, "daily_earn_cap", f.get("daily_earn_cap"), 1440);
    let balance_cap = optional_cap(&mut c, "balance_cap", f.get("balance_cap"), MAX_CREDITS);
    let cap_overflow = c
        .take(CapOverflow::parse(f.get("cap_overflow")))
        .unwrap_or(CapOverflow::Refuse);
    let redeem_min_earned = c.int(
        "redeem_min_earned",
        f.get("redeem_min_earned").trim(),
        0,
        MAX_CREDITS,
        0,
    );
    let transfer_to = c
        .take(TransferTo::parse(f.get("transfer_to")))
        .unwrap_or(TransferTo::Nobody);
    let min_balance = c.int("min_balance", f.get("min_balance").trim(), -1000, 0, 0);
    let kinds = f.all("eligible_kinds");
    if kinds.len() > ServiceKind::ALL.len() {
        c.fail("eligible_kinds", "service.kind_unknown");
    }
    let mut eligible_kinds = Vec::new();
    for k in kinds.iter().take(ServiceKind::ALL.len()) {
        match ServiceKind::parse(k) {
            Ok(k) if !eligible_kinds.contains(&k) => eligible_kinds.push(k),
            Ok(_) => {}
            Err(_) => c.fail("eligible_kinds", "service.kind_unknown"),
        }
    }
    let partners: Vec<String> = f
        .all("partners")
        .into_iter()
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .collect();
    let rules = Rules {
        unit_minutes,
        daily_earn_cap,
        balance_cap,
        cap_overflow,
        redeem_min_earned,
        transfer_to,
        min_balance,
        eligible_kinds,
        partners,
    };
    if c.errors.is_empty() {
        c.take(rules.validate());
    }
    c.finish()?;
    let region = region.ok_or_else(|| vec![FieldError::new("region", "form.required")])?;
    Ok(SchemeInput {
        region,
        name,
        operator,
        rules,
    })
}

/// An account from its form.
pub fn account_input(f: &FormData) -> Result<AccountInput, Vec<FieldError>> {
    let mut c = Check::default();
    let kind = c.take(AccountKind::parse(f.get("account_kind")));
    let holder_kind = c.take(HolderKind::parse(f.get("holder_kind")));
    let holder_id = c.opt_text("holder_id", f.get("holder_id").trim(), 64);
    let holder_name = c.opt_text("holder_name", f.get("holder_name").trim(), 100);
    c.finish()?;
    match (kind, holder_kind) {
        (Some(kind), Some(holder_kind)) => Ok(AccountInput {
            kind,
            holder_kind,
            holder_id: Some(holder_id).filter(|s| !s.is_empty()),
            holder_name,
        }),
        _ => Err(vec![FieldError::new("account_kind", "form.required")]),
    }
}

/// An entry from its form.
pub fn entry_input(f: &FormData) -> Result<EntryInput, Vec<FieldError>> {
    let mut c = Check::default();
    let kind = c.take(EntryKind::parse(f.get("kind")));
    let amount = c.int("amount", f.get("amount").trim(), 0, MAX_CREDITS, 0);
    let to = c.opt_text("to_account_id", f.get("to_account_id").trim(), 64);
    let source = c.opt_text("source_id", f.get("source_id").trim(), 64);
    let source_kind = match f.get("source_kind").trim() {
        "" => Some(SourceKind::Service),
        v => c.take(SourceKind::parse(v)),
    };
    let note = c.opt_text("note", f.get("note").trim(), 200);
    c.finish()?;
    let kind = kind.ok_or_else(|| vec![FieldError::new("kind", "form.required")])?;
    Ok(EntryInput {
        kind,
        amount,
        to_account_id: Some(to).filter(|s| !s.is_empty()),
        source_kind: source_kind.unwrap_or(SourceKind::Service),
        source_id: Some(source).filter(|s| !s.is_empty()),
        note,
    })
}

fn rules_text(r: &Rules) -> String {
    serde_json::to_string(r).unwrap_or_default()
}

pub async fn create_scheme(state: &AppState, ctx: &Ctx, input: SchemeInput) -> WebResult<String> {
    writer(ctx)?;
    let now = state.now();
    write_or_invalid(
        state,
        ctx,
        Entry::new("timebank_scheme", "create"),
        move |conn, scope, by| -> WorkWith<'_, String> {
            Box::pin(async move {
                let id = tb::create_scheme(conn, &scope, &input, &by, now).await?;
                let after = |f: &str, v: String| Change::new(f, None::<String>, Some(v));
                let done = Done {
                    entity_id: id.clone(),
                    region: Some(input.region.as_str().to_owned()),
                    changes: vec![
                        after("name", input.name.clone()),
                        after("operator", input.operator.clone()),
                        after("rules", rules_text(&input.rules)),
                    ],
                };
                Ok((done, id))
            })
        },
    )
    .await
}

pub async fn update_scheme(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    input: SchemeInput,
) -> WebResult<()> {
    writer(ctx)?;
    let (id, now) = (id.to_owned(), state.now());
    write_or_invalid(
        state,
        ctx,
        Entry::new("timebank_scheme", "update").only_if_changed(),
        move |conn, scope, by| -> WorkWith<'_, ()> {
            Box::pin(async move {
                let before = tb::update_scheme(conn, &scope, &id, &input, &by, now).await?;
                let mut changes = Vec::new();
                if before.name != input.name {
                    changes.push(Change::new(
                        "name",
                        Some(before.name),
                        Some(input.name.clone()),
                    ));
                }
                if before.operator != input.operator {
                    changes.push(Change::new(
                        "operator",
                        Some(before.operator),
                        Some(input.operator.clone()),
                    ));
                }
                if before.rules != input.rules {
                    changes.push(Change::new(
                        "rules",
                        Some(rules_text(&before.rules)),
                        Some(rules_text(&input.rules)),
                    ));
                }
                let done = Done {
                    entity_id: id,
                    region: Some(before.region_code),
                    changes,
                };
                Ok((done, ()))
            })
        },
    )
    .await
}

pub async fn open_account(
    state: &AppState,
    ctx: &Ctx,
    scheme: &str,
    input: AccountInput,
) -> WebResult<String> {
    writer(ctx)?;
    let (scheme, now) = (scheme.to_owned(), state.now());
    write_or_invalid(
        state,
        ctx,
        Entry::new("timebank_account", "create"),
        move |conn, scope, by| -> WorkWith<'_, String> {
            Box::pin(async move {
                let id = tb::open_account(conn, &scope, &scheme, &input, &by, now).await?;
                let a = tb::get_account(conn, &scope, &id).await?;
                let after = |f: &str, v: String| Change::new(f, None::<String>, Some(v));
                let done = Done {
                    entity_id: id.clone(),
                    region: Some(a.region_code),
                    changes: vec![
                        after("scheme_id", scheme),
                        after("account_kind", a.kind.to_string()),
                        after("holder_name", a.holder_name),
                    ],
                };
                Ok((done, id))
            })
        },
    )
    .await
}

/// Post an entry on an account; returns the entry's id.
pub async fn post_entry(
    state: &AppState,
    ctx: &Ctx,
    account: &str,
    input: EntryInput,
) -> WebResult<String> {
    writer(ctx)?;
    let (account, now) = (account.to_owned(), state.now());
    write_or_invalid(
        state,
        ctx,
        Entry::new("timebank_entry", "create"),
        move |conn, scope, by| -> WorkWith<'_, String> {
            Box::pin(async move {
                let (id, swept) = tb::post(conn, &scope, &account, &input, &by, now).await?;
                let a = tb::get_account(conn, &scope, &account).await?;
                let after = |f: &str, v: String| Change::new(f, None::<String>, Some(v));
                let mut changes = vec![
                    after("kind", input.kind.to_string()),
                    after("account_id", account),
                    after("amount", input.amount.to_string()),
                ];
                for (field, v) in [
                    ("to_account_id", input.to_account_id),
                    ("source_id", input.source_id),
                    ("cap_sweep", swept),
                ] {
                    if let Some(v) = v {
                        changes.push(after(field, v));
                    }
                }
                let done = Done {
                    entity_id: id.clone(),
                    region: Some(a.region_code),
                    changes,
                };
                Ok((done, id))
            })
        },
    )
    .await
}

/// Reverse an entry; returns the reversal's id.
pub async fn reverse(state: &AppState, ctx: &Ctx, entry: &str, note: String) -> WebResult<String> {
    writer(ctx)?;
    if note.chars().count() > 200 {
        return Err(WebError::Invalid(vec![FieldError::new(
            "note",
            "form.too_long",
        )]));
    }
    let (entry, now) = (entry.to_owned(), state.now());
    write_or_invalid(
        state,
        ctx,
        Entry::new("timebank_entry", "reverse"),
        move |conn, scope, by| -> WorkWith<'_, String> {
            Box::pin(async move {
                let id = tb::reverse(conn, &scope, &entry, &note, &by, now).await?;
                let scheme = tb::get_entry(conn, &scope, &id).await?.scheme_id;
                let region = tb::get_scheme(conn, &scope, &scheme).await?.region_code;
                let done = Done {
                    entity_id: id.clone(),
                    region: Some(region),
                    changes: vec![Change::new("reverses_id", None::<String>, Some(entry))],
                };
                Ok((done, id))
            })
        },
    )
    .await
}
