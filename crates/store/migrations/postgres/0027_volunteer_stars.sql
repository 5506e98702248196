-- (PostgreSQL) 星级志愿者认定 (issue 15 item 1): a star level is awarded by the level the province's rules name
-- (福建: one and two stars by the county, three and four by the city, five by the province), once
-- the volunteer's recorded hours reach it. Awards are only inserted, upwards.
CREATE TABLE volunteer_star_awards (
    id             TEXT PRIMARY KEY,
    volunteer_id   TEXT NOT NULL REFERENCES volunteers(id),
    -- The volunteer's region when awarded (scope).
    region_code    TEXT COLLATE "C" NOT NULL REFERENCES regions(code),
    stars          BIGINT NOT NULL CHECK (stars BETWEEN 1 AND 5),
    -- Recorded minutes the award rests on.
    minutes        BIGINT NOT NULL,
    -- The level that approved it (county, city, province) and the approving user's region ('' national).
    approver_level TEXT NOT NULL CHECK (approver_level IN ('county','city','province')),
    approver_region TEXT NOT NULL,
    note           TEXT NOT NULL DEFAULT '',
    awarded_on     TEXT NOT NULL,
    created_by     TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    UNIQUE (volunteer_id, stars)
);
CREATE INDEX volunteer_star_awards_region ON volunteer_star_awards(region_code, awarded_on);
