//! Likely duplicates (the same identity number, or a similar name with the same birth date or
//! home region, across the whole country) and merging one file into another.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde::Serialize;
use shegong_domain::FieldError;
use shegong_domain::people::{self, ResidentStatus};
use sqlx::AnyConnection;

use crate::crypto::KeyRing;
use crate::sql::Sql;
use crate::{Millis, StoreResult, statistics::counters};

use super::residents::{ID_FIELD, Resident, ResidentInput, SELECT, Viewer, get};
use super::visit_rules::refresh_schedule;

/// A record that may be the same person as the one being entered.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    pub id: String,
    pub name: String,
    pub birth_date: String,
    pub region_path: String,
    /// Whether the viewer may open it. When not, `name`, `birth_date` and `region_path` are
    /// empty (a protected child's or another agency's client is not described to strangers)
    /// and `ask` says whom to ask instead.
    pub visible: bool,
    /// `same_id`, `same_birth_date` or `same_region`.
    pub reason: &'static str,
    pub ask: Option<AskAbout>,
}

/// Whom to ask about a possible duplicate in a file the viewer cannot open: the responsible
/// station (name and phone), or when the file has none the county's civil-affairs office.
#[derive(Debug, Clone, Serialize)]
pub struct AskAbout {
    pub station_name: Option<String>,
    pub station_phone: Option<String>,
    /// The county (district) whose civil-affairs office answers for the file, as a path.
    pub office: Option<String>,
}

/// Whom to ask about a file: its station, or the civil-affairs office of its county.
async fn ask_about(
    conn: &mut AnyConnection,
    station_id: Option<&str>,
    region_code: &str,
) -> StoreResult<AskAbout> {
    if let Some(sid) = station_id {
        let st: Option<(String, String)> = Sql::new("SELECT name, phone FROM stations WHERE id = ")
            .bind(sid)
            .fetch_optional(conn)
            .await?;
        if let Some((name, phone)) = st {
            return Ok(AskAbout {
                station_name: Some(name),
                station_phone: Some(phone).filter(|p| !p.is_empty()),
                office: None,
            });
        }
    }
    let path: Option<(String,)> = Sql::new("SELECT path_names FROM regions WHERE code = ")
        .bind(county(region_code))
        .fetch_optional(conn)
        .await?;
    Ok(AskAbout {
        station_name: None,
        station_phone: None,
        office: path.map(|(p,)| shegong_domain::network::region::display_path(p.split('/'))),
    })
}

/// The county of a region code: whom to ask names the county, not the township, which would
/// say where the person lives.
fn county(region_code: &str) -> String {
    region_code.chars().take(6).collect()
}

/// Exact duplicate: another record with this identity number (anywhere, whatever the scope).
pub(super) async fn id_owner(
    conn: &mut AnyConnection,
    hash: &str,
    except: Option<&str>,
) -> StoreResult<Option<String>> {
    let mut q = Sql::new("SELECT id FROM residents WHERE id_number_hash = ");
    q.bind(hash);
    if let Some(e) = except {
        q.push(" AND id <> ").bind(e);
    }
    q.fetch_optional::<(String,)>(conn)
        .await
        .map(|o| o.map(|(id,)| id))
}

/// Whether a file with this identity number exists (anywhere, in any status).
pub async fn id_on_file(
    conn: &mut AnyConnection,
    keys: &KeyRing,
    number: &str,
) -> StoreResult<bool> {
    Ok(id_owner(conn, &keys.lookup_hash(ID_FIELD, number), None)
        .await?
        .is_some())
}

/// Records that are probably the same person: the same identity number, or a similar name
/// (same characters, pinyin or one character apart) with the same birth date or the same home
/// region. Looks across the whole country (a person moves); `visible` says what the viewer may open.
pub async fn likely_duplicates(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    keys: &KeyRing,
    input: &ResidentInput,
    except: Option<&str>,
) -> StoreResult<Vec<Candidate>> {
    let mut found = find(conn, viewer, keys, &[input], except).await?;
    Ok(found.pop().unwrap_or_default())
}

/// [`likely_duplicates`] of every input at once (the rows of an imported sheet): the same
/// candidates in the same order for each.
///
/// Looking at every record an input's branches reach costs, for a sheet of 10^5 rows against
/// 10^6 files, millions of rows read. Instead each branch is asked once for the whole sheet:
/// how many records each birth date, pinyin key, home region and first character, and
/// identity number reaches (an upper bound of what an input reaches), and only the records
/// that can be alike — a similar name starts with the same syllable, so its pinyin key starts
/// with the key of the first character — with the same birth date or home region or number.
/// An input whose bound passes [`SCANNED`], where the oldest-first cut could change the
/// answer, is looked up on its own as [`likely_duplicates`] does.
///
/// `places` keeps what was counted per home region for the next call of the same check (a
/// sheet asked in chunks reaches the same regions in every chunk).
///
/// The inputs are looked up [`PROBES`] at a time: what is held at once is the records those
/// reach, not those of a whole chunk of the sheet. Each input's candidates depend only on the
/// records its own branches reach, so the answer is the same.
pub async fn likely_duplicates_of_each(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    keys: &KeyRing,
    inputs: &[&ResidentInput],
    places: &mut PlaceCounts,
) -> StoreResult<Vec<Vec<Candidate>>> {
    let mut out = Vec::with_capacity(inputs.len());
    for slice in inputs.chunks(PROBES) {
        out.extend(of_slice(conn, viewer, keys, slice, places).await?);
    }
    Ok(out)
}

/// Inputs whose alike records are read and held at once. At 10^6 files (a province's
/// varied names) those of a 5,000-row check chunk were 63 MB of the server's heap.
const PROBES: usize = 1_000;

async fn of_slice(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    keys: &KeyRing,
    inputs: &[&ResidentInput],
    places: &mut PlaceCounts,
) -> StoreResult<Vec<Vec<Candidate>>> {
    let started = std::time::Instant::now();
    let probes: Vec<Probe<'_>> = inputs.iter().map(|i| Probe::new(keys, i)).collect();
    let bounds = reach_bounds(conn, &probes, places).await?;
    let counted = started.elapsed();
    let near = alike_records(conn, &probes).await?;
    let read = started.elapsed();
    // Each record's name worked out once, and the records by what a probe's branches match on:
    // its birth date, its home region with the first character of its name, its pinyin key,
    // its number.
    let forms: Vec<people::NameForm> = near
        .iter()
        .map(|r| people::NameForm::with_key(&r.name, r.name_key.clone()))
        .collect();
    let mut by_birth: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut by_place: HashMap<(&str, Option<char>), Vec<usize>> = HashMap::new();
    let mut by_region: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut by_hash: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut by_key: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, r) in near.iter().enumerate() {
        by_birth.entry(r.birth_date.as_str()).or_default().push(i);
        // The same pinyin key reaches a record whatever its first character (張 and 张).
        by_key.entry(r.name_key.as_str()).or_default().push(i);
        by_place
            .entry((r.region_code.as_str(), r.name.chars().next()))
            .or_default()
            .push(i);
        by_region.entry(r.region_code.as_str()).or_default().push(i);
        if let Some(h) = &r.id_number_hash {
            by_hash.entry(h.as_str()).or_default().push(i);
        }
    }
    let mut picked: Vec<Vec<(&Found, &'static str)>> = Vec::with_capacity(probes.len());
    let mut alone: Vec<usize> = Vec::new();
    for (n, p) in probes.iter().enumerate() {
        if bounds.get(n).is_none_or(|b| *b > SCANNED as i64) {
            alone.push(n);
            picked.push(Vec::new());
            continue;
        }
        // A region's records whose name starts with the probe's first character (all of them
        // for a probe without one: every name starts with "").
        let place = match p.first.chars().next() {
            Some(first) => by_place.get(&(p.region.as_str(), Some(first))),
            None => by_region.get(p.region.as_str()),
        };
        let mut seen: Vec<usize> = [
            by_birth.get(p.birth_date),
            place,
            by_key.get(p.name_key.as_str()),
            p.hash.as_deref().and_then(|h| by_hash.get(h)),
        ]
        .into_iter()
        .flatten()
        .flatten()
        .copied()
        .collect();
        seen.sort_unstable();
        seen.dedup();
        let mut found: Vec<(&Found, &'static str)> = seen
            .into_iter()
            .filter_map(|i| Some((near.get(i)?, forms.get(i)?)))
            .filter(|(r, _)| p.reaches(r))
            .filter_map(|(r, form)| p.reason_by(r, form).map(|reason| (r, reason)))
            .collect();
        // Oldest first, as the look-up of one input orders them.
        found.sort_by(|(a, _), (b, _)| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        found.truncate(KEPT);
        picked.push(found);
    }
    let matched = started.elapsed();
    let mut out = describe(conn, viewer, picked).await?;
    tracing::debug!(
        probes = probes.len(),
        records = near.len(),
        alone = alone.len(),
        count_ms = counted.as_millis(),
        read_ms = (read - counted).as_millis(),
        match_ms = (matched - read).as_millis(),
        describe_ms = (started.elapsed() - matched).as_millis(),
        "likely duplicates of each"
    );
    for n in alone {
        if let (Some(input), Some(slot)) = (inputs.get(n), out.get_mut(n)) {
            *slot = find(conn, viewer, keys, &[input], None)
                .await?
                .pop()
                .unwrap_or_default();
        }
    }
    Ok(out)
}

/// For each probe, at least how many active records its branches reach (at most [`SCANNED`]
/// matters): the records of its birth date, pinyin key and identity number whatever their
/// status, and of its home region by first character of the name.
async fn reach_bounds(
    conn: &mut AnyConnection,
    probes: &[Probe<'_>],
    memo: &mut PlaceCounts,
) -> StoreResult<Vec<i64>> {
    let births = counts(
        conn,
        "SELECT birth_date, COUNT(*) FROM residents WHERE birth_date IN (",
        ") GROUP BY birth_date",
        distinct(probes.iter().map(|p| p.birth_date.to_owned())),
    )
    .await?;
    let names = counts(
        conn,
        "SELECT name_key, COUNT(*) FROM residents WHERE name_key IN (",
        ") GROUP BY name_key",
        distinct(probes.iter().map(|p| p.name_key.clone())),
    )
    .await?;
    let numbers = counts(
        conn,
        "SELECT id_number_hash, COUNT(*) FROM residents WHERE id_number_hash IN (",
        ") GROUP BY id_number_hash",
        distinct(probes.iter().filter_map(|p| p.hash.clone())),
    )
    .await?;
    let get = |m: &HashMap<String, i64>, k: &str| m.get(k).copied().unwrap_or(0);
    let others: Vec<i64> = probes
        .iter()
        .map(|p| {
            get(&births, p.birth_date)
                + get(&names, &p.name_key)
                + p.hash.as_deref().map_or(0, |h| get(&numbers, h))
        })
        .collect();
    // Every active record of the home region first (the region index alone answers); only
    // where that is too many, by the first character of the name (which reads the records).
    let new_regions = distinct(
        probes
            .iter()
            .filter(|p| !memo.totals.contains_key(&p.region))
            .map(|p| p.region.clone()),
    );
    let found = counts(
        conn,
        "SELECT region_code, COUNT(*) FROM residents r WHERE COALESCE(r.status, '') = 'active' AND r.region_code IN (",
        ") GROUP BY region_code",
        new_regions.clone(),
    )
    .await?;
    // A region without records counts 0, and is not asked again.
    memo.totals.extend(new_regions.into_iter().map(|r| (r, 0)));
    memo.totals.extend(found);
    let region_totals = &memo.totals;
    let crowded = distinct(
        probes
            .iter()
            .zip(&others)
            .filter(|(p, other)| *other + get(region_totals, &p.region) > SCANNED as i64)
            .filter(|(p, _)| !memo.crowded.contains(&p.region))
            .map(|(p, _)| p.region.clone()),
    );
    // (region, first character of the name) → active records.
    memo.crowded.extend(crowded.iter().cloned());
    let places = &mut memo.by_first;
    for chunk in crowded.chunks(CHUNK * 5) {
        let mut q = Sql::new(
            "SELECT region_code, substr(name, 1, 1) AS f, COUNT(*) FROM residents r \
             WHERE COALESCE(r.status, '') = 'active' AND r.region_code IN (",
        );
        bind_list(&mut q, chunk);
        q.push(") GROUP BY region_code, substr(name, 1, 1)");
        let rows: Vec<(String, String, i64)> = q.fetch_all(conn).await?;
        places.extend(rows.into_iter().map(|(r, f, n)| ((r, f), n)));
    }
    Ok(probes
        .iter()
        .zip(others)
        .map(|(p, other)| {
            let total = get(region_totals, &p.region);
            // `name LIKE 'f%'`: SQLite ignores ASCII case; a wildcard or escape matches more.
            let place = if other + total <= SCANNED as i64
                || p.first.is_empty()
                || p.first.contains(['%', '_', '\\'])
            {
                total
            } else {
                let mut cases = vec![
                    p.first.clone(),
                    p.first.to_ascii_lowercase(),
                    p.first.to_ascii_uppercase(),
                ];
                cases.sort();
                cases.dedup();
                cases
                    .into_iter()
                    .map(|f| places.get(&(p.region.clone(), f)).copied().unwrap_or(0))
                    .sum()
            };
            other + place
        })
        .collect())
}

/// Active records per home region, and per region and first character of the name where a
/// region has many, counted once per check.
#[derive(Default)]
pub struct PlaceCounts {
    totals: HashMap<String, i64>,
    crowded: HashSet<String>,
    by_first: HashMap<(String, String), i64>,
}

/// `head values… tail` in chunks: value → count.
async fn counts(
    conn: &mut AnyConnection,
    head: &'static str,
    tail: &'static str,
    values: Vec<String>,
) -> StoreResult<HashMap<String, i64>> {
    let mut out = HashMap::new();
    for chunk in values.chunks(CHUNK * 5) {
        let mut q = Sql::new(head);
        bind_list(&mut q, chunk);
        q.push(tail);
        let rows: Vec<(String, i64)> = q.fetch_all(conn).await?;
        out.extend(rows);
    }
    Ok(out)
}

fn distinct(values: impl Iterator<Item = String>) -> Vec<String> {
    values.collect::<BTreeSet<_>>().into_iter().collect()
}

/// Name keys `[from, to)` by code point; `to` absent: no upper bound.
type KeyRange = (String, Option<String>);

/// The range of pinyin keys starting with the key of a probe's first character, where every
/// name alike to it has its key: `[from, to)` by code point (`to` absent: no upper bound), or
/// `None` when the probe has no first character (every key).
fn syllable_range(p: &Probe<'_>) -> Option<KeyRange> {
    let from = people::name_key(&p.first);
    if from.is_empty() {
        return None;
    }
    let mut chars: Vec<char> = from.chars().collect();
    // The least string above every string starting with `from`: its last character that can
    // grow, grown, and the rest cut off.
    let to = loop {
        let Some(last) = chars.pop() else {
            break None;
        };
        let next = match last {
            '\u{D7FF}' => Some('\u{E000}'),
            c => char::from_u32(u32::from(c) + 1),
        };
        if let Some(next) = next {
            chars.push(next);
            break Some(chars.into_iter().collect());
        }
    };
    Some((from, to))
}

/// `AND r.name_key` within the range: an index range after the branch's equality columns.
fn push_range(q: &mut Sql, range: &Option<KeyRange>) {
    if let Some((from, to)) = range {
        q.push(" AND r.name_key >= ").bind(from.as_str());
        if let Some(to) = to {
            q.push(" AND r.name_key < ").bind(to.as_str());
        }
    }
}

const COLUMNS: &str = "r.id, r.name, r.name_key, r.birth_date, r.region_code, '' AS region_path, r.id_number_hash, r.station_id, r.created_at";

/// `SELECT` of the look-up's columns from residents `r`, up to `WHERE `.
fn lean() -> Sql {
    let mut q = Sql::new("SELECT ");
    q.push(COLUMNS).push(" FROM residents r WHERE ");
    q
}

/// A branch of [`alike_records`]: `column` equal to a value of the sheet's and the name key
/// within a range. Bounded ranges are one join of a `VALUES` list with the index (one plan,
/// however many pairs); the rare unbounded ones are asked one by one.
async fn read_ranges(
    conn: &mut AnyConnection,
    column: &'static str,
    active: &'static str,
    pairs: Vec<(&str, Option<KeyRange>)>,
    out: &mut Vec<Found>,
) -> StoreResult<()> {
    let mut bounded: Vec<(&str, String, String)> = Vec::new();
    for (value, range) in pairs {
        match range {
            Some((from, Some(to))) => bounded.push((value, from, to)),
            range => {
                let mut q = lean();
                q.push(active)
                    .push(" AND r.")
                    .push(column)
                    .push(" = ")
                    .bind(value);
                push_range(&mut q, &range);
                out.extend(q.fetch_all::<Found>(conn).await?);
            }
        }
    }
    for chunk in bounded.chunks(RANGES) {
        let mut q = Sql::new("WITH p(v, lo, hi) AS (VALUES ");
        for (i, (value, from, to)) in chunk.iter().enumerate() {
            q.push(if i == 0 { "(" } else { ", (" })
                .bind(*value)
                .push(", ")
                .bind(from.as_str())
                .push(", ")
                .bind(to.as_str())
                .push(")");
        }
        if conn.backend_name() == "PostgreSQL" {
            // A lateral subquery per pair, each a short index range: left to choose, PostgreSQL
            // may hash a long list against a scan of every resident (this read took 1.7–1.9 s
            // per 5,000 rows at 10^6 files, about what ten such scans cost).
            q.push(") SELECT r.* FROM p CROSS JOIN LATERAL (SELECT ")
                .push(COLUMNS)
                .push(" FROM residents r WHERE r.")
                .push(column)
                .push(" = p.v AND r.name_key >= p.lo AND r.name_key < p.hi AND ")
                .push(active)
                .push(") r");
        } else {
            q.push(") SELECT ")
                .push(COLUMNS)
                .push(" FROM p JOIN residents r ON r.")
                .push(column)
                .push(" = p.v AND r.name_key >= p.lo AND r.name_key < p.hi WHERE ")
                .push(active);
        }
        out.extend(q.fetch_all::<Found>(conn).await?);
    }
    Ok(())
}

/// (value, name-key range) pairs per `WITH … VALUES` join: 3,000 parameters.
const RANGES: usize = 1_000;

/// The active records that can be a probe's candidate: the same identity number, or a pinyin
/// key starting with the probe's first syllable and the same birth date or home region; with
/// their regions' paths. Each (birth date or region, syllable) pair is one range of the
/// `residents_birth` or `residents_region` index, so only records whose names can be alike
/// are read.
async fn alike_records(conn: &mut AnyConnection, probes: &[Probe<'_>]) -> StoreResult<Vec<Found>> {
    let mut out: Vec<Found> = Vec::new();
    let births: BTreeSet<(&str, Option<KeyRange>)> = probes
        .iter()
        .map(|p| (p.birth_date, syllable_range(p)))
        .collect();
    // The status test wrapped: the birth-date index, not a status-led one, answers.
    let wrapped = "COALESCE(r.status, '') = 'active'";
    read_ranges(
        conn,
        "birth_date",
        wrapped,
        births.into_iter().collect(),
        &mut out,
    )
    .await?;
    let places: BTreeSet<(&str, Option<KeyRange>)> = probes
        .iter()
        .map(|p| (p.region.as_str(), syllable_range(p)))
        .collect();
    // The region index holds the status: its range is region, status, name key.
    let plain = "r.status = 'active'";
    read_ranges(
        conn,
        "region_code",
        plain,
        places.into_iter().collect(),
        &mut out,
    )
    .await?;
    let hashes = distinct(probes.iter().filter_map(|p| p.hash.clone()));
    for chunk in hashes.chunks(CHUNK * 5) {
        let mut q = lean();
        q.push("COALESCE(r.status, '') = 'active' AND r.id_number_hash IN (");
        bind_list(&mut q, chunk);
        q.push(")");
        out.extend(q.fetch_all::<Found>(conn).await?);
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out.dedup_by(|a, b| a.id == b.id);
    let regions = distinct(out.iter().map(|r| r.region_code.clone()));
    let mut paths: HashMap<String, String> = HashMap::new();
    for chunk in regions.chunks(CHUNK * 5) {
        let mut q = Sql::new("SELECT code, path_names FROM regions WHERE code IN (");
        bind_list(&mut q, chunk);
        q.push(")");
        let rows: Vec<(String, String)> = q.fetch_all(conn).await?;
        paths.extend(rows);
    }
    for r in &mut out {
        if let Some(path) = paths.get(&r.region_code) {
            r.region_path.clone_from(path);
        }
    }
    Ok(out)
}

/// Inputs per query: each binds up to five values (see `import::lookups::CHUNK`).
const CHUNK: usize = 60;
/// Records looked at per input, oldest first.
const SCANNED: usize = 2000;
/// Candidates kept per input.
const KEPT: usize = 20;

/// A record found by one of the branches of the look-up.
#[derive(sqlx::FromRow)]
struct Found {
    id: String,
    name: String,
    name_key: String,
    birth_date: String,
    region_code: String,
    region_path: String,
    id_number_hash: Option<String>,
    station_id: Option<String>,
    created_at: i64,
}

/// What one input is looked up by.
struct Probe<'a> {
    form: people::NameForm,
    name_key: String,
    /// The first character of the normalised name: a name one character apart keeps it.
    first: String,
    birth_date: &'a str,
    region: String,
    hash: Option<String>,
}

impl<'a> Probe<'a> {
    fn new(keys: &KeyRing, input: &'a ResidentInput) -> Self {
        let form = people::NameForm::new(&input.name);
        Probe {
            name_key: people::name_key(&input.name),
            first: form.first().map(String::from).unwrap_or_default(),
            form,
            birth_date: &input.birth_date,
            region: input
                .region
                .as_ref()
                .map(|r| r.to_string())
                .unwrap_or_default(),
            hash: input
                .id_number
                .as_deref()
                .map(|n| keys.lookup_hash(ID_FIELD, n)),
        }
    }

    /// Whether one of this input's branches finds the record.
    fn reaches(&self, r: &Found) -> bool {
        r.name_key == self.name_key
            || r.birth_date == self.birth_date
            || (r.region_code == self.region && r.name.starts_with(self.first.as_str()))
            || (self.hash.is_some() && r.id_number_hash == self.hash)
    }

    /// Why the record is probably this person, if it is.
    fn reason(&self, r: &Found) -> Option<&'static str> {
        self.reason_by(r, &people::NameForm::with_key(&r.name, r.name_key.clone()))
    }

    /// [`Probe::reason`] with the record's name already worked out.
    fn reason_by(&self, r: &Found, form: &people::NameForm) -> Option<&'static str> {
        if self.hash.is_some() && r.id_number_hash == self.hash {
            Some("same_id")
        } else if !self.form.alike(form) {
            None
        } else if r.birth_date == self.birth_date {
            Some("same_birth_date")
        } else if r.region_code == self.region {
            Some("same_region")
        } else {
            None
        }
    }
}

/// Each input's candidates: the records its branches reach, oldest first (at most [`SCANNED`]),
/// that are alike, at most [`KEPT`], the same identity number first; described when visible.
async fn find(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    keys: &KeyRing,
    inputs: &[&ResidentInput],
    except: Option<&str>,
) -> StoreResult<Vec<Vec<Candidate>>> {
    let probes: Vec<Probe<'_>> = inputs.iter().map(|i| Probe::new(keys, i)).collect();
    let rows = reached(conn, &probes).await?;
    let picked: Vec<Vec<(&Found, &'static str)>> = probes
        .iter()
        .map(|p| {
            rows.iter()
                .filter(|r| p.reaches(r))
                .take(SCANNED)
                .filter(|r| Some(r.id.as_str()) != except)
                .filter_map(|r| p.reason(r).map(|reason| (r, reason)))
                .take(KEPT)
                .collect()
        })
        .collect();
    describe(conn, viewer, picked).await
}

/// The candidates picked for each input, described as far as the viewer may open them.
async fn describe(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    picked: Vec<Vec<(&Found, &'static str)>>,
) -> StoreResult<Vec<Vec<Candidate>>> {
    let ids: Vec<&str> = picked
        .iter()
        .flatten()
        .map(|(r, _)| r.id.as_str())
        .collect();
    let visible = visible_ids(conn, viewer, &ids).await?;
    let mut asked: HashMap<(Option<String>, String), AskAbout> = HashMap::new();
    let mut out = Vec::with_capacity(picked.len());
    for found in picked {
        let mut candidates = Vec::with_capacity(found.len());
        for (r, reason) in found {
            candidates.push(if visible.contains(r.id.as_str()) {
                Candidate {
                    id: r.id.clone(),
                    name: r.name.clone(),
                    birth_date: r.birth_date.clone(),
                    region_path: shegong_domain::network::region::display_path(
                        r.region_path.split('/'),
                    ),
                    visible: true,
                    reason,
                    ask: None,
                }
            } else {
                let key = (r.station_id.clone(), county(&r.region_code));
                let ask = match asked.get(&key) {
                    Some(a) => a.clone(),
                    None => {
                        let a = ask_about(conn, r.station_id.as_deref(), &r.region_code).await?;
                        asked.insert(key, a.clone());
                        a
                    }
                };
                Candidate {
                    id: r.id.clone(),
                    name: String::new(),
                    birth_date: String::new(),
                    region_path: String::new(),
                    visible: false,
                    reason,
                    ask: Some(ask),
                }
            });
        }
        candidates.sort_by_key(|c| c.reason != "same_id");
        out.push(candidates);
    }
    Ok(out)
}

/// The active records any probe's branches reach, oldest first. Each branch reads one index:
/// the same pinyin key, the same birth date, the same home region with the same first character,
/// the same identity number; each is small even among millions of files.
async fn reached(conn: &mut AnyConnection, probes: &[Probe<'_>]) -> StoreResult<Vec<Found>> {
    let distinct = |f: &dyn Fn(&Probe<'_>) -> Option<String>| -> Vec<String> {
        probes
            .iter()
            .filter_map(f)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    };
    let name_keys = distinct(&|p| Some(p.name_key.clone()));
    let births = distinct(&|p| Some(p.birth_date.to_owned()));
    let hashes = distinct(&|p| p.hash.clone());
    let places: BTreeSet<(&str, &str)> = probes
        .iter()
        .map(|p| (p.region.as_str(), p.first.as_str()))
        .collect();
    // The status test is wrapped so that no status-led index (the list's) competes with the branch's
    // own: without table statistics SQLite would otherwise walk every active file per branch.
    const BRANCH: &str = "SELECT r.id, r.name, r.name_key, r.birth_date, r.region_code, g.path_names AS region_path, r.id_number_hash, r.station_id, r.created_at \
        FROM residents r JOIN regions g ON g.code = r.region_code WHERE COALESCE(r.status, '') = 'active' AND ";
    let mut q = Sql::new(
        "SELECT id, name, name_key, birth_date, region_code, region_path, id_number_hash, station_id, created_at FROM (",
    );
    q.push(BRANCH).push("r.name_key IN (");
    bind_list(&mut q, &name_keys);
    q.push(") UNION ").push(BRANCH).push("r.birth_date IN (");
    bind_list(&mut q, &births);
    q.push(") UNION ").push(BRANCH).push("(");
    for (i, (region, first)) in places.iter().enumerate() {
        if i > 0 {
            q.push(" OR ");
        }
        q.push("(r.region_code = ")
            .bind(region.to_string())
            .push(" AND r.name LIKE ")
            .bind(format!("{first}%"))
            .push(")");
    }
    q.push(")");
    if !hashes.is_empty() {
        q.push(" UNION ").push(BRANCH).push("r.id_number_hash IN (");
        bind_list(&mut q, &hashes);
        q.push(")");
    }
    q.push(") t ORDER BY created_at, id");
    // One input's look-up needs no more than it looks at.
    if probes.len() == 1 {
        q.push(" LIMIT 2000");
    }
    q.fetch_all(conn).await
}

fn bind_list(q: &mut Sql, values: &[String]) {
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            q.push(", ");
        }
        q.bind(v.as_str());
    }
}

/// Which of these records the viewer may open (as `residents::get` decides).
async fn visible_ids(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    ids: &[&str],
) -> StoreResult<HashSet<String>> {
    let ids: BTreeSet<&str> = ids.iter().copied().collect();
    let ids: Vec<String> = ids.into_iter().map(str::to_owned).collect();
    let mut out = HashSet::new();
    for chunk in ids.chunks(CHUNK * 5) {
        let mut q = Sql::new(SELECT);
        q.push(" AND r.id IN (");
        bind_list(&mut q, chunk);
        q.push(")");
        viewer.restrict(&mut q);
        let rows: Vec<Resident> = q.fetch_all(conn).await?;
        out.extend(rows.into_iter().map(|r| r.id));
    }
    Ok(out)
}

/// Merge `drop` into `keep`: memberships, tier history, cases, services and attendance move
/// over, an identity number moves when `keep` has none, and `drop` stays as a `merged` record
/// pointing at `keep`. Nothing is deleted.
pub async fn merge(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    keep: &str,
    drop: &str,
    now: Millis,
) -> StoreResult<(Resident, Resident)> {
    let k = get(conn, viewer, keep).await?;
    let d = get(conn, viewer, drop)
        .await
        .map_err(|_| FieldError::new("other", "resident.unknown"))?;
    if k.id == d.id || d.status != ResidentStatus::Active {
        return Err(FieldError::new("other", "resident.same_person").into());
    }
    let counted = counters::contribution(
        conn,
        &[
            counters::Subject::Resident(keep),
            counters::Subject::Resident(drop),
        ],
    )
    .await?;
    for update in [
        "UPDATE resident_memberships SET resident_id = ",
        "UPDATE risk_history SET resident_id = ",
        "UPDATE cases SET resident_id = ",
        "UPDATE services SET resident_id = ",
    ] {
        Sql::new(update)
            .bind(keep)
            .push(" WHERE resident_id = ")
            .bind(drop)
            .execute(conn)
            .await?;
    }
    Sql::new("UPDATE service_participants SET resident_id = ").bind(keep).push(" WHERE resident_id = ").bind(drop)
        .push(" AND NOT EXISTS (SELECT 1 FROM service_participants x WHERE x.service_id = service_participants.service_id AND x.resident_id = ").bind(keep).push(")")
        .execute(conn).await?;
    Sql::new("DELETE FROM service_participants WHERE resident_id = ")
        .bind(drop)
        .execute(conn)
        .await?;
    if k.id_number_sealed.is_none() && d.id_number_sealed.is_some() {
        let hash: (Option<String>,) = Sql::new("SELECT id_number_hash FROM residents WHERE id = ")
            .bind(drop)
            .fetch_one(conn)
            .await?;
        Sql::new("UPDATE residents SET id_number_hash = NULL WHERE id = ")
            .bind(drop)
            .execute(conn)
            .await?;
        Sql::new("UPDATE residents SET id_type = ")
            .bind(d.id_type.clone())
            .push(", id_number_sealed = ")
            .bind(d.id_number_sealed.clone())
            .push(", id_number_hash = ")
            .bind(hash.0)
            .push(" WHERE id = ")
            .bind(keep)
            .execute(conn)
            .await?;
    }
    let last = [k.last_visit_on.clone(), d.last_visit_on.clone()]
        .into_iter()
        .flatten()
        .max();
    Sql::new("UPDATE residents SET last_visit_on = ")
        .bind(last)
        .push(", updated_at = ")
        .bind(now)
        .push(" WHERE id = ")
        .bind(keep)
        .execute(conn)
        .await?;
    Sql::new("UPDATE residents SET status = 'merged', merged_into = ")
        .bind(keep)
        .push(", updated_at = ")
        .bind(now)
        .push(" WHERE id = ")
        .bind(drop)
        .execute(conn)
        .await?;
    refresh_schedule(conn, keep).await?;
    counters::changed(
        conn,
        &[
            counters::Subject::Resident(keep),
            counters::Subject::Resident(drop),
        ],
        counted,
    )
    .await?;
    Ok((k, d))
}
