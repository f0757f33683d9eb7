-- Report queue-activity: per queue (and optionally member bucket) and time bucket, the
-- attempts that entered the queue in the bucket (cc_member_attempt_history.joined_at): offered,
-- answered, abandoned, results, wait/handle/talk/wrap times and service levels.
-- Definitions and the differences from Webitel's own figures: docs/reports.md.
-- Parameters: $1/$2/$3 bucket starts, ends and labels (contiguous and ascending)
--  $4 domain ids  $5 queue ids  $6 team ids  $7 queue type codes (NULL = any)
--  $8 split by member bucket (bool)  $9 short-abandon threshold, seconds
--  $10 service-level thresholds, seconds
WITH win AS (
    SELECT $1::timestamptz[] AS starts, $2::timestamptz[] AS ends, $3::text[] AS labels,
           ($1::timestamptz[])[1] AS w_from,
           ($2::timestamptz[])[cardinality($2::timestamptz[])] AS w_to
),
attempts AS (
    SELECT width_bucket(a.joined_at, win.starts) AS i,
           a.queue_id,
           CASE WHEN $8::bool THEN a.bucket_id END AS member_bucket_id,
           a.result,
           a.bridged_at IS NOT NULL AS answered,
           -- Waiting: from entering the queue until bridged, or until leaving unanswered.
           extract(epoch FROM COALESCE(a.bridged_at, a.leaving_at) - a.joined_at) AS wait,
           extract(epoch FROM a.leaving_at - a.bridged_at) AS talk,
           extract(epoch FROM GREATEST(a.leaving_at, a.reporting_at) - a.bridged_at) AS handle,
           extract(epoch FROM a.reporting_at - a.leaving_at) AS wrap,
           a.transferred_at IS NOT NULL OR a.result IN ('transfer', 'transferred') AS transferred
    FROM call_center.cc_member_attempt_history a
    JOIN call_center.cc_queue q ON q.id = a.queue_id
    CROSS JOIN win
    WHERE a.joined_at >= win.w_from AND a.joined_at < win.w_to
      AND ($4::int8[] IS NULL OR a.domain_id = ANY ($4))
      AND ($5::int4[] IS NULL OR a.queue_id = ANY ($5))
      AND ($6::int8[] IS NULL OR q.team_id = ANY ($6))
      AND ($7::int4[] IS NULL OR q.type = ANY ($7))
),
groups AS (
    SELECT i, queue_id, member_bucket_id,
           count(*) AS offered,
           count(*) FILTER (WHERE answered) AS answered,
           count(*) FILTER (WHERE NOT answered AND result = 'abandoned') AS abandoned,
           count(*) FILTER (WHERE NOT answered AND result = 'abandoned' AND wait <= $9::int4) AS short_abandoned,
           count(*) FILTER (WHERE transferred) AS transferred,
           array_agg(result) AS results,
           array_agg(wait) FILTER (WHERE answered) AS answer_waits,
           avg(wait) FILTER (WHERE answered) AS avg_wait,
           max(wait) AS max_wait,
           avg(handle) FILTER (WHERE answered) AS avg_handle,
           sum(talk) FILTER (WHERE answered) AS total_talk,
           avg(wrap) FILTER (WHERE answered) AS avg_wrap
    FROM attempts
    GROUP BY i, queue_id, member_bucket_id
)
SELECT
    win.starts[g.i]                                  AS "bucket_start!",
    win.ends[g.i]                                    AS "bucket_end!",
    win.labels[g.i]                                  AS "bucket_label!",
    q.domain_id                                      AS "domain_id!",
    g.queue_id                                       AS "queue_id!",
    q.name::text                                     AS "queue_name!",
    q.type::int4                                     AS "queue_type!",
    q.team_id                                        AS "team_id?",
    g.member_bucket_id                               AS "member_bucket_id?",
    b.name::text                                     AS "member_bucket_name?",
    g.offered                                        AS "offered!",
    g.answered                                       AS "answered!",
    g.abandoned                                      AS "abandoned!",
    g.short_abandoned                                AS "short_abandoned!",
    g.transferred                                    AS "transferred!",
    (SELECT jsonb_object_agg(r.result, r.n)
     FROM (SELECT result, count(*) AS n FROM unnest(g.results) AS result GROUP BY result) r
    )::text                                          AS "results!",
    round(g.avg_wait, 3)::float8                     AS "avg_wait_sec?",
    round(g.max_wait, 3)::float8                     AS "max_wait_sec?",
    round(g.avg_handle, 3)::float8                   AS "avg_handle_sec?",
    COALESCE(g.total_talk, 0)::float8                AS "total_talk_sec!",
    round(g.avg_wrap, 3)::float8                     AS "avg_wrap_sec?",
    (SELECT jsonb_object_agg(t::text,
                round(100.0 * (SELECT count(*) FROM unnest(g.answer_waits) AS w WHERE w <= t)
                      / g.offered, 2)::float8)
     FROM unnest($10::int4[]) AS t
    )::text                                          AS "service_level_pct?"
FROM groups g
CROSS JOIN win
JOIN call_center.cc_queue q ON q.id = g.queue_id
LEFT JOIN call_center.cc_bucket b ON b.id = g.member_bucket_id
ORDER BY g.i, g.queue_id, g.member_bucket_id NULLS FIRST
