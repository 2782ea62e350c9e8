package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"aimg/internal/aimg"
)

// itemColumns is the column list scanItem reads, in order.
const itemColumns = `id, user_id, batch_id, job_id, mtype, media_type, status, error, model_id, prompt, negprompt,
	raw_prompt, raw_negprompt, ignored_words, params, generator_version, workflow_template_name,
	workflow_run_parameters, file_id, frames, folder_id, folder_added_at, is_public, public_approval_status,
	is_protected, view_count, like_count, dislike_count, created_at, updated_at, completed_at, deleted_at,
	removed_by_report`

func scanItem(row interface{ Scan(...any) error }) (*aimg.Item, error) {
	var (
		it                              aimg.Item
		status                          string
		params, wfParams, frames        string
		folderID                        sql.NullString
		folderAdded, completed, deleted sql.NullInt64
		created, updated                int64
	)
	err := row.Scan(&it.ID, &it.UserID, &it.BatchID, &it.JobID, &it.MType, &it.MediaType, &status, &it.Error,
		&it.ModelID, &it.Prompt, &it.NegPrompt, &it.RawPrompt, &it.RawNegPrompt, &it.IgnoredWords, &params,
		&it.GeneratorVersion, &it.WorkflowTemplateName, &wfParams, &it.FileID, &frames, &folderID, &folderAdded,
		&it.IsPublic, &it.PublicApprovalStatus, &it.IsProtected, &it.ViewCount, &it.LikeCount, &it.DislikeCount,
		&created, &updated, &completed, &deleted, &it.RemovedByReport)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, aimg.Errorf(aimg.CodeNotFound, "Item not found")
	}
	if err != nil {
		return nil, err
	}
	it.Status = aimg.ItemStatus(status)
	if err := json.Unmarshal([]byte(params), &it.Params); err != nil {
		return nil, fmt.Errorf("item %s params: %w", it.ID, err)
	}
	if err := json.Unmarshal([]byte(wfParams), &it.WorkflowRunParameters); err != nil {
		return nil, fmt.Errorf("item %s workflow parameters: %w", it.ID, err)
	}
	if err := json.Unmarshal([]byte(frames), &it.Frames); err != nil {
		return nil, fmt.Errorf("item %s frames: %w", it.ID, err)
	}
	it.FolderID = folderID.String
	it.FolderAddedAt = fromNullMS(folderAdded)
	it.CreatedAt, it.UpdatedAt = fromMS(created), fromMS(updated)
	it.CompletedAt, it.DeletedAt = fromNullMS(completed), fromNullMS(deleted)
	return &it, nil
}

// scanItems reads every row of rows.
func scanItems(rows *sql.Rows) ([]*aimg.Item, error) {
	defer rows.Close()
	var items []*aimg.Item
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	return items, rows.Err()
}

func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// itemRow is the column values of it in itemColumns order, with the
// defaults a new Item gets.
func itemRow(it *aimg.Item) ([]any, error) {
	params, err := jsonText(it.Params)
	if err != nil {
		return nil, err
	}
	wf := it.WorkflowRunParameters
	if wf == nil {
		wf = []aimg.WorkflowRunParameter{}
	}
	wfParams, err := jsonText(wf)
	if err != nil {
		return nil, err
	}
	fr := it.Frames
	if fr == nil {
		fr = []aimg.Frame{}
	}
	frames, err := jsonText(fr)
	if err != nil {
		return nil, err
	}
	approval := it.PublicApprovalStatus
	if approval == "" {
		approval = aimg.ApprovalNone
	}
	gen := it.GeneratorVersion
	if gen == "" {
		gen = "1"
	}
	return []any{it.ID, it.UserID, it.BatchID, it.JobID, it.MType, it.MediaType, string(it.Status), it.Error, it.ModelID,
		it.Prompt, it.NegPrompt, it.RawPrompt, it.RawNegPrompt, it.IgnoredWords, params, gen,
		it.WorkflowTemplateName, wfParams, it.FileID, frames, nullString(it.FolderID), nullMS(it.FolderAddedAt),
		it.IsPublic, approval, it.IsProtected, it.ViewCount, it.LikeCount, it.DislikeCount,
		ms(it.CreatedAt), ms(it.UpdatedAt), nullMS(it.CompletedAt), nullMS(it.DeletedAt), it.RemovedByReport}, nil
}

// ItemByID returns the Item, deleted or not.
func (s *Store) ItemByID(ctx context.Context, id string) (*aimg.Item, error) {
	return scanItem(s.r.QueryRowContext(ctx, `SELECT `+itemColumns+` FROM items WHERE id = $1`, id))
}
