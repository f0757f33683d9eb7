-- Agent state intervals: closed ones from call_center.cc_agent_state_history
-- ([joined_at, joined_at + duration)), optionally the open ones from cc_agent (status) and
-- cc_agent_channel (channel states) with no end. Status rows have channel NULL and a status
-- for state (online, offline, pause with its cause in payload, break_out); the others are
-- channel rows (until v23.07 a waiting channel state had channel NULL too). v23.07 wrote status
-- rows to cc_agent_status_log only, later releases to both tables: a log row is read where
-- cc_agent_state_history has no copy of it (it has no state-history id).
-- Parameters (NULL = any): $1 domain ids  $2/$3 window: intervals overlapping [from, to)
--  $4 agent ids  $5 team ids  $6 kind ('status' | 'channel')  $7 states  $8 after id (closed
--  rows with a larger id only)  $9 include open states (bool)
--  $10/$11 closed intervals that ended in [from, to) (incremental runs; open ones excluded)
WITH intervals AS (
    SELECT h.id, h.agent_id, k.kind, h.channel, h.state,
           CASE WHEN k.kind = 'status' AND h.state = 'pause' THEN h.payload END AS pause_cause,
           h.joined_at, h.joined_at + h.duration AS left_at, h.queue_id, h.attempt_id/*v23.05|NULL::int4 AS attempt_id*/
    FROM call_center.cc_agent_state_history h
    CROSS JOIN LATERAL (
        SELECT CASE WHEN h.channel IS NULL AND h.state IN ('online', 'offline', 'pause', 'break_out')
                    THEN 'status' ELSE 'channel' END AS kind
    ) k
    WHERE ($8::int8 IS NULL OR h.id > $8)
      AND ($3::timestamptz IS NULL OR h.joined_at < $3)
      AND ($2::timestamptz IS NULL OR h.joined_at + h.duration > $2)
    UNION ALL
    SELECT NULL, l.agent_id, 'status', NULL, l.status,
           CASE WHEN l.status = 'pause' THEN l.payload END,
           l.joined_at, l.joined_at + l.duration, NULL, NULL
    FROM call_center.cc_agent_status_log/*v23.07|(SELECT NULL::int4 AS agent_id, NULL::varchar AS status, NULL::varchar AS payload, NULL::timestamptz AS joined_at, NULL::interval AS duration WHERE false)*/ l
    WHERE $8::int8 IS NULL
      AND ($3::timestamptz IS NULL OR l.joined_at < $3)
      AND ($2::timestamptz IS NULL OR l.joined_at + l.duration > $2)
      AND NOT EXISTS (SELECT 1 FROM call_center.cc_agent_state_history copy
                      WHERE copy.joined_at = l.joined_at AND copy.agent_id = l.agent_id
                        AND copy.channel IS NULL)
    UNION ALL
    SELECT NULL, a.id, 'status', NULL, a.status,
           CASE WHEN a.status = 'pause' THEN a.status_payload END,
           a.last_state_change, NULL, NULL, NULL
    FROM call_center.cc_agent a
    WHERE $9::bool AND $8::int8 IS NULL
    UNION ALL
    SELECT NULL, ch.agent_id, 'channel', ch.channel, ch.state, NULL, ch.joined_at, NULL,
           ch.queue_id, ch.attempt_id/*v23.05|NULL::int4*/
    FROM call_center.cc_agent_channel ch
    WHERE $9::bool AND $8::int8 IS NULL
)
SELECT
    s.id                                         AS "id?",
    s.agent_id                                   AS "agent_id!",
    a.domain_id                                  AS "domain_id!",
    COALESCE(u.name, u.username::text)           AS "agent_name?",
    a.team_id                                    AS "team_id?",
    s.kind                                       AS "kind!",
    s.channel::text                              AS "channel?",
    s.state::text                                AS "state!",
    s.pause_cause::text                          AS "pause_cause?",
    s.joined_at                                  AS "joined_at!",
    s.left_at                                    AS "left_at?",
    date_part('epoch', s.left_at - s.joined_at)::int8 AS "duration_sec?",
    s.queue_id                                   AS "queue_id?",
    q.name::text                                 AS "queue_name?",
    s.attempt_id                                 AS "attempt_id?"
FROM intervals s
JOIN call_center.cc_agent a ON a.id = s.agent_id
LEFT JOIN directory.wbt_user u ON u.id = a.user_id
LEFT JOIN call_center.cc_queue q ON q.id = s.queue_id
WHERE ($1::int8[] IS NULL OR a.domain_id = ANY ($1))
  AND ($3::timestamptz IS NULL OR s.joined_at < $3)
  AND ($4::int4[] IS NULL OR s.agent_id = ANY ($4))
  AND ($5::int8[] IS NULL OR a.team_id = ANY ($5))
  AND ($6::text IS NULL OR s.kind = $6)
  AND ($7::text[] IS NULL OR s.state = ANY ($7))
  AND ($10::timestamptz IS NULL OR s.left_at >= $10)
  AND ($11::timestamptz IS NULL OR s.left_at < $11)
