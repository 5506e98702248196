//! A region's purchase of services at a glance (issue 14 item 7): contracts by state, spend by
//! funding level and by catalogue field, budget execution, paid so far, grades of finished
//! evaluations, overdue instalments and rectifications, and the same figures per sub-region
//! for drill-down.
//!
//! Read from the contract-level rows (a city files hundreds of contracts, a province thousands),
//! never from service records: deliveries come from the maintained tallies elsewhere.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;
use shegong_domain::Scope;
use shegong_domain::money::Fen;
use shegong_domain::purchase::catalogue::{CostShare, CostShares};
use sqlx::AnyConnection;

use super::{from_json, stored};
use crate::network::regions;
use crate::sql::Sql;
use crate::workforce::staff::date_text;
use crate::{StoreError, StoreResult};

/// The figures of one region (or of all of it).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Figures {
    pub contracts: i64,
    pub amount: Fen,
    /// Paid instalments' payable amounts.
    pub paid: Fen,
    pub budget: Fen,
    pub spent: Fen,
    /// Instalments not yet paid whose due date has passed.
    pub overdue_instalments: i64,
    pub overdue_instalments_amount: Fen,
    /// Rectification tasks still open (or sent back) past their deadline.
    pub overdue_rectifications: i64,
}

impl Figures {
    fn add(&mut self, r: &ContractRow) {
        let plus = |a: Fen, b: i64| Fen(a.0.saturating_add(b));
        self.contracts += 1;
        self.amount = plus(self.amount, r.3);
        self.paid = plus(self.paid, r.6);
        self.budget = plus(self.budget, r.7);
        self.spent = plus(self.spent, r.8);
        self.overdue_instalments += r.9;
        self.overdue_instalments_amount = plus(self.overdue_instalments_amount, r.10);
    }
}

/// A sub-region's row of the drill-down.
#[derive(Debug, Clone, Serialize)]
pub struct ChildFigures {
    pub code: String,
    pub name: String,
    pub figures: Figures,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub region_code: String,
    pub region_name: String,
    pub total: Figures,
    /// (state code, contracts, amount), in the states' order.
    pub by_state: Vec<(String, i64, Fen)>,
    /// (funding level code — `city`, `district`, `township` — or `unassigned` for contracts
    /// with no catalogue item, amount): the contract amounts split by the item's cost shares.
    pub by_source: Vec<(String, Fen)>,
    /// (catalogue field code or `unassigned`, contracts, amount).
    pub by_field: Vec<(String, i64, Fen)>,
    /// (grade code, evaluations) of final and published evaluations.
    pub grades: Vec<(String, i64)>,
    /// Sub-regions in code order; contracts filed at the region itself are under its own code.
    pub children: Vec<ChildFigures>,
}

type ContractRow = (
    String,
    String,
    String,
    i64,
    Option<String>,
    Option<String>,
    i64,
    i64,
    i64,
    i64,
    i64,
);

/// The contracts of `within` with their money figures, overdue rectifications per evaluation
/// region, and final grades.
async fn read(
    conn: &mut AnyConnection,
    within: &Scope,
    today: &str,
) -> StoreResult<(Vec<ContractRow>, Vec<(String, i64)>, BTreeMap<String, i64>)> {
    let mut q = Sql::new(
        "SELECT c.id, c.region_code, c.state, c.amount_fen, i.field, i.cost_shares, \
         CAST(COALESCE((SELECT SUM(p.payable_fen) FROM instalments p WHERE p.contract_id = c.id AND p.state = 'paid'), 0) AS BIGINT), \
         CAST(COALESCE((SELECT SUM(b.amount_fen) FROM contract_budget_lines b WHERE b.contract_id = c.id), 0) AS BIGINT), \
         CAST(COALESCE((SELECT SUM(b.spent_fen) FROM contract_budget_lines b WHERE b.contract_id = c.id), 0) AS BIGINT), \
         (SELECT COUNT(*) FROM instalments p WHERE p.contract_id = c.id AND p.state <> 'paid' AND p.due_on < ",
    );
    q.bind(today).push(
        "), CAST(COALESCE((SELECT SUM(p.amount_fen) FROM instalments p WHERE p.contract_id = c.id AND p.state <> 'paid' AND p.due_on < ",
    );
    q.bind(today).push(
        "), 0) AS BIGINT) FROM contracts c LEFT JOIN catalogue_items i ON i.id = c.catalogue_item_id WHERE ",
    );
    q.region_range("c.region_code", within);
    let rows: Vec<ContractRow> = q.fetch_all(conn).await?;

    let mut q = Sql::new(
        "SELECT e.region_code, COUNT(*) FROM evaluation_rectifications r \
         JOIN evaluations e ON e.id = r.evaluation_id \
         WHERE r.state IN ('open','rejected') AND r.deadline < ",
    );
    q.bind(today).push(" AND ");
    q.region_range("e.region_code", within);
    q.push(" GROUP BY e.region_code");
    let rectifications: Vec<(String, i64)> = q.fetch_all(conn).await?;

    let mut q = Sql::new(
        "SELECT e.grade, COUNT(*) FROM evaluations e WHERE e.state IN ('final','published') \
         AND e.grade IS NOT NULL AND ",
    );
    q.region_range("e.region_code", within);
    q.push(" GROUP BY e.grade");
    let graded: BTreeMap<String, i64> = q
        .fetch_all::<(String, i64)>(conn)
        .await?
        .into_iter()
        .collect();
    Ok((rows, rectifications, graded))
}

/// The summary of `region` for a purchaser whose scope contains it; an organisation's scope
/// (agency, evaluator) has no region summary (`NotFound`).
pub async fn summary(
    conn: &mut AnyConnection,
    scope: &Scope,
    region: &str,
    today: NaiveDate,
) -> StoreResult<Summary> {
    if scope.org.is_some() || !scope.contains_region(region) {
        return Err(StoreError::NotFound);
    }
    let here = regions::get(conn, scope, region).await?;
    let children = regions::children(conn, scope, Some(region)).await?;
    let within = Scope::region(
        shegong_domain::RegionCode::parse(region)
            .map_err(|e| StoreError::Db(sqlx::Error::Decode(e.code.into())))?,
    );
    let (rows, rectifications, graded) = read(conn, &within, &date_text(today)).await?;

    // The child a region code falls under (or the region itself, for contracts filed there).
    let child_of = |code: &str| -> String {
        children
            .iter()
            .find(|c| code.starts_with(c.code.as_str()))
            .map(|c| c.code.clone())
            .unwrap_or_else(|| region.to_owned())
    };
    let mut per_child: BTreeMap<String, Figures> = BTreeMap::new();
    let mut total = Figures::default();
    let mut by_state: BTreeMap<String, (i64, Fen)> = BTreeMap::new();
    let mut by_source: BTreeMap<String, Fen> = BTreeMap::new();
    let mut by_field: BTreeMap<String, (i64, Fen)> = BTreeMap::new();
    for r in &rows {
        total.add(r);
        per_child.entry(child_of(&r.1)).or_default().add(r);
        let s = by_state.entry(r.2.clone()).or_default();
        *s = (s.0 + 1, Fen(s.1.0.saturating_add(r.3)));
        let field = r.4.clone().unwrap_or_else(|| "unassigned".to_owned());
        let f = by_field.entry(field).or_default();
        *f = (f.0 + 1, Fen(f.1.0.saturating_add(r.3)));
        match &r.5 {
            Some(shares) => {
                let shares = stored(CostShares::new(from_json::<Vec<CostShare>>(shares)?))?;
                for (level, part) in shares.split(Fen(r.3)) {
                    let e = by_source.entry(level.to_string()).or_default();
                    *e = Fen(e.0.saturating_add(part.0));
                }
            }
            None => {
                let e = by_source.entry("unassigned".to_owned()).or_default();
                *e = Fen(e.0.saturating_add(r.3));
            }
        }
    }
    for (code, n) in rectifications {
        total.overdue_rectifications += n;
        per_child
            .entry(child_of(&code))
            .or_default()
            .overdue_rectifications += n;
    }
    let mut child_rows: Vec<ChildFigures> = children
        .iter()
        .map(|c| ChildFigures {
            code: c.code.clone(),
            name: c.name.clone(),
            figures: per_child.remove(&c.code).unwrap_or_default(),
        })
        .collect();
    if let Some(own) = per_child.remove(region) {
        child_rows.insert(
            0,
            ChildFigures {
                code: region.to_owned(),
                name: here.name.clone(),
                figures: own,
            },
        );
    }
    use shegong_domain::purchase::contract::ContractState;
    Ok(Summary {
        region_code: here.code.clone(),
        region_name: here.name.clone(),
        total,
        by_state: ContractState::ALL
            .iter()
            .filter_map(|s| {
                by_state
                    .get(s.as_str())
                    .map(|(n, a)| (s.as_str().to_owned(), *n, *a))
            })
            .collect(),
        by_source: by_source.into_iter().collect(),
        by_field: by_field.into_iter().map(|(k, (n, a))| (k, n, a)).collect(),
        grades: ["excellent", "good", "pass", "fail"]
            .iter()
            .map(|g| ((*g).to_owned(), graded.get(*g).copied().unwrap_or(0)))
            .collect(),
        children: child_rows,
    })
}
