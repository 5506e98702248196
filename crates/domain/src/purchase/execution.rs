//! A contract's execution: money spent against its budget lines (预算执行), the posts it buys
//! (岗位购买) and who fills them.

use chrono::{Months, NaiveDate};

use super::contract::{ContractState, Term};
use crate::FieldError;
use crate::money::Fen;

/// Bills of the last months arrive after the term ends: expenses are accepted up to three months
/// after it.
const SETTLEMENT_MONTHS: u32 = 3;

/// An expense as entered: which budget line, when, how much, what for and the voucher (凭证号).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expense {
    pub budget_seq: i64,
    pub spent_on: NaiveDate,
    pub amount: Fen,
    pub description: String,
    pub voucher: String,
}

impl Expense {
    /// The expense on its own and against the contract: a positive amount, a date within the term
    /// (or its settlement months) and not in the future, a description, a contract still open to
    /// spending (not yet settled).
    pub fn validate(
        &self,
        term: Term,
        state: ContractState,
        today: NaiveDate,
    ) -> Result<(), FieldError> {
        if state.is_settled() {
            return Err(FieldError::new("contract", "purchase.contract_closed"));
        }
        if self.amount.0 <= 0 {
            return Err(FieldError::new("amount", "purchase.amount_invalid"));
        }
        let last = term
            .end()
            .checked_add_months(Months::new(SETTLEMENT_MONTHS))
            .unwrap_or(term.end());
        if self.spent_on < term.start() || self.spent_on > last {
            return Err(FieldError::new("spent_on", "purchase.expense_outside_term"));
        }
        if self.spent_on > today {
            return Err(FieldError::new("spent_on", "purchase.date_in_future"));
        }
        let description = self.description.trim().chars().count();
        if description == 0 || description > 200 {
            return Err(FieldError::new("description", "purchase.text_invalid"));
        }
        if self.voucher.trim().chars().count() > 60 {
            return Err(FieldError::new("voucher", "purchase.text_invalid"));
        }
        Ok(())
    }

    /// Refused when it would take the line past its budget: a line is raised by a budget
    /// adjustment, not by spending.
    pub fn fits(&self, budget: Fen, spent: Fen) -> Result<(), FieldError> {
        match spent.0.checked_add(self.amount.0) {
            Some(total) if total <= budget.0 => Ok(()),
            _ => Err(FieldError::new("amount", "purchase.expense_over_budget")),
        }
    }
}

/// A post the contract buys (岗位): its title, the station it serves, how many people and the
/// monthly cost of one post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub title: String,
    pub station_id: Option<String>,
    pub headcount: i64,
    pub monthly: Fen,
}

impl Position {
    pub fn validate(&self) -> Result<(), FieldError> {
        let title = self.title.trim().chars().count();
        if title == 0 || title > 60 {
            return Err(FieldError::new("title", "purchase.text_invalid"));
        }
        if !(1..=100).contains(&self.headcount) {
            return Err(FieldError::new("headcount", "purchase.headcount_invalid"));
        }
        if self.monthly.0 < 0 {
            return Err(FieldError::new("monthly", "purchase.amount_invalid"));
        }
        Ok(())
    }
}

/// A staff record takes a post from a date inside the contract's term, while the post has room.
pub fn check_fill(
    term: Term,
    from: NaiveDate,
    filled: i64,
    headcount: i64,
) -> Result<(), FieldError> {
    if !term.contains(from) {
        return Err(FieldError::new("from_date", "purchase.date_outside_term"));
    }
    if filled >= headcount {
        return Err(FieldError::new("staff_id", "purchase.position_full"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn term() -> Term {
        Term::new(d("2025-06-01"), d("2026-05-31")).unwrap()
    }

    fn expense(on: &str, fen: i64) -> Expense {
        Expense {
            budget_seq: 1,
            spent_on: d(on),
            amount: Fen(fen),
            description: "督导费".into(),
            voucher: "记-0012".into(),
        }
    }

    #[test]
    fn expenses_fall_in_the_term_or_its_settlement_months_and_not_ahead_of_today() {
        let today = d("2026-12-01");
        let ok = |e: &Expense| e.validate(term(), ContractState::InForce, today);
        assert_eq!(ok(&expense("2025-06-01", 100)), Ok(()));
        assert_eq!(ok(&expense("2026-08-31", 100)), Ok(()));
        assert_eq!(
            ok(&expense("2026-09-01", 100)).unwrap_err().code,
            "purchase.expense_outside_term"
        );
        assert_eq!(
            ok(&expense("2025-05-31", 100)).unwrap_err().field,
            "spent_on"
        );
        assert_eq!(ok(&expense("2025-07-01", 0)).unwrap_err().field, "amount");
        let future =
            expense("2025-07-01", 100).validate(term(), ContractState::InForce, d("2025-06-30"));
        assert_eq!(future.unwrap_err().code, "purchase.date_in_future");
        let settled = expense("2025-07-01", 100).validate(term(), ContractState::Settled, today);
        assert_eq!(settled.unwrap_err().code, "purchase.contract_closed");
        let mut blank = expense("2025-07-01", 100);
        blank.description = "  ".into();
        assert_eq!(
            blank
                .validate(term(), ContractState::InForce, today)
                .unwrap_err()
                .field,
            "description"
        );
    }

    #[test]
    fn an_expense_may_use_the_line_up_to_its_last_fen() {
        let e = expense("2025-07-01", 500);
        assert_eq!(e.fits(Fen(1_000), Fen(500)), Ok(()));
        assert_eq!(
            e.fits(Fen(1_000), Fen(501)).unwrap_err().code,
            "purchase.expense_over_budget"
        );
        assert!(
            expense("2025-07-01", i64::MAX)
                .fits(Fen(i64::MAX), Fen(1))
                .is_err()
        );
    }

    #[test]
    fn posts_have_a_title_and_room_for_one_to_a_hundred() {
        let post = Position {
            title: "一线社工".into(),
            station_id: None,
            headcount: 3,
            monthly: Fen(600_000),
        };
        assert_eq!(post.validate(), Ok(()));
        assert_eq!(
            Position {
                headcount: 0,
                ..post.clone()
            }
            .validate()
            .unwrap_err()
            .field,
            "headcount"
        );
        assert_eq!(
            Position {
                title: " ".into(),
                ..post
            }
            .validate()
            .unwrap_err()
            .field,
            "title"
        );
        assert_eq!(check_fill(term(), d("2025-06-01"), 2, 3), Ok(()));
        assert_eq!(
            check_fill(term(), d("2025-06-01"), 3, 3).unwrap_err().code,
            "purchase.position_full"
        );
        assert_eq!(
            check_fill(term(), d("2026-06-01"), 0, 3).unwrap_err().field,
            "from_date"
        );
    }
}
