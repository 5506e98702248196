-- Counter reads select one dimension at one level of the tree: a region's own row, or its
-- children's (one level down). Led by the dimension and the code's length, the read touches only
-- those rows (by the primary key alone a county's children read walked every village below it);
-- holding the rest of the row in key order, it answers from the index alone, already sorted.

CREATE INDEX stat_counts_read ON stat_counts(dim, LENGTH(region_code), region_code, month, key, n, person_times, minutes, value_fen);

-- New dimensions (visit due dates, elderly visits, staff, funding): the counters are emptied so
-- that the server's start rebuilds all of them from the records (`stats::build_if_missing`).
DELETE FROM stat_deltas;
DELETE FROM stat_counts;
