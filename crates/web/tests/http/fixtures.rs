//! Records the tests set up directly in the store: an agency and a station it runs.

use shegong_domain::Scope;
use shegong_domain::network::org::OrgKind;
use shegong_domain::network::station::{Mode, Room, Status, Tier};
use shegong_store::network::orgs::{self, NewOrg};
use shegong_store::network::stations::{self, StationInput};

use super::TestApp;

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
