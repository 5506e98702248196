//! The national-practice default indicator tree, shipped as data: Guangzhou's 2019 station
//! evaluation on 1000 points (third-party professional evaluation 700, purchaser 200,
//! supervisor 100, the financial evaluation a veto). The top level is Guangzhou's; the items
//! below it follow Nansha's 评估办法 (项目管理、核心项目、基础项目、特色项目、服务成效 for the
//! third party, daily management and outcomes for the purchaser, village committees' rating,
//! 自查自纠 and 督查整改落实 for the bureau) with weights a region is expected to adjust.

use super::contract::LineTier;
use super::evaluation::{EvaluatorRole, Points};
use super::indicator::{
    Fraction, IndicatorNode, IndicatorTree, Level, NodeError, Scorer, delivery_bands,
};

/// How a row is scored; levels and bands are the shared defaults.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Sum,
    /// 优 / 良 / 中 / 差.
    Graded,
    /// Completion ratio from the computed deliverables, in the 绩效版 bands.
    Delivery,
    Veto,
}

struct Row {
    id: &'static str,
    parent: Option<&'static str>,
    name: &'static str,
    points: i64,
    kind: Kind,
    role: EvaluatorRole,
    evidence: bool,
}

const fn row(
    id: &'static str,
    parent: &'static str,
    name: &'static str,
    points: i64,
    kind: Kind,
    role: EvaluatorRole,
) -> Row {
    Row {
        id,
        parent: Some(parent),
        name,
        points,
        kind,
        role,
        // Every scored item needs its evidence; sums add up what is below.
        evidence: !matches!(kind, Kind::Sum),
    }
}

use EvaluatorRole::{Purchaser, SupervisingBureau, ThirdParty, VillageCommittee};
use Kind::{Delivery, Graded, Sum, Veto};

const GUANGZHOU_1000: &[Row] = &[
    Row {
        id: "total",
        parent: None,
        name: "评估总分",
        points: 1000,
        kind: Sum,
        role: ThirdParty,
        evidence: false,
    },
    row("professional", "total", "专业评估", 700, Sum, ThirdParty),
    row(
        "management",
        "professional",
        "项目管理",
        100,
        Graded,
        ThirdParty,
    ),
    row("core", "professional", "核心项目", 250, Sum, ThirdParty),
    row(
        "core_delivery",
        "core",
        "核心项目完成情况",
        150,
        Delivery,
        ThirdParty,
    ),
    row(
        "core_quality",
        "core",
        "核心项目服务质量",
        100,
        Graded,
        ThirdParty,
    ),
    row("basic", "professional", "基础项目", 150, Sum, ThirdParty),
    row(
        "basic_delivery",
        "basic",
        "基础项目完成情况",
        100,
        Delivery,
        ThirdParty,
    ),
    row(
        "basic_quality",
        "basic",
        "基础项目服务质量",
        50,
        Graded,
        ThirdParty,
    ),
    row(
        "featured",
        "professional",
        "特色项目",
        100,
        Graded,
        ThirdParty,
    ),
    row(
        "outcomes",
        "professional",
        "服务成效",
        100,
        Graded,
        ThirdParty,
    ),
    row("purchaser", "total", "购买方评估", 200, Sum, Purchaser),
    row(
        "daily_management",
        "purchaser",
        "日常管理",
        80,
        Graded,
        Purchaser,
    ),
    row(
        "purchaser_outcomes",
        "purchaser",
        "服务成效",
        80,
        Graded,
        Purchaser,
    ),
    row(
        "village_rating",
        "purchaser",
        "村(居)委会评价",
        40,
        Graded,
        VillageCommittee,
    ),
    row(
        "supervisor",
        "total",
        "监督方评估",
        100,
        Sum,
        SupervisingBureau,
    ),
    row(
        "self_correction",
        "supervisor",
        "自查自纠",
        50,
        Graded,
        SupervisingBureau,
    ),
    row(
        "rectification_follow_up",
        "supervisor",
        "督查整改落实",
        50,
        Graded,
        SupervisingBureau,
    ),
    row(
        "financial",
        "total",
        "财务评估(一票否决)",
        0,
        Veto,
        ThirdParty,
    ),
];

/// 优 full, 良 four-fifths, 中 three-fifths, 差 nothing.
fn graded_levels() -> Vec<Level> {
    [
        ("优", Fraction::FULL),
        ("良", Fraction::new(4, 5)),
        ("中", Fraction::new(3, 5)),
        ("差", Fraction::NONE),
    ]
    .into_iter()
    .map(|(label, fraction)| Level {
        label: label.to_owned(),
        fraction,
    })
    .collect()
}

/// The default tree's nodes, for a region to copy and edit.
pub fn guangzhou_1000_nodes() -> Vec<IndicatorNode> {
    GUANGZHOU_1000
        .iter()
        .map(|r| IndicatorNode {
            id: r.id.to_owned(),
            parent: r.parent.map(str::to_owned),
            name: r.name.to_owned(),
            max: Points::whole(r.points),
            scorer: match r.kind {
                Sum => Scorer::Sum,
                Graded => Scorer::Graded {
                    levels: graded_levels(),
                },
                Delivery => Scorer::RatioBands {
                    bands: delivery_bands(),
                },
                Veto => Scorer::Veto,
            },
            role: r.role,
            evidence_required: r.evidence,
            measures: match r.id {
                "core_delivery" => Some(LineTier::Core),
                "basic_delivery" => Some(LineTier::Basic),
                _ => None,
            },
        })
        .collect()
}

/// The default tree, checked (a test keeps it valid, so this does not fail in practice).
pub fn guangzhou_1000() -> Result<IndicatorTree, NodeError> {
    IndicatorTree::new(guangzhou_1000_nodes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::purchase::evaluation::{Grade, GradeThresholds};
    use crate::purchase::indicator::{Input, Inputs, score};

    #[test]
    fn the_default_tree_validates_and_adds_up_to_1000() {
        let tree = guangzhou_1000().unwrap();
        assert_eq!(tree.max(), Points::whole(1000));
        let top: Vec<(&str, Points)> = tree
            .children("total")
            .map(|n| (n.id.as_str(), n.max))
            .collect();
        assert_eq!(
            top,
            vec![
                ("professional", Points::whole(700)),
                ("purchaser", Points::whole(200)),
                ("supervisor", Points::whole(100)),
                ("financial", Points::ZERO),
            ]
        );
        assert_eq!(
            tree.node("financial").map(|n| &n.scorer),
            Some(&Scorer::Veto)
        );
        // The scored items add up to the whole tree, whoever scores them.
        let leaves: i64 = tree
            .nodes()
            .iter()
            .filter(|n| n.scorer != Scorer::Sum)
            .map(|n| n.max.0)
            .sum();
        assert_eq!(leaves, Points::whole(1000).0);
    }

    fn full_marks(tree: &IndicatorTree, financial_passed: bool) -> Inputs {
        let mut inputs = Inputs::default();
        for node in tree.nodes() {
            let input = match &node.scorer {
                Scorer::Graded { .. } => Input::Level {
                    label: "优".into()
                },
                Scorer::Veto => Input::Veto {
                    passed: financial_passed,
                },
                Scorer::RatioBands { .. } => {
                    inputs.measured.insert(node.id.clone(), 10_000);
                    continue;
                }
                Scorer::Sum | Scorer::Points => continue,
            };
            inputs.entered.insert(node.id.clone(), input);
        }
        inputs
    }

    #[test]
    fn the_default_tree_scores_and_the_financial_veto_bites() {
        let tree = guangzhou_1000().unwrap();
        let scored = score(&tree, &full_marks(&tree, true)).unwrap();
        assert_eq!(scored.total, Points::whole(1000));
        assert_eq!(
            scored.final_score(GradeThresholds::default()).grade,
            Grade::Excellent
        );
        let vetoed = score(&tree, &full_marks(&tree, false)).unwrap();
        assert_eq!(
            (vetoed.total, vetoed.vetoed_by.as_deref()),
            (Points::ZERO, Some("financial"))
        );
    }

    #[test]
    fn each_role_scores_its_part() {
        let tree = guangzhou_1000().unwrap();
        let points = |role| tree.scored_by(role).map(|n| n.max.0).sum::<i64>();
        assert_eq!(points(EvaluatorRole::ThirdParty), Points::whole(700).0);
        assert_eq!(
            points(EvaluatorRole::Purchaser) + points(EvaluatorRole::VillageCommittee),
            Points::whole(200).0
        );
        assert_eq!(
            points(EvaluatorRole::SupervisingBureau),
            Points::whole(100).0
        );
    }
}
