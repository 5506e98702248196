-- Deliverables of contract lines (issue 14 item 3), counted from service records and kept like
-- the statistics counters: every service write adds or takes away its part here in the same
-- transaction (purchase::deliverables::apply), and a contract's rows are rebuilt from the raw
-- records when it is written. A record counts for the lines, of the given service kind, of the
-- contracts whose stations include the record's station and whose term covers its date, while
-- the contract is not yet accepted (accepted, settled and archived contracts keep what was
-- accepted). Lines without a service kind are not counted from records and have no rows.
--
-- A line's delivered quantity is read from its few rows:
--   each, person_times, activity: one row (unit_key '') with the records counted (for activity
--     only records with at least the minimum participants, i.e. person-times) and their
--     person-times; delivered = records (each, activity) or person_times (person_times);
--   group: one row per group, unit_key = station id || '|' || title: a group is the service
--     records of the line's kind at one station with the same title within the term;
--     records = its sessions, person_times summed; delivered = groups meeting both minimums;
--   closed_case: one row per case named by records (unit_key = case id), records = follow-ups
--     (records of the line's kind naming the case); delivered = cases of the contract's
--     stations closed within the term (read from cases) with enough follow-ups.
CREATE TABLE delivery_tallies (
    line_id      TEXT NOT NULL REFERENCES contract_lines(id),
    contract_id  TEXT NOT NULL REFERENCES contracts(id),
    unit_key     TEXT NOT NULL,
    records      BIGINT NOT NULL,
    person_times BIGINT NOT NULL,
    PRIMARY KEY (line_id, unit_key)
);
CREATE INDEX delivery_tallies_contract ON delivery_tallies(contract_id);

-- A contract's records read by station when its tallies are rebuilt or verified.
CREATE INDEX services_station ON services(station_id, kind, served_on);
-- Closed cases of a contract's stations.
CREATE INDEX cases_station ON cases(station_id, closed_on);
