-- (SQLite) A service record may be tagged with the incident it served (issue 16 item 2), so an
-- incident's services and person-times roll up from its own rows.
ALTER TABLE services ADD COLUMN incident_id TEXT REFERENCES incidents(id);
CREATE INDEX services_incident ON services(incident_id, served_on);
