-- Webitel v23.02 (schema of the v23.02 release branch).
-- Changes: cc_calls_history gains amd_ai_positive; import_id widened: cc_member to
-- varchar(120), cc_member_attempt_history to varchar(60).

ALTER TABLE call_center.cc_calls_history
    ADD COLUMN amd_ai_positive boolean;

ALTER TABLE call_center.cc_member
    ALTER COLUMN import_id TYPE varchar(120);

ALTER TABLE call_center.cc_member_attempt_history
    ALTER COLUMN import_id TYPE varchar(60);
