-- Recordings (storage.files rows of calls) with where each file lives and the call it belongs
-- to: what /api/storage/recordings/{id}/stream serves, without the REST API.
-- A file's uuid is the id of the leg it was recorded on (the A-leg, usually); child legs reach
-- it through their parent_id. Location: local = profile directory / file directory / name;
-- s3 = bucket from the profile, key from the file; no profile = the storage service's default
-- store (configured outside the database), so only the relative path is known.
--
-- Call filters: $1..$34 are exactly the parameters of calls.sql, and a file is listed when
-- some leg matching them is its leg or that leg's child (as Webitel links recordings); $35
-- says whether any call filter besides the domain is set. File filters: $36 file ids,
-- $37 mime pattern (ILIKE), $38/$39 uploaded [from, to), $40 include removed/missing files.
SELECT
--@include parts/recording_columns.sql
FROM storage.files f
--@include parts/recording_joins.sql
WHERE true
  --@include parts/recording_file_filter.sql
  AND (NOT $35::bool OR EXISTS (
        -- The same filters as calls.sql, over the legs this file belongs to.
        SELECT 1
        FROM call_center.cc_calls_history c
        LEFT JOIN call_center.cc_calls_history p ON p.id = c.parent_id AND p.domain_id = c.domain_id
        CROSS JOIN (SELECT true AS recordings) want
        CROSS JOIN LATERAL (
            SELECT date_part('epoch', c.hangup_at - c.created_at)::int8 AS duration_sec
        ) d
        --@include parts/leg_recordings.sql
        WHERE c.domain_id = f.domain_id
          AND (c.id::uuid = file_leg.id
               OR c.parent_id::uuid = file_leg.id)
          AND ($1::int8[] IS NULL OR c.domain_id = ANY ($1))
            --@include parts/calls_filter.sql
            ))
