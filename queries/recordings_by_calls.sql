-- Recordings of the legs that match call filters: the columns, parameters ($1..$40) and rows of
-- recordings.sql when a call filter besides the domain is set ($35), read from the legs instead
-- of from the files. recordings.sql checks every file of storage.files against its legs (an
-- index probe of the history per file: a day's recordings took 33 s on 5M demo legs with 2M
-- files); here the legs matching the filters are read as calls.sql reads them (a window
-- through the domain-led time indexes), and their files found by (domain_id, uuid).
-- A file is listed when some matching leg is its leg or that leg's child (a child leg's call
-- is recorded under its parent's id, as Webitel links recordings).
-- tests/recordings.rs proves both queries return the same rows.
--@include parts/history_domains.sql
, matched_legs AS (
    SELECT c.domain_id, c.id, c.parent_id
    FROM call_center.cc_calls_history c
    -- The parent by its primary key, one probe per child leg (as calls.sql reads it).
    LEFT JOIN LATERAL (
        SELECT parent.bridged_at
        FROM call_center.cc_calls_history parent
        WHERE parent.id = c.parent_id AND parent.domain_id = c.domain_id
        LIMIT 1
    ) p ON true
    CROSS JOIN (SELECT true AS recordings) want
    CROSS JOIN LATERAL (
        SELECT date_part('epoch', c.hangup_at - c.created_at)::int8 AS duration_sec
    ) d
    --@include parts/leg_recordings.sql
    WHERE $35::bool
      --@include parts/history_domain_scan.sql
      --@include parts/calls_filter.sql
), file_owners AS (
    -- The legs whose id a matching leg's recordings carry: its own and its parent's.
    SELECT m.domain_id, m.id::text AS uuid FROM matched_legs m
    UNION
    SELECT m.domain_id, m.parent_id::text FROM matched_legs m WHERE m.parent_id IS NOT NULL
)
SELECT
--@include parts/recording_columns.sql
FROM file_owners owner
JOIN storage.files f ON f.domain_id = owner.domain_id AND f.uuid = owner.uuid
--@include parts/recording_joins.sql
WHERE true
  --@include parts/recording_file_filter.sql
