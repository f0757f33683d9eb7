-- Post-call transcripts (storage.file_transcript): the text of a recording in one locale, with
-- its phrases (each with channel, start and end) and channels as JSON, and the call it
-- belongs to (uuid: the leg's id as text).
-- Parameters (NULL = any): $1 domain ids  $2/$3 created_at [from, to)  $4 call ids
--  $5 file ids  $6 locales
SELECT
    t.id                                         AS "transcript_id!",
    t.file_id                                    AS "file_id?",
    t.uuid::text                                 AS "call_id!",
    t.domain_id                                  AS "domain_id?",
    c.created_at                                 AS "call_created_at?",
    t.locale::text                               AS "locale!",
    t.transcript                                 AS "transcript!",
    t.phrases::text                              AS "phrases?",
    t.channels::text                             AS "channels?",
    t.profile_id                                 AS "profile_id?",
    t.created_at                                 AS "created_at!"
FROM storage.file_transcript t
-- uuid is text; only a well-formed uuid can name a leg (and use its primary key).
LEFT JOIN call_center.cc_calls_history c
       ON c.id::uuid = (CASE WHEN t.uuid ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                             THEN t.uuid::uuid END)
WHERE ($1::int8[] IS NULL OR t.domain_id = ANY ($1))
  AND ($2::timestamptz IS NULL OR t.created_at >= $2)
  AND ($3::timestamptz IS NULL OR t.created_at < $3)
  AND ($4::text[] IS NULL OR t.uuid = ANY ($4))
  AND ($5::int8[] IS NULL OR t.file_id = ANY ($5))
  AND ($6::text[] IS NULL OR t.locale = ANY ($6))
ORDER BY t.id
