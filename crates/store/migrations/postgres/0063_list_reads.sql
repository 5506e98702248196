-- The files the protection rule restricts that are flagged (issue 20 item 2): the residents
-- page counts the ones it hides from a viewer from these and the children (`residents_birth`)
-- instead of counting every file of the scope twice. Partial: only flagged files are indexed.
CREATE INDEX residents_protected ON residents(region_code) WHERE protected = 1;
