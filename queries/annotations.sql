-- Call annotations (call_center.cc_calls_annotation): notes users put on a call, with the
-- second range of the recording they mark, the call's domain and time, and who wrote them.
-- An annotation has no domain of its own: it has its call's (cc_calls_history), and an
-- annotation whose call is gone has none (a --domain filter leaves it out).
-- Parameters (NULL = any): $1 domain ids  $2/$3 created_at [from, to)
--  $4/$5 updated_at [from, to)  $6 call ids  $7 authors (user ids)
SELECT
    a.id                                         AS "annotation_id!",
    a.call_id::text                              AS "call_id!",
    c.domain_id                                  AS "domain_id?",
    c.created_at                                 AS "call_created_at?",
    a.note                                       AS "note!",
    a.start_sec                                  AS "start_sec!",
    a.end_sec                                    AS "end_sec!",
    a.file_id/*v26.04|NULL::int8*/               AS "file_id?",
    a.created_at                                 AS "created_at!",
    a.created_by                                 AS "created_by?",
    COALESCE(author.name, author.username::text) AS "created_by_name?",
    a.updated_at                                 AS "updated_at!",
    a.updated_by                                 AS "updated_by?",
    COALESCE(editor.name, editor.username::text) AS "updated_by_name?"
FROM call_center.cc_calls_annotation a
-- call_id is text; only a well-formed uuid can name a leg (and use its primary key).
LEFT JOIN call_center.cc_calls_history c
       ON c.id::uuid = (CASE WHEN a.call_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                             THEN a.call_id::uuid END)
LEFT JOIN directory.wbt_user author ON author.id = a.created_by
LEFT JOIN directory.wbt_user editor ON editor.id = a.updated_by
WHERE ($1::int8[] IS NULL OR c.domain_id = ANY ($1))
  AND ($2::timestamptz IS NULL OR a.created_at >= $2)
  AND ($3::timestamptz IS NULL OR a.created_at < $3)
  AND ($4::timestamptz IS NULL OR a.updated_at >= $4)
  AND ($5::timestamptz IS NULL OR a.updated_at < $5)
  AND ($6::text[] IS NULL OR a.call_id = ANY ($6))
  AND ($7::int8[] IS NULL OR a.created_by = ANY ($7))
ORDER BY a.id
