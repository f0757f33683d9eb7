-- Demo data, part 5: thirty days of agent states. $1 seed.
-- Each working day an agent logs in around 08:00 (Kyiv), pauses for lunch with a cause, works
-- until about 17:00 and goes offline until the next morning (status rows, channel NULL); while
-- online it handles calls: offering → bridged → wrap_time (channel rows, channel 'call').
-- Rows are closed intervals [joined_at, joined_at + duration), as Webitel's triggers write them.
-- The open states are in cc_agent (status) and cc_agent_channel (channel).
WITH days AS (
    SELECT a.id AS agent_id, a.domain_id, d,
           timestamptz '2026-09-01 05:00:00+00' + d * interval '1 day'
               + ((hashint8extended(a.id * 100 + d, $1::int8 + 60) & 2147483647) % 1800) * interval '1 second'
               AS login,
           (hashint8extended(a.id * 100 + d, $1::int8 + 61) & 2147483647) AS r
    FROM call_center.cc_agent a
    CROSS JOIN generate_series(0, 29) AS d
    OFFSET 0
),
status_rows AS (
    SELECT agent_id, joined_at, state, NULL::varchar AS channel, duration, payload, NULL::int4 AS queue_id
    FROM days
    CROSS JOIN LATERAL (VALUES
        (login, 'online', interval '4 hours', NULL::varchar),
        (login + interval '4 hours', 'pause', (30 + r % 30) * interval '1 minute',
             (ARRAY['Обід', 'Coffee break', 'Навчання'])[1 + r % 3]),
        (login + interval '4 hours' + (30 + r % 30) * interval '1 minute', 'online',
             interval '5 hours' - (30 + r % 30) * interval '1 minute', NULL),
        (login + interval '9 hours', 'offline', interval '15 hours', NULL)
    ) AS s(joined_at, state, duration, payload)
),
call_rows AS (
    -- Four calls in the morning, each: 10 s offering, bridged, 20 s wrap-up.
    SELECT agent_id, login + (n * 50 + r % 20) * interval '1 minute' + step.offset_s * interval '1 second',
           step.state, 'call'::varchar, step.duration_s * interval '1 second', NULL::varchar,
           (domain_id * 10 + 1)::int4
    FROM days
    CROSS JOIN generate_series(1, 4) AS n
    CROSS JOIN LATERAL (VALUES
        (0, 'offering', 10),
        (10, 'bridged', 60 + (r >> n) % 600),
        (10 + 60 + (r >> n) % 600, 'wrap_time', 20)
    ) AS step(offset_s, state, duration_s)
),
history AS (
    INSERT INTO call_center.cc_agent_state_history (agent_id, joined_at, state, channel, duration, payload, queue_id)
    SELECT * FROM status_rows
    UNION ALL
    SELECT * FROM call_rows
    ORDER BY 2, 1
    RETURNING id
),
channels AS (
    INSERT INTO call_center.cc_agent_channel (agent_id, channel, state, online, joined_at)
    SELECT a.id, 'call', CASE WHEN a.status = 'online' THEN 'waiting' ELSE 'offline' END,
           a.status = 'online', a.last_state_change
    FROM call_center.cc_agent a
    RETURNING agent_id
)
SELECT (SELECT count(*) FROM history) + (SELECT count(*) FROM channels) AS "rows!"
