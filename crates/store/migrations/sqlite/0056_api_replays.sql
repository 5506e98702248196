-- Every API write accepts an Idempotency-Key (issue 19 item 5): the first request's response is
-- kept for a day under (account, key), sealed, and a retry with the same key and the same request
-- gets it again instead of writing twice. `status` is 0 while the first request is running.
CREATE TABLE api_replays (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users(id),
    idem_key        TEXT NOT NULL,
    request_hash    TEXT NOT NULL,
    status          INTEGER NOT NULL DEFAULT 0,
    content_type    TEXT NOT NULL DEFAULT '',
    response_sealed TEXT,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    UNIQUE (user_id, idem_key)
);
CREATE INDEX api_replays_expiry ON api_replays(expires_at);
