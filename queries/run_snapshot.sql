-- The instant of a run's snapshot (the transaction's start on the server clock), and the start
-- of the oldest transaction that was writing at that moment and that this role can see
-- (pg_stat_activity shows other roles' transactions only to members of pg_read_all_stats).
-- Rows such a transaction commits later carry timestamps from its start onwards, so a run
-- exports only up to the earlier of this start and now() − the safety lag. Only sessions of
-- this database can write its tables.
SELECT now() AS "snapshot_at!",
       (SELECT min(a.xact_start)
        FROM pg_stat_activity a
        WHERE a.backend_xid IS NOT NULL
          AND a.datname = current_database()
          AND a.pid <> pg_backend_pid()) AS "oldest_writer_start?"
