-- Filtered lists at province scale (issue 20 item 2, docs/performance.md).
-- A category's current members by resident: the capped count of a category-filtered list
-- walks these in resident order (a resident holding two is counted once, as it streams) and
-- reads the resident by id, instead of testing every file of the scope; the list's own
-- newest-first walk probes it by (category, resident). Covering: no table read.
CREATE INDEX resident_memberships_held ON resident_memberships(category, resident_id, valid_from, valid_to);
-- The sort by birth date (0043) also carries what the protection rule and the hidden-files
-- count read of a child's file, so counting the children of a province (5 % of its files)
-- reads this index alone. Same number of indexes on residents, wider entries.
DROP INDEX residents_sort_birth;
CREATE INDEX residents_sort_birth ON residents(status, birth_date, id, protected, region_code, worker_user_id);
-- Flagged files (0063), now with what their count reads, including the id its case test
-- needs. Partial: 1 % of the files.
DROP INDEX residents_protected;
CREATE INDEX residents_protected ON residents(region_code, status, worker_user_id, id, protected) WHERE protected = 1;
-- A tier's files newest first: the tier-filtered list of a wide scope walks this. With
-- statistics that know a tier holds a sixth of a province, SQLite otherwise read that sixth
-- through `residents_sort_tier` and sorted it (330 ms). One more index on residents.
CREATE INDEX residents_tier_recent ON residents(status, risk_tier, created_at, id);
-- What the protection rule reads of a file, by id: the service-record lists join every record
-- to its resident for the rule, and their capped count does so 10,001 times; from this index
-- alone instead of the residents' table (SQLite: 65 -> 30 ms a count at 10^7 records). One
-- more index on residents.
CREATE INDEX residents_protection ON residents(id, protected, birth_date, worker_user_id);
-- Records of a kind newest first, carrying what the scope and the protection rule read of a
-- record: the kind-filtered list walks it in the list's order (before: a sort of a day's
-- records for each page) and its capped count reads it alone. Replaces 0043's
-- (kind, served_on, id), which it still serves; wider entries, no more indexes on services.
DROP INDEX services_sort_kind;
CREATE INDEX services_sort_kind ON services(kind, served_on, created_at, id, region_code, sensitive, resident_id);
