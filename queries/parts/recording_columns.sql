-- The columns of a recordings row: the file `f` (storage.files) with its store profile `p`
-- and the leg it was recorded on `c`, from the joins of recording_joins.sql.
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
