-- A minimal read-only role for webitel-export. Run as a superuser (or the schema owner) in
-- the Webitel database, after replacing the password. The tool only ever SELECTs, inside a
-- READ ONLY transaction; the role makes that a server-enforced guarantee as well.
DO $$
BEGIN
    CREATE ROLE webitel_export LOGIN PASSWORD 'change-me';
EXCEPTION WHEN duplicate_object THEN
    RAISE NOTICE 'role webitel_export already exists';
END $$;

ALTER ROLE webitel_export SET default_transaction_read_only = on;

GRANT USAGE ON SCHEMA call_center, directory, storage TO webitel_export;

GRANT SELECT ON
    call_center.cc_calls_history,
    call_center.cc_calls_annotation,
    call_center.cc_member_attempt_history,
    call_center.cc_member,
    call_center.cc_queue,
    call_center.cc_team,
    call_center.cc_agent,
    call_center.cc_agent_state_history,
    call_center.cc_pause_cause,
    directory.wbt_domain,
    directory.wbt_user,
    directory.sip_gateway,
    storage.files,
    storage.file_backend_profiles,
    storage.file_transcript
TO webitel_export;
