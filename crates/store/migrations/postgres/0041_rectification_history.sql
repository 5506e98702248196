-- Each step of a rectification (submitted, verified, reopened, closed): who, when, from → to,
-- and the note given (the station's response when submitting).
CREATE TABLE rectification_events (
    id               TEXT PRIMARY KEY,
    rectification_id TEXT NOT NULL REFERENCES rectifications(id),
    from_status      TEXT NOT NULL,
    to_status        TEXT NOT NULL,
    note             TEXT NOT NULL DEFAULT '',
    by_user          TEXT NOT NULL,
    at               BIGINT NOT NULL
);
CREATE INDEX rectification_events_rect ON rectification_events(rectification_id, at);
