//! The charity pages: funds (list, new, Excel) and each fund's page — its committee, donations,
//! small wishes, disbursements with the committee's decisions, goods stock, each with its form
//! and Excel export — and the wish board across funds.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use shegong_domain::charity::{
    Channel, CommitteeRole, DisbursementState, DonationKind, MoveKind, Receipt, TargetKind,
    UseKind, WishState,
};
use shegong_domain::{FieldError, Permission};
use shegong_store::charity::{
    self as ch, Disbursement, DisbursementFilter, Donation, DonationFilter, Fund, Member,
    StockLine, StockMove, Wish, WishFilter,
};
use shegong_store::{Page, PageRequest};

use super::{can_write, writer};
use crate::http::auth::{Ctx, reader};
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, Crumb, form_status, page};
use crate::http::state::AppState;
use crate::ui::excel::{self, Cell, Export};
use crate::ui::forms::{FormData, format_yuan};
use crate::ui::i18n::Tr;
use crate::ui::list::{FormErrors, Pager, pager};

fn crumbs(t: &Tr, rest: Vec<Crumb>) -> Vec<Crumb> {
    let mut c = vec![Crumb::link(t.get("menu.charity"), "/charity/funds")];
    c.extend(rest);
    c
}

/// The stations in the caller's scope, for a fund's operator and a donation site: (id, name).
async fn stations(state: &AppState, ctx: &Ctx) -> WebResult<Vec<(String, String)>> {
    let u = reader(ctx)?;
    let mut c = state.db.read().await?;
    let f = shegong_store::network::stations::Filter::default();
    let p = shegong_store::network::stations::list(
        &mut c,
        &u.scope(),
        &f,
        PageRequest::new(Some(1), Some(500)),
    )
    .await?;
    Ok(p.items.into_iter().map(|s| (s.id, s.name)).collect())
}

fn yuan(fen: &i64) -> String {
    format_yuan(*fen)
}

const ALL_ROWS: PageRequest = PageRequest {
    page: 1,
    per_page: excel::MAX_ROWS,
};

#[derive(Deserialize, Default)]
pub struct FundsQuery {
    pub q: Option<String>,
    /// `name`, `region`, `host`, `starts` (latest first), `income` or `committed` (largest
    /// first); `-` before it reverses the order.
    pub sort: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    /// Export only: these funds (comma-separated ids of a batch selection, at most 200).
    pub ids: Option<String>,
    #[serde(default)]
    pub notice: Option<String>,
}

impl FundsQuery {
    fn sort(&self) -> Option<shegong_store::Sort> {
        shegong_store::Sort::parse(self.sort.as_deref(), ch::FUND_SORTS)
    }

    fn filter(&self) -> WebResult<ch::FundFilter> {
        Ok(ch::FundFilter {
            text: self.q.clone(),
            sort: self.sort(),
            ids: crate::ui::list::batch_ids(self.ids.as_deref())?,
        })
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        let [sort, size] = crate::ui::list::table_pairs(self.sort(), self.per_page);
        vec![("q", self.q.clone().unwrap_or_default()), sort, size]
    }
}

#[derive(Template)]
#[template(path = "charity/funds.html")]
struct FundsPage {
    t: Tr,
    base: Base,
    rows: Vec<Fund>,
    pager: Pager,
    q: String,
    export_href: String,
    can_create: bool,
    can_export: bool,
}

impl FundsPage {
    fn yuan(&self, fen: &i64) -> String {
        yuan(fen)
    }
    fn available(&self, f: &Fund) -> String {
        yuan(&f.available_fen())
    }
}

pub async fn funds(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<FundsQuery>,
) -> WebResult<Response> {
    let u = reader(&ctx)?;
    let t = ctx.tr();
    let data = {
        let mut c = state.db.read().await?;
        let page = PageRequest::sized(q.page, q.per_page);
        ch::list_funds_by(&mut c, &u.scope(), &q.filter()?, page).await?
    };
    let title = t.get("menu.charity");
    let text = q.q.clone().unwrap_or_default();
    let pairs = q.pairs();
    Ok(page(
        StatusCode::OK,
        &FundsPage {
            base: Base::new(&ctx, title, vec![Crumb::here(title)])
                .with_notice(&t, q.notice.as_deref()),
            pager: pager(&t, &data, "/charity/funds", &pairs)?,
            export_href: format!(
                "/charity/funds/export.xlsx?{}",
                serde_urlencoded::to_string(&pairs).unwrap_or_default()
            ),
            rows: data.items,
            q: text,
            can_create: can_write(u),
            can_export: u.can(Permission::Export),
            t,
        },
    ))
}

pub async fn export_funds(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<FundsQuery>,
) -> WebResult<Response> {
    let export = Export::check(&ctx, "charity_fund", Permission::Export)?;
    let u = export.user();
    let t = ctx.tr();
    let data = {
        let mut c = state.db.read().await?;
        ch::list_funds_by(&mut c, &u.scope(), &q.filter()?, ALL_ROWS).await?
    };
    crate::ui::list::check_batch(
        crate::ui::list::batch_ids(q.ids.as_deref())?.as_ref(),
        data.items.len(),
    )?;
    let headers = [
        "field.name",
        "field.region",
        "field.host_name",
        "field.host_uscc",
        "charity.income",
        "charity.goods_value",
        "charity.committed",
        "charity.paid",
        "field.starts_on",
    ]
    .map(|k| t.get(k));
    let rows: Vec<Vec<Cell>> = data
        .items
        .iter()
        .map(|f| {
            vec![
                f.name.clone().into(),
                f.region_path.clone().unwrap_or_default().into(),
                f.host_name.clone().into(),
                f.host_uscc.clone().into(),
                yuan(&f.income_fen).into(),
                yuan(&f.goods_fen).into(),
                yuan(&f.committed_fen).into(),
                yuan(&f.paid_fen).into(),
                f.starts_on.clone().into(),
            ]
        })
        .collect();
    export
        .send(&state, &ctx, "charity.funds", &headers, &rows, vec![])
        .await
}

#[derive(Template)]
#[template(path = "charity/fund_form.html")]
struct FundForm {
    t: Tr,
    base: Base,
    f: FormData,
    errors: FormErrors,
    stations: Vec<(String, String)>,
}

impl FundForm {
    fn other_errors(&self) -> Vec<String> {
        self.errors.others(&[
            "region",
            "station",
            "name",
            "host_name",
            "host_uscc",
            "host_public_fundraising",
            "initiator",
            "purpose",
            "residual_rule",
            "starts_on",
            "ends_on",
        ])
    }
}

async fn fund_form(
    state: &AppState,
    ctx: &Ctx,
    f: FormData,
    errors: Vec<FieldError>,
) -> WebResult<Response> {
    writer(ctx)?;
    let stations = stations(state, ctx).await?;
    let t = ctx.tr();
    let title = t.get("charity.new_fund").to_owned();
    Ok(page(
        form_status(&errors),
        &FundForm {
            base: Base::new(ctx, title.clone(), crumbs(&t, vec![Crumb::here(title)])),
            f,
            errors: FormErrors::new(t, errors),
            stations,
            t,
        },
    ))
}

pub async fn new_fund(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let u = writer(&ctx)?;
    let f = FormData::new(vec![
        ("region".into(), u.user.region_code.clone()),
        ("host_public_fundraising".into(), "1".into()),
    ]);
    fund_form(&state, &ctx, f, vec![]).await
}

pub async fn create_fund(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let input = match super::fund_input(&f) {
        Ok(i) => i,
        Err(errors) => return fund_form(&state, &ctx, f, errors).await,
    };
    match super::create_fund(&state, &ctx, input).await {
        Ok(id) => {
            Ok(Redirect::to(&format!("/charity/funds/{id}?notice=notice.saved")).into_response())
        }
        Err(WebError::Invalid(errors)) => fund_form(&state, &ctx, f, errors).await,
        Err(e) => Err(e),
    }
}

/// Which of the fund page's forms was sent (its errors show there).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Form {
    None,
    End,
    Member,
    Donation,
    Wish,
    Disbursement,
    Decision,
    Stock,
}

#[derive(Template)]
#[template(path = "charity/fund.html")]
struct FundPage {
    t: Tr,
    base: Base,
    fund: Fund,
    committee: Vec<Member>,
    donations: Page<Donation>,
    wishes: Vec<Wish>,
    disbursements: Vec<Disbursement>,
    stock: Vec<StockLine>,
    moves_list: Page<StockMove>,
    next_due: String,
    final_due: String,
    can_write: bool,
    errors: FormErrors,
    form: Form,
    f: FormData,
    roles: Vec<(String, String)>,
    kinds: Vec<(String, String)>,
    receipts: Vec<(String, String)>,
    uses: Vec<(String, String)>,
    channels: Vec<(String, String)>,
    targets: Vec<(String, String)>,
    moves: Vec<(String, String)>,
    stations: Vec<(String, String)>,
}

impl FundPage {
    fn yuan(&self, fen: &i64) -> String {
        yuan(fen)
    }
    fn available(&self, f: &Fund) -> String {
        yuan(&f.available_fen())
    }
    fn errors_of(&self, form: &str) -> Vec<(String, String)> {
        let sent = match form {
            "end" => Form::End,
            "member" => Form::Member,
            "donation" => Form::Donation,
            "wish" => Form::Wish,
            "disbursement" => Form::Disbursement,
            "decision" => Form::Decision,
            "stock" => Form::Stock,
            _ => Form::None,
        };
        if sent != self.form {
            return vec![];
        }
        // "Label: message", so the message names its field; the id names it for scripts.
        self.errors
            .fields
            .iter()
            .map(|e| {
                let label = self.t.get(&format!("field.{}", e.field)).to_owned();
                (
                    e.field.to_owned(),
                    format!("{label}: {}", self.t.get(e.code)),
                )
            })
            .collect()
    }
    fn role(&self, m: &Member) -> String {
        self.t.label("charity.role", m.role)
    }
    fn kind(&self, d: &Donation) -> String {
        self.t.label("charity.kind", d.kind)
    }
    fn receipt(&self, d: &Donation) -> String {
        match &d.receipt_no {
            Some(no) => no.clone(),
            None => self.t.label("charity.receipt", d.receipt),
        }
    }
    fn donor(&self, d: &Donation) -> String {
        d.donor_name
            .clone()
            .unwrap_or_else(|| self.t.get("charity.anonymous").to_owned())
    }
    fn wish_state(&self, w: &Wish) -> String {
        self.t.label("charity.wish_state", w.state)
    }
    fn next_step(&self, w: &Wish) -> Option<(String, String)> {
        w.state
            .next()
            .map(|s| (s.to_string(), self.t.label("charity.step", s)))
    }
    fn target(&self, d: &Disbursement) -> String {
        self.t.label("charity.target_kind", d.target_kind)
    }
    fn state(&self, d: &Disbursement) -> String {
        self.t.label("charity.disbursement_state", d.state)
    }
    fn proposed(&self, d: &Disbursement) -> bool {
        d.state == DisbursementState::Proposed
    }
    fn approved(&self, d: &Disbursement) -> bool {
        d.state == DisbursementState::Approved
    }
    fn move_kind(&self, m: &StockMove) -> String {
        self.t.label("charity.move_kind", m.kind)
    }
    fn open_wishes(&self) -> Vec<&Wish> {
        self.wishes
            .iter()
            .filter(|w| matches!(w.state, WishState::Posted | WishState::Claimed))
            .collect()
    }
}

async fn fund_page(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    notice: Option<&str>,
    (form, errors, f): (Form, Vec<FieldError>, FormData),
) -> WebResult<Response> {
    let u = reader(ctx)?;
    let t = ctx.tr();
    let scope = u.scope();
    let mut c = state.db.read().await?;
    let fund = ch::get_fund(&mut c, &scope, id).await?;
    let committee = ch::committee(&mut c, &scope, id).await?;
    let of_fund = Some(id.to_owned());
    let donations = ch::list_donations(
        &mut c,
        &scope,
        &DonationFilter {
            fund_id: of_fund.clone(),
            ..DonationFilter::default()
        },
        PageRequest::new(Some(1), Some(100)),
    )
    .await?;
    let wish_filter = WishFilter {
        fund_id: of_fund.clone(),
        state: None,
    };
    let wishes = ch::list_wishes(
        &mut c,
        &scope,
        &wish_filter,
        PageRequest::new(Some(1), Some(200)),
    )
    .await?
    .items;
    let d_filter = DisbursementFilter {
        fund_id: of_fund,
        state: None,
    };
    let disbursements = ch::list_disbursements(
        &mut c,
        &scope,
        &d_filter,
        PageRequest::new(Some(1), Some(200)),
    )
    .await?
    .items;
    let stock = ch::stock(&mut c, &scope, id).await?;
    let moves_list =
        ch::stock_moves(&mut c, &scope, id, PageRequest::new(Some(1), Some(50))).await?;
    drop(c);
    let stations = stations(state, ctx).await?;
    let due = super::api::disclosure(&fund, state.now());
    let none = || t.get("charity.not_due").to_owned();
    Ok(page(
        form_status(&errors),
        &FundPage {
            base: Base::new(
                ctx,
                fund.name.clone(),
                crumbs(&t, vec![Crumb::here(fund.name.clone())]),
            )
            .with_notice(&t, notice),
            next_due: due.next_due.map(|d| d.to_string()).unwrap_or_else(none),
            final_due: due.final_due.map(|d| d.to_string()).unwrap_or_else(none),
            can_write: can_write(u),
            errors: FormErrors::new(t, errors),
            roles: t.options("charity.role", CommitteeRole::ALL),
            kinds: t.options("charity.kind", DonationKind::ALL),
            receipts: t.options("charity.receipt", Receipt::ALL),
            uses: t.options("charity.use_kind", UseKind::ALL),
            channels: t.options("charity.channel", Channel::ALL),
            targets: t.options("charity.target_kind", TargetKind::ALL),
            moves: t.options("charity.move_kind", MoveKind::ALL),
            stations,
            form,
            f,
            fund,
            committee,
            donations,
            wishes,
            disbursements,
            stock,
            moves_list,
            t,
        },
    ))
}

#[derive(Deserialize, Default)]
pub struct NoticeQuery {
    #[serde(default)]
    pub notice: Option<String>,
}

pub async fn fund(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> WebResult<Response> {
    let none = (Form::None, vec![], FormData::new(vec![]));
    fund_page(&state, &ctx, &id, q.notice.as_deref(), none).await
}

/// After a fund page form: back to the page's section, or the page again with the errors.
async fn done(
    state: &AppState,
    ctx: &Ctx,
    fund: &str,
    form: Form,
    f: FormData,
    result: WebResult<()>,
) -> WebResult<Response> {
    let anchor = match form {
        Form::End => "fund-facts",
        Form::Member => "committee",
        Form::Donation => "donations",
        Form::Wish => "wishes",
        Form::Disbursement | Form::Decision => "disbursements",
        Form::Stock => "stock",
        Form::None => "",
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!(
            "/charity/funds/{}?notice=notice.saved#{anchor}",
            safe_id(fund)
        ))
        .into_response()),
        Err(WebError::Invalid(errors)) => {
            fund_page(state, ctx, fund, None, (form, errors, f)).await
        }
        Err(e) => Err(e),
    }
}

/// An id for a path: anything but letters, digits and '-' is dropped.
fn safe_id(id: &str) -> String {
    id.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(64)
        .collect()
}

fn with_fund(f: &FormData, id: &str) -> FormData {
    let mut pairs = f.pairs();
    pairs.retain(|(k, _)| k != "fund_id");
    pairs.push(("fund_id".into(), id.to_owned()));
    FormData::new(pairs)
}

pub async fn end_fund(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let result = super::end_fund(&state, &ctx, &id, &f).await;
    done(&state, &ctx, &id, Form::End, f, result).await
}

pub async fn add_member(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let result = match super::member_input(&f) {
        Ok(input) => super::add_member(&state, &ctx, &id, input)
            .await
            .map(|_| ()),
        Err(errors) => Err(WebError::Invalid(errors)),
    };
    done(&state, &ctx, &id, Form::Member, f, result).await
}

pub async fn create_donation(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let f = with_fund(&f, &id);
    let result = match super::donation_input(&f, state.now()) {
        Ok(input) => super::create_donation(&state, &ctx, input)
            .await
            .map(|_| ()),
        Err(errors) => Err(WebError::Invalid(errors)),
    };
    done(&state, &ctx, &id, Form::Donation, f, result).await
}

pub async fn create_wish(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let f = with_fund(&f, &id);
    let result = match super::wish_input(&f, state.now()) {
        Ok(input) => super::create_wish(&state, &ctx, input).await.map(|_| ()),
        Err(errors) => Err(WebError::Invalid(errors)),
    };
    done(&state, &ctx, &id, Form::Wish, f, result).await
}

pub async fn propose(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let f = with_fund(&f, &id);
    let result = match super::disbursement_input(&f) {
        Ok(input) => super::propose(&state, &ctx, input).await.map(|_| ()),
        Err(errors) => Err(WebError::Invalid(errors)),
    };
    done(&state, &ctx, &id, Form::Disbursement, f, result).await
}

pub async fn move_stock(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let f = with_fund(&f, &id);
    let result = match super::stock_input(&f, state.now()) {
        Ok(input) => super::move_stock(&state, &ctx, input).await.map(|_| ()),
        Err(errors) => Err(WebError::Invalid(errors)),
    };
    done(&state, &ctx, &id, Form::Stock, f, result).await
}

async fn fund_of_disbursement(state: &AppState, ctx: &Ctx, id: &str) -> WebResult<String> {
    let u = reader(ctx)?;
    let mut c = state.db.read().await?;
    Ok(ch::get_disbursement(&mut c, &u.scope(), id).await?.fund_id)
}

pub async fn decide(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let fund = fund_of_disbursement(&state, &ctx, &id).await?;
    let result = match super::decision_input(&f, state.now()) {
        Ok(d) => super::decide(&state, &ctx, &id, d).await,
        Err(errors) => Err(WebError::Invalid(errors)),
    };
    done(&state, &ctx, &fund, Form::Decision, f, result).await
}

pub async fn pay(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let fund = fund_of_disbursement(&state, &ctx, &id).await?;
    let result = match super::payment_input(&f, state.now()) {
        Ok(p) => super::pay(&state, &ctx, &id, p).await,
        Err(errors) => Err(WebError::Invalid(errors)),
    };
    done(&state, &ctx, &fund, Form::Decision, f, result).await
}

pub async fn step_wish(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let fund = {
        let u = reader(&ctx)?;
        let mut c = state.db.read().await?;
        ch::get_wish(&mut c, &u.scope(), &id).await?.fund_id
    };
    let result = match super::step_input(&f, state.now()) {
        Ok((to, claimant, on)) => super::step_wish(&state, &ctx, &id, to, claimant, on).await,
        Err(errors) => Err(WebError::Invalid(errors)),
    };
    if f.get("back") == "board" && result.is_ok() {
        return Ok(Redirect::to("/charity/wishes?notice=notice.saved").into_response());
    }
    done(&state, &ctx, &fund, Form::Wish, f, result).await
}

#[derive(Deserialize, Default)]
pub struct ExportQuery {
    pub kind: Option<String>,
    pub q: Option<String>,
}

pub async fn export_donations(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<ExportQuery>,
) -> WebResult<Response> {
    let export = Export::check(&ctx, "charity_donation", Permission::Export)?;
    let u = export.user();
    let t = ctx.tr();
    let kind = match q.kind.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(k) => Some(DonationKind::parse(k)?),
        None => None,
    };
    let f = DonationFilter {
        fund_id: Some(id.clone()),
        kind,
        q: q.q.clone(),
    };
    let data = {
        let mut c = state.db.read().await?;
        ch::get_fund(&mut c, &u.scope(), &id).await?;
        ch::list_donations(&mut c, &u.scope(), &f, ALL_ROWS).await?
    };
    let headers = [
        "field.received_on",
        "field.donor_name",
        "field.kind",
        "field.amount",
        "field.goods_item",
        "field.quantity",
        "field.receipt",
        "field.use_kind",
        "field.channel",
        "field.station",
    ]
    .map(|k| t.get(k));
    let rows: Vec<Vec<Cell>> = data
        .items
        .iter()
        .map(|d| {
            vec![
                d.received_on.clone().into(),
                d.donor_name
                    .clone()
                    .unwrap_or_else(|| t.get("charity.anonymous").to_owned())
                    .into(),
                t.label("charity.kind", d.kind).into(),
                yuan(&d.amount_fen).into(),
                d.item.clone().into(),
                format!("{} {}", d.quantity, d.unit).into(),
                d.receipt_no
                    .clone()
                    .unwrap_or_else(|| t.label("charity.receipt", d.receipt))
                    .into(),
                t.label("charity.use_kind", d.use_kind).into(),
                t.label("charity.channel", d.channel).into(),
                d.station_name.clone().unwrap_or_default().into(),
            ]
        })
        .collect();
    export
        .send(&state, &ctx, "charity.donations", &headers, &rows, vec![])
        .await
}

pub async fn export_disbursements(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let export = Export::check(&ctx, "charity_disbursement", Permission::Export)?;
    let u = export.user();
    let t = ctx.tr();
    let f = DisbursementFilter {
        fund_id: Some(id.clone()),
        state: None,
    };
    let data = {
        let mut c = state.db.read().await?;
        ch::get_fund(&mut c, &u.scope(), &id).await?;
        ch::list_disbursements(&mut c, &u.scope(), &f, ALL_ROWS).await?
    };
    let headers = [
        "field.target_kind",
        "field.purpose",
        "field.amount",
        "field.state",
        "field.resolution_ref",
        "field.decided_on",
        "field.paid_on",
    ]
    .map(|k| t.get(k));
    let rows: Vec<Vec<Cell>> = data
        .items
        .iter()
        .map(|d| {
            vec![
                t.label("charity.target_kind", d.target_kind).into(),
                d.purpose.clone().into(),
                yuan(&d.amount_fen).into(),
                t.label("charity.disbursement_state", d.state).into(),
                d.resolution_ref.clone().into(),
                d.decided_on.clone().unwrap_or_default().into(),
                d.paid_on.clone().unwrap_or_default().into(),
            ]
        })
        .collect();
    export
        .send(
            &state,
            &ctx,
            "charity.disbursements",
            &headers,
            &rows,
            vec![],
        )
        .await
}

pub async fn export_stock(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let export = Export::check(&ctx, "charity_stock", Permission::Export)?;
    let u = export.user();
    let t = ctx.tr();
    let data = {
        let mut c = state.db.read().await?;
        ch::stock(&mut c, &u.scope(), &id).await?
    };
    let headers = ["field.goods_item", "field.unit", "field.quantity"].map(|k| t.get(k));
    let rows: Vec<Vec<Cell>> = data
        .iter()
        .map(|s| {
            vec![
                s.item.clone().into(),
                s.unit.clone().into(),
                s.quantity.to_string().into(),
            ]
        })
        .collect();
    export
        .send(&state, &ctx, "charity.stock", &headers, &rows, vec![])
        .await
}

#[derive(Deserialize, Default)]
pub struct WishesQuery {
    pub state: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    #[serde(default)]
    pub notice: Option<String>,
}

impl WishesQuery {
    fn filter(&self) -> WebResult<WishFilter> {
        let state = match self
            .state
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(s) => Some(WishState::parse(s)?),
            None => None,
        };
        Ok(WishFilter {
            fund_id: None,
            state,
        })
    }
}

#[derive(Template)]
#[template(path = "charity/wishes.html")]
struct WishesPage {
    t: Tr,
    base: Base,
    rows: Vec<Wish>,
    pager: Pager,
    state: String,
    states: Vec<(String, String)>,
    export_href: String,
    can_write: bool,
}

impl WishesPage {
    fn yuan(&self, fen: &i64) -> String {
        yuan(fen)
    }
    fn wish_state(&self, w: &Wish) -> String {
        self.t.label("charity.wish_state", w.state)
    }
    fn next_step(&self, w: &Wish) -> Option<(String, String)> {
        w.state
            .next()
            .map(|s| (s.to_string(), self.t.label("charity.step", s)))
    }
}

/// The wish board: every wish in scope, by state.
pub async fn wishes(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<WishesQuery>,
) -> WebResult<Response> {
    let u = reader(&ctx)?;
    let t = ctx.tr();
    let data = {
        let mut c = state.db.read().await?;
        let page = PageRequest::new(q.page, q.per_page);
        ch::list_wishes(&mut c, &u.scope(), &q.filter()?, page).await?
    };
    let title = t.get("menu.charity_wishes");
    let st = q.state.clone().unwrap_or_default();
    let pairs = [("state", st.clone())];
    Ok(page(
        StatusCode::OK,
        &WishesPage {
            base: Base::new(&ctx, title, crumbs(&t, vec![Crumb::here(title)]))
                .with_notice(&t, q.notice.as_deref()),
            pager: pager(&t, &data, "/charity/wishes", &pairs)?,
            export_href: format!(
                "/charity/wishes/export.xlsx?{}",
                serde_urlencoded::to_string(pairs).unwrap_or_default()
            ),
            rows: data.items,
            states: t.options("charity.wish_state", WishState::ALL),
            state: st,
            can_write: can_write(u),
            t,
        },
    ))
}

pub async fn export_wishes(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<WishesQuery>,
) -> WebResult<Response> {
    let export = Export::check(&ctx, "charity_wish", Permission::Export)?;
    let u = export.user();
    let t = ctx.tr();
    let data = {
        let mut c = state.db.read().await?;
        ch::list_wishes(&mut c, &u.scope(), &q.filter()?, ALL_ROWS).await?
    };
    let headers = [
        "charity.fund",
        "field.title",
        "field.category",
        "field.value",
        "field.state",
        "field.claimant",
        "field.posted_on",
    ]
    .map(|k| t.get(k));
    let rows: Vec<Vec<Cell>> = data
        .items
        .iter()
        .map(|w| {
            vec![
                w.fund_name.clone().into(),
                w.title.clone().into(),
                w.category.clone().into(),
                yuan(&w.value_fen).into(),
                t.label("charity.wish_state", w.state).into(),
                w.claimant.clone().into(),
                w.posted_on.clone().into(),
            ]
        })
        .collect();
    export
        .send(&state, &ctx, "charity.wishes", &headers, &rows, vec![])
        .await
}

pub async fn export_moves(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let export = Export::check(&ctx, "charity_stock", Permission::Export)?;
    let u = export.user();
    let t = ctx.tr();
    let data = {
        let mut c = state.db.read().await?;
        ch::stock_moves(&mut c, &u.scope(), &id, ALL_ROWS).await?
    };
    let headers = [
        "field.moved_on",
        "field.move_kind",
        "field.goods_item",
        "field.unit",
        "charity.delta",
        "charity.counted",
        "field.signed_by",
        "field.note",
    ]
    .map(|k| t.get(k));
    let rows: Vec<Vec<Cell>> = data
        .items
        .iter()
        .map(|m| {
            vec![
                m.moved_on.clone().into(),
                t.label("charity.move_kind", m.kind).into(),
                m.item.clone().into(),
                m.unit.clone().into(),
                m.delta.to_string().into(),
                m.counted.map(|n| n.to_string()).unwrap_or_default().into(),
                m.signed_by.clone().into(),
                m.note.clone().into(),
            ]
        })
        .collect();
    export
        .send(&state, &ctx, "charity.moves", &headers, &rows, vec![])
        .await
}

pub async fn export_committee(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let export = Export::check(&ctx, "charity_fund", Permission::Export)?;
    let u = export.user();
    let t = ctx.tr();
    let data = {
        let mut c = state.db.read().await?;
        ch::committee(&mut c, &u.scope(), &id).await?
    };
    let headers = ["field.name", "field.role", "field.affiliation"].map(|k| t.get(k));
    let rows: Vec<Vec<Cell>> = data
        .iter()
        .map(|m| {
            vec![
                m.name.clone().into(),
                t.label("charity.role", m.role).into(),
                m.affiliation.clone().into(),
            ]
        })
        .collect();
    export
        .send(
            &state,
            &ctx,
            "charity.committee_list",
            &headers,
            &rows,
            vec![],
        )
        .await
}
