package workerapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"aimg/internal/aimg"
)

// Client is the worker's side: a worker.JobSource over the protocol, for
// `aimg worker`. Calls that are safe to repeat are retried with backoff
// and jitter while the server is unreachable or restarting, until their
// context ends; a failed claim backs off before it returns, so idle slots
// do not hammer a server that is down.
type Client struct {
	base string
	key  string
	http *http.Client
	// Wait is how long a claim waits for a Job at the server (≤ MaxWait).
	Wait time.Duration
	// MaxBackoff caps the wait between retries.
	MaxBackoff time.Duration
	failures   atomic.Int32 // consecutive claim failures, for the backoff
	// singleClaims is set once the server turned a batch claim down (it
	// predates them): claims go one slot at a time.
	singleClaims atomic.Bool
	// stopped ends the waits of claims (StopWaiting).
	stopped     context.Context
	stopWaiting context.CancelFunc
}

// NewClient talks to the server at base (e.g. http://aimg:8080) with key.
func NewClient(base, key string, httpClient *http.Client) *Client {
	if httpClient == nil {
		httpClient = &http.Client{}
	}
	stopped, stop := context.WithCancel(context.Background())
	return &Client{base: strings.TrimRight(base, "/"), key: key, http: httpClient, Wait: MaxWait, MaxBackoff: 30 * time.Second,
		stopped: stopped, stopWaiting: stop}
}

// StopWaiting ends the claims waiting now and makes later ones return at
// once, so a stopping worker need not wait out a long-poll. A Job the
// server handed out just as a claim was cut goes back to its queue: the
// server releases it when it sees the cut, the pool by release-worker.
func (c *Client) StopWaiting() { c.stopWaiting() }

// errTransport marks a failure to reach the server (or a gateway's 502-504):
// the call may be repeated.
type errTransport struct{ err error }

func (e errTransport) Error() string { return "the AIMG server is unreachable: " + e.err.Error() }
func (e errTransport) Unwrap() error { return e.err }

// backoff is the wait before retry n (0-based): exponential from 200 ms,
// capped, with full jitter.
func (c *Client) backoff(n int) time.Duration {
	d := min(200*time.Millisecond<<min(n, 10), c.MaxBackoff)
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// send makes one request; body is a func so that a retry can rebuild it.
func (c *Client) send(ctx context.Context, call, contentType string, body func() io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+Prefix+call, body())
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Content-Type", contentType)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, errTransport{err}
	}
	switch resp.StatusCode {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		if resp.Header.Get("Content-Type") != "application/json" { // a proxy's answer, not ours
			resp.Body.Close()
			return nil, errTransport{fmt.Errorf("%s", resp.Status)}
		}
	}
	return resp, nil
}

// do sends call, retrying transport failures until ctx ends when retry is
// set, and decodes a 200 answer into out (when not nil).
func (c *Client) do(ctx context.Context, call string, retry bool, contentType string, body func() io.Reader, out any) (*http.Response, error) {
	for n := 0; ; n++ {
		resp, err := c.send(ctx, call, contentType, body)
		var te errTransport
		if errors.As(err, &te) && retry && ctx.Err() == nil {
			if sleep(ctx, c.backoff(n)) == nil {
				continue
			}
		}
		if err != nil {
			return nil, err
		}
		if resp.StatusCode >= 300 {
			defer resp.Body.Close()
			return nil, decodeError(resp)
		}
		if out != nil {
			defer resp.Body.Close()
			if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(out); err != nil {
				return nil, fmt.Errorf("worker protocol %s: unreadable answer: %w", call, err)
			}
		}
		return resp, nil
	}
}

func jsonBody(v any) (string, func() io.Reader) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // the wire types always marshal
	}
	return "application/json", func() io.Reader { return bytes.NewReader(b) }
}

// decodeError turns an error answer into the aimg.Error it stands for.
func decodeError(resp *http.Response) error {
	var body ErrorBody
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err := json.Unmarshal(raw, &body); err != nil || body.Error.Code == "" {
		return fmt.Errorf("worker protocol: the server answered %s without a protocol error body", resp.Status)
	}
	switch body.Error.Code {
	case CodeLeaseLost:
		return aimg.ErrLeaseLost
	case CodeCancelled:
		return aimg.ErrJobCancelled
	}
	e := &aimg.Error{Code: aimg.Code(body.Error.Code), Message: body.Error.Message}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
		e.RetryAfter = time.Duration(s) * time.Second
	}
	return e
}

var errNoJob = aimg.Errorf(aimg.CodeNotFound, "No queued job")

// Claim waits up to Wait at the server for a Job of the Models.
func (c *Client) Claim(ctx context.Context, workerID string, modelIDs []string) (*aimg.Job, error) {
	out, err := c.claim(ctx, ClaimRequest{Worker: workerID, Models: modelIDs})
	if err != nil {
		return nil, err
	}
	if out.Job == nil {
		return nil, errors.New("worker protocol claim: the answer has no job")
	}
	return domainJob(*out.Job), nil
}

// ClaimJobs waits up to Wait at the server for Jobs of the Models, at most
// one per worker slot (1 to aimg.MaxClaimBatch): the i-th Job is leased to
// workerIDs[i]. Against a server older than batch claims (it answers 400
// for the missing worker) it claims for workerIDs[0] alone from then on.
func (c *Client) ClaimJobs(ctx context.Context, workerIDs []string, modelIDs []string) ([]*aimg.Job, error) {
	if c.singleClaims.Load() {
		job, err := c.Claim(ctx, workerIDs[0], modelIDs)
		if err != nil {
			return nil, err
		}
		return []*aimg.Job{job}, nil
	}
	out, err := c.claim(ctx, ClaimRequest{Workers: workerIDs, Models: modelIDs})
	if e := (*aimg.Error)(nil); errors.As(err, &e) && e.Code == aimg.CodeInvalid && strings.HasPrefix(e.Message, "worker: ") {
		c.singleClaims.Store(true)
		return c.ClaimJobs(ctx, workerIDs, modelIDs)
	}
	if err != nil {
		return nil, err
	}
	if len(out.Jobs) == 0 || len(out.Jobs) > len(workerIDs) {
		return nil, fmt.Errorf("worker protocol claim: %d jobs for %d worker slots", len(out.Jobs), len(workerIDs))
	}
	jobs := make([]*aimg.Job, len(out.Jobs))
	for i, j := range out.Jobs {
		jobs[i] = domainJob(j)
	}
	return jobs, nil
}

// claim sends one claim, waiting up to Wait; no Job in time is errNoJob.
func (c *Client) claim(ctx context.Context, in ClaimRequest) (ClaimResponse, error) {
	var out ClaimResponse
	if c.stopped.Err() != nil {
		return out, errNoJob
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(c.stopped, cancel)()
	in.WaitMS = int(c.Wait / time.Millisecond)
	ct, body := jsonBody(in)
	resp, err := c.send(ctx, "claim", ct, body)
	if err == nil {
		defer resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusNoContent:
			c.failures.Store(0)
			return out, errNoJob
		case resp.StatusCode >= 300:
			err = decodeError(resp)
		default:
			if err = json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&out); err != nil {
				err = fmt.Errorf("worker protocol claim: unreadable answer: %w", err)
			}
		}
	}
	if err != nil {
		// Back off before the pool asks again (and releases what its
		// slots may hold, which the server also does for a cut claim).
		n := int(c.failures.Add(1)) - 1
		_ = sleep(ctx, c.backoff(n))
		if aimg.ErrorCode(err) == aimg.CodeUnavailable {
			// Our server's own 503 (it is shutting down): nothing was
			// claimed, so there is nothing to release.
			return out, errNoJob
		}
		return out, err
	}
	c.failures.Store(0)
	return out, nil
}

// domainJob is a claimed Job as the worker pool sees it.
func domainJob(j Job) *aimg.Job {
	exp := j.LeaseExpiresAt
	return &aimg.Job{ID: j.ID, ModelID: j.ModelID, Kind: j.Kind, ItemIDs: j.ItemIDs, Payload: j.Payload,
		Status: aimg.JobRunning, Attempts: j.Attempt, MaxAttempts: j.MaxAttempts, LeaseOwner: j.LeaseOwner, LeaseExpiresAt: &exp,
		LeaseDuration: time.Duration(j.LeaseSeconds * float64(time.Second))}
}

// Models returns the Models the key may claim (retried while the server
// is unreachable, until ctx ends).
func (c *Client) Models(ctx context.Context) ([]string, error) {
	ct, body := jsonBody(struct{}{})
	var out ModelsResponse
	if _, err := c.do(ctx, "models", true, ct, body, &out); err != nil {
		return nil, err
	}
	return out.Models, nil
}

// ModelsOf returns the Models the key may claim that the backend serves
// (a server that does not name backends: all of them), retried as Models.
func (c *Client) ModelsOf(ctx context.Context, backend string) ([]string, error) {
	ct, body := jsonBody(struct{}{})
	var out ModelsResponse
	if _, err := c.do(ctx, "models", true, ct, body, &out); err != nil {
		return nil, err
	}
	if out.Backends == nil {
		return out.Models, nil
	}
	var ids []string
	for _, id := range out.Models {
		if out.Backends[id] == backend {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// Heartbeat reports progress and extends the lease.
func (c *Client) Heartbeat(ctx context.Context, l aimg.Lease, progress float64) error {
	ct, body := jsonBody(HeartbeatRequest{Lease: wireLease(l), Progress: progress})
	return closeBody(c.do(ctx, "heartbeat", true, ct, body, nil))
}

// Fail ends the attempt.
func (c *Client) Fail(ctx context.Context, l aimg.Lease, reason string, retry bool) error {
	ct, body := jsonBody(FailRequest{Lease: wireLease(l), Reason: reason, Retry: retry})
	return closeBody(c.do(ctx, "fail", true, ct, body, nil))
}

// Release gives the Job back, attempt unspent.
func (c *Client) Release(ctx context.Context, l aimg.Lease) error {
	ct, body := jsonBody(LeaseRequest{Lease: wireLease(l)})
	return closeBody(c.do(ctx, "release", true, ct, body, nil))
}

// ReleaseWorker gives back every Job leased by exactly this slot.
func (c *Client) ReleaseWorker(ctx context.Context, workerID string) (int, error) {
	ct, body := jsonBody(WorkerRequest{Worker: workerID})
	var out Released
	if _, err := c.do(ctx, "release-worker", false, ct, body, &out); err != nil {
		return 0, err
	}
	return out.Released, nil
}

// RecoverWorker ends the leases an earlier process of this worker held.
func (c *Client) RecoverWorker(ctx context.Context, name string) (requeued, failed int, err error) {
	ct, body := jsonBody(WorkerRequest{Worker: name})
	var out Released
	if _, err := c.do(ctx, "recover", true, ct, body, &out); err != nil {
		return 0, 0, err
	}
	return out.Requeued, out.Failed, nil
}

// OpenInput downloads the Job's input image.
func (c *Client) OpenInput(ctx context.Context, l aimg.Lease) (io.ReadCloser, error) {
	ct, body := jsonBody(LeaseRequest{Lease: wireLease(l)})
	resp, err := c.do(ctx, "input", true, ct, body, nil)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// Complete uploads the outputs, streamed as multipart parts after the
// manifest with each file's size and SHA-256. A retry after a lost answer
// is safe: the server says the Job was completed by this lease.
func (c *Client) Complete(ctx context.Context, l aimg.Lease, outputs []aimg.ItemOutput) error {
	m := Manifest{Lease: wireLease(l)}
	var files [][]byte
	for _, o := range outputs {
		mo := ManifestOutput{ItemID: o.ItemID}
		for _, f := range o.Files {
			sum := sha256.Sum256(f.Data)
			mo.Files = append(mo.Files, ManifestFile{Part: "f" + strconv.Itoa(len(files)), Name: f.Name, ContentType: f.ContentType,
				Role: f.Role, FrameNumber: f.FrameNumber, Size: int64(len(f.Data)), SHA256: hex.EncodeToString(sum[:])})
			files = append(files, f.Data)
		}
		m.Outputs = append(m.Outputs, mo)
	}
	manifest, err := json.Marshal(m)
	if err != nil {
		return err
	}
	boundary := multipart.NewWriter(io.Discard).Boundary()
	body := func() io.Reader {
		pr, pw := io.Pipe()
		go func() {
			mw := multipart.NewWriter(pw)
			_ = mw.SetBoundary(boundary)
			err := writePart(mw, "manifest", "application/json", manifest)
			for i := 0; err == nil && i < len(files); i++ {
				err = writePart(mw, "f"+strconv.Itoa(i), "application/octet-stream", files[i])
			}
			if err == nil {
				err = mw.Close()
			}
			pw.CloseWithError(err)
		}()
		return pr
	}
	return closeBody(c.do(ctx, "complete", true, "multipart/form-data; boundary="+boundary, body, nil))
}

func writePart(mw *multipart.Writer, name, contentType string, data []byte) error {
	h := make(map[string][]string)
	h["Content-Disposition"] = []string{fmt.Sprintf(`form-data; name=%q`, name)}
	h["Content-Type"] = []string{contentType}
	w, err := mw.CreatePart(h)
	if err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}

func closeBody(resp *http.Response, err error) error {
	if resp != nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
	}
	return err
}
