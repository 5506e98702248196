//! Downloads a spreadsheet opens: every CSV the server writes is well-formed (one header, every
//! row as wide as it), and text that a spreadsheet would run as a formula stays text, in CSV and
//! in the Excel exports.

use std::io::Read;

use super::*;
use shegong_domain::network::org::OrgKind;
use shegong_store::network::orgs::{self, NewOrg};

/// Names a spreadsheet would take for formulas.
const FORMULAS: [&str; 3] = [
    "=HYPERLINK(\"http://evil.example\",\"点此\")",
    "@SUM(1+1)*cmd",
    "-1+2站",
];

/// The records of a CSV body, header first; each as wide as the header.
fn records(text: &str) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    let width = rows.first().expect("a header").len();
    assert!(rows.iter().all(|r| r.len() == width), "ragged CSV: {text}");
    rows
}

/// A cell a spreadsheet would run: starts with `=`, `+`, `-`, `@`, tab or CR and is no number.
fn runs_as_formula(cell: &str) -> bool {
    cell.starts_with(['=', '+', '-', '@', '\t', '\r']) && cell.parse::<f64>().is_err()
}

/// One township station per township (issue 18): the i-th formula-like name gets its own.
const TOWNS: [&str; 3] = ["430202001", "430202002", "430202003"];

async fn station(app: &TestApp, c: &mut Client, name: &str, region: &str) {
    let mut tx = app.state.db.begin().await.unwrap();
    let (operator, _) = orgs::create(
        &mut tx,
        &NewOrg {
            name: format!("{name}的机构"),
            uscc: None,
            kind: OrgKind::Agency,
            region: shegong_domain::RegionCode::parse("4302").unwrap(),
        },
        0,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let res = c
        .post_form(
            "/stations",
            &[
                ("tier", "township_station"),
                ("region", region),
                ("name", name),
                ("status", "operating"),
                ("status_since", "2024-01-01"),
                ("mode", "purchase"),
                ("operator", &operator),
                ("staff_count", "3"),
                ("certified_count", "2"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
}

app_test!(
    csv_downloads_are_well_formed_and_never_run_formulas,
    |app| {
        let mut admin = app.login_as(Role::CivilAffairsAdmin, "4302").await;
        for (name, town) in FORMULAS.iter().zip(TOWNS) {
            station(&app, &mut admin, name, town).await;
        }
        let downloads = [
            "/api/v1/stats/services.csv?region=4302&by=station",
            "/api/v1/stats/services.csv?region=4302&level=children",
            "/api/v1/stats/people.csv?region=4302&by=tier",
            "/api/v1/stats/workforce.csv?region=4302&by=funding",
            "/public/services.csv?region=4302",
        ];
        for url in downloads {
            let res = admin.get(url).await;
            assert_eq!(res.status, StatusCode::OK, "{url}: {}", res.text);
            assert_eq!(res.headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
            let rows = records(&res.text);
            assert!(
                rows.first()
                    .unwrap()
                    .first()
                    .is_some_and(|h| h == "region_code"),
                "{url}: {}",
                res.text
            );
            for cell in rows.iter().flatten() {
                assert!(!runs_as_formula(cell), "{url}: {cell:?} would run");
            }
        }
    }
);

app_test!(excel_exports_keep_formula_like_text_as_text, |app| {
    let mut admin = app.login_as(Role::CivilAffairsAdmin, "4302").await;
    for (name, town) in FORMULAS.iter().zip(TOWNS) {
        station(&app, &mut admin, name, town).await;
    }
    let res = admin.get("/stations/export.xlsx").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    // The names come back exactly as entered, as text.
    let text = xlsx_text(&res.bytes);
    for name in FORMULAS {
        assert!(text.contains(name), "{name} missing from {text}");
    }
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(res.bytes.clone())).unwrap();
    let mut part = |name: &str| {
        let mut xml = String::new();
        zip.by_name(name).unwrap().read_to_string(&mut xml).unwrap();
        xml
    };
    let sheet = part("xl/worksheets/sheet1.xml");
    assert!(!sheet.contains("<f>"), "a formula in the export: {sheet}");
    // Formula-like text carries Excel's quote prefix, so editing the cell keeps it text.
    assert!(part("xl/styles.xml").contains("quotePrefix=\"1\""));
});
