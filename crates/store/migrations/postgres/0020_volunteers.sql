-- (PostgreSQL) Volunteers (志愿服务, issue 15 item 1): the registry. The identity number is sealed
-- with the key ring and found again by its keyed hash (one registration per person); the
-- volunteer number (志愿者编号) is what lists and certificates show instead.

CREATE TABLE volunteers (
    id                  TEXT PRIMARY KEY,
    volunteer_no        TEXT NOT NULL UNIQUE,
    -- The township or village the volunteer serves in.
    region_code         TEXT COLLATE "C" NOT NULL REFERENCES regions(code),
    station_id          TEXT REFERENCES stations(id),
    name                TEXT NOT NULL,
    id_type             TEXT NOT NULL CHECK (id_type IN ('resident_id','hk_macau_permit','taiwan_permit','foreign_permanent','passport')),
    id_number_sealed    TEXT NOT NULL,
    id_number_hash      TEXT NOT NULL UNIQUE,
    sex                 TEXT CHECK (sex IN ('male','female')),
    birth_date          TEXT NOT NULL,
    mobile_sealed       TEXT,
    -- Tag lists joined with '、'.
    skills              TEXT NOT NULL DEFAULT '',
    intentions          TEXT NOT NULL DEFAULT '',
    availability        TEXT NOT NULL DEFAULT '',
    -- Under 14: the guardian and the date of their consent; under 10: accompanied.
    guardian_name       TEXT NOT NULL DEFAULT '',
    guardian_consent_on TEXT,
    accompanied         BIGINT NOT NULL DEFAULT 0 CHECK (accompanied IN (0,1)),
    status              TEXT NOT NULL CHECK (status IN ('active','suspended','left')),
    registered_on       TEXT NOT NULL,
    created_by          TEXT NOT NULL,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);
CREATE INDEX volunteers_region ON volunteers(region_code, status);
CREATE INDEX volunteers_recent ON volunteers(created_at, id);
