-- Webitel v23.05.
-- Changes: cc_calls_history leg ids switch from varchar to uuid (WTEL-3467):
-- id, parent_id, bridged_id, transfer_from, transfer_to. Existing values are cast;
-- the primary key and the indexes on these columns are rebuilt by ALTER TYPE.
-- cc_agent_state_history and cc_agent_channel gain attempt_id (int4); the partial index of
-- status rows leads with agent_id;
-- cc_member_attempt_history.import_id widened to varchar(120);
-- quality assurance: cc_audit_form (scorecards; the columns the tool reads) and cc_audit_rate
-- (one rating of a call against a form).

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

CREATE TABLE call_center.cc_audit_form (
    id          serial      NOT NULL,
    domain_id   bigint      NOT NULL,
    name        varchar     NOT NULL,
    description varchar,
    enabled     boolean     NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    questions   jsonb,
    team_ids    integer[],
    archive     boolean     NOT NULL DEFAULT false,
    editable    boolean     NOT NULL DEFAULT true,
    CONSTRAINT cc_audit_form_pk PRIMARY KEY (id)
);
CREATE UNIQUE INDEX cc_audit_form_domain_id_name_uindex ON call_center.cc_audit_form (domain_id, name);
CREATE UNIQUE INDEX cc_audit_form_id_domain_id_uindex ON call_center.cc_audit_form (id, domain_id);

CREATE TABLE call_center.cc_audit_rate (
    id             bigserial   NOT NULL,
    domain_id      bigint      NOT NULL,
    form_id        integer     NOT NULL,
    created_at     timestamptz NOT NULL,
    created_by     bigint,
    updated_at     timestamptz NOT NULL,
    updated_by     bigint,
    answers        jsonb,
    score_required numeric     NOT NULL DEFAULT 0,
    score_optional numeric     NOT NULL DEFAULT 0,
    comment        text,
    call_id        varchar,
    rated_user_id  bigint      NOT NULL,   -- nullable from v25.02
    CONSTRAINT cc_audit_rate_pk PRIMARY KEY (id)
);
CREATE UNIQUE INDEX cc_audit_rate_call_id_uindex ON call_center.cc_audit_rate (call_id)
    WHERE call_id IS NOT NULL;
CREATE INDEX cc_audit_rate_created_by_index ON call_center.cc_audit_rate (created_by DESC);
CREATE INDEX cc_audit_rate_domain_id_index ON call_center.cc_audit_rate (domain_id);
CREATE INDEX cc_audit_rate_form_id_index ON call_center.cc_audit_rate (form_id);
CREATE INDEX cc_audit_rate_updated_by_index ON call_center.cc_audit_rate (updated_by);
