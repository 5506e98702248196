//! The pages: needs (list, export, form), a need with the matcher's proposals and its matches'
//! steps, the resources serving the reader's area, and a community's three lists for a month
//! with their exports and the township's approval.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use shegong_domain::matching::{
    DayPart, HelpKind, MatchState, MatchStep, NeedSource, NeedState, NeedSubject, ResourceKind,
    check_step,
};
use shegong_domain::{FieldError, Permission, RegionCode};
use shegong_store::matching::lists::{self, Approval, Lists};
use shegong_store::matching::matches::{self as mm, Match};
use shegong_store::matching::needs::{self as nd, Need};
use shegong_store::matching::resources::{self as rs, Area, Proposals, Resource};
use shegong_store::{Page, PageRequest};

use crate::http::auth::{Ctx, reader};
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, Crumb, form_status, page};
use crate::http::state::AppState;
use crate::http::write::writer;
use crate::ui::excel::{self, Cell, Export};
use crate::ui::forms::{FormData, format_yuan};
use crate::ui::i18n::Tr;
use crate::ui::list::{FormErrors, Pager, filter_code, filter_region, local_time, pager};

const ALL_ROWS: PageRequest = PageRequest {
    page: 1,
    per_page: excel::MAX_ROWS,
};

fn crumbs(t: &Tr, rest: Vec<Crumb>) -> Vec<Crumb> {
    let mut c = vec![Crumb::link(t.get("menu.needs"), "/matching/needs")];
    c.extend(rest);
    c
}

#[derive(Deserialize, Default)]
pub struct NeedsQuery {
    pub help_kind: Option<String>,
    pub state: Option<String>,
    pub region: Option<String>,
    pub resident_id: Option<String>,
    pub q: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    #[serde(default)]
    pub notice: Option<String>,
}

impl NeedsQuery {
    pub fn filter(&self) -> WebResult<nd::Filter> {
        Ok(nd::Filter {
            region: filter_region(&self.region)?,
            help_kind: filter_code(&self.help_kind, HelpKind::parse)?,
            state: filter_code(&self.state, NeedState::parse)?,
            resident_id: self.resident_id.clone().filter(|r| !r.trim().is_empty()),
            created: None,
            q: self.q.clone(),
        })
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        let v = |o: &Option<String>| o.clone().unwrap_or_default();
        vec![
            ("help_kind", v(&self.help_kind)),
            ("state", v(&self.state)),
            ("region", v(&self.region)),
            ("resident_id", v(&self.resident_id)),
            ("q", v(&self.q)),
        ]
    }
}

#[derive(Deserialize, Default)]
pub struct MatchesQuery {
    pub state: Option<String>,
    pub resource_kind: Option<String>,
    pub need_id: Option<String>,
    pub region: Option<String>,
}

impl MatchesQuery {
    pub fn filter(&self) -> WebResult<mm::Filter> {
        Ok(mm::Filter {
            region: filter_region(&self.region)?,
            need_id: self.need_id.clone().filter(|n| !n.trim().is_empty()),
            state: filter_code(&self.state, MatchState::parse)?,
            resource_kind: filter_code(&self.resource_kind, ResourceKind::parse)?,
            served: None,
        })
    }
}

#[derive(Template)]
#[template(path = "matching/needs.html")]
struct NeedsPage {
    t: Tr,
    base: Base,
    rows: Vec<Need>,
    pager: Pager,
    q: NeedsQuery,
    kinds: Vec<(String, String)>,
    states: Vec<(String, String)>,
    export_href: String,
    can_write: bool,
}

impl NeedsPage {
    fn sel(&self, v: &Option<String>, code: &str) -> bool {
        v.as_deref() == Some(code)
    }
    fn time(&self, millis: &i64) -> String {
        local_time(*millis)
    }
}

pub async fn needs_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NeedsQuery>,
) -> WebResult<Response> {
    let u = reader(&ctx)?;
    let t = ctx.tr();
    let data: Page<Need> = {
        let mut c = state.db.read().await?;
        nd::list(
            &mut c,
            &u.scope(),
            &q.filter()?,
            PageRequest::new(q.page, q.per_page),
        )
        .await?
    };
    let pairs = q.pairs();
    Ok(page(
        StatusCode::OK,
        &NeedsPage {
            base: Base::new(&ctx, t.get("menu.needs"), crumbs(&t, vec![]))
                .with_notice(&t, q.notice.as_deref()),
            pager: pager(&t, &data, "/matching/needs", &pairs)?,
            export_href: format!(
                "/matching/needs/export.xlsx?{}",
                serde_urlencoded::to_string(&pairs).unwrap_or_default()
            ),
            rows: data.items,
            kinds: t.options("match.help", HelpKind::ALL),
            states: t.options("need.state", NeedState::ALL),
            can_write: u.can(Permission::WriteData),
            q,
            t,
        },
    ))
}

fn quantity_text(n: &Need) -> String {
    match n.help_kind {
        HelpKind::Money => format!("¥{}", format_yuan(n.quantity)),
        _ if n.quantity > 0 => n.quantity.to_string(),
        _ => "—".to_owned(),
    }
}

pub async fn needs_export(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NeedsQuery>,
) -> WebResult<Response> {
    let export = Export::check(&ctx, "need", Permission::Export)?;
    let u = export.user();
    let t = ctx.tr();
    let data = {
        let mut c = state.db.read().await?;
        nd::list(&mut c, &u.scope(), &q.filter()?, ALL_ROWS).await?
    };
    let headers = [
        "field.title",
        "field.region",
        "field.help_kind",
        "field.subject",
        "field.quantity",
        "field.wanted_on",
        "field.state",
        "need.source_label",
        "need.created_at",
    ]
    .map(|k| t.get(k));
    let rows: Vec<Vec<Cell>> = data
        .items
        .iter()
        .map(|n| {
            vec![
                n.title.clone().into(),
                n.region_path.clone().into(),
                t.label("match.help", n.help_kind).into(),
                t.label("need.subject", n.subject).into(),
                quantity_text(n).into(),
                n.wanted_on.clone().unwrap_or_default().into(),
                t.label("need.state", n.state).into(),
                t.label("need.source", n.source).into(),
                local_time(n.created_at).into(),
            ]
        })
        .collect();
    export
        .send(&state, &ctx, "menu.needs", &headers, &rows, vec![])
        .await
}

#[derive(Template)]
#[template(path = "matching/need_form.html")]
struct NewPage {
    t: Tr,
    base: Base,
    f: FormData,
    errors: FormErrors,
    subjects: Vec<(String, String)>,
    kinds: Vec<(String, String)>,
    parts: Vec<(String, String)>,
    sources: Vec<(String, String)>,
}

const FORM_FIELDS: [&str; 14] = [
    "subject",
    "resident_id",
    "household_id",
    "region",
    "station",
    "help_kind",
    "title",
    "description",
    "quantity",
    "amount",
    "wanted_on",
    "day_part",
    "source",
    "source_id",
];

impl NewPage {
    fn required(&self, field: &str) -> bool {
        field != "source"
    }
    fn other_errors(&self) -> Vec<String> {
        self.errors.others(&FORM_FIELDS)
    }
    fn selects(&self) -> [(&'static str, &[(String, String)]); 3] {
        [
            ("subject", &self.subjects),
            ("help_kind", &self.kinds),
            ("source", &self.sources),
        ]
    }
}

async fn form(ctx: &Ctx, f: FormData, errors: Vec<FieldError>) -> WebResult<Response> {
    writer(ctx)?;
    let t = ctx.tr();
    let title = t.get("need.new").to_owned();
    Ok(page(
        form_status(&errors),
        &NewPage {
            base: Base::new(ctx, title.clone(), crumbs(&t, vec![Crumb::here(title)])),
            f,
            errors: FormErrors::new(t, errors),
            subjects: t.options("need.subject", NeedSubject::ALL),
            kinds: t.options("match.help", HelpKind::ALL),
            parts: t.options("match.day_part", DayPart::ALL),
            sources: t.options("need.source", NeedSource::ALL),
            t,
        },
    ))
}

pub async fn new_need_page(
    ctx: Ctx,
    Query(q): Query<Vec<(String, String)>>,
) -> WebResult<Response> {
    let u = writer(&ctx)?;
    // A link from a file, an issue or a ticket may pre-fill the subject and the source.
    let mut pairs: Vec<(String, String)> = q
        .into_iter()
        .filter(|(k, _)| {
            [
                "subject",
                "resident_id",
                "household_id",
                "region",
                "source",
                "source_id",
                "help_kind",
                "title",
            ]
            .contains(&k.as_str())
        })
        .collect();
    if !pairs.iter().any(|(k, v)| k == "region" && !v.is_empty()) {
        pairs.retain(|(k, _)| k != "region");
        pairs.push(("region".into(), u.user.region_code.clone()));
    }
    form(&ctx, FormData::new(pairs), vec![]).await
}

pub async fn create_need_page(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let input = match super::need_input(&f, &super::today_of(&state)) {
        Ok(i) => i,
        Err(errors) => return form(&ctx, f, errors).await,
    };
    match super::create_need(&state, &ctx, input).await {
        Ok(id) => {
            Ok(Redirect::to(&format!("/matching/needs/{id}?notice=notice.saved")).into_response())
        }
        Err(WebError::Invalid(errors)) => form(&ctx, f, errors).await,
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "matching/need.html")]
struct NeedPage {
    t: Tr,
    base: Base,
    n: Need,
    quantity: String,
    proposals: Proposals,
    matches: Vec<Match>,
    can_write: bool,
    error: Option<String>,
    today: String,
}

impl NeedPage {
    fn why(&self, reasons: &[shegong_domain::matching::Reason]) -> String {
        reasons
            .iter()
            .map(|r| super::reason_text(&self.t, r))
            .collect::<Vec<_>>()
            .join("；")
    }
    fn stored_why(&self, m: &Match) -> String {
        self.why(&m.reasons())
    }
    fn excluded(&self) -> String {
        self.proposals
            .excluded
            .iter()
            .map(|(k, n)| format!("{} {}", self.t.get(&format!("match.excluded.{k}")), n))
            .collect::<Vec<_>>()
            .join("；")
    }
    fn can(&self, m: &Match, step: &str) -> bool {
        MatchStep::parse(step).is_ok_and(|s| check_step(m.state, s, "-").is_ok())
    }
    fn remaining(&self, r: &Resource) -> String {
        match (r.kind, r.remaining) {
            (ResourceKind::Fund, Some(f)) => format!("¥{}", format_yuan(f)),
            (_, Some(n)) => format!("{n} {}", r.unit),
            _ => String::new(),
        }
    }
    fn is_open(&self) -> bool {
        self.n.state == NeedState::Open
    }
    /// Already proposed for this need and still live: no second proposal button.
    fn proposed(&self, r: &Resource) -> bool {
        self.matches.iter().any(|m| {
            m.state.is_active()
                && m.resource_kind == r.kind
                && m.resource_id == r.id
                && m.resource_item == r.item
        })
    }
}

async fn need_detail(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    error: Option<FieldError>,
    notice: Option<&str>,
) -> WebResult<Response> {
    let u = reader(ctx)?;
    let t = ctx.tr();
    let viewer = crate::people::residents::viewer(state, u);
    let (n, proposals, matches) = {
        let mut c = state.db.read().await?;
        let n = nd::get(&mut c, &u.scope(), id).await?;
        let p = if n.state == NeedState::Open {
            rs::propose(&mut c, &viewer, &n).await?
        } else {
            Proposals::default()
        };
        let f = mm::Filter {
            need_id: Some(id.to_owned()),
            ..mm::Filter::default()
        };
        let ms = mm::list(&mut c, &u.scope(), &f, PageRequest::new(None, Some(200))).await?;
        (n, p, ms.items)
    };
    let title = n.title.clone();
    let error = error.map(|e| FormErrors::new(t, vec![e]).others(&[]).join(" "));
    Ok(page(
        if error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        &NeedPage {
            base: Base::new(ctx, title.clone(), crumbs(&t, vec![Crumb::here(title)]))
                .with_notice(&t, notice),
            quantity: quantity_text(&n),
            n,
            proposals,
            matches,
            can_write: u.can(Permission::WriteData),
            error,
            today: super::today_of(state),
            t,
        },
    ))
}

#[derive(Deserialize, Default)]
pub struct NoticeQuery {
    #[serde(default)]
    pub notice: Option<String>,
}

pub async fn need_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> WebResult<Response> {
    need_detail(&state, &ctx, &id, None, q.notice.as_deref()).await
}

fn back(need: &str) -> Response {
    Redirect::to(&format!("/matching/needs/{need}?notice=notice.saved")).into_response()
}

pub async fn propose_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(mut f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    let mut pairs = f.pairs();
    pairs.retain(|(k, _)| k != "need_id");
    pairs.push(("need_id".into(), id.clone()));
    f = FormData::new(pairs);
    let r = match super::propose_input(&f) {
        Ok(input) => super::propose(&state, &ctx, input).await.map(drop),
        Err(e) => Err(WebError::Invalid(e)),
    };
    match r {
        Ok(()) => Ok(back(&id)),
        Err(WebError::Invalid(e)) => {
            need_detail(&state, &ctx, &id, e.into_iter().next(), None).await
        }
        Err(e) => Err(e),
    }
}

pub async fn cancel_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    writer(&ctx)?;
    match super::cancel_need(&state, &ctx, id.clone(), f.get("reason").trim().to_owned()).await {
        Ok(()) => Ok(back(&id)),
        Err(WebError::Invalid(e)) => {
            need_detail(&state, &ctx, &id, e.into_iter().next(), None).await
        }
        Err(e) => Err(e),
    }
}

pub async fn step_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    let u = writer(&ctx)?;
    let need = {
        let mut c = state.db.read().await?;
        mm::get(&mut c, &u.scope(), &id).await?.need_id
    };
    let r = match super::step_input(&f, &super::today_of(&state)) {
        Ok(input) => super::step(&state, &ctx, id, input).await,
        Err(e) => Err(WebError::Invalid(e)),
    };
    match r {
        Ok(()) => Ok(back(&need)),
        Err(WebError::Invalid(e)) => {
            need_detail(&state, &ctx, &need, e.into_iter().next(), None).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize, Default)]
pub struct ResourcesQuery {
    pub kind: Option<String>,
    pub region: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// The resources serving the reader's scope (and the region asked).
pub async fn resources_of(
    state: &AppState,
    ctx: &Ctx,
    q: &ResourcesQuery,
) -> WebResult<Page<Resource>> {
    let u = reader(ctx)?;
    let kinds: Vec<ResourceKind> = filter_code(&q.kind, ResourceKind::parse)?
        .into_iter()
        .collect();
    let today = super::today_of(state);
    let scope = u.scope();
    let area = Area {
        scope: &scope,
        region: filter_region(&q.region)?,
        today: &today,
    };
    let mut c = state.db.read().await?;
    Ok(rs::list(&mut c, &area, &kinds, PageRequest::new(q.page, q.per_page)).await?)
}

/// The resources list as an Excel file (all pages, up to the export limit).
pub async fn resources_export(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(mut q): Query<ResourcesQuery>,
) -> WebResult<Response> {
    let export = Export::check(&ctx, "resource", Permission::Export)?;
    let t = ctx.tr();
    (q.page, q.per_page) = (None, None);
    let u = export.user();
    let kinds: Vec<ResourceKind> = filter_code(&q.kind, ResourceKind::parse)?
        .into_iter()
        .collect();
    let today = super::today_of(&state);
    let scope = u.scope();
    let area = Area {
        scope: &scope,
        region: filter_region(&q.region)?,
        today: &today,
    };
    let data = {
        let mut c = state.db.read().await?;
        rs::list(&mut c, &area, &kinds, ALL_ROWS).await?
    };
    let headers = [
        "field.resource_kind",
        "field.name",
        "field.region",
        "match.detail",
        "match.availability",
        "match.remaining",
        "match.open_matches",
        "match.timebank_member",
    ]
    .map(|k| t.get(k));
    let rows: Vec<Vec<Cell>> = data
        .items
        .iter()
        .map(|r| {
            vec![
                t.label("match.resource", r.kind).into(),
                r.label.clone().into(),
                r.region_path.clone().into(),
                format!("{} {}", r.detail, r.detail2)
                    .trim()
                    .to_owned()
                    .into(),
                r.availability.clone().into(),
                match (r.kind, r.remaining) {
                    (ResourceKind::Fund, Some(f)) => format_yuan(f),
                    (_, Some(n)) => format!("{n} {}", r.unit),
                    _ => String::new(),
                }
                .into(),
                r.open_matches.into(),
                t.get(if r.timebank > 0 {
                    "common.yes"
                } else {
                    "common.no"
                })
                .into(),
            ]
        })
        .collect();
    export
        .send(&state, &ctx, "menu.resources", &headers, &rows, vec![])
        .await
}

#[derive(Template)]
#[template(path = "matching/resources.html")]
struct ResourcesPage {
    t: Tr,
    base: Base,
    rows: Vec<Resource>,
    pager: Pager,
    kind: String,
    region: String,
    kinds: Vec<(String, String)>,
    export_href: String,
}

impl ResourcesPage {
    fn remaining(&self, r: &Resource) -> String {
        match (r.kind, r.remaining) {
            (ResourceKind::Fund, Some(f)) => format!("¥{}", format_yuan(f)),
            (_, Some(n)) => format!("{n} {}", r.unit),
            _ => String::new(),
        }
    }
}

pub async fn resources_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ResourcesQuery>,
) -> WebResult<Response> {
    let t = ctx.tr();
    let data = resources_of(&state, &ctx, &q).await?;
    let pairs = vec![
        ("kind", q.kind.clone().unwrap_or_default()),
        ("region", q.region.clone().unwrap_or_default()),
    ];
    Ok(page(
        StatusCode::OK,
        &ResourcesPage {
            base: Base::new(
                &ctx,
                t.get("menu.resources"),
                vec![Crumb::here(t.get("menu.resources"))],
            ),
            pager: pager(&t, &data, "/matching/resources", &pairs)?,
            export_href: format!(
                "/matching/resources/export.xlsx?{}",
                serde_urlencoded::to_string(&pairs).unwrap_or_default()
            ),
            rows: data.items,
            kind: q.kind.unwrap_or_default(),
            region: q.region.unwrap_or_default(),
            kinds: t.options("match.resource", ResourceKind::ALL),
            t,
        },
    ))
}

#[derive(Deserialize, Default)]
pub struct ListsQuery {
    pub region: Option<String>,
    pub period: Option<String>,
    #[serde(default)]
    pub notice: Option<String>,
}

/// A community's lists as generated now, and the approval given.
pub struct Generated {
    pub region: RegionCode,
    pub period: String,
    pub lists: Lists,
    pub approval: Option<Approval>,
}

/// The lists asked for: the region (default the reader's own) and month (default this one).
pub async fn lists_of(state: &AppState, ctx: &Ctx, q: &ListsQuery) -> WebResult<Generated> {
    let u = reader(ctx)?;
    let today = super::today_of(state);
    let region = match filter_region(&q.region)? {
        Some(r) => r,
        None => RegionCode::parse(&u.user.region_code)
            .map_err(|_| FieldError::new("region", "form.required"))?,
    };
    let period = q
        .period
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| today.chars().take(7).collect());
    lists::month(&period)?;
    if !matches!(
        region.level(),
        shegong_domain::RegionLevel::Village | shegong_domain::RegionLevel::Township
    ) {
        return Err(FieldError::new("region", "list.region_level").into());
    }
    let mut c = state.db.read().await?;
    let generated = lists::generate(&mut c, &u.scope(), &region, &period, &today).await?;
    let approval = lists::approval(&mut c, &u.scope(), &region, &period).await?;
    Ok(Generated {
        region,
        period,
        lists: generated,
        approval,
    })
}

#[derive(Template)]
#[template(path = "matching/lists.html")]
struct ListsPage {
    t: Tr,
    base: Base,
    g: Option<Generated>,
    region: String,
    period: String,
    changed: bool,
    can_approve: bool,
    error: Option<String>,
}

impl ListsPage {
    fn time(&self, millis: &i64) -> String {
        local_time(*millis)
    }
    fn remaining(&self, r: &lists::ResourceLine) -> String {
        match (r.kind.as_str(), r.remaining) {
            ("fund", Some(f)) => format!("¥{}", format_yuan(f)),
            (_, Some(n)) => format!("{n} {}", r.unit),
            _ => String::new(),
        }
    }
    fn yuan(&self, fen: &i64) -> String {
        format_yuan(*fen)
    }
}

async fn lists_view(
    state: &AppState,
    ctx: &Ctx,
    q: ListsQuery,
    error: Option<FieldError>,
) -> WebResult<Response> {
    let u = reader(ctx)?;
    let t = ctx.tr();
    let (g, error) = match (lists_of(state, ctx, &q).await, error) {
        (Ok(g), e) => (Some(g), e),
        (Err(WebError::Invalid(e)), _) => (None, e.into_iter().next()),
        (Err(e), _) => return Err(e),
    };
    let changed = g.as_ref().is_some_and(|g| {
        g.approval
            .as_ref()
            .is_some_and(|a| a.digest != g.lists.digest())
    });
    let error = error.map(|e| FormErrors::new(t, vec![e]).others(&[]).join(" "));
    Ok(page(
        if error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        &ListsPage {
            base: Base::new(
                ctx,
                t.get("menu.community_lists"),
                vec![Crumb::here(t.get("menu.community_lists"))],
            )
            .with_notice(&t, q.notice.as_deref()),
            region: g
                .as_ref()
                .map(|g| g.region.to_string())
                .unwrap_or_else(|| q.region.clone().unwrap_or_default()),
            period: g
                .as_ref()
                .map(|g| g.period.clone())
                .unwrap_or_else(|| q.period.clone().unwrap_or_default()),
            can_approve: u.can(Permission::Supervise),
            changed,
            g,
            error,
            t,
        },
    ))
}

pub async fn lists_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListsQuery>,
) -> WebResult<Response> {
    lists_view(&state, &ctx, q, None).await
}

pub async fn approve_page(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    reader(&ctx)?;
    let q = ListsQuery {
        region: Some(f.get("region").trim().to_owned()),
        period: Some(f.get("period").trim().to_owned()),
        notice: None,
    };
    let region = match RegionCode::parse(f.get("region")) {
        Ok(r) => r,
        Err(e) => return lists_view(&state, &ctx, q, Some(e)).await,
    };
    match super::approve(
        &state,
        &ctx,
        region.clone(),
        f.get("period").trim().to_owned(),
    )
    .await
    {
        Ok(_) => Ok(Redirect::to(&format!(
            "/matching/lists?region={region}&period={}&notice=notice.saved",
            f.get("period").trim()
        ))
        .into_response()),
        Err(WebError::Invalid(e)) => lists_view(&state, &ctx, q, e.into_iter().next()).await,
        Err(e) => Err(e),
    }
}

/// One list as an Excel file: `needs.xlsx`, `resources.xlsx` or `services.xlsx`.
pub async fn list_export(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(list): Path<String>,
    Query(q): Query<ListsQuery>,
) -> WebResult<Response> {
    let export = Export::check(&ctx, "community_list", Permission::Export)?;
    let t = ctx.tr();
    let g = lists_of(&state, &ctx, &q).await?;
    let note = vec![shegong_store::admin::audit::Change::new(
        "period",
        None::<String>,
        Some(format!("{} {}", g.region, g.period)),
    )];
    let (title, headers, rows): (&str, Vec<&str>, Vec<Vec<Cell>>) = match list.as_str() {
        "needs.xlsx" => (
            "list.needs",
            [
                "need.created_at",
                "field.subject",
                "field.help_kind",
                "field.title",
                "field.quantity",
                "field.state",
                "need.source_label",
            ]
            .map(|k| t.get(k))
            .to_vec(),
            g.lists
                .needs
                .iter()
                .map(|n| {
                    vec![
                        n.created_on.clone().into(),
                        t.label("need.subject", &n.subject).into(),
                        t.label("match.help", &n.help_kind).into(),
                        n.title.clone().into(),
                        n.quantity.into(),
                        t.label("need.state", &n.state).into(),
                        t.label("need.source", &n.source).into(),
                    ]
                })
                .collect(),
        ),
        "resources.xlsx" => (
            "list.resources",
            [
                "field.resource_kind",
                "field.name",
                "field.region",
                "match.detail",
                "match.remaining",
            ]
            .map(|k| t.get(k))
            .to_vec(),
            g.lists
                .resources
                .iter()
                .map(|r| {
                    vec![
                        t.label("match.resource", &r.kind).into(),
                        r.label.clone().into(),
                        r.region_path.clone().into(),
                        r.detail.clone().into(),
                        r.remaining
                            .map(|n| n.to_string())
                            .unwrap_or_default()
                            .into(),
                    ]
                })
                .collect(),
        ),
        "services.xlsx" => (
            "list.services",
            [
                "field.kind",
                "field.domain",
                "list.records",
                "list.person_times",
                "list.minutes",
                "list.value_yuan",
                "list.matched",
            ]
            .map(|k| t.get(k))
            .to_vec(),
            service_rows(&t, &g.lists.services),
        ),
        _ => return Err(WebError::NotFound),
    };
    export
        .send(&state, &ctx, title, &headers, &rows, note)
        .await
}

fn service_rows(t: &Tr, services: &[lists::ServiceLine]) -> Vec<Vec<Cell>> {
    services
        .iter()
        .map(|s| {
            vec![
                t.label("service.kind", &s.kind).into(),
                t.label("service.domain", &s.domain).into(),
                s.records.into(),
                s.person_times.into(),
                s.minutes.into(),
                format_yuan(s.value_fen).into(),
                s.matched.into(),
            ]
        })
        .collect()
}
