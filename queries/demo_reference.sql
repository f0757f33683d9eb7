-- Demo data, part 1: the reference rows of three Webitel domains (tenants): users, SIP
-- gateways, teams, agents, pause causes, queues of every dialer type, storage profiles.
-- Ids are derived from the domain (dc * 1000 + n for users and agents, dc * 10 + n for the
-- rest) so the call generator can refer to them without lookups. Config tables keep
-- created_at/updated_at as epoch milliseconds, as Webitel does.
WITH
domains AS (
    INSERT INTO directory.wbt_domain (dc, name, organization, timezone_id)
    VALUES (1, 'kyiv.example.com', 'ТОВ «Київ Контакт»', 1),
           (2, 'lviv.example.com', 'Lviv Service Desk', 1),
           (3, 'odesa.example.com', 'Одеса Продажі', 1)
    RETURNING dc
),
users AS (
    INSERT INTO directory.wbt_user (id, dc, name, username, extension, email, dnd)
    SELECT dc * 1000 + k,
           dc,
           (ARRAY['Олена Шевченко', 'Андрій Мельник', 'Ірина Бондаренко', 'Сергій Ткаченко',
                  'Наталія Кравець', 'Богдан Олійник', 'Maria Nowak', 'John "Johnny" Smith',
                  'Оксана Коваль', 'Дмитро Лисенко'])[1 + k % 10] || ' ' || k,
           'user' || k,
           (1000 + k)::text,
           'user' || k || '@' || dc || '.example.com',
           false
    FROM generate_series(1, 3) AS dc, generate_series(1, 40) AS k
    RETURNING id
),
gateways AS (
    INSERT INTO directory.sip_gateway (id, dc, name, host, register, enable, created_at, updated_at)
    SELECT dc * 10 + g, dc,
           (ARRAY['Kyivstar SIP', 'lifecell, trunk 2'])[g],
           'sip' || g || '.carrier.example.net', g = 1, true,
           1756684800000, 1756684800000
    FROM generate_series(1, 3) AS dc, generate_series(1, 2) AS g
    RETURNING id
),
teams AS (
    INSERT INTO call_center.cc_team (id, domain_id, name, strategy, wrap_up_time, created_at, updated_at)
    SELECT dc * 10 + t, dc,
           (ARRAY['Підтримка', 'Sales', 'Retention'])[t],
           'longest-idle-time', 10, 1756684800000, 1756684800000
    FROM generate_series(1, 3) AS dc, generate_series(1, 3) AS t
    RETURNING id
),
agents AS (
    -- Users 1–30 of each domain are agents, in teams by k % 3.
    INSERT INTO call_center.cc_agent (id, user_id, domain_id, status, status_payload,
                                      last_state_change, team_id, region_id, supervisor,
                                      supervisor_ids, allow_channels, created_at, updated_at)
    SELECT dc * 1000 + k, dc * 1000 + k, dc,
           (ARRAY['online', 'offline', 'pause'])[1 + k % 3],
           CASE WHEN k % 3 = 2 THEN 'Обід' END,
           timestamptz '2026-10-01 08:00:00+00',
           dc * 10 + k % 3 + 1,
           dc,
           k <= 2,
           CASE WHEN k > 2 THEN ARRAY[dc * 1000 + 1 + k % 2] END,
           CASE WHEN k % 4 = 0 THEN ARRAY['call', 'chat']::varchar[] ELSE ARRAY['call']::varchar[] END,
           1756684800000, 1756684800000
    FROM generate_series(1, 3) AS dc, generate_series(1, 30) AS k
    RETURNING id
),
pause_causes AS (
    INSERT INTO call_center.cc_pause_cause (domain_id, name, description, limit_min,
                                            allow_agent, allow_supervisor, allow_admin,
                                            created_at, updated_at)
    SELECT dc, cause, '', 15, true, true, true,
           timestamptz '2025-09-01 00:00:00+00', timestamptz '2025-09-01 00:00:00+00'
    FROM generate_series(1, 3) AS dc, unnest(ARRAY['Обід', 'Coffee break', 'Навчання']) AS cause
    RETURNING id
),
queues AS (
    -- Per domain: 1–2 inbound, 3 offline (callbacks), 4 preview, 5 progressive, 6 predictive.
    INSERT INTO call_center.cc_queue (id, domain_id, name, type, strategy, enabled, priority,
                                      team_id, calendar_id, payload, variables, description,
                                      processing, processing_sec, created_at, updated_at)
    SELECT dc * 10 + q, dc,
           (ARRAY['Підтримка 0800', 'Sales inbound', 'Зворотний дзвінок', 'Preview: VIP',
                  'Progressive: борг', 'Predictive: акція'])[q],
           (ARRAY[1, 1, 0, 3, 4, 5])[q],
           (ARRAY['fifo', 'fifo', 'lifo', 'fifo', 'strict_fifo', 'fifo'])[q],
           true, q,
           dc * 10 + (q % 3) + 1,
           dc,
           jsonb_build_object('max_attempts', 3, 'wait_between_retries', 600),
           jsonb_build_object('campaign', 'осінь-2026'),
           '',
           q >= 3, 30,
           1756684800000, 1756684800000
    FROM generate_series(1, 3) AS dc, generate_series(1, 6) AS q
    RETURNING id
),
calendars AS (
    INSERT INTO flow.calendar (id, domain_id, name, timezone_id, description, created_at, updated_at)
    SELECT dc, dc, (ARRAY['Робочі години', 'Business hours', '24/7'])[dc], 1, '',
           1756684800000, 1756684800000
    FROM generate_series(1, 3) AS dc
    RETURNING id
),
regions AS (
    INSERT INTO flow.region (id, domain_id, name, timezone_id)
    SELECT dc, dc, (ARRAY['Київ', 'Львів', 'Одеса'])[dc], 1
    FROM generate_series(1, 3) AS dc
    RETURNING id
),
skills AS (
    INSERT INTO call_center.cc_skill (id, domain_id, name)
    SELECT dc * 10 + n, dc, (ARRAY['Українська', 'English', 'Продажі'])[n]
    FROM generate_series(1, 3) AS dc, generate_series(1, 3) AS n
    RETURNING id
),
agent_skills AS (
    -- Every agent speaks Ukrainian; every other one English too, at a lower capacity.
    INSERT INTO call_center.cc_skill_in_agent (skill_id, agent_id, capacity, enabled, created_at, updated_at)
    SELECT dc * 10 + n, dc * 1000 + k, (100 - 30 * (n - 1))::int2, true, 1756684800000, 1756684800000
    FROM generate_series(1, 3) AS dc, generate_series(1, 30) AS k, generate_series(1, 2) AS n
    WHERE n = 1 OR k % 2 = 0
    RETURNING id
),
profiles AS (
    INSERT INTO storage.file_backend_profiles (id, domain_id, name, type, properties, priority,
                                               disabled, created_at, updated_at)
    SELECT dc * 10 + p, dc,
           (ARRAY['local disk', 'S3 archive'])[p],
           (ARRAY['local', 's3'])[p],
           CASE p
               WHEN 1 THEN jsonb_build_object('directory', '/var/lib/webitel/storage')
               ELSE jsonb_build_object('bucket_name', 'webitel-rec-' || dc, 'region', 'eu-central-1',
                                       'endpoint', 's3.example.net', 'key_id', 'DEMOKEY',
                                       'access_key', 'demo-secret-not-real')
           END,
           p, false, 1756684800000, 1756684800000
    FROM generate_series(1, 3) AS dc, generate_series(1, 2) AS p
    RETURNING id
)
SELECT (SELECT count(*) FROM domains) + (SELECT count(*) FROM users) + (SELECT count(*) FROM gateways)
     + (SELECT count(*) FROM teams) + (SELECT count(*) FROM agents) + (SELECT count(*) FROM pause_causes)
     + (SELECT count(*) FROM queues) + (SELECT count(*) FROM profiles)
     + (SELECT count(*) FROM calendars) + (SELECT count(*) FROM regions)
     + (SELECT count(*) FROM skills) + (SELECT count(*) FROM agent_skills) AS "rows!"
