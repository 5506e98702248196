//! The volunteers sheet (志愿者花名册), through the shared import engine: each row parsed as the
//! volunteer form parses it (minors' rules included), identity numbers matched by their keyed hash
//! inside the file and against every registration (one per person: a volunteer registered here
//! is left as is, one registered elsewhere is an error naming the cell), the station or township
//! resolved by name, and an optional team joined. Identity numbers and mobiles are masked in the
//! preview and in messages.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use shegong_domain::people::identity::mask;
use shegong_domain::{RegionLevel, Scope};
use shegong_store::import::lookups;
use shegong_store::network::stations;
use shegong_store::volunteers::registry::{self, VolunteerInput};
use shegong_store::volunteers::teams;
use shegong_store::{Conn, PageRequest, StoreResult};

use crate::http::error::WebResult;
use crate::import::engine::{
    Action, BoxFuture, CellMessage, Change, Importer, Job, Lists, Planned,
};
use crate::import::resolve::{self, RegionIndex};
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

static COLUMNS: Schema = Schema {
    name_zh: "志愿者",
    name_en: "Volunteers",
    columns: &[
        col!(
            "name",
            "姓名",
            "Name",
            ["志愿者姓名"],
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
            ["手机", "联系电话", "电话", "手机号", "联系方式"],
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
            "birth_date",
            "出生日期",
            "Birth date",
            ["出生年月日", "生日"],
            false,
            Kind::Date,
            "留空时按证件号码推算",
            "From the document number when empty"
        ),
        col!(
            "station",
            "所属社工站",
            "Station",
            ["社工站", "服务站点", "所在社工站", "依托社工站"],
            false,
            Kind::Text { max_chars: 100 },
            "社工站名称；无站点时填写所在乡镇",
            "Station name; else give the township"
        ),
        col!(
            "county",
            "所属县（市、区）",
            "County",
            crate::import::header::COUNTY_SYNONYMS,
            false,
            Kind::Region,
            "可选：用于区分重名乡镇",
            "Optional: tells apart townships of the same name"
        ),
        col!(
            "township",
            "所在乡镇（街道）",
            "Township",
            [
                "乡镇街道",
                "乡镇",
                "街道",
                "服务地",
                "所在乡镇",
                "乡镇（街道）",
                "服务乡镇"
            ],
            false,
            Kind::Region,
            "",
            ""
        ),
        col!(
            "skills",
            "服务技能",
            "Skills",
            ["技能", "特长", "专业技能"],
            false,
            Kind::Text { max_chars: 500 },
            "多项用顿号分隔",
            "Separate with 、"
        ),
        col!(
            "intentions",
            "服务意向",
            "Intentions",
            ["意向", "服务类别", "意向服务"],
            false,
            Kind::Text { max_chars: 500 },
            "多项用顿号分隔",
            "Separate with 、"
        ),
        col!(
            "availability",
            "可服务时间",
            "Availability",
            ["服务时间"],
            false,
            Kind::Text { max_chars: 200 },
            "",
            ""
        ),
        col!(
            "guardian_name",
            "监护人姓名",
            "Guardian",
            ["监护人"],
            false,
            Kind::Text { max_chars: 50 },
            "未满14周岁必填",
            "Required under 14"
        ),
        col!(
            "guardian_consent_on",
            "监护人同意日期",
            "Guardian consent",
            ["监护人同意时间"],
            false,
            Kind::Date,
            "未满14周岁必填",
            "Required under 14"
        ),
        col!(
            "registered_on",
            "登记日期",
            "Registered",
            ["注册日期", "注册时间", "登记时间"],
            false,
            Kind::Date,
            "留空为导入当天",
            "Today when empty"
        ),
        col!(
            "team",
            "志愿服务队",
            "Team",
            ["所属队伍", "服务队", "队伍"],
            false,
            Kind::Text { max_chars: 100 },
            "已建立的队伍名称，导入后加入该队",
            "An existing team's name: the volunteer joins it"
        ),
    ],
};

/// The volunteer registry's import.
pub struct Volunteers;

/// Volunteers, one registration per person by identity number.
pub const VOLUNTEERS: Volunteers = Volunteers;

impl Importer for Volunteers {
    fn kind(&self) -> &'static str {
        "volunteers"
    }

    fn masked_fields(&self) -> &'static [&'static str] {
        &["id_number", "mobile"]
    }

    fn list_path(&self) -> &'static str {
        "/volunteers"
    }

    fn title_key(&self) -> &'static str {
        "menu.volunteers"
    }

    fn audit_entity(&self) -> &'static str {
        "volunteer"
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
            let places = Places::load(job, conn).await?;
            Ok(vec![
                ("station", places.stations.names),
                ("team", places.team_names),
            ])
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
            let on_file = lookups::volunteers_by_id_hash(conn, &hashes).await?;
            let members = members_of(conn, job).await?;
            Ok(prepared
                .into_iter()
                .map(|p| p.map_or_else(|planned| planned, |p| decide(job, &on_file, &members, p)))
                .collect())
        })
    }
}

/// The stations in scope by normalised name (id, region), and their names for the template's
/// list: what both roster imports (volunteers, teams) resolve a station cell against.
pub(super) struct StationIndex {
    by_name: HashMap<String, Vec<(String, String)>>,
    pub(super) names: Vec<String>,
}

impl StationIndex {
    pub(super) async fn load(conn: &mut Conn, scope: &Scope) -> WebResult<Self> {
        let all = PageRequest {
            page: 1,
            per_page: 100_000,
        };
        let mut by_name: HashMap<String, Vec<(String, String)>> = HashMap::new();
        let mut names = Vec::new();
        for st in stations::list(conn, scope, &stations::Filter::default(), all)
            .await?
            .items
        {
            by_name
                .entry(sheet::normalize(&st.name))
                .or_default()
                .push((st.id, st.region_code));
            names.push(st.name);
        }
        Ok(Self { by_name, names })
    }

    /// The station named (id, region), or the message code: not found, or ambiguous.
    pub(super) fn resolve(&self, name: &str) -> Result<(String, String), &'static str> {
        match self.by_name.get(&sheet::normalize(name)).map(Vec::as_slice) {
            Some([one]) => Ok(one.clone()),
            Some([_, ..]) => Err("import.station_ambiguous"),
            _ => Err("import.station_not_found"),
        }
    }
}

/// Stations and teams in scope by normalised name, and townships.
struct Places {
    townships: RegionIndex,
    stations: StationIndex,
    teams: HashMap<String, Vec<String>>,
    team_names: Vec<String>,
}

impl Places {
    async fn load(job: &Job<'_>, conn: &mut Conn) -> WebResult<Self> {
        let scope = job.scope();
        let all = PageRequest {
            page: 1,
            per_page: 100_000,
        };
        let stations = StationIndex::load(conn, &scope).await?;
        let mut team_map: HashMap<String, Vec<String>> = HashMap::new();
        let mut team_names = Vec::new();
        for t in teams::list(conn, &scope, None, all).await?.items {
            team_map
                .entry(sheet::normalize(&t.name))
                .or_default()
                .push(t.id);
            team_names.push(t.name);
        }
        Ok(Self {
            townships: RegionIndex::load(conn, &scope, RegionLevel::Township).await?,
            stations,
            teams: team_map,
            team_names,
        })
    }
}

/// (team id, volunteer id) memberships of the teams in scope, in one query.
async fn members_of(conn: &mut Conn, job: &Job<'_>) -> WebResult<HashSet<(String, String)>> {
    Ok(teams::memberships(conn, &job.scope())
        .await?
        .into_iter()
        .collect())
}

/// A row whose cells and form fields are valid, not yet checked against the records.
struct Prepared<'r> {
    row: &'r Row,
    label: String,
    input: VolunteerInput,
    hash: String,
    team: Option<String>,
}

fn shown(e: &CellError) -> String {
    if matches!(e.column, "id_number" | "mobile") {
        mask(&e.raw)
    } else {
        e.raw.clone()
    }
}

fn today(job: &Job<'_>) -> NaiveDate {
    NaiveDate::parse_from_str(&job.today(), "%Y-%m-%d").unwrap_or_default()
}

/// Parse the row as the volunteer form does, with its station (or township) and team resolved,
/// and its identity number not repeated in the file.
fn prepare<'r>(
    job: &Job<'_>,
    places: &Places,
    seen: &mut HashMap<String, usize>,
    row: &'r Row,
) -> Result<Prepared<'r>, Planned> {
    let cells = job.cells(&COLUMNS);
    let mut errors = cells.parse_errors(row, shown);
    let raw_id = row.text("id_number");
    let label = format!("{} {}", row.text("name"), mask(&raw_id));
    let invalid = |label, errors| Planned::new(row.number, label, Action::Invalid, errors, None);
    let mut f = form_fields(row, &raw_id);
    f.extend(place_fields(job, places, row, &mut errors));
    let team = team_of(job, places, row, &mut errors);
    if !errors.is_empty() {
        return Err(invalid(label, errors));
    }
    let input = match super::input::parse(&FormData::new(f), today(job), false) {
        Ok(input) => input,
        Err(field_errors) => {
            errors.extend(cells.field_errors(field_errors));
            return Err(invalid(label, errors));
        }
    };
    let number = input.id_number.clone().unwrap_or_default();
    let label = format!("{} {}", input.name, mask(&number));
    let hash = job.state.keys.lookup_hash(registry::ID_FIELD, &number);
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
        team,
    })
}

fn form_fields(row: &Row, raw_id: &str) -> Vec<(String, String)> {
    let date = |k: &str| row.date(k).map(|d| d.to_string()).unwrap_or_default();
    [
        ("name", row.text("name")),
        (
            "id_type",
            row.code("id_type").unwrap_or("resident_id").to_owned(),
        ),
        ("id_number", raw_id.to_owned()),
        ("mobile", row.text("mobile")),
        ("sex", row.code("sex").unwrap_or("").to_owned()),
        ("birth_date", date("birth_date")),
        ("skills", row.text("skills")),
        ("intentions", row.text("intentions")),
        ("availability", row.text("availability")),
        ("guardian_name", row.text("guardian_name")),
        ("guardian_consent_on", date("guardian_consent_on")),
        ("registered_on", date("registered_on")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// The station (its region too), else the township.
fn place_fields(
    job: &Job<'_>,
    places: &Places,
    row: &Row,
    errors: &mut Vec<CellMessage>,
) -> Vec<(String, String)> {
    let cells = job.cells(&COLUMNS);
    let station = row.text("station");
    if !station.is_empty() {
        return match places.stations.resolve(&station) {
            Ok((id, region)) => vec![("station".to_owned(), id), ("region".to_owned(), region)],
            Err(code) => {
                errors.push(cells.say("station", code, &station, ""));
                vec![]
            }
        };
    }
    let place = row.text("township");
    match places
        .townships
        .resolve(&resolve::within(&row.text("county"), &place))
    {
        Ok(code) => vec![("region".to_owned(), code)],
        Err(_) if place.is_empty() => {
            errors.push(cells.say("station", "staff.station_or_region", "", ""));
            vec![]
        }
        Err((code, extra)) => {
            errors.push(cells.say("township", code, &place, &extra));
            vec![]
        }
    }
}

fn team_of(
    job: &Job<'_>,
    places: &Places,
    row: &Row,
    errors: &mut Vec<CellMessage>,
) -> Option<String> {
    let name = row.text("team");
    if name.is_empty() {
        return None;
    }
    let cells = job.cells(&COLUMNS);
    match places
        .teams
        .get(&sheet::normalize(&name))
        .map(Vec::as_slice)
    {
        Some([one]) => Some(one.clone()),
        Some([_, ..]) => {
            errors.push(cells.say("team", "import.team_ambiguous", &name, ""));
            None
        }
        _ => {
            errors.push(cells.say("team", "import.team_not_found", &name, ""));
            None
        }
    }
}

/// Against every registration: one here is left as is (joining the team when the sheet names
/// one it is not in), one elsewhere is an error, the rest are created.
fn decide(
    job: &Job<'_>,
    on_file: &HashMap<String, (String, String)>,
    members: &HashSet<(String, String)>,
    p: Prepared<'_>,
) -> Planned {
    let cells = job.cells(&COLUMNS);
    let scope = job.scope();
    let (action, change) = match on_file.get(&p.hash) {
        Some((id, region)) if scope.contains_region(region) => {
            let joins = p
                .team
                .clone()
                .filter(|t| !members.contains(&(t.clone(), id.clone())));
            let action = if joins.is_some() {
                Action::Update
            } else {
                Action::Unchanged
            };
            let change = VolunteerChange {
                existing: Some(id.clone()),
                input: p.input,
                team: joins,
            };
            (action, change)
        }
        Some(_) => {
            let errors = vec![cells.say("id_number", "volunteer.id_taken", "", "")];
            return Planned::new(p.row.number, p.label, Action::Invalid, errors, None);
        }
        None => (
            Action::Create,
            VolunteerChange {
                existing: None,
                input: p.input,
                team: p.team,
            },
        ),
    };
    Planned::new(
        p.row.number,
        p.label,
        action,
        vec![],
        Some(Box::new(change)),
    )
}

/// A volunteer to register (or one registered already), and a team to join.
struct VolunteerChange {
    existing: Option<String>,
    input: VolunteerInput,
    team: Option<String>,
}

impl Change for VolunteerChange {
    fn apply<'a>(&'a self, job: &'a Job<'a>, tx: &'a mut Conn) -> BoxFuture<'a, StoreResult<()>> {
        Box::pin(async move {
            let scope = job.scope();
            let day = today(job);
            let id = match &self.existing {
                Some(id) => id.clone(),
                None => {
                    let by = job.user.user.username.clone();
                    let keys = &job.state.keys;
                    registry::create(tx, &scope, keys, &self.input, day, &by, job.now).await?
                }
            };
            if let Some(team) = &self.team {
                teams::add_member(tx, &scope, team, &id, &day.to_string()).await?;
            }
            Ok(())
        })
    }
}
