-- Webitel v22.12 / v23.02 (schema of the v22.12 and v23.02 release branches).
-- Changes: cc_calls_history gains AI answering-machine detection columns
-- (amd_ai_result, amd_ai_logs in 22.12; amd_ai_positive in 23.02);
-- storage.files gains view_name (display name of the file);
-- import_id widened (23.02): cc_member to varchar(120), cc_member_attempt_history to varchar(60).

ALTER TABLE call_center.cc_calls_history
    ADD COLUMN amd_ai_result   varchar,
    ADD COLUMN amd_ai_logs     varchar[],
    ADD COLUMN amd_ai_positive boolean;

ALTER TABLE storage.files
    ADD COLUMN view_name varchar;

ALTER TABLE call_center.cc_member
    ALTER COLUMN import_id TYPE varchar(120);

ALTER TABLE call_center.cc_member_attempt_history
    ALTER COLUMN import_id TYPE varchar(60);
