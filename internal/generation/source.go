package generation

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"

	"aimg/internal/aimg"
	"aimg/internal/files"
)

// The job-source side of the worker protocol. The embedded worker pool calls
// these directly; the remote worker's HTTP endpoints will call the same.

// Claim leases the next Job of the given Models to the worker, or returns a
// not-found error when there is none.
func (s *Service) Claim(ctx context.Context, workerID string, modelIDs []string) (*aimg.Job, error) {
	job, err := s.store.ClaimJob(ctx, aimg.Claim{
		WorkerID: workerID, ModelIDs: modelIDs, Lease: s.cfg.LeaseDuration,
		StarvationBound: s.cfg.StarvationBound, Now: s.now(),
	})
	if err == nil {
		s.changed(job.ID)
	}
	return job, err
}

// ClaimJobs leases up to len(workerIDs) Jobs of the given Models in one
// transaction, the i-th to workerIDs[i] (1 to aimg.MaxClaimBatch distinct
// owners), in the order as many Claims would take them; a not-found error
// when there is none.
func (s *Service) ClaimJobs(ctx context.Context, workerIDs []string, modelIDs []string) ([]*aimg.Job, error) {
	if len(workerIDs) == 0 || len(workerIDs) > aimg.MaxClaimBatch {
		return nil, aimg.Invalid("workers", "must name 1 to %d worker slots", aimg.MaxClaimBatch)
	}
	seen := make(map[string]bool, len(workerIDs))
	for _, w := range workerIDs {
		if w == "" || seen[w] {
			return nil, aimg.Invalid("workers", "must be distinct, non-empty worker slots")
		}
		seen[w] = true
	}
	jobs, err := s.store.ClaimJobs(ctx, aimg.Claim{
		WorkerIDs: workerIDs, ModelIDs: modelIDs, Lease: s.cfg.LeaseDuration,
		StarvationBound: s.cfg.StarvationBound, Now: s.now(),
	})
	for _, j := range jobs {
		s.changed(j.ID)
	}
	return jobs, err
}

// Heartbeat records progress and extends the lease; aimg.ErrLeaseLost
// tells the worker to stop, aimg.ErrJobCancelled to stop because the Job
// was cancelled (cancelGeneration).
func (s *Service) Heartbeat(ctx context.Context, l aimg.Lease, progress float64) error {
	now := s.now()
	err := s.store.Heartbeat(ctx, l, min(max(progress, 0), 1), now, now.Add(s.cfg.LeaseDuration))
	if err == nil {
		s.changed(l.JobID)
	}
	return s.cancelledOr(ctx, l, err)
}

// cancelledOr turns aimg.ErrLeaseLost into aimg.ErrJobCancelled when the
// Job was cancelled while l held it; other errors pass through.
func (s *Service) cancelledOr(ctx context.Context, l aimg.Lease, err error) error {
	if !errors.Is(err, aimg.ErrLeaseLost) {
		return err
	}
	if cancelled, cerr := s.store.JobCancelledUnder(ctx, l); cerr == nil && cancelled {
		return aimg.ErrJobCancelled
	}
	return err
}

// Complete stores the outputs as Files owned by the Job's user and completes
// the Job and its Items. A worker that lost the lease gets aimg.ErrLeaseLost
// and its files are removed again: a Job completes once.
func (s *Service) Complete(ctx context.Context, l aimg.Lease, outputs []aimg.ItemOutput) error {
	job, err := s.leasedJob(ctx, l)
	if err != nil {
		return s.cancelledOr(ctx, l, err)
	}
	var p aimg.JobPayload
	if err := json.Unmarshal(job.Payload, &p); err != nil {
		return fmt.Errorf("job %s payload: %w", job.ID, err)
	}
	if len(outputs) != len(job.ItemIDs) {
		return aimg.Invalid("outputs", "%d outputs for %d Items", len(outputs), len(job.ItemIDs))
	}
	// Every output file is recorded as pending, with its blob key, before
	// it is stored, so that a process killed before the Job completes
	// leaves rows the orphan sweeper follows, not bytes nobody knows about.
	// The files themselves are recorded by CompleteJob's transaction.
	var pending []aimg.PendingOutput
	var fileIDs []string
	for _, out := range outputs {
		for range out.Files {
			id := uuid.NewString()
			pending = append(pending, aimg.PendingOutput{FileID: id, BlobKey: files.FreshBlobKey(id)})
			fileIDs = append(fileIDs, id)
		}
	}
	if err := s.store.AddPendingOutputs(ctx, job.ID, pending, s.now()); err != nil {
		return err
	}
	var stored []*aimg.File
	cleanup := func() {
		ctx := context.WithoutCancel(ctx)
		for _, f := range stored {
			if _, err := s.files.RemoveStored(ctx, f.ID, f.BlobKey); err != nil {
				s.log.WarnContext(ctx, "output file left behind", "file", f.ID, "err", err)
				return // its pending row stays: the orphan sweeper tries again
			}
		}
		if err := s.store.DropPendingOutputs(ctx, fileIDs); err != nil {
			s.log.WarnContext(ctx, "pending outputs not forgotten", "job", job.ID, "err", err)
		}
	}
	results := make([]aimg.ItemResult, 0, len(outputs))
	for _, out := range outputs {
		if !contains(job.ItemIDs, out.ItemID) {
			cleanup()
			return aimg.Invalid("outputs", "Item %s is not part of job %s", out.ItemID, job.ID)
		}
		if err := out.Validate(); err != nil {
			cleanup()
			return aimg.Invalid("outputs", "%v", err)
		}
		r := aimg.ItemResult{ItemID: out.ItemID}
		for _, f := range out.Files {
			file, err := s.files.StoreBlob(ctx, files.PutInput{
				ID: fileIDs[len(stored)], FreshID: true, Name: outputName(out.ItemID, f), ContentType: f.ContentType,
				OwnerID: job.UserID, Body: bytes.NewReader(f.Data),
			})
			if err != nil {
				cleanup()
				return fmt.Errorf("store output of item %s: %w", out.ItemID, err)
			}
			stored = append(stored, file)
			r.Files = append(r.Files, file)
			switch f.Role {
			case aimg.OutputFrame:
				r.Frames = append(r.Frames, aimg.Frame{Number: f.FrameNumber, FileID: file.ID})
			case aimg.OutputImage, aimg.OutputAnimation:
				r.FileID = file.ID
			}
		}
		results = append(results, r)
	}
	if err := s.store.CompleteJob(ctx, l, results, p.FolderID, s.now()); err != nil {
		// The commit's answer may be what failed (the worker hung up and
		// ended the request's context during it, the connection broke):
		// the Job may be completed with these very files, recorded by
		// that commit. Look before
		// removing them; when that cannot be told, leave them and their
		// pending rows to the sweeper, which keeps files Items point at.
		done, cerr := s.CompletedBy(context.WithoutCancel(ctx), l)
		switch {
		case cerr == nil && done:
			if err := s.store.DropPendingOutputs(context.WithoutCancel(ctx), fileIDs); err != nil {
				s.log.WarnContext(ctx, "pending outputs not forgotten", "job", job.ID, "err", err)
			}
			s.changed(l.JobID)
			return nil
		case cerr != nil:
			return err
		}
		cleanup()
		return s.cancelledOr(ctx, l, err)
	}
	// CompleteJob forgot the pending outputs in its transaction.
	s.changed(l.JobID)
	return nil
}

// OrphanAge is how old a pending output must be before the sweeper takes
// it for an orphan: far longer than any upload may take.
const OrphanAge = time.Hour

// SweepOrphanedOutputs removes the output files stored for Jobs that never
// completed with them (the process died between storing and completing),
// at most a batch per call; safe on several replicas at once (each file
// is claimed by one). It returns how many files it removed.
func (s *Service) SweepOrphanedOutputs(ctx context.Context) (int, error) {
	orphans, err := s.store.ClaimOrphanedOutputs(ctx, s.now().Add(-OrphanAge), 500)
	if err != nil {
		return 0, err
	}
	removed := 0
	for _, o := range orphans {
		ok, err := s.files.RemoveStored(ctx, o.FileID, o.BlobKey)
		if err != nil {
			return removed, err
		}
		if ok {
			removed++
		}
	}
	return removed, nil
}

// outputName is the download name of an output file.
func outputName(itemID string, f aimg.OutputFile) string {
	ext := ".png"
	if f.ContentType == "image/gif" {
		ext = ".gif"
	}
	if f.Role == aimg.OutputFrame {
		return fmt.Sprintf("%s-frame-%04d%s", itemID, f.FrameNumber, ext)
	}
	return itemID + ext
}

// Fail ends the worker's attempt: with retry the Job goes back to its queue
// while attempts remain, without it (the request itself is bad) it fails.
func (s *Service) Fail(ctx context.Context, l aimg.Lease, reason string, retry bool) error {
	requeued, err := s.store.FailJob(ctx, l, reason, retry, s.now())
	if err != nil {
		return s.cancelledOr(ctx, l, err)
	}
	s.changed(l.JobID)
	s.log.WarnContext(ctx, "job attempt failed", "job", l.JobID, "attempt", l.Attempt, "reason", reason, "requeued", requeued)
	if requeued && s.OnEnqueue != nil {
		s.OnEnqueue()
	}
	return nil
}

// Release gives the Job back to its queue without spending the attempt
// (the worker is stopping).
func (s *Service) Release(ctx context.Context, l aimg.Lease) error {
	if err := s.store.ReleaseJob(ctx, l, s.now()); err != nil {
		return s.cancelledOr(ctx, l, err)
	}
	s.changed(l.JobID)
	if s.OnEnqueue != nil {
		s.OnEnqueue()
	}
	return nil
}

// ReleaseWorker gives every Job leased by exactly workerID back to its queue
// without spending the attempt: the worker's claim was cut off and it does
// not know whether it got a Job. It returns how many it released.
func (s *Service) ReleaseWorker(ctx context.Context, workerID string) (int, error) {
	n, err := s.store.ReleaseWorkerJobs(ctx, workerID, s.now())
	if n > 0 {
		s.changed()
	}
	if n > 0 && s.OnEnqueue != nil {
		s.OnEnqueue()
	}
	return n, err
}

// RecoverWorker ends the leases the previous process of worker name held
// (a restarted worker with a stable name): its Jobs go back to their queue
// at once, as the reaper would do when the leases expire, their attempt
// spent (or they fail when none is left).
func (s *Service) RecoverWorker(ctx context.Context, name string) (requeued, failed int, err error) {
	requeued, failed, err = s.store.ExpireWorkerLeases(ctx, name, s.now())
	if err != nil {
		return 0, 0, err
	}
	if requeued+failed > 0 {
		s.changed()
		s.log.WarnContext(ctx, "took back the jobs of this worker's previous process", "worker", name,
			"requeued", requeued, "failed", failed)
	}
	if requeued > 0 && s.OnEnqueue != nil {
		s.OnEnqueue()
	}
	return requeued, failed, nil
}

// OpenInput opens the Job's input image (image-to-video).
func (s *Service) OpenInput(ctx context.Context, l aimg.Lease) (io.ReadCloser, error) {
	job, err := s.leasedJob(ctx, l)
	if err != nil {
		return nil, s.cancelledOr(ctx, l, err)
	}
	var p aimg.JobPayload
	if err := json.Unmarshal(job.Payload, &p); err != nil {
		return nil, fmt.Errorf("job %s payload: %w", job.ID, err)
	}
	if p.InputFileID == "" {
		return nil, aimg.Errorf(aimg.CodeNotFound, "Job %s has no input", job.ID)
	}
	return s.files.Open(ctx, p.InputFileID, files.OpenOptions{})
}

// leasedJob returns the Job when l is its current lease.
func (s *Service) leasedJob(ctx context.Context, l aimg.Lease) (*aimg.Job, error) {
	job, err := s.store.JobByID(ctx, l.JobID)
	if aimg.IsNotFound(err) {
		return nil, aimg.ErrLeaseLost
	}
	if err != nil {
		return nil, err
	}
	if job.Status != aimg.JobRunning || job.Lease() != l {
		return nil, aimg.ErrLeaseLost
	}
	return job, nil
}
