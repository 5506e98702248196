//! Excel import for stations, organisations, social workers and residents, the way offices
//! really send lists: download a template (with dropdowns), upload a sheet, see a preview that
//! lists every bad row and cell with the reason, then commit the valid rows only or nothing
//! unless all are valid. Re-importing the same sheet changes nothing (natural keys: township +
//! station name; USCC, else registration region + organisation name; identity number). Residents
//! are only ever registered: a number on file or a likely duplicate is skipped. One audit entry
//! per import.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::Router;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};
use shegong_domain::network::station::{FundingSource, Mode, Rating, Status, Tier};
use shegong_domain::{FieldError, Permission, RegionLevel, Scope, people};
use shegong_store::admin::audit::{self, Change, Event};
use shegong_store::network::orgs::{self, OrgInput};
use shegong_store::network::stations::{self, StationInput};
use shegong_store::people::residents::{self, MembershipInput, ResidentInput};
use shegong_store::sql::Sql;
use shegong_store::workforce::staff::{self, StaffInput};
use shegong_store::{Conn, import as staging};

use crate::http::auth::{Ctx, CurrentUser};
use crate::http::error::{WebError, WebResult};
use crate::http::render::{Base, Crumb, page};
use crate::http::state::AppState;
use crate::import::sheet::{self, Column, Kind, Schema, Value};
use crate::ui::forms::{FormData, today};
use crate::ui::i18n::Tr;

// ---------------------------------------------------------------------------------------------
// Schemas

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
const ORG_KINDS: &[(&str, &[&str])] = &[
    (
        "agency",
        &["社会工作服务机构", "社工机构", "社会组织", "民办非企业单位"],
    ),
    ("civil_affairs_bureau", &["民政部门", "民政局", "民政"]),
    (
        "township_government",
        &[
            "乡镇人民政府/街道办事处",
            "乡镇政府",
            "街道办事处",
            "街道办",
        ],
    ),
    ("other", &["其他"]),
];
const RATINGS: &[(&str, &[&str])] = &[
    ("5A", &["5A", "5A级", "AAAAA"]),
    ("4A", &["4A", "4A级", "AAAA"]),
    ("3A", &["3A", "3A级", "AAA"]),
    ("2A", &["2A", "2A级", "AA"]),
    ("1A", &["1A", "1A级", "A"]),
];

macro_rules! col {
    ($key:literal, $zh:literal, $en:literal, [$($syn:literal),*], $req:literal, $kind:expr, $hzh:literal, $hen:literal) => {
        Column { key: $key, label_zh: $zh, label_en: $en, synonyms: &[$($syn),*], required: $req, kind: $kind, hint_zh: $hzh, hint_en: $hen }
    };
}

pub static STATIONS: Schema = Schema {
    name_zh: "社工站",
    name_en: "Stations",
    columns: &[
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
                "township"
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
            ["站点名称", "名称", "社工站", "站名", "station"],
            true,
            Kind::Text { max_chars: 100 },
            "同一乡镇内不重名",
            "Unique within its township"
        ),
        col!(
            "tier",
            "站点层级",
            "Tier",
            ["层级", "类型", "站点类型"],
            false,
            Kind::Choice(TIERS),
            "默认为乡镇（街道）社工站",
            "Defaults to township station"
        ),
        col!(
            "status",
            "建设状态",
            "Status",
            ["状态", "运营状态", "建设情况"],
            true,
            Kind::Choice(STATUSES),
            "规划中、建设中、运营中、暂停、已撤销",
            "Planned, under construction, operating, suspended, closed"
        ),
        col!(
            "status_since",
            "状态日期",
            "Status since",
            ["建成日期", "建成时间", "投入运营日期", "运营时间"],
            false,
            Kind::Date,
            "如 2024-03-01；默认为今天",
            "e.g. 2024-03-01; defaults to today"
        ),
        col!(
            "mode",
            "运营方式",
            "Operating mode",
            ["运营模式", "运行方式", "运营方式（购买/直聘）"],
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
                "运营机构名称"
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
            ["地址", "站点地址"],
            false,
            Kind::Text { max_chars: 200 },
            "",
            ""
        ),
        col!(
            "host_premises",
            "依托场所",
            "Host premises",
            ["场所", "所在场地", "依托阵地"],
            false,
            Kind::Text { max_chars: 100 },
            "如党群服务中心、民政办",
            "e.g. 党群服务中心"
        ),
        col!(
            "area_m2",
            "场地面积（㎡）",
            "Area (m²)",
            ["面积", "使用面积", "场地面积", "建筑面积"],
            false,
            Kind::Area,
            "如 120 或 120㎡",
            "e.g. 120 or 120㎡"
        ),
        col!(
            "staff_count",
            "工作人员数",
            "Staff",
            ["人员数", "工作人员", "社工人数", "驻站人数"],
            false,
            Kind::Integer,
            "",
            ""
        ),
        col!(
            "certified_count",
            "持证社工数",
            "Certified social workers",
            ["持证人数", "持证社工"],
            false,
            Kind::Integer,
            "",
            ""
        ),
        col!(
            "funding",
            "本年度经费（元）",
            "Funding this year (yuan)",
            ["年度经费", "经费", "资金", "经费（元）", "年度经费（万元）"],
            false,
            Kind::Money,
            "如 300000 或 30万",
            "e.g. 300000 or 30万"
        ),
        col!(
            "phone",
            "联系电话",
            "Phone",
            ["电话", "联系方式"],
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

pub static ORGS: Schema = Schema {
    name_zh: "机构",
    name_en: "Organisations",
    columns: &[
        col!(
            "name",
            "机构名称",
            "Name",
            ["名称", "单位名称", "机构", "社工机构名称"],
            true,
            Kind::Text { max_chars: 100 },
            "",
            ""
        ),
        col!(
            "uscc",
            "统一社会信用代码",
            "Unified Social Credit Code",
            ["信用代码", "社会信用代码", "统一代码", "USCC"],
            false,
            Kind::Text { max_chars: 30 },
            "18 位；校验位不符的会保存并提示",
            "18 characters; a failing check character is kept with a warning"
        ),
        col!(
            "kind",
            "机构类型",
            "Type",
            ["类型", "单位类型"],
            true,
            Kind::Choice(ORG_KINDS),
            "",
            ""
        ),
        col!(
            "region",
            "登记地区",
            "Registration region",
            ["所在地区", "登记机关所在地", "地区", "县区"],
            true,
            Kind::Region,
            "县（区）名称，可带市名，或区划代码",
            "County name (optionally with its city) or region code"
        ),
        col!(
            "legal_rep",
            "法定代表人",
            "Legal representative",
            ["法人", "法人代表"],
            false,
            Kind::Text { max_chars: 50 },
            "",
            ""
        ),
        col!(
            "contact_name",
            "联系人",
            "Contact",
            ["负责人"],
            false,
            Kind::Text { max_chars: 50 },
            "",
            ""
        ),
        col!(
            "contact_phone",
            "联系电话",
            "Contact phone",
            ["电话", "联系方式"],
            false,
            Kind::Text { max_chars: 40 },
            "",
            ""
        ),
        col!(
            "address",
            "地址",
            "Address",
            ["办公地址", "住所"],
            false,
            Kind::Text { max_chars: 200 },
            "",
            ""
        ),
        col!(
            "rating",
            "评估等级",
            "Rating",
            ["等级", "社会组织评估等级"],
            false,
            Kind::Choice(RATINGS),
            "1A–5A，可空",
            "1A–5A, may be empty"
        ),
    ],
};

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
const SEXES: &[(&str, &[&str])] = &[("male", &["男"]), ("female", &["女"])];
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

pub static STAFF: Schema = Schema {
    name_zh: "社工人员",
    name_en: "Social workers",
    columns: &[
        col!(
            "name",
            "姓名",
            "Name",
            ["人员姓名", "社工姓名"],
            true,
            Kind::Text { max_chars: 50 },
            "",
            ""
        ),
        col!(
            "id_type",
            "证件类型",
            "Document type",
            ["证件种类"],
            false,
            Kind::Choice(ID_TYPES),
            "默认为居民身份证",
            "Defaults to resident ID"
        ),
        col!(
            "id_number",
            "证件号码",
            "Document number",
            ["身份证号", "身份证号码", "公民身份号码", "证件号"],
            true,
            Kind::Text { max_chars: 30 },
            "按国家标准校验",
            "Checked against the national standard"
        ),
        col!(
            "mobile",
            "手机号码",
            "Mobile",
            ["手机", "联系电话", "电话"],
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
            ["文化程度"],
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
            ["社工站", "服务站点", "所在站点"],
            false,
            Kind::Text { max_chars: 100 },
            "社工站名称；无站点时填写所在乡镇",
            "Station name; give the township when none"
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
                "乡镇（街道）"
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
            ["所属机构", "聘用单位", "工作单位"],
            false,
            Kind::Text { max_chars: 100 },
            "已登记机构的名称或信用代码",
            "A registered organisation's name or credit code"
        ),
        col!(
            "role",
            "岗位",
            "Position",
            ["职务", "岗位类别"],
            true,
            Kind::Choice(STAFF_ROLES),
            "",
            ""
        ),
        col!(
            "employment_mode",
            "用工方式",
            "Employment",
            ["聘用方式", "用工形式"],
            true,
            Kind::Choice(EMPLOYMENT),
            "",
            ""
        ),
        col!(
            "joined_on",
            "入职日期",
            "Joined",
            ["入职时间", "到岗日期"],
            true,
            Kind::Date,
            "",
            ""
        ),
        col!(
            "cert_level",
            "证书等级",
            "Certificate level",
            ["职业资格", "持证情况", "资格等级"],
            false,
            Kind::Choice(LEVELS),
            "",
            ""
        ),
        col!(
            "cert_number",
            "证书编号",
            "Certificate number",
            ["证书号"],
            false,
            Kind::Text { max_chars: 40 },
            "",
            ""
        ),
        col!(
            "cert_obtained",
            "取证日期",
            "Certificate obtained",
            ["取得日期", "发证日期"],
            false,
            Kind::Date,
            "",
            ""
        ),
    ],
};

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

pub static RESIDENTS: Schema = Schema {
    name_zh: "服务对象",
    name_en: "Residents",
    columns: &[
        col!(
            "name",
            "姓名",
            "Name",
            ["对象姓名", "户主姓名", "救助对象姓名"],
            true,
            Kind::Text { max_chars: 50 },
            "",
            ""
        ),
        col!(
            "id_number",
            "证件号码",
            "ID number",
            ["身份证号", "身份证号码", "公民身份号码", "证件号"],
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
            ["出生年月日", "生日"],
            false,
            Kind::Date,
            "无证件号码时必填；有证件号码时可留空",
            "Required without an ID number; may be empty with one"
        ),
        col!(
            "ethnicity",
            "民族",
            "Ethnicity",
            [],
            false,
            Kind::Text { max_chars: 20 },
            "",
            ""
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
                "region"
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
            ["住址", "家庭住址", "居住地址", "地址"],
            false,
            Kind::Text { max_chars: 200 },
            "",
            ""
        ),
        col!(
            "phone",
            "联系电话",
            "Phone",
            ["电话", "手机", "手机号码", "联系方式"],
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
            ["类别", "救助类别", "对象类型", "人员类别"],
            false,
            Kind::Text { max_chars: 40 },
            "类别目录中的名称，如“低保”“特困”；残疾人类别请逐个登记",
            "A catalogue category such as 低保; disability categories are registered one by one"
        ),
        col!(
            "valid_from",
            "认定日期",
            "Recognised on",
            ["认定时间", "纳入日期", "审批日期"],
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

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Stations,
    Orgs,
    Staff,
    Residents,
}

impl Target {
    fn schema(self) -> &'static Schema {
        match self {
            Target::Stations => &STATIONS,
            Target::Orgs => &ORGS,
            Target::Staff => &STAFF,
            Target::Residents => &RESIDENTS,
        }
    }

    fn kind(self) -> &'static str {
        match self {
            Target::Stations => "stations",
            Target::Orgs => "orgs",
            Target::Staff => "staff",
            Target::Residents => "residents",
        }
    }

    fn list_path(self) -> &'static str {
        match self {
            Target::Stations => "/stations",
            Target::Orgs => "/orgs",
            Target::Staff => "/staff",
            Target::Residents => "/residents",
        }
    }

    fn title_key(self) -> &'static str {
        match self {
            Target::Stations => "menu.stations",
            Target::Orgs => "menu.orgs",
            Target::Staff => "menu.staff",
            Target::Residents => "menu.residents",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Resolving names against the database, inside the user's scope

/// Regions of one level in scope, for resolving names: (code, name, path names).
struct RegionIndex {
    rows: Vec<(String, String, String)>,
}

impl RegionIndex {
    async fn load(conn: &mut Conn, scope: &Scope, level: RegionLevel) -> WebResult<Self> {
        let mut q = Sql::new("SELECT code, name, path_names FROM regions WHERE level = ");
        q.bind(level.as_str()).push(" AND ");
        q.region_range("code", scope);
        Ok(Self {
            rows: q.fetch_all(conn).await?,
        })
    }

    /// A code, or a name optionally preceded by its parents' names ("芦淞区贺家土街道").
    fn resolve(&self, text: &str, level: RegionLevel) -> Result<String, (&'static str, String)> {
        let text = text.trim();
        if text.bytes().all(|b| b.is_ascii_digit()) {
            return match self.rows.iter().find(|(c, _, _)| c == text) {
                Some((c, _, _)) => Ok(c.clone()),
                None if RegionLevel::from_code_len(text.len()) == Some(level) => {
                    Err(("import.region_not_found", text.to_owned()))
                }
                None => Err(("import.region_wrong_level", text.to_owned())),
            };
        }
        let compact: String = text
            .split_whitespace()
            .collect::<Vec<_>>()
            .join("")
            .replace(['/', '／'], "");
        let mut found: Vec<&(String, String, String)> = self
            .rows
            .iter()
            .filter(|(_, name, _)| compact.ends_with(name.as_str()))
            .collect();
        if found.len() > 1 {
            // Narrow by the parents named before the region's own name.
            let prefix = &compact[..compact.len() - found[0].1.len()];
            let narrowed: Vec<_> = found
                .iter()
                .copied()
                .filter(|(_, name, path)| {
                    let parents: Vec<&str> =
                        path.split('/').filter(|p| *p != name.as_str()).collect();
                    !prefix.is_empty() && parents.iter().rev().take(2).any(|p| prefix.contains(p))
                })
                .collect();
            if !narrowed.is_empty() {
                found = narrowed;
            }
        }
        match found.as_slice() {
            [one] => Ok(one.0.clone()),
            [] => Err(("import.region_not_found", text.to_owned())),
            many => Err((
                "import.region_ambiguous",
                many.iter()
                    .take(6)
                    .map(|(c, _, p)| {
                        format!(
                            "{}（{c}）",
                            shegong_domain::network::region::display_path(p.split('/'))
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("；"),
            )),
        }
    }
}

/// Organisations visible in scope by normalised name and by USCC.
struct OrgIndex {
    by_name: HashMap<String, Vec<String>>,
    by_uscc: HashMap<String, String>,
}

impl OrgIndex {
    async fn load(conn: &mut Conn, scope: &Scope) -> WebResult<Self> {
        let mut by_name: HashMap<String, Vec<String>> = HashMap::new();
        let mut by_uscc = HashMap::new();
        for o in orgs::list(conn, scope).await? {
            by_name
                .entry(sheet::normalize(&o.name))
                .or_default()
                .push(o.id.clone());
            if let Some(u) = o.uscc {
                by_uscc.insert(u, o.id);
            }
        }
        Ok(Self { by_name, by_uscc })
    }

    fn resolve(&self, text: &str) -> Result<String, &'static str> {
        if let Some(id) = self.by_uscc.get(&text.trim().to_ascii_uppercase()) {
            return Ok(id.clone());
        }
        match self.by_name.get(&sheet::normalize(text)).map(Vec::as_slice) {
            Some([one]) => Ok(one.clone()),
            Some([_, ..]) => Err("import.org_ambiguous"),
            _ => Err("import.org_not_found"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Checking rows

pub struct CellMessage {
    pub column: String,
    pub raw: String,
    pub message: String,
}

/// What committing a row would do.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Update,
    Unchanged,
    Invalid,
}

pub struct PreviewRow {
    pub number: usize,
    pub label: String,
    pub action: Action,
    pub errors: Vec<CellMessage>,
}

enum Planned {
    Station {
        existing: Option<String>,
        input: StationInput,
        funding: Option<i64>,
    },
    Org {
        existing: Option<String>,
        input: OrgInput,
    },
    Staff {
        existing: Option<String>,
        input: Box<StaffInput>,
        /// (level, number, obtained on)
        cert: Option<(&'static str, String, String)>,
    },
    Resident {
        input: Box<ResidentInput>,
        membership: Option<MembershipInput>,
    },
}

struct Plan {
    rows: Vec<(PreviewRow, Option<Planned>)>,
    warning: Option<String>,
}

fn text(v: &BTreeMap<&str, Value>, k: &str) -> String {
    match v.get(k) {
        Some(Value::Text(s)) => s.clone(),
        Some(Value::Code(c)) => (*c).to_owned(),
        Some(Value::Int(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn code(v: &BTreeMap<&str, Value>, k: &str) -> Option<&'static str> {
    match v.get(k) {
        Some(Value::Code(c)) => Some(c),
        _ => None,
    }
}

fn int(v: &BTreeMap<&str, Value>, k: &str) -> i64 {
    match v.get(k) {
        Some(Value::Int(n)) | Some(Value::Area(n)) => *n,
        _ => 0,
    }
}

fn decimal(v: &BTreeMap<&str, Value>, k: &str) -> Option<String> {
    match v.get(k) {
        Some(Value::Decimal(d)) => Some(d.to_string()),
        _ => None,
    }
}

/// Why a sheet cannot be planned: the response status (422, or 413/503 for a refused upload)
/// and the message shown above the form.
type Refused = (StatusCode, String);

/// Parse, resolve and check every row, and decide what committing it would do.
async fn plan(
    state: &AppState,
    u: &CurrentUser,
    t: &Tr,
    target: Target,
    bytes: &[u8],
) -> WebResult<Result<Plan, Refused>> {
    let schema = target.schema();
    // Bounded, off the async runtime: see crate::import::limits.
    let parsed =
        match crate::import::limits::read(schema, bytes.to_vec(), &state.config.import).await {
            Ok(p) => p,
            Err(e) => return Ok(Err((e.status(), e.message(schema, t)))),
        };
    let warning = parsed.warning(t);
    let mut parsed = parsed;
    let parsed_rows = if matches!(target, Target::Staff | Target::Residents) {
        std::mem::take(&mut parsed.rows)
    } else {
        Vec::new()
    };
    let scope = u.scope();
    let mut conn = state.db.read().await?;
    let today_s = today(state.now());
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::new();
    let label_of = |key: &str| {
        schema
            .column(key)
            .map(|c| c.label(t.lang))
            .unwrap_or("")
            .to_owned()
    };
    let err = |key: &'static str, code: &str, raw: &str, extra: &str| CellMessage {
        column: label_of(key),
        raw: raw.to_owned(),
        message: t.fmt(code, &[("candidates", extra), ("row", extra)]),
    };
    match target {
        Target::Staff | Target::Residents => {}
        Target::Stations => {
            let townships = RegionIndex::load(&mut conn, &scope, RegionLevel::Township).await?;
            let counties = RegionIndex::load(&mut conn, &scope, RegionLevel::County).await?;
            let villages = RegionIndex::load(&mut conn, &scope, RegionLevel::Village).await?;
            let operators = OrgIndex::load(
                &mut conn,
                &Scope {
                    region: scope.region.clone(),
                    org: scope.org,
                },
            )
            .await?;
            for row in parsed.rows {
                let v = &row.values;
                let mut errors: Vec<CellMessage> = row
                    .errors
                    .iter()
                    .map(|e| CellMessage {
                        column: label_of(e.column),
                        raw: e.raw.clone(),
                        message: e.message(schema, t),
                    })
                    .collect();
                let tier = code(v, "tier")
                    .and_then(|c| Tier::parse(c).ok())
                    .unwrap_or(Tier::TownshipStation);
                let (index, level) = match tier {
                    Tier::CountyCenter => (&counties, RegionLevel::County),
                    Tier::TownshipStation => (&townships, RegionLevel::Township),
                    Tier::VillageRoom => (&villages, RegionLevel::Village),
                };
                let place = text(v, "township");
                let region = if place.is_empty() {
                    None
                } else {
                    match index.resolve(&place, level) {
                        Ok(c) => Some(c),
                        Err((code, extra)) => {
                            errors.push(err("township", code, &place, &extra));
                            None
                        }
                    }
                };
                let name = text(v, "name");
                let operator_text = text(v, "operator");
                let operator = if operator_text.is_empty() {
                    None
                } else {
                    match operators.resolve(&operator_text) {
                        Ok(id) => Some(id),
                        Err(code) => {
                            errors.push(err("operator", code, &operator_text, ""));
                            None
                        }
                    }
                };
                let mut planned = None;
                let mut action = Action::Invalid;
                if let (Some(region), true) = (&region, errors.is_empty()) {
                    let key = format!("{region}/{}", name.trim());
                    if let Some(first) = seen.get(&key) {
                        errors.push(err(
                            "name",
                            "import.duplicate_in_file",
                            &name,
                            &first.to_string(),
                        ));
                    } else {
                        seen.insert(key, row.number);
                        let mut f = vec![
                            ("tier".to_owned(), tier.as_str().to_owned()),
                            ("region".to_owned(), region.clone()),
                            ("name".to_owned(), name.clone()),
                            (
                                "status".to_owned(),
                                code(v, "status").unwrap_or("").to_owned(),
                            ),
                            (
                                "status_since".to_owned(),
                                match v.get("status_since") {
                                    Some(Value::Date(d)) => d.format("%Y-%m-%d").to_string(),
                                    _ => today_s.clone(),
                                },
                            ),
                            ("mode".to_owned(), code(v, "mode").unwrap_or("").to_owned()),
                            ("operator".to_owned(), operator.clone().unwrap_or_default()),
                            ("address".to_owned(), text(v, "address")),
                            ("host_premises".to_owned(), text(v, "host_premises")),
                            ("area_m2".to_owned(), int(v, "area_m2").to_string()),
                            ("staff_count".to_owned(), int(v, "staff_count").to_string()),
                            (
                                "certified_count".to_owned(),
                                int(v, "certified_count").to_string(),
                            ),
                            ("phone".to_owned(), text(v, "phone")),
                            ("lng".to_owned(), decimal(v, "lng").unwrap_or_default()),
                            ("lat".to_owned(), decimal(v, "lat").unwrap_or_default()),
                        ];
                        let existing =
                            stations::find_by_key(&mut conn, &scope, region, &name).await?;
                        if let Some(e) = &existing {
                            // Keep what the sheet does not say.
                            for (k, val) in f.iter_mut() {
                                if val.is_empty() || (val == "0" && !v.contains_key(k.as_str())) {
                                    *val = match k.as_str() {
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
                                        _ => val.clone(),
                                    };
                                }
                            }
                            if !v.contains_key("status_since")
                                && let Some(p) = f.iter_mut().find(|(k, _)| k == "status_since")
                            {
                                p.1 = if code(v, "status") == Some(e.status.as_str()) {
                                    e.status_since.clone()
                                } else {
                                    today_s.clone()
                                };
                            }
                            for r in e.rooms.split(',').filter(|r| !r.is_empty()) {
                                f.push(("rooms".to_owned(), r.to_owned()));
                            }
                            f.push(("open_hours".to_owned(), e.open_hours.clone()));
                        }
                        match crate::network::stations::parse(&FormData::new(f)) {
                            Err(field_errors) => {
                                for fe in field_errors {
                                    errors.push(CellMessage {
                                        column: t.get(&format!("field.{}", fe.field)).to_owned(),
                                        raw: String::new(),
                                        message: t.get(fe.code).to_owned(),
                                    });
                                }
                            }
                            Ok(input) => {
                                let funding = match v.get("funding") {
                                    Some(Value::Fen(f)) => Some(*f),
                                    _ => None,
                                };
                                action = match &existing {
                                    None => Action::Create,
                                    Some(e) => {
                                        let same = e.tier == input.tier.as_str()
                                            && e.status == input.status.as_str()
                                            && e.mode == input.mode.as_str()
                                            && e.operator_org_id == input.operator_org_id
                                            && e.status_since == input.status_since
                                            && e.address == input.address
                                            && e.host_premises == input.host_premises
                                            && e.area_m2 == input.area_m2
                                            && e.staff_count == input.staff_count
                                            && e.certified_count == input.certified_count
                                            && e.phone == input.phone
                                            && e.lng_e6 == input.lng_e6
                                            && e.lat_e6 == input.lat_e6;
                                        let funding_same = match funding {
                                            None => true,
                                            Some(fen) => {
                                                stations::funding(&mut conn, &scope, &e.id)
                                                    .await?
                                                    .iter()
                                                    .any(|x| {
                                                        x.year.to_string() == today_s[..4]
                                                            && x.amount_fen == fen
                                                    })
                                            }
                                        };
                                        if same && funding_same {
                                            Action::Unchanged
                                        } else {
                                            Action::Update
                                        }
                                    }
                                };
                                if let (Some(e), Action::Update) = (&existing, action) {
                                    let status = Status::parse(&e.status).expect("stored status");
                                    let shown_key = format!("station.status.{}", e.status);
                                    let shown = t.get(&shown_key);
                                    if status != input.status && !status.can_become(input.status) {
                                        errors.push(err(
                                            "status",
                                            "station.status_transition",
                                            shown,
                                            "",
                                        ));
                                        action = Action::Invalid;
                                    } else if status.reports_progress()
                                        && input.status == Status::Operating
                                    {
                                        // Completion is confirmed on the station's page, not by a sheet.
                                        errors.push(err(
                                            "status",
                                            "station.confirm_required",
                                            shown,
                                            "",
                                        ));
                                        action = Action::Invalid;
                                    }
                                }
                                if action != Action::Invalid {
                                    planned = Some(Planned::Station {
                                        existing: existing.map(|e| e.id),
                                        input,
                                        funding,
                                    });
                                }
                            }
                        }
                    }
                }
                if !errors.is_empty() {
                    action = Action::Invalid;
                    planned = None;
                }
                let label = format!("{} {}", place, name);
                out.push((
                    PreviewRow {
                        number: row.number,
                        label,
                        action,
                        errors,
                    },
                    planned,
                ));
            }
        }
        Target::Orgs => {
            let mut indexes = Vec::new();
            for level in [
                RegionLevel::County,
                RegionLevel::City,
                RegionLevel::Province,
                RegionLevel::Township,
            ] {
                indexes.push((level, RegionIndex::load(&mut conn, &scope, level).await?));
            }
            for row in parsed.rows {
                let v = &row.values;
                let mut errors: Vec<CellMessage> = row
                    .errors
                    .iter()
                    .map(|e| CellMessage {
                        column: label_of(e.column),
                        raw: e.raw.clone(),
                        message: e.message(schema, t),
                    })
                    .collect();
                let place = text(v, "region");
                let region = if place.is_empty() {
                    None
                } else {
                    let mut found = Err(("import.region_not_found", place.clone()));
                    for (level, index) in &indexes {
                        match index.resolve(&place, *level) {
                            Ok(c) => {
                                found = Ok(c);
                                break;
                            }
                            Err(e) if e.0 == "import.region_ambiguous" => {
                                found = Err(e);
                                break;
                            }
                            Err(_) => {}
                        }
                    }
                    match found {
                        Ok(c) => Some(c),
                        Err((code, extra)) => {
                            errors.push(err("region", code, &place, &extra));
                            None
                        }
                    }
                };
                let name = text(v, "name");
                let uscc = text(v, "uscc");
                let mut planned = None;
                let mut action = Action::Invalid;
                if let (Some(region), true) = (&region, errors.is_empty()) {
                    let key = if uscc.is_empty() {
                        format!("{region}/{}", name.trim())
                    } else {
                        uscc.to_ascii_uppercase()
                    };
                    if let Some(first) = seen.get(&key) {
                        errors.push(err(
                            "name",
                            "import.duplicate_in_file",
                            &name,
                            &first.to_string(),
                        ));
                    } else {
                        seen.insert(key, row.number);
                        let f = FormData::new(vec![
                            ("name".into(), name.clone()),
                            ("uscc".into(), uscc.clone()),
                            ("kind".into(), code(v, "kind").unwrap_or("").to_owned()),
                            ("region".into(), region.clone()),
                            ("legal_rep".into(), text(v, "legal_rep")),
                            ("contact_name".into(), text(v, "contact_name")),
                            ("contact_phone".into(), text(v, "contact_phone")),
                            ("address".into(), text(v, "address")),
                            ("rating".into(), code(v, "rating").unwrap_or("").to_owned()),
                        ]);
                        match crate::network::orgs::parse(&f) {
                            Err(field_errors) => {
                                for fe in field_errors {
                                    errors.push(CellMessage {
                                        column: t.get(&format!("field.{}", fe.field)).to_owned(),
                                        raw: String::new(),
                                        message: t.get(fe.code).to_owned(),
                                    });
                                }
                            }
                            Ok(input) => {
                                let normalized_uscc = input.uscc.as_deref().map(|u| {
                                    shegong_domain::network::org::check_uscc(u)
                                        .map(|c| match c {
                                            shegong_domain::network::org::UsccCheck::Valid(s)
                                            | shegong_domain::network::org::UsccCheck::CheckMismatch(s) => s,
                                        })
                                        .unwrap_or_default()
                                });
                                let existing = orgs::find_by_key(
                                    &mut conn,
                                    &scope,
                                    normalized_uscc.as_deref(),
                                    region,
                                    &name,
                                )
                                .await?;
                                let mut input = input;
                                match &existing {
                                    // Registered (and maintained) elsewhere: visible here only
                                    // because it operates a station in scope.
                                    Some(e) if !scope.contains_region(&e.region_code) => errors
                                        .push(err("name", "org.registered_elsewhere", &name, "")),
                                    Some(e) => {
                                        // Keep what the sheet does not say.
                                        for (cell, kept) in [
                                            (&mut input.legal_rep, &e.legal_rep),
                                            (&mut input.contact_name, &e.contact_name),
                                            (&mut input.contact_phone, &e.contact_phone),
                                            (&mut input.address, &e.address),
                                        ] {
                                            if cell.trim().is_empty() {
                                                cell.clone_from(kept);
                                            }
                                        }
                                        if code(v, "rating").is_none() {
                                            input.rating =
                                                Rating::parse(&e.rating).unwrap_or(input.rating);
                                        }
                                        input.active = e.status == "active";
                                    }
                                    None => match orgs::check_new(
                                        &mut conn,
                                        normalized_uscc.as_deref(),
                                        region,
                                        &name,
                                    )
                                    .await
                                    {
                                        Err(shegong_store::StoreError::Invalid(fe)) => {
                                            errors.push(CellMessage {
                                                column: label_of(fe.field),
                                                raw: String::new(),
                                                message: t.get(fe.code).to_owned(),
                                            })
                                        }
                                        r => r?,
                                    },
                                }
                                action = match &existing {
                                    None => Action::Create,
                                    Some(e) => {
                                        let same = e.name == input.name.trim()
                                            && e.kind == input.kind.as_str()
                                            && e.region_code == input.region.as_str()
                                            && e.legal_rep == input.legal_rep.trim()
                                            && e.contact_name == input.contact_name.trim()
                                            && e.contact_phone == input.contact_phone.trim()
                                            && e.address == input.address.trim()
                                            && e.rating == input.rating.as_str()
                                            && e.uscc == normalized_uscc;
                                        if same {
                                            Action::Unchanged
                                        } else {
                                            Action::Update
                                        }
                                    }
                                };
                                planned = Some(Planned::Org {
                                    existing: existing.map(|e| e.id),
                                    input,
                                });
                            }
                        }
                    }
                }
                if !errors.is_empty() {
                    action = Action::Invalid;
                    planned = None;
                }
                out.push((
                    PreviewRow {
                        number: row.number,
                        label: name,
                        action,
                        errors,
                    },
                    planned,
                ));
            }
        }
    }
    match target {
        Target::Staff => out = plan_staff(state, u, t, &mut conn, parsed_rows).await?,
        Target::Residents => out = plan_residents(state, u, t, &mut conn, parsed_rows).await?,
        Target::Stations | Target::Orgs => {}
    }
    Ok(Ok(Plan { rows: out, warning }))
}

/// Staff rows: identity numbers validated and matched by their keyed hash (inside the file, and
/// against existing records: a person already registered in scope is updated, one registered
/// elsewhere is an error). Numbers never appear in the preview: they are masked.
async fn plan_staff(
    state: &AppState,
    u: &CurrentUser,
    t: &Tr,
    conn: &mut Conn,
    rows: Vec<sheet::Row>,
) -> WebResult<Vec<(PreviewRow, Option<Planned>)>> {
    let schema = &STAFF;
    let scope = u.scope();
    let label_of = |key: &str| {
        schema
            .column(key)
            .map(|c| c.label(t.lang))
            .unwrap_or("")
            .to_owned()
    };
    let townships = RegionIndex::load(conn, &scope, RegionLevel::Township).await?;
    let employers = OrgIndex::load(conn, &scope).await?;
    let mut station_names: HashMap<String, Vec<String>> = HashMap::new();
    for st in stations::list(
        conn,
        &scope,
        &stations::Filter::default(),
        shegong_store::PageRequest {
            page: 1,
            per_page: 100_000,
        },
    )
    .await?
    .items
    {
        station_names
            .entry(sheet::normalize(&st.name))
            .or_default()
            .push(st.id);
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::new();
    for row in rows {
        let v = &row.values;
        let mut errors: Vec<CellMessage> = row
            .errors
            .iter()
            .map(|e| {
                // Identity values are masked even in error messages.
                let raw = if matches!(e.column, "id_number" | "mobile") {
                    shegong_domain::people::identity::mask(&e.raw)
                } else {
                    e.raw.clone()
                };
                CellMessage {
                    column: label_of(e.column),
                    raw,
                    message: e.message(schema, t),
                }
            })
            .collect();
        let say = |key: &'static str, code: &str, raw: &str, extra: &str| CellMessage {
            column: label_of(key),
            raw: raw.to_owned(),
            message: t.fmt(code, &[("row", extra), ("candidates", extra)]),
        };
        let id_type = code(v, "id_type").unwrap_or("resident_id");
        let raw_id = text(v, "id_number");
        let mut f = vec![
            ("name".to_owned(), text(v, "name")),
            ("id_type".to_owned(), id_type.to_owned()),
            ("id_number".to_owned(), raw_id.clone()),
            ("mobile".to_owned(), text(v, "mobile")),
            ("sex".to_owned(), code(v, "sex").unwrap_or("").to_owned()),
            (
                "education".to_owned(),
                code(v, "education").unwrap_or("").to_owned(),
            ),
            ("major".to_owned(), text(v, "major")),
            ("role".to_owned(), code(v, "role").unwrap_or("").to_owned()),
            (
                "employment_mode".to_owned(),
                code(v, "employment_mode").unwrap_or("").to_owned(),
            ),
            (
                "joined_on".to_owned(),
                match v.get("joined_on") {
                    Some(Value::Date(d)) => d.to_string(),
                    _ => String::new(),
                },
            ),
        ];
        let station_text = text(v, "station");
        if !station_text.is_empty() {
            match station_names
                .get(&sheet::normalize(&station_text))
                .map(Vec::as_slice)
            {
                Some([one]) => f.push(("station".into(), one.clone())),
                Some([_, ..]) => errors.push(say(
                    "station",
                    "import.station_ambiguous",
                    &station_text,
                    "",
                )),
                _ => errors.push(say(
                    "station",
                    "import.station_not_found",
                    &station_text,
                    "",
                )),
            }
        } else {
            let place = text(v, "township");
            match townships.resolve(&place, RegionLevel::Township) {
                Ok(c) => f.push(("region".into(), c)),
                Err(_) if place.is_empty() => {
                    errors.push(say("station", "staff.station_or_region", "", ""))
                }
                Err((code, extra)) => errors.push(say("township", code, &place, &extra)),
            }
        }
        let employer_text = text(v, "employer");
        if !employer_text.is_empty() {
            match employers.resolve(&employer_text) {
                Ok(id) => f.push(("employer".into(), id)),
                Err(code) => errors.push(say("employer", code, &employer_text, "")),
            }
        } else if let Some(org) = u.user.org_id.clone() {
            f.push(("employer".into(), org));
        }
        let mut planned = None;
        let mut action = Action::Invalid;
        let mut label = format!(
            "{} {}",
            text(v, "name"),
            shegong_domain::people::identity::mask(&raw_id)
        );
        if errors.is_empty() {
            match crate::workforce::staff::parse(
                &FormData::new(f),
                None,
                &crate::ui::forms::today(state.now()),
            ) {
                Err(field_errors) => {
                    for fe in field_errors {
                        errors.push(CellMessage {
                            column: t.get(&format!("field.{}", fe.field)).to_owned(),
                            raw: String::new(),
                            message: t.get(fe.code).to_owned(),
                        });
                    }
                }
                Ok(mut input) => {
                    label = format!(
                        "{} {}",
                        input.name,
                        shegong_domain::people::identity::mask(&input.id_number)
                    );
                    let hash = state.keys.lookup_hash(staff::ID_FIELD, &input.id_number);
                    if let Some(first) = seen.get(&hash) {
                        errors.push(say(
                            "id_number",
                            "import.duplicate_id_in_file",
                            "",
                            &first.to_string(),
                        ));
                    } else {
                        seen.insert(hash.clone(), row.number);
                        let existing =
                            staff::find_by_id_number(conn, &scope, &state.keys, &input.id_number)
                                .await?;
                        if let Some(e) = &existing {
                            // Keep what the sheet does not say; the sector and leaving are
                            // recorded on the person's page.
                            if input.education.is_empty() {
                                input.education.clone_from(&e.education);
                            }
                            if input.major.is_empty() {
                                input.major.clone_from(&e.major);
                            }
                            if input.sex.is_none() {
                                input.sex.clone_from(&e.sex);
                            }
                            input.sector.clone_from(&e.sector);
                            input.left_on.clone_from(&e.left_on);
                            input.left_reason.clone_from(&e.left_reason);
                        }
                        if existing.is_none() && staff::id_hash_exists(conn, &hash, None).await? {
                            errors.push(say("id_number", "staff.id_taken", "", ""));
                        } else {
                            let cert = match (code(v, "cert_level"), v.get("cert_obtained")) {
                                (Some(level), Some(Value::Date(d))) => {
                                    Some((level, text(v, "cert_number"), d.to_string()))
                                }
                                (Some(_), _) => {
                                    errors.push(say("cert_obtained", "import.required", "", ""));
                                    None
                                }
                                _ => None,
                            };
                            action = match &existing {
                                None => Action::Create,
                                Some(e) => {
                                    let mobile_same = match &input.mobile {
                                        None => true,
                                        Some(m) => {
                                            e.mobile_sealed.as_deref().and_then(|sealed| {
                                                state.keys.open(staff::MOBILE_FIELD, sealed).ok()
                                            }) == Some(m.clone())
                                        }
                                    };
                                    let same = e.name == input.name.trim()
                                        && mobile_same
                                        && e.education == input.education
                                        && e.major == input.major
                                        && e.sex == input.sex
                                        && e.role == input.role
                                        && e.employment_mode == input.employment_mode
                                        && e.station_id == input.station_id
                                        && e.joined_on == input.joined_on
                                        && e.employer_org_id
                                            == input
                                                .employer_org_id
                                                .clone()
                                                .or(e.employer_org_id.clone())
                                        && (input.station_id.is_some()
                                            || input.region.as_ref().map(|r| r.as_str())
                                                == Some(e.region_code.as_str()));
                                    let has_cert = match &cert {
                                        None => true,
                                        Some((level, _, _)) => {
                                            staff::certificates(conn, &scope, &e.id)
                                                .await?
                                                .iter()
                                                .any(|c| c.level == *level)
                                        }
                                    };
                                    if same && has_cert {
                                        Action::Unchanged
                                    } else {
                                        Action::Update
                                    }
                                }
                            };
                            if errors.is_empty() {
                                planned = Some(Planned::Staff {
                                    existing: existing.map(|e| e.id),
                                    input: Box::new(input),
                                    cert,
                                });
                            }
                        }
                    }
                }
            }
        }
        if !errors.is_empty() {
            action = Action::Invalid;
            planned = None;
        }
        out.push((
            PreviewRow {
                number: row.number,
                label,
                action,
                errors,
            },
            planned,
        ));
    }
    Ok(out)
}

/// Rows of a resident sheet that will be registered, found again by what makes two names alike
/// (the same pinyin key, or the same first character and length) together with the same birth
/// date or home region: the rule of `residents::likely_duplicates`, without comparing every
/// pair of rows.
#[derive(Default)]
struct SheetPeople {
    buckets: HashMap<String, Vec<(usize, String)>>,
}

impl SheetPeople {
    fn buckets(input: &ResidentInput) -> [(String, &'static str); 4] {
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
            (format!("b/{birth}/k/{key}"), "same_birth_date"),
            (format!("b/{birth}/s/{shape}"), "same_birth_date"),
            (format!("r/{region}/k/{key}"), "same_region"),
            (format!("r/{region}/s/{shape}"), "same_region"),
        ]
    }

    /// An earlier row that is probably the same person: (row number, reason).
    fn find(&self, input: &ResidentInput) -> Option<(usize, &'static str)> {
        Self::buckets(input)
            .into_iter()
            .find_map(|(bucket, reason)| {
                self.buckets
                    .get(&bucket)?
                    .iter()
                    .find(|(_, name)| people::names_alike(name, &input.name))
                    .map(|(number, _)| (*number, reason))
            })
    }

    fn insert(&mut self, number: usize, input: &ResidentInput) {
        for (bucket, _) in Self::buckets(input) {
            self.buckets
                .entry(bucket)
                .or_default()
                .push((number, input.name.clone()));
        }
    }
}

/// Resident rows (a 低保 roll from another department, say): identity numbers validated and
/// matched by their keyed hash, inside the file and against every record (a number already on
/// file is never imported again); likely duplicates by name with the same birth date or home
/// region, against the register and the earlier rows of the sheet, are skipped for registering
/// by hand, where the candidates can be looked at. Numbers and phones are masked in the preview.
async fn plan_residents(
    state: &AppState,
    u: &CurrentUser,
    t: &Tr,
    conn: &mut Conn,
    rows: Vec<sheet::Row>,
) -> WebResult<Vec<(PreviewRow, Option<Planned>)>> {
    let schema = &RESIDENTS;
    let scope = u.scope();
    let viewer = crate::people::residents::viewer(state, u);
    let today_s = today(state.now());
    let label_of = |key: &str| {
        schema
            .column(key)
            .map(|c| c.label(t.lang))
            .unwrap_or("")
            .to_owned()
    };
    let townships = RegionIndex::load(conn, &scope, RegionLevel::Township).await?;
    let villages = RegionIndex::load(conn, &scope, RegionLevel::Village).await?;
    let categories = residents::categories(conn, &scope).await?;
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut sheet = SheetPeople::default();
    let mut out = Vec::new();
    for row in rows {
        let v = &row.values;
        let mut errors: Vec<CellMessage> = row
            .errors
            .iter()
            .map(|e| {
                // Identity and contact values are masked even in error messages.
                let raw = match e.column {
                    "id_number" | "phone" => shegong_domain::people::identity::mask(&e.raw),
                    "address" => String::new(),
                    _ => e.raw.clone(),
                };
                CellMessage {
                    column: label_of(e.column),
                    raw,
                    message: e.message(schema, t),
                }
            })
            .collect();
        let say = |key: &'static str, code: &str, raw: &str, extra: &str| CellMessage {
            column: label_of(key),
            raw: raw.to_owned(),
            message: t.fmt(code, &[("row", extra), ("candidates", extra)]),
        };
        let place = text(v, "region");
        let region = if place.is_empty() {
            None
        } else {
            // A code names its level; a name is looked for among villages, then townships.
            let found = if place.bytes().all(|b| b.is_ascii_digit()) {
                if place.len() == 12 {
                    villages.resolve(&place, RegionLevel::Village)
                } else {
                    townships.resolve(&place, RegionLevel::Township)
                }
            } else {
                match villages.resolve(&place, RegionLevel::Village) {
                    Err(("import.region_not_found", _)) => {
                        townships.resolve(&place, RegionLevel::Township)
                    }
                    r => r,
                }
            };
            match found {
                Ok(c) => Some(c),
                Err((code, extra)) => {
                    errors.push(say("region", code, &place, &extra));
                    None
                }
            }
        };
        let category_text = text(v, "category");
        let category = if category_text.is_empty() {
            None
        } else {
            match find_category(&categories, &category_text, region.as_deref()) {
                Some(c) if matches!(c.code.as_str(), "disabled" | "severely_disabled") => {
                    errors.push(say(
                        "category",
                        "import.resident.disability_by_hand",
                        &category_text,
                        "",
                    ));
                    None
                }
                Some(c) => Some(c.code.clone()),
                None => {
                    errors.push(say(
                        "category",
                        "import.resident.category_not_found",
                        &category_text,
                        "",
                    ));
                    None
                }
            }
        };
        let raw_id = text(v, "id_number");
        let date = |key: &str| match v.get(key) {
            Some(Value::Date(d)) => d.to_string(),
            _ => String::new(),
        };
        let f = vec![
            ("name".to_owned(), text(v, "name")),
            ("id_number".to_owned(), raw_id.clone()),
            ("sex".to_owned(), code(v, "sex").unwrap_or("").to_owned()),
            ("birth_date".to_owned(), date("birth_date")),
            ("ethnicity".to_owned(), text(v, "ethnicity")),
            ("region".to_owned(), region.clone().unwrap_or_default()),
            ("address".to_owned(), text(v, "address")),
            ("phone".to_owned(), text(v, "phone")),
            (
                "risk_tier".to_owned(),
                code(v, "risk_tier").unwrap_or("general").to_owned(),
            ),
            (
                "legal_basis".to_owned(),
                code(v, "legal_basis")
                    .unwrap_or("statutory_duty")
                    .to_owned(),
            ),
        ];
        let mut planned = None;
        let mut action = Action::Invalid;
        let mut label = format!(
            "{} {}",
            text(v, "name"),
            shegong_domain::people::identity::mask(&raw_id)
        );
        if errors.is_empty() {
            match crate::people::residents::parse(&FormData::new(f), &today_s) {
                Err(field_errors) => {
                    for fe in field_errors {
                        let (column, message) = match (fe.field, fe.code) {
                            ("birth_date", "form.required") => {
                                ("birth_date", "import.resident.birth_date_required")
                            }
                            ("consent_on", _) => ("legal_basis", "import.resident.consent_by_hand"),
                            ("id_type", code) => ("id_number", code),
                            (field, code) => (field, code),
                        };
                        errors.push(CellMessage {
                            column: label_of(column),
                            raw: String::new(),
                            message: t.get(message).to_owned(),
                        });
                    }
                }
                Ok(input) => {
                    label = match &input.id_number {
                        Some(n) => format!(
                            "{} {}",
                            input.name,
                            shegong_domain::people::identity::mask(n)
                        ),
                        None => format!("{} {}", input.name, input.birth_date),
                    };
                    if let Some(n) = &input.id_number {
                        let hash = state.keys.lookup_hash(residents::ID_FIELD, n);
                        if let Some(first) = seen.get(&hash) {
                            errors.push(say(
                                "id_number",
                                "import.duplicate_id_in_file",
                                "",
                                &first.to_string(),
                            ));
                        } else {
                            seen.insert(hash.clone(), row.number);
                            // Any record with this number, whatever its scope or status: the
                            // register refuses it too.
                            if residents::id_on_file(conn, &state.keys, n).await? {
                                errors.push(say("id_number", "import.resident.id_on_file", "", ""));
                            }
                        }
                    }
                    if errors.is_empty() {
                        let found =
                            residents::likely_duplicates(conn, &viewer, &state.keys, &input, None)
                                .await?;
                        let candidates: Vec<String> = found
                            .iter()
                            .filter(|c| c.reason != "same_id")
                            .take(3)
                            .map(|c| {
                                // A file the importer cannot open is not described: only
                                // that it exists, and whom to ask (issue 11 item 6).
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
                            })
                            .collect();
                        if !candidates.is_empty() {
                            let candidates = candidates.join(t.get("import.separator"));
                            errors.push(say(
                                "name",
                                "import.resident.likely_duplicate",
                                "",
                                &candidates,
                            ));
                        } else if let Some((first, reason)) = sheet.find(&input) {
                            let reason_key = format!("resident.dup.{reason}");
                            let reason = t.get(&reason_key);
                            errors.push(CellMessage {
                                column: label_of("name"),
                                raw: String::new(),
                                message: t.fmt(
                                    "import.resident.likely_duplicate_in_file",
                                    &[("row", &first.to_string()), ("reason", reason)],
                                ),
                            });
                        }
                    }
                    if errors.is_empty() {
                        sheet.insert(row.number, &input);
                        let membership = category.map(|category| MembershipInput {
                            category,
                            disability_category: None,
                            disability_grade: None,
                            source: text(v, "source"),
                            evidence: String::new(),
                            valid_from: match date("valid_from") {
                                d if d.is_empty() => today_s.clone(),
                                d => d,
                            },
                            valid_to: None,
                            verified_by: String::new(),
                        });
                        action = Action::Create;
                        planned = Some(Planned::Resident {
                            input: Box::new(input),
                            membership,
                        });
                    }
                }
            }
        }
        if !errors.is_empty() {
            action = Action::Invalid;
            planned = None;
        }
        out.push((
            PreviewRow {
                number: row.number,
                label,
                action,
                errors,
            },
            planned,
        ));
    }
    Ok(out)
}

/// A category of the catalogue by its Chinese or English name or its code, as rolls write it
/// ("低保户", "农村低保", "特困人员" too), if it applies in `region` (local ones only there).
fn find_category<'a>(
    categories: &'a [residents::Category],
    text: &str,
    region: Option<&str>,
) -> Option<&'a residents::Category> {
    let wanted = sheet::normalize(text).to_lowercase();
    let mut plain = wanted.as_str();
    for prefix in ["城乡", "城市", "农村"] {
        plain = plain.strip_prefix(prefix).unwrap_or(plain);
    }
    for suffix in ["户", "对象", "人员"] {
        plain = plain.strip_suffix(suffix).unwrap_or(plain);
    }
    let is = |c: &residents::Category, s: &str| {
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

// ---------------------------------------------------------------------------------------------
// Pages

fn importer(ctx: &Ctx) -> WebResult<&CurrentUser> {
    let u = ctx.user()?;
    u.require(Permission::WriteData)?;
    Ok(u)
}

#[derive(Template)]
#[template(path = "import/import.html")]
struct ImportPage {
    t: Tr,
    base: Base,
    list_path: &'static str,
    batch: Option<String>,
    filename: String,
    rows: Vec<PreviewRow>,
    counts: [usize; 4],
    warning: Option<String>,
    error: Option<String>,
}

impl ImportPage {
    fn action_label(&self, a: &Action) -> &str {
        self.t.get(match a {
            Action::Create => "import.action.create",
            Action::Update => "import.action.update",
            Action::Unchanged => "import.action.unchanged",
            Action::Invalid => "import.action.invalid",
        })
    }

    fn invalid_count(&self) -> usize {
        self.counts[3]
    }

    /// Valid rows, unchanged ones included: committing a sheet that only confirms what is stored
    /// is allowed by either button.
    fn committable(&self) -> usize {
        self.counts[0] + self.counts[1] + self.counts[2]
    }

    fn action_class(&self, a: &Action) -> &'static str {
        match a {
            Action::Create => "tag-ok",
            Action::Update => "tag-warn",
            Action::Unchanged => "tag-muted",
            Action::Invalid => "tag-bad",
        }
    }
}

#[allow(clippy::too_many_arguments)] // one page, its parts
fn render(
    ctx: &Ctx,
    target: Target,
    batch: Option<String>,
    filename: String,
    plan: Option<Plan>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let t = ctx.tr();
    let (rows, warning) = match plan {
        Some(p) => (
            p.rows.into_iter().map(|(r, _)| r).collect::<Vec<_>>(),
            p.warning,
        ),
        None => (vec![], None),
    };
    let mut counts = [0usize; 4];
    for r in &rows {
        counts[r.action as usize] += 1;
    }
    let title = t.get("import.title");
    page(
        status,
        &ImportPage {
            t,
            base: Base::new(
                ctx,
                title,
                vec![
                    Crumb::link(t.get(target.title_key()), target.list_path()),
                    Crumb::here(title),
                ],
            ),
            list_path: target.list_path(),
            batch,
            filename,
            rows,
            counts,
            warning,
            error,
        },
    )
}

pub async fn form(ctx: Ctx, target: Target) -> WebResult<Response> {
    importer(&ctx)?;
    Ok(render(
        &ctx,
        target,
        None,
        String::new(),
        None,
        None,
        StatusCode::OK,
    ))
}

pub async fn template(state: AppState, ctx: Ctx, target: Target) -> WebResult<Response> {
    let u = importer(&ctx)?;
    let t = ctx.tr();
    let scope = u.scope();
    let mut conn = state.db.read().await?;
    let extra: Vec<(&str, Vec<String>)> = match target {
        Target::Stations => {
            let towns = RegionIndex::load(&mut conn, &scope, RegionLevel::Township).await?;
            // Show names as the office writes them; county-qualified when names repeat.
            let mut counts: HashMap<&str, usize> = HashMap::new();
            for (_, n, _) in &towns.rows {
                *counts.entry(n.as_str()).or_default() += 1;
            }
            let names = towns
                .rows
                .iter()
                .map(|(_, n, p)| {
                    if counts[n.as_str()] > 1 {
                        p.split('/')
                            .rev()
                            .nth(1)
                            .map(|c| format!("{c}{n}"))
                            .unwrap_or_else(|| n.clone())
                    } else {
                        n.clone()
                    }
                })
                .collect();
            let orgs = orgs::list(&mut conn, &scope)
                .await?
                .into_iter()
                .map(|o| o.name)
                .collect();
            vec![("township", names), ("operator", orgs)]
        }
        Target::Orgs => vec![],
        Target::Staff => {
            let stations = stations::list(
                &mut conn,
                &scope,
                &stations::Filter::default(),
                shegong_store::PageRequest {
                    page: 1,
                    per_page: 100_000,
                },
            )
            .await?
            .items
            .into_iter()
            .map(|s| s.name)
            .collect();
            vec![("station", stations)]
        }
        Target::Residents => {
            let categories = residents::categories(&mut conn, &scope)
                .await?
                .into_iter()
                .map(|c| match t.lang {
                    crate::ui::i18n::Lang::En if !c.name_en.is_empty() => c.name_en,
                    _ => c.name_zh,
                })
                .collect();
            vec![("category", categories)]
        }
    };
    drop(conn);
    let bytes = sheet::template(target.schema(), t.lang == crate::ui::i18n::Lang::Zh, &extra)
        .map_err(WebError::Internal)?;
    Ok(crate::ui::excel::download(
        &format!(
            "{}{}.xlsx",
            target.schema().name(t.lang),
            t.get("import.template_suffix")
        ),
        bytes,
    ))
}

async fn read_file(mut form: Multipart) -> WebResult<(String, Vec<u8>)> {
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|_| FieldError::new("file", "attachment.too_large"))?
    {
        if field.name() == Some("file") {
            let name = field.file_name().unwrap_or("import.xlsx").to_owned();
            let bytes = field
                .bytes()
                .await
                .map_err(|_| FieldError::new("file", "attachment.too_large"))?
                .to_vec();
            return Ok((name, bytes));
        }
    }
    Err(FieldError::new("file", "attachment.empty").into())
}

pub async fn upload(
    state: AppState,
    ctx: Ctx,
    target: Target,
    form: Multipart,
) -> WebResult<Response> {
    let u = importer(&ctx)?.clone();
    let t = ctx.tr();
    let (filename, bytes) = match read_file(form).await {
        Ok(f) => f,
        Err(WebError::Invalid(e)) => {
            let status = if e[0].code == "attachment.too_large" {
                StatusCode::PAYLOAD_TOO_LARGE
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            return Ok(render(
                &ctx,
                target,
                None,
                String::new(),
                None,
                Some(t.get(e[0].code).to_owned()),
                status,
            ));
        }
        Err(e) => return Err(e),
    };
    let planned = plan(&state, &u, &t, target, &bytes).await?;
    match planned {
        Err((status, message)) => Ok(render(
            &ctx,
            target,
            None,
            filename,
            None,
            Some(message),
            status,
        )),
        Ok(_) => {
            // Held sealed: a staff sheet carries identity numbers.
            let sealed = state.keys.seal_bytes(STAGING_FIELD, &bytes);
            let mut tx = state.db.begin().await?;
            let batch = staging::stage(
                &mut tx,
                &u.user.id,
                target.kind(),
                &filename,
                &sealed,
                state.now(),
            )
            .await?;
            tx.commit().await?;
            // Post/Redirect/Get: reloading the preview does not upload again.
            Ok(Redirect::to(&format!("{}/import/{batch}", target.list_path())).into_response())
        }
    }
}

const STAGING_FIELD: &str = "import_batches.content";

/// The staged file of this user, opened; `None` when it is gone (already imported or replaced).
async fn staged(
    state: &AppState,
    u: &CurrentUser,
    target: Target,
    batch: &str,
) -> WebResult<Option<(String, Vec<u8>)>> {
    let mut c = state.db.read().await?;
    match staging::staged(&mut c, &u.user.id, target.kind(), batch).await {
        Ok((name, sealed)) => Ok(Some((
            name,
            state
                .keys
                .open_bytes(STAGING_FIELD, &sealed)
                .map_err(|e| WebError::Internal(e.into()))?,
        ))),
        Err(shegong_store::StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The preview of a staged file.
pub async fn preview(
    state: AppState,
    ctx: Ctx,
    target: Target,
    batch: String,
) -> WebResult<Response> {
    let u = importer(&ctx)?.clone();
    let t = ctx.tr();
    let Some((filename, bytes)) = staged(&state, &u, target, &batch).await? else {
        return Ok(render(
            &ctx,
            target,
            None,
            String::new(),
            None,
            Some(t.get("import.already_done").to_owned()),
            StatusCode::GONE,
        ));
    };
    match plan(&state, &u, &t, target, &bytes).await? {
        Ok(p) => Ok(render(
            &ctx,
            target,
            Some(batch),
            filename,
            Some(p),
            None,
            StatusCode::OK,
        )),
        Err((status, message)) => Ok(render(
            &ctx,
            target,
            None,
            filename,
            None,
            Some(message),
            status,
        )),
    }
}

/// Apply the staged file: `valid` commits the valid rows; `all` commits only if every row is valid.
pub async fn commit(
    state: AppState,
    ctx: Ctx,
    target: Target,
    batch: String,
    f: FormData,
) -> WebResult<Response> {
    let u = importer(&ctx)?.clone();
    let t = ctx.tr();
    let all_or_nothing = f.get("mode") == "all";
    let Some((filename, bytes)) = staged(&state, &u, target, &batch).await? else {
        return Ok(render(
            &ctx,
            target,
            None,
            String::new(),
            None,
            Some(t.get("import.already_done").to_owned()),
            StatusCode::GONE,
        ));
    };
    let p = match plan(&state, &u, &t, target, &bytes).await? {
        Ok(p) => p,
        Err((status, message)) => {
            return Ok(render(
                &ctx,
                target,
                None,
                filename,
                None,
                Some(message),
                status,
            ));
        }
    };
    let invalid = p
        .rows
        .iter()
        .filter(|(r, _)| r.action == Action::Invalid)
        .count();
    if all_or_nothing && invalid > 0 {
        let message = t.fmt("import.refused_all", &[("n", &invalid.to_string())]);
        return Ok(render(
            &ctx,
            target,
            Some(batch),
            filename,
            Some(p),
            Some(message),
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    }
    let now = state.now();
    let year: i64 = today(now)[..4].parse().unwrap_or(2024);
    let scope = u.scope();
    let viewer = crate::people::residents::viewer(&state, &u);
    // Resident files name who registered them as people read it (as `residents::register`).
    let by = u.user.display_name.clone();
    let mut tx = state.db.begin().await?;
    let (mut created, mut updated, mut unchanged) = (0usize, 0usize, 0usize);
    for (row, planned) in &p.rows {
        let Some(planned) = planned else { continue };
        let result = match (planned, row.action) {
            (_, Action::Unchanged) => {
                unchanged += 1;
                Ok(())
            }
            (
                Planned::Station {
                    existing,
                    input,
                    funding,
                },
                _,
            ) => {
                let id = match existing {
                    Some(id) => stations::update(
                        &mut tx,
                        &scope,
                        id,
                        input,
                        &u.user.username,
                        &today(now),
                        now,
                    )
                    .await
                    .map(|_| id.clone()),
                    None => stations::create(&mut tx, &scope, input, &u.user.username, now).await,
                };
                match (id, funding) {
                    (Ok(id), Some(fen)) => {
                        let source = if input.mode == Mode::Purchase {
                            FundingSource::Purchase
                        } else {
                            FundingSource::Township
                        };
                        stations::set_funding(&mut tx, &scope, &id, year, source, *fen, now)
                            .await
                            .map(|_| ())
                    }
                    (r, _) => r.map(|_| ()),
                }
            }
            (Planned::Org { existing, input }, _) => match existing {
                Some(id) => orgs::update(&mut tx, &scope, id, input, now)
                    .await
                    .map(|_| ()),
                None => orgs::create_full(&mut tx, &scope, input, now)
                    .await
                    .map(|_| ()),
            },
            (
                Planned::Staff {
                    existing,
                    input,
                    cert,
                },
                _,
            ) => {
                let id = match existing {
                    Some(id) => {
                        let mut input = input.as_ref().clone();
                        let current = staff::get(&mut tx, &scope, id).await?;
                        // Keep what the sheet does not say.
                        input.mobile = input.mobile.or_else(|| {
                            current
                                .mobile_sealed
                                .as_deref()
                                .and_then(|m| state.keys.open(staff::MOBILE_FIELD, m).ok())
                        });
                        input.employer_org_id = input.employer_org_id.or(current.employer_org_id);
                        staff::update(&mut tx, &scope, &state.keys, id, &input, &today(now), now)
                            .await
                            .map(|_| id.clone())
                    }
                    None => staff::create(&mut tx, &scope, &state.keys, input, now).await,
                };
                match (id, cert) {
                    (Ok(id), Some((level, number, obtained))) => {
                        let held = staff::certificates(&mut tx, &scope, &id)
                            .await?
                            .iter()
                            .any(|c| c.level == *level);
                        if held {
                            Ok(())
                        } else {
                            let until = chrono::NaiveDate::parse_from_str(obtained, "%Y-%m-%d")
                                .ok()
                                .map(|d| {
                                    shegong_domain::workforce::registration_until(d).to_string()
                                });
                            let number = if number.is_empty() {
                                "—"
                            } else {
                                number.as_str()
                            };
                            staff::add_certificate(
                                &mut tx,
                                &scope,
                                &id,
                                &staff::NewCertificate {
                                    level,
                                    number,
                                    obtained_on: obtained,
                                    registered_until: until.as_deref(),
                                },
                                now,
                            )
                            .await
                            .map(|_| ())
                        }
                    }
                    (r, _) => r.map(|_| ()),
                }
            }
            (Planned::Resident { input, membership }, _) => {
                let id = residents::create(&mut tx, &viewer, &state.keys, input, &by, now).await;
                match (id, membership) {
                    (Ok(id), Some(m)) => {
                        // The file was registered by this import a moment ago: reading it back
                        // for its category is allowed even when it is protected (a child), which
                        // the importer may not open afterwards. Scope still applies.
                        let registrar = residents::Viewer {
                            sees_protected: true,
                            ..viewer.clone()
                        };
                        residents::add_membership(&mut tx, &registrar, &id, m, &by, now)
                            .await
                            .map(|_| ())
                    }
                    (r, _) => r.map(|_| ()),
                }
            }
        };
        match (result, row.action) {
            (Ok(()), Action::Create) => created += 1,
            (Ok(()), Action::Update) => updated += 1,
            (Ok(()), _) => {}
            // Rows were checked just now; a failure here means the data changed underneath:
            // nothing is written (the transaction is dropped) and the user sees why.
            (Err(shegong_store::StoreError::Invalid(e)), _) => {
                drop(tx);
                let message = t.fmt(
                    "import.row_failed",
                    &[("row", &row.number.to_string()), ("message", t.get(e.code))],
                );
                return Ok(render(
                    &ctx,
                    target,
                    Some(batch),
                    filename,
                    Some(p),
                    Some(message),
                    StatusCode::CONFLICT,
                ));
            }
            (Err(e), _) => return Err(e.into()),
        }
    }
    let sha = hex::encode(Sha256::digest(&bytes));
    audit::record(
        &mut tx,
        state.db.backend(),
        &ctx.actor(),
        Event::new(
            "import",
            match target {
                Target::Stations => "station",
                Target::Orgs => "organization",
                Target::Staff => "staff",
                Target::Residents => "resident",
            },
            Some(batch.clone()),
        )
        .changes(vec![
            Change::new("file", None::<String>, Some(&filename)),
            Change::new("sha256", None::<String>, Some(&sha)),
            Change::new("created", None::<String>, Some(created)),
            Change::new("updated", None::<String>, Some(updated)),
            Change::new("unchanged", None::<String>, Some(unchanged)),
            Change::new("skipped_invalid", None::<String>, Some(invalid)),
        ]),
        now,
    )
    .await?;
    staging::discard(&mut tx, &u.user.id, &batch).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!(
        "{}?created={created}&updated={updated}&unchanged={unchanged}&skipped={invalid}",
        target.list_path()
    ))
    .into_response())
}

/// The import routes of every target under its list path: form and upload, template, preview
/// and commit.
pub fn routes() -> Router<AppState> {
    [
        Target::Stations,
        Target::Orgs,
        Target::Staff,
        Target::Residents,
    ]
    .into_iter()
    .fold(Router::new(), |router, target| {
        let base = target.list_path();
        router
            .route(
                &format!("{base}/import"),
                get(move |ctx: Ctx| form(ctx, target)).post(
                    move |State(state): State<AppState>, ctx: Ctx, upload_form: Multipart| {
                        upload(state, ctx, target, upload_form)
                    },
                ),
            )
            .route(
                &format!("{base}/import/template.xlsx"),
                get(move |State(state): State<AppState>, ctx: Ctx| template(state, ctx, target)),
            )
            .route(
                &format!("{base}/import/{{batch}}"),
                get(
                    move |State(state): State<AppState>, ctx: Ctx, Path(batch): Path<String>| {
                        preview(state, ctx, target, batch)
                    },
                )
                .post(
                    move |State(state): State<AppState>,
                          ctx: Ctx,
                          Path(batch): Path<String>,
                          axum::Form(f): axum::Form<FormData>| {
                        commit(state, ctx, target, batch, f)
                    },
                ),
            )
    })
}
