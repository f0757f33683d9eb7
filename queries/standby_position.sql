-- Where a server's snapshot stands in the primary's transaction history, read in the
-- snapshot itself. On a hot standby it is the primary's state as far as WAL has been replayed:
--  * xmin: the oldest transaction still in progress there. A standby puts its in-progress
--    transactions in the snapshot's subtransaction array, which pg_current_snapshot() does not
--    print, but xmin is the oldest of them;
--  * next_xid: the first transaction id no replayed WAL has used. age(x) is next_xid − x for a
--    session without a transaction id of its own (always so on a standby), which a standby
--    keeps past every id it replays;
--  * replayed_to: the primary's clock at the replay point — the commit time of the last
--    replayed transaction, or, when the WAL receiver has replayed all it was told the primary
--    had written, the primary's time of telling (pg_stat_wal_receiver's details need
--    pg_read_all_stats, which the read-only role has; without it the commit time serves).
-- Every transaction id in [xmin, next_xid) may still be in progress: the standby lists only
-- ids below the last completed one, but all are at least xmin.
WITH snapshot AS (
    SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin
)
SELECT pg_is_in_recovery() AS "in_recovery!",
       snapshot.xmin AS "xmin!",
       snapshot.xmin + age((snapshot.xmin % 4294967296)::text::xid) AS "next_xid!",
       greatest(pg_last_xact_replay_timestamp(),
                (SELECT r.latest_end_time
                 FROM pg_stat_wal_receiver r
                 WHERE r.status = 'streaming'
                   AND r.latest_end_lsn <= pg_last_wal_replay_lsn())) AS "replayed_to?"
FROM snapshot
