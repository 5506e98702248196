//! The JSON API: authentication, tokens, regions, problem bodies, the OpenAPI document.

use super::*;

app_test!(unauthenticated_api_requests_get_401_problems, |app| {
    let mut c = app.client();
    for path in [
        "/api/v1/me",
        "/api/v1/users",
        "/api/v1/audit",
        "/api/v1/regions",
    ] {
        let res = c.get(path).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(res.headers["content-type"], "application/problem+json");
        let p = res.json();
        assert_eq!(p["code"], "unauthenticated");
        assert_eq!(p["title"], "请先登录。");
    }
    let res = c
        .send(
            Method::GET,
            "/api/v1/me",
            None,
            &[("accept-language", "en-US,en;q=0.9")],
        )
        .await;
    assert_eq!(res.json()["title"], "Please sign in.");
    let res = c
        .send(
            Method::GET,
            "/api/v1/me",
            None,
            &[("authorization", "Bearer sg_nonsense")],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
});

app_test!(bearer_tokens_work_until_revoked, |app| {
    let mut c = app.login_as(Role::CivilAffairsAdmin, "430203").await;
    let page = c
        .post_form("/account/tokens", &[("name", "统计系统")])
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let secret = page.select("#new-token")[0].clone();
    assert!(secret.starts_with("sg_") && secret.len() == 67);
    let mut machine = app.client();
    machine
        .headers
        .push(("authorization".into(), format!("Bearer {secret}")));
    let me = machine.get("/api/v1/me").await;
    assert_eq!(me.status, StatusCode::OK);
    let me = me.json();
    assert_eq!(me["role"], "civil_affairs_admin");
    assert_eq!(me["region_code"], "430203");
    assert_eq!(me["region_path"][2], "芦淞区");
    // A bearer client needs no CSRF token (it has no cookie to be forged with): an API write
    // reaches validation.
    let res = machine
        .send(Method::POST, "/api/v1/stations", Some(("application/json", r#"{"tier":"township_station","region_code":"430203001","name":"","mode":"direct","status":"planned","status_since":"2024-01-01"}"#.into())), &[])
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    // Account pages are for signed-in people: a token can neither mint tokens nor change the
    // password (it could otherwise guess the password without CSRF or lockout).
    for (path, body) in [
        ("/account/tokens", "name=x"),
        ("/account/password", "current=a&new=b&confirm=b"),
    ] {
        let res = machine
            .send(
                Method::POST,
                path,
                Some(("application/x-www-form-urlencoded", body.into())),
                &[],
            )
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{path}");
    }
    // Revoke from the account page.
    let page = c.get("/account").await;
    let form = page.html();
    let sel = scraper::Selector::parse("form[action$='/revoke']").unwrap();
    let action = form
        .select(&sel)
        .next_back()
        .unwrap()
        .value()
        .attr("action")
        .unwrap()
        .to_owned();
    let res = c.post_form(&action, &[]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(
        machine.get("/api/v1/me").await.status,
        StatusCode::UNAUTHORIZED
    );
    // The token's secret is not stored in clear.
    let mut conn = app.state.db.read().await.unwrap();
    let hits = shegong_store::sql::Sql::new("SELECT COUNT(*) FROM api_tokens WHERE token_hash = ")
        .bind(secret.as_str())
        .fetch_i64(&mut conn)
        .await
        .unwrap();
    assert_eq!(hits, 0);
});

app_test!(region_api_answers_within_scope, |app| {
    let mut c = app.login_as(Role::CivilAffairsAdmin, "4302").await;
    let top = c.get("/api/v1/regions").await.json();
    assert_eq!(top["items"].as_array().unwrap().len(), 1);
    assert_eq!(top["items"][0]["code"], "4302");
    let r = c.get("/api/v1/regions/430203001").await.json();
    assert_eq!(r["name"], "贺家土街道");
    assert_eq!(r["level"], "township");
    assert_eq!(r["kind"], "street");
    assert_eq!(r["parent_code"], "430203");
    assert_eq!(r["display_path"], "湖南省 / 株洲市 / 芦淞区 / 贺家土街道");
    assert_eq!(r["path_codes"][1], "4302");
    let kids = c.get("/api/v1/regions/430203/children").await.json();
    assert!(
        kids["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["name"] == "贺家土街道")
    );
    let found = c
        .get("/api/v1/regions?q=%E8%B4%BA%E5%AE%B6%E5%9C%9F")
        .await
        .json();
    assert_eq!(found["items"][0]["code"], "430203001");
    let national = app.login_as(Role::CivilAffairsAdmin, "CN").await;
    let mut national = national;
    let all = national
        .get("/api/v1/regions?q=%E5%9F%8E%E5%85%B3%E9%95%87&limit=200")
        .await
        .json();
    assert_eq!(all["items"].as_array().unwrap().len(), 88);
    assert_eq!(
        c.get("/api/v1/regions/4303/children").await.status,
        StatusCode::NOT_FOUND
    );
});

#[test]
fn committed_openapi_document_is_current() {
    let generated = shegong_web::http::api::document().to_pretty_json().unwrap() + "\n";
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
    if std::env::var("UPDATE_OPENAPI").is_ok() {
        std::fs::write(path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/openapi.json is out of date: run `UPDATE_OPENAPI=1 cargo test -p shegong-web --test http committed_openapi` and commit it"
    );
    let doc: serde_json::Value = serde_json::from_str(&generated).unwrap();
    for path in [
        "/api/v1/me",
        "/api/v1/regions",
        "/api/v1/regions/{code}",
        "/api/v1/regions/{code}/children",
        "/api/v1/users",
        "/api/v1/audit",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from OpenAPI"
        );
    }
}

app_test!(openapi_and_docs_are_served, |app| {
    let mut c = app.client();
    let doc = c.get("/api/v1/openapi.json").await;
    assert_eq!(doc.status, StatusCode::OK);
    assert!(doc.json()["paths"]["/api/v1/me"].is_object());
    let docs = c.get("/api/docs").await;
    assert_eq!(docs.status, StatusCode::OK);
    assert!(docs.text.contains("swagger-ui"));
    let js = docs.html();
    let sel = scraper::Selector::parse("script[src]").unwrap();
    for s in js.select(&sel) {
        let src = s.value().attr("src").unwrap();
        let asset = c.get(src).await;
        assert_eq!(asset.status, StatusCode::OK, "{src}");
        assert!(
            asset.headers["cache-control"]
                .to_str()
                .unwrap()
                .contains("immutable")
        );
    }
    assert_eq!(c.get("/healthz").await.text, "ok");
    let ready = c.get("/readyz").await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(ready.json()["database"], true);
});

/// OpenAPI names a schema by its type's name alone: two `ToSchema` types of one name would
/// silently share (and overwrite) one schema in the document.
#[test]
fn no_two_api_types_share_a_schema_name() {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut seen: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let mut derives_schema = false;
        for line in text.lines() {
            let l = line.trim();
            if l.starts_with("#[derive(") && l.contains("ToSchema") {
                derives_schema = true;
            } else if derives_schema && (l.starts_with("pub struct ") || l.starts_with("pub enum "))
            {
                let name = l
                    .split_whitespace()
                    .nth(2)
                    .unwrap_or("")
                    .trim_end_matches(['{', ';', '('])
                    .to_owned();
                let at = f.display().to_string();
                if let Some(first) = seen.insert(name.clone(), at.clone()) {
                    panic!("schema {name} is defined in {first} and in {at}");
                }
                derives_schema = false;
            } else if !l.starts_with("#[") && !l.starts_with("///") {
                derives_schema = false;
            }
        }
    }
    assert!(
        seen.len() > 50,
        "the scan found the API types: {}",
        seen.len()
    );
}
