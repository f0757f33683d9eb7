-- Of the requested domain ids ($1), those that are not in directory.wbt_domain.
-- Lets `--domain 42` fail with "unknown domain 42" instead of exporting nothing.
SELECT requested.dc AS "dc!"
FROM unnest($1::int8[]) AS requested(dc)
WHERE NOT EXISTS (SELECT 1 FROM directory.wbt_domain d WHERE d.dc = requested.dc)
ORDER BY requested.dc
