package generation_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/config"
	"aimg/internal/files"
	"aimg/internal/generation"
)

// lostCommitStore completes the Job, then answers an error, as a commit
// whose answer is lost (the request's context ended during it) does.
type lostCommitStore struct {
	generation.Store
	job     aimg.Job
	pending map[string]bool
}

func (s *lostCommitStore) JobByID(context.Context, string) (*aimg.Job, error) {
	j := s.job
	return &j, nil
}

func (s *lostCommitStore) AddPendingOutputs(_ context.Context, _ string, outputs []aimg.PendingOutput, _ time.Time) error {
	for _, o := range outputs {
		s.pending[o.FileID] = true
	}
	return nil
}

func (s *lostCommitStore) DropPendingOutputs(_ context.Context, ids []string) error {
	for _, id := range ids {
		delete(s.pending, id)
	}
	return nil
}

func (s *lostCommitStore) CompleteJob(context.Context, aimg.Lease, []aimg.ItemResult, string, time.Time) error {
	s.job.Status = aimg.JobCompleted
	return context.Canceled
}

func (s *lostCommitStore) JobCancelledUnder(context.Context, aimg.Lease) (bool, error) {
	return false, nil
}

type recordingFiles struct {
	generation.Files
	removed []string
}

func (f *recordingFiles) StoreBlob(_ context.Context, in files.PutInput) (*aimg.File, error) {
	return &aimg.File{ID: in.ID, BlobKey: files.FreshBlobKey(in.ID)}, nil
}

func (f *recordingFiles) RemoveStored(_ context.Context, id, _ string) (bool, error) {
	f.removed = append(f.removed, id)
	return true, nil
}

// A completion whose commit went through but whose answer was lost keeps
// its files: the Items point at them. (The cluster test found Items whose
// file was gone after a worker was killed during its complete.)
func TestCompleteKeepsTheFilesOfACommitWhoseAnswerWasLost(t *testing.T) {
	cfg, err := config.FromEnv(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Minute)
	st := &lostCommitStore{pending: map[string]bool{}, job: aimg.Job{ID: "j1", UserID: "u1", ItemIDs: []string{"i1"},
		Payload: []byte(`{"backend":"builtin","kind":"image"}`), Status: aimg.JobRunning, Attempts: 1,
		LeaseOwner: "k/w/0", LeaseExpiresAt: &exp}}
	fs := &recordingFiles{}
	s := generation.New(st, fs, nil, cfg.Service, slog.New(slog.NewTextHandler(io.Discard, nil)), time.Now)
	out := []aimg.ItemOutput{{ItemID: "i1", Files: []aimg.OutputFile{{Name: "i1.png", ContentType: "image/png",
		Role: aimg.OutputImage, Data: []byte("\x89PNG\r\n\x1a\n")}}}}
	err = s.Complete(context.Background(), st.job.Lease(), out)
	if err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("Complete: %v", err)
	}
	if len(fs.removed) != 0 {
		t.Fatalf("the files of the completed Job were removed: %v", fs.removed)
	}
	if len(st.pending) != 0 {
		t.Fatalf("pending rows left for files the Job completed with: %v", st.pending)
	}
}
