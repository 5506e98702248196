//! Issue 19: the spreadsheet import as API operations (`/api/v1/imports/{registry}`), with the
//! page's steps and checks: the real-shaped provincial list of issue 13 uploaded, mapped with
//! one value for all rows of the missing fields, refused "all or nothing", committed "valid
//! rows", and kept to its owner; on both databases.

use base64::Engine as _;

use super::fixtures::send_json;
use super::*;

fn upload_body(name: &str, bytes: &[u8]) -> serde_json::Value {
    serde_json::json!({
        "filename": name,
        "content_base64": base64::engine::general_purpose::STANDARD.encode(bytes),
    })
}

app_test!(
    a_sheet_is_uploaded_mapped_previewed_and_committed_by_api,
    |app| {
        let mut admin = app.login_as(Role::CivilAffairsAdmin, "43").await;
        let sheet = super::import_messy::sheet();
        let res = send_json(
            &mut admin,
            Method::POST,
            "/api/v1/imports/stations",
            upload_body("建设情况表.xlsx", &sheet),
        )
        .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
        let first = res.json();
        let batch = first["batch"].as_str().unwrap().to_owned();
        assert_eq!(first["phase"], "ready");
        assert_eq!(first["registry"], "stations");
        let fields: Vec<&serde_json::Value> = first["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| &c["field"])
            .collect();
        assert_eq!(
            serde_json::json!(fields),
            serde_json::json!([
                null, "county", "township", "name", "address", null, "funding"
            ])
        );
        let status = first["unset"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["field"] == "status")
            .unwrap();
        assert_eq!(status["required"], true);
        assert!(
            status["choices"]
                .as_array()
                .unwrap()
                .contains(&"operating".into())
        );
        assert_eq!(first["counts"]["invalid"], 6, "{first}");
        assert_eq!(first["skipped_count"], 5, "{first}");

        // The registry's fields only, and one value for all rows only where the field takes one.
        let here = format!("/api/v1/imports/stations/{batch}");
        let columns = first["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["field"].clone())
            .collect::<Vec<_>>();
        for (body, field) in [
            (serde_json::json!({"columns": ["flying"]}), "columns"),
            (
                serde_json::json!({"columns": columns, "defaults": {"status": "flying"}}),
                "defaults",
            ),
            (
                serde_json::json!({"columns": columns, "defaults": {"name": "x"}}),
                "defaults",
            ),
        ] {
            let res = send_json(&mut admin, Method::PUT, &format!("{here}/mapping"), body).await;
            assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
            assert_eq!(res.json()["errors"][0]["field"], field);
        }
        let res = send_json(
        &mut admin,
        Method::PUT,
        &format!("{here}/mapping"),
        serde_json::json!({"columns": columns, "defaults": {"status": "operating", "mode": "direct"}}),
    )
    .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        let mapped = res.json();
        assert_eq!(mapped["counts"]["create"], 4, "{mapped}");
        assert_eq!(mapped["counts"]["invalid"], 2, "{mapped}");
        let invalid: Vec<String> = mapped["rows"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["action"] == "invalid")
            .map(|r| r["errors"].to_string())
            .collect();
        assert!(
            invalid
                .iter()
                .any(|e| e.contains("430203007") && e.contains("431128001")),
            "{invalid:?}"
        );
        assert!(invalid.iter().any(|e| e.contains("二十多")), "{invalid:?}");

        // A bad mode; "all or nothing" with invalid rows writes nothing.
        let commit = format!("{here}/commit");
        let res = send_json(
            &mut admin,
            Method::POST,
            &commit,
            serde_json::json!({"mode": "most"}),
        )
        .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
        assert_eq!(res.json()["errors"][0]["field"], "mode");
        let res = send_json(
            &mut admin,
            Method::POST,
            &commit,
            serde_json::json!({"mode": "all"}),
        )
        .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
        assert_eq!(res.json()["errors"][0]["field"], "rows");
        assert_eq!(admin.get("/api/v1/stations").await.json()["total"], 0);

        // Someone else cannot see or commit the batch; an unknown registry is not found.
        let mut other =
            super::fixtures::login(&app, "other_admin", Role::CivilAffairsAdmin, "43", None).await;
        assert_eq!(other.get(&here).await.status, StatusCode::NOT_FOUND);
        let res = send_json(
            &mut other,
            Method::POST,
            &commit,
            serde_json::json!({"mode": "valid"}),
        )
        .await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.text);
        assert_eq!(
            admin
                .get(&format!("/api/v1/imports/nothing/{batch}"))
                .await
                .status,
            StatusCode::NOT_FOUND
        );

        let res = send_json(
            &mut admin,
            Method::POST,
            &commit,
            serde_json::json!({"mode": "valid"}),
        )
        .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        let done = res.json();
        assert_eq!(done["phase"], "done");
        assert_eq!(done["written"]["created"], 4, "{done}");
        assert_eq!(done["written"]["skipped"], 2, "{done}");
        assert_eq!(admin.get("/api/v1/stations").await.json()["total"], 4);
        // What it did stays readable; it cannot be committed twice.
        assert_eq!(admin.get(&here).await.json()["phase"], "done");
        let res = send_json(
            &mut admin,
            Method::POST,
            &commit,
            serde_json::json!({"mode": "valid"}),
        )
        .await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.text);
        assert_eq!(admin.get("/api/v1/stations").await.json()["total"], 4);
    }
);

app_test!(a_refused_api_upload_names_the_field_and_is_audited, |app| {
    let mut admin = app.login_as(Role::CivilAffairsAdmin, "43").await;
    let res = send_json(
        &mut admin,
        Method::POST,
        "/api/v1/imports/stations",
        serde_json::json!({"filename": "a.xlsx", "content_base64": "not base64!"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert_eq!(res.json()["errors"][0]["field"], "content_base64");
    let res = send_json(
        &mut admin,
        Method::POST,
        "/api/v1/imports/stations",
        upload_body("不是表格.xlsx", b"PK\x03\x04junk"),
    )
    .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert_eq!(res.json()["errors"][0]["field"], "file");
    let audit = admin.get("/api/v1/audit?action=import_refused").await;
    assert!(audit.text.contains("不是表格.xlsx"), "{}", audit.text);
    // A role that may not change data may not import.
    let mut viewer = app.login_as(Role::Auditor, "43").await;
    let res = send_json(
        &mut viewer,
        Method::POST,
        "/api/v1/imports/stations",
        upload_body("x.xlsx", &super::import_messy::sheet()),
    )
    .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text);
});
