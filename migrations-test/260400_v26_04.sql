-- Webitel v26.04 / v26.06.
-- Changes: cc_calls_history gains progress_at (first early media / progress, timestamptz);
-- cc_calls_annotation gains file_id (int8).

ALTER TABLE call_center.cc_calls_history
    ADD COLUMN progress_at timestamptz;

ALTER TABLE call_center.cc_calls_annotation
    ADD COLUMN file_id bigint;
