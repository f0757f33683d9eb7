-- Exports the current transaction's snapshot, so other connections of the same export can
-- read exactly the same data (SET TRANSACTION SNAPSHOT).
SELECT pg_export_snapshot() AS "snapshot!"
