//! 社区慈善 (`/charity`, `/api/v1/funds`, `/api/v1/donations`, `/api/v1/wishes`,
//! `/api/v1/disbursements`): community funds hosted by a charity with public-fundraising status,
//! their committees, donations of money and goods, small wishes (微心愿), disbursements decided by
//! the committee, goods stock; and each fund's disclosure on the public portal
//! (`/public/charity`), without personal data of the people helped. Every write is audited.

pub mod api;
pub mod pages;
pub mod portal;

use axum::Router;
use axum::routing::{get, post};
use shegong_domain::charity::{
    Channel, CommitteeRole, DonationKind, MoveKind, Receipt, TargetKind, UseKind, WishState,
};
use shegong_domain::{FieldError, Permission};
use shegong_store::admin::audit::Change;
use shegong_store::charity::{
    self as ch, Decision, DisbursementInput, DonationInput, FundInput, MemberInput, StockInput,
    WishInput,
};
use utoipa::OpenApi;

use crate::http::area::{Area, MenuSection, messages};
use crate::http::auth::{Ctx, CurrentUser};
use crate::http::error::{WebError, WebResult};
use crate::http::state::AppState;
use crate::http::write::{Done, Entry, WorkWith, write_or_invalid};
use crate::ui::forms::{Check, FormData, today};

pub const AREA: Area = Area {
    messages: messages!("charity"),
    importers: &[],
    routes,
    api: || Api::openapi(),
    menu: &[MenuSection {
        rank: 46,
        group: "menu.group.charity",
        entries: &[
            ("menu.charity", "/charity/funds", Some(Permission::ReadData)),
            (
                "menu.charity_wishes",
                "/charity/wishes",
                Some(Permission::ReadData),
            ),
        ],
    }],
};

#[derive(OpenApi)]
#[openapi(
    paths(
        api::list_funds,
        api::create_fund,
        api::get_fund,
        api::add_member,
        api::end_fund,
        api::list_disbursements,
        api::propose,
        api::decide,
        api::pay,
        api::list_donations,
        api::create_donation,
        api::list_wishes,
        api::create_wish,
        api::step_wish,
        api::stock,
        api::move_stock,
    ),
    tags((name = "charity", description = "Community charity: funds hosted by a fundraising charity (no account of their own), their committees, donations of money and goods, small wishes, disbursements decided by the committee, goods stock"))
)]
struct Api;

fn routes() -> Router<AppState> {
    Router::new()
        .route("/charity/funds", get(pages::funds).post(pages::create_fund))
        .route("/charity/funds/new", get(pages::new_fund))
        .route("/charity/funds/export.xlsx", get(pages::export_funds))
        .route("/charity/funds/{id}", get(pages::fund))
        .route("/charity/funds/{id}/committee", post(pages::add_member))
        .route("/charity/funds/{id}/end", post(pages::end_fund))
        .route(
            "/charity/funds/{id}/donations",
            post(pages::create_donation),
        )
        .route(
            "/charity/funds/{id}/donations/export.xlsx",
            get(pages::export_donations),
        )
        .route("/charity/funds/{id}/wishes", post(pages::create_wish))
        .route("/charity/funds/{id}/disbursements", post(pages::propose))
        .route(
            "/charity/funds/{id}/disbursements/export.xlsx",
            get(pages::export_disbursements),
        )
        .route("/charity/funds/{id}/stock", post(pages::move_stock))
        .route(
            "/charity/funds/{id}/stock/export.xlsx",
            get(pages::export_stock),
        )
        .route(
            "/charity/funds/{id}/stock/moves/export.xlsx",
            get(pages::export_moves),
        )
        .route(
            "/charity/funds/{id}/committee/export.xlsx",
            get(pages::export_committee),
        )
        .route("/charity/disbursements/{id}/decision", post(pages::decide))
        .route("/charity/disbursements/{id}/payment", post(pages::pay))
        .route("/charity/wishes", get(pages::wishes))
        .route("/charity/wishes/export.xlsx", get(pages::export_wishes))
        .route("/charity/wishes/{id}/step", post(pages::step_wish))
        .route("/public/charity", get(portal::list_get))
        .route("/public/charity/{id}", get(portal::fund_get))
        .route("/api/v1/funds", get(api::list_funds).post(api::create_fund))
        .route("/api/v1/funds/{id}", get(api::get_fund))
        .route("/api/v1/funds/{id}/committee", post(api::add_member))
        .route("/api/v1/funds/{id}/end", post(api::end_fund))
        .route(
            "/api/v1/funds/{id}/disbursements",
            get(api::list_disbursements).post(api::propose),
        )
        .route(
            "/api/v1/funds/{id}/stock",
            get(api::stock).post(api::move_stock),
        )
        .route("/api/v1/disbursements/{id}/decision", post(api::decide))
        .route("/api/v1/disbursements/{id}/payment", post(api::pay))
        .route(
            "/api/v1/donations",
            get(api::list_donations).post(api::create_donation),
        )
        .route(
            "/api/v1/wishes",
            get(api::list_wishes).post(api::create_wish),
        )
        .route("/api/v1/wishes/{id}/step", post(api::step_wish))
}

/// The charity codes as OpenAPI enums.
pub mod code {
    use shegong_domain::charity::{
        Channel, CommitteeRole, DisbursementState, DonationKind, MoveKind, Receipt, TargetKind,
        UseKind, WishState,
    };
    use utoipa::openapi::schema::Object;

    use crate::http::api::code::one_of;

    pub fn role() -> Object {
        one_of(CommitteeRole::ALL.iter().map(|v| v.as_str()))
    }
    pub fn donation_kind() -> Object {
        one_of(DonationKind::ALL.iter().map(|v| v.as_str()))
    }
    pub fn channel() -> Object {
        one_of(Channel::ALL.iter().map(|v| v.as_str()))
    }
    pub fn receipt() -> Object {
        one_of(Receipt::ALL.iter().map(|v| v.as_str()))
    }
    pub fn use_kind() -> Object {
        one_of(UseKind::ALL.iter().map(|v| v.as_str()))
    }
    pub fn wish_state() -> Object {
        one_of(WishState::ALL.iter().map(|v| v.as_str()))
    }
    /// The states a wish is moved to (it is posted when created).
    pub fn wish_step() -> Object {
        one_of(["claimed", "fulfilled", "confirmed"])
    }
    pub fn target_kind() -> Object {
        one_of(TargetKind::ALL.iter().map(|v| v.as_str()))
    }
    pub fn disbursement_state() -> Object {
        one_of(DisbursementState::ALL.iter().map(|v| v.as_str()))
    }
    pub fn decision() -> Object {
        one_of(["approve", "reject"])
    }
    pub fn move_kind() -> Object {
        one_of(MoveKind::ALL.iter().map(|v| v.as_str()))
    }
}

/// Charity writes need the data-writing permission.
pub fn writer(ctx: &Ctx) -> WebResult<&CurrentUser> {
    let u = ctx.user()?;
    u.require(Permission::WriteData)?;
    Ok(u)
}

pub fn can_write(u: &CurrentUser) -> bool {
    u.can(Permission::WriteData)
}

fn some(s: String) -> Option<String> {
    Some(s).filter(|s| !s.trim().is_empty())
}

/// A date, or today when left empty.
fn date_or_today(c: &mut Check, field: &'static str, v: &str, now: i64) -> String {
    if v.trim().is_empty() {
        today(now)
    } else {
        c.date(field, v.trim())
    }
}

fn yes(v: &str) -> bool {
    matches!(v.trim(), "1" | "true" | "on" | "yes")
}

/// A fund from its form (or the API body as the same pairs): every field error at once.
pub fn fund_input(f: &FormData) -> Result<FundInput, Vec<FieldError>> {
    let mut c = Check::default();
    let region = c.region("region", f.get("region").trim());
    let station = c.opt_text("station", f.get("station").trim(), 64);
    let name = c.text("name", f.get("name").trim(), 100);
    if c.errors.is_empty() {
        c.take(shegong_domain::charity::check_fund_name(&name));
    }
    let host_name = c.text("host_name", f.get("host_name").trim(), 100);
    let host_uscc = c.text("host_uscc", f.get("host_uscc").trim(), 18);
    let host_public_fundraising = yes(f.get("host_public_fundraising"));
    if !host_public_fundraising {
        c.take(shegong_domain::charity::check_host(false));
    }
    let initiator = c.opt_text("initiator", f.get("initiator").trim(), 100);
    let purpose = c.text("purpose", f.get("purpose").trim(), 1000);
    let residual_rule = c.text("residual_rule", f.get("residual_rule").trim(), 1000);
    let starts_on = c.date("starts_on", f.get("starts_on").trim());
    let ends = f.get("ends_on").trim();
    let ends_on = (!ends.is_empty()).then(|| c.date("ends_on", ends));
    c.finish()?;
    let region = region.ok_or_else(|| vec![FieldError::new("region", "form.required")])?;
    Ok(FundInput {
        region,
        station_id: some(station),
        name,
        host_name,
        host_uscc,
        host_public_fundraising,
        initiator,
        purpose,
        residual_rule,
        starts_on,
        ends_on,
    })
}

pub fn member_input(f: &FormData) -> Result<MemberInput, Vec<FieldError>> {
    let mut c = Check::default();
    let name = c.name("name", f.get("name"), 50);
    let role = c.take(CommitteeRole::parse(f.get("role")));
    let affiliation = c.opt_text("affiliation", f.get("affiliation").trim(), 100);
    let unpaid = yes(f.get("unpaid"));
    if !unpaid {
        c.take(shegong_domain::charity::check_unpaid(false));
    }
    c.finish()?;
    Ok(MemberInput {
        name,
        role: role.ok_or_else(|| vec![FieldError::new("role", "form.required")])?,
        affiliation,
        unpaid,
    })
}

/// A donation from its form; amounts in yuan.
pub fn donation_input(f: &FormData, now: i64) -> Result<DonationInput, Vec<FieldError>> {
    let mut c = Check::default();
    let kind = c.take(DonationKind::parse(f.get("kind")));
    let amount_fen = c.yuan("amount", f.get("amount").trim());
    let item = c.opt_text("goods_item", f.get("goods_item").trim(), 100);
    let quantity = c.int("quantity", f.get("quantity").trim(), 0, 1_000_000, 0);
    let unit = c.opt_text("unit", f.get("unit").trim(), 20);
    let donor_name = c.opt_text("donor_name", f.get("donor_name").trim(), 100);
    let receipt = c.take(Receipt::parse(f.get("receipt")));
    let receipt_no = c.opt_text("receipt_no", f.get("receipt_no").trim(), 50);
    let use_kind = match f.get("use_kind").trim() {
        "" => UseKind::General,
        u => c.take(UseKind::parse(u)).unwrap_or(UseKind::General),
    };
    let designated_purpose = c.opt_text(
        "designated_purpose",
        f.get("designated_purpose").trim(),
        200,
    );
    let channel = c.take(Channel::parse(f.get("channel")));
    let station = c.opt_text("station", f.get("station").trim(), 64);
    let received_on = date_or_today(&mut c, "received_on", f.get("received_on"), now);
    let fund_id = c.text("fund_id", f.get("fund_id").trim(), 64);
    let (Some(kind), Some(receipt), Some(channel)) = (kind, receipt, channel) else {
        c.fail("kind", "form.required");
        return Err(c.errors);
    };
    let input = DonationInput {
        fund_id,
        kind,
        amount_fen,
        item,
        quantity,
        unit,
        donor_name,
        receipt,
        receipt_no,
        use_kind,
        designated_purpose,
        channel,
        station_id: some(station),
        received_on,
    };
    if c.errors.is_empty() {
        for e in shegong_domain::charity::check_donation(&shegong_domain::charity::DonationFacts {
            kind,
            amount_fen,
            item: &input.item,
            quantity,
            receipt,
            receipt_no: &input.receipt_no,
            donor_name: &input.donor_name,
            use_kind,
            designated_purpose: &input.designated_purpose,
        }) {
            c.take::<()>(Err(e));
        }
    }
    c.finish()?;
    Ok(input)
}

pub fn wish_input(f: &FormData, now: i64) -> Result<WishInput, Vec<FieldError>> {
    let mut c = Check::default();
    let fund_id = c.text("fund_id", f.get("fund_id").trim(), 64);
    let title = c.text("title", f.get("title").trim(), 100);
    let category = c.opt_text("category", f.get("category").trim(), 30);
    let value_fen = c.yuan("value", f.get("value").trim());
    let resident = c.opt_text(
        "beneficiary_resident_id",
        f.get("beneficiary_resident_id").trim(),
        64,
    );
    let note = c.opt_text("beneficiary_note", f.get("beneficiary_note").trim(), 500);
    let posted_on = date_or_today(&mut c, "posted_on", f.get("posted_on"), now);
    c.finish()?;
    Ok(WishInput {
        fund_id,
        title,
        category,
        value_fen,
        beneficiary_resident_id: some(resident),
        beneficiary_note: note,
        posted_on,
    })
}

pub fn disbursement_input(f: &FormData) -> Result<DisbursementInput, Vec<FieldError>> {
    let mut c = Check::default();
    let fund_id = c.text("fund_id", f.get("fund_id").trim(), 64);
    let target = c.take(TargetKind::parse(f.get("target_kind")));
    let wish = c.opt_text("wish_id", f.get("wish_id").trim(), 64);
    let resident = c.opt_text(
        "recipient_resident_id",
        f.get("recipient_resident_id").trim(),
        64,
    );
    let purpose = c.opt_text("purpose", f.get("purpose").trim(), 200);
    let amount_fen = c.yuan("amount", f.get("amount").trim());
    if amount_fen < 1 {
        c.fail("amount", "charity.amount_invalid");
    }
    c.finish()?;
    Ok(DisbursementInput {
        fund_id,
        target_kind: target.ok_or_else(|| vec![FieldError::new("target_kind", "form.required")])?,
        wish_id: some(wish),
        recipient_resident_id: some(resident),
        purpose,
        amount_fen,
    })
}

pub fn decision_input(f: &FormData, now: i64) -> Result<Decision, Vec<FieldError>> {
    let mut c = Check::default();
    let approve = match f.get("decision").trim() {
        "approve" | "approved" => true,
        "reject" | "rejected" => false,
        _ => {
            c.fail("decision", "charity.decision_unknown");
            false
        }
    };
    let resolution_ref = c.text("resolution_ref", f.get("resolution_ref").trim(), 100);
    let decided_on = date_or_today(&mut c, "decided_on", f.get("decided_on"), now);
    c.finish()?;
    Ok(Decision {
        approve,
        resolution_ref,
        decided_on,
    })
}

pub fn stock_input(f: &FormData, now: i64) -> Result<StockInput, Vec<FieldError>> {
    let mut c = Check::default();
    let fund_id = c.text("fund_id", f.get("fund_id").trim(), 64);
    let kind = c.take(MoveKind::parse(f.get("move_kind")));
    let item = c.text("goods_item", f.get("goods_item").trim(), 100);
    let unit = c.opt_text("unit", f.get("unit").trim(), 20);
    let quantity = c.int("quantity", f.get("quantity").trim(), 0, 1_000_000, -1);
    let signed_by = c.opt_text("signed_by", f.get("signed_by").trim(), 100);
    let note = c.opt_text("note", f.get("note").trim(), 200);
    let moved_on = date_or_today(&mut c, "moved_on", f.get("moved_on"), now);
    c.finish()?;
    Ok(StockInput {
        fund_id,
        item,
        unit,
        kind: kind.ok_or_else(|| vec![FieldError::new("move_kind", "form.required")])?,
        quantity,
        signed_by,
        note,
        moved_on,
    })
}

fn after(f: &str, v: impl Into<String>) -> Change {
    Change::new(f, None::<String>, Some(v.into()))
}

pub async fn create_fund(state: &AppState, ctx: &Ctx, input: FundInput) -> WebResult<String> {
    writer(ctx)?;
    let now = state.now();
    write_or_invalid(
        state,
        ctx,
        Entry::new("charity_fund", "create"),
        move |conn, scope, by| -> WorkWith<'_, String> {
            Box::pin(async move {
                let id = ch::create_fund(conn, &scope, &input, &by, now).await?;
                let done = Done {
                    entity_id: id.clone(),
                    region: Some(input.region.as_str().to_owned()),
                    changes: vec![
                        after("name", input.name.clone()),
                        after("host_name", input.host_name.clone()),
                        after("host_uscc", input.host_uscc.clone()),
                        after("purpose", input.purpose.clone()),
                        after("residual_rule", input.residual_rule.clone()),
                    ],
                };
                Ok((done, id))
            })
        },
    )
    .await
}

/// End a fund on a date (read from the form's `ends_on`).
pub async fn end_fund(state: &AppState, ctx: &Ctx, id: &str, f: &FormData) -> WebResult<()> {
    writer(ctx)?;
    let mut c = Check::default();
    let ends_on = c.date("ends_on", f.get("ends_on").trim());
    c.finish().map_err(WebError::Invalid)?;
    let (id, now) = (id.to_owned(), state.now());
    write_or_invalid(
        state,
        ctx,
        Entry::new("charity_fund", "update"),
        move |conn, scope, _by| -> WorkWith<'_, ()> {
            Box::pin(async move {
                let before = ch::end_fund(conn, &scope, &id, &ends_on, now).await?;
                let done = Done {
                    entity_id: id,
                    region: Some(before.region_code),
                    changes: vec![after("ends_on", ends_on)],
                };
                Ok((done, ()))
            })
        },
    )
    .await
}

pub async fn add_member(
    state: &AppState,
    ctx: &Ctx,
    fund: &str,
    input: MemberInput,
) -> WebResult<String> {
    writer(ctx)?;
    let (fund, now) = (fund.to_owned(), state.now());
    write_or_invalid(
        state,
        ctx,
        Entry::new("charity_fund", "add_member"),
        move |conn, scope, by| -> WorkWith<'_, String> {
            Box::pin(async move {
                let id = ch::add_member(conn, &scope, &fund, &input, &by, now).await?;
                let region = ch::get_fund(conn, &scope, &fund).await?.region_code;
                let done = Done {
                    entity_id: fund,
                    region: Some(region),
                    changes: vec![
                        after("name", input.name.clone()),
                        after("role", input.role.as_str()),
                    ],
                };
                Ok((done, id))
            })
        },
    )
    .await
}

pub async fn create_donation(
    state: &AppState,
    ctx: &Ctx,
    input: DonationInput,
) -> WebResult<String> {
    writer(ctx)?;
    let now = state.now();
    write_or_invalid(
        state,
        ctx,
        Entry::new("charity_donation", "create"),
        move |conn, scope, by| -> WorkWith<'_, String> {
            Box::pin(async move {
                let id = ch::create_donation(conn, &scope, &input, &by, now).await?;
                let region = ch::get_fund(conn, &scope, &input.fund_id)
                    .await?
                    .region_code;
                let mut changes = vec![
                    after("fund_id", input.fund_id.clone()),
                    after("kind", input.kind.as_str()),
                    after("amount", input.amount_fen.to_string()),
                    after("receipt", input.receipt.as_str()),
                ];
                if input.receipt == Receipt::Issued {
                    changes.push(after("receipt_no", input.receipt_no.clone()));
                }
                let done = Done {
                    entity_id: id.clone(),
                    region: Some(region),
                    changes,
                };
                Ok((done, id))
            })
        },
    )
    .await
}

pub async fn create_wish(state: &AppState, ctx: &Ctx, input: WishInput) -> WebResult<String> {
    writer(ctx)?;
    let now = state.now();
    write_or_invalid(
        state,
        ctx,
        Entry::new("charity_wish", "create"),
        move |conn, scope, by| -> WorkWith<'_, String> {
            Box::pin(async move {
                let id = ch::create_wish(conn, &scope, &input, &by, now).await?;
                let region = ch::get_fund(conn, &scope, &input.fund_id)
                    .await?
                    .region_code;
                let done = Done {
                    entity_id: id.clone(),
                    region: Some(region),
                    changes: vec![
                        after("fund_id", input.fund_id.clone()),
                        after("title", input.title.clone()),
                        after("value", input.value_fen.to_string()),
                    ],
                };
                Ok((done, id))
            })
        },
    )
    .await
}

/// Move a wish a step: claimed (by `claimant`), fulfilled, confirmed.
pub async fn step_wish(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    to: WishState,
    claimant: String,
    on: String,
) -> WebResult<()> {
    writer(ctx)?;
    let (id, now) = (id.to_owned(), state.now());
    write_or_invalid(
        state,
        ctx,
        Entry::new("charity_wish", "transition"),
        move |conn, scope, _by| -> WorkWith<'_, ()> {
            Box::pin(async move {
                let before = ch::step_wish(conn, &scope, &id, to, &claimant, &on, now).await?;
                let mut changes = vec![Change::new(
                    "state",
                    Some(before.state.as_str()),
                    Some(to.as_str()),
                )];
                if to == WishState::Claimed {
                    changes.push(after("claimant", claimant));
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

pub async fn propose(state: &AppState, ctx: &Ctx, input: DisbursementInput) -> WebResult<String> {
    writer(ctx)?;
    let now = state.now();
    write_or_invalid(
        state,
        ctx,
        Entry::new("charity_disbursement", "create"),
        move |conn, scope, by| -> WorkWith<'_, String> {
            Box::pin(async move {
                let id = ch::propose(conn, &scope, &input, &by, now).await?;
                let d = ch::get_disbursement(conn, &scope, &id).await?;
                let done = Done {
                    entity_id: id.clone(),
                    region: Some(d.region_code),
                    changes: vec![
                        after("fund_id", d.fund_id),
                        after("target_kind", d.target_kind.as_str()),
                        after("purpose", d.purpose),
                        after("amount", d.amount_fen.to_string()),
                    ],
                };
                Ok((done, id))
            })
        },
    )
    .await
}

pub async fn decide(state: &AppState, ctx: &Ctx, id: &str, d: Decision) -> WebResult<()> {
    writer(ctx)?;
    let (id, now) = (id.to_owned(), state.now());
    let action = if d.approve { "approve" } else { "reject" };
    write_or_invalid(
        state,
        ctx,
        Entry::new("charity_disbursement", action),
        move |conn, scope, _by| -> WorkWith<'_, ()> {
            Box::pin(async move {
                let before = ch::decide(conn, &scope, &id, &d, now).await?;
                let done = Done {
                    entity_id: id,
                    region: Some(before.region_code),
                    changes: vec![
                        Change::new(
                            "state",
                            Some(before.state.as_str()),
                            Some(if d.approve { "approved" } else { "rejected" }),
                        ),
                        after("resolution_ref", d.resolution_ref),
                        after("decided_on", d.decided_on),
                    ],
                };
                Ok((done, ()))
            })
        },
    )
    .await
}

/// Record a payment; one to a resident also writes their service record (linked and audited
/// with the payment), with the payer as its worker.
pub async fn pay(state: &AppState, ctx: &Ctx, id: &str, mut p: ch::Payment) -> WebResult<()> {
    let u = writer(ctx)?;
    p.workers = u.user.display_name.clone();
    let v = crate::people::residents::viewer(state, u);
    let (app, id, now) = (state.clone(), id.to_owned(), state.now());
    write_or_invalid(
        state,
        ctx,
        Entry::new("charity_disbursement", "pay"),
        move |conn, _scope, by| -> WorkWith<'_, ()> {
            Box::pin(async move {
                let before = ch::pay(conn, &v, &app.keys, &id, &p, &by, now).await?;
                let mut changes = vec![
                    Change::new("state", Some(before.state.as_str()), Some("paid")),
                    after("paid_on", p.paid_on),
                    after("voucher_no", p.voucher_no),
                ];
                let service = ch::get_disbursement(conn, &v.scope, &id).await?.service_id;
                if let Some(sid) = service {
                    changes.push(after("service_id", sid));
                    changes.extend(
                        p.duration_minutes
                            .map(|m| after("duration_minutes", m.to_string())),
                    );
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

pub async fn move_stock(state: &AppState, ctx: &Ctx, input: StockInput) -> WebResult<String> {
    writer(ctx)?;
    let now = state.now();
    write_or_invalid(
        state,
        ctx,
        Entry::new("charity_stock", "create"),
        move |conn, scope, by| -> WorkWith<'_, String> {
            Box::pin(async move {
                let id = ch::move_stock(conn, &scope, &input, &by, now).await?;
                let region = ch::get_fund(conn, &scope, &input.fund_id)
                    .await?
                    .region_code;
                let done = Done {
                    entity_id: id.clone(),
                    region: Some(region),
                    changes: vec![
                        after("fund_id", input.fund_id.clone()),
                        after("goods_item", input.item.clone()),
                        after("quantity", input.quantity.to_string()),
                    ],
                };
                Ok((done, id))
            })
        },
    )
    .await
}

/// Reads of the wish step form: the state, claimant and date.
pub fn step_input(f: &FormData, now: i64) -> Result<(WishState, String, String), Vec<FieldError>> {
    let mut c = Check::default();
    let to = c.take(
        WishState::parse(f.get("to")).map_err(|_| FieldError::new("to", "charity.wish_step")),
    );
    let claimant = c.opt_text("claimant", f.get("claimant").trim(), 100);
    let on = date_or_today(&mut c, "on", f.get("on"), now);
    c.finish()?;
    let to = to.ok_or_else(|| vec![FieldError::new("to", "charity.wish_step")])?;
    Ok((to, claimant, on))
}

/// Reads of the payment form: the date, voucher and, for a payment to a resident, the minutes of
/// the service record it writes (the payer fills in `workers` when writing).
pub fn payment_input(f: &FormData, now: i64) -> Result<ch::Payment, Vec<FieldError>> {
    let mut c = Check::default();
    let paid_on = date_or_today(&mut c, "paid_on", f.get("paid_on"), now);
    let voucher_no = c.opt_text("voucher_no", f.get("voucher_no").trim(), 50);
    let duration_minutes = match f.get("duration_minutes").trim() {
        "" => None,
        v => Some(c.int("duration_minutes", v, 1, 1440, 0)),
    };
    c.finish()?;
    Ok(ch::Payment {
        paid_on,
        voucher_no,
        duration_minutes,
        workers: String::new(),
    })
}

/// An id in a path or body longer than any id is nobody's.
pub fn check_id(id: &str) -> WebResult<()> {
    if id.len() > 64 {
        return Err(WebError::NotFound);
    }
    Ok(())
}
