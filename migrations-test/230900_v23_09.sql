-- Webitel v23.09.
-- Changes: cc_calls_history gains contact_id (contacts.contact id, int8).
-- (The v23.07 cc_agent_status_log TimescaleDB hypertable is not reproduced: not read by the tool.)

ALTER TABLE call_center.cc_calls_history
    ADD COLUMN contact_id bigint;
