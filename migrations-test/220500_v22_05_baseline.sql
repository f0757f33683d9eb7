-- Webitel v22.05 baseline (call_center release branch v22.05, dump taken on PG 14).
-- Rebuilds the tables the exporter reads, at their v22.05 shape:
--   * cc_calls_history call/leg ids are still varchar (uuid only from v23.05);
--   * cc_member_attempt_history.result is varchar(25), import_id varchar(30), still has supervisor_ids;
--   * cc_agent_state_history has no attempt_id yet; storage.files has no view_name etc.
-- Later releases are applied by the following migration files (one per release).
-- Written for PostgreSQL 14 and 15. Indexes carry Webitel's own names and definitions where the
-- exporter's plans depend on them; pg_trgm (contrib) is needed for the number-search index.

CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE SCHEMA IF NOT EXISTS directory;
CREATE SCHEMA IF NOT EXISTS call_center;
CREATE SCHEMA IF NOT EXISTS storage;

------------------------------------------------------------------------------
-- directory.* (only documented by the 2020 dump; minimal column set)
------------------------------------------------------------------------------

-- Tenants. dc is the domain id used as domain_id everywhere else.
CREATE TABLE directory.wbt_domain (
    dc           bigint       NOT NULL PRIMARY KEY,
    name         varchar(255) NOT NULL,          -- SIP realm / domain name
    organization text,
    customer_id  uuid,
    timezone_id  integer,
    country      name,
    locality     name,
    province     name,
    street       text
);

-- Roles and users (grantee ids of call history point here).
CREATE TABLE directory.wbt_auth (
    id   bigserial NOT NULL PRIMARY KEY,
    dc   bigint    NOT NULL,
    name varchar
);

-- Webitel users (agents' names/extensions live here).
CREATE TABLE directory.wbt_user (
    id         bigserial NOT NULL PRIMARY KEY,
    dc         bigint    NOT NULL,
    name       text,
    username   name      NOT NULL,
    extension  name,
    email      varchar(255),
    profile    jsonb,
    device_id  varchar,
    dnd        boolean   NOT NULL DEFAULT false,
    created_at timestamp without time zone NOT NULL DEFAULT LOCALTIMESTAMP,
    updated_at timestamp without time zone NOT NULL DEFAULT LOCALTIMESTAMP,
    deleted_at timestamp without time zone
);

-- SIP trunks (cc_calls_history.gateway_id).
CREATE TABLE directory.sip_gateway (
    id         bigserial NOT NULL PRIMARY KEY,
    dc         bigint    NOT NULL,
    name       varchar   NOT NULL,
    host       varchar,
    proxy      varchar,
    register   boolean   NOT NULL DEFAULT false,
    enable     boolean   NOT NULL DEFAULT true,
    created_at bigint,
    updated_at bigint
);

------------------------------------------------------------------------------
-- call_center: configuration tables (created_at/updated_at = epoch ms bigint)
------------------------------------------------------------------------------

-- flow.calendar: working-hours calendars that queues refer to (calendar_id). Only the columns
-- the exporter reads are reproduced; `accepts`/`excepts` (arrays of composite day ranges) are left out.
CREATE SCHEMA IF NOT EXISTS flow;
CREATE TABLE flow.calendar (
    id          serial  NOT NULL PRIMARY KEY,
    domain_id   bigint  NOT NULL,
    name        varchar NOT NULL,
    start_at    bigint,                 -- epoch ms
    end_at      bigint,                 -- epoch ms
    description varchar(200),
    timezone_id integer NOT NULL,
    created_at  bigint  NOT NULL,
    created_by  bigint,
    updated_at  bigint  NOT NULL,
    updated_by  bigint
);

-- flow.region: the agent's region (time zone). Columns the exporter reads.
CREATE TABLE flow.region (
    id          serial  NOT NULL PRIMARY KEY,
    domain_id   bigint  NOT NULL,
    name        varchar NOT NULL,
    description varchar,
    timezone_id integer NOT NULL
);

CREATE TABLE call_center.cc_team (
    id                   bigserial   NOT NULL PRIMARY KEY,
    domain_id            bigint      NOT NULL,
    name                 varchar(50) NOT NULL,
    description          varchar     NOT NULL DEFAULT '',
    strategy             varchar     NOT NULL,
    max_no_answer        smallint    NOT NULL DEFAULT 0,
    wrap_up_time         smallint    NOT NULL DEFAULT 0,
    no_answer_delay_time smallint    NOT NULL DEFAULT 0,
    call_timeout         smallint    NOT NULL DEFAULT 0,
    invite_chat_timeout  smallint    NOT NULL DEFAULT 30,
    admin_ids            integer[],
    created_at           bigint,
    created_by           bigint,
    updated_at           bigint      NOT NULL DEFAULT 0,
    updated_by           bigint
);
CREATE INDEX cc_team_domain_id_name_idx ON call_center.cc_team (domain_id, name);

CREATE TABLE call_center.cc_queue (
    id                     serial      NOT NULL PRIMARY KEY,
    domain_id              bigint      NOT NULL,
    name                   varchar     NOT NULL,
    type                   smallint    NOT NULL DEFAULT 1,
    strategy               varchar(20) NOT NULL,
    enabled                boolean     NOT NULL,
    priority               integer     NOT NULL DEFAULT 0,
    team_id                bigint,
    calendar_id            integer     NOT NULL,   -- nullable from v24.10
    dnc_list_id            bigint,
    schema_id              integer,
    do_schema_id           integer,
    after_schema_id        integer,
    form_schema_id         integer,
    ringtone_id            integer,
    payload                jsonb,
    variables              jsonb       NOT NULL DEFAULT '{}'::jsonb,
    description            varchar     DEFAULT '',
    sticky_agent           boolean     NOT NULL DEFAULT false,
    processing             boolean     NOT NULL DEFAULT false,
    processing_sec         integer     NOT NULL DEFAULT 30,
    processing_renewal_sec integer     NOT NULL DEFAULT 0,
    recall_calendar        boolean     DEFAULT false,
    grantee_id             bigint,
    created_at             bigint      NOT NULL,
    created_by             bigint,
    updated_at             bigint      NOT NULL
                           DEFAULT (extract(epoch FROM now()) * 1000)::bigint,
    updated_by             bigint
);
CREATE INDEX cc_queue_domain_id_name_idx ON call_center.cc_queue (domain_id, name);

CREATE TABLE call_center.cc_agent (
    id                serial       NOT NULL PRIMARY KEY,
    user_id           bigint       NOT NULL,
    domain_id         bigint       NOT NULL,
    status            varchar(20)  NOT NULL DEFAULT 'offline',
    status_payload    varchar,
    last_state_change timestamptz  NOT NULL DEFAULT now(),
    description       varchar(250) NOT NULL DEFAULT '',
    team_id           integer,
    region_id         integer,
    supervisor        boolean      NOT NULL DEFAULT false,
    supervisor_ids    integer[],
    auditor_ids       bigint[],
    progressive_count integer      DEFAULT 1,
    chat_count        smallint     DEFAULT 1,
    on_demand         boolean      NOT NULL DEFAULT false,
    allow_channels    varchar[]    DEFAULT '{call}'::varchar[],
    greeting_media_id integer,
    created_at        bigint,
    created_by        bigint,
    updated_at        bigint       NOT NULL DEFAULT 0,
    updated_by        bigint,
    CONSTRAINT cc_agent_user_id_key UNIQUE (user_id)
);
CREATE INDEX cc_agent_domain_id_idx ON call_center.cc_agent (domain_id);

-- Closed agent status / channel-state intervals: [joined_at, joined_at + duration).
CREATE TABLE call_center.cc_agent_state_history (
    id        bigserial   NOT NULL PRIMARY KEY,
    agent_id  integer     NOT NULL
              REFERENCES call_center.cc_agent (id) ON UPDATE CASCADE ON DELETE CASCADE,
    joined_at timestamptz NOT NULL DEFAULT now(),
    state     varchar(20) NOT NULL,
    channel   varchar,
    duration  interval    NOT NULL DEFAULT '00:00:00'::interval,
    payload   varchar,
    queue_id  integer
);
-- Status rows (channel NULL; pause/online/offline) have a partial index of their own; v23.05
-- puts agent_id first in it.
CREATE INDEX cc_agent_state_history_dev_g ON call_center.cc_agent_state_history
    (joined_at DESC, agent_id) INCLUDE (state)
    WHERE channel IS NULL AND state IN ('pause', 'online', 'offline');
CREATE INDEX cc_agent_state_history_joined_at_agent_id_index ON call_center.cc_agent_state_history
    (channel, joined_at DESC, agent_id, state DESC) INCLUDE (duration);
CREATE INDEX cc_agent_state_history_joined_at_idx ON call_center.cc_agent_state_history
    (joined_at DESC, agent_id DESC) INCLUDE (state, duration);

-- Current channel state of each agent (the open channel state; closed ones are in
-- cc_agent_state_history). Until v23.07 one row per agent, whose channel is NULL while the
-- agent waits; v23.07 makes it one row per agent and channel (channel NOT NULL, key widened).
CREATE TABLE call_center.cc_agent_channel (
    agent_id           integer     NOT NULL
                       REFERENCES call_center.cc_agent (id) ON UPDATE CASCADE ON DELETE CASCADE,
    channel            varchar,
    state              varchar     NOT NULL,
    online             boolean     NOT NULL DEFAULT false,
    joined_at          timestamptz NOT NULL DEFAULT now(),
    timeout            timestamptz,
    no_answers         integer     NOT NULL DEFAULT 0,
    lose_attempt       integer     NOT NULL DEFAULT 0,
    queue_id           integer,
    last_offering_at   timestamptz,
    last_bridged_at    timestamptz,
    last_missed_at     timestamptz,
    channel_changed_at timestamptz NOT NULL DEFAULT now(),
    last_bucket_id     integer,
    max_opened         integer     NOT NULL DEFAULT 1,   -- smallint, nullable from v24.04
    CONSTRAINT cc_agent_channel_pk PRIMARY KEY (agent_id)
);

-- Pause reasons (timestamps here are timestamptz, not epoch ms).
CREATE TABLE call_center.cc_pause_cause (
    id               serial      NOT NULL PRIMARY KEY,
    domain_id        bigint      NOT NULL,
    name             varchar     NOT NULL,
    description      varchar     NOT NULL DEFAULT '',
    limit_min        integer     NOT NULL DEFAULT 0,
    allow_agent      boolean     NOT NULL DEFAULT true,
    allow_supervisor boolean     NOT NULL DEFAULT true,
    allow_admin      boolean     NOT NULL DEFAULT true,
    created_at       timestamptz NOT NULL DEFAULT now(),
    created_by       bigint,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    updated_by       bigint
);

CREATE TABLE call_center.cc_skill (
    id          serial  NOT NULL PRIMARY KEY,
    domain_id   bigint  NOT NULL,
    name        varchar NOT NULL,
    description varchar NOT NULL DEFAULT ''
);

CREATE TABLE call_center.cc_skill_in_agent (
    id         serial   NOT NULL PRIMARY KEY,
    skill_id   integer  NOT NULL,
    agent_id   integer  NOT NULL,
    capacity   smallint NOT NULL DEFAULT 0,
    enabled    boolean  NOT NULL DEFAULT true,
    created_at bigint   NOT NULL,
    created_by bigint,
    updated_at bigint   NOT NULL,
    updated_by bigint,
    CONSTRAINT cc_skill_in_agent_agent_skill_key UNIQUE (agent_id, skill_id)
);

CREATE TABLE call_center.cc_bucket (
    id          bigserial    NOT NULL PRIMARY KEY,
    domain_id   bigint       NOT NULL,
    name        name         NOT NULL,      -- PG "name" type
    description varchar(200) NOT NULL DEFAULT '',
    created_at  bigint,
    created_by  bigint,
    updated_at  bigint,
    updated_by  bigint
);

-- Outbound (trunk) resources used by dialer attempts.
CREATE TABLE call_center.cc_outbound_resource (
    id                      serial      NOT NULL PRIMARY KEY,
    domain_id               bigint      NOT NULL,
    name                    varchar(50) NOT NULL,
    number                  varchar(20) NOT NULL,
    description             varchar,
    gateway_id              bigint,
    "limit"                 integer     NOT NULL DEFAULT 0,
    rps                     integer     DEFAULT -1,
    enabled                 boolean     NOT NULL DEFAULT true,
    reserve                 boolean     DEFAULT false,
    variables               jsonb       NOT NULL DEFAULT '{}'::jsonb,
    payload                 jsonb,
    parameters              jsonb,
    patterns                varchar[],
    max_successively_errors integer     DEFAULT 0,
    successively_errors     smallint    NOT NULL DEFAULT 0,
    last_error_id           varchar(50),
    last_error_at           timestamptz,
    error_ids               varchar(50)[] DEFAULT '{}'::varchar[],
    failure_dial_delay      integer     DEFAULT 0,
    email_profile_id        integer,
    created_at              bigint      NOT NULL,
    created_by              bigint,
    updated_at              bigint      NOT NULL,
    updated_by              bigint
);

------------------------------------------------------------------------------
-- call_center: dialer members and attempts
------------------------------------------------------------------------------

-- Stand-in for Webitel's cc_destination element type of cc_member.sys_destinations
-- (an internal search helper; its real definition is not in the public dumps).
CREATE TYPE call_center.cc_destination AS (
    idx              integer,
    type_id          integer,
    last_activity_at bigint,
    resource_id      integer,
    priority         integer
);

CREATE TABLE call_center.cc_member (
    id                  serial       NOT NULL PRIMARY KEY,   -- int4 in Webitel
    queue_id            integer      NOT NULL
                        REFERENCES call_center.cc_queue (id) ON UPDATE CASCADE ON DELETE CASCADE,
    domain_id           bigint       NOT NULL,
    name                varchar(250) NOT NULL DEFAULT '',
    priority            smallint     NOT NULL DEFAULT 0,
    variables           jsonb        DEFAULT '{}'::jsonb,
    communications      jsonb,
    attempts            integer      NOT NULL DEFAULT 0,
    stop_at             timestamptz,
    stop_cause          varchar(50),
    ready_at            timestamptz,
    expire_at           timestamptz,
    agent_id            integer,
    last_agent          integer,
    bucket_id           integer,
    skill_id            integer,
    timezone_id         integer,
    sys_offset_id       smallint,
    last_hangup_at      bigint       NOT NULL DEFAULT 0,   -- epoch ms
    created_at          timestamptz  NOT NULL DEFAULT now(),
    import_id           varchar(30),                       -- widened to 120 in v23.02
    search_destinations varchar[],
    sys_destinations    call_center.cc_destination[],
    CONSTRAINT cc_member_bucket_skill_check
        CHECK (NOT (bucket_id IS NOT NULL AND skill_id IS NOT NULL))
);
CREATE INDEX cc_member_queue_id_index ON call_center.cc_member (queue_id);

-- Finished attempts (moved from the UNLOGGED live table cc_member_attempt).
CREATE TABLE call_center.cc_member_attempt_history (
    id                     bigserial   NOT NULL PRIMARY KEY,
    domain_id              bigint      NOT NULL,
    queue_id               integer,
    member_id              bigint,
    team_id                integer,
    agent_id               integer,
    bucket_id              bigint,
    resource_id            integer,
    resource_group_id      integer,
    list_communication_id  bigint,
    channel                varchar,
    destination            jsonb,
    display                varchar(50),
    seq                    integer     NOT NULL DEFAULT 0,
    weight                 integer,
    node_id                varchar(20),
    joined_at              timestamptz NOT NULL,
    offering_at            timestamptz,
    answered_at            timestamptz,
    bridged_at             timestamptz,
    leaving_at             timestamptz,
    reporting_at           timestamptz,
    transferred_at         timestamptz,
    transferred_agent_id   integer,
    transferred_attempt_id bigint,
    parent_id              bigint,
    result                 varchar(25) NOT NULL,   -- widened to 200 in v24.10
    description            varchar,
    member_call_id         varchar,
    agent_call_id          varchar,
    form_fields            jsonb,
    import_id              varchar(30),
    region_id              integer,
    supervisor_ids         integer[]               -- dropped in v23.12
);
-- No index leads with leaving_at alone: a leaving window is read queue by queue through
-- (queue_id, leaving_at).
CREATE INDEX cc_member_attempt_history_domain_id_joined_at_index
    ON call_center.cc_member_attempt_history (domain_id, joined_at DESC);
CREATE INDEX cc_member_attempt_history_joined_at_agent_id_index
    ON call_center.cc_member_attempt_history (joined_at DESC, agent_id);
CREATE INDEX cc_member_attempt_history_queue_id_leaving_at_index
    ON call_center.cc_member_attempt_history (queue_id, leaving_at DESC);
CREATE INDEX cc_stat_agent_awt_dev ON call_center.cc_member_attempt_history
    (leaving_at DESC, agent_id, queue_id, bucket_id) INCLUDE (bridged_at, joined_at, reporting_at)
    WHERE agent_id IS NOT NULL AND bridged_at IS NOT NULL;
CREATE INDEX cc_member_attempt_history_agent_id_index
    ON call_center.cc_member_attempt_history (agent_id);

------------------------------------------------------------------------------
-- call_center: call history (one row per leg; no foreign keys)
------------------------------------------------------------------------------

CREATE TABLE call_center.cc_calls_history (
    id             varchar     NOT NULL,   -- uuid from v23.05
    domain_id      bigint      NOT NULL,
    parent_id      varchar,                -- uuid from v23.05
    bridged_id     varchar,                -- uuid from v23.05
    transfer_from  varchar,                -- uuid from v23.05
    transfer_to    varchar,                -- uuid from v23.05
    blind_transfer varchar,
    app_id         varchar     NOT NULL,
    direction      varchar,
    destination    varchar,
    from_type      varchar,
    from_name      varchar,
    from_number    varchar,
    from_id        varchar,
    to_type        varchar,
    to_name        varchar,
    to_number      varchar,
    to_id          varchar,
    created_at     timestamptz NOT NULL,
    answered_at    timestamptz,
    bridged_at     timestamptz,
    hangup_at      timestamptz,
    stored_at      timestamptz NOT NULL DEFAULT now(),
    duration       integer     NOT NULL DEFAULT 0,   -- legacy, never written
    hold_sec       integer     DEFAULT 0,
    hold           jsonb,
    talk_sec       integer     NOT NULL DEFAULT 0,
    cause          varchar,
    sip_code       integer,
    hangup_by      varchar,
    user_id        integer,
    user_ids       bigint[],
    agent_id       integer,
    agent_ids      integer[],
    queue_id       integer,
    queue_ids      integer[],
    team_id        integer,
    team_ids       integer[],
    gateway_id     bigint,
    gateway_ids    bigint[],
    member_id      bigint,
    attempt_id     bigint,
    grantee_id     bigint,
    payload        jsonb,
    params         jsonb,
    tags           varchar[],
    amd_result     varchar,
    amd_duration   interval,
    description    varchar,
    notes          text,
    rating         smallint,
    CONSTRAINT cc_calls_history_pk PRIMARY KEY (id, domain_id)
);
-- Time windows are only indexed behind domain_id.
CREATE INDEX cc_calls_history_domain_id_created_at_index
    ON call_center.cc_calls_history (domain_id, created_at DESC);
CREATE INDEX cc_calls_history_domain_id_store_at_index
    ON call_center.cc_calls_history (domain_id, stored_at DESC);
CREATE INDEX cc_calls_history_parent_id_index ON call_center.cc_calls_history (parent_id);
CREATE INDEX cc_calls_history_attempt_id_index
    ON call_center.cc_calls_history (attempt_id DESC NULLS LAST);
CREATE INDEX cc_calls_history_transfer_from_index ON call_center.cc_calls_history (transfer_from)
    WHERE transfer_from IS NOT NULL;
CREATE INDEX cc_calls_history_member_id_index ON call_center.cc_calls_history (member_id);

-- User notes on a call (call_id is text: compare with cc_calls_history.id::text).
CREATE TABLE call_center.cc_calls_annotation (
    id         bigserial   NOT NULL PRIMARY KEY,
    call_id    varchar     NOT NULL,
    note       text        NOT NULL,
    start_sec  integer     NOT NULL DEFAULT 0,
    end_sec    integer     NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by bigint,
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by bigint
);
CREATE INDEX cc_calls_annotation_call_id_index ON call_center.cc_calls_annotation (call_id);

------------------------------------------------------------------------------
-- storage: recordings and their backends
------------------------------------------------------------------------------

CREATE TABLE storage.file_backend_profiles (
    id          bigserial    NOT NULL PRIMARY KEY,
    domain_id   bigint,
    name        varchar(100) NOT NULL,
    description varchar      DEFAULT '',
    type        varchar(10)  NOT NULL,     -- local, s3, ...
    properties  jsonb        NOT NULL,
    expire_day  integer      NOT NULL DEFAULT 0,
    priority    integer      NOT NULL DEFAULT 0,
    disabled    boolean,
    max_size_mb integer      NOT NULL DEFAULT 0,
    data_size   double precision NOT NULL DEFAULT 0,
    data_count  bigint       NOT NULL DEFAULT 0,
    created_at  bigint       NOT NULL,
    created_by  bigint,
    updated_at  bigint       NOT NULL,
    updated_by  bigint
);

CREATE TABLE storage.files (
    id         bigserial   NOT NULL PRIMARY KEY,
    domain_id  bigint      NOT NULL,
    uuid       varchar     NOT NULL,   -- owner reference: call id for recordings
    name       varchar     NOT NULL,
    size       bigint      NOT NULL,
    mime_type  varchar,
    profile_id integer,                -- NULL = storage service's default store
    properties jsonb       NOT NULL,
    instance   varchar(50) NOT NULL,
    created_at bigint,                 -- epoch ms
    removed    boolean,
    not_exists boolean
);
CREATE INDEX files_domain_id_uuid_index ON storage.files (domain_id, uuid);
CREATE INDEX files_created_at_index ON storage.files (created_at) INCLUDE (profile_id, id);

-- Post-call transcripts (uuid = call id as text). file_id refers to storage.files
-- (ON DELETE SET NULL in Webitel); the constraint is left out here on purpose.
CREATE TABLE storage.file_transcript (
    id         bigserial   NOT NULL PRIMARY KEY,
    file_id    bigint,
    uuid       varchar     NOT NULL,
    domain_id  bigint,
    transcript text        NOT NULL,
    phrases    jsonb,
    channels   jsonb,
    locale     varchar     NOT NULL DEFAULT 'none',
    profile_id integer     NOT NULL,   -- nullable from v24.08
    log        jsonb,
    created_at timestamptz NOT NULL DEFAULT now()
);
-- Webitel indexes the uuid as varchar(50) until v25.02.
CREATE INDEX file_transcript_uuid_index ON storage.file_transcript ((uuid::varchar(50)));
