//! 急难愁盼 over HTTP (issue 16 item 3): a red issue raised from the form (every refused field
//! named, nothing written), moved through the API, overdue as the clock passes its due time,
//! answered, rated unsatisfied and answered again, archived; the list filter, the Excel export,
//! the week's tally; audit; scope (404 outside).

use super::fixtures::{count, send_json};
use super::*;

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

app_test!(
    a_red_issue_goes_overdue_and_is_answered_rated_and_archived,
    |app| {
        let mut worker = app.login_as(Role::SocialWorker, "430202001").await;
        // The form names every missing field; nothing is written.
        let res = worker
            .post_form(
                "/community-issues",
                &[
                    ("subject", "community"),
                    ("title", ""),
                    ("colour", "purple"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        for f in ["title", "colour", "origin", "category"] {
            assert!(!res.select(&format!("#{f}-error")).is_empty(), "{f}");
        }
        assert_eq!(
            count(&app, "SELECT COUNT(*) FROM community_issues").await,
            0
        );
        let res = worker
            .post_form(
                "/community-issues",
                &[
                    ("subject", "community"),
                    ("region", "430202001"),
                    ("origin", "resident_meeting"),
                    ("category", "utilities"),
                    ("title", "三单元楼道灯不亮"),
                    ("colour", "red"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        let id = res
            .location()
            .trim_start_matches("/community-issues/")
            .split('?')
            .next()
            .unwrap()
            .to_owned();
        let path = format!("/api/v1/issues/{id}");
        let issue = worker.get(&path).await.json();
        assert_eq!(issue["issue"]["state"], "registered", "{issue}");
        assert_eq!(issue["issue"]["overdue"], false);
        // A person's issue names a file the writer may open.
        let res = send_json(
            &mut worker,
            Method::POST,
            "/api/v1/issues",
            serde_json::json!({"subject": "person", "resident_id": "nobody", "origin": "visit",
            "category": "elderly", "title": "独居老人需要助餐", "colour": "yellow"}),
        )
        .await;
        refused(&res, "resident_id", "issue.resident_unknown");
        // A resident's file links to the form with the person filled in.
        let form = worker
            .get("/community-issues/new?subject=person&resident_id=r-42&origin=visit&title=x")
            .await;
        assert_eq!(form.select("#resident_id[value='r-42']").len(), 1);
        assert_eq!(form.select("#title[value='x']").len(), 0);

        let step = |s: &'static str, extra: serde_json::Value| {
            let mut b = serde_json::json!({"step": s});
            if let Some(o) = extra.as_object() {
                for (k, v) in o {
                    b[k] = v.clone();
                }
            }
            b
        };
        let at = format!("{path}/step");
        refused(
            &send_json(
                &mut worker,
                Method::POST,
                &at,
                step("answer", serde_json::json!({"note": "已修"})),
            )
            .await,
            "step",
            "issue.step_not_allowed",
        );
        for (s, extra) in [
            ("verify", serde_json::json!({})),
            (
                "assign",
                serde_json::json!({"responsibility": "community", "handler": "月塘社区居委会"}),
            ),
            ("handle", serde_json::json!({})),
        ] {
            let res = send_json(&mut worker, Method::POST, &at, step(s, extra)).await;
            assert_eq!(res.status, StatusCode::OK, "{s}: {}", res.text);
        }
        // A day and an hour on, the red issue is overdue: the list's filter and the page say so.
        app.advance_minutes(25 * 60);
        // (The session expired meanwhile.)
        let mut worker = app.client();
        worker
            .login("socialworker_430202001", super::PASSWORD)
            .await;
        let list = worker.get("/api/v1/issues?overdue=1").await.json();
        assert_eq!(list["total"], 1, "{list}");
        let page = worker.get(&format!("/community-issues/{id}")).await;
        assert!(!page.select("#issue-due .tag-bad").is_empty());
        let page = worker.get("/community-issues?overdue=1").await;
        assert_eq!(page.select("#issues tbody tr").len(), 1);
        // Answered from the page; rated unsatisfied, handled and answered again; rated, archived.
        let res = worker
            .post_form(
                &format!("/community-issues/{id}/step"),
                &[("step", "answer"), ("note", "")],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(!res.select("#step-error").is_empty());
        let res = worker
            .post_form(
                &format!("/community-issues/{id}/step"),
                &[("step", "answer"), ("note", "已联系物业更换灯泡")],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        assert_eq!(
            worker.get("/api/v1/issues?overdue=1").await.json()["total"],
            0
        );
        for s in ["rate_unsatisfied", "answer", "rate_satisfied", "archive"] {
            let res = send_json(
                &mut worker,
                Method::POST,
                &at,
                step(s, serde_json::json!({"note": "更换整套灯具"})),
            )
            .await;
            assert_eq!(res.status, StatusCode::OK, "{s}: {}", res.text);
        }
        let issue = worker.get(&path).await.json();
        assert_eq!(issue["issue"]["state"], "archived");
        assert_eq!(issue["issue"]["shown_colour"], "green");
        assert_eq!(issue["steps"].as_array().unwrap().len(), 9);

        // The week's tally and the Excel export.
        let tally = worker.get("/api/v1/issues/tally?period=month").await.json();
        assert_eq!(tally["communities"][0]["raised"], 1, "{tally}");
        assert_eq!(tally["communities"][0]["red"], 1);
        assert_eq!(tally["communities"][0]["on_time"], 0);
        let res = worker.get("/api/v1/issues/tally?period=year").await;
        refused(&res, "period", "issue.period_unknown");
        let page = worker.get("/community-issues/tally?period=month").await;
        assert_eq!(page.select("#tally tbody tr").len(), 1);
        // Social workers do not export; the county's administrator does.
        assert_eq!(
            worker.get("/community-issues/export.xlsx").await.status,
            StatusCode::FORBIDDEN
        );
        let mut admin = app.login_as(Role::CivilAffairsAdmin, "430202").await;
        let xlsx = admin.get("/community-issues/export.xlsx").await;
        assert_eq!(xlsx.status, StatusCode::OK);
        // The county's dashboard counts it from the maintained counters; so does the open data.
        let dash = admin.get("/stats/430202").await;
        assert_eq!(dash.select("#kpi-issues"), ["1"]);
        let rows = admin
            .get("/api/v1/stats/community?region=430202&by=issues&from=2000-01&to=2099-12")
            .await
            .json();
        let keys: Vec<&str> = rows
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["key"].as_str().unwrap())
            .collect();
        assert_eq!(keys, ["answered", "raised_red"], "{rows}");
        assert_eq!(
        count(&app, "SELECT COUNT(*) FROM audit_log WHERE entity = 'community_issue' AND action = 'transition'").await,
        8
    );

        // Another township sees nothing of it.
        let mut other = app.login_as(Role::SocialWorker, "430202002").await;
        assert_eq!(other.get(&path).await.status, StatusCode::NOT_FOUND);
        assert_eq!(
            other.get(&format!("/community-issues/{id}")).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(other.get("/api/v1/issues").await.json()["total"], 0);
        let res = send_json(
            &mut other,
            Method::POST,
            &at,
            step("archive", serde_json::json!({})),
        )
        .await;
        assert_eq!(res.status, StatusCode::NOT_FOUND);
    }
);
