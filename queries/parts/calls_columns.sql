-- The columns of a call leg `c` (calls.sql and calls_bulk.sql): the base table's columns and
-- the derived ones, from the joins of `calls_joins.sql`, the recordings lateral `rec`
-- (file_ids) and `kids` (has_children), which each shape computes its own way.
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
    kids.has_children                            AS "has_children!",
    rec.file_ids                                 AS "recording_file_ids?",
    (CASE
        WHEN att.bridged_at IS NOT NULL THEN date_part('epoch', att.bridged_at - att.joined_at)
        ELSE date_part('epoch', att.leaving_at - att.joined_at)
    END)::int4                                   AS "queue_wait_sec?",
    NULLIF(regexp_replace(att.description::text, '^[\r\n\t ]*|[\r\n\t ]*$', '', 'g'), '')
                                                 AS "agent_description?"
