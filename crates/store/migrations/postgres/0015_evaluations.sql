-- Evaluations of contracts (issue 14 item 5): being built.
SELECT 1;
