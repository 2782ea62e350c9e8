package cluster

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Req is one AIMG API call.
type Req struct {
	Method  string // default GET, POST when Body is set
	Path    string // e.g. "/api/getSelfUser"
	Body    any    // JSON-encoded
	Session string // X-Session-ID
	Admin   bool   // send the cluster's X-Administration-Key
	Header  map[string]string
	// Retry lets a call that may have reached a replica be sent again to
	// another one after a cut connection or a 502/503: GETs and calls with
	// an Idempotency-Key are retried without it. A refused connection
	// (the replica is down) always moves on to another replica.
	Retry bool
}

// Envelope is an answer of the AIMG API.
type Envelope struct {
	Status       int
	Header       http.Header
	Replica      int             // the index of the replica that answered
	HasError     bool            `json:"hasError"`
	ErrorMessage string          `json:"errorMessage"`
	ErrorCode    int             `json:"errorCode"`
	Payload      json.RawMessage `json:"payload"`
	Metadata     json.RawMessage `json:"metadata"`
	Raw          []byte
}

// Err is nil for a 200 success envelope, else an error that quotes it.
func (e *Envelope) Err() error {
	if e.Status == http.StatusOK && !e.HasError {
		return nil
	}
	return fmt.Errorf("replica-%d answered %d: %s", e.Replica, e.Status, bytes.TrimSpace(e.Raw))
}

// Decode checks Err, then unmarshals the payload into v.
func (e *Envelope) Decode(v any) error {
	if err := e.Err(); err != nil {
		return err
	}
	if err := json.Unmarshal(e.Payload, v); err != nil {
		return fmt.Errorf("replica-%d: payload %s: %w", e.Replica, e.Payload, err)
	}
	return nil
}

// maxAnswerBytes bounds what the harness reads of one API answer.
const maxAnswerBytes = 64 << 20

// attempts is how many replicas (with a short pause between) one call
// tries before it gives up: enough to ride over a replica's restart.
const attempts = 50

// Do sends r to a running replica picked at random; see Req.Retry.
func (c *Cluster) Do(ctx context.Context, r Req) (*Envelope, error) {
	retry := r.Retry || r.Method == "" && r.Body == nil || r.Method == http.MethodGet || r.Header["Idempotency-Key"] != ""
	var last error
	for n := range attempts {
		if n > 0 {
			if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
				return nil, errors.Join(last, err)
			}
		}
		i := c.RandomReplica()
		env, err := c.DoOn(ctx, i, r)
		switch {
		case err == nil && (env.Status == http.StatusBadGateway || env.Status == http.StatusServiceUnavailable) && retry:
			last = env.Err()
		case err == nil:
			return env, nil
		case ctx.Err() != nil:
			return nil, err
		case errors.Is(err, syscall.ECONNREFUSED) || retry:
			last = err
		default:
			return nil, err
		}
	}
	return nil, fmt.Errorf("%s %s: no replica answered in %d tries: %w", r.Method, r.Path, attempts, last)
}

// DoOn sends r to replica i, once.
func (c *Cluster) DoOn(ctx context.Context, i int, r Req) (*Envelope, error) {
	req, err := c.newRequest(ctx, i, r)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if err != nil {
		return nil, fmt.Errorf("replica-%d: read the answer of %s: %w", i, r.Path, err)
	}
	env := &Envelope{Status: resp.StatusCode, Header: resp.Header, Replica: i, Raw: raw}
	if err := json.Unmarshal(raw, env); err != nil {
		return nil, fmt.Errorf("replica-%d: %s %s: status %d, not an envelope: %.300q", i, req.Method, r.Path, resp.StatusCode, raw)
	}
	return env, nil
}

func (c *Cluster) newRequest(ctx context.Context, i int, r Req) (*http.Request, error) {
	var body io.Reader
	method := r.Method
	if r.Body != nil {
		b, err := json.Marshal(r.Body)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
		if method == "" {
			method = http.MethodPost
		}
	}
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Replicas[i].URL+r.Path, body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.Session != "" {
		req.Header.Set("X-Session-ID", r.Session)
	}
	if r.Admin {
		req.Header.Set("X-Administration-Key", c.AdminKey)
	}
	for k, v := range r.Header {
		req.Header.Set(k, v)
	}
	return req, nil
}

// RandomReplica is the index of a running replica picked at random (any
// replica when none runs: the call will then fail and be retried).
func (c *Cluster) RandomReplica() int {
	var up []int
	for i, p := range c.Replicas {
		if p.Running() {
			up = append(up, i)
		}
	}
	if len(up) == 0 {
		return rand.IntN(len(c.Replicas))
	}
	return up[rand.IntN(len(up))]
}

// Get sends GET path to replica i, once, and returns the status and
// body whatever they are (/readyz, a file): no envelope expected.
func (c *Cluster) Get(ctx context.Context, i int, path string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Replicas[i].URL+path, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	return resp.StatusCode, body, err
}

// Download fetches a file by its URL (an Item's url, which names the
// public URL) from a random running replica, as stored: skipChecksum=true,
// so that the caller's own hash is the check.
func (c *Cluster) Download(ctx context.Context, fileURL string) ([]byte, error) {
	u, err := url.Parse(fileURL)
	if err != nil || u.Query().Get("id") == "" {
		return nil, fmt.Errorf("not a file URL: %q", fileURL)
	}
	q := u.Query()
	q.Set("skipChecksum", "true")
	var last error
	for n := range attempts {
		if n > 0 {
			if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
				return nil, errors.Join(last, err)
			}
		}
		i := c.RandomReplica()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.Replicas[i].URL+u.Path+"?"+q.Encode(), nil)
		resp, err := c.http.Do(req)
		if err != nil {
			last = err
			continue
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
		resp.Body.Close()
		switch {
		case err != nil:
			last = err
		case resp.StatusCode == http.StatusOK:
			return data, nil
		case resp.StatusCode == http.StatusServiceUnavailable || resp.StatusCode == http.StatusBadGateway:
			last = fmt.Errorf("replica-%d: %d %.300s", i, resp.StatusCode, data)
		default:
			return nil, fmt.Errorf("replica-%d: getFile %s: %d %.300s", i, q.Get("id"), resp.StatusCode, data)
		}
	}
	return nil, fmt.Errorf("download %s: %w", fileURL, last)
}

// Event is one data event of getItemEvents.
type Event struct {
	ImageID  string   `json:"imageID"`
	Status   string   `json:"status"`
	URL      string   `json:"url"`
	Reason   string   `json:"reason"`
	Progress *float64 `json:"progress"`
}

// maxEventBytes bounds one line of an event stream.
const maxEventBytes = 1 << 20

// Events reads getItemEvents for ids from replica i, calling fn for each
// Item event, until the stream's end event (whose reason it returns), fn
// returning false (reason "stopped"), ctx's end or a broken stream (an
// error). A refusal before the stream is an error that quotes it.
func (c *Cluster) Events(ctx context.Context, i int, session string, ids []string, fn func(Event) bool) (string, error) {
	req, err := c.newRequest(ctx, i, Req{Path: "/api/getItemEvents?imageIDs=" + url.QueryEscape(strings.Join(ids, ",")), Session: session})
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.sse.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return "", fmt.Errorf("replica-%d: getItemEvents: %d %s", i, resp.StatusCode, raw)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), maxEventBytes)
	var name, data string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if data == "" {
				name = ""
				continue
			}
			if name == "end" {
				var end struct{ Reason string }
				_ = json.Unmarshal([]byte(data), &end)
				return end.Reason, nil
			}
			var ev Event
			if err := json.Unmarshal([]byte(data), &ev); err != nil {
				return "", fmt.Errorf("replica-%d: event %q: %w", i, data, err)
			}
			if !fn(ev) {
				return "stopped", nil
			}
			name, data = "", ""
		case strings.HasPrefix(line, "event:"):
			name = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
		case strings.HasPrefix(line, "data:"):
			data += strings.TrimSpace(strings.TrimPrefix(line, "data:"))
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("replica-%d: event stream: %w", i, err)
	}
	return "", fmt.Errorf("replica-%d: event stream ended without an end event", i)
}

// WaitItems follows ids (at most 100, the caller's) over event streams of
// random replicas, opening a new one when a stream breaks or ends early
// (a replica stopping), until one ends "final"; it returns each Item's
// last event and how many streams it opened.
func (c *Cluster) WaitItems(ctx context.Context, session string, ids []string) (map[string]Event, int, error) {
	last := map[string]Event{}
	streams := 0
	var lastErr error
	for ctx.Err() == nil {
		streams++
		reason, err := c.Events(ctx, c.RandomReplica(), session, ids, func(ev Event) bool {
			last[ev.ImageID] = ev
			return true
		})
		switch {
		case err == nil && reason == "final":
			return last, streams, nil
		case err == nil && reason == "gone":
			return last, streams, fmt.Errorf("an Item of %v was deleted", ids)
		case err != nil:
			lastErr = err
			_ = sleepCtx(ctx, 100*time.Millisecond)
		}
	}
	return last, streams, errors.Join(ctx.Err(), lastErr)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
