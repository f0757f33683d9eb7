-- Gives the rest of the export transaction the server's own work_mem and hash_mem_multiplier
-- back (pg_settings.reset_val: what the session started with, from the server, database or
-- role), undoing set_work_mem.sql for a narrow per-row read: its index probes need no big
-- hashes, and a big work_mem only invites the planner to hash a whole table for a day's rows.
SELECT set_config(s.name, s.reset_val, true) AS "setting!"
FROM pg_settings s
WHERE s.name IN ('work_mem', 'hash_mem_multiplier')
