//! The reports' pages: the list with filters, a period picker to open a unit's report, a
//! report's page (figures with their sources, manual lines to type, 补报 adjustments, the level
//! below with 及时率 and 完整率, the steps open to the reader, history), the printable A4 page for
//! the stamped paper copy, and the Excel file with title, unit, period and time inside and in
//! its name.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use shegong_domain::reports::{Action, Figures, Frequency, Period, ReportState, actions_from};
use shegong_domain::{FieldError, Permission};
use shegong_store::admin::audit::{self, Change, Event};
use shegong_store::reports::{self as rp, Filter, Report};
use shegong_store::{Page, PageRequest};

use super::{Loaded, load};
use crate::http::auth::{Ctx, reader};
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, Crumb, page};
use crate::http::state::AppState;
use crate::http::write::writer;
use crate::ui::excel::{Cell, Export, Sheet};
use crate::ui::forms::{Check, FormData, format_yuan, today};
use crate::ui::i18n::Tr;
use crate::ui::list::{FormErrors, Pager, filter_code, filter_region, local_time, pager};

fn crumbs(t: &Tr, rest: Vec<Crumb>) -> Vec<Crumb> {
    let mut c = vec![Crumb::link(t.get("menu.reports"), "/reports")];
    c.extend(rest);
    c
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    pub template: Option<String>,
    pub period: Option<String>,
    pub state: Option<String>,
    pub region: Option<String>,
    pub stale: Option<String>,
    /// `1`: only the reports late to submit.
    pub overdue: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    #[serde(default)]
    pub notice: Option<String>,
}

impl ListQuery {
    /// The list filter; `today` decides which reports are late.
    pub fn filter(&self, today: &str) -> WebResult<Filter> {
        let template = self
            .template
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty());
        if template.is_some_and(|t| !super::code::TEMPLATES.contains(&t)) {
            return Err(FieldError::new("template", "report.template_unknown").into());
        }
        let period = self
            .period
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty());
        if period.is_some_and(|p| p.chars().count() > 7) {
            return Err(FieldError::new("period", "report.period_invalid").into());
        }
        Ok(Filter {
            template: template.map(str::to_owned),
            period: period.map(str::to_owned),
            state: filter_code(&self.state, ReportState::parse)?,
            region: filter_region(&self.region)?,
            stale: self.stale.as_deref() == Some("1"),
            overdue_on: (self.overdue.as_deref() == Some("1")).then(|| today.to_owned()),
        })
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        let v = |o: &Option<String>| o.clone().unwrap_or_default();
        vec![
            ("template", v(&self.template)),
            ("period", v(&self.period)),
            ("state", v(&self.state)),
            ("region", v(&self.region)),
            ("stale", v(&self.stale)),
            ("overdue", v(&self.overdue)),
        ]
    }
}

#[derive(Template)]
#[template(path = "reports/list.html")]
struct ListPage {
    t: Tr,
    base: Base,
    rows: Vec<Report>,
    pager: Pager,
    q: ListQuery,
    templates: Vec<(String, String)>,
    states: Vec<(String, String)>,
    /// The open form: template, unit, period.
    f: FormData,
    errors: FormErrors,
    can_write: bool,
}

impl ListPage {
    fn sel(&self, v: &Option<String>, code: &str) -> bool {
        v.as_deref() == Some(code)
    }
    fn open_errors(&self) -> Vec<String> {
        self.errors.others(&[])
    }
    fn fsel(&self, field: &str, code: &str) -> bool {
        self.f.get(field) == code
    }
}

async fn list(
    ctx: &Ctx,
    state: &AppState,
    q: ListQuery,
    f: FormData,
    errors: Vec<FieldError>,
) -> WebResult<Response> {
    let u = reader(ctx)?;
    let t = ctx.tr();
    let data: Page<Report> = {
        let mut c = state.db.read().await?;
        rp::list(
            &mut c,
            &u.scope(),
            &q.filter(&today(state.now()))?,
            PageRequest::new(q.page, q.per_page),
        )
        .await?
    };
    let title = t.get("menu.reports");
    let pairs = q.pairs();
    Ok(page(
        if errors.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        },
        &ListPage {
            base: Base::new(ctx, title, crumbs(&t, vec![])).with_notice(&t, q.notice.as_deref()),
            pager: pager(&t, &data, "/reports", &pairs)?,
            rows: data.items,
            templates: t.options("report.template", &super::code::TEMPLATES),
            states: t.options("report.state", ReportState::ALL),
            errors: FormErrors::new(t, errors),
            can_write: u.can(Permission::WriteData),
            f,
            q,
            t,
        },
    ))
}

pub async fn list_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> WebResult<Response> {
    let u = reader(&ctx)?;
    // The period picker starts at last month: the one due now.
    let today =
        chrono::NaiveDate::parse_from_str(&today(state.now()), "%Y-%m-%d").unwrap_or_default();
    let last = Period::containing(today, Frequency::Month).prev();
    let f = FormData::new(vec![
        ("template".into(), "station_monthly".into()),
        ("region".into(), u.user.region_code.clone()),
        ("period".into(), last.to_string()),
    ]);
    list(&ctx, &state, q, f, vec![]).await
}

pub async fn open_page(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let r = match super::open_input(f.get("template"), f.get("region"), f.get("period")) {
        Ok(input) => super::open(&state, &ctx, input).await,
        Err(e) => Err(WebError::Invalid(e)),
    };
    match r {
        Ok(id) => Ok(Redirect::to(&format!("/reports/{id}")).into_response()),
        Err(WebError::Invalid(e)) => list(&ctx, &state, ListQuery::default(), f, e).await,
        Err(e) => Err(e),
    }
}

/// One line as shown: label, source, value and whether the unit may type it now.
pub struct ShownLine {
    pub code: String,
    pub section: String,
    pub source: String,
    pub value: String,
    pub raw: i64,
    /// The unit's own typed figure (a manual line's input; the levels below are added to it).
    pub own: i64,
    pub manual: bool,
}

fn shown_lines(l: &Loaded) -> Vec<ShownLine> {
    let own = l.r.manual_values();
    l.lines
        .iter()
        .map(|line| {
            let v = l.f.figures.get(&line.code).copied().unwrap_or(0);
            ShownLine {
                code: line.code.clone(),
                section: line.section.clone(),
                source: line.source.clone(),
                value: if line.money() {
                    format_yuan(v)
                } else {
                    v.to_string()
                },
                raw: v,
                own: own.get(&line.code).copied().unwrap_or(0),
                manual: line.manual(),
            }
        })
        .collect()
}

fn shown_adjustments(l: &Loaded) -> Vec<(String, String)> {
    l.lines
        .iter()
        .filter_map(|line| {
            let d = l.f.adjustments.get(&line.code).copied()?;
            let v = if line.money() {
                format_yuan(d)
            } else {
                d.to_string()
            };
            Some((line.code.clone(), if d > 0 { format!("+{v}") } else { v }))
        })
        .collect()
}

#[derive(Template)]
#[template(path = "reports/report.html")]
struct DetailPage {
    t: Tr,
    base: Base,
    l: Loaded,
    lines: Vec<ShownLine>,
    adjustments: Vec<(String, String)>,
    /// The steps the reader may take now.
    actions: Vec<String>,
    can_edit: bool,
    error: Option<String>,
    timeliness: String,
    completeness: String,
}

impl DetailPage {
    fn time(&self, millis: &i64) -> String {
        local_time(*millis)
    }
    fn needs_reason(&self, action: &str) -> bool {
        action == "return" || action == "request_unlock"
    }
}

fn percent(permille: i64) -> String {
    format!("{}.{}%", permille / 10, permille % 10)
}

async fn detail(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    error: Option<FieldError>,
    notice: Option<&str>,
) -> WebResult<Response> {
    let u = reader(ctx)?;
    let t = ctx.tr();
    let l = load(state, ctx, id).await?;
    let scope = u.scope();
    let writer = u.can(Permission::WriteData);
    let actions = actions_from(l.r.state)
        .into_iter()
        .filter(|a| writer && rp::may_act(&scope, &l.r.region_code, *a))
        .filter(|a| *a != Action::ApproveUnlock || l.unlock.is_some())
        .filter(|a| *a != Action::RequestUnlock || l.unlock.is_none())
        .map(|a| a.as_str().to_owned())
        .collect();
    let title = title_of(&t, &l.r);
    let error = error.map(|e| FormErrors::new(t, vec![e]).others(&[]).join(" "));
    Ok(page(
        if error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        &DetailPage {
            base: Base::new(ctx, title.clone(), crumbs(&t, vec![Crumb::here(title)]))
                .with_notice(&t, notice),
            lines: shown_lines(&l),
            adjustments: shown_adjustments(&l),
            can_edit: writer
                && l.r.state.editable()
                && rp::may_act(&scope, &l.r.region_code, Action::Submit),
            timeliness: percent(l.f.timeliness),
            completeness: percent(l.f.completeness),
            actions,
            l,
            error,
            t,
        },
    ))
}

/// "<unit> <period> <template>", the report's title.
fn title_of(t: &Tr, r: &Report) -> String {
    format!(
        "{} {} {}",
        r.region_name,
        r.period,
        t.label("report.template", &r.template_code)
    )
}

#[derive(Deserialize, Default)]
pub struct NoticeQuery {
    #[serde(default)]
    pub notice: Option<String>,
}

pub async fn detail_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> WebResult<Response> {
    detail(&state, &ctx, &id, None, q.notice.as_deref()).await
}

pub async fn act_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let r = match Action::parse(f.get("action")) {
        Ok(a) => super::act(&state, &ctx, id.clone(), a, f.get("reason").to_owned()).await,
        Err(e) => Err(WebError::Invalid(vec![e])),
    };
    match r {
        Ok(()) => Ok(Redirect::to(&format!("/reports/{id}?notice=notice.saved")).into_response()),
        Err(WebError::Invalid(e)) => detail(&state, &ctx, &id, e.into_iter().next(), None).await,
        Err(e) => Err(e),
    }
}

/// The manual lines typed on the report's page: fields `v_<line code>`.
pub async fn values_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let mut c = Check::default();
    let mut values = Figures::new();
    for (k, v) in f.pairs() {
        if let Some(code) = k.strip_prefix("v_").filter(|c| c.len() <= 64) {
            values.insert(
                code.to_owned(),
                c.int("values", v.trim(), 0, rp::MAX_MANUAL, 0),
            );
        }
    }
    let r = match c.finish() {
        Ok(()) => super::set_values(&state, &ctx, id.clone(), values).await,
        Err(e) => Err(WebError::Invalid(e)),
    };
    match r {
        Ok(()) => Ok(Redirect::to(&format!("/reports/{id}?notice=notice.saved")).into_response()),
        Err(WebError::Invalid(e)) => detail(&state, &ctx, &id, e.into_iter().next(), None).await,
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "reports/print.html")]
struct PrintPage {
    t: Tr,
    base: Base,
    l: Loaded,
    lines: Vec<ShownLine>,
    adjustments: Vec<(String, String)>,
    generated: String,
}

impl PrintPage {
    fn time(&self, millis: &i64) -> String {
        local_time(*millis)
    }
}

/// The printable page (A4) for the stamped paper copy: title, unit, period, the figures with
/// their sources, 补报 lines, the sign-off and room for the seal. Audited as a print.
pub async fn print_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let t = ctx.tr();
    let l = load(&state, &ctx, &id).await?;
    let title = title_of(&t, &l.r);
    let mut tx = state.db.begin().await?;
    audit::record(
        &mut tx,
        state.db.backend(),
        &ctx.actor(),
        Event::new("print", "report", Some(id.clone()))
            .region(l.r.region_code.clone())
            .changes(vec![Change::new(
                "period",
                None::<String>,
                Some(l.r.period.clone()),
            )]),
        state.now(),
    )
    .await?;
    tx.commit().await?;
    Ok(page(
        StatusCode::OK,
        &PrintPage {
            base: Base::new(&ctx, title.clone(), crumbs(&t, vec![Crumb::here(title)])),
            lines: shown_lines(&l),
            adjustments: shown_adjustments(&l),
            generated: local_time(state.now()),
            l,
            t,
        },
    ))
}

/// The report as an Excel file: title, unit, period and generated time above the figures and
/// in the file name.
pub async fn export(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let export = Export::check(&ctx, "report", Permission::Export)?;
    let t = ctx.tr();
    let l = load(&state, &ctx, &id).await?;
    let generated = local_time(state.now());
    let title = t.label("report.template", &l.r.template_code);
    let preamble = vec![
        title.clone(),
        format!("{}：{}", t.get("report.unit"), l.r.region_path),
        format!("{}：{}", t.get("field.period"), l.r.period),
        format!(
            "{}：{}",
            t.get("field.state"),
            t.label("report.state", l.r.state)
        ),
        format!("{}：{}", t.get("report.generated"), generated),
    ];
    let headers = [
        t.get("report.section_label"),
        t.get("report.line_label"),
        t.get("report.source_label"),
        t.get("report.value"),
    ];
    let mut rows: Vec<Vec<Cell>> = shown_lines(&l)
        .into_iter()
        .map(|s| {
            vec![
                t.label("report.section", &s.section).into(),
                t.label("report.line", &s.code).into(),
                t.label("report.source", &s.source).into(),
                if s.value.parse::<i64>().is_ok() {
                    Cell::Int(s.raw)
                } else {
                    Cell::Text(s.value)
                },
            ]
        })
        .collect();
    for (code, delta) in shown_adjustments(&l) {
        rows.push(vec![
            t.get("report.adjustment").into(),
            format!(
                "{}（{}）",
                t.label("report.line", &code),
                l.f.adjusted_period.clone().unwrap_or_default()
            )
            .into(),
            t.get("report.adjustment").into(),
            delta.into(),
        ]);
    }
    let file = format!(
        "{}_{}_{}_{}",
        title,
        l.r.region_name,
        l.r.period,
        generated.replace([' ', ':'], "-")
    );
    export
        .send_sheet(
            &state,
            &ctx,
            Sheet {
                file: &file,
                name: &title,
                preamble: &preamble,
                headers: &headers,
                rows: &rows,
            },
            vec![
                Change::new("report", None::<String>, Some(id.clone())),
                Change::new("period", None::<String>, Some(l.r.period.clone())),
            ],
        )
        .await
}
