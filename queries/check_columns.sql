-- `check`: which of the (table, column) pairs in $1/$2 exist (schema level detection).
SELECT t.tbl                                             AS "table_name!",
       t.col                                             AS "column_name!",
       EXISTS (SELECT 1 FROM pg_attribute a
               WHERE a.attrelid = to_regclass(t.tbl)
                 AND a.attname = t.col
                 AND NOT a.attisdropped)                 AS "present!"
FROM unnest($1::text[], $2::text[]) AS t(tbl, col)
