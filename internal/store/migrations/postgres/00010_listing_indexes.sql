-- +goose Up
-- Every keyset listing orders by (key DESC, id DESC) (store.keysetList);
-- getSelfFolders' index had id ascending, so the database sorted.
DROP INDEX folders_user_created;
CREATE INDEX folders_user_created ON folders (user_id, created_at DESC, id DESC);

-- +goose Down
DROP INDEX folders_user_created;
CREATE INDEX folders_user_created ON folders (user_id, created_at DESC, id);
