-- Which of the (table, column) pairs in $1/$2 exist (schema level detection). Read from the
-- catalogs by name, which needs no privilege on the schemas (to_regclass would fail on a
-- schema the role may not use).
SELECT t.tbl                                             AS "table_name!",
       t.col                                             AS "column_name!",
       EXISTS (SELECT 1
               FROM pg_namespace n
               JOIN pg_class c ON c.relnamespace = n.oid
               JOIN pg_attribute a ON a.attrelid = c.oid
               WHERE n.nspname = split_part(t.tbl, '.', 1)
                 AND c.relname = split_part(t.tbl, '.', 2)
                 AND a.attname = t.col
                 AND NOT a.attisdropped)                 AS "present!"
FROM unnest($1::text[], $2::text[]) AS t(tbl, col)
