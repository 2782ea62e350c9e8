package workerapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"sync"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/server"
	"aimg/internal/worker"
)

// Jobs is the server's side of the protocol: the job source the embedded
// workers use, plus worker keys; *generation.Service has it.
type Jobs interface {
	worker.JobSource
	AuthenticateWorker(ctx context.Context, token string) (*aimg.WorkerKey, error)
	WorkerModels(k *aimg.WorkerKey, asked []string) []string
	// CompletedBy tells whether the Job was completed under lease l (a
	// retried complete whose first answer was lost).
	CompletedBy(ctx context.Context, l aimg.Lease) (bool, error)
}

// Options configures the handlers.
type Options struct {
	Jobs Jobs
	// Wake tells waiting claims that a Job was queued.
	Wake *Wake
	// Allow takes a rate-limit token (name, key); nil = no limits.
	Allow  func(ctx context.Context, name, key string) error
	Logger *slog.Logger
	// MaxUploadBytes bounds a complete's body (all of its files).
	MaxUploadBytes int64
	// UploadTimeout bounds reading a complete's body; MaxConcurrentUploads
	// how many are read at once (each is held in memory until stored).
	UploadTimeout        time.Duration
	MaxConcurrentUploads int
	// RecheckInterval is how often a waiting claim looks again without a
	// wake-up (Jobs queued through a replica that cannot wake this one).
	RecheckInterval time.Duration
	// LeaseDuration is the lease a claim grants (told to the worker).
	LeaseDuration time.Duration
}

// Server is the protocol's handler tree.
type Server struct {
	opts     Options
	mux      *http.ServeMux
	uploads  chan struct{} // a token per upload being read
	stopping chan struct{} // closed by Stop
	stopOnce sync.Once
}

// errStopping answers claims while the server shuts down: nothing was
// claimed, the worker should ask again (another replica).
var errStopping = aimg.Errorf(aimg.CodeUnavailable, "This server is shutting down; claim again (another replica will answer)")

// Stop ends the claims waiting now and answers later ones 503 at once, so
// a draining server does not hold its workers for a whole long-poll. The
// other calls (heartbeats, uploads of running Jobs) go on being served.
func (s *Server) Stop() { s.stopOnce.Do(func() { close(s.stopping) }) }

// NewServer builds the handlers.
func NewServer(o Options) *Server {
	if o.RecheckInterval <= 0 {
		o.RecheckInterval = time.Second
	}
	if o.UploadTimeout <= 0 {
		o.UploadTimeout = 10 * time.Minute
	}
	if o.Wake == nil {
		o.Wake = NewWake()
	}
	s := &Server{opts: o, mux: http.NewServeMux(), uploads: make(chan struct{}, max(o.MaxConcurrentUploads, 1)),
		stopping: make(chan struct{})}
	// The route table: every call is a POST with a JSON body, by a worker key.
	for name, h := range map[string]func(ctx context.Context, k *aimg.WorkerKey, w http.ResponseWriter, r *http.Request) error{
		"claim":          s.claim,
		"heartbeat":      s.heartbeat,
		"complete":       s.complete,
		"fail":           s.fail,
		"release":        s.release,
		"release-worker": s.releaseWorker,
		"recover":        s.recoverWorker,
		"input":          s.input,
		"models":         s.models,
		"preview":        s.preview,
	} {
		s.mux.Handle("POST "+Prefix+name, s.authenticated(h))
	}
	s.mux.HandleFunc(Prefix, func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, r, http.StatusNotFound, "no such worker protocol call: "+r.Method+" "+r.URL.Path)
	})
	return s
}

// Surface mounts the protocol beside the other APIs.
func (s *Server) Surface() server.Surface {
	return server.Surface{Prefix: Prefix, Handler: s.mux, WriteError: WriteError, MaxBodyBytes: s.opts.MaxUploadBytes}
}

// WriteError answers an error in the protocol's format.
func WriteError(w http.ResponseWriter, _ *http.Request, status int, msg string) {
	writeErrorCode(w, status, string(server.Code(status)), msg)
}

func writeErrorCode(w http.ResponseWriter, status int, code, msg string) {
	var body ErrorBody
	body.Error.Code, body.Error.Message = code, msg
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// fail answers err: its own status and message for application errors,
// "Internal error" (logged) for the rest.
func (s *Server) answerError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, aimg.ErrJobCancelled) {
		writeErrorCode(w, http.StatusConflict, CodeCancelled, aimg.ErrJobCancelled.Message)
		return
	}
	if errors.Is(err, aimg.ErrLeaseLost) {
		writeErrorCode(w, http.StatusConflict, CodeLeaseLost, aimg.ErrLeaseLost.Message)
		return
	}
	e := server.AppError(err)
	if e == nil {
		s.opts.Logger.ErrorContext(r.Context(), "worker protocol call failed", "path", r.URL.Path, "err", err)
		writeErrorCode(w, http.StatusInternalServerError, "internal", "Internal error")
		return
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(int(e.RetryAfter.Seconds()+0.999)))
	}
	writeErrorCode(w, server.Status(e.Code), string(e.Code), e.Message)
}

// authenticated runs h for a request with a valid worker key. Failed
// authentications take a token of workerAuth:ip (key guessing).
func (s *Server) authenticated(h func(ctx context.Context, k *aimg.WorkerKey, w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		k, err := s.opts.Jobs.AuthenticateWorker(ctx, token)
		if err != nil {
			if aimg.ErrorCode(err) == aimg.CodeUnauthorized && s.opts.Allow != nil {
				if lerr := s.opts.Allow(ctx, "workerAuth:ip", server.Info(ctx).ClientIP); lerr != nil {
					err = lerr
				}
			}
			s.answerError(w, r, err)
			return
		}
		server.Info(ctx).UserID = "worker-key:" + k.ID
		if err := h(ctx, k, w, r); err != nil {
			s.answerError(w, r, err)
		}
	})
}

// decode reads a JSON body into v (the surface bounds its size).
func decode(r *http.Request, v any) error {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return aimg.Invalid("Content-Type", "must be application/json")
	}
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			return aimg.Invalid("body", "is larger than the %d bytes this call takes", mbe.Limit)
		}
		return aimg.Invalid("body", "not the expected JSON: %v", err)
	}
	return nil
}

// ownerOf is the lease owner of worker slot worker under key k.
func ownerOf(k *aimg.WorkerKey, worker string) (string, error) {
	if err := validWorkerID(worker); err != nil {
		return "", err
	}
	return k.LeaseOwnerPrefix() + worker, nil
}

func validWorkerID(id string) error {
	if id == "" || len(id) > 200 || strings.ContainsFunc(id, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return aimg.Invalid("worker", "must be 1 to 200 characters without spaces or control characters")
	}
	return nil
}

// leaseOf checks that l is a lease of key k's workers.
func leaseOf(k *aimg.WorkerKey, l Lease) (aimg.Lease, error) {
	if l.JobID == "" || l.Attempt < 1 {
		return aimg.Lease{}, aimg.Invalid("lease", "needs jobId, owner and attempt")
	}
	if !strings.HasPrefix(l.Owner, k.LeaseOwnerPrefix()) {
		return aimg.Lease{}, aimg.ErrLeaseLost // another key's lease: this worker does not hold it
	}
	return l.domain(), nil
}

// claimOwners are the lease owners a claim asks for: its one slot, or its
// batch of distinct slots.
func claimOwners(k *aimg.WorkerKey, in ClaimRequest) ([]string, error) {
	switch {
	case in.Worker != "" && in.Workers != nil:
		return nil, aimg.Invalid("workers", "cannot be given with worker")
	case in.Workers == nil:
		owner, err := ownerOf(k, in.Worker)
		return []string{owner}, err
	case len(in.Workers) == 0 || len(in.Workers) > aimg.MaxClaimBatch:
		return nil, aimg.Invalid("workers", "must name 1 to %d worker slots, got %d", aimg.MaxClaimBatch, len(in.Workers))
	}
	owners := make([]string, len(in.Workers))
	seen := make(map[string]bool, len(in.Workers))
	for i, w := range in.Workers {
		if validWorkerID(w) != nil || seen[w] {
			return nil, aimg.Invalid("workers", "must be distinct worker slots of 1 to 200 characters without spaces or control characters")
		}
		seen[w] = true
		owners[i] = k.LeaseOwnerPrefix() + w
	}
	return owners, nil
}

func (s *Server) claim(ctx context.Context, k *aimg.WorkerKey, w http.ResponseWriter, r *http.Request) error {
	var in ClaimRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	owners, err := claimOwners(k, in)
	if err != nil {
		return err
	}
	if len(in.Models) > 100 {
		return aimg.Invalid("models", "must have at most 100 Models")
	}
	models := s.opts.Jobs.WorkerModels(k, in.Models)
	if len(models) == 0 {
		return aimg.Invalid("models", "this worker key may claim none of these Models")
	}
	wait := min(max(time.Duration(in.WaitMS)*time.Millisecond, 0), MaxWait)
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	recheck := time.NewTicker(s.opts.RecheckInterval)
	defer recheck.Stop()
	for {
		select {
		case <-s.stopping:
			return errStopping
		default:
		}
		woken := s.opts.Wake.C() // taken before looking, so no enqueue is missed
		jobs, err := s.opts.Jobs.ClaimJobs(ctx, owners, models)
		if err == nil {
			if ctx.Err() != nil {
				// The worker left while the claim committed: it will never
				// see these Jobs, so they go back at once.
				for _, job := range jobs {
					_ = s.opts.Jobs.Release(context.WithoutCancel(ctx), job.Lease())
				}
				return ctx.Err()
			}
			var out ClaimResponse
			for _, job := range jobs {
				out.Jobs = append(out.Jobs, s.wireJob(job))
			}
			if in.Workers == nil {
				out.Job, out.Jobs = &out.Jobs[0], nil
			}
			writeJSON(w, http.StatusOK, out)
			return nil
		}
		if !aimg.IsNotFound(err) {
			return err
		}
		select {
		case <-woken:
		case <-s.stopping:
		case <-recheck.C:
		case <-deadline.C:
			w.WriteHeader(http.StatusNoContent)
			return nil
		case <-ctx.Done():
			return nil
		}
	}
}

// wireJob is a claimed Job as the worker sees it.
func (s *Server) wireJob(job *aimg.Job) Job {
	out := Job{ID: job.ID, ModelID: job.ModelID, Kind: job.Kind, ItemIDs: job.ItemIDs, Payload: job.Payload,
		Attempt: job.Attempts, MaxAttempts: job.MaxAttempts, LeaseOwner: job.LeaseOwner,
		LeaseSeconds: s.opts.LeaseDuration.Seconds()}
	if job.LeaseExpiresAt != nil {
		out.LeaseExpiresAt = *job.LeaseExpiresAt
	}
	return out
}

func (s *Server) models(_ context.Context, k *aimg.WorkerKey, w http.ResponseWriter, _ *http.Request) error {
	out := ModelsResponse{Models: s.opts.Jobs.WorkerModels(k, nil)}
	if mb, ok := s.opts.Jobs.(modelBackends); ok {
		out.Backends = map[string]string{}
		for _, id := range out.Models {
			out.Backends[id] = mb.ModelBackend(id)
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// modelBackends is the optional side of Jobs that names each Model's
// backend (*generation.Service has it), so a worker claims only the
// Models of the backend it drives.
type modelBackends interface {
	ModelBackend(modelID string) string
}

// ok is the answer of the calls that only succeed.
var ok = struct {
	OK bool `json:"ok"`
}{true}

// leaseCall decodes a body of type T, checks the lease it names (lease)
// against the key, and writes what fn answers for it.
func leaseCall[T any](k *aimg.WorkerKey, w http.ResponseWriter, r *http.Request, lease func(*T) Lease,
	fn func(in *T, l aimg.Lease) (any, error)) error {
	var in T
	if err := decode(r, &in); err != nil {
		return err
	}
	l, err := leaseOf(k, lease(&in))
	if err != nil {
		return err
	}
	out, err := fn(&in, l)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) heartbeat(ctx context.Context, k *aimg.WorkerKey, w http.ResponseWriter, r *http.Request) error {
	return leaseCall(k, w, r, func(in *HeartbeatRequest) Lease { return in.Lease }, func(in *HeartbeatRequest, l aimg.Lease) (any, error) {
		return ok, s.opts.Jobs.Heartbeat(ctx, l, in.Progress)
	})
}

func (s *Server) fail(ctx context.Context, k *aimg.WorkerKey, w http.ResponseWriter, r *http.Request) error {
	return leaseCall(k, w, r, func(in *FailRequest) Lease { return in.Lease }, func(in *FailRequest, l aimg.Lease) (any, error) {
		return ok, s.opts.Jobs.Fail(ctx, l, aimg.Truncate(in.Reason, 2000), in.Retry)
	})
}

func (s *Server) release(ctx context.Context, k *aimg.WorkerKey, w http.ResponseWriter, r *http.Request) error {
	return leaseCall(k, w, r, func(in *LeaseRequest) Lease { return in.Lease }, func(_ *LeaseRequest, l aimg.Lease) (any, error) {
		return Released{Released: 1}, s.opts.Jobs.Release(ctx, l)
	})
}

func (s *Server) releaseWorker(ctx context.Context, k *aimg.WorkerKey, w http.ResponseWriter, r *http.Request) error {
	var in WorkerRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	owner, err := ownerOf(k, in.Worker)
	if err != nil {
		return err
	}
	n, err := s.opts.Jobs.ReleaseWorker(ctx, owner)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, Released{Released: n})
	return nil
}

func (s *Server) recoverWorker(ctx context.Context, k *aimg.WorkerKey, w http.ResponseWriter, r *http.Request) error {
	var in WorkerRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := worker.ValidName(in.Worker); err != nil {
		return aimg.Invalid("worker", "%v", err)
	}
	requeued, failed, err := s.opts.Jobs.RecoverWorker(ctx, k.LeaseOwnerPrefix()+in.Worker)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, Released{Requeued: requeued, Failed: failed})
	return nil
}

func (s *Server) input(ctx context.Context, k *aimg.WorkerKey, w http.ResponseWriter, r *http.Request) error {
	var in LeaseRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	l, err := leaseOf(k, in.Lease)
	if err != nil {
		return err
	}
	rc, err := s.opts.Jobs.OpenInput(ctx, l)
	if err != nil {
		return err
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	_, err = io.Copy(w, rc)
	if err != nil {
		s.opts.Logger.WarnContext(ctx, "worker input download cut", "job", l.JobID, "err", err)
	}
	return nil
}

// complete reads the manifest, then each file part, checking its size and
// SHA-256, and completes the Job with the outputs. The body is bounded by
// the surface (MaxUploadBytes) and by UploadTimeout.
func (s *Server) complete(ctx context.Context, k *aimg.WorkerKey, w http.ResponseWriter, r *http.Request) error {
	select {
	case s.uploads <- struct{}{}:
		defer func() { <-s.uploads }()
	case <-ctx.Done():
		return ctx.Err()
	}
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(s.opts.UploadTimeout))
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" || params["boundary"] == "" {
		return aimg.Invalid("Content-Type", "must be multipart/form-data: a manifest part, then one part per file")
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	first, err := mr.NextPart()
	if err != nil || first.FormName() != "manifest" {
		return aimg.Invalid("manifest", "the first part must be the JSON manifest")
	}
	var m Manifest
	if err := json.NewDecoder(io.LimitReader(first, 1<<20)).Decode(&m); err != nil {
		return aimg.Invalid("manifest", "not the expected JSON: %v", err)
	}
	l, err := leaseOf(k, m.Lease)
	if err != nil {
		return err
	}
	expected := map[string]*ManifestFile{}
	outputs := make([]aimg.ItemOutput, len(m.Outputs))
	for i, o := range m.Outputs {
		outputs[i].ItemID = o.ItemID
		for j := range o.Files {
			f := &m.Outputs[i].Files[j]
			if f.Part == "" || f.Part == "manifest" || expected[f.Part] != nil {
				return aimg.Invalid("manifest", "each file needs its own part name")
			}
			expected[f.Part] = f
		}
	}
	data := map[string][]byte{}
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return aimg.Invalid("body", "the multipart body is cut or malformed: %v", err)
		}
		f := expected[p.FormName()]
		if f == nil || data[p.FormName()] != nil {
			return aimg.Invalid("body", "part %s is not in the manifest (or came twice)", aimg.Quote(p.FormName()))
		}
		if f.Size < 0 || f.Size > s.opts.MaxUploadBytes {
			return aimg.Errorf(aimg.CodeTooLarge, "part %s: size %d is over the upload limit", f.Part, f.Size)
		}
		b, err := io.ReadAll(io.LimitReader(p, f.Size+1))
		if err != nil {
			return aimg.Invalid("body", "part %s is cut: %v", aimg.Quote(f.Part), err)
		}
		sum := sha256.Sum256(b)
		if int64(len(b)) != f.Size || hex.EncodeToString(sum[:]) != strings.ToLower(f.SHA256) {
			return aimg.Invalid("body", "part %s does not match its size and sha256 in the manifest", aimg.Quote(f.Part))
		}
		data[p.FormName()] = b
	}
	for i, o := range m.Outputs {
		for _, f := range o.Files {
			b, ok := data[f.Part]
			if !ok {
				return aimg.Invalid("body", "part %s is missing", aimg.Quote(f.Part))
			}
			outputs[i].Files = append(outputs[i].Files, aimg.OutputFile{Name: f.Name, ContentType: f.ContentType,
				Role: f.Role, FrameNumber: f.FrameNumber, Data: b})
		}
	}
	err = s.opts.Jobs.Complete(ctx, l, outputs)
	if errors.Is(err, aimg.ErrLeaseLost) {
		if done, cerr := s.opts.Jobs.CompletedBy(ctx, l); cerr == nil && done {
			writeJSON(w, http.StatusOK, Completed{Completed: true, Again: true})
			return nil
		}
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, Completed{Completed: true})
	return nil
}
