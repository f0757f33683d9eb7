-- Turns JIT compilation off for the export transaction only (is_local = true). The exports
-- stream rows as fast as the server reads them; compiling their expressions costs seconds
-- (the agent-activity report spent 4.5 of 4.6 s in JIT with PostgreSQL's default jit = on)
-- and gains nothing measurable.
SELECT set_config('jit', 'off', true) AS "applied!"
