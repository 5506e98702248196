//! Demo data for `serve --demo`: accounts for 湖南省株洲市, one per role at city level, in
//! 芦淞区 and in 贺家土街道, plus the agency their agency managers belong to. Seeded once into
//! an empty database; demo accounts can sign in only while the server runs in demo mode. The
//! station network (`network`) and its staff (`workforce`) come first, the people served and
//! their service history (`people`), then volunteering and the time bank (`volunteers`). Written through the store and the web layer's account creation, as in use.

mod charity;
mod community;
mod emergency;
mod execution;
mod hotline;
mod matching;
mod network;
mod people;
mod purchase;
mod reports;
mod volunteers;
mod workforce;

use anyhow::Context;
use shegong_domain::{RegionCode, Role, Scope};
use shegong_store::admin::audit::Actor;
use shegong_store::{admin::users, network::orgs};
use shegong_web::AppState;
use shegong_web::admin::users::{CreateUser, create_user};
use shegong_web::http::write::Author;
use shegong_web::ui::i18n::{Lang, Tr};

/// The password of every demo account (printed at start; demo mode only).
pub const PASSWORD: &str = "Shegong#2026";

/// The agency the demo agency managers belong to (it runs 芦淞区's station).
const AGENCY: &str = "株洲市阳光社会工作服务中心";

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

/// A small deterministic generator (the demo is the same on every start).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n.max(1)
    }

    /// One of `items`, uniformly (the default of `T` for an empty slice).
    fn pick<T: Copy + Default>(&mut self, items: &[T]) -> T {
        let i = self.next(items.len() as u64);
        cycled(items, i as usize)
    }
}

/// Item `i` of `items`, counting round and round (the default of `T` for an empty slice).
fn cycled<T: Copy + Default>(items: &[T], i: usize) -> T {
    items
        .get(i.checked_rem(items.len()).unwrap_or(0))
        .copied()
        .unwrap_or_default()
}

/// Seed the demo data if it is not there yet. Returns whether anything was created.
pub async fn seed(state: &AppState) -> anyhow::Result<bool> {
    let mut c = state.db.read().await?;
    if users::count_all(&mut c).await? > 0 {
        return Ok(false);
    }
    drop(c);
    let mut clock = std::time::Instant::now();
    // How long each part took (the demo is seeded before the server listens).
    let mut took = |part: &str| {
        tracing::debug!(part, ms = clock.elapsed().as_millis(), "demo seeded");
        clock = std::time::Instant::now();
    };
    let now = state.now();
    let mut tx = state.db.begin().await?;
    network::seed(&mut tx, &state.keys, now).await?;
    let agency = orgs::list(&mut tx, &Scope::national())
        .await?
        .into_iter()
        .find(|o| o.name == AGENCY)
        .map(|o| o.id)
        .context("demo agency missing")?;
    tx.commit().await?;
    let agency: uuid::Uuid = agency.parse().context("demo agency id")?;
    took("network");
    create_accounts(state, agency, now).await?;
    took("accounts");
    people::seed(state).await?;
    took("people");
    volunteers::seed(state).await?;
    took("volunteers");
    charity::seed(state).await?;
    took("charity");
    community::seed(state).await?;
    took("community");
    matching::seed(state).await?;
    took("matching");
    emergency::seed(state).await?;
    took("emergency");
    hotline::seed(state).await?;
    took("hotline");
    purchase::seed(state).await?;
    took("purchase");
    reports::seed(state).await?;
    took("reports");
    Ok(true)
}

async fn create_accounts(state: &AppState, agency: uuid::Uuid, now: i64) -> anyhow::Result<()> {
    let actor = Actor::system("demo");
    let tr = Tr::new(Lang::Zh);
    for a in accounts() {
        let org = a.role.requires_org().then_some(agency);
        let display = format!("{}（演示）", tr.role(a.role.as_str()));
        create_user(
            &state.db,
            &state.config.password,
            Author::Operator(&actor),
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
        .await
        .map_err(|e| anyhow::anyhow!("demo account {}: {e:?}", a.username))?;
    }
    Ok(())
}
