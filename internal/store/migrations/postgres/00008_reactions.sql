-- +goose Up
-- One reaction (like or dislike) per user and Item: the primary key makes a
-- like and a dislike by the same user on the same Item impossible at once,
-- and liking twice a no-op. items.like_count and dislike_count are kept by
-- a trigger in the same transaction as the reaction's row, whoever writes it
-- (likeItems, a guest's data moving to an account, a cascade delete).
CREATE TABLE reactions (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    item_id TEXT NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('like', 'dislike')),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, item_id)
);
CREATE INDEX reactions_item ON reactions (item_id);

-- Before this migration nothing could like an Item: the counts are the recount (0).
UPDATE items SET like_count = 0, dislike_count = 0 WHERE like_count <> 0 OR dislike_count <> 0;

-- +goose StatementBegin
CREATE FUNCTION reactions_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE items SET like_count = like_count - (OLD.kind = 'like')::int,
            dislike_count = dislike_count - (OLD.kind = 'dislike')::int WHERE id = OLD.item_id;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        UPDATE items SET like_count = like_count + (NEW.kind = 'like')::int,
            dislike_count = dislike_count + (NEW.kind = 'dislike')::int WHERE id = NEW.item_id;
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER reactions_count_insert_delete AFTER INSERT OR DELETE ON reactions
    FOR EACH ROW EXECUTE FUNCTION reactions_count();
CREATE TRIGGER reactions_count_update AFTER UPDATE OF kind, item_id ON reactions
    FOR EACH ROW WHEN (OLD.kind IS DISTINCT FROM NEW.kind OR OLD.item_id IS DISTINCT FROM NEW.item_id)
    EXECUTE FUNCTION reactions_count();

-- +goose Down
DROP TRIGGER reactions_count_update ON reactions;
DROP TRIGGER reactions_count_insert_delete ON reactions;
DROP FUNCTION reactions_count();
DROP TABLE reactions;
