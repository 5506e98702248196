-- Every write to `residents` counted, in the writing transaction, whatever code path makes it
-- (issue 13 item 7): the import's commit reuses what its preview found against the register
-- (identity numbers on file, likely duplicates) only when the count has not moved since.
-- PostgreSQL writers run side by side: a single counter row would make every resident write
-- wait for a long import's commit, so each writing statement inserts a row of weight 1 (inserts
-- never wait on each other) and the count is the sum. Housekeeping folds the rows into one of
-- the same total (`lookups::fold_resident_writes`), so the sum never goes back.
CREATE TABLE resident_writes (weight BIGINT NOT NULL);
INSERT INTO resident_writes (weight) VALUES (0);
CREATE FUNCTION resident_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO resident_writes (weight) VALUES (1);
    RETURN NULL;
END
$$;
CREATE TRIGGER resident_writes_change AFTER INSERT OR UPDATE OR DELETE ON residents
    FOR EACH STATEMENT EXECUTE FUNCTION resident_written();
