-- `check`: for each schema-qualified table name in $1, whether it exists, whether the current
-- role may SELECT from it, and its estimated row count (pg_class.reltuples; -1 = never
-- analyzed), in the order given.
SELECT t.name                                            AS "name!",
       (r.oid IS NOT NULL)                               AS "exists!",
       (r.oid IS NOT NULL AND has_table_privilege(r.oid, 'SELECT')) AS "can_select!",
       (SELECT c.reltuples::int8 FROM pg_class c WHERE c.oid = r.oid AND c.reltuples >= 0)
                                                         AS "estimated_rows?"
FROM unnest($1::text[]) WITH ORDINALITY AS t(name, n)
LEFT JOIN LATERAL (SELECT to_regclass(t.name) AS oid) r ON true
ORDER BY t.n
