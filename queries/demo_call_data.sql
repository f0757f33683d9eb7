-- Demo data, part 8: what sits next to the calls. $1 seed.
-- Annotations: a supervisor's note on about one answered call in twenty, marking a part of the
-- recording, ten minutes after the call; one in four was edited the next day.
-- QA: a scorecard per domain, and a rating of about one answered agent leg in ten.
-- Transcripts: a Ukrainian transcript of about one recording in three, with its phrases.
-- Media statistics: MOS, jitter, loss and round trip of about one leg in two, written when it
-- ended, keyed by its SIP call id.
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
), forms AS (
    INSERT INTO call_center.cc_audit_form (domain_id, name, description, enabled, questions)
    SELECT d.dc, 'Якість розмови', 'Greeting, solution, farewell', true,
           '[{"question": "Привітання", "required": true, "max": 5},
             {"question": "Рішення", "required": true, "max": 5},
             {"question": "Прощання", "required": false, "max": 1}]'::jsonb
    FROM directory.wbt_domain d
    RETURNING id, domain_id
), rates AS (
    INSERT INTO call_center.cc_audit_rate
        (domain_id, form_id, created_at, created_by, updated_at, updated_by, answers,
         score_required, score_optional, comment, call_id, rated_user_id, call_created_at)
    SELECT c.domain_id, f.id, c.hangup_at + interval '1 hour', s.id, c.hangup_at + interval '1 hour',
           s.id,
           jsonb_build_array(jsonb_build_object('score', 1 + r % 5), jsonb_build_object('score', 1 + r / 5 % 5),
                             jsonb_build_object('score', r % 2)),
           ((2 + r % 5 + r / 5 % 5) * 10)::numeric, (r % 2 * 100)::numeric,
           CASE WHEN r % 3 = 0 THEN 'Не запропонував зворотний дзвінок' END,
           c.id::text, c.user_id, c.created_at
    FROM call_center.cc_calls_history c
    JOIN forms f ON f.domain_id = c.domain_id
    CROSS JOIN LATERAL (
        SELECT hashtextextended(c.id::text, $1::int8 + 81) & 2147483647 AS r
    ) h
    LEFT JOIN LATERAL (
        SELECT max(wu.id) AS id FROM directory.wbt_user wu WHERE wu.dc = c.domain_id
    ) s ON true
    WHERE c.parent_id IS NOT NULL AND c.bridged_at IS NOT NULL AND c.user_id IS NOT NULL
      AND h.r % 10 = 0
    RETURNING 1
), transcripts AS (
    INSERT INTO storage.file_transcript
        (file_id, uuid, domain_id, transcript, phrases, channels, locale, profile_id, created_at)
    SELECT f.id, f.uuid, f.domain_id,
           'Добрий день, чим можу допомогти? Хочу дізнатися про замовлення.',
           '[{"channel": 0, "start_sec": 0.4, "end_sec": 2.6, "phrase": "Добрий день, чим можу допомогти?"},
             {"channel": 1, "start_sec": 3.1, "end_sec": 5.0, "phrase": "Хочу дізнатися про замовлення."}]'::jsonb,
           '[0, 1]'::jsonb, 'uk-UA', NULL, to_timestamp(f.created_at / 1000.0) + interval '2 minutes'
    FROM storage.files f
    WHERE f.removed IS NOT TRUE
      AND (hashtextextended(f.id::text, $1::int8 + 82) & 2147483647) % 3 = 0
    RETURNING 1
), media AS (
    INSERT INTO call_center.cc_calls_media_stats
        (created_at, sip_id, domain_id, mos_avg, mos_min, mos_min_at, mos_max, mos_max_at,
         jitter_avg, jitter_min, jitter_max, packetloss_avg, packetloss_min, packetloss_max,
         roundtrip_avg, roundtrip_min, roundtrip_max, user_id)
    SELECT c.hangup_at + interval '5 seconds', c.params ->> 'sip_id', c.domain_id,
           3.5 + (r % 10) / 10.0, 2.5 + (r % 10) / 10.0, (r % 60)::float8, 4.4, (r % 90)::float8,
           2 + r % 20, 0.5, 10 + r % 50, (r % 30) / 10.0, 0, (r % 30) / 5.0,
           30 + r % 100, 20, 60 + r % 200, c.user_id
    FROM call_center.cc_calls_history c
    CROSS JOIN LATERAL (
        SELECT hashtextextended(c.id::text, $1::int8 + 83) & 2147483647 AS r
    ) h
    WHERE c.params ? 'sip_id' AND c.bridged_at IS NOT NULL AND h.r % 2 = 0
    RETURNING 1
)
SELECT (SELECT count(*) FROM notes) + (SELECT count(*) FROM forms) + (SELECT count(*) FROM rates)
     + (SELECT count(*) FROM transcripts) + (SELECT count(*) FROM media) AS "rows!"
