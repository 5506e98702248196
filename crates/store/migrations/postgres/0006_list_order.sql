-- (PostgreSQL) Newest-first list pages over the large tables walk these indexes backwards and stop after a
-- page, instead of sorting every row of the caller's scope (the id breaks ties).

CREATE INDEX services_recent ON services(served_on, created_at, id);
CREATE INDEX residents_recent ON residents(status, created_at, id);
