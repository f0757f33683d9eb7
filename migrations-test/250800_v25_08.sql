-- Webitel v25.08.
-- Changes: cc_calls_history gains destination_name (text) and attempt_ids (int8[]);
-- cc_agent and cc_team gain screen_control (bool NOT NULL default false).

ALTER TABLE call_center.cc_calls_history
    ADD COLUMN destination_name text,
    ADD COLUMN attempt_ids      bigint[];

ALTER TABLE call_center.cc_agent
    ADD COLUMN screen_control boolean NOT NULL DEFAULT false;

ALTER TABLE call_center.cc_team
    ADD COLUMN screen_control boolean NOT NULL DEFAULT false;
