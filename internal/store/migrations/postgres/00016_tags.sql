-- +goose Up
-- Tags (issue 7). A tag's row is made on its first use and never deleted
-- (created_at = that first use, getTagsList's paginationIndex);
-- usage_count is the number of Items plus Folders that carry it now, kept
-- by a trigger on item_tags and folder_tags in the same transaction as the
-- row that changes it. Writers lock the tags rows they touch in name order
-- first (store.lockTags), so concurrent calls take turns instead of
-- deadlocking. Only live Items carry tags: deleteItems clears them.
CREATE TABLE tags (
    name TEXT COLLATE "C" PRIMARY KEY,
    usage_count BIGINT NOT NULL DEFAULT 0 CHECK (usage_count >= 0),
    created_at BIGINT NOT NULL
);
-- getTagsList: most used first, ties by name (store.tagsList); names
-- compare bytewise (COLLATE "C"), as on SQLite.
CREATE INDEX tags_usage ON tags (usage_count DESC, name);

CREATE TABLE item_tags (
    item_id TEXT NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    tag TEXT COLLATE "C" NOT NULL REFERENCES tags (name),
    PRIMARY KEY (item_id, tag)
);
CREATE INDEX item_tags_tag ON item_tags (tag);

CREATE TABLE folder_tags (
    folder_id TEXT NOT NULL REFERENCES folders (id) ON DELETE CASCADE,
    tag TEXT COLLATE "C" NOT NULL REFERENCES tags (name),
    PRIMARY KEY (folder_id, tag)
);
CREATE INDEX folder_tags_tag ON folder_tags (tag);

-- +goose StatementBegin
CREATE FUNCTION tags_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        UPDATE tags SET usage_count = usage_count - 1 WHERE name = OLD.tag;
    ELSE
        UPDATE tags SET usage_count = usage_count + 1 WHERE name = NEW.tag;
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER item_tags_count AFTER INSERT OR DELETE ON item_tags
    FOR EACH ROW EXECUTE FUNCTION tags_count();
CREATE TRIGGER folder_tags_count AFTER INSERT OR DELETE ON folder_tags
    FOR EACH ROW EXECUTE FUNCTION tags_count();

-- +goose Down
DROP TRIGGER folder_tags_count ON folder_tags;
DROP TRIGGER item_tags_count ON item_tags;
DROP FUNCTION tags_count();
DROP TABLE folder_tags;
DROP TABLE item_tags;
DROP TABLE tags;
