-- The calls filter: SearchHistoryCall's conditions on a leg `c` (with its parent `p`, its
-- duration `d` and its recordings `rec`), parameters $2..$34 of calls.sql in that order
-- ($1, the domain list, is applied by each query where its index needs it). Included by
-- calls.sql, calls_bulk.sql and recordings.sql.
AND ($2::timestamptz IS NULL OR c.created_at >= $2)
AND ($3::timestamptz IS NULL OR c.created_at < $3)
AND ($4::timestamptz IS NULL OR c.stored_at >= $4)
AND ($5::timestamptz IS NULL OR c.stored_at < $5)
AND ($6::timestamptz IS NULL OR c.answered_at >= $6)
AND ($7::timestamptz IS NULL OR c.answered_at < $7)
AND ($8::text IS NULL
     OR COALESCE(c.search_number/*v23.12|NULL::text*/, c.destination::text || '|' || c.from_number::text || '|' || c.to_number::text) ~ $8)
AND ($9::text IS NULL
     OR c.destination ILIKE $9 OR c.from_number ILIKE $9 OR c.to_number ILIKE $9
     OR c.id::text = $9)
AND ($10::text IS NULL OR c.payload @> $10::text::jsonb)
AND ($11::int8[] IS NULL OR c.user_id = ANY ($11) OR c.user_ids && $11)
AND ($12::int8[] IS NULL OR c.user_id = ANY ($12))
AND ($13::int4[] IS NULL OR c.agent_id = ANY ($13) OR c.agent_ids && $13)
AND ($14::int4[] IS NULL OR c.queue_id = ANY ($14) OR c.queue_ids && $14)
AND ($15::int4[] IS NULL OR c.team_id = ANY ($15) OR c.team_ids && $15)
AND ($16::int8[] IS NULL OR c.member_id = ANY ($16))
AND ($17::int8[] IS NULL OR c.gateway_id = ANY ($17) OR c.gateway_ids && $17)
AND ($18::int8[] IS NULL OR c.contact_id/*v23.09|NULL::int8*/ = ANY ($18))
AND ($19::int8[] IS NULL OR c.grantee_id = ANY ($19))
AND ($20::uuid[] IS NULL OR c.id::uuid = ANY ($20))
AND ($21::uuid[] IS NULL OR c.parent_id::uuid = ANY ($21))
AND ($22::uuid[] IS NULL OR c.id = ANY (ARRAY(
      -- Every leg reachable from the given legs through parent_id or transfer_from.
      WITH RECURSIVE family(id) AS (
          SELECT root.id FROM call_center.cc_calls_history root WHERE root.id::uuid = ANY ($22)
          UNION
          SELECT next.id
          FROM call_center.cc_calls_history next
          JOIN family ON next.parent_id = family.id OR next.transfer_from = family.id
      )
      SELECT family.id FROM family WHERE NOT family.id::uuid = ANY ($22))))
AND (NOT $23::bool OR c.parent_id IS NULL)
AND ($24::bool IS NULL OR (rec.file_ids IS NOT NULL) = $24)
AND ($25::text[] IS NULL OR c.cause = ANY ($25))
AND ($26::int8 IS NULL OR d.duration_sec >= $26)
AND ($27::int8 IS NULL OR d.duration_sec <= $27)
AND ($28::int4 IS NULL OR c.talk_sec >= $28)
AND ($29::int4 IS NULL OR c.talk_sec <= $29)
AND ($30::text IS NULL OR c.direction = $30)
AND (NOT $31::bool OR (
      c.bridged_at IS NULL
      AND c.direction = 'inbound'
      AND c.hide_missed/*v24.02|NULL::bool*/ IS NOT TRUE
      AND NOT (c.parent_id IS NOT NULL AND p.bridged_at IS NOT NULL)))
AND ($32::text[] IS NULL OR c.tags && $32::varchar[])
AND ($33::text[] IS NULL OR c.amd_result = ANY ($33) OR c.amd_ai_result/*v22.12|NULL::varchar*/ = ANY ($33))
AND ($34::bool IS NULL
     OR (c.blind_transfer IS NOT NULL OR c.transfer_to IS NOT NULL OR c.transfer_from IS NOT NULL) = $34)
