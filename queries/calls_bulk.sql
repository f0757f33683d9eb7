-- Call legs, the set-wise shape for bulk exports (the whole table, long windows; read on one
-- connection, as block slices would build every hash again): the columns, parameters
-- ($1..$39) and rows of calls.sql, with each leg's recordings and children found by hash
-- joins over sets built once instead of calls.sql's index probes per leg. On 1M legs the
-- probes cost ~10 µs a leg (8 s for the recordings, 2 s for has_children); here the
-- recordings are one aggregate of storage.files, the children one DISTINCT of the parent_id
-- index, and a child leg finds its parent, with the parent's recordings, in one hash of the
-- legs that have children. The hashes want work_mem (set per transaction, --work-mem); below
-- it they spill to disk in batches and stay correct.
-- tests/calls_shapes.rs proves both shapes return the same rows.
--@include parts/history_domains.sql
, leg_files AS NOT MATERIALIZED (
    -- Every call recording by the leg it belongs to, (domain_id, uuid) unique. Not
    -- materialized: the planner then knows that, and hashes it for both joins that read it.
    -- array_agg without ORDER BY lets it aggregate by hash; `rec` orders the few legs that
    -- have more than one file.
    SELECT leg_file.domain_id, leg_file.uuid, array_agg(leg_file.id) AS ids
    FROM storage.files leg_file
    WHERE $37::bool
    AND
    --@include parts/call_recording_file.sql
    GROUP BY leg_file.domain_id, leg_file.uuid
), parents AS NOT MATERIALIZED (
    SELECT DISTINCT h.parent_id FROM call_center.cc_calls_history h WHERE h.parent_id IS NOT NULL
), parent_legs AS NOT MATERIALIZED (
    -- The legs that have children, with their own recordings: what a child leg reads of its
    -- parent. A hash of these is smaller than one of every leg, and brings the parent's files
    -- with the parent (one probe per child leg instead of two).
    SELECT pl.id, pl.domain_id, pl.bridged_id, pl.bridged_at, parent_files.ids
    FROM call_center.cc_calls_history pl
    LEFT JOIN leg_files parent_files
        ON parent_files.domain_id = pl.domain_id AND parent_files.uuid = pl.id::text
    WHERE pl.id IN (SELECT parents.parent_id FROM parents)
)
SELECT
--@include parts/calls_columns.sql
FROM call_center.cc_calls_history c
CROSS JOIN (SELECT $37::bool AS recordings, $38::bool AS children, $39::bool AS attempts) want
LEFT JOIN parent_legs p ON p.id = c.parent_id AND p.domain_id = c.domain_id
--@include parts/calls_joins.sql
-- A leg's recordings are its own and its parent's (storage.files.uuid is text).
LEFT JOIN leg_files own ON own.domain_id = c.domain_id AND own.uuid = c.id::text
LEFT JOIN parents ON parents.parent_id = c.id AND want.children
CROSS JOIN LATERAL (
    SELECT CASE
        WHEN own.ids IS NULL AND p.ids IS NULL THEN NULL
        WHEN p.ids IS NULL AND cardinality(own.ids) = 1 THEN own.ids
        WHEN own.ids IS NULL AND cardinality(p.ids) = 1 THEN p.ids
        ELSE ARRAY(SELECT file_id FROM unnest(own.ids || p.ids) file_id ORDER BY file_id)
    END AS file_ids
) rec
CROSS JOIN LATERAL (
    SELECT ((c.parent_id IS NULL OR c.blind_transfer IS NOT NULL)
            AND parents.parent_id IS NOT NULL) AS has_children
) kids
WHERE true
  --@include parts/history_domain_scan.sql
  --@include parts/calls_filter.sql
  AND ($35::text IS NULL OR c.ctid >= $35::text::tid)
  AND ($36::text IS NULL OR c.ctid < $36::text::tid)
