//! Volunteer activities over HTTP (issue 15 item 1): a risky activity opens only insured, an
//! under-14 volunteer signs up only with consent, attendance by the organiser and by QR code,
//! hours through notice to recorded, a certificate from the organiser; scope (404 across
//! townships) and identity never in clear in API answers.

use chrono::Datelike;

use super::fixtures::{count, send_json};
use super::*;

fn id_number(birth: &str, seq: u32) -> String {
    let body = format!("430202{birth}{seq:03}");
    let check = shegong_domain::people::identity::check_character(&body).unwrap();
    format!("{body}{check}")
}

fn refused(res: &Res, field: &str, code: &str) {
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    let errors = res.json()["errors"].clone();
    assert!(
        errors
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["field"] == field && e["code"] == code),
        "{field}: {code} in {errors}"
    );
}

async fn register(c: &mut Client, body: serde_json::Value) -> String {
    let res = send_json(c, Method::POST, "/api/v1/volunteers", body).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    res.json()["id"].as_str().unwrap().to_owned()
}

app_test!(
    activities_attendance_and_hours_follow_the_rules_in_scope,
    |app| {
        let mut worker = app.login_as(Role::SocialWorker, "430202001").await;
        let org = super::fixtures::agency(&app, "月塘社工服务中心", "430202").await;
        let st = super::fixtures::station(&app, "430202001", "月塘街道社工站", &org).await;
        let adult_id = id_number("19900307", 2);
        let adult = register(
            &mut worker,
            serde_json::json!({"name": "刘思雨", "id_number": adult_id, "region": "430202001", "mobile": "13873312345"}),
        )
        .await;
        let year = chrono::Utc::now().year() - 12;
        let child_id = id_number(&format!("{year}0101"), 4);
        let child = register(
            &mut worker,
            serde_json::json!({"name": "王小明", "id_number": child_id, "region": "430202001",
                "guardian_name": "王丽", "guardian_consent_on": "2026-01-01"}),
        )
        .await;

        // A risky activity opens only with its insurance reference.
        let now = app.state.now();
        let at = |m: i64| shegong_web::ui::list::local_input(now + m * 60_000);
        let res = send_json(
            &mut worker,
            Method::POST,
            "/api/v1/activities",
            serde_json::json!({"station_id": st, "name": "防汛巡查", "starts_at": at(-30), "ends_at": at(180),
                "address": "月塘街道河堤", "quota": 5, "risky": true}),
        )
        .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
        let a = res.json()["id"].as_str().unwrap().to_owned();
        let status = format!("/api/v1/activities/{a}/status");
        let res = send_json(
            &mut worker,
            Method::POST,
            &status,
            serde_json::json!({"step": "open"}),
        )
        .await;
        refused(&res, "insurance_ref", "activity.insurance_required");
        let res = send_json(
            &mut worker,
            Method::POST,
            &status,
            serde_json::json!({"step": "open", "insurance_ref": "PICC-2026-0077"}),
        )
        .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        assert_eq!(res.json()["status"], "open");

        // An under-14 volunteer signs up only with the guardian's consent.
        let signups = format!("/api/v1/activities/{a}/signups");
        let res = send_json(
            &mut worker,
            Method::POST,
            &signups,
            serde_json::json!({"volunteer_id": child}),
        )
        .await;
        refused(&res, "guardian_consent", "signup.guardian_consent_required");
        let res = send_json(
            &mut worker,
            Method::POST,
            &signups,
            serde_json::json!({"volunteer_id": child, "guardian_consent": true}),
        )
        .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
        let res = send_json(
            &mut worker,
            Method::POST,
            &signups,
            serde_json::json!({"volunteer_id": adult}),
        )
        .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);

        // The organiser signs the adult in and out; the session becomes pending hours.
        let attend = format!("/api/v1/activities/{a}/attendance");
        let res = send_json(
            &mut worker,
            Method::POST,
            &attend,
            serde_json::json!({"volunteer_id": adult, "action": "sign_out"}),
        )
        .await;
        refused(&res, "sign_out", "attendance.not_signed_in");
        let res = send_json(
            &mut worker,
            Method::POST,
            &attend,
            serde_json::json!({"volunteer_id": adult, "action": "sign_in", "at": at(-20)}),
        )
        .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        let res = send_json(
            &mut worker,
            Method::POST,
            &attend,
            serde_json::json!({"volunteer_id": adult, "action": "sign_in"}),
        )
        .await;
        refused(&res, "sign_in", "attendance.open_session");
        let res = send_json(
            &mut worker,
            Method::POST,
            &attend,
            serde_json::json!({"volunteer_id": adult, "action": "sign_out", "at": at(0)}),
        )
        .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        assert_eq!(res.json()["attendance"][0]["minutes"], 20);
        assert!(!res.text.contains(&adult_id) && !res.text.contains(&child_id));

        let res = worker.get("/api/v1/hours?state=pending").await;
        assert_eq!(res.json()["total"], 1, "{}", res.text);
        let h = res.json()["items"][0]["id"].as_str().unwrap().to_owned();
        let steps = format!("/api/v1/hours/{h}/steps");
        let res = send_json(
            &mut worker,
            Method::POST,
            &steps,
            serde_json::json!({"step": "confirm"}),
        )
        .await;
        assert_eq!(res.json()["state"], "public", "{}", res.text);
        let res = send_json(
            &mut worker,
            Method::POST,
            &steps,
            serde_json::json!({"step": "record"}),
        )
        .await;
        refused(&res, "step", "hours.publicity_running");
        app.advance_minutes(3 * 24 * 60);
        // Three days on, the session has expired: sign in again.
        let mut worker = app.client();
        worker.login("socialworker_430202001", PASSWORD).await;
        let res = send_json(
            &mut worker,
            Method::POST,
            &steps,
            serde_json::json!({"step": "record"}),
        )
        .await;
        assert_eq!(res.json()["state"], "recorded", "{}", res.text);
        let res = send_json(
            &mut worker,
            Method::POST,
            &steps,
            serde_json::json!({"step": "revoke"}),
        )
        .await;
        refused(&res, "reason", "hours.reason_required");

        // A certificate from the organising station, masked on its page.
        let res = send_json(
            &mut worker,
            Method::POST,
            &format!("/api/v1/volunteers/{adult}/certificates"),
            serde_json::json!({"station_id": st, "person_in_charge": "张站长", "handler": "李社工",
                "period_from": "2000-01-01", "period_to": "2099-12-31"}),
        )
        .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
        assert_eq!(res.json()["minutes"], 20);
        let cert = res.json()["id"].as_str().unwrap().to_owned();
        let page = worker.get(&format!("/volunteer-certificates/{cert}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(!page.text.contains(&adult_id));
        assert!(page.select("#cert-hours")[0].trim().starts_with("0.3"));
        let vpage = worker.get(&format!("/volunteers/{adult}")).await;
        let approval = vpage.select("#star-approval").concat();
        assert!(
            approval.contains("1★ 县级") && approval.contains("5★ 省级"),
            "{approval}"
        );
        assert!(
            vpage
                .select("#certificates")
                .concat()
                .contains("ZM430202001")
        );

        // The export for the national system: masked, or in full with a reason (audited).
        let mut admin = app.login_as(Role::CivilAffairsAdmin, "430202").await;
        let x = admin.get("/volunteer-hours/export.xlsx").await;
        assert_eq!(x.status, StatusCode::OK);
        let text = xlsx_text(&x.bytes);
        assert!(
            text.contains("刘思雨") && text.contains("防汛巡查") && !text.contains(&adult_id),
            "{text}"
        );
        let x = admin.get("/volunteer-hours/export.xlsx?full=1").await;
        assert_eq!(x.status, StatusCode::UNPROCESSABLE_ENTITY);
        let x = admin.get("/volunteer-hours/export.xlsx?full=1&reason=%E5%AF%BC%E5%85%A5%E5%85%A8%E5%9B%BD%E7%B3%BB%E7%BB%9F").await;
        assert!(xlsx_text(&x.bytes).contains(&adult_id));
        assert_eq!(
            count(&app, "SELECT COUNT(*) FROM audit_log WHERE entity = 'volunteer_hours' AND action = 'export'").await,
            2
        );

        // The county's dashboard reads the maintained counters: two active volunteers.
        let dash = admin.get("/stats/430202").await;
        assert_eq!(dash.select("#kpi-volunteers"), ["2"], "{}", dash.text.len());

        // The same counters in the open data.
        let rows = admin
            .get("/api/v1/stats/community?region=430202&by=volunteer_hours&from=2000-01&to=2099-12")
            .await
            .json();
        assert_eq!(rows[0]["minutes"], 20, "{rows}");
        let stars = admin
            .get("/api/v1/stats/community?region=430202")
            .await
            .json();
        assert_eq!(stars[0]["key"], "0", "{stars}");
        assert_eq!(stars[0]["count"], 2, "{stars}");

        // Another township sees none of it.
        let mut other = app.login_as(Role::SocialWorker, "430202002").await;
        for path in [
            format!("/api/v1/activities/{a}"),
            format!("/api/v1/hours/{h}"),
            format!("/volunteer-activities/{a}"),
            format!("/volunteer-hours/{h}"),
            format!("/volunteer-certificates/{cert}"),
        ] {
            assert_eq!(
                other.get(&path).await.status,
                StatusCode::NOT_FOUND,
                "{path}"
            );
        }
        let res = send_json(
            &mut other,
            Method::POST,
            &steps,
            serde_json::json!({"step": "revoke", "reason": "x"}),
        )
        .await;
        assert_eq!(res.status, StatusCode::NOT_FOUND);
        assert_eq!(other.get("/api/v1/hours").await.json()["total"], 0);
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM audit_log WHERE entity = 'volunteer_hours' AND action IN ('confirm', 'record')"
            )
            .await,
            2
        );
    }
);

app_test!(
    pages_name_refused_fields_and_the_qr_code_signs_volunteers_in,
    |app| {
        let mut worker = app.login_as(Role::SocialWorker, "430202001").await;
        let org = super::fixtures::agency(&app, "月塘社工服务中心", "430202").await;
        let st = super::fixtures::station(&app, "430202001", "月塘街道社工站", &org).await;
        // The empty form names its fields; nothing written.
        let res = worker
            .post_form(
                "/volunteer-activities",
                &[("station", st.as_str()), ("quota", "0")],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        for f in ["name", "starts_at", "ends_at", "address", "quota"] {
            assert!(
                !res.select(&format!("#{f}-error")).is_empty(),
                "{f}: {}",
                res.text
            );
        }
        assert_eq!(
            count(&app, "SELECT COUNT(*) FROM volunteer_activities").await,
            0
        );

        let now = app.state.now();
        let at = |m: i64| shegong_web::ui::list::local_input(now + m * 60_000);
        let (from, to) = (at(-30), at(120));
        let res = worker
            .post_form(
                "/volunteer-activities",
                &[
                    ("station", st.as_str()),
                    ("name", "探访独居老人"),
                    ("starts_at", &from),
                    ("ends_at", &to),
                    ("address", "月塘街道社工站"),
                    ("quota", "10"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        let a = res
            .location()
            .trim_start_matches("/volunteer-activities/")
            .split('?')
            .next()
            .unwrap()
            .to_owned();
        let res = worker
            .post_form(
                &format!("/volunteer-activities/{a}/status"),
                &[("step", "open")],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        let v = register(
            &mut worker,
            serde_json::json!({"name": "刘思雨", "id_number": id_number("19900307", 2), "region": "430202001", "mobile": "13873312345"}),
        )
        .await;
        let no = worker.get(&format!("/api/v1/volunteers/{v}")).await.json()["volunteer_no"]
            .as_str()
            .unwrap()
            .to_owned();
        let res = worker
            .post_form(
                &format!("/volunteer-activities/{a}/signups"),
                &[("volunteer_id", no.as_str())],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        let qr = worker
            .get(&format!("/volunteer-activities/{a}/qr.svg"))
            .await;
        assert_eq!(qr.status, StatusCode::OK);
        assert!(qr.text.contains("<svg"));

        // The volunteer scans the code: no login, number and the mobile's last four digits.
        let token = {
            let mut c = app.state.db.read().await.unwrap();
            shegong_store::sql::Sql::new("SELECT qr_token FROM volunteer_activities")
                .fetch_one::<(String,)>(&mut c)
                .await
                .unwrap()
                .0
        };
        let mut phone = app.client();
        let page = phone.get(&format!("/checkin/{token}")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        let res = phone
            .post_form(
                &format!("/checkin/{token}"),
                &[("volunteer_no", no.as_str()), ("mobile_tail", "0000")],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(!res.select("#checkin-error").is_empty());
        let res = phone
            .post_form(
                &format!("/checkin/{token}"),
                &[("volunteer_no", no.as_str()), ("mobile_tail", "2345")],
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        assert!(!res.select("#checkin-done").is_empty());
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM volunteer_attendance WHERE method = 'qr' AND sign_out IS NULL"
            )
            .await,
            1
        );
        assert_eq!(
            phone.get("/checkin/0000").await.status,
            StatusCode::NOT_FOUND
        );
        // Guessing the four digits: after 20 wrong tries on the activity's code (any numbers),
        // even the right digits are refused for the rest of the quarter-hour.
        for _ in 0..shegong_web::volunteers::checkin::MAX_FAILURES {
            let res = phone
                .post_form(
                    &format!("/checkin/{token}"),
                    &[
                        ("volunteer_no", no.as_str()),
                        ("mobile_tail", "1111"),
                        ("out", "1"),
                    ],
                )
                .await;
            assert!(res.text.contains("checkin-error"), "{}", res.text);
        }
        let res = phone
            .post_form(
                &format!("/checkin/{token}"),
                &[
                    ("volunteer_no", no.as_str()),
                    ("mobile_tail", "2345"),
                    ("out", "1"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            res.select("#checkin-error").concat().contains("15"),
            "{}",
            res.text
        );
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM volunteer_attendance WHERE sign_out IS NULL"
            )
            .await,
            1
        );
        // The organiser's page lists the session and the national export is masked.
        let page = worker.get(&format!("/volunteer-activities/{a}")).await;
        assert!(page.select("#attendance").concat().contains(&no));
        // The residents on file it served: one community service record, once, counted.
        let res = send_json(
            &mut worker,
            Method::POST,
            "/api/v1/residents",
            serde_json::json!({"name": "张老汉", "birth_date": "1950-05-01", "region": "430202001",
                "legal_basis": "statutory_duty"}),
        )
        .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
        let resident = res.json()["id"].as_str().unwrap().to_owned();
        let res = worker
            .post_form(
                &format!("/volunteer-activities/{a}/service"),
                &[("domain", "elderly"), ("participants", resident.as_str())],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        let page = worker.get(&format!("/volunteer-activities/{a}")).await;
        assert_eq!(page.select("#service-link").len(), 1);
        let res = send_json(
            &mut worker,
            Method::POST,
            &format!("/api/v1/activities/{a}/service"),
            serde_json::json!({"domain": "elderly", "resident_ids": [resident]}),
        )
        .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
        assert_eq!(res.json()["errors"][0]["code"], "activity.service_already");
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM services WHERE kind = 'community' AND person_times = 1"
            )
            .await,
            1
        );
        // Exports need the export permission.
        let export = worker.get("/volunteer-hours/export.xlsx").await;
        assert_eq!(export.status, StatusCode::FORBIDDEN);
    }
);
