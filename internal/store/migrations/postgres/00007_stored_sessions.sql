-- +goose Up
-- Sessions are stored only once they own something (a guest record or an
-- account): an anonymous session that owns nothing is the same as an
-- unknown id, which starts a new anonymous session under that id. Rows
-- written before this rule hold nothing and go.
DELETE FROM sessions WHERE user_id IS NULL;

-- +goose Down
-- Nothing to restore: the deleted rows held nothing.
SELECT 1;
