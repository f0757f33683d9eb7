-- Demo data, part 8: notes a supervisor put on about one answered call in twenty, marking a
-- part of the recording, ten minutes after the call; one in four was edited the next day.
-- $1 seed.
WITH notes AS (
    INSERT INTO call_center.cc_calls_annotation
        (call_id, note, start_sec, end_sec, created_at, created_by, updated_at, updated_by)
    SELECT c.id::text,
           (ARRAY['Клієнт просив передзвонити', 'Escalate to billing', 'Гарне привітання',
                  'Long hold before transfer'])[1 + (r % 4)],
           (r % 20)::int4,
           (r % 20 + 10)::int4,
           c.hangup_at + interval '10 minutes',
           u.id,
           c.hangup_at + interval '10 minutes' + CASE WHEN r % 4 = 0 THEN interval '1 day' ELSE interval '0' END,
           u.id
    FROM call_center.cc_calls_history c
    CROSS JOIN LATERAL (
        SELECT hashtextextended(c.id::text, $1::int8 + 80) & 2147483647 AS r
    ) h
    LEFT JOIN LATERAL (
        SELECT min(wu.id) AS id FROM directory.wbt_user wu WHERE wu.dc = c.domain_id
    ) u ON true
    WHERE c.parent_id IS NULL AND c.bridged_at IS NOT NULL AND h.r % 20 = 0
    RETURNING 1
)
SELECT count(*) AS "rows!" FROM notes
