//! Everything in the API (issue 19): every page route that changes state has a JSON operation
//! that does the same, documented in `/api/v1/openapi.json`. The page routes are read from the
//! source (`.route("…", … post(…))` under `crates/web/src`), so a new form without an API
//! operation fails here until it gets one in `PARITY`, or a reason in `NO_API`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Page route → the API operation(s) doing the same (`|` between several).
const PARITY: &[(&str, &str)] = &[
    // admin
    (
        "POST /admin/twofactor",
        "POST /api/v1/twofactor/required-regions",
    ),
    (
        "POST /admin/twofactor/remove",
        "POST /api/v1/twofactor/required-regions/remove",
    ),
    ("POST /admin/users", "POST /api/v1/users"),
    ("POST /admin/users/{id}", "PUT /api/v1/users/{id}"),
    (
        "POST /admin/users/{id}/disable",
        "POST /api/v1/users/{id}/disable",
    ),
    (
        "POST /admin/users/{id}/enable",
        "POST /api/v1/users/{id}/enable",
    ),
    (
        "POST /admin/users/{id}/grant-protected",
        "POST /api/v1/users/{id}/grant-protected",
    ),
    (
        "POST /admin/users/{id}/reset-password",
        "POST /api/v1/users/{id}/reset-password",
    ),
    (
        "POST /admin/users/{id}/reset-twofactor",
        "POST /api/v1/users/{id}/reset-twofactor",
    ),
    (
        "POST /admin/users/{id}/revoke-protected",
        "POST /api/v1/users/{id}/revoke-protected",
    ),
    (
        "POST /admin/users/{id}/unlock",
        "POST /api/v1/users/{id}/unlock",
    ),
    // people
    ("POST /residents", "POST /api/v1/residents"),
    (
        "POST /residents/batch/assign",
        "POST /api/v1/residents/batch/assign",
    ),
    ("POST /residents/{id}", "PUT /api/v1/residents/{id}"),
    ("POST /residents/{id}/cases", "POST /api/v1/cases"),
    (
        "POST /residents/{id}/household",
        "POST /api/v1/residents/{id}/household",
    ),
    (
        "POST /residents/{id}/memberships",
        "POST /api/v1/residents/{id}/memberships",
    ),
    (
        "POST /residents/{id}/memberships/{mid}/end",
        "POST /api/v1/residents/{id}/memberships/{mid}/end",
    ),
    (
        "POST /residents/{id}/merge",
        "POST /api/v1/residents/{id}/merge",
    ),
    (
        "POST /residents/{id}/print",
        "POST /api/v1/residents/{id}/reveal",
    ),
    (
        "POST /residents/{id}/reveal",
        "POST /api/v1/residents/{id}/reveal",
    ),
    (
        "POST /residents/{id}/status",
        "POST /api/v1/residents/{id}/status",
    ),
    (
        "POST /residents/{id}/tier",
        "POST /api/v1/residents/{id}/tier",
    ),
    ("POST /cases/{id}/{step}", "POST /api/v1/cases/{id}/{step}"),
    ("POST /services", "POST /api/v1/services"),
    ("POST /services/{id}", "PUT /api/v1/services/{id}"),
    ("POST /services/{id}/delete", "DELETE /api/v1/services/{id}"),
    ("POST /visit-rules", "POST /api/v1/visit-rules"),
    (
        "POST /visit-rules/confirmation",
        "POST /api/v1/visit-confirmation-rules",
    ),
    // network
    ("POST /stations", "POST /api/v1/stations"),
    ("POST /stations/{id}", "PUT /api/v1/stations/{id}"),
    (
        "POST /stations/{id}/assess",
        "PUT /api/v1/stations/{id}/checklist",
    ),
    (
        "POST /stations/{id}/attachments",
        "POST /api/v1/stations/{id}/attachments",
    ),
    (
        "POST /stations/{id}/confirm",
        "POST /api/v1/stations/{id}/confirm",
    ),
    (
        "POST /stations/{id}/funding",
        "POST /api/v1/stations/{id}/funding",
    ),
    (
        "POST /stations/{id}/progress",
        "POST /api/v1/stations/{id}/progress",
    ),
    (
        "POST /stations/{id}/services",
        "PUT /api/v1/stations/{id}/services",
    ),
    (
        "POST /construction/targets",
        "POST /api/v1/construction/targets",
    ),
    ("POST /indicators", "POST /api/v1/indicators"),
    (
        "POST /indicators/services",
        "POST /api/v1/indicators/services",
    ),
    (
        "POST /indicators/{id}/active",
        "POST /api/v1/indicators/{id}/active",
    ),
    ("POST /orgs", "POST /api/v1/organizations"),
    ("POST /orgs/{id}", "PUT /api/v1/organizations/{id}"),
    (
        "POST /orgs/{id}/links",
        "POST /api/v1/organizations/{id}/links",
    ),
    (
        "POST /orgs/{id}/links/{other}/delete",
        "DELETE /api/v1/organizations/{id}/links/{other}",
    ),
    ("POST /inspections/plans", "POST /api/v1/inspections/plans"),
    (
        "POST /inspections/visits",
        "POST /api/v1/inspections/visits",
    ),
    (
        "POST /inspections/visits/{id}/void",
        "POST /api/v1/inspections/{id}/void",
    ),
    (
        "POST /inspections/rectifications/batch/close",
        "POST /api/v1/rectifications/batch/close",
    ),
    (
        "POST /inspections/rectifications/{id}",
        "POST /api/v1/rectifications/{id}/advance",
    ),
    (
        "POST /inspections/rectifications/{id}/evidence",
        "POST /api/v1/rectifications/{id}/evidence",
    ),
    // workforce
    ("POST /staff", "POST /api/v1/staff"),
    ("POST /staff/{id}", "PUT /api/v1/staff/{id}"),
    (
        "POST /staff/{id}/certificates",
        "POST /api/v1/staff/{id}/certificates",
    ),
    ("POST /staff/{id}/reveal", "POST /api/v1/staff/{id}/reveal"),
    (
        "POST /staff/{id}/trainings",
        "POST /api/v1/staff/{id}/trainings|POST /api/v1/trainings",
    ),
    ("POST /supervision/pairs", "POST /api/v1/supervision/pairs"),
    (
        "POST /supervision/pairs/{id}/sessions",
        "POST /api/v1/supervision/pairs/{id}/sessions",
    ),
    ("POST /supervision/teams", "POST /api/v1/supervision/teams"),
    (
        "POST /supervision/teams/{id}/members",
        "POST /api/v1/supervision/teams/{id}/members",
    ),
    ("POST /workforce/rule", "PUT /api/v1/workforce/rule"),
    // volunteers
    ("POST /volunteers", "POST /api/v1/volunteers"),
    ("POST /volunteers/{id}", "PATCH /api/v1/volunteers/{id}"),
    (
        "POST /volunteers/{id}/certificates",
        "POST /api/v1/volunteers/{id}/certificates",
    ),
    (
        "POST /volunteers/{id}/reveal",
        "POST /api/v1/volunteers/{id}/reveal",
    ),
    (
        "POST /volunteers/{id}/stars",
        "POST /api/v1/volunteers/{id}/stars",
    ),
    (
        "POST /volunteer-certificates/{id}/full",
        "POST /api/v1/volunteers/{id}/reveal",
    ),
    ("POST /volunteer-teams", "POST /api/v1/volunteer-teams"),
    (
        "POST /volunteer-teams/{id}/members",
        "POST /api/v1/volunteer-teams/{id}/members",
    ),
    (
        "POST /volunteer-teams/{id}/members/remove",
        "DELETE /api/v1/volunteer-teams/{id}/members/{volunteer_id}",
    ),
    ("POST /volunteer-activities", "POST /api/v1/activities"),
    (
        "POST /volunteer-activities/{id}/attendance",
        "POST /api/v1/activities/{id}/attendance",
    ),
    (
        "POST /volunteer-activities/{id}/service",
        "POST /api/v1/activities/{id}/service",
    ),
    (
        "POST /volunteer-activities/{id}/signups",
        "POST /api/v1/activities/{id}/signups",
    ),
    (
        "POST /volunteer-activities/{id}/status",
        "POST /api/v1/activities/{id}/status",
    ),
    (
        "POST /checkin/{token}",
        "POST /api/v1/activities/{id}/attendance",
    ),
    (
        "POST /volunteer-hours/{id}/steps",
        "POST /api/v1/hours/{id}/steps",
    ),
    (
        "POST /volunteer-hours/{id}/earn",
        "POST /api/v1/timebank/accounts/{id}/entries",
    ),
    // purchase of services
    ("POST /catalogue", "POST /api/v1/catalogue"),
    (
        "POST /catalogue/editions/{id}/publish",
        "POST /api/v1/catalogue/editions/{id}/publish",
    ),
    (
        "POST /catalogue/items/{id}/status",
        "POST /api/v1/catalogue/items/{id}/status",
    ),
    ("POST /projects", "POST /api/v1/projects"),
    (
        "POST /projects/{id}/award",
        "POST /api/v1/projects/{id}/award",
    ),
    (
        "POST /projects/{id}/notices",
        "POST /api/v1/projects/{id}/notices",
    ),
    (
        "POST /projects/{id}/state",
        "POST /api/v1/projects/{id}/state",
    ),
    ("POST /contracts", "POST /api/v1/contracts"),
    ("POST /contracts/{id}/state", "PATCH /api/v1/contracts/{id}"),
    (
        "POST /contracts/{id}/expenses",
        "POST /api/v1/contracts/{id}/expenses",
    ),
    (
        "POST /contracts/{id}/expenses/{expense_id}/void",
        "POST /api/v1/contracts/{id}/expenses/{expense_id}/void",
    ),
    (
        "POST /contracts/{id}/fills/{fill_id}/end",
        "POST /api/v1/contracts/{id}/fills/{fill_id}/end",
    ),
    (
        "POST /contracts/{id}/instalments/{seq}",
        "POST /api/v1/contracts/{id}/instalments/{seq}",
    ),
    (
        "POST /contracts/{id}/positions",
        "POST /api/v1/contracts/{id}/positions",
    ),
    (
        "POST /contracts/{id}/positions/{seq}/fills",
        "POST /api/v1/contracts/{id}/positions/{seq}/fills",
    ),
    ("POST /evaluations", "POST /api/v1/evaluations"),
    ("POST /evaluations/trees", "POST /api/v1/indicator-trees"),
    (
        "POST /evaluations/{id}/evaluator",
        "PATCH /api/v1/evaluations/{id}",
    ),
    (
        "POST /evaluations/{id}/rectifications",
        "POST /api/v1/evaluations/{id}/rectifications",
    ),
    (
        "POST /evaluations/{id}/rectifications/{seq}",
        "POST /api/v1/evaluations/{id}/rectifications/{seq}",
    ),
    (
        "POST /evaluations/{id}/scores",
        "PUT /api/v1/evaluations/{id}/scores",
    ),
    (
        "POST /evaluations/{id}/state",
        "POST /api/v1/evaluations/{id}/state",
    ),
    // time bank
    ("POST /timebank", "POST /api/v1/timebank/schemes"),
    (
        "POST /timebank/{id}/edit",
        "PUT /api/v1/timebank/schemes/{id}",
    ),
    (
        "POST /timebank/{id}/accounts",
        "POST /api/v1/timebank/accounts",
    ),
    (
        "POST /timebank/accounts/{id}/entries",
        "POST /api/v1/timebank/accounts/{id}/entries",
    ),
    (
        "POST /timebank/entries/{id}/reversal",
        "POST /api/v1/timebank/entries/{id}/reversal",
    ),
    // community charity
    ("POST /charity/funds", "POST /api/v1/funds"),
    (
        "POST /charity/funds/{id}/committee",
        "POST /api/v1/funds/{id}/committee",
    ),
    (
        "POST /charity/funds/{id}/disbursements",
        "POST /api/v1/funds/{id}/disbursements",
    ),
    (
        "POST /charity/funds/{id}/donations",
        "POST /api/v1/donations",
    ),
    (
        "POST /charity/funds/{id}/end",
        "POST /api/v1/funds/{id}/end",
    ),
    (
        "POST /charity/funds/{id}/stock",
        "POST /api/v1/funds/{id}/stock",
    ),
    ("POST /charity/funds/{id}/wishes", "POST /api/v1/wishes"),
    (
        "POST /charity/wishes/{id}/step",
        "POST /api/v1/wishes/{id}/step",
    ),
    (
        "POST /charity/disbursements/{id}/decision",
        "POST /api/v1/disbursements/{id}/decision",
    ),
    (
        "POST /charity/disbursements/{id}/payment",
        "POST /api/v1/disbursements/{id}/payment",
    ),
    // community issues and matching
    ("POST /community-issues", "POST /api/v1/issues"),
    (
        "POST /community-issues/{id}/step",
        "POST /api/v1/issues/{id}/step",
    ),
    ("POST /matching/needs", "POST /api/v1/needs"),
    (
        "POST /matching/needs/{id}/cancel",
        "POST /api/v1/needs/{id}/cancel",
    ),
    ("POST /matching/needs/{id}/propose", "POST /api/v1/matches"),
    (
        "POST /matching/matches/{id}/step",
        "POST /api/v1/matches/{id}/step",
    ),
    (
        "POST /matching/lists/approve",
        "POST /api/v1/community-lists/approve",
    ),
    // emergency and hotlines
    ("POST /emergency-teams", "POST /api/v1/emergency-teams"),
    (
        "POST /emergency-teams/{id}/members",
        "POST /api/v1/emergency-teams/{id}/members",
    ),
    ("POST /incidents", "POST /api/v1/incidents"),
    (
        "POST /incidents/{id}/deployments",
        "POST /api/v1/incidents/{id}/deployments",
    ),
    (
        "POST /incidents/{id}/transitions",
        "POST /api/v1/incidents/{id}/transitions",
    ),
    ("POST /hotlines", "POST /api/v1/hotlines"),
    ("POST /hotlines/{id}", "PUT /api/v1/hotlines/{id}"),
    (
        "POST /hotlines/{id}/duty",
        "POST /api/v1/hotlines/{id}/duty",
    ),
    (
        "POST /hotlines/{id}/duty/{duty}/remove",
        "DELETE /api/v1/hotlines/{id}/duty/{duty}",
    ),
    ("POST /tickets", "POST /api/v1/tickets"),
    (
        "POST /tickets/{id}/external",
        "POST /api/v1/tickets/{id}/external",
    ),
    (
        "POST /tickets/{id}/outcome",
        "POST /api/v1/tickets/{id}/outcome",
    ),
    (
        "POST /tickets/{id}/resident",
        "POST /api/v1/tickets/{id}/resident",
    ),
    ("POST /tickets/{id}/step", "POST /api/v1/tickets/{id}/step"),
    // reports, notifications
    ("POST /reports", "POST /api/v1/reports"),
    (
        "POST /reports/{id}/act",
        "POST /api/v1/reports/{id}/submit|POST /api/v1/reports/{id}/return|POST /api/v1/reports/{id}/review|\
             POST /api/v1/reports/{id}/approve|POST /api/v1/reports/{id}/lock|POST /api/v1/reports/{id}/unlock|\
             POST /api/v1/reports/{id}/unlock/approve",
    ),
    (
        "POST /reports/{id}/values",
        "POST /api/v1/reports/{id}/values",
    ),
    (
        "POST /notifications/read-all",
        "POST /api/v1/notifications/read-all",
    ),
    (
        "POST /notifications/settings",
        "POST /api/v1/notifications/settings",
    ),
    // spreadsheet imports of every registry (`import::flow`, `{base}` = the registry's list)
    ("POST {base}/import", "POST /api/v1/imports/{registry}"),
    (
        "POST {base}/import/{batch}",
        "PUT /api/v1/imports/{registry}/{batch}/mapping|POST /api/v1/imports/{registry}/{batch}/commit|\
             POST /api/v1/imports/{registry}/{batch}/cancel",
    ),
];

/// Page routes with no API operation by design, and why.
const NO_API: &[(&str, &str)] = &[
    (
        "POST /login",
        "signing in: the API authenticates with bearer tokens",
    ),
    (
        "POST /login/twofactor",
        "signing in: the API authenticates with bearer tokens",
    ),
    (
        "POST /login/twofactor/cancel",
        "signing in: the API authenticates with bearer tokens",
    ),
    (
        "POST /login/twofactor/enrol",
        "signing in: the API authenticates with bearer tokens",
    ),
    (
        "POST /logout",
        "ends the browser session; a token is revoked on the account page",
    ),
    (
        "POST /account/password",
        "a person's own password is changed in person, with the old one",
    ),
    (
        "POST /account/twofactor",
        "a person's own second factor is enrolled in person",
    ),
    (
        "POST /account/twofactor/disable",
        "a person's own second factor is removed in person",
    ),
    (
        "POST /account/tokens",
        "a token does not mint tokens: they are created signed in",
    ),
    (
        "POST /account/tokens/{id}/revoke",
        "a token does not manage tokens: they are revoked signed in",
    ),
    (
        "POST /staff/find",
        "a look-up, changing nothing: POST keeps the identity number out of the URL",
    ),
];

/// `METHOD path` of every state-changing route under `crates/web/src` outside `/api/`.
fn page_routes() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for file in rust_files(&root) {
        let source = std::fs::read_to_string(&file).unwrap();
        for (path, methods) in routes_in(&source) {
            if path.starts_with("/api/") {
                continue;
            }
            for m in methods.into_iter().filter(|m| m != "GET") {
                out.insert(format!("{m} {path}"));
            }
        }
    }
    out
}

fn rust_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// Each `.route(PATH, METHOD_ROUTER)` call of a source file: the path (a literal, or the text of
/// a `format!` such as `{base}/import`) and the HTTP methods its method router names.
fn routes_in(source: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    let mut rest = source;
    while let Some(at) = rest.find(".route(") {
        let args = &rest[at + ".route(".len()..];
        let mut depth = 1;
        let end = args
            .char_indices()
            .find(|&(_, c)| {
                depth += match c {
                    '(' => 1,
                    ')' => -1,
                    _ => 0,
                };
                depth == 0
            })
            .map(|(i, _)| i)
            .expect("unbalanced .route(");
        let call = &args[..end];
        rest = &args[end..];
        let Some(open) = call.find('"') else { continue };
        let Some(len) = call[open + 1..].find('"') else {
            continue;
        };
        let path = call[open + 1..open + 1 + len]
            .replace("{{", "{")
            .replace("}}", "}");
        let router = &call[open + 1 + len..];
        let methods = ["get", "post", "put", "patch", "delete"]
            .into_iter()
            .filter(|m| {
                router.match_indices(&format!("{m}(")).any(|(i, _)| {
                    // `post(` as a word: not the tail of another name such as `repost(`.
                    !router[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_')
                })
            })
            .map(str::to_uppercase)
            .collect();
        out.push((path, methods));
    }
    out
}

/// `METHOD path` of every documented API operation.
fn api_operations() -> BTreeSet<String> {
    let doc = serde_json::to_value(shegong_web::http::api::document()).unwrap();
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            out.insert(format!("{} {path}", method.to_uppercase()));
        }
    }
    out
}

#[test]
fn every_page_action_has_a_documented_api_operation() {
    let pages = page_routes();
    assert!(
        pages.contains("POST /residents/{id}/tier") && pages.contains("POST {base}/import"),
        "the route scan found too little: {pages:?}"
    );
    let api = api_operations();
    let mut listed: BTreeMap<&str, usize> = BTreeMap::new();
    for page in PARITY
        .iter()
        .map(|(p, _)| *p)
        .chain(NO_API.iter().map(|(p, _)| *p))
    {
        *listed.entry(page).or_default() += 1;
    }
    let mut problems = Vec::new();
    for page in &pages {
        if !listed.contains_key(page.as_str()) {
            problems.push(format!(
                "{page}: a page action not in PARITY (give it an API operation)"
            ));
        }
    }
    for (page, n) in &listed {
        if !pages.contains(*page) {
            problems.push(format!("{page}: listed, but no such page route any more"));
        }
        if *n > 1 {
            problems.push(format!("{page}: listed {n} times"));
        }
    }
    for (page, ops) in PARITY {
        for op in ops.split('|') {
            if !api.contains(op) {
                problems.push(format!("{page}: {op} is not in the OpenAPI document"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_route_scan_reads_multi_line_routes_and_formats() {
    let source = r#"
        .route("/a", get(x))
        .route(
            "/b/{id}",
            get(page).post(save),
        )
        .route(&format!("{base}/import/{{batch}}"), get(move |s| f(s)).post(act))
        .route("/c", repost(x))
    "#;
    assert_eq!(
        routes_in(source),
        vec![
            ("/a".to_string(), vec!["GET".to_string()]),
            ("/b/{id}".into(), vec!["GET".into(), "POST".into()]),
            (
                "{base}/import/{batch}".into(),
                vec!["GET".into(), "POST".into()]
            ),
            ("/c".into(), vec![]),
        ]
    );
}
