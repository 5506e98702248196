-- The station network: organisation details, stations with their history, funding, services,
-- the five-indicator checklist and assessments, construction targets and monthly progress,
-- inspection and rectification, attachments, and import staging.
-- Every table carries region_code (the owning region) for scoping and future distribution.

ALTER TABLE organizations ADD COLUMN legal_rep TEXT NOT NULL DEFAULT '';
ALTER TABLE organizations ADD COLUMN contact_name TEXT NOT NULL DEFAULT '';
ALTER TABLE organizations ADD COLUMN contact_phone TEXT NOT NULL DEFAULT '';
ALTER TABLE organizations ADD COLUMN address TEXT NOT NULL DEFAULT '';
ALTER TABLE organizations ADD COLUMN rating TEXT NOT NULL DEFAULT '' CHECK (rating IN ('','1A','2A','3A','4A','5A'));
-- 1 when the USCC's check character disagrees (kept with a warning: some early real codes fail it).
ALTER TABLE organizations ADD COLUMN uscc_warning BIGINT NOT NULL DEFAULT 0 CHECK (uscc_warning IN (0,1));
CREATE UNIQUE INDEX organizations_region_name ON organizations(region_code, name);

CREATE TABLE stations (
    id                      TEXT PRIMARY KEY,
    region_code             TEXT NOT NULL REFERENCES regions(code),
    tier                    TEXT NOT NULL CHECK (tier IN ('county_center','township_station','village_room')),
    name                    TEXT NOT NULL,
    address                 TEXT NOT NULL DEFAULT '',
    lng_e6                  BIGINT,
    lat_e6                  BIGINT,
    host_premises           TEXT NOT NULL DEFAULT '',
    mode                    TEXT NOT NULL CHECK (mode IN ('purchase','direct')),
    operator_org_id         TEXT REFERENCES organizations(id),
    status                  TEXT NOT NULL CHECK (status IN ('planned','under_construction','operating','suspended','closed')),
    status_since            TEXT NOT NULL,
    area_m2                 BIGINT NOT NULL DEFAULT 0 CHECK (area_m2 >= 0),
    rooms                   TEXT NOT NULL DEFAULT '',
    staff_count             BIGINT NOT NULL DEFAULT 0 CHECK (staff_count >= 0),
    certified_count         BIGINT NOT NULL DEFAULT 0 CHECK (certified_count >= 0),
    phone                   TEXT NOT NULL DEFAULT '',
    open_hours              TEXT NOT NULL DEFAULT '',
    -- Maintained in the same transaction as assessments and checklist changes.
    readiness_pct           BIGINT NOT NULL DEFAULT 0,
    completion_confirmed_at BIGINT,
    completion_confirmed_by TEXT,
    created_at              BIGINT NOT NULL,
    updated_at              BIGINT NOT NULL,
    UNIQUE (region_code, name)
);
CREATE INDEX stations_operator ON stations(operator_org_id);
CREATE INDEX stations_status ON stations(status, region_code);

CREATE TABLE station_status_history (
    id          TEXT PRIMARY KEY,
    station_id  TEXT NOT NULL REFERENCES stations(id),
    region_code TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('planned','under_construction','operating','suspended','closed')),
    on_date     TEXT NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX station_status_history_station ON station_status_history(station_id, on_date);

CREATE TABLE station_operators (
    id          TEXT PRIMARY KEY,
    station_id  TEXT NOT NULL REFERENCES stations(id),
    region_code TEXT NOT NULL,
    org_id      TEXT REFERENCES organizations(id),
    mode        TEXT NOT NULL CHECK (mode IN ('purchase','direct')),
    from_date   TEXT NOT NULL,
    to_date     TEXT,
    note        TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL
);
CREATE INDEX station_operators_station ON station_operators(station_id, from_date);

CREATE TABLE station_funding (
    id          TEXT PRIMARY KEY,
    station_id  TEXT NOT NULL REFERENCES stations(id),
    region_code TEXT NOT NULL,
    year        BIGINT NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    source      TEXT NOT NULL CHECK (source IN ('purchase','welfare_lottery','township','county','other')),
    amount_fen  BIGINT NOT NULL CHECK (amount_fen >= 0),
    updated_at  BIGINT NOT NULL,
    UNIQUE (station_id, year, source)
);

-- The service list (服务清单): items defined at a region apply to every station below it.
CREATE TABLE service_items (
    id          TEXT PRIMARY KEY,
    region_code TEXT NOT NULL,
    domain      TEXT NOT NULL CHECK (domain IN ('social_assistance','elderly','children','disability','community_governance','social_affairs')),
    name        TEXT NOT NULL,
    sort        BIGINT NOT NULL DEFAULT 0,
    active      BIGINT NOT NULL DEFAULT 1 CHECK (active IN (0,1)),
    created_at  BIGINT NOT NULL,
    UNIQUE (region_code, name)
);

CREATE TABLE station_services (
    station_id  TEXT NOT NULL REFERENCES stations(id),
    item_id     TEXT NOT NULL REFERENCES service_items(id),
    region_code TEXT NOT NULL,
    PRIMARY KEY (station_id, item_id)
);

-- The acceptance checklist (五项指标): items defined at a region apply to every station below it.
CREATE TABLE indicator_items (
    id          TEXT PRIMARY KEY,
    region_code TEXT NOT NULL,
    category    TEXT NOT NULL CHECK (category IN ('site','funding','staff','rules','services')),
    name        TEXT NOT NULL,
    requirement TEXT NOT NULL DEFAULT '',
    evidence    TEXT NOT NULL CHECK (evidence IN ('photo','document','record','none')),
    weight      BIGINT NOT NULL DEFAULT 1 CHECK (weight BETWEEN 1 AND 100),
    sort        BIGINT NOT NULL DEFAULT 0,
    active      BIGINT NOT NULL DEFAULT 1 CHECK (active IN (0,1)),
    created_at  BIGINT NOT NULL,
    UNIQUE (region_code, name)
);

CREATE TABLE station_assessments (
    station_id    TEXT NOT NULL REFERENCES stations(id),
    item_id       TEXT NOT NULL REFERENCES indicator_items(id),
    region_code   TEXT NOT NULL,
    met           BIGINT NOT NULL CHECK (met IN (0,1)),
    note          TEXT NOT NULL DEFAULT '',
    attachment_id TEXT,
    assessed_by   TEXT NOT NULL,
    assessed_on   TEXT NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (station_id, item_id)
);

CREATE TABLE construction_targets (
    id          TEXT PRIMARY KEY,
    region_code TEXT NOT NULL REFERENCES regions(code),
    year        BIGINT NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    target      BIGINT NOT NULL CHECK (target >= 0),
    updated_at  BIGINT NOT NULL,
    UNIQUE (region_code, year)
);

CREATE TABLE progress_reports (
    id           TEXT PRIMARY KEY,
    station_id   TEXT NOT NULL REFERENCES stations(id),
    region_code  TEXT NOT NULL,
    month        BIGINT NOT NULL,
    progress_pct BIGINT NOT NULL CHECK (progress_pct BETWEEN 0 AND 100),
    milestones   TEXT NOT NULL DEFAULT '',
    problems     TEXT NOT NULL DEFAULT '',
    reported_by  TEXT NOT NULL,
    reported_at  BIGINT NOT NULL,
    UNIQUE (station_id, month)
);
CREATE INDEX progress_reports_region ON progress_reports(region_code, month);

CREATE TABLE inspection_plans (
    id          TEXT PRIMARY KEY,
    region_code TEXT NOT NULL REFERENCES regions(code),
    title       TEXT NOT NULL,
    starts_on   TEXT NOT NULL,
    ends_on     TEXT NOT NULL,
    notes       TEXT NOT NULL DEFAULT '',
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE inspection_visits (
    id          TEXT PRIMARY KEY,
    plan_id     TEXT REFERENCES inspection_plans(id),
    station_id  TEXT NOT NULL REFERENCES stations(id),
    region_code TEXT NOT NULL,
    visited_on  TEXT NOT NULL,
    inspector   TEXT NOT NULL,
    lng_e6      BIGINT,
    lat_e6      BIGINT,
    findings    TEXT NOT NULL DEFAULT '',
    met_count   BIGINT NOT NULL DEFAULT 0,
    item_count  BIGINT NOT NULL DEFAULT 0,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX inspection_visits_region ON inspection_visits(region_code, visited_on);

CREATE TABLE inspection_results (
    visit_id TEXT NOT NULL REFERENCES inspection_visits(id),
    item_id  TEXT NOT NULL REFERENCES indicator_items(id),
    met      BIGINT NOT NULL CHECK (met IN (0,1)),
    note     TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (visit_id, item_id)
);

CREATE TABLE rectifications (
    id           TEXT PRIMARY KEY,
    visit_id     TEXT NOT NULL REFERENCES inspection_visits(id),
    station_id   TEXT NOT NULL REFERENCES stations(id),
    region_code  TEXT NOT NULL,
    description  TEXT NOT NULL,
    owner        TEXT NOT NULL,
    deadline     TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('open','submitted','verified','closed')),
    response     TEXT NOT NULL DEFAULT '',
    submitted_at BIGINT,
    verified_by  TEXT,
    verified_at  BIGINT,
    closed_at    BIGINT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX rectifications_region ON rectifications(region_code, status, deadline);

-- Files live outside any web-served directory, named by their SHA-256; rows hold the metadata.
CREATE TABLE attachments (
    id           TEXT PRIMARY KEY,
    owner_kind   TEXT NOT NULL CHECK (owner_kind IN ('station','inspection_visit','assessment','rectification')),
    owner_id     TEXT NOT NULL,
    region_code  TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('photo','rule','evidence','other')),
    filename     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    sha256       TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX attachments_owner ON attachments(owner_kind, owner_id);

-- An uploaded spreadsheet between preview and commit.
CREATE TABLE import_batches (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id),
    kind        TEXT NOT NULL,
    filename    TEXT NOT NULL,
    content     BLOB NOT NULL,
    created_at  BIGINT NOT NULL
);
