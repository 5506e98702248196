//! Contract pages: the scoped list with filters, pagination and Excel export, the detail page
//! (lines, budget, stations, payment plan with the steps each instalment may take) and the
//! new-contract form with line, budget and instalment rows.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use shegong_domain::people::ServiceKind;
use shegong_domain::purchase::contract::{
    BudgetCategory, ContractState, LineTier, ProcurementMethod,
};
use shegong_domain::purchase::evaluation::EvaluationKind;
use shegong_domain::purchase::format_percent;
use shegong_domain::purchase::instalment::{InstalmentState, Portion, Trigger};
use shegong_domain::{FieldError, Permission};
use shegong_store::PageRequest;
use shegong_store::network::orgs;
use shegong_store::purchase::contracts::{self, Contract, Filter};
use shegong_store::purchase::deliverables::{self, ContractDelivery, LineDelivery};
use shegong_store::purchase::execution::{self, StoredExpense, StoredPosition};
use shegong_store::purchase::instalments::Instalment;
use utoipa::IntoParams;

use crate::http::auth::{Ctx, reader};
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, Crumb, form_status, page};
use crate::http::state::AppState;
use crate::purchase::execution::{Execution, execution_of};
use crate::purchase::input::{self, FORM_ROWS};
use crate::purchase::writes;
use crate::ui::excel::{self, Cell, Export};
use crate::ui::forms::{FormData, today};
use crate::ui::i18n::Tr;
use crate::ui::list::{FormErrors, NoticeQuery, Pager, pager};

pub(super) fn today_date(now_millis: i64) -> NaiveDate {
    NaiveDate::parse_from_str(&today(now_millis), "%Y-%m-%d").unwrap_or_default()
}

/// The states an instalment may move to now: its state's successors its trigger allows.
pub(super) fn next_instalment_states(i: &Instalment) -> Vec<InstalmentState> {
    i.state
        .successors()
        .iter()
        .copied()
        .filter(|to| i.state.go_for(*to, i.trigger).is_ok())
        .collect()
}

#[derive(Deserialize, IntoParams, Default)]
pub struct ListQuery {
    /// Number, title or provider name contains.
    pub q: Option<String>,
    /// A contract state: `signed`, `in_force`, `suspended`, `terminated`,
    /// `awaiting_acceptance`, `accepted`, `settled` or `archived`.
    #[param(schema_with = crate::purchase::code::contract_state)]
    pub state: Option<String>,
    /// Contracts whose term touches this year.
    pub year: Option<String>,
    /// The provider organisation's id.
    pub provider: Option<String>,
    /// Order: `number`, `title`, `provider`, `region`, `amount` (largest first), `term` (latest
    /// first) or `state`; `-` before it reverses the order. Any other value is the default
    /// order (latest term first).
    #[param(schema_with = crate::http::api::code::contract_sort)]
    pub sort: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    /// Export only: these contracts (comma-separated ids of a batch selection, at most 200).
    #[serde(default)]
    #[param(ignore)]
    pub ids: Option<String>,
    #[serde(default)]
    #[param(ignore)]
    pub notice: Option<String>,
    /// Counts after an import, shown once.
    #[serde(default)]
    #[param(ignore)]
    pub created: Option<usize>,
    #[serde(default)]
    #[param(ignore)]
    pub updated: Option<usize>,
    #[serde(default)]
    #[param(ignore)]
    pub unchanged: Option<usize>,
    #[serde(default)]
    #[param(ignore)]
    pub skipped: Option<usize>,
}

impl ListQuery {
    /// "导入完成：新增 3，……" after an import.
    pub fn import_summary(&self, t: &Tr) -> Option<String> {
        crate::purchase::import::summary(
            t,
            [self.created, self.updated, self.unchanged, self.skipped],
        )
    }

    pub(super) fn filter(&self) -> WebResult<Filter> {
        let state = match self
            .state
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(s) => Some(ContractState::parse(s)?),
            None => None,
        };
        let year = match self
            .year
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(y) => Some(
                y.parse::<i32>()
                    .ok()
                    .filter(|y| (2000..=2100).contains(y))
                    .ok_or(FieldError::new("year", "purchase.year_invalid"))?,
            ),
            None => None,
        };
        Ok(Filter {
            q: self.q.clone(),
            state,
            year,
            provider: self.provider.clone(),
            sort: shegong_store::Sort::parse(self.sort.as_deref(), contracts::SORTS),
            ids: crate::ui::list::batch_ids(self.ids.as_deref())?,
        })
    }

    fn base_pairs(&self) -> Vec<(&'static str, String)> {
        let v = |o: &Option<String>| o.clone().unwrap_or_default();
        vec![
            ("q", v(&self.q)),
            ("state", v(&self.state)),
            ("year", v(&self.year)),
            ("provider", v(&self.provider)),
        ]
    }

    /// The list's query: the filters, the order and the page size.
    fn pairs(&self) -> Vec<(&'static str, String)> {
        let sort = shegong_store::Sort::parse(self.sort.as_deref(), contracts::SORTS);
        let mut pairs = self.base_pairs();
        pairs.extend(crate::ui::list::table_pairs(sort, self.per_page));
        pairs
    }
}

pub struct Row {
    pub id: String,
    pub number: String,
    pub title: String,
    pub provider: String,
    pub region: String,
    pub amount: String,
    pub term: String,
    pub method: String,
    pub state: String,
}

fn row(t: &Tr, c: &Contract) -> Row {
    Row {
        id: c.id.clone(),
        number: c.number.clone(),
        title: c.title.clone(),
        provider: c.provider_name.clone(),
        region: c
            .region_path
            .as_deref()
            .map(|p| shegong_domain::network::region::display_path(p.split('/')))
            .unwrap_or_else(|| c.region_code.clone()),
        amount: c.amount.format_yuan(),
        term: format!("{} ~ {}", c.term.start(), c.term.end()),
        method: t.get(&format!("purchase.method.{}", c.method)).to_owned(),
        state: t.get(&format!("purchase.state.{}", c.state)).to_owned(),
    }
}

#[derive(Template)]
#[template(path = "purchase/contracts.html")]
struct ListPage {
    t: Tr,
    base: Base,
    rows: Vec<Row>,
    pager: Pager,
    q: ListQuery,
    states: Vec<(String, String)>,
    /// (id, name) of the organisations the viewer sees, for the provider filter.
    providers: Vec<(String, String)>,
    export_href: String,
    can_create: bool,
    can_export: bool,
}

pub async fn list_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> WebResult<Response> {
    let u = reader(&ctx)?;
    let t = ctx.tr();
    let (data, providers) = {
        let mut c = state.db.read().await?;
        let data = contracts::list(
            &mut c,
            &u.scope(),
            &q.filter()?,
            PageRequest::sized(q.page, q.per_page),
        )
        .await?;
        let providers: Vec<(String, String)> = orgs::list(&mut c, &u.scope())
            .await?
            .into_iter()
            .map(|o| (o.id, o.name))
            .collect();
        (data, providers)
    };
    let pairs = q.pairs();
    let title = t.get("menu.contracts");
    Ok(page(
        StatusCode::OK,
        &ListPage {
            t,
            base: Base::new(&ctx, title, vec![Crumb::here(title)])
                .with_notice(&t, q.notice.as_deref()),
            rows: data.items.iter().map(|c| row(&t, c)).collect(),
            pager: pager(&t, &data, "/contracts", &pairs)?,
            export_href: format!(
                "/contracts/export.xlsx?{}",
                serde_urlencoded::to_string(&pairs).unwrap_or_default()
            ),
            states: t.options("purchase.state", ContractState::ALL),
            providers,
            can_create: writes::is_purchaser(u),
            can_export: u.can(Permission::Export),
            q,
        },
    ))
}

pub async fn export(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> WebResult<Response> {
    let export = Export::check(&ctx, "contract", Permission::Export)?;
    let u = export.user();
    let t = ctx.tr();
    let data = {
        let mut c = state.db.read().await?;
        contracts::list(
            &mut c,
            &u.scope(),
            &q.filter()?,
            PageRequest {
                page: 1,
                per_page: excel::MAX_ROWS,
            },
        )
        .await?
    };
    crate::ui::list::check_batch(
        crate::ui::list::batch_ids(q.ids.as_deref())?.as_ref(),
        data.items.len(),
    )?;
    let headers = [
        "purchase.number",
        "purchase.title",
        "purchase.provider",
        "purchase.provider_uscc",
        "purchase.region",
        "purchase.amount_yuan",
        "purchase.term_start",
        "purchase.term_end",
        "purchase.method_label",
        "common.status",
    ]
    .map(|k| t.get(k));
    let rows: Vec<Vec<Cell>> = data
        .items
        .iter()
        .map(|c| {
            let r = row(&t, c);
            vec![
                r.number.into(),
                r.title.into(),
                r.provider.into(),
                c.provider_uscc.clone().unwrap_or_default().into(),
                r.region.into(),
                r.amount.into(),
                c.term.start().to_string().into(),
                c.term.end().to_string().into(),
                r.method.into(),
                r.state.into(),
            ]
        })
        .collect();
    export
        .send(&state, &ctx, "menu.contracts", &headers, &rows, vec![])
        .await
}

/// An instalment on the contract page, with the steps it may take now.
pub struct InstalmentRow {
    pub seq: i64,
    pub portion: String,
    pub amount: String,
    pub trigger: String,
    pub state: String,
    pub outcome: String,
    pub payable: String,
    pub paid_on: String,
    /// (target state code, button label).
    pub steps: Vec<(String, String)>,
}

fn instalment_row(t: &Tr, i: &Instalment, can_pay: bool, can_request: bool) -> InstalmentRow {
    let trigger = match i.trigger {
        Trigger::Date { on } => t.fmt("purchase.trigger_date", &[("on", &on.to_string())]),
        Trigger::AssessedOn { on } => {
            t.fmt("purchase.trigger_assessed_on", &[("on", &on.to_string())])
        }
        Trigger::Evaluation { kind } => t.fmt(
            "purchase.trigger_evaluation",
            &[("kind", t.get(&format!("evaluation.kind.{kind}")))],
        ),
    };
    InstalmentRow {
        seq: i.seq,
        portion: match i.portion {
            Portion::Share(bp) => format!("{}%", format_percent(bp)),
            Portion::Amount(fen) => fen.format_yuan(),
        },
        amount: i.amount.format_yuan(),
        trigger,
        state: t.get(&format!("instalment.state.{}", i.state)).to_owned(),
        outcome: i
            .outcome
            .map(|o| t.get(&format!("instalment.outcome.{o}")).to_owned())
            .unwrap_or_default(),
        payable: i.payable.map(|p| p.format_yuan()).unwrap_or_default(),
        paid_on: i.paid_on.map(|d| d.to_string()).unwrap_or_default(),
        steps: next_instalment_states(i)
            .into_iter()
            .filter(|to| {
                if *to == InstalmentState::Requested {
                    can_request
                } else {
                    can_pay
                }
            })
            .map(|to| {
                (
                    to.to_string(),
                    t.get(&format!("instalment.step.{to}")).to_owned(),
                )
            })
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "purchase/contract.html")]
struct DetailPage {
    t: Tr,
    base: Base,
    c: Contract,
    region: String,
    method: String,
    state: String,
    /// (target state code, label) of the moves the viewer may make.
    moves: Vec<(String, String)>,
    lines: Vec<Vec<String>>,
    deliverables: Vec<DeliveryRow>,
    /// "As of <day>, <n>% of the term has passed" (and whether records still count).
    delivery_note: String,
    execution: Execution,
    /// The project this contract was awarded from: (id, number, name).
    project: Option<(String, String, String)>,
    expenses: Vec<StoredExpense>,
    positions: Vec<StoredPosition>,
    /// The provider's staff a post can be filled with: (id, name).
    staff: Vec<(String, String)>,
    /// The viewer may record expenses and fill posts (purchaser or the provider's own users).
    can_execute: bool,
    purchaser: bool,
    today: String,
    stations: Vec<(String, String)>,
    instalments: Vec<InstalmentRow>,
    errors: FormErrors,
    /// The form that failed, to show the error next to it with what was typed.
    failed: Option<Failed>,
    form: FormData,
}

/// Which form of the contract page an error belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failed {
    /// The contract's own state buttons.
    Contract,
    Instalment(i64),
    Expense,
    Void(String),
    Position,
    Fill(i64),
    EndFill(String),
}

impl DetailPage {
    fn messages(&self) -> Vec<String> {
        self.errors.others(&[])
    }

    fn failed_at(&self, seq: &i64) -> bool {
        self.failed == Some(Failed::Instalment(*seq))
    }

    fn failed_is(&self, what: &str, key: &str) -> bool {
        match (&self.failed, what) {
            (Some(Failed::Contract), "contract") => true,
            (Some(Failed::Expense), "expense") => true,
            (Some(Failed::Position), "position") => true,
            (Some(Failed::Void(id)), "void") | (Some(Failed::EndFill(id)), "end_fill") => id == key,
            (Some(Failed::Fill(seq)), "fill") => seq.to_string() == key,
            _ => false,
        }
    }

    /// What was typed in the failed form (empty otherwise).
    fn typed(&self, k: &str) -> &str {
        self.form.get(k)
    }

    fn budget_label(&self, seq: &i64) -> String {
        self.execution
            .lines
            .iter()
            .find(|l| l.0 == *seq)
            .map(|l| self.t.get(&format!("purchase.budget.{}", l.1)).to_owned())
            .unwrap_or_default()
    }
}

/// Whether the viewer may record the contract's execution (the purchaser or the provider's own
/// users), and the provider's staff to fill its posts with (read only when there are posts).
async fn execution_rights(
    state: &AppState,
    u: &crate::http::auth::CurrentUser,
    contract: &Contract,
    has_posts: bool,
) -> WebResult<(bool, Vec<(String, String)>)> {
    let scope = u.scope();
    let can_execute = u.can(Permission::WriteData)
        && scope
            .org
            .is_none_or(|org| org.to_string() == contract.provider_org_id);
    let staff = if can_execute && has_posts {
        let mut c = state.db.read().await?;
        execution::provider_staff(&mut c, &scope, &contract.id).await?
    } else {
        vec![]
    };
    Ok((can_execute, staff))
}

pub(super) async fn detail(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    notice: Option<&str>,
    error: Option<(Failed, FieldError)>,
    form: Option<FormData>,
) -> WebResult<Response> {
    let u = reader(ctx)?;
    let t = ctx.tr();
    let today = today_date(state.now());
    let scope = u.scope();
    let (d, delivered, expenses, positions, project) = {
        let mut c = state.db.read().await?;
        let d = contracts::detail(&mut c, &scope, id).await?;
        let delivered = deliverables::for_contract(&mut c, &scope, id, today).await?;
        let expenses = execution::expenses(&mut c, &scope, id).await?;
        let positions = execution::positions(&mut c, &scope, id).await?;
        let project = shegong_store::purchase::projects::of_contract(&mut c, &scope, id).await?;
        (d, delivered, expenses, positions, project)
    };
    let (can_execute, staff) =
        execution_rights(state, u, &d.contract, !positions.is_empty()).await?;
    let delivery_note = delivery_note(&t, &d.contract, today);
    let purchaser = writes::is_purchaser(u);
    let can_request = u.can(Permission::WriteData);
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let (failed, errors) = match error {
        Some((failed, e)) => (Some(failed), vec![e]),
        None => (None, vec![]),
    };
    let r = row(&t, &d.contract);
    let title = format!("{} {}", d.contract.number, d.contract.title);
    Ok(page(
        status,
        &DetailPage {
            t,
            base: Base::new(
                ctx,
                title.clone(),
                vec![
                    Crumb::link(t.get("menu.contracts"), "/contracts"),
                    Crumb::here(title),
                ],
            )
            .with_notice(&t, notice),
            region: r.region,
            method: r.method,
            state: r.state,
            moves: if purchaser {
                t.options("purchase.move", d.contract.state.successors())
            } else {
                vec![]
            },
            lines: d
                .lines
                .iter()
                .map(|l| {
                    vec![
                        l.seq.to_string(),
                        l.line
                            .service_kind
                            .map(|k| t.get(&format!("service.kind.{k}")).to_owned())
                            .unwrap_or_default(),
                        l.line.content.clone(),
                        l.line.unit.clone(),
                        l.line.unit_price.format_yuan(),
                        l.line.quantity.to_string(),
                        l.line.amount().map(|a| a.format_yuan()).unwrap_or_default(),
                        rule_text(&t, l.line.rule),
                        t.get(&format!("purchase.tier.{}", l.line.tier)).to_owned(),
                    ]
                })
                .collect(),
            deliverables: delivered.iter().map(|l| delivery_row(&t, l)).collect(),
            delivery_note,
            execution: execution_of(&d.budget),
            project,
            expenses,
            positions,
            staff,
            can_execute,
            purchaser,
            today: today.to_string(),
            stations: d.stations.clone(),
            instalments: d
                .instalments
                .iter()
                .map(|i| instalment_row(&t, i, purchaser, can_request))
                .collect(),
            errors: FormErrors::new(t, errors),
            failed,
            form: form.unwrap_or_else(|| FormData::new(vec![])),
            c: d.contract,
        },
    ))
}

/// A contract line's delivery on the contract page.
pub struct DeliveryRow {
    pub seq: i64,
    pub content: String,
    /// The tier's code (`core`, `basic`) and its label.
    pub tier: &'static str,
    pub tier_label: String,
    pub rule: String,
    /// The target with its unit.
    pub target: String,
    /// A number, or a note for lines not counted from records.
    pub delivered: String,
    pub percent: String,
    pub expected: String,
    /// "behind", "on_pace" or "" (not counted).
    pub pace: &'static str,
    pub pace_label: String,
}

fn delivery_row(t: &Tr, l: &LineDelivery) -> DeliveryRow {
    let (pace, pace_label) = match (l.delivered, l.behind) {
        (None, _) => ("", ""),
        (Some(_), true) => ("behind", t.get("delivery.behind")),
        (Some(_), false) => ("on_pace", t.get("delivery.on_pace")),
    };
    DeliveryRow {
        seq: l.seq,
        content: l.content.clone(),
        tier: l.tier.as_str(),
        tier_label: t.get(&format!("purchase.tier.{}", l.tier)).to_owned(),
        rule: rule_text(t, l.rule),
        target: format!("{} {}", l.target, l.unit),
        delivered: l
            .delivered
            .map(|d| d.to_string())
            .unwrap_or_else(|| t.get("delivery.not_counted").to_owned()),
        percent: l
            .delivered_bp
            .map(|bp| format!("{}%", format_percent(bp)))
            .unwrap_or_default(),
        expected: if l.delivered.is_some() {
            l.expected.to_string()
        } else {
            String::new()
        },
        pace,
        pace_label: pace_label.to_owned(),
    }
}

fn delivery_note(t: &Tr, c: &Contract, today: NaiveDate) -> String {
    let mut note = t.fmt(
        "delivery.as_of",
        &[
            ("day", &today.to_string()),
            ("elapsed", &format_percent(c.term.elapsed_bp(today))),
        ],
    );
    if !deliverables::counts_records(c.state) {
        note.push(' ');
        note.push_str(t.get("delivery.frozen"));
    }
    note
}

fn rule_text(t: &Tr, rule: shegong_domain::purchase::contract::QualifyingRule) -> String {
    use shegong_domain::purchase::contract::QualifyingRule as R;
    match rule {
        R::Each => t.get("purchase.rule.each").to_owned(),
        R::PersonTimes => t.get("purchase.rule.person_times").to_owned(),
        R::Group {
            min_sessions,
            min_person_times,
        } => t.fmt(
            "purchase.rule.group_text",
            &[
                ("sessions", &min_sessions.to_string()),
                ("person_times", &min_person_times.to_string()),
            ],
        ),
        R::Activity { min_participants } => t.fmt(
            "purchase.rule.activity_text",
            &[("participants", &min_participants.to_string())],
        ),
        R::ClosedCase { min_follow_ups } => t.fmt(
            "purchase.rule.closed_case_text",
            &[("follow_ups", &min_follow_ups.to_string())],
        ),
    }
}

pub async fn detail_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> WebResult<Response> {
    detail(&state, &ctx, &id, q.notice.as_deref(), None, None).await
}

/// The contract page's state buttons.
pub async fn move_state(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writes::purchaser(&ctx)?;
    let result = match ContractState::parse(f.get("to")) {
        Ok(to) => writes::move_contract(&state, &ctx, &id, to)
            .await
            .map(|_| ()),
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/contracts/{id}?notice=notice.saved")).into_response()),
        Err(WebError::Invalid(errors)) => {
            let e = errors.into_iter().next();
            detail(
                &state,
                &ctx,
                &id,
                None,
                e.map(|e| (Failed::Contract, e)),
                None,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// An instalment's step from the contract page.
pub async fn move_instalment(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, seq)): Path<(String, i64)>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    crate::http::write::writer(&ctx)?;
    let result = match input::step(&f, today_date(state.now())) {
        Ok(step) => writes::move_instalment(&state, &ctx, &id, seq, step)
            .await
            .map(|_| ()),
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/contracts/{id}?notice=notice.saved")).into_response()),
        Err(WebError::Invalid(errors)) => {
            let e = errors.into_iter().next();
            detail(
                &state,
                &ctx,
                &id,
                None,
                e.map(|e| (Failed::Instalment(seq), e)),
                None,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// A row of the form's lines, budget or plan: its values by column key.
pub struct FormRow {
    pub i: usize,
    pub values: Vec<(String, String)>,
}

impl FormRow {
    pub fn get(&self, k: &str) -> &str {
        self.values
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }
}

fn rows(f: &FormData, columns: &[&str]) -> Vec<FormRow> {
    (0..FORM_ROWS)
        .map(|i| FormRow {
            i,
            values: columns
                .iter()
                .map(|c| ((*c).to_owned(), f.get(&format!("{c}_{i}")).to_owned()))
                .collect(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "purchase/contract_form.html")]
struct FormPage {
    t: Tr,
    base: Base,
    f: FormData,
    errors: FormErrors,
    lines: Vec<FormRow>,
    budget_rows: Vec<FormRow>,
    plan_rows: Vec<FormRow>,
    methods: Vec<(String, String)>,
    kinds: Vec<(String, String)>,
    /// (code, label) of the line tiers, basic first (the default).
    tiers: Vec<(String, String)>,
    categories: Vec<(String, String)>,
    evaluation_kinds: Vec<(String, String)>,
    /// (id, name) of the organisations the writer sees, for provider and purchaser.
    orgs: Vec<(String, String)>,
    /// (id, name) of the stations in the writer's scope.
    stations: Vec<(String, String)>,
}

impl FormPage {
    /// Errors of fields the form has no control for.
    fn other_errors(&self) -> Vec<String> {
        self.errors.others(&[
            "region",
            "contract_number",
            "title",
            "amount",
            "term_start",
            "term_end",
            "reduction_rule",
            "provider_org_id",
            "purchaser_org_id",
            "procurement_method",
            "stations",
            "lines",
            "budget",
            "payment_plan",
        ])
    }

    fn station_checked(&self, id: &str) -> bool {
        self.f.has("stations", id)
    }
}

async fn form_page(
    state: &AppState,
    ctx: &Ctx,
    f: FormData,
    errors: Vec<FieldError>,
) -> WebResult<Response> {
    let u = writes::purchaser(ctx)?;
    let t = ctx.tr();
    let scope = u.scope();
    let (orgs, stations) = {
        let mut c = state.db.read().await?;
        let orgs = orgs::list(&mut c, &scope).await?;
        let stations = shegong_store::network::stations::list(
            &mut c,
            &scope,
            &shegong_store::network::stations::Filter::default(),
            PageRequest::new(Some(1), Some(200)),
        )
        .await?;
        (
            orgs.into_iter().map(|o| (o.id, o.name)).collect(),
            stations.items.into_iter().map(|s| (s.id, s.name)).collect(),
        )
    };
    let status = form_status(&errors);
    let title = t.get("purchase.new_contract");
    Ok(page(
        status,
        &FormPage {
            t,
            base: Base::new(
                ctx,
                title,
                vec![
                    Crumb::link(t.get("menu.contracts"), "/contracts"),
                    Crumb::here(title),
                ],
            ),
            lines: rows(
                &f,
                &[
                    "line_kind",
                    "line_content",
                    "line_unit",
                    "line_price",
                    "line_quantity",
                    "line_rule",
                    "line_a",
                    "line_b",
                    "line_tier",
                ],
            ),
            budget_rows: rows(&f, &["budget_category", "budget_amount"]),
            plan_rows: rows(
                &f,
                &["inst_portion", "inst_trigger", "inst_on", "inst_kind"],
            ),
            f,
            errors: FormErrors::new(t, errors),
            methods: t.options("purchase.method", ProcurementMethod::ALL),
            kinds: t.options("service.kind", ServiceKind::ALL),
            tiers: t.options("purchase.tier", &[LineTier::Basic, LineTier::Core]),
            categories: t.options("purchase.budget", BudgetCategory::ALL),
            evaluation_kinds: t.options("evaluation.kind", EvaluationKind::ALL),
            orgs,
            stations,
        },
    ))
}

pub async fn new_form(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let u = writes::purchaser(&ctx)?;
    let f = FormData::new(vec![
        ("region".into(), u.user.region_code.clone()),
        ("procurement_method".into(), "public_tender".into()),
        ("plan".into(), "40/40/20".into()),
    ]);
    form_page(&state, &ctx, f, vec![]).await
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writes::purchaser(&ctx)?;
    let parsed = match input::contract(&f) {
        Ok(p) => p,
        Err(errors) => return form_page(&state, &ctx, f, errors).await,
    };
    match writes::create_contract(&state, &ctx, parsed).await {
        Ok(id) => Ok(Redirect::to(&format!("/contracts/{id}?notice=notice.saved")).into_response()),
        Err(WebError::Invalid(errors)) => form_page(&state, &ctx, f, errors).await,
        Err(e) => Err(e),
    }
}

/// A contract on the delivery overview.
pub struct OverviewRow {
    pub id: String,
    pub number: String,
    pub title: String,
    pub provider: String,
    pub term: String,
    pub state: String,
    pub counted_lines: i64,
    pub delivered: String,
    pub elapsed: String,
    pub behind_lines: i64,
}

fn overview_row(t: &Tr, d: &ContractDelivery) -> OverviewRow {
    let r = row(t, &d.contract);
    OverviewRow {
        id: r.id,
        number: r.number,
        title: r.title,
        provider: r.provider,
        term: r.term,
        state: r.state,
        counted_lines: d.counted_lines,
        delivered: d
            .delivered_bp
            .map(|bp| format!("{}%", format_percent(bp)))
            .unwrap_or_default(),
        elapsed: format!("{}%", format_percent(d.elapsed_bp)),
        behind_lines: d.behind_lines,
    }
}

#[derive(Template)]
#[template(path = "purchase/contract_delivery.html")]
struct DeliveryPage {
    t: Tr,
    base: Base,
    rows: Vec<OverviewRow>,
    pager: Pager,
    q: ListQuery,
    states: Vec<(String, String)>,
    export_href: String,
}

/// The region's purchase overview: the contracts in scope with how far their lines are
/// delivered against the elapsed term, read from the maintained counts.
pub async fn delivery_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> WebResult<Response> {
    let u = reader(&ctx)?;
    let t = ctx.tr();
    let data = {
        let mut c = state.db.read().await?;
        deliverables::overview(
            &mut c,
            &u.scope(),
            &q.filter()?,
            PageRequest::new(q.page, q.per_page),
            today_date(state.now()),
        )
        .await?
    };
    let pairs = q.base_pairs();
    let title = t.get("menu.delivery");
    Ok(page(
        StatusCode::OK,
        &DeliveryPage {
            t,
            base: Base::new(
                &ctx,
                title,
                vec![
                    Crumb::link(t.get("menu.contracts"), "/contracts"),
                    Crumb::here(title),
                ],
            ),
            rows: data.items.iter().map(|d| overview_row(&t, d)).collect(),
            pager: pager(&t, &data, "/contracts/delivery", &pairs)?,
            states: t.options("purchase.state", ContractState::ALL),
            export_href: format!(
                "/contracts/delivery/export.xlsx?{}",
                serde_urlencoded::to_string(&pairs).unwrap_or_default()
            ),
            q,
        },
    ))
}

/// The delivery overview as an Excel file (the contracts of the filter, up to the export cap).
pub async fn delivery_export(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> WebResult<Response> {
    let export = Export::check(&ctx, "contract", Permission::Export)?;
    let u = export.user();
    let t = ctx.tr();
    let data = {
        let mut c = state.db.read().await?;
        deliverables::overview(
            &mut c,
            &u.scope(),
            &q.filter()?,
            PageRequest {
                page: 1,
                per_page: excel::MAX_ROWS,
            },
            today_date(state.now()),
        )
        .await?
    };
    let headers = [
        "purchase.number",
        "purchase.title",
        "purchase.provider",
        "purchase.term",
        "common.status",
        "delivery.counted_lines",
        "delivery.percent",
        "delivery.elapsed",
        "delivery.behind_lines",
    ]
    .map(|k| t.get(k));
    let rows: Vec<Vec<Cell>> = data
        .items
        .iter()
        .map(|d| {
            let r = overview_row(&t, d);
            vec![
                r.number.into(),
                r.title.into(),
                r.provider.into(),
                r.term.into(),
                r.state.into(),
                r.counted_lines.into(),
                r.delivered.into(),
                r.elapsed.into(),
                r.behind_lines.into(),
            ]
        })
        .collect();
    export
        .send(&state, &ctx, "menu.delivery", &headers, &rows, vec![])
        .await
}
