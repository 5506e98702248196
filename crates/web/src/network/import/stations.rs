//! The stations sheet: one row per station, found again by township + station name, so
//! re-importing a sheet changes nothing. What a row leaves empty keeps the stored value; the
//! year's funding is set when given; completion is confirmed on the station's page, not by a
//! sheet.

use std::collections::HashMap;

use shegong_domain::RegionLevel;
use shegong_domain::money::Fen;
use shegong_domain::network::station::{FundingSource, Mode, Status, Tier};
use shegong_store::import::lookups;
use shegong_store::network::stations::{self, Station, StationInput};
use shegong_store::{Conn, PageRequest, StoreResult};

use crate::http::error::WebResult;
use crate::import::engine::{Action, BoxFuture, Change, Importer, Job, Lists, Planned};
use crate::import::resolve::{OrgIndex, RegionIndex};
use crate::import::schema::{Kind, Row, Schema, col};
use crate::ui::forms::FormData;

const TIERS: &[(&str, &[&str])] = &[
    (
        "township_station",
        &["乡镇（街道）社工站", "乡镇社工站", "街道社工站", "社工站"],
    ),
    (
        "county_center",
        &[
            "县级社会工作指导中心",
            "县级指导中心",
            "社工总站",
            "县级中心",
        ],
    ),
    (
        "village_room",
        &["村（社区）社工室", "社工室", "社工服务点"],
    ),
];
const STATUSES: &[(&str, &[&str])] = &[
    ("planned", &["规划中", "规划", "未建", "计划建设"]),
    ("under_construction", &["建设中", "在建", "正在建设"]),
    (
        "operating",
        &[
            "运营中",
            "已建成",
            "已运营",
            "运营",
            "正常运营",
            "已建成运营",
        ],
    ),
    ("suspended", &["暂停", "停运", "暂停运营"]),
    ("closed", &["已撤销", "撤销", "关闭", "已关闭"]),
];
const MODES: &[(&str, &[&str])] = &[
    (
        "purchase",
        &["政府购买服务", "购买服务", "购买", "项目购买"],
    ),
    (
        "direct",
        &["乡镇直接聘用", "直接聘用", "直聘", "自建自营", "自营"],
    ),
];
static COLUMNS: Schema = Schema {
    name_zh: "社工站",
    name_en: "Stations",
    columns: &[
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
            "Township / street",
            [
                "乡镇街道",
                "乡镇",
                "街道",
                "乡镇（街道）",
                "所属乡镇",
                "所在乡镇",
                "所在街道",
                "镇街",
                "所在地区",
                "township",
                "乡镇（街道）名称",
                "所属乡镇（街道）",
                "所在镇（街道）",
                "乡镇/街道",
                "镇（街道）",
                "乡镇街道名称"
            ],
            true,
            Kind::Region,
            "乡镇（街道）名称，可带县区名，如“芦淞区贺家土街道”，或 9 位区划代码",
            "Township name (optionally with its county, e.g. 芦淞区贺家土街道) or its 9-digit code"
        ),
        col!(
            "name",
            "社工站名称",
            "Station name",
            [
                "站点名称",
                "名称",
                "社工站",
                "站名",
                "station",
                "社工站（点）名称",
                "社会工作服务站名称",
                "社工站点名称",
                "站点",
                "服务站名称",
                "社工站名"
            ],
            true,
            Kind::Text { max_chars: 100 },
            "同一乡镇内不重名",
            "Unique within its township"
        ),
        col!(
            "tier",
            "站点层级",
            "Tier",
            ["层级", "类型", "站点类型", "站点级别", "级别"],
            false,
            Kind::Choice(TIERS),
            "默认为乡镇（街道）社工站",
            "Defaults to township station"
        ),
        col!(
            "status",
            "建设状态",
            "Status",
            [
                "状态",
                "运营状态",
                "建设情况",
                "工作进度情况",
                "工作进度",
                "进度",
                "建设进度",
                "进展情况",
                "建设进展",
                "站点状态",
                "当前状态",
                "运行状态"
            ],
            true,
            Kind::Choice(STATUSES),
            "规划中、建设中、运营中、暂停、已撤销",
            "Planned, under construction, operating, suspended, closed"
        ),
        col!(
            "status_since",
            "状态日期",
            "Status since",
            [
                "建成日期",
                "建成时间",
                "投入运营日期",
                "运营时间",
                "挂牌时间",
                "挂牌日期",
                "成立时间",
                "成立日期",
                "启用时间"
            ],
            false,
            Kind::Date,
            "如 2024-03-01；默认为今天",
            "e.g. 2024-03-01; defaults to today"
        ),
        col!(
            "mode",
            "运营方式",
            "Operating mode",
            [
                "运营模式",
                "运行方式",
                "运营方式（购买/直聘）",
                "建设运营模式",
                "运行模式"
            ],
            true,
            Kind::Choice(MODES),
            "政府购买服务或乡镇直接聘用",
            "Government purchase or direct employment"
        ),
        col!(
            "operator",
            "运营机构",
            "Operator",
            [
                "承接机构",
                "运营单位",
                "社工机构",
                "承接单位",
                "运营机构名称",
                "承接主体",
                "承接机构名称",
                "运营主体",
                "第三方机构"
            ],
            false,
            Kind::Text { max_chars: 100 },
            "已登记机构的名称或统一社会信用代码；购买服务时必填",
            "Name or credit code of a registered organisation; required for purchased services"
        ),
        col!(
            "address",
            "详细地址",
            "Address",
            [
                "地址",
                "站点地址",
                "具体地址",
                "站点详细地址",
                "所在地址",
                "站址"
            ],
            false,
            Kind::Text { max_chars: 200 },
            "",
            ""
        ),
        col!(
            "host_premises",
            "依托场所",
            "Host premises",
            ["场所", "所在场地", "依托阵地", "依托场地", "办公场所"],
            false,
            Kind::Text { max_chars: 100 },
            "如党群服务中心、民政办",
            "e.g. 党群服务中心"
        ),
        col!(
            "area_m2",
            "场地面积（㎡）",
            "Area (m²)",
            [
                "面积",
                "使用面积",
                "场地面积",
                "建筑面积",
                "办公面积",
                "站点面积",
                "阵地面积",
                "用房面积"
            ],
            false,
            Kind::Area,
            "如 120 或 120㎡",
            "e.g. 120 or 120㎡"
        ),
        col!(
            "staff_count",
            "工作人员数",
            "Staff",
            [
                "人员数",
                "工作人员",
                "社工人数",
                "驻站人数",
                "工作人员数量",
                "在岗人数",
                "驻站社工数",
                "人员数量",
                "社工数"
            ],
            false,
            Kind::Integer,
            "",
            ""
        ),
        col!(
            "certified_count",
            "持证社工数",
            "Certified social workers",
            ["持证人数", "持证社工", "持证社工人数", "持证人员数"],
            false,
            Kind::Integer,
            "",
            ""
        ),
        col!(
            "funding",
            "本年度经费（元）",
            "Funding this year (yuan)",
            [
                "年度经费",
                "经费",
                "资金",
                "经费（元）",
                "年度经费（万元）",
                "配备资金",
                "配备资金（万元）",
                "运营经费",
                "工作经费",
                "项目经费",
                "项目资金",
                "资金投入",
                "经费投入",
                "投入资金",
                "资金（元）",
                "本年度经费"
            ],
            false,
            Kind::Money,
            "如 300000 或 30万",
            "e.g. 300000 or 30万"
        ),
        col!(
            "phone",
            "联系电话",
            "Phone",
            [
                "电话",
                "联系方式",
                "站点电话",
                "办公电话",
                "手机",
                "手机号码",
                "联系手机",
                "联系人电话",
                "负责人电话",
                "站长电话"
            ],
            false,
            Kind::Text { max_chars: 40 },
            "",
            ""
        ),
        col!(
            "lng",
            "经度",
            "Longitude",
            ["东经"],
            false,
            Kind::Decimal,
            "如 113.134",
            "e.g. 113.134"
        ),
        col!(
            "lat",
            "纬度",
            "Latitude",
            ["北纬"],
            false,
            Kind::Decimal,
            "如 27.827",
            "e.g. 27.827"
        ),
    ],
};

/// The stations registry's import.
pub struct Stations;

impl Importer for Stations {
    fn kind(&self) -> &'static str {
        "stations"
    }

    fn list_path(&self) -> &'static str {
        "/stations"
    }

    fn title_key(&self) -> &'static str {
        "menu.stations"
    }

    fn audit_entity(&self) -> &'static str {
        "station"
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
            let scope = job.scope();
            let towns = RegionIndex::load(conn, &scope, RegionLevel::Township).await?;
            let orgs = OrgIndex::load(conn, &scope).await?;
            Ok(vec![
                ("township", township_names(&towns)),
                ("operator", orgs.all.into_iter().map(|o| o.name).collect()),
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
            let found = Lookups::load(job, conn).await?;
            let mut seen = HashMap::new();
            Ok(rows
                .iter()
                .map(|row| plan_row(job, &found, &mut seen, row))
                .collect())
        })
    }
}

/// Township names as the office writes them; county-qualified when names repeat.
fn township_names(towns: &RegionIndex) -> Vec<String> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for (_, n, _) in &towns.rows {
        *counts.entry(n.as_str()).or_default() += 1;
    }
    towns
        .rows
        .iter()
        .map(|(_, n, p)| {
            if counts.get(n.as_str()).copied().unwrap_or(0) > 1 {
                p.split('/')
                    .rev()
                    .nth(1)
                    .map_or_else(|| n.clone(), |c| format!("{c}{n}"))
            } else {
                n.clone()
            }
        })
        .collect()
}

/// Everything a stations sheet is checked against, loaded once.
struct Lookups {
    townships: RegionIndex,
    counties: RegionIndex,
    villages: RegionIndex,
    operators: OrgIndex,
    /// Stations in scope by (region code, name).
    existing: HashMap<(String, String), Station>,
    /// This year's funding amounts of the stations in scope.
    funding: HashMap<String, Vec<i64>>,
    /// The township station holding each township (not closed), of any operator: (id, name).
    places: HashMap<String, (String, String)>,
}

impl Lookups {
    async fn load(job: &Job<'_>, conn: &mut Conn) -> WebResult<Self> {
        let scope = job.scope();
        let all = stations::list(
            conn,
            &scope,
            &stations::Filter::default(),
            PageRequest {
                page: 1,
                per_page: 100_000,
            },
        )
        .await?
        .items;
        let ids: Vec<String> = all.iter().map(|s| s.id.clone()).collect();
        let funding = lookups::funding_of_year(conn, &ids, this_year(job)).await?;
        let mut places = HashMap::new();
        for (region, id, name) in stations::places_held(conn, &scope).await? {
            places.entry(region).or_insert((id, name));
        }
        Ok(Self {
            places,
            townships: RegionIndex::load(conn, &scope, RegionLevel::Township).await?,
            counties: RegionIndex::load(conn, &scope, RegionLevel::County).await?,
            villages: RegionIndex::load(conn, &scope, RegionLevel::Village).await?,
            operators: OrgIndex::load(conn, &scope).await?,
            existing: all
                .into_iter()
                .map(|s| ((s.region_code.clone(), s.name.clone()), s))
                .collect(),
            funding,
        })
    }
}

fn this_year(job: &Job<'_>) -> i64 {
    job.today()
        .get(..4)
        .and_then(|y| y.parse().ok())
        .unwrap_or(2024)
}

/// Check one row and decide what committing it would do.
fn plan_row(
    job: &Job<'_>,
    found: &Lookups,
    seen: &mut HashMap<String, usize>,
    row: &Row,
) -> Planned {
    let cells = job.cells(&COLUMNS);
    let mut errors = cells.parse_errors(row, |e| e.raw.clone());
    let tier = row
        .code("tier")
        .and_then(|c| Tier::parse(c).ok())
        .unwrap_or(Tier::TownshipStation);
    let index = match tier {
        Tier::CountyCenter => &found.counties,
        Tier::TownshipStation => &found.townships,
        Tier::VillageRoom => &found.villages,
    };
    let place = row.text("township");
    // A county column narrows a township's name (two counties may each have a 城关镇).
    let county = row.text("county");
    let qualified = match tier {
        Tier::CountyCenter => place.clone(),
        _ => format!("{county}{place}"),
    };
    let region = if place.is_empty() {
        None
    } else {
        index
            .resolve(&qualified)
            .map_err(|(code, extra)| errors.push(cells.say("township", code, &place, &extra)))
            .ok()
    };
    let name = row.text("name");
    let operator_text = row.text("operator");
    let operator = if operator_text.is_empty() {
        None
    } else {
        found
            .operators
            .resolve(&operator_text)
            .map_err(|code| errors.push(cells.say("operator", code, &operator_text, "")))
            .ok()
    };
    let label = format!("{place} {name}");
    let invalid = |errors| Planned::new(row.number, label.clone(), Action::Invalid, errors, None);
    let Some(region) = region.filter(|_| errors.is_empty()) else {
        return invalid(errors);
    };
    let key = format!("{region}/{}", name.trim());
    if let Some(first) = seen.get(&key) {
        errors.push(cells.say(
            "name",
            "import.duplicate_in_file",
            &name,
            &first.to_string(),
        ));
        return invalid(errors);
    }
    seen.insert(key, row.number);
    let existing = found
        .existing
        .get(&(region.clone(), name.trim().to_owned()));
    let fields = form_fields(job, row, tier, &region, &name, operator, existing);
    let input = match crate::network::stations::parse(&FormData::new(fields)) {
        Ok(input) => input,
        Err(field_errors) => {
            errors.extend(cells.field_errors(field_errors));
            return invalid(errors);
        }
    };
    let place_text = row.text("township");
    if let Some(e) = place_taken(
        &cells,
        found,
        seen,
        (row.number, &place_text),
        &input,
        existing,
    ) {
        errors.push(e);
        return invalid(errors);
    }
    let funding = row.fen("funding");
    let action = match existing {
        None => Action::Create,
        Some(e) if unchanged(e, &input) && funding_held(found, e, funding) => Action::Unchanged,
        Some(e) => {
            if let Some((code, shown)) = status_refused(job, e, &input) {
                errors.push(cells.say("status", code, &shown, ""));
            }
            Action::Update
        }
    };
    let change = StationChange {
        existing: existing.map(|e| e.id.clone()),
        input,
        funding,
    };
    Planned::new(row.number, label, action, errors, Some(Box::new(change)))
}

/// A township has one township station while it is not closed (`Tier::one_per_region`): a row
/// that would open a second one, against the stations on file or an earlier row, is refused on
/// the township column.
fn place_taken(
    cells: &crate::import::engine::Cells<'_>,
    found: &Lookups,
    seen: &mut HashMap<String, usize>,
    (number, shown): (usize, &str),
    input: &StationInput,
    existing: Option<&Station>,
) -> Option<crate::import::engine::CellMessage> {
    if !input.tier.one_per_region() || !input.status.holds_place() {
        return None;
    }
    let region = input.region.as_str();
    if let Some((id, name)) = found.places.get(region)
        && existing.is_none_or(|e| e.id != *id)
    {
        return Some(cells.say("township", "import.township_taken_by", shown, name));
    }
    let key = format!("place:{region}");
    if let Some(first) = seen.get(&key) {
        return Some(cells.say(
            "township",
            "import.township_in_file",
            shown,
            &first.to_string(),
        ));
    }
    seen.insert(key, number);
    None
}

/// The row as the station form's fields; for a station on file, what the sheet leaves empty
/// keeps the stored value.
fn form_fields(
    job: &Job<'_>,
    row: &Row,
    tier: Tier,
    region: &str,
    name: &str,
    operator: Option<String>,
    existing: Option<&Station>,
) -> Vec<(String, String)> {
    let today = job.today();
    let mut f: Vec<(String, String)> = [
        ("tier", tier.as_str().to_owned()),
        ("region", region.to_owned()),
        ("name", name.to_owned()),
        ("status", row.code("status").unwrap_or("").to_owned()),
        (
            "status_since",
            row.date("status_since")
                .map_or_else(|| today.clone(), |d| d.format("%Y-%m-%d").to_string()),
        ),
        ("mode", row.code("mode").unwrap_or("").to_owned()),
        ("operator", operator.unwrap_or_default()),
        ("address", row.text("address")),
        ("host_premises", row.text("host_premises")),
        ("area_m2", row.int("area_m2").to_string()),
        ("staff_count", row.int("staff_count").to_string()),
        ("certified_count", row.int("certified_count").to_string()),
        ("phone", row.text("phone")),
        ("lng", row.decimal("lng").unwrap_or_default()),
        ("lat", row.decimal("lat").unwrap_or_default()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let Some(e) = existing else {
        return f;
    };
    for (k, val) in f.iter_mut() {
        if (val.is_empty() || (val == "0" && !row.values.contains_key(k.as_str())))
            && let Some(kept) = kept(e, k)
        {
            *val = kept;
        }
    }
    if !row.values.contains_key("status_since")
        && let Some(p) = f.iter_mut().find(|(k, _)| k == "status_since")
    {
        p.1 = if row.code("status") == Some(e.status.as_str()) {
            e.status_since.clone()
        } else {
            today
        };
    }
    for r in e.rooms.split(',').filter(|r| !r.is_empty()) {
        f.push(("rooms".to_owned(), r.to_owned()));
    }
    f.push(("open_hours".to_owned(), e.open_hours.clone()));
    f
}

/// The stored value of a field the sheet may leave empty.
fn kept(e: &Station, field: &str) -> Option<String> {
    Some(match field {
        "address" => e.address.clone(),
        "host_premises" => e.host_premises.clone(),
        "phone" => e.phone.clone(),
        "area_m2" => e.area_m2.to_string(),
        "staff_count" => e.staff_count.to_string(),
        "certified_count" => e.certified_count.to_string(),
        "lng" => e
            .lng_e6
            .map(crate::network::stations::micro)
            .unwrap_or_default(),
        "lat" => e
            .lat_e6
            .map(crate::network::stations::micro)
            .unwrap_or_default(),
        _ => return None,
    })
}

/// Whether the row says what is stored already.
fn unchanged(e: &Station, input: &StationInput) -> bool {
    e.tier == input.tier
        && e.status == input.status
        && e.mode == input.mode
        && e.operator_org_id == input.operator_org_id
        && e.status_since == input.status_since
        && e.address == input.address
        && e.host_premises == input.host_premises
        && e.area_m2 == input.area_m2
        && e.staff_count == input.staff_count
        && e.certified_count == input.certified_count
        && e.phone == input.phone
        && e.lng_e6 == input.lng_e6
        && e.lat_e6 == input.lat_e6
}

/// Whether the station already has this year's funding of this amount (or none is given).
fn funding_held(found: &Lookups, e: &Station, funding: Option<Fen>) -> bool {
    funding.is_none_or(|fen| {
        found
            .funding
            .get(&e.id)
            .is_some_and(|amounts| amounts.contains(&fen.0))
    })
}

/// A status change a sheet may not make: (message key, the stored status as shown).
fn status_refused(
    job: &Job<'_>,
    e: &Station,
    input: &StationInput,
) -> Option<(&'static str, String)> {
    let status = e.status;
    let shown = job
        .t
        .get(&format!("station.status.{}", e.status))
        .to_owned();
    if status != input.status && !status.can_become(input.status) {
        Some(("station.status_transition", shown))
    } else if status.reports_progress() && input.status == Status::Operating {
        // Completion is confirmed on the station's page, not by a sheet.
        Some(("station.confirm_required", shown))
    } else {
        None
    }
}

/// A station to create or update, and this year's funding to set.
struct StationChange {
    existing: Option<String>,
    input: StationInput,
    funding: Option<Fen>,
}

impl Change for StationChange {
    fn apply<'a>(&'a self, job: &'a Job<'a>, tx: &'a mut Conn) -> BoxFuture<'a, StoreResult<()>> {
        Box::pin(async move {
            let scope = job.scope();
            let by = &job.user.user.username;
            let id = match &self.existing {
                Some(id) => {
                    stations::update(tx, &scope, id, &self.input, by, &job.today(), job.now)
                        .await?;
                    id.clone()
                }
                None => stations::create(tx, &scope, &self.input, by, job.now).await?,
            };
            if let Some(fen) = self.funding {
                let source = if self.input.mode == Mode::Purchase {
                    FundingSource::Purchase
                } else {
                    FundingSource::Township
                };
                stations::set_funding(tx, &scope, &id, this_year(job), source, fen.0, job.now)
                    .await?;
            }
            Ok(())
        })
    }
}
