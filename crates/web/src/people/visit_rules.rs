//! Visit rules: how often residents of a tier and category are visited, per region.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use shegong_domain::people::{RiskTier, VisitMethod};
use shegong_domain::{FieldError, Permission, RegionCode};
use shegong_store::admin::audit::Change;
use shegong_store::people::{evidence, visit_rules};

use crate::http::auth::Ctx;
use crate::http::auth::reader;
use crate::http::error::WebResult;
use crate::http::render::{Base, Crumb, page};
use crate::http::state::AppState;
use crate::http::write::{Done, audited};
use crate::ui::forms::{Check, FormData};
use crate::ui::i18n::Tr;

use super::residents::{Choices, category_label, choices};
use crate::ui::list::NoticeQuery;

#[derive(Template)]
#[template(path = "people/visit_rules.html")]
struct RulesPage {
    t: Tr,
    base: Base,
    rules: Vec<(String, String, String, i64, String)>,
    choices: Choices,
    can_set: bool,
    region: String,
    error: Option<String>,
    /// Confirmation rules for home visits: (region, rule label).
    confirm_rules: Vec<(String, String)>,
    /// The rule that applies in the caller's own region (label).
    confirm_applies: String,
    /// The rule choices: (code, label).
    confirm_choices: Vec<(String, String)>,
}

async fn rules_render(
    state: &AppState,
    ctx: &Ctx,
    notice: Option<&str>,
    error: Option<FieldError>,
) -> WebResult<Response> {
    let u = reader(ctx)?;
    let t = ctx.tr();
    let (choices, cats) = choices(state, &t, &u.scope()).await?;
    let (rules, confirm, applies) = {
        let mut c = state.db.read().await?;
        (
            visit_rules::rules_in(&mut c, &u.scope()).await?,
            evidence::rules_in(&mut c, &u.scope()).await?,
            evidence::rule_for(&mut c, u.scope().prefix()).await?,
        )
    };
    let paths = {
        let mut c = state.db.read().await?;
        let codes: Vec<&str> = rules
            .iter()
            .map(|r| r.region_code.as_str())
            .chain(confirm.iter().map(|r| r.region_code.as_str()))
            .collect();
        shegong_store::network::regions::display_paths(&mut c, &codes).await?
    };
    let rule_label = |r: &str| t.get(&format!("visit.confirm_rule.{r}")).to_owned();
    let confirm_rules = confirm
        .iter()
        .map(|r| {
            (
                if r.region_code.is_empty() {
                    t.get("visit.national").to_owned()
                } else {
                    paths
                        .get(&r.region_code)
                        .cloned()
                        .unwrap_or(r.region_code.clone())
                },
                rule_label(&r.rule),
            )
        })
        .collect();
    let confirm_applies = rule_label(applies.rule.as_str());
    let confirm_choices = evidence::ConfirmRule::ALL
        .iter()
        .map(|r| (r.as_str().to_owned(), rule_label(r.as_str())))
        .collect();
    let title = t.get("menu.visit_rules");
    Ok(page(
        if error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        &RulesPage {
            rules: rules
                .into_iter()
                .map(|r| {
                    (
                        if r.region_code.is_empty() {
                            t.get("visit.national").to_owned()
                        } else {
                            paths
                                .get(&r.region_code)
                                .cloned()
                                .unwrap_or(r.region_code.clone())
                        },
                        t.get(&format!("resident.tier.{}", r.tier)).to_owned(),
                        if r.category.is_empty() {
                            t.get("visit.any_category").to_owned()
                        } else {
                            category_label(&t, &cats, &r.category)
                        },
                        r.interval_days,
                        r.methods
                            .iter()
                            .map(|m| t.get(&format!("visit.method.{m}")).to_owned())
                            .collect::<Vec<_>>()
                            .join("、"),
                    )
                })
                .collect(),
            choices,
            confirm_rules,
            confirm_applies,
            confirm_choices,
            can_set: u.can(Permission::Supervise),
            region: u.user.region_code.clone(),
            base: Base::new(ctx, title, vec![Crumb::here(title)]).with_notice(&t, notice),
            error: error.map(|e| {
                format!(
                    "{}{}{}",
                    t.get(&format!("field.{}", e.field)),
                    t.get("punct.colon"),
                    t.get(e.code)
                )
            }),
            t,
        },
    ))
}

/// The page again with a refused change's message (422).
pub(super) async fn rules_error(state: &AppState, ctx: &Ctx, e: FieldError) -> WebResult<Response> {
    rules_render(state, ctx, None, Some(e)).await
}

pub async fn rules_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NoticeQuery>,
) -> WebResult<Response> {
    rules_render(&state, &ctx, q.notice.as_deref(), None).await
}

/// A visit rule as the form (or API body) gives it.
pub(super) struct RuleInput {
    pub region: RegionCode,
    pub tier: RiskTier,
    pub category: String,
    pub interval_days: i64,
    pub methods: Vec<VisitMethod>,
}

/// Parse the rule form: a region, a tier, the interval and the methods; the first error.
pub(super) fn parse_rule(f: &FormData) -> Result<RuleInput, FieldError> {
    let mut c = Check::default();
    let region = c.region("region", f.get("region"));
    let tier = c.take(RiskTier::parse(f.get("tier")));
    let days = c.int("interval_days", f.get("interval_days"), 1, 366, 0);
    let methods: Vec<VisitMethod> = f
        .all("methods")
        .iter()
        .filter_map(|m| {
            // Named as the form's field (`method` is a service record's).
            c.take(VisitMethod::parse(m).map_err(|e| FieldError::new("methods", e.code)))
        })
        .collect();
    let category = f.get("category").to_owned();
    let errors = c.finish().err().unwrap_or_default();
    match (region, tier, errors.into_iter().next()) {
        (_, _, Some(e)) => Err(e),
        (Some(region), Some(tier), None) => Ok(RuleInput {
            region,
            tier,
            category,
            interval_days: days,
            methods,
        }),
        (None, _, None) => Err(FieldError::new("region", "form.required")),
        (_, None, None) => Err(FieldError::new("risk_tier", "form.required")),
    }
}

/// Set a rule (audited `visit_rule`/`set`); needs the supervising permission.
pub(super) async fn change_rule(
    state: &AppState,
    ctx: &Ctx,
    rule: RuleInput,
) -> WebResult<Option<FieldError>> {
    ctx.user()?.require(Permission::Supervise)?;
    let now = state.now();
    let RuleInput {
        region,
        tier,
        category,
        interval_days: days,
        methods,
    } = rule;
    audited(state, ctx, "visit_rule", "set", move |conn, scope, by| {
        Box::pin(async move {
            let before = visit_rules::set_rule(
                conn, &scope, &region, tier, &category, days, &methods, &by, now,
            )
            .await?;
            Ok(Done {
                entity_id: format!("{}/{}/{}", region, tier.as_str(), category),
                region: Some(region.to_string()),
                changes: vec![Change::new(
                    "interval_days",
                    before.map(|b| b.interval_days),
                    Some(days),
                )],
            })
        })
    })
    .await
}

pub async fn set_rule(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    ctx.user()?.require(Permission::Supervise)?;
    let failed = match parse_rule(&f) {
        Ok(rule) => change_rule(&state, &ctx, rule).await?,
        Err(e) => Some(e),
    };
    match failed {
        None => Ok(Redirect::to("/visit-rules?notice=notice.saved").into_response()),
        Some(e) => rules_render(&state, &ctx, None, Some(e)).await,
    }
}
