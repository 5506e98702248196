-- (PostgreSQL) Purchase projects (issue 14 item 2): what a purchaser approves to buy (立项: budget,
-- catalogue item, stations served, term), its procurement (method, public notices) and the
-- contract it ends in.

CREATE TABLE purchase_projects (
    id                TEXT PRIMARY KEY,
    region_code       TEXT COLLATE "C" NOT NULL REFERENCES regions(code),
    number            TEXT NOT NULL,
    name              TEXT NOT NULL,
    purchaser_org_id  TEXT REFERENCES organizations(id),
    catalogue_item_id TEXT REFERENCES catalogue_items(id),
    budget_fen        BIGINT NOT NULL CHECK (budget_fen > 0),
    term_start        TEXT NOT NULL,
    term_end          TEXT NOT NULL,
    -- Chosen when procurement starts.
    method            TEXT CHECK (method IN ('public_tender','competitive_consultation','competitive_negotiation','single_source','inquiry','other')),
    state             TEXT NOT NULL CHECK (state IN ('approved','procuring','awarded','failed','cancelled')),
    -- The contract the procurement ended in (state awarded); a contract ends one project at most.
    contract_id       TEXT UNIQUE REFERENCES contracts(id),
    created_by        TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    UNIQUE (region_code, number)
);
CREATE INDEX purchase_projects_region ON purchase_projects(region_code, term_start);

CREATE TABLE project_stations (
    project_id TEXT NOT NULL REFERENCES purchase_projects(id),
    station_id TEXT NOT NULL REFERENCES stations(id),
    PRIMARY KEY (project_id, station_id)
);

-- Notices as published (on the government procurement site, linked by url); never edited, a
-- mistake is put right by a correction notice.
CREATE TABLE procurement_notices (
    id           TEXT PRIMARY KEY,
    project_id   TEXT NOT NULL REFERENCES purchase_projects(id),
    seq          BIGINT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('procurement','correction','result','contract','termination')),
    published_on TEXT NOT NULL,
    title        TEXT NOT NULL,
    url          TEXT NOT NULL DEFAULT '',
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    UNIQUE (project_id, seq)
);
