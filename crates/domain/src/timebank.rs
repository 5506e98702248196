//! 时间银行 (time bank): schemes with their rules, accounts and a double-entry ledger of time
//! credits. Credits are not money: they cannot be bought and pay no return.
//!
//! Every entry is two or more postings that sum to zero. Credits come into being on the scheme's
//! issuer account (EARN for a confirmed service, GRANT to hardship elders), so the issuer's
//! balance is minus the credits in circulation; redeemed credits go back to it.

use serde::{Deserialize, Serialize};

use crate::FieldError;
use crate::people::ServiceKind;

codes!(
    /// What an entry records.
    EntryKind, "kind", "timebank.kind_unknown" {
        Earn = "earn",
        Redeem = "redeem",
        Transfer = "transfer",
        Donate = "donate",
        Grant = "grant",
        CapSweep = "cap_sweep",
        Interscheme = "interscheme",
        Reversal = "reversal",
    }
);

codes!(
    /// Person (a resident on file, a named holder; volunteers later), group (donate-only), the
    /// scheme's donation pool, its issuer, and one settlement account per partner scheme.
    AccountKind, "account_kind", "timebank.account_kind_unknown" {
        Person = "person",
        Group = "group",
        Pool = "pool",
        Issuer = "issuer",
        Settlement = "settlement",
    }
);

codes!(
    /// Who holds a person or group account: a resident on file (`holder_id` is the resident's
    /// id), a volunteer (their record's id, once volunteers are kept) or a holder known by name.
    HolderKind, "holder_kind", "timebank.holder_kind_unknown" {
        Resident = "resident",
        Volunteer = "volunteer",
        Named = "named",
    }
);

codes!(
    /// Who may receive a transfer: nobody, family (the same household on file), or anyone
    /// holding a person account in the scheme.
    TransferTo, "transfer_to", "timebank.transfer_to_unknown" {
        Nobody = "none",
        Family = "family",
        Scheme = "scheme",
    }
);

codes!(
    /// What happens to credits above the balance cap: refused, or swept to the donation pool.
    CapOverflow, "cap_overflow", "timebank.cap_overflow_unknown" {
        Refuse = "refuse",
        Sweep = "sweep",
    }
);

codes!(
    /// What an EARN comes from: a service record of the people area (later also a volunteer's
    /// confirmed hours).
    SourceKind, "source_kind", "timebank.source_kind_unknown" {
        Service = "service",
        VolunteerHours = "volunteer_hours",
    }
);

/// Bounds of inputs.
pub const MAX_CREDITS: i64 = 1_000_000;
pub const MAX_PARTNERS: usize = 20;

/// A scheme's rules (stored as JSON, checked on the way in and out).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RulesData", into = "RulesData")]
pub struct Rules {
    /// Minutes of service per credit (60: 1 h = 1 credit; 30 for half hours). Credits are whole.
    pub unit_minutes: i64,
    /// Most credits one account may earn in a day (长宁: 2).
    pub daily_earn_cap: Option<i64>,
    /// Most credits a person account may hold (长宁 600, 广州/南京 1500).
    pub balance_cap: Option<i64>,
    pub cap_overflow: CapOverflow,
    /// Credits earned in total before the account may redeem (广州: 100).
    pub redeem_min_earned: i64,
    pub transfer_to: TransferTo,
    /// Lowest balance of a person account: 0, or below 0 for an overdraft (福州's "borrowed time").
    pub min_balance: i64,
    /// The service kinds that earn.
    pub eligible_kinds: Vec<ServiceKind>,
    /// Schemes whose credits this one honours (通存通兑), by id.
    pub partners: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct RulesData {
    unit_minutes: i64,
    daily_earn_cap: Option<i64>,
    balance_cap: Option<i64>,
    cap_overflow: String,
    redeem_min_earned: i64,
    transfer_to: String,
    min_balance: i64,
    eligible_kinds: Vec<String>,
    partners: Vec<String>,
}

impl TryFrom<RulesData> for Rules {
    type Error = FieldError;

    fn try_from(d: RulesData) -> Result<Self, FieldError> {
        let rules = Rules {
            unit_minutes: d.unit_minutes,
            daily_earn_cap: d.daily_earn_cap,
            balance_cap: d.balance_cap,
            cap_overflow: CapOverflow::parse(&d.cap_overflow)?,
            redeem_min_earned: d.redeem_min_earned,
            transfer_to: TransferTo::parse(&d.transfer_to)?,
            min_balance: d.min_balance,
            eligible_kinds: d
                .eligible_kinds
                .iter()
                .map(|k| {
                    ServiceKind::parse(k)
                        .map_err(|_| FieldError::new("eligible_kinds", "service.kind_unknown"))
                })
                .collect::<Result<_, _>>()?,
            partners: d.partners,
        };
        rules.validate()?;
        Ok(rules)
    }
}

impl From<Rules> for RulesData {
    fn from(r: Rules) -> Self {
        RulesData {
            unit_minutes: r.unit_minutes,
            daily_earn_cap: r.daily_earn_cap,
            balance_cap: r.balance_cap,
            cap_overflow: r.cap_overflow.as_str().to_owned(),
            redeem_min_earned: r.redeem_min_earned,
            transfer_to: r.transfer_to.as_str().to_owned(),
            min_balance: r.min_balance,
            eligible_kinds: r
                .eligible_kinds
                .iter()
                .map(|k| k.as_str().to_owned())
                .collect(),
            partners: r.partners,
        }
    }
}

impl Rules {
    /// Guangzhou's: 1 h = 1 credit, cap 1500 swept to the pool, redeeming after 100 h earned,
    /// transfers to family, no overdraft, every service kind but crisis work.
    pub fn guangzhou() -> Rules {
        Rules {
            unit_minutes: 60,
            daily_earn_cap: None,
            balance_cap: Some(1500),
            cap_overflow: CapOverflow::Sweep,
            redeem_min_earned: 100,
            transfer_to: TransferTo::Family,
            min_balance: 0,
            eligible_kinds: ServiceKind::ALL
                .iter()
                .copied()
                .filter(|k| *k != ServiceKind::Crisis)
                .collect(),
            partners: vec![],
        }
    }

    pub fn validate(&self) -> Result<(), FieldError> {
        if !(1..=480).contains(&self.unit_minutes) {
            return Err(FieldError::new("unit_minutes", "timebank.unit_invalid"));
        }
        if self
            .daily_earn_cap
            .is_some_and(|c| !(1..=1440).contains(&c))
        {
            return Err(FieldError::new("daily_earn_cap", "timebank.cap_invalid"));
        }
        if self
            .balance_cap
            .is_some_and(|c| !(1..=MAX_CREDITS).contains(&c))
        {
            return Err(FieldError::new("balance_cap", "timebank.cap_invalid"));
        }
        if !(0..=MAX_CREDITS).contains(&self.redeem_min_earned) {
            return Err(FieldError::new(
                "redeem_min_earned",
                "timebank.amount_invalid",
            ));
        }
        if !(-1000..=0).contains(&self.min_balance) {
            return Err(FieldError::new(
                "min_balance",
                "timebank.min_balance_invalid",
            ));
        }
        if self.eligible_kinds.len() > ServiceKind::ALL.len() {
            return Err(FieldError::new("eligible_kinds", "service.kind_unknown"));
        }
        if self.partners.len() > MAX_PARTNERS
            || self.partners.iter().any(|p| p.is_empty() || p.len() > 64)
        {
            return Err(FieldError::new("partners", "timebank.partner_invalid"));
        }
        Ok(())
    }

    /// Credits for a service of `minutes` (whole credits, rounded down); none is refused.
    pub fn credits_for(&self, minutes: i64) -> Result<i64, FieldError> {
        let credits = minutes.max(0) / self.unit_minutes.max(1);
        if credits < 1 {
            return Err(FieldError::new("source_id", "timebank.too_short"));
        }
        Ok(credits)
    }

    pub fn earns(&self, kind: ServiceKind) -> bool {
        self.eligible_kinds.contains(&kind)
    }

    /// The lowest and highest balance an account of `kind` may hold (`None`: unbounded).
    /// Issuers mint (go below zero); settlement accounts carry what partner schemes owe.
    pub fn bounds(&self, kind: AccountKind) -> (Option<i64>, Option<i64>) {
        match kind {
            AccountKind::Person => (Some(self.min_balance), self.balance_cap),
            AccountKind::Group | AccountKind::Pool => (Some(0), None),
            AccountKind::Issuer | AccountKind::Settlement => (None, None),
        }
    }
}

/// An amount as entered: whole credits, 1..=MAX_CREDITS.
pub fn check_amount(amount: i64) -> Result<i64, FieldError> {
    if (1..=MAX_CREDITS).contains(&amount) {
        Ok(amount)
    } else {
        Err(FieldError::new("amount", "timebank.amount_invalid"))
    }
}

/// The kinds of account an entry of `kind` may debit (`from`) and credit (`to`); refusals name
/// the account field. EARN and GRANT come from the issuer; REDEEM goes back to it; a group only
/// donates.
pub fn check_parties(
    kind: EntryKind,
    from: AccountKind,
    to: AccountKind,
) -> Result<(), FieldError> {
    use AccountKind::*;
    use EntryKind::*;
    let (from_ok, to_ok): (&[AccountKind], &[AccountKind]) = match kind {
        Earn | Grant => (&[Issuer], &[Person]),
        Redeem => (&[Person], &[Issuer]),
        Transfer => (&[Person], &[Person]),
        Donate => (&[Person, Group], &[Pool]),
        CapSweep => (&[Person], &[Pool]),
        Interscheme => (&[Person], &[Settlement]),
        Reversal => return Err(FieldError::new("kind", "timebank.kind_not_posted")),
    };
    if !from_ok.contains(&from) {
        return Err(FieldError::new(
            "account_id",
            "timebank.account_not_allowed",
        ));
    }
    if !to_ok.contains(&to) {
        return Err(FieldError::new(
            "to_account_id",
            "timebank.account_not_allowed",
        ));
    }
    Ok(())
}

/// Whether a transfer to another person is allowed by the scheme's rule; `same_family` is
/// whether both holders are residents of one household.
pub fn check_transfer(rule: TransferTo, same_family: bool) -> Result<(), FieldError> {
    match rule {
        TransferTo::Nobody => Err(FieldError::new(
            "to_account_id",
            "timebank.transfer_not_allowed",
        )),
        TransferTo::Family if !same_family => Err(FieldError::new(
            "to_account_id",
            "timebank.transfer_family_only",
        )),
        _ => Ok(()),
    }
}

/// Whether an account that has earned `earned_total` may redeem.
pub fn check_redeem(rules: &Rules, earned_total: i64) -> Result<(), FieldError> {
    if earned_total < rules.redeem_min_earned {
        return Err(FieldError::new("amount", "timebank.redeem_too_early"));
    }
    Ok(())
}

/// Postings sum to zero, at least two, no zero amount, one per account.
pub fn check_balanced(postings: &[(String, i64)]) -> Result<(), FieldError> {
    let sum: i64 = postings.iter().map(|(_, a)| a).sum();
    let mut ids: Vec<&str> = postings.iter().map(|(id, _)| id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    if postings.len() < 2
        || sum != 0
        || postings.iter().any(|(_, a)| *a == 0)
        || ids.len() != postings.len()
    {
        return Err(FieldError::new("amount", "timebank.unbalanced"));
    }
    Ok(())
}

/// A balance after a change is within the account's bounds; the refusal names what it breaks.
pub fn check_bounds(
    bounds: (Option<i64>, Option<i64>),
    balance: i64,
    field: &'static str,
) -> Result<(), FieldError> {
    if bounds.0.is_some_and(|min| balance < min) {
        return Err(FieldError::new(field, "timebank.over_balance"));
    }
    if bounds.1.is_some_and(|max| balance > max) {
        return Err(FieldError::new(field, "timebank.cap_exceeded"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_read_back_as_written_and_refuse_what_is_out_of_range() {
        let r = Rules::guangzhou();
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<Rules>(&json).unwrap(), r);
        let bad = json.replace("\"unit_minutes\":60", "\"unit_minutes\":0");
        assert!(serde_json::from_str::<Rules>(&bad).is_err());
        let bad = json.replace("\"family\"", "\"friends\"");
        assert!(serde_json::from_str::<Rules>(&bad).is_err());
        let bad = json.replace("\"casework\"", "\"gardening\"");
        assert!(serde_json::from_str::<Rules>(&bad).is_err());
        let mut r2 = r.clone();
        r2.min_balance = 1;
        assert_eq!(r2.validate().unwrap_err().field, "min_balance");
        r2.min_balance = -12;
        assert_eq!(r2.validate(), Ok(()));
        r2.balance_cap = Some(0);
        assert_eq!(r2.validate().unwrap_err().field, "balance_cap");
        r2.balance_cap = None;
        r2.daily_earn_cap = Some(2000);
        assert_eq!(r2.validate().unwrap_err().field, "daily_earn_cap");
        r2.daily_earn_cap = Some(2);
        r2.partners = vec![String::new()];
        assert_eq!(r2.validate().unwrap_err().field, "partners");
    }

    #[test]
    fn credits_are_whole_units_of_service_time() {
        let mut r = Rules::guangzhou();
        assert_eq!(r.credits_for(60), Ok(1));
        assert_eq!(r.credits_for(119), Ok(1));
        assert_eq!(r.credits_for(59).unwrap_err().code, "timebank.too_short");
        r.unit_minutes = 30;
        assert_eq!(r.credits_for(90), Ok(3));
        assert!(r.earns(ServiceKind::Visit));
        assert!(!r.earns(ServiceKind::Crisis));
    }

    #[test]
    fn parties_follow_the_entry_kind() {
        use AccountKind::*;
        assert_eq!(check_parties(EntryKind::Earn, Issuer, Person), Ok(()));
        assert_eq!(
            check_parties(EntryKind::Earn, Pool, Person)
                .unwrap_err()
                .field,
            "account_id"
        );
        assert_eq!(check_parties(EntryKind::Donate, Group, Pool), Ok(()));
        assert_eq!(
            check_parties(EntryKind::Transfer, Group, Person)
                .unwrap_err()
                .field,
            "account_id"
        );
        assert_eq!(
            check_parties(EntryKind::Redeem, Person, Pool)
                .unwrap_err()
                .field,
            "to_account_id"
        );
        assert_eq!(
            check_parties(EntryKind::Interscheme, Person, Settlement),
            Ok(())
        );
        assert!(check_parties(EntryKind::Reversal, Person, Person).is_err());
    }

    #[test]
    fn transfers_redeeming_and_bounds() {
        assert!(check_transfer(TransferTo::Nobody, true).is_err());
        assert_eq!(
            check_transfer(TransferTo::Family, false).unwrap_err().code,
            "timebank.transfer_family_only"
        );
        assert_eq!(check_transfer(TransferTo::Family, true), Ok(()));
        assert_eq!(check_transfer(TransferTo::Scheme, false), Ok(()));
        let r = Rules::guangzhou();
        assert_eq!(
            check_redeem(&r, 99).unwrap_err().code,
            "timebank.redeem_too_early"
        );
        assert_eq!(check_redeem(&r, 100), Ok(()));
        let b = r.bounds(AccountKind::Person);
        assert_eq!(b, (Some(0), Some(1500)));
        assert_eq!(
            check_bounds(b, -1, "amount").unwrap_err().code,
            "timebank.over_balance"
        );
        assert_eq!(
            check_bounds(b, 1501, "amount").unwrap_err().code,
            "timebank.cap_exceeded"
        );
        assert_eq!(check_bounds(b, 1500, "amount"), Ok(()));
        assert_eq!(r.bounds(AccountKind::Issuer), (None, None));
        assert_eq!(check_amount(0).unwrap_err().field, "amount");
        assert_eq!(check_amount(MAX_CREDITS + 1).unwrap_err().field, "amount");
    }

    #[test]
    fn entries_balance() {
        let p = |id: &str, a| (id.to_owned(), a);
        assert_eq!(check_balanced(&[p("a", -2), p("b", 2)]), Ok(()));
        assert!(check_balanced(&[p("a", -2), p("b", 1)]).is_err());
        assert!(check_balanced(&[p("a", 0), p("b", 0)]).is_err());
        assert!(check_balanced(&[p("a", -1), p("a", 1)]).is_err());
        assert!(check_balanced(&[p("a", 1)]).is_err());
    }
}
