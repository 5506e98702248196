-- (PostgreSQL) 应急社会工作 (issue 16 item 2): emergency social-work teams (members drawn from staff and
-- volunteers, in 评估组/执行组/后勤组, with reserves), incidents with their response states and
-- timeline, and deployments of team members for a period.

CREATE TABLE emergency_teams (
    id          TEXT PRIMARY KEY,
    region_code TEXT COLLATE "C" NOT NULL REFERENCES regions(code),
    station_id  TEXT REFERENCES stations(id),
    name        TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (region_code, name)
);
CREATE INDEX emergency_teams_region ON emergency_teams(region_code);

-- A member is a staff member or a volunteer (exactly one); person_key is 'staff:<id>' or
-- 'volunteer:<id>', the same person whatever team they are in (deployments must not overlap).
CREATE TABLE emergency_team_members (
    id           TEXT PRIMARY KEY,
    team_id      TEXT NOT NULL REFERENCES emergency_teams(id),
    staff_id     TEXT REFERENCES staff(id),
    volunteer_id TEXT REFERENCES volunteers(id),
    person_key   TEXT NOT NULL,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('assessment','execution','logistics')),
    reserve      BIGINT NOT NULL DEFAULT 0 CHECK (reserve IN (0,1)),
    created_at   BIGINT NOT NULL,
    CHECK ((staff_id IS NULL) <> (volunteer_id IS NULL)),
    UNIQUE (team_id, person_key)
);

-- An incident's region is the lowest common ancestor of its affected regions (scope); the
-- affected region codes are listed in incident_regions.
CREATE TABLE incidents (
    id             TEXT PRIMARY KEY,
    region_code    TEXT COLLATE "C" NOT NULL REFERENCES regions(code),
    title          TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('natural_disaster','accident','public_health','social_safety')),
    level          TEXT NOT NULL CHECK (level IN ('1','2','3','4')),
    response_level TEXT CHECK (response_level IN ('1','2','3','4')),
    started_at     BIGINT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('warning','response','handling','recovery','closed')),
    description    TEXT NOT NULL DEFAULT '',
    created_by     TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX incidents_region ON incidents(region_code, started_at);

CREATE TABLE incident_regions (
    incident_id TEXT NOT NULL REFERENCES incidents(id),
    region_code TEXT COLLATE "C" NOT NULL REFERENCES regions(code),
    PRIMARY KEY (incident_id, region_code)
);

-- The timeline of state changes: only inserted.
CREATE TABLE incident_events (
    id          TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents(id),
    from_state  TEXT,
    to_state    TEXT NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX incident_events_incident ON incident_events(incident_id, created_at);

CREATE TABLE incident_deployments (
    id          TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents(id),
    team_id     TEXT NOT NULL REFERENCES emergency_teams(id),
    role        TEXT NOT NULL CHECK (role IN ('assessment','execution','logistics')),
    from_at     BIGINT NOT NULL,
    to_at       BIGINT NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    CHECK (to_at > from_at)
);
CREATE INDEX incident_deployments_incident ON incident_deployments(incident_id, from_at);

-- One row per member deployed, with the period copied so overlaps are found by person.
CREATE TABLE incident_deployment_members (
    deployment_id TEXT NOT NULL REFERENCES incident_deployments(id),
    member_id     TEXT NOT NULL REFERENCES emergency_team_members(id),
    person_key    TEXT NOT NULL,
    incident_id   TEXT NOT NULL REFERENCES incidents(id),
    from_at       BIGINT NOT NULL,
    to_at         BIGINT NOT NULL,
    PRIMARY KEY (deployment_id, member_id)
);
CREATE INDEX incident_deployment_members_person ON incident_deployment_members(person_key, from_at);
CREATE INDEX incident_deployment_members_incident ON incident_deployment_members(incident_id);
