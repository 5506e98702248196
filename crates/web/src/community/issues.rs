//! The ledger's pages: the list with filters (colour, state, category, overdue now) and its
//! Excel export, the new-issue form, an issue's page with its history and the steps it may take,
//! and the weekly or monthly tally per community.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Datelike, Days, Months, NaiveDate};
use serde::Deserialize;
use shegong_domain::community::{
    Category, Colour, IssueState, Rating, Responsibility, Source, Step, Subject, check_step,
};
use shegong_domain::{FieldError, Permission};
use shegong_store::community::{self as cm, Filter, Issue, IssueStep, Tally};
use shegong_store::{Page, PageRequest};

use crate::http::auth::{Ctx, reader};
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, Crumb, form_status, page};
use crate::http::state::AppState;
use crate::http::write::writer;
use crate::ui::excel::{self, Cell, Export};
use crate::ui::forms::{FormData, today};
use crate::ui::i18n::Tr;
use crate::ui::list::{
    FormErrors, Pager, date_start_millis, filter_code, filter_region, local_time, pager,
};

const ALL_ROWS: PageRequest = PageRequest {
    page: 1,
    per_page: excel::MAX_ROWS,
};

fn crumbs(t: &Tr, rest: Vec<Crumb>) -> Vec<Crumb> {
    let mut c = vec![Crumb::link(
        t.get("menu.community_issues"),
        "/community-issues",
    )];
    c.extend(rest);
    c
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    pub colour: Option<String>,
    pub state: Option<String>,
    pub category: Option<String>,
    /// `1`: open and past the due time now.
    pub overdue: Option<String>,
    pub region: Option<String>,
    pub q: Option<String>,
    /// `no`, `region`, `category`, `colour`, `state`, `raised` (latest first) or `due`; `-`
    /// before it reverses the order.
    pub sort: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    /// Export only: these issues (comma-separated ids of a batch selection, at most 200).
    pub ids: Option<String>,
    #[serde(default)]
    pub notice: Option<String>,
}

impl ListQuery {
    pub fn filter(&self, now: i64) -> WebResult<Filter> {
        Ok(Filter {
            region: filter_region(&self.region)?,
            colour: filter_code(&self.colour, Colour::parse)?,
            state: filter_code(&self.state, IssueState::parse)?,
            category: filter_code(&self.category, Category::parse)?,
            overdue_at: (self.overdue.as_deref() == Some("1")).then_some(now),
            raised: None,
            q: self.q.clone(),
            sort: self.sort(),
            ids: crate::ui::list::batch_ids(self.ids.as_deref())?,
        })
    }

    fn sort(&self) -> Option<shegong_store::Sort> {
        shegong_store::Sort::parse(self.sort.as_deref(), cm::SORTS)
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        let v = |o: &Option<String>| o.clone().unwrap_or_default();
        let [sort, size] = crate::ui::list::table_pairs(self.sort(), self.per_page);
        vec![
            ("colour", v(&self.colour)),
            ("state", v(&self.state)),
            ("category", v(&self.category)),
            ("overdue", v(&self.overdue)),
            ("region", v(&self.region)),
            ("q", v(&self.q)),
            sort,
            size,
        ]
    }
}

#[derive(Template)]
#[template(path = "community/issues.html")]
struct ListPage {
    t: Tr,
    base: Base,
    rows: Vec<Issue>,
    pager: Pager,
    q: ListQuery,
    colours: Vec<(String, String)>,
    states: Vec<(String, String)>,
    categories: Vec<(String, String)>,
    export_href: String,
    now: i64,
    can_write: bool,
    can_export: bool,
}

impl ListPage {
    fn sel(&self, v: &Option<String>, code: &str) -> bool {
        v.as_deref() == Some(code)
    }
    fn time(&self, millis: &i64) -> String {
        local_time(*millis)
    }
    fn late(&self, i: &Issue) -> bool {
        i.overdue(self.now)
    }
}

pub async fn list_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> WebResult<Response> {
    let u = reader(&ctx)?;
    let t = ctx.tr();
    let now = state.now();
    let data: Page<Issue> = {
        let mut c = state.db.read().await?;
        let page = PageRequest::sized(q.page, q.per_page);
        cm::list(&mut c, &u.scope(), &q.filter(now)?, page).await?
    };
    let title = t.get("menu.community_issues");
    let pairs = q.pairs();
    Ok(page(
        StatusCode::OK,
        &ListPage {
            base: Base::new(&ctx, title, crumbs(&t, vec![])).with_notice(&t, q.notice.as_deref()),
            pager: pager(&t, &data, "/community-issues", &pairs)?,
            export_href: format!(
                "/community-issues/export.xlsx?{}",
                serde_urlencoded::to_string(&pairs).unwrap_or_default()
            ),
            rows: data.items,
            colours: t.options("issue.colour", Colour::ALL),
            states: t.options("issue.state", IssueState::ALL),
            categories: t.options("issue.category", Category::ALL),
            can_write: u.can(Permission::WriteData),
            can_export: u.can(Permission::Export),
            now,
            q,
            t,
        },
    ))
}

pub async fn export(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> WebResult<Response> {
    let export = Export::check(&ctx, "community_issue", Permission::Export)?;
    let u = export.user();
    let t = ctx.tr();
    let now = state.now();
    let data = {
        let mut c = state.db.read().await?;
        cm::list(&mut c, &u.scope(), &q.filter(now)?, ALL_ROWS).await?
    };
    crate::ui::list::check_batch(
        crate::ui::list::batch_ids(q.ids.as_deref())?.as_ref(),
        data.items.len(),
    )?;
    let headers = [
        "field.issue_no",
        "field.region",
        "field.title",
        "field.category",
        "field.colour",
        "field.state",
        "issue.raised_at",
        "issue.due_at",
        "issue.overdue",
        "field.responsibility",
        "field.handler",
        "issue.answer",
        "issue.rating_label",
    ]
    .map(|k| t.get(k));
    let rows: Vec<Vec<Cell>> = data
        .items
        .iter()
        .map(|i| {
            vec![
                i.issue_no.clone().into(),
                i.region_path.clone().into(),
                i.title.clone().into(),
                t.label("issue.category", i.category).into(),
                t.label("issue.colour", i.shown_colour()).into(),
                t.label("issue.state", i.state).into(),
                local_time(i.raised_at).into(),
                local_time(i.due_at).into(),
                t.get(if i.overdue(now) {
                    "common.yes"
                } else {
                    "common.no"
                })
                .into(),
                i.responsibility
                    .as_deref()
                    .map(|r| t.label("issue.responsibility", r))
                    .unwrap_or_default()
                    .into(),
                i.handler.clone().into(),
                i.answer.clone().into(),
                i.rating
                    .as_deref()
                    .map(|r| t.label("issue.rating", r))
                    .unwrap_or_default()
                    .into(),
            ]
        })
        .collect();
    export
        .send(
            &state,
            &ctx,
            "menu.community_issues",
            &headers,
            &rows,
            vec![],
        )
        .await
}

#[derive(Template)]
#[template(path = "community/issue_form.html")]
struct NewPage {
    t: Tr,
    base: Base,
    f: FormData,
    errors: FormErrors,
    subjects: Vec<(String, String)>,
    sources: Vec<(String, String)>,
    categories: Vec<(String, String)>,
    colours: Vec<(String, String)>,
}

/// Fields shown on the form, in order: their errors show beside them.
const FORM_FIELDS: [&str; 11] = [
    "subject",
    "resident_id",
    "household_id",
    "region",
    "station",
    "origin",
    "source_ref",
    "category",
    "title",
    "description",
    "colour",
];

impl NewPage {
    fn other_errors(&self) -> Vec<String> {
        self.errors.others(&FORM_FIELDS)
    }
    /// The coded fields and their options, in form order.
    fn selects(&self) -> [(&'static str, &[(String, String)]); 4] {
        [
            ("subject", &self.subjects),
            ("origin", &self.sources),
            ("category", &self.categories),
            ("colour", &self.colours),
        ]
    }
}

async fn form(ctx: &Ctx, f: FormData, errors: Vec<FieldError>) -> WebResult<Response> {
    writer(ctx)?;
    let t = ctx.tr();
    let title = t.get("issue.new").to_owned();
    Ok(page(
        form_status(&errors),
        &NewPage {
            base: Base::new(ctx, title.clone(), crumbs(&t, vec![Crumb::here(title)])),
            f,
            errors: FormErrors::new(t, errors),
            subjects: t.options("issue.subject", Subject::ALL),
            sources: t.options("issue.source", Source::ALL),
            categories: t.options("issue.category", Category::ALL),
            colours: t.options("issue.colour", Colour::ALL),
            t,
        },
    ))
}

pub async fn new_page(ctx: Ctx, Query(q): Query<Vec<(String, String)>>) -> WebResult<Response> {
    let u = writer(&ctx)?;
    // A link from a resident's file or a visit may pre-fill the subject and the source.
    let mut pairs: Vec<(String, String)> = q
        .into_iter()
        .filter(|(k, _)| {
            [
                "subject",
                "resident_id",
                "household_id",
                "origin",
                "source_ref",
            ]
            .contains(&k.as_str())
        })
        .collect();
    pairs.push(("region".into(), u.user.region_code.clone()));
    form(&ctx, FormData::new(pairs), vec![]).await
}

pub async fn create_page(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let input = match super::issue_input(&f) {
        Ok(i) => i,
        Err(errors) => return form(&ctx, f, errors).await,
    };
    match super::create(&state, &ctx, input).await {
        Ok(id) => Ok(
            Redirect::to(&format!("/community-issues/{id}?notice=notice.saved")).into_response(),
        ),
        Err(WebError::Invalid(errors)) => form(&ctx, f, errors).await,
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "community/issue.html")]
struct DetailPage {
    t: Tr,
    base: Base,
    i: Issue,
    steps: Vec<IssueStep>,
    /// (step code, label) the issue may take now.
    next: Vec<(String, String)>,
    responsibilities: Vec<(String, String)>,
    overdue: bool,
    can_write: bool,
    error: Option<String>,
}

impl DetailPage {
    fn time(&self, millis: &i64) -> String {
        local_time(*millis)
    }
}

/// The steps an issue in `state` may take, as (code, label).
fn next_steps(t: &Tr, state: IssueState) -> Vec<(String, String)> {
    let steps = [
        ("verify", Step::Verify),
        ("dismiss", Step::Dismiss),
        ("assign", Step::Assign),
        ("handle", Step::Handle),
        ("answer", Step::Answer),
        ("rate_satisfied", Step::Rate(Rating::Satisfied)),
        ("rate_fair", Step::Rate(Rating::Fair)),
        ("rate_unsatisfied", Step::Rate(Rating::Unsatisfied)),
        ("archive", Step::Archive),
    ];
    steps
        .iter()
        .filter(|(_, s)| check_step(state, *s, "-").is_ok())
        .map(|(code, _)| ((*code).to_owned(), t.label("issue.step", code)))
        .collect()
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
    let (i, steps) = {
        let mut c = state.db.read().await?;
        let i = cm::get(&mut c, &u.scope(), id).await?;
        let steps = cm::steps(&mut c, &u.scope(), id).await?;
        (i, steps)
    };
    let title = format!("{} {}", i.issue_no, i.title);
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
            next: next_steps(&t, i.state),
            responsibilities: t.options("issue.responsibility", Responsibility::ALL),
            overdue: i.overdue(state.now()),
            can_write: u.can(Permission::WriteData),
            i,
            steps,
            error,
            t,
        },
    ))
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

pub async fn step_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let r = match super::step_input(&f) {
        Ok(input) => super::step(&state, &ctx, id.clone(), input).await,
        Err(e) => Err(WebError::Invalid(e)),
    };
    match r {
        Ok(()) => Ok(
            Redirect::to(&format!("/community-issues/{id}?notice=notice.saved")).into_response(),
        ),
        Err(WebError::Invalid(e)) => detail(&state, &ctx, &id, e.into_iter().next(), None).await,
        Err(e) => Err(e),
    }
}

#[derive(Deserialize, Default)]
pub struct TallyQuery {
    /// `week` (default) or `month`.
    pub period: Option<String>,
    /// A day within the period, `YYYY-MM-DD` (default today).
    pub date: Option<String>,
    pub region: Option<String>,
}

/// The period asked for: its first day, the first day after it, and whether it is a month.
pub fn period_of(q: &TallyQuery, today_s: &str) -> WebResult<(NaiveDate, NaiveDate, bool)> {
    let day_s = q
        .date
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .unwrap_or(today_s);
    let day = NaiveDate::parse_from_str(day_s, "%Y-%m-%d")
        .map_err(|_| FieldError::new("date", "date.invalid"))?;
    let month = match q.period.as_deref().map(str::trim) {
        None | Some("") | Some("week") => false,
        Some("month") => true,
        Some(_) => return Err(FieldError::new("period", "issue.period_unknown").into()),
    };
    let (from, to) = if month {
        let first = day.with_day(1).unwrap_or(day);
        (
            first,
            first.checked_add_months(Months::new(1)).unwrap_or(first),
        )
    } else {
        let monday = day
            .checked_sub_days(Days::new(u64::from(day.weekday().num_days_from_monday())))
            .unwrap_or(day);
        (
            monday,
            monday.checked_add_days(Days::new(7)).unwrap_or(monday),
        )
    };
    Ok((from, to, month))
}

/// The tally of the period in the reader's scope (under `region` when given).
pub async fn tally_of(
    state: &AppState,
    ctx: &Ctx,
    q: &TallyQuery,
) -> WebResult<(NaiveDate, NaiveDate, bool, Vec<Tally>)> {
    let u = reader(ctx)?;
    let (from, to, month) = period_of(q, &today(state.now()))?;
    let region = filter_region(&q.region)?;
    let millis = |d: NaiveDate| date_start_millis(&d.to_string()).unwrap_or_default();
    let mut c = state.db.read().await?;
    let rows = cm::tally(
        &mut c,
        &u.scope(),
        region.as_ref(),
        (millis(from), millis(to)),
    )
    .await?;
    Ok((from, to, month, rows))
}

#[derive(Template)]
#[template(path = "community/tally.html")]
struct TallyPage {
    t: Tr,
    base: Base,
    rows: Vec<Tally>,
    from: String,
    until: String,
    month: bool,
    date: String,
    region: String,
    export_href: String,
}

impl TallyPage {
    /// `n` of `of` as a percentage, "—" when there is nothing to rate.
    fn rate(&self, n: &i64, of: &i64) -> String {
        if *of == 0 {
            "—".into()
        } else {
            format!("{:.0}%", *n as f64 * 100.0 / *of as f64)
        }
    }
}

pub async fn tally_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<TallyQuery>,
) -> WebResult<Response> {
    let t = ctx.tr();
    let (from, to, month, rows) = tally_of(&state, &ctx, &q).await?;
    let title = t.get("menu.community_tally");
    let until = to.pred_opt().unwrap_or(to).to_string();
    let pairs = [
        ("period", if month { "month" } else { "week" }.to_owned()),
        ("date", from.to_string()),
        ("region", q.region.clone().unwrap_or_default()),
    ];
    Ok(page(
        StatusCode::OK,
        &TallyPage {
            base: Base::new(&ctx, title, crumbs(&t, vec![Crumb::here(title)])),
            export_href: format!(
                "/community-issues/tally.xlsx?{}",
                serde_urlencoded::to_string(pairs).unwrap_or_default()
            ),
            from: from.to_string(),
            until,
            month,
            date: q.date.clone().unwrap_or_else(|| today(state.now())),
            region: q.region.clone().unwrap_or_default(),
            rows,
            t,
        },
    ))
}

pub async fn tally_export(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<TallyQuery>,
) -> WebResult<Response> {
    let export = Export::check(&ctx, "community_issue", Permission::Export)?;
    let t = ctx.tr();
    let (from, _, _, rows) = tally_of(&state, &ctx, &q).await?;
    let headers = [
        "field.region",
        "issue.raised",
        "issue.colour.red",
        "issue.colour.yellow",
        "issue.colour.blue",
        "issue.answered",
        "issue.on_time",
        "issue.rated",
        "issue.satisfied",
        "issue.overdue",
    ]
    .map(|k| t.get(k));
    let cells: Vec<Vec<Cell>> = rows
        .iter()
        .map(|r| {
            vec![
                r.region_name.clone().into(),
                r.raised.into(),
                r.red.into(),
                r.yellow.into(),
                r.blue.into(),
                r.answered.into(),
                r.on_time.into(),
                r.rated.into(),
                r.satisfied.into(),
                r.overdue.into(),
            ]
        })
        .collect();
    export
        .send(
            &state,
            &ctx,
            "menu.community_tally",
            &headers,
            &cells,
            vec![shegong_store::admin::audit::Change::new(
                "from",
                None::<String>,
                Some(from.to_string()),
            )],
        )
        .await
}
