-- +goose Up
-- created_at is unique per user (store.reserveCreatedAt assigns it), so the
-- keyset "created_at < paginationIndex" never splits two Items of the same
-- millisecond across pages. The index also answers MAX(created_at) per user.
CREATE UNIQUE INDEX items_user_created_unique ON items (user_id, created_at);

-- Live Item counts per user and Folder (folder_key '' = root Folder), kept by
-- a trigger so SelfUser.itemCount, rootFolderItemCount and getMyCreations'
-- totalCount never count rows, whoever writes the items table.
CREATE TABLE item_counts (
    user_id TEXT NOT NULL,
    folder_key TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (user_id, folder_key)
);
INSERT INTO item_counts (user_id, folder_key, n)
    SELECT user_id, COALESCE(folder_id, ''), COUNT(*) FROM items WHERE deleted_at IS NULL GROUP BY user_id, COALESCE(folder_id, '');

-- +goose StatementBegin
CREATE FUNCTION items_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.deleted_at IS NULL THEN
        UPDATE item_counts SET n = n - 1 WHERE user_id = OLD.user_id AND folder_key = COALESCE(OLD.folder_id, '');
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.deleted_at IS NULL THEN
        INSERT INTO item_counts (user_id, folder_key, n) VALUES (NEW.user_id, COALESCE(NEW.folder_id, ''), 1)
            ON CONFLICT (user_id, folder_key) DO UPDATE SET n = item_counts.n + 1;
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER items_count_insert_delete AFTER INSERT OR DELETE ON items
    FOR EACH ROW EXECUTE FUNCTION items_count();
CREATE TRIGGER items_count_update AFTER UPDATE OF user_id, folder_id, deleted_at ON items
    FOR EACH ROW WHEN (OLD.user_id IS DISTINCT FROM NEW.user_id OR OLD.folder_id IS DISTINCT FROM NEW.folder_id
        OR (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL))
    EXECUTE FUNCTION items_count();

-- +goose Down
DROP TRIGGER items_count_update ON items;
DROP TRIGGER items_count_insert_delete ON items;
DROP FUNCTION items_count();
DROP TABLE item_counts;
DROP INDEX items_user_created_unique;
