-- Demo data, part 2: call legs. $1 seed, $2 number of call families, $3 exact number of legs.
--
-- Each family f is one customer interaction of a kind drawn from its hash:
--   1 inbound queue call answered by an agent (A-leg + agent leg, bridged, hold, recording)
--   2 inbound queue call abandoned while an agent's phone rang (agent leg missed)
--   3 manual outbound call from a user through a gateway (answered, busy, no answer)
--   4 dialer call (progressive/predictive): AMD, connected to an agent or not
--   5 preview / callback call placed by an agent for a member
--   6 internal call user → user (answered, missed, hidden missed)
--   7 attended transfer: agent 1 consults agent 2, then transfers (three legs)
--   8 blind transfer to another extension (three legs)
-- Everything derives from hashint8extended(f, seed + k): same seed, same rows. Legs are
-- produced in (family, leg) order, so LIMIT $3 cuts deterministically. Each stage ends with
-- OFFSET 0: it keeps the planner from inlining the stage, which would recompute every derived
-- value (md5 ids, hashes, CASEs) once per reference instead of once per row.
WITH fam AS (
    SELECT f, dc, kind, outcome, k1, k2, r,
           dc * 1000 + k1 AS agent1, dc * 1000 + k2 AS agent2,
           dc * 10 + k1 % 3 + 1 AS team1, dc * 10 + k2 % 3 + 1 AS team2,
           CASE WHEN r % 5 = 0 THEN '0' ELSE '+380' END
               || lpad(((r >> 8) % 1000000000)::text, 9, '0') AS customer,
           dc * 10 + 1 + r % 2 AS queue_in,
           dc * 10 + 5 + (r >> 3) % 2 AS queue_dialer,
           dc * 10 + 3 + (r >> 4) % 2 AS queue_preview,
           dc * 10 + 1 + (r >> 5) % 2 AS gateway,
           3 + (r >> 6) % 60 AS wait,
           15 + (r >> 12) % 600 AS talk,
           2 + (r >> 20) % 7 AS ring,
           CASE WHEN (r >> 24) % 10 < 3 THEN 5 + (r >> 28) % 90 ELSE 0 END AS hold,
           CASE WHEN (r >> 32) % 2 = 0 THEN 'A' ELSE 'B' END AS side,
           timestamptz '2026-09-01 06:00:00+00'
               + (f::float8 / $2::int8) * interval '30 days'
               + ((r >> 36) % 600) * interval '1 second' AS t0,
           md5(concat($1::int8, '-', f, '-1'))::uuid AS id1,
           md5(concat($1::int8, '-', f, '-2'))::uuid AS id2,
           md5(concat($1::int8, '-', f, '-3'))::uuid AS id3
    FROM (
        SELECT f,
               1 + (hashint8extended(f, $1::int8) & 2147483647) % 3 AS dc,
               CASE
                   WHEN roll < 30 THEN 1 WHEN roll < 40 THEN 2 WHEN roll < 55 THEN 3
                   WHEN roll < 75 THEN 4 WHEN roll < 80 THEN 5 WHEN roll < 88 THEN 6
                   WHEN roll < 95 THEN 7 ELSE 8
               END AS kind,
               (hashint8extended(f, $1::int8 + 2) & 2147483647) % 100 AS outcome,
               1 + (hashint8extended(f, $1::int8 + 3) & 2147483647) % 30 AS k1,
               1 + (hashint8extended(f, $1::int8 + 4) & 2147483647) % 29 AS k_shift,
               hashint8extended(f, $1::int8 + 5) & 9223372036854775807 AS r
        FROM (
            SELECT f, (hashint8extended(f, $1::int8 + 1) & 2147483647) % 100 AS roll
            FROM generate_series(1::int8, $2::int8) AS f
        ) rolled
    ) drawn0
    -- k_shift is 1..29, so the second agent always differs from the first.
    CROSS JOIN LATERAL (SELECT 1 + (k1 - 1 + k_shift) % 30 AS k2) second
    OFFSET 0
),
shaped AS (
    -- Per family: whether the customer side was answered/bridged and how many legs exist.
    SELECT fam.*,
           CASE kind
               WHEN 3 THEN outcome < 70
               WHEN 4 THEN outcome < 55 OR outcome BETWEEN 80 AND 94
               WHEN 5 THEN outcome < 65
               WHEN 6 THEN outcome < 75
               ELSE true
           END AS answered,
           CASE kind
               WHEN 1 THEN 2 WHEN 2 THEN 2 WHEN 3 THEN 1
               WHEN 4 THEN CASE WHEN outcome < 55 THEN 2 ELSE 1 END
               WHEN 5 THEN 1 WHEN 6 THEN 2 ELSE 3
           END AS legs
    FROM fam
    OFFSET 0
),
leg AS (
    SELECT s.*, n,
           CASE n WHEN 1 THEN id1 WHEN 2 THEN id2 ELSE id3 END AS id,
           -- Who is on the far end of this leg: 0 customer, 1 agent 1, 2 agent 2.
           CASE
               WHEN n = 1 AND kind IN (3, 5, 6) THEN 1
               WHEN n = 1 THEN 0
               WHEN n = 2 AND kind = 6 THEN 2
               WHEN n = 2 THEN 1
               ELSE 2
           END AS party,
           -- Leg timing, relative to t0, in seconds (NULL = never happened).
           CASE
               WHEN n = 1 THEN 0
               WHEN kind = 1 THEN wait - ring
               WHEN kind = 2 THEN 2
               WHEN kind = 4 THEN ring + 1
               WHEN kind = 6 THEN 0
               WHEN kind = 7 AND n = 2 THEN wait - ring
               WHEN kind = 7 THEN wait + talk / 2 - 10
               WHEN kind = 8 AND n = 2 THEN wait - ring
               ELSE wait + talk / 3 + 2
           END AS start_s
    FROM shaped s
    CROSS JOIN LATERAL generate_series(1, s.legs) AS n
    OFFSET 0
),
timed AS (
    SELECT leg.*,
           CASE
               WHEN kind IN (1, 2, 7, 8) AND n = 1 THEN 1                  -- the queue answers
               WHEN kind IN (1, 7, 8) AND n = 2 THEN wait
               WHEN kind = 7 THEN wait + talk / 2 - 5
               WHEN kind = 8 THEN wait + talk / 3 + 4
               WHEN kind = 2 THEN NULL                                    -- the agent never answered
               WHEN kind = 4 AND n = 2 THEN ring + 2
               WHEN answered THEN ring
           END AS answer_s,
           CASE
               WHEN kind IN (1, 7, 8) AND n = 1 THEN wait
               WHEN kind IN (1, 7, 8) THEN
                   CASE n WHEN 2 THEN wait WHEN 3 THEN
                       CASE kind WHEN 7 THEN wait + talk / 2 ELSE wait + talk / 3 + 4 END END
               WHEN kind = 4 AND outcome < 55 THEN ring + 2
               WHEN kind IN (3, 5) AND answered THEN ring
               WHEN kind = 6 AND answered THEN ring
           END AS bridge_s,
           CASE
               WHEN kind = 2 THEN wait
               WHEN kind = 3 AND NOT answered THEN CASE WHEN outcome < 85 THEN 30 ELSE 3 END
               WHEN kind = 4 AND outcome BETWEEN 55 AND 79 THEN CASE WHEN outcome < 70 THEN 30 ELSE 3 END
               WHEN kind = 4 AND outcome BETWEEN 80 AND 89 THEN ring + 5               -- machine
               WHEN kind = 4 AND outcome BETWEEN 90 AND 94 THEN ring + 8               -- abandoned
               WHEN kind = 4 AND outcome >= 95 THEN 1                                  -- failed
               WHEN kind = 4 THEN ring + 2 + talk
               WHEN kind IN (5, 6) AND NOT answered THEN 20
               WHEN kind IN (3, 5, 6) THEN ring + talk
               WHEN kind = 7 AND n = 2 THEN wait + talk / 2
               WHEN kind = 8 AND n = 2 THEN wait + talk / 3
               ELSE wait + talk
           END AS hangup_s
    FROM leg
    OFFSET 0
)
INSERT INTO call_center.cc_calls_history (
    id, domain_id, parent_id, bridged_id, transfer_from, transfer_to, blind_transfer, app_id,
    direction, destination, from_type, from_name, from_number, from_id, to_type, to_name,
    to_number, to_id, search_number, created_at, answered_at, bridged_at, hangup_at, stored_at,
    hold_sec, hold, talk_sec, cause, sip_code, hangup_by, user_id, user_ids, agent_id, agent_ids,
    queue_id, queue_ids, team_id, team_ids, gateway_id, gateway_ids, member_id, attempt_id,
    payload, params, tags, amd_result, amd_ai_result, hide_missed
)
SELECT
    t.id,
    t.dc,
    CASE WHEN t.n > 1 THEN t.id1 END,
    CASE
        WHEN t.bridge_s IS NULL THEN NULL
        WHEN t.n = 1 AND t.legs = 1 THEN NULL                     -- bridged to the gateway side
        WHEN t.n = 1 THEN CASE WHEN t.kind IN (7, 8) THEN t.id3 ELSE t.id2 END
        ELSE t.id1
    END,
    CASE WHEN t.kind = 7 AND t.n = 3 THEN t.id2 END,
    CASE WHEN t.kind = 7 AND t.n = 2 THEN t.id3 END,
    CASE WHEN t.kind = 8 AND t.n = 1 THEN (1000 + t.k2)::text END,
    'fs-node-' || (1 + t.f % 2),
    CASE WHEN (t.n = 1 AND t.kind IN (1, 2, 7, 8)) OR (t.n = 2 AND t.kind = 6)
         THEN 'inbound' ELSE 'outbound' END,
    CASE
        WHEN t.kind IN (1, 2, 7, 8) THEN '0800300' || t.dc
        WHEN t.kind = 6 THEN (1000 + t.k2)::text
        ELSE t.customer
    END,
    -- from: the customer on inbound legs, the calling user otherwise
    CASE WHEN t.kind IN (1, 2, 4, 7, 8) THEN 'dest' ELSE 'user' END,
    CASE WHEN t.kind IN (1, 2, 4, 7, 8) THEN t.customer ELSE 'Агент ' || t.k1 END,
    CASE WHEN t.kind IN (1, 2, 4, 7, 8) THEN t.customer ELSE (1000 + t.k1)::text END,
    CASE WHEN t.kind IN (1, 2, 4, 7, 8) THEN NULL ELSE (t.dc * 1000 + t.k1)::text END,
    CASE WHEN t.party = 0 AND t.kind IN (1, 2, 7, 8) THEN 'queue'
         WHEN t.party = 0 THEN 'dest'
         WHEN t.kind IN (3, 5) THEN 'dest'
         ELSE 'user' END,
    CASE WHEN t.party = 2 THEN 'Агент ' || t.k2 WHEN t.party = 1 AND t.kind NOT IN (3, 5)
         THEN 'Агент ' || t.k1 END,
    CASE
        WHEN t.kind IN (3, 5) THEN t.customer
        WHEN t.party = 0 AND t.kind = 4 THEN t.customer
        WHEN t.party = 0 THEN '0800300' || t.dc
        WHEN t.party = 1 THEN (1000 + t.k1)::text
        ELSE (1000 + t.k2)::text
    END,
    CASE WHEN t.party = 1 AND t.kind NOT IN (3, 5) THEN (t.dc * 1000 + t.k1)::text
         WHEN t.party = 2 THEN (t.dc * 1000 + t.k2)::text END,
    concat_ws('|', t.customer, (1000 + t.k1)::text,
              CASE WHEN t.kind IN (6, 7, 8) THEN (1000 + t.k2)::text END),
    t.t0 + t.start_s * interval '1 second',
    t.t0 + t.answer_s * interval '1 second',
    t.t0 + t.bridge_s * interval '1 second',
    -- A few force-closed manual calls never got a hangup time.
    CASE WHEN t.kind = 3 AND t.outcome = 99 THEN NULL
         ELSE t.t0 + (t.start_s + greatest(t.hangup_s - t.start_s, 0)) * interval '1 second' END,
    t.t0 + (t.hangup_s + 1 + t.r % 30 + CASE WHEN t.n > 1 THEN 1 ELSE 0 END) * interval '1 second',
    CASE WHEN t.party = 1 AND t.bridge_s IS NOT NULL THEN t.hold ELSE 0 END,
    CASE WHEN t.party = 1 AND t.bridge_s IS NOT NULL AND t.hold > 0 THEN
        jsonb_build_array(jsonb_build_object(
            'start', (extract(epoch FROM t.t0) * 1000)::int8 + (t.bridge_s + 10) * 1000,
            'finish', (extract(epoch FROM t.t0) * 1000)::int8 + (t.bridge_s + 10 + t.hold) * 1000,
            'sec', t.hold))
    END,
    CASE WHEN t.bridge_s IS NOT NULL THEN greatest(t.hangup_s - t.bridge_s, 0) ELSE 0 END,
    CASE
        WHEN t.kind = 3 AND t.outcome = 99 THEN 'MEDIA_TIMEOUT'
        WHEN t.kind = 2 AND t.n = 2 THEN 'ORIGINATOR_CANCEL'
        WHEN t.kind IN (3, 4, 5, 6) AND NOT t.answered THEN
            CASE WHEN t.kind = 4 AND t.outcome >= 95 THEN 'NORMAL_TEMPORARY_FAILURE'
                 WHEN t.outcome % 2 = 0 OR t.kind = 6 THEN 'NO_ANSWER' ELSE 'USER_BUSY' END
        WHEN t.kind = 6 AND t.n = 1 AND NOT t.answered THEN 'NO_ANSWER'
        ELSE 'NORMAL_CLEARING'
    END,
    CASE
        WHEN t.kind = 3 AND t.outcome = 99 THEN 604
        WHEN t.kind = 2 AND t.n = 2 THEN 487
        WHEN t.kind = 4 AND t.outcome >= 95 THEN 503
        WHEN t.kind IN (3, 4, 5, 6) AND NOT t.answered THEN
            CASE WHEN t.outcome % 2 = 0 OR t.kind = 6 THEN 480 ELSE 486 END
        ELSE 200
    END,
    CASE WHEN t.kind = 3 AND t.outcome = 99 THEN 'service'
         WHEN t.kind = 4 AND t.outcome BETWEEN 80 AND 89 THEN 'F'
         ELSE t.side END,
    -- The user of this leg: the agent/user on the far end, or the calling user.
    CASE WHEN t.party = 1 THEN t.dc * 1000 + t.k1 WHEN t.party = 2 THEN t.dc * 1000 + t.k2 END,
    CASE
        WHEN t.n > 1 THEN ARRAY[CASE WHEN t.party = 2 THEN t.agent2 ELSE t.agent1 END]::int8[]
        WHEN t.kind IN (6, 7, 8) THEN ARRAY[t.agent1, t.agent2]::int8[]
        WHEN t.legs > 1 OR t.kind IN (3, 5) THEN ARRAY[t.agent1]::int8[]
    END,
    CASE WHEN t.party = 1 AND t.kind NOT IN (3, 6) THEN t.agent1
         WHEN t.party = 2 AND t.kind IN (7, 8) THEN t.agent2 END,
    CASE
        WHEN t.kind IN (3, 6) THEN NULL
        WHEN t.n > 1 THEN ARRAY[CASE WHEN t.party = 2 THEN t.agent2 ELSE t.agent1 END]
        WHEN t.kind IN (7, 8) THEN ARRAY[t.agent1, t.agent2]
        WHEN t.legs > 1 OR t.kind = 5 THEN ARRAY[t.agent1]
    END,
    CASE WHEN t.kind IN (1, 2, 7, 8) THEN t.queue_in WHEN t.kind = 4 THEN t.queue_dialer
         WHEN t.kind = 5 THEN t.queue_preview END,
    CASE WHEN t.kind IN (1, 2, 7, 8) THEN ARRAY[t.queue_in] WHEN t.kind = 4 THEN ARRAY[t.queue_dialer]
         WHEN t.kind = 5 THEN ARRAY[t.queue_preview] END,
    CASE WHEN t.party = 1 AND t.kind NOT IN (3, 6) THEN t.team1
         WHEN t.party = 2 AND t.kind IN (7, 8) THEN t.team2 END,
    CASE WHEN t.kind IN (3, 6) THEN NULL
         WHEN t.kind IN (7, 8) AND t.n = 1 THEN ARRAY[t.team1, t.team2]
         WHEN t.party = 2 THEN ARRAY[t.team2]
         WHEN t.legs > 1 OR t.kind = 5 THEN ARRAY[t.team1] END,
    CASE WHEN t.n = 1 AND t.kind <> 6 THEN t.gateway END,
    CASE WHEN t.n = 1 AND t.kind <> 6 THEN ARRAY[t.gateway]::int8[] END,
    CASE WHEN t.kind IN (4, 5) THEN t.f END,
    CASE WHEN t.kind IN (1, 2, 4, 5, 7, 8) THEN t.f END,
    CASE WHEN t.n = 1 THEN jsonb_build_object(
        'lang', (ARRAY['uk', 'uk', 'en', 'pl'])[1 + t.r % 4],
        'city', (ARRAY['Київ', 'Львів', 'Одеса', 'Харків', 'Дніпро'])[1 + (t.r >> 2) % 5],
        'customer', (ARRAY['Галина Шевчук', 'Тарас Мельничук', 'Ірина "Іра" Бондар',
                           'Сергій, Ткаченко', 'Наталка Кравчук'])[1 + (t.r >> 4) % 5],
        'order_id', 'ORD-' || t.f)
    END,
    CASE WHEN t.bridge_s IS NOT NULL AND t.n = 1 THEN jsonb_build_object(
        'sip_id', t.id1::text || '@' || 'sip.example.net',
        'record_start', (extract(epoch FROM t.t0) * 1000)::int8 + t.bridge_s * 1000,
        'record_stop', (extract(epoch FROM t.t0) * 1000)::int8 + t.hangup_s * 1000)
    END,
    CASE WHEN t.n = 1 THEN
        CASE (t.r >> 10) % 6
            WHEN 3 THEN ARRAY['vip'] WHEN 4 THEN ARRAY['complaint', 'vip'] WHEN 5 THEN ARRAY['скарга']
        END::varchar[]
    END,
    CASE WHEN t.kind = 4 AND t.n = 1 AND t.answered AND t.r % 3 <> 0 THEN
        CASE WHEN t.outcome BETWEEN 80 AND 89 THEN 'MACHINE'
             WHEN t.outcome BETWEEN 50 AND 54 THEN 'NOTSURE' ELSE 'HUMAN' END
    END,
    CASE WHEN t.kind = 4 AND t.n = 1 AND t.answered AND t.r % 3 = 0 THEN
        CASE WHEN t.outcome BETWEEN 80 AND 89 THEN 'machine' ELSE 'human' END
    END,
    CASE WHEN t.kind = 6 AND t.n = 2 AND t.outcome >= 95 THEN true END
FROM timed t
LIMIT $3::int8
