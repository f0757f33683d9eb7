-- Webitel v23.05.
-- Changes: cc_calls_history leg ids switch from varchar to uuid (WTEL-3467):
-- id, parent_id, bridged_id, transfer_from, transfer_to. Existing values are cast;
-- the primary key and the indexes on these columns are rebuilt by ALTER TYPE.
-- cc_agent_state_history and cc_agent_channel gain attempt_id (int4); the partial index of
-- status rows leads with agent_id;
-- cc_member_attempt_history.import_id widened to varchar(120).

ALTER TABLE call_center.cc_calls_history
    ALTER COLUMN id            TYPE uuid USING id::uuid,
    ALTER COLUMN parent_id     TYPE uuid USING parent_id::uuid,
    ALTER COLUMN bridged_id    TYPE uuid USING bridged_id::uuid,
    ALTER COLUMN transfer_from TYPE uuid USING transfer_from::uuid,
    ALTER COLUMN transfer_to   TYPE uuid USING transfer_to::uuid;

ALTER TABLE call_center.cc_agent_state_history
    ADD COLUMN attempt_id integer;

ALTER TABLE call_center.cc_member_attempt_history
    ALTER COLUMN import_id TYPE varchar(120);

ALTER TABLE call_center.cc_agent_channel
    ADD COLUMN attempt_id integer;

DROP INDEX call_center.cc_agent_state_history_dev_g;
CREATE INDEX cc_agent_state_history_dev_g ON call_center.cc_agent_state_history
    (agent_id, joined_at DESC) INCLUDE (state, payload)
    WHERE channel IS NULL AND state IN ('pause', 'online', 'offline');
