//! Demo data of the contracts' execution: every station contract has spent against its budget
//! month by month since its term began — salaries (one month behind on every other contract),
//! activity materials, supervision and training — and 芦淞区's also has an activity expense
//! entered twice and voided with the reason, and the posts it buys (岗位购买) held by the
//! provider's own staff: the heads of its first two stations, and a station's other workers in
//! that station's post. Written through the store, as in use; deterministic.

use anyhow::Context;
use chrono::{Days, Months, NaiveDate};
use shegong_domain::Scope;
use shegong_domain::money::Fen;
use shegong_domain::purchase::contract::{BudgetCategory, Term};
use shegong_domain::purchase::execution::{Expense, Position};
use shegong_store::purchase::contracts::{self, ContractInput};
use shegong_store::purchase::execution;
use shegong_store::workforce::staff::{self, Filter};
use shegong_store::{Conn, PageRequest};

/// Who seeded a row.
const BY: &str = "demo";

/// What a contract's budget pays each month or once: the line, the month of the term (0 = its
/// first), what for, and the amount for one station in fen.
type Spending = (BudgetCategory, u32, &'static str, i64);

/// Activities, supervision and training of one station's year so far.
const SPENDING: &[Spending] = &[
    (
        BudgetCategory::Activities,
        1,
        "社区主题活动物资采购",
        320_000,
    ),
    (
        BudgetCategory::SupervisionTraining,
        2,
        "项目首季度外聘督导费",
        300_000,
    ),
    (
        BudgetCategory::Activities,
        3,
        "“一老一小”支持小组活动材料",
        285_050,
    ),
    (
        BudgetCategory::Activities,
        4,
        "重阳节敬老活动场地布置与物资",
        460_000,
    ),
    (
        BudgetCategory::SupervisionTraining,
        4,
        "社工继续教育培训费",
        180_000,
    ),
];

/// The reason the duplicated expense was voided.
const VOID_REASON: &str = "重复录入：与同月活动物资采购为同一张发票";

/// The 25th of month `month` of the term.
fn day_of(term: Term, month: u32) -> anyhow::Result<NaiveDate> {
    term.start()
        .checked_add_months(Months::new(month))
        .and_then(|d| d.checked_add_days(Days::new(24)))
        .context("expense date")
}

/// The voucher number of the `k`th entry of a contract's books in the month of `on`.
fn voucher(on: NaiveDate, k: usize) -> String {
    format!("记-{}-{k:02}", on.format("%Y%m"))
}

/// The expenses of the `n`th contract `id` (as `input` made it), past months only; with the
/// voided duplicate when `voided`.
pub async fn seed_expenses(
    conn: &mut Conn,
    id: &str,
    input: &ContractInput,
    n: usize,
    today: NaiveDate,
    voided: bool,
    now: i64,
) -> anyhow::Result<()> {
    let all = Scope::national();
    let lines: Vec<(BudgetCategory, i64)> = contracts::detail(conn, &all, id)
        .await?
        .budget
        .iter()
        .map(|b| (b.line.category, b.seq))
        .collect();
    let mut duplicate = None;
    let mut per_month = [0usize; 12];
    for (category, month, description, fen) in entries(input, n) {
        let on = day_of(input.term, month)?;
        if on > today {
            continue;
        }
        let k = per_month
            .get_mut(month as usize)
            .context("month of the term")?;
        *k += 1;
        let expense = Expense {
            budget_seq: lines
                .iter()
                .find(|(c, _)| *c == category)
                .map(|(_, seq)| *seq)
                .with_context(|| format!("budget line {category}"))?,
            spent_on: on,
            amount: Fen(fen),
            description,
            voucher: voucher(on, *k),
        };
        execution::record_expense(conn, &all, id, &expense, BY, now, today).await?;
        if voided && duplicate.is_none() && category == BudgetCategory::Activities {
            duplicate = Some(expense);
        }
    }
    if let Some(twice) = duplicate {
        // The same invoice entered a second time, then voided.
        let again = execution::record_expense(conn, &all, id, &twice, BY, now, today).await?;
        execution::void_expense(conn, &all, id, &again, VOID_REASON, BY, now).await?;
    }
    Ok(())
}

/// The entries of the `n`th contract's books in the order of the term's months: (line, month,
/// what for, fen).
fn entries(input: &ContractInput, n: usize) -> Vec<(BudgetCategory, u32, String, i64)> {
    let stations = i64::try_from(input.stations.len()).unwrap_or(1);
    // A month's salaries: a twelfth of the personnel budget (65 %), in whole yuan.
    let salaries = input.amount.0 * 65 / 100 / 12 / 100 * 100;
    // Every other contract's last month is not reimbursed yet.
    let months = if n.is_multiple_of(2) { 6 } else { 5 };
    let mut out: Vec<(BudgetCategory, u32, String, i64)> = (0..months)
        .map(|m| {
            let month = input
                .term
                .start()
                .checked_add_months(Months::new(m))
                .map(|d| d.format("%-m").to_string())
                .unwrap_or_default();
            let what = format!("{month}月驻站社工工资及社会保险");
            (BudgetCategory::Personnel, m, what, salaries)
        })
        .collect();
    out.extend(
        SPENDING
            .iter()
            .map(|(c, m, what, fen)| (*c, *m, (*what).to_owned(), fen * stations)),
    );
    // Stable: within a month, salaries first.
    out.sort_by_key(|e| e.1);
    out
}

/// The active staff of `provider` at `station` with `role` (any role when `None`), by name.
async fn staff_at(
    conn: &mut Conn,
    provider: &str,
    station: &str,
    role: Option<&str>,
) -> anyhow::Result<Vec<String>> {
    let filter = Filter {
        station: Some(station.to_owned()),
        employer: Some(provider.to_owned()),
        status: Some("active".into()),
        role: role.map(str::to_owned),
        sort: shegong_store::Sort::parse(Some("name"), staff::SORTS),
        ..Filter::default()
    };
    let page = PageRequest::new(Some(1), Some(100));
    Ok(staff::list(conn, &Scope::national(), &filter, page)
        .await?
        .items
        .into_iter()
        .map(|s| s.id)
        .collect())
}

/// The posts contract `id` buys: 站长 for its first two stations (held by their heads) and two
/// 驻站社工 at the first station with other workers (held by them, one place left vacant when
/// there is one worker), from the term's start.
pub async fn seed_positions(
    conn: &mut Conn,
    id: &str,
    provider: &str,
    stations: &[String],
    term: Term,
    now: i64,
) -> anyhow::Result<()> {
    let all = Scope::national();
    let mut heads = Vec::new();
    for station in stations.iter().take(2) {
        heads.extend(staff_at(conn, provider, station, Some("station_head")).await?);
    }
    anyhow::ensure!(
        !heads.is_empty(),
        "the demo provider's stations have no head"
    );
    let mut workers = (
        stations.first().context("contract stations")?.clone(),
        vec![],
    );
    for station in stations {
        let others: Vec<String> = staff_at(conn, provider, station, None)
            .await?
            .into_iter()
            .filter(|s| !heads.contains(s))
            .take(2)
            .collect();
        if !others.is_empty() {
            workers = (station.clone(), others);
            break;
        }
    }
    let posts = [
        (
            Position {
                title: "社工站站长".into(),
                station_id: None,
                headcount: i64::try_from(heads.len())?,
                monthly: Fen(680_000),
            },
            heads,
        ),
        (
            Position {
                title: "驻站社工".into(),
                station_id: Some(workers.0),
                headcount: 2,
                monthly: Fen(580_000),
            },
            workers.1,
        ),
    ];
    for (post, holders) in posts {
        let seq = execution::add_position(conn, &all, id, &post, now).await?;
        for person in holders {
            execution::fill_position(conn, &all, id, seq, &person, term.start(), now).await?;
        }
    }
    Ok(())
}
