//! Instalments: the payment plan's parts as rows, each moved due → (awaiting assessment →
//! assessed) → requested → paid as its trigger allows, the assessment's payable computed by the
//! contract's reduction rule when it has one.

use chrono::NaiveDate;
use serde::Serialize;
use shegong_domain::money::Fen;
use shegong_domain::purchase::evaluation::FinalScore;
use shegong_domain::purchase::instalment::{
    AssessmentOutcome, InstalmentState, PaymentPlan, Portion, Trigger,
};
use shegong_domain::{FieldError, Scope};
use sqlx::AnyConnection;

use super::contracts;
use super::{from_json, stored, to_json};
use crate::sql::Sql;
use crate::workforce::OptionalDateColumn;
use crate::workforce::staff::date_text;
use crate::{Millis, StoreError, StoreResult, new_id};

#[derive(Debug, Clone, Serialize)]
pub struct Instalment {
    pub id: String,
    pub contract_id: String,
    /// 1, 2, 3 … in plan order.
    pub seq: i64,
    /// As the plan wrote it: a share of the contract amount or a fixed amount.
    pub portion: Portion,
    /// The exact part of the contract amount (the last share takes the rounding fen).
    pub amount: Fen,
    pub trigger: Trigger,
    pub due_on: Option<NaiveDate>,
    pub state: InstalmentState,
    pub outcome: Option<AssessmentOutcome>,
    /// What the assessment allows paying; the full amount for instalments paid on a date.
    pub payable: Option<Fen>,
    pub paid_on: Option<NaiveDate>,
}

/// The date an instalment falls due, when its trigger names one.
pub fn due_on(trigger: Trigger) -> Option<NaiveDate> {
    match trigger {
        Trigger::Date { on } | Trigger::AssessedOn { on } => Some(on),
        Trigger::Evaluation { .. } => None,
    }
}

/// The plan's instalments as rows of contract `contract_id`, all due.
pub(super) async fn insert_plan(
    conn: &mut AnyConnection,
    contract_id: &str,
    plan: &PaymentPlan,
    now: Millis,
) -> StoreResult<()> {
    for (seq, (planned, amount)) in (1i64..).zip(plan.instalments().iter().zip(plan.amounts())) {
        let (share, fixed) = match planned.portion {
            Portion::Share(bp) => (Some(bp), None),
            Portion::Amount(fen) => (None, Some(fen.0)),
        };
        Sql::new("INSERT INTO instalments (id, contract_id, seq, share_bp, planned_fen, amount_fen, payment_trigger, due_on, state, updated_at) VALUES (")
            .bind(new_id()).push(", ").bind(contract_id).push(", ").bind(seq).push(", ")
            .bind(share).push(", ").bind(fixed).push(", ").bind(amount.0).push(", ")
            .bind(to_json(&planned.trigger)?).push(", ")
            .bind(due_on(planned.trigger).map(date_text)).push(", ")
            .bind(InstalmentState::Due.as_str()).push(", ").bind(now).push(")")
            .execute(conn)
            .await?;
    }
    Ok(())
}

type Row = (
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    i64,
    String,
    OptionalDateColumn,
    String,
    Option<String>,
    Option<i64>,
    OptionalDateColumn,
);

const SELECT: &str = "SELECT id, contract_id, seq, share_bp, planned_fen, amount_fen, \
     payment_trigger, due_on, state, outcome, payable_fen, paid_on FROM instalments WHERE ";

fn decode(row: Row) -> StoreResult<Instalment> {
    let (id, contract_id, seq, share, fixed, amount, trigger, due, state, outcome, payable, paid) =
        row;
    let portion = match (share, fixed) {
        (Some(bp), _) => Portion::Share(bp),
        (None, Some(fen)) => Portion::Amount(Fen(fen)),
        (None, None) => {
            return Err(StoreError::Db(sqlx::Error::Decode(
                "an instalment without its portion".into(),
            )));
        }
    };
    Ok(Instalment {
        id,
        contract_id,
        seq,
        portion,
        amount: Fen(amount),
        trigger: from_json(&trigger)?,
        due_on: due.into(),
        state: stored(InstalmentState::parse(&state))?,
        outcome: outcome
            .map(|o| stored(AssessmentOutcome::parse(&o)))
            .transpose()?,
        payable: payable.map(Fen),
        paid_on: paid.into(),
    })
}

/// A contract's instalments in plan order (the caller has checked the contract is visible).
pub(super) async fn of_contract(
    conn: &mut AnyConnection,
    contract_id: &str,
) -> StoreResult<Vec<Instalment>> {
    let rows: Vec<Row> = Sql::new(SELECT)
        .push("contract_id = ")
        .bind(contract_id)
        .push(" ORDER BY seq")
        .fetch_all(conn)
        .await?;
    rows.into_iter().map(decode).collect()
}

/// The instalments of a contract in scope.
pub async fn list(
    conn: &mut AnyConnection,
    scope: &Scope,
    contract_id: &str,
) -> StoreResult<Vec<Instalment>> {
    contracts::get(conn, scope, contract_id).await?;
    of_contract(conn, contract_id).await
}

/// What the purchaser found: a score (the contract's reduction rule turns it into the payable)
/// or, for a contract without a rule, the outcome and for a reduction the payable amount.
#[derive(Debug, Clone, Copy)]
pub enum Assess {
    Score(FinalScore),
    Outcome {
        outcome: AssessmentOutcome,
        payable: Option<Fen>,
    },
}

/// One step of an instalment's life.
#[derive(Debug, Clone, Copy)]
pub enum Step {
    /// Due → awaiting assessment.
    AwaitAssessment,
    Assess(Assess),
    /// The provider asks for payment (an assessed instalment, or one paid on a date).
    Request,
    Pay(NaiveDate),
}

impl Step {
    pub fn target(self) -> InstalmentState {
        match self {
            Step::AwaitAssessment => InstalmentState::AwaitingAssessment,
            Step::Assess(_) => InstalmentState::Assessed,
            Step::Request => InstalmentState::Requested,
            Step::Pay(_) => InstalmentState::Paid,
        }
    }
}

fn refuse<T>(field: &'static str, code: &'static str) -> StoreResult<T> {
    Err(FieldError::new(field, code).into())
}

/// The outcome and payable of an assessment of `amount`: by the contract's rule when it has one
/// (a score is then required), else as the purchaser states it.
fn assessed(
    rule: Option<&shegong_domain::purchase::instalment::ReductionRule>,
    amount: Fen,
    input: Assess,
) -> StoreResult<(AssessmentOutcome, Fen)> {
    match (rule, input) {
        (Some(rule), Assess::Score(score)) => {
            let a = rule.assess(amount, &score);
            Ok((a.outcome, a.payable))
        }
        (Some(_), Assess::Outcome { .. }) => refuse("score", "purchase.score_required"),
        // Without a rule a score decides pass or fail only: nothing says how much to reduce.
        (None, Assess::Score(score)) => Ok(
            if score.grade == shegong_domain::purchase::evaluation::Grade::Fail {
                (AssessmentOutcome::Fail, Fen::ZERO)
            } else {
                (AssessmentOutcome::Pass, amount)
            },
        ),
        (None, Assess::Outcome { outcome, payable }) => match outcome {
            AssessmentOutcome::Pass => Ok((outcome, amount)),
            AssessmentOutcome::Fail => Ok((outcome, Fen::ZERO)),
            AssessmentOutcome::Reduced => match payable {
                Some(p) if p.0 > 0 && p < amount => Ok((outcome, p)),
                _ => refuse("payable", "purchase.payable_invalid"),
            },
        },
    }
}

/// Move instalment `seq` of contract `contract_id` one step, as its state and trigger allow
/// (refused on `state` otherwise). The provider's manager may only request payment; every other
/// step is the purchaser's.
pub async fn advance(
    conn: &mut AnyConnection,
    scope: &Scope,
    contract_id: &str,
    seq: i64,
    step: Step,
    now: Millis,
) -> StoreResult<(Instalment, Instalment)> {
    let contract = contracts::get(conn, scope, contract_id).await?;
    if scope.org.is_some() && !matches!(step, Step::Request) {
        return refuse("state", "purchase.purchaser_only");
    }
    // An organisation that sees the contract as its evaluator does not ask for its payment.
    if let Some(org) = scope.org
        && org.to_string() != contract.provider_org_id
    {
        return refuse("state", "purchase.purchaser_only");
    }
    let row: Row = Sql::new(SELECT)
        .push("contract_id = ")
        .bind(contract_id)
        .push(" AND seq = ")
        .bind(seq)
        .fetch_one(conn)
        .await?;
    let before = decode(row)?;
    let to = before.state.go_for(step.target(), before.trigger)?;
    let mut q = Sql::new("UPDATE instalments SET state = ");
    q.bind(to.as_str());
    match step {
        Step::Assess(input) => {
            let (outcome, payable) =
                assessed(contract.reduction_rule.as_ref(), before.amount, input)?;
            q.push(", outcome = ")
                .bind(outcome.as_str())
                .push(", payable_fen = ")
                .bind(payable.0);
        }
        // Paid on a date without assessment: the whole amount.
        Step::Request if before.payable.is_none() => {
            q.push(", payable_fen = ").bind(before.amount.0);
        }
        Step::Pay(on) => {
            q.push(", paid_on = ").bind(date_text(on));
        }
        Step::AwaitAssessment | Step::Request => {}
    }
    q.push(", updated_at = ")
        .bind(now)
        .push(" WHERE id = ")
        .bind(before.id.as_str())
        .push(" AND state = ")
        .bind(before.state.as_str());
    if q.execute(conn).await? != 1 {
        return refuse("state", "instalment.transition_invalid");
    }
    let row: Row = Sql::new(SELECT)
        .push("id = ")
        .bind(before.id.as_str())
        .fetch_one(conn)
        .await?;
    Ok((before, decode(row)?))
}
