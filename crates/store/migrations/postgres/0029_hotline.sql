-- (PostgreSQL) Hotlines and tickets (issue 16 item 1): a station's lines and their duty roster;
-- tickets with their history (inserted only), and the crisis notifications for supervisors.

CREATE TABLE hotlines (
    id          TEXT PRIMARY KEY,
    region_code TEXT COLLATE "C" NOT NULL REFERENCES regions(code),
    station_id  TEXT NOT NULL REFERENCES stations(id),
    number      TEXT NOT NULL,
    name        TEXT NOT NULL DEFAULT '',
    kind        TEXT NOT NULL CHECK (kind IN ('station','emergency','special_12345','alarm')),
    active      BIGINT NOT NULL DEFAULT 1 CHECK (active IN (0,1)),
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (station_id, number)
);
CREATE INDEX hotlines_region ON hotlines(region_code, number);

-- Who answers when: a weekday (1 Monday … 7 Sunday) every week, or one date; from–to "HH:MM"
-- China time (an end before the start runs past midnight).
CREATE TABLE hotline_duty (
    id          TEXT PRIMARY KEY,
    hotline_id  TEXT NOT NULL REFERENCES hotlines(id),
    region_code TEXT COLLATE "C" NOT NULL REFERENCES regions(code),
    user_id     TEXT NOT NULL REFERENCES users(id),
    weekday     BIGINT CHECK (weekday BETWEEN 1 AND 7),
    on_date     TEXT,
    starts      TEXT NOT NULL,
    ends        TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    CHECK ((weekday IS NULL) <> (on_date IS NULL))
);
CREATE INDEX hotline_duty_line ON hotline_duty(hotline_id, weekday, on_date);

CREATE TABLE tickets (
    id                  TEXT PRIMARY KEY,
    region_code         TEXT COLLATE "C" NOT NULL REFERENCES regions(code),
    station_id          TEXT NOT NULL REFERENCES stations(id),
    hotline_id          TEXT REFERENCES hotlines(id),
    channel             TEXT NOT NULL CHECK (channel IN ('phone','dispatch_12345','alarm_button','walk_in','message')),
    received_at         BIGINT NOT NULL,
    caller_name         TEXT NOT NULL DEFAULT '',
    caller_phone_sealed TEXT,
    caller_phone_hash   TEXT,
    caller_id_hash      TEXT,
    category            TEXT NOT NULL CHECK (category IN ('consult','help','complaint','suggestion','emergency','crisis')),
    urgency             TEXT NOT NULL CHECK (urgency IN ('normal','urgent','critical')),
    content             TEXT NOT NULL,
    assignee_user_id    TEXT REFERENCES users(id),
    due_at              BIGINT NOT NULL,
    state               TEXT NOT NULL CHECK (state IN ('received','assigned','accepted','in_progress','extension_requested','replied','closed','followed_up','archived')),
    external_no         TEXT,
    external_state      TEXT NOT NULL DEFAULT '',
    resident_id         TEXT REFERENCES residents(id),
    household_id        TEXT,
    outcome             TEXT CHECK (outcome IN ('answered','case_opened','service_recorded','referred','volunteer_task','resource_match')),
    case_id             TEXT REFERENCES cases(id),
    service_id          TEXT,
    org_id              TEXT REFERENCES organizations(id),
    outcome_ref         TEXT NOT NULL DEFAULT '',
    satisfaction        TEXT CHECK (satisfaction IN ('satisfied','basic','unsatisfied')),
    replied_at          BIGINT,
    created_by          TEXT NOT NULL,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    UNIQUE (external_no)
);
CREATE INDEX tickets_region ON tickets(region_code, received_at);
CREATE INDEX tickets_open_due ON tickets(state, due_at);
CREATE INDEX tickets_phone ON tickets(caller_phone_hash);

-- Every step of a ticket, never edited.
CREATE TABLE ticket_events (
    id          TEXT PRIMARY KEY,
    ticket_id   TEXT NOT NULL REFERENCES tickets(id),
    region_code TEXT COLLATE "C" NOT NULL REFERENCES regions(code),
    step        TEXT NOT NULL,
    from_state  TEXT,
    to_state    TEXT NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    actor_id    TEXT NOT NULL,
    at          BIGINT NOT NULL
);
CREATE INDEX ticket_events_ticket ON ticket_events(ticket_id, at);

-- A crisis ticket notifies the supervisors in the station's reach at once: one row each.
CREATE TABLE ticket_notifications (
    id          TEXT PRIMARY KEY,
    ticket_id   TEXT NOT NULL REFERENCES tickets(id),
    region_code TEXT COLLATE "C" NOT NULL REFERENCES regions(code),
    user_id     TEXT NOT NULL REFERENCES users(id),
    kind        TEXT NOT NULL CHECK (kind IN ('crisis')),
    created_at  BIGINT NOT NULL,
    read_at     BIGINT,
    UNIQUE (ticket_id, user_id, kind)
);
CREATE INDEX ticket_notifications_user ON ticket_notifications(user_id, read_at);
