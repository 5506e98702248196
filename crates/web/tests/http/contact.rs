//! Contact details for the people working on a file (issue 19): the resident's responsible
//! worker and the supervisor of an open case see the phone numbers and address in full on the
//! file page and in the API, as tap-to-call links, each view audited without a reason; a
//! colleague at the same station sees them masked, as before.

use super::fixtures::{agency, count, login, station};
use super::*;

const TOWN: &str = "430202001";
const PHONE: &str = "13812345678";

async fn me(c: &mut Client) -> String {
    c.get("/api/v1/me").await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn reveals(app: &TestApp) -> i64 {
    count(
        app,
        "SELECT COUNT(*) FROM audit_log WHERE action = 'reveal' AND entity = 'resident'",
    )
    .await
}

app_test!(
    the_people_working_on_a_file_see_its_contact_details,
    |app| {
        let org = agency(&app, "阳光社工服务中心", "430202").await;
        let st = station(&app, TOWN, "月塘社工站", &org).await;
        let mut own = login(&app, "own_worker", Role::SocialWorker, TOWN, Some(&org)).await;
        let mut mate = login(&app, "mate_worker", Role::SocialWorker, TOWN, Some(&org)).await;
        let mut sup = login(&app, "case_super", Role::Supervisor, TOWN, Some(&org)).await;
        let (own_id, sup_id) = (me(&mut own).await, me(&mut sup).await);

        let res = own
            .post_form(
                "/residents",
                &[
                    ("name", "刘桂英"),
                    ("birth_date", "1940-05-05"),
                    ("phone", PHONE),
                    ("address", "月塘街道幸福路 12 号 3 栋"),
                    ("guardian_name", "刘强"),
                    ("guardian_phone", "13900001111"),
                    ("region", TOWN),
                    ("risk_tier", "key"),
                    ("legal_basis", "statutory_duty"),
                    ("station", st.as_str()),
                    ("worker", own_id.as_str()),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        let id = res
            .location()
            .trim_start_matches("/residents/")
            .split('?')
            .next()
            .unwrap()
            .to_owned();

        // The responsible worker: in full, tap-to-call, no reason asked; the view is audited.
        let before = reveals(&app).await;
        let page = own.get(&format!("/residents/{id}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(page.select("#phone"), vec![PHONE]);
        assert_eq!(page.select("#address"), vec!["月塘街道幸福路 12 号 3 栋"]);
        let html = page.html();
        let call = scraper::Selector::parse("#phone a[href]").unwrap();
        let hrefs: Vec<&str> = html
            .select(&call)
            .filter_map(|a| a.value().attr("href"))
            .collect();
        assert_eq!(hrefs, vec!["tel:+8613812345678"]);
        assert!(
            page.text.contains("tel:+8613900001111"),
            "guardian tap-to-call"
        );
        assert_eq!(page.select("#contact-basis").len(), 1);
        assert!(page.select("#reveal-form").is_empty(), "no reason prompt");
        assert_eq!(reveals(&app).await, before + 1, "each view is audited");
        let api = own.get(&format!("/api/v1/residents/{id}")).await.json();
        assert_eq!(api["contact"]["phone"], PHONE, "{api}");
        assert_eq!(api["contact"]["basis"], "assigned_worker");
        assert_eq!(api["contact"]["address"], "月塘街道幸福路 12 号 3 栋");
        assert_eq!(reveals(&app).await, before + 2);
        let entry = own.get(&format!("/residents/{id}")).await;
        assert_eq!(entry.status, StatusCode::OK);
        assert_eq!(reveals(&app).await, before + 3);

        // A colleague at the same station: masked, no tap-to-call, nothing audited; the API has no
        // contact details for them.
        let page = mate.get(&format!("/residents/{id}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(page.select("#phone"), vec!["138****5678"]);
        assert!(!page.text.contains(PHONE) && !page.text.contains("3 栋"));
        assert!(!page.text.contains("tel:"));
        assert!(page.select("#contact-basis").is_empty());
        let api = mate.get(&format!("/api/v1/residents/{id}")).await.json();
        assert!(api.get("contact").is_none(), "{api}");
        assert_eq!(api["phone_masked"], "138****5678");
        assert_eq!(reveals(&app).await, before + 3);

        // The supervisor before any case: masked. Once supervising an open case of the file
        // (worked by the colleague): in full, audited; the case's worker still sees it masked.
        let page = sup.get(&format!("/residents/{id}")).await;
        assert_eq!(page.select("#phone"), vec!["138****5678"]);
        let mate_id = me(&mut mate).await;
        let res = own
            .post_form(
                &format!("/residents/{id}/cases"),
                &[
                    ("problem", "独居，行动不便"),
                    ("worker", mate_id.as_str()),
                    ("supervisor", sup_id.as_str()),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        let page = sup.get(&format!("/residents/{id}")).await;
        assert_eq!(page.select("#phone"), vec![PHONE]);
        assert!(page.text.contains("tel:+8613812345678"));
        assert_eq!(reveals(&app).await, before + 4);
        let api = sup.get(&format!("/api/v1/residents/{id}")).await.json();
        assert_eq!(api["contact"]["basis"], "case_supervisor", "{api}");
        let page = mate.get(&format!("/residents/{id}")).await;
        assert_eq!(page.select("#phone"), vec!["138****5678"]);

        // The audit entry names the basis, not a reason.
        let mut auditor = app.login_as(Role::Auditor, "4302").await;
        let log = auditor.get("/api/v1/audit?action=reveal").await.json();
        let text = log.to_string();
        assert!(
            text.contains("assigned_worker") && text.contains("case_supervisor"),
            "{log}"
        );
    }
);
