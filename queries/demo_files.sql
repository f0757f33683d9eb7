-- Demo data, part 4: recordings of answered calls in storage.files (local, S3 and the
-- default store), a few removed or encrypted, plus annotations on some calls. $1 seed.
-- A recording's uuid is the A-leg id, so child legs find it through their parent.
WITH recorded AS (
    SELECT c.id, c.domain_id, c.created_at, c.bridged_at, c.hangup_at, c.talk_sec,
           hashint8extended(c.created_at_ms, $1::int8 + 50) & 2147483647 AS r
    FROM (
        SELECT h.*, (extract(epoch FROM h.created_at) * 1000)::int8 AS created_at_ms
        FROM call_center.cc_calls_history h
        WHERE h.parent_id IS NULL AND h.bridged_at IS NOT NULL AND h.hangup_at IS NOT NULL
    ) c
    OFFSET 0
),
files AS (
    INSERT INTO storage.files (domain_id, uuid, name, view_name, size, mime_type, channel,
                               profile_id, properties, instance, created_at, removed,
                               not_exists, sha256sum, uploaded_by)
    SELECT r.domain_id,
           r.id::text,
           r.id::text || '_' || fmt.view_name,
           fmt.view_name,
           44 + r.talk_sec * fmt.bytes_per_sec,
           fmt.mime,
           'call',
           store.profile_id,
           CASE
               WHEN store.profile_id IS NULL OR store.kind = 1 THEN
                   jsonb_build_object('directory', (SELECT d.name FROM directory.wbt_domain d WHERE d.dc = r.domain_id)
                                                  || to_char(r.hangup_at AT TIME ZONE 'UTC', '/YYYY/MM/DD'))
               ELSE jsonb_build_object('location', 'recordings/' || r.domain_id
                                       || to_char(r.hangup_at AT TIME ZONE 'UTC', '/YYYY/MM/DD/')
                                       || r.id::text || '_' || fmt.view_name)
           END || CASE WHEN r.r % 50 = 7 THEN jsonb_build_object('encrypted', true) ELSE '{}'::jsonb END,
           'storage-1',
           (extract(epoch FROM r.hangup_at) * 1000)::int8 + 1500,
           CASE WHEN r.r % 50 = 3 THEN true END,
           CASE WHEN r.r % 200 = 11 THEN true END,
           encode(sha256(convert_to(r.id::text, 'UTF8')), 'hex'),
           NULL
    FROM recorded r
    CROSS JOIN LATERAL (
        SELECT CASE WHEN r.r % 4 = 0 THEN 'record.wav' ELSE 'record.mp3' END AS view_name,
               CASE WHEN r.r % 4 = 0 THEN 'audio/wav' ELSE 'audio/mpeg' END AS mime,
               CASE WHEN r.r % 4 = 0 THEN 16000 ELSE 4000 END AS bytes_per_sec
    ) fmt
    CROSS JOIN LATERAL (
        SELECT CASE WHEN r.r % 10 = 0 THEN NULL
                    ELSE r.domain_id * 10 + CASE WHEN r.r % 10 < 6 THEN 1 ELSE 2 END END::int4 AS profile_id,
               CASE WHEN r.r % 10 < 6 THEN 1 ELSE 2 END AS kind
    ) store
    RETURNING id
),
notes AS (
    INSERT INTO call_center.cc_calls_annotation (call_id, note, start_sec, end_sec, created_at,
                                                 created_by, updated_at)
    SELECT r.id::text,
           (ARRAY['Клієнт просить знижку', 'Escalate to supervisor; "angry" customer'])[1 + r.r % 2],
           5, 20, r.hangup_at + interval '1 minute', r.domain_id * 1000 + 1,
           r.hangup_at + interval '1 minute'
    FROM recorded r
    WHERE r.r % 100 = 42
    RETURNING id
)
SELECT (SELECT count(*) FROM files) + (SELECT count(*) FROM notes) AS "rows!"
