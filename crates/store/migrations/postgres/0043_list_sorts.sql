-- Orders a list page offers by its column headers (issue 18, table tools): each whitelisted
-- sort key (`SORTS` next to the list query) walks an index, the id breaking ties.
CREATE INDEX residents_sort_name ON residents(status, name, id);
CREATE INDEX residents_sort_birth ON residents(status, birth_date, id);
CREATE INDEX residents_sort_tier ON residents(status, risk_tier, id);
CREATE INDEX cases_sort_opened ON cases(opened_on, id);
CREATE INDEX services_sort_kind ON services(kind, served_on, id);
