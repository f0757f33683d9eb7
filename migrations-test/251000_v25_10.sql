-- Webitel v25.10 / v25.12.
-- Changes: cc_agent gains status_comment (text);
-- cc_queue gains prolongation_enabled, prolongation_repeats_number, prolongation_time_sec,
-- prolongation_is_timeout_retry; storage.files gains custom_properties, malware (jsonb), updated_by.

ALTER TABLE call_center.cc_agent
    ADD COLUMN status_comment text;

ALTER TABLE call_center.cc_queue
    ADD COLUMN prolongation_enabled          boolean  DEFAULT false,
    ADD COLUMN prolongation_repeats_number   smallint DEFAULT 0,
    ADD COLUMN prolongation_time_sec         smallint DEFAULT 0,
    ADD COLUMN prolongation_is_timeout_retry boolean  DEFAULT true;

ALTER TABLE storage.files
    ADD COLUMN custom_properties jsonb,
    ADD COLUMN malware           jsonb,
    ADD COLUMN updated_by        bigint;
