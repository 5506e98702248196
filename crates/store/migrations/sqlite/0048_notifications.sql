-- Notifications (issue 17 item 2). Everything any channel sends is first a row of the in-app
-- inbox; its text names kinds of work and counts, never a person (no names, identity numbers or
-- addresses), and links to a page where the reader's own scope applies.
CREATE TABLE notifications (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id),
    -- A to-do kind (visit, plan_approval, …) or 'digest'.
    event      TEXT NOT NULL,
    text       TEXT NOT NULL,
    -- A local path.
    link       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    read_at    BIGINT
);
CREATE INDEX notifications_user ON notifications(user_id, created_at);
CREATE INDEX notifications_unread ON notifications(user_id, read_at);

-- One row per notification and outside channel, written with the notification: a channel that
-- fails delays only its own rows (retried with growing pauses), never the notification or a write.
CREATE TABLE notification_outbox (
    id              TEXT PRIMARY KEY,
    notification_id TEXT NOT NULL REFERENCES notifications(id),
    user_id         TEXT NOT NULL REFERENCES users(id),
    channel         TEXT NOT NULL CHECK (channel IN ('email','webhook','sms')),
    state           TEXT NOT NULL CHECK (state IN ('pending','sent','failed')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_at         BIGINT NOT NULL,
    last_error      TEXT NOT NULL DEFAULT '',
    sent_at         BIGINT,
    UNIQUE (notification_id, channel)
);
CREATE INDEX notification_outbox_due ON notification_outbox(state, next_at);

-- A user's choices: where outside channels reach them, a daily digest instead of one message per
-- event, and quiet hours (China time, HH:MM) during which outside channels wait.
CREATE TABLE notification_settings (
    -- Its own key, as every table with sealed columns: key rotation re-seals by `id`.
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL UNIQUE REFERENCES users(id),
    email_sealed  TEXT,
    mobile_sealed TEXT,
    digest        BIGINT NOT NULL DEFAULT 0 CHECK (digest IN (0,1)),
    quiet_from    TEXT NOT NULL DEFAULT '',
    quiet_to      TEXT NOT NULL DEFAULT '',
    updated_at    BIGINT NOT NULL
);

-- Which events reach a user on which outside channel (the inbox gets every event).
CREATE TABLE notification_choices (
    user_id TEXT NOT NULL REFERENCES users(id),
    event   TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('email','webhook','sms')),
    PRIMARY KEY (user_id, event, channel)
);

-- What the notifier last found per user and event: it speaks again only when there is more.
CREATE TABLE notification_marks (
    user_id TEXT NOT NULL REFERENCES users(id),
    event   TEXT NOT NULL,
    count   BIGINT NOT NULL,
    -- The day (China time) of the last digest, for 'digest'.
    day     TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (user_id, event)
);
