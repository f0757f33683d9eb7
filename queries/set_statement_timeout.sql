-- Applies --statement-timeout to the export transaction only (is_local = true), so a pooled
-- or reused connection is never left with our setting. The value is bound, never spliced.
SELECT set_config('statement_timeout', $1::text, true) AS "applied!"
