-- Webitel v23.07 (schema of the v23.07 release branch).
-- Changes: agent status changes go to the new cc_agent_status_log (a TimescaleDB hypertable on
-- official installs) instead of cc_agent_state_history; from v23.09 on they go to both, so a
-- site that ran v23.07 has that period's status history only in cc_agent_status_log.
-- cc_agent_channel becomes one row per agent and channel: the upgrade empties it, channel
-- becomes NOT NULL and the key (agent_id, channel).

CREATE TABLE call_center.cc_agent_status_log (
    id        bigserial   NOT NULL,
    agent_id  integer     NOT NULL,
    joined_at timestamptz NOT NULL DEFAULT now(),
    status    varchar     NOT NULL,
    payload   varchar,
    duration  interval    NOT NULL DEFAULT '00:00:00'::interval,
    CONSTRAINT cc_agent_status_log_pk PRIMARY KEY (agent_id, joined_at)
);
CREATE INDEX cc_agent_status_log_agent_id_index ON call_center.cc_agent_status_log (agent_id);
CREATE INDEX cc_agent_status_log_joined_at_index ON call_center.cc_agent_status_log (joined_at DESC);

TRUNCATE call_center.cc_agent_channel;
ALTER TABLE call_center.cc_agent_channel
    ALTER COLUMN channel SET NOT NULL,
    DROP CONSTRAINT cc_agent_channel_pk,
    ADD CONSTRAINT cc_agent_channel_pk PRIMARY KEY (agent_id, channel);
