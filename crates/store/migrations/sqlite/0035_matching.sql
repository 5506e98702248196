-- 供需对接 (issue 16 item 4): needs for help, matches of a need to a resource read from the records
-- (建议 → 确认 → 执行 → 完成 | 放弃), and the township's approval of a community's three lists
-- (需求/资源/服务) for a month, kept as the snapshot approved.
CREATE TABLE needs (
    id            TEXT PRIMARY KEY,
    -- The community (or township) the need is in: scope.
    region_code   TEXT NOT NULL REFERENCES regions(code),
    station_id    TEXT REFERENCES stations(id),
    subject       TEXT NOT NULL CHECK (subject IN ('person','household','community')),
    resident_id   TEXT REFERENCES residents(id),
    household_id  TEXT REFERENCES households(id),
    help_kind     TEXT NOT NULL,
    title         TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    -- Items for goods, fen for money; 0 for help given in time.
    quantity      BIGINT NOT NULL DEFAULT 0 CHECK (quantity >= 0),
    wanted_on     TEXT,
    day_part      TEXT CHECK (day_part IN ('morning','afternoon','evening')),
    source        TEXT NOT NULL CHECK (source IN ('issue','assessment','ticket','visit','other')),
    source_id     TEXT,
    state         TEXT NOT NULL CHECK (state IN ('open','met','cancelled')),
    cancel_reason TEXT NOT NULL DEFAULT '',
    created_by    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    CHECK (subject <> 'person' OR resident_id IS NOT NULL),
    CHECK (subject <> 'household' OR household_id IS NOT NULL)
);
CREATE INDEX needs_region ON needs(region_code, created_at);
CREATE INDEX needs_source ON needs(source, source_id);

CREATE TABLE matches (
    id              TEXT PRIMARY KEY,
    need_id         TEXT NOT NULL REFERENCES needs(id),
    -- The need's place and recipient, kept for scope and the same-day throttle.
    region_code     TEXT NOT NULL REFERENCES regions(code),
    station_id      TEXT REFERENCES stations(id),
    resident_id     TEXT REFERENCES residents(id),
    help_kind       TEXT NOT NULL,
    resource_kind   TEXT NOT NULL CHECK (resource_kind IN ('volunteer','purchased','goods','fund','venue')),
    -- A volunteer, a contract line, a fund (money or goods) or a station (venue).
    resource_id     TEXT NOT NULL,
    -- Goods: the item; '' otherwise.
    resource_item   TEXT NOT NULL DEFAULT '',
    resource_label  TEXT NOT NULL,
    resource_region TEXT NOT NULL,
    score           BIGINT NOT NULL,
    -- The matcher's reasons at proposal, JSON [{"key": …, "arg": …}].
    reasons         TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('proposed','confirmed','executed','completed','abandoned')),
    served_on       TEXT,
    service_id      TEXT REFERENCES services(id),
    disbursement_id TEXT REFERENCES charity_disbursements(id),
    abandon_reason  TEXT NOT NULL DEFAULT '',
    proposed_by     TEXT NOT NULL,
    proposed_at     BIGINT NOT NULL,
    confirmed_at    BIGINT,
    executed_at     BIGINT,
    closed_at       BIGINT,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX matches_need ON matches(need_id);
CREATE INDEX matches_region ON matches(region_code, proposed_at);
CREATE INDEX matches_resource ON matches(resource_kind, resource_id, state);
CREATE INDEX matches_recipient ON matches(resident_id, help_kind, served_on);
-- One live proposal of a resource for a need.
CREATE UNIQUE INDEX matches_live ON matches(need_id, resource_kind, resource_id, resource_item)
    WHERE state IN ('proposed','confirmed');

CREATE TABLE community_list_approvals (
    region_code TEXT NOT NULL REFERENCES regions(code),
    period      TEXT NOT NULL,
    -- SHA-256 of the snapshot: the page tells when the records have changed since.
    digest      TEXT NOT NULL,
    snapshot    TEXT NOT NULL,
    needs       BIGINT NOT NULL,
    resources   BIGINT NOT NULL,
    services    BIGINT NOT NULL,
    approved_by TEXT NOT NULL,
    approved_at BIGINT NOT NULL,
    PRIMARY KEY (region_code, period)
);
