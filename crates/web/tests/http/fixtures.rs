//! What several test files share: records set up directly in the store (an agency and a station
//! it runs), signed-in accounts of a role and scope, JSON requests with the CSRF header, counts.

use shegong_domain::Scope;
use shegong_domain::network::org::OrgKind;
use shegong_domain::network::station::{Mode, Room, Status, Tier};
use shegong_store::network::orgs::{self, NewOrg};
use shegong_store::network::stations::{self, StationInput};

use shegong_store::sql::Sql;
use shegong_web::admin::users::{CreateUser, create_user};
use shegong_web::http::write::Author;

use super::*;

/// A social work agency registered in `region`; its id.
pub async fn agency(app: &TestApp, name: &str, region: &str) -> String {
    let mut tx = app.state.db.begin().await.unwrap();
    let (id, _) = orgs::create(
        &mut tx,
        &NewOrg {
            name: name.into(),
            uscc: None,
            kind: OrgKind::Agency,
            region: shegong_domain::RegionCode::parse(region).unwrap(),
        },
        app.state.now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

/// An operating township station of `region`, purchased from `operator`; its id.
pub async fn station(app: &TestApp, region: &str, name: &str, operator: &str) -> String {
    let mut tx = app.state.db.begin().await.unwrap();
    let id = stations::create(
        &mut tx,
        &Scope::national(),
        &StationInput {
            tier: Tier::TownshipStation,
            region: shegong_domain::RegionCode::parse(region).unwrap(),
            name: name.into(),
            address: "".into(),
            lng_e6: None,
            lat_e6: None,
            host_premises: "党群服务中心".into(),
            mode: Mode::Purchase,
            operator_org_id: Some(operator.into()),
            status: Status::Operating,
            status_since: "2024-01-01".into(),
            area_m2: 120,
            rooms: vec![Room::CaseRoom],
            staff_count: 3,
            certified_count: 1,
            phone: "0731-22334455".into(),
            open_hours: "".into(),
        },
        "test",
        app.state.now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

/// A signed-in account with this role, region and organisation.
pub async fn login(
    app: &TestApp,
    username: &str,
    role: Role,
    region: &str,
    org: Option<&str>,
) -> Client {
    create_user(
        &app.state.db,
        &app.state.config.password,
        Author::Operator(&Actor::system("test")),
        CreateUser {
            username: username.into(),
            display_name: format!("{username} name"),
            role,
            scope: Scope {
                region: Scope::parse_region(region).unwrap(),
                org: org.map(|o| o.parse().unwrap()),
            },
            password: Some(PASSWORD.into()),
            temporary: false,
            is_demo: false,
        },
        app.state.now(),
    )
    .await
    .unwrap();
    let mut c = app.client();
    let res = c.login(username, PASSWORD).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    c
}

pub async fn count(app: &TestApp, sql: &'static str) -> i64 {
    let mut c = app.state.db.read().await.unwrap();
    Sql::new(sql).fetch_i64(&mut c).await.unwrap()
}

pub async fn send_json(c: &mut Client, method: Method, path: &str, body: serde_json::Value) -> Res {
    let token = c.csrf().await;
    c.send(
        method,
        path,
        Some(("application/json", body.to_string())),
        &[("x-csrf-token", &token), ("accept-language", "en")],
    )
    .await
}
