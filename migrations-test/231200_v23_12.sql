-- Webitel v23.12.
-- Changes: cc_calls_history gains search_number ('|'-joined distinct numbers of the call family);
-- cc_team gains task_accept_timeout (int2, NOT NULL default 30);
-- cc_member_attempt_history drops supervisor_ids.

ALTER TABLE call_center.cc_calls_history
    ADD COLUMN search_number text;

ALTER TABLE call_center.cc_team
    ADD COLUMN task_accept_timeout smallint NOT NULL DEFAULT 30;

ALTER TABLE call_center.cc_member_attempt_history
    DROP COLUMN supervisor_ids;
