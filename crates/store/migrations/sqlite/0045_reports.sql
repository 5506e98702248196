-- (SQLite) Hierarchical reporting (issue 17 item 4): report templates as data, one instance per
-- template, unit (region) and period, approved up the region tree, locked with a snapshot of the
-- approved figures; unlock requests approved one level up; every step only inserted.
CREATE TABLE report_templates (
    code      TEXT PRIMARY KEY,
    frequency TEXT NOT NULL CHECK (frequency IN ('month','quarter','year')),
    version   BIGINT NOT NULL DEFAULT 1,
    seq       BIGINT NOT NULL DEFAULT 0
);

-- One figure of a template. `source`: `counter` (the maintained counters: `dim`, `counter_key`
-- ('*' for every key), `measure`, `span` — the period's months, `stock` for the month-less
-- counters, `year` for the yearly ones), `records` (a named count over the records: `dim` names
-- it), or `manual` (typed, only where the platform has no source).
CREATE TABLE report_template_lines (
    template_code TEXT NOT NULL REFERENCES report_templates(code),
    seq           BIGINT NOT NULL,
    code          TEXT NOT NULL,
    section       TEXT NOT NULL CHECK (section IN ('affairs','service','volunteers','resources')),
    source        TEXT NOT NULL CHECK (source IN ('counter','records','manual')),
    dim           TEXT NOT NULL DEFAULT '',
    counter_key   TEXT NOT NULL DEFAULT '',
    measure       TEXT NOT NULL DEFAULT 'n' CHECK (measure IN ('n','person_times','minutes','value_fen')),
    span          TEXT NOT NULL DEFAULT 'period' CHECK (span IN ('period','stock','year')),
    PRIMARY KEY (template_code, code)
);

CREATE TABLE reports (
    id             TEXT PRIMARY KEY,
    template_code  TEXT NOT NULL REFERENCES report_templates(code),
    -- The reporting unit: scope.
    region_code    TEXT NOT NULL REFERENCES regions(code),
    -- `YYYY-MM`, `YYYY-Qn` or `YYYY`.
    period         TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('draft','submitted','reviewing','returned','approved','aggregated','locked')),
    -- The manual lines as typed (JSON object line code → integer).
    manual         TEXT NOT NULL DEFAULT '{}',
    -- The figures as approved (JSON object line code → integer): the locked snapshot.
    snapshot       TEXT,
    -- A report below was unlocked after this one was approved: its figures need a new approval.
    stale          BIGINT NOT NULL DEFAULT 0,
    return_reason  TEXT NOT NULL DEFAULT '',
    due_on         TEXT NOT NULL,
    submitted_at   BIGINT,
    -- The unit head's electronic sign-off, given with the submission.
    signed_by      TEXT,
    signed_name    TEXT NOT NULL DEFAULT '',
    decided_at     BIGINT,
    decided_by     TEXT,
    locked_at      BIGINT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    UNIQUE (template_code, region_code, period)
);
CREATE INDEX reports_period ON reports(template_code, period, region_code);
CREATE INDEX reports_region ON reports(region_code, period);

CREATE TABLE report_steps (
    report_id  TEXT NOT NULL REFERENCES reports(id),
    seq        BIGINT NOT NULL,
    from_state TEXT,
    to_state   TEXT NOT NULL,
    action     TEXT NOT NULL,
    note       TEXT NOT NULL DEFAULT '',
    by_user    TEXT NOT NULL,
    by_name    TEXT NOT NULL DEFAULT '',
    at         BIGINT NOT NULL,
    PRIMARY KEY (report_id, seq)
);

CREATE TABLE report_unlocks (
    id           TEXT PRIMARY KEY,
    report_id    TEXT NOT NULL REFERENCES reports(id),
    reason       TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('pending','approved','refused')),
    requested_by TEXT NOT NULL,
    requested_at BIGINT NOT NULL,
    decided_by   TEXT,
    decided_at   BIGINT
);
CREATE INDEX report_unlocks_report ON report_unlocks(report_id, state);

INSERT INTO report_templates (code, frequency, seq) VALUES
    ('station_monthly', 'month', 1), ('station_quarterly', 'quarter', 2), ('station_annual', 'year', 3);

-- The monthly station report (汕头 鮀江街道 shape): 事务岗 counts the platform does not hold are typed;
-- 服务岗 counts, volunteers and funding come from the records and counters.
INSERT INTO report_template_lines (template_code, seq, code, section, source, dim, counter_key, measure, span) VALUES
    ('station_monthly', 1, 'affairs_disability_cards', 'affairs', 'manual', '', '', 'n', 'period'),
    ('station_monthly', 2, 'affairs_subsidy_applications', 'affairs', 'manual', '', '', 'n', 'period'),
    ('station_monthly', 3, 'affairs_dibao_changes', 'affairs', 'manual', '', '', 'n', 'period'),
    ('station_monthly', 4, 'affairs_tekun_changes', 'affairs', 'manual', '', '', 'n', 'period'),
    ('station_monthly', 5, 'affairs_temporary_assistance', 'affairs', 'manual', '', '', 'n', 'period'),
    ('station_monthly', 10, 'visits', 'service', 'counter', 'kind', 'visit', 'n', 'period'),
    ('station_monthly', 11, 'visit_person_times', 'service', 'counter', 'kind', 'visit', 'person_times', 'period'),
    ('station_monthly', 12, 'new_files', 'service', 'records', 'new_files', '', 'n', 'period'),
    ('station_monthly', 13, 'cases_followed', 'service', 'records', 'cases_followed', '', 'n', 'period'),
    ('station_monthly', 14, 'cases_opened', 'service', 'records', 'cases_opened', '', 'n', 'period'),
    ('station_monthly', 15, 'cases_closed', 'service', 'records', 'cases_closed', '', 'n', 'period'),
    ('station_monthly', 16, 'casework_sessions', 'service', 'counter', 'kind', 'casework', 'n', 'period'),
    ('station_monthly', 17, 'group_sessions', 'service', 'counter', 'kind', 'group', 'n', 'period'),
    ('station_monthly', 18, 'group_person_times', 'service', 'counter', 'kind', 'group', 'person_times', 'period'),
    ('station_monthly', 19, 'community_activities', 'service', 'counter', 'kind', 'community', 'n', 'period'),
    ('station_monthly', 20, 'services_all', 'service', 'counter', 'kind', '*', 'n', 'period'),
    ('station_monthly', 30, 'volunteers_active', 'volunteers', 'counter', 'volunteer_stars', '*', 'n', 'stock'),
    ('station_monthly', 31, 'volunteer_minutes', 'volunteers', 'counter', 'volunteer_hours', 'recorded', 'minutes', 'period'),
    ('station_monthly', 40, 'staff_active', 'resources', 'counter', 'staff_role', '*', 'n', 'stock'),
    ('station_monthly', 41, 'linked_value_fen', 'resources', 'counter', 'kind', '*', 'value_fen', 'period'),
    ('station_monthly', 42, 'funding_fen', 'resources', 'counter', 'funding', '*', 'value_fen', 'year');

-- The quarterly and annual reports carry the same lines over their months.
INSERT INTO report_template_lines (template_code, seq, code, section, source, dim, counter_key, measure, span)
    SELECT 'station_quarterly', seq, code, section, source, dim, counter_key, measure, span FROM report_template_lines WHERE template_code = 'station_monthly';
INSERT INTO report_template_lines (template_code, seq, code, section, source, dim, counter_key, measure, span)
    SELECT 'station_annual', seq, code, section, source, dim, counter_key, measure, span FROM report_template_lines WHERE template_code = 'station_monthly';
