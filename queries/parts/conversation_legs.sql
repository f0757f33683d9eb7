-- After `linked(root_id, root_created, root_domain, id)` (the legs reachable from each root
-- through parent_id and transfer_from, with the root's created_at and domain, which the
-- set-wise shape groups and joins by): the callbacks (redial_id) and their legs, and the ids
-- of every leg of a conversation, `leg_ids`, for both shapes of the conversations query; each
-- shape joins them to their legs its own way (conversation_leg_columns.sql).
, redialed(root_id, root_created, root_domain, id) AS (
    -- The callbacks are few (none on Webitel's own data) and have no index: one pass over
    -- the history finds them, and their set is hashed (sorting every leg by redial_id to
    -- merge them with the conversations' legs cost more than the pass).
    SELECT l.root_id, l.root_created, l.root_domain, redial.id
    -- (Before v24.02 no leg is a callback; NULLIF(h.id, h.id) is a NULL of the ids' type,
    -- varchar before v23.05, uuid after.)
    FROM (SELECT h.id, h.redial_id/*v24.02|NULLIF(h.id, h.id)*/ AS redial_id
          FROM call_center.cc_calls_history h
          WHERE h.redial_id/*v24.02|NULL*/ IS NOT NULL) redial
    JOIN linked l ON l.id = redial.redial_id
    UNION
    SELECT r.root_id, r.root_created, r.root_domain, n.id
    FROM redialed r
    CROSS JOIN LATERAL (
        SELECT child.id FROM call_center.cc_calls_history child WHERE child.parent_id = r.id
        UNION ALL
        SELECT next.id FROM call_center.cc_calls_history next WHERE next.transfer_from = r.id
    ) n
), leg_ids AS (
    -- linked and redialed are each without duplicates (UNION); a callback leg linked as well
    -- is taken once (an anti-join of the few callbacks, not a sort of every leg).
    SELECT * FROM linked
    UNION ALL
    SELECT * FROM redialed r
    WHERE NOT EXISTS (SELECT 1 FROM linked l WHERE l.root_id = r.root_id AND l.id = r.id)
)
