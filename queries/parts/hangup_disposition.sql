-- Webitel's hangup_disposition of a top-level leg `c` (its queue `q`), as the call-history
-- view computes it; '' for a child leg.
(CASE
    WHEN c.parent_id IS NOT NULL THEN ''
    WHEN c.cause IN ('USER_BUSY', 'NO_ANSWER') THEN 'not_answered'
    WHEN c.cause = 'ORIGINATOR_CANCEL'
        OR (c.cause = 'NORMAL_UNSPECIFIED' AND c.amd_ai_result/*v22.12|NULL::varchar*/ IS NOT NULL)
        OR (c.cause = 'LOSE_RACE' AND q.type = 4) THEN 'cancelled'
    WHEN c.hangup_by = 'F' THEN 'ended'
    WHEN c.cause = 'NORMAL_CLEARING' THEN
        CASE
            WHEN (c.direction = 'outbound' AND c.hangup_by = 'A' AND c.user_id IS NOT NULL)
                OR (c.direction = 'inbound' AND c.hangup_by = 'B' AND c.bridged_at IS NOT NULL)
                OR (c.direction = 'outbound' AND c.hangup_by = 'B' AND q.type IN (1, 4, 5)
                    AND c.bridged_at IS NOT NULL)
                THEN 'agent_dropped'
            ELSE 'client_dropped'
        END
    ELSE 'error'
END)
