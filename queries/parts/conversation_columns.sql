-- A conversation's columns up to final_cause, from its root `c`, `fam` and the first-leg CTEs;
-- each shape adds qa_score, has_transcript, recording_file_ids and mos_min.
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
    -- (Counted only where a leg has transfer_to: array_agg leaves NULL where none has.)
    (fam.blind_transfers
     + CASE WHEN fam.transfer_targets IS NULL THEN 0
            ELSE (SELECT count(*) FROM unnest(fam.transfer_targets) t
                  WHERE t <> ALL (fam.transferring_ids)) END)::int8 AS "transfers!",
    fam.redials                                  AS "redials!",
    (answer.bridged_at IS NOT NULL)              AS "answered!",
    (answer.bridged_at IS NULL AND c.direction = 'inbound'
     AND c.hide_missed/*v24.02|NULL::bool*/ IS NOT TRUE) AS "missed!",
    --@include parts/hangup_disposition.sql
                                                 AS "disposition!",
    last_leg.cause::text                         AS "final_cause?",
