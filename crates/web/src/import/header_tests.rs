use super::*;
use crate::import::schema::col;

static TEST_SCHEMA: Schema = Schema {
    name_zh: "测试",
    name_en: "Test",
    columns: &[
        col!(
            "county",
            "所属县（市、区）",
            "County",
            [],
            false,
            Kind::Region,
            "",
            ""
        ),
        col!(
            "township",
            "所在乡镇（街道）",
            "Township",
            ["乡镇"],
            true,
            Kind::Region,
            "",
            ""
        ),
        col!(
            "funding",
            "本年度经费（元）",
            "Funding (yuan)",
            ["配备资金", "年度经费（万元）"],
            false,
            Kind::Money,
            "",
            ""
        ),
        col!(
            "area_m2",
            "场地面积（㎡）",
            "Area (m²)",
            [],
            false,
            Kind::Area,
            "",
            ""
        ),
        col!(
            "staff_count",
            "工作人员数",
            "Staff",
            [],
            false,
            Kind::Integer,
            "",
            ""
        ),
    ],
};

fn matched(header: &str) -> Option<(&'static str, Option<Unit>)> {
    match_header(&TEST_SCHEMA, header).map(|m| (m.key, m.unit))
}

const WAN: Option<Unit> = Some(Unit::Money(MoneyUnit::TenThousandYuan));
const YUAN: Option<Unit> = Some(Unit::Money(MoneyUnit::Yuan));
const M2: Option<Unit> = Some(Unit::SquareMetre);

#[test]
fn header_keys_are_normalised() {
    for (header, key) in [
        ("所在乡镇（街道）＊", "所在乡镇(街道)"),
        (" 建设\n状态 (必填)", "建设状态"),
        ("*Township (选填) *", "township"),
        ("所属县【市、区】", "所属县(市、区)"),
        ("所属县〔市、区〕", "所属县(市、区)"),
        ("所属县[市、区]", "所属县(市、区)"),
        ("配备资金\r\n（万元）", "配备资金(万元)"),
        ("姓名（必填）：", "姓名"),
        ("姓名必填", "姓名"),
        ("ＩＤ　Number", "idnumber"),
        ("必填", "必填"),
    ] {
        assert_eq!(header_key(header), key, "{header}");
    }
}

#[test]
fn headers_match_with_their_units() {
    for (header, expected) in [
        ("所属县（市、区）", Some(("county", None))),
        ("所属县", Some(("county", None))),
        ("所属县(市,区)", Some(("county", None))),
        ("所在乡镇（街道）", Some(("township", None))),
        ("所在乡镇", Some(("township", None))),
        ("乡镇【街道】", Some(("township", None))),
        ("township *", Some(("township", None))),
        ("本年度经费（元）", Some(("funding", YUAN))),
        ("本年度经费", Some(("funding", None))),
        ("配备资金（万元）", Some(("funding", WAN))),
        ("配备资金(单位：万元)", Some(("funding", WAN))),
        ("配备资金/万元", Some(("funding", WAN))),
        ("配备资金（元）", Some(("funding", YUAN))),
        (
            "配备资金（千元）",
            Some(("funding", Some(Unit::Money(MoneyUnit::ThousandYuan)))),
        ),
        (
            "配备资金【亿元】",
            Some(("funding", Some(Unit::Money(MoneyUnit::HundredMillionYuan)))),
        ),
        ("年度经费（万元）", Some(("funding", WAN))),
        ("Funding (yuan)", Some(("funding", YUAN))),
        ("场地面积（㎡）", Some(("area_m2", M2))),
        ("场地面积（平方米）", Some(("area_m2", M2))),
        ("场地面积", Some(("area_m2", None))),
        // A money unit says nothing about an area; a counter is no unit.
        ("场地面积（万元）", Some(("area_m2", None))),
        ("工作人员数（人）", Some(("staff_count", None))),
        ("工作人员数（万元）", Some(("staff_count", None))),
        // Units we cannot convert: better unmatched than read as square metres or yuan.
        ("场地面积（亩）", None),
        ("配备资金（美元）", None),
        ("工作人员数（万人）", None),
        ("", None),
        ("*", None),
        ("备注", None),
    ] {
        assert_eq!(matched(header), expected, "{header}");
    }
}

#[test]
fn units_of_headers_on_their_own() {
    for (header, unit) in [
        ("配备资金（万元）", WAN),
        ("资金【单位：元】", YUAN),
        ("面积/㎡", M2),
        ("人数（人）", None),
        ("面积（亩）", None),
        ("所属县（市、区）", None),
        ("经费", None),
    ] {
        assert_eq!(unit_in(header), unit, "{header}");
    }
}

/// Every importer's schema: each spelling of a column finds that very column, and no form
/// derived from two columns' spellings is shared.
#[test]
fn schemas_have_no_synonym_clashes() {
    let mut schemas = 0;
    for area in crate::AREAS {
        for importer in area.importers {
            let schema = importer.schema();
            schemas += 1;
            let index = HeaderIndex::new(schema);
            assert_eq!(index.ambiguous(), Vec::<&str>::new(), "{}", schema.name_en);
            for column in schema.columns {
                for spelling in spellings(column) {
                    assert_eq!(
                        index.find(spelling).map(|m| m.key),
                        Some(column.key),
                        "{}: {spelling}",
                        schema.name_en
                    );
                }
            }
        }
    }
    assert!(schemas >= 4, "{schemas} importers");
}

/// The county column the station and resident importers add: its synonyms clash with no other
/// column of theirs.
#[test]
fn county_synonyms_fit_stations_and_residents() {
    let county = col!(
        "county",
        "所属县（市、区）",
        "County",
        [],
        false,
        Kind::Region,
        "",
        ""
    );
    let county = Column {
        synonyms: COUNTY_SYNONYMS,
        ..county
    };
    for kind in ["stations", "residents"] {
        let importer = crate::AREAS
            .iter()
            .flat_map(|area| area.importers.iter())
            .find(|importer| importer.kind() == kind);
        let Some(importer) = importer else {
            panic!("no {kind} importer");
        };
        let schema = importer.schema();
        let has_county = schema.column("county").is_some();
        for synonym in COUNTY_SYNONYMS {
            assert_eq!(
                match_header(schema, synonym).map(|m| m.key),
                has_county.then_some("county"),
                "{kind}: {synonym}"
            );
        }
        let mut columns: Vec<Column> = schema.columns.to_vec();
        if !has_county {
            columns.push(county.clone());
        }
        let widened = Schema {
            columns: Vec::leak(columns),
            ..schema.clone()
        };
        let index = HeaderIndex::new(&widened);
        assert_eq!(index.ambiguous(), Vec::<&str>::new(), "{kind}");
        for synonym in COUNTY_SYNONYMS {
            assert_eq!(
                index.find(synonym).map(|m| m.key),
                Some("county"),
                "{synonym}"
            );
        }
    }
}

/// Headers of real provincial and county sheets reach the intended field.
#[test]
fn real_headers_reach_their_fields() {
    let schema_of = |kind: &str| {
        crate::AREAS
            .iter()
            .flat_map(|area| area.importers.iter())
            .find(|importer| importer.kind() == kind)
            .map(|importer| importer.schema())
    };
    for (kind, header, key) in [
        ("stations", "所在乡镇（街道）", "township"),
        ("stations", "乡镇街道", "township"),
        ("stations", "乡镇", "township"),
        ("stations", "具体地址", "address"),
        ("stations", "站点地址", "address"),
        ("stations", "配备资金（万元）", "funding"),
        ("stations", "资金（元）", "funding"),
        ("stations", "运营经费", "funding"),
        ("stations", "工作进度情况", "status"),
        ("stations", "建设进度", "status"),
        ("stations", "社工站（点）名称", "name"),
        ("stations", "场地面积(平方米)", "area_m2"),
        ("orgs", "所属县（市、区）", "region"),
        ("orgs", "负责人", "contact_name"),
        ("staff", "身份证号", "id_number"),
        ("staff", "公民身份号码", "id_number"),
        ("staff", "手机", "mobile"),
        ("residents", "公民身份号码", "id_number"),
        ("residents", "身份证号（18位）", "id_number"),
        ("residents", "出生年月", "birth_date"),
        ("residents", "性别", "sex"),
        ("residents", "民族", "ethnicity"),
        ("residents", "人员类别", "category"),
        ("residents", "救助类别", "category"),
        ("residents", "联系电话", "phone"),
        ("residents", "手机", "phone"),
    ] {
        let Some(schema) = schema_of(kind) else {
            panic!("no {kind} importer");
        };
        assert_eq!(
            match_header(schema, header).map(|m| m.key),
            Some(key),
            "{kind}: {header}"
        );
    }
    let stations = schema_of("stations").map(|s| match_header(s, "配备资金（万元）"));
    assert_eq!(stations.flatten().and_then(|m| m.unit), WAN);
}
