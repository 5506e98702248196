//! Maintained aggregates. Every write that changes a figure hands its change to `apply` in
//! the same transaction, as a delta at the record's own region; `apply` spreads it to every
//! ancestor (and '' for the country). On SQLite the counters are updated in place (there is one
//! writer); on PostgreSQL each transaction appends delta rows (no row is shared between
//! concurrent writers) that `fold` moves into the counters every few seconds. Reads add the
//! deltas not yet folded, so a figure is exact as soon as its write commits, and costs the same
//! to read whatever the size of the raw tables.
//!
//! What is counted:
//! - services by month × `kind`, `domain` and `station`: records, person-times, minutes, value;
//! - active residents (month '') by `tier`, by `category` (memberships without an end date), by
//!   next visit `due` date, and those in elderly categories or 特困 by the month of their last
//!   visit (`elderly_visit`, `never` if none): overdue visits and the month's visit rate without
//!   reading the residents;
//! - active staff (month '') by `staff_role` and by highest certificate (`staff_cert`);
//! - station funding by year (in the month column, `YYYY`) × source: stations funded, amount;
//! - active volunteers (month '') by star level (`0`–`5`, from their recorded hours), and
//!   recorded volunteer hours by month × `recorded`: records, minutes (at the activity's region);
//! - community charity by month × `money` / `goods` donated (by the day received) and `paid`
//!   disbursements (by the day paid): how many, value;
//! - the time bank: entries by month (the CST day posted) × kind (`timebank_flow`; a reversal
//!   as `reversal_<kind reversed>`): entries, and the credits moved in the `minutes` column (a
//!   credit is the scheme's unit of time, never money), at the scheme's region; and (month '')
//!   person, group and pool accounts by kind (`timebank_balance`): accounts open, credits held
//!   in `minutes`, at the account's region;
//! - 急难愁盼 issues by month (`issues`): `raised_<colour>` by the day raised, `answered` and `on_time`
//!   (answered by the due time) by the day answered — an unsatisfied rating takes the answer back.
//!
//! `verify` recomputes everything from raw rows and lists differences; `rebuild` repairs.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use shegong_domain::{RegionCode, Scope};
use sqlx::AnyConnection;

use crate::sql::Sql;
use crate::{Db, StoreResult};

/// Whether resident `r` holds a current elderly category or 特困 (the monthly visit rate's
/// people). A macro so that statements using it stay fixed text (`concat!`).
macro_rules! elderly {
    () => {
        "EXISTS (SELECT 1 FROM resident_memberships m JOIN resident_categories c ON c.code = m.category \
         WHERE m.resident_id = r.id AND m.valid_to IS NULL AND (c.grp = 'elderly' OR m.category = 'tekun'))"
    };
}

/// Staff member `p`'s highest certificate as a rank 1–3 (NULL: none); a macro for `concat!`.
macro_rules! cert_rank {
    () => {
        "(SELECT MAX(CASE c.level WHEN 'senior' THEN 3 WHEN 'intermediate' THEN 2 ELSE 1 END) FROM certificates c WHERE c.staff_id = p.id)"
    };
}

/// What a counter counts by (its `dim` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dim {
    /// Services by month and kind of service.
    Kind,
    /// Services by month and service domain.
    Domain,
    /// Services by month and station (the key is the station's id).
    Station,
    /// Active residents by risk tier.
    Tier,
    /// Active residents by current category.
    Category,
    /// Active residents by next visit due date.
    Due,
    /// Active elderly and 特困 residents by the month of their last visit (`never`).
    ElderlyVisit,
    /// Active staff by position.
    StaffRole,
    /// Active staff by highest certificate (`none`).
    StaffCert,
    /// Station funding by year (in the month column) and source.
    Funding,
    /// Active volunteers by star level.
    VolunteerStars,
    /// Recorded volunteer hours by month (key `recorded`).
    VolunteerHours,
    /// Community charity by month: donations (`money`, `goods`) and paid disbursements (`paid`).
    Charity,
    /// Time-bank entries by month and kind (credits moved in `minutes`).
    TimebankFlow,
    /// Time-bank person, group and pool accounts by kind (credits held in `minutes`).
    TimebankBalance,
    /// Community issues by month: raised by colour, answered, answered on time.
    Issues,
}

impl Dim {
    pub const ALL: [Dim; 16] = [
        Dim::Kind,
        Dim::Domain,
        Dim::Station,
        Dim::Tier,
        Dim::Category,
        Dim::Due,
        Dim::ElderlyVisit,
        Dim::StaffRole,
        Dim::StaffCert,
        Dim::Funding,
        Dim::VolunteerStars,
        Dim::VolunteerHours,
        Dim::Charity,
        Dim::TimebankFlow,
        Dim::TimebankBalance,
        Dim::Issues,
    ];

    /// The name stored in the `dim` column and used in the open-data API (`by=`).
    pub fn as_str(self) -> &'static str {
        match self {
            Dim::Kind => "kind",
            Dim::Domain => "domain",
            Dim::Station => "station",
            Dim::Tier => "tier",
            Dim::Category => "category",
            Dim::Due => "due",
            Dim::ElderlyVisit => "elderly_visit",
            Dim::StaffRole => "staff_role",
            Dim::StaffCert => "staff_cert",
            Dim::Funding => "funding",
            Dim::VolunteerStars => "volunteer_stars",
            Dim::VolunteerHours => "volunteer_hours",
            Dim::Charity => "charity",
            Dim::TimebankFlow => "timebank_flow",
            Dim::TimebankBalance => "timebank_balance",
            Dim::Issues => "issues",
        }
    }

    pub fn parse(name: &str) -> Option<Dim> {
        Dim::ALL.into_iter().find(|d| d.as_str() == name)
    }
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The address of one counter.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Key {
    pub region_code: String,
    pub month: String,
    pub dim: Dim,
    pub key: String,
}

/// The counted values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Values {
    pub n: i64,
    pub person_times: i64,
    pub minutes: i64,
    pub value_fen: i64,
}

impl Values {
    pub fn one() -> Self {
        Values {
            n: 1,
            ..Default::default()
        }
    }

    fn add(&mut self, o: Values, sign: i64) {
        self.n += sign * o.n;
        self.person_times += sign * o.person_times;
        self.minutes += sign * o.minutes;
        self.value_fen += sign * o.value_fen;
    }

    fn is_zero(&self) -> bool {
        *self == Values::default()
    }
}

/// A set of changes, summed per counter before it is written.
#[derive(Debug, Default)]
pub struct Changes(BTreeMap<Key, Values>);

impl Changes {
    /// Add `v` (or subtract, with `sign` -1) at `region` and every region above it.
    pub fn add(&mut self, region: &str, month: &str, dim: Dim, key: &str, v: Values, sign: i64) {
        let mut codes = vec![String::new()];
        if let Ok(c) = RegionCode::parse(region) {
            codes.extend(c.lineage().into_iter().map(|c| c.to_string()));
        }
        for code in codes {
            let k = Key {
                region_code: code,
                month: month.to_owned(),
                dim,
                key: key.to_owned(),
            };
            self.0.entry(k).or_default().add(v, sign);
        }
    }

    /// `other` added to these changes.
    pub fn merge(&mut self, other: Changes) {
        for (k, v) in other.0 {
            self.0.entry(k).or_default().add(v, 1);
        }
    }

    /// `other` taken away from these changes.
    pub fn subtract(&mut self, other: &Changes) {
        for (k, v) in &other.0 {
            self.0.entry(k.clone()).or_default().add(*v, -1);
        }
    }
}

fn is_postgres(conn: &AnyConnection) -> bool {
    conn.backend_name() == "PostgreSQL"
}

/// Write `changes` (in the caller's transaction).
pub async fn apply(conn: &mut AnyConnection, changes: Changes) -> StoreResult<()> {
    let rows: Vec<(Key, Values)> = changes
        .0
        .into_iter()
        .filter(|(_, v)| !v.is_zero())
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    // PostgreSQL appends deltas (folded later, so concurrent writers never wait on a counter
    // row); SQLite has one writer and adds to the counters at once.
    let postgres = is_postgres(conn);
    for chunk in rows.chunks(COUNTER_ROWS) {
        let mut q = Sql::new(if postgres {
            "INSERT INTO stat_deltas (region_code, month, dim, key, n, person_times, minutes, value_fen) VALUES "
        } else {
            "INSERT INTO stat_counts (region_code, month, dim, key, n, person_times, minutes, value_fen) VALUES "
        });
        for (i, (k, v)) in chunk.iter().enumerate() {
            q.push(if i == 0 { "(" } else { ", (" });
            push_row(&mut q, k, v);
        }
        if !postgres {
            // Keys are unique within `changes`, so no row meets its own insert here.
            q.push(
                " ON CONFLICT (region_code, month, dim, key) DO UPDATE SET n = stat_counts.n + excluded.n, \
                 person_times = stat_counts.person_times + excluded.person_times, minutes = stat_counts.minutes + excluded.minutes, \
                 value_fen = stat_counts.value_fen + excluded.value_fen",
            );
        }
        q.execute(conn).await?;
    }
    Ok(())
}

/// Counter rows per statement (8 parameters each).
const COUNTER_ROWS: usize = 500;

fn push_row(q: &mut Sql, k: &Key, v: &Values) {
    q.bind(k.region_code.clone())
        .push(", ")
        .bind(k.month.clone())
        .push(", ")
        .bind(k.dim.as_str())
        .push(", ")
        .bind(k.key.clone())
        .push(", ")
        .bind(v.n)
        .push(", ")
        .bind(v.person_times)
        .push(", ")
        .bind(v.minutes)
        .push(", ")
        .bind(v.value_fen)
        .push(")");
}

/// Move pending deltas into the counters (PostgreSQL; a no-op on SQLite). Returns rows folded.
pub async fn fold(db: &Db) -> StoreResult<u64> {
    let mut tx = db.begin().await?;
    if !is_postgres(&tx) {
        return Ok(0);
    }
    let n = fold_in(&mut tx).await?;
    tx.commit().await?;
    Ok(n)
}

/// `fold` on a connection of the caller's (the fold leader's, which holds its lock on it).
pub async fn fold_on(conn: &mut sqlx::AnyConnection) -> StoreResult<u64> {
    use sqlx::Connection;
    let mut tx = conn.begin().await?;
    if !is_postgres(&tx) {
        return Ok(0);
    }
    let n = fold_in(&mut tx).await?;
    tx.commit().await?;
    Ok(n)
}

async fn fold_in(tx: &mut sqlx::AnyConnection) -> StoreResult<u64> {
    // One statement: the deleted deltas are summed into the counters. Concurrent folders never
    // fold a row twice (a row is deleted by one transaction only). The oldest rows are taken as
    // a range up to the 100,000th sequence number, computed once: `seq IN (subquery)` was
    // planned as a nested loop comparing every pair when the table's statistics still said
    // "empty" (right after a big import), which took minutes for 200,000 deltas.
    Sql::new(
        "WITH moved AS (DELETE FROM stat_deltas WHERE seq <= (SELECT MAX(seq) FROM (SELECT seq FROM stat_deltas ORDER BY seq LIMIT 100000) oldest) \
           RETURNING region_code, month, dim, key, n, person_times, minutes, value_fen) \
         INSERT INTO stat_counts (region_code, month, dim, key, n, person_times, minutes, value_fen) \
         SELECT region_code, month, dim, key, SUM(n), SUM(person_times), SUM(minutes), SUM(value_fen) FROM moved \
         GROUP BY region_code, month, dim, key \
         ON CONFLICT (region_code, month, dim, key) DO UPDATE SET n = stat_counts.n + EXCLUDED.n, \
           person_times = stat_counts.person_times + EXCLUDED.person_times, minutes = stat_counts.minutes + EXCLUDED.minutes, \
           value_fen = stat_counts.value_fen + EXCLUDED.value_fen",
    )
    .execute(tx)
    .await
}

/// One row of a read: the key within the dimension (and the region or month it is for).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Row {
    pub region_code: String,
    pub month: String,
    pub key: String,
    pub n: i64,
    pub person_times: i64,
    pub minutes: i64,
    pub value_fen: i64,
}

/// Which regions a read covers.
pub enum Regions<'a> {
    /// Exactly this one ('' for the country).
    One(&'a str),
    /// The children of this one (one level down; `Scope` limits what the caller may see).
    ChildrenOf(&'a str),
}

/// ` WHERE LENGTH(region_code) = <len> AND `, the length a literal (a level's length, never
/// caller text) so that the planner matches the `stat_counts_read` index; a length no region
/// code has matches nothing.
fn where_length(len: usize) -> &'static str {
    match len {
        0 => " WHERE LENGTH(region_code) = 0 AND ",
        2 => " WHERE LENGTH(region_code) = 2 AND ",
        4 => " WHERE LENGTH(region_code) = 4 AND ",
        6 => " WHERE LENGTH(region_code) = 6 AND ",
        9 => " WHERE LENGTH(region_code) = 9 AND ",
        12 => " WHERE LENGTH(region_code) = 12 AND ",
        _ => " WHERE LENGTH(region_code) = -1 AND ",
    }
}

/// Counters of `dim` for the regions given, months `from..=to` (use "" and "" for the
/// month-less counters of people served). `scope` is the reader's: a region
/// outside it reads as not found. The public portal passes the national scope: its figures are
/// public aggregates (with small cells suppressed).
pub async fn read(
    conn: &mut AnyConnection,
    scope: &Scope,
    regions: Regions<'_>,
    dim: Dim,
    from: &str,
    to: &str,
) -> StoreResult<Vec<Row>> {
    Ok(read_each(conn, scope, regions, &[(dim, from, to)])
        .await?
        .pop()
        .unwrap_or_default())
}

/// Several [`read`]s of the same regions in one statement (a dashboard reads a dozen
/// dimensions: one round trip instead of a dozen): each `(dim, from, to)`'s rows, in that order.
pub async fn read_each(
    conn: &mut AnyConnection,
    scope: &Scope,
    regions: Regions<'_>,
    reads: &[(Dim, &str, &str)],
) -> StoreResult<Vec<Vec<Row>>> {
    let (Regions::One(code) | Regions::ChildrenOf(code)) = regions;
    if !scope.contains_region(code) {
        return Err(crate::StoreError::NotFound);
    }
    // The same region, dimension and month filter on the counters and on the pending deltas.
    // The code's length is a literal (a level's length, never caller text) so that the planner
    // matches the `stat_counts_read` index on (dim, LENGTH(region_code), region_code, month).
    let filter = |q: &mut Sql, (dim, from, to): &(Dim, &str, &str)| {
        match &regions {
            Regions::One(code) => {
                q.push(where_length(code.len()))
                    .push("region_code = ")
                    .bind(code.to_string());
            }
            Regions::ChildrenOf(code) => {
                let child_len = match RegionCode::parse(code) {
                    Ok(c) => c.level().child().map_or(99, |l| l.code_len()),
                    Err(_) => 2,
                };
                q.push(where_length(child_len));
                q.region_range(
                    "region_code",
                    &Scope {
                        region: RegionCode::parse(code).ok(),
                        org: None,
                    },
                );
            }
        }
        q.push(" AND dim = ")
            .bind(dim.as_str())
            .push(" AND month >= ")
            .bind((*from).to_owned())
            .push(" AND month <= ")
            .bind((*to).to_owned());
    };
    // One branch per read, tagged with its place; each branch is the index range a single read
    // is, and the rows are put in order here rather than by sorting the whole union.
    let mut q = Sql::new("");
    for (i, read) in reads.iter().enumerate() {
        if i > 0 {
            q.push(" UNION ALL ");
        }
        q.push("SELECT CAST(")
            .bind(i as i64)
            .push(" AS BIGINT) AS part, ");
        if !is_postgres(conn) {
            // SQLite has no pending deltas (its writes update the counters in place).
            q.push("region_code, month, key, n, person_times, minutes, value_fen FROM stat_counts");
            filter(&mut q, read);
            q.push(" AND (n <> 0 OR person_times <> 0)");
        } else {
            q.push(
                "region_code, month, key, CAST(SUM(n) AS BIGINT), CAST(SUM(person_times) AS BIGINT), CAST(SUM(minutes) AS BIGINT), CAST(SUM(value_fen) AS BIGINT) \
                 FROM (SELECT region_code, month, key, n, person_times, minutes, value_fen FROM stat_counts",
            );
            filter(&mut q, read);
            q.push(" UNION ALL SELECT region_code, month, key, n, person_times, minutes, value_fen FROM stat_deltas");
            filter(&mut q, read);
            q.push(
                ") t GROUP BY region_code, month, key HAVING SUM(n) <> 0 OR SUM(person_times) <> 0",
            );
        }
    }
    let mut out: Vec<Vec<Row>> = reads.iter().map(|_| Vec::new()).collect();
    if reads.is_empty() {
        return Ok(out);
    }
    type Tagged = (i64, String, String, String, i64, i64, i64, i64);
    for (part, region_code, month, key, n, person_times, minutes, value_fen) in
        q.fetch_all::<Tagged>(conn).await?
    {
        if let Some(rows) = usize::try_from(part).ok().and_then(|p| out.get_mut(p)) {
            rows.push(Row {
                region_code,
                month,
                key,
                n,
                person_times,
                minutes,
                value_fen,
            });
        }
    }
    for rows in &mut out {
        rows.sort_by(|a, b| {
            (&a.region_code, &a.month, &a.key).cmp(&(&b.region_code, &b.month, &b.key))
        });
    }
    Ok(out)
}

// ---- recomputation ----

/// Everything the counters should hold, computed from the raw rows.
async fn recompute(conn: &mut AnyConnection) -> StoreResult<Changes> {
    let mut c = Changes::default();
    recompute_services(conn, &mut c).await?;
    recompute_residents(conn, &mut c).await?;
    recompute_workforce(conn, &mut c).await?;
    recompute_volunteers(conn, &mut c, None).await?;
    recompute_charity(conn, &mut c).await?;
    recompute_timebank(conn, &mut c).await?;
    recompute_issues(conn, &mut c).await?;
    Ok(c)
}

/// Issues raised by month and colour; answered, and answered on time, by the month answered.
async fn recompute_issues(conn: &mut AnyConnection, c: &mut Changes) -> StoreResult<()> {
    let rows: Vec<(String, String, String, i64)> = Sql::new(
        "SELECT region_code, SUBSTR(raised_on, 1, 7) AS month, 'raised_' || colour AS key, COUNT(*) FROM community_issues \
         GROUP BY region_code, month, key \
         UNION ALL SELECT region_code, SUBSTR(answered_on, 1, 7) AS month, 'answered', COUNT(*) FROM community_issues \
         WHERE answered_on IS NOT NULL GROUP BY region_code, month \
         UNION ALL SELECT region_code, SUBSTR(answered_on, 1, 7) AS month, 'on_time', COUNT(*) FROM community_issues \
         WHERE answered_on IS NOT NULL AND answered_at <= due_at GROUP BY region_code, month",
    )
    .fetch_all(conn)
    .await?;
    for (region, month, key, n) in rows {
        c.add(&region, &month, Dim::Issues, &key, count(n), 1);
    }
    Ok(())
}

/// Count an issue's change at `region` on `day` (`YYYY-MM-DD`): `key` one up, or down with -1.
pub async fn issue(
    conn: &mut AnyConnection,
    region: &str,
    day: &str,
    keys: &[&str],
    sign: i64,
) -> StoreResult<()> {
    let mut c = Changes::default();
    for key in keys {
        c.add(
            region,
            day.get(..7).unwrap_or(day),
            Dim::Issues,
            key,
            Values::one(),
            sign,
        );
    }
    apply(conn, c).await
}

/// The account kinds whose balances are counted: what people, groups and the donation pool hold
/// (the issuer's and settlement accounts mirror them).
const HELD: [&str; 3] = ["person", "group", "pool"];

/// Time-bank entries by month and kind; person, group and pool accounts and their balances.
async fn recompute_timebank(conn: &mut AnyConnection, c: &mut Changes) -> StoreResult<()> {
    // An entry moves the largest amount among its legs (every leg of an entry is ± one amount).
    let flows: Vec<(String, String, String, i64, i64)> = Sql::new(
        "SELECT s.region_code, SUBSTR(e.posted_on, 1, 7) AS month, \
           CASE WHEN o.kind IS NULL THEN e.kind ELSE 'reversal_' || o.kind END AS flow, COUNT(*), CAST(SUM(m.moved) AS BIGINT) \
         FROM timebank_entries e JOIN timebank_schemes s ON s.id = e.scheme_id \
         LEFT JOIN timebank_entries o ON o.id = e.reverses_id \
         JOIN (SELECT entry_id, MAX(ABS(amount)) AS moved FROM timebank_postings GROUP BY entry_id) m ON m.entry_id = e.id \
         GROUP BY s.region_code, month, flow",
    )
    .fetch_all(conn)
    .await?;
    for (region, month, kind, n, credits) in flows {
        c.add(
            &region,
            &month,
            Dim::TimebankFlow,
            &kind,
            credits_of(n, credits),
            1,
        );
    }
    let held: Vec<(String, String, i64, i64)> = Sql::new(
        "SELECT region_code, kind, COUNT(*), CAST(SUM(balance) AS BIGINT) FROM timebank_accounts \
         WHERE kind IN ('person', 'group', 'pool') GROUP BY region_code, kind",
    )
    .fetch_all(conn)
    .await?;
    for (region, kind, n, credits) in held {
        c.add(
            &region,
            "",
            Dim::TimebankBalance,
            &kind,
            credits_of(n, credits),
            1,
        );
    }
    Ok(())
}

fn credits_of(n: i64, credits: i64) -> Values {
    Values {
        n,
        minutes: credits,
        ..Default::default()
    }
}

/// Count a time-bank account opened at `region` (person, group and pool accounts only).
pub async fn timebank_account(
    conn: &mut AnyConnection,
    region: &str,
    kind: &str,
) -> StoreResult<()> {
    if !HELD.contains(&kind) {
        return Ok(());
    }
    let mut c = Changes::default();
    c.add(region, "", Dim::TimebankBalance, kind, Values::one(), 1);
    apply(conn, c).await
}

/// One posted time-bank entry: its scheme's region, the CST day, its kind, and its legs as
/// (account region, account kind, amount).
pub struct TimebankEntry<'a> {
    pub region: &'a str,
    pub day: &'a str,
    pub kind: &'a str,
    pub legs: &'a [(String, String, i64)],
}

/// Count a posted entry: the flow, and the change to every person, group and pool balance.
pub async fn timebank_entry(conn: &mut AnyConnection, e: &TimebankEntry<'_>) -> StoreResult<()> {
    let mut c = Changes::default();
    let moved = e.legs.iter().map(|l| l.2.abs()).max().unwrap_or(0);
    let month = e.day.get(..7).unwrap_or(e.day);
    c.add(
        e.region,
        month,
        Dim::TimebankFlow,
        e.kind,
        credits_of(1, moved),
        1,
    );
    for (region, kind, amount) in e.legs {
        if HELD.contains(&kind.as_str()) {
            c.add(
                region,
                "",
                Dim::TimebankBalance,
                kind,
                credits_of(0, *amount),
                1,
            );
        }
    }
    apply(conn, c).await
}

/// Donations by month and kind, paid disbursements by month.
async fn recompute_charity(conn: &mut AnyConnection, c: &mut Changes) -> StoreResult<()> {
    let rows: Vec<(String, String, String, i64, i64)> = Sql::new(
        "SELECT region_code, SUBSTR(received_on, 1, 7) AS month, kind, COUNT(*), CAST(SUM(amount_fen) AS BIGINT) \
         FROM charity_donations GROUP BY region_code, month, kind \
         UNION ALL SELECT region_code, SUBSTR(paid_on, 1, 7) AS month, 'paid', COUNT(*), CAST(SUM(amount_fen) AS BIGINT) \
         FROM charity_disbursements WHERE state = 'paid' GROUP BY region_code, month",
    )
    .fetch_all(conn)
    .await?;
    for (region, month, key, n, fen) in rows {
        c.add(&region, &month, Dim::Charity, &key, funding(n, fen), 1);
    }
    Ok(())
}

/// Count one donation or paid disbursement of `fen` at `region` on `day` (`YYYY-MM-DD`).
pub async fn charity(
    conn: &mut AnyConnection,
    region: &str,
    day: &str,
    key: &str,
    fen: i64,
) -> StoreResult<()> {
    let mut c = Changes::default();
    c.add(
        region,
        day.get(..7).unwrap_or(day),
        Dim::Charity,
        key,
        funding(1, fen),
        1,
    );
    apply(conn, c).await
}

/// A volunteer's star level (0–5) from their recorded minutes; a macro for `concat!`.
macro_rules! star_level {
    () => {
        "CASE WHEN v.recorded_minutes >= 90000 THEN '5' WHEN v.recorded_minutes >= 60000 THEN '4' \
         WHEN v.recorded_minutes >= 36000 THEN '3' WHEN v.recorded_minutes >= 18000 THEN '2' \
         WHEN v.recorded_minutes >= 6000 THEN '1' ELSE '0' END"
    };
}

/// Active volunteers by star level and recorded hours by month: everyone's, or one volunteer's.
async fn recompute_volunteers(
    conn: &mut AnyConnection,
    c: &mut Changes,
    one: Option<&str>,
) -> StoreResult<()> {
    let mut q = Sql::new(concat!(
        "SELECT v.region_code, ",
        star_level!(),
        " AS star, COUNT(*) FROM volunteers v WHERE v.status = 'active'"
    ));
    if let Some(id) = one {
        q.push(" AND v.id = ").bind(id);
    }
    q.push(" GROUP BY v.region_code, star");
    let stars: Vec<(String, String, i64)> = q.fetch_all(conn).await?;
    for (region, star, n) in stars {
        c.add(&region, "", Dim::VolunteerStars, &star, count(n), 1);
    }
    let mut q = Sql::new(
        "SELECT h.region_code, SUBSTR(h.served_on, 1, 7) AS month, COUNT(*), CAST(SUM(h.minutes) AS BIGINT) \
         FROM volunteer_hours h WHERE h.state = 'recorded'",
    );
    if let Some(id) = one {
        q.push(" AND h.volunteer_id = ").bind(id);
    }
    q.push(" GROUP BY h.region_code, month");
    let hours: Vec<(String, String, i64, i64)> = q.fetch_all(conn).await?;
    for (region, month, n, minutes) in hours {
        let v = Values {
            n,
            minutes,
            ..Default::default()
        };
        c.add(&region, &month, Dim::VolunteerHours, "recorded", v, 1);
    }
    Ok(())
}

/// Services by month × kind, domain and station.
async fn recompute_services(conn: &mut AnyConnection, c: &mut Changes) -> StoreResult<()> {
    #[derive(sqlx::FromRow)]
    struct S {
        region_code: String,
        month: String,
        kind: String,
        domain: String,
        station_id: Option<String>,
        n: i64,
        person_times: i64,
        minutes: i64,
        value_fen: i64,
    }
    let rows: Vec<S> = Sql::new(
        "SELECT region_code, SUBSTR(served_on, 1, 7) AS month, kind, domain, station_id, COUNT(*) AS n, CAST(SUM(person_times) AS BIGINT) AS person_times, \
         CAST(SUM(duration_minutes) AS BIGINT) AS minutes, CAST(SUM(value_fen) AS BIGINT) AS value_fen FROM services GROUP BY region_code, SUBSTR(served_on, 1, 7), kind, domain, station_id",
    )
    .fetch_all(conn)
    .await?;
    for r in rows {
        let v = Values {
            n: r.n,
            person_times: r.person_times,
            minutes: r.minutes,
            value_fen: r.value_fen,
        };
        c.add(&r.region_code, &r.month, Dim::Kind, &r.kind, v, 1);
        c.add(&r.region_code, &r.month, Dim::Domain, &r.domain, v, 1);
        if let Some(s) = &r.station_id {
            c.add(&r.region_code, &r.month, Dim::Station, s, v, 1);
        }
    }
    Ok(())
}

/// Active residents by tier, category, visit due date and last elderly visit.
async fn recompute_residents(conn: &mut AnyConnection, c: &mut Changes) -> StoreResult<()> {
    let tiers: Vec<(String, String, i64)> =
        Sql::new("SELECT region_code, risk_tier, COUNT(*) FROM residents WHERE status = 'active' GROUP BY region_code, risk_tier")
            .fetch_all(conn)
            .await?;
    for (region, tier, n) in tiers {
        c.add(&region, "", Dim::Tier, &tier, count(n), 1);
    }
    let cats: Vec<(String, String, i64)> = Sql::new(
        "SELECT r.region_code, m.category, COUNT(DISTINCT r.id) FROM residents r JOIN resident_memberships m ON m.resident_id = r.id \
         WHERE r.status = 'active' AND m.valid_to IS NULL GROUP BY r.region_code, m.category",
    )
    .fetch_all(conn)
    .await?;
    for (region, cat, n) in cats {
        c.add(&region, "", Dim::Category, &cat, count(n), 1);
    }
    let due: Vec<(String, String, i64)> = Sql::new(
        "SELECT region_code, next_visit_due, COUNT(*) FROM residents WHERE status = 'active' GROUP BY region_code, next_visit_due",
    )
    .fetch_all(conn)
    .await?;
    for (region, date, n) in due {
        c.add(&region, "", Dim::Due, &date, count(n), 1);
    }
    let elderly: Vec<(String, Option<String>, i64)> = Sql::new(concat!(
        "SELECT r.region_code, SUBSTR(r.last_visit_on, 1, 7), COUNT(*) FROM residents r WHERE r.status = 'active' AND ",
        elderly!(),
        " GROUP BY r.region_code, SUBSTR(r.last_visit_on, 1, 7)"
    ))
    .fetch_all(conn)
    .await?;
    for (region, month, n) in elderly {
        c.add(
            &region,
            "",
            Dim::ElderlyVisit,
            last_visit_key(month.as_deref()),
            count(n),
            1,
        );
    }
    Ok(())
}

/// Active staff by role and highest certificate; station funding by year and source.
async fn recompute_workforce(conn: &mut AnyConnection, c: &mut Changes) -> StoreResult<()> {
    let staff: Vec<(String, String, Option<i64>, i64)> = Sql::new(concat!(
        "SELECT region_code, role, rnk, COUNT(*) FROM (SELECT p.region_code, p.role, ",
        cert_rank!(),
        " AS rnk FROM staff p WHERE p.status = 'active') t GROUP BY region_code, role, rnk"
    ))
    .fetch_all(conn)
    .await?;
    for (region, role, rank, n) in staff {
        c.add(&region, "", Dim::StaffRole, &role, count(n), 1);
        c.add(&region, "", Dim::StaffCert, cert_key(rank), count(n), 1);
    }
    let funds: Vec<(String, i64, String, i64, i64)> = Sql::new(
        "SELECT region_code, year, source, COUNT(*), CAST(SUM(amount_fen) AS BIGINT) FROM station_funding WHERE amount_fen > 0 GROUP BY region_code, year, source",
    )
    .fetch_all(conn)
    .await?;
    for (region, year, source, n, fen) in funds {
        c.add(
            &region,
            &year.to_string(),
            Dim::Funding,
            &source,
            funding(n, fen),
            1,
        );
    }
    Ok(())
}

/// `n` counted, with no other values.
fn count(n: i64) -> Values {
    Values {
        n,
        ..Default::default()
    }
}

/// What the counters hold now (counters plus pending deltas).
async fn stored(conn: &mut AnyConnection) -> StoreResult<BTreeMap<Key, Values>> {
    #[derive(sqlx::FromRow)]
    struct Stored {
        region_code: String,
        month: String,
        dim: String,
        key: String,
        n: i64,
        person_times: i64,
        minutes: i64,
        value_fen: i64,
    }
    let rows: Vec<Stored> = Sql::new(
        "SELECT region_code, month, dim, key, CAST(SUM(n) AS BIGINT) AS n, CAST(SUM(person_times) AS BIGINT) AS person_times, CAST(SUM(minutes) AS BIGINT) AS minutes, CAST(SUM(value_fen) AS BIGINT) AS value_fen \
         FROM (SELECT region_code, month, dim, key, n, person_times, minutes, value_fen FROM stat_counts UNION ALL \
               SELECT region_code, month, dim, key, n, person_times, minutes, value_fen FROM stat_deltas) t GROUP BY region_code, month, dim, key",
    )
    .fetch_all(conn)
    .await?;
    let mut out = BTreeMap::new();
    for r in rows {
        let dim = Dim::parse(&r.dim).ok_or_else(|| {
            sqlx::Error::Decode(format!("unknown counter dimension {:?}", r.dim).into())
        })?;
        let v = Values {
            n: r.n,
            person_times: r.person_times,
            minutes: r.minutes,
            value_fen: r.value_fen,
        };
        if !v.is_zero() {
            let key = Key {
                region_code: r.region_code,
                month: r.month,
                dim,
                key: r.key,
            };
            out.insert(key, v);
        }
    }
    Ok(out)
}

/// A counter that differs from its recomputation: (key, stored, recomputed).
pub type Difference = (Key, Values, Values);

/// Compare every counter with a recomputation from raw rows.
pub async fn verify(conn: &mut AnyConnection) -> StoreResult<Vec<Difference>> {
    let want: BTreeMap<Key, Values> = recompute(conn)
        .await?
        .0
        .into_iter()
        .filter(|(_, v)| !v.is_zero())
        .collect();
    let have = stored(conn).await?;
    let mut out = Vec::new();
    for (k, w) in &want {
        let h = have.get(k).copied().unwrap_or_default();
        if h != *w {
            out.push((k.clone(), h, *w));
        }
    }
    for (k, h) in &have {
        if !want.contains_key(k) {
            out.push((k.clone(), *h, Values::default()));
        }
    }
    Ok(out)
}

/// Build the counters when there are none but there are records to count (a database from
/// before the counters existed). Returns counters written, if it built them.
pub async fn build_if_missing(db: &Db) -> StoreResult<Option<usize>> {
    let mut c = db.read().await?;
    let counters = Sql::new("SELECT COUNT(*) FROM (SELECT 1 FROM stat_counts LIMIT 1) t")
        .fetch_i64(&mut c)
        .await?
        + Sql::new("SELECT COUNT(*) FROM (SELECT 1 FROM stat_deltas LIMIT 1) t")
            .fetch_i64(&mut c)
            .await?;
    let records = Sql::new("SELECT COUNT(*) FROM (SELECT 1 FROM services LIMIT 1) t")
        .fetch_i64(&mut c)
        .await?
        + Sql::new("SELECT COUNT(*) FROM (SELECT 1 FROM residents LIMIT 1) t")
            .fetch_i64(&mut c)
            .await?
        + Sql::new("SELECT COUNT(*) FROM (SELECT 1 FROM staff LIMIT 1) t")
            .fetch_i64(&mut c)
            .await?
        + Sql::new("SELECT COUNT(*) FROM (SELECT 1 FROM station_funding LIMIT 1) t")
            .fetch_i64(&mut c)
            .await?;
    drop(c);
    if counters > 0 || records == 0 {
        return Ok(None);
    }
    rebuild(db).await.map(Some)
}

/// Replace every counter by its recomputation (in one transaction). Returns counters written.
pub async fn rebuild(db: &Db) -> StoreResult<usize> {
    let mut tx = db.begin().await?;
    let want = recompute(&mut tx).await?;
    Sql::new("DELETE FROM stat_deltas").execute(&mut tx).await?;
    Sql::new("DELETE FROM stat_counts").execute(&mut tx).await?;
    let rows: Vec<(Key, Values)> = want.0.into_iter().filter(|(_, v)| !v.is_zero()).collect();
    for chunk in rows.chunks(100) {
        let mut q = Sql::new(
            "INSERT INTO stat_counts (region_code, month, dim, key, n, person_times, minutes, value_fen) VALUES ",
        );
        for (i, (k, v)) in chunk.iter().enumerate() {
            q.push(if i == 0 { "(" } else { ", (" });
            push_row(&mut q, k, v);
        }
        q.execute(&mut tx).await?;
    }
    tx.commit().await?;
    Ok(rows.len())
}

// ---- contributions of records ----

/// What a service record contributes to the counters.
pub struct ServiceFacts<'a> {
    pub region: &'a str,
    pub served_on: &'a str,
    pub kind: &'a str,
    pub domain: &'a str,
    pub station: Option<&'a str>,
    pub values: Values,
}

/// Add (`sign` 1) or take away (-1) a service record's contribution.
pub fn service(c: &mut Changes, f: &ServiceFacts, sign: i64) {
    let month = f.served_on.get(..7).unwrap_or_default();
    c.add(f.region, month, Dim::Kind, f.kind, f.values, sign);
    c.add(f.region, month, Dim::Domain, f.domain, f.values, sign);
    if let Some(s) = f.station {
        c.add(f.region, month, Dim::Station, s, f.values, sign);
    }
}

/// A record whose contribution to the counters is read back from the database: a write takes
/// the contribution before it changes anything and hands it to `changed` afterwards, in the same
/// transaction.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    /// An active resident: tier, current categories, visit due date, last elderly visit.
    Resident(&'a str),
    /// An active staff member: role and highest certificate.
    Staff(&'a str),
    /// A station's funding by year and source, and its active staff.
    Station(&'a str),
    /// A volunteer: active by star level, and their recorded hours by month.
    Volunteer(&'a str),
}

/// The key of the elderly-visit counter: the month of the last visit, or `never`.
fn last_visit_key(last_visit_on: Option<&str>) -> &str {
    last_visit_on.and_then(|d| d.get(..7)).unwrap_or("never")
}

/// The key of the certification counter: the highest level held (rank 1–3), or `none`.
fn cert_key(rank: Option<i64>) -> &'static str {
    match rank {
        Some(3) => "senior",
        Some(2) => "intermediate",
        Some(_) => "assistant",
        None => "none",
    }
}

/// The contributions of `subjects` as the database holds them now.
pub async fn contribution(
    conn: &mut AnyConnection,
    subjects: &[Subject<'_>],
) -> StoreResult<Changes> {
    let mut c = Changes::default();
    for s in subjects {
        match *s {
            Subject::Resident(id) => resident(conn, &mut c, id).await?,
            Subject::Staff(id) => staff(conn, &mut c, StaffOf::Person, id).await?,
            Subject::Volunteer(id) => recompute_volunteers(conn, &mut c, Some(id)).await?,
            Subject::Station(id) => {
                staff(conn, &mut c, StaffOf::Station, id).await?;
                let rows: Vec<(String, i64, String, i64)> = Sql::new(
                    "SELECT region_code, year, source, amount_fen FROM station_funding WHERE amount_fen > 0 AND station_id = ",
                )
                .bind(id)
                .fetch_all(conn)
                .await?;
                for (region, year, source, fen) in rows {
                    c.add(
                        &region,
                        &year.to_string(),
                        Dim::Funding,
                        &source,
                        funding(1, fen),
                        1,
                    );
                }
            }
        }
    }
    Ok(c)
}

fn funding(stations: i64, fen: i64) -> Values {
    Values {
        n: stations,
        value_fen: fen,
        ..Default::default()
    }
}

async fn resident(conn: &mut AnyConnection, c: &mut Changes, id: &str) -> StoreResult<()> {
    #[derive(sqlx::FromRow)]
    struct Facts {
        region_code: String,
        risk_tier: String,
        next_visit_due: String,
        last_visit_on: Option<String>,
        elderly: i64,
    }
    let row: Option<Facts> = Sql::new(concat!(
        "SELECT r.region_code, r.risk_tier, r.next_visit_due, r.last_visit_on, CASE WHEN ",
        elderly!(),
        " THEN 1 ELSE 0 END AS elderly FROM residents r WHERE r.status = 'active' AND r.id = "
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    let Some(r) = row else {
        return Ok(());
    };
    let one = Values::one();
    c.add(&r.region_code, "", Dim::Tier, &r.risk_tier, one, 1);
    c.add(&r.region_code, "", Dim::Due, &r.next_visit_due, one, 1);
    if r.elderly == 1 {
        let key = last_visit_key(r.last_visit_on.as_deref());
        c.add(&r.region_code, "", Dim::ElderlyVisit, key, one, 1);
    }
    let cats: Vec<(String,)> = Sql::new("SELECT DISTINCT category FROM resident_memberships WHERE valid_to IS NULL AND resident_id = ")
        .bind(id)
        .fetch_all(conn)
        .await?;
    for (cat,) in cats {
        c.add(&r.region_code, "", Dim::Category, &cat, one, 1);
    }
    Ok(())
}

/// What a new visit can move on a resident's file: the schedule as stored, the latest visit
/// their records hold, and what the counters key them by. One statement (`visit_recorded`).
#[derive(sqlx::FromRow)]
pub struct ScheduleFacts {
    pub region_code: String,
    pub active: i64,
    pub registered_on: String,
    pub last_visit_on: Option<String>,
    pub latest_record: Option<String>,
    pub visit_interval_days: i64,
    pub next_visit_due: String,
    pub elderly: i64,
}

/// `ScheduleFacts` of resident `id` (`None`: no such resident). The latest record is read as
/// `visit_rules::refresh_schedule` reads it: two index lookups, the person's own visits and
/// those they took part in.
pub async fn schedule_facts(
    conn: &mut AnyConnection,
    id: &str,
) -> StoreResult<Option<ScheduleFacts>> {
    Sql::new(concat!(
        "SELECT r.region_code, CASE WHEN r.status = 'active' THEN 1 ELSE 0 END AS active, r.registered_on, r.last_visit_on, \
         (SELECT MAX(d) FROM (SELECT MAX(served_on) AS d FROM services WHERE kind = 'visit' AND resident_id = r.id \
         UNION ALL SELECT MAX(s.served_on) AS d FROM service_participants p JOIN services s ON s.id = p.service_id \
         WHERE s.kind = 'visit' AND p.resident_id = r.id) t) AS latest_record, \
         r.visit_interval_days, r.next_visit_due, CASE WHEN ",
        elderly!(),
        " THEN 1 ELSE 0 END AS elderly FROM residents r WHERE r.id = "
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// The counters' side of a resident's schedule moving from `f` to (`last_visit`, `due`): the
/// due-date counter and, for the elderly, the last-visit month. Inactive residents count nowhere.
pub fn schedule_moved(c: &mut Changes, f: &ScheduleFacts, last_visit: Option<&str>, due: &str) {
    if f.active == 0 {
        return;
    }
    let one = Values::one();
    c.add(&f.region_code, "", Dim::Due, &f.next_visit_due, one, -1);
    c.add(&f.region_code, "", Dim::Due, due, one, 1);
    if f.elderly == 1 {
        let before = last_visit_key(f.last_visit_on.as_deref());
        c.add(&f.region_code, "", Dim::ElderlyVisit, before, one, -1);
        c.add(
            &f.region_code,
            "",
            Dim::ElderlyVisit,
            last_visit_key(last_visit),
            one,
            1,
        );
    }
}

/// Whose staff `staff` counts.
#[derive(Clone, Copy)]
enum StaffOf {
    Person,
    Station,
}

/// Active staff matching `filter` `value`: one person (`p.id = `) or a station's (`p.station_id = `).
async fn staff(
    conn: &mut AnyConnection,
    c: &mut Changes,
    filter: StaffOf,
    value: &str,
) -> StoreResult<()> {
    let select = match filter {
        StaffOf::Person => concat!(
            "SELECT p.region_code, p.role, ",
            cert_rank!(),
            " FROM staff p WHERE p.status = 'active' AND p.id = "
        ),
        StaffOf::Station => concat!(
            "SELECT p.region_code, p.role, ",
            cert_rank!(),
            " FROM staff p WHERE p.status = 'active' AND p.station_id = "
        ),
    };
    let rows: Vec<(String, String, Option<i64>)> =
        Sql::new(select).bind(value).fetch_all(conn).await?;
    for (region, role, rank) in rows {
        c.add(&region, "", Dim::StaffRole, &role, Values::one(), 1);
        c.add(
            &region,
            "",
            Dim::StaffCert,
            cert_key(rank),
            Values::one(),
            1,
        );
    }
    Ok(())
}

/// Apply the change in the contributions of `subjects` between `before` (taken by
/// `contribution` earlier in the same transaction) and now.
pub async fn changed(
    conn: &mut AnyConnection,
    subjects: &[Subject<'_>],
    before: Changes,
) -> StoreResult<()> {
    let mut now = contribution(conn, subjects).await?;
    now.subtract(&before);
    apply(conn, now).await
}
