-- People scope hardening: idempotency keys for creation. (issue 11 items 2, 7)
-- Portable rules as in 0001_core.sql: TEXT ids, BIGINT, epoch millis, enums as TEXT with CHECK.

-- A creation request carrying a key (API `Idempotency-Key`, the forms' hidden key) claims
-- (user, key) in the transaction that creates the record, so a repeated key by the same account
-- returns the first record instead of a second one. Rows expire (24 h) and are purged lazily.
CREATE TABLE idempotency_keys (
    user_id    TEXT NOT NULL REFERENCES users(id),
    idem_key   TEXT NOT NULL,
    entity     TEXT NOT NULL CHECK (entity IN ('resident','case','service')),
    entity_id  TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, idem_key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys(user_id, expires_at);

-- The supervisor's own account on a supervision pair: they see their supervisees' supervision
-- records even when the supervisee works outside their scope (issue 11 item 9).
ALTER TABLE supervision_pairs ADD COLUMN supervisor_user_id TEXT REFERENCES users(id);
CREATE INDEX supervision_pairs_account ON supervision_pairs(supervisor_user_id);
