//! The contracts sheet: one row per contract line, the rows of one contract number making one
//! contract. The contract's own columns (title, parties, amount, term, method, stations,
//! catalogue item, payment plan) may be repeated on every row or given once and left blank (or
//! merged) below; a row that gives a different value is an error on its cell. Everything a
//! contract needs is checked before anything is written, and its rows are valid together or
//! not at all: the first row writes the whole contract (`contracts::create`, one transaction
//! with the import), the others are its lines. A contract number already filed in the
//! purchaser's region is not imported again.
//!
//! The payment plan is written as shares ("40/40/20", "40%,40%,20%"); the instalments get their
//! triggers by a fixed rule (see [`triggers`]), said in the template's notes.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::Days;
use shegong_domain::RegionCode;
use shegong_domain::money::Fen;
use shegong_domain::people::ServiceKind;
use shegong_domain::purchase::contract::{
    ContractLine, LineTier, ProcurementMethod, QualifyingRule, Term,
};
use shegong_domain::purchase::evaluation::EvaluationKind;
use shegong_domain::purchase::instalment::{PaymentPlan, PlannedInstalment, Portion, Trigger};
use shegong_store::network::stations::{self, Station};
use shegong_store::purchase::catalogue;
use shegong_store::purchase::contracts::{self, ContractInput};
use shegong_store::{Conn, PageRequest, StoreResult};

use super::{percent_list, purchaser_regions, resolve_region};
use crate::http::error::WebResult;
use crate::import::engine::{
    Action, BoxFuture, CellMessage, Cells, Change, Importer, Job, Planned,
};
use crate::import::resolve::{OrgIndex, RegionIndex};
use crate::import::schema::{Kind, Row, Schema, Value, col};
use crate::import::sheet::normalize;
use crate::import::template::Guide;

const METHODS: &[(&str, &[&str])] = &[
    ("public_tender", &["公开招标", "招标", "公开招标采购"]),
    ("competitive_consultation", &["竞争性磋商", "磋商"]),
    ("competitive_negotiation", &["竞争性谈判", "谈判"]),
    ("single_source", &["单一来源", "单一来源采购"]),
    ("inquiry", &["询价", "询价采购"]),
    ("other", &["其他"]),
];

const SERVICE_KINDS: &[(&str, &[&str])] = &[
    ("casework", &["个案服务", "个案", "个案工作", "个案管理"]),
    ("group", &["小组工作", "小组", "小组活动"]),
    ("community", &["社区活动", "社区工作", "活动"]),
    ("visit", &["探访", "走访", "入户探访"]),
    ("resource_linking", &["资源链接", "资源整合"]),
    ("policy_publicity", &["政策宣传", "宣传", "政策宣讲"]),
    ("psychological", &["心理疏导", "心理支持", "心理辅导"]),
    ("crisis", &["危机干预"]),
];

/// 核心项目 / 基础项目, as sheets write them.
const TIERS: &[(&str, &[&str])] = &[
    ("core", &["核心项目", "核心"]),
    ("basic", &["基础项目", "基础"]),
];

static COLUMNS: Schema = Schema {
    name_zh: "合同",
    name_en: "Contracts",
    columns: &[
        col!(
            "contract_number",
            "合同编号",
            "Contract number",
            [
                "合同号",
                "合同编码",
                "采购合同编号",
                "政府采购合同编号",
                "项目编号",
                "编号"
            ],
            true,
            Kind::Text { max_chars: 60 },
            "同一合同的多条明细各占一行，合同编号相同；合同的其他列可只在第一行填写",
            "One row per contract line, with the same number; the contract's other columns may be given on its first row only"
        ),
        col!(
            "title",
            "项目名称",
            "Title",
            [
                "合同名称",
                "服务项目名称",
                "采购项目名称",
                "购买服务项目名称"
            ],
            false,
            Kind::Text { max_chars: 200 },
            "必填（每个合同填一次即可）",
            "Required (once per contract)"
        ),
        col!(
            "region",
            "购买方地区",
            "Purchaser region",
            [
                "所属地区",
                "地区",
                "采购人所在地区",
                "购买方所在地区",
                "县（市、区）",
                "区县"
            ],
            false,
            Kind::Region,
            "不填时为购买单位的登记地区，再不然为您所在的地区",
            "Empty: the purchaser organisation's region, else your own"
        ),
        col!(
            "purchaser",
            "购买单位",
            "Purchaser",
            [
                "购买方",
                "采购人",
                "采购单位",
                "甲方",
                "购买主体",
                "采购人名称"
            ],
            false,
            Kind::Text { max_chars: 100 },
            "已登记机构的名称或统一社会信用代码，可空",
            "A registered organisation's name or credit code; may be empty"
        ),
        col!(
            "provider",
            "承接机构",
            "Provider",
            [
                "承接方",
                "承接单位",
                "服务机构",
                "乙方",
                "供应商",
                "中标单位",
                "成交供应商",
                "中标（成交）供应商",
                "服务提供方",
                "承接机构名称"
            ],
            false,
            Kind::Text { max_chars: 100 },
            "必填：已登记机构的名称或统一社会信用代码",
            "Required: a registered organisation's name or credit code"
        ),
        col!(
            "amount",
            "合同金额",
            "Amount",
            [
                "金额",
                "项目金额",
                "合同总金额",
                "中标金额",
                "成交金额",
                "合同价款",
                "合同金额（元）"
            ],
            false,
            Kind::Money,
            "必填；可带单位，如 30万元",
            "Required; a unit may be given, e.g. 30万元"
        ),
        col!(
            "term_start",
            "服务期开始",
            "Term start",
            [
                "开始日期",
                "起始日期",
                "服务开始日期",
                "服务期限起",
                "服务起始日期",
                "合同开始日期",
                "服务期起"
            ],
            false,
            Kind::Date,
            "必填",
            "Required"
        ),
        col!(
            "term_end",
            "服务期结束",
            "Term end",
            [
                "结束日期",
                "截止日期",
                "服务结束日期",
                "服务期限止",
                "服务截止日期",
                "合同结束日期",
                "服务期止"
            ],
            false,
            Kind::Date,
            "必填，不早于开始日期",
            "Required, not before the start"
        ),
        col!(
            "method",
            "采购方式",
            "Procurement method",
            ["采购形式", "购买方式", "政府采购方式"],
            false,
            Kind::Choice(METHODS),
            "必填",
            "Required"
        ),
        col!(
            "stations",
            "服务站点",
            "Stations served",
            [
                "服务社工站",
                "社工站",
                "覆盖站点",
                "服务阵地",
                "站点",
                "服务站点名称"
            ],
            false,
            Kind::Text { max_chars: 1000 },
            "购买方地区内社工站的名称，多个用“、”或“，”分隔",
            "Names of stations in the purchaser's region, separated by 、 or ，"
        ),
        col!(
            "catalogue_item",
            "目录项目",
            "Catalogue item",
            ["所属目录项目", "目录项", "服务目录项目", "对应目录项目"],
            false,
            Kind::Text { max_chars: 100 },
            "购买方地区或上级地区目录中的项目名称，可空",
            "An item of the purchaser's (or a higher region's) catalogue; may be empty"
        ),
        col!(
            "plan",
            "付款计划",
            "Payment plan",
            [
                "付款方式",
                "付款比例",
                "付款进度",
                "支付方式",
                "分期付款比例",
                "资金拨付方式",
                "付款进度安排"
            ],
            false,
            Kind::Text { max_chars: 100 },
            "必填：各期比例，如 40/40/20 或 40%,40%,20%，合计须为100%；付款条件见填写说明",
            "Required: each instalment's share, e.g. 40/40/20, adding up to 100 %; triggers: see the notes"
        ),
        col!(
            "service_kind",
            "服务类型",
            "Service kind",
            ["服务类别", "服务方式", "明细类型"],
            false,
            Kind::Choice(SERVICE_KINDS),
            "按服务记录计量的明细填写；人员、督导等不按记录计量的可空",
            "For lines counted from service records; empty for pay, supervision and the like"
        ),
        col!(
            "tier",
            "项目类别",
            "Tier",
            ["项目层级", "核心或基础", "核心/基础", "核心项目或基础项目"],
            false,
            Kind::Choice(TIERS),
            "核心项目或基础项目，不填为基础项目；评估时分别计入核心项目和基础项目完成情况",
            "Core (核心项目) or basic (基础项目), basic when empty; evaluations measure the two apart"
        ),
        col!(
            "content",
            "服务内容",
            "Content",
            [
                "服务项目",
                "明细内容",
                "服务指标",
                "指标内容",
                "内容",
                "合同明细"
            ],
            true,
            Kind::Text { max_chars: 200 },
            "",
            ""
        ),
        col!(
            "unit",
            "单位",
            "Unit",
            ["计量单位", "服务单位"],
            true,
            Kind::Text { max_chars: 20 },
            "如 个、次、人次；单位为“人次”且不填门槛时按人次计量",
            "e.g. 个, 次, 人次; 人次 without thresholds counts person-times"
        ),
        col!(
            "unit_price",
            "单价",
            "Unit price",
            ["服务单价", "单价元", "明细单价"],
            true,
            Kind::Money,
            "",
            ""
        ),
        col!(
            "quantity",
            "数量",
            "Quantity",
            ["服务数量", "目标数量", "指标数量", "数量指标", "目标值"],
            true,
            Kind::Integer,
            "",
            ""
        ),
        col!(
            "min_sessions",
            "小组最少节数",
            "Group: minimum sessions",
            ["最少节数", "每组最少节数", "节数要求"],
            false,
            Kind::Integer,
            "填写后按小组计量：达到最少节数和最少人次的小组计 1 个",
            "Counts groups with at least these sessions and person-times"
        ),
        col!(
            "min_person_times",
            "小组最少人次",
            "Group: minimum person-times",
            ["最少人次", "人次要求", "每组最少人次"],
            false,
            Kind::Integer,
            "",
            ""
        ),
        col!(
            "min_participants",
            "活动最少人数",
            "Activity: minimum participants",
            ["最少参与人数", "参与人数要求", "活动最少参与人数"],
            false,
            Kind::Integer,
            "填写后按活动计量：参与人数达到的活动计 1 场",
            "Counts activities with at least this many participants"
        ),
        col!(
            "min_follow_ups",
            "个案最少跟进次数",
            "Case: minimum follow-ups",
            ["最少跟进次数", "跟进次数要求", "结案最少跟进次数"],
            false,
            Kind::Integer,
            "填写后按个案计量：结案且跟进次数达到的个案计 1 个（可填 0）",
            "Counts closed cases with at least this many follow-ups (0 allowed)"
        ),
    ],
};

/// The contract's own columns, given once per contract.
const CONTRACT_KEYS: [&str; 11] = [
    "title",
    "region",
    "purchaser",
    "provider",
    "amount",
    "term_start",
    "term_end",
    "method",
    "stations",
    "catalogue_item",
    "plan",
];

/// The contract's columns it cannot do without.
const CONTRACT_REQUIRED: [&str; 7] = [
    "title",
    "provider",
    "amount",
    "term_start",
    "term_end",
    "method",
    "plan",
];

/// The contracts registry's import.
pub struct Contracts;

impl Importer for Contracts {
    fn kind(&self) -> &'static str {
        "contracts"
    }

    fn list_path(&self) -> &'static str {
        "/contracts"
    }

    fn title_key(&self) -> &'static str {
        "menu.contracts"
    }

    fn audit_entity(&self) -> &'static str {
        "contract"
    }

    fn schema(&self) -> &'static Schema {
        &COLUMNS
    }

    fn guide(&self) -> Guide {
        Guide {
            notes: &[
                "purchase.import.contracts_note_rows",
                "purchase.import.contracts_note_plan",
                "purchase.import.contracts_note_again",
            ],
            examples: &[
                &[
                    "LS-2025-001",
                    "芦淞区社工站服务项目",
                    "芦淞区",
                    "",
                    "阳光社会工作服务中心",
                    "30万元",
                    "2025-06-01",
                    "2026-05-31",
                    "公开招标",
                    "贺家土街道社工站、建设街道社工站",
                    "",
                    "40/40/20",
                    "小组工作",
                    "核心项目",
                    "长者互助小组",
                    "个",
                    "3000",
                    "20",
                    "6",
                    "42",
                    "",
                    "",
                ],
                &[
                    "LS-2025-001",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "个案服务",
                    "基础项目",
                    "困境儿童个案",
                    "个",
                    "8000",
                    "30",
                    "",
                    "",
                    "",
                    "6",
                ],
            ],
        }
    }

    fn plan<'a>(
        &'a self,
        job: &'a Job<'a>,
        conn: &'a mut Conn,
        rows: Vec<Row>,
    ) -> BoxFuture<'a, WebResult<Vec<Planned>>> {
        Box::pin(async move {
            let found = Lookups::load(job, conn).await?;
            // Rows by contract number, in the order numbers first appear.
            let mut order: Vec<String> = Vec::new();
            let mut groups: HashMap<String, Vec<&Row>> = HashMap::new();
            let mut alone = Vec::new();
            for row in &rows {
                let number = normalize(&row.text("contract_number"));
                if number.is_empty() {
                    alone.push(row);
                    continue;
                }
                if !groups.contains_key(&number) {
                    order.push(number.clone());
                }
                groups.entry(number).or_default().push(row);
            }
            let mut drafts: Vec<Draft> = order
                .iter()
                .filter_map(|n| groups.remove(n))
                .map(|rows| Draft::read(job, &found, rows))
                .collect();
            // A number already filed in its region is not imported again.
            let scope = job.scope();
            let mut taken: HashMap<String, HashSet<String>> = HashMap::new();
            for d in &drafts {
                if let Some(region) = &d.region
                    && !taken.contains_key(region.as_str())
                {
                    let numbers = contracts::numbers_in(conn, &scope, region.as_str()).await?;
                    let numbers = numbers.iter().map(|n| normalize(n)).collect();
                    taken.insert(region.as_str().to_owned(), numbers);
                }
            }
            let cells = job.cells(&COLUMNS);
            for d in &mut drafts {
                let exists = d.region.as_ref().is_some_and(|r| {
                    taken
                        .get(r.as_str())
                        .is_some_and(|numbers| numbers.contains(&normalize(&d.number)))
                });
                if exists {
                    let message = cells.say(
                        "contract_number",
                        "purchase.import.contract_exists",
                        &d.number,
                        "",
                    );
                    d.contract_errors.insert(0, message);
                }
            }
            let mut planned: Vec<Planned> = alone
                .into_iter()
                .map(|row| {
                    let errors = cells.parse_errors(row, |e| e.raw.clone());
                    Planned::new(row.number, String::new(), Action::Invalid, errors, None)
                })
                .collect();
            for d in drafts {
                planned.extend(d.plan(job));
            }
            planned.sort_by_key(|p| p.row.number);
            Ok(planned)
        })
    }
}

/// Everything a contracts sheet is checked against, loaded once.
struct Lookups {
    regions: Vec<RegionIndex>,
    orgs: OrgIndex,
    stations: Vec<Station>,
    /// Catalogue items the scope sees: (id, name normalised, region, edition year).
    items: Vec<(String, String, String, i64)>,
}

impl Lookups {
    async fn load(job: &Job<'_>, conn: &mut Conn) -> WebResult<Self> {
        let scope = job.scope();
        let stations = stations::list(
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
        let items = catalogue::editions(conn, &scope, None)
            .await?
            .into_iter()
            .flat_map(|e| {
                let year = e.year;
                e.items.into_iter().map(move |i| {
                    let name = normalize(&i.name);
                    (i.id, name, i.region_code, year)
                })
            })
            .collect();
        Ok(Self {
            regions: purchaser_regions(job, conn).await?,
            orgs: OrgIndex::load(conn, &scope).await?,
            stations,
            items,
        })
    }

    /// Stations of the region by name; the error names what was not found or every candidate.
    fn station(&self, region: &str, name: &str) -> Result<String, (&'static str, String)> {
        let wanted = normalize(name);
        let found: Vec<&Station> = self
            .stations
            .iter()
            .filter(|s| s.region_code.starts_with(region) && normalize(&s.name) == wanted)
            .collect();
        match found.as_slice() {
            [one] => Ok(one.id.clone()),
            [] => Err(("purchase.import.station_not_found", name.to_owned())),
            many => Err((
                "purchase.import.station_ambiguous",
                many.iter()
                    .map(|s| format!("{}（{}）", s.name, s.region_path.replace('/', " / ")))
                    .collect::<Vec<_>>()
                    .join("；"),
            )),
        }
    }

    /// A catalogue item of the region's or a higher region's catalogue by name; of the term's
    /// first year when several catalogues have it.
    fn item(&self, region: &str, name: &str, year: Option<i64>) -> Result<String, &'static str> {
        let wanted = normalize(name);
        let found: Vec<&(String, String, String, i64)> = self
            .items
            .iter()
            .filter(|(_, n, r, _)| *n == wanted && region.starts_with(r.as_str()))
            .collect();
        let of_year: Vec<&(String, String, String, i64)> = found
            .iter()
            .copied()
            .filter(|(_, _, _, y)| Some(*y) == year)
            .collect();
        match (found.as_slice(), of_year.as_slice()) {
            ([one], _) | (_, [one]) => Ok(one.0.clone()),
            ([], _) => Err("purchase.import.item_not_found"),
            _ => Err("purchase.import.item_ambiguous"),
        }
    }
}

/// One contract's rows read together: its input when everything reads, the errors about the
/// whole contract, and each row's own errors.
struct Draft {
    number: String,
    region: Option<RegionCode>,
    /// (row number, label, its own errors), in sheet order.
    rows: Vec<(usize, String, Vec<CellMessage>)>,
    contract_errors: Vec<CellMessage>,
    input: Option<ContractInput>,
}

/// A cell's value as the preview shows it.
fn shown(value: &Value) -> String {
    match value {
        Value::Text(s) => s.clone(),
        Value::Fen(f) => Fen(*f).to_string(),
        Value::Date(d) => d.to_string(),
        Value::Code(c) => (*c).to_owned(),
        Value::Int(n) | Value::Area(n) => n.to_string(),
        Value::Decimal(d) => d.to_string(),
        Value::Month(y, m) => format!("{y}-{m:02}"),
    }
}

/// The contract's columns: the first value given, and an error on any row that gives another.
fn merged(
    cells: &Cells<'_>,
    rows: &[&Row],
    own: &mut BTreeMap<usize, Vec<CellMessage>>,
) -> HashMap<&'static str, Value> {
    let mut values = HashMap::new();
    for key in CONTRACT_KEYS {
        let mut first: Option<(usize, &Value)> = None;
        for row in rows {
            let Some(v) = row.values.get(key) else {
                continue;
            };
            match first {
                None => first = Some((row.number, v)),
                Some((at, f)) if f != v => {
                    let message =
                        cells.say(key, "purchase.import.differs", &shown(v), &at.to_string());
                    own.entry(row.number).or_default().push(message);
                }
                Some(_) => {}
            }
        }
        if let Some((_, v)) = first {
            values.insert(key, v.clone());
        }
    }
    values
}

/// The contract's required columns no row gives (and did not fail to read); the whole sheet
/// for an account that buys nothing.
fn missing(
    job: &Job<'_>,
    cells: &Cells<'_>,
    rows: &[&Row],
    values: &HashMap<&'static str, Value>,
) -> Vec<CellMessage> {
    let failed_parse = |key: &str| {
        rows.iter()
            .any(|r| r.errors.iter().any(|e| e.column == key))
    };
    let mut errors: Vec<CellMessage> = CONTRACT_REQUIRED
        .iter()
        .filter(|key| !values.contains_key(*key) && !failed_parse(key))
        .map(|key| cells.say(key, "import.required", "", ""))
        .collect();
    if job.scope().org.is_some() {
        errors.push(cells.say("contract_number", "purchase.purchaser_only", "", ""));
    }
    errors
}

/// Each row's line (its error kept on the row) and its label in the preview.
fn lines(
    cells: &Cells<'_>,
    job: &Job<'_>,
    number: &str,
    rows: &[&Row],
    own: &mut BTreeMap<usize, Vec<CellMessage>>,
) -> (Vec<ContractLine>, Vec<(usize, String)>) {
    let mut lines = Vec::new();
    let mut labels = Vec::new();
    for row in rows {
        labels.push((row.number, format!("{number} · {}", row.text("content"))));
        match line(cells, job, row) {
            Ok(Some(l)) => lines.push(l),
            Ok(None) => {}
            Err(e) => own.entry(row.number).or_default().push(e),
        }
    }
    (lines, labels)
}

impl Draft {
    fn read(job: &Job<'_>, found: &Lookups, rows: Vec<&Row>) -> Draft {
        let cells = job.cells(&COLUMNS);
        let number = rows
            .first()
            .map(|r| r.text("contract_number").trim().to_owned())
            .unwrap_or_default();
        let mut own: BTreeMap<usize, Vec<CellMessage>> = rows
            .iter()
            .map(|r| (r.number, cells.parse_errors(r, |e| e.raw.clone())))
            .collect();
        let values = merged(&cells, &rows, &mut own);
        let errors = missing(job, &cells, &rows, &values);
        let text = |key: &str| match values.get(key) {
            Some(v) => shown(v),
            None => String::new(),
        };
        let mut c = ContractCheck {
            job,
            found,
            cells,
            errors,
        };
        let purchaser = c.org("purchaser", &text("purchaser"), "import.org_not_found");
        let provider = c
            .org(
                "provider",
                &text("provider"),
                "purchase.import.provider_not_found",
            )
            .map(|(id, _)| id);
        let region = c.region(&text("region"), purchaser.as_ref());
        let amount = match values.get("amount") {
            Some(Value::Fen(f)) => Some(Fen(*f)),
            _ => None,
        };
        let term = c.term(&values);
        let method = match values.get("method") {
            Some(Value::Code(m)) => ProcurementMethod::parse(m).ok(),
            _ => None,
        };
        let stations = region
            .as_ref()
            .map(|r| c.stations(r.as_str(), &text("stations")))
            .unwrap_or_default();
        let catalogue_item_id = region
            .as_ref()
            .and_then(|r| c.item(r.as_str(), &text("catalogue_item"), term));
        let plan = match (amount, term) {
            (Some(amount), Some(term)) => c.plan(&text("plan"), amount, term),
            _ => None,
        };
        let (lines, labels) = lines(&c.cells, job, &number, &rows, &mut own);
        let ContractCheck { errors, .. } = c;
        let all_read = lines.len() == rows.len();
        let input = match (region.clone(), provider, amount, term, method, plan) {
            (
                Some(region),
                Some(provider_org_id),
                Some(amount),
                Some(term),
                Some(method),
                Some(plan),
            ) if errors.is_empty() && all_read => Some(ContractInput {
                region,
                number: number.clone(),
                title: text("title"),
                purchaser_org_id: purchaser.map(|(id, _)| id),
                provider_org_id,
                amount,
                term,
                method,
                renewal_of: None,
                catalogue_item_id,
                reduction_rule: None,
                stations,
                lines,
                budget: Vec::new(),
                plan,
            }),
            _ => None,
        };
        Draft {
            number,
            region,
            rows: labels
                .into_iter()
                .map(|(n, label)| (n, label, own.remove(&n).unwrap_or_default()))
                .collect(),
            contract_errors: errors,
            input,
        }
    }

    /// Every row of the contract: all valid (the first writing the contract), or all invalid,
    /// the whole contract's errors on each and the rows at fault named on the others.
    fn plan(self, job: &Job<'_>) -> Vec<Planned> {
        let bad_rows: Vec<String> = self
            .rows
            .iter()
            .filter(|(_, _, e)| !e.is_empty())
            .map(|(n, _, _)| n.to_string())
            .collect();
        let valid = bad_rows.is_empty() && self.contract_errors.is_empty();
        let mut input = self.input.filter(|_| valid);
        let cells = job.cells(&COLUMNS);
        let mut out = Vec::with_capacity(self.rows.len());
        for (number, label, own) in self.rows {
            let change: Option<Box<dyn Change>> = match input.take() {
                Some(input) => Some(Box::new(ContractChange { input })),
                None if valid => Some(Box::new(Continued)),
                None => None,
            };
            let mut errors = self.contract_errors.clone();
            if own.is_empty() && errors.is_empty() && !valid {
                let rows = bad_rows.join(job.t.get("import.separator"));
                errors.push(cells.say(
                    "contract_number",
                    "purchase.import.contract_has_errors",
                    &self.number,
                    &rows,
                ));
            }
            errors.extend(own);
            out.push(Planned::new(number, label, Action::Create, errors, change));
        }
        out
    }
}

/// The checks of one contract's own columns, gathering their errors.
struct ContractCheck<'a> {
    job: &'a Job<'a>,
    found: &'a Lookups,
    cells: Cells<'a>,
    errors: Vec<CellMessage>,
}

impl ContractCheck<'_> {
    /// An organisation by name or credit code: (id, registration region).
    fn org(&mut self, key: &str, text: &str, missing: &str) -> Option<(String, String)> {
        if text.trim().is_empty() {
            return None;
        }
        match self.found.orgs.resolve(text) {
            Ok(id) => {
                let region = self
                    .found
                    .orgs
                    .all
                    .iter()
                    .find(|o| o.id == id)
                    .map(|o| o.region_code.clone())
                    .unwrap_or_default();
                Some((id, region))
            }
            Err(code) => {
                let code = if code == "import.org_not_found" {
                    missing
                } else {
                    code
                };
                self.errors.push(self.cells.say(key, code, text, ""));
                None
            }
        }
    }

    /// The purchaser's region: the sheet's, else the purchaser organisation's when it lies in
    /// the scope, else the importer's own.
    fn region(&mut self, place: &str, purchaser: Option<&(String, String)>) -> Option<RegionCode> {
        let scope = self.job.scope();
        let code = if !place.trim().is_empty() {
            match resolve_region(&self.found.regions, place) {
                Ok(code) => code,
                Err((code, extra)) => {
                    self.errors
                        .push(self.cells.say("region", code, place, &extra));
                    return None;
                }
            }
        } else {
            match purchaser.filter(|(_, r)| !r.is_empty() && scope.contains_region(r)) {
                Some((_, r)) => r.clone(),
                None => self.job.user.user.region_code.clone(),
            }
        };
        let region = RegionCode::parse(&code).ok();
        if region.is_none() {
            self.errors
                .push(self.cells.say("region", "import.required", "", ""));
        }
        region
    }

    /// The term from its two dates; an end before the start is refused on `term_end`.
    fn term(&mut self, values: &HashMap<&str, Value>) -> Option<Term> {
        let date = |key: &str| match values.get(key) {
            Some(Value::Date(d)) => Some(*d),
            _ => None,
        };
        let (start, end) = (date("term_start")?, date("term_end")?);
        Term::new(start, end)
            .map_err(|e| {
                let raw = end.to_string();
                self.errors
                    .push(self.cells.say("term_end", e.code, &raw, ""));
            })
            .ok()
    }

    /// The catalogue item a cell names, if any.
    fn item(&mut self, region: &str, name: &str, term: Option<Term>) -> Option<String> {
        if name.trim().is_empty() {
            return None;
        }
        let year = term.map(|t| i64::from(chrono::Datelike::year(&t.start())));
        self.found
            .item(region, name, year)
            .map_err(|code| {
                let message = self.cells.say("catalogue_item", code, name, "");
                self.errors.push(message);
            })
            .ok()
    }

    /// The stations a cell names, each found in the region.
    fn stations(&mut self, region: &str, text: &str) -> Vec<String> {
        let mut ids = Vec::new();
        for name in text
            .split(['、', '，', ',', '；', ';', '\n'])
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            match self.found.station(region, name) {
                Ok(id) if !ids.contains(&id) => ids.push(id),
                Ok(_) => {}
                Err((code, extra)) => {
                    self.errors
                        .push(self.cells.say("stations", code, name, &extra));
                }
            }
        }
        ids
    }

    /// The plan's shares, each instalment triggered by [`triggers`]; refused on its cell
    /// unless the shares add up to 100 %.
    fn plan(&mut self, text: &str, amount: Fen, term: Term) -> Option<PaymentPlan> {
        if text.trim().is_empty() {
            return None;
        }
        let shares = match percent_list(text) {
            Ok(shares) => shares,
            Err(code) => {
                self.errors.push(self.cells.say("plan", code, text, ""));
                return None;
            }
        };
        let instalments = shares
            .iter()
            .zip(triggers(shares.len(), term))
            .map(|(bp, trigger)| PlannedInstalment {
                portion: Portion::Share(*bp),
                trigger,
            })
            .collect();
        PaymentPlan::new(amount, instalments)
            .map_err(|e| self.errors.push(self.cells.say("plan", e.code, text, "")))
            .ok()
    }
}

/// What makes each of `n` instalments payable: the first on the term's first day, the last
/// after the final evaluation; of three, the middle one after the mid-term evaluation; of four
/// or more, the middle ones after the purchaser's assessment on days evenly spread over the
/// term.
fn triggers(n: usize, term: Term) -> Vec<Trigger> {
    let span = u64::try_from(term.days() - 1).unwrap_or(0);
    let steps = u64::try_from(n.saturating_sub(1)).unwrap_or(1).max(1);
    (0..n)
        .map(|i| match i {
            0 => Trigger::Date { on: term.start() },
            i if i + 1 == n => Trigger::Evaluation {
                kind: EvaluationKind::Final,
            },
            _ if n == 3 => Trigger::Evaluation {
                kind: EvaluationKind::MidTerm,
            },
            i => {
                let offset = span * u64::try_from(i).unwrap_or(0) / steps;
                Trigger::AssessedOn {
                    on: term
                        .start()
                        .checked_add_days(Days::new(offset))
                        .unwrap_or(term.end()),
                }
            }
        })
        .collect()
}

/// The row's contract line, `None` when a cell of it did not read (its error is the row's
/// already); its rule from the threshold columns.
fn line(cells: &Cells<'_>, job: &Job<'_>, row: &Row) -> Result<Option<ContractLine>, CellMessage> {
    const LINE_KEYS: [&str; 10] = [
        "service_kind",
        "tier",
        "content",
        "unit",
        "unit_price",
        "quantity",
        "min_sessions",
        "min_person_times",
        "min_participants",
        "min_follow_ups",
    ];
    if row.errors.iter().any(|e| LINE_KEYS.contains(&e.column)) {
        return Ok(None);
    }
    let (Some(unit_price), Some(Value::Int(quantity))) =
        (row.fen("unit_price"), row.values.get("quantity"))
    else {
        return Ok(None);
    };
    let given = |key| row.values.contains_key(key);
    let unit = row.text("unit");
    let rule = match (
        given("min_sessions") || given("min_person_times"),
        given("min_participants"),
        given("min_follow_ups"),
    ) {
        (false, false, false) if normalize(&unit) == "人次" => QualifyingRule::PersonTimes,
        (false, false, false) => QualifyingRule::Each,
        (true, false, false) => QualifyingRule::Group {
            min_sessions: row.int("min_sessions"),
            min_person_times: row.int("min_person_times"),
        },
        (false, true, false) => QualifyingRule::Activity {
            min_participants: row.int("min_participants"),
        },
        (false, false, true) => QualifyingRule::ClosedCase {
            min_follow_ups: row.int("min_follow_ups"),
        },
        _ => {
            return Err(cells.say("min_sessions", "purchase.import.rule_mixed", "", ""));
        }
    };
    let line = ContractLine {
        service_kind: row
            .code("service_kind")
            .and_then(|k| ServiceKind::parse(k).ok()),
        content: row.text("content").trim().to_owned(),
        unit: unit.trim().to_owned(),
        unit_price,
        quantity: *quantity,
        rule,
        // The cell read as one of the tiers (anything else is its error already); empty: basic.
        tier: row
            .code("tier")
            .and_then(|t| LineTier::parse(t).ok())
            .unwrap_or_default(),
    };
    line.validate().map_err(|e| {
        let key = match e.field {
            "unit" | "quantity" | "unit_price" => e.field,
            "rule" => "min_sessions",
            _ => "content",
        };
        let raw = match key {
            "quantity" => quantity.to_string(),
            "unit_price" => unit_price.to_string(),
            _ => String::new(),
        };
        CellMessage {
            column: cells.label(key),
            raw,
            message: job.t.get(e.code).to_owned(),
        }
    })?;
    Ok(Some(line))
}

/// A whole contract, written by its first row.
struct ContractChange {
    input: ContractInput,
}

impl Change for ContractChange {
    fn apply<'a>(&'a self, job: &'a Job<'a>, tx: &'a mut Conn) -> BoxFuture<'a, StoreResult<()>> {
        Box::pin(async move {
            let scope = job.scope();
            contracts::create(tx, &scope, &self.input, &job.user.user.username, job.now)
                .await
                .map(drop)
        })
    }
}

/// A further line of a contract its first row writes.
struct Continued;

impl Change for Continued {
    fn apply<'a>(&'a self, _: &'a Job<'a>, _: &'a mut Conn) -> BoxFuture<'a, StoreResult<()>> {
        Box::pin(async { Ok(()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn instalments_are_triggered_by_the_documented_rule() {
        let term = Term::new(d("2025-06-01"), d("2026-05-31")).unwrap();
        let on = |s| Trigger::Date { on: d(s) };
        let eval = |kind| Trigger::Evaluation { kind };
        assert_eq!(triggers(1, term), [on("2025-06-01")]);
        assert_eq!(
            triggers(2, term),
            [on("2025-06-01"), eval(EvaluationKind::Final)]
        );
        assert_eq!(
            triggers(3, term),
            [
                on("2025-06-01"),
                eval(EvaluationKind::MidTerm),
                eval(EvaluationKind::Final)
            ]
        );
        let four = triggers(4, term);
        assert_eq!(four[0], on("2025-06-01"));
        assert_eq!(
            four[1],
            Trigger::AssessedOn {
                on: d("2025-09-30")
            }
        );
        assert_eq!(
            four[2],
            Trigger::AssessedOn {
                on: d("2026-01-29")
            }
        );
        assert_eq!(four[3], eval(EvaluationKind::Final));
    }
}
