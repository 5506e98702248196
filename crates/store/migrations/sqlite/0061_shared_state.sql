-- Several `shegong serve` processes on one database (issue 20 item 5): what each process kept in
-- its memory is kept here instead, so that every instance sees the same counts and the same
-- one-time secrets, and a background job runs once whichever instance is due.

-- The last run of each periodic job (housekeeping): an instance claims a round by moving
-- `last_at` forward in the round's own transaction, so two instances never run the same round.
CREATE TABLE job_runs (
    name    TEXT PRIMARY KEY,
    last_at BIGINT NOT NULL
);

-- Failed sign-ins under names that have no account, so that such a name "locks" exactly like a
-- real account (the lockout message does not tell which names exist). Keyed by a digest of the
-- name typed: a password typed into the name field is not kept.
CREATE TABLE login_throttle (
    name_hash    TEXT PRIMARY KEY,
    failures     BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT NOT NULL DEFAULT 0,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX login_throttle_updated ON login_throttle(updated_at);

-- Failed QR sign-ins at a volunteer activity, one row each: the code refuses everyone after too
-- many in a window (bounds guessing of a mobile's last four digits).
CREATE TABLE checkin_failures (
    id          TEXT PRIMARY KEY,
    activity_id TEXT NOT NULL,
    at          BIGINT NOT NULL
);
CREATE INDEX checkin_failures_activity ON checkin_failures(activity_id, at);
CREATE INDEX checkin_failures_at ON checkin_failures(at);

-- A temporary password between the POST that set it and the page that shows it once, for the
-- manager's session that set it; sealed, removed when shown, expired after ten minutes.
CREATE TABLE one_time_secrets (
    id            TEXT PRIMARY KEY,
    session_hash  TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    secret_sealed TEXT NOT NULL,
    expires_at    BIGINT NOT NULL,
    UNIQUE (session_hash, user_id)
);
CREATE INDEX one_time_secrets_expiry ON one_time_secrets(expires_at);

-- A background import's progress, written by the instance running it about once a second, so
-- that the page's poll answers on any instance; `cancel` asks the running instance to stop.
CREATE TABLE import_progress (
    batch      TEXT PRIMARY KEY,
    phase      TEXT NOT NULL,
    total      BIGINT NOT NULL,
    checked    BIGINT NOT NULL DEFAULT 0,
    written    BIGINT NOT NULL DEFAULT 0,
    cancel     INTEGER NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL
);
CREATE INDEX import_progress_updated ON import_progress(updated_at);
