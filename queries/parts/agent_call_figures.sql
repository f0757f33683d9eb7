-- An agent's calls in a bucket, over offers `o` joined to their leg `leg` (report
-- agent-activity's near_calls and far_calls): the abandoned ones, and the talk and hold
-- seconds of the answered ones as sums and counts (the report divides them once both are
-- added, as avg() would have).
           count(*) FILTER (WHERE o.bridged_at IS NULL
                              AND leg.cause IN ('NO_ANSWER', 'ORIGINATOR_CANCEL')) AS abandoned,
           sum(extract(epoch FROM leg.hangup_at - leg.bridged_at))
               FILTER (WHERE leg.bridged_at IS NOT NULL) AS talk,
           count(extract(epoch FROM leg.hangup_at - leg.bridged_at))
               FILTER (WHERE leg.bridged_at IS NOT NULL) AS talked,
           sum(leg.hold_sec) FILTER (WHERE leg.bridged_at IS NOT NULL) AS hold,
           count(leg.hold_sec) FILTER (WHERE leg.bridged_at IS NOT NULL) AS held
