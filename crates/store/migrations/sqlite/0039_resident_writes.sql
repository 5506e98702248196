-- Every write to `residents` counted, in the writing transaction, whatever code path makes it
-- (issue 13 item 7): the import's commit reuses what its preview found against the register
-- (identity numbers on file, likely duplicates) only when the count has not moved since.
-- SQLite has one writer at a time, so one row, bumped per written row, costs no waiting.
CREATE TABLE resident_writes (weight BIGINT NOT NULL);
INSERT INTO resident_writes (weight) VALUES (0);
CREATE TRIGGER resident_writes_insert AFTER INSERT ON residents
BEGIN
    UPDATE resident_writes SET weight = weight + 1;
END;
CREATE TRIGGER resident_writes_update AFTER UPDATE ON residents
BEGIN
    UPDATE resident_writes SET weight = weight + 1;
END;
CREATE TRIGGER resident_writes_delete AFTER DELETE ON residents
BEGIN
    UPDATE resident_writes SET weight = weight + 1;
END;
