-- Quality-assurance ratings (call_center.cc_audit_rate): a call scored against a scorecard
-- (cc_audit_form), with the rated user, the scorer, the scores and each answer.
-- Parameters (NULL = any): $1 domain ids  $2/$3 created_at [from, to)
--  $4/$5 updated_at [from, to)  $6 form ids  $7 rated users  $8 scorers  $9 call ids
SELECT
    r.id                                         AS "rate_id!",
    r.domain_id                                  AS "domain_id!",
    r.form_id                                    AS "form_id!",
    f.name::text                                 AS "form_name?",
    r.call_id::text                              AS "call_id?",
    COALESCE(r.call_created_at/*v24.10|NULL::timestamptz*/, c.created_at) AS "call_created_at?",
    r.rated_user_id                              AS "rated_user_id?",
    COALESCE(rated.name, rated.username::text)   AS "rated_user_name?",
    r.score_required::float8                     AS "score_required!",
    r.score_optional::float8                     AS "score_optional!",
    r.answers::text                              AS "answers?",
    r.comment                                    AS "comment?",
    r.created_at                                 AS "created_at!",
    r.created_by                                 AS "created_by?",
    COALESCE(scorer.name, scorer.username::text) AS "created_by_name?",
    r.updated_at                                 AS "updated_at!",
    r.updated_by                                 AS "updated_by?"
FROM call_center.cc_audit_rate r
LEFT JOIN call_center.cc_audit_form f ON f.id = r.form_id
-- call_id is text; only a well-formed uuid can name a leg (and use its primary key).
LEFT JOIN call_center.cc_calls_history c
       ON c.id::uuid = (CASE WHEN r.call_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                             THEN r.call_id::uuid END)
LEFT JOIN directory.wbt_user rated ON rated.id = r.rated_user_id
LEFT JOIN directory.wbt_user scorer ON scorer.id = r.created_by
WHERE ($1::int8[] IS NULL OR r.domain_id = ANY ($1))
  AND ($2::timestamptz IS NULL OR r.created_at >= $2)
  AND ($3::timestamptz IS NULL OR r.created_at < $3)
  AND ($4::timestamptz IS NULL OR r.updated_at >= $4)
  AND ($5::timestamptz IS NULL OR r.updated_at < $5)
  AND ($6::int4[] IS NULL OR r.form_id = ANY ($6))
  AND ($7::int8[] IS NULL OR r.rated_user_id = ANY ($7))
  AND ($8::int8[] IS NULL OR r.created_by = ANY ($8))
  AND ($9::text[] IS NULL OR r.call_id = ANY ($9))
ORDER BY r.id
