//! Issue 19 item 3: visits with evidence. Photos (attachments of the record, the same content
//! checks), the device's location (sealed, with its accuracy) and the resident's or a family
//! member's confirmation, by API and by the page form; the region's confirmation rule (page and
//! API, inherited down the tree); photos only for those who may see the record.

use base64::Engine as _;
use serde_json::{Value, json};
use shegong_store::sql::Sql;

use super::fixtures::send_json;
use super::*;

const COUNTY: &str = "430202";
const TOWN: &str = "430202001";
const OTHER_COUNTY: &str = "430203";

/// The first bytes of a JPEG (what the content check looks at) and a little more.
const JPEG: &[u8] = b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00 a visit photo";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR a signature";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

async fn resident(c: &mut Client) -> String {
    let res = send_json(
        c,
        Method::POST,
        "/api/v1/residents",
        json!({
            "name": "赵桂兰",
            "birth_date": "1948-03-02",
            "region": TOWN,
            "risk_tier": "general",
            "legal_basis": "statutory_duty",
            "confirm_duplicates": true,
        }),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    res.json()["id"].as_str().unwrap().to_owned()
}

fn visit(app: &TestApp, rid: &str, method: &str) -> Value {
    json!({
        "kind": "visit",
        "domain": "elderly",
        "resident_id": rid,
        "method": method,
        "served_on": shegong_web::ui::forms::today(app.state.now()),
        "duration_minutes": 30,
        "workers": "王芳",
    })
}

fn with(mut v: Value, extra: Value) -> Value {
    for (k, x) in extra.as_object().unwrap() {
        v[k] = x.clone();
    }
    v
}

/// A 422 naming `field` first.
fn refused(res: &Res, field: &str) {
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert_eq!(res.json()["errors"][0]["field"], field, "{}", res.text);
}

async fn downloads(app: &TestApp, id: &str) -> i64 {
    let mut c = app.state.db.read().await.unwrap();
    Sql::new("SELECT COUNT(*) FROM audit_log WHERE entity = 'attachment' AND action = 'download' AND entity_id = ")
        .bind(id)
        .fetch_i64(&mut c)
        .await
        .unwrap()
}

app_test!(
    a_visit_carries_photos_location_and_confirmation_by_api,
    |app| {
        let mut admin = app.login_as(Role::CivilAffairsAdmin, COUNTY).await;
        let mut worker = app.login_as(Role::SocialWorker, TOWN).await;
        let mut stranger = app.login_as(Role::CivilAffairsAdmin, OTHER_COUNTY).await;
        let rid = resident(&mut admin).await;

        let body = with(
            visit(&app, &rid, "home"),
            json!({
                "photos": [{"filename": "门口.jpg", "content_base64": b64(JPEG)}],
                "latitude": 27.834512,
                "longitude": 113.151234,
                "accuracy_m": 12.5,
                "located_at": 1_760_000_000_000_i64,
                "confirmed_by": "family",
                "confirmer_name": "赵小明",
            }),
        );
        let res = send_json(&mut worker, Method::POST, "/api/v1/services", body).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
        let s = res.json();
        let sid = s["id"].as_str().unwrap().to_owned();
        let ev = &s["evidence"];
        assert_eq!(ev["geo"]["latitude"], 27.834512, "{}", res.text);
        assert_eq!(ev["geo"]["accuracy_m"], 12.5);
        assert_eq!(ev["confirmation"], "tick");
        assert_eq!(ev["confirmed_by"], "family");
        assert_eq!(ev["confirmer_name"], "赵小明");
        assert_eq!(ev["attachments"].as_array().unwrap().len(), 1);
        assert_eq!(ev["attachments"][0]["kind"], "photo");
        let aid = ev["attachments"][0]["id"].as_str().unwrap().to_owned();

        // The location is sealed at rest.
        {
            let mut c = app.state.db.read().await.unwrap();
            let (sealed,): (Option<String>,) =
                Sql::new("SELECT geo_sealed FROM services WHERE id = ")
                    .bind(sid.as_str())
                    .fetch_one(&mut c)
                    .await
                    .unwrap();
            let sealed = sealed.unwrap();
            assert!(!sealed.contains("27.83"), "{sealed}");
        }

        // The photo: for those who see the record (audited), 404 for everyone else.
        let res = worker.get(&format!("/api/v1/attachments/{aid}")).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        assert_eq!(res.headers["content-type"], "image/jpeg");
        // A photo of someone's home: shown, named, never kept by the browser.
        assert_eq!(res.headers["cache-control"], "private, no-store");
        assert!(
            res.headers["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("inline; filename*=UTF-8''"),
            "{:?}",
            res.headers["content-disposition"]
        );
        assert_eq!(downloads(&app, &aid).await, 1);
        for path in [
            format!("/api/v1/attachments/{aid}"),
            format!("/attachments/{aid}"),
            format!("/api/v1/services/{sid}"),
            format!("/services/{sid}"),
        ] {
            assert_eq!(
                stranger.get(&path).await.status,
                StatusCode::NOT_FOUND,
                "{path}"
            );
        }
        assert_eq!(downloads(&app, &aid).await, 1);
        // Lists carry the confirmation, not the evidence.
        let list = worker
            .get(&format!("/api/v1/services?resident={rid}"))
            .await
            .json();
        assert_eq!(list["items"][0]["confirmation"], "tick");
        assert!(list["items"][0].get("evidence").is_none());

        // Each refusal names its field.
        let cases = [
            (
                json!({"latitude": 91.0, "longitude": 113.0, "accuracy_m": 5.0}),
                "latitude",
            ),
            (
                json!({"latitude": 27.0, "longitude": 181.0, "accuracy_m": 5.0}),
                "longitude",
            ),
            (
                json!({"latitude": 27.0, "longitude": 113.0, "accuracy_m": -1.0}),
                "accuracy_m",
            ),
            (json!({"latitude": 27.0, "accuracy_m": 5.0}), "longitude"),
            (
                json!({"photos": [{"content_base64": b64(b"MZ not an image")}]}),
                "photos",
            ),
            (json!({"photos": [{"content_base64": "***"}]}), "photos"),
            (
                json!({"photos": (0..6).map(|_| json!({"content_base64": b64(JPEG)})).collect::<Vec<_>>()}),
                "photos",
            ),
            (json!({"confirmed_by": "neighbour"}), "confirmed_by"),
            (json!({"confirmed_by": "family"}), "confirmer_name"),
            (
                json!({"confirmed_by": "resident", "signature_base64": b64(JPEG)}),
                "signature",
            ),
            (json!({"signature_base64": b64(PNG)}), "confirmed_by"),
        ];
        for (extra, field) in cases {
            let res = send_json(
                &mut worker,
                Method::POST,
                "/api/v1/services",
                with(visit(&app, &rid, "home"), extra.clone()),
            )
            .await;
            assert_eq!(
                res.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{extra}: {}",
                res.text
            );
            assert_eq!(
                res.json()["errors"][0]["field"],
                field,
                "{extra}: {}",
                res.text
            );
        }

        // A signature by data URL; the signature is a PNG attachment of the record.
        let res = send_json(
        &mut worker,
        Method::POST,
        "/api/v1/services",
        with(
            visit(&app, &rid, "home"),
            json!({"confirmed_by": "resident", "signature_base64": format!("data:image/png;base64,{}", b64(PNG))}),
        ),
    )
    .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
        assert_eq!(res.json()["evidence"]["confirmation"], "signature");
        assert_eq!(
            res.json()["evidence"]["attachments"][0]["kind"],
            "signature"
        );
        assert_eq!(
            res.json()["evidence"]["attachments"][0]["content_type"],
            "image/png"
        );

        // Deleting the record takes its attachments' rows with it.
        let res = send_json(
            &mut worker,
            Method::DELETE,
            &format!("/api/v1/services/{sid}"),
            json!({}),
        )
        .await;
        assert!(res.status.is_success(), "{}", res.text);
        assert_eq!(
            worker
                .get(&format!("/api/v1/attachments/{aid}"))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
    }
);

app_test!(
    a_region_rule_requires_a_confirmation_of_home_visits,
    |app| {
        let mut admin = app.login_as(Role::CivilAffairsAdmin, COUNTY).await;
        let mut worker = app.login_as(Role::SocialWorker, TOWN).await;
        let rid = resident(&mut admin).await;
        let rules = "/api/v1/visit-confirmation-rules";

        // Only a supervising role sets it; the region in scope; the rule one of three.
        let res = send_json(
            &mut worker,
            Method::POST,
            rules,
            json!({"region": TOWN, "confirm_rule": "tick"}),
        )
        .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text);
        refused(
            &send_json(
                &mut admin,
                Method::POST,
                rules,
                json!({"region": OTHER_COUNTY, "confirm_rule": "tick"}),
            )
            .await,
            "region",
        );
        refused(
            &send_json(
                &mut admin,
                Method::POST,
                rules,
                json!({"region": COUNTY, "confirm_rule": "stamp"}),
            )
            .await,
            "confirm_rule",
        );
        let res = send_json(
            &mut admin,
            Method::POST,
            rules,
            json!({"region": COUNTY, "confirm_rule": "signature"}),
        )
        .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        assert_eq!(res.json()["rule"], "signature");

        // The township inherits the county's rule.
        let list = worker.get(rules).await.json();
        assert_eq!(list["applies"], "signature", "{list}");
        assert_eq!(list["items"][0]["region_code"], COUNTY);

        // A home visit without a signature is refused on `signature`; a phone visit is not bound.
        refused(
            &send_json(
                &mut worker,
                Method::POST,
                "/api/v1/services",
                visit(&app, &rid, "home"),
            )
            .await,
            "signature",
        );
        refused(
            &send_json(
                &mut worker,
                Method::POST,
                "/api/v1/services",
                with(
                    visit(&app, &rid, "home"),
                    json!({"confirmed_by": "resident"}),
                ),
            )
            .await,
            "signature",
        );
        let res = send_json(
            &mut worker,
            Method::POST,
            "/api/v1/services",
            visit(&app, &rid, "phone"),
        )
        .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
        let res = send_json(
            &mut worker,
            Method::POST,
            "/api/v1/services",
            with(
                visit(&app, &rid, "home"),
                json!({"confirmed_by": "resident", "signature_base64": b64(PNG)}),
            ),
        )
        .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);

        // The township's own rule (set on the page) is more specific: a tick will do.
        let res = admin
            .post_form(
                "/visit-rules/confirmation",
                &[("region", TOWN), ("confirm_rule", "tick")],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        let res = admin
            .post_form(
                "/visit-rules/confirmation",
                &[("region", OTHER_COUNTY), ("confirm_rule", "tick")],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
        assert_eq!(worker.get(rules).await.json()["applies"], "tick");
        refused(
            &send_json(
                &mut worker,
                Method::POST,
                "/api/v1/services",
                visit(&app, &rid, "home"),
            )
            .await,
            "confirmed_by",
        );
        let res = send_json(
            &mut worker,
            Method::POST,
            "/api/v1/services",
            with(
                visit(&app, &rid, "home"),
                json!({"confirmed_by": "resident"}),
            ),
        )
        .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
        // The page shows what applies, and the form says what is needed.
        let page = worker.get("/visit-rules").await;
        assert_eq!(
            page.select("#confirm-applies").concat(),
            "社工勾选确认",
            "{}",
            page.text
        );
        let form = worker
            .get(&format!("/services/new?resident={rid}&kind=visit"))
            .await;
        assert_eq!(form.select("#confirm-rule-hint").len(), 1, "{}", form.text);
        // Audited as set, twice.
        let mut c = app.state.db.read().await.unwrap();
        let n = Sql::new("SELECT COUNT(*) FROM audit_log WHERE entity = 'visit_confirmation_rule' AND action = 'set'")
        .fetch_i64(&mut c)
        .await
        .unwrap();
        assert_eq!(n, 2);
    }
);

app_test!(
    the_page_form_records_a_photo_and_location_and_shows_them,
    |app| {
        let mut admin = app.login_as(Role::CivilAffairsAdmin, COUNTY).await;
        let mut worker = app.login_as(Role::SocialWorker, TOWN).await;
        let mut stranger = app.login_as(Role::SocialWorker, "430202002").await;
        let rid = resident(&mut admin).await;
        let today = shegong_web::ui::forms::today(app.state.now());
        let fields = [
            ("resident", rid.as_str()),
            ("kind", "visit"),
            ("domain", "elderly"),
            ("method", "home"),
            ("served_on", today.as_str()),
            ("duration_minutes", "30"),
            ("person_times", "1"),
            ("workers", "王芳"),
            ("latitude", "27.834512"),
            ("longitude", "113.151234"),
            ("accuracy_m", "15"),
            ("located_at", "1760000000000"),
            ("confirmed_by", "resident"),
        ];
        // A refused location names its field and the form comes back.
        let mut bad = fields.to_vec();
        bad[8] = ("latitude", "north");
        let res = worker
            .upload("/services", &bad, "photos", "a.jpg", JPEG)
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
        assert_eq!(res.select("#geo-error").len(), 1, "{}", res.text);
        // Not an image: refused on `photos`.
        let res = worker
            .upload(
                "/services",
                &fields,
                "photos",
                "a.jpg",
                b"GIF89a not accepted",
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
        assert_eq!(res.select("#photos-error").len(), 1, "{}", res.text);

        let res = worker
            .upload("/services", &fields, "photos", "门口.jpg", JPEG)
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        let list = worker
            .get(&format!("/api/v1/services?resident={rid}"))
            .await
            .json();
        let sid = list["items"][0]["id"].as_str().unwrap().to_owned();
        let page = worker.get(&format!("/services/{sid}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(
            page.select("#evidence-geo").concat(),
            "27.834512, 113.151234 ± 15 m（2025-10-09 16:53）",
            "{}",
            page.text
        );
        assert!(
            page.select("#evidence-confirmation")
                .concat()
                .contains("服务对象本人")
        );
        let html = page.html();
        let img = html
            .select(&scraper::Selector::parse("#evidence-photos img").unwrap())
            .next()
            .expect("a thumbnail")
            .value()
            .attr("src")
            .unwrap()
            .to_owned();
        let res = worker.get(&img).await;
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(res.bytes.as_slice(), JPEG);
        assert_eq!(stranger.get(&img).await.status, StatusCode::NOT_FOUND);
        let print = worker.get(&format!("/services/{sid}/print")).await;
        assert!(
            print.select("#print-geo").concat().contains("± 15 m"),
            "{}",
            print.text
        );
        assert_eq!(print.select("#print-photos img").len(), 1);

        // The form without photos or JavaScript still works urlencoded.
        let res = worker.post_form("/services", &fields[..8]).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    }
);
