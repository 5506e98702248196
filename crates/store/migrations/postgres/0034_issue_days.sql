-- 急难愁盼 on the dashboards: the China Standard Time days an issue was raised and answered, so the
-- maintained counters count by month and `stats verify` can recompute them from the rows.
ALTER TABLE community_issues ADD COLUMN raised_on TEXT NOT NULL DEFAULT '';
ALTER TABLE community_issues ADD COLUMN answered_on TEXT;
UPDATE community_issues SET raised_on = to_char(to_timestamp(raised_at / 1000) AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD');
UPDATE community_issues SET answered_on = to_char(to_timestamp(answered_at / 1000) AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD') WHERE answered_at IS NOT NULL;
