-- The audit trail is append-only (CONTRACT §7): refuse UPDATE, DELETE and TRUNCATE for every
-- role, including the hub's own. Only a superuser who disables the triggers can rewrite history,
-- and the hash chain plus signed checkpoints expose that.
CREATE OR REPLACE FUNCTION accord_audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER audit_events_no_update_delete
  BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION accord_audit_append_only();
--> statement-breakpoint
CREATE TRIGGER audit_events_no_truncate
  BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION accord_audit_append_only();
--> statement-breakpoint
CREATE TRIGGER audit_checkpoints_no_update_delete
  BEFORE UPDATE OR DELETE ON audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION accord_audit_append_only();
--> statement-breakpoint
CREATE TRIGGER audit_checkpoints_no_truncate
  BEFORE TRUNCATE ON audit_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION accord_audit_append_only();
--> statement-breakpoint
INSERT INTO hub_state (key, generation) VALUES ('agreements', 0), ('organisations', 0) ON CONFLICT DO NOTHING;
