//! The volunteer teams sheet (志愿服务队名册), through the shared import engine: each row parsed as
//! the team form parses it (a registered team names its 统一社会信用代码, an unregistered one its
//! liaison station), the township and station resolved by name, and a team already on file in
//! that township (same name) left as it is; a name repeated in the file is an error naming the
//! first row.

use std::collections::{HashMap, HashSet};

use shegong_domain::RegionLevel;
use shegong_store::volunteers::teams::{self, TeamInput};
use shegong_store::{Conn, PageRequest, StoreResult};

use crate::http::error::WebResult;
use crate::import::engine::{Action, BoxFuture, Change, Importer, Job, Lists, Planned};
use crate::import::resolve::{self, RegionIndex};
use crate::import::schema::{Kind, Row, Schema, col};
use crate::import::sheet;

use super::import::StationIndex;
use crate::ui::forms::FormData;

const REGISTERED: &[(&str, &[&str])] = &[
    ("1", &["已登记", "是", "已注册", "登记"]),
    ("0", &["未登记", "否", "未注册"]),
];

static COLUMNS: Schema = Schema {
    name_zh: "志愿服务队",
    name_en: "Volunteer teams",
    columns: &[
        col!(
            "name",
            "队伍名称",
            "Team",
            ["服务队名称", "志愿服务队", "团队名称", "名称"],
            true,
            Kind::Text { max_chars: 100 },
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
            "可选：用于区分重名乡镇",
            "Optional: tells apart townships of the same name"
        ),
        col!(
            "township",
            "所在乡镇（街道）",
            "Township",
            ["乡镇街道", "乡镇", "街道", "所在乡镇", "乡镇（街道）"],
            false,
            Kind::Region,
            "留空时为联络社工站所在乡镇",
            "The liaison station's township when empty"
        ),
        col!(
            "registered",
            "登记情况",
            "Registered",
            ["是否登记", "是否注册", "登记状态"],
            false,
            Kind::Choice(REGISTERED),
            "已登记或未登记；默认未登记",
            "Registered or not; not by default"
        ),
        col!(
            "registration_no",
            "统一社会信用代码",
            "USCC",
            ["信用代码", "登记证号", "社会信用代码"],
            false,
            Kind::Text { max_chars: 18 },
            "已登记的队伍必填",
            "Required for a registered team"
        ),
        col!(
            "station",
            "联络社工站",
            "Liaison station",
            ["依托社工站", "社工站", "挂靠社工站", "所属社工站"],
            false,
            Kind::Text { max_chars: 100 },
            "未登记的队伍必填",
            "Required for an unregistered team"
        ),
    ],
};

/// The volunteer teams' import.
pub struct Teams;

/// Volunteer teams, one per name and township.
pub const TEAMS: Teams = Teams;

impl Importer for Teams {
    fn kind(&self) -> &'static str {
        "volunteer_teams"
    }

    fn list_path(&self) -> &'static str {
        "/volunteer-teams"
    }

    fn title_key(&self) -> &'static str {
        "menu.volunteer_teams"
    }

    fn audit_entity(&self) -> &'static str {
        "volunteer_team"
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
            Ok(vec![("station", places.stations.names)])
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
            Ok(rows
                .iter()
                .map(|row| plan_row(job, &places, &mut seen, row))
                .collect())
        })
    }
}

/// Townships, stations and the teams on file (region, normalised name) in scope.
struct Places {
    townships: RegionIndex,
    stations: StationIndex,
    teams: HashSet<(String, String)>,
}

impl Places {
    async fn load(job: &Job<'_>, conn: &mut Conn) -> WebResult<Self> {
        let scope = job.scope();
        let all = PageRequest {
            page: 1,
            per_page: 100_000,
        };
        let stations = StationIndex::load(conn, &scope).await?;
        let teams = teams::list(conn, &scope, None, all)
            .await?
            .items
            .into_iter()
            .map(|t| (t.region_code, sheet::normalize(&t.name)))
            .collect();
        Ok(Self {
            townships: RegionIndex::load(conn, &scope, RegionLevel::Township).await?,
            stations,
            teams,
        })
    }
}

fn plan_row(
    job: &Job<'_>,
    places: &Places,
    seen: &mut HashMap<(String, String), usize>,
    row: &Row,
) -> Planned {
    let cells = job.cells(&COLUMNS);
    let mut errors = cells.parse_errors(row, |e| e.raw.clone());
    let name = row.text("name");
    let invalid = |errors| Planned::new(row.number, name.clone(), Action::Invalid, errors, None);
    let station_name = row.text("station");
    let station = match station_name.as_str() {
        "" => None,
        s => match places.stations.resolve(s) {
            Ok(st) => Some(st),
            Err(code) => {
                errors.push(cells.say("station", code, s, ""));
                None
            }
        },
    };
    let place = row.text("township");
    let region = if place.is_empty() {
        station.as_ref().map(|(_, r)| r.clone())
    } else {
        match places
            .townships
            .resolve(&resolve::within(&row.text("county"), &place))
        {
            Ok(code) => Some(code),
            Err((code, extra)) => {
                errors.push(cells.say("township", code, &place, &extra));
                None
            }
        }
    };
    if !errors.is_empty() {
        return invalid(errors);
    }
    let f = FormData::new(vec![
        ("name".into(), name.clone()),
        ("region".into(), region.unwrap_or_default()),
        (
            "registered".into(),
            row.code("registered").unwrap_or("0").to_owned(),
        ),
        ("registration_no".into(), row.text("registration_no")),
        (
            "station".into(),
            station.map(|(id, _)| id).unwrap_or_default(),
        ),
    ]);
    let input = match super::teams::parse(&f) {
        Ok(input) => input,
        Err(e) => {
            errors.extend(cells.field_errors(e));
            return invalid(errors);
        }
    };
    let key = (input.region.to_string(), sheet::normalize(&input.name));
    if let Some(first) = seen.get(&key) {
        let first = first.to_string();
        errors.push(cells.say("name", "import.duplicate_in_file", "", &first));
        return invalid(errors);
    }
    seen.insert(key.clone(), row.number);
    if places.teams.contains(&key) {
        return Planned::new(
            row.number,
            name,
            Action::Unchanged,
            vec![],
            Some(Box::new(Kept)),
        );
    }
    Planned::new(
        row.number,
        name,
        Action::Create,
        vec![],
        Some(Box::new(NewTeam(input))),
    )
}

/// A team on file already: nothing to write.
struct Kept;

impl Change for Kept {
    fn apply<'a>(&'a self, _: &'a Job<'a>, _: &'a mut Conn) -> BoxFuture<'a, StoreResult<()>> {
        Box::pin(async { Ok(()) })
    }
}

/// A team to create.
struct NewTeam(TeamInput);

impl Change for NewTeam {
    fn apply<'a>(&'a self, job: &'a Job<'a>, tx: &'a mut Conn) -> BoxFuture<'a, StoreResult<()>> {
        Box::pin(async move {
            let by = job.user.user.username.clone();
            teams::create(tx, &job.scope(), &self.0, &by, job.now)
                .await
                .map(drop)
        })
    }
}
