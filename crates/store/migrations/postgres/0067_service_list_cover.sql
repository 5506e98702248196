-- The service list's reads answered from the indexes alone (issue 20 item 2). A township's list
-- (5,000 of a province's 10^7 records) read every record of the township from the table, each
-- on a page of its own, to test the protection rule and sort: 70-80 ms for the count and the
-- page. A county's page sorted all its 80,000 records: 370 ms. With the columns the filter, the
-- protection rule and the order need in both indexes, the count and the ids of a page come from
-- the index ranges; only the page's rows are read from the table (`people::services::list`).
-- Each index keeps its old columns first, so every read that used it still can.
DROP INDEX services_region;
CREATE INDEX services_region ON services(region_code, served_on, created_at, id, kind, sensitive, resident_id);
DROP INDEX services_recent;
CREATE INDEX services_recent ON services(served_on, created_at, id, region_code, kind, sensitive, resident_id);
