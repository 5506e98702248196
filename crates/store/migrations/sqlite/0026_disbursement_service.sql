-- (SQLite) A disbursement paid to a resident on file writes a service record (资源链接) in the
-- same transaction (issue 15 item 4); the disbursement keeps the link, at most one record each.
ALTER TABLE charity_disbursements ADD COLUMN service_id TEXT REFERENCES services(id);
CREATE UNIQUE INDEX charity_disbursements_service ON charity_disbursements(service_id);
