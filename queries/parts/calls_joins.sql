-- The joins of a call leg `c` that calls_columns.sql reads besides its parent `p` (each shape
-- joins that its own way): queue, attempt, agent, team, users, gateway, and its duration `d`.
LEFT JOIN call_center.cc_queue q ON q.id = c.queue_id
-- The attempt only where its columns are written (`want`, a FROM item of the including query).
LEFT JOIN call_center.cc_member_attempt_history att ON att.id = c.attempt_id AND want.attempts
LEFT JOIN call_center.cc_agent a ON a.id = att.agent_id
LEFT JOIN directory.wbt_user agent_user ON agent_user.id = a.user_id
LEFT JOIN call_center.cc_team t ON t.id = a.team_id
LEFT JOIN directory.wbt_user u ON u.id = c.user_id
LEFT JOIN directory.sip_gateway gw ON gw.id = c.gateway_id
CROSS JOIN LATERAL (
    SELECT date_part('epoch', c.hangup_at - c.created_at)::int8 AS duration_sec
) d
