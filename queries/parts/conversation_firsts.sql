-- Per conversation, from its legs: the first queue, who answered, the final cause.
, first_queue AS (
    -- The first leg, in time, that waited in a queue.
    SELECT DISTINCT ON (root_id) root_id, queue_id
    FROM legs WHERE queue_id IS NOT NULL
    ORDER BY root_id, created_at, id
), answer AS (
    -- The first agent leg bridged: who answered, and when.
    SELECT DISTINCT ON (root_id) root_id, bridged_at, user_id::int8 AS user_id
    FROM legs WHERE user_id IS NOT NULL AND bridged_at IS NOT NULL
    ORDER BY root_id, bridged_at, id
), last_leg AS (
    -- The leg that hung up last: its cause ends the conversation.
    SELECT DISTINCT ON (root_id) root_id, cause
    FROM legs
    ORDER BY root_id, hangup_at DESC NULLS LAST, id
)
