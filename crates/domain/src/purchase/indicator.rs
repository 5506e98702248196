//! Evaluation indicator trees (评估指标体系) and their scoring. A tree is data per region and
//! version: each node has its maximum, the way it is scored (sum of sub-items 组合分, a graded
//! judgement 程度分, bands of a measured ratio, or a veto 一票否决), who scores it and whether
//! evidence is required.
//!
//! Errors name the node they are about ([`NodeError`]), so a form can point at the row.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::HUNDRED_PERCENT;
use super::contract::LineTier;
use super::evaluation::{EvaluatorRole, FinalScore, GradeThresholds, Points};
use crate::FieldError;

/// The deepest a tree may go below its root (Guangzhou's has three levels).
pub const MAX_DEPTH: usize = 8;

/// A share of a node's maximum, exact: two-thirds is 2/3, not 0.6667.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fraction {
    pub num: i64,
    pub den: i64,
}

impl Fraction {
    pub const FULL: Fraction = Fraction::new(1, 1);
    pub const NONE: Fraction = Fraction::new(0, 1);

    pub const fn new(num: i64, den: i64) -> Fraction {
        Fraction { num, den }
    }

    /// Between 0 and 1 inclusive, with a positive denominator.
    pub fn is_valid(self) -> bool {
        self.den > 0 && (0..=self.den).contains(&self.num)
    }

    /// This share of `max`, rounded half up to the hundredth of a point (2/3 of 10 is 6.67).
    pub fn of(self, max: Points) -> Points {
        let (num, den) = (i128::from(self.num), i128::from(self.den));
        let exact = (i128::from(max.0) * num * 2 + den) / (2 * den);
        // A valid fraction of a maximum fits wherever the maximum does.
        Points(i64::try_from(exact).unwrap_or(max.0))
    }

    /// Whether this share is not larger than `other` (compared exactly).
    fn at_most(self, other: Fraction) -> bool {
        i128::from(self.num) * i128::from(other.den) <= i128::from(other.num) * i128::from(self.den)
    }
}

/// A level an evaluator may pick for a graded node (优 / 良 / 中 / 差).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Level {
    pub label: String,
    pub fraction: Fraction,
}

/// From `min_ratio_bp` of the target up, the node scores `fraction` of its maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatioBand {
    pub min_ratio_bp: i64,
    pub fraction: Fraction,
}

/// How a node gets its points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "scorer", rename_all = "snake_case")]
pub enum Scorer {
    /// The sum of the children, capped at the node's maximum.
    Sum,
    /// The evaluator enters points, 0 to the maximum.
    Points,
    /// The evaluator picks a level, each a share of the maximum.
    Graded { levels: Vec<Level> },
    /// A measured ratio (delivered / target) mapped by bands, highest first; below the lowest
    /// band the node scores 0.
    RatioBands { bands: Vec<RatioBand> },
    /// Pass or fail, no points: a failed veto makes the whole total 0.
    Veto,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndicatorNode {
    /// A code stable across versions ("1.2.3", "core_delivery").
    pub id: String,
    pub parent: Option<String>,
    pub name: String,
    pub max: Points,
    pub scorer: Scorer,
    #[serde(deserialize_with = "super::code")]
    pub role: EvaluatorRole,
    pub evidence_required: bool,
    /// For a ratio-band node measuring delivery: the contract lines it measures (`None`: all
    /// counted lines). Refused on any other scorer.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::optional_code"
    )]
    pub measures: Option<LineTier>,
}

/// A tree or score refused, naming the node (empty when no node is to blame).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{node}: {code}")]
pub struct NodeError {
    pub node: String,
    pub code: &'static str,
}

impl NodeError {
    fn new(node: &str, code: &'static str) -> NodeError {
        NodeError {
            node: node.to_owned(),
            code,
        }
    }

    /// The error as a plain field error, for forms that show the node beside it.
    pub fn field_error(&self, field: &'static str) -> FieldError {
        FieldError::new(field, self.code)
    }
}

/// A checked indicator tree: one root, no cycles, at most [`MAX_DEPTH`] deep, every sum
/// node's children adding up to its maximum exactly, leaves scored by valid levels or bands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndicatorTree {
    nodes: Vec<IndicatorNode>,
    children: Vec<Vec<usize>>,
    /// Node positions, each parent before its children (breadth first from the root).
    order: Vec<usize>,
    index: HashMap<String, usize>,
}

impl IndicatorTree {
    pub fn new(nodes: Vec<IndicatorNode>) -> Result<IndicatorTree, NodeError> {
        let index = index_nodes(&nodes)?;
        let (root, children) = link(&nodes, &index)?;
        let order = breadth_first(&nodes, &children, root)?;
        // Each node's own rules first, so a wrong node is named rather than its parent's sum.
        for (node, kids) in nodes.iter().zip(&children) {
            check_node(node, !kids.is_empty())?;
        }
        for (node, kids) in nodes.iter().zip(&children) {
            check_sum(node, kids.iter().filter_map(|&k| nodes.get(k)))?;
        }
        Ok(IndicatorTree {
            nodes,
            children,
            order,
            index,
        })
    }

    /// The nodes in the order they were given.
    pub fn nodes(&self) -> &[IndicatorNode] {
        &self.nodes
    }

    pub fn node(&self, id: &str) -> Option<&IndicatorNode> {
        self.index.get(id).and_then(|&i| self.nodes.get(i))
    }

    pub fn root(&self) -> Option<&IndicatorNode> {
        self.order.first().and_then(|&i| self.nodes.get(i))
    }

    /// The tree's maximum: its root's.
    pub fn max(&self) -> Points {
        self.root().map_or(Points::ZERO, |r| r.max)
    }

    pub fn children(&self, id: &str) -> impl Iterator<Item = &IndicatorNode> {
        self.index
            .get(id)
            .and_then(|&i| self.children.get(i))
            .into_iter()
            .flatten()
            .filter_map(|&c| self.nodes.get(c))
    }

    /// The nodes a role enters scores for (sum nodes add up by themselves).
    pub fn scored_by(&self, role: EvaluatorRole) -> impl Iterator<Item = &IndicatorNode> {
        self.nodes
            .iter()
            .filter(move |n| n.role == role && n.scorer != Scorer::Sum)
    }
}

fn index_nodes(nodes: &[IndicatorNode]) -> Result<HashMap<String, usize>, NodeError> {
    if nodes.is_empty() {
        return Err(NodeError::new("", "evaluation.tree_empty"));
    }
    let mut index = HashMap::with_capacity(nodes.len());
    for (i, node) in nodes.iter().enumerate() {
        if node.id.trim().is_empty() {
            return Err(NodeError::new(&node.id, "evaluation.node_id_required"));
        }
        if node.name.trim().is_empty() {
            return Err(NodeError::new(&node.id, "evaluation.node_name_required"));
        }
        if index.insert(node.id.clone(), i).is_some() {
            return Err(NodeError::new(&node.id, "evaluation.node_duplicate"));
        }
    }
    Ok(index)
}

/// The root's position and each node's children, in the order given.
fn link(
    nodes: &[IndicatorNode],
    index: &HashMap<String, usize>,
) -> Result<(usize, Vec<Vec<usize>>), NodeError> {
    let mut root = None;
    let mut children = vec![Vec::new(); nodes.len()];
    for (i, node) in nodes.iter().enumerate() {
        match &node.parent {
            None if root.is_some() => {
                return Err(NodeError::new(&node.id, "evaluation.tree_several_roots"));
            }
            None => root = Some(i),
            Some(parent) => {
                let p = index
                    .get(parent)
                    .ok_or_else(|| NodeError::new(&node.id, "evaluation.parent_unknown"))?;
                if let Some(kids) = children.get_mut(*p) {
                    kids.push(i);
                }
            }
        }
    }
    let root = root.ok_or_else(|| NodeError::new("", "evaluation.tree_no_root"))?;
    Ok((root, children))
}

/// Every node reached from the root, parents first. With one root and every parent known, a
/// node the walk does not reach sits on a cycle.
fn breadth_first(
    nodes: &[IndicatorNode],
    children: &[Vec<usize>],
    root: usize,
) -> Result<Vec<usize>, NodeError> {
    let mut order = vec![root];
    let mut depth = vec![0usize; nodes.len()];
    let mut next = 0;
    while let Some(&at) = order.get(next) {
        next += 1;
        let below = depth.get(at).copied().unwrap_or(0) + 1;
        for &child in children.get(at).into_iter().flatten() {
            if below > MAX_DEPTH {
                let id = nodes.get(child).map_or("", |n| n.id.as_str());
                return Err(NodeError::new(id, "evaluation.tree_too_deep"));
            }
            if let Some(d) = depth.get_mut(child) {
                *d = below;
            }
            order.push(child);
        }
    }
    if order.len() < nodes.len() {
        let mut reached = vec![false; nodes.len()];
        for &i in &order {
            if let Some(r) = reached.get_mut(i) {
                *r = true;
            }
        }
        let stray = nodes.iter().zip(&reached).find(|(_, r)| !**r);
        let id = stray.map_or("", |(n, _)| n.id.as_str());
        return Err(NodeError::new(id, "evaluation.tree_cycle"));
    }
    Ok(order)
}

/// One node's own rules: its maximum, its levels or bands, children only under a sum.
fn check_node(node: &IndicatorNode, has_children: bool) -> Result<(), NodeError> {
    let refuse = |code| Err(NodeError::new(&node.id, code));
    match (&node.scorer, node.max.0) {
        (Scorer::Veto, 0) => {}
        (Scorer::Veto, _) => return refuse("evaluation.veto_has_points"),
        (_, max) if max <= 0 => return refuse("evaluation.max_points_invalid"),
        _ => {}
    }
    if node.measures.is_some() && !matches!(node.scorer, Scorer::RatioBands { .. }) {
        return refuse("evaluation.measures_not_ratio");
    }
    match &node.scorer {
        Scorer::Sum if !has_children => refuse("evaluation.sum_without_children"),
        Scorer::Sum => Ok(()),
        _ if has_children => refuse("evaluation.leaf_has_children"),
        Scorer::Graded { levels } if !levels_valid(levels) => refuse("evaluation.levels_invalid"),
        Scorer::RatioBands { bands } if !bands_valid(bands) => refuse("evaluation.bands_invalid"),
        _ => Ok(()),
    }
}

/// A sum node's children add up to its maximum exactly: a typo in one weight shows here
/// instead of in every total.
fn check_sum<'a>(
    node: &IndicatorNode,
    children: impl Iterator<Item = &'a IndicatorNode>,
) -> Result<(), NodeError> {
    if node.scorer != Scorer::Sum {
        return Ok(());
    }
    let sum = children.map(|c| c.max.0).try_fold(0i64, i64::checked_add);
    if sum != Some(node.max.0) {
        return Err(NodeError::new(
            &node.id,
            "evaluation.children_points_mismatch",
        ));
    }
    Ok(())
}

/// At least one level; labels present and distinct; shares between 0 and 1.
fn levels_valid(levels: &[Level]) -> bool {
    let labelled = levels
        .iter()
        .all(|l| !l.label.trim().is_empty() && l.fraction.is_valid());
    let distinct = levels.iter().enumerate().all(|(i, l)| {
        levels
            .iter()
            .skip(i + 1)
            .all(|o| o.label.trim() != l.label.trim())
    });
    !levels.is_empty() && labelled && distinct
}

/// At least one band; thresholds not negative and strictly descending; shares between 0 and
/// 1 and never larger for a lower ratio.
fn bands_valid(bands: &[RatioBand]) -> bool {
    let each = bands
        .iter()
        .all(|b| b.min_ratio_bp >= 0 && b.fraction.is_valid());
    let descending = bands.windows(2).all(|w| match w {
        [higher, lower] => {
            higher.min_ratio_bp > lower.min_ratio_bp && lower.fraction.at_most(higher.fraction)
        }
        _ => true,
    });
    !bands.is_empty() && each && descending
}

/// What an evaluator entered for a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "input", rename_all = "snake_case")]
pub enum Input {
    /// For a points node.
    Points { points: Points },
    /// For a graded node: the level's label.
    Level { label: String },
    /// For a ratio node without a measured ratio: the ratio the evaluator measured.
    Ratio { ratio_bp: i64 },
    /// For a ratio node: points instead of what the measured ratio gives, with the reason.
    Override { points: Points, reason: String },
    /// For a veto node.
    Veto { passed: bool },
}

/// Everything a score sheet is computed from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inputs {
    /// Entered by evaluators, by node id.
    pub entered: HashMap<String, Input>,
    /// Ratios measured from the computed deliverables (delivered / target, basis points), by
    /// node id: ratio nodes are pre-filled from these.
    pub measured: HashMap<String, i64>,
}

/// One node's result on the score sheet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeScore {
    pub node: String,
    pub points: Points,
    /// The ratio the points came from, for ratio nodes.
    pub ratio_bp: Option<i64>,
    /// Why the evaluator overrode the measured result.
    pub override_reason: Option<String>,
    /// A veto node that failed.
    pub vetoed: bool,
}

/// A computed score sheet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Scored {
    /// In the tree's node order.
    pub nodes: Vec<NodeScore>,
    /// The root's points, or 0 when a veto failed.
    pub total: Points,
    pub max: Points,
    /// The first failed veto node, if any.
    pub vetoed_by: Option<String>,
}

impl Scored {
    pub fn points(&self, id: &str) -> Option<Points> {
        self.nodes.iter().find(|n| n.node == id).map(|n| n.points)
    }

    pub fn final_score(&self, thresholds: GradeThresholds) -> FinalScore {
        FinalScore {
            total: self.total,
            max: self.max,
            grade: thresholds.grade(self.total, self.max),
        }
    }
}

/// Scores a tree: every leaf needs an input (or, for a ratio node, a measured ratio); sums
/// add up their children, capped at their maximum; a failed veto zeroes the total. Refused,
/// naming the node: inputs for unknown nodes or of the wrong kind, a missing score, points
/// above the node's maximum ("evaluation.score_above_max"), an unknown level, a negative
/// ratio, an override without a reason or a measured ratio replaced without one.
pub fn score(tree: &IndicatorTree, inputs: &Inputs) -> Result<Scored, NodeError> {
    for id in inputs.entered.keys().chain(inputs.measured.keys()) {
        if tree.node(id).is_none() {
            return Err(NodeError::new(id, "evaluation.node_unknown"));
        }
    }
    let mut sheet: Vec<Option<NodeScore>> = vec![None; tree.nodes.len()];
    for &i in tree.order.iter().rev() {
        let Some(node) = tree.nodes.get(i) else {
            continue;
        };
        let result = if node.scorer == Scorer::Sum {
            if inputs.entered.contains_key(&node.id) || inputs.measured.contains_key(&node.id) {
                return Err(NodeError::new(&node.id, "evaluation.input_wrong_kind"));
            }
            let kids = tree.children.get(i).into_iter().flatten();
            let sum = kids
                .filter_map(|&k| sheet.get(k).and_then(Option::as_ref))
                .fold(0i64, |s, k| s.saturating_add(k.points.0));
            plain(node, Points(sum.min(node.max.0)))
        } else {
            score_leaf(
                node,
                inputs.entered.get(&node.id),
                inputs.measured.get(&node.id).copied(),
            )?
        };
        if let Some(slot) = sheet.get_mut(i) {
            *slot = Some(result);
        }
    }
    let nodes: Vec<NodeScore> = sheet.into_iter().flatten().collect();
    let vetoed_by = nodes.iter().find(|n| n.vetoed).map(|n| n.node.clone());
    let root_points = tree
        .root()
        .and_then(|r| nodes.iter().find(|n| n.node == r.id))
        .map_or(Points::ZERO, |n| n.points);
    Ok(Scored {
        total: if vetoed_by.is_some() {
            Points::ZERO
        } else {
            root_points
        },
        max: tree.max(),
        vetoed_by,
        nodes,
    })
}

fn plain(node: &IndicatorNode, points: Points) -> NodeScore {
    NodeScore {
        node: node.id.clone(),
        points,
        ratio_bp: None,
        override_reason: None,
        vetoed: false,
    }
}

fn score_leaf(
    node: &IndicatorNode,
    input: Option<&Input>,
    measured: Option<i64>,
) -> Result<NodeScore, NodeError> {
    let refuse = |code: &'static str| NodeError::new(&node.id, code);
    let within_max = |points: Points| match points.0 {
        p if p < 0 => Err(refuse("evaluation.points_invalid")),
        p if p > node.max.0 => Err(refuse("evaluation.score_above_max")),
        _ => Ok(points),
    };
    if measured.is_some() && !matches!(node.scorer, Scorer::RatioBands { .. }) {
        return Err(refuse("evaluation.input_wrong_kind"));
    }
    match (&node.scorer, input) {
        (Scorer::Points, Some(Input::Points { points })) => Ok(plain(node, within_max(*points)?)),
        (Scorer::Graded { levels }, Some(Input::Level { label })) => {
            match levels.iter().find(|l| l.label.trim() == label.trim()) {
                Some(level) => Ok(plain(node, level.fraction.of(node.max))),
                None => Err(refuse("evaluation.level_unknown")),
            }
        }
        (Scorer::RatioBands { .. }, Some(Input::Override { points, reason })) => {
            if reason.trim().is_empty() {
                return Err(refuse("evaluation.override_reason_required"));
            }
            Ok(NodeScore {
                ratio_bp: measured,
                override_reason: Some(reason.trim().to_owned()),
                ..plain(node, within_max(*points)?)
            })
        }
        (Scorer::RatioBands { bands }, input) => {
            let ratio_bp = match (input, measured) {
                // Replacing a measured ratio is an override: it needs a reason.
                (Some(Input::Ratio { .. }), Some(_)) => {
                    return Err(refuse("evaluation.override_reason_required"));
                }
                (Some(Input::Ratio { ratio_bp }), None) => *ratio_bp,
                (None, Some(measured)) => measured,
                (None, None) => return Err(refuse("evaluation.score_missing")),
                (Some(_), _) => return Err(refuse("evaluation.input_wrong_kind")),
            };
            if ratio_bp < 0 {
                return Err(refuse("evaluation.ratio_invalid"));
            }
            Ok(NodeScore {
                ratio_bp: Some(ratio_bp),
                ..plain(node, band_points(bands, ratio_bp, node.max))
            })
        }
        (Scorer::Veto, Some(Input::Veto { passed })) => Ok(NodeScore {
            vetoed: !passed,
            ..plain(node, Points::ZERO)
        }),
        (_, None) => Err(refuse("evaluation.score_missing")),
        _ => Err(refuse("evaluation.input_wrong_kind")),
    }
}

/// The points a ratio earns: the first band it reaches, else 0.
fn band_points(bands: &[RatioBand], ratio_bp: i64, max: Points) -> Points {
    bands
        .iter()
        .find(|b| ratio_bp >= b.min_ratio_bp)
        .map_or(Points::ZERO, |b| b.fraction.of(max))
}

/// The delivery bands of the 绩效版 template: ≥ 100 % full, 80–99 % two-thirds, 60–79 %
/// one-third, below 60 % nothing.
pub fn delivery_bands() -> Vec<RatioBand> {
    vec![
        RatioBand {
            min_ratio_bp: HUNDRED_PERCENT,
            fraction: Fraction::FULL,
        },
        RatioBand {
            min_ratio_bp: 8000,
            fraction: Fraction::new(2, 3),
        },
        RatioBand {
            min_ratio_bp: 6000,
            fraction: Fraction::new(1, 3),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::purchase::evaluation::Grade;

    fn node(id: &str, parent: Option<&str>, max: i64, scorer: Scorer) -> IndicatorNode {
        IndicatorNode {
            id: id.into(),
            parent: parent.map(Into::into),
            name: format!("{id} name"),
            max: Points::whole(max),
            scorer,
            role: EvaluatorRole::ThirdParty,
            evidence_required: false,
            measures: None,
        }
    }

    fn levels() -> Vec<Level> {
        [
            ("优", Fraction::FULL),
            ("良", Fraction::new(4, 5)),
            ("差", Fraction::NONE),
        ]
        .into_iter()
        .map(|(label, fraction)| Level {
            label: label.into(),
            fraction,
        })
        .collect()
    }

    /// total 100 = a (points, 40) + b (graded, 30) + c (delivery bands, 30) + v (veto).
    fn sample() -> Vec<IndicatorNode> {
        vec![
            node("total", None, 100, Scorer::Sum),
            node("a", Some("total"), 40, Scorer::Points),
            node("b", Some("total"), 30, Scorer::Graded { levels: levels() }),
            node(
                "c",
                Some("total"),
                30,
                Scorer::RatioBands {
                    bands: delivery_bands(),
                },
            ),
            node("v", Some("total"), 0, Scorer::Veto),
        ]
    }

    fn entered(pairs: Vec<(&str, Input)>) -> Inputs {
        Inputs {
            entered: pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
            measured: HashMap::from([("c".to_owned(), 8500)]),
        }
    }

    fn full_inputs() -> Vec<(&'static str, Input)> {
        vec![
            (
                "a",
                Input::Points {
                    points: Points(3550),
                },
            ),
            (
                "b",
                Input::Level {
                    label: "良".into()
                },
            ),
            ("v", Input::Veto { passed: true }),
        ]
    }

    fn err(node: &str, code: &'static str) -> NodeError {
        NodeError::new(node, code)
    }

    #[test]
    fn scores_add_up_through_the_tree() {
        let tree = IndicatorTree::new(sample()).unwrap();
        let scored = score(&tree, &entered(full_inputs())).unwrap();
        assert_eq!(scored.points("a"), Some(Points(3550)));
        assert_eq!(scored.points("b"), Some(Points(2400)));
        assert_eq!(scored.points("c"), Some(Points(2000))); // 85 % → two-thirds of 30
        assert_eq!(scored.total, Points(7950));
        assert_eq!(scored.max, Points::whole(100));
        assert_eq!(scored.vetoed_by, None);
        let c = scored.nodes.iter().find(|n| n.node == "c").unwrap();
        assert_eq!(
            (c.ratio_bp, c.override_reason.as_deref()),
            (Some(8500), None)
        );
        assert_eq!(
            scored.final_score(GradeThresholds::default()).grade,
            Grade::Pass
        );
    }

    #[test]
    fn a_failed_veto_zeroes_the_total() {
        let tree = IndicatorTree::new(sample()).unwrap();
        let mut inputs = full_inputs();
        inputs[2].1 = Input::Veto { passed: false };
        let scored = score(&tree, &entered(inputs)).unwrap();
        assert_eq!(scored.total, Points::ZERO);
        assert_eq!(scored.vetoed_by.as_deref(), Some("v"));
        // The sheet still shows what each item earned.
        assert_eq!(scored.points("total"), Some(Points(7950)));
        assert_eq!(
            scored.final_score(GradeThresholds::default()).grade,
            Grade::Fail
        );
    }

    #[test]
    fn scores_above_the_maximum_are_refused_naming_the_node() {
        let tree = IndicatorTree::new(sample()).unwrap();
        let mut inputs = full_inputs();
        inputs[0].1 = Input::Points {
            points: Points(4001),
        };
        assert_eq!(
            score(&tree, &entered(inputs.clone())),
            Err(err("a", "evaluation.score_above_max"))
        );
        inputs[0].1 = Input::Points {
            points: Points(4000),
        };
        inputs.push((
            "c",
            Input::Override {
                points: Points::whole(31),
                reason: "records lost in a flood".into(),
            },
        ));
        assert_eq!(
            score(&tree, &entered(inputs)),
            Err(err("c", "evaluation.score_above_max"))
        );
    }

    #[test]
    fn overriding_a_measured_ratio_needs_a_reason() {
        let tree = IndicatorTree::new(sample()).unwrap();
        let with_c = |input: Input| {
            let mut inputs = full_inputs();
            inputs.push(("c", input));
            score(&tree, &entered(inputs))
        };
        assert_eq!(
            with_c(Input::Override {
                points: Points::whole(30),
                reason: "  ".into()
            }),
            Err(err("c", "evaluation.override_reason_required"))
        );
        assert_eq!(
            with_c(Input::Ratio { ratio_bp: 10_000 }),
            Err(err("c", "evaluation.override_reason_required"))
        );
        let scored = with_c(Input::Override {
            points: Points::whole(30),
            reason: "groups held in the neighbouring station".into(),
        })
        .unwrap();
        let c = scored.nodes.iter().find(|n| n.node == "c").unwrap();
        assert_eq!(c.points, Points::whole(30));
        assert_eq!(c.ratio_bp, Some(8500));
        assert_eq!(
            c.override_reason.as_deref(),
            Some("groups held in the neighbouring station")
        );
        assert_eq!(scored.total, Points(3550 + 2400 + 3000));
    }

    #[test]
    fn ratios_without_a_measurement_are_entered() {
        let tree = IndicatorTree::new(sample()).unwrap();
        let mut inputs = full_inputs();
        inputs.push(("c", Input::Ratio { ratio_bp: 6000 }));
        let mut inputs = entered(inputs);
        inputs.measured.clear();
        assert_eq!(
            score(&tree, &inputs).unwrap().points("c"),
            Some(Points(1000))
        );
        inputs
            .entered
            .insert("c".into(), Input::Ratio { ratio_bp: -1 });
        assert_eq!(
            score(&tree, &inputs),
            Err(err("c", "evaluation.ratio_invalid"))
        );
        inputs.entered.remove("c");
        assert_eq!(
            score(&tree, &inputs),
            Err(err("c", "evaluation.score_missing"))
        );
    }

    #[test]
    fn inputs_must_fit_their_node() {
        let tree = IndicatorTree::new(sample()).unwrap();
        let case = |change: fn(&mut Inputs)| {
            let mut inputs = entered(full_inputs());
            change(&mut inputs);
            score(&tree, &inputs).unwrap_err()
        };
        assert_eq!(
            case(|i| drop(i.entered.remove("b"))),
            err("b", "evaluation.score_missing")
        );
        assert_eq!(
            case(|i| drop(i.entered.insert(
                "b".into(),
                Input::Level {
                    label: "中".into()
                }
            ))),
            err("b", "evaluation.level_unknown")
        );
        assert_eq!(
            case(|i| drop(
                i.entered
                    .insert("b".into(), Input::Points { points: Points(1) })
            )),
            err("b", "evaluation.input_wrong_kind")
        );
        assert_eq!(
            case(|i| drop(
                i.entered
                    .insert("total".into(), Input::Points { points: Points(1) })
            )),
            err("total", "evaluation.input_wrong_kind")
        );
        assert_eq!(
            case(|i| drop(i.entered.insert("zz".into(), Input::Veto { passed: true }))),
            err("zz", "evaluation.node_unknown")
        );
        assert_eq!(
            case(|i| {
                i.measured.insert("a".into(), 10_000);
            }),
            err("a", "evaluation.input_wrong_kind")
        );
        assert_eq!(
            err("a", "evaluation.score_missing")
                .field_error("scores")
                .code,
            "evaluation.score_missing"
        );
    }

    #[test]
    fn bands_and_fractions_are_exact() {
        let bands = delivery_bands();
        let ten = Points::whole(10);
        for (ratio, points) in [
            (12_000, 1000),
            (10_000, 1000),
            (9999, 667),
            (8000, 667),
            (7999, 333),
            (6000, 333),
            (5999, 0),
            (0, 0),
        ] {
            assert_eq!(band_points(&bands, ratio, ten), Points(points), "{ratio}");
        }
        assert_eq!(Fraction::new(2, 3).of(Points::whole(1000)), Points(66_667));
        assert_eq!(Fraction::new(1, 2).of(Points(1)), Points(1));
        assert!(!Fraction::new(3, 2).is_valid() && !Fraction::new(1, 0).is_valid());
    }

    #[test]
    fn trees_are_checked_node_by_node() {
        let check = |change: fn(&mut Vec<IndicatorNode>)| {
            let mut nodes = sample();
            change(&mut nodes);
            IndicatorTree::new(nodes).unwrap_err()
        };
        assert_eq!(check(|n| n.clear()), err("", "evaluation.tree_empty"));
        assert_eq!(
            check(|n| n[2].id = "a".into()),
            err("a", "evaluation.node_duplicate")
        );
        assert_eq!(
            check(|n| n[1].name = " ".into()),
            err("a", "evaluation.node_name_required")
        );
        assert_eq!(
            check(|n| n[1].parent = Some("nowhere".into())),
            err("a", "evaluation.parent_unknown")
        );
        assert_eq!(
            check(|n| n[1].parent = None),
            err("a", "evaluation.tree_several_roots")
        );
        assert_eq!(
            check(|n| n[0].parent = Some("a".into())),
            err("", "evaluation.tree_no_root")
        );
        assert_eq!(
            check(|n| n[1].max = Points::whole(41)),
            err("total", "evaluation.children_points_mismatch")
        );
        assert_eq!(
            check(|n| n[4].max = Points::whole(1)),
            err("v", "evaluation.veto_has_points")
        );
        assert_eq!(
            check(|n| n[1].max = Points::ZERO),
            err("a", "evaluation.max_points_invalid")
        );
        assert_eq!(
            check(|n| n.push(node("a1", Some("a"), 40, Scorer::Points))),
            err("a", "evaluation.leaf_has_children")
        );
        assert_eq!(
            check(|n| n[1].scorer = Scorer::Sum),
            err("a", "evaluation.sum_without_children")
        );
        assert_eq!(
            check(|n| n[2].scorer = Scorer::Graded { levels: vec![] }),
            err("b", "evaluation.levels_invalid")
        );
        assert_eq!(
            check(|n| {
                let mut twice = levels();
                twice[1].label = "优".into();
                n[2].scorer = Scorer::Graded { levels: twice };
            }),
            err("b", "evaluation.levels_invalid")
        );
        assert_eq!(
            check(|n| {
                let mut bands = delivery_bands();
                bands.reverse();
                n[3].scorer = Scorer::RatioBands { bands };
            }),
            err("c", "evaluation.bands_invalid")
        );
        assert_eq!(
            check(|n| {
                let mut bands = delivery_bands();
                bands[2].fraction = Fraction::new(3, 4);
                n[3].scorer = Scorer::RatioBands { bands };
            }),
            err("c", "evaluation.bands_invalid")
        );
        // Only a ratio node measures a part of the contract.
        assert_eq!(
            check(|n| n[2].measures = Some(LineTier::Core)),
            err("b", "evaluation.measures_not_ratio")
        );
        assert!(
            IndicatorTree::new({
                let mut n = sample();
                n[3].measures = Some(LineTier::Core);
                n
            })
            .is_ok()
        );
    }

    #[test]
    fn cycles_and_depth_are_refused() {
        let mut nodes = sample();
        nodes.push(node("x", Some("y"), 10, Scorer::Sum));
        nodes.push(node("y", Some("x"), 10, Scorer::Sum));
        assert_eq!(
            IndicatorTree::new(nodes).unwrap_err(),
            err("x", "evaluation.tree_cycle")
        );
        let mut chain = vec![node("n0", None, 10, Scorer::Sum)];
        for i in 1..=MAX_DEPTH {
            let scorer = if i == MAX_DEPTH {
                Scorer::Points
            } else {
                Scorer::Sum
            };
            chain.push(node(
                &format!("n{i}"),
                Some(&format!("n{}", i - 1)),
                10,
                scorer,
            ));
        }
        assert!(IndicatorTree::new(chain.clone()).is_ok());
        if let Some(last) = chain.last_mut() {
            last.scorer = Scorer::Sum;
        }
        chain.push(node(
            "deep",
            Some(&format!("n{MAX_DEPTH}")),
            10,
            Scorer::Points,
        ));
        assert_eq!(
            IndicatorTree::new(chain).unwrap_err(),
            err("deep", "evaluation.tree_too_deep")
        );
    }

    #[test]
    fn roles_see_their_own_nodes() {
        let mut nodes = sample();
        nodes[2].role = EvaluatorRole::Purchaser;
        let tree = IndicatorTree::new(nodes).unwrap();
        let ids = |role| {
            tree.scored_by(role)
                .map(|n| n.id.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(EvaluatorRole::Purchaser), vec!["b"]);
        assert_eq!(ids(EvaluatorRole::ThirdParty), vec!["a", "c", "v"]);
        assert_eq!(tree.children("total").count(), 4);
        assert_eq!(tree.root().map(|r| r.id.as_str()), Some("total"));
    }
}
