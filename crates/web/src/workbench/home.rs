//! The home page: who you are, your scope in numbers, and where to go.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use shegong_domain::{Permission, RegionLevel};
use shegong_store::admin::{audit, overview};

use crate::http::auth::Ctx;
use crate::http::error::WebResult;
use crate::http::render::{Base, page, scope_label};
use crate::http::state::AppState;
use crate::ui::i18n::Tr;
use crate::ui::list::NoticeQuery;

pub struct Stat {
    pub label: String,
    pub value: i64,
}

pub struct Link {
    pub label: String,
    pub href: &'static str,
}

#[derive(Template)]
#[template(path = "workbench/home.html")]
struct HomePage {
    t: Tr,
    base: Base,
    greeting: String,
    scope: String,
    stats: Vec<Stat>,
    links: Vec<Link>,
    /// The sign-in before this one, with its client address if known ("—" at the first).
    previous_login: String,
    /// What waits for this user (待办), read from the records.
    todo: super::todo::Todo,
    /// The role's panels beside the queue.
    bench: super::bench::Workbench,
}

pub async fn home(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NoticeQuery>,
) -> WebResult<Response> {
    let u = ctx.user()?;
    let t = ctx.tr();
    let scope = u.scope();
    let own_level = scope.region.as_ref().map(|r| r.level());
    let mut c = state.db.read().await?;
    // Region counts in the scope's subtree, by level.
    // Only levels below the user's own (a township user sees no "counties: 0"), and villages only
    // once they are imported.
    let mut stats = Vec::new();
    for (level, key) in [
        (RegionLevel::County, "home.counties"),
        (RegionLevel::Township, "home.townships"),
        (RegionLevel::Village, "home.villages"),
    ] {
        if own_level.is_some_and(|own| level <= own) {
            continue;
        }
        let n = overview::regions_in_scope(&mut c, &scope, level).await?;
        if n > 0 || level != RegionLevel::Village {
            stats.push(Stat {
                label: t.get(key).to_owned(),
                value: n,
            });
        }
    }
    let previous = audit::previous_login(&mut c, &u.user.id).await?;
    drop(c);
    let todo = super::todo::load(&state, &ctx, false).await?;
    let bench = super::bench::load(&state, &ctx).await?;
    let mut links = Vec::new();
    for (key, href, perm) in [
        ("menu.regions", "/regions", Some(Permission::ReadData)),
        ("menu.users", "/admin/users", Some(Permission::ManageUsers)),
        ("menu.audit", "/audit", Some(Permission::ReadAudit)),
        (
            "menu.system",
            "/admin/system",
            Some(Permission::ManageSystem),
        ),
        ("menu.account", "/account", None),
        ("menu.api_docs", "/api/docs", None),
    ] {
        if perm.is_none_or(|p| u.can(p)) {
            links.push(Link {
                label: t.get(key).to_owned(),
                href,
            });
        }
    }
    Ok(page(
        StatusCode::OK,
        &HomePage {
            t,
            base: Base::new(&ctx, t.get("menu.home"), vec![]).with_notice(&t, q.notice.as_deref()),
            greeting: t.fmt(
                "home.greeting",
                &[
                    ("name", &u.user.display_name),
                    ("role", &t.role(&u.user.role)),
                ],
            ),
            scope: scope_label(&t, u.user.region_path.as_deref(), &u.user.region_code),
            stats,
            links,
            previous_login: match previous {
                Some((at, Some(ip))) => t.fmt(
                    "home.previous_login_from",
                    &[("at", &t.datetime(at)), ("ip", &ip)],
                ),
                Some((at, None)) => t.datetime(at),
                None => t.opt_datetime(None::<i64>),
            },
            todo,
            bench,
        },
    ))
}
