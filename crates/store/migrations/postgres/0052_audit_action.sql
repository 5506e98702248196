-- The auditor's workbench reads the recent sensitive events (reveals, exports, permission
-- denials, lockouts, failed sign-ins) by action and time instead of walking the whole log.
CREATE INDEX audit_log_action ON audit_log(action, at);
