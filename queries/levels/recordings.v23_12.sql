-- GENERATED from queries/recordings.sql for Webitel schemas from v23.12 up to v24.02; do not edit.
-- Regenerate: UPDATE_QUERIES=1 cargo test --lib levels
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
    f.view_name::text                            AS "view_name?",
    f.size                                       AS "size_bytes!",
    f.mime_type::text                            AS "mime_type?",
    NULL::varchar::text                              AS "channel?",
    to_timestamp(f.created_at / 1000.0)          AS "uploaded_at?",
    NULL::varchar::text                            AS "sha256?",
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
LEFT JOIN call_center.cc_calls_history c ON c.domain_id = f.domain_id AND c.id = file_leg.id
LEFT JOIN call_center.cc_queue q ON q.id = c.queue_id
LEFT JOIN call_center.cc_member_attempt_history att ON att.id = c.attempt_id
LEFT JOIN call_center.cc_agent a ON a.id = att.agent_id
LEFT JOIN directory.wbt_user agent_user ON agent_user.id = a.user_id
WHERE (NULL::varchar IS NULL OR NULL::varchar = 'call')
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
        CROSS JOIN LATERAL (
            SELECT date_part('epoch', c.hangup_at - c.created_at)::int8 AS duration_sec
        ) d
        CROSS JOIN LATERAL (
            -- Recordings belong to a leg or to its parent (storage.files.uuid is text). An ARRAY()
            -- subquery probes the (domain_id, uuid) index per leg, so a narrow export stays cheap,
            -- and costs less per row than an aggregate over a lateral join.
            SELECT NULLIF(ARRAY(
                SELECT leg_file.id
                FROM storage.files leg_file
                WHERE leg_file.domain_id = c.domain_id
                  AND leg_file.uuid IN (c.id::text, c.parent_id::text)
                  AND leg_file.removed IS NOT TRUE AND leg_file.not_exists IS NOT TRUE
                  AND (NULL::varchar IS NULL OR NULL::varchar = 'call')
                ORDER BY leg_file.id), '{}') AS file_ids
        ) rec
        WHERE c.domain_id = f.domain_id
          AND (c.id = file_leg.id
               OR c.parent_id = file_leg.id)
          AND ($1::int8[] IS NULL OR c.domain_id = ANY ($1))
            AND ($2::timestamptz IS NULL OR c.created_at >= $2)
            AND ($3::timestamptz IS NULL OR c.created_at < $3)
            AND ($4::timestamptz IS NULL OR c.stored_at >= $4)
            AND ($5::timestamptz IS NULL OR c.stored_at < $5)
            AND ($6::timestamptz IS NULL OR c.answered_at >= $6)
            AND ($7::timestamptz IS NULL OR c.answered_at < $7)
            AND ($8::text IS NULL
                 OR COALESCE(c.search_number, c.destination::text || '|' || c.from_number::text || '|' || c.to_number::text) ~ $8)
            AND ($9::text IS NULL
                 OR c.destination ILIKE $9 OR c.from_number ILIKE $9 OR c.to_number ILIKE $9
                 OR c.id::text = $9)
            AND ($10::text IS NULL OR c.payload @> $10::text::jsonb)
            AND ($11::int8[] IS NULL OR c.user_id = ANY ($11) OR c.user_ids && $11)
            AND ($12::int8[] IS NULL OR c.user_id = ANY ($12))
            AND ($13::int4[] IS NULL OR c.agent_id = ANY ($13) OR c.agent_ids && $13)
            AND ($14::int4[] IS NULL OR c.queue_id = ANY ($14) OR c.queue_ids && $14)
            AND ($15::int4[] IS NULL OR c.team_id = ANY ($15) OR c.team_ids && $15)
            AND ($16::int8[] IS NULL OR c.member_id = ANY ($16))
            AND ($17::int8[] IS NULL OR c.gateway_id = ANY ($17) OR c.gateway_ids && $17)
            AND ($18::int8[] IS NULL OR c.contact_id = ANY ($18))
            AND ($19::int8[] IS NULL OR c.grantee_id = ANY ($19))
            AND ($20::uuid[] IS NULL OR c.id = ANY ($20))
            AND ($21::uuid[] IS NULL OR c.parent_id = ANY ($21))
            AND ($22::uuid[] IS NULL OR c.id = ANY (ARRAY(
                  -- Every leg reachable from the given legs through parent_id or transfer_from.
                  WITH RECURSIVE family(id) AS (
                      SELECT root.id FROM call_center.cc_calls_history root WHERE root.id = ANY ($22)
                      UNION
                      SELECT next.id
                      FROM call_center.cc_calls_history next
                      JOIN family ON next.parent_id = family.id OR next.transfer_from = family.id
                  )
                  SELECT family.id FROM family WHERE NOT family.id = ANY ($22))))
            AND (NOT $23::bool OR c.parent_id IS NULL)
            AND ($24::bool IS NULL OR (rec.file_ids IS NOT NULL) = $24)
            AND ($25::text[] IS NULL OR c.cause = ANY ($25))
            AND ($26::int8 IS NULL OR d.duration_sec >= $26)
            AND ($27::int8 IS NULL OR d.duration_sec <= $27)
            AND ($28::int4 IS NULL OR c.talk_sec >= $28)
            AND ($29::int4 IS NULL OR c.talk_sec <= $29)
            AND ($30::text IS NULL OR c.direction = $30)
            AND (NOT $31::bool OR (
                  c.bridged_at IS NULL
                  AND c.direction = 'inbound'
                  AND NULL::bool IS NOT TRUE
                  AND NOT (c.parent_id IS NOT NULL AND p.bridged_at IS NOT NULL)))
            AND ($32::text[] IS NULL OR c.tags && $32::varchar[])
            AND ($33::text[] IS NULL OR c.amd_result = ANY ($33) OR c.amd_ai_result = ANY ($33))
            AND ($34::bool IS NULL
                 OR (c.blind_transfer IS NOT NULL OR c.transfer_to IS NOT NULL OR c.transfer_from IS NOT NULL) = $34)))
