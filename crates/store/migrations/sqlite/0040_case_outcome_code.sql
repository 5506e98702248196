-- 结案成效 as a code (goals_met, partly_met, not_met, referred, withdrew, other); `outcome` keeps
-- the note. Cases closed before the code existed have no code and their free text as the note.
ALTER TABLE cases ADD COLUMN outcome_code TEXT;
