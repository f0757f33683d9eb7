-- The root legs of the conversations an export reads (conversations.sql's parameters $1..$6, $8,
-- $9/$10), the first CTE after history_domains. One definition for both shapes of the
-- conversations query.
, roots AS MATERIALIZED (
    -- The root leg's own columns are read by the set-wise shape.
    SELECT c.id, c.domain_id, c.direction, c.from_number, c.destination, c.to_number,
           c.created_at, c.stored_at, c.cause, c.hangup_by,
           c.amd_ai_result/*v22.12|NULL::varchar*/ AS amd_ai_result,
           c.hide_missed/*v24.02|NULL::bool*/ AS hide_missed, c.user_id, c.bridged_at, c.queue_id,
           -- The root leg's variables, read in this scan only when the export writes them ($8).
           CASE WHEN $8::bool THEN c.payload::text END AS variables
    FROM call_center.cc_calls_history c
    WHERE c.parent_id IS NULL AND c.transfer_from IS NULL
      AND c.redial_id/*v24.02|NULL*/ IS NULL
      --@include parts/history_domain_scan.sql
      AND ($2::timestamptz IS NULL OR c.created_at >= $2)
      AND ($3::timestamptz IS NULL OR c.created_at < $3)
      AND ($4::timestamptz IS NULL OR c.stored_at >= $4)
      AND ($5::timestamptz IS NULL OR c.stored_at < $5)
      AND ($6::text[] IS NULL OR c.direction = ANY ($6))
      -- Part $10 of $9 of the roots, by a hash of the root's id, when connections read a
      -- bulk export in parallel (each conversation in the part of its root). Not a range of
      -- the table's blocks: the history is written in time order, so the merge of ordered
      -- parts would read one range after the other, each waiting for the one before.
      AND ($9::int4 IS NULL OR (hashtext(c.id::text) & 2147483647) % $9 = $10)
)
