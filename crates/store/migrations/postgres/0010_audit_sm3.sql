-- The audit chain's hash algorithm, per entry, so that a log whose deployment switched from
-- SHA-256 to SM3 (国密, chosen with SM4 keys) still verifies end to end; the head row holds the
-- algorithm new entries use (set at server start from `crypto.algorithm`). (issue 11 item 15)
ALTER TABLE audit_log ADD COLUMN hash_alg TEXT NOT NULL DEFAULT 'sha256' CHECK (hash_alg IN ('sha256','sm3'));
ALTER TABLE audit_head ADD COLUMN hash_alg TEXT NOT NULL DEFAULT 'sha256' CHECK (hash_alg IN ('sha256','sm3'));
