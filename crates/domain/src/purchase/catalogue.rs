//! The catalogue of services a region may buy (项目目录, Guangzhou model, 穗民规字〔2019〕14号):
//! items by service field, who pays what share, and the item's life from proposal to removal.

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};

use super::{check_shares, split_exact};
use crate::FieldError;
use crate::money::Fen;

codes!(
    /// The ten service fields (类别) the catalogue files items under. 老年人 and 妇女儿童 are
    /// Guangzhou's own headings; the other eight follow the target groups and fields of its
    /// 2021 call for items.
    ServiceField, "field", "purchase.field_unknown" {
        // 老年人社会工作服务类
        Elderly = "elderly",
        // 妇女儿童社会工作服务类
        WomenChildren = "women_children",
        // 青少年
        Youth = "youth",
        // 残疾人
        Disability = "disability",
        // 婚姻家庭
        Family = "family",
        // 社会救助 and people in special hardship (特殊困难人群)
        SocialAssistance = "social_assistance",
        // 禁毒: community drug rehabilitation and prevention
        DrugControl = "drug_control",
        // 矫治帮教 and crime prevention
        Corrections = "corrections",
        // 卫生医疗
        Medical = "medical",
        // 社区治理: migrants, mediation, emergencies, community building
        Community = "community",
    }
);

codes!(
    /// 征集 → 评审 → 纳入目录(拟购买) → 正在实施 → 移除.
    ItemStatus, "status", "purchase.item_status_unknown" {
        Proposed = "proposed",
        Reviewed = "reviewed",
        Included = "included",
        Purchasing = "purchasing",
        Removed = "removed",
    }
);

transitions!(
    ItemStatus,
    "purchase.item_transition_invalid",
    |s| match s {
        ItemStatus::Proposed => &[ItemStatus::Reviewed, ItemStatus::Removed],
        ItemStatus::Reviewed => &[ItemStatus::Included, ItemStatus::Removed],
        ItemStatus::Included => &[ItemStatus::Purchasing, ItemStatus::Removed],
        ItemStatus::Purchasing => &[ItemStatus::Removed],
        ItemStatus::Removed => &[],
    }
);

codes!(
    /// Why an item left the catalogue: the three rules of the 2020 notice, or another reason.
    RemovalReason, "removal_reason", "purchase.removal_reason_unknown" {
        // 纳入目录满2年未被购买
        UnpurchasedTwoYears = "unpurchased_two_years",
        // 购买服务周期到期未申请继续购买
        RenewalNotSought = "renewal_not_sought",
        // 申请继续购买但未评审通过
        RenewalReviewFailed = "renewal_review_failed",
        Other = "other",
    }
);

impl ItemStatus {
    /// Removes an item for `reason`. Each rule applies to one state only: "two years
    /// unpurchased" to an included item, the renewal reasons to one being purchased.
    pub fn remove(self, reason: RemovalReason) -> Result<ItemStatus, FieldError> {
        let fits = match reason {
            RemovalReason::UnpurchasedTwoYears => self == ItemStatus::Included,
            RemovalReason::RenewalNotSought | RemovalReason::RenewalReviewFailed => {
                self == ItemStatus::Purchasing
            }
            RemovalReason::Other => true,
        };
        if !fits {
            return Err(FieldError::new(
                "removal_reason",
                "purchase.removal_reason_not_applicable",
            ));
        }
        self.go(ItemStatus::Removed)
    }
}

/// Whether an item included on `included_on` and never bought is due for removal on `today`:
/// two full years have passed (29 February counts to 28 February).
pub fn unpurchased_too_long(included_on: NaiveDate, today: NaiveDate) -> bool {
    // `None` only beyond chrono's range, where nothing is due.
    included_on
        .checked_add_months(Months::new(24))
        .is_some_and(|due| today >= due)
}

codes!(
    /// The budget level of a purchaser: "市民政局(荔湾区民政局)" is city and district sharing.
    PurchaserLevel, "level", "purchase.level_unknown" {
        City = "city",
        District = "district",
        Township = "township",
    }
);

/// One purchaser's part of an item's cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostShare {
    #[serde(deserialize_with = "super::code")]
    pub level: PurchaserLevel,
    /// Basis points of the cost.
    pub share_bp: i64,
}

/// The purchasers' cost shares, checked to add up to exactly 100 %.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CostShares(Vec<CostShare>);

impl CostShares {
    /// Refuses shares outside 0–100 % ("purchase.share_invalid") and shares that do not add up
    /// to 100 % ("purchase.shares_not_100"), on the `shares` field.
    pub fn new(shares: Vec<CostShare>) -> Result<CostShares, FieldError> {
        let bps: Vec<i64> = shares.iter().map(|s| s.share_bp).collect();
        check_shares("shares", &bps)?;
        Ok(CostShares(shares))
    }

    pub fn shares(&self) -> &[CostShare] {
        &self.0
    }

    /// What each purchaser pays of `amount`, adding up to it exactly (the last one listed
    /// takes the fen lost to rounding).
    pub fn split(&self, amount: Fen) -> Vec<(PurchaserLevel, Fen)> {
        let bps: Vec<i64> = self.0.iter().map(|s| s.share_bp).collect();
        // The shares were checked in `new`, so the split cannot fail; an empty list is the
        // only way to reach the fallback, and it was refused there too.
        let parts = split_exact("shares", amount, &bps).unwrap_or_default();
        self.0.iter().map(|s| s.level).zip(parts).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn ten_fields_with_stable_codes() {
        assert_eq!(ServiceField::ALL.len(), 10);
        assert_eq!(ServiceField::parse("elderly"), Ok(ServiceField::Elderly));
        assert_eq!(
            ServiceField::parse("老年人"),
            Err(FieldError::new("field", "purchase.field_unknown"))
        );
    }

    #[test]
    fn items_move_forward_only() {
        assert_eq!(
            ItemStatus::Proposed.go(ItemStatus::Reviewed),
            Ok(ItemStatus::Reviewed)
        );
        assert!(ItemStatus::Included.can_go(ItemStatus::Purchasing));
        assert!(!ItemStatus::Proposed.can_go(ItemStatus::Included));
        assert!(!ItemStatus::Purchasing.can_go(ItemStatus::Proposed));
        assert_eq!(
            ItemStatus::Removed.go(ItemStatus::Included),
            Err(FieldError::new("state", "purchase.item_transition_invalid"))
        );
    }

    #[test]
    fn removal_reasons_fit_the_state() {
        use RemovalReason::*;
        assert_eq!(
            ItemStatus::Included.remove(UnpurchasedTwoYears),
            Ok(ItemStatus::Removed)
        );
        assert_eq!(
            ItemStatus::Purchasing.remove(RenewalNotSought),
            Ok(ItemStatus::Removed)
        );
        assert_eq!(
            ItemStatus::Purchasing.remove(RenewalReviewFailed),
            Ok(ItemStatus::Removed)
        );
        assert_eq!(ItemStatus::Proposed.remove(Other), Ok(ItemStatus::Removed));
        let not_applicable =
            FieldError::new("removal_reason", "purchase.removal_reason_not_applicable");
        assert_eq!(
            ItemStatus::Purchasing.remove(UnpurchasedTwoYears),
            Err(not_applicable.clone())
        );
        assert_eq!(
            ItemStatus::Included.remove(RenewalNotSought),
            Err(not_applicable)
        );
        assert_eq!(
            ItemStatus::Removed.remove(Other),
            Err(FieldError::new("state", "purchase.item_transition_invalid"))
        );
    }

    #[test]
    fn two_years_unpurchased_counts_whole_years() {
        assert!(!unpurchased_too_long(d("2020-08-12"), d("2022-08-11")));
        assert!(unpurchased_too_long(d("2020-08-12"), d("2022-08-12")));
        assert!(!unpurchased_too_long(d("2024-02-29"), d("2026-02-27")));
        assert!(unpurchased_too_long(d("2024-02-29"), d("2026-02-28")));
    }

    #[test]
    fn cost_shares_add_to_exactly_100() {
        let share = |level, share_bp| CostShare { level, share_bp };
        let shares = CostShares::new(vec![
            share(PurchaserLevel::City, 5000),
            share(PurchaserLevel::District, 5000),
        ])
        .unwrap();
        assert_eq!(
            shares.split(Fen(100_001)),
            vec![
                (PurchaserLevel::City, Fen(50_000)),
                (PurchaserLevel::District, Fen(50_001))
            ]
        );
        let not_100 = FieldError::new("shares", "purchase.shares_not_100");
        assert_eq!(
            CostShares::new(vec![
                share(PurchaserLevel::City, 6000),
                share(PurchaserLevel::Township, 3000)
            ]),
            Err(not_100.clone())
        );
        assert_eq!(CostShares::new(vec![]), Err(not_100));
        assert_eq!(
            CostShares::new(vec![
                share(PurchaserLevel::City, 11_000),
                share(PurchaserLevel::District, -1000)
            ]),
            Err(FieldError::new("shares", "purchase.share_invalid"))
        );
        assert_eq!(
            CostShares::new(vec![share(PurchaserLevel::City, 10_000)])
                .unwrap()
                .shares()
                .len(),
            1
        );
    }
}
