//! Every change to business data goes through here: the caller's permission is checked, the
//! change runs in a transaction together with its audit entry, and a field error leaves nothing
//! written and is handed back for the page to show. A handler cannot write without an audit
//! entry, because the store's write functions need the connection these helpers hand out.

use std::future::Future;
use std::pin::Pin;

use shegong_domain::{FieldError, Scope};
use shegong_store::admin::audit::{self, Actor, Change, Event};
use shegong_store::{Backend, Conn, Db, Outcome, StoreError, StoreResult, Unit};

use axum::response::{IntoResponse, Redirect, Response};
use shegong_domain::Permission;

use crate::http::auth::{Ctx, CurrentUser};
use crate::http::error::{WebError, WebResult};
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

/// The audit entry a write files and the permission its caller needs.
#[derive(Clone, Copy)]
pub struct Entry {
    entity: &'static str,
    action: &'static str,
    permission: Permission,
    only_if_changed: bool,
}

impl Entry {
    /// `action` on `entity`, by a caller who may change business data.
    pub const fn new(entity: &'static str, action: &'static str) -> Self {
        Self {
            entity,
            action,
            permission: Permission::WriteData,
            only_if_changed: false,
        }
    }

    /// Require `permission` instead (account administration needs `ManageUsers`).
    pub const fn requiring(self, permission: Permission) -> Self {
        Self { permission, ..self }
    }

    /// File no entry when no field changed (an update that saved the same values).
    pub const fn only_if_changed(self) -> Self {
        Self {
            only_if_changed: true,
            ..self
        }
    }
}

/// A change that also hands a value back to its caller.
pub type WorkWith<'c, T> = Pin<Box<dyn Future<Output = StoreResult<(Done, T)>> + Send + 'c>>;

/// A change that may find there is nothing to write (`None`: rolled back, no entry filed).
pub type MaybeWork<'c, T> =
    Pin<Box<dyn Future<Output = StoreResult<(Option<Done>, T)>> + Send + 'c>>;

/// Who makes a change: a signed-in user, whose permission `write_by` checks, or the operator of
/// the binary (the command line, the demo data), who answers for themselves.
pub enum Author<'a> {
    User(&'a Ctx),
    Operator(&'a Actor),
}

/// Run `work` with the caller's scope and username once `entry`'s permission is checked, and
/// file `entry` in the same transaction; `Ok(Err(e))` for a field error (rolled back).
pub async fn write<T, F>(
    state: &AppState,
    ctx: &Ctx,
    entry: Entry,
    work: F,
) -> WebResult<Result<T, FieldError>>
where
    T: Send + 'static,
    F: for<'c> FnOnce(&'c mut Conn, Scope, String) -> WorkWith<'c, T> + Send + 'static,
{
    write_or_skip(
        state,
        ctx,
        entry,
        move |conn, scope, by| -> MaybeWork<'_, T> {
            let pending = work(conn, scope, by);
            Box::pin(async move {
                let (done, value) = pending.await?;
                Ok((Some(done), value))
            })
        },
    )
    .await
}

/// As `write`, but `work` may find there is nothing to write (a duplicate to confirm first, a
/// setting already in place): `None` rolls back and files no entry.
pub async fn write_or_skip<T, F>(
    state: &AppState,
    ctx: &Ctx,
    entry: Entry,
    work: F,
) -> WebResult<Result<T, FieldError>>
where
    T: Send + 'static,
    F: for<'c> FnOnce(&'c mut Conn, Scope, String) -> MaybeWork<'c, T> + Send + 'static,
{
    let u = ctx.user()?;
    let (scope, username) = (u.scope(), u.user.username.clone());
    write_by(
        &state.db,
        Author::User(ctx),
        state.now(),
        entry,
        move |conn| work(conn, scope, username),
    )
    .await
}

/// The transaction every audited change runs in, whoever makes it: `author`'s permission for
/// `entry` is checked (a signed-in user's), `work` runs and `entry` is filed with what it
/// reports, both committed together (in a group commit with the writes queued at the same
/// moment: `Db::grouped`); `Ok(Err(e))` for a field error (rolled back).
pub async fn write_by<T, F>(
    db: &Db,
    author: Author<'_>,
    now: i64,
    entry: Entry,
    work: F,
) -> WebResult<Result<T, FieldError>>
where
    T: Send + 'static,
    F: for<'c> FnOnce(&'c mut Conn) -> MaybeWork<'c, T> + Send + 'static,
{
    let actor = match author {
        Author::User(ctx) => {
            ctx.user()?.require(entry.permission)?;
            ctx.actor()
        }
        Author::Operator(actor) => actor.clone(),
    };
    let backend = db.backend();
    // One write of a group commit: filed with its entry, undone alone on a field error.
    let grouped = db.grouped(move |conn| -> Unit<'_, Result<T, FieldError>> {
        Box::pin(async move {
            match work(conn).await {
                Ok((Some(done), value)) => {
                    if !(entry.only_if_changed && done.changes.is_empty()) {
                        file(backend, &actor, conn, entry, done, now).await?;
                    }
                    Ok(Outcome::Commit(Ok(value)))
                }
                Ok((None, value)) => Ok(Outcome::Rollback(Ok(value))),
                Err(StoreError::Invalid(e)) => Ok(Outcome::Rollback(Err(e))),
                Err(e) => Err(e),
            }
        })
    });
    Ok(grouped.await?)
}

/// As `write`, a field error becoming the request's error (for forms that show it as such,
/// the API and imports).
pub async fn write_or_invalid<T, F>(
    state: &AppState,
    ctx: &Ctx,
    entry: Entry,
    work: F,
) -> WebResult<T>
where
    T: Send + 'static,
    F: for<'c> FnOnce(&'c mut Conn, Scope, String) -> WorkWith<'c, T> + Send + 'static,
{
    write(state, ctx, entry, work)
        .await?
        .map_err(|e| WebError::Invalid(vec![e]))
}

async fn file(
    backend: Backend,
    actor: &Actor,
    conn: &mut Conn,
    entry: Entry,
    done: Done,
    now: i64,
) -> StoreResult<()> {
    let mut event =
        Event::new(entry.action, entry.entity, Some(done.entity_id)).changes(done.changes);
    if let Some(r) = done.region {
        event = event.region(r);
    }
    audit::record(conn, backend, actor, event, now).await?;
    Ok(())
}

/// A batch action's work: it changes several records and reports each one.
pub type BatchWork<'c> = Pin<Box<dyn Future<Output = StoreResult<Vec<Done>>> + Send + 'c>>;

/// A batch action (assign a worker to the selected residents, close the selected
/// rectifications): `work` runs with the caller's scope and username in one transaction that
/// also files one `entry` per record; all or none. Returns how many records changed.
pub async fn write_batch<F>(
    state: &AppState,
    ctx: &Ctx,
    entry: Entry,
    work: F,
) -> WebResult<Result<usize, FieldError>>
where
    F: for<'c> FnOnce(&'c mut Conn, Scope, String) -> BatchWork<'c>,
{
    let u = ctx.user()?;
    u.require(entry.permission)?;
    let (scope, username) = (u.scope(), u.user.username.clone());
    let actor = ctx.actor();
    let now = state.now();
    let mut tx = state.db.begin().await?;
    match work(&mut tx, scope, username).await {
        Ok(list) => {
            let n = list.len();
            for done in list {
                file(state.db.backend(), &actor, &mut tx, entry, done, now).await?;
            }
            tx.commit().await?;
            Ok(Ok(n))
        }
        Err(StoreError::Invalid(e)) => Ok(Err(e)),
        Err(e) => Err(e.into()),
    }
}

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
    F: for<'c> FnOnce(&'c mut Conn, Scope, String) -> Work<'c> + Send + 'static,
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
    F: for<'c> FnOnce(&'c mut Conn, Scope, String) -> Work<'c> + Send + 'static,
{
    write(
        state,
        ctx,
        Entry::new(entity, action),
        move |conn, scope, by| -> WorkWith<'_, String> {
            let pending = work(conn, scope, by);
            Box::pin(async move {
                let done = pending.await?;
                let id = done.entity_id.clone();
                Ok((done, id))
            })
        },
    )
    .await
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
    F: for<'c> FnOnce(&'c mut Conn, Scope, String) -> Work<'c> + Send + 'static,
    P: FnOnce(FieldError) -> Fut,
    Fut: Future<Output = WebResult<Response>>,
{
    match audited(state, ctx, entity, action, work).await? {
        None => Ok(Redirect::to(&format!("{back}?notice=notice.saved")).into_response()),
        Some(e) => page(e).await,
    }
}
