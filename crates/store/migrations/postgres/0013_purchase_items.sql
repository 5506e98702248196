-- (PostgreSQL) A catalogue item's history: every status it took, by whom and when, and why it was
-- removed. The first row of an item (from_status NULL) is its proposal.

CREATE TABLE catalogue_item_history (
    id          TEXT PRIMARY KEY,
    item_id     TEXT NOT NULL REFERENCES catalogue_items(id),
    seq         BIGINT NOT NULL,
    from_status TEXT CHECK (from_status IN ('proposed','reviewed','included','purchasing','removed')),
    to_status   TEXT NOT NULL CHECK (to_status IN ('proposed','reviewed','included','purchasing','removed')),
    reason      TEXT CHECK (reason IN ('unpurchased_two_years','renewal_not_sought','renewal_review_failed','other')),
    note        TEXT NOT NULL DEFAULT '',
    changed_by  TEXT NOT NULL,
    changed_at  BIGINT NOT NULL,
    UNIQUE (item_id, seq)
);

-- Items proposed before the history was kept start with their status as found.
INSERT INTO catalogue_item_history (id, item_id, seq, from_status, to_status, reason, note, changed_by, changed_at)
    SELECT id || ':0', id, 0, NULL, status, removal_reason, '', 'migration', updated_at FROM catalogue_items;
CREATE INDEX catalogue_item_history_item ON catalogue_item_history(item_id, seq);
