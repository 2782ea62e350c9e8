-- +goose Up
-- items.tag_count (issue 11): the number of item_tags rows of the Item,
-- kept by a trigger on item_tags in the same transaction as the row that
-- changes it (tag add, remove, set; deleteItems' clearing; a cascade).
-- A listing looks up tags only for the Items of its page whose count is
-- not zero (library.withTags), as it does reactions by like_count. The
-- writers lock the Item's row before its tags (store.ChangeTags,
-- clearItemTags), so the trigger's update waits on no one new.
ALTER TABLE items ADD COLUMN tag_count BIGINT NOT NULL DEFAULT 0 CHECK (tag_count >= 0);

UPDATE items SET tag_count = x.n
FROM (SELECT item_id, COUNT(*) AS n FROM item_tags GROUP BY item_id) x
WHERE items.id = x.item_id;

-- +goose StatementBegin
CREATE FUNCTION item_tag_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        UPDATE items SET tag_count = tag_count - 1 WHERE id = OLD.item_id;
    ELSE
        UPDATE items SET tag_count = tag_count + 1 WHERE id = NEW.item_id;
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER item_tags_item_count AFTER INSERT OR DELETE ON item_tags
    FOR EACH ROW EXECUTE FUNCTION item_tag_count();

-- +goose Down
DROP TRIGGER item_tags_item_count ON item_tags;
DROP FUNCTION item_tag_count();
ALTER TABLE items DROP COLUMN tag_count;
