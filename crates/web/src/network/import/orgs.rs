//! The organisations sheet: one row per organisation, found again by its credit code, else by
//! registration region + name. What a row leaves empty keeps the stored value; an organisation
//! registered outside the importer's scope is not changed.

use std::collections::{HashMap, HashSet};

use shegong_domain::RegionLevel;
use shegong_domain::network::org::{UsccCheck, check_uscc};
use shegong_domain::network::station::Rating;
use shegong_store::import::lookups;
use shegong_store::network::orgs::{self, Org, OrgInput};
use shegong_store::{Conn, StoreResult};

use crate::http::error::WebResult;
use crate::import::engine::{Action, BoxFuture, CellMessage, Change, Importer, Job, Planned};
use crate::import::resolve::{OrgIndex, RegionIndex, RegionMiss};
use crate::import::schema::{Kind, Row, Schema, col};
use crate::ui::forms::FormData;

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

static COLUMNS: Schema = Schema {
    name_zh: "机构",
    name_en: "Organisations",
    columns: &[
        col!(
            "name",
            "机构名称",
            "Name",
            [
                "名称",
                "单位名称",
                "机构",
                "社工机构名称",
                "社会组织名称",
                "组织名称",
                "机构全称"
            ],
            true,
            Kind::Text { max_chars: 100 },
            "",
            ""
        ),
        col!(
            "uscc",
            "统一社会信用代码",
            "Unified Social Credit Code",
            [
                "信用代码",
                "社会信用代码",
                "统一代码",
                "USCC",
                "社会统一信用代码",
                "统一社会信用代码证号",
                "信用代码证号"
            ],
            false,
            Kind::Text { max_chars: 30 },
            "18 位；校验位不符的会保存并提示",
            "18 characters; a failing check character is kept with a warning"
        ),
        col!(
            "kind",
            "机构类型",
            "Type",
            [
                "类型",
                "单位类型",
                "机构性质",
                "组织类型",
                "单位性质",
                "类别"
            ],
            true,
            Kind::Choice(ORG_KINDS),
            "",
            ""
        ),
        col!(
            "region",
            "登记地区",
            "Registration region",
            [
                "所在地区",
                "登记机关所在地",
                "地区",
                "县区",
                "所属县（市、区）",
                "县（市、区）",
                "区县",
                "县市区",
                "所属区县",
                "所在区县",
                "登记地"
            ],
            true,
            Kind::Region,
            "县（区）名称，可带市名，或区划代码",
            "County name (optionally with its city) or region code"
        ),
        col!(
            "legal_rep",
            "法定代表人",
            "Legal representative",
            ["法人", "法人代表", "法定代表人姓名", "法人姓名"],
            false,
            Kind::Text { max_chars: 50 },
            "",
            ""
        ),
        col!(
            "contact_name",
            "联系人",
            "Contact",
            ["负责人", "联系人姓名", "负责人姓名"],
            false,
            Kind::Text { max_chars: 50 },
            "",
            ""
        ),
        col!(
            "contact_phone",
            "联系电话",
            "Contact phone",
            [
                "电话",
                "联系方式",
                "联系人电话",
                "负责人电话",
                "手机",
                "手机号码"
            ],
            false,
            Kind::Text { max_chars: 40 },
            "",
            ""
        ),
        col!(
            "address",
            "地址",
            "Address",
            [
                "办公地址",
                "住所",
                "详细地址",
                "具体地址",
                "机构地址",
                "通讯地址"
            ],
            false,
            Kind::Text { max_chars: 200 },
            "",
            ""
        ),
        col!(
            "rating",
            "评估等级",
            "Rating",
            ["等级", "社会组织评估等级", "评级", "社会组织等级"],
            false,
            Kind::Choice(RATINGS),
            "1A–5A，可空",
            "1A–5A, may be empty"
        ),
    ],
};

/// The organisations registry's import.
pub struct Orgs;

impl Importer for Orgs {
    fn kind(&self) -> &'static str {
        "orgs"
    }

    fn list_path(&self) -> &'static str {
        "/orgs"
    }

    fn title_key(&self) -> &'static str {
        "menu.orgs"
    }

    fn audit_entity(&self) -> &'static str {
        "organization"
    }

    fn schema(&self) -> &'static Schema {
        &COLUMNS
    }

    fn plan<'a>(
        &'a self,
        job: &'a Job<'a>,
        conn: &'a mut Conn,
        rows: Vec<Row>,
    ) -> BoxFuture<'a, WebResult<Vec<Planned>>> {
        Box::pin(async move {
            let scope = job.scope();
            let mut regions = Vec::new();
            // A registration region is usually a county; cities, provinces and townships too.
            for level in [
                RegionLevel::County,
                RegionLevel::City,
                RegionLevel::Province,
                RegionLevel::Township,
            ] {
                regions.push(RegionIndex::load(conn, &scope, level).await?);
            }
            let known = OrgIndex::load(conn, &scope).await?;
            let mut seen = HashMap::new();
            let checked: Vec<Checked> = rows
                .iter()
                .map(|row| check_row(job, &regions, &known, &mut seen, row))
                .collect();
            let taken = Taken::load(conn, &checked).await?;
            let out = checked
                .into_iter()
                .map(|c| match c {
                    Checked::Done(planned) => planned,
                    Checked::New(new) => new.plan(job, &taken),
                })
                .collect();
            Ok(out)
        })
    }
}

/// The first level whose regions know the name; an ambiguous name stops the search.
fn resolve_region(regions: &[RegionIndex], place: &str) -> Result<String, RegionMiss> {
    for index in regions {
        match index.resolve(place) {
            Ok(c) => return Ok(c),
            Err(e) if e.0 == "import.region_ambiguous" => return Err(e),
            Err(_) => {}
        }
    }
    Err(("import.region_not_found", place.to_owned()))
}

/// A row checked against the organisations in scope; a new organisation's name and code are
/// still to be checked against every registered one.
enum Checked {
    Done(Planned),
    New(NewOrg),
}

struct NewOrg {
    number: usize,
    label: String,
    uscc: Option<String>,
    input: OrgInput,
}

/// The credit codes and names of a sheet's new organisations already registered anywhere.
struct Taken {
    usccs: HashSet<String>,
    names: HashSet<(String, String)>,
}

impl Taken {
    async fn load(conn: &mut Conn, checked: &[Checked]) -> WebResult<Self> {
        let new = || {
            checked.iter().filter_map(|c| match c {
                Checked::New(n) => Some(n),
                Checked::Done(_) => None,
            })
        };
        let usccs: Vec<String> = new().filter_map(|n| n.uscc.clone()).collect();
        let names: Vec<String> = new().map(|n| n.input.name.trim().to_owned()).collect();
        let (usccs, names) = lookups::org_keys_taken(conn, &usccs, &names).await?;
        Ok(Self { usccs, names })
    }
}

impl NewOrg {
    /// Registered anywhere under the same credit code, or the same name in the same region:
    /// refused (as `orgs::create_full` refuses it).
    fn plan(self, job: &Job<'_>, taken: &Taken) -> Planned {
        let region = self.input.region.as_str().to_owned();
        let refused = if self.uscc.as_ref().is_some_and(|u| taken.usccs.contains(u)) {
            Some(("uscc", "org.uscc_taken"))
        } else if taken
            .names
            .contains(&(region, self.input.name.trim().to_owned()))
        {
            Some(("name", "org.name_taken"))
        } else {
            None
        };
        let errors = refused
            .map(|(field, code)| CellMessage {
                column: job.cells(&COLUMNS).label(field),
                raw: String::new(),
                message: job.t.get(code).to_owned(),
            })
            .into_iter()
            .collect();
        let change = OrgChange {
            existing: None,
            input: self.input,
        };
        Planned::new(
            self.number,
            self.label,
            Action::Create,
            errors,
            Some(Box::new(change)),
        )
    }
}

fn check_row(
    job: &Job<'_>,
    regions: &[RegionIndex],
    known: &OrgIndex,
    seen: &mut HashMap<String, usize>,
    row: &Row,
) -> Checked {
    let cells = job.cells(&COLUMNS);
    let mut errors = cells.parse_errors(row, |e| e.raw.clone());
    let place = row.text("region");
    let region = if place.is_empty() {
        None
    } else {
        resolve_region(regions, &place)
            .map_err(|(code, extra)| errors.push(cells.say("region", code, &place, &extra)))
            .ok()
    };
    let name = row.text("name");
    let uscc = row.text("uscc");
    let invalid = |errors| {
        Checked::Done(Planned::new(
            row.number,
            name.clone(),
            Action::Invalid,
            errors,
            None,
        ))
    };
    let Some(region) = region.filter(|_| errors.is_empty()) else {
        return invalid(errors);
    };
    let key = if uscc.is_empty() {
        format!("{region}/{}", name.trim())
    } else {
        uscc.to_ascii_uppercase()
    };
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
    let f = FormData::new(
        [
            ("name", name.clone()),
            ("uscc", uscc),
            ("kind", row.code("kind").unwrap_or("").to_owned()),
            ("region", region.clone()),
            ("legal_rep", row.text("legal_rep")),
            ("contact_name", row.text("contact_name")),
            ("contact_phone", row.text("contact_phone")),
            ("address", row.text("address")),
            ("rating", row.code("rating").unwrap_or("").to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect(),
    );
    let mut input = match crate::network::orgs::parse(&f) {
        Ok(input) => input,
        Err(field_errors) => {
            errors.extend(cells.field_errors(field_errors));
            return invalid(errors);
        }
    };
    let uscc = input.uscc.as_deref().map(|u| match check_uscc(u) {
        Ok(UsccCheck::Valid(s) | UsccCheck::CheckMismatch(s)) => s,
        Err(_) => String::new(),
    });
    let Some(e) = known.by_key(uscc.as_deref(), &region, &name) else {
        return Checked::New(NewOrg {
            number: row.number,
            label: name,
            uscc,
            input,
        });
    };
    // Registered (and maintained) elsewhere: visible here only because it operates a station
    // in scope.
    if !job.scope().contains_region(&e.region_code) {
        errors.push(cells.say("name", "org.registered_elsewhere", &name, ""));
        return invalid(errors);
    }
    keep_stored(&mut input, e, row);
    let action = if unchanged(e, &input, uscc.as_ref()) {
        Action::Unchanged
    } else {
        Action::Update
    };
    let change = OrgChange {
        existing: Some(e.id.clone()),
        input,
    };
    Checked::Done(Planned::new(
        row.number,
        name,
        action,
        errors,
        Some(Box::new(change)),
    ))
}

/// What the sheet leaves empty keeps the stored value; the status is not the sheet's to change.
fn keep_stored(input: &mut OrgInput, e: &Org, row: &Row) {
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
    if row.code("rating").is_none() {
        input.rating = Rating::parse(&e.rating).unwrap_or(input.rating);
    }
    input.active = e.status == "active";
}

fn unchanged(e: &Org, input: &OrgInput, uscc: Option<&String>) -> bool {
    e.name == input.name.trim()
        && e.kind == input.kind.as_str()
        && e.region_code == input.region.as_str()
        && e.legal_rep == input.legal_rep.trim()
        && e.contact_name == input.contact_name.trim()
        && e.contact_phone == input.contact_phone.trim()
        && e.address == input.address.trim()
        && e.rating == input.rating.as_str()
        && e.uscc.as_ref() == uscc
}

/// An organisation to create or update.
struct OrgChange {
    existing: Option<String>,
    input: OrgInput,
}

impl Change for OrgChange {
    fn apply<'a>(&'a self, job: &'a Job<'a>, tx: &'a mut Conn) -> BoxFuture<'a, StoreResult<()>> {
        Box::pin(async move {
            let scope = job.scope();
            match &self.existing {
                Some(id) => orgs::update(tx, &scope, id, &self.input, job.now)
                    .await
                    .map(drop),
                None => orgs::create_full(tx, &scope, &self.input, job.now)
                    .await
                    .map(drop),
            }
        })
    }
}
