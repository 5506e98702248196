//! Issue 11 regression tests: uploads. A spreadsheet that once aborted the whole server (one
//! cell at XFD1048576, 1.7 KB) and a compression bomb are refused with 413/422 and a message
//! naming the limit, and the server goes on answering.

use super::*;
use std::io::{Cursor, Read, Write};

/// A header row, one station and one cell at XFD1048576, Excel's last cell: what the outside
/// probe uploaded.
fn far_cell_xlsx() -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in (0u16..).zip(["所在乡镇（街道）", "社工站名称", "建设状态"]) {
        ws.write_string(0, c, h).unwrap();
    }
    for (c, v) in (0u16..).zip(["贺家土街道", "贺家土街道社工站", "运营中"]) {
        ws.write_string(1, c, v).unwrap();
    }
    ws.write_string(1_048_575, 16_383, "x").unwrap();
    wb.save_to_buffer().unwrap()
}

/// `xlsx` with its sheet's XML passed through `edit`.
fn rewrite_sheet(xlsx: &[u8], edit: impl Fn(String) -> String) -> Vec<u8> {
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

fn import_error(res: &Res) -> String {
    res.select("#import-error").concat()
}

app_test!(
    a_far_cell_and_a_bomb_are_refused_and_the_server_keeps_serving,
    |app| {
        let mut admin = app.login_as(Role::CivilAffairsAdmin, "4302").await;

        // The probe's file: its sheet declares A1:XFD1048576.
        let far = far_cell_xlsx();
        assert!(far.len() < 8 * 1024, "{}", far.len());
        let res = admin
            .upload("/stations/import", &[], "file", "far.xlsx", &far)
            .await;
        assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", res.text);
        assert!(
            import_error(&res)
                .contains("声明的范围 1,048,576 行 × 16,384 列超过上限 200,000 行 × 256 列"),
            "{}",
            import_error(&res)
        );

        // The same cell under a declared A1:C2: refused while streaming, at the cell.
        let lying = rewrite_sheet(&far, |xml| xml.replace("A1:XFD1048576", "A1:C2"));
        let res = admin
            .upload("/stations/import", &[], "file", "far.xlsx", &lying)
            .await;
        assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", res.text);
        assert!(
            import_error(&res).contains("单元格 XFD1048576 超出上限 200,000 行 × 256 列"),
            "{}",
            import_error(&res)
        );

        // 100 MB of spaces in the sheet, about 100 KB compressed.
        let bomb = rewrite_sheet(&far, |xml| xml + &" ".repeat(100 * 1024 * 1024));
        assert!(bomb.len() < 512 * 1024, "{}", bomb.len());
        let res = admin
            .upload("/stations/import", &[], "file", "bomb.xlsx", &bomb)
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
        assert!(
            import_error(&res).contains("“xl/worksheets/sheet1.xml”压缩比为"),
            "{}",
            import_error(&res)
        );
        assert!(import_error(&res).contains("超过上限 100:1"));

        // Still serving: the import form, and the template uploaded back is accepted.
        let template = admin.get("/stations/import/template.xlsx").await;
        assert_eq!(template.status, StatusCode::OK);
        let res = admin
            .upload("/stations/import", &[], "file", "t.xlsx", &template.bytes)
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        let preview = admin.get(res.location()).await;
        assert_eq!(preview.status, StatusCode::OK);
        assert_eq!(admin.get("/stations").await.status, StatusCode::OK);
    }
);

/// The limits are the configuration's: a smaller file limit refuses the template itself.
macro_rules! with_small_file_limit {
    ($name:ident, $db:expr) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            // As `TestApp::new` sets it up, with a small file limit.
            let mut config = Config {
                twofactor_for_administrators: false,
                ..Config::default()
            };
            config.import.max_file_bytes = 1_000;
            let app = TestApp::with_config($db.await, config).await;
            let mut admin = app.login_as(Role::CivilAffairsAdmin, "4302").await;
            let template = admin.get("/stations/import/template.xlsx").await;
            assert_eq!(template.status, StatusCode::OK, "{}", template.location());
            assert!(template.bytes.len() > 1_000, "{}", template.bytes.len());
            let res = admin
                .upload("/stations/import", &[], "file", "t.xlsx", &template.bytes)
                .await;
            assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", res.text);
            let message = import_error(&res);
            // The template's own size (it grows with the stations' columns).
            let size = format!("{:.1} KB", template.bytes.len() as f64 / 1024.0);
            assert!(
                message.contains(&format!("文件大小 {size} 超过上限 1,000 B")),
                "{message}"
            );
        }
    };
}

mod limits_come_from_the_configuration {
    use super::*;
    with_small_file_limit!(sqlite, shegong_store::testing::sqlite());
    with_small_file_limit!(postgres, shegong_store::testing::postgres());
}
