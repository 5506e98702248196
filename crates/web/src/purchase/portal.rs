//! The purchase of services on the public portal (`/public/purchase`, no login), and the same
//! content as JSON (`GET /api/v1/public/purchase`, no credentials): for a region and everything
//! under it, the published catalogue editions, the procurement notices of purchase projects, the
//! contract notices and the grades of published evaluations (`shegong_store::purchase::public`,
//! which publishes no personal data). The
//! region is chosen as on `/public` (`?region=CODE`, `CN` or nothing for the whole country).
//!
//! The routes live in the purchase area: what is published is the purchase area's records,
//! and the portal page only links here.

use askama::Template;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use shegong_domain::network::region::display_path;
use shegong_domain::purchase::format_percent;
use shegong_domain::{RegionCode, Scope};
use shegong_store::purchase::public::{
    self, ContractNotice, Counts, ProcurementNotice, PublicEdition, PublicItem, PublishedEvaluation,
};
use shegong_store::{Conn, Page, PageRequest, network::regions};
use utoipa::{IntoParams, ToSchema};

use crate::http::auth::Ctx;
use crate::http::error::WebResult;
use crate::http::render::{Base, Crumb, page};
use crate::http::state::AppState;
use crate::purchase::catalogue::{CostShareDto, reason_key, shares_text};
use crate::purchase::evaluations::labels;
use crate::statistics::shared::{code_of, url_code};
use crate::ui::i18n::Tr;
use crate::ui::list::{Pager, pager, rfc3339};

#[derive(Deserialize, IntoParams, Default)]
pub struct PortalQuery {
    /// Region code, or `CN` for the whole country (the default).
    #[param(pattern = "^([Cc][Nn]|[0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$")]
    pub region: Option<String>,
    /// The page of each of the four lists.
    pub page: Option<i64>,
    /// Records of each list on a page (at most 50).
    pub per_page: Option<i64>,
    /// The page's tab: `catalogue` (default), `notices`, `contracts` or `evaluations`.
    #[serde(default)]
    #[param(ignore)]
    pub tab: Option<String>,
}

/// The region asked for ('' and `None` for the country) and its name; an unknown one is 404.
async fn region(
    c: &mut Conn,
    t: &Tr,
    asked: Option<&str>,
) -> WebResult<(String, Option<RegionCode>, String)> {
    let code = match asked.filter(|s| !s.is_empty()) {
        Some(r) => code_of(r)?,
        None => String::new(),
    };
    if code.is_empty() {
        return Ok((code, None, t.get("stats.national").to_owned()));
    }
    let place = regions::get(c, &Scope::national(), &code)
        .await?
        .display_path();
    let parsed = RegionCode::parse(&code).ok();
    Ok((code, parsed, place))
}

fn path_or(path: Option<&str>, code: &str) -> String {
    path.map(|p| display_path(p.split('/')))
        .unwrap_or_else(|| code.to_owned())
}

// ---------------------------------------------------------------------------------------------
// The page

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tab {
    Catalogue,
    Notices,
    Contracts,
    Evaluations,
}

impl Tab {
    fn parse(s: Option<&str>) -> Tab {
        match s {
            Some("notices") => Tab::Notices,
            Some("contracts") => Tab::Contracts,
            Some("evaluations") => Tab::Evaluations,
            _ => Tab::Catalogue,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Tab::Catalogue => "catalogue",
            Tab::Notices => "notices",
            Tab::Contracts => "contracts",
            Tab::Evaluations => "evaluations",
        }
    }
}

pub struct ItemView {
    pub field: String,
    pub name: String,
    pub description: String,
    pub shares: String,
    pub status: String,
    pub reason: String,
}

pub struct EditionView {
    pub title: String,
    pub region: String,
    pub year: i64,
    pub items: Vec<ItemView>,
    /// "… and N more" when the list was capped, else empty.
    pub more_items: String,
    pub removed: Vec<ItemView>,
    pub more_removed: String,
}

pub struct NoticeView {
    pub number: String,
    pub title: String,
    pub region: String,
    pub purchaser: String,
    pub provider: String,
    pub uscc: String,
    pub amount: String,
    pub term: String,
    pub method: String,
    pub state: String,
    pub item: String,
    pub station_count: i64,
    pub stations: String,
}

pub struct ProcurementView {
    pub published_on: String,
    pub kind: String,
    pub title: String,
    /// The notice on the procurement site, only when it is an http(s) address.
    pub link: Option<String>,
    pub project_number: String,
    pub project_name: String,
    pub purchaser: String,
    pub region: String,
    pub method: String,
    pub budget: String,
}

pub struct GradeView {
    pub number: String,
    pub title: String,
    pub provider: String,
    pub kind: String,
    pub score: String,
    pub grade: String,
    pub finished_on: String,
    pub published: String,
}

fn more(t: &Tr, n: i64) -> String {
    if n > 0 {
        t.fmt("public_purchase.more", &[("n", &n.to_string())])
    } else {
        String::new()
    }
}

fn item_view(t: &Tr, i: &PublicItem) -> ItemView {
    ItemView {
        field: t.get(&format!("purchase.field.{}", i.field)).to_owned(),
        name: i.name.clone(),
        description: i.description.clone(),
        shares: shares_text(t, &i.cost_shares),
        status: t
            .get(&format!("purchase.item_status.{}", i.status))
            .to_owned(),
        reason: i
            .removal_reason
            .map(|r| t.get(reason_key(r)).to_owned())
            .unwrap_or_default(),
    }
}

fn edition_view(t: &Tr, e: &PublicEdition) -> EditionView {
    EditionView {
        title: e.title.clone(),
        region: path_or(e.region_path.as_deref(), &e.region_code),
        year: e.year,
        items: e.items.iter().map(|i| item_view(t, i)).collect(),
        more_items: more(t, e.more_items),
        removed: e.removed.iter().map(|i| item_view(t, i)).collect(),
        more_removed: more(t, e.more_removed),
    }
}

fn notice_view(t: &Tr, c: &ContractNotice) -> NoticeView {
    let listed = i64::try_from(c.stations.len()).unwrap_or(i64::MAX);
    let mut stations = c.stations.join("、");
    let rest = more(t, c.station_count - listed);
    if !rest.is_empty() {
        stations = format!("{stations} {rest}");
    }
    NoticeView {
        number: c.number.clone(),
        title: c.title.clone(),
        region: path_or(c.region_path.as_deref(), &c.region_code),
        purchaser: c.purchaser_name.clone().unwrap_or_default(),
        provider: c.provider_name.clone(),
        uscc: c.provider_uscc.clone().unwrap_or_default(),
        amount: c.amount.format_yuan(),
        term: format!("{} — {}", c.term.start(), c.term.end()),
        method: t.get(&format!("purchase.method.{}", c.method)).to_owned(),
        state: t.get(&format!("purchase.state.{}", c.state)).to_owned(),
        item: c.catalogue_item.clone().unwrap_or_default(),
        station_count: c.station_count,
        stations,
    }
}

/// `url` when it is an http(s) address (any case) without spaces, the only kind linked.
fn web_link(url: &str) -> Option<String> {
    let url = url.trim();
    let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
    let web = matches!(scheme.as_deref(), Some("http" | "https"));
    (web && !url.contains(|c: char| c.is_whitespace() || c.is_control())).then(|| url.to_owned())
}

fn procurement_view(t: &Tr, n: &ProcurementNotice) -> ProcurementView {
    ProcurementView {
        published_on: n.published_on.to_string(),
        kind: t.get(&format!("project.notice_kind.{}", n.kind)).to_owned(),
        title: n.title.clone(),
        link: web_link(&n.url),
        project_number: n.project_number.clone(),
        project_name: n.project_name.clone(),
        purchaser: n.purchaser_name.clone().unwrap_or_default(),
        region: path_or(n.region_path.as_deref(), &n.region_code),
        method: n
            .method
            .map(|m| t.get(&format!("purchase.method.{m}")).to_owned())
            .unwrap_or_default(),
        budget: n.budget.format_yuan(),
    }
}

fn grade_view(t: &Tr, e: &PublishedEvaluation) -> GradeView {
    GradeView {
        number: e.contract_number.clone(),
        title: e.contract_title.clone(),
        provider: e.provider_name.clone(),
        kind: t.get(labels::kind(e.kind)).to_owned(),
        score: format!("{} / {}", e.total, e.max),
        grade: t.get(labels::grade(e.grade)).to_owned(),
        finished_on: e.finished_on.map(|d| d.to_string()).unwrap_or_default(),
        published: t
            .datetime(e.published_at)
            .get(..10)
            .unwrap_or("")
            .to_owned(),
    }
}

#[derive(Template)]
#[template(path = "purchase/portal.html")]
struct PortalPage {
    t: Tr,
    base: Base,
    place: String,
    code: String,
    tab: &'static str,
    counts: Counts,
    editions: Vec<EditionView>,
    procurement: Vec<ProcurementView>,
    notices: Vec<NoticeView>,
    grades: Vec<GradeView>,
    pager: Option<Pager>,
}

/// The pager of a list longer than a page.
fn paged<T>(t: &Tr, p: &Page<T>, query: &[(&str, String)]) -> Option<Pager> {
    (p.total > p.per_page)
        .then(|| pager(t, p, "/public/purchase", query).ok())
        .flatten()
}

/// Lists on a page of the portal: editions carry their items, so fewer of them.
const EDITIONS_PER_PAGE: i64 = 10;
const ROWS_PER_PAGE: i64 = 20;

/// The portal's purchase page: one tab at a time, each list a page at a time.
pub async fn page_get(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<PortalQuery>,
) -> WebResult<Response> {
    let t = ctx.tr();
    let tab = Tab::parse(q.tab.as_deref());
    let mut c = state.db.read().await?;
    let (code, region_code, place) = region(&mut c, &t, q.region.as_deref()).await?;
    let r = region_code.as_ref();
    let counts = public::counts(&mut c, r).await?;
    let (mut editions, mut procurement) = (Vec::new(), Vec::new());
    let (mut notices, mut grades) = (Vec::new(), Vec::new());
    let query = [
        ("region", url_code(&code).to_owned()),
        ("tab", tab.as_str().to_owned()),
    ];
    let pager = match tab {
        Tab::Catalogue => {
            let p = public::catalogue(&mut c, r, PageRequest::new(q.page, Some(EDITIONS_PER_PAGE)))
                .await?;
            editions = p.items.iter().map(|e| edition_view(&t, e)).collect();
            paged(&t, &p, &query)
        }
        Tab::Notices => {
            let p = public::procurement_notices(
                &mut c,
                r,
                PageRequest::new(q.page, Some(ROWS_PER_PAGE)),
            )
            .await?;
            procurement = p.items.iter().map(|n| procurement_view(&t, n)).collect();
            paged(&t, &p, &query)
        }
        Tab::Contracts => {
            let p =
                public::contracts(&mut c, r, PageRequest::new(q.page, Some(ROWS_PER_PAGE))).await?;
            notices = p.items.iter().map(|n| notice_view(&t, n)).collect();
            paged(&t, &p, &query)
        }
        Tab::Evaluations => {
            let p = public::evaluations(&mut c, r, PageRequest::new(q.page, Some(ROWS_PER_PAGE)))
                .await?;
            grades = p.items.iter().map(|e| grade_view(&t, e)).collect();
            paged(&t, &p, &query)
        }
    };
    drop(c);
    let title = t.get("public_purchase.title");
    Ok(page(
        StatusCode::OK,
        &PortalPage {
            base: Base::new(
                &ctx,
                title,
                vec![
                    Crumb::link(
                        t.get("portal.title"),
                        format!("/public?region={}", url_code(&code)),
                    ),
                    Crumb::here(format!("{title} · {place}")),
                ],
            ),
            place,
            code: url_code(&code).to_owned(),
            tab: tab.as_str(),
            counts,
            editions,
            procurement,
            notices,
            grades,
            pager,
            t,
        },
    ))
}

// ---------------------------------------------------------------------------------------------
// The API

#[derive(Serialize, ToSchema)]
pub struct PublicItemDto {
    /// One of the ten service fields: `elderly`, `women_children`, `youth`, …
    pub field: String,
    pub name: String,
    pub description: String,
    /// `included`, `purchasing`, or `removed` (in `removed`).
    pub status: String,
    /// Why a removed item left the catalogue.
    pub removal_reason: Option<String>,
    pub cost_shares: Vec<CostShareDto>,
}

#[derive(Serialize, ToSchema)]
pub struct PublicEditionDto {
    pub region_code: String,
    pub region_name: String,
    pub year: i64,
    pub title: String,
    /// Items included in the catalogue or being purchased (at most 200).
    pub items: Vec<PublicItemDto>,
    /// Items beyond those listed.
    pub more_items: i64,
    /// Items removed from the catalogue, with the reason (at most 200).
    pub removed: Vec<PublicItemDto>,
    pub more_removed: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ContractNoticeDto {
    /// The purchaser's region.
    pub region_code: String,
    pub region_name: String,
    pub contract_number: String,
    pub title: String,
    /// The purchasing organisation, when named on the contract.
    pub purchaser_name: Option<String>,
    pub provider_name: String,
    /// The provider's Unified Social Credit Code.
    pub provider_uscc: Option<String>,
    /// Fen (1 yuan = 100 fen).
    pub amount_fen: i64,
    #[schema(format = Date)]
    pub term_start: String,
    #[schema(format = Date)]
    pub term_end: String,
    pub procurement_method: String,
    pub state: String,
    /// The catalogue item bought, when its edition is published.
    pub catalogue_item: Option<String>,
    pub station_count: i64,
    /// The stations served (at most 50 names).
    pub stations: Vec<String>,
}

/// A notice of a purchase project's procurement, as published on the procurement site.
#[derive(Serialize, ToSchema)]
pub struct ProcurementNoticeDto {
    /// The project's (purchaser's) region.
    pub region_code: String,
    pub region_name: String,
    pub project_number: String,
    pub project_name: String,
    /// The purchasing organisation, when named on the project.
    pub purchaser_name: Option<String>,
    /// `public_tender`, `competitive_consultation`, …; none before procurement starts.
    pub procurement_method: Option<String>,
    /// The project's budget in fen (1 yuan = 100 fen).
    pub budget_fen: i64,
    /// `procurement`, `correction`, `result`, `contract` or `termination`.
    pub kind: String,
    #[schema(format = Date)]
    pub published_on: String,
    pub title: String,
    /// The notice on the procurement site (an http or https address); none when not given.
    pub url: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PublishedEvaluationDto {
    /// The contract's (purchaser's) region.
    pub region_code: String,
    pub contract_number: String,
    pub contract_title: String,
    pub provider_name: String,
    /// `spot_check`, `mid_term`, `final` or `quarterly`.
    pub kind: String,
    /// Points as decimal strings ("850", "12.5").
    pub total_points: String,
    pub max_points: String,
    /// `excellent`, `good`, `pass` or `fail`.
    pub grade: String,
    /// The day the final score was reached.
    pub finished_on: Option<String>,
    /// When it was published (RFC 3339).
    pub published_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct EditionList {
    pub total: i64,
    pub items: Vec<PublicEditionDto>,
}

#[derive(Serialize, ToSchema)]
pub struct ProcurementNoticeList {
    pub total: i64,
    pub items: Vec<ProcurementNoticeDto>,
}

#[derive(Serialize, ToSchema)]
pub struct NoticeList {
    pub total: i64,
    pub items: Vec<ContractNoticeDto>,
}

#[derive(Serialize, ToSchema)]
pub struct EvaluationList {
    pub total: i64,
    pub items: Vec<PublishedEvaluationDto>,
}

/// What the portal publishes of the purchase of services in a region.
#[derive(Serialize, ToSchema)]
pub struct PublicPurchaseDto {
    /// The region (`CN` for the whole country) and everything under it.
    pub region_code: String,
    pub region_name: String,
    pub page: i64,
    pub per_page: i64,
    /// Published catalogue editions, latest year first.
    pub catalogue: EditionList,
    /// Procurement notices of purchase projects, latest published first.
    pub procurement_notices: ProcurementNoticeList,
    /// Contract notices, latest term first.
    pub contracts: NoticeList,
    /// Published evaluations, latest published first.
    pub evaluations: EvaluationList,
}

fn item_dto(i: &PublicItem) -> PublicItemDto {
    PublicItemDto {
        field: i.field.to_string(),
        name: i.name.clone(),
        description: i.description.clone(),
        status: i.status.to_string(),
        removal_reason: i.removal_reason.map(|r| r.to_string()),
        cost_shares: i
            .cost_shares
            .shares()
            .iter()
            .map(|s| CostShareDto {
                level: s.level.to_string(),
                share_percent: format_percent(s.share_bp),
            })
            .collect(),
    }
}

fn edition_dto(e: &PublicEdition) -> PublicEditionDto {
    PublicEditionDto {
        region_code: e.region_code.clone(),
        region_name: path_or(e.region_path.as_deref(), &e.region_code),
        year: e.year,
        title: e.title.clone(),
        items: e.items.iter().map(item_dto).collect(),
        more_items: e.more_items,
        removed: e.removed.iter().map(item_dto).collect(),
        more_removed: e.more_removed,
    }
}

fn notice_dto(c: &ContractNotice) -> ContractNoticeDto {
    ContractNoticeDto {
        region_code: c.region_code.clone(),
        region_name: path_or(c.region_path.as_deref(), &c.region_code),
        contract_number: c.number.clone(),
        title: c.title.clone(),
        purchaser_name: c.purchaser_name.clone(),
        provider_name: c.provider_name.clone(),
        provider_uscc: c.provider_uscc.clone(),
        amount_fen: c.amount.0,
        term_start: c.term.start().to_string(),
        term_end: c.term.end().to_string(),
        procurement_method: c.method.to_string(),
        state: c.state.to_string(),
        catalogue_item: c.catalogue_item.clone(),
        station_count: c.station_count,
        stations: c.stations.clone(),
    }
}

fn procurement_dto(n: &ProcurementNotice) -> ProcurementNoticeDto {
    ProcurementNoticeDto {
        region_code: n.region_code.clone(),
        region_name: path_or(n.region_path.as_deref(), &n.region_code),
        project_number: n.project_number.clone(),
        project_name: n.project_name.clone(),
        purchaser_name: n.purchaser_name.clone(),
        procurement_method: n.method.map(|m| m.to_string()),
        budget_fen: n.budget.0,
        kind: n.kind.to_string(),
        published_on: n.published_on.to_string(),
        title: n.title.clone(),
        url: web_link(&n.url),
    }
}

fn evaluation_dto(e: &PublishedEvaluation) -> PublishedEvaluationDto {
    PublishedEvaluationDto {
        region_code: e.region_code.clone(),
        contract_number: e.contract_number.clone(),
        contract_title: e.contract_title.clone(),
        provider_name: e.provider_name.clone(),
        kind: e.kind.to_string(),
        total_points: e.total.to_string(),
        max_points: e.max.to_string(),
        grade: e.grade.to_string(),
        finished_on: e.finished_on.map(|d| d.to_string()),
        published_at: rfc3339(e.published_at),
    }
}

/// The purchase of services of a region and everything under it as the public portal shows
/// it — published catalogue editions, procurement notices of purchase projects, contract
/// notices, grades of published evaluations — a page of each list. No credentials needed; no
/// personal data.
#[utoipa::path(get, path = "/api/v1/public/purchase", tag = "purchase", params(PortalQuery),
    security(()),
    responses((status = 200, body = PublicPurchaseDto)))]
pub async fn api_get(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<PortalQuery>,
) -> WebResult<Json<PublicPurchaseDto>> {
    let t = ctx.tr();
    let mut c = state.db.read().await?;
    let (code, region_code, region_name) = region(&mut c, &t, q.region.as_deref()).await?;
    let r = region_code.as_ref();
    let asked = PageRequest::new(q.page, q.per_page);
    let editions = public::catalogue(&mut c, r, asked).await?;
    let procurement = public::procurement_notices(&mut c, r, asked).await?;
    let notices = public::contracts(&mut c, r, asked).await?;
    let evaluations = public::evaluations(&mut c, r, asked).await?;
    Ok(Json(PublicPurchaseDto {
        region_code: url_code(&code).to_owned(),
        region_name,
        page: notices.page,
        per_page: notices.per_page,
        catalogue: EditionList {
            total: editions.total,
            items: editions.items.iter().map(edition_dto).collect(),
        },
        procurement_notices: ProcurementNoticeList {
            total: procurement.total,
            items: procurement.items.iter().map(procurement_dto).collect(),
        },
        contracts: NoticeList {
            total: notices.total,
            items: notices.items.iter().map(notice_dto).collect(),
        },
        evaluations: EvaluationList {
            total: evaluations.total,
            items: evaluations.items.iter().map(evaluation_dto).collect(),
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::web_link;

    #[test]
    fn only_web_addresses_are_linked() {
        for url in [
            "https://www.ccgp-hunan.gov.cn/notice/1",
            "http://www.ccgp.gov.cn/a",
            " HTTPS://www.ccgp.gov.cn/b ",
        ] {
            assert_eq!(web_link(url).as_deref(), Some(url.trim()), "{url}");
        }
        for url in [
            "",
            "javascript:alert(1)",
            "javascript://%0aalert(1)",
            "data:text/html,x",
            "ftp://example.org/x",
            "//example.org/x",
            "www.ccgp.gov.cn",
            "https://a b",
        ] {
            assert_eq!(web_link(url), None, "{url}");
        }
    }
}
