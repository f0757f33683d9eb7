-- The joins of a conversation's root `c` to its aggregates, queues and answering agent.
FROM roots
JOIN call_center.cc_calls_history c ON c.id = roots.id AND c.domain_id = roots.domain_id
JOIN fam ON fam.root_id = roots.id
LEFT JOIN call_center.cc_queue q ON q.id = c.queue_id
LEFT JOIN first_queue ON first_queue.root_id = roots.id
LEFT JOIN call_center.cc_queue fq ON fq.id = first_queue.queue_id
LEFT JOIN answer ON answer.root_id = roots.id
LEFT JOIN directory.wbt_user u ON u.id = answer.user_id
LEFT JOIN call_center.cc_agent a ON a.user_id = answer.user_id
LEFT JOIN last_leg ON last_leg.root_id = roots.id
