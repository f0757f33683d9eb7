-- Every domain the call history holds, one index probe each (a skip scan of an index that
-- leads with domain_id): with `history_domain_scan.sql`, a time window without --domain reads
-- every domain's rows in that window through (domain_id, created_at|stored_at).
WITH RECURSIVE history_domains(id) AS (
    SELECT min(h.domain_id) FROM call_center.cc_calls_history h
    UNION ALL
    SELECT (SELECT min(h.domain_id) FROM call_center.cc_calls_history h WHERE h.domain_id > d.id)
    FROM history_domains d
    WHERE d.id IS NOT NULL
)
