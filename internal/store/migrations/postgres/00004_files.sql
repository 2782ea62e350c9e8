-- +goose Up
-- Files of the file server. owner_id has no foreign key: users are deleted
-- softly, and a file outlives whatever its uploader does.
CREATE TABLE files (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    checksum TEXT NOT NULL,
    checksum_algorithm TEXT NOT NULL,
    owner_id TEXT,
    custom_metadata TEXT,
    blob_key TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX files_owner ON files (owner_id);

-- Resized variants kept in the blob store, listed so that removing the file
-- can remove them too (blob stores are not listed).
CREATE TABLE file_variants (
    file_id TEXT NOT NULL REFERENCES files (id) ON DELETE CASCADE,
    blob_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (file_id, blob_key)
);

-- +goose Down
DROP TABLE file_variants;
DROP TABLE files;
