-- `check --config`: the storage profiles that delete a file `expire_day` days after its
-- upload (what the storage service did before its November 2024 releases), among the profiles
-- of the job's domains ($1; NULL = all).
SELECT p.id                 AS "id!",
       p.name::text         AS "name!",
       p.expire_day         AS "expire_day!"
FROM storage.file_backend_profiles p
WHERE p.expire_day > 0
  AND p.disabled IS NOT TRUE
  AND ($1::int8[] IS NULL OR p.domain_id IS NULL OR p.domain_id = ANY ($1))
ORDER BY p.id
