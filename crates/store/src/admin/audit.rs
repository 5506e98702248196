//! The audit log: append-only, written in the same transaction as the change it records, each
//! entry hash-chained to the one before. Nothing in the product updates or deletes an entry
//! except retention, which cuts whole entries from the old end and records the cut as an anchor.
//!
//! The chain's digest is SHA-256, or SM3 (GB/T 32905) in 国密 deployments. Each entry records the
//! algorithm that hashed it, so a log that switched part-way verifies end to end; the head row
//! holds the algorithm for new entries ([`use_hash_algorithm`], set at server start).

use std::collections::BTreeMap;

use serde::Serialize;
use sha2::{Digest, Sha256};
use shegong_domain::Scope;
use sqlx::AnyConnection;

use crate::sql::Sql;
use crate::{Backend, Db, Millis, Page, PageRequest, StoreError, StoreResult, dialect, new_id};

/// The digest of the hash chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HashAlg {
    Sha256,
    /// GB/T 32905 (SM3), for deployments assessed under 密评.
    Sm3,
}

impl HashAlg {
    /// The value stored in `audit_log.hash_alg` and `audit_head.hash_alg`.
    pub fn as_str(self) -> &'static str {
        match self {
            HashAlg::Sha256 => "sha256",
            HashAlg::Sm3 => "sm3",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "sha256" => Some(HashAlg::Sha256),
            "sm3" => Some(HashAlg::Sm3),
            _ => None,
        }
    }

    /// Lower-case hex of the digest of `data` (64 characters for both).
    pub fn digest_hex(self, data: &[u8]) -> String {
        match self {
            HashAlg::Sha256 => hex::encode(Sha256::digest(data)),
            HashAlg::Sm3 => hex::encode(sm3::Sm3::digest(data)),
        }
    }
}

/// The chain follows the sealed-field keys: SM4 keys (国密) mean SM3, anything else SHA-256.
impl From<crate::crypto::Algorithm> for HashAlg {
    fn from(a: crate::crypto::Algorithm) -> Self {
        match a {
            crate::crypto::Algorithm::Sm4Gcm => HashAlg::Sm3,
            crate::crypto::Algorithm::Aes256Gcm => HashAlg::Sha256,
        }
    }
}

/// Who acted, from where, for which request. Carried from the web layer into every write.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub user_id: Option<String>,
    pub username: String,
    /// The actor's own scope region ('' = national): where entries without a region of their own
    /// (logins, token changes) are filed.
    pub region_code: String,
    pub request_id: Option<String>,
    pub ip: Option<String>,
}

impl Actor {
    /// The command line, for CLI operations.
    pub fn system(label: &str) -> Self {
        Self {
            user_id: None,
            username: label.to_owned(),
            region_code: String::new(),
            request_id: None,
            ip: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    Failure,
    Denied,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Denied => "denied",
        }
    }
}

/// One changed field. Sensitive values must be masked by the caller before they get here.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct Change {
    pub field: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

impl Change {
    pub fn new(field: &str, before: Option<impl ToString>, after: Option<impl ToString>) -> Self {
        Self {
            field: field.to_owned(),
            before: before.map(|v| v.to_string()),
            after: after.map(|v| v.to_string()),
        }
    }

    /// A change whose values are never written in clear.
    pub fn redacted(field: &str) -> Self {
        Self {
            field: field.to_owned(),
            before: Some("***".into()),
            after: Some("***".into()),
        }
    }
}

/// Only the changed pairs.
pub fn diff(pairs: &[(&str, Option<String>, Option<String>)]) -> Vec<Change> {
    pairs
        .iter()
        .filter(|(_, b, a)| b != a)
        .map(|(f, b, a)| Change {
            field: (*f).to_owned(),
            before: b.clone(),
            after: a.clone(),
        })
        .collect()
}

#[derive(Debug, Clone)]
pub struct Event<'a> {
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: Option<String>,
    /// The region the entry is filed under; `None` uses the actor's region.
    pub region_code: Option<String>,
    pub outcome: Outcome,
    pub changes: Vec<Change>,
}

impl<'a> Event<'a> {
    pub fn new(action: &'a str, entity: &'a str, entity_id: Option<String>) -> Self {
        Self {
            action,
            entity,
            entity_id,
            region_code: None,
            outcome: Outcome::Success,
            changes: Vec::new(),
        }
    }

    pub fn outcome(mut self, o: Outcome) -> Self {
        self.outcome = o;
        self
    }

    pub fn region(mut self, code: impl Into<String>) -> Self {
        self.region_code = Some(code.into());
        self
    }

    pub fn changes(mut self, c: Vec<Change>) -> Self {
        self.changes = c;
        self
    }
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Entry {
    pub seq: i64,
    pub id: String,
    pub at: i64,
    pub actor_id: Option<String>,
    pub actor_name: String,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    pub region_code: String,
    pub outcome: String,
    pub changes: String,
    pub request_id: Option<String>,
    pub ip: Option<String>,
    pub prev_hash: String,
    pub hash: String,
    /// The algorithm of `hash` (`sha256` or `sm3`).
    pub hash_alg: String,
}

impl Entry {
    /// What the hash covers: every field but the hash and its algorithm, in a fixed order. The
    /// algorithm needs no place here: relabelling an entry changes the digest it must match.
    /// (Unchanged since the chain was SHA-256 only, so old entries still verify.)
    pub fn canonical(&self) -> String {
        serde_json::json!([
            self.seq,
            self.id,
            self.at,
            self.actor_id,
            self.actor_name,
            self.action,
            self.entity,
            self.entity_id,
            self.region_code,
            self.outcome,
            self.changes,
            self.request_id,
            self.ip,
            self.prev_hash,
        ])
        .to_string()
    }

    /// The hash with the entry's own algorithm; `None` when that algorithm is unknown.
    pub fn compute_hash(&self) -> Option<String> {
        HashAlg::parse(&self.hash_alg).map(|a| a.digest_hex(self.canonical().as_bytes()))
    }

    pub fn parsed_changes(&self) -> Vec<Change> {
        serde_json::from_str(&self.changes).unwrap_or_default()
    }
}

/// The entry's columns in `Entry`'s order, as SQL text (a macro so `concat!` can use it).
macro_rules! columns {
    () => {
        "seq, id, at, actor_id, actor_name, action, entity, entity_id, region_code, \
         outcome, changes, request_id, ip, prev_hash, hash, hash_alg"
    };
}
const COLUMNS: &str = columns!();
const SELECT: &str = concat!("SELECT ", columns!());

/// Append an entry. Call inside the transaction of the change it records.
pub async fn record(
    conn: &mut AnyConnection,
    backend: Backend,
    actor: &Actor,
    event: Event<'_>,
    now: Millis,
) -> StoreResult<Entry> {
    // The head row serialises appends on PostgreSQL (row lock until commit); on SQLite the single
    // writer connection already does.
    let (seq, prev, alg): (i64, String, String) =
        Sql::new("SELECT seq, hash, hash_alg FROM audit_head WHERE id = 1")
            .push(dialect::for_update(backend))
            .fetch_one(conn)
            .await?;
    // The column's CHECK admits only known names; SHA-256 is the fallback all the same.
    let alg = HashAlg::parse(&alg).unwrap_or(HashAlg::Sha256);
    let mut entry = Entry {
        seq: seq + 1,
        id: new_id(),
        at: now,
        actor_id: actor.user_id.clone(),
        actor_name: actor.username.clone(),
        action: event.action.to_owned(),
        entity: event.entity.to_owned(),
        entity_id: event.entity_id,
        region_code: event
            .region_code
            .unwrap_or_else(|| actor.region_code.clone()),
        outcome: event.outcome.as_str().to_owned(),
        changes: serde_json::to_string(&event.changes)
            .map_err(|e| StoreError::Db(sqlx::Error::Encode(Box::new(e))))?,
        request_id: actor.request_id.clone(),
        ip: actor.ip.clone(),
        prev_hash: prev,
        hash: String::new(),
        hash_alg: alg.as_str().to_owned(),
    };
    entry.hash = alg.digest_hex(entry.canonical().as_bytes());
    let mut q = Sql::new("INSERT INTO audit_log (");
    q.push(COLUMNS).push(") VALUES (");
    q.bind(entry.seq).push(", ");
    q.bind(&entry.id).push(", ");
    q.bind(entry.at).push(", ");
    q.bind(entry.actor_id.clone()).push(", ");
    q.bind(&entry.actor_name).push(", ");
    q.bind(&entry.action).push(", ");
    q.bind(&entry.entity).push(", ");
    q.bind(entry.entity_id.clone()).push(", ");
    q.bind(&entry.region_code).push(", ");
    q.bind(&entry.outcome).push(", ");
    q.bind(&entry.changes).push(", ");
    q.bind(entry.request_id.clone()).push(", ");
    q.bind(entry.ip.clone()).push(", ");
    q.bind(&entry.prev_hash).push(", ");
    q.bind(&entry.hash).push(", ");
    q.bind(&entry.hash_alg).push(")");
    q.execute(conn).await?;
    Sql::new("UPDATE audit_head SET seq = ")
        .bind(entry.seq)
        .push(", hash = ")
        .bind(&entry.hash)
        .push(" WHERE id = 1")
        .execute(conn)
        .await?;
    Ok(entry)
}

/// The algorithm that hashes new entries.
pub async fn hash_algorithm(conn: &mut AnyConnection) -> StoreResult<HashAlg> {
    let (alg,): (String,) = Sql::new("SELECT hash_alg FROM audit_head WHERE id = 1")
        .fetch_one(conn)
        .await?;
    Ok(HashAlg::parse(&alg).unwrap_or(HashAlg::Sha256))
}

/// Make `alg` the digest of entries appended from now on (the server calls this at start with
/// the algorithm its keys imply). Entries already written keep theirs, so the chain verifies
/// across the switch. A switch is itself audited, as the first entry hashed the new way.
/// Returns whether the algorithm changed.
pub async fn use_hash_algorithm(db: &Db, alg: HashAlg, now: Millis) -> StoreResult<bool> {
    let mut tx = db.begin().await?;
    // Locked like an append, so no entry is hashed with the old algorithm after the switch.
    let (current,): (String,) = Sql::new("SELECT hash_alg FROM audit_head WHERE id = 1")
        .push(dialect::for_update(db.backend()))
        .fetch_one(&mut tx)
        .await?;
    if current == alg.as_str() {
        return Ok(false);
    }
    Sql::new("UPDATE audit_head SET hash_alg = ")
        .bind(alg.as_str())
        .push(" WHERE id = 1")
        .execute(&mut tx)
        .await?;
    record(
        &mut tx,
        db.backend(),
        &Actor::system("server"),
        Event::new("update", "audit_log", None).changes(vec![Change::new(
            "hash_algorithm",
            Some(current),
            Some(alg.as_str()),
        )]),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub from: Option<Millis>,
    pub to: Option<Millis>,
    pub actor: Option<String>,
    pub entity: Option<String>,
    pub action: Option<String>,
    pub outcome: Option<String>,
    /// A key of `SORTS`; none is the default order (newest first).
    pub sort: Option<crate::Sort>,
}

/// The orders the audit log offers (key, column; `DESC`: the newest first). Each walks an index
/// of the log (`audit_log_actor`, `audit_log_region`), the sequence breaking ties.
pub const SORTS: &[(&str, &str)] = &[
    ("seq", "seq DESC"),
    ("actor", "actor_name"),
    ("region", "region_code"),
];

fn filtered(select: &'static str, scope: &Scope, f: &Filter) -> Sql {
    let mut q = Sql::new(select);
    q.push(" FROM audit_log WHERE ");
    q.region_range("region_code", scope);
    if let Some(v) = f.from {
        q.push(" AND at >= ").bind(v);
    }
    if let Some(v) = f.to {
        q.push(" AND at < ").bind(v);
    }
    if let Some(v) = f.actor.as_deref().filter(|s| !s.is_empty()) {
        q.push(" AND actor_name = ").bind(v);
    }
    if let Some(v) = f.entity.as_deref().filter(|s| !s.is_empty()) {
        q.push(" AND entity = ").bind(v);
    }
    if let Some(v) = f.action.as_deref().filter(|s| !s.is_empty()) {
        q.push(" AND action = ").bind(v);
    }
    if let Some(v) = f.outcome.as_deref().filter(|s| !s.is_empty()) {
        q.push(" AND outcome = ").bind(v);
    }
    q
}

/// Entries filed in the scope's regions, newest first.
pub async fn list(
    conn: &mut AnyConnection,
    scope: &Scope,
    filter: &Filter,
    page: PageRequest,
) -> StoreResult<Page<Entry>> {
    let mut q = filtered(SELECT, scope, filter);
    if !filter.sort.is_some_and(|s| q.order(s, SORTS, "seq")) {
        q.push(" ORDER BY seq DESC");
    }
    q.fetch_page(conn, &filtered("SELECT COUNT(*)", scope, filter), page)
        .await
}

/// Every match for an export (up to `cap`), in the list's order, as sequence numbers: the export
/// reads the entries a page at a time (`page_of`), so it never holds them all.
pub async fn list_seqs(
    conn: &mut AnyConnection,
    scope: &Scope,
    filter: &Filter,
    cap: i64,
) -> StoreResult<Vec<i64>> {
    let mut q = filtered("SELECT seq", scope, filter);
    if !filter.sort.is_some_and(|s| q.order(s, SORTS, "seq")) {
        q.push(" ORDER BY seq DESC");
    }
    q.push(" LIMIT ").bind(cap);
    let seqs: Vec<(i64,)> = q.fetch_all(conn).await?;
    Ok(seqs.into_iter().map(|(s,)| s).collect())
}

/// The entries of `seqs` (a page of `list_seqs`) still in scope, in the order given. The scope
/// is written so that no index competes with the sequence numbers' (with statistics, SQLite
/// chose the region index and walked the scope's whole log for each page).
pub async fn page_of(
    conn: &mut AnyConnection,
    scope: &Scope,
    seqs: &[i64],
) -> StoreResult<Vec<Entry>> {
    if seqs.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Sql::new(SELECT);
    q.push(" FROM audit_log WHERE ");
    q.region_prefix_unindexed("region_code", scope);
    q.push(" AND seq IN (");
    for (i, seq) in seqs.iter().enumerate() {
        if i > 0 {
            q.push(", ");
        }
        q.bind(*seq);
    }
    q.push(")");
    let mut entries: Vec<Entry> = q.fetch_all(conn).await?;
    let at: std::collections::HashMap<i64, usize> =
        seqs.iter().enumerate().map(|(i, s)| (*s, i)).collect();
    entries.sort_by_key(|e| at.get(&e.seq).copied().unwrap_or(usize::MAX));
    Ok(entries)
}

/// What an auditor looks at first (等保 security audit): sensitive fields revealed, lists
/// exported, permission denials, lockouts and failed sign-ins.
const SENSITIVE: &str = "(action IN ('reveal', 'export', 'permission_denied', 'lockout') OR (action = 'login' AND outcome <> 'success'))";

/// The newest `limit` sensitive events in scope since `since`, and how many there were in all.
/// Read through the `audit_log_action` index (migration 0052), not by walking the log.
pub async fn recent_sensitive(
    conn: &mut AnyConnection,
    scope: &Scope,
    since: Millis,
    limit: i64,
) -> StoreResult<(i64, Vec<Entry>)> {
    let from = |select: &'static str| {
        let mut q = Sql::new(select);
        q.push(" FROM audit_log WHERE ")
            .push(SENSITIVE)
            .push(" AND at >= ")
            .bind(since)
            .push(" AND ");
        q.region_range("region_code", scope);
        q
    };
    let (count,): (i64,) = from("SELECT COUNT(*)").fetch_one(conn).await?;
    let mut q = from(SELECT);
    q.push(" ORDER BY seq DESC LIMIT ").bind(limit);
    Ok((count, q.fetch_all(conn).await?))
}

/// One entry in scope.
pub async fn get(conn: &mut AnyConnection, scope: &Scope, id: &str) -> StoreResult<Entry> {
    let mut q = filtered(SELECT, scope, &Filter::default());
    q.push(" AND id = ").bind(id);
    q.fetch_one(conn).await
}

/// The sign-in before the current one: time and client address of the second-newest successful
/// `login` of this account (the newest is normally the session asking). `None` at the first
/// sign-in, or when retention has cut the older entry.
pub async fn previous_login(
    conn: &mut AnyConnection,
    user_id: &str,
) -> StoreResult<Option<(Millis, Option<String>)>> {
    // Usernames never change, so also matching the actor's name lets the (actor_name, seq) index
    // answer instead of a scan of the whole log.
    let rows: Vec<(i64, Option<String>)> =
        Sql::new("SELECT at, ip FROM audit_log WHERE actor_id = ")
            .bind(user_id)
            .push(" AND actor_name = (SELECT username FROM users WHERE id = ")
            .bind(user_id)
            .push(
                ") AND action = 'login' AND outcome = 'success' AND entity = 'session' \
             ORDER BY seq DESC LIMIT 2",
            )
            .fetch_all(conn)
            .await?;
    Ok(rows.into_iter().nth(1))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Break {
    pub seq: i64,
    pub problem: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    pub checked: i64,
    pub first_seq: i64,
    pub last_seq: i64,
    pub breaks: Vec<Break>,
    /// Entries checked per hash algorithm (`sha256`, `sm3`).
    pub by_algorithm: BTreeMap<String, i64>,
}

impl Verification {
    pub fn ok(&self) -> bool {
        self.breaks.is_empty()
    }

    /// "SHA-256: 120, SM3: 48", for reports.
    pub fn algorithms_summary(&self) -> String {
        self.by_algorithm
            .iter()
            .map(|(a, n)| {
                let name = match HashAlg::parse(a) {
                    Some(HashAlg::Sha256) => "SHA-256",
                    Some(HashAlg::Sm3) => "SM3",
                    None => a.as_str(),
                };
                format!("{name}: {n}")
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Walk the whole chain from the anchor: recompute each hash, check each link and that no
/// sequence number is missing, and that the head points at the last entry.
pub async fn verify(conn: &mut AnyConnection) -> StoreResult<Verification> {
    // One consistent snapshot: appends and retention running meanwhile are not breaks.
    let mut tx = sqlx::Connection::begin(conn).await?;
    if tx.backend_name() == "PostgreSQL" {
        sqlx::Executor::execute(&mut *tx, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            .await?;
    }
    let result = verify_in(&mut tx).await;
    tx.rollback().await?;
    result
}

async fn verify_in(conn: &mut AnyConnection) -> StoreResult<Verification> {
    let (head_seq, head_hash, anchor_seq, anchor_hash): (i64, String, i64, String) =
        Sql::new("SELECT seq, hash, anchor_seq, anchor_hash FROM audit_head WHERE id = 1")
            .fetch_one(conn)
            .await?;
    let mut breaks = Vec::new();
    let (mut expect_seq, mut prev) = (anchor_seq + 1, anchor_hash);
    let mut checked = 0;
    let mut by_algorithm = BTreeMap::new();
    loop {
        let batch: Vec<Entry> = Sql::new(concat!(
            "SELECT ",
            columns!(),
            " FROM audit_log WHERE seq >= "
        ))
        .bind(expect_seq)
        .push(" AND seq <= ")
        .bind(head_seq)
        .push(" ORDER BY seq LIMIT 5000")
        .fetch_all(conn)
        .await?;
        if batch.is_empty() {
            break;
        }
        for e in batch {
            if e.seq != expect_seq {
                breaks.push(Break {
                    seq: expect_seq,
                    problem: "missing",
                });
            }
            if e.prev_hash != prev {
                breaks.push(Break {
                    seq: e.seq,
                    problem: "link",
                });
            }
            // An unknown algorithm cannot vouch for the content either.
            if e.compute_hash().as_deref() != Some(e.hash.as_str()) {
                breaks.push(Break {
                    seq: e.seq,
                    problem: "content",
                });
            }
            *by_algorithm.entry(e.hash_alg.clone()).or_insert(0) += 1;
            prev = e.hash;
            expect_seq = e.seq + 1;
            checked += 1;
        }
    }
    if expect_seq - 1 != head_seq || prev != head_hash {
        breaks.push(Break {
            seq: head_seq,
            problem: "head",
        });
    }
    Ok(Verification {
        checked,
        first_seq: anchor_seq + 1,
        last_seq: expect_seq - 1,
        breaks,
        by_algorithm,
    })
}

/// Retention: delete entries older than `before` from the old end of the chain and move the
/// anchor to the last deleted entry, so the rest still verifies. Returns entries removed.
pub async fn purge_before(
    conn: &mut AnyConnection,
    backend: Backend,
    before: Millis,
) -> StoreResult<i64> {
    let _lock: (i64,) = Sql::new("SELECT seq FROM audit_head WHERE id = 1")
        .push(dialect::for_update(backend))
        .fetch_one(conn)
        .await?;
    // Cut only a prefix of the chain: up to the first entry that is new enough.
    let cut: Option<(i64, String)> = Sql::new(
        "SELECT seq, hash FROM audit_log WHERE seq < COALESCE((SELECT MIN(seq) FROM audit_log WHERE at >= ",
    )
    .bind(before)
    .push("), (SELECT MAX(seq) + 1 FROM audit_log)) ORDER BY seq DESC LIMIT 1")
    .fetch_optional(conn)
    .await?;
    let Some((cut_seq, cut_hash)) = cut else {
        return Ok(0);
    };
    let n = Sql::new("DELETE FROM audit_log WHERE seq <= ")
        .bind(cut_seq)
        .execute(conn)
        .await?;
    Sql::new("UPDATE audit_head SET anchor_seq = ")
        .bind(cut_seq)
        .push(", anchor_hash = ")
        .bind(cut_hash)
        .push(" WHERE id = 1")
        .execute(conn)
        .await?;
    Ok(n as i64)
}
