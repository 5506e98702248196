//! Purchase projects (立项 → 采购 → 签约): what a purchaser sets out to buy (budget, catalogue
//! item, stations served, term) before a provider is chosen, the procurement that chooses it and
//! its public notices, and the contract it ends in.

use chrono::NaiveDate;

use super::contract::{ProcurementMethod, Term};
use crate::FieldError;
use crate::money::Fen;

codes!(
    /// 已立项 → 采购中 → 已签约 / 采购失败 (流标、废标: procured again or dropped) / 已撤销.
    ProjectState, "state", "project.state_unknown" {
        Approved = "approved",
        Procuring = "procuring",
        Awarded = "awarded",
        Failed = "failed",
        Cancelled = "cancelled",
    }
);

// Awarded is reached only by naming the contract (`award`), never by a bare state change.
transitions!(ProjectState, "project.transition_invalid", |s| match s {
    ProjectState::Approved => &[ProjectState::Procuring, ProjectState::Cancelled],
    ProjectState::Procuring => &[ProjectState::Failed, ProjectState::Cancelled],
    ProjectState::Failed => &[ProjectState::Procuring, ProjectState::Cancelled],
    ProjectState::Awarded | ProjectState::Cancelled => &[],
});

codes!(
    /// The notices a procurement publishes: 采购公告, 更正公告, 中标（成交）结果公告, 合同公告,
    /// 终止公告.
    NoticeKind, "kind", "project.notice_kind_unknown" {
        Procurement = "procurement",
        Correction = "correction",
        Result = "result",
        Contract = "contract",
        Termination = "termination",
    }
);

/// A new project as entered.
#[derive(Debug, Clone)]
pub struct Project {
    pub number: String,
    pub name: String,
    pub budget: Fen,
    pub term: Term,
}

impl Project {
    pub fn validate(&self) -> Result<(), FieldError> {
        for (field, text, max) in [
            ("project_number", &self.number, 60),
            ("name", &self.name, 200),
        ] {
            let len = text.trim().chars().count();
            if len == 0 || len > max {
                return Err(FieldError::new(field, "purchase.text_invalid"));
            }
        }
        if self.budget.0 <= 0 {
            return Err(FieldError::new("budget", "project.budget_invalid"));
        }
        if !self.term.within_three_years() {
            return Err(FieldError::new("term_end", "project.term_too_long"));
        }
        Ok(())
    }
}

/// Procurement starts with a method chosen; the other steps take none.
pub fn check_step(
    from: ProjectState,
    to: ProjectState,
    method: Option<ProcurementMethod>,
) -> Result<(), FieldError> {
    from.go(to)?;
    if to == ProjectState::Procuring && method.is_none() {
        return Err(FieldError::new(
            "procurement_method",
            "project.method_required",
        ));
    }
    Ok(())
}

/// A contract ends the procurement of a project still procuring, within its budget.
pub fn check_award(state: ProjectState, budget: Fen, amount: Fen) -> Result<(), FieldError> {
    if state != ProjectState::Procuring {
        return Err(FieldError::new("state", "project.not_procuring"));
    }
    if amount.0 > budget.0 {
        return Err(FieldError::new(
            "contract_id",
            "project.contract_over_budget",
        ));
    }
    Ok(())
}

/// A notice as entered: kind, date published (not in the future), title, link to where it was
/// published (the government procurement site), optional.
#[derive(Debug, Clone)]
pub struct Notice {
    pub kind: NoticeKind,
    pub published_on: NaiveDate,
    pub title: String,
    pub url: String,
}

impl Notice {
    pub fn validate(&self, today: NaiveDate) -> Result<(), FieldError> {
        if self.published_on > today {
            return Err(FieldError::new("published_on", "purchase.date_in_future"));
        }
        let title = self.title.trim().chars().count();
        if title == 0 || title > 200 {
            return Err(FieldError::new("title", "purchase.text_invalid"));
        }
        let url = self.url.trim();
        let web = url.starts_with("https://") || url.starts_with("http://");
        if !url.is_empty()
            && (!web || url.chars().count() > 500 || url.contains(char::is_whitespace))
        {
            return Err(FieldError::new("url", "project.url_invalid"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_project_is_procured_then_awarded_or_procured_again() {
        use ProjectState::*;
        let m = Some(ProcurementMethod::PublicTender);
        assert_eq!(check_step(Approved, Procuring, m), Ok(()));
        assert_eq!(
            check_step(Approved, Procuring, None).unwrap_err().field,
            "procurement_method"
        );
        assert_eq!(check_step(Procuring, Failed, None), Ok(()));
        assert_eq!(check_step(Failed, Procuring, m), Ok(()));
        assert_eq!(
            check_step(Procuring, Awarded, m).unwrap_err().code,
            "project.transition_invalid"
        );
        assert!(Awarded.successors().is_empty() && Cancelled.successors().is_empty());
        assert_eq!(check_award(Procuring, Fen(100), Fen(100)), Ok(()));
        assert_eq!(
            check_award(Procuring, Fen(100), Fen(101)).unwrap_err().code,
            "project.contract_over_budget"
        );
        assert_eq!(
            check_award(Approved, Fen(100), Fen(1)).unwrap_err().field,
            "state"
        );
    }

    #[test]
    fn projects_and_notices_say_which_field_is_wrong() {
        let p = Project {
            number: "ZZCG-2025-01".into(),
            name: "芦淞区社工站项目".into(),
            budget: Fen(30_000_000),
            term: Term::new(d("2025-06-01"), d("2026-05-31")).unwrap(),
        };
        assert_eq!(p.validate(), Ok(()));
        assert_eq!(
            Project {
                budget: Fen(0),
                ..p.clone()
            }
            .validate()
            .unwrap_err()
            .field,
            "budget"
        );
        let long = Term::new(d("2025-06-01"), d("2028-06-01")).unwrap();
        assert_eq!(
            Project {
                term: long,
                ..p.clone()
            }
            .validate()
            .unwrap_err()
            .code,
            "project.term_too_long"
        );
        assert_eq!(
            Project {
                number: " ".into(),
                ..p
            }
            .validate()
            .unwrap_err()
            .field,
            "project_number"
        );
        let n = Notice {
            kind: NoticeKind::Procurement,
            published_on: d("2025-05-01"),
            title: "采购公告".into(),
            url: "https://www.ccgp-hunan.gov.cn/page/notice/123".into(),
        };
        assert_eq!(n.validate(d("2025-05-01")), Ok(()));
        assert_eq!(
            n.validate(d("2025-04-30")).unwrap_err().field,
            "published_on"
        );
        let js = Notice {
            url: "javascript:alert(1)".into(),
            ..n.clone()
        };
        assert_eq!(js.validate(d("2025-05-01")).unwrap_err().field, "url");
        let blank = Notice {
            url: String::new(),
            ..n
        };
        assert_eq!(blank.validate(d("2025-05-01")), Ok(()));
    }
}
