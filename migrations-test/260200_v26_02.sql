-- Webitel v26.02.
-- Changes: cc_calls_media_stats: RTP quality of a call leg (MOS, jitter, packet loss, round
-- trip: average, minimum and maximum, each extreme with the second it was seen), keyed by the
-- leg's SIP call id (cc_calls_history.params->>'sip_id').

CREATE TABLE call_center.cc_calls_media_stats (
    created_at        timestamptz,
    sip_id            text NOT NULL,
    domain_id         bigint,
    mos_avg           double precision,
    mos_min           double precision,
    mos_min_at        double precision,
    mos_max           double precision,
    mos_max_at        double precision,
    jitter_avg        double precision,
    jitter_min        double precision,
    jitter_min_at     double precision,
    jitter_max        double precision,
    jitter_max_at     double precision,
    packetloss_avg    double precision,
    packetloss_min    double precision,
    packetloss_min_at double precision,
    packetloss_max    double precision,
    packetloss_max_at double precision,
    roundtrip_avg     double precision,
    roundtrip_min     double precision,
    roundtrip_min_at  double precision,
    roundtrip_max     double precision,
    roundtrip_max_at  double precision,
    user_id           bigint
);
CREATE INDEX cc_calls_media_stats_created_at_index ON call_center.cc_calls_media_stats (created_at);
CREATE INDEX cc_calls_media_stats_sip_id_index ON call_center.cc_calls_media_stats (sip_id);
