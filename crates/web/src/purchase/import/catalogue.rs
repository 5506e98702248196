//! The catalogue sheet: one row per item of a region's edition of a year (the region a column
//! or the importer's own, the year a column or one value chosen for the upload; the edition is
//! made on first use, as the catalogue form makes it). An item is found again by edition and
//! name: what the sheet says of it is updated (field, description, cost shares), what it leaves
//! empty keeps the stored value, and its status only moves forward, each step kept in its
//! history.

use std::collections::HashMap;

use shegong_domain::RegionCode;
use shegong_domain::purchase::catalogue::{
    CostShare, CostShares, ItemStatus, PurchaserLevel, ServiceField,
};
use shegong_store::purchase::catalogue::{self, Item, ItemEdit, ItemInput, ItemStep};
use shegong_store::{Conn, StoreResult};

use super::{YEARS, on_columns, purchaser_regions, resolve_region};

/// The row's region: its `region` cell resolved in scope, else the importer's own region.
fn purchaser_region(
    job: &Job<'_>,
    regions: &[RegionIndex],
    row: &Row,
    errors: &mut Vec<CellMessage>,
) -> Option<RegionCode> {
    let cells = job.cells(&COLUMNS);
    let place = row.text("region");
    if place.trim().is_empty() {
        let own = RegionCode::parse(&job.user.user.region_code).ok();
        if own.is_none() {
            errors.push(cells.say("region", "import.required", "", ""));
        }
        return own;
    }
    resolve_region(regions, &place)
        .map_err(|(code, extra)| errors.push(cells.say("region", code, &place, &extra)))
        .ok()
        .and_then(|c| RegionCode::parse(&c).ok())
}
use crate::http::error::WebResult;
use crate::import::engine::{Action, BoxFuture, CellMessage, Change, Importer, Job, Planned};
use crate::import::resolve::RegionIndex;
use crate::import::schema::{Kind, Row, Schema, col};
use crate::import::sheet::normalize;
use crate::import::template::Guide;
use crate::purchase::catalogue::{own_level, shares};

/// The ten fields as catalogues and calls for items name them.
const FIELDS: &[(&str, &[&str])] = &[
    (
        "elderly",
        &[
            "老年人社会工作服务类",
            "老年人",
            "老年人服务",
            "老年人社会工作",
            "为老服务",
            "养老服务",
            "长者服务",
            "老年",
        ],
    ),
    (
        "women_children",
        &[
            "妇女儿童社会工作服务类",
            "妇女儿童",
            "妇女儿童服务",
            "妇女儿童社会工作",
            "儿童",
            "妇女",
            "儿童服务",
        ],
    ),
    (
        "youth",
        &[
            "青少年社会工作服务类",
            "青少年",
            "青少年服务",
            "青少年社会工作",
        ],
    ),
    (
        "disability",
        &[
            "残疾人社会工作服务类",
            "残疾人",
            "残疾人服务",
            "残疾人社会工作",
            "助残服务",
            "助残",
        ],
    ),
    (
        "family",
        &[
            "婚姻家庭社会工作服务类",
            "婚姻家庭",
            "婚姻家庭服务",
            "家庭服务",
            "家庭",
        ],
    ),
    (
        "social_assistance",
        &[
            "社会救助社会工作服务类",
            "社会救助",
            "社会救助服务",
            "救助",
            "特殊困难人群",
            "困难群众",
        ],
    ),
    (
        "drug_control",
        &[
            "禁毒社会工作服务类",
            "禁毒",
            "禁毒服务",
            "禁毒社会工作",
            "戒毒康复",
        ],
    ),
    (
        "corrections",
        &[
            "矫治帮教社会工作服务类",
            "矫治帮教",
            "社区矫正",
            "矫正",
            "帮教",
            "犯罪预防",
        ],
    ),
    (
        "medical",
        &[
            "卫生医疗社会工作服务类",
            "卫生医疗",
            "医疗卫生",
            "医务社会工作",
            "医务社工",
            "医务",
        ],
    ),
    (
        "community",
        &[
            "社区治理社会工作服务类",
            "社区治理",
            "社区建设",
            "社区服务",
            "社区",
        ],
    ),
];

/// The statuses an import may give; a removal needs a reason and is made on the page.
const STATUSES: &[(&str, &[&str])] = &[
    ("proposed", &["征集中", "征集", "已征集", "申报", "待评审"]),
    ("reviewed", &["已评审", "评审", "评审通过"]),
    (
        "included",
        &[
            "已纳入目录",
            "纳入目录",
            "已纳入",
            "拟购买",
            "纳入目录（拟购买）",
        ],
    ),
    ("purchasing", &["正在实施", "实施中", "购买中", "已购买"]),
];

static COLUMNS: Schema = Schema {
    name_zh: "服务目录项目",
    name_en: "Catalogue items",
    columns: &[
        col!(
            "region",
            "目录所属地区",
            "Catalogue region",
            [
                "所属地区",
                "地区",
                "目录地区",
                "购买地区",
                "购买方地区",
                "县（市、区）",
                "区县",
                "县区"
            ],
            false,
            Kind::Region,
            "县（区）或市的名称或区划代码；不填为您所在的地区",
            "County or city name or code; empty: your own region"
        ),
        col!(
            "year",
            "年度",
            "Year",
            ["目录年度", "项目年度", "年份", "购买年度"],
            true,
            Kind::Choice(YEARS),
            "目录的年度；表中没有这一列时，可在上传后为所有行选择",
            "The catalogue's year; without this column, choose one for all rows after upload"
        ),
        col!(
            "edition_title",
            "目录名称",
            "Catalogue title",
            ["目录标题", "服务目录名称"],
            false,
            Kind::Text { max_chars: 100 },
            "该地区该年度还没有目录时用作目录名称",
            "Used as the catalogue's title when the region has none for the year"
        ),
        col!(
            "field",
            "服务类别",
            "Service field",
            [
                "服务领域",
                "类别",
                "项目类别",
                "服务类型",
                "领域",
                "所属类别",
                "服务类"
            ],
            true,
            Kind::Choice(FIELDS),
            "",
            ""
        ),
        col!(
            "name",
            "项目名称",
            "Item name",
            [
                "服务项目",
                "服务项目名称",
                "目录项目名称",
                "项目",
                "购买服务项目"
            ],
            true,
            Kind::Text { max_chars: 100 },
            "同一目录中按名称识别；再次导入同名项目会更新，不会重复",
            "Found again by name within the catalogue: importing it again updates it"
        ),
        col!(
            "description",
            "项目说明",
            "Description",
            [
                "项目内容",
                "服务内容",
                "项目简介",
                "说明",
                "主要内容",
                "服务内容及要求"
            ],
            false,
            Kind::Text { max_chars: 2000 },
            "",
            ""
        ),
        col!(
            "shares",
            "经费分担",
            "Cost shares",
            [
                "经费承担",
                "资金分担",
                "分担比例",
                "经费分担比例",
                "承担比例",
                "资金来源比例"
            ],
            false,
            Kind::Text { max_chars: 100 },
            "如 市50%、区30%、镇街20%，合计须为100%；也可分列填写市级、区级、镇街比例；都不填则由本级全额承担",
            "e.g. 市50%、区30%、镇街20%, adding up to 100 %; or one column per level; empty: the region's own budget"
        ),
        col!(
            "city_share",
            "市级承担比例",
            "City share (%)",
            [
                "市级",
                "市级比例",
                "市级承担",
                "市本级",
                "市级分担",
                "市级（%）",
                "市级比例（%）",
                "市级承担比例（%）"
            ],
            false,
            Kind::Text { max_chars: 10 },
            "百分比，如 50",
            "A percentage, e.g. 50"
        ),
        col!(
            "district_share",
            "区（县）级承担比例",
            "District share (%)",
            [
                "区级",
                "区级（%）",
                "县级（%）",
                "区（县）级（%）",
                "区级比例（%）",
                "区（县）级承担比例（%）",
                "县级",
                "区县级",
                "区级比例",
                "区级承担",
                "区（县）级",
                "区级分担"
            ],
            false,
            Kind::Text { max_chars: 10 },
            "百分比，如 30",
            "A percentage, e.g. 30"
        ),
        col!(
            "township_share",
            "镇（街道）承担比例",
            "Township share (%)",
            [
                "镇街",
                "镇街（%）",
                "镇街级（%）",
                "镇（街道）（%）",
                "镇街比例（%）",
                "镇（街道）承担比例（%）",
                "镇街级",
                "镇级",
                "街道级",
                "镇（街道）级",
                "镇街比例",
                "镇街承担"
            ],
            false,
            Kind::Text { max_chars: 10 },
            "百分比，如 20",
            "A percentage, e.g. 20"
        ),
        col!(
            "status",
            "项目状态",
            "Status",
            ["状态", "目录状态", "当前状态"],
            false,
            Kind::Choice(STATUSES),
            "不填为征集中；导入只会把状态向后推进（征集中→已评审→已纳入目录→正在实施）",
            "Empty: proposed; an import only moves a status forward"
        ),
    ],
};

const LEVEL_COLUMNS: [(&str, PurchaserLevel); 3] = [
    ("city_share", PurchaserLevel::City),
    ("district_share", PurchaserLevel::District),
    ("township_share", PurchaserLevel::Township),
];

/// The catalogue's import.
pub struct Catalogue;

impl Importer for Catalogue {
    fn kind(&self) -> &'static str {
        "catalogue"
    }

    fn list_path(&self) -> &'static str {
        "/catalogue"
    }

    fn title_key(&self) -> &'static str {
        "menu.catalogue"
    }

    fn audit_entity(&self) -> &'static str {
        "catalogue_item"
    }

    fn schema(&self) -> &'static Schema {
        &COLUMNS
    }

    fn guide(&self) -> Guide {
        Guide {
            notes: &["purchase.import.catalogue_note"],
            examples: &[
                &[
                    "芦淞区",
                    "2025",
                    "2025年度芦淞区政府购买社会工作服务项目目录",
                    "老年人",
                    "长者关爱服务",
                    "独居、空巢老人探访与关爱",
                    "市50%、区30%、镇街20%",
                    "",
                    "",
                    "",
                    "征集中",
                ],
                &[
                    "芦淞区",
                    "2025",
                    "",
                    "青少年社会工作服务类",
                    "青少年成长护航",
                    "",
                    "",
                    "50",
                    "50",
                    "",
                    "已纳入目录",
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
            let regions = purchaser_regions(job, conn).await?;
            let mut checked = Vec::with_capacity(rows.len());
            let mut seen: HashMap<(String, i64, String), usize> = HashMap::new();
            for row in &rows {
                checked.push(check_row(job, &regions, &mut seen, row));
            }
            // The items already in the editions the sheet names, loaded once per edition.
            let scope = job.scope();
            let mut stored: HashMap<(String, i64), Vec<Item>> = HashMap::new();
            for c in &checked {
                if let Ok(item) = c
                    && !stored.contains_key(&item.edition())
                {
                    let items = catalogue::items_of_edition(
                        conn,
                        &scope,
                        item.input.region.as_str(),
                        item.input.year,
                    )
                    .await?;
                    stored.insert(item.edition(), items);
                }
            }
            Ok(checked
                .into_iter()
                .map(|c| match c {
                    Ok(item) => item.plan(job, &stored),
                    Err(planned) => planned,
                })
                .collect())
        })
    }
}

/// A row that reads as an item, still to be compared with what is stored.
struct Checked {
    number: usize,
    input: ItemInput,
    /// The status the sheet gives, if any.
    status: Option<ItemStatus>,
    /// Whether the sheet gives any cost share (else the stored ones are kept).
    shares_given: bool,
}

impl Checked {
    fn edition(&self) -> (String, i64) {
        (self.input.region.as_str().to_owned(), self.input.year)
    }

    fn plan(self, job: &Job<'_>, stored: &HashMap<(String, i64), Vec<Item>>) -> Planned {
        let name = self.input.name.trim().to_owned();
        let existing = stored
            .get(&self.edition())
            .and_then(|items| items.iter().find(|i| i.name == name));
        let Some(e) = existing else {
            let steps = steps(ItemStatus::Proposed, self.status).unwrap_or_default();
            let change = ItemChange {
                existing: None,
                input: self.input,
                steps,
            };
            return Planned::new(
                self.number,
                name,
                Action::Create,
                Vec::new(),
                Some(Box::new(change)),
            );
        };
        let mut input = self.input;
        if input.description.trim().is_empty() {
            input.description.clone_from(&e.description);
        }
        if !self.shares_given {
            input.cost_shares = e.cost_shares.clone();
        }
        let Some(steps) = steps(e.status, self.status) else {
            let cells = job.cells(&COLUMNS);
            let key = format!("purchase.item_status.{}", e.status);
            let now = job.t.get(&key);
            let error = CellMessage {
                column: cells.label("status"),
                raw: String::new(),
                message: job
                    .t
                    .fmt("purchase.import.status_backwards", &[("status", now)]),
            };
            return Planned::new(self.number, name, Action::Invalid, vec![error], None);
        };
        let same = e.field == input.field
            && e.description == input.description.trim()
            && e.cost_shares == input.cost_shares;
        let action = if same && steps.is_empty() {
            Action::Unchanged
        } else {
            Action::Update
        };
        let change = ItemChange {
            existing: Some((e.id.clone(), !same)),
            input,
            steps,
        };
        Planned::new(
            self.number,
            name,
            action,
            Vec::new(),
            Some(Box::new(change)),
        )
    }
}

/// The steps from `from` to the status the sheet asks for: none when it asks for none or the
/// same; `None` when the status cannot be reached going forward.
fn steps(from: ItemStatus, to: Option<ItemStatus>) -> Option<Vec<ItemStatus>> {
    const PATH: [ItemStatus; 4] = [
        ItemStatus::Proposed,
        ItemStatus::Reviewed,
        ItemStatus::Included,
        ItemStatus::Purchasing,
    ];
    let Some(to) = to.filter(|t| *t != from) else {
        return Some(Vec::new());
    };
    let start = PATH.iter().position(|s| *s == from)?;
    let end = PATH.iter().position(|s| *s == to)?;
    (end > start).then(|| PATH.get(start + 1..=end).unwrap_or_default().to_vec())
}

/// The cost shares a row gives: one text column, or a column per level; `None` when it gives
/// none. Errors name the columns they are about.
fn row_shares(job: &Job<'_>, row: &Row, region: &str) -> Result<Option<CostShares>, CellMessage> {
    let cells = job.cells(&COLUMNS);
    let text = row.text("shares");
    let by_level: Vec<(&str, PurchaserLevel, String)> = LEVEL_COLUMNS
        .iter()
        .map(|(key, level)| (*key, *level, row.text(key)))
        .filter(|(_, _, v)| !v.trim().is_empty())
        .collect();
    let labels = |keys: &mut dyn Iterator<Item = &str>| {
        keys.map(|k| cells.label(k))
            .collect::<Vec<_>>()
            .join(job.t.get("import.separator"))
    };
    if !text.trim().is_empty() && !by_level.is_empty() {
        let columns = labels(&mut std::iter::once("shares").chain(by_level.iter().map(|l| l.0)));
        let message = job.t.get("purchase.import.shares_twice").to_owned();
        return Err(on_columns(columns, text, message));
    }
    if by_level.is_empty() {
        if text.trim().is_empty() {
            return Ok(None);
        }
        return shares(&text, own_level(region))
            .map(Some)
            .map_err(|e| cells.say("shares", e.code, &text, ""));
    }
    let mut parts = Vec::new();
    for (key, level, value) in &by_level {
        let share_bp = shegong_domain::purchase::parse_percent("shares", value)
            .map_err(|e| cells.say(key, e.code, value, ""))?;
        parts.push(CostShare {
            level: *level,
            share_bp,
        });
    }
    CostShares::new(parts).map(Some).map_err(|e| {
        let columns = labels(&mut by_level.iter().map(|l| l.0));
        let raw = by_level
            .iter()
            .map(|l| l.2.trim())
            .collect::<Vec<_>>()
            .join(" + ");
        on_columns(columns, raw, job.t.get(e.code).to_owned())
    })
}

fn check_row(
    job: &Job<'_>,
    regions: &[RegionIndex],
    seen: &mut HashMap<(String, i64, String), usize>,
    row: &Row,
) -> Result<Checked, Planned> {
    let cells = job.cells(&COLUMNS);
    let mut errors = cells.parse_errors(row, |e| e.raw.clone());
    let name = row.text("name");
    let invalid = |errors| Planned::new(row.number, name.clone(), Action::Invalid, errors, None);
    if job.scope().org.is_some() {
        errors.push(cells.say("name", "purchase.purchaser_only", "", ""));
        return Err(invalid(errors));
    }
    let region = purchaser_region(job, regions, row, &mut errors);
    let shares = region
        .as_ref()
        .map(|r| row_shares(job, row, r.as_str()))
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten()
        .flatten();
    let year = row.code("year").and_then(|y| y.parse::<i64>().ok());
    let field = row.code("field").and_then(|f| ServiceField::parse(f).ok());
    let status = row.code("status").and_then(|s| ItemStatus::parse(s).ok());
    let (Some(region), Some(year), Some(field)) = (region, year, field) else {
        return Err(invalid(errors));
    };
    if !errors.is_empty() {
        return Err(invalid(errors));
    }
    let key = (region.as_str().to_owned(), year, normalize(&name));
    if let Some(first) = seen.get(&key) {
        errors.push(cells.say(
            "name",
            "import.duplicate_in_file",
            &name,
            &first.to_string(),
        ));
        return Err(invalid(errors));
    }
    seen.insert(key, row.number);
    let shares_given = shares.is_some();
    let cost_shares = match shares {
        Some(s) => s,
        // The region's own budget alone, as the form takes an empty share.
        None => match CostShares::new(vec![CostShare {
            level: own_level(region.as_str()),
            share_bp: 10_000,
        }]) {
            Ok(s) => s,
            Err(e) => {
                errors.push(cells.say("shares", e.code, "", ""));
                return Err(invalid(errors));
            }
        },
    };
    Ok(Checked {
        number: row.number,
        input: ItemInput {
            region,
            year,
            edition_title: row.text("edition_title"),
            field,
            name: name.trim().to_owned(),
            description: row.text("description"),
            cost_shares,
        },
        status,
        shares_given,
    })
}

/// An item to add (then step forward to the sheet's status) or to update and step forward.
struct ItemChange {
    /// The stored item's id, and whether its field, description or shares change.
    existing: Option<(String, bool)>,
    input: ItemInput,
    steps: Vec<ItemStatus>,
}

impl Change for ItemChange {
    fn apply<'a>(&'a self, job: &'a Job<'a>, tx: &'a mut Conn) -> BoxFuture<'a, StoreResult<()>> {
        Box::pin(async move {
            let scope = job.scope();
            let by = job.user.user.username.as_str();
            let id = match &self.existing {
                Some((id, changed)) => {
                    if *changed {
                        let edit = ItemEdit {
                            field: self.input.field,
                            description: self.input.description.clone(),
                            cost_shares: self.input.cost_shares.clone(),
                        };
                        catalogue::update_item(tx, &scope, id, &edit, job.now).await?;
                    }
                    id.clone()
                }
                None => {
                    catalogue::create_item(tx, &scope, &self.input, by, job.now)
                        .await?
                        .0
                }
            };
            for to in &self.steps {
                let step = ItemStep {
                    to: *to,
                    reason: None,
                    note: job.t.get("purchase.import.history_note").to_owned(),
                };
                catalogue::move_item(tx, &scope, &id, &step, by, job.now).await?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_only_move_forward() {
        use ItemStatus::*;
        assert_eq!(steps(Proposed, None), Some(vec![]));
        assert_eq!(steps(Proposed, Some(Proposed)), Some(vec![]));
        assert_eq!(
            steps(Proposed, Some(Included)),
            Some(vec![Reviewed, Included])
        );
        assert_eq!(steps(Included, Some(Reviewed)), None);
        assert_eq!(steps(Removed, Some(Included)), None);
    }
}
