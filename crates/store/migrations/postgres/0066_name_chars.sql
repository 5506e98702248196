-- The characters of each resident's name (issue 20 item 2): "name contains" reads the files
-- holding the text's last pair of neighbouring characters (or its last character) in the
-- scope's region range, instead of testing the name of every file in the scope (a province:
-- 10^6 files, 290 ms). A row per distinct character of a file's name and per distinct pair;
-- written with the file (`people::name_chars`). No foreign key: files are never deleted
-- (merged, moved out and deceased files keep their rows), and a row whose file is missing
-- finds nothing to join.
CREATE TABLE resident_name_chars (
    ch           TEXT NOT NULL,
    region_code  TEXT COLLATE "C" NOT NULL,
    resident_id  TEXT NOT NULL,
    PRIMARY KEY (ch, region_code, resident_id)
);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 256)
INSERT INTO resident_name_chars (ch, region_code, resident_id)
SELECT SUBSTR(r.name, n.i, 1), r.region_code, r.id FROM residents r JOIN n ON n.i <= LENGTH(r.name)
UNION
SELECT SUBSTR(r.name, n.i, 2), r.region_code, r.id FROM residents r JOIN n ON n.i < LENGTH(r.name);
