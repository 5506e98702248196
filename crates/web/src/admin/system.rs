//! System information for the system administrator: version, database, schema, reference data.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use shegong_domain::Permission;
use shegong_store::{migrate, network::regions};

use crate::http::auth::Ctx;
use crate::http::error::WebResult;
use crate::http::render::{Base, Crumb, page};
use crate::http::state::AppState;
use crate::ui::i18n::Tr;

#[derive(Template)]
#[template(path = "admin/system.html")]
struct SystemPage {
    t: Tr,
    base: Base,
    version: &'static str,
    backend: &'static str,
    schema: i64,
    schema_latest: i64,
    started: String,
    regions: Vec<(String, i64)>,
    vintage: i64,
}

pub async fn page_system(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let u = ctx.user()?;
    u.require(Permission::ManageSystem)?;
    let t = ctx.tr();
    let counts = {
        let mut c = state.db.read().await?;
        regions::count_by_level(&mut c).await?
    };
    let title = t.get("menu.system");
    Ok(page(
        StatusCode::OK,
        &SystemPage {
            t,
            base: Base::new(&ctx, title, vec![Crumb::here(title)]),
            version: env!("CARGO_PKG_VERSION"),
            backend: state.db.backend().as_str(),
            schema: migrate::current_version(&state.db).await?,
            schema_latest: migrate::latest_version(),
            started: t.datetime(state.started_at),
            regions: counts
                .into_iter()
                .map(|(level, n)| (t.get(&format!("region.level.{level}")).to_owned(), n))
                .collect(),
            vintage: regions::VINTAGE,
        },
    ))
}
