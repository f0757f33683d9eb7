-- `check --config`: recordings a job has not archived yet (uploaded at or after $2, in the
-- domains $1; NULL = all) that the storage service deletes by $3: their retention_until, set
-- by file policies (v24.10+; older releases have no such column, and nothing is counted).
SELECT count(*)                AS "files!",
       min(f.retention_until/*v24.10|NULL::timestamptz*/)  AS "earliest?"
FROM storage.files f
WHERE f.retention_until/*v24.10|NULL::timestamptz*/ < $3::timestamptz
  AND f.removed IS NOT TRUE
  AND f.created_at >= (extract(epoch FROM COALESCE($2::timestamptz, '-infinity')) * 1000)::float8
  AND ($1::int8[] IS NULL OR f.domain_id = ANY ($1))
