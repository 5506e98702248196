-- The likely-duplicate look-up reads the records of a birth date, or the active records of a home
-- region, whose pinyin name key starts with a syllable: with the name key in these indexes that
-- is an index range, and a record is only read when its name can be alike.
DROP INDEX residents_birth;
CREATE INDEX residents_birth ON residents(birth_date, name_key);
DROP INDEX residents_region;
CREATE INDEX residents_region ON residents(region_code, status, name_key);
