package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"aimg/internal/aimg"
	"aimg/internal/testsupport"
)

type probeInput struct {
	Body struct {
		Name  string `json:"name" required:"true" maxLength:"20"`
		Count int    `json:"count" minimum:"0"`
		Fail  string `json:"fail"`
	}
}

type probeOutput struct {
	Body struct {
		HasError bool   `json:"hasError"`
		Payload  string `json:"payload"`
	}
}

// withProbe registers a test operation that echoes, fails or panics on demand.
func withProbe(t *testing.T, srv *testsupport.Server) {
	t.Helper()
	huma.Register(srv.App.API.API(), huma.Operation{
		OperationID: "probe", Method: http.MethodPost, Path: "/api/probe", MaxBodyBytes: 1 << 20,
	}, func(ctx context.Context, in *probeInput) (*probeOutput, error) {
		switch in.Body.Fail {
		case "conflict":
			return nil, aimg.Errorf(aimg.CodeConflict, "Already there")
		case "internal":
			return nil, errors.New("disk on fire: secret detail")
		case "panic":
			panic("boom")
		case "wait for the client to leave":
			<-ctx.Done()
			return nil, fmt.Errorf("reading the database: %w", ctx.Err())
		case "slow down":
			return nil, &aimg.Error{Code: aimg.CodeRateLimited, Message: "Too many requests", RetryAfter: 1500 * time.Millisecond}
		}
		out := &probeOutput{}
		out.Body.Payload = fmt.Sprintf("%s:%d", in.Body.Name, in.Body.Count)
		return out, nil
	})
}

func TestEnvelopeAndErrors(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL)
		withProbe(t, srv)
		post := func(body any) *testsupport.Envelope {
			return srv.Do(t, testsupport.Req{Method: "POST", Path: "/api/probe", Body: body})
		}

		ok := post(map[string]any{"name": "a", "count": 2, "unknownField": true})
		testsupport.ExpectOK(t, ok)
		if string(ok.Payload) != `"a:2"` {
			t.Fatalf("payload %s", ok.Payload)
		}
		testsupport.ExpectError(t, post(map[string]any{"count": 1}), 400, "name")
		testsupport.ExpectError(t, post(map[string]any{"name": "a", "count": "two"}), 400, "count")
		testsupport.ExpectError(t, post(map[string]any{"name": "a", "count": -1}), 400, "count")
		testsupport.ExpectError(t, post(`{"name": "a",`), 400, "")
		testsupport.ExpectError(t, post(map[string]any{"name": "a", "fail": "conflict"}), 409, "Already there")
		limited := post(map[string]any{"name": "a", "fail": "slow down"})
		testsupport.ExpectError(t, limited, 429, "Too many")
		if limited.Header.Get("Retry-After") != "2" {
			t.Fatalf("Retry-After = %q, want 2", limited.Header.Get("Retry-After"))
		}

		internal := post(map[string]any{"name": "a", "fail": "internal"})
		testsupport.ExpectError(t, internal, 500, "Internal error")
		if strings.Contains(string(internal.Raw), "secret detail") {
			t.Fatal("internal error detail leaked to the client")
		}
		if id := internal.Header.Get("X-Request-ID"); !strings.Contains(srv.LogText(), id) || !strings.Contains(srv.LogText(), "secret detail") {
			t.Fatal("internal error not logged with its request id")
		}

		testsupport.ExpectError(t, post(map[string]any{"name": "a", "fail": "panic"}), 500, "Internal error")
		if !strings.Contains(srv.LogText(), "boom") {
			t.Fatal("panic not logged")
		}
		// The server still serves after a panic.
		testsupport.ExpectOK(t, post(map[string]any{"name": "b"}))
	})
}

func TestRoutingAndHeaders(t *testing.T) {
	srv := testsupport.NewServer(t, "")
	withProbe(t, srv)

	testsupport.ExpectError(t, srv.Get(t, "/api/noSuchThing", ""), 404, "No such endpoint")
	wrong := srv.Get(t, "/api/probe", "")
	testsupport.ExpectError(t, wrong, 405, "not allowed")
	if wrong.Header.Get("Allow") != "POST" {
		t.Fatalf("Allow = %q", wrong.Header.Get("Allow"))
	}

	echoed := srv.Do(t, testsupport.Req{Method: "POST", Path: "/api/probe", Body: map[string]any{"name": "x"}, Header: map[string]string{"X-Request-ID": "my-id-1"}})
	if echoed.Header.Get("X-Request-ID") != "my-id-1" {
		t.Fatalf("request id not echoed: %q", echoed.Header.Get("X-Request-ID"))
	}

	bad := srv.Do(t, testsupport.Req{Method: "POST", Path: "/api/probe", Body: map[string]any{"name": "x"}, SessionID: "not-a-uuid"})
	testsupport.ExpectError(t, bad, 400, "X-Session-ID")
}

func TestBodyLimits(t *testing.T) {
	srv := testsupport.NewServer(t, "")
	withProbe(t, srv)
	// Over the operation's limit (1 MiB) but under the global cap.
	big := `{"name":"` + strings.Repeat("a", 2<<20) + `"}`
	testsupport.ExpectError(t, srv.Do(t, testsupport.Req{Method: "POST", Path: "/api/probe", Body: big}), 413, "")
	// Over the global cap, rejected before any handler reads it.
	huge := strings.Repeat("a", int(srv.App.Config.Service.HTTP.MaxImageBodyBytes)+1)
	testsupport.ExpectError(t, srv.Do(t, testsupport.Req{Method: "POST", Path: "/api/probe", Body: huge}), 413, "larger than")
}

func TestOperationsEndpoints(t *testing.T) {
	srv := testsupport.NewServer(t, "")
	withProbe(t, srv)
	srv.Do(t, testsupport.Req{Method: "POST", Path: "/api/probe", Body: map[string]any{"name": "m"}})

	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/metrics"); code != 200 || !strings.Contains(body, `aimg_http_requests_total{method="POST",route="POST /api/probe",status="200"}`) {
		t.Fatalf("metrics %d: %.400s", code, body)
	}
	if code, body := get("/readyz"); code != 200 || !strings.Contains(body, `"database":"ok"`) {
		t.Fatalf("readyz %d %s", code, body)
	}
	srv.App.HTTP.Drain()
	if code, body := get("/readyz"); code != 503 || !strings.Contains(body, "draining") {
		t.Fatalf("readyz while draining %d %s", code, body)
	}
	// The 503 is the answer a draining server owes, not a fault.
	for _, line := range strings.Split(srv.LogText(), "\n") {
		if strings.Contains(line, `"route":"GET /readyz"`) && strings.Contains(line, `"level":"ERROR"`) {
			t.Fatalf("a draining /readyz was logged as an error: %s", line)
		}
	}
	if code, body := get("/api/openapi.json"); code != 200 || !strings.Contains(body, `"openapi":"3.1.0"`) {
		t.Fatalf("openapi %d %.200s", code, body)
	}
}

// A client that goes away mid-request is not a server error: no "internal
// error" line, no ERROR request line, and the metrics count a 499, not a 500.
func TestClientGoneIsNotAServerError(t *testing.T) {
	srv := testsupport.NewServer(t, "")
	withProbe(t, srv)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/api/probe",
		strings.NewReader(`{"name":"a","fail":"wait for the client to leave"}`))
	req.Header.Set("Content-Type", "application/json")
	done := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	// Leave once the request is being served (the metrics request is the other one in flight).
	waitForMetric(t, srv, "aimg_http_requests_in_flight 2")
	cancel()
	if err := <-done; err == nil {
		t.Fatal("the request was answered before the client left")
	}
	waitForMetric(t, srv, `route="POST /api/probe",status="499"`)
	m := metricsText(t, srv)
	if strings.Contains(m, `route="POST /api/probe",status="500"`) {
		t.Fatalf("counted as a 500:\n%s", m)
	}
	logs := srv.LogText()
	if strings.Contains(logs, "internal error") || strings.Contains(logs, `"level":"ERROR"`) {
		t.Fatalf("a client leaving was logged as an error:\n%s", logs)
	}
}

// waitForMetric polls /metrics until it shows want; a minute without it
// fails the test instead of hanging the run.
func waitForMetric(t *testing.T, srv *testsupport.Server, want string) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !strings.Contains(metricsText(t, srv), want); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("/metrics never showed %s:\n%s", want, metricsText(t, srv))
		}
	}
}

func metricsText(t *testing.T, srv *testsupport.Server) string {
	t.Helper()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// A body that is not JSON gets a 415 that names Content-Type.
func TestUnsupportedContentTypeNamesTheHeader(t *testing.T) {
	srv := testsupport.NewServer(t, "")
	withProbe(t, srv)
	env := srv.Do(t, testsupport.Req{Method: "POST", Path: "/api/probe", Body: `name=a`,
		Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}})
	testsupport.ExpectError(t, env, 415, "Content-Type")
}

// The API documentation page works offline: its scripts and styles come
// from the binary, not from a CDN.
func TestDocsPageIsSelfContained(t *testing.T) {
	srv := testsupport.NewServer(t, "")
	get := func(path string) (int, string, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	code, _, page := get("/api/docs")
	if code != 200 || !strings.Contains(page, "/api/openapi.json") {
		t.Fatalf("docs page %d: %.300s", code, page)
	}
	if external := regexp.MustCompile(`(src|href)=["']?(https?:)?//`).FindString(page); external != "" {
		t.Fatalf("the docs page loads something from another site (%s): %s", external, page)
	}
	for _, asset := range []string{"swagger-ui-bundle.js", "swagger-ui.css"} {
		if !strings.Contains(page, asset) {
			t.Fatalf("the page does not load %s: %s", asset, page)
		}
		if code, ct, body := get("/api/docs/" + asset); code != 200 || len(body) < 10000 || (!strings.Contains(ct, "javascript") && !strings.Contains(ct, "css")) {
			t.Fatalf("%s: %d %s, %d bytes", asset, code, ct, len(body))
		}
	}
}
