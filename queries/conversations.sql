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
--  $8 read the root leg's variables  $9/$10 read part $10 (0-based) of $9 parts of the
--  roots (parallel connections)
--@include parts/history_domains.sql
--@include parts/conversation_roots.sql
, linked(root_id, root_created, root_domain, id) AS (
    SELECT r.id, r.created_at, r.domain_id, r.id FROM roots r
    UNION
    SELECT l.root_id, l.root_created, l.root_domain, n.id
    FROM linked l
    CROSS JOIN LATERAL (
        SELECT child.id FROM call_center.cc_calls_history child WHERE child.parent_id = l.id
        UNION ALL
        SELECT next.id FROM call_center.cc_calls_history next WHERE next.transfer_from = l.id
    ) n
)
--@include parts/conversation_legs.sql
, legs AS (
    -- Materialized: the aggregates below read it more than once. One probe of the primary
    -- key per leg (OFFSET 0 keeps the lateral a probe): the recursion's estimate, ten times
    -- the roots at every step, made a join hash the whole history for a day's legs (5M demo
    -- legs: a day's conversations in 8.2 s of the server's time, 4.6 s probing).
    SELECT
    --@include parts/conversation_leg_columns.sql
    FROM leg_ids f
    CROSS JOIN LATERAL (
        SELECT * FROM call_center.cc_calls_history h WHERE h.id = f.id OFFSET 0
    ) l
)
, fam AS (
    SELECT root_id,
--@include parts/conversation_figures.sql
           array_agg(id::text) AS ids,
           array_agg(sip_id) FILTER (WHERE sip_id IS NOT NULL) AS sip_ids
    FROM legs
    GROUP BY root_id
)
--@include parts/conversation_firsts.sql
SELECT
--@include parts/conversation_columns.sql
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
     WHERE ms.sip_id = ANY (fam.sip_ids))/*v26.02|NULL::float8*/ AS "mos_min?",
    -- The root leg's variables (NULL unless $8: conversation_roots.sql).
    roots.variables                              AS "variables?"
--@include parts/conversation_joins.sql
WHERE ($7::bool IS NULL OR (answer.bridged_at IS NOT NULL) = $7)
ORDER BY c.created_at, c.id
