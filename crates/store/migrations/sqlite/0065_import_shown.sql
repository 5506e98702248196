-- What an import's page shows of a staged sheet (its headers, first rows and widest row, sealed
-- like the sheet), so that a page view does not read, open and parse the whole sheet.
-- NULL for sheets staged before this migration: their pages read the sheet, as before.
ALTER TABLE import_batches ADD COLUMN shown BLOB;
