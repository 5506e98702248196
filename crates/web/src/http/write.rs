//! Every change to business data goes through here: the caller's permission is checked, the
//! change runs in a transaction together with its audit entry, and a field error leaves nothing
//! written and is handed back for the page to show. A handler cannot write without an audit
//! entry, because the store's write functions need the connection these helpers hand out.

use std::future::Future;
use std::pin::Pin;

use shegong_domain::{FieldError, Scope};
use shegong_store::admin::audit::{self, Change, Event};
use shegong_store::{Conn, StoreError, StoreResult};

use axum::response::{IntoResponse, Redirect, Response};
use shegong_domain::Permission;

use crate::http::auth::{Ctx, CurrentUser};
use crate::http::error::WebResult;
use crate::http::state::AppState;

/// What a change reports for its audit entry.
pub struct Done {
    /// The record the entry is about.
    pub entity_id: String,
    /// The region it is filed under (`None`: the actor's region).
    pub region: Option<String>,
    pub changes: Vec<Change>,
}

pub type Work<'c> = Pin<Box<dyn Future<Output = StoreResult<Done>> + Send + 'c>>;

/// Run `work` with the caller's scope and username; `Ok(None)` when committed, `Ok(Some(e))` for
/// a field error (rolled back).
pub async fn audited<F>(
    state: &AppState,
    ctx: &Ctx,
    entity: &'static str,
    action: &'static str,
    work: F,
) -> WebResult<Option<FieldError>>
where
    F: for<'c> FnOnce(&'c mut Conn, Scope, String) -> Work<'c>,
{
    Ok(audited_id(state, ctx, entity, action, work).await?.err())
}

/// As `audited`, handing back the id of the record the entry is about (for creations).
pub async fn audited_id<F>(
    state: &AppState,
    ctx: &Ctx,
    entity: &'static str,
    action: &'static str,
    work: F,
) -> WebResult<Result<String, FieldError>>
where
    F: for<'c> FnOnce(&'c mut Conn, Scope, String) -> Work<'c>,
{
    let u = writer(ctx)?.clone();
    let mut tx = state.db.begin().await?;
    match work(&mut tx, u.scope(), u.user.username.clone()).await {
        Ok(done) => {
            let id = done.entity_id.clone();
            let mut event = Event::new(action, entity, Some(done.entity_id)).changes(done.changes);
            if let Some(r) = done.region {
                event = event.region(r);
            }
            audit::record(
                &mut tx,
                state.db.backend(),
                &ctx.actor(),
                event,
                state.now(),
            )
            .await?;
            tx.commit().await?;
            Ok(Ok(id))
        }
        Err(StoreError::Invalid(e)) => Ok(Err(e)),
        Err(e) => Err(e.into()),
    }
}

/// The signed-in user, if they may change business data.
pub fn writer(ctx: &Ctx) -> WebResult<&CurrentUser> {
    let u = ctx.user()?;
    u.require(Permission::WriteData)?;
    Ok(u)
}

/// A change to one record from its page (a station, a staff member, a resident's file), audited
/// as `entity`/`action`: success goes back to `back` with the "saved" notice, a field error is
/// shown by `page`. The one wrapper every record page's actions share.
pub async fn record_action<F, P, Fut>(
    state: &AppState,
    ctx: &Ctx,
    entity: &'static str,
    action: &'static str,
    back: String,
    work: F,
    page: P,
) -> WebResult<Response>
where
    F: for<'c> FnOnce(&'c mut Conn, Scope, String) -> Work<'c>,
    P: FnOnce(FieldError) -> Fut,
    Fut: Future<Output = WebResult<Response>>,
{
    match audited(state, ctx, entity, action, work).await? {
        None => Ok(Redirect::to(&format!("{back}?notice=notice.saved")).into_response()),
        Some(e) => page(e).await,
    }
}
