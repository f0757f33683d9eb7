-- Conversations, the set-wise shape for bulk exports (the whole history, long windows): the
-- columns, parameters ($1..$10) and rows of conversations.sql, with the legs of each root and
-- each conversation's ratings, transcripts, recordings, statistics and names found by joins
-- over sets read once, instead of index probes per leg (the recursion) and per conversation
-- (the lookups), and every figure of a conversation taken in one aggregate, grouped by the
-- root's (created_at, id): the export's order, so the rows need no sort of their own. The
-- figures for the demo's whole history: bench/derived.md.
-- tests/conversations_shapes.rs proves both shapes return the same rows.
-- Parameters (NULL = any): $1 domain ids  $2/$3 root created_at [from, to)
--  $4/$5 root stored_at [from, to)  $6 root directions  $7 answered (true) / not (false)
--  $8 read the root leg's variables  $9/$10 read part $10 (0-based) of $9 parts of the
--  roots (parallel connections)
--@include parts/history_domains.sql
--@include parts/conversation_roots.sql
, edges AS MATERIALIZED (
    -- Every leg that continues another: its parent's, or the one it was transferred from. As
    -- in conversations.sql, a leg is followed whatever its domain. Read once; each step of
    -- the recursion merges it with the legs found so far (grouping it by `up` for a hash
    -- instead spilled, and was built again at every step, on 5M legs).
    SELECT h.parent_id AS up, h.id FROM call_center.cc_calls_history h
    WHERE h.parent_id IS NOT NULL
    UNION ALL
    SELECT h.transfer_from, h.id FROM call_center.cc_calls_history h
    WHERE h.transfer_from IS NOT NULL
), linked(root_id, root_created, root_domain, id) AS (
    SELECT r.id, r.created_at, r.domain_id, r.id FROM roots r
    UNION
    SELECT l.root_id, l.root_created, l.root_domain, e.id
    FROM linked l
    JOIN edges e ON e.up = l.id
)
--@include parts/conversation_legs.sql
, legs AS (
    -- Read once, as it is joined. OFFSET 0 keeps the join of the ids to their legs apart,
    -- before the lookups: joined to the history first, they were hashed for every leg of the
    -- table, where a part of the roots needs only its own.
    SELECT
    --@include parts/conversation_leg_columns.sql
    FROM leg_ids f
    JOIN call_center.cc_calls_history l ON l.id = f.id
    OFFSET 0
)
, ranked_legs AS (
    -- Each leg with its rating, whether it has a transcript, its lowest MOS (each lookup is
    -- grouped by its key first: at most one row per leg), and its rank in the three orders
    -- that pick a conversation's first queued leg (created_at, id), its first answer
    -- (bridged_at, id, of the agent legs bridged) and its last leg (hangup_at descending,
    -- id), which conversations.sql takes with DISTINCT ON. Partitioned by the root's
    -- (created_at, id), the aggregate's groups: one sort of the legs serves the three ranks
    -- and the aggregate.
    SELECT legs.*, r.score_required, (t.uuid IS NOT NULL) AS transcribed, ms.mos_min,
           lq.name::text AS queue_name, COALESCE(lu.name, lu.username::text) AS user_name,
           la.id AS agent_id,
           count(legs.queue_id) OVER (PARTITION BY legs.root_created, legs.root_id
                                      ORDER BY legs.created_at, legs.id) AS queued_so_far,
           count(*) FILTER (WHERE legs.user_id IS NOT NULL AND legs.bridged_at IS NOT NULL)
               OVER (PARTITION BY legs.root_created, legs.root_id
                     ORDER BY legs.bridged_at, legs.id) AS answered_so_far,
           row_number() OVER (PARTITION BY legs.root_created, legs.root_id
                              ORDER BY legs.hangup_at DESC NULLS LAST, legs.id) AS hangup_rank
    FROM legs
    LEFT JOIN call_center.cc_audit_rate/*v23.05|(SELECT NULL::varchar AS call_id, NULL::numeric AS score_required WHERE false)*/ r
        ON r.call_id = legs.id::text
    LEFT JOIN (SELECT DISTINCT tr.uuid FROM storage.file_transcript tr) t
        ON t.uuid = legs.id::text
    LEFT JOIN (SELECT m.sip_id, min(m.mos_min) AS mos_min
               FROM call_center.cc_calls_media_stats/*v26.02|(SELECT NULL::text AS sip_id, NULL::float8 AS mos_min WHERE false)*/ m
               GROUP BY m.sip_id) ms
        ON ms.sip_id = legs.sip_id
    -- The names the row shows of its first queue and of who answered, looked up for every
    -- leg by hash (the tables are small) rather than probed per conversation.
    LEFT JOIN call_center.cc_queue lq ON lq.id = legs.queue_id
    LEFT JOIN directory.wbt_user lu ON lu.id = legs.user_id
    LEFT JOIN call_center.cc_agent la ON la.user_id = legs.user_id
), facts AS (
    -- What `fam` aggregates per conversation, as rows of three kinds (a column a kind does not
    -- have is NULL): its legs; each recording of its legs (in the root's domain); its root,
    -- with the root leg's own columns under the legs' names (and no id: it counts as no leg).
    -- One aggregate then reads them all: joining several sets of this size to each other
    -- would leave the plan to estimates the planner cannot make for these CTEs.
    SELECT root_id, root_created,
           -- a leg's columns (legs)
           id, created_at, bridged_at, hangup_at, talk_sec, hold_sec, user_id, queue_id, cause,
           transfer_to, blind_transfer, redial_id, sip_id,
           -- its lookups and ranks (ranked_legs)
           score_required, transcribed, mos_min, queued_so_far, answered_so_far, hangup_rank,
           queue_name, user_name, agent_id,
           -- a recording
           NULL::int8 AS file_id,
           -- the root's other columns
           false AS is_root, NULL::int8 AS domain_id, NULL::varchar AS direction,
           NULL::varchar AS from_number, NULL::varchar AS destination, NULL::varchar AS to_number,
           NULL::timestamptz AS stored_at, NULL::varchar AS hangup_by,
           NULL::varchar AS amd_ai_result, NULL::bool AS hide_missed, NULL::int2 AS queue_type,
           NULL::text AS variables
    FROM ranked_legs
    UNION ALL
    SELECT leg_files.root_id, leg_files.root_created,
           NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
           NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
           leg_files.id,
           false, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
    FROM (
        -- The legs' recordings, in the root's domain.
        SELECT legs.root_id, legs.root_created, leg_file.id
        FROM leg_ids legs
        JOIN storage.files leg_file
            ON leg_file.uuid = legs.id::text AND leg_file.domain_id = legs.root_domain
        WHERE
        --@include parts/call_recording_file.sql
    ) leg_files
    UNION ALL
    SELECT roots.id, roots.created_at,
           NULL, NULL, roots.bridged_at, NULL, NULL, NULL, roots.user_id,
           roots.queue_id, roots.cause,
           NULL, NULL, NULL, NULL,
           NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
           NULL,
           true, roots.domain_id, roots.direction, roots.from_number, roots.destination,
           roots.to_number, roots.stored_at, roots.hangup_by, roots.amd_ai_result,
           roots.hide_missed, q.type, roots.variables
    FROM roots
    LEFT JOIN call_center.cc_queue q ON q.id = roots.queue_id
), fam AS (
    SELECT root_id, root_created,
--@include parts/conversation_figures.sql
           avg(score_required)::float8 AS qa_score,
           COALESCE(bool_or(transcribed), false) AS has_transcript,
           -- Without ORDER BY it may aggregate by hash; the column orders the few
           -- conversations that have more than one file.
           array_agg(file_id) FILTER (WHERE file_id IS NOT NULL) AS file_ids,
           min(mos_min) AS mos_min,
           max(queue_id) FILTER (WHERE queue_id IS NOT NULL AND queued_so_far = 1)
               AS first_queue_id,
           max(bridged_at) FILTER (WHERE user_id IS NOT NULL AND bridged_at IS NOT NULL
                                     AND answered_so_far = 1) AS answered_at,
           max(user_id) FILTER (WHERE user_id IS NOT NULL AND bridged_at IS NOT NULL
                                  AND answered_so_far = 1)::int8 AS answered_user_id,
           max(queue_name) FILTER (WHERE queue_id IS NOT NULL AND queued_so_far = 1)
               AS first_queue_name,
           max(user_name) FILTER (WHERE user_id IS NOT NULL AND bridged_at IS NOT NULL
                                    AND answered_so_far = 1) AS answered_user_name,
           max(agent_id) FILTER (WHERE user_id IS NOT NULL AND bridged_at IS NOT NULL
                                   AND answered_so_far = 1) AS answered_agent_id,
           max(cause) FILTER (WHERE hangup_rank = 1) AS final_cause,
           -- The root's row.
           max(domain_id) AS domain_id,
           max(direction) AS direction,
           max(from_number) AS from_number,
           max(destination) AS destination,
           max(to_number) AS to_number,
           max(stored_at) AS stored_at,
           max(cause) FILTER (WHERE is_root) AS cause,
           max(hangup_by) AS hangup_by,
           max(amd_ai_result) AS amd_ai_result,
           bool_or(hide_missed) AS hide_missed,
           max(user_id) FILTER (WHERE is_root) AS user_id,
           max(bridged_at) FILTER (WHERE is_root) AS bridged_at,
           max(queue_id) FILTER (WHERE is_root) AS queue_id,
           max(queue_type) AS queue_type,
           max(variables) AS variables
    FROM facts
    GROUP BY root_created, root_id
)
SELECT
--@include parts/conversation_columns.sql
    fam.qa_score                                 AS "qa_score?",
    fam.has_transcript                           AS "has_transcript!",
    (CASE WHEN cardinality(fam.file_ids) > 1
          THEN ARRAY(SELECT file_id FROM unnest(fam.file_ids) file_id ORDER BY file_id)
          ELSE fam.file_ids END)                 AS "recording_file_ids?",
    fam.mos_min                                  AS "mos_min?",
    -- The root leg's variables (NULL unless $8: conversation_roots.sql).
    fam.variables                                AS "variables?"
FROM fam
-- The names conversations.sql's columns read: the root leg `c` (a root has no parent) and its
-- queue `q`, the first queued leg and its queue `fq`, the answer, who answered (`u`, `a`) and
-- the last leg.
CROSS JOIN LATERAL (
    SELECT fam.root_id AS id, fam.domain_id, fam.direction, fam.from_number, fam.destination,
           fam.to_number, fam.root_created AS created_at, fam.stored_at,
           NULL::uuid AS parent_id, fam.cause,
           fam.hangup_by, fam.amd_ai_result, fam.hide_missed, fam.user_id, fam.bridged_at,
           fam.queue_id
) c
CROSS JOIN LATERAL (SELECT fam.first_queue_id AS queue_id) first_queue
CROSS JOIN LATERAL (SELECT fam.answered_at AS bridged_at, fam.answered_user_id AS user_id) answer
CROSS JOIN LATERAL (SELECT fam.final_cause AS cause) last_leg
CROSS JOIN LATERAL (SELECT fam.queue_type AS type) q
CROSS JOIN LATERAL (SELECT fam.first_queue_name AS name) fq
CROSS JOIN LATERAL (SELECT fam.answered_user_name AS name, NULL::text AS username) u
CROSS JOIN LATERAL (SELECT fam.answered_agent_id AS id) a
WHERE ($7::bool IS NULL OR (answer.bridged_at IS NOT NULL) = $7)
ORDER BY c.created_at, c.id
