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
    f.id                                         AS "file_id!",
    f.uuid::text                                 AS "call_id!",
    c.parent_id::text                            AS "call_parent_id?",
    f.domain_id                                  AS "domain_id!",
    f.name::text                                 AS "name!",
    f.view_name/*v22.12|NULL::varchar*/::text                            AS "view_name?",
    f.size                                       AS "size_bytes!",
    f.mime_type::text                            AS "mime_type?",
    f.channel/*v24.10|NULL::varchar*/::text                              AS "channel?",
    to_timestamp(f.created_at / 1000.0)          AS "uploaded_at?",
    f.sha256sum/*v24.04|NULL::varchar*/::text                            AS "sha256?",
    f.profile_id                                 AS "profile_id?",
    COALESCE(p.type::text, 'default')            AS "profile_type!",
    -- The file's path inside its store (s3: the object key); location = store root + this.
    (CASE
        WHEN p.type = 's3' THEN COALESCE(f.properties ->> 'location', f.name)
        ELSE concat_ws('/', f.properties ->> 'directory', f.name)
    END)                                         AS "storage_path!",
    (CASE
        WHEN p.type = 's3' THEN
            's3://' || COALESCE(p.properties ->> 'bucket_name', '') || '/'
                || COALESCE(f.properties ->> 'location', f.name)
        ELSE concat_ws('/', p.properties ->> 'directory', f.properties ->> 'directory', f.name)
    END)                                         AS "location!",
    COALESCE((f.properties ->> 'encrypted')::bool, false) AS "encrypted!",
    COALESCE(f.removed, false)                   AS "removed!",
    '/api/storage/recordings/' || f.id || '/stream' AS "stream_path!",
    c.created_at                                 AS "call_created_at?",
    c.direction::text                            AS "direction?",
    c.from_number::text                          AS "from_number?",
    c.to_number::text                            AS "to_number?",
    q.name::text                                 AS "queue_name?",
    COALESCE(agent_user.name, agent_user.username::text) AS "agent_name?"
FROM storage.files f
LEFT JOIN storage.file_backend_profiles p ON p.id = f.profile_id
-- storage.files.uuid is text; only a well-formed uuid can name a leg (and use its key).
CROSS JOIN LATERAL (
    SELECT CASE WHEN f.uuid ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                THEN f.uuid::uuid END AS id
) file_leg
LEFT JOIN call_center.cc_calls_history c ON c.domain_id = f.domain_id AND c.id::uuid = file_leg.id
LEFT JOIN call_center.cc_queue q ON q.id = c.queue_id
LEFT JOIN call_center.cc_member_attempt_history att ON att.id = c.attempt_id
LEFT JOIN call_center.cc_agent a ON a.id = att.agent_id
LEFT JOIN directory.wbt_user agent_user ON agent_user.id = a.user_id
WHERE (f.channel/*v24.10|NULL::varchar*/ IS NULL OR f.channel/*v24.10|NULL::varchar*/ = 'call')
  AND ($40::bool OR (f.removed IS NOT TRUE AND f.not_exists IS NOT TRUE))
  AND ($1::int8[] IS NULL OR f.domain_id = ANY ($1))
  AND ($36::int8[] IS NULL OR f.id = ANY ($36))
  AND ($37::text IS NULL OR f.mime_type ILIKE $37)
  AND ($38::timestamptz IS NULL OR f.created_at >= (extract(epoch FROM $38) * 1000)::int8)
  AND ($39::timestamptz IS NULL OR f.created_at < (extract(epoch FROM $39) * 1000)::int8)
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
