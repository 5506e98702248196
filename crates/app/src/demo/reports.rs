//! Demo statistical reports: every reporting unit's drafts for the periods just ended (as the
//! server's housekeeping opens them), and 贺家土街道's (the demo township's) monthly report
//! submitted with its head's sign-off, so 芦淞区's administrator has one to review at sign-in.

use shegong_domain::Scope;
use shegong_domain::calendar::local_day;
use shegong_domain::reports::{Action, Frequency, Period};
use shegong_store::admin::users;
use shegong_store::reports::{self as rp, Actor};
use shegong_web::AppState;

const TOWNSHIP: &str = "430203001";

pub async fn seed(state: &AppState) -> anyhow::Result<()> {
    let now = state.now();
    let mut tx = state.db.begin().await?;
    rp::open_ended(&mut tx, local_day(now), now).await?;
    let period = Period::containing(local_day(now), Frequency::Month).prev();
    let scope = Scope::region(shegong_domain::RegionCode::parse(TOWNSHIP)?);
    let id = rp::open(
        &mut tx,
        &scope,
        "station_monthly",
        &shegong_domain::RegionCode::parse(TOWNSHIP)?,
        &period.to_string(),
        now,
    )
    .await?;
    // Signed by the township's demo administrator, as the unit head would sign it.
    let head = users::get_by_username(&mut tx, &scope, "hjt_admin").await?;
    let by = Actor {
        user_id: &head.id,
        name: &head.display_name,
        at: now,
    };
    rp::act(&mut tx, &scope, &id, Action::Submit, "", &by).await?;
    tx.commit().await?;
    Ok(())
}
