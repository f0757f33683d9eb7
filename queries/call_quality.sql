-- RTP quality of call legs (call_center.cc_calls_media_stats, Webitel v26.02+): MOS, jitter,
-- packet loss and round trip (average, minimum, maximum, and the second of the call each
-- extreme was seen), with the leg they were measured on. A row is keyed by the leg's SIP call
-- id, which the leg keeps in params->>'sip_id': Webitel's call-history view (v26.04+) joins
-- them by sip_id alone. History has no index on the sip_id, so the leg is looked up through
-- (domain_id, created_at): created at most two days before the stats were written (a leg
-- hangs up before its stats are stored), in the stats row's domain, or in every domain when
-- the row has none (Webitel stores 0 when the SIP side omits it); then by sip_id.
-- Parameters (NULL = any): $1 domain ids  $2/$3 stats created_at [from, to)  $4 sip ids
SELECT
    ms.sip_id                                    AS "sip_id!",
    ms.domain_id                                 AS "domain_id?",
    leg.id::text                                 AS "call_id?",
    leg.created_at                               AS "call_created_at?",
    ms.user_id                                   AS "user_id?",
    ms.created_at                                AS "created_at?",
    ms.mos_avg                                   AS "mos_avg?",
    ms.mos_min                                   AS "mos_min?",
    ms.mos_min_at                                AS "mos_min_at_sec?",
    ms.mos_max                                   AS "mos_max?",
    ms.mos_max_at                                AS "mos_max_at_sec?",
    ms.jitter_avg                                AS "jitter_avg?",
    ms.jitter_min                                AS "jitter_min?",
    ms.jitter_max                                AS "jitter_max?",
    ms.packetloss_avg                            AS "packet_loss_avg?",
    ms.packetloss_min                            AS "packet_loss_min?",
    ms.packetloss_max                            AS "packet_loss_max?",
    ms.roundtrip_avg                             AS "round_trip_avg?",
    ms.roundtrip_min                             AS "round_trip_min?",
    ms.roundtrip_max                             AS "round_trip_max?"
FROM call_center.cc_calls_media_stats ms
LEFT JOIN LATERAL (
    -- The newest match of each domain searched, then the newest of those. One domain per
    -- probe, so the index gives the legs newest first and the probe stops at the first leg
    -- with the sip_id (a few hundred legs back on the demo's 5M); with the domains as one
    -- ANY list it read all two days of the domain's legs and sorted them (120k legs, 90 ms
    -- a row: a day's 21k rows in half an hour).
    SELECT dl.id, dl.created_at
    FROM unnest(CASE WHEN ms.domain_id > 0 THEN ARRAY[ms.domain_id]
                     ELSE (SELECT array_agg(d.dc) FROM directory.wbt_domain d) END) dom(id)
    CROSS JOIN LATERAL (
        SELECT c.id, c.created_at
        FROM call_center.cc_calls_history c
        WHERE c.domain_id = dom.id
          AND c.created_at <= ms.created_at
          AND c.created_at > ms.created_at - interval '2 days'
          AND c.params ->> 'sip_id' = ms.sip_id
        ORDER BY c.created_at DESC
        LIMIT 1
    ) dl
    ORDER BY dl.created_at DESC
    LIMIT 1
) leg ON true
WHERE ($1::int8[] IS NULL OR ms.domain_id = ANY ($1))
  AND ($2::timestamptz IS NULL OR ms.created_at >= $2)
  AND ($3::timestamptz IS NULL OR ms.created_at < $3)
  AND ($4::text[] IS NULL OR ms.sip_id = ANY ($4))
ORDER BY ms.created_at, ms.sip_id
