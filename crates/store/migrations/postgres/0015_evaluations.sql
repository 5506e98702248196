-- (PostgreSQL) Evaluations of purchased services (评估, issue 14 item 5): indicator trees per region and
-- version, evaluations of a contract moved plan → … → final → published, the inputs entered
-- per node (who, when, an override's reason, the evidence), rectification tasks, and the final
-- score and grade. Points are hundredths (0.5 points is 50), thresholds basis points. Trees
-- are JSON text written and read back through the domain's IndicatorTree.

CREATE TABLE indicator_trees (
    id           TEXT PRIMARY KEY,
    -- '' is the national default (Guangzhou's 1000 points, created on first use).
    region_code  TEXT COLLATE "C" NOT NULL,
    version      BIGINT NOT NULL CHECK (version > 0),
    name         TEXT NOT NULL,
    -- Vec<IndicatorNode> as JSON.
    nodes        TEXT NOT NULL,
    excellent_bp BIGINT NOT NULL,
    good_bp      BIGINT NOT NULL,
    pass_bp      BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    UNIQUE (region_code, version)
);

CREATE TABLE evaluations (
    id               TEXT PRIMARY KEY,
    contract_id      TEXT NOT NULL REFERENCES contracts(id),
    -- The contract's region, repeated so scoped reads need no join.
    region_code      TEXT COLLATE "C" NOT NULL,
    tree_id          TEXT NOT NULL REFERENCES indicator_trees(id),
    kind             TEXT NOT NULL CHECK (kind IN ('spot_check','mid_term','final','quarterly')),
    state            TEXT NOT NULL CHECK (state IN ('plan','self_assessment','document_review','site_visit','preliminary','feedback','rectification','review','final','published')),
    evaluator_org_id TEXT REFERENCES organizations(id),
    planned_on       TEXT NOT NULL,
    finished_on      TEXT,
    -- Set when the evaluation reaches its final score.
    total_points     BIGINT,
    max_points       BIGINT,
    grade            TEXT CHECK (grade IN ('excellent','good','pass','fail')),
    vetoed_by        TEXT,
    note             TEXT NOT NULL DEFAULT '',
    created_by       TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX evaluations_contract ON evaluations(contract_id);
CREATE INDEX evaluations_region ON evaluations(region_code, planned_on);
CREATE INDEX evaluations_evaluator ON evaluations(evaluator_org_id, planned_on);

CREATE TABLE evaluation_scores (
    evaluation_id   TEXT NOT NULL REFERENCES evaluations(id),
    node_id         TEXT NOT NULL,
    -- indicator::Input as JSON: {"input":"level","label":"优"}, {"input":"override",…}.
    input           TEXT NOT NULL,
    -- The override's reason, repeated from the input for reports ('' for none).
    override_reason TEXT NOT NULL DEFAULT '',
    evidence        TEXT NOT NULL DEFAULT '',
    entered_by      TEXT NOT NULL,
    entered_at      BIGINT NOT NULL,
    PRIMARY KEY (evaluation_id, node_id)
);

CREATE TABLE evaluation_rectifications (
    id            TEXT PRIMARY KEY,
    evaluation_id TEXT NOT NULL REFERENCES evaluations(id),
    seq           BIGINT NOT NULL,
    -- The indicator the task is about, if any.
    node_id       TEXT,
    description   TEXT NOT NULL,
    owner         TEXT NOT NULL,
    deadline      TEXT NOT NULL,
    evidence      TEXT NOT NULL DEFAULT '',
    state         TEXT NOT NULL CHECK (state IN ('open','submitted','accepted','rejected')),
    created_by    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    UNIQUE (evaluation_id, seq)
);
CREATE INDEX evaluation_rectifications_open ON evaluation_rectifications(state, deadline);
