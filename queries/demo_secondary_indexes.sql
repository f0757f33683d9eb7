-- The secondary (non-unique) indexes of the tables the demo generator fills, with their
-- definitions: the generator drops them, bulk-loads, then rebuilds them from these
-- definitions, which is several times faster than maintaining them row by row.
SELECT format('%I.%I', n.nspname, i.relname) AS "name!",
       pg_get_indexdef(i.oid)               AS "definition!"
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE format('%I.%I', n.nspname, t.relname) = ANY ($1::text[])
  AND NOT x.indisunique
ORDER BY 1
