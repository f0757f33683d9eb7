-- The time span the call history covers, over the domains an export reads ($1, or every
-- domain): the first and last created_at and stored_at. datasets/shape.rs compares a window with
-- it to choose a query's shape (calls, conversations). Each bound is one probe of a domain-led
-- index per domain.
--@include parts/history_domains.sql
SELECT
    min(span.created_first) AS created_first,
    max(span.created_last) AS created_last,
    min(span.stored_first) AS stored_first,
    max(span.stored_last) AS stored_last
FROM history_domains d
CROSS JOIN LATERAL (
    SELECT
        (SELECT min(h.created_at) FROM call_center.cc_calls_history h
         WHERE h.domain_id = d.id) AS created_first,
        (SELECT max(h.created_at) FROM call_center.cc_calls_history h
         WHERE h.domain_id = d.id) AS created_last,
        (SELECT min(h.stored_at) FROM call_center.cc_calls_history h
         WHERE h.domain_id = d.id) AS stored_first,
        (SELECT max(h.stored_at) FROM call_center.cc_calls_history h
         WHERE h.domain_id = d.id) AS stored_last
) span
WHERE d.id IS NOT NULL AND ($1::int8[] IS NULL OR d.id = ANY ($1))
