-- Webitel v25.02 / v25.04 / v25.05 (v25.02 adds no column the tool reads, so it is no level
-- of its own: its changes are here).
-- Changes: cc_member_attempt_history gains offered_agent_ids (int4[]: agents the attempt was offered to);
-- cc_audit_rate.rated_user_id becomes nullable (v25.02); storage.file_transcript's uuid index
-- indexes the column itself (v25.02).

ALTER TABLE call_center.cc_member_attempt_history
    ADD COLUMN offered_agent_ids integer[];

ALTER TABLE call_center.cc_audit_rate
    ALTER COLUMN rated_user_id DROP NOT NULL;

DROP INDEX storage.file_transcript_uuid_index;
CREATE INDEX file_transcript_uuid_index ON storage.file_transcript (uuid);
