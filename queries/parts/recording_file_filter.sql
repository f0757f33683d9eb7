-- The file filters of the recordings query on the file `f`: call recordings only (channel
-- `call` or unset), present unless $40, $1 domain ids, $36 file ids, $37 mime pattern
-- (ILIKE), $38/$39 uploaded [from, to).
AND (f.channel/*v24.10|NULL::varchar*/ IS NULL OR f.channel/*v24.10|NULL::varchar*/ = 'call')
AND ($40::bool OR (f.removed IS NOT TRUE AND f.not_exists IS NOT TRUE))
AND ($1::int8[] IS NULL OR f.domain_id = ANY ($1))
AND ($36::int8[] IS NULL OR f.id = ANY ($36))
AND ($37::text IS NULL OR f.mime_type ILIKE $37)
AND ($38::timestamptz IS NULL OR f.created_at >= (extract(epoch FROM $38) * 1000)::int8)
AND ($39::timestamptz IS NULL OR f.created_at < (extract(epoch FROM $39) * 1000)::int8)
