-- Core (PostgreSQL): regions, organisations, accounts, sessions, API tokens, audit.
-- Region codes use the "C" collation so that the subtree range [prefix, prefix || ':') holds
-- whatever the database locale is.
-- Portable rules: TEXT UUIDv7 keys made in Rust, BIGINT everywhere, times as UTC epoch
-- milliseconds made in Rust, flags as BIGINT 0/1, enums as TEXT with CHECK, no triggers.

CREATE TABLE app_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE regions (
    code            TEXT COLLATE "C" PRIMARY KEY,
    name            TEXT NOT NULL,
    level           TEXT NOT NULL CHECK (level IN ('province','city','county','township','village')),
    kind            TEXT NOT NULL,
    parent_code     TEXT COLLATE "C" REFERENCES regions(code),
    path_names      TEXT NOT NULL,
    child_count     BIGINT NOT NULL DEFAULT 0,
    vintage         BIGINT NOT NULL,
    retired_vintage BIGINT
);
CREATE INDEX regions_parent ON regions(parent_code, code);
CREATE INDEX regions_name ON regions(name);

CREATE TABLE organizations (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    uscc            TEXT UNIQUE,
    kind            TEXT NOT NULL CHECK (kind IN ('agency','civil_affairs_bureau','township_government','other')),
    region_code     TEXT COLLATE "C" NOT NULL REFERENCES regions(code),
    status          TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active','inactive')),
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX organizations_region ON organizations(region_code);

CREATE TABLE users (
    id                   TEXT PRIMARY KEY,
    username             TEXT NOT NULL UNIQUE,
    display_name         TEXT NOT NULL,
    role                 TEXT NOT NULL CHECK (role IN ('system_admin','security_admin','auditor','civil_affairs_admin','agency_manager','social_worker','supervisor','evaluator')),
    -- '' is the whole country; otherwise a region code. Scoped reads use a range on this column.
    region_code          TEXT COLLATE "C" NOT NULL,
    org_id               TEXT REFERENCES organizations(id),
    password_hash        TEXT NOT NULL,
    must_change_password BIGINT NOT NULL DEFAULT 1 CHECK (must_change_password IN (0,1)),
    password_changed_at  BIGINT NOT NULL,
    failed_logins        BIGINT NOT NULL DEFAULT 0,
    locked_until         BIGINT,
    disabled             BIGINT NOT NULL DEFAULT 0 CHECK (disabled IN (0,1)),
    -- Demo accounts (serve --demo) can log in only while the server runs in demo mode.
    is_demo              BIGINT NOT NULL DEFAULT 0 CHECK (is_demo IN (0,1)),
    last_login_at        BIGINT,
    last_login_ip        TEXT,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);
CREATE INDEX users_region ON users(region_code);

CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id),
    csrf_token   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    ip           TEXT,
    user_agent   TEXT
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id),
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

-- Append-only. Each entry's hash covers its content and the previous entry's hash.
CREATE TABLE audit_log (
    seq         BIGINT PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    at          BIGINT NOT NULL,
    actor_id    TEXT,
    actor_name  TEXT NOT NULL,
    action      TEXT NOT NULL,
    entity      TEXT NOT NULL,
    entity_id   TEXT,
    region_code TEXT COLLATE "C" NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('success','failure','denied')),
    changes     TEXT NOT NULL,
    request_id  TEXT,
    ip          TEXT,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_log_region ON audit_log(region_code, seq);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_actor ON audit_log(actor_name, seq);

-- The chain's head (last seq and hash) and its anchor (where retention last cut the log).
CREATE TABLE audit_head (
    id          BIGINT PRIMARY KEY CHECK (id = 1),
    seq         BIGINT NOT NULL,
    hash        TEXT NOT NULL,
    anchor_seq  BIGINT NOT NULL,
    anchor_hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash, anchor_seq, anchor_hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000', 0,
        '0000000000000000000000000000000000000000000000000000000000000000');
