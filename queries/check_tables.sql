-- `check`: for each schema-qualified table name in $1, in the order given: whether its schema
-- exists and the current role may use it, whether the table exists and the role may SELECT
-- from it, and its estimated row count (pg_class.reltuples; -1 = never analyzed). Read from
-- the catalogs by name, so a schema the role may not use is reported, not an error.
SELECT t.name                                            AS "name!",
       split_part(t.name, '.', 1)                        AS "schema!",
       (n.oid IS NOT NULL AND has_schema_privilege(n.oid, 'USAGE')) AS "can_use_schema!",
       (c.oid IS NOT NULL)                               AS "exists!",
       (c.oid IS NOT NULL AND has_table_privilege(c.oid, 'SELECT')) AS "can_select!",
       (CASE WHEN c.reltuples >= 0 THEN c.reltuples::int8 END) AS "estimated_rows?"
FROM unnest($1::text[]) WITH ORDINALITY AS t(name, n)
LEFT JOIN pg_namespace n ON n.nspname = split_part(t.name, '.', 1)
LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = split_part(t.name, '.', 2)
ORDER BY t.n
