-- (SQLite) Volunteer activities, attendance, hour records and certificates (issue 15 item 1).
-- An activity is organised by a station (谁组织谁记录，谁记录谁证明: only that station may certify
-- the hours), optionally with one of its teams. A risky activity opens only with an insurance
-- reference (《志愿服务条例》 art. 17).
CREATE TABLE volunteer_activities (
    id            TEXT PRIMARY KEY,
    region_code   TEXT NOT NULL REFERENCES regions(code),
    station_id    TEXT NOT NULL REFERENCES stations(id),
    team_id       TEXT REFERENCES volunteer_teams(id),
    name          TEXT NOT NULL,
    starts_at     BIGINT NOT NULL,
    ends_at       BIGINT NOT NULL,
    address       TEXT NOT NULL,
    recipients    TEXT NOT NULL DEFAULT '',
    content       TEXT NOT NULL DEFAULT '',
    requirements  TEXT NOT NULL DEFAULT '',
    quota         BIGINT NOT NULL CHECK (quota > 0),
    signed_up     BIGINT NOT NULL DEFAULT 0 CHECK (signed_up >= 0),
    risky         BIGINT NOT NULL DEFAULT 0 CHECK (risky IN (0,1)),
    insurance_ref TEXT,
    status        TEXT NOT NULL CHECK (status IN ('draft','open','closed','cancelled')),
    -- The secret in the QR code shown at the activity (self sign-in page).
    qr_token      TEXT NOT NULL UNIQUE,
    -- The community service record written for the residents on file it served (once).
    service_id    TEXT REFERENCES services(id),
    created_by    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    CHECK (ends_at > starts_at),
    CHECK (risky = 0 OR status IN ('draft','cancelled') OR insurance_ref IS NOT NULL)
);
CREATE INDEX volunteer_activities_region ON volunteer_activities(region_code, starts_at);
CREATE INDEX volunteer_activities_station ON volunteer_activities(station_id, starts_at);

-- Sign-ups within the quota; an under-14 volunteer's sign-up carries the guardian's consent.
CREATE TABLE volunteer_signups (
    activity_id      TEXT NOT NULL REFERENCES volunteer_activities(id),
    volunteer_id     TEXT NOT NULL REFERENCES volunteers(id),
    guardian_consent BIGINT NOT NULL DEFAULT 0 CHECK (guardian_consent IN (0,1)),
    status           TEXT NOT NULL CHECK (status IN ('signed_up','withdrawn')),
    created_by       TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    PRIMARY KEY (activity_id, volunteer_id)
);
CREATE INDEX volunteer_signups_volunteer ON volunteer_signups(volunteer_id);

-- Sessions: signed in on arrival, out on leaving (travel is never counted). `day` is the China
-- Standard Time date of the sign-in (at most three per person per day).
CREATE TABLE volunteer_attendance (
    id           TEXT PRIMARY KEY,
    activity_id  TEXT NOT NULL REFERENCES volunteer_activities(id),
    volunteer_id TEXT NOT NULL REFERENCES volunteers(id),
    day          TEXT NOT NULL,
    sign_in      BIGINT NOT NULL,
    sign_out     BIGINT,
    minutes      BIGINT CHECK (minutes >= 0),
    method       TEXT NOT NULL CHECK (method IN ('organiser','qr')),
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    CHECK (sign_out IS NULL OR sign_out > sign_in)
);
CREATE INDEX volunteer_attendance_person ON volunteer_attendance(volunteer_id, day);
CREATE INDEX volunteer_attendance_activity ON volunteer_attendance(activity_id, sign_in);

-- Hour records: 待确认 (pending) → 公示 (public, until publicity_until) → 已记录 (recorded);
-- a correction is a new record (corrects_id) that marks the old one corrected; a revocation keeps
-- the record with its reason. Minutes, times and content are never changed in place.
CREATE TABLE volunteer_hours (
    id                   TEXT PRIMARY KEY,
    volunteer_id         TEXT NOT NULL REFERENCES volunteers(id),
    activity_id          TEXT NOT NULL REFERENCES volunteer_activities(id),
    attendance_id        TEXT UNIQUE REFERENCES volunteer_attendance(id),
    corrects_id          TEXT UNIQUE REFERENCES volunteer_hours(id),
    region_code          TEXT NOT NULL REFERENCES regions(code),
    organiser_station_id TEXT NOT NULL REFERENCES stations(id),
    served_on            TEXT NOT NULL,
    started_at           BIGINT NOT NULL,
    ended_at             BIGINT NOT NULL,
    minutes              BIGINT NOT NULL CHECK (minutes > 0),
    content              TEXT NOT NULL DEFAULT '',
    state                TEXT NOT NULL CHECK (state IN ('pending','public','recorded','corrected','revoked')),
    publicity_until      TEXT,
    reason               TEXT NOT NULL DEFAULT '',
    created_by           TEXT NOT NULL,
    created_at           BIGINT NOT NULL,
    decided_by           TEXT,
    decided_at           BIGINT,
    CHECK (ended_at > started_at)
);
CREATE INDEX volunteer_hours_person ON volunteer_hours(volunteer_id, served_on);
CREATE INDEX volunteer_hours_region ON volunteer_hours(region_code, state, served_on);
CREATE INDEX volunteer_hours_activity ON volunteer_hours(activity_id);

-- Recorded minutes per volunteer, kept with every state change (star levels, certificates).
ALTER TABLE volunteers ADD COLUMN recorded_minutes BIGINT NOT NULL DEFAULT 0;

-- Certificates (志愿服务记录证明, 民发〔2015〕149号 / 民政部令第67号): the issuing station certifies
-- only hours it recorded; the contents are kept as issued.
CREATE TABLE volunteer_certificates (
    id               TEXT PRIMARY KEY,
    cert_no          TEXT NOT NULL UNIQUE,
    volunteer_id     TEXT NOT NULL REFERENCES volunteers(id),
    station_id       TEXT NOT NULL REFERENCES stations(id),
    region_code      TEXT NOT NULL REFERENCES regions(code),
    issuer_name      TEXT NOT NULL,
    person_in_charge TEXT NOT NULL,
    handler          TEXT NOT NULL,
    contact          TEXT NOT NULL DEFAULT '',
    period_from      TEXT NOT NULL,
    period_to        TEXT NOT NULL,
    minutes          BIGINT NOT NULL CHECK (minutes > 0),
    activities       BIGINT NOT NULL,
    content          TEXT NOT NULL,
    issued_on        TEXT NOT NULL,
    publicity_until  TEXT NOT NULL,
    created_by       TEXT NOT NULL,
    created_at       BIGINT NOT NULL
);
CREATE INDEX volunteer_certificates_volunteer ON volunteer_certificates(volunteer_id);
