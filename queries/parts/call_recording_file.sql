-- Whether a storage.files row `leg_file` is a call recording a leg shows: channel `call` or
-- unset, not removed, not missing. One definition for both shapes of the calls query.
(leg_file.removed IS NOT TRUE AND leg_file.not_exists IS NOT TRUE
 AND (leg_file.channel/*v24.10|NULL::varchar*/ IS NULL OR leg_file.channel/*v24.10|NULL::varchar*/ = 'call'))
