-- +goose Up
-- The public feeds (getPublicCreations, getLatestItems, getSampleItems)
-- read publicly visible Items: public, in a Public Folder (ids "p-…"),
-- not deleted. Each index's predicate is store.publiclyVisible, word for
-- word, so that both databases use it.
CREATE INDEX items_public_created ON items (created_at DESC, id DESC)
    WHERE is_public AND folder_id LIKE 'p-%' AND deleted_at IS NULL;
CREATE INDEX items_public_user_created ON items (user_id, created_at DESC, id DESC)
    WHERE is_public AND folder_id LIKE 'p-%' AND deleted_at IS NULL;
CREATE INDEX items_public_published ON items (folder_added_at DESC, id DESC)
    WHERE is_public AND folder_id LIKE 'p-%' AND deleted_at IS NULL;
CREATE INDEX items_public_liked ON items (like_count DESC, id DESC)
    WHERE is_public AND folder_id LIKE 'p-%' AND deleted_at IS NULL;

-- getItems (Admin) over every user: newest first, by Folder, by approval
-- state (the review queue of pending Items).
CREATE INDEX items_created ON items (created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX items_folder_created ON items (folder_id, created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX items_approval_created ON items (public_approval_status, created_at DESC, id DESC) WHERE deleted_at IS NULL;

-- viewCount: one view per viewer (account, or client address for the
-- anonymous) and Item per hour; rows older than that are purged.
CREATE TABLE item_views (
    item_id TEXT NOT NULL,
    viewer TEXT NOT NULL,
    viewed_at BIGINT NOT NULL,
    PRIMARY KEY (item_id, viewer)
);
CREATE INDEX item_views_viewed ON item_views (viewed_at);

-- +goose Down
DROP TABLE item_views;
DROP INDEX items_approval_created;
DROP INDEX items_folder_created;
DROP INDEX items_created;
DROP INDEX items_public_liked;
DROP INDEX items_public_published;
DROP INDEX items_public_user_created;
DROP INDEX items_public_created;
