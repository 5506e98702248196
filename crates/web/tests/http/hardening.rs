//! Issue 11 regression tests: control characters (item 3), the language switch's redirect
//! (item 8), authentication before anything else, 413 and 405 (item 10).

use super::*;

/// A client that authenticates with a fresh API token of a new account.
async fn bearer(app: &TestApp, role: Role, region: &str) -> Client {
    let mut c = app.login_as(role, region).await;
    let page = c.post_form("/account/tokens", &[("name", "probe")]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let secret = page.select("#new-token")[0].clone();
    let mut machine = app.client();
    machine
        .headers
        .push(("authorization".into(), format!("Bearer {secret}")));
    machine
}

fn field_error(res: &Res) -> String {
    res.json()["errors"][0]["field"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

app_test!(control_characters_are_refused_with_a_field_error, |app| {
    let mut api = bearer(&app, Role::CivilAffairsAdmin, "430203").await;
    // Query strings, on a list that searches people by text.
    let res = api.get("/api/v1/residents?q=%00").await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert_eq!(field_error(&res), "q");
    assert_eq!(res.json()["errors"][0]["code"], "input.control_character");
    let res = api.get("/api/v1/staff?q=a%C2%85b").await;
    assert_eq!(
        res.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "C1: {}",
        res.text
    );
    // Path segments.
    let res = api.get("/api/v1/residents/ab%00cd").await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert_eq!(field_error(&res), "path");
    // JSON strings, named by their path; nothing is stored.
    let res = api
        .send(
            Method::POST,
            "/api/v1/organizations",
            Some((
                "application/json",
                r#"{"name":"社工\u0000机构","region":"430203","kind":"agency"}"#.into(),
            )),
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert_eq!(field_error(&res), "name");
    let list = api.get("/api/v1/organizations").await;
    assert!(!list.text.contains("机构"), "{}", list.text);
    // Tab and line breaks are fine: the request reaches validation as usual.
    let res = api.get("/api/v1/residents?q=a%09b").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    // The sign-in form, without any account: a field error, not a 500.
    let mut anon = app.client();
    let res = anon.login("ad\u{0}min", "x").await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    let res = anon.get("/regions?q=%1B%5B31m").await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
});

app_test!(language_switch_redirects_only_to_local_paths, |app| {
    let mut c = app.client();
    for next in [
        "/%5Cevil.example",
        "/%5C/evil.example",
        "//evil.example",
        "/%09/evil.example",
        "https://evil.example",
        "%2F%2Fevil.example",
    ] {
        let res = c.get(&format!("/lang/en?next={next}")).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{next}");
        assert_eq!(res.location(), "/", "{next} → {}", res.location());
    }
    let res = c.get("/lang/en?next=%2Fregions%3Fq%3D1").await;
    assert_eq!(res.location(), "/regions?q=1");
});

app_test!(authentication_comes_before_everything_else, |app| {
    let mut anon = app.client();
    // A write without credentials: 401, not the CSRF 403, not a validation 422.
    let res = anon
        .send(
            Method::POST,
            "/api/v1/stations",
            Some(("application/json", "{".into())),
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{}", res.text);
    assert_eq!(res.json()["code"], "unauthenticated");
    // Bad query parameters: still 401 first.
    let res = anon.get("/api/v1/residents?page=abc&per_page=-1").await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{}", res.text);
    let res = anon.get("/api/v1/residents/not-an-id").await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{}", res.text);
    // An unknown method on a known path: 401 too (nothing is told before credentials).
    let res = anon
        .send(Method::DELETE, "/api/v1/stations", None, &[])
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{}", res.text);
    // The API's own documentation stays open.
    assert_eq!(
        anon.get("/api/v1/openapi.json").await.status,
        StatusCode::OK
    );
    // Signed in: 405 with a JSON problem body and the allowed methods.
    let mut api = bearer(&app, Role::CivilAffairsAdmin, "430203").await;
    let res = api
        .send(Method::DELETE, "/api/v1/stations", None, &[])
        .await;
    assert_eq!(res.status, StatusCode::METHOD_NOT_ALLOWED, "{}", res.text);
    assert_eq!(res.headers["content-type"], "application/problem+json");
    assert_eq!(res.json()["code"], "method_not_allowed");
    let allow = res.headers[header::ALLOW].to_str().unwrap();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
});

async fn bodies_over_the_limit_get_413(db: shegong_store::testing::TestDb) {
    let config = Config {
        body_limit: 64 * 1024,
        twofactor_for_administrators: false,
        ..Config::default()
    };
    let app = TestApp::with_config(db, config).await;
    let big = "x".repeat(100 * 1024);
    // A signed-in form post: 413, not the CSRF 403 it used to be.
    let mut page = app.login_as(Role::CivilAffairsAdmin, "430203").await;
    let res = page
        .post_form("/orgs", &[("name", big.as_str()), ("region", "430203")])
        .await;
    assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", res.text);
    // An upload over the configured limit (not a hard-coded 21 MiB).
    let res = page
        .upload("/stations/import", &[], "file", "big.csv", big.as_bytes())
        .await;
    assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", res.text);
    // The API, with a JSON problem body.
    let mut api = bearer(&app, Role::CivilAffairsAdmin, "430202").await;
    let body = format!(r#"{{"name":"{big}"}}"#);
    let res = api
        .send(
            Method::POST,
            "/api/v1/organizations",
            Some(("application/json", body)),
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", res.text);
    assert_eq!(res.json()["code"], "too_large");
    // Under the limit the same request is handled as usual.
    let res = api
        .send(
            Method::POST,
            "/api/v1/organizations",
            Some(("application/json", "{}".into())),
            &[],
        )
        .await;
    assert_ne!(res.status, StatusCode::PAYLOAD_TOO_LARGE);
}

mod bodies_over_the_limit {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::bodies_over_the_limit_get_413(shegong_store::testing::sqlite().await).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::bodies_over_the_limit_get_413(shegong_store::testing::postgres().await).await;
    }
}

/// One HTTP/1.1 exchange on an open connection: the status line and headers of the answer
/// (its body is read by its Content-Length and dropped).
async fn exchange(stream: &mut tokio::net::TcpStream, request: &[u8]) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream.write_all(request).await.ok()?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        let n = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut chunk))
            .await
            .ok()?
            .ok()?;
        if n == 0 {
            return None; // closed without an answer
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap_or(0))
        })
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some(head)
}

async fn kept_alive_connections_survive_early_answers(db: shegong_store::testing::TestDb) {
    let dir = std::env::temp_dir().join(format!("shegong-keepalive-{}", uuid::Uuid::now_v7()));
    let mut config = Config {
        bind: "127.0.0.1:0".into(),
        metrics_bind: String::new(),
        database_url: db.url.clone(),
        attachments_dir: dir.join("files").display().to_string(),
        ..Config::default()
    };
    config.crypto.key_file = dir.join("keys.toml").display().to_string();
    let app = shegong_web::App::build(config).await.unwrap();
    let addr = app.addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run(async {
        let _ = stopped.await;
    }));
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    // An anonymous write with a 100 KB body is refused before anyone reads the body…
    let body = format!(r#"{{"name":"{}"}}"#, "x".repeat(100 * 1024));
    let request = format!(
        "POST /api/v1/stations HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let head = exchange(&mut stream, request.as_bytes())
        .await
        .expect("an answer to the write");
    assert!(head.starts_with("HTTP/1.1 401"), "{head}");
    // …and the same connection still carries the next request.
    let head = exchange(
        &mut stream,
        b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n",
    )
    .await
    .expect("the kept-alive connection was closed without an answer");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let _ = stop.send(());
    server.await.unwrap().unwrap();
    let _ = std::fs::remove_dir_all(dir);
}

mod kept_alive_connections {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::kept_alive_connections_survive_early_answers(shegong_store::testing::sqlite().await)
            .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::kept_alive_connections_survive_early_answers(
            shegong_store::testing::postgres().await,
        )
        .await;
    }
}

fn error_fields(res: &Res) -> Vec<(String, String)> {
    res.json()["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    (
                        e["field"].as_str().unwrap_or("").to_owned(),
                        e["code"].as_str().unwrap_or("").to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

app_test!(validation_is_as_tight_on_the_api_as_it_should_be, |app| {
    let mut api = bearer(&app, Role::CivilAffairsAdmin, "430203").await;
    // Staff: an identity number whose birth date lies in the future, a join date in the future.
    let first17 = "43020320300101001";
    let check = shegong_domain::people::identity::check_character(first17).unwrap();
    let future_id = format!("{first17}{check}");
    let body = serde_json::json!({"name": "张三", "id_type": "resident_id", "id_number": future_id,
        "role": "frontline", "employment_mode": "direct", "region_code": "430203001",
        "joined_on": "2999-01-01"})
    .to_string();
    let res = api
        .send(
            Method::POST,
            "/api/v1/staff",
            Some(("application/json", body)),
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    let errors = error_fields(&res);
    assert!(
        errors.contains(&("id_number".into(), "idcard.birth_date_future".into())),
        "{errors:?}"
    );
    assert!(
        errors.contains(&("joined_on".into(), "date.out_of_range".into()))
            || errors.contains(&("joined_on".into(), "date.future".into())),
        "{errors:?}"
    );
    // Residents: a 10-digit "mobile", a 0000-01-01 birth date, a name with a direction override.
    let body = serde_json::json!({"name": "王\u{202E}五", "birth_date": "0000-01-01",
        "region": "430203001", "phone": "1381234567", "legal_basis": "statutory_duty"})
    .to_string();
    let res = api
        .send(
            Method::POST,
            "/api/v1/residents",
            Some(("application/json", body)),
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    let errors = error_fields(&res);
    for expected in [
        ("name", "text.bidi_control"),
        ("birth_date", "date.out_of_range"),
        ("phone", "phone.invalid"),
    ] {
        assert!(
            errors.contains(&(expected.0.into(), expected.1.into())),
            "{expected:?} in {errors:?}"
        );
    }
    // A landline with its area code is a phone; zero-width characters leave the name.
    let body = serde_json::json!({"name": "王\u{200B}五", "birth_date": "1950-03-04",
        "region": "430203001", "phone": "0731-22334455", "legal_basis": "statutory_duty"})
    .to_string();
    let res = api
        .send(
            Method::POST,
            "/api/v1/residents",
            Some(("application/json", body)),
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let list = api.get("/api/v1/residents").await;
    assert!(list.text.contains("\"王五\""), "{}", list.text);
    // The same name with an invisible character and the same birth date is a likely duplicate.
    let body = serde_json::json!({"name": "王五\u{2060}", "birth_date": "1950-03-04",
        "region": "430203001", "legal_basis": "statutory_duty"})
    .to_string();
    let res = api
        .send(
            Method::POST,
            "/api/v1/residents",
            Some(("application/json", body)),
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.text);
});
