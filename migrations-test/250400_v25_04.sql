-- Webitel v25.04 / v25.05.
-- Changes: cc_member_attempt_history gains offered_agent_ids (int4[]: agents the attempt was offered to).

ALTER TABLE call_center.cc_member_attempt_history
    ADD COLUMN offered_agent_ids integer[];
