-- Webitel v24.02.
-- Changes: cc_calls_history gains hide_missed (bool) and redial_id (uuid);
-- cc_agent gains task_count (int2, NOT NULL default 1); cc_queue gains tags (varchar[]).

ALTER TABLE call_center.cc_calls_history
    ADD COLUMN hide_missed boolean,
    ADD COLUMN redial_id   uuid;

ALTER TABLE call_center.cc_agent
    ADD COLUMN task_count smallint NOT NULL DEFAULT 1;

ALTER TABLE call_center.cc_queue
    ADD COLUMN tags varchar[];
