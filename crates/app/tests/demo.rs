//! The demo data of `serve --demo`, seeded into the web application as the binary does.

// Integration tests fail by panicking: helpers unwrap, expect and index like the tests they serve.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Method, Request, StatusCode, header};
use shegong_app::demo;
use shegong_domain::Scope;
use shegong_domain::purchase::contract::BudgetCategory;
use shegong_domain::purchase::evaluation::conflict_of_interest;
use shegong_store::network::{org_links, orgs};
use shegong_store::purchase::{contracts, evaluations, execution};
use shegong_store::testing::TestDb;
use shegong_store::workforce::staff;
use shegong_store::{Conn, PageRequest};
use shegong_web::{AppState, Config};
use tower::ServiceExt;

/// The web application on a test database, built as `crates/web/tests/http`'s `TestApp` is.
struct TestApp {
    /// Kept for the database's lifetime.
    _db: TestDb,
    state: AppState,
    router: Router,
}

impl TestApp {
    async fn new(db: TestDb) -> Self {
        let config = Config {
            twofactor_for_administrators: false,
            ..Config::default()
        };
        Self::with_config(db, config).await
    }

    async fn with_config(db: TestDb, mut config: Config) -> Self {
        config.database_url = db.url.clone();
        config.attachments_dir = std::env::temp_dir()
            .join(format!("shegong-test-files-{}", uuid::Uuid::now_v7()))
            .display()
            .to_string();
        let clock: shegong_web::Clock = Arc::new(shegong_store::now_millis);
        let keys = shegong_store::crypto::KeyRing::from_spec(
            &shegong_store::crypto::KeyRing::generate_spec(
                shegong_store::crypto::Algorithm::Aes256Gcm,
            ),
        )
        .unwrap();
        let state = AppState::new(db.db.clone(), config, clock, keys);
        let router = shegong_web::router(state.clone());
        Self {
            _db: db,
            state,
            router,
        }
    }

    fn client(&self) -> Client {
        Client {
            router: self.router.clone(),
            cookies: BTreeMap::new(),
        }
    }
}

/// A browser of the in-process router: cookies, and the CSRF token of the sign-in page.
struct Client {
    router: Router,
    cookies: BTreeMap<String, String>,
}

struct Res {
    status: StatusCode,
}

impl Client {
    async fn send(
        &mut self,
        method: Method,
        path: &str,
        form: Option<String>,
    ) -> (StatusCode, String) {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, "localhost");
        if !self.cookies.is_empty() {
            let cookie = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            req = req.header(header::COOKIE, cookie);
        }
        let body = match form {
            Some(f) => {
                req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                Body::from(f)
            }
            None => Body::empty(),
        };
        let res = self
            .router
            .clone()
            .oneshot(req.body(body).unwrap())
            .await
            .unwrap();
        for v in res.headers().get_all(header::SET_COOKIE) {
            let s = v.to_str().unwrap();
            let kv = s.split(';').next().unwrap_or(s);
            let (k, val) = kv.split_once('=').unwrap();
            self.cookies.insert(k.to_owned(), val.to_owned());
        }
        let status = res.status();
        let bytes = to_bytes(res.into_body(), 50 * 1024 * 1024).await.unwrap();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Sign in through the form, with the CSRF token of the sign-in page.
    async fn login(&mut self, username: &str, password: &str) -> Res {
        let (_, page) = self.send(Method::GET, "/login", None).await;
        let token = page
            .split("name=\"_csrf\" value=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .expect("a CSRF field on the sign-in page");
        let form = format!(
            "username={}&password={}&_csrf={}",
            encode(username),
            encode(password),
            encode(token)
        );
        let (status, _) = self.send(Method::POST, "/login", Some(form)).await;
        Res { status }
    }
}

/// Form encoding: everything but unreserved characters percent-encoded.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_accounts_sign_in_only_in_demo_mode() {
    let config = Config {
        demo: true,
        ..Default::default()
    };
    let demo = TestApp::with_config(shegong_store::testing::sqlite().await, config).await;
    assert!(demo::seed(&demo.state).await.unwrap());
    let mut c = demo.client();
    assert_eq!(
        c.login("ls_admin", demo::PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    // The same database served without --demo refuses them.
    let plain = TestApp::new(shegong_store::testing::sqlite().await).await;
    assert!(demo::seed(&plain.state).await.unwrap());
    let mut c = plain.client();
    assert_eq!(
        c.login("ls_admin", demo::PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_gives_the_public_portal_purchase_records_to_show() {
    let demo = TestApp::new(shegong_store::testing::sqlite().await).await;
    assert!(demo::seed(&demo.state).await.unwrap());
    // Without signing in: 株洲市's published catalogue, its contract notices and the published
    // grade of 芦淞区's mid-term evaluation (the spot check still in progress is not shown).
    let mut c = demo.client();
    let (status, body) = c
        .send(Method::GET, "/api/v1/public/purchase?region=4302", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let j: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(j["catalogue"]["total"], 1, "{body}");
    let items = j["catalogue"]["items"][0]["items"].as_array().unwrap();
    assert!(
        items
            .iter()
            .any(|i| i["name"] == "乡镇（街道）社会工作服务站运营" && i["status"] == "purchasing"),
        "{body}"
    );
    assert_eq!(
        j["catalogue"]["items"][0]["removed"][0]["removal_reason"],
        "unpurchased_two_years"
    );
    assert!(j["contracts"]["total"].as_i64().unwrap() >= 2, "{body}");
    assert_eq!(j["evaluations"]["total"], 1, "{body}");
    let grade = &j["evaluations"]["items"][0];
    assert_eq!(grade["kind"], "mid_term");
    assert_eq!(grade["region_code"], "430203");
    let (status, page) = c
        .send(
            Method::GET,
            "/public/purchase?region=4302&tab=evaluations",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("中期评估"), "{page}");
    assert!(!page.contains("抽查"), "{page}");
}

/// Every budget line's spent figure is the sum of its expenses not voided, on every contract,
/// within the line; each contract has paid salaries, activities and supervision and nothing
/// else. Returns the voided expenses: (region, reason).
async fn assert_spent_is_the_expenses(
    c: &mut Conn,
    list: &[contracts::Contract],
) -> Vec<(String, Option<String>)> {
    let all = Scope::national();
    assert_eq!(execution::verify_spent(c).await.unwrap(), vec![]);
    let mut voided = Vec::new();
    for contract in list {
        let d = contracts::detail(c, &all, &contract.id).await.unwrap();
        let expenses = execution::expenses(c, &all, &contract.id).await.unwrap();
        for b in &d.budget {
            let counted: i64 = expenses
                .iter()
                .filter(|e| e.budget_seq == b.seq && e.voided_at.is_none())
                .map(|e| e.amount.0)
                .sum();
            let what = format!("{} line {} ({})", contract.number, b.seq, b.line.category);
            assert_eq!(b.spent.0, counted, "{what}");
            assert!(b.spent.0 <= b.line.amount.0, "{what}");
            let spends = matches!(
                b.line.category,
                BudgetCategory::Personnel
                    | BudgetCategory::Activities
                    | BudgetCategory::SupervisionTraining
            );
            assert_eq!(b.spent.0 > 0, spends, "{what}");
        }
        voided.extend(
            expenses
                .iter()
                .filter(|e| e.voided_at.is_some())
                .map(|e| (contract.region_code.clone(), e.void_reason.clone())),
        );
    }
    voided
}

/// The contract's posts have holders, each within its headcount and each an active staff
/// member of the provider.
async fn assert_posts_held_by_provider_staff(c: &mut Conn, contract: &contracts::Contract) {
    let all = Scope::national();
    let posts = execution::positions(c, &all, &contract.id).await.unwrap();
    assert!(!posts.is_empty());
    assert!(posts[0].filled() >= 1, "{posts:?}");
    for p in &posts {
        assert!(p.filled() <= p.headcount, "{p:?}");
        for f in &p.fills {
            let person = staff::get(c, &all, &f.staff_id).await.unwrap();
            let employer = person.employer_org_id.as_deref();
            assert_eq!(employer, Some(contract.provider_org_id.as_str()));
            assert_eq!(person.status.as_str(), "active");
        }
    }
}

/// The evaluation centre is linked to one agency, not `provider`, and no demo evaluation is
/// scored by an organisation linked to the contract's provider.
async fn assert_no_conflict_of_interest(c: &mut Conn, provider: &str) {
    let all = Scope::national();
    let centre = orgs::list(c, &all)
        .await
        .unwrap()
        .into_iter()
        .find(|o| o.name == "株洲市明鉴社会工作评估中心")
        .unwrap();
    let links = org_links::links_of(c, &all, &centre.id).await.unwrap();
    assert_eq!(links.len(), 1, "{links:?}");
    assert_ne!(links[0].org_id, provider);
    let page = PageRequest::new(Some(1), Some(100));
    let evals = evaluations::list(c, &all, &evaluations::Filter::default(), page)
        .await
        .unwrap()
        .items;
    assert!(evals.len() >= 2);
    let id = |s: &str| uuid::Uuid::parse_str(s).unwrap();
    for e in &evals {
        let evaluator = e.evaluator_org_id.as_deref().unwrap();
        let pairs = org_links::pairs_of(c, evaluator).await.unwrap();
        assert!(
            !conflict_of_interest(id(evaluator), id(&e.provider_org_id), &pairs),
            "{} by {evaluator}",
            e.contract_number
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_contracts_spend_their_budgets_and_buy_posts_held_by_the_providers_staff() {
    let config = Config {
        demo: true,
        twofactor_for_administrators: false,
        ..Default::default()
    };
    let demo = TestApp::with_config(shegong_store::testing::sqlite().await, config).await;
    assert!(demo::seed(&demo.state).await.unwrap());
    let mut c = demo.state.db.read().await.unwrap();
    let page = PageRequest::new(Some(1), Some(100));
    let filter = contracts::Filter::default();
    let list = contracts::list(&mut c, &Scope::national(), &filter, page)
        .await
        .unwrap()
        .items;
    assert!(list.len() >= 2, "{list:?}");
    let voided = assert_spent_is_the_expenses(&mut c, &list).await;
    // One expense entered twice on 芦淞区's contract, voided with its reason.
    assert_eq!(voided.len(), 1, "{voided:?}");
    assert_eq!(voided[0].0, "430203");
    assert!(
        voided[0]
            .1
            .as_deref()
            .is_some_and(|r| r.contains("重复录入"))
    );
    let ls = list.iter().find(|k| k.region_code == "430203").unwrap();
    assert_posts_held_by_provider_staff(&mut c, ls).await;
    assert_no_conflict_of_interest(&mut c, &ls.provider_org_id).await;
    drop(c);

    // What the district's administrator sees: the spending and the holders, in the API.
    let mut client = demo.client();
    assert_eq!(
        client.login("ls_admin", demo::PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    let api = |what: &str| format!("/api/v1/contracts/{}/{what}", ls.id);
    let (status, body) = client.send(Method::GET, &api("expenses"), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let j: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(j["spent_fen"].as_i64().unwrap() > 0, "{body}");
    assert_ne!(j["execution_rate"], "—", "{body}");
    let (status, body) = client.send(Method::GET, &api("positions"), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let j: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(j[0]["filled"].as_i64().unwrap() >= 1, "{body}");
    assert!(j[0]["fills"][0]["staff_name"].as_str().is_some(), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_evaluation_in_progress_measures_core_and_basic_delivery_apart() {
    let demo = TestApp::new(shegong_store::testing::sqlite().await).await;
    assert!(demo::seed(&demo.state).await.unwrap());
    let all = Scope::national();
    let mut c = demo.state.db.read().await.unwrap();
    let page = PageRequest::new(Some(1), Some(100));
    let spot = evaluations::list(&mut c, &all, &evaluations::Filter::default(), page)
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|e| e.kind.as_str() == "spot_check")
        .expect("芦淞区's spot check");
    // Casework and groups are the contract's core lines, community activities its basic one.
    let d = contracts::detail(&mut c, &all, &spot.contract_id)
        .await
        .unwrap();
    let tiers: Vec<&str> = d.lines.iter().map(|l| l.line.tier.as_str()).collect();
    assert_eq!(tiers, ["core", "core", "basic"]);
    let sheet = evaluations::sheet(&mut c, &all, &spot.id).await.unwrap();
    let measured = |node: &str| {
        sheet
            .rows
            .iter()
            .find(|r| r.node.id == node)
            .and_then(|r| r.measured_bp)
    };
    let (core, basic) = (measured("core_delivery"), measured("basic_delivery"));
    assert!(core.is_some() && basic.is_some(), "{core:?} {basic:?}");
    assert_ne!(core, basic, "the two parts are measured apart");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_volunteers_have_a_season_of_activities_hours_in_every_state_and_a_time_bank() {
    use shegong_domain::timebank::HolderKind;
    use shegong_domain::volunteers::activities::{ActivityStatus, HourState};
    use shegong_store::timebank as tb;
    use shegong_store::volunteers::{activities, hours};
    let demo = TestApp::new(shegong_store::testing::sqlite().await).await;
    assert!(demo::seed(&demo.state).await.unwrap());
    let mut c = demo.state.db.read().await.unwrap();
    let all = Scope::national();
    let acts = activities::list_all(&mut c, &all, &Default::default(), 10_000)
        .await
        .unwrap();
    for s in [
        ActivityStatus::Draft,
        ActivityStatus::Open,
        ActivityStatus::Closed,
        ActivityStatus::Cancelled,
    ] {
        assert!(acts.iter().any(|a| a.status == s), "{s:?}");
    }
    assert!(acts.iter().any(|a| a.risky == 1));
    assert!(
        acts.iter()
            .filter(|a| a.risky == 1 && a.status != ActivityStatus::Draft)
            .all(|a| a.insurance_ref.is_some())
    );
    let recs = hours::list_all(&mut c, &all, &Default::default(), 100_000)
        .await
        .unwrap();
    for s in [
        HourState::Pending,
        HourState::Public,
        HourState::Recorded,
        HourState::Corrected,
        HourState::Revoked,
    ] {
        assert!(recs.iter().any(|h| h.state == s), "{s:?}");
    }
    assert!(
        recs.iter()
            .filter(|h| matches!(h.state, HourState::Corrected | HourState::Revoked))
            .all(|h| !h.reason.is_empty())
    );
    assert!(hours::verify(&mut c).await.unwrap().is_empty());
    let page = PageRequest::new(Some(1), Some(100));
    let accounts = tb::list_accounts(&mut c, &all, &Default::default(), page)
        .await
        .unwrap()
        .items;
    let earning: Vec<_> = accounts
        .iter()
        .filter(|a| a.holder_kind == Some(HolderKind::Volunteer))
        .collect();
    assert_eq!(earning.len(), 30);
    assert!(earning.iter().all(|a| a.balance > 0), "{earning:?}");
    assert_eq!(
        accounts
            .iter()
            .filter(|a| a.holder_kind == Some(HolderKind::Resident))
            .count(),
        3
    );

    // 贺家土's community fund: donations, stock, wishes in every state, paid disbursements.
    use shegong_domain::charity::{DisbursementState, WishState};
    use shegong_store::charity as ch;
    let funds = ch::list_funds(&mut c, &all, None, page)
        .await
        .unwrap()
        .items;
    assert_eq!(funds.len(), 1);
    let fund = &funds[0];
    assert!(fund.income_fen > 0, "{fund:?}");
    let wishes = ch::list_wishes(&mut c, &all, &Default::default(), page)
        .await
        .unwrap()
        .items;
    for s in WishState::ALL {
        assert!(wishes.iter().any(|w| w.state == *s), "{s:?}");
    }
    let paid = ch::list_disbursements(&mut c, &all, &Default::default(), page)
        .await
        .unwrap()
        .items;
    assert_eq!(
        paid.iter()
            .filter(|d| d.state == DisbursementState::Paid)
            .count(),
        3
    );
    assert!(paid.iter().any(|d| d.state == DisbursementState::Proposed));
    let stock = ch::stock(&mut c, &all, &fund.id).await.unwrap();
    assert!(
        stock.iter().any(|l| l.item == "大米" && l.quantity == 14),
        "{stock:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_ledger_has_issues_of_every_colour_in_every_state() {
    use shegong_domain::community::{Colour, IssueState};
    use shegong_store::community as cm;
    let demo = TestApp::new(shegong_store::testing::sqlite().await).await;
    assert!(demo::seed(&demo.state).await.unwrap());
    let mut c = demo.state.db.read().await.unwrap();
    let issues = cm::list(
        &mut c,
        &Scope::national(),
        &Default::default(),
        PageRequest::new(Some(1), Some(100)),
    )
    .await
    .unwrap()
    .items;
    assert_eq!(issues.len(), 40);
    for colour in Colour::ALL {
        assert!(issues.iter().any(|i| i.colour == *colour), "{colour:?}");
    }
    for s in IssueState::ALL {
        assert!(issues.iter().any(|i| i.state == *s), "{s:?}");
    }
    let now = demo.state.now();
    assert!(
        issues.iter().any(|i| i.overdue(now)),
        "some answered late or open past due"
    );
    assert!(issues.iter().any(|i| i.shown_colour() == "green"));
    assert!(
        issues
            .iter()
            .map(|i| &i.region_code)
            .collect::<std::collections::BTreeSet<_>>()
            .len()
            > 3
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_has_a_past_incident_with_a_deployment_and_services() {
    use shegong_domain::emergency::IncidentState;
    use shegong_store::emergency::{incidents, teams};
    let demo = TestApp::new(shegong_store::testing::sqlite().await).await;
    assert!(demo::seed(&demo.state).await.unwrap());
    let mut c = demo.state.db.read().await.unwrap();
    let all = Scope::national();
    let list = incidents::list_all(&mut c, &all, &Default::default(), 10)
        .await
        .unwrap();
    let i = list.first().expect("an incident");
    assert_eq!(i.state, IncidentState::Closed);
    let events = incidents::events(&mut c, &all, &i.id).await.unwrap();
    assert_eq!(events.len(), 5);
    let f = incidents::figures(&mut c, &all, &i.id).await.unwrap();
    assert!(f.deployed_members >= 2, "{f:?}");
    assert_eq!(f.services, 2);
    assert_eq!(f.person_times, 69);
    let t = teams::list(&mut c, &all, None, PageRequest::default())
        .await
        .unwrap();
    assert!(t.items.first().is_some_and(|t| t.members + t.reserves >= 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_hotline_has_a_month_of_tickets_in_every_state() {
    use shegong_domain::hotline::TicketState;
    use shegong_store::hotline::{self as hl, tickets as tk};
    let demo = TestApp::new(shegong_store::testing::sqlite().await).await;
    assert!(demo::seed(&demo.state).await.unwrap());
    let mut c = demo.state.db.read().await.unwrap();
    let all = Scope::national();
    let lines = hl::list(&mut c, &all, None, shegong_store::PageRequest::default())
        .await
        .unwrap();
    assert_eq!(lines.total, 1);
    let line = &lines.items[0];
    assert_eq!(hl::roster(&mut c, &all, &line.id).await.unwrap().len(), 7);
    let page = shegong_store::PageRequest::new(Some(1), Some(100));
    let ts = tk::list(&mut c, &all, &Default::default(), demo.state.now(), 5, page)
        .await
        .unwrap();
    assert_eq!(ts.total, 30);
    for s in [
        TicketState::Received,
        TicketState::Assigned,
        TicketState::Accepted,
        TicketState::InProgress,
        TicketState::Replied,
        TicketState::Closed,
        TicketState::FollowedUp,
        TicketState::Archived,
    ] {
        assert!(ts.items.iter().any(|t| t.state == s), "{s:?}");
    }
    assert!(ts.items.iter().any(|t| t.overdue(demo.state.now())));
    assert!(ts.items.iter().any(|t| t.external_no.is_some()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_needs_have_proposed_confirmed_and_completed_matches() {
    use shegong_domain::matching::{MatchState, NeedState};
    use shegong_store::matching::{matches as mm, needs as nd};
    let demo = TestApp::new(shegong_store::testing::sqlite().await).await;
    assert!(demo::seed(&demo.state).await.unwrap());
    let mut c = demo.state.db.read().await.unwrap();
    let all = Scope::national();
    let page = PageRequest::new(Some(1), Some(100));
    let needs = nd::list(&mut c, &all, &Default::default(), page)
        .await
        .unwrap()
        .items;
    assert!(needs.len() >= 10, "{}", needs.len());
    assert!(needs.iter().any(|n| n.state == NeedState::Met));
    assert!(needs.iter().any(|n| n.state == NeedState::Open));
    let matches = mm::list(&mut c, &all, &Default::default(), page)
        .await
        .unwrap()
        .items;
    for s in [
        MatchState::Proposed,
        MatchState::Confirmed,
        MatchState::Completed,
    ] {
        assert!(matches.iter().any(|m| m.state == s), "{s:?}");
    }
    // Every match says why, and a completed one wrote its service record.
    assert!(matches.iter().all(|m| !m.reasons().is_empty()));
    assert!(
        matches
            .iter()
            .filter(|m| m.state == MatchState::Completed)
            .all(|m| m.service_id.is_some())
    );
}

/// Every demo station with coordinates stands inside its county's boundary on the bundled map
/// (they used to be scattered at random over a rectangle, so neighbouring streets sat at opposite
/// edges of the portal's map).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_stations_stand_inside_their_county() {
    use shegong_store::network::stations;
    use shegong_web::statistics::maps::{bundled_polygons, contains};
    let demo = TestApp::new(shegong_store::testing::sqlite().await).await;
    assert!(demo::seed(&demo.state).await.unwrap());
    let mut c = demo.state.db.read().await.unwrap();
    let list = stations::list(
        &mut c,
        &Scope::national(),
        &stations::Filter::default(),
        PageRequest {
            page: 1,
            per_page: 1000,
        },
    )
    .await
    .unwrap()
    .items;
    let mut placed = 0;
    for s in list {
        let (Some(x), Some(y)) = (s.lng_e6, s.lat_e6) else {
            continue;
        };
        let county = &s.region_code[..6];
        let polys = bundled_polygons(county).unwrap_or_else(|| panic!("no map of {county}"));
        let p = (x as f64 / 1e6, y as f64 / 1e6);
        assert!(
            contains(&polys, p),
            "{} at {p:?} is outside {county}",
            s.name
        );
        placed += 1;
    }
    assert!(placed >= 100, "{placed} stations with coordinates");
}
