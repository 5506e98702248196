//! What the contract form and the API submit, parsed once for both: amounts as people write them
//! ("1.5万元", "300,000"; "二十多万" is refused as an estimate), a payment plan as "40/40/20" or one
//! row per instalment, lines and budget lines as rows, and an instalment's next step.

use chrono::NaiveDate;
use shegong_domain::FieldError;
use shegong_domain::money::{Fen, MoneyError, MoneyUnit};
use shegong_domain::people::ServiceKind;
use shegong_domain::purchase::contract::{
    BudgetCategory, BudgetLine, ContractLine, LineTier, ProcurementMethod, QualifyingRule, Term,
};
use shegong_domain::purchase::evaluation::{EvaluationKind, FinalScore, GradeThresholds, Points};
use shegong_domain::purchase::execution::{Expense, Position};
use shegong_domain::purchase::instalment::{
    AssessmentOutcome, InstalmentState, PaymentPlan, PlannedInstalment, Portion, ReductionRule,
    Trigger,
};
use shegong_domain::purchase::parse_percent;
use shegong_domain::purchase::project::{Notice, NoticeKind, Project};
use shegong_store::purchase::contracts::ContractInput;
use shegong_store::purchase::instalments::{Assess, Step};
use shegong_store::purchase::projects::ProjectInput;

use crate::ui::forms::{Check, FormData};

/// Rows the API may send (the form shows fewer).
pub const MAX_ROWS: usize = 50;
/// Rows the new-contract form shows for lines, budget lines and instalments.
pub const FORM_ROWS: usize = 5;

/// The message for an amount that is not one, by why.
fn money_code(e: MoneyError) -> &'static str {
    match e {
        MoneyError::NotANumber => "purchase.amount_not_a_number",
        MoneyError::Negative => "purchase.amount_negative",
        MoneyError::ChineseNumeral => "purchase.amount_chinese_numeral",
        MoneyError::Approximate => "purchase.amount_approximate",
    }
}

/// An amount in yuan as typed, with a unit or in Chinese numerals, exactly to the fen.
pub fn money(field: &'static str, text: &str) -> Result<Fen, FieldError> {
    if text.trim().is_empty() {
        return Err(FieldError::new(field, "form.required"));
    }
    Fen::parse_in(text, MoneyUnit::Yuan).map_err(|e| FieldError::new(field, money_code(e)))
}

/// The same error on the form's own field name (a domain check names its own field, e.g.
/// `plan`, where the form shows `payment_plan`).
fn renamed<T>(field: &'static str, r: Result<T, FieldError>) -> Result<T, FieldError> {
    r.map_err(|e| FieldError::new(field, e.code))
}

fn key(prefix: &str, i: usize) -> String {
    format!("{prefix}_{i}")
}

fn date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()
}

fn count(field: &'static str, text: &str) -> Result<i64, FieldError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(0);
    }
    text.replace([',', '，'], "")
        .parse::<i64>()
        .map_err(|_| FieldError::new(field, "form.not_a_number"))
}

/// Line row `i`, or `None` when the row is empty.
fn line(f: &FormData, i: usize) -> Option<Result<ContractLine, FieldError>> {
    let get = |p: &str| f.get(&key(p, i)).to_owned();
    let content = get("line_content");
    if ["line_content", "line_unit", "line_price", "line_quantity"]
        .iter()
        .all(|p| f.get(&key(p, i)).is_empty())
    {
        return None;
    }
    let parse = || -> Result<ContractLine, FieldError> {
        let service_kind = match get("line_kind").as_str() {
            "" => None,
            k => Some(renamed("lines", ServiceKind::parse(k))?),
        };
        // 基础项目 unless the row says otherwise; an unknown tier is refused, never dropped.
        let tier = match get("line_tier").trim() {
            "" => LineTier::Basic,
            t => renamed("lines", LineTier::parse(t))?,
        };
        let (a, b) = (
            count("lines", &get("line_a"))?,
            count("lines", &get("line_b"))?,
        );
        let rule = match get("line_rule").as_str() {
            "" | "each" => QualifyingRule::Each,
            "person_times" => QualifyingRule::PersonTimes,
            "group" => QualifyingRule::Group {
                min_sessions: a,
                min_person_times: b,
            },
            "activity" => QualifyingRule::Activity {
                min_participants: a,
            },
            "closed_case" => QualifyingRule::ClosedCase { min_follow_ups: a },
            _ => return Err(FieldError::new("lines", "purchase.rule_unknown")),
        };
        let line = ContractLine {
            service_kind,
            content,
            unit: get("line_unit"),
            unit_price: renamed("lines", money("lines", &get("line_price")))?,
            quantity: count("lines", &get("line_quantity"))?,
            rule,
            tier,
        };
        renamed("lines", line.validate())?;
        Ok(line)
    };
    Some(parse())
}

fn budget_line(f: &FormData, i: usize) -> Option<Result<BudgetLine, FieldError>> {
    let amount = f.get(&key("budget_amount", i));
    if amount.is_empty() {
        return None;
    }
    Some((|| {
        Ok(BudgetLine {
            category: renamed(
                "budget",
                BudgetCategory::parse(f.get(&key("budget_category", i))),
            )?,
            amount: money("budget", amount)?,
        })
    })())
}

/// Instalment row `i`'s trigger: on a date (the row's, else the term's first day), assessed on
/// a date, or after an evaluation of a kind.
fn trigger(f: &FormData, i: usize, start: NaiveDate) -> Result<Trigger, FieldError> {
    let on_text = f.get(&key("inst_on", i));
    let on = match on_text {
        "" => start,
        t => date(t).ok_or(FieldError::new("payment_plan", "date.invalid"))?,
    };
    Ok(match f.get(&key("inst_trigger", i)) {
        "" | "date" => Trigger::Date { on },
        "assessed_on" => Trigger::AssessedOn { on },
        "evaluation" => Trigger::Evaluation {
            kind: match f.get(&key("inst_kind", i)) {
                "" => EvaluationKind::Final,
                k => renamed("payment_plan", EvaluationKind::parse(k))?,
            },
        },
        _ => return Err(FieldError::new("payment_plan", "purchase.trigger_unknown")),
    })
}

/// A row's portion: "40%" is a share, anything else an amount ("12万", "120,000").
fn portion(text: &str) -> Result<Portion, FieldError> {
    if text.contains(['%', '％']) {
        Ok(Portion::Share(parse_percent("payment_plan", text)?))
    } else {
        Ok(Portion::Amount(money("payment_plan", text)?))
    }
}

/// The plan: "40/40/20" in `plan` (shares, each row giving its instalment's trigger), else one
/// row per instalment.
fn plan(f: &FormData, total: Fen, start: NaiveDate) -> Result<PaymentPlan, FieldError> {
    let written = f.get("plan");
    let portions: Vec<Portion> = if written.is_empty() {
        (0..MAX_ROWS)
            .map(|i| f.get(&key("inst_portion", i)))
            .take_while(|p| !p.is_empty())
            .map(portion)
            .collect::<Result<_, _>>()?
    } else {
        written
            .split(['/', '／', ',', '，', '、', ' '])
            .filter(|s| !s.trim().is_empty())
            .map(|s| parse_percent("payment_plan", s).map(Portion::Share))
            .collect::<Result<_, _>>()?
    };
    let mut instalments = Vec::with_capacity(portions.len());
    for (i, portion) in portions.into_iter().enumerate() {
        instalments.push(PlannedInstalment {
            portion,
            trigger: trigger(f, i, start)?,
        });
    }
    renamed("payment_plan", PaymentPlan::new(total, instalments))
}

fn opt(f: &FormData, k: &str) -> Option<String> {
    Some(f.get(k).to_owned()).filter(|s| !s.is_empty())
}

/// A new contract from the form (or the API's body in the same shape); every field error at
/// once.
pub fn contract(f: &FormData) -> Result<ContractInput, Vec<FieldError>> {
    let mut c = Check::default();
    let region = c.region("region", f.get("region"));
    let number = c.text("contract_number", f.get("contract_number"), 60);
    let title = c.text("title", f.get("title"), 200);
    let provider = c.text("provider_org_id", f.get("provider_org_id"), 64);
    let amount = c.take(money("amount", f.get("amount")));
    let start = c.date("term_start", f.get("term_start"));
    let end = c.date("term_end", f.get("term_end"));
    let term = match (date(&start), date(&end)) {
        (Some(s), Some(e)) => c.take(Term::new(s, e)),
        _ => None,
    };
    let method = c.take(renamed(
        "procurement_method",
        ProcurementMethod::parse(f.get("procurement_method")),
    ));
    let reduction_rule = match f.get("reduction_rule") {
        "" => None,
        text => c.take(ReductionRule::parse(text)),
    };
    let lines: Vec<ContractLine> = (0..MAX_ROWS)
        .filter_map(|i| line(f, i))
        .filter_map(|r| c.take(r))
        .collect();
    if lines.is_empty() && !c.errors.iter().any(|e| e.field == "lines") {
        c.fail("lines", "purchase.lines_required");
    }
    let budget: Vec<BudgetLine> = (0..MAX_ROWS)
        .filter_map(|i| budget_line(f, i))
        .filter_map(|r| c.take(r))
        .collect();
    let plan = match (amount, term) {
        (Some(amount), Some(term)) => c.take(plan(f, amount, term.start())),
        // The plan splits the amount over the term: it is checked once both are right.
        _ => None,
    };
    let checked = c.finish();
    let (Ok(()), Some(region), Some(amount), Some(term), Some(method), Some(plan)) =
        (&checked, region, amount, term, method, plan)
    else {
        return Err(checked.err().unwrap_or_default());
    };
    Ok(ContractInput {
        region,
        number,
        title,
        purchaser_org_id: opt(f, "purchaser_org_id"),
        provider_org_id: provider,
        amount,
        term,
        method,
        renewal_of: opt(f, "renewal_of"),
        catalogue_item_id: opt(f, "catalogue_item_id"),
        reduction_rule,
        stations: f
            .all("stations")
            .into_iter()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect(),
        lines,
        budget,
        plan,
    })
}

/// An instalment's next step: `to` the state, with the assessment (a score out of a maximum,
/// 100 by default; or an outcome and, for a reduction, the payable amount) or the payment date
/// (today by default).
pub fn step(f: &FormData, today: NaiveDate) -> Result<Step, FieldError> {
    Ok(match InstalmentState::parse(f.get("to"))? {
        InstalmentState::Due => {
            return Err(FieldError::new("state", "instalment.transition_invalid"));
        }
        InstalmentState::AwaitingAssessment => Step::AwaitAssessment,
        InstalmentState::Assessed => Step::Assess(assessment(f)?),
        InstalmentState::Requested => Step::Request,
        InstalmentState::Paid => Step::Pay(match f.get("paid_on") {
            "" => today,
            t => date(t).ok_or(FieldError::new("paid_on", "date.invalid"))?,
        }),
    })
}

fn assessment(f: &FormData) -> Result<Assess, FieldError> {
    let score = f.get("score");
    if !score.is_empty() {
        let total = renamed("score", Points::parse("score", score))?;
        let max = match f.get("max_score") {
            "" => Points::whole(100),
            m => renamed("max_score", Points::parse("max_score", m))?,
        };
        if max.0 <= 0 {
            return Err(FieldError::new("max_score", "purchase.max_score_invalid"));
        }
        if total > max {
            return Err(FieldError::new("score", "purchase.score_above_max"));
        }
        let grade = GradeThresholds::default().grade(total, max);
        return Ok(Assess::Score(FinalScore { total, max, grade }));
    }
    let outcome = match f.get("assessment_outcome") {
        "" => return Err(FieldError::new("score", "purchase.score_required")),
        o => renamed("assessment_outcome", AssessmentOutcome::parse(o))?,
    };
    let payable = match f.get("payable") {
        "" => None,
        p => Some(money("payable", p)?),
    };
    Ok(Assess::Outcome { outcome, payable })
}

/// A date field as `YYYY-MM-DD`, required.
pub fn day(field: &'static str, text: &str) -> Result<NaiveDate, FieldError> {
    date(text).ok_or(FieldError::new(field, "purchase.date_invalid"))
}

/// An expense from the contract page or the API: budget line, date, amount, what for, voucher.
pub fn expense(f: &FormData) -> Result<Expense, FieldError> {
    let budget_seq = f
        .get("budget_seq")
        .trim()
        .parse::<i64>()
        .map_err(|_| FieldError::new("budget_seq", "purchase.budget_line_unknown"))?;
    Ok(Expense {
        budget_seq,
        spent_on: day("spent_on", f.get("spent_on"))?,
        amount: money("amount", f.get("amount"))?,
        description: f.get("description").trim().to_owned(),
        voucher: f.get("voucher").trim().to_owned(),
    })
}

/// A post bought by the contract: title, station (optional), headcount, monthly cost.
pub fn position(f: &FormData) -> Result<Position, FieldError> {
    let monthly = match f.get("monthly").trim() {
        "" => Fen(0),
        text => money("monthly", text)?,
    };
    Ok(Position {
        title: f.get("title").trim().to_owned(),
        station_id: opt(f, "station_id"),
        headcount: count("headcount", f.get("headcount"))?,
        monthly,
    })
}

/// A new project (立项) from the form or the API's body in the same shape; every field error at
/// once.
pub fn project(f: &FormData) -> Result<ProjectInput, Vec<FieldError>> {
    let mut c = Check::default();
    let region = c.region("region", f.get("region"));
    let number = c.text("project_number", f.get("project_number"), 60);
    let name = c.text("name", f.get("name"), 200);
    let budget = c.take(money("budget", f.get("budget")));
    let start = c.date("term_start", f.get("term_start"));
    let end = c.date("term_end", f.get("term_end"));
    let term = match (date(&start), date(&end)) {
        (Some(s), Some(e)) => c.take(Term::new(s, e)),
        _ => None,
    };
    let checked = c.finish();
    let (Ok(()), Some(region), Some(budget), Some(term)) = (&checked, region, budget, term) else {
        return Err(checked.err().unwrap_or_default());
    };
    Ok(ProjectInput {
        region,
        project: Project {
            number,
            name,
            budget,
            term,
        },
        purchaser_org_id: opt(f, "purchaser_org_id"),
        catalogue_item_id: opt(f, "catalogue_item_id"),
        stations: f
            .all("stations")
            .into_iter()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect(),
    })
}

/// A procurement notice: kind, date, title, link.
pub fn notice(f: &FormData) -> Result<Notice, FieldError> {
    Ok(Notice {
        kind: NoticeKind::parse(f.get("kind"))?,
        published_on: day("published_on", f.get("published_on"))?,
        title: f.get("title").trim().to_owned(),
        url: f.get("url").trim().to_owned(),
    })
}
