-- Queues as QueueService.SearchQueue shows them, with live member
-- counts. Config timestamps are epoch milliseconds in the source. Parameters (NULL = any):
--  $1 domain ids   $2 name pattern (ILIKE)   $3 queue ids   $4 types   $5 team ids
--  $6 tags (any)   $7 enabled
SELECT
    q.id                                         AS "id!",
    q.domain_id                                  AS "domain_id!",
    q.name::text                                 AS "name!",
    q.type::int4                                 AS "type!",
    (CASE q.type
        WHEN 0 THEN 'offline' WHEN 1 THEN 'inbound' WHEN 2 THEN 'ivr' WHEN 3 THEN 'preview'
        WHEN 4 THEN 'progressive' WHEN 5 THEN 'predictive' WHEN 6 THEN 'inbound_chat'
        WHEN 7 THEN 'agent_task' WHEN 8 THEN 'outbound_task' WHEN 9 THEN 'inbound_im'
        WHEN 10 THEN 'outbound_call'
    END)                                         AS "type_name?",
    q.strategy::text                             AS "strategy!",
    q.enabled                                    AS "enabled!",
    q.priority                                   AS "priority!",
    q.team_id                                    AS "team_id?",
    t.name::text                                 AS "team_name?",
    q.calendar_id                                AS "calendar_id?",
    cal.name::text                               AS "calendar_name?",
    q.dnc_list_id                                AS "dnc_list_id?",
    q.description::text                          AS "description?",
    q.tags/*v24.02|NULL::varchar[]*/::text[]                               AS "tags?",
    q.processing                                 AS "processing!",
    q.processing_sec                             AS "processing_sec!",
    q.payload::text                              AS "payload?",
    q.variables::text                            AS "variables!",
    to_timestamp(q.created_at / 1000.0)          AS "created_at!",
    to_timestamp(q.updated_at / 1000.0)          AS "updated_at!",
    COALESCE(m.total, 0)                         AS "members_total!",
    COALESCE(m.waiting, 0)                       AS "members_waiting!",
    COALESCE(m.finished, 0)                      AS "members_finished!"
FROM call_center.cc_queue q
LEFT JOIN call_center.cc_team t ON t.id = q.team_id
LEFT JOIN flow.calendar cal ON cal.id = q.calendar_id
LEFT JOIN LATERAL (
    -- A member is finished once it has a stop time; until then it waits for its next attempt.
    SELECT count(*)                                  AS total,
           count(*) FILTER (WHERE cm.stop_at IS NULL) AS waiting,
           count(*) FILTER (WHERE cm.stop_at IS NOT NULL) AS finished
    FROM call_center.cc_member cm
    WHERE cm.queue_id = q.id
) m ON true
WHERE ($1::int8[] IS NULL OR q.domain_id = ANY ($1))
  AND ($2::text IS NULL OR q.name ILIKE $2)
  AND ($3::int4[] IS NULL OR q.id = ANY ($3))
  AND ($4::int4[] IS NULL OR q.type = ANY ($4))
  AND ($5::int8[] IS NULL OR q.team_id = ANY ($5))
  AND ($6::text[] IS NULL OR q.tags/*v24.02|NULL::varchar[]*/ && $6::varchar[])
  AND ($7::bool IS NULL OR q.enabled = $7)
ORDER BY q.domain_id, q.id
