-- (PostgreSQL) Government purchase of services (政府购买服务), first slice: the catalogue by region and
-- year, contracts with their lines, budget lines and stations, and payment plans as instalments.
-- Amounts are BIGINT fen, shares basis points (10,000 = 100 %), dates TEXT 'YYYY-MM-DD'. Rules
-- kept as data (a line's qualifying rule, an instalment's trigger, cost shares) are JSON text
-- written and read back through the domain types.

CREATE TABLE catalogue_editions (
    id          TEXT PRIMARY KEY,
    region_code TEXT COLLATE "C" NOT NULL REFERENCES regions(code),
    year        BIGINT NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    title       TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('draft','published')),
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (region_code, year)
);

CREATE TABLE catalogue_items (
    id             TEXT PRIMARY KEY,
    edition_id     TEXT NOT NULL REFERENCES catalogue_editions(id),
    -- The edition's region, repeated so scoped reads need no join.
    region_code    TEXT COLLATE "C" NOT NULL,
    field          TEXT NOT NULL CHECK (field IN ('elderly','women_children','youth','disability','family','social_assistance','drug_control','corrections','medical','community')),
    name           TEXT NOT NULL,
    description    TEXT NOT NULL DEFAULT '',
    status         TEXT NOT NULL CHECK (status IN ('proposed','reviewed','included','purchasing','removed')),
    removal_reason TEXT CHECK (removal_reason IN ('unpurchased_two_years','renewal_not_sought','renewal_review_failed','other')),
    -- [{"level":"city","share_bp":5000}, …], adding up to 10,000.
    cost_shares    TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX catalogue_items_edition ON catalogue_items(edition_id, field);
CREATE INDEX catalogue_items_region ON catalogue_items(region_code);

CREATE TABLE contracts (
    id                TEXT PRIMARY KEY,
    -- The purchaser's region: a region's civil-affairs users see the contracts filed here.
    region_code       TEXT COLLATE "C" NOT NULL REFERENCES regions(code),
    number            TEXT NOT NULL,
    title             TEXT NOT NULL,
    purchaser_org_id  TEXT REFERENCES organizations(id),
    provider_org_id   TEXT NOT NULL REFERENCES organizations(id),
    amount_fen        BIGINT NOT NULL CHECK (amount_fen >= 0),
    term_start        TEXT NOT NULL,
    term_end          TEXT NOT NULL,
    method            TEXT NOT NULL CHECK (method IN ('public_tender','competitive_consultation','competitive_negotiation','single_source','inquiry','other')),
    state             TEXT NOT NULL CHECK (state IN ('signed','in_force','suspended','terminated','awaiting_acceptance','accepted','settled','archived')),
    renewal_of        TEXT REFERENCES contracts(id),
    catalogue_item_id TEXT REFERENCES catalogue_items(id),
    -- What an assessment result pays, as ReductionRule's text; '' for none.
    reduction_rule    TEXT NOT NULL DEFAULT '',
    created_by        TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    UNIQUE (region_code, number)
);
CREATE INDEX contracts_region ON contracts(region_code, term_start);
CREATE INDEX contracts_provider ON contracts(provider_org_id, term_start);

CREATE TABLE contract_stations (
    contract_id TEXT NOT NULL REFERENCES contracts(id),
    station_id  TEXT NOT NULL REFERENCES stations(id),
    PRIMARY KEY (contract_id, station_id)
);
CREATE INDEX contract_stations_station ON contract_stations(station_id);

CREATE TABLE contract_lines (
    id             TEXT PRIMARY KEY,
    contract_id    TEXT NOT NULL REFERENCES contracts(id),
    seq            BIGINT NOT NULL,
    service_kind   TEXT CHECK (service_kind IN ('casework','group','community','visit','resource_linking','policy_publicity','psychological','crisis')),
    content        TEXT NOT NULL,
    unit           TEXT NOT NULL,
    unit_price_fen BIGINT NOT NULL CHECK (unit_price_fen >= 0),
    quantity       BIGINT NOT NULL CHECK (quantity > 0),
    -- QualifyingRule as JSON: {"rule":"group","min_sessions":6,"min_person_times":42}.
    qualifying_rule TEXT NOT NULL,
    UNIQUE (contract_id, seq)
);

CREATE TABLE contract_budget_lines (
    id          TEXT PRIMARY KEY,
    contract_id TEXT NOT NULL REFERENCES contracts(id),
    seq         BIGINT NOT NULL,
    category    TEXT NOT NULL CHECK (category IN ('personnel','activities','supervision_training','administration','evaluation','tax')),
    amount_fen  BIGINT NOT NULL CHECK (amount_fen >= 0),
    spent_fen   BIGINT NOT NULL DEFAULT 0 CHECK (spent_fen >= 0),
    UNIQUE (contract_id, seq)
);

CREATE TABLE instalments (
    id          TEXT PRIMARY KEY,
    contract_id TEXT NOT NULL REFERENCES contracts(id),
    seq         BIGINT NOT NULL,
    -- The plan as written: a share in basis points, or a fixed amount (one of the two).
    share_bp    BIGINT,
    planned_fen BIGINT,
    -- The instalment's exact part of the contract amount (PaymentPlan::amounts).
    amount_fen  BIGINT NOT NULL CHECK (amount_fen >= 0),
    -- Trigger as JSON: {"trigger":"date","on":"2025-07-01"}, {"trigger":"evaluation","kind":"final"}.
    payment_trigger TEXT NOT NULL,
    due_on      TEXT,
    state       TEXT NOT NULL CHECK (state IN ('due','awaiting_assessment','assessed','requested','paid')),
    outcome     TEXT CHECK (outcome IN ('pass','reduced','fail')),
    payable_fen BIGINT CHECK (payable_fen >= 0),
    paid_on     TEXT,
    updated_at  BIGINT NOT NULL,
    UNIQUE (contract_id, seq)
);
CREATE INDEX instalments_due ON instalments(state, due_on);
