-- Agents (call_center.cc_agent) with their user, team, region and skills; display name as
-- Webitel's views compute it: coalesce(wbt_user.name, wbt_user.username).
-- Parameters (NULL = any): $1 domain ids  $2 name pattern (ILIKE on name or username)
--  $3 agent ids  $4 team ids  $5 statuses  $6 supervisors only (bool)
SELECT
    a.id                                         AS "id!",
    a.user_id                                    AS "user_id!",
    a.domain_id                                  AS "domain_id!",
    COALESCE(u.name, u.username::text)           AS "name?",
    u.username::text                             AS "username?",
    u.extension::text                            AS "extension?",
    a.status::text                               AS "status!",
    a.status_payload::text                       AS "pause_cause?",
    a.last_state_change                          AS "last_state_change!",
    a.team_id                                    AS "team_id?",
    t.name::text                                 AS "team_name?",
    a.supervisor                                 AS "supervisor!",
    a.supervisor_ids                             AS "supervisor_ids?",
    (SELECT jsonb_agg(jsonb_build_object('skill_id', s.id, 'skill', s.name,
                                         'capacity', sa.capacity, 'enabled', sa.enabled)
                      ORDER BY s.name, s.id)::text
     FROM call_center.cc_skill_in_agent sa
     JOIN call_center.cc_skill s ON s.id = sa.skill_id
     WHERE sa.agent_id = a.id)                   AS "skills?",
    a.allow_channels::text[]                     AS "allow_channels?",
    a.description::text                          AS "description!",
    a.region_id                                  AS "region_id?",
    r.name::text                                 AS "region_name?"
FROM call_center.cc_agent a
LEFT JOIN directory.wbt_user u ON u.id = a.user_id
LEFT JOIN call_center.cc_team t ON t.id = a.team_id
LEFT JOIN flow.region r ON r.id = a.region_id
WHERE ($1::int8[] IS NULL OR a.domain_id = ANY ($1))
  AND ($2::text IS NULL OR u.name ILIKE $2 OR u.username::text ILIKE $2)
  AND ($3::int4[] IS NULL OR a.id = ANY ($3))
  AND ($4::int8[] IS NULL OR a.team_id = ANY ($4))
  AND ($5::text[] IS NULL OR a.status = ANY ($5))
  AND (NOT $6::bool OR a.supervisor)
ORDER BY a.domain_id, a.id
