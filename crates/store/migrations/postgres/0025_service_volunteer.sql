-- (PostgreSQL) A service record may name the registered volunteer who served (issue 15 item 4), so
-- a time-bank EARN from a volunteer's visit credits that volunteer's own account. Records
-- written before name their workers as text only.
ALTER TABLE services ADD COLUMN volunteer_id TEXT REFERENCES volunteers(id);
