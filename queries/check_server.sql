-- `check`: the server, the role, TLS on this connection, whether cc_calls_history is a
-- partitioned table, whether the role sees other sessions' transactions, and whether the
-- server is a hot standby.
SELECT current_setting('server_version')                AS "server_version!",
       current_setting('server_version_num')::int4      AS "server_version_num!",
       current_user::text                               AS "user_name!",
       COALESCE(s.ssl, false)                           AS "ssl!",
       s.version                                        AS "ssl_version?",
       s.cipher                                         AS "ssl_cipher?",
       COALESCE((SELECT c.relkind = 'p' FROM pg_class c
                 JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = 'call_center' AND c.relname = 'cc_calls_history'), false)
                                                        AS "calls_partitioned!",
       -- Without pg_read_all_stats, other roles' open transactions are invisible in
       -- pg_stat_activity, and run's guard against late commits cannot see Webitel's writers.
       pg_has_role('pg_read_all_stats', 'USAGE')        AS "reads_all_stats!",
       -- A hot standby: run bounds its windows by what it has replayed (docs/nightly.md).
       pg_is_in_recovery()                              AS "hot_standby!",
       pg_last_xact_replay_timestamp()                  AS "replayed_to?"
FROM (SELECT 1) AS one
LEFT JOIN pg_stat_ssl s ON s.pid = pg_backend_pid()
