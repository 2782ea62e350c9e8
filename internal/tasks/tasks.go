package tasks

import (
	"context"
	"encoding/json"
	"slices"

	"aimg/internal/aimg"
)

// The caller's tasks: reading, listing, cancelling, deleting, their files.

var errTaskNotFound = aimg.Errorf(aimg.CodeNotFound, "Task not found")

// Task returns the caller's task id, brought up to date; another user's
// task, or an expired one, is not found.
func (s *Service) Task(ctx context.Context, c aimg.Caller, id int64) (*aimg.Task, error) {
	t, err := s.own(ctx, c, id)
	if err != nil {
		return nil, err
	}
	return s.refresh(ctx, t)
}

func (s *Service) own(ctx context.Context, c aimg.Caller, id int64) (*aimg.Task, error) {
	if c.User == nil {
		return nil, errTaskNotFound
	}
	t, err := s.store.Task(ctx, id)
	if aimg.IsNotFound(err) {
		return nil, errTaskNotFound
	}
	if err != nil {
		return nil, err
	}
	if t.UserID != c.User.ID || t.LastUpdated.Before(s.now().Add(-s.cfg.TTL)) {
		return nil, errTaskNotFound
	}
	return t, nil
}

// Tasks lists the caller's tasks f selects (f.UserID is set here).
func (s *Service) Tasks(ctx context.Context, c aimg.Caller, f aimg.TaskFilter) ([]aimg.Task, error) {
	if c.User == nil || !storableFilter(f) {
		return []aimg.Task{}, nil // a value no task can hold matches none
	}
	f.UserID, f.UpdatedSince, f.Limit = c.User.ID, s.now().Add(-s.cfg.TTL), s.cfg.ListLimit
	ts, err := s.store.Tasks(ctx, f)
	if err != nil {
		return nil, err
	}
	for i := range ts {
		t, err := s.refresh(ctx, &ts[i])
		if err != nil {
			return nil, err
		}
		ts[i] = *t
	}
	if ts == nil {
		ts = []aimg.Task{}
	}
	return ts, nil
}

func storableFilter(f aimg.TaskFilter) bool {
	if !storableText(f.AppID) || (f.CustomID != nil && !storableText(*f.CustomID)) {
		return false
	}
	for _, t := range f.Types {
		if !storableText(t) {
			return false
		}
	}
	return true
}

// Cancel cancels the caller's task if it has not ended, and returns it.
// A text-to-image task's Job is cancelled through cancelGeneration's path.
func (s *Service) Cancel(ctx context.Context, c aimg.Caller, id int64) (*aimg.Task, error) {
	t, err := s.own(ctx, c, id)
	if err != nil {
		return nil, err
	}
	if t.Status.Ended() {
		return t, nil
	}
	if t.JobID != "" {
		b, err := s.images.Batch(ctx, t.JobID)
		if err != nil {
			return nil, err
		}
		if _, err := s.images.Cancel(ctx, c, b.Job.ItemIDs, ""); err != nil {
			return nil, err
		}
	}
	if _, err := s.store.CancelTask(ctx, id, s.now()); err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "task cancelled", "task", id)
	return s.store.Task(ctx, id)
}

// Delete cancels the caller's task and removes it. Its images stay in the
// user's library.
func (s *Service) Delete(ctx context.Context, c aimg.Caller, id int64) (*aimg.Task, error) {
	t, err := s.Cancel(ctx, c, id)
	if err != nil {
		return nil, err
	}
	if err := s.store.DeleteTask(ctx, id); err != nil {
		return nil, err
	}
	return t, nil
}

// Image returns the File of image index of the caller's successful
// text-to-image task.
func (s *Service) Image(ctx context.Context, c aimg.Caller, id int64, index int) (string, error) {
	t, err := s.Task(ctx, c, id)
	if err != nil {
		return "", err
	}
	notFound := aimg.Errorf(aimg.CodeNotFound, "Image not found")
	if t.JobID == "" || t.Status != aimg.TaskSuccessful {
		return "", notFound
	}
	ids := OutputImages(t)
	if index < 0 || index >= len(ids) {
		return "", notFound
	}
	f, err := s.store.TaskFile(ctx, t.ID, ids[index])
	if aimg.IsNotFound(err) {
		return "", notFound
	}
	if err != nil {
		return "", err
	}
	return f.FileID, nil
}

// OutputImages are a text-to-image task's output file ids, in order.
func OutputImages(t *aimg.Task) []int64 {
	var out struct {
		Images []int64 `json:"images"`
	}
	if t.Output != nil {
		_ = json.Unmarshal(t.Output, &out)
	}
	return out.Images
}

// File returns the File behind task file fileID of the caller's task
// taskID; only files of that task's output are found.
func (s *Service) File(ctx context.Context, c aimg.Caller, taskID, fileID int64) (string, error) {
	t, err := s.own(ctx, c, taskID)
	if err != nil {
		return "", err
	}
	if !slices.Contains(OutputImages(t), fileID) {
		return "", aimg.Errorf(aimg.CodeNotFound, "Not found")
	}
	f, err := s.store.TaskFile(ctx, t.ID, fileID)
	if err != nil {
		return "", err
	}
	return f.FileID, nil
}
