//! One small change made from a page: run in a transaction together with its audit entry; a
//! field error leaves nothing written and is handed back for the page to show.

use std::future::Future;
use std::pin::Pin;

use shegong_domain::{FieldError, Scope};
use shegong_store::admin::audit::{self, Change, Event};
use shegong_store::{Conn, StoreError, StoreResult};

use crate::http::auth::Ctx;
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
    let u = ctx.user()?.clone();
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
