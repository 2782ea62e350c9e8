package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"aimg/internal/aimg"
	"aimg/internal/store"
	"aimg/internal/testsupport"
)

const taskLease = time.Minute

// textTask is a scheduled text task of typ for user, last updated at.
func textTask(userID, typ string, at time.Time) *aimg.Task {
	return &aimg.Task{Type: typ, UserID: userID, AppID: "assistant", Input: json.RawMessage(`{"input":"hello"}`),
		Status: aimg.TaskScheduled, MaxAttempts: 2, ScheduledAt: at, LastUpdated: at}
}

// imageTask is a text-to-image task following a Job.
func imageTask(userID string, at time.Time) *aimg.Task {
	t := textTask(userID, aimg.TaskTypeText2Image, at)
	t.Input = json.RawMessage(`{"input":"a red sun","numberOfImages":2}`)
	t.JobID = uuid.NewString()
	return t
}

func createTask(t testing.TB, st *store.Store, task *aimg.Task) *aimg.Task {
	t.Helper()
	if err := st.CreateTask(context.Background(), task); err != nil {
		t.Fatalf("create task: %v", err)
	}
	return task
}

func readTask(t testing.TB, st *store.Store, id int64) *aimg.Task {
	t.Helper()
	task, err := st.Task(context.Background(), id)
	if err != nil {
		t.Fatalf("task %d: %v", id, err)
	}
	return task
}

func claimTask(st *store.Store, owner string, now time.Time, types ...string) (*aimg.Task, error) {
	return st.ClaimTask(context.Background(), aimg.TaskClaim{Owner: owner, Types: types, Lease: taskLease, Now: now})
}

func mustClaimTask(t testing.TB, st *store.Store, owner string, now time.Time, types ...string) *aimg.Task {
	t.Helper()
	task, err := claimTask(st, owner, now, types...)
	if err != nil {
		t.Fatalf("claim task %v at %s: %v", types, now, err)
	}
	return task
}

func expectNoTask(t testing.TB, st *store.Store, now time.Time, types ...string) {
	t.Helper()
	if task, err := claimTask(st, "nobody", now, types...); !aimg.IsNotFound(err) {
		t.Fatalf("claim %v at %s: %+v %v, want not found", types, now, task, err)
	}
}

func countTaskFiles(t testing.TB, st *store.Store, taskID int64) int {
	t.Helper()
	var n int
	if err := st.QueryRowForTest(context.Background(), `SELECT COUNT(*) FROM task_files WHERE task_id = $1`, taskID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func sameTime(a, b *time.Time) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && a.Equal(*b))
}

func TestTaskCreateRead(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		u := newUser(t, st)
		eta := t0.Add(time.Minute)
		progress := 0.25
		in := &aimg.Task{Type: aimg.TaskTypeSummary, UserID: u.ID, AppID: "app", CustomID: "c-1",
			Input: json.RawMessage(`{"input":"long text"}`), Output: json.RawMessage(`{"output":"short"}`),
			Status: aimg.TaskRunning, Progress: &progress, Error: "none yet", WebhookURI: "https://example.com/hook",
			WebhookMethod: "HTTP:POST", MaxAttempts: 3, ScheduledAt: t0, LastUpdated: t0.Add(time.Second),
			CompletionExpectedAt: &eta}
		createTask(t, st, in)
		got := readTask(t, st, in.ID)
		if got.ID != in.ID || got.Type != in.Type || got.UserID != u.ID || got.AppID != "app" || got.CustomID != "c-1" ||
			string(got.Input) != string(in.Input) || string(got.Output) != string(in.Output) || got.Status != aimg.TaskRunning ||
			got.Progress == nil || *got.Progress != progress || got.Error != "none yet" || got.JobID != "" ||
			got.WebhookURI != in.WebhookURI || got.WebhookMethod != "HTTP:POST" || got.MaxAttempts != 3 || got.Attempts != 0 ||
			got.LeaseOwner != "" || got.LeaseExpiresAt != nil || !got.ScheduledAt.Equal(t0) ||
			!got.LastUpdated.Equal(t0.Add(time.Second)) || !sameTime(got.CompletionExpectedAt, &eta) ||
			got.StartedAt != nil || got.EndedAt != nil {
			t.Fatalf("read back %+v\nwrote %+v", got, in)
		}

		// A fresh task has no output and no progress (NULL, not "null").
		plain := createTask(t, st, textTask(u.ID, aimg.TaskTypeText2Text, t0))
		if got := readTask(t, st, plain.ID); got.Output != nil || got.Progress != nil || got.CompletionExpectedAt != nil {
			t.Fatalf("fresh task: output %q progress %v eta %v", got.Output, got.Progress, got.CompletionExpectedAt)
		}

		// Integer ids, increasing.
		prev := plain.ID
		for range 3 {
			next := createTask(t, st, textTask(u.ID, aimg.TaskTypeText2Text, t0))
			if next.ID <= prev {
				t.Fatalf("id %d after %d", next.ID, prev)
			}
			prev = next.ID
		}

		if _, err := st.Task(ctx, prev+100); !aimg.IsNotFound(err) {
			t.Fatalf("unknown task: %v, want not found", err)
		}
	})
}

func TestTasksFilters(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		u, other := newUser(t, st), newUser(t, st)
		mk := func(userID, app, custom, typ string, updated time.Time) int64 {
			task := textTask(userID, typ, updated)
			task.AppID, task.CustomID = app, custom
			return createTask(t, st, task).ID
		}
		a := mk(u.ID, "a1", "x", aimg.TaskTypeText2Text, t0)
		b := mk(u.ID, "a1", "", aimg.TaskTypeSummary, t0.Add(time.Hour))
		c := mk(u.ID, "a2", "x", aimg.TaskTypeText2Image, t0.Add(2*time.Hour))
		d := mk(u.ID, "a2", "y", aimg.TaskTypeText2Text, t0.Add(-time.Hour)) // expired below
		mk(other.ID, "a1", "x", aimg.TaskTypeText2Text, t0)

		str := func(s string) *string { return &s }
		for _, tc := range []struct {
			name string
			f    aimg.TaskFilter
			want []int64
		}{
			{"user", aimg.TaskFilter{}, []int64{a, b, c, d}},
			{"app", aimg.TaskFilter{AppID: "a1"}, []int64{a, b}},
			{"customId", aimg.TaskFilter{CustomID: str("x")}, []int64{a, c}},
			{"empty customId", aimg.TaskFilter{CustomID: str("")}, []int64{b}},
			{"app and customId", aimg.TaskFilter{AppID: "a2", CustomID: str("x")}, []int64{c}},
			{"one type", aimg.TaskFilter{Types: []string{aimg.TaskTypeText2Text}}, []int64{a, d}},
			{"two types", aimg.TaskFilter{Types: []string{aimg.TaskTypeSummary, aimg.TaskTypeText2Image}}, []int64{b, c}},
			{"expiry cut", aimg.TaskFilter{UpdatedSince: t0}, []int64{a, b, c}},
			{"expiry cut later", aimg.TaskFilter{UpdatedSince: t0.Add(time.Hour)}, []int64{b, c}},
			{"everything", aimg.TaskFilter{AppID: "a1", CustomID: str("x"), Types: []string{aimg.TaskTypeText2Text}, UpdatedSince: t0}, []int64{a}},
			{"nothing", aimg.TaskFilter{AppID: "none"}, nil},
			{"limit", aimg.TaskFilter{Limit: 2}, []int64{a, b}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				f := tc.f
				f.UserID = u.ID
				if f.UpdatedSince.IsZero() {
					f.UpdatedSince = t0.Add(-24 * time.Hour)
				}
				if f.Limit == 0 {
					f.Limit = 100
				}
				got, err := st.Tasks(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				var ids []int64
				for _, task := range got {
					if task.UserID != u.ID {
						t.Fatalf("task of user %s listed", task.UserID)
					}
					ids = append(ids, task.ID)
				}
				if fmt.Sprint(ids) != fmt.Sprint(tc.want) {
					t.Fatalf("ids %v, want %v", ids, tc.want)
				}
			})
		}
		// A zero Limit is no limit, not "none".
		got, err := st.Tasks(ctx, aimg.TaskFilter{UserID: u.ID})
		if err != nil || len(got) != 4 {
			t.Fatalf("zero limit: %d tasks %v, want 4", len(got), err)
		}
	})
}

func TestClaimTaskOrderAndTypes(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		u := newUser(t, st)
		img := createTask(t, st, imageTask(u.ID, t0)) // followed: never claimed
		// A task that follows a Job is never claimed, whatever its type.
		withJob := imageTask(u.ID, t0)
		withJob.Type = aimg.TaskTypeText2Text
		imgText := createTask(t, st, withJob)
		sum := createTask(t, st, textTask(u.ID, aimg.TaskTypeSummary, t0))    // oldest summary
		free := createTask(t, st, textTask(u.ID, aimg.TaskTypeText2Text, t0)) // oldest free prompt
		sum2 := createTask(t, st, textTask(u.ID, aimg.TaskTypeSummary, t0))   // next summary
		head := createTask(t, st, textTask(u.ID, aimg.TaskTypeHeadline, t0))  // never asked for
		done := createTask(t, st, textTask(u.ID, aimg.TaskTypeTopics, t0))    // cancelled before the claim
		if ok, err := st.CancelTask(context.Background(), done.ID, t0); !ok || err != nil {
			t.Fatalf("cancel: %v %v", ok, err)
		}

		expectNoTask(t, st, t0)                          // no types: nothing
		expectNoTask(t, st, t0, aimg.TaskTypeTranslate)  // none of that type
		expectNoTask(t, st, t0, aimg.TaskTypeText2Image) // text-to-image tasks follow their Jobs
		expectNoTask(t, st, t0, aimg.TaskTypeTopics)     // ended
		now := t0.Add(time.Second)
		got := mustClaimTask(t, st, "r1", now, aimg.TaskTypeSummary, aimg.TaskTypeText2Text)
		if got.ID != sum.ID {
			t.Fatalf("claimed %d, want the oldest %d", got.ID, sum.ID)
		}
		if got.Status != aimg.TaskRunning || got.LeaseOwner != "r1" || !sameTime(got.LeaseExpiresAt, ptr(now.Add(taskLease))) ||
			got.Attempts != 1 || !sameTime(got.StartedAt, &now) || got.Progress == nil || *got.Progress != 0 ||
			!got.LastUpdated.Equal(now) {
			t.Fatalf("claimed task %+v", got)
		}
		if got := mustClaimTask(t, st, "r1", now, aimg.TaskTypeSummary, aimg.TaskTypeText2Text); got.ID != free.ID {
			t.Fatalf("second claim %d, want %d", got.ID, free.ID)
		}
		if got := mustClaimTask(t, st, "r1", now, aimg.TaskTypeSummary); got.ID != sum2.ID {
			t.Fatalf("third claim %d, want %d", got.ID, sum2.ID)
		}
		expectNoTask(t, st, now, aimg.TaskTypeSummary, aimg.TaskTypeText2Text)
		for _, id := range []int64{img.ID, imgText.ID, head.ID} {
			if task := readTask(t, st, id); task.Status != aimg.TaskScheduled || task.Attempts != 0 {
				t.Fatalf("task %d touched: %+v", id, task)
			}
		}
	})
}

func ptr[T any](v T) *T { return &v }

func TestClaimTaskExpiredLease(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		u := newUser(t, st)
		hooked := textTask(u.ID, aimg.TaskTypeText2Text, t0)
		hooked.WebhookURI, hooked.WebhookMethod = "https://example.com/h", "HTTP:POST"
		task := createTask(t, st, hooked) // MaxAttempts 2
		first := mustClaimTask(t, st, "r1", t0, aimg.TaskTypeText2Text)

		// Not before the lease has passed.
		expectNoTask(t, st, t0.Add(taskLease), aimg.TaskTypeText2Text)
		later := t0.Add(taskLease + time.Millisecond)
		second := mustClaimTask(t, st, "r2", later, aimg.TaskTypeText2Text)
		if second.ID != task.ID || second.Attempts != 2 || second.LeaseOwner != "r2" || !sameTime(second.StartedAt, first.StartedAt) {
			t.Fatalf("take-over: %+v", second)
		}
		// The first runner is fenced off.
		old := aimg.TaskLease{TaskID: task.ID, Owner: "r1"}
		if err := st.HeartbeatTask(ctx, old, 0.5, later, later.Add(taskLease)); !errors.Is(err, aimg.ErrLeaseLost) {
			t.Fatalf("heartbeat of the old owner: %v", err)
		}
		if err := st.FinishTask(ctx, old, aimg.TaskSuccessful, json.RawMessage(`{"output":"x"}`), "", later); !errors.Is(err, aimg.ErrLeaseLost) {
			t.Fatalf("finish of the old owner: %v", err)
		}

		// The second lease used the last attempt: when it expires the task
		// fails instead of running a third time, and its webhook is due.
		end := later.Add(taskLease + time.Millisecond)
		expectNoTask(t, st, end, aimg.TaskTypeText2Text)
		got := readTask(t, st, task.ID)
		if got.Status != aimg.TaskFailed || got.Error == "" || got.LeaseOwner != "" || got.LeaseExpiresAt != nil ||
			!sameTime(got.EndedAt, &end) || got.Attempts != 2 {
			t.Fatalf("exhausted task: %+v", got)
		}
		hooks, err := st.ClaimWebhooks(ctx, end, time.Minute, 10)
		if err != nil || len(hooks) != 1 || hooks[0].ID != task.ID {
			t.Fatalf("webhooks after the failure: %+v %v", hooks, err)
		}
	})
}

// Claimers running at once never get the same task; every task is claimed.
func TestClaimTaskConcurrent(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		u := newUser(t, st)
		const tasks = 40
		for i := range tasks {
			typ := aimg.TaskTypeText2Text
			if i%2 == 1 {
				typ = aimg.TaskTypeSummary
			}
			createTask(t, st, textTask(u.ID, typ, t0))
		}
		var (
			mu   sync.Mutex
			seen = map[int64]string{}
			wg   sync.WaitGroup
		)
		for r := range 4 {
			wg.Go(func() {
				owner := fmt.Sprint("r", r)
				for {
					task, err := claimTask(st, owner, t0, aimg.TaskTypeText2Text, aimg.TaskTypeSummary)
					if aimg.IsNotFound(err) {
						return
					}
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					if prev, dup := seen[task.ID]; dup {
						t.Errorf("task %d claimed by %s and %s", task.ID, prev, owner)
					}
					seen[task.ID] = owner
					mu.Unlock()
					if task.LeaseOwner != owner {
						t.Errorf("task %d: lease owner %q, want %q", task.ID, task.LeaseOwner, owner)
					}
					l := aimg.TaskLease{TaskID: task.ID, Owner: owner}
					if err := st.FinishTask(ctx, l, aimg.TaskSuccessful, json.RawMessage(`{"output":"ok"}`), "", t0); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		if len(seen) != tasks {
			t.Fatalf("%d tasks claimed, want %d", len(seen), tasks)
		}
	})
}

func TestTaskLeaseOwner(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		u := newUser(t, st)
		task := createTask(t, st, textTask(u.ID, aimg.TaskTypeText2Text, t0))
		mustClaimTask(t, st, "r1", t0, aimg.TaskTypeText2Text)
		mine, theirs := aimg.TaskLease{TaskID: task.ID, Owner: "r1"}, aimg.TaskLease{TaskID: task.ID, Owner: "r2"}
		unknown := aimg.TaskLease{TaskID: task.ID + 1000, Owner: "r1"}
		now := t0.Add(time.Second)

		for _, l := range []aimg.TaskLease{theirs, unknown} {
			if err := st.HeartbeatTask(ctx, l, 0.5, now, now.Add(taskLease)); !errors.Is(err, aimg.ErrLeaseLost) {
				t.Fatalf("heartbeat %+v: %v", l, err)
			}
			if err := st.FinishTask(ctx, l, aimg.TaskSuccessful, json.RawMessage(`{"output":"x"}`), "", now); !errors.Is(err, aimg.ErrLeaseLost) {
				t.Fatalf("finish %+v: %v", l, err)
			}
			if _, err := st.RetryTask(ctx, l, "boom", now); !errors.Is(err, aimg.ErrLeaseLost) {
				t.Fatalf("retry %+v: %v", l, err)
			}
		}
		if got := readTask(t, st, task.ID); got.Status != aimg.TaskRunning || got.LeaseOwner != "r1" || *got.Progress != 0 {
			t.Fatalf("after the wrong owners: %+v", got)
		}

		if err := st.HeartbeatTask(ctx, mine, 0.5, now, now.Add(taskLease)); err != nil {
			t.Fatal(err)
		}
		got := readTask(t, st, task.ID)
		if *got.Progress != 0.5 || !sameTime(got.LeaseExpiresAt, ptr(now.Add(taskLease))) || !got.LastUpdated.Equal(now) {
			t.Fatalf("after the heartbeat: %+v", got)
		}
		// The heartbeat moved the lease: no take-over at the first expiry.
		expectNoTask(t, st, t0.Add(taskLease+time.Millisecond), aimg.TaskTypeText2Text)

		end := now.Add(time.Second)
		if err := st.FinishTask(ctx, mine, aimg.TaskSuccessful, json.RawMessage(`{"output":"done"}`), "", end); err != nil {
			t.Fatal(err)
		}
		got = readTask(t, st, task.ID)
		if got.Status != aimg.TaskSuccessful || string(got.Output) != `{"output":"done"}` || *got.Progress != 1 ||
			!sameTime(got.EndedAt, &end) || got.LeaseOwner != "" || got.LeaseExpiresAt != nil || got.Error != "" {
			t.Fatalf("finished: %+v", got)
		}
		// An ended task has no lease any more.
		if err := st.HeartbeatTask(ctx, mine, 0.7, end, end.Add(taskLease)); !errors.Is(err, aimg.ErrLeaseLost) {
			t.Fatalf("heartbeat after the end: %v", err)
		}
		if err := st.FinishTask(ctx, mine, aimg.TaskFailed, nil, "late", end); !errors.Is(err, aimg.ErrLeaseLost) {
			t.Fatalf("second finish: %v", err)
		}

		// A failure keeps the progress it had and has no output.
		failing := createTask(t, st, textTask(u.ID, aimg.TaskTypeSummary, t0))
		mustClaimTask(t, st, "r1", end, aimg.TaskTypeSummary)
		fl := aimg.TaskLease{TaskID: failing.ID, Owner: "r1"}
		if err := st.FinishTask(ctx, fl, aimg.TaskFailed, nil, "the input is not text", end); err != nil {
			t.Fatal(err)
		}
		got = readTask(t, st, failing.ID)
		if got.Status != aimg.TaskFailed || got.Output != nil || got.Error != "the input is not text" || *got.Progress != 0 || got.EndedAt == nil {
			t.Fatalf("failed: %+v", got)
		}
	})
}

func TestRetryTask(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		u := newUser(t, st)
		in := textTask(u.ID, aimg.TaskTypeText2Text, t0)
		in.WebhookURI, in.WebhookMethod = "https://example.com/h", "HTTP:PUT"
		task := createTask(t, st, in) // MaxAttempts 2
		l := aimg.TaskLease{TaskID: task.ID, Owner: "r1"}

		mustClaimTask(t, st, "r1", t0, aimg.TaskTypeText2Text)
		now := t0.Add(time.Second)
		failed, err := st.RetryTask(ctx, l, "provider down", now)
		if err != nil || failed {
			t.Fatalf("first retry: failed %v %v", failed, err)
		}
		got := readTask(t, st, task.ID)
		if got.Status != aimg.TaskScheduled || got.Error != "provider down" || got.LeaseOwner != "" || got.LeaseExpiresAt != nil ||
			got.Attempts != 1 || got.EndedAt != nil || !got.LastUpdated.Equal(now) {
			t.Fatalf("after the first retry: %+v", got)
		}
		if hooks, err := st.ClaimWebhooks(ctx, now.Add(time.Hour), time.Minute, 10); err != nil || len(hooks) != 0 {
			t.Fatalf("webhook before the end: %+v %v", hooks, err)
		}

		if got := mustClaimTask(t, st, "r1", now, aimg.TaskTypeText2Text); got.ID != task.ID || got.Attempts != 2 {
			t.Fatalf("second claim: %+v", got)
		}
		end := now.Add(time.Second)
		failed, err = st.RetryTask(ctx, l, "provider still down", end)
		if err != nil || !failed {
			t.Fatalf("last retry: failed %v %v", failed, err)
		}
		got = readTask(t, st, task.ID)
		if got.Status != aimg.TaskFailed || got.Error != "provider still down" || !sameTime(got.EndedAt, &end) || got.LeaseOwner != "" {
			t.Fatalf("after the last retry: %+v", got)
		}
		expectNoTask(t, st, end.Add(time.Hour), aimg.TaskTypeText2Text)
		hooks, err := st.ClaimWebhooks(ctx, end, time.Minute, 10)
		if err != nil || len(hooks) != 1 || hooks[0].ID != task.ID || hooks[0].Status != aimg.TaskFailed {
			t.Fatalf("webhook after the failure: %+v %v", hooks, err)
		}
		if _, err := st.RetryTask(ctx, l, "again", end); !errors.Is(err, aimg.ErrLeaseLost) {
			t.Fatalf("retry of a failed task: %v", err)
		}
	})
}

func TestFollowedTasks(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		u := newUser(t, st)
		in := imageTask(u.ID, t0)
		in.WebhookURI, in.WebhookMethod = "https://example.com/h", "HTTP:GET"
		img := createTask(t, st, in)
		img2 := createTask(t, st, imageTask(u.ID, t0))
		text := createTask(t, st, textTask(u.ID, aimg.TaskTypeText2Text, t0))

		followed, err := st.FollowedTasks(ctx, 0, 10)
		if err != nil || len(followed) != 2 || followed[0].ID != img.ID || followed[1].ID != img2.ID {
			t.Fatalf("followed: %+v %v", followed, err)
		}
		if followed, err := st.FollowedTasks(ctx, 0, 1); err != nil || len(followed) != 1 || followed[0].ID != img.ID {
			t.Fatalf("followed, limit 1: %+v %v", followed, err)
		}
		if followed, err := st.FollowedTasks(ctx, img.ID, 10); err != nil || len(followed) != 1 || followed[0].ID != img2.ID {
			t.Fatalf("followed after the first: %+v %v", followed, err)
		}

		// Running, with an expected completion time.
		eta := t0.Add(time.Minute)
		now := t0.Add(time.Second)
		ok, err := st.UpdateFollowedTask(ctx, img.ID, aimg.TaskUpdate{Status: aimg.TaskRunning, Progress: ptr(0.5), CompletionExpectedAt: &eta, Now: now})
		if err != nil || !ok {
			t.Fatalf("running update: %v %v", ok, err)
		}
		got := readTask(t, st, img.ID)
		if got.Status != aimg.TaskRunning || *got.Progress != 0.5 || !sameTime(got.StartedAt, &now) || got.EndedAt != nil ||
			!sameTime(got.CompletionExpectedAt, &eta) || !got.LastUpdated.Equal(now) || got.Output != nil {
			t.Fatalf("running: %+v", got)
		}
		if hooks, _ := st.ClaimWebhooks(ctx, now.Add(time.Hour), time.Minute, 10); len(hooks) != 0 {
			t.Fatalf("webhook while running: %+v", hooks)
		}

		// Successful: two task files, the output names them in order.
		end := now.Add(time.Second)
		ok, err = st.UpdateFollowedTask(ctx, img.ID, aimg.TaskUpdate{Status: aimg.TaskSuccessful, Progress: ptr(1.0), Files: []string{"file-a", "file-b"}, Now: end})
		if err != nil || !ok {
			t.Fatalf("successful update: %v %v", ok, err)
		}
		got = readTask(t, st, img.ID)
		var out struct{ Images []int64 }
		if err := json.Unmarshal(got.Output, &out); err != nil || len(out.Images) != 2 {
			t.Fatalf("output %s: %v", got.Output, err)
		}
		if got.Status != aimg.TaskSuccessful || !sameTime(got.EndedAt, &end) || !sameTime(got.StartedAt, &now) ||
			!sameTime(got.CompletionExpectedAt, &eta) {
			t.Fatalf("successful: %+v", got)
		}
		for i, want := range []string{"file-a", "file-b"} {
			f, err := st.TaskFile(ctx, img.ID, out.Images[i])
			if err != nil || f.FileID != want || f.TaskID != img.ID || f.ID != out.Images[i] {
				t.Fatalf("task file %d: %+v %v", out.Images[i], f, err)
			}
		}
		if hooks, err := st.ClaimWebhooks(ctx, end, time.Minute, 10); err != nil || len(hooks) != 1 || hooks[0].ID != img.ID {
			t.Fatalf("webhook after the end: %+v %v", hooks, err)
		}
		if err := st.WebhookDelivered(ctx, img.ID, true, nil); err != nil {
			t.Fatal(err)
		}

		// Once: an ended task is not written again, and gets no more files.
		ok, err = st.UpdateFollowedTask(ctx, img.ID, aimg.TaskUpdate{Status: aimg.TaskSuccessful, Files: []string{"file-c"}, Now: end.Add(time.Second)})
		if err != nil || ok {
			t.Fatalf("second successful update: %v %v", ok, err)
		}
		if n := countTaskFiles(t, st, img.ID); n != 2 {
			t.Fatalf("%d task files, want 2", n)
		}
		if again := readTask(t, st, img.ID); string(again.Output) != string(got.Output) || !again.LastUpdated.Equal(end) {
			t.Fatalf("ended task changed: %+v", again)
		}
		ok, err = st.UpdateFollowedTask(ctx, img.ID, aimg.TaskUpdate{Status: aimg.TaskFailed, Error: "late", Now: end.Add(time.Second)})
		if err != nil || ok {
			t.Fatalf("failing an ended task: %v %v", ok, err)
		}

		// A failure straight from scheduled: no output, no files.
		ok, err = st.UpdateFollowedTask(ctx, img2.ID, aimg.TaskUpdate{Status: aimg.TaskFailed, Error: "the Job failed", Now: end})
		if err != nil || !ok {
			t.Fatalf("failed update: %v %v", ok, err)
		}
		if got := readTask(t, st, img2.ID); got.Status != aimg.TaskFailed || got.Error != "the Job failed" || got.Output != nil || got.EndedAt == nil {
			t.Fatalf("failed: %+v", got)
		}
		if hooks, _ := st.ClaimWebhooks(ctx, end.Add(time.Hour), time.Minute, 10); len(hooks) != 0 {
			t.Fatalf("webhook without a URI: %+v", hooks)
		}

		// A text task is the runner's, not the follower's.
		ok, err = st.UpdateFollowedTask(ctx, text.ID, aimg.TaskUpdate{Status: aimg.TaskSuccessful, Files: []string{"f"}, Now: end})
		if err != nil || ok {
			t.Fatalf("update of a text task: %v %v", ok, err)
		}
		if got := readTask(t, st, text.ID); got.Status != aimg.TaskScheduled || countTaskFiles(t, st, text.ID) != 0 {
			t.Fatalf("text task changed: %+v", got)
		}
		if ok, err := st.UpdateFollowedTask(ctx, img.ID+1000, aimg.TaskUpdate{Status: aimg.TaskRunning, Now: end}); err != nil || ok {
			t.Fatalf("update of an unknown task: %v %v", ok, err)
		}

		if followed, err := st.FollowedTasks(ctx, 0, 10); err != nil || len(followed) != 0 {
			t.Fatalf("followed after the ends: %+v %v", followed, err)
		}
	})
}

// Two followers that see the same Job finish write the task once.
func TestUpdateFollowedTaskConcurrent(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		u := newUser(t, st)
		img := createTask(t, st, imageTask(u.ID, t0))
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			written int
		)
		for range 4 {
			wg.Go(func() {
				ok, err := st.UpdateFollowedTask(ctx, img.ID, aimg.TaskUpdate{Status: aimg.TaskSuccessful, Files: []string{"a", "b"}, Now: t0})
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					written++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if written != 1 || countTaskFiles(t, st, img.ID) != 2 {
			t.Fatalf("%d writes, %d task files; want 1 and 2", written, countTaskFiles(t, st, img.ID))
		}
	})
}

func TestCancelTask(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		u := newUser(t, st)
		scheduled := createTask(t, st, textTask(u.ID, aimg.TaskTypeText2Text, t0))
		running := createTask(t, st, textTask(u.ID, aimg.TaskTypeSummary, t0))
		mustClaimTask(t, st, "r1", t0, aimg.TaskTypeSummary)
		finished := createTask(t, st, textTask(u.ID, aimg.TaskTypeHeadline, t0))
		mustClaimTask(t, st, "r1", t0, aimg.TaskTypeHeadline)
		if err := st.FinishTask(ctx, aimg.TaskLease{TaskID: finished.ID, Owner: "r1"}, aimg.TaskSuccessful, json.RawMessage(`{"output":"x"}`), "", t0); err != nil {
			t.Fatal(err)
		}

		now := t0.Add(time.Second)
		for _, task := range []*aimg.Task{scheduled, running} {
			ok, err := st.CancelTask(ctx, task.ID, now)
			if err != nil || !ok {
				t.Fatalf("cancel %d: %v %v", task.ID, ok, err)
			}
			got := readTask(t, st, task.ID)
			if got.Status != aimg.TaskCancelled || !sameTime(got.EndedAt, &now) || got.LeaseOwner != "" || got.LeaseExpiresAt != nil {
				t.Fatalf("cancelled: %+v", got)
			}
			if ok, err := st.CancelTask(ctx, task.ID, now); err != nil || ok {
				t.Fatalf("second cancel of %d: %v %v", task.ID, ok, err)
			}
		}
		// The runner of the cancelled task learns it on its next heartbeat.
		if err := st.HeartbeatTask(ctx, aimg.TaskLease{TaskID: running.ID, Owner: "r1"}, 0.5, now, now.Add(taskLease)); !errors.Is(err, aimg.ErrLeaseLost) {
			t.Fatalf("heartbeat of a cancelled task: %v", err)
		}
		if ok, err := st.CancelTask(ctx, finished.ID, now); err != nil || ok {
			t.Fatalf("cancel of a finished task: %v %v", ok, err)
		}
		if got := readTask(t, st, finished.ID); got.Status != aimg.TaskSuccessful {
			t.Fatalf("finished task became %v", got.Status)
		}
		if ok, err := st.CancelTask(ctx, finished.ID+1000, now); err != nil || ok {
			t.Fatalf("cancel of an unknown task: %v %v", ok, err)
		}
		expectNoTask(t, st, now.Add(time.Hour), aimg.TaskTypeText2Text, aimg.TaskTypeSummary)
	})
}

// finishedImageTask is a successful text-to-image task with n task files.
func finishedImageTask(t testing.TB, st *store.Store, userID string, at time.Time, n int) (*aimg.Task, []int64) {
	t.Helper()
	task := createTask(t, st, imageTask(userID, at))
	files := make([]string, n)
	for i := range files {
		files[i] = uuid.NewString()
	}
	if ok, err := st.UpdateFollowedTask(context.Background(), task.ID, aimg.TaskUpdate{Status: aimg.TaskSuccessful, Files: files, Now: at}); err != nil || !ok {
		t.Fatalf("finish image task: %v %v", ok, err)
	}
	var out struct{ Images []int64 }
	if err := json.Unmarshal(readTask(t, st, task.ID).Output, &out); err != nil {
		t.Fatal(err)
	}
	return task, out.Images
}

func TestDeleteTask(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if st.Dialect() == store.SQLite {
			var on int
			if err := st.QueryRowForTest(ctx, `PRAGMA foreign_keys`).Scan(&on); err != nil || on != 1 {
				t.Fatalf("SQLite foreign_keys = %d %v, want 1 (task_files cascade)", on, err)
			}
		}
		u := newUser(t, st)
		task, files := finishedImageTask(t, st, u.ID, t0, 3)
		keep, keptFiles := finishedImageTask(t, st, u.ID, t0, 1)
		if err := st.DeleteTask(ctx, task.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Task(ctx, task.ID); !aimg.IsNotFound(err) {
			t.Fatalf("deleted task: %v", err)
		}
		if n := countTaskFiles(t, st, task.ID); n != 0 {
			t.Fatalf("%d task files left of a deleted task", n)
		}
		if _, err := st.TaskFile(ctx, task.ID, files[0]); !aimg.IsNotFound(err) {
			t.Fatalf("task file of a deleted task: %v", err)
		}
		if f, err := st.TaskFile(ctx, keep.ID, keptFiles[0]); err != nil || f.TaskID != keep.ID {
			t.Fatalf("other task's file: %+v %v", f, err)
		}
		if err := st.DeleteTask(ctx, task.ID); err != nil {
			t.Fatalf("deleting again: %v", err)
		}
		// A task file cannot point at no task.
		if err := st.ExecForTest(ctx, `INSERT INTO task_files (task_id, file_id) VALUES ($1, 'f')`, task.ID); err == nil {
			t.Fatal("task file of a missing task inserted")
		}
	})
}

func TestDeleteTasksUpdatedBefore(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		u := newUser(t, st)
		var ids []int64
		for i := range 5 {
			// Created newest first, so that ids and update times disagree.
			task, _ := finishedImageTask(t, st, u.ID, t0.Add(time.Duration(5-i)*time.Hour), 1)
			ids = append(ids, task.ID)
		}
		// Updated at t0+5h, +4h, +3h, +2h, +1h; cut at t0+4h: three are
		// older, the one updated at the cut is not.
		cut := t0.Add(4 * time.Hour)
		n, err := st.DeleteTasksUpdatedBefore(ctx, cut, 2)
		if err != nil || n != 2 {
			t.Fatalf("first pass: %d %v, want 2", n, err)
		}
		for _, id := range ids[3:] { // the two oldest went first
			if _, err := st.Task(ctx, id); !aimg.IsNotFound(err) {
				t.Fatalf("task %d not deleted: %v", id, err)
			}
			if c := countTaskFiles(t, st, id); c != 0 {
				t.Fatalf("task %d: %d files left", id, c)
			}
		}
		readTask(t, st, ids[2])
		n, err = st.DeleteTasksUpdatedBefore(ctx, cut, 10)
		if err != nil || n != 1 {
			t.Fatalf("second pass: %d %v, want 1", n, err)
		}
		if _, err := st.Task(ctx, ids[2]); !aimg.IsNotFound(err) {
			t.Fatalf("task %d not deleted: %v", ids[2], err)
		}
		if n, err := st.DeleteTasksUpdatedBefore(ctx, cut, 10); err != nil || n != 0 {
			t.Fatalf("third pass: %d %v, want 0", n, err)
		}
		for _, id := range ids[:2] {
			if got := readTask(t, st, id); got.ID != id || countTaskFiles(t, st, id) != 1 {
				t.Fatalf("task %d or its file went", id)
			}
		}
	})
}

func TestTaskFileOfItsTaskOnly(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		u := newUser(t, st)
		a, aFiles := finishedImageTask(t, st, u.ID, t0, 2)
		b, bFiles := finishedImageTask(t, st, u.ID, t0, 1)
		if _, err := st.TaskFile(ctx, b.ID, aFiles[0]); !aimg.IsNotFound(err) {
			t.Fatalf("task %d's file read through task %d: %v", a.ID, b.ID, err)
		}
		if _, err := st.TaskFile(ctx, a.ID, bFiles[0]); !aimg.IsNotFound(err) {
			t.Fatalf("task %d's file read through task %d: %v", b.ID, a.ID, err)
		}
		if _, err := st.TaskFile(ctx, a.ID, bFiles[0]+1000); !aimg.IsNotFound(err) {
			t.Fatalf("unknown task file: %v", err)
		}
		if aFiles[1] <= aFiles[0] || bFiles[0] <= aFiles[1] {
			t.Fatalf("task file ids %v %v not increasing", aFiles, bFiles)
		}
	})
}

func TestWebhookClaims(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		u := newUser(t, st)
		hooked := func(typ string) *aimg.Task {
			in := textTask(u.ID, typ, t0)
			in.WebhookURI, in.WebhookMethod = "https://example.com/"+uuid.NewString(), "HTTP:POST"
			return createTask(t, st, in)
		}
		pending := hooked(aimg.TaskTypeText2Text) // never ends here
		done := hooked(aimg.TaskTypeSummary)
		silent := createTask(t, st, textTask(u.ID, aimg.TaskTypeHeadline, t0)) // no webhook URI
		claimHooks := func(now time.Time, limit int) []int64 {
			t.Helper()
			hooks, err := st.ClaimWebhooks(ctx, now, time.Minute, limit)
			if err != nil {
				t.Fatal(err)
			}
			ids := make([]int64, len(hooks))
			for i, h := range hooks {
				ids[i] = h.ID
			}
			return ids
		}
		if ids := claimHooks(t0.Add(time.Hour), 10); len(ids) != 0 {
			t.Fatalf("webhooks before any end: %v", ids)
		}
		for _, task := range []*aimg.Task{done, silent} {
			if ok, err := st.CancelTask(ctx, task.ID, t0); err != nil || !ok {
				t.Fatal(ok, err)
			}
		}
		hooks, err := st.ClaimWebhooks(ctx, t0, time.Minute, 10)
		if err != nil || len(hooks) != 1 {
			t.Fatalf("claim: %+v %v", hooks, err)
		}
		if h := hooks[0]; h.ID != done.ID || h.WebhookAttempts != 1 || h.WebhookURI != done.WebhookURI || h.WebhookMethod != "HTTP:POST" ||
			h.Status != aimg.TaskCancelled {
			t.Fatalf("claimed webhook: %+v", h)
		}
		// Claimed once until its lease passes.
		if ids := claimHooks(t0.Add(time.Minute-time.Millisecond), 10); len(ids) != 0 {
			t.Fatalf("claimed again within the lease: %v", ids)
		}
		hooks, err = st.ClaimWebhooks(ctx, t0.Add(time.Minute), time.Minute, 10)
		if err != nil || len(hooks) != 1 || hooks[0].ID != done.ID || hooks[0].WebhookAttempts != 2 {
			t.Fatalf("claim after the lease: %+v %v", hooks, err)
		}
		// A retry time.
		retry := t0.Add(time.Hour)
		if err := st.WebhookDelivered(ctx, done.ID, false, &retry); err != nil {
			t.Fatal(err)
		}
		if ids := claimHooks(retry.Add(-time.Millisecond), 10); len(ids) != 0 {
			t.Fatalf("claimed before the retry time: %v", ids)
		}
		if ids := claimHooks(retry, 10); len(ids) != 1 || ids[0] != done.ID {
			t.Fatalf("claim at the retry time: %v", ids)
		}
		// Done: never again.
		if err := st.WebhookDelivered(ctx, done.ID, true, nil); err != nil {
			t.Fatal(err)
		}
		if ids := claimHooks(retry.Add(24*time.Hour), 10); len(ids) != 0 {
			t.Fatalf("claimed after done: %v", ids)
		}

		// Failed for good: never again either.
		mustClaimTask(t, st, "r1", t0, aimg.TaskTypeText2Text)
		if err := st.FinishTask(ctx, aimg.TaskLease{TaskID: pending.ID, Owner: "r1"}, aimg.TaskSuccessful, json.RawMessage(`{"output":"x"}`), "", t0); err != nil {
			t.Fatal(err)
		}
		if ids := claimHooks(t0, 10); len(ids) != 1 || ids[0] != pending.ID {
			t.Fatalf("claim after the finish: %v", ids)
		}
		if err := st.WebhookDelivered(ctx, pending.ID, false, nil); err != nil {
			t.Fatal(err)
		}
		if ids := claimHooks(t0.Add(24*time.Hour), 10); len(ids) != 0 {
			t.Fatalf("claimed after failed: %v", ids)
		}

		// The limit, oldest due first.
		var due []int64
		for i := range 3 {
			task := hooked(aimg.TaskTypeTopics)
			if ok, err := st.CancelTask(ctx, task.ID, t0.Add(time.Duration(3-i)*time.Second)); err != nil || !ok {
				t.Fatal(ok, err)
			}
			due = append(due, task.ID)
		}
		later := t0.Add(time.Hour)
		if ids := claimHooks(later, 2); fmt.Sprint(ids) != fmt.Sprint([]int64{due[2], due[1]}) && fmt.Sprint(ids) != fmt.Sprint([]int64{due[1], due[2]}) {
			t.Fatalf("claim with limit 2: %v, want %v and %v", ids, due[2], due[1])
		}
		if ids := claimHooks(later, 2); len(ids) != 1 || ids[0] != due[0] {
			t.Fatalf("the rest: %v, want %v", ids, due[0])
		}
	})
}

// Two replicas claiming webhooks at once never call the same one.
func TestClaimWebhooksConcurrent(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		u := newUser(t, st)
		const tasks = 30
		for range tasks {
			in := textTask(u.ID, aimg.TaskTypeText2Text, t0)
			in.WebhookURI, in.WebhookMethod = "https://example.com/h", "HTTP:POST"
			createTask(t, st, in)
			if ok, err := st.CancelTask(ctx, in.ID, t0); err != nil || !ok {
				t.Fatal(ok, err)
			}
		}
		var (
			mu   sync.Mutex
			seen = map[int64]int{}
			wg   sync.WaitGroup
		)
		for range 4 {
			wg.Go(func() {
				for {
					hooks, err := st.ClaimWebhooks(ctx, t0, time.Hour, 3)
					if err != nil {
						t.Error(err)
						return
					}
					if len(hooks) == 0 {
						return
					}
					mu.Lock()
					for _, h := range hooks {
						seen[h.ID]++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(seen) != tasks {
			t.Fatalf("%d webhooks claimed, want %d", len(seen), tasks)
		}
		for id, n := range seen {
			if n != 1 {
				t.Fatalf("webhook of task %d claimed %d times", id, n)
			}
		}
	})
}

func TestJobTimings(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		u := newUser(t, st)
		if avg, running, err := st.JobTimings(ctx, "m"); err != nil || avg != 0 || running != 0 {
			t.Fatalf("no jobs: %v %d %v", avg, running, err)
		}
		for range 4 {
			enqueue(t, st, newJob(u.ID, "m", 0, t0))
		}
		enqueue(t, st, newJob(u.ID, "other", 0, t0))
		complete := func(j *aimg.Job, at time.Time) {
			t.Helper()
			if err := st.CompleteJob(ctx, j.Lease(), []aimg.ItemResult{{ItemID: j.ItemIDs[0], FileID: "f"}}, "", at); err != nil {
				t.Fatal(err)
			}
		}
		a, b := claim(t, st, "w", t0, "m"), claim(t, st, "w", t0, "m")
		claim(t, st, "w", t0, "m")
		o := claim(t, st, "w", t0, "other")
		if avg, running, err := st.JobTimings(ctx, "m"); err != nil || avg != 0 || running != 3 {
			t.Fatalf("three running: %v %d %v", avg, running, err)
		}
		complete(a, t0.Add(10*time.Second))
		complete(b, t0.Add(20*time.Second))
		complete(o, t0.Add(time.Hour)) // another Model's time does not count
		avg, running, err := st.JobTimings(ctx, "m")
		if err != nil || avg != 15*time.Second || running != 1 {
			t.Fatalf("two done: %v %d %v, want 15s and 1", avg, running, err)
		}
	})
}
