-- More orders list pages offer by their column headers (issue 18, table tools; see 0043): the
-- sorts of the larger tables walk an index over a wide scope, the id breaking ties.
CREATE INDEX stations_sort_name ON stations(name, id);
CREATE INDEX staff_sort_name ON staff(name, id);
CREATE INDEX volunteers_sort_name ON volunteers(name, id);
CREATE INDEX volunteers_sort_no ON volunteers(volunteer_no, id);
CREATE INDEX tickets_sort_due ON tickets(due_at, id);
CREATE INDEX community_issues_sort_due ON community_issues(due_at, id);
