//! An indicator tree as people type it, shared by the editor's rows and the API's body: codes,
//! points and shares as text ("12.5", "优=1；良=4/5", "≥100%=1；≥80%=2/3"), read into the
//! domain's nodes with every unreadable cell named by its row. The domain then checks the tree
//! as a whole (one root, sums adding up, depth) when the store writes it.

use serde::{Deserialize, Serialize};
use shegong_domain::purchase::contract::LineTier;
use shegong_domain::purchase::evaluation::{EvaluatorRole, GradeThresholds, Points};
use shegong_domain::purchase::indicator::{IndicatorNode, MAX_NODES, Scorer};
use shegong_domain::purchase::scorer_text::{bands_text, levels_text, parse_bands, parse_levels};
use shegong_domain::{FieldError, RegionCode};
use shegong_store::purchase::indicator_trees::{StoredTree, TreeInput, node_field};
use utoipa::ToSchema;

/// One node as typed.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
pub struct NodeText {
    /// The node's code, stable across versions: 1–64 of letters, digits, '.', '_', '-'.
    pub id: String,
    /// The parent's code; empty for the root.
    #[serde(default)]
    pub parent: String,
    pub name: String,
    /// The node's maximum in points ("100", "12.5"); 0 or empty for a veto.
    #[serde(default)]
    pub max: String,
    /// `sum`, `points`, `graded`, `ratio_bands` or `veto`.
    pub scorer: String,
    /// For `graded`: the levels, "优=1；良=4/5；中=3/5；差=0"; for `ratio_bands`: the bands,
    /// highest first, "≥100%=1；≥80%=2/3；≥60%=1/3" (from this completion up, this share of
    /// the maximum). Shares are fractions, percentages or decimals. Ignored otherwise.
    #[serde(default)]
    pub steps: String,
    /// `third_party`, `purchaser`, `supervising_bureau` or `village_committee`.
    pub role: String,
    #[serde(default)]
    pub evidence_required: bool,
    /// For `ratio_bands`: the contract lines the node measures, `core` or `basic`; empty for
    /// all counted lines.
    #[serde(default)]
    pub measures: String,
}

impl NodeText {
    pub fn of(node: &IndicatorNode) -> NodeText {
        NodeText {
            id: node.id.clone(),
            parent: node.parent.clone().unwrap_or_default(),
            name: node.name.clone(),
            max: node.max.to_string(),
            scorer: node.scorer.code().to_owned(),
            steps: match &node.scorer {
                Scorer::Graded { levels } => levels_text(levels),
                Scorer::RatioBands { bands } => bands_text(bands),
                _ => String::new(),
            },
            role: node.role.to_string(),
            evidence_required: node.evidence_required,
            measures: node.measures.map(|m| m.to_string()).unwrap_or_default(),
        }
    }

    /// Nothing typed in the row: the editor's spare rows.
    pub fn is_blank(&self) -> bool {
        [&self.id, &self.parent, &self.name, &self.max, &self.steps]
            .iter()
            .all(|s| s.trim().is_empty())
    }

    /// The node, or the first unreadable cell (its field: `id`, `name`, `max`, `scorer`,
    /// `steps`, `role`, `measures`).
    pub fn node(&self) -> Result<IndicatorNode, FieldError> {
        let scorer = match self.scorer.trim() {
            "sum" => Scorer::Sum,
            "points" => Scorer::Points,
            "graded" => Scorer::Graded {
                levels: parse_levels("steps", &self.steps)?,
            },
            "ratio_bands" => Scorer::RatioBands {
                bands: parse_bands("steps", &self.steps)?,
            },
            "veto" => Scorer::Veto,
            _ => return Err(FieldError::new("scorer", "evaluation.scorer_unknown")),
        };
        let max = match self.max.trim() {
            "" if scorer == Scorer::Veto => Points::ZERO,
            text => Points::parse("max", text)?,
        };
        let measures = match self.measures.trim() {
            "" => None,
            code => Some(
                LineTier::parse(code)
                    .map_err(|_| FieldError::new("measures", "purchase.tier_unknown"))?,
            ),
        };
        let parent = self.parent.trim();
        Ok(IndicatorNode {
            id: self.id.trim().to_owned(),
            parent: (!parent.is_empty()).then(|| parent.to_owned()),
            name: self.name.trim().to_owned(),
            max,
            scorer,
            role: EvaluatorRole::parse(&self.role)?,
            evidence_required: self.evidence_required,
            measures,
        })
    }
}

/// A tree as submitted: the editor's form and the API's body.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({
    "region_code": "430203", "name": "社工站服务评估指标", "excellent_percent": "90",
    "good_percent": "80", "pass_percent": "60",
    "nodes": [
        {"id": "total", "parent": "", "name": "评估总分", "max": "100", "scorer": "sum",
         "role": "third_party"},
        {"id": "quality", "parent": "total", "name": "服务质量", "max": "60", "scorer": "graded",
         "steps": "优=1；良=4/5；中=3/5；差=0", "role": "third_party", "evidence_required": true},
        {"id": "delivery", "parent": "total", "name": "基础项目完成情况", "max": "40",
         "scorer": "ratio_bands", "steps": "≥100%=1；≥80%=2/3；≥60%=1/3", "role": "third_party",
         "measures": "basic"},
        {"id": "finance", "parent": "total", "name": "财务审计", "max": "0", "scorer": "veto",
         "role": "supervising_bureau"}
    ]
}))]
pub struct TreeText {
    /// The region the tree is for, inside the caller's scope (a new version if it has one).
    pub region_code: String,
    pub name: String,
    /// The lowest share of the maximum for 优秀 / 良好 / 合格, in percent ("90", "85.5").
    pub excellent_percent: String,
    pub good_percent: String,
    pub pass_percent: String,
    pub nodes: Vec<NodeText>,
}

/// A refused cell: the row (0-based, among the nodes as given) when it is about one, and the
/// error naming the field.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub row: Option<usize>,
    pub error: FieldError,
}

impl Refusal {
    fn form(error: FieldError) -> Refusal {
        Refusal { row: None, error }
    }

    /// The error as the API reports it: a row's error names `nodes.<code>` (or `nodes` when
    /// the code itself is unusable).
    pub fn api_error(&self, nodes: &[NodeText]) -> FieldError {
        match self.row.and_then(|r| nodes.get(r)) {
            Some(n) => FieldError::new(node_field("nodes", n.id.trim()), self.error.code),
            None => self.error.clone(),
        }
    }
}

/// A percentage with at most two decimals, in basis points.
fn percent_bp(field: &'static str, text: &str) -> Result<i64, FieldError> {
    let text = text.trim().trim_end_matches(['%', '％']).trim();
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || whole.len() > 3 || frac.len() > 2 || !(frac.is_empty() || digits(frac)) {
        return Err(FieldError::new(field, "evaluation.percent_invalid"));
    }
    let whole: i64 = whole.parse().unwrap_or(0);
    let frac: i64 = format!("{frac:0<2}").parse().unwrap_or(0);
    Ok(whole * 100 + frac)
}

/// Basis points as a percentage to type: 9000 → "90", 8550 → "85.5" (the hundredths
/// formatting of points).
fn percent_text(bp: i64) -> String {
    Points(bp).to_string()
}

impl TreeText {
    /// A stored tree, ready to edit as the next version for `region`.
    pub fn of(tree: &StoredTree, region: &str) -> TreeText {
        let (e, g, p) = tree.thresholds_bp;
        TreeText {
            region_code: region.to_owned(),
            name: tree.name.clone(),
            excellent_percent: percent_text(e),
            good_percent: percent_text(g),
            pass_percent: percent_text(p),
            nodes: tree.tree.nodes().iter().map(NodeText::of).collect(),
        }
    }

    /// The tree to store, or every refused cell (blank rows are skipped; rows keep their
    /// position in `nodes`).
    pub fn input(&self) -> Result<TreeInput, Vec<Refusal>> {
        let mut refused = vec![];
        let region = RegionCode::parse(&self.region_code)
            .map_err(|e| refused.push(Refusal::form(FieldError::new("region", e.code))))
            .ok();
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            refused.push(Refusal::form(FieldError::new(
                "name",
                "purchase.text_invalid",
            )));
        }
        let bp = [
            ("excellent_percent", &self.excellent_percent),
            ("good_percent", &self.good_percent),
            ("pass_percent", &self.pass_percent),
        ]
        .map(|(field, text)| percent_bp(field, text).map_err(|e| refused.push(Refusal::form(e))));
        let thresholds = match bp {
            [Ok(e), Ok(g), Ok(p)] => GradeThresholds::new(e, g, p)
                .map_err(|e| refused.push(Refusal::form(e)))
                .ok(),
            _ => None,
        };
        if self.nodes.len() > MAX_NODES + EDITOR_SPARE_ROWS {
            refused.push(Refusal::form(FieldError::new(
                "nodes",
                "evaluation.tree_too_large",
            )));
            return Err(refused);
        }
        let mut nodes = Vec::with_capacity(self.nodes.len());
        for (row, text) in self.nodes.iter().enumerate() {
            if text.is_blank() {
                continue;
            }
            match text.node() {
                Ok(node) => nodes.push(node),
                Err(error) => refused.push(Refusal {
                    row: Some(row),
                    error,
                }),
            }
        }
        match (region, thresholds, refused.is_empty()) {
            (Some(region), Some(thresholds), true) => Ok(TreeInput {
                region,
                name: name.to_owned(),
                nodes,
                thresholds,
            }),
            _ => Err(refused),
        }
    }

    /// The row of the node a store error names (`nodes.<code>`), for the editor.
    pub fn row_of(&self, field: &str) -> Option<usize> {
        let code = field.strip_prefix("nodes.")?;
        if let Some(n) = code.strip_prefix('#') {
            // The domain names a node with an unusable code by its position among the nodes
            // it was given, which skip blank rows.
            let n: usize = n.parse().ok()?;
            return self
                .nodes
                .iter()
                .enumerate()
                .filter(|(_, t)| !t.is_blank())
                .nth(n.checked_sub(1)?)
                .map(|(i, _)| i);
        }
        self.nodes.iter().position(|t| t.id.trim() == code)
    }
}

/// Blank rows the editor offers below the nodes ("more rows" adds as many again), also
/// allowed past [`MAX_NODES`] in a submission.
pub const EDITOR_SPARE_ROWS: usize = 5;

#[cfg(test)]
mod tests {
    use super::*;
    use shegong_domain::purchase::default_tree::guangzhou_1000_nodes;
    use shegong_domain::purchase::indicator::IndicatorTree;

    fn default_text() -> TreeText {
        TreeText {
            region_code: "4302".into(),
            name: "株洲市评估指标".into(),
            excellent_percent: "90".into(),
            good_percent: "80".into(),
            pass_percent: "60".into(),
            nodes: guangzhou_1000_nodes().iter().map(NodeText::of).collect(),
        }
    }

    #[test]
    fn the_default_tree_round_trips_through_text() {
        let input = default_text().input().unwrap();
        assert_eq!(input.nodes, guangzhou_1000_nodes());
        assert!(IndicatorTree::new(input.nodes).is_ok());
    }

    #[test]
    fn unreadable_cells_are_named_by_row() {
        let mut text = default_text();
        text.nodes[2].max = "十分".into();
        text.nodes[3].scorer = "weighted".into();
        text.nodes.push(NodeText::default());
        text.excellent_percent = "九十".into();
        let refused = text.input().unwrap_err();
        let cells: Vec<_> = refused
            .iter()
            .map(|r| (r.row, r.error.field, r.error.code))
            .collect();
        assert!(cells.contains(&(None, "excellent_percent", "evaluation.percent_invalid")));
        assert!(cells.contains(&(Some(2), "max", "evaluation.points_invalid")));
        assert!(cells.contains(&(Some(3), "scorer", "evaluation.scorer_unknown")));
        assert_eq!(refused.len(), 3, "the blank row is skipped: {cells:?}");
        assert_eq!(
            refused[1].api_error(&text.nodes).field,
            format!("nodes.{}", text.nodes[2].id)
        );
    }

    #[test]
    fn store_errors_find_their_row() {
        let mut text = default_text();
        text.nodes.insert(0, NodeText::default());
        assert_eq!(text.row_of("nodes.total"), Some(1));
        assert_eq!(text.row_of("nodes.#1"), Some(1));
        assert_eq!(text.row_of("nodes.nope"), None);
        assert_eq!(text.row_of("name"), None);
    }
}
