//! The time bank's pages: schemes (list, new, edit), a scheme's accounts (filters, pages, Excel)
//! with the form opening one, and each account's passbook with the entries it offers.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use shegong_domain::people::ServiceKind;
use shegong_domain::timebank::{AccountKind, CapOverflow, EntryKind, TransferTo};
use shegong_domain::{FieldError, Permission};
use shegong_store::timebank::{self as tb, Account, AccountFilter, PassbookLine, Scheme};
use shegong_store::{Page, PageRequest};

use super::{can_write, writer};
use crate::http::auth::{Ctx, reader};
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, Crumb, form_status, page};
use crate::http::state::AppState;
use crate::ui::excel::{self, Cell, Export};
use crate::ui::forms::FormData;
use crate::ui::i18n::Tr;
use crate::ui::list::{FormErrors, NoticeQuery, Pager, pager};

fn crumbs(t: &Tr, rest: Vec<Crumb>) -> Vec<Crumb> {
    let mut c = vec![Crumb::link(t.get("menu.timebank"), "/timebank")];
    c.extend(rest);
    c
}

#[derive(Deserialize, Default)]
pub struct SchemesQuery {
    pub q: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    #[serde(default)]
    pub notice: Option<String>,
}

#[derive(Template)]
#[template(path = "timebank/schemes.html")]
struct SchemesPage {
    t: Tr,
    base: Base,
    rows: Vec<Scheme>,
    pager: Pager,
    q: String,
    can_create: bool,
}

pub async fn schemes(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<SchemesQuery>,
) -> WebResult<Response> {
    let u = reader(&ctx)?;
    let t = ctx.tr();
    let data = {
        let mut c = state.db.read().await?;
        tb::list_schemes(
            &mut c,
            &u.scope(),
            q.q.as_deref(),
            PageRequest::new(q.page, q.per_page),
        )
        .await?
    };
    let title = t.get("menu.timebank");
    let text = q.q.clone().unwrap_or_default();
    Ok(page(
        StatusCode::OK,
        &SchemesPage {
            base: Base::new(&ctx, title, vec![Crumb::here(title)])
                .with_notice(&t, q.notice.as_deref()),
            pager: pager(&t, &data, "/timebank", &[("q", text.clone())])?,
            rows: data.items,
            q: text,
            can_create: can_write(u),
            t,
        },
    ))
}

#[derive(Template)]
#[template(path = "timebank/scheme_form.html")]
struct SchemeForm {
    t: Tr,
    base: Base,
    f: FormData,
    errors: FormErrors,
    action: String,
    overflows: Vec<(String, String)>,
    transfers: Vec<(String, String)>,
    kinds: Vec<(String, String)>,
    /// Other schemes in scope: (id, name).
    partners: Vec<(String, String)>,
}

impl SchemeForm {
    fn other_errors(&self) -> Vec<String> {
        self.errors.others(&[
            "region",
            "name",
            "operator",
            "unit_minutes",
            "daily_earn_cap",
            "balance_cap",
            "cap_overflow",
            "redeem_min_earned",
            "transfer_to",
            "min_balance",
            "eligible_kinds",
            "partners",
        ])
    }
    fn checked(&self, field: &str, v: &str) -> bool {
        self.f.has(field, v)
    }
}

async fn scheme_form(
    state: &AppState,
    ctx: &Ctx,
    id: Option<&str>,
    f: FormData,
    errors: Vec<FieldError>,
) -> WebResult<Response> {
    let u = writer(ctx)?;
    let t = ctx.tr();
    let partners = {
        let mut c = state.db.read().await?;
        tb::list_schemes(
            &mut c,
            &u.scope(),
            None,
            PageRequest::new(Some(1), Some(200)),
        )
        .await?
        .items
        .into_iter()
        .filter(|s| Some(s.id.as_str()) != id)
        .map(|s| (s.id, s.name))
        .collect()
    };
    let (title, action) = match id {
        Some(id) => (
            t.get("timebank.edit").to_owned(),
            format!("/timebank/{id}/edit"),
        ),
        None => (t.get("timebank.new").to_owned(), "/timebank".to_owned()),
    };
    Ok(page(
        form_status(&errors),
        &SchemeForm {
            base: Base::new(ctx, title.clone(), crumbs(&t, vec![Crumb::here(title)])),
            f,
            errors: FormErrors::new(t, errors),
            action,
            overflows: t.options("timebank.cap_overflow", CapOverflow::ALL),
            transfers: t.options("timebank.transfer_to", TransferTo::ALL),
            kinds: t.options("service.kind", ServiceKind::ALL),
            partners,
            t,
        },
    ))
}

fn scheme_pairs(s: &Scheme) -> FormData {
    let r = &s.rules;
    let opt = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
    let mut pairs = vec![
        ("region".to_owned(), s.region_code.clone()),
        ("name".to_owned(), s.name.clone()),
        ("operator".to_owned(), s.operator.clone()),
        ("unit_minutes".to_owned(), r.unit_minutes.to_string()),
        ("daily_earn_cap".to_owned(), opt(r.daily_earn_cap)),
        ("balance_cap".to_owned(), opt(r.balance_cap)),
        ("cap_overflow".to_owned(), r.cap_overflow.to_string()),
        (
            "redeem_min_earned".to_owned(),
            r.redeem_min_earned.to_string(),
        ),
        ("transfer_to".to_owned(), r.transfer_to.to_string()),
        ("min_balance".to_owned(), r.min_balance.to_string()),
    ];
    pairs.extend(
        r.eligible_kinds
            .iter()
            .map(|k| ("eligible_kinds".to_owned(), k.to_string())),
    );
    pairs.extend(
        r.partners
            .iter()
            .map(|p| ("partners".to_owned(), p.clone())),
    );
    FormData::new(pairs)
}

pub async fn new_scheme(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let u = writer(&ctx)?;
    let mut defaults = scheme_pairs(&Scheme {
        id: String::new(),
        region_code: u.user.region_code.clone(),
        region_path: None,
        name: String::new(),
        operator: String::new(),
        rules: shegong_domain::timebank::Rules::guangzhou(),
        accounts: 0,
        created_at: 0,
        updated_at: 0,
    })
    .pairs();
    defaults.retain(|(k, _)| k != "name");
    scheme_form(&state, &ctx, None, FormData::new(defaults), vec![]).await
}

pub async fn create_scheme(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let input = match super::scheme_input(&f) {
        Ok(i) => i,
        Err(errors) => return scheme_form(&state, &ctx, None, f, errors).await,
    };
    match super::create_scheme(&state, &ctx, input).await {
        Ok(id) => Ok(Redirect::to(&format!("/timebank/{id}?notice=notice.saved")).into_response()),
        Err(WebError::Invalid(errors)) => scheme_form(&state, &ctx, None, f, errors).await,
        Err(e) => Err(e),
    }
}

pub async fn edit_scheme(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let u = writer(&ctx)?;
    let s = {
        let mut c = state.db.read().await?;
        tb::get_scheme(&mut c, &u.scope(), &id).await?
    };
    scheme_form(&state, &ctx, Some(&id), scheme_pairs(&s), vec![]).await
}

pub async fn update_scheme(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    let u = writer(&ctx)?;
    // The region stays the scheme's.
    let region = {
        let mut c = state.db.read().await?;
        tb::get_scheme(&mut c, &u.scope(), &id).await?.region_code
    };
    let mut pairs = f.pairs();
    pairs.retain(|(k, _)| k != "region");
    pairs.push(("region".into(), region));
    let f = FormData::new(pairs);
    let input = match super::scheme_input(&f) {
        Ok(i) => i,
        Err(errors) => return scheme_form(&state, &ctx, Some(&id), f, errors).await,
    };
    match super::update_scheme(&state, &ctx, &id, input).await {
        Ok(()) => Ok(Redirect::to(&format!("/timebank/{id}?notice=notice.saved")).into_response()),
        Err(WebError::Invalid(errors)) => scheme_form(&state, &ctx, Some(&id), f, errors).await,
        Err(e) => Err(e),
    }
}

#[derive(Deserialize, Default)]
pub struct AccountsQuery {
    pub account_kind: Option<String>,
    pub q: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    #[serde(default)]
    pub notice: Option<String>,
}

impl AccountsQuery {
    fn filter(&self, scheme: &str) -> WebResult<AccountFilter> {
        let kind = match self
            .account_kind
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(k) => Some(AccountKind::parse(k)?),
            None => None,
        };
        Ok(AccountFilter {
            holder_id: None,
            scheme_id: Some(scheme.to_owned()),
            kind,
            q: self.q.clone(),
        })
    }
    fn pairs(&self) -> Vec<(&'static str, String)> {
        let v = |o: &Option<String>| o.clone().unwrap_or_default();
        vec![("account_kind", v(&self.account_kind)), ("q", v(&self.q))]
    }
}

#[derive(Template)]
#[template(path = "timebank/scheme.html")]
struct SchemePage {
    t: Tr,
    base: Base,
    s: Scheme,
    rows: Vec<Account>,
    pager: Pager,
    q: AccountsQuery,
    kinds: Vec<(String, String)>,
    export_href: String,
    can_write: bool,
    errors: FormErrors,
    f: FormData,
}

impl SchemePage {
    fn kind_label(&self, a: &Account) -> String {
        self.t.label("timebank.account_kind", a.kind)
    }
    fn account_errors(&self) -> Vec<String> {
        self.errors.others(&[])
    }
    fn rule(&self, key: &str) -> String {
        let r = &self.s.rules;
        let none = || self.t.get("timebank.no_limit").to_owned();
        match key {
            "unit_minutes" => r.unit_minutes.to_string(),
            "daily_earn_cap" => r.daily_earn_cap.map(|n| n.to_string()).unwrap_or_else(none),
            "balance_cap" => r.balance_cap.map(|n| n.to_string()).unwrap_or_else(none),
            "cap_overflow" => self.t.label("timebank.cap_overflow", r.cap_overflow),
            "redeem_min_earned" => r.redeem_min_earned.to_string(),
            "transfer_to" => self.t.label("timebank.transfer_to", r.transfer_to),
            "min_balance" => r.min_balance.to_string(),
            "eligible_kinds" => r
                .eligible_kinds
                .iter()
                .map(|k| self.t.label("service.kind", k))
                .collect::<Vec<_>>()
                .join("、"),
            _ => r.partners.len().to_string(),
        }
    }
}

async fn scheme_page(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    q: AccountsQuery,
    errors: Vec<FieldError>,
    f: FormData,
) -> WebResult<Response> {
    let u = reader(ctx)?;
    let t = ctx.tr();
    let (s, data) = {
        let mut c = state.db.read().await?;
        let s = tb::get_scheme(&mut c, &u.scope(), id).await?;
        let data = tb::list_accounts(
            &mut c,
            &u.scope(),
            &q.filter(id)?,
            PageRequest::new(q.page, q.per_page),
        )
        .await?;
        (s, data)
    };
    let pairs = q.pairs();
    Ok(page(
        form_status(&errors),
        &SchemePage {
            base: Base::new(
                ctx,
                s.name.clone(),
                crumbs(&t, vec![Crumb::here(s.name.clone())]),
            )
            .with_notice(&t, q.notice.as_deref()),
            pager: pager(&t, &data, &format!("/timebank/{id}"), &pairs)?,
            export_href: format!(
                "/timebank/{id}/accounts/export.xlsx?{}",
                serde_urlencoded::to_string(&pairs).unwrap_or_default()
            ),
            rows: data.items,
            kinds: t.options("timebank.account_kind", AccountKind::ALL),
            can_write: can_write(u),
            errors: FormErrors::new(t, errors),
            f,
            s,
            q,
            t,
        },
    ))
}

pub async fn scheme(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<AccountsQuery>,
) -> WebResult<Response> {
    scheme_page(&state, &ctx, &id, q, vec![], FormData::new(vec![])).await
}

pub async fn open_account(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let result = match super::account_input(&f) {
        Ok(input) => super::open_account(&state, &ctx, &id, input).await,
        Err(errors) => Err(WebError::Invalid(errors)),
    };
    match result {
        Ok(account) => Ok(Redirect::to(&format!(
            "/timebank/accounts/{account}?notice=notice.saved"
        ))
        .into_response()),
        Err(WebError::Invalid(errors)) => {
            scheme_page(&state, &ctx, &id, AccountsQuery::default(), errors, f).await
        }
        Err(e) => Err(e),
    }
}

pub async fn export(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<AccountsQuery>,
) -> WebResult<Response> {
    let export = Export::check(&ctx, "timebank_account", Permission::Export)?;
    let u = export.user();
    let t = ctx.tr();
    let data = {
        let mut c = state.db.read().await?;
        tb::get_scheme(&mut c, &u.scope(), &id).await?;
        tb::list_accounts(
            &mut c,
            &u.scope(),
            &q.filter(&id)?,
            PageRequest {
                page: 1,
                per_page: excel::MAX_ROWS,
            },
        )
        .await?
    };
    let headers = [
        "timebank.scheme",
        "field.account_kind",
        "field.holder_name",
        "field.balance",
        "timebank.earned_total",
    ]
    .map(|k| t.get(k));
    let rows: Vec<Vec<Cell>> = data
        .items
        .iter()
        .map(|a| {
            vec![
                a.scheme_name.clone().into(),
                t.label("timebank.account_kind", a.kind).into(),
                a.holder_name.clone().into(),
                a.balance.to_string().into(),
                a.earned_total.to_string().into(),
            ]
        })
        .collect();
    export
        .send(&state, &ctx, "timebank.accounts", &headers, &rows, vec![])
        .await
}

#[derive(Template)]
#[template(path = "timebank/passbook.html")]
struct PassbookPage {
    t: Tr,
    base: Base,
    a: Account,
    lines: Page<PassbookLine>,
    pager: Pager,
    /// (code, label) of the entries this account's page offers.
    entry_kinds: Vec<(String, String)>,
    /// Person accounts a transfer or partner scheme may reach: (id, "holder · scheme").
    targets: Vec<(String, String)>,
    can_write: bool,
    errors: FormErrors,
    f: FormData,
}

impl PassbookPage {
    fn kind_label(&self, code: &str) -> String {
        self.t.label("timebank.entry_kind", code)
    }
    fn account_kind(&self) -> String {
        self.t.label("timebank.account_kind", self.a.kind)
    }
    fn messages(&self) -> Vec<String> {
        self.errors.others(&[])
    }
    fn when(&self, millis: &i64) -> String {
        crate::ui::list::rfc3339(*millis)
    }
}

/// The entries an account of `kind` is posted on from its own page.
fn offered(kind: AccountKind) -> &'static [EntryKind] {
    match kind {
        AccountKind::Person => &[
            EntryKind::Earn,
            EntryKind::Grant,
            EntryKind::Redeem,
            EntryKind::Transfer,
            EntryKind::Donate,
            EntryKind::Interscheme,
        ],
        AccountKind::Group => &[EntryKind::Donate],
        _ => &[],
    }
}

#[derive(Deserialize, Default)]
pub struct PassbookQuery {
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    #[serde(default)]
    pub notice: Option<String>,
}

async fn passbook_page(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    q: PassbookQuery,
    errors: Vec<FieldError>,
    f: FormData,
) -> WebResult<Response> {
    let u = reader(ctx)?;
    let t = ctx.tr();
    let scope = u.scope();
    let (a, lines, targets) = {
        let mut c = state.db.read().await?;
        let a = tb::get_account(&mut c, &scope, id).await?;
        let lines = tb::passbook(&mut c, &scope, id, PageRequest::new(q.page, q.per_page)).await?;
        let s = tb::get_scheme(&mut c, &scope, &a.scheme_id).await?;
        let mut targets = Vec::new();
        for scheme in std::iter::once(&s.id).chain(s.rules.partners.iter()) {
            let f = AccountFilter {
                holder_id: None,
                scheme_id: Some(scheme.clone()),
                kind: Some(AccountKind::Person),
                q: None,
            };
            let page =
                tb::list_accounts(&mut c, &scope, &f, PageRequest::new(Some(1), Some(200))).await?;
            targets.extend(
                page.items
                    .into_iter()
                    .filter(|x| x.id != a.id)
                    .map(|x| (x.id, format!("{} · {}", x.holder_name, x.scheme_name))),
            );
        }
        (a, lines, targets)
    };
    let title = format!("{} · {}", a.holder_name, t.get("timebank.passbook"));
    Ok(page(
        form_status(&errors),
        &PassbookPage {
            base: Base::new(
                ctx,
                title.clone(),
                crumbs(
                    &t,
                    vec![
                        Crumb::link(a.scheme_name.clone(), format!("/timebank/{}", a.scheme_id)),
                        Crumb::here(title),
                    ],
                ),
            )
            .with_notice(&t, q.notice.as_deref()),
            pager: pager(&t, &lines, &format!("/timebank/accounts/{id}"), &[])?,
            entry_kinds: t.options("timebank.entry_kind", offered(a.kind)),
            can_write: can_write(u),
            errors: FormErrors::new(t, errors),
            targets,
            lines,
            a,
            f,
            t,
        },
    ))
}

pub async fn passbook(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<PassbookQuery>,
) -> WebResult<Response> {
    passbook_page(&state, &ctx, &id, q, vec![], FormData::new(vec![])).await
}

pub async fn post_entry(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let result = match super::entry_input(&f) {
        Ok(input) => super::post_entry(&state, &ctx, &id, input).await,
        Err(errors) => Err(WebError::Invalid(errors)),
    };
    match result {
        Ok(_) => Ok(
            Redirect::to(&format!("/timebank/accounts/{id}?notice=notice.saved")).into_response(),
        ),
        Err(WebError::Invalid(errors)) => {
            passbook_page(&state, &ctx, &id, PassbookQuery::default(), errors, f).await
        }
        Err(e) => Err(e),
    }
}

pub async fn reverse(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(_q): Query<NoticeQuery>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let back = f.get("account_id").trim().to_owned();
    let result = super::reverse(&state, &ctx, &id, f.get("note").trim().to_owned()).await;
    match result {
        Ok(_) if !back.is_empty() => Ok(Redirect::to(&format!(
            "/timebank/accounts/{}?notice=notice.saved",
            urlencoding(&back)
        ))
        .into_response()),
        Ok(_) => Ok(Redirect::to("/timebank?notice=notice.saved").into_response()),
        Err(WebError::Invalid(errors)) if !back.is_empty() => {
            passbook_page(&state, &ctx, &back, PassbookQuery::default(), errors, f).await
        }
        Err(e) => Err(e),
    }
}

/// An id for a path: anything but letters, digits and '-' is dropped.
fn urlencoding(id: &str) -> String {
    id.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(64)
        .collect()
}
