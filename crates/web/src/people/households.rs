//! Category memberships (time-boxed), households and merging likely duplicates, from the file page.

use axum::extract::{Path, State};
use axum::response::Response;
use shegong_domain::FieldError;
use shegong_domain::people::{DisabilityCategory, DisabilityGrade, Relation};
use shegong_store::admin::audit::Change;
use shegong_store::people::duplicates;
use shegong_store::people::households;
use shegong_store::people::households::MembershipInput;
use shegong_store::people::residents::{self};

use crate::http::auth::Ctx;
use crate::http::error::WebResult;
use crate::http::state::AppState;
use crate::ui::forms::{Check, FormData};

use super::resident_file::{file_answer, file_change};
use super::residents::opt;

pub(super) fn parse_membership(f: &FormData) -> Result<MembershipInput, FieldError> {
    let mut c = Check::default();
    let category = c.text("category", f.get("category"), 40);
    let disability_category = opt(f, "disability_category").and_then(|v| {
        c.take(DisabilityCategory::parse(&v))
            .map(|x| x.as_str().to_owned())
    });
    let disability_grade = opt(f, "disability_grade").and_then(|v| {
        c.take(DisabilityGrade::parse(&v))
            .map(|x| x.as_str().to_owned())
    });
    let valid_from = c.date("valid_from", f.get("valid_from"));
    let valid_to = opt(f, "valid_to").map(|v| c.date("valid_to", &v));
    let source = c.opt_text("source", f.get("source").trim(), 100);
    let evidence = c.opt_text("evidence", f.get("evidence").trim(), 200);
    let verified_by = c.opt_text("verified_by", f.get("verified_by").trim(), 50);
    if let Some(e) = c.finish().err().and_then(|e| e.into_iter().next()) {
        return Err(e);
    }
    Ok(MembershipInput {
        category,
        disability_category,
        disability_grade,
        source,
        evidence,
        valid_from,
        valid_to,
        verified_by,
    })
}

/// Add a category membership to a file (audited `add_category`).
pub(super) async fn change_add_membership(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    m: MembershipInput,
) -> WebResult<Option<FieldError>> {
    let (rid, by, now) = (
        id.to_owned(),
        ctx.user()?.user.username.clone(),
        state.now(),
    );
    file_change(state, ctx, id, "add_category", move |conn, v| {
        Box::pin(async move {
            let r = residents::get(conn, &v, &rid).await?;
            households::add_membership(conn, &v, &rid, &m, &by, now).await?;
            Ok((
                r.region_code,
                vec![
                    Change::new("category", None::<String>, Some(m.category.clone())),
                    Change::new("valid_from", None::<String>, Some(m.valid_from.clone())),
                    Change::new("source", None::<String>, Some(m.source.clone())),
                ],
            ))
        })
    })
    .await
}

pub async fn add_membership(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    let outcome = match parse_membership(&f) {
        Ok(m) => change_add_membership(&state, &ctx, &id, m).await,
        Err(e) => Ok(Some(e)),
    };
    file_answer(&state, &ctx, &id, outcome).await
}

/// The end form (or API body): the last day of the membership.
pub(super) fn parse_end(f: &FormData) -> Result<String, FieldError> {
    let mut c = Check::default();
    let on = c.date("valid_to", f.get("valid_to"));
    match c.finish() {
        Ok(()) => Ok(on),
        Err(e) => Err(e
            .into_iter()
            .next()
            .unwrap_or_else(|| FieldError::new("valid_to", "form.required"))),
    }
}

/// End a membership of a file on `on` (audited `end_category`); an unknown membership of the
/// file is not found.
pub(super) async fn change_end_membership(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    mid: String,
    on: String,
) -> WebResult<Option<FieldError>> {
    let rid = id.to_owned();
    file_change(state, ctx, id, "end_category", move |conn, v| {
        Box::pin(async move {
            let r = residents::get(conn, &v, &rid).await?;
            let m = households::end_membership(conn, &v, &rid, &mid, &on).await?;
            Ok((
                r.region_code,
                vec![
                    Change::new("category", Some(m.category), None::<String>),
                    Change::new("valid_to", m.valid_to, Some(on)),
                ],
            ))
        })
    })
    .await
}

pub async fn end_membership(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, mid)): Path<(String, String)>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    let outcome = match parse_end(&f) {
        Ok(on) => change_end_membership(&state, &ctx, &id, mid, on).await,
        Err(e) => Ok(Some(e)),
    };
    file_answer(&state, &ctx, &id, outcome).await
}

/// Join the household of `other` (its head) with a relation (audited `join_household`).
pub(super) async fn change_household(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    other: String,
    relation: Relation,
) -> WebResult<Option<FieldError>> {
    let (rid, now) = (id.to_owned(), state.now());
    file_change(state, ctx, id, "join_household", move |conn, v| {
        Box::pin(async move {
            let before = households::join_household(conn, &v, &rid, &other, relation, now).await?;
            Ok((
                before.region_code,
                vec![
                    Change::new("household_of", None::<String>, Some(other)),
                    Change::new("relation", before.relation, Some(relation.as_str())),
                ],
            ))
        })
    })
    .await
}

pub async fn join_household(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    let outcome = match Relation::parse(f.get("relation")) {
        Ok(r) => change_household(&state, &ctx, &id, f.get("other").to_owned(), r).await,
        Err(e) => Ok(Some(e)),
    };
    file_answer(&state, &ctx, &id, outcome).await
}

/// Merge the likely duplicate `other` into this file (audited `merge`).
pub(super) async fn change_merge(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    other: String,
) -> WebResult<Option<FieldError>> {
    let (rid, now) = (id.to_owned(), state.now());
    file_change(state, ctx, id, "merge", move |conn, v| {
        Box::pin(async move {
            let (keep, dropped) = duplicates::merge(conn, &v, &rid, &other, now).await?;
            Ok((
                keep.region_code,
                vec![Change::new(
                    "merged",
                    Some(format!("{} ({})", dropped.name, dropped.id)),
                    None::<String>,
                )],
            ))
        })
    })
    .await
}

pub async fn merge(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    let outcome = change_merge(&state, &ctx, &id, f.get("other").to_owned()).await;
    file_answer(&state, &ctx, &id, outcome).await
}
