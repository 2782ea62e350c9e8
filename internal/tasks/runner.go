package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"aimg/internal/aimg"
)

// The background side of the engine: the text task runner, the loop that
// follows text-to-image Jobs, webhook delivery and expiry. Each loop stops
// when its context ends.

// notify wakes an idle runner slot: a text task was just scheduled.
func (s *Service) notify() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// runnable are the types the runner claims.
func (s *Service) runnable() []string {
	var out []string
	for _, t := range catalogue {
		if t.ID != aimg.TaskTypeText2Image && s.serves(t.ID) {
			out = append(out, t.ID)
		}
	}
	return out
}

// RunTasks runs cfg.Runners slots that claim and run text tasks until ctx
// ends; owner names this process in the leases (owner/<slot>).
func (s *Service) RunTasks(ctx context.Context, owner string) {
	types := s.runnable()
	if len(types) == 0 {
		return
	}
	var wg sync.WaitGroup
	for i := range s.cfg.Runners {
		wg.Go(func() { s.slot(ctx, fmt.Sprintf("%s/%d", owner, i), types) })
	}
	wg.Wait()
}

func (s *Service) slot(ctx context.Context, owner string, types []string) {
	for ctx.Err() == nil {
		ran, err := s.RunOne(ctx, owner, types)
		if err != nil && ctx.Err() == nil {
			s.log.Error("task runner", "owner", owner, "err", err)
		}
		if ran {
			continue
		}
		select {
		case <-ctx.Done():
		case <-s.wake:
		case <-time.After(s.cfg.Poll):
		}
	}
}

// RunOne claims one text task and runs it; it tells whether there was one.
func (s *Service) RunOne(ctx context.Context, owner string, types []string) (bool, error) {
	t, err := s.store.ClaimTask(ctx, aimg.TaskClaim{Owner: owner, Types: types, Lease: s.cfg.Lease, Now: s.now()})
	if aimg.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	l := aimg.TaskLease{TaskID: t.ID, Owner: owner}
	runCtx, cancel := context.WithTimeout(ctx, s.cfg.RunTimeout)
	defer cancel()
	stopBeat := s.heartbeat(runCtx, cancel, l)
	out, runErr := s.run(runCtx, t)
	stopBeat()
	now := s.now()
	switch {
	case ctx.Err() != nil:
		// Stopping: the lease runs out and another runner takes the task.
		return true, nil
	case runErr == nil:
		b, err := json.Marshal(map[string]string{"output": out})
		if err != nil {
			return true, err
		}
		err = s.store.FinishTask(ctx, l, aimg.TaskSuccessful, b, "", now)
		s.log.Info("task done", "task", t.ID, "type", t.Type, "err", err)
		return true, ignoreLost(err)
	case aimg.ErrorCode(runErr) == aimg.CodeInvalid:
		err := s.store.FinishTask(ctx, l, aimg.TaskFailed, nil, runErr.Error(), now)
		s.log.Info("task failed", "task", t.ID, "type", t.Type, "reason", runErr)
		return true, ignoreLost(err)
	default:
		if errors.Is(runErr, context.DeadlineExceeded) {
			runErr = fmt.Errorf("the provider did not answer within %s", s.cfg.RunTimeout)
		}
		failed, err := s.store.RetryTask(ctx, l, runErr.Error(), now)
		s.log.Warn("task attempt failed", "task", t.ID, "type", t.Type, "attempt", t.Attempts, "final", failed, "reason", runErr)
		return true, ignoreLost(err)
	}
}

// ignoreLost: a task cancelled or taken over while it ran is not an error.
func ignoreLost(err error) error {
	if errors.Is(err, aimg.ErrLeaseLost) {
		return nil
	}
	return err
}

// heartbeat renews l's lease while the task runs and cancels the run when
// the lease is lost (the task was cancelled or deleted).
func (s *Service) heartbeat(ctx context.Context, cancel context.CancelFunc, l aimg.TaskLease) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(s.cfg.Lease / 3)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
				now := s.now()
				err := s.store.HeartbeatTask(ctx, l, 0.5, now, now.Add(s.cfg.Lease))
				if errors.Is(err, aimg.ErrLeaseLost) {
					cancel()
					return
				}
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// run does a text task's work on its provider.
func (s *Service) run(ctx context.Context, t *aimg.Task) (string, error) {
	var in map[string]string
	if err := json.Unmarshal(t.Input, &in); err != nil {
		return "", aimg.Invalid("input", "is not a text task's input: %v", err)
	}
	if t.Type != aimg.TaskTypeTranslate {
		return s.text.Process(ctx, t.Type, in["input"])
	}
	from := in["origin_language"]
	if from == DetectLanguage || from == "" {
		d, err := s.trans.Detect(ctx, in["input"])
		if err != nil {
			return "", err
		}
		from = d
	}
	if from == in["target_language"] {
		return in["input"], nil
	}
	return s.trans.Translate(ctx, in["input"], from, in["target_language"])
}

// followBatch is how many text-to-image tasks FollowImages reads at a time,
// and followPages how many such pages one pass reads at most: a pass costs
// at most followPages × followBatch refreshes, however many tasks wait, and
// the next pass goes on where it stopped, so every unfinished task is
// visited in turn.
const (
	followBatch = 200
	followPages = 5
)

// FollowImages brings the text-to-image tasks that have not ended up to
// date with their Jobs every cfg.Poll, on turn (one replica of several),
// so that their webhooks fire and their lastUpdated moves without anybody
// asking.
func (s *Service) FollowImages(ctx context.Context, turn aimg.Turn) {
	var after int64 // the last task id seen; 0: from the oldest
	aimg.EveryTurn(ctx, turn, "tasks.followImages", s.cfg.Poll, func(ctx context.Context) {
		after = s.followPass(ctx, after)
	})
}

// followPass refreshes up to followPages pages of unfinished text-to-image
// tasks with ids above after, and returns where the next pass starts.
func (s *Service) followPass(ctx context.Context, after int64) int64 {
	for range followPages {
		ts, err := s.store.FollowedTasks(ctx, after, followBatch)
		if err != nil {
			s.log.Error("following text-to-image tasks", "err", err)
			return after
		}
		for i := range ts {
			if _, err := s.refresh(ctx, &ts[i]); err != nil && ctx.Err() == nil {
				s.log.Error("following a text-to-image task", "task", ts[i].ID, "err", err)
			}
		}
		if len(ts) < followBatch {
			return 0 // the end: the next pass starts from the oldest again
		}
		after = ts[len(ts)-1].ID
	}
	return after
}

// refresh updates a text-to-image task from its Job's Items; other tasks
// are returned as they are.
func (s *Service) refresh(ctx context.Context, t *aimg.Task) (*aimg.Task, error) {
	if t.JobID == "" || t.Status.Ended() {
		return t, nil
	}
	b, err := s.images.Batch(ctx, t.JobID)
	if err != nil {
		return nil, err
	}
	u := aimg.TaskUpdate{Status: aimg.TaskScheduled, CompletionExpectedAt: &b.ETA, Now: s.now()}
	done := 0
	for _, it := range b.Items {
		switch it.Status {
		case aimg.StatusFailed:
			u.Status, u.Error = aimg.TaskFailed, it.Error
		case aimg.StatusCompleted:
			done++
			u.Files = append(u.Files, it.FileID)
		case aimg.StatusProcessing:
			if u.Status == aimg.TaskScheduled {
				u.Status = aimg.TaskRunning
			}
		}
	}
	switch {
	case u.Status == aimg.TaskFailed && u.Error == "cancelled":
		u.Status = aimg.TaskCancelled
	case u.Status != aimg.TaskFailed && len(b.Items) > 0 && done == len(b.Items):
		u.Status = aimg.TaskSuccessful
	case b.Job.Status == aimg.JobRunning:
		u.Status = aimg.TaskRunning
	}
	if u.Status == aimg.TaskRunning {
		p := b.Job.Progress
		u.Progress = &p
	}
	if u.Status == aimg.TaskSuccessful {
		one := 1.0
		u.Progress = &one
	}
	if u.Status == t.Status && !u.Status.Ended() && samePointer(u.Progress, t.Progress) {
		return t, nil // nothing moved: lastUpdated stays
	}
	if _, err := s.store.UpdateFollowedTask(ctx, t.ID, u); err != nil {
		return nil, err
	}
	return s.store.Task(ctx, t.ID)
}

func samePointer(a, b *float64) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

// expireBatch is how many expired tasks one pass removes.
const expireBatch = 1000

// Expire removes, every cfg.ExpireEvery on turn (one replica of
// several), the tasks last updated more than cfg.TTL ago.
func (s *Service) Expire(ctx context.Context, turn aimg.Turn) {
	aimg.EveryTurn(ctx, turn, "tasks.expire", s.cfg.ExpireEvery, func(ctx context.Context) {
		var removed int64
		defer func() {
			if removed > 0 {
				s.log.Info("removed expired tasks", "count", removed)
			}
		}()
		for ctx.Err() == nil {
			n, err := s.store.DeleteTasksUpdatedBefore(ctx, s.now().Add(-s.cfg.TTL), expireBatch)
			removed += n
			if err != nil {
				s.log.Error("removing expired tasks", "err", err)
				return
			}
			if n < expireBatch {
				return
			}
		}
	})
}
