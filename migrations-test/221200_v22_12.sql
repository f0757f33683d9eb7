-- Webitel v22.12 (schema of the v22.12 release branch).
-- Changes: cc_calls_history gains AI answering-machine detection (amd_ai_result, amd_ai_logs);
-- storage.files gains view_name (display name of the file).

ALTER TABLE call_center.cc_calls_history
    ADD COLUMN amd_ai_result varchar,
    ADD COLUMN amd_ai_logs   varchar[];

ALTER TABLE storage.files
    ADD COLUMN view_name varchar;
