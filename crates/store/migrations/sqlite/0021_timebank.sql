-- (SQLite) 时间银行 (issue 15 item 2): schemes per region with their rules (JSON, read through the
-- domain's checks), accounts, and a double-entry ledger. Entries and postings are never updated
-- or deleted: a mistake is put right by a reversal, a new entry referencing the original.

CREATE TABLE timebank_schemes (
    id          TEXT PRIMARY KEY,
    region_code TEXT NOT NULL REFERENCES regions(code),
    name        TEXT NOT NULL,
    operator    TEXT NOT NULL DEFAULT '',
    rules       TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (region_code, name)
);

CREATE TABLE timebank_accounts (
    id                TEXT PRIMARY KEY,
    scheme_id         TEXT NOT NULL REFERENCES timebank_schemes(id),
    -- The scheme's region, kept for the range read of scope.
    region_code       TEXT NOT NULL REFERENCES regions(code),
    kind              TEXT NOT NULL CHECK (kind IN ('person','group','pool','issuer','settlement')),
    -- Person and group accounts: a resident on file, a volunteer (later) or a holder by name.
    holder_kind       TEXT CHECK (holder_kind IN ('resident','volunteer','named')),
    holder_id         TEXT,
    holder_name       TEXT NOT NULL,
    -- Settlement accounts: the partner scheme.
    partner_scheme_id TEXT REFERENCES timebank_schemes(id),
    -- Maintained with every posting by conditional updates that keep the scheme's bounds.
    balance           BIGINT NOT NULL DEFAULT 0,
    earned_total      BIGINT NOT NULL DEFAULT 0,
    earn_day          TEXT NOT NULL DEFAULT '',
    earned_day        BIGINT NOT NULL DEFAULT 0,
    created_by        TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    UNIQUE (scheme_id, holder_kind, holder_id),
    UNIQUE (scheme_id, partner_scheme_id)
);
CREATE UNIQUE INDEX timebank_accounts_system ON timebank_accounts(scheme_id, kind) WHERE kind IN ('pool','issuer');
CREATE INDEX timebank_accounts_region ON timebank_accounts(region_code, scheme_id);

CREATE TABLE timebank_entries (
    id          TEXT PRIMARY KEY,
    scheme_id   TEXT NOT NULL REFERENCES timebank_schemes(id),
    kind        TEXT NOT NULL CHECK (kind IN ('earn','redeem','transfer','donate','grant','cap_sweep','interscheme','reversal')),
    -- EARN: what was earned for (one EARN per source).
    source_kind TEXT CHECK (source_kind IN ('service','volunteer_hours')),
    source_id   TEXT,
    -- REVERSAL: the entry reversed (at most once).
    reverses_id TEXT UNIQUE REFERENCES timebank_entries(id),
    note        TEXT NOT NULL DEFAULT '',
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    UNIQUE (source_kind, source_id)
);
CREATE INDEX timebank_entries_scheme ON timebank_entries(scheme_id, created_at);

CREATE TABLE timebank_postings (
    entry_id   TEXT NOT NULL REFERENCES timebank_entries(id),
    account_id TEXT NOT NULL REFERENCES timebank_accounts(id),
    amount     BIGINT NOT NULL CHECK (amount <> 0),
    PRIMARY KEY (entry_id, account_id)
);
CREATE INDEX timebank_postings_account ON timebank_postings(account_id, entry_id);
