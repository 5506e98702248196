-- The likely-duplicate look-up reads the records of a birth date, or the active records of a home
-- region, whose pinyin name key starts with a syllable: with the name key in these indexes that
-- is an index range, and a record is only read when its name can be alike. The key compares by
-- code point (as on SQLite), so a prefix is one range whatever the database's collation.
DROP INDEX residents_birth;
DROP INDEX residents_region;
DROP INDEX residents_name_key;
ALTER TABLE residents ALTER COLUMN name_key TYPE TEXT COLLATE "C";
CREATE INDEX residents_name_key ON residents(name_key);
CREATE INDEX residents_birth ON residents(birth_date, name_key);
CREATE INDEX residents_region ON residents(region_code, status, name_key);
