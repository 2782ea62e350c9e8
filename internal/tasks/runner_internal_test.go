package tasks

import (
	"context"
	"slices"
	"testing"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/generation"
)

// followStore holds unfinished text-to-image tasks and records which the
// follower updated; the embedded Store is nil, so any other call panics.
type followStore struct {
	Store
	tasks   []aimg.Task // by id
	updated []int64
}

func (f *followStore) FollowedTasks(_ context.Context, after int64, limit int) ([]aimg.Task, error) {
	var out []aimg.Task
	for _, t := range f.tasks {
		if t.ID > after && len(out) < limit {
			out = append(out, t)
		}
	}
	return out, nil
}

func (f *followStore) UpdateFollowedTask(_ context.Context, id int64, _ aimg.TaskUpdate) (bool, error) {
	f.updated = append(f.updated, id)
	return true, nil
}

func (f *followStore) Task(_ context.Context, id int64) (*aimg.Task, error) {
	t := f.tasks[id-1]
	return &t, nil
}

// runningImages answers every Batch with a running Job of one processing Item.
type runningImages struct{ Images }

func (runningImages) Batch(_ context.Context, jobID string) (*generation.BatchState, error) {
	return &generation.BatchState{Job: &aimg.Job{ID: jobID, Status: aimg.JobRunning, Progress: 0.5},
		Items: []*aimg.Item{{Status: aimg.StatusProcessing}}}, nil
}

// TestFollowPassVisitsEveryTaskInTurn: with more unfinished tasks than one
// pass reads, the passes go on where the last stopped and wrap around, so
// no task waits for ever behind the oldest ones.
func TestFollowPassVisitsEveryTaskInTurn(t *testing.T) {
	n := followPages*followBatch + 150
	st := &followStore{}
	for i := 1; i <= n; i++ {
		st.tasks = append(st.tasks, aimg.Task{ID: int64(i), JobID: "job", Status: aimg.TaskScheduled})
	}
	s := New(Deps{Store: st, Images: runningImages{}, Now: func() time.Time { return time.Unix(0, 0) }})
	ctx := context.Background()

	after := s.followPass(ctx, 0)
	if len(st.updated) != followPages*followBatch || after != int64(followPages*followBatch) {
		t.Fatalf("first pass: %d updated, next from %d; want %d, %d", len(st.updated), after, followPages*followBatch, followPages*followBatch)
	}
	after = s.followPass(ctx, after)
	if len(st.updated) != n || after != 0 {
		t.Fatalf("second pass: %d updated in all, next from %d; want %d, 0", len(st.updated), after, n)
	}
	seen := slices.Clone(st.updated)
	slices.Sort(seen)
	if len(slices.Compact(seen)) != n {
		t.Fatalf("a task was refreshed twice in two passes: %d distinct of %d", len(seen), n)
	}
	if s.followPass(ctx, after); st.updated[n] != 1 {
		t.Fatalf("third pass started at task %d, want the oldest again", st.updated[n])
	}
}
