-- +goose Up
-- One reaction (like or dislike) per user and Item: the primary key makes a
-- like and a dislike by the same user on the same Item impossible at once,
-- and liking twice a no-op. items.like_count and dislike_count are kept by
-- triggers in the same transaction as the reaction's row, whoever writes it
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
CREATE TRIGGER reactions_count_insert AFTER INSERT ON reactions
BEGIN
    UPDATE items SET like_count = like_count + (NEW.kind = 'like'), dislike_count = dislike_count + (NEW.kind = 'dislike')
        WHERE id = NEW.item_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER reactions_count_delete AFTER DELETE ON reactions
BEGIN
    UPDATE items SET like_count = like_count - (OLD.kind = 'like'), dislike_count = dislike_count - (OLD.kind = 'dislike')
        WHERE id = OLD.item_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER reactions_count_update AFTER UPDATE OF kind, item_id ON reactions
WHEN OLD.kind IS NOT NEW.kind OR OLD.item_id IS NOT NEW.item_id
BEGIN
    UPDATE items SET like_count = like_count - (OLD.kind = 'like'), dislike_count = dislike_count - (OLD.kind = 'dislike')
        WHERE id = OLD.item_id;
    UPDATE items SET like_count = like_count + (NEW.kind = 'like'), dislike_count = dislike_count + (NEW.kind = 'dislike')
        WHERE id = NEW.item_id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER reactions_count_update;
DROP TRIGGER reactions_count_delete;
DROP TRIGGER reactions_count_insert;
DROP TABLE reactions;
