package generation

import (
	"context"
	"errors"

	"aimg/internal/aimg"
)

// MaxCancelItems is the most Items one cancelGeneration call may name
// (DECISIONS.md: 1,000 Items per bulk call).
const MaxCancelItems = 1000

// CancelResult is one Item's entry in cancelGeneration's answer.
type CancelResult struct {
	ID  string
	Err error // nil: cancelled
}

// Message is why the Item was not cancelled, safe to show ("" on success).
func (r CancelResult) Message() string {
	var e *aimg.Error
	switch {
	case r.Err == nil:
		return ""
	case errors.As(r.Err, &e):
		return e.Message
	}
	return "Item not cancelled"
}

var errItemNotFound = aimg.Errorf(aimg.CodeNotFound, "Item not found")

// Cancel is cancelGeneration: the Jobs of the Items ids, and of every
// Item of batchID, are cancelled when still queued or running. A queued
// Job leaves its queue at once; a running one is told at its worker's
// next heartbeat (aimg.ErrJobCancelled), which interrupts its backend.
// The Items fail with reason "cancelled". A Job renders its Items
// together, so cancelling one Item cancels its whole Job, the Job's other
// Items included. Only the owner (or an Admin) may cancel: another user's
// Item is "not found", as if it did not exist.
func (s *Service) Cancel(ctx context.Context, c aimg.Caller, ids []string, batchID string) ([]CancelResult, error) {
	seen := map[string]bool{}
	var all []string
	add := func(id string) {
		if !seen[id] {
			seen[id] = true
			all = append(all, id)
		}
	}
	for _, id := range ids {
		add(id)
	}
	if batchID != "" {
		owner := ""
		if !c.Admin {
			if c.User == nil {
				return nil, &aimg.Error{Code: aimg.CodeNotFound, Field: "batchID", Message: "batchID: Batch not found"}
			}
			owner = c.User.ID
		}
		var items []*aimg.Item
		var err error
		if len(batchID) <= 200 {
			items, err = s.store.BatchItems(ctx, owner, batchID)
		}
		if err != nil {
			return nil, err
		}
		if len(items) == 0 {
			return nil, &aimg.Error{Code: aimg.CodeNotFound, Field: "batchID", Message: "batchID: Batch not found"}
		}
		for _, it := range items {
			add(it.ID)
		}
	}
	if len(all) == 0 {
		return nil, aimg.Invalid("imageIDs", "is required: one or more Item ids, or batchID")
	}
	if len(all) > MaxCancelItems {
		return nil, aimg.Invalid("imageIDs", "at most %d Items per call, got %d", MaxCancelItems, len(all))
	}
	out := make([]CancelResult, len(all))
	var valid []string
	for i, id := range all {
		out[i].ID = id
		if len(id) > 200 {
			out[i].Err = errItemNotFound
			continue
		}
		valid = append(valid, id)
	}
	res, err := s.store.CancelItems(ctx, aimg.CancelRequest{IDs: valid, At: s.now(), Check: func(it *aimg.Item) error {
		switch {
		case c.Admin:
			return nil
		case c.User == nil || it.UserID != c.User.ID || it.DeletedAt != nil:
			return errItemNotFound
		}
		return nil
	}})
	if err != nil {
		return nil, err
	}
	byID := map[string]aimg.CancelOutcome{}
	var jobs []string
	for _, o := range res {
		byID[o.ID] = o
		if o.Err == nil && !contains(jobs, o.JobID) {
			jobs = append(jobs, o.JobID)
			s.log.InfoContext(ctx, "job cancelled", "job", o.JobID, "was_running", o.WasRunning, "admin", c.Admin)
		}
	}
	for i := range out {
		if o, ok := byID[out[i].ID]; ok {
			out[i].Err = o.Err
			if aimg.IsNotFound(o.Err) {
				out[i].Err = errItemNotFound
			}
		}
	}
	if len(jobs) > 0 {
		s.changed(jobs...)
	}
	return out, nil
}
