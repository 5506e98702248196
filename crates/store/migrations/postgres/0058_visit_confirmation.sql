-- Whether a home visit needs the resident's or a family member's confirmation, per region and
-- inherited down the region tree (the most specific region's rule applies; none set: `none`):
-- `tick` (the worker ticks who confirmed) or `signature` (a drawn signature).
CREATE TABLE visit_confirmation_rules (
    region_code TEXT COLLATE "C" PRIMARY KEY,
    rule        TEXT NOT NULL CHECK (rule IN ('none','tick','signature')),
    updated_by  TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);
