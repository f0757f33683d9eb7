-- $1 (domain ids) on the leg `c`; without it and with any of the windows $2..$5, every
-- domain of `history_domains.sql`, so the windows are read through the domain-led indexes.
AND ($1::int8[] IS NULL OR c.domain_id = ANY ($1))
AND ($1::int8[] IS NOT NULL
     OR ($2::timestamptz IS NULL AND $3::timestamptz IS NULL
         AND $4::timestamptz IS NULL AND $5::timestamptz IS NULL)
     OR c.domain_id = ANY (ARRAY(SELECT id FROM history_domains WHERE id IS NOT NULL)))
