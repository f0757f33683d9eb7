-- The columns of `legs`, every leg of a conversation: the leg `l` of call_center.cc_calls_history
-- with the root it belongs to, from `leg_ids f` (conversation_legs.sql), which each shape of the
-- conversations query joins to `l` its own way.
f.root_id, f.root_created, l.id, l.created_at, l.bridged_at, l.hangup_at,
l.talk_sec, l.hold_sec, l.user_id, l.queue_id, l.cause, l.transfer_to, l.blind_transfer,
l.redial_id/*v24.02|NULL::uuid*/ AS redial_id, l.params ->> 'sip_id' AS sip_id
