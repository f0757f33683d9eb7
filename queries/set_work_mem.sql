-- Gives the export transaction only (is_local = true) the memory its sorts and hashes may use
-- before they spill to disk: work_mem from --work-mem ($1, bound, never spliced) and
-- PostgreSQL 15's default hash_mem_multiplier (14's is 1), so a hash may use 2 × work_mem on
-- every server version. Both are user settings a read-only role may change for itself.
SELECT set_config('work_mem', $1::text, true) AS "work_mem!",
       set_config('hash_mem_multiplier', '2', true) AS "hash_mem_multiplier!"
