-- Whether call_center.cc_calls_history can be read in block slices: its size in blocks, and
-- whether it is partitioned (a partitioned parent has no blocks of its own, so it is read over
-- one connection).
SELECT (c.relkind = 'p')                                                AS "partitioned!",
       (pg_relation_size(c.oid) / current_setting('block_size')::int8)  AS "blocks!"
FROM pg_class c
WHERE c.oid = 'call_center.cc_calls_history'::regclass
