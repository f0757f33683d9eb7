-- Webitel v24.04.
-- Changes: cc_calls_history gains schema_ids (int4[]), hangup_phrase (varchar),
-- blind_transfers (jsonb array of {number, time, user});
-- cc_member_attempt_history gains variables (jsonb); storage.files gains sha256sum;
-- cc_agent_channel.max_opened becomes a nullable smallint (default 0).
-- (attempt_history.result is still varchar(25) here: Webitel widens it in 24.08->24.10.)

ALTER TABLE call_center.cc_calls_history
    ADD COLUMN schema_ids      integer[],
    ADD COLUMN hangup_phrase   varchar,
    ADD COLUMN blind_transfers jsonb;

ALTER TABLE call_center.cc_member_attempt_history
    ADD COLUMN variables jsonb;

ALTER TABLE storage.files
    ADD COLUMN sha256sum varchar;

ALTER TABLE call_center.cc_agent_channel
    ALTER COLUMN max_opened TYPE smallint,
    ALTER COLUMN max_opened DROP NOT NULL,
    ALTER COLUMN max_opened SET DEFAULT 0;
