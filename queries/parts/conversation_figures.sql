-- A conversation's figures over its legs (`legs`, grouped by root_id), in both shapes' `fam`;
-- a row without a leg id (the set-wise shape's recording rows) counts in none of them.
           count(id)::int8 AS legs,
           max(hangup_at) AS ended_at,
           -- The customer's talk: their leg's (the root's, and a callback's), as the call
           -- history gives it; agent-to-agent consultation time is not customer talk.
           COALESCE(sum(talk_sec) FILTER (WHERE id = root_id OR redial_id IS NOT NULL), 0)::int8
               AS talk_sec,
           COALESCE(sum(hold_sec), 0)::int8 AS hold_sec,
           -- Transfer events (counted below): each leg with blind_transfer, and each leg with
           -- transfer_to but the second mark Webitel leaves of an attended transfer.
           count(*) FILTER (WHERE blind_transfer IS NOT NULL)::int8 AS blind_transfers,
           array_agg(id) FILTER (WHERE transfer_to IS NOT NULL) AS transferring_ids,
           array_agg(transfer_to) FILTER (WHERE transfer_to IS NOT NULL) AS transfer_targets,
           count(*) FILTER (WHERE redial_id IS NOT NULL)::int8 AS redials,
