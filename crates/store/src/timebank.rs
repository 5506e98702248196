//! 时间银行: schemes per region (rules as JSON, read back through the domain's checks),
//! accounts and the double-entry ledger. Every entry's postings sum to zero; balances live in the
//! accounts row and change only by conditional updates that keep the scheme's bounds, so caps
//! and minimums hold however many writers post at once. Entries and postings are only inserted.
//!
//! Visible to the scopes containing the scheme's region; a scope naming an organisation sees no
//! time bank. Outside that, a scheme, account or entry does not exist (`NotFound`).

use serde::Serialize;
use shegong_domain::people::ServiceKind;
use shegong_domain::timebank::{
    AccountKind, EntryKind, HolderKind, Rules, SourceKind, check_amount, check_balanced,
    check_bounds, check_parties, check_redeem, check_transfer,
};
use shegong_domain::volunteers::attendance::local_day;
use shegong_domain::{FieldError, RegionCode, Scope};
use sqlx::AnyConnection;

use crate::sql::Sql;
use crate::statistics::counters;
use crate::{Millis, Page, PageRequest, StoreError, StoreResult, new_id};

fn refuse<T>(field: &'static str, code: &'static str) -> StoreResult<T> {
    Err(FieldError::new(field, code).into())
}

fn decode(e: impl std::fmt::Display) -> StoreError {
    StoreError::Db(sqlx::Error::Decode(e.to_string().into()))
}

fn rules_json(r: &Rules) -> StoreResult<String> {
    serde_json::to_string(r).map_err(decode)
}

fn rules_of(text: &str) -> StoreResult<Rules> {
    serde_json::from_str(text).map_err(decode)
}

/// A scheme as entered.
#[derive(Debug, Clone)]
pub struct SchemeInput {
    pub region: RegionCode,
    pub name: String,
    /// Who runs it (shown on every page with the scheme, against scams).
    pub operator: String,
    pub rules: Rules,
}

impl SchemeInput {
    fn validate(&self) -> Result<(), FieldError> {
        for (field, text, max) in [("name", &self.name, 100), ("operator", &self.operator, 100)] {
            let len = text.trim().chars().count();
            if (field == "name" && len == 0) || len > max {
                return Err(FieldError::new(field, "timebank.text_invalid"));
            }
        }
        self.rules.validate()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Scheme {
    pub id: String,
    pub region_code: String,
    pub region_path: Option<String>,
    pub name: String,
    pub operator: String,
    pub rules: Rules,
    pub accounts: i64,
    pub created_at: Millis,
    pub updated_at: Millis,
}

#[derive(sqlx::FromRow)]
struct SchemeRow {
    id: String,
    region_code: String,
    region_path: Option<String>,
    name: String,
    operator: String,
    rules: String,
    accounts: i64,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<SchemeRow> for Scheme {
    type Error = StoreError;
    fn try_from(r: SchemeRow) -> StoreResult<Scheme> {
        Ok(Scheme {
            rules: rules_of(&r.rules)?,
            id: r.id,
            region_code: r.region_code,
            region_path: r.region_path,
            name: r.name,
            operator: r.operator,
            accounts: r.accounts,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

const SCHEME_SELECT: &str = "SELECT s.id, s.region_code, r.path_names AS region_path, s.name, s.operator, \
     s.rules, (SELECT COUNT(*) FROM timebank_accounts a WHERE a.scheme_id = s.id AND a.kind IN ('person','group')) AS accounts, \
     s.created_at, s.updated_at FROM timebank_schemes s LEFT JOIN regions r ON r.code = s.region_code";

fn visible(select: &'static str, column: &'static str, scope: &Scope) -> Sql {
    let mut q = Sql::new(select);
    q.push(" WHERE ");
    if scope.org.is_some() {
        q.push("1 = 0");
    } else {
        q.region_range(column, scope);
    }
    q
}

pub async fn get_scheme(conn: &mut AnyConnection, scope: &Scope, id: &str) -> StoreResult<Scheme> {
    let mut q = visible(SCHEME_SELECT, "s.region_code", scope);
    q.push(" AND s.id = ").bind(id);
    let row: SchemeRow = q.fetch_one(conn).await?;
    row.try_into()
}

/// One page of the schemes in scope, by region and name; `q`: name contains.
pub async fn list_schemes(
    conn: &mut AnyConnection,
    scope: &Scope,
    q: Option<&str>,
    page: PageRequest,
) -> StoreResult<Page<Scheme>> {
    let filtered = |select: &'static str| {
        let mut s = visible(select, "s.region_code", scope);
        if let Some(text) = q.map(str::trim).filter(|t| !t.is_empty()) {
            s.contains_any(&["s.name"], text);
        }
        s
    };
    let mut sql = filtered(SCHEME_SELECT);
    sql.push(" ORDER BY s.region_code, s.name, s.id");
    let rows: Page<SchemeRow> = sql
        .fetch_page(
            conn,
            &filtered("SELECT COUNT(*) FROM timebank_schemes s"),
            page,
        )
        .await?;
    Ok(Page {
        items: rows
            .items
            .into_iter()
            .map(Scheme::try_from)
            .collect::<StoreResult<_>>()?,
        total: rows.total,
        capped: rows.capped,
        page: rows.page,
        per_page: rows.per_page,
    })
}

async fn insert_account(
    conn: &mut AnyConnection,
    scheme: (&str, &str),
    kind: AccountKind,
    holder: (Option<HolderKind>, Option<&str>, &str),
    partner: Option<&str>,
    by_now: (&str, Millis),
) -> StoreResult<String> {
    let id = new_id();
    Sql::new("INSERT INTO timebank_accounts (id, scheme_id, region_code, kind, holder_kind, holder_id, holder_name, partner_scheme_id, created_by, created_at) VALUES (")
        .bind(&id).push(", ").bind(scheme.0).push(", ").bind(scheme.1).push(", ").bind(kind.as_str())
        .push(", ").bind(holder.0.map(|h| h.as_str())).push(", ").bind(holder.1).push(", ").bind(holder.2)
        .push(", ").bind(partner).push(", ").bind(by_now.0).push(", ").bind(by_now.1).push(")")
        .execute(conn)
        .await?;
    counters::timebank_account(conn, scheme.1, kind.as_str()).await?;
    Ok(id)
}

/// Partners must be other schemes in scope; each gets a settlement account here, and this scheme
/// one there, when missing.
async fn settle_partners(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
    region: &str,
    rules: &Rules,
    by_now: (&str, Millis),
) -> StoreResult<()> {
    for p in &rules.partners {
        if p == id {
            return refuse("partners", "timebank.partner_invalid");
        }
        let partner = match get_scheme(conn, scope, p).await {
            Ok(s) => s,
            Err(StoreError::NotFound) => return refuse("partners", "timebank.partner_invalid"),
            Err(e) => return Err(e),
        };
        for (own, own_region, other) in [
            (id, region, p.as_str()),
            (p.as_str(), partner.region_code.as_str(), id),
        ] {
            let n = Sql::new("SELECT COUNT(*) FROM timebank_accounts WHERE scheme_id = ")
                .bind(own)
                .push(" AND partner_scheme_id = ")
                .bind(other)
                .fetch_i64(conn)
                .await?;
            if n == 0 {
                let name = format!("settlement {other}");
                insert_account(
                    conn,
                    (own, own_region),
                    AccountKind::Settlement,
                    (None, None, &name),
                    Some(other),
                    by_now,
                )
                .await?;
            }
        }
    }
    Ok(())
}

/// A new scheme in the writer's region, with its donation pool and issuer accounts.
pub async fn create_scheme(
    conn: &mut AnyConnection,
    scope: &Scope,
    input: &SchemeInput,
    by: &str,
    now: Millis,
) -> StoreResult<String> {
    if scope.org.is_some() || !scope.contains_region(input.region.as_str()) {
        return refuse("region", "timebank.region_out_of_scope");
    }
    input.validate()?;
    let region = input.region.as_str();
    let taken = Sql::new("SELECT COUNT(*) FROM timebank_schemes WHERE region_code = ")
        .bind(region)
        .push(" AND name = ")
        .bind(input.name.trim())
        .fetch_i64(conn)
        .await?;
    if taken > 0 {
        return refuse("name", "timebank.name_taken");
    }
    let id = new_id();
    Sql::new("INSERT INTO timebank_schemes (id, region_code, name, operator, rules, created_by, created_at, updated_at) VALUES (")
        .bind(&id).push(", ").bind(region).push(", ").bind(input.name.trim()).push(", ")
        .bind(input.operator.trim()).push(", ").bind(rules_json(&input.rules)?).push(", ")
        .bind(by).push(", ").bind(now).push(", ").bind(now).push(")")
        .execute(conn)
        .await?;
    for (kind, name) in [(AccountKind::Pool, "pool"), (AccountKind::Issuer, "issuer")] {
        insert_account(
            conn,
            (&id, region),
            kind,
            (None, None, name),
            None,
            (by, now),
        )
        .await?;
    }
    settle_partners(conn, scope, &id, region, &input.rules, (by, now)).await?;
    Ok(id)
}

/// Change a scheme's name, operator and rules (its region stays). Refused: a cap below a
/// balance held, a minimum above one.
pub async fn update_scheme(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
    input: &SchemeInput,
    by: &str,
    now: Millis,
) -> StoreResult<Scheme> {
    let before = get_scheme(conn, scope, id).await?;
    input.validate()?;
    let taken = Sql::new("SELECT COUNT(*) FROM timebank_schemes WHERE region_code = ")
        .bind(before.region_code.as_str())
        .push(" AND name = ")
        .bind(input.name.trim())
        .push(" AND id <> ")
        .bind(id)
        .fetch_i64(conn)
        .await?;
    if taken > 0 {
        return refuse("name", "timebank.name_taken");
    }
    lock_scheme_accounts(conn, id).await?;
    let (hi, lo): (Option<i64>, Option<i64>) = Sql::new(
        "SELECT MAX(balance), MIN(balance) FROM timebank_accounts WHERE kind = 'person' AND scheme_id = ",
    )
    .bind(id)
    .fetch_one(conn)
    .await?;
    if let (Some(cap), Some(hi)) = (input.rules.balance_cap, hi)
        && hi > cap
    {
        return refuse("balance_cap", "timebank.cap_below_balances");
    }
    if lo.is_some_and(|lo| lo < input.rules.min_balance) {
        return refuse("min_balance", "timebank.min_above_balances");
    }
    Sql::new("UPDATE timebank_schemes SET name = ")
        .bind(input.name.trim())
        .push(", operator = ")
        .bind(input.operator.trim())
        .push(", rules = ")
        .bind(rules_json(&input.rules)?)
        .push(", updated_at = ")
        .bind(now)
        .push(" WHERE id = ")
        .bind(id)
        .execute(conn)
        .await?;
    settle_partners(
        conn,
        scope,
        id,
        &before.region_code,
        &input.rules,
        (by, now),
    )
    .await?;
    Ok(before)
}

/// Take the write locks of a scheme's accounts in id order, as postings do (PostgreSQL; SQLite
/// has one writer), so a rule change and concurrent postings neither cross nor deadlock.
async fn lock_scheme_accounts(conn: &mut AnyConnection, scheme: &str) -> StoreResult<()> {
    let ids: Vec<(String,)> = Sql::new("SELECT id FROM timebank_accounts WHERE scheme_id = ")
        .bind(scheme)
        .fetch_all(conn)
        .await?;
    let ids: Vec<&str> = ids.iter().map(|(id,)| id.as_str()).collect();
    lock(conn, &ids).await
}

/// A person or group account as opened.
#[derive(Debug, Clone)]
pub struct AccountInput {
    pub kind: AccountKind,
    pub holder_kind: HolderKind,
    /// The resident's id (resident holders).
    pub holder_id: Option<String>,
    /// The holder's name (named holders and groups; residents take theirs from the file).
    pub holder_name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Account {
    pub id: String,
    pub scheme_id: String,
    pub scheme_name: String,
    pub region_code: String,
    pub kind: AccountKind,
    pub holder_kind: Option<HolderKind>,
    pub holder_id: Option<String>,
    pub holder_name: String,
    pub partner_scheme_id: Option<String>,
    pub balance: i64,
    pub earned_total: i64,
    pub created_at: Millis,
}

#[derive(sqlx::FromRow)]
struct AccountRow {
    id: String,
    scheme_id: String,
    scheme_name: String,
    region_code: String,
    kind: String,
    holder_kind: Option<String>,
    holder_id: Option<String>,
    holder_name: String,
    partner_scheme_id: Option<String>,
    balance: i64,
    earned_total: i64,
    created_at: i64,
}

fn stored<T>(r: Result<T, FieldError>) -> StoreResult<T> {
    r.map_err(|e| decode(format!("stored {}: {}", e.field, e.code)))
}

impl TryFrom<AccountRow> for Account {
    type Error = StoreError;
    fn try_from(r: AccountRow) -> StoreResult<Account> {
        Ok(Account {
            kind: stored(AccountKind::parse(&r.kind))?,
            holder_kind: r
                .holder_kind
                .map(|h| stored(HolderKind::parse(&h)))
                .transpose()?,
            id: r.id,
            scheme_id: r.scheme_id,
            scheme_name: r.scheme_name,
            region_code: r.region_code,
            holder_id: r.holder_id,
            holder_name: r.holder_name,
            partner_scheme_id: r.partner_scheme_id,
            balance: r.balance,
            earned_total: r.earned_total,
            created_at: r.created_at,
        })
    }
}

const ACCOUNT_SELECT: &str = "SELECT a.id, a.scheme_id, s.name AS scheme_name, a.region_code, a.kind, \
     a.holder_kind, a.holder_id, a.holder_name, a.partner_scheme_id, a.balance, a.earned_total, a.created_at \
     FROM timebank_accounts a JOIN timebank_schemes s ON s.id = a.scheme_id";

pub async fn get_account(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
) -> StoreResult<Account> {
    let mut q = visible(ACCOUNT_SELECT, "a.region_code", scope);
    q.push(" AND a.id = ").bind(id);
    let row: AccountRow = q.fetch_one(conn).await?;
    row.try_into()
}

async fn system_account(
    conn: &mut AnyConnection,
    scope: &Scope,
    scheme: &str,
    kind: AccountKind,
) -> StoreResult<Account> {
    let mut q = visible(ACCOUNT_SELECT, "a.region_code", scope);
    q.push(" AND a.scheme_id = ")
        .bind(scheme)
        .push(" AND a.kind = ")
        .bind(kind.as_str());
    let row: AccountRow = q.fetch_one(conn).await?;
    row.try_into()
}

/// Open a person or group account in a scheme. A resident holder must be on file in the scheme's
/// region and holds one account per scheme.
pub async fn open_account(
    conn: &mut AnyConnection,
    scope: &Scope,
    scheme_id: &str,
    input: &AccountInput,
    by: &str,
    now: Millis,
) -> StoreResult<String> {
    let scheme = get_scheme(conn, scope, scheme_id).await?;
    if !matches!(input.kind, AccountKind::Person | AccountKind::Group) {
        return refuse("account_kind", "timebank.account_kind_unknown");
    }
    let (holder_id, name) = match input.holder_kind {
        HolderKind::Resident | HolderKind::Volunteer => {
            let rid = holder_on_file(conn, &scheme, input).await?;
            let n = Sql::new("SELECT COUNT(*) FROM timebank_accounts WHERE scheme_id = ")
                .bind(scheme_id)
                .push(" AND holder_kind = ")
                .bind(input.holder_kind.as_str())
                .push(" AND holder_id = ")
                .bind(rid.0.as_str())
                .fetch_i64(conn)
                .await?;
            if n > 0 {
                return refuse("holder_id", "timebank.holder_has_account");
            }
            (Some(rid.0), rid.1)
        }
        HolderKind::Named => {
            let name = input.holder_name.trim();
            if name.is_empty() || name.chars().count() > 100 {
                return refuse("holder_name", "timebank.text_invalid");
            }
            (None, name.to_owned())
        }
    };
    insert_account(
        conn,
        (scheme_id, &scheme.region_code),
        input.kind,
        (Some(input.holder_kind), holder_id.as_deref(), &name),
        None,
        (by, now),
    )
    .await
}

/// A resident or volunteer holder on file, active, in the scheme's region: (id, name).
async fn holder_on_file(
    conn: &mut AnyConnection,
    scheme: &Scheme,
    input: &AccountInput,
) -> StoreResult<(String, String)> {
    let Some(rid) = input
        .holder_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty() && s.len() <= 64)
    else {
        return refuse("holder_id", "form.required");
    };
    let (mut q, unknown) = if input.holder_kind == HolderKind::Volunteer {
        (
            Sql::new("SELECT name FROM volunteers WHERE id = "),
            "timebank.volunteer_unknown",
        )
    } else {
        (
            Sql::new("SELECT name FROM residents WHERE id = "),
            "timebank.resident_unknown",
        )
    };
    q.bind(rid).push(" AND status = 'active' AND ");
    q.region_range(
        "region_code",
        &Scope::region(stored(RegionCode::parse(&scheme.region_code))?),
    );
    match q.fetch_optional::<(String,)>(conn).await? {
        Some((name,)) => Ok((rid.to_owned(), name)),
        None => refuse("holder_id", unknown),
    }
}

#[derive(Debug, Clone, Default)]
pub struct AccountFilter {
    pub scheme_id: Option<String>,
    /// The accounts of this resident or volunteer.
    pub holder_id: Option<String>,
    pub kind: Option<AccountKind>,
    /// Holder name contains.
    pub q: Option<String>,
}

fn accounts_filtered(scope: &Scope, f: &AccountFilter, select: &'static str) -> Sql {
    let mut q = visible(select, "a.region_code", scope);
    if let Some(s) = &f.scheme_id {
        q.push(" AND a.scheme_id = ").bind(s.as_str());
    }
    if let Some(h) = &f.holder_id {
        q.push(" AND a.holder_id = ").bind(h.as_str());
    }
    if let Some(k) = f.kind {
        q.push(" AND a.kind = ").bind(k.as_str());
    }
    if let Some(text) = f.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        q.contains_any(&["a.holder_name"], text);
    }
    q
}

pub async fn list_accounts(
    conn: &mut AnyConnection,
    scope: &Scope,
    f: &AccountFilter,
    page: PageRequest,
) -> StoreResult<Page<Account>> {
    let mut q = accounts_filtered(scope, f, ACCOUNT_SELECT);
    q.push(" ORDER BY a.scheme_id, a.kind, a.holder_name, a.id");
    let count = accounts_filtered(
        scope,
        f,
        "SELECT COUNT(*) FROM timebank_accounts a JOIN timebank_schemes s ON s.id = a.scheme_id",
    );
    let rows: Page<AccountRow> = q.fetch_page(conn, &count, page).await?;
    Ok(Page {
        items: rows
            .items
            .into_iter()
            .map(Account::try_from)
            .collect::<StoreResult<_>>()?,
        total: rows.total,
        capped: rows.capped,
        page: rows.page,
        per_page: rows.per_page,
    })
}

/// An entry as asked for on an account's page: the account in the path is the one debited, or
/// for EARN and GRANT the person credited.
#[derive(Debug, Clone)]
pub struct EntryInput {
    pub kind: EntryKind,
    /// Credits; EARN takes them from its source.
    pub amount: i64,
    /// TRANSFER and INTERSCHEME: the person receiving.
    pub to_account_id: Option<String>,
    /// EARN: what it comes from — a service record, or a volunteer's recorded hours.
    pub source_kind: SourceKind,
    /// EARN: the service record or hour record.
    pub source_id: Option<String>,
    pub note: String,
}

/// One posting to make: the account, its kind and the scheme rules that bound it.
struct Leg {
    account: Account,
    amount: i64,
    rules: Rules,
}

async fn rules_for(conn: &mut AnyConnection, scheme: &str) -> StoreResult<Rules> {
    let (text,): (String,) = Sql::new("SELECT rules FROM timebank_schemes WHERE id = ")
        .bind(scheme)
        .fetch_one(conn)
        .await?;
    rules_of(&text)
}

/// Lock the accounts in id order (PostgreSQL row locks; concurrent entries never deadlock).
async fn lock(conn: &mut AnyConnection, ids: &[&str]) -> StoreResult<()> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    for id in ids {
        Sql::new("UPDATE timebank_accounts SET balance = balance WHERE id = ")
            .bind(id)
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Apply one posting with the account's bounds; `cap` false lifts the upper bound (the caller
/// sweeps the excess in the same transaction).
async fn apply(
    conn: &mut AnyConnection,
    leg: &Leg,
    field: &'static str,
    cap: bool,
) -> StoreResult<()> {
    let (min, max) = leg.rules.bounds(leg.account.kind);
    let mut q = Sql::new("UPDATE timebank_accounts SET balance = balance + ");
    q.bind(leg.amount)
        .push(" WHERE id = ")
        .bind(leg.account.id.as_str());
    if let Some(min) = min.filter(|_| leg.amount < 0) {
        q.push(" AND balance + ")
            .bind(leg.amount)
            .push(" >= ")
            .bind(min);
    }
    if let Some(max) = max.filter(|_| cap && leg.amount > 0) {
        q.push(" AND balance + ")
            .bind(leg.amount)
            .push(" <= ")
            .bind(max);
    }
    if q.execute(conn).await? == 1 {
        return Ok(());
    }
    let (balance,): (i64,) = Sql::new("SELECT balance FROM timebank_accounts WHERE id = ")
        .bind(leg.account.id.as_str())
        .fetch_one(conn)
        .await?;
    check_bounds((min, max), balance + leg.amount, field)?;
    refuse(field, "timebank.over_balance")
}

struct NewEntry<'a> {
    scheme_id: &'a str,
    kind: EntryKind,
    source: Option<(SourceKind, &'a str)>,
    reverses: Option<&'a str>,
    note: &'a str,
}

async fn insert_entry(
    conn: &mut AnyConnection,
    e: &NewEntry<'_>,
    legs: &[(String, i64)],
    by_now: (&str, Millis),
) -> StoreResult<String> {
    check_balanced(legs)?;
    let id = new_id();
    let day = local_day(by_now.1).to_string();
    Sql::new("INSERT INTO timebank_entries (id, scheme_id, kind, source_kind, source_id, reverses_id, note, created_by, created_at, posted_on) VALUES (")
        .bind(&id).push(", ").bind(e.scheme_id).push(", ").bind(e.kind.as_str()).push(", ")
        .bind(e.source.map(|s| s.0.as_str())).push(", ").bind(e.source.map(|s| s.1)).push(", ")
        .bind(e.reverses).push(", ").bind(e.note.trim()).push(", ").bind(by_now.0).push(", ").bind(by_now.1)
        .push(", ").bind(day.as_str()).push(")")
        .execute(conn)
        .await?;
    for (account, amount) in legs {
        Sql::new("INSERT INTO timebank_postings (entry_id, account_id, amount) VALUES (")
            .bind(&id)
            .push(", ")
            .bind(account.as_str())
            .push(", ")
            .bind(*amount)
            .push(")")
            .execute(conn)
            .await?;
    }
    count_entry(conn, e, legs, &day).await?;
    Ok(id)
}

/// Hand a posted entry to the maintained counters (the dashboards' flows and balances).
async fn count_entry(
    conn: &mut AnyConnection,
    e: &NewEntry<'_>,
    legs: &[(String, i64)],
    day: &str,
) -> StoreResult<()> {
    let (region,): (String,) = Sql::new("SELECT region_code FROM timebank_schemes WHERE id = ")
        .bind(e.scheme_id)
        .fetch_one(conn)
        .await?;
    // A reversal counts against the kind it reverses (`reversal_earn`), so that net flows add up.
    let kind = match e.reverses {
        Some(original) => {
            let (kind,): (String,) = Sql::new("SELECT kind FROM timebank_entries WHERE id = ")
                .bind(original)
                .fetch_one(conn)
                .await?;
            format!("reversal_{kind}")
        }
        None => e.kind.as_str().to_owned(),
    };
    let mut placed = Vec::with_capacity(legs.len());
    for (account, amount) in legs {
        let (region, kind): (String, String) =
            Sql::new("SELECT region_code, kind FROM timebank_accounts WHERE id = ")
                .bind(account.as_str())
                .fetch_one(conn)
                .await?;
        placed.push((region, kind, *amount));
    }
    let entry = counters::TimebankEntry {
        region: &region,
        day,
        kind: &kind,
        legs: &placed,
    };
    counters::timebank_entry(conn, &entry).await
}

/// The service an EARN comes from: in the scheme's region, of an eligible kind, not earned on
/// before; a service by a registered volunteer credits that volunteer's own account only.
/// Returns the credits and the day served.
async fn earn_source(
    conn: &mut AnyConnection,
    scheme: &Scheme,
    account: &Account,
    source_id: Option<&str>,
) -> StoreResult<(i64, String, String)> {
    let Some(sid) = source_id
        .map(str::trim)
        .filter(|s| !s.is_empty() && s.len() <= 64)
    else {
        return refuse("source_id", "form.required");
    };
    let mut q = Sql::new(
        "SELECT kind, duration_minutes, served_on, volunteer_id FROM services WHERE id = ",
    );
    q.bind(sid).push(" AND ");
    q.region_range(
        "region_code",
        &Scope::region(stored(RegionCode::parse(&scheme.region_code))?),
    );
    let Some((kind, minutes, day, volunteer)): Option<(String, i64, String, Option<String>)> =
        q.fetch_optional(conn).await?
    else {
        return refuse("source_id", "timebank.source_unknown");
    };
    if !scheme.rules.earns(stored(ServiceKind::parse(&kind))?) {
        return refuse("source_id", "timebank.not_eligible");
    }
    if volunteer.is_some()
        && (account.holder_kind != Some(HolderKind::Volunteer) || account.holder_id != volunteer)
    {
        return refuse("source_id", "timebank.service_of_another");
    }
    let used = Sql::new(
        "SELECT COUNT(*) FROM timebank_entries WHERE source_kind = 'service' AND source_id = ",
    )
    .bind(sid)
    .fetch_i64(conn)
    .await?;
    if used > 0 {
        return refuse("source_id", "timebank.source_used");
    }
    Ok((scheme.rules.credits_for(minutes)?, day, sid.to_owned()))
}

/// The volunteer hours an EARN comes from: recorded (after their notice), served in the scheme's
/// region by the account's own holder, not earned on before. Returns the credits and the day.
async fn hours_source(
    conn: &mut AnyConnection,
    scheme: &Scheme,
    account: &Account,
    source_id: Option<&str>,
) -> StoreResult<(i64, String, String)> {
    let Some(sid) = source_id
        .map(str::trim)
        .filter(|s| !s.is_empty() && s.len() <= 64)
    else {
        return refuse("source_id", "form.required");
    };
    let mut q =
        Sql::new("SELECT volunteer_id, state, minutes, served_on FROM volunteer_hours WHERE id = ");
    q.bind(sid).push(" AND ");
    q.region_range(
        "region_code",
        &Scope::region(stored(RegionCode::parse(&scheme.region_code))?),
    );
    let Some((volunteer, state, minutes, day)): Option<(String, String, i64, String)> =
        q.fetch_optional(conn).await?
    else {
        return refuse("source_id", "timebank.source_unknown");
    };
    if state != "recorded" {
        return refuse("source_id", "timebank.hours_not_recorded");
    }
    if account.holder_kind != Some(HolderKind::Volunteer)
        || account.holder_id.as_deref() != Some(volunteer.as_str())
    {
        return refuse("source_id", "timebank.hours_of_another");
    }
    let used = Sql::new(
        "SELECT COUNT(*) FROM timebank_entries WHERE source_kind = 'volunteer_hours' AND source_id = ",
    )
    .bind(sid)
    .fetch_i64(conn)
    .await?;
    if used > 0 {
        return refuse("source_id", "timebank.source_used");
    }
    Ok((scheme.rules.credits_for(minutes)?, day, sid.to_owned()))
}

/// Count an EARN towards the account's day and total, within the daily cap.
async fn count_earned(
    conn: &mut AnyConnection,
    account: &str,
    rules: &Rules,
    day: &str,
    n: i64,
) -> StoreResult<()> {
    let mut q = Sql::new("UPDATE timebank_accounts SET earned_day = CASE WHEN earn_day = ");
    q.bind(day)
        .push(" THEN earned_day + ")
        .bind(n)
        .push(" ELSE ")
        .bind(n)
        .push(" END, earn_day = ")
        .bind(day)
        .push(", earned_total = earned_total + ")
        .bind(n)
        .push(" WHERE id = ")
        .bind(account);
    if let Some(cap) = rules.daily_earn_cap {
        q.push(" AND (CASE WHEN earn_day = ")
            .bind(day)
            .push(" THEN earned_day ELSE 0 END) + ")
            .bind(n)
            .push(" <= ")
            .bind(cap);
    }
    if q.execute(conn).await? == 0 {
        return refuse("source_id", "timebank.daily_cap_exceeded");
    }
    Ok(())
}

/// Whether two person accounts' holders are residents of one household.
async fn same_family(conn: &mut AnyConnection, a: &Account, b: &Account) -> StoreResult<bool> {
    let (Some(x), Some(y)) = (
        a.holder_id
            .as_deref()
            .filter(|_| a.holder_kind == Some(HolderKind::Resident)),
        b.holder_id
            .as_deref()
            .filter(|_| b.holder_kind == Some(HolderKind::Resident)),
    ) else {
        return Ok(false);
    };
    let n = Sql::new("SELECT COUNT(*) FROM residents x JOIN residents y ON y.household_id = x.household_id WHERE x.id = ")
        .bind(x).push(" AND y.id = ").bind(y).push(" AND x.household_id IS NOT NULL")
        .fetch_i64(conn).await?;
    Ok(n > 0)
}

async fn to_account(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: Option<&str>,
) -> StoreResult<Account> {
    let id = id.map(str::trim).unwrap_or_default();
    if id.is_empty() || id.len() > 64 {
        return refuse("to_account_id", "form.required");
    }
    match get_account(conn, scope, id).await {
        Err(StoreError::NotFound) => refuse("to_account_id", "timebank.account_unknown"),
        other => other,
    }
}

async fn settlement(
    conn: &mut AnyConnection,
    scope: &Scope,
    own: &str,
    partner: &str,
) -> StoreResult<Account> {
    let mut q = visible(ACCOUNT_SELECT, "a.region_code", scope);
    q.push(" AND a.scheme_id = ")
        .bind(own)
        .push(" AND a.partner_scheme_id = ")
        .bind(partner);
    let row: AccountRow = match q.fetch_one(conn).await {
        Err(StoreError::NotFound) => return refuse("to_account_id", "timebank.not_partner"),
        other => other?,
    };
    Account::try_from(row)
}

/// The legs of an entry of `input.kind` on `account`, with the checks of its kind.
async fn legs_for(
    conn: &mut AnyConnection,
    scope: &Scope,
    scheme: &Scheme,
    account: &Account,
    input: &EntryInput,
) -> StoreResult<(Vec<Leg>, Option<(i64, String, String)>)> {
    let rules = &scheme.rules;
    let leg = |account: &Account, amount: i64, rules: &Rules| Leg {
        account: account.clone(),
        amount,
        rules: rules.clone(),
    };
    match input.kind {
        EntryKind::Earn | EntryKind::Grant => {
            let issuer = system_account(conn, scope, &scheme.id, AccountKind::Issuer).await?;
            check_parties(input.kind, issuer.kind, account.kind)
                .map_err(|e| FieldError::new("account_id", e.code))?;
            let source = if input.kind == EntryKind::Earn {
                let id = input.source_id.as_deref();
                Some(match input.source_kind {
                    SourceKind::Service => earn_source(conn, scheme, account, id).await?,
                    SourceKind::VolunteerHours => hours_source(conn, scheme, account, id).await?,
                })
            } else {
                None
            };
            let n = match &source {
                Some((n, _, _)) => *n,
                None => check_amount(input.amount)?,
            };
            Ok((
                vec![leg(&issuer, -n, rules), leg(account, n, rules)],
                source,
            ))
        }
        EntryKind::Redeem => {
            let issuer = system_account(conn, scope, &scheme.id, AccountKind::Issuer).await?;
            check_parties(input.kind, account.kind, issuer.kind)?;
            check_redeem(rules, account.earned_total)?;
            let n = check_amount(input.amount)?;
            Ok((vec![leg(account, -n, rules), leg(&issuer, n, rules)], None))
        }
        EntryKind::Donate => {
            let pool = system_account(conn, scope, &scheme.id, AccountKind::Pool).await?;
            check_parties(input.kind, account.kind, pool.kind)?;
            let n = check_amount(input.amount)?;
            Ok((vec![leg(account, -n, rules), leg(&pool, n, rules)], None))
        }
        EntryKind::Transfer => {
            let to = to_account(conn, scope, input.to_account_id.as_deref()).await?;
            if to.scheme_id != scheme.id || to.id == account.id {
                return refuse("to_account_id", "timebank.account_not_allowed");
            }
            check_parties(input.kind, account.kind, to.kind)?;
            let family = same_family(conn, account, &to).await?;
            check_transfer(rules.transfer_to, family)?;
            let n = check_amount(input.amount)?;
            Ok((vec![leg(account, -n, rules), leg(&to, n, rules)], None))
        }
        EntryKind::Interscheme => {
            let to = to_account(conn, scope, input.to_account_id.as_deref()).await?;
            let other = get_scheme(conn, scope, &to.scheme_id).await?;
            if to.kind != AccountKind::Person
                || !rules.partners.contains(&other.id)
                || !other.rules.partners.contains(&scheme.id)
            {
                return refuse("to_account_id", "timebank.not_partner");
            }
            let here = settlement(conn, scope, &scheme.id, &other.id).await?;
            let there = settlement(conn, scope, &other.id, &scheme.id).await?;
            check_parties(input.kind, account.kind, here.kind)?;
            let n = check_amount(input.amount)?;
            Ok((
                vec![
                    leg(account, -n, rules),
                    leg(&here, n, rules),
                    leg(&there, -n, &other.rules),
                    leg(&to, n, &other.rules),
                ],
                None,
            ))
        }
        EntryKind::CapSweep | EntryKind::Reversal => refuse("kind", "timebank.kind_not_posted"),
    }
}

/// Post an entry on an account; returns the entry's id (and the sweep's, when credits above the
/// cap went to the pool).
pub async fn post(
    conn: &mut AnyConnection,
    scope: &Scope,
    account_id: &str,
    input: &EntryInput,
    by: &str,
    now: Millis,
) -> StoreResult<(String, Option<String>)> {
    if input.note.chars().count() > 200 {
        return refuse("note", "timebank.text_invalid");
    }
    let account = get_account(conn, scope, account_id).await?;
    let scheme = get_scheme(conn, scope, &account.scheme_id).await?;
    let (legs, source) = legs_for(conn, scope, &scheme, &account, input).await?;
    // Credits to a person may be swept above the cap: lock the pool with the rest.
    let sweeps = scheme.rules.cap_overflow == shegong_domain::timebank::CapOverflow::Sweep
        && scheme.rules.balance_cap.is_some()
        && matches!(
            input.kind,
            EntryKind::Earn | EntryKind::Grant | EntryKind::Transfer
        );
    let pool = if sweeps {
        Some(system_account(conn, scope, &scheme.id, AccountKind::Pool).await?)
    } else {
        None
    };
    let mut ids: Vec<&str> = legs.iter().map(|l| l.account.id.as_str()).collect();
    if let Some(p) = &pool {
        ids.push(p.id.as_str());
    }
    lock(conn, &ids).await?;
    for l in &legs {
        let field = if l.amount > 0 && l.account.id != account.id {
            "to_account_id"
        } else {
            "amount"
        };
        apply(
            conn,
            l,
            field,
            !(sweeps && l.amount > 0 && l.account.kind == AccountKind::Person),
        )
        .await?;
    }
    let credited = legs
        .iter()
        .find(|l| l.amount > 0 && l.account.kind == AccountKind::Person);
    if let (Some((n, day, _)), Some(c)) = (&source, credited) {
        count_earned(conn, &c.account.id, &scheme.rules, day, *n).await?;
    }
    let entry = NewEntry {
        scheme_id: &scheme.id,
        kind: input.kind,
        source: source
            .as_ref()
            .map(|(_, _, id)| (input.source_kind, id.as_str())),
        reverses: None,
        note: &input.note,
    };
    let pairs: Vec<(String, i64)> = legs
        .iter()
        .map(|l| (l.account.id.clone(), l.amount))
        .collect();
    let id = insert_entry(conn, &entry, &pairs, (by, now)).await?;
    let swept = match (pool, credited, scheme.rules.balance_cap) {
        (Some(pool), Some(c), Some(cap)) => {
            sweep(conn, &scheme.id, &c.account.id, &pool.id, cap, (by, now)).await?
        }
        _ => None,
    };
    Ok((id, swept))
}

/// Move what a person holds above the cap to the pool, as a CAP_SWEEP entry.
async fn sweep(
    conn: &mut AnyConnection,
    scheme: &str,
    person: &str,
    pool: &str,
    cap: i64,
    by_now: (&str, Millis),
) -> StoreResult<Option<String>> {
    let (balance,): (i64,) = Sql::new("SELECT balance FROM timebank_accounts WHERE id = ")
        .bind(person)
        .fetch_one(conn)
        .await?;
    let excess = balance - cap;
    if excess <= 0 {
        return Ok(None);
    }
    for (id, amount) in [(person, -excess), (pool, excess)] {
        Sql::new("UPDATE timebank_accounts SET balance = balance + ")
            .bind(amount)
            .push(" WHERE id = ")
            .bind(id)
            .execute(conn)
            .await?;
    }
    let e = NewEntry {
        scheme_id: scheme,
        kind: EntryKind::CapSweep,
        source: None,
        reverses: None,
        note: "",
    };
    let id = insert_entry(
        conn,
        &e,
        &[(person.to_owned(), -excess), (pool.to_owned(), excess)],
        by_now,
    )
    .await?;
    Ok(Some(id))
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct EntryRow {
    pub id: String,
    pub scheme_id: String,
    pub kind: String,
    pub source_kind: Option<String>,
    pub source_id: Option<String>,
    pub reverses_id: Option<String>,
    pub reversed_by: Option<String>,
    pub note: String,
    pub created_by: String,
    pub created_at: i64,
}

const ENTRY_SELECT: &str = "SELECT e.id, e.scheme_id, e.kind, e.source_kind, e.source_id, e.reverses_id, \
     (SELECT r.id FROM timebank_entries r WHERE r.reverses_id = e.id) AS reversed_by, e.note, e.created_by, e.created_at \
     FROM timebank_entries e JOIN timebank_schemes s ON s.id = e.scheme_id";

pub async fn get_entry(conn: &mut AnyConnection, scope: &Scope, id: &str) -> StoreResult<EntryRow> {
    let mut q = visible(ENTRY_SELECT, "s.region_code", scope);
    q.push(" AND e.id = ").bind(id);
    q.fetch_one(conn).await
}

/// Reverse an entry: a new entry with every posting negated, referencing it; at most once, never
/// a reversal itself. Refused like any posting when a balance would break its bounds.
pub async fn reverse(
    conn: &mut AnyConnection,
    scope: &Scope,
    entry_id: &str,
    note: &str,
    by: &str,
    now: Millis,
) -> StoreResult<String> {
    if note.chars().count() > 200 {
        return refuse("note", "timebank.text_invalid");
    }
    let e = get_entry(conn, scope, entry_id).await?;
    if e.kind == EntryKind::Reversal.as_str() {
        return refuse("entry_id", "timebank.reversal_of_reversal");
    }
    if e.reversed_by.is_some() {
        return refuse("entry_id", "timebank.already_reversed");
    }
    let postings: Vec<(String, i64)> =
        Sql::new("SELECT account_id, amount FROM timebank_postings WHERE entry_id = ")
            .bind(entry_id)
            .push(" ORDER BY account_id")
            .fetch_all(conn)
            .await?;
    let ids: Vec<&str> = postings.iter().map(|(a, _)| a.as_str()).collect();
    lock(conn, &ids).await?;
    let mut legs = Vec::with_capacity(postings.len());
    for (account, amount) in &postings {
        let a = Account::try_from(
            Sql::new(ACCOUNT_SELECT)
                .push(" WHERE a.id = ")
                .bind(account.as_str())
                .fetch_one::<AccountRow>(conn)
                .await?,
        )?;
        let rules = rules_for(conn, &a.scheme_id).await?;
        legs.push(Leg {
            account: a,
            amount: -amount,
            rules,
        });
    }
    for l in &legs {
        apply(conn, l, "entry_id", true).await?;
    }
    if e.kind == EntryKind::Earn.as_str() {
        for l in legs
            .iter()
            .filter(|l| l.amount < 0 && l.account.kind == AccountKind::Person)
        {
            Sql::new("UPDATE timebank_accounts SET earned_total = earned_total + ")
                .bind(l.amount)
                .push(" WHERE id = ")
                .bind(l.account.id.as_str())
                .execute(conn)
                .await?;
        }
    }
    let entry = NewEntry {
        scheme_id: &e.scheme_id,
        kind: EntryKind::Reversal,
        source: None,
        reverses: Some(entry_id),
        note,
    };
    let pairs: Vec<(String, i64)> = legs
        .iter()
        .map(|l| (l.account.id.clone(), l.amount))
        .collect();
    insert_entry(conn, &entry, &pairs, (by, now)).await
}

/// A passbook line: an entry on the account with its amount and the balance after it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PassbookLine {
    pub entry_id: String,
    pub kind: String,
    pub amount: i64,
    pub balance: i64,
    pub source_id: Option<String>,
    pub reverses_id: Option<String>,
    pub reversed_by: Option<String>,
    pub note: String,
    pub created_by: String,
    pub created_at: i64,
}

/// The account's entries in the order posted, with the running balance.
pub async fn passbook(
    conn: &mut AnyConnection,
    scope: &Scope,
    account_id: &str,
    page: PageRequest,
) -> StoreResult<Page<PassbookLine>> {
    get_account(conn, scope, account_id).await?;
    let mut q = Sql::new(
        "SELECT t.entry_id, t.kind, t.amount, t.balance, t.source_id, t.reverses_id, t.reversed_by, t.note, t.created_by, t.created_at FROM \
         (SELECT p.entry_id, e.kind, p.amount, CAST(SUM(p.amount) OVER (ORDER BY p.entry_id) AS BIGINT) AS balance, \
         e.source_id, e.reverses_id, (SELECT r.id FROM timebank_entries r WHERE r.reverses_id = e.id) AS reversed_by, \
         e.note, e.created_by, e.created_at FROM timebank_postings p JOIN timebank_entries e ON e.id = p.entry_id WHERE p.account_id = ",
    );
    q.bind(account_id).push(") t ORDER BY t.entry_id");
    let count = {
        let mut c = Sql::new("SELECT COUNT(*) FROM timebank_postings WHERE account_id = ");
        c.bind(account_id);
        c
    };
    q.fetch_page(conn, &count, page).await
}

/// The whole ledger checked (for `shegong ledger verify`): every scheme's postings sum to zero,
/// every entry's too; every balance equals its postings and keeps its scheme's bounds; every
/// reversal mirrors its original. Returns the differences found.
pub async fn verify(conn: &mut AnyConnection) -> StoreResult<Vec<String>> {
    let mut out = Vec::new();
    let rows: Vec<(String, i64)> = Sql::new(
        "SELECT a.scheme_id, CAST(SUM(p.amount) AS BIGINT) FROM timebank_postings p JOIN timebank_accounts a ON a.id = p.account_id \
         GROUP BY a.scheme_id HAVING SUM(p.amount) <> 0",
    )
    .fetch_all(conn)
    .await?;
    out.extend(
        rows.into_iter()
            .map(|(s, n)| format!("scheme {s}: postings sum to {n}, not 0")),
    );
    let rows: Vec<(String, i64, i64)> = Sql::new(
        "SELECT e.id, CAST(COALESCE(SUM(p.amount), 0) AS BIGINT), COUNT(p.entry_id) FROM timebank_entries e LEFT JOIN timebank_postings p ON p.entry_id = e.id \
         GROUP BY e.id HAVING COALESCE(SUM(p.amount), 0) <> 0 OR COUNT(p.entry_id) < 2",
    )
    .fetch_all(conn)
    .await?;
    out.extend(
        rows.into_iter()
            .map(|(e, n, c)| format!("entry {e}: {c} posting(s) summing to {n}")),
    );
    let rows: Vec<(String, i64, i64)> = Sql::new(
        "SELECT a.id, a.balance, CAST(COALESCE((SELECT SUM(p.amount) FROM timebank_postings p WHERE p.account_id = a.id), 0) AS BIGINT) AS total \
         FROM timebank_accounts a",
    )
    .fetch_all(conn)
    .await?;
    out.extend(
        rows.iter()
            .filter(|(_, b, t)| b != t)
            .map(|(a, b, t)| format!("account {a}: balance {b}, postings sum to {t}")),
    );
    let accounts: Vec<(String, String, String, i64)> = Sql::new(
        "SELECT a.id, a.kind, s.rules, a.balance FROM timebank_accounts a JOIN timebank_schemes s ON s.id = a.scheme_id",
    )
    .fetch_all(conn)
    .await?;
    for (id, kind, rules, balance) in accounts {
        let bounds = rules_of(&rules)?.bounds(stored(AccountKind::parse(&kind))?);
        if let Err(e) = check_bounds(bounds, balance, "balance") {
            out.push(format!(
                "account {id}: balance {balance} breaks its scheme's bounds ({})",
                e.code
            ));
        }
    }
    let rows: Vec<(String, String, i64)> = Sql::new(
        "SELECT r.id, r.reverses_id, CAST(COUNT(*) AS BIGINT) FROM timebank_entries r \
         LEFT JOIN timebank_postings rp ON rp.entry_id = r.id \
         LEFT JOIN timebank_postings op ON op.entry_id = r.reverses_id AND op.account_id = rp.account_id AND op.amount = -rp.amount \
         WHERE r.kind = 'reversal' GROUP BY r.id, r.reverses_id \
         HAVING COUNT(op.entry_id) <> COUNT(*) OR COUNT(*) <> (SELECT COUNT(*) FROM timebank_postings x WHERE x.entry_id = r.reverses_id)",
    )
    .fetch_all(conn)
    .await?;
    out.extend(
        rows.into_iter()
            .map(|(r, o, _)| format!("reversal {r} does not mirror entry {o}")),
    );
    let n = Sql::new(
        "SELECT COUNT(*) FROM timebank_entries WHERE kind = 'reversal' AND reverses_id IS NULL",
    )
    .fetch_i64(conn)
    .await?;
    if n > 0 {
        out.push(format!("{n} reversal(s) reference no entry"));
    }
    Ok(out)
}
