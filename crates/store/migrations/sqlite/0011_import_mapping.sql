-- Imports that meet the sheets offices send (issue 13): the column mapping chosen in a
-- staged sheet's preview, what a finished import did (for its result page), and mappings
-- remembered per organisation (or region) for the next sheet with the same headers.
ALTER TABLE import_batches ADD COLUMN mapping TEXT;
ALTER TABLE import_batches ADD COLUMN result TEXT;

CREATE TABLE import_mappings (
    owner       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    signature   TEXT NOT NULL,
    mapping     TEXT NOT NULL,
    updated_by  TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (owner, kind, signature)
);
