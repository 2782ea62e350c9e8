-- +goose Up
-- items.tag_count (issue 11): the number of item_tags rows of the Item,
-- kept by triggers on item_tags in the same transaction as the row that
-- changes it (tag add, remove, set; deleteItems' clearing; a cascade).
-- A listing looks up tags only for the Items of its page whose count is
-- not zero (library.withTags), as it does reactions by like_count.
ALTER TABLE items ADD COLUMN tag_count BIGINT NOT NULL DEFAULT 0 CHECK (tag_count >= 0);

UPDATE items SET tag_count = (SELECT COUNT(*) FROM item_tags x WHERE x.item_id = items.id)
WHERE id IN (SELECT item_id FROM item_tags);

-- +goose StatementBegin
CREATE TRIGGER item_tags_item_count_insert AFTER INSERT ON item_tags
BEGIN
    UPDATE items SET tag_count = tag_count + 1 WHERE id = NEW.item_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER item_tags_item_count_delete AFTER DELETE ON item_tags
BEGIN
    UPDATE items SET tag_count = tag_count - 1 WHERE id = OLD.item_id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER item_tags_item_count_delete;
DROP TRIGGER item_tags_item_count_insert;
ALTER TABLE items DROP COLUMN tag_count;
