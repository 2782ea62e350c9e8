package translate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"aimg/internal/aimg"
)

// maxErrorBytes bounds an error body read from a server (its message is
// kept for the log only).
const maxErrorBytes = 16 << 10

// httpAnswer is a server's answer, read under the budgets.
type httpAnswer struct {
	status int
	body   []byte
}

// do sends one request under o.Timeout and reads the answer under
// o.MaxResponseBytes. Transport failures, time-outs and an answer over the
// budget are unavailable errors (retrying may help; the OCS surface shows
// them as a failed translation, never a 500).
func do(ctx context.Context, o Options, op string, req func(ctx context.Context) (*http.Request, error)) (httpAnswer, error) {
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	hr, err := req(ctx)
	if err != nil {
		return httpAnswer{}, aimg.Internal(fmt.Errorf("%s: building the request: %w", op, err))
	}
	hr.Header.Set("Accept", "application/json")
	resp, err := o.HTTPClient.Do(hr)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return httpAnswer{}, unavailable(fmt.Errorf("%s: no answer within %s: %w", op, o.Timeout, err))
		}
		return httpAnswer{}, unavailable(fmt.Errorf("%s: %w", op, err))
	}
	defer resp.Body.Close()
	limit := o.MaxResponseBytes
	if resp.StatusCode != http.StatusOK {
		limit = maxErrorBytes
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return httpAnswer{}, unavailable(fmt.Errorf("%s: reading the answer: %w", op, err))
	}
	if int64(len(body)) > limit {
		if resp.StatusCode != http.StatusOK {
			body = body[:limit]
		} else {
			return httpAnswer{}, unavailable(fmt.Errorf("%s: the answer is larger than the %d-byte budget (MaxResponseBytes)", op, limit))
		}
	}
	return httpAnswer{status: resp.StatusCode, body: body}, nil
}

// snippet is a server's body for a log message.
func snippet(b []byte) string {
	if len(b) == 0 {
		return "empty body"
	}
	return fmt.Sprintf("%q", aimg.Truncate(strings.TrimSpace(string(b)), 300))
}
