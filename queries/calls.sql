-- Call legs from call_center.cc_calls_history, one row per leg, with the derived columns of
-- Webitel's cc_calls_history_list view computed from the base table
-- and only the joins they need. Filters follow CallService.SearchHistoryCall; every
-- parameter is optional: NULL (or false for the flag parameters) means "not filtered".
--
--  $1 domain ids          $2/$3 created_at [from, to)   $4/$5 stored_at [from, to)
--  $6/$7 answered_at      $8 number regex               $9 q (ILIKE pattern)
--  $10 variables (jsonb text, containment)               $11 user ids   $12 owner ids
--  $13 agent ids          $14 queue ids     $15 team ids  $16 member ids $17 gateway ids
--  $18 contact ids        $19 grantee ids   $20 leg ids   $21 parent ids
--  $22 dependency ids     $23 top-level only (bool)       $24 has file (bool)
--  $25 causes             $26/$27 duration sec [min, max] $28/$29 talk sec [min, max]
--  $30 direction          $31 missed only (bool)          $32 tags
--  $33 amd results (aliases expanded by the caller)       $34 has transfer (bool)
--  $35/$36 a slice of the table's blocks, ctid in ['(from,0)', '(to,0)'), for exports read
--  in parallel over several connections sharing one snapshot (PostgreSQL 14+ TID range scan)
--
-- Webitel indexes the time columns only behind domain_id ((domain_id, stored_at) and
-- (domain_id, created_at)). A window without --domain therefore reads every domain the history
-- holds, found by a skip scan of that index (one probe per domain): a nightly one-day export
-- reads that day's rows, not the whole table.
-- --number is written as Webitel's trigram index cc_calls_history_sn_ops_idx2 is defined,
-- coalesce(search_number, destination || '|' || from_number || '|' || to_number), with built-in
-- operators only: the engine's call_center.cc_array_to_string is not marked parallel safe, and
-- naming it anywhere in the query would keep every calls export off parallel workers.
--@include parts/history_domains.sql
SELECT
    c.id::text                                   AS "id!",
    c.parent_id::text                            AS "parent_id?",
    c.bridged_id::text                           AS "bridged_id?",
    c.transfer_from::text                        AS "transfer_from?",
    -- A child leg without its own transfer_to points at the leg its parent was bridged to.
    (CASE
        WHEN c.parent_id IS NOT NULL AND c.transfer_to IS NULL AND c.id <> p.bridged_id
            THEN p.bridged_id
        ELSE c.transfer_to
    END)::text                                   AS "transfer_to?",
    c.blind_transfer::text                       AS "blind_transfer?",
    c.domain_id                                  AS "domain_id!",
    c.direction::text                            AS "direction?",
    c.from_type::text                            AS "from_type?",
    c.from_number::text                          AS "from_number?",
    c.from_name::text                            AS "from_name?",
    c.to_type::text                              AS "to_type?",
    c.to_number::text                            AS "to_number?",
    c.to_name::text                              AS "to_name?",
    c.destination::text                          AS "destination?",
    c.created_at                                 AS "created_at!",
    c.answered_at                                AS "answered_at?",
    c.bridged_at                                 AS "bridged_at?",
    c.hangup_at                                  AS "hangup_at?",
    c.stored_at                                  AS "stored_at!",
    d.duration_sec                               AS "duration_sec?",
    COALESCE(
        CASE WHEN c.answered_at IS NOT NULL
            THEN date_part('epoch', c.answered_at - c.created_at)::int8
            ELSE d.duration_sec
        END, 0)                                  AS "wait_sec!",
    (CASE WHEN c.answered_at IS NOT NULL
        THEN date_part('epoch', c.hangup_at - c.answered_at)::int8
        ELSE 0
    END)                                         AS "bill_sec?",
    c.talk_sec                                   AS "talk_sec!",
    COALESCE(c.hold_sec, 0)                      AS "hold_sec!",
    c.cause::text                                AS "cause?",
    c.sip_code                                   AS "sip_code?",
    c.hangup_by::text                            AS "hangup_by?",
    --@include parts/hangup_disposition.sql
                                                 AS "hangup_disposition!",
    -- The leg's own user, else the user of the agent that handled the attempt (as the UI does).
    COALESCE(u.id, agent_user.id)                AS "user_id?",
    COALESCE(u.name, u.username::text, agent_user.name, agent_user.username::text) AS "user_name?",
    -- Agent and team come from the attempt, not from the leg's agent_id/team_id columns.
    a.id                                         AS "agent_id?",
    COALESCE(agent_user.name, agent_user.username::text) AS "agent_name?",
    t.id                                         AS "team_id?",
    t.name::text                                 AS "team_name?",
    c.queue_id                                   AS "queue_id?",
    q.name::text                                 AS "queue_name?",
    q.type::int4                                 AS "queue_type?",
    c.member_id                                  AS "member_id?",
    c.attempt_id                                 AS "attempt_id?",
    att.result::text                             AS "attempt_result?",
    c.gateway_id                                 AS "gateway_id?",
    gw.name::text                                AS "gateway_name?",
    c.tags::text[]                               AS "tags?",
    COALESCE(c.amd_result, c.amd_ai_result/*v22.12|NULL::varchar*/)::text AS "amd_result?",
    c.payload::text                              AS "variables?",
    EXISTS (
        SELECT 1 FROM call_center.cc_calls_history child
        WHERE (c.parent_id IS NULL OR c.blind_transfer IS NOT NULL)
          AND child.parent_id = c.id
    )                                            AS "has_children!",
    rec.file_ids                                 AS "recording_file_ids?",
    (CASE
        WHEN att.bridged_at IS NOT NULL THEN date_part('epoch', att.bridged_at - att.joined_at)
        ELSE date_part('epoch', att.leaving_at - att.joined_at)
    END)::int4                                   AS "queue_wait_sec?",
    NULLIF(regexp_replace(att.description::text, '^[\r\n\t ]*|[\r\n\t ]*$', '', 'g'), '')
                                                 AS "agent_description?"
FROM call_center.cc_calls_history c
LEFT JOIN call_center.cc_calls_history p ON p.id = c.parent_id AND p.domain_id = c.domain_id
LEFT JOIN call_center.cc_queue q ON q.id = c.queue_id
LEFT JOIN call_center.cc_member_attempt_history att ON att.id = c.attempt_id
LEFT JOIN call_center.cc_agent a ON a.id = att.agent_id
LEFT JOIN directory.wbt_user agent_user ON agent_user.id = a.user_id
LEFT JOIN call_center.cc_team t ON t.id = a.team_id
LEFT JOIN directory.wbt_user u ON u.id = c.user_id
LEFT JOIN directory.sip_gateway gw ON gw.id = c.gateway_id
CROSS JOIN LATERAL (
    SELECT date_part('epoch', c.hangup_at - c.created_at)::int8 AS duration_sec
) d
--@include parts/leg_recordings.sql
WHERE true
  --@include parts/history_domain_scan.sql
  --@include parts/calls_filter.sql
  AND ($35::text IS NULL OR c.ctid >= $35::text::tid)
  AND ($36::text IS NULL OR c.ctid < $36::text::tid)
