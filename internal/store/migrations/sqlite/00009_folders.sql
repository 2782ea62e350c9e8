-- +goose Up
-- Private Folders (issue 7). items.folder_id (00003) names one; no foreign
-- key: existing rows and tests may carry folder ids without a row, and
-- deleting a Folder moves its Items to the root in the same transaction.
-- Item counts per Folder are item_counts' (00006) triggers.
CREATE TABLE folders (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX folders_user_created ON folders (user_id, created_at DESC, id);

-- A Folder's Thumbnails (at most 4, library.MaxThumbnails), in the order
-- added. A row whose Item left the Folder is ignored on read and dropped
-- by the next thumbnail call on that Folder.
CREATE TABLE folder_thumbnails (
    folder_id TEXT NOT NULL,
    item_id TEXT NOT NULL,
    position BIGINT NOT NULL,
    PRIMARY KEY (folder_id, item_id)
);

-- +goose Down
DROP TABLE folder_thumbnails;
DROP TABLE folders;
