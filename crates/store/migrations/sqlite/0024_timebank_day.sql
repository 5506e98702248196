-- 时间银行 on the dashboards (issue 15 item 4): the China Standard Time day an entry was posted,
-- so the maintained counters can count flows by month and `stats verify` recompute them.
-- Counters of entries posted before this migration are built by `shegong stats rebuild`.
ALTER TABLE timebank_entries ADD COLUMN posted_on TEXT NOT NULL DEFAULT '';
UPDATE timebank_entries SET posted_on = strftime('%Y-%m-%d', created_at / 1000 + 8 * 3600, 'unixepoch');
