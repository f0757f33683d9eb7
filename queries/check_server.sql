-- `check`: the server, the role, TLS on this connection, and whether cc_calls_history is a
-- partitioned table.
SELECT current_setting('server_version')                AS "server_version!",
       current_setting('server_version_num')::int4      AS "server_version_num!",
       current_user::text                               AS "user_name!",
       COALESCE(s.ssl, false)                           AS "ssl!",
       s.version                                        AS "ssl_version?",
       s.cipher                                         AS "ssl_cipher?",
       COALESCE((SELECT c.relkind = 'p' FROM pg_class c
                 WHERE c.oid = to_regclass('call_center.cc_calls_history')), false)
                                                        AS "calls_partitioned!"
FROM (SELECT 1) AS one
LEFT JOIN pg_stat_ssl s ON s.pid = pg_backend_pid()
