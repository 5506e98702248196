-- (SQLite) Volunteers (志愿服务, issue 15 item 1): the registry. The identity number is sealed
-- with the key ring and found again by its keyed hash (one registration per person); the
-- volunteer number (志愿者编号) is what lists and certificates show instead.

CREATE TABLE volunteers (
    id                  TEXT PRIMARY KEY,
    volunteer_no        TEXT NOT NULL UNIQUE,
    -- The township or village the volunteer serves in.
    region_code         TEXT NOT NULL REFERENCES regions(code),
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

-- Volunteer teams (志愿服务队): registered as a social organisation (with its USCC), or not — an
-- unregistered team serves under a liaison station (联络团体). Members are volunteers of the
-- team's region.
CREATE TABLE volunteer_teams (
    id              TEXT PRIMARY KEY,
    region_code     TEXT NOT NULL REFERENCES regions(code),
    name            TEXT NOT NULL,
    registered      BIGINT NOT NULL DEFAULT 0 CHECK (registered IN (0,1)),
    registration_no TEXT,
    station_id      TEXT REFERENCES stations(id),
    created_by      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    UNIQUE (region_code, name),
    CHECK (registered = 0 OR registration_no IS NOT NULL),
    CHECK (registered = 1 OR station_id IS NOT NULL)
);
CREATE INDEX volunteer_teams_region ON volunteer_teams(region_code);

CREATE TABLE volunteer_team_members (
    team_id      TEXT NOT NULL REFERENCES volunteer_teams(id),
    volunteer_id TEXT NOT NULL REFERENCES volunteers(id),
    joined_on    TEXT NOT NULL,
    PRIMARY KEY (team_id, volunteer_id)
);
CREATE INDEX volunteer_team_members_volunteer ON volunteer_team_members(volunteer_id);
