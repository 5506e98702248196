-- An inspection recorded in error is voided, never deleted: who, when and why are kept on the
-- visit, and its rectifications are voided with it (they leave the open and overdue counts).
ALTER TABLE inspection_visits ADD COLUMN voided_at BIGINT;
ALTER TABLE inspection_visits ADD COLUMN voided_by TEXT;
ALTER TABLE inspection_visits ADD COLUMN void_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE rectifications ADD COLUMN voided_at BIGINT;
