-- Webitel v23.12.
-- Changes: cc_calls_history gains search_number ('|'-joined distinct numbers of the call family);
-- cc_team gains task_accept_timeout (int2, NOT NULL default 30);
-- cc_member_attempt_history drops supervisor_ids; number search gets a trigram index on
-- coalesce(search_number, destination|from|to), once built with call_center.cc_array_to_string
-- (sn_ops_idx) and once with || (sn_ops_idx2), as in the release's schema dump. (Sites upgraded
-- through the release's migration script have sn_ops_idx on search_number alone instead.)

ALTER TABLE call_center.cc_calls_history
    ADD COLUMN search_number text;

ALTER TABLE call_center.cc_team
    ADD COLUMN task_accept_timeout smallint NOT NULL DEFAULT 30;

ALTER TABLE call_center.cc_member_attempt_history
    DROP COLUMN supervisor_ids;

CREATE FUNCTION call_center.cc_array_to_string(text[], text) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS 'SELECT array_to_string($1, $2)';
CREATE INDEX cc_calls_history_sn_ops_idx ON call_center.cc_calls_history USING gin
    (COALESCE(search_number, call_center.cc_array_to_string(
        ARRAY[destination::text, from_number::text, to_number::text], '|')) gin_trgm_ops);
CREATE INDEX cc_calls_history_sn_ops_idx2 ON call_center.cc_calls_history USING gin
    (COALESCE(search_number,
              destination::text || '|' || from_number::text || '|' || to_number::text) gin_trgm_ops);
