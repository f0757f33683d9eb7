-- Dialer and queue attempts (call_center.cc_member_attempt_history): what attempt callbacks
-- reported, with queue, member, agent, the AMD result of the member's call and the member's
-- state after the callback. Parameters (NULL = any):
--  $1 domain ids  $2/$3 joined_at [from, to)  $4/$5 leaving_at [from, to)  $6 queue ids
--  $7 agent ids   $8 member ids  $9 results  $10 pattern on destination or display (ILIKE)
--
-- Webitel indexes leaving_at only behind queue_id ((queue_id, leaving_at)). A leaving window
-- without --queue therefore reads every queue the history holds, found by a skip scan of that
-- index (one probe per queue), plus the attempts with no queue.
WITH RECURSIVE history_queues(id) AS (
    SELECT min(h.queue_id) FROM call_center.cc_member_attempt_history h
    UNION ALL
    SELECT (SELECT min(h.queue_id) FROM call_center.cc_member_attempt_history h WHERE h.queue_id > q.id)
    FROM history_queues q
    WHERE q.id IS NOT NULL
)
SELECT
    a.id                                         AS "attempt_id!",
    a.domain_id                                  AS "domain_id!",
    a.queue_id                                   AS "queue_id?",
    q.name::text                                 AS "queue_name?",
    q.type::int4                                 AS "queue_type?",
    a.member_id                                  AS "member_id?",
    COALESCE(m.name::text, a.destination ->> 'name') AS "member_name?",
    a.agent_id                                   AS "agent_id?",
    COALESCE(au.name, au.username::text)         AS "agent_name?",
    a.team_id                                    AS "team_id?",
    a.bucket_id                                  AS "bucket_id?",
    a.channel::text                              AS "channel?",
    a.destination::text                          AS "destination?",
    a.display::text                              AS "display?",
    a.seq                                        AS "seq!",
    a.joined_at                                  AS "joined_at!",
    a.offering_at                                AS "offering_at?",
    a.answered_at                                AS "answered_at?",
    a.bridged_at                                 AS "bridged_at?",
    a.leaving_at                                 AS "leaving_at?",
    a.reporting_at                               AS "reporting_at?",
    -- Waiting: from joining until the agent was bridged, or until leaving if never bridged.
    date_part('epoch', COALESCE(a.bridged_at, a.leaving_at) - a.joined_at)::int8 AS "wait_sec?",
    (CASE WHEN a.bridged_at IS NOT NULL
        THEN date_part('epoch', a.leaving_at - a.bridged_at)::int8 END) AS "talk_sec?",
    (CASE WHEN a.reporting_at IS NOT NULL
        THEN date_part('epoch', a.reporting_at - a.leaving_at)::int8 END) AS "wrap_sec?",
    a.result::text                               AS "result!",
    a.description::text                          AS "description?",
    a.variables/*v24.04|NULL::jsonb*/::text                            AS "variables?",
    a.form_fields::text                          AS "form_fields?",
    a.member_call_id::text                       AS "member_call_id?",
    a.agent_call_id::text                        AS "agent_call_id?",
    COALESCE(mc.amd_result, mc.amd_ai_result/*v22.12|NULL::varchar*/)::text AS "amd_result?",
    m.stop_cause::text                           AS "member_stop_cause?",
    m.stop_at                                    AS "member_stop_at?",
    m.expire_at                                  AS "member_expire_at?",
    m.ready_at                                   AS "member_ready_at?",
    m.attempts                                   AS "member_attempts?"
FROM call_center.cc_member_attempt_history a
LEFT JOIN call_center.cc_queue q ON q.id = a.queue_id
LEFT JOIN call_center.cc_member m ON m.id = a.member_id
LEFT JOIN call_center.cc_agent ag ON ag.id = a.agent_id
LEFT JOIN directory.wbt_user au ON au.id = ag.user_id
-- member_call_id is text; only a well-formed uuid can name a leg (and use its primary key).
LEFT JOIN call_center.cc_calls_history mc
       ON mc.domain_id = a.domain_id
      AND mc.id::uuid = (CASE WHEN a.member_call_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                        THEN a.member_call_id::uuid END)
WHERE ($1::int8[] IS NULL OR a.domain_id = ANY ($1))
  AND ($2::timestamptz IS NULL OR a.joined_at >= $2)
  AND ($3::timestamptz IS NULL OR a.joined_at < $3)
  AND ($4::timestamptz IS NULL OR a.leaving_at >= $4)
  AND ($5::timestamptz IS NULL OR a.leaving_at < $5)
  AND ($6::int4[] IS NULL OR a.queue_id = ANY ($6))
  AND ($6::int4[] IS NOT NULL OR ($4::timestamptz IS NULL AND $5::timestamptz IS NULL)
       OR a.queue_id = ANY (ARRAY(SELECT id FROM history_queues WHERE id IS NOT NULL))
       OR a.queue_id IS NULL)
  AND ($7::int4[] IS NULL OR a.agent_id = ANY ($7))
  AND ($8::int8[] IS NULL OR a.member_id = ANY ($8))
  AND ($9::text[] IS NULL OR a.result = ANY ($9))
  AND ($10::text IS NULL OR a.destination ->> 'destination' ILIKE $10 OR a.display ILIKE $10)
