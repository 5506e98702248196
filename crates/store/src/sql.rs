//! A small builder for dynamic SQL with numbered `$n` placeholders, which SQLite and PostgreSQL
//! both accept. Values are always bound, never spliced; only fixed fragments from our own code
//! are appended as text. This is the one place that marks dynamic SQL as safe.
//!
//! On SQLite the placeholders are sent as anonymous `?` (they are numbered in text order, as
//! `bind` numbers them): SQLite looks a named parameter up in a list, once when it prepares the
//! statement and once more when sqlx binds it, so a statement of n numbered parameters costs time
//! growing with n², which made multi-row inserts of a few thousand values slow.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AssertSqlSafe, FromRow};

use crate::StoreResult;

#[derive(Debug, Clone)]
pub enum Value {
    Text(String),
    Int(i64),
    NullText,
    NullInt,
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_owned())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(v.clone())
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Int(v as i64)
    }
}
impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Self {
        v.map(Value::Text).unwrap_or(Value::NullText)
    }
}
impl From<Option<&str>> for Value {
    fn from(v: Option<&str>) -> Self {
        v.map(|s| Value::Text(s.to_owned()))
            .unwrap_or(Value::NullText)
    }
}
impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Self {
        v.map(Value::Int).unwrap_or(Value::NullInt)
    }
}

/// `before`, then `SUBSTR(column, 1, n)` with `n` the code length of region level `level`, then
/// `after`, as one `&'static str`: grouping by child region with a literal length, which both
/// engines plan like any constant. The lengths are `RegionLevel::code_len`'s (a test checks).
macro_rules! region_prefix {
    ($level:expr, $before:expr, $column:literal, $after:expr) => {
        match $level {
            shegong_domain::RegionLevel::Province => {
                concat!($before, "SUBSTR(", $column, ", 1, 2)", $after)
            }
            shegong_domain::RegionLevel::City => {
                concat!($before, "SUBSTR(", $column, ", 1, 4)", $after)
            }
            shegong_domain::RegionLevel::County => {
                concat!($before, "SUBSTR(", $column, ", 1, 6)", $after)
            }
            shegong_domain::RegionLevel::Township => {
                concat!($before, "SUBSTR(", $column, ", 1, 9)", $after)
            }
            shegong_domain::RegionLevel::Village => {
                concat!($before, "SUBSTR(", $column, ", 1, 12)", $after)
            }
        }
    };
}
pub(crate) use region_prefix;

/// The fewest rows a page query asks for (`Sql::fetch_page`).
const MIN_FETCH: i64 = 10;

#[derive(Debug, Default, Clone)]
pub struct Sql {
    text: String,
    args: Vec<Value>,
    /// Where each placeholder starts in `text` and ends (exclusive), in binding order.
    marks: Vec<(usize, usize)>,
    /// Planned for its values on every run (`plan_each_run`).
    unprepared: bool,
}

impl Sql {
    pub fn new(text: &'static str) -> Self {
        Self {
            text: text.to_owned(),
            args: Vec::new(),
            marks: Vec::new(),
            unprepared: false,
        }
    }

    /// Plan this statement for the values bound, each time it runs, instead of preparing it once
    /// per connection. PostgreSQL switches a prepared statement to a generic plan after five
    /// runs, costed without its values: for a list's region range (`region_code >= $1 AND
    /// region_code < $2`) it guesses 0.5 % of the rows, so a province's list built a bitmap of
    /// the whole region index (10^6 entries, 250 ms) where the plan for the values read 10,001
    /// entries of a filter's index (9 ms). Short statements (the writes, reads by id) keep their
    /// prepared plans: planning each run halved the API write rate on PostgreSQL.
    pub fn plan_each_run(mut self) -> Self {
        self.unprepared = true;
        self
    }

    /// Append fixed SQL text (never user input).
    pub fn push(&mut self, text: &'static str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Append a placeholder bound to `value`.
    pub fn bind(&mut self, value: impl Into<Value>) -> &mut Self {
        self.args.push(value.into());
        let start = self.text.len();
        self.text.push('$');
        self.text.push_str(&self.args.len().to_string());
        self.marks.push((start, self.text.len()));
        self
    }

    /// `column >= lo AND column < hi`: the scope range on a region-code column.
    pub fn region_range(
        &mut self,
        column: &'static str,
        scope: &shegong_domain::Scope,
    ) -> &mut Self {
        let (lo, hi) = scope.range();
        self.push(column).push(" >= ").bind(lo);
        self.push(" AND ").push(column).push(" < ").bind(hi)
    }

    /// The scope as a prefix test, `column LIKE 'prefix%'`, for newest-first pages over a wide
    /// scope (a city, a province, the country), where walking the date index and filtering beats
    /// collecting the whole range and sorting it. SQLite cannot answer it from an index on the
    /// column (its LIKE ignores case, the region indexes compare bytes), so it walks the date
    /// index. PostgreSQL estimates it from the column's histogram (a `COLLATE "C"` column) and
    /// chooses the walk or the range by cost: the `SUBSTR(column, 1, n) = prefix` this replaced
    /// was estimated at 0.5 % of the rows, so for a city holding every row PostgreSQL scanned
    /// the table and sorted it (85 ms at 20,000 residents) instead of reading 60 rows of the index
    /// (issue 20 item 2). Region codes are digits: the prefix holds no wildcard.
    pub fn region_prefix_unindexed(
        &mut self,
        column: &'static str,
        scope: &shegong_domain::Scope,
    ) -> &mut Self {
        let prefix = scope.prefix().to_owned();
        if prefix.is_empty() {
            return self.push("1 = 1");
        }
        self.push(column).push(" LIKE ").bind(format!("{prefix}%"))
    }

    /// ` AND (LOWER(a) LIKE $n OR ...)`: a case-insensitive substring search, the same on both
    /// databases (LIKE is case-sensitive on PostgreSQL). Wildcards typed by the user are dropped.
    pub fn contains_any(&mut self, columns: &[&'static str], text: &str) -> &mut Self {
        let pattern = format!("%{}%", text.replace(['%', '_'], "").to_lowercase());
        for (i, column) in columns.iter().enumerate() {
            self.push(if i == 0 { " AND (LOWER(" } else { " OR LOWER(" })
                .push(column)
                .push(") LIKE ")
                .bind(pattern.clone());
        }
        self.push(")")
    }

    /// `column IN ($1, $2, …)`; an empty list matches nothing.
    pub fn in_list(&mut self, column: &'static str, values: &[String]) -> &mut Self {
        if values.is_empty() {
            return self.push("1 = 0");
        }
        self.push(column).push(" IN (");
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(v.clone());
        }
        self.push(")")
    }

    /// ` ORDER BY <column> [DESC], <tiebreak> [DESC]` for a user's sort: the column comes from
    /// the list's whitelist (static text only), so no user text reaches the SQL. Returns false
    /// (and pushes nothing) when the whitelist does not hold the key. A column written
    /// `<column> DESC` is a key whose natural order is descending (the most first); `-key`
    /// reverses it.
    pub fn order(
        &mut self,
        sort: crate::Sort,
        allowed: &[(&'static str, &'static str)],
        tiebreak: &'static str,
    ) -> bool {
        let Some((_, col)) = allowed.iter().find(|(k, _)| *k == sort.key) else {
            return false;
        };
        let (col, desc) = match col.strip_suffix(" DESC") {
            Some(c) => (c, !sort.desc),
            None => (*col, sort.desc),
        };
        let dir = if desc { " DESC" } else { "" };
        self.push(" ORDER BY ")
            .push(col)
            .push(dir)
            .push(", ")
            .push(tiebreak)
            .push(dir);
        true
    }

    /// The text as `conn`'s engine reads it best: `$n` for PostgreSQL, `?` for SQLite.
    fn text_for(&self, conn: &AnyConnection) -> String {
        if conn.backend_name() != "SQLite" {
            return self.text.clone();
        }
        let mut out = String::with_capacity(self.text.len());
        let mut from = 0;
        for &(start, end) in &self.marks {
            out.push_str(self.text.get(from..start).unwrap_or_default());
            out.push('?');
            from = end;
        }
        out.push_str(self.text.get(from..).unwrap_or_default());
        out
    }

    fn query(
        &self,
        conn: &AnyConnection,
    ) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments> {
        let mut q = sqlx::query(AssertSqlSafe(self.text_for(conn))).persistent(!self.unprepared);
        for a in &self.args {
            q = match a {
                Value::Text(s) => q.bind(s.clone()),
                Value::Int(i) => q.bind(*i),
                Value::NullText => q.bind(None::<String>),
                Value::NullInt => q.bind(None::<i64>),
            };
        }
        q
    }

    pub async fn execute(&self, conn: &mut AnyConnection) -> StoreResult<u64> {
        Ok(self.query(conn).execute(&mut *conn).await?.rows_affected())
    }

    pub async fn fetch_all<T>(&self, conn: &mut AnyConnection) -> StoreResult<Vec<T>>
    where
        T: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
    {
        let rows = self.query(conn).fetch_all(&mut *conn).await?;
        Ok(rows.iter().map(T::from_row).collect::<Result<_, _>>()?)
    }

    pub async fn fetch_optional<T>(&self, conn: &mut AnyConnection) -> StoreResult<Option<T>>
    where
        T: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
    {
        let row = self.query(conn).fetch_optional(&mut *conn).await?;
        Ok(row.as_ref().map(T::from_row).transpose()?)
    }

    pub async fn fetch_one<T>(&self, conn: &mut AnyConnection) -> StoreResult<T>
    where
        T: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
    {
        self.fetch_optional(conn)
            .await?
            .ok_or(crate::StoreError::NotFound)
    }

    /// One page of this (ordered) query; `count` is the same query's `SELECT COUNT(*)`, or for
    /// the large tables `SELECT COUNT(*) FROM (SELECT 1 … LIMIT LIST_COUNT_CAP + 1) t`, which
    /// marks the page `capped`.
    pub async fn fetch_page<T>(
        &mut self,
        conn: &mut AnyConnection,
        count: &Sql,
        page: crate::PageRequest,
    ) -> StoreResult<crate::Page<T>>
    where
        T: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
    {
        let total = count.clone().plan_each_run().fetch_i64(conn).await?;
        self.fetch_page_counted(conn, total, page).await
    }

    /// `fetch_page` with the count already read (`total`, up to the cap and one more), for a
    /// list whose query depends on it.
    pub async fn fetch_page_counted<T>(
        &mut self,
        conn: &mut AnyConnection,
        total: i64,
        page: crate::PageRequest,
    ) -> StoreResult<crate::Page<T>>
    where
        T: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
    {
        self.page_bounds(page);
        self.fetch_bounded_page(conn, total, page).await
    }

    /// ` LIMIT … OFFSET …` of `page`, where a query chooses its page (at the end, or in a
    /// subquery that picks the page's ids). Its statement is planned for each run: the plan
    /// depends on the bounds.
    pub fn page_bounds(&mut self, page: crate::PageRequest) -> &mut Self {
        self.unprepared = true;
        // SQLite plans a small bound `LIMIT` as if the first rows were dear to reach: below ten
        // it drove a province's service list from the regions table and sorted all 10^7
        // records (41 s for one row). Ask for ten at least and keep the page's own rows.
        self.push(" LIMIT ")
            .bind(page.per_page.max(MIN_FETCH))
            .push(" OFFSET ")
            .bind(page.offset())
    }

    /// `fetch_page_counted` for a query that holds its `page_bounds` already: its rows are the
    /// page (the first `per_page` of them).
    pub async fn fetch_bounded_page<T>(
        &mut self,
        conn: &mut AnyConnection,
        total: i64,
        page: crate::PageRequest,
    ) -> StoreResult<crate::Page<T>>
    where
        T: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
    {
        let mut items: Vec<T> = self.fetch_all(conn).await?;
        items.truncate(usize::try_from(page.per_page).unwrap_or(0));
        Ok(crate::Page {
            items,
            capped: total > crate::LIST_COUNT_CAP,
            total: total.min(crate::LIST_COUNT_CAP),
            page: page.page,
            per_page: page.per_page,
        })
    }

    /// A single integer (COUNT(*), or a SUM cast to BIGINT).
    pub async fn fetch_i64(&self, conn: &mut AnyConnection) -> StoreResult<i64> {
        let (n,): (i64,) = self.fetch_one(conn).await?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use shegong_domain::RegionLevel;

    #[test]
    fn region_prefix_lengths_are_the_code_lengths() {
        for level in RegionLevel::ALL {
            let text = region_prefix!(level, "SELECT ", "c", " FROM t");
            assert_eq!(
                text,
                format!("SELECT SUBSTR(c, 1, {}) FROM t", level.code_len())
            );
        }
    }
}
