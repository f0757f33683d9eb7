-- A leg's recordings: the ids of the call recordings (channel `call` or unset, not removed,
-- not missing) of leg `c` or of its parent, as the `rec` lateral with one column file_ids;
-- none unless `want.recordings` (a FROM item of the including query) is true.
-- One definition for calls.recording_file_ids, --has-file and the recordings export.
CROSS JOIN LATERAL (
    -- Recordings belong to a leg or to its parent (storage.files.uuid is text). An ARRAY()
    -- subquery probes the (domain_id, uuid) index per leg, so a narrow export stays cheap,
    -- and costs less per row than an aggregate over a lateral join.
    SELECT NULLIF(ARRAY(
        SELECT leg_file.id
        FROM storage.files leg_file
        WHERE want.recordings
          AND leg_file.domain_id = c.domain_id
          AND leg_file.uuid IN (c.id::text, c.parent_id::text)
          AND
          --@include parts/call_recording_file.sql
        ORDER BY leg_file.id), '{}') AS file_ids
) rec
