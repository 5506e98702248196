-- 急难愁盼 (issue 16 item 3): community issues on a colour-coded ledger with due times by a
-- regional policy, and every step of their flow, only inserted (登记 → 核实 → 分派 → 办理 → 反馈 →
-- 评价 → 归档).
CREATE TABLE community_issues (
    id             TEXT PRIMARY KEY,
    issue_no       TEXT NOT NULL UNIQUE,
    -- The community (or township) the matter is in: scope.
    region_code    TEXT NOT NULL REFERENCES regions(code),
    station_id     TEXT REFERENCES stations(id),
    subject        TEXT NOT NULL CHECK (subject IN ('person','household','community')),
    resident_id    TEXT REFERENCES residents(id),
    household_id   TEXT REFERENCES households(id),
    source         TEXT NOT NULL CHECK (source IN ('visit','assessment','ticket','resident_meeting','survey','other')),
    source_ref     TEXT NOT NULL DEFAULT '',
    category       TEXT NOT NULL,
    title          TEXT NOT NULL,
    description    TEXT NOT NULL DEFAULT '',
    colour         TEXT NOT NULL CHECK (colour IN ('red','yellow','blue')),
    raised_at      BIGINT NOT NULL,
    due_at         BIGINT NOT NULL,
    responsibility TEXT CHECK (responsibility IN ('community','department','station','project')),
    handler        TEXT NOT NULL DEFAULT '',
    state          TEXT NOT NULL CHECK (state IN ('registered','verified','dismissed','assigned','handling','answered','rated','archived')),
    answer         TEXT NOT NULL DEFAULT '',
    answered_at    BIGINT,
    rating         TEXT CHECK (rating IN ('satisfied','fair','unsatisfied')),
    created_by     TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    CHECK (subject <> 'person' OR resident_id IS NOT NULL),
    CHECK (subject <> 'household' OR household_id IS NOT NULL)
);
CREATE INDEX community_issues_region ON community_issues(region_code, raised_at);
CREATE INDEX community_issues_open ON community_issues(state, due_at);

CREATE TABLE community_issue_steps (
    issue_id   TEXT NOT NULL REFERENCES community_issues(id),
    seq        BIGINT NOT NULL,
    from_state TEXT,
    to_state   TEXT NOT NULL,
    note       TEXT NOT NULL DEFAULT '',
    by_user    TEXT NOT NULL,
    at         BIGINT NOT NULL,
    PRIMARY KEY (issue_id, seq)
);
