//! The worker's own page (`/my`): visits overdue and due this week, my open cases, and what
//! awaits my approval.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use shegong_domain::Permission;
use shegong_store::PageRequest;
use shegong_store::people::cases;
use shegong_store::people::residents::{self};
use shegong_store::people::visit_rules;

use crate::http::auth::Ctx;
use crate::http::auth::reader;
use crate::http::error::WebResult;
use crate::http::render::{Base, Crumb, page};
use crate::http::state::AppState;
use crate::ui::i18n::Tr;

use super::cases::{CaseRow, case_row};
use super::residents::viewer;

#[derive(Template)]
#[template(path = "people/mine.html")]
struct MinePage {
    t: Tr,
    base: Base,
    counts: visit_rules::DueCounts,
    due: Vec<(String, String, String, String, bool)>,
    cases: Vec<CaseRow>,
    pending: Vec<CaseRow>,
    rate: Option<(i64, i64, String)>,
}

/// The worker's page: visits overdue and due this week, my open cases, approvals waiting.
pub async fn mine(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let u = reader(&ctx)?;
    let t = ctx.tr();
    let v = viewer(&state, u);
    let worker = (u.role() == shegong_domain::Role::SocialWorker).then(|| v.user_id.clone());
    let week = (v.today + chrono::Duration::days(7)).to_string();
    let mut c = state.db.read().await?;
    let counts = visit_rules::due_counts(&mut c, &v, worker.as_deref()).await?;
    let due = residents::list(
        &mut c,
        &v,
        &residents::Filter {
            worker: worker.clone(),
            due_by: Some(week),
            ..Default::default()
        },
        PageRequest::new(Some(1), Some(100)),
    )
    .await?;
    let my_cases = cases::list(
        &mut c,
        &v,
        &cases::Filter {
            worker: Some(v.user_id.clone()),
            state: Some("open".into()),
            ..Default::default()
        },
        PageRequest::new(Some(1), Some(100)),
    )
    .await?;
    let pending = if u.can(Permission::ApproveCases) {
        cases::list(
            &mut c,
            &v,
            &cases::Filter {
                state: Some("pending".into()),
                ..Default::default()
            },
            PageRequest::new(Some(1), Some(100)),
        )
        .await?
        .items
        .into_iter()
        .filter(|x| x.worker_user_id.as_deref() != Some(v.user_id.as_str()))
        .collect()
    } else {
        vec![]
    };
    let month = v.today.format("%Y-%m").to_string();
    let (visited, all) = visit_rules::elderly_visit_rate(&mut c, &v, &month).await?;
    drop(c);
    let today_s = v.today.to_string();
    let title = t.get("menu.mine");
    Ok(page(
        StatusCode::OK,
        &MinePage {
            base: Base::new(&ctx, title, vec![Crumb::here(title)]),
            counts,
            due: due
                .items
                .into_iter()
                .map(|r| {
                    let overdue = r.next_visit_due < today_s;
                    (
                        r.id,
                        r.name,
                        t.get(&format!("resident.tier.{}", r.risk_tier)).to_owned(),
                        r.next_visit_due,
                        overdue,
                    )
                })
                .collect(),
            cases: my_cases.items.iter().map(|x| case_row(&t, x)).collect(),
            pending: pending.iter().map(|x| case_row(&t, x)).collect(),
            rate: (all > 0).then(|| {
                (
                    visited,
                    all,
                    format!("{:.1}%", visited as f64 * 100.0 / all as f64),
                )
            }),
            t,
        },
    ))
}
