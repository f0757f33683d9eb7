-- The storage profiles recordings are kept in (storage.file_backend_profiles), with what it
-- takes to read their files: a local store's directory, an S3 store's bucket, endpoint,
-- region, addressing and credentials, as Webitel's storage service reads them from
-- `properties`. access_key is a secret: it is used to read the bucket, never printed.
SELECT p.id                                                   AS "id!",
       p.name::text                                           AS "name!",
       p.type::text                                           AS "kind!",
       p.properties ->> 'directory'                           AS "directory?",
       p.properties ->> 'bucket_name'                         AS "bucket?",
       p.properties ->> 'endpoint'                            AS "endpoint?",
       p.properties ->> 'region'                              AS "region?",
       p.properties ->> 'key_id'                              AS "key_id?",
       p.properties ->> 'access_key'                          AS "access_key?",
       -- Webitel takes only a JSON true; the string "true" counts as false there too.
       COALESCE(p.properties -> 'force_path_style' = 'true'::jsonb, false) AS "force_path_style!"
FROM storage.file_backend_profiles p
ORDER BY p.id
