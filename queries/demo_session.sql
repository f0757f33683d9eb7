-- The demo generator's statements are large expressions over millions of rows; JIT would
-- spend far longer compiling them than running them. Local to the seeding transaction.
SELECT set_config('jit', 'off', true) AS "applied!"
