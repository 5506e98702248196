//! The stage actions on a case (assess, plan, decide, evaluate, close, reopen, refer, answer a
//! referral): one form per step, parsed and run through the audited write.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use shegong_domain::people::{AssessmentDomain, CaseOutcome, RiskTier, ServiceKind};
use shegong_domain::{FieldError, Permission};
use shegong_store::admin::audit::Change;
use shegong_store::people::cases::{self, PlannedService};

use crate::http::auth::Ctx;
use crate::http::error::WebResult;
use crate::http::state::AppState;
use crate::http::write::{Done, audited};
use crate::ui::forms::{Check, FormData, today};

use super::cases::{actor, case_detail};
use super::residents::viewer;

/// What a step form asks the store to do.
pub(super) enum Step {
    Assess(Vec<(AssessmentDomain, i64)>, RiskTier, String),
    Plan(String, Vec<PlannedService>),
    Decide(bool, String),
    Evaluate(i64, String),
    Close(CaseOutcome, String),
    Reopen(String),
    Refer(String, String),
    Answer(bool, Option<String>, String),
    /// 个案记录: a progress note, at any open stage.
    Note(String),
}

/// The steps a case page (and the API) offers, by the name in the address.
pub(super) const STEPS: &[&str] = &[
    "assess", "plan", "decide", "evaluate", "close", "reopen", "refer", "answer", "note",
];

/// A decision between two buttons: `yes` or `no`, anything else named as an error.
fn choice(c: &mut Check, v: &str, yes: &str, no: &str) -> bool {
    if v != yes && v != no {
        c.fail("decision", "case.decision_unknown");
    }
    v == yes
}

/// Parse a step's form (or API body in the same shape); an unknown step is an error on `stage`.
pub(super) fn parse_step(step: &str, f: &FormData) -> Result<Step, FieldError> {
    let mut c = Check::default();
    let out = match step {
        "assess" => {
            let scores = AssessmentDomain::ALL
                .iter()
                .map(|d| {
                    (
                        *d,
                        c.int("scores", f.get(&format!("score_{}", d.as_str())), 0, 3, -1),
                    )
                })
                .collect();
            let tier =
                c.take(RiskTier::parse(f.get("risk")).map_err(|e| FieldError::new("risk", e.code)));
            Step::Assess(
                scores,
                tier.unwrap_or(RiskTier::General),
                c.opt_text("notes", f.get("notes"), 2000),
            )
        }
        "plan" => {
            let goals = c.opt_text("goals", f.get("goals"), 2000);
            let kinds = f.all("service_kind");
            let counts = f.all("per_month");
            let mut planned = Vec::new();
            for (k, n) in kinds.iter().zip(counts.iter()) {
                if k.is_empty() || n.is_empty() {
                    continue;
                }
                let kind = ServiceKind::parse(k).map_err(|e| FieldError::new("services", e.code));
                if let Some(kind) = c.take(kind) {
                    planned.push(PlannedService {
                        kind: kind.as_str().to_owned(),
                        per_month: c.int("services", n, 1, 60, 1),
                    });
                }
            }
            Step::Plan(goals, planned)
        }
        "decide" => Step::Decide(
            choice(&mut c, f.get("decision"), "approve", "return"),
            c.opt_text("comment", f.get("comment"), 500),
        ),
        "evaluate" => Step::Evaluate(
            c.int("goals_met", f.get("goals_met"), 0, 100, 0),
            c.opt_text("summary", f.get("summary"), 2000),
        ),
        "close" => {
            let (outcome, note) = closure(&mut c, f.get("outcome"), f.get("outcome_note"));
            Step::Close(outcome, note)
        }
        "reopen" => Step::Reopen(c.opt_text("reason", f.get("reason"), 500)),
        "refer" => Step::Refer(
            f.get("station").to_owned(),
            c.opt_text("reason", f.get("reason"), 500),
        ),
        "answer" => Step::Answer(
            choice(&mut c, f.get("decision"), "accept", "decline"),
            Some(f.get("worker").to_owned()).filter(|s| !s.is_empty()),
            c.opt_text("reason", f.get("reason"), 500),
        ),
        "note" => Step::Note(c.opt_text("note", f.get("note"), 2000)),
        _ => return Err(FieldError::new("stage", "case.wrong_stage")),
    };
    if let Some(e) = c.finish().err().and_then(|e| e.into_iter().next()) {
        return Err(e);
    }
    Ok(out)
}

/// 结案成效: a code from the catalogue (required) and an optional note.
pub(super) fn closure(c: &mut Check, code: &str, note: &str) -> (CaseOutcome, String) {
    let outcome = if code.trim().is_empty() {
        c.fail("outcome", "form.required");
        None
    } else {
        c.take(CaseOutcome::parse(code))
    };
    let note = c.opt_text("outcome_note", note, 500);
    (outcome.unwrap_or(CaseOutcome::Other), note)
}

/// Run a parsed step (audited `case`/<action>): `Ok(None)` when saved, `Ok(Some(e))` for a field
/// error. A case outside the caller's scope (or, to answer, not referred to it) is not found.
pub(super) async fn run_step(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    step: Step,
) -> WebResult<Option<FieldError>> {
    let u = ctx.user()?;
    match &step {
        Step::Decide(..) => u.require(Permission::ApproveCases)?,
        _ => u.require(Permission::WriteData)?,
    }
    let v = viewer(state, u);
    let (app, who, now, day) = (state.clone(), actor(u), state.now(), today(state.now()));
    let cid = id.to_owned();
    let action = match &step {
        Step::Assess(..) => "assess",
        Step::Plan(..) => "plan",
        Step::Decide(true, _) => "approve",
        Step::Decide(false, _) => "return",
        Step::Evaluate(..) => "evaluate",
        Step::Close(..) => "request_closure",
        Step::Reopen(..) => "reopen",
        Step::Refer(..) => "refer",
        Step::Answer(true, ..) => "accept_referral",
        Step::Answer(false, ..) => "decline_referral",
        Step::Note(..) => "note",
    };
    audited(state, ctx, "case", action, move |conn, _, _| {
        Box::pin(async move {
            let answered = matches!(step, Step::Answer(..));
            let before = match step {
                Step::Assess(scores, tier, notes) => {
                    cases::assess(conn, &v, &app.keys, &cid, &scores, tier, &notes, &who, now)
                        .await?
                }
                Step::Plan(goals, planned) => {
                    cases::submit_plan(conn, &v, &app.keys, &cid, &goals, &planned, &who, now)
                        .await?
                }
                Step::Decide(ok, comment) => {
                    cases::decide(conn, &v, &app.keys, &cid, ok, &comment, &who, &day, now).await?
                }
                Step::Evaluate(pct, summary) => {
                    cases::evaluate(conn, &v, &app.keys, &cid, pct, &summary, &who, now).await?
                }
                Step::Close(outcome, note) => {
                    cases::request_closure(conn, &v, &app.keys, &cid, outcome, &note, &who, now)
                        .await?
                }
                Step::Reopen(reason) => {
                    cases::reopen(conn, &v, &app.keys, &cid, &reason, &who, now).await?
                }
                Step::Refer(station, reason) => {
                    cases::refer(conn, &v, &app.keys, &cid, &station, &reason, &who, now).await?
                }
                Step::Note(text) => {
                    cases::note(conn, &v, &app.keys, &cid, &text, &who, now).await?
                }
                Step::Answer(ok, worker, reason) => {
                    cases::answer_referral(
                        conn,
                        &v,
                        &app.keys,
                        &cid,
                        ok,
                        worker.as_deref(),
                        &reason,
                        &who,
                        now,
                    )
                    .await?
                }
            };
            // The case as it is now, for the stage change in the entry. Answering a referral moves
            // the case (or sends it back) without changing its stage, and may take it out of the
            // answerer's scope; every other step leaves it where the actor can read it.
            let after = if answered {
                (before.stage, before.pending.clone())
            } else {
                let now_case = cases::get(conn, &v, &cid).await?;
                (now_case.stage, now_case.pending)
            };
            Ok(Done {
                entity_id: cid,
                region: Some(before.region_code),
                changes: vec![
                    Change::new("stage", Some(before.stage), Some(after.0)),
                    Change::new("pending", Some(before.pending), Some(after.1)),
                ],
            })
        })
    })
    .await
}

/// 结案 by the API: request the closure with a coded outcome; a field error, or none.
pub(super) async fn request_closure(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    outcome: CaseOutcome,
    note: String,
) -> WebResult<Option<FieldError>> {
    run_step(state, ctx, id, Step::Close(outcome, note)).await
}

pub async fn step(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, step)): Path<(String, String)>,
    axum::Form(f): axum::Form<FormData>,
) -> WebResult<Response> {
    let parsed = match parse_step(&step, &f) {
        Ok(s) => s,
        Err(e) => return case_detail(&state, &ctx, &id, None, Some(e)).await,
    };
    let accepted_elsewhere = matches!(parsed, Step::Answer(..));
    match run_step(&state, &ctx, &id, parsed).await? {
        None if accepted_elsewhere => Ok(Redirect::to("/cases?state=open").into_response()),
        None => Ok(Redirect::to(&format!("/cases/{id}?notice=notice.saved")).into_response()),
        Some(e) => case_detail(&state, &ctx, &id, None, Some(e)).await,
    }
}
