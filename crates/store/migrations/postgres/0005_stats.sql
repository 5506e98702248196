-- (PostgreSQL) Maintained aggregates: counts and sums by region (every level of the tree, '' the country)
-- × month ('' for the current state of people served) × dimension × key, kept current by the
-- writes themselves. SQLite (one writer) updates stat_counts in the writing transaction;
-- PostgreSQL appends per-transaction rows to stat_deltas, folded into stat_counts every few
-- seconds (no hot rows); reads add the pending deltas, so figures are exact at once.

CREATE TABLE stat_counts (
    region_code  TEXT COLLATE "C" NOT NULL,
    month        TEXT NOT NULL,
    dim          TEXT NOT NULL,
    key          TEXT NOT NULL,
    n            BIGINT NOT NULL DEFAULT 0,
    person_times BIGINT NOT NULL DEFAULT 0,
    minutes      BIGINT NOT NULL DEFAULT 0,
    value_fen    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (region_code, month, dim, key)
);

CREATE TABLE stat_deltas (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region_code  TEXT COLLATE "C" NOT NULL,
    month        TEXT NOT NULL,
    dim          TEXT NOT NULL,
    key          TEXT NOT NULL,
    n            BIGINT NOT NULL,
    person_times BIGINT NOT NULL,
    minutes      BIGINT NOT NULL,
    value_fen    BIGINT NOT NULL
);
CREATE INDEX stat_deltas_key ON stat_deltas(region_code, month, dim);
