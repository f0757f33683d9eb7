-- What a recording file `f` is joined to: its store profile `p`, the leg `c` its uuid names,
-- that leg's queue and the agent of its attempt (recording_columns.sql reads them).
LEFT JOIN storage.file_backend_profiles p ON p.id = f.profile_id
-- storage.files.uuid is text; only a well-formed uuid can name a leg (and use its key).
CROSS JOIN LATERAL (
    SELECT CASE WHEN f.uuid ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                THEN f.uuid::uuid END AS id
) file_leg
LEFT JOIN call_center.cc_calls_history c ON c.domain_id = f.domain_id AND c.id::uuid = file_leg.id
LEFT JOIN call_center.cc_queue q ON q.id = c.queue_id
LEFT JOIN call_center.cc_member_attempt_history att ON att.id = c.attempt_id
LEFT JOIN call_center.cc_agent a ON a.id = att.agent_id
LEFT JOIN directory.wbt_user agent_user ON agent_user.id = a.user_id
