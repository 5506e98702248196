//! Reading sheets: headers, layouts, limits and messages, on real-world and hostile files.

use super::*;
use crate::import::header::header_key;
use crate::import::limits::Refusal;
use crate::import::mapping::Mapping;
use crate::import::schema::{CellError, Column, Kind, Row, Value};
use crate::import::template::{LIST_SHEET, template};
use crate::ui::i18n::{Lang, Tr};
use rust_xlsxwriter::ExcelDateTime;
use rust_xlsxwriter::{Format, Formula, Workbook, Worksheet};

const STATUS: &[(&str, &[&str])] = &[
    ("built", &["已建成", "建成"]),
    ("building", &["在建", "建设中"]),
    ("planned", &["规划", "未建"]),
];

const fn column(
    key: &'static str,
    label_zh: &'static str,
    synonyms: &'static [&'static str],
    required: bool,
    kind: Kind,
) -> Column {
    Column {
        key,
        label_zh,
        label_en: key,
        synonyms,
        required,
        kind,
        hint_zh: "",
        hint_en: "",
    }
}

static COLUMNS: &[Column] = &[
    Column {
        label_en: "Station name",
        hint_zh: "填写社工站全称。",
        hint_en: "The station's full name.",
        ..column(
            "name",
            "社工站名称",
            &["站点名称", "名称"],
            true,
            Kind::Text { max_chars: 20 },
        )
    },
    column(
        "township",
        "所在乡镇（街道）",
        &["乡镇街道", "乡镇", "街道", "township"],
        true,
        Kind::Region,
    ),
    column("code", "区划代码", &[], false, Kind::Text { max_chars: 12 }),
    column("staff", "驻站社工人数", &[], false, Kind::Integer),
    column(
        "funding",
        "建设资金（元）",
        &["建设资金"],
        false,
        Kind::Money,
    ),
    column("area", "场地面积（㎡）", &["场地面积"], false, Kind::Area),
    column("opened", "挂牌日期", &[], false, Kind::Date),
    column("month", "统计月份", &[], false, Kind::Month),
    column("status", "建设状态", &["状态"], true, Kind::Choice(STATUS)),
    column("longitude", "经度", &[], false, Kind::Decimal),
];

static SCHEMA: Schema = Schema {
    name_zh: "社工站",
    name_en: "Stations",
    columns: COLUMNS,
};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

fn row(
    number: usize,
    values: Vec<(&'static str, Value)>,
    errors: &[(&'static str, &'static str, &str)],
) -> Row {
    Row {
        number,
        values: values.into_iter().collect(),
        errors: errors
            .iter()
            .map(|&(column, code, raw)| CellError {
                column,
                code,
                raw: raw.to_owned(),
            })
            .collect(),
    }
}

/// Writes rows from `top` down, cells separated by "|"; an empty cell stays empty.
fn write_rows(sheet: &mut Worksheet, top: u32, rows: &[&str]) {
    for (r, cells) in (top..).zip(rows) {
        for (c, cell) in (0u16..).zip(cells.split('|')) {
            if !cell.is_empty() {
                sheet.write_string(r, c, cell).unwrap();
            }
        }
    }
}

fn xlsx(sheets: Vec<Worksheet>) -> Vec<u8> {
    let mut workbook = Workbook::new();
    for sheet in sheets {
        workbook.push_worksheet(sheet);
    }
    workbook.save_to_buffer().unwrap()
}

fn sheet(name: &str, rows: &[&str]) -> Worksheet {
    let mut sheet = Worksheet::new();
    sheet.set_name(name).unwrap();
    write_rows(&mut sheet, 0, rows);
    sheet
}

/// The rows `reads_a_messy_real_world_sheet` reads.
fn messy_sheet_rows() -> Vec<Row> {
    let jan = || Value::Month(2023, 1);
    vec![
        row(
            5,
            vec![
                ("name", text("芦淞区建宁街道社工站")),
                ("township", text("建宁街道")),
                ("code", text("430203001")),
                ("staff", Value::Int(12)),
                ("funding", Value::Fen(1_500_000)),
                ("area", Value::Area(30)),
                ("opened", Value::Date(date(2023, 1, 5))),
                ("month", jan()),
                ("status", Value::Code("built")),
                ("longitude", Value::Decimal(112.98)),
            ],
            &[],
        ),
        row(
            7,
            vec![
                ("name", text("荷塘区月塘街道社工站")),
                ("township", text("月塘街道")),
                ("code", text("430202006")),
                ("staff", Value::Int(3)),
                ("funding", Value::Fen(1_500_000)),
                ("area", Value::Area(31)),
                ("opened", Value::Date(date(2023, 1, 5))),
                ("month", jan()),
                ("status", Value::Code("building")),
                ("longitude", Value::Decimal(113.1)),
            ],
            &[],
        ),
        row(
            8,
            vec![
                ("name", text("石峰区清水塘街道社工站")),
                ("township", text("清水塘 街道")),
                ("staff", Value::Int(3)),
                ("funding", Value::Fen(1_500_050)),
                ("area", Value::Area(30)),
                ("opened", Value::Date(date(2023, 1, 5))),
                ("month", jan()),
                ("status", Value::Code("built")),
                ("longitude", Value::Decimal(112.98)),
            ],
            &[],
        ),
        row(
            9,
            vec![
                ("name", text("天元区嵩山路街道社工站")),
                ("township", text("嵩山路街道")),
                ("opened", Value::Date(date(2023, 1, 5))),
                ("month", jan()),
                ("status", Value::Code("planned")),
            ],
            &[],
        ),
        row(
            10,
            vec![
                ("name", text("渌口区渌口镇社工站")),
                ("township", text("渌口镇")),
                ("funding", Value::Fen(100_000)),
                ("opened", Value::Date(date(2023, 1, 5))),
                ("status", Value::Code("building")),
            ],
            &[],
        ),
        row(
            11,
            vec![],
            &[
                ("name", "import.required", ""),
                ("township", "import.required", ""),
                ("staff", "import.approximate", "二十多人"),
                ("funding", "import.negative", "-100"),
                ("area", "import.not_a_number", "abc"),
                ("opened", "import.bad_date", "2023-02-30"),
                ("month", "import.bad_month", "2023-13"),
                ("status", "import.bad_choice", "拆除"),
                ("longitude", "import.bad_cell", "#N/A"),
            ],
        ),
        row(
            12,
            vec![
                ("township", text("群丰镇")),
                ("status", Value::Code("built")),
            ],
            &[(
                "name",
                "import.too_long",
                "株洲市天元区群丰镇社会工作服务站(试点站)",
            )],
        ),
    ]
}

#[test]
fn reads_a_messy_real_world_sheet() {
    let mut ws = sheet("汇总", &[]);
    let title = "株洲市社工站建设情况统计表（2024年）";
    ws.merge_range(0, 0, 0, 10, title, &Format::new()).unwrap();
    // Excel row 3 stays blank, row 6 too.
    let rows = [
        "填报日期：2024年3月1日",
        "",
        "社工站名称 *|乡镇街道|区划代码|驻站社工\n人数|建设资金|场地面积|挂牌日期(选填)|统计月份|建设状态＊| 经  度 |备注",
        "芦淞区建宁街道社工站| 建宁街道 ||１２|1.5万|30㎡|2023-01-05|2023-01|已建成|112°58′48″|新建",
        "",
        "荷塘区月塘街道社工站|月塘街道|430202006|3人|15,000元|30.5平方米|2023/1/5|2023年1月|建设中",
        "石峰区清水塘街道社工站|清水塘\u{3000}街道||||30 m2|2023年1月5日||BUILT|112.98",
        "天元区嵩山路街道社工站|嵩山路街道|||||20230105|202301|规划",
        "渌口区渌口镇社工站|渌口镇|||0.1万||||在建",
        "|||二十多人|-100|abc|2023-02-30|2023-13|拆除",
        "株洲市天元区群丰镇社会工作服务站（试点站）|群丰镇|||||||已建成",
    ];
    write_rows(&mut ws, 1, &rows);
    // An ID-like code stored as a number (Excel shows 4.30203001E8 in narrow columns).
    ws.write_number(4, 2, 430203001.0).unwrap();
    ws.write_number(7, 3, 3.0).unwrap();
    ws.write_number(7, 4, 15000.5).unwrap();
    ws.write_number(6, 9, 113.1).unwrap();
    let jan5 = ExcelDateTime::from_ymd(2023, 1, 5).unwrap();
    ws.write_datetime_with_format(7, 7, &jan5, &Format::new().set_num_format("yyyy-mm"))
        .unwrap();
    ws.write_datetime_with_format(9, 6, &jan5, &Format::new().set_num_format("yyyy-mm-dd"))
        .unwrap();
    ws.write_formula(10, 9, Formula::new("=NA()").set_result("#N/A"))
        .unwrap();

    let parsed = read(&SCHEMA, &xlsx(vec![ws])).unwrap();
    assert_eq!(parsed.sheet, "汇总");
    assert_eq!(parsed.header_row, 4);
    assert_eq!(parsed.unknown_headers, ["备注"]);
    assert_eq!(parsed.rows, messy_sheet_rows());
}

#[test]
fn reads_the_first_visible_sheet_with_a_header() {
    let notes = sheet("说明", &["请在“社工站”表中填写。"]);
    let mut hidden = sheet("旧数据", &["社工站名称|乡镇|建设状态", "旧站|旧镇|已建成"]);
    hidden.set_hidden(true);
    let data = sheet(
        "社工站",
        &[
            "社工站名称(必填)|所在乡镇（街道）|所在乡镇(街道)|建设状态",
            "建宁街道社工站|建宁街道|重复的列|已建成",
        ],
    );
    let parsed = read(&SCHEMA, &xlsx(vec![notes, hidden, data])).unwrap();
    assert_eq!(parsed.sheet, "社工站");
    assert_eq!(parsed.header_row, 1);
    assert_eq!(parsed.unknown_headers, ["所在乡镇(街道)"]);
    assert_eq!(
        parsed.rows,
        [row(
            2,
            vec![
                ("name", text("建宁街道社工站")),
                ("township", text("建宁街道")),
                ("status", Value::Code("built")),
            ],
            &[],
        )]
    );
}

#[test]
fn reads_csv_with_bom_and_quoted_fields() {
    let csv = "\u{FEFF}序号,社工站名称,乡镇,建设状态,场地面积\r\n\
               1,\"建宁街道社工站\",\"建宁街道\",已建成,\"1,200平米\"\r\n\
               2,,,,\r\n\
               3,\"月塘\"\"新\"\"站\",\"月塘\n街道\",在建,\n";
    let parsed = read(&SCHEMA, csv.as_bytes()).unwrap();
    assert_eq!(parsed.sheet, "CSV");
    assert_eq!(parsed.header_row, 1);
    assert_eq!(parsed.unknown_headers, ["序号"]);
    // Row 3 holds only a sequence number, as pre-numbered templates do: skipped.
    assert_eq!(
        parsed.rows,
        [
            row(
                2,
                vec![
                    ("name", text("建宁街道社工站")),
                    ("township", text("建宁街道")),
                    ("status", Value::Code("built")),
                    ("area", Value::Area(1200)),
                ],
                &[],
            ),
            row(
                4,
                vec![
                    ("name", text("月塘\"新\"站")),
                    ("township", text("月塘 街道")),
                    ("status", Value::Code("building")),
                ],
                &[],
            ),
        ]
    );
}

#[test]
fn template_reads_back_with_its_header_and_no_rows() {
    let townships: Vec<String> = (1..=80).map(|i| format!("第{i}街道")).collect();
    for chinese in [true, false] {
        let bytes = template(
            &SCHEMA,
            chinese,
            &[("township", townships.clone())],
            &Default::default(),
        )
        .unwrap();
        let parsed = read(&SCHEMA, &bytes).unwrap();
        let expected = Parsed {
            sheet: if chinese { "社工站" } else { "Stations" }.to_owned(),
            header_row: 1,
            rows: vec![],
            unknown_headers: vec![],
            skipped: vec![],
        };
        assert_eq!(parsed, expected);

        // The township list is too long to inline: it lives on a hidden sheet.
        let mut workbook = calamine::open_workbook_auto_from_rs(Cursor::new(&bytes)).unwrap();
        let sheets: Vec<_> = workbook
            .sheets_metadata()
            .iter()
            .map(|s| (s.name.clone(), s.visible))
            .collect();
        let instructions = if chinese {
            "填写说明"
        } else {
            "Instructions"
        };
        assert_eq!(
            sheets,
            [
                (expected.sheet.clone(), SheetVisible::Visible),
                (instructions.to_owned(), SheetVisible::Visible),
                (LIST_SHEET.to_owned(), SheetVisible::Hidden),
            ]
        );
        let lists = workbook.worksheet_range(LIST_SHEET).unwrap();
        assert_eq!(lists.height(), 80);
        assert_eq!(
            lists.get((79, 0)),
            Some(&Data::String("第80街道".to_owned()))
        );
    }
    assert!(template(&SCHEMA, true, &[("nope", vec![])], &Default::default()).is_err());
}

#[test]
fn garbage_is_unreadable() {
    assert_eq!(
        read(&SCHEMA, b"\x00\x9f\x92\x96garbage\xff"),
        Err(ImportError::Unreadable)
    );
    assert_eq!(
        read(&SCHEMA, b"PK\x03\x04truncated zip"),
        Err(ImportError::Unreadable)
    );
}

#[test]
fn a_sheet_without_a_matching_header_has_no_header() {
    let bytes = xlsx(vec![sheet("人员", &["姓名|年龄", "张三|30"])]);
    assert_eq!(read(&SCHEMA, &bytes), Err(ImportError::NoHeader));
}

#[test]
fn a_missing_required_column_leaves_every_row_to_preview_in_error() {
    let bytes = xlsx(vec![sheet("社工站", &["名称|乡镇", "A站|建宁街道"])]);
    let parsed = read(&SCHEMA, &bytes).unwrap();
    assert_eq!(
        parsed.rows,
        [row(
            2,
            vec![("name", text("A站")), ("township", text("建宁街道"))],
            &[("status", "import.required", "")],
        )]
    );
}

#[test]
fn a_default_fills_a_missing_column_for_every_row() {
    let raw = read_raw(
        &SCHEMA,
        "名称,乡镇\nA站,建宁街道\nB站,月塘街道\n".as_bytes(),
        &ImportLimits::default(),
    )
    .unwrap();
    let mut mapping = Mapping::auto(&SCHEMA, &raw.headers);
    mapping.defaults.insert("status".into(), "built".into());
    // A code that is not one of the column's choices, or a default for a column the sheet
    // has, is dropped.
    mapping.defaults.insert("name".into(), "x".into());
    let mapping = mapping.checked(&SCHEMA, raw.headers.len());
    assert_eq!(mapping.defaults.len(), 1);
    let parsed = mapping.rows(&SCHEMA, &raw);
    assert_eq!(
        parsed
            .rows
            .iter()
            .map(|r| r.code("status"))
            .collect::<Vec<_>>(),
        [Some("built"), Some("built")]
    );
    assert!(parsed.rows.iter().all(|r| r.errors.is_empty()));
}

#[test]
fn title_blank_total_and_repeated_lines_are_set_aside_with_the_reason() {
    let csv = "社工站统计表\n填报单位：某县民政局\n社工站名称,乡镇,建设状态,建设资金\n\
               A站,建宁街道,已建成,10\n\
               \n\
               B站,月塘街道,在建,5\n\
               A站,建宁街道,已建成,10\n\
               全县合计,,,15\n\
               ,,,\n";
    let raw = read_raw(&SCHEMA, csv.as_bytes(), &ImportLimits::default()).unwrap();
    assert_eq!(raw.header_row, 3);
    assert_eq!(
        raw.rows.iter().map(|r| r.number).collect::<Vec<_>>(),
        [4, 6]
    );
    assert_eq!(
        raw.skipped,
        [
            Skipped {
                number: 1,
                skip: Skip::AboveHeader
            },
            Skipped {
                number: 2,
                skip: Skip::AboveHeader
            },
            Skipped {
                number: 5,
                skip: Skip::Blank
            },
            Skipped {
                number: 7,
                skip: Skip::Repeat(4)
            },
            Skipped {
                number: 8,
                skip: Skip::Total
            },
        ]
    );
}

#[test]
fn merged_cells_read_as_their_value() {
    let mut ws = sheet(
        "社工站",
        &["社工站名称|乡镇|建设状态", "A站|建宁街道|已建成", "B站||"],
    );
    // The township and the status merged down two rows, as offices do for a shared value.
    ws.merge_range(1, 1, 2, 1, "建宁街道", &Format::new())
        .unwrap();
    ws.merge_range(1, 2, 2, 2, "已建成", &Format::new())
        .unwrap();
    let parsed = read(&SCHEMA, &xlsx(vec![ws])).unwrap();
    assert_eq!(
        parsed
            .rows
            .iter()
            .map(|r| (r.text("name"), r.text("township"), r.code("status")))
            .collect::<Vec<_>>(),
        [
            ("A站".to_owned(), "建宁街道".to_owned(), Some("built")),
            ("B站".to_owned(), "建宁街道".to_owned(), Some("built")),
        ]
    );
}

#[test]
fn too_many_rows_are_refused_with_their_count() {
    let mut csv = String::from("社工站名称,乡镇,建设状态\n");
    for i in 0..=MAX_ROWS {
        csv.push_str(&format!("站{i},镇,已建成\n"));
    }
    assert_eq!(
        read(&SCHEMA, csv.as_bytes()),
        Err(ImportError::TooManyRows(MAX_ROWS + 1))
    );
}

/// `xlsx` with its first sheet's XML passed through `edit` (entries copied as they are).
fn rewrite_sheet(xlsx: &[u8], edit: impl Fn(String) -> String) -> Vec<u8> {
    use std::io::Write;
    let mut archive = zip::ZipArchive::new(Cursor::new(xlsx)).unwrap();
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let name = entry.name().unwrap().into_owned();
        let mut content = Vec::new();
        entry.read_to_end(&mut content).unwrap();
        if name == "xl/worksheets/sheet1.xml" {
            content = edit(String::from_utf8(content).unwrap()).into_bytes();
        }
        out.start_file(name, options).unwrap();
        out.write_all(&content).unwrap();
    }
    out.finish().unwrap().into_inner()
}

/// A header row, one station and one cell at XFD1048576 (Excel's last cell).
fn far_cell_xlsx() -> Vec<u8> {
    let mut ws = sheet(
        "社工站",
        &["社工站名称|乡镇|建设状态", "建宁站|建宁街道|已建成"],
    );
    ws.write_string(1_048_575, 16_383, "x").unwrap();
    xlsx(vec![ws])
}

fn set_dimension(xml: String, to: &str) -> String {
    let start = xml.find("<dimension ref=\"").unwrap() + "<dimension ref=\"".len();
    let end = start + xml[start..].find('"').unwrap();
    format!("{}{to}{}", &xml[..start], &xml[end..])
}

fn refusal(result: Result<Parsed, ImportError>) -> Refusal {
    match result {
        Err(ImportError::Refused(r)) => r,
        other => panic!("not refused: {other:?}"),
    }
}

#[test]
fn a_cell_at_xfd1048576_is_refused_without_building_the_grid() {
    // As written, the sheet declares A1:XFD1048576: refused before a cell is read.
    let bytes = far_cell_xlsx();
    assert!(bytes.len() < 8 * 1024, "{}", bytes.len());
    let r = refusal(read(&SCHEMA, &bytes));
    assert_eq!(
        r,
        Refusal::Declared {
            sheet: "社工站".into(),
            rows: 1_048_576,
            columns: 16_384,
            max_rows: 200_000,
            max_columns: 256
        }
    );
    // Declaring a small sheet does not help: the cell itself is refused while streaming
    // (calamine's `worksheet_range` allocated 512 GiB here and aborted the process).
    let lying = rewrite_sheet(&bytes, |xml| set_dimension(xml, "A1:C2"));
    let r = refusal(read(&SCHEMA, &lying));
    assert_eq!(
        r,
        Refusal::CellOutside {
            cell: "XFD1048576".into(),
            max_rows: 200_000,
            max_columns: 256
        }
    );
    assert_eq!(r.status(), axum::http::StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        r.message(&Tr::new(Lang::Zh)),
        "单元格 XFD1048576 超出上限 200,000 行 × 256 列。请删除表格右侧或下方多余的内容后重新导入。"
    );
    // Without any dimension at all, the same.
    let bare = rewrite_sheet(&bytes, |xml| {
        let start = xml.find("<dimension").unwrap();
        let end = start + xml[start..].find("/>").unwrap() + 2;
        format!("{}{}", &xml[..start], &xml[end..])
    });
    assert!(matches!(
        refusal(read(&SCHEMA, &bare)),
        Refusal::CellOutside { .. }
    ));
}

#[test]
fn a_declared_huge_dimension_with_two_cells_is_refused() {
    let small = xlsx(vec![sheet("社工站", &["社工站名称|乡镇"])]);
    let declared = rewrite_sheet(&small, |xml| set_dimension(xml, "A1:XFD1048576"));
    let r = refusal(read(&SCHEMA, &declared));
    assert!(
        matches!(
            r,
            Refusal::Declared {
                rows: 1_048_576,
                columns: 16_384,
                ..
            }
        ),
        "{r:?}"
    );
    // Within rows and columns but over the cell count.
    let limits = ImportLimits {
        max_cells: 1_000,
        ..ImportLimits::default()
    };
    let wide = rewrite_sheet(&small, |xml| set_dimension(xml, "A1:J200"));
    assert_eq!(
        refusal(read_with(&SCHEMA, &wide, &limits)),
        Refusal::DeclaredCells {
            sheet: "社工站".into(),
            found: 2_000,
            max: 1_000
        }
    );
}

#[test]
fn a_bomb_and_a_lying_entry_are_refused_before_calamine_opens_them() {
    let normal = xlsx(vec![sheet("社工站", &["社工站名称|乡镇|建设状态"])]);
    // 200 MB of spaces after the sheet's XML: a few hundred KB compressed.
    let bomb = rewrite_sheet(&normal, |xml| xml + &" ".repeat(200 * 1024 * 1024));
    assert!(bomb.len() < 1024 * 1024, "{}", bomb.len());
    let r = refusal(read(&SCHEMA, &bomb));
    assert!(matches!(r, Refusal::Ratio { .. }), "{r:?}");
    assert_eq!(r.status(), axum::http::StatusCode::UNPROCESSABLE_ENTITY);
    let limits = ImportLimits {
        max_ratio: 100_000,
        ..ImportLimits::default()
    };
    let limits = ImportLimits {
        max_entry_bytes: 64 * 1024 * 1024,
        ..limits
    };
    assert!(matches!(
        refusal(read_with(&SCHEMA, &bomb, &limits)),
        Refusal::EntryBytes { .. }
    ));

    // The sheet entry declares 50 bytes fewer than it holds.
    // (Rewritten first: rust_xlsxwriter leaves the local header's sizes to a data descriptor.)
    let mut lying = rewrite_sheet(&normal, |xml| xml);
    let name = b"xl/worksheets/sheet1.xml";
    for signature in [&b"PK\x03\x04"[..], b"PK\x01\x02"] {
        // The local header (size at +22, name at +30) and the central entry (+24, +46).
        let (size_at, name_at) = if signature == b"PK\x03\x04" {
            (22, 30)
        } else {
            (24, 46)
        };
        let at = (0..lying.len() - name_at - name.len())
            .find(|&i| lying[i..].starts_with(signature) && lying[i + name_at..].starts_with(name))
            .unwrap();
        let field = at + size_at;
        let size = u32::from_le_bytes(lying[field..field + 4].try_into().unwrap());
        lying[field..field + 4].copy_from_slice(&(size - 50).to_le_bytes());
    }
    let r = refusal(read(&SCHEMA, &lying));
    assert!(
        matches!(&r, Refusal::SizeMismatch { entry, .. } if entry == "xl/worksheets/sheet1.xml"),
        "{r:?}"
    );
}

#[test]
fn a_normal_workbook_reads_at_its_limits_and_not_past_them() {
    let rows = [
        "社工站名称|乡镇|建设状态",
        "建宁站|建宁街道|已建成",
        "月塘站|月塘街道|在建",
    ];
    let bytes = xlsx(vec![sheet("社工站", &rows)]);
    let exact = ImportLimits {
        max_rows: 3,
        max_columns: 3,
        max_cells: 9,
        ..ImportLimits::default()
    };
    let parsed = read_with(&SCHEMA, &bytes, &exact).unwrap();
    assert_eq!(parsed.rows.len(), 2);
    assert_eq!(parsed, read(&SCHEMA, &bytes).unwrap());
    let fewer_rows = ImportLimits {
        max_rows: 2,
        ..exact.clone()
    };
    assert!(matches!(
        refusal(read_with(&SCHEMA, &bytes, &fewer_rows)),
        Refusal::Declared { rows: 3, .. }
    ));
    let fewer_cells = ImportLimits {
        max_cells: 8,
        ..exact.clone()
    };
    assert!(matches!(
        refusal(read_with(&SCHEMA, &bytes, &fewer_cells)),
        Refusal::DeclaredCells { found: 9, .. }
    ));
    let small_file = ImportLimits {
        max_file_bytes: 1_000,
        ..exact
    };
    assert!(matches!(
        refusal(read_with(&SCHEMA, &bytes, &small_file)),
        Refusal::FileBytes { max: 1_000, .. }
    ));
}

#[test]
fn sparse_sheets_keep_their_offsets_and_row_numbers() {
    // Data from column C, a title in row 2, the header in row 5, a far row at 40: the same
    // table calamine's grid gave.
    let mut ws = sheet("社工站", &[]);
    ws.write_string(1, 3, "统计表").unwrap();
    write_rows(&mut ws, 4, &[]);
    for (c, h) in (2u16..).zip(["社工站名称", "乡镇", "建设状态"]) {
        ws.write_string(4, c, h).unwrap();
    }
    for (c, v) in (2u16..).zip(["建宁站", "建宁街道", "已建成"]) {
        ws.write_string(39, c, v).unwrap();
    }
    let parsed = read(&SCHEMA, &xlsx(vec![ws])).unwrap();
    assert_eq!(parsed.header_row, 5);
    assert_eq!(parsed.rows.len(), 1);
    assert_eq!(parsed.rows[0].number, 40);
    assert_eq!(parsed.rows[0].values["name"], text("建宁站"));
}

#[test]
fn csv_is_bounded_while_it_is_split() {
    let limits = ImportLimits {
        max_rows: 3,
        max_columns: 4,
        ..ImportLimits::default()
    };
    let csv = "社工站名称,乡镇,建设状态\n建宁站,建宁街道,已建成\n";
    assert_eq!(
        read_with(&SCHEMA, csv.as_bytes(), &limits)
            .unwrap()
            .rows
            .len(),
        1
    );
    let long = format!("{csv}a,b,c\nd,e,f\n");
    assert_eq!(
        refusal(read_with(&SCHEMA, long.as_bytes(), &limits)),
        Refusal::Rows { max: 3 }
    );
    // A record of a million separators is refused at the fifth field, not after splitting.
    let wide = format!("{csv}{}\n", ",".repeat(1_000_000));
    assert_eq!(
        refusal(read_with(&SCHEMA, wide.as_bytes(), &limits)),
        Refusal::Columns {
            row: 3,
            found: 5,
            max: 4
        }
    );
}

#[test]
fn normalizes_text_and_headers() {
    assert_eq!(
        normalize("\u{3000}ＡＢＣ１２\u{A0}\u{A0}x\u{200B}y \n z\u{FEFF} "),
        "ABC12 xy z"
    );
    assert_eq!(header_key("所在乡镇（街道）＊"), "所在乡镇(街道)");
    assert_eq!(header_key(" 建设\n状态 (必填)"), "建设状态");
    assert_eq!(header_key("*Township (选填) *"), "township");
}

#[test]
fn numbers_read_as_excel_shows_them() {
    assert_eq!(number_text(4.30203001e8), "430203001");
    assert_eq!(number_text(3.0), "3");
    assert_eq!(number_text(-0.0), "0");
    assert_eq!(number_text(1e20), "100000000000000000000");
    assert_eq!(number_text(0.1 + 0.2), "0.3");
    assert_eq!(number_text(15000.5), "15000.5");
    assert_eq!(number_text(0.000123), "0.000123");
    assert_eq!(number_text(1e15 + 0.5), "1000000000000000");
}

#[test]
fn messages_fill_in_their_details() {
    let zh = Tr::new(Lang::Zh);
    let error = |column, code| CellError {
        column,
        code,
        raw: String::new(),
    };
    assert_eq!(
        error("name", "import.too_long").message(&SCHEMA, &zh),
        "内容过长，最多 20 个字。"
    );
    assert_eq!(
        error("status", "import.bad_choice").message(&SCHEMA, &zh),
        "不是可选的值，应为以下之一：已建成、在建、规划。"
    );
    let en = Tr::new(Lang::En);
    assert!(
        ImportError::TooManyRows(200_001)
            .message(&en)
            .contains("200001")
    );
}

/// Every "import.*" key this file uses is in both catalogues (which have the same keys).
#[test]
fn every_message_key_exists() {
    let source = [
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/import/schema.rs")),
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/import/sheet.rs")),
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/import/cells.rs")),
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src/import/template.rs"
        )),
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src/import/sheet_tests.rs"
        )),
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/import/flow.rs")),
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/import/jobs.rs")),
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src/import/mapping.rs"
        )),
    ]
    .concat();
    let keys: BTreeSet<&str> = source
        .split('"')
        .filter(|s| {
            s.starts_with("import.")
                && !s.ends_with('.')
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'.' || b == b'_')
        })
        .collect();
    assert!(keys.len() > 30, "{keys:?}");
    for key in keys {
        assert!(
            crate::ui::i18n::ZH.contains_key(key),
            "{key} missing in zh-CN/import.toml"
        );
        assert!(
            crate::ui::i18n::EN.contains_key(key),
            "{key} missing in en/import.toml"
        );
    }
}

#[test]
fn rows_read_one_at_a_time_are_the_rows_read_at_once() {
    let csv = "社工站名称,乡镇,备注\nA站,建宁街道,\n,,只有备注\nB站,月塘街道,x\n全县合计,,\n";
    let raw = read_raw(&SCHEMA, csv.as_bytes(), &ImportLimits::default()).unwrap();
    let mapping = Mapping::auto(&SCHEMA, &raw.headers);
    let parsed = mapping.rows(&SCHEMA, &raw);
    assert_eq!(
        parsed.rows.iter().map(|r| r.number).collect::<Vec<_>>(),
        [2, 4]
    );
    assert_eq!(
        parsed.skipped,
        [
            Skipped {
                number: 3,
                skip: Skip::NothingImported
            },
            Skipped {
                number: 5,
                skip: Skip::Total
            },
        ]
    );
    assert_eq!(mapping.skipped(&SCHEMA, &raw), parsed.skipped);
    let one_by_one: Vec<_> = mapping
        .into_rows(&SCHEMA, &raw.headers, raw.rows.clone())
        .collect();
    assert_eq!(one_by_one, parsed.rows);
}
