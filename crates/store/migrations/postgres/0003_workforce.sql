-- (PostgreSQL) The workforce: staff with sealed identity data, station assignments with history,
-- certificates, training, supervision, 三区计划 teams, staffing rules per region.
-- Identity numbers and mobiles are stored only sealed (encrypted) plus a keyed lookup hash.

CREATE TABLE staff (
    id               TEXT PRIMARY KEY,
    region_code      TEXT COLLATE "C" NOT NULL REFERENCES regions(code),
    name             TEXT NOT NULL,
    id_type          TEXT NOT NULL CHECK (id_type IN ('resident_id','hk_macau_permit','taiwan_permit','foreign_permanent','passport')),
    id_number_sealed TEXT NOT NULL,
    id_number_hash   TEXT NOT NULL UNIQUE,
    sex              TEXT CHECK (sex IN ('male','female')),
    birth_date       TEXT,
    mobile_sealed    TEXT,
    mobile_hash      TEXT,
    education        TEXT NOT NULL DEFAULT '' CHECK (education IN ('','secondary','junior_college','bachelor','master','doctor')),
    major            TEXT NOT NULL DEFAULT '',
    employer_org_id  TEXT REFERENCES organizations(id),
    station_id       TEXT REFERENCES stations(id),
    role             TEXT NOT NULL CHECK (role IN ('station_head','frontline','supervisor','admin_finance','auxiliary')),
    employment_mode  TEXT NOT NULL CHECK (employment_mode IN ('project_purchase','position_purchase','direct')),
    sector           TEXT NOT NULL CHECK (sector IN ('civil_affairs','justice','drug_control','medical','unions','youth_league','womens_federation','disabled_federation','other')),
    status           TEXT NOT NULL CHECK (status IN ('active','left')),
    joined_on        TEXT NOT NULL,
    left_on          TEXT,
    left_reason      TEXT NOT NULL DEFAULT '',
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX staff_region ON staff(region_code, status);
CREATE INDEX staff_station ON staff(station_id, status);
CREATE INDEX staff_employer ON staff(employer_org_id);
CREATE INDEX staff_mobile ON staff(mobile_hash);

CREATE TABLE staff_assignments (
    id          TEXT PRIMARY KEY,
    staff_id    TEXT NOT NULL REFERENCES staff(id),
    station_id  TEXT REFERENCES stations(id),
    region_code TEXT COLLATE "C" NOT NULL,
    role        TEXT NOT NULL,
    from_date   TEXT NOT NULL,
    to_date     TEXT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX staff_assignments_staff ON staff_assignments(staff_id, from_date);

CREATE TABLE certificates (
    id               TEXT PRIMARY KEY,
    staff_id         TEXT NOT NULL REFERENCES staff(id),
    region_code      TEXT COLLATE "C" NOT NULL,
    level            TEXT NOT NULL CHECK (level IN ('assistant','intermediate','senior')),
    number           TEXT NOT NULL,
    obtained_on      TEXT NOT NULL,
    registered_until TEXT,
    created_at       BIGINT NOT NULL,
    UNIQUE (staff_id, level)
);
CREATE INDEX certificates_region ON certificates(region_code, registered_until);

CREATE TABLE trainings (
    id           TEXT PRIMARY KEY,
    staff_id     TEXT NOT NULL REFERENCES staff(id),
    region_code  TEXT COLLATE "C" NOT NULL,
    course       TEXT NOT NULL,
    provider     TEXT NOT NULL DEFAULT '',
    -- Tenths of an hour: 1.5 h is 15.
    hours_tenths BIGINT NOT NULL CHECK (hours_tenths > 0 AND hours_tenths <= 2000),
    held_on      TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX trainings_staff ON trainings(staff_id, held_on);
CREATE INDEX trainings_region ON trainings(region_code, held_on);

CREATE TABLE supervision_pairs (
    id            TEXT PRIMARY KEY,
    supervisor_id TEXT NOT NULL REFERENCES staff(id),
    supervisee_id TEXT NOT NULL REFERENCES staff(id),
    region_code   TEXT COLLATE "C" NOT NULL,
    from_date     TEXT NOT NULL,
    to_date       TEXT,
    created_at    BIGINT NOT NULL,
    CHECK (supervisor_id <> supervisee_id)
);
CREATE INDEX supervision_pairs_region ON supervision_pairs(region_code);

CREATE TABLE supervision_sessions (
    id           TEXT PRIMARY KEY,
    pair_id      TEXT NOT NULL REFERENCES supervision_pairs(id),
    region_code  TEXT COLLATE "C" NOT NULL,
    held_on      TEXT NOT NULL,
    hours_tenths BIGINT NOT NULL CHECK (hours_tenths > 0 AND hours_tenths <= 240),
    topics       TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX supervision_sessions_pair ON supervision_sessions(pair_id, held_on);

-- 三区计划: a team sent to a host county for a period; members are dispatched or local.
CREATE TABLE sanqu_teams (
    id              TEXT PRIMARY KEY,
    region_code     TEXT COLLATE "C" NOT NULL REFERENCES regions(code),
    name            TEXT NOT NULL,
    sending_org_id  TEXT REFERENCES organizations(id),
    sending_name    TEXT NOT NULL DEFAULT '',
    starts_on       TEXT NOT NULL,
    ends_on         TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);

CREATE TABLE sanqu_members (
    team_id     TEXT NOT NULL REFERENCES sanqu_teams(id),
    staff_id    TEXT NOT NULL REFERENCES staff(id),
    region_code TEXT COLLATE "C" NOT NULL,
    dispatched  BIGINT NOT NULL CHECK (dispatched IN (0,1)),
    PRIMARY KEY (team_id, staff_id)
);

-- The staffing rule for stations below a region (nearest region up the tree wins; default 2).
CREATE TABLE staffing_rules (
    region_code        TEXT COLLATE "C" PRIMARY KEY,
    min_social_workers BIGINT NOT NULL CHECK (min_social_workers BETWEEN 0 AND 50),
    updated_at         BIGINT NOT NULL
);
