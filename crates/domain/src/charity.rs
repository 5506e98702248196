//! 社区慈善 (community charity): community funds hosted by a charity with public-fundraising
//! status, donations of money and goods, 微心愿 (small wishes), disbursements approved by the
//! fund's management committee, goods stock, and the disclosure rhythm of the 慈善法.
//!
//! A community fund has no legal personality (湖南《社区慈善基金设立运行指引(试行)》): no own account,
//! no seal; all money and goods go through the host's accounts, and its receipts are the host's
//! (so a receipt number is unique per host). Its 管理委员会 has at least five unpaid members, an
//! odd number, and at least one 监督员 attends its meetings. Money is in fen.

use chrono::{Months, NaiveDate};

use crate::FieldError;

codes!(
    /// Who sits on a fund's committee: members (one of them may chair) decide; supervisors
    /// attend and record their opinions, and do not count towards the quorum.
    CommitteeRole, "role", "charity.role_unknown" {
        Chair = "chair",
        Member = "member",
        Supervisor = "supervisor",
    }
);

codes!(
    /// What was given.
    DonationKind, "kind", "charity.kind_unknown" {
        Money = "money",
        Goods = "goods",
    }
);

codes!(
    /// How it came in: a bank transfer or the fund's QR link to the host's account, cash, or
    /// goods handed in at a donation site.
    Channel, "channel", "charity.channel_unknown" {
        Transfer = "transfer",
        Qr = "qr",
        Cash = "cash",
        GoodsPoint = "goods_point",
    }
);

codes!(
    /// The donation's receipt (公益事业捐赠票据): issued (with its number), waived by a named
    /// donor, or none because the donor is anonymous — both recorded as such.
    Receipt, "receipt", "charity.receipt_unknown" {
        Issued = "issued",
        Waived = "waived",
        Anonymous = "anonymous",
    }
);

codes!(
    /// General use (统筹使用) or designated by the donor (定向使用).
    UseKind, "use_kind", "charity.use_unknown" {
        General = "general",
        Designated = "designated",
    }
);

codes!(
    /// A small wish: posted (征集、审核后发布), claimed by a giver (认领), fulfilled (兑现) and
    /// confirmed by the person or family (反馈).
    WishState, "state", "charity.wish_state_unknown" {
        Posted = "posted",
        Claimed = "claimed",
        Fulfilled = "fulfilled",
        Confirmed = "confirmed",
    }
);

codes!(
    /// What a disbursement pays for: a project, a person or family, or a small wish.
    TargetKind, "target_kind", "charity.target_unknown" {
        Project = "project",
        Person = "person",
        Wish = "wish",
    }
);

codes!(
    /// Proposed, then approved or rejected by the committee (with its decision record), then
    /// paid (through the host) once approved.
    DisbursementState, "state", "charity.disbursement_state_unknown" {
        Proposed = "proposed",
        Approved = "approved",
        Rejected = "rejected",
        Paid = "paid",
    }
);

codes!(
    /// A goods stock movement: received (接收), issued (发放, signed for) or a stock-take
    /// (盘点) that sets the counted quantity.
    MoveKind, "move_kind", "charity.move_kind_unknown" {
        Receipt = "receipt",
        Issue = "issue",
        Count = "count",
    }
);

/// The most a single amount may be: 1 亿元 in fen.
pub const MAX_FEN: i64 = 10_000_000_000;
/// The most a quantity of goods may be.
pub const MAX_QUANTITY: i64 = 1_000_000;
/// The fewest deciding members of a committee.
pub const MIN_COMMITTEE: usize = 5;

/// An amount of money, 1 fen ..= [`MAX_FEN`].
pub fn check_amount(field: &'static str, fen: i64) -> Result<i64, FieldError> {
    if (1..=MAX_FEN).contains(&fen) {
        Ok(fen)
    } else {
        Err(FieldError::new(field, "charity.amount_invalid"))
    }
}

/// A quantity of goods, 1 ..= [`MAX_QUANTITY`] (a stock-take may count 0).
pub fn check_quantity(kind: MoveKind, quantity: i64) -> Result<i64, FieldError> {
    let min = if kind == MoveKind::Count { 0 } else { 1 };
    if (min..=MAX_QUANTITY).contains(&quantity) {
        Ok(quantity)
    } else {
        Err(FieldError::new("quantity", "charity.quantity_invalid"))
    }
}

/// A fund's name follows "慈善组织全称 + XX乡镇(街道)/社区慈善基金" (a sponsor may precede "慈善基金").
pub fn check_fund_name(name: &str) -> Result<(), FieldError> {
    let name = name.trim();
    if name.chars().count() > 100 || !name.ends_with("慈善基金") || name == "慈善基金" {
        return Err(FieldError::new("name", "charity.name_pattern"));
    }
    Ok(())
}

/// The host must hold public-fundraising status: the fund cannot raise money itself.
pub fn check_host(public_fundraising: bool) -> Result<(), FieldError> {
    if public_fundraising {
        Ok(())
    } else {
        Err(FieldError::new(
            "host_public_fundraising",
            "charity.host_not_fundraising",
        ))
    }
}

/// A member serves unpaid.
pub fn check_unpaid(unpaid: bool) -> Result<(), FieldError> {
    if unpaid {
        Ok(())
    } else {
        Err(FieldError::new("unpaid", "charity.member_paid"))
    }
}

/// The committee can decide: at least five deciding members (chair and members), an odd
/// number of them, at most one chair, and at least one supervisor.
pub fn check_committee(roles: &[CommitteeRole]) -> Result<(), FieldError> {
    let deciding = roles
        .iter()
        .filter(|r| **r != CommitteeRole::Supervisor)
        .count();
    let chairs = roles.iter().filter(|r| **r == CommitteeRole::Chair).count();
    if deciding < MIN_COMMITTEE {
        return Err(FieldError::new("committee", "charity.committee_too_small"));
    }
    if deciding % 2 == 0 {
        return Err(FieldError::new("committee", "charity.committee_even"));
    }
    if chairs > 1 {
        return Err(FieldError::new("committee", "charity.committee_two_chairs"));
    }
    if !roles.contains(&CommitteeRole::Supervisor) {
        return Err(FieldError::new(
            "committee",
            "charity.committee_no_supervisor",
        ));
    }
    Ok(())
}

/// A donation as entered, before the store checks what needs the database (the fund, the
/// receipt number's uniqueness per host).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DonationFacts<'a> {
    pub kind: DonationKind,
    pub amount_fen: i64,
    pub item: &'a str,
    pub quantity: i64,
    pub receipt: Receipt,
    pub receipt_no: &'a str,
    pub donor_name: &'a str,
    pub use_kind: UseKind,
    pub designated_purpose: &'a str,
}

/// Money has an amount; goods an item and a quantity (their declared value is optional).
/// An issued receipt has its number, a waived or anonymous one none; an anonymous donor has no
/// name, any other donor one. A designated donation says what for.
pub fn check_donation(d: &DonationFacts<'_>) -> Vec<FieldError> {
    let mut errors = Vec::new();
    match d.kind {
        DonationKind::Money => {
            if let Err(e) = check_amount("amount", d.amount_fen) {
                errors.push(e);
            }
        }
        DonationKind::Goods => {
            if d.item.trim().is_empty() {
                errors.push(FieldError::new("goods_item", "charity.item_required"));
            }
            if !(1..=MAX_QUANTITY).contains(&d.quantity) {
                errors.push(FieldError::new("quantity", "charity.quantity_invalid"));
            }
            if !(0..=MAX_FEN).contains(&d.amount_fen) {
                errors.push(FieldError::new("amount", "charity.amount_invalid"));
            }
        }
    }
    let no = d.receipt_no.trim();
    match d.receipt {
        Receipt::Issued if no.is_empty() => {
            errors.push(FieldError::new("receipt_no", "charity.receipt_no_required"));
        }
        Receipt::Waived | Receipt::Anonymous if !no.is_empty() => {
            errors.push(FieldError::new(
                "receipt_no",
                "charity.receipt_no_unexpected",
            ));
        }
        _ => {}
    }
    let named = !d.donor_name.trim().is_empty();
    if d.receipt == Receipt::Anonymous && named {
        errors.push(FieldError::new("donor_name", "charity.anonymous_named"));
    }
    if d.receipt != Receipt::Anonymous && !named {
        errors.push(FieldError::new("donor_name", "form.required"));
    }
    if d.use_kind == UseKind::Designated && d.designated_purpose.trim().is_empty() {
        errors.push(FieldError::new(
            "designated_purpose",
            "charity.purpose_required",
        ));
    }
    errors
}

impl WishState {
    /// The state a wish moves to next, if any.
    pub fn next(self) -> Option<WishState> {
        match self {
            WishState::Posted => Some(WishState::Claimed),
            WishState::Claimed => Some(WishState::Fulfilled),
            WishState::Fulfilled => Some(WishState::Confirmed),
            WishState::Confirmed => None,
        }
    }
}

/// A wish moves one step at a time: posted → claimed → fulfilled → confirmed. Claiming names
/// who claims it.
pub fn check_wish_step(from: WishState, to: WishState, claimant: &str) -> Result<(), FieldError> {
    if from.next() != Some(to) {
        return Err(FieldError::new("state", "charity.wish_step"));
    }
    if to == WishState::Claimed && claimant.trim().is_empty() {
        return Err(FieldError::new("claimant", "form.required"));
    }
    Ok(())
}

/// A proposed disbursement is decided once: approved with the committee's decision record
/// (决议编号 or minutes reference), or rejected; an approved one is then paid.
pub fn check_disbursement_step(
    from: DisbursementState,
    to: DisbursementState,
    resolution_ref: &str,
) -> Result<(), FieldError> {
    use DisbursementState::*;
    let ok = matches!(
        (from, to),
        (Proposed, Approved | Rejected) | (Approved, Paid)
    );
    if !ok {
        return Err(FieldError::new("decision", "charity.disbursement_step"));
    }
    if matches!(to, Approved | Rejected) && resolution_ref.trim().is_empty() {
        return Err(FieldError::new(
            "resolution_ref",
            "charity.resolution_required",
        ));
    }
    Ok(())
}

/// A disbursement to a wish goes to a wish that is claimed or posted, not yet fulfilled.
pub fn check_wish_target(state: WishState) -> Result<(), FieldError> {
    match state {
        WishState::Posted | WishState::Claimed => Ok(()),
        _ => Err(FieldError::new("wish_id", "charity.wish_closed")),
    }
}

/// What a fund must publish and when (慈善法; 《慈善组织信息公开办法》 2026): an activity lasting
/// more than six months publishes at least every three months, and in full within three months
/// after it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disclosure {
    /// Whether the quarterly rhythm applies (the activity runs, or has run, more than six months).
    pub quarterly: bool,
    /// The next quarterly report's latest date (from `today`), while the activity runs.
    pub next_due: Option<NaiveDate>,
    /// The full report's latest date: three months after the end.
    pub final_due: Option<NaiveDate>,
}

fn add_months(d: NaiveDate, n: u32) -> NaiveDate {
    d.checked_add_months(Months::new(n))
        .unwrap_or(NaiveDate::MAX)
}

/// The disclosure dates of an activity from `start` to `end` (open-ended: `None`) seen on `today`.
pub fn disclosure(start: NaiveDate, end: Option<NaiveDate>, today: NaiveDate) -> Disclosure {
    let six = add_months(start, 6);
    let quarterly = match end {
        Some(e) => e > six,
        None => today > six,
    };
    let running = end.is_none_or(|e| today <= e);
    let next_due = (quarterly && running).then(|| {
        let mut due = add_months(start, 3);
        while due < today {
            due = add_months(due, 3);
        }
        due
    });
    Disclosure {
        quarterly,
        next_due,
        final_due: end.map(|e| add_months(e, 3)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_committee_decides_with_five_or_more_an_odd_number_and_a_supervisor() {
        use CommitteeRole::*;
        let five = [Chair, Member, Member, Member, Member, Supervisor];
        assert_eq!(check_committee(&five), Ok(()));
        let four = [Chair, Member, Member, Member, Supervisor, Supervisor];
        assert_eq!(
            check_committee(&four).unwrap_err().code,
            "charity.committee_too_small"
        );
        let six = [Chair, Member, Member, Member, Member, Member, Supervisor];
        assert_eq!(
            check_committee(&six).unwrap_err().code,
            "charity.committee_even"
        );
        let none = [Chair, Member, Member, Member, Member];
        assert_eq!(
            check_committee(&none).unwrap_err().code,
            "charity.committee_no_supervisor"
        );
        let chairs = [Chair, Chair, Member, Member, Member, Supervisor];
        assert_eq!(
            check_committee(&chairs).unwrap_err().code,
            "charity.committee_two_chairs"
        );
        assert_eq!(check_committee(&[]).unwrap_err().field, "committee");
        assert_eq!(check_unpaid(false).unwrap_err().field, "unpaid");
        assert_eq!(check_unpaid(true), Ok(()));
    }

    #[test]
    fn funds_are_named_after_their_host_and_hosted_by_a_fundraising_charity() {
        assert_eq!(
            check_fund_name("株洲市慈善总会荷塘街道社区慈善基金"),
            Ok(())
        );
        assert_eq!(check_fund_name("荷塘街道基金").unwrap_err().field, "name");
        assert!(check_fund_name("慈善基金").is_err());
        assert_eq!(
            check_host(false).unwrap_err().code,
            "charity.host_not_fundraising"
        );
        assert_eq!(check_host(true), Ok(()));
    }

    fn money() -> DonationFacts<'static> {
        DonationFacts {
            kind: DonationKind::Money,
            amount_fen: 10_000,
            item: "",
            quantity: 0,
            receipt: Receipt::Issued,
            receipt_no: "湘捐 0001",
            donor_name: "李先生",
            use_kind: UseKind::General,
            designated_purpose: "",
        }
    }

    fn fields(errors: Vec<FieldError>) -> Vec<&'static str> {
        errors.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn donations_of_money_and_goods_with_their_receipts() {
        assert!(check_donation(&money()).is_empty());
        let mut m = money();
        m.amount_fen = 0;
        assert_eq!(fields(check_donation(&m)), ["amount"]);
        m.amount_fen = MAX_FEN + 1;
        assert_eq!(fields(check_donation(&m)), ["amount"]);
        let mut m = money();
        m.receipt_no = " ";
        assert_eq!(fields(check_donation(&m)), ["receipt_no"]);
        let mut m = money();
        m.receipt = Receipt::Anonymous;
        assert_eq!(fields(check_donation(&m)), ["receipt_no", "donor_name"]);
        m.receipt_no = "";
        m.donor_name = "";
        assert!(check_donation(&m).is_empty());
        let mut m = money();
        m.receipt = Receipt::Waived;
        m.receipt_no = "";
        assert!(check_donation(&m).is_empty());
        m.donor_name = "";
        assert_eq!(fields(check_donation(&m)), ["donor_name"]);
        let mut m = money();
        m.use_kind = UseKind::Designated;
        assert_eq!(fields(check_donation(&m)), ["designated_purpose"]);
        m.designated_purpose = "困境儿童助学";
        assert!(check_donation(&m).is_empty());
        let mut g = money();
        g.kind = DonationKind::Goods;
        g.amount_fen = 0;
        assert_eq!(fields(check_donation(&g)), ["goods_item", "quantity"]);
        g.item = "大米 10kg";
        g.quantity = 20;
        assert!(check_donation(&g).is_empty());
    }

    #[test]
    fn wishes_move_one_step_at_a_time() {
        use WishState::*;
        assert_eq!(check_wish_step(Posted, Claimed, "王女士"), Ok(()));
        assert_eq!(
            check_wish_step(Posted, Claimed, "").unwrap_err().field,
            "claimant"
        );
        assert_eq!(
            check_wish_step(Posted, Fulfilled, "").unwrap_err().code,
            "charity.wish_step"
        );
        assert_eq!(check_wish_step(Claimed, Fulfilled, ""), Ok(()));
        assert_eq!(check_wish_step(Fulfilled, Confirmed, ""), Ok(()));
        assert!(check_wish_step(Confirmed, Posted, "").is_err());
        assert_eq!(check_wish_target(Claimed), Ok(()));
        assert_eq!(check_wish_target(Fulfilled).unwrap_err().field, "wish_id");
    }

    #[test]
    fn disbursements_are_decided_with_a_record_then_paid() {
        use DisbursementState::*;
        assert_eq!(
            check_disbursement_step(Proposed, Approved, "")
                .unwrap_err()
                .field,
            "resolution_ref"
        );
        assert_eq!(
            check_disbursement_step(Proposed, Approved, "2026-3号决议"),
            Ok(())
        );
        assert_eq!(
            check_disbursement_step(Proposed, Rejected, "2026-4号决议"),
            Ok(())
        );
        assert_eq!(
            check_disbursement_step(Proposed, Paid, "x")
                .unwrap_err()
                .code,
            "charity.disbursement_step"
        );
        assert_eq!(check_disbursement_step(Approved, Paid, ""), Ok(()));
        assert!(check_disbursement_step(Rejected, Paid, "").is_err());
        assert!(check_disbursement_step(Paid, Paid, "").is_err());
        assert!(check_disbursement_step(Approved, Rejected, "x").is_err());
    }

    #[test]
    fn amounts_and_quantities() {
        assert_eq!(check_amount("amount", 1), Ok(1));
        assert!(check_amount("amount", 0).is_err());
        assert!(check_amount("amount", -5).is_err());
        assert_eq!(check_quantity(MoveKind::Count, 0), Ok(0));
        assert_eq!(
            check_quantity(MoveKind::Issue, 0).unwrap_err().field,
            "quantity"
        );
        assert!(check_quantity(MoveKind::Receipt, MAX_QUANTITY + 1).is_err());
    }

    #[test]
    fn disclosure_follows_the_legal_rhythm() {
        // Four months: no quarterly reports; the full one within three months of the end.
        let short = disclosure(d("2026-01-10"), Some(d("2026-05-10")), d("2026-02-01"));
        assert_eq!(
            short,
            Disclosure {
                quarterly: false,
                next_due: None,
                final_due: Some(d("2026-08-10"))
            }
        );
        // A year: every three months from the start while it runs.
        let long = disclosure(d("2026-01-10"), Some(d("2026-12-31")), d("2026-05-01"));
        assert!(long.quarterly);
        assert_eq!(long.next_due, Some(d("2026-07-10")));
        assert_eq!(long.final_due, Some(d("2027-03-31")));
        // Ended: only the full report is due.
        let ended = disclosure(d("2026-01-10"), Some(d("2026-12-31")), d("2027-01-05"));
        assert_eq!(ended.next_due, None);
        // Open-ended: quarterly once it has run six months.
        let open = disclosure(d("2026-01-10"), None, d("2026-03-01"));
        assert!(!open.quarterly);
        let open = disclosure(d("2026-01-10"), None, d("2026-08-01"));
        assert_eq!(open.next_due, Some(d("2026-10-10")));
        assert_eq!(open.final_due, None);
    }
}
