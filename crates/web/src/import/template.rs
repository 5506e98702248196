//! The downloadable template of an importer's schema: the header row with dropdowns and input
//! messages, and a sheet of instructions.

use rust_xlsxwriter::{
    DataValidation, DataValidationErrorStyle, Format, FormatAlign, FormatBorder, Formula, Workbook,
    Worksheet, XlsxError, worksheet_range_absolute,
};

use crate::import::cells::{choice_labels, first_labels};
use crate::import::schema::{Column, Kind, MAX_ROWS, Schema};
use crate::ui::i18n::{Lang, Tr};

/// Data rows the template prepares dropdowns and input messages for (rows 2..=1001).
const TEMPLATE_ROWS: u32 = 1000;
/// The hidden sheet holding dropdown lists too long to write inline.
pub(crate) const LIST_SHEET: &str = "lists";

/// A downloadable template: the header row on sheet 1 (bold, frozen, with dropdowns and input
/// messages), the instructions on sheet 2. `extra_lists` adds dropdowns whose values come from
/// the database, e.g. the townships in the user's scope: (column key, values). `guide` adds the
/// registry's own notes and example rows to the instructions.
pub fn template(
    schema: &Schema,
    chinese: bool,
    extra_lists: &[(&str, Vec<String>)],
    guide: &Guide,
) -> Result<Vec<u8>, anyhow::Error> {
    let t = Tr::new(if chinese { Lang::Zh } else { Lang::En });
    if let Some((key, _)) = extra_lists.iter().find(|(k, _)| schema.column(k).is_none()) {
        anyhow::bail!("no column {key} in the {} import schema", schema.name_en);
    }
    let header = header_format();
    // Codes typed into text columns must stay text: Excel turns 430203001001 into 4.30203E+11.
    let as_text = Format::new().set_num_format("@");
    let mut data = Worksheet::new();
    data.set_name(schema.name(t.lang))?;
    let mut lists = Worksheet::new();
    lists.set_name(LIST_SHEET)?.set_hidden(true);
    let mut list_count: u16 = 0;
    for (i, column) in schema.columns.iter().enumerate() {
        let col = u16::try_from(i)?;
        let label = column.header(t.lang);
        data.write_string_with_format(0, col, &label, &header)?;
        data.set_column_width(col, (display_width(&label) + 4).clamp(10, 40) as f64)?;
        if matches!(column.kind, Kind::Text { .. } | Kind::Region) {
            data.set_column_format(col, &as_text)?;
        }
        let choices = dropdown(column, extra_lists);
        let mut validation = if choices.is_empty() {
            DataValidation::new().allow_any_value()
        } else {
            let validation = if fits_inline(&choices) {
                DataValidation::new().allow_list_strings(&choices)?
            } else {
                for (row, choice) in choices.iter().enumerate() {
                    lists.write_string(u32::try_from(row)?, list_count, choice)?;
                }
                let last = u32::try_from(choices.len() - 1)?;
                let range = worksheet_range_absolute(LIST_SHEET, 0, list_count, last, list_count);
                list_count += 1;
                DataValidation::new().allow_list_formula(Formula::new(range))
            };
            // A warning, not a stop: the importer also accepts other spellings of a choice.
            validation
                .set_error_style(DataValidationErrorStyle::Warning)
                .set_error_title(t.get("import.template.not_in_list_title"))?
                .set_error_message(t.get("import.template.not_in_list"))?
        };
        let hint = column.hint(t.lang);
        if !hint.is_empty() {
            validation = validation
                .set_input_title(truncate_utf16(column.label(t.lang), 32))?
                .set_input_message(truncate_utf16(hint, 255))?;
        }
        data.add_data_validation(1, col, TEMPLATE_ROWS, col, &validation)?;
    }
    data.set_freeze_panes(1, 0)?;

    let mut workbook = Workbook::new();
    workbook.push_worksheet(data);
    workbook.push_worksheet(instructions(schema, &t, extra_lists, guide)?);
    if list_count > 0 {
        workbook.push_worksheet(lists);
    }
    Ok(workbook.save_to_buffer()?)
}

/// What a registry adds to its template's instructions: notes (message keys, one line each)
/// and example rows (cells in the schema's column order). The examples stay on the
/// instructions sheet, so a template filled in and uploaded never imports them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Guide {
    pub notes: &'static [&'static str],
    pub examples: &'static [&'static [&'static str]],
}

fn header_format() -> Format {
    Format::new()
        .set_bold()
        .set_background_color("#E8EEF6")
        .set_border(FormatBorder::Thin)
        .set_text_wrap()
}

/// The dropdown values for a column: the caller's list, else the first label of each choice.
fn dropdown(column: &Column, extra_lists: &[(&str, Vec<String>)]) -> Vec<String> {
    match (
        extra_lists.iter().find(|(k, _)| *k == column.key),
        column.kind,
    ) {
        (Some((_, values)), _) => values.clone(),
        (None, Kind::Choice(choices)) => first_labels(choices),
        (None, _) => Vec::new(),
    }
}

/// Excel limits an inline list to 255 characters including the separating commas, and an item
/// cannot contain a comma.
fn fits_inline(choices: &[String]) -> bool {
    let length: usize = choices.iter().map(|c| c.encode_utf16().count() + 1).sum();
    length <= 256 && !choices.iter().any(|c| c.contains(','))
}

/// Column width in Excel units: CJK characters take two.
fn display_width(s: &str) -> usize {
    s.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum()
}

/// Excel counts dialog text limits in UTF-16 units.
fn truncate_utf16(s: &str, max: usize) -> String {
    let mut used = 0;
    s.chars()
        .take_while(|c| {
            used += c.len_utf16();
            used <= max
        })
        .collect()
}

fn instructions(
    schema: &Schema,
    t: &Tr,
    extra_lists: &[(&str, Vec<String>)],
    guide: &Guide,
) -> Result<Worksheet, XlsxError> {
    let mut sheet = Worksheet::new();
    sheet.set_name(t.get("import.template.instructions"))?;
    let title = t.fmt("import.template.title", &[("name", schema.name(t.lang))]);
    sheet.write_string_with_format(0, 0, &title, &Format::new().set_bold())?;
    let max = MAX_ROWS.to_string();
    sheet.write_string(1, 0, t.get("import.template.note_header"))?;
    sheet.write_string(2, 0, t.fmt("import.template.note_rows", &[("max", &max)]))?;
    sheet.write_string(3, 0, t.get("import.template.note_dropdown"))?;
    let mut notes_end = 3;
    for (row, key) in (4u32..).zip(guide.notes) {
        sheet.write_string(row, 0, t.get(key))?;
        notes_end = row;
    }

    let table_top = notes_end + 2;
    let header = header_format();
    let headings = [
        "import.template.column",
        "import.template.required",
        "import.template.format",
        "import.template.hint",
    ];
    for (col, key) in (0u16..).zip(headings) {
        sheet.write_string_with_format(table_top, col, t.get(key), &header)?;
    }
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    for (row, column) in (table_top + 1..).zip(schema.columns) {
        let required = if column.required {
            "import.template.yes"
        } else {
            "import.template.no"
        };
        let mut format = format_description(column, t);
        if extra_lists.iter().any(|(k, _)| *k == column.key) {
            format = format!("{format} {}", t.get("import.format.list"));
        }
        let cells = [
            column.label(t.lang),
            t.get(required),
            &format,
            column.hint(t.lang),
        ];
        for (col, text) in (0u16..).zip(cells) {
            sheet.write_string_with_format(row, col, text, &wrap)?;
        }
    }
    for (col, width) in (0u16..).zip([24, 10, 48, 48]) {
        sheet.set_column_width(col, width)?;
    }
    if !guide.examples.is_empty() {
        examples(
            &mut sheet,
            schema,
            t,
            guide,
            table_top + 2 + schema.columns.len() as u32,
        )?;
    }
    Ok(sheet)
}

/// The example rows under their headers, below the column table.
fn examples(
    sheet: &mut Worksheet,
    schema: &Schema,
    t: &Tr,
    guide: &Guide,
    top: u32,
) -> Result<(), XlsxError> {
    let bold = Format::new().set_bold();
    sheet.write_string_with_format(top, 0, t.get("import.template.examples"), &bold)?;
    let header = header_format();
    for (col, column) in (0u16..).zip(schema.columns) {
        sheet.write_string_with_format(top + 1, col, column.header(t.lang), &header)?;
    }
    for (row, cells) in (top + 2..).zip(guide.examples) {
        for (col, cell) in (0u16..).zip(cells.iter()) {
            sheet.write_string(row, col, *cell)?;
        }
    }
    Ok(())
}

/// What a column accepts, for the instructions sheet.
fn format_description(column: &Column, t: &Tr) -> String {
    let key = match column.kind {
        Kind::Text { max_chars } => {
            return t.fmt("import.format.text", &[("max", &max_chars.to_string())]);
        }
        Kind::Choice(choices) => {
            let choices = choice_labels(choices, t);
            return t.fmt("import.format.choice", &[("choices", &choices)]);
        }
        Kind::Integer => "import.format.integer",
        Kind::Money => "import.format.money",
        Kind::Area => "import.format.area",
        Kind::Decimal => "import.format.decimal",
        Kind::Date => "import.format.date",
        Kind::Month => "import.format.month",
        Kind::Region => "import.format.region",
    };
    t.get(key).to_owned()
}
