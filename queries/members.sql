-- Dialer members (call_center.cc_member): the people a campaign or queue calls, with their
-- communications, variables, attempts so far, and where they stand (waiting, or stopped with
-- a cause). A member has no time of last change, so the export is a snapshot of now.
-- Parameters (NULL = any): $1 domain ids  $2 queue ids  $3 bucket ids
--  $4/$5 created_at [from, to)  $6 finished (true) / waiting (false)  $7 stop causes
SELECT
    m.id::int8                                   AS "member_id!",
    m.domain_id                                  AS "domain_id!",
    m.queue_id                                   AS "queue_id!",
    q.name::text                                 AS "queue_name?",
    m.bucket_id                                  AS "bucket_id?",
    b.name::text                                 AS "bucket_name?",
    m.name::text                                 AS "name!",
    m.priority::int4                             AS "priority!",
    m.communications::text                       AS "communications?",
    m.variables::text                            AS "variables?",
    m.attempts                                   AS "attempts!",
    m.stop_at                                    AS "stop_at?",
    m.stop_cause::text                           AS "stop_cause?",
    m.ready_at                                   AS "ready_at?",
    m.expire_at                                  AS "expire_at?",
    m.agent_id                                   AS "agent_id?",
    m.skill_id                                   AS "skill_id?",
    to_timestamp(NULLIF(m.last_hangup_at, 0) / 1000.0) AS "last_hangup_at?",
    m.created_at                                 AS "created_at!",
    m.import_id::text                            AS "import_id?"
FROM call_center.cc_member m
LEFT JOIN call_center.cc_queue q ON q.id = m.queue_id
LEFT JOIN call_center.cc_bucket b ON b.id = m.bucket_id
WHERE ($1::int8[] IS NULL OR m.domain_id = ANY ($1))
  AND ($2::int4[] IS NULL OR m.queue_id = ANY ($2))
  AND ($3::int4[] IS NULL OR m.bucket_id = ANY ($3))
  AND ($4::timestamptz IS NULL OR m.created_at >= $4)
  AND ($5::timestamptz IS NULL OR m.created_at < $5)
  AND ($6::bool IS NULL OR (m.stop_at IS NOT NULL) = $6)
  AND ($7::text[] IS NULL OR m.stop_cause = ANY ($7))
ORDER BY m.id
