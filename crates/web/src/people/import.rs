//! The residents sheet (a 低保 roll from another department, say): residents are only ever
//! registered. Identity numbers are validated and matched by their keyed hash, inside the file
//! and against every record (a number already on file is never imported again); likely
//! duplicates by name with the same birth date or home region, against the register and the
//! earlier rows of the sheet, are skipped for registering by hand, where the candidates can be
//! looked at. Numbers and phones are masked in the preview.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use shegong_domain::RegionLevel;
use shegong_domain::people::{self, identity::mask};
use shegong_store::import::lookups;
use shegong_store::people::duplicates::{self, Candidate};
use shegong_store::people::households::{self, Category, MembershipInput};
use shegong_store::people::register_bulk::{Registration, register_all};
use shegong_store::people::residents::{self, ResidentInput, Viewer};
use shegong_store::{Conn, StoreError, StoreResult};

use crate::http::error::WebResult;
use crate::import::engine::{
    Action, BoxFuture, CellMessage, Change, Failed, Importer, Job, Lists, Memo, Planned, Rows, Sink,
};
use crate::import::resolve::{self, RegionIndex, RegionMiss};
use crate::import::schema::{CellError, Kind, Row, SEXES, Schema, col};
use crate::import::sheet;
use crate::ui::forms::FormData;
use crate::ui::i18n::{Lang, Tr};

const RISK_TIERS: &[(&str, &[&str])] = &[
    ("high", &["高风险", "高"]),
    ("key", &["重点", "重点关注"]),
    ("general", &["一般", "普通", "低风险"]),
];
/// The labels of `resident.basis.*` (people.toml); the default first.
const BASES: &[(&str, &[&str])] = &[
    ("statutory_duty", &["履行法定职责", "法定职责"]),
    ("consent", &["本人同意"]),
    ("guardian_consent", &["监护人同意"]),
    ("vital_interest", &["紧急情况下保护生命健康", "紧急情况"]),
];

static COLUMNS: Schema = Schema {
    name_zh: "服务对象",
    name_en: "Residents",
    columns: &[
        col!(
            "name",
            "姓名",
            "Name",
            [
                "对象姓名",
                "户主姓名",
                "救助对象姓名",
                "服务对象姓名",
                "人员姓名",
                "成员姓名"
            ],
            true,
            Kind::Text { max_chars: 50 },
            "",
            ""
        ),
        col!(
            "id_number",
            "证件号码",
            "ID number",
            [
                "身份证号",
                "身份证号码",
                "公民身份号码",
                "证件号",
                "公民身份证号",
                "身份证",
                "身份证件号码"
            ],
            false,
            Kind::Text { max_chars: 30 },
            "居民身份证号码，按国家标准校验；已登记的号码不重复导入",
            "Resident ID number, checked against the national standard; numbers already on file are not imported again"
        ),
        col!(
            "sex",
            "性别",
            "Sex",
            [],
            false,
            Kind::Choice(SEXES),
            "留空时按证件号码推算",
            "From the ID number when empty"
        ),
        col!(
            "birth_date",
            "出生日期",
            "Birth date",
            ["出生年月日", "生日", "出生年月", "出生时间"],
            false,
            Kind::Date,
            "无证件号码时必填；有证件号码时可留空",
            "Required without an ID number; may be empty with one"
        ),
        col!(
            "ethnicity",
            "民族",
            "Ethnicity",
            ["族别"],
            false,
            Kind::Text { max_chars: 20 },
            "",
            ""
        ),
        col!(
            "county",
            "所属县（市、区）",
            "County",
            crate::import::header::COUNTY_SYNONYMS,
            false,
            Kind::Region,
            "可选：居住地所属的县（市、区），用于区分重名乡镇、村（社区）",
            "Optional: the home's county, to tell apart townships and villages of the same name"
        ),
        col!(
            "region",
            "居住地区划代码",
            "Home region code",
            [
                "居住地",
                "区划代码",
                "居住地区划",
                "所在村（社区）",
                "村（社区）",
                "所在村",
                "所在社区",
                "乡镇（街道）",
                "所在乡镇",
                "乡镇街道",
                "乡镇",
                "街道",
                "region",
                "所在村（居）",
                "村（居）",
                "村居",
                "村（居）委会"
            ],
            true,
            Kind::Region,
            "9 位乡镇（街道）或 12 位村（社区）区划代码，也可填写名称，如“月塘街道”",
            "9-digit township or 12-digit village code, or its name"
        ),
        col!(
            "address",
            "详细住址",
            "Address",
            [
                "住址",
                "家庭住址",
                "居住地址",
                "地址",
                "具体地址",
                "详细地址",
                "现住址",
                "家庭地址"
            ],
            false,
            Kind::Text { max_chars: 200 },
            "",
            ""
        ),
        col!(
            "phone",
            "联系电话",
            "Phone",
            ["电话", "手机", "手机号码", "联系方式", "联系手机", "手机号"],
            false,
            Kind::Text { max_chars: 40 },
            "手机号码或固定电话",
            "Mobile or landline"
        ),
        col!(
            "risk_tier",
            "风险等级",
            "Risk tier",
            ["风险级别"],
            false,
            Kind::Choice(RISK_TIERS),
            "高风险、重点或一般；默认为一般",
            "High, key or general; defaults to general"
        ),
        col!(
            "legal_basis",
            "处理依据",
            "Legal basis",
            ["信息处理依据"],
            false,
            Kind::Choice(BASES),
            "默认为履行法定职责；本人或监护人同意的须记录同意日期，请逐个登记",
            "Defaults to statutory duty; consent needs its date and is registered one by one"
        ),
        col!(
            "category",
            "对象类别",
            "Category",
            [
                "类别",
                "救助类别",
                "对象类型",
                "人员类别",
                "救助类型",
                "保障类别",
                "人员类型",
                "救助对象类别",
                "保障类型"
            ],
            false,
            Kind::Text { max_chars: 40 },
            "类别目录中的名称，如“低保”“特困”；残疾人类别请逐个登记",
            "A catalogue category such as 低保; disability categories are registered one by one"
        ),
        col!(
            "valid_from",
            "认定日期",
            "Recognised on",
            [
                "认定时间",
                "纳入日期",
                "审批日期",
                "纳入时间",
                "享受日期",
                "享受时间"
            ],
            false,
            Kind::Date,
            "该类别的起始日期；默认为今天",
            "Start of the category; defaults to today"
        ),
        col!(
            "source",
            "认定来源",
            "Source",
            ["认定部门", "来源", "数据来源"],
            false,
            Kind::Text { max_chars: 100 },
            "如“区民政局低保名册”",
            "e.g. the district's minimum-living-guarantee roll"
        ),
    ],
};

/// Rows of a resident sheet that will be registered, found again by what makes two names alike
/// (the same pinyin key, or the same first character and length) together with the same birth
/// date or home region: the rule of `duplicates::likely_duplicates`, without comparing every
/// pair of rows. Kept for the whole sheet, so compact: each row's name form once, its four
/// buckets as 128-bit digests, and each bucket a chain through the rows in it (at 10^5 rows
/// about a quarter of what a map of key strings to lists of forms took).
#[derive(Default)]
struct SheetPeople {
    /// Each registered row's number and name form.
    rows: Vec<(usize, people::NameForm)>,
    /// Per row, for each of its four buckets, the row before it in that bucket (`NONE` for none).
    before: Vec<[u32; 4]>,
    /// A bucket's digest → its last row.
    last: HashMap<u128, u32>,
}

/// No row: the end of a bucket's chain.
const NONE: u32 = u32::MAX;

impl SheetPeople {
    fn buckets(input: &ResidentInput) -> [(u128, &'static str); 4] {
        let normalized = people::normalized_name(&input.name);
        let shape = format!(
            "{}{}",
            normalized.chars().next().unwrap_or(' '),
            normalized.chars().count()
        );
        let key = people::name_key(&input.name);
        let region = input
            .region
            .as_ref()
            .map(|r| r.to_string())
            .unwrap_or_default();
        let birth = &input.birth_date;
        [
            (digest128(&["b", birth, "k", &key]), "same_birth_date"),
            (digest128(&["b", birth, "s", &shape]), "same_birth_date"),
            (digest128(&["r", &region, "k", &key]), "same_region"),
            (digest128(&["r", &region, "s", &shape]), "same_region"),
        ]
    }

    /// An earlier row that is probably the same person: (row number, reason), the first such
    /// row of the first bucket that has one.
    fn find(
        &self,
        input: &ResidentInput,
        form: &people::NameForm,
    ) -> Option<(usize, &'static str)> {
        Self::buckets(input)
            .into_iter()
            .enumerate()
            .find_map(|(slot, (bucket, reason))| {
                // The chain runs from the last row back: the first alike is the last one met.
                let mut first = None;
                let mut at = self.last.get(&bucket).copied().unwrap_or(NONE);
                while let Some(((number, other), before)) = usize::try_from(at)
                    .ok()
                    .and_then(|i| Some((self.rows.get(i)?, self.before.get(i)?)))
                {
                    if other.alike(form) {
                        first = Some((*number, reason));
                    }
                    at = before.get(slot).copied().unwrap_or(NONE);
                }
                first
            })
    }

    fn insert(&mut self, number: usize, input: &ResidentInput, form: people::NameForm) {
        let Ok(index) = u32::try_from(self.rows.len()) else {
            return;
        };
        let mut before = [NONE; 4];
        for ((bucket, _), slot) in Self::buckets(input).into_iter().zip(before.iter_mut()) {
            *slot = self.last.insert(bucket, index).unwrap_or(NONE);
        }
        self.rows.push((number, form));
        self.before.push(before);
    }
}

/// A 128-bit digest of `parts` (each length-prefixed, so no two lists share one): what the
/// sheet-wide checks keep instead of the strings themselves.
fn digest128(parts: &[&str]) -> u128 {
    let mut h = Sha256::new();
    for part in parts {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    let d = h.finalize();
    let mut first = [0u8; 16];
    first.copy_from_slice(d.get(..16).unwrap_or(&[0; 16]));
    u128::from_le_bytes(first)
}

/// A category of the catalogue by its Chinese or English name or its code, as rolls write it
/// ("低保户", "农村低保", "特困人员" too), if it applies in `region` (local ones only there).
fn find_category<'a>(
    categories: &'a [Category],
    text: &str,
    region: Option<&str>,
) -> Option<&'a Category> {
    let wanted = sheet::normalize(text).to_lowercase();
    let mut plain = wanted.as_str();
    for prefix in ["城乡", "城市", "农村"] {
        plain = plain.strip_prefix(prefix).unwrap_or(plain);
    }
    for suffix in ["户", "对象", "人员"] {
        plain = plain.strip_suffix(suffix).unwrap_or(plain);
    }
    let is = |c: &Category, s: &str| {
        !s.is_empty()
            && (c.code == s || sheet::normalize(&c.name_zh) == s || c.name_en.to_lowercase() == s)
    };
    categories
        .iter()
        .filter(|c| region.is_none_or(|r| r.starts_with(&c.region_code)))
        .find(|c| is(c, &wanted))
        .or_else(|| {
            categories
                .iter()
                .filter(|c| region.is_none_or(|r| r.starts_with(&c.region_code)))
                .find(|c| is(c, plain))
        })
}

/// The residents registry's import.
pub struct Residents;

/// Residents, registered when no record has their number and no likely duplicate exists.
pub const RESIDENTS: Residents = Residents;

impl Importer for Residents {
    fn kind(&self) -> &'static str {
        "residents"
    }

    fn masked_fields(&self) -> &'static [&'static str] {
        &["id_number", "phone", "address"]
    }

    fn list_path(&self) -> &'static str {
        "/residents"
    }

    fn title_key(&self) -> &'static str {
        "menu.residents"
    }

    fn audit_entity(&self) -> &'static str {
        "resident"
    }

    fn schema(&self) -> &'static Schema {
        &COLUMNS
    }

    fn lists<'a>(
        &'a self,
        job: &'a Job<'a>,
        conn: &'a mut Conn,
    ) -> BoxFuture<'a, WebResult<Lists>> {
        Box::pin(async move {
            let categories = households::categories(conn, &job.scope())
                .await?
                .into_iter()
                .map(|c| match job.t.lang {
                    Lang::En if !c.name_en.is_empty() => c.name_en,
                    _ => c.name_zh,
                })
                .collect();
            Ok(vec![("category", categories)])
        })
    }

    fn plan<'a>(
        &'a self,
        job: &'a Job<'a>,
        conn: &'a mut Conn,
        rows: Vec<Row>,
    ) -> BoxFuture<'a, WebResult<Vec<Planned>>> {
        Box::pin(async move { Ok(self.plan_reusing(job, conn, rows, None).await?.0) })
    }

    fn plan_reusing<'a>(
        &'a self,
        job: &'a Job<'a>,
        conn: &'a mut Conn,
        rows: Vec<Row>,
        earlier: Option<Memo>,
    ) -> BoxFuture<'a, WebResult<(Vec<Planned>, Option<Memo>)>> {
        Box::pin(async move {
            let mut out: Vec<Planned> = Vec::with_capacity(rows.len());
            let rows = Box::new(rows.into_iter());
            let memo = self.plan_into(job, conn, rows, earlier, &mut out).await?;
            Ok((out, memo))
        })
    }

    /// The preview's check keeps what it found against the register (numbers on file, likely
    /// duplicates on file) with the count of resident writes it was read at; the commit reuses
    /// a chunk's findings only when no resident has been written since (the count is the same),
    /// for the same viewer on the same day, and the chunk's rows resolved to the same inputs.
    /// Otherwise the chunk is looked up again, as it always was.
    ///
    /// One pass over the sheet, [`CHECK_CHUNK`] rows at a time: a chunk's rows are prepared
    /// (and dropped), looked up against the register with a few statements, decided in row
    /// order and handed to `sink`. Two chunks are looked up side by side, on two read
    /// connections when the pool has a second one to spare. Across chunks only the sheet's
    /// identity numbers and name buckets are kept, so each row is decided as in one pass over
    /// the whole sheet.
    fn plan_into<'a>(
        &'a self,
        job: &'a Job<'a>,
        conn: &'a mut Conn,
        mut rows: Rows,
        earlier: Option<Memo>,
        sink: &'a mut dyn Sink,
    ) -> BoxFuture<'a, WebResult<Option<Memo>>> {
        Box::pin(async move {
            let begun = std::time::Instant::now();
            let scope = job.scope();
            let known = Known {
                townships: RegionIndex::load(conn, &scope, RegionLevel::Township).await?,
                villages: RegionIndex::load(conn, &scope, RegionLevel::Village).await?,
                categories: households::categories(conn, &scope).await?,
            };
            let viewer = crate::people::residents::viewer(job.state, job.user);
            let writes = lookups::resident_writes(conn).await?;
            let mut kept = Verdicts {
                writes,
                viewer: format!("{viewer:?}"),
                today: job.today(),
                chunks: Vec::new(),
            };
            let reusable = earlier
                .as_deref()
                .and_then(|m| m.downcast_ref::<Verdicts>())
                .filter(|v| v.writes == kept.writes && v.viewer == kept.viewer)
                .filter(|v| v.today == kept.today);
            let set_up = std::time::Instant::now();
            let mut carried = Carried::default();
            let mut second = None;
            let mut planned = 0;
            loop {
                let first: Vec<Row> = rows.by_ref().take(CHECK_CHUNK).collect();
                if first.is_empty() {
                    break;
                }
                let next: Vec<Row> = rows.by_ref().take(CHECK_CHUNK).collect();
                let a = prepare_chunk(job, &known, &mut carried.seen, &first);
                let b = prepare_chunk(job, &known, &mut carried.seen, &next);
                let n = kept.chunks.len();
                let reuse = |n: usize, c: &Chunk<'_>| {
                    reusable
                        .and_then(|v| v.chunks.get(n))
                        .filter(|f| f.digest == c.digest)
                };
                let (ra, rb) = (reuse(n, &a), reuse(n + 1, &b));
                if second.is_none() && !b.prepared.is_empty() && (ra.is_none() || rb.is_none()) {
                    second = spare_reader(job).await;
                }
                let [pa, pb] = &mut carried.places;
                let (fa, fb) = match second.as_mut() {
                    Some(c2) if !b.prepared.is_empty() => {
                        let (x, y) = tokio::join!(
                            found_for(job, conn, &viewer, &a, pa, ra),
                            found_for(job, &mut *c2, &viewer, &b, pb, rb)
                        );
                        (x?, Some(y?))
                    }
                    _ => {
                        let x = found_for(job, conn, &viewer, &a, pa, ra).await?;
                        let y = match b.prepared.is_empty() {
                            true => None,
                            false => Some(found_for(job, conn, &viewer, &b, pa, rb).await?),
                        };
                        (x, y)
                    }
                };
                for (chunk, found) in [(a, Some(fa)), (b, fb)] {
                    let Some(found) = found else { continue };
                    let decided = decide_chunk(job, &mut carried.sheet, &found, chunk);
                    planned += decided.len();
                    kept.chunks.push(found);
                    sink.take(decided).await?;
                }
            }
            tracing::debug!(
                rows = planned,
                reused = reusable.is_some(),
                setup_ms = (set_up - begun).as_millis(),
                rows_ms = set_up.elapsed().as_millis(),
                "resident import: planned"
            );
            // Kept only when nothing was written to `residents` while the check read it.
            Ok((lookups::resident_writes(conn).await? == writes).then(|| Arc::new(kept) as Memo))
        })
    }

    /// The chunk registered in bulk: the rows `create` and `add_membership` write, with the same
    /// refusals, from a few statements per chunk and the counters folded once.
    fn apply<'a>(
        &'a self,
        job: &'a Job<'a>,
        tx: &'a mut Conn,
        changes: Vec<(usize, Box<dyn Change>)>,
    ) -> BoxFuture<'a, Result<(), Failed>> {
        Box::pin(async move {
            let mut numbers = Vec::with_capacity(changes.len());
            let mut residents = Vec::with_capacity(changes.len());
            for (row, change) in changes {
                let Ok(change) = change.into_any().downcast::<ResidentChange>() else {
                    // Only this importer plans these changes: never reached.
                    let error = StoreError::NotFound;
                    return Err(Failed { row, error });
                };
                numbers.push(row);
                residents.push(*change);
            }
            let registrations: Vec<Registration<'_>> = residents
                .iter()
                .map(|c| Registration {
                    input: &c.input,
                    membership: c.membership.as_ref(),
                })
                .collect();
            let viewer = crate::people::residents::viewer(job.state, job.user);
            let by = &job.user.user.display_name;
            register_all(tx, &viewer, &job.state.keys, &registrations, by, job.now)
                .await
                .map(drop)
                .map_err(|refused| Failed {
                    row: numbers.get(refused.index).copied().unwrap_or_default(),
                    error: refused.error,
                })
        })
    }
}

/// Rows checked against the register at a time (see `Residents::plan_reusing`).
const CHECK_CHUNK: usize = 5_000;

/// What a check found against the register, kept for the commit of the same sheet.
struct Verdicts {
    /// `lookups::resident_writes` before and after the check (equal, or nothing is kept).
    writes: i64,
    /// Who checked, with what scope and grant, on which day (`Viewer` as debug text).
    viewer: String,
    today: String,
    chunks: Vec<Found>,
}

/// One chunk's findings against the register, and what they were found for.
#[derive(Clone)]
struct Found {
    /// Of the chunk's rows as prepared (numbers, inputs, identity hashes, refusals).
    digest: [u8; 32],
    /// Identity hashes of the chunk that a record already carries.
    on_file: HashSet<String>,
    /// Likely duplicates on file, by row number (rows with none left out).
    on_register: HashMap<usize, Vec<Candidate>>,
}

/// The chunk's rows as prepared, in a digest: a row resolving differently (a region renamed, a
/// category added) gives another digest, and the chunk is looked up again.
fn digest(prepared: &[Result<Prepared<'_>, Planned>]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in prepared {
        match p {
            Ok(p) => {
                h.update(p.row.number.to_le_bytes());
                h.update(format!("{:?}{:?}", p.input, p.hash).as_bytes());
            }
            Err(planned) => {
                h.update(planned.row.number.to_le_bytes());
                h.update(b"refused");
            }
        }
        h.update(b"\n");
    }
    h.finalize().into()
}

/// What a check carries from chunk to chunk.
#[derive(Default)]
struct Carried {
    /// Identity hashes of the sheet so far (as [`digest128`]s) → the first row with each.
    seen: HashMap<u128, usize>,
    sheet: SheetPeople,
    /// What each of the two look-up connections counted per home region.
    places: [duplicates::PlaceCounts; 2],
}

/// A chunk's rows as prepared, and their digest.
struct Chunk<'r> {
    prepared: Vec<Result<Prepared<'r>, Planned>>,
    digest: [u8; 32],
}

fn prepare_chunk<'r>(
    job: &Job<'_>,
    known: &Known,
    seen: &mut HashMap<u128, usize>,
    rows: &'r [Row],
) -> Chunk<'r> {
    let prepared: Vec<Result<Prepared<'r>, Planned>> = rows
        .iter()
        .map(|row| prepare(job, known, seen, row))
        .collect();
    let digest = digest(&prepared);
    Chunk { prepared, digest }
}

/// A second read connection for the check's look-ups, if the pool gives one within a moment
/// (a pool busy with other work is not waited on: the look-ups then run one after the other).
async fn spare_reader(
    job: &Job<'_>,
) -> Option<impl std::ops::DerefMut<Target = Conn> + Send + use<>> {
    let wait = std::time::Duration::from_millis(500);
    match tokio::time::timeout(wait, job.state.db.read_bulk()).await {
        Ok(Ok(c)) => Some(c),
        _ => None,
    }
}

/// The chunk's findings: the earlier check's when they still hold, else looked up.
async fn found_for(
    job: &Job<'_>,
    conn: &mut Conn,
    viewer: &Viewer,
    chunk: &Chunk<'_>,
    places: &mut duplicates::PlaceCounts,
    reused: Option<&Found>,
) -> WebResult<Found> {
    if let Some(found) = reused {
        return Ok(found.clone());
    }
    let started = std::time::Instant::now();
    let found = look_up(job, conn, viewer, &chunk.prepared, places, chunk.digest).await?;
    tracing::debug!(
        rows = chunk.prepared.len(),
        look_up_ms = started.elapsed().as_millis(),
        "resident import: chunk checked"
    );
    Ok(found)
}

/// The chunk's rows decided in order against what was found and the sheet's earlier rows.
fn decide_chunk(
    job: &Job<'_>,
    sheet: &mut SheetPeople,
    found: &Found,
    chunk: Chunk<'_>,
) -> Vec<Planned> {
    let mut check = Register {
        on_file: &found.on_file,
        on_register: &found.on_register,
        sheet: std::mem::take(sheet),
    };
    let out = chunk
        .prepared
        .into_iter()
        .map(|p| match p {
            Ok(p) => check.decide(job, p),
            Err(planned) => planned,
        })
        .collect();
    *sheet = check.sheet;
    out
}

/// The chunk's identity numbers on file and likely duplicates on file, looked up.
async fn look_up(
    job: &Job<'_>,
    conn: &mut Conn,
    viewer: &Viewer,
    prepared: &[Result<Prepared<'_>, Planned>],
    places: &mut duplicates::PlaceCounts,
    digest: [u8; 32],
) -> WebResult<Found> {
    let hashes: Vec<String> = prepared
        .iter()
        .filter_map(|p| p.as_ref().ok().and_then(|p| p.hash.clone()))
        .collect();
    let on_file = lookups::resident_id_hashes(conn, &hashes).await?;
    let mut on_register = on_register(job, conn, viewer, prepared, &on_file, places).await?;
    on_register.retain(|_, found| !found.is_empty());
    Ok(Found {
        digest,
        on_file,
        on_register,
    })
}

/// What the rows are resolved against, loaded once.
struct Known {
    townships: RegionIndex,
    villages: RegionIndex,
    categories: Vec<Category>,
}

impl Known {
    /// A code names its level; a name is looked for among villages, then townships.
    fn home(&self, place: &str) -> Result<String, RegionMiss> {
        if place.bytes().all(|b| b.is_ascii_digit()) {
            return if place.len() == 12 {
                self.villages.resolve(place)
            } else {
                self.townships.resolve(place)
            };
        }
        match self.villages.resolve(place) {
            Err(("import.region_not_found", _)) => self.townships.resolve(place),
            r => r,
        }
    }

    /// The category's code, or the message key of why the text names none that may be imported.
    fn category(&self, text: &str, region: Option<&str>) -> Result<String, &'static str> {
        match find_category(&self.categories, text, region) {
            Some(c) if matches!(c.code.as_str(), "disabled" | "severely_disabled") => {
                Err("import.resident.disability_by_hand")
            }
            Some(c) => Ok(c.code.clone()),
            None => Err("import.resident.category_not_found"),
        }
    }
}

/// Identity and contact values are masked even in error messages.
fn shown(e: &CellError) -> String {
    match e.column {
        "id_number" | "phone" => mask(&e.raw),
        "address" => String::new(),
        _ => e.raw.clone(),
    }
}

/// A row whose cells and form fields are valid, not yet checked against the register.
struct Prepared<'r> {
    row: &'r Row,
    label: String,
    input: ResidentInput,
    hash: Option<String>,
    category: Option<String>,
}

/// Resolve the row's home region and category, parse it as the register form does and check
/// its identity number is not repeated in the file.
fn prepare<'r>(
    job: &Job<'_>,
    known: &Known,
    seen: &mut HashMap<u128, usize>,
    row: &'r Row,
) -> Result<Prepared<'r>, Planned> {
    let cells = job.cells(&COLUMNS);
    let mut errors = cells.parse_errors(row, shown);
    let place = row.text("region");
    let region = if place.is_empty() {
        None
    } else {
        known
            .home(&resolve::within(&row.text("county"), &place))
            .map_err(|(code, extra)| errors.push(cells.say("region", code, &place, &extra)))
            .ok()
    };
    let category_text = row.text("category");
    let category = if category_text.is_empty() {
        None
    } else {
        known
            .category(&category_text, region.as_deref())
            .map_err(|code| errors.push(cells.say("category", code, &category_text, "")))
            .ok()
    };
    let raw_id = row.text("id_number");
    let label = format!("{} {}", row.text("name"), mask(&raw_id));
    let invalid = |label, errors| Planned::new(row.number, label, Action::Invalid, errors, None);
    if !errors.is_empty() {
        return Err(invalid(label, errors));
    }
    let f = FormData::new(form_fields(row, &raw_id, region.unwrap_or_default()));
    let input = match crate::people::residents::parse(&f, &job.today()) {
        Ok(input) => input,
        Err(field_errors) => {
            errors.extend(field_errors.into_iter().map(|fe| form_error(job, fe)));
            return Err(invalid(label, errors));
        }
    };
    let label = match &input.id_number {
        Some(n) => format!("{} {}", input.name, mask(n)),
        None => format!("{} {}", input.name, input.birth_date),
    };
    let hash = input
        .id_number
        .as_ref()
        .map(|n| job.state.keys.lookup_hash(residents::ID_FIELD, n));
    if let Some(h) = &hash {
        let key = digest128(&[h]);
        if let Some(first) = seen.get(&key) {
            let first = first.to_string();
            errors.push(cells.say("id_number", "import.duplicate_id_in_file", "", &first));
            return Err(invalid(label, errors));
        }
        seen.insert(key, row.number);
    }
    Ok(Prepared {
        row,
        label,
        input,
        hash,
        category,
    })
}

/// The row's cells as the register form's fields.
fn form_fields(row: &Row, raw_id: &str, region: String) -> Vec<(String, String)> {
    let date = |key| row.date(key).map(|d| d.to_string()).unwrap_or_default();
    [
        ("name", row.text("name")),
        ("id_number", raw_id.to_owned()),
        ("sex", row.code("sex").unwrap_or("").to_owned()),
        ("birth_date", date("birth_date")),
        ("ethnicity", row.text("ethnicity")),
        ("region", region),
        ("address", row.text("address")),
        ("phone", row.text("phone")),
        (
            "risk_tier",
            row.code("risk_tier").unwrap_or("general").to_owned(),
        ),
        (
            "legal_basis",
            row.code("legal_basis")
                .unwrap_or("statutory_duty")
                .to_owned(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// A register form error under the sheet's column, in the words a sheet needs.
fn form_error(job: &Job<'_>, fe: shegong_domain::FieldError) -> CellMessage {
    let (column, message) = match (fe.field, fe.code) {
        ("birth_date", "form.required") => ("birth_date", "import.resident.birth_date_required"),
        ("consent_on", _) => ("legal_basis", "import.resident.consent_by_hand"),
        ("id_type", code) => ("id_number", code),
        (field, code) => (field, code),
    };
    CellMessage {
        column: job.cells(&COLUMNS).label(column),
        raw: String::new(),
        message: job.t.get(message).to_owned(),
    }
}

/// The likely duplicates on file of every valid row whose number is not on file (which is refused
/// before duplicates are looked at), by row number, from a few queries for the whole sheet.
async fn on_register(
    job: &Job<'_>,
    conn: &mut Conn,
    viewer: &Viewer,
    prepared: &[Result<Prepared<'_>, Planned>],
    on_file: &HashSet<String>,
    places: &mut duplicates::PlaceCounts,
) -> WebResult<HashMap<usize, Vec<Candidate>>> {
    let checked: Vec<&Prepared<'_>> = prepared
        .iter()
        .filter_map(|p| p.as_ref().ok())
        .filter(|p| !p.hash.as_ref().is_some_and(|h| on_file.contains(h)))
        .collect();
    let inputs: Vec<&ResidentInput> = checked.iter().map(|p| &p.input).collect();
    let found =
        duplicates::likely_duplicates_of_each(conn, viewer, &job.state.keys, &inputs, places)
            .await?;
    Ok(checked.iter().map(|p| p.row.number).zip(found).collect())
}

/// The checks against the register and the earlier rows, row by row.
struct Register<'f> {
    /// Identity hashes of the sheet that a record already carries.
    on_file: &'f HashSet<String>,
    /// Likely duplicates on file, by row number.
    on_register: &'f HashMap<usize, Vec<Candidate>>,
    sheet: SheetPeople,
}

impl Register<'_> {
    fn decide(&mut self, job: &Job<'_>, p: Prepared<'_>) -> Planned {
        let cells = job.cells(&COLUMNS);
        let t = job.t;
        let number = p.row.number;
        let invalid =
            |label, error| Planned::new(number, label, Action::Invalid, vec![error], None);
        // Any record with this number, whatever its scope or status: the register refuses it too.
        if p.hash.as_ref().is_some_and(|h| self.on_file.contains(h)) {
            let error = cells.say("id_number", "import.resident.id_on_file", "", "");
            return invalid(p.label, error);
        }
        let found = self
            .on_register
            .get(&number)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let candidates: Vec<String> = found
            .iter()
            .filter(|c| c.reason != "same_id")
            .take(3)
            .map(|c| candidate(t, c))
            .collect();
        if !candidates.is_empty() {
            let candidates = candidates.join(t.get("import.separator"));
            let error = cells.say("name", "import.resident.likely_duplicate", "", &candidates);
            return invalid(p.label, error);
        }
        // The name worked out once, for the look-up and for the rows after it.
        let form = people::NameForm::new(&p.input.name);
        if let Some((first, reason)) = self.sheet.find(&p.input, &form) {
            let reason_key = format!("resident.dup.{reason}");
            let reason = t.get(&reason_key);
            let error = CellMessage {
                column: cells.label("name"),
                raw: String::new(),
                message: t.fmt(
                    "import.resident.likely_duplicate_in_file",
                    &[("row", &first.to_string()), ("reason", reason)],
                ),
            };
            return invalid(p.label, error);
        }
        self.sheet.insert(number, &p.input, form);
        let membership = p.category.map(|category| MembershipInput {
            category,
            disability_category: None,
            disability_grade: None,
            source: p.row.text("source"),
            evidence: String::new(),
            valid_from: p
                .row
                .date("valid_from")
                .map_or_else(|| job.today(), |d| d.to_string()),
            valid_to: None,
            verified_by: String::new(),
        });
        let change = ResidentChange {
            input: p.input,
            membership,
        };
        Planned::new(
            number,
            p.label,
            Action::Create,
            Vec::new(),
            Some(Box::new(change)),
        )
    }
}

/// A likely duplicate on file, as the preview names it.
fn candidate(t: &Tr, c: &Candidate) -> String {
    // A file the importer cannot open is not described: only that it exists, and whom to ask
    // (issue 11 item 6).
    if !c.visible {
        return format!(
            "{}{}{}",
            t.get("resident.dup.hidden"),
            t.get("punct.colon"),
            crate::people::residents::ask_text(t, c.ask.as_ref())
        );
    }
    // Raw ("湖南省/株洲市/…") or already a shown path: the same.
    let parts = c.region_path.split('/').map(str::trim);
    let region = shegong_domain::network::region::display_path(parts);
    let reason_key = format!("resident.dup.{}", c.reason);
    let reason = t.get(&reason_key);
    t.fmt(
        "import.resident.candidate",
        &[
            ("name", &c.name),
            ("birth_date", &c.birth_date),
            ("region", &region),
            ("reason", reason),
        ],
    )
}

/// A resident to register, with the category the sheet names.
struct ResidentChange {
    input: ResidentInput,
    membership: Option<MembershipInput>,
}

impl Change for ResidentChange {
    fn apply<'a>(&'a self, job: &'a Job<'a>, tx: &'a mut Conn) -> BoxFuture<'a, StoreResult<()>> {
        Box::pin(async move {
            let viewer = crate::people::residents::viewer(job.state, job.user);
            // Resident files name who registered them as people read it (as
            // `residents::register`).
            let by = &job.user.user.display_name;
            let keys = &job.state.keys;
            let id = residents::create(tx, &viewer, keys, &self.input, by, job.now).await?;
            let Some(m) = &self.membership else {
                return Ok(());
            };
            // The file was registered by this import a moment ago: reading it back for its
            // category is allowed even when it is protected (a child), which the importer may
            // not open afterwards. Scope still applies.
            let registrar = Viewer {
                sees_protected: true,
                ..viewer
            };
            households::add_membership(tx, &registrar, &id, m, by, job.now)
                .await
                .map(drop)
        })
    }
}
