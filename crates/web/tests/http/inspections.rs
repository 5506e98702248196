//! Inspections over HTTP: a supervising office plans, records a visit with a checklist and a
//! rectification, the station reports it done and the office verifies and closes it; nobody
//! outside the region sees or moves any of it.

use super::*;

/// A directly run township station, created through the form; returns its id.
pub async fn direct_station(c: &mut Client, region: &str, name: &str) -> String {
    let res = c
        .post_form(
            "/stations",
            &[
                ("tier", "township_station"),
                ("region", region),
                ("name", name),
                ("status", "operating"),
                ("status_since", "2024-01-01"),
                ("mode", "direct"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    res.location()
        .trim_start_matches("/stations/")
        .split('?')
        .next()
        .unwrap()
        .to_owned()
}

/// The id after `prefix` in the first link that has it.
fn linked_id(res: &Res, prefix: &str) -> String {
    let start = res
        .text
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix}: {}", res.text));
    res.text[start + prefix.len()..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect()
}

app_test!(
    a_visit_and_its_rectification_go_from_open_to_closed,
    |app| {
        let mut office = app.login_as(Role::CivilAffairsAdmin, "430203").await;
        let station = direct_station(&mut office, "430203001", "贺家土街道社工站").await;
        // The county's checklist has one item.
        let res = office
            .post_form(
                "/indicators",
                &[
                    ("category", "site"),
                    ("name", "场地面积达标"),
                    ("evidence", "photo"),
                    ("weight", "2"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);

        // A plan for the county.
        let res = office
            .post_form(
                "/inspections/plans",
                &[
                    ("title", "2025 年度督导"),
                    ("starts_on", "2025-03-01"),
                    ("ends_on", "2025-03-31"),
                    ("region", "430203"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        assert_eq!(res.location(), "/inspections?notice=notice.saved");
        let index = office.get("/inspections").await;
        assert_eq!(index.status, StatusCode::OK);
        assert!(
            index
                .select("#plans td")
                .iter()
                .any(|c| c.contains("2025 年度督导")),
            "{}",
            index.text
        );
        // A plan outside the office's region is refused with the field named.
        let res = office
            .post_form(
                "/inspections/plans",
                &[
                    ("title", "越权"),
                    ("starts_on", "2025-03-01"),
                    ("ends_on", "2025-03-31"),
                    ("region", "430202"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);

        // The visit form lists the checklist; record one item met and one rectification.
        let form = office
            .get(&format!("/inspections/visits/new?station={station}"))
            .await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.text);
        let met = format!("met_{}", linked_id(&form, "name=\"met_"));
        let fields = vec![
            (met.as_str(), "1"),
            ("station", station.as_str()),
            ("visited_on", "2025-03-10"),
            ("inspector", "督导员"),
            ("findings", "台账不全"),
            ("rect_desc_1", "补齐服务台账"),
            ("rect_owner_1", "站长"),
            ("rect_deadline_1", "2025-04-10"),
        ];
        // A rectification without an owner is refused and nothing is recorded.
        let mut incomplete = fields.clone();
        incomplete.retain(|(k, _)| *k != "rect_owner_1");
        let res = office.post_form("/inspections/visits", &incomplete).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        let res = office.post_form("/inspections/visits", &fields).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        let visit_path = res.location().split('?').next().unwrap().to_owned();
        assert!(
            visit_path.starts_with("/inspections/visits/"),
            "{visit_path}"
        );
        let visit = office.get(&visit_path).await;
        assert_eq!(visit.status, StatusCode::OK);
        assert!(
            visit
                .select("#rectifications td")
                .iter()
                .any(|c| c.contains("补齐服务台账")),
            "{}",
            visit.text
        );
        let rect = format!(
            "/inspections/rectifications/{}",
            linked_id(&visit, "/inspections/rectifications/")
        );
        // The station page shows the visit and the open rectification.
        let page = office.get(&format!("/stations/{station}")).await;
        assert!(
            page.select("#indicators td")
                .iter()
                .any(|c| c.contains("场地面积达标"))
        );
        assert!(
            page.select("#visits td")
                .iter()
                .any(|c| c.contains("督导员"))
        );
        assert!(
            page.select("#rectifications td")
                .iter()
                .any(|c| c.contains("补齐服务台账"))
        );

        // The station's worker reports it done; a report without a response is refused.
        let mut worker = app.login_as(Role::SocialWorker, "430203").await;
        let res = worker.post_form(&rect, &[("to", "submitted")]).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        // Verifying is the supervising office's, not the station's.
        let res = worker.post_form(&rect, &[("to", "verified")]).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        let res = worker
            .post_form(&rect, &[("to", "submitted"), ("response", "已补齐")])
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        assert_eq!(res.location(), format!("{rect}?notice=notice.saved"));
        // Closing straight from submitted skips verification: refused.
        let res = office.post_form(&rect, &[("to", "closed")]).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        for to in ["verified", "closed"] {
            let res = office.post_form(&rect, &[("to", to)]).await;
            assert_eq!(res.status, StatusCode::SEE_OTHER, "{to}: {}", res.text);
        }
        let api = office
            .get(&format!("/api/v1/inspections?station={station}"))
            .await
            .json();
        assert_eq!(api["total"], 1);
        assert_eq!(api["items"][0]["rectifications"][0]["status"], "closed");
        assert_eq!(api["items"][0]["rectifications"][0]["response"], "已补齐");
    }
);

app_test!(inspections_outside_the_region_are_not_found, |app| {
    let mut office = app.login_as(Role::CivilAffairsAdmin, "430203").await;
    let station = direct_station(&mut office, "430203001", "贺家土街道社工站").await;
    let res = office
        .post_form(
            "/inspections/visits",
            &[
                ("station", station.as_str()),
                ("visited_on", "2025-03-10"),
                ("inspector", "督导员"),
                ("rect_desc_1", "门牌缺失"),
                ("rect_owner_1", "站长"),
                ("rect_deadline_1", "2025-04-10"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let visit_path = res.location().split('?').next().unwrap().to_owned();
    let visit = office.get(&visit_path).await;
    let rect = format!(
        "/inspections/rectifications/{}",
        linked_id(&visit, "/inspections/rectifications/")
    );

    // Another county's office and worker: not found, whether reading or changing.
    let mut other = app.login_as(Role::CivilAffairsAdmin, "430202").await;
    let mut other_worker = app.login_as(Role::SocialWorker, "430202").await;
    for c in [&mut other, &mut other_worker] {
        assert_eq!(c.get(&visit_path).await.status, StatusCode::NOT_FOUND);
        assert_eq!(c.get(&rect).await.status, StatusCode::NOT_FOUND);
        let res = c
            .post_form(&rect, &[("to", "submitted"), ("response", "越权")])
            .await;
        assert_eq!(res.status, StatusCode::NOT_FOUND);
        let api = c.get("/api/v1/inspections").await.json();
        assert_eq!(api["total"], 0);
        let list = c.get("/inspections").await;
        assert!(!list.text.contains("门牌缺失"));
    }
    assert_eq!(
        other
            .get(&format!("/inspections/visits/new?station={station}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let res = other
        .post_form(
            "/inspections/visits",
            &[
                ("station", station.as_str()),
                ("visited_on", "2025-03-10"),
                ("inspector", "越权"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    // Planning and visiting are the supervising office's: a worker is forbidden.
    let mut worker = app.login_as(Role::SocialWorker, "430203").await;
    let res = worker
        .post_form(
            "/inspections/plans",
            &[
                ("title", "越权"),
                ("starts_on", "2025-03-01"),
                ("ends_on", "2025-03-31"),
                ("region", "430203"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let res = worker
        .get(&format!("/inspections/visits/new?station={station}"))
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    // The region's own worker still sees it.
    assert_eq!(worker.get(&rect).await.status, StatusCode::OK);
});
