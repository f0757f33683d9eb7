-- Recordings (storage.files rows of calls) with where each file lives and the call it belongs
-- to: what /api/storage/recordings/{id}/stream serves, without the REST API.
-- A file's uuid is the id of the leg it was recorded on (the A-leg, usually); child legs reach
-- it through their parent_id. Location: local = profile directory / file directory / name;
-- s3 = bucket from the profile, key from the file; no profile = the storage service's default
-- store (configured outside the database), so only the relative path is known.
-- Parameters (NULL = any): $1 domain ids  $2/$3 call created_at [from, to)  $4 call ids (the
-- call's own files and its parent's)  $5 queue ids  $6 agent ids  $7 user ids  $8 direction
-- $9 file ids  $10 mime pattern (ILIKE)  $11/$12 uploaded [from, to)  $13 include removed
SELECT
    f.id                                         AS "file_id!",
    f.uuid::text                                 AS "call_id!",
    c.parent_id::text                            AS "call_parent_id?",
    f.domain_id                                  AS "domain_id!",
    f.name::text                                 AS "name!",
    f.view_name::text                            AS "view_name?",
    f.size                                       AS "size_bytes!",
    f.mime_type::text                            AS "mime_type?",
    f.channel::text                              AS "channel?",
    to_timestamp(f.created_at / 1000.0)          AS "uploaded_at?",
    f.sha256sum::text                            AS "sha256?",
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
LEFT JOIN call_center.cc_calls_history c
       ON c.domain_id = f.domain_id
      AND c.id = (CASE WHEN f.uuid ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                       THEN f.uuid::uuid END)
LEFT JOIN call_center.cc_queue q ON q.id = c.queue_id
LEFT JOIN call_center.cc_member_attempt_history att ON att.id = c.attempt_id
LEFT JOIN call_center.cc_agent a ON a.id = att.agent_id
LEFT JOIN directory.wbt_user agent_user ON agent_user.id = a.user_id
WHERE (f.channel IS NULL OR f.channel = 'call')
  AND ($13::bool OR (f.removed IS NOT TRUE AND f.not_exists IS NOT TRUE))
  AND ($1::int8[] IS NULL OR f.domain_id = ANY ($1))
  AND ($2::timestamptz IS NULL OR c.created_at >= $2)
  AND ($3::timestamptz IS NULL OR c.created_at < $3)
  AND ($4::uuid[] IS NULL
       OR f.uuid = ANY ($4::text[])
       OR f.uuid IN (SELECT leg.parent_id::text FROM call_center.cc_calls_history leg
                     WHERE leg.id = ANY ($4) AND leg.domain_id = f.domain_id))
  AND ($5::int4[] IS NULL OR c.queue_id = ANY ($5) OR c.queue_ids && $5)
  AND ($6::int4[] IS NULL OR c.agent_id = ANY ($6) OR c.agent_ids && $6)
  AND ($7::int8[] IS NULL OR c.user_id = ANY ($7) OR c.user_ids && $7)
  AND ($8::text IS NULL OR c.direction = $8)
  AND ($9::int8[] IS NULL OR f.id = ANY ($9))
  AND ($10::text IS NULL OR f.mime_type ILIKE $10)
  AND ($11::timestamptz IS NULL OR f.created_at >= (extract(epoch FROM $11) * 1000)::int8)
  AND ($12::timestamptz IS NULL OR f.created_at < (extract(epoch FROM $12) * 1000)::int8)
