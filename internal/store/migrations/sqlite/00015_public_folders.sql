-- +goose Up
-- Public Folders (issue 7) share the folders table with Private ones; the
-- kind is the id's form (p- + UUID) and, for the listings' indexes, this
-- column (set from the id on insert).
ALTER TABLE folders ADD COLUMN is_public BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE folders SET is_public = TRUE WHERE id LIKE 'p-%';
-- getSelfFolders (is_public false) and getPublicFolders with userID.
DROP INDEX folders_user_created;
CREATE INDEX folders_user_created ON folders (user_id, is_public, created_at DESC, id DESC);
-- getPublicFolders of everyone.
CREATE INDEX folders_public_created ON folders (is_public, created_at DESC, id DESC);

-- +goose Down
DROP INDEX folders_public_created;
DROP INDEX folders_user_created;
CREATE INDEX folders_user_created ON folders (user_id, created_at DESC, id DESC);
ALTER TABLE folders DROP COLUMN is_public;
