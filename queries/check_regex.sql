-- Asks the server to compile a POSIX regular expression (PostgreSQL's own dialect, the one the
-- export will use), so a bad --number fails before any row is read.
SELECT '' ~ $1::text AS "matches!"
