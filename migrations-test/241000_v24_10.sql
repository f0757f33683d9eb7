-- Webitel v24.08 / v24.10.
-- Changes: cc_team gains forecast_calculation_id (wfm, int8 as in the v24.10+ dumps);
-- cc_queue.calendar_id becomes nullable;
-- cc_member_attempt_history.result widened varchar(25) -> varchar(200);
-- cc_skill gains created_at/updated_at (timestamptz) and created_by/updated_by;
-- storage.file_transcript.profile_id becomes nullable (24.08);
-- cc_audit_rate gains call_created_at (indexed), and its call_id index is no longer partial;
-- storage.files gains channel, thumbnail, retention_until, uploaded_by and the stored
-- generated column uploaded_at = to_timestamp(created_at / 1000) (epoch ms -> timestamptz;
-- to_timestamp(double precision) and the numeric division are immutable, valid on PG 12+),
-- plus the (domain_id, uploaded_at DESC) index.

ALTER TABLE call_center.cc_team
    ADD COLUMN forecast_calculation_id bigint;

ALTER TABLE call_center.cc_queue
    ALTER COLUMN calendar_id DROP NOT NULL;

ALTER TABLE call_center.cc_member_attempt_history
    ALTER COLUMN result TYPE varchar(200);

ALTER TABLE call_center.cc_skill
    ADD COLUMN created_at timestamptz,
    ADD COLUMN created_by bigint,
    ADD COLUMN updated_at timestamptz,
    ADD COLUMN updated_by bigint;

ALTER TABLE storage.file_transcript
    ALTER COLUMN profile_id DROP NOT NULL;

ALTER TABLE storage.files
    ADD COLUMN channel         varchar,
    ADD COLUMN thumbnail       jsonb,
    ADD COLUMN retention_until timestamptz,
    ADD COLUMN uploaded_at     timestamptz
        GENERATED ALWAYS AS (to_timestamp((created_at::numeric / 1000)::double precision)) STORED,
    ADD COLUMN uploaded_by     bigint;

CREATE INDEX files_domain_id_uploaded_at_index ON storage.files (domain_id, uploaded_at DESC);

ALTER TABLE call_center.cc_audit_rate
    ADD COLUMN call_created_at timestamptz;
CREATE INDEX cc_audit_rate_call_created_at ON call_center.cc_audit_rate (call_created_at);
DROP INDEX call_center.cc_audit_rate_call_id_uindex;
CREATE UNIQUE INDEX cc_audit_rate_call_id_uindex ON call_center.cc_audit_rate (call_id);
