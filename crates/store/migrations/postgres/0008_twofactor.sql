-- Two-factor sign-in (TOTP): secrets, recovery codes, per-region requirement. (issue 11 item 14)
-- Portable rules as in 0001_core.sql: TEXT ids, BIGINT, epoch millis, flags BIGINT 0/1.

-- One TOTP secret per account, sealed with the key ring (field "twofactor.secret"). A row with
-- confirmed_at NULL is an enrolment in progress; last_step is the last accepted 30-second step,
-- so a code is accepted once.
CREATE TABLE twofactor_secrets (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL UNIQUE REFERENCES users(id),
    secret_sealed TEXT NOT NULL,
    confirmed_at  BIGINT,
    last_step     BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL
);

-- Single-use recovery codes, stored as SHA-256 of the (high-entropy) code.
CREATE TABLE twofactor_recovery_codes (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id),
    code_hash  TEXT NOT NULL,
    used_at    BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX twofactor_recovery_user ON twofactor_recovery_codes(user_id, code_hash);

-- Regions whose whole subtree must sign in with a second factor ('' is the whole country).
CREATE TABLE twofactor_regions (
    region_code TEXT COLLATE "C" PRIMARY KEY,
    set_by      TEXT,
    set_at      BIGINT NOT NULL
);

-- Sign-ins that passed the password and wait for the second step (verification or enrolment).
-- Keyed by the SHA-256 of a cookie token, like sessions; short-lived.
CREATE TABLE twofactor_pending (
    id_hash    TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id),
    purpose    TEXT NOT NULL CHECK (purpose IN ('verify','enrol')),
    next       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX twofactor_pending_user ON twofactor_pending(user_id);

-- Administrators must now enrol: sessions they opened before this version end, so their next
-- sign-in goes through enrolment.
DELETE FROM sessions WHERE user_id IN (
    SELECT id FROM users WHERE role IN ('system_admin','security_admin','auditor','civil_affairs_admin')
);
