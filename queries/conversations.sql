-- Conversations: one row per customer interaction. A conversation starts with a root leg (a
-- top-level leg, parent_id IS NULL, that continues no other: no transfer_from, no redial_id)
-- and holds every leg reachable from it through parent_id, transfer_from or redial_id
-- (recursively; redial_id from v24.02): the agent legs, the legs of attended and blind
-- transfers, consultations that were transferred, and callbacks that redial it.
-- An "agent leg" is a leg with a user (user_id); the root is one for a call an agent placed.
-- Legs are found set-wise: the roots of the window first, then their legs through the
-- parent_id and transfer_from indexes; Webitel has no index on redial_id, so the callbacks of
-- every root of the export are found in one pass over the history (v24.02+), with their own
-- legs. A callback of a callback is not followed.
-- Parameters (NULL = any): $1 domain ids  $2/$3 root created_at [from, to)
--  $4/$5 root stored_at [from, to)  $6 root directions  $7 answered (true) / not (false)
--@include parts/history_domains.sql
, roots AS MATERIALIZED (
    SELECT c.id, c.domain_id
    FROM call_center.cc_calls_history c
    WHERE c.parent_id IS NULL AND c.transfer_from IS NULL
      AND c.redial_id/*v24.02|NULL*/ IS NULL
      --@include parts/history_domain_scan.sql
      AND ($2::timestamptz IS NULL OR c.created_at >= $2)
      AND ($3::timestamptz IS NULL OR c.created_at < $3)
      AND ($4::timestamptz IS NULL OR c.stored_at >= $4)
      AND ($5::timestamptz IS NULL OR c.stored_at < $5)
      AND ($6::text[] IS NULL OR c.direction = ANY ($6))
), linked(root_id, id) AS (
    SELECT r.id, r.id FROM roots r
    UNION
    SELECT l.root_id, n.id
    FROM linked l
    CROSS JOIN LATERAL (
        SELECT child.id FROM call_center.cc_calls_history child WHERE child.parent_id = l.id
        UNION ALL
        SELECT next.id FROM call_center.cc_calls_history next WHERE next.transfer_from = l.id
    ) n
), redialed(root_id, id) AS (
    SELECT l.root_id, redial.id
    FROM linked l
    JOIN call_center.cc_calls_history redial ON redial.redial_id/*v24.02|NULL*/ = l.id
    UNION
    SELECT r.root_id, n.id
    FROM redialed r
    CROSS JOIN LATERAL (
        SELECT child.id FROM call_center.cc_calls_history child WHERE child.parent_id = r.id
        UNION ALL
        SELECT next.id FROM call_center.cc_calls_history next WHERE next.transfer_from = r.id
    ) n
), legs AS MATERIALIZED (
    SELECT f.root_id, l.id, l.created_at, l.bridged_at, l.hangup_at, l.talk_sec, l.hold_sec,
           l.user_id, l.queue_id, l.cause, l.transfer_to, l.blind_transfer,
           l.redial_id/*v24.02|NULL::uuid*/ AS redial_id, l.params ->> 'sip_id' AS sip_id
    FROM (SELECT * FROM linked UNION SELECT * FROM redialed) f
    JOIN call_center.cc_calls_history l ON l.id = f.id
), fam AS (
    SELECT root_id,
           array_agg(id::text) AS ids,
           array_agg(sip_id) FILTER (WHERE sip_id IS NOT NULL) AS sip_ids,
           count(*)::int8 AS legs,
           max(hangup_at) AS ended_at,
           -- The customer's talk: their leg's (the root's, and a callback's), as the call
           -- history gives it; agent-to-agent consultation time is not customer talk.
           COALESCE(sum(talk_sec) FILTER (WHERE id = root_id OR redial_id IS NOT NULL), 0)::int8
               AS talk_sec,
           COALESCE(sum(hold_sec), 0)::int8 AS hold_sec,
           -- Transfer events (counted below): each leg with blind_transfer, and each leg with
           -- transfer_to but the second mark Webitel leaves of an attended transfer.
           count(*) FILTER (WHERE blind_transfer IS NOT NULL)::int8 AS blind_transfers,
           array_agg(id) FILTER (WHERE transfer_to IS NOT NULL) AS transferring_ids,
           array_agg(transfer_to) FILTER (WHERE transfer_to IS NOT NULL) AS transfer_targets,
           count(*) FILTER (WHERE redial_id IS NOT NULL)::int8 AS redials
    FROM legs
    GROUP BY root_id
), first_queue AS (
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
SELECT
    c.id::text                                   AS "conversation_id!",
    c.domain_id                                  AS "domain_id!",
    c.direction::text                            AS "direction?",
    (CASE WHEN c.direction = 'inbound' THEN c.from_number
          ELSE COALESCE(c.destination, c.to_number) END)::text AS "customer_number?",
    c.created_at                                 AS "started_at!",
    fam.ended_at                                 AS "ended_at?",
    c.stored_at                                  AS "stored_at!",
    fam.legs                                     AS "legs!",
    first_queue.queue_id                         AS "first_queue_id?",
    fq.name::text                                AS "first_queue_name?",
    answer.bridged_at                            AS "answered_at?",
    answer.user_id                               AS "answered_by_user_id?",
    COALESCE(u.name, u.username::text)           AS "answered_by_user_name?",
    a.id                                         AS "answered_by_agent_id?",
    date_part('epoch', COALESCE(answer.bridged_at, fam.ended_at) - c.created_at)::int8 AS "wait_sec?",
    fam.talk_sec                                 AS "talk_sec!",
    fam.hold_sec                                 AS "hold_sec!",
    -- An attended transfer may mark two legs: the handed-off one, and the consulted agent's
    -- pointing back at it; the second is a mark whose transfer_to names a leg with its own.
    (fam.blind_transfers
     + (SELECT count(*) FROM unnest(fam.transfer_targets) t
        WHERE t <> ALL (fam.transferring_ids)))::int8 AS "transfers!",
    fam.redials                                  AS "redials!",
    (answer.bridged_at IS NOT NULL)              AS "answered!",
    (answer.bridged_at IS NULL AND c.direction = 'inbound'
     AND c.hide_missed/*v24.02|NULL::bool*/ IS NOT TRUE) AS "missed!",
    --@include parts/hangup_disposition.sql
                                                 AS "disposition!",
    last_leg.cause::text                         AS "final_cause?",
    (SELECT avg(r.score_required)::float8
     FROM call_center.cc_audit_rate r
     WHERE r.call_id = ANY (fam.ids))/*v23.05|NULL::float8*/ AS "qa_score?",
    EXISTS (SELECT 1 FROM storage.file_transcript t
            WHERE t.uuid = ANY (fam.ids))        AS "has_transcript!",
    NULLIF(ARRAY(
        SELECT f.id FROM storage.files f
        WHERE f.domain_id = c.domain_id AND f.uuid = ANY (fam.ids)
          AND f.removed IS NOT TRUE AND f.not_exists IS NOT TRUE
          AND (f.channel/*v24.10|NULL::varchar*/ IS NULL OR f.channel/*v24.10|NULL::varchar*/ = 'call')
        ORDER BY f.id), '{}')                    AS "recording_file_ids?",
    (SELECT min(ms.mos_min)
     FROM call_center.cc_calls_media_stats ms
     WHERE ms.sip_id = ANY (fam.sip_ids))/*v26.02|NULL::float8*/ AS "mos_min?"
FROM roots
JOIN call_center.cc_calls_history c ON c.id = roots.id AND c.domain_id = roots.domain_id
JOIN fam ON fam.root_id = roots.id
LEFT JOIN call_center.cc_queue q ON q.id = c.queue_id
LEFT JOIN first_queue ON first_queue.root_id = roots.id
LEFT JOIN call_center.cc_queue fq ON fq.id = first_queue.queue_id
LEFT JOIN answer ON answer.root_id = roots.id
LEFT JOIN directory.wbt_user u ON u.id = answer.user_id
LEFT JOIN call_center.cc_agent a ON a.user_id = answer.user_id
LEFT JOIN last_leg ON last_leg.root_id = roots.id
WHERE ($7::bool IS NULL OR (answer.bridged_at IS NOT NULL) = $7)
ORDER BY c.created_at, c.id
