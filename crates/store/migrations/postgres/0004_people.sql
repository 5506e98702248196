-- (PostgreSQL) People served (一人一档) and casework: residents with sealed identity data, households,
-- time-boxed category memberships from a catalogue, risk tiers with history, MZ/T 094 cases,
-- service records and visit rules. Identity numbers, contacts, addresses and service notes are
-- stored only sealed; identity numbers also as a keyed hash for exact duplicate detection.

-- The catalogue of categories: national entries have region_code '', local extensions a region.
CREATE TABLE resident_categories (
    code         TEXT PRIMARY KEY,
    region_code  TEXT COLLATE "C" NOT NULL,
    grp          TEXT NOT NULL CHECK (grp IN ('assistance','children','elderly','disability','other')),
    name_zh      TEXT NOT NULL,
    name_en      TEXT NOT NULL,
    -- The tier a new member is given unless the worker decides otherwise.
    default_tier TEXT NOT NULL CHECK (default_tier IN ('high','key','general')),
    sort         BIGINT NOT NULL DEFAULT 0
);

INSERT INTO resident_categories (code, region_code, grp, name_zh, name_en, default_tier, sort) VALUES
 ('dibao', '', 'assistance', '低保', 'Minimum living guarantee', 'general', 10),
 ('tekun', '', 'assistance', '特困', 'Extreme poverty support', 'key', 20),
 ('low_income', '', 'assistance', '低保边缘/低收入', 'Marginal / low income', 'general', 30),
 ('temporary_relief', '', 'assistance', '临时救助', 'Temporary relief', 'general', 40),
 ('expense_hardship', '', 'assistance', '支出型困难家庭', 'Expense-driven hardship household', 'general', 50),
 ('child_in_difficulty', '', 'children', '困境儿童', 'Child in difficulty', 'key', 110),
 ('left_behind_child', '', 'children', '留守儿童', 'Left-behind child', 'key', 120),
 ('orphan', '', 'children', '孤儿', 'Orphan', 'key', 130),
 ('de_facto_orphan', '', 'children', '事实无人抚养儿童', 'Child without de facto care', 'key', 140),
 ('elder_alone', '', 'elderly', '独居老人', 'Older person living alone', 'key', 210),
 ('elder_empty_nest', '', 'elderly', '空巢老人', 'Empty-nest older person', 'general', 220),
 ('elder_left_behind', '', 'elderly', '留守老人', 'Left-behind older person', 'general', 230),
 ('elder_disabled', '', 'elderly', '失能老人', 'Older person with lost capacity', 'key', 240),
 ('elder_advanced_age', '', 'elderly', '高龄老人', 'Older person of advanced age (80+)', 'general', 250),
 ('family_planning_special', '', 'elderly', '计划生育特殊家庭', 'Family-planning special family', 'key', 260),
 ('disabled', '', 'disability', '残疾人', 'Person with disability', 'general', 310),
 ('severely_disabled', '', 'disability', '重度残疾人', 'Person with severe disability', 'key', 320),
 ('vagrant', '', 'other', '流浪乞讨人员', 'Vagrant or beggar', 'key', 410),
 ('entitled_group', '', 'other', '优抚对象', 'Entitled group (veterans and families)', 'general', 420),
 ('community_correction', '', 'other', '社区矫正对象', 'Under community correction', 'key', 430),
 ('mental_disorder', '', 'other', '精神障碍患者', 'Person with mental disorder', 'key', 440);

CREATE TABLE households (
    id          TEXT PRIMARY KEY,
    region_code TEXT COLLATE "C" NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE residents (
    id                    TEXT PRIMARY KEY,
    -- The village or community the person lives in.
    region_code           TEXT COLLATE "C" NOT NULL REFERENCES regions(code),
    name                  TEXT NOT NULL,
    -- Toneless pinyin of the normalised name: the likely-duplicate key.
    name_key              TEXT NOT NULL,
    id_type               TEXT CHECK (id_type IN ('resident_id','hk_macau_permit','taiwan_permit','foreign_permanent','passport')),
    id_number_sealed      TEXT,
    id_number_hash        TEXT UNIQUE,
    sex                   TEXT CHECK (sex IN ('male','female')),
    birth_date            TEXT NOT NULL,
    ethnicity             TEXT NOT NULL DEFAULT '',
    address_sealed        TEXT,
    phone_sealed          TEXT,
    household_id          TEXT REFERENCES households(id),
    relation              TEXT CHECK (relation IN ('01','02','10','20','30','40','50','60','70','80','99')),
    guardian_name         TEXT NOT NULL DEFAULT '',
    guardian_phone_sealed TEXT,
    risk_tier             TEXT NOT NULL CHECK (risk_tier IN ('high','key','general')),
    legal_basis           TEXT NOT NULL CHECK (legal_basis IN ('consent','statutory_duty','guardian_consent','vital_interest')),
    consent_on            TEXT,
    -- Abuse, violence or another reason to restrict the file to the people working on it.
    protected             BIGINT NOT NULL DEFAULT 0 CHECK (protected IN (0,1)),
    station_id            TEXT REFERENCES stations(id),
    worker_user_id        TEXT REFERENCES users(id),
    status                TEXT NOT NULL CHECK (status IN ('active','merged','moved_out','deceased')),
    merged_into           TEXT REFERENCES residents(id),
    -- Maintained on every visit and tier or category change, so due lists are range reads.
    last_visit_on         TEXT,
    visit_interval_days   BIGINT NOT NULL,
    next_visit_due        TEXT NOT NULL,
    registered_on         TEXT NOT NULL,
    created_by            TEXT NOT NULL,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);
CREATE INDEX residents_region ON residents(region_code, status);
CREATE INDEX residents_due ON residents(status, next_visit_due, region_code);
CREATE INDEX residents_worker ON residents(worker_user_id, status, next_visit_due);
CREATE INDEX residents_name_key ON residents(name_key);
CREATE INDEX residents_birth ON residents(birth_date);
CREATE INDEX residents_household ON residents(household_id);

CREATE TABLE resident_memberships (
    id                  TEXT PRIMARY KEY,
    resident_id         TEXT NOT NULL REFERENCES residents(id),
    region_code         TEXT COLLATE "C" NOT NULL,
    category            TEXT NOT NULL REFERENCES resident_categories(code),
    disability_category TEXT CHECK (disability_category IN ('1','2','3','4','5','6','7')),
    disability_grade    TEXT CHECK (disability_grade IN ('1','2','3','4')),
    source              TEXT NOT NULL DEFAULT '',
    evidence            TEXT NOT NULL DEFAULT '',
    valid_from          TEXT NOT NULL,
    valid_to            TEXT,
    verified_by         TEXT NOT NULL DEFAULT '',
    created_by          TEXT NOT NULL,
    created_at          BIGINT NOT NULL
);
CREATE INDEX resident_memberships_resident ON resident_memberships(resident_id, valid_from);
CREATE INDEX resident_memberships_category ON resident_memberships(region_code, category);

CREATE TABLE risk_history (
    id          TEXT PRIMARY KEY,
    resident_id TEXT NOT NULL REFERENCES residents(id),
    region_code TEXT COLLATE "C" NOT NULL,
    tier        TEXT NOT NULL,
    reason      TEXT NOT NULL DEFAULT '',
    changed_by  TEXT NOT NULL,
    changed_at  BIGINT NOT NULL
);
CREATE INDEX risk_history_resident ON risk_history(resident_id, changed_at);

-- Visit rules as data: region_code '' is the national default; category '' means any.
CREATE TABLE visit_rules (
    id            TEXT PRIMARY KEY,
    region_code   TEXT COLLATE "C" NOT NULL,
    tier          TEXT NOT NULL CHECK (tier IN ('high','key','general')),
    category      TEXT NOT NULL DEFAULT '',
    interval_days BIGINT NOT NULL CHECK (interval_days BETWEEN 1 AND 366),
    -- Comma-separated visit methods.
    methods       TEXT NOT NULL,
    updated_by    TEXT NOT NULL,
    updated_at    BIGINT NOT NULL,
    UNIQUE (region_code, tier, category)
);
INSERT INTO visit_rules (id, region_code, tier, category, interval_days, methods, updated_by, updated_at) VALUES
 ('default-high', '', 'high', '', 7, 'home,phone,video,entrusted,volunteer', 'system', 0),
 ('default-key', '', 'key', '', 30, 'home,phone,video,entrusted,volunteer', 'system', 0),
 ('default-general', '', 'general', '', 90, 'home,phone,video,entrusted,volunteer', 'system', 0);

CREATE TABLE cases (
    id                  TEXT PRIMARY KEY,
    resident_id         TEXT NOT NULL REFERENCES residents(id),
    region_code         TEXT COLLATE "C" NOT NULL,
    station_id          TEXT REFERENCES stations(id),
    worker_user_id      TEXT REFERENCES users(id),
    supervisor_user_id  TEXT REFERENCES users(id),
    stage               TEXT NOT NULL CHECK (stage IN ('intake','assessment','planning','intervention','evaluation','closed')),
    -- '' or what awaits a supervisor: the plan or the closure.
    pending             TEXT NOT NULL DEFAULT '' CHECK (pending IN ('','plan','closure')),
    problem             TEXT NOT NULL,
    risk_level          TEXT CHECK (risk_level IN ('high','key','general')),
    opened_on           TEXT NOT NULL,
    closed_on           TEXT,
    outcome             TEXT NOT NULL DEFAULT '',
    -- A referral or transfer waiting for the receiving station to accept or decline.
    transfer_station_id TEXT REFERENCES stations(id),
    transfer_region     TEXT COLLATE "C",
    created_by          TEXT NOT NULL,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);
CREATE INDEX cases_region ON cases(region_code, stage);
CREATE INDEX cases_resident ON cases(resident_id);
CREATE INDEX cases_worker ON cases(worker_user_id, stage);
CREATE INDEX cases_transfer ON cases(transfer_region);

-- Everything that happened to a case, in order; the body is the structured record as JSON
-- (assessment scores, plan goals, evaluation) and is sealed because it holds health and family detail.
CREATE TABLE case_events (
    id          TEXT PRIMARY KEY,
    case_id     TEXT NOT NULL REFERENCES cases(id),
    region_code TEXT COLLATE "C" NOT NULL,
    kind        TEXT NOT NULL,
    stage       TEXT NOT NULL,
    body_sealed TEXT NOT NULL,
    actor_id    TEXT NOT NULL,
    actor_name  TEXT NOT NULL,
    at          BIGINT NOT NULL
);
CREATE INDEX case_events_case ON case_events(case_id, at);

CREATE TABLE services (
    id               TEXT PRIMARY KEY,
    region_code      TEXT COLLATE "C" NOT NULL,
    station_id       TEXT REFERENCES stations(id),
    kind             TEXT NOT NULL CHECK (kind IN ('casework','group','community','visit','resource_linking','policy_publicity','psychological','crisis')),
    domain           TEXT NOT NULL CHECK (domain IN ('social_assistance','elderly','children','disability','community_governance','social_affairs')),
    resident_id      TEXT REFERENCES residents(id),
    case_id          TEXT REFERENCES cases(id),
    title            TEXT NOT NULL DEFAULT '',
    served_on        TEXT NOT NULL,
    started_at       TEXT,
    duration_minutes BIGINT NOT NULL CHECK (duration_minutes BETWEEN 1 AND 1440),
    person_times     BIGINT NOT NULL CHECK (person_times BETWEEN 1 AND 100000),
    method           TEXT CHECK (method IN ('home','phone','video','entrusted','volunteer')),
    location         TEXT NOT NULL DEFAULT '',
    value_fen        BIGINT NOT NULL DEFAULT 0 CHECK (value_fen >= 0),
    workers          TEXT NOT NULL,
    notes_sealed     TEXT,
    -- Abuse or violence notes: only the people working on the person may read them.
    sensitive        BIGINT NOT NULL DEFAULT 0 CHECK (sensitive IN (0,1)),
    created_by       TEXT NOT NULL,
    created_at       BIGINT NOT NULL
);
CREATE INDEX services_region ON services(region_code, served_on);
CREATE INDEX services_resident ON services(resident_id, served_on);
CREATE INDEX services_case ON services(case_id);

-- Residents attending a group session or community activity.
CREATE TABLE service_participants (
    service_id  TEXT NOT NULL REFERENCES services(id),
    resident_id TEXT NOT NULL REFERENCES residents(id),
    PRIMARY KEY (service_id, resident_id)
);
CREATE INDEX service_participants_resident ON service_participants(resident_id);

-- Accounts allowed to open protected files (children under 14, abuse and violence) that they
-- are not themselves working on.
ALTER TABLE users ADD COLUMN sees_protected BIGINT NOT NULL DEFAULT 0 CHECK (sees_protected IN (0,1));
