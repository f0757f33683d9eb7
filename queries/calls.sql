-- Call legs from call_center.cc_calls_history, one row per leg, with the derived columns of
-- Webitel's cc_calls_history_list view computed from the base table
-- and only the joins they need. This shape probes indexes per leg for the leg's recordings and
-- children: what a narrow export (a day, a domain, an id) wants; calls_bulk.sql is the shape
-- of bulk exports, with the same columns, parameters and rows. Filters follow CallService.SearchHistoryCall; every
-- parameter is optional: NULL (or false for the flag parameters) means "not filtered".
--
--  $1 domain ids          $2/$3 created_at [from, to)   $4/$5 stored_at [from, to)
--  $6/$7 answered_at      $8 number regex               $9 q (ILIKE pattern)
--  $10 variables (jsonb text, containment)               $11 user ids   $12 owner ids
--  $13 agent ids          $14 queue ids     $15 team ids  $16 member ids $17 gateway ids
--  $18 contact ids        $19 grantee ids   $20 leg ids   $21 parent ids
--  $22 dependency ids     $23 top-level only (bool)       $24 has file (bool)
--  $25 causes             $26/$27 duration sec [min, max] $28/$29 talk sec [min, max]
--  $30 direction          $31 missed only (bool)          $32 tags
--  $33 amd results (aliases expanded by the caller)       $34 has transfer (bool)
--  $35/$36 a slice of the table's blocks, ctid in ['(from,0)', '(to,0)'), for exports read
--  in parallel over several connections sharing one snapshot (PostgreSQL 14+ TID range scan)
--  $37/$38/$39 what the export writes (`want`): the leg's recordings (or --has-file), its
--  has_children, its attempt's columns; a part left out is not read (a constant false in a
--  custom plan turns its probes or joins into empty one-time results)
--
-- Webitel indexes the time columns only behind domain_id ((domain_id, stored_at) and
-- (domain_id, created_at)). A window without --domain therefore reads every domain the history
-- holds, found by a skip scan of that index (one probe per domain): a nightly one-day export
-- reads that day's rows, not the whole table.
-- --number is written as Webitel's trigram index cc_calls_history_sn_ops_idx2 is defined,
-- coalesce(search_number, destination || '|' || from_number || '|' || to_number), with built-in
-- operators only: the engine's call_center.cc_array_to_string is not marked parallel safe, and
-- naming it anywhere in the query would keep every calls export off parallel workers.
--@include parts/history_domains.sql
SELECT
--@include parts/calls_columns.sql
FROM call_center.cc_calls_history c
CROSS JOIN (SELECT $37::bool AS recordings, $38::bool AS children, $39::bool AS attempts) want
-- The parent by its primary key, one probe per child leg. LIMIT 1 (the key is unique) keeps
-- the lateral from being flattened into a join the planner may hash over the whole history:
-- a restated week's read scanned all of it.
LEFT JOIN LATERAL (
    SELECT parent.bridged_id, parent.bridged_at
    FROM call_center.cc_calls_history parent
    WHERE parent.id = c.parent_id AND parent.domain_id = c.domain_id
    LIMIT 1
) p ON true
--@include parts/calls_joins.sql
--@include parts/leg_recordings.sql
CROSS JOIN LATERAL (
    -- One probe of the parent_id index per top-level or blind-transferred leg.
    SELECT want.children AND EXISTS (
        SELECT 1 FROM call_center.cc_calls_history child
        WHERE (c.parent_id IS NULL OR c.blind_transfer IS NOT NULL)
          AND child.parent_id = c.id
    ) AS has_children
) kids
WHERE true
  --@include parts/history_domain_scan.sql
  --@include parts/calls_filter.sql
  AND ($35::text IS NULL OR c.ctid >= $35::text::tid)
  AND ($36::text IS NULL OR c.ctid < $36::text::tid)
