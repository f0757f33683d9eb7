-- Report agent-activity: per agent and time bucket, the time spent in each status and in each
-- state of one channel, every interval clipped exactly to the bucket, plus offer/call counts.
-- Definitions and the differences from Webitel's own figures: docs/reports.md.
-- Parameters: $1/$2/$3 bucket starts, ends and labels (contiguous and ascending, built by the
--  tool in the report's time zone)  $4 domain ids  $5 agent ids  $6 team ids (NULL = any)
--  $7 the channel whose states count (e.g. 'call')
-- A row's bucket is width_bucket(t, starts): a binary search over the bucket starts.
WITH win AS (
    SELECT $1::timestamptz[] AS starts, $2::timestamptz[] AS ends, $3::text[] AS labels,
           ($1::timestamptz[])[1] AS w_from,
           ($2::timestamptz[])[cardinality($2::timestamptz[])] AS w_to
),
-- Not materialized: each reference reads cc_agent again (a few rows), so that the calls'
-- joins below can run in parallel workers (a CTE's rows cannot be read by them).
agents AS NOT MATERIALIZED (
    SELECT a.id, a.domain_id, a.team_id, a.user_id, a.status, a.status_payload,
           a.last_state_change
    FROM call_center.cc_agent a
    WHERE ($4::int8[] IS NULL OR a.domain_id = ANY ($4))
      AND ($5::int4[] IS NULL OR a.id = ANY ($5))
      AND ($6::int8[] IS NULL OR a.team_id = ANY ($6))
),
-- Two timelines per agent: status (online, offline, pause, break_out) and the chosen channel's
-- states (offering, bridged, wrap_time, missed, waiting…). Intervals are [joined_at, left_at).
-- A timeline's rows that can overlap the window: the last one that began before it (the state
-- open at the window start), those that began inside it, and the state still open now
-- (cc_agent / cc_agent_channel), which lasts until the snapshot's now().
-- A status row has channel NULL and a status for state: until v23.07 a waiting channel state
-- also had channel NULL. v23.07 wrote status rows to cc_agent_status_log only, later releases
-- to both tables: log rows count where cc_agent_state_history has no copy.
intervals AS (
    -- The status open at the window start: the newer of the last status row before it in each
    -- table (cc_agent_state_history through Webitel's partial index of status rows).
    SELECT ag.id AS agent_id, NULL::varchar AS channel, o.state, o.payload, o.joined_at,
           o.joined_at + o.duration AS left_at
    FROM agents ag, win,
    LATERAL (SELECT * FROM (
                 (SELECT h.state, h.payload, h.joined_at, h.duration
                  FROM call_center.cc_agent_state_history h
                  WHERE h.agent_id = ag.id
                    AND h.channel IS NULL AND h.state IN ('pause', 'online', 'offline')
                    AND h.joined_at < win.w_from
                  ORDER BY h.joined_at DESC
                  LIMIT 1)
                 UNION ALL
                 (SELECT l.status, l.payload, l.joined_at, l.duration
                  FROM call_center.cc_agent_status_log/*v23.07|(SELECT NULL::int4 AS agent_id, NULL::varchar AS status, NULL::varchar AS payload, NULL::timestamptz AS joined_at, NULL::interval AS duration WHERE false)*/ l
                  WHERE l.agent_id = ag.id AND l.joined_at < win.w_from
                  ORDER BY l.joined_at DESC
                  LIMIT 1)) last_two
             ORDER BY joined_at DESC
             LIMIT 1) o
    UNION ALL
    -- The channel state open at the window start.
    SELECT ag.id, $7::varchar, p.state, p.payload, p.joined_at, p.joined_at + p.duration
    FROM agents ag, win,
    LATERAL (SELECT h.state, h.payload, h.joined_at, h.duration
             FROM call_center.cc_agent_state_history h
             WHERE h.agent_id = ag.id
               AND h.channel = $7
               AND h.joined_at < win.w_from
             ORDER BY h.joined_at DESC
             LIMIT 1) p
    UNION ALL
    SELECT h.agent_id, h.channel, h.state, h.payload, h.joined_at, h.joined_at + h.duration
    FROM call_center.cc_agent_state_history h
    JOIN agents ag ON ag.id = h.agent_id, win
    WHERE (h.channel = $7
           OR (h.channel IS NULL AND h.state IN ('pause', 'online', 'offline', 'break_out')))
      AND h.joined_at >= win.w_from AND h.joined_at < win.w_to
    UNION ALL
    SELECT l.agent_id, NULL, l.status, l.payload, l.joined_at, l.joined_at + l.duration
    FROM call_center.cc_agent_status_log/*v23.07|(SELECT NULL::int4 AS agent_id, NULL::varchar AS status, NULL::varchar AS payload, NULL::timestamptz AS joined_at, NULL::interval AS duration WHERE false)*/ l
    JOIN agents ag ON ag.id = l.agent_id, win
    WHERE l.joined_at >= win.w_from AND l.joined_at < win.w_to
      AND NOT EXISTS (SELECT 1 FROM call_center.cc_agent_state_history copy
                      WHERE copy.joined_at = l.joined_at AND copy.agent_id = l.agent_id
                        AND copy.channel IS NULL)
    UNION ALL
    SELECT ag.id, NULL, ag.status, ag.status_payload, ag.last_state_change, now()
    FROM agents ag, win
    WHERE ag.last_state_change < win.w_to
    UNION ALL
    SELECT ch.agent_id, ch.channel, ch.state, NULL, ch.joined_at, now()
    FROM call_center.cc_agent_channel ch
    JOIN agents ag ON ag.id = ch.agent_id, win
    WHERE ch.channel = $7 AND ch.joined_at < win.w_to
),
-- Each interval cut at bucket boundaries: one piece per bucket it overlaps.
pieces AS (
    SELECT s.agent_id, s.channel, s.state, s.payload, i,
           extract(epoch FROM least(s.left_at, win.ends[i]) - greatest(s.joined_at, win.starts[i])) AS sec
    FROM intervals s, win,
    LATERAL generate_series(width_bucket(greatest(s.joined_at, win.w_from), win.starts),
                            width_bucket(least(s.left_at, win.w_to), win.starts)) AS i
    WHERE s.left_at > win.w_from AND s.joined_at < win.w_to
),
times AS (
    SELECT agent_id, i,
           sum(sec) FILTER (WHERE channel IS NULL AND state = 'online')    AS online,
           sum(sec) FILTER (WHERE channel IS NULL AND state = 'pause')     AS pause,
           sum(sec) FILTER (WHERE channel IS NULL AND state = 'offline')   AS offline,
           sum(sec) FILTER (WHERE channel IS NULL AND state = 'break_out') AS break_out,
           sum(sec) FILTER (WHERE channel IS NOT NULL AND state = 'offering')  AS offering,
           sum(sec) FILTER (WHERE channel IS NOT NULL AND state = 'bridged')   AS talk,
           sum(sec) FILTER (WHERE channel IS NOT NULL AND state = 'wrap_time') AS wrap
    FROM pieces
    WHERE sec > 0
    GROUP BY agent_id, i
),
pause_causes AS (
    SELECT agent_id, i, jsonb_object_agg(cause, sec) AS by_cause
    FROM (SELECT agent_id, i, COALESCE(payload, '') AS cause, sum(sec)::float8 AS sec
          FROM pieces
          WHERE channel IS NULL AND state = 'pause' AND sec > 0
          GROUP BY agent_id, i, cause) c
    GROUP BY agent_id, i
),
-- Events counted in the bucket where they happen: offers, bridges and misses (the start of
-- those channel states), logins (leaving offline) and logouts (entering offline).
events AS (
    SELECT agent_id, width_bucket(joined_at, win.starts) AS i,
           count(*) FILTER (WHERE channel IS NOT NULL AND state = 'offering') AS offered,
           count(*) FILTER (WHERE channel IS NOT NULL AND state = 'bridged')  AS handled,
           count(*) FILTER (WHERE channel IS NOT NULL AND state = 'missed')   AS missed,
           min(joined_at) FILTER (WHERE channel IS NULL AND state <> 'offline'
                                    AND COALESCE(previous, 'offline') = 'offline') AS first_login_at,
           max(joined_at) FILTER (WHERE channel IS NULL AND state = 'offline'
                                    AND previous <> 'offline') AS last_logout_at
    FROM (SELECT s.*, lag(s.state) OVER (PARTITION BY s.agent_id, s.channel ORDER BY s.joined_at) AS previous
          FROM intervals s) e, win
    WHERE joined_at >= win.w_from AND joined_at < win.w_to
    GROUP BY agent_id, i
),
-- The agent's calls, in the bucket of the offer: the attempts the agent was given, with the
-- agent's own leg (agent_call_id, text). The window's bounds are written from the parameters
-- (not from `win`) so that the planner sees them and sizes these sets right (through `win` it
-- misjudged them 10-fold and sorted to disk instead of hashing).
offers AS NOT MATERIALIZED (
    SELECT a.agent_id, a.domain_id, a.bridged_at, a.agent_call_id,
           width_bucket(a.offering_at, $1::timestamptz[]) AS i
    FROM call_center.cc_member_attempt_history a
    JOIN agents ag ON ag.id = a.agent_id
    WHERE a.channel = $7
      AND a.offering_at >= ($1::timestamptz[])[1]
      AND a.offering_at < ($2::timestamptz[])[cardinality($2::timestamptz[])]
),
-- The agents' legs created within a day of the window, in the agents' domains: an agent's leg
-- is created when the call is offered, so one hash join finds the legs of the window's offers
-- (a probe per offer cost ~8 µs: 15 s for a month of 5M legs). They are matched by their id
-- as text, as the offer names them: checking that every agent_call_id is a uuid before
-- casting it (a regular expression) cost 4 s of the month's 14 s. far_calls repeats these
-- conditions to leave out the legs found here.
near_legs AS NOT MATERIALIZED (
    SELECT h.id::text AS id, h.domain_id, h.cause, h.bridged_at, h.hangup_at, h.hold_sec
    FROM call_center.cc_calls_history h
    WHERE h.domain_id = ANY (ARRAY(SELECT DISTINCT ag.domain_id FROM agents ag))
      AND h.created_at >= ($1::timestamptz[])[1] - interval '1 day'
      AND h.created_at < ($2::timestamptz[])[cardinality($2::timestamptz[])] + interval '1 day'
      AND h.user_id IS NOT NULL
),
-- Per agent and bucket: the offers that name a leg.
offer_counts AS MATERIALIZED (
    SELECT agent_id, i, count(agent_call_id) AS named
    FROM offers
    GROUP BY agent_id, i
),
-- The figures of the offers whose leg is a near leg: an inner join, which PostgreSQL runs
-- with parallel workers (an outer join of the offers could not hash the offers in parallel
-- before PostgreSQL 16). Averages are kept as sums and counts, to add the far legs' below.
near_calls AS MATERIALIZED (
    SELECT o.agent_id, o.i, count(*) AS found,
--@include parts/agent_call_figures.sql
    FROM offers o
    JOIN near_legs leg ON leg.domain_id = o.domain_id AND leg.id = o.agent_call_id
    GROUP BY o.agent_id, o.i
),
-- The offers whose leg is no near leg (another domain, no user, created long before, an id in
-- capitals), probed one by one in the buckets that found fewer legs than their offers name —
-- none at all, without a single probe, when every named leg was found.
far_calls AS (
    SELECT o.agent_id, o.i,
--@include parts/agent_call_figures.sql
    FROM (SELECT c.agent_id, c.i
          FROM offer_counts c
          LEFT JOIN near_calls n ON n.agent_id = c.agent_id AND n.i = c.i
          WHERE c.named > COALESCE(n.found, 0)) short
    JOIN offers o ON o.agent_id = short.agent_id AND o.i = short.i
    CROSS JOIN LATERAL (
        SELECT h.id, h.created_at, h.user_id, h.cause, h.bridged_at, h.hangup_at, h.hold_sec
        FROM call_center.cc_calls_history h
        WHERE h.domain_id = o.domain_id
          -- Only a well-formed uuid names a leg (CASE: checked before the cast).
          AND h.id::uuid = (CASE WHEN o.agent_call_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                                 THEN o.agent_call_id::uuid END)
        -- A probe per offer, not a join with the whole history.
        OFFSET 0
    ) leg
    -- An offer finds at most one near leg, so the totals are equal only if every bucket is.
    WHERE (SELECT sum(c.named) FROM offer_counts c) > (SELECT COALESCE(sum(n.found), 0) FROM near_calls n)
      AND o.agent_call_id IS NOT NULL
      -- Not the near leg the offer has already found: near_legs' conditions, which must stay
      -- the same as these (a leg both near and far would count twice).
      AND NOT (leg.id::text = o.agent_call_id
               AND o.domain_id = ANY (ARRAY(SELECT DISTINCT ag.domain_id FROM agents ag))
               AND leg.created_at >= ($1::timestamptz[])[1] - interval '1 day'
               AND leg.created_at < ($2::timestamptz[])[cardinality($2::timestamptz[])] + interval '1 day'
               AND leg.user_id IS NOT NULL)
    GROUP BY o.agent_id, o.i
),
calls AS (
    SELECT c.agent_id, c.i,
           COALESCE(n.abandoned, 0) + COALESCE(f.abandoned, 0) AS abandoned,
           (COALESCE(n.talk, 0) + COALESCE(f.talk, 0))
               / NULLIF(COALESCE(n.talked, 0) + COALESCE(f.talked, 0), 0) AS avg_talk,
           (COALESCE(n.hold, 0) + COALESCE(f.hold, 0))::numeric
               / NULLIF(COALESCE(n.held, 0) + COALESCE(f.held, 0), 0) AS avg_hold,
           CASE WHEN n.hold IS NOT NULL OR f.hold IS NOT NULL
                THEN COALESCE(n.hold, 0) + COALESCE(f.hold, 0) END AS hold
    FROM offer_counts c
    LEFT JOIN near_calls n ON n.agent_id = c.agent_id AND n.i = c.i
    LEFT JOIN far_calls f ON f.agent_id = c.agent_id AND f.i = c.i
),
keys AS (
    SELECT agent_id, i FROM times
    UNION SELECT agent_id, i FROM events
    UNION SELECT agent_id, i FROM calls
)
SELECT
    win.starts[k.i]                                  AS "bucket_start!",
    win.ends[k.i]                                    AS "bucket_end!",
    win.labels[k.i]                                  AS "bucket_label!",
    ag.domain_id                                     AS "domain_id!",
    k.agent_id                                       AS "agent_id!",
    COALESCE(u.name, u.username::text)               AS "agent_name?",
    ag.team_id                                       AS "team_id?",
    tm.name::text                                    AS "team_name?",
    COALESCE(t.online, 0)::float8                    AS "online_sec!",
    COALESCE(t.pause, 0)::float8                     AS "pause_sec!",
    COALESCE(t.offline, 0)::float8                   AS "offline_sec!",
    COALESCE(pc.by_cause, '{}')::text                AS "pause_by_cause!",
    COALESCE(t.break_out, 0)::float8                 AS "break_out_sec!",
    COALESCE(t.offering, 0)::float8                  AS "offering_sec!",
    COALESCE(t.talk, 0)::float8                      AS "talk_sec!",
    COALESCE(cl.hold, 0)::float8                     AS "hold_sec!",
    COALESCE(t.wrap, 0)::float8                      AS "wrap_sec!",
    round(100 * COALESCE(t.online, 0)
          / NULLIF(COALESCE(t.online, 0) + COALESCE(t.pause, 0), 0), 2)::float8 AS "utilization_pct?",
    round(100 * (COALESCE(t.offering, 0) + COALESCE(t.talk, 0) + COALESCE(t.wrap, 0))
          / NULLIF(COALESCE(t.online, 0) + COALESCE(t.pause, 0), 0), 2)::float8 AS "occupancy_pct?",
    COALESCE(e.offered, 0)                           AS "offered!",
    COALESCE(e.handled, 0)                           AS "handled!",
    COALESCE(e.missed, 0)                            AS "missed!",
    COALESCE(cl.abandoned, 0)                        AS "abandoned!",
    round(cl.avg_talk, 3)::float8                    AS "avg_talk_sec?",
    round(cl.avg_hold, 3)::float8                    AS "avg_hold_sec?",
    e.first_login_at                                 AS "first_login_at?",
    e.last_logout_at                                 AS "last_logout_at?"
FROM keys k
CROSS JOIN win
JOIN agents ag ON ag.id = k.agent_id
LEFT JOIN directory.wbt_user u ON u.id = ag.user_id
LEFT JOIN call_center.cc_team tm ON tm.id = ag.team_id
LEFT JOIN times t ON t.agent_id = k.agent_id AND t.i = k.i
LEFT JOIN pause_causes pc ON pc.agent_id = k.agent_id AND pc.i = k.i
LEFT JOIN events e ON e.agent_id = k.agent_id AND e.i = k.i
LEFT JOIN calls cl ON cl.agent_id = k.agent_id AND cl.i = k.i
ORDER BY k.i, k.agent_id
