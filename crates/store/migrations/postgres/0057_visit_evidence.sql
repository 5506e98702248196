-- Visits with evidence (issue 19 item 3): photos and a drawn signature are attachments of the
-- service record (owner kind `service`, kind `photo` or `signature`); the device's location at
-- the time is sealed on the record (a resident's home is personal data); who confirmed the visit
-- (the resident or a family member, by name) and how (a worker's tick or a drawn signature).
ALTER TABLE attachments DROP CONSTRAINT attachments_owner_kind_check;
ALTER TABLE attachments ADD CONSTRAINT attachments_owner_kind_check
    CHECK (owner_kind IN ('station','inspection_visit','assessment','rectification','service'));
ALTER TABLE attachments DROP CONSTRAINT attachments_kind_check;
ALTER TABLE attachments ADD CONSTRAINT attachments_kind_check
    CHECK (kind IN ('photo','rule','evidence','other','signature'));

-- `latitude,longitude,accuracy_m,located_at` sealed as `services.geo`.
ALTER TABLE services ADD COLUMN geo_sealed TEXT;
ALTER TABLE services ADD COLUMN confirmation TEXT NOT NULL DEFAULT '' CHECK (confirmation IN ('','tick','signature'));
ALTER TABLE services ADD COLUMN confirmed_by TEXT NOT NULL DEFAULT '' CHECK (confirmed_by IN ('','resident','family'));
ALTER TABLE services ADD COLUMN confirmer_name TEXT NOT NULL DEFAULT '';
