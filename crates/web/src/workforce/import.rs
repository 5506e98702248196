//! The social workers sheet: identity numbers validated and matched by their keyed hash,
//! inside the file and against existing records (a person already registered in scope is
//! updated, one registered elsewhere is an error). Numbers never appear in the preview: they
//! are masked. A certificate level given with its date is added when not held yet.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use shegong_domain::RegionLevel;
use shegong_domain::people::identity::{Sex, mask};
use shegong_domain::workforce::{CertLevel, Education, Sector, registration_until};
use shegong_store::import::lookups;
use shegong_store::network::stations;
use shegong_store::workforce::staff::{self, Staff, StaffInput};
use shegong_store::{Conn, PageRequest, StoreResult};

use crate::http::error::WebResult;
use crate::import::engine::{
    Action, BoxFuture, CellMessage, Change, Importer, Job, Lists, Planned,
};
use crate::import::resolve::{self, OrgIndex, RegionIndex};
use crate::import::schema::{CellError, Kind, Row, SEXES, Schema, col};
use crate::import::sheet;
use crate::ui::forms::FormData;

const ID_TYPES: &[(&str, &[&str])] = &[
    ("resident_id", &["居民身份证", "身份证"]),
    ("hk_macau_permit", &["港澳居民居住证"]),
    ("taiwan_permit", &["台湾居民居住证"]),
    ("foreign_permanent", &["外国人永久居留身份证", "永居证"]),
    ("passport", &["护照"]),
];
const STAFF_ROLES: &[(&str, &[&str])] = &[
    (
        "station_head",
        &["站长/项目负责人", "站长", "项目负责人", "负责人"],
    ),
    ("frontline", &["一线社工", "社工", "驻站社工", "专职社工"]),
    ("supervisor", &["督导"]),
    ("admin_finance", &["行政财务", "行政", "财务"]),
    ("auxiliary", &["辅助人员", "辅助", "协理员"]),
];
const EMPLOYMENT: &[(&str, &[&str])] = &[
    ("project_purchase", &["项目购买", "项目制"]),
    ("position_purchase", &["岗位购买", "岗位制"]),
    ("direct", &["直接聘用", "直聘", "编外聘用"]),
];
const EDUCATIONS: &[(&str, &[&str])] = &[
    ("secondary", &["高中/中专及以下", "高中", "中专", "初中"]),
    ("junior_college", &["大专", "专科"]),
    ("bachelor", &["本科", "大学本科"]),
    ("master", &["硕士", "研究生"]),
    ("doctor", &["博士"]),
];
const LEVELS: &[(&str, &[&str])] = &[
    ("assistant", &["助理社会工作师", "初级", "助理"]),
    ("intermediate", &["社会工作师", "中级"]),
    ("senior", &["高级社会工作师", "高级"]),
];

static COLUMNS: Schema = Schema {
    name_zh: "社工人员",
    name_en: "Social workers",
    columns: &[
        col!(
            "name",
            "姓名",
            "Name",
            ["人员姓名", "社工姓名", "工作人员姓名"],
            true,
            Kind::Text { max_chars: 50 },
            "",
            ""
        ),
        col!(
            "id_type",
            "证件类型",
            "Document type",
            ["证件种类", "证件类别"],
            false,
            Kind::Choice(ID_TYPES),
            "默认为居民身份证",
            "Defaults to resident ID"
        ),
        col!(
            "id_number",
            "证件号码",
            "Document number",
            [
                "身份证号",
                "身份证号码",
                "公民身份号码",
                "证件号",
                "公民身份证号",
                "身份证",
                "身份证件号码"
            ],
            true,
            Kind::Text { max_chars: 30 },
            "按国家标准校验",
            "Checked against the national standard"
        ),
        col!(
            "mobile",
            "手机号码",
            "Mobile",
            ["手机", "联系电话", "电话", "手机号", "联系方式", "联系手机"],
            false,
            Kind::Text { max_chars: 20 },
            "",
            ""
        ),
        col!(
            "sex",
            "性别",
            "Sex",
            [],
            false,
            Kind::Choice(SEXES),
            "留空时按证件号码推算",
            "From the document number when empty"
        ),
        col!(
            "education",
            "学历",
            "Education",
            ["文化程度", "最高学历"],
            false,
            Kind::Choice(EDUCATIONS),
            "",
            ""
        ),
        col!(
            "major",
            "专业",
            "Major",
            ["所学专业"],
            false,
            Kind::Text { max_chars: 50 },
            "",
            ""
        ),
        col!(
            "station",
            "所在社工站",
            "Station",
            [
                "社工站",
                "服务站点",
                "所在站点",
                "服务站点名称",
                "所属社工站",
                "驻站站点",
                "社工站名称"
            ],
            false,
            Kind::Text { max_chars: 100 },
            "社工站名称；无站点时填写所在乡镇",
            "Station name; give the township when none"
        ),
        col!(
            "county",
            "所属县（市、区）",
            "County",
            crate::import::header::COUNTY_SYNONYMS,
            false,
            Kind::Region,
            "可选：乡镇（街道）所属的县（市、区），用于区分重名乡镇",
            "Optional: the township's county, to tell apart townships of the same name"
        ),
        col!(
            "township",
            "所在乡镇（街道）",
            "Township",
            [
                "乡镇街道",
                "乡镇",
                "街道",
                "工作地区",
                "所在乡镇",
                "所属乡镇",
                "所在街道",
                "乡镇（街道）",
                "乡镇（街道）名称",
                "所属乡镇（街道）",
                "服务乡镇"
            ],
            false,
            Kind::Region,
            "",
            ""
        ),
        col!(
            "employer",
            "用人单位",
            "Employer",
            [
                "所属机构",
                "聘用单位",
                "工作单位",
                "所在单位",
                "派驻机构",
                "承接机构"
            ],
            false,
            Kind::Text { max_chars: 100 },
            "已登记机构的名称或信用代码",
            "A registered organisation's name or credit code"
        ),
        col!(
            "role",
            "岗位",
            "Position",
            ["职务", "岗位类别", "岗位类型", "岗位名称", "职位"],
            true,
            Kind::Choice(STAFF_ROLES),
            "",
            ""
        ),
        col!(
            "employment_mode",
            "用工方式",
            "Employment",
            ["聘用方式", "用工形式", "聘用形式", "用工性质", "用工类型"],
            true,
            Kind::Choice(EMPLOYMENT),
            "",
            ""
        ),
        col!(
            "joined_on",
            "入职日期",
            "Joined",
            ["入职时间", "到岗日期", "上岗时间", "上岗日期"],
            true,
            Kind::Date,
            "",
            ""
        ),
        col!(
            "cert_level",
            "证书等级",
            "Certificate level",
            [
                "职业资格",
                "持证情况",
                "资格等级",
                "证书级别",
                "职业资格等级",
                "资格证书等级",
                "持证等级"
            ],
            false,
            Kind::Choice(LEVELS),
            "",
            ""
        ),
        col!(
            "cert_number",
            "证书编号",
            "Certificate number",
            ["证书号", "资格证书编号", "证书号码", "职业资格证书编号"],
            false,
            Kind::Text { max_chars: 40 },
            "",
            ""
        ),
        col!(
            "cert_obtained",
            "取证日期",
            "Certificate obtained",
            [
                "取得日期",
                "发证日期",
                "取证时间",
                "发证时间",
                "获证日期",
                "取得时间"
            ],
            false,
            Kind::Date,
            "",
            ""
        ),
    ],
};

/// The staff registry's import.
pub struct Workers;

/// Social workers, found again by identity number.
pub const STAFF: Workers = Workers;

impl Importer for Workers {
    fn kind(&self) -> &'static str {
        "staff"
    }

    fn masked_fields(&self) -> &'static [&'static str] {
        &["id_number", "mobile"]
    }

    fn list_path(&self) -> &'static str {
        "/staff"
    }

    fn title_key(&self) -> &'static str {
        "menu.staff"
    }

    fn audit_entity(&self) -> &'static str {
        "staff"
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
            let stations = stations_in_scope(job, conn).await?;
            Ok(vec![(
                "station",
                stations.into_iter().map(|s| s.name).collect(),
            )])
        })
    }

    fn plan<'a>(
        &'a self,
        job: &'a Job<'a>,
        conn: &'a mut Conn,
        rows: Vec<Row>,
    ) -> BoxFuture<'a, WebResult<Vec<Planned>>> {
        Box::pin(async move {
            let places = Places::load(job, conn).await?;
            let mut seen = HashMap::new();
            let prepared: Vec<Result<Prepared<'_>, Planned>> = rows
                .iter()
                .map(|row| prepare(job, &places, &mut seen, row))
                .collect();
            let hashes: Vec<String> = prepared
                .iter()
                .filter_map(|p| p.as_ref().ok().map(|p| p.hash.clone()))
                .collect();
            let on_file = OnFile::load(job, conn, &hashes).await?;
            Ok(prepared
                .into_iter()
                .map(|p| p.map_or_else(|planned| planned, |p| decide(job, &on_file, p)))
                .collect())
        })
    }
}

async fn stations_in_scope(job: &Job<'_>, conn: &mut Conn) -> WebResult<Vec<stations::Station>> {
    let page = PageRequest {
        page: 1,
        per_page: 100_000,
    };
    let filter = stations::Filter::default();
    Ok(stations::list(conn, &job.scope(), &filter, page)
        .await?
        .items)
}

/// Where staff may work, in scope: townships, employers and stations by normalised name.
struct Places {
    townships: RegionIndex,
    employers: OrgIndex,
    stations: HashMap<String, Vec<String>>,
}

impl Places {
    async fn load(job: &Job<'_>, conn: &mut Conn) -> WebResult<Self> {
        let scope = job.scope();
        let mut stations: HashMap<String, Vec<String>> = HashMap::new();
        for st in stations_in_scope(job, conn).await? {
            stations
                .entry(sheet::normalize(&st.name))
                .or_default()
                .push(st.id);
        }
        Ok(Self {
            townships: RegionIndex::load(conn, &scope, RegionLevel::Township).await?,
            employers: OrgIndex::load(conn, &scope).await?,
            stations,
        })
    }
}

/// The records a sheet's identity numbers match, looked up for all rows at once.
struct OnFile {
    /// Identity hash → the record in scope.
    in_scope: HashMap<String, Staff>,
    /// Identity hashes on file anywhere.
    anywhere: HashSet<String>,
    /// Staff id → certificate levels held.
    levels: HashMap<String, Vec<String>>,
}

impl OnFile {
    async fn load(job: &Job<'_>, conn: &mut Conn, hashes: &[String]) -> WebResult<Self> {
        let scope = job.scope();
        let ids = lookups::staff_by_id_hash(conn, Some(&scope), hashes).await?;
        let anywhere = lookups::staff_by_id_hash(conn, None, hashes)
            .await?
            .into_keys()
            .collect();
        let mut records: HashMap<String, Staff> = HashMap::new();
        if !ids.is_empty() {
            let page = PageRequest {
                page: 1,
                per_page: 100_000,
            };
            for s in staff::list(conn, &scope, &staff::Filter::default(), page)
                .await?
                .items
            {
                records.insert(s.id.clone(), s);
            }
        }
        let staff_ids: Vec<String> = ids.values().cloned().collect();
        let levels = lookups::certificate_levels(conn, &staff_ids).await?;
        let in_scope = ids
            .into_iter()
            .filter_map(|(hash, id)| Some((hash, records.remove(&id)?)))
            .collect();
        Ok(Self {
            in_scope,
            anywhere,
            levels,
        })
    }
}

/// A row whose cells and form fields are valid, not yet checked against the records.
struct Prepared<'r> {
    row: &'r Row,
    label: String,
    input: StaffInput,
    hash: String,
}

/// Identity values are masked even in error messages.
fn shown(e: &CellError) -> String {
    if matches!(e.column, "id_number" | "mobile") {
        mask(&e.raw)
    } else {
        e.raw.clone()
    }
}

/// Resolve the row's station (or township) and employer, parse it as the staff form does and
/// check its identity number is not repeated in the file.
fn prepare<'r>(
    job: &Job<'_>,
    places: &Places,
    seen: &mut HashMap<String, usize>,
    row: &'r Row,
) -> Result<Prepared<'r>, Planned> {
    let cells = job.cells(&COLUMNS);
    let mut errors = cells.parse_errors(row, shown);
    let raw_id = row.text("id_number");
    let mut f = form_fields(row, &raw_id);
    let invalid = |label, errors| Planned::new(row.number, label, Action::Invalid, errors, None);
    f.extend(place_fields(job, places, row, &mut errors));
    let label = format!("{} {}", row.text("name"), mask(&raw_id));
    if !errors.is_empty() {
        return Err(invalid(label, errors));
    }
    let input = match crate::workforce::staff::parse(&FormData::new(f), None, &job.today()) {
        Ok(input) => input,
        Err(field_errors) => {
            errors.extend(cells.field_errors(field_errors));
            return Err(invalid(label, errors));
        }
    };
    let label = format!("{} {}", input.name, mask(&input.id_number));
    let hash = job
        .state
        .keys
        .lookup_hash(staff::ID_FIELD, &input.id_number);
    if let Some(first) = seen.get(&hash) {
        let first = first.to_string();
        errors.push(cells.say("id_number", "import.duplicate_id_in_file", "", &first));
        return Err(invalid(label, errors));
    }
    seen.insert(hash.clone(), row.number);
    Ok(Prepared {
        row,
        label,
        input,
        hash,
    })
}

/// The row's own cells as the staff form's fields.
fn form_fields(row: &Row, raw_id: &str) -> Vec<(String, String)> {
    [
        ("name", row.text("name")),
        (
            "id_type",
            row.code("id_type").unwrap_or("resident_id").to_owned(),
        ),
        ("id_number", raw_id.to_owned()),
        ("mobile", row.text("mobile")),
        ("sex", row.code("sex").unwrap_or("").to_owned()),
        ("education", row.code("education").unwrap_or("").to_owned()),
        ("major", row.text("major")),
        ("role", row.code("role").unwrap_or("").to_owned()),
        (
            "employment_mode",
            row.code("employment_mode").unwrap_or("").to_owned(),
        ),
        (
            "joined_on",
            row.date("joined_on")
                .map(|d| d.to_string())
                .unwrap_or_default(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// The station (else the township) and the employer, resolved; the importer's own
/// organisation employs when the sheet names none.
fn place_fields(
    job: &Job<'_>,
    places: &Places,
    row: &Row,
    errors: &mut Vec<CellMessage>,
) -> Vec<(String, String)> {
    let cells = job.cells(&COLUMNS);
    let mut f = Vec::new();
    let station = row.text("station");
    if !station.is_empty() {
        match places
            .stations
            .get(&sheet::normalize(&station))
            .map(Vec::as_slice)
        {
            Some([one]) => f.push(("station".to_owned(), one.clone())),
            Some([_, ..]) => {
                errors.push(cells.say("station", "import.station_ambiguous", &station, ""))
            }
            _ => errors.push(cells.say("station", "import.station_not_found", &station, "")),
        }
    } else {
        let place = row.text("township");
        // A county column narrows a township's name (two counties may each have a 城关镇).
        match places
            .townships
            .resolve(&resolve::within(&row.text("county"), &place))
        {
            Ok(c) => f.push(("region".to_owned(), c)),
            Err(_) if place.is_empty() => {
                errors.push(cells.say("station", "staff.station_or_region", "", ""));
            }
            Err((code, extra)) => errors.push(cells.say("township", code, &place, &extra)),
        }
    }
    let employer = row.text("employer");
    if !employer.is_empty() {
        match places.employers.resolve(&employer) {
            Ok(id) => f.push(("employer".to_owned(), id)),
            Err(code) => errors.push(cells.say("employer", code, &employer, "")),
        }
    } else if let Some(org) = job.user.user.org_id.clone() {
        f.push(("employer".to_owned(), org));
    }
    f
}

/// Against the records: update the person registered in scope, refuse one registered
/// elsewhere, create the rest.
fn decide(job: &Job<'_>, on_file: &OnFile, p: Prepared<'_>) -> Planned {
    let cells = job.cells(&COLUMNS);
    let Prepared {
        row,
        label,
        mut input,
        hash,
    } = p;
    let mut errors = Vec::new();
    let existing = on_file.in_scope.get(&hash);
    if let Some(e) = existing {
        // Keep what the sheet does not say; the sector and leaving are recorded on the
        // person's page.
        // Stored codes were checked on the way in; one unreadable now is left as the sheet
        // has it rather than guessed.
        if input.education == Education::Unknown {
            input.education = Education::parse(&e.education).unwrap_or(Education::Unknown);
        }
        if input.major.is_empty() {
            input.major.clone_from(&e.major);
        }
        if input.sex.is_none() {
            input.sex = e.sex.as_deref().and_then(|s| Sex::parse(s).ok());
        }
        if let Ok(sector) = Sector::parse(&e.sector) {
            input.sector = sector;
        }
        input.left_on = e.left_on;
        input.left_reason.clone_from(&e.left_reason);
    } else if on_file.anywhere.contains(&hash) {
        errors.push(cells.say("id_number", "staff.id_taken", "", ""));
        return Planned::new(row.number, label, Action::Invalid, errors, None);
    }
    let cert = match (row.code("cert_level"), row.date("cert_obtained")) {
        (Some(level), Some(d)) => Some((level, row.text("cert_number"), d)),
        (Some(_), _) => {
            errors.push(cells.say("cert_obtained", "import.required", "", ""));
            None
        }
        _ => None,
    };
    let action = match existing {
        None => Action::Create,
        Some(e) => {
            let has_cert = cert.as_ref().is_none_or(|(level, _, _)| {
                on_file
                    .levels
                    .get(&e.id)
                    .is_some_and(|held| held.iter().any(|l| l == level))
            });
            if has_cert && unchanged(job, e, &input) {
                Action::Unchanged
            } else {
                Action::Update
            }
        }
    };
    let change = StaffChange {
        existing: existing.map(|e| e.id.clone()),
        input,
        cert,
    };
    Planned::new(row.number, label, action, errors, Some(Box::new(change)))
}

/// Whether the row says what is stored already.
fn unchanged(job: &Job<'_>, e: &Staff, input: &StaffInput) -> bool {
    let mobile_same = input.mobile.as_ref().is_none_or(|m| {
        e.mobile_sealed
            .as_deref()
            .and_then(|sealed| job.state.keys.open(staff::MOBILE_FIELD, sealed).ok())
            .as_ref()
            == Some(m)
    });
    e.name == input.name.trim()
        && mobile_same
        && e.education == input.education.as_str()
        && e.major == input.major
        && e.sex.as_deref() == input.sex.map(Sex::as_str)
        && e.role == input.role
        && e.employment_mode == input.employment_mode
        && e.station_id == input.station_id
        && e.joined_on == input.joined_on
        && e.employer_org_id == input.employer_org_id.clone().or(e.employer_org_id.clone())
        && (input.station_id.is_some()
            || input.region.as_ref().map(|r| r.as_str()) == Some(e.region_code.as_str()))
}

/// A staff record to create or update, and a certificate to add: (level, number, obtained on).
struct StaffChange {
    existing: Option<String>,
    input: StaffInput,
    cert: Option<(&'static str, String, NaiveDate)>,
}

impl Change for StaffChange {
    fn apply<'a>(&'a self, job: &'a Job<'a>, tx: &'a mut Conn) -> BoxFuture<'a, StoreResult<()>> {
        Box::pin(async move {
            let scope = job.scope();
            let keys = &job.state.keys;
            let id = match &self.existing {
                Some(id) => {
                    let mut input = self.input.clone();
                    let current = staff::get(tx, &scope, id).await?;
                    // Keep what the sheet does not say.
                    input.mobile = input.mobile.or_else(|| {
                        current
                            .mobile_sealed
                            .as_deref()
                            .and_then(|m| keys.open(staff::MOBILE_FIELD, m).ok())
                    });
                    input.employer_org_id = input.employer_org_id.or(current.employer_org_id);
                    staff::update(tx, &scope, keys, id, &input, &job.today(), job.now).await?;
                    id.clone()
                }
                None => staff::create(tx, &scope, keys, &self.input, job.now).await?,
            };
            let Some((level, number, obtained)) = &self.cert else {
                return Ok(());
            };
            let held = staff::certificates(tx, &scope, &id).await?;
            if held.iter().any(|c| c.level == *level) {
                return Ok(());
            }
            let certificate = staff::NewCertificate {
                level: CertLevel::parse(level)?,
                number: if number.is_empty() { "—" } else { number },
                obtained_on: *obtained,
                registered_until: Some(registration_until(*obtained)),
            };
            staff::add_certificate(tx, &scope, &id, &certificate, job.now)
                .await
                .map(drop)
        })
    }
}
