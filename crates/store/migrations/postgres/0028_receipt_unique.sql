-- A receipt number is issued once per host charity: checked before the insert, and kept by this
-- index when two donations with the same number are recorded at the same moment.
CREATE UNIQUE INDEX charity_donations_receipt_no ON charity_donations(host_uscc, receipt_no) WHERE receipt_no IS NOT NULL;
