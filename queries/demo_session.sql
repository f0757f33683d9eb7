-- Settings for one demo-generator transaction. The statements are large expressions over
-- millions of rows: JIT would spend far longer compiling them than running them. Index
-- rebuilds get enough memory to sort in one pass.
SELECT set_config('jit', 'off', true)                    AS "jit!",
       set_config('maintenance_work_mem', '256MB', true) AS "maintenance_work_mem!"
