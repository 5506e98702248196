//! Demo data for `serve --demo`: accounts for 湖南省株洲市, one per role at city level, in
//! 芦淞区 and in 贺家土街道, plus the agency their agency managers belong to. Seeded once into
//! an empty database; demo accounts can sign in only while the server runs in demo mode. The
//! people served and their service history follow (`demo_people`).

use shegong_domain::{RegionCode, Role, Scope};
use shegong_store::admin::audit::Actor;
use shegong_store::{admin::users, network::orgs};

use crate::admin::users::{CreateUser, create_user};
use crate::http::error::WebResult;
use crate::http::state::AppState;

/// The password of every demo account (printed at start; demo mode only).
pub const PASSWORD: &str = "Shegong#2026";

pub struct DemoAccount {
    pub username: String,
    pub role: Role,
    pub region: &'static str,
}

const LEVELS: [(&str, &str); 3] = [("zz", "4302"), ("ls", "430203"), ("hjt", "430203001")];

fn short(role: Role) -> &'static str {
    match role {
        Role::SystemAdmin => "sysadmin",
        Role::SecurityAdmin => "secadmin",
        Role::Auditor => "auditor",
        Role::CivilAffairsAdmin => "admin",
        Role::AgencyManager => "agency",
        Role::SocialWorker => "worker",
        Role::Supervisor => "supervisor",
        Role::Evaluator => "evaluator",
    }
}

/// The demo accounts (whether or not they exist yet).
pub fn accounts() -> Vec<DemoAccount> {
    LEVELS
        .iter()
        .flat_map(|(prefix, region)| {
            Role::ALL.into_iter().map(move |role| DemoAccount {
                username: format!("{prefix}_{}", short(role)),
                role,
                region,
            })
        })
        .collect()
}

/// Seed the demo data if it is not there yet. Returns whether anything was created.
pub async fn seed(state: &AppState) -> WebResult<bool> {
    let mut c = state.db.read().await?;
    if users::count_all(&mut c).await? > 0 {
        return Ok(false);
    }
    drop(c);
    let now = state.now();
    let actor = Actor::system("demo");
    let mut tx = state.db.begin().await?;
    crate::demo_network::seed(&mut tx, &state.keys, now).await?;
    let agency = orgs::list(&mut tx, &Scope::national())
        .await?
        .into_iter()
        .find(|o| o.name == "株洲市阳光社会工作服务中心")
        .map(|o| o.id)
        .ok_or_else(|| anyhow::anyhow!("demo agency missing"))?;
    tx.commit().await?;
    let agency: uuid::Uuid = agency.parse().map_err(|e| anyhow::anyhow!("org id: {e}"))?;
    for a in accounts() {
        let org = a.role.requires_org().then_some(agency);
        let display = format!(
            "{}（演示）",
            crate::ui::i18n::Tr::new(crate::ui::i18n::Lang::Zh).role(a.role.as_str())
        );
        create_user(
            &state.db,
            &state.config.password,
            &actor,
            CreateUser {
                username: a.username.clone(),
                display_name: display,
                role: a.role,
                scope: Scope {
                    region: Some(RegionCode::parse(a.region)?),
                    org,
                },
                password: Some(PASSWORD.into()),
                temporary: false,
                is_demo: true,
            },
            now,
        )
        .await?;
    }
    crate::demo_people::seed(state)
        .await
        .map_err(crate::http::error::WebError::Internal)?;
    Ok(true)
}
