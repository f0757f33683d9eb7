-- Demo data, part 3: dialer members and queue attempts for every call family that has an
-- attempt_id (inbound queue calls, dialer and preview calls), derived from the legs written by
-- demo_calls.sql so the two always agree. $1 seed.
WITH agent_leg AS (
    -- The first agent leg of each family carries the attempt (a transfer adds a second).
    SELECT DISTINCT ON (b.parent_id)
           b.parent_id, b.attempt_id, b.id, b.agent_id, b.team_id, b.created_at, b.bridged_at
    FROM call_center.cc_calls_history b
    WHERE b.parent_id IS NOT NULL AND b.attempt_id IS NOT NULL AND b.agent_id IS NOT NULL
    ORDER BY b.parent_id, b.created_at
),
a_leg AS (
    SELECT c.id, c.domain_id, c.queue_id, c.member_id, c.attempt_id, c.direction, c.destination,
           c.from_number, c.created_at, c.answered_at, c.bridged_at, c.hangup_at, c.cause,
           c.payload, c.amd_result, c.amd_ai_result,
           COALESCE(al.agent_id, c.agent_id) AS handled_by,
           COALESCE(al.team_id, c.team_id) AS handled_team,
           al.id AS agent_leg_id,
           COALESCE(al.created_at, c.created_at) AS offered_at,
           COALESCE(al.bridged_at, CASE WHEN c.agent_id IS NOT NULL THEN c.bridged_at END)
               AS agent_bridged_at,
           hashint8extended(c.attempt_id, $1::int8 + 40) & 2147483647 AS r
    FROM call_center.cc_calls_history c
    LEFT JOIN agent_leg al ON al.parent_id = c.id AND al.attempt_id = c.attempt_id
    WHERE c.parent_id IS NULL AND c.attempt_id IS NOT NULL
    OFFSET 0
),
outcome AS (
    SELECT a.*,
           CASE
               WHEN a.agent_bridged_at IS NOT NULL THEN 'success'
               WHEN a.cause IN ('NO_ANSWER', 'USER_BUSY', 'NORMAL_TEMPORARY_FAILURE') THEN 'failed'
               WHEN COALESCE(a.amd_result, a.amd_ai_result) IN ('MACHINE', 'machine') THEN 'cancel'
               ELSE 'abandoned'
           END AS result,
           CASE WHEN a.direction = 'outbound' THEN a.destination ELSE a.from_number END AS customer
    FROM a_leg a
    OFFSET 0
),
members AS (
    INSERT INTO call_center.cc_member (id, queue_id, domain_id, name, priority, variables,
                                       communications, attempts, stop_at, stop_cause,
                                       last_hangup_at, created_at)
    SELECT o.member_id::int4, o.queue_id, o.domain_id, COALESCE(o.payload ->> 'customer', ''),
           (o.r % 3)::int2,
           jsonb_build_object('order_id', o.payload ->> 'order_id', 'сегмент', 'роздріб'),
           jsonb_build_array(jsonb_build_object(
               'destination', o.customer, 'type', jsonb_build_object('id', 1), 'priority', 0,
               'attempts', 1, 'last_cause', o.cause)),
           1,
           CASE WHEN o.result IN ('success', 'cancel') THEN o.hangup_at END,
           CASE WHEN o.result IN ('success', 'cancel') THEN o.result END,
           COALESCE((extract(epoch FROM o.hangup_at) * 1000)::int8, 0),
           o.created_at - interval '1 day'
    FROM outcome o
    WHERE o.member_id IS NOT NULL
    RETURNING id
),
attempts AS (
    INSERT INTO call_center.cc_member_attempt_history (
        id, domain_id, queue_id, member_id, team_id, agent_id, channel, destination, display,
        seq, node_id, joined_at, offering_at, answered_at, bridged_at, leaving_at, reporting_at,
        result, description, member_call_id, agent_call_id, variables, form_fields)
    SELECT o.attempt_id, o.domain_id, o.queue_id, o.member_id, o.handled_team::int4, o.handled_by,
           'call',
           jsonb_build_object('destination', o.customer, 'type', jsonb_build_object('id', 1),
                              'name', o.payload ->> 'customer'),
           CASE WHEN o.direction = 'outbound' THEN '0800300' || o.domain_id END,
           1,
           'call-center-1',
           o.created_at + CASE WHEN o.direction = 'inbound' THEN interval '1 second' ELSE interval '0' END,
           CASE WHEN o.handled_by IS NOT NULL THEN o.offered_at END,
           o.answered_at,
           o.agent_bridged_at,
           COALESCE(o.hangup_at, o.created_at),
           CASE WHEN o.result = 'success'
                THEN COALESCE(o.hangup_at, o.created_at) + (5 + o.r % 40) * interval '1 second' END,
           o.result,
           CASE WHEN o.result = 'success' THEN
               (ARRAY[NULL, '  Клієнт задоволений, питання вирішено' || chr(10),
                      'Callback requested, "urgent"', 'Передзвонити завтра о 10:00', NULL])[1 + o.r % 5]
           END,
           o.id::text,
           o.agent_leg_id::text,
           CASE WHEN o.r % 4 = 0 THEN jsonb_build_object('survey', 'так', 'score', (o.r % 5 + 1)::text) END,
           CASE WHEN o.result = 'success' AND o.r % 3 = 0
                THEN jsonb_build_object('topic', (ARRAY['оплата', 'доставка', 'повернення'])[1 + o.r % 3]) END
    FROM outcome o
    RETURNING id
)
SELECT (SELECT count(*) FROM members) + (SELECT count(*) FROM attempts) AS "rows!"
