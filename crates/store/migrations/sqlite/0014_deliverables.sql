-- Deliverables of contract lines counted from service records (issue 14 item 3): being built.
SELECT 1;
