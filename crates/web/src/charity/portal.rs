//! Community charity on the public portal (no login): the funds of a region and below
//! (`/public/charity?region=CODE`) and each fund's disclosure (`/public/charity/{id}`): host,
//! purpose, what happens to the remainder, income and spending, decided disbursements and the
//! small wishes, de-identified (`shegong_store::charity::public_*` select no personal data), with
//! the disclosure dates of the 慈善法.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use shegong_domain::RegionCode;
use shegong_domain::network::region::display_path;
use shegong_store::PageRequest;
use shegong_store::charity::{self as ch, PublicDisbursement, PublicFund, PublicWish};
use shegong_store::network::regions;

use crate::http::auth::Ctx;
use crate::http::error::WebResult;
use crate::http::render::{Base, Crumb, page};
use crate::http::state::AppState;
use crate::statistics::shared::{code_of, url_code};
use crate::ui::forms::format_yuan;
use crate::ui::i18n::Tr;
use crate::ui::list::{Pager, pager};

#[derive(Deserialize, Default)]
pub struct PortalQuery {
    pub region: Option<String>,
    pub page: Option<i64>,
}

fn place_of(f: &PublicFund) -> String {
    f.region_path
        .as_deref()
        .map(|p| display_path(p.split('/')))
        .unwrap_or_else(|| f.region_code.clone())
}

#[derive(Template)]
#[template(path = "charity/public_funds.html")]
struct ListPage {
    t: Tr,
    base: Base,
    place: String,
    code: String,
    rows: Vec<PublicFund>,
    pager: Pager,
}

impl ListPage {
    fn yuan(&self, fen: &i64) -> String {
        format_yuan(*fen)
    }
    fn place(&self, f: &PublicFund) -> String {
        place_of(f)
    }
}

/// The funds of a region and below.
pub async fn list_get(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<PortalQuery>,
) -> WebResult<Response> {
    let t = ctx.tr();
    let code = match q.region.as_deref().filter(|s| !s.is_empty()) {
        Some(r) => code_of(r)?,
        None => String::new(),
    };
    let mut c = state.db.read().await?;
    let (region, place) = if code.is_empty() {
        (None, t.get("stats.national").to_owned())
    } else {
        let place = regions::get(&mut c, &shegong_domain::Scope::national(), &code)
            .await?
            .display_path();
        (RegionCode::parse(&code).ok(), place)
    };
    let rows =
        ch::public_funds(&mut c, region.as_ref(), PageRequest::new(q.page, Some(20))).await?;
    drop(c);
    let title = t.get("public_charity.title");
    let query = [("region", url_code(&code).to_owned())];
    Ok(page(
        StatusCode::OK,
        &ListPage {
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
            pager: pager(&t, &rows, "/public/charity", &query)?,
            rows: rows.items,
            code: url_code(&code).to_owned(),
            place,
            t,
        },
    ))
}

#[derive(Template)]
#[template(path = "charity/public_fund.html")]
struct FundPage {
    t: Tr,
    base: Base,
    fund: PublicFund,
    place: String,
    disbursements: Vec<PublicDisbursement>,
    wishes: Vec<PublicWish>,
    quarterly: bool,
    next_due: String,
    final_due: String,
}

impl FundPage {
    fn yuan(&self, fen: &i64) -> String {
        format_yuan(*fen)
    }
    fn target(&self, d: &PublicDisbursement) -> String {
        self.t.label("charity.target_kind", d.target_kind)
    }
    fn state(&self, d: &PublicDisbursement) -> String {
        self.t.label("charity.disbursement_state", d.state)
    }
    fn wish_state(&self, w: &PublicWish) -> String {
        self.t.label("charity.wish_state", w.state)
    }
}

/// A fund's disclosure: no login, no personal data of the people helped.
pub async fn fund_get(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Response> {
    super::check_id(&id)?;
    let t = ctx.tr();
    let mut c = state.db.read().await?;
    let fund = ch::public_fund(&mut c, &id).await?;
    let disbursements = ch::public_disbursements(&mut c, &id).await?;
    let wishes = ch::public_wishes(&mut c, &id).await?;
    drop(c);
    let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
    let today = d(&crate::ui::forms::today(state.now())).unwrap_or_default();
    let due = shegong_domain::charity::disclosure(
        d(&fund.starts_on).unwrap_or(today),
        fund.ends_on.as_deref().and_then(d),
        today,
    );
    let none = || t.get("charity.not_due").to_owned();
    let place = place_of(&fund);
    Ok(page(
        StatusCode::OK,
        &FundPage {
            base: Base::new(
                &ctx,
                fund.name.clone(),
                vec![
                    Crumb::link(t.get("portal.title"), "/public"),
                    Crumb::link(
                        t.get("public_charity.title"),
                        format!("/public/charity?region={}", fund.region_code),
                    ),
                    Crumb::here(fund.name.clone()),
                ],
            ),
            quarterly: due.quarterly,
            next_due: due.next_due.map(|d| d.to_string()).unwrap_or_else(none),
            final_due: due.final_due.map(|d| d.to_string()).unwrap_or_else(none),
            place,
            fund,
            disbursements,
            wishes,
            t,
        },
    ))
}
