package openai_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/worker/openai"
	"aimg/internal/worker/openai/openaifake"
)

const key = "sk-test-0123456789"

func newFake(t *testing.T, opts openaifake.Options) *openaifake.Server {
	t.Helper()
	f := openaifake.New(opts)
	t.Cleanup(f.Close)
	return f
}

func newClient(t *testing.T, fake *openaifake.Server, mod func(*openai.Config)) *openai.Client {
	t.Helper()
	cfg := openai.Config{BaseURL: fake.URL + "/v1", APIKey: key}
	if mod != nil {
		mod(&cfg)
	}
	c, err := openai.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func asError(err error) *aimg.Error {
	var e *aimg.Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

func TestGenerateSendsEveryField(t *testing.T) {
	fake := newFake(t, openaifake.Options{Key: key})
	c := newClient(t, fake, nil)
	req := openai.GenerateRequest{Model: "dall-e-3", Prompt: `a "red" {fox}`, N: 1, Size: openai.Size(1024, 1024),
		ResponseFormat: "b64_json", Quality: "hd", Style: "natural", User: "user-42"}
	res, err := c.Generate(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	reqs := fake.Requests("/v1/images/generations")
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	if got := reqs[0].Header.Get("Authorization"); got != "Bearer "+key {
		t.Errorf("Authorization %q", got)
	}
	if ct := reqs[0].Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	got := reqs[0].JSON()
	want := map[string]any{"model": "dall-e-3", "prompt": `a "red" {fox}`, "n": 1.0, "size": "1024x1024",
		"response_format": "b64_json", "quality": "hd", "style": "natural", "user": "user-42"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("sent %s = %#v, want %#v", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("sent %v, want exactly %v", got, want)
	}
	if len(res.Images) != 1 || res.Images[0].Width != 1024 || res.Images[0].ContentType != "image/png" ||
		!strings.Contains(res.Images[0].RevisedPrompt, "red") || res.Created == 0 {
		t.Errorf("result %+v", res)
	}
	if _, err := png.DecodeConfig(bytes.NewReader(res.Images[0].Data)); err != nil {
		t.Errorf("image: %v", err)
	}
}

func TestURLAnswersAreFetchedWithoutLeakingTheKey(t *testing.T) {
	fake := newFake(t, openaifake.Options{Key: key})
	c := newClient(t, fake, nil)
	res, err := c.Generate(context.Background(), openai.GenerateRequest{Model: "dall-e-2", Prompt: "p", N: 2, Size: "256x256", ResponseFormat: "url"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Images) != 2 || res.Images[1].Width != 256 || !strings.HasPrefix(res.Images[0].URL, fake.Files.URL) {
		t.Fatalf("result %+v", res.Images)
	}
	files := fake.Requests("/images/")
	if len(files) != 2 {
		t.Fatalf("%d file fetches, want 2", len(files))
	}
	for _, f := range files {
		if a := f.Header.Get("Authorization"); a != "" {
			t.Errorf("the API key went to the blob storage's origin: %q", a)
		}
		if !strings.Contains(f.RawQuery, "sig=") {
			t.Errorf("the signed query was dropped: %q", f.RawQuery)
		}
	}

	// The size budget applies to a fetched image.
	c2 := newClient(t, fake, func(cfg *openai.Config) { cfg.MaxImageBytes = 100 })
	_, err = c2.Generate(context.Background(), openai.GenerateRequest{Model: "dall-e-2", Prompt: "p", Size: "256x256", ResponseFormat: "url"})
	if e := asError(err); e == nil || e.Code != aimg.CodeInvalid || !strings.Contains(err.Error(), "100-byte budget") {
		t.Errorf("fetched image over budget: %v", err)
	}
}

func TestLocalAI(t *testing.T) {
	// LocalAI answers url by default, on itself; any WxH; numeric error codes.
	fake := newFake(t, openaifake.Options{LocalAI: true})
	c := newClient(t, fake, func(cfg *openai.Config) { cfg.APIKey = "" })
	res, err := c.Generate(context.Background(), openai.GenerateRequest{Model: "stablediffusion", Prompt: "otter|blurry", Size: "64x48", Step: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Images) != 1 || res.Images[0].Width != 64 || res.Images[0].Height != 48 || !strings.Contains(res.Images[0].URL, "/generated-images/") {
		t.Fatalf("result %+v", res.Images)
	}
	if got := fake.Requests("/v1/images/generations")[0].JSON(); got["step"] != 10.0 || got["response_format"] != nil {
		t.Errorf("sent %v", got)
	}
	res, err = c.Generate(context.Background(), openai.GenerateRequest{Model: "stablediffusion", Prompt: "otter", Size: "32x32", ResponseFormat: "b64_json"})
	if err != nil || len(res.Images) != 1 || res.Images[0].URL != "" {
		t.Fatalf("b64_json from LocalAI: %v %+v", err, res)
	}
	// The key goes to LocalAI's own /generated-images/ (same origin).
	keyed := newClient(t, fake, nil)
	if _, err := keyed.Generate(context.Background(), openai.GenerateRequest{Prompt: "p", Size: "16x16"}); err != nil {
		t.Fatal(err)
	}
	fetches := fake.Requests("/generated-images/")
	if a := fetches[len(fetches)-1].Header.Get("Authorization"); a != "Bearer "+key {
		t.Errorf("same-origin fetch Authorization %q", a)
	}
	// A LocalAI error (code is a number).
	_, err = c.Generate(context.Background(), openai.GenerateRequest{Prompt: "p", Size: "4096x4096"})
	if e := asError(err); e == nil || e.Code != aimg.CodeInvalid || !strings.Contains(err.Error(), "larger than this server renders") {
		t.Errorf("LocalAI 400: %v", err)
	}
	fake.FailNext(500, `{"error":{"code":500,"message":"could not load model: rpc error","type":""}}`)
	_, err = c.Generate(context.Background(), openai.GenerateRequest{Prompt: "p", Size: "16x16"})
	if err == nil || !strings.Contains(err.Error(), "could not load model") || aimg.ErrorCode(err) == aimg.CodeInvalid {
		t.Errorf("LocalAI 500: %v", err)
	}
}

func TestBadRequestNamesTheParam(t *testing.T) {
	fake := newFake(t, openaifake.Options{Key: key})
	c := newClient(t, fake, nil)
	for _, tc := range []struct {
		req   openai.GenerateRequest
		param string
	}{
		{openai.GenerateRequest{Model: "dall-e-3", Prompt: "p", Size: "256x256", ResponseFormat: "b64_json"}, "size"},
		{openai.GenerateRequest{Model: "dall-e-3", Prompt: "p", N: 2, Size: "1024x1024", ResponseFormat: "b64_json"}, "n"},
		{openai.GenerateRequest{Model: "gpt-image-1", Prompt: "p", Size: "1024x1024", ResponseFormat: "b64_json"}, "response_format"},
		{openai.GenerateRequest{Model: "dall-e-9", Prompt: "p"}, "model"},
	} {
		_, err := c.Generate(context.Background(), tc.req)
		e := asError(err)
		if e == nil || e.Code != aimg.CodeInvalid || e.Field != tc.param || !strings.Contains(e.Message, tc.param) {
			t.Errorf("%+v: %v, want invalid naming %s", tc.req, err, tc.param)
		}
	}
	// gpt-image-1 without response_format answers b64_json.
	res, err := c.Generate(context.Background(), openai.GenerateRequest{Model: "gpt-image-1", Prompt: "p", Size: "1024x1024", Quality: "low"})
	if err != nil || len(res.Images) != 1 {
		t.Errorf("gpt-image-1: %v", err)
	}
	// A refused prompt can never succeed.
	fake.FailNext(400, openaifake.ErrorBody("Your request was rejected as a result of our safety system.", "invalid_request_error", "", "content_policy_violation"))
	_, err = c.Generate(context.Background(), openai.GenerateRequest{Model: "dall-e-2", Prompt: "p"})
	if e := asError(err); e == nil || e.Code != aimg.CodeInvalid || !strings.Contains(err.Error(), "content_policy_violation") {
		t.Errorf("content policy: %v", err)
	}
	// An empty prompt is refused before anything is sent.
	n := len(fake.Requests(""))
	if _, err := c.Generate(context.Background(), openai.GenerateRequest{Prompt: " "}); asError(err) == nil || asError(err).Field != "prompt" {
		t.Errorf("empty prompt: %v", err)
	}
	if len(fake.Requests("")) != n {
		t.Error("an empty prompt was sent")
	}
}

func TestAuthFailures(t *testing.T) {
	fake := newFake(t, openaifake.Options{Key: key})
	for _, k := range []string{"", "sk-wrong-key"} {
		c := newClient(t, fake, func(cfg *openai.Config) { cfg.APIKey = k })
		_, err := c.Generate(context.Background(), openai.GenerateRequest{Model: "dall-e-2", Prompt: "p", Size: "256x256"})
		if !errors.Is(err, openai.ErrUnauthorized) || !strings.Contains(err.Error(), "API key") || aimg.ErrorCode(err) == aimg.CodeInvalid {
			t.Errorf("key %q: %v", k, err)
		}
		if strings.Contains(err.Error(), "sk-wrong-key") {
			t.Errorf("the error quotes the whole key: %v", err)
		}
	}
}

func TestServerFailuresAreRetryable(t *testing.T) {
	fake := newFake(t, openaifake.Options{Key: key})
	c := newClient(t, fake, nil)
	req := openai.GenerateRequest{Model: "dall-e-2", Prompt: "p", Size: "256x256", ResponseFormat: "b64_json"}
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   string
		code   aimg.Code
	}{
		{"429", 429, openaifake.ErrorBody("Rate limit reached for images per minute.", "requests", "", "rate_limit_exceeded"), "Rate limit reached", aimg.CodeRateLimited},
		{"quota", 429, openaifake.ErrorBody("You exceeded your current quota.", "insufficient_quota", "", "insufficient_quota"), "out of quota", aimg.CodeRateLimited},
		{"500", 500, openaifake.ErrorBody("The server had an error while processing your request.", "server_error", "", ""), "HTTP 500: The server had an error", aimg.CodeInternal},
		{"502 html", 502, "<html>bad gateway</html>", "HTTP 502", aimg.CodeInternal},
		{"200 garbage", 200, "<html>", "unreadable answer", aimg.CodeInternal},
		{"200 empty data", 200, `{"created": 1, "data": []}`, "no images", aimg.CodeInternal},
		{"200 bad image", 200, `{"created": 1, "data": [{"b64_json": "aGVsbG8="}]}`, "unsupported image format", aimg.CodeInternal},
		{"200 bad url", 200, `{"created": 1, "data": [{"url": "file:///etc/passwd"}]}`, "not an http(s) URL", aimg.CodeInternal},
	} {
		fake.FailNext(tc.status, tc.body)
		_, err := c.Generate(context.Background(), req)
		if err == nil || !strings.Contains(err.Error(), tc.want) || aimg.ErrorCode(err) != tc.code {
			t.Errorf("%s: %v (code %s), want %q with code %s", tc.name, err, aimg.ErrorCode(err), tc.want, tc.code)
		}
	}
	// An expired url: retryable.
	fake.FailNext(200, `{"created": 1, "data": [{"url": "`+fake.Files.URL+`/images/gone.png?sig=x"}]}`)
	if _, err := c.Generate(context.Background(), req); err == nil || !strings.Contains(err.Error(), "HTTP 404") ||
		strings.Contains(err.Error(), "sig=") || aimg.ErrorCode(err) == aimg.CodeInvalid {
		t.Errorf("expired url: %v", err)
	}
	// Connection refused.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	cd, _ := openai.New(openai.Config{BaseURL: dead.URL + "/v1"})
	if _, err := cd.Generate(context.Background(), req); err == nil || aimg.ErrorCode(err) == aimg.CodeInvalid {
		t.Errorf("connection refused: %v", err)
	}
}

func TestHangEndsWithTheContext(t *testing.T) {
	fake := newFake(t, openaifake.Options{Key: key})
	fake.Hold()
	c := newClient(t, fake, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.Generate(ctx, openai.GenerateRequest{Model: "dall-e-2", Prompt: "p", Size: "256x256"})
		done <- err
	}()
	fake.WaitGenerations(1)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) || aimg.ErrorCode(err) == aimg.CodeInvalid {
		t.Errorf("cancelled: %v", err)
	}
	// The client's own RequestTimeout.
	ct := newClient(t, fake, func(cfg *openai.Config) { cfg.RequestTimeout = 20 * time.Millisecond })
	if _, err := ct.Generate(context.Background(), openai.GenerateRequest{Model: "dall-e-2", Prompt: "p"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("request timeout: %v", err)
	}
	fake.Release()
}

func TestBudgets(t *testing.T) {
	fake := newFake(t, openaifake.Options{Key: key})
	req := openai.GenerateRequest{Model: "dall-e-2", Prompt: "p", N: 3, Size: "256x256", ResponseFormat: "b64_json"}
	for _, tc := range []struct {
		name string
		mod  func(*openai.Config)
		want string
	}{
		{"bytes", func(c *openai.Config) { c.MaxResponseBytes = 2000 }, "2000-byte budget"},
		{"pixels", func(c *openai.Config) { c.MaxImagePixels = 128 * 128 }, "16384-pixel budget"},
		{"images", func(c *openai.Config) { c.MaxImages = 2 }, "budget of 2"},
	} {
		_, err := newClient(t, fake, tc.mod).Generate(context.Background(), req)
		if e := asError(err); e == nil || e.Code != aimg.CodeInvalid || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if _, err := openai.New(openai.Config{BaseURL: "localhost:8080"}); err == nil {
		t.Error("a base URL without scheme was accepted")
	}
	// A fetched image over the pixel budget is refused from its header.
	var deep bytes.Buffer
	_ = png.Encode(&deep, image.NewNRGBA64(image.Rect(0, 0, 300, 300)))
	fake.FailNext(200, `{"created":1,"data":[{"url":"`+fake.Files.URL+`/images/deep.png"}]}`)
	fake.SetFile("deep.png", deep.Bytes())
	c := newClient(t, fake, func(cfg *openai.Config) { cfg.MaxImagePixels = 256 * 256 })
	if _, err := c.Generate(context.Background(), req); err == nil || !strings.Contains(err.Error(), "300x300") {
		t.Errorf("url image over the pixel budget: %v", err)
	}
}

func TestDroppedConnectionIsRetryable(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100000")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"created": 1, "data": [{"b64_json": "iVBOR`))
		w.(http.Flusher).Flush()
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			conn.Close()
		}
	}))
	defer srv.Close()
	c, _ := openai.New(openai.Config{BaseURL: srv.URL + "/v1"})
	_, err := c.Generate(context.Background(), openai.GenerateRequest{Prompt: "x"})
	if err == nil || !strings.Contains(err.Error(), "reading the answer") || aimg.ErrorCode(err) == aimg.CodeInvalid {
		t.Errorf("dropped connection: %v", err)
	}
}
