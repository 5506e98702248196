-- Visits with evidence (issue 19 item 3): photos and a drawn signature are attachments of the
-- service record (owner kind `service`, kind `photo` or `signature`); the device's location at
-- the time is sealed on the record (a resident's home is personal data); who confirmed the visit
-- (the resident or a family member, by name) and how (a worker's tick or a drawn signature).
CREATE TABLE attachments_new (
    id           TEXT PRIMARY KEY,
    owner_kind   TEXT NOT NULL CHECK (owner_kind IN ('station','inspection_visit','assessment','rectification','service')),
    owner_id     TEXT NOT NULL,
    region_code  TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('photo','rule','evidence','other','signature')),
    filename     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    sha256       TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
INSERT INTO attachments_new (id, owner_kind, owner_id, region_code, kind, filename, content_type, size, sha256, created_by, created_at)
    SELECT id, owner_kind, owner_id, region_code, kind, filename, content_type, size, sha256, created_by, created_at FROM attachments;
DROP TABLE attachments;
ALTER TABLE attachments_new RENAME TO attachments;
CREATE INDEX attachments_owner ON attachments(owner_kind, owner_id);

-- `latitude,longitude,accuracy_m,located_at` sealed as `services.geo`.
ALTER TABLE services ADD COLUMN geo_sealed TEXT;
ALTER TABLE services ADD COLUMN confirmation TEXT NOT NULL DEFAULT '' CHECK (confirmation IN ('','tick','signature'));
ALTER TABLE services ADD COLUMN confirmed_by TEXT NOT NULL DEFAULT '' CHECK (confirmed_by IN ('','resident','family'));
ALTER TABLE services ADD COLUMN confirmer_name TEXT NOT NULL DEFAULT '';
